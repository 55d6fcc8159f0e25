import Foundation

/// Real market data and oracle outputs written outside this project live in ../shared/data
/// (override with TICKLINE_SHARED_DATA). Tests that need them are disabled, with this message,
/// where the folder is absent; they never copy the files into the project.
enum SharedData {
    static let root: String = {
        if let override = ProcessInfo.processInfo.environment["TICKLINE_SHARED_DATA"], !override.isEmpty {
            return override
        }
        // Tests/<Target>/SharedData.swift → repository root → ../shared/data
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    static var available: Bool { FileManager.default.fileExists(atPath: root) }

    static let missing = "../shared/data (or TICKLINE_SHARED_DATA) is absent: real-data conformance tests skipped"

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }
}
