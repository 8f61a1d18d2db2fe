/* SigV4 signing: Authorization header and presigned URLs. */
#include "camrtc/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "camrtc/crypto.h"
#include "camrtc/error.h"
#include "camrtc/time.h"
#include "crypto/sigv4_int.h"

/* Headers the AWS SDKs never sign because proxies and HTTP stacks add, drop or
 * rewrite them on the way (the list of @smithy/signature-v4). */
static const char *const unsignable[] = {
    "authorization", "cache-control", "connection", "expect", "from", "keep-alive",
    "max-forwards", "pragma", "referer", "te", "trailer", "transfer-encoding",
    "upgrade", "user-agent", "x-amzn-trace-id",
};

static bool is_unsignable(const char *lname)
{
    if (strncmp(lname, "proxy-", 6) == 0 || strncmp(lname, "sec-", 4) == 0)
        return true;
    for (size_t i = 0; i < sizeof unsignable / sizeof unsignable[0]; i++)
        if (strcmp(lname, unsignable[i]) == 0)
            return true;
    return false;
}

/* A credential-scope element: printable, no '/', no whitespace, not empty. */
static bool scope_part_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 128)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || *s == '/' || *s == ',')
            return false;
    return true;
}

static bool creds_ok(const camrtc_aws_creds *c)
{
    return c && scope_part_ok(c->access_key_id) && c->secret_access_key &&
           strlen(c->secret_access_key) <= SIGV4_MAX_SECRET;
}

static const char *token_of(const camrtc_aws_creds *c)
{
    return c->session_token && *c->session_token ? c->session_token : NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lowercased, sorted, unique names of the signable headers in h. *names points
 * into *store; the caller frees both. */
static int signed_names(const camrtc_kv *h, size_t n, char **store, const char ***names, size_t *n_names)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !h[i].value || !sigv4_is_token(h[i].name, strlen(h[i].name)))
            return CAMRTC_EINVAL;
        total += strlen(h[i].name) + 1;
    }
    char *mem = malloc(total);
    const char **v = malloc((n ? n : 1) * sizeof *v);
    if (!mem || !v) {
        free(mem);
        free(v);
        return CAMRTC_ENOMEM;
    }
    size_t k = 0;
    char *p = mem;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(h[i].name);
        for (size_t j = 0; j < l; j++) {
            char c = h[i].name[j];
            p[j] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        p[l] = '\0';
        if (!is_unsignable(p))
            v[k++] = p;
        p += l + 1;
    }
    qsort(v, k, sizeof *v, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || strcmp(v[u - 1], v[i]) != 0)
            v[u++] = v[i];
    *store = mem;
    *names = v;
    *n_names = u;
    return CAMRTC_OK;
}

