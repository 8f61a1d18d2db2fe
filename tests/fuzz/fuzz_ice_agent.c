/* Fuzzes the ICE agent's input paths: one agent with fixed credentials, one host socket, a
 * STUN server, a UDP TURN server and a remote candidate. The input is a sequence of records
 * [op][len hi][len lo][len bytes]:
 *   0  a raw datagram from one of four addresses (first payload byte picks it)
 *   1  a Binding request with a valid MESSAGE-INTEGRITY (our pwd) and FINGERPRINT; the payload
 *      picks PRIORITY, role attribute, tie-breaker, USE-CANDIDATE and the source
 *   2  an answer to the agent's last request (success with a mapped address, or an error
 *      code), valid MESSAGE-INTEGRITY with the remote pwd — or with a wrong key
 *   3  time passes (payload = milliseconds), then the timers run
 *   4  a remote candidate (address and priority from the payload)
 *   5  a control call: end-of-candidates, restart, new remote credentials, send, close
 *   6  the TURN server answers the last request sent to it (401 challenge, or success
 *      with MESSAGE-INTEGRITY from the long-term key; Allocate gets a relayed address)
 *   7  a peer's datagram through the TURN relay (Data indication): raw bytes, or a valid
 *      check as in 1
 * Whatever the input, the agent must not crash, leak or loop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/ice.h"
#include "camrtc/stun.h"

#define LUFRAG "fzLU"
#define LPWD "fuzzlocalpassword01234"
#define RUFRAG "fzRU"
#define RPWD "fuzzremotepassword0123"

typedef struct fz {
    camrtc_ice_agent *a;
    camrtc_time_us now;
    uint8_t last_txid[12];
    bool have_txid;
    camrtc_addr last_to;
    camrtc_addr addrs[4];
    uint8_t turn_txid[12];
    uint16_t turn_method;
    bool have_turn;
} fz;

static void fz_send(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    fz *f = user;
    (void)sock;
    if (camrtc_addr_equal(to, &f->addrs[2])) {
        camrtc_stun_msg m;
        if (camrtc_stun_parse(&m, data, len) == 0 && camrtc_stun_class(m.type) == CAMRTC_STUN_REQUEST) {
            memcpy(f->turn_txid, m.txid, 12);
            f->turn_method = camrtc_stun_method(m.type);
            f->have_turn = true;
        }
        return;
    }
    if (len >= 20 && camrtc_stun_is_message(data, len) && (data[0] & 0x01) == 0 && (data[1] & 0x10) == 0) {
        memcpy(f->last_txid, data + 8, 12); /* a request of ours: remember it to answer */
        f->have_txid = true;
        f->last_to = *to;
    }
}

static void fz_event(void *user, const camrtc_ice_event *ev)
{
    fz *f = user;
    if (ev->type == CAMRTC_ICE_EV_DATA && ev->len)
        camrtc_ice_send(f->a, f->now, ev->data, ev->len); /* echo, as DTLS would answer */
}

static void fz_open(void *user, int stream, const camrtc_addr *to, bool tls)
{
    (void)user, (void)stream, (void)to, (void)tls;
}

static void fz_send_stream(void *user, int stream, const uint8_t *data, size_t len)
{
    (void)user, (void)stream, (void)data, (void)len;
}

static void fz_close(void *user, int stream)
{
    (void)user, (void)stream;
}

static const camrtc_ice_io fz_io = {
    .send_udp = fz_send, .open_stream = fz_open, .send_stream = fz_send_stream, .close_stream = fz_close,
    .event = fz_event};

static uint32_t rd32(const uint8_t *p, size_t len, size_t off)
{
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++)
        v = (v << 8) | (off + i < len ? p[off + i] : 0);
    return v;
}

/* A check from the peer, built from fuzz bytes; returns its length (0 when none). */
static size_t build_request(uint8_t *buf, size_t cap, const uint8_t *p, size_t n)
{
    uint8_t txid[12] = {0};
    memcpy(txid, p, n < 12 ? n : 12);
    uint8_t flags = n > 12 ? p[12] : 0;
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, cap, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST), txid);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, (flags & 0x40) ? "nope:" RUFRAG : LUFRAG ":" RUFRAG);
    if (!(flags & 0x01))
        camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, rd32(p, n, 13));
    uint64_t tb = ((uint64_t)rd32(p, n, 17) << 32) | rd32(p, n, 21);
    if (flags & 0x02)
        camrtc_stun_add_u64(&b, CAMRTC_STUN_A_ICE_CONTROLLING, tb);
    else if (flags & 0x04)
        camrtc_stun_add_u64(&b, CAMRTC_STUN_A_ICE_CONTROLLED, tb);
    if (flags & 0x08)
        camrtc_stun_add(&b, CAMRTC_STUN_A_USE_CANDIDATE, NULL, 0);
    if (n > 25)
        camrtc_stun_add(&b, CAMRTC_STUN_A_SOFTWARE, p + 25, n - 25 > 200 ? 200 : n - 25);
    const char *key = (flags & 0x10) ? "wrong-key" : LPWD;
    camrtc_stun_add_integrity(&b, (const uint8_t *)key, strlen(key));
    camrtc_stun_add_fingerprint(&b);
    int len = camrtc_stun_build_finish(&b);
    return len > 0 ? (size_t)len : 0;
}

