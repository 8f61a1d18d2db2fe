/* WebSocket session over wslay's event API, fed from memory.
 *
 * wslay pulls input through recv_cb, which hands it the bytes of the current
 * camrtc_ws_feed call and reports WOULDBLOCK when they run out; it pushes output
 * through send_cb, which appends to ws->out. Output is flushed into ws->out
 * after every feed, every received message and every send, so
 * camrtc_ws_pending is just ws->out.len.
 *
 * recv_cb runs every byte through a small frame scanner (ws_scan) first, for
 * two things wslay 1.1 gets wrong:
 * - some framing errors (a control frame over 125 bytes or fragmented, a
 *   non-minimal or 2^63+ length) make wslay send an empty close frame instead
 *   of 1002: the scanner holds such a frame back and the session closes 1002;
 * - wslay checks the UTF-8 of a close reason chunk by chunk, skipping the first
 *   two bytes of every chunk, so split input can pass bad reasons or fail good
 *   ones: close frames never reach wslay; the scanner collects them (they are
 *   at most 125 bytes) and ws_handle_close answers them.
 */
#include "camrtc/ws.h"

#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#include "camrtc/error.h"

/* ws->out allocations above this are released when drained. */
#define WS_OUT_KEEP 512u

/* Tracks frame boundaries in the byte stream on its way to wslay. */
typedef struct ws_scan {
    uint64_t skip;     /* payload bytes of the current frame still to pass to wslay */
    uint64_t len;      /* payload length being assembled from the header */
    uint8_t b0;        /* first header byte (FIN, RSV, opcode) */
    uint8_t b1;        /* second header byte (MASK, 7-bit length) */
    uint8_t have;      /* header bytes seen so far */
    uint8_t need;      /* header length, known once byte 1 is seen */
    uint8_t ext;       /* bytes of extended payload length: 0, 2 or 8 */
    uint8_t mask[4];
    bool close;        /* the current frame is a close frame: collect, don't pass */
    uint8_t body_len;  /* close payload bytes collected (unmasked) */
    uint8_t body[125];
} ws_scan;

enum { WS_PASS, WS_TAKE, WS_BAD, WS_CLOSE_DONE };

struct camrtc_ws {
    wslay_event_context_ptr ctx;
    camrtc_ws_callbacks cb;
    void *ud;
    camrtc_rng *rng;
    camrtc_buf out;        /* frames waiting for drain */
    const uint8_t *in;     /* unread part of the bytes being fed */
    size_t in_len;
    int err;               /* sticky failure, 0 while healthy */
    int send_err;          /* why send_cb or genmask_cb failed */
    bool server;
    bool in_feed;          /* inside camrtc_ws_feed: sends only queue */
    bool bad_frame;        /* ws_scan found a header wslay would mishandle */
    bool close_ready;      /* ws_scan holds a whole close frame */
    bool close_received;   /* the peer's close frame was valid and answered */
    bool close_queued;     /* camrtc_ws_send_close succeeded */
    ws_scan scan;
};

/* True for a well-formed UTF-8 sequence (no overlongs, surrogates or > U+10FFFF). */
static bool ws_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1Fu, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0Fu, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* One header byte, or one close payload byte. Checks RFC 6455 5.2 (shortest
 * length form, top bit clear) and 5.5 (control frames final and <= 125 bytes). */
