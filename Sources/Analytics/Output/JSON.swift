import TicklineCore

/// A JSON value with its numbers already printed (so the text is decided by this module's
/// deterministic formatting, not by a serializer).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// Number text, printed as is: it must be valid JSON (`AnalyticsFormat.number` output, a
    /// fixed decimal's `description`, an integer).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    static func optional(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .number(AnalyticsFormat.number(value))
    }

    static func integer<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    static func decimal<T: FixedDecimal>(_ value: T) -> JSONValue { .number(value.description) }

    static func decimal<T: FixedDecimal>(_ value: T?) -> JSONValue { value.map { .number($0.description) } ?? .null }

    static func time(_ value: Nanos?) -> JSONValue { value.map { .string(AnalyticsFormat.isoTime($0)) } ?? .null }

    /// Pretty text: two-space indentation, object keys sorted by their UTF-8 bytes, a newline
    /// at the end. The same value always prints the same bytes.
    public func serialized() -> String {
        var out = ""
        write(to: &out, indent: 0)
        out.append("\n")
        return out
    }

    func write(to out: inout String, indent: Int) {
        switch self {
        case .null: out.append("null")
        case .bool(let value): out.append(value ? "true" : "false")
        case .number(let text): out.append(text)
        case .string(let text): JSONValue.writeString(text, to: &out)
        case .array(let items):
            guard !items.isEmpty else { out.append("[]"); return }
            out.append("[\n")
            for (index, item) in items.enumerated() {
                out.append(String(repeating: " ", count: indent + 2))
                item.write(to: &out, indent: indent + 2)
                out.append(index + 1 < items.count ? ",\n" : "\n")
            }
            out.append(String(repeating: " ", count: indent) + "]")
        case .object(let members):
            guard !members.isEmpty else { out.append("{}"); return }
            out.append("{\n")
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                out.append(String(repeating: " ", count: indent + 2))
                JSONValue.writeString(key, to: &out)
                out.append(": ")
                members[key]!.write(to: &out, indent: indent + 2)
                out.append(index + 1 < keys.count ? ",\n" : "\n")
            }
            out.append(String(repeating: " ", count: indent) + "}")
        }
    }

    static func writeString(_ text: String, to out: inout String) {
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }
}
