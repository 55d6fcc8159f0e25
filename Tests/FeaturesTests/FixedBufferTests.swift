import Testing
@testable import Features

/// The inline uniqueness check that keeps windowed indicators' state in registers
/// (`FixedBuffer.isCertainlyUnique`) must never call a shared buffer unique.
@Suite struct FixedBufferTests {
    @Test func aSecondReferenceMakesTheBufferShared() {
        var buffer = FixedBuffer<Double>(capacity: 4, repeating: 1)
        var unique = FixedBuffer.isCertainlyUnique(&buffer)
        #expect(unique)
        // An array element is a second strong reference the optimiser cannot elide.
        let holders = [buffer]
        unique = FixedBuffer.isCertainlyUnique(&buffer)
        #expect(!unique)
        FixedBuffer.ensureUnique(&buffer)
        #expect(buffer !== holders[0], "a shared buffer is copied")
        #expect(buffer.base[3] == 1 && holders[0].base[3] == 1, "the copy keeps the values")
        buffer.base[3] = 2
        #expect(holders[0].base[3] == 1, "writing the copy leaves the other owner's values alone")
        unique = FixedBuffer.isCertainlyUnique(&buffer)
        #expect(unique)
        let before = ObjectIdentifier(buffer)
        FixedBuffer.ensureUnique(&buffer)
        #expect(ObjectIdentifier(buffer) == before, "a unique buffer is kept")
    }

    @Test func copiedIndicatorsStayIndependent() {
        var original = SMA(period: 3)
        for x in [1.0, 2, 3, 4] { _ = original.update(x) }
        var copies = [original, original]
        #expect(copies[0].update(10) == (3 + 4 + 10) / 3.0)
        #expect(copies[1].update(100) == (3 + 4 + 100) / 3.0)
        #expect(original.update(7) == (3 + 4 + 7) / 3.0)
    }
}
