/* Incremental HTTP/1.1 message parser (RFC 9112).
 *
 * The start line and header block are gathered in p->head until the empty line
 * (bounded by CAMRTC_HTTP_MAX_HEADER_BYTES), then parsed in place: delimiters
 * become NULs and the message's strings point into that buffer, which is not
 * touched again until reset. The body is framed by Content-Length, chunked
 * coding or the close, and gathered de-chunked in p->body (bounded by
 * max_body). Every state lives in the parser, so input may arrive split
 * anywhere, down to one byte at a time.
 */
#include "camrtc/http.h"

#include <string.h>
#include <strings.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "http/http_chars.h"

enum {
    ST_START,       /* skipping empty lines before the start line */
    ST_HEAD,        /* gathering the start line and header block */
    ST_BODY_LEN,    /* Content-Length body */
    ST_BODY_EOF,    /* response body delimited by the close */
    ST_CHUNK_SIZE,  /* chunk-size [ chunk-ext ] CRLF */
    ST_CHUNK_DATA,
    ST_CHUNK_END,   /* CRLF after chunk data */
    ST_TRAILER,     /* trailer section after the last chunk */
    ST_DONE,
    ST_ERROR,
};

/* Sub-states of ST_CHUNK_SIZE. */
enum { CS_DIGITS, CS_BWS, CS_EXT, CS_CR };
/* Sub-states of ST_TRAILER. */
enum { TR_LINE_START, TR_NAME, TR_VALUE, TR_CR, TR_CR_END };

/* A reset parser keeps buffers up to these sizes; bigger ones go back to the
 * allocator so one large message does not pin memory on an idle connection. */
#define HTTP_KEEP_HEAD_BYTES 2048
#define HTTP_KEEP_BODY_BYTES 4096
/* A chunk-size line with extensions; extensions are ignored, so keep them short. */
#define HTTP_MAX_CHUNK_LINE 1024

static void msg_clear(camrtc_http_msg *m)
{
    memset(m, 0, sizeof *m);
    m->method = m->target = m->path = m->query = m->reason = "";
    m->body = (const uint8_t *)"";
}

static int fail(camrtc_http_parser *p, int err, int status)
{
    p->state = ST_ERROR;
    p->err = err;
    p->err_status = status;
    return err;
}

void camrtc_http_parser_init(camrtc_http_parser *p, camrtc_http_kind kind, size_t max_body)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    /* Keeps max_body + 1 (the NUL) and the buffer arithmetic far from overflow. */
    if (max_body > SIZE_MAX / 4)
        max_body = SIZE_MAX / 4;
    p->max_body = max_body;
    /* The head holds the header block plus a copy of the path (shorter than the block). */
    p->head.max_cap = 2 * (size_t)CAMRTC_HTTP_MAX_HEADER_BYTES + 8;
    p->body.max_cap = max_body + 1;
    p->state = ST_START;
    msg_clear(&p->msg);
}

void camrtc_http_parser_reset(camrtc_http_parser *p)
{
    camrtc_buf head = p->head, body = p->body;
    int kind = p->kind;
    size_t max_body = p->max_body;
    camrtc_buf_reset(&head);
    camrtc_buf_reset(&body);
    if (head.cap > HTTP_KEEP_HEAD_BYTES)
        camrtc_buf_free(&head);
    if (body.cap > HTTP_KEEP_BODY_BYTES)
        camrtc_buf_free(&body);
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->max_body = max_body;
    p->head = head;
    p->body = body;
    p->state = ST_START;
    msg_clear(&p->msg);
}

void camrtc_http_parser_free(camrtc_http_parser *p)
{
    camrtc_buf_free(&p->head);
    camrtc_buf_free(&p->body);
    camrtc_http_parser_reset(p);
}

const camrtc_http_msg *camrtc_http_parser_msg(const camrtc_http_parser *p)
{
    return &p->msg;
}

int camrtc_http_parser_error_status(const camrtc_http_parser *p)
{
    return p->state == ST_ERROR ? p->err_status : 0;
}

void camrtc_http_parser_expect_no_body(camrtc_http_parser *p)
{
    p->no_body = true;
}

/* ---- start line and header block ---- */

