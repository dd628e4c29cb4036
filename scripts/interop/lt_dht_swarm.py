#!/usr/bin/env python3
"""A small libtorrent DHT on loopback, driven by a control file.

Starts N libtorrent sessions on 127.0.0.1 (settings from DESIGN §6: explicit
listen address, no /24 restrictions, no rate-limit bans, no LSD/UPnP/NAT-PMP,
TCP only), introduces them to each other and waits for their routing tables.
Then it follows JSON commands appended to --control, one per line:

  {"cmd": "add_node", "port": P}             every session: add_dht_node(127.0.0.1:P)
  {"cmd": "tables"}                          print each session's routing-table endpoints
  {"cmd": "lookup", "infohash": HEX}         dht_get_peers on every session, every second
  {"cmd": "seed"}                            session 0 seeds a new trackerless torrent
                                             (its file goes in the control file's directory)
  {"cmd": "sample", "port": P}               dht_sample_infohashes to 127.0.0.1:P
  {"cmd": "quit"}

Everything it reports is one JSON object per line on stdout ("ready",
"tables", "peers", "seeding", "samples", "error"). It exits after --duration
seconds whatever happens.
"""
import argparse
import json
import os
import socket
import struct
import sys
import time

import libtorrent as lt


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def make_session(alerts=True):
    """A libtorrent session with its DHT on 127.0.0.1 (also used by lt_dht_bench.py,
    without alerts: logging every DHT packet as an alert would slow it down)."""
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_block_ratelimit": 1000000,
        "dht_block_timeout": 1,
        # The default (8,000 bytes/s) makes libtorrent drop replies after a few lookups.
        "dht_upload_rate_limit": 1 << 30,
        "allow_multiple_connections_per_ip": True,
        "dht_bootstrap_nodes": "",
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "alert_mask": lt.alert.category_t.all_categories if alerts else 0,
    }
    return lt.session(settings)


def endpoints(session):
    """Routing-table nodes as "ip:port" strings (from the saved DHT state)."""
    state = session.save_state()
    nodes = state.get(b"dht state", {}).get(b"nodes", [])
    out = []
    for raw in nodes:
        if len(raw) == 6:
            out.append("%s:%d" % (socket.inet_ntoa(raw[:4]), struct.unpack(">H", raw[4:])[0]))
    return out


def table_size(session):
    session.post_dht_stats()
    deadline = time.time() + 2
    while time.time() < deadline:
        for alert in session.pop_alerts():
            if isinstance(alert, lt.dht_stats_alert):
                return sum(bucket["num_nodes"] for bucket in alert.routing_table)
        time.sleep(0.05)
    return 0


def start_joined(count, stop_at):
    """Starts `count` sessions that know each other as DHT nodes and waits
    (until `stop_at`) for every routing table to hold at least two of them.
    Returns the sessions and their ports."""
    sessions = [make_session() for _ in range(count)]
    time.sleep(0.3)
    ports = [session.listen_port() for session in sessions]
    for session in sessions:
        for port in ports:
            if port != session.listen_port():
                session.add_dht_node(("127.0.0.1", port))
    while time.time() < stop_at:
        if all(table_size(session) >= min(2, count - 1) for session in sessions):
            break
        time.sleep(0.2)
    return sessions, ports


def seed(session, workdir):
    path = os.path.join(workdir, "content.bin")
    with open(path, "wb") as handle:
        handle.write(os.urandom(256 * 1024))
    storage = lt.file_storage()
    lt.add_files(storage, path)
    torrent = lt.create_torrent(storage)
    lt.set_piece_hashes(torrent, workdir)
    info = lt.torrent_info(torrent.generate())
    session.add_torrent({"ti": info, "save_path": workdir})
    return str(info.info_hash())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--control", required=True)
    parser.add_argument("--duration", type=float, default=120)
    args = parser.parse_args()
    stop_at = time.time() + args.duration
    # What `seed` writes goes beside the control file, in the caller's
    # directory: the caller removes it, also when it kills us.
    workdir = os.path.dirname(os.path.abspath(args.control))

    sessions, ports = start_joined(args.nodes, stop_at)
    emit(event="ready", ports=ports)

    lookups = []
    position = 0
    seen_peers = {}
    while time.time() < stop_at:
        if os.path.exists(args.control):
            with open(args.control) as handle:
                handle.seek(position)
                lines = handle.readlines()
                position = handle.tell()
            for line in lines:
                line = line.strip()
                if not line:
                    continue
                command = json.loads(line)
                name = command.get("cmd")
                if name == "quit":
                    return
                if name == "add_node":
                    for session in sessions:
                        session.add_dht_node(("127.0.0.1", int(command["port"])))
                elif name == "tables":
                    emit(event="tables", tables=[endpoints(session) for session in sessions])
                elif name == "lookup":
                    lookups.append(lt.sha1_hash(bytes.fromhex(command["infohash"])))
                elif name == "seed":
                    infohash = seed(sessions[0], workdir)
                    emit(event="seeding", infohash=infohash, port=ports[0])
                elif name == "sample":
                    sessions[0].dht_sample_infohashes(("127.0.0.1", int(command["port"])), lt.sha1_hash(bytes(20)))
                else:
                    emit(event="error", message="unknown command %r" % name)
        for infohash in lookups:
            for session in sessions:
                session.dht_get_peers(infohash)
        deadline = time.time() + 1.0
        while time.time() < deadline:
            for index, session in enumerate(sessions):
                for alert in session.pop_alerts():
                    if isinstance(alert, lt.dht_get_peers_reply_alert):
                        peers = sorted("%s:%d" % (ip, port) for ip, port in alert.peers())
                        key = (index, str(alert.info_hash), tuple(peers))
                        if peers and key not in seen_peers:
                            seen_peers[key] = True
                            emit(event="peers", session=index, infohash=str(alert.info_hash), peers=peers)
                    elif isinstance(alert, lt.dht_sample_infohashes_alert):
                        samples = alert.samples() if callable(alert.samples) else alert.samples
                        interval = alert.interval
                        if hasattr(interval, "total_seconds"):
                            interval = int(interval.total_seconds())
                        emit(event="samples", endpoint="%s:%d" % tuple(alert.endpoint), num=alert.num_infohashes,
                             interval=interval, samples=[str(sample) for sample in samples])
            time.sleep(0.05)


if __name__ == "__main__":
    main()
