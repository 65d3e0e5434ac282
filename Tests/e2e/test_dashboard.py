"""The live dashboard at /dashboard, rendered by headless Chromium (Debian's `chromium`): it shows the split that
happened (per version: requests, share, response codes, p50/p99; per route: weights, configured and observed
shares), keeps updating every second, fetches nothing from anywhere but the proxy's admin port, and its weight
controls change the split of the next requests without a failed request.

Set KANARIA_DASHBOARD_SCREENSHOT=docs/dashboard.png to keep the screenshot the live test takes (the README's)."""

from __future__ import annotations

import os
import re
import struct
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.admin import Admin
from harness.browser import Chromium, dump_dom
from harness.proxy import REPO
from test_split import versions_on_one_connection
from test_weights import SteadyClient

pytestmark = pytest.mark.usefixtures("kanaria_only")

VERSION_CELLS = ["rate", "share", "requests", "codes", "p50", "p99"]
ROUTE_CELLS = ["weight", "configured-share", "observed-share", "rate"]

ROWS_JS = """(() => {
  const cells = (tr, names) => Object.fromEntries(names.map(c => [c, tr.querySelector('.' + c).textContent.trim()]));
  const out = {versions: {}, subsets: {}, updates: Number(document.body.dataset.updates || 0)};
  for (const tr of document.querySelectorAll('tr[data-version]')) out.versions[tr.dataset.version] = cells(tr, %s);
  for (const tr of document.querySelectorAll('tr[data-subset]')) out.subsets[tr.dataset.subset] = cells(tr, %s);
  return out;
})()""" % (VERSION_CELLS, ROUTE_CELLS)


class DashboardRows(HTMLParser):
    """Reads a serialized dashboard DOM: the text of each classed cell of `tr[data-version]` and
    `tr[data-subset]` rows, and the body's data-updates."""

    def __init__(self, html: str):
        super().__init__()
        self.versions: dict[str, dict[str, str]] = {}
        self.subsets: dict[str, dict[str, str]] = {}
        self.updates = 0
        self._row: dict | None = None
        self._cell: str | None = None
        self._depth = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.updates = int(a.get("data-updates") or 0)
        if tag == "tr" and "data-version" in a:
            self._row = self.versions.setdefault(a["data-version"], {})
        elif tag == "tr" and "data-subset" in a:
            self._row = self.subsets.setdefault(a["data-subset"], {})
        elif tag == "td" and self._row is not None and a.get("class"):
            self._cell = a["class"]
            self._row[self._cell] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._row is not None and self._cell:
            self._row[self._cell] += data

    def clean(self) -> None:
        for rows in (self.versions, self.subsets):
            for row in rows.values():
                for k in row:
                    row[k] = " ".join(row[k].split())


def is_number(text: str) -> bool:
    return re.fullmatch(r"\d+(\.\d+)?", text) is not None


def check_tutorial_split(versions: dict, subsets: dict, v1: int = 400, v2: int = 100) -> None:
    assert set(versions) == {"v1", "v2"}, versions
    assert (versions["v1"]["requests"], versions["v2"]["requests"]) == (str(v1), str(v2)), versions
    assert (versions["v1"]["share"], versions["v2"]["share"]) == ("80.0%", "20.0%"), versions
    assert (versions["v1"]["codes"], versions["v2"]["codes"]) == (f"200: {v1}", f"200: {v2}"), versions
    for row in versions.values():
        assert is_number(row["p50"]) and is_number(row["p99"]), row
        assert float(row["p50"]) <= float(row["p99"]), row
    assert set(subsets) == {"v1", "v2"}, subsets
    assert (subsets["v1"]["weight"], subsets["v2"]["weight"]) == ("80", "20"), subsets
    assert (subsets["v1"]["configured-share"], subsets["v2"]["configured-share"]) == ("80.0%", "20.0%"), subsets
    assert (subsets["v1"]["observed-share"], subsets["v2"]["observed-share"]) == ("80.0%", "20.0%"), subsets