/* "HTTP/" DIGIT "." DIGIT; only 1.0 and 1.1 are spoken (505 for the others). */
static int parse_version(camrtc_http_parser *p, const char *s, size_t n)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' || s[5] > '9' ||
        s[7] < '0' || s[7] > '9')
        return fail(p, CAMRTC_EPROTO, 400);
    if (s[5] != '1' || (s[7] != '0' && s[7] != '1'))
        return fail(p, CAMRTC_EUNSUPPORTED, 505);
    p->msg.version_minor = s[7] - '0';
    return CAMRTC_OK;
}

/* scheme "://" for an absolute-form target; returns the offset of the authority or 0. */
static size_t absolute_form_authority(const char *t, size_t n)
{
    size_t i = 0;
    if (n == 0 || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
        return 0;
    while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
                     (t[i] >= '0' && t[i] <= '9') || t[i] == '+' || t[i] == '-' || t[i] == '.'))
        i++;
    if (n - i < 4 || memcmp(t + i, "://", 3) != 0)
        return 0;
    return i + 3;
}

/* method SP request-target SP HTTP-version. line is NUL-terminated at n; the
 * path copy is written at copy, which has room for n + 2 bytes. */
static int parse_request_line(camrtc_http_parser *p, char *line, size_t n, char *copy)
{
    char *end = line + n;
    char *sp1 = memchr(line, ' ', n);
    if (!sp1 || !http_is_token(line, (size_t)(sp1 - line)))
        return fail(p, CAMRTC_EPROTO, 400);
    char *t = sp1 + 1;
    char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t)
        return fail(p, CAMRTC_EPROTO, 400);
    size_t tlen = (size_t)(sp2 - t);
    for (size_t i = 0; i < tlen; i++)
        if (!http_is_target_char((unsigned char)t[i]))
            return fail(p, CAMRTC_EPROTO, 400);
    int rc = parse_version(p, sp2 + 1, (size_t)(end - sp2 - 1));
    if (rc < 0)
        return rc;
    *sp1 = '\0';
    *sp2 = '\0';

    const char *path = t;
    size_t plen;
    if (t[0] == '/') {
        plen = strcspn(t, "?");
    } else if (tlen == 1 && t[0] == '*') {
        plen = 1;
    } else {
        size_t auth = absolute_form_authority(t, tlen);
        if (auth == 0 || auth == tlen || t[auth] == '/' || t[auth] == '?')
            return fail(p, CAMRTC_EPROTO, 400);
        path = t + auth + strcspn(t + auth, "/?");
        plen = strcspn(path, "?");
    }
    const char *q = strchr(t, '?');
    if (plen == 0) {
        path = "/";
        plen = 1;
    }
    memcpy(copy, path, plen);
    copy[plen] = '\0';
    p->msg.method = line;
    p->msg.target = t;
    p->msg.path = copy;
    p->msg.query = q ? q + 1 : "";
    return CAMRTC_OK;
}

/* HTTP-version SP 3DIGIT SP [ reason-phrase ]; a missing SP after the code is tolerated. */
static int parse_status_line(camrtc_http_parser *p, char *line, size_t n)
{
    if (n < 12 || line[8] != ' ')
        return fail(p, CAMRTC_EPROTO, 400);
    int rc = parse_version(p, line, 8);
    if (rc < 0)
        return rc;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return fail(p, CAMRTC_EPROTO, 400);
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100 || status > 599)
        return fail(p, CAMRTC_EPROTO, 400);
    const char *reason = "";
    if (n > 12) {
        if (line[12] != ' ')
            return fail(p, CAMRTC_EPROTO, 400);
        reason = line + 13;
        for (size_t i = 13; i < n; i++)
            if (!http_is_field_char((unsigned char)line[i]))
                return fail(p, CAMRTC_EPROTO, 400);
    }
    p->msg.status = status;
    p->msg.reason = reason;
    return CAMRTC_OK;
}

