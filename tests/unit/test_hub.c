#include "check.h"

#include <stdbool.h>

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/sigmsg.h"
#include "server/hub.h"

#define ARN "arn:aws:kinesisvideo:us-west-2:123456789012:channel/cam/1700000000000"
#define ARN2 "arn:aws:kinesisvideo:us-west-2:123456789012:channel/other/1700000000001"
#define T0 CAMRTC_SEC(1000)

/* ---- a fake glue that records what the hub asks for ---- */

typedef struct sent { uint64_t id; char *text; } sent;
typedef struct closed { uint64_t id; uint16_t code; } closed;

typedef struct fake {
    sent *sends;
    size_t nsends, cap_sends;
    closed *closes;
    size_t ncloses, cap_closes;
} fake;

static void fake_send(void *ud, uint64_t id, const char *text, size_t len)
{
    fake *f = ud;
    if (f->nsends == f->cap_sends) {
        f->cap_sends = f->cap_sends ? 2 * f->cap_sends : 64;
        f->sends = realloc(f->sends, f->cap_sends * sizeof *f->sends);
    }
    char *t = malloc(len + 1);
    memcpy(t, text, len);
    t[len] = '\0';
    f->sends[f->nsends++] = (sent){id, t};
}

static void fake_close(void *ud, uint64_t id, uint16_t code, const char *reason)
{
    fake *f = ud;
    if (f->ncloses == f->cap_closes) {
        f->cap_closes = f->cap_closes ? 2 * f->cap_closes : 64;
        f->closes = realloc(f->closes, f->cap_closes * sizeof *f->closes);
    }
    f->closes[f->ncloses++] = (closed){id, code};
    (void)reason;
}

static void fake_reset(fake *f)
{
    for (size_t i = 0; i < f->nsends; i++)
        free(f->sends[i].text);
    f->nsends = 0;
    f->ncloses = 0;
}

static void fake_free(fake *f)
{
    fake_reset(f);
    free(f->sends);
    free(f->closes);
}

static size_t sends_to(const fake *f, uint64_t id)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nsends; i++)
        n += f->sends[i].id == id;
    return n;
}

/* Parse the k-th message sent to id (as a client would). */
static int received(const fake *f, uint64_t id, size_t k, camrtc_sigmsg *m)
{
    for (size_t i = 0; i < f->nsends; i++) {
        if (f->sends[i].id != id)
            continue;
        if (k-- == 0)
            return camrtc_sigmsg_parse_from_service(f->sends[i].text, strlen(f->sends[i].text), m, NULL, 0);
    }
    memset(m, 0, sizeof *m);
    return CAMRTC_ENOTFOUND;
}

static bool was_closed(const fake *f, uint64_t id, uint16_t code)
{
    for (size_t i = 0; i < f->ncloses; i++)
        if (f->closes[i].id == id && f->closes[i].code == code)
            return true;
    return false;
}

static sig_hub *new_hub(fake *f, const sig_hub_config *cfg)
{
    memset(f, 0, sizeof *f);
    sig_hub_config def;
    sig_hub_config_default(&def);
    static const sig_hub_io io = {fake_send, fake_close};
    return sig_hub_new(cfg ? cfg : &def, &io, f, NULL);
}

static uint64_t connect_ok(sig_hub *h, const char *arn, const char *client, camrtc_time_us now)
{
    uint64_t id = 0;
    const char *why = NULL;
    int rc = sig_hub_connect(h, arn, 60, client, now, &id, &why);
    if (rc != CAMRTC_OK) {
        fprintf(stderr, "connect %s failed: %s (%s)\n", client ? client : "master", camrtc_errname(rc),
                why ? why : "");
        return 0;
    }
    return id;
}

/* Send a client message with an inner JSON payload identifying it by tag. */
static void client_send(sig_hub *h, uint64_t id, camrtc_sigmsg_type type, const char *recipient, const char *corr,
                        const char *tag, camrtc_time_us now)
{
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    if (recipient)
        strcpy(m.peer_id, recipient);
    if (corr)
        strcpy(m.correlation_id, corr);
    char inner[128];
    snprintf(inner, sizeof inner, "{\"tag\":\"%s\"}", tag);
    camrtc_sigmsg_set_payload_json(&m, inner, strlen(inner));
    camrtc_buf b = {0};
    camrtc_sigmsg_write_to_service(&b, &m);
    sig_hub_message(h, id, (const char *)camrtc_buf_data(&b), b.len, now);
    camrtc_buf_free(&b);
    camrtc_sigmsg_clear(&m);
}

