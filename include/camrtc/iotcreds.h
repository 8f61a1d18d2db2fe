/* The AWS IoT Core credentials provider: temporary AWS credentials for a
 * camera that holds an X.509 device certificate instead of access keys.
 *
 * Facts from the AWS IoT developer guide, "Authorizing direct calls to AWS
 * services using AWS IoT Core credential provider": the device sends, over
 * mutual TLS with its certificate,
 *     GET https://<credentials endpoint>/role-aliases/<role alias>/credentials
 *     x-amzn-iot-thingname: <thing name>
 * and gets back
 *     {"credentials":{"accessKeyId":"...","secretAccessKey":"...",
 *                     "sessionToken":"...","expiration":"2026-11-23T20:07:31Z"}}
 * where the expiration is ISO 8601 UTC. Errors come back as a non-200 status
 * with {"message":"..."}.
 *
 * camrtc_iot_creds_parse is a pure, bounded parser of that body; fetch runs the
 * request on a libuv loop with the one-shot HTTP client (camrtc/httpclient.h);
 * refresh_at says when to fetch again. Secrets are never put into messages.
 */
#ifndef CAMRTC_IOTCREDS_H
#define CAMRTC_IOTCREDS_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "camrtc/awsconfig.h"
#include "camrtc/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest response body parsed; real ones are about 1.5 KB. */
#define CAMRTC_IOT_CREDS_MAX_BODY 16384u
/* How long before expiration credentials are refreshed (at most half their lifetime). */
#define CAMRTC_IOT_CREDS_REFRESH_MARGIN_S 300

/* Where and who: every string is borrowed for the duration of the call that
 * takes the struct. */
typedef struct camrtc_iot_config {
    const char *endpoint;     /* credentials provider host, optionally ":port" and an "https://"
                                 prefix: "c1abc2def3.credentials.iot.us-west-2.amazonaws.com" */
    const char *role_alias;   /* 1-128 of [A-Za-z0-9_=,@-] */
    const char *thing_name;   /* 1-128 of [A-Za-z0-9:_-] */
    const char *cert_file, *key_file, *ca_file; /* device certificate, its key, and the CAs
                                 trusted for the endpoint (NULL = system bundle): not read
                                 here, they are for camrtc_tls_config_new_client_cert */
    uint64_t timeout_ms;      /* bound on the whole request; 0 = 10 s */
} camrtc_iot_config;

/* Parse a 200 response body (len bytes, need not be NUL-terminated) into out
 * (caller-owned, cleared first): access key id, secret, session token,
 * expiration, and source "iot"; region, endpoint and obtained are left empty.
 * Returns CAMRTC_OK, CAMRTC_ETOOBIG (body over CAMRTC_IOT_CREDS_MAX_BODY or a
 * field over its slot in camrtc_aws_config), CAMRTC_EPROTO (not JSON, a field
 * missing or not a string, characters outside visible ASCII, a bad date). On
 * error out holds no secret. Expired credentials parse fine: the caller
 * compares the expiration with its clock. */
int camrtc_iot_creds_parse(const uint8_t *body, size_t len, camrtc_aws_config *out);

/* Write the request URL for cfg into out (outsz bytes):
 * "https://<endpoint>/role-aliases/<alias>/credentials". Returns CAMRTC_OK,
 * CAMRTC_EINVAL (a field missing or with characters not allowed) or
 * CAMRTC_ETOOBIG. */
int camrtc_iot_creds_url(const camrtc_iot_config *cfg, char *out, size_t outsz);

/* Result of a fetch, called exactly once from the loop. On success err is
 * CAMRTC_OK and creds (valid only during the call) holds the credentials with
 * obtained set to the response's Date (the local clock when absent); why is
 * NULL. Otherwise creds is NULL, err is CAMRTC_ETIMEDOUT, CAMRTC_ECONNREFUSED,
 * CAMRTC_ETLS, CAMRTC_ECERT, CAMRTC_EDNS (cannot reach or authenticate),
 * CAMRTC_EAUTH (401/403: certificate or role alias not authorized),
 * CAMRTC_ENOTFOUND (404), CAMRTC_ELIMIT (429), CAMRTC_EEXPIRED (credentials
 * already expired when issued), CAMRTC_EPROTO (any other answer) and why a
 * one-line English reason (valid during the call). */
typedef void (*camrtc_iot_creds_cb)(void *ud, int err, const camrtc_aws_config *creds, const char *why);

/* Ask the credentials provider in cfg for credentials, over tls: a client
 * config with the device certificate from camrtc_tls_config_new_client_cert
 * (borrowed; must outlive the request). cfg is copied. Returns CAMRTC_OK (cb
 * will be called once, never from inside this call) or CAMRTC_EINVAL /
 * CAMRTC_ETOOBIG (bad cfg) / CAMRTC_ENOMEM (cb will not be called). There is
 * no cancel: the loop must run until cb has been called. */
int camrtc_iot_creds_fetch(uv_loop_t *loop, const camrtc_iot_config *cfg, const camrtc_tls_config *tls,
                           camrtc_iot_creds_cb cb, void *ud);

/* Unix second at which to fetch new credentials: the expiration minus
 * CAMRTC_IOT_CREDS_REFRESH_MARGIN_S, or minus half the lifetime (expiration -
 * obtained) when that is shorter. INT64_MAX when c has no expiration. */
int64_t camrtc_iot_creds_refresh_at(const camrtc_aws_config *c);

#ifdef __cplusplus
}
#endif
#endif
