/* The SPSC ring: single-thread semantics, then two threads hammering it (run this one
 * under ThreadSanitizer too: a missing acquire/release shows up as a data race on the
 * slot contents). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "camrtc/ring.h"
#include "check.h"

TEST(ring_rejects_zero_and_absurd_sizes)
{
    CHECK(camrtc_ring_new(0, 8) == NULL);
    CHECK(camrtc_ring_new(8, 0) == NULL);
    CHECK(camrtc_ring_new(CAMRTC_RING_MAX_CAPACITY + 1, 8) == NULL);
    CHECK(camrtc_ring_new(4, SIZE_MAX / 2) == NULL); /* capacity x item_size overflows */
}

TEST(ring_capacity_rounds_up_to_power_of_two)
{
    camrtc_ring *r = camrtc_ring_new(5, 4);
    CHECK(r);
    CHECK_EQ_INT(camrtc_ring_capacity(r), 8);
    camrtc_ring_free(r);
    r = camrtc_ring_new(1, 4);
    CHECK(r);
    CHECK_EQ_INT(camrtc_ring_capacity(r), 2);
    camrtc_ring_free(r);
    r = camrtc_ring_new(16, 4);
    CHECK(r);
    CHECK_EQ_INT(camrtc_ring_capacity(r), 16);
    camrtc_ring_free(r);
}

TEST(ring_empty_then_full)
{
    camrtc_ring *r = camrtc_ring_new(4, sizeof(uint32_t));
    CHECK(r);
    uint32_t v = 0;
    CHECK(camrtc_ring_peek(r) == NULL);
    CHECK(!camrtc_ring_pop_copy(r, &v));
    camrtc_ring_pop(r); /* popping an empty ring is a no-op */
    CHECK_EQ_INT(camrtc_ring_count(r), 0);
    for (uint32_t i = 0; i < 4; i++)
        CHECK(camrtc_ring_push(r, &i));
    CHECK_EQ_INT(camrtc_ring_count(r), 4);
    uint32_t extra = 99;
    CHECK(!camrtc_ring_push(r, &extra));
    CHECK(camrtc_ring_push_slot(r) == NULL);
    for (uint32_t i = 0; i < 4; i++) {
        CHECK(camrtc_ring_pop_copy(r, &v));
        CHECK_EQ_INT(v, i);
    }
    CHECK(!camrtc_ring_pop_copy(r, &v));
    CHECK_EQ_INT(camrtc_ring_count(r), 0);
    camrtc_ring_free(r);
}

TEST(ring_wraps_around_many_times)
{
    camrtc_ring *r = camrtc_ring_new(4, sizeof(uint64_t));
    CHECK(r);
    uint64_t next_in = 0, next_out = 0;
    /* Push 3 / pop 2 / push 1 / pop 2 ... so the indices cross the end at every offset. */
    for (int round = 0; round < 1000; round++) {
        int pushes = 1 + round % 3, pops = 1 + (round + 1) % 3;
        for (int i = 0; i < pushes; i++)
            if (camrtc_ring_push(r, &next_in))
                next_in++;
        for (int i = 0; i < pops; i++) {
            uint64_t v;
            if (!camrtc_ring_pop_copy(r, &v))
                break;
            CHECK_EQ_INT(v, next_out);
            next_out++;
        }
        CHECK(camrtc_ring_count(r) <= 4);
        CHECK_EQ_INT(camrtc_ring_count(r), next_in - next_out);
    }
    CHECK(next_out > 1000);
    camrtc_ring_free(r);
}

typedef struct item {
    uint64_t seq;
    char tag[24];
} item;

TEST(ring_slot_commit_and_peek_in_place)
{
    camrtc_ring *r = camrtc_ring_new(2, sizeof(item));
    CHECK(r);
    item *s = camrtc_ring_push_slot(r);
    CHECK(s);
    s->seq = 7;
    strcpy(s->tag, "seven");
    /* Not visible until committed. */
    CHECK(camrtc_ring_peek(r) == NULL);
    camrtc_ring_push_commit(r);
    item *p = camrtc_ring_peek(r);
    CHECK(p);
    CHECK_EQ_INT(p->seq, 7);
    CHECK_EQ_STR(p->tag, "seven");
    /* Peek twice gives the same item; pop releases it. */
    CHECK(camrtc_ring_peek(r) == p);
    camrtc_ring_pop(r);
    CHECK(camrtc_ring_peek(r) == NULL);
    camrtc_ring_free(r);
}

