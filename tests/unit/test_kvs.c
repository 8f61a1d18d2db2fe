/* KVS control plane: the four REST requests of @aws-sdk/client-kinesis-video rebuilt from
 * the same inputs (vector A of /work/shared/vectors/kvs-sigv4.md, inlined), the presigned
 * WebSocket URLs of the KVS JS SDK (vector B), request shapes and refusals, the response
 * parsers on good, missing-field, wrong-type and oversize input, and error routing. */
#include "check.h"

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/kvs.h"
#include "camrtc/sigv4.h"
#include "camrtc/str.h"
#include "camrtc/time.h"

#include "aws_vectors.h"

#define ARN "arn:aws:kinesisvideo:us-west-2:123456789012:channel/lab-channel/1700000000000"
#define ARN_ENC "arn%3Aaws%3Akinesisvideo%3Aus-west-2%3A123456789012%3Achannel%2Flab-channel%2F1700000000000"
#define BASE "http://127.0.0.1:36605"


static const uint8_t *B(const char *s)
{
    return (const uint8_t *)s;
}

/* ---- vector A: REST requests of @aws-sdk/client-kinesis-video ---------------------- */

#define UA_KV "aws-sdk-js/3.1115.0 ua/2.1 os/linux#6.18.44-fc-v782 lang/js md/nodejs#20.20.2 " \
              "api/kinesis-video#3.1115.0 m/N,E,e"
#define UA_SIG "aws-sdk-js/3.1136.0 ua/2.1 os/linux#6.18.44-fc-v782 lang/js md/nodejs#20.20.2 " \
               "api/kinesis-video-signaling#3.1136.0 m/N,E,e"
#define SH_KV "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;" \
              "x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-user-agent"
#define SH_SIG "content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;" \
               "x-amz-user-agent"
#define CRED_2026 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-west-2/kinesisvideo/aws4_request, "

typedef struct rest_vector {
    camrtc_kvs_op op;
    camrtc_kvs_params p;
    const char *path;
    const char *body;
    const char *content_length;
    const char *x_amz_user_agent;
    const char *user_agent;
    const char *invocation_id; /* NULL: the request has no amz-sdk-* headers */
    const char *content_sha;
    const char *authorization;
} rest_vector;

static const rest_vector rest_vectors[] = {
    {CAMRTC_KVS_CREATE_CHANNEL, {.channel_name = "lab-channel"}, "/createSignalingChannel",
     "{\"ChannelName\":\"lab-channel\",\"ChannelType\":\"SINGLE_MASTER\",\"SingleMasterConfiguration\":"
     "{\"MessageTtlSeconds\":60}}",
     "112", "aws-sdk-js/3.1115.0", UA_KV, "b5d5fc59-b829-4fb4-836e-39ea2cb65760",
     "4391c6f16b216a903c85f06c4433f0570727da7a46c4872f9e8381aea27cf25b",
     CRED_2026 "SignedHeaders=" SH_KV
               ", Signature=286226f60bd315c587a757282481ba6a5ed2efee68c5451d5eb8c4109b6e3db4"},
    {CAMRTC_KVS_DESCRIBE_CHANNEL, {.channel_name = "lab-channel"}, "/describeSignalingChannel",
     "{\"ChannelName\":\"lab-channel\"}", "29", "aws-sdk-js/3.1115.0", UA_KV,
     "7bedbdff-d27b-4d80-aaf7-05e8e60a8a85", "7975e0a65fa321793a5bc6032859dbec7e3be402b6ddaff2589f9819fba33264",
     CRED_2026 "SignedHeaders=" SH_KV
               ", Signature=925f4c2111d0280c463295b03fab89eaf104714f539312e5d2b501a2f8545d4d"},
    {CAMRTC_KVS_GET_ENDPOINT, {.channel_arn = ARN}, "/getSignalingChannelEndpoint",
     "{\"ChannelARN\":\"" ARN "\",\"SingleMasterChannelEndpointConfiguration\":"
     "{\"Protocols\":[\"WSS\",\"HTTPS\"],\"Role\":\"MASTER\"}}",
     "183", "aws-sdk-js/3.1115.0", UA_KV, "9f79b8ca-eacf-48d9-a26e-3d41d145d5b3",
     "4a70a92239dfc1940f971c977c73140e31271ad60e377007c87ddcfc9402003f",
     CRED_2026 "SignedHeaders=" SH_KV
               ", Signature=21d3a5fc8df97ee5595b8f281b99b083b3d759ec7b3b439a51c0feda3cf2ca87"},
    {CAMRTC_KVS_GET_ICE_CONFIG, {.channel_arn = ARN, .client_id = "viewer-1"}, "/v1/get-ice-server-config",
     "{\"ChannelARN\":\"" ARN "\",\"ClientId\":\"viewer-1\",\"Service\":\"TURN\"}",
     "133", "aws-sdk-js/3.1136.0", UA_SIG, NULL, "6ffc563e7aa6a02ea508bae61123571191012ba79d08d0e7aa6a04056d778d2e",
     CRED_2026 "SignedHeaders=" SH_SIG
               ", Signature=226a3ba3752b5fbc1a994d6166399ae91af49fbb6413207a7655401e4ca7b52c"},
};

/* The SDK's own headers that build() does not set, as the SDK sent them. */
static size_t sdk_extras(const rest_vector *v, camrtc_kv *h)
{
    size_t n = 0;
    h[n++] = (camrtc_kv){"x-amz-user-agent", v->x_amz_user_agent};
    h[n++] = (camrtc_kv){"user-agent", v->user_agent};
    if (v->invocation_id) {
        h[n++] = (camrtc_kv){"amz-sdk-invocation-id", v->invocation_id};
        h[n++] = (camrtc_kv){"amz-sdk-request", "attempt=1; max=1"};
    }
    h[n++] = (camrtc_kv){"x-amz-content-sha256", v->content_sha};
    return n;
}

