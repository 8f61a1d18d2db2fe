#include "check.h"

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"
#include "camrtc/ws.h"

/* What one side's callbacks saw. */
typedef struct rec {
    camrtc_ws *self;       /* for callbacks that act on the session */
    int n_text, n_binary, n_pong, n_close;
    camrtc_buf text;       /* last text message */
    camrtc_buf binary;     /* last binary message */
    uint8_t pong[126];
    size_t pong_len;
    uint16_t close_code;
    char reason[128];
    bool echo;             /* answer each text with the same text, from the callback */
    int feed_rc;           /* what a feed from inside a callback returned */
} rec;

static void save(camrtc_buf *b, const uint8_t *d, size_t n)
{
    camrtc_buf_reset(b);
    if (camrtc_buf_append(b, d, n) < 0)
        abort();
}

static void on_text(void *ud, const uint8_t *d, size_t n)
{
    rec *r = ud;
    r->n_text++;
    save(&r->text, d, n);
    if (r->echo) {
        r->feed_rc = camrtc_ws_feed(r->self, d, n);
        camrtc_ws_send_text(r->self, d, n);
    }
}

static void on_binary(void *ud, const uint8_t *d, size_t n)
{
    rec *r = ud;
    r->n_binary++;
    save(&r->binary, d, n);
}

static void on_pong(void *ud, const uint8_t *d, size_t n)
{
    rec *r = ud;
    r->n_pong++;
    memcpy(r->pong, d, n);
    r->pong_len = n;
}

static void on_close(void *ud, uint16_t code, const uint8_t *reason, size_t n)
{
    rec *r = ud;
    r->n_close++;
    r->close_code = code;
    memcpy(r->reason, reason, n);
    r->reason[n] = '\0';
}

static const camrtc_ws_callbacks all_cb = {on_text, on_binary, on_pong, on_close};
static const camrtc_ws_callbacks no_binary_cb = {on_text, NULL, on_pong, on_close};

static void rec_free(rec *r)
{
    camrtc_buf_free(&r->text);
    camrtc_buf_free(&r->binary);
}

/* A client and a server session wired back to back. */
typedef struct pair {
    camrtc_rng rng;
    camrtc_ws *c, *s;
    rec rc, rs;
    camrtc_buf wire;
} pair;

static void pair_init(pair *p, size_t max_message)
{
    memset(p, 0, sizeof *p);
    if (camrtc_rng_init_seed(&p->rng, 42) < 0)
        abort();
    camrtc_ws_config cc = {.server = false, .max_message = max_message, .rng = &p->rng};
    camrtc_ws_config sc = {.server = true, .max_message = max_message, .rng = NULL};
    p->c = camrtc_ws_new(&cc, &all_cb, &p->rc);
    p->s = camrtc_ws_new(&sc, &all_cb, &p->rs);
    if (!p->c || !p->s)
        abort();
    p->rc.self = p->c;
    p->rs.self = p->s;
}

static void pair_free(pair *p)
{
    camrtc_ws_free(p->c);
    camrtc_ws_free(p->s);
    rec_free(&p->rc);
    rec_free(&p->rs);
    camrtc_buf_free(&p->wire);
    camrtc_rng_free(&p->rng);
}

/* Move bytes from a to b; returns b's feed result. */
static int hop(camrtc_ws *a, camrtc_ws *b, camrtc_buf *wire)
{
    camrtc_buf_reset(wire);
    if (camrtc_ws_drain(a, wire) < 0)
        return CAMRTC_EINTERNAL;
    return camrtc_ws_feed(b, camrtc_buf_data(wire), wire->len);
}

/* Exchange bytes until both sides are quiet; returns the first feed error. */
static int pump(pair *p)
{
    for (int i = 0; i < 16 && (camrtc_ws_pending(p->c) || camrtc_ws_pending(p->s)); i++) {
        int rc = hop(p->c, p->s, &p->wire);
        if (rc < 0)
            return rc;
        rc = hop(p->s, p->c, &p->wire);
        if (rc < 0)
            return rc;
    }
    return CAMRTC_OK;
}

/* Append a frame as a client would send it (masked with a fixed key) or, when
 * mask is false, unmasked. b0 is the whole first byte (FIN, RSV, opcode). */
static void frame(camrtc_buf *b, uint8_t b0, const void *payload, size_t n, bool mask)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
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

