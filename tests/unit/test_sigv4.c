/* SigV4: the KVS vectors captured from the official AWS clients
 * (/work/shared/vectors/kvs-sigv4.md, inlined), cases of the published AWS SigV4
 * test suite (aws-c-auth tests/aws-signing-test-suite/v4, each expected signature
 * also recomputed independently with python3 hashlib/hmac), and verify()'s
 * refusals with their AWS status and error type. */
#include "check.h"

#include <strings.h>

#include "camrtc/buf.h"
#include "camrtc/codec.h"
#include "camrtc/crypto.h"
#include "camrtc/error.h"
#include "camrtc/sigv4.h"
#include "camrtc/time.h"

#include "aws_vectors.h"

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


/* ---- (a) @aws-sdk/client-kinesis-video REST requests ------------------------------ */

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
    {"/createSignalingChannel",
     "{\"ChannelName\":\"lab-channel\",\"ChannelType\":\"SINGLE_MASTER\",\"SingleMasterConfiguration\":"
     "{\"MessageTtlSeconds\":60}}",
     "112", "aws-sdk-js/3.1115.0", UA_KV, "b5d5fc59-b829-4fb4-836e-39ea2cb65760",
     "4391c6f16b216a903c85f06c4433f0570727da7a46c4872f9e8381aea27cf25b",
     CRED_2026 "SignedHeaders=" SH_KV
               ", Signature=286226f60bd315c587a757282481ba6a5ed2efee68c5451d5eb8c4109b6e3db4"},
    {"/describeSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", "29", "aws-sdk-js/3.1115.0", UA_KV,
     "7bedbdff-d27b-4d80-aaf7-05e8e60a8a85", "7975e0a65fa321793a5bc6032859dbec7e3be402b6ddaff2589f9819fba33264",
     CRED_2026 "SignedHeaders=" SH_KV
               ", Signature=925f4c2111d0280c463295b03fab89eaf104714f539312e5d2b501a2f8545d4d"},
    {"/getSignalingChannelEndpoint",
     "{\"ChannelARN\":\"arn:aws:kinesisvideo:us-west-2:123456789012:channel/lab-channel/1700000000000\","
     "\"SingleMasterChannelEndpointConfiguration\":{\"Protocols\":[\"WSS\",\"HTTPS\"],\"Role\":\"MASTER\"}}",
     "183", "aws-sdk-js/3.1115.0", UA_KV, "9f79b8ca-eacf-48d9-a26e-3d41d145d5b3",
     "4a70a92239dfc1940f971c977c73140e31271ad60e377007c87ddcfc9402003f",
     CRED_2026 "SignedHeaders=" SH_KV
               ", Signature=21d3a5fc8df97ee5595b8f281b99b083b3d759ec7b3b439a51c0feda3cf2ca87"},
    {"/v1/get-ice-server-config",
     "{\"ChannelARN\":\"arn:aws:kinesisvideo:us-west-2:123456789012:channel/lab-channel/1700000000000\","
     "\"ClientId\":\"viewer-1\",\"Service\":\"TURN\"}",
     "133", "aws-sdk-js/3.1136.0", UA_SIG, NULL, "6ffc563e7aa6a02ea508bae61123571191012ba79d08d0e7aa6a04056d778d2e",
     CRED_2026 "SignedHeaders=" SH_SIG
               ", Signature=226a3ba3752b5fbc1a994d6166399ae91af49fbb6413207a7655401e4ca7b52c"},
};

/* The headers exactly as the SDK sent them, in its order; with_auth adds the
 * x-amz-date, token and authorization headers too. Returns the count. */
static size_t rest_headers(const rest_vector *v, bool with_auth, camrtc_kv *h)
{
    size_t n = 0;
    h[n++] = (camrtc_kv){"content-type", "application/json"};
    h[n++] = (camrtc_kv){"content-length", v->content_length};
    h[n++] = (camrtc_kv){"x-amz-user-agent", v->x_amz_user_agent};
    h[n++] = (camrtc_kv){"user-agent", v->user_agent};
    h[n++] = (camrtc_kv){"host", "127.0.0.1:36605"};
    if (v->invocation_id) {
        h[n++] = (camrtc_kv){"amz-sdk-invocation-id", v->invocation_id};
        h[n++] = (camrtc_kv){"amz-sdk-request", "attempt=1; max=1"};
    }
    if (with_auth) {
        h[n++] = (camrtc_kv){"x-amz-date", "20261123T185635Z"};
        h[n++] = (camrtc_kv){"x-amz-security-token", TOKEN};
    }
    h[n++] = (camrtc_kv){"x-amz-content-sha256", v->content_sha};
    if (with_auth)
        h[n++] = (camrtc_kv){"authorization", v->authorization};
    h[n++] = (camrtc_kv){"Connection", "keep-alive"};
    return n;
}

static camrtc_sigv4_request rest_request(const rest_vector *v, const camrtc_kv *h, size_t n)
{
    return (camrtc_sigv4_request){"POST", v->path, NULL, h, n, (const uint8_t *)v->body, strlen(v->body)};
}