int camrtc_sigv4_sign(const camrtc_sigv4_request *req, const camrtc_aws_creds *creds,
                      const char *region, const char *service, int64_t now,
                      camrtc_sigv4_signature *out)
{
    if (!req || !out || !creds_ok(creds) || !scope_part_ok(region) || !scope_part_ok(service) ||
        !req->method || !sigv4_is_token(req->method, strlen(req->method)) ||
        (req->n_headers && !req->headers) || (req->payload_len && !req->payload))
        return CAMRTC_EINVAL;
    if (req->n_headers > CAMRTC_SIGV4_MAX_HEADERS)
        return CAMRTC_ETOOBIG;
    if (!camrtc_kv_get(req->headers, req->n_headers, "host"))
        return CAMRTC_EINVAL;

    char amz[17];
    camrtc_time_amz(now, amz);
    const char *token = token_of(creds);
    const char *have_date = camrtc_kv_get(req->headers, req->n_headers, "x-amz-date");
    const char *have_token = camrtc_kv_get(req->headers, req->n_headers, "x-amz-security-token");
    if (have_date && strcmp(have_date, amz) != 0)
        return CAMRTC_EINVAL;
    if (have_token && token && strcmp(have_token, token) != 0)
        return CAMRTC_EINVAL;

    size_t nh = req->n_headers;
    camrtc_kv *h = malloc((nh + 2) * sizeof *h);
    if (!h)
        return CAMRTC_ENOMEM;
    if (nh)
        memcpy(h, req->headers, nh * sizeof *h);
    if (!have_date)
        h[nh++] = (camrtc_kv){"x-amz-date", amz};
    if (!have_token && token)
        h[nh++] = (camrtc_kv){"x-amz-security-token", token};

    char *store = NULL;
    const char **names = NULL;
    size_t n_names = 0;
    char payload_hash[CAMRTC_SHA256_HEX_SIZE], sig[65];
    camrtc_buf creq = {.max_cap = SIGV4_MAX_CREQ}, signed_hdrs = {.max_cap = SIGV4_MAX_CREQ};
    sigv4_params q = {0};

    int rc = signed_names(h, nh, &store, &names, &n_names);
    if (rc == 0)
        rc = camrtc_sha256_hex(req->payload, req->payload_len, payload_hash);
    if (rc == 0)
        rc = sigv4_params_parse(&q, req->query);
    if (rc == 0) {
        sigv4_params_sort(&q);
        rc = camrtc_buf_appendf(&creq, "%s\n", req->method);
    }
    if (rc == 0)
        rc = sigv4_canonical_uri(&creq, req->path);
    if (rc == 0)
        rc = camrtc_buf_append(&creq, "\n", 1);
    if (rc == 0)
        rc = sigv4_params_join(&q, NULL, &creq);
    if (rc == 0)
        rc = camrtc_buf_append(&creq, "\n", 1);
    if (rc == 0)
        rc = sigv4_canonical_headers(&creq, h, nh, names, n_names);
    for (size_t i = 0; rc == 0 && i < n_names; i++) {
        if (i > 0)
            rc = camrtc_buf_append(&signed_hdrs, ";", 1);
        if (rc == 0)
            rc = camrtc_buf_append_str(&signed_hdrs, names[i]);
    }
    if (rc == 0 && !camrtc_buf_cstr(&signed_hdrs))
        rc = CAMRTC_ENOMEM;
    if (rc == 0)
        rc = camrtc_buf_appendf(&creq, "\n%s\n%s", (char *)camrtc_buf_data(&signed_hdrs), payload_hash);
    if (rc == 0)
        rc = sigv4_signature_hex(creds->secret_access_key, amz, region, service,
                                 camrtc_buf_data(&creq), creq.len, sig);
    if (rc == 0) {
        int n = snprintf(out->authorization, sizeof out->authorization,
                         SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/" SIGV4_TERMINATOR
                                         ", SignedHeaders=%s, Signature=%s",
                         creds->access_key_id, amz, region, service,
                         (char *)camrtc_buf_data(&signed_hdrs), sig);
        if (n < 0 || (size_t)n >= sizeof out->authorization) {
            out->authorization[0] = '\0';
            rc = CAMRTC_ETOOBIG;
        }
    }
    if (rc == 0) {
        memcpy(out->amz_date, amz, sizeof amz);
        memcpy(out->payload_hash, payload_hash, sizeof payload_hash);
    }
    if (rc == CAMRTC_ENOTFOUND)
        rc = CAMRTC_EINTERNAL; /* every name came from h, so each has a header */
    sigv4_params_free(&q);
    camrtc_buf_free(&creq);
    camrtc_buf_free(&signed_hdrs);
    free(store);
    free(names);
    free(h);
    return rc;
}

/* The parts of "scheme://authority[/path][?query]". */
typedef struct url_parts {
    const char *scheme;
    size_t scheme_len;
    const char *auth;
    size_t auth_len;
    const char *path;
    size_t path_len;
    const char *query; /* NULL when there is no '?' */
} url_parts;

static int split_url(const char *url, url_parts *u)
{
    const char *sep = strstr(url, "://");
    if (!sep || sep == url || strchr(url, '#'))
        return CAMRTC_EINVAL;
    for (const char *p = url; p < sep; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '+' || *p == '-' || *p == '.' ||
              (p > url && *p >= '0' && *p <= '9')))
            return CAMRTC_EINVAL;
    u->scheme = url;
    u->scheme_len = (size_t)(sep - url);
    u->auth = sep + 3;
    u->auth_len = strcspn(u->auth, "/?");
    if (u->auth_len == 0)
        return CAMRTC_EINVAL;
    for (size_t i = 0; i < u->auth_len; i++)
        if ((unsigned char)u->auth[i] <= ' ' || (unsigned char)u->auth[i] >= 0x7f || u->auth[i] == '@')
            return CAMRTC_EINVAL;
    u->path = u->auth + u->auth_len;
    u->path_len = strcspn(u->path, "?");
    for (size_t i = 0; i < u->path_len; i++)
        if ((unsigned char)u->path[i] <= ' ' || (unsigned char)u->path[i] >= 0x7f)
            return CAMRTC_EINVAL;
    u->query = u->path[u->path_len] == '?' ? u->path + u->path_len + 1 : NULL;
    /* A default port is not part of the host the client will send. */
    bool secure = (u->scheme_len == 3 && strncasecmp(url, "wss", 3) == 0) ||
                  (u->scheme_len == 5 && strncasecmp(url, "https", 5) == 0);
    bool plain = (u->scheme_len == 2 && strncasecmp(url, "ws", 2) == 0) ||
                 (u->scheme_len == 4 && strncasecmp(url, "http", 4) == 0);
    if (secure && u->auth_len > 4 && memcmp(u->auth + u->auth_len - 4, ":443", 4) == 0)
        u->auth_len -= 4;
    else if (plain && u->auth_len > 3 && memcmp(u->auth + u->auth_len - 3, ":80", 3) == 0)
        u->auth_len -= 3;
    return CAMRTC_OK;
}

