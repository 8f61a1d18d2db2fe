#include "check.h"

#include <stdbool.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/sha1.h>

#include "camrtc/error.h"
#include "server/control.h"
#include "server/store.h"

#define REGION "us-west-2"
#define ACCOUNT "123456789012"
#define T0 INT64_C(1700000000123)
#define ARN_PREFIX "arn:aws:kinesisvideo:us-west-2:123456789012:channel/"
#define NOT_FOUND "The requested channel is not found or not active."

static const char *const turn_urls[] = {
    "turn:127.0.0.1:3478?transport=udp", "turns:127.0.0.1:5349?transport=tcp",
    "turn:10.0.0.1:3478?transport=udp", "turn:10.0.0.1:3478?transport=tcp",
    "turn:10.0.0.2:3478?transport=udp", "turn:10.0.0.2:3478?transport=tcp",
};
static const char *const stun_urls[] = {"stun:127.0.0.1:3478"};

static sig_control_config base_config(void)
{
    sig_control_config cfg = {
        .region = REGION,
        .wss_endpoint = "wss://127.0.0.1:8443",
        .https_endpoint = "https://127.0.0.1:8443",
        .ice = {.stun_urls = stun_urls, .n_stun = 1, .turn_urls = turn_urls, .n_turn = 2,
                .turn_secret = "s3cret", .ttl_s = 300},
    };
    return cfg;
}

/* One call: parses the reply body into *json (caller deletes). */
typedef struct call {
    sig_reply reply;
    cJSON *json;
    char deleted[512];
} call;

static void do_call(call *c, sig_store *s, const sig_control_config *cfg, const char *path, const char *body,
                    int64_t now_ms)
{
    cJSON_Delete(c->json);
    c->json = NULL;
    sig_control_handle(s, cfg, path, (const uint8_t *)body, body ? strlen(body) : 0, now_ms, &c->reply, c->deleted,
                       sizeof c->deleted);
    c->json = cJSON_ParseWithLength((const char *)camrtc_buf_data(&c->reply.body), c->reply.body.len);
}

static void call_free(call *c)
{
    cJSON_Delete(c->json);
    camrtc_buf_free(&c->reply.body);
    memset(c, 0, sizeof *c);
}

static const char *jstr(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* True when the reply is an AWS error of that status and type with both message keys. */
static bool is_error(const call *c, int status, const char *type)
{
    if (c->reply.status != status || !c->reply.error_type || strcmp(c->reply.error_type, type) != 0 || !c->json)
        return false;
    const char *m = jstr(c->json, "message"), *M = jstr(c->json, "Message");
    if (!m || !M || strcmp(m, M) != 0 || !*m || cJSON_GetArraySize(c->json) != 2) {
        fprintf(stderr, "  bad error body: %.*s\n", (int)c->reply.body.len, (const char *)camrtc_buf_data(&c->reply.body));
        return false;
    }
    return true;
}

static bool check_error(const call *c, int status, const char *type)
{
    bool ok = is_error(c, status, type);
    if (!ok)
        fprintf(stderr, "  expected %d %s, got %d %s: %.*s\n", status, type, c->reply.status,
                c->reply.error_type ? c->reply.error_type : "(none)", (int)c->reply.body.len,
                (const char *)camrtc_buf_data(&c->reply.body));
    return ok;
}

static sig_store *new_store(void)
{
    return sig_store_new(REGION, ACCOUNT, NULL, NULL);
}

TEST(create_and_describe_shapes)
{
    sig_store *s = new_store();
    sig_control_config cfg = base_config();
    call c = {0};
    do_call(&c, s, &cfg, "/createSignalingChannel",
            "{\"ChannelName\":\"lab-channel\",\"ChannelType\":\"SINGLE_MASTER\","
            "\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":60}}", T0);
    CHECK_EQ_INT(c.reply.status, 200);
    CHECK(c.reply.error_type == NULL);
    CHECK(cJSON_IsObject(c.json));
    CHECK_EQ_INT(cJSON_GetArraySize(c.json), 1);
    CHECK_EQ_STR(jstr(c.json, "ChannelARN"), ARN_PREFIX "lab-channel/1700000000123");
    const sig_channel *ch = sig_store_find_name(s, "lab-channel");
    CHECK(ch);

    const char *bodies[] = {"{\"ChannelName\":\"lab-channel\"}",
                            "{\"ChannelARN\":\"" ARN_PREFIX "lab-channel/1700000000123\"}"};
    for (int i = 0; i < 2; i++) {
        do_call(&c, s, &cfg, "/describeSignalingChannel", bodies[i], T0 + 5000);
        CHECK_EQ_INT(c.reply.status, 200);
        CHECK(c.reply.error_type == NULL);
        CHECK_EQ_INT(cJSON_GetArraySize(c.json), 1);
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(c.json, "ChannelInfo");
        CHECK(cJSON_IsObject(info));
        CHECK_EQ_INT(cJSON_GetArraySize(info), 7);
        CHECK_EQ_STR(jstr(info, "ChannelName"), "lab-channel");
        CHECK_EQ_STR(jstr(info, "ChannelARN"), ch->arn);
        CHECK_EQ_STR(jstr(info, "ChannelType"), "SINGLE_MASTER");
        CHECK_EQ_STR(jstr(info, "ChannelStatus"), "ACTIVE");
        CHECK_EQ_STR(jstr(info, "Version"), ch->version);
        CHECK(jnum(info, "CreationTime") == 1700000000.123);
        /* seconds with the millisecond fraction, written exactly */
        CHECK(strstr(camrtc_buf_cstr(&c.reply.body), "\"CreationTime\":1700000000.123,") != NULL);
        const cJSON *smc = cJSON_GetObjectItemCaseSensitive(info, "SingleMasterConfiguration");
        CHECK(cJSON_IsObject(smc));
        CHECK(jnum(smc, "MessageTtlSeconds") == 60);
    }
    /* defaults: no type, no configuration; whole seconds keep three decimals */
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"plain\"}", INT64_C(1700000001000));
    CHECK_EQ_INT(c.reply.status, 200);
    do_call(&c, s, &cfg, "/describeSignalingChannel", "{\"ChannelName\":\"plain\"}", T0);
    CHECK(strstr(camrtc_buf_cstr(&c.reply.body), "\"CreationTime\":1700000001.000,") != NULL);
    CHECK(jnum(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c.json, "ChannelInfo"),
                                                "SingleMasterConfiguration"), "MessageTtlSeconds") == 60);
    /* tags are accepted and kept */
    do_call(&c, s, &cfg, "/createSignalingChannel",
            "{\"ChannelName\":\"tagged\",\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":5},"
            "\"Tags\":[{\"Key\":\"site\",\"Value\":\"lab \\\"2\\\"\"},{\"Key\":\"e\",\"Value\":\"\"}]}", T0);
    CHECK_EQ_INT(c.reply.status, 200);
    ch = sig_store_find_name(s, "tagged");
    CHECK(ch);
    CHECK_EQ_INT(ch->msg_ttl_s, 5);
    CHECK_EQ_INT(ch->n_tags, 2);
    CHECK_EQ_STR(ch->tags[0].value, "lab \"2\"");
    call_free(&c);
    sig_store_free(s);
}

