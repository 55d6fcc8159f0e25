// thp-pages MIB ROUNDS — what a huge page changes for memory touched at random, the way the
// order books touch their slabs: MIB MiB advised MADV_HUGEPAGE against the same advised
// MADV_NOHUGEPAGE (independent of the host's THP mode, unless it is "never").
// For each: the first-touch (page fault) time per MiB, the huge pages obtained (AnonHugePages
// of the region, from /proc/self/smaps), and the latency of dependent random loads over the
// whole region (a pointer chase: each load's address comes from the previous load, so TLB
// misses and page walks are not hidden). ROUNDS alternates the two kinds; prints one line
// per round and kind.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

// kB of AnonHugePages in the mapping that contains addr.
static long huge_kb(void *addr) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512];
    int inside = 0;
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {      // a mapping's header line
            inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
            continue;
        }
        if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) break;
    }
    fclose(f);
    return kb;
}

static void run(size_t mib, int huge, int round) {
    size_t bytes = mib << 20, align = 2u << 20;
    char *raw = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) { perror("mmap"); exit(1); }
    uint64_t *p = (uint64_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    if (madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0) { perror("madvise"); exit(1); }

    size_t lines = bytes / 64;               // one slot per cache line
    double t0 = now();
    for (size_t i = 0; i < bytes / 8; i += 512) p[i] = 0;   // first touch, one store per 4 KiB
    double fault = now() - t0;

    // a random cycle over all cache lines (Sattolo), stored in the lines themselves
    uint32_t *order = malloc(lines * sizeof *order);
    for (size_t i = 0; i < lines; i++) order[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; i--) { size_t j = next() % i; uint32_t t = order[i]; order[i] = order[j]; order[j] = t; }
    for (size_t i = 0; i < lines; i++) p[(size_t)order[i] * 8] = (uint64_t)order[(i + 1) % lines] * 8;
    free(order);

    size_t steps = 20u * 1000 * 1000, at = 0;
    t0 = now();
    for (size_t i = 0; i < steps; i++) at = p[at];
    double chase = now() - t0;
    printf("round %d %-9s fault %7.1f us/MiB  huge %5ld MiB of %zu  random load %6.1f ns  (%zu)\n",
           round, huge ? "huge" : "4k", fault * 1e6 / mib, huge_kb(p) / 1024, mib, chase * 1e9 / steps, at & 1);
    munmap(raw, bytes + align);
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    for (int r = 1; r <= rounds; r++) {
        run(mib, r % 2, r);      // alternate which kind goes first
        run(mib, !(r % 2), r);
    }
    return 0;
}
