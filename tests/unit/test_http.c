#include "check.h"

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/http.h"
#include "camrtc/url.h"

#define MAXB 4096

/* Feed all of s at once; returns feed's result, *used the bytes consumed. */
static int feed_str(camrtc_http_parser *p, const char *s, size_t *used)
{
    size_t u = 0;
    int rc = camrtc_http_parser_feed(p, (const uint8_t *)s, strlen(s), &u);
    if (used)
        *used = u;
    return rc;
}

/* Feed s one byte at a time until the parser stops asking for more. */
static int feed_bytewise(camrtc_http_parser *p, const char *s, size_t len, size_t *used)
{
    int rc = CAMRTC_EAGAIN;
    size_t i = 0;
    while (i < len) {
        size_t u = 0;
        rc = camrtc_http_parser_feed(p, (const uint8_t *)s + i, 1, &u);
        i += u;
        if (rc != CAMRTC_EAGAIN)
            break;
    }
    *used = i;
    return rc;
}

/* Parse one request (all at once) and return the error status it gets. */
static int request_status(const char *s, size_t max_body, int *rc_out)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, max_body);
    *rc_out = feed_str(&p, s, NULL);
    int st = camrtc_http_parser_error_status(&p);
    camrtc_http_parser_free(&p);
    return st;
}

static int response_status(const char *s, int *rc_out)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_RESPONSE, MAXB);
    *rc_out = feed_str(&p, s, NULL);
    int st = camrtc_http_parser_error_status(&p);
    camrtc_http_parser_free(&p);
    return st;
}

static bool msg_equal(const camrtc_http_msg *a, const camrtc_http_msg *b)
{
    if (strcmp(a->method, b->method) || strcmp(a->target, b->target) || strcmp(a->path, b->path) ||
        strcmp(a->query, b->query) || a->status != b->status || strcmp(a->reason, b->reason) ||
        a->version_minor != b->version_minor || a->n_headers != b->n_headers ||
        a->body_len != b->body_len || memcmp(a->body, b->body, a->body_len + 1) ||
        a->keep_alive != b->keep_alive || a->upgrade != b->upgrade)
        return false;
    for (size_t i = 0; i < a->n_headers; i++)
        if (strcmp(a->headers[i].name, b->headers[i].name) ||
            strcmp(a->headers[i].value, b->headers[i].value))
            return false;
    return true;
}

TEST(request_with_content_length)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
    const char *s = "POST /v1/get-ice-server-config?a=1&b=2 HTTP/1.1\r\n"
                    "Host: example.com\r\n"
                    "Content-Type:application/json  \r\n"
                    "X-Empty:\r\n"
                    "Content-Length: 5\r\n\r\nhello";
    size_t used;
    CHECK_EQ_INT(feed_str(&p, s, &used), CAMRTC_OK);
    CHECK_EQ_INT(used, strlen(s));
    const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
    CHECK_EQ_STR(m->method, "POST");
    CHECK_EQ_STR(m->target, "/v1/get-ice-server-config?a=1&b=2");
    CHECK_EQ_STR(m->path, "/v1/get-ice-server-config");
    CHECK_EQ_STR(m->query, "a=1&b=2");
    CHECK_EQ_INT(m->version_minor, 1);
    CHECK_EQ_INT(m->n_headers, 4);
    CHECK_EQ_STR(m->headers[1].name, "Content-Type");
    CHECK_EQ_STR(m->headers[1].value, "application/json");
    CHECK_EQ_STR(camrtc_http_header(m, "x-empty"), "");
    CHECK_EQ_STR(camrtc_http_header(m, "HOST"), "example.com");
    CHECK(camrtc_http_header(m, "missing") == NULL);
    CHECK_EQ_INT(m->body_len, 5);
    CHECK_EQ_STR((const char *)m->body, "hello");
    CHECK(m->keep_alive);
    CHECK(!m->upgrade);
    CHECK_EQ_INT(m->status, 0);
    CHECK_EQ_STR(m->reason, "");
    camrtc_http_parser_free(&p);
}

TEST(request_targets_and_bare_lf)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
    /* Bare LF line endings are accepted, and leading empty lines skipped. */
    CHECK_EQ_INT(feed_str(&p, "\r\n\nGET / HTTP/1.0\nHost: h\n\n", NULL), CAMRTC_OK);
    const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
    CHECK_EQ_STR(m->path, "/");
    CHECK_EQ_STR(m->query, "");
    CHECK_EQ_INT(m->version_minor, 0);
    CHECK_EQ_STR(camrtc_http_header(m, "host"), "h");
    CHECK_EQ_STR((const char *)m->body, "");
    CHECK_EQ_INT(m->body_len, 0);

    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "GET http://example.com:8080/a/b?x=y HTTP/1.1\r\n\r\n", NULL), CAMRTC_OK);
    CHECK_EQ_STR(m->target, "http://example.com:8080/a/b?x=y");
    CHECK_EQ_STR(m->path, "/a/b");
    CHECK_EQ_STR(m->query, "x=y");

    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "GET http://example.com HTTP/1.1\r\n\r\n", NULL), CAMRTC_OK);
    CHECK_EQ_STR(m->path, "/");

    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "OPTIONS * HTTP/1.1\r\n\r\n", NULL), CAMRTC_OK);
    CHECK_EQ_STR(m->path, "*");
    CHECK_EQ_STR(m->target, "*");

    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "GET /?only HTTP/1.1\r\n\r\n", NULL), CAMRTC_OK);
    CHECK_EQ_STR(m->path, "/");
    CHECK_EQ_STR(m->query, "only");
    camrtc_http_parser_free(&p);
}

