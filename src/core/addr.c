/* Transport addresses as plain values (see camrtc/addr.h).
 *
 * inet_pton/inet_ntop are pure string conversions (no name lookup, no socket), so the
 * sans-I/O modules may use everything here.
 */
#include "camrtc/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "camrtc/error.h"

int camrtc_addr_parse(camrtc_addr *a, const char *ip, uint16_t port)
{
    camrtc_addr t = {0};
    if (!a || !ip)
        return CAMRTC_EINVAL;
    if (inet_pton(AF_INET, ip, t.ip) == 1)
        t.family = 4;
    else if (inet_pton(AF_INET6, ip, t.ip) == 1)
        t.family = 6;
    else
        return CAMRTC_EINVAL;
    t.port = port;
    *a = t;
    return CAMRTC_OK;
}

/* A decimal port 0..65535 made only of digits (at most 5 of them). */
static int parse_port(const char *s, uint16_t *out)
{
    unsigned v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 5)
            return CAMRTC_EINVAL;
        v = v * 10 + (unsigned)(s[n] - '0');
    }
    if (n == 0 || v > 65535)
        return CAMRTC_EINVAL;
    *out = (uint16_t)v;
    return CAMRTC_OK;
}

int camrtc_addr_parse_hostport(camrtc_addr *a, const char *s)
{
    char ip[INET6_ADDRSTRLEN];
    const char *host, *colon;
    size_t hostlen;
    uint16_t port;
    if (!a || !s)
        return CAMRTC_EINVAL;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return CAMRTC_EINVAL;
        host = s + 1;
        hostlen = (size_t)(end - host);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        /* An unbracketed IPv6 literal would be ambiguous: one colon only. */
        if (!colon || memchr(s, ':', (size_t)(colon - s)))
            return CAMRTC_EINVAL;
        host = s;
        hostlen = (size_t)(colon - s);
    }
    if (hostlen == 0 || hostlen >= sizeof ip || parse_port(colon + 1, &port) < 0)
        return CAMRTC_EINVAL;
    memcpy(ip, host, hostlen);
    ip[hostlen] = '\0';
    int rc = camrtc_addr_parse(a, ip, port);
    /* "[1.2.3.4]:5" is not a valid form: brackets are for IPv6 only (RFC 3986 §3.2.2). */
    if (rc == CAMRTC_OK && (s[0] == '[') != (a->family == 6)) {
        *a = (camrtc_addr){0};
        return CAMRTC_EINVAL;
    }
    return rc;
}

const char *camrtc_addr_ip_str(const camrtc_addr *a, char *out, size_t outsz)
{
    char tmp[INET6_ADDRSTRLEN];
    const char *s = "-";
    if (a && a->family == 4)
        s = inet_ntop(AF_INET, a->ip, tmp, sizeof tmp);
    else if (a && a->family == 6)
        s = inet_ntop(AF_INET6, a->ip, tmp, sizeof tmp);
    if (!s)
        s = "-";
    if (outsz)
        snprintf(out, outsz, "%s", s);
    return out;
}

const char *camrtc_addr_format(const camrtc_addr *a, char *out, size_t outsz)
{
    char ip[INET6_ADDRSTRLEN];
    if (!outsz)
        return out;
    if (!a || (a->family != 4 && a->family != 6)) {
        snprintf(out, outsz, "-");
        return out;
    }
    camrtc_addr_ip_str(a, ip, sizeof ip);
    if (a->family == 6)
        snprintf(out, outsz, "[%s]:%u", ip, (unsigned)a->port);
    else
        snprintf(out, outsz, "%s:%u", ip, (unsigned)a->port);
    return out;
}

static size_t ip_len(const camrtc_addr *a)
{
    return a->family == 6 ? 16 : 4;
}

bool camrtc_addr_ip_equal(const camrtc_addr *a, const camrtc_addr *b)
{
    if (a->family != b->family)
        return false;
    if (a->family != 4 && a->family != 6)
        return true; /* two unset addresses */
    return memcmp(a->ip, b->ip, ip_len(a)) == 0;
}

bool camrtc_addr_equal(const camrtc_addr *a, const camrtc_addr *b)
{
    return camrtc_addr_ip_equal(a, b) && a->port == b->port;
}

bool camrtc_addr_is_loopback(const camrtc_addr *a)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    if (a->family == 4)
        return a->ip[0] == 127;
    if (a->family == 6)
        return memcmp(a->ip, v6_loopback, 16) == 0;
    return false;
}

bool camrtc_addr_is_link_local(const camrtc_addr *a)
{
    if (a->family == 4)
        return a->ip[0] == 169 && a->ip[1] == 254;
    if (a->family == 6)
        return a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80;
    return false;
}

uint32_t camrtc_addr_hash(const camrtc_addr *a)
{
    /* FNV-1a: short, well spread for the few bytes of an address. */
    uint32_t h = 2166136261u;
    size_t n = (a->family == 4 || a->family == 6) ? ip_len(a) : 0;
    h = (h ^ a->family) * 16777619u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ a->ip[i]) * 16777619u;
    h = (h ^ (a->port >> 8)) * 16777619u;
    h = (h ^ (a->port & 0xff)) * 16777619u;
    return h;
}

size_t camrtc_addr_to_sockaddr(const camrtc_addr *a, struct sockaddr *out)
{
    if (a->family == 4) {
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(a->port);
        memcpy(&sin.sin_addr, a->ip, 4);
        memcpy(out, &sin, sizeof sin);
        return sizeof sin;
    }
    if (a->family == 6) {
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(a->port);
        memcpy(&sin6.sin6_addr, a->ip, 16);
        memcpy(out, &sin6, sizeof sin6);
        return sizeof sin6;
    }
    return 0;
}

int camrtc_addr_from_sockaddr(camrtc_addr *a, const struct sockaddr *sa)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    camrtc_addr t = {0};
    if (!a || !sa)
        return CAMRTC_EINVAL;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof sin);
        t.family = 4;
        t.port = ntohs(sin.sin_port);
        memcpy(t.ip, &sin.sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        t.port = ntohs(sin6.sin6_port);
        const uint8_t *ip = (const uint8_t *)&sin6.sin6_addr;
        if (memcmp(ip, v4mapped, sizeof v4mapped) == 0) {
            t.family = 4;
            memcpy(t.ip, ip + 12, 4);
        } else {
            t.family = 6;
            memcpy(t.ip, ip, 16);
        }
    } else {
        return CAMRTC_EINVAL;
    }
    *a = t;
    return CAMRTC_OK;
}
