import TestSupport
import Testing
@testable import Features

@Suite struct FeaturesModuleTests {
    @Test func sharedDataLocatorFindsTheRepositorySibling() { #expect(SharedData.root.hasSuffix("shared/data")) }
}
