#!/usr/bin/env python3
"""scripts/bench interop: for each stock client, `bitfountain get` downloading
from that client's seed against the client downloading from its own kind of
seed, in the same lab (scripts/lab), one after the other. Needs root.

  interop_bench.py --bf PATH [--size BYTES] [--clients libtorrent,transmission,aria2]
                   [--timeout S] [--world N] [--work DIR]

Per pair: time from the downloader's start to a verified copy (sha256), and the
downloader's CPU seconds per GiB (its own user+system time: rusage when it
exits, /proc when it keeps running, as transmission-daemon does). Ratios:
speed = client's time / ours (>= 1.0 is the target), CPU = ours / client's
(<= 1.0 is the target).

Peers are given to every downloader directly, so the time is transfer, not
DHT lookup: the magnet link carries `x.pe` with the seed's address, which ours
and libtorrent read; Transmission 3.00 and aria2 1.36 read no x.pe, so their
magnet also names an HTTP tracker on the downloader's own loopback
(loopback_tracker.py) that answers with the seed. (On the lab's DHT alone,
Transmission found its seed but never dialed it within 120 s.) The lab also
runs the matrix's DHT world, which every client joins at its defaults. Each
download gets a freshly started seed (aria2 stops seeding at ratio 1.0, its
default). Clients run at their defaults, as in the matrix (matrix_clients.py
drives them).
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse

from matrix import Cell, World, random_content
from matrix_clients import DRIVERS, Aria2, bitfountain_get
from matrix_lab import (HERE, PROCESSES, PYTHON, CellFailure, Processes, infohash_of, json_events, sha256, wait_event,
                        wait_until)

CLIENTS = ("libtorrent", "transmission", "aria2")
GIB = 1 << 30
TICKS = os.sysconf("SC_CLK_TCK")
TRACKER = os.path.join(HERE, "loopback_tracker.py")
TRACKER_FED = ("transmission", "aria2")  # downloaders that read no x.pe


class Timed:
    """A downloader process: when it finished, and the CPU it used. Reaped
    with wait4 here (not Popen.wait) so its rusage is not lost."""

    def __init__(self, process):
        self.process, self.cpu, self.status = process, None, None

    def exited(self):
        if self.status is not None:
            return True
        pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.status = os.waitstatus_to_exitcode(status)
        self.process.returncode = self.status  # so Processes.stop leaves it alone
        self.cpu = usage.ru_utime + usage.ru_stime
        return True

    def cpu_now(self):
        """CPU of a process still running (transmission-daemon seeds on)."""
        with open(f"/proc/{self.process.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class QuietAria2(Aria2):
    """The matrix's aria2 driver, but a downloader that logs at notice level:
    at debug (which the seed needs, to see "Seeder state") aria2 writes ~60 MB
    of log per 256 MiB, CPU that is not downloading."""

    def get(self, cell, magnet, out):
        argv = [a for a in self.base(cell, out) if a != "--log-level=debug"] + ["--log-level=notice", "--seed-time=0"]
        cell.spawn(cell.client_host, argv + [magnet], cell.log("aria2.log"))


DOWNLOADERS = {**DRIVERS, "aria2": QuietAria2()}


def seed_port(cell):
    """The TCP port the seed listens on (aria2 picks one from 6881-6999); not
    Transmission's RPC port."""
    listing = cell.lab.run(cell.client_host, ["ss", "-Hltn"], timeout=10).stdout
    address = cell.lab.addr(cell.client_host)
    for line in listing.splitlines():
        local = line.split()[3]
        host, _, port = local.rpartition(":")
        host = host.split("%")[0]  # ss prints a bound address as 10.0.8.2%eth0
        if host in (address, "0.0.0.0", "*") and port != "9091":
            return int(port)
    raise CellFailure(f"no listening seed found: {listing}")


def start_seed(world, client, args, label, torrent, directory):
    cell = Cell(world, client, "get", args)
    cell.work = os.path.join(args.work, client, label, "seed")
    os.makedirs(cell.work, exist_ok=True)
    DRIVERS[client].seed(cell, torrent, directory)
    return cell


def finished_client(client, cell, timed):
    """Whether a client download is complete (by the client's own account)."""
    if client == "transmission":
        listing = DRIVERS[client].remote(cell, "-l").stdout
        return any("100%" in line and ("Seeding" in line or "Idle" in line) for line in listing.splitlines()[1:-1])
    if client == "libtorrent":
        return any(e.get("event") == "complete" for e in json_events(cell.log("libtorrent.log"))) or timed.exited()
    return timed.exited()  # aria2 with --seed-time=0 exits when done