static int ws_scan_byte(ws_scan *s, uint8_t c)
{
    if (s->close && s->have == 0) {
        s->body[s->body_len] = (s->b1 & 0x80) ? (uint8_t)(c ^ s->mask[s->body_len % 4]) : c;
        return ++s->body_len == s->len ? WS_CLOSE_DONE : WS_TAKE;
    }
    if (s->have == 0) {
        s->b0 = c;
        s->need = 2;
        s->close = (c & 0x0F) == 0x8;
    } else if (s->have == 1) {
        uint8_t len7 = c & 0x7F;
        if ((s->b0 & 0x08) && (len7 > 125 || !(s->b0 & 0x80)))
            return WS_BAD;
        s->b1 = c;
        s->ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        s->len = s->ext ? 0 : len7;
        s->need = (uint8_t)(2 + s->ext + ((c & 0x80) ? 4 : 0));
    } else if (s->have < 2 + s->ext) {
        s->len = s->len << 8 | c;
        if (s->have + 1 == 2 + s->ext &&
            (s->ext == 2 ? s->len < 126 : (s->len < 65536 || (s->len >> 63) != 0)))
            return WS_BAD;
    } else {
        s->mask[s->have - 2 - s->ext] = c;
    }
    if (++s->have < s->need)
        return s->close ? WS_TAKE : WS_PASS;
    s->have = 0;
    if (s->close) {
        s->body_len = 0;
        return s->len == 0 ? WS_CLOSE_DONE : WS_TAKE;
    }
    s->skip = s->len;
    return WS_PASS;
}

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user_data)
{
    camrtc_ws *ws = user_data;
    ws_scan *s = &ws->scan;
    size_t n = 0;
    while (n < len && ws->in_len > 0 && !ws->bad_frame && !ws->close_ready) {
        if (s->skip > 0) {
            size_t take = len - n < ws->in_len ? len - n : ws->in_len;
            if (take > s->skip)
                take = (size_t)s->skip;
            memcpy(buf + n, ws->in, take);
            n += take;
            ws->in += take;
            ws->in_len -= take;
            s->skip -= take;
            continue;
        }
        uint8_t c = *ws->in;
        int act = ws_scan_byte(s, c);
        if (act == WS_BAD) {
            ws->bad_frame = true;
            break;
        }
        ws->in++;
        ws->in_len--;
        if (act == WS_PASS)
            buf[n++] = c;
        else if (act == WS_CLOSE_DONE)
            ws->close_ready = true;
    }
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return (ssize_t)n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *user_data)
{
    camrtc_ws *ws = user_data;
    int rc = camrtc_buf_append(&ws->out, data, len);
    if (rc < 0) {
        ws->send_err = rc;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user_data)
{
    camrtc_ws *ws = user_data;
    if (camrtc_rng_bytes(ws->rng, buf, len) < 0) {
        ws->send_err = CAMRTC_ECRYPTO;
        return -1;
    }
    return 0;
}

/* Refuse a binary message at its first frame, before wslay buffers it. */
static void ws_frame_start_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_start_arg *arg,
                              void *user_data)
{
    camrtc_ws *ws = user_data;
    if (arg->opcode == WSLAY_BINARY_FRAME && !ws->cb.on_binary && ws->err == 0) {
        wslay_event_queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA, NULL, 0);
        wslay_event_shutdown_read(ctx);
        ws->err = CAMRTC_EUNSUPPORTED;
    }
}

static int ws_flush(camrtc_ws *ws);

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user_data)
{
    camrtc_ws *ws = user_data;
    if (ws->err)
        return;
    /* wslay passes NULL for an empty message. */
    const uint8_t *msg = arg->msg ? arg->msg : (const uint8_t *)"";
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
        if (ws->cb.on_text)
            ws->cb.on_text(ws->ud, msg, arg->msg_length);
        break;
    case WSLAY_BINARY_FRAME:
        if (ws->cb.on_binary)
            ws->cb.on_binary(ws->ud, msg, arg->msg_length);
        break;
    case WSLAY_PONG:
        if (ws->cb.on_pong)
            ws->cb.on_pong(ws->ud, msg, arg->msg_length);
        break;
    default:
        break;
    }
    /* Write what this message caused (a pong, replies queued by the callback) now:
     * wslay drops queued pongs once a close is queued, so flushing per message
     * keeps the output independent of how the input was split. */
    ws_flush(ws);
}

camrtc_ws *camrtc_ws_new(const camrtc_ws_config *cfg, const camrtc_ws_callbacks *cb, void *ud)
{
    if (!cfg || !cb || (!cfg->server && !cfg->rng))
        return NULL;
    camrtc_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->cb = *cb;
    ws->ud = ud;
    ws->rng = cfg->rng;
    ws->server = cfg->server;
    const struct wslay_event_callbacks wcb = {
        .recv_callback = ws_recv_cb,
        .send_callback = ws_send_cb,
        .genmask_callback = cfg->server ? NULL : ws_genmask_cb,
        .on_frame_recv_start_callback = ws_frame_start_cb,
        .on_msg_recv_callback = ws_msg_cb,
    };
    int r = cfg->server ? wslay_event_context_server_init(&ws->ctx, &wcb, ws)
                        : wslay_event_context_client_init(&ws->ctx, &wcb, ws);
    if (r != 0) {
        free(ws);
        return NULL;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, cfg->max_message ? cfg->max_message
                                                                          : CAMRTC_WS_DEFAULT_MAX_MESSAGE);
    return ws;
}

