import Testing
@testable import Tuning

@Suite struct TuningScaffoldTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
