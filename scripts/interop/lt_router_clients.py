#!/usr/bin/env python3
"""libtorrent nodes that bootstrap from a DHT router only.

Starts --nodes libtorrent sessions on 127.0.0.1 (loopback settings of
lt_dht_swarm.make_session) whose only way into the DHT is --router, given
as `dht_bootstrap_nodes` (libtorrent treats such nodes as routers: it asks
them for contacts and never puts them in its routing table). The sessions
start in --waves waves --wave-delay seconds apart, so later ones find the
earlier ones in the router's ring. Prints one JSON line per second:
{"event": "tables", "sizes": [...], "endpoints": [[...], ...]} with each
session's routing-table size and entries, and exits when every table has
--min-nodes entries or --duration passes.
"""
import argparse
import json
import sys
import time
import warnings

from lt_dht_swarm import endpoints, make_session


# session.status() is deprecated in libtorrent 2.0 but is the one way to read the DHT table size without alerts.
warnings.filterwarnings("ignore", category=DeprecationWarning)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--router", required=True, help="HOST:PORT")
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--waves", type=int, default=2)
    parser.add_argument("--wave-delay", type=float, default=4)
    parser.add_argument("--min-nodes", type=int, default=3)
    parser.add_argument("--duration", type=float, default=60)
    args = parser.parse_args()
    stop_at = time.time() + args.duration

    sessions = []
    per_wave = (args.nodes + args.waves - 1) // args.waves
    last = None
    while time.time() < stop_at:
        if len(sessions) < args.nodes and (last is None or time.time() - last >= args.wave_delay):
            for _ in range(min(per_wave, args.nodes - len(sessions))):
                session = make_session(alerts=False)
                session.apply_settings({"dht_bootstrap_nodes": args.router})
                sessions.append(session)
            last = time.time()
        sizes = [session.status().dht_nodes for session in sessions]
        print(json.dumps({"event": "tables", "sizes": sizes, "endpoints": [endpoints(s) for s in sessions],
                          "ports": [s.listen_port() for s in sessions]}), flush=True)
        if len(sessions) == args.nodes and all(size >= args.min_nodes for size in sizes):
            return 0
        time.sleep(1)
    return 1


if __name__ == "__main__":
    sys.exit(main())
