import Foundation
import TicklineCore

/// FIX field data types (the ones the dictionaries use).
public enum FIXFieldType: UInt8, Sendable {
    case undefined = 0
    case string, char, int, length, numInGroup, float, boolean, utcTimestamp, utcDate, utcTimeOnly, monthYear, data

    init?(name: String) {
        switch name {
        case "STRING", "MULTIPLEVALUESTRING", "CURRENCY", "EXCHANGE", "COUNTRY", "LANGUAGE", "MULTIPLECHARVALUE", "TZTIMEONLY", "TZTIMESTAMP", "XMLDATA":
            self = .string
        case "CHAR": self = .char
        case "INT", "SEQNUM", "DAYOFMONTH", "TAGNUM": self = .int
        case "LENGTH": self = .length
        case "NUMINGROUP": self = .numInGroup
        case "FLOAT", "QTY", "PRICE", "PRICEOFFSET", "AMT", "PERCENTAGE": self = .float
        case "BOOLEAN": self = .boolean
        case "UTCTIMESTAMP": self = .utcTimestamp
        case "UTCDATE", "UTCDATEONLY", "LOCALMKTDATE": self = .utcDate
        case "UTCTIMEONLY": self = .utcTimeOnly
        case "MONTHYEAR": self = .monthYear
        case "DATA": self = .data
        default: return nil
        }
    }

    /// Whether `raw` is a well-formed value of this type.
    @inlinable
    func accepts(_ raw: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .undefined, .string, .data: return true
        case .char: return raw.count == 1
        case .int, .length, .numInGroup: return FIXNumber.parseInt(raw) != nil
        case .float:
            var i = 0
            if raw.count > 0 && raw[0] == UInt8(ascii: "-") { i = 1 }
            var digits = 0
            var dots = 0
            while i < raw.count {
                if raw[i] == UInt8(ascii: ".") {
                    dots += 1
                } else if raw[i] &- UInt8(ascii: "0") < 10 {
                    digits += 1
                } else {
                    return false
                }
                i += 1
            }
            return digits > 0 && dots <= 1
        case .boolean: return raw.count == 1 && (raw[0] == UInt8(ascii: "Y") || raw[0] == UInt8(ascii: "N"))
        case .utcTimestamp: return FIXTime.parse(raw) != nil
        case .utcDate:
            guard raw.count == 8 else { return false }
            return raw.allSatisfy { $0 &- UInt8(ascii: "0") < 10 }
        case .utcTimeOnly:
            guard raw.count == 8 || raw.count == 12, raw[2] == UInt8(ascii: ":"), raw[5] == UInt8(ascii: ":") else { return false }
            return true
        case .monthYear:
            guard raw.count >= 6 else { return false }
            for i in 0..<6 where raw[i] &- UInt8(ascii: "0") >= 10 { return false }
            return true
        }
    }
}

/// A repeating group: its NumInGroup tag, its members in order (the first is the delimiter
/// that starts each instance), which are required, and nested groups.
public final class FIXGroupDefinition: Sendable {
    public let countTag: Int32
    public let members: [Int32]
    public let memberSet: Set<Int32>
    public let required: [Int32]
    public let groups: [Int32: FIXGroupDefinition]

    init(countTag: Int32, members: [Int32], required: [Int32], groups: [Int32: FIXGroupDefinition]) {
        self.countTag = countTag
        self.members = members
        self.memberSet = Set(members)
        self.required = required
        self.groups = groups
    }

    var delimiter: Int32 { members[0] }
}

/// One message type: its fields (top level), required fields and groups.
public final class FIXMessageDefinition: Sendable {
    public let msgType: String
    public let name: String
    public let isAdmin: Bool
    public let fields: Set<Int32>
    public let required: [Int32]
    public let groups: [Int32: FIXGroupDefinition]

    init(msgType: String, name: String, isAdmin: Bool, fields: Set<Int32>, required: [Int32], groups: [Int32: FIXGroupDefinition]) {
        self.msgType = msgType
        self.name = name
        self.isAdmin = isAdmin
        self.fields = fields
        self.required = required
        self.groups = groups
    }
}

/// An error in a dictionary file, with its position.
public struct FIXDictionaryError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(file):\(line): \(message)" }
}