/* field-name ":" OWS field-value OWS, without whitespace before the colon. */
static int parse_field(camrtc_http_parser *p, char *line, size_t n)
{
    if (http_is_ows((unsigned char)line[0]))
        return fail(p, CAMRTC_EPROTO, 400); /* obs-fold (RFC 9112 section 5.2) */
    char *colon = memchr(line, ':', n);
    if (!colon || !http_is_token(line, (size_t)(colon - line)))
        return fail(p, CAMRTC_EPROTO, 400);
    char *v = colon + 1, *end = line + n;
    while (v < end && http_is_ows((unsigned char)*v))
        v++;
    while (end > v && http_is_ows((unsigned char)end[-1]))
        end--;
    for (char *c = v; c < end; c++)
        if (!http_is_field_char((unsigned char)*c))
            return fail(p, CAMRTC_EPROTO, 400);
    if (p->msg.n_headers == CAMRTC_HTTP_MAX_HEADERS)
        return fail(p, CAMRTC_ETOOBIG, 431);
    *colon = '\0';
    *end = '\0';
    p->msg.headers[p->msg.n_headers].name = line;
    p->msg.headers[p->msg.n_headers].value = v;
    p->msg.n_headers++;
    return CAMRTC_OK;
}

/* 1*DIGIT, saturating at UINT64_MAX: any such value is over every body bound. */
static bool parse_content_length(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return true;
}

/* Transfer-Encoding, all field lines together: only a single "chunked" is
 * supported. Returns CAMRTC_OK or the failure. */
static int check_transfer_coding(camrtc_http_parser *p)
{
    int n_chunked = 0, n_codings = 0;
    const camrtc_http_msg *m = &p->msg;
    for (size_t i = 0; i < m->n_headers; i++) {
        if (strcasecmp(m->headers[i].name, "transfer-encoding") != 0)
            continue;
        const char *s = m->headers[i].value;
        while (*s) {
            size_t len = strcspn(s, ",");
            const char *e = s + len;
            const char *b = s;
            while (b < e && http_is_ows((unsigned char)*b))
                b++;
            while (e > b && http_is_ows((unsigned char)e[-1]))
                e--;
            if (e > b) {
                n_codings++;
                if ((size_t)(e - b) == 7 && strncasecmp(b, "chunked", 7) == 0)
                    n_chunked++;
                else
                    return fail(p, CAMRTC_EUNSUPPORTED, 501);
            }
            s += len;
            if (*s == ',')
                s++;
        }
    }
    if (n_codings == 0 || n_chunked > 1)
        return fail(p, CAMRTC_EPROTO, 400);
    return CAMRTC_OK;
}

static int complete(camrtc_http_parser *p)
{
    if (p->body.len > 0) {
        char *b = camrtc_buf_cstr(&p->body);
        if (!b)
            return fail(p, CAMRTC_ENOMEM, 500);
        p->msg.body = (const uint8_t *)b;
        p->msg.body_len = p->body.len;
    }
    p->state = ST_DONE;
    return CAMRTC_OK;
}

/* RFC 9112 section 6.3, in its order, once the header block is parsed. */
static int choose_framing(camrtc_http_parser *p)
{
    camrtc_http_msg *m = &p->msg;
    bool has_cl = false, has_te = false;
    uint64_t cl = 0;
    for (size_t i = 0; i < m->n_headers; i++) {
        if (strcasecmp(m->headers[i].name, "content-length") == 0) {
            uint64_t v;
            if (!parse_content_length(m->headers[i].value, &v) || (has_cl && v != cl))
                return fail(p, CAMRTC_EPROTO, 400);
            has_cl = true;
            cl = v;
        } else if (strcasecmp(m->headers[i].name, "transfer-encoding") == 0) {
            has_te = true;
        }
    }
    /* Both at once is how requests are smuggled past a proxy; HTTP/1.0 has no chunked. */
    if ((has_cl && has_te) || (has_te && m->version_minor == 0))
        return fail(p, CAMRTC_EPROTO, 400);

    bool conn_close = camrtc_http_header_has_token(m, "connection", "close");
    if (m->version_minor == 1)
        m->keep_alive = !conn_close;
    else
        m->keep_alive = !conn_close && camrtc_http_header_has_token(m, "connection", "keep-alive");
    /* RFC 9110 section 7.8: Upgrade in an HTTP/1.0 message is ignored. */
    bool upgrade = m->version_minor == 1 && camrtc_http_header_has_token(m, "connection", "upgrade") &&
                   camrtc_http_header(m, "upgrade") != NULL && camrtc_http_header(m, "upgrade")[0];

    if (p->kind == CAMRTC_HTTP_REQUEST) {
        if (upgrade) {
            /* Bytes after the headers belong to the new protocol, so a body cannot be framed. */
            if (has_te || (has_cl && cl > 0))
                return fail(p, CAMRTC_EPROTO, 400);
            m->upgrade = true;
            return complete(p);
        }
    } else {
        if (p->no_body || m->status < 200 || m->status == 204 || m->status == 304) {
            m->upgrade = upgrade && m->status == 101;
            return complete(p);
        }
    }
    if (has_te) {
        int rc = check_transfer_coding(p);
        if (rc < 0)
            return rc;
        p->state = ST_CHUNK_SIZE;
        p->sub = CS_DIGITS;
        return CAMRTC_OK;
    }
    if (has_cl) {
        if (cl > p->max_body)
            return fail(p, CAMRTC_ETOOBIG, 413);
        if (cl == 0)
            return complete(p);
        p->remaining = cl;
        p->state = ST_BODY_LEN;
        return CAMRTC_OK;
    }
    if (p->kind == CAMRTC_HTTP_REQUEST)
        return complete(p);
    m->keep_alive = false;
    p->state = ST_BODY_EOF;
    return CAMRTC_OK;
}

