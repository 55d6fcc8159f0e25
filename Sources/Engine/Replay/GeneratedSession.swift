import MarketData
import Simulation
import TicklineCore
#if canImport(Glibc)
import Glibc
#endif

/// The synthetic feed generator as a replay source: the session is written once to a file named
/// after its parameters in the cache directory (reused while it exists), then replayed through
/// the ITCH path like any recorded session, so memory stays bounded for any length and the
/// decode stage runs the same code as for real data.
public enum GeneratedSession {
    public static func path(for config: ITCHGeneratorConfig, directory: String) -> String {
        "\(directory)/tickline-gen-s\(config.symbols)-m\(config.messages)-seed\(config.seed)-h\(Int(config.haltProbability * 1e9)).itch"
    }

    /// The file for `config`, generating it when absent (written to a temporary name, then
    /// renamed, so a crash never leaves a truncated cache entry).
    public static func prepare(_ config: ITCHGeneratorConfig, directory: String) throws -> String {
        let target = path(for: config, directory: directory)
        if access(target, R_OK) == 0 { return target }
        mkdir(directory, 0o755)
        let temporary = target + ".tmp\(getpid())"
        do {
            try ITCHGenerator(config: config).write(to: temporary)
        } catch {
            unlink(temporary)
            throw ReplayError.cannotOpen("generator output \(temporary): \(error)")
        }
        guard rename(temporary, target) == 0 else {
            unlink(temporary)
            throw ReplayError.cannotOpen("cannot rename \(temporary) to \(target)")
        }
        return target
    }
}