/* One frame parsed back from session output. */
typedef struct parsed {
    uint8_t b0;
    bool masked;
    uint64_t len;
    uint8_t payload[256]; /* first bytes, unmasked */
    size_t size;          /* header + payload bytes */
} parsed;

static bool parse(const uint8_t *p, size_t n, parsed *f)
{
    if (n < 2)
        return false;
    memset(f, 0, sizeof *f);
    f->b0 = p[0];
    f->masked = p[1] & 0x80;
    uint64_t len = p[1] & 0x7f;
    size_t hl = 2;
    if (len == 126) {
        if (n < 4)
            return false;
        len = (uint64_t)p[2] << 8 | p[3];
        hl = 4;
    } else if (len == 127) {
        if (n < 10)
            return false;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        hl = 10;
    }
    const uint8_t *key = p + hl;
    if (f->masked)
        hl += 4;
    if (n < hl || n - hl < len)
        return false;
    f->len = len;
    for (size_t i = 0; i < len && i < sizeof f->payload; i++)
        f->payload[i] = f->masked ? (uint8_t)(p[hl + i] ^ key[i % 4]) : p[hl + i];
    f->size = hl + (size_t)len;
    return true;
}

/* The close code in the last frame of ws's output, which must be a close frame;
 * -1 when there is none. */
static int last_close_code(camrtc_ws *ws)
{
    camrtc_buf out = {0};
    camrtc_ws_drain(ws, &out);
    const uint8_t *p = camrtc_buf_data(&out);
    size_t n = out.len, off = 0;
    parsed f = {0}, last = {0};
    bool any = false;
    while (off < n && parse(p + off, n - off, &f)) {
        off += f.size;
        last = f;
        any = true;
    }
    camrtc_buf_free(&out);
    if (!any || off != n || (last.b0 & 0x0f) != 0x8 || last.len < 2)
        return -1;
    return last.payload[0] << 8 | last.payload[1];
}

/* A server session with the given bound, fed stream; returns feed's result and
 * leaves the session in *out for further checks. */
static int feed_server(const camrtc_buf *stream, size_t max_message, const camrtc_ws_callbacks *cb, rec *r,
                       camrtc_ws **out)
{
    camrtc_ws_config sc = {.server = true, .max_message = max_message};
    *out = camrtc_ws_new(&sc, cb, r);
    if (!*out)
        abort();
    r->self = *out;
    return camrtc_ws_feed(*out, camrtc_buf_data(stream), stream->len);
}

static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('a' + i % 26);
}

TEST(text_both_ways_at_length_boundaries)
{
    static const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536};
    uint8_t *msg = malloc(65536);
    CHECK(msg);
    fill(msg, 65536);
    pair p;
    pair_init(&p, 70000);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i];
        CHECK_EQ_INT(camrtc_ws_send_text(p.c, msg, n), CAMRTC_OK);
        /* Client frames are masked; the length field is the shortest form. */
        camrtc_buf wire = {0};
        CHECK_EQ_INT(camrtc_ws_drain(p.c, &wire), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_ws_pending(p.c), 0);
        parsed f;
        CHECK(parse(camrtc_buf_data(&wire), wire.len, &f));
        CHECK(f.masked);
        CHECK_EQ_INT(f.b0, 0x81);
        CHECK_EQ_INT(f.len, n);
        CHECK_EQ_INT(f.size, wire.len);
        CHECK_EQ_INT(wire.len - n, 2 + 4 + (n < 126 ? 0 : n < 65536 ? 2 : 8));
        CHECK_EQ_INT(camrtc_ws_feed(p.s, camrtc_buf_data(&wire), wire.len), CAMRTC_OK);
        camrtc_buf_free(&wire);
        CHECK_EQ_INT(p.rs.n_text, (int)i + 1);
        CHECK_EQ_INT(p.rs.text.len, n);
        CHECK(n == 0 || memcmp(camrtc_buf_data(&p.rs.text), msg, n) == 0);

        CHECK_EQ_INT(camrtc_ws_send_text(p.s, msg, n), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_ws_pending(p.s), n + 2 + (n < 126 ? 0 : n < 65536 ? 2 : 8));
        CHECK_EQ_INT(pump(&p), CAMRTC_OK);
        CHECK_EQ_INT(p.rc.n_text, (int)i + 1);
        CHECK_EQ_INT(p.rc.text.len, n);
        CHECK(n == 0 || memcmp(camrtc_buf_data(&p.rc.text), msg, n) == 0);
    }
    CHECK(!camrtc_ws_is_closed(p.c));
    CHECK(!camrtc_ws_is_closed(p.s));
    pair_free(&p);
    free(msg);
}

