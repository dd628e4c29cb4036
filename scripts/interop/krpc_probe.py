#!/usr/bin/env python3
"""One KRPC query to a DHT node, from inside a lab host (the interop matrix
reads stock clients' routing tables with it).

  krpc_probe.py ping HOST PORT
      {"id": HEX} of the node that answered.
  krpc_probe.py find-node HOST PORT TARGET_HEX
      {"id": HEX, "nodes": [[id_hex, ip, port], …]}: the closest nodes the
      queried node keeps for TARGET. jech/dht (Transmission) answers only with
      nodes it calls good (they answered it recently), libtorrent with the nodes
      of its live buckets, aria2 with the nodes of its buckets.
Exits 1 with {"error": …} if no answer comes within --timeout (default 3 s).

--id HEX and --port P fix the prober's node ID and UDP port. A node may add
whoever queries it to its table (aria2 does): a prober that asks again and
again with fresh IDs and ports would fill the very table it is reading.
"""
import json
import os
import socket
import sys

from bencoding import bdecode, bencode


def query(host, port, method, arguments, timeout, own_id, own_port):
    transaction = os.urandom(2)
    message = {"t": transaction, "y": "q", "q": method, "a": {"id": own_id, **arguments}}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        udp.bind(("0.0.0.0", own_port))
        udp.settimeout(timeout)
        udp.sendto(bencode(message), (host, port))
        while True:
            data, _ = udp.recvfrom(65536)
            reply, _ = bdecode(data)
            if reply.get(b"t") == transaction:
                return reply


def compact_nodes(blob):
    return [[blob[i:i + 20].hex(), socket.inet_ntoa(blob[i + 20:i + 24]), int.from_bytes(blob[i + 24:i + 26], "big")]
            for i in range(0, len(blob) - 25, 26)]


def option(argv, name, default):
    if name not in argv:
        return default
    index = argv.index(name)
    value = argv[index + 1]
    del argv[index:index + 2]
    return value


def main(argv):
    timeout = float(option(argv, "--timeout", 3.0))
    own_id = bytes.fromhex(option(argv, "--id", os.urandom(20).hex()))
    own_port = int(option(argv, "--port", 0))
    if len(argv) < 4 or argv[1] not in ("ping", "find-node"):
        print(__doc__, file=sys.stderr)
        return 2
    host, port = argv[2], int(argv[3])
    try:
        if argv[1] == "ping":
            reply = query(host, port, "ping", {}, timeout, own_id, own_port)
        else:
            reply = query(host, port, "find_node", {"target": bytes.fromhex(argv[4])}, timeout, own_id, own_port)
    except (OSError, ValueError) as error:
        print(json.dumps({"error": str(error)}))
        return 1
    answer = reply.get(b"r", {})
    result = {"id": answer.get(b"id", b"").hex()}
    if argv[1] == "find-node":
        result["nodes"] = compact_nodes(answer.get(b"nodes", b""))
    print(json.dumps(result))
    return 0 if answer else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
