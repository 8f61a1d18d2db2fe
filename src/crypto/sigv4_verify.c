/* SigV4 verification for the local KVS-compatible service: header-signed and
 * presigned requests, with AWS's error types and messages. */
#include "camrtc/sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "camrtc/crypto.h"
#include "camrtc/error.h"
#include "camrtc/time.h"
#include "crypto/sigv4_int.h"

#define DEFAULT_SKEW 300
/* Sanity bounds on the configuration so the time arithmetic cannot overflow. */
#define MAX_ABS_NOW ((int64_t)1 << 40)
#define MAX_WINDOW ((int64_t)1 << 32)

static const char T_MISSING[] = "MissingAuthenticationTokenException";
static const char T_INCOMPLETE[] = "IncompleteSignatureException";
static const char T_UNRECOGNIZED[] = "UnrecognizedClientException";
static const char T_INVALID[] = "InvalidSignatureException";

static const char MSG_MISMATCH[] =
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method.";
static const char MSG_BAD_TOKEN[] = "The security token included in the request is invalid.";

/* What the request claims, copied out of the header or the query. */
typedef struct auth_claim {
    bool presigned;
    char akid[129];
    char scope_date[9];
    char region[129];
    char service[129];
    char term[33];
    char amz_date[17];
    char signed_headers[1025];
    char signature[65];
    bool signature_well_formed;
    const char *token; /* not NUL-terminated when from the query */
    size_t token_len;
    bool has_token;
    int64_t expires;
} auth_claim;

/* Copy remote text into a message, keeping it short and printable. */
static void sanitize(char *out, size_t outsz, const char *s, size_t len)
{
    size_t k = 0, max = 64;
    for (size_t i = 0; i < len && k + 4 < outsz; i++) {
        if (i == max) {
            memcpy(out + k, "...", 3);
            k += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '\'') ? (char)c : '?';
    }
    out[k] = '\0';
}

__attribute__((format(printf, 5, 6))) static int fail(camrtc_sigv4_verify_result *res, int rc, int status,
                                                      const char *type, const char *fmt, ...)
{
    res->http_status = status;
    res->error_type = type;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    return rc;
}

#define MALFORMED(res, ...) fail((res), CAMRTC_EPROTO, 400, T_INCOMPLETE, __VA_ARGS__)

static size_t count_headers(const camrtc_sigv4_request *req, const char *name, const char **first)
{
    size_t n = 0;
    *first = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0) {
            if (n == 0)
                *first = req->headers[i].value ? req->headers[i].value : "";
            n++;
        }
    }
    return n;
}

static bool copy_bounded(char *dst, size_t dstsz, const char *s, size_t len)
{
    if (len >= dstsz || memchr(s, '\0', len))
        return false;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return true;
}

/* "AKID/yyyymmdd/region/service/aws4_request" */
static int parse_credential(auth_claim *a, const char *s, size_t len, camrtc_sigv4_verify_result *res)
{
    const char *part[5];
    size_t plen[5], n = 0;
    const char *p = s, *end = s + len;
    while (n < 5) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *e = slash ? slash : end;
        part[n] = p;
        plen[n] = (size_t)(e - p);
        n++;
        if (!slash)
            break;
        p = slash + 1;
    }
    char shown[80];
    sanitize(shown, sizeof shown, s, len);
    bool ok = n == 5 && part[4] + plen[4] == end;
    for (size_t i = 0; ok && i < 5; i++)
        ok = plen[i] > 0;
    if (!ok)
        return MALFORMED(res, "Credential must have exactly 5 slash-delimited elements, e.g. "
                              "keyid/date/region/service/term, got '%s'", shown);
    if (!copy_bounded(a->akid, sizeof a->akid, part[0], plen[0]) ||
        !copy_bounded(a->region, sizeof a->region, part[2], plen[2]) ||
        !copy_bounded(a->service, sizeof a->service, part[3], plen[3]) ||
        !copy_bounded(a->term, sizeof a->term, part[4], plen[4]) ||
        !copy_bounded(a->scope_date, sizeof a->scope_date, part[1], plen[1]))
        return MALFORMED(res, "Credential has an over-long element: '%s'", shown);
    return CAMRTC_OK;
}

