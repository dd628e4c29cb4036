#!/usr/bin/env python3
"""Peer exchange (BEP 11 ut_pex) with stock clients, on the lab (scripts/lab):
a node that knows only one peer finds the others through PEX, both ways, with
libtorrent 2.0.8 and Transmission 3.00 in every swarm. Needs root.

  pex_lab.py [--bin PATH] [--cells learn-lt,learn-tr,tell-lt,tell-tr]
             [--cell-timeout S] [--size BYTES] [--work DIR]

Nobody has a DHT (our nodes run --no-dht --no-lsd, libtorrent and Transmission
have theirs switched off; LSD could not cross the lab's router anyway), there
is no tracker, and every host is on its own /24: the only way to learn a peer
one was not given is ut_pex. Cells (one host each for ours, the client, the seed):

  learn-lt  `bitfountain get` (bare magnet) is given only a libtorrent leech,
            which was given a Transmission seed. libtorrent's download is
            throttled, so the data is (nearly) only at the seed we were never
            told of: we must learn it from libtorrent's ut_pex and download from it.
  learn-tr  the same with a Transmission leech, to which a libtorrent seed connected.
  tell-lt   a libtorrent leech is given no peer at all; our node dials it and
            the Transmission seed. Our upload is throttled, so libtorrent must
            learn the seed from OUR ut_pex, dial it and download from it.
  tell-tr   the same with a Transmission leech and a libtorrent seed.

The throttles (a rate limit on the stock leech in learn cells, --upload-limit
on our node in tell cells) are the only settings changed beyond the listen
address, UPnP/NAT-PMP off and the DHT off: without them the peer we were given
would serve the whole file in a second and the PEX-learned seed would be
connected but idle, proving nothing about where bytes come from.

Each cell passes only with a sha256-verified copy AND evidence that the
PEX-learned seed supplied at least half the bytes (our nodes: nftables byte
counters on our host plus our `pex: learned` trace; libtorrent: its peer list,
source flag `pex` and per-peer bytes; Transmission: its RPC peer list and
peersFrom.fromPex, and the libtorrent seed's per-peer upload count).
Prints one line per cell, then "pex lab: passed" or exits 1.
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

from matrix_lab import (HERE, PROCESSES, PYTHON, REPO, CellFailure, Lab, Processes, exit_now, infohash_of, json_events,
                        run_concurrently, sha256, wait_until)

CELLS = ("learn-lt", "learn-tr", "tell-lt", "tell-tr")
OUR_PORT = 6881  # ours and libtorrent's
TRANSMISSION_PORT = 51413  # Transmission's default peer port
# Transmission 3.00 sends ut_pex when the peer's extension handshake arrives and
# then every 90 s (peer-msgs.c: parseLtep → sendPex, PEX_INTERVAL_SECS = 90);
# libtorrent on its first tick and then every 60 s; we at most once a minute
# too. The cells arrange for the seed to be connected before the node that must
# learn of it arrives, so the first message carries it: cells take seconds; the
# bound leaves room for one more interval of each, on a busy machine.
DEFAULT_CELL_TIMEOUT = 180
# What a throttled peer may move, in bytes a second: at most a sixth of the
# default 2 MiB file within a cell, so a complete copy shows the seed learned
# through PEX supplied the rest.
THROTTLE = 2000


class Cell:
    def __init__(self, lab, kind, args):
        self.lab, self.kind, self.args = lab, kind, args
        self.code = kind.replace("-", "")
        self.ours, self.client, self.seed = self.code + "bf", self.code + "cl", self.code + "sd"
        self.work = os.path.join(args.work, kind)
        os.makedirs(self.work, exist_ok=True)
        self.deadline = time.time() + args.cell_timeout
        self.processes = []
        self.notes = []

    def spawn(self, host, argv, log, env=None):
        process = self.lab.spawn(host, argv, self.log(log), env=env)
        self.processes.append(process)
        return process

    def log(self, name):
        return os.path.join(self.work, name)

    def addr(self, host):
        return self.lab.addr(host)


# ------------------------------------------------------------------ content


def make_content(cell):
    """The file, its torrent (made by libtorrent) and its sha256, in the seed's directory."""
    directory = cell.log("seed-data")
    os.makedirs(directory, exist_ok=True)
    content = os.path.join(directory, "content.bin")
    with open(content, "wb") as handle:
        handle.write(os.urandom(cell.args.size))
    torrent = cell.log("content.torrent")
    made = cell.lab.run(cell.seed, [PYTHON, os.path.join(HERE, "lab_libtorrent.py"), "make", "--content", content,
                                    "--out", torrent], timeout=60)
    if made.returncode != 0:
        raise CellFailure(f"libtorrent could not make the torrent: {made.stderr[-300:]}")
    return directory, torrent, sha256(content)