/// A FIX data dictionary loaded from Tickline's compact text format (config/fix/FIX42.dict,
/// FIX44.dict): field types and enumerations, header and trailer, message definitions.
public final class FIXDictionary: Sendable {
    public let beginString: String
    /// Field types indexed by tag (tags 1..<maxTag).
    let types: [FIXFieldType]
    let names: [Int32: String]
    let enums: [Int32: [[UInt8]]]
    public let headerFields: Set<Int32>
    let headerRequired: [Int32]
    let headerGroups: [Int32: FIXGroupDefinition]
    public let trailerFields: Set<Int32>
    let trailerRequired: [Int32]
    public let messages: [String: FIXMessageDefinition]

    static let maxTag = 10_000

    public var version: FIXVersion? { FIXVersion(beginString) }

    /// Loads `config/fix/FIX42.dict` or `FIX44.dict` from a config directory.
    public static func standard(_ version: FIXVersion, configDirectory: String) throws -> FIXDictionary {
        let name = version == .fix42 ? "FIX42.dict" : "FIX44.dict"
        return try load(path: configDirectory + "/fix/" + name)
    }

    /// The repository's config directory found from a source file path or the working
    /// directory (tools and tests).
    public static func locateConfigDirectory(from sourceFile: String = #filePath) -> String? {
        var candidates = [FileManager.default.currentDirectoryPath + "/config"]
        var url = URL(fileURLWithPath: sourceFile)
        for _ in 0..<6 {
            url = url.deletingLastPathComponent()
            candidates.append(url.path + "/config")
        }
        if let executable = CommandLine.arguments.first {
            var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
            for _ in 0..<6 {
                dir = dir.deletingLastPathComponent()
                candidates.append(dir.path + "/config")
            }
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/fix/FIX42.dict") }
    }

    public static func load(path: String) throws -> FIXDictionary {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw FIXDictionaryError(file: path, line: 0, message: "cannot read: \(error)")
        }
        return try FIXDictionary(text: text, file: path)
    }

