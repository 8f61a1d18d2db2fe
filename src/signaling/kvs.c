/* KVS control plane: the signed REST requests and the presigned WebSocket URL.
 *
 * The bodies are serialized as JSON.stringify does in the official JS clients (members in
 * the SDK's order, no whitespace, only '"', '\\' and control characters escaped) so the
 * bytes, and therefore x-amz-content-sha256 and the signature, match theirs.
 */
#include "camrtc/kvs.h"

#include <stdio.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/time.h"
#include "camrtc/url.h"

#define SERVICE "kinesisvideo"
/* AWS limits on the strings we put in a body (API reference, request parameters). */
#define MAX_NAME 256
#define MAX_CLIENT_ID 256
#define HDR_CAP (sizeof ((camrtc_kvs_request *)0)->headers / sizeof ((camrtc_kvs_request *)0)->headers[0])

/* ---------- region → control-plane endpoint ---------- */

int camrtc_kvs_control_endpoint(const char *region, char *out, size_t outsz)
{
    if (!region || !out || !outsz)
        return CAMRTC_EINVAL;
    size_t n = strlen(region);
    if (n == 0 || n > 64)
        return CAMRTC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = region[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return CAMRTC_EINVAL;
    }
    const char *suffix = strncmp(region, "cn-", 3) == 0 ? ".amazonaws.com.cn" : ".amazonaws.com";
    int w = snprintf(out, outsz, "https://kinesisvideo.%s%s", region, suffix);
    if (w < 0 || (size_t)w >= outsz) {
        out[0] = '\0';
        return CAMRTC_ETOOBIG;
    }
    return CAMRTC_OK;
}

/* ---------- JSON serialization ---------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), or 0. A JS string can only hold such text, so anything else
 * could not have come from the official clients either. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Append s as a JSON string literal, escaped the way JSON.stringify escapes. */
static int json_str(camrtc_buf *b, const char *s)
{
    int rc = camrtc_buf_append(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (rc == CAMRTC_OK && *p) {
        size_t run = 0;
        while (p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run) {
            rc = camrtc_buf_append(b, p, run);
            p += run;
            continue;
        }
        unsigned c = *p;
        if (c >= 0x80) {
            size_t n = utf8_seq(p);
            if (!n)
                return CAMRTC_EINVAL;
            rc = camrtc_buf_append(b, p, n);
            p += n;
            continue;
        }
        static const char short_esc[][3] = {['\b'] = "\\b", ['\t'] = "\\t", ['\n'] = "\\n", ['\f'] = "\\f",
                                            ['\r'] = "\\r", ['"'] = "\\\"", ['\\'] = "\\\\"};
        if (c < sizeof short_esc / sizeof short_esc[0] && short_esc[c][0])
            rc = camrtc_buf_append(b, short_esc[c], 2);
        else
            rc = camrtc_buf_appendf(b, "\\u%04x", c);
        p++;
    }
    return rc == CAMRTC_OK ? camrtc_buf_append(b, "\"", 1) : rc;
}

/* Append "key":"value" preceded by sep ("{" or ","). */
static int json_member(camrtc_buf *b, const char *sep, const char *key, const char *value)
{
    int rc = camrtc_buf_appendf(b, "%s\"%s\":", sep, key);
    return rc == CAMRTC_OK ? json_str(b, value) : rc;
}

static bool present(const char *s)
{
    return s && *s;
}

static bool fits(const char *s, size_t max)
{
    return strnlen(s, max + 1) <= max;
}

/* The body of op, exactly as the official clients serialize it. */
static int build_body(camrtc_buf *b, camrtc_kvs_op op, const camrtc_kvs_params *p)
{
    const char *arn = p->channel_arn, *name = p->channel_name, *cid = p->client_id;
    if ((present(arn) && !fits(arn, CAMRTC_KVS_MAX_ARN - 1)) || (present(name) && !fits(name, MAX_NAME)) ||
        (present(cid) && !fits(cid, MAX_CLIENT_ID)))
        return CAMRTC_EINVAL;
    int rc;
    switch (op) {
    case CAMRTC_KVS_DESCRIBE_CHANNEL:
        if (present(arn))
            rc = json_member(b, "{", "ChannelARN", arn);
        else if (present(name))
            rc = json_member(b, "{", "ChannelName", name);
        else
            return CAMRTC_EINVAL;
        return rc == CAMRTC_OK ? camrtc_buf_append_str(b, "}") : rc;
    case CAMRTC_KVS_CREATE_CHANNEL: {
        int ttl = p->msg_ttl_s ? p->msg_ttl_s : 60;
        if (!present(name) || ttl < 5 || ttl > 120)
            return CAMRTC_EINVAL;
        rc = json_member(b, "{", "ChannelName", name);
        if (rc == CAMRTC_OK)
            rc = camrtc_buf_appendf(b, ",\"ChannelType\":\"SINGLE_MASTER\","
                                       "\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":%d}}", ttl);
        return rc;
    }
    case CAMRTC_KVS_GET_ENDPOINT:
        if (!present(arn))
            return CAMRTC_EINVAL;
        rc = json_member(b, "{", "ChannelARN", arn);
        if (rc == CAMRTC_OK)
            rc = camrtc_buf_appendf(b, ",\"SingleMasterChannelEndpointConfiguration\":"
                                       "{\"Protocols\":[\"WSS\",\"HTTPS\"],\"Role\":\"%s\"}}",
                                    p->viewer ? "VIEWER" : "MASTER");
        return rc;
    case CAMRTC_KVS_GET_ICE_CONFIG:
        if (!present(arn))
            return CAMRTC_EINVAL;
        rc = json_member(b, "{", "ChannelARN", arn);
        if (rc == CAMRTC_OK && present(cid))
            rc = json_member(b, ",", "ClientId", cid);
        return rc == CAMRTC_OK ? camrtc_buf_append_str(b, ",\"Service\":\"TURN\"}") : rc;
    }
    return CAMRTC_EINVAL;
}

