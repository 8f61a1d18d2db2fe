/* The WebSocket opening handshake (RFC 6455 section 4): accept key, server and
 * client checks, and the messages both sides write. */
#include "check.h"

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"
#include "camrtc/str.h"
#include "camrtc/ws.h"

TEST(accept_key_rfc6455_example)
{
    char out[CAMRTC_WS_ACCEPT_SIZE];
    CHECK_EQ_INT(camrtc_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, sizeof out), CAMRTC_OK);
    CHECK_EQ_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_EQ_INT(camrtc_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, 28), CAMRTC_ETOOBIG);
}

#define H(n, v) {(n), (v)}

TEST(check_upgrade_accepts_a_browser_request)
{
    const camrtc_kv h[] = {
        H("Host", "localhost:8443"), H("Connection", "keep-alive, Upgrade"), H("Pragma", "no-cache"),
        H("Upgrade", "WebSocket"), H("Sec-WebSocket-Version", "13"),
        H("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        H("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
    };
    const char *key = NULL;
    int status = 0;
    CHECK_EQ_INT(camrtc_ws_check_upgrade("GET", 1, h, 7, &key, &status), CAMRTC_OK);
    CHECK(key == h[5].value);
    CHECK_EQ_INT(status, 101);
}

/* check_upgrade on h with header i replaced by (name, value); returns the status. */
static int upgrade_status(const char *method, int minor, int i, const char *name, const char *value)
{
    camrtc_kv h[] = {
        H("Host", "example.com"), H("Upgrade", "websocket"), H("Connection", "Upgrade"),
        H("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), H("Sec-WebSocket-Version", "13"), H("X-Spare", "1"),
    };
    if (i >= 0) {
        h[i].name = name;
        h[i].value = value;
    }
    const char *key = NULL;
    int status = 0;
    int rc = camrtc_ws_check_upgrade(method, minor, h, 6, &key, &status);
    if ((rc == CAMRTC_OK) != (status == 101))
        return -1;
    if (rc == CAMRTC_OK && key != h[3].value)
        return -2;
    return status;
}

TEST(check_upgrade_refusals)
{
    CHECK_EQ_INT(upgrade_status("GET", 1, -1, NULL, NULL), 101);
    CHECK_EQ_INT(upgrade_status("POST", 1, -1, NULL, NULL), 400);
    CHECK_EQ_INT(upgrade_status("get", 1, -1, NULL, NULL), 400);
    CHECK_EQ_INT(upgrade_status("GET", 0, -1, NULL, NULL), 400);
    CHECK_EQ_INT(upgrade_status("GET", 1, 0, "X-Host", "a"), 400);        /* no Host */
    CHECK_EQ_INT(upgrade_status("GET", 1, 1, "X-Upgrade", "websocket"), 400); /* no Upgrade */
    CHECK_EQ_INT(upgrade_status("GET", 1, 1, "Upgrade", "h2c"), 400);
    CHECK_EQ_INT(upgrade_status("GET", 1, 1, "Upgrade", "websockets"), 400);
    CHECK_EQ_INT(upgrade_status("GET", 1, 1, "Upgrade", "h2c, websocket"), 101);
    CHECK_EQ_INT(upgrade_status("GET", 1, 2, "Connection", "keep-alive"), 400);
    CHECK_EQ_INT(upgrade_status("GET", 1, 2, "Connection", "upgraded"), 400);
    CHECK_EQ_INT(upgrade_status("GET", 1, 2, "Connection", " keep-alive ,UPGRADE "), 101);
    CHECK_EQ_INT(upgrade_status("GET", 1, 4, "Sec-WebSocket-Version", "8"), 426);
    CHECK_EQ_INT(upgrade_status("GET", 1, 4, "Sec-WebSocket-Version", "13, 8"), 426);
    CHECK_EQ_INT(upgrade_status("GET", 1, 4, "X-Version", "13"), 426);   /* missing */
    CHECK_EQ_INT(upgrade_status("GET", 1, 3, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j"), 400); /* 15 bytes */
    CHECK_EQ_INT(upgrade_status("GET", 1, 3, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"), 400); /* no padding */
    CHECK_EQ_INT(upgrade_status("GET", 1, 3, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZSE="), 400); /* 17 */
    CHECK_EQ_INT(upgrade_status("GET", 1, 3, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j!Q=="), 400);
    CHECK_EQ_INT(upgrade_status("GET", 1, 3, "Sec-WebSocket-Key", ""), 400);
    CHECK_EQ_INT(upgrade_status("GET", 1, 3, "X-Key", "dGhlIHNhbXBsZSBub25jZQ=="), 400);
    CHECK_EQ_INT(upgrade_status("GET", 1, 5, "Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA=="), 400); /* twice */
    int status = 0;
    CHECK_EQ_INT(camrtc_ws_check_upgrade("GET", 1, NULL, 0, NULL, &status), CAMRTC_EPROTO);
    CHECK_EQ_INT(status, 400);
}

/* Splits an HTTP head into its first line and headers (pointers into text,
 * which is modified). Returns the header count or -1. */
static int split_head(char *text, char **first, camrtc_kv *h, int max)
{
    char *end = strstr(text, "\r\n\r\n");
    if (!end)
        return -1;
    end[2] = '\0';
    *first = text;
    char *p = strstr(text, "\r\n");
    *p = '\0';
    p += 2;
    int n = 0;
    while (*p) {
        char *eol = strstr(p, "\r\n");
        char *colon = strchr(p, ':');
        if (!eol || !colon || colon > eol || n == max)
            return -1;
        *eol = '\0';
        *colon = '\0';
        h[n].name = p;
        h[n].value = colon + 1 + (colon[1] == ' ');
        n++;
        p = eol + 2;
    }
    return n;
}

TEST(client_request_and_server_accept_round_trip)
{
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 5), CAMRTC_OK);
    camrtc_buf req = {0}, resp = {0};
    const camrtc_kv extra[] = {H("User-Agent", "camrtc/0.1"), H("X-Amz-Thing", "a b")};
    char key[CAMRTC_WS_KEY_SIZE];
    CHECK_EQ_INT(camrtc_ws_write_client_request(&req, "signal.example:8443", "/?X-Amz-ChannelARN=arn%3Aaws", &rng,
                                                extra, 2, key, sizeof key), CAMRTC_OK);
    CHECK_EQ_INT(strlen(key), 24);
    char *first;
    camrtc_kv h[16];
    int n = split_head(camrtc_buf_cstr(&req), &first, h, 16);
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_STR(first, "GET /?X-Amz-ChannelARN=arn%3Aaws HTTP/1.1");
    CHECK_EQ_STR(camrtc_kv_get(h, (size_t)n, "Host"), "signal.example:8443");
    CHECK_EQ_STR(camrtc_kv_get(h, (size_t)n, "X-Amz-Thing"), "a b");
    const char *got = NULL;
    int status = 0;
    CHECK_EQ_INT(camrtc_ws_check_upgrade("GET", 1, h, (size_t)n, &got, &status), CAMRTC_OK);
    CHECK_EQ_STR(got, key);
    const camrtc_kv sx[] = {H("Server", "camrtc")};
    CHECK_EQ_INT(camrtc_ws_write_accept(&resp, got, sx, 1), CAMRTC_OK);
    n = split_head(camrtc_buf_cstr(&resp), &first, h, 16);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_STR(first, "HTTP/1.1 101 Switching Protocols");
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, (size_t)n, key), CAMRTC_OK);
    /* A second request gets a different key, which the first answer does not fit. */
    char key2[CAMRTC_WS_KEY_SIZE];
    camrtc_buf req2 = {0};
    CHECK_EQ_INT(camrtc_ws_write_client_request(&req2, "h", "/", &rng, NULL, 0, key2, sizeof key2), CAMRTC_OK);
    CHECK(strcmp(key, key2) != 0);
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, (size_t)n, key2), CAMRTC_EPROTO);
    camrtc_buf_free(&req);
    camrtc_buf_free(&req2);
    camrtc_buf_free(&resp);
    camrtc_rng_free(&rng);
}

TEST(check_accept_refusals)
{
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    camrtc_kv h[] = {
        H("Upgrade", "websocket"), H("Connection", "Upgrade"),
        H("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), H("X-Spare", "1"),
    };
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, 4, key), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ws_check_accept(401, h, 4, key), CAMRTC_EAUTH);
    CHECK_EQ_INT(camrtc_ws_check_accept(403, NULL, 0, key), CAMRTC_EAUTH);
    CHECK_EQ_INT(camrtc_ws_check_accept(200, h, 4, key), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_ws_check_accept(426, h, 4, key), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, 4, "AAAAAAAAAAAAAAAAAAAAAA=="), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, 4, NULL), CAMRTC_EINVAL);
    h[3] = (camrtc_kv)H("Sec-WebSocket-Extensions", "permessage-deflate");
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, 4, key), CAMRTC_EPROTO);
    h[3] = (camrtc_kv)H("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, 4, key), CAMRTC_EPROTO); /* twice */
    h[3] = (camrtc_kv)H("X-Spare", "1");
    h[2].value = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo";
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, 4, key), CAMRTC_EPROTO);
    h[2].value = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    h[0].value = "h2c";
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, 4, key), CAMRTC_EPROTO);
    h[0].value = "websocket";
    h[1].value = "close";
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, 4, key), CAMRTC_EPROTO);
    h[1].name = "X-Connection";
    h[1].value = "upgrade";
    CHECK_EQ_INT(camrtc_ws_check_accept(101, h, 4, key), CAMRTC_EPROTO);
}

