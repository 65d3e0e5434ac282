/// The live dashboard at `/dashboard`: one self-contained page (no CDN, fonts or scripts from elsewhere) that polls
/// `/api/split` every second and shows, per route, the configured weights next to the observed split; a chart of the
/// split and of the error rate (5xx per request) over the last five minutes, drawn as inline SVG by its own
/// script; and per destination version the request rate, share, response codes and p50/p99 latency. Its weight
/// controls post to `/weights`. Below 52rem its tables show each row as a block of labelled lines, so they stay
/// inside their cards at any width.
enum DashboardPage {
    static let html = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kanaria: live canary split</title>
<style>
  :root { --v1: #1d7fb8; --v2: #b3261e; --muted: #666; --line: #ddd; }
  * { box-sizing: border-box; }
  body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 64rem; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  .sub { color: var(--muted); margin-top: 0; }
  section { border: 1px solid var(--line); border-radius: .4rem; padding: .8rem 1rem; margin: 1rem 0; }
  h2 { font-size: 1.1rem; margin: 0 0 .6rem; }
  section { min-width: 0; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
  td { overflow-wrap: anywhere; }
  th { font-weight: 600; color: var(--muted); font-size: .85rem; }
  .bar { position: relative; display: inline-block; vertical-align: middle; height: .8rem; width: 5rem;
         background: #f1f1f1; border-radius: .2rem; }
  .bar span { position: absolute; left: 0; top: 0; bottom: 0; border-radius: .2rem; }
  td.share, td.configured-share, td.observed-share, td.rate, td.requests, td.p50, td.p99 { white-space: nowrap; }
  .configured span { background: #bbb; }
  .observed span { background: var(--v1); }
  tr[data-version="v2"] .observed span, tr[data-subset="v2"] .observed span { background: var(--v2); }
  input[type=number] { width: 5rem; }
  .note { color: var(--muted); font-size: .85rem; }
  .error { color: var(--v2); }
  #status.stale { color: var(--v2); }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(17rem, 1fr)); gap: .5rem 1.5rem; }
  figure { margin: 0; min-width: 0; }
  figcaption { font-size: .9rem; margin-bottom: .2rem; }
  svg.chart { display: block; width: 100%; height: auto; }
  svg.chart text { font-size: 12px; fill: var(--muted); }
  svg.chart .grid { stroke: var(--line); stroke-width: 1; }
  svg.chart .configured { stroke: #222; stroke-width: 1; stroke-dasharray: 4 3; }
  svg.chart .errors { fill: none; stroke: var(--v2); stroke-width: 1.5; }
  .legend { font-size: .85rem; color: var(--muted); margin: .2rem 0 0; }
  .legend i { display: inline-block; width: .7rem; height: .7rem; margin: 0 .25rem 0 .6rem; border-radius: .1rem; vertical-align: -.05rem; }
  @media (max-width: 52rem) {
    body { margin: 1rem auto; padding: 0 .5rem; }
    section { padding: .6rem .6rem; }
    table.rows thead { display: none; }
    table.rows, table.rows tbody, table.rows tr, table.rows td { display: block; width: auto; }
    table.rows tr { border-bottom: 1px solid var(--line); padding: .3rem 0; }
    table.rows td { position: relative; border: 0; padding: .1rem 0 .1rem 7.5rem; white-space: normal; }
    table.rows td::before { content: attr(data-label); position: absolute; left: 0; width: 7rem; color: var(--muted);
                            font-size: .85rem; line-height: 1.6; }
  }
</style>
</head>
<body>
<h1>Kanaria: live canary split</h1>
<p class="sub">Configuration generation <span id="generation">…</span> · rates over the last <span id="window">…</span> s ·
  shares <span id="shares-over">…</span> ·
  <span id="status">waiting for data</span></p>

<section>
  <h2>Routes: configured weights and the observed split</h2>
  <div id="routes"></div>
  <p class="note">Weights changed here apply to the next requests, like a reload, and show in <a href="/config_dump">/config_dump</a>.
    They last until the next reload of the files (SIGHUP or <code>POST /reload</code>), which replaces them.</p>
</section>

<section>
  <h2>Split and errors over time</h2>
  <div class="charts">
    <figure>
      <figcaption>Share of requests per version</figcaption>
      <svg id="split-chart" class="chart" viewBox="0 0 600 170" role="img" aria-label="share of requests per version over time"></svg>
      <p class="legend" id="split-legend"></p>
    </figure>
    <figure>
      <figcaption>Error rate: 5xx answers per request</figcaption>
      <svg id="error-chart" class="chart" viewBox="0 0 600 170" role="img" aria-label="error rate over time"></svg>
      <p class="legend" id="error-legend"></p>
    </figure>
  </div>
  <p class="note">The last five minutes, a step per second while this page is open; a gap where nobody watched. The
    dashed lines are the configured weights.</p>
</section>

<section>
  <h2>Destination versions</h2>
  <table id="versions" class="rows">
    <thead><tr><th>service</th><th>version</th><th>workload</th><th>req/s</th><th>share</th><th>requests</th>
      <th>response codes</th><th>p50 ms</th><th>p99 ms</th></tr></thead>
    <tbody></tbody>
  </table>
</section>

<p class="note">Data: <a href="/api/split">/api/split</a> · metrics: <a href="/stats/prometheus">/stats/prometheus</a> ·
  <a href="/clusters">/clusters</a> · <a href="/routes">/routes</a></p>

<script>
"use strict";
const percent = (x) => x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%";
const number = (x, digits) => x === null || x === undefined ? "–" : Number(x).toFixed(digits);
const text = (tag, content, attrs) => {
  const node = document.createElement(tag);
  if (content !== undefined) node.textContent = content;
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
};
const bar = (kind, share) => {
  const outer = text("div", undefined, { class: "bar " + kind, title: percent(share) });
  const inner = document.createElement("span");
  inner.style.width = share === null || share === undefined ? "0" : (100 * share).toFixed(1) + "%";
  outer.appendChild(inner);
  return outer;
};
const ROUTE_LABELS = ["destination", "versions", "weight", "configured", "observed", "req/s", "new weight"];
const VERSION_LABELS = ["service", "version", "workload", "req/s", "share", "requests", "response codes", "p50 ms", "p99 ms"];
// Each cell names its column, for the narrow layout where a row is a block of labelled lines.
// A cell for a dotted name (nodejs.default.svc.cluster.local) that may wrap after its dots.
const breakable = (name) => {
  const cell = document.createElement("td");
  name.split(/(?<=\.)/).forEach((part, i) => {
    if (i > 0) cell.appendChild(document.createElement("wbr"));
    cell.appendChild(document.createTextNode(part));
  });
  return cell;
};
const label = (row, labels) => [...row.children].forEach((cell, i) => cell.setAttribute("data-label", labels[i]));
let editing = false;
const messages = {};  // route index → the answer to its last Apply, kept across refreshes

function renderRoutes(routes) {
  const root = document.getElementById("routes");
  if (editing) return;  // do not replace the inputs the user is typing in
  root.replaceChildren();
  for (const route of routes) {
    const box = text("div", undefined, { "data-route": String(route.index) });
    box.appendChild(text("p", `Route ${route.index} "${route.name}" of VirtualService ${route.virtualService}`));
    const table = text("table", undefined, { class: "rows" });
    table.appendChild(text("thead")).appendChild((() => {
      const row = document.createElement("tr");
      for (const h of ROUTE_LABELS) row.appendChild(text("th", h));
      return row;
    })());
    const body = table.appendChild(document.createElement("tbody"));
    route.destinations.forEach((d, i) => {
      const row = text("tr", undefined, { "data-subset": d.subset || "", "data-cluster": d.cluster });
      row.appendChild(text("td", d.subset ? `subset ${d.subset}` : d.cluster));
      const ejected = (d.ejected || []).length ? ` (ejected by outlier detection: ${d.ejected.join(", ")})` : "";
      row.appendChild(text("td", (d.versions.join(", ") || "no endpoints") + ejected));
      row.appendChild(text("td", String(d.weight), { class: "weight" }));
      const configured = text("td", undefined, { class: "configured-share" });
      configured.appendChild(bar("configured", d.configuredShare));
      configured.appendChild(text("span", " " + percent(d.configuredShare), { class: "value" }));
      row.appendChild(configured);
      const observed = text("td", undefined, { class: "observed-share" });
      observed.appendChild(bar("observed", d.observedShare));
      observed.appendChild(text("span", " " + percent(d.observedShare), { class: "value" }));
      row.appendChild(observed);
      row.appendChild(text("td", number(d.rate, 1), { class: "rate" }));
      const cell = document.createElement("td");
      const input = text("input", undefined, { type: "number", min: "0", value: String(d.weight), "data-index": String(i), "aria-label": `weight of ${d.subset || d.cluster}` });
      input.addEventListener("focus", () => { editing = true; });
      input.addEventListener("blur", () => setTimeout(() => {
        // Leaving the inputs without a change resumes the updates; a value not yet applied keeps them paused.
        const inputs = [...document.querySelectorAll("#routes input[type=number]")];
        if (!inputs.includes(document.activeElement) && inputs.every((x) => x.value === x.defaultValue)) editing = false;
      }, 0));
      cell.appendChild(input);
      row.appendChild(cell);
      label(row, ROUTE_LABELS);
      body.appendChild(row);
    });
    box.appendChild(table);
    const apply = text("button", "Apply weights", { type: "button", "data-apply": String(route.index) });
    const last = messages[route.index];
    const message = text("span", last ? last.text : "", { class: last && last.error ? "message error" : "message" });
    apply.addEventListener("click", async () => {
      const weights = [...box.querySelectorAll("input[type=number]")].map((x) => parseInt(x.value, 10));
      const answer = await fetch("/weights", { method: "POST", headers: { "content-type": "application/json" },
                                               body: JSON.stringify({ route: route.index, weights }) });
      messages[route.index] = answer.ok ? { text: " applied", error: false }
                                        : { text: " refused: " + (await answer.text()), error: true };
      message.textContent = messages[route.index].text;
      message.className = messages[route.index].error ? "message error" : "message";
      editing = false;
      refresh();
    });
    box.appendChild(apply);
    box.appendChild(message);
    root.appendChild(box);
  }
}

function renderVersions(versions) {
  const body = document.querySelector("#versions tbody");
  body.replaceChildren();
  for (const v of versions) {
    const row = text("tr", undefined, { "data-service": v.service, "data-version": v.version });
    row.appendChild(breakable(v.service));
    row.appendChild(text("td", v.version, { class: "version" }));
    row.appendChild(text("td", v.workloads.join(", ")));
    row.appendChild(text("td", number(v.rate, 1), { class: "rate" }));
    const share = text("td", undefined, { class: "share" });
    share.appendChild(bar("observed", v.share));
    share.appendChild(text("span", " " + percent(v.share), { class: "value" }));
    row.appendChild(share);
    row.appendChild(text("td", String(v.requests), { class: "requests" }));
    row.appendChild(text("td", Object.entries(v.codes).map(([c, n]) => `${c}: ${n}`).join(" · ")
      + (v.flags.length ? " (" + v.flags.join(", ") + ")" : ""), { class: "codes" }));
    row.appendChild(text("td", number(v.p50, 2), { class: "p50" }));
    row.appendChild(text("td", number(v.p99, 2), { class: "p99" }));
    label(row, VERSION_LABELS);
    body.appendChild(row);
  }
}

\#(DashboardChart.script)
async function refresh() {
  const status = document.getElementById("status");
  try {
    const answer = await fetch("/api/split", { cache: "no-store" });
    const data = await answer.json();
    document.getElementById("generation").textContent = String(data.generation);
    document.getElementById("window").textContent = number(data.windowSeconds, 1);
    document.getElementById("shares-over").textContent =
      data.sharesOver === "window" ? "over the same window" : "over all requests (none in the window)";
    renderRoutes(data.routes);
    renderHistory(data.history, data.routes);
    renderVersions(data.versions);
    status.textContent = "updated " + new Date().toLocaleTimeString() + ` · ${data.totals.requests} requests`;
    status.className = "";
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  } catch (e) {
    status.textContent = "no answer from the proxy: " + e;
    status.className = "stale";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""#
}
