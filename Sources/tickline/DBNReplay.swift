import ArgumentParser
import MarketData
import TicklineCore

extension BookSource {
    /// DBN replay arrives with the DBN decoder (branch issue3-dbn).
    func replayDBN(_ body: (MarketEvent, (InstrumentID) -> String) -> Void) throws {
        throw ValidationError("\(path): DBN files are not supported by this build yet")
    }
}
