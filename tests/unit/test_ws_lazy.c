/* camrtc_ws between messages: an idle session holds no wslay context, whole
 * messages bypass wslay, and none of it shows through the API. */
#include <malloc.h>

#include "check.h"

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"
#include "camrtc/ws.h"

/* Heap in use as glibc counts it. Under a sanitizer's allocator mallinfo2 sees
 * nothing; heap_visible() says whether the figures mean anything. */
static size_t heap_used(void)
{
    return mallinfo2().uordblks;
}

static bool heap_visible(void)
{
    size_t before = heap_used();
    void *volatile p = malloc(1 << 16);
    size_t after = heap_used();
    free(p);
    return after >= before + (1 << 16);
}

/* Append a frame (b0 = FIN, RSV, opcode) masked with a key derived from seed,
 * or unmasked. */
static void frame(camrtc_buf *b, uint8_t b0, const void *payload, size_t n, bool mask, unsigned seed)
{
    const uint8_t key[4] = {(uint8_t)(0x37 + seed), (uint8_t)(0xfa ^ seed), 0x21, (uint8_t)(0x3d + 7 * seed)};
    uint8_t h[14];
    size_t hl = 0;
    h[hl++] = b0;
    uint8_t mbit = mask ? 0x80 : 0;
    if (n < 126) {
        h[hl++] = (uint8_t)(mbit | n);
    } else if (n < 65536) {
        h[hl++] = mbit | 126;
        h[hl++] = (uint8_t)(n >> 8);
        h[hl++] = (uint8_t)n;
    } else {
        h[hl++] = mbit | 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    if (mask) {
        memcpy(h + hl, key, 4);
        hl += 4;
    }
    if (camrtc_buf_append(b, h, hl) < 0 || camrtc_buf_reserve(b, n) < 0)
        abort();
    const uint8_t *s = payload;
    uint8_t *d = camrtc_buf_data(b) + b->len;
    for (size_t i = 0; i < n; i++)
        d[i] = mask ? (uint8_t)(s[i] ^ key[i % 4]) : s[i];
    b->len += n;
}

/* Counts what arrives, without allocating (the heap figures stay clean). */
typedef struct tally {
    int texts, binaries, pongs, closes;
    size_t bytes;
    uint32_t sum; /* over every message, in order */
} tally;

static uint32_t mix(uint32_t sum, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sum = sum * 31u + d[i];
    return sum * 31u + (uint32_t)n;
}

static void t_text(void *ud, const uint8_t *d, size_t n)
{
    tally *t = ud;
    t->texts++;
    t->bytes += n;
    t->sum = mix(t->sum, d, n);
}

static void t_binary(void *ud, const uint8_t *d, size_t n)
{
    tally *t = ud;
    t->binaries++;
    t->bytes += n;
    t->sum = mix(t->sum, d, n);
}

static void t_pong(void *ud, const uint8_t *d, size_t n)
{
    tally *t = ud;
    t->pongs++;
}

static void t_close(void *ud, uint16_t code, const uint8_t *reason, size_t n)
{
    tally *t = ud;
    t->closes++;
}

static const camrtc_ws_callbacks tally_cb = {t_text, t_binary, t_pong, t_close};

/* A KVS-sized message: JSON around about 1 KB of base64-like text. */
static size_t kvs_message(char *out, size_t outsz, unsigned n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int len = snprintf(out, outsz, "{\"action\":\"SDP_OFFER\",\"RecipientClientId\":\"viewer-%04u\",\"MessagePayload\":\"", n);
    size_t i = (size_t)len;
    for (size_t k = 0; k < 1024 && i < outsz - 3; k++)
        out[i++] = b64[(k * 7 + n) % 64];
    out[i++] = '"';
    out[i++] = '}';
    return i;
}

/* Counts the frames of each opcode in a session's output; false if it does not
 * parse as whole frames. */
static bool count_frames(const camrtc_buf *b, int counts[16])
{
    const uint8_t *p = camrtc_buf_data(b);
    size_t off = 0;
    while (off < b->len) {
        if (b->len - off < 2)
            return false;
        size_t len = p[off + 1] & 0x7f, hl = 2;
        if (len == 126) {
            if (b->len - off < 4)
                return false;
            len = (size_t)p[off + 2] << 8 | p[off + 3];
            hl = 4;
        } else if (len == 127) {
            return false;
        }
        if (p[off + 1] & 0x80)
            hl += 4;
        if (b->len - off < hl || b->len - off - hl < len)
            return false;
        counts[p[off] & 0x0f]++;
        off += hl + len;
    }
    return true;
}

TEST(idle_server_sessions_hold_under_1k_each)
{
    enum { N = 1000 };
    camrtc_ws **s = calloc(N, sizeof *s);
    tally *t = calloc(N, sizeof *t);
    CHECK(s && t);
    char msg[1200];
    size_t mlen = kvs_message(msg, sizeof msg, 1);
    /* What a client sends: a message, one split over two reads, a ping, and a
     * fragmented message split inside its second fragment. */
    camrtc_buf in = {0}, wire = {0};
    frame(&in, 0x81, msg, mlen, true, 1);
    size_t cut1 = in.len + 600;
    frame(&in, 0x81, msg, mlen, true, 2);
    frame(&in, 0x89, "hb", 2, true, 3);
    frame(&in, 0x01, msg, 500, true, 4);
    size_t cut2 = in.len + 300;
    frame(&in, 0x80, msg + 500, mlen - 500, true, 5);
    CHECK_EQ_INT(camrtc_buf_reserve(&wire, 1 << 16), CAMRTC_OK);
    bool visible = heap_visible();
    size_t base = heap_used();
    camrtc_ws_config sc = {.server = true};
    for (int i = 0; i < N; i++) {
        s[i] = camrtc_ws_new(&sc, &tally_cb, &t[i]);
        CHECK(s[i]);
        const uint8_t *d = camrtc_buf_data(&in);
        CHECK_EQ_INT(camrtc_ws_feed(s[i], d, cut1), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_ws_send_text(s[i], msg, mlen), CAMRTC_OK);
        wire.len = 0;
        CHECK_EQ_INT(camrtc_ws_drain(s[i], &wire), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_ws_feed(s[i], d + cut1, cut2 - cut1), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_ws_feed(s[i], d + cut2, in.len - cut2), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_ws_send_text(s[i], msg, 100), CAMRTC_OK);
        wire.len = 0;
        CHECK_EQ_INT(camrtc_ws_drain(s[i], &wire), CAMRTC_OK);
        int counts[16] = {0};
        CHECK(count_frames(&wire, counts));
        CHECK_EQ_INT(counts[0xA], 1); /* the pong */
        CHECK_EQ_INT(counts[0x1], 1);
        CHECK_EQ_INT(t[i].texts, 3);
        CHECK_EQ_INT(t[i].bytes, 3 * mlen);
        CHECK_EQ_INT(t[i].sum, t[0].sum);
        CHECK(!camrtc_ws_is_closed(s[i]));
    }
    size_t used = heap_used() - base;
    printf("  %d idle server sessions: %zu bytes of heap each%s\n", N, used / N,
           visible ? "" : " (mallinfo2 does not see this allocator: not checked)");
    if (visible)
        CHECK(used / N < 1024);
    for (int i = 0; i < N; i++)
        camrtc_ws_free(s[i]);
    free(s);
    free(t);
    camrtc_buf_free(&in);
    camrtc_buf_free(&wire);
}

/* One round of traffic: a text, a fragmented text with a ping between its
 * fragments, a binary, a KVS-sized text. Returns the offsets where the
 * fragmented message starts and ends. */
static void round_stream(camrtc_buf *in, unsigned r, bool mask, size_t *frag_from, size_t *frag_to, tally *want)
{
    char msg[1200];
    size_t mlen = kvs_message(msg, sizeof msg, r);
    size_t short_len = 1 + (r * 7) % 300;
    frame(in, 0x81, msg, short_len, mask, r);
    *frag_from = in->len;
    frame(in, 0x01, "frag-a \xc3", 8, mask, r + 1); /* U+00E9 split across fragments */
    frame(in, 0x89, "p", 1, mask, r + 2);
    frame(in, 0x00, "\xa9 frag-b ", 9, mask, r + 3);
    frame(in, 0x80, msg, 40 + r % 50, mask, r + 4);
    *frag_to = in->len;
    uint8_t bin[200];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * r);
    frame(in, 0x82, bin, sizeof bin, mask, r + 5);
    frame(in, 0x81, msg, mlen, mask, r + 6);

    t_text(want, (const uint8_t *)msg, short_len);
    uint8_t joined[200];
    memcpy(joined, "frag-a \xc3\xa9 frag-b ", 17);
    memcpy(joined + 17, msg, 40 + r % 50);
    t_text(want, joined, 17 + 40 + r % 50);
    t_binary(want, bin, sizeof bin);
    t_text(want, (const uint8_t *)msg, mlen);
}

