#!/usr/bin/env python3
"""The programs of the interop matrix (matrix.py): `bitfountain seed`/`get`,
and each stock client at its default settings — libtorrent (lab_libtorrent.py),
Transmission 3.00 (transmission-daemon, driven by transmission-remote) and
aria2 1.36 — plus the KRPC prober that reads a client's routing table."""
import hashlib
import json
import os
import subprocess
import threading
import time

from matrix_lab import DHT_PORT, HERE, PYTHON, CellFailure, json_events, wait_event, wait_until


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


class Libtorrent:
    script = os.path.join(HERE, "lab_libtorrent.py")

    def common(self, cell, host):
        arguments = ["--listen", f"{cell.lab.addr(host)}:{DHT_PORT}", "--bootstrap", cell.boot(),
                     "--timeout", str(cell.timeout + 30), "--log", cell.log("libtorrent-alerts.log")]
        return (arguments + (["--require-encryption"] if cell.require_encryption else [])
                + (["--utp-only"] if cell.utp_only else []))

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
    # Measured at default settings in the lab (bootstrapped from every DHT
    # node): jech/dht calls itself ready (4 nodes that answered it) 16-38 s
    # after start; its announce is done 45-60 s in when its cells run alone,
    # but up to 166 s in the full matrix, where the nodes of cells that have
    # finished are dead and its search waits out their timeouts. A seed cell
    # then waits up to a minute for our seed's next lookup to find and dial it:
    # seed cells took 110-178 s, get cells 51-131 s. Hence 300 s.
    cell_timeout = 300

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
        # Transmission 3.00 reads extra DHT bootstrap nodes, "HOST PORT" a line,
        # from its config dir. All of the lab's DHT nodes, as a user's client
        # has its saved dht.dat and several bootstrap routers: with only one,
        # jech/dht stays "broken" (fewer than 4 nodes that answered it) for
        # minutes, and announces nothing until then.
        with open(os.path.join(config, "dht.bootstrap"), "w") as handle:
            handle.writelines(f"{ip} {DHT_PORT}\n" for ip in cell.world.dht_nodes)
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


PING_LOCK = threading.Lock()


def ping_id(cell, ip):
    with PING_LOCK:  # one fixed identity, so our node keeps at most one entry for the prober
        asked = cell.lab.run("probe", [PYTHON, os.path.join(HERE, "krpc_probe.py"), "ping", ip, str(DHT_PORT),
                                       "--id", PING_ID, "--port", str(PING_PORT)], timeout=15)
    try:
        return json.loads(asked.stdout.strip().splitlines()[-1]).get("id") or None
    except (ValueError, IndexError):
        return None
