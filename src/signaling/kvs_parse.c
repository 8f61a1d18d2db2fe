/* KVS control plane: parsing the service's answers and errors.
 *
 * Shapes from the KVS API reference (DescribeSignalingChannel, CreateSignalingChannel,
 * GetSignalingChannelEndpoint, GetIceServerConfig) and the AWS JSON protocol's error
 * form (x-amzn-ErrorType, __type, message/Message). The body is untrusted: it is parsed
 * from a bounded NUL-terminated copy and every value is type- and length-checked.
 */
#include "camrtc/kvs.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "camrtc/error.h"
#include "camrtc/time.h"
#include "camrtc/url.h"

/* Control-plane answers are a few hundred bytes; anything far larger is not one. */
#define MAX_BODY (64 * 1024)

/* ---------- JSON helpers ---------- */

static int parse_json(const uint8_t *body, size_t len, cJSON **root)
{
    *root = NULL;
    if (!body || len == 0)
        return CAMRTC_EPROTO;
    if (len > MAX_BODY)
        return CAMRTC_ETOOBIG;
    /* An embedded NUL would let trailing bytes slip past the parser's end check. */
    if (memchr(body, '\0', len))
        return CAMRTC_EPROTO;
    char *copy = malloc(len + 1);
    if (!copy)
        return CAMRTC_ENOMEM;
    memcpy(copy, body, len);
    copy[len] = '\0';
    cJSON *r = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
    free(copy);
    if (!r)
        return CAMRTC_EPROTO;
    if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return CAMRTC_EPROTO;
    }
    *root = r;
    return CAMRTC_OK;
}

