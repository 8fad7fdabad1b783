// The live stress-test dashboard: rate and latency charts, rejections, beacons, events.
"use strict";

const run = {id: "", totals: [], rejections: {}, beacons: new Map(), history: new Map(), events: [], feeds: [], live: false};

// Per-beacon history for the CPU and per-beacon charts: [t_s, cpu %, sent/s], one point per
// interval the page saw (the server keeps only each beacon's latest).
function recordBeacon(b) {
  const t = Math.round(b.last_seen_ms / 1000);
  let h = run.history.get(b.beacon_id);
  if (!h) { h = []; run.history.set(b.beacon_id, h); }
  if (h.length && h[h.length - 1][0] >= t) return;
  h.push([t, b.cpu_pct, b.sent_per_s]);
  if (h.length > 900) h.shift();
}

function beaconSeries(index) {
  const ids = [...run.history.keys()].sort();
  return ids.slice(0, 8).map((id, i) => ({name: id, cls: "c-b" + i, points: run.history.get(id).map((p) => [p[0], p[index]])}));
}
let drawPending = false;

function drawCharts() {
  drawPending = false;
  const t = run.totals;
  lineChart(document.getElementById("chart-rate"), [
    {name: "target", cls: "c-target", points: t.filter((x) => x.target > 0).map((x) => [x.t, x.target])},
    {name: "sent", cls: "c-sent", points: t.map((x) => [x.t, x.sent])},
    {name: "accepted", cls: "c-accepted", points: t.map((x) => [x.t, x.accepted])},
    {name: "included (on chain)", cls: "c-included", points: t.map((x) => [x.t, x.included_txs || 0])},
  ], {empty: "waiting for a running scenario"});
  lineChart(document.getElementById("chart-latency"), [
    {name: "p50", cls: "c-p50", points: t.map((x) => [x.t, x.p50_ms])},
    {name: "p90", cls: "c-p90", points: t.map((x) => [x.t, x.p90_ms])},
    {name: "p99", cls: "c-p99", points: t.map((x) => [x.t, x.p99_ms])},
  ], {empty: "waiting for a running scenario"});
  const incl = t.filter((x) => x.incl_p50_ms > 0 || x.incl_p99_ms > 0);
  lineChart(document.getElementById("chart-inclusion"), [
    {name: "p50", cls: "c-incl-p50", points: incl.map((x) => [x.t, x.incl_p50_ms])},
    {name: "p99", cls: "c-incl-p99", points: incl.map((x) => [x.t, x.incl_p99_ms])},
  ], {empty: "no transaction included in a block yet"});
  lineChart(document.getElementById("chart-cpu"), beaconSeries(1), {empty: "waiting for beacons"});
  lineChart(document.getElementById("chart-beacon-rate"), beaconSeries(2), {empty: "waiting for beacons"});
}

function scheduleDraw() {
  if (!drawPending) { drawPending = true; setTimeout(drawCharts, 250); }
}

function renderRun() {
  const box = document.getElementById("run");
  const last = run.totals[run.totals.length - 1];
  if (!run.id) {
    box.textContent = "No stress run seen yet.";
    box.className = "summary";
    return;
  }
  const sum = (k) => run.totals.reduce((a, x) => a + x[k], 0);
  box.replaceChildren(
    el("span", {class: "kv"}, "Run ", el("strong", {}, run.id)),
    el("span", {class: "kv"}, "Beacons ", el("strong", {}, last ? last.beacons : run.beacons.size)),
    el("span", {class: "kv"}, "Target ", el("strong", {}, last && last.target > 0 ? fmtCount(last.target) + "/s" : "unlimited")),
    el("span", {class: "kv"}, "Achieved ", el("strong", {}, last ? fmtCount(last.accepted) + "/s" : "—")),
    el("span", {class: "kv"}, "Sent ", el("strong", {}, fmtCount(sum("sent")))),
    el("span", {class: "kv"}, "Accepted ", el("strong", {}, fmtCount(sum("accepted")))),
    el("span", {class: "kv"}, "p99 ", el("strong", {}, last ? fmtMs(last.p99_ms) : "—")));
  box.className = "summary ok";
}