TEST(chunked_request_with_extensions_and_trailers)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
    const char *s = "POST /up HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
                    "5;name=value\r\nhello\r\n"
                    "6 ; x\r\n world\r\n"
                    "0000\r\nX-Trailer: t\r\nOther:  v \r\n\r\nNEXT";
    size_t used;
    CHECK_EQ_INT(feed_str(&p, s, &used), CAMRTC_OK);
    CHECK_EQ_INT(used, strlen(s) - 4);
    const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
    CHECK_EQ_INT(m->body_len, 11);
    CHECK_EQ_STR((const char *)m->body, "hello world");
    CHECK(camrtc_http_header(m, "x-trailer") == NULL); /* trailers are discarded */
    camrtc_http_parser_free(&p);
}

TEST(keep_alive_rules)
{
    static const struct {
        const char *req;
        bool keep;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: foo, CLOSE\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: foo\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", true},
        {"GET / HTTP/1.0\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        camrtc_http_parser p;
        camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
        CHECK_EQ_INT(feed_str(&p, cases[i].req, NULL), CAMRTC_OK);
        if (camrtc_http_parser_msg(&p)->keep_alive != cases[i].keep) {
            fprintf(stderr, "keep-alive case %zu\n", i);
            CHECK(0);
        }
        camrtc_http_parser_free(&p);
    }
}

TEST(header_token_lookup)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
    CHECK_EQ_INT(feed_str(&p, "GET / HTTP/1.1\r\nAccept: a,b\r\nconnection: keep-alive ,\tUpgrade\r\n"
                              "Accept: c\r\n\r\n", NULL), CAMRTC_OK);
    const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
    CHECK(camrtc_http_header_has_token(m, "Connection", "upgrade"));
    CHECK(camrtc_http_header_has_token(m, "CONNECTION", "Keep-Alive"));
    CHECK(!camrtc_http_header_has_token(m, "Connection", "keep"));
    CHECK(camrtc_http_header_has_token(m, "accept", "c"));
    CHECK(camrtc_http_header_has_token(m, "accept", "b"));
    CHECK(!camrtc_http_header_has_token(m, "accept", "a,b"));
    CHECK(!camrtc_http_header_has_token(m, "missing", "a"));
    CHECK_EQ_STR(camrtc_http_header(m, "accept"), "a,b");
    /* Upgrade token without an Upgrade header is not an upgrade. */
    CHECK(!m->upgrade);
    camrtc_http_parser_free(&p);
}

TEST(pipelined_requests)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
    const char *s = "GET /one HTTP/1.1\r\n\r\n"
                    "POST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                    "POST /three HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
                    "GET /four HTTP/1.1\r\nHo";
    const char *want[] = {"/one", "/two", "/three"};
    const char *bodies[] = {"", "abc", "xy"};
    size_t off = 0, len = strlen(s);
    for (int k = 0; k < 3; k++) {
        size_t used = 0;
        CHECK_EQ_INT(camrtc_http_parser_feed(&p, (const uint8_t *)s + off, len - off, &used), CAMRTC_OK);
        const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
        CHECK_EQ_STR(m->path, want[k]);
        CHECK_EQ_STR((const char *)m->body, bodies[k]);
        off += used;
        camrtc_http_parser_reset(&p);
    }
    size_t used = 0;
    CHECK_EQ_INT(camrtc_http_parser_feed(&p, (const uint8_t *)s + off, len - off, &used), CAMRTC_EAGAIN);
    CHECK_EQ_INT(used, len - off);
    CHECK_EQ_INT(feed_str(&p, "st: h\r\n\r\n", &used), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_http_parser_msg(&p)->path, "/four");
    CHECK_EQ_STR(camrtc_http_header(camrtc_http_parser_msg(&p), "host"), "h");
    /* Feeding after a completed message starts the next one without an explicit reset. */
    CHECK_EQ_INT(feed_str(&p, "GET /five HTTP/1.1\r\n\r\n", &used), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_http_parser_msg(&p)->path, "/five");
    camrtc_http_parser_free(&p);
}