TEST(create_errors)
{
    sig_store *s = new_store();
    sig_control_config cfg = base_config();
    call c = {0};
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"dup\"}", T0);
    CHECK_EQ_INT(c.reply.status, 200);
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"dup\"}", T0);
    CHECK(check_error(&c, 400, "ResourceInUseException"));
    static const struct {
        const char *body;
        int status;
        const char *type;
    } bad[] = {
        {"{}", 400, "InvalidArgumentException"},
        {"{\"ChannelName\":null}", 400, "InvalidArgumentException"},
        {"{\"ChannelName\":\"\"}", 400, "InvalidArgumentException"},
        {"{\"ChannelName\":\"has space\"}", 400, "InvalidArgumentException"},
        {"{\"ChannelName\":\"slash/name\"}", 400, "InvalidArgumentException"},
        {"{\"ChannelName\":7}", 400, "SerializationException"},
        {"{\"ChannelName\":\"x\",\"ChannelType\":\"FULL_MESH\"}", 400, "InvalidArgumentException"},
        {"{\"ChannelName\":\"x\",\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":4}}", 400,
         "InvalidArgumentException"},
        {"{\"ChannelName\":\"x\",\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":121}}", 400,
         "InvalidArgumentException"},
        {"{\"ChannelName\":\"x\",\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":\"60\"}}", 400,
         "SerializationException"},
        {"{\"ChannelName\":\"x\",\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":60.5}}", 400,
         "SerializationException"},
        {"{\"ChannelName\":\"x\",\"SingleMasterConfiguration\":60}", 400, "SerializationException"},
        {"{\"ChannelName\":\"x\",\"Tags\":{}}", 400, "SerializationException"},
        {"{\"ChannelName\":\"x\",\"Tags\":[1]}", 400, "SerializationException"},
        {"{\"ChannelName\":\"x\",\"Tags\":[{\"Value\":\"v\"}]}", 400, "InvalidArgumentException"},
        {"{\"ChannelName\":\"x\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"},{\"Key\":\"k\",\"Value\":\"w\"}]}", 400,
         "InvalidArgumentException"},
        {"not json", 400, "SerializationException"},
        {"[\"ChannelName\"]", 400, "SerializationException"},
        {"\"x\"", 400, "SerializationException"},
        {"{\"ChannelName\":\"x\"} {}", 400, "SerializationException"},
        {"{\"ChannelName\":\"x\\u0000y\"}", 400, "SerializationException"},
        {"{\"ChannelName\":\"x", 400, "SerializationException"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        do_call(&c, s, &cfg, "/createSignalingChannel", bad[i].body, T0);
        if (!is_error(&c, bad[i].status, bad[i].type))
            fprintf(stderr, "  case %zu: %s\n", i, bad[i].body);
        CHECK(check_error(&c, bad[i].status, bad[i].type));
    }
    /* a raw NUL inside the body, which strlen-based callers would never see */
    static const char nul_body[] = "{\"ChannelName\":\"ab\0cd\"}";
    sig_control_handle(s, &cfg, "/createSignalingChannel", (const uint8_t *)nul_body, sizeof nul_body - 1, T0,
                       &c.reply, NULL, 0);
    CHECK_EQ_INT(c.reply.status, 400);
    CHECK_EQ_STR(c.reply.error_type, "SerializationException");
    CHECK(sig_store_find_name(s, "ab") == NULL);

    /* 51 tags */
    camrtc_buf b = {0};
    camrtc_buf_append_str(&b, "{\"ChannelName\":\"many\",\"Tags\":[");
    for (int i = 0; i < 51; i++)
        camrtc_buf_appendf(&b, "%s{\"Key\":\"k%d\",\"Value\":\"v\"}", i ? "," : "", i);
    camrtc_buf_append_str(&b, "]}");
    do_call(&c, s, &cfg, "/createSignalingChannel", camrtc_buf_cstr(&b), T0);
    camrtc_buf_free(&b);
    CHECK(check_error(&c, 400, "TagsPerResourceExceededLimitException"));
    CHECK_EQ_INT(sig_store_count(s), 1);
    call_free(&c);
    sig_store_free(s);
}

