#!/usr/bin/env python3
"""uTP benchmark (scripts/bench utp), two parts in one run:

(a) Throughput on loopback: a BitFountain seed and `bitfountain get` over uTP
    (the get dials uTP first; the transport is checked from the seed's UDP
    socket counters) against a libtorrent seed and get with TCP off, uTP only.
    Medians of --runs, and the ratio (target >= 1.0x).
(b) LEDBAT on a shaped lab link (scripts/lab, needs root): a client host behind
    a 20 Mbit/s link with 50 ms delay each way downloads from a BitFountain seed
    over uTP; a few seconds in, a second download over TCP (`bitfountain get
    --no-utp` from a TCP-only seed) starts beside it. Sampled every second from
    nftables counters on the client: bytes over UDP from the uTP seed and over
    TCP from the TCP seed. Prints the TCP flow's share of the link while both
    run (target >= 80 %) and the uTP download's share once TCP is done (target:
    the whole link, >= 80 % of it).

    The link's bottleneck queue matters: LEDBAT backs off only when the queuing
    delay it measures passes its 100 ms target. The lab's default tbf queue holds
    100 ms of data, so a TCP flow can never push the delay uTP sees above the
    target: uTP then backs off only on loss, like TCP, and the two share the link.
    Part (b) therefore runs once per --lab-queue-ms (default 100 and 400: the lab
    default, and a home router's deep buffer), and prints the seed's LEDBAT state
    (BITFOUNTAIN_UTP_TRACE: measured queuing delay and window) beside the queue
    the tbf actually held, once a second.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lt_swarm_bench import PEER, PYTHON, bench_parent, first, timed_child, wait_for, write_random  # noqa: E402

LINK_BITS = 20_000_000


# ------------------------------------------------------------------ (a) loopback


def loopback(args):
    work = tempfile.mkdtemp(prefix="bf-bench-utp-", dir=bench_parent(args.size))
    children = []
    try:
        content_dir = os.path.join(work, "content")
        os.makedirs(content_dir)
        content = os.path.join(content_dir, "bench.bin")
        print("== (a) loopback: preparing %d MiB of random content in %s" % (args.size >> 20, work), flush=True)
        write_random(content, args.size)
        torrent = os.path.join(work, "bench.torrent")
        subprocess.check_call([args.bf, "create", content, "-o", torrent, "--node", "127.0.0.1:9"], stdout=subprocess.DEVNULL)

        def start(arguments, name):
            log = os.path.join(work, name + ".log")
            process = subprocess.Popen(arguments, stdout=open(log, "w"), stderr=subprocess.STDOUT)
            children.append(process)
            return process, log

        seed, log = start([args.bf, "seed", content, "--bind", "127.0.0.1", "--port", "0", "--json", "--no-dht",
                           "--state-dir", os.path.join(work, "seed-bf")], "seed-bf")
        ports = {"bf-utp": wait_for(seed, log, "listening")["port"]}
        wait_for(seed, log, "seeding", timeout=300)
        seed, log = start([PYTHON, PEER, "seed", "--torrent", torrent, "--save", content_dir, "--timeout", "3600",
                           "--transport", "utp"], "seed-lt")
        wait_for(seed, log, "seeding", timeout=300)
        ports["lt-utp"] = wait_for(seed, log, "listening")["port"]

        results = {name: [] for name in ports}
        for run in range(args.runs):
            for name, port in ports.items():
                out_dir = os.path.join(work, "out")
                state = os.path.join(work, "state")
                shutil.rmtree(out_dir, ignore_errors=True)
                shutil.rmtree(state, ignore_errors=True)
                log = os.path.join(work, "get-%s-%d.log" % (name, run))
                peer = "127.0.0.1:%d" % port
                if name == "lt-utp":
                    cpu = timed_child([PYTHON, PEER, "get", "--torrent", torrent, "--save", out_dir, "--peer", peer,
                                       "--timeout", "1800", "--transport", "utp"], log)
                    rate = first(log, "complete")["rate"]
                else:
                    before = udp_datagrams()
                    cpu = timed_child([args.bf, "get", torrent, "-o", out_dir, "--peer", peer, "--bind", "127.0.0.1",
                                       "--port", "0", "--json", "--no-dht", "--state-dir", state, "--timeout", "1800"], log)
                    done = first(log, "complete")
                    rate = done["bytes"] / done["seconds"]
                    datagrams = udp_datagrams() - before
                    # A GiB over uTP is ~800k datagrams; over TCP there would be next to none.
                    if datagrams < args.size // 2048:
                        print("   warning: only %d UDP datagrams: did the get fall back to TCP?" % datagrams)
                per_gib = cpu * (1 << 30) / args.size
                results[name].append((rate / 1e6, per_gib))
                print("run %d %-7s %7.1f MB/s  %5.2f CPU s/GiB (downloader)" % (run + 1, name, rate / 1e6, per_gib), flush=True)
                shutil.rmtree(out_dir, ignore_errors=True)
        medians = {name: statistics.median(r for r, _ in rows) for name, rows in results.items()}
        print("== (a) medians over %d runs (%d MiB, loopback)" % (args.runs, args.size >> 20))
        for name, rows in results.items():
            print("%-7s %7.1f MB/s  %5.2f CPU s/GiB" % (name, medians[name], statistics.median(c for _, c in rows)))
        print("bf-utp / lt-utp: %.2fx (target >= 1.0x)" % (medians["bf-utp"] / medians["lt-utp"]), flush=True)
    finally:
        for child in children:
            child.kill()
            child.wait()
        shutil.rmtree(work, ignore_errors=True)


def udp_datagrams():
    """UDP datagrams received on this host (both loopback ends count)."""
    with open("/proc/net/snmp") as handle:
        rows = [line.split() for line in handle if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("InDatagrams")])


# ------------------------------------------------------------------ (b) shaped lab link


def shaped(args, queue_ms):
    from matrix_lab import PROCESSES, Lab, wait_event
    work = tempfile.mkdtemp(prefix="bf-bench-utp-lab-")
    lab = Lab("host useed\nhost tseed\nhost client rate=20mbit delay=50 queue=%d\n" % queue_ms)
    try:
        utp_seed, tcp_seed, client = lab.addr("useed"), lab.addr("tseed"), lab.addr("client")
        print("== (b) lab: client behind 20 Mbit/s, 50 ms each way, a %d ms bottleneck queue; uTP from %s, TCP from %s"
              % (queue_ms, utp_seed, tcp_seed), flush=True)
        if queue_ms <= 100:
            print("   (a queue of %d ms can never hold LEDBAT's 100 ms target delay: expect uTP to back off on loss"
                  " only, sharing the link with TCP instead of yielding)" % queue_ms)
        flows = {"utp": (utp_seed, args.lab_utp_mib), "tcp": (tcp_seed, args.lab_tcp_mib)}
        magnets = {}
        seed_logs = {}
        for name, (ip, mib) in flows.items():
            content = os.path.join(work, name, "content-%s.bin" % name)
            os.makedirs(os.path.dirname(content))
            write_random(content, mib << 20)
            log = seed_logs[name] = os.path.join(work, "seed-%s.log" % name)
            lab.spawn("useed" if name == "utp" else "tseed",
                      [args.bf, "seed", content, "--bind", ip, "--port", "6881", "--no-dht", "--json",
                       "--state-dir", os.path.join(work, "seed-state-" + name)] + (["--no-utp"] if name == "tcp" else []),
                      log, env=dict(os.environ, BITFOUNTAIN_UTP_TRACE="1") if name == "utp" else None)
            seeding = wait_event(log, "seeding", time.time() + 120)
            if not seeding:
                raise RuntimeError("the %s seed did not start: %s" % (name, log))
            magnets[name] = "magnet:?xt=urn:btih:%s&x.pe=%s:6881" % (seeding["infohash"], ip)
        counters = ("table inet bfbench {\n    chain seen {\n        type filter hook input priority 0;\n"
                    "        ip saddr %s udp sport 6881 counter comment \"utp\"\n"
                    "        ip saddr %s tcp sport 6881 counter comment \"tcp\"\n    }\n}\n" % (utp_seed, tcp_seed))
        subprocess.run(["ip", "netns", "exec", lab.hosts["client"][0], "nft", "-f", "-"], input=counters, text=True,
                       check=True, timeout=20)

        def get(name, extra):
            return lab.spawn("client", [args.bf, "get", magnets[name], "-o", os.path.join(work, "out-" + name),
                                        "--bind", client, "--port", "0", "--no-dht", "--json", "--timeout", "600",
                                        "--state-dir", os.path.join(work, "get-state-" + name)] + extra,
                             os.path.join(work, "get-%s.log" % name))
        samples = []  # (t, utp bytes, tcp bytes, tcp running, tbf backlog bytes)
        started = time.time()
        utp_get = get("utp", [])
        tcp_get = None
        while utp_get.poll() is None and time.time() - started < 600:
            now = time.time() - started
            if tcp_get is None and now >= args.lab_head_start:
                tcp_get = get("tcp", ["--no-utp"])
            utp_bytes, tcp_bytes = read_counters(lab)
            samples.append((now, utp_bytes, tcp_bytes, tcp_get is not None and tcp_get.poll() is None,
                            read_backlog(lab)))
            time.sleep(1.0)
        return report(samples, read_trace(seed_logs["utp"], started), queue_ms)
    finally:
        PROCESSES.stop_all()
        lab.down()
        shutil.rmtree(work, ignore_errors=True)


def read_backlog(lab):
    """Bytes waiting in the client's downlink tbf (the bottleneck queue) right now."""
    shown = lab.run("client", ["tc", "-s", "qdisc", "show", "dev", "ifb-in"], timeout=20).stdout
    match = re.search(r"backlog (\d+)b", shown)
    return int(match.group(1)) if match else 0


