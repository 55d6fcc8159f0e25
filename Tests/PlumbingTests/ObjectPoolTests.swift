import Testing
@testable import Plumbing

private struct Order: BitwiseCopyable, Equatable {
    var id: UInt64
    var quantity: Int64
}

@Suite struct ObjectPoolTests {
    @Test func exhaustionIsReportedAndCounted() {
        let pool = ObjectPool(capacity: 3, prototype: Order(id: 0, quantity: 0))
        let handles = (0..<3).compactMap { _ in pool.acquire() }
        #expect(handles.count == 3)
        #expect(Set(handles.map(\.index)).count == 3)
        #expect(pool.acquire() == nil)
        #expect(pool.acquire() == nil)
        #expect(pool.exhaustionCount == 2)
        #expect(pool.highWaterMark == 3)
        #expect(pool.release(handles[1]) == .released)
        let again = pool.acquire()
        #expect(again?.index == handles[1].index)
        #expect(again?.generation != handles[1].generation, "a reused slot gets a new generation")
    }

    @Test func objectsKeepTheirValues() {
        let pool = ObjectPool(capacity: 2, prototype: Order(id: 0, quantity: 0))
        let first = pool.acquire()!
        let second = pool.acquire()!
        pool[first] = Order(id: 7, quantity: 100)
        pool[second] = Order(id: 8, quantity: -5)
        #expect(pool[first] == Order(id: 7, quantity: 100))
        #expect(pool[second] == Order(id: 8, quantity: -5))
    }

    @Test func releaseChecks() {
        let pool = ObjectPool(capacity: 2, prototype: Order(id: 0, quantity: 0))
        let handle = pool.acquire()!
        #expect(pool.isLive(handle))
        #expect(pool.release(handle) == .released)
        #expect(!pool.isLive(handle), "use-after-release is detectable")
        #expect(pool.release(handle) == .staleHandle, "the generation moved on")
        #expect(pool.freeCount == 2, "a refused release does not corrupt the free list")
        let forged = PoolHandle(index: handle.index, generation: handle.generation &+ 1)
        #expect(pool.release(forged) == .doubleRelease, "the slot is already free")
        #expect(pool.release(PoolHandle(index: 9, generation: 0)) == .invalidHandle)
        #expect(pool.freeCount == 2)
        // Both objects can still be acquired exactly once.
        let a = pool.acquire()
        let b = pool.acquire()
        #expect(a != nil && b != nil && a?.index != b?.index)
        #expect(pool.acquire() == nil)
    }

    #if DEBUG
    @Test func debugSentinelsCatchWritesAfterRelease() {
        let pool = ObjectPool(capacity: 1, prototype: Order(id: 0, quantity: 0))
        let handle = pool.acquire()!
        let pointer = pool.pointer(handle)
        pool.release(handle)
        #expect(pool.corruptionsDetected == 0)
        pointer.pointee.quantity = 5  // a bug: writing through a pointer kept past release
        _ = pool.acquire()
        #expect(pool.corruptionsDetected == 1)
        let clean = ObjectPool(capacity: 1, prototype: Order(id: 0, quantity: 0))
        clean.release(clean.acquire()!)
        _ = clean.acquire()
        #expect(clean.corruptionsDetected == 0)
    }
    #endif

    @Test func churnKeepsEveryHandleUnique() {
        let pool = ObjectPool(capacity: 64, prototype: Order(id: 0, quantity: 0))
        var live: [PoolHandle] = []
        var generator = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            if live.isEmpty || (live.count < 64 && Bool.random(using: &generator)) {
                if let handle = pool.acquire() {
                    pool[handle] = Order(id: UInt64(step), quantity: Int64(handle.index))
                    live.append(handle)
                }
            } else {
                let handle = live.remove(at: Int.random(in: 0..<live.count, using: &generator))
                #expect(pool[handle].quantity == Int64(handle.index))
                #expect(pool.release(handle) == .released)
            }
            #expect(pool.inUse == live.count)
        }
        #expect(Set(live.map(\.index)).count == live.count)
    }
}