TEST(describe_errors)
{
    sig_store *s = new_store();
    sig_control_config cfg = base_config();
    call c = {0};
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"cam\"}", T0);
    do_call(&c, s, &cfg, "/describeSignalingChannel", "{}", T0);
    CHECK(check_error(&c, 400, "InvalidArgumentException"));
    do_call(&c, s, &cfg, "/describeSignalingChannel",
            "{\"ChannelName\":\"cam\",\"ChannelARN\":\"" ARN_PREFIX "cam/1700000000123\"}", T0);
    CHECK(check_error(&c, 400, "InvalidArgumentException"));
    do_call(&c, s, &cfg, "/describeSignalingChannel", "{\"ChannelName\":\"nope\"}", T0);
    CHECK(check_error(&c, 404, "ResourceNotFoundException"));
    CHECK_EQ_STR(jstr(c.json, "Message"), NOT_FOUND);
    /* the right name in another account or region is another channel */
    do_call(&c, s, &cfg, "/describeSignalingChannel",
            "{\"ChannelARN\":\"arn:aws:kinesisvideo:us-west-2:999999999999:channel/cam/1700000000123\"}", T0);
    CHECK(check_error(&c, 404, "ResourceNotFoundException"));
    do_call(&c, s, &cfg, "/describeSignalingChannel",
            "{\"ChannelARN\":\"arn:aws:kinesisvideo:eu-west-1:123456789012:channel/cam/1700000000123\"}", T0);
    CHECK(check_error(&c, 404, "ResourceNotFoundException"));
    do_call(&c, s, &cfg, "/describeSignalingChannel",
            "{\"ChannelARN\":\"" ARN_PREFIX "cam/1700000000124\"}", T0);
    CHECK(check_error(&c, 404, "ResourceNotFoundException"));
    static const char *malformed[] = {
        "{\"ChannelARN\":\"cam\"}",
        "{\"ChannelARN\":\"arn:aws:kinesisvideo:us-west-2:123456789012:channel/cam/\"}",
        "{\"ChannelARN\":\"arn:aws:kinesisvideo:us-west-2:1234a:channel/cam/1\"}",
        "{\"ChannelARN\":\"arn:aws:s3:us-west-2:123456789012:channel/cam/1\"}",
        "{\"ChannelARN\":\"arn:aws:kinesisvideo:us-west-2:123456789012:channel/c m/1\"}",
        "{\"ChannelARN\":\"\"}",
        "{\"ChannelName\":\"bad name\"}",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        do_call(&c, s, &cfg, "/describeSignalingChannel", malformed[i], T0);
        CHECK(check_error(&c, 400, "InvalidArgumentException"));
    }
    do_call(&c, s, &cfg, "/describeSignalingChannel", "{\"ChannelARN\":[]}", T0);
    CHECK(check_error(&c, 400, "SerializationException"));
    call_free(&c);
    sig_store_free(s);
}

