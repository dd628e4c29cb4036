#!/usr/bin/env python3
"""libtorrent 2.0.8 as a stock client in the lab (scripts/lab): DEFAULT settings
except its listen address, its DHT bootstrap (a node in the lab) and UPnP/NAT-PMP
off — unlike lt_swarm_peer.py, which switches libtorrent's defenses off for
loopback. Run it inside a lab host's namespace. JSON lines on stdout.

  lab_libtorrent.py dht  --listen IP:PORT --bootstrap IP:PORT [--enforce-node-id]
      a DHT node only; prints {"event":"table","nodes":[[id_hex, ip, port],…]}
      every --report seconds (its live routing table, dht_live_nodes).
  lab_libtorrent.py seed --listen … --bootstrap … --torrent T --save DIR [--require-encryption] [--utp-only]
      seeds; {"event":"seeding"} once its data is checked.
  lab_libtorrent.py get  --listen … --bootstrap … (--magnet M | --torrent T) --save DIR [--require-encryption]
      downloads; {"event":"complete","seconds":…} when every piece is verified
      (exit 0), {"event":"timeout",…} otherwise (exit 1).
  seed and get also take, for the PEX lab (pex_lab.py): --no-dht (no DHT, no
  LSD: peers come only from --peer, incoming connections and PEX), --peer IP:PORT
  (repeatable: dialled once the torrent is added), --download-limit BYTES/s, and
  --report-peers (prints {"event":"peers","peers":[{ip, port, pex, incoming,
  seed, down, up}]} every second: its connected peers, whether PEX told it of
  each, and the bytes each sent it and it sent each). Any command also takes
  --peer-log: every peer's protocol log goes to --log too (e.g. HOLEPUNCH
  messages in and out, as holepunch_lab.py reads them).
  lab_libtorrent.py make --content PATH --out T
      a trackerless v1 torrent made by libtorrent's own creator.
Every command stops after --timeout seconds.
"""
import argparse
import json
import os
import sys
import time
import warnings

import libtorrent as lt


def emit(**fields):
    print(json.dumps(fields), flush=True)


def make_session(args):
    """Defaults, but for what a lab needs: the address to listen on, where the
    DHT bootstraps from (a router, as dht.libtorrent.org is by default), and no
    UPnP/NAT-PMP (no gateway to ask in the lab)."""
    settings = {
        "listen_interfaces": args.listen,
        "dht_bootstrap_nodes": args.bootstrap or "",
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
        | lt.alert.category_t.dht_notification | lt.alert.category_t.peer_notification
        | lt.alert.category_t.connect_notification,
    }
    if args.require_encryption:
        # pe_forced both ways: plaintext peers are refused in and out.
        settings["out_enc_policy"] = lt.enc_policy.forced
        settings["in_enc_policy"] = lt.enc_policy.forced
    if args.utp_only:
        # The matrix's uTP cells: libtorrent tries uTP first anyway; this makes TCP no way out.
        settings["enable_outgoing_tcp"] = False
        settings["enable_incoming_tcp"] = False
    if args.no_dht:
        # The PEX lab: with no DHT (and no LSD, which could not cross the lab's
        # router anyway) the only way to learn a peer it was not given is ut_pex.
        settings["enable_dht"] = False
        settings["enable_lsd"] = False
    if args.peer_log:
        settings["alert_mask"] |= lt.alert.category_t.peer_log_notification
    if args.download_limit:
        settings["download_rate_limit"] = args.download_limit
    if args.enforce_node_id:
        # BEP 42 on: nodes whose ID does not match their (non-local) address stay out of the table.
        settings["dht_enforce_node_id"] = True
    return lt.session(settings)


def log_alerts(session, log):
    for alert in session.pop_alerts():
        log.write(f"{time.time():.3f} {type(alert).__name__}: {alert.message()}\n")
        if isinstance(alert, lt.dht_live_nodes_alert):
            emit(event="table", node_id=str(alert.node_id),
                 nodes=[[str(node["nid"]), node["endpoint"][0], node["endpoint"][1]] for node in alert.nodes])
    log.flush()


def cmd_dht(args, session, log):
    warnings.simplefilter("ignore", DeprecationWarning)  # dht_state() is the one way to its node ID from Python
    deadline = time.time() + args.timeout
    next_report = time.time() + args.report
    while time.time() < deadline:
        time.sleep(0.2)
        if time.time() >= next_report:
            next_report = time.time() + args.report
            # One ID per listen socket ("node-id": 20-byte ID + socket address); the
            # live table is asked for by that ID.
            for entry in session.dht_state().get(b"node-id", []):
                session.dht_live_nodes(lt.sha1_hash(entry[:20]))
        log_alerts(session, log)
    return 0


def connect_peers(args, handle):
    for peer in args.peer:
        host, port = peer.rsplit(":", 1)
        handle.connect_peer((host, int(port)))