def read_trace(log, started):
    """The uTP seed's LEDBAT trace: (t since start, queuing delay ms, cwnd bytes), one a second."""
    rows = []
    pattern = re.compile(r"\[utp\] t=([\d.]+) .*delay_ms=([\d.]+) cwnd=(\d+)")
    with open(log, errors="replace") as handle:
        for line in handle:
            match = pattern.search(line)
            if match:
                rows.append((float(match.group(1)) - started, float(match.group(2)), int(match.group(3))))
    return rows


def read_counters(lab):
    listing = lab.run("client", ["nft", "list", "table", "inet", "bfbench"], timeout=20).stdout
    counts = {}
    for line in listing.splitlines():
        if "counter packets" in line and "comment" in line:
            counts[line.split('comment "')[1].rstrip('"')] = int(line.split("bytes")[1].split()[0])
    return counts.get("utp", 0), counts.get("tcp", 0)


def rate(samples, start, end, index):
    window = [s for s in samples if start <= s[0] <= end]
    if len(window) < 2:
        return None
    return (window[-1][index] - window[0][index]) * 8 / (window[-1][0] - window[0][0])


def report(samples, trace, queue_ms):
    """Prints part (b)'s figures; returns (TCP share while both run, uTP share alone after) in %."""
    both = [s for s in samples if s[3]]
    if len(both) < 6:
        print("(b) the TCP flow ran for under 6 s: no figure (make --lab-tcp-mib larger)")
        return None, None
    # Skip the TCP flow's first 3 s (its slow start) and last second.
    before = [s for s in samples if 2 <= s[0] <= both[0][0]]
    if len(before) >= 3:
        solo = rate(samples, before[0][0], before[-1][0], 1)
        print("(b) uTP alone before TCP starts (%.0f s): %.1f Mbit/s = %.0f %% of the link"
              % (before[-1][0] - before[0][0], solo / 1e6, 100 * solo / LINK_BITS))
    start, end = both[0][0] + 3, both[-1][0] - 1
    tcp, utp = rate(samples, start, end, 2), rate(samples, start, end, 1)
    after = [s for s in samples if s[0] > both[-1][0] + 2]
    alone = rate(samples, after[0][0], after[-1][0], 1) if len(after) >= 4 else None
    print("(b) while both run (%.0f s): TCP %.1f Mbit/s = %.0f %% of the link (target >= 80 %%), uTP %.1f Mbit/s"
          % (end - start, tcp / 1e6, 100 * tcp / LINK_BITS, utp / 1e6))
    if alone is None:
        print("(b) the uTP download ended within 6 s of the TCP flow: no figure for it alone (make --lab-utp-mib larger)")
    else:
        print("(b) uTP alone afterwards (%.0f s): %.1f Mbit/s = %.0f %% of the link (target: the whole link)"
              % (after[-1][0] - after[0][0], alone / 1e6, 100 * alone / LINK_BITS))
    delays = [d for t, d, _ in trace if start <= t <= end]
    if delays:
        print("(b) LEDBAT while both run: measured queuing delay median %.0f ms, max %.0f ms (target 100 ms;"
              " this link's queue holds at most %d ms)" % (statistics.median(delays), max(delays), queue_ms))
    print("(b) per second: s uTP/TCP Mbit/s, tbf queue ms | uTP's measured queuing delay ms, cwnd KiB")

    def traced(t):
        near = [row for row in trace if abs(row[0] - t) <= 0.5]
        return " | %4.0f ms %5.0f KiB" % (near[0][1], near[0][2] / 1024) if near else ""
    for a, b in zip(samples, samples[1:]):
        print("  %3.0f %5.1f/%-5.1f %s q %4.0f ms%s" % (
            b[0], (b[1] - a[1]) * 8e-6 / (b[0] - a[0]), (b[2] - a[2]) * 8e-6 / (b[0] - a[0]),
            "both" if b[3] else "    ", b[4] * 8e3 / LINK_BITS, traced(b[0])))
    sys.stdout.flush()
    return 100 * tcp / LINK_BITS, (100 * alone / LINK_BITS if alone is not None else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bf", required=True, help="the bitfountain binary (release build)")
    parser.add_argument("--size", type=int, default=1 << 30, help="bytes for (a) (default 1 GiB)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-lab", action="store_true", help="skip (b)")
    parser.add_argument("--lab-only", action="store_true", help="skip (a)")
    parser.add_argument("--lab-utp-mib", type=int, default=96)
    parser.add_argument("--lab-tcp-mib", type=int, default=40)
    parser.add_argument("--lab-queue-ms", default="100,400",
                        help="bottleneck queue depths for (b), comma-separated ms (default 100,400: the lab's"
                             " default and a home router's deep buffer)")
    parser.add_argument("--lab-head-start", type=float, default=6.0, help="seconds of uTP alone before TCP starts")
    args = parser.parse_args()
    if not args.lab_only:
        loopback(args)
    if not args.no_lab:
        if os.geteuid() != 0:
            print("(b) skipped: the lab needs root")
        else:
            figures = {int(q): shaped(args, int(q)) for q in args.lab_queue_ms.split(",")}
            print("== (b) summary: queue ms, TCP % of the link while both run (target >= 80), uTP % alone after")
            for queue_ms, (tcp, alone) in figures.items():
                print("%5d ms  TCP %s  uTP alone %s" % (queue_ms, "-" if tcp is None else "%3.0f %%" % tcp,
                                                      "-" if alone is None else "%3.0f %%" % alone))
            print("   A queue shallower than LEDBAT's 100 ms target cannot show yield: the delay uTP measures never"
                  " passes the target, so it backs off only on loss, as TCP does.", flush=True)


if __name__ == "__main__":
    main()
