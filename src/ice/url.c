/* STUN and TURN server URLs (RFC 7064 §3.1, RFC 7065 §3.1):
 *
 *   stun:host[:port]      turn:host[:port][?transport=udp|tcp]      turns:host[:port][?transport=tcp]
 *
 * host is a name, an IPv4 literal or an IPv6 literal in brackets. These come from
 * configuration and from the signaling service's ICE server list, so they are checked
 * as strictly as anything else from the network.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "camrtc/error.h"
#include "camrtc/ice.h"

#define STUN_PORT 3478
#define STUNS_PORT 5349

/* reg-name characters we accept: unreserved (RFC 3986 §2.3) minus '~'. */
static bool is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '.' || ch == '_';
}

/* The scheme, case-insensitive (RFC 3986 §3.1); sets turn/transport and the default port. */
static int parse_scheme(camrtc_ice_url *u, const char **s, bool *tls)
{
    static const struct {
        const char *name;
        bool turn, tls;
    } schemes[] = {{"stun:", false, false}, {"stuns:", false, true}, {"turn:", true, false}, {"turns:", true, true}};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].name);
        if (strncasecmp(*s, schemes[i].name, n) == 0) {
            u->turn = schemes[i].turn;
            *tls = schemes[i].tls;
            u->transport = *tls ? CAMRTC_ICE_TLS : CAMRTC_ICE_UDP;
            u->port = *tls ? STUNS_PORT : STUN_PORT;
            *s += n;
            return CAMRTC_OK;
        }
    }
    return CAMRTC_EPROTO;
}

/* host: "[v6]" or a name / IPv4 literal; stops at ':' or '?' or the end. */
static int parse_host(camrtc_ice_url *u, const char **s)
{
    const char *p = *s;
    size_t n;
    if (*p == '[') {
        const char *end = strchr(p, ']');
        n = end ? (size_t)(end - p - 1) : 0;
        uint8_t tmp[16];
        if (n == 0 || n >= sizeof u->host)
            return CAMRTC_EPROTO;
        memcpy(u->host, p + 1, n);
        u->host[n] = '\0';
        if (inet_pton(AF_INET6, u->host, tmp) != 1)
            return CAMRTC_EPROTO;
        *s = end + 1;
        return CAMRTC_OK;
    }
    for (n = 0; p[n] && p[n] != ':' && p[n] != '?'; n++)
        if (!is_name_char(p[n]))
            return CAMRTC_EPROTO;
    if (n == 0 || n >= sizeof u->host)
        return CAMRTC_EPROTO;
    memcpy(u->host, p, n);
    u->host[n] = '\0';
    *s = p + n;
    return CAMRTC_OK;
}

/* ":port" with 1..65535; stops at '?' or the end. */
static int parse_port(camrtc_ice_url *u, const char **s)
{
    const char *p = *s + 1;
    unsigned v = 0;
    size_t n = 0;
    for (; p[n] && p[n] != '?'; n++) {
        if (p[n] < '0' || p[n] > '9' || n >= 5)
            return CAMRTC_EPROTO;
        v = v * 10 + (unsigned)(p[n] - '0');
    }
    if (n == 0 || v == 0 || v > 65535)
        return CAMRTC_EPROTO;
    u->port = (uint16_t)v;
    *s = p + n;
    return CAMRTC_OK;
}

/* "?transport=udp|tcp" (turn:/turns: only). */
static int parse_query(camrtc_ice_url *u, const char *q, bool tls)
{
    static const char key[] = "?transport=";
    if (!u->turn || strncasecmp(q, key, sizeof key - 1) != 0)
        return CAMRTC_EPROTO;
    q += sizeof key - 1;
    if (strcasecmp(q, "tcp") == 0) {
        u->transport = tls ? CAMRTC_ICE_TLS : CAMRTC_ICE_TCP;
        return CAMRTC_OK;
    }
    if (strcasecmp(q, "udp") == 0) {
        if (tls)
            return CAMRTC_EUNSUPPORTED; /* turns over UDP would be DTLS */
        u->transport = CAMRTC_ICE_UDP;
        return CAMRTC_OK;
    }
    /* transport-ext is 1*unreserved: valid but not ours. */
    for (size_t i = 0; q[i]; i++)
        if (!is_name_char(q[i]))
            return CAMRTC_EPROTO;
    return q[0] ? CAMRTC_EUNSUPPORTED : CAMRTC_EPROTO;
}

int camrtc_ice_url_parse(camrtc_ice_url *u, const char *url)
{
    if (!u || !url)
        return CAMRTC_EINVAL;
    camrtc_ice_url r = {0};
    bool tls = false;
    const char *s = url;
    int rc = parse_scheme(&r, &s, &tls);
    if (rc == CAMRTC_OK)
        rc = parse_host(&r, &s);
    if (rc == CAMRTC_OK && *s == ':')
        rc = parse_port(&r, &s);
    if (rc == CAMRTC_OK && *s)
        rc = *s == '?' ? parse_query(&r, s, tls) : CAMRTC_EPROTO;
    /* stuns: (STUN over TLS) is well formed but this agent speaks plain STUN to STUN servers. */
    if (rc == CAMRTC_OK && !r.turn && tls)
        rc = CAMRTC_EUNSUPPORTED;
    if (rc < 0)
        return rc;
    *u = r;
    return CAMRTC_OK;
}