# ------------------------------------------------------------------ BitFountain


def bitfountain_get(cell, source, out, peers, extra=()):
    """Our node, with BITFOUNTAIN_DEBUG=1: its trace says which peers PEX taught it and whom it connected to."""
    remaining = max(10, int(cell.deadline - time.time()))
    env = dict(os.environ, BITFOUNTAIN_DEBUG="1")
    argv = [cell.args.bin, "get", source, "-o", out, "--bind", cell.addr(cell.ours), "--port", str(OUR_PORT),
            "--no-dht", "--no-lsd", "--no-port-mapping", "--state-dir", cell.log("bf-state"), "--json",
            "--timeout", str(remaining)]
    for peer in peers:
        argv += ["--peer", peer]
    return cell.spawn(cell.ours, argv + list(extra), "bitfountain.log", env=env)


def trace_lines(cell):
    try:
        with open(cell.log("bitfountain.log"), errors="replace") as handle:
            return [line.strip() for line in handle if line.startswith("[bf] ")]
    except FileNotFoundError:
        return []


def count_bytes_from(cell, host, sources):
    """nftables byte counters on `host`: what each of `sources` (name: host) sent it."""
    rules = "table inet bfpex { chain seen_in { type filter hook input priority 0;\n" + "".join(
        f'ip saddr {cell.addr(host)} counter comment "{name}"\n' for name, host in sources.items()) + "}\n}\n"
    loaded = subprocess.run(["ip", "netns", "exec", cell.lab.hosts[host][0], "nft", "-f", "-"], input=rules,
                            text=True, capture_output=True, timeout=20)
    if loaded.returncode != 0:
        raise CellFailure(f"nft: {loaded.stderr.strip()}")


def seed_cannot_dial_client(cell):
    """Both stock clients hear of each other through our PEX, so either may dial
    the other; when the seed dials first the client never learns anything, and
    the cell would prove nothing about the client. The seed's host drops new
    connections (TCP and uTP alike) it opens to the client: only the client can
    act on what our PEX told it. Replies to the client's own connections pass."""
    rules = ("table inet bfpexseed { chain out { type filter hook output priority 0;\n"
             f"ip daddr {cell.addr(cell.client)} ct state new drop\n" + "}\n}\n")
    loaded = subprocess.run(["ip", "netns", "exec", cell.lab.hosts[cell.seed][0], "nft", "-f", "-"], input=rules,
                            text=True, capture_output=True, timeout=20)
    if loaded.returncode != 0:
        raise CellFailure(f"nft: {loaded.stderr.strip()}")


def bytes_from(cell, host):
    listing = cell.lab.run(host, ["nft", "list", "table", "inet", "bfpex"], timeout=20).stdout
    counts = {}
    for line in listing.splitlines():
        if "counter packets" in line and "comment" in line:
            counts[line.split('comment "')[1].rstrip('"')] = int(line.split(" bytes ")[1].split()[0])
    return counts


# ------------------------------------------------------------------ libtorrent


