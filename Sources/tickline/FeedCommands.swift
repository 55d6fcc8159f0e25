import ArgumentParser

/// `tickline feed ...`: market data over the wire (MoldUDP64 replay, SoupBinTCP ITCH server).
struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "feed", abstract: "Send market data over UDP or TCP.", subcommands: [])
}