TEST(delete_shapes_and_errors)
{
    sig_store *s = new_store();
    sig_control_config cfg = base_config();
    call c = {0};
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"cam\"}", T0);
    const char *arn = ARN_PREFIX "cam/1700000000123";
    char body[600];
    snprintf(body, sizeof body, "{\"ChannelARN\":\"%s\",\"CurrentVersion\":\"notTheVersion1\"}", arn);
    do_call(&c, s, &cfg, "/deleteSignalingChannel", body, T0);
    CHECK(check_error(&c, 400, "VersionMismatchException"));
    CHECK_EQ_STR(c.deleted, "");
    snprintf(body, sizeof body, "{\"ChannelARN\":\"%s\",\"CurrentVersion\":\"not-alnum\"}", arn);
    do_call(&c, s, &cfg, "/deleteSignalingChannel", body, T0);
    CHECK(check_error(&c, 400, "InvalidArgumentException"));
    do_call(&c, s, &cfg, "/deleteSignalingChannel", "{}", T0);
    CHECK(check_error(&c, 400, "InvalidArgumentException"));
    CHECK_EQ_INT(sig_store_count(s), 1);

    snprintf(body, sizeof body, "{\"ChannelARN\":\"%s\",\"CurrentVersion\":\"%s\"}", arn,
             sig_store_find_arn(s, arn)->version);
    do_call(&c, s, &cfg, "/deleteSignalingChannel", body, T0);
    CHECK_EQ_INT(c.reply.status, 200);
    CHECK(c.reply.error_type == NULL);
    CHECK(cJSON_IsObject(c.json) && cJSON_GetArraySize(c.json) == 0);
    CHECK_EQ_STR(c.deleted, arn);
    CHECK_EQ_INT(sig_store_count(s), 0);

    do_call(&c, s, &cfg, "/deleteSignalingChannel", body, T0);
    CHECK(check_error(&c, 404, "ResourceNotFoundException"));
    CHECK_EQ_STR(c.deleted, "");
    do_call(&c, s, &cfg, "/describeSignalingChannel", "{\"ChannelName\":\"cam\"}", T0);
    CHECK(check_error(&c, 404, "ResourceNotFoundException"));

    /* no version: whatever is current goes */
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"cam\"}", T0 + 1);
    snprintf(body, sizeof body, "{\"ChannelARN\":\"%s\"}", ARN_PREFIX "cam/1700000000124");
    do_call(&c, s, &cfg, "/deleteSignalingChannel", body, T0);
    CHECK_EQ_INT(c.reply.status, 200);
    CHECK_EQ_STR(c.deleted, ARN_PREFIX "cam/1700000000124");
    call_free(&c);
    sig_store_free(s);
}

/* Page through with max per page; names[] collects what came back. */
static int list_all(sig_store *s, const sig_control_config *cfg, int max, const char *prefix, char names[][16],
                    int cap, int *pages)
{
    call c = {0};
    char token[600] = "";
    int n = 0;
    *pages = 0;
    for (;;) {
        char body[800];
        int off = snprintf(body, sizeof body, "{\"MaxResults\":%d", max);
        if (token[0])
            off += snprintf(body + off, sizeof body - (size_t)off, ",\"NextToken\":\"%s\"", token);
        if (prefix)
            off += snprintf(body + off, sizeof body - (size_t)off,
                            ",\"ChannelNameCondition\":{\"ComparisonOperator\":\"BEGINS_WITH\","
                            "\"ComparisonValue\":\"%s\"}", prefix);
        snprintf(body + off, sizeof body - (size_t)off, "}");
        do_call(&c, s, cfg, "/listSignalingChannels", body, T0);
        if (c.reply.status != 200 || ++*pages > 1000)
            break;
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(c.json, "ChannelInfoList");
        if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > max)
            break;
        const cJSON *info;
        cJSON_ArrayForEach(info, list) {
            if (n < cap && jstr(info, "ChannelName") && jstr(info, "ChannelARN") && jstr(info, "Version") &&
                cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(info, "CreationTime")))
                snprintf(names[n], 16, "%s", jstr(info, "ChannelName"));
            n++;
        }
        const char *next = jstr(c.json, "NextToken");
        if (!next)
            break;
        if (cJSON_GetArraySize(list) != max || strlen(next) >= sizeof token)
            break; /* a short page must be the last */
        snprintf(token, sizeof token, "%s", next);
    }
    int status = c.reply.status;
    call_free(&c);
    return status == 200 ? n : -1;
}

