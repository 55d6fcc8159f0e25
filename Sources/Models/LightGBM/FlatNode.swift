/// One node of a flattened tree: 16 bytes, four to a cache line, laid out depth-first with the
/// left child right after its parent.
///
/// ```
/// byte 0        8            12          16
///      | value  | word       | right     |
/// ```
/// * `value`: a numerical split's threshold (kZeroThreshold-adjusted, see `FlatForest`); a
///   categorical split's bitset as the bit pattern `offset | wordCount << 32` into the forest's
///   category words; NaN for a leaf, so that every comparison with it is false.
/// * `word`: bits 0–26 the feature index; bit 27 `nanLeft` (a NaN input goes left); bit 28
///   `zeroMissing` (|x| ≤ kZeroThreshold and NaN take the default direction, bit 30); bit 29
///   `categorical`; bit 31 marks a leaf (informational: leaves are recognised by their NaN
///   value and self-loop, never by this bit, on the hot path).
/// * `right`: absolute index of the right child in the forest's node array; a leaf points at
///   itself, so once a traversal reaches a leaf, further steps stay there. This lets several
///   traversals advance in lockstep for a fixed number of steps with no exit branch.
///
/// A plain value, written once when the forest is built.
@frozen public struct FlatNode: Sendable, BitwiseCopyable, Equatable {
    public var value: Double
    public var word: UInt32
    public var right: Int32

    public static let featureMask: UInt32 = (1 << 27) - 1
    public static let nanLeftBit: UInt32 = 1 << 27
    public static let zeroMissingBit: UInt32 = 1 << 28
    public static let categoricalBit: UInt32 = 1 << 29
    public static let defaultLeftBit: UInt32 = 1 << 30
    public static let leafBit: UInt32 = 1 << 31
    /// Nodes the fast comparison cannot decide alone.
    public static let slowMask: UInt32 = zeroMissingBit | categoricalBit

    @inlinable
    public init(value: Double, word: UInt32, right: Int32) {
        self.value = value
        self.word = word
        self.right = right
    }

    @inlinable public var feature: Int { Int(word & Self.featureMask) }
    @inlinable public var isLeaf: Bool { word & Self.leafBit != 0 }
}
