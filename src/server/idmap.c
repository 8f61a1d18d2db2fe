#include "server/idmap.h"

#include <stdlib.h>

#include "camrtc/error.h"

#define DELETED UINT64_MAX

static size_t slot_of(uint64_t key, size_t cap)
{
    /* Fibonacci hashing spreads sequential ids. */
    return (size_t)((key * 11400714819323198485ull) >> 20) & (cap - 1);
}

static int grow(sig_idmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    if (m->live * 4 < m->cap)   /* mostly tombstones: rehash at the same size */
        ncap = m->cap;
    sig_idmap_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return CAMRTC_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        uint64_t k = m->slots[i].key;
        if (k == 0 || k == DELETED)
            continue;
        size_t j = slot_of(k, ncap);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->used = m->live;
    return CAMRTC_OK;
}

int sig_idmap_put(sig_idmap *m, uint64_t key, void *val)
{
    if (key == 0 || key == DELETED)
        return CAMRTC_EINVAL;
    if ((m->used + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc < 0)
            return rc;
    }
    size_t j = slot_of(key, m->cap), tomb = SIZE_MAX;
    for (;;) {
        uint64_t k = m->slots[j].key;
        if (k == key) {
            m->slots[j].val = val;
            return CAMRTC_OK;
        }
        if (k == DELETED && tomb == SIZE_MAX)
            tomb = j;
        if (k == 0)
            break;
        j = (j + 1) & (m->cap - 1);
    }
    if (tomb != SIZE_MAX) {
        j = tomb;
    } else {
        m->used++;
    }
    m->slots[j].key = key;
    m->slots[j].val = val;
    m->live++;
    return CAMRTC_OK;
}

void *sig_idmap_get(const sig_idmap *m, uint64_t key)
{
    if (!m->cap || key == 0 || key == DELETED)
        return NULL;
    size_t j = slot_of(key, m->cap);
    for (size_t n = 0; n < m->cap; n++) {
        uint64_t k = m->slots[j].key;
        if (k == key)
            return m->slots[j].val;
        if (k == 0)
            return NULL;
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

void sig_idmap_del(sig_idmap *m, uint64_t key)
{
    if (!m->cap || key == 0 || key == DELETED)
        return;
    size_t j = slot_of(key, m->cap);
    for (size_t n = 0; n < m->cap; n++) {
        uint64_t k = m->slots[j].key;
        if (k == key) {
            m->slots[j].key = DELETED;
            m->slots[j].val = NULL;
            m->live--;
            return;
        }
        if (k == 0)
            return;
        j = (j + 1) & (m->cap - 1);
    }
}

void sig_idmap_free(sig_idmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->used = m->live = 0;
}
