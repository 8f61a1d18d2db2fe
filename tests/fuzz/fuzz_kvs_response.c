/* Fuzzes the KVS control-plane response parsers and the error classifier with the same
 * bytes. Every parser must either accept with bounded, NUL-terminated fields or refuse
 * with a zeroed output; the classifier must always give a valid class. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/kvs.h"

static void check_str(const char *s, size_t cap)
{
    if (strnlen(s, cap) >= cap)
        abort();
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static void check_rc(int rc)
{
    if (rc != CAMRTC_OK && rc != CAMRTC_EPROTO && rc != CAMRTC_ETOOBIG && rc != CAMRTC_ENOMEM)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    camrtc_kvs_channel ch;
    int rc = camrtc_kvs_parse_describe(data, size, &ch);
    check_rc(rc);
    if (rc == CAMRTC_OK) {
        check_str(ch.arn, sizeof ch.arn);
        check_str(ch.name, sizeof ch.name);
        check_str(ch.status, sizeof ch.status);
        if (!ch.arn[0] || !ch.status[0] || ch.msg_ttl_s < 0)
            abort();
    } else if (!all_zero(&ch, sizeof ch))
        abort();

    char arn[CAMRTC_KVS_MAX_ARN];
    rc = camrtc_kvs_parse_create(data, size, arn, sizeof arn);
    check_rc(rc);
    check_str(arn, sizeof arn);
    if ((rc == CAMRTC_OK) != (arn[0] != '\0'))
        abort();

    camrtc_kvs_endpoints ep;
    rc = camrtc_kvs_parse_endpoints(data, size, &ep);
    check_rc(rc);
    if (rc == CAMRTC_OK) {
        check_str(ep.wss, sizeof ep.wss);
        check_str(ep.https, sizeof ep.https);
        if (strncmp(ep.wss, "ws", 2) || strncmp(ep.https, "http", 4))
            abort();
    } else if (!all_zero(&ep, sizeof ep))
        abort();

    camrtc_kvs_ice_config ice;
    rc = camrtc_kvs_parse_ice_config(data, size, &ice);
    check_rc(rc);
    if (rc == CAMRTC_OK) {
        if (ice.n_servers > CAMRTC_KVS_MAX_ICE_SERVERS)
            abort();
        for (size_t i = 0; i < ice.n_servers; i++) {
            const camrtc_kvs_ice_server *s = &ice.servers[i];
            if (s->n_uris < 1 || s->n_uris > CAMRTC_KVS_MAX_ICE_URIS || s->ttl_s < 0)
                abort();
            for (size_t j = 0; j < s->n_uris; j++)
                check_str(s->uris[j], sizeof s->uris[j]);
            check_str(s->username, sizeof s->username);
            check_str(s->password, sizeof s->password);
        }
    } else if (!all_zero(&ice, sizeof ice))
        abort();

    /* The same bytes as an error body, under a status picked by the size, with (for odd
     * sizes) their first bytes as the x-amzn-ErrorType header too. */
    static const int statuses[] = {400, 401, 403, 404, 409, 429, 500, 503, 200, 0};
    int status = statuses[size % (sizeof statuses / sizeof statuses[0])];
    char type[101];
    size_t tn = size < sizeof type - 1 ? size : sizeof type - 1;
    memcpy(type, data, tn);
    type[tn] = '\0';
    camrtc_kv h[2] = {{"Date", type}, {"x-amzn-ErrorType", type}};
    camrtc_kvs_error e;
    camrtc_kvs_parse_error(status, h, size & 1 ? 2 : 1, data, size, &e);
    check_str(e.type, sizeof e.type);
    check_str(e.message, sizeof e.message);
    for (const char *p = e.message; *p; p++)
        if ((unsigned char)*p < 0x20)
            abort();
    if (e.status != status || e.cls > CAMRTC_KVS_ERR_RETRY || (e.cls == CAMRTC_KVS_ERR_NONE) != (status == 200))
        abort();

    int64_t skew;
    rc = camrtc_kvs_clock_skew(h, 1, 1700000000, &skew);
    if (rc != CAMRTC_OK && rc != CAMRTC_EPROTO)
        abort();
    return 0;
}