/* Member key of obj, exact case; a JSON null counts as absent. */
static const cJSON *member(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

/* Copy string member key into out[outsz]: CAMRTC_EPROTO when absent (and required) or not
 * a string, CAMRTC_ETOOBIG when it does not fit. An absent optional one gives "". */
static int get_str(const cJSON *obj, const char *key, bool required, char *out, size_t outsz)
{
    out[0] = '\0';
    const cJSON *v = member(obj, key);
    if (!v)
        return required ? CAMRTC_EPROTO : CAMRTC_OK;
    if (!cJSON_IsString(v) || !v->valuestring)
        return CAMRTC_EPROTO;
    if (strlen(v->valuestring) >= outsz)
        return CAMRTC_ETOOBIG;
    strcpy(out, v->valuestring);
    return CAMRTC_OK;
}

/* A non-negative integer member that fits an int; absent optional ones give 0. */
static int get_int(const cJSON *obj, const char *key, bool required, int *out)
{
    *out = 0;
    const cJSON *v = member(obj, key);
    if (!v)
        return required ? CAMRTC_EPROTO : CAMRTC_OK;
    if (!cJSON_IsNumber(v))
        return CAMRTC_EPROTO;
    double d = v->valuedouble;
    /* NaN and infinities fail these comparisons too. */
    if (!(d >= 0 && d <= INT_MAX) || d != (double)(int)d)
        return CAMRTC_EPROTO;
    *out = (int)d;
    return CAMRTC_OK;
}

/* True when s is printable ASCII without spaces (URIs and URLs handed to other modules). */
static bool printable_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* ---------- 200 answers ---------- */

int camrtc_kvs_parse_describe(const uint8_t *body, size_t len, camrtc_kvs_channel *out)
{
    if (!out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    cJSON *root;
    int rc = parse_json(body, len, &root);
    if (rc < 0)
        return rc;
    const cJSON *info = member(root, "ChannelInfo");
    rc = info && cJSON_IsObject(info) ? CAMRTC_OK : CAMRTC_EPROTO;
    if (rc == CAMRTC_OK)
        rc = get_str(info, "ChannelARN", true, out->arn, sizeof out->arn);
    if (rc == CAMRTC_OK)
        rc = get_str(info, "ChannelName", true, out->name, sizeof out->name);
    if (rc == CAMRTC_OK)
        rc = get_str(info, "ChannelStatus", true, out->status, sizeof out->status);
    if (rc == CAMRTC_OK && (!out->arn[0] || !out->status[0]))
        rc = CAMRTC_EPROTO;
    if (rc == CAMRTC_OK) {
        const cJSON *smc = member(info, "SingleMasterConfiguration");
        if (smc && !cJSON_IsObject(smc))
            rc = CAMRTC_EPROTO;
        else if (smc)
            rc = get_int(smc, "MessageTtlSeconds", false, &out->msg_ttl_s);
    }
    cJSON_Delete(root);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

int camrtc_kvs_parse_create(const uint8_t *body, size_t len, char *arn, size_t arnsz)
{
    if (!arn || !arnsz)
        return CAMRTC_EINVAL;
    arn[0] = '\0';
    cJSON *root;
    int rc = parse_json(body, len, &root);
    if (rc < 0)
        return rc;
    rc = get_str(root, "ChannelARN", true, arn, arnsz);
    if (rc == CAMRTC_OK && !arn[0])
        rc = CAMRTC_EPROTO;
    cJSON_Delete(root);
    if (rc < 0)
        arn[0] = '\0';
    return rc;
}

/* Endpoint URL value of e into out when its scheme is one of a or b. */
static int get_endpoint(const cJSON *e, char *out, size_t outsz, const char *a, const char *b)
{
    int rc = get_str(e, "ResourceEndpoint", true, out, outsz);
    if (rc < 0)
        return rc;
    camrtc_url u;
    if (!printable_token(out) || camrtc_url_parse(out, &u) < 0 || (strcmp(u.scheme, a) && strcmp(u.scheme, b)))
        return CAMRTC_EPROTO;
    /* Schemes are case-insensitive (RFC 3986 3.1); hand out the canonical lowercase form so
     * a caller comparing prefixes sees what the URL parser saw. */
    memcpy(out, u.scheme, strlen(u.scheme));
    return CAMRTC_OK;
}

int camrtc_kvs_parse_endpoints(const uint8_t *body, size_t len, camrtc_kvs_endpoints *out)
{
    if (!out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    cJSON *root;
    int rc = parse_json(body, len, &root);
    if (rc < 0)
        return rc;
    const cJSON *list = member(root, "ResourceEndpointList");
    rc = list && cJSON_IsArray(list) ? CAMRTC_OK : CAMRTC_EPROTO;
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        if (rc < 0)
            break;
        char proto[16];
        if (!cJSON_IsObject(e)) {
            rc = CAMRTC_EPROTO;
            break;
        }
        rc = get_str(e, "Protocol", true, proto, sizeof proto);
        if (rc == CAMRTC_ETOOBIG)   /* some protocol we do not know: not ours to judge */
            rc = CAMRTC_OK;
        else if (rc == CAMRTC_OK && !strcasecmp(proto, "WSS") && !out->wss[0])
            rc = get_endpoint(e, out->wss, sizeof out->wss, "wss", "ws");
        else if (rc == CAMRTC_OK && !strcasecmp(proto, "HTTPS") && !out->https[0])
            rc = get_endpoint(e, out->https, sizeof out->https, "https", "http");
    }
    if (rc == CAMRTC_OK && (!out->wss[0] || !out->https[0]))
        rc = CAMRTC_EPROTO;
    cJSON_Delete(root);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

static int parse_ice_server(const cJSON *s, camrtc_kvs_ice_server *out)
{
    if (!cJSON_IsObject(s))
        return CAMRTC_EPROTO;
    const cJSON *uris = member(s, "Uris");
    if (!uris || !cJSON_IsArray(uris))
        return CAMRTC_EPROTO;
    const cJSON *u;
    cJSON_ArrayForEach(u, uris) {
        if (out->n_uris == CAMRTC_KVS_MAX_ICE_URIS)
            break;
        if (!cJSON_IsString(u) || !u->valuestring)
            return CAMRTC_EPROTO;
        if (strlen(u->valuestring) >= sizeof out->uris[0])
            return CAMRTC_ETOOBIG;
        if (!printable_token(u->valuestring))
            return CAMRTC_EPROTO;
        strcpy(out->uris[out->n_uris++], u->valuestring);
    }
    if (!out->n_uris)
        return CAMRTC_EPROTO;
    int rc = get_str(s, "Username", true, out->username, sizeof out->username);
    if (rc == CAMRTC_OK)
        rc = get_str(s, "Password", true, out->password, sizeof out->password);
    if (rc == CAMRTC_OK)
        rc = get_int(s, "Ttl", true, &out->ttl_s);
    return rc;
}

int camrtc_kvs_parse_ice_config(const uint8_t *body, size_t len, camrtc_kvs_ice_config *out)
{
    if (!out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    cJSON *root;
    int rc = parse_json(body, len, &root);
    if (rc < 0)
        return rc;
    const cJSON *list = member(root, "IceServerList");
    rc = list && cJSON_IsArray(list) ? CAMRTC_OK : CAMRTC_EPROTO;
    const cJSON *s;
    cJSON_ArrayForEach(s, list) {
        if (rc < 0 || out->n_servers == CAMRTC_KVS_MAX_ICE_SERVERS)
            break;
        rc = parse_ice_server(s, &out->servers[out->n_servers++]);
    }
    cJSON_Delete(root);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---------- errors ---------- */

/* Copy at most n bytes of s into out[outsz], cut on a UTF-8 boundary, with control
 * characters replaced so a remote message cannot forge log lines. */
static void copy_clean(char *out, size_t outsz, const char *s, size_t n)
{
    if (n >= outsz) {
        n = outsz - 1;
        while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[n] = '\0';
}

/* The bare error name of an x-amzn-ErrorType or __type value: "aws.ns#Name:http://..."
 * gives "Name" (AWS JSON protocol: drop from the first ':', keep after the '#'),
 * surrounding whitespace dropped. */
static void set_type(camrtc_kvs_error *out, const char *v)
{
    size_t n = strcspn(v, ":");
    const char *hash = memchr(v, '#', n);
    if (hash) {
        n -= (size_t)(hash + 1 - v);
        v = hash + 1;
    }
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    copy_clean(out->type, sizeof out->type, v, n);
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return true;
    return false;
}

/* The service rejected the request's time, not its key: the signing clock is off (or the
 * request waited too long). "Signature expired: ..." / "Signature not yet current: ..." are
 * what KVS (and our service) answer with a 403 InvalidSignatureException; RequestExpired
 * and RequestTimeTooSkewed are the AWS-wide names. ExpiredTokenException is left out: the
 * session token is stale, which new credentials fix and the clock does not. */
static bool time_rejected(const camrtc_kvs_error *e)
{
    if (contains_nocase(e->type, "Token"))
        return false;
    if (contains_nocase(e->type, "Expired") || contains_nocase(e->type, "TimeTooSkewed"))
        return true;
    static const char *const phrases[] = {"Signature expired", "Signature not yet current", "Request has expired",
                                          "request time too skewed"};
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (contains_nocase(e->message, phrases[i]))
            return true;
    return false;
}

void camrtc_kvs_parse_error(int status, const camrtc_kv *headers, size_t n_headers, const uint8_t *body,
                            size_t body_len, camrtc_kvs_error *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    out->status = status;
    const char *ht = headers ? camrtc_kv_get(headers, n_headers, "x-amzn-ErrorType") : NULL;
    if (ht)
        set_type(out, ht);
    cJSON *root = NULL;
    if (parse_json(body, body_len, &root) == CAMRTC_OK) {
        const cJSON *t = member(root, "__type");
        if (!out->type[0] && cJSON_IsString(t) && t->valuestring)
            set_type(out, t->valuestring);
        const cJSON *m = member(root, "message");
        if (!cJSON_IsString(m))
            m = member(root, "Message");
        if (cJSON_IsString(m) && m->valuestring)
            copy_clean(out->message, sizeof out->message, m->valuestring, strlen(m->valuestring));
        cJSON_Delete(root);
    }

    out->signature_expired = (status == 400 || status == 401 || status == 403) && time_rejected(out);
    if (status >= 200 && status < 300)
        out->cls = CAMRTC_KVS_ERR_NONE;
    else if (status == 401 || status == 403)
        out->cls = CAMRTC_KVS_ERR_AUTH;
    else if (status == 404 || (status == 400 && !strcmp(out->type, "ResourceNotFoundException")))
        out->cls = CAMRTC_KVS_ERR_NOT_FOUND;
    /* AWS-wide RequestExpired and some services' ExpiredTokenException come as 400; retrying
     * with the same clock or the same token would fail again. */
    else if (status == 400 && (out->signature_expired || !strcmp(out->type, "ExpiredTokenException")))
        out->cls = CAMRTC_KVS_ERR_AUTH;
    else
        out->cls = CAMRTC_KVS_ERR_RETRY;
}

/* ---------- clock ---------- */

int camrtc_kvs_clock_skew(const camrtc_kv *headers, size_t n_headers, int64_t local_now, int64_t *skew)
{
    if (!skew || (n_headers && !headers))
        return CAMRTC_EINVAL;
    const char *d = headers ? camrtc_kv_get(headers, n_headers, "date") : NULL;
    int64_t t;
    if (!d || camrtc_time_parse_http(d, &t) < 0)
        return CAMRTC_EPROTO;
    if (__builtin_sub_overflow(t, local_now, skew))
        return CAMRTC_EINVAL;
    return CAMRTC_OK;
}
