/* The AWS IoT credentials provider client: response parser and fetch. */
#include "camrtc/iotcreds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "camrtc/error.h"
#include "camrtc/httpclient.h"
#include "camrtc/str.h"
#include "camrtc/time.h"

#define IOT_NAME_MAX 128

/* Clear secrets: unlike memset, explicit_bzero is never optimised away. */
static void wipe(void *p, size_t n)
{
    explicit_bzero(p, n);
}

static bool visible_ascii(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static int take_field(const cJSON *creds, const char *name, char *dst, size_t dstsz)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(creds, name);
    if (!cJSON_IsString(f) || !f->valuestring)
        return CAMRTC_EPROTO;
    if (!visible_ascii(f->valuestring))
        return CAMRTC_EPROTO;
    return camrtc_strlcpy(dst, f->valuestring, dstsz) == 0 ? CAMRTC_OK : CAMRTC_ETOOBIG;
}

int camrtc_iot_creds_parse(const uint8_t *body, size_t len, camrtc_aws_config *out)
{
    if (!out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    if (!body && len)
        return CAMRTC_EINVAL;
    if (len > CAMRTC_IOT_CREDS_MAX_BODY)
        return CAMRTC_ETOOBIG;
    /* cJSON ends a string at an escaped NUL, which would silently cut a
       secret short; no field we read may hold one (a false hit on an escaped
       backslash before "u0000" only refuses a body no provider sends). */
    if (len == 0 || memmem(body, len, "\\u0000", 6))
        return CAMRTC_EPROTO;
    cJSON *root = cJSON_ParseWithLength((const char *)body, len);
    if (!root)
        return CAMRTC_EPROTO;
    const cJSON *creds = cJSON_GetObjectItemCaseSensitive(root, "credentials");
    int rc = cJSON_IsObject(creds) ? CAMRTC_OK : CAMRTC_EPROTO;
    if (rc == 0)
        rc = take_field(creds, "accessKeyId", out->access_key_id, sizeof out->access_key_id);
    if (rc == 0)
        rc = take_field(creds, "secretAccessKey", out->secret_access_key, sizeof out->secret_access_key);
    if (rc == 0)
        rc = take_field(creds, "sessionToken", out->session_token, sizeof out->session_token);
    if (rc == 0) {
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(creds, "expiration");
        if (!cJSON_IsString(exp) || !exp->valuestring ||
            camrtc_aws_parse_iso8601(exp->valuestring, &out->expiration) != 0 || out->expiration <= 0)
            rc = CAMRTC_EPROTO;
    }
    /* cJSON's copies of the secrets go back to the heap: clear them first. */
    for (cJSON *f = cJSON_IsObject(creds) ? creds->child : NULL; f; f = f->next)
        if (cJSON_IsString(f) && f->valuestring)
            wipe(f->valuestring, strlen(f->valuestring));
    cJSON_Delete(root);
    if (rc != 0) {
        wipe(out, sizeof *out);
        return rc;
    }
    camrtc_strlcpy(out->source, "iot", sizeof out->source);
    return CAMRTC_OK;
}

static bool name_ok(const char *s, const char *extra)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > IOT_NAME_MAX)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (c && strchr(extra, c))))
            return false;
    }
    return true;
}

/* host[:port], a bracketed IPv6 literal allowed: nothing that could end the
 * authority or smuggle a path, query or user. */
static bool endpoint_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 260)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':' || c == '[' || c == ']'))
            return false;
    }
    return true;
}

int camrtc_iot_creds_url(const camrtc_iot_config *cfg, char *out, size_t outsz)
{
    if (!cfg || !out || outsz == 0 || !cfg->endpoint)
        return CAMRTC_EINVAL;
    out[0] = '\0';
    const char *host = cfg->endpoint;
    if (strncmp(host, "https://", 8) == 0)
        host += 8;
    char h[272];
    if (camrtc_strlcpy(h, host, sizeof h) != 0)
        return CAMRTC_EINVAL;
    size_t n = strlen(h);
    if (n > 0 && h[n - 1] == '/')
        h[n - 1] = '\0';
    if (!endpoint_ok(h) || !name_ok(cfg->role_alias, "=,@") || !name_ok(cfg->thing_name, ":"))
        return CAMRTC_EINVAL;
    int w = snprintf(out, outsz, "https://%s/role-aliases/%s/credentials", h, cfg->role_alias);
    if (w < 0 || (size_t)w >= outsz) {
        out[0] = '\0';
        return CAMRTC_ETOOBIG;
    }
    return CAMRTC_OK;
}