/* The tag of a received message's payload, for comparison. */
static bool payload_is(const camrtc_sigmsg *m, const char *tag)
{
    camrtc_buf b = {0};
    char want[128];
    snprintf(want, sizeof want, "{\"tag\":\"%s\"}", tag);
    bool ok = camrtc_sigmsg_get_payload_json(m, &b) == 0 && strcmp(camrtc_buf_cstr(&b), want) == 0;
    camrtc_buf_free(&b);
    return ok;
}

/* ---- tests ---- */

TEST(viewer_to_master_with_sender_id)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    CHECK(h);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    uint64_t viewer = connect_ok(h, ARN, "viewer-1", T0);
    CHECK(master && viewer && master != viewer);
    /* A viewer's RecipientClientId is ignored: everything goes to the master. */
    client_send(h, viewer, CAMRTC_SIGMSG_SDP_OFFER, "someone-else", NULL, "offer1", T0);
    CHECK_EQ_INT(sends_to(&f, master), 1);
    CHECK_EQ_INT(sends_to(&f, viewer), 0);
    camrtc_sigmsg m;
    CHECK_EQ_INT(received(&f, master, 0, &m), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_SDP_OFFER);
    CHECK_EQ_STR(m.peer_id, "viewer-1");
    CHECK(payload_is(&m, "offer1"));
    camrtc_sigmsg_clear(&m);
    CHECK_EQ_INT(sig_hub_get_stats(h)->messages_routed, 1);
    CHECK_EQ_INT(sig_hub_get_stats(h)->messages_in, 1);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(master_to_named_viewer)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    uint64_t v1 = connect_ok(h, ARN, "v1", T0);
    uint64_t v2 = connect_ok(h, ARN, "v2", T0);
    client_send(h, master, CAMRTC_SIGMSG_SDP_ANSWER, "v2", NULL, "answer", T0);
    CHECK_EQ_INT(sends_to(&f, v1), 0);
    CHECK_EQ_INT(sends_to(&f, v2), 1);
    camrtc_sigmsg m;
    CHECK_EQ_INT(received(&f, v2, 0, &m), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_SDP_ANSWER);
    CHECK_EQ_STR(m.peer_id, ""); /* from the master: no senderClientId */
    CHECK(strstr(f.sends[0].text, "senderClientId") == NULL);
    CHECK(payload_is(&m, "answer"));
    camrtc_sigmsg_clear(&m);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(held_for_absent_viewer_then_delivered)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    client_send(h, master, CAMRTC_SIGMSG_SDP_OFFER, "late", NULL, "first", T0);
    client_send(h, master, CAMRTC_SIGMSG_ICE_CANDIDATE, "late", NULL, "second", T0 + CAMRTC_MS(10));
    CHECK_EQ_INT(f.nsends, 0);
    CHECK_EQ_INT(sig_hub_get_stats(h)->messages_held, 2);
    /* Delivered, in order, before connect returns. */
    uint64_t late = connect_ok(h, ARN, "late", T0 + CAMRTC_SEC(5));
    CHECK_EQ_INT(sends_to(&f, late), 2);
    camrtc_sigmsg m;
    CHECK_EQ_INT(received(&f, late, 0, &m), CAMRTC_OK);
    CHECK(payload_is(&m, "first"));
    camrtc_sigmsg_clear(&m);
    CHECK_EQ_INT(received(&f, late, 1, &m), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_ICE_CANDIDATE);
    CHECK(payload_is(&m, "second"));
    camrtc_sigmsg_clear(&m);
    CHECK_EQ_INT(sig_hub_get_stats(h)->messages_routed, 2);
    /* Nothing is delivered twice. */
    sig_hub_disconnect(h, late);
    late = connect_ok(h, ARN, "late", T0 + CAMRTC_SEC(6));
    CHECK_EQ_INT(sends_to(&f, late), 0);
    sig_hub_free(h);
    fake_free(&f);
}