TEST(rest_vectors_byte_identical)
{
    for (size_t i = 0; i < sizeof rest_vectors / sizeof rest_vectors[0]; i++) {
        const rest_vector *v = &rest_vectors[i];
        camrtc_kv extras[8];
        camrtc_kvs_params p = v->p;
        p.extra_headers = extras;
        p.n_extra_headers = sdk_extras(v, extras);
        camrtc_kvs_request r;
        CHECK_EQ_INT(camrtc_kvs_build(&r, v->op, BASE, &p, &creds_token, "us-west-2", amz("20261123T185635Z")),
                     CAMRTC_OK);
        char url[128];
        snprintf(url, sizeof url, "%s%s", BASE, v->path);
        CHECK_EQ_STR(r.url, url);
        CHECK_EQ_INT(r.body.len, strlen(v->body));
        CHECK_EQ_MEM(camrtc_buf_data(&r.body), v->body, r.body.len);
        CHECK_EQ_STR(camrtc_kv_get(r.headers, r.n_headers, "authorization"), v->authorization);
        CHECK_EQ_STR(camrtc_kv_get(r.headers, r.n_headers, "host"), "127.0.0.1:36605");
        CHECK_EQ_STR(camrtc_kv_get(r.headers, r.n_headers, "content-type"), "application/json");
        CHECK_EQ_STR(camrtc_kv_get(r.headers, r.n_headers, "content-length"), v->content_length);
        CHECK_EQ_STR(camrtc_kv_get(r.headers, r.n_headers, "x-amz-date"), "20261123T185635Z");
        CHECK_EQ_STR(camrtc_kv_get(r.headers, r.n_headers, "x-amz-security-token"), TOKEN);
        CHECK_EQ_STR(camrtc_kv_get(r.headers, r.n_headers, "user-agent"), v->user_agent);
        CHECK_EQ_INT(r.n_headers, 6 + p.n_extra_headers);
        /* authorization comes last, after everything it signs */
        CHECK_EQ_STR(r.headers[r.n_headers - 1].name, "authorization");
        camrtc_kvs_request_free(&r);
        CHECK_EQ_INT(r.n_headers, 0);
        CHECK(r.body.mem == NULL);
    }
}

/* A built request verifies as the service would verify it (no SDK extras, no token). */
TEST(built_requests_verify)
{
    int64_t now = amz("20240102T030405Z");
    static const char *const bases[] = {"https://kinesisvideo.us-west-2.amazonaws.com",
                                        "https://kinesisvideo.us-west-2.amazonaws.com:443/",
                                        "http://127.0.0.1:8080/prefix/kvs//", "https://[::1]:8443"};
    static const char *const hosts[] = {"kinesisvideo.us-west-2.amazonaws.com",
                                        "kinesisvideo.us-west-2.amazonaws.com", "127.0.0.1:8080", "[::1]:8443"};
    static const char *const paths[] = {"/getSignalingChannelEndpoint", "/getSignalingChannelEndpoint",
                                        "/prefix/kvs/getSignalingChannelEndpoint", "/getSignalingChannelEndpoint"};
    for (size_t i = 0; i < 4; i++) {
        camrtc_kvs_params p = {.channel_arn = ARN, .viewer = true};
        camrtc_kvs_request r;
        CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, bases[i], &p, &creds_plain, "us-west-2", now),
                     CAMRTC_OK);
        CHECK_EQ_STR(camrtc_kv_get(r.headers, r.n_headers, "host"), hosts[i]);
        CHECK(camrtc_kv_get(r.headers, r.n_headers, "x-amz-security-token") == NULL);
        CHECK_EQ_INT(r.n_headers, 5);
        CHECK(strstr(r.url, paths[i]) != NULL);
        CHECK_EQ_STR(camrtc_buf_cstr(&r.body), "{\"ChannelARN\":\"" ARN "\",\"SingleMasterChannelEndpointConfiguration\":"
                                               "{\"Protocols\":[\"WSS\",\"HTTPS\"],\"Role\":\"VIEWER\"}}");
        camrtc_sigv4_request sr = {"POST", paths[i], NULL, r.headers, r.n_headers, camrtc_buf_data(&r.body),
                                   r.body.len};
        camrtc_sigv4_verify_config cfg = {&creds_plain, "us-west-2", "kinesisvideo", now, 300, 604800};
        camrtc_sigv4_verify_result res;
        CHECK_EQ_INT(camrtc_sigv4_verify(&sr, &cfg, &res), CAMRTC_OK);
        /* and the signature covers the body */
        camrtc_buf_data(&r.body)[2] ^= 1;
        CHECK_EQ_INT(camrtc_sigv4_verify(&sr, &cfg, &res), CAMRTC_EAUTH);
        camrtc_kvs_request_free(&r);
    }
}

static int body_of(camrtc_kvs_op op, const camrtc_kvs_params *p, char *out, size_t outsz)
{
    camrtc_kvs_request r;
    int rc = camrtc_kvs_build(&r, op, "https://kinesisvideo.us-west-2.amazonaws.com", p, &creds_token, "us-west-2",
                              amz("20240102T030405Z"));
    if (rc == CAMRTC_OK)
        camrtc_strlcpy(out, camrtc_buf_cstr(&r.body), outsz);
    camrtc_kvs_request_free(&r);
    return rc;
}

TEST(request_bodies)
{
    char b[512];
    camrtc_kvs_params p = {.channel_name = "cam-1", .channel_arn = ARN};
    CHECK_EQ_INT(body_of(CAMRTC_KVS_DESCRIBE_CHANNEL, &p, b, sizeof b), CAMRTC_OK);
    CHECK_EQ_STR(b, "{\"ChannelARN\":\"" ARN "\"}");
    p = (camrtc_kvs_params){.channel_name = "cam-1", .channel_arn = ""};
    CHECK_EQ_INT(body_of(CAMRTC_KVS_DESCRIBE_CHANNEL, &p, b, sizeof b), CAMRTC_OK);
    CHECK_EQ_STR(b, "{\"ChannelName\":\"cam-1\"}");
    p = (camrtc_kvs_params){.channel_name = "cam-1", .msg_ttl_s = 120};
    CHECK_EQ_INT(body_of(CAMRTC_KVS_CREATE_CHANNEL, &p, b, sizeof b), CAMRTC_OK);
    CHECK_EQ_STR(b, "{\"ChannelName\":\"cam-1\",\"ChannelType\":\"SINGLE_MASTER\","
                    "\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":120}}");
    p = (camrtc_kvs_params){.channel_arn = ARN, .client_id = ""};
    CHECK_EQ_INT(body_of(CAMRTC_KVS_GET_ICE_CONFIG, &p, b, sizeof b), CAMRTC_OK);
    CHECK_EQ_STR(b, "{\"ChannelARN\":\"" ARN "\",\"Service\":\"TURN\"}");
    /* JSON.stringify's escaping: '"', '\\', short escapes, \u00xx, UTF-8 and '/' as is */
    p = (camrtc_kvs_params){.channel_name = "a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f\xc3\xa9\xf0\x9f\x8e\xa5"};
    CHECK_EQ_INT(body_of(CAMRTC_KVS_DESCRIBE_CHANNEL, &p, b, sizeof b), CAMRTC_OK);
    CHECK_EQ_STR(b, "{\"ChannelName\":\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\xf0\x9f\x8e\xa5\"}");
}

