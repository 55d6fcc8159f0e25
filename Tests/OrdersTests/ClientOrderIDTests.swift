import Foundation
import Testing
import TicklineCore
@testable import Orders

/// A fresh folder under the temporary directory, removed by the caller.
func temporaryFolder(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "tickline-\(name)-\(UInt64.random(in: 0..<UInt64.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct ClientOrderIDTests {
    @Test func layoutRoundTrips() {
        let id = ClientOrderIDLayout.make(sequence: 123_456_789, slot: 4_095)
        #expect(ClientOrderIDLayout.slot(of: id) == 4_095)
        #expect(ClientOrderIDLayout.sequence(of: id) == 123_456_789)
        #expect(ClientOrderIDLayout.make(sequence: 1, slot: 0) != ClientOrderIDLayout.make(sequence: 2, slot: 0))
    }

    @Test func blocksHandOutEverySequenceOnceThenRunDry() throws {
        let reservation = try ClientOrderIDReservation(path: nil, blockSize: 3, minimumStart: 10)
        var blocks = reservation.initialBlocks()
        var seen: [UInt64] = []
        while let s = blocks.take() { seen.append(s) }
        #expect(seen == [10, 11, 12, 13, 14, 15])
        #expect(blocks.take() == nil)
        #expect(blocks.needsRefill)
        #expect(try reservation.refill(&blocks))
        #expect(blocks.take() == 16)
        #expect(blocks.remaining == 2)
        #expect(blocks.needsRefill)              // it moved into the refilled block: no spare
        #expect(try reservation.refill(&blocks))
        #expect(blocks.remaining == 5)
        #expect(try reservation.refill(&blocks) == false)  // a spare is present: nothing to write
    }

    @Test func spareBlockIsUsedWithoutRefillAndFlagsTheNeed() throws {
        let reservation = try ClientOrderIDReservation(path: nil, blockSize: 2)
        var blocks = reservation.initialBlocks()
        #expect(!blocks.needsRefill)
        _ = blocks.take(); _ = blocks.take()
        #expect(!blocks.needsRefill)  // the spare is still untouched
        _ = blocks.take()              // moved into the spare
        #expect(blocks.needsRefill)
        #expect(reservation.persistedMark == 5)
        try reservation.refill(&blocks)
        #expect(reservation.persistedMark == 7)
        #expect(blocks.remaining == 3)
    }

    @Test func persistedMarkIsNeverBelowAnIdHandedOutAcrossRestarts() throws {
        let folder = temporaryFolder("clordid")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/ids"
        var handedOut = Set<UInt64>()
        var lastMark: UInt64 = 0
        for session in 0..<5 {
            let reservation = try ClientOrderIDReservation(path: path, blockSize: 4)
            #expect(reservation.sessionStart >= lastMark, "session \(session) starts below the previous mark")
            var blocks = reservation.initialBlocks()
            for _ in 0..<(session * 3 + 1) {
                if blocks.needsRefill { try reservation.refill(&blocks) }
                let taken = blocks.take()
                let s = try #require(taken)
                #expect(!handedOut.contains(s), "sequence \(s) reused")
                handedOut.insert(s)
                // Every id handed out is below what the file says.
                #expect(s < (try #require(try ClientOrderIDReservation.read(path))))
            }
            lastMark = reservation.persistedMark
            // The session ends without any shutdown step (a crash).
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "tickline-client-order-ids \(lastMark)\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    @Test func corruptOrUnreadableStateIsRefusedNotGuessed() throws {
        let folder = temporaryFolder("clordid-bad")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/ids"
        for bad in ["", "tickline-client-order-ids\n", "tickline-client-order-ids x\n", "other 5\n", "tickline-client-order-ids 5"] {
            try bad.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: ClientOrderIDError.self) { try ClientOrderIDReservation(path: path, blockSize: 10) }
        }
        #expect(throws: ClientOrderIDError.invalidBlockSize(0)) { try ClientOrderIDReservation(path: nil, blockSize: 0) }
        do {
            _ = try ClientOrderIDReservation(path: folder + "/missing-folder/ids", blockSize: 10)
            Issue.record("an unwritable state file was accepted")
        } catch {
            #expect(error.description.contains("missing-folder"))
        }
    }

    @Test func sequenceSpaceEndIsAnError() {
        #expect(throws: ClientOrderIDError.self) {
            try ClientOrderIDReservation(path: nil, blockSize: 10, minimumStart: ClientOrderIDLayout.sequenceLimit - 5)
        }
    }
}
