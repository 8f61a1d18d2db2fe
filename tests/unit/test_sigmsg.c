#include "check.h"

#include "camrtc/buf.h"
#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/sigmsg.h"

/* base64 of {"type":"offer","sdp":"v=0\r\n"} */
#define OFFER_B64 "eyJ0eXBlIjoib2ZmZXIiLCJzZHAiOiJ2PTBcclxuIn0="

static int from_client(const char *json, camrtc_sigmsg *m, char *reason)
{
    return camrtc_sigmsg_parse_from_client(json, strlen(json), m, reason, 128);
}

static int from_service(const char *json, camrtc_sigmsg *m, char *reason)
{
    return camrtc_sigmsg_parse_from_service(json, strlen(json), m, reason, 128);
}

TEST(type_names_round_trip)
{
    for (int t = CAMRTC_SIGMSG_SDP_OFFER; t <= CAMRTC_SIGMSG_STATUS_RESPONSE; t++)
        CHECK_EQ_INT(camrtc_sigmsg_type_parse(camrtc_sigmsg_type_name((camrtc_sigmsg_type)t)), t);
    CHECK_EQ_STR(camrtc_sigmsg_type_name(CAMRTC_SIGMSG_ICE_CANDIDATE), "ICE_CANDIDATE");
    CHECK_EQ_STR(camrtc_sigmsg_type_name((camrtc_sigmsg_type)99), "UNKNOWN");
    CHECK_EQ_INT(camrtc_sigmsg_type_parse("sdp_offer"), CAMRTC_SIGMSG_UNKNOWN);
    CHECK_EQ_INT(camrtc_sigmsg_type_parse("UNKNOWN"), CAMRTC_SIGMSG_UNKNOWN);
    CHECK_EQ_INT(camrtc_sigmsg_type_parse(NULL), CAMRTC_SIGMSG_UNKNOWN);
}

/* The C SDK's template: PascalCase, pretty-printed, RecipientClientId always present. */
TEST(parse_from_client_c_sdk_style)
{
    camrtc_sigmsg m;
    char reason[128];
    const char *j = "{\n\t\"action\": \"SDP_ANSWER\",\n\t\"RecipientClientId\": \"viewer-1\",\n"
                    "\t\"MessagePayload\": \"" OFFER_B64 "\",\n\t\"CorrelationId\": \"1700000000_1\"\n}";
    CHECK_EQ_INT(from_client(j, &m, reason), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_SDP_ANSWER);
    CHECK_EQ_STR(m.peer_id, "viewer-1");
    CHECK_EQ_STR(m.correlation_id, "1700000000_1");
    CHECK_EQ_STR(m.payload, OFFER_B64);
    CHECK_EQ_INT(m.payload_len, strlen(OFFER_B64));
    CHECK(m.ice_server_list == NULL);
    camrtc_sigmsg_clear(&m);

    const char *viewer = "{\n\t\"action\": \"ICE_CANDIDATE\",\n\t\"RecipientClientId\": \"\",\n"
                         "\t\"MessagePayload\": \"" OFFER_B64 "\"\n}";
    CHECK_EQ_INT(from_client(viewer, &m, reason), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_ICE_CANDIDATE);
    CHECK_EQ_STR(m.peer_id, "");
    CHECK_EQ_STR(m.correlation_id, "");
    camrtc_sigmsg_clear(&m);
    CHECK(m.payload == NULL);
}

/* The JS SDK: JSON.stringify({action, messagePayload, recipientClientId, correlationId}). */
TEST(parse_from_client_js_sdk_style)
{
    camrtc_sigmsg m;
    char reason[128];
    CHECK_EQ_INT(from_client("{\"action\":\"SDP_OFFER\",\"messagePayload\":\"" OFFER_B64 "\","
                             "\"correlationId\":\"abc.DEF_9-x\"}", &m, reason), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_SDP_OFFER);
    CHECK_EQ_STR(m.peer_id, "");
    CHECK_EQ_STR(m.correlation_id, "abc.DEF_9-x");
    CHECK_EQ_STR(reason, "");
    camrtc_sigmsg_clear(&m);
}

TEST(parse_from_client_keys_case_insensitive)
{
    camrtc_sigmsg m;
    char reason[128];
    CHECK_EQ_INT(from_client("{\"ACTION\":\"SDP_OFFER\",\"recipientclientid\":\"m\",\"MESSAGEpayload\":\""
                             OFFER_B64 "\",\"correlationID\":\"c1\",\"extra\":{\"nested\":[1,2]}}", &m, reason),
                 CAMRTC_OK);
    CHECK_EQ_STR(m.peer_id, "m");
    CHECK_EQ_STR(m.correlation_id, "c1");
    camrtc_sigmsg_clear(&m);
    /* Null optional members are absent. */
    CHECK_EQ_INT(from_client("{\"action\":\"SDP_OFFER\",\"RecipientClientId\":null,\"CorrelationId\":null,"
                             "\"MessagePayload\":\"" OFFER_B64 "\"}", &m, reason), CAMRTC_OK);
    CHECK_EQ_STR(m.peer_id, "");
    camrtc_sigmsg_clear(&m);
}

