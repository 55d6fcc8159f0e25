import MarketData
import TicklineCore

// Bars as the market: a replay of bar files (CSV, Databento OHLCV) has no book, so the venue
// knows the market only as each bar tells it.
extension SimulatedVenue {
    /// A bar of a source with no book, in time order with the commands (routing passes it where
    /// it passes market events otherwise). In order:
    /// 1. Every command that arrived by the bar's end is applied, against the market as the
    ///    previous bar left it: an order decided on a bar's close and sent then is matched at
    ///    that close (its arrival falls inside the next bar, whose prices it could not know).
    /// 2. Resting limit orders the bar's range went through fill at their price as makers: a
    ///    buy above the bar's low, a sell below its high, as a trade print at the low (buyers
    ///    passive) and one at the high (sellers passive) would fill them (`tradeFills`); an
    ///    order at the low or the high exactly fills only once the queue estimated ahead of it
    ///    has traded. Each print offers the bar's volume (unlimited when the file has none).
    /// 3. The close becomes the quote on both sides, the bar's volume displayed: orders that
    ///    arrive before the next bar take it (`walk`'s top-of-book branch), or rest behind it,
    ///    and it is the last trade for the price band.
    /// 4. Stops whose trigger the bar's range reached fire and are matched at the close.
    ///
    /// Empty bars (no trades) change nothing but the clock.
    public func onBar(_ bar: Bar) {
        advance(to: bar.end)
        let st = state
        if bar.end.raw > st.pointee.now { st.pointee.now = bar.end.raw }
        let index = bar.instrument.index
        guard index < instrumentCount, !bar.flags.contains(.empty), bar.close.isDefined else { return }
        let instrument = instruments + index
        let liquidity = bar.volume.raw > 0 ? bar.volume.raw : Int64.max / 4
        if instrument.pointee.head >= 0 {
            if bar.low.isDefined { printTrade(bar, at: bar.low, passive: .buy, liquidity) }
            if bar.high.isDefined { printTrade(bar, at: bar.high, passive: .sell, liquidity) }
        }
        storeQuote(instrument, bid: bar.close.raw, bidQuantity: liquidity, ask: bar.close.raw, askQuantity: liquidity)
        instrument.pointee.lastTrade = bar.close.raw
        // A new quote: what our orders took from the last one is forgotten.
        forgetConsumption(index)
        if instrument.pointee.armed > 0 {
            if bar.high.isDefined { triggerStops(index, price: bar.high.raw) }
            if bar.low.isDefined { triggerStops(index, price: bar.low.raw) }
        }
    }
}

extension SimulatedVenue {
    /// A trade print at `price` whose resting side was `passive` (see `onBar`).
    func printTrade(_ bar: Bar, at price: Price, passive: Side, _ quantity: Int64) {
        tradeFills(bar.instrument.index, MarketEvent(kind: .trade, instrument: bar.instrument, side: passive, price: price,
                                                     quantity: Quantity(raw: quantity), tsEvent: bar.end, flags: .printable))
    }

    /// Drops what our orders took from `index`'s levels (`consume`): a bar's quote is new
    /// liquidity even where its price and volume repeat the last one's.
    func forgetConsumption(_ index: Int) {
        let st = state
        let instrument = UInt32(truncatingIfNeeded: index)
        var i = 0
        while i < st.pointee.consumptionCount {
            if consumption[i].instrument == instrument {
                st.pointee.consumptionCount &-= 1
                consumption[i] = consumption[st.pointee.consumptionCount]
            } else {
                i &+= 1
            }
        }
    }
}
