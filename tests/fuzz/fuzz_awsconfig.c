/* Fuzzes the AWS credentials inputs: the INI parser, the whole profile
 * resolution (the input split at a "\n====\n" line into the credentials and
 * config files, under a few injected environments), the IoT credentials
 * response parser and the ISO 8601 date parser. Whatever is accepted must be
 * bounded, NUL-terminated and well-formed; whatever is refused must leave no
 * secret behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/awsconfig.h"
#include "camrtc/error.h"
#include "camrtc/iotcreds.h"

static void check_str(const char *s, size_t cap)
{
    if (strnlen(s, cap) >= cap)
        abort();
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

static int visible(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

typedef struct ini_check {
    size_t last_line;
    size_t entries;
} ini_check;

static int ini_entry(void *ud, const camrtc_aws_ini_entry *e)
{
    ini_check *c = ud;
    if (!e->section || !e->value || !e->section[0] || strlen(e->section) > 255 || e->line < c->last_line ||
        e->line == 0 || strlen(e->value) > CAMRTC_AWS_INI_MAX_LINE)
        abort();
    if (e->key && !e->key[0])
        abort();
    if (e->parent && !e->parent[0])
        abort();
    if (!e->key && e->parent == NULL && e->value[0])
        abort(); /* a header has an empty value */
    c->last_line = e->line;
    c->entries++;
    return 0;
}

static const char *env_lookup(void *ud, const char *name)
{
    const char *const *kv = ud;
    for (size_t i = 0; kv[i]; i += 2)
        if (strcmp(kv[i], name) == 0)
            return kv[i + 1];
    return NULL;
}

static void check_resolved(int rc, const camrtc_aws_config *out, const char *err, size_t errsz)
{
    check_str(err, errsz);
    check_str(out->access_key_id, sizeof out->access_key_id);
    check_str(out->secret_access_key, sizeof out->secret_access_key);
    check_str(out->session_token, sizeof out->session_token);
    check_str(out->region, sizeof out->region);
    check_str(out->endpoint, sizeof out->endpoint);
    check_str(out->profile, sizeof out->profile);
    check_str(out->source, sizeof out->source);
    if (rc == CAMRTC_OK) {
        if (!visible(out->access_key_id) || !visible(out->secret_access_key) || !out->region[0] || err[0])
            abort();
        if (out->session_token[0] && !visible(out->session_token))
            abort();
    } else if (rc == CAMRTC_ENOTFOUND) {
        if (!err[0])
            abort();
    } else {
        if (rc != CAMRTC_EINVAL && rc != CAMRTC_EPROTO && rc != CAMRTC_ETOOBIG && rc != CAMRTC_ENOMEM)
            abort();
        if (out->secret_access_key[0] || out->access_key_id[0] || out->session_token[0])
            abort();
        /* A secret that was found must not be quoted back. */
    }
    if (out->secret_access_key[0] && strlen(out->secret_access_key) >= 6 && strstr(err, out->secret_access_key))
        abort();
}

static void fuzz_resolve(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n====\n";
    const uint8_t *cut = NULL;
    for (size_t i = 0; i + sizeof sep - 1 <= size; i++) {
        if (memcmp(data + i, sep, sizeof sep - 1) == 0) {
            cut = data + i;
            break;
        }
    }
    camrtc_aws_files files = {"creds", data, cut ? (size_t)(cut - data) : size, "config", NULL, 0};
    if (cut) {
        files.config = cut + sizeof sep - 1;
        files.config_len = size - (size_t)(files.config - data);
    } else {
        files.config = data; /* the same bytes as both files */
        files.config_len = size;
    }
    static const char *const env_none[] = {NULL};
    static const char *const env_dev[] = {"AWS_PROFILE", "dev", "AWS_REGION", "us-west-2", NULL};
    static const char *const env_keys[] = {"AWS_ACCESS_KEY_ID", "AKIDFUZZ", "AWS_SECRET_ACCESS_KEY", "SECRETFUZZ",
                                           "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", NULL};
    const char *const *envs[] = {env_none, env_dev, env_keys};
    const char *profiles[] = {NULL, "default", "svc"};
    for (size_t i = 0; i < 3; i++) {
        camrtc_aws_config_input in;
        memset(&in, 0, sizeof in);
        in.getenv = env_lookup;
        in.getenv_ud = (void *)envs[i];
        in.profile = profiles[i];
        camrtc_aws_config out;
        char err[512];
        int rc = camrtc_aws_config_resolve_files(&in, &files, &out, err, sizeof err);
        check_resolved(rc, &out, err, sizeof err);
    }
}

static void fuzz_iot(const uint8_t *data, size_t size)
{
    camrtc_aws_config out;
    int rc = camrtc_iot_creds_parse(data, size, &out);
    if (rc == CAMRTC_OK) {
        check_str(out.session_token, sizeof out.session_token);
        if (!visible(out.access_key_id) || !visible(out.secret_access_key) || !visible(out.session_token) ||
            out.expiration <= 0 || strcmp(out.source, "iot") != 0)
            abort();
        camrtc_aws_config copy = out;
        copy.obtained = out.expiration - 1000;
        int64_t at = camrtc_iot_creds_refresh_at(&copy);
        if (at > copy.expiration || at < copy.obtained)
            abort();
    } else {
        if (rc != CAMRTC_EPROTO && rc != CAMRTC_ETOOBIG && rc != CAMRTC_ENOMEM)
            abort();
        if (!all_zero(&out, sizeof out))
            abort();
    }
}

static void fuzz_date(const uint8_t *data, size_t size)
{
    char s[64];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    int64_t t = -1;
    if (camrtc_aws_parse_iso8601(s, &t) == CAMRTC_OK && (t < -86400 || t > 253402387199LL))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ini_check c = {0, 0};
    size_t bad = 0;
    int rc = camrtc_aws_ini_parse(data, size, ini_entry, &c, &bad);
    if (rc != CAMRTC_OK && rc != CAMRTC_EPROTO && rc != CAMRTC_ETOOBIG)
        abort();
    if (rc == CAMRTC_OK && bad != 0)
        abort();
    fuzz_resolve(data, size);
    fuzz_iot(data, size);
    fuzz_date(data, size);
    return 0;
}
