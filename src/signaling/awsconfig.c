/* AWS CLI-compatible resolution of credentials, region and endpoint. */
#include "camrtc/awsconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/str.h"
#include "camrtc/url.h"

#define INI_NAME_MAX 255u

/* ---------- INI parsing ---------- */

typedef struct ini_state {
    char section[INI_NAME_MAX + 1];
    bool have_section;
    char prop[INI_NAME_MAX + 1];
    bool have_prop;
    bool prop_empty;   /* its value was empty: indented lines below are sub-properties */
    size_t prop_indent;
} ini_state;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static char *trim(char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* A comment inside a property line needs whitespace before it, so values such
 * as "a#b" keep their '#'. */
static void cut_comment(char *s)
{
    for (char *p = s + 1; *p; p++) {
        if ((*p == '#' || *p == ';') && is_space(p[-1])) {
            *p = '\0';
            return;
        }
    }
}

static int ini_emit(const ini_state *st, const char *parent, const char *key, const char *value, size_t line,
                    camrtc_aws_ini_fn fn, void *ud)
{
    camrtc_aws_ini_entry e = {st->section, parent, key, value, line};
    return fn ? fn(ud, &e) : 0;
}

static int ini_line(ini_state *st, char *line, size_t lineno, camrtc_aws_ini_fn fn, void *ud)
{
    size_t indent = 0;
    while (line[indent] == ' ' || line[indent] == '\t')
        indent++;
    char *s = trim(line);
    if (!*s || *s == '#' || *s == ';')
        return 0;
    /* Indentation deeper than the property above continues it, as in Python's
       configparser (which the AWS CLI uses); this is checked first, so even a
       "[...]" line there belongs to the property. */
    if (indent > 0 && st->have_prop && indent > st->prop_indent) {
        if (!st->prop_empty)
            return ini_emit(st, st->prop, NULL, s, lineno, fn, ud);
        cut_comment(s);
        char *eq = strchr(s, '=');
        if (!eq)
            return CAMRTC_EPROTO;
        *eq = '\0';
        char *key = trim(s);
        if (!*key)
            return CAMRTC_EPROTO;
        return ini_emit(st, st->prop, key, trim(eq + 1), lineno, fn, ud);
    }
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close)
            return CAMRTC_EPROTO;
        *close = '\0';
        char *name = trim(s + 1);
        if (!*name)
            return CAMRTC_EPROTO;
        if (camrtc_strlcpy(st->section, name, sizeof st->section) != 0)
            return CAMRTC_ETOOBIG;
        st->have_section = true;
        st->have_prop = false;
        return ini_emit(st, NULL, NULL, "", lineno, fn, ud);
    }
    if (!st->have_section)
        return CAMRTC_EPROTO;
    cut_comment(s);
    char *d = strpbrk(s, "=:");
    if (!d)
        return CAMRTC_EPROTO;
    *d = '\0';
    char *key = trim(s), *value = trim(d + 1);
    if (!*key)
        return CAMRTC_EPROTO;
    if (camrtc_strlcpy(st->prop, key, sizeof st->prop) != 0)
        return CAMRTC_ETOOBIG;
    st->have_prop = true;
    st->prop_empty = !*value;
    st->prop_indent = indent;
    return ini_emit(st, NULL, key, value, lineno, fn, ud);
}

int camrtc_aws_ini_parse(const uint8_t *text, size_t len, camrtc_aws_ini_fn fn, void *ud, size_t *bad_line)
{
    if (bad_line)
        *bad_line = 0;
    if (!text && len)
        return CAMRTC_EINVAL;
    if (len > CAMRTC_AWS_INI_MAX_FILE)
        return CAMRTC_ETOOBIG;
    size_t pos = 0, lineno = 0;
    if (len >= 3 && text[0] == 0xef && text[1] == 0xbb && text[2] == 0xbf)
        pos = 3; /* a UTF-8 byte order mark some editors write */
    ini_state st;
    memset(&st, 0, sizeof st);
    char line[CAMRTC_AWS_INI_MAX_LINE + 1];
    while (pos < len) {
        lineno++;
        const uint8_t *start = text + pos;
        const uint8_t *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        int rc = 0;
        if (n > CAMRTC_AWS_INI_MAX_LINE)
            rc = CAMRTC_ETOOBIG;
        else if (memchr(start, '\0', n))
            rc = CAMRTC_EPROTO;
        if (rc == 0) {
            memcpy(line, start, n);
            line[n] = '\0';
            rc = ini_line(&st, line, lineno, fn, ud);
        }
        if (rc != 0) {
            if (bad_line)
                *bad_line = lineno;
            return rc;
        }
        pos += n + (nl ? 1 : 0);
    }
    return CAMRTC_OK;
}