/* Feeds many rounds in three pieces cut at varying places, sending and draining
 * between pieces: every message arrives whole and in order, the session grows
 * while it holds a partial fragmented message and shrinks back after each round. */
static void alternate(bool server)
{
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 3), CAMRTC_OK);
    camrtc_ws_config cfg = {.server = server, .rng = &rng};
    tally got = {0}, want = {0};
    camrtc_buf in = {0}, wire = {0};
    CHECK_EQ_INT(camrtc_buf_reserve(&in, 1 << 14), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_buf_reserve(&wire, 1 << 14), CAMRTC_OK);
    bool visible = heap_visible();
    camrtc_ws *ws = camrtc_ws_new(&cfg, &tally_cb, &got);
    CHECK(ws);
    size_t idle = heap_used();
    int counts[16] = {0}, held = 0;
    for (unsigned r = 0; r < 300; r++) {
        in.len = 0;
        size_t ff, ft;
        round_stream(&in, r, server, &ff, &ft, &want);
        /* Every fourth round stops inside the fragmented message. */
        size_t cut1 = r % 4 == 1 ? ff + 1 + (r * 7u) % (ft - ff - 1) : (r * 37u) % in.len;
        size_t cut2 = cut1 + (r * 101u) % (in.len - cut1);
        const uint8_t *d = camrtc_buf_data(&in);
        CHECK_EQ_INT(camrtc_ws_feed(ws, d, cut1), CAMRTC_OK);
        if (visible && cut1 > ff && cut1 < ft) {
            /* Partway into the fragmented message: wslay holds it. */
            CHECK(heap_used() > idle + 4096);
            held++;
        }
        if (r % 3 == 0)
            CHECK_EQ_INT(camrtc_ws_send_text(ws, "between", 7), CAMRTC_OK);
        if (r % 5 == 0) {
            wire.len = 0;
            CHECK_EQ_INT(camrtc_ws_drain(ws, &wire), CAMRTC_OK);
            CHECK(count_frames(&wire, counts));
        }
        CHECK_EQ_INT(camrtc_ws_feed(ws, d + cut1, cut2 - cut1), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_ws_feed(ws, d + cut2, in.len - cut2), CAMRTC_OK);
        CHECK_EQ_INT(got.texts, want.texts);
        CHECK_EQ_INT(got.binaries, want.binaries);
        CHECK_EQ_INT(got.bytes, want.bytes);
        CHECK_EQ_INT(got.sum, want.sum);
        wire.len = 0;
        CHECK_EQ_INT(camrtc_ws_drain(ws, &wire), CAMRTC_OK);
        CHECK(count_frames(&wire, counts));
        CHECK_EQ_INT(camrtc_ws_pending(ws), 0);
        /* Back to idle. The allowance is for small blocks glibc keeps in its
         * per-thread cache, which mallinfo2 counts as in use; a wslay context
         * is 8.8 KB, a held message buffer 2 KB. */
        if (r == 0)
            idle = heap_used();
        else if (visible)
            CHECK(heap_used() <= idle + 1024);
    }
    CHECK_EQ_INT(counts[0xA], 300); /* a pong per round */
    CHECK_EQ_INT(counts[0x1], 100);
    CHECK(!visible || held >= 75);
    CHECK_EQ_INT(camrtc_ws_send_close(ws, 1000, "done"), CAMRTC_OK);
    CHECK(camrtc_ws_close_sent(ws));
    CHECK(!camrtc_ws_is_closed(ws));
    in.len = 0;
    frame(&in, 0x88, "\x03\xe8", 2, server, 9);
    CHECK_EQ_INT(camrtc_ws_feed(ws, camrtc_buf_data(&in), 1), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ws_feed(ws, camrtc_buf_data(&in) + 1, in.len - 1), CAMRTC_OK);
    CHECK_EQ_INT(got.closes, 1);
    CHECK(camrtc_ws_is_closed(ws));
    CHECK_EQ_INT(camrtc_ws_send_text(ws, "late", 4), CAMRTC_ECLOSED);
    CHECK_EQ_INT(camrtc_ws_feed(ws, camrtc_buf_data(&in), in.len), CAMRTC_OK);
    camrtc_ws_free(ws);
    camrtc_buf_free(&in);
    camrtc_buf_free(&wire);
    camrtc_rng_free(&rng);
}

