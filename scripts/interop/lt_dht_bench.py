#!/usr/bin/env python3
"""Queries answered per second: `bitfountain node` vs a libtorrent DHT node.

Both targets run on 127.0.0.1 in the same run, each with a routing table of a
few nodes (from a small libtorrent helper swarm), and get the same closed-loop
load from one querier, `bf-bench router-load --sources 1` (find_node with
random targets, unsigned, as a stock client sends them). Rounds alternate
between the targets; medians and their ratio are printed.
"""
import argparse
import json
import shlex
import statistics
import subprocess
import tempfile
import time

from lt_dht_swarm import make_session


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bf", required=True, help="the bitfountain binary")
    parser.add_argument("--load", required=True, help="the load command (bf-bench router-load --sources 1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--query", default="find_node")
    args = parser.parse_args()

    helpers = [make_session(alerts=False) for _ in range(4)]
    target = make_session(alerts=False)
    time.sleep(0.5)
    helper_ports = [session.listen_port() for session in helpers]
    for session in helpers + [target]:
        for port in helper_ports:
            if port != session.listen_port():
                session.add_dht_node(("127.0.0.1", port))
    lt_port = target.listen_port()

    state = tempfile.mkdtemp(prefix="bf-dht-bench-")
    command = [args.bf, "node", "--bind", "127.0.0.1", "--port", "0", "--state-dir", state, "--json", "--stats-interval", "0"]
    for port in helper_ports:
        command += ["--bootstrap", "127.0.0.1:%d" % port]
    node = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        bf_port = json.loads(node.stdout.readline())["port"]
        time.sleep(3)  # both targets fill their routing tables from the helpers

        results = {"bitfountain": [], "libtorrent": []}
        for round_index in range(args.rounds):
            for name, port in (("bitfountain", bf_port), ("libtorrent", lt_port)):
                load = shlex.split(args.load) + ["--target", "127.0.0.1:%d" % port, "--seconds", str(args.seconds),
                                                 "--window", str(args.window), "--query", args.query]
                output = subprocess.run(load, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
                rate = json.loads(output)["per_second"]
                results[name].append(rate)
                print("  round %d  %-11s %8d %s/s" % (round_index + 1, name, rate, args.query), flush=True)
        ours = statistics.median(results["bitfountain"])
        theirs = statistics.median(results["libtorrent"])
        print("median: bitfountain %d/s, libtorrent %d/s, ratio %.2f (bitfountain / libtorrent)"
              % (ours, theirs, ours / theirs if theirs else float("nan")))
    finally:
        node.terminate()
        node.wait(timeout=20)


if __name__ == "__main__":
    main()