/* Every stream here is parsed all at once and byte by byte: same messages, same offsets. */
TEST(byte_at_a_time_matches_all_at_once)
{
    static const struct {
        int kind;
        bool no_body;
        const char *s;
    } streams[] = {
        {CAMRTC_HTTP_REQUEST, false,
         "\r\nPOST /a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
         "PUT /c HTTP/1.0\nTransfer-Encoding: chunked\n\n"},
        {CAMRTC_HTTP_REQUEST, false,
         "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n"
         "a\r\n0123456789\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n"},
        {CAMRTC_HTTP_REQUEST, false,
         "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"},
        {CAMRTC_HTTP_RESPONSE, false,
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4\r\nWiki\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
         "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"},
        {CAMRTC_HTTP_RESPONSE, true, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"},
    };
    for (size_t k = 0; k < sizeof streams / sizeof streams[0]; k++) {
        camrtc_http_parser a, b;
        camrtc_http_parser_init(&a, streams[k].kind, MAXB);
        camrtc_http_parser_init(&b, streams[k].kind, MAXB);
        const char *s = streams[k].s;
        size_t len = strlen(s), off_a = 0, off_b = 0;
        int n_msgs = 0;
        for (;;) {
            if (streams[k].no_body) {
                camrtc_http_parser_expect_no_body(&a);
                camrtc_http_parser_expect_no_body(&b);
            }
            size_t ua = 0, ub = 0;
            int ra = camrtc_http_parser_feed(&a, (const uint8_t *)s + off_a, len - off_a, &ua);
            int rb = feed_bytewise(&b, s + off_b, len - off_b, &ub);
            CHECK_EQ_INT(ra, rb);
            CHECK_EQ_INT(ua, ub);
            off_a += ua;
            off_b += ub;
            if (ra != CAMRTC_OK)
                break;
            n_msgs++;
            CHECK(msg_equal(camrtc_http_parser_msg(&a), camrtc_http_parser_msg(&b)));
            if (camrtc_http_parser_msg(&a)->upgrade)
                break;
            camrtc_http_parser_reset(&a);
            camrtc_http_parser_reset(&b);
        }
        CHECK(n_msgs >= 1);
        camrtc_http_parser_free(&a);
        camrtc_http_parser_free(&b);
    }
}

TEST(upgrade_request_leaves_websocket_bytes)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
    const char *head = "GET /?X-Amz-ChannelARN=x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                       "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    char s[512];
    size_t hl = strlen(head);
    memcpy(s, head, hl);
    memcpy(s + hl, "\x81\x83\x00\x00\x00\x00" "abc", 9);
    size_t used = 0;
    CHECK_EQ_INT(camrtc_http_parser_feed(&p, (const uint8_t *)s, hl + 9, &used), CAMRTC_OK);
    CHECK_EQ_INT(used, hl);
    const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
    CHECK(m->upgrade);
    CHECK_EQ_INT(m->body_len, 0);
    CHECK_EQ_STR(camrtc_http_header(m, "upgrade"), "websocket");

    /* HTTP/1.0 ignores Upgrade (RFC 9110 section 7.8). */
    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", NULL),
                 CAMRTC_OK);
    CHECK(!m->upgrade);
    camrtc_http_parser_free(&p);

    /* An upgrade cannot carry a body: the bytes after the headers are the new protocol's. */
    int rc;
    CHECK_EQ_INT(request_status("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                                "Content-Length: 3\r\n\r\nabc", MAXB, &rc), 400);
    CHECK_EQ_INT(rc, CAMRTC_EPROTO);
    CHECK_EQ_INT(request_status("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                                "Content-Length: 0\r\n\r\n", MAXB, &rc), 0);
    CHECK_EQ_INT(rc, CAMRTC_OK);
}

TEST(responses_with_and_without_body)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_RESPONSE, MAXB);
    const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", NULL), CAMRTC_OK);
    CHECK_EQ_INT(m->status, 200);
    CHECK_EQ_STR(m->reason, "OK");
    CHECK_EQ_STR((const char *)m->body, "{}");
    CHECK_EQ_STR(m->method, "");
    CHECK(m->keep_alive);

    /* HEAD: Content-Length describes a body that is not sent. */
    camrtc_http_parser_reset(&p);
    camrtc_http_parser_expect_no_body(&p);
    size_t used;
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nHTTP", &used), CAMRTC_OK);
    CHECK_EQ_INT(m->body_len, 0);
    CHECK_EQ_INT(used, strlen("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"));
    /* reset clears expect_no_body */
    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", NULL), CAMRTC_EAGAIN);

    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 204 No Content\r\n\r\nX", &used), CAMRTC_OK);
    CHECK_EQ_INT(m->status, 204);
    CHECK_EQ_INT(used, 27);

    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", NULL), CAMRTC_OK);
    CHECK_EQ_INT(m->body_len, 0);

    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 100 Continue\r\n\r\n", NULL), CAMRTC_OK);
    CHECK_EQ_INT(m->status, 100);
    CHECK(!m->upgrade);

    /* A status line without a reason phrase, with or without the SP. */
    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", NULL), CAMRTC_OK);
    CHECK_EQ_STR(m->reason, "");
    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.0 200\r\nContent-Length: 0\r\n\r\n", NULL), CAMRTC_OK);
    CHECK(!m->keep_alive);

    camrtc_http_parser_reset(&p);
    const char *up = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
    CHECK_EQ_INT(feed_str(&p, up, &used), CAMRTC_OK);
    CHECK(m->upgrade);
    CHECK_EQ_INT(used, strlen(up) - 4);

    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", NULL), CAMRTC_OK);
    CHECK_EQ_INT(m->body_len, 26);
    camrtc_http_parser_free(&p);
}

TEST(close_delimited_response)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_RESPONSE, 16);
    CHECK_EQ_INT(camrtc_http_parser_feed_eof(&p), CAMRTC_EAGAIN);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 200 OK\r\n\r\nsome ", NULL), CAMRTC_EAGAIN);
    CHECK_EQ_INT(feed_str(&p, "data", NULL), CAMRTC_EAGAIN);
    CHECK_EQ_INT(camrtc_http_parser_feed_eof(&p), CAMRTC_OK);
    const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
    CHECK_EQ_STR((const char *)m->body, "some data");
    CHECK(!m->keep_alive);
    CHECK_EQ_INT(camrtc_http_parser_feed_eof(&p), CAMRTC_EAGAIN);

    /* A close-delimited body is still bounded by max_body. */
    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "HTTP/1.1 200 OK\r\n\r\n0123456789abcdef", NULL), CAMRTC_EAGAIN);
    CHECK_EQ_INT(feed_str(&p, "!", NULL), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_http_parser_error_status(&p), 413);

    /* Cut short: in the headers, in a Content-Length body, in a chunk. */
    const char *cut[] = {"HTTP/1.1 200 OK\r\nContent-Le",
                         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"};
    for (int i = 0; i < 3; i++) {
        camrtc_http_parser_reset(&p);
        CHECK_EQ_INT(feed_str(&p, cut[i], NULL), CAMRTC_EAGAIN);
        CHECK_EQ_INT(camrtc_http_parser_feed_eof(&p), CAMRTC_EPROTO);
        CHECK_EQ_INT(camrtc_http_parser_error_status(&p), 400);
    }
    camrtc_http_parser_free(&p);
}