/* The head buffer holds a complete block: start line, fields, empty line, each
 * ending in LF. */
static int parse_head(camrtc_http_parser *p)
{
    size_t block = p->head.len;
    const uint8_t *first_nl = memchr(camrtc_buf_data(&p->head), '\n', block);
    size_t first_len = (size_t)(first_nl - camrtc_buf_data(&p->head));
    /* Room for the path copy (at most the request line plus "/" and a NUL), reserved
     * now so the buffer never moves once strings point into it. */
    if (camrtc_buf_reserve(&p->head, first_len + 2) < 0)
        return fail(p, CAMRTC_ENOMEM, 500);
    char *base = (char *)camrtc_buf_data(&p->head);
    char *copy = base + block;
    p->head.len += first_len + 2;

    size_t pos = 0;
    for (bool first = true;; first = false) {
        char *ls = base + pos;
        char *le = memchr(ls, '\n', block - pos);
        pos = (size_t)(le - base) + 1;
        if (le > ls && le[-1] == '\r')
            le--;
        *le = '\0';
        size_t n = (size_t)(le - ls);
        int rc;
        if (first && p->kind == CAMRTC_HTTP_REQUEST)
            rc = parse_request_line(p, ls, n, copy);
        else if (first)
            rc = parse_status_line(p, ls, n);
        else if (n == 0)
            break;
        else
            rc = parse_field(p, ls, n);
        if (rc < 0)
            return rc;
    }
    return choose_framing(p);
}

static int step_start(camrtc_http_parser *p, const uint8_t *d, size_t n, size_t *used)
{
    size_t i = 0;
    while (i < n && (d[i] == '\r' || d[i] == '\n')) {
        if (++p->skipped > CAMRTC_HTTP_MAX_HEADER_BYTES)
            return fail(p, CAMRTC_ETOOBIG, 431);
        i++;
    }
    if (i < n)
        p->state = ST_HEAD;
    *used = i;
    return CAMRTC_OK;
}

static int step_head(camrtc_http_parser *p, const uint8_t *d, size_t n, size_t *used)
{
    const uint8_t *nl = memchr(d, '\n', n);
    size_t take = nl ? (size_t)(nl - d) + 1 : n;
    if (take > CAMRTC_HTTP_MAX_HEADER_BYTES - p->skipped - p->head.len)
        return fail(p, CAMRTC_ETOOBIG, 431);
    if (camrtc_buf_append(&p->head, d, take) < 0)
        return fail(p, CAMRTC_ENOMEM, 500);
    *used = take;
    if (!nl)
        return CAMRTC_OK;
    const uint8_t *line = camrtc_buf_data(&p->head) + p->line_start;
    size_t ll = p->head.len - p->line_start;
    if (ll == 1 || (ll == 2 && line[0] == '\r'))
        return parse_head(p);
    /* Start line plus the field lines that can be stored. */
    if (++p->n_lines > CAMRTC_HTTP_MAX_HEADERS + 1)
        return fail(p, CAMRTC_ETOOBIG, 431);
    p->line_start = p->head.len;
    return CAMRTC_OK;
}

