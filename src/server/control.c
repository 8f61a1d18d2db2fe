#include "server/control.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/md.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/str.h"

#define E_INVALID_ARG "InvalidArgumentException"
#define E_NOT_FOUND "ResourceNotFoundException"
#define E_IN_USE "ResourceInUseException"
#define E_SERIALIZATION "SerializationException"
#define E_INTERNAL "InternalFailure"
#define NOT_FOUND_TEXT "The requested channel is not found or not active."
#define ARN_MAX 1024
#define TOKEN_MAX 512
#define TOKEN_PREFIX "1:" /* versions the NextToken format */
#define DEFAULT_ICE_TTL 300

/* One request being handled. */
typedef struct req {
    sig_store *s;
    const sig_control_config *cfg;
    const cJSON *body;
    int64_t now_ms;
    sig_reply *reply;
    char *deleted_arn;
    size_t deleted_arn_sz;
} req;

/* ---- replies ---- */

static void reply_reset(sig_reply *r)
{
    r->status = 0;
    r->error_type = NULL;
    camrtc_buf_reset(&r->body);
}

static void reply_verror(sig_reply *r, int status, const char *type, const char *fmt, va_list ap)
{
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    reply_reset(r);
    r->status = status;
    r->error_type = type;
    /* cJSON does the escaping: the text may quote what the client sent. */
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (o && cJSON_AddStringToObject(o, "message", text) && cJSON_AddStringToObject(o, "Message", text))
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (out)
        camrtc_buf_append_str(&r->body, out);
    cJSON_free(out);
}

void sig_reply_error(sig_reply *reply, int status, const char *error_type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_verror(reply, status, error_type, fmt, ap);
    va_end(ap);
}

static void bad_arg(req *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad_arg(req *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_verror(q->reply, 400, E_INVALID_ARG, fmt, ap);
    va_end(ap);
}

static void internal_error(req *q)
{
    sig_reply_error(q->reply, 500, E_INTERNAL, "The service could not complete the request; see its log.");
}

/* Send root (consumed) as the 200 body. */
static void reply_json(req *q, cJSON *root)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        internal_error(q);
        return;
    }
    reply_reset(q->reply);
    if (camrtc_buf_append_str(&q->reply->body, text) < 0) {
        cJSON_free(text);
        internal_error(q);
        return;
    }
    cJSON_free(text);
    q->reply->status = 200;
}

/* ---- request fields ---- */

enum { FIELD_OK = 0, FIELD_ABSENT = 1, FIELD_BAD = -1 };

static bool is_name_str(const char *s, size_t maxlen)
{
    return camrtc_str_is_name(s, strlen(s), maxlen);
}

/* A string member key of obj, length minlen..maxlen. Absent or null gives
 * FIELD_ABSENT (FIELD_BAD with a reply when required); a non-string or a bad
 * length gives FIELD_BAD with a reply. */
