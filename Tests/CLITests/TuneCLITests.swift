import Foundation
import TestSupport
import Testing

/// `tickline tune` on the machine the tests run on: whatever the host, its own proposal must
/// pass its own check.
@Suite struct TuneCLITests {
    static let onlineCPUs = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    func temporary(_ name: String, _ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "tickline-tune-\(getpid())-\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func proposesAPlanThatPassesItsOwnCheck() throws {
        let (status, out, err) = try CLITests.run(["tune"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("[info] topology: \(Self.onlineCPUs) CPUs online"), "names this host's CPU count")
        #expect(out.contains("\nfindings: "))
        let lines = out.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "threads:"), "the proposed YAML ends the output")
        let yaml = lines[start...].joined(separator: "\n")
        #expect(yaml.contains("  mode: "))

        let (yamlStatus, yamlOnly, _) = try CLITests.run(["tune", "--yaml"])
        #expect(yamlStatus == 0)
        #expect(yamlOnly == yaml, "--yaml prints the same section")

        let config = try temporary("engine.yaml", "engine:\n  mode: paper\n" + yaml)
        defer { unlink(config) }
        let (checkStatus, checkOut, checkErr) = try CLITests.run(["tune", "--check", config])
        #expect(checkStatus == 0, "\(checkOut)\(checkErr)")
        #expect(checkOut.contains("OK: the plan fits this host"))
        if Self.onlineCPUs <= 3 {
            #expect(yaml.hasPrefix("threads:\n  mode: fused\n"), "fewer free cores than hot agents: fused")
        }
    }

    @Test func jsonDescribesThisHost() throws {
        let (status, out, _) = try CLITests.run(["tune", "--json"])
        #expect(status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let cpus = try #require((object["host"] as? [String: Any])?["cpus"] as? [String: Any])
        #expect((cpus["online"] as? [Int])?.count == Self.onlineCPUs)
        let proposal = try #require(object["proposal"] as? [String: Any])
        #expect(["fused", "per-stage"].contains(proposal["mode"] as? String ?? ""))
        #expect((object["findings"] as? [[String: Any]])?.contains { $0["id"] as? String == "clocksource" } == true)
    }

    @Test func checkFailsOnConflictsAndBadConfigs() throws {
        let missing = try temporary("missing.yaml", "threads:\n  mode: fused\n  cpus: [4095]\n")
        defer { unlink(missing) }
        let (status, out, _) = try CLITests.run(["tune", "--check", missing])
        #expect(status == 1)
        #expect(out.contains("[crit] cpu.missing: thread hot is pinned to CPU 4095"))
        #expect(out.contains("FAILED: 1 conflict"))
        let (jsonStatus, json, _) = try CLITests.run(["tune", "--check", missing, "--json"])
        #expect(jsonStatus == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == false)

        let broken = try temporary("broken.yaml", "threads:\n  mode: fused\n  cpu: 1\n")
        defer { unlink(broken) }
        let (brokenStatus, _, brokenErr) = try CLITests.run(["tune", "--check", broken])
        #expect(brokenStatus == 2)
        #expect(brokenErr.contains("\(broken):3:3: threads.cpu: unknown key 'cpu'"))

        let (rootStatus, _, rootErr) = try CLITests.run(["tune", "--root", "/nonexistent-host-tree"])
        #expect(rootStatus != 0 && rootErr.contains("not a host tree"))
        let (nicStatus, _, nicErr) = try CLITests.run(["tune", "--nic", "no-such-nic0"])
        #expect(nicStatus != 0 && nicErr.contains("no interface no-such-nic0"))
    }
}