TEST(parse_from_client_refusals)
{
    static const struct { const char *json; int rc; } cases[] = {
        {"[1,2]", CAMRTC_EPROTO},
        {"\"SDP_OFFER\"", CAMRTC_EPROTO},
        {"42", CAMRTC_EPROTO},
        {"{\"action\":", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\"} x", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\"}{}", CAMRTC_EPROTO},
        {"", CAMRTC_EPROTO},
        {"{\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_PRANSWER\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO},
        {"{\"action\":\"sdp_offer\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO},
        {"{\"action\":\"GO_AWAY\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO},
        {"{\"action\":\"STATUS_RESPONSE\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO},
        {"{\"action\":7,\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":null}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"not base64!\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\\nYmFy\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zh==\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zg==Zm9v\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":12}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":[\"" OFFER_B64 "\"]}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"RecipientClientId\":\"a b\",\"MessagePayload\":\"" OFFER_B64 "\"}",
         CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"RecipientClientId\":\"\\\"x\",\"MessagePayload\":\"" OFFER_B64 "\"}",
         CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"RecipientClientId\":5,\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"CorrelationId\":\"a/b\",\"MessagePayload\":\"" OFFER_B64 "\"}",
         CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"CorrelationId\":{},\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"IceServerList\":{},\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"Action\":\"SDP_ANSWER\",\"MessagePayload\":\"" OFFER_B64 "\"}",
         CAMRTC_EPROTO},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\",\"messagePayload\":\"" OFFER_B64 "\"}",
         CAMRTC_EPROTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        camrtc_sigmsg m;
        char reason[128] = "";
        int rc = from_client(cases[i].json, &m, reason);
        if (rc != cases[i].rc)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].json);
        CHECK_EQ_INT(rc, cases[i].rc);
        CHECK(reason[0] != '\0');
        CHECK(m.payload == NULL && m.ice_server_list == NULL);
    }
    camrtc_sigmsg m;
    CHECK_EQ_INT(camrtc_sigmsg_parse_from_client(NULL, 3, &m, NULL, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigmsg_parse_from_client("{}", 2, NULL, NULL, 0), CAMRTC_EINVAL);
    /* An embedded NUL would let cJSON see a shorter message than the frame. */
    const char nul[] = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\"}\0{";
    CHECK_EQ_INT(camrtc_sigmsg_parse_from_client(nul, sizeof nul - 1, &m, NULL, 0), CAMRTC_EPROTO);
}

TEST(parse_from_client_ids_at_limit)
{
    char id[CAMRTC_SIGMSG_MAX_ID + 2];
    memset(id, 'a', sizeof id);
    id[CAMRTC_SIGMSG_MAX_ID] = '\0';
    camrtc_buf b = {0};
    camrtc_buf_appendf(&b, "{\"action\":\"SDP_OFFER\",\"RecipientClientId\":\"%s\",\"CorrelationId\":\"%s\","
                           "\"MessagePayload\":\"" OFFER_B64 "\"}", id, id);
    camrtc_sigmsg m;
    CHECK_EQ_INT(from_client(camrtc_buf_cstr(&b), &m, NULL), CAMRTC_OK);
    CHECK_EQ_INT(strlen(m.peer_id), CAMRTC_SIGMSG_MAX_ID);
    CHECK_EQ_INT(strlen(m.correlation_id), CAMRTC_SIGMSG_MAX_ID);
    camrtc_sigmsg_clear(&m);
    id[CAMRTC_SIGMSG_MAX_ID] = 'a';
    id[CAMRTC_SIGMSG_MAX_ID + 1] = '\0';
    camrtc_buf_reset(&b);
    camrtc_buf_appendf(&b, "{\"action\":\"SDP_OFFER\",\"RecipientClientId\":\"%s\",\"MessagePayload\":\"" OFFER_B64
                           "\"}", id);
    CHECK_EQ_INT(from_client(camrtc_buf_cstr(&b), &m, NULL), CAMRTC_EPROTO);
    camrtc_buf_free(&b);
}

TEST(parse_from_client_size_limits)
{
    /* Decoded payload exactly at the limit passes, one byte more is refused. */
    for (size_t n = CAMRTC_SIGMSG_MAX_PAYLOAD; n <= CAMRTC_SIGMSG_MAX_PAYLOAD + 1; n++) {
        char *raw = malloc(n);
        memset(raw, 'x', n);
        char *b64 = malloc(CAMRTC_BASE64_ENCODED_SIZE(n));
        camrtc_base64_encode(raw, n, b64, CAMRTC_BASE64_ENCODED_SIZE(n));
        camrtc_buf b = {0};
        camrtc_buf_appendf(&b, "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"%s\",\"CorrelationId\":\"big\"}", b64);
        camrtc_sigmsg m;
        char reason[128];
        int rc = from_client(camrtc_buf_cstr(&b), &m, reason);
        free(raw);
        free(b64);
        camrtc_buf_free(&b);
        if (n == CAMRTC_SIGMSG_MAX_PAYLOAD) {
            CHECK_EQ_INT(rc, CAMRTC_OK);
            camrtc_sigmsg_clear(&m);
        } else {
            CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
            CHECK_EQ_STR(m.correlation_id, "big");
        }
    }
    /* The whole message over CAMRTC_SIGMSG_MAX_JSON (whitespace padding). */
    size_t len = CAMRTC_SIGMSG_MAX_JSON + 1;
    char *big = malloc(len);
    memset(big, ' ', len);
    const char *j = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\"}";
    memcpy(big, j, strlen(j));
    camrtc_sigmsg m;
    CHECK_EQ_INT(camrtc_sigmsg_parse_from_client(big, len, &m, NULL, 0), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_sigmsg_parse_from_client(big, len - 1, &m, NULL, 0), CAMRTC_OK);
    camrtc_sigmsg_clear(&m);
    free(big);
}

/* A refused message still yields its correlation id, so the service can answer. */
TEST(parse_from_client_keeps_correlation_id_on_failure)
{
    camrtc_sigmsg m;
    char reason[128];
    CHECK_EQ_INT(from_client("{\"action\":\"SDP_OFFER\",\"CorrelationId\":\"c-7\",\"MessagePayload\":\"@@@@\"}",
                             &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_STR(m.correlation_id, "c-7");
    CHECK(strstr(reason, "base64") != NULL);
    CHECK_EQ_INT(from_client("{\"action\":\"NOPE\",\"CorrelationId\":\"c-8\"}", &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_STR(m.correlation_id, "c-8");
    CHECK_EQ_INT(from_client("{\"action\":\"NOPE\",\"CorrelationId\":\"bad id\"}", &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_STR(m.correlation_id, "");
}

TEST(parse_ice_server_list_on_offers_only)
{
    camrtc_sigmsg m;
    const char *offer = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\",\"IceServerList\": "
                        "[ {\"Uris\": [\"turn:1.2.3.4:443?transport=tcp\"], \"Username\": \"u\", "
                        "\"Password\": \"p\", \"Ttl\": 300} ]}";
    CHECK_EQ_INT(from_client(offer, &m, NULL), CAMRTC_OK);
    CHECK_EQ_STR(m.ice_server_list,
                 "[{\"Uris\":[\"turn:1.2.3.4:443?transport=tcp\"],\"Username\":\"u\",\"Password\":\"p\",\"Ttl\":300}]");
    camrtc_sigmsg_clear(&m);
    const char *cand = "{\"action\":\"ICE_CANDIDATE\",\"MessagePayload\":\"" OFFER_B64 "\",\"IceServerList\":[]}";
    CHECK_EQ_INT(from_client(cand, &m, NULL), CAMRTC_OK);
    CHECK(m.ice_server_list == NULL);
    camrtc_sigmsg_clear(&m);
}

TEST(parse_from_service_messages)
{
    camrtc_sigmsg m;
    char reason[128];
    CHECK_EQ_INT(from_service("{\"senderClientId\":\"viewer-1\",\"messageType\":\"SDP_OFFER\","
                              "\"messagePayload\":\"" OFFER_B64 "\"}", &m, reason), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_SDP_OFFER);
    CHECK_EQ_STR(m.peer_id, "viewer-1");
    CHECK_EQ_STR(m.payload, OFFER_B64);
    camrtc_sigmsg_clear(&m);
    /* From the master: no or empty sender. */
    CHECK_EQ_INT(from_service("{\"senderClientId\":\"\",\"messageType\":\"SDP_ANSWER\",\"messagePayload\":\""
                              OFFER_B64 "\"}", &m, reason), CAMRTC_OK);
    CHECK_EQ_STR(m.peer_id, "");
    camrtc_sigmsg_clear(&m);
    /* Case-insensitive keys here too. */
    CHECK_EQ_INT(from_service("{\"MessageType\":\"ICE_CANDIDATE\",\"MessagePayload\":\"" OFFER_B64
                              "\",\"SenderClientId\":\"v\"}", &m, reason), CAMRTC_OK);
    CHECK_EQ_STR(m.peer_id, "v");
    camrtc_sigmsg_clear(&m);
    CHECK_EQ_INT(from_service("{\"messageType\":\"GO_AWAY\"}", &m, reason), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_GO_AWAY);
    CHECK(m.payload == NULL);
    CHECK_EQ_INT(from_service("{\"messageType\":\"RECONNECT_ICE_SERVER\",\"messagePayload\":\"\"}", &m, reason),
                 CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_RECONNECT_ICE_SERVER);
    CHECK(m.payload == NULL);

    CHECK_EQ_INT(from_service("{\"messageType\":\"SDP_OFFER\"}", &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"messageType\":\"SDP_OFFER\",\"messagePayload\":\"\"}", &m, reason),
                 CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"senderClientId\":\"a:b\",\"messageType\":\"SDP_OFFER\",\"messagePayload\":\""
                              OFFER_B64 "\"}", &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"messagePayload\":\"" OFFER_B64 "\"}", &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"messageType\":\"NEW_THING\",\"messagePayload\":\"" OFFER_B64 "\"}", &m, reason),
                 CAMRTC_EUNSUPPORTED);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_UNKNOWN);
    CHECK(m.payload == NULL);
}

TEST(parse_status_response)
{
    camrtc_sigmsg m;
    char reason[128];
    CHECK_EQ_INT(from_service("{\"senderClientId\":\"\",\"messageType\":\"STATUS_RESPONSE\",\"messagePayload\":\"\","
                              "\"statusResponse\":{\"correlationId\":\"1700000000_3\",\"errorType\":"
                              "\"InvalidArgumentException\",\"statusCode\":\"400\",\"description\":"
                              "\"Message payload \\\"too\\\" large\\n\"}}", &m, reason), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_STATUS_RESPONSE);
    CHECK_EQ_STR(m.correlation_id, "1700000000_3");
    CHECK_EQ_STR(m.error_type, "InvalidArgumentException");
    CHECK_EQ_INT(m.status_code, 400);
    CHECK_EQ_STR(m.description, "Message payload \"too\" large\n");
    camrtc_sigmsg_clear(&m);
    /* A numeric statusCode is accepted as well. */
    CHECK_EQ_INT(from_service("{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"correlationId\":\"c\","
                              "\"statusCode\":429}}", &m, reason), CAMRTC_OK);
    CHECK_EQ_INT(m.status_code, 429);
    CHECK_EQ_STR(m.error_type, "");
    CHECK_EQ_INT(from_service("{\"messageType\":\"STATUS_RESPONSE\"}", &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":[]}", &m, reason),
                 CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"statusCode\":\"4x0\"}}",
                              &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"statusCode\":4.5}}",
                              &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"statusCode\":\"1000\"}}",
                              &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"errorType\":1}}",
                              &m, reason), CAMRTC_EPROTO);
    CHECK_EQ_INT(from_service("{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"statusCode\":\"400\","
                              "\"StatusCode\":\"200\"}}", &m, reason), CAMRTC_EPROTO);
}

/* Descriptions longer than the field are cut on a character boundary. */
TEST(parse_status_response_truncates_description)
{
    camrtc_buf b = {0};
    camrtc_buf_append_str(&b, "{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"description\":\"");
    camrtc_buf_append_str(&b, "x");
    for (int i = 0; i < 400; i++)
        camrtc_buf_append_str(&b, "\xc3\xa9"); /* é, two bytes */
    camrtc_buf_append_str(&b, "\"}}");
    camrtc_sigmsg m;
    CHECK_EQ_INT(from_service(camrtc_buf_cstr(&b), &m, NULL), CAMRTC_OK);
    camrtc_buf_free(&b);
    size_t n = strlen(m.description);
    CHECK(n <= sizeof m.description - 1 && n >= sizeof m.description - 3);
    CHECK_EQ_INT(n % 2, 1); /* "x" plus whole two-byte characters */
    /* Invalid UTF-8 is replaced, so what is parsed is what would be written. */
    const char *bad = "{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"errorType\":\"A\xc1Z\","
                      "\"description\":\"\xed\xa0\x80!\"}}";
    CHECK_EQ_INT(from_service(bad, &m, NULL), CAMRTC_OK);
    CHECK_EQ_STR(m.error_type, "A\xef\xbf\xbdZ");
    CHECK_EQ_STR(m.description, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!");
}

TEST(write_to_service_pascal_case)
{
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    m.type = CAMRTC_SIGMSG_SDP_OFFER;
    CHECK_EQ_INT(camrtc_sigmsg_set_payload_json(&m, "{\"a\":1}", 7), CAMRTC_OK);
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_sigmsg_write_to_service(&b, &m), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"eyJhIjoxfQ==\"}");
    camrtc_buf_reset(&b);
    strcpy(m.peer_id, "viewer_2");
    strcpy(m.correlation_id, "corr.1");
    CHECK_EQ_INT(camrtc_sigmsg_write_to_service(&b, &m), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), "{\"action\":\"SDP_OFFER\",\"RecipientClientId\":\"viewer_2\","
                                      "\"MessagePayload\":\"eyJhIjoxfQ==\",\"CorrelationId\":\"corr.1\"}");
    /* Round trip. */
    camrtc_sigmsg back;
    CHECK_EQ_INT(camrtc_sigmsg_parse_from_client((const char *)camrtc_buf_data(&b), b.len, &back, NULL, 0),
                 CAMRTC_OK);
    CHECK_EQ_INT(back.type, m.type);
    CHECK_EQ_STR(back.peer_id, m.peer_id);
    CHECK_EQ_STR(back.correlation_id, m.correlation_id);
    CHECK_EQ_STR(back.payload, m.payload);
    camrtc_sigmsg_clear(&back);

    /* Refused: not a client message, no payload, bad id; out is untouched. */
    size_t before = b.len;
    m.type = CAMRTC_SIGMSG_GO_AWAY;
    CHECK_EQ_INT(camrtc_sigmsg_write_to_service(&b, &m), CAMRTC_EINVAL);
    m.type = CAMRTC_SIGMSG_ICE_CANDIDATE;
    strcpy(m.peer_id, "no spaces");
    CHECK_EQ_INT(camrtc_sigmsg_write_to_service(&b, &m), CAMRTC_EINVAL);
    m.peer_id[0] = '\0';
    char *p = m.payload;
    m.payload = NULL;
    CHECK_EQ_INT(camrtc_sigmsg_write_to_service(&b, &m), CAMRTC_EINVAL);
    m.payload = p;
    CHECK_EQ_INT(b.len, before);
    /* A bounded buffer that fills up leaves out as it was. */
    camrtc_buf small = {0};
    small.max_cap = 20;
    camrtc_buf_append_str(&small, "keep");
    CHECK_EQ_INT(camrtc_sigmsg_write_to_service(&small, &m), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(small.len, 4);
    camrtc_buf_free(&small);
    camrtc_buf_free(&b);
    camrtc_sigmsg_clear(&m);
}

TEST(write_to_client_camel_case)
{
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    m.type = CAMRTC_SIGMSG_ICE_CANDIDATE;
    m.payload = strdup("eyJhIjoxfQ==");
    m.payload_len = strlen(m.payload);
    strcpy(m.peer_id, "v1");
    strcpy(m.correlation_id, "not-forwarded");
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_sigmsg_write_to_client(&b, &m), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), "{\"senderClientId\":\"v1\",\"messageType\":\"ICE_CANDIDATE\","
                                      "\"messagePayload\":\"eyJhIjoxfQ==\"}");
    camrtc_buf_reset(&b);
    m.peer_id[0] = '\0';
    CHECK_EQ_INT(camrtc_sigmsg_write_to_client(&b, &m), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), "{\"messageType\":\"ICE_CANDIDATE\",\"messagePayload\":\"eyJhIjoxfQ==\"}");
    camrtc_sigmsg_clear(&m);

    camrtc_buf_reset(&b);
    m.type = CAMRTC_SIGMSG_GO_AWAY;
    CHECK_EQ_INT(camrtc_sigmsg_write_to_client(&b, &m), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), "{\"messageType\":\"GO_AWAY\"}");
    m.type = CAMRTC_SIGMSG_UNKNOWN;
    CHECK_EQ_INT(camrtc_sigmsg_write_to_client(&b, &m), CAMRTC_EINVAL);
    camrtc_buf_free(&b);
}