static int append_body(camrtc_http_parser *p, const uint8_t *d, size_t n)
{
    if (n > p->max_body - p->body.len)
        return fail(p, CAMRTC_ETOOBIG, 413);
    if (camrtc_buf_append(&p->body, d, n) < 0)
        return fail(p, CAMRTC_ENOMEM, 500);
    return CAMRTC_OK;
}

static int step_body_len(camrtc_http_parser *p, const uint8_t *d, size_t n, size_t *used)
{
    size_t take = p->remaining < n ? (size_t)p->remaining : n;
    int rc = append_body(p, d, take);
    if (rc < 0)
        return rc;
    *used = take;
    p->remaining -= take;
    return p->remaining == 0 ? complete(p) : CAMRTC_OK;
}

static int chunk_line_done(camrtc_http_parser *p)
{
    if (p->n_digits == 0)
        return fail(p, CAMRTC_EPROTO, 400);
    p->n_digits = 0;
    p->aux_len = 0;
    if (p->remaining == 0) {
        p->state = ST_TRAILER;
        p->sub = TR_LINE_START;
        p->n_lines = 0;
    } else {
        p->state = ST_CHUNK_DATA;
    }
    return CAMRTC_OK;
}

/* chunk-size [ chunk-ext ] CRLF; the size is checked against max_body digit by
 * digit, so it can neither overflow nor announce more than will be accepted. */
static int step_chunk_size(camrtc_http_parser *p, const uint8_t *d, size_t n, size_t *used)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = d[i];
        if (++p->aux_len > HTTP_MAX_CHUNK_LINE)
            return fail(p, CAMRTC_EPROTO, 400);
        if (p->sub == CS_CR && c != '\n')
            return fail(p, CAMRTC_EPROTO, 400);
        if (c == '\n') {
            *used = i + 1;
            return chunk_line_done(p);
        }
        if (c == '\r') {
            p->sub = CS_CR;
            continue;
        }
        int h = camrtc_hex_digit(c);
        if (p->sub == CS_DIGITS && h >= 0) {
            uint64_t lim = p->max_body - p->body.len;
            if (p->remaining > lim / 16 || (uint64_t)h > lim - p->remaining * 16)
                return fail(p, CAMRTC_ETOOBIG, 413);
            p->remaining = p->remaining * 16 + (uint64_t)h;
            p->n_digits++;
        } else if (p->sub == CS_EXT) {
            if (!http_is_field_char(c))
                return fail(p, CAMRTC_EPROTO, 400);
        } else if (p->n_digits > 0 && c == ';') {
            p->sub = CS_EXT;
        } else if (p->n_digits > 0 && http_is_ows(c)) {
            p->sub = CS_BWS;
        } else {
            return fail(p, CAMRTC_EPROTO, 400);
        }
    }
    *used = n;
    return CAMRTC_OK;
}

static int step_chunk_data(camrtc_http_parser *p, const uint8_t *d, size_t n, size_t *used)
{
    size_t take = p->remaining < n ? (size_t)p->remaining : n;
    int rc = append_body(p, d, take);
    if (rc < 0)
        return rc;
    *used = take;
    p->remaining -= take;
    if (p->remaining == 0) {
        p->state = ST_CHUNK_END;
        p->sub = 0;
    }
    return CAMRTC_OK;
}

static int step_chunk_end(camrtc_http_parser *p, const uint8_t *d, size_t n, size_t *used)
{
    (void)n;
    *used = 1;
    if (d[0] == '\r' && p->sub == 0) {
        p->sub = 1;
        return CAMRTC_OK;
    }
    if (d[0] != '\n')
        return fail(p, CAMRTC_EPROTO, 400);
    p->state = ST_CHUNK_SIZE;
    p->sub = CS_DIGITS;
    return CAMRTC_OK;
}

/* Trailer fields are checked for syntax and bounded like headers, then dropped:
 * nothing in camrtc needs them. */
