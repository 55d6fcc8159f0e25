#include "CRingBaseline.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cring {
    _Alignas(128) _Atomic int64_t head;
    int64_t head_local;
    int64_t cached_tail;
    _Alignas(128) _Atomic int64_t tail;
    int64_t tail_local;
    int64_t cached_head;
    _Alignas(128) int64_t mask;
    cring_item *slots;
};

static inline void cpu_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

cring *cring_create(int64_t capacity) {
    cring *ring = aligned_alloc(128, sizeof(cring));
    memset(ring, 0, sizeof(cring));
    ring->mask = capacity - 1;
    ring->slots = aligned_alloc(128, (size_t)capacity * sizeof(cring_item));
    memset(ring->slots, 0, (size_t)capacity * sizeof(cring_item));
    return ring;
}

void cring_destroy(cring *ring) {
    free(ring->slots);
    free(ring);
}

static inline int try_push(cring *r, const cring_item *item) {
    int64_t h = r->head_local;
    if (h - r->cached_tail > r->mask) {
        r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (h - r->cached_tail > r->mask) return 0;
    }
    r->slots[h & r->mask] = *item;
    r->head_local = h + 1;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return 1;
}

static inline int try_pop(cring *r, cring_item *out) {
    int64_t t = r->tail_local;
    if (t == r->cached_head) {
        r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (t == r->cached_head) return 0;
    }
    *out = r->slots[t & r->mask];
    r->tail_local = t + 1;
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return 1;
}

static inline cring_item make_item(uint64_t seq) {
    cring_item item = {{seq, ~seq, seq * 3, seq ^ 0x5555, 0, 0, 0, seq}};
    return item;
}

uint64_t cring_push_pop(cring *ring, uint64_t n) {
    uint64_t sum = 0;
    cring_item out;
    for (uint64_t i = 0; i < n; i++) {
        cring_item item = make_item(i);
        try_push(ring, &item);
        try_pop(ring, &out);
        sum += out.w[0] + out.w[2];
    }
    return sum;
}

uint64_t cring_push_pop_batch(cring *ring, uint64_t n, int64_t batch) {
    uint64_t sum = 0;
    cring_item out;
    for (uint64_t i = 0; i < n; i += (uint64_t)batch) {
        for (int64_t j = 0; j < batch; j++) {
            cring_item item = make_item(i + (uint64_t)j);
            try_push(ring, &item);
        }
        for (int64_t j = 0; j < batch; j++) {
            try_pop(ring, &out);
            sum += out.w[0] + out.w[2];
        }
    }
    return sum;
}

void cring_produce(cring *ring, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) {
        cring_item item = make_item(i);
        while (!try_push(ring, &item)) cpu_pause();
    }
}

uint64_t cring_consume(cring *ring, uint64_t n, uint64_t *errors) {
    uint64_t sum = 0, bad = 0;
    cring_item out;
    for (uint64_t i = 0; i < n; i++) {
        while (!try_pop(ring, &out)) cpu_pause();
        if (out.w[0] != i) bad++;
        sum += out.w[0] + out.w[2];
    }
    *errors = bad;
    return sum;
}

void cring_pong(cring *in, cring *out, uint64_t n) {
    cring_item item;
    for (uint64_t i = 0; i < n; i++) {
        while (!try_pop(in, &item)) cpu_pause();
        while (!try_push(out, &item)) cpu_pause();
    }
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void cring_ping(cring *out, cring *in, uint64_t n, uint64_t *samples) {
    cring_item item, reply;
    for (uint64_t i = 0; i < n; i++) {
        item = make_item(i);
        uint64_t start = now_ns();
        item.w[7] = start;
        while (!try_push(out, &item)) cpu_pause();
        while (!try_pop(in, &reply)) cpu_pause();
        samples[i] = now_ns() - reply.w[7];
    }
}
