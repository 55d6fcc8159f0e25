import Engine
import Plumbing
import Testing
import TicklineCore

/// The stages write and read `.event` messages in place in their ring slots
/// (`EngineMessage.event(in:)`): that relies on a `@frozen` multi-payload enum keeping its
/// payload at offset 0. These tests fail if the layout ever differs.
@Suite struct EngineMessageLayoutTests {
    static func sample() -> MarketEvent {
        var event = MarketEvent(kind: .execute, instrument: InstrumentID(7), side: .sell, orderID: OrderID(0x0102_0304_0506_0708),
                                price: Price(raw: 1_234_500_000), quantity: Quantity(raw: 300), aux: 0xAABB_CCDD,
                                tsEvent: Nanos(1_700_000_000_000_000_001), tsReceive: Nanos(1_700_000_000_000_005_001),
                                sequence: 42, flags: [.printable, .lastInPacket], channel: 3)
        event.decodeOffset = 9_999
        return event
    }

    static func bytes(_ event: MarketEvent) -> [UInt8] {
        withUnsafeBytes(of: event) { Array($0) }
    }

    @Test func anEventMessagesPayloadIsReadWhereItLies() {
        let slot = UnsafeMutablePointer<EngineMessage>.allocate(capacity: 1)
        defer { slot.deallocate() }
        let event = Self.sample()
        slot.initialize(to: .event(event))
        #expect(EngineMessage.isEvent(slot))
        #expect(Self.bytes(EngineMessage.event(in: slot).pointee) == Self.bytes(event))
    }

    @Test func anEventWrittenInPlaceIsTheMessagesEvent() {
        let slot = UnsafeMutablePointer<EngineMessage>.allocate(capacity: 1)
        defer { slot.deallocate() }
        slot.initialize(to: .event(MarketEvent(kind: .tick, instrument: InstrumentID(0))))
        let event = Self.sample()
        EngineMessage.event(in: slot).pointee = event
        guard case .event(let read) = slot.pointee else {
            Issue.record("the slot is no longer an event message")
            return
        }
        #expect(Self.bytes(read) == Self.bytes(event))
        // Completing a field in place shows in the message.
        EngineMessage.event(in: slot).pointee.price = Price(raw: 77)
        guard case .event(let completed) = slot.pointee else {
            Issue.record("the slot is no longer an event message")
            return
        }
        #expect(completed.price == Price(raw: 77) && completed.orderID == event.orderID && completed.side == .sell)
    }

    @Test func onlyEventMessagesAreEvents() {
        let slot = UnsafeMutablePointer<EngineMessage>.allocate(capacity: 1)
        defer { slot.deallocate() }
        let others: [EngineMessage] = [
            .end(Nanos(5)),
            .quote(InstrumentID(1), bid: Price(raw: 10), ask: Price(raw: 11), time: Nanos(3)),
            .signal(Signal(instrument: InstrumentID(1), direction: 1, confidence: 0.5, target: Quantity(raw: 100),
                           modelVersion: 1, tsEvent: Nanos(4), trace: StageTrace(origin: .zero))),
        ]
        for message in others {
            slot.initialize(to: message)
            #expect(!EngineMessage.isEvent(slot))
        }
        slot.initialize(to: .event(Self.sample()))
        #expect(EngineMessage.isEvent(slot))
    }

    @Test func aProducerSlotIsTheOneWriteFills() {
        let ring = SPSCRing<EngineMessage>(capacity: 64)
        let producer = ring.producer
        // Past the wrap as well: the slot index is taken modulo the capacity.
        for round in 0..<3 {
            for k in 0..<40 {
                var event = Self.sample()
                event.sequence = UInt32(round * 100 + k)
                producer.slot(at: k).initialize(to: .event(event))
            }
            producer.publish(40)
            var seen: [UInt32] = []
            while let message = ring.consumer.tryPop() {
                if case .event(let event) = message { seen.append(event.sequence) }
            }
            #expect(seen == (0..<40).map { UInt32(round * 100 + $0) })
        }
    }
}