def libtorrent(cell, host, command, torrent, save, peers=(), download_limit=0, log="libtorrent.log"):
    argv = [PYTHON, os.path.join(HERE, "lab_libtorrent.py"), command, "--listen", f"{cell.addr(host)}:{OUR_PORT}",
            "--no-dht", "--report-peers", "--timeout", str(cell.args.cell_timeout + 30), "--torrent", torrent,
            "--save", save, "--log", cell.log(log.replace(".log", "-alerts.log"))]
    for peer in peers:
        argv += ["--peer", peer]
    if download_limit:
        argv += ["--download-limit", str(download_limit)]
    return cell.spawn(host, argv, log)


def libtorrent_peers(cell, log="libtorrent.log"):
    """Every peer its reports ever listed, by IP, with the most bytes it
    reported each way and whether PEX ever named it: libtorrent closes a
    connection between two seeds once it completes, so the last report alone
    would miss the seed it downloaded from."""
    peers = {}
    for event in json_events(cell.log(log)):
        for peer in event.get("peers", []) if event.get("event") == "peers" else []:
            seen = peers.setdefault(peer["ip"], dict(peer))
            seen["pex"] = seen["pex"] or peer["pex"]
            seen["down"], seen["up"] = max(seen["down"], peer["down"]), max(seen["up"], peer["up"])
    return list(peers.values())


# ------------------------------------------------------------------ Transmission


