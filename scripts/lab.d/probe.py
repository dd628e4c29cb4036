#!/usr/bin/env python3
"""Measures a lab link from inside its namespaces (the lab's self-test uses it).

  probe.py serve --bind ADDR --port P [--timeout S]
      a TCP server: "who" answers with the address the connection came from (how
      NAT shows), "echo" echoes bytes, "sink" reads and counts until the client
      closes; a UDP socket on the same port echoes each datagram. Prints
      {"event":"serving"} when ready; exits after --timeout.
  probe.py who HOST PORT        prints {"seen_as": ADDR}
  probe.py rtt HOST PORT [N]    UDP round trips: {"median_ms":…, "lost":…}
  probe.py send HOST PORT SECONDS
      TCP bulk send: {"mbit_per_s":…, "congestion_control":…}
  probe.py reach HOST PORT      exits 0 if a TCP connection opens within 2 s
One JSON object per line on stdout. Every socket operation has a time bound.
"""
import json
import os
import select
import socket
import statistics
import sys
import threading
import time


def emit(**fields):
    print(json.dumps(fields), flush=True)


def serve(bind, port, timeout):
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((bind, port))
    tcp.listen(16)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((bind, port))
    deadline = time.time() + timeout

    def handle(connection, peer):
        connection.settimeout(max(1.0, deadline - time.time()))
        try:
            verb = connection.recv(5)
            if verb == b"who\n\n":
                connection.sendall(peer[0].encode())
            elif verb == b"echo\n":
                while data := connection.recv(65536):
                    connection.sendall(data)
            elif verb == b"sink\n":
                while connection.recv(1 << 20):
                    pass
        except OSError:
            pass
        finally:
            connection.close()

    emit(event="serving", port=port)
    while time.time() < deadline:
        readable, _, _ = select.select([tcp, udp], [], [], 0.5)
        if udp in readable:
            data, peer = udp.recvfrom(2048)
            udp.sendto(data, peer)
        if tcp in readable:
            connection, peer = tcp.accept()
            threading.Thread(target=handle, args=(connection, peer), daemon=True).start()
    return 0


def who(host, port):
    with socket.create_connection((host, port), timeout=3) as connection:
        connection.settimeout(3)
        connection.sendall(b"who\n\n")
        emit(seen_as=connection.recv(100).decode())
    return 0


def rtt(host, port, count):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(1)
    times, lost = [], 0
    for index in range(count):
        start = time.monotonic()
        udp.sendto(index.to_bytes(4, "big"), (host, port))
        try:
            while udp.recvfrom(2048)[0] != index.to_bytes(4, "big"):
                pass
            times.append((time.monotonic() - start) * 1000)
        except socket.timeout:
            lost += 1
    emit(median_ms=round(statistics.median(times), 2) if times else None, lost=lost, count=count)
    return 0


def send(host, port, seconds):
    with socket.create_connection((host, port), timeout=5) as connection:
        connection.sendall(b"sink\n")
        chunk = os.urandom(65536)
        sent, start = 0, time.monotonic()
        connection.settimeout(5)
        while time.monotonic() - start < seconds:
            sent += connection.send(chunk)
        algorithm = connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
        # What left the send buffer is roughly what arrived: wait for it to drain.
        connection.shutdown(socket.SHUT_WR)
        connection.recv(1)
        elapsed = time.monotonic() - start
    emit(mbit_per_s=round(sent * 8 / elapsed / 1e6, 2), congestion_control=algorithm)
    return 0


def reach(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return 0
    except OSError as error:
        emit(unreachable=str(error))
        return 1


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "serve":
        options = dict(zip(argv[2::2], argv[3::2]))
        return serve(options.get("--bind", "0.0.0.0"), int(options["--port"]), float(options.get("--timeout", 60)))
    if command == "who":
        return who(argv[2], int(argv[3]))
    if command == "rtt":
        return rtt(argv[2], int(argv[3]), int(argv[4]) if len(argv) > 4 else 20)
    if command == "send":
        return send(argv[2], int(argv[3]), float(argv[4]))
    if command == "reach":
        return reach(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
