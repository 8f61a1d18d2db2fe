/* WebSocket session over wslay's event API, fed from memory.
 *
 * An idle session holds no wslay context and no buffer: wslay's event context
 * carries two fixed 4 KB buffers, too much for a server holding thousands of
 * quiet clients. The context is created when wslay is needed and freed as soon
 * as the session is quiescent again (ws_release): no partial frame or partially
 * received fragmented message inside wslay, nothing queued for output, no
 * close handshake under way. At such a point a fresh context is in exactly the
 * state the old one was in, and everything that outlives it (close sent or
 * received, the failure latch) lives in struct camrtc_ws.
 *
 * Most messages never reach wslay at all. ws_fast_frame takes a single-frame
 * text or binary message wslay would accept as such (right masking, length in
 * shortest form, within max_message) when no context exists: unmask it once
 * into a stack buffer (or, while it arrives over several feeds, into ws->part),
 * check the UTF-8, call back. Anything else (control frames, fragmented
 * messages, a split header, anything wrong) goes to wslay from that frame on,
 * so errors are found and answered as before. Text and pings are written
 * straight into ws->out, as wslay would have written them, and frames sent from
 * a callback are arranged the way wslay's queues ordered them (see cb_start);
 * a close goes through wslay, which then answers no more pings.
 *
 * wslay pulls input through recv_cb, which hands it the bytes of the current
 * camrtc_ws_feed call and reports WOULDBLOCK when they run out or a message
 * has just ended (so the context can go between messages); it pushes output
 * through send_cb, which appends to ws->out. wslay's output is flushed into
 * ws->out after every feed, every received message and every close.
 *
 * recv_cb runs every byte through a small frame scanner (ws_scan) first. It
 * tracks frame and message boundaries for the above, and covers two things
 * wslay 1.1 gets wrong:
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
#include "ws/payload.h"

/* ws_fast_frame unmasks messages up to this size on the stack, larger ones on the heap. */
#define WS_STACK_MSG 4096u

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
    bool frag;         /* a fragmented data message is open (inside wslay) */
    bool close;        /* the current frame is a close frame: collect, don't pass */
    uint8_t body_len;  /* close payload bytes collected (unmasked) */
    uint8_t body[125];
} ws_scan;

enum { WS_PASS, WS_TAKE, WS_BAD, WS_CLOSE_DONE };