TEST(request_refusals)
{
    char b[512];
    camrtc_kvs_params none = {0};
    CHECK_EQ_INT(body_of(CAMRTC_KVS_DESCRIBE_CHANNEL, &none, b, sizeof b), CAMRTC_EINVAL);
    CHECK_EQ_INT(body_of(CAMRTC_KVS_CREATE_CHANNEL, &none, b, sizeof b), CAMRTC_EINVAL);
    camrtc_kvs_params name_only = {.channel_name = "cam-1"};
    CHECK_EQ_INT(body_of(CAMRTC_KVS_GET_ENDPOINT, &name_only, b, sizeof b), CAMRTC_EINVAL);
    CHECK_EQ_INT(body_of(CAMRTC_KVS_GET_ICE_CONFIG, &name_only, b, sizeof b), CAMRTC_EINVAL);
    CHECK_EQ_INT(body_of((camrtc_kvs_op)42, &name_only, b, sizeof b), CAMRTC_EINVAL);
    camrtc_kvs_params ttl = {.channel_name = "cam-1", .msg_ttl_s = 4};
    CHECK_EQ_INT(body_of(CAMRTC_KVS_CREATE_CHANNEL, &ttl, b, sizeof b), CAMRTC_EINVAL);
    ttl.msg_ttl_s = 121;
    CHECK_EQ_INT(body_of(CAMRTC_KVS_CREATE_CHANNEL, &ttl, b, sizeof b), CAMRTC_EINVAL);
    /* not UTF-8: a lone continuation byte, an overlong '/', a surrogate, past U+10FFFF, cut short */
    static const char *const bad[] = {"a\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"};
    for (size_t i = 0; i < 5; i++) {
        camrtc_kvs_params p = {.channel_name = bad[i]};
        CHECK_EQ_INT(body_of(CAMRTC_KVS_DESCRIBE_CHANNEL, &p, b, sizeof b), CAMRTC_EINVAL);
    }
    char longname[300];
    memset(longname, 'a', 257);
    longname[257] = '\0';
    camrtc_kvs_params ln = {.channel_name = longname};
    CHECK_EQ_INT(body_of(CAMRTC_KVS_DESCRIBE_CHANNEL, &ln, b, sizeof b), CAMRTC_EINVAL);
    longname[256] = '\0';
    CHECK_EQ_INT(body_of(CAMRTC_KVS_DESCRIBE_CHANNEL, &ln, b, sizeof b), CAMRTC_OK);

    camrtc_kvs_request r;
    camrtc_kvs_params p = {.channel_arn = ARN};
    int64_t now = amz("20240102T030405Z");
    static const char *const bad_bases[] = {"", "wss://host", "https://host/?x=1", "https://host#f",
                                            "ftp://host", "https://user@host", "https://host:0", "host"};
    for (size_t i = 0; i < sizeof bad_bases / sizeof bad_bases[0]; i++) {
        CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, bad_bases[i], &p, &creds_plain, "us-west-2", now),
                     CAMRTC_EINVAL);
        CHECK_EQ_INT(r.n_headers, 0);
        CHECK(r.body.mem == NULL && r.storage.mem == NULL);
    }
    CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, NULL, &p, &creds_plain, "us-west-2", now),
                 CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, "https://h", NULL, &creds_plain, "us-west-2", now),
                 CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, "https://h", &p, NULL, "us-west-2", now),
                 CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, "https://h", &p, &creds_plain, "", now),
                 CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_build(NULL, CAMRTC_KVS_GET_ENDPOINT, "https://h", &p, &creds_plain, "us-west-2", now),
                 CAMRTC_EINVAL);
    char big[CAMRTC_KVS_MAX_URL + 16];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "https://h/", 10);
    CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, big, &p, &creds_plain, "us-west-2", now),
                 CAMRTC_ETOOBIG);

    /* extra headers: no repeats of build's own, no header splitting, bounded count */
    static const camrtc_kv bad_extras[][1] = {{{"Host", "evil"}}, {{"Authorization", "x"}},
                                              {{"X-Amz-Date", "x"}}, {{"content-length", "1"}},
                                              {{"x-a", "v\r\nInjected: 1"}}, {{"bad name", "v"}},
                                              {{"", "v"}}, {{"x-a", NULL}}, {{NULL, "v"}}};
    for (size_t i = 0; i < sizeof bad_extras / sizeof bad_extras[0]; i++) {
        camrtc_kvs_params pe = {.channel_arn = ARN, .extra_headers = bad_extras[i], .n_extra_headers = 1};
        CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, "https://h", &pe, &creds_plain, "us-west-2", now),
                     CAMRTC_EINVAL);
    }
    camrtc_kvs_params pn = {.channel_arn = ARN, .extra_headers = NULL, .n_extra_headers = 1};
    CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, "https://h", &pn, &creds_plain, "us-west-2", now),
                 CAMRTC_EINVAL);
    camrtc_kv many[40];
    char names[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "x-h%d", i);
        many[i] = (camrtc_kv){names[i], "v"};
    }
    /* 4 own headers (no token) + extras + authorization must fit the 32 slots */
    camrtc_kvs_params pm = {.channel_arn = ARN, .extra_headers = many, .n_extra_headers = 27};
    CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, "https://h", &pm, &creds_plain, "us-west-2", now),
                 CAMRTC_OK);
    CHECK_EQ_INT(r.n_headers, 32);
    CHECK_EQ_STR(r.headers[31].name, "authorization");
    CHECK_EQ_STR(r.headers[30].name, "x-h26");
    camrtc_kvs_request_free(&r);
    pm.n_extra_headers = 28;
    CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, "https://h", &pm, &creds_plain, "us-west-2", now),
                 CAMRTC_ETOOBIG);
    pm.n_extra_headers = 40;
    CHECK_EQ_INT(camrtc_kvs_build(&r, CAMRTC_KVS_GET_ENDPOINT, "https://h", &pm, &creds_plain, "us-west-2", now),
                 CAMRTC_ETOOBIG);
    camrtc_kvs_request_free(&r);
    camrtc_kvs_request_free(NULL);
}