/* Viewer messages wait for a master the same way. */
TEST(held_for_absent_master)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t v = connect_ok(h, ARN, "v", T0);
    client_send(h, v, CAMRTC_SIGMSG_SDP_OFFER, NULL, NULL, "hello", T0);
    uint64_t master = connect_ok(h, ARN, NULL, T0 + CAMRTC_SEC(2));
    CHECK_EQ_INT(sends_to(&f, master), 1);
    camrtc_sigmsg m;
    CHECK_EQ_INT(received(&f, master, 0, &m), CAMRTC_OK);
    CHECK_EQ_STR(m.peer_id, "v");
    camrtc_sigmsg_clear(&m);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(held_message_expires_after_ttl)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = 0;
    const char *why;
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 10, NULL, T0, &master, &why), CAMRTC_OK);
    client_send(h, master, CAMRTC_SIGMSG_SDP_OFFER, "v", NULL, "x", T0);
    camrtc_time_us next = sig_hub_next_timeout(h);
    CHECK(next <= T0 + CAMRTC_SEC(10));
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(9));
    CHECK_EQ_INT(sig_hub_get_stats(h)->messages_expired, 0);
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(10));
    CHECK_EQ_INT(sig_hub_get_stats(h)->messages_expired, 1);
    uint64_t v = 0, w = 0;
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 10, "v", T0 + CAMRTC_SEC(11), &v, &why), CAMRTC_OK);
    CHECK_EQ_INT(sends_to(&f, v), 0);
    /* Expiry also applies when the recipient connects before the timer ran. */
    client_send(h, master, CAMRTC_SIGMSG_SDP_OFFER, "w", NULL, "y", T0 + CAMRTC_SEC(12));
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 10, "w", T0 + CAMRTC_SEC(22), &w, &why), CAMRTC_OK);
    CHECK_EQ_INT(sends_to(&f, w), 0);
    CHECK_EQ_INT(sig_hub_get_stats(h)->messages_expired, 2);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(held_queue_is_bounded)
{
    fake f;
    sig_hub_config cfg;
    sig_hub_config_default(&cfg);
    cfg.sdp_per_s = 0;
    cfg.candidates_per_s = 0;
    sig_hub *h = new_hub(&f, &cfg);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    for (int i = 0; i < cfg.max_held_messages; i++)
        client_send(h, master, CAMRTC_SIGMSG_ICE_CANDIDATE, "absent", NULL, "c", T0);
    CHECK_EQ_INT(sig_hub_get_stats(h)->messages_held, 100);
    client_send(h, master, CAMRTC_SIGMSG_ICE_CANDIDATE, "absent", "corr", "c", T0);
    CHECK_EQ_INT(sig_hub_get_stats(h)->dropped_held_full, 1);
    CHECK_EQ_INT(sends_to(&f, master), 1);
    camrtc_sigmsg m;
    CHECK_EQ_INT(received(&f, master, 0, &m), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_STATUS_RESPONSE);
    CHECK_EQ_STR(m.error_type, "ClientLimitExceededException");
    sig_hub_free(h);
    fake_free(&f);
}

TEST(eleventh_viewer_refused)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    char id[16];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "v%d", i);
        CHECK(connect_ok(h, ARN, id, T0 + CAMRTC_SEC(i)));
    }
    uint64_t c = 0;
    const char *why = NULL;
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 60, "v10", T0 + CAMRTC_SEC(20), &c, &why), CAMRTC_ELIMIT);
    CHECK_EQ_STR(why, "Exceeded the maximum number of viewers for the channel");
    CHECK_EQ_INT(c, 0);
    CHECK_EQ_INT(sig_hub_get_stats(h)->refused_viewer_limit, 1);
    /* The master and a reconnecting viewer still get in. */
    CHECK(connect_ok(h, ARN, NULL, T0 + CAMRTC_SEC(21)));
    CHECK(connect_ok(h, ARN, "v3", T0 + CAMRTC_SEC(22)));
    CHECK_EQ_INT(sig_hub_connection_count(h), 11);
    /* Another channel has its own limit. */
    CHECK(connect_ok(h, ARN2, "v10", T0 + CAMRTC_SEC(22)));
    sig_hub_free(h);
    fake_free(&f);
}