static const char *const auth_params[] = {
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-Security-Token", "X-Amz-SignedHeaders", "X-Amz-Signature",
};

int camrtc_sigv4_presign_url(const char *url, const camrtc_aws_creds *creds, const char *region,
                             const char *service, int64_t now, int expires_s, camrtc_buf *out_url)
{
    if (!url || !out_url || !creds_ok(creds) || !scope_part_ok(region) || !scope_part_ok(service) ||
        expires_s < 1 || expires_s > CAMRTC_SIGV4_MAX_EXPIRES)
        return CAMRTC_EINVAL;
    url_parts u;
    int rc = split_url(url, &u);
    if (rc < 0)
        return rc;

    char amz[17], expires[16], credential[512], sig[65], empty_hash[CAMRTC_SHA256_HEX_SIZE];
    camrtc_time_amz(now, amz);
    snprintf(expires, sizeof expires, "%d", expires_s);
    snprintf(credential, sizeof credential, "%s/%.8s/%s/%s/" SIGV4_TERMINATOR, creds->access_key_id, amz,
             region, service);
    const char *token = token_of(creds);

    sigv4_params q = {0};
    camrtc_buf path = {.max_cap = SIGV4_MAX_CREQ}, creq = {.max_cap = SIGV4_MAX_CREQ};
    camrtc_buf res = {.max_cap = SIGV4_MAX_CREQ};
    rc = sigv4_params_parse(&q, u.query);
    for (size_t i = 0; rc == 0 && i < sizeof auth_params / sizeof auth_params[0]; i++)
        if (sigv4_params_count(&q, auth_params[i], NULL))
            rc = CAMRTC_EINVAL;
    if (rc == 0)
        rc = sigv4_params_add(&q, "X-Amz-Algorithm", SIGV4_ALGORITHM);
    if (rc == 0)
        rc = sigv4_params_add(&q, "X-Amz-Credential", credential);
    if (rc == 0)
        rc = sigv4_params_add(&q, "X-Amz-Date", amz);
    if (rc == 0)
        rc = sigv4_params_add(&q, "X-Amz-Expires", expires);
    if (rc == 0 && token)
        rc = sigv4_params_add(&q, "X-Amz-Security-Token", token);
    if (rc == 0)
        rc = sigv4_params_add(&q, "X-Amz-SignedHeaders", "host");
    if (rc == 0)
        rc = camrtc_sha256_hex(NULL, 0, empty_hash);
    /* The wire path, "/" when the URL has none. */
    if (rc == 0)
        rc = u.path_len ? camrtc_buf_append(&path, u.path, u.path_len) : camrtc_buf_append(&path, "/", 1);
    if (rc == 0 && !camrtc_buf_cstr(&path))
        rc = CAMRTC_ENOMEM;
    if (rc == 0) {
        sigv4_params_sort(&q);
        rc = camrtc_buf_append_str(&creq, "GET\n");
    }
    if (rc == 0)
        rc = sigv4_canonical_uri(&creq, (char *)camrtc_buf_data(&path));
    if (rc == 0)
        rc = camrtc_buf_append(&creq, "\n", 1);
    if (rc == 0)
        rc = sigv4_params_join(&q, NULL, &creq);
    if (rc == 0)
        rc = camrtc_buf_append_str(&creq, "\nhost:");
    if (rc == 0)
        rc = camrtc_buf_append(&creq, u.auth, u.auth_len);
    if (rc == 0)
        rc = camrtc_buf_appendf(&creq, "\n\nhost\n%s", empty_hash);
    if (rc == 0)
        rc = sigv4_signature_hex(creds->secret_access_key, amz, region, service, camrtc_buf_data(&creq),
                                 creq.len, sig);
    if (rc == 0)
        rc = sigv4_params_add(&q, "X-Amz-Signature", sig);
    if (rc == 0) {
        sigv4_params_sort(&q);
        rc = camrtc_buf_append(&res, u.scheme, u.scheme_len + 3);
    }
    if (rc == 0)
        rc = camrtc_buf_append(&res, u.auth, u.auth_len);
    if (rc == 0)
        rc = camrtc_buf_append(&res, camrtc_buf_data(&path), path.len);
    if (rc == 0)
        rc = camrtc_buf_append(&res, "?", 1);
    if (rc == 0)
        rc = sigv4_params_join(&q, NULL, &res);
    if (rc == 0)
        rc = camrtc_buf_append(out_url, camrtc_buf_data(&res), res.len);
    sigv4_params_free(&q);
    camrtc_buf_free(&path);
    camrtc_buf_free(&creq);
    camrtc_buf_free(&res);
    return rc;
}