static void op_request(fz *f, const uint8_t *p, size_t n)
{
    uint8_t buf[1500];
    size_t len = build_request(buf, sizeof buf, p, n);
    uint8_t flags = n > 12 ? p[12] : 0;
    if (len)
        camrtc_ice_udp_input(f->a, f->now, 1, &f->addrs[(flags >> 5) & 1 ? 3 : 0], buf, len);
}

static void op_turn_answer(fz *f, const uint8_t *p, size_t n)
{
    if (!f->have_turn)
        return;
    uint8_t flags = n ? p[0] : 0, key[16], buf[512];
    camrtc_stun_longterm_key("u", "realm", 5, "p", key);
    camrtc_stun_builder b;
    bool challenge = flags & 1;
    camrtc_stun_build_init(&b, buf, sizeof buf,
                           camrtc_stun_type(f->turn_method, challenge ? CAMRTC_STUN_ERROR : CAMRTC_STUN_SUCCESS),
                           f->turn_txid);
    if (challenge) {
        camrtc_stun_add_error(&b, (flags & 2) ? 438 : 401, NULL);
        camrtc_stun_add(&b, CAMRTC_STUN_A_REALM, "realm", 5);
        camrtc_stun_add(&b, CAMRTC_STUN_A_NONCE, "nonce", 5);
    } else {
        if (f->turn_method == CAMRTC_STUN_ALLOCATE) {
            camrtc_addr relayed;
            camrtc_addr_parse(&relayed, "192.0.2.2", (uint16_t)(50000 + (flags >> 4)));
            camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_RELAYED_ADDRESS, &relayed);
            camrtc_addr mapped;
            camrtc_addr_parse(&mapped, "198.51.100.1", 40000);
            camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &mapped);
        }
        camrtc_stun_add_u32(&b, CAMRTC_STUN_A_LIFETIME, (flags & 4) ? 0 : rd32(p, n, 1) % 3600);
        camrtc_stun_add_integrity(&b, key, sizeof key);
    }
    camrtc_stun_add_fingerprint(&b);
    int len = camrtc_stun_build_finish(&b);
    if (len > 0)
        camrtc_ice_udp_input(f->a, f->now, 1, &f->addrs[2], buf, (size_t)len);
}

static void op_relayed(fz *f, const uint8_t *p, size_t n)
{
    uint8_t inner[1500], buf[1600];
    const uint8_t *d = n ? p + 1 : p;
    size_t dl = n ? n - 1 : 0;
    if (n && (p[0] & 1)) {
        dl = build_request(inner, sizeof inner, p + 1, n - 1);
        d = inner;
    }
    static const uint8_t txid[12] = {7};
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_DATA, CAMRTC_STUN_INDICATION), txid);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &f->addrs[n && (p[0] & 2) ? 3 : 0]);
    camrtc_stun_add(&b, CAMRTC_STUN_A_DATA, d, dl);
    int len = camrtc_stun_build_finish(&b);
    if (len > 0)
        camrtc_ice_udp_input(f->a, f->now, 1, &f->addrs[2], buf, (size_t)len);
}

static void op_answer(fz *f, const uint8_t *p, size_t n)
{
    if (!f->have_txid || n < 1)
        return;
    uint8_t flags = p[0], buf[512];
    bool error = flags & 0x01;
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf,
                           camrtc_stun_type(CAMRTC_STUN_BINDING, error ? CAMRTC_STUN_ERROR : CAMRTC_STUN_SUCCESS),
                           f->last_txid);
    if (error) {
        camrtc_stun_add_error(&b, (flags & 0x02) ? 487 : 400 + (int)(rd32(p, n, 1) % 200), NULL);
    } else {
        camrtc_addr m = f->addrs[0];
        m.port = (uint16_t)rd32(p, n, 1);
        if (flags & 0x02)
            m.ip[3] ^= p[n - 1];
        camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &m);
    }
    if (!(flags & 0x04)) {
        const char *key = (flags & 0x08) ? "wrong-key" : RPWD;
        camrtc_stun_add_integrity(&b, (const uint8_t *)key, strlen(key));
    }
    camrtc_stun_add_fingerprint(&b);
    int len = camrtc_stun_build_finish(&b);
    const camrtc_addr *from = (flags & 0x10) ? &f->addrs[(flags >> 5) & 3] : &f->last_to;
    if (len > 0)
        camrtc_ice_udp_input(f->a, f->now, 1, from, buf, (size_t)len);
}

static void op_timeout(fz *f, const uint8_t *p, size_t n)
{
    uint32_t ms = rd32(p, n, 0) % 60000;
    camrtc_time_us until = f->now + (camrtc_time_us)ms * 1000;
    /* Run every timer due until then. A deadline that handle_timeout does not move would
     * spin the glue's loop: that is a bug, so it aborts. */
    int stuck = 0;
    for (int i = 0; i < 100000; i++) {
        camrtc_time_us t = camrtc_ice_next_timeout(f->a);
        if (t > until)
            break;
        if (t > f->now) {
            f->now = t;
            stuck = 0;
        } else if (++stuck > 50) {
            abort();
        }
        camrtc_ice_handle_timeout(f->a, f->now);
    }
    f->now = until;
}