/* ---------- ISO 8601 dates ---------- */

static bool take_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool take_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t days_since_epoch(int y, int m, int d)
{
    static const int before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t py = y - 1;
    /* leap days in years 1..py minus those in 1..1969 */
    int64_t leaps = (py / 4 - py / 100 + py / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
    int64_t days = (int64_t)(y - 1970) * 365 + leaps + before_month[m - 1] + (d - 1);
    if (m > 2 && is_leap(y))
        days++;
    return days;
}

int camrtc_aws_parse_iso8601(const char *s, int64_t *t)
{
    if (!s || !t)
        return CAMRTC_EPROTO;
    const char *p = s;
    int y, mo, d, h, mi, se;
    if (!take_digits(&p, 4, &y) || !take_char(&p, '-') || !take_digits(&p, 2, &mo) || !take_char(&p, '-') ||
        !take_digits(&p, 2, &d) || !take_char(&p, 'T') || !take_digits(&p, 2, &h) || !take_char(&p, ':') ||
        !take_digits(&p, 2, &mi) || !take_char(&p, ':') || !take_digits(&p, 2, &se))
        return CAMRTC_EPROTO;
    if (take_char(&p, '.')) {
        if (*p < '0' || *p > '9')
            return CAMRTC_EPROTO;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int offset = 0;
    if (!take_char(&p, 'Z')) {
        int sign = *p == '+' ? 1 : *p == '-' ? -1 : 0;
        int oh, om;
        if (!sign)
            return CAMRTC_EPROTO;
        p++;
        if (!take_digits(&p, 2, &oh) || !take_char(&p, ':') || !take_digits(&p, 2, &om) || oh > 23 || om > 59)
            return CAMRTC_EPROTO;
        offset = sign * (oh * 3600 + om * 60);
    }
    if (*p)
        return CAMRTC_EPROTO;
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
        return CAMRTC_EPROTO;
    if (d > month_days[mo - 1] + (mo == 2 && is_leap(y)))
        return CAMRTC_EPROTO;
    *t = days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    return CAMRTC_OK;
}

/* ---------- profile lookup ---------- */

/* What one file says about the profile being resolved. */
typedef struct prof_vals {
    bool found;
    char id[128], secret[256], token[4096];
    char region[64], endpoint[1024], services[INI_NAME_MAX + 1], ignore[16];
    const char *method; /* a credential source we do not support, by its key */
} prof_vals;

typedef struct collect {
    const char *want;       /* profile (or services) name */
    const char *prefix;     /* "profile" or "services" for config sections, NULL = exact name */
    bool default_plain;     /* config: [default] also names the "default" profile */
    prof_vals *v;           /* profile mode */
    char *svc_endpoint;     /* services mode: kinesis_video's endpoint_url goes here */
    size_t svc_endpoint_size;
    const char *bad_key;    /* the key whose value did not fit */
} collect;

static const struct {
    const char *key;
    size_t off, size;
} prof_keys[] = {
    {"aws_access_key_id", offsetof(prof_vals, id), sizeof(((prof_vals *)0)->id)},
    {"aws_secret_access_key", offsetof(prof_vals, secret), sizeof(((prof_vals *)0)->secret)},
    {"aws_session_token", offsetof(prof_vals, token), sizeof(((prof_vals *)0)->token)},
    {"region", offsetof(prof_vals, region), sizeof(((prof_vals *)0)->region)},
    {"endpoint_url", offsetof(prof_vals, endpoint), sizeof(((prof_vals *)0)->endpoint)},
    {"services", offsetof(prof_vals, services), sizeof(((prof_vals *)0)->services)},
    {"ignore_configured_endpoint_urls", offsetof(prof_vals, ignore), sizeof(((prof_vals *)0)->ignore)},
};

/* Ways to get credentials that the CLI knows and camrtc does not. */
static const char *const unsupported_keys[] = {
    "credential_process", "role_arn", "sso_session", "sso_start_url", "web_identity_token_file",
    "credential_source",
};

/* "profile NAME" / "services NAME": the keyword, whitespace, then the name,
 * which may be quoted (botocore splits these headers like a shell). */
static bool section_names(const char *section, const char *prefix, const char *want)
{
    size_t plen = strlen(prefix);
    if (strncmp(section, prefix, plen) != 0 || !is_space(section[plen]))
        return false;
    const char *name = section + plen;
    while (is_space(*name))
        name++;
    size_t n = strlen(name);
    if (n >= 2 && (name[0] == '"' || name[0] == '\'') && name[n - 1] == name[0])
        return n - 2 == strlen(want) && memcmp(name + 1, want, n - 2) == 0;
    for (const char *p = name; *p; p++)
        if (is_space(*p))
            return false;
    return strcmp(name, want) == 0;
}

static bool section_matches(const collect *c, const char *section)
{
    if (!c->prefix)
        return strcmp(section, c->want) == 0;
    if (c->default_plain && strcmp(section, "default") == 0)
        return true;
    return section_names(section, c->prefix, c->want);
}

static int collect_cb(void *ud, const camrtc_aws_ini_entry *e)
{
    collect *c = ud;
    if (!section_matches(c, e->section))
        return 0;
    if (c->svc_endpoint) {
        if (e->key && e->parent && camrtc_streq_nocase(e->parent, "kinesis_video") &&
            camrtc_streq_nocase(e->key, "endpoint_url") &&
            camrtc_strlcpy(c->svc_endpoint, e->value, c->svc_endpoint_size) != 0) {
            c->bad_key = "endpoint_url";
            return CAMRTC_ETOOBIG;
        }
        return 0;
    }
    c->v->found = true;
    if (!e->key || e->parent)
        return 0;
    for (size_t i = 0; i < sizeof prof_keys / sizeof prof_keys[0]; i++) {
        if (camrtc_streq_nocase(e->key, prof_keys[i].key)) {
            if (camrtc_strlcpy((char *)c->v + prof_keys[i].off, e->value, prof_keys[i].size) != 0) {
                c->bad_key = prof_keys[i].key;
                return CAMRTC_ETOOBIG;
            }
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof unsupported_keys / sizeof unsupported_keys[0]; i++)
        if (!c->v->method && camrtc_streq_nocase(e->key, unsupported_keys[i]))
            c->v->method = unsupported_keys[i];
    return 0;
}


static int scan_file(const uint8_t *text, size_t len, const char *path, collect *c, char *err, size_t errsz)
{
    if (!text)
        return 0;
    size_t line = 0;
    int rc = camrtc_aws_ini_parse(text, len, collect_cb, c, &line);
    if (rc == 0)
        return 0;
    if (c->bad_key)
        camrtc_errf(err, errsz, "%s line %zu: the value of %s is too long", path, line, c->bad_key);
    else if (line == 0)
        camrtc_errf(err, errsz, "%s is larger than %u bytes", path, CAMRTC_AWS_INI_MAX_FILE);
    else if (rc == CAMRTC_ETOOBIG)
        camrtc_errf(err, errsz, "%s line %zu is too long", path, line);
    else
        camrtc_errf(err, errsz, "cannot parse %s line %zu: expected [section], key = value or a comment", path, line);
    return rc;
}

/* ---------- resolution ---------- */

static const char *env_get(const camrtc_aws_config_input *in, const char *name)
{
    const char *v = in->getenv ? in->getenv(in->getenv_ud, name) : getenv(name);
    return v && *v ? v : NULL;
}

/* Keys and tokens travel in HTTP headers and signatures: visible ASCII only. */
static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static int put_secret(char *dst, size_t dstsz, const char *v, const char *what, const char *where, char *err,
                      size_t errsz)
{
    if (!is_token(v)) {
        camrtc_errf(err, errsz, "%s from %s has characters that are not allowed", what, where);
        return CAMRTC_EINVAL;
    }
    if (camrtc_strlcpy(dst, v, dstsz) != 0) {
        dst[0] = '\0';
        camrtc_errf(err, errsz, "%s from %s is too long (at most %zu bytes)", what, where, dstsz - 1);
        return CAMRTC_ETOOBIG;
    }
    return 0;
}

static bool region_ok(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 63)
        return false;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z') || (*r >= '0' && *r <= '9') || *r == '-'))
            return false;
    return true;
}

static bool endpoint_ok(const char *e)
{
    camrtc_url u;
    return camrtc_url_parse(e, &u) == 0 && (!strcmp(u.scheme, "http") || !strcmp(u.scheme, "https"));
}

/* Credentials from one source: both halves or neither. */
static int take_creds(camrtc_aws_config *out, const char *id, const char *secret, const char *token,
                      const char *where, char *err, size_t errsz)
{
    if (!id || !secret) {
        camrtc_errf(err, errsz, "partial AWS credentials in %s: %s is set but %s is not", where,
                id ? "the access key id" : "the secret access key", id ? "the secret access key" : "the access key id");
        return CAMRTC_EINVAL;
    }
    int rc = put_secret(out->access_key_id, sizeof out->access_key_id, id, "the access key id", where, err, errsz);
    if (rc == 0)
        rc = put_secret(out->secret_access_key, sizeof out->secret_access_key, secret, "the secret access key", where,
                        err, errsz);
    if (rc == 0 && token)
        rc = put_secret(out->session_token, sizeof out->session_token, token, "the session token", where, err, errsz);
    if (rc != 0) {
        memset(out->access_key_id, 0, sizeof out->access_key_id);
        memset(out->secret_access_key, 0, sizeof out->secret_access_key);
        memset(out->session_token, 0, sizeof out->session_token);
    }
    return rc;
}

/* Clear secrets: unlike memset, explicit_bzero is never optimised away. */
static void wipe(void *p, size_t n)
{
    explicit_bzero(p, n);
}

static const char *nz(const char *s)
{
    return s && *s ? s : NULL;
}

typedef struct lookup {
    prof_vals cred, conf;          /* the profile in each file */
    char svc_endpoint[1024];       /* from [services NAME] kinesis_video */
} lookup;

static int resolve_creds(const camrtc_aws_config_input *in, const lookup *lk, const char *profile,
                         const char *cpath, const char *fpath, camrtc_aws_config *out, char *err, size_t errsz)
{
    const char *eid = env_get(in, "AWS_ACCESS_KEY_ID"), *esecret = env_get(in, "AWS_SECRET_ACCESS_KEY");
    int rc;
    char where[600];
    /* The CLI drops the environment's keys when --profile is given. */
    if (!nz(in->profile) && (eid || esecret)) {
        rc = take_creds(out, eid, esecret, env_get(in, "AWS_SESSION_TOKEN"), "the environment (AWS_ACCESS_KEY_ID, "
                        "AWS_SECRET_ACCESS_KEY)", err, errsz);
        if (rc == 0)
            camrtc_strlcpy(out->source, "env", sizeof out->source);
        return rc;
    }
    const prof_vals *v = nz(lk->cred.id) || nz(lk->cred.secret) ? &lk->cred
                       : nz(lk->conf.id) || nz(lk->conf.secret) ? &lk->conf : NULL;
    if (!v)
        return CAMRTC_ENOTFOUND;
    snprintf(where, sizeof where, "profile '%s' in %s", profile, v == &lk->cred ? cpath : fpath);
    rc = take_creds(out, nz(v->id), nz(v->secret), nz(v->token), where, err, errsz);
    if (rc == 0) {
        camrtc_strlcpy(out->source, "profile", sizeof out->source);
        camrtc_strlcpy(out->profile, profile, sizeof out->profile);
    }
    return rc;
}

static int resolve_endpoint(const camrtc_aws_config_input *in, const lookup *lk, camrtc_aws_config *out, char *err,
                            size_t errsz)
{
    const char *e = nz(in->endpoint), *from = "--endpoint";
    const char *ignore = env_get(in, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (!ignore)
        ignore = nz(lk->cred.ignore) ? lk->cred.ignore : nz(lk->conf.ignore);
    if (!e && !(ignore && camrtc_streq_nocase(ignore, "true"))) {
        static const char *const vars[] = {"AWS_ENDPOINT_URL_KINESIS_VIDEO", "AWS_ENDPOINT_URL"};
        for (size_t i = 0; i < 2 && !e; i++)
            if ((e = env_get(in, vars[i])) != NULL)
                from = vars[i];
        if (!e && (e = nz(lk->svc_endpoint)) != NULL)
            from = "the services section of the config file";
        if (!e && (e = nz(lk->cred.endpoint) ? lk->cred.endpoint : nz(lk->conf.endpoint)) != NULL)
            from = "endpoint_url of the profile";
    }
    if (!e)
        return 0;
    if (!endpoint_ok(e) || camrtc_strlcpy(out->endpoint, e, sizeof out->endpoint) != 0) {
        out->endpoint[0] = '\0';
        camrtc_errf(err, errsz, "the endpoint from %s is not an http:// or https:// URL", from);
        return CAMRTC_EINVAL;
    }
    return 0;
}

int camrtc_aws_config_resolve_files(const camrtc_aws_config_input *in, const camrtc_aws_files *files,
                                    camrtc_aws_config *out, char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    if (!out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    if (!in || !files)
        return CAMRTC_EINVAL;
    const char *cpath = files->credentials_path ? files->credentials_path : "the credentials file";
    const char *fpath = files->config_path ? files->config_path : "the config file";
    const char *profile = nz(in->profile), *profile_from = "--profile";
    if (!profile && (profile = env_get(in, "AWS_PROFILE")) != NULL)
        profile_from = "AWS_PROFILE";
    bool named = profile != NULL;
    if (!profile)
        profile = "default";
    if (strlen(profile) >= sizeof out->profile) {
        camrtc_errf(err, errsz, "the profile name from %s is too long", profile_from);
        return CAMRTC_EINVAL;
    }

    lookup *lk = calloc(1, sizeof *lk);
    if (!lk)
        return CAMRTC_ENOMEM;
    collect c = {.want = profile, .v = &lk->cred};
    int rc = scan_file(files->credentials, files->credentials_len, cpath, &c, err, errsz);
    if (rc == 0) {
        c = (collect){.want = profile, .prefix = "profile", .default_plain = !strcmp(profile, "default"),
                      .v = &lk->conf};
        rc = scan_file(files->config, files->config_len, fpath, &c, err, errsz);
    }
    const char *services = nz(lk->cred.services) ? lk->cred.services : nz(lk->conf.services);
    if (rc == 0 && services) {
        c = (collect){.want = services, .prefix = "services", .svc_endpoint = lk->svc_endpoint,
                      .svc_endpoint_size = sizeof lk->svc_endpoint};
        rc = scan_file(files->config, files->config_len, fpath, &c, err, errsz);
    }
    if (rc == 0 && named && !lk->cred.found && !lk->conf.found) {
        camrtc_errf(err, errsz, "AWS profile '%s' (from %s) is in neither %s%s nor %s%s", profile, profile_from, cpath,
                files->credentials ? "" : " (absent)", fpath, files->config ? "" : " (absent)");
        rc = CAMRTC_EINVAL;
    }
    int creds_rc = CAMRTC_OK;
    if (rc == 0) {
        creds_rc = resolve_creds(in, lk, profile, cpath, fpath, out, err, errsz);
        if (creds_rc != 0 && creds_rc != CAMRTC_ENOTFOUND)
            rc = creds_rc;
    }
    const char *region = NULL, *region_from = NULL;
    if (rc == 0) {
        static const char *const vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
        if ((region = nz(in->region)) != NULL)
            region_from = "--region";
        for (size_t i = 0; i < 2 && !region; i++)
            if ((region = env_get(in, vars[i])) != NULL)
                region_from = vars[i];
        if (!region && (region = nz(lk->cred.region) ? lk->cred.region : nz(lk->conf.region)) != NULL)
            region_from = "the profile's region setting";
        if (region && (!region_ok(region) || camrtc_strlcpy(out->region, region, sizeof out->region) != 0)) {
            out->region[0] = '\0';
            camrtc_errf(err, errsz, "the region from %s is not a valid AWS region name", region_from);
            rc = CAMRTC_EINVAL;
        }
    }
    if (rc == 0)
        rc = resolve_endpoint(in, lk, out, err, errsz);
    if (rc == 0 && (creds_rc == CAMRTC_ENOTFOUND || !region)) {
        const char *method = lk->cred.method ? lk->cred.method : lk->conf.method;
        char creds_why[900] = "", region_why[400] = "";
        if (creds_rc == CAMRTC_ENOTFOUND && method)
            snprintf(creds_why, sizeof creds_why,
                     "no AWS credentials: profile '%s' uses %s, which camrtc does not support; set "
                     "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, give the profile aws_access_key_id and "
                     "aws_secret_access_key, or use --iot-*", profile, method);
        else if (creds_rc == CAMRTC_ENOTFOUND)
            snprintf(creds_why, sizeof creds_why,
                     "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/--profile "
                     "with keys in %s%s or %s%s (looked in profile '%s'), or use --iot-*", cpath,
                     files->credentials ? "" : " (absent)", fpath, files->config ? "" : " (absent)", profile);
        if (!region)
            snprintf(region_why, sizeof region_why,
                     "no AWS region: use --region, AWS_REGION or AWS_DEFAULT_REGION, or set region in profile '%s' "
                     "of %s", profile, fpath);
        camrtc_errf(err, errsz, "%s%s%s", creds_why, creds_why[0] && region_why[0] ? "; " : "", region_why);
        rc = CAMRTC_ENOTFOUND;
    }
    /* The lookup held secrets: wipe before freeing. */
    wipe(lk, sizeof *lk);
    free(lk);
    if (rc != 0 && rc != CAMRTC_ENOTFOUND) {
        /* Half-resolved credentials are no use to anyone. */
        memset(out->access_key_id, 0, sizeof out->access_key_id);
        memset(out->secret_access_key, 0, sizeof out->secret_access_key);
        memset(out->session_token, 0, sizeof out->session_token);
        out->source[0] = out->profile[0] = '\0';
    }
    return rc;
}

/* ---------- files ---------- */

/* Read a whole file, at most CAMRTC_AWS_INI_MAX_FILE bytes. A missing file is
 * not an error: *data stays NULL. */
static int read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errsz)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        camrtc_errf(err, errsz, "cannot read %s: %s", path, strerror(errno));
        return CAMRTC_EIO;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    int rc = buf ? 0 : CAMRTC_ENOMEM;
    while (rc == 0) {
        if (n == cap) {
            if (cap > CAMRTC_AWS_INI_MAX_FILE) {
                camrtc_errf(err, errsz, "%s is larger than %u bytes", path, CAMRTC_AWS_INI_MAX_FILE);
                rc = CAMRTC_ETOOBIG;
                break;
            }
            size_t ncap = cap * 2 > CAMRTC_AWS_INI_MAX_FILE + 1 ? CAMRTC_AWS_INI_MAX_FILE + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                rc = CAMRTC_ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                camrtc_errf(err, errsz, "cannot read %s: %s", path, strerror(errno));
                rc = CAMRTC_EIO;
            }
            break;
        }
    }
    fclose(f);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* <env var>, with "~/" expanded, else <home>/.aws/<leaf>; false when there is
 * no path (no variable and no home) or it does not fit. */
static bool file_path(const camrtc_aws_config_input *in, const char *home, const char *var, const char *leaf,
                      char *out, size_t outsz)
{
    const char *v = env_get(in, var);
    int n;
    if (v && v[0] == '~' && v[1] == '/' && home)
        n = snprintf(out, outsz, "%s%s", home, v + 1);
    else if (v)
        n = snprintf(out, outsz, "%s", v);
    else if (home)
        n = snprintf(out, outsz, "%s/.aws/%s", home, leaf);
    else
        return false;
    return n > 0 && (size_t)n < outsz;
}

int camrtc_aws_config_resolve(const camrtc_aws_config_input *in, camrtc_aws_config *out, char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    if (!in || !out) {
        if (out)
            memset(out, 0, sizeof *out);
        return CAMRTC_EINVAL;
    }
    const char *home = nz(in->home) ? in->home : env_get(in, "HOME");
    char cpath[4096], fpath[4096];
    camrtc_aws_files files = {0};
    bool have_c = file_path(in, home, "AWS_SHARED_CREDENTIALS_FILE", "credentials", cpath, sizeof cpath);
    bool have_f = file_path(in, home, "AWS_CONFIG_FILE", "config", fpath, sizeof fpath);
    files.credentials_path = have_c ? cpath : "~/.aws/credentials (no HOME)";
    files.config_path = have_f ? fpath : "~/.aws/config (no HOME)";
    uint8_t *cdata = NULL, *fdata = NULL;
    int rc = 0;
    if (have_c)
        rc = read_file(cpath, &cdata, &files.credentials_len, err, errsz);
    if (rc == 0 && have_f)
        rc = read_file(fpath, &fdata, &files.config_len, err, errsz);
    if (rc == 0) {
        files.credentials = cdata;
        files.config = fdata;
        rc = camrtc_aws_config_resolve_files(in, &files, out, err, errsz);
    } else {
        memset(out, 0, sizeof *out);
    }
    if (cdata)
        wipe(cdata, files.credentials_len);
    free(cdata);
    if (fdata)
        wipe(fdata, files.config_len);
    free(fdata);
    return rc;
}
