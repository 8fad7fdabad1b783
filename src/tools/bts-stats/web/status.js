// The public status page: one row per endpoint, updated live from /events.
"use strict";

const state = {endpoints: new Map(), feeds: [], live: false, title: "", daily: null};

// "CN=api.example.org,O=Example" → "api.example.org"; the full RFC 2253 name stays in the tooltip.
function commonName(dn) {
  if (!dn) return "";
  const m = /(?:^|,)\s*CN=((?:\\,|[^,])*)/.exec(dn);
  return m ? m[1].replace(/\\,/g, ",") : dn;
}

function fmtDate(unixSeconds) {
  return new Date(unixSeconds * 1000).toISOString().substring(0, 10);
}

// "14:02 UTC" today, "2026-12-01 14:02 UTC" on another day.
function fmtWhen(ms) {
  const iso = new Date(ms).toISOString();
  const today = new Date().toISOString().substring(0, 10);
  return (iso.substring(0, 10) === today ? "" : iso.substring(0, 10) + " ") + iso.substring(11, 16) + " UTC";
}

function certCell(e) {
  if (e.cert_days_left === null) return el("td", {class: "muted"}, "—");
  const cls = e.status === "CERT_MISMATCH" || e.cert_days_left < 0 ? "bad" : e.cert_days_left < 14 ? "warn" : "";
  const text = e.cert_days_left < 0 ? `expired ${-e.cert_days_left} d ago` : `${e.cert_days_left} d left`;
  const flags = [];
  if (!e.cert_name_matches) flags.push("name mismatch");
  if (e.cert_wildcard) flags.push("wildcard");
  return el("td", {class: "cert " + cls, title: `subject ${e.cert_subject}\nissued by ${e.cert_issuer}`},
            text, el("div", {class: "sub cert-expiry"}, (e.cert_days_left < 0 ? "expired " : "expires ") + fmtDate(e.cert_not_after)),
            el("div", {class: "sub cert-subject"}, "subject " + commonName(e.cert_subject)),
            el("div", {class: "sub cert-issuer"}, "issuer " + commonName(e.cert_issuer)),
            flags.length ? el("div", {class: "sub"}, flags.join(", ")) : null);
}

// Since when the endpoint has been up (or down): the current status's start, or earlier if the
// probes before it (the sparkline's) were on the same side, e.g. DOWN then TIMEOUT.
function sideSince(e) {
  let t = e.status_since_ms;
  const spark = e.spark || [];
  for (let i = spark.length - 1; i >= 0; i--) {
    const up = spark[i][2] === "UP" || spark[i][2] === "CERT_EXPIRING";
    if (up !== e.up) break;
    t = Math.min(t, spark[i][0]);
  }
  return t;
}

// Worst first: down, wrong chain or fork, certificate problems, stale, expiring, up.
function severity(e) {
  if (e.status === "DOWN" || e.status === "TIMEOUT") return 0;
  if (e.status === "WRONG_CHAIN" || e.status === "FORKED") return 1;
  if (e.status === "CERT_MISMATCH" || (e.cert_days_left !== null && e.cert_days_left < 0)) return 2;
  if (e.status === "STALE") return 3;
  if (!e.up) return 3;
  if (e.status === "CERT_EXPIRING") return 4;
  return 5;
}

// 90 days of uptime as a strip of one bar per UTC day, today on the right.
function dayStrip(name) {
  const d = state.daily;
  const days = d ? d.days : 90;
  const cells = d && d.endpoints[name] ? d.endpoints[name] : new Array(days).fill(null);
  const W = 2, G = 1, H = 18;
  const s = svg("svg", {class: "strip", width: days * (W + G), height: H, viewBox: `0 0 ${days * (W + G)} ${H}`,
                        "data-days": days, "data-with-data": cells.filter((c) => c !== null).length});
  cells.forEach((c, i) => {
    const pct = c && c[1] > 0 ? (100 * c[0]) / c[1] : null;
    const cls = pct === null ? "d-none" : pct >= 99.9 ? "d-up" : pct >= 99 ? "d-minor" : pct >= 95 ? "d-partial" : "d-down";
    const r = svg("rect", {x: i * (W + G), y: 0, width: W, height: H, rx: 1, class: "day " + cls});
    const t = svg("title", {});
    const day = new Date((d ? d.first_day_ms : Date.now() - (days - 1) * 86400000) + i * 86400000).toISOString().substring(0, 10);
    t.textContent = pct === null ? `${day}: no data` : `${day}: ${fmtPct(pct)} up (${c[0]} of ${c[1]} probes)`;
    r.append(t);
    s.append(r);
  });
  return s;
}

