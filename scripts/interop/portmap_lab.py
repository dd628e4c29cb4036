#!/usr/bin/env python3
"""Port mapping in the lab: `bitfountain seed` behind a home router that runs
miniupnpd (UPnP IGD, NAT-PMP and PCP) maps its ports there and becomes
reachable from outside with no other help: a downloader on the open network,
which cannot itself be dialled (its incoming TCP is dropped), completes by
magnet link over the lab's DHT. The mapping must exist while the seed runs and
be gone once it exited.

    portmap_lab.py --bin .build/debug/bitfountain --work DIR [--protocol pcp|upnp]

`--protocol upnp` switches NAT-PMP/PCP off in miniupnpd, so that the seed's
fallback to UPnP IGD is what maps. Needs root (network namespaces). Exits 0
when every check passed; prints what it saw either way.

miniupnpd refuses to forward on a reserved WAN address (10/8, 198.18/15 and
every other special block: "Port forwarding is impossible"), so the home's
WAN and the hosts outside sit on 11.0.N.0/24: ordinary unicast space which,
inside the lab's namespaces (no route out), reaches nothing real.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from matrix_lab import PROCESSES, Lab, json_events, sha256, wait_event, wait_until  # noqa: E402


def random_content(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(os.urandom(size))
    return sha256(path)

DHT_PORT = 6881
MINIUPNPD = "/usr/sbin/miniupnpd"
TOPOLOGY = """host boot net=11.0.1.0/24
home house net=11.0.2.0/24 lan=192.168.2.0/24
host seeder home=house
host getter net=11.0.3.0/24
"""

# The chains miniupnpd fills (its defaults: table "filter", chains below),
# hooked into forwarding and NAT as Debian's nft_init.sh does, but with an
# accepting forward policy: the lab's home router forwards everything else.
NFT_TABLES = """table inet filter {
    chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }
    chain miniupnpd { }
    chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
    chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
    chain prerouting_miniupnpd { }
    chain postrouting_miniupnpd { }
}
"""


def miniupnpd_config(path, lan_dev, natpmp, lease_file):
    with open(path, "w") as handle:
        handle.write(f"""ext_ifname=wan