int64_t camrtc_iot_creds_refresh_at(const camrtc_aws_config *c)
{
    if (!c || c->expiration <= 0)
        return INT64_MAX;
    int64_t margin = CAMRTC_IOT_CREDS_REFRESH_MARGIN_S;
    if (c->obtained > 0) {
        int64_t half = c->expiration > c->obtained ? (c->expiration - c->obtained) / 2 : 0;
        if (half < margin)
            margin = half;
    }
    return c->expiration - margin;
}

/* ---------- fetch ---------- */

typedef struct fetch {
    camrtc_iot_creds_cb cb;
    void *ud;
    char host[272];
} fetch;

/* The provider's {"message": "..."} on an error, cut to visible text. */
static void error_message(const camrtc_http_msg *m, char *out, size_t outsz)
{
    out[0] = '\0';
    if (!m->body || m->body_len == 0 || m->body_len > CAMRTC_IOT_CREDS_MAX_BODY)
        return;
    cJSON *root = cJSON_ParseWithLength((const char *)m->body, m->body_len);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (cJSON_IsString(msg) && msg->valuestring) {
        size_t j = 0;
        for (const char *p = msg->valuestring; *p && j + 1 < outsz; p++)
            out[j++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
        out[j] = '\0';
    }
    cJSON_Delete(root);
}

static int status_err(int status)
{
    switch (status) {
    case 401:
    case 403: return CAMRTC_EAUTH;
    case 404: return CAMRTC_ENOTFOUND;
    case 429: return CAMRTC_ELIMIT;
    default: return CAMRTC_EPROTO;
    }
}

static void on_response(void *ud, int err, const camrtc_http_msg *resp)
{
    fetch *f = ud;
    char why[400];
    if (err < 0 || !resp) {
        snprintf(why, sizeof why, "IoT credentials provider %s: %s", f->host,
                 camrtc_strerror(err < 0 ? err : CAMRTC_EINTERNAL));
        f->cb(f->ud, err < 0 ? err : CAMRTC_EINTERNAL, NULL, why);
        free(f);
        return;
    }
    if (resp->status != 200) {
        char msg[200];
        error_message(resp, msg, sizeof msg);
        snprintf(why, sizeof why, "IoT credentials provider %s answered %d%s%s", f->host, resp->status,
                 msg[0] ? ": " : "", msg);
        f->cb(f->ud, status_err(resp->status), NULL, why);
        free(f);
        return;
    }
    camrtc_aws_config *creds = malloc(sizeof *creds);
    int rc = creds ? camrtc_iot_creds_parse(resp->body, resp->body_len, creds) : CAMRTC_ENOMEM;
    if (rc == 0) {
        const char *date = camrtc_http_header(resp, "date");
        if (!date || camrtc_time_parse_http(date, &creds->obtained) != 0)
            creds->obtained = camrtc_wall_ms() / 1000;
        if (creds->expiration <= creds->obtained) {
            char exp[17], now[17];
            camrtc_time_amz(creds->expiration, exp);
            camrtc_time_amz(creds->obtained, now);
            snprintf(why, sizeof why, "IoT credentials provider %s sent credentials that expired at %s (it is %s)",
                     f->host, exp, now);
            rc = CAMRTC_EEXPIRED;
        }
    } else {
        snprintf(why, sizeof why, "IoT credentials provider %s sent an unusable response: %s", f->host,
                 camrtc_strerror(rc));
    }
    f->cb(f->ud, rc, rc == 0 ? creds : NULL, rc == 0 ? NULL : why);
    if (creds)
        wipe(creds, sizeof *creds);
    free(creds);
    free(f);
}

int camrtc_iot_creds_fetch(uv_loop_t *loop, const camrtc_iot_config *cfg, const camrtc_tls_config *tls,
                           camrtc_iot_creds_cb cb, void *ud)
{
    if (!loop || !cfg || !tls || !cb)
        return CAMRTC_EINVAL;
    char url[512];
    int rc = camrtc_iot_creds_url(cfg, url, sizeof url);
    if (rc < 0)
        return rc;
    fetch *f = calloc(1, sizeof *f);
    if (!f)
        return CAMRTC_ENOMEM;
    f->cb = cb;
    f->ud = ud;
    /* For messages: the authority part of the URL built above. */
    const char *host = url + 8;
    size_t hl = (size_t)(strchr(host, '/') - host);
    memcpy(f->host, host, hl < sizeof f->host ? hl : sizeof f->host - 1);
    camrtc_kv headers[] = {
        {"x-amzn-iot-thingname", cfg->thing_name},
        {"Accept", "application/json"},
    };
    rc = camrtc_httpclient_request(loop, url, "GET", headers, sizeof headers / sizeof headers[0], NULL, 0, tls,
                                   cfg->timeout_ms, on_response, f);
    if (rc < 0)
        free(f);
    return rc;
}
