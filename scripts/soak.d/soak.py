#!/usr/bin/env python3
"""Soak with faults: see scripts/soak. Everything on 127.0.0.1; every process
this script starts is recorded by PID and killed by PID at the end."""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from flood import Flooder  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description="Soak a small BitFountain network with faults and load.")
    parser.add_argument("--duration", type=float, default=300, help="seconds of faults and load (default 300)")
    parser.add_argument("--nodes", type=int, default=20, help="DHT nodes (default 20)")
    parser.add_argument("--seeds", type=int, default=4, help="seeds, two per torrent (default 4)")
    parser.add_argument("--downloaders", type=int, default=4, help="downloaders, killed and restarted (default 4)")
    parser.add_argument("--size-mib", type=int, default=32, help="size of each torrent's file (default 32)")
    parser.add_argument("--seed-rate", default="4M", help="each seed's --upload-limit, so downloads last long enough to be killed")
    parser.add_argument("--rss-limit-mib", type=float, default=400, help="no process may exceed this RSS (default 400)")
    parser.add_argument("--probe-p99-ms", type=float, default=10, help="router probe p99 bound per round (default 10)")
    parser.add_argument("--router-rate-limit", default="200",
                        help="the router's per-IP packets/s (default 200: above the 100/s probe, far below the flood)")
    parser.add_argument("--round-seconds", type=float, default=20, help="length of each router-load round (default 20)")
    parser.add_argument("--load-sources", type=int, default=32, help="bf-bench source addresses (default 32)")
    parser.add_argument("--load-window", type=int, default=64, help="bf-bench queries in flight (default 64)")
    parser.add_argument("--flood-pps", type=int, default=3000, help="valid+malformed datagrams/s to the router and one node")
    parser.add_argument("--bin", default=None, help="bitfountain binary (default: release build if present, else debug)")
    parser.add_argument("--bench", default=os.path.join(ROOT, ".build", "debug", "bf-bench"), help="bf-bench binary")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock; printed)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.bin is None:
        release = os.path.join(ROOT, ".build", "release", "bitfountain")
        args.bin = release if os.access(release, os.X_OK) else os.path.join(ROOT, ".build", "debug", "bitfountain")
    return args


class Processes:
    """Every process started here, by PID; all killed at the end, none by name."""

    def __init__(self, work):
        self.work = work
        self.live = {}  # pid -> (name, Popen)
        self.lock = threading.Lock()

    def start(self, name, argv):
        out = open(os.path.join(self.work, name + ".log"), "ab")
        err = open(os.path.join(self.work, name + ".err"), "ab")
        process = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        out.close()
        err.close()
        with self.lock:
            self.live[process.pid] = (name, process)
        return process

    def forget(self, process):
        with self.lock:
            self.live.pop(process.pid, None)

    def snapshot(self):
        with self.lock:
            return [(pid, name) for pid, (name, process) in self.live.items() if process.poll() is None]

    def kill_all(self):
        with self.lock:
            entries = list(self.live.values())
        for _, process in entries:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _, process in entries:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with self.lock:
            self.live.clear()


