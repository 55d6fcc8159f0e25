#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TicklineCore

/// Inline SVG charts drawn by hand (no scripts, no external files): every coordinate is printed
/// with one decimal by `AnalyticsFormat`, so the same data always gives the same bytes.
enum SVGCharts {
    static let width = 960.0
    static let height = 300.0
    static let left = 96.0
    static let right = 24.0
    static let top = 30.0
    static let bottom = 46.0
    static var plotWidth: Double { width - left - right }
    static var plotHeight: Double { height - top - bottom }

    /// Maps data coordinates onto the plot area.
    struct Frame {
        var x0: Double, x1: Double, y0: Double, y1: Double
        func x(_ value: Double) -> Double { SVGCharts.left + (value - x0) / (x1 - x0) * SVGCharts.plotWidth }
        func y(_ value: Double) -> Double { SVGCharts.top + SVGCharts.plotHeight - (value - y0) / (y1 - y0) * SVGCharts.plotHeight }
    }

    static func f(_ value: Double) -> String { AnalyticsFormat.fixed(value, decimals: 1) }

    static func open(id: String, label: String) -> String {
        "<svg class=\"chart\" id=\"\(id)\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escapeHTML(label))\">\n<title>\(escapeHTML(label))</title>\n"
    }

    static func noData(id: String, label: String) -> String {
        open(id: id, label: label)
            + "<text class=\"empty\" x=\"\(f(width / 2))\" y=\"\(f(height / 2))\" text-anchor=\"middle\">no data</text>\n</svg>\n"
    }

    // MARK: Axes