TEST(fragmented_message_reassembled_around_ping)
{
    camrtc_buf in = {0};
    frame(&in, 0x01, "Hel", 3, true);          /* text, not final */
    frame(&in, 0x89, "p1", 2, true);           /* ping between fragments */
    frame(&in, 0x00, "lo \xc3", 4, true);      /* continuation splits U+00E9 */
    frame(&in, 0x80, "\xa9t\xc3\xa9", 4, true);/* final continuation */
    rec r = {0};
    camrtc_ws *s;
    CHECK_EQ_INT(feed_server(&in, 0, &all_cb, &r, &s), CAMRTC_OK);
    CHECK_EQ_INT(r.n_text, 1);
    CHECK_EQ_INT(r.text.len, 11);
    CHECK_EQ_MEM(camrtc_buf_data(&r.text), "Hello \xc3\xa9t\xc3\xa9", 11);
    /* The ping was answered by an unmasked pong with the same data. */
    camrtc_buf out = {0};
    camrtc_ws_drain(s, &out);
    parsed f;
    CHECK(parse(camrtc_buf_data(&out), out.len, &f));
    CHECK_EQ_INT(f.b0, 0x8a);
    CHECK(!f.masked);
    CHECK_EQ_INT(f.len, 2);
    CHECK_EQ_MEM(f.payload, "p1", 2);
    CHECK_EQ_INT(f.size, out.len);
    camrtc_buf_free(&out);
    camrtc_buf_free(&in);
    camrtc_ws_free(s);
    rec_free(&r);
}

TEST(ping_answered_with_pong_both_ways)
{
    pair p;
    pair_init(&p, 0);
    CHECK_EQ_INT(camrtc_ws_send_ping(p.c, "hb-1", 4), CAMRTC_OK);
    CHECK_EQ_INT(pump(&p), CAMRTC_OK);
    CHECK_EQ_INT(p.rc.n_pong, 1);
    CHECK_EQ_INT(p.rc.pong_len, 4);
    CHECK_EQ_MEM(p.rc.pong, "hb-1", 4);
    CHECK_EQ_INT(p.rs.n_pong, 0);
    CHECK_EQ_INT(camrtc_ws_send_ping(p.s, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(pump(&p), CAMRTC_OK);
    CHECK_EQ_INT(p.rs.n_pong, 1);
    CHECK_EQ_INT(p.rs.pong_len, 0);
    CHECK_EQ_INT(p.rc.n_pong, 1);
    CHECK_EQ_INT(p.rs.n_text + p.rc.n_text, 0);
    pair_free(&p);
}

TEST(close_handshake_started_by_client)
{
    pair p;
    pair_init(&p, 0);
    CHECK(!camrtc_ws_close_sent(p.c));
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 1000, "bye"), CAMRTC_OK);
    CHECK(camrtc_ws_close_sent(p.c));
    CHECK(!camrtc_ws_is_closed(p.c));
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 1000, "again"), CAMRTC_ECLOSED);
    CHECK_EQ_INT(camrtc_ws_send_text(p.c, "x", 1), CAMRTC_ECLOSED);
    CHECK_EQ_INT(hop(p.c, p.s, &p.wire), CAMRTC_OK);
    CHECK_EQ_INT(p.rs.n_close, 1);
    CHECK_EQ_INT(p.rs.close_code, 1000);
    CHECK_EQ_STR(p.rs.reason, "bye");
    /* The server echoed at once and may close its transport after draining. */
    CHECK(camrtc_ws_close_sent(p.s));
    CHECK(camrtc_ws_is_closed(p.s));
    CHECK(camrtc_ws_pending(p.s) > 0);
    CHECK_EQ_INT(camrtc_ws_send_text(p.s, "x", 1), CAMRTC_ECLOSED);
    CHECK_EQ_INT(hop(p.s, p.c, &p.wire), CAMRTC_OK);
    CHECK_EQ_INT(p.rc.n_close, 1);
    CHECK_EQ_INT(p.rc.close_code, 1000);
    CHECK_EQ_STR(p.rc.reason, "bye");
    CHECK(camrtc_ws_is_closed(p.c));
    CHECK_EQ_INT(camrtc_ws_pending(p.c), 0);
    /* Bytes after the close are ignored. */
    CHECK_EQ_INT(camrtc_ws_feed(p.c, (const uint8_t *)"\x81\x01x", 3), CAMRTC_OK);
    CHECK_EQ_INT(p.rc.n_text, 0);
    pair_free(&p);
}

