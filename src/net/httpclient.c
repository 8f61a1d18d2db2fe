/* One-shot HTTP client request: net + http. */
#include "camrtc/httpclient.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/net.h"
#include "camrtc/url.h"

typedef struct req {
    camrtc_conn *conn;
    camrtc_http_parser parser;
    camrtc_httpclient_cb cb;
    void *ud;
    camrtc_buf out;
    uv_timer_t timer;
    bool done, is_head;
    int err;
} req;

static void timer_closed(uv_handle_t *h)
{
    req *r = h->data;
    camrtc_http_parser_free(&r->parser);
    camrtc_buf_free(&r->out);
    free(r);
}

/* Deliver the result once; the connection's on_close frees everything. */
static void finish(req *r, int err, const camrtc_http_msg *m)
{
    if (r->done)
        return;
    r->done = true;
    uv_timer_stop(&r->timer);
    r->cb(r->ud, err, m);
}

static void on_timeout(uv_timer_t *t)
{
    req *r = t->data;
    finish(r, CAMRTC_ETIMEDOUT, NULL);
    if (r->conn)
        camrtc_conn_abort(r->conn);
}

static void on_open(camrtc_conn *c, void *ud)
{
    req *r = ud;
    camrtc_conn_write(c, camrtc_buf_data(&r->out), r->out.len);
    camrtc_buf_free(&r->out);
}

static void on_data(camrtc_conn *c, void *ud, const uint8_t *data, size_t len)
{
    req *r = ud;
    if (r->done)
        return;
    size_t used = 0;
    int rc = camrtc_http_parser_feed(&r->parser, data, len, &used);
    if (rc == CAMRTC_EAGAIN)
        return;
    if (rc < 0) {
        finish(r, rc, NULL);
        camrtc_conn_abort(c);
        return;
    }
    finish(r, CAMRTC_OK, camrtc_http_parser_msg(&r->parser));
    camrtc_conn_close(c);
}

static void on_close(camrtc_conn *c, void *ud, int err)
{
    req *r = ud;
    r->conn = NULL;
    if (!r->done) {
        /* A body delimited by the close completes now. */
        if (camrtc_http_parser_feed_eof(&r->parser) == CAMRTC_OK)
            finish(r, CAMRTC_OK, camrtc_http_parser_msg(&r->parser));
        else
            finish(r, err ? err : CAMRTC_ECLOSED, NULL);
    }
    uv_close((uv_handle_t *)&r->timer, timer_closed);
}

int camrtc_httpclient_request(uv_loop_t *loop, const char *url, const char *method, const camrtc_kv *headers,
                              size_t n_headers, const void *body, size_t body_len, const camrtc_tls_config *tls,
                              uint64_t timeout_ms, camrtc_httpclient_cb cb, void *ud)
{
    camrtc_url u;
    int rc = camrtc_url_parse(url, &u);
    if (rc < 0)
        return rc;
    bool secure = !strcmp(u.scheme, "https");
    if ((!secure && strcmp(u.scheme, "http")) || (secure && !tls) || !cb || n_headers > 60)
        return CAMRTC_EINVAL;
    req *r = calloc(1, sizeof *r);
    if (!r)
        return CAMRTC_ENOMEM;
    r->cb = cb;
    r->ud = ud;
    camrtc_http_parser_init(&r->parser, CAMRTC_HTTP_RESPONSE, CAMRTC_HTTPCLIENT_MAX_BODY);
    if (!strcmp(method, "HEAD"))
        camrtc_http_parser_expect_no_body(&r->parser);

    camrtc_kv h[64];
    size_t n = 0;
    char host[300];
    if (!camrtc_kv_get(headers, n_headers, "host")) {
        camrtc_url_host_header(&u, host, sizeof host);
        h[n++] = (camrtc_kv){"Host", host};
    }
    for (size_t i = 0; i < n_headers; i++)
        h[n++] = headers[i];
    if (!camrtc_kv_get(headers, n_headers, "connection"))
        h[n++] = (camrtc_kv){"Connection", "close"};
    camrtc_buf target = {0};
    camrtc_buf_append_str(&target, u.path);
    if (u.query[0])
        camrtc_buf_appendf(&target, "?%s", u.query);
    const char *t = camrtc_buf_cstr(&target);
    rc = t ? camrtc_http_write_request(&r->out, method, t, h, n, body, body_len) : CAMRTC_ENOMEM;
    camrtc_buf_free(&target);
    if (rc < 0)
        goto fail;
    static const camrtc_conn_callbacks ccb = {.on_open = on_open, .on_data = on_data, .on_close = on_close};
    rc = camrtc_conn_connect(loop, u.host, u.port, secure ? tls : NULL, &ccb, r, &r->conn);
    if (rc < 0)
        goto fail;
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_timeout, timeout_ms ? timeout_ms : 10000, 0);
    return CAMRTC_OK;
fail:
    camrtc_http_parser_free(&r->parser);
    camrtc_buf_free(&r->out);
    free(r);
    return rc;
}
