import Yams

/// A configuration problem, located: the file, line and column, and the key path
/// (`threads.groups[1].cpus`) of the offending value.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let column: Int
    public let keyPath: String
    public let message: String

    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        return keyPath.isEmpty ? "\(place): \(message)" : "\(place): \(keyPath): \(message)"
    }
}

/// A YAML value with where it came from. Accessors are strict: a wrong type, an unknown key,
/// or a missing required key is a `ConfigError` naming the file, line and key path.
public struct ConfigNode: @unchecked Sendable {
    public let node: Yams.Node
    public let file: String
    public let keyPath: String

    /// Parses `yaml` (named `file` in errors). Broken YAML is a located error, never a crash.
    public static func parse(_ yaml: String, file: String) throws(ConfigError) -> ConfigNode {
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                return ConfigNode(node: .mapping([:]), file: file, keyPath: "")
            }
            return ConfigNode(node: node, file: file, keyPath: "")
        } catch let error as YamlError {
            throw Self.locate(error, file: file)
        } catch {
            throw ConfigError(file: file, line: 0, column: 0, keyPath: "", message: "\(error)")
        }
    }

    /// Reads and parses a YAML file.
    public static func load(path: String) throws(ConfigError) -> ConfigNode {
        guard let text = readTextFile(path) else {
            throw ConfigError(file: path, line: 0, column: 0, keyPath: "", message: "cannot read file")
        }
        return try parse(text, file: path)
    }

    static func locate(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return ConfigError(file: file, line: mark.line, column: mark.column, keyPath: "", message: "invalid YAML: \(problem)")
        case .composer(_, let problem, let mark, _):
            return ConfigError(file: file, line: mark.line, column: mark.column, keyPath: "", message: "invalid YAML: \(problem)")
        default:
            return ConfigError(file: file, line: 0, column: 0, keyPath: "", message: "invalid YAML: \(error)")
        }
    }

    public var line: Int { node.mark?.line ?? 0 }
    public var column: Int { node.mark?.column ?? 0 }

    public func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, column: column, keyPath: keyPath, message: message)
    }

    func child(_ node: Yams.Node, key: String) -> ConfigNode {
        ConfigNode(node: node, file: file, keyPath: keyPath.isEmpty ? key : "\(keyPath).\(key)")
    }

    /// This node as a mapping whose keys must all be in `allowed`.
    public func mapping(allowed: [String]) throws(ConfigError) -> ConfigMapping {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping with keys \(allowed.joined(separator: ", "))") }
        var entries: [(String, ConfigNode, Yams.Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw ConfigNode(node: keyNode, file: file, keyPath: keyPath).error("keys must be plain strings")
            }
            let key = scalar.string
            guard allowed.contains(key) else {
                throw ConfigNode(node: keyNode, file: file, keyPath: keyPath.isEmpty ? key : "\(keyPath).\(key)")
                    .error("unknown key '\(key)' (allowed: \(allowed.joined(separator: ", ")))")
            }
            entries.append((key, child(value, key: key), keyNode))
        }
        return ConfigMapping(owner: self, entries: entries.map { ($0.0, $0.1) })
    }

    /// The value under `key` of this mapping, whatever other keys it holds: for tools that read
    /// one section of a file whose other sections belong to other parsers (`tickline tune --check`).
    public func value(forKey key: String) throws(ConfigError) -> ConfigNode? {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping") }
        for (keyNode, value) in mapping {
            if case .scalar(let scalar) = keyNode, scalar.string == key { return child(value, key: key) }
        }
        return nil
    }

    public func string() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string") }
        return scalar.string
    }

    public func int() throws(ConfigError) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            throw error("expected an integer, found \(describe())")
        }
        return value
    }

    public func bool() throws(ConfigError) -> Bool {
        guard case .scalar(let scalar) = node else { throw error("expected true or false, found \(describe())") }
        switch scalar.string {
        case "true", "True", "TRUE", "yes": return true
        case "false", "False", "FALSE", "no": return false
        default: throw error("expected true or false, found \(describe())")
        }
    }

    public func double() throws(ConfigError) -> Double {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value.isFinite else {
            throw error("expected a number, found \(describe())")
        }
        return value
    }

    public func array() throws(ConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else { throw error("expected a list, found \(describe())") }
        return sequence.enumerated().map { index, item in
            ConfigNode(node: item, file: file, keyPath: "\(keyPath)[\(index)]")
        }
    }

    /// One of `choices`, for enum-like settings.
    public func choice(_ choices: [String]) throws(ConfigError) -> String {
        let value = try string()
        guard choices.contains(value) else {
            throw error("'\(value)' is not one of \(choices.joined(separator: ", "))")
        }
        return value
    }

    func describe() -> String {
        switch node {
        case .scalar(let scalar): return "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

/// A mapping whose keys were checked; values fetched by key.
public struct ConfigMapping: @unchecked Sendable {
    public let owner: ConfigNode
    let entries: [(String, ConfigNode)]

    public subscript(key: String) -> ConfigNode? { entries.first { $0.0 == key }?.1 }

    public func required(_ key: String) throws(ConfigError) -> ConfigNode {
        guard let value = self[key] else { throw owner.error("missing required key '\(key)'") }
        return value
    }

    public var keys: [String] { entries.map(\.0) }
}

/// The whole of a small file (configs, secrets, sample lists): nil when it cannot be opened.
/// Control path only (it allocates); any thread.
public func readFileBytes(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
        if n < buffer.count { break }
    }
    return bytes
}

/// The whole of a small text file as UTF-8: nil when it cannot be opened or is not valid
/// UTF-8. Control path only; any thread.
public func readTextFile(_ path: String) -> String? {
    readFileBytes(path).flatMap { String(validating: $0, as: UTF8.self) }
}

#if canImport(Glibc)
import Glibc
#endif