TEST(connect_rate_three_per_second)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    CHECK(connect_ok(h, ARN, "a", T0));
    CHECK(connect_ok(h, ARN, "b", T0));
    CHECK(connect_ok(h, ARN, NULL, T0 + CAMRTC_MS(100)));
    uint64_t c;
    const char *why;
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 60, "d", T0 + CAMRTC_MS(200), &c, &why), CAMRTC_ELIMIT);
    CHECK(why != NULL);
    CHECK_EQ_INT(sig_hub_get_stats(h)->refused_rate, 1);
    /* Other channels are not affected. */
    CHECK(connect_ok(h, ARN2, "d", T0 + CAMRTC_MS(200)));
    /* A third of a second later one more token is back. */
    CHECK(connect_ok(h, ARN, "d", T0 + CAMRTC_MS(450)));
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 60, "e", T0 + CAMRTC_MS(460), &c, &why), CAMRTC_ELIMIT);
    CHECK(connect_ok(h, ARN, "e", T0 + CAMRTC_SEC(2)));
    CHECK_EQ_INT(sig_hub_get_stats(h)->connects, 6);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(new_master_replaces_old)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t m1 = connect_ok(h, ARN, NULL, T0);
    uint64_t v = connect_ok(h, ARN, "v", T0);
    uint64_t m2 = connect_ok(h, ARN, NULL, T0 + CAMRTC_SEC(1));
    CHECK(m2 && m2 != m1);
    CHECK_EQ_INT(f.ncloses, 1);
    CHECK(was_closed(&f, m1, SIG_HUB_CLOSE_REPLACED));
    CHECK_EQ_INT(sig_hub_get_stats(h)->masters_replaced, 1);
    CHECK_EQ_INT(sig_hub_connection_count(h), 2);
    client_send(h, v, CAMRTC_SIGMSG_SDP_OFFER, NULL, NULL, "o", T0 + CAMRTC_SEC(1));
    CHECK_EQ_INT(sends_to(&f, m1), 0);
    CHECK_EQ_INT(sends_to(&f, m2), 1);
    /* The old id is forgotten: its late frames and the glue's disconnect do nothing. */
    client_send(h, m1, CAMRTC_SIGMSG_SDP_ANSWER, "v", NULL, "stale", T0 + CAMRTC_SEC(1));
    CHECK_EQ_INT(sends_to(&f, v), 0);
    sig_hub_disconnect(h, m1);
    CHECK_EQ_INT(sig_hub_connection_count(h), 2);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(same_client_id_replaces_viewer)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    uint64_t a = connect_ok(h, ARN, "cam-viewer", T0);
    uint64_t b = connect_ok(h, ARN, "cam-viewer", T0 + CAMRTC_SEC(1));
    CHECK(a && b && a != b);
    CHECK(was_closed(&f, a, SIG_HUB_CLOSE_REPLACED));
    CHECK_EQ_INT(sig_hub_get_stats(h)->viewers_replaced, 1);
    CHECK_EQ_INT(sig_hub_connection_count(h), 2);
    client_send(h, master, CAMRTC_SIGMSG_SDP_ANSWER, "cam-viewer", NULL, "ans", T0 + CAMRTC_SEC(1));
    CHECK_EQ_INT(sends_to(&f, a), 0);
    CHECK_EQ_INT(sends_to(&f, b), 1);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(offer_rate_five_per_second)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    uint64_t v = connect_ok(h, ARN, "v", T0);
    for (int i = 0; i < 5; i++)
        client_send(h, v, i % 2 ? CAMRTC_SIGMSG_SDP_ANSWER : CAMRTC_SIGMSG_SDP_OFFER, NULL, NULL, "o", T0);
    CHECK_EQ_INT(sends_to(&f, master), 5);
    /* Over the rate: dropped; a STATUS_RESPONSE only when there is a correlation id. */
    client_send(h, v, CAMRTC_SIGMSG_SDP_OFFER, NULL, "c-6", "o", T0);
    client_send(h, v, CAMRTC_SIGMSG_SDP_OFFER, NULL, NULL, "o", T0);
    CHECK_EQ_INT(sends_to(&f, master), 5);
    CHECK_EQ_INT(sig_hub_get_stats(h)->dropped_rate, 2);
    CHECK_EQ_INT(sig_hub_get_stats(h)->status_responses, 1);
    CHECK_EQ_INT(sends_to(&f, v), 1);
    camrtc_sigmsg m;
    CHECK_EQ_INT(received(&f, v, 0, &m), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_STATUS_RESPONSE);
    CHECK_EQ_STR(m.correlation_id, "c-6");
    CHECK_EQ_STR(m.error_type, "ClientLimitExceededException");
    CHECK_EQ_INT(m.status_code, 400);
    /* Candidates have their own bucket. */
    client_send(h, v, CAMRTC_SIGMSG_ICE_CANDIDATE, NULL, NULL, "c", T0);
    CHECK_EQ_INT(sends_to(&f, master), 6);
    /* A second later the budget is back. */
    client_send(h, v, CAMRTC_SIGMSG_SDP_OFFER, NULL, NULL, "o", T0 + CAMRTC_SEC(1));
    CHECK_EQ_INT(sends_to(&f, master), 7);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(candidate_rate_twenty_per_second)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    connect_ok(h, ARN, "v", T0);
    for (int i = 0; i < 21; i++)
        client_send(h, master, CAMRTC_SIGMSG_ICE_CANDIDATE, "v", i == 20 ? "last" : NULL, "c", T0 + CAMRTC_MS(i));
    const sig_hub_stats *st = sig_hub_get_stats(h);
    CHECK_EQ_INT(st->messages_routed, 20);
    CHECK_EQ_INT(st->dropped_rate, 1);
    CHECK_EQ_INT(sends_to(&f, master), 1); /* the status response */
    /* 50 ms refill one candidate token (20/s). */
    client_send(h, master, CAMRTC_SIGMSG_ICE_CANDIDATE, "v", NULL, "c", T0 + CAMRTC_MS(70));
    CHECK_EQ_INT(st->messages_routed, 21);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(malformed_and_oversize_dropped)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    uint64_t v = connect_ok(h, ARN, "v", T0);
    const sig_hub_stats *st = sig_hub_get_stats(h);
    const char *junk = "this is not json";
    sig_hub_message(h, v, junk, strlen(junk), T0);
    CHECK_EQ_INT(st->dropped_malformed, 1);
    CHECK_EQ_INT(f.nsends, 0);
    /* Malformed but with a correlation id: answered. */
    const char *bad = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"%%%%\",\"CorrelationId\":\"k1\"}";
    sig_hub_message(h, v, bad, strlen(bad), T0);
    CHECK_EQ_INT(st->dropped_malformed, 2);
    CHECK_EQ_INT(sends_to(&f, v), 1);
    camrtc_sigmsg m;
    CHECK_EQ_INT(received(&f, v, 0, &m), CAMRTC_OK);
    CHECK_EQ_STR(m.error_type, "InvalidArgumentException");
    CHECK_EQ_STR(m.correlation_id, "k1");
    CHECK(m.description[0] != '\0');
    /* A payload over 10 KB decoded. */
    char *inner = malloc(CAMRTC_SIGMSG_MAX_PAYLOAD + 100);
    memset(inner, 'a', CAMRTC_SIGMSG_MAX_PAYLOAD + 100);
    camrtc_sigmsg big;
    memset(&big, 0, sizeof big);
    big.type = CAMRTC_SIGMSG_SDP_OFFER;
    CHECK_EQ_INT(camrtc_sigmsg_set_payload_json(&big, inner, CAMRTC_SIGMSG_MAX_PAYLOAD), CAMRTC_OK);
    /* Grow the base64 by hand past the limit (set_payload_json refuses it). */
    big.payload = realloc(big.payload, big.payload_len + 5);
    memcpy(big.payload + big.payload_len, "YWFh", 5);
    big.payload_len += 4;
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_sigmsg_write_to_service(&b, &big), CAMRTC_OK);
    sig_hub_message(h, v, (const char *)camrtc_buf_data(&b), b.len, T0);
    CHECK_EQ_INT(st->dropped_too_large, 1);
    /* A frame over the whole-message bound is not even parsed. */
    char *huge = malloc(CAMRTC_SIGMSG_MAX_JSON + 1);
    memset(huge, ' ', CAMRTC_SIGMSG_MAX_JSON + 1);
    sig_hub_message(h, v, huge, CAMRTC_SIGMSG_MAX_JSON + 1, T0);
    CHECK_EQ_INT(st->dropped_too_large, 2);
    CHECK_EQ_INT(sends_to(&f, master), 0);
    CHECK_EQ_INT(st->messages_in, 4);
    free(huge);
    free(inner);
    camrtc_buf_free(&b);
    camrtc_sigmsg_clear(&big);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(master_must_name_recipient)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    connect_ok(h, ARN, "v", T0);
    client_send(h, master, CAMRTC_SIGMSG_SDP_ANSWER, NULL, NULL, "a", T0);
    client_send(h, master, CAMRTC_SIGMSG_SDP_ANSWER, NULL, "q", "a", T0);
    CHECK_EQ_INT(sig_hub_get_stats(h)->dropped_no_recipient, 2);
    CHECK_EQ_INT(f.nsends, 1);
    camrtc_sigmsg m;
    CHECK_EQ_INT(received(&f, master, 0, &m), CAMRTC_OK);
    CHECK_EQ_STR(m.error_type, "InvalidArgumentException");
    sig_hub_free(h);
    fake_free(&f);
}