TEST(write_status_response_escapes)
{
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    m.type = CAMRTC_SIGMSG_STATUS_RESPONSE;
    m.status_code = 400;
    strcpy(m.correlation_id, "c1");
    strcpy(m.error_type, "InvalidArgumentException");
    /* quote, backslash, newline, tab, a control byte, valid UTF-8, invalid UTF-8 */
    strcpy(m.description, "say \"hi\" \\ now\n\t\x01 caf\xc3\xa9 \xff\xc3 end");
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_sigmsg_write_to_client(&b, &m), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&b),
                 "{\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"correlationId\":\"c1\","
                 "\"errorType\":\"InvalidArgumentException\",\"statusCode\":\"400\",\"description\":"
                 "\"say \\\"hi\\\" \\\\ now\\n\\t\\u0001 caf\xc3\xa9 \\ufffd\\ufffd end\"}}");
    camrtc_sigmsg back;
    CHECK_EQ_INT(camrtc_sigmsg_parse_from_service((const char *)camrtc_buf_data(&b), b.len, &back, NULL, 0),
                 CAMRTC_OK);
    CHECK_EQ_INT(back.type, CAMRTC_SIGMSG_STATUS_RESPONSE);
    CHECK_EQ_INT(back.status_code, 400);
    CHECK_EQ_STR(back.correlation_id, "c1");
    CHECK_EQ_STR(back.error_type, "InvalidArgumentException");
    CHECK_EQ_STR(back.description, "say \"hi\" \\ now\n\t\x01 caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd end");
    camrtc_sigmsg_clear(&back);
    m.status_code = 1000;
    CHECK_EQ_INT(camrtc_sigmsg_write_to_client(&b, &m), CAMRTC_EINVAL);
    camrtc_buf_free(&b);
}