static int get_str(req *q, const cJSON *obj, const char *key, size_t minlen, size_t maxlen, bool required,
                   const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        if (!required)
            return FIELD_ABSENT;
        bad_arg(q, "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                   "Member must not be null", key);
        return FIELD_BAD;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        sig_reply_error(q->reply, 400, E_SERIALIZATION, "Expected a string for '%s'", key);
        return FIELD_BAD;
    }
    size_t n = strlen(v->valuestring);
    if (n < minlen || n > maxlen) {
        bad_arg(q, "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                   "Member must have length between %zu and %zu", key, minlen, maxlen);
        return FIELD_BAD;
    }
    *out = v->valuestring;
    return FIELD_OK;
}

/* An integer member in lo..hi, same conventions as get_str. */
static int get_int(req *q, const cJSON *obj, const char *key, int lo, int hi, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return FIELD_ABSENT;
    if (!cJSON_IsNumber(v) || !(v->valuedouble > -1e15 && v->valuedouble < 1e15) ||
        v->valuedouble != (double)(int64_t)v->valuedouble) {
        sig_reply_error(q->reply, 400, E_SERIALIZATION, "Expected an integer for '%s'", key);
        return FIELD_BAD;
    }
    if (v->valuedouble < lo || v->valuedouble > hi) {
        bad_arg(q, "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                   "Member must have value between %d and %d", key, lo, hi);
        return FIELD_BAD;
    }
    *out = (int)v->valuedouble;
    return FIELD_OK;
}

/* An object member, same conventions. */
static int get_obj(req *q, const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return FIELD_ABSENT;
    if (!cJSON_IsObject(v)) {
        sig_reply_error(q->reply, 400, E_SERIALIZATION, "Expected an object for '%s'", key);
        return FIELD_BAD;
    }
    *out = v;
    return FIELD_OK;
}

static int get_array(req *q, const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return FIELD_ABSENT;
    if (!cJSON_IsArray(v)) {
        sig_reply_error(q->reply, 400, E_SERIALIZATION, "Expected a list for '%s'", key);
        return FIELD_BAD;
    }
    *out = v;
    return FIELD_OK;
}

/* A channel name member: [A-Za-z0-9_.-]{1,256}. */
static int get_name(req *q, const cJSON *obj, const char *key, bool required, const char **out)
{
    int rc = get_str(q, obj, key, 1, SIG_CHANNEL_NAME_MAX, required, out);
    if (rc == FIELD_OK && !is_name_str(*out, SIG_CHANNEL_NAME_MAX)) {
        bad_arg(q, "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", key);
        return FIELD_BAD;
    }
    return rc;
}

enum { CL_LOWER = 1, CL_DIGIT = 2, CL_DASH = 4, CL_NAME = 8 /* A-Z _ . */, CL_UPPER = 16 };

static const char *span(const char *p, int cls)
{
    for (;; p++) {
        char c = *p;
        bool ok = ((cls & CL_LOWER) && c >= 'a' && c <= 'z') || ((cls & CL_DIGIT) && c >= '0' && c <= '9') ||
                  ((cls & CL_DASH) && c == '-') ||
                  ((cls & CL_NAME) && ((c >= 'A' && c <= 'Z') || c == '_' || c == '.')) ||
                  ((cls & CL_UPPER) && c >= 'A' && c <= 'Z');
        if (!ok)
            return p;
    }
}

/* AWS's ChannelARN pattern:
 * arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/[a-zA-Z0-9_.-]+/[0-9]+ */
static bool arn_pattern_ok(const char *a)
{
    static const struct {
        int cls;
        const char *then; /* literal after the run; "" = end of string */
    } parts[] = {
        {CL_LOWER | CL_DIGIT | CL_DASH, ":kinesisvideo:"},
        {CL_LOWER | CL_DIGIT | CL_DASH, ":"},
        {CL_DIGIT, ":"},
        {CL_LOWER, "/"},
        {CL_LOWER | CL_DIGIT | CL_DASH | CL_NAME, "/"},
        {CL_DIGIT, ""},
    };
    if (strncmp(a, "arn:", 4) != 0)
        return false;
    const char *p = a + 4;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *e = span(p, parts[i].cls);
        size_t tl = strlen(parts[i].then);
        if (e == p || strncmp(e, parts[i].then, tl) != 0)
            return false;
        p = e + tl;
    }
    return *p == '\0';
}

static int get_arn(req *q, const cJSON *obj, const char *key, bool required, const char **out)
{
    int rc = get_str(q, obj, key, 1, ARN_MAX, required, out);
    if (rc == FIELD_OK && !arn_pattern_ok(*out)) {
        bad_arg(q, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must "
                   "satisfy regular expression pattern: arn:[a-z\\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/"
                   "[a-zA-Z0-9_.-]+/[0-9]+", key);
        return FIELD_BAD;
    }
    return rc;
}

/* The channel named by a ChannelARN member, or NULL with a reply. */
static const sig_channel *channel_by_arn(req *q)
{
    const char *arn;
    if (get_arn(q, q->body, "ChannelARN", true, &arn) != FIELD_OK)
        return NULL;
    const sig_channel *c = sig_store_find_arn(q->s, arn);
    if (!c)
        sig_reply_error(q->reply, 404, E_NOT_FOUND, NOT_FOUND_TEXT);
    return c;
}

/* ---- ChannelInfo ---- */

static cJSON *channel_info(const sig_channel *c)
{
    char when[32];
    snprintf(when, sizeof when, "%" PRId64 ".%03d", c->creation_ms / 1000, (int)(c->creation_ms % 1000));
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON *smc = NULL;
    bool ok = cJSON_AddStringToObject(o, "ChannelName", c->name) &&
              cJSON_AddStringToObject(o, "ChannelARN", c->arn) &&
              cJSON_AddStringToObject(o, "ChannelType", "SINGLE_MASTER") &&
              cJSON_AddStringToObject(o, "ChannelStatus", c->status) &&
              /* epoch seconds with the milliseconds, a JSON number as AWS sends it */
              cJSON_AddRawToObject(o, "CreationTime", when) &&
              (smc = cJSON_AddObjectToObject(o, "SingleMasterConfiguration")) != NULL &&
              cJSON_AddNumberToObject(smc, "MessageTtlSeconds", c->msg_ttl_s) &&
              cJSON_AddStringToObject(o, "Version", c->version);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- operations ---- */

static void op_create(req *q)
{
    const char *name, *type;
    const cJSON *smc, *tags;
    int ttl = SIG_MSG_TTL_DEFAULT;
    if (get_name(q, q->body, "ChannelName", true, &name) == FIELD_BAD ||
        get_str(q, q->body, "ChannelType", 1, 64, false, &type) == FIELD_BAD ||
        get_obj(q, q->body, "SingleMasterConfiguration", &smc) == FIELD_BAD ||
        (smc && get_int(q, smc, "MessageTtlSeconds", SIG_MSG_TTL_MIN, SIG_MSG_TTL_MAX, &ttl) == FIELD_BAD) ||
        get_array(q, q->body, "Tags", &tags) == FIELD_BAD)
        return;
    if (type && strcmp(type, "SINGLE_MASTER") != 0) {
        bad_arg(q, "ChannelType %s is not supported; use SINGLE_MASTER", is_name_str(type, 64) ? type : "given");
        return;
    }
    int n_tags = tags ? cJSON_GetArraySize(tags) : 0;
    if (n_tags > SIG_MAX_TAGS) {
        sig_reply_error(q->reply, 400, "TagsPerResourceExceededLimitException",
                        "You have exceeded the limit of tags that you can associate with the resource. "
                        "A signaling channel supports up to %d tags.", SIG_MAX_TAGS);
        return;
    }
    sig_tag tv[SIG_MAX_TAGS];
    size_t nt = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
        const char *k, *v;
        if (!cJSON_IsObject(t)) {
            sig_reply_error(q->reply, 400, E_SERIALIZATION, "Expected an object in 'Tags'");
            return;
        }
        if (get_str(q, t, "Key", 1, SIG_TAG_KEY_MAX, true, &k) == FIELD_BAD ||
            get_str(q, t, "Value", 0, SIG_TAG_VALUE_MAX, true, &v) == FIELD_BAD)
            return;
        memcpy(tv[nt].key, k, strlen(k) + 1);
        memcpy(tv[nt].value, v, strlen(v) + 1);
        nt++;
    }
    const sig_channel *c = NULL;
    int rc = sig_store_create(q->s, name, ttl, tv, nt, q->now_ms, &c);
    switch (rc) {
    case CAMRTC_OK:
        break;
    case CAMRTC_EEXIST:
        sig_reply_error(q->reply, 400, E_IN_USE, "The signaling channel %s already exists.", name);
        return;
    case CAMRTC_ELIMIT:
        sig_reply_error(q->reply, 400, "AccountChannelLimitExceededException",
                        "You have reached the maximum limit of active signaling channels for this account "
                        "in this region.");
        return;
    case CAMRTC_EINVAL:
        bad_arg(q, "Invalid tags: keys must be unique and printable, values printable.");
        return;
    default:
        internal_error(q);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "ChannelARN", c->arn)) {
        cJSON_Delete(o);
        o = NULL;
    }
    reply_json(q, o);
}

