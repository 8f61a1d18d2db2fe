/* ICE candidate lines (RFC 8839 §5.1) and candidate priorities (RFC 8445 §5.1.2.1).
 *
 *   candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
 *             [raddr <address>] [rport <port>] *(<extension name> <extension value>)
 *
 * The line comes from the remote peer through signaling, so it is read as untrusted input:
 * it is walked token by token without copying, and every field is range-checked.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "camrtc/error.h"
#include "camrtc/ice.h"

/* A span of the line: no NUL at its end. */
typedef struct {
    const char *p;
    size_t n;
} tok;

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The next space-separated token, or an empty one at the end of the line. */
static tok next_tok(const char **s)
{
    const char *p = *s;
    while (is_space(*p))
        p++;
    tok t = {p, 0};
    while (p[t.n] && !is_space(p[t.n]))
        t.n++;
    *s = p + t.n;
    return t;
}

static bool tok_is(tok t, const char *word)
{
    return t.n == strlen(word) && strncasecmp(t.p, word, t.n) == 0;
}

/* A decimal number of at most 10 digits, no sign, no more than max. */
static bool tok_uint(tok t, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (t.n == 0 || t.n > 10)
        return false;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(t.p[i] - '0');
    }
    if (v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.1). */
static bool is_ice_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

static bool valid_foundation(const char *p, size_t n)
{
    if (n == 0 || n > CAMRTC_ICE_FOUNDATION_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_ice_char(p[i]))
            return false;
    return true;
}

/* Letters, digits, '-' and '.': what a host name (or an mDNS "<uuid>.local") is made of. */
static bool looks_like_name(tok t)
{
    bool alpha = false;
    for (size_t i = 0; i < t.n; i++) {
        char ch = t.p[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
            alpha = true;
        else if (!(ch >= '0' && ch <= '9') && ch != '-' && ch != '.')
            return false;
    }
    return alpha;
}

/* A numeric address; a name (mDNS, RFC 8839 §5.1 allows an FQDN) is valid but this agent
 * resolves none: CAMRTC_EUNSUPPORTED. */
static int tok_addr(tok t, uint16_t port, camrtc_addr *out)
{
    char ip[INET6_ADDRSTRLEN];
    if (t.n > 0 && t.n < sizeof ip) {
        memcpy(ip, t.p, t.n);
        ip[t.n] = '\0';
        if (camrtc_addr_parse(out, ip, port) == CAMRTC_OK)
            return CAMRTC_OK;
    }
    return looks_like_name(t) ? CAMRTC_EUNSUPPORTED : CAMRTC_EPROTO;
}

static const char *const type_names[] = {
    [CAMRTC_ICE_HOST] = "host", [CAMRTC_ICE_SRFLX] = "srflx", [CAMRTC_ICE_PRFLX] = "prflx",
    [CAMRTC_ICE_RELAY] = "relay"};

static int tok_type(tok t, camrtc_ice_cand_type *out)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (tok_is(t, type_names[i])) {
            *out = (camrtc_ice_cand_type)i;
            return CAMRTC_OK;
        }
    }
    return CAMRTC_EPROTO;
}

/* After "typ <type>": raddr/rport, then extension name/value pairs that we skip
 * (generation, ufrag, network-id, network-cost, tcptype, ...). */
static int parse_tail(camrtc_ice_candidate *c, const char *s)
{
    tok raddr = {0};
    uint32_t rport = 0;
    for (;;) {
        tok name = next_tok(&s);
        if (name.n == 0)
            break;
        tok value = next_tok(&s);
        if (value.n == 0)
            return CAMRTC_EPROTO; /* a name without its value */
        if (tok_is(name, "raddr"))
            raddr = value;
        else if (tok_is(name, "rport") && !tok_uint(value, 65535, &rport))
            return CAMRTC_EPROTO;
    }
    /* Only server-reflexive, peer-reflexive and relayed candidates have a related address;
     * a name there (Chromium hides it behind mDNS) is simply not kept. */
    if (raddr.n && c->type != CAMRTC_ICE_HOST) {
        int rc = tok_addr(raddr, (uint16_t)rport, &c->related);
        if (rc == CAMRTC_EPROTO)
            return rc;
        if (rc < 0)
            c->related = (camrtc_addr){0};
    }
    return CAMRTC_OK;
}

