#if canImport(Glibc)
import Glibc
#endif

/// Memory for `count` values, 2 MiB-aligned and advised for transparent huge pages (slabs the
/// books touch at random: with 4 KiB pages a 500-symbol book's records and id pages span more
/// pages than the TLB maps). Pages are still committed only when touched; free with
/// `deallocate()`. A first touch faults in 2 MiB at once: per-message latency on the
/// 500-symbol session had p99.99 1.6 µs (8 µs with 4 KiB faults) but once in four runs a
/// 4.3 ms maximum (the kernel compacting memory for the page). An engine that needs hard tails
/// locks its memory at start (`lock_memory: true`), which commits every page before trading.
func hugePageBacked<T>(_ count: Int) -> UnsafeMutablePointer<T> {
    let huge = 1 << 21
    let bytes = max((count * MemoryLayout<T>.stride + huge - 1) / huge * huge, huge)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: huge)
    #if os(Linux)
    _ = madvise(raw, bytes, MADV_HUGEPAGE)
    #endif
    return raw.bindMemory(to: T.self, capacity: count)
}

/// Open-addressing map from order id to order slot: linear probing over 16-byte entries
/// (id, slot), backward-shift deletion (no tombstones).
@usableFromInline struct IDTable {
    @usableFromInline struct Entry {
        @usableFromInline var key: UInt64
        @usableFromInline var slot: Int32
        @usableFromInline var padding: Int32
        @inlinable init(key: UInt64, slot: Int32, padding: Int32) {
            self.key = key
            self.slot = slot
            self.padding = padding
        }
    }

    @usableFromInline var entries: UnsafeMutablePointer<Entry>
    @usableFromInline var mask: Int
    @usableFromInline var shift: UInt64
    @usableFromInline var count: Int
    @usableFromInline let maxSize: Int

    @usableFromInline init(entries: UnsafeMutablePointer<Entry>, mask: Int, count: Int, maxSize: Int) {
        self.entries = entries
        self.mask = mask
        self.shift = UInt64(64 - (mask + 1).trailingZeroBitCount)
        self.count = count
        self.maxSize = maxSize
    }

    @usableFromInline static func makeEntries(_ size: Int) -> UnsafeMutablePointer<Entry> {
        let entries = UnsafeMutablePointer<Entry>.allocate(capacity: size)
        entries.initialize(repeating: Entry(key: 0, slot: -1, padding: 0), count: size)
        return entries
    }

    /// Home slot of an order id: the id's low bits, with the high half folded in. Feeds number
    /// orders sequentially (ITCH references) or with well-mixed low bits (CME ids), so
    /// consecutive ids land in consecutive entries and the live working set stays in few cache
    /// lines. This needs a table at least as large as the span of live ids (it is sized to twice
    /// the order capacity): on a 50M-message session, identity into a live-set-sized table took
    /// 1,364 ns/message (sequential ids wrap into long probe clusters) and Fibonacci hashing
    /// into it 442 ns, against about 165 ns here.
    @inlinable @inline(__always) func home(_ id: UInt64) -> Int {
        Int(truncatingIfNeeded: id ^ (id >> 32)) & mask
    }

    /// How far the entry at `i` sits from its home slot.
    @inlinable @inline(__always) func displacement(_ i: Int) -> Int { (i &- home(entries[i].key)) & mask }

    /// Robin Hood probing: entries within a cluster stay ordered by home, so a lookup stops as
    /// soon as it has travelled further than the entry it meets, and deletion shifts back only
    /// until an entry already at home. With plain linear probing every deletion walked the whole
    /// run of occupied entries after it, and sequential ids make such runs long.
    @inlinable @inline(__always) func find(_ id: UInt64) -> Int32 {
        var i = home(id)
        var distance = 0
        while true {
            let entry = entries[i]
            if entry.slot < 0 { return -1 }
            if entry.key == id { return entry.slot }
            if displacement(i) < distance { return -1 }
            i = (i &+ 1) & mask
            distance &+= 1
        }
    }

    @inlinable mutating func insert(_ id: UInt64, slot: Int32) {
        var carried = Entry(key: id, slot: slot, padding: 0)
        var i = home(id)
        var distance = 0
        while true {
            if entries[i].slot < 0 {
                entries[i] = carried
                count &+= 1
                return
            }
            let existing = displacement(i)
            if existing < distance {
                swap(&carried, &entries[i])
                distance = existing
            }
            i = (i &+ 1) & mask
            distance &+= 1
        }
    }

    @inlinable mutating func erase(_ id: UInt64) {
        var i = home(id)
        var distance = 0
        while true {
            if entries[i].slot < 0 { return }
            if entries[i].key == id { break }
            if displacement(i) < distance { return }
            i = (i &+ 1) & mask
            distance &+= 1
        }
        var next = (i &+ 1) & mask
        while entries[next].slot >= 0 && displacement(next) > 0 {
            entries[i] = entries[next]
            i = next
            next = (next &+ 1) & mask
        }
        entries[i].slot = -1
        count &-= 1
    }

    /// Doubles the table (warm-up only; never past `maxSize`).
    @usableFromInline mutating func grow() {
        let size = mask + 1
        guard size < maxSize else { return }
        let old = entries
        entries = IDTable.makeEntries(size * 2)
        mask = size * 2 - 1
        shift = UInt64(64 - (mask + 1).trailingZeroBitCount)
        count = 0
        for i in 0..<size where old[i].slot >= 0 { insert(old[i].key, slot: old[i].slot) }
        old.deallocate()
    }
}

