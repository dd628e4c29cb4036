#!/usr/bin/env python3
"""A delay line: a point-to-point link made of two TUN devices in two network
namespaces, with every packet held for a fixed time in each direction.

The kernel here has no netem, so the lab (scripts/lab) makes a delayed link out
of this process instead of a veth pair:

  delayline.py --delay MS NETNS_A:TUN_A NETNS_B:TUN_B [--ready FILE]

Both TUN devices must already exist (`ip -n NETNS tuntap add mode tun dev TUN`).
It attaches to each one from inside its namespace (setns), then forwards packets
A→B and B→A, each `MS` milliseconds after it was read, in order. It writes its
pid to --ready once both devices are attached, and exits by itself when either
namespace is deleted (`ip netns del`), so a lab torn down without it being
killed does not leave it running.
"""
import argparse
import collections
import ctypes
import fcntl
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
MAX_QUEUED = 20000  # packets per direction: a bound, far above what a delayed lab link holds

libc = ctypes.CDLL(None, use_errno=True)


def enter_namespace(name):
    with open(f"/run/netns/{name}") as handle:
        if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns {name}: {os.strerror(error)}")


def attach(spec):
    """Opens the existing TUN device `dev` of namespace `netns` (spec "netns:dev")."""
    netns, _, device = spec.partition(":")
    enter_namespace(netns)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", device.encode(), IFF_TUN | IFF_NO_PI))
    return netns, fd


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, required=True, help="one-way delay in milliseconds, each direction")
    parser.add_argument("--ready", help="file to write this process's pid to once attached")
    parser.add_argument("a")
    parser.add_argument("b")
    args = parser.parse_args()
    delay = args.delay / 1000.0
    (ns_a, fd_a), (ns_b, fd_b) = attach(args.a), attach(args.b)
    other = {fd_a: fd_b, fd_b: fd_a}
    queues = {fd_a: collections.deque(), fd_b: collections.deque()}  # by output fd: (due, packet)
    if args.ready:
        with open(args.ready, "w") as ready:
            ready.write(f"{os.getpid()}\n")
    next_check = time.monotonic() + 1.0
    while True:
        now = time.monotonic()
        if now >= next_check:
            if not (os.path.exists(f"/run/netns/{ns_a}") and os.path.exists(f"/run/netns/{ns_b}")):
                return 0
            next_check = now + 1.0
        due = min((queue[0][0] for queue in queues.values() if queue), default=now + 1.0)
        readable, _, _ = select.select([fd_a, fd_b], [], [], max(0.0, min(due, next_check) - now))
        now = time.monotonic()
        for fd in readable:
            for _ in range(64):  # drain a burst without starving the other side
                try:
                    packet = os.read(fd, 65535)
                except BlockingIOError:
                    break
                queue = queues[other[fd]]
                if len(queue) < MAX_QUEUED:
                    queue.append((now + delay, packet))
        for fd, queue in queues.items():
            while queue and queue[0][0] <= now:
                try:
                    os.write(fd, queue.popleft()[1])
                except OSError:
                    pass  # device down or its queue full: the packet is lost, as on a wire


if __name__ == "__main__":
    sys.exit(main())