int camrtc_ice_candidate_parse(camrtc_ice_candidate *c, const char *line)
{
    if (!c || !line)
        return CAMRTC_EINVAL;
    camrtc_ice_candidate r = {0};
    const char *s = line;
    while (is_space(*s))
        s++;
    if (strncmp(s, "a=", 2) == 0)
        s += 2;
    if (strncmp(s, "candidate:", 10) != 0)
        return CAMRTC_EPROTO;
    s += 10;

    tok foundation = next_tok(&s), component = next_tok(&s), transport = next_tok(&s);
    tok priority = next_tok(&s), address = next_tok(&s), port = next_tok(&s);
    tok typ = next_tok(&s), type = next_tok(&s);
    uint32_t comp, prio, portnum;
    if (!valid_foundation(foundation.p, foundation.n) || !tok_uint(component, 256, &comp) || comp == 0 ||
        !tok_uint(priority, UINT32_MAX, &prio) || !tok_uint(port, 65535, &portnum) || !tok_is(typ, "typ") ||
        tok_type(type, &r.type) < 0)
        return CAMRTC_EPROTO;
    if (tok_is(transport, "tcp"))
        r.tcp = true;
    else if (!tok_is(transport, "udp"))
        return transport.n ? CAMRTC_EUNSUPPORTED : CAMRTC_EPROTO;
    memcpy(r.foundation, foundation.p, foundation.n);
    r.component = (uint16_t)comp;
    r.priority = prio;
    int rc = tok_addr(address, (uint16_t)portnum, &r.addr);
    if (rc < 0)
        return rc;
    rc = parse_tail(&r, s);
    if (rc < 0)
        return rc;
    *c = r;
    return CAMRTC_OK;
}

int camrtc_ice_candidate_format(const camrtc_ice_candidate *c, char *out, size_t outsz)
{
    char ip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN];
    if (!c || !out || (unsigned)c->type > CAMRTC_ICE_RELAY || (c->addr.family != 4 && c->addr.family != 6) ||
        !valid_foundation(c->foundation, strnlen(c->foundation, sizeof c->foundation)))
        return CAMRTC_EINVAL;
    camrtc_addr_ip_str(&c->addr, ip, sizeof ip);
    int n = snprintf(out, outsz, "candidate:%s %u %s %lu %s %u typ %s", c->foundation, (unsigned)c->component,
                     c->tcp ? "tcp" : "udp", (unsigned long)c->priority, ip, (unsigned)c->addr.port,
                     type_names[c->type]);
    bool related = c->type != CAMRTC_ICE_HOST && (c->related.family == 4 || c->related.family == 6);
    if (n >= 0 && related) {
        camrtc_addr_ip_str(&c->related, rip, sizeof rip);
        size_t used = (size_t)n < outsz ? (size_t)n : outsz;
        int m = snprintf(out + used, outsz - used, " raddr %s rport %u", rip, (unsigned)c->related.port);
        n = m < 0 ? m : n + m;
    }
    if (n < 0 || (size_t)n >= outsz)
        return CAMRTC_ETOOBIG;
    return n;
}

/* priority = 2^24 * type preference + 2^8 * local preference + (256 - component).
 * Type preferences are the RFC 8445 §5.1.2.2 recommendations; relays get 0 and the agent
 * ranks UDP/TCP/TLS relays apart through the local preference. */
uint32_t camrtc_ice_priority(camrtc_ice_cand_type type, uint16_t local_pref, uint16_t component)
{
    static const uint32_t type_pref[] = {
        [CAMRTC_ICE_HOST] = 126, [CAMRTC_ICE_SRFLX] = 100, [CAMRTC_ICE_PRFLX] = 110, [CAMRTC_ICE_RELAY] = 0};
    uint32_t tp = (unsigned)type <= CAMRTC_ICE_RELAY ? type_pref[type] : 0;
    uint32_t comp = component == 0 ? 1 : component > 256 ? 256 : component;
    return (tp << 24) + ((uint32_t)local_pref << 8) + (256 - comp);
}
