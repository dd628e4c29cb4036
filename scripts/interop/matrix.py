#!/usr/bin/env python3
"""The interop matrix: BitFountain against every stock client, on the lab
(scripts/lab), through the DHT only. Needs root (network namespaces).

  matrix.py [--bin PATH] [--clients libtorrent,transmission,aria2]
            [--cells seed,get,seed-enc,get-enc,seed-utp,get-utp,dht,dht-public] [--jobs N] [--world N]
            [--cell-timeout S] [--size BYTES] [--work DIR] [--json]

Every client runs at its DEFAULT settings except its listen address, its DHT
bootstrap (the lab's bootstrap node; Transmission, which reads a list, all of
the lab's DHT nodes) and UPnP/NAT-PMP off; the encryption cells
set the client to require encryption, and libtorrent's DHT cells turn BEP 42
enforcement on. Cells, per client:
  seed      `bitfountain seed` publishes; the client downloads by bare magnet link
  get       the client seeds; `bitfountain get` downloads by bare magnet link
  seed-enc, get-enc   the same with the client requiring encryption
  seed-utp, get-utp   the same over uTP only (BEP 29): libtorrent with its TCP
            switched off both ways; Transmission (no such setting) with TCP
            between the two hosts dropped by nftables on our host. The cell checks
            that uTP carried the transfer. Clients without uTP (aria2) have none.
  dht       our DHT node is in the client's routing table under its own ID and
            has answered it (10.0.0.0/8 lab)
  dht-public  the same on non-private addresses (198.18.0.0/15, which exists
            only inside the lab), where BEP 42 applies: the ID the client keeps
            must be the one BEP 42 derives from our external address
Each cell is bounded by --cell-timeout (default: 180 s, or a client's own
measured bound: Transmission's DHT is slow to call itself ready); every file is
checked by sha256. Prints the table (times in seconds) and exits 1 if any cell failed. Logs of every
process stay in the work directory (printed at the end).

The lab: one for the transfer cells, one for the dht cells, one for the public
ones. Each holds a small DHT "world": a `bitfountain node` that everyone bootstraps from, --world stock
libtorrent DHT nodes at default settings (they keep the announces and give our
nodes the BEP 42 `ip` votes), one `bitfountain node` for the dht cells, a probe
host, and two hosts per transfer cell.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from matrix_clients import DRIVERS, bitfountain_get, bitfountain_seed, ping_id
from matrix_lab import (DHT_PORT, HERE, PROCESSES, PYTHON, REPO, CellFailure, Lab, Processes, bep42_valid, exit_now,
                        infohash_of, json_events, run_concurrently, sha256, wait_until)

CLIENTS = ("libtorrent", "transmission", "aria2")
SHORT = {"libtorrent": "lt", "transmission": "tr", "aria2": "ar"}
CELLS = ("seed", "get", "seed-enc", "get-enc", "seed-utp", "get-utp", "dht", "dht-public")
CELL_CODE = {"seed": "a", "get": "b", "seed-enc": "ae", "get-enc": "be", "seed-utp": "au", "get-utp": "bu",
             "dht": "c", "dht-public": "c"}
# Clients that speak uTP; the others have no uTP cells.
UTP_CLIENTS = ("libtorrent", "transmission")


def applies(client, kind):
    return not kind.endswith("-utp") or client in UTP_CLIENTS

# ------------------------------------------------------------------ a cell's context

DEFAULT_CELL_TIMEOUT = 180
# Transmission 3.00 announces on the DHT only once it knows more than 8 nodes (World.stock_nodes).
TRANSMISSION_LEAST_DHT_NODES = 9


def cell_timeout(args, client):
    """--cell-timeout if given; else the client's own bound (a driver's
    `cell_timeout`, for a client measured to be slower at its defaults), else
    DEFAULT_CELL_TIMEOUT."""
    if args.cell_timeout:
        return args.cell_timeout
    return getattr(DRIVERS[client], "cell_timeout", DEFAULT_CELL_TIMEOUT)


class Cell:
    def __init__(self, world, client, kind, args):
        self.world, self.client, self.kind, self.args = world, client, kind, args
        self.lab = world.lab
        code = CELL_CODE[kind] + SHORT[client]
        self.ours_host, self.client_host = code + "bf", code + "cl"
        self.work = os.path.join(args.work, f"{kind}-{client}")
        os.makedirs(self.work, exist_ok=True)
        self.require_encryption = kind.endswith("-enc")
        self.utp_only = kind.endswith("-utp")
        self.timeout = cell_timeout(args, client)
        self.deadline = time.time() + self.timeout
        self.notes = []
        self.processes = []

    def spawn(self, host, argv, log):
        process = self.lab.spawn(host, argv, log)
        self.processes.append(process)
        return process

    def log(self, name):
        return os.path.join(self.work, name)

    def boot(self):
        return f"{self.world.boot}:{DHT_PORT}"


# ------------------------------------------------------------------ cells


def random_content(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(os.urandom(size))
    return sha256(path)


def wait_for_file(cell, path, expected, process_logs):
    def verified():
        return sha256(path) == expected
    return wait_until(verified, cell.deadline, 0.5)


def count_packets(cell):
    """Counters on our host for what passes between it and the client: TCP
    connection attempts each way, and what the client sends to our UDP port —
    KRPC (a bencoded dict, "d") or anything else (uTP). Read by packet_summary.
    A uTP cell also drops every TCP packet between the two hosts (both ways), so
    only uTP can carry the transfer whatever the client prefers."""
    client = cell.lab.addr(cell.client_host)
    drop_tcp = f"""
    chain no_tcp_in {{ type filter hook input priority -10;
        ip saddr {client} meta l4proto tcp counter drop comment "tcp_dropped_in"
    }}
    chain no_tcp_out {{ type filter hook output priority -10;
        ip daddr {client} meta l4proto tcp counter drop comment "tcp_dropped_out"
    }}""" if cell.utp_only else ""
    rules = f"""table inet bfmatrix {{{drop_tcp}
    chain seen_in {{ type filter hook input priority 0;
        ip saddr {client} tcp flags & (syn | ack) == syn counter comment "client_tcp_syn"
        ip saddr {client} udp dport {DHT_PORT} @th,64,8 != 0x64 counter comment "client_utp"
        ip saddr {client} udp dport {DHT_PORT} @th,64,8 == 0x64 counter comment "client_krpc"
    }}
    chain seen_out {{ type filter hook output priority 0;
        ip daddr {client} tcp flags & (syn | ack) == syn counter comment "our_tcp_syn"
    }}
}}
"""
    subprocess.run(["ip", "netns", "exec", cell.lab.hosts[cell.ours_host][0], "nft", "-f", "-"], input=rules, text=True,
                   capture_output=True, timeout=20)


def packet_summary(cell):
    counts = packet_counts(cell)
    return (f"{cell.client}→us: {counts.get('client_tcp_syn', '?')} TCP SYN, {counts.get('client_utp', '?')} uTP, "
            f"{counts.get('client_krpc', '?')} KRPC; us→{cell.client}: {counts.get('our_tcp_syn', '?')} TCP SYN")


def packet_counts(cell):
    listing = cell.lab.run(cell.ours_host, ["nft", "list", "table", "inet", "bfmatrix"], timeout=20).stdout
    counts = {}
    for line in listing.splitlines():
        if "counter packets" in line and "comment" in line:
            counts[line.split('comment "')[1].rstrip('"')] = int(line.split("counter packets")[1].split()[0])
    return counts


def check_utp_carried(cell):
    """A uTP cell passes only if uTP packets came from the client (the transfer
    cannot have gone over TCP: it is dropped); notes how many."""
    if not cell.utp_only:
        return
    counts = packet_counts(cell)
    if counts.get("client_utp", 0) == 0:
        raise CellFailure("no uTP packet came from the client")
    cell.notes.append(f"{counts['client_utp']} uTP packets from {cell.client}, "
                      f"{counts.get('tcp_dropped_in', 0) + counts.get('tcp_dropped_out', 0)} TCP packets dropped")


def cell_seed(cell):
    """`bitfountain seed` publishes; the client downloads by bare magnet link."""
    content = cell.log("seed/content.bin")
    expected = random_content(content, cell.args.size)
    count_packets(cell)
    infohash = bitfountain_seed(cell, content)
    magnet = f"magnet:?xt=urn:btih:{infohash}"
    out = cell.log("client-out")
    os.makedirs(out, exist_ok=True)
    start = time.time()
    DRIVERS[cell.client].get(cell, magnet, out)
    if not wait_for_file(cell, os.path.join(out, "content.bin"), expected, []):
        raise CellFailure(f"{cell.client} did not download a verified copy in time")
    elapsed = time.time() - start
    check_utp_carried(cell)
    return elapsed


def cell_get(cell):
    """The client seeds; `bitfountain get` downloads by bare magnet link."""
    directory = cell.log("client-seed")
    content = os.path.join(directory, "content.bin")
    expected = random_content(content, cell.args.size)
    torrent = cell.log("content.torrent")
    driver = DRIVERS[cell.client]
    count_packets(cell)
    driver.make_torrent(cell, content, torrent)
    infohash = infohash_of(torrent)
    driver.seed(cell, torrent, directory)
    out = cell.log("bf-out")
    start = time.time()
    process = bitfountain_get(cell, f"magnet:?xt=urn:btih:{infohash}", out)
    path = os.path.join(out, "content.bin")
    if not wait_until(lambda: process.poll() is not None or sha256(path) == expected, cell.deadline, 0.5):
        raise CellFailure("bitfountain get did not finish in time")
    elapsed = time.time() - start
    if process.wait(30) != 0:
        raise CellFailure(f"bitfountain get exited {process.returncode}")
    if sha256(path) != expected:
        raise CellFailure("bitfountain get's file does not match (sha256)")
    check_utp_carried(cell)
    return elapsed


def cell_dht(cell):
    """Our node is in the client's routing table under the ID it has now (and,
    on public addresses, that ID is BEP 42's for our external address)."""
    driver = DRIVERS[cell.client]
    ours = cell.world.ours
    start = time.time()
    driver.start_dht(cell, enforce=cell.client == "libtorrent")
    state = {}

    def present():
        ours_id = ping_id(cell, ours)
        if not ours_id:
            return None
        state["ours_id"] = ours_id
        table = driver.table(cell, ours_id)
        with open(cell.log("tables.log"), "a") as trace:  # what the client kept, poll by poll, for diagnosis
            trace.write(json.dumps({"t": round(time.time() - start, 1), "ours_id": ours_id, "table": table}) + "\n")
        for node_id, ip, port in table:
            if ip == ours and port == DHT_PORT:
                state["kept_id"] = node_id
                if node_id == ours_id:
                    return True
        return None
    found = wait_until(present, cell.deadline, 2.0)
    if not found:
        if "kept_id" in state:
            raise CellFailure(f"the client keeps our node under {state['kept_id']}, not its ID {state.get('ours_id')}")
        raise CellFailure(f"our node {ours}:{DHT_PORT} never appeared in {cell.client}'s routing table")
    if cell.world.public:
        if not bep42_valid(state["ours_id"], ours):
            raise CellFailure(f"our ID {state['ours_id']} does not satisfy BEP 42 for {ours}")
        cell.notes.append(f"BEP 42 ID {state['ours_id'][:8]}… for {ours}")
    return time.time() - start


