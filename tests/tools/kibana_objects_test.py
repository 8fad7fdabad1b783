#!/usr/bin/env python3
# Structural test of config/kibana/*.ndjson (Kibana cannot run here): every line parses, ids are
# unique, every reference resolves, every field a panel, data view or saved search uses exists with a
# suitable type in config/elasticsearch/templates (explicit or via a dynamic template), the export
# metadata names a supported Kibana version, and the NDJSON is what generate.py writes.
import fnmatch
import glob
import json
import os
import subprocess
import sys
import tempfile

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
failures = []


def fail(msg):
    failures.append(msg)


NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
SUITABLE = {
    "date_histogram": {"date"},
    "sum": NUMERIC, "average": NUMERIC, "median": NUMERIC, "percentile": NUMERIC,
    "max": NUMERIC | {"date"}, "min": NUMERIC | {"date"},
    "terms": NUMERIC | {"keyword", "boolean", "ip", "date"},
    "unique_count": NUMERIC | {"keyword", "boolean", "ip", "date"},
    "last_value": NUMERIC | {"keyword", "boolean", "ip", "date"},
    "timeField": {"date"},
    "column": NUMERIC | {"keyword", "boolean", "ip", "date", "text"},
}

# Templates: index pattern → (priority, flattened fields, dynamic templates)
templates = []
for path in sorted(glob.glob(os.path.join(root, "config/elasticsearch/templates/*.json"))):
    t = json.load(open(path))
    fields = {}

    def flatten(props, prefix):
        for k, m in props.items():
            p = prefix + k
            fields[p] = m.get("type", "object")
            if "properties" in m:
                flatten(m["properties"], p + ".")

    mappings = t.get("template", {}).get("mappings", {})
    flatten(mappings.get("properties", {}), "")
    templates.append((t["index_patterns"], t.get("priority", 0), fields, mappings.get("dynamic_templates", []), path))


def field_type(title, field):
    """The type `field` gets in indices matching data view `title`, or None."""
    best = None
    for patterns, prio, fields, dyn, path in templates:
        if any(fnmatch.fnmatchcase(title, p) or fnmatch.fnmatchcase(title.rstrip("*") + "x", p) for p in patterns):
            if best is None or prio > best[1]:
                best = (patterns, prio, fields, dyn, path)
    if best is None:
        return None, f"no template covers data view {title}"
    _, _, fields, dyn, path = best
    if field in fields:
        return fields[field], path
    for entry in dyn:
        (name, d), = entry.items()
        if "path_match" in d and fnmatch.fnmatchcase(field, d["path_match"]) and "type" in d.get("mapping", {}):
            return d["mapping"]["type"], f"{path} (dynamic template {name})"
    return None, f"{field} is not in {os.path.basename(path)}"


files = sorted(glob.glob(os.path.join(root, "config/kibana/*.ndjson")))
if not files:
    fail("no config/kibana/*.ndjson")
