/// What the records do not say about themselves, kept beside the log and published by every
/// sink when it connects: the names of the features a `featureSnapshot` record's values are
/// (`<journal>.features.v<model version>` = `SMA_20,EMA_10,...`), so another process reading
/// PostgreSQL's `journal_meta` or Redis's `<prefix>meta` hash can label the hot feature store.
///
/// A file `metadata` in the log directory, one `key<TAB>value` line per entry, rewritten
/// whole (a temporary file renamed over it) when an entry is set; entries from earlier runs
/// stay, so records of an older model version keep their names. Cold path only.
public enum JournalMetadata {
    public static let fileName = "metadata"

    /// The entries in `directory`, sorted by key (none when there is no file).
    public static func read(directory: String) -> [(key: String, value: String)] {
        guard let bytes = LogFiles.readAll(directory + "/" + fileName) else { return [] }
        var entries: [(key: String, value: String)] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            entries.append((String(line[..<tab]), String(line[line.index(after: tab)...])))
        }
        return entries.sorted { $0.key < $1.key }
    }

    /// Sets `entries` (replacing values of the same keys) and rewrites the file. Keys are
    /// letters, digits and `._-`; values may not hold a tab or a line break.
    public static func set(_ entries: [(key: String, value: String)], directory: String) throws(JournalError) {
        var merged: [String: String] = [:]
        for (key, value) in read(directory: directory) { merged[key] = value }
        for (key, value) in entries {
            guard !key.isEmpty, key.utf8.allSatisfy({ JournalConfig.isIdentifierByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) else {
                throw .state("journal metadata key '\(key)': letters, digits, '.', '_' or '-' only")
            }
            guard !value.utf8.contains(where: { $0 == 9 || $0 == 10 || $0 == 13 }) else {
                throw .state("journal metadata '\(key)': the value may not hold a tab or a line break")
            }
            merged[key] = value
        }
        let text = merged.keys.sorted().map { "\($0)\t\(merged[$0]!)\n" }.joined()
        let path = directory + "/" + fileName
        do { try LogFiles.writeAtomically(path, Array(text.utf8), sync: true) } catch { throw .log(error) }
    }
}
