#!/usr/bin/env python3
# Writes config/kibana/bts-stress.ndjson: Kibana 8.x saved objects (data views, Lens panels, a saved
# search, three dashboards). Edit here, run `python3 config/kibana/generate.py`, commit both.
import json
import os

VERSION = "8.8.0"  # coreMigrationVersion: Kibana 8.8 and later import and migrate these
TS = "2026-12-04T00:00:00.000Z"
objects = []


def obj(type_, id_, attributes, references=(), type_version=None):
    o = {"attributes": attributes, "coreMigrationVersion": VERSION, "created_at": TS, "id": id_, "managed": False,
         "references": list(references), "type": type_, "updated_at": TS}
    if type_version:
        o["typeMigrationVersion"] = type_version
    objects.append(o)
    return id_


def data_view(id_, title, time_field, name):
    return obj("index-pattern", id_, {
        "fieldAttrs": "{}", "fieldFormatMap": "{}", "fields": "[]", "name": name, "runtimeFieldMap": "{}",
        "sourceFilters": "[]", "timeFieldName": time_field, "title": title, "typeMeta": "{}"}, type_version="8.0.0")


DV = {
    "intervals": data_view("bts-stress-intervals", "bts-intervals*", "@timestamp", "bts-stress: beacon intervals"),
    "totals": data_view("bts-stress-totals", "bts-totals*", "@timestamp", "bts-stress: run totals per second"),
    "events": data_view("bts-stress-events", "bts-events*", "@timestamp", "bts-stress: run events"),
    "uptime": data_view("bts-stress-uptime", "bts-uptime*", "@timestamp", "bts-stress: uptime probes"),
    "history": data_view("bitshares-history", "bitshares-*", "block_data.block_time", "BitShares operation history"),
    "objects": data_view("bitshares-objects", "objects-*", "block_time", "BitShares chain objects"),
}

NUMERIC_OPS = {"sum", "average", "max", "min", "median", "percentile"}


def col(op, field=None, label=None, **params):
    c = {"label": label or (f"{op} of {field}" if field else op), "operationType": op, "isBucketed": False,
         "scale": "ratio", "params": params or {}}
    if op == "date_histogram":
        c.update({"isBucketed": True, "scale": "interval", "dataType": "date", "params": {"interval": "auto"}})
    elif op == "terms":
        c.update({"isBucketed": True, "scale": "ordinal", "dataType": "string",
                  "params": {"size": params.get("size", 10), "orderBy": {"type": "column", "columnId": params["order"]},
                             "orderDirection": "desc"}})
    elif op == "count":
        c.update({"dataType": "number", "sourceField": "___records___"})
    else:
        c["dataType"] = "number"
    if field:
        c["sourceField"] = field
    return c


def lens(id_, title, view, vis_type, columns, visualization):
    """columns: list of (column_id, column) in order."""
    layer = {"columns": {cid: c for cid, c in columns}, "columnOrder": [cid for cid, _ in columns],
             "incompleteColumns": {}}
    return obj("lens", id_, {
        "title": title, "description": "", "visualizationType": vis_type,
        "state": {"datasourceStates": {"formBased": {"layers": {"layer1": layer}}},
                  "visualization": visualization, "query": {"query": "", "language": "kuery"}, "filters": [],
                  "internalReferences": [], "adHocDataViews": {}}},
        [{"type": "index-pattern", "id": DV[view], "name": "indexpattern-datasource-layer-layer1"}],
        type_version="8.9.0")


def xy(series_type, x, ys, split=None):
    layer = {"layerId": "layer1", "layerType": "data", "seriesType": series_type, "xAccessor": x, "accessors": ys}
    if split:
        layer["splitAccessor"] = split
    return {"legend": {"isVisible": True, "position": "right"}, "preferredSeriesType": series_type,
            "layers": [layer], "valueLabels": "hide"}


def table(cols):
    return {"layerId": "layer1", "layerType": "data", "columns": [{"columnId": c} for c in cols]}


def line_over_time(id_, title, view, metrics, split=None, time_field="@timestamp", series="line"):
    cols = [("x", col("date_histogram", time_field, "time"))]
    for i, (op, field, label) in enumerate(metrics):
        cols.append((f"y{i}", col(op, field, label, **({"percentile": 99} if op == "percentile" else {}))))
    if split:
        cols.insert(1, ("s", col("terms", split, split, size=10, order="y0")))
    return lens(id_, title, view, "lnsXY", cols, xy(series, "x", [f"y{i}" for i in range(len(metrics))],
                                                    "s" if split else None))


def top_table(id_, title, view, term_field, metrics, size=10):
    cols = [("t", col("terms", term_field, term_field, size=size, order="m0"))]
    for i, (op, field, label) in enumerate(metrics):
        cols.append((f"m{i}", col(op, field, label)))
    return lens(id_, title, view, "lnsDatatable", cols, table([c for c, _ in cols]))


def dashboard(id_, title, description, panels):
    refs, pj = [], []
    for i, pid in enumerate(panels):
        idx = str(i + 1)
        pj.append({"type": "lens", "gridData": {"x": (i % 2) * 24, "y": (i // 2) * 15, "w": 24, "h": 15, "i": idx},
                   "panelIndex": idx, "embeddableConfig": {"enhancements": {}}, "panelRefName": f"panel_{idx}"})
        refs.append({"name": f"{idx}:panel_{idx}", "type": "lens" if not pid.startswith("search-") else "search",
                     "id": pid})
        if pid.startswith("search-"):
            pj[-1]["type"] = "search"
    return obj("dashboard", id_, {
        "title": title, "description": description, "timeRestore": False, "version": 1,
        "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
        "panelsJSON": json.dumps(pj),
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"},
                                                                  "filter": []})}},
        refs, type_version="8.9.0")


