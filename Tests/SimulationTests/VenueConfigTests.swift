import Foundation
import MarketData
import Simulation
import Testing
import TicklineConfig
import TicklineCore

@Suite struct VenueConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func parse(_ yaml: String) throws(ConfigError) -> VenueConfig {
        let root = try ConfigNode.parse(yaml, file: "test.yaml")
        return try VenueConfig.parse(root.mapping(allowed: ["venue"]).required("venue"))
    }

    func failure(_ yaml: String) -> ConfigError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch {
            return error
        }
    }

    func temporaryFile(_ text: String) -> String {
        let path = NSTemporaryDirectory() + "venue-latency-\(UUID().uuidString).txt"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func theExampleFileParsesToWhatItSays() throws {
        let config = try VenueConfig.load(path: Self.repository.appendingPathComponent("config/venue-sim.yaml").path)
        #expect(config.seed == 7)
        #expect(config.orders == 4_096 && config.inFlight == 1_024 && config.reports == 16_384 && config.impactLevels == 64)
        #expect(config.feedLatency == .constant(Nanos(20_000)))
        #expect(config.orderEntryLatency == .constant(Nanos(40_000)))
        #expect(config.responseLatency == .constant(Nanos(35_000)))
        #expect(config.maker.perShare == (try Money(parsing: "-0.002")) && config.maker.bps == .zero)
        #expect(config.taker.perShare == (try Money(parsing: "0.003")))
        #expect(config.priceBand == PriceBand(bps: BasisPoints(units: 1_000), reference: .mid))
        #expect(config.queue == QueueModel(shape: .power, exponent: 2, mode: .sampled))
        // And it builds a venue.
        let venue = SimulatedVenue(config: config, bookCapacity: BookCapacityForTests.small)
        #expect(venue.liveOrders == 0)
    }

    @Test func everyKeyIsReadExactly() throws {
        let samples = temporaryFile("# measured\n1200\n  900 \n\n3100\r\n")
        defer { try? FileManager.default.removeItem(atPath: samples) }
        let config = try parse("""
        venue:
          seed: 18446744073709551615
          capacity: { orders: 10, in_flight: 20, reports: 30, impact_levels: 5 }
          latency:
            cancel: { kind: empirical, file: \(samples) }
            replace: { kind: constant, ns: 7 }
          fees:
            maker: { bps: -0.25, per_share: -0.0015 }
            taker: { bps: 1.5 }
          price_band: { bps: 250.5, reference: last_trade }
          queue: { model: log, exponent: 3.5, mode: expected }
        """)
        #expect(config.seed == UInt64.max)
        #expect(config.orders == 10 && config.inFlight == 20 && config.reports == 30 && config.impactLevels == 5)
        #expect(config.cancelLatency == .empirical(samples: [1_200, 900, 3_100], source: samples))
        #expect(config.replaceLatency == .constant(Nanos(7)))
        #expect(config.orderEntryLatency == .constant(.zero), "absent keys keep their defaults")
        #expect(config.maker == FeeSchedule(bps: BasisPoints(raw: -250_000), perShare: Money(raw: -1_500)))
        #expect(config.taker == FeeSchedule(bps: BasisPoints(raw: 1_500_000), perShare: .zero))
        #expect(config.priceBand == PriceBand(bps: BasisPoints(raw: 250_500_000), reference: .lastTrade))
        #expect(config.queue == QueueModel(shape: .log, exponent: 3.5, mode: .expected))
    }

    @Test func unknownKeysAndWrongTypesAreLocatedErrors() throws {
        let unknown = try #require(failure("venue:\n  seed: 1\n  sed: 2\n"))
        #expect(unknown.line == 3 && unknown.keyPath == "venue.sed" && unknown.message.contains("unknown key"))
        #expect(unknown.description.hasPrefix("test.yaml:3:"))
        let nested = try #require(failure("venue:\n  fees:\n    maker: { bps: 1, per_shar: 2 }\n"))
        #expect(nested.keyPath == "venue.fees.maker.per_shar" && nested.line == 3)
        let type = try #require(failure("venue:\n  capacity: { orders: many }\n"))
        #expect(type.keyPath == "venue.capacity.orders" && type.message.contains("integer"))
        let range = try #require(failure("venue:\n  capacity: { orders: 0 }\n"))
        #expect(range.message.contains("between 1"))
        let precision = try #require(failure("venue:\n  fees: { taker: { per_share: 0.0000001 } }\n"))
        #expect(precision.keyPath == "venue.fees.taker.per_share" && precision.message.contains("6 fractional digits"))
        let rate = try #require(failure("venue:\n  fees: { maker: { bps: -10000.5 } }\n"))
        #expect(rate.keyPath == "venue.fees.maker.bps" && rate.message.contains("10000"))
        let kind = try #require(failure("venue:\n  latency: { response: { kind: gaussian } }\n"))
        #expect(kind.keyPath == "venue.latency.response.kind")
        let extra = try #require(failure("venue:\n  latency: { response: { kind: constant, ns: 5, file: x } }\n"))
        #expect(extra.keyPath == "venue.latency.response.file")
        let negative = try #require(failure("venue:\n  latency: { feed: { kind: constant, ns: -5 } }\n"))
        #expect(negative.keyPath == "venue.latency.feed.ns")
        let seed = try #require(failure("venue:\n  seed: -1\n"))
        #expect(seed.keyPath == "venue.seed")
        let band = try #require(failure("venue:\n  price_band: { reference: mid }\n"))
        #expect(band.message.contains("missing required key 'bps'"))
        let model = try #require(failure("venue:\n  queue: { model: magic }\n"))
        #expect(model.keyPath == "venue.queue.model" && model.message.contains("power"))
        let broken = try #require(failure("venue:\n  seed: [1\n"))
        #expect(broken.message.contains("invalid YAML"))
    }

    @Test func latencySampleFilesAreCheckedLineByLine() throws {
        let bad = temporaryFile("100\n200\nabc\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let error = try #require(failure("venue:\n  latency:\n    order_entry: { kind: empirical, file: \(bad) }\n"))
        #expect(error.file == bad && error.line == 3 && error.message.contains("'abc'"))
        #expect(error.keyPath == "venue.latency.order_entry.file")
        let negative = temporaryFile("5\n-3\n")
        defer { try? FileManager.default.removeItem(atPath: negative) }
        #expect(failure("venue:\n  latency: { cancel: { kind: empirical, file: \(negative) } }\n")?.line == 2)
        let empty = temporaryFile("# nothing\n\n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let emptyError = try #require(failure("venue:\n  latency: { cancel: { kind: empirical, file: \(empty) } }\n"))
        #expect(emptyError.file == "test.yaml" && emptyError.message.contains("no latency samples"))
        let missing = try #require(failure("venue:\n  latency: { cancel: { kind: empirical, file: /nonexistent/x.txt } }\n"))
        #expect(missing.file == "test.yaml" && missing.line == 2 && missing.message.contains("cannot read"))
    }
}

enum BookCapacityForTests {
    static let small = BookCapacity(orders: 1 << 10, instruments: 4, levelsPerSide: 64, initialLevels: 8, densePages: 4)
}
