import Foundation
import Testing
import TicklineCore
@testable import Analytics

/// Feeds a seeded stream like a small backtest's: two instruments over three days, orders with
/// acks, partial fills, cancels, risk rejects, marks and latency traces.
func feedSession(_ r: BacktestRecorder, seed: UInt64) {
    var random = SplitMix64(seed: seed)
    r.setSymbol("ESH4", for: InstrumentID(1))
    r.setSymbol("NQ,H4", for: InstrumentID(2))   // a comma, to exercise CSV quoting
    var time = t0
    var id: UInt64 = 0
    var mid: [UInt32: Int64] = [1: 5_000_00, 2: 18_000_00]   // cents
    for step in 0..<3_000 {
        time += Int64(random.next() % 60) * second + Int64(random.next() % 1_000_000)
        if step == 1_000 || step == 2_000 { time += day }
        let instrument = UInt32(random.next() % 2) + 1
        mid[instrument]! += Int64(random.next() % 21) - 10
        let price = Price(raw: mid[instrument]! * 10_000_000)
        r.recordMark(InstrumentID(instrument), price: price, time: Nanos(time))
        r.recordEvents(Int(random.next() % 5_000))
        var trace = StageTrace(origin: Nanos(time))
        trace.decode = UInt32(50 + random.next() % 200)
        trace.features = trace.decode + UInt32(20 + random.next() % 300)
        trace.model = trace.features + UInt32(random.next() % 5_000)
        trace.risk = trace.model + UInt32(30 + random.next() % 100)
        trace.routing = trace.risk + UInt32(40 + random.next() % 400)
        r.recordLatency(trace)
        switch random.next() % 6 {
        case 0:
            r.record(RiskDecisionRecord(tsEvent: Nanos(time), clientOrderID: OrderID(0), instrument: InstrumentID(instrument),
                                        side: .buy, orderType: .limit, quantity: q("5"), price: price,
                                        reason: random.next() % 2 == 0 ? .maxPosition : .orderRateEngine))
        case 1, 2, 3:
            id += 1
            let side: Side = random.next() % 2 == 0 ? .buy : .sell
            let quantity = Quantity(units: Int64(random.next() % 4 + 1))
            r.record(OrderCommand(action: .new, clientOrderID: OrderID(id), instrument: InstrumentID(instrument), side: side,
                                  quantity: quantity, price: price, tsEvent: Nanos(time)))
            r.record(ExecReport(execType: .new, clientOrderID: OrderID(id), instrument: InstrumentID(instrument), side: side,
                                leavesQuantity: quantity, tsEvent: Nanos(time + 1_000)))
            let outcome = random.next() % 4
            if outcome == 0 {
                r.record(OrderCommand(action: .cancel, clientOrderID: OrderID(id), instrument: InstrumentID(instrument), side: side,
                                      quantity: quantity, price: price, tsEvent: Nanos(time + 2_000)))
                r.record(ExecReport(execType: .canceled, clientOrderID: OrderID(id), instrument: InstrumentID(instrument),
                                    side: side, tsEvent: Nanos(time + 3_000)))
            } else {
                let first = Quantity(raw: quantity.raw / 2)
                if first.raw > 0 {
                    r.record(ExecReport(execType: .partialFill, clientOrderID: OrderID(id), instrument: InstrumentID(instrument),
                                        side: side, execID: id * 10, lastQuantity: first, lastPrice: price,
                                        fee: Money(raw: first.raw / 1_000 * 25 / 1_000_000), tsEvent: Nanos(time + 2_000)))
                }
                let rest = quantity - first
                r.record(ExecReport(execType: .fill, clientOrderID: OrderID(id), instrument: InstrumentID(instrument),
                                    side: side, execID: id * 10 + 1, lastQuantity: rest, lastPrice: price + Price(raw: 250_000_000),
                                    fee: Money(raw: 1_250_000), tsEvent: Nanos(time + 3_000)))
            }
        default:
            break
        }
    }
}

func sessionReport(seed: UInt64 = 11, elapsed: Double = 2.5) -> BacktestReport {
    let r = makeRecorder(capital: "1000000")
    feedSession(r, seed: seed)
    return r.makeReport(wallElapsedSeconds: elapsed)
}

