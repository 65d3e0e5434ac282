/// The dashboard's charts (`renderHistory(history, routes)`): the share of requests per version and the error rate
/// (5xx answers per request) over the last five minutes, drawn as inline SVG markup by the page's own script from
/// `/api/split`'s `history` (see `SplitHistory`). The split chart is one column per step, its versions stacked
/// bottom up in the order of `history.versions`; with one route, dashed lines mark its configured shares. For tests,
/// `#split-chart` carries `data-steps` (columns drawn) and `#error-chart` `data-max-rate` and `data-last-rate`.
enum DashboardChart {
    static let script = #"""
// The charts: inline SVG built as markup (no library). x is time, the last `span` seconds up to now; each step of
// the history is a column (share) or a level (error rate) from its start to its end.
const CHART = { width: 600, height: 170, left: 40, right: 8, top: 8, bottom: 20 };
const COLOURS = ["#1d7fb8", "#b3261e", "#2e7d32", "#8e24aa", "#ef6c00", "#00838f", "#6d4c41"];
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const fixed = (n) => n.toFixed(1);

function chartFrame(span, ticks, max, format) {
  const { width, height, left, right, top, bottom } = CHART;
  const x = (t) => left + (width - left - right) * (1 + t / span);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  let svg = "";
  for (const v of ticks) {
    svg += `<line class="grid" x1="${left}" x2="${width - right}" y1="${fixed(y(v))}" y2="${fixed(y(v))}"/>`;
    svg += `<text x="${left - 4}" y="${fixed(y(v) + 4)}" text-anchor="end">${format(v)}</text>`;
  }
  for (let m = 0; m * 60 <= span; m++) {
    const label = m === 0 ? "now" : `−${m} min`;
    svg += `<text x="${fixed(x(-m * 60))}" y="${height - 5}" text-anchor="${m === 0 ? "end" : "middle"}">${label}</text>`;
  }
  return { x, y, svg };
}

/// Rounds an error rate up to a readable top of scale: 1%, 2%, 5%, 10%, 20%, 50% or 100%.
const scaleTop = (rate) => [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1].find((top) => rate <= top) || 1;

function renderHistory(history, routes) {
  const steps = history.steps;
  const versions = history.versions;
  const oldest = Math.max(0, ...steps.map((s) => s.age + s.seconds));
  const span = Math.min(300, Math.max(60, Math.ceil(oldest / 60) * 60));
  const totals = steps.map((s) => s.requests.reduce((a, b) => a + b, 0));
  const drawn = steps.map((s, i) => ({ step: s, total: totals[i] })).filter((d) => d.total > 0 && d.step.age < span);

  const split = chartFrame(span, [0, 0.5, 1], 1, (v) => `${v * 100}%`);
  let svg = split.svg;
  for (const { step, total } of drawn) {
    const x0 = Math.max(CHART.left, split.x(-(step.age + step.seconds))), x1 = split.x(-step.age);
    let below = 0;
    step.requests.forEach((n, i) => {
      if (!n) return;
      const share = n / total;
      svg += `<rect data-version="${escape(versions[i].version)}" x="${fixed(x0)}" width="${fixed(Math.max(1, x1 - x0 + 0.5))}"`
        + ` y="${fixed(split.y(below + share))}" shape-rendering="crispEdges" height="${fixed(split.y(below) - split.y(below + share))}" fill="${COLOURS[i % COLOURS.length]}"/>`;
      below += share;
    });
  }
  // With one route, its configured shares as dashed lines between the versions' bands, where the split should be.
  const configured = {};
  if (routes.length === 1) {
    const total = routes[0].destinations.reduce((a, d) => a + d.weight, 0);
    for (const d of routes[0].destinations) for (const v of d.versions) configured[v] = (configured[v] || 0) + d.weight / Math.max(total, 1);
    let below = 0;
    versions.slice(0, -1).forEach((v) => {
      below += configured[v.version] || 0;
      if (below > 0 && below < 1) {
        svg += `<line class="configured" x1="${CHART.left}" x2="${CHART.width - CHART.right}" y1="${fixed(split.y(below))}" y2="${fixed(split.y(below))}"/>`;
      }
    });
  }
  const splitChart = document.getElementById("split-chart");
  splitChart.innerHTML = svg;
  splitChart.dataset.steps = String(drawn.length);
  const last = drawn[drawn.length - 1];
  const legend = document.getElementById("split-legend");
  legend.replaceChildren();
  if (!last) legend.textContent = "no requests in the last five minutes";
  versions.forEach((v, i) => {
    const swatch = text("i");
    swatch.style.background = COLOURS[i % COLOURS.length];
    legend.appendChild(swatch);
    const now = last ? percent(last.step.requests[i] / last.total) : "–";
    const planned = configured[v.version] === undefined ? "" : `, configured ${percent(configured[v.version])}`;
    legend.appendChild(text("span", `${v.version}: ${now} now${planned}`));
  });

  const rates = drawn.map(({ step, total }) => step.errors.reduce((a, b) => a + b, 0) / total);
  const maxRate = Math.max(0, ...rates);
  const top = scaleTop(maxRate);
  const errors = chartFrame(span, [0, top / 2, top], top, (v) => `${+(v * 100).toFixed(1)}%`);
  let path = "";
  let previousEnd = null;
  drawn.forEach(({ step }, i) => {
    const start = -(step.age + step.seconds), end = -step.age;
    const level = fixed(errors.y(rates[i]));
    const joined = previousEnd !== null && Math.abs(start - previousEnd) < 0.5 && step.seconds <= 3;
    path += (joined ? ` V${level}` : ` M${fixed(Math.max(CHART.left, errors.x(start)))} ${level}`) + ` H${fixed(errors.x(end))}`;
    previousEnd = end;
  });
  const errorChart = document.getElementById("error-chart");
  errorChart.innerHTML = errors.svg + (path ? `<path class="errors" d="${path.trim()}"/>` : "");
  errorChart.dataset.maxRate = String(maxRate);
  errorChart.dataset.lastRate = rates.length ? String(rates[rates.length - 1]) : "";
  document.getElementById("error-legend").textContent = rates.length
    ? `now ${percent(rates[rates.length - 1])} · highest ${percent(maxRate)} in the last ${span / 60} min`
    : "no requests in the last five minutes";
}
"""#
}