TEST(payload_helpers_round_trip)
{
    const char *sdp = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                      "a=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n";
    camrtc_buf inner = {0};
    CHECK_EQ_INT(camrtc_sigmsg_build_sdp_json(&inner, "offer", sdp), CAMRTC_OK);
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    m.type = CAMRTC_SIGMSG_SDP_OFFER;
    CHECK_EQ_INT(camrtc_sigmsg_set_payload_json(&m, (const char *)camrtc_buf_data(&inner), inner.len), CAMRTC_OK);
    camrtc_buf dec = {0};
    CHECK_EQ_INT(camrtc_sigmsg_get_payload_json(&m, &dec), CAMRTC_OK);
    CHECK_EQ_INT(dec.len, inner.len);
    CHECK_EQ_MEM(camrtc_buf_data(&dec), camrtc_buf_data(&inner), inner.len);
    char type[8];
    camrtc_buf out = {0};
    CHECK_EQ_INT(camrtc_sigmsg_parse_sdp_json((const char *)camrtc_buf_data(&dec), dec.len, type, sizeof type, &out),
                 CAMRTC_OK);
    CHECK_EQ_STR(type, "offer");
    CHECK_EQ_STR(camrtc_buf_cstr(&out), sdp);

    camrtc_buf_reset(&inner);
    camrtc_buf_reset(&out);
    const char *cand = "candidate:1 1 udp 2122260223 192.168.1.5 61922 typ host generation 0";
    CHECK_EQ_INT(camrtc_sigmsg_build_candidate_json(&inner, cand, "0", 0), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&inner), "{\"candidate\":\"candidate:1 1 udp 2122260223 192.168.1.5 61922 typ host "
                                          "generation 0\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}");
    char mid[16];
    int idx = 7;
    CHECK_EQ_INT(camrtc_sigmsg_parse_candidate_json((const char *)camrtc_buf_data(&inner), inner.len, &out, mid,
                                                    sizeof mid, &idx), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&out), cand);
    CHECK_EQ_STR(mid, "0");
    CHECK_EQ_INT(idx, 0);
    /* Browser shape with null members and an end-of-candidates marker. */
    camrtc_buf_reset(&out);
    const char *eoc = "{\"candidate\":\"\",\"sdpMid\":null,\"sdpMLineIndex\":null,\"usernameFragment\":\"ab\"}";
    CHECK_EQ_INT(camrtc_sigmsg_parse_candidate_json(eoc, strlen(eoc), &out, mid, sizeof mid, &idx), CAMRTC_OK);
    CHECK_EQ_INT(out.len, 0);
    CHECK_EQ_STR(mid, "");
    CHECK_EQ_INT(idx, -1);

    /* Refusals. */
    const char *bad_type = "{\"type\":\"rollback\",\"sdp\":\"\"}";
    CHECK_EQ_INT(camrtc_sigmsg_parse_sdp_json(bad_type, strlen(bad_type), type, sizeof type, &out), CAMRTC_EPROTO);
    const char *no_sdp = "{\"type\":\"answer\"}";
    CHECK_EQ_INT(camrtc_sigmsg_parse_sdp_json(no_sdp, strlen(no_sdp), type, sizeof type, &out), CAMRTC_EPROTO);
    const char *bad_idx = "{\"candidate\":\"x\",\"sdpMLineIndex\":-1}";
    CHECK_EQ_INT(camrtc_sigmsg_parse_candidate_json(bad_idx, strlen(bad_idx), &out, mid, sizeof mid, &idx),
                 CAMRTC_EPROTO);
    const char *long_mid = "{\"candidate\":\"x\",\"sdpMid\":\"0123456789abcdefXYZ\"}";
    CHECK_EQ_INT(camrtc_sigmsg_parse_candidate_json(long_mid, strlen(long_mid), &out, mid, sizeof mid, &idx),
                 CAMRTC_EPROTO);
    char *huge = malloc(CAMRTC_SIGMSG_MAX_PAYLOAD + 1);
    memset(huge, ' ', CAMRTC_SIGMSG_MAX_PAYLOAD + 1);
    CHECK_EQ_INT(camrtc_sigmsg_set_payload_json(&m, huge, CAMRTC_SIGMSG_MAX_PAYLOAD + 1), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_sigmsg_parse_sdp_json(huge, CAMRTC_SIGMSG_MAX_PAYLOAD + 1, type, sizeof type, &out),
                 CAMRTC_ETOOBIG);
    free(huge);
    camrtc_sigmsg_clear(&m);
    CHECK_EQ_INT(camrtc_sigmsg_get_payload_json(&m, &out), CAMRTC_ENOTFOUND);
    m.payload = strdup("Zh==");
    m.payload_len = 4;
    CHECK_EQ_INT(camrtc_sigmsg_get_payload_json(&m, &out), CAMRTC_EPROTO);
    camrtc_sigmsg_clear(&m);
    camrtc_sigmsg_clear(NULL);
    camrtc_buf_free(&inner);
    camrtc_buf_free(&dec);
    camrtc_buf_free(&out);
}

