/* NAT translation state for the simulated network (RFC 4787 behaviours).
 *
 * A mapping binds a LAN endpoint (private IP:port) to a public port. Which mapping an
 * outbound packet uses depends on the mapping behaviour (§4.1): one per LAN endpoint
 * (endpoint-independent), one per LAN endpoint and destination IP (address-dependent), or
 * one per LAN endpoint and destination IP:port (address-and-port-dependent, "symmetric").
 * Each outbound packet also records a permission (mapping, destination IP:port) that the
 * filtering behaviour (§5) checks for inbound packets: any source (endpoint-independent),
 * a source IP the mapping has sent to (address-dependent), or exactly an IP:port it has
 * sent to (address-and-port-dependent). Mappings and permissions expire `timeout` after the
 * last outbound packet (§4.3 REQ-5/6); inbound refresh is optional.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"

typedef struct nat_map {
    bool used;
    camrtc_addr priv;             /* LAN endpoint */
    camrtc_addr key;              /* destination part of the mapping key (see map_key) */
    uint16_t pub_port;
    camrtc_time_us expires;
} nat_map;

typedef struct nat_perm {
    bool used;
    int map;                      /* index in maps */
    camrtc_addr remote;
    camrtc_time_us expires;
} nat_perm;

struct sim_nat_table {
    sim_nat_config cfg;
    camrtc_addr pub;
    uint16_t next_port;
    sim_nat_stats st;
    nat_map maps[SIM_NAT_MAX_MAPPINGS];
    nat_perm perms[SIM_NAT_MAX_PERMS];
};

sim_nat_config sim_nat_preset(sim_nat_type type)
{
    static const sim_nat_config presets[] = {
        [SIM_NAT_FULL_CONE] = {SIM_MAP_ENDPOINT_INDEPENDENT, SIM_FILTER_ENDPOINT_INDEPENDENT, 0, false, false, 0},
        [SIM_NAT_RESTRICTED] = {SIM_MAP_ENDPOINT_INDEPENDENT, SIM_FILTER_ADDRESS_DEPENDENT, 0, false, false, 0},
        [SIM_NAT_PORT_RESTRICTED] = {SIM_MAP_ENDPOINT_INDEPENDENT, SIM_FILTER_ADDRESS_PORT_DEPENDENT, 0, false, false, 0},
        [SIM_NAT_SYMMETRIC] = {SIM_MAP_ADDRESS_PORT_DEPENDENT, SIM_FILTER_ADDRESS_PORT_DEPENDENT, 0, false, false, 0},
    };
    return presets[(unsigned)type <= SIM_NAT_SYMMETRIC ? type : SIM_NAT_SYMMETRIC];
}

const char *sim_nat_type_name(sim_nat_type type)
{
    static const char *const names[] = {"full-cone", "restricted", "port-restricted", "symmetric"};
    return (unsigned)type <= SIM_NAT_SYMMETRIC ? names[type] : "?";
}

sim_nat_table *sim_nat_table_new(const camrtc_addr *public_ip, const sim_nat_config *cfg)
{
    sim_nat_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = *cfg;
    if (!t->cfg.timeout)
        t->cfg.timeout = CAMRTC_SEC(120);
    if (!t->cfg.port_base)
        t->cfg.port_base = 40000;
    t->pub = *public_ip;
    t->pub.port = 0;
    t->next_port = t->cfg.port_base;
    return t;
}

void sim_nat_table_free(sim_nat_table *t) { free(t); }

bool sim_nat_table_hairpin(sim_nat_table *t)
{
    if (t->cfg.hairpin)
        t->st.hairpinned++;
    else
        t->st.hairpin_refused++;
    return t->cfg.hairpin;
}
const sim_nat_stats *sim_nat_table_stats(const sim_nat_table *t) { return &t->st; }
const sim_nat_config *sim_nat_table_config(const sim_nat_table *t) { return &t->cfg; }

/* The destination part of the mapping key under the mapping behaviour. */
static camrtc_addr map_key(const sim_nat_table *t, const camrtc_addr *dst)
{
    camrtc_addr k = {0};
    if (t->cfg.mapping == SIM_MAP_ADDRESS_DEPENDENT) {
        k = *dst;
        k.port = 0;
    } else if (t->cfg.mapping == SIM_MAP_ADDRESS_PORT_DEPENDENT) {
        k = *dst;
    }
    return k;
}

/* Forget what has expired (counted once, when noticed). */
static void expire(sim_nat_table *t, camrtc_time_us now)
{
    for (int i = 0; i < SIM_NAT_MAX_MAPPINGS; i++) {
        if (t->maps[i].used && t->maps[i].expires <= now) {
            t->maps[i].used = false;
            t->st.mappings_expired++;
        }
    }
    for (int i = 0; i < SIM_NAT_MAX_PERMS; i++) {
        nat_perm *p = &t->perms[i];
        if (p->used && (p->expires <= now || !t->maps[p->map].used))
            p->used = false;
    }
}