    public init(text: String, file: String = "<dictionary>") throws {
        var beginString: String?
        var types = [FIXFieldType](repeating: .undefined, count: FIXDictionary.maxTag)
        var names: [Int32: String] = [:]
        var enums: [Int32: [[UInt8]]] = [:]
        var header: (Set<Int32>, [Int32], [Int32: FIXGroupDefinition])?
        var trailer: (Set<Int32>, [Int32], [Int32: FIXGroupDefinition])?
        var messages: [String: FIXMessageDefinition] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = words.first else { continue }
            func fail(_ message: String) -> FIXDictionaryError { FIXDictionaryError(file: file, line: lineNumber, message: message) }
            func members(_ tokens: ArraySlice<String>) throws(FIXDictionaryError) -> (Set<Int32>, [Int32], [Int32: FIXGroupDefinition]) {
                var all = Set<Int32>()
                var required: [Int32] = []
                var groups: [Int32: FIXGroupDefinition] = [:]
                for token in tokens {
                    let (tag, isRequired, group) = try FIXDictionary.parseMember(token, types: types, fail: fail)
                    guard all.insert(tag).inserted else { throw fail("tag \(tag) listed twice") }
                    if isRequired { required.append(tag) }
                    if let group { groups[tag] = group }
                }
                return (all, required.sorted(), groups)
            }
            switch keyword {
            case "version":
                guard words.count == 2 else { throw fail("expected: version <BeginString>") }
                beginString = words[1]
            case "field":
                guard words.count >= 4, let tag = Int32(words[1]), tag > 0, Int(tag) < FIXDictionary.maxTag else {
                    throw fail("expected: field <tag 1...9999> <Name> <TYPE> [values...]")
                }
                guard let type = FIXFieldType(name: words[3]) else { throw fail("unknown type \(words[3])") }
                guard types[Int(tag)] == .undefined else { throw fail("field \(tag) defined twice") }
                types[Int(tag)] = type
                names[tag] = words[2]
                if words.count > 4 { enums[tag] = words[4...].map { Array($0.utf8) } }
            case "header":
                header = try members(words[1...])
            case "trailer":
                trailer = try members(words[1...])
            case "message":
                guard words.count >= 4, words[3] == "admin" || words[3] == "app" else {
                    throw fail("expected: message <MsgType> <Name> admin|app <members...>")
                }
                guard messages[words[1]] == nil else { throw fail("message \(words[1]) defined twice") }
                let (all, required, groups) = try members(words[4...])
                messages[words[1]] = FIXMessageDefinition(
                    msgType: words[1], name: words[2], isAdmin: words[3] == "admin", fields: all, required: required, groups: groups)
            default:
                throw fail("unknown statement \(keyword)")
            }
        }
        guard let beginString, FIXVersion(beginString) != nil else {
            throw FIXDictionaryError(file: file, line: lineNumber, message: "missing or unsupported `version`")
        }
        guard let header, let trailer else { throw FIXDictionaryError(file: file, line: lineNumber, message: "missing `header` or `trailer`") }
        self.beginString = beginString
        self.types = types
        self.names = names
        self.enums = enums
        var headerAll = header.0
        for group in header.2.values { headerAll.formUnion(group.memberSet) }
        self.headerFields = headerAll
        self.headerRequired = header.1
        self.headerGroups = header.2
        self.trailerFields = trailer.0
        self.trailerRequired = trailer.1
        self.messages = messages
    }

    /// `tag[!]` or `tag[!]{m,m,...}` with nested braces.
    private static func splitGroup(_ body: Substring) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = body.startIndex
        var index = body.startIndex
        while index < body.endIndex {
            let c = body[index]
            if c == "{" { depth += 1 }
            if c == "}" { depth -= 1 }
            if c == "," && depth == 0 {
                parts.append(body[start..<index])
                start = body.index(after: index)
            }
            index = body.index(after: index)
        }
        parts.append(body[start..<body.endIndex])
        return parts
    }

    private static func parseMemberToken(
        _ token: Substring, types: [FIXFieldType], fail: (String) -> FIXDictionaryError
    ) throws(FIXDictionaryError) -> (Int32, Bool, FIXGroupDefinition?) {
        var head = token
        var inner: Substring?
        if let brace = token.firstIndex(of: "{") {
            guard token.last == "}" else { throw fail("unbalanced group braces in \(token)") }
            head = token[token.startIndex..<brace]
            inner = token[token.index(after: brace)..<token.index(before: token.endIndex)]
        }
        var required = false
        if head.hasSuffix("!") {
            required = true
            head = head.dropLast()
        }
        guard let tag = Int32(head), tag > 0, Int(tag) < FIXDictionary.maxTag, types[Int(tag)] != .undefined else {
            throw fail("member \(token): tag not declared by a `field` line")
        }
        guard let inner else { return (tag, required, nil) }
        guard types[Int(tag)] == .numInGroup else { throw fail("group count \(tag) must be NUMINGROUP") }
        var members: [Int32] = []
        var memberRequired: [Int32] = []
        var groups: [Int32: FIXGroupDefinition] = [:]
        for part in splitGroup(inner) {
            let (memberTag, isRequired, group) = try parseMemberToken(part, types: types, fail: fail)
            members.append(memberTag)
            if isRequired { memberRequired.append(memberTag) }
            if let group { groups[memberTag] = group }
        }
        guard !members.isEmpty else { throw fail("empty group \(tag)") }
        return (tag, required, FIXGroupDefinition(countTag: tag, members: members, required: memberRequired.sorted(), groups: groups))
    }

    private static func parseMember(
        _ token: String, types: [FIXFieldType], fail: (String) -> FIXDictionaryError
    ) throws(FIXDictionaryError) -> (Int32, Bool, FIXGroupDefinition?) {
        try parseMemberToken(Substring(token), types: types, fail: fail)
    }

    func type(of tag: Int32) -> FIXFieldType {
        tag > 0 && Int(tag) < FIXDictionary.maxTag ? types[Int(tag)] : .undefined
    }

    public func isDefined(_ tag: Int32) -> Bool { type(of: tag) != .undefined }

    public func name(of tag: Int32) -> String? { names[tag] }

    public func message(_ msgType: String) -> FIXMessageDefinition? { messages[msgType] }

    func enumAccepts(_ tag: Int32, _ raw: UnsafeRawBufferPointer) -> Bool {
        guard let values = enums[tag] else { return true }
        for value in values where value.count == raw.count {
            var same = true
            for i in 0..<raw.count where value[i] != raw[i] {
                same = false
                break
            }
            if same { return true }
        }
        return false
    }
}

