/* Fuzzes the ICE candidate line parser, the STUN/TURN URL parser and the host:port
 * address parser. Whatever a parser accepts must be written back by our formatter (or an
 * equivalent canonical string) and parse again to the same value: that is what the other
 * end of signaling will read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/addr.h"
#include "camrtc/error.h"
#include "camrtc/ice.h"

static bool same_candidate(const camrtc_ice_candidate *a, const camrtc_ice_candidate *b)
{
    return strcmp(a->foundation, b->foundation) == 0 && a->component == b->component && a->priority == b->priority &&
           camrtc_addr_equal(&a->addr, &b->addr) && a->type == b->type && camrtc_addr_equal(&a->related, &b->related) &&
           a->tcp == b->tcp;
}

static void candidate(const char *s)
{
    camrtc_ice_candidate c, back;
    int rc = camrtc_ice_candidate_parse(&c, s);
    if (rc != CAMRTC_OK && rc != CAMRTC_EPROTO && rc != CAMRTC_EUNSUPPORTED)
        abort();
    if (rc != CAMRTC_OK)
        return;
    char line[CAMRTC_ICE_CANDIDATE_STRLEN];
    int n = camrtc_ice_candidate_format(&c, line, sizeof line);
    if (n <= 0 || (size_t)n != strlen(line))
        abort();
    if (camrtc_ice_candidate_parse(&back, line) != CAMRTC_OK || !same_candidate(&c, &back))
        abort();
}

static void url(const char *s)
{
    camrtc_ice_url u, back;
    int rc = camrtc_ice_url_parse(&u, s);
    if (rc != CAMRTC_OK && rc != CAMRTC_EPROTO && rc != CAMRTC_EUNSUPPORTED)
        abort();
    if (rc != CAMRTC_OK)
        return;
    if (!u.host[0] || u.port == 0 || strlen(u.host) >= sizeof u.host)
        abort();
    /* Write the canonical URL and read it again. */
    char text[300];
    const char *scheme = !u.turn ? "stun" : u.transport == CAMRTC_ICE_TLS ? "turns" : "turn";
    bool v6 = strchr(u.host, ':') != NULL;
    snprintf(text, sizeof text, "%s:%s%s%s:%u%s", scheme, v6 ? "[" : "", u.host, v6 ? "]" : "", (unsigned)u.port,
             u.turn && u.transport == CAMRTC_ICE_TCP ? "?transport=tcp" : "");
    if (camrtc_ice_url_parse(&back, text) != CAMRTC_OK || back.turn != u.turn || back.transport != u.transport ||
        back.port != u.port || strcmp(back.host, u.host) != 0)
        abort();
}

static void hostport(const char *s)
{
    camrtc_addr a, back;
    if (camrtc_addr_parse_hostport(&a, s) != CAMRTC_OK)
        return;
    char text[CAMRTC_ADDR_STRLEN];
    camrtc_addr_format(&a, text, sizeof text);
    if (camrtc_addr_parse_hostport(&back, text) != CAMRTC_OK || !camrtc_addr_equal(&a, &back))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0; /* a candidate line or URL is short; long inputs only slow the search */
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    candidate(s);
    url(s);
    hostport(s);
    free(s);
    return 0;
}