TEST(request_refusals)
{
    static const struct {
        const char *s;
        int rc, status;
    } cases[] = {
        {"G@T / HTTP/1.1\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET /\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET  / HTTP/1.1\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / HTTP/1.1 \r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET /a\x01 HTTP/1.1\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET /#frag HTTP/1.1\r\n\r\n", CAMRTC_EPROTO, 400},
        {"CONNECT example.com:443 HTTP/1.1\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET http:///x HTTP/1.1\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / http/1.1\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / HTTP/1.1x\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / HTTP/2.0\r\n\r\n", CAMRTC_EUNSUPPORTED, 505},
        {"GET / HTTP/1.2\r\n\r\n", CAMRTC_EUNSUPPORTED, 505},
        {"GET / HTTP/0.9\r\n\r\n", CAMRTC_EUNSUPPORTED, 505},
        {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / HTTP/1.1\r\n: h\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", CAMRTC_EPROTO, 400},      /* obs-fold */
        {"GET / HTTP/1.1\r\n\tX-A: a\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", CAMRTC_EPROTO, 400},         /* bare CR */
        {"GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / HTTP/1.1\r\nX-A: a\x1b[0m\r\n\r\n", CAMRTC_EPROTO, 400},
        {"GET / HTTP/1.1\rX: y\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", CAMRTC_ETOOBIG, 413},
        {"POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", CAMRTC_ETOOBIG, 413},
        {"POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n", CAMRTC_ETOOBIG, 413},
        {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", CAMRTC_EUNSUPPORTED, 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", CAMRTC_EUNSUPPORTED, 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", CAMRTC_EUNSUPPORTED, 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: ,\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 2\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\rx", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r;x\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a\x01\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naX", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\rX", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFF\r\n",
         CAMRTC_ETOOBIG, 413},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n", CAMRTC_ETOOBIG, 413},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n", CAMRTC_EAGAIN, 0},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n bad: fold\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Name: x\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\x01\r\n\r\n", CAMRTC_EPROTO, 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rX", CAMRTC_EPROTO, 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        int st = request_status(cases[i].s, MAXB, &rc);
        if (rc != cases[i].rc || st != cases[i].status) {
            fprintf(stderr, "case %zu: rc %d status %d\n", i, rc, st);
            CHECK(0);
        }
    }
}

TEST(chunked_bounds_across_chunks)
{
    /* Each chunk fits, their sum does not. */
    int rc;
    CHECK_EQ_INT(request_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "8\r\n12345678\r\n3\r\n", 10, &rc), 413);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(request_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "8\r\n12345678\r\n2\r\n90\r\n0\r\n\r\n", 10, &rc), 0);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    /* Leading zeros cannot run forever: the chunk-size line is bounded. */
    char big[2048];
    int n = snprintf(big, sizeof big, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    memset(big + n, '0', 1500);
    big[n + 1500] = '\0';
    CHECK_EQ_INT(request_status(big, MAXB, &rc), 400);
    CHECK_EQ_INT(rc, CAMRTC_EPROTO);
    /* Trailers are bounded like headers. */
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
    CHECK_EQ_INT(feed_str(&p, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", NULL),
                 CAMRTC_EAGAIN);
    rc = feed_str(&p, "X-T: ", NULL);
    for (int i = 0; i < 1000 && rc == CAMRTC_EAGAIN; i++)
        rc = feed_str(&p, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_http_parser_error_status(&p), 431);
    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(feed_str(&p, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", NULL),
                 CAMRTC_EAGAIN);
    rc = CAMRTC_EAGAIN;
    for (int i = 0; i < 1000 && rc == CAMRTC_EAGAIN; i++)
        rc = feed_str(&p, "T:\r\n", NULL);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_http_parser_error_status(&p), 431);
    camrtc_http_parser_free(&p);
}

TEST(header_limits)
{
    camrtc_buf b = {0};
    /* Exactly CAMRTC_HTTP_MAX_HEADERS fields are fine, one more is 431. */
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "GET / HTTP/1.1\r\n"), 0);
    for (int i = 0; i < CAMRTC_HTTP_MAX_HEADERS; i++)
        CHECK_EQ_INT(camrtc_buf_appendf(&b, "X-%d: v\r\n", i), 0);
    size_t before_end = b.len;
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "\r\n"), 0);
    int rc;
    CHECK_EQ_INT(request_status(camrtc_buf_cstr(&b), MAXB, &rc), 0);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    b.len = before_end;
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "X-last: v\r\n\r\n"), 0);
    CHECK_EQ_INT(request_status(camrtc_buf_cstr(&b), MAXB, &rc), 431);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);

    /* Header bytes: a block of exactly the limit passes, one byte more is 431. */
    camrtc_buf_reset(&b);
    const char *start = "GET / HTTP/1.1\r\nX: ";
    size_t fill = CAMRTC_HTTP_MAX_HEADER_BYTES - strlen(start) - 4;
    CHECK_EQ_INT(camrtc_buf_append_str(&b, start), 0);
    for (size_t i = 0; i < fill; i++)
        CHECK_EQ_INT(camrtc_buf_append(&b, "a", 1), 0);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "\r\n\r\n"), 0);
    CHECK_EQ_INT(b.len, CAMRTC_HTTP_MAX_HEADER_BYTES);
    CHECK_EQ_INT(request_status(camrtc_buf_cstr(&b), MAXB, &rc), 0);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    camrtc_buf_reset(&b);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, start), 0);
    for (size_t i = 0; i <= fill; i++)
        CHECK_EQ_INT(camrtc_buf_append(&b, "a", 1), 0);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "\r\n\r\n"), 0);
    CHECK_EQ_INT(request_status(camrtc_buf_cstr(&b), MAXB, &rc), 431);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);

    /* Endless headers without an empty line stop at the bound, fed piece by piece. */
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
    rc = feed_str(&p, "GET / HTTP/1.1\r\n", NULL);
    for (int i = 0; i < 100000 && rc == CAMRTC_EAGAIN; i++)
        rc = feed_str(&p, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_http_parser_error_status(&p), 431);
    /* Errors are sticky until reset. */
    CHECK_EQ_INT(feed_str(&p, "\r\n\r\n", NULL), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_http_parser_feed_eof(&p), CAMRTC_ETOOBIG);
    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(camrtc_http_parser_error_status(&p), 0);
    CHECK_EQ_INT(camrtc_http_parser_feed(&p, NULL, 0, NULL), CAMRTC_EAGAIN);
    CHECK_EQ_INT(feed_str(&p, "GET / HTTP/1.1\r\n\r\n", NULL), CAMRTC_OK);
    /* Empty lines before a request are skipped, but not without end. */
    camrtc_http_parser_reset(&p);
    rc = CAMRTC_EAGAIN;
    for (int i = 0; i < 100000 && rc == CAMRTC_EAGAIN; i++)
        rc = feed_str(&p, "\r\n", NULL);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_http_parser_error_status(&p), 431);
    camrtc_http_parser_free(&p);
    camrtc_buf_free(&b);
}