/* Offers carry IceServerList through both writers. */
TEST(ice_server_list_round_trip)
{
    camrtc_sigmsg m;
    const char *j = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\","
                    "\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Ttl\":300}]}";
    CHECK_EQ_INT(from_client(j, &m, NULL), CAMRTC_OK);
    strcpy(m.peer_id, "v");
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_sigmsg_write_to_client(&b, &m), CAMRTC_OK);
    camrtc_sigmsg back;
    CHECK_EQ_INT(camrtc_sigmsg_parse_from_service((const char *)camrtc_buf_data(&b), b.len, &back, NULL, 0),
                 CAMRTC_OK);
    CHECK_EQ_STR(back.ice_server_list, m.ice_server_list);
    CHECK_EQ_STR(back.peer_id, "v");
    camrtc_sigmsg_clear(&back);
    camrtc_sigmsg_clear(&m);
    camrtc_buf_free(&b);
}

/* Parses json with both client parsers and checks the relay agrees with the
 * reference in everything: return code, reason, fields, and the relayed text
 * against camrtc_sigmsg_write_to_client for a master and a viewer sender.
 * Returns the return code; *fast tells whether the payload was borrowed from
 * json (the in-place path). */
static int relay_vs_reference(const char *json, size_t len, int *fast)
{
    camrtc_sigmsg m;
    camrtc_sigmsg_relay r;
    char want_reason[128] = "x", got_reason[128] = "y";
    int want = camrtc_sigmsg_parse_from_client(json, len, &m, want_reason, sizeof want_reason);
    int got = camrtc_sigmsg_relay_parse(json, len, &r, got_reason, sizeof got_reason);
    int ok = got == want && strcmp(got_reason, want_reason) == 0 &&
             strcmp(r.correlation_id, m.correlation_id) == 0;
    *fast = r.payload && json && r.payload >= json && r.payload < json + len;
    if (ok && want == CAMRTC_OK) {
        ok = r.type == m.type && strcmp(r.peer_id, m.peer_id) == 0 && r.payload_len == m.payload_len &&
             memcmp(r.payload, m.payload, m.payload_len) == 0 &&
             (m.ice_server_list ? r.ice_server_list && r.ice_len == strlen(m.ice_server_list) &&
                                      memcmp(r.ice_server_list, m.ice_server_list, r.ice_len) == 0
                                : r.ice_server_list == NULL);
        static const char *const senders[] = {"", "viewer-1"};
        for (int i = 0; ok && i < 2; i++) {
            camrtc_buf a = {0}, b = {0};
            strcpy(m.peer_id, senders[i]);
            ok = camrtc_sigmsg_write_to_client(&a, &m) == CAMRTC_OK &&
                 camrtc_sigmsg_relay_write(&b, &r, senders[i]) == CAMRTC_OK && a.len == b.len &&
                 memcmp(camrtc_buf_data(&a), camrtc_buf_data(&b), a.len) == 0;
            camrtc_buf_free(&a);
            camrtc_buf_free(&b);
        }
    }
    camrtc_sigmsg_clear(&m);
    camrtc_sigmsg_relay_clear(&r);
    if (!ok) {
        fprintf(stderr, "relay differs on: %.*s\n", (int)len, json ? json : "(null)");
        return 1;
    }
    return got;
}