static void op_candidate(fz *f, const uint8_t *p, size_t n)
{
    camrtc_ice_candidate c;
    memset(&c, 0, sizeof c);
    c.component = n > 0 ? (p[0] & 3) : 1;
    c.type = (camrtc_ice_cand_type)(n > 1 ? p[1] % 4 : 0);
    c.priority = rd32(p, n, 2);
    c.addr = f->addrs[n > 6 ? p[6] & 3 : 0];
    c.addr.port = (uint16_t)(rd32(p, n, 7) >> 16);
    if (n > 11 && (p[11] & 1)) {
        c.addr.family = 6;
        memcpy(c.addr.ip, p, n < 16 ? n : 16);
    }
    c.tcp = n > 11 && (p[11] & 2);
    memcpy(c.foundation, "fz", 3);
    camrtc_ice_add_remote_candidate(f->a, f->now, &c);
}

static void op_control(fz *f, const uint8_t *p, size_t n)
{
    switch (n ? p[0] % 6 : 0) {
    case 0:
        camrtc_ice_remote_end_of_candidates(f->a, f->now);
        break;
    case 1:
        camrtc_ice_restart(f->a, f->now);
        break;
    case 2:
        camrtc_ice_set_remote_credentials(f->a, f->now, RUFRAG, RPWD);
        break;
    case 3:
        camrtc_ice_set_remote_credentials(f->a, f->now, "fzR2", "fuzzremotepassword0124");
        break;
    case 4:
        camrtc_ice_send(f->a, f->now, p, n);
        break;
    default:
        camrtc_ice_close(f->a, f->now);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    camrtc_rng rng;
    if (camrtc_rng_init_seed(&rng, 42) != 0)
        return 0;
    fz f;
    memset(&f, 0, sizeof f);
    f.now = 1000000;
    camrtc_addr_parse(&f.addrs[0], "10.0.0.2", 6000);
    camrtc_addr_parse(&f.addrs[1], "192.0.2.1", 3478);  /* STUN server */
    camrtc_addr_parse(&f.addrs[2], "192.0.2.2", 3478);  /* TURN server (UDP) */
    camrtc_addr_parse(&f.addrs[3], "10.0.0.99", 7000);  /* a stranger */
    camrtc_ice_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.controlling = size > 0 && (data[0] & 1);
    cfg.ufrag = LUFRAG;
    cfg.pwd = LPWD;
    cfg.tiebreaker = 0x1234567890ULL;
    cfg.max_remote_candidates = 8;
    cfg.max_pairs = 8;
    f.a = camrtc_ice_new(&cfg, &fz_io, &f, &rng, NULL);
    if (!f.a) {
        camrtc_rng_free(&rng);
        return 0;
    }
    camrtc_addr host;
    camrtc_addr_parse(&host, "10.0.0.1", 5000);
    camrtc_ice_add_host(f.a, f.now, 1, &host);
    camrtc_ice_server stun = {.turn = false, .transport = CAMRTC_ICE_UDP, .addr = f.addrs[1]};
    camrtc_ice_server turn = {.turn = true, .transport = CAMRTC_ICE_UDP, .addr = f.addrs[2],
                              .username = "u", .password = "p"};
    camrtc_ice_add_server(f.a, f.now, &stun);
    camrtc_ice_add_server(f.a, f.now, &turn);
    camrtc_ice_gather(f.a, f.now);
    if (!(size > 0 && (data[0] & 2))) {
        camrtc_ice_set_remote_credentials(f.a, f.now, RUFRAG, RPWD);
        camrtc_ice_candidate c;
        memset(&c, 0, sizeof c);
        c.component = 1;
        c.priority = 2130706431u;
        c.addr = f.addrs[0];
        memcpy(c.foundation, "1", 2);
        camrtc_ice_add_remote_candidate(f.a, f.now, &c);
    }

    size_t off = size > 0 ? 1 : 0;
    while (off + 3 <= size) {
        uint8_t op = data[off];
        size_t n = ((size_t)data[off + 1] << 8) | data[off + 2];
        off += 3;
        if (n > size - off)
            n = size - off;
        const uint8_t *p = data + off;
        off += n;
        switch (op % 8) {
        case 0:
            camrtc_ice_udp_input(f.a, f.now, 1, &f.addrs[n ? p[0] & 3 : 0], p + (n ? 1 : 0), n ? n - 1 : 0);
            break;
        case 1: op_request(&f, p, n); break;
        case 2: op_answer(&f, p, n); break;
        case 3: op_timeout(&f, p, n); break;
        case 4: op_candidate(&f, p, n); break;
        case 5: op_control(&f, p, n); break;
        case 6: op_turn_answer(&f, p, n); break;
        default: op_relayed(&f, p, n); break;
        }
    }
    camrtc_ice_close(f.a, f.now);
    camrtc_ice_free(f.a);
    camrtc_rng_free(&rng);
    return 0;
}