TEST(response_refusals)
{
    static const struct {
        const char *s;
        int rc, status;
    } cases[] = {
        {"HTTP/1.1 20 OK\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/1.1 2000 OK\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/1.1 600 Odd\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/1.1 099 Odd\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/1.1 2x0 OK\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/1.1  200 OK\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/1.1 200 O\x01K\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/2 200\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/2.0 200 OK\r\n\r\n", CAMRTC_EUNSUPPORTED, 505},
        {"ICY 200 OK\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", CAMRTC_EPROTO, 400},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: br\r\n\r\n", CAMRTC_EUNSUPPORTED, 501},
        {"HTTP/1.1 200 OK\r\nContent-Length: 4097\r\n\r\n", CAMRTC_ETOOBIG, 413},
        {"HTTP/1.1 200 OK\r\nX: a\r\n  folded\r\n\r\n", CAMRTC_EPROTO, 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        int st = response_status(cases[i].s, &rc);
        if (rc != cases[i].rc || st != cases[i].status) {
            fprintf(stderr, "case %zu: rc %d status %d\n", i, rc, st);
            CHECK(0);
        }
    }
}

TEST(memory_shrinks_after_reset)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, 64 * 1024);
    CHECK(p.head.mem == NULL && p.body.mem == NULL); /* init allocates nothing */
    CHECK_EQ_INT(feed_str(&p, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", NULL), CAMRTC_OK);
    CHECK(p.head.cap > 0 && p.head.cap <= 256);
    camrtc_http_parser_reset(&p);
    CHECK(p.head.mem != NULL); /* a small buffer is kept for the next message */

    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "POST / HTTP/1.1\r\nContent-Length: 40000\r\nX: "), 0);
    for (int i = 0; i < 12000; i++)
        CHECK_EQ_INT(camrtc_buf_append(&b, "v", 1), 0);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "\r\n\r\n"), 0);
    for (int i = 0; i < 40000; i++)
        CHECK_EQ_INT(camrtc_buf_append(&b, "b", 1), 0);
    size_t used;
    CHECK_EQ_INT(camrtc_http_parser_feed(&p, camrtc_buf_data(&b), b.len, &used), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_http_parser_msg(&p)->body_len, 40000);
    CHECK(p.head.cap >= 12000 && p.body.cap >= 40000);
    camrtc_http_parser_reset(&p);
    CHECK(p.head.cap <= 2048 && p.body.cap <= 4096);
    CHECK_EQ_INT(feed_str(&p, "GET / HTTP/1.1\r\n\r\n", NULL), CAMRTC_OK);
    camrtc_http_parser_free(&p);
    CHECK(p.head.mem == NULL && p.body.mem == NULL);
    camrtc_http_parser_free(&p); /* twice is safe */
    camrtc_buf_free(&b);
}

