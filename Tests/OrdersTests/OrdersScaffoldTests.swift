import Testing
@testable import Orders

@Suite struct OrdersScaffoldTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
