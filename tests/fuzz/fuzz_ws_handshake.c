/* Feeds arbitrary handshakes to the WebSocket handshake checks and writers.
 *
 * Input is split at '\n': line 0 is the request method, line 1 holds the HTTP
 * minor version and the response status ("1 101"), every further line is a
 * header "name: value" (up to 32). Checks that an accepted upgrade points its
 * key into the headers, and that the writers never let a header value add lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/buf.h"
#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"
#include "camrtc/str.h"
#include "camrtc/ws.h"

#define MAX_HEADERS 32

/* Number of "\r\n" in b. */
static size_t crlf_count(const camrtc_buf *b)
{
    const uint8_t *p = camrtc_buf_data(b);
    size_t c = 0;
    for (size_t i = 0; i + 1 < b->len; i++)
        c += p[i] == '\r' && p[i + 1] == '\n';
    return c;
}

/* Bare CR or LF outside a CRLF pair. */
static int has_bare_crlf(const camrtc_buf *b)
{
    const uint8_t *p = camrtc_buf_data(b);
    for (size_t i = 0; i < b->len; i++) {
        if (p[i] == '\r' && (i + 1 >= b->len || p[i + 1] != '\n'))
            return 1;
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *lines[2 + MAX_HEADERS];
    size_t nl = 0;
    for (char *p = text; nl < 2 + MAX_HEADERS;) {
        lines[nl++] = p;
        char *e = strchr(p, '\n');
        if (!e)
            break;
        *e = '\0';
        p = e + 1;
    }
    const char *method = lines[0];
    long minor = 0, status = 0;
    if (nl > 1) {
        char *end;
        minor = strtol(lines[1], &end, 10);
        status = strtol(end, NULL, 10);
    }
    camrtc_kv h[MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 2; i < nl; i++) {
        char *colon = strchr(lines[i], ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ')
            v++;
        h[n].name = lines[i];
        h[n].value = v;
        n++;
    }
    const char *key = NULL;
    int http_status = 0;
    int rc = camrtc_ws_check_upgrade(method, (int)minor, h, n, &key, &http_status);
    camrtc_buf out = {0};
    if (rc == CAMRTC_OK) {
        int found = 0;
        for (size_t i = 0; i < n; i++)
            found |= h[i].value == key;
        uint8_t raw[20];
        if (!found || http_status != 101 || strlen(key) != 24 || camrtc_base64_decode(key, 24, raw, sizeof raw) != 16)
            abort();
        if (camrtc_ws_write_accept(&out, key, NULL, 0) < 0)
            abort();
    } else if (rc != CAMRTC_EPROTO || (http_status != 400 && http_status != 426)) {
        abort();
    }
    /* Whatever headers came in, as extras of our own messages. */
    camrtc_buf_reset(&out);
    if (camrtc_ws_write_accept(&out, n ? h[0].value : "", h, n) == CAMRTC_OK &&
        (crlf_count(&out) != 5 + n || has_bare_crlf(&out)))
        abort();
    camrtc_rng rng;
    if (camrtc_rng_init_seed(&rng, 3) == 0) {
        char ck[CAMRTC_WS_KEY_SIZE];
        camrtc_buf_reset(&out);
        if (camrtc_ws_write_client_request(&out, method, nl > 1 ? lines[1] : "/", &rng, h, n, ck, sizeof ck) ==
                CAMRTC_OK &&
            (crlf_count(&out) != 7 + n || has_bare_crlf(&out)))
            abort();
        camrtc_rng_free(&rng);
    }
    const char *ckey = camrtc_kv_get(h, n, "Sec-WebSocket-Key");
    rc = camrtc_ws_check_accept((int)status, h, n, ckey ? ckey : "dGhlIHNhbXBsZSBub25jZQ==");
    if (rc != CAMRTC_OK && rc != CAMRTC_EPROTO && rc != CAMRTC_EAUTH)
        abort();
    if (rc == CAMRTC_OK && status != 101)
        abort();
    char acc[CAMRTC_WS_ACCEPT_SIZE];
    for (size_t i = 0; i < n; i++)
        if (camrtc_ws_accept_key(h[i].value, acc, sizeof acc) != CAMRTC_OK || strlen(acc) != 28)
            abort();
    camrtc_buf_free(&out);
    free(text);
    return 0;
}
