import Models
import TicklineCore

/// The model stage's logic: one instrument's feature vector → the model → a `Signal` with a
/// direction, a confidence and a target position. Built once at start from the feature plan's
/// names and the model's; evaluates with no allocation, no dictionary and no dynamic dispatch.
///
/// The model's inputs are matched to the feature vector by name (the model's `feature_names`,
/// which `tools/train_lightgbm.py` sets to the registry's names); a model whose names are
/// LightGBM's defaults (`Column_0`, ...) is matched by position. A model input with no feature
/// of that name is a start-up error.
///
/// Owned by the thread that runs the model stage; not thread-safe.
public final class ModelStrategy {
    public let forest: FlatForest
    /// `forest` compiled to machine code, when the config asks for it: predictions go there
    /// (the same bits; see `StrategyConfig.forest`).
    public let compiled: CompiledForest?
    /// `compiled`'s single-row function: a C function pointer, called with no reference counting
    /// (binding the optional object per evaluation retained and released it).
    @usableFromInline let compiledRow: CompiledForest.RowFunction?
    public let policy: SignalPolicy
    public let sizer: TargetSizer
    public let modelVersion: UInt16
    /// `inputIndex[i]`: the feature-vector index feeding model input `i`.
    @usableFromInline let inputIndex: UnsafeMutableBufferPointer<Int>
    @usableFromInline let row: UnsafeMutableBufferPointer<Double>
    @usableFromInline let outputs: UnsafeMutableBufferPointer<Double>
    /// Where rehearsals (`rehearse`) write: `outputs` keeps the last evaluation's.
    let rehearsalOutputs: UnsafeMutableBufferPointer<Double>
    /// Instruments whose last model input and output are kept (`evaluate`'s memo); 0: none.
    public let memoizedInstruments: Int
    /// Per memoized instrument: the bit patterns of the last input row the model saw, then its
    /// outputs (`forest.outputCount` doubles), and whether the slot holds one yet.
    @usableFromInline let memoRows: UnsafeMutablePointer<UInt64>
    @usableFromInline let memoOutputs: UnsafeMutablePointer<Double>
    @usableFromInline let memoHeld: UnsafeMutablePointer<Bool>
    /// Evaluations answered from the memo (the row equal, bit for bit, to the instrument's last).
    public var memoHits: Int { hits }
    @usableFromInline var hits = 0

    /// `memoizing`: instruments (ids `0 ..< memoizing`, within 32 MiB of memo) for which an
    /// evaluation whose model input equals, bit for bit, the instrument's previous one reuses
    /// that evaluation's outputs instead of walking the forest again — the same answer, exactly
    /// (the model is a pure function of its input). A book changes more often than the features
    /// a model reads (a change below the levels they look at, sizes that leave an imbalance
    /// where it was): the demo's backtest answers 316,804 of its evaluations from the memo.
    public init(
        featureNames: [String], modelFeatureNames: [String], forest: FlatForest, policy: SignalPolicy,
        sizer: TargetSizer, modelVersion: UInt16 = 1, memoizing: Int = 0, compiled: CompiledForest? = nil
    ) throws(StrategyConfigError) {
        try policy.validate()
        let inputs = forest.featureCount
        var mapping = [Int](repeating: 0, count: inputs)
        let names = modelFeatureNames.count >= inputs ? Array(modelFeatureNames.prefix(inputs)) : []
        let positional = names.isEmpty || names.enumerated().allSatisfy { $0.element == "Column_\($0.offset)" }
        if positional {
            guard featureNames.count >= inputs else {
                throw .invalid("the model reads \(inputs) unnamed features but the feature plan has \(featureNames.count)")
            }
            for i in 0..<inputs { mapping[i] = i }
        } else {
            var position: [String: Int] = [:]
            for (i, name) in featureNames.enumerated() { position[name] = i }
            var missing: [String] = []
            for (i, name) in names.enumerated() {
                if let j = position[name] { mapping[i] = j } else { missing.append(name) }
            }
            guard missing.isEmpty else {
                throw .invalid("the model reads features the feature plan does not compute: \(missing.joined(separator: ", "))")
            }
        }
        if case .multiclass(let directions, _) = policy, directions.count != forest.outputCount {
            throw .invalid("the multiclass policy maps \(directions.count) classes but the model has \(forest.outputCount)")
        }
        if case .multiclass = policy {} else if forest.outputCount != 1 {
            throw .invalid("a \(forest.outputCount)-class model needs a multiclass policy")
        }
        if let compiled, compiled.forest !== forest {
            throw .invalid("the compiled forest was built from another model")
        }
        self.forest = forest
        self.compiled = compiled
        compiledRow = compiled?.rawRowFunction
        self.policy = policy
        self.sizer = sizer
        self.modelVersion = modelVersion
        inputIndex = .allocate(capacity: inputs)
        _ = inputIndex.initialize(from: mapping)
        row = .allocate(capacity: max(inputs, 1))
        row.initialize(repeating: .nan)
        outputs = .allocate(capacity: forest.outputCount)
        outputs.initialize(repeating: .nan)
        rehearsalOutputs = .allocate(capacity: forest.outputCount)
        rehearsalOutputs.initialize(repeating: .nan)
        // At most 32 MiB of memo: instruments past that are evaluated every time.
        memoizedInstruments = min(max(memoizing, 0), (32 << 20) / (8 * (inputs + forest.outputCount) + 1))
        memoRows = .allocate(capacity: max(memoizedInstruments * inputs, 1))
        memoRows.initialize(repeating: 0, count: max(memoizedInstruments * inputs, 1))
        memoOutputs = .allocate(capacity: max(memoizedInstruments * forest.outputCount, 1))
        memoOutputs.initialize(repeating: .nan, count: max(memoizedInstruments * forest.outputCount, 1))
        memoHeld = .allocate(capacity: max(memoizedInstruments, 1))
        memoHeld.initialize(repeating: false, count: max(memoizedInstruments, 1))
    }

