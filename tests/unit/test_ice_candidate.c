/* ICE candidate lines as browsers and libraries write them, their formatting, candidate
 * priorities, and STUN/TURN server URLs. */
#include "camrtc/error.h"
#include "camrtc/ice.h"
#include "check.h"

static const char CHROME_SRFLX[] = "candidate:842163049 1 udp 1677729535 1.2.3.4 46154 typ srflx raddr 0.0.0.0 rport 0 "
                                   "generation 0 ufrag EsAw network-id 1 network-cost 10";
static const char FIREFOX_HOST[] = "candidate:0 1 UDP 2122252543 192.168.1.2 49152 typ host";
static const char AIORTC_HOST[] = "candidate:3d8c5e0f0a1b2c3d4e5f60718293a4b5 1 udp 2130706431 127.0.0.1 40000 typ host";

static bool addr_is(const camrtc_addr *a, const char *ip, uint16_t port)
{
    camrtc_addr want;
    return camrtc_addr_parse(&want, ip, port) == CAMRTC_OK && camrtc_addr_equal(a, &want);
}

static bool same_candidate(const camrtc_ice_candidate *a, const camrtc_ice_candidate *b)
{
    return strcmp(a->foundation, b->foundation) == 0 && a->component == b->component && a->priority == b->priority &&
           camrtc_addr_equal(&a->addr, &b->addr) && a->type == b->type && camrtc_addr_equal(&a->related, &b->related) &&
           a->tcp == b->tcp;
}

/* ---- parsing ---------------------------------------------------------------------------------- */

TEST(chromium_srflx_line)
{
    camrtc_ice_candidate c;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, CHROME_SRFLX), CAMRTC_OK);
    CHECK_EQ_STR(c.foundation, "842163049");
    CHECK_EQ_INT(c.component, 1);
    CHECK_EQ_INT(c.priority, 1677729535u);
    CHECK(addr_is(&c.addr, "1.2.3.4", 46154));
    CHECK_EQ_INT(c.type, CAMRTC_ICE_SRFLX);
    CHECK(addr_is(&c.related, "0.0.0.0", 0));
    CHECK(!c.tcp);
}

TEST(firefox_host_line)
{
    camrtc_ice_candidate c;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, FIREFOX_HOST), CAMRTC_OK);
    CHECK_EQ_STR(c.foundation, "0");
    CHECK_EQ_INT(c.priority, 2122252543u);
    CHECK(addr_is(&c.addr, "192.168.1.2", 49152));
    CHECK_EQ_INT(c.type, CAMRTC_ICE_HOST);
    CHECK_EQ_INT(c.related.family, 0);
}

TEST(aiortc_host_line)
{
    camrtc_ice_candidate c;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, AIORTC_HOST), CAMRTC_OK);
    CHECK_EQ_STR(c.foundation, "3d8c5e0f0a1b2c3d4e5f60718293a4b5");
    CHECK_EQ_INT(c.priority, 2130706431u);
    CHECK(addr_is(&c.addr, "127.0.0.1", 40000));
}

TEST(tcp_candidates)
{
    camrtc_ice_candidate c;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, "candidate:1 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active"),
                 CAMRTC_OK);
    CHECK(c.tcp);
    CHECK(addr_is(&c.addr, "192.168.1.2", 9));
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, "candidate:2 1 TCP 1518214911 10.0.0.1 50000 typ host tcptype passive"),
                 CAMRTC_OK);
    CHECK(c.tcp);
    CHECK_EQ_INT(c.type, CAMRTC_ICE_HOST);
}

TEST(ipv6_and_relay_lines)
{
    camrtc_ice_candidate c;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, "candidate:2 1 udp 2122262783 2001:db8::1 56789 typ host generation 0"),
                 CAMRTC_OK);
    CHECK(addr_is(&c.addr, "2001:db8::1", 56789));
    CHECK_EQ_INT(camrtc_ice_candidate_parse(
                     &c, "candidate:3 1 udp 41885695 198.51.100.7 61000 typ relay raddr 203.0.113.9 rport 54000"),
                 CAMRTC_OK);
    CHECK_EQ_INT(c.type, CAMRTC_ICE_RELAY);
    CHECK(addr_is(&c.related, "203.0.113.9", 54000));
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, "candidate:4 1 udp 1845501695 2001:db8::9 3 typ prflx raddr ::1 rport 4"),
                 CAMRTC_OK);
    CHECK_EQ_INT(c.type, CAMRTC_ICE_PRFLX);
    CHECK(addr_is(&c.related, "::1", 4));
}