static void op_describe(req *q)
{
    const char *name, *arn;
    int rn = get_name(q, q->body, "ChannelName", false, &name);
    if (rn == FIELD_BAD)
        return;
    int ra = get_arn(q, q->body, "ChannelARN", false, &arn);
    if (ra == FIELD_BAD)
        return;
    if ((rn == FIELD_OK) == (ra == FIELD_OK)) {
        bad_arg(q, "Specify either ChannelName or ChannelARN, not %s.", rn == FIELD_OK ? "both" : "neither");
        return;
    }
    const sig_channel *c = name ? sig_store_find_name(q->s, name) : sig_store_find_arn(q->s, arn);
    if (!c) {
        sig_reply_error(q->reply, 404, E_NOT_FOUND, NOT_FOUND_TEXT);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *info = channel_info(c);
    if (!o || !info || !cJSON_AddItemToObject(o, "ChannelInfo", info)) {
        cJSON_Delete(info);
        cJSON_Delete(o);
        o = NULL;
    }
    reply_json(q, o);
}

static void op_delete(req *q)
{
    const char *arn, *ver;
    if (get_arn(q, q->body, "ChannelARN", true, &arn) == FIELD_BAD ||
        get_str(q, q->body, "CurrentVersion", 1, 64, false, &ver) == FIELD_BAD)
        return;
    if (ver && *span(ver, CL_LOWER | CL_DIGIT | CL_UPPER) != '\0') {
        bad_arg(q, "1 validation error detected: Value at 'CurrentVersion' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: [a-zA-Z0-9]+");
        return;
    }
    const sig_channel *c = sig_store_find_arn(q->s, arn);
    if (!c) {
        sig_reply_error(q->reply, 404, E_NOT_FOUND, NOT_FOUND_TEXT);
        return;
    }
    if (ver && strcmp(ver, c->version) != 0) {
        sig_reply_error(q->reply, 400, "VersionMismatchException",
                        "The signaling channel version that you specified is not the latest version. "
                        "To get the latest version, use the DescribeSignalingChannel API.");
        return;
    }
    if (sig_store_delete(q->s, arn, ver) < 0) {
        internal_error(q);
        return;
    }
    if (q->deleted_arn && q->deleted_arn_sz)
        camrtc_strlcpy(q->deleted_arn, arn, q->deleted_arn_sz);
    reply_reset(q->reply);
    q->reply->status = 200;
    if (camrtc_buf_append_str(&q->reply->body, "{}") < 0)
        internal_error(q);
}

/* NextToken: base64 of "1:<last channel name returned>". Resuming after a name
 * (not an index) stays right when channels come and go between pages. */
static bool token_decode(const char *tok, char *name, size_t name_sz)
{
    size_t n = strlen(tok);
    uint8_t raw[TOKEN_MAX];
    for (size_t i = 0; i < n; i++) {
        char c = tok[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
              c == '/' || c == '='))
            return false;
    }
    int r = camrtc_base64_decode(tok, n, raw, sizeof raw);
    size_t pl = strlen(TOKEN_PREFIX);
    if (r < 0 || (size_t)r <= pl || memcmp(raw, TOKEN_PREFIX, pl) != 0 || (size_t)r - pl >= name_sz)
        return false;
    memcpy(name, raw + pl, (size_t)r - pl);
    name[(size_t)r - pl] = '\0';
    return camrtc_str_is_name(name, (size_t)r - pl, SIG_CHANNEL_NAME_MAX);
}

