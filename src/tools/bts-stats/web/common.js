// Shared helpers of the stats pages: DOM building, formatting, SVG charts and the live feed.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

// el("td", {class: "num"}, "text", child...) — text is always set as text, never as HTML.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function fmtAge(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 1) return "now";
  if (seconds < 90) return Math.round(seconds) + " s ago";
  if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
  if (seconds < 172800) return Math.round(seconds / 3600) + " h ago";
  return Math.round(seconds / 86400) + " d ago";
}

function fmtSeconds(s) {
  if (s === null || s === undefined) return "—";
  if (s < 60) return s.toFixed(1) + " s";
  if (s < 3600) return Math.round(s / 60) + " min";
  return (s / 3600).toFixed(1) + " h";
}

function fmtPct(p) {
  if (p === null || p === undefined) return "—";
  if (p >= 99.995) return "100%";
  return p.toFixed(p >= 99 ? 2 : 1) + "%";
}

function fmtMs(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 10) return ms.toFixed(1) + " ms";
  if (ms < 10000) return Math.round(ms) + " ms";
  return (ms / 1000).toFixed(1) + " s";
}

function fmtCount(n) {
  if (n === null || n === undefined) return "—";
  if (n < 1000) return String(Math.round(n * 10) / 10);
  if (n < 1e6) return (n / 1e3).toFixed(n < 1e4 ? 2 : 1) + "k";
  return (n / 1e6).toFixed(2) + "M";
}

function fmtBytes(n) {
  if (!n) return "—";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(n < 10 && i > 0 ? 1 : 0) + " " + units[i];
}

// Warns when a feed went silent, or live updates are disconnected.
function renderBanner(feeds, liveOk) {
  const banner = document.getElementById("banner");
  const problems = [];
  if (!liveOk) problems.push("Live updates are disconnected from this page's server; retrying. Figures below may be out of date.");
  for (const f of feeds || []) {
    if (f.ok) continue;
    problems.push(f.age_s === null
      ? `No data received yet from the ${f.name} feed.`
      : `The ${f.name} feed has been silent for ${fmtSeconds(f.age_s)}: its data below may be out of date.`);
  }
  banner.replaceChildren(...problems.map((p) => el("div", {}, p)));
  banner.classList.toggle("hidden", problems.length === 0);
}

// Connects to /events; handlers: {uptime: fn(obj), totals: fn(obj), ...}. Shows the state in #live.
function connectLive(handlers, onState) {
  const live = document.getElementById("live");
  const es = new EventSource("/events");
  const setState = (ok, text) => {
    live.textContent = text;
    live.classList.toggle("bad", !ok);
    if (onState) onState(ok);
  };
  es.onopen = () => setState(true, "connected");
  es.onerror = () => setState(false, "disconnected — retrying");
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      fn(data);
    });
  }
  return es;
}

// A latency sparkline: points [[t_ms, ms, status], ...]. Non-UP probes are red dots.
function sparkline(points, width, height) {
  const s = svg("svg", {class: "spark", width: width, height: height, viewBox: `0 0 ${width} ${height}`});
  if (!points || points.length === 0) return s;
  const vals = points.map((p) => p[1]);
  const max = Math.max(...vals, 1);
  const n = points.length;
  const x = (i) => n === 1 ? width - 2 : 2 + (i * (width - 4)) / (n - 1);
  const y = (v) => height - 2 - (v / max) * (height - 4);
  let d = "";
  points.forEach((p, i) => { d += (i ? " L" : "M") + x(i).toFixed(1) + " " + y(p[1]).toFixed(1); });
  s.append(svg("path", {d: d, class: "spark-line"}));
  points.forEach((p, i) => {
    if (p[2] !== "UP") s.append(svg("circle", {cx: x(i).toFixed(1), cy: y(p[1]).toFixed(1), r: 2.2, class: "spark-bad s-dot-" + p[2]}));
  });
  const title = svg("title", {});
  title.textContent = `max ${fmtMs(max)} over the last ${n} probes`;
  s.append(title);
  return s;
}

// A time-series line chart into an <svg viewBox="0 0 W H">. series: [{name, cls, points: [[t, v]]}].
function lineChart(root, series, opts) {
  const vb = root.viewBox.baseVal;
  const W = vb.width, H = vb.height;
  const m = {l: 48, r: 10, t: 10, b: 38};
  root.replaceChildren();
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    const t = svg("text", {x: W / 2, y: H / 2, class: "chart-empty", "text-anchor": "middle"});
    t.textContent = opts && opts.empty ? opts.empty : "no data yet";
    root.append(t);
    return;
  }
  const t0 = Math.min(...all.map((p) => p[0])), t1 = Math.max(...all.map((p) => p[0]), t0 + 1);
  let vmax = Math.max(...all.map((p) => p[1]), 1e-9);
  // A round top value for the axis.
  const mag = Math.pow(10, Math.floor(Math.log10(vmax)));
  vmax = Math.ceil(vmax / mag * 1.05) * mag;
  const X = (t) => m.l + ((t - t0) / (t1 - t0)) * (W - m.l - m.r);
  const Y = (v) => H - m.b - (v / vmax) * (H - m.t - m.b);
  for (let i = 0; i <= 4; i++) {
    const v = (vmax * i) / 4;
    root.append(svg("line", {x1: m.l, x2: W - m.r, y1: Y(v), y2: Y(v), class: "grid"}));
    const lbl = svg("text", {x: m.l - 6, y: Y(v) + 4, "text-anchor": "end", class: "axis"});
    lbl.textContent = fmtCount(v);
    root.append(lbl);
  }
  const span = t1 - t0;
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (span * i) / 4;
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";  // keep the end labels inside
    const lbl = svg("text", {x: X(t), y: H - m.b + 14, "text-anchor": anchor, class: "axis"});
    const d = new Date(t * 1000);
    lbl.textContent = d.toISOString().substring(11, 19) + (i === 4 ? " UTC" : "");
    root.append(lbl);
  }
  let lx = m.l;
  for (const s of series) {
    if (s.points.length > 0) {
      let d = "";
      s.points.forEach((p, i) => { d += (i ? " L" : "M") + X(p[0]).toFixed(1) + " " + Y(p[1]).toFixed(1); });
      root.append(svg("path", {d: d, class: "series " + s.cls, "data-name": s.name, "data-points": s.points.length}));
    }
    root.append(svg("rect", {x: lx, y: H - 14, width: 10, height: 4, class: "key " + s.cls}));
    const name = svg("text", {x: lx + 14, y: H - 9, class: "legend-text"});
    name.textContent = s.name;
    root.append(name);
    lx += 24 + s.name.length * 6.5;
  }
}
