#!/usr/bin/env python3
"""raptorq 2.0.0 on the cases of `bf-bench raptorq`, timed inside Python.

  raptorq_bench.py CASE SIZE RUNS   prints {"case", "size", "bytes", "seconds": [...], "cpu_seconds": [...]}

Same inputs as bf-bench: pieces of K symbols of 16 KiB (encode = source + ceil(0.15 K)
repair packets; decode = 90 % of the source packets (every 10th lost) then repair
packets, or repair packets only, fed one by one until the decoder returns the block);
objects of F bytes with 1280-byte packets, 15 % repair per block, every 10th source
packet lost. Only the raptorq calls are timed (wall clock, and this thread's CPU
time); building the inputs is not.
"""
import json
import os
import sys
import time

import raptorq

PIECE_T = 16384
OBJECT_T = 1280


def packet_esi(packet):
    return (packet[1] << 16) | (packet[2] << 8) | packet[3]


def repair_count(k):
    return (k * 15 + 99) // 100


def piece_inputs(k, kind):
    data = os.urandom(k * PIECE_T)
    if kind == "piece-encode":
        return data, None
    packets = raptorq.Encoder.with_defaults(data, PIECE_T).get_encoded_packets(k + repair_count(k))
    source = [p for p in packets if packet_esi(p) < k]
    repair = [p for p in packets if packet_esi(p) >= k]
    if kind == "piece-decode":
        feed = [p for i, p in enumerate(source) if i % 10 != 9] + repair[:repair_count(k)]
    else:
        feed = repair
    return data, feed


def object_inputs(size, kind):
    data = os.urandom(size)
    if kind == "object-encode":
        return data, None
    # One block per 10 MiB or so; the repair count per block follows the largest block.
    encoder = raptorq.Encoder.with_defaults(data, OBJECT_T)
    probe = encoder.get_encoded_packets(0)
    blocks = {}
    for p in probe:
        blocks[p[0]] = blocks.get(p[0], 0) + 1
    packets = encoder.get_encoded_packets(repair_count(max(blocks.values())))
    feed = []
    for p in packets:
        k = blocks[p[0]]
        esi = packet_esi(p)
        if esi >= k or esi % 10 != 9:
            feed.append(p)
    return data, feed


def run_once(kind, size, data, feed):
    """Returns (wall seconds, thread CPU seconds) of the raptorq calls."""
    start, cpu_start = time.perf_counter(), time.thread_time()
    if kind == "piece-encode":
        raptorq.Encoder.with_defaults(data, PIECE_T).get_encoded_packets(repair_count(size))
        return time.perf_counter() - start, time.thread_time() - cpu_start
    if kind == "object-encode":
        encoder = raptorq.Encoder.with_defaults(data, OBJECT_T)
        # Same repair share as ours: 15 % of the largest block.
        encoder.get_encoded_packets(repair_count(min(len(data) // OBJECT_T + 1, 56403)))
        return time.perf_counter() - start, time.thread_time() - cpu_start
    t = PIECE_T if kind.startswith("piece") else OBJECT_T
    decoder = raptorq.Decoder.with_defaults(len(data), t)
    result = None
    for packet in feed:
        result = decoder.decode(packet)
        if result is not None:
            break
    elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
    if result != data:
        sys.exit(f"raptorq failed to decode {kind} {size}")
    return elapsed, cpu


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    kind, size, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data, feed = piece_inputs(size, kind) if kind.startswith("piece") else object_inputs(size, kind)
    run_once(kind, size, data, feed)  # warm-up
    times = [run_once(kind, size, data, feed) for _ in range(runs)]
    print(json.dumps({"case": kind, "size": size, "bytes": len(data),
                      "seconds": [wall for wall, _ in times], "cpu_seconds": [cpu for _, cpu in times]}))


if __name__ == "__main__":
    main()
