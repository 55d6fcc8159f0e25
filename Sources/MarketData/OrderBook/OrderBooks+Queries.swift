import TicklineCore

/// Read-only queries for the simulated venue (Simulation), which keeps queue-position state
/// beside a book and must look orders up before an event removes them. Nothing here changes
/// the book.
extension OrderBooks {
    /// The storage slot of a live order (0 ..< `capacity.orders`), or -1. A slot is stable while
    /// the order lives (an in-place modify that keeps priority keeps it) and is reused after the
    /// order is gone, so per-order side tables indexed by slot must be rewritten on every add.
    @inlinable public func slotIndex(of id: OrderID) -> Int {
        Int(find(id.raw))
    }

    /// Displayed quantity and order count of the level at `price` on a side; zero when there is
    /// no such level.
    @inlinable public func levelSize(_ instrument: InstrumentID, _ side: Side, price: Price) -> (quantity: Quantity, orders: Int) {
        guard instrument.index < capacity.instruments, side != .none else { return (.zero, 0) }
        let sideIdx = sideIndex(instrument, side)
        let index = locateLevel(sideIdx, price: price.raw, bids: side == .buy)
        guard index >= 0 else { return (.zero, 0) }
        let level = records[Int(sides[sideIdx].nodes.unsafelyUnwrapped[index])]
        return (Quantity(raw: level.quantity), Int(level.link))
    }
}
