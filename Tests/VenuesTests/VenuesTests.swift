import Testing
@testable import Venues

// FIX tests live in FIX/, OUCH tests in OUCH/.