/// SessionRejectReason(373) values and their standard texts.
@frozen public enum FIXRejectReason: Int, Sendable {
    case invalidTagNumber = 0
    case requiredTagMissing = 1
    case tagNotDefinedForMessage = 2
    case undefinedTag = 3
    case tagWithoutValue = 4
    case valueIncorrect = 5
    case incorrectDataFormat = 6
    case compIDProblem = 9
    case sendingTimeAccuracy = 10
    case invalidMsgType = 11
    case tagAppearsMoreThanOnce = 13
    case tagOutOfOrder = 14
    case incorrectNumInGroup = 16

    public var text: String {
        switch self {
        case .invalidTagNumber: "Invalid tag number"
        case .requiredTagMissing: "Required tag missing"
        case .tagNotDefinedForMessage: "Tag not defined for this message type"
        case .undefinedTag: "Undefined Tag"
        case .tagWithoutValue: "Tag specified without a value"
        case .valueIncorrect: "Value is incorrect (out of range) for this tag"
        case .incorrectDataFormat: "Incorrect data format for value"
        case .compIDProblem: "CompID problem"
        case .sendingTimeAccuracy: "SendingTime accuracy problem"
        case .invalidMsgType: "Invalid MsgType"
        case .tagAppearsMoreThanOnce: "Tag appears more than once"
        case .tagOutOfOrder: "Tag specified out of required order"
        case .incorrectNumInGroup: "Incorrect NumInGroup count for repeating group"
        }
    }
}

/// A validation failure: the reason and the tag it concerns (RefTagID), if any.
public struct FIXValidationFailure: Sendable, Equatable, CustomStringConvertible {
    public var reason: FIXRejectReason
    public var tag: Int32?
    public var description: String { tag.map { "\(reason.text) (\($0))" } ?? reason.text }
}

/// Validates parsed messages against a dictionary. Holds preallocated scratch so validating
/// allocates nothing.
public final class FIXValidator {
    public let dictionary: FIXDictionary
    private let scratch: UnsafeMutablePointer<Int32>
    private let capacity = 1024

    public init(dictionary: FIXDictionary) {
        self.dictionary = dictionary
        scratch = .allocate(capacity: capacity)
    }

    deinit { scratch.deallocate() }

    private enum Section { case header, body, trailer }

    /// The first failure in the order a FIX engine reports them: field order, message type,
    /// required fields (header, trailer, body), then each field of header, trailer and body in
    /// tag order (repeated, empty, format, enumeration, unknown tag, not in message, group count).
    public func validate(_ message: FIXMessageView) -> FIXValidationFailure? {
        let d = dictionary
        // Structure: header fields first, trailer last.
        var section = Section.header
        var outOfOrder: Int32?
        for i in 0..<message.count {
            let tag = message[i].tag
            if d.headerFields.contains(tag) {
                if section != .header, outOfOrder == nil { outOfOrder = tag }
            } else if d.trailerFields.contains(tag) {
                section = .trailer
            } else {
                if section == .trailer, outOfOrder == nil { outOfOrder = tag }
                section = .body
            }
        }
        if let outOfOrder { return FIXValidationFailure(reason: .tagOutOfOrder, tag: outOfOrder) }
        let msgType = message.msgTypeString
        guard let definition = d.messages[msgType] else { return FIXValidationFailure(reason: .invalidMsgType, tag: nil) }
        for tag in d.headerRequired where !message.has(tag) { return FIXValidationFailure(reason: .requiredTagMissing, tag: tag) }
        for tag in d.trailerRequired where !message.has(tag) { return FIXValidationFailure(reason: .requiredTagMissing, tag: tag) }
        // Top-level body fields (group instances folded into their count field).
        var headerCount = 0
        var bodyCount = 0
        var failure: FIXValidationFailure?
        var groupFailure: (Int32, FIXValidationFailure)?
        var i = 0
        while i < message.count {
            let tag = message[i].tag
            if d.headerFields.contains(tag) || d.trailerFields.contains(tag) {
                i += 1
                continue
            }
            if bodyCount < capacity / 2 {
                scratch[capacity / 2 + bodyCount] = Int32(i)
                bodyCount += 1
            }
            if let group = definition.groups[tag] {
                let (next, problem) = walkGroup(message, group: group, countIndex: i)
                if let problem, groupFailure == nil { groupFailure = (tag, problem) }
                i = next
            } else {
                i += 1
            }
        }
        for tag in definition.required {
            var found = false
            for k in 0..<bodyCount where message[Int(scratch[capacity / 2 + k])].tag == tag {
                found = true
                break
            }
            if !found { return FIXValidationFailure(reason: .requiredTagMissing, tag: tag) }
        }
        // Header and trailer fields, sorted by tag (trailer after header).
        for pass in 0..<2 {
            headerCount = 0
            for k in 0..<message.count {
                let tag = message[k].tag
                let wanted = pass == 0 ? d.headerFields.contains(tag) : d.trailerFields.contains(tag)
                if wanted && headerCount < capacity / 2 {
                    scratch[headerCount] = Int32(k)
                    headerCount += 1
                }
            }
            sortByTag(message, base: 0, count: headerCount)
            if let f = checkSorted(message, base: 0, count: headerCount, definition: nil) { return f }
        }
        sortByTag(message, base: capacity / 2, count: bodyCount)
        failure = checkSorted(message, base: capacity / 2, count: bodyCount, definition: definition, groupFailure: groupFailure)
        return failure
    }