TEST(idle_timeout_closes)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t v = connect_ok(h, ARN, "v", T0);
    uint64_t w = connect_ok(h, ARN, "w", T0);
    CHECK(sig_hub_next_timeout(h) <= T0 + CAMRTC_SEC(600));
    sig_hub_activity(h, v, T0 + CAMRTC_SEC(300));
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(600));
    CHECK_EQ_INT(f.ncloses, 1);
    CHECK(was_closed(&f, w, SIG_HUB_CLOSE_GOING_AWAY));
    /* v's timer was refreshed by its ping. */
    CHECK(sig_hub_next_timeout(h) <= T0 + CAMRTC_SEC(900));
    CHECK(sig_hub_next_timeout(h) > T0 + CAMRTC_SEC(600));
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(899));
    CHECK_EQ_INT(f.ncloses, 1);
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(900));
    CHECK(was_closed(&f, v, SIG_HUB_CLOSE_GOING_AWAY));
    CHECK_EQ_INT(sig_hub_get_stats(h)->idle_closed, 2);
    CHECK_EQ_INT(sig_hub_connection_count(h), 0);
    sig_hub_free(h);
    fake_free(&f);
}

/* Keeps a connection busy with pings and runs the timers whenever they are due. */
TEST(go_away_before_max_duration_then_close)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    camrtc_time_us go_away_at = 0, closed_at = 0;
    for (camrtc_time_us t = T0; t <= T0 + CAMRTC_SEC(3700) && !closed_at; t += CAMRTC_SEC(10)) {
        sig_hub_activity(h, master, t);
        while (sig_hub_next_timeout(h) <= t) {
            sig_hub_handle_timeout(h, t);
            if (!go_away_at && sends_to(&f, master))
                go_away_at = t;
            if (f.ncloses)
                closed_at = t;
        }
    }
    CHECK_EQ_INT(go_away_at, T0 + CAMRTC_SEC(3540));
    CHECK_EQ_INT(closed_at, T0 + CAMRTC_SEC(3600));
    camrtc_sigmsg m;
    CHECK_EQ_INT(received(&f, master, 0, &m), CAMRTC_OK);
    CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_GO_AWAY);
    CHECK_EQ_INT(sends_to(&f, master), 1);
    CHECK(was_closed(&f, master, SIG_HUB_CLOSE_GOING_AWAY));
    CHECK_EQ_INT(sig_hub_get_stats(h)->go_away_sent, 1);
    CHECK_EQ_INT(sig_hub_get_stats(h)->duration_closed, 1);
    CHECK_EQ_INT(sig_hub_get_stats(h)->idle_closed, 0);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(announce_go_away_and_reconnect_ice)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t ids[3] = {connect_ok(h, ARN, NULL, T0), connect_ok(h, ARN, "a", T0), connect_ok(h, ARN, "b", T0)};
    uint64_t other = connect_ok(h, ARN2, NULL, T0);
    CHECK_EQ_INT(sig_hub_announce(h, ARN, CAMRTC_SIGMSG_RECONNECT_ICE_SERVER, T0 + CAMRTC_SEC(1)), 3);
    for (int i = 0; i < 3; i++) {
        camrtc_sigmsg m;
        CHECK_EQ_INT(received(&f, ids[i], 0, &m), CAMRTC_OK);
        CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_RECONNECT_ICE_SERVER);
    }
    CHECK_EQ_INT(sends_to(&f, other), 0);
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(120));
    CHECK_EQ_INT(f.ncloses, 0);

    CHECK_EQ_INT(sig_hub_announce(h, ARN, CAMRTC_SIGMSG_GO_AWAY, T0 + CAMRTC_SEC(130)), 3);
    for (int i = 0; i < 3; i++) {
        camrtc_sigmsg m;
        CHECK_EQ_INT(received(&f, ids[i], 1, &m), CAMRTC_OK);
        CHECK_EQ_INT(m.type, CAMRTC_SIGMSG_GO_AWAY);
    }
    CHECK(sig_hub_next_timeout(h) <= T0 + CAMRTC_SEC(190));
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(189));
    CHECK_EQ_INT(f.ncloses, 0);
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(190));
    CHECK_EQ_INT(f.ncloses, 3);
    for (int i = 0; i < 3; i++)
        CHECK(was_closed(&f, ids[i], SIG_HUB_CLOSE_GOING_AWAY));
    CHECK_EQ_INT(sig_hub_connection_count(h), 1);
    CHECK_EQ_INT(sig_hub_get_stats(h)->go_away_sent, 3);
    CHECK_EQ_INT(sig_hub_announce(h, "arn:nope", CAMRTC_SIGMSG_GO_AWAY, T0), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(sig_hub_announce(h, ARN2, CAMRTC_SIGMSG_SDP_OFFER, T0), CAMRTC_EINVAL);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(channel_deleted_closes_all)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    uint64_t a = connect_ok(h, ARN, "a", T0);
    uint64_t b = connect_ok(h, ARN, "b", T0);
    uint64_t other = connect_ok(h, ARN2, "a", T0);
    client_send(h, master, CAMRTC_SIGMSG_SDP_OFFER, "later", NULL, "held", T0);
    sig_hub_channel_deleted(h, ARN);
    CHECK_EQ_INT(f.ncloses, 3);
    CHECK(was_closed(&f, master, SIG_HUB_CLOSE_GOING_AWAY));
    CHECK(was_closed(&f, a, SIG_HUB_CLOSE_GOING_AWAY));
    CHECK(was_closed(&f, b, SIG_HUB_CLOSE_GOING_AWAY));
    CHECK(!was_closed(&f, other, SIG_HUB_CLOSE_GOING_AWAY));
    CHECK_EQ_INT(sig_hub_connection_count(h), 1);
    CHECK_EQ_INT(sig_hub_announce(h, ARN, CAMRTC_SIGMSG_GO_AWAY, T0), CAMRTC_ENOTFOUND);
    /* A channel recreated under the same ARN starts empty: the held message is gone. */
    uint64_t later = connect_ok(h, ARN, "later", T0 + CAMRTC_SEC(1));
    CHECK_EQ_INT(sends_to(&f, later), 0);
    sig_hub_channel_deleted(h, "arn:unknown");
    sig_hub_free(h);
    fake_free(&f);
}