TEST(list_pagination_covers_all_once)
{
    sig_store *s = new_store();
    sig_control_config cfg = base_config();
    call c = {0};
    for (int i = 24; i >= 0; i--) {
        char body[64];
        snprintf(body, sizeof body, "{\"ChannelName\":\"%s-%02d\"}", i % 2 ? "odd" : "even", i);
        do_call(&c, s, &cfg, "/createSignalingChannel", body, T0 + i);
        CHECK_EQ_INT(c.reply.status, 200);
    }
    char names[40][16];
    int pages = 0;
    int n = list_all(s, &cfg, 7, NULL, names, 40, &pages);
    CHECK_EQ_INT(n, 25);
    CHECK_EQ_INT(pages, 4);
    for (int i = 0; i < 25; i++)
        CHECK_EQ_STR(names[i], sig_store_at(s, (size_t)i)->name);
    /* an exact multiple: the last full page carries no NextToken */
    n = list_all(s, &cfg, 5, NULL, names, 40, &pages);
    CHECK_EQ_INT(n, 25);
    CHECK_EQ_INT(pages, 5);
    n = list_all(s, &cfg, 1, NULL, names, 40, &pages);
    CHECK_EQ_INT(n, 25);
    /* prefix */
    n = list_all(s, &cfg, 4, "odd", names, 40, &pages);
    CHECK_EQ_INT(n, 12);
    CHECK_EQ_INT(pages, 3);
    for (int i = 0; i < 12; i++)
        CHECK(strncmp(names[i], "odd-", 4) == 0);
    n = list_all(s, &cfg, 4, "zzz", names, 40, &pages);
    CHECK_EQ_INT(n, 0);
    /* default MaxResults (500) and an empty body */
    do_call(&c, s, &cfg, "/listSignalingChannels", "", T0);
    CHECK_EQ_INT(c.reply.status, 200);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.json, "ChannelInfoList")), 25);
    CHECK(cJSON_GetObjectItemCaseSensitive(c.json, "NextToken") == NULL);
    do_call(&c, s, &cfg, "/listSignalingChannels", "{\"NextToken\":\"\"}", T0);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.json, "ChannelInfoList")), 25);

    /* channels deleted between pages: the rest still comes exactly once */
    do_call(&c, s, &cfg, "/listSignalingChannels", "{\"MaxResults\":10}", T0);
    char token[600];
    CHECK(jstr(c.json, "NextToken"));
    snprintf(token, sizeof token, "%s", jstr(c.json, "NextToken"));
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(c.json, "ChannelInfoList");
    char last[32];
    snprintf(last, sizeof last, "%s", jstr(cJSON_GetArrayItem(list, 9), "ChannelName"));
    CHECK_EQ_INT(sig_store_delete(s, sig_store_find_name(s, last)->arn, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_delete(s, sig_store_at(s, 10)->arn, NULL), CAMRTC_OK);
    char body[700];
    snprintf(body, sizeof body, "{\"NextToken\":\"%s\"}", token);
    do_call(&c, s, &cfg, "/listSignalingChannels", body, T0);
    CHECK_EQ_INT(c.reply.status, 200);
    list = cJSON_GetObjectItemCaseSensitive(c.json, "ChannelInfoList");
    CHECK_EQ_INT(cJSON_GetArraySize(list), 23 - 9);
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(list, 0), "ChannelName"), sig_store_at(s, 9)->name);

    static const char *bad[] = {
        "{\"MaxResults\":0}", "{\"MaxResults\":10001}", "{\"NextToken\":\"!!\"}", "{\"NextToken\":\"Zm9v\"}",
        "{\"NextToken\":\"MTpiYWQgbmFtZQ==\"}", /* "1:bad name" */
        "{\"ChannelNameCondition\":{\"ComparisonOperator\":\"ENDS_WITH\",\"ComparisonValue\":\"x\"}}",
        "{\"ChannelNameCondition\":{\"ComparisonValue\":\"a b\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        do_call(&c, s, &cfg, "/listSignalingChannels", bad[i], T0);
        CHECK(check_error(&c, 400, "InvalidArgumentException"));
    }
    do_call(&c, s, &cfg, "/listSignalingChannels", "{\"MaxResults\":\"5\"}", T0);
    CHECK(check_error(&c, 400, "SerializationException"));
    call_free(&c);
    sig_store_free(s);
}

/* Protocol → endpoint pairs of a GetSignalingChannelEndpoint reply, as "WSS=url;HTTPS=url;". */
static void endpoints(const call *c, char *out, size_t sz)
{
    out[0] = '\0';
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(c->json, "ResourceEndpointList");
    const cJSON *e;
    size_t off = 0;
    cJSON_ArrayForEach(e, list) {
        if (cJSON_GetArraySize(e) != 2)
            return;
        off += (size_t)snprintf(out + off, sz - off, "%s=%s;", jstr(e, "Protocol"), jstr(e, "ResourceEndpoint"));
    }
}

