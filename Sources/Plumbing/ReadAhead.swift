import CTickline
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a `ReadAhead` thread reads from: one opened file (a zstd or gzip stream, a plain
/// file), read to its end on the read-ahead thread.
public protocol ReadAheadProducer: AnyObject {
    /// Fills `buffer` with the next bytes; returns how many, 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// A number handed to the consumer with the file's bytes (whether it is compressed, say).
    var tag: Int { get }
}

/// Reads a sequence of files ahead of their consumer, on a thread of its own: file reads and
/// decompression leave the consuming (hot) thread, which copies decoded bytes out of
/// preallocated blocks instead. A replay on a host with a free core then spends its one hot
/// thread on the market alone; a 200-file run opens file k+1 while file k is consumed.
///
/// One producer (the thread), one consumer (any single thread). Memory is `blocks` ×
/// `blockSize`, allocated at start, whatever the files' length. Handover is per block, not per
/// message: two atomics, and a futex wake only when the other side sleeps (`EventCount`). The
/// thread never spins: it sleeps when every block is full. The consumer spins briefly, then
/// sleeps, when it has caught up with the thread.
///
/// Bytes and failures arrive in file order and stream order: a file's bytes, then its end,
/// which carries the error that stopped it, if any (every good byte is delivered before it). A
/// file that fails to open is an end with that error and no bytes.
public final class ReadAhead: @unchecked Sendable {
    @usableFromInline struct Header {
        var file: Int
        var count: Int
        var tag: Int
        var end: Bool
        var error: (any Error)?
    }

    /// What the thread and the consumer share. The thread holds it, not the `ReadAhead`, so
    /// the consumer's last release of the `ReadAhead` stops and joins the thread.
    final class Shared: @unchecked Sendable {
        let files: Int
        let blockSize: Int
        let blocks: Int
        /// Bytes reserved in front of each block for `borrow`'s prefix.
        let prefixRoom: Int
        /// From one block's start to the next: `prefixRoom + blockSize`, rounded up to a page.
        let stride: Int
        let open: (Int) throws -> any ReadAheadProducer
        let cpus: [Int]
        let memory: UnsafeMutableRawPointer
        let headers: UnsafeMutablePointer<Header>
        /// Blocks published by the thread, and released by the consumer (both only grow).
        let produced = Atomic<Int>(0)
        let consumed = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        let dataReady = EventCount()
        let spaceFree = EventCount()

        init(files: Int, blockSize: Int, blocks: Int, prefixRoom: Int, cpus: [Int], open: @escaping (Int) throws -> any ReadAheadProducer) {
            self.files = files
            self.blockSize = blockSize
            self.blocks = blocks
            // Each block's bytes start on a page, as the block memory itself does: with the
            // room rounded to 64 bytes only, the read-ahead thread's copies out of the page
            // cache (`_copy_to_iter`) took four times as long (33 % of a replay's samples
            // against 8 %).
            self.prefixRoom = (prefixRoom + 4_095) & ~4_095
            stride = (self.prefixRoom + blockSize + 4_095) & ~4_095
            self.open = open
            self.cpus = cpus
            memory = .allocate(byteCount: stride * blocks, alignment: 4_096)
            headers = .allocate(capacity: blocks)
            headers.initialize(repeating: Header(file: 0, count: 0, tag: 0, end: false, error: nil), count: blocks)
        }

        deinit {
            headers.deinitialize(count: blocks)
            headers.deallocate()
            memory.deallocate()
        }

        func run() {
            _ = "readahead".withCString { tickline_set_thread_name($0) }
            if !cpus.isEmpty { try? CPUSet.pinCurrentThread(to: cpus) }
            var next = 0
            for file in 0..<files {
                var failure: (any Error)?
                var tag = 0
                do {
                    let source = try open(file)
                    tag = source.tag
                    while true {
                        guard let slot = waitForSpace(next) else { return }
                        let count = try source.read(into: UnsafeMutableRawBufferPointer(start: data(slot), count: blockSize))
                        if count == 0 { break }
                        publish(slot, Header(file: file, count: count, tag: tag, end: false, error: nil), &next)
                    }
                } catch {
                    failure = error
                }
                guard let slot = waitForSpace(next) else { return }
                publish(slot, Header(file: file, count: 0, tag: tag, end: true, error: failure), &next)
            }
        }

        /// Where slot `slot`'s bytes start (after its prefix room).
        @inline(__always) func data(_ slot: Int) -> UnsafeMutableRawPointer { memory + slot * stride + prefixRoom }

        /// The slot of block `index` once the consumer has released enough; nil when stopping.
        func waitForSpace(_ index: Int) -> Int? {
            while true {
                if stopping.load(ordering: .acquiring) { return nil }
                if index - consumed.load(ordering: .acquiring) < blocks { return index % blocks }
                let key = spaceFree.prepareToWait()
                if stopping.load(ordering: .sequentiallyConsistent) || index - consumed.load(ordering: .sequentiallyConsistent) < blocks {
                    spaceFree.cancelWait()
                    continue
                }
                spaceFree.wait(key)
            }
        }

        func publish(_ slot: Int, _ header: Header, _ next: inout Int) {
            headers[slot] = header
            next += 1
            produced.store(next, ordering: .releasing)
            dataReady.notify()
        }
    }

    let shared: Shared
    var thread: pthread_t?
    public var files: Int { shared.files }

    // Consumer state (the consumer's thread only).
    var head = 0
    var offset = 0
    var endedFile = -1
    var endedError: (any Error)?
    /// Times the consumer found no block ready and slept (tests, the run's figures).
    public private(set) var consumerSleeps = 0
    /// The block at `head` is lent out by `borrow` (released by the next call).
    var lending = false

    /// Starts the thread. `open(k)` opens file k on it; `cpus` is where the thread may run
    /// (default: every CPU the process may use, so it never inherits a pinned caller's CPU).
    /// `prefixRoom`: the most bytes `borrow` may be asked to put in front of a block.
    public init(files: Int, blockSize: Int = 256 << 10, blocks: Int = 8, prefixRoom: Int = 0, cpus: [Int]? = nil,
                open: @escaping (Int) throws -> any ReadAheadProducer) throws(SystemError) {
        precondition(files >= 0 && blockSize > 0 && blocks > 1 && prefixRoom >= 0)
        let shared = Shared(files: files, blockSize: blockSize, blocks: blocks, prefixRoom: prefixRoom, cpus: cpus ?? CPUSet.process(),
                            open: open)
        self.shared = shared
        thread = try spawnThread { shared.run() }
    }

    deinit {
        shared.stopping.store(true, ordering: .sequentiallyConsistent)
        shared.spaceFree.notify()
        if let thread { pthread_join(thread, nil) }
    }

    // MARK: The consumer

    /// The header of the next block, once the thread has published it.
    @inline(__always)
    func waitForBlock() -> UnsafeMutablePointer<Header> {
        let shared = shared
        if shared.produced.load(ordering: .acquiring) <= head {
            var spins = 0
            while shared.produced.load(ordering: .acquiring) <= head {
                if spins < 2_000 {
                    spins += 1
                    tickline_cpu_pause()
                    continue
                }
                let key = shared.dataReady.prepareToWait()
                if shared.produced.load(ordering: .sequentiallyConsistent) > head {
                    shared.dataReady.cancelWait()
                    break
                }
                consumerSleeps += 1
                shared.dataReady.wait(key)
            }
        }
        return shared.headers + head % shared.blocks
    }

    @inline(__always)
    func release() {
        lending = false
        head += 1
        offset = 0
        shared.consumed.store(head, ordering: .releasing)
        shared.spaceFree.notify()
    }

    /// Waits for file `file`'s first block and returns its tag; throws the error that stopped
    /// the file before any byte (it could not be opened, say). Blocks of earlier files not yet
    /// consumed are passed over. Call once per file, in file order.
    public func begin(file: Int) throws -> Int {
        precondition(file < shared.files && file > endedFile, "ReadAhead: files are begun once each, in order")
        if lending { release() }
        while true {
            let header = waitForBlock()
            if header.pointee.file < file {
                release()
                continue
            }
            if header.pointee.end, let error = header.pointee.error {
                header.pointee.error = nil
                release()
                endedFile = file
                endedError = error
                throw error
            }
            return header.pointee.tag
        }
    }

    /// Copies file `file`'s next bytes into `buffer`; returns how many, 0 at its end. At the end
    /// of a file stopped by an error, throws that error (then again on every later call).
    public func read(file: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        if lending { release() }
        while true {
            if file <= endedFile {
                if file == endedFile, let endedError { throw endedError }
                return 0
            }
            let header = waitForBlock()
            if header.pointee.file < file {
                release()
                continue
            }
            if header.pointee.end {
                endedFile = file
                endedError = header.pointee.error
                header.pointee.error = nil
                release()
                continue
            }
            let n = min(header.pointee.count - offset, buffer.count)
            base.copyMemory(from: shared.data(head % shared.blocks) + offset, byteCount: n)
            offset += n
            if offset == header.pointee.count { release() }
            return n
        }
    }

    /// Lends file `file`'s next block in place, with `prefix` (at most `prefixRoom` bytes: what
    /// the caller has not consumed of the block lent before, copied out by it) copied in front:
    /// the consumer frames and decodes straight out of the block, where `read(file:into:)`
    /// copies it first. The bytes stay valid until the next call of `borrow`, `read` or `begin`,
    /// which releases the block to the thread. Nil at the file's end; at the end of a file
    /// stopped by an error, throws that error (then again on every later call).
    public func borrow(file: Int, prefix: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        precondition(prefix.count <= shared.prefixRoom, "ReadAhead.borrow: a prefix longer than the prefix room")
        if lending { release() }
        while true {
            if file <= endedFile {
                if file == endedFile, let endedError { throw endedError }
                return nil
            }
            let header = waitForBlock()
            if header.pointee.file < file {
                release()
                continue
            }
            if header.pointee.end {
                endedFile = file
                endedError = header.pointee.error
                header.pointee.error = nil
                release()
                continue
            }
            // After a partial `read`, the block's unread bytes (the room in front grows by what
            // was read, so the prefix always fits).
            let start = shared.data(head % shared.blocks) + offset - prefix.count
            if let from = prefix.baseAddress, prefix.count > 0 { start.copyMemory(from: from, byteCount: prefix.count) }
            lending = true
            return UnsafeRawBufferPointer(start: start, count: prefix.count + header.pointee.count - offset)
        }
    }
}
