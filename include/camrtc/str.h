/* Small string helpers shared by the protocol modules.
 *
 * camrtc_kv is a borrowed name/value pair (HTTP headers, query parameters):
 * it never owns its strings.
 */
#ifndef CAMRTC_STR_H
#define CAMRTC_STR_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_kv {
    const char *name;
    const char *value;
} camrtc_kv;

/* Copy src into dst of size dstsz, always NUL-terminating when dstsz > 0.
 * Returns CAMRTC_OK, or CAMRTC_ETOOBIG when src did not fit (dst then holds a
 * truncated copy). */
int camrtc_strlcpy(char *dst, const char *src, size_t dstsz);

/* ASCII case-insensitive equality of two NUL-terminated strings. */
bool camrtc_streq_nocase(const char *a, const char *b);

/* Value of the first pair whose name equals name case-insensitively, or NULL. */
const char *camrtc_kv_get(const camrtc_kv *kv, size_t n, const char *name);

/* True when every byte of s[0..len) is in [A-Za-z0-9_.-] and 1 <= len <= maxlen
 * (the character set of KVS channel names and client ids). */
bool camrtc_str_is_name(const char *s, size_t len, size_t maxlen);

/* Constant-time comparison of n bytes; true when equal. */
bool camrtc_mem_equal_ct(const void *a, const void *b, size_t n);

/* Write a printf-formatted one-line error reason into err[0..errsz) (truncated, always
 * NUL-terminated); nothing when err is NULL or errsz is 0. For the functions that report
 * "what went wrong" to the user through a caller buffer. */
void camrtc_errf(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
