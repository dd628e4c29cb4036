#!/usr/bin/env python3
"""One libtorrent DHT node in a process of its own, for the router benchmark.

Its routing table is filled from a helper swarm (lt_dht_swarm.py, another
process), so that this process's CPU time is the node's alone. Prints one
JSON line {"event": "ready", "port": P, "pid": PID, "nodes": N} once its
table has --min-nodes entries, then runs until stdin closes or --duration
passes.
"""
import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import warnings

from lt_dht_swarm import make_session

# session.status() is deprecated in libtorrent 2.0 but is the one way to read the DHT table size without alerts.
warnings.filterwarnings("ignore", category=DeprecationWarning)

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--helpers", type=int, default=10)
    parser.add_argument("--min-nodes", type=int, default=8)
    parser.add_argument("--duration", type=float, default=900)
    args = parser.parse_args()
    stop_at = time.time() + args.duration

    control = tempfile.NamedTemporaryFile(prefix="lt-router-helpers-", delete=False).name
    helpers = subprocess.Popen([sys.executable, os.path.join(HERE, "lt_dht_swarm.py"), "--nodes", str(args.helpers),
                                "--control", control, "--duration", str(args.duration)],
                               stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(helpers.stdout.readline())
        session = make_session(alerts=False)
        time.sleep(0.3)
        for port in ready["ports"]:
            session.add_dht_node(("127.0.0.1", port))
        while time.time() < stop_at and session.status().dht_nodes < args.min_nodes:
            time.sleep(0.2)
        print(json.dumps({"event": "ready", "port": session.listen_port(), "pid": os.getpid(),
                          "nodes": session.status().dht_nodes}), flush=True)
        while time.time() < stop_at:
            readable, _, _ = select.select([sys.stdin], [], [], 1.0)
            if readable and not sys.stdin.readline():
                break
    finally:
        with open(control, "a") as handle:
            handle.write(json.dumps({"cmd": "quit"}) + "\n")
        try:
            helpers.wait(timeout=10)
        except subprocess.TimeoutExpired:
            helpers.kill()
        os.unlink(control)


if __name__ == "__main__":
    main()
