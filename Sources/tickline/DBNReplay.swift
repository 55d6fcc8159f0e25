import ArgumentParser
import MarketData
import TicklineCore

extension BookSource {
    /// Replays a DBN file's market events. Databento instrument ids are sparse 32-bit numbers:
    /// they are mapped to dense book indices on first sight (a one-entry cache makes the common
    /// case, one instrument, free of lookups). Symbols come from the metadata's mappings.
    func replayDBN(_ body: (MarketEvent, (InstrumentID) -> String) -> Void) throws {
        var decoder = try DBNDecoder(path: path)
        var symbolByID: [UInt32: String] = [:]
        for entry in decoder.metadata?.mappings ?? [] {
            for interval in entry.intervals {
                if let id = UInt32(interval.symbol) { symbolByID[id] = entry.rawSymbol }
            }
        }
        var dense: [UInt32: UInt32] = [:]
        var denseToRaw: [UInt32] = []
        var lastRaw: UInt32 = .max
        var lastDense: UInt32 = 0
        var event = MarketEvent(kind: .tick, instrument: InstrumentID(0))
        let symbolOf: (InstrumentID) -> String = { id in
            let raw = Int(id.raw) < denseToRaw.count ? denseToRaw[Int(id.raw)] : id.raw
            return symbolByID[raw] ?? String(raw)
        }
        while try decoder.nextMarketEvent(into: &event) {
            let raw = event.instrument.raw
            if raw != lastRaw {
                if let known = dense[raw] {
                    lastDense = known
                } else {
                    lastDense = UInt32(denseToRaw.count)
                    dense[raw] = lastDense
                    denseToRaw.append(raw)
                }
                lastRaw = raw
            }
            event.instrument = InstrumentID(lastDense)
            body(event, symbolOf)
        }
    }
}
