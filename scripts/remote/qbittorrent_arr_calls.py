#!/usr/bin/env python3
"""Drives a BitFountain daemon through the PyPI client qbittorrent-api with the calls Sonarr and
Radarr make: log in, versions, preferences, categories, add (category, save path, stopped),
list by category, properties, files, set category, stop/start, per-torrent limits, the calls
cross-seed and autobrr add (export, trackers, reannounce, force start, the queue refused), delete
with files.

Usage: qbittorrent_arr_calls.py URL --magnet MAGNET --hash HASH --save DIR --expect-file NAME:SIZE
          [--username U --password P] [--timeout SECONDS]
Prints one JSON line per step and a final {"event": "done", ...}; exits non-zero on the first
failed expectation, saying which."""
import argparse
import hashlib
import json
import os
import sys
import time

import qbittorrentapi


def step(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def fail(why):
    step("failed", why=why)
    sys.exit(1)


def expect(condition, why):
    if not condition:
        fail(why)


def wait_for(what, check, deadline):
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    fail(f"timed out waiting for {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--magnet", required=True)
    parser.add_argument("--hash", required=True)
    parser.add_argument("--save", required=True)
    parser.add_argument("--expect-file", required=True, help="NAME:SIZE of the torrent's single file")
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--timeout", type=float, default=90)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    torrent_hash = args.hash.lower()
    file_name, file_size = args.expect_file.rsplit(":", 1)
    file_size = int(file_size)

    client = qbittorrentapi.Client(host=args.url, username=args.username, password=args.password,
                                   REQUESTS_ARGS={"timeout": 15}, DISABLE_LOGGING_DEBUG_OUTPUT=True)
    client.auth_log_in()
    step("logged-in")

    version = client.app_version()
    api_version = client.app_web_api_version()
    expect(version.startswith("v"), f"app/version {version!r} is not vX.Y.Z")
    expect(tuple(int(x) for x in api_version.split(".")) >= (2, 0), f"webapiVersion {api_version!r} < 2.0")
    step("versions", app=version, api=api_version)

    prefs = client.app_preferences()
    for key in ("save_path", "max_ratio_enabled", "max_ratio", "max_seeding_time_enabled", "queueing_enabled", "dht"):
        expect(key in prefs, f"preferences lack {key}")
    # What a web UI's settings page sends: applied, read back, then put back as they were.
    client.app_set_preferences(prefs={"dl_limit": 4194304, "max_connec_per_torrent": 33,
                                      "max_ratio_enabled": True, "max_ratio": 3.5})
    changed = client.app_preferences()
    expect((changed["dl_limit"], changed["max_connec_per_torrent"], changed["max_ratio_enabled"], changed["max_ratio"])
           == (4194304, 33, True, 3.5), f"setPreferences read back {changed}")
    client.app_set_preferences(prefs={"dl_limit": prefs["dl_limit"], "max_connec_per_torrent": prefs["max_connec_per_torrent"],
                                      "max_ratio_enabled": False})
    restored = client.app_preferences()
    expect((restored["dl_limit"], restored["max_ratio_enabled"]) == (prefs["dl_limit"], False), f"preferences put back {restored}")
    step("preferences", save_path=prefs["save_path"])

    tv_path = os.path.join(args.save, "tv")
    client.torrents_create_category(name="tv", save_path=tv_path)
    client.torrents_create_category(name="movies", save_path=os.path.join(args.save, "movies"))
    categories = client.torrents_categories()
    expect(categories.get("tv", {}).get("savePath") == tv_path, f"categories: {dict(categories)}")
    step("categories", names=sorted(categories.keys()))

    # Sonarr: add with its category, stopped when it is set to add paused.
    reply = client.torrents_add(urls=args.magnet, category="tv", save_path=args.save, is_paused=True, tags=["sonarr"])
    expect(reply == "Ok.", f"torrents/add answered {reply!r}")
    listed = wait_for("the torrent in category tv",
                      lambda: [t for t in client.torrents_info(category="tv") if t.hash == torrent_hash], deadline)
    expect(listed[0].state in ("stoppedDL", "pausedDL", "metaDL"), f"added stopped, but state is {listed[0].state}")
    expect(listed[0].save_path.rstrip("/") == args.save.rstrip("/"), f"save_path {listed[0].save_path}")
    expect("sonarr" in listed[0].tags, f"tags {listed[0].tags!r}")
    expect(client.torrents_info(category="movies") == [], "category filter lets other torrents through")
    step("added", state=listed[0].state)

    client.torrents_resume(torrent_hashes=torrent_hash)
    done = wait_for("progress 1.0",
                    lambda: [t for t in client.torrents_info(hashes=torrent_hash) if t.progress >= 1.0], deadline)
    step("complete", state=done[0].state, downloaded=done[0].downloaded)
    expect(done[0].state in ("uploading", "stalledUP", "queuedUP", "forcedUP"), f"complete but state {done[0].state}")
    expect(done[0].amount_left == 0, f"amount_left {done[0].amount_left}")
    expect(os.path.getsize(os.path.join(args.save, file_name)) == file_size, "the file on disk has the wrong size")

    properties = client.torrents_properties(torrent_hash=torrent_hash)
    expect(properties.save_path.rstrip("/") == args.save.rstrip("/"), f"properties.save_path {properties.save_path}")
    expect(properties.pieces_have == properties.pieces_num > 0, f"pieces {properties.pieces_have}/{properties.pieces_num}")
    expect(properties.total_size == file_size, f"total_size {properties.total_size}")
    files = client.torrents_files(torrent_hash=torrent_hash)
    expect([(f.name, f.size, f.progress) for f in files] == [(file_name, file_size, 1)], f"files {files}")
    step("properties", pieces=properties.pieces_num)

    client.torrents_set_category(category="movies", torrent_hashes=torrent_hash)
    expect([t.hash for t in client.torrents_info(category="movies")] == [torrent_hash], "set category did not move it")
    expect(client.torrents_info(category="tv") == [], "still listed under tv")
    step("recategorised")

    client.torrents_pause(torrent_hashes=torrent_hash)
    wait_for("stoppedUP", lambda: client.torrents_info(hashes=torrent_hash)[0].state in ("stoppedUP", "pausedUP"), deadline)
    expect([t.hash for t in client.torrents_info(status_filter="paused")] == [torrent_hash], "filter=paused")
    client.torrents_resume(torrent_hashes=torrent_hash)
    wait_for("running again",
             lambda: client.torrents_info(hashes=torrent_hash)[0].state not in ("stoppedUP", "pausedUP"), deadline)
    step("paused-and-resumed")

    maindata = client.sync_maindata(rid=0)
    expect(maindata.get("full_update") is True and torrent_hash in maindata.torrents, "sync/maindata full update")
    delta = client.sync_maindata(rid=maindata.rid)
    expect("full_update" not in delta, "an echoed rid should give a delta")
    peers = client.sync_torrent_peers(torrent_hash=torrent_hash, rid=0)
    expect(peers.get("full_update") is True and isinstance(peers.get("peers"), dict)
           and all({"ip", "port", "client", "dl_speed", "up_speed", "progress", "flags"} <= set(p) for p in peers.peers.values()),
           f"sync/torrentPeers {peers}")
    # The alternative speed limits: set, toggled on (their limits in force), toggled off.
    client.app_set_preferences(prefs={"alt_dl_limit": 30000, "alt_up_limit": 20000})
    client.transfer_toggle_speed_limits_mode()
    expect(str(client.transfer_speed_limits_mode()) == "1" and int(client.transfer_download_limit()) == 30000
           and client.sync_maindata(rid=0).server_state.use_alt_speed_limits is True, "alternative limits not in force")
    client.transfer_toggle_speed_limits_mode()
    expect(str(client.transfer_speed_limits_mode()) == "0", "alternative limits still on")
    transfer = client.transfer_info()
    expect("dl_info_speed" in transfer and "connection_status" in transfer, f"transfer/info {transfer}")
    step("sync")

    # Per-torrent limits (autobrr and scripts set them): bytes/s, read back as hash -> limit,
    # -1 takes one off (it then reads 0, as in qBittorrent), the other direction stays.
    client.torrents_set_upload_limit(limit=262144, torrent_hashes=torrent_hash)
    client.torrents_set_download_limit(limit=131072, torrent_hashes=[torrent_hash])
    up = dict(client.torrents_upload_limit(torrent_hashes=torrent_hash))
    down = dict(client.torrents_download_limit(torrent_hashes="all"))
    expect(up == {torrent_hash: 262144} and down == {torrent_hash: 131072}, f"limits read back {up} {down}")
    listed = client.torrents_info(hashes=torrent_hash)[0]
    expect((listed.up_limit, listed.dl_limit) == (262144, 131072), f"torrents/info limits {listed.up_limit} {listed.dl_limit}")
    client.torrents_set_upload_limit(limit=-1, torrent_hashes=torrent_hash)
    up = dict(client.torrents_upload_limit(torrent_hashes=torrent_hash))
    down = dict(client.torrents_download_limit(torrent_hashes=torrent_hash))
    expect(up == {torrent_hash: 0} and down == {torrent_hash: 131072}, f"after -1: {up} {down}")
    step("limits")

    # The .torrent back (cross-seed): its info dictionary hashes to the infohash.
    exported = client.torrents_export(torrent_hash=torrent_hash)
    expect(exported.startswith(b"d4:info") and exported.endswith(b"e")
           and hashlib.sha1(exported[len(b"d4:info"):-1]).hexdigest() == torrent_hash, f"export {exported[:40]!r}")
    # No trackers: the peer sources listed as qBittorrent lists them.
    urls = [tracker.url for tracker in client.torrents_trackers(torrent_hash=torrent_hash)]
    expect(urls == ["** [DHT] **", "** [PeX] **", "** [LSD] **"], f"trackers {urls}")
    client.torrents_reannounce(torrent_hashes=torrent_hash)
    client.torrents_set_force_start(enable=True, torrent_hashes=torrent_hash)
    try:
        client.torrents_top_priority(torrent_hashes=torrent_hash)
        fail("topPrio accepted although app/preferences says queueing is off")
    except qbittorrentapi.Conflict409Error:
        pass
    # Share limits (Sonarr and Radarr set them from an indexer's seed ratio): the torrent's
    # own ratio, read back in torrents/info; seeding-time limits are refused, not ignored.
    client.torrents_set_share_limits(ratio_limit=7.5, seeding_time_limit=-2, inactive_seeding_time_limit=-2,
                                     torrent_hashes=torrent_hash)
    listed = client.torrents_info(hashes=torrent_hash)[0]
    expect((listed.ratio_limit, listed.max_ratio) == (7.5, 7.5), f"share limits {listed.ratio_limit} {listed.max_ratio}")
    try:
        client.torrents_set_share_limits(ratio_limit=-2, seeding_time_limit=60, inactive_seeding_time_limit=-2,
                                         torrent_hashes=torrent_hash)
        fail("a seeding-time limit was accepted")
    except qbittorrentapi.InvalidRequest400Error:
        pass
    client.torrents_set_share_limits(ratio_limit=-2, seeding_time_limit=-2, inactive_seeding_time_limit=-2,
                                     torrent_hashes=torrent_hash)
    listed = client.torrents_info(hashes=torrent_hash)[0]
    expect((listed.ratio_limit, listed.max_ratio) == (-2, -1), f"back to the global limit {listed.ratio_limit} {listed.max_ratio}")
    step("sources-and-export")

    client.torrents_delete(delete_files=True, torrent_hashes=torrent_hash)
    wait_for("removal", lambda: client.torrents_info(hashes=torrent_hash) == [] or None, deadline)
    wait_for("the data deleted", lambda: not os.path.exists(os.path.join(args.save, file_name)), deadline)
    step("deleted")
    client.auth_log_out()
    step("done")


if __name__ == "__main__":
    main()
