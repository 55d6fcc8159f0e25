/// Deterministic randomness for replays, generators, simulated venues and tests: seeds are
/// explicit and the sequence is the same on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// 0, 1, 2, … with P(k) = p(1-p)^k, capped at 60.
    public mutating func geometric(_ p: Double) -> Int {
        var k = 0
        while k < 60 && nextDouble() > p { k += 1 }
        return k
    }
}