/// Direct index for ids below 2^32: a directory of pages, each mapping 4,096 consecutive ids to
/// order slots (-1 = none). Sequential ids (ITCH references) pack 16 live entries per cache line
/// where a hash table holds 4, and a lookup is two dependent loads with no probing. Pages come
/// from a bounded pool (one huge-page-backed region) and are recycled when their last order
/// goes (the newest page is kept);
/// when the pool is exhausted, ids fall back to the hash table (`overflow` counts them).
@usableFromInline struct DenseIndex {
    @usableFromInline static let pageBits: UInt64 = 12
    @usableFromInline static let pageSize = 4_096
    /// Ids at or above this are never dense.
    @usableFromInline static let limit: UInt64 = 1 << 32
    @usableFromInline static let absent: Int32 = -1
    @usableFromInline static let notDense: Int32 = -2

    @usableFromInline let directory: UnsafeMutablePointer<UnsafeMutablePointer<Int32>?>
    @usableFromInline let live: UnsafeMutablePointer<Int32>
    @usableFromInline let spare: UnsafeMutablePointer<UnsafeMutablePointer<Int32>?>
    /// Where pages come from: `pageLimit` pages of 4,096 entries.
    @usableFromInline let pool: UnsafeMutablePointer<Int32>
    @usableFromInline var spareCount = 0
    @usableFromInline var allocatedPages = 0
    @usableFromInline let pageLimit: Int
    @usableFromInline var newestPage = -1
    /// Dense-range ids that went to the hash table (pool exhausted).
    @usableFromInline var overflow = 0

    @usableFromInline init(pageLimit: Int) {
        let pages = Int(DenseIndex.limit >> DenseIndex.pageBits)
        // calloc: the kernel hands out zero pages lazily, so the 8 MiB directory costs only what
        // is touched.
        directory = calloc(pages, MemoryLayout<UnsafeMutablePointer<Int32>?>.stride)!
            .bindMemory(to: UnsafeMutablePointer<Int32>?.self, capacity: pages)
        live = calloc(pages, MemoryLayout<Int32>.stride)!.bindMemory(to: Int32.self, capacity: pages)
        spare = .allocate(capacity: max(pageLimit, 1))
        pool = hugePageBacked(max(pageLimit, 1) * DenseIndex.pageSize)
        self.pageLimit = pageLimit
    }

    @usableFromInline func release() {
        pool.deallocate()
        free(directory)
        free(live)
        spare.deallocate()
    }

    @inlinable @inline(__always) func find(_ id: UInt64) -> Int32 {
        if id >= DenseIndex.limit { return DenseIndex.notDense }
        guard let page = directory[Int(id >> DenseIndex.pageBits)] else { return DenseIndex.absent }
        return page[Int(id & 4_095)]
    }

    @inlinable func entryAddress(_ id: UInt64) -> UnsafeMutablePointer<Int32>? {
        if id >= DenseIndex.limit { return nil }
        return directory[Int(id >> DenseIndex.pageBits)].map { $0 + Int(id & 4_095) }
    }

    /// Stores `slot` in the (empty) entry of `id` in an existing page (from `entryAddress`).
    @inlinable @inline(__always) func fill(_ entry: UnsafeMutablePointer<Int32>, id: UInt64, slot: Int32) {
        entry.pointee = slot
        live[Int(id >> DenseIndex.pageBits)] &+= 1
    }

    /// False when the id is not dense or no page is available (use the hash table).
    @inlinable mutating func insert(_ id: UInt64, slot: Int32) -> Bool {
        if id >= DenseIndex.limit { return false }
        let index = Int(id >> DenseIndex.pageBits)
        var page = directory[index]
        if page == nil {
            guard let fresh = takePage() else { return false }
            directory[index] = fresh
            page = fresh
        }
        page.unsafelyUnwrapped[Int(id & 4_095)] = slot
        live[index] &+= 1
        if index > newestPage { newestPage = index }
        return true
    }

    /// True when the id was held here (and is now removed).
    @inlinable mutating func erase(_ id: UInt64) -> Bool {
        if id >= DenseIndex.limit { return false }
        let index = Int(id >> DenseIndex.pageBits)
        guard let page = directory[index], page[Int(id & 4_095)] >= 0 else { return false }
        page[Int(id & 4_095)] = -1
        live[index] &-= 1
        if live[index] == 0 && index != newestPage {
            directory[index] = nil
            spare[spareCount] = page
            spareCount &+= 1
        }
        return true
    }

    /// Empties the (live) entry of `id` (from `entryAddress`), recycling its page when that
    /// was its last order.
    @inlinable @inline(__always) mutating func clear(_ entry: UnsafeMutablePointer<Int32>, id: UInt64) {
        entry.pointee = -1
        let index = Int(id >> DenseIndex.pageBits)
        live[index] &-= 1
        if live[index] == 0 && index != newestPage { recycle(index) }
    }

    @usableFromInline mutating func recycle(_ index: Int) {
        spare[spareCount] = directory[index]
        spareCount &+= 1
        directory[index] = nil
    }

    @usableFromInline mutating func reserve(_ pages: Int) {
        while allocatedPages < min(pages, pageLimit) {
            spare[spareCount] = pool + allocatedPages * DenseIndex.pageSize
            spareCount &+= 1
            allocatedPages &+= 1
        }
    }

    @usableFromInline mutating func takePage() -> UnsafeMutablePointer<Int32>? {
        let page: UnsafeMutablePointer<Int32>
        if spareCount > 0 {
            spareCount &-= 1
            page = spare[spareCount]!
        } else {
            guard allocatedPages < pageLimit else { return nil }
            page = pool + allocatedPages * DenseIndex.pageSize
            allocatedPages &+= 1
        }
        page.initialize(repeating: -1, count: DenseIndex.pageSize)
        return page
    }
}
