#define _GNU_SOURCE
#include "CTickline.h"

#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

bool tickline_tsc_is_invariant(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) || eax < 0x80000007u) return false;
    if (!__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx)) return false;
    return (edx & (1u << 8)) != 0;
#elif defined(__aarch64__)
    return true;
#else
    return false;
#endif
}

int tickline_pin_current_thread(const int32_t *cpus, int32_t count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int32_t i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return EINVAL;
        CPU_SET(cpus[i], &set);
    }
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int32_t tickline_copy_set(const cpu_set_t *set, int32_t *out, int32_t capacity) {
    int32_t n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < capacity; cpu++) {
        if (CPU_ISSET(cpu, set)) out[n++] = cpu;
    }
    return n;
}

int32_t tickline_current_thread_affinity(int32_t *out, int32_t capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    int rc = pthread_getaffinity_np(pthread_self(), sizeof(set), &set);
    if (rc != 0) return -rc;
    return tickline_copy_set(&set, out, capacity);
}

int32_t tickline_process_affinity(int32_t *out, int32_t capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(getpid(), sizeof(set), &set) != 0) return -errno;
    return tickline_copy_set(&set, out, capacity);
}

int tickline_set_fifo_priority(int32_t priority) {
    struct sched_param param;
    memset(&param, 0, sizeof(param));
    param.sched_priority = priority;
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
}

int32_t tickline_current_sched_policy(void) {
    int policy = -1;
    struct sched_param param;
    if (pthread_getschedparam(pthread_self(), &policy, &param) != 0) return -1;
    return policy;
}

int tickline_lock_all_memory(void) {
    return mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : errno;
}

int tickline_set_thread_name(const char *name) {
    char buf[16];
    strncpy(buf, name, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = 0;
    return pthread_setname_np(pthread_self(), buf);
}

int32_t tickline_gettid(void) { return (int32_t)syscall(SYS_gettid); }

int32_t tickline_current_cpu(void) { return sched_getcpu(); }

_Static_assert(sizeof(tickline_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");
_Static_assert(offsetof(tickline_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "mmsghdr layout");

int tickline_sendmmsg(int fd, tickline_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

int tickline_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts;
    struct timespec *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000LL;
        ts.tv_nsec = timeout_ns % 1000000000LL;
        tsp = &ts;
    }
    long rc = syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
    return rc == 0 ? 0 : errno;
}

int32_t tickline_futex_wake(uint32_t *addr, int32_t count) {
    long rc = syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
    return rc >= 0 ? (int32_t)rc : -errno;
}

// ---- CRC-32C -------------------------------------------------------------------------------

static uint32_t tickline_crc32c_table[8][256];
static int tickline_crc32c_mode; // 0 = not chosen yet, 1 = software, 2 = hardware (atomic access)

static void tickline_crc32c_init_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        tickline_crc32c_table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = tickline_crc32c_table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = tickline_crc32c_table[0][crc & 0xff] ^ (crc >> 8);
            tickline_crc32c_table[k][n] = crc;
        }
    }
}

static pthread_once_t tickline_crc32c_once = PTHREAD_ONCE_INIT;

static void tickline_crc32c_choose(void) {
    tickline_crc32c_init_table();
#if defined(__x86_64__)
    __builtin_cpu_init();
    __atomic_store_n(&tickline_crc32c_mode, __builtin_cpu_supports("sse4.2") ? 2 : 1, __ATOMIC_RELEASE);
#else
    __atomic_store_n(&tickline_crc32c_mode, 1, __ATOMIC_RELEASE);
#endif
}

uint32_t tickline_crc32c_software(uint32_t crc, const void *data, size_t length) {
    pthread_once(&tickline_crc32c_once, tickline_crc32c_choose);
    const unsigned char *p = (const unsigned char *)data;
    crc = ~crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        uint32_t low = (uint32_t)word ^ crc, high = (uint32_t)(word >> 32);
        crc = tickline_crc32c_table[7][low & 0xff] ^ tickline_crc32c_table[6][(low >> 8) & 0xff] ^
              tickline_crc32c_table[5][(low >> 16) & 0xff] ^ tickline_crc32c_table[4][low >> 24] ^
              tickline_crc32c_table[3][high & 0xff] ^ tickline_crc32c_table[2][(high >> 8) & 0xff] ^
              tickline_crc32c_table[1][(high >> 16) & 0xff] ^ tickline_crc32c_table[0][high >> 24];
        p += 8;
        length -= 8;
    }
    while (length--) crc = tickline_crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t tickline_crc32c_sse42(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t c = (uint32_t)~crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        length -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (length--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}
#endif

uint32_t tickline_crc32c(uint32_t crc, const void *data, size_t length) {
    int mode = __atomic_load_n(&tickline_crc32c_mode, __ATOMIC_ACQUIRE);
    if (__builtin_expect(mode == 0, 0)) {
        pthread_once(&tickline_crc32c_once, tickline_crc32c_choose);
        mode = __atomic_load_n(&tickline_crc32c_mode, __ATOMIC_ACQUIRE);
    }
#if defined(__x86_64__)
    if (mode == 2) return tickline_crc32c_sse42(crc, data, length);
#endif
    return tickline_crc32c_software(crc, data, length);
}

bool tickline_crc32c_is_hardware(void) {
    pthread_once(&tickline_crc32c_once, tickline_crc32c_choose);
    return __atomic_load_n(&tickline_crc32c_mode, __ATOMIC_ACQUIRE) == 2;
}

// ---- signals -------------------------------------------------------------------------------

int tickline_block_sigpipe_in_thread(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

uint64_t tickline_heap_bytes_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return (uint64_t)info.uordblks + (uint64_t)info.hblkhd;
}