TEST(get_endpoint_shapes)
{
    sig_store *s = new_store();
    sig_control_config cfg = base_config();
    call c = {0};
    char got[256];
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", T0);
#define EP_ARN "\"ChannelARN\":\"" ARN_PREFIX "lab-channel/1700000000123\""
    do_call(&c, s, &cfg, "/getSignalingChannelEndpoint",
            "{" EP_ARN ",\"SingleMasterChannelEndpointConfiguration\":{\"Protocols\":[\"WSS\",\"HTTPS\"],"
            "\"Role\":\"MASTER\"}}", T0);
    CHECK_EQ_INT(c.reply.status, 200);
    CHECK_EQ_INT(cJSON_GetArraySize(c.json), 1);
    endpoints(&c, got, sizeof got);
    CHECK_EQ_STR(got, "WSS=wss://127.0.0.1:8443;HTTPS=https://127.0.0.1:8443;");
    do_call(&c, s, &cfg, "/getSignalingChannelEndpoint", "{" EP_ARN "}", T0);
    endpoints(&c, got, sizeof got);
    CHECK_EQ_STR(got, "WSS=wss://127.0.0.1:8443;HTTPS=https://127.0.0.1:8443;");
    do_call(&c, s, &cfg, "/getSignalingChannelEndpoint",
            "{" EP_ARN ",\"SingleMasterChannelEndpointConfiguration\":{\"Protocols\":[\"HTTPS\",\"WSS\",\"HTTPS\"],"
            "\"Role\":\"VIEWER\"}}", T0);
    endpoints(&c, got, sizeof got);
    CHECK_EQ_STR(got, "HTTPS=https://127.0.0.1:8443;WSS=wss://127.0.0.1:8443;");
    do_call(&c, s, &cfg, "/getSignalingChannelEndpoint",
            "{" EP_ARN ",\"SingleMasterChannelEndpointConfiguration\":{\"Protocols\":[\"HTTPS\"]}}", T0);
    endpoints(&c, got, sizeof got);
    CHECK_EQ_STR(got, "HTTPS=https://127.0.0.1:8443;");
    do_call(&c, s, &cfg, "/getSignalingChannelEndpoint",
            "{" EP_ARN ",\"SingleMasterChannelEndpointConfiguration\":{\"Protocols\":[\"WSS\"],\"Role\":\"VIEWER\"}}",
            T0);
    endpoints(&c, got, sizeof got);
    CHECK_EQ_STR(got, "WSS=wss://127.0.0.1:8443;");

    static const char *bad[] = {
        "{" EP_ARN ",\"SingleMasterChannelEndpointConfiguration\":{\"Role\":\"BOSS\"}}",
        "{" EP_ARN ",\"SingleMasterChannelEndpointConfiguration\":{\"Protocols\":[]}}",
        "{" EP_ARN ",\"SingleMasterChannelEndpointConfiguration\":{\"Protocols\":[\"WEBRTC\"]}}",
        "{\"SingleMasterChannelEndpointConfiguration\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        do_call(&c, s, &cfg, "/getSignalingChannelEndpoint", bad[i], T0);
        CHECK(check_error(&c, 400, "InvalidArgumentException"));
    }
    do_call(&c, s, &cfg, "/getSignalingChannelEndpoint",
            "{" EP_ARN ",\"SingleMasterChannelEndpointConfiguration\":{\"Protocols\":[1]}}", T0);
    CHECK(check_error(&c, 400, "SerializationException"));
    do_call(&c, s, &cfg, "/getSignalingChannelEndpoint",
            "{\"ChannelARN\":\"" ARN_PREFIX "other/1700000000123\"}", T0);
    CHECK(check_error(&c, 404, "ResourceNotFoundException"));
#undef EP_ARN
    call_free(&c);
    sig_store_free(s);
}

/* HMAC-SHA1 (RFC 2104) written out from the SHA-1 primitive, so the check does
 * not share code with the HMAC under test. */
static void ref_hmac_sha1(const char *key, const char *msg, unsigned char out[20])
{
    unsigned char k[64] = {0}, ipad[64], opad[64], inner[20];
    size_t kl = strlen(key);
    if (kl > 64)
        mbedtls_sha1_ret((const unsigned char *)key, kl, k);
    else
        memcpy(k, key, kl);
    for (int i = 0; i < 64; i++) {
        ipad[i] = k[i] ^ 0x36;
        opad[i] = k[i] ^ 0x5c;
    }
    mbedtls_sha1_context ctx;
    mbedtls_sha1_init(&ctx);
    mbedtls_sha1_starts_ret(&ctx);
    mbedtls_sha1_update_ret(&ctx, ipad, 64);
    mbedtls_sha1_update_ret(&ctx, (const unsigned char *)msg, strlen(msg));
    mbedtls_sha1_finish_ret(&ctx, inner);
    mbedtls_sha1_starts_ret(&ctx);
    mbedtls_sha1_update_ret(&ctx, opad, 64);
    mbedtls_sha1_update_ret(&ctx, inner, 20);
    mbedtls_sha1_finish_ret(&ctx, out);
    mbedtls_sha1_free(&ctx);
}

static void ref_base64(const unsigned char *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
    }
    out[o] = '\0';
}

