import ArgumentParser

/// `tickline fix ...`: FIX tools (the acceptance harness).
struct FIXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fix", abstract: "FIX 4.2/4.4 tools.", subcommands: [])
}
