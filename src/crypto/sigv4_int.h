/* SigV4 internals shared by the signer (sigv4.c) and the verifier
 * (sigv4_verify.c): the canonical request pieces and the signature itself.
 * Everything here is bounded by its inputs and returns camrtc error codes.
 */
#ifndef CAMRTC_CRYPTO_SIGV4_INT_H
#define CAMRTC_CRYPTO_SIGV4_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/buf.h"
#include "camrtc/str.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"
/* Longest secret access key accepted (AWS keys are 40 characters). */
#define SIGV4_MAX_SECRET 256
/* Bound on a canonical request; beyond it signing/verifying is refused. */
#define SIGV4_MAX_CREQ (1024u * 1024u)

/* One query parameter, both as decoded bytes and in canonical encoding. The
 * four strings live in one allocation owned by the parameter. dname/dvalue are
 * NUL-terminated but may also hold NULs (%00): their lengths are authoritative. */
typedef struct sigv4_param {
    char *name;       /* canonical encoding */
    char *value;
    char *dname;      /* decoded */
    char *dvalue;
    size_t dname_len;
    size_t dvalue_len;
} sigv4_param;

/* A growable, bounded list of parameters; a zeroed struct is empty. */
typedef struct sigv4_params {
    sigv4_param *v;
    size_t n;
    size_t cap;
} sigv4_params;

/* Append every name[=value] pair of a raw query (without '?'; NULL or "" adds
 * nothing). Empty pairs ("a=1&&b") are skipped; a pair without '=' has an empty
 * value; '+' is a literal plus; a '%' not followed by two hex digits is kept
 * literally. CAMRTC_ETOOBIG past CAMRTC_SIGV4_MAX_PARAMS, CAMRTC_ENOMEM. */
int sigv4_params_parse(sigv4_params *ps, const char *query);

/* Append one pair given decoded (raw) name and value strings. */
int sigv4_params_add(sigv4_params *ps, const char *name, const char *value);

/* Sort by encoded name, then encoded value (the SigV4 order). */
void sigv4_params_sort(sigv4_params *ps);

/* Append "n1=v1&n2=v2..." in the list's current order to out, leaving out any
 * parameter whose decoded name equals skip (NULL skips nothing). */
int sigv4_params_join(const sigv4_params *ps, const char *skip, camrtc_buf *out);

/* Number of parameters whose decoded name equals name exactly; *first gets the
 * first of them (or NULL). */
size_t sigv4_params_count(const sigv4_params *ps, const char *name, const sigv4_param **first);

/* Release every parameter and the list. */
void sigv4_params_free(sigv4_params *ps);

/* Append the SigV4 URI encoding of n bytes: unreserved A-Z a-z 0-9 - _ . ~ kept,
 * every other byte as %XX (uppercase). */
int sigv4_uri_encode(camrtc_buf *out, const void *p, size_t n);

/* Append the canonical URI of a wire path (NULL or "" is "/"): segments "." and
 * "" dropped, ".." removing the previous one, a trailing '/' kept, then each
 * segment URI-encoded again. */
int sigv4_canonical_uri(camrtc_buf *out, const char *path);

/* True when name is a non-empty RFC 9110 token. */
bool sigv4_is_token(const char *name, size_t len);

/* Append "name:value\n" for each of names[0..n_names) (lowercase, sorted,
 * unique), value being every header of that name (case-insensitive) in order,
 * each trimmed with inner whitespace runs collapsed, joined with ','.
 * CAMRTC_ENOTFOUND when a name has no header. */
int sigv4_canonical_headers(camrtc_buf *out, const camrtc_kv *h, size_t n_h,
                            const char *const *names, size_t n_names);

/* Append the canonical header value of one raw value (trimmed, whitespace runs
 * collapsed to one space). */
int sigv4_append_header_value(camrtc_buf *out, const char *v);

/* Lowercase hex signature of a canonical request: builds the string to sign
 * for amz_date ("20240102T030405Z") and the scope date/region/service, derives
 * the signing key from secret and MACs. CAMRTC_EINVAL for an over-long secret. */
int sigv4_signature_hex(const char *secret, const char *amz_date, const char *region,
                        const char *service, const void *creq, size_t creq_len, char out[65]);

#endif
