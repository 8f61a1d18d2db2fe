/* Fuzz camrtc_sigv4_verify with whole requests.
 *
 * Input, newline-separated (a trailing '\r' on a line is dropped):
 *   line 1  "<now> <token 0|1> [region] [service]"   verifier configuration
 *   line 2  method
 *   line 3  path as on the wire
 *   line 4  query without '?' (may be empty)
 *   then    "Name: value" header lines up to an empty line
 *   rest    body
 * The credentials are the AWS example pair, with session token FQoGZXIvYXdzEXAMPLETOKEN
 * required when the token flag is 1.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/sigv4.h"

#define MAX_FUZZ_HEADERS 200

/* Next line of [*p, end): NUL-terminated in place; NULL at the end. */
static char *next_line(char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
    char *e = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if (e > s && e[-1] == '\r')
        e--;
    *e = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *p = buf, *end = buf + size;

    char *conf = next_line(&p, end);
    char *method = next_line(&p, end);
    char *path = next_line(&p, end);
    char *query = next_line(&p, end);
    camrtc_kv h[MAX_FUZZ_HEADERS];
    size_t n = 0;
    char *line;
    while ((line = next_line(&p, end)) != NULL && *line) {
        if (n == MAX_FUZZ_HEADERS)
            continue;
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            h[n++] = (camrtc_kv){line, colon[1] == ' ' ? colon + 2 : colon + 1};
        } else {
            h[n++] = (camrtc_kv){line, ""};
        }
    }

    long long now = 1795460195; /* 20261123T185635Z */
    int token = 0;
    char region[32] = "us-west-2", service[32] = "kinesisvideo";
    if (conf)
        sscanf(conf, "%lld %d %31s %31s", &now, &token, region, service);
    static const camrtc_aws_creds with_token = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                "FQoGZXIvYXdzEXAMPLETOKEN"};
    static const camrtc_aws_creds without = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    camrtc_sigv4_verify_config cfg = {token ? &with_token : &without, region, service, now, 300, 604800};
    camrtc_sigv4_request req = {method ? method : "GET", path, query, h, n, (const uint8_t *)p,
                                (size_t)(end - p)};
    camrtc_sigv4_verify_result res;
    int rc = camrtc_sigv4_verify(&req, &cfg, &res);
    /* The result must always be consistent with the return code, and the message
     * may only hold the secret when the request itself did (echoed input). */
    const char *secret = with_token.secret_access_key;
    if ((rc == CAMRTC_OK) != (res.http_status == 0) || strlen(res.message) >= sizeof res.message ||
        (rc != CAMRTC_OK && !res.error_type) ||
        (strstr(res.message, secret) && !memmem(data, size, secret, strlen(secret))))
        abort();
    free(buf);
    return 0;
}
