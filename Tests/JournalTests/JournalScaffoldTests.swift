import Testing
@testable import Journal

@Suite struct JournalScaffoldTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
