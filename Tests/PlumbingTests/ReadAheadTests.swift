import Synchronization
import Testing
@testable import Plumbing
#if canImport(Glibc)
import Glibc
#endif

/// A file for the read-ahead thread: `bytes`, handed out at most `chunk` at a time, then
/// `failure` (if any) instead of the end; optionally slow (a pause before every read).
final class FakeFile: ReadAheadProducer {
    struct Failure: Error, Equatable { let file: Int }
    let bytes: [UInt8]
    let chunk: Int
    let failure: Failure?
    let pauseMicros: Int
    let tag: Int
    var position = 0

    init(_ bytes: [UInt8], chunk: Int = .max, failure: Failure? = nil, pauseMicros: Int = 0, tag: Int = 0) {
        self.bytes = bytes
        self.chunk = chunk
        self.failure = failure
        self.pauseMicros = pauseMicros
        self.tag = tag
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if pauseMicros > 0 {
            var pause = timespec(tv_sec: 0, tv_nsec: pauseMicros * 1_000)
            nanosleep(&pause, nil)
        }
        let n = min(buffer.count, chunk, bytes.count - position)
        if n == 0, let failure { throw failure }
        for i in 0..<n { buffer[i] = bytes[position + i] }
        position += n
        return n
    }
}

@Suite struct ReadAheadTests {
    /// Deterministic bytes for file `file` (each file's differ).
    static func content(_ file: Int, count: Int) -> [UInt8] {
        var state = UInt64(file) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    /// Reads file `file` to its end in reads of the sizes given in turn.
    static func readAll(_ ahead: ReadAhead, file: Int, sizes: [Int]) throws -> [UInt8] {
        var out: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: sizes.max()!, alignment: 8)
        defer { buffer.deallocate() }
        var i = 0
        while true {
            let size = sizes[i % sizes.count]
            i += 1
            let n = try ahead.read(file: file, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// Files of many lengths (empty, shorter than a block, exactly a block, many times all the
    /// blocks) through tiny blocks and reads of awkward sizes: every byte, in order, each file
    /// with its tag.
    @Test func everyFileArrivesWholeAndInOrder() throws {
        let lengths = [0, 5, 16, 1, 1_000, 48, 0, 10_007]
        let files = lengths.enumerated().map { Self.content($0.offset, count: $0.element) }
        let ahead = try ReadAhead(files: files.count, blockSize: 16, blocks: 3) { k in FakeFile(files[k], chunk: 7, tag: k * 10) }
        let spare = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { spare.deallocate() }
        for (k, bytes) in files.enumerated() {
            #expect(try ahead.begin(file: k) == k * 10)
            #expect(try Self.readAll(ahead, file: k, sizes: [3, 16, 1, 40]) == bytes, "file \(k)")
            #expect(try ahead.read(file: k, into: spare) == 0, "the end stays the end")
        }
    }

    /// A file that fails part way: its good bytes first, then the error (again on every later
    /// read); a file that cannot be opened fails at `begin`; the files after both are whole.
    @Test func failuresArriveAfterTheGoodBytesAndStayWithTheirFile() throws {
        let good = Self.content(0, count: 100), partial = Self.content(1, count: 37), last = Self.content(3, count: 64)
        let ahead = try ReadAhead(files: 4, blockSize: 8, blocks: 2) { k in
            switch k {
            case 0: return FakeFile(good)
            case 1: return FakeFile(partial, chunk: 5, failure: FakeFile.Failure(file: 1))
            case 2: throw FakeFile.Failure(file: 2)
            default: return FakeFile(last)
            }
        }
        _ = try ahead.begin(file: 0)
        #expect(try Self.readAll(ahead, file: 0, sizes: [9]) == good)
        _ = try ahead.begin(file: 1)
        var got: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 6, alignment: 1)
        defer { buffer.deallocate() }
        var thrown: FakeFile.Failure?
        while thrown == nil {
            do {
                let n = try ahead.read(file: 1, into: buffer)
                #expect(n > 0, "the failing file never reads as ended")
                if n == 0 { break }
                got.append(contentsOf: buffer[0..<n])
            } catch let failure as FakeFile.Failure {
                thrown = failure
            }
        }
        #expect(got == partial, "every good byte before the error")
        #expect(thrown == FakeFile.Failure(file: 1))
        #expect(throws: FakeFile.Failure(file: 1)) { try ahead.read(file: 1, into: buffer) }
        #expect(throws: FakeFile.Failure(file: 2)) { try ahead.begin(file: 2) }
        _ = try ahead.begin(file: 3)
        #expect(try Self.readAll(ahead, file: 3, sizes: [64]) == last)
    }

    /// A file given up part way (a decoder that stopped) is passed over by the next `begin`.
    @Test func anUnfinishedFileIsPassedOver() throws {
        let files = (0..<3).map { Self.content($0, count: 500) }
        let ahead = try ReadAhead(files: 3, blockSize: 32, blocks: 4) { k in FakeFile(files[k]) }
        _ = try ahead.begin(file: 0)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 10, alignment: 1)
        defer { buffer.deallocate() }
        #expect(try ahead.read(file: 0, into: buffer) == 10)
        #expect(Array(buffer) == Array(files[0][0..<10]))
        _ = try ahead.begin(file: 2)
        #expect(try Self.readAll(ahead, file: 2, sizes: [100]) == files[2])
    }

    /// A slow reader makes the consumer wait (and sleep) for blocks, and nothing is lost.
    @Test func aConsumerAheadOfTheThreadWaitsForItsBlocks() throws {
        let bytes = Self.content(7, count: 4_000)
        let ahead = try ReadAhead(files: 1, blockSize: 256, blocks: 2) { _ in FakeFile(bytes, chunk: 100, pauseMicros: 2_000) }
        _ = try ahead.begin(file: 0)
        #expect(try Self.readAll(ahead, file: 0, sizes: [512]) == bytes)
        #expect(ahead.consumerSleeps > 0)
    }

    /// Released with its thread asleep on full blocks, in the middle of an endless file: the
    /// release stops and joins the thread (the test would hang otherwise), and the thread read
    /// no further than the blocks could hold.
    @Test func releasingStopsTheThread() throws {
        final class Endless: ReadAheadProducer {
            let reads = Atomic<Int>(0)
            let tag = 0
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
                reads.add(1, ordering: .relaxed)
                buffer.initializeMemory(as: UInt8.self, repeating: 1)
                return buffer.count
            }
        }
        let endless = Endless()
        var ahead: ReadAhead? = try ReadAhead(files: 1, blockSize: 64, blocks: 4) { _ in endless }
        _ = try ahead!.begin(file: 0)
        var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
        nanosleep(&pause, nil)
        #expect(endless.reads.load(ordering: .relaxed) == 4, "four blocks filled, then asleep")
        ahead = nil
        #expect(endless.reads.load(ordering: .relaxed) == 4, "no read after the release")
    }

