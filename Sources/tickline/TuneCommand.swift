import ArgumentParser
import Engine
import Plumbing
import TicklineConfig
import Tuning

/// `tickline tune`: reads the host (topology, isolation, frequency, C-states, THP, swap, NIC
/// IRQs, busy polling, limits, clock), prints findings with fixes and a proposed `threads:`
/// section; `--check CONFIG` fails when a configured plan conflicts with the host.
struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check this host for low-latency settings and propose a thread plan.",
        discussion: """
            Prints each finding with its severity (ok, info, warn, crit) and the fix (a command, sysctl or kernel \
            parameter), then a ready-to-paste threads: section for the engine config: hot agents (decode, features, \
            risk, routing) on isolated cores of the NIC's NUMA node, one per physical core, or fused on one core when \
            there are fewer free cores than agents; the journal and housekeeping on a non-isolated CPU.
            With --check CONFIG, checks that config's threads: section against the host instead and exits 1 when it \
            conflicts (missing or offline CPUs, more spinners than cores, threads sharing a core or SMT siblings, \
            SCHED_FIFO without permission, lock_memory without memlock); warnings alone exit 0 unless --strict.
            """)

    @Option(name: .customLong("check"), help: ArgumentHelp("Check the threads: section of this engine config against the host.", valueName: "config.yaml"))
    var config: String?

    @Flag(help: "Print JSON for tools instead of text.")
    var json = false

    @Flag(help: "Print only the proposed threads: section.")
    var yaml = false

    @Flag(help: "With --check: fail on warnings too.")
    var strict = false

    @Option(help: "The interface the feed arrives on (default: the first physical interface that is up).")
    var nic: String?

    @Option(help: ArgumentHelp("Read /sys and /proc under this directory instead (a captured or fake host).", valueName: "dir"))
    var root: String = "/"

    func run() throws {
        let fs = HostFilesystem(root: root)
        guard fs.exists("/sys/devices/system/cpu") || fs.exists("/proc/cpuinfo") else {
            throw ValidationError("\(root) holds no sys/devices/system/cpu or proc/cpuinfo: not a host tree")
        }
        let reader = fs.isLiveHost ? HostReader.live() : HostReader(fs: fs)
        let host = reader.read()
        if let nic, host.network.interface(nic) == nil {
            throw ValidationError("no interface \(nic) (have: \(host.network.interfaces.map(\.name).joined(separator: ", ")))")
        }
        let agents = EngineConfig.agentNames

        guard let config else {
            let report = TuneReport(host: host, agents: agents, nicName: nic)
            if yaml {
                print(report.proposal.yaml(), terminator: "")
            } else if json {
                print(report.json().rendered())
            } else {
                print(report.text(), terminator: "")
            }
            return
        }

        let result: (plan: ThreadPlan, conflicts: [Conflict])
        do {
            result = try PlanCheck.check(configPath: config, agents: agents, host: host, nic: HostAnalysis.feedNIC(host, named: nic))
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let report = CheckReport(configPath: config, plan: result.plan, conflicts: result.conflicts, host: host)
        print(json ? report.json().rendered() : report.text(), terminator: json ? "\n" : "")
        if !report.passed || (strict && !report.conflicts.isEmpty) { throw ExitCode(1) }
    }
}