TEST(handshake_writers_refuse_header_injection)
{
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 9), CAMRTC_OK);
    camrtc_buf out = {0};
    CHECK_EQ_INT(camrtc_buf_append_str(&out, "prefix"), CAMRTC_OK);
    char key[CAMRTC_WS_KEY_SIZE];
    const camrtc_kv bad_value[] = {H("X-A", "ok\r\nSet-Cookie: x")};
    const camrtc_kv bad_name[] = {H("X A", "ok")};
    CHECK_EQ_INT(camrtc_ws_write_accept(&out, "dGhlIHNhbXBsZSBub25jZQ==", bad_value, 1), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_write_accept(&out, "dGhlIHNhbXBsZSBub25jZQ==", bad_name, 1), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_write_client_request(&out, "h", "/", &rng, bad_value, 1, key, sizeof key), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_write_client_request(&out, "h", "/a b", &rng, NULL, 0, key, sizeof key), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_write_client_request(&out, "h", "x/", &rng, NULL, 0, key, sizeof key), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_write_client_request(&out, "h\r\nX: y", "/", &rng, NULL, 0, key, sizeof key),
                 CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_write_client_request(&out, "", "/", &rng, NULL, 0, key, sizeof key), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_ws_write_client_request(&out, "h", "/", &rng, NULL, 0, key, 24), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(out.len, 6);
    /* A bounded buffer that overflows is left as it was. */
    out.max_cap = 64;
    CHECK_EQ_INT(camrtc_ws_write_accept(&out, "dGhlIHNhbXBsZSBub25jZQ==", NULL, 0), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(out.len, 6);
    CHECK_EQ_MEM(camrtc_buf_data(&out), "prefix", 6);
    camrtc_buf_free(&out);
    camrtc_rng_free(&rng);
}

int main(void)
{
    return RUN_TESTS(accept_key_rfc6455_example, check_upgrade_accepts_a_browser_request, check_upgrade_refusals,
                     client_request_and_server_accept_round_trip, check_accept_refusals,
                     handshake_writers_refuse_header_injection);
}
