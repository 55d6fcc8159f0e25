// The same SPSC ring algorithm as Plumbing.SPSCRing, in C11, as the comparison target for
// the benchmarks: producer and consumer lines 128 bytes apart, private copies of each side's
// own index, a cached copy of the peer's index refreshed only on apparent full/empty,
// release stores to publish and acquire loads to observe. Whole measurement loops are in C
// so that no Swift↔C call sits inside them.
#pragma once
#include <stdint.h>

typedef struct { uint64_t w[8]; } cring_item;  // 64 bytes, the size of MarketEvent

/// The index block, byte for byte the layout of Plumbing.SPSCRing's (head 0, headLocal 8,
/// cachedTail 16, tail 128, tailLocal 136, cachedHead 144).
typedef struct cring cring;

/// A ring with its own page-aligned memory.
cring *cring_create(int64_t capacity);
/// A C view over an SPSCRing's index and slot blocks: both languages then run over the very
/// same memory, so the comparison is free of placement effects.
cring *cring_attach(void *index_block, void *slots, int64_t capacity);
void cring_destroy(cring *ring);

/// Single thread: push one, pop one, `n` times. Returns a checksum of what was popped.
uint64_t cring_push_pop(cring *ring, uint64_t n);
/// Single thread: push a batch of `batch`, pop it, until `n` items. Returns a checksum.
uint64_t cring_push_pop_batch(cring *ring, uint64_t n, int64_t batch);
/// Producer side of the one-way test: `n` items with sequence numbers, spinning when full.
void cring_produce(cring *ring, uint64_t n);
/// Consumer side of the one-way test: returns a checksum; counts sequence errors in *errors.
uint64_t cring_consume(cring *ring, uint64_t n, uint64_t *errors);
/// Echo `n` items from `in` to `out`.
void cring_pong(cring *in, cring *out, uint64_t n);
/// Send `n` timestamped items on `out`, wait for each echo on `in`, write each round trip
/// (CLOCK_MONOTONIC ns) into `samples`.
void cring_ping(cring *out, cring *in, uint64_t n, uint64_t *samples);