function renderRejections() {
  const box = document.getElementById("rejections");
  const entries = Object.entries(run.rejections).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) { box.replaceChildren(el("p", {class: "muted"}, "No rejections.")); return; }
  const max = entries[0][1];
  box.replaceChildren(...entries.map(([cls, n]) => {
    const bar = el("div", {class: "bar"});
    bar.style.width = Math.max(1, (100 * n) / max) + "%";
    return el("div", {class: "bar-row"}, el("span", {class: "bar-label"}, cls), el("span", {class: "bar-track"}, bar),
              el("span", {class: "bar-value"}, fmtCount(n)));
  }));
}

function renderBeacons() {
  const now = Date.now();
  const rows = [...run.beacons.values()].sort((a, b) => a.beacon_id.localeCompare(b.beacon_id)).map((b) =>
    el("tr", {class: b.gone ? "gone" : ""},
       el("td", {}, b.beacon_id), el("td", {}, b.host),
       el("td", {class: "num"}, b.target > 0 ? fmtCount(b.target) : "∞"),
       el("td", {class: "num"}, fmtCount(b.sent_per_s)), el("td", {class: "num"}, fmtCount(b.accepted_per_s)),
       el("td", {class: "num"}, fmtCount(b.rejected_per_s)), el("td", {class: "num"}, b.in_flight),
       el("td", {class: "num"}, b.p99_ms ? b.p99_ms.toFixed(1) : "—"), el("td", {class: "num"}, b.cpu_pct.toFixed(1)),
       el("td", {class: "num"}, fmtBytes(b.rss_bytes)), el("td", {class: "muted"}, b.gone ? "gone" : fmtAge((now - b.last_seen_ms) / 1000))));
  document.querySelector("#beacons tbody").replaceChildren(...(rows.length ? rows :
    [el("tr", {}, el("td", {colspan: 11, class: "muted"}, "No beacon has reported in this run."))]));
}

function renderEvents() {
  const items = run.events.slice(-20).reverse().map((e) =>
    el("li", {class: "ev-" + e.level}, el("span", {class: "muted"}, new Date(e.t_ms).toISOString().substring(11, 19) + " UTC"), " ",
       el("strong", {}, e.source), " ", e.kind, ": ", e.text));
  document.getElementById("events").replaceChildren(...(items.length ? items : [el("li", {class: "muted"}, "No events.")]));
}

function renderAll() {
  renderRun(); renderRejections(); renderBeacons(); renderEvents(); drawCharts();
  renderBanner(run.feeds, run.live);
}

async function loadRun() {
  try {
    const r = await fetch("/api/run.json", {cache: "no-store"});
    const j = await r.json();
    run.id = j.run_id;
    run.totals = j.totals;
    run.rejections = j.rejections;
    if (j.run_id !== run.id) run.history = new Map();
    run.beacons = new Map(j.beacons.map((b) => [b.beacon_id, b]));
    for (const b of j.beacons) recordBeacon(b);
    run.events = j.events;
    run.feeds = j.feeds;
  } catch (e) {
    document.getElementById("run").textContent = "Cannot load /api/run.json — retrying.";
  }
  renderAll();
}

function addTotals(x) {
  if (x.run_id !== run.id) { loadRun(); return; }
  const i = run.totals.findIndex((y) => y.t === x.t);
  if (i >= 0) {
    for (const [k, n] of Object.entries(run.totals[i].rejected || {})) run.rejections[k] = (run.rejections[k] || 0) - n;
    run.totals[i] = x;
  } else {
    run.totals.push(x);
    run.totals.sort((a, b) => a.t - b.t);
    if (run.totals.length > 900) run.totals.shift();
  }
  for (const [k, n] of Object.entries(x.rejected || {})) run.rejections[k] = (run.rejections[k] || 0) + n;
  renderRun(); renderRejections(); scheduleDraw();
}

loadRun().then(() => {
  connectLive({
    totals: addTotals,
    beacon: (b) => { run.beacons.set(b.beacon_id, b); recordBeacon(b); renderBeacons(); scheduleDraw(); },
    runevent: (e) => { run.events.push(e); if (run.events.length > 50) run.events.shift(); renderEvents(); },
    run: () => loadRun(),
    feeds: (f) => { run.feeds = f; renderBanner(run.feeds, run.live); },
  }, (ok) => {
    const was = run.live;
    run.live = ok;
    if (ok && !was) loadRun();
    else renderBanner(run.feeds, run.live);
  });
  setInterval(renderBeacons, 5000);
});