TEST(relay_matches_reference)
{
    static const struct { const char *json; int rc; int fast; } cases[] = {
        /* Accepted in place: plain strings and null, any key case, whitespace, unknown keys. */
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_OK, 1},
        {"{\n\t\"action\": \"SDP_ANSWER\",\n\t\"RecipientClientId\": \"viewer-1\",\n"
         "\t\"MessagePayload\": \"" OFFER_B64 "\",\n\t\"CorrelationId\": \"1700000000_1\"\n}", CAMRTC_OK, 1},
        {" {\"action\":\"ICE_CANDIDATE\",\"recipientClientId\":\"\",\"messagePayload\":\"Zm9v\","
         "\"correlationId\":null,\"IceServerList\":null,\"x\":\"y z\",\"x\":\"dup of an unknown key\"} \r\n",
         CAMRTC_OK, 1},
        {"{\"ACTION\":\"SDP_OFFER\",\"MESSAGEPAYLOAD\":\"Zg==\",\"RECIPIENTCLIENTID\":\"" "m.A_9-z" "\"}", CAMRTC_OK,
         1},
        /* Accepted by the reference only: escapes, other value types, IceServerList. */
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"ab\\/d\"}", CAMRTC_OK, 0},
        {"{\"act\\u0069on\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_OK, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\",\"n\":1,\"o\":{\"a\":[true]}}", CAMRTC_OK,
         0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\",\"IceServerList\":[ {\"Uris\":[\"turn:a\"]} ]}",
         CAMRTC_OK, 0},
        {"{\"action\":\"SDP_ANSWER\",\"MessagePayload\":\"" OFFER_B64 "\",\"IceServerList\":\"ignored\"}", CAMRTC_OK,
         0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\",\"note\":\"caf\xc3\xa9\"}", CAMRTC_OK, 0},
        {"\xef\xbb\xbf{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_OK, 0},
        /* Refused, with the reference's reason. */
        {"", CAMRTC_EPROTO, 0},
        {"{}", CAMRTC_EPROTO, 0},
        {"[1,2]", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\"} x", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\",}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\" \"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64, CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":nul}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"GO_AWAY\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFERX\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"Action\":\"SDP_OFFER\",\"MessagePayload\":\"" OFFER_B64 "\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zh==\",\"CorrelationId\":\"c-1\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\\\"YmFy\",\"CorrelationId\":\"c-2\"}", CAMRTC_EPROTO,
         0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\",\"RecipientClientId\":\"a\\\"b\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\",\"CorrelationId\":\"\\\"\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"\",\"CorrelationId\":\"c-3\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\",\"IceServerList\":\"x\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\",\"x\":\"a\tb\"}", CAMRTC_OK, 0},
        /* Keys that differ from the known ones only at the end are other keys. */
        {"{\"action\":\"SDP_OFFER\",\"MessagePayloaX\":\"Zm9v\"}", CAMRTC_EPROTO, 0},
        {"{\"actioX\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\"}", CAMRTC_EPROTO, 0},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\",\"RecipientClientIX\":\"a b\"}", CAMRTC_OK, 1},
        {"{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\",\"messagepayloa\":\"\"}", CAMRTC_OK, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fast = -1;
        int rc = relay_vs_reference(cases[i].json, strlen(cases[i].json), &fast);
        if (rc != cases[i].rc || fast != cases[i].fast)
            fprintf(stderr, "case %zu: rc %d fast %d\n", i, rc, fast);
        CHECK_EQ_INT(rc, cases[i].rc);
        CHECK_EQ_INT(fast, cases[i].fast);
    }
    int fast;
    const char nul[] = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\"}\0{";
    CHECK_EQ_INT(relay_vs_reference(nul, sizeof nul - 1, &fast), CAMRTC_EPROTO);
    const char nul2[] = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\",\"x\":\"\0\"}";
    CHECK_EQ_INT(relay_vs_reference(nul2, sizeof nul2 - 1, &fast), CAMRTC_EPROTO);
    CHECK_EQ_INT(relay_vs_reference(NULL, 3, &fast), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigmsg_relay_parse("{}", 2, NULL, NULL, 0), CAMRTC_EINVAL);
}

