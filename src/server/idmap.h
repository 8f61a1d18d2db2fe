/* A small open-addressing hash map from non-zero 64-bit ids to pointers.
 * Used by the service glue to find a connection from the hub's connection id. */
#ifndef CAMRTC_SERVER_IDMAP_H
#define CAMRTC_SERVER_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sig_idmap_slot {
    uint64_t key;   /* 0 = empty, UINT64_MAX = deleted */
    void *val;
} sig_idmap_slot;

typedef struct sig_idmap {
    sig_idmap_slot *slots;
    size_t cap;     /* power of two */
    size_t used;    /* live + deleted */
    size_t live;
} sig_idmap;

/* Insert or replace key (key must be neither 0 nor UINT64_MAX). CAMRTC_OK or CAMRTC_ENOMEM. */
int sig_idmap_put(sig_idmap *m, uint64_t key, void *val);
/* The value for key, or NULL. */
void *sig_idmap_get(const sig_idmap *m, uint64_t key);
/* Remove key if present. */
void sig_idmap_del(sig_idmap *m, uint64_t key);
/* Release the table; m becomes empty and reusable. */
void sig_idmap_free(sig_idmap *m);

#endif