# (a) stress runs
reject_classes = ["duplicate", "expired", "expiration_too_far", "tapos", "missing_authority", "insufficient_fee",
                  "insufficient_balance", "too_large", "pool_full", "other"]
stress = [
    line_over_time("bts-stress-rates", "Rates: target, sent, accepted, included (per second)", "totals",
                   [("max", "rate.configured", "target"), ("sum", "tx.sent", "sent"),
                    ("sum", "tx.accepted", "accepted"), ("sum", "tx.included", "included")]),
    line_over_time("bts-stress-latency", "Latency percentiles (µs)", "totals",
                   [("max", "latency.acceptance.p50_us", "acceptance p50"),
                    ("max", "latency.acceptance.p90_us", "acceptance p90"),
                    ("max", "latency.acceptance.p99_us", "acceptance p99"),
                    ("max", "latency.inclusion.p50_us", "inclusion p50"),
                    ("max", "latency.inclusion.p99_us", "inclusion p99")]),
    line_over_time("bts-stress-rejections", "Rejections by class", "intervals",
                   [("sum", f"rejected_by_class.{c}", c) for c in reject_classes], series="bar_stacked"),
    line_over_time("bts-stress-per-beacon", "Achieved rate per beacon", "intervals",
                   [("average", "rate.achieved", "achieved rate")], split="beacon.id"),
    top_table("bts-stress-per-host", "Per beacon host: sent, accepted, rejected, CPU", "intervals", "host.name",
              [("sum", "tx.sent", "sent"), ("sum", "tx.accepted", "accepted"), ("sum", "tx.rejected", "rejected"),
               ("max", "host.cpu.usage", "host CPU (max)"), ("max", "conn.disconnects", "disconnects")]),
    top_table("bts-stress-events-table", "Run events", "events", "event.action",
              [("count", None, "events")], size=20),
]
obj("search", "search-bts-stress-events", {
    "title": "Run events (log)", "description": "", "columns": ["event.action", "bts.source", "log.level", "message"],
    "sort": [["@timestamp", "desc"]],
    "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({
        "query": {"query": "", "language": "kuery"}, "filter": [],
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"})}},
    [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": DV["events"]}],
    type_version="8.0.0")
dashboard("bts-stress-runs", "bts-stress: stress runs",
          "Target/sent/accepted/included rates, latency percentiles, rejections by class, per beacon and host, events",
          stress + ["search-bts-stress-events"])

# (b) uptime
uptime = [
    line_over_time("bts-uptime-availability", "Availability: probes up and down per endpoint", "uptime",
                   [("sum", "summary.up", "up"), ("sum", "summary.down", "down")], split="monitor.name",
                   series="bar_stacked"),
    line_over_time("bts-uptime-latency", "Probe latency per endpoint (µs)", "uptime",
                   [("average", "monitor.duration.us", "latency")], split="monitor.name"),
    top_table("bts-uptime-certs", "Certificate days left per endpoint", "uptime", "monitor.name",
              [("min", "bts.uptime.cert_days_left", "days left (min)"), ("max", "tls.server.x509.not_after", "not after")]),
    top_table("bts-uptime-status", "Last status and head block age", "uptime", "monitor.name",
              [("max", "bts.uptime.head_block_age_s", "head block age (s, max)"),
               ("sum", "summary.down", "down probes")]),
]
dashboard("bts-uptime", "bts-stress: uptime", "Availability, latency and certificate days left per endpoint", uptime)

# (c) chain activity (bitshares-core's elasticsearch plugin)
chain = [
    line_over_time("bts-chain-ops-per-type", "Operations over time by type", "history",
                   [("count", None, "operations")], split="operation_type", time_field="block_data.block_time",
                   series="bar_stacked"),
    line_over_time("bts-chain-ops-per-block", "Operations and highest block", "history",
                   [("count", None, "operations"), ("max", "block_data.block_num", "block")],
                   time_field="block_data.block_time"),
    top_table("bts-chain-types", "Operations per type", "history", "operation_type", [("count", None, "operations")],
              size=50),
    top_table("bts-chain-top-accounts", "Top accounts (operations in their history)", "history",
              "account_history.account", [("count", None, "operations")], size=20),
    top_table("bts-chain-tx-sizes", "Largest transactions (operations per transaction)", "history",
              "block_data.trx_id", [("count", None, "operations"), ("max", "block_data.block_num", "block")], size=20),
]
dashboard("bts-chain", "BitShares: chain activity", "Operations per block and type, top accounts, transaction sizes "
          "in operations (the plugin does not record bytes)", chain)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bts-stress.ndjson")
with open(out, "w") as f:
    for o in objects:
        f.write(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n")
    f.write(json.dumps({"excludedObjects": [], "excludedObjectsCount": 0, "exportedCount": len(objects),
                        "missingRefCount": 0, "missingReferences": []}, separators=(",", ":")) + "\n")
print(f"{out}: {len(objects)} objects")
