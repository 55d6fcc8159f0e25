import Foundation

/// Real market data and oracle outputs written outside this project live in ../shared/data
/// (override with TICKLINE_SHARED_DATA). Tests that need them are disabled, with this message,
/// where the folder is absent; they never copy the files into the project.
public enum SharedData {
    public static let root: String = {
        if let override = ProcessInfo.processInfo.environment["TICKLINE_SHARED_DATA"], !override.isEmpty {
            return override
        }
        // Tests/TestSupport/SharedData.swift → repository root → ../shared/data
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    public static var available: Bool { FileManager.default.fileExists(atPath: root) }

    public static let missing = "../shared/data (or TICKLINE_SHARED_DATA) is absent: real-data conformance tests skipped"

    public static func path(_ relative: String) -> String { root + "/" + relative }

    public static func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }
}

/// The `tickline` executable built beside the test bundle (`swift build --build-tests` builds
/// it; scripts/test does), for tests that run it as a second process.
public enum TicklineBinary {
    public static func path() -> String? {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("tickline").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }
}

/// The Python used for live oracles (lightgbm, TA-Lib, itch-book): `TICKLINE_PYTHON` when set,
/// else the virtual environment `scripts/bootstrap --python` makes (`.build-venv/`), else
/// `python3` from PATH.
public enum OraclePython {
    public static let executable: String = {
        if let override = ProcessInfo.processInfo.environment["TICKLINE_PYTHON"], !override.isEmpty { return override }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = repo.appendingPathComponent(".build-venv/bin/python3").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }()

    /// Runs the oracle Python with `arguments`; returns (status, stdout + stderr).
    public static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Whether every module in `modules` imports.
    public static func has(_ modules: String...) -> Bool {
        (try? run(["-c", "import " + modules.joined(separator: ", ")]))?.0 == 0
    }
}
