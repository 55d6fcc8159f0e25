import Testing
@testable import MarketData

@Suite struct BigEndianTests {
    @Test func roundTripsEveryWidth() {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            p.storeBE16(0x0102, at: 1)
            p.storeBE32(0x0304_0506, at: 3)
            p.storeBE48(0x0708_090A_0B0C, at: 7)
            p.storeBE64(0x0D0E_0F10_1112_1314, at: 13)
        }
        #expect(Array(bytes[1...20]) == Array(1...20).map { UInt8($0) })
        bytes.withUnsafeBytes { raw in
            let p = raw.baseAddress!
            #expect(p.loadBE16(at: 1) == 0x0102)
            #expect(p.loadBE32(at: 3) == 0x0304_0506)
            #expect(p.loadBE48(at: 7) == 0x0708_090A_0B0C)
            #expect(p.loadBE64(at: 13) == 0x0D0E_0F10_1112_1314)
        }
    }
}
