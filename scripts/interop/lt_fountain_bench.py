#!/usr/bin/env python3
"""Fountain benchmark driver (scripts/bench fountain): one downloader, four capped seeds.

Four `bitfountain seed` processes serve the same content over loopback TCP,
each with its own --upload-limit (default 2, 4, 8 and 16 MiB/s); one of them
(default the 8 MiB/s one) is stopped --stop-after seconds after the download
starts. In the same run, repeated --runs times with the order rotated, the
downloaders are:
  (a) bitfountain get                 (fountain mode: repair symbols from any seed)
  (b) bitfountain get --no-fountain   (plain BitTorrent: blocks, endgame duplicates)
  (c) libtorrent                      (python3-libtorrent through lt_swarm_peer.py)
and (d) the ideal: payload bytes over the upload capacity actually available
(all caps until the stop, the rest after it).

Then the per-piece costs of the fountain (bf-bench fountain), with SHA-1 of
the piece as the yardstick: a repair symbol from a cached encoder against
building the encoder, a decode against the hash, leave-one-out against a decode.

Times are what each downloader reports from adding the torrent to every piece
verified (the clock the stop is scheduled on starts when the driver sees the
downloader's first line, which both kinds print as they add the torrent).
Seeds are fresh processes for every download, since one of them is stopped.
"""
import argparse
import json
import os
import signal
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, HERE)
from lt_swarm_bench import bench_parent, first, wait_for, write_random  # noqa: E402

PEER = os.path.join(HERE, "lt_swarm_peer.py")
PYTHON = sys.executable
MIB = 1 << 20
NAMES = {"a": "(a) fountain", "b": "(b) --no-fountain", "c": "(c) libtorrent", "d": "(d) ideal"}


def ideal_seconds(size, caps, stopped, stop_after):
    """Bytes over the capacity actually available: every cap until the stop, the others after."""
    total = sum(caps)
    if size <= total * stop_after:
        return size / total
    rest = total - caps[stopped]
    return stop_after + (size - total * stop_after) / rest