static bool has_prefix(const char *s, const char *prefix)
{
    return !prefix || strncmp(s, prefix, strlen(prefix)) == 0;
}

static void op_list(req *q)
{
    int max = SIG_LIST_DEFAULT_MAX;
    const char *tok, *op = NULL, *prefix = NULL;
    const cJSON *cond;
    if (get_int(q, q->body, "MaxResults", 1, SIG_LIST_MAX, &max) == FIELD_BAD ||
        get_str(q, q->body, "NextToken", 0, TOKEN_MAX, false, &tok) == FIELD_BAD ||
        get_obj(q, q->body, "ChannelNameCondition", &cond) == FIELD_BAD ||
        (cond && get_str(q, cond, "ComparisonOperator", 1, 64, false, &op) == FIELD_BAD) ||
        (cond && get_name(q, cond, "ComparisonValue", false, &prefix) == FIELD_BAD))
        return;
    if (op && strcmp(op, "BEGINS_WITH") != 0) {
        bad_arg(q, "ComparisonOperator must be BEGINS_WITH.");
        return;
    }
    char after[SIG_CHANNEL_NAME_MAX + 1] = "";
    if (tok && *tok && !token_decode(tok, after, sizeof after)) {
        bad_arg(q, "The NextToken is not valid.");
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *list = root ? cJSON_AddArrayToObject(root, "ChannelInfoList") : NULL;
    if (!list) {
        cJSON_Delete(root);
        internal_error(q);
        return;
    }
    size_t n = sig_store_count(q->s);
    size_t i = sig_store_lower_bound(q->s, after, prefix);
    const sig_channel *last = NULL;
    int count = 0;
    for (; i < n && count < max; i++, count++) {
        const sig_channel *c = sig_store_at(q->s, i);
        if (!has_prefix(c->name, prefix))
            break;
        cJSON *info = channel_info(c);
        if (!info || !cJSON_AddItemToArray(list, info)) {
            cJSON_Delete(info);
            cJSON_Delete(root);
            internal_error(q);
            return;
        }
        last = c;
    }
    if (last && i < n && has_prefix(sig_store_at(q->s, i)->name, prefix)) {
        char raw[SIG_CHANNEL_NAME_MAX + 8];
        char enc[CAMRTC_BASE64_ENCODED_SIZE(sizeof raw)];
        int rl = snprintf(raw, sizeof raw, TOKEN_PREFIX "%s", last->name);
        if (camrtc_base64_encode(raw, (size_t)rl, enc, sizeof enc) < 0 ||
            !cJSON_AddStringToObject(root, "NextToken", enc)) {
            cJSON_Delete(root);
            internal_error(q);
            return;
        }
    }
    reply_json(q, root);
}

static bool add_endpoint(cJSON *list, const char *proto, const char *url)
{
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddItemToArray(list, e)) {
        cJSON_Delete(e);
        return false;
    }
    return cJSON_AddStringToObject(e, "Protocol", proto) && cJSON_AddStringToObject(e, "ResourceEndpoint", url);
}