TEST(server_alternates_idle_and_active_with_split_messages)
{
    alternate(true);
}

TEST(client_alternates_idle_and_active_with_split_messages)
{
    alternate(false);
}

/* Whole output of a server fed stream in pieces of the given size. */
static int run_pieces(const camrtc_buf *stream, size_t piece, camrtc_buf *out, tally *t)
{
    camrtc_ws_config sc = {.server = true};
    camrtc_ws *s = camrtc_ws_new(&sc, &tally_cb, t);
    if (!s)
        abort();
    int rc = CAMRTC_OK;
    for (size_t off = 0; off < stream->len && rc == CAMRTC_OK; off += piece) {
        size_t n = stream->len - off < piece ? stream->len - off : piece;
        rc = camrtc_ws_feed(s, camrtc_buf_data(stream) + off, n);
    }
    camrtc_ws_drain(s, out);
    camrtc_ws_free(s);
    return rc;
}

/* A text split across feeds is checked as it arrives: bad UTF-8 fails the feed
 * that brings the first impossible byte, with close 1007. */
TEST(split_text_fails_at_the_first_bad_byte)
{
    static const struct { const char *s; size_t n, bad_at; } cases[] = {
        {"abcdefgh\xff" "ijkl", 13, 8},            /* never valid */
        {"abcdefgh\xe0\x80" "ijkl", 14, 9},        /* overlong: E0 needs A0-BF next */
        {"abcdefgh\xed\xa0\x80" "ijk", 14, 9},     /* surrogate: ED needs 80-9F next */
        {"abcdefgh\xf4\x90\x80\x80" "ij", 14, 9},  /* over U+10FFFF */
        {"abcdefghijklm\xc3", 14, 13},             /* cut short: fails at the end */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        camrtc_buf in = {0};
        frame(&in, 0x81, cases[c].s, cases[c].n, true, (unsigned)c);
        size_t hl = 6;
        /* Feed up to just before the bad byte, then the rest byte by byte. */
        camrtc_ws_config sc = {.server = true};
        tally t = {0};
        camrtc_ws *s = camrtc_ws_new(&sc, &tally_cb, &t);
        CHECK(s);
        size_t first = hl + cases[c].bad_at;
        CHECK_EQ_INT(camrtc_ws_feed(s, camrtc_buf_data(&in), first), CAMRTC_OK);
        int rc = CAMRTC_OK;
        size_t off = first;
        for (; off < in.len && rc == CAMRTC_OK; off++)
            rc = camrtc_ws_feed(s, camrtc_buf_data(&in) + off, 1);
        CHECK_EQ_INT(rc, CAMRTC_EPROTO);
        CHECK_EQ_INT(off, first + 1);
        CHECK_EQ_INT(t.texts, 0);
        camrtc_buf out = {0};
        camrtc_ws_drain(s, &out);
        CHECK_EQ_INT(out.len, 4);
        CHECK_EQ_MEM(camrtc_buf_data(&out), "\x88\x02\x03\xef", 4);
        camrtc_buf_free(&out);
        CHECK(camrtc_ws_is_closed(s));
        CHECK_EQ_INT(camrtc_ws_feed(s, (const uint8_t *)"x", 1), CAMRTC_EPROTO);
        camrtc_ws_free(s);
        camrtc_buf_free(&in);
    }
}