RUNNERS = {"seed": cell_seed, "get": cell_get, "seed-enc": cell_seed, "get-enc": cell_get,
           "seed-utp": cell_seed, "get-utp": cell_get, "dht": cell_dht, "dht-public": cell_dht}


def run_cell(world, client, kind, args):
    cell = Cell(world, client, kind, args)
    try:
        seconds = RUNNERS[kind](cell)
        return {"client": client, "cell": kind, "ok": True, "seconds": round(seconds, 1), "note": "; ".join(cell.notes),
                "logs": cell.work}
    except CellFailure as failure:
        note = str(failure)
        if not kind.startswith("dht"):
            note += f" ({packet_summary(cell)})"
        return {"client": client, "cell": kind, "ok": False, "seconds": None, "note": note, "logs": cell.work}
    except Exception as error:  # a harness error is a failed cell too, never a silent pass
        return {"client": client, "cell": kind, "ok": False, "seconds": None, "note": f"harness: {error!r}",
                "logs": cell.work}
    finally:
        for process in cell.processes:
            Processes.stop(process)


# ------------------------------------------------------------------ worlds


class World:
    """A lab with its DHT: the bootstrap node, stock libtorrent nodes, our node for the dht cells."""

    def __init__(self, args, label, public, cells):
        self.public = public
        stock = self.stock_nodes(args.world, cells)
        names = ["boot", "ours", "probe"] + [f"w{i}" for i in range(1, stock + 1)]
        for client, kind in cells:
            code = CELL_CODE[kind] + SHORT[client]
            names += [code + "cl"] if kind.startswith("dht") else [code + "bf", code + "cl"]
        lines = []
        for index, name in enumerate(names, start=1):
            net = f"198.{18 + index // 256}.{index % 256}.0/24" if public else f"10.0.{index}.0/24"
            lines.append(f"host {name} net={net}")
        self.lab = Lab("\n".join(lines) + "\n")
        self.boot = self.lab.addr("boot")
        self.ours = self.lab.addr("ours")
        # Every DHT node of the world (bootstrap, stock, ours), for a client that takes several bootstrap nodes.
        self.dht_nodes = [self.boot, self.ours] + [self.lab.addr(f"w{i}") for i in range(1, stock + 1)]
        work = os.path.join(args.work, f"world-{label}")
        os.makedirs(work, exist_ok=True)
        total = str(max([cell_timeout(args, c) for c, _ in cells] + [DEFAULT_CELL_TIMEOUT]) * (1 + len(cells)) + 120)
        first_world = self.lab.addr("w1")
        self.lab.spawn("boot", [args.bin, "node", "--bind", self.boot, "--port", str(DHT_PORT), "--bootstrap",
                                f"{first_world}:{DHT_PORT}", "--state-dir", os.path.join(work, "boot-state"), "--json",
                                "--stats-interval", "10"], os.path.join(work, "boot.log"))
        for index in range(1, stock + 1):
            host = f"w{index}"
            self.lab.spawn(host, [PYTHON, os.path.join(HERE, "lab_libtorrent.py"), "dht", "--listen",
                                  f"{self.lab.addr(host)}:{DHT_PORT}", "--bootstrap", f"{self.boot}:{DHT_PORT}",
                                  "--timeout", total, "--report", "10", "--log", os.path.join(work, f"{host}-alerts.log")],
                           os.path.join(work, f"{host}.log"))
        self.lab.spawn("ours", [args.bin, "node", "--bind", self.ours, "--port", str(DHT_PORT), "--bootstrap",
                                f"{self.boot}:{DHT_PORT}", "--state-dir", os.path.join(work, "ours-state"), "--json",
                                "--stats-interval", "10"], os.path.join(work, "ours.log"))
        # The world is ready once the bootstrap node knows most of it.
        wait_until(lambda: any(e.get("event") == "stats" and e.get("nodes", 0) >= min(3, stock)
                               for e in json_events(os.path.join(work, "boot.log"))), time.time() + 40, 1.0)

    @staticmethod
    def stock_nodes(asked, cells):
        """Stock libtorrent DHT nodes for a world: `asked`, or more where a
        Transmission transfer cell needs them. Transmission 3.00 calls its DHT
        broken, and announces nothing, until it knows more than 8 nodes (at
        least 4 of them answering: tr-dht.c, `good + dubious <= 8`). A transfer
        world offers it the bootstrap node, ours, the stock nodes and one node
        of ours per cell, so a cell run alone (`--cells get`) needs 6 stock nodes."""
        if not any(client == "transmission" and not kind.startswith("dht") for client, kind in cells):
            return asked
        return max(asked, TRANSMISSION_LEAST_DHT_NODES - 2 - len(cells))