TEST(close_handshake_started_by_server)
{
    pair p;
    pair_init(&p, 0);
    CHECK_EQ_INT(camrtc_ws_send_close(p.s, 4001, "going \xc3\xa9"), CAMRTC_OK);
    CHECK(!camrtc_ws_is_closed(p.s));
    CHECK_EQ_INT(pump(&p), CAMRTC_OK);
    CHECK_EQ_INT(p.rc.n_close, 1);
    CHECK_EQ_INT(p.rc.close_code, 4001);
    CHECK_EQ_STR(p.rc.reason, "going \xc3\xa9");
    CHECK_EQ_INT(p.rs.n_close, 1);
    CHECK_EQ_INT(p.rs.close_code, 4001);
    CHECK(camrtc_ws_is_closed(p.s));
    CHECK(camrtc_ws_is_closed(p.c));
    pair_free(&p);
}

TEST(close_without_status_reports_1005)
{
    pair p;
    pair_init(&p, 0);
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 0, NULL), CAMRTC_OK);
    CHECK_EQ_INT(pump(&p), CAMRTC_OK);
    CHECK_EQ_INT(p.rs.n_close, 1);
    CHECK_EQ_INT(p.rs.close_code, 1005);
    CHECK_EQ_INT(p.rs.reason[0], 0);
    CHECK(camrtc_ws_is_closed(p.c));
    pair_free(&p);
}

/* A close frame's reason is UTF-8-checked as a whole, whatever the input split. */
TEST(close_reason_checked_however_split)
{
    static const char good[] = "\x03\xe8" "d\xc3\xa9j\xc3\xa0 vu \xe2\x82\xac";
    static const char bad[] = "\x03\xe8" "ab\xc3\x28" "cd";
    for (size_t piece = 1; piece <= 8; piece++) {
        for (int which = 0; which < 2; which++) {
            camrtc_buf in = {0};
            const char *body = which ? bad : good;
            size_t n = which ? sizeof bad - 1 : sizeof good - 1;
            frame(&in, 0x88, body, n, true);
            rec r = {0};
            camrtc_buf empty = {0};
            camrtc_ws *s;
            CHECK_EQ_INT(feed_server(&empty, 0, &all_cb, &r, &s), CAMRTC_OK);
            int rc = CAMRTC_OK;
            for (size_t off = 0; off < in.len && rc == CAMRTC_OK; off += piece)
                rc = camrtc_ws_feed(s, camrtc_buf_data(&in) + off, in.len - off < piece ? in.len - off : piece);
            CHECK(camrtc_ws_is_closed(s));
            if (which) {
                CHECK_EQ_INT(rc, CAMRTC_EPROTO);
                CHECK_EQ_INT(r.n_close, 0);
                CHECK_EQ_INT(last_close_code(s), 1007);
            } else {
                CHECK_EQ_INT(rc, CAMRTC_OK);
                CHECK_EQ_INT(r.n_close, 1);
                CHECK_EQ_INT(r.close_code, 1000);
                CHECK_EQ_STR(r.reason, good + 2);
                CHECK_EQ_INT(last_close_code(s), 1000);
            }
            camrtc_ws_free(s);
            camrtc_buf_free(&in);
            rec_free(&r);
        }
    }
    /* Later-registered codes are fine; a masked close to a client is not. */
    camrtc_buf in = {0};
    frame(&in, 0x88, "\x03\xf4", 2, true);
    rec r = {0};
    camrtc_ws *s;
    CHECK_EQ_INT(feed_server(&in, 0, &all_cb, &r, &s), CAMRTC_OK);
    CHECK_EQ_INT(r.close_code, 1012);
    camrtc_ws_free(s);
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 7), CAMRTC_OK);
    camrtc_ws_config cc = {.server = false, .rng = &rng};
    camrtc_ws *c = camrtc_ws_new(&cc, &all_cb, &r);
    CHECK(c);
    CHECK_EQ_INT(camrtc_ws_feed(c, camrtc_buf_data(&in), in.len), CAMRTC_EPROTO);
    CHECK_EQ_INT(last_close_code(c), 1002);
    CHECK_EQ_INT(r.n_close, 1);
    camrtc_ws_free(c);
    camrtc_rng_free(&rng);
    camrtc_buf_free(&in);
    rec_free(&r);
}