TEST(write_request_and_roundtrip)
{
    camrtc_buf out = {0};
    camrtc_kv h[] = {{"Host", "kinesisvideo.us-west-2.amazonaws.com"}, {"Content-Type", "application/json"}};
    const char *body = "{\"ChannelName\":\"x\"}";
    CHECK_EQ_INT(camrtc_http_write_request(&out, "POST", "/describeSignalingChannel", h, 2, body,
                                           strlen(body)), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "POST /describeSignalingChannel HTTP/1.1\r\n"
                                        "Host: kinesisvideo.us-west-2.amazonaws.com\r\n"
                                        "Content-Type: application/json\r\n"
                                        "Content-Length: 19\r\n\r\n{\"ChannelName\":\"x\"}");
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_REQUEST, MAXB);
    size_t used;
    CHECK_EQ_INT(camrtc_http_parser_feed(&p, camrtc_buf_data(&out), out.len, &used), CAMRTC_OK);
    CHECK_EQ_INT(used, out.len);
    const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
    CHECK_EQ_STR(m->method, "POST");
    CHECK_EQ_STR(m->target, "/describeSignalingChannel");
    CHECK_EQ_STR(camrtc_http_header(m, "content-type"), "application/json");
    CHECK_EQ_INT(m->body_len, strlen(body));
    CHECK_EQ_MEM(m->body, body, strlen(body));

    /* GET without a body gets no Content-Length; POST without one gets 0; a given one is kept. */
    camrtc_buf_reset(&out);
    CHECK_EQ_INT(camrtc_http_write_request(&out, "GET", "/x?y=1", NULL, 0, NULL, 0), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "GET /x?y=1 HTTP/1.1\r\n\r\n");
    camrtc_buf_reset(&out);
    CHECK_EQ_INT(camrtc_http_write_request(&out, "POST", "/", NULL, 0, NULL, 0), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    camrtc_buf_reset(&out);
    camrtc_kv cl[] = {{"content-length", "2"}};
    CHECK_EQ_INT(camrtc_http_write_request(&out, "PUT", "/", cl, 1, "ab", 2), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "PUT / HTTP/1.1\r\ncontent-length: 2\r\n\r\nab");
    camrtc_http_parser_free(&p);
    camrtc_buf_free(&out);
}