# ------------------------------------------------------------------ output


def print_table(results, clients, cells):
    width = max(len(c) for c in cells) + 2
    print("\ninterop matrix (seconds to a verified download / to our node in the table; FAIL otherwise)")
    print(f"{'client':<14}" + "".join(f"{c:>{width}}" for c in cells))
    for client in clients:
        row = f"{client:<14}"
        for kind in cells:
            result = results.get((client, kind))
            text = "-" if result is None else (f"{result['seconds']:.1f}" if result["ok"] else "FAIL")
            row += f"{text:>{width}}"
        print(row)
    failures = [r for r in results.values() if not r["ok"]]
    for result in sorted(results.values(), key=lambda r: (r["client"], r["cell"])):
        if result["note"]:
            status = "ok  " if result["ok"] else "FAIL"
            print(f"  {status} {result['client']} {result['cell']}: {result['note']}  [{result['logs']}]")
    print(f"\n{len(results) - len(failures)} of {len(results)} cells passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug", "bitfountain"))
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--jobs", type=int, default=0, help="cells at once (default: all; they are mostly waiting)")
    parser.add_argument("--cell-timeout", type=int, default=0,
                        help=f"seconds per cell (default: {DEFAULT_CELL_TIMEOUT}, or the client's measured bound)")
    parser.add_argument("--size", type=int, default=2 * 1024 * 1024)
    parser.add_argument("--world", type=int, default=5,
                        help="stock libtorrent DHT nodes per lab (more where Transmission needs them: World.stock_nodes)")
    parser.add_argument("--work", help="directory for content and logs (default: a new one in /tmp)")
    parser.add_argument("--json", action="store_true", help="also print one JSON object per cell")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("matrix: the lab needs root (network namespaces); run it as root, as CI does", file=sys.stderr)
        return 2
    args.bin = os.path.abspath(args.bin)
    if not os.access(args.bin, os.X_OK):
        print(f"matrix: no bitfountain binary at {args.bin} (build first, or --bin)", file=sys.stderr)
        return 2
    clients = [c for c in args.clients.split(",") if c]
    cells = [c for c in args.cells.split(",") if c]
    for name in clients:
        if name not in CLIENTS:
            parser.error(f"unknown client {name}")
    for name in cells:
        if name not in CELLS:
            parser.error(f"unknown cell {name}")
    # Transmission's torrent maker serves the aria2 cells too (aria2 makes none).
    tools = ["ip", "nft", "transmission-create"] + (["transmission-daemon", "transmission-remote"]
                                                    if "transmission" in clients else []) + (["aria2c"] if "aria2" in clients else [])
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        print(f"matrix: {' '.join(missing)} missing: run scripts/setup", file=sys.stderr)
        return 2
    args.work = args.work or tempfile.mkdtemp(prefix="bf-matrix-")
    os.makedirs(args.work, exist_ok=True)

    worlds = []

    def shutdown(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, shutdown)
    results = {}
    try:
        plan = [(client, kind) for client in clients for kind in cells if applies(client, kind)]
        # Three worlds. The dht cells get small ones of their own: in the world
        # of the transfer cells (30-odd nodes) a client's k=8 buckets fill with
        # other nodes, and whether ours is among them is the luck of its lookups.
        groups = {"transfer": (False, [(c, k) for c, k in plan if not k.startswith("dht")]),
                  "dht": (False, [(c, k) for c, k in plan if k == "dht"]),
                  "dht-public": (True, [(c, k) for c, k in plan if k == "dht-public"])}
        world_of = {}
        for name, (public, members) in groups.items():
            if members:
                worlds.append(World(args, name, public, members))
                world_of.update({cell: worlds[-1] for cell in members})
        def report(result):
            results[(result["client"], result["cell"])] = result
            if args.json:
                print(json.dumps(result), flush=True)
            else:
                print(f"  {'ok  ' if result['ok'] else 'FAIL'} {result['client']:<13} {result['cell']:<11}"
                      f" {result['seconds'] if result['ok'] else result['note']}", flush=True)
        run_concurrently(lambda cell: run_cell(world_of[cell], cell[0], cell[1], args), plan, report, args.jobs)
    except KeyboardInterrupt:
        print("matrix: interrupted", file=sys.stderr)
    finally:
        PROCESSES.stop_all()
        for world in worlds:
            world.lab.down()
    print_table(results, clients, cells)
    print(f"logs: {args.work}")
    complete = len(results) == len([1 for client in clients for kind in cells if applies(client, kind)])
    return 0 if complete and all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    exit_now(main())
