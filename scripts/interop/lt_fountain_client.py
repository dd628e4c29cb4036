#!/usr/bin/env python3
"""A minimal bf_fountain client, to check BitFountain's repair symbols against
RFC 6330 as the raptorq package (2.0.0, Rust) implements it.

It connects to a BitFountain seed on 127.0.0.1, negotiates bf_fountain in the
BEP 10 extension handshake, asks for random repair symbols (ESIs in [K, 2^24))
of the pieces given, rebuilds each piece from repair symbols only with
raptorq's decoder, and checks it against the torrent's SHA-1. It also asks
for a few source ESIs (< K) and checks they are the piece's own blocks.

  lt_fountain_client.py --port P --torrent T --piece N [--piece M ...]

Prints {"event":"verified","piece":N,...} per piece and exits 0 only when
every piece checks out; any mismatch or protocol surprise exits non-zero.
"""
import argparse
import hashlib
import json
import os
import random
import socket
import struct
import sys

import raptorq

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bencoding import bdecode, bencode  # noqa: E402

PROTOCOL = b"\x13BitTorrent protocol"
T = 16384
OUR_FOUNTAIN_ID = 3


def info_dictionary(raw):
    """The torrent's info dictionary and its infohash (SHA-1 of its bytes as they are)."""
    index = 1
    while raw[index:index + 1] != b"e":
        key, index = bdecode(raw, index)
        start = index
        value, index = bdecode(raw, index)
        if key == b"info":
            return value, hashlib.sha1(raw[start:index]).digest()
    raise RuntimeError("no info dictionary")


class Peer:
    def __init__(self, port, infohash):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        reserved = bytes([0, 0, 0, 0, 0, 0x10, 0, 0x04])
        self.sock.sendall(PROTOCOL + reserved + infohash + b"-PY0001-" + os.urandom(12))
        reply = self.read(68)
        if reply[28:48] != infohash:
            raise RuntimeError("handshake for another torrent")
        self.fountain_id = None
        self.unchoked = False
        self.symbols = {}
        self.rejects = []

    def read(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed by the seed")
            data += chunk
        return data

    def send(self, message_id, payload=b""):
        self.sock.sendall(struct.pack(">IB", len(payload) + 1, message_id) + payload)

    def extended(self, extension_id, payload):
        self.send(20, bytes([extension_id]) + payload)

    def pump(self):
        """Reads one message and records what matters."""
        length = struct.unpack(">I", self.read(4))[0]
        if length == 0:
            return
        body = self.read(length)
        if body[0] == 1:
            self.unchoked = True
        elif body[0] == 20 and body[1] == 0:
            handshake, _ = bdecode(body[2:])
            self.fountain_id = handshake.get(b"m", {}).get(b"bf_fountain")
        elif body[0] == 20 and body[1] == OUR_FOUNTAIN_ID:
            header, end = bdecode(body[2:])
            if header[b"msg_type"] == 1:
                payload = body[2 + end:]
                if len(payload) != T:
                    raise RuntimeError("symbol of %d bytes" % len(payload))
                self.symbols[(header[b"piece"], header[b"esi"])] = payload
            elif header[b"msg_type"] == 2:
                self.rejects.append(header[b"piece"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--piece", type=int, action="append", required=True)
    args = parser.parse_args()

    raw = open(args.torrent, "rb").read()
    info, infohash = info_dictionary(raw)
    piece_length = info[b"piece length"]
    total = info[b"length"]
    hashes = info[b"pieces"]

    peer = Peer(args.port, infohash)
    peer.extended(0, bencode({"m": {"bf_fountain": OUR_FOUNTAIN_ID}, "v": "lt_fountain_client"}))
    peer.send(2)  # interested
    while peer.fountain_id is None or not peer.unchoked:
        peer.pump()

    rng = random.Random(7)
    failures = 0
    for piece in args.piece:
        length = min(piece_length, total - piece * piece_length)
        k = (length + T - 1) // T
        repair = rng.sample(range(k, 1 << 24), k + 2)
        source = sorted(rng.sample(range(k), min(2, k)))
        peer.extended(peer.fountain_id, bencode({"msg_type": 0, "piece": piece, "esis": repair + source}))
        while sum(1 for key in peer.symbols if key[0] == piece) < len(repair) + len(source):
            if piece in peer.rejects:
                raise RuntimeError("piece %d was rejected" % piece)
            peer.pump()
        decoder = raptorq.Decoder.with_defaults(length, T)
        rebuilt = None
        used = 0
        for esi in repair:
            used += 1
            rebuilt = decoder.decode(bytes([0]) + esi.to_bytes(3, "big") + peer.symbols[(piece, esi)])
            if rebuilt is not None:
                break
        expected = hashes[piece * 20:(piece + 1) * 20]
        ok = rebuilt is not None and hashlib.sha1(bytes(rebuilt[:length])).digest() == expected
        for esi in source:
            block = bytes(rebuilt[esi * T:(esi + 1) * T]) if rebuilt is not None else b""
            ok = ok and peer.symbols[(piece, esi)] == block.ljust(T, b"\0")
        print(json.dumps({"event": "verified" if ok else "mismatch", "piece": piece, "k": k,
                          "repair_symbols_used": used, "source_symbols_checked": len(source)}), flush=True)
        failures += 0 if ok else 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
