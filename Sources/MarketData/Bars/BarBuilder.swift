import TicklineCore

/// What to do with an interval in which an instrument did not trade.
@frozen public enum EmptyBarPolicy: UInt8, Sendable, BitwiseCopyable {
    /// Emit nothing: bars exist only for intervals with trades.
    case skip
    /// Emit a flat bar at the last close with zero volume, flagged `.empty`, for every interval
    /// of every included phase after the instrument's first trade, so its bars are contiguous.
    case flat
}

/// What to do with a trade older than the instrument's current bar (its interval has closed).
@frozen public enum LateTradePolicy: UInt8, Sendable, BitwiseCopyable {
    /// Count it and drop it.
    case drop
    /// Count it and fold it into the current (earliest still open) bar, flagged `.lateFolded`:
    /// it moves high, low, volume, notional and count, and sets open/close only if that bar has
    /// nothing yet. Dropped when that bar would lie beyond a closed period (a late trade of
    /// 15:59 is not folded into tomorrow's first bar) or outside the included phases.
    case fold
}

/// The outcome of one input to a `BarBuilder`.
@frozen public enum BarInputResult: UInt8, Sendable, BitwiseCopyable {
    /// Added to the instrument's current bar.
    case accepted
    /// Late, folded into the current bar (`LateTradePolicy.fold`).
    case lateFolded
    /// Late, dropped.
    case lateDropped
    /// In a phase the builder does not make bars for (or a closed period): dropped.
    case outsideSession
    /// `InstrumentID.index` ≥ the configured capacity: dropped.
    case rejectedCapacity
    /// Quantity ≤ 0 or an undefined price: dropped.
    case invalid
    /// A market event that is not a trade (`onEvent`): nothing to do.
    case ignored

    /// Whether the input's content went into a bar.
    @inlinable public var isAccepted: Bool { self == .accepted || self == .lateFolded }
}

/// A `BarBuilder`'s counts since start, read on its own thread.
@frozen public struct BarCounters: Sendable, BitwiseCopyable, Equatable {
    /// Trades (or input bars, when aggregating) added to their own bar.
    public var accepted: Int = 0
    public var lateFolded: Int = 0
    public var lateDropped: Int = 0
    public var outsideSession: Int = 0
    public var rejectedCapacity: Int = 0
    public var invalid: Int = 0
    /// Bars emitted with trades (or content), and flat `.empty` bars emitted.
    public var bars: Int = 0
    public var emptyBars: Int = 0
    public init() {}
}

/// Per-instrument accumulation state, one per capacity slot, in memory allocated at start.
@usableFromInline struct BarSlot {
    @usableFromInline var windowStart: Int64 = 0
    @usableFromInline var windowEnd: Int64 = 0
    @usableFromInline var segmentEnd: Int64 = 0
    /// Instants before this belong to intervals already closed (or skipped) for this instrument.
    @usableFromInline var watermark: Int64 = Int64.min
    @usableFromInline var open: Int64 = 0
    @usableFromInline var high: Int64 = 0
    @usableFromInline var low: Int64 = 0
    @usableFromInline var close: Int64 = 0
    @usableFromInline var volume: Int64 = 0
    @usableFromInline var notional: Int128 = 0
    @usableFromInline var lastClose: Int64 = 0
    @usableFromInline var tradeCount: UInt32 = 0
    @usableFromInline var index: UInt32 = 0
    @usableFromInline var flags: UInt16 = 0
    @usableFromInline var phase: SessionPhase = .closed
    @usableFromInline var status: UInt8 = 0

    @usableFromInline static let windowOpen: UInt8 = 1 << 0
    @usableFromInline static let hasLastClose: UInt8 = 1 << 1
    @usableFromInline static let hasContent: UInt8 = 1 << 2

    @inlinable init() {}

    @inlinable var isOpen: Bool { status & BarSlot.windowOpen != 0 }
    @inlinable var hasContent: Bool { status & BarSlot.hasContent != 0 }
    @inlinable var hasLastClose: Bool { status & BarSlot.hasLastClose != 0 }