TEST(a_prefix_and_line_end)
{
    camrtc_ice_candidate c, d;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, FIREFOX_HOST), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&d, "a=candidate:0 1 UDP 2122252543 192.168.1.2 49152 typ host\r\n"),
                 CAMRTC_OK);
    CHECK(same_candidate(&c, &d));
}

TEST(mdns_names_unsupported)
{
    camrtc_ice_candidate c;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(
                     &c, "candidate:1 1 udp 2122260223 3f6c6e2e-9c1b-4f3e-8a2d-1b2c3d4e5f60.local 54321 typ host "
                         "generation 0 network-id 1"),
                 CAMRTC_EUNSUPPORTED);
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, "candidate:1 1 udp 1 turn.example.com 3478 typ host"),
                 CAMRTC_EUNSUPPORTED);
    /* A name as the related address is dropped (Chromium may hide it), not an error. */
    CHECK_EQ_INT(camrtc_ice_candidate_parse(
                     &c, "candidate:5 1 udp 1677729535 1.2.3.4 46154 typ srflx raddr abcd-ef.local rport 9"),
                 CAMRTC_OK);
    CHECK_EQ_INT(c.related.family, 0);
}

TEST(garbage_rejected)
{
    static const char *const bad[] = {
        "",
        "candidate:",
        "hello world",
        "candidate 1 1 udp 1 1.2.3.4 5 typ host",        /* no colon */
        "candidate:1 1 udp",                              /* cut short */
        "candidate:1 1 udp 1 1.2.3.4 5",                  /* no typ */
        "candidate:1 1 udp 1 1.2.3.4 5 typ",              /* no type */
        "candidate:1 1 udp 1 1.2.3.4 5 typ bogus",        /* unknown type */
        "candidate:1 1 udp 1 1.2.3.4 5 type host",        /* "type" for "typ" */
        "candidate:1 1 udp 4294967296 1.2.3.4 5 typ host", /* priority over 32 bits */
        "candidate:1 1 udp -1 1.2.3.4 5 typ host",
        "candidate:1 1 udp 1 1.2.3.4 65536 typ host",     /* port */
        "candidate:1 1 udp 1 1.2.3.4 x typ host",
        "candidate:1 0 udp 1 1.2.3.4 5 typ host",         /* component 0 */
        "candidate:1 257 udp 1 1.2.3.4 5 typ host",
        "candidate:123456789012345678901234567890123 1 udp 1 1.2.3.4 5 typ host", /* 33-char foundation */
        "candidate:a_b 1 udp 1 1.2.3.4 5 typ host",       /* '_' is not an ice-char */
        "candidate:1 1 udp 1 1.2.3.4.5 5 typ host",
        "candidate:1 1 udp 1 999.1.1.1 5 typ host",
        "candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr",  /* name without value */
        "candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.2.3.4 rport 70000",
        "candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.2.3.4.5 rport 7",
        "candidate:1 1 udp 1 [::1] 5 typ host",           /* no brackets in SDP */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        camrtc_ice_candidate c;
        int rc = camrtc_ice_candidate_parse(&c, bad[i]);
        if (rc != CAMRTC_EPROTO)
            fprintf(stderr, "line %zu: \"%s\"\n", i, bad[i]);
        CHECK_EQ_INT(rc, CAMRTC_EPROTO);
    }
    camrtc_ice_candidate c;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, "candidate:1 1 sctp 1 1.2.3.4 5 typ host"), CAMRTC_EUNSUPPORTED);
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, NULL), CAMRTC_EINVAL);
}

/* ---- formatting ------------------------------------------------------------------------------ */

static int round_trip(const char *line, char *out, size_t outsz)
{
    camrtc_ice_candidate c, back;
    if (camrtc_ice_candidate_parse(&c, line) != CAMRTC_OK)
        return -100;
    int n = camrtc_ice_candidate_format(&c, out, outsz);
    if (n < 0)
        return n;
    if (camrtc_ice_candidate_parse(&back, out) != CAMRTC_OK || !same_candidate(&c, &back))
        return -200;
    return n;
}