function headCell(e) {
  if (e.head_block_num === null) return el("td", {class: "muted"}, e.kind === "es" || e.kind.startsWith("http") ? "n/a" : "—");
  const cls = e.status === "STALE" ? "warn" : "";
  return el("td", {class: cls}, "#" + e.head_block_num.toLocaleString("en"),
            el("div", {class: "sub"}, fmtSeconds(e.head_block_age_s) + " old" +
               (e.participation ? ` · ${Math.round(e.participation)}% part.` : "")));
}

function row(e, nowMs) {
  const tr = el("tr", {id: "ep-" + e.name, "data-status": e.status});
  tr.append(
    el("td", {class: "name"}, el("strong", {}, e.name), el("div", {class: "sub"}, (e.kind === "es" ? "Elasticsearch · " : "") + e.url),
       dayStrip(e.name)),
    el("td", {}, el("span", {class: "badge s-" + e.status}, e.status),
       e.status_since_ms ? el("div", {class: "sub since"}, `${e.up ? "up" : "down"} since ${fmtWhen(sideSince(e))}`) : null,
       e.error ? el("div", {class: "sub err"}, e.error) : null),
    el("td", {}, sparkline(e.spark, 160, 32)),
    el("td", {class: "num", title: `dns ${fmtMs(e.dns_ms)} · tcp ${fmtMs(e.connect_ms)} · tls ${fmtMs(e.tls_ms)} · ws ${fmtMs(e.ws_ms)} · rpc ${fmtMs(e.rpc_ms)}`},
       fmtMs(e.latency_ms)),
    el("td", {class: "num"}, fmtPct(e.uptime["24h"])),
    el("td", {class: "num"}, fmtPct(e.uptime["7d"])),
    el("td", {class: "num"}, fmtPct(e.uptime["30d"])),
    headCell(e),
    certCell(e),
    el("td", {class: "muted checked", "data-ms": e.checked_ms}, fmtAge((nowMs - e.checked_ms) / 1000)));
  return tr;
}

function render() {
  const now = Date.now();
  const body = document.querySelector("#endpoints tbody");
  const names = [...state.endpoints.keys()].sort((a, b) =>
    severity(state.endpoints.get(a)) - severity(state.endpoints.get(b)) || a.localeCompare(b));
  body.replaceChildren(...names.map((n) => row(state.endpoints.get(n), now)));
  const up = names.filter((n) => state.endpoints.get(n).up).length;
  const summary = document.getElementById("summary");
  if (names.length === 0) {
    summary.textContent = "No endpoint has reported yet.";
    summary.className = "summary";
  } else {
    summary.textContent = up === names.length ? `All ${names.length} endpoints operational`
                                              : `${up} of ${names.length} endpoints operational`;
    summary.className = "summary " + (up === names.length ? "ok" : "degraded");
  }
  renderBanner(state.feeds, state.live);
}

function updateAges() {
  const now = Date.now();
  for (const td of document.querySelectorAll("td.checked")) td.textContent = fmtAge((now - Number(td.dataset.ms)) / 1000);
}

async function load() {
  try {
    const r = await fetch("/api/status.json", {cache: "no-store"});
    const j = await r.json();
    state.title = j.title;
    document.getElementById("title").textContent = j.title;
    document.title = j.title;
    state.feeds = j.feeds;
    if (j.daily) state.daily = j.daily;
    for (const e of j.endpoints) state.endpoints.set(e.name, e);
  } catch (e) {
    document.getElementById("summary").textContent = "Cannot load /api/status.json — retrying.";
  }
  render();
}

load().then(() => {
  connectLive({
    uptime: (e) => { state.endpoints.set(e.name, e); render(); },
    feeds: (f) => { state.feeds = f; renderBanner(state.feeds, state.live); },
  }, (ok) => {
    const was = state.live;
    state.live = ok;
    if (ok && !was) load();  // reconnected: catch up on what was missed
    else renderBanner(state.feeds, state.live);
  });
  setInterval(updateAges, 1000);
  setInterval(load, 10 * 60 * 1000);  // the 90-day strip moves with the day
});