TEST(reference_hmac_matches_rfc2202)
{
    /* RFC 2202 test case 2, so the reference itself is known good */
    unsigned char mac[20];
    ref_hmac_sha1("Jefe", "what do ya want for nothing?", mac);
    static const unsigned char want[20] = {0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
                                           0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79};
    CHECK_EQ_MEM(mac, want, 20);
    char b64[32];
    ref_base64((const unsigned char *)"foobar", 6, b64);
    CHECK_EQ_STR(b64, "Zm9vYmFy");
    ref_base64((const unsigned char *)"fooba", 5, b64);
    CHECK_EQ_STR(b64, "Zm9vYmE=");
}

/* The single IceServerList entry's fields; NULL list when the shape is off. */
static const cJSON *ice_entry(const call *c, int index, int expect_entries)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(c->json, "IceServerList");
    if (c->reply.status != 200 || cJSON_GetArraySize(c->json) != 1 || !cJSON_IsArray(list) ||
        cJSON_GetArraySize(list) != expect_entries)
        return NULL;
    const cJSON *e = cJSON_GetArrayItem(list, index);
    if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 4 || !jstr(e, "Username") || !jstr(e, "Password") ||
        !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "Ttl")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "Uris")))
        return NULL;
    return e;
}

TEST(ice_config_turn_rest_credentials)
{
    sig_store *s = new_store();
    sig_control_config cfg = base_config();
    call c = {0};
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", T0);
#define ICE_ARN "\"ChannelARN\":\"" ARN_PREFIX "lab-channel/1700000000123\""
    int64_t now = INT64_C(1700000000999);
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{" ICE_ARN ",\"ClientId\":\"viewer-1\",\"Service\":\"TURN\"}",
            now);
    const cJSON *e = ice_entry(&c, 0, 1);
    CHECK(e);
    CHECK_EQ_STR(jstr(e, "Username"), "1700000300:viewer-1");
    unsigned char mac[20];
    char want[32];
    ref_hmac_sha1("s3cret", "1700000300:viewer-1", mac);
    ref_base64(mac, 20, want);
    CHECK_EQ_STR(jstr(e, "Password"), want);
    CHECK(jnum(e, "Ttl") == 300);
    const cJSON *uris = cJSON_GetObjectItemCaseSensitive(e, "Uris");
    CHECK_EQ_INT(cJSON_GetArraySize(uris), 2);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetArrayItem(uris, 0)), turn_urls[0]);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetArrayItem(uris, 1)), turn_urls[1]);
    /* STUN is never listed: AWS clients add their STUN server themselves */
    CHECK(strstr(camrtc_buf_cstr(&c.reply.body), "stun:") == NULL);

    /* without ClientId the user part is the Username, then the channel name */
    cfg.ice.ttl_s = 60;
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{" ICE_ARN ",\"Username\":\"alice\"}", now);
    e = ice_entry(&c, 0, 1);
    CHECK(e);
    CHECK_EQ_STR(jstr(e, "Username"), "1700000060:alice");
    CHECK(jnum(e, "Ttl") == 60);
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{" ICE_ARN "}", now);
    e = ice_entry(&c, 0, 1);
    CHECK(e);
    CHECK_EQ_STR(jstr(e, "Username"), "1700000060:lab-channel");
    ref_hmac_sha1("s3cret", "1700000060:lab-channel", mac);
    ref_base64(mac, 20, want);
    CHECK_EQ_STR(jstr(e, "Password"), want);

    /* more URLs than one entry holds: split 4 + 2, same credentials */
    cfg.ice.n_turn = 6;
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{" ICE_ARN ",\"ClientId\":\"v\"}", now);
    e = ice_entry(&c, 0, 2);
    const cJSON *e2 = ice_entry(&c, 1, 2);
    CHECK(e && e2);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "Uris")), 4);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e2, "Uris")), 2);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e2, "Uris"), 1)),
                 turn_urls[5]);
    CHECK_EQ_STR(jstr(e, "Password"), jstr(e2, "Password"));

    /* static credentials */
    cfg.ice.turn_secret = NULL;
    cfg.ice.turn_user = "user1";
    cfg.ice.turn_password = "p4ssw0rd";
    cfg.ice.n_turn = 1;
    cfg.ice.ttl_s = 0;
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{" ICE_ARN ",\"ClientId\":\"v\"}", now);
    e = ice_entry(&c, 0, 1);
    CHECK(e);
    CHECK_EQ_STR(jstr(e, "Username"), "user1");
    CHECK_EQ_STR(jstr(e, "Password"), "p4ssw0rd");
    CHECK(jnum(e, "Ttl") == 300);

    /* no TURN at all: an empty list */
    cfg.ice.n_turn = 0;
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{" ICE_ARN "}", now);
    CHECK_EQ_INT(c.reply.status, 200);
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(c.json, "IceServerList")));
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.json, "IceServerList")), 0);

    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{" ICE_ARN ",\"Service\":\"STUN\"}", now);
    CHECK(check_error(&c, 400, "InvalidArgumentException"));
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{" ICE_ARN ",\"ClientId\":\"bad id\"}", now);
    CHECK(check_error(&c, 400, "InvalidArgumentException"));
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{\"ClientId\":\"v\"}", now);
    CHECK(check_error(&c, 400, "InvalidArgumentException"));
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{\"ChannelARN\":\"" ARN_PREFIX "x/1700000000123\"}", now);
    CHECK(check_error(&c, 404, "ResourceNotFoundException"));