    @inlinable mutating func add(price: Int64, quantity: Int64, late: Bool) {
        if !hasContent {
            open = price; high = price; low = price; close = price
            status |= BarSlot.hasContent
        } else {
            if price > high { high = price }
            if price < low { low = price }
            if !late { close = price }
        }
        volume += quantity
        notional += Int128(price) * Int128(quantity)
        tradeCount += 1
        if late { flags |= BarFlags.lateFolded.rawValue }
    }

    @inlinable mutating func merge(_ bar: Bar, late: Bool) {
        if !hasContent {
            open = bar.open.raw; high = bar.high.raw; low = bar.low.raw; close = bar.close.raw
            status |= BarSlot.hasContent
        } else {
            if bar.high.raw > high { high = bar.high.raw }
            if bar.low.raw < low { low = bar.low.raw }
            if !late { close = bar.close.raw }
        }
        volume += bar.volume.raw
        notional += bar.notional
        tradeCount += bar.tradeCount
        flags |= bar.flags.intersection([.lateFolded, .vwapUnknown]).rawValue
        if late { flags |= BarFlags.lateFolded.rawValue }
    }

    @inlinable mutating func openWindow(start: Int64, end: Int64, segmentEnd: Int64, index: UInt32, phase: SessionPhase) {
        windowStart = start
        windowEnd = end
        self.segmentEnd = segmentEnd
        self.index = index
        self.phase = phase
        status |= BarSlot.windowOpen
    }

    @inlinable mutating func resetContent() {
        volume = 0
        notional = 0
        tradeCount = 0
        flags = 0
        status &= ~BarSlot.hasContent
    }
}

/// Shared mutable state of a builder (segment cache, timer, counters), in raw memory.
@usableFromInline struct BarBuilderState {
    @usableFromInline var cachedSegment: SessionSegment
    @usableFromInline var nextSegmentKey: Int64 = Int64.min
    @usableFromInline var nextSegment: SessionSegment
    @usableFromInline var nextSegmentFound = false
    /// The latest `onTime` instant: intervals ending at or before it are closed for everyone.
    @usableFromInline var timerNow: Int64 = Int64.min
    /// One past the highest instrument index seen: `onTime` scans `0..<activeLimit`.
    @usableFromInline var activeLimit: Int = 0
    @usableFromInline var counters = BarCounters()
}

/// Builds OHLCV bars with exact VWAP from trades, per instrument, aligned to a trading
/// calendar: bar 0 of each included phase starts at the phase open (09:30 for the US regular
/// session), bars never span a phase boundary (the last one is cut at the close and flagged
/// `.truncated`), and closed periods produce no bars. A bar is emitted by the instrument's
/// first input past the bar's end, or by `onTime` so quiet instruments close on time; empty
/// intervals and late trades follow the configured policies. It also aggregates finer bars
/// into coarser ones (`onBar`: 1-minute → N-minute) with the same alignment.
///
/// Owns per-instrument state in arrays allocated once at `init` for `capacity` instruments,
/// indexed by `InstrumentID.index`; nothing is allocated per input. Single-threaded: the
/// features stage owns it and calls it from its one thread. Deterministic: `onTime` visits
/// instruments in index order.
public final class BarBuilder {
    /// Builder settings, fixed at start.
    public struct Configuration: Sendable {
        /// Instruments `0..<capacity`; higher indices are counted rejects.
        public var capacity: Int
        /// Bar length (default one minute).
        public var interval: Nanos
        public var calendar: TradingCalendar
        /// The phases bars are made for; inputs in other phases are counted and dropped.
        public var phases: SessionPhaseSet
        public var emptyBars: EmptyBarPolicy
        public var lateTrades: LateTradePolicy