TEST(disconnect_unknown_id_harmless)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    sig_hub_disconnect(h, 12345);
    sig_hub_activity(h, 12345, T0);
    sig_hub_message(h, 12345, "{}", 2, T0);
    uint64_t v = connect_ok(h, ARN, "v", T0);
    sig_hub_disconnect(h, v);
    sig_hub_disconnect(h, v);
    CHECK_EQ_INT(sig_hub_connection_count(h), 0);
    CHECK_EQ_INT(sig_hub_get_stats(h)->messages_in, 0);
    CHECK_EQ_INT(f.nsends + f.ncloses, 0);
    /* The empty channel is forgotten once its connect bucket has refilled. */
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(2));
    CHECK_EQ_INT(sig_hub_announce(h, ARN, CAMRTC_SIGMSG_GO_AWAY, T0 + CAMRTC_SEC(2)), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(sig_hub_next_timeout(h), CAMRTC_TIME_NEVER);
    sig_hub_free(h);
    sig_hub_free(NULL);
    fake_free(&f);
}

TEST(connect_argument_checks)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t c;
    const char *why = NULL;
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 60, "AWS_reserved", T0, &c, &why), CAMRTC_EINVAL);
    CHECK(why != NULL);
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 60, "has space", T0, &c, &why), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 60, "", T0, &c, &why), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 4, NULL, T0, &c, &why), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_hub_connect(h, ARN, 121, NULL, T0, &c, &why), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_hub_connect(h, "", 60, NULL, T0, &c, &why), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_hub_connection_count(h), 0);
    sig_hub_free(h);

    sig_hub_config cfg;
    sig_hub_config_default(&cfg);
    static const sig_hub_io io = {fake_send, fake_close};
    static const sig_hub_io no_close = {fake_send, NULL};
    CHECK(sig_hub_new(&cfg, &no_close, &f, NULL) == NULL);
    cfg.max_viewers = -1;
    CHECK(sig_hub_new(&cfg, &io, &f, NULL) == NULL);
    sig_hub_config_default(&cfg);
    cfg.max_connections = 2;
    h = sig_hub_new(&cfg, &io, &f, NULL);
    CHECK(connect_ok(h, ARN, NULL, T0));
    CHECK(connect_ok(h, ARN, "a", T0));
    CHECK_EQ_INT(sig_hub_connect(h, ARN2, 60, NULL, T0, &c, &why), CAMRTC_ELIMIT);
    CHECK_EQ_INT(sig_hub_get_stats(h)->refused_connections, 1);
    sig_hub_free(h);
    fake_free(&f);
}

