import TestSupport
import Testing
@testable import Models

@Suite struct ModelsModuleTests {
    @Test func sharedDataLocatorFindsTheRepositorySibling() { #expect(SharedData.root.hasSuffix("shared/data")) }
}
