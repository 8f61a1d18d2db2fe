/* Shared by the HTTP parser fuzz targets: what one parsed message looked like
 * (its outcome, where it ended, a hash of every field), so a run fed whole and
 * a run fed in pieces can be compared. Broken invariants abort(), which
 * libFuzzer reports as a crash. */
#ifndef CAMRTC_FUZZ_HTTP_COMMON_H
#define CAMRTC_FUZZ_HTTP_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/http.h"

#define MAX_RECORDS 64

typedef struct {
    int rc;
    size_t end;
    uint64_t hash;
} record;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv(h, s, strlen(s) + 1);
}

static uint64_t msg_hash(const camrtc_http_msg *m)
{
    if (m->n_headers > CAMRTC_HTTP_MAX_HEADERS || m->body[m->body_len] != '\0')
        abort();
    uint64_t h = 14695981039346656037ull;
    h = fnv_str(h, m->method);
    h = fnv_str(h, m->target);
    h = fnv_str(h, m->path);
    h = fnv_str(h, m->query);
    h = fnv_str(h, m->reason);
    int v[4] = {m->status, m->version_minor, m->keep_alive, m->upgrade};
    h = fnv(h, v, sizeof v);
    for (size_t i = 0; i < m->n_headers; i++) {
        if (!m->headers[i].name[0])
            abort();
        h = fnv_str(h, m->headers[i].name);
        h = fnv_str(h, m->headers[i].value);
    }
    return fnv(h, m->body, m->body_len);
}

#endif
