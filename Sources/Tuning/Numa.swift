import CNuma

/// NUMA facts for when sysfs has no `/sys/devices/system/node` (kernels built without the node
/// directory, some containers). The reader asks only then, so tests with fake trees never
/// reach libnuma.
public protocol NumaSource: Sendable {
    /// False where the kernel has no NUMA support (libnuma's `numa_available() < 0`).
    var available: Bool { get }
    /// The node of `cpu`, or nil.
    func node(ofCPU cpu: Int) -> Int?
    /// Memory on `node` in KiB, or nil.
    func memoryKiB(node: Int) -> Int?
}

/// libnuma, for the live host. Degrades to "not available" when `numa_available() < 0`, in
/// which case no other libnuma function is called (their results are undefined then).
public struct LibNuma: NumaSource {
    public init() {}

    public var available: Bool { numa_available() >= 0 }

    public func node(ofCPU cpu: Int) -> Int? {
        guard available, cpu >= 0, cpu <= Int(Int32.max) else { return nil }
        let node = numa_node_of_cpu(Int32(cpu))
        return node >= 0 ? Int(node) : nil
    }

    public func memoryKiB(node: Int) -> Int? {
        guard available, node >= 0, node <= Int(numa_max_node()) else { return nil }
        var free: Int64 = 0
        let size = numa_node_size64(Int32(node), &free)
        return size > 0 ? Int(size / 1_024) : nil
    }
}