    /// The thread runs where it is told (the engine puts it beside a decode stage pinned to a
    /// CPU of its own), and anywhere the process may run when not told: the files are opened on
    /// it, so each file's tag here is the CPU set the thread found itself on.
    @Test func theThreadRunsOnTheCPUsItIsGiven() throws {
        let all = CPUSet.process()
        let cpu = try #require(all.last)
        func where_(_ cpus: [Int]?) throws -> Int {
            let ahead = try ReadAhead(files: 1, blockSize: 16, blocks: 2, cpus: cpus) { _ in
                let mine = CPUSet.currentThread()
                return FakeFile([1, 2, 3], tag: mine.count == 1 ? mine[0] : -mine.count)
            }
            return try ahead.begin(file: 0)
        }
        #expect(try where_([cpu]) == cpu)
        #expect(try where_(nil) == (all.count == 1 ? all[0] : -all.count))
    }

    /// Borrowing lends each block in place with the prefix asked for in front: a consumer that
    /// keeps back a varying tail of every block and hands it in front of the next sees every
    /// byte of every file exactly once, in order; a failing file throws after its good bytes;
    /// `read` after `borrow` goes on where the lent block ended.
    @Test func borrowedBlocksCarryTheirPrefixAndLoseNothing() throws {
        let lengths = [0, 5, 16, 1_000, 10_007]
        let files = lengths.enumerated().map { Self.content($0.offset, count: $0.element) }
        let failing = Self.content(9, count: 70)
        let ahead = try ReadAhead(files: files.count + 2, blockSize: 16, blocks: 3, prefixRoom: 40) { k in
            if k == files.count { return FakeFile(failing, chunk: 7, failure: FakeFile.Failure(file: k)) }
            return FakeFile(k < files.count ? files[k] : files[4], chunk: 11)
        }
        var carry: [UInt8] = []
        for (k, bytes) in files.enumerated() {
            _ = try ahead.begin(file: k)
            var got: [UInt8] = []
            carry = []
            var keep = 0
            while let block = try carry.withUnsafeBytes({ try ahead.borrow(file: k, prefix: $0) }) {
                #expect(Array(block.prefix(carry.count)) == carry, "the prefix in front of the block")
                // Keep back 0...39 bytes (at most what was lent), as a framer keeps a cut message.
                keep = min((keep &* 7 &+ 13) % 40, block.count)
                got.append(contentsOf: block.dropLast(keep))
                carry = Array(block.suffix(keep))
            }
            got.append(contentsOf: carry)
            #expect(got == bytes, "file \(k)")
        }
        _ = try ahead.begin(file: files.count)
        var good: [UInt8] = []
        #expect(throws: FakeFile.Failure(file: files.count)) {
            while let block = try ahead.borrow(file: files.count, prefix: UnsafeRawBufferPointer(start: nil, count: 0)) {
                good.append(contentsOf: block)
            }
        }
        #expect(good == failing, "every good byte before the error")
        _ = try ahead.begin(file: files.count + 1)
        let first = try #require(try ahead.borrow(file: files.count + 1, prefix: UnsafeRawBufferPointer(start: nil, count: 0)))
        var rest = Array(first)
        rest += try Self.readAll(ahead, file: files.count + 1, sizes: [5])
        #expect(rest == files[4])
    }

    /// Every block's bytes start on a page whatever the prefix room (the thread's copies from
    /// the page cache into a block 64 bytes past a page took four times as long), and the
    /// prefix sits right in front of them.
    @Test func blockBytesStartOnAPage() throws {
        let bytes = Self.content(3, count: 3 * 5_000)
        let ahead = try ReadAhead(files: 1, blockSize: 5_000, blocks: 2, prefixRoom: 100) { _ in FakeFile(bytes) }
        _ = try ahead.begin(file: 0)
        let prefix: [UInt8] = [7, 8, 9]
        var blocks = 0
        while let block = try prefix.withUnsafeBytes({ try ahead.borrow(file: 0, prefix: $0) }) {
            #expect(UInt(bitPattern: block.baseAddress! + prefix.count) % 4_096 == 0)
            #expect(Array(block.prefix(3)) == prefix)
            #expect(Array(block.dropFirst(3)) == Array(bytes[blocks * 5_000 ..< (blocks + 1) * 5_000]))
            blocks += 1
        }
        #expect(blocks == 3)
    }
}