listening_ip={lan_dev}
http_port=5555
enable_natpmp={"yes" if natpmp else "no"}
enable_upnp=yes
secure_mode=yes
system_uptime=yes
notify_interval=60
clean_ruleset_interval=600
lease_file={lease_file}
uuid=3a7c2d7e-6f1b-4d59-9a1e-0b5f0c2a9e11
allow 1024-65535 192.168.0.0/16 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
""")


def mapped_ports(lab, record=None):
    """The destination ports miniupnpd's DNAT rules forward, by protocol."""
    listing = lab.run("house", ["nft", "list", "chain", "inet", "filter", "prerouting_miniupnpd"], timeout=20).stdout
    if record:
        with open(record, "a") as handle:
            handle.write(listing + "\n")
    # miniupnpd's rules match the IP header's protocol byte: `@nh,72,8 0x6 th dport 6881 dnat ...`.
    found = set()
    for line in listing.splitlines():
        rule = re.search(r"@nh,72,8 (0x6|0x11) th dport (\d+) dnat", line)
        if rule:
            found.add(("tcp" if rule.group(1) == "0x6" else "udp", int(rule.group(2))))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--protocol", choices=["pcp", "upnp"], default="pcp")
    parser.add_argument("--size", type=int, default=3 << 20)
    parser.add_argument("--timeout", type=int, default=150)
    parser.add_argument("--seed-arg", action="append", default=[],
                        help="an extra argument for the seed (--seed-arg=--no-port-mapping: the control, which must fail)")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failures = []
    lab = Lab(TOPOLOGY)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        deadline = time.time() + args.timeout
        boot, getter, seeder = lab.addr("boot"), lab.addr("getter"), lab.addr("seeder")
        subprocess.run(["ip", "netns", "exec", lab.hosts["house"][0], "nft", "-f", "-"], input=NFT_TABLES, text=True,
                       check=True, capture_output=True, timeout=20)
        config = os.path.join(args.work, "miniupnpd.conf")
        miniupnpd_config(config, "br0", natpmp=args.protocol == "pcp", lease_file=os.path.join(args.work, "leases"))
        # -d: in the foreground (a child we stop by pid), logging to stderr.
        lab.spawn("house", [MINIUPNPD, "-d", "-f", config, "-P", os.path.join(args.work, "miniupnpd.pid")],
                  os.path.join(args.work, "miniupnpd.log"))
        # The downloader cannot be dialled, over TCP or uTP (a ST_SYN, first
        # byte 0x41): only its own connections count. (With uTP left open the
        # seed, finding the downloader's announce first, sometimes dialled it.)
        subprocess.run(["ip", "netns", "exec", lab.hosts["getter"][0], "nft", "-f", "-"], text=True, check=True,
                       capture_output=True, timeout=20, input=f"""table inet nodial {{
    chain input {{ type filter hook input priority 0;
        tcp flags & (syn | ack) == syn drop
        udp dport {DHT_PORT} @th,64,8 == 0x41 drop
    }}
}}
""")
        # On the seed's host: connections the downloader opened (a TCP SYN or a
        # uTP ST_SYN, first byte 0x41): they can only have come in through the mapping.
        subprocess.run(["ip", "netns", "exec", lab.hosts["seeder"][0], "nft", "-f", "-"], text=True, check=True,
                       capture_output=True, timeout=20, input=f"""table inet seen {{
    chain input {{ type filter hook input priority 0;
        ip saddr {getter} tcp flags & (syn | ack) == syn counter
        ip saddr {getter} udp dport {DHT_PORT} @th,64,8 == 0x41 counter
    }}
}}
""")
        boot_log = os.path.join(args.work, "boot.log")
        lab.spawn("boot", [args.bin, "node", "--bind", boot, "--port", str(DHT_PORT), "--state-dir",
                           os.path.join(args.work, "boot-state"), "--json", "--bootstrap", f"{getter}:{DHT_PORT}"], boot_log)
        content = os.path.join(args.work, "seed", "content.bin")
        expected = random_content(content, args.size)
        seed_log = os.path.join(args.work, "seed.log")
        seed = lab.spawn("seeder", [args.bin, "seed", content, "--bind", seeder, "--port", str(DHT_PORT), "--bootstrap",
                                    f"{boot}:{DHT_PORT}", "--state-dir", os.path.join(args.work, "seed-state"), "--json",
                                    *args.seed_arg],
                         seed_log)
        seeding = wait_event(seed_log, "seeding", deadline, seed)
        if not seeding:
            raise SystemExit(f"portmap: the seed did not start: {open(seed_log).read()[-2000:]}")
        wanted = {("tcp", DHT_PORT), ("udp", DHT_PORT)}
        granted = wait_until(lambda: wanted <= mapped_ports(lab), time.time() + 30, 0.5)
        mapped_ports(lab, record=os.path.join(args.work, "rules.txt"))
        events = [e for e in json_events(seed_log) if e.get("event") == "port_mapping"]
        print(f"portmap: the seed's port_mapping events: {events}")
        if not granted:
            failures.append(f"the router holds {mapped_ports(lab)}, not {wanted}")
        if not any(e.get("external_address") == lab.addr("house") for e in events):
            failures.append(f"the seed did not report the router's external address {lab.addr('house')}")
        if args.protocol == "upnp" and not any(e.get("protocol") == "UPnP IGD" for e in events):
            failures.append("the seed did not fall back to UPnP IGD")
        out = os.path.join(args.work, "out")
        os.makedirs(out, exist_ok=True)
        start = time.time()
        get_log = os.path.join(args.work, "get.log")
        get = lab.spawn("getter", [args.bin, "get", f"magnet:?xt=urn:btih:{seeding['infohash']}", "-o", out, "--bind", getter,
                                   "--port", str(DHT_PORT), "--bootstrap", f"{boot}:{DHT_PORT}", "--state-dir",
                                   os.path.join(args.work, "get-state"), "--json", "--no-port-mapping",
                                   "--timeout", str(max(10, int(deadline - time.time())))], get_log)
        try:
            get.wait(max(10, deadline - time.time()) + 10)
        except subprocess.TimeoutExpired:
            PROCESSES.stop(get)
        if sha256(os.path.join(out, "content.bin")) != expected:
            failures.append(f"the downloader outside did not complete (exit {get.returncode}): {open(get_log).read()[-1500:]}")
        else:
            print(f"portmap: the downloader outside completed in {time.time() - start:.1f} s")
        listing = lab.run("seeder", ["nft", "list", "table", "inet", "seen"], timeout=20).stdout
        dialled_in = sum(int(n) for n in re.findall(r"counter packets (\d+)", listing))
        print(f"portmap: connection attempts from the downloader that reached the seed: {dialled_in}")
        if dialled_in == 0:
            failures.append("the downloader never reached the seed by itself (the seed must have dialled it)")
        # At exit the seed deletes its mappings.
        PROCESSES.stop(seed, grace=10)
        if not wait_until(lambda: not (wanted & mapped_ports(lab)), time.time() + 10, 0.5):
            failures.append(f"the mappings outlived the seed: {mapped_ports(lab)}")
    finally:
        PROCESSES.stop_all()
        lab.down()
    for failure in failures:
        print(f"portmap: FAILED: {failure}")
    print("portmap: " + ("passed" if not failures else f"{len(failures)} check(s) failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
