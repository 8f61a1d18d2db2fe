#include "camrtc/str.h"

#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "camrtc/error.h"

int camrtc_strlcpy(char *dst, const char *src, size_t dstsz)
{
    if (dstsz == 0)
        return CAMRTC_ETOOBIG;
    size_t n = strlen(src);
    if (n >= dstsz) {
        memcpy(dst, src, dstsz - 1);
        dst[dstsz - 1] = '\0';
        return CAMRTC_ETOOBIG;
    }
    memcpy(dst, src, n + 1);
    return CAMRTC_OK;
}

bool camrtc_streq_nocase(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

const char *camrtc_kv_get(const camrtc_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (kv[i].name && strcasecmp(kv[i].name, name) == 0)
            return kv[i].value;
    return NULL;
}

bool camrtc_str_is_name(const char *s, size_t len, size_t maxlen)
{
    if (!s || len == 0 || len > maxlen)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

bool camrtc_mem_equal_ct(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= (uint8_t)(x[i] ^ y[i]);
    return acc == 0;
}

void camrtc_errf(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}
