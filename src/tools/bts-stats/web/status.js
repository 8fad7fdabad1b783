// The public status page: one row per endpoint, updated live from /events.
"use strict";

const state = {endpoints: new Map(), feeds: [], live: false, title: ""};

function certCell(e) {
  if (e.cert_days_left === null) return el("td", {class: "muted"}, "—");
  const cls = e.status === "CERT_MISMATCH" || e.cert_days_left < 0 ? "bad" : e.cert_days_left < 14 ? "warn" : "";
  const text = e.cert_days_left < 0 ? `expired ${-e.cert_days_left} d ago` : `${e.cert_days_left} d left`;
  const flags = [];
  if (!e.cert_name_matches) flags.push("name mismatch");
  if (e.cert_wildcard) flags.push("wildcard");
  return el("td", {class: cls, title: `${e.cert_subject}\nissued by ${e.cert_issuer}`},
            text, flags.length ? el("div", {class: "sub"}, flags.join(", ")) : null);
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
    el("td", {class: "name"}, el("strong", {}, e.name), el("div", {class: "sub"}, (e.kind === "es" ? "Elasticsearch · " : "") + e.url)),
    el("td", {}, el("span", {class: "badge s-" + e.status}, e.status),
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
  const names = [...state.endpoints.keys()].sort();
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
});
