import CHiredis
import CLibpq
import CLiburing
import CNuma
import CTickline
import CZstd
import Testing

/// Each system library links and answers a real call (not only that its header imports).
@Suite struct SystemLibraryTests {
    @Test func liburingCreatesAndRunsARing() {
        var ring = io_uring()
        let rc = io_uring_queue_init(8, &ring, 0)
        #expect(rc == 0, "io_uring_queue_init failed: \(rc)")
        guard rc == 0 else { return }
        defer { io_uring_queue_exit(&ring) }
        let sqe = io_uring_get_sqe(&ring)
        #expect(sqe != nil)
        io_uring_prep_nop(sqe)
        io_uring_sqe_set_data64(sqe, 0xABCD)
        #expect(io_uring_submit(&ring) == 1)
        var cqe: UnsafeMutablePointer<io_uring_cqe>?
        #expect(io_uring_wait_cqe(&ring, &cqe) == 0)
        #expect(cqe?.pointee.user_data == 0xABCD)
        #expect(cqe?.pointee.res == 0)
        io_uring_cqe_seen(&ring, cqe)
    }

    @Test func zstdRoundTrips() {
        let input = [UInt8](repeating: 0x41, count: 10_000) + Array(0..<200).map { UInt8($0) }
        var compressed = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let size = ZSTD_compress(&compressed, compressed.count, input, input.count, 3)
        #expect(ZSTD_isError(size) == 0)
        #expect(size < input.count / 5)
        var output = [UInt8](repeating: 0, count: input.count)
        let back = ZSTD_decompress(&output, output.count, compressed, size)
        #expect(back == input.count)
        #expect(output == input)
    }

    @Test func libpqAndHiredisAreLinked() {
        #expect(PQlibVersion() >= 100_000)
        // A reader parses a RESP reply without any server.
        let reader = redisReaderCreate()
        defer { redisReaderFree(reader) }
        let reply = ":42\r\n"
        #expect(redisReaderFeed(reader, reply, reply.utf8.count) == REDIS_OK)
        var out: UnsafeMutableRawPointer?
        #expect(redisReaderGetReply(reader, &out) == REDIS_OK)
        let parsed = out?.assumingMemoryBound(to: redisReply.self)
        #expect(parsed?.pointee.type == REDIS_REPLY_INTEGER)
        #expect(parsed?.pointee.integer == 42)
        freeReplyObject(out)
    }

    @Test func numaAndTheCShimAnswer() {
        let available = numa_available()
        #expect(available == -1 || numa_max_node() >= 0)
        #expect(tickline_gettid() > 0)
        #expect(tickline_current_cpu() >= 0)
        let a = tickline_rdtsc()
        tickline_cpu_pause()
        #expect(tickline_rdtsc() >= a)
    }
}
