#!/usr/bin/env python3
"""A loopback HTTP tracker for interop tests with clients that find peers only
through trackers, the DHT, LPD or PEX (aria2): every announce, for any
infohash, is answered with the peers given on the command line (compact form).

  loopback_tracker.py --peer 127.0.0.1:PORT [--peer ...] [--timeout S]
      prints {"event":"listening","port":P}, then one {"event":"announce",...}
      per request; serves until killed or --timeout seconds have passed.
"""
import argparse
import http.server
import json
import socket
import struct
import sys
import threading
import urllib.parse


def compact(peers):
    out = b""
    for peer in peers:
        host, _, port = peer.rpartition(":")
        out += socket.inet_aton(host) + struct.pack(">H", int(port))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer", action="append", required=True)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    peers = compact(args.peer)
    body = b"d8:intervali30e5:peers%d:%se" % (len(peers), peers)

    class Announce(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            print(json.dumps({"event": "announce", "port": query.get("port", ["?"])[0],
                              "event_field": query.get("event", [""])[0]}), flush=True)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *arguments):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Announce)
    print(json.dumps({"event": "listening", "port": server.server_address[1]}), flush=True)
    threading.Timer(args.timeout, server.shutdown).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
