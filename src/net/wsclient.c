/* WebSocket client connection: net + http + ws. */
#include "camrtc/wsclient.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/http.h"
#include "camrtc/net.h"
#include "camrtc/url.h"
#include "camrtc/ws.h"

enum { S_CONNECTING, S_UPGRADING, S_OPEN, S_CLOSING };

struct camrtc_wsclient {
    camrtc_conn *conn;
    camrtc_wsclient_callbacks cb;
    void *ud;
    camrtc_rng *rng;
    int state;
    camrtc_http_parser *http;   /* during the upgrade only */
    camrtc_ws *ws;
    char key[32];
    char *request;              /* the upgrade request, sent once connected */
    size_t request_len;
    int http_status;
    uint16_t ws_code;
    int err;
    camrtc_buf out;
};

static void flush(camrtc_wsclient *c)
{
    if (!c->ws || camrtc_ws_pending(c->ws) == 0)
        return;
    camrtc_buf_reset(&c->out);
    if (camrtc_ws_drain(c->ws, &c->out) == CAMRTC_OK && c->out.len)
        camrtc_conn_write(c->conn, camrtc_buf_data(&c->out), c->out.len);
    /* Keep the staging buffer small between messages. */
    if (c->out.cap > 16384)
        camrtc_buf_free(&c->out);
    else
        camrtc_buf_reset(&c->out);
}

static void fail(camrtc_wsclient *c, int err)
{
    if (!c->err)
        c->err = err;
    c->state = S_CLOSING;
    camrtc_conn_close(c->conn);
}

static void on_ws_text(void *ud, const uint8_t *data, size_t len)
{
    camrtc_wsclient *c = ud;
    if (c->state == S_OPEN && c->cb.on_text)
        c->cb.on_text(c, c->ud, data, len);
}

static void on_ws_pong(void *ud, const uint8_t *data, size_t len)
{
    camrtc_wsclient *c = ud;
    if (c->cb.on_pong)
        c->cb.on_pong(c, c->ud);
}

static void on_ws_close(void *ud, uint16_t code, const uint8_t *reason, size_t reason_len)
{
    camrtc_wsclient *c = ud;
    c->ws_code = code;
}

static const camrtc_ws_callbacks ws_cb = {
    .on_text = on_ws_text, .on_binary = NULL, .on_pong = on_ws_pong, .on_close = on_ws_close,
};

static void ws_input(camrtc_wsclient *c, const uint8_t *data, size_t len)
{
    int rc = camrtc_ws_feed(c->ws, data, len);
    if (c->state == S_CLOSING && !c->ws)
        return;
    flush(c);
    if (rc < 0)
        fail(c, rc);
    else if (camrtc_ws_is_closed(c->ws) && c->state != S_CLOSING) {
        c->state = S_CLOSING;
        camrtc_conn_close(c->conn);
    }
}

static void on_open(camrtc_conn *conn, void *ud)
{
    camrtc_wsclient *c = ud;
    c->state = S_UPGRADING;
    camrtc_conn_write(conn, c->request, c->request_len);
    free(c->request);
    c->request = NULL;
}

static void on_data(camrtc_conn *conn, void *ud, const uint8_t *data, size_t len)
{
    camrtc_wsclient *c = ud;
    if (c->state == S_UPGRADING) {
        size_t used = 0;
        int rc = camrtc_http_parser_feed(c->http, data, len, &used);
        if (rc == CAMRTC_EAGAIN)
            return;
        if (rc < 0) {
            fail(c, CAMRTC_EPROTO);
            return;
        }
        const camrtc_http_msg *m = camrtc_http_parser_msg(c->http);
        c->http_status = m->status;
        rc = camrtc_ws_check_accept(m->status, m->headers, m->n_headers, c->key);
        if (rc < 0) {
            fail(c, rc);
            return;
        }
        camrtc_ws_config wc = {.server = false, .max_message = CAMRTC_WSCLIENT_MAX_MESSAGE, .rng = c->rng};
        c->ws = camrtc_ws_new(&wc, &ws_cb, c);
        camrtc_http_parser_free(c->http);
        free(c->http);
        c->http = NULL;
        if (!c->ws) {
            fail(c, CAMRTC_ENOMEM);
            return;
        }
        c->state = S_OPEN;
        c->http_status = 0;
        if (c->cb.on_open)
            c->cb.on_open(c, c->ud);
        if (used < len && c->state == S_OPEN)
            ws_input(c, data + used, len - used);
        return;
    }
    if (c->ws && (c->state == S_OPEN || c->state == S_CLOSING))
        ws_input(c, data, len);
}