TEST(max_message_closes_1009)
{
    uint8_t big[200];
    fill(big, sizeof big);
    camrtc_buf in = {0};
    rec r = {0};
    camrtc_ws *s;
    /* Exactly the bound passes. */
    frame(&in, 0x81, big, 100, true);
    CHECK_EQ_INT(feed_server(&in, 100, &all_cb, &r, &s), CAMRTC_OK);
    CHECK_EQ_INT(r.n_text, 1);
    camrtc_ws_free(s);
    /* One more byte in one frame. */
    camrtc_buf_reset(&in);
    frame(&in, 0x81, big, 101, true);
    CHECK_EQ_INT(feed_server(&in, 100, &all_cb, &r, &s), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(r.n_text, 1);
    CHECK(camrtc_ws_is_closed(s));
    CHECK(camrtc_ws_close_sent(s));
    CHECK_EQ_INT(last_close_code(s), 1009);
    CHECK_EQ_INT(camrtc_ws_feed(s, (const uint8_t *)"x", 1), CAMRTC_ETOOBIG);
    camrtc_ws_free(s);
    /* Or spread over fragments. */
    camrtc_buf_reset(&in);
    frame(&in, 0x01, big, 60, true);
    frame(&in, 0x80, big, 60, true);
    CHECK_EQ_INT(feed_server(&in, 100, &all_cb, &r, &s), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(last_close_code(s), 1009);
    CHECK_EQ_INT(r.n_text, 1);
    camrtc_ws_free(s);
    /* A header announcing 2^62 bytes is refused at its first payload byte. */
    camrtc_buf_reset(&in);
    static const uint8_t huge[] = {0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 'x'};
    camrtc_buf_append(&in, huge, sizeof huge);
    CHECK_EQ_INT(feed_server(&in, 100, &all_cb, &r, &s), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(last_close_code(s), 1009);
    camrtc_ws_free(s);
    camrtc_buf_free(&in);
    rec_free(&r);
}

TEST(invalid_utf8_text_closes_1007)
{
    static const struct { const char *s; size_t n; } bad[] = {
        {"\xff", 1}, {"ok\xc3", 3}, {"\xc0\xaf", 2}, {"\xed\xa0\x80", 3}, {"\xf4\x90\x80\x80", 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        camrtc_buf in = {0};
        frame(&in, 0x81, bad[i].s, bad[i].n, true);
        rec r = {0};
        camrtc_ws *s;
        CHECK_EQ_INT(feed_server(&in, 0, &all_cb, &r, &s), CAMRTC_EPROTO);
        CHECK_EQ_INT(r.n_text, 0);
        CHECK_EQ_INT(last_close_code(s), 1007);
        CHECK(camrtc_ws_is_closed(s));
        camrtc_ws_free(s);
        camrtc_buf_free(&in);
    }
    /* Invalid bytes in a later fragment. */
    camrtc_buf in = {0};
    frame(&in, 0x01, "fine", 4, true);
    frame(&in, 0x80, "\xfe", 1, true);
    rec r = {0};
    camrtc_ws *s;
    CHECK_EQ_INT(feed_server(&in, 0, &all_cb, &r, &s), CAMRTC_EPROTO);
    CHECK_EQ_INT(last_close_code(s), 1007);
    camrtc_ws_free(s);
    camrtc_buf_free(&in);
    rec_free(&r);
}

TEST(unmasked_frame_to_server_closes_1002)
{
    camrtc_buf in = {0};
    frame(&in, 0x81, "hi", 2, false);
    rec r = {0};
    camrtc_ws *s;
    CHECK_EQ_INT(feed_server(&in, 0, &all_cb, &r, &s), CAMRTC_EPROTO);
    CHECK_EQ_INT(r.n_text, 0);
    CHECK_EQ_INT(last_close_code(s), 1002);
    camrtc_ws_free(s);
    /* And a masked frame to a client. */
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 7), CAMRTC_OK);
    camrtc_ws_config cc = {.server = false, .rng = &rng};
    camrtc_ws *c = camrtc_ws_new(&cc, &all_cb, &r);
    CHECK(c);
    camrtc_buf_reset(&in);
    frame(&in, 0x81, "hi", 2, true);
    CHECK_EQ_INT(camrtc_ws_feed(c, camrtc_buf_data(&in), in.len), CAMRTC_EPROTO);
    CHECK_EQ_INT(r.n_text, 0);
    /* The client's close frame is masked; last_close_code unmasks it. */
    CHECK_EQ_INT(last_close_code(c), 1002);
    camrtc_ws_free(c);
    camrtc_rng_free(&rng);
    camrtc_buf_free(&in);
    rec_free(&r);
}

/* Feeds one masked frame (or two) to a fresh server and expects a 1002 close. */
static int expect_1002(uint8_t b0a, const char *pa, size_t na, int b0b, const char *pb, size_t nb)
{
    camrtc_buf in = {0};
    frame(&in, b0a, pa, na, true);
    if (b0b >= 0)
        frame(&in, (uint8_t)b0b, pb, nb, true);
    rec r = {0};
    camrtc_ws *s;
    int rc = feed_server(&in, 0, &all_cb, &r, &s);
    int code = last_close_code(s);
    int ok = rc == CAMRTC_EPROTO && code == 1002 && r.n_text == 0 && camrtc_ws_is_closed(s);
    if (!ok)
        fprintf(stderr, "  b0 %02x: rc %d code %d texts %d\n", b0a, rc, code, r.n_text);
    camrtc_ws_free(s);
    camrtc_buf_free(&in);
    rec_free(&r);
    return ok;
}

TEST(reserved_bits_and_opcodes_close_1002)
{
    CHECK(expect_1002(0xc1, "x", 1, -1, NULL, 0)); /* RSV1 */
    CHECK(expect_1002(0xa1, "x", 1, -1, NULL, 0)); /* RSV2 */
    CHECK(expect_1002(0x91, "x", 1, -1, NULL, 0)); /* RSV3 */
    CHECK(expect_1002(0x83, "x", 1, -1, NULL, 0)); /* reserved data opcode */
    CHECK(expect_1002(0x87, "x", 1, -1, NULL, 0));
    CHECK(expect_1002(0x8b, "x", 1, -1, NULL, 0)); /* reserved control opcode */
    CHECK(expect_1002(0x8f, "", 0, -1, NULL, 0));
    CHECK(expect_1002(0x80, "x", 1, -1, NULL, 0)); /* continuation with nothing to continue */
    CHECK(expect_1002(0x01, "a", 1, 0x81, "b", 1)); /* new message inside a fragmented one */
    CHECK(expect_1002(0x88, "\x03\xed", 2, -1, NULL, 0)); /* close code 1005 may not be sent */
    CHECK(expect_1002(0x88, "\x03\xe7", 2, -1, NULL, 0)); /* 999 */
    CHECK(expect_1002(0x88, "\x03", 1, -1, NULL, 0));     /* one-byte close body */
    CHECK(expect_1002(0x88, "\x0b\xb7", 2, -1, NULL, 0)); /* 2999 */
    CHECK(expect_1002(0xc8, "\x03\xe8", 2, -1, NULL, 0)); /* RSV1 on a close */
}

TEST(oversized_and_fragmented_control_frames_close_1002)
{
    char big[126];
    memset(big, 'p', sizeof big);
    /* A good text first: it is delivered, then the bad ping closes. */
    camrtc_buf in = {0};
    frame(&in, 0x81, "first", 5, true);
    frame(&in, 0x89, big, 126, true);
    rec r = {0};
    camrtc_ws *s;
    CHECK_EQ_INT(feed_server(&in, 0, &all_cb, &r, &s), CAMRTC_EPROTO);
    CHECK_EQ_INT(r.n_text, 1);
    CHECK_EQ_INT(last_close_code(s), 1002);
    CHECK(camrtc_ws_is_closed(s));
    camrtc_ws_free(s);
    rec_free(&r);
    memset(&r, 0, sizeof r);
    CHECK(expect_1002(0x88, big, 126, -1, NULL, 0)); /* close over 125 */
    CHECK(expect_1002(0x8a, big, 126, -1, NULL, 0)); /* pong over 125 */
    CHECK(expect_1002(0x09, "p", 1, -1, NULL, 0));   /* ping without FIN */
    CHECK(expect_1002(0x08, "", 0, -1, NULL, 0));    /* close without FIN */
    CHECK(expect_1002(0x01, "a", 1, 0x09, "p", 1));  /* fragmented ping inside a message */
    /* Lengths not in their shortest form. */
    static const uint8_t l16[] = {0x81, 0xfe, 0x00, 0x05, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'};
    static const uint8_t l64[] = {0x81, 0xff, 0, 0, 0, 0, 0, 0, 0x00, 0x05, 1, 2, 3, 4};
    static const uint8_t top[] = {0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0x00, 0x05, 1, 2, 3, 4};
    const uint8_t *cases[] = {l16, l64, top};
    size_t sizes[] = {sizeof l16, sizeof l64, sizeof top};
    for (int i = 0; i < 3; i++) {
        in.len = 0;
        camrtc_buf_append(&in, cases[i], sizes[i]);
        CHECK_EQ_INT(feed_server(&in, 0, &all_cb, &r, &s), CAMRTC_EPROTO);
        CHECK_EQ_INT(last_close_code(s), 1002);
        camrtc_ws_free(s);
    }
    CHECK_EQ_INT(r.n_text, 0);
    camrtc_buf_free(&in);
    rec_free(&r);
}

TEST(binary_needs_a_handler_else_1003)
{
    camrtc_buf in = {0};
    frame(&in, 0x82, "\x00\x01\xff", 3, true);
    rec r = {0};
    camrtc_ws *s;
    CHECK_EQ_INT(feed_server(&in, 0, &all_cb, &r, &s), CAMRTC_OK);
    CHECK_EQ_INT(r.n_binary, 1);
    CHECK_EQ_INT(r.binary.len, 3);
    CHECK_EQ_MEM(camrtc_buf_data(&r.binary), "\x00\x01\xff", 3);
    camrtc_ws_free(s);
    CHECK_EQ_INT(feed_server(&in, 0, &no_binary_cb, &r, &s), CAMRTC_EUNSUPPORTED);
    CHECK_EQ_INT(r.n_binary, 1);
    CHECK_EQ_INT(last_close_code(s), 1003);
    CHECK(camrtc_ws_is_closed(s));
    camrtc_ws_free(s);
    camrtc_buf_free(&in);
    rec_free(&r);
}

/* Runs stream through a server in one piece and one byte at a time; both must
 * give the same events and output. */
TEST(byte_at_a_time_feeding)
{
    char mid[300];
    memset(mid, 'm', sizeof mid);
    camrtc_buf in = {0};
    frame(&in, 0x81, "one", 3, true);
    frame(&in, 0x01, mid, 200, true);
    frame(&in, 0x89, "ping!", 5, true);
    frame(&in, 0x80, mid, 100, true);
    frame(&in, 0x8a, "pong", 4, true);
    frame(&in, 0x81, "", 0, true);
    frame(&in, 0x88, "\x03\xe8ok", 4, true);
    rec whole = {0}, bytes = {0};
    camrtc_ws *a, *b;
    CHECK_EQ_INT(feed_server(&in, 0, &all_cb, &whole, &a), CAMRTC_OK);
    camrtc_buf empty = {0};
    CHECK_EQ_INT(feed_server(&empty, 0, &all_cb, &bytes, &b), CAMRTC_OK);
    for (size_t i = 0; i < in.len; i++)
        CHECK_EQ_INT(camrtc_ws_feed(b, camrtc_buf_data(&in) + i, 1), CAMRTC_OK);
    CHECK_EQ_INT(whole.n_text, 3);
    CHECK_EQ_INT(bytes.n_text, 3);
    CHECK_EQ_INT(bytes.text.len, 0);
    CHECK_EQ_INT(bytes.n_pong, 1);
    CHECK_EQ_MEM(bytes.pong, "pong", 4);
    CHECK_EQ_INT(bytes.n_close, 1);
    CHECK_EQ_INT(bytes.close_code, 1000);
    CHECK_EQ_STR(bytes.reason, "ok");
    CHECK(camrtc_ws_is_closed(b));
    CHECK_EQ_INT(camrtc_ws_pending(a), camrtc_ws_pending(b));
    camrtc_buf oa = {0}, ob = {0};
    camrtc_ws_drain(a, &oa);
    camrtc_ws_drain(b, &ob);
    CHECK_EQ_INT(oa.len, 2 + 5 + 2 + 4); /* pong "ping!", close 1000 "ok" */
    CHECK_EQ_MEM(camrtc_buf_data(&oa), camrtc_buf_data(&ob), oa.len);
    /* A split bad header is caught the same way. */
    camrtc_ws_free(b);
    CHECK_EQ_INT(feed_server(&empty, 0, &all_cb, &bytes, &b), CAMRTC_OK);
    static const uint8_t bad[] = {0x89, 0xfe, 0x00, 0x7e};
    int rc = CAMRTC_OK;
    for (size_t i = 0; i < sizeof bad && rc == CAMRTC_OK; i++)
        rc = camrtc_ws_feed(b, bad + i, 1);
    CHECK_EQ_INT(rc, CAMRTC_EPROTO);
    CHECK_EQ_INT(last_close_code(b), 1002);
    /* And the client side reading a server's output byte by byte. */
    pair p;
    pair_init(&p, 0);
    CHECK_EQ_INT(camrtc_ws_send_text(p.s, mid, 300), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ws_send_ping(p.s, "x", 1), CAMRTC_OK);
    camrtc_buf w = {0};
    camrtc_ws_drain(p.s, &w);
    for (size_t i = 0; i < w.len; i++)
        CHECK_EQ_INT(camrtc_ws_feed(p.c, camrtc_buf_data(&w) + i, 1), CAMRTC_OK);
    CHECK_EQ_INT(p.rc.n_text, 1);
    CHECK_EQ_INT(p.rc.text.len, 300);
    CHECK_EQ_INT(pump(&p), CAMRTC_OK);
    CHECK_EQ_INT(p.rs.n_pong, 1);
    pair_free(&p);
    camrtc_buf_free(&w);
    camrtc_buf_free(&oa);
    camrtc_buf_free(&ob);
    camrtc_ws_free(a);
    camrtc_ws_free(b);
    camrtc_buf_free(&in);
    rec_free(&whole);
    rec_free(&bytes);
}

TEST(send_from_callback_is_written_after_feed)
{
    pair p;
    pair_init(&p, 0);
    p.rs.echo = true;
    CHECK_EQ_INT(camrtc_ws_send_text(p.c, "echo me", 7), CAMRTC_OK);
    CHECK_EQ_INT(pump(&p), CAMRTC_OK);
    CHECK_EQ_INT(p.rs.feed_rc, CAMRTC_ESTATE);
    CHECK_EQ_INT(p.rc.n_text, 1);
    CHECK_EQ_MEM(camrtc_buf_data(&p.rc.text), "echo me", 7);
    pair_free(&p);
}

TEST(send_argument_checks)
{
    pair p;
    pair_init(&p, 0);
    char big[130];
    memset(big, 'r', sizeof big);
    big[124] = '\0';
    CHECK_EQ_INT(camrtc_ws_send_text(p.c, "\xc3", 1), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_send_text(p.c, "\xed\xa0\x80", 3), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_send_ping(p.c, big, 126), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 1000, big), CAMRTC_EINVAL); /* 124-byte reason */
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 1005, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 1006, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 999, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 0, "why"), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 1000, "\xff"), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_pending(p.c), 0);
    big[123] = '\0';
    CHECK_EQ_INT(camrtc_ws_send_close(p.c, 1001, big), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ws_pending(p.c), 2 + 4 + 125);
    camrtc_ws_config no_rng = {.server = false};
    CHECK(camrtc_ws_new(&no_rng, &all_cb, NULL) == NULL);
    CHECK(camrtc_ws_new(NULL, &all_cb, NULL) == NULL);
    pair_free(&p);
}

int main(void)
{
    return RUN_TESTS(text_both_ways_at_length_boundaries, fragmented_message_reassembled_around_ping,
                     ping_answered_with_pong_both_ways, close_handshake_started_by_client,
                     close_handshake_started_by_server, close_without_status_reports_1005,
                     close_reason_checked_however_split, max_message_closes_1009, invalid_utf8_text_closes_1007,
                     unmasked_frame_to_server_closes_1002, reserved_bits_and_opcodes_close_1002,
                     oversized_and_fragmented_control_frames_close_1002, binary_needs_a_handler_else_1003,
                     byte_at_a_time_feeding, send_from_callback_is_written_after_feed, send_argument_checks);
}