unsigned sim_nat_table_live(const sim_nat_table *t, camrtc_time_us now)
{
    unsigned n = 0;
    for (int i = 0; i < SIM_NAT_MAX_MAPPINGS; i++)
        n += t->maps[i].used && t->maps[i].expires > now;
    return n;
}

static bool port_in_use(const sim_nat_table *t, uint16_t port)
{
    for (int i = 0; i < SIM_NAT_MAX_MAPPINGS; i++)
        if (t->maps[i].used && t->maps[i].pub_port == port)
            return true;
    return false;
}

/* The next free public port from port_base up (wrapping back to port_base). */
static uint16_t alloc_port(sim_nat_table *t)
{
    for (unsigned tries = 0; tries <= SIM_NAT_MAX_MAPPINGS; tries++) {
        uint16_t p = t->next_port;
        t->next_port = p == 65535 ? t->cfg.port_base : (uint16_t)(p + 1);
        if (!port_in_use(t, p))
            return p;
    }
    return 0;
}

static int find_map(const sim_nat_table *t, const camrtc_addr *priv, const camrtc_addr *key)
{
    for (int i = 0; i < SIM_NAT_MAX_MAPPINGS; i++)
        if (t->maps[i].used && camrtc_addr_equal(&t->maps[i].priv, priv) &&
            camrtc_addr_equal(&t->maps[i].key, key))
            return i;
    return -1;
}

static int new_map(sim_nat_table *t, const camrtc_addr *priv, const camrtc_addr *key)
{
    for (int i = 0; i < SIM_NAT_MAX_MAPPINGS; i++) {
        if (t->maps[i].used)
            continue;
        uint16_t port = alloc_port(t);
        if (!port)
            break;
        t->maps[i] = (nat_map){.used = true, .priv = *priv, .key = *key, .pub_port = port};
        t->st.mappings_created++;
        return i;
    }
    t->st.table_full++;
    return -1;
}

/* Record (or refresh) that mapping m sent to remote. */
static bool permit(sim_nat_table *t, int m, const camrtc_addr *remote, camrtc_time_us expires)
{
    int free_slot = -1;
    for (int i = 0; i < SIM_NAT_MAX_PERMS; i++) {
        nat_perm *p = &t->perms[i];
        if (!p->used) {
            if (free_slot < 0)
                free_slot = i;
        } else if (p->map == m && camrtc_addr_equal(&p->remote, remote)) {
            p->expires = expires;
            return true;
        }
    }
    if (free_slot < 0) {
        t->st.table_full++;
        return false;
    }
    t->perms[free_slot] = (nat_perm){.used = true, .map = m, .remote = *remote, .expires = expires};
    return true;
}

int sim_nat_table_out(sim_nat_table *t, camrtc_time_us now, const camrtc_addr *priv,
                      const camrtc_addr *dst, camrtc_addr *pub)
{
    expire(t, now);
    camrtc_addr key = map_key(t, dst);
    int m = find_map(t, priv, &key);
    if (m < 0 && (m = new_map(t, priv, &key)) < 0)
        return CAMRTC_ELIMIT;
    camrtc_time_us expires = now + t->cfg.timeout;
    t->maps[m].expires = expires;
    if (!permit(t, m, dst, expires))
        return CAMRTC_ELIMIT;
    *pub = t->pub;
    pub->port = t->maps[m].pub_port;
    t->st.translated_out++;
    return CAMRTC_OK;
}

/* Does the filtering behaviour let remote in through mapping m? */
static bool filter_allows(const sim_nat_table *t, int m, const camrtc_addr *remote)
{
    if (t->cfg.filtering == SIM_FILTER_ENDPOINT_INDEPENDENT)
        return true;
    for (int i = 0; i < SIM_NAT_MAX_PERMS; i++) {
        const nat_perm *p = &t->perms[i];
        if (!p->used || p->map != m)
            continue;
        if (t->cfg.filtering == SIM_FILTER_ADDRESS_DEPENDENT ? camrtc_addr_ip_equal(&p->remote, remote)
                                                             : camrtc_addr_equal(&p->remote, remote))
            return true;
    }
    return false;
}

int sim_nat_table_in(sim_nat_table *t, camrtc_time_us now, const camrtc_addr *remote,
                     const camrtc_addr *pub, camrtc_addr *priv)
{
    expire(t, now);
    if (!camrtc_addr_ip_equal(pub, &t->pub)) {
        t->st.no_mapping++;
        return CAMRTC_ENOTFOUND;
    }
    int m = -1;
    for (int i = 0; i < SIM_NAT_MAX_MAPPINGS && m < 0; i++)
        if (t->maps[i].used && t->maps[i].pub_port == pub->port)
            m = i;
    if (m < 0) {
        t->st.no_mapping++;
        return CAMRTC_ENOTFOUND;
    }
    if (!filter_allows(t, m, remote)) {
        t->st.filtered++;
        return CAMRTC_EAUTH;
    }
    if (t->cfg.inbound_refresh)
        t->maps[m].expires = now + t->cfg.timeout;
    *priv = t->maps[m].priv;
    t->st.translated_in++;
    return CAMRTC_OK;
}
