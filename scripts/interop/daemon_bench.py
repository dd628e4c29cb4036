#!/usr/bin/env python3
"""scripts/bench daemon: `bitfountain daemon` against transmission-daemon 3.00,
both holding the same N small seeded torrents (10,000 by default), in one run.

  daemon_bench.py --bf PATH [--torrents N] [--size BYTES] [--restarts R] [--runs K]
                  [--only transmission|bitfountain] [--no-ui] [--timeout S] [--work DIR]

The benchmark makes N single-file torrents of distinct random content
(torrent_corpus.py), then for each daemon in turn: starts it with an empty
state, adds every torrent over Transmission RPC `torrent-add` (metainfo in
base64, download-dir = the data, so it verifies and seeds), waits until all
seed, and stops it (SIGTERM: each saves its state). transmission-daemon's
verify of new torrents is throttled to 10 a second, so its resume files are
completed as a finished verify writes them instead (Transmission.after_adding). Then, R times and
alternating between the two daemons so that the machine's noise falls on both:

  (a) start: from spawning the daemon (its state holds N torrents) until
      torrent-get reports N torrents, all seeding (status 6); polled with the
      fields id and status, 0.05 s apart;
  (b) memory: VmRSS from /proc once all seed (peak VmHWM too); and, for
      comparison, the VmRSS of the empty daemon 1 s after its RPC first answers,
      and what each torrent adds above it ((loaded - empty) / N);
  (c) torrent-get of id, name, percentDone, rateDownload, rateUpload and
      status for all N torrents: the time from sending the request to the last
      byte of the answer, K times (after one warm-up), median, on the last round;
  (d) the web UI's first paint with N torrents, in headless Chromium
      (web_ui_paint.py), on the last round.

Both are driven by the same RPC client code (rpc_client.py): our daemon speaks
Transmission RPC. Every figure is printed with the ratio ours / Transmission's;
the targets (issue 13) are <= 0.5x for (a), (b) and (c).

Settings, chosen so both do the same work on loopback: no DHT, no local peer
discovery, no PEX, no uTP, no UPnP/NAT-PMP, no queues (every torrent seeds at
once), no seeding limits; peer port and RPC on 127.0.0.1, free ports, no RPC
authentication. No peer ever connects: what is measured is holding the torrents.

Everything listens on 127.0.0.1; each daemon is stopped by PID (SIGTERM, then
SIGKILL after 60 s); the work directory is removed at the end; every wait has a
deadline inside --timeout.
"""
import argparse
import base64
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from bencoding import bdecode, bencode
from rpc_client import RpcClient, RpcError
from torrent_corpus import make_corpus

SEEDING = 6  # Transmission RPC status: seeding
TICKS = os.sysconf("SC_CLK_TCK")
STOP_GRACE = 60.0


