#!/usr/bin/env python3
"""A libtorrent peer for BitFountain's swarm interop tests and benchmarks.

Runs on loopback only, TCP only (no uTP, LSD, UPnP or NAT-PMP; no DHT unless
--dht-node is given), and talks JSON lines on stdout so the Swift tests can
follow it:

  lt_swarm_peer.py seed --torrent T --save DIR [--port P] [--upload-limit B/S]
      seeds the content DIR/<name>; prints {"event":"listening","port":P}
      then {"event":"seeding",...}; runs until killed (or --timeout).
  lt_swarm_peer.py get (--torrent T | --magnet M) --save DIR --peer HOST:PORT...
                       [--port P] [--timeout S]
      downloads, printing {"event":"metadata",...} for magnets and a final
      {"event":"complete","seconds":…,"rate":…}; exits 0 only when libtorrent
      reports every piece verified (it checks each piece's SHA-1).
  lt_swarm_peer.py make --content PATH --out T [--piece-size N]
      writes a trackerless torrent with libtorrent's own creator.

  seed and get take --encryption forced|enabled|disabled (libtorrent's
  out_enc_policy and in_enc_policy; default: libtorrent's, enabled) and
  --enc-level rc4|plaintext|both (allowed_enc_level; default both).

  seed and get take --dht-node PORT (repeatable): join a DHT on loopback through
  those nodes (settings from DESIGN §6), so a seed announces itself and a magnet
  download finds its peers there instead of through --peer.
"""
import argparse
import json
import os
import resource
import socket
import sys
import time

import libtorrent as lt


def emit(**fields):
    print(json.dumps(fields), flush=True)


ENCRYPTION = {"forced": lt.enc_policy.pe_forced, "enabled": lt.enc_policy.pe_enabled,
              "disabled": lt.enc_policy.pe_disabled}
ENC_LEVEL = {"rc4": lt.enc_level.pe_rc4, "plaintext": lt.enc_level.pe_plaintext, "both": lt.enc_level.pe_both}


def make_session(port, dht_nodes=(), encryption=None, enc_level=None, transport="tcp"):
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": bool(dht_nodes),
        # Loopback DHT (DESIGN §6): no /24 limits, no rate-limit bans, local nodes only.
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_block_ratelimit": 1000000,
        "dht_block_timeout": 1,
        "dht_upload_rate_limit": 1 << 30,
        "dht_bootstrap_nodes": "",
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification
        | lt.alert.category_t.peer_notification | lt.alert.category_t.connect_notification,
        "user_agent": "lt_swarm_peer",
    }
    if transport == "utp":
        # uTP only (scripts/bench utp): libtorrent's uTP both ways, no TCP.
        settings.update(enable_outgoing_utp=True, enable_incoming_utp=True, enable_outgoing_tcp=False,
                        enable_incoming_tcp=False)
    if encryption:
        settings["out_enc_policy"] = int(ENCRYPTION[encryption])
        settings["in_enc_policy"] = int(ENCRYPTION[encryption])
    if enc_level:
        settings["allowed_enc_level"] = int(ENC_LEVEL[enc_level])
    if dht_nodes:
        settings["alert_mask"] |= lt.alert.category_t.dht_notification | lt.alert.category_t.stats_notification
    session = lt.session(settings)
    deadline = time.time() + 10
    while session.listen_port() == 0 and time.time() < deadline:
        time.sleep(0.01)
    if dht_nodes:
        join_dht(session, dht_nodes)
    return session


def join_dht(session, ports):
    """Adds the loopback DHT nodes and waits for routing-table entries: a torrent
    added before that would announce (or look up) into an empty table."""
    for port in ports:
        session.add_dht_node(("127.0.0.1", port))
    deadline = time.time() + 20
    while time.time() < deadline:
        session.post_dht_stats()
        time.sleep(0.1)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.dht_stats_alert) and sum(b["num_nodes"] for b in alert.routing_table) > 0:
                emit(event="dht_ready")
                return
    emit(event="dht_timeout")