def event(log_path, name, timeout=60):
    """The first JSON object with "event" == name in a log, waiting up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        expired = time.monotonic() >= deadline
        try:
            with open(log_path) as log:
                for line in log:
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue
                    if obj.get("event") == name:
                        return obj
        except FileNotFoundError:
            pass
        if expired:
            raise RuntimeError(f"no '{name}' event in {log_path} within {timeout} s")
        time.sleep(0.1)


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Downloader(threading.Thread):
    """Downloads one magnet again and again: each attempt is kill -9ed at a random
    moment (the first few), restarted with the same state until it exits 0, then
    verified by sha256; then its output and state are wiped and it starts over."""

    def __init__(self, index, args, procs, work, magnet, name, digest, boot, stop, rng):
        super().__init__(daemon=True)
        self.index, self.args, self.procs, self.work = index, args, procs, work
        self.magnet, self.file_name, self.digest, self.boot, self.stop, self.rng = magnet, name, digest, boot, stop, rng
        self.completed = 0
        self.verified = 0
        self.mismatches = []
        self.kills = 0
        self.failures = []  # attempts that exited non-zero on their own
        self.download_seconds = []

    def run(self):
        cycle = 0
        while not self.stop.is_set():
            cycle += 1
            out = os.path.join(self.work, f"get{self.index}-out")
            state = os.path.join(self.work, f"get{self.index}-state")
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(state, ignore_errors=True)
            started = time.monotonic()
            kills_this_cycle = 0
            while not self.stop.is_set():
                argv = [self.args.bin, "get", self.magnet, "-o", out, "--bind", "127.0.0.1", "--port", "0",
                        "--bootstrap", self.boot, "--state-dir", state, "--timeout", "300", "--json", "--no-lsd",
                        "--no-port-mapping"]
                process = self.procs.start(f"get{self.index}", argv)
                # The first attempts of a cycle die at a random moment; later ones run to the end,
                # so that every cycle completes.
                kill_at = self.rng.uniform(0.3, 8.0) if kills_this_cycle < 4 else None
                attempt_started = time.monotonic()
                status = None
                while status is None and not self.stop.is_set():
                    status = process.poll()
                    if status is None and kill_at is not None and time.monotonic() - attempt_started >= kill_at:
                        process.send_signal(signal.SIGKILL)
                        process.wait()
                        self.kills += 1
                        kills_this_cycle += 1
                        status = "killed"
                    time.sleep(0.05)
                if status is None:  # the soak is over
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    self.procs.forget(process)
                    return
                self.procs.forget(process)
                if status == 0:
                    break
                if status != "killed":
                    self.failures.append(status)
            else:
                return
            self.download_seconds.append(time.monotonic() - started)
            self.completed += 1
            digest = sha256(os.path.join(out, self.file_name))
            if digest == self.digest:
                self.verified += 1
            else:
                self.mismatches.append(digest)


def sha256(path):
    hasher = hashlib.sha256()
    try:
        with open(path, "rb") as data:
            for chunk in iter(lambda: data.read(1 << 20), b""):
                hasher.update(chunk)
    except OSError:
        return None
    return hasher.hexdigest()


def main():
    args = parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="bf-soak-")
    procs = Processes(work)
    stop = threading.Event()
    peaks = {}  # role -> (peak MiB, name)
    rounds = []
    checks = []
    print(f"soak: work {work}, binary {args.bin}, random seed {seed}, {args.duration:.0f} s", flush=True)
    try:
        bf = args.bin
        router = procs.start("router", [bf, "router", "--bind", "127.0.0.1", "--port", "0", "--allow-private",
                                        "--admit-delay", "1", "--rate-limit", args.router_rate_limit, "--state-dir", os.path.join(work, "router"), "--json"])
        boot = f"127.0.0.1:{event(os.path.join(work, 'router.log'), 'listening')['port']}"
        node_ports = []
        for n in range(args.nodes):
            procs.start(f"node{n}", [bf, "node", "--bind", "127.0.0.1", "--port", "0", "--bootstrap", boot,
                                     "--state-dir", os.path.join(work, f"node{n}"), "--json"])
        for n in range(args.nodes):
            node_ports.append(event(os.path.join(work, f"node{n}.log"), "listening")["port"])
        print(f"soak: router {boot}, {args.nodes} nodes up", flush=True)

        torrents = []  # (magnet, file name, sha256)
        for t in range((args.seeds + 1) // 2):
            folder = os.path.join(work, f"content{t}")
            os.makedirs(folder)
            name = f"soak{t}.bin"
            path = os.path.join(folder, name)
            with open(path, "wb") as out:
                out.write(rng.randbytes(args.size_mib << 20))
            subprocess.run([bf, "create", path, "--node", boot], check=True, stdout=subprocess.DEVNULL, timeout=300)
            torrents.append([None, name, sha256(path), path])
        for s in range(args.seeds):
            t = s % len(torrents)
            procs.start(f"seed{s}", [bf, "seed", torrents[t][3], "--bind", "127.0.0.1", "--port", "0", "--bootstrap", boot,
                                     "--state-dir", os.path.join(work, f"seed{s}-state"), "--upload-limit", args.seed_rate,
                                     "--no-lsd", "--no-port-mapping", "--json"])
        for s in range(args.seeds):
            t = s % len(torrents)
            infohash = event(os.path.join(work, f"seed{s}.log"), "seeding")["infohash"]
            torrents[t][0] = f"magnet:?xt=urn:btih:{infohash}&dn={torrents[t][1]}"
            event(os.path.join(work, f"seed{s}.log"), "announced", timeout=120)
        print(f"soak: {args.seeds} seeds of {len(torrents)} torrents ({args.size_mib} MiB each) announced", flush=True)

        flooder = Flooder(targets=[("127.0.0.1", int(boot.split(":")[1])), ("127.0.0.1", node_ports[0])],
                          rate=args.flood_pps, rng=random.Random(seed + 1))
        flooder.start()
        downloaders = [Downloader(i, args, procs, work, torrents[i % len(torrents)][0], torrents[i % len(torrents)][1],
                                  torrents[i % len(torrents)][2], boot, stop, random.Random(seed + 10 + i))
                       for i in range(args.downloaders)]
        for d in downloaders:
            d.start()

        def sample():
            for pid, name in procs.snapshot():
                rss = rss_mib(pid)
                role = name.rstrip("0123456789")
                if rss is not None and rss > peaks.get(role, (0, ""))[0]:
                    peaks[role] = (rss, name)

        def sampler():
            while not stop.is_set():
                sample()
                time.sleep(1)
        threading.Thread(target=sampler, daemon=True).start()

        ends = time.monotonic() + args.duration
        while time.monotonic() < ends:
            seconds = max(2.0, min(args.round_seconds, ends - time.monotonic()))
            load = subprocess.run([args.bench, "router-load", "--target", boot, "--seconds", f"{seconds:.1f}",
                                   "--sources", str(args.load_sources), "--window", str(args.load_window),
                                   "--server-pid", str(router.pid), "--label", "soak"],
                                  capture_output=True, text=True, timeout=seconds + 60)
            line = next((l for l in load.stdout.splitlines() if l.startswith("{")), None)
            if load.returncode != 0 or line is None:
                rounds.append({"error": (load.stderr or load.stdout)[-500:]})
            else:
                rounds.append(json.loads(line))
            r = rounds[-1]
            done = sum(d.completed for d in downloaders)
            kills = sum(d.kills for d in downloaders)
            print(f"soak: t={args.duration - (ends - time.monotonic()):.0f}s probe p99 {r.get('probe_p99_ms', '?')} ms, "
                  f"replies/s {r.get('per_second', '?')} (loss {r.get('loss', 0):.1%}), downloads {done}, kills {kills}, "
                  f"flood sent {flooder.sent} (malformed {flooder.malformed})", flush=True)
            if router.poll() is not None:
                checks.append(f"the router exited ({router.returncode})")
                break
        stop.set()
        flooder.stop()
        for d in downloaders:
            d.join(timeout=30)
        sample()

        # Every seed, node and the router must still run: none may have died under the flood.
        dead = [name for pid, (name, p) in list(procs.live.items()) if p.poll() is not None]
        if dead:
            checks.append(f"processes died during the soak: {', '.join(sorted(dead))}")
        completed = sum(d.completed for d in downloaders)
        verified = sum(d.verified for d in downloaders)
        if completed == 0:
            checks.append("no download completed")
        if verified != completed:
            checks.append(f"{completed - verified} downloads did not verify")
        for d in downloaders:
            if d.failures:
                checks.append(f"get{d.index} exited non-zero on its own: {d.failures[:5]}")
        for role, (peak, name) in sorted(peaks.items()):
            if peak > args.rss_limit_mib:
                checks.append(f"{name} reached {peak:.0f} MiB RSS (bound {args.rss_limit_mib:.0f})")
        p99s = [r["probe_p99_ms"] for r in rounds if "probe_p99_ms" in r]
        errors = [r["error"] for r in rounds if "error" in r]
        if errors:
            checks.append(f"{len(errors)} load rounds failed: {errors[0]}")
        if not p99s:
            checks.append("no probe round measured")
        elif max(p99s) > args.probe_p99_ms:
            checks.append(f"router probe p99 reached {max(p99s):.2f} ms (bound {args.probe_p99_ms} ms)")

        summary = {
            "seconds": args.duration, "random_seed": seed, "nodes": args.nodes, "seeds": args.seeds,
            "downloads_completed": completed, "downloads_verified": verified,
            "kills": sum(d.kills for d in downloaders),
            "download_seconds_median": sorted(s for d in downloaders for s in d.download_seconds)[completed // 2] if completed else None,
            "probe_p99_ms_per_round": p99s, "probe_p99_ms_max": max(p99s) if p99s else None,
            "probe_lost": sum(r.get("probe_lost", 0) for r in rounds),
            "router_replies_per_s": [r.get("per_second") for r in rounds],
            "flood_sent": flooder.sent, "flood_malformed": flooder.malformed, "flood_replies": flooder.replies,
            "peak_rss_mib": {role: round(peak, 1) for role, (peak, _) in sorted(peaks.items())},
            "rss_limit_mib": args.rss_limit_mib, "failed_checks": checks,
        }
        print(json.dumps(summary), flush=True)
        print("soak: PASSED" if not checks else "soak: FAILED:\n  " + "\n  ".join(checks), flush=True)
        return 0 if not checks else 1
    finally:
        stop.set()
        procs.kill_all()
        if args.keep:
            print(f"soak: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
