#include "camrtc/error.h"

#include <uv.h>

#define ERRS(X) \
    X(CAMRTC_OK, "success") \
    X(CAMRTC_EINVAL, "invalid argument") \
    X(CAMRTC_EAGAIN, "need more input") \
    X(CAMRTC_EPROTO, "malformed protocol input") \
    X(CAMRTC_ETOOBIG, "input exceeds a limit") \
    X(CAMRTC_ENOTFOUND, "not found") \
    X(CAMRTC_EEXIST, "already exists") \
    X(CAMRTC_EAUTH, "authentication failed") \
    X(CAMRTC_EEXPIRED, "expired or not yet valid") \
    X(CAMRTC_ELIMIT, "limit reached") \
    X(CAMRTC_ESTATE, "invalid state for this operation") \
    X(CAMRTC_ECLOSED, "closed") \
    X(CAMRTC_ETIMEDOUT, "timed out") \
    X(CAMRTC_EIO, "I/O error") \
    X(CAMRTC_EDNS, "name resolution failed") \
    X(CAMRTC_ECONNREFUSED, "connection refused or reset") \
    X(CAMRTC_ETLS, "TLS failure") \
    X(CAMRTC_ECERT, "certificate verification failed") \
    X(CAMRTC_ECRYPTO, "cryptographic failure") \
    X(CAMRTC_EUNSUPPORTED, "not supported") \
    X(CAMRTC_ENOMEM, "out of memory") \
    X(CAMRTC_EINTERNAL, "internal error")

const char *camrtc_strerror(int err)
{
    switch (err) {
#define X(code, text) case code: return text;
        ERRS(X)
#undef X
    default: return "unknown error";
    }
}

const char *camrtc_errname(int err)
{
    switch (err) {
#define X(code, text) case code: return #code;
        ERRS(X)
#undef X
    default: return "CAMRTC_E?";
    }
}

int camrtc_err_from_uv(int uverr)
{
    switch (uverr) {
    case 0: return CAMRTC_OK;
    case UV_ENOMEM: return CAMRTC_ENOMEM;
    case UV_EINVAL: return CAMRTC_EINVAL;
    case UV_EAGAIN: return CAMRTC_EAGAIN;
    case UV_ETIMEDOUT: return CAMRTC_ETIMEDOUT;
    case UV_ECONNREFUSED: case UV_ECONNRESET: case UV_ECONNABORTED:
    case UV_EPIPE: case UV_EHOSTUNREACH: case UV_ENETUNREACH:
        return CAMRTC_ECONNREFUSED;
    case UV_EOF: return CAMRTC_ECLOSED;
    case UV_EAI_NONAME: case UV_EAI_AGAIN: case UV_EAI_FAIL: case UV_EAI_NODATA:
        return CAMRTC_EDNS;
    case UV_ENOENT: return CAMRTC_ENOTFOUND;
    case UV_EEXIST: case UV_EADDRINUSE: return CAMRTC_EEXIST;
    default: return CAMRTC_EIO;
    }
}
