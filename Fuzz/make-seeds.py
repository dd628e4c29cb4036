#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into Fuzz/corpus/NAME/.

The seeds are small, valid (and a few almost-valid) inputs, written with the
repository's own bencode helper; libFuzzer mutates from there. Run again after
changing a format; the output is deterministic.
"""
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "interop"))
from bencoding import bencode  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")
ID = bytes(range(20))
OTHER = bytes(range(100, 120))


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as out:
        out.write(data)


def bencode_seeds():
    for name, value in {
        "int": 42, "negative": -7, "string": b"spam", "empty-list": [], "list": [b"spam", 42, [1, 2]],
        "dict": {b"cow": b"moo", b"spam": [b"a", b"b"]}, "nested": {b"a": {b"b": {b"c": [1, {b"d": b""}]}}},
    }.items():
        write("bencode", name, bencode(value))
    write("bencode", "unsorted", b"d4:spami1e3:cowi2ee")
    write("bencode", "int-min", b"i-9223372036854775808e")


def krpc_messages():
    nodes = b"".join(ID[:19] + bytes([i]) + bytes([80, 1, 2, i]) + struct.pack(">H", 6881) for i in range(3))
    nodes6 = ID + bytes(15) + b"\x01" + struct.pack(">H", 6881)
    return {
        "ping": {b"t": b"aa", b"y": b"q", b"q": b"ping", b"a": {b"id": ID}},
        "find-node": {b"t": b"ab", b"y": b"q", b"q": b"find_node", b"a": {b"id": ID, b"target": OTHER, b"want": [b"n4", b"n6"]}},
        "get-peers": {b"t": b"ac", b"y": b"q", b"q": b"get_peers", b"ro": 1, b"a": {b"id": ID, b"info_hash": OTHER}},
        "announce": {b"t": b"ad", b"y": b"q", b"q": b"announce_peer",
                     b"a": {b"id": ID, b"info_hash": OTHER, b"port": 6881, b"implied_port": 0, b"token": b"tok1"}},
        "samples-query": {b"t": b"ae", b"y": b"q", b"q": b"sample_infohashes", b"a": {b"id": ID, b"target": OTHER}},
        "unknown": {b"t": b"af", b"y": b"q", b"q": b"vote", b"a": {b"id": ID, b"target": OTHER}},
        "nodes": {b"t": b"aa", b"y": b"r", b"ip": bytes([80, 1, 2, 3, 0x1a, 0xe1]), b"r": {b"id": ID, b"nodes": nodes, b"nodes6": nodes6}},
        "values": {b"t": b"ac", b"y": b"r", b"r": {b"id": ID, b"token": b"xyz", b"values": [bytes([80, 1, 2, 3, 0x1a, 0xe1])]}},
        "samples": {b"t": b"ae", b"y": b"r", b"r": {b"id": ID, b"interval": 60, b"num": 3, b"samples": OTHER * 2}},
        "error": {b"t": b"aa", b"y": b"e", b"e": [201, b"A Generic Error Ocurred"]},
        "signed": {b"t": b"aa", b"y": b"q", b"q": b"ping", b"a": {b"id": ID}, b"k": bytes(32), b"sig": bytes(64), b"v": b"BF\x00\x01"},
    }


def krpc_seeds():
    for target in ("krpc", "krpc-node", "krpc-router"):
        for name, message in krpc_messages().items():
            write(target, name, bencode(message))


def peer_message(message_id, payload=b""):
    return struct.pack(">IB", 1 + len(payload), message_id) + payload


def peer_wire_seeds():
    stream = (struct.pack(">I", 0) + peer_message(1) + peer_message(2) + peer_message(4, struct.pack(">I", 7))
              + peer_message(5, b"\xff\xf0") + peer_message(6, struct.pack(">III", 1, 0, 16384))
              + peer_message(7, struct.pack(">II", 1, 0) + b"data") + peer_message(8, struct.pack(">III", 1, 0, 16384))
              + peer_message(9, struct.pack(">H", 6881)) + peer_message(0x0E) + peer_message(0x10, struct.pack(">III", 2, 0, 16384))
              + peer_message(0x11, struct.pack(">I", 3)) + peer_message(20, b"\x00" + bencode({b"m": {b"ut_metadata": 1}})))
    write("peer-wire", "stream", stream)
    write("peer-wire", "partial", stream[:37])
    write("peer-wire", "unknown-id", peer_message(99, b"xyz"))
    write("handshake", "plain", b"\x13BitTorrent protocol" + bytes(8) + OTHER + b"-BF0001-" + bytes(12))
    write("handshake", "extensions", b"\x13BitTorrent protocol" + bytes([0, 0, 0, 0, 0, 0x10, 0, 5]) + OTHER + ID)


def extension_seeds():
    write("extension-handshake", "full", bencode({b"m": {b"ut_metadata": 1, b"bf_fountain": 2}, b"p": 6881, b"v": b"BitFountain 0.1",
                                                   b"reqq": 250, b"metadata_size": 31235, b"yourip": bytes([127, 0, 0, 1])}))
    write("extension-handshake", "minimal", bencode({b"m": {}}))
    write("extension-handshake", "odd-values", bencode({b"m": {b"ut_metadata": 300, b"x": -1}, b"p": 70000, b"yourip": b"abc"}))


def metadata_seeds():
    write("ut-metadata", "request", bencode({b"msg_type": 0, b"piece": 0}))
    write("ut-metadata", "data", bencode({b"msg_type": 1, b"piece": 1, b"total_size": 20000}) + b"x" * 100)
    write("ut-metadata", "reject", bencode({b"msg_type": 2, b"piece": 3}))
    for index, info in enumerate(info_dicts()):
        write("metadata-assembler", f"info-{index}", bytes([index]) + bencode(info))
        write("metadata-assembler", f"forged-{index}", bytes([0x80 | index]) + bencode(info))


def fountain_seeds():
    write("bf-fountain", "request", bencode({b"msg_type": 0, b"piece": 2, b"esis": [0, 1, 70000]}))
    write("bf-fountain", "reject", bencode({b"msg_type": 2, b"piece": 2}))
    write("bf-fountain", "symbol", bencode({b"esi": 5, b"msg_type": 1, b"piece": 0}) + bytes(16384))


def magnet_seeds():
    for name, link in {
        "hex": "magnet:?xt=urn:btih:" + OTHER.hex(),
        "base32": "magnet:?xt=urn:btih:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
        "full": "magnet:?xt=urn:btih:" + OTHER.hex() + "&dn=Some+File%20%C3%A9&x.pe=127.0.0.1:6881&x.pe=%5B::1%5D:51413&tr=udp://t",
        "bare": OTHER.hex(),
        "v2": "magnet:?xt=urn:btmh:1220" + "ab" * 32,
    }.items():
        write("magnet", name, link.encode())


def info_dicts():
    single = {b"name": b"file.bin", b"piece length": 16384, b"length": 40000,
              b"pieces": hashlib.sha1(b"a").digest() * 3}
    multi = {b"name": b"dir", b"piece length": 16384, b"pieces": hashlib.sha1(b"b").digest() * 2,
             b"files": [{b"length": 10000, b"path": [b"a", b"b.txt"]},
                        {b"length": 6384, b"path": [b".pad", b"6384"], b"attr": b"p"},
                        {b"length": 100, b"path": [b"c"]}]}
    return [single, multi]


def torrent_seeds():
    for index, info in enumerate(info_dicts()):
        torrent = {b"info": info, b"nodes": [[b"127.0.0.1", 6881]], b"comment": b"seed", b"creation date": 1700000000,
                   b"announce": b"udp://tracker.invalid:80"}
        write("torrent", f"torrent-{index}", bencode(torrent))
        write("torrent", f"info-{index}", b"\x01" + bencode(info))
    write("torrent", "escape", b"\x01" + bencode({b"name": b"x", b"piece length": 16384, b"pieces": bytes(20),
                                                  b"files": [{b"length": 1, b"path": [b"..", b"etc"]}]}))


def resume_seeds():
    write("resume", "partial", bencode({b"format": b"bitfountain-resume-1", b"info-hash": OTHER, b"pieces": 10,
                                        b"have": b"\xf0\x40", b"base": b"/tmp/x", b"files": [[40000, 1700000000], []]}))
    write("resume", "empty", bencode({b"format": b"bitfountain-resume-1", b"info-hash": OTHER, b"pieces": 0,
                                      b"have": b"", b"base": b"", b"files": []}))


def rq_seeds():
    # OTI: F (40 bits), reserved, T (16), Z (8), N (16), Al (8); then packets of SBN (8) + ESI (24) + T bytes.
    def oti(length, t, z=1, n=1, al=4):
        return struct.pack(">Q", length)[3:] + b"\x00" + struct.pack(">HBHB", t, z, n, al)
    data = bytes(range(200))
    packets = b"".join(struct.pack(">I", esi) + data[esi * 64:(esi + 1) * 64].ljust(64, b"\x00") for esi in range(4))
    write("rq", "source-packets", oti(200, 64) + packets)
    write("rq", "repair-only", oti(200, 64) + b"".join(struct.pack(">I", 10 + i) + bytes([i]) * 64 for i in range(6)))
    write("rq", "two-blocks", oti(1000, 16, z=2) + struct.pack(">I", 1 << 24 | 3) + bytes(16))


def mse_seeds():
    # Header: flags (offer bits 0-1, accept bits 2-3, scenario bits 4-5, full-size IA bit 6), PadA/PadB/PadC/PadD
    # lengths in units of 2, IA length (u16), chunk size (0 = all at once); then tampers (offset u16, xor u8)
    # for the handshake scenarios or raw bytes for the lone-side ones.
    def header(flags, pads=(0, 0, 0, 0), ia=68, chunk=0):
        return bytes([flags, *pads]) + struct.pack(">H", ia) + bytes([chunk])
    write("mse", "both-prefer-plaintext", header(0x00, (10, 20, 5, 7)))
    write("mse", "rc4-only", header(0x0A, (0, 0, 0, 0), ia=200))
    write("mse", "no-common-method", header(0x06))
    write("mse", "byte-at-a-time", header(0x0F, (255, 255, 255, 255), ia=300, chunk=1))
    write("mse", "full-ia", header(0x40 | 0x0A, ia=16384, chunk=97))
    # Tampers on the initiator's stream: Ya, req1, VC/crypto_provide, PadC length (with PadA = 0, Ya is 96 bytes).
    write("mse", "tamper-ya", header(0x00) + struct.pack(">HB", 5, 0x40))
    write("mse", "tamper-provide", header(0x0A) + struct.pack(">HB", 96 + 40 + 11, 0x03))
    write("mse", "tamper-padc-length", header(0x0A) + struct.pack(">HB", 96 + 40 + 12, 0xFF))
    write("mse", "tamper-ia-length", header(0x0A, ia=10) + struct.pack(">HB", 96 + 40 + 14, 0x7F))
    # Tampers on the responder's stream: Yb, crypto_select, PadD length (PadB = 0).
    write("mse", "tamper-select", header(0x10 | 0x0F) + struct.pack(">HB", 96 + 11, 0x02))
    write("mse", "tamper-padd-length", header(0x10) + struct.pack(">HB", 96 + 12, 0x10))
    write("mse", "raw-responder", header(0x20, (7, 0, 0, 0)) + bytes(range(256)) * 3)
    write("mse", "raw-responder-small-key", header(0x20) + bytes(95) + b"\x01" + bytes(100))
    write("mse", "raw-initiator", header(0x30, (0, 3, 4, 68)) + bytes([0xFF]) * 96 + bytes(600))


def pex_seeds():
    v4 = bytes([10, 0, 0, 1, 0x1A, 0xE1]) + bytes([192, 168, 1, 7, 0xC8, 0xD5])
    v6 = bytes(15) + b"\x01" + struct.pack(">H", 6881)
    # Even first byte: a received message.
    write("pex", "added", b"\x00" + bencode({b"added": v4, b"added.f": b"\x02\x10", b"dropped": b""}))
    write("pex", "both-families", b"\x00" + bencode({b"added": v4[:6], b"added.f": b"\x01", b"added6": v6, b"added6.f": b"\x12",
                                                    b"dropped": v4[6:], b"dropped6": v6}))
    write("pex", "short-flags", b"\x00" + bencode({b"added": v4, b"added.f": b""}))
    write("pex", "ragged", b"\x00" + bencode({b"added": v4[:5]}))
    write("pex", "many", b"\x00" + bencode({b"added": bytes([1, 2, 3, 4, 0, 1]) * 210}))
    # Odd first byte: a described message (kind byte: bit 0 IPv6, bit 1 dropped, bits 2-7 flags; then the compact entry).
    write("pex", "described", b"\x01" + b"\x08" + v4[:6] + b"\x03" + v6 + b"\x02" + v4[6:])


def lsd_seeds():
    ih = OTHER.hex()
    write("lsd", "v4", f"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: {ih}\r\n"
                       f"cookie: abc123\r\n\r\n\r\n".encode())
    write("lsd", "v6-two-hashes", f"BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\nPort: 51413\r\n"
                                  f"Infohash: {ih}\r\nInfohash: {ID.hex().upper()}\r\n\r\n\r\n".encode())
    write("lsd", "bare-newlines", f"BT-SEARCH * HTTP/1.1\nport:1\ninfohash: {ih}\n\n".encode())
    write("lsd", "bad-port", f"BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: {ih}\r\n\r\n".encode())
    write("lsd", "many-hashes", ("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n" + "".join(
        f"Infohash: {hashlib.sha1(bytes([i])).hexdigest()}\r\n" for i in range(38)) + "\r\n").encode())


def transmission_seeds():
    import base64
    import json
    metainfo = base64.b64encode(bencode({b"info": info_dicts()[0]})).decode()
    for name, request in {
        "get": {"method": "torrent-get", "arguments": {"fields": ["id", "name", "percentDone"], "ids": [1, "recently-active"]}, "tag": 7},
        "get-hash": {"method": "torrent-get", "arguments": {"fields": ["hashString"], "ids": "0123456789abcdef0123456789abcdef01234567"}},
        "add-magnet": {"method": "torrent-add", "arguments": {"filename": "magnet:?xt=urn:btih:" + "ab" * 20, "paused": True,
                                                              "download-dir": "/srv/downloads", "files-unwanted": [0, 2]}},
        "add-metainfo": {"method": "torrent-add", "arguments": {"metainfo": metainfo, "priority-high": [1]}},
        "remove": {"method": "torrent-remove", "arguments": {"ids": [1, 2], "delete-local-data": 1}},
        "set": {"method": "torrent-set", "arguments": {"ids": 3, "downloadLimit": 50, "downloadLimited": True, "files-wanted": [0],
                                                       "location": "/srv/x"}},
        "set-location": {"method": "torrent-set-location", "arguments": {"ids": [1], "location": "/srv/y", "move": False}},
        "session-set": {"method": "session-set", "arguments": {"speed-limit-down": 300, "speed-limit-up-enabled": 1.0}},
        "session-get": {"method": "session-get", "arguments": {"fields": ["version", "download-dir"]}},
        "free-space": {"method": "free-space", "arguments": {"path": "/srv"}, "tag": None},
        "stats": {"method": "session-stats"},
        "unknown": {"method": "port-test", "arguments": None},
    }.items():
        write("transmission-rpc", name, json.dumps(request).encode())
    # A limit near Int64.max overflowed when multiplied by 1000 (a trap) before limits were bounded.
    write("transmission-rpc", "huge-limit", b'{"method":"torrent-set","arguments":{"ids":1,"downloadLimit":9223372036854775807,"downloadLimited":true}}')
    write("transmission-rpc", "numbers", b'{"method":"torrent-start","arguments":{"ids":[1.0,"2",1e3,-0.0,9.2233720368547758e18]}}')
    write("transmission-rpc", "escapes", b'{"method":"torrent-get","arguments":{"fields":["\\u0069d","n\\u00e4me"]},"tag":"\\ud83d\\ude00"}')


def qb_seeds():
    # CONTENT-TYPE \0 QUERY \0 BODY; a first byte 0x01 is multipart with the boundary "bfboundary".
    form = b"application/x-www-form-urlencoded"
    write("qb-parameters", "info", b"\0filter=downloading&category=tv&sort=name&reverse=true&limit=10&offset=-1\0")
    write("qb-parameters", "info-hashes", b"\0hashes=aa|BB|cc&tag=x\0")
    write("qb-parameters", "form-body", form + b"\0\0urls=magnet%3A%3Fxt%3Durn%3Abtih%3A" + b"ab" * 20 + b"&savepath=%2Fsrv&paused=true&tags=a%2Cb")
    write("qb-parameters", "untyped-body", b"\0hashes=all\0deleteFiles=false")
    multipart = (b"--bfboundary\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\ntv\r\n"
                 b"--bfboundary\r\nContent-Disposition: form-data; name=\"torrents\"; filename=\"a.torrent\"\r\n"
                 b"Content-Type: application/x-bittorrent\r\n\r\nd4:infod4:name1:aee\r\n--bfboundary--\r\n")
    write("qb-parameters", "multipart", b"\x01\0\0" + multipart)
    write("qb-parameters", "multipart-typed", b"multipart/form-data; boundary=bfboundary\0limit=1\0" + multipart)
    write("qb-parameters", "bad-number", b"\0limit=-5&offset=x\0")
    # offset + limit overflowed in QBTorrentListQuery.apply (a trap) before it was fixed.
    write("qb-parameters", "huge-limit", b"\0offset=1&limit=9223372036854775807\0")


def remote_header_seeds():
    # HOST \n ORIGIN \n AUTHORIZATION \n COOKIE
    import base64
    basic = b"Basic " + base64.b64encode(b"admin:secret:with:colons")
    write("remote-headers", "loopback", b"127.0.0.1:9091\nhttp://localhost:9091\n" + basic + b"\nSID=abc; other=1")
    write("remote-headers", "v6", b"[::1]:9091\nhttp://[::1]:9091/x\nbasic YWRtaW46\nSID=\"quoted\"")
    write("remote-headers", "configured", b"NAS.example.\nhttps://nas.example\nBearer abc\n")
    write("remote-headers", "rebinding", b"evil.example:9091\nnull\nBasic !!!\nsid=x;SID=y")
    write("remote-headers", "host-only", b" localhost \t")


def path_seeds():
    for name, path in {
        "relative": "sub/deeper/new", "absolute-escape": "/etc/passwd", "parent": "sub/../../outside",
        "symlink-out": "out/secret", "symlink-up": "sub/up/secret", "symlink-in": "sub/in/x", "etc-link": "etc/hostname",
        "dots": "./sub/./x/.", "slashes": "//sub///x//", "blank": "  file  ", "nul": "sub\0/../x",
    }.items():
        write("path-confinement", name, path.encode())


if __name__ == "__main__":
    for make in (bencode_seeds, krpc_seeds, peer_wire_seeds, extension_seeds, metadata_seeds, fountain_seeds,
                 magnet_seeds, torrent_seeds, resume_seeds, rq_seeds, mse_seeds, pex_seeds, lsd_seeds,
                 transmission_seeds, qb_seeds, remote_header_seeds, path_seeds):
        make()