TEST(kvs_rest_vectors_sign_byte_identical)
{
    for (size_t i = 0; i < sizeof rest_vectors / sizeof rest_vectors[0]; i++) {
        const rest_vector *v = &rest_vectors[i];
        camrtc_kv h[16];
        /* Once with x-amz-date/x-amz-security-token already among the headers, as
         * the SDK had them when signing, once letting sign() add them. */
        for (int added = 0; added < 2; added++) {
            size_t n = 0;
            camrtc_kv all[16];
            size_t na = rest_headers(v, true, all);
            for (size_t k = 0; k < na; k++)
                if (strcmp(all[k].name, "authorization") != 0 &&
                    (!added || (strcmp(all[k].name, "x-amz-date") && strcmp(all[k].name, "x-amz-security-token"))))
                    h[n++] = all[k];
            camrtc_sigv4_request req = rest_request(v, h, n);
            camrtc_sigv4_signature sig;
            CHECK_EQ_INT(camrtc_sigv4_sign(&req, &creds_token, "us-west-2", "kinesisvideo",
                                           amz("20261123T185635Z"), &sig), CAMRTC_OK);
            CHECK_EQ_STR(sig.authorization, v->authorization);
            CHECK_EQ_STR(sig.amz_date, "20261123T185635Z");
            CHECK_EQ_STR(sig.payload_hash, v->content_sha);
        }
    }
}

static camrtc_sigv4_verify_config vcfg(const camrtc_aws_creds *c, const char *region, int64_t now)
{
    return (camrtc_sigv4_verify_config){c, region, "kinesisvideo", now, 300, 604800};
}

TEST(kvs_rest_vectors_verify)
{
    for (size_t i = 0; i < sizeof rest_vectors / sizeof rest_vectors[0]; i++) {
        const rest_vector *v = &rest_vectors[i];
        camrtc_kv h[16];
        size_t n = rest_headers(v, true, h);
        camrtc_sigv4_request req = rest_request(v, h, n);
        camrtc_sigv4_verify_config cfg = vcfg(&creds_token, "us-west-2", amz("20261123T185635Z"));
        camrtc_sigv4_verify_result res;
        CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);
        CHECK_EQ_INT(res.http_status, 0);
        CHECK(res.error_type == NULL);
    }
}

/* ---- (a) presigned WebSocket URLs of the KVS JS SDK (SigV4RequestSigner) ---------- */

#define ARN_RAW "arn:aws:kinesisvideo:us-west-2:123456789012:channel/lab-channel/1700000000000"
#define ARN_ENC "arn%3Aaws%3Akinesisvideo%3Aus-west-2%3A123456789012%3Achannel%2Flab-channel%2F1700000000000"

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

TEST(kvs_presigned_urls_byte_identical)
{
    int64_t now = amz("20240102T030405Z");
    camrtc_buf out = {0};
    CHECK_EQ_INT(camrtc_sigv4_presign_url("wss://m-1234abcd.kinesisvideo.us-west-2.amazonaws.com?X-Amz-ChannelARN="
                                          ARN_RAW, &creds_plain, "us-west-2", "kinesisvideo", now, 299, &out),
                 CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), master_url);
    /* An already-encoded ARN and an explicit default port give the same URL. */
    camrtc_buf_reset(&out);
    CHECK_EQ_INT(camrtc_sigv4_presign_url("wss://m-1234abcd.kinesisvideo.us-west-2.amazonaws.com:443/"
                                          "?X-Amz-ChannelARN=" ARN_ENC, &creds_plain, "us-west-2", "kinesisvideo",
                                          now, 299, &out), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), master_url);
    camrtc_buf_reset(&out);
    CHECK_EQ_INT(camrtc_sigv4_presign_url("wss://127.0.0.1:8443/some/path?X-Amz-ChannelARN=" ARN_RAW
                                          "&X-Amz-ClientId=viewer-1", &creds_token, "us-west-2", "kinesisvideo",
                                          now, 299, &out), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), viewer_url);
    camrtc_buf_free(&out);
}

/* Split "wss://host/path?query" into a request for verify(). */
typedef struct url_req {
    char host[128];
    char path[256];
    char query[2048];
    camrtc_kv h[4];
    camrtc_sigv4_request req;
} url_req;

static void url_to_request(const char *url, url_req *u)
{
    const char *a = strstr(url, "://") + 3;
    size_t hl = strcspn(a, "/?");
    snprintf(u->host, sizeof u->host, "%.*s", (int)hl, a);
    const char *p = a + hl;
    size_t pl = strcspn(p, "?");
    snprintf(u->path, sizeof u->path, "%.*s", (int)pl, pl ? p : "/");
    snprintf(u->query, sizeof u->query, "%s", p[pl] == '?' ? p + pl + 1 : "");
    u->h[0] = (camrtc_kv){"Host", u->host};
    u->h[1] = (camrtc_kv){"Upgrade", "websocket"};
    u->h[2] = (camrtc_kv){"Sec-WebSocket-Version", "13"};
    u->req = (camrtc_sigv4_request){"GET", u->path, u->query, u->h, 3, NULL, 0};
}

TEST(kvs_presigned_urls_verify)
{
    static url_req m, v;
    url_to_request(master_url, &m);
    url_to_request(viewer_url, &v);
    camrtc_sigv4_verify_result res;
    camrtc_sigv4_verify_config cfg = vcfg(&creds_plain, "us-west-2", amz("20240102T030405Z"));
    CHECK_EQ_INT(camrtc_sigv4_verify(&m.req, &cfg, &res), CAMRTC_OK);
    /* A token the request carries is signed but, without one configured, not checked. */
    CHECK_EQ_INT(camrtc_sigv4_verify(&v.req, &cfg, &res), CAMRTC_OK);
    cfg.creds = &creds_token;
    CHECK_EQ_INT(camrtc_sigv4_verify(&v.req, &cfg, &res), CAMRTC_OK);
    CHECK_EQ_INT(res.http_status, 0);
    /* Valid up to the last second of X-Amz-Expires. */
    cfg.now += 299;
    CHECK_EQ_INT(camrtc_sigv4_verify(&v.req, &cfg, &res), CAMRTC_OK);
}