TEST(control_endpoint_regions)
{
    char out[CAMRTC_KVS_MAX_URL];
    CHECK_EQ_INT(camrtc_kvs_control_endpoint("us-west-2", out, sizeof out), CAMRTC_OK);
    CHECK_EQ_STR(out, "https://kinesisvideo.us-west-2.amazonaws.com");
    CHECK_EQ_INT(camrtc_kvs_control_endpoint("cn-north-1", out, sizeof out), CAMRTC_OK);
    CHECK_EQ_STR(out, "https://kinesisvideo.cn-north-1.amazonaws.com.cn");
    CHECK_EQ_INT(camrtc_kvs_control_endpoint("cn-northwest-1", out, sizeof out), CAMRTC_OK);
    CHECK_EQ_STR(out, "https://kinesisvideo.cn-northwest-1.amazonaws.com.cn");
    static const char *const bad[] = {"", "US-WEST-2", "us-west-2/x", "us west", "eu-west-1.evil.com#"};
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ_INT(camrtc_kvs_control_endpoint(bad[i], out, sizeof out), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_control_endpoint(NULL, out, sizeof out), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_control_endpoint("us-west-2", out, 20), CAMRTC_ETOOBIG);
    CHECK_EQ_STR(out, "");
}

/* ---- vector B: presigned WebSocket URLs of the KVS JS SDK -------------------------- */

static const char master_url[] =
    "wss://m-1234abcd.kinesisvideo.us-west-2.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
    "X-Amz-ChannelARN=" ARN_ENC "&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-west-2%2Fkinesisvideo%2F"
    "aws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=299&X-Amz-Signature="
    "981c2ec83bd1c86c6b5e2ee4c63dc5f30d597f93ccef5f7c4ee9ec5d79c84b6f&X-Amz-SignedHeaders=host";
static const char viewer_url[] =
    "wss://127.0.0.1:8443/some/path?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-ChannelARN=" ARN_ENC
    "&X-Amz-ClientId=viewer-1&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-west-2%2Fkinesisvideo%2F"
    "aws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=299&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLETOKEN"
    "&X-Amz-Signature=b2e7df620aad04b129c633ecf59ff40fa8e5b48477883797e0f321fc90b60bcc&X-Amz-SignedHeaders=host";

TEST(ws_urls_byte_identical)
{
    int64_t now = amz("20240102T030405Z");
    camrtc_buf out = {0};
    CHECK_EQ_INT(camrtc_kvs_ws_url(&out, "wss://m-1234abcd.kinesisvideo.us-west-2.amazonaws.com", ARN, NULL,
                                   &creds_plain, "us-west-2", now, 0), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), master_url);
    camrtc_buf_reset(&out);
    /* a trailing '/', an explicit default port, an empty client id and expires 299 change nothing */
    CHECK_EQ_INT(camrtc_kvs_ws_url(&out, "wss://m-1234abcd.kinesisvideo.us-west-2.amazonaws.com:443/", ARN, "",
                                   &creds_plain, "us-west-2", now, 299), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), master_url);
    camrtc_buf_reset(&out);
    CHECK_EQ_INT(camrtc_kvs_ws_url(&out, "wss://127.0.0.1:8443/some/path", ARN, "viewer-1", &creds_token,
                                   "us-west-2", now, 0), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), viewer_url);
    camrtc_buf_free(&out);
}

