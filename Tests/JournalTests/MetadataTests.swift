import Testing
@testable import Journal

/// The metadata file beside the log: entries merge across runs, bad keys and values are refused
/// with the key named, and the file survives a reopen of the log.
@Suite struct MetadataTests {
    @Test func entriesMergeAndBadOnesAreRefused() throws {
        let dir = TemporaryDirectory("meta")
        defer { dir.remove() }
        #expect(JournalMetadata.read(directory: dir.path).isEmpty)
        try JournalMetadata.set([("engine.features.v1", "a,b"), ("engine.features", "v1")], directory: dir.path)
        try JournalMetadata.set([("engine.features.v2", "a,b,c"), ("engine.features", "v2")], directory: dir.path)
        let entries = JournalMetadata.read(directory: dir.path)
        #expect(entries.map(\.key) == ["engine.features", "engine.features.v1", "engine.features.v2"])
        #expect(entries.map(\.value) == ["v2", "a,b", "a,b,c"])
        do {
            try JournalMetadata.set([("bad key", "x")], directory: dir.path)
            Issue.record("a key with a space was accepted")
        } catch {
            #expect("\(error)".contains("'bad key'"))
        }
        do {
            try JournalMetadata.set([("k", "two\nlines")], directory: dir.path)
            Issue.record("a value with a line break was accepted")
        } catch {
            #expect("\(error)".contains("line break"))
        }
        #expect(JournalMetadata.read(directory: dir.path).count == 3, "a refused set changes nothing")
    }
}
