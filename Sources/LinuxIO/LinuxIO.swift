/// LinuxIO: io_uring sockets for the feed and the venues. Every system call goes through
/// Plumbing's `syscall` funnel (EINTR retried, errno captured first, typed errors).
public enum LinuxIO {}
