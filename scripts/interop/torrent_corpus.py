"""N single-file torrents of distinct random content for the daemon benchmark:
the data files in one directory and the .torrent files beside, made in Python
(hashlib + bencoding.py) at a few thousand a second, so making 10,000 does not
dominate the benchmark."""
import hashlib
import os
from dataclasses import dataclass, field

from bencoding import bencode

PIECE = 16384


@dataclass
class Corpus:
    names: list = field(default_factory=list)
    metainfos: list = field(default_factory=list)  # .torrent bytes, in the order of names


def make_corpus(data_dir, torrent_dir, count, size):
    """Writes `count` files of `size` random bytes and their trackerless v1
    torrents (no announce: nothing to contact), pieces of 16 KiB."""
    os.makedirs(data_dir, exist_ok=True)
    os.makedirs(torrent_dir, exist_ok=True)
    corpus = Corpus()
    for index in range(count):
        name = f"bf-bench-{index:05d}.bin"
        content = os.urandom(size)
        with open(os.path.join(data_dir, name), "wb") as handle:
            handle.write(content)
        pieces = b"".join(hashlib.sha1(content[at:at + PIECE]).digest() for at in range(0, size, PIECE))
        info = {"length": size, "name": name, "piece length": PIECE, "pieces": pieces}
        metainfo = bencode({"created by": "bitfountain bench", "info": info})
        with open(os.path.join(torrent_dir, name + ".torrent"), "wb") as handle:
            handle.write(metainfo)
        corpus.names.append(name)
        corpus.metainfos.append(metainfo)
    return corpus
