#!/usr/bin/env python3
"""libtorrent's view of .torrent files, for the Metainfo interop tests.

  lt_torrent.py load FILE.torrent
      prints {"infohash", "num_pieces", "piece_length", "total_size", "name", "files": [{"path", "size"}]}
      (padding files left out; paths relative to the torrent root, '/'-separated)
  lt_torrent.py create CONTENT OUT.torrent PIECE_SIZE v1|hybrid
      makes a torrent with libtorrent's create_torrent + set_piece_hashes
"""
import json
import os
import sys

import libtorrent as lt


def load(path):
    info = lt.torrent_info(path)
    files = info.files()
    out = []
    for i in range(files.num_files()):
        if files.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        out.append({"path": files.file_path(i).replace(os.sep, "/"), "size": files.file_size(i)})
    hashes = info.info_hashes()
    print(json.dumps({
        "infohash": str(hashes.v1),
        "num_pieces": info.num_pieces(),
        "piece_length": info.piece_length(),
        "total_size": info.total_size(),
        "name": info.name(),
        "files": out,
    }))


def create(content, out, piece_size, mode):
    fs = lt.file_storage()
    lt.add_files(fs, content)
    flags = lt.create_torrent.v1_only if mode == "v1" else 0
    torrent = lt.create_torrent(fs, int(piece_size), flags=flags)
    lt.set_piece_hashes(torrent, os.path.dirname(os.path.abspath(content)))
    with open(out, "wb") as f:
        f.write(lt.bencode(torrent.generate()))


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2])
    elif sys.argv[1] == "create":
        create(*sys.argv[2:6])
    else:
        sys.exit("usage: see the docstring")