def test_dump_dom_shows_the_split_after_500_requests(mesh, start_proxy, tmp_path):
    """`chromium --headless=new --dump-dom` after a few seconds of the page's (virtual) time: its one-second
    refreshes have run, and the rows show 400 v1 and 100 v2, 80.0% / 20.0%."""
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    versions_on_one_connection(proxy.port, 500)
    html = dump_dom(f"http://127.0.0.1:{proxy.admin_port}/dashboard", tmp_path / "chromium", budget_ms=3500)
    dom = DashboardRows(html)
    dom.clean()
    assert dom.updates >= 2, f"the page refreshed {dom.updates} times in 3.5 s of its time"
    check_tutorial_split(dom.versions, dom.subsets)


def test_the_page_is_self_contained_and_posts_the_weights_json(proxy):
    """Nothing is fetched from elsewhere: no absolute URL, no external stylesheet, script or font; every link is a
    path on the admin port. The Apply button posts {"route": N, "weights": [...]} as JSON to /weights, and the page
    says plainly that a reload of the files replaces a live change (as does the README)."""
    proxy, _, _ = proxy
    page = Admin(proxy.admin_port).get("/dashboard")
    assert page.status == 200
    assert page.header("content-type").startswith("text/html")
    html = page.body.decode()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"(?i)//[a-z0-9-]+(?:\.[a-z0-9-]+)+", html), re.findall(r"(?i)//[^\s\"'<>]+", html)
    assert not re.search(r"(?i)<link\b|@import|url\(|<script\b[^>]*\bsrc=|<img\b|<iframe\b", html)
    links = re.findall(r'(?:href|src)="([^"]*)"', html)
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links), links
    fetched = set(re.findall(r'fetch\("([^"]*)"', html))
    assert fetched == {"/api/split", "/weights"}, fetched
    post = html[html.index('fetch("/weights"'):]
    post = post[:post.index(");")]
    assert 'method: "POST"' in post and '"content-type": "application/json"' in post, post
    assert "JSON.stringify({ route: route.index, weights })" in post, post
    text = " ".join(re.sub(r"<[^>]+>", "", html).split())
    assert "They last until the next reload of the files (SIGHUP or POST /reload), which replaces them." in text
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "It lasts until the next reload of the files (SIGHUP or `POST /reload`), which replaces it" in readme


def test_live_page_in_chromium_updates_every_second(mesh, start_proxy, tmp_path):
    """The page in a real browser, in real time: the split of 500 requests, then 100 more appear without a reload,
    the page refreshes at least once a second, it asks only its own origin for anything, and under steady traffic
    the rates are live. The screenshot is the README's."""
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    versions_on_one_connection(proxy.port, 500)
    origin = f"http://127.0.0.1:{proxy.admin_port}"
    with Chromium(tmp_path / "chromium") as chrome:
        chrome.navigate(origin + "/dashboard")
        chrome.wait_for("Number(document.body.dataset.updates || 0) >= 1")
        rows = chrome.evaluate(ROWS_JS)
        check_tutorial_split(rows["versions"], rows["subsets"])

        versions_on_one_connection(proxy.port, 100)
        chrome.wait_for("document.querySelector('tr[data-version=\"v1\"] .requests').textContent === '480' && "
                        "document.querySelector('tr[data-version=\"v2\"] .requests').textContent === '120'")
        start, started = chrome.evaluate(ROWS_JS)["updates"], time.monotonic()
        time.sleep(3)
        done = chrome.evaluate(ROWS_JS)["updates"]
        assert done - start >= int(time.monotonic() - started) - 1 >= 2, \
            f"{done - start} refreshes in {time.monotonic() - started:.1f} s"

        with SteadyClient(proxy.port) as client:
            chrome.wait_for("parseFloat(document.querySelector('tr[data-version=\"v1\"] .rate').textContent) > 0 && "
                            "parseFloat(document.querySelector('tr[data-version=\"v2\"] .rate').textContent) > 0 && "
                            "document.querySelector('tr[data-subset=\"v2\"] .observed-share').textContent.trim() !== '–'")
            time.sleep(1.5)  # a refresh or two with the window full of live traffic
            shot = chrome.screenshot(tmp_path / "dashboard.png")
            rows = chrome.evaluate(ROWS_JS)
        assert not client.failures, client.failures
        v1_share = float(rows["versions"]["v1"]["share"].rstrip("%"))
        assert 75 <= v1_share <= 85, rows["versions"]
        assert chrome.evaluate("document.getElementById('shares-over').textContent") == "over the same window"
        assert chrome.requested and all(url.startswith(origin + "/") for url in chrome.requested), \
            sorted(set(chrome.requested))
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", shot[16:24])
    assert (width, height) == (1200, 900), (width, height)
    keep = os.environ.get("KANARIA_DASHBOARD_SCREENSHOT")
    if keep:
        Path(keep).write_bytes(shot)


