/// Live order entry: FIX 4.2/4.4 (`FIX/`) and OUCH 4.2 over SoupBinTCP (`OUCH/`).
///
/// Each protocol is a state machine over bytes — it parses what came in and encodes what goes
/// out into preallocated buffers — so the same code runs over an io_uring TCP session on the
/// hot path, over a blocking `TCPStream` in tools and harnesses, and over an in-memory pipe
/// in tests.
public enum Venues {}