/* ---- (b) the published AWS SigV4 test suite ----------------------------------------- */

#define SUITE_DATE "20150830T123600Z"
#define SUITE_CRED "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "

typedef struct suite_case {
    const char *name;
    const char *method;
    const char *path;
    const char *query;
    camrtc_kv extra[4]; /* besides Host and X-Amz-Date */
    const char *body;
    const char *token;
    const char *authorization;
} suite_case;

static const suite_case suite[] = {
    {"get-vanilla", "GET", "/", NULL, {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"post-vanilla", "POST", "/", NULL, {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"get-vanilla-empty-query-key", "GET", "/", "Param1=value1", {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
    {"get-vanilla-query-unreserved", "GET", "/",
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
    {"get-vanilla-utf8-query (as on the wire)", "GET", "/", "%E1%88%B4=bar", {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"get-vanilla-utf8-query (raw bytes)", "GET", "/", "\xe1\x88\xb4=bar", {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", NULL,
     {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"get-slashes-normalized", "GET", "//example//", NULL, {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
    {"get-space-normalized", "GET", "/example space/", NULL, {{0}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;x-amz-date, "
                "Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
    {"get-header-value-trim", "GET", "/", NULL,
     {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
                "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"get-header-key-duplicate", "GET", "/", NULL,
     {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}, NULL, NULL,
     SUITE_CRED "SignedHeaders=host;my-header1;x-amz-date, "
                "Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-vanilla-with-session-token", "GET", "/", NULL, {{0}}, NULL,
     "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
     SUITE_CRED "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},
    {"post-x-www-form-urlencoded", "POST", "/", NULL, {{"Content-Type", "application/x-www-form-urlencoded"}},
     "Param1=value1", NULL,
     SUITE_CRED "SignedHeaders=content-type;host;x-amz-date, "
                "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
    {"post-x-www-form-urlencoded (content-sha256 variant)", "POST", "/", NULL,
     {{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "13"},
      {"x-amz-content-sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"}},
     "Param1=value1", NULL,
     SUITE_CRED "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, "
                "Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"},
};

TEST(aws_suite_sign_and_verify)
{
    for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++) {
        const suite_case *c = &suite[i];
        camrtc_kv h[8];
        size_t n = 0;
        h[n++] = (camrtc_kv){"Host", "example.amazonaws.com"};
        for (size_t k = 0; k < 4 && c->extra[k].name; k++)
            h[n++] = c->extra[k];
        h[n++] = (camrtc_kv){"X-Amz-Date", SUITE_DATE};
        camrtc_aws_creds cr = {AKID, SECRET, c->token};
        camrtc_sigv4_request req = {c->method, c->path, c->query, h, n, (const uint8_t *)c->body,
                                    c->body ? strlen(c->body) : 0};
        camrtc_sigv4_signature sig;
        int rc = camrtc_sigv4_sign(&req, &cr, "us-east-1", "service", amz(SUITE_DATE), &sig);
        if (rc != CAMRTC_OK || strcmp(sig.authorization, c->authorization) != 0)
            fprintf(stderr, "suite case %s\n", c->name);
        CHECK_EQ_INT(rc, CAMRTC_OK);
        CHECK_EQ_STR(sig.authorization, c->authorization);

        /* The verifier accepts the request as the suite shows it signed. */
        if (c->token)
            h[n++] = (camrtc_kv){"X-Amz-Security-Token", c->token};
        h[n++] = (camrtc_kv){"Authorization", c->authorization};
        req.headers = h;
        req.n_headers = n;
        camrtc_sigv4_verify_config cfg = {&cr, "us-east-1", "service", amz(SUITE_DATE), 300, 604800};
        camrtc_sigv4_verify_result res;
        rc = camrtc_sigv4_verify(&req, &cfg, &res);
        if (rc != CAMRTC_OK)
            fprintf(stderr, "suite case %s: %s\n", c->name, res.message);
        CHECK_EQ_INT(rc, CAMRTC_OK);
    }
}

TEST(aws_suite_presigned_query_verifies)
{
    /* get-vanilla-query-order-key-case, query-signed-request.txt: the auth
     * parameters are in signing order, not sorted, and the signature is not last
     * of the sorted set: verify() must not care. */
    camrtc_kv h[] = {{"Host", "example.amazonaws.com"}};
    camrtc_sigv4_request req = {
        "GET", "/",
        "Param2=value2&Param1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2F"
        "us-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires="
        "3600&X-Amz-Signature=86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5",
        h, 1, NULL, 0};
    camrtc_sigv4_verify_config cfg = {&creds_plain, "us-east-1", "service", amz(SUITE_DATE) + 1800, 300, 604800};
    camrtc_sigv4_verify_result res;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);
    cfg.now = amz(SUITE_DATE) + 3601;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_EEXPIRED);
}

/* Signatures of two requests that must canonicalise the same way. */
static int same_signature(const char *q1, const char *p1, const char *q2, const char *p2)
{
    camrtc_kv h[] = {{"Host", "example.amazonaws.com"}};
    camrtc_sigv4_request a = {"GET", p1, q1, h, 1, NULL, 0}, b = {"GET", p2, q2, h, 1, NULL, 0};
    camrtc_sigv4_signature sa, sb;
    if (camrtc_sigv4_sign(&a, &creds_plain, "us-east-1", "service", 0, &sa) != 0 ||
        camrtc_sigv4_sign(&b, &creds_plain, "us-east-1", "service", 0, &sb) != 0)
        return -1;
    return strcmp(sa.authorization, sb.authorization) == 0;
}

TEST(canonical_forms)
{
    /* '+' is a literal plus (%2B), not a space. */
    CHECK_EQ_INT(same_signature("a=b+c", "/", "a=b%2Bc", "/"), 1);
    CHECK_EQ_INT(same_signature("a=b+c", "/", "a=b%20c", "/"), 0);
    /* No '=' means an empty value; empty pairs are ignored. */
    CHECK_EQ_INT(same_signature("a&b=1", "/", "b=1&&a=", "/"), 1);
    /* Lowercase escapes and needless escapes are normalised. */
    CHECK_EQ_INT(same_signature("k=%7e%2f", "/", "k=~/", "/"), 1);
    /* Same name: ordered by value. */
    CHECK_EQ_INT(same_signature("a=2&a=1", "/", "a=1&a=2", "/"), 1);
    /* Paths: dot segments resolved, the wire encoding encoded again. */
    CHECK_EQ_INT(same_signature(NULL, "/a/./b/../c", NULL, "/a/c"), 1);
    CHECK_EQ_INT(same_signature(NULL, "/a%20b", NULL, "/a b"), 0);
    CHECK_EQ_INT(same_signature(NULL, "", NULL, "/"), 1);
    CHECK_EQ_INT(same_signature(NULL, "/a/", NULL, "/a"), 0);
}

TEST(sign_rejects_bad_input)
{
    camrtc_kv h[] = {{"Host", "h"}, {"x-amz-date", "20000101T000000Z"}};
    camrtc_kv bad_name[] = {{"Host", "h"}, {"Bad Name", "v"}};
    camrtc_sigv4_request req = {"GET", "/", NULL, h, 1, NULL, 0};
    camrtc_sigv4_signature sig;
    CHECK_EQ_INT(camrtc_sigv4_sign(&req, &creds_plain, "us-east-1", "service", 0, &sig), CAMRTC_OK);
    req.n_headers = 0; /* no host */
    CHECK_EQ_INT(camrtc_sigv4_sign(&req, &creds_plain, "us-east-1", "service", 0, &sig), CAMRTC_EINVAL);
    req.n_headers = 2; /* x-amz-date disagrees with now */
    CHECK_EQ_INT(camrtc_sigv4_sign(&req, &creds_plain, "us-east-1", "service", 0, &sig), CAMRTC_EINVAL);
    req.headers = bad_name;
    CHECK_EQ_INT(camrtc_sigv4_sign(&req, &creds_plain, "us-east-1", "service", 0, &sig), CAMRTC_EINVAL);
    req.headers = h;
    req.n_headers = 1;
    CHECK_EQ_INT(camrtc_sigv4_sign(&req, &creds_plain, "us/east", "service", 0, &sig), CAMRTC_EINVAL);
    camrtc_aws_creds nokey = {NULL, SECRET, NULL};
    CHECK_EQ_INT(camrtc_sigv4_sign(&req, &nokey, "us-east-1", "service", 0, &sig), CAMRTC_EINVAL);

    camrtc_buf out = {0};
    CHECK_EQ_INT(camrtc_sigv4_presign_url("wss://h/", &creds_plain, "r", "s", 0, 0, &out), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigv4_presign_url("wss://h/", &creds_plain, "r", "s", 0, 604801, &out), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigv4_presign_url("h/path", &creds_plain, "r", "s", 0, 60, &out), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigv4_presign_url("wss://u@h/", &creds_plain, "r", "s", 0, 60, &out), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigv4_presign_url("wss://h/#f", &creds_plain, "r", "s", 0, 60, &out), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigv4_presign_url("wss://h/?X-Amz-Signature=1", &creds_plain, "r", "s", 0, 60, &out),
                 CAMRTC_EINVAL);
    CHECK_EQ_INT((int)out.len, 0);
    camrtc_buf_free(&out);
}

/* ---- (c) verify() refusals ------------------------------------------------------------ */

#define BODY "{\"ChannelName\":\"lab-channel\"}"
#define T0 "20240102T030405Z"

/* A header-signed request that can be altered after signing. */
typedef struct signed_req {
    camrtc_kv h[16];
    size_t n;
    char authz[1024];
    char date[17];
    const char *body;
    const char *path;
    const char *query;
} signed_req;

static int make_signed(signed_req *s, const camrtc_aws_creds *c, const char *region, const char *service,
                       int64_t now)
{
    memset(s, 0, sizeof *s);
    s->body = BODY;
    s->path = "/describeSignalingChannel";
    s->h[s->n++] = (camrtc_kv){"Host", "kinesisvideo.us-west-2.amazonaws.com"};
    s->h[s->n++] = (camrtc_kv){"Content-Type", "application/json"};
    s->h[s->n++] = (camrtc_kv){"User-Agent", "camrtc-test"};
    camrtc_sigv4_request req = {"POST", s->path, NULL, s->h, s->n, (const uint8_t *)s->body, strlen(s->body)};
    camrtc_sigv4_signature sig;
    int rc = camrtc_sigv4_sign(&req, c, region, service, now, &sig);
    if (rc < 0)
        return rc;
    memcpy(s->authz, sig.authorization, sizeof s->authz);
    memcpy(s->date, sig.amz_date, sizeof s->date);
    s->h[s->n++] = (camrtc_kv){"X-Amz-Date", s->date};
    if (c->session_token && *c->session_token)
        s->h[s->n++] = (camrtc_kv){"X-Amz-Security-Token", c->session_token};
    s->h[s->n++] = (camrtc_kv){"Authorization", s->authz};
    return CAMRTC_OK;
}

static camrtc_sigv4_request as_request(const signed_req *s)
{
    return (camrtc_sigv4_request){"POST", s->path, s->query, s->h, s->n, (const uint8_t *)s->body,
                                  strlen(s->body)};
}

static camrtc_kv *find_header(signed_req *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcasecmp(s->h[i].name, name) == 0)
            return &s->h[i];
    return NULL;
}

static void drop_header(signed_req *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcasecmp(s->h[i].name, name) == 0) {
            memmove(&s->h[i], &s->h[i + 1], (s->n - i - 1) * sizeof s->h[0]);
            s->n--;
            return;
        }
}

/* verify() with cfg; checks code, status, type, that the message holds want
 * (when given) and never the secret or the request's true signature. */
static int expect(const camrtc_sigv4_request *req, const camrtc_sigv4_verify_config *cfg, int want_rc,
                  int status, const char *type, const char *want, const char *true_sig)
{
    camrtc_sigv4_verify_result res;
    int rc = camrtc_sigv4_verify(req, cfg, &res);
    bool ok = rc == want_rc && res.http_status == status && res.error_type && strcmp(res.error_type, type) == 0 &&
              (!want || strstr(res.message, want)) && !strstr(res.message, SECRET) &&
              (!true_sig || !strstr(res.message, true_sig));
    if (!ok)
        fprintf(stderr, "  got rc=%d status=%d type=%s message=\"%s\"\n", rc, res.http_status,
                res.error_type ? res.error_type : "(null)", res.message);
    return ok;
}

#define MISMATCH "The request signature we calculated does not match the signature you provided."

TEST(verify_refuses_bad_signatures_and_keys)
{
    int64_t t0 = amz(T0);
    static signed_req s;
    CHECK_EQ_INT(make_signed(&s, &creds_token, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    const char *sig = strstr(s.authz, "Signature=") + 10;
    char true_sig[65];
    memcpy(true_sig, sig, 65);
    camrtc_sigv4_request req = as_request(&s);
    camrtc_sigv4_verify_config cfg = vcfg(&creds_token, "us-west-2", t0);
    camrtc_sigv4_verify_result res;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);

    /* tampered signature */
    s.authz[strlen(s.authz) - 1] ^= 1;
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, true_sig));
    s.authz[strlen(s.authz) - 1] ^= 1;
    /* a signature of the wrong length or case */
    char saved[1024];
    memcpy(saved, s.authz, sizeof saved);
    strcat(s.authz, "00");
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, true_sig));
    memcpy(s.authz, saved, sizeof saved);
    for (char *p = strstr(s.authz, "Signature=") + 10; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, true_sig));
    memcpy(s.authz, saved, sizeof saved);

    /* wrong secret */
    camrtc_aws_creds other_secret = {AKID, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ", TOKEN};
    cfg.creds = &other_secret;
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, true_sig));
    /* wrong access key id */
    camrtc_aws_creds other_key = {"AKIDOTHER", SECRET, TOKEN};
    cfg.creds = &other_key;
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "UnrecognizedClientException",
                 "The security token included in the request is invalid.", true_sig));
    cfg.creds = &creds_token;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);
}

TEST(verify_refuses_wrong_scope)
{
    int64_t t0 = amz(T0);
    static signed_req s;
    camrtc_sigv4_verify_config cfg = vcfg(&creds_token, "us-west-2", t0);
    CHECK_EQ_INT(make_signed(&s, &creds_token, "us-east-1", "kinesisvideo", t0), CAMRTC_OK);
    camrtc_sigv4_request req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException",
                 "Credential should be scoped to a valid region", NULL));
    CHECK_EQ_INT(make_signed(&s, &creds_token, "us-west-2", "s3", t0), CAMRTC_OK);
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException",
                 "Credential should be scoped to correct service: 'kinesisvideo'", NULL));
    /* scope date other than X-Amz-Date's */
    CHECK_EQ_INT(make_signed(&s, &creds_token, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    req = as_request(&s);
    char *d = strstr(s.authz, "/20240102/");
    CHECK(d != NULL);
    memcpy(d + 1, "20240101", 8);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", "Date in Credential scope", NULL));
    memcpy(d + 1, "20240102", 8);
    char *term = strstr(s.authz, "aws4_request");
    memcpy(term, "aws5", 4);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", "valid terminator", NULL));
}

TEST(verify_refuses_skewed_dates)
{
    int64_t t0 = amz(T0);
    static signed_req s;
    CHECK_EQ_INT(make_signed(&s, &creds_token, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    camrtc_sigv4_request req = as_request(&s);
    camrtc_sigv4_verify_result res;
    camrtc_sigv4_verify_config cfg = vcfg(&creds_token, "us-west-2", t0 + 600);
    CHECK(expect(&req, &cfg, CAMRTC_EEXPIRED, 403, "InvalidSignatureException",
                 "Signature expired: 20240102T030405Z is now earlier than 20240102T030905Z "
                 "(20240102T031405Z - 5 min.)", NULL));
    cfg.now = t0 - 600;
    CHECK(expect(&req, &cfg, CAMRTC_EEXPIRED, 403, "InvalidSignatureException",
                 "Signature not yet current: 20240102T030405Z is still later than", NULL));
    cfg.now = t0 + 300;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);
    cfg.now = t0 - 300;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);
    cfg.now = t0 + 301;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_EEXPIRED);
}

