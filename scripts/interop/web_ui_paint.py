"""The web UI's first paint with N torrents, in headless Chromium (Debian's
chromium + chromium-driver, driven by selenium), for the daemon benchmark.

What is timed, from the page's navigation start: (1) the first frame painted
after a torrent's name (every benchmark torrent is named bf-bench-*) entered the
page, seen by a MutationObserver installed before the page's own scripts and
two requestAnimationFrame turns (the second runs once that frame is painted);
(2) the browser's first-contentful-paint, for information: a page can paint
its frame long before its list. One warm-up load per daemon, then 3 loads in
the same browser, median."""
import os
import statistics
import time

OBSERVER = """
window.__bfPaint = null;
(() => {
  const seen = (text) => text && text.indexOf('bf-bench-') >= 0;
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      let hit = record.type === 'characterData' ? seen(record.target.data) : false;
      for (const node of record.addedNodes) { if (hit) break; hit = seen(node.textContent); }
      if (hit) {
        observer.disconnect();
        requestAnimationFrame(() => requestAnimationFrame(() => { window.__bfPaint = performance.now(); }));
        return;
      }
    }
  });
  observer.observe(document, {childList: true, subtree: true, characterData: true});
})();
"""
LOADS = 3
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def paint_probe(work):
    """A function (daemon, count, deadline) -> {"rows": s, "fcp": s} or a string
    saying why nothing was measured."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return lambda *_: "skipped: selenium is not installed (pip install selenium)"
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        return lambda *_: "skipped: needs Debian's chromium and chromium-driver"

    def measure(daemon, count, deadline):
        import urllib.request
        url = f"http://127.0.0.1:{daemon.rpc_port}{daemon.ui_path}"
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                if answer.status != 200:
                    return f"no web UI at {url} (HTTP {answer.status})"
        except OSError as error:
            return f"no web UI at {url} ({error})"
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions",
                     f"--user-data-dir={os.path.join(work, 'chromium-' + daemon.name)}"):
            options.add_argument(flag)
        # Its shared-memory files (with --disable-dev-shm-usage) go under TMPDIR: keep them in the work directory.
        scratch = os.path.join(work, "chromium-tmp-" + daemon.name)
        os.makedirs(scratch, exist_ok=True)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER, env={**os.environ, "TMPDIR": scratch}), options=options)
        try:
            driver.set_page_load_timeout(max(10, min(300, deadline.left())))
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER})
            rows, fcps = [], []
            for load in range(LOADS + 1):
                driver.get("about:blank")
                driver.get(url)
                painted = None
                until = time.monotonic() + min(180, max(1, deadline.left()))
                while painted is None and time.monotonic() < until:
                    painted = driver.execute_script("return window.__bfPaint")
                    if painted is None:
                        time.sleep(0.05)
                if painted is None:
                    return f"no torrent appeared on {url} within 180 s"
                fcp = driver.execute_script(
                    "const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null")
                if load > 0:  # the first load warms the browser and its cache
                    rows.append(painted / 1000)
                    fcps.append((fcp or 0) / 1000)
            return {"rows": statistics.median(rows), "fcp": statistics.median(fcps), "all_rows": rows}
        finally:
            driver.quit()
    return measure