static int step_trailer(camrtc_http_parser *p, const uint8_t *d, size_t n, size_t *used)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = d[i];
        if (++p->aux_len > CAMRTC_HTTP_MAX_HEADER_BYTES)
            return fail(p, CAMRTC_ETOOBIG, 431);
        switch (p->sub) {
        case TR_LINE_START:
            if (c == '\r') {
                p->sub = TR_CR_END;
            } else if (c == '\n') {
                *used = i + 1;
                return complete(p);
            } else if (http_is_tchar(c)) {
                if (++p->n_lines > CAMRTC_HTTP_MAX_HEADERS)
                    return fail(p, CAMRTC_ETOOBIG, 431);
                p->sub = TR_NAME;
            } else {
                return fail(p, CAMRTC_EPROTO, 400);
            }
            break;
        case TR_NAME:
            if (c == ':')
                p->sub = TR_VALUE;
            else if (!http_is_tchar(c))
                return fail(p, CAMRTC_EPROTO, 400);
            break;
        case TR_VALUE:
            if (c == '\r')
                p->sub = TR_CR;
            else if (c == '\n')
                p->sub = TR_LINE_START;
            else if (!http_is_field_char(c))
                return fail(p, CAMRTC_EPROTO, 400);
            break;
        case TR_CR:
            if (c != '\n')
                return fail(p, CAMRTC_EPROTO, 400);
            p->sub = TR_LINE_START;
            break;
        default: /* TR_CR_END */
            if (c != '\n')
                return fail(p, CAMRTC_EPROTO, 400);
            *used = i + 1;
            return complete(p);
        }
    }
    *used = n;
    return CAMRTC_OK;
}

int camrtc_http_parser_feed(camrtc_http_parser *p, const uint8_t *data, size_t len, size_t *consumed)
{
    size_t dummy;
    if (!consumed)
        consumed = &dummy;
    *consumed = 0;
    if (p->state == ST_ERROR)
        return p->err;
    if (p->state == ST_DONE)
        camrtc_http_parser_reset(p);
    if (len > 0 && !data)
        return CAMRTC_EINVAL;
    size_t i = 0;
    while (i < len) {
        size_t used = 0;
        int rc;
        switch (p->state) {
        case ST_START: rc = step_start(p, data + i, len - i, &used); break;
        case ST_HEAD: rc = step_head(p, data + i, len - i, &used); break;
        case ST_BODY_LEN: rc = step_body_len(p, data + i, len - i, &used); break;
        case ST_BODY_EOF: rc = append_body(p, data + i, len - i); used = len - i; break;
        case ST_CHUNK_SIZE: rc = step_chunk_size(p, data + i, len - i, &used); break;
        case ST_CHUNK_DATA: rc = step_chunk_data(p, data + i, len - i, &used); break;
        case ST_CHUNK_END: rc = step_chunk_end(p, data + i, len - i, &used); break;
        case ST_TRAILER: rc = step_trailer(p, data + i, len - i, &used); break;
        default: rc = fail(p, CAMRTC_EINTERNAL, 500); break;
        }
        i += used;
        if (rc < 0) {
            *consumed = i;
            return rc;
        }
        if (p->state == ST_DONE) {
            *consumed = i;
            return CAMRTC_OK;
        }
    }
    *consumed = len;
    return CAMRTC_EAGAIN;
}

int camrtc_http_parser_feed_eof(camrtc_http_parser *p)
{
    switch (p->state) {
    case ST_ERROR:
        return p->err;
    case ST_START:
    case ST_DONE:
        return CAMRTC_EAGAIN;
    case ST_BODY_EOF:
        return complete(p);
    default:
        return fail(p, CAMRTC_EPROTO, 400);
    }
}

const char *camrtc_http_header(const camrtc_http_msg *m, const char *name)
{
    return camrtc_kv_get(m->headers, m->n_headers, name);
}

bool camrtc_http_header_has_token(const camrtc_http_msg *m, const char *name, const char *token)
{
    size_t tlen = strlen(token);
    for (size_t i = 0; i < m->n_headers; i++) {
        if (strcasecmp(m->headers[i].name, name) != 0)
            continue;
        const char *s = m->headers[i].value;
        for (;;) {
            size_t len = strcspn(s, ",");
            const char *b = s, *e = s + len;
            while (b < e && http_is_ows((unsigned char)*b))
                b++;
            while (e > b && http_is_ows((unsigned char)e[-1]))
                e--;
            if ((size_t)(e - b) == tlen && strncasecmp(b, token, tlen) == 0)
                return true;
            if (s[len] == '\0')
                break;
            s += len + 1;
        }
    }
    return false;
}
