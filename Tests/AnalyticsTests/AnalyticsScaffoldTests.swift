import Testing
@testable import Analytics

@Suite struct AnalyticsScaffoldTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