class BenchFailure(Exception):
    pass


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()

    def check(self, what):
        if self.left() <= 0:
            raise BenchFailure(f"out of time: {what}")


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def proc_status(pid):
    """VmRSS and VmHWM in bytes."""
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Daemon:
    """One daemon under test: how to start it, where its RPC and web UI are."""
    name = "?"
    ui_path = "/"

    def __init__(self, work, log_dir):
        self.work, self.log_dir = work, log_dir
        self.rpc_port, self.peer_port = free_port(), free_port()
        self.process, self.log = None, None

    def argv(self):
        raise NotImplementedError

    def prepare(self, data_dir):
        """Writes its configuration (once, before the first start)."""

    def start(self):
        self.log = open(os.path.join(self.log_dir, f"{self.name}.log"), "ab")
        self.process = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        return time.monotonic()

    def client(self):
        return RpcClient("127.0.0.1", self.rpc_port, self.rpc_path)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def after_adding(self):
        """What the daemon needs between the adds and a state where all seed
        (nothing by default: it verifies and seeds)."""
        return 0

    def stop(self):
        """SIGTERM (each saves its state on it), SIGKILL after a grace period."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                print(f"  {self.name}: no exit {STOP_GRACE:.0f} s after SIGTERM, killed", flush=True)
                self.process.kill()
                self.process.wait(10)
        self.process = None
        if self.log:
            self.log.close()
            self.log = None


class Transmission(Daemon):
    name = "transmission"
    rpc_path = "/transmission/rpc"
    ui_path = "/transmission/web/"

    def prepare(self, data_dir):
        import json
        self.config = os.path.join(self.work, "transmission-config")
        os.makedirs(self.config, exist_ok=True)
        settings = {
            "rpc-enabled": True,
            "rpc-bind-address": "127.0.0.1",
            "rpc-port": self.rpc_port,
            "rpc-authentication-required": False,
            "rpc-whitelist-enabled": False,
            "rpc-host-whitelist-enabled": False,
            "bind-address-ipv4": "127.0.0.1",
            "bind-address-ipv6": "::1",
            "peer-port": self.peer_port,
            "peer-port-random-on-start": False,
            "port-forwarding-enabled": False,
            "dht-enabled": False,
            "lpd-enabled": False,
            "pex-enabled": False,
            "utp-enabled": False,
            "download-dir": data_dir,
            "incomplete-dir-enabled": False,
            "download-queue-enabled": False,
            "seed-queue-enabled": False,
            "queue-stalled-enabled": False,
            "ratioLimitEnabled": False,
            "idle-seeding-limit-enabled": False,
            "start-added-torrents": True,
            "watch-dir-enabled": False,
            "message-level": 1,  # errors only: its log is not part of the work
        }
        with open(os.path.join(self.config, "settings.json"), "w") as handle:
            json.dump(settings, handle)

    def argv(self):
        return ["transmission-daemon", "-f", "-g", self.config]

    def after_adding(self):
        """transmission-daemon 3.00 verifies new torrents one at a time and
        sleeps 100 ms per torrent while at it (verify.c): 10 torrents a second,
        17 minutes for 10,000, none of which a restart repeats. So once every
        torrent is added over RPC, it is stopped (it saves a resume file per
        torrent) and each resume file not yet verified is given what a finished
        verify writes ("blocks" and "have" = "all", the check time, running);
        the restart that follows loads them seeding, with no verify (a verify
        would show as 0.1 s per torrent in the start figures). Returns how many
        resume files were completed so."""
        self.stop()
        resume_dir = os.path.join(self.config, "resume")
        if not os.path.isdir(resume_dir):
            self.start()
            return 0
        checked = int(time.time()) + 1  # not older than any data file's mtime
        completed = 0
        for name in os.listdir(resume_dir):
            path = os.path.join(resume_dir, name)
            with open(path, "rb") as handle:
                state, _ = bdecode(handle.read())
            progress = state.get(b"progress", {})
            if progress.get(b"blocks") == b"all" and state.get(b"paused") == 0:
                continue  # verified and running (one verified as it stopped is saved paused)
            files = len(progress.get(b"time-checked", [0]))
            state[b"progress"] = {b"blocks": b"all", b"have": b"all", b"time-checked": [checked] * files}
            state[b"paused"] = 0
            with open(path + ".tmp", "wb") as handle:
                handle.write(bencode(state))
            os.replace(path + ".tmp", path)
            completed += 1
        self.start()
        return completed


class BitFountain(Daemon):
    name = "bitfountain"
    rpc_path = "/transmission/rpc"
    ui_path = "/"

    def __init__(self, work, log_dir, binary):
        super().__init__(work, log_dir)
        self.binary = binary

    def prepare(self, data_dir):
        self.state = os.path.join(self.work, "bitfountain-state")
        self.data_dir = data_dir
        os.makedirs(self.state, exist_ok=True)

    def argv(self):
        # The flags `bitfountain daemon` is expected to take (the daemon branch
        # had not landed when this was written); BF_DAEMON_ARGS overrides them,
        # with {state}, {rpc_port}, {peer_port} and {data} filled in.
        template = os.environ.get("BF_DAEMON_ARGS",
                                  "--state-dir {state} --rpc-port {rpc_port} --port {peer_port} "
                                  "--bind 127.0.0.1 --no-dht --no-lsd --no-pex --no-port-mapping "
                                  "--download-dir {data} --log-level warning")
        filled = template.format(state=self.state, rpc_port=self.rpc_port, peer_port=self.peer_port, data=self.data_dir)
        return [self.binary, "daemon", *filled.split()]

    @staticmethod
    def available(binary):
        """Whether this build has `bitfountain daemon` at all."""
        listing = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30).stdout
        return any(line.split()[:1] == ["daemon"] for line in listing.splitlines())


def wait_rpc(daemon, deadline):
    client = daemon.client()
    while True:
        deadline.check(f"{daemon.name}'s RPC never answered")
        if not daemon.alive():
            raise BenchFailure(f"{daemon.name} exited with status {daemon.process.returncode} (see its log)")
        try:
            client.call("session-get", {"fields": ["version"]})
            return client
        except (OSError, RpcError):
            client.close()
            time.sleep(0.05)


def statuses(client):
    return client.call("torrent-get", {"fields": ["id", "status"]})["torrents"]


def wait_seeding(daemon, client, count, deadline, poll=0.05):
    """Polls until the daemon lists `count` torrents, all seeding; returns the
    time of the answer that showed it. Connection errors (RPC not up yet) retry."""
    last = None
    while True:
        deadline.check(f"{daemon.name}: not all seeding (last poll: {last})")
        if not daemon.alive():
            raise BenchFailure(f"{daemon.name} exited with status {daemon.process.returncode} (see its log)")
        try:
            torrents = statuses(client)
            now = time.monotonic()
        except (OSError, RpcError):
            client.close()
            time.sleep(0.05)
            continue
        seeding = sum(1 for t in torrents if t.get("status") == SEEDING)
        last = f"{len(torrents)} listed, {seeding} seeding"
        if len(torrents) == count and seeding == count:
            return now
        time.sleep(poll)


def add_all(daemon, client, corpus, data_dir, deadline):
    start = time.monotonic()
    for index, metainfo in enumerate(corpus.metainfos):
        if index % 500 == 0:
            deadline.check(f"{daemon.name}: adding torrents ({index} added)")
        answer = client.call("torrent-add", {"metainfo": base64.b64encode(metainfo).decode(),
                                             "download-dir": data_dir, "paused": False})
        if "torrent-added" not in answer and "torrent-duplicate" not in answer:
            raise BenchFailure(f"{daemon.name}: torrent-add answered {answer}")
    return time.monotonic() - start


def timed_full_get(client):
    fields = ["id", "name", "percentDone", "rateDownload", "rateUpload", "status"]
    start = time.perf_counter()
    body = client.call_raw("torrent-get", {"fields": fields})
    return time.perf_counter() - start, body


def first_fill(daemon, corpus, data_dir, deadline):
    daemon.prepare(data_dir)
    daemon.start()
    try:
        client = wait_rpc(daemon, deadline)
        time.sleep(1)  # let it settle: what an empty daemon holds, for comparison with (b)
        empty = proc_status(daemon.process.pid)["VmRSS"]
        added = add_all(daemon, client, corpus, data_dir, deadline)
        client.close()
        completed = daemon.after_adding()
        if completed:
            print(f"{daemon.name}: completed {completed} resume files (see Transmission.after_adding)", flush=True)
        client = daemon.client()
        wait_seeding(daemon, client, len(corpus.metainfos), deadline, poll=0.5)
        client.close()
    finally:
        daemon.stop()
    return added, empty


def one_round(daemon, count, deadline, measure_get, runs, ui):
    """A restart: start -> all seeding; then RSS; and on the last round the
    torrent-get timings and the web UI's paint. Returns a dict of figures."""
    figures = {}
    spawned = daemon.start()
    try:
        client = daemon.client()
        seeding = wait_seeding(daemon, client, count, deadline)
        figures["start"] = seeding - spawned
        figures["cpu_start"] = cpu_seconds(daemon.process.pid)
        figures.update(proc_status(daemon.process.pid))
        if measure_get:
            _, body = timed_full_get(client)  # warm-up
            figures["get_bytes"] = len(body)
            samples = []
            for _ in range(runs):
                deadline.check(f"{daemon.name}: torrent-get runs")
                samples.append(timed_full_get(client)[0])
            figures["get"] = samples
        if ui is not None:
            figures["ui"] = ui(daemon, count, deadline)
        client.close()
    finally:
        daemon.stop()
    return figures