        public init(
            capacity: Int, interval: Nanos = .seconds(60), calendar: TradingCalendar = TradingCalendar(.usEquities),
            phases: SessionPhaseSet = .regular, emptyBars: EmptyBarPolicy = .skip, lateTrades: LateTradePolicy = .drop
        ) {
            self.capacity = capacity
            self.interval = interval
            self.calendar = calendar
            self.phases = phases
            self.emptyBars = emptyBars
            self.lateTrades = lateTrades
        }
    }

    public let configuration: Configuration
    @usableFromInline let slots: UnsafeMutablePointer<BarSlot>
    @usableFromInline let state: UnsafeMutablePointer<BarBuilderState>
    @usableFromInline let capacity: Int
    @usableFromInline let interval: Int64
    @usableFromInline let phaseMask: SessionPhaseSet
    @usableFromInline let emitsEmpty: Bool
    @usableFromInline let foldsLate: Bool

    public init(_ configuration: Configuration) {
        precondition(configuration.capacity > 0, "capacity must be positive")
        precondition(configuration.interval.raw > 0, "interval must be positive")
        precondition(!configuration.phases.contains(.closed), "bars are not made for closed periods")
        self.configuration = configuration
        capacity = configuration.capacity
        interval = configuration.interval.raw
        phaseMask = configuration.phases
        emitsEmpty = configuration.emptyBars == .flat
        foldsLate = configuration.lateTrades == .fold
        slots = .allocate(capacity: configuration.capacity)
        slots.initialize(repeating: BarSlot(), count: configuration.capacity)
        let none = SessionSegment(phase: .closed, date: CivilDate(1970, 1, 1), start: Nanos(0), end: Nanos(0))
        state = .allocate(capacity: 1)
        state.initialize(to: BarBuilderState(cachedSegment: none, nextSegment: none))
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Counts since start.
    @inlinable public var counters: BarCounters { state.pointee.counters }

    // MARK: Inputs

    /// One trade. Closes the instrument's current bar first if `time` is past its end.
    @inlinable @discardableResult
    public func onTrade<S: BarSink>(
        instrument: InstrumentID, price: Price, quantity: Quantity, time: Nanos, into sink: inout S
    ) -> BarInputResult {
        let i = instrument.index
        guard i < capacity else {
            state.pointee.counters.rejectedCapacity += 1
            return .rejectedCapacity
        }
        guard quantity.raw > 0, price.isDefined else {
            state.pointee.counters.invalid += 1
            return .invalid
        }
        let slot = slots + i
        let result = place(slot, instrument, time.raw, &sink)
        if result.isAccepted {
            slot.pointee.add(price: price.raw, quantity: quantity.raw, late: result == .lateFolded)
        }
        return result
    }

    /// A market event: `.trade` is a trade; `.execute` is one when it carries a price and the
    /// `.printable` flag (resolving the resting price and printability is the decoder's or
    /// book's job); `.tick` is the timer (`onTime(tsEvent)`, answered `.ignored`); anything
    /// else is `.ignored`. Bars use `tsEvent` (exchange time).
    @inlinable @discardableResult
    public func onEvent<S: BarSink>(_ event: MarketEvent, into sink: inout S) -> BarInputResult {
        switch event.kind {
        case .trade:
            return onTrade(instrument: event.instrument, price: event.price, quantity: event.quantity, time: event.tsEvent, into: &sink)
        case .execute where event.price.raw != 0 && event.flags.contains(.printable):
            return onTrade(instrument: event.instrument, price: event.price, quantity: event.quantity, time: event.tsEvent, into: &sink)
        case .tick:
            onTime(event.tsEvent, into: &sink)
            return .ignored
        default:
            return .ignored
        }
    }

    /// One finer bar to aggregate (bars of bars): it joins the bar whose interval holds its
    /// `start`, and closes that bar at once when its `end` reaches the bar's end. Use an
    /// interval that is a multiple of the input's and the same calendar and phases, so inputs
    /// nest. An input flagged `.empty` carries no prices: it only moves time forward (and gives
    /// a last close for flat bars if none is known).
    @inlinable @discardableResult
    public func onBar<S: BarSink>(_ bar: Bar, into sink: inout S) -> BarInputResult {
        let i = bar.instrument.index
        guard i < capacity else {
            state.pointee.counters.rejectedCapacity += 1
            return .rejectedCapacity
        }
        let slot = slots + i
        let isEmpty = bar.flags.contains(.empty)
        if isEmpty && !slot.pointee.hasLastClose {
            slot.pointee.lastClose = bar.close.raw
            slot.pointee.status |= BarSlot.hasLastClose
        }
        let result = place(slot, bar.instrument, bar.start.raw, &sink)
        if result.isAccepted && !isEmpty {
            slot.pointee.merge(bar, late: result == .lateFolded)
        }
        if slot.pointee.isOpen && bar.end.raw >= slot.pointee.windowEnd {
            advance(slot, bar.instrument, to: bar.end.raw, byTimer: false, &sink)
        }
        return result
    }

    /// The timer: closes every instrument's bars that end at or before `now` (and, under
    /// `EmptyBarPolicy.flat`, emits the empty intervals up to `now`). Inputs for intervals it
    /// closed are late from then on. Cost: one pass over the instruments seen so far.
    @inlinable
    public func onTime<S: BarSink>(_ now: Nanos, into sink: inout S) {
        if now.raw > state.pointee.timerNow { state.pointee.timerNow = now.raw }
        let limit = state.pointee.activeLimit
        var i = 0
        while i < limit {
            let slot = slots + i
            if slot.pointee.isOpen && slot.pointee.windowEnd <= now.raw {
                advance(slot, InstrumentID(UInt32(truncatingIfNeeded: i)), to: now.raw, byTimer: true, &sink)
            }
            i += 1
        }
    }

    /// End of input: emits every open bar that has content, flagged `.incomplete` when its end
    /// had not been reached by the timer, and closes all windows (no flat bars are made).
    public func flush<S: BarSink>(into sink: inout S) {
        for i in 0..<state.pointee.activeLimit {
            let slot = slots + i
            guard slot.pointee.isOpen else { continue }
            if slot.pointee.hasContent {
                var flags = BarFlags(rawValue: slot.pointee.flags)
                if slot.pointee.windowEnd > state.pointee.timerNow { flags.insert(.incomplete) }
                sink.consume(makeBar(slot, InstrumentID(UInt32(i)), flags: flags))
                state.pointee.counters.bars += 1
                slot.pointee.lastClose = slot.pointee.close
                slot.pointee.status |= BarSlot.hasLastClose
            }
            slot.pointee.watermark = slot.pointee.windowEnd
            slot.pointee.resetContent()
            slot.pointee.status &= ~BarSlot.windowOpen
        }
    }

    /// The bar in progress for `instrument` (nil when none is open), as it would be emitted now.
    public func currentBar(of instrument: InstrumentID) -> Bar? {
        guard instrument.index < capacity else { return nil }
        let slot = slots + instrument.index
        guard slot.pointee.isOpen, slot.pointee.hasContent else { return nil }
        return makeBar(slot, instrument, flags: BarFlags(rawValue: slot.pointee.flags))
    }

    // MARK: Internals

    /// Finds (opening or advancing to) the bar that an input at `t` belongs to. Returns
    /// `.accepted` / `.lateFolded` when the caller should add its content to `slot`.
    @inlinable
    func place<S: BarSink>(_ slot: UnsafeMutablePointer<BarSlot>, _ instrument: InstrumentID, _ t: Int64, _ sink: inout S) -> BarInputResult {
        if slot.pointee.isOpen {
            if t >= slot.pointee.windowEnd {
                advance(slot, instrument, to: t, byTimer: false, &sink)
            }
            if slot.pointee.isOpen && t >= slot.pointee.windowStart && t < slot.pointee.windowEnd {
                state.pointee.counters.accepted += 1
                return .accepted
            }
        }
        return placeOutsideWindow(slot, instrument, t)
    }

    /// The input is not in an open window: it is late, outside the included phases, or it
    /// opens a new window.
    @inlinable
    func placeOutsideWindow(_ slot: UnsafeMutablePointer<BarSlot>, _ instrument: InstrumentID, _ t: Int64) -> BarInputResult {
        if instrument.index >= state.pointee.activeLimit { state.pointee.activeLimit = instrument.index + 1 }
        let segment = segment(containing: t)
        guard phaseMask.contains(segment.phase) else {
            state.pointee.counters.outsideSession += 1
            return .outsideSession
        }
        if t < slot.pointee.watermark || slot.pointee.isOpen {
            // An open window here lies ahead of `t` (flat policy, positioned past a closed
            // period), so `t` is before it: late.
            return late(slot)
        }
        let (start, end, index) = window(containing: t, in: segment)
        if end <= state.pointee.timerNow { return late(slot) }
        slot.pointee.openWindow(start: start, end: end, segmentEnd: segment.end.raw, index: index, phase: segment.phase)
        slot.pointee.watermark = start
        state.pointee.counters.accepted += 1
        return .accepted
    }

    @inlinable
    func late(_ slot: UnsafeMutablePointer<BarSlot>) -> BarInputResult {
        guard foldsLate else {
            state.pointee.counters.lateDropped += 1
            return .lateDropped
        }
        if slot.pointee.isOpen {
            // Fold only into the bar that directly follows the closed ones, never across a
            // closed period into the next session (flat policy positions windows ahead).
            guard slot.pointee.windowStart <= slot.pointee.watermark else {
                state.pointee.counters.lateDropped += 1
                return .lateDropped
            }
        } else {
            // The earliest interval not yet closed for this instrument.
            let u = max(slot.pointee.watermark, state.pointee.timerNow)
            let segment = segment(containing: u)
            guard phaseMask.contains(segment.phase) else {
                state.pointee.counters.lateDropped += 1
                return .lateDropped
            }
            let (start, end, index) = window(containing: u, in: segment)
            slot.pointee.openWindow(start: start, end: end, segmentEnd: segment.end.raw, index: index, phase: segment.phase)
            slot.pointee.watermark = start
        }
        state.pointee.counters.lateFolded += 1
        return .lateFolded
    }

    /// Closes every window of `slot` that ends at or before `t`.
    @inlinable
    func advance<S: BarSink>(_ slot: UnsafeMutablePointer<BarSlot>, _ instrument: InstrumentID, to t: Int64, byTimer: Bool, _ sink: inout S) {
        while slot.pointee.isOpen && slot.pointee.windowEnd <= t {
            closeWindow(slot, instrument, byTimer: byTimer, &sink)
        }
    }

    @inlinable
    func closeWindow<S: BarSink>(_ slot: UnsafeMutablePointer<BarSlot>, _ instrument: InstrumentID, byTimer: Bool, _ sink: inout S) {
        let timerFlag: BarFlags = byTimer ? .closedByTimer : []
        if slot.pointee.hasContent {
            sink.consume(makeBar(slot, instrument, flags: BarFlags(rawValue: slot.pointee.flags).union(timerFlag)))
            state.pointee.counters.bars += 1
            slot.pointee.lastClose = slot.pointee.close
            slot.pointee.status |= BarSlot.hasLastClose
        } else if emitsEmpty && slot.pointee.hasLastClose {
            let p = Price(raw: slot.pointee.lastClose)
            var flags = timerFlag.union(.empty)
            if slot.pointee.windowEnd - slot.pointee.windowStart < interval { flags.insert(.truncated) }
            sink.consume(Bar(
                instrument: instrument, start: Nanos(slot.pointee.windowStart), end: Nanos(slot.pointee.windowEnd),
                open: p, high: p, low: p, close: p, volume: .zero, notional: 0, tradeCount: 0,
                index: slot.pointee.index, flags: flags, phase: slot.pointee.phase))
            state.pointee.counters.emptyBars += 1
        }
        slot.pointee.watermark = slot.pointee.windowEnd
        slot.pointee.resetContent()
        if emitsEmpty && slot.pointee.hasLastClose {
            moveToNextWindow(slot)
        } else {
            slot.pointee.status &= ~BarSlot.windowOpen
        }
    }

    @inlinable
    func makeBar(_ slot: UnsafeMutablePointer<BarSlot>, _ instrument: InstrumentID, flags: BarFlags) -> Bar {
        var flags = flags
        if slot.pointee.windowEnd - slot.pointee.windowStart < interval { flags.insert(.truncated) }
        return Bar(
            instrument: instrument, start: Nanos(slot.pointee.windowStart), end: Nanos(slot.pointee.windowEnd),
            open: Price(raw: slot.pointee.open), high: Price(raw: slot.pointee.high),
            low: Price(raw: slot.pointee.low), close: Price(raw: slot.pointee.close),
            volume: Quantity(raw: slot.pointee.volume), notional: slot.pointee.notional,
            tradeCount: slot.pointee.tradeCount, index: slot.pointee.index, flags: flags, phase: slot.pointee.phase)
    }

    /// The window after the current one: the next interval of the same phase, else the first
    /// interval of the next included phase; the window closes if none is found.
    @inlinable
    func moveToNextWindow(_ slot: UnsafeMutablePointer<BarSlot>) {
        let e = slot.pointee.windowEnd
        if e < slot.pointee.segmentEnd {
            slot.pointee.windowStart = e
            slot.pointee.windowEnd = slot.pointee.segmentEnd - e > interval ? e + interval : slot.pointee.segmentEnd
            slot.pointee.index += 1
        } else if let next = nextIncludedSegment(atOrAfter: e) {
            let (start, end, index) = window(containing: next.start.raw, in: next)
            slot.pointee.openWindow(start: start, end: end, segmentEnd: next.end.raw, index: index, phase: next.phase)
        } else {
            slot.pointee.status &= ~BarSlot.windowOpen
        }
    }

    /// The interval of `segment` holding `t`: `[start, end)` and its index from the segment start.
    @inlinable
    func window(containing t: Int64, in segment: SessionSegment) -> (Int64, Int64, UInt32) {
        let k = (t - segment.start.raw) / interval
        let start = segment.start.raw + k * interval
        let end = segment.end.raw - start > interval ? start + interval : segment.end.raw
        return (start, end, UInt32(truncatingIfNeeded: k))
    }

    /// The calendar segment holding `t`, from a one-entry cache (time moves forward, so the
    /// calendar is asked about once per phase change).
    @inlinable
    func segment(containing t: Int64) -> SessionSegment {
        let cached = state.pointee.cachedSegment
        if t >= cached.start.raw && t < cached.end.raw { return cached }
        let fresh = configuration.calendar.segment(containing: Nanos(t))
        state.pointee.cachedSegment = fresh
        return fresh
    }

    /// The first included segment starting at or after `t` (memoised for the last `t`, since
    /// every instrument rolls over at the same phase boundary).
    @usableFromInline
    func nextIncludedSegment(atOrAfter t: Int64) -> SessionSegment? {
        if state.pointee.nextSegmentKey == t {
            return state.pointee.nextSegmentFound ? state.pointee.nextSegment : nil
        }
        var x = t
        var found: SessionSegment?
        for _ in 0..<8 {
            let s = configuration.calendar.segment(containing: Nanos(x))
            if phaseMask.contains(s.phase) { found = s; break }
            if s.end.raw == Int64.max { break }
            x = s.end.raw
        }
        state.pointee.nextSegmentKey = t
        state.pointee.nextSegmentFound = found != nil
        if let found { state.pointee.nextSegment = found }
        return found
    }
}
