#!/usr/bin/env python3
"""MSE/PE cost benchmark (scripts/bench mse): one BitFountain seed, one
BitFountain get, loopback TCP, with both sides at the same --encryption:
  disable  plaintext (the baseline)
  prefer   the default: obfuscated MSE handshake, plaintext payload selected
  require  MSE with RC4 on every byte
and, as the reference for RC4, libtorrent forced to RC4 on both sides.
Each is run --runs times (interleaved) and the medians printed: MB/s from the
downloader's own complete event, CPU s/GiB of the downloader process.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lt_swarm_bench import PEER, PYTHON, bench_parent, first, timed_child, wait_for, write_random  # noqa: E402

POLICIES = ("disable", "prefer", "require")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bf", required=True, help="the bitfountain binary (release build)")
    parser.add_argument("--size", type=int, default=1 << 30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-libtorrent", action="store_true", help="skip the libtorrent RC4 reference")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bf-bench-mse-", dir=bench_parent(args.size))
    children = []
    try:
        content_dir = os.path.join(work, "content")
        os.makedirs(content_dir)
        content = os.path.join(content_dir, "bench.bin")
        print("== preparing %d MiB of random content in %s" % (args.size >> 20, work), flush=True)
        write_random(content, args.size)
        torrent = os.path.join(work, "bench.torrent")
        subprocess.check_call([args.bf, "create", content, "-o", torrent, "--node", "127.0.0.1:9"], stdout=subprocess.DEVNULL)
        shutil.copy(torrent, content + ".torrent")

        def start(arguments, name):
            log = os.path.join(work, name + ".log")
            process = subprocess.Popen(arguments, stdout=open(log, "w"), stderr=subprocess.STDOUT)
            children.append(process)
            return process, log

        ports = {}
        for policy in POLICIES:
            seed, log = start([args.bf, "seed", content, "--bind", "127.0.0.1", "--port", "0", "--json", "--no-dht",
                               "--encryption", policy, "--state-dir", os.path.join(work, "seed-" + policy)], "seed-" + policy)
            ports[policy] = wait_for(seed, log, "listening")["port"]
            wait_for(seed, log, "seeding", timeout=300)
        scenarios = list(POLICIES)
        if not args.no_libtorrent:
            seed, log = start([PYTHON, PEER, "seed", "--torrent", torrent, "--save", content_dir, "--timeout", "3600",
                               "--encryption", "forced", "--enc-level", "rc4"], "seed-lt-rc4")
            wait_for(seed, log, "seeding", timeout=300)
            ports["lt-rc4"] = wait_for(seed, log, "listening")["port"]
            scenarios.append("lt-rc4")

        results = {name: [] for name in scenarios}
        for run in range(args.runs):
            for name in scenarios:
                out_dir = os.path.join(work, "out")
                state = os.path.join(work, "state")
                shutil.rmtree(out_dir, ignore_errors=True)
                shutil.rmtree(state, ignore_errors=True)
                log = os.path.join(work, "get-%s-%d.log" % (name, run))
                peer = "127.0.0.1:%d" % ports[name]
                if name == "lt-rc4":
                    cpu = timed_child([PYTHON, PEER, "get", "--torrent", torrent, "--save", out_dir, "--peer", peer,
                                       "--timeout", "600", "--encryption", "forced", "--enc-level", "rc4"], log)
                    rate = first(log, "complete")["rate"]
                else:
                    cpu = timed_child([args.bf, "get", torrent, "-o", out_dir, "--peer", peer, "--bind", "127.0.0.1",
                                       "--port", "0", "--json", "--no-dht", "--state-dir", state, "--timeout", "600",
                                       "--encryption", name], log)
                    done = first(log, "complete")
                    rate = done["bytes"] / done["seconds"]
                per_gib = cpu * (1 << 30) / args.size
                results[name].append((rate / 1e6, per_gib))
                print("run %d %-8s %7.1f MB/s  %5.2f CPU s/GiB" % (run + 1, name, rate / 1e6, per_gib), flush=True)
                shutil.rmtree(out_dir, ignore_errors=True)

        print("== medians over %d runs (%d MiB, loopback)" % (args.runs, args.size >> 20))
        baseline = statistics.median(rate for rate, _ in results["disable"])
        for name in scenarios:
            rate = statistics.median(r for r, _ in results[name])
            cpu = statistics.median(c for _, c in results[name])
            print("%-8s %7.1f MB/s  %5.2f CPU s/GiB  %5.2fx of plaintext" % (name, rate, cpu, rate / baseline))
    finally:
        for child in children:
            child.kill()
            child.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