/* Texts of every length up to past a few 8/32/64-byte blocks, with a two-byte
 * character or a bad byte at every offset: the block-wise ASCII and unmasking
 * loops agree with the bytes, however the input is split. */
TEST(text_checks_and_unmasking_at_every_offset)
{
    uint8_t msg[140];
    camrtc_ws_config cc = {.server = false};
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 5), CAMRTC_OK);
    cc.rng = &rng;
    camrtc_ws *c = camrtc_ws_new(&cc, &tally_cb, NULL);
    CHECK(c);
    for (size_t n = 0; n <= sizeof msg; n++) {
        for (size_t at = 0; at <= n; at++) {
            for (size_t k = 0; k < n; k++)
                msg[k] = (uint8_t)('!' + (k * 13 + n) % 90);
            int kind = (int)((n + at) % 3); /* 0: ASCII, 1: U+00E9 at at, 2: 0xFF at at */
            if (kind == 1 && at + 2 > n)
                kind = 0;
            if (kind == 1)
                msg[at] = 0xc3, msg[at + 1] = 0xa9;
            if (kind == 2 && at < n)
                msg[at] = 0xff;
            else if (kind == 2)
                kind = 0;
            CHECK_EQ_INT(camrtc_ws_send_text(c, msg, n), kind == 2 ? CAMRTC_EINVAL : CAMRTC_OK);
            camrtc_buf in = {0}, whole = {0}, bytes = {0};
            frame(&in, 0x81, msg, n, true, (unsigned)(n * 7 + at));
            tally tw = {0}, tb = {0}, want = {0};
            int rw = run_pieces(&in, in.len ? in.len : 1, &whole, &tw);
            int rb = run_pieces(&in, 1 + at % 5, &bytes, &tb);
            CHECK_EQ_INT(rw, kind == 2 ? CAMRTC_EPROTO : CAMRTC_OK);
            CHECK_EQ_INT(rb, rw);
            CHECK_EQ_INT(whole.len, bytes.len);
            CHECK(whole.len == 0 || memcmp(camrtc_buf_data(&whole), camrtc_buf_data(&bytes), whole.len) == 0);
            if (kind != 2)
                t_text(&want, msg, n);
            CHECK_EQ_INT(tw.texts, want.texts);
            CHECK_EQ_INT(tw.sum, want.sum);
            CHECK_EQ_INT(tb.sum, want.sum);
            camrtc_buf_free(&in);
            camrtc_buf_free(&whole);
            camrtc_buf_free(&bytes);
        }
    }
    camrtc_ws_free(c);
    camrtc_rng_free(&rng);
}

