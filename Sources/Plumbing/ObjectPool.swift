/// A handle to an object in an `ObjectPool`: an index plus the generation it was issued in.
/// Plain data (no reference counting), so it can live in records and rings.
@frozen public struct PoolHandle: Hashable, Sendable, BitwiseCopyable {
    public let index: UInt32
    public let generation: UInt32
    @inlinable public init(index: UInt32, generation: UInt32) {
        self.index = index
        self.generation = generation
    }
}

/// What `ObjectPool.release` found.
@frozen public enum PoolReleaseResult: Sendable, Equatable {
    case released
    /// The object was already free: nothing changed.
    case doubleRelease
    /// The handle belongs to an earlier life of the slot (released and acquired again since).
    case staleHandle
    /// The index is outside the pool.
    case invalidHandle
}

/// A fixed set of preallocated objects handed out by index handles.
///
/// All slots are allocated and initialised at start; `acquire` and `release` are a stack pop
/// and push on a preallocated free list, with no allocation and no reference counting.
/// Exhaustion is reported by `acquire` returning nil (and counted). Every slot carries a
/// generation number bumped on release, so a stale handle is refused on release and detected
/// by `isLive`. Debug builds also poison a released slot's bytes and verify the poison when the
/// slot is handed out again, catching writes through a handle after release
/// (`corruptionsDetected`). Single-threaded: the owning stage's thread only.
public final class ObjectPool<Object: BitwiseCopyable>: @unchecked Sendable {
    public let capacity: Int
    @usableFromInline let objects: UnsafeMutablePointer<Object>
    @usableFromInline let generations: UnsafeMutablePointer<UInt32>
    /// Bit 0: live. Kept in both builds: a double release must never corrupt the free list.
    @usableFromInline let liveFlags: UnsafeMutablePointer<UInt8>
    @usableFromInline let freeList: UnsafeMutablePointer<UInt32>
    /// [0] free count, [1] exhaustion count, [2] corruption count, [3] high-water in use.
    @usableFromInline let state: UnsafeMutablePointer<Int>

    @usableFromInline static var poisonByte: UInt8 { 0xA5 }

    public init(capacity: Int, prototype: Object) {
        precondition(capacity > 0 && capacity <= Int(UInt32.max), "pool capacity out of range")
        self.capacity = capacity
        objects = allocateAligned(byteCount: capacity * MemoryLayout<Object>.stride)
            .bindMemory(to: Object.self, capacity: capacity)
        objects.initialize(repeating: prototype, count: capacity)
        generations = allocateAligned(byteCount: capacity * 4).bindMemory(to: UInt32.self, capacity: capacity)
        liveFlags = allocateAligned(byteCount: capacity).bindMemory(to: UInt8.self, capacity: capacity)
        freeList = allocateAligned(byteCount: capacity * 4).bindMemory(to: UInt32.self, capacity: capacity)
        // Hand out low indices first (better locality while the pool is lightly used).
        for i in 0..<capacity { freeList[i] = UInt32(capacity - 1 - i) }
        state = allocateAligned(byteCount: 4 * MemoryLayout<Int>.stride).bindMemory(to: Int.self, capacity: 4)
        state[0] = capacity
        #if DEBUG
        for i in 0..<capacity { poison(Int(i)) }
        #endif
    }

    deinit {
        objects.deallocate()
        generations.deallocate()
        liveFlags.deallocate()
        freeList.deallocate()
        state.deallocate()
    }

    @inlinable public var freeCount: Int { state[0] }
    @inlinable public var inUse: Int { capacity - state[0] }
    /// How many times `acquire` found the pool empty.
    @inlinable public var exhaustionCount: Int { state[1] }
    /// Debug builds: released slots found written to when handed out again.
    @inlinable public var corruptionsDetected: Int { state[2] }
    @inlinable public var highWaterMark: Int { state[3] }

    /// Takes a free object; nil when the pool is exhausted. The object holds whatever its
    /// previous user left (the prototype at first; poison bytes in debug builds): initialise it.
    @inlinable
    public func acquire() -> PoolHandle? {
        let free = state[0]
        if free == 0 {
            state[1] &+= 1
            return nil
        }
        let index = freeList[free - 1]
        state[0] = free - 1
        let used = capacity - free + 1
        if used > state[3] { state[3] = used }
        liveFlags[Int(index)] = 1
        #if DEBUG
        if !isPoisoned(Int(index)) { state[2] &+= 1 }
        #endif
        return PoolHandle(index: index, generation: generations[Int(index)])
    }

    /// Returns an object to the pool. A handle that is not live changes nothing.
    @inlinable
    @discardableResult
    public func release(_ handle: PoolHandle) -> PoolReleaseResult {
        let i = Int(handle.index)
        guard i < capacity else { return .invalidHandle }
        if generations[i] != handle.generation { return .staleHandle }
        if liveFlags[i] == 0 { return .doubleRelease }
        liveFlags[i] = 0
        generations[i] &+= 1
        freeList[state[0]] = handle.index
        state[0] &+= 1
        #if DEBUG
        poison(i)
        #endif
        return .released
    }

    /// True while `handle` refers to an acquired, not yet released object.
    @inlinable
    public func isLive(_ handle: PoolHandle) -> Bool {
        let i = Int(handle.index)
        return i < capacity && liveFlags[i] != 0 && generations[i] == handle.generation
    }

    /// The object behind a live handle. Debug builds trap on a stale or released handle.
    @inlinable
    public func pointer(_ handle: PoolHandle) -> UnsafeMutablePointer<Object> {
        assert(isLive(handle), "use of a released or stale pool handle")
        return objects + Int(handle.index)
    }

    @inlinable
    public subscript(handle: PoolHandle) -> Object {
        get { pointer(handle).pointee }
        set { pointer(handle).pointee = newValue }
    }

    @usableFromInline
    func poison(_ index: Int) {
        UnsafeMutableRawPointer(objects + index)
            .initializeMemory(as: UInt8.self, repeating: Self.poisonByte, count: MemoryLayout<Object>.size)
    }

    @usableFromInline
    func isPoisoned(_ index: Int) -> Bool {
        let bytes = UnsafeRawBufferPointer(start: objects + index, count: MemoryLayout<Object>.size)
        return bytes.allSatisfy { $0 == Self.poisonByte }
    }
}