TEST(verify_session_token_rules)
{
    int64_t t0 = amz(T0);
    static signed_req s;
    camrtc_sigv4_verify_config cfg = vcfg(&creds_token, "us-west-2", t0);
    /* required but missing */
    CHECK_EQ_INT(make_signed(&s, &creds_plain, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    camrtc_sigv4_request req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "UnrecognizedClientException",
                 "The security token included in the request is invalid.", NULL));
    /* a different token, correctly signed */
    camrtc_aws_creds other = {AKID, SECRET, "FQoGZXIvYXdzEXAMPLETOKEM"};
    CHECK_EQ_INT(make_signed(&s, &other, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "UnrecognizedClientException", NULL, NULL));
    /* a token that is a prefix of the right one */
    camrtc_aws_creds prefix = {AKID, SECRET, "FQoGZXIvYXdz"};
    CHECK_EQ_INT(make_signed(&s, &prefix, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "UnrecognizedClientException", NULL, NULL));
    /* no token configured: the carried token is only signed */
    cfg.creds = &creds_plain;
    camrtc_sigv4_verify_result res;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);
    /* ...and changing it breaks the signature */
    find_header(&s, "x-amz-security-token")->value = "FQoGZXIvYXdzEXAMPLETOKEN";
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
}

TEST(verify_refuses_tampering_after_signing)
{
    int64_t t0 = amz(T0);
    static signed_req s;
    camrtc_sigv4_verify_config cfg = vcfg(&creds_token, "us-west-2", t0);
    camrtc_sigv4_verify_result res;
    CHECK_EQ_INT(make_signed(&s, &creds_token, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    camrtc_sigv4_request req = as_request(&s);
    /* What canonicalisation forgives: header name case, extra whitespace, unsigned headers. */
    find_header(&s, "content-type")->name = "CONTENT-TYPE";
    find_header(&s, "content-type")->value = "  application/json ";
    find_header(&s, "user-agent")->value = "something else";
    s.h[s.n++] = (camrtc_kv){"X-Forwarded-For", "10.0.0.1"};
    req = as_request(&s);
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);
    /* a signed header changed */
    find_header(&s, "content-type")->value = "text/plain";
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    find_header(&s, "content-type")->value = "application/json";
    /* a signed header repeated */
    s.h[s.n++] = (camrtc_kv){"content-type", "application/json"};
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    s.n--;
    /* a signed header removed */
    drop_header(&s, "content-type");
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    CHECK_EQ_INT(make_signed(&s, &creds_token, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    req = as_request(&s);
    /* body */
    s.body = "{\"ChannelName\":\"lab-channeL\"}";
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    s.body = BODY;
    /* path and query */
    s.path = "/deleteSignalingChannel";
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    s.path = "/describeSignalingChannel";
    s.query = "x=1";
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    s.query = NULL;
    /* method */
    req = as_request(&s);
    req.method = "PUT";
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    req = as_request(&s);
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);
}

TEST(verify_refuses_malformed_authorization)
{
    int64_t t0 = amz(T0);
    static signed_req s;
    camrtc_sigv4_verify_config cfg = vcfg(&creds_token, "us-west-2", t0);
    CHECK_EQ_INT(make_signed(&s, &creds_token, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    camrtc_sigv4_request req = as_request(&s);
    camrtc_kv *authz = find_header(&s, "authorization");
    const char *sig = strstr(s.authz, "Signature=");
#define CRED "Credential=AKIDEXAMPLE/20240102/us-west-2/kinesisvideo/aws4_request"
    static const struct {
        const char *value;
        const char *want;
    } bad[] = {
        {"", "Unsupported AWS 'algorithm'"},
        {"Bearer abc", "Unsupported AWS 'algorithm'"},
        {"AWS4-HMAC-SHA1 " CRED ", SignedHeaders=host, Signature=00", "Unsupported AWS 'algorithm'"},
        {"AWS4-HMAC-SHA256", "requires 'Credential'"},
        {"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", "requires 'Credential'"},
        {"AWS4-HMAC-SHA256 " CRED ", Signature=00", "requires 'SignedHeaders'"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host", "requires 'Signature'"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=00, Signature=00", "repeats"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=00, Extra=1", "unknown element"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature", "not of the form key=value"},
        {"AWS4-HMAC-SHA256 " CRED ",, SignedHeaders=host, Signature=00", "not of the form key=value"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-west-2/kinesisvideo, SignedHeaders=host, "
         "Signature=00", "exactly 5 slash-delimited elements"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-west-2/kinesisvideo/aws4_request/x, "
         "SignedHeaders=host, Signature=00", "exactly 5 slash-delimited elements"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE//us-west-2/kinesisvideo/aws4_request, "
         "SignedHeaders=host, Signature=00", "exactly 5 slash-delimited elements"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=x-amz-date, Signature=00", "must be a 'SignedHeader'"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=, Signature=00", "lowercase header names"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=Host;x-amz-date, Signature=00", "lowercase header names"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=x-amz-date;host, Signature=00", "sorted"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;host, Signature=00", "sorted"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;;x-amz-date, Signature=00", "lowercase header names"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        authz->value = bad[i].value;
        if (!expect(&req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", bad[i].want, NULL))
            fprintf(stderr, "  for Authorization: %s\n", bad[i].value);
        CHECK(expect(&req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", bad[i].want, NULL));
    }
    /* Without spaces after the commas it is still well-formed. */
    static char compact[1024];
    snprintf(compact, sizeof compact, "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=content-type;host;x-amz-date;"
             "x-amz-security-token,%s", sig);
    authz->value = compact;
    camrtc_sigv4_verify_result res;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_OK);
    authz->value = s.authz;

    /* X-Amz-Date missing, malformed, repeated */
    camrtc_kv *date = find_header(&s, "x-amz-date");
    date->value = "2024-01-02T03:04:05Z";
    CHECK(expect(&req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "ISO-8601", NULL));
    date->value = "20240132T030405Z";
    CHECK(expect(&req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "ISO-8601", NULL));
    date->value = s.date;
    s.h[s.n++] = (camrtc_kv){"x-amz-date", s.date};
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "X-Amz-Date", NULL));
    s.n--;
    drop_header(&s, "x-amz-date");
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "X-Amz-Date", NULL));

    /* Two Authorization headers; none at all. */
    CHECK_EQ_INT(make_signed(&s, &creds_token, "us-west-2", "kinesisvideo", t0), CAMRTC_OK);
    s.h[s.n++] = (camrtc_kv){"authorization", s.authz};
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "Only one", NULL));
    s.n--;
    drop_header(&s, "authorization");
    req = as_request(&s);
    CHECK(expect(&req, &cfg, CAMRTC_EAUTH, 403, "MissingAuthenticationTokenException",
                 "Missing Authentication Token", NULL));
    camrtc_sigv4_request bare = {"GET", "/", NULL, NULL, 0, NULL, 0};
    CHECK(expect(&bare, &cfg, CAMRTC_EAUTH, 403, "MissingAuthenticationTokenException",
                 "Missing Authentication Token", NULL));
}

/* Presign query (without signature) by hand, so tests can sign parameters that
 * presign_url() refuses to produce. */
static void hand_presign(const char *cq, const char *host, const char *date, char sig[65])
{
    char creq[2048], sts[512], hash[CAMRTC_SHA256_HEX_SIZE], key[128];
    snprintf(creq, sizeof creq, "GET\n/\n%s\nhost:%s\n\nhost\n" EMPTY_SHA, cq, host);
    camrtc_sha256_hex(creq, strlen(creq), hash);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%.8s/us-west-2/kinesisvideo/aws4_request\n%s", date, date,
             hash);
    uint8_t k1[32], k2[32];
    snprintf(key, sizeof key, "AWS4%s", SECRET);
    camrtc_hmac_sha256(key, strlen(key), date, 8, k1);
    camrtc_hmac_sha256(k1, 32, "us-west-2", 9, k2);
    camrtc_hmac_sha256(k2, 32, "kinesisvideo", 12, k1);
    camrtc_hmac_sha256(k1, 32, "aws4_request", 12, k2);
    camrtc_hmac_sha256(k2, 32, sts, strlen(sts), k1);
    camrtc_hex_encode(k1, 32, sig, 65);
}

static void hand_query(char *out, size_t outsz, const char *expires, const char *signed_headers)
{
    char cq[1024], sig[65];
    snprintf(cq, sizeof cq,
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%%2F20240102%%2Fus-west-2%%2F"
             "kinesisvideo%%2Faws4_request&X-Amz-Date=" T0 "&X-Amz-Expires=%s&X-Amz-SignedHeaders=%s",
             expires, signed_headers);
    hand_presign(cq, "example.com", T0, sig);
    snprintf(out, outsz, "%s&X-Amz-Signature=%s", cq, sig);
}

TEST(verify_presigned_refusals)
{
    int64_t t0 = amz(T0);
    camrtc_buf url = {0};
    CHECK_EQ_INT(camrtc_sigv4_presign_url("wss://example.com/?X-Amz-ChannelARN=" ARN_RAW, &creds_token,
                                          "us-west-2", "kinesisvideo", t0, 299, &url), CAMRTC_OK);
    static url_req u;
    url_to_request(camrtc_buf_cstr(&url), &u);
    camrtc_buf_free(&url);
    camrtc_sigv4_verify_config cfg = vcfg(&creds_token, "us-west-2", t0);
    camrtc_sigv4_verify_result res;
    CHECK_EQ_INT(camrtc_sigv4_verify(&u.req, &cfg, &res), CAMRTC_OK);
    /* expired, and used too early */
    cfg.now = t0 + 300;
    CHECK(expect(&u.req, &cfg, CAMRTC_EEXPIRED, 403, "InvalidSignatureException", "Signature expired", NULL));
    CHECK(expect(&u.req, &cfg, CAMRTC_EEXPIRED, 403, "InvalidSignatureException", "Request has expired", NULL));
    cfg.now = t0 - 301;
    CHECK(expect(&u.req, &cfg, CAMRTC_EEXPIRED, 403, "InvalidSignatureException", "not yet current", NULL));
    cfg.now = t0;
    /* host changed, ARN changed, signature tampered */
    u.h[0].value = "example.org";
    CHECK(expect(&u.req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    u.h[0].value = u.host;
    char *arn = strstr(u.query, "lab-channel");
    arn[0] = 'L';
    CHECK(expect(&u.req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    arn[0] = 'l';
    char *sig = strstr(u.query, "X-Amz-Signature=") + 16;
    sig[0] = sig[0] == '0' ? '1' : '0';
    CHECK(expect(&u.req, &cfg, CAMRTC_EAUTH, 403, "InvalidSignatureException", MISMATCH, NULL));
    /* token removed from the query: required, so refused */
    char *tok = strstr(u.query, "&X-Amz-Security-Token=");
    memmove(tok, tok + 22 + strlen(TOKEN), strlen(tok + 22 + strlen(TOKEN)) + 1);
    CHECK(expect(&u.req, &cfg, CAMRTC_EAUTH, 403, "UnrecognizedClientException", NULL, NULL));

    /* X-Amz-Expires out of range, correctly signed: 400 */
    static url_req h;
    char q[1200];
    cfg.creds = &creds_plain;
    hand_query(q, sizeof q, "299", "host");
    url_to_request("wss://example.com/", &h);
    h.req.query = q;
    CHECK_EQ_INT(camrtc_sigv4_verify(&h.req, &cfg, &res), CAMRTC_OK); /* the hand signer is right */
    hand_query(q, sizeof q, "0", "host");
    CHECK(expect(&h.req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "X-Amz-Expires", NULL));
    hand_query(q, sizeof q, "604801", "host");
    CHECK(expect(&h.req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "X-Amz-Expires", NULL));
    cfg.max_expires_s = 700000; /* proves the bound, not the signature, refused it */
    CHECK_EQ_INT(camrtc_sigv4_verify(&h.req, &cfg, &res), CAMRTC_OK);
    cfg.max_expires_s = 604800;
    hand_query(q, sizeof q, "-1", "host");
    CHECK(expect(&h.req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "X-Amz-Expires", NULL));
    hand_query(q, sizeof q, "12x", "host");
    CHECK(expect(&h.req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "X-Amz-Expires", NULL));
    /* SignedHeaders without host, correctly signed */
    hand_query(q, sizeof q, "299", "upgrade");
    CHECK(expect(&h.req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "must be a 'SignedHeader'",
                 NULL));
    /* a missing or repeated auth parameter */
    hand_query(q, sizeof q, "299", "host");
    char *alg = strstr(q, "X-Amz-Algorithm=");
    memcpy(alg, "X-Amz-Algorithx=", 16);
    CHECK(expect(&h.req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "must include", NULL));
    memcpy(alg, "X-Amz-Algorithm=", 16);
    strcat(q, "&X-Amz-Date=" T0);
    CHECK(expect(&h.req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "must include", NULL));
    /* wrong algorithm */
    static char q2[1300];
    hand_query(q, sizeof q, "299", "host");
    snprintf(q2, sizeof q2, "%s", q);
    memcpy(strstr(q2, "SHA256"), "SHA384", 6);
    h.req.query = q2;
    CHECK(expect(&h.req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "algorithm", NULL));
    /* both mechanisms at once */
    h.req.query = q;
    camrtc_kv both[] = {{"Host", "example.com"}, {"Authorization", "AWS4-HMAC-SHA256 x"}};
    h.req.headers = both;
    h.req.n_headers = 2;
    CHECK(expect(&h.req, &cfg, CAMRTC_EPROTO, 400, "IncompleteSignatureException", "Only one auth mechanism",
                 NULL));
}

TEST(verify_rejects_bad_config)
{
    camrtc_kv h[] = {{"Host", "h"}};
    camrtc_sigv4_request req = {"GET", "/", NULL, h, 1, NULL, 0};
    camrtc_sigv4_verify_config cfg = vcfg(NULL, "us-west-2", 0);
    camrtc_sigv4_verify_result res;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_EINVAL);
    cfg = vcfg(&creds_plain, NULL, 0);
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_EINVAL);
    cfg = vcfg(&creds_plain, "us-west-2", 0);
    cfg.max_skew_s = -1;
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, &res), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigv4_verify(NULL, &cfg, &res), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigv4_verify(&req, &cfg, NULL), CAMRTC_EINVAL);
}

int main(void)
{
    return RUN_TESTS(kvs_rest_vectors_sign_byte_identical, kvs_rest_vectors_verify,
                     kvs_presigned_urls_byte_identical, kvs_presigned_urls_verify, aws_suite_sign_and_verify,
                     aws_suite_presigned_query_verifies, canonical_forms, sign_rejects_bad_input,
                     verify_refuses_bad_signatures_and_keys, verify_refuses_wrong_scope, verify_refuses_skewed_dates,
                     verify_session_token_rules, verify_refuses_tampering_after_signing,
                     verify_refuses_malformed_authorization, verify_presigned_refusals, verify_rejects_bad_config);
}
