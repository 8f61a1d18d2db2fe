/* Fuzz the HTTP response parser.
 *
 * Input: two bytes choosing where the stream is cut, one flag byte (max_body,
 * and whether the first response answers a HEAD), then the byte stream. The
 * stream is parsed twice: once fed whole, once in three pieces; both must give
 * the same responses at the same offsets and the same error, including at the
 * close. Every parsed response is serialized again and must parse back to the
 * same status, reason, headers and body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/http.h"

#include "http_fuzz_common.h"

/* Write the response out again and parse it back. */
static void roundtrip(const camrtc_http_msg *m, size_t max_body)
{
    if (camrtc_http_header(m, "transfer-encoding"))
        return;
    bool bodiless = m->status < 200 || m->status == 204 || m->status == 304;
    camrtc_buf out = {0};
    if (camrtc_http_write_response(&out, m->status, m->reason, m->headers, m->n_headers, m->body,
                                   m->body_len) != CAMRTC_OK)
        abort();
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_RESPONSE, max_body);
    size_t used = 0;
    int rc = camrtc_http_parser_feed(&p, camrtc_buf_data(&out), out.len, &used);
    if (rc == CAMRTC_OK) {
        const camrtc_http_msg *r = camrtc_http_parser_msg(&p);
        if (used != out.len || r->status != m->status || strcmp(r->reason, m->reason) ||
            r->n_headers < m->n_headers || r->body_len != m->body_len ||
            memcmp(r->body, m->body, m->body_len) || (bodiless && r->body_len))
            abort();
        for (size_t i = 0; i < m->n_headers; i++)
            if (strcmp(r->headers[i].name, m->headers[i].name) ||
                strcmp(r->headers[i].value, m->headers[i].value))
                abort();
    } else if (camrtc_http_parser_error_status(&p) != 431) {
        /* Only the Content-Length the writer adds, or CRLF for bare LF, can push it over a bound. */
        abort();
    }
    camrtc_http_parser_free(&p);
    camrtc_buf_free(&out);
}

/* Parse data[0..n) fed in pieces ending at cuts[0..2]; fill recs, return their count. */
static size_t run(const uint8_t *data, size_t n, const size_t cuts[3], size_t max_body, bool head_first,
                  bool check_rt, record *recs)
{
    camrtc_http_parser p;
    camrtc_http_parser_init(&p, CAMRTC_HTTP_RESPONSE, max_body);
    if (head_first)
        camrtc_http_parser_expect_no_body(&p);
    size_t nrec = 0, pos = 0;
    bool stop = false;
    for (int c = 0; c < 3 && !stop; c++) {
        while (pos < cuts[c] && nrec < MAX_RECORDS) {
            size_t used = 0;
            int rc = camrtc_http_parser_feed(&p, data + pos, cuts[c] - pos, &used);
            if (used > cuts[c] - pos)
                abort();
            pos += used;
            if (rc == CAMRTC_EAGAIN) {
                if (pos != cuts[c])
                    abort();
                break;
            }
            if (rc == CAMRTC_OK) {
                const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
                if (used == 0)
                    abort();
                recs[nrec++] = (record){rc, pos, msg_hash(m)};
                if (check_rt && !(head_first && nrec == 1))
                    roundtrip(m, max_body);
                if (m->upgrade) {
                    stop = true;
                    break;
                }
                camrtc_http_parser_reset(&p);
                continue;
            }
            int st = camrtc_http_parser_error_status(&p);
            if (st != 400 && st != 413 && st != 431 && st != 501 && st != 505)
                abort();
            recs[nrec++] = (record){rc, 0, (uint64_t)st};
            stop = true;
            break;
        }
        if (nrec == MAX_RECORDS)
            stop = true;
    }
    if (!stop) {
        int rc = camrtc_http_parser_feed_eof(&p);
        uint64_t h = (uint64_t)camrtc_http_parser_error_status(&p);
        if (rc == CAMRTC_OK) {
            const camrtc_http_msg *m = camrtc_http_parser_msg(&p);
            if (m->keep_alive)
                abort(); /* a close-delimited body ends the connection */
            h = msg_hash(m);
            if (check_rt)
                roundtrip(m, max_body);
        }
        recs[nrec++] = (record){rc, 0, h};
    }
    camrtc_http_parser_free(&p);
    return nrec;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t n = size - 3;
    size_t a = (size_t)data[0] * n / 255, b = (size_t)data[1] * n / 255;
    size_t max_body = (data[2] & 1) ? 64 : 65536;
    bool head_first = (data[2] & 2) != 0;
    const uint8_t *s = data + 3;
    size_t whole[3] = {n, n, n};
    size_t split[3] = {a < b ? a : b, a < b ? b : a, n};
    record ra[MAX_RECORDS + 1], rb[MAX_RECORDS + 1];
    size_t na = run(s, n, whole, max_body, head_first, true, ra);
    size_t nb = run(s, n, split, max_body, head_first, false, rb);
    if (na != nb)
        abort();
    for (size_t i = 0; i < na; i++)
        if (ra[i].rc != rb[i].rc || ra[i].end != rb[i].end || ra[i].hash != rb[i].hash)
            abort();
    return 0;
}
