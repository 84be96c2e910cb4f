import Foundation

/// A self-contained HTML page (inline SVG, no scripts) with latency and throughput over time.
extension RunReport {
    public func renderHTML() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>prpm-loadtest — \(esc(profile))</title>
            <style>
            body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1040px}
            h1{font-size:20px}h2{font-size:16px;margin-top:28px}
            table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
            th{background:#f3f3f3}td.l,th.l{text-align:left}.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}
            svg text{font-size:11px;fill:#333}
            </style></head><body>
            <h1>prpm-loadtest: \(esc(profile)) against \(esc(target))</h1>
            <p>Started \(esc(startedAt)) · \(esc(mode)) · \(connections) connections · \(threads) thread(s) · result:
            <span class="\(passed ? "pass" : "fail")">\(passed ? "PASSED" : "FAILED")</span></p>

            """
        // The closed-loop baseline would dwarf the throughput scale: it is reported in its own line below.
        let points = timeline.filter { $0.phase != "baseline" }
        html += "<h2>Latency over time (ms, per second of completion)</h2>\n"
        html += chart(
            points: points,
            series: [
                ("p50", "#1f77b4", points.map { Double($0.p50) }),
                ("p99", "#d62728", points.map { Double($0.p99) }),
            ],
            yLabel: "latency (ms)"
        )
        html += "<h2>Throughput over time (completed requests per second)</h2>\n"
        html += chart(
            points: points,
            series: [
                ("throughput", "#2ca02c", points.map { Double($0.rps) }),
                ("errors", "#ff7f0e", points.map { Double($0.errors) }),
            ],
            yLabel: "requests / s"
        )
        html += "<h2>Summary (recorded phases)</h2>\n<table><tr>"
        html += ["requests", "errors", "throughput rps", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "hit ratio"]
            .map { "<th>\($0)</th>" }.joined()
        html += "</tr><tr>"
        html += [
            String(requests), String(errors), fmt(throughputRps, 1), fmt(latencyMs.p50), fmt(latencyMs.p90), fmt(latencyMs.p99),
            fmt(latencyMs.p999), fmt(latencyMs.max), cache.hitRatio.map { fmt($0, 3) } ?? "–",
        ].map { "<td>\($0)</td>" }.joined()
        html += "</tr></table>\n"
        html += "<h2>Phases</h2>\n<table><tr><th class=l>phase</th><th>kind</th><th>rate</th><th>requests</th><th>rps</th>"
        html += "<th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>error rate</th><th class=l>notes</th></tr>\n"
        for phase in phases {
            var notes: [String] = []
            if !phase.recorded { notes.append("not recorded") }
            if let s = phase.saturation { notes.append("saturation " + (s.rateRps.map { fmt($0, 0) + " rps" } ?? "below first step")) }
            if let f = phase.fault {
                notes.append("errors during \(fmt(f.errorRateDuring * 100, 2))%, after \(fmt(f.errorRateAfter * 100, 2))%")
                notes.append("recovery " + (f.recoveryS.map { fmt($0, 1) + " s" } ?? "none"))
            }
            let s = phase.stats
            html += "<tr><td class=l>\(esc(phase.name))</td><td>\(phase.kind.rawValue)</td><td>\(phase.rate.map { fmt($0, 0) } ?? "–")</td>"
            html += "<td>\(s.requests)</td><td>\(fmt(s.throughputRps, 1))</td><td>\(fmt(s.latencyMs.p50))</td><td>\(fmt(s.latencyMs.p99))</td>"
            html +=
                "<td>\(fmt(s.latencyMs.max))</td><td>\(fmt(s.errorRate * 100, 3))%</td><td class=l>\(esc(notes.joined(separator: "; ")))</td></tr>\n"
        }
        html += "</table>\n"
        if let baseline {
            html += "<p>Baseline <code>\(esc(baseline.path))</code>: \(fmt(baseline.throughputRps, 0)) rps closed-loop, p99 "
            html += "\(fmt(baseline.p99)) ms; ratio main/baseline throughput \(baseline.ratio.map { fmt($0, 3) } ?? "–").</p>\n"
        }
        html += "<h2>Thresholds</h2>\n<table><tr><th class=l>scope</th><th class=l>expression</th><th>measured</th><th>result</th></tr>\n"
        for t in thresholds {
            html += "<tr><td class=l>\(esc(t.scope))</td><td class=l><code>\(esc(t.expr))</code></td>"
            html += "<td>\(t.value.map { fmt($0, 4) } ?? "no data")</td>"
            html += "<td class=\(t.passed ? "pass" : "fail")>\(t.passed ? "pass" : "FAIL")</td></tr>\n"
        }
        html += "</table>\n</body></html>\n"
        return html
    }

    private func fmt(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }

    private func esc(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A line chart over the timeline with phase bands, axes, ticks and a legend.
    private func chart(points timeline: [TimelinePoint], series: [(name: String, color: String, values: [Double])], yLabel: String)
        -> String
    {
        let width = 980.0, height = 300.0
        let left = 64.0, right = 16.0, top = 30.0, bottom = 44.0
        let plotW = width - left - right, plotH = height - top - bottom
        let tMin = Double(timeline.first?.t ?? 0)
        let tMax = Double(max(Int(tMin) + 1, (timeline.last?.t ?? 0) + 1))
        let yMaxRaw = series.flatMap(\.values).max() ?? 0
        let (yMax, yStep) = niceScale(max(yMaxRaw, 1e-3))
        func x(_ t: Double) -> Double { left + (t - tMin) / (tMax - tMin) * plotW }
        func y(_ v: Double) -> Double { top + plotH - min(v, yMax) / yMax * plotH }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
        svg += "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\">\n"
        // Phase bands.
        var bands: [(name: String, start: Int, end: Int)] = []
        for point in timeline {
            if let last = bands.last, last.name == point.phase {
                bands[bands.count - 1].end = point.t + 1
            } else {
                bands.append((point.phase, point.t, point.t + 1))
            }
        }
        for (i, band) in bands.enumerated() {
            let x0 = x(Double(band.start)), x1 = x(Double(band.end))
            let fill = i % 2 == 0 ? "#f6f8fa" : "#eaeef2"
            svg += "<rect x=\"\(f1(x0))\" y=\"\(f1(top))\" width=\"\(f1(max(0, x1 - x0)))\" height=\"\(f1(plotH))\" fill=\"\(fill)\"/>\n"
            if x1 - x0 > 30 {
                svg += "<text x=\"\(f1(x0 + 3))\" y=\"\(f1(top + 12))\">\(esc(band.name))</text>\n"
            }
        }
        // Grid and y ticks.
        var v = 0.0
        while v <= yMax + yStep * 1e-6 {
            svg += "<line x1=\"\(f1(left))\" y1=\"\(f1(y(v)))\" x2=\"\(f1(left + plotW))\" y2=\"\(f1(y(v)))\" stroke=\"#d0d7de\"/>\n"
            svg += "<text x=\"\(f1(left - 6))\" y=\"\(f1(y(v) + 4))\" text-anchor=\"end\">\(tick(v))</text>\n"
            v += yStep
        }
        // X ticks.
        let (_, tStep) = niceScale(tMax - tMin)
        var t = (tMin / tStep).rounded(.up) * tStep
        while t <= tMax + 1e-9 {
            svg += "<line x1=\"\(f1(x(t)))\" y1=\"\(f1(top + plotH))\" x2=\"\(f1(x(t)))\" y2=\"\(f1(top + plotH + 4))\" stroke=\"#333\"/>\n"
            svg += "<text x=\"\(f1(x(t)))\" y=\"\(f1(top + plotH + 16))\" text-anchor=\"middle\">\(tick(t))</text>\n"
            t += tStep
        }
        // Axes.
        svg += "<line x1=\"\(f1(left))\" y1=\"\(f1(top))\" x2=\"\(f1(left))\" y2=\"\(f1(top + plotH))\" stroke=\"#333\"/>\n"
        svg += "<line x1=\"\(f1(left))\" y1=\"\(f1(top + plotH))\" x2=\"\(f1(left + plotW))\" y2=\"\(f1(top + plotH))\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(f1(left + plotW / 2))\" y=\"\(f1(height - 6))\" text-anchor=\"middle\">time since start (s)</text>\n"
        svg += "<text transform=\"translate(14 \(f1(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))</text>\n"
        // Series.
        for s in series where !s.values.isEmpty {
            let points = zip(timeline, s.values).map { "\(f1(x(Double($0.t) + 0.5))),\(f1(y($1)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.6\" points=\"\(points)\"/>\n"
        }
        // Legend.
        var lx = left + plotW - 8
        for s in series.reversed() {
            let w = Double(s.name.count) * 7 + 26
            lx -= w
            svg += "<rect x=\"\(f1(lx))\" y=\"8\" width=\"14\" height=\"4\" fill=\"\(s.color)\"/>"
            svg += "<text x=\"\(f1(lx + 18))\" y=\"14\">\(esc(s.name))</text>\n"
        }
        if yMaxRaw > yMax { svg += "<text x=\"\(f1(left + 4))\" y=\"\(f1(top - 4))\">(clipped)</text>\n" }
        svg += "</svg>\n"
        return svg
    }

    private func f1(_ v: Double) -> String { String(format: "%.1f", v) }

    private func tick(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : (abs(v) < 1 ? String(format: "%.3g", v) : String(format: "%.1f", v))
    }

    /// A rounded axis maximum and a 1/2/5×10^k step giving about 5 ticks.
    private func niceScale(_ maxValue: Double) -> (max: Double, step: Double) {
        let rough = maxValue / 5
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let residual = rough / magnitude
        let step = (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude
        return ((maxValue / step).rounded(.up) * step, step)
    }
}
