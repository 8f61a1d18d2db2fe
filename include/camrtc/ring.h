/* Single-producer/single-consumer lock-free ring of fixed-size slots (C11 atomics).
 *
 * One thread pushes, one other thread pops; neither blocks, locks or allocates once the
 * ring exists. Capacity is a power of two; the head and tail indices sit on their own
 * cache lines. Slots hold items by value (size fixed at creation), so pointers to frame
 * buffers or small structs travel without a copy of the payload.
 *
 * The producer claims a slot with camrtc_ring_push_slot, fills it, and publishes it with
 * camrtc_ring_push_commit (release store); the consumer reads with camrtc_ring_peek and
 * releases with camrtc_ring_pop (acquire load on the other side). camrtc_ring_push and
 * camrtc_ring_pop_copy are the copying shorthands.
 */
#ifndef CAMRTC_RING_H
#define CAMRTC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_ring camrtc_ring;

/* Create a ring of capacity slots (rounded up to a power of two, >= 2) of item_size bytes.
 * NULL on allocation failure, a zero size, or a capacity above CAMRTC_RING_MAX_CAPACITY. */
#define CAMRTC_RING_MAX_CAPACITY ((size_t)1 << 24)
camrtc_ring *camrtc_ring_new(size_t capacity, size_t item_size);

/* Free a ring no thread is using any more. */
void camrtc_ring_free(camrtc_ring *r);

/* Producer: a free slot to fill, or NULL when the ring is full. */
void *camrtc_ring_push_slot(camrtc_ring *r);
/* Producer: publish the slot returned by the last push_slot. */
void camrtc_ring_push_commit(camrtc_ring *r);
/* Producer: copy item in; false when full. */
bool camrtc_ring_push(camrtc_ring *r, const void *item);

/* Consumer: the oldest item, or NULL when empty (stays until camrtc_ring_pop). */
void *camrtc_ring_peek(camrtc_ring *r);
/* Consumer: release the oldest item (nothing happens when the ring is empty). */
void camrtc_ring_pop(camrtc_ring *r);
/* Consumer: copy the oldest item out and release it; false when empty. */
bool camrtc_ring_pop_copy(camrtc_ring *r, void *item);

/* Items present (exact for the calling side, a snapshot for the other). */
size_t camrtc_ring_count(const camrtc_ring *r);
size_t camrtc_ring_capacity(const camrtc_ring *r);

#ifdef __cplusplus
}
#endif
#endif