    deinit {
        inputIndex.deallocate()
        row.deallocate()
        outputs.deallocate()
        rehearsalOutputs.deallocate()
        memoRows.deallocate()
        memoOutputs.deallocate()
        memoHeld.deallocate()
    }

    /// Evaluates the model on `features` (the plan's vector for `instrument`; NaN = not ready,
    /// passed to the model as missing) and returns the signal. The trace is carried through.
    @inlinable
    public func evaluate(
        features: UnsafePointer<Double>, instrument: InstrumentID, tsEvent: Nanos, trace: StageTrace
    ) -> Signal {
        let inputs = inputIndex.count
        for i in 0..<inputs { row[i] = features[inputIndex[i]] }
        let slot = instrument.index
        if slot < memoizedInstruments {
            let last = memoRows + slot &* inputs
            let kept = memoOutputs + slot &* outputs.count
            if memoHeld[slot] && Self.sameBits(row.baseAddress!, last, inputs) {
                hits &+= 1
                outputs.baseAddress!.update(from: kept, count: outputs.count)
            } else {
                predict()
                UnsafeMutableRawPointer(last).copyMemory(from: row.baseAddress!, byteCount: inputs &* 8)
                kept.update(from: outputs.baseAddress!, count: outputs.count)
                memoHeld[slot] = true
            }
        } else {
            predict()
        }
        let (direction, confidence) = policy.decide(UnsafeBufferPointer(outputs))
        return Signal(
            instrument: instrument, direction: direction, confidence: confidence,
            target: sizer.target(direction: direction, confidence: confidence),
            modelVersion: modelVersion, tsEvent: tsEvent, trace: trace)
    }

    /// The model's outputs for `row`, into `outputs`.
    @inlinable @inline(__always)
    func predict() { predict(into: outputs) }

    /// The model's outputs for `row`, into `scores` (`forest.outputCount` doubles).
    @inlinable @inline(__always)
    func predict(into scores: UnsafeMutableBufferPointer<Double>) {
        if let compiledRow {
            compiledRow(row.baseAddress!, scores.baseAddress!)
            forest.finish(scores.baseAddress!)
        } else {
            forest.predict(row: UnsafeBufferPointer(row), into: scores)
        }
    }

    /// A dry run of `evaluate(features:...)` for a live engine's idle cycles: the same gathering
    /// of the model's inputs, walk of the forest (never the memo) and policy, with nothing kept
    /// (`lastOutputs`, the memo and `memoHits` stay as they were), so that the next evaluation
    /// finds the forest's nodes and code in the near caches rather than where the idle loop's
    /// polling left them. Returns the target an evaluation would give.
    @inline(never)
    public func rehearse(features: UnsafePointer<Double>) -> Quantity {
        let inputs = inputIndex.count
        for i in 0..<inputs { row[i] = features[inputIndex[i]] }
        predict(into: rehearsalOutputs)
        let (direction, confidence) = policy.decide(UnsafeBufferPointer(rehearsalOutputs))
        return sizer.target(direction: direction, confidence: confidence)
    }

    /// Whether the `count` doubles at `row` have exactly the bit patterns at `last` (NaN equal
    /// to the same NaN, -0 unequal to +0: what the forest would see).
    @inlinable @inline(__always)
    static func sameBits(_ row: UnsafePointer<Double>, _ last: UnsafePointer<UInt64>, _ count: Int) -> Bool {
        let words = UnsafeRawPointer(row).assumingMemoryBound(to: UInt64.self)
        var differ: UInt64 = 0
        for i in 0..<count { differ |= words[i] ^ last[i] }
        return differ == 0
    }

    /// The model's transformed outputs of the last `evaluate` (for the journal and research).
    @inlinable public var lastOutputs: UnsafeBufferPointer<Double> { UnsafeBufferPointer(outputs) }
}
