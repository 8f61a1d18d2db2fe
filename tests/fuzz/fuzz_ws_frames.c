/* Feeds arbitrary bytes to a WebSocket session.
 *
 * Input: one mode byte, then the byte stream. Mode bit 0 picks a client session
 * (with a fixed-seed rng) instead of a server, bit 1 a 256-byte message bound,
 * bit 2 no binary handler, bit 3 echo every text message back from the callback;
 * bits 4-7 (n > 0) feed the stream in n-byte pieces. Checks that every text
 * delivered is valid UTF-8 within the bound, that a failed session reports
 * itself closed and keeps failing, and that feeding in pieces gives the same
 * messages, output and outcome as feeding the stream whole (whole messages
 * bypass wslay; split ones may not). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"
#include "camrtc/ws.h"

typedef struct fz {
    camrtc_ws *ws;
    size_t max;
    bool echo;
    camrtc_buf events; /* every callback with its data, in order */
    camrtc_buf wire;   /* every byte drained, in order */
} fz;

static void note(fz *f, uint8_t what, const uint8_t *d, size_t n)
{
    uint8_t h[9] = {what};
    for (int i = 0; i < 8; i++)
        h[1 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    if (camrtc_buf_append(&f->events, h, sizeof h) < 0 || camrtc_buf_append(&f->events, d, n) < 0)
        abort();
}

static bool same(const camrtc_buf *a, const camrtc_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(camrtc_buf_data(a), camrtc_buf_data(b), a->len) == 0);
}

static bool utf8_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || n - i < len)
            return false;
        uint32_t cp = len == 1 ? c : (uint32_t)(c & (0x7F >> len));
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static void on_text(void *ud, const uint8_t *d, size_t n)
{
    fz *f = ud;
    if (n > f->max || !utf8_ok(d, n))
        abort();
    note(f, 't', d, n);
    if (f->echo)
        camrtc_ws_send_text(f->ws, d, n);
}

static void on_binary(void *ud, const uint8_t *d, size_t n)
{
    fz *f = ud;
    if (n > f->max)
        abort();
    note(f, 'b', d, n);
}

static void on_pong(void *ud, const uint8_t *d, size_t n)
{
    if (n > 125)
        abort();
    note(ud, 'p', d, n);
}

static void on_close(void *ud, uint16_t code, const uint8_t *reason, size_t n)
{
    if (n > 123 || !utf8_ok(reason, n))
        abort();
    const uint8_t c[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    note(ud, 'c', c, 2);
    note(ud, 'r', reason, n);
}

/* One session fed data in piece-byte pieces; what it did is left in f. */
static void run(uint8_t mode, const uint8_t *data, size_t size, size_t piece, fz *f)
{
    camrtc_rng rng;
    bool client = mode & 1;
    if (client && camrtc_rng_init_seed(&rng, 1) < 0)
        abort();
    f->max = (mode & 2) ? 256 : CAMRTC_WS_DEFAULT_MAX_MESSAGE;
    f->echo = (mode & 8) != 0;
    camrtc_ws_config cfg = {.server = !client, .max_message = (mode & 2) ? 256 : 0, .rng = client ? &rng : NULL};
    camrtc_ws_callbacks cb = {on_text, (mode & 4) ? NULL : on_binary, on_pong, on_close};
    f->ws = camrtc_ws_new(&cfg, &cb, f);
    if (!f->ws)
        abort();
    camrtc_buf out = {0};
    int err = CAMRTC_OK;
    for (size_t off = 0; off < size; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        int rc = camrtc_ws_feed(f->ws, data + off, n);
        camrtc_buf_reset(&out);
        if (camrtc_ws_drain(f->ws, &out) < 0 || camrtc_ws_pending(f->ws) != 0 ||
            camrtc_buf_append(&f->wire, camrtc_buf_data(&out), out.len) < 0)
            abort();
        if (rc < 0) {
            if (!camrtc_ws_is_closed(f->ws) || !camrtc_ws_close_sent(f->ws))
                abort();
            err = rc;
            break;
        }
    }
    if (err < 0 && camrtc_ws_feed(f->ws, data, size) != err)
        abort();
    const uint8_t state[3] = {(uint8_t)-err, camrtc_ws_is_closed(f->ws), camrtc_ws_close_sent(f->ws)};
    note(f, 's', state, sizeof state);
    /* The send side after whatever state the input left. */
    camrtc_ws_send_text(f->ws, "bye", 3);
    camrtc_ws_send_ping(f->ws, data, size < 125 ? size : 125);
    camrtc_ws_send_close(f->ws, 1000, "done");
    camrtc_ws_drain(f->ws, &f->wire);
    camrtc_buf_free(&out);
    camrtc_ws_free(f->ws);
    if (client)
        camrtc_rng_free(&rng);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    size_t piece = mode >> 4;
    fz whole = {0}, split = {0};
    run(mode, data, size, size ? size : 1, &whole);
    if (piece > 0 && piece < size) {
        run(mode, data, size, piece, &split);
        if (!same(&whole.events, &split.events) || !same(&whole.wire, &split.wire))
            abort();
    }
    camrtc_buf_free(&whole.events);
    camrtc_buf_free(&whole.wire);
    camrtc_buf_free(&split.events);
    camrtc_buf_free(&split.wire);
    return 0;
}
