/* SPSC ring: see include/camrtc/ring.h.
 *
 * head counts items ever pushed (written only by the producer), tail counts items ever
 * popped (written only by the consumer). Both grow without bound (size_t wraps, and the
 * differences stay right because capacity is a power of two), so full is
 * head - tail == capacity and empty is head == tail: no slot is wasted.
 *
 * Ordering: the producer writes the slot, then stores head with release; the consumer
 * loads head with acquire before reading the slot. Symmetrically the consumer stores
 * tail with release after it is done with a slot, and the producer loads tail with
 * acquire before reusing it. Each side keeps a private copy of the other's index and
 * only reloads it when the cached value says full/empty, which keeps the shared cache
 * lines from bouncing on every call.
 */
#include "camrtc/ring.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RING_CACHE_LINE 64

struct camrtc_ring {
    /* Producer's line: its index and its view of the consumer's. */
    alignas(RING_CACHE_LINE) _Atomic size_t head;
    size_t tail_cache;
    /* Consumer's line. */
    alignas(RING_CACHE_LINE) _Atomic size_t tail;
    size_t head_cache;
    /* Read-only after creation. */
    alignas(RING_CACHE_LINE) size_t mask;
    size_t item_size;
    unsigned char *slots;
};

camrtc_ring *camrtc_ring_new(size_t capacity, size_t item_size)
{
    if (capacity == 0 || item_size == 0 || capacity > CAMRTC_RING_MAX_CAPACITY)
        return NULL;
    size_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    if (item_size > SIZE_MAX / cap)
        return NULL;
    camrtc_ring *r = aligned_alloc(RING_CACHE_LINE, sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->slots = calloc(cap, item_size);
    if (!r->slots) {
        free(r);
        return NULL;
    }
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->mask = cap - 1;
    r->item_size = item_size;
    return r;
}

void camrtc_ring_free(camrtc_ring *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r);
}

void *camrtc_ring_push_slot(camrtc_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head - r->tail_cache > r->mask) {
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - r->tail_cache > r->mask)
            return NULL;
    }
    return r->slots + (head & r->mask) * r->item_size;
}

void camrtc_ring_push_commit(camrtc_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

bool camrtc_ring_push(camrtc_ring *r, const void *item)
{
    void *slot = camrtc_ring_push_slot(r);
    if (!slot)
        return false;
    memcpy(slot, item, r->item_size);
    camrtc_ring_push_commit(r);
    return true;
}

void *camrtc_ring_peek(camrtc_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail == r->head_cache) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail == r->head_cache)
            return NULL;
    }
    return r->slots + (tail & r->mask) * r->item_size;
}

void camrtc_ring_pop(camrtc_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    /* Popping an empty ring is a caller bug; refuse rather than corrupt the indices. */
    if (tail == r->head_cache) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail == r->head_cache)
            return;
    }
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

bool camrtc_ring_pop_copy(camrtc_ring *r, void *item)
{
    void *slot = camrtc_ring_peek(r);
    if (!slot)
        return false;
    memcpy(item, slot, r->item_size);
    camrtc_ring_pop(r);
    return true;
}

size_t camrtc_ring_count(const camrtc_ring *r)
{
    /* Load tail first: head only grows, so the difference can never go negative. */
    size_t tail = atomic_load_explicit(&((camrtc_ring *)r)->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&((camrtc_ring *)r)->head, memory_order_acquire);
    /* Seen from the consumer side the producer may have pushed again between the two
     * loads after a pop; clamp so a snapshot never claims more than fits. */
    size_t n = head - tail;
    return n > r->mask + 1 ? r->mask + 1 : n;
}

size_t camrtc_ring_capacity(const camrtc_ring *r)
{
    return r->mask + 1;
}