    /// About `target` round-numbered ticks (steps of 1, 2 or 5 × 10^k) covering [low, high].
    static func niceTicks(_ low: Double, _ high: Double, target: Int = 5) -> (ticks: [Double], step: Double) {
        var lo = low, hi = high
        if !(hi > lo) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.01
            lo -= pad
            hi += pad
        }
        let raw = (hi - lo) / Double(target)
        let exponent = floor(log10(raw))
        let base = pow(10, exponent)
        let fraction = raw / base
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        let step = nice * base
        var ticks: [Double] = []
        let first = floor(lo / step)
        for i in 0..<100 {
            let tick = (first + Double(i)) * step
            ticks.append(tick)
            if tick >= hi - step * 1e-9 { break }
        }
        return (ticks, step)
    }

    /// A tick label with as many decimals as the step needs and thousands separators.
    static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, min(9, Int(-floor(log10(step)))))
        let text = AnalyticsFormat.fixed(value, decimals: decimals)
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integer = Int(parts[0]).map(AnalyticsFormat.grouped) ?? String(parts[0])
        let result = parts.count > 1 ? integer + "." + parts[1] : integer
        return negative && result.contains(where: { $0 != "0" && $0 != "." && $0 != "," }) ? "-" + result : result
    }

    static func yAxis(_ frame: Frame, ticks: [Double], labels: [String]) -> String {
        var out = "<g class=\"grid\">\n"
        for (tick, text) in zip(ticks, labels) {
            let y = f(frame.y(tick))
            out += "<line x1=\"\(f(left))\" y1=\"\(y)\" x2=\"\(f(width - right))\" y2=\"\(y)\"/>\n"
            out += "<text x=\"\(f(left - 6))\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(escapeHTML(text))</text>\n"
        }
        return out + "</g>\n"
    }

    static func xAxis(_ frame: Frame, ticks: [Double], labels: [String]) -> String {
        var out = "<g class=\"axis\">\n"
        let baseline = f(top + plotHeight)
        out += "<line x1=\"\(f(left))\" y1=\"\(baseline)\" x2=\"\(f(width - right))\" y2=\"\(baseline)\"/>\n"
        for (tick, text) in zip(ticks, labels) {
            let x = f(frame.x(tick))
            out += "<line x1=\"\(x)\" y1=\"\(baseline)\" x2=\"\(x)\" y2=\"\(f(top + plotHeight + 5))\"/>\n"
            out += "<text x=\"\(x)\" y=\"\(f(top + plotHeight + 20))\" text-anchor=\"middle\">\(escapeHTML(text))</text>\n"
        }
        return out + "</g>\n"
    }

    /// Time ticks at round UTC multiples (1 s … 30 days), at most about eight.
    static func timeTicks(from start: Int64, to end: Int64) -> (ticks: [Int64], labels: [String]) {
        let second: Int64 = 1_000_000_000
        let steps: [Int64] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200,
                              86_400, 172_800, 604_800, 1_209_600, 2_592_000, 7_776_000, 31_536_000].map { $0 * second }
        let span = max(end - start, 1)
        let step = steps.first(where: { span / $0 <= 8 }) ?? steps[steps.count - 1]
        var ticks: [Int64] = []
        var tick = AnalyticsFormat.floorDivision(start, step) * step
        if tick < start { tick += step }
        while tick <= end {
            ticks.append(tick)
            tick += step
        }
        let labels = ticks.map { tick -> String in
            let text = AnalyticsFormat.humanTime(Nanos(tick))        // YYYY-MM-DD HH:MM:SS
            let date = String(text.prefix(10)), clock = String(text.suffix(8))
            if step >= 86_400 * second { return date }
            if span >= 86_400 * second { return String(date.suffix(5)) + " " + String(clock.prefix(5)) }
            return step < 60 * second ? clock : String(clock.prefix(5))
        }
        return (ticks, labels)
    }

    // MARK: Series reduction

    /// At most about 4 × `columns` points: per time column, its first, lowest, highest and last
    /// point, in their original order (so peaks and troughs survive the reduction).
    static func reduce(_ times: [Int64], _ values: [Double], columns: Int) -> [(Int64, Double)] {
        guard times.count > columns * 4, let first = times.first, let last = times.last, last > first else {
            return Array(zip(times, values))
        }
        var keep = [Bool](repeating: false, count: times.count)
        var column = -1
        var firstIndex = 0, lowIndex = 0, highIndex = 0, lastIndex = 0
        func flush() {
            guard column >= 0 else { return }
            keep[firstIndex] = true; keep[lowIndex] = true; keep[highIndex] = true; keep[lastIndex] = true
        }
        let span = Double(last - first)
        for index in times.indices {
            let c = min(columns - 1, Int(Double(times[index] - first) / span * Double(columns)))
            if c != column {
                flush()
                column = c
                firstIndex = index; lowIndex = index; highIndex = index
            }
            if values[index] < values[lowIndex] { lowIndex = index }
            if values[index] > values[highIndex] { highIndex = index }
            lastIndex = index
        }
        flush()
        return times.indices.filter { keep[$0] }.map { (times[$0], values[$0]) }
    }

    // MARK: Charts

    /// A line over time (equity), or a filled area down from zero (drawdown, `area: true`).
    static func timeSeries(id: String, label: String, times: [Int64], values: [Double], columns: Int,
                           area: Bool, valueLabel: (Double, Double) -> String) -> String {
        guard let start = times.first, let end = times.last else { return noData(id: id, label: label) }
        let points = reduce(times, values, columns: columns)
        var low = points.map(\.1).min()!, high = points.map(\.1).max()!
        if area { high = max(high, 0); low = min(low, 0) }
        let (ticks, step) = niceTicks(low, high)
        let frame = Frame(x0: Double(start), x1: Double(max(end, start + 1)), y0: ticks.first!, y1: ticks.last!)
        var out = open(id: id, label: label)
        out += yAxis(frame, ticks: ticks, labels: ticks.map { valueLabel($0, step) })
        let (xTicks, xLabels) = timeTicks(from: start, to: max(end, start + 1))
        out += xAxis(frame, ticks: xTicks.map(Double.init), labels: xLabels)
        var coordinates = points.map { "\(f(frame.x(Double($0.0)))),\(f(frame.y($0.1)))" }
        if area {
            let zero = f(frame.y(0))
            coordinates.insert("\(f(frame.x(Double(points.first!.0)))),\(zero)", at: 0)
            coordinates.append("\(f(frame.x(Double(points.last!.0)))),\(zero)")
            out += "<polygon class=\"area\" points=\"\(coordinates.joined(separator: " "))\"/>\n"
        } else {
            out += "<polyline class=\"line\" points=\"\(coordinates.joined(separator: " "))\"/>\n"
        }
        return out + "</svg>\n"
    }

    /// One bar per day, green above zero and red below, dates under them (thinned to about ten).
    static func dailyBars(id: String, label: String, days: [DailyResult]) -> String {
        guard !days.isEmpty else { return noData(id: id, label: label) }
        let values = days.map { $0.pnl.doubleValue }
        let (ticks, step) = niceTicks(min(values.min()!, 0), max(values.max()!, 0))
        let frame = Frame(x0: 0, x1: Double(days.count), y0: ticks.first!, y1: ticks.last!)
        var out = open(id: id, label: label)
        out += yAxis(frame, ticks: ticks, labels: ticks.map { self.label($0, step: step) })
        let every = max(1, (days.count + 9) / 10)
        let labelIndices = days.indices.filter { $0 % every == 0 }
        out += xAxis(frame, ticks: labelIndices.map { Double($0) + 0.5 }, labels: labelIndices.map { days[$0].date })
        let slot = plotWidth / Double(days.count)
        let barWidth = max(1, slot * 0.7)
        let zero = frame.y(0)
        out += "<g class=\"bars\">\n"
        for (index, value) in values.enumerated() {
            let x = frame.x(Double(index) + 0.5) - barWidth / 2
            let y = frame.y(value)
            let barTop = min(y, zero), barHeight = max(abs(zero - y), 0.5)
            out += "<rect class=\"\(value < 0 ? "loss" : "gain")\" x=\"\(f(x))\" y=\"\(f(barTop))\" width=\"\(f(barWidth))\" height=\"\(f(barHeight))\"><title>\(days[index].date): \(escapeHTML(AnalyticsFormat.money(days[index].pnl)))</title></rect>\n"
        }
        return out + "</g>\n</svg>\n"
    }

    static let stageColours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#444444"]

    /// Percentile plot per stage: x = percentile on a log scale of 1 / (1 − p) from p50 to
    /// p99.99, y = latency on a log scale.
    static func latencyPercentiles(id: String, label: String, latencies: StageLatencies) -> String {
        let present = StageLatencies.stages.indices.filter { latencies.histograms[$0].count > 0 }
        guard !present.isEmpty else { return noData(id: id, label: label) }
        let xLow = log10(2.0), xHigh = 4.0
        let samples = 60
        var curves: [(stage: Int, points: [(Double, Double)])] = []
        var yLow = Double.infinity, yHigh = -Double.infinity
        for stage in present {
            var points: [(Double, Double)] = []
            for i in 0..<samples {
                let x = xLow + (xHigh - xLow) * Double(i) / Double(samples - 1)
                let p = (1 - pow(10, -x)) * 100
                let value = Double(max(1, latencies.histograms[stage].percentile(p) ?? 1))
                let y = log10(value)
                yLow = min(yLow, y)
                yHigh = max(yHigh, y)
                points.append((x, y))
            }
            curves.append((stage, points))
        }
        let decadeLow = floor(yLow), decadeHigh = max(ceil(yHigh), decadeLow + 1)
        let frame = Frame(x0: xLow, x1: xHigh, y0: decadeLow, y1: decadeHigh)
        var out = open(id: id, label: label)
        let decades = Array(stride(from: decadeLow, through: decadeHigh, by: 1))
        out += yAxis(frame, ticks: decades, labels: decades.map { decadeLabel(Int($0)) })
        out += xAxis(frame, ticks: [xLow, 1, 2, 3, 4], labels: ["p50", "p90", "p99", "p99.9", "p99.99"])
        for (stage, points) in curves {
            let coordinates = points.map { "\(f(frame.x($0.0))),\(f(frame.y($0.1)))" }.joined(separator: " ")
            out += "<polyline class=\"stage\" stroke=\"\(stageColours[stage])\" points=\"\(coordinates)\"><title>\(StageLatencies.stages[stage])</title></polyline>\n"
        }
        // Legend: one row in the top margin.
        out += "<g class=\"legend\">\n"
        for (column, stage) in present.enumerated() {
            let x = left + Double(column) * 96
            out += "<rect x=\"\(f(x))\" y=\"\(f(top / 2 - 2))\" width=\"14\" height=\"4\" fill=\"\(stageColours[stage])\"/>"
            out += "<text x=\"\(f(x + 20))\" y=\"\(f(top / 2))\" dominant-baseline=\"middle\">\(StageLatencies.stages[stage])</text>\n"
        }
        return out + "</g>\n</svg>\n"
    }

    /// `1 ns`, `10 ns`, `100 ns`, `1 µs`, … for the power of ten `exponent`.
    static func decadeLabel(_ exponent: Int) -> String {
        let units = ["ns", "µs", "ms", "s"]
        let unit = min(max(exponent, 0) / 3, units.count - 1)
        var text = "1"
        for _ in 0..<(max(exponent, 0) - unit * 3) { text += "0" }
        return "\(text) \(units[unit])"
    }
}

/// Text made safe for HTML element content and attribute values.
func escapeHTML(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