@Suite struct SummaryJSONTests {
    @Test func keysAreExactlyTheDocumentedOnes() throws {
        let report = sessionReport()
        let json = try parseJSON(report.summaryJSON())
        #expect(json.keys.sorted() == SummaryKeys.topLevel.map(\.name).sorted())
        #expect(SummaryKeys.topLevel.map(\.name) == SummaryKeys.topLevel.map(\.name).sorted(), "the table is sorted")
        let instruments = try #require(json["instruments"] as? [String: Any])
        #expect(instruments.keys.sorted() == ["ESH4", "NQ,H4"])
        for (_, value) in instruments {
            let object = try #require(value as? [String: Any])
            #expect(object.keys.sorted() == SummaryKeys.perInstrument.map(\.name))
        }
        let days = try #require(json["daily_pnl"] as? [[String: Any]])
        #expect(days.count == report.days.count && days.count >= 3)
        for object in days { #expect(object.keys.sorted() == SummaryKeys.perDay.map(\.name)) }
        let stages = try #require(json["stage_latency_ns_wall"] as? [String: Any])
        #expect(stages.keys.sorted() == StageLatencies.stages.sorted())
        for (_, value) in stages {
            #expect(try #require(value as? [String: Any]).keys.sorted() == SummaryKeys.perStage.map(\.name))
        }
        let markdown = SummaryKeys.markdown()
        for key in SummaryKeys.topLevel { #expect(markdown.contains("| `\(key.name)` |")) }
        let readme = SummaryKeys.readme()
        #expect(readme.contains(markdown))
        for header in [BacktestReport.tradesHeader, BacktestReport.ordersHeader] {
            let listed = readme.replacingOccurrences(of: "\n  ", with: " ")
            #expect(listed.contains(header.joined(separator: ", ")))
        }
    }

    @Test func onlyTimingKeysDependOnTheWallClock() throws {
        let timing = SummaryKeys.topLevel.map(\.name).filter(SummaryKeys.isTimingKey)
        #expect(timing == ["elapsed", "events_per_second", "stage_latency_ns_wall"])
        var a = try parseJSON(sessionReport(elapsed: 1).summaryJSON())
        var b = try parseJSON(sessionReport(elapsed: 3).summaryJSON())
        #expect(a["elapsed"] as? Double == 1 && b["elapsed"] as? Double == 3)
        for key in timing { a[key] = nil; b[key] = nil }
        #expect(try canonical(a) == canonical(b))
    }

    @Test func figuresAgreeWithTheirParts() throws {
        let report = sessionReport()
        let json = try parseJSON(report.summaryJSON())
        let s = report.summary
        #expect(s.fills > 100 && s.trades > 5 && s.riskRejects > 100)
        #expect(json["events"] as? Int == Int(s.events))
        #expect((json["risk_rejects_by_reason"] as? [String: Int])?.values.reduce(0, +) == s.riskRejects)
        #expect((json["orders_by_state"] as? [String: Int])?.values.reduce(0, +) == report.orders.count)
        #expect(s.winningTrades + s.losingTrades <= s.trades)
        #expect(abs(s.endingEquity.raw - s.endingCash.raw - s.endingMarketValue.raw) <= 1)
        let attributed = report.instruments.reduce(Int64(0)) { $0 + $1.netPnL.raw }
        #expect(abs(attributed - s.netPnL.raw) <= Int64(report.instruments.count))
        let daily = report.days.reduce(Int64(0)) { $0 + $1.pnl.raw }
        #expect(daily == s.netPnL.raw, "daily P&L adds up to the run's")
        #expect((json["max_abs_position"] as? [String: Any])?.count == 2)
        #expect(!report.summaryJSON().contains("nan") && !report.summaryJSON().contains("inf"))
    }
}

@Suite struct CSVAndHTMLTests {
    @Test func csvHeadersAndRowCounts() {
        let report = sessionReport()
        let trades = report.tradesCSV().split(separator: "\n")
        #expect(trades[0] == Substring(BacktestReport.tradesHeader.joined(separator: ",")))
        #expect(trades.count == 1 + report.trades.count)
        #expect(report.trades.count == report.summary.trades + report.summary.openTrades)
        #expect(trades.dropFirst().allSatisfy { $0.contains(",ESH4,") || $0.contains(",\"NQ,H4\",") })
        let orders = report.ordersCSV().split(separator: "\n")
        #expect(orders[0] == Substring(BacktestReport.ordersHeader.joined(separator: ",")))
        #expect(orders.count == 1 + report.orders.count)
        // Every field count matches the header (the quoted symbol holds one comma).
        for line in orders.dropFirst() {
            let commas = line.filter { $0 == "," }.count - (line.contains("\"NQ,H4\"") ? 1 : 0)
            #expect(commas == BacktestReport.ordersHeader.count - 1)
        }
    }

    @Test func htmlIsSelfContainedAndWellFormed() {
        let report = sessionReport()
        let html = report.reportHTML()
        #expect(tagBalanceProblem(html) == nil, "\(tagBalanceProblem(html) ?? "")")
        for forbidden in ["http:", "https:", "src=", "href=", "url(", "<script", "@import", "<link"] {
            #expect(!html.contains(forbidden), "report.html contains \(forbidden)")
        }
        for chart in ["equity-chart", "drawdown-chart", "daily-pnl-chart", "latency-chart"] {
            #expect(html.contains("<svg class=\"chart\" id=\"\(chart)\""))
        }
        #expect(html.components(separatedBy: "<polyline class=\"line\"").count == 2, "equity line")
        #expect(html.components(separatedBy: "<polygon class=\"area\"").count == 2, "drawdown area")
        #expect(html.components(separatedBy: "<rect class=\"").count - 1 == report.days.count, "one bar per day")
        #expect(html.components(separatedBy: "<polyline class=\"stage\"").count - 1 == 6, "a curve per stage and total")
        for table in ["summary", "attribution", "risk-rejects", "latency", "days"] {
            #expect(html.contains("<table id=\"\(table)\"") || html.contains("<table class=\"figures\" id=\"\(table)\""))
        }
        #expect(html.contains("<td>max_position</td>"))
        #expect(html.contains("<td>NQ,H4</td>"))
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html") && html.hasSuffix("</html>\n"))
        for nonFinite in ["=\"nan", "=\"inf", "=\"-inf", ",nan", "nan,", ",inf", "inf,", ",-inf", " nan", ">nan", ">inf", ">-inf"] {
            #expect(!html.contains(nonFinite), "a non-finite number in report.html: \(nonFinite)")
        }
    }

    @Test func chartsReduceLongCurvesButKeepExtremes() {
        var times: [Int64] = []
        var values: [Double] = []
        for i in 0..<100_000 {
            times.append(Int64(i))
            values.append(i == 54_321 ? -500 : (i == 77_777 ? 900 : Double(i % 100)))
        }
        let reduced = SVGCharts.reduce(times, values, columns: 100)
        #expect(reduced.count <= 400)
        #expect(reduced.contains { $0.1 == -500 } && reduced.contains { $0.1 == 900 })
        #expect(reduced.first?.0 == 0 && reduced.last?.0 == 99_999)
        #expect(zip(reduced, reduced.dropFirst()).allSatisfy { $0.0 < $1.0 }, "time order kept")
    }

    @Test func niceTicksCoverTheRange() {
        let (ticks, step) = SVGCharts.niceTicks(990, 1_020)
        #expect(step == 10)
        #expect(ticks == [990, 1000, 1010, 1020])
        let (flat, _) = SVGCharts.niceTicks(5, 5)
        #expect(flat.first! <= 5 && flat.last! >= 5 && flat.count >= 2)
        #expect(SVGCharts.label(1_250_000, step: 50_000) == "1,250,000")
        #expect(SVGCharts.label(-0.25, step: 0.05) == "-0.25")
    }
}

@Suite struct DeterminismAndFilesTests {
    @Test func identicalStreamsWriteIdenticalFiles() throws {
        let a = temporaryDirectory("a"), b = temporaryDirectory("b")
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let pathsA = try sessionReport(elapsed: 1.25).write(to: a)
        let pathsB = try sessionReport(elapsed: 9.75).write(to: b + "/nested/out")
        #expect(pathsA.map { ($0 as NSString).lastPathComponent } == BacktestReport.fileNames)
        for (pathA, pathB) in zip(pathsA, pathsB) {
            let bytesA = try Data(contentsOf: URL(fileURLWithPath: pathA))
            let bytesB = try Data(contentsOf: URL(fileURLWithPath: pathB))
            #expect(bytesA.count > 100)
            if pathA.hasSuffix("summary.json") {
                var jsonA = try parseJSON(String(decoding: bytesA, as: UTF8.self))
                var jsonB = try parseJSON(String(decoding: bytesB, as: UTF8.self))
                #expect(jsonA["elapsed"] as? Double != jsonB["elapsed"] as? Double)
                jsonA["elapsed"] = nil; jsonB["elapsed"] = nil
                jsonA["events_per_second"] = nil; jsonB["events_per_second"] = nil
                #expect(try canonical(jsonA) == canonical(jsonB))
            } else {
                #expect(bytesA == bytesB, "\(pathA) differs")
            }
        }
        // A different stream gives different files (the comparison above can fail).
        let other = sessionReport(seed: 12)
        #expect(other.tradesCSV() != sessionReport().tradesCSV())
        // Streamed files equal the in-memory text.
        #expect(try String(contentsOfFile: pathsA[1], encoding: .utf8) == sessionReport().tradesCSV())
        #expect(try String(contentsOfFile: pathsA[2], encoding: .utf8) == sessionReport().ordersCSV())
    }

    @Test func writingIntoAFileFailsWithAClearError() throws {
        let path = temporaryDirectory("file")
        #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ReportWriteError.self) { try sessionReport().write(to: path + "/out") }
        do {
            try sessionReport().write(to: path)
            Issue.record("writing into a regular file succeeded")
        } catch {
            #expect(error.path == path && error.operation == "mkdir")
            #expect(error.description.contains(path))
        }
    }

    @Test func invalidConfigurationIsRefusedNamingTheField() {
        do {
            _ = try BacktestRecorder(configuration: AnalyticsConfiguration(
                startingCapital: .zero, annualisationFactor: 0, equityResolution: .zero))
            Issue.record("accepted an invalid configuration")
        } catch {
            #expect(error.problems.count == 3)
            #expect(error.description.contains("startingCapital"))
            #expect(error.description.contains("annualisationFactor"))
            #expect(error.description.contains("equityResolution"))
        }
    }
}

@Suite struct EdgeCaseTests {
    @Test func emptyRunStillWritesEverything() throws {
        let report = makeRecorder().makeReport(wallElapsedSeconds: 0)
        let json = try parseJSON(report.summaryJSON())
        #expect(json["start_time"] is NSNull && json["events_per_second"] is NSNull)
        #expect(json["trades"] as? Int == 0 && json["win_rate"] is NSNull && json["profit_factor"] is NSNull)
        #expect(json["exposure"] is NSNull && json["sharpe"] is NSNull && json["annualised_return"] is NSNull)
        #expect(json["total_return"] as? Double == 0)
        #expect(report.tradesCSV() == BacktestReport.tradesHeader.joined(separator: ",") + "\n")
        #expect(report.ordersCSV() == BacktestReport.ordersHeader.joined(separator: ",") + "\n")
        let html = report.reportHTML()
        #expect(tagBalanceProblem(html) == nil)
        #expect(html.components(separatedBy: ">no data</text>").count - 1 == 4)
        #expect(report.textSummary().contains("orders     0 sent"))
    }

    @Test func oneDayWithTradesHasNoSharpeButHasTradeFigures() throws {
        let r = makeRecorder(capital: "10000")
        fill(r, .buy, "1", at: "100", time: t0)
        fill(r, .sell, "1", at: "104", fee: "1", time: t0 + 60 * second)
        fill(r, .sell, "2", at: "104", time: t0 + 120 * second)
        fill(r, .buy, "2", at: "105", time: t0 + 180 * second)
        let report = r.makeReport(wallElapsedSeconds: 0.5)
        let json = try parseJSON(report.summaryJSON())
        #expect(json["sharpe"] is NSNull && json["sortino"] is NSNull)
        #expect(json["trading_days"] as? Int == 1)
        #expect(json["trades"] as? Int == 2 && json["win_rate"] as? Double == 0.5)
        #expect(json["profit_factor"] as? Double == 1.5)     // +3 / |−2|
        #expect(json["expectancy"] as? Double == 0.5)
        #expect(json["net_pnl"] as? Double == 1)
        #expect(json["total_return"] as? Double == 0.0001)
        #expect(json["annualised_return"] as? Double != nil)
        let text = report.textSummary()
        #expect(text.contains("2 closed (0 open), win rate 50.00%, profit factor 1.50"))
        #expect(text.contains("Sharpe n/a"))
    }

    @Test func noLosingTradesLeavesProfitFactorNull() throws {
        let r = makeRecorder(capital: "10000")
        fill(r, .buy, "1", at: "100", time: t0)
        fill(r, .sell, "1", at: "101", time: t0 + second)
        let json = try parseJSON(r.makeReport(wallElapsedSeconds: 0).summaryJSON())
        #expect(json["profit_factor"] is NSNull && json["win_rate"] as? Double == 1)
        #expect(json["average_loss"] is NSNull && json["average_win"] as? Double == 1)
    }
}
