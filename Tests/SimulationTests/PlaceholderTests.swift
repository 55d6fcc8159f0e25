import Testing
@testable import Simulation

@Suite struct SimulationModuleTests {
    @Test func sharedDataLocatorFindsTheRepositorySibling() {
        #expect(SharedData.root.hasSuffix("shared/data"))
    }
}