TEST(ws_url_appends_and_refuses)
{
    int64_t now = amz("20240102T030405Z");
    camrtc_buf out = {0};
    CHECK_EQ_INT(camrtc_buf_append_str(&out, "url="), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_kvs_ws_url(&out, "wss://m-1234abcd.kinesisvideo.us-west-2.amazonaws.com", ARN, NULL,
                                   &creds_plain, "us-west-2", now, 0), CAMRTC_OK);
    CHECK(strncmp(camrtc_buf_cstr(&out), "url=", 4) == 0);
    CHECK_EQ_STR(camrtc_buf_cstr(&out) + 4, master_url);
    size_t len = out.len;
    static const char *const bad_eps[] = {"https://h", "wss://h/?a=b", "wss://h#x", "", "wss://u@h"};
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ_INT(camrtc_kvs_ws_url(&out, bad_eps[i], ARN, NULL, &creds_plain, "us-west-2", now, 0),
                     CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_ws_url(&out, "wss://h", NULL, NULL, &creds_plain, "us-west-2", now, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_ws_url(&out, "wss://h", ARN, NULL, &creds_plain, "us-west-2", now, -1), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_ws_url(&out, "wss://h", ARN, NULL, &creds_plain, "us-west-2", now, 604801),
                 CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_kvs_ws_url(&out, "wss://h", ARN, NULL, NULL, "us-west-2", now, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(out.len, len);
    /* '&' and '=' in a client id stay inside its value */
    camrtc_buf_reset(&out);
    CHECK_EQ_INT(camrtc_kvs_ws_url(&out, "ws://127.0.0.1:9000", ARN, "a&X-Amz-Expires=1", &creds_plain,
                                   "us-west-2", now, 60), CAMRTC_OK);
    const char *u = camrtc_buf_cstr(&out);
    CHECK(strstr(u, "ws://127.0.0.1:9000/?") == u);
    CHECK(strstr(u, "&X-Amz-ClientId=a%26X-Amz-Expires%3D1&") != NULL);
    CHECK(strstr(u, "&X-Amz-Expires=60&") != NULL);
    camrtc_buf_free(&out);
}

/* ---- errors ------------------------------------------------------------------------- */

typedef struct err_case {
    int status;
    const char *header_type;   /* x-amzn-ErrorType or NULL */
    const char *body;          /* NULL = no body */
    const char *type;
    const char *message;
    camrtc_kvs_error_class cls;
    bool expired;
} err_case;

static const err_case err_cases[] = {
    {403, "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/",
     "{\"message\":\"Signature expired: 20240102T030405Z is now earlier than 20240102T031405Z "
     "(20240102T031905Z - 5 min.)\"}",
     "InvalidSignatureException",
     "Signature expired: 20240102T030405Z is now earlier than 20240102T031405Z (20240102T031905Z - 5 min.)",
     CAMRTC_KVS_ERR_AUTH, true},
    {403, "InvalidSignatureException", "{\"message\":\"Signature not yet current: 20240102T040405Z is still "
     "later than 20240102T031905Z (20240102T031405Z + 5 min.)\"}", "InvalidSignatureException", NULL,
     CAMRTC_KVS_ERR_AUTH, true},
    {403, "InvalidSignatureException", "{\"message\":\"The request signature we calculated does not match the "
     "signature you provided.\"}", "InvalidSignatureException", NULL, CAMRTC_KVS_ERR_AUTH, false},
    {403, NULL, "{\"__type\":\"com.amazonaws.kinesisvideo#AccessDeniedException\",\"Message\":\"User: x is not "
     "authorized\"}", "AccessDeniedException", "User: x is not authorized", CAMRTC_KVS_ERR_AUTH, false},
    {403, "ExpiredTokenException", "{\"message\":\"The security token included in the request is expired\"}",
     "ExpiredTokenException", NULL, CAMRTC_KVS_ERR_AUTH, false},
    {403, NULL, "<html>Request has expired</html>", "", "", CAMRTC_KVS_ERR_AUTH, false},
    {403, NULL, "{\"Message\":\"Request has expired\"}", "", "Request has expired", CAMRTC_KVS_ERR_AUTH, true},
    {401, "UnrecognizedClientException", NULL, "UnrecognizedClientException", "", CAMRTC_KVS_ERR_AUTH, false},
    {400, "RequestExpired", "{\"message\":\"Request timestamp too old\"}", "RequestExpired", NULL,
     CAMRTC_KVS_ERR_AUTH, true},
    {400, "ExpiredTokenException", "", "ExpiredTokenException", "", CAMRTC_KVS_ERR_AUTH, false},
    {404, "ResourceNotFoundException", "{\"message\":\"The requested channel is not found or not active.\"}",
     "ResourceNotFoundException", "The requested channel is not found or not active.", CAMRTC_KVS_ERR_NOT_FOUND,
     false},
    {404, NULL, NULL, "", "", CAMRTC_KVS_ERR_NOT_FOUND, false},
    {400, NULL, "{\"__type\":\"ResourceNotFoundException\",\"message\":\"no channel\"}",
     "ResourceNotFoundException", "no channel", CAMRTC_KVS_ERR_NOT_FOUND, false},
    {400, "ClientLimitExceededException", "{\"message\":\"Your request has been throttled\"}",
     "ClientLimitExceededException", NULL, CAMRTC_KVS_ERR_RETRY, false},
    {400, "InvalidArgumentException", "{\"message\":\"bad\",\"Message\":\"ignored\"}", "InvalidArgumentException",
     "bad", CAMRTC_KVS_ERR_RETRY, false},
    {409, "ResourceInUseException", "{}", "ResourceInUseException", "", CAMRTC_KVS_ERR_RETRY, false},
    {429, NULL, "Too Many Requests", "", "", CAMRTC_KVS_ERR_RETRY, false},
    {500, " InternalFailure ", "{\"message\":42}", "InternalFailure", "", CAMRTC_KVS_ERR_RETRY, false},
    {502, NULL, "\x01\xff{garbage", "", "", CAMRTC_KVS_ERR_RETRY, false},
    {503, NULL, "[\"message\",\"x\"]", "", "", CAMRTC_KVS_ERR_RETRY, false},
    /* header type wins over __type; a message with a control character is cleaned */
    {500, "ServiceUnavailable", "{\"__type\":\"Other\",\"message\":\"line1\\nline2\"}", "ServiceUnavailable",
     "line1?line2", CAMRTC_KVS_ERR_RETRY, false},
    {200, NULL, "{}", "", "", CAMRTC_KVS_ERR_NONE, false},
    {0, NULL, NULL, "", "", CAMRTC_KVS_ERR_RETRY, false},
};

TEST(error_classification)
{
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const err_case *c = &err_cases[i];
        camrtc_kv h[2] = {{"Date", "Tue, 02 Jan 2024 03:04:05 GMT"}, {"X-Amzn-ErrorType", c->header_type}};
        camrtc_kvs_error e;
        memset(&e, 0x55, sizeof e);
        camrtc_kvs_parse_error(c->status, h, c->header_type ? 2 : 1, B(c->body), c->body ? strlen(c->body) : 0, &e);
        if (e.status != c->status || strcmp(e.type, c->type) || (c->message && strcmp(e.message, c->message)) ||
            e.cls != c->cls || e.signature_expired != c->expired)
            fprintf(stderr, "case %zu: status %d type '%s' message '%s' cls %d expired %d\n", i, e.status, e.type,
                    e.message, (int)e.cls, (int)e.signature_expired);
        CHECK_EQ_INT(e.status, c->status);
        CHECK_EQ_STR(e.type, c->type);
        if (c->message)
            CHECK_EQ_STR(e.message, c->message);
        CHECK_EQ_INT(e.cls, c->cls);
        CHECK_EQ_INT(e.signature_expired, c->expired);
    }
}

TEST(error_fields_bounded)
{
    /* an overlong message is cut on a UTF-8 boundary; an overlong type is cut too */
    camrtc_buf body = {0};
    CHECK_EQ_INT(camrtc_buf_append_str(&body, "{\"message\":\""), CAMRTC_OK);
    for (int i = 0; i < 300; i++)
        CHECK_EQ_INT(camrtc_buf_append_str(&body, "\xc3\xa9"), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_buf_append_str(&body, "\"}"), CAMRTC_OK);
    char type[300];
    memset(type, 'T', sizeof type - 1);
    type[sizeof type - 1] = '\0';
    camrtc_kv h[1] = {{"x-amzn-errortype", type}};
    camrtc_kvs_error e;
    camrtc_kvs_parse_error(400, h, 1, camrtc_buf_data(&body), body.len, &e);
    camrtc_buf_free(&body);
    CHECK_EQ_INT(strlen(e.type), sizeof e.type - 1);
    CHECK_EQ_INT(strlen(e.message), 510);
    CHECK(strcmp(e.message + 508, "\xc3\xa9") == 0);
    CHECK_EQ_INT(e.cls, CAMRTC_KVS_ERR_RETRY);
    /* NULL headers and body */
    camrtc_kvs_parse_error(503, NULL, 0, NULL, 0, &e);
    CHECK_EQ_INT(e.cls, CAMRTC_KVS_ERR_RETRY);
    CHECK_EQ_STR(e.type, "");
    camrtc_kvs_parse_error(503, NULL, 0, NULL, 0, NULL);
}

/* ---- 200 answers ---------------------------------------------------------------------- */

#define DESCRIBE_OK "{\"ChannelInfo\":{\"ChannelName\":\"lab-channel\",\"ChannelARN\":\"" ARN "\"," \
    "\"ChannelType\":\"SINGLE_MASTER\",\"ChannelStatus\":\"ACTIVE\",\"CreationTime\":1700000000.123," \
    "\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":60},\"Version\":\"v1\"}}"

static int describe(const char *s, camrtc_kvs_channel *c)
{
    return camrtc_kvs_parse_describe(B(s), strlen(s), c);
}

TEST(parse_describe_cases)
{
    camrtc_kvs_channel c;
    CHECK_EQ_INT(describe(DESCRIBE_OK, &c), CAMRTC_OK);
    CHECK_EQ_STR(c.arn, ARN);
    CHECK_EQ_STR(c.name, "lab-channel");
    CHECK_EQ_STR(c.status, "ACTIVE");
    CHECK_EQ_INT(c.msg_ttl_s, 60);
    /* the body need not be NUL-terminated: bytes past len are not read */
    char padded[sizeof DESCRIBE_OK + 8];
    memcpy(padded, DESCRIBE_OK, sizeof DESCRIBE_OK - 1);
    memcpy(padded + sizeof DESCRIBE_OK - 1, "garbage!", 8);
    CHECK_EQ_INT(camrtc_kvs_parse_describe(B(padded), sizeof DESCRIBE_OK - 1, &c), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_kvs_parse_describe(B(padded), sizeof padded, &c), CAMRTC_EPROTO);
    CHECK_EQ_INT(describe("{\"ChannelInfo\":{\"ChannelName\":\"n\",\"ChannelARN\":\"a\",\"ChannelStatus\":"
                          "\"CREATING\",\"SingleMasterConfiguration\":null}}", &c), CAMRTC_OK);
    CHECK_EQ_INT(c.msg_ttl_s, 0);
    CHECK_EQ_STR(c.status, "CREATING");

    static const char *const eproto[] = {
        "", "null", "[]", "\"x\"", "{", "{\"ChannelInfo\":null}", "{\"ChannelInfo\":[]}", "{}",
        "{\"ChannelInfo\":{\"ChannelName\":\"n\",\"ChannelStatus\":\"ACTIVE\"}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelStatus\":\"ACTIVE\"}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelName\":\"n\"}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"\",\"ChannelName\":\"n\",\"ChannelStatus\":\"ACTIVE\"}}",
        "{\"ChannelInfo\":{\"ChannelARN\":7,\"ChannelName\":\"n\",\"ChannelStatus\":\"ACTIVE\"}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelName\":[],\"ChannelStatus\":\"ACTIVE\"}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelName\":\"n\",\"ChannelStatus\":true}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelName\":\"n\",\"ChannelStatus\":\"ACTIVE\","
        "\"SingleMasterConfiguration\":60}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelName\":\"n\",\"ChannelStatus\":\"ACTIVE\","
        "\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":\"60\"}}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelName\":\"n\",\"ChannelStatus\":\"ACTIVE\","
        "\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":-1}}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelName\":\"n\",\"ChannelStatus\":\"ACTIVE\","
        "\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":60.5}}}",
        "{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelName\":\"n\",\"ChannelStatus\":\"ACTIVE\","
        "\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":1e300}}}",
        DESCRIBE_OK " {}",
    };
    for (size_t i = 0; i < sizeof eproto / sizeof eproto[0]; i++) {
        memset(&c, 0x41, sizeof c);
        if (describe(eproto[i], &c) != CAMRTC_EPROTO)
            fprintf(stderr, "case %zu: %s\n", i, eproto[i]);
        CHECK_EQ_INT(describe(eproto[i], &c), CAMRTC_EPROTO);
        CHECK_EQ_STR(c.arn, "");
        CHECK_EQ_INT(c.msg_ttl_s, 0);
    }
    CHECK_EQ_INT(camrtc_kvs_parse_describe(NULL, 0, &c), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_kvs_parse_describe(B("{}"), 2, NULL), CAMRTC_EINVAL);

    /* oversize: a status longer than its field, an ARN longer than CAMRTC_KVS_MAX_ARN */
    CHECK_EQ_INT(describe("{\"ChannelInfo\":{\"ChannelARN\":\"a\",\"ChannelName\":\"n\",\"ChannelStatus\":"
                          "\"ACTIVEACTIVEACTIVEACTIVEACTIVEACTIVE\"}}", &c), CAMRTC_ETOOBIG);
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "{\"ChannelInfo\":{\"ChannelName\":\"n\",\"ChannelStatus\":\"A\","
                                           "\"ChannelARN\":\""), CAMRTC_OK);
    for (int i = 0; i < CAMRTC_KVS_MAX_ARN; i++)
        CHECK_EQ_INT(camrtc_buf_append_str(&b, "a"), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "\"}}"), CAMRTC_OK);
    int rc = camrtc_kvs_parse_describe(camrtc_buf_data(&b), b.len, &c);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    /* a body over 64 KiB is refused before parsing */
    camrtc_buf_reset(&b);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "{\"x\":\""), CAMRTC_OK);
    while (b.len < 70000)
        CHECK_EQ_INT(camrtc_buf_append_str(&b, "xxxxxxxxxxxxxxxx"), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "\"}"), CAMRTC_OK);
    rc = camrtc_kvs_parse_describe(camrtc_buf_data(&b), b.len, &c);
    camrtc_buf_free(&b);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    /* a NUL inside the body */
    CHECK_EQ_INT(camrtc_kvs_parse_describe(B("{}\0{}"), 5, &c), CAMRTC_EPROTO);
}

