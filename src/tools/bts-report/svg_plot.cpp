// Inline SVG plots for the HTML report (see svg_plot.hpp).
#include "tools/bts-report/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace bts::report::svg {
namespace {

constexpr double kLeft = 66, kRight = 14, kTop = 12, kBottom = 32;

std::string trimmed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    if (s.find('.') != std::string::npos) {
        while (!s.empty() && s.back() == '0') s.pop_back();
        if (!s.empty() && s.back() == '.') s.pop_back();
    }
    if (s == "-0") s = "0";
    return s;
}

// Three significant digits at most, no exponent.
std::string short_num(double v) {
    const double a = std::fabs(v);
    if (a >= 100) return trimmed(v, 0);
    if (a >= 10) return trimmed(v, 1);
    if (a >= 1) return trimmed(v, 2);
    return trimmed(v, 3);
}

std::string px(double v) {
    return trimmed(v, 1);
}

bool usable(double v, bool log) {
    return std::isfinite(v) && (!log || v > 0);
}

double nice_step(double range, int target) {
    if (range <= 0) return 1;
    const double raw = range / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (raw <= m * mag) return m * mag;
    return 10 * mag;
}

double elapsed_step(double range) {
    for (double s : {1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
                     3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0})
        if (range / s <= 8) return s;
    return nice_step(range, 8);
}

struct Axis {
    double lo = 0, hi = 1;  // in data units (log10 of them on a log axis)
    bool log = false;
    double p0 = 0, p1 = 1;  // pixels
    double map(double v) const {
        const double t = log ? std::log10(v) : v;
        return p0 + (t - lo) / (hi - lo) * (p1 - p0);
    }
};

std::vector<double> ticks(const Axis& a, Unit unit, bool& minor_labels) {
    std::vector<double> out;
    minor_labels = false;
    if (!std::isfinite(a.lo) || !std::isfinite(a.hi) || a.hi <= a.lo) return out;
    if (a.log) {
        const int d0 = static_cast<int>(std::floor(a.lo)), d1 = static_cast<int>(std::ceil(a.hi));
        const bool minors = d1 - d0 <= 3;
        minor_labels = d1 - d0 <= 2;
        for (int d = d0; d <= d1; ++d) {
            for (double m : {1.0, 2.0, 5.0}) {
                if (m != 1.0 && !minors) continue;
                const double v = m * std::pow(10.0, d);
                const double l = std::log10(v);
                if (l >= a.lo - 1e-9 && l <= a.hi + 1e-9) out.push_back(v);
            }
        }
        return out;
    }
    const double step =
        unit == Unit::kElapsed ? elapsed_step(a.hi - a.lo) : nice_step(a.hi - a.lo, 5);
    if (!(step > 0) || (a.hi - a.lo) / step > 1000) return out;
    for (double v = std::ceil(a.lo / step - 1e-9) * step;
         v <= a.hi + step * 1e-9 && out.size() < 1000; v += step)
        out.push_back(v);
    return out;
}

}  // namespace

std::string escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string format(double v, Unit unit) {
    if (!std::isfinite(v)) return "-";
    const double a = std::fabs(v);
    switch (unit) {
        case Unit::kCount:
            if (a >= 1e9) return short_num(v / 1e9) + "G";
            if (a >= 1e6) return short_num(v / 1e6) + "M";
            if (a >= 1e3) return short_num(v / 1e3) + "k";
            return short_num(v);
        case Unit::kLatencyUs:
            if (a >= 1e6) return short_num(v / 1e6) + " s";
            if (a >= 1e3) return short_num(v / 1e3) + " ms";
            return short_num(v) + " us";
        case Unit::kPercent:
            return short_num(v) + "%";
        case Unit::kBytes:
            if (a >= 1024.0 * 1024) return short_num(v / 1024 / 1024) + " MiB";
            if (a >= 1024) return short_num(v / 1024) + " KiB";
            return short_num(v) + " B";
        case Unit::kElapsed: {
            const auto s = static_cast<long long>(std::llround(v));
            const long long h = std::llabs(s) / 3600, m = std::llabs(s) / 60 % 60,
                            sec = std::llabs(s) % 60;
            char buf[48];
            if (h)
                std::snprintf(buf, sizeof buf, "%s%lld:%02lld:%02lld", s < 0 ? "-" : "", h, m, sec);
            else
                std::snprintf(buf, sizeof buf, "%s%lld:%02lld", s < 0 ? "-" : "", m, sec);
            return buf;
        }
    }
    return short_num(v);
}