/* SignedHeaders: lowercase tokens, strictly ascending, ';'-separated, with host. */
static int check_signed_headers(const char *sh, camrtc_sigv4_verify_result *res)
{
    const char *p = sh, *prev = NULL;
    size_t prev_len = 0, n = 0;
    bool host = false;
    for (;;) {
        size_t l = strcspn(p, ";");
        bool lower = sigv4_is_token(p, l);
        for (size_t i = 0; lower && i < l; i++)
            lower = !(p[i] >= 'A' && p[i] <= 'Z');
        if (!lower || ++n > CAMRTC_SIGV4_MAX_HEADERS)
            return MALFORMED(res, "SignedHeaders must be a ';'-separated list of lowercase header names.");
        if (prev) {
            size_t m = prev_len < l ? prev_len : l;
            int c = memcmp(prev, p, m);
            if (c > 0 || (c == 0 && prev_len >= l))
                return MALFORMED(res, "SignedHeaders must be sorted and unique.");
        }
        if (l == 4 && memcmp(p, "host", 4) == 0)
            host = true;
        prev = p;
        prev_len = l;
        if (!p[l])
            break;
        p += l + 1;
    }
    if (!host)
        return MALFORMED(res, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    return CAMRTC_OK;
}

static void set_signature(auth_claim *a, const char *s, size_t len)
{
    a->signature_well_formed = len == 64;
    for (size_t i = 0; a->signature_well_formed && i < len; i++)
        a->signature_well_formed = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (a->signature_well_formed)
        memcpy(a->signature, s, 64);
    a->signature[a->signature_well_formed ? 64 : 0] = '\0';
}

static bool is_sp(char c)
{
    return c == ' ' || c == '\t';
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
static int parse_authorization(auth_claim *a, const char *v, camrtc_sigv4_verify_result *res)
{
    char shown[80];
    while (is_sp(*v))
        v++;
    size_t alen = strcspn(v, " \t");
    if (alen != strlen(SIGV4_ALGORITHM) || memcmp(v, SIGV4_ALGORITHM, alen) != 0) {
        sanitize(shown, sizeof shown, v, alen);
        return MALFORMED(res, "Unsupported AWS 'algorithm': '%s'.", shown);
    }
    const char *p = v + alen;
    const char *cred = NULL, *sh = NULL, *sig = NULL;
    size_t cred_len = 0, sh_len = 0, sig_len = 0;
    while (*p) {
        size_t l = strcspn(p, ",");
        const char *s = p, *e = p + l;
        while (s < e && is_sp(*s))
            s++;
        while (e > s && is_sp(e[-1]))
            e--;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq) {
            sanitize(shown, sizeof shown, s, (size_t)(e - s));
            return MALFORMED(res, "Authorization header element '%s' is not of the form key=value.", shown);
        }
        size_t klen = (size_t)(eq - s), vlen = (size_t)(e - eq - 1);
        const char **slot = NULL;
        size_t *slot_len = NULL;
        if (klen == 10 && memcmp(s, "Credential", 10) == 0) {
            slot = &cred;
            slot_len = &cred_len;
        } else if (klen == 13 && memcmp(s, "SignedHeaders", 13) == 0) {
            slot = &sh;
            slot_len = &sh_len;
        } else if (klen == 9 && memcmp(s, "Signature", 9) == 0) {
            slot = &sig;
            slot_len = &sig_len;
        }
        if (!slot) {
            sanitize(shown, sizeof shown, s, klen);
            return MALFORMED(res, "Authorization header has an unknown element '%s'.", shown);
        }
        if (*slot)
            return MALFORMED(res, "Authorization header repeats an element.");
        *slot = eq + 1;
        *slot_len = vlen;
        p += l;
        if (*p == ',')
            p++;
    }
    if (!cred)
        return MALFORMED(res, "Authorization header requires 'Credential' parameter.");
    if (!sh)
        return MALFORMED(res, "Authorization header requires 'SignedHeaders' parameter.");
    if (!sig)
        return MALFORMED(res, "Authorization header requires 'Signature' parameter.");
    int rc = parse_credential(a, cred, cred_len, res);
    if (rc < 0)
        return rc;
    if (!copy_bounded(a->signed_headers, sizeof a->signed_headers, sh, sh_len))
        return MALFORMED(res, "SignedHeaders is too long.");
    set_signature(a, sig, sig_len);
    return CAMRTC_OK;
}

static int amz_date_from(auth_claim *a, const char *s, size_t len, int64_t *t, camrtc_sigv4_verify_result *res)
{
    while (len && is_sp(*s)) {
        s++;
        len--;
    }
    while (len && is_sp(s[len - 1]))
        len--;
    if (!copy_bounded(a->amz_date, sizeof a->amz_date, s, len) || camrtc_time_parse_amz(a->amz_date, t) < 0) {
        char shown[80];
        sanitize(shown, sizeof shown, s, len);
        return MALFORMED(res, "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                              "http://en.wikipedia.org/wiki/ISO_8601", shown);
    }
    return CAMRTC_OK;
}

static int parse_header_auth(const camrtc_sigv4_request *req, const char *authz, auth_claim *a, int64_t *t,
                             camrtc_sigv4_verify_result *res)
{
    int rc = parse_authorization(a, authz, res);
    if (rc < 0)
        return rc;
    const char *date;
    size_t n = count_headers(req, "x-amz-date", &date);
    if (n == 0)
        return MALFORMED(res, "Authorization header requires existence of either a 'X-Amz-Date' or a "
                              "'Date' header.");
    if (n > 1)
        return MALFORMED(res, "Only one 'X-Amz-Date' header is allowed.");
    if ((rc = amz_date_from(a, date, strlen(date), t, res)) < 0)
        return rc;
    const char *tok;
    n = count_headers(req, "x-amz-security-token", &tok);
    if (n > 1)
        return MALFORMED(res, "Only one 'X-Amz-Security-Token' header is allowed.");
    if (n == 1) {
        a->has_token = true;
        a->token = tok;
        a->token_len = strlen(tok);
    }
    return CAMRTC_OK;
}

static int parse_query_auth(const camrtc_sigv4_request *req, const sigv4_params *q, int64_t max_expires,
                            auth_claim *a, int64_t *t, camrtc_sigv4_verify_result *res)
{
    static const char *const required[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                                           "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"};
    const sigv4_param *p[6], *tok;
    for (size_t i = 0; i < 6; i++) {
        size_t n = sigv4_params_count(q, required[i], &p[i]);
        if (n != 1 || memchr(p[i]->dvalue, '\0', p[i]->dvalue_len))
            return MALFORMED(res, "AWS query-string parameters must include 'X-Amz-Algorithm', "
                                  "'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', "
                                  "'X-Amz-SignedHeaders' and 'X-Amz-Signature', each once.");
    }
    char shown[80];
    if (strcmp(p[0]->dvalue, SIGV4_ALGORITHM) != 0) {
        sanitize(shown, sizeof shown, p[0]->dvalue, p[0]->dvalue_len);
        return MALFORMED(res, "Unsupported AWS 'algorithm': '%s'.", shown);
    }
    int rc = parse_credential(a, p[1]->dvalue, p[1]->dvalue_len, res);
    if (rc < 0)
        return rc;
    if ((rc = amz_date_from(a, p[2]->dvalue, p[2]->dvalue_len, t, res)) < 0)
        return rc;
    const char *e = p[3]->dvalue;
    size_t elen = p[3]->dvalue_len;
    int64_t expires = 0;
    bool digits = elen > 0 && elen <= 10;
    for (size_t i = 0; digits && i < elen; i++) {
        digits = e[i] >= '0' && e[i] <= '9';
        expires = expires * 10 + (e[i] - '0');
    }
    if (!digits || expires < 1 || expires > max_expires) {
        sanitize(shown, sizeof shown, e, elen);
        return MALFORMED(res, "X-Amz-Expires must be an integer from 1 to %lld seconds, got '%s'.",
                         (long long)max_expires, shown);
    }
    a->expires = expires;
    if (!copy_bounded(a->signed_headers, sizeof a->signed_headers, p[4]->dvalue, p[4]->dvalue_len))
        return MALFORMED(res, "X-Amz-SignedHeaders is too long.");
    set_signature(a, p[5]->dvalue, p[5]->dvalue_len);
    size_t n = sigv4_params_count(q, "X-Amz-Security-Token", &tok);
    if (n > 1)
        return MALFORMED(res, "Only one 'X-Amz-Security-Token' parameter is allowed.");
    if (n == 1) {
        a->has_token = true;
        a->token = tok->dvalue;
        a->token_len = tok->dvalue_len;
    } else {
        const char *h;
        n = count_headers(req, "x-amz-security-token", &h);
        if (n > 1)
            return MALFORMED(res, "Only one 'X-Amz-Security-Token' header is allowed.");
        if (n == 1) {
            a->has_token = true;
            a->token = h;
            a->token_len = strlen(h);
        }
    }
    return CAMRTC_OK;
}

/* Scope and token checks shared by both forms. */
static int check_identity(const auth_claim *a, const camrtc_sigv4_verify_config *cfg,
                          camrtc_sigv4_verify_result *res)
{
    if (strcmp(a->akid, cfg->creds->access_key_id) != 0)
        return fail(res, CAMRTC_EAUTH, 403, T_UNRECOGNIZED, "%s", MSG_BAD_TOKEN);
    const char *want = cfg->creds->session_token;
    if (want && *want) {
        size_t wl = strlen(want);
        if (!a->has_token || a->token_len != wl || !camrtc_mem_equal_ct(a->token, want, wl))
            return fail(res, CAMRTC_EAUTH, 403, T_UNRECOGNIZED, "%s", MSG_BAD_TOKEN);
    }
    char shown[80];
    if (memcmp(a->scope_date, a->amz_date, 8) != 0 || strlen(a->scope_date) != 8) {
        sanitize(shown, sizeof shown, a->scope_date, strlen(a->scope_date));
        return fail(res, CAMRTC_EAUTH, 403, T_INVALID,
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                    "from HTTP: '%s' != '%.8s', from '%s'.", shown, a->amz_date, a->amz_date);
    }
    if (strcmp(a->region, cfg->region) != 0) {
        sanitize(shown, sizeof shown, a->region, strlen(a->region));
        return fail(res, CAMRTC_EAUTH, 403, T_INVALID,
                    "Credential should be scoped to a valid region, not '%s'.", shown);
    }
    if (strcmp(a->service, cfg->service) != 0)
        return fail(res, CAMRTC_EAUTH, 403, T_INVALID, "Credential should be scoped to correct service: '%s'.",
                    cfg->service);
    if (strcmp(a->term, SIGV4_TERMINATOR) != 0) {
        sanitize(shown, sizeof shown, a->term, strlen(a->term));
        return fail(res, CAMRTC_EAUTH, 403, T_INVALID,
                    "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", shown);
    }
    return CAMRTC_OK;
}

static void describe_window(char *out, size_t outsz, int64_t w)
{
    if (w % 60 == 0)
        snprintf(out, outsz, "%lld min.", (long long)(w / 60));
    else
        snprintf(out, outsz, "%lld s", (long long)w);
}

static int check_time(const auth_claim *a, int64_t t, const camrtc_sigv4_verify_config *cfg, int64_t skew,
                      camrtc_sigv4_verify_result *res)
{
    char now_s[17], edge[17], win[32];
    camrtc_time_amz(cfg->now, now_s);
    describe_window(win, sizeof win, skew);
    if (t > cfg->now + skew) {
        camrtc_time_amz(cfg->now + skew, edge);
        return fail(res, CAMRTC_EEXPIRED, 403, T_INVALID,
                    "Signature not yet current: %s is still later than %s (%s + %s)", a->amz_date, edge,
                    now_s, win);
    }
    if (!a->presigned && t < cfg->now - skew) {
        camrtc_time_amz(cfg->now - skew, edge);
        return fail(res, CAMRTC_EEXPIRED, 403, T_INVALID,
                    "Signature expired: %s is now earlier than %s (%s - %s)", a->amz_date, edge, now_s, win);
    }
    if (a->presigned && cfg->now > t + a->expires) {
        camrtc_time_amz(t + a->expires, edge);
        return fail(res, CAMRTC_EEXPIRED, 403, T_INVALID,
                    "Signature expired: %s is now earlier than %s (Request has expired: X-Amz-Date %s + "
                    "X-Amz-Expires %lld s)", edge, now_s, a->amz_date, (long long)a->expires);
    }
    return CAMRTC_OK;
}

static int build_creq(const camrtc_sigv4_request *req, const sigv4_params *q, const auth_claim *a,
                      camrtc_buf *creq)
{
    const char *names[CAMRTC_SIGV4_MAX_HEADERS];
    char sh[sizeof a->signed_headers];
    memcpy(sh, a->signed_headers, sizeof sh);
    size_t n = 0;
    for (char *p = sh; n < CAMRTC_SIGV4_MAX_HEADERS;) {
        names[n++] = p;
        char *semi = strchr(p, ';');
        if (!semi)
            break;
        *semi = '\0';
        p = semi + 1;
    }
    char payload_hash[CAMRTC_SHA256_HEX_SIZE];
    int rc = camrtc_sha256_hex(req->payload, req->payload_len, payload_hash);
    if (rc == 0)
        rc = camrtc_buf_appendf(creq, "%s\n", req->method);
    if (rc == 0)
        rc = sigv4_canonical_uri(creq, req->path);
    if (rc == 0)
        rc = camrtc_buf_append(creq, "\n", 1);
    if (rc == 0)
        rc = sigv4_params_join(q, a->presigned ? "X-Amz-Signature" : NULL, creq);
    if (rc == 0)
        rc = camrtc_buf_append(creq, "\n", 1);
    if (rc == 0)
        rc = sigv4_canonical_headers(creq, req->headers, req->n_headers, names, n);
    if (rc == 0)
        rc = camrtc_buf_appendf(creq, "\n%s\n%s", a->signed_headers, payload_hash);
    return rc;
}

static int verify_parsed(const camrtc_sigv4_request *req, const camrtc_sigv4_verify_config *cfg,
                         const sigv4_params *q, camrtc_sigv4_verify_result *res)
{
    const char *authz;
    size_t n_authz = count_headers(req, "authorization", &authz);
    bool query_auth = sigv4_params_count(q, "X-Amz-Algorithm", NULL) ||
                      sigv4_params_count(q, "X-Amz-Credential", NULL) ||
                      sigv4_params_count(q, "X-Amz-Signature", NULL);
    if (n_authz == 0 && !query_auth)
        return fail(res, CAMRTC_EAUTH, 403, T_MISSING, "Missing Authentication Token");
    if (n_authz > 0 && query_auth)
        return MALFORMED(res, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                              "Signature query string parameter or the Authorization header should be "
                              "specified");
    if (n_authz > 1)
        return MALFORMED(res, "Only one Authorization header is allowed.");

    auth_claim a;
    memset(&a, 0, sizeof a);
    a.presigned = query_auth;
    int64_t t = 0;
    int64_t skew = cfg->max_skew_s ? cfg->max_skew_s : DEFAULT_SKEW;
    int64_t max_expires = cfg->max_expires_s ? cfg->max_expires_s : CAMRTC_SIGV4_MAX_EXPIRES;
    int rc = a.presigned ? parse_query_auth(req, q, max_expires, &a, &t, res)
                         : parse_header_auth(req, authz, &a, &t, res);
    if (rc == 0)
        rc = check_signed_headers(a.signed_headers, res);
    if (rc == 0)
        rc = check_identity(&a, cfg, res);
    if (rc == 0)
        rc = check_time(&a, t, cfg, skew, res);
    if (rc < 0)
        return rc;

    camrtc_buf creq = {.max_cap = SIGV4_MAX_CREQ};
    char expected[65];
    rc = build_creq(req, q, &a, &creq);
    if (rc == 0)
        rc = sigv4_signature_hex(cfg->creds->secret_access_key, a.amz_date, a.region, a.service,
                                 camrtc_buf_data(&creq), creq.len, expected);
    camrtc_buf_free(&creq);
    if (rc == CAMRTC_ENOTFOUND) /* a signed header is absent: it cannot match */
        return fail(res, CAMRTC_EAUTH, 403, T_INVALID, "%s", MSG_MISMATCH);
    if (rc == CAMRTC_ETOOBIG)
        return MALFORMED(res, "The request is too large to verify.");
    if (rc < 0)
        return fail(res, rc, 500, "InternalFailure", "The request could not be verified.");
    bool same = camrtc_mem_equal_ct(expected, a.signature_well_formed ? a.signature : expected, 64) &&
                a.signature_well_formed;
    if (!same)
        return fail(res, CAMRTC_EAUTH, 403, T_INVALID, "%s", MSG_MISMATCH);
    return CAMRTC_OK;
}

int camrtc_sigv4_verify(const camrtc_sigv4_request *req, const camrtc_sigv4_verify_config *cfg,
                        camrtc_sigv4_verify_result *res)
{
    if (!res)
        return CAMRTC_EINVAL;
    memset(res, 0, sizeof *res);
    if (!req || !cfg || !cfg->creds || !cfg->creds->access_key_id || !cfg->creds->secret_access_key ||
        strlen(cfg->creds->secret_access_key) > SIGV4_MAX_SECRET || !cfg->region || !cfg->service ||
        !req->method || (req->n_headers && !req->headers) || (req->payload_len && !req->payload) ||
        cfg->now > MAX_ABS_NOW || cfg->now < -MAX_ABS_NOW || cfg->max_skew_s < 0 ||
        cfg->max_skew_s > MAX_WINDOW || cfg->max_expires_s < 0 || cfg->max_expires_s > MAX_WINDOW)
        return fail(res, CAMRTC_EINVAL, 500, "InternalFailure", "The request could not be verified.");
    if (req->n_headers > CAMRTC_SIGV4_MAX_HEADERS)
        return MALFORMED(res, "The request has too many headers to verify.");
    sigv4_params q = {0};
    int rc = sigv4_params_parse(&q, req->query);
    if (rc == CAMRTC_ETOOBIG)
        rc = MALFORMED(res, "The request has too many query parameters to verify.");
    else if (rc < 0)
        rc = fail(res, rc, 500, "InternalFailure", "The request could not be verified.");
    else {
        sigv4_params_sort(&q);
        rc = verify_parsed(req, cfg, &q, res);
    }
    sigv4_params_free(&q);
    return rc;
}
