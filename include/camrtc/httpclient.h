/* A one-shot HTTP/1.1 client request on a libuv loop (plain or TLS).
 *
 * Opens a connection, sends one request with "Connection: close", parses the
 * response (bounded by CAMRTC_HTTPCLIENT_MAX_BODY) and calls back once. Used for
 * the KVS control plane and by tests. Everything runs on the loop thread.
 */
#ifndef CAMRTC_HTTPCLIENT_H
#define CAMRTC_HTTPCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "camrtc/http.h"
#include "camrtc/str.h"
#include "camrtc/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAMRTC_HTTPCLIENT_MAX_BODY (1024 * 1024)

/* Called exactly once. On success err is CAMRTC_OK and resp is the parsed response (valid only
 * during the call); otherwise resp is NULL and err tells why (CAMRTC_ETIMEDOUT, CAMRTC_ECONNREFUSED,
 * CAMRTC_ECERT, CAMRTC_EPROTO...). */
typedef void (*camrtc_httpclient_cb)(void *ud, int err, const camrtc_http_msg *resp);

/* Send method url with headers (a Host header is added when absent, and Content-Length for a body)
 * and body. tls is required for https:// (borrowed; must outlive the request). timeout_ms bounds the
 * whole exchange (0 = 10 s). Returns CAMRTC_OK (cb will be called) or an error (cb will not). */
int camrtc_httpclient_request(uv_loop_t *loop, const char *url, const char *method, const camrtc_kv *headers,
                              size_t n_headers, const void *body, size_t body_len, const camrtc_tls_config *tls,
                              uint64_t timeout_ms, camrtc_httpclient_cb cb, void *ud);

#ifdef __cplusplus
}
#endif
#endif
