#!/usr/bin/env python3
"""raptorq 2.0.0 (PyPI, the Rust reference) on files, for the RaptorQ interop tests.

Packets are raw: the 4-byte FEC payload ID [SBN u8][ESI u24 BE] then T bytes, back to back.

  raptorq_tool.py encode IN OUT T REPAIR
      Encoder.with_defaults(IN's bytes, T).get_encoded_packets(REPAIR) written to OUT
      (per block: every source packet, then REPAIR repair packets)
  raptorq_tool.py decode IN OUT F T
      feeds IN's packets, in file order, to Decoder.with_defaults(F, T) until it returns
      the object, writes it to OUT and prints the number of packets it took; exits 1 if
      the packets never sufficed
"""
import sys

import raptorq


def encode(source, target, symbol_size, repair):
    with open(source, "rb") as f:
        data = f.read()
    packets = raptorq.Encoder.with_defaults(data, symbol_size).get_encoded_packets(repair)
    with open(target, "wb") as f:
        for packet in packets:
            f.write(packet)


def decode(source, target, size, symbol_size):
    with open(source, "rb") as f:
        blob = f.read()
    length = 4 + symbol_size
    if len(blob) % length:
        sys.exit(f"decode: {len(blob)} bytes is not a whole number of {length}-byte packets")
    decoder = raptorq.Decoder.with_defaults(size, symbol_size)
    for index in range(len(blob) // length):
        result = decoder.decode(blob[index * length:(index + 1) * length])
        if result is not None:
            with open(target, "wb") as f:
                f.write(result)
            print(index + 1)
            return
    sys.exit("decode: not enough packets")


def main():
    args = sys.argv[1:]
    if len(args) == 5 and args[0] == "encode":
        encode(args[1], args[2], int(args[3]), int(args[4]))
    elif len(args) == 5 and args[0] == "decode":
        decode(args[1], args[2], int(args[3]), int(args[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
