import Foundation
import Testing
import TicklineCore
@testable import Analytics

/// 2024-03-01T14:30:00Z in nanoseconds since the epoch (checked against Python's datetime).
let t0: Int64 = 1_709_303_400 * 1_000_000_000
let second: Int64 = 1_000_000_000
let day: Int64 = 86_400 * second

func q(_ text: String) -> Quantity { try! Quantity(parsing: text) }
func px(_ text: String) -> Price { try! Price(parsing: text) }
func money(_ text: String) -> Money { try! Money(parsing: text) }

func makeRecorder(capital: String = "100000", _ adjust: (inout AnalyticsConfiguration) -> Void = { _ in }) -> BacktestRecorder {
    var configuration = AnalyticsConfiguration(startingCapital: money(capital))
    adjust(&configuration)
    return try! BacktestRecorder(configuration: configuration)
}

/// Feeds one fill report. `execID` defaults to a fresh number per call.
nonisolated(unsafe) var nextExecID: UInt64 = 1_000_000
func fill(_ recorder: BacktestRecorder, order: UInt64 = 0, instrument: UInt32 = 1, _ side: Side, _ quantity: String,
          at price: String, fee: String = "0", time: Int64, partial: Bool = false, execID: UInt64? = nil) {
    nextExecID += 1
    recorder.record(ExecReport(
        execType: partial ? .partialFill : .fill, clientOrderID: OrderID(order), instrument: InstrumentID(instrument),
        side: side, execID: execID ?? nextExecID, lastQuantity: q(quantity), lastPrice: px(price), fee: money(fee),
        tsEvent: Nanos(time)))
}

func mark(_ recorder: BacktestRecorder, instrument: UInt32 = 1, _ price: String, time: Int64) {
    recorder.recordMark(InstrumentID(instrument), price: px(price), time: Nanos(time))
}

func temporaryDirectory(_ name: String) -> String {
    NSTemporaryDirectory() + "tickline-analytics-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}

func parseJSON(_ text: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(object as? [String: Any])
}

/// A parsed JSON object printed back with sorted keys, for comparing two of them.
func canonical(_ object: [String: Any]) throws -> Data {
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
}

/// Checks that every element in an HTML/SVG document is closed in order (void elements must be
/// self-closed `<x ... />`), ignoring the doctype and text. Returns the first problem, or nil.
func tagBalanceProblem(_ html: String) -> String? {
    var stack: [String] = []
    var index = html.startIndex
    while let open = html[index...].firstIndex(of: "<") {
        guard let close = html[open...].firstIndex(of: ">") else { return "unterminated tag" }
        let tag = html[html.index(after: open)..<close]
        index = html.index(after: close)
        if tag.hasPrefix("!") { continue }
        if tag.hasPrefix("/") {
            let name = String(tag.dropFirst())
            guard let top = stack.popLast() else { return "closing </\(name)> with nothing open" }
            guard top == name else { return "</\(name)> closes <\(top)>" }
            continue
        }
        let name = String(tag.prefix { $0 != " " && $0 != "/" && $0 != "\n" })
        if tag.hasSuffix("/") { continue }
        stack.append(name)
    }
    return stack.isEmpty ? nil : "unclosed: \(stack)"
}
