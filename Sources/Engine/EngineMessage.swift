import MarketData
import TicklineCore

/// What travels down the pipeline's rings, in event order: market events (forwarded by every
/// stage so the stages after it — marks in risk, matching in the simulated venue — see the
/// market exactly as the stages before them did), completed bars, the model's signals, and the
/// end of the stream. One ring per thread boundary carries all of them, so a stage on another
/// thread receives them in exactly the order they were produced: that is what makes a
/// backtest's output independent of the thread plan.
///
/// 104-byte stride (a `Bar` and an `OrderCommand` are the largest payloads). Plain data, copied by value.
@frozen public enum EngineMessage: Sendable, BitwiseCopyable {
    case event(MarketEvent)
    case bar(Bar)
    case signal(Signal)
    /// The best bid and ask prices of an instrument changed (sent by the features stage after
    /// the event that changed them): marks for risk, prices for order placement.
    /// `Price.undefined` for an empty side.
    case quote(InstrumentID, bid: Price, ask: Price, time: Nanos)
    /// An order command approved by risk, for routing.
    case command(OrderCommand)
    /// The source is exhausted; `Nanos` is the last event time. Sent once; every stage
    /// forwards it after finishing its own work, and the last one ends the run.
    case end(Nanos)
}

extension EngineMessage {
    /// An `.event` message's payload where it lies in a ring slot. A `@frozen` multi-payload
    /// enum keeps every payload at offset 0, its case tag after the largest (Swift's ABI,
    /// docs/ABI/TypeLayout.rst; `EngineMessageLayoutTests` checks it). So a stage writes a slot
    /// as `.event` and then decodes into it, or completes the event, in place, instead of
    /// building the event on the stack and copying it in: reading 32 bytes at a time just after
    /// they were stored field by field stalled on store forwarding (the largest single cost in
    /// the replay source's and the features stage's own code, two-thread EMA backtest profile).
    @inlinable @inline(__always)
    public static func event(in slot: UnsafeMutablePointer<EngineMessage>) -> UnsafeMutablePointer<MarketEvent> {
        UnsafeMutableRawPointer(slot).assumingMemoryBound(to: MarketEvent.self)
    }

    /// Whether the message in `slot` is an event (reads the tag only).
    @inlinable @inline(__always)
    public static func isEvent(_ slot: UnsafePointer<EngineMessage>) -> Bool {
        if case .event = slot.pointee { return true }
        return false
    }
}

/// Why replay stopped early or what it skipped: counted, never fatal to the run.
public struct ReplayCounters: Sendable, Equatable {
    public var events = 0
    public var bars = 0
    public var decodeErrors = 0
    public var skippedRecords = 0
    public var files = 0
    public init() {}
}