def parse_peer(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def answers_handshake(port, infohash):
    """True once a BitTorrent handshake to 127.0.0.1:port gets one back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
            probe.sendall(b"\x13BitTorrent protocol" + bytes(8) + infohash + b"-PR0001-" + os.urandom(12))
            reply = b""
            while len(reply) < 68:
                chunk = probe.recv(68 - len(reply))
                if not chunk:
                    return False
                reply += chunk
            return reply[28:48] == infohash
    except OSError:
        return False


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cmd_make(args):
    storage = lt.file_storage()
    lt.add_files(storage, args.content)
    # v1 only: BitFountain speaks BitTorrent v1 (libtorrent 2 makes hybrid torrents by default).
    creator = lt.create_torrent(storage, args.piece_size, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(creator, os.path.dirname(os.path.abspath(args.content)))
    with open(args.out, "wb") as out:
        out.write(lt.bencode(creator.generate()))
    info = lt.torrent_info(args.out)
    emit(event="made", infohash=str(info.info_hashes().v1), pieces=info.num_pieces())


def cmd_seed(args):
    session = make_session(args.port, args.dht_node or (), args.encryption, args.enc_level, args.transport)
    info = lt.torrent_info(args.torrent)
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = args.save
    params.flags |= lt.torrent_flags.seed_mode
    handle = session.add_torrent(params)
    if args.upload_limit:
        handle.set_upload_limit(args.upload_limit)
    # Announce readiness only once libtorrent will serve: right after start-up it
    # drops connections without a word, so probe with a real handshake first.
    ready_by = time.time() + 30
    while not handle.status().is_seeding and time.time() < ready_by:
        time.sleep(0.02)
    if args.encryption == "forced":
        # It refuses the plaintext probe: give it the moment the probe would have waited.
        time.sleep(1)
    while args.encryption != "forced" and not answers_handshake(session.listen_port(), info.info_hashes().v1.to_bytes()) \
            and time.time() < ready_by:
        time.sleep(0.1)
    emit(event="listening", port=session.listen_port())
    emit(event="seeding", infohash=str(info.info_hashes().v1), magnet=lt.make_magnet_uri(info))
    for peer in args.peer or []:
        handle.connect_peer(parse_peer(peer))
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        time.sleep(0.5)
        for alert in session.pop_alerts():
            if alert.category() & (lt.alert.category_t.error_notification | lt.alert.category_t.peer_notification
                                   | lt.alert.category_t.connect_notification):
                emit(event="alert", type=type(alert).__name__, message=alert.message())
    return 0


def cmd_get(args):
    session = make_session(args.port, args.dht_node or (), args.encryption, args.enc_level, args.transport)
    if args.torrent:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(args.torrent)
    else:
        params = lt.parse_magnet_uri(args.magnet)
    params.save_path = args.save
    peers = [parse_peer(p) for p in args.peer or []]
    # Given with the torrent, libtorrent dials them as it starts (connect_peer on a
    # torrent that is still starting is only acted on at its next tick, ~0.5 s later).
    params.peers = peers
    start = time.time()
    cpu_start = cpu_seconds()
    handle = session.add_torrent(params)
    emit(event="listening", port=session.listen_port())
    for peer in peers:
        handle.connect_peer(peer)
    metadata_at = None
    last_connect = time.time()
    # The most peers seen at once on RC4-encrypted connections (a seed may hang
    # up the moment we complete, so the count at the end can be 0).
    rc4_peers = 0
    deadline = start + args.timeout
    while time.time() < deadline:
        status = handle.status()
        if metadata_at is None and status.has_metadata:
            metadata_at = time.time()
            emit(event="metadata", seconds=round(metadata_at - start, 4))
            if args.metadata_only:
                return 0
        if metadata_at is not None:
            rc4_peers = max(rc4_peers, sum(1 for peer in handle.get_peer_info() if peer.flags & lt.peer_info.rc4_encrypted))
        if status.is_seeding:
            seconds = time.time() - start
            total = status.total_wanted
            emit(event="complete", seconds=round(seconds, 3), bytes=total,
                 rate=total / seconds, cpu_seconds=round(cpu_seconds() - cpu_start, 3),
                 peers=status.num_peers, payload_downloaded=status.total_payload_download,
                 rc4_peers=rc4_peers)
            return 0
        if time.time() - last_connect > 2:
            # Reconnect to peers that dropped us (a seed that was still starting up).
            for peer in peers:
                handle.connect_peer(peer)
            last_connect = time.time()
        for alert in session.pop_alerts():
            if alert.category() & lt.alert.category_t.error_notification:
                emit(event="alert", message=alert.message())
        # Fine-grained until the metadata is in, so its time is measured to the millisecond.
        time.sleep(0.02 if metadata_at else 0.0005)
    status = handle.status()
    emit(event="timeout", progress=status.progress, peers=status.num_peers)
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make")
    make.add_argument("--content", required=True)
    make.add_argument("--out", required=True)
    make.add_argument("--piece-size", type=int, default=0)
    seed = sub.add_parser("seed")
    seed.add_argument("--torrent", required=True)
    seed.add_argument("--save", required=True)
    seed.add_argument("--port", type=int, default=0)
    seed.add_argument("--peer", action="append")
    seed.add_argument("--upload-limit", type=int, default=0, help="bytes per second for this torrent")
    seed.add_argument("--timeout", type=float, default=600)
    seed.add_argument("--dht-node", type=int, action="append", help="port of a loopback DHT node to join through")
    get = sub.add_parser("get")
    source = get.add_mutually_exclusive_group(required=True)
    source.add_argument("--torrent")
    source.add_argument("--magnet")
    get.add_argument("--save", required=True)
    get.add_argument("--port", type=int, default=0)
    get.add_argument("--peer", action="append")
    get.add_argument("--timeout", type=float, default=120)
    get.add_argument("--metadata-only", action="store_true", help="stop once the metadata is in")
    get.add_argument("--dht-node", type=int, action="append", help="port of a loopback DHT node to join through")
    for command in (seed, get):
        command.add_argument("--encryption", choices=sorted(ENCRYPTION), help="out_enc_policy and in_enc_policy")
        command.add_argument("--enc-level", choices=sorted(ENC_LEVEL), help="allowed_enc_level")
        command.add_argument("--transport", choices=("tcp", "utp"), default="tcp", help="peer connections over (default tcp)")
    args = parser.parse_args()
    return {"make": cmd_make, "seed": cmd_seed, "get": cmd_get}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
