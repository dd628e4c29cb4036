#!/usr/bin/env python3
"""Drives BitFountain's web UI in headless Chromium (Debian chromium + chromium-driver, selenium)
as a person would: add a magnet link, watch the torrent reach 100 %, open its detail view,
remove it with its data; optionally publish a path under a download root and read the magnet.

Usage: webui_browser.py URL --magnet MAGNET --hash HASH [--publish PATH] [--screenshot FILE]
          [--timeout SECONDS]
Prints one JSON line per step; exits non-zero on the first failed expectation, saying which."""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def step(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def fail(why, driver=None):
    logs = []
    if driver is not None:
        try:
            logs = [entry["message"] for entry in driver.get_log("browser")][-10:]
        except WebDriverException:
            pass
    step("failed", why=why, console=logs)
    sys.exit(1)


def wait_for(driver, what, check, deadline):
    while time.monotonic() < deadline:
        try:
            value = check()
        except WebDriverException:
            value = None
        if value:
            return value
        time.sleep(0.2)
    fail(f"timed out waiting for {what}", driver)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--magnet", required=True)
    parser.add_argument("--hash", required=True)
    parser.add_argument("--publish", help="a path under the first download root to publish")
    parser.add_argument("--screenshot")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    torrent_hash = args.hash.lower()

    # Chromium and chromedriver leave their profile and shared-memory files
    # under TMPDIR: give them a directory of their own, removed at the end
    # however the run ends (SIGTERM unwinds through the `finally` too).
    private = tempfile.mkdtemp(prefix="bf-webui-browser-")
    os.environ["TMPDIR"] = private
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run(args, deadline, torrent_hash, private)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def run(args, deadline, torrent_hash, private):
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", "--no-first-run", "--disable-extensions",
                 f"--user-data-dir={os.path.join(private, 'profile')}"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    try:
        driver.get(args.url)
        wait_for(driver, "the add form", lambda: driver.find_element(By.ID, "magnet-input").is_displayed(), deadline)
        step("loaded", title=driver.title)

        driver.find_element(By.ID, "magnet-input").send_keys(args.magnet)
        driver.find_element(By.ID, "add-button").click()
        row_selector = f'tr.torrent[data-hash="{torrent_hash}"]'
        wait_for(driver, "the torrent's row", lambda: driver.find_elements(By.CSS_SELECTOR, row_selector), deadline)
        step("listed")

        def progress_text():
            return driver.find_element(By.CSS_SELECTOR, f"{row_selector} .progress").text
        wait_for(driver, "100 %", lambda: progress_text() == "100.0 %", deadline)
        state = driver.find_element(By.CSS_SELECTOR, f"{row_selector} td.state").text
        step("complete", progress=progress_text(), state=state)

        driver.find_element(By.CSS_SELECTOR, f"{row_selector} td.name a").click()
        wait_for(driver, "the detail view's files",
                 lambda: driver.find_elements(By.CSS_SELECTOR, "#detail-files tr"), deadline)
        files = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#detail-files tr")]
        has_pieces = driver.execute_script(
            "const c = document.getElementById('piece-map');"
            "const d = c.getContext('2d').getImageData(0, 0, c.width, 1).data;"
            "for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) return true; return false;")
        if not has_pieces:
            fail("the piece map is empty", driver)
        step("detail", files=files)
        if args.screenshot:
            driver.save_screenshot(args.screenshot)

        driver.get(args.url + "#torrents")
        wait_for(driver, "the row again", lambda: driver.find_elements(By.CSS_SELECTOR, row_selector), deadline)
        driver.find_element(By.CSS_SELECTOR, f"{row_selector} button.remove").click()
        wait_for(driver, "the remove dialog", lambda: driver.find_element(By.ID, "remove-dialog").is_displayed(), deadline)
        driver.find_element(By.ID, "remove-delete-files").click()
        driver.find_element(By.ID, "remove-confirm").click()
        wait_for(driver, "the row to go", lambda: not driver.find_elements(By.CSS_SELECTOR, row_selector), deadline)
        step("removed")

        if args.publish:
            driver.get(args.url + "#publish")
            wait_for(driver, "a download root",
                     lambda: driver.find_elements(By.CSS_SELECTOR, "#publish-root option"), deadline)
            driver.find_element(By.ID, "publish-path").send_keys(args.publish)
            driver.find_element(By.ID, "publish-button").click()
            magnet = wait_for(driver, "the published magnet",
                              lambda: driver.find_element(By.ID, "publish-magnet").get_attribute("value"), deadline)
            if not magnet.startswith("magnet:?xt=urn:btih:"):
                fail(f"not a magnet link: {magnet}", driver)
            step("published", magnet=magnet)
        errors = [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        if errors:
            fail(f"console errors: {errors}", driver)
        step("done")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
