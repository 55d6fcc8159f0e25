/// Map from (side, price) to level record, for an add to find its level without searching the
/// side: open addressing with linear probing over 16-byte entries, backward-shift deletion.
///
/// An add used to scan its side's prices from the inside; on generated equity sessions adds
/// land anywhere in the top 15 levels, so the scan's exit was a branch mispredicted on most
/// adds. Here a lookup is one multiply and, nearly always, one probe. Levels come and go
/// rarely (about 2 % of adds open one), so keeping this table beside the sorted side arrays
/// costs little.
@usableFromInline struct LevelTable {
    @usableFromInline struct Entry {
        @usableFromInline var price: Int64
        @usableFromInline var sideIndex: Int32
        /// Level record, -1 when the entry is empty.
        @usableFromInline var node: Int32
        @inlinable init(price: Int64, sideIndex: Int32, node: Int32) {
            self.price = price
            self.sideIndex = sideIndex
            self.node = node
        }
    }

    @usableFromInline var entries: UnsafeMutablePointer<Entry>
    @usableFromInline var mask: Int
    @usableFromInline var shift: UInt64
    @usableFromInline var count: Int
    @usableFromInline let maxSize: Int

    @usableFromInline init(size: Int, maxSize: Int) {
        entries = LevelTable.makeEntries(size)
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
        count = 0
        self.maxSize = maxSize
    }

    @usableFromInline static func makeEntries(_ size: Int) -> UnsafeMutablePointer<Entry> {
        let entries = UnsafeMutablePointer<Entry>.allocate(capacity: size)
        entries.initialize(repeating: Entry(price: 0, sideIndex: 0, node: -1), count: size)
        return entries
    }

    /// Fibonacci hashing of price and side: prices are multiples of a tick, so their low bits
    /// carry nothing; the product's high bits mix all of them.
    @inlinable @inline(__always) func home(_ price: Int64, _ sideIndex: Int32) -> Int {
        let key = UInt64(bitPattern: price) &+ UInt64(UInt32(bitPattern: sideIndex)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: (key &* 0xBF58_476D_1CE4_E5B9) >> shift)
    }

    @inlinable @inline(__always) func find(_ price: Int64, _ sideIndex: Int32) -> Int32 {
        var i = home(price, sideIndex)
        while true {
            let entry = entries[i]
            if entry.node < 0 { return -1 }
            if entry.price == price && entry.sideIndex == sideIndex { return entry.node }
            i = (i &+ 1) & mask
        }
    }

    /// Adds a key known to be absent, doubling the table first when it would pass half full.
    @inlinable mutating func insert(_ price: Int64, _ sideIndex: Int32, node: Int32) {
        if (count &+ 1) &* 2 > mask &+ 1 { grow() }
        var i = home(price, sideIndex)
        while entries[i].node >= 0 { i = (i &+ 1) & mask }
        entries[i] = Entry(price: price, sideIndex: sideIndex, node: node)
        count &+= 1
    }

    @inlinable mutating func erase(_ price: Int64, _ sideIndex: Int32) {
        var i = home(price, sideIndex)
        while true {
            let entry = entries[i]
            if entry.node < 0 { return }
            if entry.price == price && entry.sideIndex == sideIndex { break }
            i = (i &+ 1) & mask
        }
        // Backward shift: move each following entry of the cluster into the hole unless its
        // home lies cyclically after the hole (then it must stay where lookups will find it).
        var hole = i
        var j = (i &+ 1) & mask
        while entries[j].node >= 0 {
            let h = home(entries[j].price, entries[j].sideIndex)
            if (j &- h) & mask >= (j &- hole) & mask {
                entries[hole] = entries[j]
                hole = j
            }
            j = (j &+ 1) & mask
        }
        entries[hole].node = -1
        count &-= 1
    }

    /// Grows the table until `levels` entries fit at load ≤ ½ (or it reaches `maxSize`).
    @usableFromInline mutating func reserve(levels: Int) {
        while levels * 2 > mask + 1 && mask + 1 < maxSize { grow() }
    }

    /// Doubles the table (warm-up only; never past `maxSize`, where the load stays ≤ ½ since
    /// live levels never outnumber live orders).
    @usableFromInline mutating func grow() {
        let size = mask + 1
        guard size < maxSize else { return }
        let old = entries
        entries = LevelTable.makeEntries(size * 2)
        mask = size * 2 - 1
        shift = UInt64(64 - (mask + 1).trailingZeroBitCount)
        count = 0
        for i in 0..<size where old[i].node >= 0 {
            var j = home(old[i].price, old[i].sideIndex)
            while entries[j].node >= 0 { j = (j &+ 1) & mask }
            entries[j] = old[i]
            count &+= 1
        }
        old.deallocate()
    }
}
