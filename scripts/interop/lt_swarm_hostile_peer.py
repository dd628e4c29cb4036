#!/usr/bin/env python3
"""A misbehaving BitTorrent peer for BitFountain's hostile-peer tests.

It listens on 127.0.0.1 (prints {"event":"listening","port":P}), answers the
handshake of whoever connects with the infohash it was sent, then misbehaves
in one of these ways (--mode):

  garbage        sends random bytes instead of messages
  oversized      announces a 2 GB message
  wrong-data     has every piece, unchokes, answers requests with wrong bytes
  silent         has every piece, unchokes, never answers a request
  metadata       serves the info dictionary in --info-file over ut_metadata
                 (use it with an info dict whose paths are unsafe, or one that
                 does not hash to the infohash asked for); has no pieces

Each connection is served on its own thread; the process ends after --timeout.
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bencoding import bencode  # noqa: E402

PROTOCOL = b"\x13BitTorrent protocol"


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_message(sock):
    length = struct.unpack(">I", read_exactly(sock, 4))[0]
    if length == 0:
        return None, b""
    body = read_exactly(sock, length)
    return body[0], body[1:]


def send_message(sock, message_id, payload=b""):
    sock.sendall(struct.pack(">IB", len(payload) + 1, message_id) + payload)


def serve(conn, args, info):
    conn.settimeout(args.timeout)
    handshake = read_exactly(conn, 68)
    if handshake[:20] != PROTOCOL:
        return
    infohash = handshake[28:48]
    reserved = bytes([0, 0, 0, 0, 0, 0x10, 0, 0x04])  # extension protocol + fast extension
    conn.sendall(PROTOCOL + reserved + infohash + b"-XX0001-" + os.urandom(12))
    if args.mode == "garbage":
        conn.sendall(os.urandom(4096))
    elif args.mode == "oversized":
        conn.sendall(struct.pack(">IB", 0x7FFFFFF0, 7))
    elif args.mode in ("wrong-data", "silent"):
        send_message(conn, 0x0E)  # have_all
        send_message(conn, 1)  # unchoke
    elif args.mode == "metadata":
        send_message(conn, 20, b"\x00" + bencode({"m": {"ut_metadata": 3}, "metadata_size": len(info)}))
        send_message(conn, 0x0F)  # have_none
    while True:
        message_id, payload = read_message(conn)
        if message_id == 6 and args.mode == "wrong-data":
            index, begin, length = struct.unpack(">III", payload)
            send_message(conn, 7, struct.pack(">II", index, begin) + os.urandom(length))
        elif message_id == 20 and payload[:1] != b"\x00" and args.mode == "metadata":
            # ut_metadata request: d8:msg_typei0e5:piecei<N>ee
            text = payload[1:]
            piece = int(text.split(b"5:piecei")[1].split(b"e")[0])
            chunk = info[piece * 16384:(piece + 1) * 16384]
            header = bencode({"msg_type": 1, "piece": piece, "total_size": len(info)})
            peer_ut_metadata = serve.remote_ids.get(id(conn), 2)
            send_message(conn, 20, bytes([peer_ut_metadata]) + header + chunk)
        elif message_id == 20 and payload[:1] == b"\x00":
            # Their extension handshake: note which ID they want ut_metadata under.
            text = payload[1:]
            if b"11:ut_metadatai" in text:
                serve.remote_ids[id(conn)] = int(text.split(b"11:ut_metadatai")[1].split(b"e")[0])


serve.remote_ids = {}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", required=True,
                        choices=["garbage", "oversized", "wrong-data", "silent", "metadata"])
    parser.add_argument("--info-file")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    info = open(args.info_file, "rb").read() if args.info_file else b""

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(1)
    print(json.dumps({"event": "listening", "port": server.getsockname()[1]}), flush=True)
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue

        def run(connection=conn):
            try:
                serve(connection, args, info)
            except (OSError, ConnectionError, ValueError, IndexError):
                pass
            finally:
                connection.close()

        threading.Thread(target=run, daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
