// bts-report --format html: one self-contained HTML file (inline CSS, SVG plots, a few lines of
// inline JS for hover, no request of any kind) with the run's identity, summary and verdict, and
// plots over time of rates, latency percentiles, rejections, in-flight, beacons, hosts and — when
// the store has a `blocks` table (the chain observer) — block fullness and missed slots.
//
// Every plot's numbers are also embedded as JSON in <script type="application/json"
// id="report-data">: {"run_id", "t0_ms", "bin_s", "bins": {"t", "sent", "accepted", ...},
// "totals": {...}, "plots": {id: {"x", "unit", "series": [{"name", "y"}]}}, "blocks": {...}}.
// Time bins are whole seconds, as many as needed to keep at most `max_points` per series; an
// interval belongs to the bin holding its midpoint (start + interval_ms / 2). Latency percentiles
// per bin come from the bin's merged histograms (exact merge, never averaged).
#pragma once

#include "tools/bts-report/report.hpp"

#include <string>

namespace bts::report {

struct HtmlOptions {
    std::size_t max_points = 600;   // time bins per series at most
    std::int64_t generated_ms = 0;  // "generated at" stamp; 0 = now
};

// `run` is StoreReader::load(run_id) of the same store. Reads the run's intervals (again, for the
// per-bin histograms) and the `blocks` table if present. Throws std::runtime_error on store errors.
std::string render_html(const std::string& store_path, const Run& run, const HtmlOptions& options);

}  // namespace bts::report