TEST(parse_create_cases)
{
    char arn[CAMRTC_KVS_MAX_ARN];
    const char *ok = "{\"ChannelARN\":\"" ARN "\"}";
    CHECK_EQ_INT(camrtc_kvs_parse_create(B(ok), strlen(ok), arn, sizeof arn), CAMRTC_OK);
    CHECK_EQ_STR(arn, ARN);
    CHECK_EQ_INT(camrtc_kvs_parse_create(B(ok), strlen(ok), arn, 10), CAMRTC_ETOOBIG);
    CHECK_EQ_STR(arn, "");
    static const char *const eproto[] = {"{}", "{\"ChannelARN\":\"\"}", "{\"ChannelARN\":null}",
                                         "{\"ChannelARN\":1}", "{\"channelarn\":\"a\"}", "nope", "[1]"};
    for (size_t i = 0; i < sizeof eproto / sizeof eproto[0]; i++)
        CHECK_EQ_INT(camrtc_kvs_parse_create(B(eproto[i]), strlen(eproto[i]), arn, sizeof arn), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_kvs_parse_create(B(ok), strlen(ok), NULL, 0), CAMRTC_EINVAL);
}

static int endpoints(const char *s, camrtc_kvs_endpoints *e)
{
    return camrtc_kvs_parse_endpoints(B(s), strlen(s), e);
}

