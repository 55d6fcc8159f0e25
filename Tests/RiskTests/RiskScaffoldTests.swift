import Testing
@testable import Risk

@Suite struct RiskScaffoldTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