void camrtc_ws_free(camrtc_ws *ws)
{
    if (!ws)
        return;
    wslay_event_context_free(ws->ctx);
    camrtc_buf_free(&ws->out);
    free(ws);
}

/* Let wslay write everything it has queued into ws->out. A failure here is fatal:
 * wslay stops writing, so the session cannot continue. */
static int ws_flush(camrtc_ws *ws)
{
    if (wslay_event_send(ws->ctx) == 0)
        return CAMRTC_OK;
    int rc = ws->send_err ? ws->send_err : CAMRTC_EINTERNAL;
    if (ws->err == 0)
        ws->err = rc;
    wslay_event_shutdown_read(ws->ctx);
    return rc;
}

static int ws_err_from_wslay(int r)
{
    switch (r) {
    case WSLAY_ERR_NOMEM:
        return CAMRTC_ENOMEM;
    case WSLAY_ERR_NO_MORE_MSG:
        return CAMRTC_ECLOSED;
    case WSLAY_ERR_INVALID_ARGUMENT:
        return CAMRTC_EINVAL;
    default:
        return CAMRTC_EINTERNAL;
    }
}

/* Status codes valid in a close frame (RFC 6455 7.4.1, 7.4.2; 1012-1014 were
 * registered with IANA later). */
static bool ws_code_valid(uint16_t code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/* Answer the close frame ws_scan collected (RFC 6455 5.5.1, 7.1.5, 7.4): echo
 * its code unless a close was already queued, then tell the user. */
static void ws_handle_close(camrtc_ws *ws)
{
    const ws_scan *s = &ws->scan;
    wslay_event_shutdown_read(ws->ctx);
    bool masked = (s->b1 & 0x80) != 0;
    uint16_t code = s->body_len >= 2 ? (uint16_t)(s->body[0] << 8 | s->body[1]) : 0;
    const uint8_t *reason = s->body + 2;
    size_t rlen = s->body_len >= 2 ? s->body_len - 2u : 0;
    uint16_t fail = 0;
    if ((s->b0 & 0x70) || masked != ws->server || s->body_len == 1 || (s->body_len >= 2 && !ws_code_valid(code)))
        fail = WSLAY_CODE_PROTOCOL_ERROR;
    else if (!ws_utf8_valid(reason, rlen))
        fail = WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA;
    if (fail) {
        wslay_event_queue_close(ws->ctx, fail, NULL, 0);
        ws->err = CAMRTC_EPROTO;
        return;
    }
    ws->close_received = true;
    /* NO_MORE_MSG when this side closed first: the handshake is then complete. */
    wslay_event_queue_close(ws->ctx, code, reason, rlen);
    if (ws->cb.on_close)
        ws->cb.on_close(ws->ud, code ? code : WSLAY_CODE_NO_STATUS_RCVD, reason, rlen);
}

int camrtc_ws_feed(camrtc_ws *ws, const uint8_t *data, size_t len)
{
    if (!ws || (!data && len))
        return CAMRTC_EINVAL;
    if (ws->in_feed)
        return CAMRTC_ESTATE;
    if (ws->err)
        return ws->err;
    wslay_event_context_ptr ctx = ws->ctx;
    int r = 0;
    ws->in = data;
    ws->in_len = len;
    ws->in_feed = true;
    while (ws->in_len > 0 && !ws->bad_frame && !ws->close_ready && wslay_event_get_read_enabled(ctx)) {
        size_t before = ws->in_len;
        r = wslay_event_recv(ctx);
        if (r != 0 || ws->in_len == before)
            break;
    }
    ws->in = NULL;
    ws->in_len = 0;

    if (r == WSLAY_ERR_NOMEM) {
        if (ws->err == 0)
            ws->err = CAMRTC_ENOMEM;
    } else if (r != 0) {
        /* A framing error that got past ws_scan: wslay queued an empty close. */
        if (ws->err == 0)
            ws->err = CAMRTC_EPROTO;
    } else if (ws->err == 0 && wslay_event_get_read_enabled(ctx)) {
        /* Only what came before the frame ws_scan stopped at has been read. */
        if (ws->bad_frame) {
            wslay_event_queue_close(ctx, WSLAY_CODE_PROTOCOL_ERROR, NULL, 0);
            wslay_event_shutdown_read(ctx);
            ws->err = CAMRTC_EPROTO;
        } else if (ws->close_ready) {
            ws_handle_close(ws);
        }
    }
    ws->in_feed = false;
    if (ws_flush(ws) < 0)
        return ws->err;
    if (ws->err == 0 && !wslay_event_get_read_enabled(ctx) && !ws->close_received) {
        /* wslay found a violation itself and has now sent its close frame; its code
         * says which (our own earlier close code, if any, hides it: then EPROTO). */
        uint16_t code = wslay_event_get_status_code_sent(ctx);
        ws->err = code == WSLAY_CODE_MESSAGE_TOO_BIG ? CAMRTC_ETOOBIG : CAMRTC_EPROTO;
    }
    return ws->err;
}

/* Queue one message and flush unless inside feed (feed flushes on return). */
static int ws_queue(camrtc_ws *ws, uint8_t opcode, const void *data, size_t len)
{
    if (ws->err)
        return CAMRTC_ECLOSED;
    struct wslay_event_msg msg = {opcode, data, len};
    int r = wslay_event_queue_msg(ws->ctx, &msg);
    if (r != 0)
        return ws_err_from_wslay(r);
    return ws->in_feed ? CAMRTC_OK : ws_flush(ws);
}

int camrtc_ws_send_text(camrtc_ws *ws, const void *data, size_t len)
{
    if (!ws || (!data && len) || !ws_utf8_valid(data, len))
        return CAMRTC_EINVAL;
    return ws_queue(ws, WSLAY_TEXT_FRAME, data, len);
}

int camrtc_ws_send_ping(camrtc_ws *ws, const void *data, size_t len)
{
    if (!ws || (!data && len) || len > 125)
        return CAMRTC_EINVAL;
    return ws_queue(ws, WSLAY_PING, data, len);
}

int camrtc_ws_send_close(camrtc_ws *ws, uint16_t code, const char *reason)
{
    if (!ws)
        return CAMRTC_EINVAL;
    size_t rlen = reason ? strlen(reason) : 0;
    if (rlen > 123 || (code == 0 && rlen > 0) || (code != 0 && !ws_code_valid(code)) ||
        !ws_utf8_valid((const uint8_t *)(reason ? reason : ""), rlen))
        return CAMRTC_EINVAL;
    if (ws->err || ws->close_queued || ws->close_received)
        return CAMRTC_ECLOSED;
    int r = wslay_event_queue_close(ws->ctx, code, (const uint8_t *)reason, rlen);
    if (r != 0)
        return ws_err_from_wslay(r);
    ws->close_queued = true;
    return ws->in_feed ? CAMRTC_OK : ws_flush(ws);
}

int camrtc_ws_drain(camrtc_ws *ws, camrtc_buf *out)
{
    if (!ws || !out)
        return CAMRTC_EINVAL;
    if (ws->out.len > 0) {
        int rc = camrtc_buf_append(out, camrtc_buf_data(&ws->out), ws->out.len);
        if (rc < 0)
            return rc;
    }
    if (ws->out.cap > WS_OUT_KEEP)
        camrtc_buf_free(&ws->out);
    else
        camrtc_buf_reset(&ws->out);
    return CAMRTC_OK;
}

size_t camrtc_ws_pending(const camrtc_ws *ws)
{
    return ws ? ws->out.len : 0;
}

bool camrtc_ws_is_closed(const camrtc_ws *ws)
{
    if (!ws)
        return true;
    return ws->err != 0 || (ws->close_received && wslay_event_get_close_sent(ws->ctx));
}

bool camrtc_ws_close_sent(const camrtc_ws *ws)
{
    if (!ws)
        return false;
    /* A received close is echoed and a failure closes, both inside feed. */
    return ws->close_queued || ws->err != 0 || ws->close_received || wslay_event_get_close_sent(ws->ctx);
}