TEST(parse_endpoints_cases)
{
    camrtc_kvs_endpoints e;
    CHECK_EQ_INT(endpoints("{\"ResourceEndpointList\":[{\"Protocol\":\"WSS\",\"ResourceEndpoint\":"
                           "\"wss://127.0.0.1:42353\"},{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":"
                           "\"http://127.0.0.1:36605\"}]}", &e), CAMRTC_OK);
    CHECK_EQ_STR(e.wss, "wss://127.0.0.1:42353");
    CHECK_EQ_STR(e.https, "http://127.0.0.1:36605");
    /* any order, other protocols ignored, the first of each kept */
    CHECK_EQ_INT(endpoints("{\"ResourceEndpointList\":[{\"Protocol\":\"WEBRTC\",\"ResourceEndpoint\":\"x\"},"
                           "{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":\"https://r-1.kinesisvideo.us-west-2."
                           "amazonaws.com\"},{\"Protocol\":\"wss\",\"ResourceEndpoint\":\"WsS://m-1.kinesisvideo."
                           "us-west-2.amazonaws.com\"},{\"Protocol\":\"WSS\",\"ResourceEndpoint\":\"wss://2\"},"
                           "{\"Protocol\":\"SOME-VERY-LONG-FUTURE-PROTOCOL\",\"ResourceEndpoint\":\"z\"}]}", &e),
                 CAMRTC_OK);
    CHECK_EQ_STR(e.wss, "wss://m-1.kinesisvideo.us-west-2.amazonaws.com");
    CHECK_EQ_STR(e.https, "https://r-1.kinesisvideo.us-west-2.amazonaws.com");

    static const char *const eproto[] = {
        "{\"ResourceEndpointList\":[{\"Protocol\":\"WSS\",\"ResourceEndpoint\":\"wss://a\"}]}",
        "{\"ResourceEndpointList\":[{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":\"https://a\"}]}",
        "{\"ResourceEndpointList\":[]}",
        "{\"ResourceEndpointList\":{}}",
        "{}",
        "{\"ResourceEndpointList\":[1,{\"Protocol\":\"WSS\",\"ResourceEndpoint\":\"wss://a\"}]}",
        "{\"ResourceEndpointList\":[{\"Protocol\":1,\"ResourceEndpoint\":\"wss://a\"}]}",
        "{\"ResourceEndpointList\":[{\"ResourceEndpoint\":\"wss://a\"}]}",
        "{\"ResourceEndpointList\":[{\"Protocol\":\"WSS\"},{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":"
        "\"https://a\"}]}",
        "{\"ResourceEndpointList\":[{\"Protocol\":\"WSS\",\"ResourceEndpoint\":[\"wss://a\"]},"
        "{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":\"https://a\"}]}",
        /* the scheme must suit the protocol, and the URL be one */
        "{\"ResourceEndpointList\":[{\"Protocol\":\"WSS\",\"ResourceEndpoint\":\"https://a\"},"
        "{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":\"https://a\"}]}",
        "{\"ResourceEndpointList\":[{\"Protocol\":\"WSS\",\"ResourceEndpoint\":\"wss://a\"},"
        "{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":\"file:///etc/passwd\"}]}",
        "{\"ResourceEndpointList\":[{\"Protocol\":\"WSS\",\"ResourceEndpoint\":\"wss://a b\"},"
        "{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":\"https://a\"}]}",
        "{\"ResourceEndpointList\":[{\"Protocol\":\"WSS\",\"ResourceEndpoint\":\"\"},"
        "{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":\"https://a\"}]}",
    };
    for (size_t i = 0; i < sizeof eproto / sizeof eproto[0]; i++) {
        if (endpoints(eproto[i], &e) != CAMRTC_EPROTO)
            fprintf(stderr, "case %zu: %s\n", i, eproto[i]);
        CHECK_EQ_INT(endpoints(eproto[i], &e), CAMRTC_EPROTO);
        CHECK_EQ_STR(e.wss, "");
        CHECK_EQ_STR(e.https, "");
    }
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "{\"ResourceEndpointList\":[{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":"
                                           "\"https://a\"},{\"Protocol\":\"WSS\",\"ResourceEndpoint\":\"wss://"),
                 CAMRTC_OK);
    for (int i = 0; i < CAMRTC_KVS_MAX_URL; i++)
        CHECK_EQ_INT(camrtc_buf_append_str(&b, "a"), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "\"}]}"), CAMRTC_OK);
    int rc = camrtc_kvs_parse_endpoints(camrtc_buf_data(&b), b.len, &e);
    camrtc_buf_free(&b);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    CHECK_EQ_STR(e.https, "");
    CHECK_EQ_INT(camrtc_kvs_parse_endpoints(B("{}"), 2, NULL), CAMRTC_EINVAL);
}

#define ICE1 "{\"Uris\":[\"turn:127.0.0.1:34780?transport=udp\",\"turns:127.0.0.1:5349?transport=tcp\"]," \
    "\"Username\":\"1700000300:djE6YXJuOmF3cz\",\"Password\":\"p4ssw0rd\",\"Ttl\":300}"
#define ICE_U(u) "{\"Uris\":[\"" u "\"],\"Username\":\"u\",\"Password\":\"p\",\"Ttl\":300}"

static int ice(const char *s, camrtc_kvs_ice_config *c)
{
    return camrtc_kvs_parse_ice_config(B(s), strlen(s), c);
}