TEST(timers_off_means_never)
{
    fake f;
    sig_hub_config cfg;
    sig_hub_config_default(&cfg);
    cfg.idle_timeout = 0;
    cfg.max_duration = 0;
    sig_hub *h = new_hub(&f, &cfg);
    connect_ok(h, ARN, NULL, T0);
    CHECK_EQ_INT(sig_hub_next_timeout(h), CAMRTC_TIME_NEVER);
    sig_hub_handle_timeout(h, T0 + CAMRTC_SEC(100000));
    CHECK_EQ_INT(f.ncloses, 0);
    sig_hub_free(h);
    fake_free(&f);
}

/* 100 channels with a master and 9 viewers each: every viewer offers, every master answers. */
TEST(thousand_connections_over_hundred_channels)
{
    enum { CH = 100, PER = 10 };
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    static uint64_t ids[CH][PER];
    char arn[128], id[32];
    for (int k = 0; k < PER; k++) {
        /* Connect rate is per channel: one round per second. */
        camrtc_time_us t = T0 + CAMRTC_SEC(k);
        for (int c = 0; c < CH; c++) {
            snprintf(arn, sizeof arn, "arn:aws:kinesisvideo:us-east-1:123456789012:channel/ch%d/1700000000000", c);
            snprintf(id, sizeof id, "viewer-%d", k);
            ids[c][k] = connect_ok(h, arn, k == 0 ? NULL : id, t);
            CHECK(ids[c][k]);
        }
    }
    CHECK_EQ_INT(sig_hub_connection_count(h), CH * PER);
    camrtc_time_us t = T0 + CAMRTC_SEC(20);
    for (int c = 0; c < CH; c++)
        for (int k = 1; k < PER; k++)
            client_send(h, ids[c][k], CAMRTC_SIGMSG_SDP_OFFER, NULL, NULL, "offer", t);
    for (int c = 0; c < CH; c++) {
        CHECK_EQ_INT(sends_to(&f, ids[c][0]), PER - 1);
        for (int k = 1; k < PER; k++) {
            /* Within the master's 5 answers per second. */
            snprintf(id, sizeof id, "viewer-%d", k);
            client_send(h, ids[c][0], CAMRTC_SIGMSG_SDP_ANSWER, id, NULL, "answer", t + CAMRTC_MS(200) * k);
        }
    }
    for (int c = 0; c < CH; c++)
        for (int k = 1; k < PER; k++)
            CHECK_EQ_INT(sends_to(&f, ids[c][k]), 1);
    const sig_hub_stats *st = sig_hub_get_stats(h);
    CHECK_EQ_INT(st->messages_routed, 2 * CH * (PER - 1));
    CHECK_EQ_INT(st->messages_held + st->dropped_rate + st->dropped_malformed, 0);
    /* Everyone leaves; the channels are forgotten once their buckets refill. */
    for (int c = 0; c < CH; c++)
        for (int k = 0; k < PER; k++)
            sig_hub_disconnect(h, ids[c][k]);
    CHECK_EQ_INT(sig_hub_connection_count(h), 0);
    sig_hub_handle_timeout(h, t + CAMRTC_SEC(4));
    CHECK_EQ_INT(sig_hub_next_timeout(h), CAMRTC_TIME_NEVER);
    printf("per-connection memory: %zu bytes + client id\n", sig_hub_connection_size());
    sig_hub_free(h);
    fake_free(&f);
}

