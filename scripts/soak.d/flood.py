"""A paced flood of KRPC datagrams, valid and malformed, at a DHT router and a
node (scripts/soak). It checks nothing itself: the soak watches its targets'
replies to a probe, their memory and that they survive."""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from bencoding import bencode  # noqa: E402


def valid(rng):
    tid = rng.randbytes(2)
    node_id = rng.randbytes(20)
    target = rng.randbytes(20)
    kind = rng.randrange(5)
    if kind == 0:
        message = {b"t": tid, b"y": b"q", b"q": b"ping", b"a": {b"id": node_id}}
    elif kind == 1:
        message = {b"t": tid, b"y": b"q", b"q": b"find_node", b"a": {b"id": node_id, b"target": target}}
    elif kind == 2:
        message = {b"t": tid, b"y": b"q", b"q": b"get_peers", b"a": {b"id": node_id, b"info_hash": target}}
    elif kind == 3:  # a token we were never given
        message = {b"t": tid, b"y": b"q", b"q": b"announce_peer",
                   b"a": {b"id": node_id, b"info_hash": target, b"port": rng.randrange(1, 65536), b"token": rng.randbytes(8)}}
    else:  # BEP 44 get and a put with a bogus signature
        message = {b"t": tid, b"y": b"q", b"q": b"get", b"a": {b"id": node_id, b"target": target}} if rng.random() < 0.5 else \
            {b"t": tid, b"y": b"q", b"q": b"put", b"a": {b"id": node_id, b"token": b"x", b"v": rng.randbytes(40),
                                                        b"k": rng.randbytes(32), b"sig": rng.randbytes(64), b"seq": 1}}
    return bencode(message)


def malformed(rng):
    base = valid(rng)
    kind = rng.randrange(10)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 1400))  # noise
    if kind == 1:
        return base[:rng.randrange(1, len(base))]  # truncated
    if kind == 2:
        data = bytearray(base)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)  # flipped bytes
        return bytes(data)
    if kind == 3:
        return b"d1:t2:aa1:y1:q1:q4:ping1:ad2:id" + str(rng.choice([2 ** 31, 2 ** 63, 10 ** 30])).encode() + b":xee"  # huge length
    if kind == 4:
        depth = rng.randrange(50, 700)
        return b"l" * depth + b"e" * depth  # deep nesting
    if kind == 5:
        return b"d1:ti99999999999999999999999e1:y1:q1:q4:ping1:ad2:id20:" + bytes(20) + b"ee"  # integer where a string goes
    if kind == 6:
        return b"d1:y1:q1:t2:aa1:q9:find_node1:ad6:target20:" + bytes(20) + b"2:id20:" + bytes(20) + b"ee"  # unsorted keys
    if kind == 7:
        return b"d1:t2:aa1:y1:q1:q9:find_node1:ad2:id5:short6:target3:abcee"  # short IDs
    if kind == 8:
        return b"d1:t2:aa1:y1:r1:rd2:id20:" + bytes(20) + b"5:nodes7:ragged!ee"  # an unsolicited, ragged response
    return b"i-0e" if rng.random() < 0.5 else b"d1:t2:aa1:y1:e1:eli201e5:errorqe"  # bad integer, bad error


class Flooder(threading.Thread):
    """Sends `rate` datagrams/s in total, round-robin over `targets`, half
    malformed, from 8 sockets on 127.0.0.1; drains and counts replies."""

    def __init__(self, targets, rate, rng):
        super().__init__(daemon=True)
        self.targets, self.rate, self.rng = targets, rate, rng
        self.sent = self.malformed = self.replies = 0
        self._halt = threading.Event()
        self.sockets = []
        for _ in range(8):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            self.sockets.append(sock)

    def stop(self):
        self._halt.set()
        self.join(timeout=5)

    def run(self):
        batch = max(1, self.rate // 100)  # every 10 ms
        next_tick = time.monotonic()
        try:
            while not self._halt.is_set():
                for _ in range(batch):
                    bad = self.rng.random() < 0.5
                    data = malformed(self.rng) if bad else valid(self.rng)
                    sock = self.sockets[self.sent % len(self.sockets)]
                    try:
                        sock.sendto(data, self.targets[self.sent % len(self.targets)])
                    except OSError:
                        pass
                    self.sent += 1
                    self.malformed += bad
                for sock in self.sockets:
                    while True:
                        try:
                            sock.recv(4096)
                            self.replies += 1
                        except (BlockingIOError, OSError):
                            break
                next_tick += 0.01
                delay = next_tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_tick = time.monotonic()
        finally:
            for sock in self.sockets:
                sock.close()