def ratio_line(label, ours, theirs, unit, fmt, target=None):
    if ours is None or theirs is None:
        shown = fmt(ours) if ours is not None else fmt(theirs) if theirs is not None else "-"
        print(f"  {label:<34} {shown} {unit}")
        return
    ratio = ours / theirs if theirs else float("inf")
    verdict = ""
    if target is not None:
        verdict = f"   target <= {target}x   {'MET' if ratio <= target else 'NOT MET'}"
    print(f"  {label:<34} ours {fmt(ours)} {unit}   transmission {fmt(theirs)} {unit}   ratio {ratio:.2f}x{verdict}")


def report(count, size, restarts, runs, filled, rounds, names):
    def median_of(name, key):
        values = [r[key] for r in rounds.get(name, []) if key in r]
        return statistics.median(values) if values else None

    def last(name, key):
        values = [r[key] for r in rounds.get(name, []) if key in r]
        return values[-1] if values else None

    print(f"\ndaemon: {count} torrents of {size} bytes, {restarts} restart(s) each, "
          f"torrent-get x{runs}, {os.cpu_count()} cores")
    for name in names:
        starts = ", ".join(f"{r['start']:.2f}" for r in rounds.get(name, []))
        print(f"  {name:<12} first add {filled[name][0]:.1f} s; restarts until all seed: {starts} s")
    get = {n: statistics.median(last(n, "get")) if last(n, "get") else None for n in names}
    ours, theirs = "bitfountain", "transmission"
    seconds = lambda x: f"{x:.3f}"  # noqa: E731
    mib = lambda x: f"{x / (1 << 20):.1f}"  # noqa: E731
    millis = lambda x: f"{x * 1000:.1f}"  # noqa: E731
    ratio_line("(a) start until all seed (median)", median_of(ours, "start"), median_of(theirs, "start"), "s", seconds, 0.5)
    ratio_line("(b) resident memory (VmRSS, median)", median_of(ours, "VmRSS"), median_of(theirs, "VmRSS"), "MiB", mib, 0.5)
    ratio_line("    peak memory (VmHWM)", median_of(ours, "VmHWM"), median_of(theirs, "VmHWM"), "MiB", mib)
    empty = {n: filled[n][1] if n in filled else None for n in (ours, theirs)}
    ratio_line("    empty daemon (no torrents)", empty[ours], empty[theirs], "MiB", mib)
    # What each torrent costs above the process's own floor: the part a daemon's design decides.
    marginal = {n: (median_of(n, "VmRSS") - empty[n]) / count if median_of(n, "VmRSS") and empty[n] else None
                for n in (ours, theirs)}
    ratio_line("    per torrent (loaded-empty)/N", marginal[ours], marginal[theirs], "KiB",
               lambda x: f"{x / 1024:.2f}", 0.5)
    ratio_line("(c) torrent-get, all (median)", get.get(ours), get.get(theirs), "ms", millis, 0.5)
    ratio_line("    answer size", last(ours, "get_bytes"), last(theirs, "get_bytes"), "KiB",
               lambda x: f"{x / 1024:.0f}")
    ratio_line("    CPU used by a start (median)", median_of(ours, "cpu_start"), median_of(theirs, "cpu_start"), "s", seconds)
    for name in names:
        ui = last(name, "ui")
        if ui is None:
            continue
        if isinstance(ui, str):
            print(f"  (d) web UI ({name}): {ui}")
    uis = {n: last(n, "ui") for n in names}
    if all(isinstance(uis.get(n), dict) for n in (ours, theirs)):
        ratio_line("(d) web UI: first torrent painted", uis[ours]["rows"], uis[theirs]["rows"], "ms", millis)
        ratio_line("    first contentful paint", uis[ours]["fcp"], uis[theirs]["fcp"], "ms", millis)
    else:
        for name in names:
            if isinstance(uis.get(name), dict):
                ui = uis[name]
                print(f"  (d) web UI ({name}): first torrent painted {ui['rows'] * 1000:.0f} ms, "
                      f"first contentful paint {ui['fcp'] * 1000:.0f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bf", default=os.environ.get("BF_BIN", ".build/release/bitfountain"))
    parser.add_argument("--torrents", type=int, default=10000)
    parser.add_argument("--size", type=int, default=16384, help="bytes per torrent (one file, one piece)")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20, help="torrent-get timings")
    parser.add_argument("--only", choices=("transmission", "bitfountain"))
    parser.add_argument("--no-ui", action="store_true", help="skip the web UI's paint")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--work", help="where the torrents and state go (default: /dev/shm or /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (for a look at the logs)")
    args = parser.parse_args()
    deadline = Deadline(args.timeout)

    parent = args.work or ("/dev/shm" if shutil.disk_usage("/dev/shm").free > args.torrents * args.size * 4 else None)
    work = tempfile.mkdtemp(prefix="bf-bench-daemon-", dir=parent)
    daemons = []

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    try:
        data_dir = os.path.join(work, "data")
        started = time.monotonic()
        corpus = make_corpus(data_dir, os.path.join(work, "torrents"), args.torrents, args.size)
        print(f"made {args.torrents} torrents of {args.size} bytes in {time.monotonic() - started:.1f} s ({work})",
              flush=True)
        if args.only != "bitfountain":
            daemons.append(Transmission(work, work))
        if args.only != "transmission":
            if not os.access(args.bf, os.X_OK):
                raise BenchFailure(f"no bitfountain binary at {args.bf}")
            if BitFountain.available(args.bf):
                daemons.append(BitFountain(work, work, args.bf))
            elif args.only == "bitfountain":
                raise BenchFailure(f"{args.bf} has no `daemon` command yet")
            else:
                print(f"NOTE: {args.bf} has no `daemon` command yet: Transmission's figures only, no ratios", flush=True)

        ui = None
        if not args.no_ui:
            from web_ui_paint import paint_probe
            ui = paint_probe(work)

        filled = {}
        for daemon in daemons:
            print(f"{daemon.name}: adding {args.torrents} torrents ...", flush=True)
            added, empty = first_fill(daemon, corpus, data_dir, deadline)
            filled[daemon.name] = (added, empty)
            print(f"{daemon.name}: added in {added:.1f} s, all seeding; stopped", flush=True)

        rounds = {d.name: [] for d in daemons}
        for round_index in range(args.restarts):
            final = round_index == args.restarts - 1
            for daemon in daemons:
                figures = one_round(daemon, args.torrents, deadline, final, args.runs, ui if final else None)
                rounds[daemon.name].append(figures)
                print(f"{daemon.name}: restart {round_index + 1}: all seeding after {figures['start']:.2f} s, "
                      f"RSS {figures['VmRSS'] / (1 << 20):.1f} MiB", flush=True)
        report(args.torrents, args.size, args.restarts, args.runs, filled, rounds, [d.name for d in daemons])
        return 0
    except BenchFailure as failure:
        print(f"bench daemon: FAILED: {failure}", file=sys.stderr)
        for daemon in daemons:
            path = os.path.join(work, f"{daemon.name}.log")
            if os.path.exists(path):
                with open(path, "rb") as handle:
                    tail = handle.read()[-1500:].decode(errors="replace")
                print(f"--- {daemon.name}.log (tail)\n{tail}", file=sys.stderr)
        return 1
    finally:
        for daemon in daemons:
            try:
                daemon.stop()
            except Exception as error:  # keep stopping the others
                print(f"stopping {daemon.name}: {error}", file=sys.stderr)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