class Transmission:
    """transmission-daemon in one host, at its defaults but for the listen
    address, UPnP/NAT-PMP and the DHT (off), and a download throttle when asked."""

    def __init__(self, cell, host, download_dir, throttle=False):
        self.cell, self.host = cell, host
        config = cell.log("transmission")
        os.makedirs(config, exist_ok=True)
        settings = {
            "bind-address-ipv4": cell.addr(host),
            "port-forwarding-enabled": False,
            "dht-enabled": False,  # peers must come from PEX only (pex-enabled is on by default)
            "lpd-enabled": False,  # off by default in 3.00 already; said so, for the reader
            "download-dir": download_dir,
            "incomplete-dir-enabled": False,
        }
        if throttle:
            settings.update({"speed-limit-down": THROTTLE // 1000, "speed-limit-down-enabled": True})
        with open(os.path.join(config, "settings.json"), "w") as handle:
            json.dump(settings, handle)
        cell.spawn(host, ["transmission-daemon", "-f", "-g", config, "--log-debug"], "transmission.log")
        if not wait_until(lambda: self.remote("-l").returncode == 0, cell.deadline, 0.5):
            raise CellFailure("transmission-daemon's RPC never answered")

    def remote(self, *arguments):
        return self.cell.lab.run(self.host, ["transmission-remote", *arguments], timeout=20)

    def add(self, torrent):
        added = self.remote("-a", torrent)
        if added.returncode != 0:
            raise CellFailure(f"transmission-remote -a failed: {added.stdout} {added.stderr}")

    def wait_seeding(self):
        def seeding():
            return any("100%" in line and ("Seeding" in line or "Idle" in line)
                       for line in self.remote("-l").stdout.splitlines())
        if not wait_until(seeding, self.cell.deadline, 1.0):
            raise CellFailure(f"Transmission did not start seeding: {self.remote('-l').stdout}")

    def rpc(self, fields):
        """torrent-get of torrent 1 over its RPC (transmission-remote shows no peersFrom)."""
        code = ("import json,sys,urllib.request as u,urllib.error as e\n"
                "url='http://127.0.0.1:9091/transmission/rpc'\n"
                "body=json.dumps({'method':'torrent-get','arguments':{'ids':[1],'fields':json.loads(sys.argv[1])}}).encode()\n"
                "try:\n u.urlopen(u.Request(url,body),timeout=10)\n"
                "except e.HTTPError as x:\n sid=x.headers.get('X-Transmission-Session-Id')\n"
                "print(u.urlopen(u.Request(url,body,{'X-Transmission-Session-Id':sid}),timeout=10).read().decode())\n")
        answer = self.cell.lab.run(self.host, [PYTHON, "-c", code, json.dumps(fields)], timeout=20)
        try:
            return json.loads(answer.stdout)["arguments"]["torrents"][0]
        except (ValueError, KeyError, IndexError):
            return {}


# ------------------------------------------------------------------ cells


def wait_for_connection(cell, predicate, what):
    if not wait_until(predicate, cell.deadline, 0.5):
        raise CellFailure(f"{what} never connected")


def check_we_learned(cell, process, out, expected, given, learned_host, learned_port):
    """Our get completed, sha256 verified, its trace shows `learned` came from
    PEX and was connected to, and it sent at least half the file."""
    path = os.path.join(out, "content.bin")
    if not wait_until(lambda: process.poll() is not None, cell.deadline, 0.5):
        raise CellFailure("bitfountain get did not finish in time")
    if process.returncode != 0 or sha256(path) != expected:
        raise CellFailure(f"bitfountain get exited {process.returncode}; sha256 matches: {sha256(path) == expected}")
    learned = f"{cell.addr(learned_host)}:{learned_port}"
    traces = trace_lines(cell)
    if not any(line.startswith("[bf] pex: learned") and learned in line for line in traces):
        raise CellFailure(f"our trace shows no PEX message naming {learned}")
    if not any(line.startswith(f"[bf] connected to {learned}") for line in traces):
        raise CellFailure(f"we never connected to {learned}, which PEX named")
    counts = bytes_from(cell, cell.ours)
    if counts.get("seed", 0) < cell.args.size // 2:
        raise CellFailure(f"only {counts.get('seed', 0)} bytes came from {learned} (from {given}: {counts.get('given')})")
    cell.notes.append(f"{counts['seed']} B from the PEX-learned seed, {counts.get('given', 0)} B from the given peer")


def cell_learn_lt(cell):
    """Transmission seeds; a throttled libtorrent leech dials it; our get knows only libtorrent."""
    directory, torrent, expected = make_content(cell)
    seed_cannot_dial_client(cell)
    seed = Transmission(cell, cell.seed, directory)
    seed.add(torrent)
    seed.wait_seeding()
    libtorrent(cell, cell.client, "get", torrent, cell.log("client-out"),
               peers=[f"{cell.addr(cell.seed)}:{TRANSMISSION_PORT}"], download_limit=THROTTLE)
    wait_for_connection(cell, lambda: any(p["ip"] == cell.addr(cell.seed) for p in libtorrent_peers(cell)),
                        "libtorrent and the Transmission seed")
    count_bytes_from(cell, cell.ours, {"seed": cell.seed, "given": cell.client})
    start = time.time()
    given = f"{cell.addr(cell.client)}:{OUR_PORT}"
    process = bitfountain_get(cell, f"magnet:?xt=urn:btih:{infohash_of(torrent)}", cell.log("bf-out"), [given])
    check_we_learned(cell, process, cell.log("bf-out"), expected, given, cell.seed, TRANSMISSION_PORT)
    return time.time() - start


def cell_learn_tr(cell):
    """A throttled Transmission leech; a libtorrent seed dials it; our get knows only Transmission."""
    directory, torrent, expected = make_content(cell)
    leech = Transmission(cell, cell.client, cell.log("client-out"), throttle=True)
    leech.add(torrent)
    libtorrent(cell, cell.seed, "seed", torrent, directory, peers=[f"{cell.addr(cell.client)}:{TRANSMISSION_PORT}"])
    # The seed dialled Transmission, which knows where it listens only from its
    # BEP 10 `p` (until then its RPC shows the connection's source port): PEX needs the listen port.
    wait_for_connection(cell, lambda: any(p.get("address") == cell.addr(cell.seed) and p.get("port") == OUR_PORT
                                          for p in leech.rpc(["peers"]).get("peers", [])),
                        "Transmission and the libtorrent seed")
    count_bytes_from(cell, cell.ours, {"seed": cell.seed, "given": cell.client})
    start = time.time()
    given = f"{cell.addr(cell.client)}:{TRANSMISSION_PORT}"
    process = bitfountain_get(cell, f"magnet:?xt=urn:btih:{infohash_of(torrent)}", cell.log("bf-out"), [given])
    check_we_learned(cell, process, cell.log("bf-out"), expected, given, cell.seed, OUR_PORT)
    return time.time() - start


def cell_tell_lt(cell):
    """A Transmission seed and a libtorrent leech that knows no one; our throttled node dials both."""
    directory, torrent, expected = make_content(cell)
    seed = Transmission(cell, cell.seed, directory)
    seed.add(torrent)
    seed.wait_seeding()
    out = cell.log("client-out")
    client = libtorrent(cell, cell.client, "get", torrent, out)
    count_bytes_from(cell, cell.client, {"seed": cell.seed})
    start = time.time()
    bitfountain_get(cell, torrent, cell.log("bf-out"),
                    [f"{cell.addr(cell.seed)}:{TRANSMISSION_PORT}", f"{cell.addr(cell.client)}:{OUR_PORT}"],
                    extra=["--seed-after", "--upload-limit", str(THROTTLE)])
    if not wait_until(lambda: client.poll() is not None, cell.deadline, 0.5) or client.returncode != 0:
        raise CellFailure(f"libtorrent did not complete (peers: {libtorrent_peers(cell)})")
    elapsed = time.time() - start
    if sha256(os.path.join(out, "content.bin")) != expected:
        raise CellFailure("libtorrent's copy does not match (sha256)")
    from_seed = [p for p in libtorrent_peers(cell) if p["ip"] == cell.addr(cell.seed)]
    if not from_seed or not from_seed[0]["pex"] or from_seed[0]["incoming"]:
        raise CellFailure(f"libtorrent did not dial the seed from PEX: {libtorrent_peers(cell)}")
    check_client_got_from_seed(cell)
    return elapsed


def check_client_got_from_seed(cell):
    """At least half the file reached the stock client from the seed (its
    per-peer counters miss a seed that delivered between two reports and was
    then dropped as redundant, so nftables counts on its host)."""
    received = bytes_from(cell, cell.client).get("seed", 0)
    if received < cell.args.size // 2:
        raise CellFailure(f"the client got only {received} bytes from the PEX-learned seed")
    cell.notes.append(f"{received} B reached the client from the seed it learned through our PEX")


def cell_tell_tr(cell):
    """A libtorrent seed and a Transmission leech that knows no one; our throttled node dials both."""
    directory, torrent, expected = make_content(cell)
    seed_cannot_dial_client(cell)
    libtorrent(cell, cell.seed, "seed", torrent, directory, log="seed.log")
    if not wait_until(lambda: any(e.get("event") == "seeding" for e in json_events(cell.log("seed.log"))),
                      cell.deadline, 0.5):
        raise CellFailure("the libtorrent seed did not start")
    out = cell.log("client-out")
    leech = Transmission(cell, cell.client, out)
    leech.add(torrent)
    count_bytes_from(cell, cell.client, {"seed": cell.seed})
    start = time.time()
    bitfountain_get(cell, torrent, cell.log("bf-out"),
                    [f"{cell.addr(cell.seed)}:{OUR_PORT}", f"{cell.addr(cell.client)}:{TRANSMISSION_PORT}"],
                    extra=["--seed-after", "--upload-limit", str(THROTTLE)])
    seen = {}

    def complete():
        state = leech.rpc(["percentDone", "peers", "peersFrom"])
        if state.get("peersFrom", {}).get("fromPex"):
            seen["fromPex"] = state["peersFrom"]["fromPex"]
        if any(p.get("address") == cell.addr(cell.seed) for p in state.get("peers", [])):
            seen["seed"] = True
        return state.get("percentDone") == 1
    if not wait_until(complete, cell.deadline, 0.5):
        raise CellFailure(f"Transmission did not complete ({seen}; {leech.remote('-t', '1', '-pi').stdout[-500:]})")
    elapsed = time.time() - start
    if not wait_until(lambda: sha256(os.path.join(out, "content.bin")) == expected, time.time() + 10, 0.5):
        raise CellFailure("Transmission's copy does not match (sha256)")
    if not seen.get("fromPex") or not seen.get("seed"):
        raise CellFailure(f"Transmission never listed the seed as a PEX peer: {seen}")
    check_client_got_from_seed(cell)
    cell.notes.append(f"Transmission's peersFrom.fromPex = {seen['fromPex']}")
    return elapsed


RUNNERS = {"learn-lt": cell_learn_lt, "learn-tr": cell_learn_tr, "tell-lt": cell_tell_lt, "tell-tr": cell_tell_tr}


def run_cell(lab, kind, args):
    cell = Cell(lab, kind, args)
    try:
        seconds = RUNNERS[kind](cell)
        return {"cell": kind, "ok": True, "seconds": round(seconds, 1), "note": "; ".join(cell.notes), "logs": cell.work}
    except CellFailure as failure:
        return {"cell": kind, "ok": False, "seconds": None, "note": str(failure), "logs": cell.work}
    except Exception as error:  # a harness error is a failed cell too, never a silent pass
        return {"cell": kind, "ok": False, "seconds": None, "note": f"harness: {error!r}", "logs": cell.work}
    finally:
        for process in cell.processes:
            Processes.stop(process)


def topology(cells):
    """Three hosts a cell, each on its own /24. In tell cells our node's
    downlink is slow (100 kbit/s: 2 MiB would take it ~170 s), so it is still
    downloading, and still connected to the seed, when it tells the client:
    like every client, we advertise only peers we are connected to, and we drop
    a seed once we are one too."""
    lines = []
    for kind in cells:
        code = kind.replace("-", "")
        lines.append(f"host {code}bf" + (" down=100kbit" if kind.startswith("tell") else ""))
        lines += [f"host {code}cl", f"host {code}sd"]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug", "bitfountain"))
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--cell-timeout", type=int, default=DEFAULT_CELL_TIMEOUT)
    parser.add_argument("--size", type=int, default=2 * 1024 * 1024)
    parser.add_argument("--work", help="directory for content and logs (default: a new one in /tmp)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("pex lab: the lab needs root (network namespaces); run it as root, as CI does", file=sys.stderr)
        return 2
    args.bin = os.path.abspath(args.bin)
    if not os.access(args.bin, os.X_OK):
        print(f"pex lab: no bitfountain binary at {args.bin} (build first, or --bin)", file=sys.stderr)
        return 2
    cells = [c for c in args.cells.split(",") if c]
    for name in cells:
        if name not in CELLS:
            parser.error(f"unknown cell {name}")
    missing = [tool for tool in ("ip", "nft", "transmission-daemon", "transmission-remote") if shutil.which(tool) is None]
    if missing:
        print(f"pex lab: {' '.join(missing)} missing: run scripts/setup", file=sys.stderr)
        return 2
    args.work = args.work or tempfile.mkdtemp(prefix="bf-pex-")
    os.makedirs(args.work, exist_ok=True)

    def shutdown(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, shutdown)
    results, lab = [], None
    try:
        lab = Lab(topology(cells))

        def report(result):
            results.append(result)
            status = "ok  " if result["ok"] else "FAIL"
            seconds = f"{result['seconds']:.1f} s" if result["ok"] else ""
            print(f"  {status} {result['cell']:<9} {seconds:>8}  {result['note']}  [{result['logs']}]", flush=True)
        run_concurrently(lambda kind: run_cell(lab, kind, args), cells, report)
    except KeyboardInterrupt:
        print("pex lab: interrupted", file=sys.stderr)
    finally:
        PROCESSES.stop_all()
        if lab is not None:
            lab.down()
    passed = len(results) == len(cells) and all(r["ok"] for r in results)
    print(f"pex lab: {'passed' if passed else 'FAILED'} ({sum(r['ok'] for r in results)} of {len(cells)} cells); logs: {args.work}")
    return 0 if passed else 1


if __name__ == "__main__":
    exit_now(main())
