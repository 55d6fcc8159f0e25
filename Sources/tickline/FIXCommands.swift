import ArgumentParser
import Foundation
import Venues

/// `tickline fix ...`: FIX tools (the acceptance harness).
struct FIXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fix", abstract: "FIX 4.2/4.4 tools.", subcommands: [FIXAcceptanceCommand.self])
}

/// `tickline fix acceptance --dir DIR --version 4.2|4.4`: runs QuickFIX's server acceptance
/// scripts against Tickline's acceptor over TCP loopback.
struct FIXAcceptanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acceptance",
        abstract: "Run QuickFIX server acceptance scripts (.def) against Tickline's FIX acceptor.")

    @Option(help: "Acceptance root (holding server/fix42, server/fix44 and fields.fmt) or a folder of .def scripts.")
    var dir: String

    @Option(help: "FIX version: 4.2 or 4.4.")
    var version: String

    @Option(help: "Config directory holding fix/FIX42.dict and fix/FIX44.dict (default: ./config or the repository's).")
    var config: String?

    @Option(help: "Run only scripts whose file name contains this text.")
    var only: String?

    @Flag(help: "Print each script's result as it finishes.")
    var verbose = false

    func run() throws {
        guard let fixVersion = FIXVersion(version) else { throw ValidationError("--version must be 4.2 or 4.4") }
        guard let configDirectory = config ?? FIXDictionary.locateConfigDirectory() else {
            throw ValidationError("cannot find config/fix/FIX42.dict; pass --config")
        }
        guard let (scripts, fieldsFormat) = FIXAcceptanceRunner.locate(root: dir, version: fixVersion) else {
            throw ValidationError("no .def scripts and fields.fmt under \(dir)")
        }
        let dictionary: FIXDictionary
        do { dictionary = try FIXDictionary.standard(fixVersion, configDirectory: configDirectory) } catch { throw ValidationError("\(error)") }
        let runner = try FIXAcceptanceRunner(
            version: fixVersion, dictionary: dictionary, fieldsFormat: try String(contentsOfFile: fieldsFormat, encoding: .utf8))
        let verbose = self.verbose
        let results = try runner.runAll(directory: scripts, only: only) { result in
            if verbose {
                print("\(result.passed ? "PASS" : "FAIL") \(result.script)")
                FileHandle.standardOutput.synchronizeFile()
            }
        }
        let failed = results.filter { !$0.passed }
        print("\(results.count - failed.count) passed, \(failed.count) failed")
        for result in failed { print("FAILED \(result.script): \(result.failure ?? "")") }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