static void op_get_endpoint(req *q)
{
    const sig_channel *c = channel_by_arn(q);
    if (!c)
        return;
    const cJSON *conf, *protos = NULL;
    const char *role = NULL;
    if (get_obj(q, q->body, "SingleMasterChannelEndpointConfiguration", &conf) == FIELD_BAD ||
        (conf && get_array(q, conf, "Protocols", &protos) == FIELD_BAD) ||
        (conf && get_str(q, conf, "Role", 1, 16, false, &role) == FIELD_BAD))
        return;
    if (role && strcmp(role, "MASTER") != 0 && strcmp(role, "VIEWER") != 0) {
        bad_arg(q, "Role must be MASTER or VIEWER.");
        return;
    }
    bool want_wss = true, want_https = true;
    bool wss_first = true;
    if (protos) {
        int np = cJSON_GetArraySize(protos);
        if (np < 1 || np > 5) {
            bad_arg(q, "1 validation error detected: Value at 'Protocols' failed to satisfy constraint: "
                       "Member must have length between 1 and 5");
            return;
        }
        want_wss = want_https = false;
        const cJSON *p;
        cJSON_ArrayForEach(p, protos) {
            const char *v = cJSON_GetStringValue(p);
            if (!v) {
                sig_reply_error(q->reply, 400, E_SERIALIZATION, "Expected strings in 'Protocols'");
                return;
            }
            if (strcmp(v, "WSS") == 0) {
                if (!want_https)
                    wss_first = true;
                want_wss = true;
            } else if (strcmp(v, "HTTPS") == 0) {
                if (!want_wss)
                    wss_first = false;
                want_https = true;
            } else {
                bad_arg(q, "Protocol %s is not supported; use WSS or HTTPS.", is_name_str(v, 16) ? v : "given");
                return;
            }
        }
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *list = root ? cJSON_AddArrayToObject(root, "ResourceEndpointList") : NULL;
    const char *wss = q->cfg->wss_endpoint, *https = q->cfg->https_endpoint;
    bool ok = list != NULL;
    /* In the order asked, each protocol once. */
    for (int pass = 0; ok && pass < 2; pass++) {
        bool do_wss = (pass == 0) == wss_first;
        if (do_wss && want_wss && wss)
            ok = add_endpoint(list, "WSS", wss);
        else if (!do_wss && want_https && https)
            ok = add_endpoint(list, "HTTPS", https);
    }
    if (!ok) {
        cJSON_Delete(root);
        root = NULL;
    }
    reply_json(q, root);
}

/* One IceServerList entry holding uris[0..n). */
static bool add_ice_server(cJSON *list, const char *const *uris, size_t n, const char *user, const char *pass,
                           int ttl)
{
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddItemToArray(list, e)) {
        cJSON_Delete(e);
        return false;
    }
    if (!cJSON_AddStringToObject(e, "Password", pass) || !cJSON_AddNumberToObject(e, "Ttl", ttl))
        return false;
    cJSON *u = cJSON_AddArrayToObject(e, "Uris");
    if (!u)
        return false;
    for (size_t i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateString(uris[i]);
        if (!s || !cJSON_AddItemToArray(u, s)) {
            cJSON_Delete(s);
            return false;
        }
    }
    return cJSON_AddStringToObject(e, "Username", user) != NULL;
}

