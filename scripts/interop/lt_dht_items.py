#!/usr/bin/env python3
"""BEP 44 items through libtorrent's DHT on loopback, driven by a control file.

Starts N libtorrent sessions on 127.0.0.1 (the settings of lt_dht_swarm.py),
introduces them to each other, prints {"event": "ready", "ports": [...]}, then
follows JSON commands appended to --control, one per line; session 0 runs them:

  {"cmd": "add_node", "port": P}                          every session: add_dht_node(127.0.0.1:P)
  {"cmd": "put_immutable", "value": TEXT}                 -> {"event": "put", "target", "nodes"}
  {"cmd": "get_immutable", "target": HEX}                 -> {"event": "immutable", "target", "value"}
  {"cmd": "put_mutable", "seed": HEX, "value": TEXT, "salt": TEXT}
                                                          -> {"event": "put", "target", "seq", "nodes"}
  {"cmd": "get_mutable", "key": HEX, "salt": TEXT}        -> {"event": "mutable", "key", "seq", "value", "salt"}
  {"cmd": "quit"}

libtorrent's Python binding puts mutable items as bencoded strings, with the
sequence number one above the highest it finds. Its ed25519 secret key is
the 64-byte expanded form (SHA-512 of the seed, clamped), derived here from a
32-byte seed; the public key comes from `cryptography`. It exits after
--duration seconds whatever happens.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import libtorrent as lt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lt_dht_swarm import emit, start_joined  # noqa: E402


def keypair(seed):
    """libtorrent's (public, expanded secret) pair for a 32-byte seed."""
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    expanded = bytearray(hashlib.sha512(seed).digest())
    expanded[0] &= 248
    expanded[31] &= 63
    expanded[31] |= 64
    return public, bytes(expanded)


def text(value):
    # The 2.0.8 binding hands some items over as the whole {key, value, ...} record.
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else repr(value)


def run_command(session, command):
    name = command.get("cmd")
    if name == "put_immutable":
        session.dht_put_immutable_item(command["value"])
    elif name == "get_immutable":
        session.dht_get_immutable_item(lt.sha1_hash(bytes.fromhex(command["target"])))
    elif name == "put_mutable":
        public, secret = keypair(bytes.fromhex(command["seed"]))
        session.dht_put_mutable_item(secret, public, command["value"].encode(), command.get("salt", "").encode())
    elif name == "get_mutable":
        session.dht_get_mutable_item(bytes.fromhex(command["key"]), command.get("salt", "").encode())
    else:
        emit(event="error", message="unknown command %r" % name)


def item_text(alert):
    """The item's value as text; None when the binding cannot convert it (a dictionary, such as a feed's {ih})."""
    try:
        return text(alert.item)
    except RuntimeError:
        return None


def report(alert):
    if isinstance(alert, lt.dht_put_alert):
        emit(event="put", target=str(alert.target), seq=alert.seq, nodes=alert.num_success,
             key=bytes(alert.public_key).hex() if alert.public_key else None)
    elif isinstance(alert, lt.dht_immutable_item_alert):
        emit(event="immutable", target=str(alert.target), value=item_text(alert))
    elif isinstance(alert, lt.dht_mutable_item_alert):
        emit(event="mutable", key=bytes(alert.key).hex(), seq=alert.seq, value=item_text(alert),
             salt=text(alert.salt), authoritative=alert.authoritative)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--control", required=True)
    parser.add_argument("--duration", type=float, default=120)
    args = parser.parse_args()
    stop_at = time.time() + args.duration

    sessions, ports = start_joined(args.nodes, stop_at)
    emit(event="ready", ports=ports)

    position = 0
    while time.time() < stop_at:
        if os.path.exists(args.control):
            with open(args.control) as handle:
                handle.seek(position)
                lines = handle.readlines()
                position = handle.tell()
            for line in lines:
                line = line.strip()
                if not line:
                    continue
                command = json.loads(line)
                if command.get("cmd") == "quit":
                    return
                if command.get("cmd") == "add_node":
                    for session in sessions:
                        session.add_dht_node(("127.0.0.1", int(command["port"])))
                    continue
                try:
                    run_command(sessions[0], command)
                except Exception as error:  # a bad command must not end the run
                    emit(event="error", message=str(error))
        for alert in sessions[0].pop_alerts():
            report(alert)
        for session in sessions[1:]:
            session.pop_alerts()
        time.sleep(0.05)


if __name__ == "__main__":
    main()
