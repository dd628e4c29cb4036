#!/usr/bin/env python3
"""Swarm benchmark driver (scripts/bench swarm): one seed, one downloader, loopback TCP.

Runs each scenario --runs times and prints the medians:
  (a) BitFountain seed -> BitFountain get
  (b) libtorrent seed  -> libtorrent leech   (reference)
  (c) libtorrent seed  -> BitFountain get
Rates are payload bytes / seconds from adding the torrent to every piece verified,
as each downloader reports it; CPU is the downloader process's user+system time.
Then magnet -> metadata times: (d) over a direct peer, (e) in a 6-node DHT.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "lt_swarm_peer.py")
PYTHON = sys.executable


def records(path):
    """The JSON objects printed, one per line, in a log (other lines skipped)."""
    for line in open(path).read().splitlines():
        try:
            yield json.loads(line)
        except ValueError:
            continue


def first(path, event):
    return next((record for record in records(path) if record.get("event") == event), None)


def wait_for(process, path, event, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("%s exited early: %s" % (path, open(path).read()[-2000:]))
        record = first(path, event)
        if record is not None:
            return record
        time.sleep(0.05)
    raise RuntimeError("no %s event in %s" % (event, path))


def timed_child(arguments, log):
    """Runs a downloader to completion; returns its CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log, "w") as out:
        status = subprocess.call(arguments, stdout=out, stderr=subprocess.STDOUT, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if status != 0:
        raise RuntimeError("downloader failed (%d): %s" % (status, open(log).read()[-2000:]))
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def write_random(path, size):
    with open(path, "wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 << 20))
            out.write(chunk)
            left -= len(chunk)


def bench_parent(size):
    """BF_BENCH_DIR, else /dev/shm when it has room: a RAM file system keeps disk
    write-back (which comes and goes with whatever else the machine does) out
    of an engine comparison. Both clients write to the same place."""
    if os.environ.get("BF_BENCH_DIR"):
        return os.environ["BF_BENCH_DIR"]
    try:
        stats = os.statvfs("/dev/shm")
        if stats.f_bavail * stats.f_frsize > 3 * size + (512 << 20):
            return "/dev/shm"
    except OSError:
        pass
    return None


def metadata_times(args, work, label, arguments_for):
    """Magnet -> metadata, libtorrent then BitFountain, --runs times, each
    downloader stopped as soon as its metadata is in (only that time is
    measured). `arguments_for(kind, out_dir, state)` gives its command line.
    Returns {kind: [(ms from process start, ms from adding the magnet)]}."""
    times = {"bf": [], "lt": []}
    out_dir = os.path.join(work, "out-" + label)
    state = os.path.join(work, "state-" + label)
    for run in range(args.runs):
        for kind in ("lt", "bf"):
            shutil.rmtree(out_dir, ignore_errors=True)
            shutil.rmtree(state, ignore_errors=True)
            log = os.path.join(work, "%s-%s-%d.log" % (label, kind, run))
            began = time.time()
            process = subprocess.Popen(arguments_for(kind, out_dir, state), stdout=open(log, "w"), stderr=subprocess.STDOUT)
            try:
                record = wait_for(process, log, "metadata", timeout=60)
                total = time.time() - began
            finally:
                if process.poll() is None:
                    process.terminate()
                process.wait(timeout=30)
            times[kind].append((total * 1000, record["seconds"] * 1000))
    shutil.rmtree(out_dir, ignore_errors=True)
    return times


def metadata_through_dht(args, work, torrent, content, content_dir, infohash, start):
    """(e) magnet -> metadata in a 6-node DHT on loopback: five libtorrent nodes and
    one BitFountain node. A libtorrent seed and a BitFountain seed announce there;
    each downloader gets only the bare magnet link and the DHT nodes' addresses.
    Returns {kind: [(ms from process start, ms from adding the magnet)]}."""
    control = os.path.join(work, "dht-control")
    open(control, "w").close()
    dht, dht_log = start([PYTHON, os.path.join(HERE, "lt_dht_swarm.py"), "--nodes", "5", "--control", control,
                          "--duration", "3600"], "lt-dht")
    ports = wait_for(dht, dht_log, "ready", timeout=120)["ports"]
    node, node_log = start([args.bf, "node", "--bind", "127.0.0.1", "--port", "0", "--json",
                            "--state-dir", os.path.join(work, "dht-node")]
                           + [arg for port in ports for arg in ("--bootstrap", "127.0.0.1:%d" % port)], "bf-node")
    node_port = wait_for(node, node_log, "listening")["port"]
    with open(control, "a") as out:
        out.write(json.dumps({"cmd": "add_node", "port": node_port}) + "\n")
    everyone = ports + [node_port]
    bootstrap = [arg for port in everyone for arg in ("--bootstrap", "127.0.0.1:%d" % port)]
    dht_nodes = [arg for port in everyone for arg in ("--dht-node", str(port))]
    bf_seed, bf_log = start([args.bf, "seed", content, "--bind", "127.0.0.1", "--port", "0", "--json",
                             "--state-dir", os.path.join(work, "dht-bf-seed")] + bootstrap, "dht-bf-seed")
    lt_seed, lt_log = start([PYTHON, PEER, "seed", "--torrent", torrent, "--save", content_dir, "--timeout", "3600"]
                            + dht_nodes, "dht-lt-seed")
    wait_for(bf_seed, bf_log, "seeding", timeout=300)
    wait_for(lt_seed, lt_log, "seeding", timeout=300)
    time.sleep(5)  # both announces land (the BitFountain seed retries until one is accepted)

    magnet = "magnet:?xt=urn:btih:%s" % infohash

    def arguments_for(kind, out_dir, state):
        if kind == "lt":
            return [PYTHON, PEER, "get", "--magnet", magnet, "--save", out_dir, "--timeout", "60", "--metadata-only"] + dht_nodes
        return [args.bf, "get", magnet, "-o", out_dir, "--bind", "127.0.0.1", "--port", "0", "--json",
                "--state-dir", state, "--timeout", "60"] + bootstrap
    return metadata_times(args, work, "dht-meta", arguments_for)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bf", required=True, help="the bitfountain binary (release build)")
    parser.add_argument("--size", type=int, default=1 << 30)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bf-bench-swarm-", dir=bench_parent(args.size))
    seeds = []
    try:
        content_dir = os.path.join(work, "content")
        os.makedirs(content_dir)
        content = os.path.join(content_dir, "bench.bin")
        print("== preparing %d MiB of random content in %s" % (args.size >> 20, work), flush=True)
        write_random(content, args.size)
        os.sync()
        torrent = os.path.join(work, "bench.torrent")
        subprocess.check_call([args.bf, "create", content, "-o", torrent, "--node", "127.0.0.1:9"], stdout=subprocess.DEVNULL)
        shutil.copy(torrent, content + ".torrent")
        infohash = subprocess.check_output([PYTHON, "-c", "import libtorrent as lt, sys; print(lt.torrent_info(sys.argv[1]).info_hashes().v1)", torrent]).decode().strip()

        def start(arguments, name):
            log = os.path.join(work, name + ".log")
            process = subprocess.Popen(arguments, stdout=open(log, "w"), stderr=subprocess.STDOUT)
            seeds.append(process)
            return process, log

        bf_seed, bf_log = start([args.bf, "seed", content, "--bind", "127.0.0.1", "--port", "0", "--json",
                                 "--state-dir", os.path.join(work, "bf-seed-state")], "bf-seed")
        bf_port = wait_for(bf_seed, bf_log, "listening")["port"]
        wait_for(bf_seed, bf_log, "seeding", timeout=300)
        lt_seed, lt_log = start([PYTHON, PEER, "seed", "--torrent", torrent, "--save", content_dir, "--timeout", "3600"], "lt-seed")
        wait_for(lt_seed, lt_log, "seeding", timeout=300)
        lt_port = wait_for(lt_seed, lt_log, "listening")["port"]

        results = {"a": [], "b": [], "c": []}
        for run in range(args.runs):
            for scenario in ("b", "a", "c"):
                out_dir = os.path.join(work, "out-%s" % scenario)
                state = os.path.join(work, "state-%s" % scenario)
                shutil.rmtree(out_dir, ignore_errors=True)
                shutil.rmtree(state, ignore_errors=True)
                log = os.path.join(work, "get-%s-%d.log" % (scenario, run))
                if scenario == "b":
                    cpu = timed_child([PYTHON, PEER, "get", "--torrent", torrent, "--save", out_dir,
                                       "--peer", "127.0.0.1:%d" % lt_port, "--timeout", "600"], log)
                else:
                    port = bf_port if scenario == "a" else lt_port
                    cpu = timed_child([args.bf, "get", torrent, "-o", out_dir, "--peer", "127.0.0.1:%d" % port,
                                       "--bind", "127.0.0.1", "--port", "0", "--json", "--state-dir", state,
                                       "--timeout", "600"], log)
                done = first(log, "complete")
                rate = done["rate"] if scenario == "b" else done["bytes"] / done["seconds"]
                results[scenario].append((rate / 1e6, cpu * (1 << 30) / args.size))
                print("run %d (%s): %7.1f MB/s  %5.2f CPU s/GiB" % (run + 1, scenario, rate / 1e6, cpu * (1 << 30) / args.size), flush=True)
                shutil.rmtree(out_dir, ignore_errors=True)

        # (d) magnet -> metadata over a direct peer connection (ut_metadata), each from its own kind of seed.
        magnet = "magnet:?xt=urn:btih:%s" % infohash

        def direct_arguments(kind, out_dir, state):
            if kind == "lt":
                return [PYTHON, PEER, "get", "--magnet", magnet, "--save", out_dir,
                        "--peer", "127.0.0.1:%d" % lt_port, "--timeout", "60", "--metadata-only"]
            return [args.bf, "get", magnet, "-o", out_dir, "--peer", "127.0.0.1:%d" % bf_port,
                    "--bind", "127.0.0.1", "--port", "0", "--json", "--state-dir", state, "--timeout", "3"]
        metadata = metadata_times(args, work, "meta", direct_arguments)

        dht_metadata = metadata_through_dht(args, work, torrent, content, content_dir, infohash, start)

        names = {"a": "(a) BitFountain -> BitFountain", "b": "(b) libtorrent  -> libtorrent ", "c": "(c) libtorrent  -> BitFountain"}
        reference = statistics.median(r for r, _ in results["b"])
        reference_cpu = statistics.median(c for _, c in results["b"])
        print()
        print("%-32s %10s %14s %10s %10s" % ("scenario (median of %d)" % args.runs, "MB/s", "CPU s/GiB", "rate/(b)", "CPU/(b)"))
        for key in ("a", "b", "c"):
            rate = statistics.median(r for r, _ in results[key])
            cpu = statistics.median(c for _, c in results[key])
            print("%-32s %10.1f %14.2f %9.2fx %9.2fx" % (names[key], rate, cpu, rate / reference, cpu / reference_cpu))
        print("target: (a) >= 1.0x (b), goal 1.5x")
        bf_ms = statistics.median(t[1] for t in metadata["bf"])
        lt_ms = statistics.median(t[1] for t in metadata["lt"])
        print()
        print("(d) magnet -> metadata, direct peer (median of %d): BitFountain %.1f ms, libtorrent %.1f ms (%.2fx)"
              % (args.runs, bf_ms, lt_ms, lt_ms / bf_ms))
        for index, label in ((1, "from adding the magnet"), (0, "from process start")):
            bf_ms = statistics.median(t[index] for t in dht_metadata["bf"])
            lt_ms = statistics.median(t[index] for t in dht_metadata["lt"])
            print("(e) magnet -> metadata, 6-node DHT, %-22s BitFountain %7.1f ms, libtorrent %7.1f ms (%.2fx)"
                  % (label + ":", bf_ms, lt_ms, lt_ms / bf_ms))
    finally:
        for process in seeds:
            process.terminate()
        for process in seeds:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
