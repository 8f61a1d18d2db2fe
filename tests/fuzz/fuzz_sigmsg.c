/* Fuzzes both signaling message parsers and the payload helpers. Whatever a
 * parser accepts must survive write -> parse unchanged (the writers' output is
 * what the other end parses). The relay parser (in place, the service's hot
 * path) must agree with camrtc_sigmsg_parse_from_client on every input, and
 * relay what camrtc_sigmsg_write_to_client writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/buf.h"
#include "camrtc/sigmsg.h"

static int same(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static void check_equal(const camrtc_sigmsg *a, const camrtc_sigmsg *b, int status)
{
    if (a->type != b->type || strcmp(a->peer_id, b->peer_id) != 0 || !same(a->payload, b->payload) ||
        a->payload_len != b->payload_len || !same(a->ice_server_list, b->ice_server_list))
        abort();
    if (status && (strcmp(a->correlation_id, b->correlation_id) != 0 || a->status_code != b->status_code ||
                   strcmp(a->error_type, b->error_type) != 0 || strcmp(a->description, b->description) != 0))
        abort();
}

static void round_trip_client(const camrtc_sigmsg *m)
{
    camrtc_buf b = {0};
    if (camrtc_sigmsg_write_to_service(&b, m) != 0)
        abort();
    camrtc_sigmsg back;
    if (camrtc_sigmsg_parse_from_client((const char *)camrtc_buf_data(&b), b.len, &back, NULL, 0) != 0)
        abort();
    check_equal(m, &back, 0);
    if (strcmp(m->correlation_id, back.correlation_id) != 0)
        abort();
    camrtc_sigmsg_clear(&back);
    camrtc_buf_free(&b);
}

static void round_trip_service(const camrtc_sigmsg *m)
{
    camrtc_buf b = {0};
    if (camrtc_sigmsg_write_to_client(&b, m) != 0)
        abort();
    camrtc_sigmsg back;
    if (camrtc_sigmsg_parse_from_service((const char *)camrtc_buf_data(&b), b.len, &back, NULL, 0) != 0)
        abort();
    check_equal(m, &back, m->type == CAMRTC_SIGMSG_STATUS_RESPONSE);
    camrtc_sigmsg_clear(&back);
    camrtc_buf_free(&b);
}

static void payload(const camrtc_sigmsg *m)
{
    camrtc_buf inner = {0}, out = {0};
    if (camrtc_sigmsg_get_payload_json(m, &inner) == 0) {
        char type[8], mid[64];
        int idx;
        camrtc_sigmsg_parse_sdp_json((const char *)camrtc_buf_data(&inner), inner.len, type, sizeof type, &out);
        camrtc_buf_reset(&out);
        camrtc_sigmsg_parse_candidate_json((const char *)camrtc_buf_data(&inner), inner.len, &out, mid, sizeof mid,
                                           &idx);
    }
    camrtc_buf_free(&inner);
    camrtc_buf_free(&out);
}

static void relay_vs_reference(const char *json, size_t size)
{
    camrtc_sigmsg m;
    camrtc_sigmsg_relay r;
    char want_reason[128], got_reason[128];
    int want = camrtc_sigmsg_parse_from_client(json, size, &m, want_reason, sizeof want_reason);
    int got = camrtc_sigmsg_relay_parse(json, size, &r, got_reason, sizeof got_reason);
    if (got != want || strcmp(got_reason, want_reason) != 0 || strcmp(r.correlation_id, m.correlation_id) != 0)
        abort();
    if (want == 0) {
        if (r.type != m.type || strcmp(r.peer_id, m.peer_id) != 0 || r.payload_len != m.payload_len ||
            memcmp(r.payload, m.payload, m.payload_len) != 0)
            abort();
        if (m.ice_server_list ? !r.ice_server_list || r.ice_len != strlen(m.ice_server_list) ||
                                    memcmp(r.ice_server_list, m.ice_server_list, r.ice_len) != 0
                              : r.ice_server_list != NULL)
            abort();
        static const char *const senders[] = {"", "viewer-1"};
        for (int i = 0; i < 2; i++) {
            camrtc_buf a = {0}, b = {0};
            strcpy(m.peer_id, senders[i]);
            if (camrtc_sigmsg_write_to_client(&a, &m) != 0 || camrtc_sigmsg_relay_write(&b, &r, senders[i]) != 0 ||
                a.len != b.len || memcmp(camrtc_buf_data(&a), camrtc_buf_data(&b), a.len) != 0)
                abort();
            camrtc_buf_free(&a);
            camrtc_buf_free(&b);
        }
    }
    camrtc_sigmsg_clear(&m);
    camrtc_sigmsg_relay_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    camrtc_sigmsg m;
    char reason[128];
    if (camrtc_sigmsg_parse_from_client(json, size, &m, reason, sizeof reason) == 0) {
        round_trip_client(&m);
        payload(&m);
        camrtc_sigmsg_clear(&m);
    }
    if (camrtc_sigmsg_parse_from_service(json, size, &m, reason, sizeof reason) == 0) {
        round_trip_service(&m);
        payload(&m);
        camrtc_sigmsg_clear(&m);
    }
    relay_vs_reference(json, size);
    /* The inner payload parsers on raw input as well. */
    camrtc_buf out = {0};
    char type[8], mid[64];
    int idx;
    camrtc_sigmsg_parse_sdp_json(json, size, type, sizeof type, &out);
    camrtc_buf_reset(&out);
    camrtc_sigmsg_parse_candidate_json(json, size, &out, mid, sizeof mid, &idx);
    camrtc_buf_free(&out);
    return 0;
}
