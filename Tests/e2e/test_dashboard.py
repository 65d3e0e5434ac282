"""The live dashboard at /dashboard, rendered by headless Chromium (Debian's `chromium`): it shows the split that
happened (per version: requests, share, response codes, p50/p99; per route: weights, configured and observed
shares), charts the split and the error rate over time, keeps updating every second, keeps its tables inside their
cards at any width, fetches nothing from anywhere but the proxy's admin port, and its weight controls change the
split of the next requests without a failed request.

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
from harness.client import request
from harness.proxy import REPO
from harness.waiting import wait_until
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
        start = chrome.evaluate(ROWS_JS)["updates"]
        chrome.wait_for(f"Number(document.body.dataset.updates) >= {start + 3}")  # it goes on refreshing by itself

        with SteadyClient(proxy.port) as client:
            chrome.wait_for("parseFloat(document.querySelector('tr[data-version=\"v1\"] .rate').textContent) > 0 && "
                            "parseFloat(document.querySelector('tr[data-version=\"v2\"] .rate').textContent) > 0 && "
                            "document.querySelector('tr[data-subset=\"v2\"] .observed-share').textContent.trim() !== '–'")
            live = chrome.evaluate(ROWS_JS)["updates"]
            chrome.wait_for(f"Number(document.body.dataset.updates) >= {live + 2}")  # refreshes with live traffic
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
        typed = chrome.evaluate(ROWS_JS)["updates"]
        chrome.wait_for(f"Number(document.body.dataset.updates) >= {typed + 1}")  # a refresh while the user types
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


def history_totals(admin: Admin) -> tuple[dict, dict]:
    """Requests and 5xx answers per version, summed over the steps of /api/split's history (zeros left out)."""
    history = admin.json("/api/split")["history"]
    names = [v["version"] for v in history["versions"]]
    sums = [{name: sum(step[kind][i] for step in history["steps"]) for i, name in enumerate(names)}
            for kind in ("requests", "errors")]
    return tuple({name: n for name, n in counts.items() if n} for counts in sums)


def test_chart_draws_the_split_and_the_error_rate_over_time(mesh, start_proxy, tmp_path):
    """The history behind the chart counts exactly what was sent: 100 requests split 80/20, then, with v2's upstream
    gone, 50 more whose 10 for v2 are answered 503. The split chart draws columns of both versions under a dashed
    line at the configured 80%, and the error chart a rate above 0 that the 503s made."""
    config, _, v2 = mesh
    proxy = start_proxy(config, workers=1)
    admin = Admin(proxy.admin_port)
    with Chromium(tmp_path / "chromium") as chrome:
        chrome.navigate(f"http://127.0.0.1:{proxy.admin_port}/dashboard")
        chrome.wait_for("Number(document.body.dataset.updates || 0) >= 1")  # the history's first count is taken
        versions_on_one_connection(proxy.port, 100)
        wait_until(lambda: history_totals(admin) == ({"v1": 80, "v2": 20}, {}), lambda: history_totals(admin))
        chrome.wait_for("document.querySelectorAll('#split-chart rect[data-version=\"v1\"]').length > 0 && "
                        "document.querySelectorAll('#split-chart rect[data-version=\"v2\"]').length > 0")
        assert chrome.evaluate("document.getElementById('error-chart').dataset.maxRate") == "0"
        configured = chrome.evaluate("[...document.querySelectorAll('#split-chart line.configured')]"
                                     ".map(l => Number(l.getAttribute('y1')))")
        assert len(configured) == 1 and abs(configured[0] - (8 + 142 * 0.2)) < 0.2, configured  # 80% from the bottom

        v2.stop()
        codes = [request(proxy.port, "/").status for _ in range(50)]
        assert (codes.count(200), codes.count(503)) == (40, 10), codes
        wait_until(lambda: history_totals(admin) == ({"v1": 120, "v2": 30}, {"v2": 10}), lambda: history_totals(admin))
        rate = float(chrome.wait_for("Number(document.getElementById('error-chart').dataset.maxRate) > 0 && "
                                     "document.getElementById('error-chart').dataset.maxRate"))
        assert 0 < rate <= 1, rate
        assert chrome.evaluate("document.querySelector('#error-chart path.errors').getAttribute('d')").startswith("M")
        assert "highest" in chrome.evaluate("document.getElementById('error-legend').textContent")
        chrome.screenshot(tmp_path / "chart.png")


LAYOUT_JS = """(() => {
  const inside = (inner, outer) => inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5;
  const problems = [];
  if (document.documentElement.scrollWidth > innerWidth) problems.push(`page ${document.documentElement.scrollWidth} px wide`);
  for (const node of document.querySelectorAll('table, svg.chart, .legend')) {
    if (!inside(node.getBoundingClientRect(), node.closest('section').getBoundingClientRect()))
      problems.push(`${node.tagName} ${node.id || node.className} leaves its card`);
  }
  for (const cell of document.querySelectorAll('td, th')) {
    if (cell.scrollWidth > cell.clientWidth + 1) problems.push(`cell "${cell.textContent.trim()}" overflows`);
  }
  return problems;
})()"""


def test_tables_and_charts_stay_inside_their_cards_at_any_width(mesh, start_proxy, tmp_path):
    """From a phone's 360 px to a wide 1600 px window, with the tables full (two versions, long service names): no
    table, chart or cell reaches past its card, and the page never scrolls sideways. The narrow and wide
    screenshots are kept in the test's folder."""
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    with Chromium(tmp_path / "chromium") as chrome:
        chrome.navigate(f"http://127.0.0.1:{proxy.admin_port}/dashboard")
        chrome.wait_for("Number(document.body.dataset.updates || 0) >= 1")
        versions_on_one_connection(proxy.port, 100)
        chrome.wait_for("document.querySelectorAll('tr[data-version]').length === 2 && "
                        "Number(document.getElementById('split-chart').dataset.steps) > 0")
        for width in (360, 480, 640, 800, 900, 1200, 1600):
            chrome.resize(width, 900)
            assert chrome.evaluate(LAYOUT_JS) == [], f"at {width} px"
            if width in (360, 1200):
                chrome.screenshot(tmp_path / f"dashboard-{width}.png")