TEST(write_response_and_roundtrip)
{
    camrtc_buf out = {0};
    camrtc_kv h[] = {{"Content-Type", "application/json"}};
    CHECK_EQ_INT(camrtc_http_write_response(&out, 404, NULL, h, 1, "{}", 2), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                                        "Content-Length: 2\r\n\r\n{}");
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_RESPONSE, MAXB);
    CHECK_EQ_INT(camrtc_http_parser_feed(&p, camrtc_buf_data(&out), out.len, NULL), CAMRTC_OK);
    const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
    CHECK_EQ_INT(m->status, 404);
    CHECK_EQ_STR(m->reason, "Not Found");
    CHECK_EQ_STR((const char *)m->body, "{}");

    camrtc_buf_reset(&out);
    CHECK_EQ_INT(camrtc_http_write_response(&out, 200, "Fine", NULL, 0, NULL, 0), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\n");
    camrtc_buf_reset(&out);
    CHECK_EQ_INT(camrtc_http_write_response(&out, 204, NULL, NULL, 0, NULL, 0), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "HTTP/1.1 204 No Content\r\n\r\n");
    camrtc_buf_reset(&out);
    camrtc_kv up[] = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}};
    CHECK_EQ_INT(camrtc_http_write_response(&out, 101, NULL, up, 2, NULL, 0), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                        "Connection: Upgrade\r\n\r\n");
    camrtc_http_parser_reset(&p);
    CHECK_EQ_INT(camrtc_http_parser_feed(&p, camrtc_buf_data(&out), out.len, NULL), CAMRTC_OK);
    CHECK(m->upgrade);
    camrtc_buf_reset(&out);
    camrtc_kv te[] = {{"Transfer-Encoding", "chunked"}};
    CHECK_EQ_INT(camrtc_http_write_response(&out, 200, NULL, te, 1, "0\r\n\r\n", 5), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    camrtc_buf_reset(&out);
    CHECK_EQ_INT(camrtc_http_write_response(&out, 304, NULL, NULL, 0, "x", 1), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_response(&out, 99, NULL, NULL, 0, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_response(&out, 600, NULL, NULL, 0, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(out.len, 0);
    camrtc_http_parser_free(&p);
    camrtc_buf_free(&out);
}

TEST(writers_refuse_injection)
{
    camrtc_buf out = {0};
    CHECK_EQ_INT(camrtc_buf_append_str(&out, "keep"), 0);
    camrtc_kv bad_values[] = {{"X", "a\r\nSet-Cookie: x"}, {"X", "a\nb"}, {"X", "a\rb"}, {"X", "a\x01"}};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(camrtc_http_write_request(&out, "GET", "/", &bad_values[i], 1, NULL, 0), CAMRTC_EINVAL);
        CHECK_EQ_INT(camrtc_http_write_response(&out, 200, NULL, &bad_values[i], 1, NULL, 0), CAMRTC_EINVAL);
    }
    camrtc_kv bad_names[] = {{"X\r\nY", "v"}, {"X Y", "v"}, {"X:", "v"}, {"", "v"}, {NULL, "v"}, {"X", NULL}};
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(camrtc_http_write_request(&out, "GET", "/", &bad_names[i], 1, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_request(&out, "GET", "/ HTTP/1.1\r\nX: y", NULL, 0, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_request(&out, "GET", "/a\nb", NULL, 0, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_request(&out, "GET", "", NULL, 0, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_request(&out, "GET /", "/", NULL, 0, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_request(&out, "G\r\nET", "/", NULL, 0, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_request(&out, "POST", "/", NULL, 0, NULL, 3), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_request(&out, "GET", "/", NULL, 1, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_http_write_response(&out, 200, "OK\r\nX: y", NULL, 0, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), "keep");
    /* HTAB and obs-text are legal in values. */
    camrtc_kv ok[] = {{"X", "a\tb\xc3\xa9"}};
    CHECK_EQ_INT(camrtc_http_write_request(&out, "GET", "/", ok, 1, NULL, 0), CAMRTC_OK);
    /* A bounded output buffer that overflows is left as it was. */
    camrtc_buf small = {0};
    small.max_cap = 16;
    CHECK_EQ_INT(camrtc_buf_append_str(&small, "x"), 0);
    CHECK_EQ_INT(camrtc_http_write_response(&small, 200, NULL, NULL, 0, NULL, 0), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(small.len, 1);
    camrtc_buf_free(&small);
    camrtc_buf_free(&out);
}

TEST(reason_phrases)
{
    CHECK_EQ_STR(camrtc_http_reason(200), "OK");
    CHECK_EQ_STR(camrtc_http_reason(101), "Switching Protocols");
    CHECK_EQ_STR(camrtc_http_reason(413), "Content Too Large");
    CHECK_EQ_STR(camrtc_http_reason(431), "Request Header Fields Too Large");
    CHECK_EQ_STR(camrtc_http_reason(505), "HTTP Version Not Supported");
    CHECK_EQ_STR(camrtc_http_reason(499), "Client Error");
    CHECK_EQ_STR(camrtc_http_reason(0), "Unknown");
}

TEST(url_parse_forms)
{
    camrtc_url u;
    CHECK_EQ_INT(camrtc_url_parse("https://kinesisvideo.us-west-2.amazonaws.com", &u), CAMRTC_OK);
    CHECK_EQ_STR(u.scheme, "https");
    CHECK_EQ_STR(u.host, "kinesisvideo.us-west-2.amazonaws.com");
    CHECK_EQ_INT(u.port, 443);
    CHECK(!u.port_explicit);
    CHECK_EQ_STR(u.path, "/");
    CHECK_EQ_STR(u.query, "");

    CHECK_EQ_INT(camrtc_url_parse("WSS://m-1234.kinesisvideo.us-west-2.amazonaws.com/?X-Amz-ChannelARN=arn%3Aa#f", &u),
                 CAMRTC_OK);
    CHECK_EQ_STR(u.scheme, "wss");
    CHECK_EQ_STR(u.path, "/");
    CHECK_EQ_STR(u.query, "X-Amz-ChannelARN=arn%3Aa");

    CHECK_EQ_INT(camrtc_url_parse("ws://127.0.0.1:8080/a/b%20c?x", &u), CAMRTC_OK);
    CHECK_EQ_INT(u.port, 8080);
    CHECK(u.port_explicit);
    CHECK_EQ_STR(u.path, "/a/b%20c");
    CHECK_EQ_STR(u.query, "x");

    CHECK_EQ_INT(camrtc_url_parse("http://h?q=1", &u), CAMRTC_OK);
    CHECK_EQ_STR(u.path, "/");
    CHECK_EQ_STR(u.query, "q=1");
    CHECK_EQ_INT(u.port, 80);

    CHECK_EQ_INT(camrtc_url_parse("http://[2001:db8::1]:8443/p", &u), CAMRTC_OK);
    CHECK_EQ_STR(u.host, "2001:db8::1");
    CHECK_EQ_INT(u.port, 8443);
    CHECK_EQ_STR(u.path, "/p");
    CHECK_EQ_INT(camrtc_url_parse("wss://[::1]", &u), CAMRTC_OK);
    CHECK_EQ_STR(u.host, "::1");
    CHECK_EQ_INT(u.port, 443);

    CHECK_EQ_INT(camrtc_url_parse("http://h:/x", &u), CAMRTC_OK);
    CHECK_EQ_INT(u.port, 80);
    CHECK(!u.port_explicit);
}

TEST(url_parse_refusals)
{
    camrtc_url u;
    const char *bad[] = {
        "ftp://h/", "h/path", "://h", "http:/h", "http://", "http:///x", "http://:80/",
        "http://h:0/", "http://h:65536/", "http://h:99999999999999999999/", "http://h:8a/",
        "http://h:-1/", "http://user:pw@h/", "http://h h/", "http://h/a b", "http://h/\x01",
        "http://h/\xc3\xa9", "http://[::1/", "http://[]/", "http://[::1]x/", "http://[fe80::1%25eth0]/",
        "http://[1.2.3.4]/", "http://h%41/", "httpsx://h/",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = camrtc_url_parse(bad[i], &u);
        if (rc != CAMRTC_EPROTO) {
            fprintf(stderr, "url %s: %d\n", bad[i], rc);
            CHECK(0);
        }
        CHECK_EQ_STR(u.host, "");
    }
    char s[6000];
    memcpy(s, "http://", 7);
    memset(s + 7, 'a', 256);
    strcpy(s + 7 + 256, "/x");
    CHECK_EQ_INT(camrtc_url_parse(s, &u), CAMRTC_ETOOBIG);
    s[7 + 255] = '\0';
    CHECK_EQ_INT(camrtc_url_parse(s, &u), CAMRTC_OK); /* 255 bytes fit */
    strcpy(s, "http://h/");
    memset(s + 9, 'p', 1100);
    s[9 + 1100] = '\0';
    CHECK_EQ_INT(camrtc_url_parse(s, &u), CAMRTC_ETOOBIG);
    strcpy(s, "http://h/?");
    memset(s + 10, 'q', 5000);
    s[10 + 5000] = '\0';
    CHECK_EQ_INT(camrtc_url_parse(s, &u), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_url_parse(NULL, &u), CAMRTC_EINVAL);
}

TEST(url_host_header)
{
    camrtc_url u;
    char out[300];
    CHECK_EQ_INT(camrtc_url_parse("https://example.com:443/", &u), CAMRTC_OK);
    camrtc_url_host_header(&u, out, sizeof out);
    CHECK_EQ_STR(out, "example.com");
    CHECK_EQ_INT(camrtc_url_parse("https://example.com:8443/", &u), CAMRTC_OK);
    camrtc_url_host_header(&u, out, sizeof out);
    CHECK_EQ_STR(out, "example.com:8443");
    CHECK_EQ_INT(camrtc_url_parse("ws://[::1]:9000", &u), CAMRTC_OK);
    camrtc_url_host_header(&u, out, sizeof out);
    CHECK_EQ_STR(out, "[::1]:9000");
    CHECK_EQ_INT(camrtc_url_parse("http://[::1]", &u), CAMRTC_OK);
    camrtc_url_host_header(&u, out, sizeof out);
    CHECK_EQ_STR(out, "[::1]");
    camrtc_url_host_header(&u, out, 3);
    CHECK_EQ_STR(out, "[:");
}

TEST(url_query_get)
{
    const char *q = "X-Amz-ChannelARN=arn%3Aaws%3Akinesisvideo%3Aus-west-2%3A1%3Achannel%2Fc%2F1"
                    "&X-Amz-ClientId=viewer+1&flag&empty=&%6Eame=encoded&dup=1&dup=2&bad=%zz";
    char out[128];
    CHECK_EQ_INT(camrtc_url_query_get(q, "X-Amz-ChannelARN", out, sizeof out), 44);
    CHECK_EQ_STR(out, "arn:aws:kinesisvideo:us-west-2:1:channel/c/1");
    CHECK_EQ_INT(camrtc_url_query_get(q, "X-Amz-ClientId", out, sizeof out), 8);
    CHECK_EQ_STR(out, "viewer+1");
    CHECK_EQ_INT(camrtc_url_query_get(q, "flag", out, sizeof out), 0);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(camrtc_url_query_get(q, "empty", out, sizeof out), 0);
    CHECK_EQ_INT(camrtc_url_query_get(q, "name", out, sizeof out), 7);
    CHECK_EQ_STR(out, "encoded");
    CHECK_EQ_INT(camrtc_url_query_get(q, "dup", out, sizeof out), 1);
    CHECK_EQ_STR(out, "1");
    CHECK_EQ_INT(camrtc_url_query_get(q, "x-amz-clientid", out, sizeof out), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_url_query_get(q, "X-Amz", out, sizeof out), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_url_query_get(q, "bad", out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_url_query_get(q, "X-Amz-ChannelARN", out, 44), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_url_query_get(q, "X-Amz-ChannelARN", out, 45), 44);
    CHECK_EQ_INT(camrtc_url_query_get("", "a", out, sizeof out), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_url_query_get("a=1%0", "a", out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_url_query_get("a=x%00y", "a", out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_url_query_get("%4=1&a=2", "a", out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_url_query_get("a=b=c", "a", out, sizeof out), 3);
    CHECK_EQ_STR(out, "b=c");
}

TEST(url_encode_decode)
{
    char out[128];
    const char *arn = "arn:aws:kinesisvideo:us-west-2:123456789012:channel/demo/1234567890123";
    CHECK_EQ_INT(camrtc_url_encode(arn, strlen(arn), out, sizeof out), 84);
    CHECK_EQ_STR(out, "arn%3Aaws%3Akinesisvideo%3Aus-west-2%3A123456789012%3Achannel%2Fdemo%2F1234567890123");
    char back[128];
    CHECK_EQ_INT(camrtc_url_decode(out, strlen(out), back, sizeof back), (int)strlen(arn));
    CHECK_EQ_STR(back, arn);
    CHECK_EQ_INT(camrtc_url_encode("a b+~_.-\xff", 10, out, sizeof out), 18);
    CHECK_EQ_STR(out, "a%20b%2B~_.-%FF%00");
    CHECK_EQ_INT(camrtc_url_encode("abc", 3, out, 3), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_url_encode("abc", 3, out, 4), 3);
    CHECK_EQ_INT(camrtc_url_encode(" ", 1, out, 3), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_url_decode("a+b%2b%2B", 9, out, sizeof out), 5);
    CHECK_EQ_STR(out, "a+b++");
    CHECK_EQ_INT(camrtc_url_decode("%41%00%42", 9, out, sizeof out), 3);
    CHECK_EQ_MEM(out, "A\0B", 4);
    CHECK_EQ_INT(camrtc_url_decode("%4", 2, out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_url_decode("%g1", 3, out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_url_decode("abcd", 4, out, 4), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_url_decode("", 0, out, 1), 0);
    CHECK_EQ_STR(out, "");
}

int main(void)
{
    return RUN_TESTS(request_with_content_length, request_targets_and_bare_lf,
                     chunked_request_with_extensions_and_trailers, keep_alive_rules, header_token_lookup,
                     pipelined_requests, byte_at_a_time_matches_all_at_once,
                     upgrade_request_leaves_websocket_bytes, responses_with_and_without_body,
                     close_delimited_response, request_refusals, chunked_bounds_across_chunks, header_limits,
                     response_refusals, memory_shrinks_after_reset, write_request_and_roundtrip,
                     write_response_and_roundtrip, writers_refuse_injection, reason_phrases, url_parse_forms,
                     url_parse_refusals, url_host_header, url_query_get, url_encode_decode);
}