struct camrtc_ws {
    wslay_event_context_ptr ctx; /* NULL while quiescent (ws_release) */
    camrtc_ws_callbacks cb;
    void *ud;
    camrtc_rng *rng;
    uint64_t max_message;
    camrtc_buf out;        /* frames waiting for drain */
    const uint8_t *in;     /* unread part of the bytes being fed */
    size_t in_len;
    int err;               /* sticky failure, 0 while healthy */
    int send_err;          /* why send_cb or genmask_cb failed */
    bool server;
    bool in_feed;          /* inside camrtc_ws_feed: a send comes from a callback */
    bool pause;            /* recv_cb stops: a message just ended */
    bool bad_frame;        /* ws_scan found a header wslay would mishandle */
    bool close_ready;      /* ws_scan holds a whole close frame */
    bool close_received;   /* the peer's close frame was valid and answered */
    bool close_queued;     /* camrtc_ws_send_close succeeded */
    bool close_sent;       /* a close frame went into ws->out */
    /* While a callback runs inside feed, what it sends is held back from
     * pending/drain until it returns, and its control frames go before its data
     * frames: the order wslay gave them when it queued them. */
    size_t cb_start;       /* ws->out bytes that existed when the callback began */
    size_t cb_ctrl;        /* where the callback's next control frame goes */
    /* A message ws_fast_frame took on whose payload is still arriving. */
    bool part_on;
    bool part_text;
    uint8_t part_key[4];
    ws_utf8 part_utf8;
    uint64_t part_len;     /* its payload length */
    camrtc_buf part;       /* its payload so far, unmasked */
    ws_scan scan;
};

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
    /* Data frames open and end messages; control frames may come in between.
     * A wrong sequence is wslay's to refuse. */
    if (!(s->b0 & 0x08)) {
        if ((s->b0 & 0x0F) != 0)
            s->frag = !(s->b0 & 0x80);
        else if (s->b0 & 0x80)
            s->frag = false;
    }
    s->skip = s->len;
    return WS_PASS;
}

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user_data)
{
    camrtc_ws *ws = user_data;
    ws_scan *s = &ws->scan;
    size_t n = 0;
    while (n < len && ws->in_len > 0 && !ws->bad_frame && !ws->close_ready && !ws->pause) {
        bool frame_end = false;
        if (s->skip > 0) {
            size_t take = len - n < ws->in_len ? len - n : ws->in_len;
            if (take > s->skip)
                take = (size_t)s->skip;
            memcpy(buf + n, ws->in, take);
            n += take;
            ws->in += take;
            ws->in_len -= take;
            s->skip -= take;
            frame_end = s->skip == 0;
        } else {
            uint8_t c = *ws->in;
            int act = ws_scan_byte(s, c);
            if (act == WS_BAD) {
                ws->bad_frame = true;
                break;
            }
            ws->in++;
            ws->in_len--;
            if (act == WS_PASS) {
                buf[n++] = c;
                frame_end = s->have == 0 && s->skip == 0; /* an empty frame's header */
            } else if (act == WS_CLOSE_DONE) {
                ws->close_ready = true;
            }
        }
        /* Stop at the end of a message so that wslay holds nothing past it. */
        if (frame_end && !s->frag)
            ws->pause = true;
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
    ws->cb_start = ws->cb_ctrl = ws->out.len;
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

static const struct wslay_event_callbacks ws_server_cbs = {
    .recv_callback = ws_recv_cb,
    .send_callback = ws_send_cb,
    .on_frame_recv_start_callback = ws_frame_start_cb,
    .on_msg_recv_callback = ws_msg_cb,
};

static const struct wslay_event_callbacks ws_client_cbs = {
    .recv_callback = ws_recv_cb,
    .send_callback = ws_send_cb,
    .genmask_callback = ws_genmask_cb,
    .on_frame_recv_start_callback = ws_frame_start_cb,
    .on_msg_recv_callback = ws_msg_cb,
};

/* Make sure a wslay context exists. CAMRTC_ENOMEM when it cannot be made. */
static int ws_ctx_open(camrtc_ws *ws)
{
    if (ws->ctx)
        return CAMRTC_OK;
    int r = ws->server ? wslay_event_context_server_init(&ws->ctx, &ws_server_cbs, ws)
                       : wslay_event_context_client_init(&ws->ctx, &ws_client_cbs, ws);
    if (r != 0) {
        ws->ctx = NULL;
        return CAMRTC_ENOMEM;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, ws->max_message);
    return CAMRTC_OK;
}

/* Free the wslay context when nothing in it would be missed: the session has
 * ended (our flags answer every later call; a partial message goes too), or it
 * is between messages with nothing queued and no close handshake under way (a
 * new context would start in the same state). Not to be called from inside
 * wslay. */
static void ws_release(camrtc_ws *ws)
{
    bool ended = ws->err != 0 || ws->close_received;
    if (ended && ws->part_on) {
        ws->part_on = false;
        camrtc_buf_free(&ws->part);
    }
    if (!ws->ctx)
        return;
    if (!ended) {
        const ws_scan *s = &ws->scan;
        if (s->have || s->skip || s->frag || s->close || ws->bad_frame || ws->close_ready)
            return;
        if (ws->close_queued || ws->close_sent || wslay_event_want_write(ws->ctx) ||
            !wslay_event_get_read_enabled(ws->ctx))
            return;
    }
    wslay_event_context_free(ws->ctx);
    ws->ctx = NULL;
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
    ws->max_message = cfg->max_message ? cfg->max_message : CAMRTC_WS_DEFAULT_MAX_MESSAGE;
    return ws;
}

void camrtc_ws_free(camrtc_ws *ws)
{
    if (!ws)
        return;
    wslay_event_context_free(ws->ctx);
    camrtc_buf_free(&ws->out);
    camrtc_buf_free(&ws->part);
    free(ws);
}

/* Let wslay write everything it has queued into ws->out. A failure here is fatal:
 * wslay stops writing, so the session cannot continue. */
static int ws_flush(camrtc_ws *ws)
{
    if (!ws->ctx)
        return CAMRTC_OK;
    int r = wslay_event_send(ws->ctx);
    if (wslay_event_get_close_sent(ws->ctx))
        ws->close_sent = true;
    if (r == 0)
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
    ws->cb_start = ws->cb_ctrl = ws->out.len;
    if (ws->cb.on_close)
        ws->cb.on_close(ws->ud, code ? code : WSLAY_CODE_NO_STATUS_RCVD, reason, rlen);
}

/* Hand one message to the user. Whatever the callback queued in wslay (only a
 * close) is written now, as wslay's messages are (ws_msg_cb). */
static void ws_deliver(camrtc_ws *ws, bool text, const uint8_t *msg, size_t len)
{
    ws->cb_start = ws->cb_ctrl = ws->out.len;
    if (!text)
        ws->cb.on_binary(ws->ud, msg, len);
    else if (ws->cb.on_text)
        ws->cb.on_text(ws->ud, msg, len);
    if (ws->ctx) {
        ws_flush(ws);
        ws_release(ws);
    }
}

/* Invalid UTF-8 in a message wslay never saw: fail the way wslay does (close
 * 1007, stop reading; feed then reports CAMRTC_EPROTO). */
static void ws_fail_utf8(camrtc_ws *ws)
{
    if (ws_ctx_open(ws) < 0) {
        ws->err = CAMRTC_ENOMEM;
        return;
    }
    wslay_event_queue_close(ws->ctx, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, NULL, 0);
    wslay_event_shutdown_read(ws->ctx);
}

/* Take more payload of the message in ws->part; deliver it once whole. */
static void ws_part_fill(camrtc_ws *ws)
{
    size_t have = ws->part.len;
    size_t take = ws->part_len - have < ws->in_len ? (size_t)(ws->part_len - have) : ws->in_len;
    uint8_t *dst = camrtc_buf_data(&ws->part) + have;
    bool ascii = false;
    if (ws->server) {
        const uint8_t key[4] = {ws->part_key[have & 3], ws->part_key[(have + 1) & 3], ws->part_key[(have + 2) & 3],
                                ws->part_key[(have + 3) & 3]};
        ascii = ws_mask_copy(dst, ws->in, take, key);
    } else {
        memcpy(dst, ws->in, take);
    }
    ws->in += take;
    ws->in_len -= take;
    ws->part.len += take;
    if (ws->part_text && !(ascii && ws->part_utf8.need == 0) && !ws_utf8_step(&ws->part_utf8, dst, take)) {
        ws->part_on = false;
        camrtc_buf_free(&ws->part);
        ws_fail_utf8(ws);
        return;
    }
    if (ws->part.len < ws->part_len)
        return;
    ws->part_on = false;
    if (ws->part_text && ws->part_utf8.need != 0) {
        camrtc_buf_free(&ws->part);
        ws_fail_utf8(ws);
        return;
    }
    ws_deliver(ws, ws->part_text, camrtc_buf_data(&ws->part), ws->part.len);
    camrtc_buf_free(&ws->part);
}

/* Handle the frame at the head of the input without wslay, when it is a whole
 * message wslay would accept as such: a final text or binary frame (binary
 * only with on_binary), no RSV bits, masked as this side requires, length in
 * shortest form and within max_message. Returns false, consuming nothing, for
 * any other frame or a header not yet complete; wslay then takes over and finds
 * any error itself. A whole frame is delivered at once (unmasked on the stack);
 * a partial one is collected in ws->part. Only while no wslay context exists,
 * i.e. between messages. */
static bool ws_fast_frame(camrtc_ws *ws)
{
    const uint8_t *p = ws->in;
    size_t avail = ws->in_len;
    if (avail < 2)
        return false;
    uint8_t b0 = p[0], b1 = p[1];
    bool text = b0 == 0x81;
    if ((!text && (b0 != 0x82 || !ws->cb.on_binary)) || ((b1 & 0x80) != 0) != ws->server)
        return false;
    uint64_t len = b1 & 0x7Fu;
    size_t hl = 2;
    if (len == 126) {
        if (avail < 4)
            return false;
        len = (uint64_t)p[2] << 8 | p[3];
        if (len < 126)
            return false;
        hl = 4;
    } else if (len == 127) {
        if (avail < 10)
            return false;
        len = 0;
        for (int i = 2; i < 10; i++)
            len = len << 8 | p[i];
        if (len < 65536 || (len >> 63) != 0)
            return false;
        hl = 10;
    }
    const uint8_t *key = p + hl;
    if (ws->server)
        hl += 4;
    if (len > ws->max_message || avail < hl)
        return false;
    if (avail - hl < len) {
        if (camrtc_buf_init(&ws->part, 0, (size_t)len) < 0)
            return false;
        ws->part_on = true;
        ws->part_text = text;
        ws->part_len = len;
        ws->part_utf8 = (ws_utf8){0, 0, 0};
        if (ws->server)
            memcpy(ws->part_key, key, 4);
        ws->in += hl;
        ws->in_len -= hl;
        if (ws->in_len > 0)
            ws_part_fill(ws);
        return true;
    }
    uint8_t stack[WS_STACK_MSG];
    uint8_t *heap = NULL;
    const uint8_t *msg = p + hl;
    bool ascii = false;
    if (ws->server) {
        uint8_t *dst = len <= sizeof stack ? stack : (heap = malloc((size_t)len));
        if (!dst)
            return false;
        ascii = ws_mask_copy(dst, msg, (size_t)len, key);
        msg = dst;
    }
    if (text && !ascii && !ws_utf8_valid(msg, (size_t)len)) {
        free(heap);
        return false;
    }
    ws->in += hl + (size_t)len;
    ws->in_len -= hl + (size_t)len;
    ws_deliver(ws, text, msg, (size_t)len);
    free(heap);
    return true;
}

int camrtc_ws_feed(camrtc_ws *ws, const uint8_t *data, size_t len)
{
    if (!ws || (!data && len))
        return CAMRTC_EINVAL;
    if (ws->in_feed)
        return CAMRTC_ESTATE;
    if (ws->err)
        return ws->err;
    if (ws->close_received)
        return CAMRTC_OK;
    int r = 0;
    ws->in = data;
    ws->in_len = len;
    ws->in_feed = true;
    while (ws->in_len > 0 && ws->err == 0) {
        if (ws->part_on) {
            ws_part_fill(ws);
            continue;
        }
        if (!ws->ctx && ws_fast_frame(ws))
            continue;
        int rc = ws_ctx_open(ws);
        if (rc < 0) {
            ws->err = rc;
            break;
        }
        if (ws->bad_frame || ws->close_ready || !wslay_event_get_read_enabled(ws->ctx))
            break;
        size_t before = ws->in_len;
        ws->pause = false;
        r = wslay_event_recv(ws->ctx);
        if (r != 0 || ws->in_len == before)
            break;
        if (ws->pause && ws->err == 0 && wslay_event_get_read_enabled(ws->ctx))
            ws_release(ws);
    }
    ws->in = NULL;
    ws->in_len = 0;
    ws->pause = false;

    wslay_event_context_ptr ctx = ws->ctx;
    if (r == WSLAY_ERR_NOMEM) {
        if (ws->err == 0)
            ws->err = CAMRTC_ENOMEM;
    } else if (r != 0) {
        /* A framing error that got past ws_scan: wslay queued an empty close. */
        if (ws->err == 0)
            ws->err = CAMRTC_EPROTO;
    } else if (ws->err == 0 && ctx && wslay_event_get_read_enabled(ctx)) {
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
    if (ws_flush(ws) == CAMRTC_OK && ws->err == 0 && ctx && !wslay_event_get_read_enabled(ctx) &&
        !ws->close_received) {
        /* wslay found a violation itself and has now sent its close frame; its code
         * says which (our own earlier close code, if any, hides it: then EPROTO). */
        uint16_t code = wslay_event_get_status_code_sent(ctx);
        ws->err = code == WSLAY_CODE_MESSAGE_TOO_BIG ? CAMRTC_ETOOBIG : CAMRTC_EPROTO;
    }
    if (ws->out.len == 0 && ws->out.mem)
        camrtc_buf_free(&ws->out); /* a callback drained it */
    ws_release(ws);
    return ws->err;
}

/* Put one whole frame into ws->out at offset at (moving what follows), as wslay
 * would write it: FIN set, shortest length form, masked with a fresh key from a
 * client. A failure is fatal, as a failed flush is. */
static int ws_write_frame(camrtc_ws *ws, uint8_t opcode, const uint8_t *data, size_t len, size_t at)
{
    uint8_t h[14];
    size_t hl = 0;
    uint8_t mbit = ws->server ? 0 : 0x80;
    h[hl++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        h[hl++] = (uint8_t)(mbit | len);
    } else if (len < 65536) {
        h[hl++] = mbit | 126;
        h[hl++] = (uint8_t)(len >> 8);
        h[hl++] = (uint8_t)len;
    } else {
        h[hl++] = mbit | 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    int rc = CAMRTC_OK;
    if (!ws->server) {
        if (camrtc_rng_bytes(ws->rng, h + hl, 4) < 0)
            rc = CAMRTC_ECRYPTO;
        hl += 4;
    }
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_reserve(&ws->out, hl + len);
    if (rc < 0) {
        if (ws->err == 0)
            ws->err = rc;
        return rc;
    }
    uint8_t *d = camrtc_buf_data(&ws->out) + at;
    if (at < ws->out.len)
        memmove(d + hl + len, d, ws->out.len - at);
    memcpy(d, h, hl);
    if (len && ws->server)
        memcpy(d + hl, data, len);
    else if (len)
        ws_mask_copy(d + hl, data, len, h + hl - 4);
    ws->out.len += hl + len;
    return CAMRTC_OK;
}

/* Send one message straight into ws->out. From a callback (the only way to be
 * inside feed), control frames go before the data frames the same callback sent. */
static int ws_send(camrtc_ws *ws, uint8_t opcode, const void *data, size_t len)
{
    if (ws->err || ws->close_queued || ws->close_received || ws->close_sent)
        return CAMRTC_ECLOSED;
    if (!ws->in_feed || !(opcode & 0x08))
        return ws_write_frame(ws, opcode, data, len, ws->out.len);
    size_t before = ws->out.len;
    int rc = ws_write_frame(ws, opcode, data, len, ws->cb_ctrl);
    ws->cb_ctrl += ws->out.len - before;
    return rc;
}

int camrtc_ws_send_text(camrtc_ws *ws, const void *data, size_t len)
{
    if (!ws || (!data && len) || !ws_utf8_valid(data, len))
        return CAMRTC_EINVAL;
    return ws_send(ws, WSLAY_TEXT_FRAME, data, len);
}

int camrtc_ws_send_ping(camrtc_ws *ws, const void *data, size_t len)
{
    if (!ws || (!data && len) || len > 125)
        return CAMRTC_EINVAL;
    return ws_send(ws, WSLAY_PING, data, len);
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
    /* Through wslay, which then refuses further sends and answers pings no more. */
    int rc = ws_ctx_open(ws);
    if (rc < 0)
        return rc;
    int r = wslay_event_queue_close(ws->ctx, code, (const uint8_t *)reason, rlen);
    if (r != 0) {
        if (!ws->in_feed)
            ws_release(ws);
        return ws_err_from_wslay(r);
    }
    ws->close_queued = true;
    if (ws->in_feed) {
        /* wslay writes a queued close ahead of everything else queued, and
         * nothing after it: what this callback sent before is never written. */
        ws->out.len = ws->cb_start;
        ws->cb_ctrl = ws->cb_start;
        return CAMRTC_OK;
    }
    rc = ws_flush(ws);
    ws_release(ws);
    return rc;
}

int camrtc_ws_drain(camrtc_ws *ws, camrtc_buf *out)
{
    if (!ws || !out)
        return CAMRTC_EINVAL;
    size_t n = camrtc_ws_pending(ws);
    if (n > 0) {
        int rc = camrtc_buf_append(out, camrtc_buf_data(&ws->out), n);
        if (rc < 0)
            return rc;
    }
    if (ws->in_feed) {
        /* From a callback: what it sent stays until it returns. */
        camrtc_buf_consume(&ws->out, n);
        ws->cb_start -= n;
        ws->cb_ctrl -= n;
        return CAMRTC_OK;
    }
    /* An idle session keeps nothing. Allocating again for the next message
     * costs a few hundred instructions; this call may be the last for hours. */
    camrtc_buf_free(&ws->out);
    ws_release(ws);
    return CAMRTC_OK;
}

size_t camrtc_ws_pending(const camrtc_ws *ws)
{
    if (!ws)
        return 0;
    return ws->in_feed ? ws->cb_start : ws->out.len;
}

bool camrtc_ws_is_closed(const camrtc_ws *ws)
{
    if (!ws)
        return true;
    return ws->err != 0 || (ws->close_received && ws->close_sent);
}

bool camrtc_ws_close_sent(const camrtc_ws *ws)
{
    if (!ws)
        return false;
    /* A received close is echoed and a failure closes, both inside feed. */
    return ws->close_queued || ws->err != 0 || ws->close_received || ws->close_sent;
}
