"""Bencode for the python peers of the interop tests (lt_fountain_client.py,
lt_swarm_hostile_peer.py, lt_dht_forger.py), which speak the wire protocol by hand."""


def bdecode(data, index=0, spans=False):
    """Decodes one bencoded value at data[index:]; returns (value, end). With
    spans, every dict also maps b"__spans__" to {key: (start, end)}, the raw
    byte range of each value (what a signature over raw bytes needs)."""
    kind = data[index:index + 1]
    if kind == b"i":
        end = data.index(b"e", index)
        return int(data[index + 1:end]), end + 1
    if kind == b"l":
        items, index = [], index + 1
        while data[index:index + 1] != b"e":
            item, index = bdecode(data, index, spans)
            items.append(item)
        return items, index + 1
    if kind == b"d":
        result, index = {}, index + 1
        while data[index:index + 1] != b"e":
            key, index = bdecode(data, index, spans)
            start = index
            result[key], index = bdecode(data, index, spans)
            if spans:
                result.setdefault(b"__spans__", {})[key] = (start, index)
        return result, index + 1
    colon = data.index(b":", index)
    length = int(data[index:colon])
    return data[colon + 1:colon + 1 + length], colon + 1 + length


def bencode(value):
    """Canonical bencoding of ints, bytes, str, lists and dicts (str or bytes keys, sorted)."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, str):
        return bencode(value.encode())
    if isinstance(value, list):
        return b"l" + b"".join(bencode(item) for item in value) + b"e"
    if isinstance(value, dict):
        items = {(k.encode() if isinstance(k, str) else k): v for k, v in value.items()}
        return b"d" + b"".join(bencode(k) + bencode(items[k]) for k in sorted(items)) + b"e"
    raise TypeError(value)