/* Every payload length and bad byte position through the vector and scalar
 * parts of the base64 check: accepted exactly when the decoder accepts. */
TEST(relay_base64_check_matches_decoder)
{
    static const char bad[] = {'=', '-', '_', ' ', '"', '*', '@', '[', '`', '{', ':', 0x7f, (char)0x80,
                               (char)0xff, 0x01, '.', ','};
    char json[400], payload[200];
    uint8_t dec[200];
    for (size_t n = 1; n <= 140; n++) {
        for (size_t pos = 0; pos <= n; pos++) {
            for (size_t b = 0; b < (pos < n ? sizeof bad : 1); b++) {
                for (size_t i = 0; i < n; i++)
                    payload[i] = "AZaz09+/QRST"[(i * 7 + n) % 12];
                if (pos < n)
                    payload[pos] = bad[b];
                if (n % 4 == 0 && pos == n) {
                    payload[n - 1] = '=';   /* canonical "xyz=" needs z's low 2 bits clear: 'A' has them */
                    payload[n - 2] = 'A';
                }
                int len = snprintf(json, sizeof json, "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"%.*s\"}",
                                   (int)n, payload);
                int fast;
                int rc = relay_vs_reference(json, (size_t)len, &fast);
                int want = camrtc_base64_decode(payload, n, dec, sizeof dec) >= 0 && !memchr(payload, '"', n)
                               ? CAMRTC_OK
                               : CAMRTC_EPROTO;
                if (rc != want)
                    fprintf(stderr, "n %zu pos %zu byte %02x\n", n, pos, (unsigned char)bad[b]);
                CHECK_EQ_INT(rc, want);
                CHECK_EQ_INT(fast, rc == CAMRTC_OK);
            }
        }
    }
    /* Pad bits: "Zg==" is canonical, "Zh==" not; "Zm8=" yes, "Zm9=" no. */
    int fast;
    const char *ok = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm8=\"}";
    const char *not_canonical = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9=\"}";
    CHECK_EQ_INT(relay_vs_reference(ok, strlen(ok), &fast), CAMRTC_OK);
    CHECK_EQ_INT(relay_vs_reference(not_canonical, strlen(not_canonical), &fast), CAMRTC_EPROTO);
}

