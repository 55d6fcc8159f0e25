import ArgumentParser
import Foundation
import TicklineConfig

/// A password named on the command line by where it is kept, never by its value (a command
/// line shows in `ps` and in shell history): `--password-env NAME` or `--password-file PATH`.
struct PasswordOptions: ParsableArguments {
    @Option(help: "Environment variable holding the password.") var passwordEnv: String?
    @Option(help: "File holding the password (surrounding white space dropped).") var passwordFile: String?

    /// The password (the environment variable first), or nil when neither option is given.
    func password() throws -> String? {
        if let passwordEnv {
            guard let value = ProcessInfo.processInfo.environment[passwordEnv] else { throw ValidationError("\(passwordEnv) is not set") }
            return value
        }
        if let passwordFile {
            guard let text = readTextFile(passwordFile) else { throw ValidationError("cannot read \(passwordFile)") }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }
}
