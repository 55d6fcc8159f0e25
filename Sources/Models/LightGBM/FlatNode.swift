/// One node of a flattened tree: 16 bytes, four to a cache line. A split's two children are
/// adjacent (left at `right - 1`), so a step is `next = right - goesLeft`: arithmetic, with no
/// branch or select to mispredict. Sibling pairs are laid out in depth-first order.
///
/// ```
/// byte 0        8          12         16
///      | value  | feature  | right    |
/// ```
/// * `value`: a numerical split's threshold (kZeroThreshold-adjusted, see `FlatForest`); NaN
///   for a categorical split (its bitset decides alone) and for a leaf, so that every
///   comparison with it is false.
/// * `feature`: the row index the split reads (0 for a leaf).
/// * `right`: absolute index of the right child in the forest's node array (the left child is
///   the slot before it); a leaf points at itself and never goes left (its value is NaN, its
///   flags empty), so a traversal that has reached a leaf stays there: several traversals can
///   advance in lockstep with no per-lane exit branch.
///
/// What the plain comparison `x <= value` cannot decide (NaN inputs, categorical and
/// zero-as-missing splits) is described by the node's `FlatNodeFlags` byte, kept in a parallel
/// array that the common path never reads. A plain value, written once when the forest is built.
@frozen public struct FlatNode: Sendable, BitwiseCopyable, Equatable {
    public var value: Double
    public var feature: UInt32
    public var right: Int32

    @inlinable
    public init(value: Double, feature: UInt32, right: Int32) {
        self.value = value
        self.feature = feature
        self.right = right
    }
}

/// Per-node bits for the decisions `x <= value` alone does not make. A plain value.
@frozen public struct FlatNodeFlags: OptionSet, Sendable, BitwiseCopyable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A NaN input goes left (missing type None with 0 ≤ threshold, or NaN with default-left).
    public static let nanLeft = FlatNodeFlags(rawValue: 1 << 0)
    /// Zero-as-missing split: |x| ≤ kZeroThreshold and NaN take the default direction.
    public static let zeroMissing = FlatNodeFlags(rawValue: 1 << 1)
    /// Categorical split: the forest's category offsets locate its bitset.
    public static let categorical = FlatNodeFlags(rawValue: 1 << 2)
    /// The default direction of a zero-as-missing split is left.
    public static let defaultLeft = FlatNodeFlags(rawValue: 1 << 3)
    /// Missing type NaN: a NaN input takes the default direction (`nanLeft`) instead of being
    /// read as 0.0.
    public static let nanIsMissing = FlatNodeFlags(rawValue: 1 << 4)
    /// A leaf (informational: the hot path knows leaves by their NaN value).
    public static let leaf = FlatNodeFlags(rawValue: 1 << 7)
}
