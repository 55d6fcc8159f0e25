import TicklineCore

/// The engine's view of the feed's timing in simulation: the venue acts at exchange time
/// (`tsEvent`); the engine sees an event at its local receive time (`tsReceive`). Sources that
/// carry no receive time (ITCH files, the generator: `tsReceive == 0`) get
/// `tsEvent + feed latency`, drawn from the venue config's `latency.feed` model with its own
/// seeded stream, and never earlier than the previous event's (one network path keeps order).
///
/// Owned by whichever stage stamps events (the replay source), one thread. Holds its samples
/// in a shared immutable array, read without allocation.
public struct FeedLatency: Sendable {
    @usableFromInline let constant: Int64
    @usableFromInline let samples: [Int64]
    @usableFromInline var rng: SplitMix64
    @usableFromInline var lastReceive: Int64 = Int64.min

    public init(model: LatencyModel, seed: UInt64) {
        switch model {
        case .constant(let value):
            constant = value.raw
            samples = []
        case .empirical(let values, _):
            constant = 0
            samples = values
        }
        // A stream distinct from the venue's own (which derive from `seed` directly).
        rng = SplitMix64(seed: seed ^ 0x6665_6564_6C61_7479)
    }

    /// The feed latency of the venue config (seeded from the venue's seed).
    public init(config: VenueConfig) {
        self.init(model: config.feedLatency, seed: config.seed)
    }

    /// When the engine receives `event`: its own `tsReceive` when it has one, else exchange
    /// time plus a drawn feed latency (monotonic across calls).
    @inlinable
    public mutating func receiveTime(of event: MarketEvent) -> Nanos {
        if event.tsReceive.raw != 0 {
            if event.tsReceive.raw > lastReceive { lastReceive = event.tsReceive.raw }
            return event.tsReceive
        }
        var latency = constant
        if !samples.isEmpty {
            let index = Int(truncatingIfNeeded: UInt64(samples.count).multipliedFullWidth(by: rng.next()).high)
            latency = samples[index]
        }
        var time = event.tsEvent.raw &+ latency
        if time < lastReceive { time = lastReceive }
        lastReceive = time
        return Nanos(time)
    }

    /// Fills in `tsReceive` when the source left it empty.
    @inlinable
    public mutating func stamp(_ event: inout MarketEvent) {
        if event.tsReceive.raw == 0 { event.tsReceive = receiveTime(of: event) }
    }
}
