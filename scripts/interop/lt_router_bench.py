#!/usr/bin/env python3
"""`bitfountain router` against a libtorrent DHT node under the same load.

For each ring size (1 M and 10 M contacts by default) a router state
directory is filled with synthetic contacts (bf-bench router-fill), the
router is started on 127.0.0.1, and rounds of `bf-bench router-load`
(find_node from 256 source addresses, a window of queries in flight, a
probe ping every 10 ms) alternate between the router and a libtorrent node
(lt_router_node.py, its own process). Medians per target and the ratios
are printed: replies/s, loss, probe p99, user CPU µs per reply (from
/proc/PID/stat over the load window), and the router's RSS per contact.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load(bench, port, pid, label, args):
    command = [bench, "router-load", "--target", "127.0.0.1:%d" % port, "--server-pid", str(pid),
               "--seconds", str(args.seconds), "--window", str(args.window), "--sources", str(args.sources),
               "--label", label]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=args.seconds + 60)
    return json.loads(output.stdout.strip().splitlines()[-1])


def start_router(bf, state, capacity, args, extra):
    command = [bf, "router", "--bind", "127.0.0.1", "--port", "0", "--allow-private", "--json", "--log-interval", "0",
               "--state-dir", state, "--capacity", str(capacity), "--workers", str(args.workers),
               "--rate-limit", str(args.rate_limit)] + extra
    router = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    listening = json.loads(router.stdout.readline())
    # Saved contacts are served at once; measure after they are all indexed too.
    restored = json.loads(router.stdout.readline())
    print("   (router ready: %d contacts indexed %.1f s after start)" % (restored["contacts"], restored["seconds"]), flush=True)
    return router, listening["port"]


def median(results, key):
    values = [r[key] for r in results if key in r]
    return statistics.median(values) if values else float("nan")


# The router as deployed answers a requester seen in the last 10 minutes with
# 3 contacts (the load generator's sources all are, after their first query);
# a libtorrent node always answers with 8. Both are measured.
VARIANTS = [
    ("with 8 contacts in every reply (same reply size as libtorrent)", ["--recent-reply-nodes", "8"]),
    ("as deployed (3 contacts to recent requesters)", []),
]


def compare(capacity, variant, state, extra, ready, args):
    router, port = start_router(args.bf, state, capacity, args, extra)
    try:
        time.sleep(0.5)
        results = {"bitfountain": [], "libtorrent": []}
        for round_index in range(args.rounds):
            for name, target_port, pid in (("bitfountain", port, router.pid), ("libtorrent", ready["port"], ready["pid"])):
                result = load(args.bench, target_port, pid, name, args)
                results[name].append(result)
                print("  round %d  %-11s %7d replies/s  loss %.4f  probe p99 %6.2f ms  user %.2f µs/reply"
                      "  sys %.2f µs/reply  %.1f nodes/reply"
                      % (round_index + 1, name, result["per_second"], result["loss"],
                         result.get("probe_p99_ms", float("nan")), result.get("user_us_per_reply", float("nan")),
                         result.get("system_us_per_reply", float("nan")), result["nodes_per_reply"]), flush=True)
        ours, theirs = results["bitfountain"], results["libtorrent"]
        rss = max(r.get("rss_bytes", 0) for r in ours)
        line = {
            "contacts": capacity, "variant": variant,
            "replies_per_s": (median(ours, "per_second"), median(theirs, "per_second")),
            "loss": (median(ours, "loss"), median(theirs, "loss")),
            "probe_p99_ms": (median(ours, "probe_p99_ms"), median(theirs, "probe_p99_ms")),
            "user_us_per_reply": (median(ours, "user_us_per_reply"), median(theirs, "user_us_per_reply")),
            "router_rss_bytes": rss,
        }
        print("median  replies/s %d vs %d (ratio %.2f)  user µs/reply %.2f vs %.2f (ratio %.2f)  probe p99 %.2f vs %.2f ms"
              "  loss %.4f vs %.4f" % (line["replies_per_s"][0], line["replies_per_s"][1],
                                       line["replies_per_s"][0] / max(1, line["replies_per_s"][1]),
                                       line["user_us_per_reply"][0], line["user_us_per_reply"][1],
                                       line["user_us_per_reply"][0] / line["user_us_per_reply"][1],
                                       line["probe_p99_ms"][0], line["probe_p99_ms"][1], line["loss"][0], line["loss"][1]))
        print("router RSS %.0f MiB with %d contacts: %.1f bytes per contact, everything the process holds included"
              % (rss / 2**20, capacity, rss / capacity), flush=True)
        return line
    finally:
        router.terminate()
        router.wait(timeout=20)


def main():
    # Exit through the finally clauses (stopping the router and libtorrent) on SIGTERM too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bf", required=True)
    parser.add_argument("--bench", required=True, help="the bf-bench binary")
    parser.add_argument("--capacities", default="1000000,10000000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--sources", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate-limit", type=int, default=2000,
                        help="the router's per-IP limit: above what one source sends (rate / sources)")
    args = parser.parse_args()

    lt = subprocess.Popen([sys.executable, os.path.join(HERE, "lt_router_node.py")], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    ready = json.loads(lt.stdout.readline())
    print("libtorrent node on port %d (pid %d), %d nodes in its table" % (ready["port"], ready["pid"], ready["nodes"]),
          flush=True)
    summary = []
    try:
        for capacity in [int(c) for c in args.capacities.split(",")]:
            state = tempfile.mkdtemp(prefix="bf-router-bench-")
            try:
                started = time.time()
                subprocess.run([args.bench, "router-fill", "--state-dir", state, "--count", str(capacity),
                                "--capacity", str(capacity), "--workers", str(args.workers)], check=True,
                               capture_output=True)
                print("\n== %d contacts (ring filled in %.1f s)" % (capacity, time.time() - started), flush=True)
                for variant, extra in VARIANTS:
                    print("-- router %s" % variant, flush=True)
                    summary.append(compare(capacity, variant, state, extra, ready, args))
            finally:
                shutil.rmtree(state, ignore_errors=True)
        sizes = sorted({line["contacts"] for line in summary})
        if len(sizes) >= 2:
            small = max(line["router_rss_bytes"] for line in summary if line["contacts"] == sizes[0])
            large = max(line["router_rss_bytes"] for line in summary if line["contacts"] == sizes[-1])
            print("\nmemory per additional contact (%d → %d contacts): %.1f bytes"
                  % (sizes[0], sizes[-1], (large - small) / (sizes[-1] - sizes[0])))
        print(json.dumps({"event": "summary", "results": summary}))
    finally:
        lt.stdin.close()
        lt.wait(timeout=30)


if __name__ == "__main__":
    main()
