// CTickline: the few things Swift cannot import directly from glibc on Linux
// (functions behind _GNU_SOURCE, compiler builtins, raw syscalls without a libc wrapper).
// Every symbol is prefixed `tickline_`. Functions return 0 on success or a positive errno.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CPU pause hint for spin loops (x86 PAUSE, Arm YIELD).
static inline __attribute__((always_inline)) void tickline_cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/// Software prefetch of the cache line holding `address` for reading (no fault if invalid).
static inline __attribute__((always_inline)) void tickline_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Software prefetch for writing.
static inline __attribute__((always_inline)) void tickline_prefetch_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Raw time-stamp counter. Not serialising: use for intervals in a pinned thread.
static inline __attribute__((always_inline)) uint64_t tickline_rdtsc(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return 0;
#endif
}

/// True when the CPU reports an invariant TSC (CPUID 0x80000007 EDX bit 8) on x86,
/// or a generic timer on Arm (always constant rate).
bool tickline_tsc_is_invariant(void);

/// Pins the calling thread to the given CPUs (pthread_setaffinity_np).
int tickline_pin_current_thread(const int32_t *cpus, int32_t count);

/// Writes the calling thread's affinity CPUs into `out` (up to `capacity`);
/// returns the number written, or a negative errno.
int32_t tickline_current_thread_affinity(int32_t *out, int32_t capacity);

/// Writes the CPUs of the process affinity mask (sched_getaffinity of the process) into `out`.
int32_t tickline_process_affinity(int32_t *out, int32_t capacity);

/// Sets SCHED_FIFO with `priority` on the calling thread (needs CAP_SYS_NICE or RLIMIT_RTPRIO).
int tickline_set_fifo_priority(int32_t priority);

/// The calling thread's scheduling policy (SCHED_OTHER = 0, SCHED_FIFO = 1, ...), or -1.
int32_t tickline_current_sched_policy(void);

/// mlockall(MCL_CURRENT | MCL_FUTURE): keep every page resident (no page faults on the hot path).
int tickline_lock_all_memory(void);

/// Names the calling thread (15 characters at most are kept by Linux).
int tickline_set_thread_name(const char *name);

/// Kernel thread id of the calling thread.
int32_t tickline_gettid(void);

/// The CPU the calling thread runs on now (sched_getcpu), or -1.
int32_t tickline_current_cpu(void);

/// futex(FUTEX_WAIT_PRIVATE): sleeps while *addr == expected. timeout_ns < 0 waits forever.
/// Returns 0 when woken, EAGAIN when *addr != expected, ETIMEDOUT, or EINTR.
int tickline_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns);

/// futex(FUTEX_WAKE_PRIVATE): wakes up to `count` waiters; returns how many were woken, or -errno.
int32_t tickline_futex_wake(uint32_t *addr, int32_t count);

/// The kernel's `struct mmsghdr`, which glibc declares only under _GNU_SOURCE (and no module
/// Swift imports may define that: see CLiburing's shim). Layout asserted in CTickline.c.
typedef struct tickline_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} tickline_mmsghdr;

/// sendmmsg(2). Returns the number of messages sent, or -1 with errno set.
int tickline_sendmmsg(int fd, tickline_mmsghdr *messages, unsigned int count, int flags);

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `length` bytes, continuing from
/// `crc` (pass 0 to start). Uses the SSE4.2 `crc32` instruction when the CPU has it (checked
/// once), a slicing-by-8 table otherwise; both give the same result. Standard check value:
/// tickline_crc32c(0, "123456789", 9) == 0xE3069283.
uint32_t tickline_crc32c(uint32_t crc, const void *data, size_t length);

/// The software path of tickline_crc32c, always (tests compare the two).
uint32_t tickline_crc32c_software(uint32_t crc, const void *data, size_t length);

/// True when tickline_crc32c uses the hardware instruction.
bool tickline_crc32c_is_hardware(void);

/// Blocks SIGPIPE for the calling thread only (pthread_sigmask), so a write to a socket the
/// peer closed fails with EPIPE instead of killing the process (what libpq does internally;
/// hiredis does not). Returns 0 or a positive errno.
int tickline_block_sigpipe_in_thread(void);

/// Bytes the C heap has handed out and not had back (glibc mallinfo2: arena bytes in use plus
/// mmapped blocks), for endurance monitors. Cold path: it walks the arenas.
uint64_t tickline_heap_bytes_in_use(void);

#ifdef __cplusplus
}
#endif