#undef ICE_ARN
    call_free(&c);
    sig_store_free(s);
}

TEST(ice_config_caps_servers)
{
    sig_store *s = new_store();
    sig_control_config cfg = base_config();
    static const char *many[30];
    for (int i = 0; i < 30; i++)
        many[i] = turn_urls[i % 6];
    cfg.ice.turn_urls = many;
    cfg.ice.n_turn = 30;
    call c = {0};
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"cam\"}", T0);
    do_call(&c, s, &cfg, "/v1/get-ice-server-config", "{\"ChannelARN\":\"" ARN_PREFIX "cam/1700000000123\"}", T0);
    CHECK_EQ_INT(c.reply.status, 200);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(c.json, "IceServerList");
    CHECK_EQ_INT(cJSON_GetArraySize(list), SIG_ICE_MAX_SERVERS);
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
        CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "Uris")), SIG_ICE_MAX_URIS);
    call_free(&c);
    sig_store_free(s);
}

TEST(unknown_operation_and_paths)
{
    sig_store *s = new_store();
    sig_control_config cfg = base_config();
    call c = {0};
    do_call(&c, s, &cfg, "/createStream", "{}", T0);
    CHECK(check_error(&c, 404, "UnknownOperationException"));
    do_call(&c, s, &cfg, "/createSignalingChannel/", "{\"ChannelName\":\"x\"}", T0);
    CHECK(check_error(&c, 404, "UnknownOperationException"));
    do_call(&c, s, &cfg, "", "{}", T0);
    CHECK(check_error(&c, 404, "UnknownOperationException"));
    do_call(&c, s, &cfg, "/createSignalingChannel?x=1", "{\"ChannelName\":\"x\"}", T0);
    CHECK_EQ_INT(c.reply.status, 200);
    /* a reply buffer is reused across calls without leaking or mixing */
    do_call(&c, s, &cfg, "/describeSignalingChannel", "{\"ChannelName\":\"x\"}", T0);
    CHECK_EQ_INT(c.reply.status, 200);
    CHECK(c.reply.error_type == NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(c.json, "ChannelInfo") != NULL);
    call_free(&c);
    sig_store_free(s);
}

TEST(reply_error_escapes_and_truncates)
{
    sig_reply r = {0};
    sig_reply_error(&r, 403, "InvalidSignatureException", "bad \"%s\"\n\\ %d", "quote", 7);
    CHECK_EQ_INT(r.status, 403);
    CHECK_EQ_STR(r.error_type, "InvalidSignatureException");
    cJSON *j = cJSON_ParseWithLength((const char *)camrtc_buf_data(&r.body), r.body.len);
    CHECK(j);
    int ok = jstr(j, "message") && strcmp(jstr(j, "message"), "bad \"quote\"\n\\ 7") == 0 && jstr(j, "Message") &&
             strcmp(jstr(j, "Message"), jstr(j, "message")) == 0;
    cJSON_Delete(j);
    CHECK(ok);
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sig_reply_error(&r, 400, "X", "%s", big);
    j = cJSON_ParseWithLength((const char *)camrtc_buf_data(&r.body), r.body.len);
    CHECK(j);
    size_t n = jstr(j, "message") ? strlen(jstr(j, "message")) : 0;
    cJSON_Delete(j);
    CHECK_EQ_INT(n, 511);
    camrtc_buf_free(&r.body);
}

TEST(persisted_through_the_handlers)
{
    char dir[64] = "/tmp/camrtc-control-XXXXXX", path[128];
    CHECK(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/channels.json", dir);
    sig_store *s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    sig_control_config cfg = base_config();
    call c = {0};
    do_call(&c, s, &cfg, "/createSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", T0);
    do_call(&c, s, &cfg, "/describeSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", T0);
    char *before = strdup(camrtc_buf_cstr(&c.reply.body));
    sig_store_free(s);
    s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    do_call(&c, s, &cfg, "/describeSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", T0 + 99999);
    int same = before && strcmp(before, camrtc_buf_cstr(&c.reply.body)) == 0;
    free(before);
    call_free(&c);
    sig_store_free(s);
    unlink(path);
    rmdir(dir);
    CHECK(same);
}

int main(void)
{
    return RUN_TESTS(create_and_describe_shapes, create_errors, describe_errors, delete_shapes_and_errors,
                     list_pagination_covers_all_once, get_endpoint_shapes, reference_hmac_matches_rfc2202,
                     ice_config_turn_rest_credentials, ice_config_caps_servers, unknown_operation_and_paths,
                     reply_error_escapes_and_truncates, persisted_through_the_handlers);
}