def test_apply_button_changes_the_split_without_a_failed_request(mesh, start_proxy, tmp_path):
    """A user types 50 and 50 into the page's weight inputs and clicks Apply while a client sends requests back
    to back: the page says applied, /config_dump shows it, the next 100 requests split 50/50, no request failed.
    A negative weight typed in is refused, the page says why, and nothing changes."""
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    admin = Admin(proxy.admin_port)
    with Chromium(tmp_path / "chromium") as chrome, SteadyClient(proxy.port) as client:
        chrome.navigate(f"http://127.0.0.1:{proxy.admin_port}/dashboard")
        chrome.wait_for("Number(document.body.dataset.updates || 0) >= 2")
        before = client.wait_for(100)
        assert (before.count("v1"), before.count("v2")) == (80, 20)
        chrome.type_into('tr[data-subset="v1"] input', "50")
        time.sleep(1.2)  # a refresh passes while the user types: it must leave the inputs alone
        chrome.type_into('tr[data-subset="v2"] input', "50")
        assert chrome.evaluate("[...document.querySelectorAll('tr[data-subset] input')].map(i => i.value)") == \
            ["50", "50"]
        chrome.click('button[data-apply="0"]')
        chrome.wait_for("document.querySelector('[data-route=\"0\"] .message').textContent.trim() === 'applied'")
        applied_at = time.monotonic()
        after = client.wait_for(100, after=applied_at)
        assert (after.count("v1"), after.count("v2")) == (50, 50), "".join(v[1] for v in after)
        dump = admin.json("/config_dump")
        assert dump["liveWeightChanges"] == [{"route": 0, "weights": [50, 50]}]
        assert [d["weight"] for d in dump["routes"][0]["destinations"]] == [50, 50]
        chrome.wait_for("document.querySelector('tr[data-subset=\"v1\"] .weight').textContent === '50' && "
                        "document.querySelector('tr[data-subset=\"v1\"] .configured-share').textContent.trim() === '50.0%'")

        chrome.type_into('tr[data-subset="v1"] input', "-5")
        chrome.click('button[data-apply="0"]')
        message = chrome.wait_for("(() => { const m = document.querySelector('[data-route=\"0\"] .message');"
                                  " return m.classList.contains('error') && m.textContent.trim(); })()")
        assert message == "refused: weights must not be negative", message
        assert admin.json("/config_dump")["liveWeightChanges"] == [{"route": 0, "weights": [50, 50]}]
        client.wait_for(50, after=time.monotonic())
    assert not client.failures, client.failures
    assert all(status == 200 for _, status, _ in client.sent)


def test_route_rows_resume_updating_after_an_input_is_left_unchanged(mesh, start_proxy, tmp_path):
    """Clicking into a weight input pauses the route rows' updates (so typing is not overwritten); leaving it
    unchanged resumes them: live traffic then shows in the route's req/s."""
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    with Chromium(tmp_path / "chromium") as chrome:
        chrome.navigate(f"http://127.0.0.1:{proxy.admin_port}/dashboard")
        chrome.wait_for("document.querySelector('tr[data-subset=\"v1\"] input') !== null")
        chrome.click('tr[data-subset="v1"] input')
        chrome.click("h1")
        with SteadyClient(proxy.port) as client:
            chrome.wait_for("parseFloat(document.querySelector('tr[data-subset=\"v1\"] .rate').textContent) > 0")
        assert not client.failures, client.failures
