#!/usr/bin/env python3
"""A DHT node written independently of the Swift code, for signed-ID tests.

It answers every KRPC query on 127.0.0.1 with a response carrying BitFountain's
`k`/`sig` keys (DESIGN §3), implemented here from the design text alone:
signature over "bf-krpc-1", t, y, q (empty for responses) and the raw `r`
bytes, each preceded by a 2-byte big-endian length; node ID = 21-bit prefix
(key-hash form, since loopback is exempt from BEP 42) + 131 key-hash bits + r.

  --mode honest         correct key, ID and signature
  --mode wrong-id       correct signature, but an ID not made from the key
  --mode bad-signature  correct ID, corrupted signature

For each query received it prints {"event": "query", "method": ..., "signed":
bool, "signature_valid": bool, "id_matches_key": bool}: the same scheme,
checked the other way round on what the Swift node sends.
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives import serialization

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bencoding import bdecode, bencode  # noqa: E402


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def signing_payload(t, y, q, body):
    out = b""
    for field in (b"bf-krpc-1", t, y, q, body):
        out += len(field).to_bytes(2, "big") + field
    return out


def node_id(public_key):
    digest = int.from_bytes(hashlib.sha1(b"bf-node-id" + public_key).digest(), "big")
    full = (1 << 160) - 1

    def prefix_mask(bits):
        return (((1 << bits) - 1) << (160 - bits)) if bits else 0

    key_bits = (digest >> 21) & (prefix_mask(152) ^ prefix_mask(21))
    hash_prefix = (digest << 131) & full & prefix_mask(21)
    r = digest & 0xFF
    return (hash_prefix | key_bits | r).to_bytes(20, "big")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["honest", "wrong-id", "bad-signature"], required=True)
    parser.add_argument("--duration", type=float, default=60)
    args = parser.parse_args()

    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    our_id = node_id(public) if args.mode != "wrong-id" else os.urandom(20)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    emit(event="listening", port=sock.getsockname()[1], id=our_id.hex())
    stop_at = time.time() + args.duration
    while time.time() < stop_at:
        try:
            packet, source = sock.recvfrom(2048)
        except socket.timeout:
            continue
        try:
            message, _ = bdecode(packet, spans=True)
        except Exception:
            continue
        if message.get(b"y") != b"q":
            continue
        t = message[b"t"]
        report = {"method": message.get(b"q", b"").decode(errors="replace"), "signed": b"sig" in message}
        if b"sig" in message and b"k" in message:
            start, end = message[b"__spans__"][b"a"]
            payload = signing_payload(t, b"q", message[b"q"], packet[start:end])
            try:
                Ed25519PublicKey.from_public_bytes(message[b"k"]).verify(message[b"sig"], payload)
                report["signature_valid"] = True
            except Exception:
                report["signature_valid"] = False
            report["id_matches_key"] = message[b"a"][b"id"] == node_id(message[b"k"])
        emit(event="query", **report)

        body = bencode({b"id": our_id})
        signature = private.sign(signing_payload(t, b"r", b"", body))
        if args.mode == "bad-signature":
            signature = bytes([signature[0] ^ 0xFF]) + signature[1:]
        # Written by hand so that `r` is exactly the signed bytes.
        response = (b"d1:k32:" + public + b"1:r" + body + b"3:sig64:" + signature
                    + b"1:t" + bencode(t) + b"1:v4:PY\x00\x01" + b"1:y1:re")
        sock.sendto(response, source)


if __name__ == "__main__":
    main()
