#include "CRingBaseline.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stddef.h>

typedef struct {
    _Alignas(128) _Atomic int64_t head;
    int64_t head_local;
    int64_t cached_tail;
    _Alignas(128) _Atomic int64_t tail;
    int64_t tail_local;
    int64_t cached_head;
} cring_index;

_Static_assert(offsetof(cring_index, head_local) == 8, "layout must match SPSCRing");
_Static_assert(offsetof(cring_index, cached_tail) == 16, "layout must match SPSCRing");
_Static_assert(offsetof(cring_index, tail) == 128, "layout must match SPSCRing");
_Static_assert(offsetof(cring_index, tail_local) == 136, "layout must match SPSCRing");
_Static_assert(offsetof(cring_index, cached_head) == 144, "layout must match SPSCRing");

struct cring {
    cring_index *index;
    cring_item *slots;
    int64_t mask;
    int owns;
};

static inline void cpu_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

cring *cring_create(int64_t capacity) {
    cring *ring = malloc(sizeof(cring));
    // Page-aligned, like Plumbing.SPSCRing.
    ring->index = aligned_alloc(4096, 4096);
    memset(ring->index, 0, 4096);
    size_t bytes = ((size_t)capacity * sizeof(cring_item) + 4095) / 4096 * 4096;
    ring->slots = aligned_alloc(4096, bytes);
    memset(ring->slots, 0, bytes);
    ring->mask = capacity - 1;
    ring->owns = 1;
    return ring;
}

cring *cring_attach(void *index_block, void *slots, int64_t capacity) {
    cring *ring = malloc(sizeof(cring));
    ring->index = index_block;
    ring->slots = slots;
    ring->mask = capacity - 1;
    ring->owns = 0;
    return ring;
}

void cring_destroy(cring *ring) {
    if (ring->owns) {
        free(ring->slots);
        free(ring->index);
    }
    free(ring);
}

/// A loop's private copy of the ring's constant fields (kept in registers, like the Swift
/// handles' stored pointers).
typedef struct {
    cring_index *r;
    cring_item *slots;
    int64_t mask;
} cring_view;

static inline cring_view view_of(const cring *ring) {
    cring_view v = {ring->index, ring->slots, ring->mask};
    return v;
}

static inline int try_push(cring_view v, const cring_item *item) {
    cring_index *r = v.r;
    int64_t h = r->head_local;
    if (h - r->cached_tail > v.mask) {
        r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (h - r->cached_tail > v.mask) return 0;
    }
    v.slots[h & v.mask] = *item;
    r->head_local = h + 1;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return 1;
}

static inline int try_pop(cring_view v, cring_item *out) {
    cring_index *r = v.r;
    int64_t t = r->tail_local;
    if (t == r->cached_head) {
        r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (t == r->cached_head) return 0;
    }
    *out = v.slots[t & v.mask];
    r->tail_local = t + 1;
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return 1;
}

static inline cring_item make_item(uint64_t seq) {
    cring_item item = {{seq, ~seq, seq * 3, seq ^ 0x5555, 0, 0, 0, seq}};
    return item;
}

uint64_t cring_push_pop(cring *ring, uint64_t n) {
    const cring_view v = view_of(ring);
    uint64_t sum = 0;
    cring_item out;
    for (uint64_t i = 0; i < n; i++) {
        cring_item item = make_item(i);
        try_push(v, &item);
        try_pop(v, &out);
        sum += out.w[0] + out.w[2];
    }
    return sum;
}

uint64_t cring_push_pop_batch(cring *ring, uint64_t n, int64_t batch) {
    const cring_view v = view_of(ring);
    uint64_t sum = 0;
    cring_item out;
    for (uint64_t i = 0; i < n; i += (uint64_t)batch) {
        for (int64_t j = 0; j < batch; j++) {
            cring_item item = make_item(i + (uint64_t)j);
            try_push(v, &item);
        }
        for (int64_t j = 0; j < batch; j++) {
            try_pop(v, &out);
            sum += out.w[0] + out.w[2];
        }
    }
    return sum;
}

void cring_produce(cring *ring, uint64_t n) {
    const cring_view v = view_of(ring);
    for (uint64_t i = 0; i < n; i++) {
        cring_item item = make_item(i);
        while (!try_push(v, &item)) cpu_pause();
    }
}

uint64_t cring_consume(cring *ring, uint64_t n, uint64_t *errors) {
    const cring_view v = view_of(ring);
    uint64_t sum = 0, bad = 0;
    cring_item out;
    for (uint64_t i = 0; i < n; i++) {
        while (!try_pop(v, &out)) cpu_pause();
        if (out.w[0] != i) bad++;
        sum += out.w[0] + out.w[2];
    }
    *errors = bad;
    return sum;
}

void cring_pong(cring *in, cring *out, uint64_t n) {
    const cring_view vin = view_of(in), vout = view_of(out);
    cring_item item;
    for (uint64_t i = 0; i < n; i++) {
        while (!try_pop(vin, &item)) cpu_pause();
        while (!try_push(vout, &item)) cpu_pause();
    }
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void cring_ping(cring *out, cring *in, uint64_t n, uint64_t *samples) {
    const cring_view vin = view_of(in), vout = view_of(out);
    cring_item item, reply;
    for (uint64_t i = 0; i < n; i++) {
        item = make_item(i);
        uint64_t start = now_ns();
        item.w[7] = start;
        while (!try_push(vout, &item)) cpu_pause();
        while (!try_pop(vin, &reply)) cpu_pause();
        samples[i] = now_ns() - reply.w[7];
    }
}