def measure(world, client, args, downloader, torrent, directory, expected):
    """One download from a fresh seed of `client`: (seconds, cpu seconds)."""
    seed = start_seed(world, client, args, downloader, torrent, directory)
    cell = Cell(world, client, "get", args)
    cell.work = os.path.join(args.work, client, downloader, "get")
    os.makedirs(cell.work, exist_ok=True)
    cell.client_host = cell.ours_host  # the downloading host; the seed is on seed.client_host
    try:
        peer = f"{seed.lab.addr(seed.client_host)}:{seed_port(seed)}"
        magnet = f"magnet:?xt=urn:btih:{infohash_of(torrent)}&x.pe={peer}"
        if downloader in TRACKER_FED:
            magnet += "&tr=" + urllib.parse.quote(local_tracker(cell, peer, args), safe="")
        out = cell.log("out")
        os.makedirs(out, exist_ok=True)
        start = time.time()
        if downloader == "bitfountain":
            timed = Timed(bitfountain_get(cell, magnet, out))
            done = wait_until(timed.exited, cell.deadline, 0.2)
        else:
            DOWNLOADERS[client].get(cell, magnet, out)
            timed = Timed(cell.processes[-1])
            done = wait_until(lambda: finished_client(client, cell, timed), cell.deadline, 0.2)
        elapsed = time.time() - start
        if not done:
            raise CellFailure(f"{downloader} did not finish within {args.timeout} s (logs: {cell.work})")
        if timed.status not in (None, 0):
            raise CellFailure(f"{downloader} exited {timed.status} (logs: {cell.work})")
        cpu = timed.cpu if timed.cpu is not None else timed.cpu_now()
        if client == "libtorrent" and timed.cpu is None:
            wait_until(timed.exited, time.time() + 10, 0.1)  # it exits right after "complete": take its full rusage
            cpu = timed.cpu if timed.cpu is not None else cpu
        path = os.path.join(out, "content.bin")
        if sha256(path) != expected:
            raise CellFailure(f"{downloader}'s copy does not match (sha256) (logs: {cell.work})")
        shutil.rmtree(out, ignore_errors=True)
        return elapsed, cpu
    finally:
        for process in cell.processes + seed.processes:
            Processes.stop(process)


def local_tracker(cell, peer, args):
    """An HTTP tracker on the downloading host's own loopback that names the
    seed: how Transmission 3.00 and aria2 1.36, which read no x.pe, are given
    the peer directly, with no DHT lookup inside the time."""
    log = cell.log("tracker.log")
    process = cell.spawn(cell.ours_host, [PYTHON, TRACKER, "--peer", peer, "--timeout", str(args.timeout + 60)], log)
    listening = wait_event(log, "listening", time.time() + 20, process)
    if not listening:
        raise CellFailure("the local tracker did not start")
    return f"http://127.0.0.1:{listening['port']}/announce"


def bench_client(world, client, args):
    directory = os.path.join(args.work, client, "content")
    content = os.path.join(directory, "content.bin")
    expected = random_content(content, args.size)
    torrent = os.path.join(args.work, client, "content.torrent")
    DRIVERS[client].make_torrent(None, content, torrent)
    results = {}
    for downloader in ("bitfountain", client):
        try:
            results[downloader] = measure(world, client, args, downloader, torrent, directory, expected)
        except CellFailure as failure:
            results[downloader] = str(failure)
        print(f"  {client} seed -> {downloader}: {results[downloader]}", flush=True)
    shutil.rmtree(directory, ignore_errors=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bf", required=True, help="the bitfountain binary (release)")
    parser.add_argument("--size", type=int, default=256 << 20)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--timeout", type=int, default=900, help="seconds each download may take")
    parser.add_argument("--world", type=int, default=3, help="stock libtorrent DHT nodes in the lab")
    parser.add_argument("--work", help="content, downloads, logs (default: new dir in /dev/shm if roomy, else /tmp)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench interop: the lab needs root (network namespaces)", file=sys.stderr)
        return 2
    clients = [c for c in args.clients.split(",") if c]
    for client in clients:
        if client not in CLIENTS:
            parser.error(f"unknown client {client}")
    # What matrix.World and the drivers read.
    args.bin = os.path.abspath(args.bf)
    args.cell_timeout = args.timeout
    if args.work is None:
        roomy = shutil.disk_usage("/dev/shm").free > 4 * args.size + (1 << 30)
        args.work = tempfile.mkdtemp(prefix="bf-bench-interop-", dir="/dev/shm" if roomy else None)

    def shutdown(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, shutdown)
    world, table = None, {}
    print(f"interop benchmark: {args.size / (1 << 20):.0f} MiB per download, clients {', '.join(clients)}; "
          f"work {args.work}", flush=True)
    try:
        world = World(args, "bench", False, [(client, "get") for client in clients])
        for client in clients:
            table[client] = bench_client(world, client, args)
    except KeyboardInterrupt:
        print("bench interop: interrupted", file=sys.stderr)
    finally:
        PROCESSES.stop_all()
        if world is not None:
            world.lab.down()
    return report(table, args)


def report(table, args):
    gib = args.size / GIB
    print(f"\n{'seed':<13}{'bf get s':>10}{'client s':>10}{'speed x':>9}{'bf CPU s/GiB':>14}"
          f"{'client CPU s/GiB':>18}{'CPU x':>7}  peers")
    ok = True
    for client, results in table.items():
        ours, theirs = results.get("bitfountain"), results.get(client)
        peers = "x.pe" if client == "libtorrent" else "us x.pe, client local tracker"
        if isinstance(ours, tuple) and isinstance(theirs, tuple):
            speed, cpu = theirs[0] / ours[0], (ours[1] / gib) / max(theirs[1] / gib, 1e-9)
            ok &= speed >= 1.0 and cpu <= 1.0
            print(f"{client:<13}{ours[0]:>10.1f}{theirs[0]:>10.1f}{speed:>9.2f}{ours[1] / gib:>14.2f}"
                  f"{theirs[1] / gib:>18.2f}{cpu:>7.2f}  {peers}")
        else:
            ok = False
            print(f"{client:<13} FAIL: {ours if not isinstance(ours, tuple) else theirs}")
    print("speed x = client's time / ours (target >= 1.0); CPU x = our CPU per GiB / client's (target <= 1.0)")
    print(f"logs: {args.work}")
    return 0 if ok and len(table) == len(args.clients.split(",")) else 1


if __name__ == "__main__":
    sys.exit(main())