/* What a callback sends is written once it returns, in the order wslay gave
 * queued frames: control frames first; a close goes out alone. */
typedef struct script {
    camrtc_ws *ws;
    int step;
    size_t pending_inside;
    int rc[4];
} script;

static void s_text(void *ud, const uint8_t *d, size_t n)
{
    script *sc = ud;
    if (sc->step == 0) {
        sc->rc[0] = camrtc_ws_send_text(sc->ws, "t1", 2);
        sc->rc[1] = camrtc_ws_send_ping(sc->ws, "p1", 2);
        sc->rc[2] = camrtc_ws_send_text(sc->ws, "t2", 2);
        sc->pending_inside = camrtc_ws_pending(sc->ws);
    } else {
        sc->rc[0] = camrtc_ws_send_text(sc->ws, "t3", 2);
        sc->rc[1] = camrtc_ws_send_ping(sc->ws, "p2", 2);
        sc->rc[2] = camrtc_ws_send_close(sc->ws, 1000, NULL);
        sc->rc[3] = camrtc_ws_send_text(sc->ws, "t4", 2);
    }
    sc->step++;
}

TEST(sends_from_callbacks_keep_their_order)
{
    camrtc_ws_config cfg = {.server = true};
    camrtc_ws_callbacks cb = {s_text, NULL, NULL, NULL};
    script sc = {0};
    sc.ws = camrtc_ws_new(&cfg, &cb, &sc);
    CHECK(sc.ws);
    camrtc_buf in = {0}, out = {0};
    frame(&in, 0x81, "go", 2, true, 1);
    CHECK_EQ_INT(camrtc_ws_send_text(sc.ws, "before", 6), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ws_feed(sc.ws, camrtc_buf_data(&in), in.len), CAMRTC_OK);
    CHECK_EQ_INT(sc.rc[0], CAMRTC_OK);
    CHECK_EQ_INT(sc.rc[1], CAMRTC_OK);
    CHECK_EQ_INT(sc.rc[2], CAMRTC_OK);
    CHECK_EQ_INT(sc.pending_inside, 8); /* only "before" */
    camrtc_ws_drain(sc.ws, &out);
    static const uint8_t first[] = {0x81, 6, 'b', 'e', 'f', 'o', 'r', 'e', 0x89, 2, 'p', '1',
                                    0x81, 2, 't', '1', 0x81, 2, 't', '2'};
    CHECK_EQ_INT(out.len, sizeof first);
    CHECK_EQ_MEM(camrtc_buf_data(&out), first, sizeof first);
    /* The close goes out alone: what the callback sent before it never does. */
    out.len = 0;
    CHECK_EQ_INT(camrtc_ws_feed(sc.ws, camrtc_buf_data(&in), in.len), CAMRTC_OK);
    CHECK_EQ_INT(sc.rc[0], CAMRTC_OK);
    CHECK_EQ_INT(sc.rc[1], CAMRTC_OK);
    CHECK_EQ_INT(sc.rc[2], CAMRTC_OK);
    CHECK_EQ_INT(sc.rc[3], CAMRTC_ECLOSED);
    camrtc_ws_drain(sc.ws, &out);
    CHECK_EQ_INT(out.len, 4);
    CHECK_EQ_MEM(camrtc_buf_data(&out), "\x88\x02\x03\xe8", 4);
    CHECK(camrtc_ws_close_sent(sc.ws));
    camrtc_ws_free(sc.ws);
    camrtc_buf_free(&in);
    camrtc_buf_free(&out);
}

int main(void)
{
    return RUN_TESTS(idle_server_sessions_hold_under_1k_each, server_alternates_idle_and_active_with_split_messages,
                     client_alternates_idle_and_active_with_split_messages, split_text_fails_at_the_first_bad_byte,
                     text_checks_and_unmasking_at_every_offset, sends_from_callbacks_keep_their_order);
}