class PeerReport:
    """With --report-peers, the connected peers once a second (and on demand)."""

    def __init__(self, args, handle):
        self.enabled, self.handle, self.next = args.report_peers, handle, 0.0

    def emit(self, force=False):
        if not self.enabled or (not force and time.time() < self.next):
            return
        self.next = time.time() + 1.0
        emit(event="peers", peers=[{"ip": peer.ip[0], "port": peer.ip[1], "pex": bool(peer.source & lt.peer_info.pex),
                                    "incoming": not bool(peer.flags & lt.peer_info.outgoing_connection),
                                    "seed": bool(peer.flags & lt.peer_info.seed), "down": peer.total_download,
                                    "up": peer.total_upload}
                                   for peer in self.handle.get_peer_info()])


def cmd_seed(args, session, log):
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.save
    handle = session.add_torrent(params)  # libtorrent checks the data it finds, as a user's client would
    report = PeerReport(args, handle)
    deadline = time.time() + args.timeout
    seeding = False
    while time.time() < deadline:
        if not seeding and handle.status().is_seeding:
            seeding = True
            emit(event="seeding", infohash=str(params.ti.info_hashes().v1))
            connect_peers(args, handle)  # a seed dials its peers once its data is checked
        log_alerts(session, log)
        report.emit()
        time.sleep(0.2)
    return 0 if seeding else 1


def wait_for_dht(session, deadline, nodes=4):
    """A user adds a magnet link to a client that is already on the DHT; a
    magnet added in the session's first instants is announced into an empty
    routing table and, in libtorrent, not again for 15 minutes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # status() is the only Python view of the count
        while time.time() < deadline and session.status().dht_nodes < nodes:
            time.sleep(0.2)


def cmd_get(args, session, log):
    if args.torrent:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(args.torrent)
    else:
        params = lt.parse_magnet_uri(args.magnet)
    params.save_path = args.save
    if not args.no_dht:
        wait_for_dht(session, time.time() + min(30, args.timeout / 4))
    start = time.time()
    handle = session.add_torrent(params)
    connect_peers(args, handle)
    report = PeerReport(args, handle)
    deadline = start + args.timeout
    while time.time() < deadline:
        status = handle.status()
        if status.is_seeding:
            report.emit(force=True)  # who it got the data from, before it exits
            emit(event="complete", seconds=round(time.time() - start, 3), peers=status.num_peers)
            return 0
        log_alerts(session, log)
        report.emit()
        time.sleep(0.1)
    status = handle.status()
    emit(event="timeout", progress=status.progress, peers=status.num_peers, has_metadata=status.has_metadata)
    return 1


def cmd_make(args):
    storage = lt.file_storage()
    lt.add_files(storage, args.content)
    creator = lt.create_torrent(storage, 0, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(creator, os.path.dirname(os.path.abspath(args.content)))
    with open(args.out, "wb") as out:
        out.write(lt.bencode(creator.generate()))
    emit(event="made", infohash=str(lt.torrent_info(args.out).info_hashes().v1))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("dht", "seed", "get"):
        command = sub.add_parser(name)
        command.add_argument("--listen", required=True, help="IP:PORT")
        command.add_argument("--bootstrap", help="IP:PORT of the lab's DHT bootstrap node (required unless --no-dht)")
        command.add_argument("--require-encryption", action="store_true")
        command.add_argument("--enforce-node-id", action="store_true")
        command.add_argument("--utp-only", action="store_true", help="no TCP in or out: peers over uTP only")
        command.add_argument("--timeout", type=float, default=300)
        command.add_argument("--log", default=os.devnull, help="file for every alert")
        command.add_argument("--no-dht", action="store_true", help="no DHT and no LSD (the PEX lab)")
        command.add_argument("--peer", action="append", default=[], help="IP:PORT to dial (repeatable)")
        command.add_argument("--download-limit", type=int, default=0, help="bytes per second (0: none, the default)")
        command.add_argument("--report-peers", action="store_true")
        command.add_argument("--peer-log", action="store_true",
                             help="also every peer's protocol log (peer_log alerts) in --log: messages in and out")
        if name == "dht":
            command.add_argument("--report", type=float, default=2)
        if name == "seed":
            command.add_argument("--torrent", required=True)
            command.add_argument("--save", required=True)
        if name == "get":
            source = command.add_mutually_exclusive_group(required=True)
            source.add_argument("--magnet")
            source.add_argument("--torrent")
            command.add_argument("--save", required=True)
    make = sub.add_parser("make")
    make.add_argument("--content", required=True)
    make.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command == "make":
        return cmd_make(args)
    if not args.bootstrap and not args.no_dht:
        parser.error("--bootstrap is required unless --no-dht")
    session = make_session(args)
    with open(args.log, "a") as log:
        return {"dht": cmd_dht, "seed": cmd_seed, "get": cmd_get}[args.command](args, session, log)


if __name__ == "__main__":
    sys.exit(main())
