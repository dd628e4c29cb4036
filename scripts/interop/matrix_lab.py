#!/usr/bin/env python3
"""What the interop matrix (matrix.py) stands on: the lab it runs in, the
processes it starts (each stopped by its pid), waiting, hashing, and the BEP 42
check computed independently of our Swift code."""
import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LAB = os.path.join(REPO, "scripts", "lab")
PYTHON = "/usr/bin/python3"
DHT_PORT = 6881
sys.path.insert(0, HERE)
from bencoding import bdecode  # noqa: E402


class CellFailure(Exception):
    """A cell did not pass; the message says what was seen."""


# ------------------------------------------------------------------ processes


class Processes:
    """Every process the matrix starts, so that each is stopped by its pid."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running = []

    def add(self, process):
        with self.lock:
            self.running.append(process)
        return process

    @staticmethod
    def stop(process, grace=3.0):
        leftovers = session_id_files(process.pid)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for path in leftovers:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def stop_all(self):
        with self.lock:
            processes, self.running = self.running, []
        for process in processes:
            self.stop(process, grace=1.0)


def session_id_files(pid):
    """The /tmp/tr_session_id_* files process `pid` holds open. Transmission
    keeps its RPC session id in one (the path is fixed, not under TMPDIR) and
    removes it when it exits cleanly; one killed leaves it behind for good."""
    found = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("/tmp/tr_session_id_"):
                found.append(target)
    except OSError:
        pass
    return found


PROCESSES = Processes()


def run_concurrently(function, items, report, workers=0):
    """function(item) for every item, on `workers` threads (default: one
    each); report(result)
    in the calling thread as each finishes. A signal handler that raises
    (SIGTERM → KeyboardInterrupt) interrupts the wait at once rather than after
    the slowest item, as leaving a `with ThreadPoolExecutor` block would: the
    caller then stops the processes, removes its labs and leaves through
    `exit_now`, without joining threads that are still polling."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers or max(1, len(items)))
    futures = [pool.submit(function, item) for item in items]
    try:
        for future in concurrent.futures.as_completed(futures):
            report(future.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def exit_now(status):
    """Exit with `status` without waiting for worker threads (after an
    interrupt they may still be polling towards their deadlines; what they
    started has been stopped)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


class Lab:
    """One lab made by scripts/lab; hosts by name."""

    def __init__(self, topology):
        made = subprocess.run([LAB, "up", "--owner", str(os.getpid()), "-"], input=topology, text=True,
                              capture_output=True, timeout=180)
        if made.returncode != 0:
            raise RuntimeError(f"scripts/lab up failed: {made.stderr.strip()}")
        self.id = made.stdout.split()[-1]
        listing = subprocess.run([LAB, "hosts", "--lab", self.id], text=True, capture_output=True, check=True).stdout
        self.hosts = {name: (ns, address) for name, ns, address, _ in (line.split() for line in listing.splitlines())}

    def addr(self, host):
        return self.hosts[host][1]

    def spawn(self, host, argv, log, env=None):
        with open(log, "ab") as out:
            return PROCESSES.add(subprocess.Popen(["ip", "netns", "exec", self.hosts[host][0], *argv], stdout=out,
                                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env))

    def run(self, host, argv, timeout=30, env=None):
        return subprocess.run(["ip", "netns", "exec", self.hosts[host][0], *argv], capture_output=True, text=True,
                              timeout=timeout, env=env)

    def down(self):
        subprocess.run([LAB, "down", self.id], capture_output=True, timeout=120)


# ------------------------------------------------------------------ small helpers


def json_events(path):
    events = []
    try:
        with open(path, errors="replace") as handle:
            for line in handle:
                if line.startswith("{"):
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        pass
    except FileNotFoundError:
        pass
    return events


def wait_until(predicate, deadline, interval=0.5):
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def wait_event(path, name, deadline, process=None):
    def found():
        for event in json_events(path):
            if event.get("event") == name:
                return event
        if process is not None and process.poll() is not None:
            return {"event": "exited", "status": process.returncode}
        return None
    event = wait_until(found, deadline, 0.2)
    return event if event and event.get("event") == name else None


def sha256(path):
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def infohash_of(torrent):
    with open(torrent, "rb") as handle:
        data = handle.read()
    meta, _ = bdecode(data, spans=True)
    start, end = meta[b"__spans__"][b"info"]
    return hashlib.sha1(data[start:end]).hexdigest()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def bep42_valid(node_id_hex, ip):
    """Whether the ID's top 21 bits are BEP 42's CRC-32C of the IPv4 address,
    with r = the ID's last byte (computed here, independently of our Swift code)."""
    node_id = bytes.fromhex(node_id_hex)
    octets = [int(part) for part in ip.split(".")]
    masked = bytes(o & m for o, m in zip(octets, (0x03, 0x0F, 0x3F, 0xFF)))
    masked = bytes([masked[0] | ((node_id[19] & 0x07) << 5)]) + masked[1:]
    expected = crc32c(masked) & 0xFFFFF800
    return int.from_bytes(node_id[:4], "big") & 0xFFFFF800 == expected