TEST(format_round_trips)
{
    char out[CAMRTC_ICE_CANDIDATE_STRLEN];
    int n = round_trip(CHROME_SRFLX, out, sizeof out);
    CHECK_EQ_STR(out, "candidate:842163049 1 udp 1677729535 1.2.3.4 46154 typ srflx raddr 0.0.0.0 rport 0");
    CHECK_EQ_INT(n, (int)strlen(out));
    round_trip(FIREFOX_HOST, out, sizeof out);
    CHECK_EQ_STR(out, "candidate:0 1 udp 2122252543 192.168.1.2 49152 typ host");
    CHECK(round_trip(AIORTC_HOST, out, sizeof out) > 0);
    CHECK_EQ_STR(out, AIORTC_HOST);
    round_trip("candidate:9 1 tcp 1518280447 2001:db8::1 9 typ host tcptype active", out, sizeof out);
    CHECK_EQ_STR(out, "candidate:9 1 tcp 1518280447 2001:db8::1 9 typ host");
    round_trip("candidate:x+/ 2 udp 0 ::1 0 typ relay raddr 10.0.0.1 rport 65535", out, sizeof out);
    CHECK_EQ_STR(out, "candidate:x+/ 2 udp 0 ::1 0 typ relay raddr 10.0.0.1 rport 65535");
    /* raddr on a host candidate means nothing: neither kept nor written. */
    round_trip("candidate:1 1 udp 1 1.2.3.4 5 typ host raddr 9.9.9.9 rport 9", out, sizeof out);
    CHECK_EQ_STR(out, "candidate:1 1 udp 1 1.2.3.4 5 typ host");
}

TEST(format_limits)
{
    camrtc_ice_candidate c;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&c, CHROME_SRFLX), CAMRTC_OK);
    char out[CAMRTC_ICE_CANDIDATE_STRLEN];
    int n = camrtc_ice_candidate_format(&c, out, sizeof out);
    CHECK(n > 0);
    CHECK_EQ_INT(camrtc_ice_candidate_format(&c, out, (size_t)n), CAMRTC_ETOOBIG); /* no room for NUL */
    CHECK_EQ_INT(camrtc_ice_candidate_format(&c, out, (size_t)n + 1), n);
    CHECK_EQ_INT(camrtc_ice_candidate_format(&c, out, 20), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_ice_candidate_format(&c, out, 0), CAMRTC_ETOOBIG);
    /* The longest possible line fits CAMRTC_ICE_CANDIDATE_STRLEN. */
    memset(c.foundation, 'f', CAMRTC_ICE_FOUNDATION_MAX);
    c.foundation[CAMRTC_ICE_FOUNDATION_MAX] = '\0';
    c.component = 256;
    c.priority = UINT32_MAX;
    c.type = CAMRTC_ICE_RELAY;
    CHECK_EQ_INT(camrtc_addr_parse(&c.addr, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), CAMRTC_OK);
    c.related = c.addr;
    CHECK(camrtc_ice_candidate_format(&c, out, sizeof out) > 0);
    /* Invalid candidates. */
    camrtc_ice_candidate bad = c;
    bad.addr.family = 0;
    CHECK_EQ_INT(camrtc_ice_candidate_format(&bad, out, sizeof out), CAMRTC_EINVAL);
    bad = c;
    bad.foundation[0] = '\0';
    CHECK_EQ_INT(camrtc_ice_candidate_format(&bad, out, sizeof out), CAMRTC_EINVAL);
    bad = c;
    bad.foundation[3] = ' ';
    CHECK_EQ_INT(camrtc_ice_candidate_format(&bad, out, sizeof out), CAMRTC_EINVAL);
}

/* ---- priorities ------------------------------------------------------------------------------ */

TEST(priorities_follow_rfc8445)
{
    /* (2^24)*type + (2^8)*local + (256 - component), §5.1.2.1. */
    CHECK_EQ_INT(camrtc_ice_priority(CAMRTC_ICE_HOST, 65535, 1), 2130706431u); /* what aiortc writes */
    CHECK_EQ_INT(camrtc_ice_priority(CAMRTC_ICE_SRFLX, 65535, 1), (100u << 24) + (65535u << 8) + 255);
    CHECK_EQ_INT(camrtc_ice_priority(CAMRTC_ICE_PRFLX, 0, 1), (110u << 24) + 255);
    CHECK_EQ_INT(camrtc_ice_priority(CAMRTC_ICE_RELAY, 2, 2), (2u << 8) + 254);
    CHECK(camrtc_ice_priority(CAMRTC_ICE_HOST, 0, 1) > camrtc_ice_priority(CAMRTC_ICE_PRFLX, 65535, 1));
    CHECK(camrtc_ice_priority(CAMRTC_ICE_PRFLX, 0, 1) > camrtc_ice_priority(CAMRTC_ICE_SRFLX, 65535, 1));
    CHECK(camrtc_ice_priority(CAMRTC_ICE_SRFLX, 0, 1) > camrtc_ice_priority(CAMRTC_ICE_RELAY, 65535, 1));
}

/* ---- URLs -------------------------------------------------------------------------------------- */