static const char *op_path(camrtc_kvs_op op)
{
    switch (op) {
    case CAMRTC_KVS_DESCRIBE_CHANNEL: return "/describeSignalingChannel";
    case CAMRTC_KVS_CREATE_CHANNEL: return "/createSignalingChannel";
    case CAMRTC_KVS_GET_ENDPOINT: return "/getSignalingChannelEndpoint";
    case CAMRTC_KVS_GET_ICE_CONFIG: return "/v1/get-ice-server-config";
    }
    return NULL;
}

/* ---------- headers ---------- */

/* Headers build() sets itself; an extra header may not repeat one of them. */
static const char *const own_headers[] = {"host", "content-type", "content-length", "x-amz-date",
                                          "x-amz-security-token", "authorization"};

static bool header_name_ok(const char *name)
{
    if (!present(name) || strlen(name) > 128)
        return false;
    for (const char *s = name; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            return false;
    }
    for (size_t i = 0; i < sizeof own_headers / sizeof own_headers[0]; i++)
        if (camrtc_streq_nocase(name, own_headers[i]))
            return false;
    return true;
}

/* A header value may not split the header block (no CR, LF or other controls but tab). */
static bool header_value_ok(const char *s)
{
    if (!s || strlen(s) > 4096)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < ' ' && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* Header strings are appended to r->storage as offsets first and turned into pointers once
 * the storage no longer moves. */
typedef struct hdr_off {
    size_t name, value;
} hdr_off;

static int add_header(camrtc_kvs_request *r, hdr_off *offs, const char *name, const char *value)
{
    if (r->n_headers >= HDR_CAP)
        return CAMRTC_ETOOBIG;
    hdr_off o = {r->storage.len, 0};
    int rc = camrtc_buf_append(&r->storage, name, strlen(name) + 1);
    o.value = r->storage.len;
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_append(&r->storage, value, strlen(value) + 1);
    if (rc == CAMRTC_OK)
        offs[r->n_headers++] = o;
    return rc;
}

static void fix_headers(camrtc_kvs_request *r, const hdr_off *offs)
{
    const char *base = (const char *)camrtc_buf_data(&r->storage);
    for (size_t i = 0; i < r->n_headers; i++)
        r->headers[i] = (camrtc_kv){base + offs[i].name, base + offs[i].value};
}

/* ---------- requests ---------- */

/* base_url without its trailing slashes, checked to be http(s)://authority[/prefix]. */
static int make_url(char *out, const char *base_url, const char *path, camrtc_url *u)
{
    if (!present(base_url) || strpbrk(base_url, "?#"))
        return CAMRTC_EINVAL;
    size_t n = strlen(base_url);
    while (n && base_url[n - 1] == '/')
        n--;
    if (n + strlen(path) >= CAMRTC_KVS_MAX_URL)
        return CAMRTC_ETOOBIG;
    memcpy(out, base_url, n);
    strcpy(out + n, path);
    int rc = camrtc_url_parse(out, u);
    if (rc == CAMRTC_ETOOBIG)
        return rc;
    if (rc < 0 || (strcmp(u->scheme, "https") && strcmp(u->scheme, "http")))
        return CAMRTC_EINVAL;
    return CAMRTC_OK;
}

static int build(camrtc_kvs_request *r, camrtc_kvs_op op, const char *base_url, const camrtc_kvs_params *p,
                 const camrtc_aws_creds *creds, const char *region, int64_t now)
{
    const char *path = op_path(op);
    if (!path || !p || !creds || (p->n_extra_headers && !p->extra_headers))
        return CAMRTC_EINVAL;
    camrtc_url u;
    int rc = make_url(r->url, base_url, path, &u);
    if (rc < 0)
        return rc;
    if ((rc = build_body(&r->body, op, p)) < 0)
        return rc;
    for (size_t i = 0; i < p->n_extra_headers; i++)
        if (!header_name_ok(p->extra_headers[i].name) || !header_value_ok(p->extra_headers[i].value))
            return CAMRTC_EINVAL;

    const char *token = present(creds->session_token) ? creds->session_token : NULL;
    if (token && !header_value_ok(token))
        return CAMRTC_EINVAL;
    char host[300], length[24], amz[17];
    camrtc_url_host_header(&u, host, sizeof host);
    snprintf(length, sizeof length, "%zu", r->body.len);
    camrtc_time_amz(now, amz);

    hdr_off offs[HDR_CAP];
    rc = add_header(r, offs, "host", host);
    if (rc == CAMRTC_OK)
        rc = add_header(r, offs, "content-type", "application/json");
    /* Sent and signed like the SDKs do; the HTTP writer then leaves it as it is. */
    if (rc == CAMRTC_OK)
        rc = add_header(r, offs, "content-length", length);
    if (rc == CAMRTC_OK)
        rc = add_header(r, offs, "x-amz-date", amz);
    if (rc == CAMRTC_OK && token)
        rc = add_header(r, offs, "x-amz-security-token", token);
    for (size_t i = 0; rc == CAMRTC_OK && i < p->n_extra_headers; i++)
        rc = add_header(r, offs, p->extra_headers[i].name, p->extra_headers[i].value);
    if (rc < 0)
        return rc;
    if (r->n_headers >= HDR_CAP)
        return CAMRTC_ETOOBIG;
    fix_headers(r, offs);

    camrtc_sigv4_request sr = {
        .method = "POST",
        .path = u.path,
        .query = NULL,
        .headers = r->headers,
        .n_headers = r->n_headers,
        .payload = camrtc_buf_data(&r->body),
        .payload_len = r->body.len,
    };
    camrtc_sigv4_signature sig;
    if ((rc = camrtc_sigv4_sign(&sr, creds, region, SERVICE, now, &sig)) < 0)
        return rc;
    /* Pointers into storage are rebuilt after this append may have moved it. */
    if ((rc = add_header(r, offs, "authorization", sig.authorization)) < 0)
        return rc;
    fix_headers(r, offs);
    return CAMRTC_OK;
}

int camrtc_kvs_build(camrtc_kvs_request *out, camrtc_kvs_op op, const char *base_url, const camrtc_kvs_params *p,
                     const camrtc_aws_creds *creds, const char *region, int64_t now)
{
    if (!out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    int rc = build(out, op, base_url, p, creds, region, now);
    if (rc < 0)
        camrtc_kvs_request_free(out);
    return rc;
}

void camrtc_kvs_request_free(camrtc_kvs_request *r)
{
    if (!r)
        return;
    camrtc_buf_free(&r->body);
    camrtc_buf_free(&r->storage);
    memset(r, 0, sizeof *r);
}

/* ---------- presigned WebSocket URL ---------- */

int camrtc_kvs_ws_url(camrtc_buf *out, const char *wss_endpoint, const char *channel_arn, const char *client_id,
                      const camrtc_aws_creds *creds, const char *region, int64_t now, int expires_s)
{
    if (!out || !present(wss_endpoint) || !present(channel_arn) || !fits(channel_arn, CAMRTC_KVS_MAX_ARN - 1) ||
        (present(client_id) && !fits(client_id, MAX_CLIENT_ID)) || strpbrk(wss_endpoint, "?#"))
        return CAMRTC_EINVAL;
    if (expires_s == 0)
        expires_s = 299;
    camrtc_url u;
    int rc = camrtc_url_parse(wss_endpoint, &u);
    if (rc == CAMRTC_ETOOBIG)
        return rc;
    if (rc < 0 || (strcmp(u.scheme, "wss") && strcmp(u.scheme, "ws")))
        return CAMRTC_EINVAL;

    /* The values are encoded here so that no '&', '=' or '%' in them can change the query;
     * presigning decodes and re-encodes them, giving the canonical form either way. */
    char enc[3 * CAMRTC_KVS_MAX_ARN];
    camrtc_buf url = {0};
    rc = camrtc_buf_append_str(&url, wss_endpoint);
    if (rc == CAMRTC_OK && camrtc_url_encode(channel_arn, strlen(channel_arn), enc, sizeof enc) >= 0)
        rc = camrtc_buf_appendf(&url, "?X-Amz-ChannelARN=%s", enc);
    else if (rc == CAMRTC_OK)
        rc = CAMRTC_EINVAL;
    if (rc == CAMRTC_OK && present(client_id)) {
        if (camrtc_url_encode(client_id, strlen(client_id), enc, sizeof enc) < 0)
            rc = CAMRTC_EINVAL;
        else
            rc = camrtc_buf_appendf(&url, "&X-Amz-ClientId=%s", enc);
    }
    const char *s = rc == CAMRTC_OK ? camrtc_buf_cstr(&url) : NULL;
    if (rc == CAMRTC_OK && !s)
        rc = CAMRTC_ENOMEM;
    if (rc == CAMRTC_OK)
        rc = camrtc_sigv4_presign_url(s, creds, region, SERVICE, now, expires_s, out);
    camrtc_buf_free(&url);
    return rc;
}