static void on_close(camrtc_conn *conn, void *ud, int err)
{
    camrtc_wsclient *c = ud;
    int e = c->err ? c->err : err;
    if (!e && c->state != S_CLOSING && c->state != S_OPEN)
        e = CAMRTC_ECLOSED;
    if (c->cb.on_close)
        c->cb.on_close(c, c->ud, e, c->http_status, c->ws_code);
    if (c->http) {
        camrtc_http_parser_free(c->http);
        free(c->http);
    }
    if (c->ws)
        camrtc_ws_free(c->ws);
    free(c->request);
    camrtc_buf_free(&c->out);
    free(c);
}

int camrtc_wsclient_connect(uv_loop_t *loop, const char *url, const camrtc_tls_config *tls, camrtc_rng *rng,
                            const camrtc_wsclient_callbacks *cb, void *ud, camrtc_wsclient **out)
{
    camrtc_url u;
    int rc = camrtc_url_parse(url, &u);
    if (rc < 0)
        return rc;
    bool secure = !strcmp(u.scheme, "wss");
    if (!secure && strcmp(u.scheme, "ws"))
        return CAMRTC_EINVAL;
    if (secure && !tls)
        return CAMRTC_EINVAL;
    camrtc_wsclient *c = calloc(1, sizeof *c);
    if (!c)
        return CAMRTC_ENOMEM;
    c->cb = *cb;
    c->ud = ud;
    c->rng = rng;
    c->http = malloc(sizeof *c->http);
    if (!c->http) {
        free(c);
        return CAMRTC_ENOMEM;
    }
    camrtc_http_parser_init(c->http, CAMRTC_HTTP_RESPONSE, 64 * 1024);
    char host[300];
    camrtc_url_host_header(&u, host, sizeof host);
    camrtc_buf req = {0};
    camrtc_buf target = {0};
    camrtc_buf_append_str(&target, u.path);
    if (u.query[0]) {
        camrtc_buf_append_str(&target, "?");
        camrtc_buf_append_str(&target, u.query);
    }
    const char *t = camrtc_buf_cstr(&target);
    rc = t ? camrtc_ws_write_client_request(&req, host, t, rng, NULL, 0, c->key, sizeof c->key) : CAMRTC_ENOMEM;
    camrtc_buf_free(&target);
    if (rc < 0) {
        camrtc_buf_free(&req);
        camrtc_http_parser_free(c->http);
        free(c->http);
        free(c);
        return rc;
    }
    c->request = (char *)req.mem;   /* take the allocation: data starts at offset 0 */
    if (req.off) {
        memmove(req.mem, req.mem + req.off, req.len);
    }
    c->request_len = req.len;
    static const camrtc_conn_callbacks conn_cb = {.on_open = on_open, .on_data = on_data, .on_close = on_close};
    rc = camrtc_conn_connect(loop, u.host, u.port, secure ? tls : NULL, &conn_cb, c, &c->conn);
    if (rc < 0) {
        free(c->request);
        camrtc_http_parser_free(c->http);
        free(c->http);
        free(c);
        return rc;
    }
    *out = c;
    return CAMRTC_OK;
}

int camrtc_wsclient_send_text(camrtc_wsclient *c, const void *data, size_t len)
{
    if (c->state != S_OPEN)
        return CAMRTC_ESTATE;
    int rc = camrtc_ws_send_text(c->ws, data, len);
    if (rc == CAMRTC_OK)
        flush(c);
    return rc;
}

int camrtc_wsclient_send_ping(camrtc_wsclient *c)
{
    if (c->state != S_OPEN)
        return CAMRTC_ESTATE;
    int rc = camrtc_ws_send_ping(c->ws, "camrtc", 6);
    if (rc == CAMRTC_OK)
        flush(c);
    return rc;
}

void camrtc_wsclient_close(camrtc_wsclient *c, uint16_t code, const char *reason)
{
    if (c->state == S_CLOSING)
        return;
    if (c->state == S_OPEN) {
        camrtc_ws_send_close(c->ws, code, reason);
        flush(c);
    }
    c->state = S_CLOSING;
    camrtc_conn_close(c->conn);
}

void camrtc_wsclient_abort(camrtc_wsclient *c)
{
    c->state = S_CLOSING;
    camrtc_conn_abort(c->conn);
}
