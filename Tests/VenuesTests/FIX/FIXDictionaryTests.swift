import Foundation
import Testing
import TicklineCore
@testable import Venues

@Suite("FIX dictionaries and validation")
struct FIXDictionaryTests {
    @Test func bothDictionariesLoad() throws {
        let fix42 = try FIXTest.dictionary(.fix42)
        let fix44 = try FIXTest.dictionary(.fix44)
        #expect(fix42.version == .fix42)
        #expect(fix44.version == .fix44)
        for d in [fix42, fix44] {
            for type in ["0", "1", "2", "3", "4", "5", "A", "D", "F", "G", "8", "9", "j"] { #expect(d.message(type) != nil, "\(d.beginString) \(type)") }
            #expect(d.message("D")?.required.contains(11) == true)
            #expect(d.message("A")?.isAdmin == true)
            #expect(d.message("D")?.isAdmin == false)
        }
        // Version differences the acceptance scripts rely on.
        #expect(fix42.message("D")?.required.contains(55) == true)
        #expect(fix44.message("D")?.required.contains(55) == false)
        #expect(fix42.message("8")?.required.contains(20) == true)
        #expect(fix44.isDefined(20) == false)
    }

    @Test func malformedDictionaryIsAClearError() {
        #expect(throws: FIXDictionaryError.self) { try FIXDictionary(text: "version FIX.4.2\nfield 1 A BOGUS\n") }
        do {
            _ = try FIXDictionary(text: "version FIX.4.2\nfield 1 Account STRING\nheader 1 2\ntrailer 1\n", file: "x.dict")
            Issue.record("undeclared tag accepted")
        } catch let error as FIXDictionaryError {
            #expect(error.line == 3)
            #expect(error.description.hasPrefix("x.dict:3:"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    func failure(_ text: String, _ version: FIXVersion = .fix42) throws -> FIXValidationFailure? {
        let validator = FIXValidator(dictionary: try FIXTest.dictionary(version))
        let parser = FIXParser()
        let bytes = FIXTest.message(text)
        return try bytes.withUnsafeBytes { raw in validator.validate(try parser.parse(raw).get()) }
    }

    static let header = "8=FIX.4.2|35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|"

    @Test func validMessagesPass() throws {
        #expect(try failure(Self.header + "11=1|21=1|38=100|40=2|44=10.5|54=1|55=INTC|60=20240102-03:04:05|") == nil)
        #expect(try failure(Self.header + "11=1|21=1|40=1|54=1|55=INTC|60=20240102-03:04:05|386=2|336=A|336=B|") == nil)
    }

    @Test func eachRejectReasonIsDetected() throws {
        let body = "11=1|21=1|40=1|54=1|55=INTC|60=20240102-03:04:05|"
        #expect(try failure(Self.header + "21=1|40=1|54=1|55=INTC|60=20240102-03:04:05|") == FIXValidationFailure(reason: .requiredTagMissing, tag: 11))
        #expect(try failure(Self.header + body + "38=+5|") == FIXValidationFailure(reason: .incorrectDataFormat, tag: 38))
        #expect(try failure(Self.header + body + "167=BOO|") == FIXValidationFailure(reason: .valueIncorrect, tag: 167))
        #expect(try failure(Self.header + body + "58=|") == FIXValidationFailure(reason: .tagWithoutValue, tag: 58))
        #expect(try failure(Self.header + body + "999=X|") == FIXValidationFailure(reason: .invalidTagNumber, tag: 999))
        #expect(try failure(Self.header + body + "112=X|") == FIXValidationFailure(reason: .tagNotDefinedForMessage, tag: 112))
        #expect(try failure(Self.header + body + "58=a|58=b|") == FIXValidationFailure(reason: .tagAppearsMoreThanOnce, tag: 58))
        #expect(try failure(Self.header + body + "386=3|336=A|336=B|") == FIXValidationFailure(reason: .incorrectNumInGroup, tag: 386))
        #expect(try failure("8=FIX.4.2|35=D|11=1|34=2|49=TW|52=20240102-03:04:05|56=ISLD|" + body) == FIXValidationFailure(reason: .tagOutOfOrder, tag: 34))
        #expect(try failure("8=FIX.4.2|35=*|34=2|49=TW|52=20240102-03:04:05|56=ISLD|") == FIXValidationFailure(reason: .invalidMsgType, tag: nil))
        #expect(try failure("8=FIX.4.2|35=0|34=2|49=TW|52=20240102-03:04:05|") == FIXValidationFailure(reason: .requiredTagMissing, tag: 56))
        // 4.4 knows Side 'A' (4.2 does not) and no longer has ExecTransType(20).
        #expect(try failure(Self.header + "11=1|21=1|40=1|54=A|55=INTC|60=20240102-03:04:05|") == FIXValidationFailure(reason: .valueIncorrect, tag: 54))
        let header44 = Self.header.replacingOccurrences(of: "FIX.4.2", with: "FIX.4.4")
        #expect(try failure(header44 + "11=1|21=1|40=1|54=A|55=INTC|60=20240102-03:04:05|", .fix44) == nil)
        #expect(try failure(header44 + body + "20=0|", .fix44) == FIXValidationFailure(reason: .invalidTagNumber, tag: 20))
    }
}