TEST(relay_write_exact)
{
    camrtc_sigmsg_relay r;
    const char *j = "{\"action\":\"SDP_OFFER\",\"RecipientClientId\":\"ignored\",\"MessagePayload\":\"Zm9v\","
                    "\"CorrelationId\":\"c1\"}";
    CHECK_EQ_INT(camrtc_sigmsg_relay_parse(j, strlen(j), &r, NULL, 0), CAMRTC_OK);
    CHECK_EQ_STR(r.peer_id, "ignored");
    CHECK_EQ_STR(r.correlation_id, "c1");
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_sigmsg_relay_write(&b, &r, "viewer-7"), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&b),
                 "{\"senderClientId\":\"viewer-7\",\"messageType\":\"SDP_OFFER\",\"messagePayload\":\"Zm9v\"}");
    camrtc_buf_reset(&b);
    CHECK_EQ_INT(camrtc_sigmsg_relay_write(&b, &r, ""), CAMRTC_OK);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), "{\"messageType\":\"SDP_OFFER\",\"messagePayload\":\"Zm9v\"}");
    /* Refusals leave out as it was. */
    size_t before = b.len;
    CHECK_EQ_INT(camrtc_sigmsg_relay_write(&b, &r, "bad id"), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_sigmsg_relay_write(&b, &r, NULL), CAMRTC_EINVAL);
    char long_id[CAMRTC_SIGMSG_MAX_ID + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    CHECK_EQ_INT(camrtc_sigmsg_relay_write(&b, &r, long_id), CAMRTC_EINVAL);
    long_id[CAMRTC_SIGMSG_MAX_ID] = '\0';
    camrtc_buf small = {.max_cap = 32};
    CHECK_EQ_INT(camrtc_sigmsg_relay_write(&small, &r, long_id), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(small.len, 0);
    CHECK_EQ_INT(b.len, before);
    camrtc_sigmsg_relay_clear(&r);
    CHECK(r.payload == NULL);
    CHECK_EQ_INT(camrtc_sigmsg_relay_write(&b, &r, ""), CAMRTC_EINVAL);
    camrtc_sigmsg_relay_clear(NULL);
    /* A failed parse keeps the correlation id and leaves nothing to write. */
    const char *nope = "{\"action\":\"NOPE\",\"CorrelationId\":\"c-8\"}";
    CHECK_EQ_INT(camrtc_sigmsg_relay_parse(nope, strlen(nope), &r, NULL, 0), CAMRTC_EPROTO);
    CHECK_EQ_STR(r.correlation_id, "c-8");
    CHECK_EQ_INT(camrtc_sigmsg_relay_write(&b, &r, ""), CAMRTC_EINVAL);
    camrtc_sigmsg_relay_clear(&r);
    camrtc_buf_free(&small);
    camrtc_buf_free(&b);
}

/* The relayed size limits are the reference's: whole message and decoded payload. */
TEST(relay_size_limits)
{
    size_t cap = CAMRTC_SIGMSG_MAX_JSON + 64;
    char *big = malloc(cap);
    CHECK(big != NULL);
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = (CAMRTC_SIGMSG_MAX_PAYLOAD / 3 + extra) * 4;
        int len = snprintf(big, cap, "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"");
        memset(big + len, 'Q', n);
        memcpy(big + len + n, "\"}", 3);
        int fast;
        int rc = relay_vs_reference(big, strlen(big), &fast);
        if (rc != (extra ? CAMRTC_ETOOBIG : CAMRTC_OK)) {
            free(big);
            CHECK_EQ_INT(rc, extra ? CAMRTC_ETOOBIG : CAMRTC_OK);
        }
    }
    size_t len = CAMRTC_SIGMSG_MAX_JSON + 1;
    memset(big, ' ', len);
    memcpy(big, "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\"}", 47);
    int fast;
    int rc = relay_vs_reference(big, len, &fast);
    free(big);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
}

int main(void)
{
    return RUN_TESTS(type_names_round_trip, parse_from_client_c_sdk_style, parse_from_client_js_sdk_style,
                     parse_from_client_keys_case_insensitive, parse_from_client_refusals,
                     parse_from_client_ids_at_limit, parse_from_client_size_limits,
                     parse_from_client_keeps_correlation_id_on_failure, parse_ice_server_list_on_offers_only,
                     parse_from_service_messages, parse_status_response, parse_status_response_truncates_description,
                     write_to_service_pascal_case, write_to_client_camel_case, write_status_response_escapes,
                     payload_helpers_round_trip, ice_server_list_round_trip, relay_matches_reference,
                     relay_base64_check_matches_decoder, relay_write_exact, relay_size_limits);
}
