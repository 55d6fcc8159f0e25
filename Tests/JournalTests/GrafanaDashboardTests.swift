import Foundation
import Testing
import TicklineCore
@testable import Journal

extension LoopbackServices {
    /// The Grafana dashboard shipped in tuning/grafana: every panel's SQL runs against the schema
    /// the PostgreSQL sink creates (with records in it), and every Prometheus query names a metric
    /// the engine exports.
    @Suite(.serialized) struct GrafanaDashboardTests {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

        static func panels() throws -> [[String: Any]] {
            let data = try Data(contentsOf: repository.appendingPathComponent("tuning/grafana/tickline-dashboard.json"))
            let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            return try #require(dashboard["panels"] as? [[String: Any]])
        }

        static func targets(_ key: String) throws -> [String] {
            try panels().flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0[key] as? String } }
        }

        @Test(.enabled(if: Services.available, Comment(rawValue: Services.missing)))
        func everySQLPanelRunsAgainstTheJournalSchema() throws {
            let config = Services.config(directory: "/unused", tag: "grafana")
            let sink = Journal.configuredSinks(config)[0] as! PostgresSink
            _ = try sink.connect()
            defer { try? sink.execute("DROP SCHEMA \(sink.schema.schema) CASCADE") }
            try sink.deliver(workloadBatch(0..<2000))
            let queries = try Self.targets("rawSql")
            #expect(queries.count >= 6)
            let timeFilter = try NSRegularExpression(pattern: #"\$__timeFilter\(([a-z_.]+)\)"#)
            for query in queries {
                var sql = query.replacingOccurrences(of: "tickline_journal.", with: "\(sink.schema.schema).")
                sql = timeFilter.stringByReplacingMatches(in: sql, range: NSRange(sql.startIndex..., in: sql), withTemplate: "$1 > now() - interval '100 years'")
                do {
                    _ = try sink.query(sql)
                } catch {
                    Issue.record("\(query): \(error)")
                }
            }
            // The fills panel finds the workload's fills.
            let fills = try Self.targets("rawSql").first { $0.contains("exec_reports") }!
            var sql = fills.replacingOccurrences(of: "tickline_journal.", with: "\(sink.schema.schema).")
            sql = timeFilter.stringByReplacingMatches(in: sql, range: NSRange(sql.startIndex..., in: sql), withTemplate: "$1 > now() - interval '100 years'")
            #expect(try sink.query(sql).count > 0)
        }

        @Test func everyPrometheusQueryNamesAnExportedMetric() throws {
            let exported = ["decode.published", "decode.back_pressured", "features.events", "features.signals", "books.live_orders",
                            "books.unknown_orders", "books.capacity_rejects", "risk.approved", "risk.rejected", "risk.halted",
                            "routing.orders", "routing.fills", "routing.rejects", "journal.dropped", "control.command", "control.ack"]
                .map { "tickline_" + $0.replacingOccurrences(of: ".", with: "_") }
            let expressions = try Self.targets("expr")
            #expect(expressions.count >= 10)
            let metric = try NSRegularExpression(pattern: #"tickline_[a-z_]+"#)
            for expression in expressions {
                let names = metric.matches(in: expression, range: NSRange(expression.startIndex..., in: expression))
                    .map { String(expression[Range($0.range, in: expression)!]) }
                #expect(!names.isEmpty && names.allSatisfy(exported.contains), "\(expression)")
            }
        }
    }
}
