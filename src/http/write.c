/* HTTP/1.1 message serializers (RFC 9112 sections 3, 4, 5 and 6.2) and the
 * reason phrases of RFC 9110 section 15.
 *
 * Everything the caller passes is checked with the same character classes the
 * parser uses before a byte is written, so a value taken from remote input
 * cannot inject a header or split the message.
 */
#include "camrtc/http.h"

#include <string.h>
#include <strings.h>

#include "camrtc/error.h"
#include "http/http_chars.h"

static bool value_ok(const char *s)
{
    for (; *s; s++)
        if (!http_is_field_char((unsigned char)*s))
            return false;
    return true;
}

static int check_headers(const camrtc_kv *h, size_t n)
{
    if (n > 0 && !h)
        return CAMRTC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !h[i].value || !http_is_token(h[i].name, strlen(h[i].name)) ||
            !value_ok(h[i].value))
            return CAMRTC_EINVAL;
    }
    return CAMRTC_OK;
}

/* Headers, the Content-Length the caller left out, the empty line and the body. */
static int write_rest(camrtc_buf *out, const camrtc_kv *h, size_t n, bool want_length,
                      const void *body, size_t body_len)
{
    int rc = CAMRTC_OK;
    for (size_t i = 0; i < n && rc == CAMRTC_OK; i++)
        rc = camrtc_buf_appendf(out, "%s: %s\r\n", h[i].name, h[i].value);
    if (rc == CAMRTC_OK && want_length && !camrtc_kv_get(h, n, "content-length") &&
        !camrtc_kv_get(h, n, "transfer-encoding"))
        rc = camrtc_buf_appendf(out, "Content-Length: %zu\r\n", body_len);
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_append(out, "\r\n", 2);
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_append(out, body, body_len);
    return rc;
}

int camrtc_http_write_request(camrtc_buf *out, const char *method, const char *target,
                              const camrtc_kv *headers, size_t n, const void *body, size_t body_len)
{
    if (!out || !method || !target || (body_len > 0 && !body))
        return CAMRTC_EINVAL;
    if (!http_is_token(method, strlen(method)) || !target[0])
        return CAMRTC_EINVAL;
    for (const char *t = target; *t; t++)
        if (!http_is_target_char((unsigned char)*t))
            return CAMRTC_EINVAL;
    int rc = check_headers(headers, n);
    if (rc < 0)
        return rc;
    size_t start = out->len;
    bool want_length = body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    rc = camrtc_buf_appendf(out, "%s %s HTTP/1.1\r\n", method, target);
    if (rc == CAMRTC_OK)
        rc = write_rest(out, headers, n, want_length, body, body_len);
    if (rc < 0)
        out->len = start;
    return rc;
}

int camrtc_http_write_response(camrtc_buf *out, int status, const char *reason,
                               const camrtc_kv *headers, size_t n, const void *body, size_t body_len)
{
    if (!out || status < 100 || status > 599 || (body_len > 0 && !body))
        return CAMRTC_EINVAL;
    bool bodiless = status < 200 || status == 204 || status == 304;
    if (bodiless && body_len > 0)
        return CAMRTC_EINVAL;
    if (!reason)
        reason = camrtc_http_reason(status);
    if (!value_ok(reason))
        return CAMRTC_EINVAL;
    int rc = check_headers(headers, n);
    if (rc < 0)
        return rc;
    size_t start = out->len;
    rc = camrtc_buf_appendf(out, "HTTP/1.1 %d %s\r\n", status, reason);
    if (rc == CAMRTC_OK)
        rc = write_rest(out, headers, n, !bodiless, body, body_len);
    if (rc < 0)
        out->len = start;
    return rc;
}

typedef struct {
    int status;
    const char *reason;
} http_reason;

static const http_reason reasons[] = {
    {100, "Continue"}, {101, "Switching Protocols"},
    {200, "OK"}, {201, "Created"}, {202, "Accepted"}, {203, "Non-Authoritative Information"},
    {204, "No Content"}, {205, "Reset Content"}, {206, "Partial Content"},
    {300, "Multiple Choices"}, {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"},
    {304, "Not Modified"}, {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
    {400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"}, {403, "Forbidden"},
    {404, "Not Found"}, {405, "Method Not Allowed"}, {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"}, {408, "Request Timeout"}, {409, "Conflict"},
    {410, "Gone"}, {411, "Length Required"}, {412, "Precondition Failed"},
    {413, "Content Too Large"}, {414, "URI Too Long"}, {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"}, {417, "Expectation Failed"}, {421, "Misdirected Request"},
    {422, "Unprocessable Content"}, {426, "Upgrade Required"}, {428, "Precondition Required"},
    {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
    {503, "Service Unavailable"}, {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
};

const char *camrtc_http_reason(int status)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    switch (status / 100) {
    case 1: return "Informational";
    case 2: return "Success";
    case 3: return "Redirection";
    case 4: return "Client Error";
    case 5: return "Server Error";
    default: return "Unknown";
    }
}
