import TestSupport
import Foundation
import MarketData
import Testing
import TicklineCore

/// Fuzz-style robustness on real files: 2,000 random truncations and 2,000 random
/// single-byte flips of each (seeded, so every run is the same) must never crash, never
/// loop, and end either cleanly or with a typed error. Truncations must also yield exactly
/// a prefix of the intact file's records.
@Suite(.enabled(if: SharedData.available, Comment(rawValue: SharedData.missing)))
struct DBNRobustnessTests {
    /// SplitMix64: a tiny deterministic generator (the seed is the test's).
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The subjects: compressed multi-frame, compressed v1 (upgraded), plain with metadata,
    /// a plain fragment, and a larger decompressed stream.
    enum Subject: String, CaseIterable, CustomTestStringConvertible {
        case tradesZstd, statisticsV1Zstd, mboPlain, definitionFragment, mbp1Plain

        var testDescription: String { rawValue }

        func bytes() throws -> [UInt8] {
            switch self {
            case .tradesZstd: DBNTestData.bytes(DBNTestData.nautilus("esu4-glbx-mdp3-20240701T2358-20240702T0002.trades.dbn.zst"))
            case .statisticsV1Zstd: DBNTestData.bytes(DBNTestData.databento("test_data.statistics.v1.dbn.zst"))
            case .mboPlain: DBNTestData.bytes(DBNTestData.databento("test_data.mbo.v3.dbn"))
            case .definitionFragment: DBNTestData.bytes(DBNTestData.databento("test_data.definition.v1.dbn.frag"))
            case .mbp1Plain: try DBNTestData.decompressed(DBNTestData.nautilus("esu4-glbx-mdp3-20240701T2358-20240702T0002.mbp-1.dbn.zst"))
            }
        }

        var seed: UInt64 { UInt64(Subject.allCases.firstIndex(of: self)!) &* 7919 &+ 20_260_101 }
    }

    /// What one decode did.
    struct Outcome {
        var records: [DBNRecord] = []
        var error: DBNError?
        var skipped = 0
        var looped = false
    }

    static let iterationLimit = 1_000_000

    static func decode(_ bytes: [UInt8], smallBuffer: Bool) -> Outcome {
        var outcome = Outcome()
        do {
            var decoder = try DBNDecoder(bytes: bytes, options: DBNDecoderOptions(bufferSize: smallBuffer ? 4096 : 256 << 10))
            do {
                while let record = try decoder.next() {
                    outcome.records.append(record)
                    if outcome.records.count > iterationLimit {
                        outcome.looped = true
                        break
                    }
                }
            } catch {
                outcome.error = error
            }
            outcome.skipped = decoder.skippedRecords
        } catch {
            outcome.error = error
        }
        return outcome
    }

    static func errorKind(_ error: DBNError?) -> String {
        guard let error else { return "ok" }
        switch error {
        case .openFailed: return "openFailed"
        case .readFailed: return "readFailed"
        case .legacyDBZ: return "legacyDBZ"
        case .notDBN: return "notDBN"
        case .unsupportedVersion: return "unsupportedVersion"
        case .badMetadata: return "badMetadata"
        case .truncatedMetadata: return "truncatedMetadata"
        case .zeroLengthRecord: return "zeroLengthRecord"
        case .recordShorterThanHeader: return "recordShorterThanHeader"
        case .recordTooShort: return "recordTooShort"
        case .truncatedRecord: return "truncatedRecord"
        case .zstd: return "zstd"
        case .truncatedZstdFrame: return "truncatedZstdFrame"
        case .invalidOption: return "invalidOption"
        }
    }

    @Test(arguments: Subject.allCases)
    func randomTruncations(subject: Subject) throws {
        let original = try subject.bytes()
        let intact = Self.decode(original, smallBuffer: false)
        #expect(intact.error == nil)
        #expect(!intact.records.isEmpty)
        var generator = SeededGenerator(state: subject.seed)
        var kinds: [String: Int] = [:]
        for run in 0..<2_000 {
            let cut = Int.random(in: 0..<original.count, using: &generator)
            let outcome = Self.decode(Array(original[..<cut]), smallBuffer: run % 2 == 0)
            #expect(!outcome.looped, "cut at \(cut)")
            // Whatever came out before the end (or the error) is the intact file's beginning.
            #expect(outcome.records.count <= intact.records.count)
            if outcome.records != Array(intact.records.prefix(outcome.records.count)) {
                Issue.record("cut at \(cut): records differ from the intact prefix")
            }
            kinds[Self.errorKind(outcome.error), default: 0] += 1
        }
        #expect(kinds.values.reduce(0, +) == 2_000)
        #expect(kinds["ok", default: 0] < 2_000, "most cuts fall inside a record or frame")
        print("DBN truncations of \(subject.rawValue): \(kinds.sorted { $0.key < $1.key })")
    }

    @Test(arguments: Subject.allCases)
    func randomByteFlips(subject: Subject) throws {
        let original = try subject.bytes()
        var generator = SeededGenerator(state: subject.seed ^ 0xF11F)
        var kinds: [String: Int] = [:]
        var skipped = 0
        for run in 0..<2_000 {
            var flipped = original
            let position = Int.random(in: 0..<flipped.count, using: &generator)
            flipped[position] ^= UInt8.random(in: 1...255, using: &generator)
            let outcome = Self.decode(flipped, smallBuffer: run % 2 == 0)
            #expect(!outcome.looped, "flip at \(position)")
            kinds[Self.errorKind(outcome.error), default: 0] += 1
            if outcome.error == nil {
                // The records convert to market events without trapping.
                var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
                for record in outcome.records { _ = record.marketEvent(into: &event) }
            }
            skipped += outcome.skipped
        }
        #expect(kinds.values.reduce(0, +) == 2_000)
        print("DBN byte flips of \(subject.rawValue): \(kinds.sorted { $0.key < $1.key }), unknown records skipped: \(skipped)")
    }
}
