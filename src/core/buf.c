#include "camrtc/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"

int camrtc_buf_init(camrtc_buf *b, size_t headroom, size_t cap)
{
    size_t max_cap = b->max_cap;
    memset(b, 0, sizeof *b);
    b->max_cap = max_cap;
    if (headroom + cap == 0)
        return CAMRTC_OK;
    b->mem = malloc(headroom + cap);
    if (!b->mem)
        return CAMRTC_ENOMEM;
    b->cap = headroom + cap;
    b->off = headroom;
    return CAMRTC_OK;
}

int camrtc_buf_reserve(camrtc_buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->off - b->len)
        return CAMRTC_ETOOBIG;
    size_t need = b->off + b->len + extra;
    if (need <= b->cap)
        return CAMRTC_OK;
    /* Reclaim headroom left by consume() before growing. */
    if (b->off > 0 && b->len + extra <= b->cap && b->off >= b->cap / 2) {
        memmove(b->mem, b->mem + b->off, b->len);
        b->off = 0;
        return CAMRTC_OK;
    }
    if (b->max_cap && need > b->max_cap)
        return CAMRTC_ETOOBIG;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap *= 2;
    if (b->max_cap && ncap > b->max_cap)
        ncap = b->max_cap;
    uint8_t *m = realloc(b->mem, ncap);
    if (!m)
        return CAMRTC_ENOMEM;
    b->mem = m;
    b->cap = ncap;
    return CAMRTC_OK;
}

int camrtc_buf_append(camrtc_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return CAMRTC_OK;
    int rc = camrtc_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    memcpy(b->mem + b->off + b->len, p, n);
    b->len += n;
    return CAMRTC_OK;
}

int camrtc_buf_append_str(camrtc_buf *b, const char *s)
{
    return camrtc_buf_append(b, s, strlen(s));
}

int camrtc_buf_appendf(camrtc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CAMRTC_EINVAL;
    if ((size_t)n < sizeof small)
        return camrtc_buf_append(b, small, (size_t)n);
    int rc = camrtc_buf_reserve(b, (size_t)n + 1);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->mem + b->off + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CAMRTC_OK;
}

int camrtc_buf_prepend(camrtc_buf *b, const void *p, size_t n)
{
    if (n > b->off)
        return CAMRTC_ETOOBIG;
    b->off -= n;
    b->len += n;
    memcpy(b->mem + b->off, p, n);
    return CAMRTC_OK;
}

void camrtc_buf_consume(camrtc_buf *b, size_t n)
{
    if (n >= b->len) {
        b->off = 0;
        b->len = 0;
        return;
    }
    b->off += n;
    b->len -= n;
}

char *camrtc_buf_cstr(camrtc_buf *b)
{
    if (camrtc_buf_reserve(b, 1) < 0)
        return NULL;
    b->mem[b->off + b->len] = '\0';
    return (char *)b->mem + b->off;
}

void camrtc_buf_reset(camrtc_buf *b)
{
    b->off = 0;
    b->len = 0;
}

void camrtc_buf_free(camrtc_buf *b)
{
    size_t max_cap = b->max_cap;
    free(b->mem);
    memset(b, 0, sizeof *b);
    b->max_cap = max_cap;
}
