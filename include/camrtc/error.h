/* camrtc error codes.
 *
 * Every function in camrtc that can fail returns an int: 0 (CAMRTC_OK) or more on
 * success, one of the negative codes below on failure. errno never leaks out.
 * The codes from CAMRTC_EFATAL_BAND downwards mean the object that returned them
 * can no longer be used and must be freed (modelled on nghttp2's fatal band).
 */
#ifndef CAMRTC_ERROR_H
#define CAMRTC_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum camrtc_err {
    CAMRTC_OK = 0,
    CAMRTC_EINVAL = -1,       /* invalid argument from the caller */
    CAMRTC_EAGAIN = -2,       /* need more input; not an error for incremental parsers */
    CAMRTC_EPROTO = -3,       /* malformed input from the remote side */
    CAMRTC_ETOOBIG = -4,      /* input exceeds a configured bound */
    CAMRTC_ENOTFOUND = -5,    /* no such object (channel, header, file) */
    CAMRTC_EEXIST = -6,       /* object already exists */
    CAMRTC_EAUTH = -7,        /* authentication failed (signature, key, token) */
    CAMRTC_EEXPIRED = -8,     /* signature, URL or credential outside its validity */
    CAMRTC_ELIMIT = -9,       /* quota or rate limit reached */
    CAMRTC_ESTATE = -10,      /* operation not valid in the current state */
    CAMRTC_ECLOSED = -11,     /* peer or object already closed */
    CAMRTC_ETIMEDOUT = -12,   /* a deadline passed */
    CAMRTC_EIO = -13,         /* file or socket I/O failed */
    CAMRTC_EDNS = -14,        /* name resolution failed */
    CAMRTC_ECONNREFUSED = -15,/* connection refused or reset */
    CAMRTC_ETLS = -16,        /* TLS handshake or record failure */
    CAMRTC_ECERT = -17,       /* certificate verification failed */
    CAMRTC_ECRYPTO = -18,     /* crypto library failure */
    CAMRTC_EUNSUPPORTED = -19,/* valid but not supported by this implementation */
    CAMRTC_EFATAL_BAND = -900,
    CAMRTC_ENOMEM = -901,     /* allocation failed */
    CAMRTC_EINTERNAL = -902,  /* broken invariant: a bug */
} camrtc_err;

/* A short English description of err (any int; unknown codes give "unknown error").
 * The returned string is static. */
const char *camrtc_strerror(int err);

/* A stable identifier for err such as "CAMRTC_EPROTO", for logs and tests. */
const char *camrtc_errname(int err);

/* Map a negative libuv error code to the closest camrtc code. */
int camrtc_err_from_uv(int uverr);

#ifdef __cplusplus
}
#endif
#endif