static void op_ice_config(req *q)
{
    const sig_channel *c = channel_by_arn(q);
    if (!c)
        return;
    const char *client, *service, *uname;
    if (get_name(q, q->body, "ClientId", false, &client) == FIELD_BAD ||
        get_str(q, q->body, "Service", 1, 16, false, &service) == FIELD_BAD ||
        get_name(q, q->body, "Username", false, &uname) == FIELD_BAD)
        return;
    if (service && strcmp(service, "TURN") != 0) {
        bad_arg(q, "Service must be TURN.");
        return;
    }
    const sig_ice_config *ice = &q->cfg->ice;
    int ttl = ice->ttl_s > 0 ? ice->ttl_s : DEFAULT_ICE_TTL;
    char user[SIG_CHANNEL_NAME_MAX + 32];
    char pass[CAMRTC_BASE64_ENCODED_SIZE(20)];
    const char *username, *password;
    if (ice->turn_secret) {
        /* TURN REST credentials: the TURN server checks the HMAC and the expiry prefix. */
        const char *who = client ? client : uname ? uname : c->name;
        int ul = snprintf(user, sizeof user, "%" PRId64 ":%s", q->now_ms / 1000 + ttl, who);
        unsigned char mac[20];
        const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
        if (!md || mbedtls_md_hmac(md, (const unsigned char *)ice->turn_secret, strlen(ice->turn_secret),
                                   (const unsigned char *)user, (size_t)ul, mac) != 0 ||
            camrtc_base64_encode(mac, sizeof mac, pass, sizeof pass) < 0) {
            internal_error(q);
            return;
        }
        username = user;
        password = pass;
    } else {
        /* Static credentials, or none for a TURN server without authentication. */
        username = ice->turn_user ? ice->turn_user : "";
        password = ice->turn_password ? ice->turn_password : "";
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *list = root ? cJSON_AddArrayToObject(root, "IceServerList") : NULL;
    bool ok = list != NULL;
    /* AWS gives at most SIG_ICE_MAX_URIS per entry and the C SDK's arrays hold no more. */
    size_t n = ice->turn_urls ? ice->n_turn : 0;
    if (n > (size_t)SIG_ICE_MAX_SERVERS * SIG_ICE_MAX_URIS)
        n = (size_t)SIG_ICE_MAX_SERVERS * SIG_ICE_MAX_URIS;
    for (size_t i = 0; ok && i < n; i += SIG_ICE_MAX_URIS) {
        size_t k = n - i < SIG_ICE_MAX_URIS ? n - i : SIG_ICE_MAX_URIS;
        ok = add_ice_server(list, ice->turn_urls + i, k, username, password, ttl);
    }
    if (!ok) {
        cJSON_Delete(root);
        root = NULL;
    }
    reply_json(q, root);
}

/* ---- dispatch ---- */

static const struct {
    const char *path;
    void (*fn)(req *q);
} ops[] = {
    {"/createSignalingChannel", op_create},
    {"/describeSignalingChannel", op_describe},
    {"/deleteSignalingChannel", op_delete},
    {"/listSignalingChannels", op_list},
    {"/getSignalingChannelEndpoint", op_get_endpoint},
    {"/v1/get-ice-server-config", op_ice_config},
};

/* cJSON stops strings at a NUL, so "ab\u0000cd" would arrive as "ab": refuse
 * NULs outright rather than act on a different value than was sent. */
static bool has_nul(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0)
            return true;
        if (p[i] == '\\' && i + 1 < n) {
            if (p[i + 1] == 'u' && i + 5 < n && memcmp(p + i + 2, "0000", 4) == 0)
                return true;
            i++;
        }
    }
    return false;
}

