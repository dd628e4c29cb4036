#!/usr/bin/env python3
"""Measures how fast a new feed version reaches a follower, on a loopback DHT
of libtorrent and BitFountain nodes (issue 14, item 7). Not a test: it prints
one JSON line of timings.

  feed_latency.py --binary .build/debug/bitfountain [--lt-nodes 10] [--bf-nodes 10]

Steps: start --lt-nodes libtorrent sessions (lt_dht_items.py) and --bf-nodes
`bitfountain node` processes joined to them; publish version 1 with
`bitfountain publish`, start a follower (`get --follow --follow-interval 1`),
wait for it to complete; publish version 2 and time (a) publish start to the
follower's metadata of version 2, (b) `bitfountain dht get` of the item
(a fresh node: start, join, lookup), (c) libtorrent's dht_get_mutable_item on
a running session, from request to the seq-2 alert.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time


def lines(path):
    try:
        with open(path) as handle:
            return [json.loads(line) for line in handle if line.startswith("{")]
    except (OSError, ValueError):
        return []


def wait_for(path, predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for event in lines(path):
            if predicate(event):
                return event
        time.sleep(0.02)
    raise SystemExit("timed out waiting in %s" % path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--lt-nodes", type=int, default=10)
    parser.add_argument("--bf-nodes", type=int, default=10)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bf-feed-latency-")
    here = os.path.dirname(os.path.abspath(__file__))
    children = []

    def spawn(argv, name):
        out = open(os.path.join(work, name + ".out"), "w")
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        children.append(child)
        return os.path.join(work, name + ".out")

    try:
        control = os.path.join(work, "control")
        open(control, "w").close()
        lt_log = spawn([sys.executable, os.path.join(here, "lt_dht_items.py"), "--nodes", str(args.lt_nodes),
                        "--control", control, "--duration", "300"], "lt")
        ports = wait_for(lt_log, lambda e: e.get("event") == "ready", 60)["ports"]
        bootstrap = []
        for port in ports[:3]:
            bootstrap += ["--bootstrap", "127.0.0.1:%d" % port]
        for index in range(args.bf_nodes):
            log = spawn([args.binary, "node", "--bind", "127.0.0.1", "--port", "0", "--state-dir",
                         os.path.join(work, "n%d" % index), "--json"] + bootstrap, "bf%d" % index)
            port = wait_for(log, lambda e: e.get("event") == "listening", 30)["port"]
            with open(control, "a") as handle:
                handle.write(json.dumps({"cmd": "add_node", "port": port}) + "\n")
        time.sleep(5)
        common = ["--bind", "127.0.0.1", "--port", "0", "--json"] + bootstrap
        state = os.path.join(work, "publisher")
        subprocess.run([args.binary, "key", "new", "feed", "--state-dir", state], check=True, capture_output=True)
        content = os.path.join(work, "release.bin")
        with open(content, "wb") as handle:
            handle.write(os.urandom(300_000))
        publish = [args.binary, "publish", content, "--key", "feed", "--state-dir", state] + common
        publisher = spawn(publish, "publish1")
        v1 = wait_for(publisher, lambda e: e.get("event") == "published", 60)
        follower = spawn([args.binary, "get", v1["feed"], "--follow", "--follow-interval", "1", "-o",
                          os.path.join(work, "out"), "--state-dir", os.path.join(work, "follower")] + common, "follower")
        wait_for(follower, lambda e: e.get("event") == "complete", 90)
        children[-2].send_signal(signal.SIGTERM)
        children[-2].wait(timeout=20)

        with open(content, "wb") as handle:
            handle.write(os.urandom(300_000))
        started = time.time()
        publisher = spawn(publish, "publish2")
        v2 = wait_for(publisher, lambda e: e.get("event") == "published", 60)
        published_at = time.time()
        wait_for(follower, lambda e: e.get("event") == "metadata" and e.get("infohash") == v2["infohash"], 90)
        follower_seconds = time.time() - started

        key = v1["feed"].split("urn:btpk:")[1].split("&")[0]
        before = time.time()
        got = subprocess.run([args.binary, "dht", "get", key, "--json", "--timeout", "20", "--bind", "127.0.0.1"] + bootstrap,
                             capture_output=True, text=True)
        bf_get_seconds = time.time() - before
        bf_seq = next((json.loads(l).get("seq") for l in got.stdout.splitlines() if l.startswith("{")), None)

        before = time.time()
        with open(control, "a") as handle:
            handle.write(json.dumps({"cmd": "get_mutable", "key": key, "salt": ""}) + "\n")
        wait_for(lt_log, lambda e: e.get("event") == "mutable" and e.get("seq") == 2, 30)
        lt_get_seconds = time.time() - before
        print(json.dumps({"dht_nodes": args.lt_nodes + args.bf_nodes, "lt_nodes": args.lt_nodes, "bf_nodes": args.bf_nodes,
                          "publish_to_follower_metadata_s": round(follower_seconds, 3),
                          "publish_put_s": round(published_at - started, 3),
                          "bf_dht_get_s": round(bf_get_seconds, 3), "bf_dht_get_seq": bf_seq,
                          "lt_get_mutable_s": round(lt_get_seconds, 3),
                          "put_nodes": v2.get("nodes")}))
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
