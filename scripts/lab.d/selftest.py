#!/usr/bin/env python3
"""The lab checks itself: builds a lab with a home NAT and shaped links, measures
what the README promises, tears it down and checks that nothing is left.
Prints one line per check; exits 1 if any failed. Run by `scripts/lab selftest`.
"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(os.path.dirname(HERE), "lab")
PROBE = os.path.join(HERE, "probe.py")
PYTHON = "/usr/bin/python3"
TOPOLOGY = """
host server
host far delay=40 rate=8mbit loss=2
home house
host laptop home=house
host phone home=house up=4mbit queue=300
"""
failures = []


def check(name, ok, detail=""):
    print(f"  {'ok  ' if ok else 'FAIL'} {name} {detail}", flush=True)
    if not ok:
        failures.append(name)


def lab(*arguments, timeout=60):
    return subprocess.run([LAB, *arguments], capture_output=True, text=True, timeout=timeout)


def probe(lab_id, host, *arguments, timeout=60):
    done = lab("exec", "--lab", lab_id, host, PYTHON, PROBE, *arguments, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, (json.loads(lines[-1]) if lines else {})


def main():
    # SIGTERM (a test runner's timeout) unwinds through the `finally` below, which
    # stops the probes and removes the lab; Python's default would end at once and leave both.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    made = subprocess.run([LAB, "up", "--owner", str(os.getpid()), "-"], input=TOPOLOGY, capture_output=True, text=True,
                          timeout=120)
    if made.returncode != 0:
        print(f"lab up failed: {made.stderr}")
        return 1
    lab_id = made.stdout.split()[-1]
    servers = []
    try:
        addr = {line.split()[0]: line.split()[2] for line in lab("hosts", "--lab", lab_id).stdout.splitlines()}
        for host in ("server", "far"):
            servers.append(subprocess.Popen(["ip", "netns", "exec", f"bflab-{lab_id}-{host}", PYTHON, PROBE, "serve",
                                             "--bind", addr[host], "--port", "7000", "--timeout", "60"],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)
        status, seen = probe(lab_id, "laptop", "who", addr["server"], "7000")
        check("a home host reaches the server, seen as its home's WAN address", seen.get("seen_as") == addr["house"],
              f"(seen as {seen.get('seen_as')}, WAN {addr['house']})")
        status, _ = probe(lab_id, "server", "reach", addr["laptop"], "7000")
        check("nothing reaches into a home LAN from outside", status != 0)
        status, result = probe(lab_id, "server", "reach", "192.0.2.1", "80")
        check("nothing leaves the lab", status != 0 and "unreachable" in result.get("unreachable", ""),
              f"({result.get('unreachable')})")
        _, rtt = probe(lab_id, "server", "rtt", addr["far"], "7000", "30")
        median = rtt.get("median_ms") or 0
        check("delay=40 gives an 80 ms round trip", 75 <= median <= 95, f"({median} ms)")
        _, sent = probe(lab_id, "server", "send", addr["far"], "7000", "8")
        check("TCP runs CUBIC", sent.get("congestion_control") == "cubic", f"({sent.get('congestion_control')})")
        check("rate=8mbit with 2% loss stays under 8 Mbit/s", 0 < sent.get("mbit_per_s", 0) <= 8.4,
              f"({sent.get('mbit_per_s')} Mbit/s)")
        _, sent = probe(lab_id, "phone", "send", addr["server"], "7000", "4")
        check("up=4mbit from a home LAN host", 3.0 <= sent.get("mbit_per_s", 0) <= 4.2, f"({sent.get('mbit_per_s')} Mbit/s)")
        shaper = subprocess.run(["tc", "-n", f"bflab-{lab_id}-house", "qdisc", "show", "dev", "ifb-p2"],
                                capture_output=True, text=True, timeout=20).stdout
        check("queue=300 gives the rate limiter a 300 ms queue", " lat 300ms" in shaper, f"({shaper.strip()})")
        rules = lab("exec", "--lab", lab_id, "far", "nft", "list", "ruleset").stdout
        dropped = [int(word) for line in rules.splitlines() if "counter packets" in line
                   for word in [line.split("counter packets")[1].split()[0]]]
        check("loss=2 drops packets, counted", sum(dropped) > 0, f"({sum(dropped)} dropped on far's side)")
    finally:
        for server in servers:
            server.terminate()
            try:
                server.wait(3)
            except subprocess.TimeoutExpired:  # SIGTERM may be blocked in what started us (a test runner)
                server.kill()
                server.wait(5)
        lab("down", lab_id, timeout=120)
    left = [line for line in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines()
            if f"bflab-{lab_id}-" in line]
    check("down removes every namespace", not left, " ".join(left))
    check("down removes the lab's state", not os.path.exists(f"/run/bflab/{lab_id}"))
    print(f"{'all checks passed' if not failures else f'{len(failures)} checks failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
