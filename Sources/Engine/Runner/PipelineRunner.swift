import MarketData
import Plumbing
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs named agents on the threads of a `ThreadPlan` until `finished()` says so, calling
/// `progress` from the calling (cold) thread every `interval`. Threads are started in plan
/// order and stopped together; each thread runs its agents as one `CompositeAgent`, in the
/// order the plan lists them (for a fused backtest plan that order is the pipeline's).
public struct PipelineRunner {
    public let plan: ThreadPlan
    public let agents: [String: any Agent]

    public init(plan: ThreadPlan, agents: [String: any Agent]) {
        self.plan = plan
        self.agents = agents
    }

    /// Returns the wall time the run took.
    public func run(interval: Nanos = .milliseconds(250), finished: () -> Bool, progress: (Nanos) -> Void) throws -> Nanos {
        for thread in plan.threads {
            for name in thread.agents where agents[name] == nil { throw EngineError.unknownAgent(name) }
        }
        if plan.lockMemory { try lockAllMemory() }
        let clock = MonotonicClock()
        let start = clock.now()
        var runners: [AgentRunner<CompositeAgent, EngineIdle>] = []
        defer { for runner in runners { runner.stop() } }
        for thread in plan.threads {
            let composite = CompositeAgent(name: thread.name, agents: thread.agents.map { agents[$0]! })
            let runner = AgentRunner(agent: composite, idle: EngineIdle(thread.idle), placement: thread.placement)
            do {
                try runner.start()
            } catch {
                throw EngineError.threadStart("\(thread.name): \(error)")
            }
            runners.append(runner)
        }
        var lastProgress = start
        var request = timespec(tv_sec: 0, tv_nsec: 1_000_000)
        while !finished() {
            nanosleep(&request, nil)
            let now = clock.now()
            if now - lastProgress >= interval {
                progress(now - start)
                lastProgress = now
            }
        }
        let elapsed = clock.now() - start
        for runner in runners { runner.stop() }
        runners.removeAll()
        return elapsed
    }
}

/// The idle strategy a plan names, as one concrete type for the runner.
public struct EngineIdle: IdleStrategy {
    var spin = BusySpinIdle()
    var backoff = BackoffIdle()
    let kind: IdleKind
    public init(_ kind: IdleKind) { self.kind = kind }
    public mutating func idle(workCount: Int) {
        switch kind {
        case .spin: spin.idle(workCount: workCount)
        case .backoff: backoff.idle(workCount: workCount)
        }
    }
    public var spins: Bool { kind.spins }
}

public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownAgent(String)
    case threadStart(String)
    case setup(String)

    public var description: String {
        switch self {
        case .unknownAgent(let name): "engine: the thread plan names an agent '\(name)' the engine does not have"
        case .threadStart(let why): "engine: cannot start thread \(why)"
        case .setup(let why): "engine: \(why)"
        }
    }
}

/// Progress of a replay for people: a bar redrawn in place on a terminal, plain lines
/// otherwise (CI logs, files). Minute bars show "minute X of 390" of the regular session.
public struct ProgressPrinter {
    public let isTerminal: Bool
    public let minuteBars: Bool
    var lastLine = MonotonicClock().now()

    public init(stream: Int32 = 2, minuteBars: Bool = false) {
        isTerminal = isatty(stream) == 1
        self.minuteBars = minuteBars
    }

    /// `fraction` of the input done (bytes or bars), nil when unknown.
    public mutating func update(events: Int, simulated: Nanos, elapsed: Nanos, fraction: Double?, final: Bool = false) {
        let seconds = max(Double(elapsed.raw) / 1e9, 1e-9)
        let rate = Double(events) / seconds
        var parts = ["\(events) events", "sim \(Self.clockText(simulated))"]
        if minuteBars {
            let minute = Self.regularSessionMinute(simulated)
            if let minute { parts.append("minute \(minute) of 390") }
        }
        parts.append(String(format: "%.2f M ev/s", rate / 1e6))
        if let fraction, fraction > 0, !final {
            let eta = seconds * (1 - fraction) / fraction
            parts.append(String(format: "%3.0f%% ETA %.0fs", fraction * 100, eta))
        }
        let text = parts.joined(separator: "  ")
        if isTerminal {
            let width = 24
            let filled = Int((fraction ?? 0) * Double(width))
            let bar = String(repeating: "█", count: min(filled, width)) + String(repeating: "░", count: max(width - filled, 0))
            writeStandardError("\r\u{1B}[2K[\(bar)] \(text)" + (final ? "\n" : ""))
        } else {
            let now = MonotonicClock().now()
            guard final || now - lastLine >= .seconds(2) else { return }
            lastLine = now
            writeStandardError("progress: \(text)\n")
        }
    }

    /// "YYYY-MM-DD HH:MM:SS" UTC of an epoch time; "+HH:MM:SS" for times within a day (ITCH).
    static func clockText(_ time: Nanos) -> String {
        let total = time.raw / 1_000_000_000
        let day = total / 86_400, second = total % 86_400
        let hms = String(format: "%02d:%02d:%02d", second / 3600, second / 60 % 60, second % 60)
        guard day > 0 else { return hms }
        var t = time_t(total)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02d ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday) + hms
    }

    /// The minute of New York's regular session (1...390) an epoch time falls in, if any.
    static func regularSessionMinute(_ time: Nanos) -> Int? {
        let utc = time.raw / 1_000_000_000
        let local = utc + UTCOffsetNewYork.offset(atUTC: utc)
        let secondOfDay = ((local % 86_400) + 86_400) % 86_400
        let minute = (secondOfDay - 34_200) / 60 + 1
        return (1...390).contains(Int(minute)) ? Int(minute) : nil
    }
}

/// Writes to file descriptor 2 (no shared `FILE*`, so no data race with other threads).
public func writeStandardError(_ text: String) {
    var copy = text
    copy.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { return }
            offset += n
        }
    }
}

enum UTCOffsetNewYork {
    static func offset(atUTC seconds: Int64) -> Int64 { UTCOffsetRule.newYork.offsetSeconds(atUTC: seconds) }
}
