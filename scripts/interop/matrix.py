#!/usr/bin/env python3
"""The interop matrix: BitFountain against every stock client, on the lab
(scripts/lab), through the DHT only. Needs root (network namespaces).

  matrix.py [--bin PATH] [--clients libtorrent,transmission,aria2]
            [--cells seed,get,seed-enc,get-enc,dht,dht-public] [--jobs N] [--world N]
            [--cell-timeout S] [--size BYTES] [--work DIR] [--json]

Every client runs at its DEFAULT settings except its listen address, its DHT
bootstrap (the lab's bootstrap node) and UPnP/NAT-PMP off; the encryption cells
set the client to require encryption, and libtorrent's DHT cells turn BEP 42
enforcement on. Cells, per client:
  seed      `bitfountain seed` publishes; the client downloads by bare magnet link
  get       the client seeds; `bitfountain get` downloads by bare magnet link
  seed-enc, get-enc   the same with the client requiring encryption
  dht       our DHT node is in the client's routing table under its own ID and
            has answered it (10.0.0.0/8 lab)
  dht-public  the same on non-private addresses (198.18.0.0/15, which exists
            only inside the lab), where BEP 42 applies: the ID the client keeps
            must be the one BEP 42 derives from our external address
Each cell is bounded by --cell-timeout; every file is checked by sha256. Prints
the table (times in seconds) and exits 1 if any cell failed. Logs of every
process stay in the work directory (printed at the end).

The lab: one for the private cells, one for the public ones. Each holds a small
DHT "world": a `bitfountain node` that everyone bootstraps from, --world stock
libtorrent DHT nodes at default settings (they keep the announces and give our
nodes the BEP 42 `ip` votes), one `bitfountain node` for the dht cells, a probe
host, and two hosts per transfer cell.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LAB = os.path.join(REPO, "scripts", "lab")
PYTHON = "/usr/bin/python3"
sys.path.insert(0, HERE)
from bencoding import bdecode  # noqa: E402

CLIENTS = ("libtorrent", "transmission", "aria2")
SHORT = {"libtorrent": "lt", "transmission": "tr", "aria2": "ar"}
CELLS = ("seed", "get", "seed-enc", "get-enc", "dht", "dht-public")
CELL_CODE = {"seed": "a", "get": "b", "seed-enc": "ae", "get-enc": "be", "dht": "c", "dht-public": "c"}
DHT_PORT = 6881

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
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def stop_all(self):
        with self.lock:
            processes, self.running = self.running, []
        for process in processes:
            self.stop(process, grace=1.0)


PROCESSES = Processes()


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


# ------------------------------------------------------------------ a cell's context


class Cell:
    def __init__(self, world, client, kind, args):
        self.world, self.client, self.kind, self.args = world, client, kind, args
        self.lab = world.lab
        code = CELL_CODE[kind] + SHORT[client]
        self.ours_host, self.client_host = code + "bf", code + "cl"
        self.work = os.path.join(args.work, f"{kind}-{client}")
        os.makedirs(self.work, exist_ok=True)
        self.require_encryption = kind.endswith("-enc")
        self.deadline = time.time() + args.cell_timeout
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


# ------------------------------------------------------------------ BitFountain


def bitfountain_seed(cell, content):
    ip = cell.lab.addr(cell.ours_host)
    process = cell.spawn(cell.ours_host, [cell.args.bin, "seed", content, "--bind", ip, "--port", str(DHT_PORT),
                                              "--bootstrap", cell.boot(), "--state-dir", cell.log("bf-state"), "--json"],
                             cell.log("bitfountain-seed.log"))
    seeding = wait_event(cell.log("bitfountain-seed.log"), "seeding", cell.deadline, process)
    if not seeding:
        raise CellFailure("bitfountain seed did not start seeding")
    return seeding["infohash"]


def bitfountain_get(cell, magnet, out):
    ip = cell.lab.addr(cell.ours_host)
    remaining = max(10, int(cell.deadline - time.time()))
    return cell.spawn(cell.ours_host, [cell.args.bin, "get", magnet, "-o", out, "--bind", ip, "--port", str(DHT_PORT),
                                           "--bootstrap", cell.boot(), "--state-dir", cell.log("bf-state"), "--json",
                                           "--timeout", str(remaining)],
                          cell.log("bitfountain-get.log"))


# ------------------------------------------------------------------ clients


class CellFailure(Exception):
    pass


class Libtorrent:
    script = os.path.join(HERE, "lab_libtorrent.py")

    def common(self, cell, host):
        arguments = ["--listen", f"{cell.lab.addr(host)}:{DHT_PORT}", "--bootstrap", cell.boot(),
                     "--timeout", str(cell.args.cell_timeout + 30), "--log", cell.log("libtorrent-alerts.log")]
        return arguments + (["--require-encryption"] if cell.require_encryption else [])

    def make_torrent(self, cell, content, torrent):
        made = subprocess.run([PYTHON, self.script, "make", "--content", content, "--out", torrent],
                              capture_output=True, text=True, timeout=60)
        if made.returncode != 0:
            raise CellFailure(f"libtorrent could not make the torrent: {made.stderr[-300:]}")

    def seed(self, cell, torrent, directory):
        process = cell.spawn(cell.client_host, [PYTHON, self.script, "seed", *self.common(cell, cell.client_host),
                                                    "--torrent", torrent, "--save", directory], cell.log("libtorrent.log"))
        if not wait_event(cell.log("libtorrent.log"), "seeding", cell.deadline, process):
            raise CellFailure("libtorrent did not start seeding")

    def get(self, cell, magnet, out):
        cell.spawn(cell.client_host, [PYTHON, self.script, "get", *self.common(cell, cell.client_host),
                                          "--magnet", magnet, "--save", out], cell.log("libtorrent.log"))

    def start_dht(self, cell, enforce):
        cell.spawn(cell.client_host, [PYTHON, self.script, "dht", *self.common(cell, cell.client_host), "--report", "2"]
                       + (["--enforce-node-id"] if enforce else []), cell.log("libtorrent.log"))

    def table(self, cell, ours_id):
        tables = [event for event in json_events(cell.log("libtorrent.log")) if event.get("event") == "table"]
        return tables[-1]["nodes"] if tables else []


class Transmission:
    def config(self, cell):
        return cell.log("transmission")

    def start(self, cell, download_dir):
        config = self.config(cell)
        os.makedirs(config, exist_ok=True)
        settings = {
            "bind-address-ipv4": cell.lab.addr(cell.client_host),
            "port-forwarding-enabled": False,  # UPnP / NAT-PMP off
            "download-dir": download_dir,
            "incomplete-dir-enabled": False,
        }
        if cell.require_encryption:
            settings["encryption"] = 2
        with open(os.path.join(config, "settings.json"), "w") as handle:
            json.dump(settings, handle)
        # Transmission 3.00 reads extra DHT bootstrap nodes, "HOST PORT" a line, from its config dir.
        with open(os.path.join(config, "dht.bootstrap"), "w") as handle:
            handle.write(f"{cell.world.boot} {DHT_PORT}\n")
        cell.spawn(cell.client_host, ["transmission-daemon", "-f", "-g", config, "--log-debug"],
                       cell.log("transmission.log"))
        if not wait_until(lambda: self.remote(cell, "-l").returncode == 0, cell.deadline, 0.5):
            raise CellFailure("transmission-daemon's RPC never answered")

    def remote(self, cell, *arguments):
        return cell.lab.run(cell.client_host, ["transmission-remote", *arguments], timeout=20)

    def make_torrent(self, cell, content, torrent):
        made = subprocess.run(["transmission-create", "-o", torrent, content], capture_output=True, text=True, timeout=60)
        if made.returncode != 0:
            raise CellFailure(f"transmission-create failed: {made.stdout[-300:]} {made.stderr[-300:]}")

    def seed(self, cell, torrent, directory):
        self.start(cell, directory)
        added = self.remote(cell, "-a", torrent)
        if added.returncode != 0:
            raise CellFailure(f"transmission-remote -a failed: {added.stdout} {added.stderr}")

        def seeding():
            listing = self.remote(cell, "-l").stdout
            return any("100%" in line and ("Seeding" in line or "Idle" in line) for line in listing.splitlines())
        if not wait_until(seeding, cell.deadline, 1.0):
            raise CellFailure(f"Transmission did not start seeding: {self.remote(cell, '-l').stdout}")

    def get(self, cell, magnet, out):
        self.start(cell, out)
        added = self.remote(cell, "-a", magnet)
        if added.returncode != 0:
            raise CellFailure(f"transmission-remote -a failed: {added.stdout} {added.stderr}")

    def start_dht(self, cell, enforce):
        # Looking for one torrent nobody has, as a user's client is: jech/dht
        # confirms nodes (makes them "good") mostly when they answer its lookups.
        self.start(cell, cell.log("downloads"))
        self.remote(cell, "-a", "magnet:?xt=urn:btih:" + os.urandom(20).hex())

    def table(self, cell, ours_id):
        return find_node_table(cell, cell.lab.addr(cell.client_host), 51413, ours_id)


class Aria2:
    def base(self, cell, directory):
        arguments = ["aria2c", "-d", directory, f"--dht-entry-point={cell.boot()}", f"--dht-listen-port={DHT_PORT}",
                     f"--log={cell.log('aria2-debug.log')}", "--log-level=debug", "--console-log-level=notice",
                     "--summary-interval=0", f"--dht-file-path={cell.log('aria2-dht.dat')}"]
        return arguments + (["--bt-require-crypto=true"] if cell.require_encryption else [])

    def make_torrent(self, cell, content, torrent):
        Transmission().make_torrent(cell, content, torrent)  # aria2 makes no torrents

    def seed(self, cell, torrent, directory):
        # aria2 seeds data it has only after checking it (-V); it then seeds until ratio 1.0, its default.
        process = cell.spawn(cell.client_host, [*self.base(cell, directory), "-V", torrent], cell.log("aria2.log"))

        def seeding():
            if process.poll() is not None:
                return "exited"
            try:
                with open(cell.log("aria2-debug.log"), errors="replace") as handle:
                    text = handle.read()
            except FileNotFoundError:
                return None
            # Its choker says so once the check is done and it seeds.
            return "seeding" if "Seeder state" in text else None
        if wait_until(seeding, cell.deadline, 0.5) != "seeding":
            raise CellFailure("aria2 did not start seeding")

    def get(self, cell, magnet, out):
        # --seed-time=0: stop once the download is complete (what happens after it is not under test).
        cell.spawn(cell.client_host, [*self.base(cell, out), "--seed-time=0", magnet], cell.log("aria2.log"))

    def start_dht(self, cell, enforce):
        # aria2 runs its DHT only while a BitTorrent download runs: look for content nobody has.
        magnet = "magnet:?xt=urn:btih:" + os.urandom(20).hex()
        cell.spawn(cell.client_host, [*self.base(cell, cell.log("downloads")), magnet], cell.log("aria2.log"))

    def table(self, cell, ours_id):
        return find_node_table(cell, cell.lab.addr(cell.client_host), DHT_PORT, ours_id)


PROBE_PORTS = {"libtorrent": 6991, "transmission": 6992, "aria2": 6993}  # one per client: cells run at once
PING_PORT = 6990
PING_ID = hashlib.sha1(b"bitfountain interop matrix probe").hexdigest()


def find_node_table(cell, host, port, target):
    """The nodes a client returns for find_node(target), asked from the probe
    host under one fixed identity: the ID farthest from the target (its
    complement), so that the prober, if the client adds it to its table, never
    displaces a node close to the target."""
    farthest = bytes(b ^ 0xFF for b in bytes.fromhex(target)).hex()
    asked = cell.lab.run("probe", [PYTHON, os.path.join(HERE, "krpc_probe.py"), "find-node", host, str(port), target,
                                   "--id", farthest, "--port", str(PROBE_PORTS[cell.client])], timeout=15)
    try:
        return json.loads(asked.stdout.strip().splitlines()[-1]).get("nodes", [])
    except (ValueError, IndexError):
        return []


DRIVERS = {"libtorrent": Libtorrent(), "transmission": Transmission(), "aria2": Aria2()}

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
    KRPC (a bencoded dict, "d") or anything else (uTP). Read by packet_summary."""
    client = cell.lab.addr(cell.client_host)
    rules = f"""table inet bfmatrix {{
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
    listing = cell.lab.run(cell.ours_host, ["nft", "list", "table", "inet", "bfmatrix"], timeout=20).stdout
    counts = {}
    for line in listing.splitlines():
        if "counter packets" in line and "comment" in line:
            counts[line.split('comment "')[1].rstrip('"')] = int(line.split("counter packets")[1].split()[0])
    return (f"{cell.client}→us: {counts.get('client_tcp_syn', '?')} TCP SYN, {counts.get('client_utp', '?')} uTP, "
            f"{counts.get('client_krpc', '?')} KRPC; us→{cell.client}: {counts.get('our_tcp_syn', '?')} TCP SYN")


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
    return time.time() - start


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


PING_LOCK = threading.Lock()


def ping_id(cell, ip):
    with PING_LOCK:  # one fixed identity, so our node keeps at most one entry for the prober
        asked = cell.lab.run("probe", [PYTHON, os.path.join(HERE, "krpc_probe.py"), "ping", ip, str(DHT_PORT),
                                       "--id", PING_ID, "--port", str(PING_PORT)], timeout=15)
    try:
        return json.loads(asked.stdout.strip().splitlines()[-1]).get("id") or None
    except (ValueError, IndexError):
        return None


RUNNERS = {"seed": cell_seed, "get": cell_get, "seed-enc": cell_seed, "get-enc": cell_get,
           "dht": cell_dht, "dht-public": cell_dht}


def run_cell(world, client, kind, args):
    cell = Cell(world, client, kind, args)
    try:
        seconds = RUNNERS[kind](cell)
        return {"client": client, "cell": kind, "ok": True, "seconds": round(seconds, 1), "note": "; ".join(cell.notes),
                "logs": cell.work}
    except CellFailure as failure:
        note = str(failure)
        if kind in ("seed", "get", "seed-enc", "get-enc"):
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

    def __init__(self, args, public, cells):
        self.public = public
        names = ["boot", "ours", "probe"] + [f"w{i}" for i in range(1, args.world + 1)]
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
        work = os.path.join(args.work, "world-public" if public else "world")
        os.makedirs(work, exist_ok=True)
        total = str(args.cell_timeout * (1 + len(cells)) + 120)
        first_world = self.lab.addr("w1")
        self.lab.spawn("boot", [args.bin, "node", "--bind", self.boot, "--port", str(DHT_PORT), "--bootstrap",
                                f"{first_world}:{DHT_PORT}", "--state-dir", os.path.join(work, "boot-state"), "--json",
                                "--stats-interval", "10"], os.path.join(work, "boot.log"))
        for index in range(1, args.world + 1):
            host = f"w{index}"
            self.lab.spawn(host, [PYTHON, os.path.join(HERE, "lab_libtorrent.py"), "dht", "--listen",
                                  f"{self.lab.addr(host)}:{DHT_PORT}", "--bootstrap", f"{self.boot}:{DHT_PORT}",
                                  "--timeout", total, "--report", "10", "--log", os.path.join(work, f"{host}-alerts.log")],
                           os.path.join(work, f"{host}.log"))
        self.lab.spawn("ours", [args.bin, "node", "--bind", self.ours, "--port", str(DHT_PORT), "--bootstrap",
                                f"{self.boot}:{DHT_PORT}", "--state-dir", os.path.join(work, "ours-state"), "--json",
                                "--stats-interval", "10"], os.path.join(work, "ours.log"))
        # The world is ready once the bootstrap node knows most of it.
        wait_until(lambda: any(e.get("event") == "stats" and e.get("nodes", 0) >= min(3, args.world)
                               for e in json_events(os.path.join(work, "boot.log"))), time.time() + 40, 1.0)


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
    parser.add_argument("--cell-timeout", type=int, default=180)
    parser.add_argument("--size", type=int, default=2 * 1024 * 1024)
    parser.add_argument("--world", type=int, default=5, help="stock libtorrent DHT nodes per lab")
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
        plan = [(client, kind) for client in clients for kind in cells]
        private = [(c, k) for c, k in plan if k != "dht-public"]
        public = [(c, k) for c, k in plan if k == "dht-public"]
        world_of = {}
        if private:
            worlds.append(World(args, False, private))
            world_of.update({cell: worlds[-1] for cell in private})
        if public:
            worlds.append(World(args, True, public))
            world_of.update({cell: worlds[-1] for cell in public})
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs or len(plan) or 1) as pool:
            futures = {pool.submit(run_cell, world_of[cell], cell[0], cell[1], args): cell for cell in plan}
            for future in concurrent.futures.as_completed(futures):
                result = future.result()
                results[(result["client"], result["cell"])] = result
                if args.json:
                    print(json.dumps(result), flush=True)
                else:
                    print(f"  {'ok  ' if result['ok'] else 'FAIL'} {result['client']:<13} {result['cell']:<11}"
                          f" {result['seconds'] if result['ok'] else result['note']}", flush=True)
    except KeyboardInterrupt:
        print("matrix: interrupted", file=sys.stderr)
    finally:
        PROCESSES.stop_all()
        for world in worlds:
            world.lab.down()
    print_table(results, clients, cells)
    print(f"logs: {args.work}")
    complete = len(results) == len(clients) * len(cells)
    return 0 if complete and all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
