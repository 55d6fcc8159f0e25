import TestSupport
import Testing
@testable import LinuxIO

@Suite struct LinuxIOModuleTests {
    @Test func sharedDataLocatorFindsTheRepositorySibling() {
        #expect(SharedData.root.hasSuffix("shared/data"))
    }
}