std::string render(const PlotSpec& spec) {
    const double W = spec.width, H = spec.height;
    Axis xa, ya;
    xa.log = spec.log_x;
    ya.log = spec.log_y;
    xa.p0 = kLeft;
    xa.p1 = W - kRight;
    ya.p0 = H - kBottom;
    ya.p1 = kTop;

    // Ranges from the data.
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    std::size_t points = 0;
    for (const auto& s : spec.series) {
        for (std::size_t i = 0; i < s.y.size() && i < spec.x.size(); ++i) {
            if (!usable(spec.x[i], xa.log) || !usable(s.y[i], ya.log)) continue;
            xmin = std::min(xmin, spec.x[i]);
            xmax = std::max(xmax, spec.x[i]);
            ymin = std::min(ymin, s.y[i]);
            ymax = std::max(ymax, s.y[i]);
            ++points;
        }
    }
    // The time axis spans every x (and marker), not only where a series has values.
    if (spec.x_unit == Unit::kElapsed) {
        for (double x : spec.x)
            if (std::isfinite(x)) xmin = std::min(xmin, x), xmax = std::max(xmax, x);
        for (const auto& m : spec.markers) xmin = std::min(xmin, m.x), xmax = std::max(xmax, m.x);
    }
    std::string out = "<figure class=\"plot\" id=\"plot-" + spec.id + "\">\n<figcaption>" +
                      escape(spec.title) + "</figcaption>\n";
    if (!std::isfinite(xmin)) xmin = xa.log ? 1 : 0, xmax = xa.log ? 10 : 1;
    if (xmax <= xmin) xmax = xmin + (xa.log ? xmin * 9 : 1);
    if (!std::isfinite(ymin)) ymin = ya.log ? 1 : 0, ymax = ya.log ? 10 : 1;
    if (!ya.log)
        ymin = std::isfinite(spec.y_min) ? spec.y_min : std::min(0.0, ymin);
    else if (std::isfinite(spec.y_min) && spec.y_min > 0)
        ymin = spec.y_min;
    if (ymax <= ymin) ymax = ya.log ? ymin * 10 : ymin + 1;
    if (xa.log) {
        xa.lo = std::log10(xmin);
        xa.hi = std::log10(xmax);
    } else {
        xa.lo = xmin;
        xa.hi = xmax;
    }
    if (ya.log) {
        ya.lo = std::floor(std::log10(ymin));
        ya.hi = std::ceil(std::log10(ymax));
        if (ya.hi <= ya.lo) ya.hi = ya.lo + 1;
    } else {
        const double step = nice_step(ymax - ymin, 5);
        ya.lo = std::floor(ymin / step) * step;
        ya.hi = std::ceil(ymax * 1.04 / step) * step;
        if (ya.hi <= ya.lo) ya.hi = ya.lo + step;
    }

    out += "<svg class=\"plot\" viewBox=\"0 0 " + px(W) + " " + px(H) + "\" width=\"" + px(W) +
           "\" height=\"" + px(H) + "\" role=\"img\" aria-label=\"" + escape(spec.title) +
           "\" data-plot=\"" + spec.id + "\" data-points=\"" + std::to_string(points) +
           "\" data-x0=\"" + px(xa.p0) + "\" data-x1=\"" + px(xa.p1) + "\" data-xmin=\"" +
           trimmed(xmin, 3) + "\" data-xmax=\"" + trimmed(xmax, 3) + "\" data-logx=\"" +
           (xa.log ? "1" : "0") + "\">\n";
    // Grid and axes.
    bool minor_labels = false;
    out += "<g class=\"grid\">";
    std::string labels;
    for (double v : ticks(ya, spec.y_unit, minor_labels)) {
        const double y = ya.map(v);
        const bool major = !ya.log || std::fabs(std::log10(v) - std::round(std::log10(v))) < 1e-9;
        out += "<line x1=\"" + px(xa.p0) + "\" x2=\"" + px(xa.p1) + "\" y1=\"" + px(y) +
               "\" y2=\"" + px(y) + "\"" + (major ? "" : " class=\"minor\"") + "/>";
        if (major || minor_labels)
            labels += "<text x=\"" + px(xa.p0 - 5) + "\" y=\"" + px(y + 3.5) +
                      "\" text-anchor=\"end\">" + escape(format(v, spec.y_unit)) + "</text>";
    }
    for (double v : ticks(xa, spec.x_unit, minor_labels)) {
        const double x = xa.map(v);
        const bool major = !xa.log || std::fabs(std::log10(v) - std::round(std::log10(v))) < 1e-9;
        out += "<line x1=\"" + px(x) + "\" x2=\"" + px(x) + "\" y1=\"" + px(ya.p1) + "\" y2=\"" +
               px(ya.p0) + "\"" + (major ? "" : " class=\"minor\"") + "/>";
        if (major || minor_labels)
            labels += "<text x=\"" + px(x) + "\" y=\"" + px(ya.p0 + 14) +
                      "\" text-anchor=\"middle\">" + escape(format(v, spec.x_unit)) + "</text>";
    }
    out += "</g>\n<rect class=\"frame\" x=\"" + px(xa.p0) + "\" y=\"" + px(ya.p1) + "\" width=\"" +
           px(xa.p1 - xa.p0) + "\" height=\"" + px(ya.p0 - ya.p1) + "\"/>\n<g class=\"labels\">" +
           labels;
    if (!spec.y_label.empty())
        out += "<text class=\"ylabel\" transform=\"translate(12," + px((ya.p0 + ya.p1) / 2) +
               ") rotate(-90)\" text-anchor=\"middle\">" + escape(spec.y_label) + "</text>";
    out += "</g>\n";
    if (points == 0)
        out += "<text class=\"nodata\" x=\"" + px((xa.p0 + xa.p1) / 2) + "\" y=\"" +
               px((ya.p0 + ya.p1) / 2) + "\" text-anchor=\"middle\">no data</text>\n";

    // Series.
    const double base = ya.p0;
    for (const auto& s : spec.series) {
        const std::size_t n = std::min(s.y.size(), spec.x.size());
        if (spec.bars) {
            const double slot = n ? (xa.p1 - xa.p0) / static_cast<double>(n) : 1;
            const double bw = std::max(1.0, slot * 0.8);
            std::string d;
            for (std::size_t i = 0; i < n; ++i) {
                if (!usable(spec.x[i], xa.log) || !usable(s.y[i], ya.log) || s.y[i] <= 0) continue;
                const double x = xa.map(spec.x[i]), y = std::max(ya.p1, ya.map(s.y[i]));
                d += "M" + px(x - bw / 2) + "," + px(base) + "V" + px(y) + "h" + px(bw) + "V" +
                     px(base) + "Z";
            }
            out += "<path class=\"series bars\" data-name=\"" + escape(s.name) + "\" fill=\"" +
                   s.color + "\" d=\"" + d + "\"/>\n";
            continue;
        }
        std::string d;
        bool pen = false;
        double first_x = 0, last_x = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (!usable(spec.x[i], xa.log)) continue;
            double v = s.y[i];
            if (s.area && !std::isfinite(v)) v = ya.log ? NAN : 0;
            if (!usable(v, ya.log)) {
                pen = false;
                continue;
            }
            const double x = xa.map(spec.x[i]), y = std::clamp(ya.map(v), ya.p1, ya.p0);
            if (d.empty()) first_x = x;
            last_x = x;
            d += (pen ? "L" : "M") + px(x) + "," + px(y);
            pen = true;
        }
        if (s.area && !d.empty()) {
            const std::string line = d;
            d += "L" + px(last_x) + "," + px(base) + "L" + px(first_x) + "," + px(base) + "Z";
            out += "<path class=\"series area\" fill=\"" + s.color +
                   "\" fill-opacity=\"0.25\" d=\"" + d + "\"/>\n";
            d = line;
        }
        out += "<path class=\"series\" data-name=\"" + escape(s.name) +
               "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"" + px(s.width) + "\"" +
               (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + " d=\"" + d + "\"/>\n";
    }

    // Run events: one marker per pixel column, tooltips merged.
    if (!spec.markers.empty() && !xa.log) {
        std::map<long, std::pair<std::string, std::vector<std::string>>>
            cols;  // px → (worst level, labels)
        auto rank = [](const std::string& l) { return l == "error" ? 2 : l == "warn" ? 1 : 0; };
        for (const auto& m : spec.markers) {
            auto& c = cols[std::lround(xa.map(m.x))];
            if (c.second.empty() || rank(m.level) > rank(c.first)) c.first = m.level;
            c.second.push_back(m.label);
        }
        out += "<g class=\"markers\">";
        for (const auto& [x, c] : cols) {
            std::string tip;
            for (std::size_t i = 0; i < c.second.size() && i < 8; ++i)
                tip += (i ? "\n" : "") + c.second[i];
            if (c.second.size() > 8)
                tip += "\n… and " + std::to_string(c.second.size() - 8) + " more";
            const std::string lvl = c.first == "error"  ? "error"
                                    : c.first == "warn" ? "warn"
                                                        : "info";
            out += "<g class=\"marker " + lvl + "\"><title>" + escape(tip) + "</title><line x1=\"" +
                   std::to_string(x) + "\" x2=\"" + std::to_string(x) + "\" y1=\"" + px(ya.p1) +
                   "\" y2=\"" + px(ya.p0) + "\"/><path d=\"M" + std::to_string(x - 4) + "," +
                   px(ya.p1) + "h8l-4,6Z\"/></g>";
        }
        out += "</g>\n";
    }
    out += "<line class=\"cursor\" x1=\"0\" x2=\"0\" y1=\"" + px(ya.p1) + "\" y2=\"" + px(ya.p0) +
           "\"/>\n</svg>\n";

    out += "<div class=\"legend\">";
    for (const auto& s : spec.series)
        out += "<span><i style=\"background:" + s.color + "\"></i>" + escape(s.name) + "</span>";
    if (!spec.markers.empty() && !xa.log) out += "<span><i class=\"ev\"></i>run events</span>";
    out += "</div>\n</figure>\n";
    return out;
}

}  // namespace bts::report::svg
