// Inline SVG plots for the HTML report: line charts over time (linear or log y), with run events
// as vertical markers, and distributions on a log x axis. Pure string building, no I/O.
//
// A plot is drawn from a PlotSpec: one x vector shared by every series, NaN for "no value" (the
// line breaks there). The SVG carries data attributes the report's hover script and the tests
// use: data-plot (the plot id), data-points (points drawn over all series), data-x0/x1 and
// data-xmin/xmax (pixel and value range of the x axis).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace bts::report::svg {

// How axis values are written.
enum class Unit {
    kCount,      // 1.2k, 3.4M
    kLatencyUs,  // 850 us, 12 ms, 1.2 s
    kPercent,    // 45%
    kElapsed,    // seconds since the start: 0:45, 1:02:03
    kBytes,      // 512 B, 12 KiB
};

std::string format(double v, Unit unit);

struct Series {
    std::string name;
    std::string color;  // CSS colour
    std::vector<double> y;
    bool dashed = false;
    bool area = false;  // fill to the x axis (stacked areas are drawn by passing cumulative sums)
    double width = 1.6;
};

struct Marker {
    double x = 0;
    std::string level;  // info, warn, error: colour
    std::string label;  // tooltip
};

struct PlotSpec {
    std::string id;     // unique in the document, [a-z0-9-]
    std::string title;  // shown above the plot
    std::string y_label;
    Unit x_unit = Unit::kElapsed;
    Unit y_unit = Unit::kCount;
    bool log_x = false;
    bool log_y = false;
    bool bars = false;  // draw each series as bars at its x values (e.g. missed slots)
    double y_min =
        std::numeric_limits<double>::quiet_NaN();  // NaN = from the data (0 on linear axes)
    std::vector<double> x;
    std::vector<Series> series;
    std::vector<Marker> markers;
    int width = 960, height = 260;
};

// The <figure> holding the plot's <svg> and its legend. A plot without any finite value shows
// "no data" in its frame (data-points="0").
std::string render(const PlotSpec& spec);

// Escapes & < > " ' for HTML text and attributes.
std::string escape(const std::string& s);

}  // namespace bts::report::svg