class Seeds:
    """The capped BitFountain seeds of one download."""

    def __init__(self, bf, content, work, caps, extra):
        self.processes = []
        self.ports = []
        self.logs = []
        for index, cap in enumerate(caps):
            log = os.path.join(work, "seed-%d.log" % index)
            process = subprocess.Popen(
                [bf, "seed", content, "--bind", "127.0.0.1", "--port", "0", "--json",
                 "--state-dir", os.path.join(work, "seed-state-%d" % index), "--upload-limit", str(int(cap))] + extra,
                stdout=open(log, "w"), stderr=subprocess.STDOUT)
            self.processes.append(process)
            self.logs.append(log)
        for process, log in zip(self.processes, self.logs):
            self.ports.append(wait_for(process, log, "listening")["port"])
            wait_for(process, log, "seeding", timeout=300)

    def peers(self):
        return ["127.0.0.1:%d" % port for port in self.ports]

    def stop_one(self, index, signal_number):
        if self.processes[index].poll() is None:
            os.kill(self.processes[index].pid, signal_number)

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.kill(process.pid, signal.SIGCONT)
                except OSError:
                    pass
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def download(mode, args, torrent, work, seeds, run):
    """Runs one downloader to completion; returns (reported seconds, wall seconds from its start)."""
    out_dir = os.path.join(work, "out-%s" % mode)
    state = os.path.join(work, "state-%s" % mode)
    shutil.rmtree(out_dir, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    log = os.path.join(work, "get-%s-%d.log" % (mode, run))
    peers = seeds.peers()
    if mode == "c":
        arguments = [PYTHON, PEER, "get", "--torrent", torrent, "--save", out_dir, "--timeout", str(args.timeout)]
        for peer in peers:
            arguments += ["--peer", peer]
    else:
        arguments = [args.bf, "get", torrent, "-o", out_dir, "--bind", "127.0.0.1", "--port", "0", "--json",
                     "--state-dir", state, "--timeout", str(args.timeout)]
        for peer in peers:
            arguments += ["--peer", peer]
        if mode == "b":
            arguments.append("--no-fountain")
    process = subprocess.Popen(arguments, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        # Both kinds print "listening" as they add the torrent: the download starts there.
        wait_for(process, log, "listening", timeout=60)
        started = time.monotonic()
        stop_at = started + args.stop_after
        stopped = False
        deadline = started + args.timeout + 30
        while time.monotonic() < deadline:
            if not stopped and time.monotonic() >= stop_at:
                seeds.stop_one(args.stop_index, args.stop_signal)
                stopped = True
            if process.poll() is not None or first(log, "complete") is not None:
                break
            time.sleep(0.005)
        wall = time.monotonic() - started
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    done = first(log, "complete")
    if process.returncode != 0 or done is None:
        raise RuntimeError("downloader (%s) failed (%s): %s" % (mode, process.returncode, open(log).read()[-3000:]))
    shutil.rmtree(out_dir, ignore_errors=True)
    return done["seconds"], wall, done


def codec_costs(bench):
    """Per-piece costs of the fountain, from bf-bench fountain, as ratios measured in the same run."""
    if not os.path.exists(bench):
        print("(no %s: per-piece costs skipped)" % bench)
        return
    print()
    print("%-12s %12s %12s %10s %14s %12s %16s" % ("piece", "encoder", "symbol", "cache saves", "decode", "decode/SHA-1",
                                                    "leave-one-out"))
    for piece in (256 << 10, 4 << 20):
        row = json.loads(subprocess.check_output([bench, "fountain", str(piece)]).decode().strip().splitlines()[-1])
        print("%-12s %10.3f ms %10.1f us %9.0fx %11.3f ms %11.1fx %10.1fx decode" % (
            "%d KiB (K=%d)" % (piece >> 10, row["k"]), row["encoder_build"] * 1e3, row["repair_symbol"] * 1e6,
            (row["encoder_build"] + row["repair_symbol"]) / row["repair_symbol"], row["decode"] * 1e3,
            row["decode"] / row["sha1"], row["leave_one_out"] / row["decode"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bf", required=True, help="the bitfountain binary (release build)")
    parser.add_argument("--size", type=int, default=256 * MIB)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--caps", default="2,4,8,16", help="seed upload caps in MiB/s, comma-separated")
    parser.add_argument("--stop-index", type=int, default=2, help="which seed is stopped (0-based, default the 8 MiB/s one)")
    parser.add_argument("--stop-after", type=float, default=3.0, help="seconds after the download starts")
    parser.add_argument("--stop-signal", default="KILL", choices=["KILL", "TERM", "STOP"],
                        help="KILL: the seed vanishes; TERM: it shuts down cleanly; STOP: it freezes with its connections open")
    parser.add_argument("--modes", default="abc", help="which downloaders to run (a, b, c)")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--seed-arg", action="append", default=[], help="extra argument for every seed")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) and say where it is")
    parser.add_argument("--bench-bin", default=os.path.join(os.environ.get("BF_RELEASE_DIR", ".build/release"), "bf-bench"),
                        help="bf-bench, for the per-piece costs (skipped when missing)")
    args = parser.parse_args()
    args.stop_signal = getattr(signal, "SIG" + args.stop_signal)
    caps = [float(c) * MIB for c in args.caps.split(",")]
    ideal = ideal_seconds(args.size, caps, args.stop_index, args.stop_after)

    work = tempfile.mkdtemp(prefix="bf-bench-fountain-", dir=bench_parent(args.size))
    try:
        content = os.path.join(work, "bench.bin")
        print("== %d MiB of random content in %s; seeds capped at %s MiB/s, seed %d stopped (SIG%s) %.1f s in"
              % (args.size >> 20, work, args.caps, args.stop_index, signal.Signals(args.stop_signal).name[3:],
                 args.stop_after), flush=True)
        write_random(content, args.size)
        os.sync()
        torrent = os.path.join(work, "bench.torrent")
        subprocess.check_call([args.bf, "create", content, "-o", torrent, "--node", "127.0.0.1:9"], stdout=subprocess.DEVNULL)
        shutil.copy(torrent, content + ".torrent")

        results = {mode: [] for mode in args.modes}
        for run in range(args.runs):
            order = args.modes[run % len(args.modes):] + args.modes[:run % len(args.modes)]
            for mode in order:
                seeds = Seeds(args.bf, content, work, caps, args.seed_arg)
                try:
                    seconds, wall, done = download(mode, args, torrent, work, seeds, run)
                finally:
                    seeds.close()
                results[mode].append(seconds)
                extra = ""
                if mode != "c" and "wasted" in done:
                    extra = "  first payload %.3f s, wasted %.1f MiB, %d repair symbols, %d pieces decoded" % (
                        done.get("first_payload") or 0, done["wasted"] / MIB, done.get("repair_symbols", 0), done.get("pieces_decoded", 0))
                print("run %d %-20s %6.2f s  (wall %6.2f s, %.2fx ideal)%s"
                      % (run + 1, NAMES[mode], seconds, wall, seconds / ideal, extra), flush=True)

        medians = {mode: statistics.median(times) for mode, times in results.items()}
        print()
        print("%-22s %10s %10s" % ("median of %d" % args.runs, "seconds", "x ideal"))
        for mode in args.modes:
            print("%-22s %10.2f %9.2fx" % (NAMES[mode], medians[mode], medians[mode] / ideal))
        print("%-22s %10.2f %9.2fx" % (NAMES["d"], ideal, 1.0))
        print()
        verdicts = []
        if "a" in medians and "b" in medians:
            ratio = medians["a"] / medians["b"]
            verdicts.append(("fountain / --no-fountain", ratio, "<= 0.85", ratio <= 0.85))
        if "a" in medians:
            ratio = medians["a"] / ideal
            verdicts.append(("fountain / ideal", ratio, "<= 1.15", ratio <= 1.15))
        if "a" in medians and "c" in medians:
            ratio = medians["a"] / medians["c"]
            verdicts.append(("fountain / libtorrent", ratio, "< 1.00", ratio < 1.0))
        for name, ratio, target, met in verdicts:
            print("%-26s %6.2f   target %-8s %s" % (name, ratio, target, "met" if met else "NOT MET"))
        codec_costs(args.bench_bin)
    finally:
        if args.keep:
            print("logs kept in %s" % work)
            for name in os.listdir(work):
                if name.endswith((".bin", ".torrent")) or name.startswith("seed-state"):
                    path = os.path.join(work, name)
                    shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.remove(path)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