static bool all_space(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

void sig_control_handle(sig_store *s, const sig_control_config *cfg, const char *path, const uint8_t *body,
                        size_t body_len, int64_t now_ms, sig_reply *reply, char *deleted_arn, size_t deleted_arn_sz)
{
    if (deleted_arn && deleted_arn_sz)
        deleted_arn[0] = '\0';
    reply_reset(reply);
    size_t plen = path ? strcspn(path, "?") : 0;
    void (*fn)(req *) = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i].path) == plen && memcmp(ops[i].path, path, plen) == 0)
            fn = ops[i].fn;
    if (!fn) {
        sig_reply_error(reply, 404, "UnknownOperationException", "Unknown operation.");
        return;
    }
    cJSON *root;
    if (!body || all_space(body, body_len)) {
        root = cJSON_CreateObject();
        if (!root) {
            sig_reply_error(reply, 500, E_INTERNAL, "Out of memory.");
            return;
        }
    } else {
        const char *end = NULL;
        root = has_nul(body, body_len) ? NULL
                                       : cJSON_ParseWithLengthOpts((const char *)body, body_len, &end, 0);
        if (root && end && !all_space((const uint8_t *)end, body_len - (size_t)(end - (const char *)body))) {
            cJSON_Delete(root);
            root = NULL;
        }
        if (!root || !cJSON_IsObject(root)) {
            cJSON_Delete(root);
            sig_reply_error(reply, 400, E_SERIALIZATION, "The request body is not a JSON object.");
            return;
        }
    }
    req q = {.s = s, .cfg = cfg, .body = root, .now_ms = now_ms, .reply = reply,
             .deleted_arn = deleted_arn, .deleted_arn_sz = deleted_arn_sz};
    fn(&q);
    cJSON_Delete(root);
}