    private func sortByTag(_ message: FIXMessageView, base: Int, count: Int) {
        guard count > 1 else { return }
        for a in 1..<count {
            let value = scratch[base + a]
            let tag = message[Int(value)].tag
            var b = a - 1
            while b >= 0 && message[Int(scratch[base + b])].tag > tag {
                scratch[base + b + 1] = scratch[base + b]
                b -= 1
            }
            scratch[base + b + 1] = value
        }
    }

    private func checkField(_ message: FIXMessageView, index: Int) -> FIXValidationFailure? {
        let field = message[index]
        let tag = field.tag
        let raw = message.value(at: index)
        if raw.count == 0 { return FIXValidationFailure(reason: .tagWithoutValue, tag: tag) }
        let type = dictionary.type(of: tag)
        if !type.accepts(raw) { return FIXValidationFailure(reason: .incorrectDataFormat, tag: tag) }
        if !dictionary.enumAccepts(tag, raw) { return FIXValidationFailure(reason: .valueIncorrect, tag: tag) }
        if type == .undefined { return FIXValidationFailure(reason: .invalidTagNumber, tag: tag) }
        return nil
    }

    private func checkSorted(
        _ message: FIXMessageView, base: Int, count: Int, definition: FIXMessageDefinition?,
        groupFailure: (Int32, FIXValidationFailure)? = nil
    ) -> FIXValidationFailure? {
        var last: Int32 = .min
        for k in 0..<count {
            let index = Int(scratch[base + k])
            let tag = message[index].tag
            if k > 0 && tag == last { return FIXValidationFailure(reason: .tagAppearsMoreThanOnce, tag: tag) }
            if let f = checkField(message, index: index) { return f }
            if let definition {
                if !definition.fields.contains(tag) { return FIXValidationFailure(reason: .tagNotDefinedForMessage, tag: tag) }
                if let (groupTag, problem) = groupFailure, groupTag == tag { return problem }
            }
            last = tag
        }
        return nil
    }

    /// Walks the instances of a group starting at its count field; returns the index after
    /// the group and the first problem inside it.
    private func walkGroup(_ message: FIXMessageView, group: FIXGroupDefinition, countIndex: Int) -> (Int, FIXValidationFailure?) {
        let declared = FIXNumber.parseInt(message.value(at: countIndex)) ?? 0
        var i = countIndex + 1
        var instances: Int64 = 0
        var problem: FIXValidationFailure?
        while i < message.count, group.memberSet.contains(message[i].tag) {
            let tag = message[i].tag
            if tag == group.delimiter { instances += 1 }
            if problem == nil, let f = checkField(message, index: i) { problem = f }
            if let nested = group.groups[tag] {
                let (next, inner) = walkGroup(message, group: nested, countIndex: i)
                if problem == nil { problem = inner }
                i = next
            } else {
                i += 1
            }
        }
        if problem == nil && instances != declared {
            problem = FIXValidationFailure(reason: .incorrectNumInGroup, tag: group.countTag)
        }
        return (i, problem)
    }
}