TEST(stun_urls)
{
    camrtc_ice_url u;
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, "stun:stun.l.google.com:19302"), CAMRTC_OK);
    CHECK(!u.turn);
    CHECK_EQ_INT(u.transport, CAMRTC_ICE_UDP);
    CHECK_EQ_STR(u.host, "stun.l.google.com");
    CHECK_EQ_INT(u.port, 19302);
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, "stun:192.0.2.1"), CAMRTC_OK);
    CHECK_EQ_STR(u.host, "192.0.2.1");
    CHECK_EQ_INT(u.port, 3478);
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, "STUN:[2001:db8::1]:3479"), CAMRTC_OK);
    CHECK_EQ_STR(u.host, "2001:db8::1");
    CHECK_EQ_INT(u.port, 3479);
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, "stun:stun.kinesisvideo.us-west-2.amazonaws.com:443"), CAMRTC_OK);
    CHECK_EQ_INT(u.port, 443);
}

TEST(turn_urls)
{
    camrtc_ice_url u;
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, "turn:turn.example.com"), CAMRTC_OK);
    CHECK(u.turn);
    CHECK_EQ_INT(u.transport, CAMRTC_ICE_UDP);
    CHECK_EQ_INT(u.port, 3478);
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, "turn:turn.example.com:3479?transport=tcp"), CAMRTC_OK);
    CHECK_EQ_INT(u.transport, CAMRTC_ICE_TCP);
    CHECK_EQ_INT(u.port, 3479);
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, "turn:[2001:db8::2]?transport=udp"), CAMRTC_OK);
    CHECK_EQ_STR(u.host, "2001:db8::2");
    CHECK_EQ_INT(u.transport, CAMRTC_ICE_UDP);
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, "turns:turn.example.com"), CAMRTC_OK);
    CHECK(u.turn);
    CHECK_EQ_INT(u.transport, CAMRTC_ICE_TLS);
    CHECK_EQ_INT(u.port, 5349);
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, "turns:1-2-3-4.t-123.kinesisvideo.us-west-2.amazonaws.com:443?transport=tcp"),
                 CAMRTC_OK);
    CHECK_EQ_INT(u.transport, CAMRTC_ICE_TLS);
    CHECK_EQ_INT(u.port, 443);
}

TEST(bad_urls)
{
    static const struct {
        const char *url;
        int rc;
    } cases[] = {
        {"stuns:stun.example.com", CAMRTC_EUNSUPPORTED},
        {"turns:turn.example.com?transport=udp", CAMRTC_EUNSUPPORTED},
        {"turn:turn.example.com?transport=sctp", CAMRTC_EUNSUPPORTED},
        {"", CAMRTC_EPROTO},
        {"http://example.com", CAMRTC_EPROTO},
        {"stun", CAMRTC_EPROTO},
        {"stun:", CAMRTC_EPROTO},
        {"stun:host:", CAMRTC_EPROTO},
        {"stun:host:0", CAMRTC_EPROTO},
        {"stun:host:65536", CAMRTC_EPROTO},
        {"stun:host:123456", CAMRTC_EPROTO},
        {"stun:host:12a", CAMRTC_EPROTO},
        {"stun:[::1", CAMRTC_EPROTO},
        {"stun:[]:3478", CAMRTC_EPROTO},
        {"stun:[not-v6]:3478", CAMRTC_EPROTO},
        {"stun:[::1]x", CAMRTC_EPROTO},
        {"stun:::1", CAMRTC_EPROTO},
        {"stun:host?transport=udp", CAMRTC_EPROTO},
        {"turn:host?foo=bar", CAMRTC_EPROTO},
        {"turn:host?transport=", CAMRTC_EPROTO},
        {"turn:host?transport=t c p", CAMRTC_EPROTO},
        {"turn:user@host", CAMRTC_EPROTO},
        {"stun:ho st", CAMRTC_EPROTO},
        {"stun://host", CAMRTC_EPROTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        camrtc_ice_url u = {.port = 7};
        int rc = camrtc_ice_url_parse(&u, cases[i].url);
        if (rc != cases[i].rc)
            fprintf(stderr, "url \"%s\"\n", cases[i].url);
        CHECK_EQ_INT(rc, cases[i].rc);
        CHECK_EQ_INT(u.port, 7); /* untouched on error */
    }
    char longhost[300] = "stun:";
    memset(longhost + 5, 'a', 280);
    camrtc_ice_url u;
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, longhost), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_ice_url_parse(&u, NULL), CAMRTC_EINVAL);
}

int main(void)
{
    return RUN_TESTS(chromium_srflx_line, firefox_host_line, aiortc_host_line, tcp_candidates, ipv6_and_relay_lines,
                     a_prefix_and_line_end, mdns_names_unsupported, garbage_rejected, format_round_trips,
                     format_limits, priorities_follow_rfc8445, stun_urls, turn_urls, bad_urls);
}