checked_fields = 0
for path in files:
    name = os.path.basename(path)
    lines = [l for l in open(path, encoding="utf-8").read().split("\n") if l.strip()]
    objs = []
    for i, line in enumerate(lines, 1):
        try:
            objs.append(json.loads(line))
        except json.JSONDecodeError as e:
            fail(f"{name}:{i}: not JSON: {e}")
    if not objs:
        continue
    summary = objs[-1]
    objs = objs[:-1]
    if "exportedCount" not in summary:
        fail(f"{name}: the last line is not the export summary")
    elif summary["exportedCount"] != len(objs) or summary.get("missingRefCount") != 0:
        fail(f"{name}: export summary says {summary['exportedCount']} objects, {summary.get('missingRefCount')} "
             f"missing references; the file has {len(objs)}")
    seen = {}
    for o in objs:
        for k in ("id", "type", "attributes", "references", "coreMigrationVersion"):
            if k not in o:
                fail(f"{name}: object {o.get('id')} has no {k}")
        key = o.get("id")
        if key in seen:
            fail(f"{name}: id {key} used twice ({seen[key]} and {o.get('type')})")
        seen[key] = o.get("type")
        v = o.get("coreMigrationVersion", "0")
        major, minor = (int(x) for x in v.split(".")[:2])
        if major != 8 or minor < 0:
            fail(f"{name}: {key}: coreMigrationVersion {v} is not a Kibana 8.x version")
    by_id = {(o["type"], o["id"]): o for o in objs}
    views = {o["id"]: o["attributes"]["title"] for o in objs if o["type"] == "index-pattern"}
    for o in objs:
        refs = {r["name"]: r for r in o["references"]}
        for r in o["references"]:
            if (r["type"], r["id"]) not in by_id:
                fail(f"{name}: {o['id']}: reference {r['name']} → {r['type']}/{r['id']} does not resolve")

        def use(view_id, field, how):
            global checked_fields
            checked_fields += 1
            title = views.get(view_id)
            if title is None:
                return fail(f"{name}: {o['id']}: data view {view_id} unknown")
            t, where = field_type(title, field)
            if t is None:
                return fail(f"{name}: {o['id']}: field {field} ({how}) does not exist for {title}: {where}")
            if t not in SUITABLE.get(how, set()):
                fail(f"{name}: {o['id']}: field {field} is {t} in {where}, unsuitable for {how}")

        a = o["attributes"]
        if o["type"] == "index-pattern":
            if a.get("timeFieldName"):
                use(o["id"], a["timeFieldName"], "timeField")
        elif o["type"] == "lens":
            layers = a["state"]["datasourceStates"]["formBased"]["layers"]
            for lid, layer in layers.items():
                ref = refs.get(f"indexpattern-datasource-layer-{lid}")
                if ref is None:
                    fail(f"{name}: {o['id']}: layer {lid} has no data view reference")
                    continue
                if layer["columnOrder"] != [c for c in layer["columnOrder"] if c in layer["columns"]]:
                    fail(f"{name}: {o['id']}: columnOrder names unknown columns")
                for cid, c in layer["columns"].items():
                    f = c.get("sourceField")
                    if c["operationType"] == "count":
                        continue
                    if not f:
                        fail(f"{name}: {o['id']}: column {cid} has no field")
                        continue
                    use(ref["id"], f, c["operationType"])
                    if c["operationType"] == "terms" and c["params"]["orderBy"].get("columnId") not in layer["columns"]:
                        fail(f"{name}: {o['id']}: terms column {cid} orders by an unknown column")
            vis = a["state"]["visualization"]
            accessors = set()
            for l in vis.get("layers", []):
                accessors |= set(l.get("accessors", [])) | {l.get("xAccessor"), l.get("splitAccessor")}
            for c in vis.get("columns", []):
                accessors.add(c["columnId"])
            accessors.discard(None)
            all_cols = set().union(*(set(l["columns"]) for l in layers.values()))
            if not accessors <= all_cols:
                fail(f"{name}: {o['id']}: the visualization uses columns {sorted(accessors - all_cols)} no layer has")
        elif o["type"] == "search":
            ss = json.loads(a["kibanaSavedObjectMeta"]["searchSourceJSON"])
            ref = refs.get(ss.get("indexRefName", ""))
            if ref is None:
                fail(f"{name}: {o['id']}: indexRefName does not resolve")
                continue
            for f in a.get("columns", []):
                use(ref["id"], f, "column")
            for f, _ in a.get("sort", []):
                use(ref["id"], f, "column")
        elif o["type"] == "dashboard":
            panels = json.loads(a["panelsJSON"])
            for p in panels:
                ref = refs.get(f"{p['panelIndex']}:{p['panelRefName']}")
                if ref is None:
                    fail(f"{name}: {o['id']}: panel {p['panelIndex']} has no reference {p['panelRefName']}")
                elif ref["type"] != p["type"]:
                    fail(f"{name}: {o['id']}: panel {p['panelIndex']} is {p['type']} but references a {ref['type']}")
            json.loads(a["kibanaSavedObjectMeta"]["searchSourceJSON"])
            json.loads(a["optionsJSON"])
    dashboards = [o["attributes"]["title"] for o in objs if o["type"] == "dashboard"]
    if len(dashboards) < 3:
        fail(f"{name}: expected the three dashboards (stress runs, uptime, chain), found {dashboards}")
    for title in ("bts-intervals*", "bts-totals*", "bts-events*", "bts-uptime*", "bitshares-*", "objects-*"):
        if title not in views.values():
            fail(f"{name}: no data view for {title}")

# The committed NDJSON is what the generator writes.
gen = os.path.join(root, "config/kibana/generate.py")
with tempfile.TemporaryDirectory() as d:
    copy = os.path.join(d, "generate.py")
    open(copy, "w").write(open(gen).read())
    subprocess.run([sys.executable, copy], check=True, capture_output=True)
    if open(os.path.join(d, "bts-stress.ndjson")).read() != open(os.path.join(root, "config/kibana/bts-stress.ndjson")).read():
        fail("config/kibana/bts-stress.ndjson differs from what generate.py writes: run it and commit the result")

if checked_fields < 30:
    fail(f"only {checked_fields} field uses checked")
for f in failures:
    print("FAIL:", f)
print(f"{len(files)} files, {checked_fields} field uses checked, {len(failures)} failures")
sys.exit(1 if failures else 0)