/* Messages outside the in-place fast path (IceServerList, JSON escapes, other
 * value types) are relayed as the reference codec writes them, also when held. */
TEST(relays_what_the_reference_parser_accepts)
{
    fake f;
    sig_hub *h = new_hub(&f, NULL);
    uint64_t master = connect_ok(h, ARN, NULL, T0);
    uint64_t viewer = connect_ok(h, ARN, "viewer-1", T0);
    const char *offer = "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"Zm9v\",\"n\":1,"
                        "\"IceServerList\":[ {\"Uris\": [\"turn:a\"], \"Ttl\": 300} ]}";
    sig_hub_message(h, viewer, offer, strlen(offer), T0);
    const char *answer = "{\"action\":\"SDP_ANSWER\",\"RecipientClientId\":\"late\",\"MessagePayload\":\"ab\\/d\"}";
    sig_hub_message(h, master, answer, strlen(answer), T0);
    CHECK_EQ_INT(sends_to(&f, master), 1);
    CHECK_EQ_STR(f.sends[0].text, "{\"senderClientId\":\"viewer-1\",\"messageType\":\"SDP_OFFER\","
                                  "\"messagePayload\":\"Zm9v\",\"IceServerList\":[{\"Uris\":[\"turn:a\"],\"Ttl\":300}]}");
    uint64_t late = connect_ok(h, ARN, "late", T0 + CAMRTC_SEC(1));
    CHECK_EQ_INT(sends_to(&f, late), 1);
    CHECK_EQ_STR(f.sends[1].text, "{\"messageType\":\"SDP_ANSWER\",\"messagePayload\":\"ab/d\"}");
    const sig_hub_stats *st = sig_hub_get_stats(h);
    CHECK_EQ_INT(st->messages_routed, 2);
    CHECK_EQ_INT(st->messages_held, 1);
    sig_hub_free(h);
    fake_free(&f);
}

int main(void)
{
    return RUN_TESTS(viewer_to_master_with_sender_id, master_to_named_viewer, held_for_absent_viewer_then_delivered,
                     held_for_absent_master, held_message_expires_after_ttl, held_queue_is_bounded,
                     eleventh_viewer_refused, connect_rate_three_per_second, new_master_replaces_old,
                     same_client_id_replaces_viewer, offer_rate_five_per_second, candidate_rate_twenty_per_second,
                     malformed_and_oversize_dropped, master_must_name_recipient, idle_timeout_closes,
                     go_away_before_max_duration_then_close, announce_go_away_and_reconnect_ice,
                     channel_deleted_closes_all, disconnect_unknown_id_harmless, connect_argument_checks,
                     timers_off_means_never, thousand_connections_over_hundred_channels,
                     relays_what_the_reference_parser_accepts);
}