/* ---- two threads ---------------------------------------------------------------- */

#define STRESS_N 1000000u

typedef struct stress {
    camrtc_ring *r;
    bool drop_when_full;          /* else the producer retries */
    atomic_bool done;
    uint64_t drops;               /* producer only */
    uint64_t received;            /* consumer only */
    uint64_t out_of_order;        /* consumer only */
    uint64_t bad_payload;         /* consumer only */
} stress;

static void *stress_producer(void *arg)
{
    stress *st = arg;
    for (uint64_t i = 0; i < STRESS_N; i++) {
        for (;;) {
            item *s = camrtc_ring_push_slot(st->r);
            if (s) {
                s->seq = i;
                /* A payload derived from seq: a torn or early read shows up as a mismatch. */
                memset(s->tag, (int)(i & 0x7f), sizeof s->tag);
                camrtc_ring_push_commit(st->r);
                break;
            }
            if (st->drop_when_full) {
                st->drops++;
                break;
            }
            sched_yield();
        }
    }
    atomic_store(&st->done, true);
    return NULL;
}

static void stress_consume_one(stress *st, uint64_t *last, bool *have_last)
{
    item *p = camrtc_ring_peek(st->r);
    if (*have_last && p->seq <= *last)
        st->out_of_order++;
    if (!st->drop_when_full && (*have_last ? p->seq != *last + 1 : p->seq != 0))
        st->out_of_order++;
    for (size_t k = 0; k < sizeof p->tag; k++)
        if (p->tag[k] != (char)(p->seq & 0x7f)) {
            st->bad_payload++;
            break;
        }
    *last = p->seq;
    *have_last = true;
    st->received++;
    camrtc_ring_pop(st->r);
}

static void run_stress(stress *st)
{
    pthread_t th;
    uint64_t last = 0;
    bool have_last = false;
    if (pthread_create(&th, NULL, stress_producer, st) != 0) {
        st->bad_payload = UINT64_MAX;
        return;
    }
    /* Ends once the producer is done and the ring is drained: the producer's loop is
     * bounded, so this one is too. */
    for (;;) {
        bool done = atomic_load(&st->done);
        if (camrtc_ring_peek(st->r))
            stress_consume_one(st, &last, &have_last);
        else if (done)
            break;
        else
            sched_yield(); /* empty: let the producer run (matters on a busy 2-CPU box) */
    }
    pthread_join(th, NULL);
}

TEST(ring_two_threads_lossless_in_order)
{
    stress st = {.r = camrtc_ring_new(64, sizeof(item)), .drop_when_full = false};
    CHECK(st.r);
    atomic_init(&st.done, false);
    run_stress(&st);
    camrtc_ring_free(st.r);
    CHECK_EQ_INT(st.bad_payload, 0);
    CHECK_EQ_INT(st.out_of_order, 0);
    CHECK_EQ_INT(st.drops, 0);
    CHECK_EQ_INT(st.received, STRESS_N);
}

TEST(ring_two_threads_dropping_counts_every_loss)
{
    /* A tiny ring so the producer hits full often. */
    stress st = {.r = camrtc_ring_new(4, sizeof(item)), .drop_when_full = true};
    CHECK(st.r);
    atomic_init(&st.done, false);
    run_stress(&st);
    camrtc_ring_free(st.r);
    CHECK_EQ_INT(st.bad_payload, 0);
    CHECK_EQ_INT(st.out_of_order, 0);
    CHECK_EQ_INT(st.received + st.drops, STRESS_N);
    CHECK(st.received > 0);
}

int main(void)
{
    return RUN_TESTS(ring_rejects_zero_and_absurd_sizes, ring_capacity_rounds_up_to_power_of_two,
                     ring_empty_then_full, ring_wraps_around_many_times,
                     ring_slot_commit_and_peek_in_place, ring_two_threads_lossless_in_order,
                     ring_two_threads_dropping_counts_every_loss);
}