TEST(parse_ice_config_cases)
{
    camrtc_kvs_ice_config c;
    CHECK_EQ_INT(ice("{\"IceServerList\":[" ICE1 "]}", &c), CAMRTC_OK);
    CHECK_EQ_INT(c.n_servers, 1);
    CHECK_EQ_INT(c.servers[0].n_uris, 2);
    CHECK_EQ_STR(c.servers[0].uris[0], "turn:127.0.0.1:34780?transport=udp");
    CHECK_EQ_STR(c.servers[0].uris[1], "turns:127.0.0.1:5349?transport=tcp");
    CHECK_EQ_STR(c.servers[0].username, "1700000300:djE6YXJuOmF3cz");
    CHECK_EQ_STR(c.servers[0].password, "p4ssw0rd");
    CHECK_EQ_INT(c.servers[0].ttl_s, 300);
    CHECK_EQ_INT(ice("{\"IceServerList\":[]}", &c), CAMRTC_OK);
    CHECK_EQ_INT(c.n_servers, 0);
    /* at most 5 servers of 4 URIs: the rest is ignored, even when malformed */
    CHECK_EQ_INT(ice("{\"IceServerList\":[" ICE_U("turn:a") "," ICE_U("turn:b") "," ICE_U("turn:c") ","
                     ICE_U("turn:d") ",{\"Uris\":[\"turn:e1\",\"turn:e2\",\"turn:e3\",\"turn:e4\",\"turn:e5\",7],"
                     "\"Username\":\"u\",\"Password\":\"p\",\"Ttl\":60},\"junk\",{}]}", &c), CAMRTC_OK);
    CHECK_EQ_INT(c.n_servers, 5);
    CHECK_EQ_STR(c.servers[3].uris[0], "turn:d");
    CHECK_EQ_INT(c.servers[4].n_uris, 4);
    CHECK_EQ_STR(c.servers[4].uris[3], "turn:e4");
    CHECK_EQ_INT(c.servers[4].ttl_s, 60);

    static const char *const eproto[] = {
        "{}", "{\"IceServerList\":{}}", "{\"IceServerList\":[1]}", "{\"IceServerList\":[[]]}",
        "{\"IceServerList\":[{\"Username\":\"u\",\"Password\":\"p\",\"Ttl\":1}]}",
        "{\"IceServerList\":[{\"Uris\":[],\"Username\":\"u\",\"Password\":\"p\",\"Ttl\":1}]}",
        "{\"IceServerList\":[{\"Uris\":\"turn:a\",\"Username\":\"u\",\"Password\":\"p\",\"Ttl\":1}]}",
        "{\"IceServerList\":[{\"Uris\":[1],\"Username\":\"u\",\"Password\":\"p\",\"Ttl\":1}]}",
        "{\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Password\":\"p\",\"Ttl\":1}]}",
        "{\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Username\":\"u\",\"Ttl\":1}]}",
        "{\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Username\":\"u\",\"Password\":\"p\"}]}",
        "{\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Username\":1,\"Password\":\"p\",\"Ttl\":1}]}",
        "{\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Username\":\"u\",\"Password\":\"p\",\"Ttl\":\"300\"}]}",
        "{\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Username\":\"u\",\"Password\":\"p\",\"Ttl\":-5}]}",
        "{\"IceServerList\":[" ICE_U("") "]}", "{\"IceServerList\":[" ICE_U("turn:a b") "]}",
        "{\"IceServerList\":[" ICE_U("turn:a\\r\\n") "]}",
        "{\"IceServerList\":[" ICE1 ",5]}",
    };
    for (size_t i = 0; i < sizeof eproto / sizeof eproto[0]; i++) {
        if (ice(eproto[i], &c) != CAMRTC_EPROTO)
            fprintf(stderr, "case %zu: %s\n", i, eproto[i]);
        CHECK_EQ_INT(ice(eproto[i], &c), CAMRTC_EPROTO);
        CHECK_EQ_INT(c.n_servers, 0);
    }
    /* oversize username, password and URI */
    char big[600], body[800];
    memset(big, 'x', 256);
    big[256] = '\0';
    snprintf(body, sizeof body, "{\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Username\":\"%s\",\"Password\":\"p\","
             "\"Ttl\":1}]}", big);
    CHECK_EQ_INT(ice(body, &c), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(c.n_servers, 0);
    snprintf(body, sizeof body, "{\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Username\":\"u\",\"Password\":\"%s\","
             "\"Ttl\":1}]}", big);
    CHECK_EQ_INT(ice(body, &c), CAMRTC_ETOOBIG);
    snprintf(body, sizeof body, "{\"IceServerList\":[" ICE_U("turn:%s") "]}", big);
    CHECK_EQ_INT(ice(body, &c), CAMRTC_ETOOBIG);
    big[255] = '\0';   /* 255 bytes: fits with its NUL */
    snprintf(body, sizeof body, "{\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Username\":\"%s\",\"Password\":\"p\","
             "\"Ttl\":1}]}", big);
    CHECK_EQ_INT(ice(body, &c), CAMRTC_OK);
    CHECK_EQ_INT(strlen(c.servers[0].username), 255);
    CHECK_EQ_INT(camrtc_kvs_parse_ice_config(B("{}"), 2, NULL), CAMRTC_EINVAL);
}

TEST(clock_skew_from_date)
{
    int64_t now = amz("20240102T030405Z"), skew = 99;
    camrtc_kv h[2] = {{"Content-Type", "application/json"}, {"Date", "Tue, 02 Jan 2024 03:09:05 GMT"}};
    CHECK_EQ_INT(camrtc_kvs_clock_skew(h, 2, now, &skew), CAMRTC_OK);
    CHECK_EQ_INT(skew, 300);
    h[1].name = "date";
    CHECK_EQ_INT(camrtc_kvs_clock_skew(h, 2, now + 3600, &skew), CAMRTC_OK);
    CHECK_EQ_INT(skew, -3300);
    CHECK_EQ_INT(camrtc_kvs_clock_skew(h, 1, now, &skew), CAMRTC_EPROTO);
    static const char *const bad[] = {"", "Tue, 02 Jan 2024 03:09:05", "Tuesday, 02-Jan-24 03:09:05 GMT",
                                      "Tue, 02 Foo 2024 03:09:05 GMT", "Tue, 32 Jan 2024 03:09:05 GMT"};
    for (size_t i = 0; i < 5; i++) {
        h[1].value = bad[i];
        CHECK_EQ_INT(camrtc_kvs_clock_skew(h, 2, now, &skew), CAMRTC_EPROTO);
    }
    CHECK_EQ_INT(camrtc_kvs_clock_skew(NULL, 0, now, &skew), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_kvs_clock_skew(h, 2, now, NULL), CAMRTC_EINVAL);
    h[1].value = "Tue, 02 Jan 2024 03:09:05 GMT";
    CHECK_EQ_INT(camrtc_kvs_clock_skew(h, 2, INT64_MIN, &skew), CAMRTC_EINVAL);
}

int main(void)
{
    return RUN_TESTS(rest_vectors_byte_identical, built_requests_verify, request_bodies, request_refusals,
                     control_endpoint_regions, ws_urls_byte_identical, ws_url_appends_and_refuses,
                     error_classification, error_fields_bounded, parse_describe_cases, parse_create_cases,
                     parse_endpoints_cases, parse_ice_config_cases, clock_skew_from_date);
}
