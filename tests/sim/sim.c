/* The simulated network: event queue, virtual clock, PRNG, hosts, sockets, links and the
 * routing of packets through NAT boxes. See sim.h for the model. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"

/* ---- PRNG: xoshiro256** seeded by splitmix64 (both public-domain algorithms by
 * Blackman and Vigna; written here from their published description). ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* ---- internal types ------------------------------------------------------------- */

typedef struct link {
    sim_link_config cfg;
    sim_link_stats st;
    camrtc_time_us busy_until;    /* when the rate limiter's queue drains */
} link;

/* What happens to a packet when its event fires: the hop it just finished. */
typedef enum stage {
    ST_ROUTE,       /* reached the router of pkt->realm (NULL = the internet) */
    ST_NAT_IN,      /* crossed pkt->nat's downlink: translate inbound */
    ST_PAIR_DONE,   /* crossed the pair link: on to pkt->to_host's downlink */
    ST_DELIVER,     /* crossed pkt->to_host's downlink: hand to the socket */
} stage;

typedef struct packet {
    sim_host *origin;             /* the sending host (pair links are keyed by it) */
    sim_nat *realm;               /* ST_ROUTE */
    sim_nat *nat;                 /* ST_NAT_IN */
    sim_host *to_host;            /* ST_PAIR_DONE, ST_DELIVER */
    camrtc_addr src, dst;         /* as seen on the current hop */
    size_t len;
    uint8_t data[];
} packet;

enum { EV_TIMER, EV_PACKET };

typedef struct event {
    camrtc_time_us at;
    uint64_t seq;                 /* insertion order breaks ties */
    size_t idx;                   /* position in the heap */
    int kind;
    sim_timer_cb cb;              /* EV_TIMER */
    void *user;
    uint32_t slot;
    stage st;                     /* EV_PACKET */
    packet *pkt;
    struct event *next_free;
} event;

typedef struct timer_slot {
    uint32_t gen;                 /* bumped when the slot is released: stale ids miss */
    event *ev;                    /* NULL when free */
} timer_slot;

typedef struct pair_link {
    const sim_host *a, *b;
    link l;
} pair_link;

struct sim_sock {
    sim_host *h;
    camrtc_addr addr;
    sim_recv_cb cb;
    void *user;
    uint64_t received;
    sim_sock *next;
};

struct sim_host {
    sim *s;
    char name[32];
    sim_nat *realm;               /* NULL: on the internet */
    camrtc_addr addrs[SIM_MAX_ADDRS];
    int n_addrs;
    link up, down;
    sim_sock *socks;
    uint16_t next_port;
    sim_raw_cb raw;
    void *raw_user;
};

struct sim_nat {
    sim *s;
    char name[32];
    camrtc_addr pub;
    sim_nat_table *t;
    link up, down;
};

struct sim {
    camrtc_time_us now;
    uint64_t rng[4];
    uint64_t seq;
    event **heap;
    size_t n_heap, cap_heap;
    event *free_events;
    size_t inflight;
    timer_slot *slots;
    uint32_t n_slots, cap_slots;
    uint32_t *free_slots;
    uint32_t n_free_slots;
    sim_host **hosts;
    size_t n_hosts, cap_hosts;
    sim_nat **nats;
    size_t n_nats, cap_nats;
    pair_link *pairs;
    size_t n_pairs, cap_pairs;
    sim_stats st;
    uint64_t trace;
    sim_trace_cb trace_cb;
    void *trace_user;
    uint64_t max_events;
};

/* ---- PRNG ------------------------------------------------------------------------ */

uint64_t sim_rand_u64(sim *s)
{
    uint64_t *r = s->rng;
    uint64_t out = rotl(r[1] * 5, 7) * 9;
    uint64_t t = r[1] << 17;
    r[2] ^= r[0];
    r[3] ^= r[1];
    r[1] ^= r[2];
    r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    return out;
}

double sim_rand_double(sim *s)
{
    return (double)(sim_rand_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* A draw only when p > 0, so an unimpaired link consumes no randomness. */
static bool chance(sim *s, double p)
{
    return p > 0 && (p >= 1.0 || sim_rand_double(s) < p);
}

/* ---- trace hash (FNV-1a 64) -------------------------------------------------------- */

void sim_trace_mix(sim *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = s->trace;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    s->trace = h;
}

uint64_t sim_trace_hash(const sim *s) { return s->trace; }

void sim_set_trace(sim *s, sim_trace_cb cb, void *user)
{
    s->trace_cb = cb;
    s->trace_user = user;
}

/* Field by field: struct padding must not reach the hash. */
static void trace_addr(sim *s, const camrtc_addr *a)
{
    uint8_t b[19] = {a->family, (uint8_t)(a->port >> 8), (uint8_t)a->port};
    memcpy(b + 3, a->ip, 16);
    sim_trace_mix(s, b, sizeof b);
}

static void trace_packet(sim *s, const char *what, const packet *p)
{
    sim_trace_mix(s, &s->now, sizeof s->now);
    sim_trace_mix(s, what, strlen(what));
    trace_addr(s, &p->src);
    trace_addr(s, &p->dst);
    sim_trace_mix(s, p->data, p->len);
    if (s->trace_cb)
        s->trace_cb(s->trace_user, s->now, what, &p->src, &p->dst, p->data, p->len);
}

/* ---- lifecycle -------------------------------------------------------------------- */

sim *sim_new(uint64_t seed)
{
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        s->rng[i] = splitmix64(&x);
    s->now = SIM_T0;
    s->trace = 0xCBF29CE484222325ull;
    s->max_events = SIM_DEFAULT_MAX_EVENTS;
    return s;
}

static void free_packet_event(event *e)
{
    if (e->kind == EV_PACKET)
        free(e->pkt);
    free(e);
}

void sim_free(sim *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_heap; i++)
        free_packet_event(s->heap[i]);
    while (s->free_events) {
        event *e = s->free_events;
        s->free_events = e->next_free;
        free(e);
    }
    for (size_t i = 0; i < s->n_hosts; i++) {
        sim_sock *k = s->hosts[i]->socks;
        while (k) {
            sim_sock *next = k->next;
            free(k);
            k = next;
        }
        free(s->hosts[i]);
    }
    for (size_t i = 0; i < s->n_nats; i++) {
        sim_nat_table_free(s->nats[i]->t);
        free(s->nats[i]);
    }
    free(s->heap);
    free(s->slots);
    free(s->free_slots);
    free(s->hosts);
    free(s->nats);
    free(s->pairs);
    free(s);
}

camrtc_time_us sim_now(const sim *s) { return s->now; }
const sim_stats *sim_get_stats(const sim *s) { return &s->st; }
void sim_set_max_events(sim *s, uint64_t max_events) { s->max_events = max_events; }

/* Grow *arr (of elem bytes each) so it holds at least need; false on allocation failure. */
static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* ---- the event heap ----------------------------------------------------------------- */

static bool ev_before(const event *a, const event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_set(sim *s, size_t i, event *e)
{
    s->heap[i] = e;
    e->idx = i;
}

static void heap_up(sim *s, size_t i)
{
    event *e = s->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!ev_before(e, s->heap[parent]))
            break;
        heap_set(s, i, s->heap[parent]);
        i = parent;
    }
    heap_set(s, i, e);
}

static void heap_down(sim *s, size_t i)
{
    event *e = s->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->n_heap)
            break;
        if (c + 1 < s->n_heap && ev_before(s->heap[c + 1], s->heap[c]))
            c++;
        if (!ev_before(s->heap[c], e))
            break;
        heap_set(s, i, s->heap[c]);
        i = c;
    }
    heap_set(s, i, e);
}

static void heap_remove(sim *s, event *e)
{
    size_t i = e->idx;
    event *last = s->heap[--s->n_heap];
    if (i == s->n_heap)
        return;
    heap_set(s, i, last);
    heap_up(s, i);
    heap_down(s, last->idx);
}

static event *event_alloc(sim *s)
{
    event *e = s->free_events;
    if (e)
        s->free_events = e->next_free;
    else if (!(e = malloc(sizeof *e)))
        return NULL;
    memset(e, 0, sizeof *e);
    return e;
}

static void event_release(sim *s, event *e)
{
    e->next_free = s->free_events;
    s->free_events = e;
}

static bool schedule(sim *s, event *e, camrtc_time_us at)
{
    if (!grow((void **)&s->heap, &s->cap_heap, s->n_heap + 1, sizeof *s->heap))
        return false;
    e->at = at < s->now ? s->now : at;
    e->seq = s->seq++;
    heap_set(s, s->n_heap++, e);
    heap_up(s, s->n_heap - 1);
    return true;
}

/* ---- timers ------------------------------------------------------------------------ */

uint64_t sim_timer_set(sim *s, camrtc_time_us at, sim_timer_cb cb, void *user)
{
    uint32_t slot;
    if (s->n_free_slots) {
        slot = s->free_slots[--s->n_free_slots];
    } else {
        size_t cap = s->cap_slots, fcap = s->cap_slots;
        if (!grow((void **)&s->slots, &cap, (size_t)s->n_slots + 1, sizeof *s->slots) ||
            !grow((void **)&s->free_slots, &fcap, cap, sizeof *s->free_slots))
            return 0;
        s->cap_slots = (uint32_t)cap;
        slot = s->n_slots++;
        s->slots[slot].gen = 1;
    }
    event *e = event_alloc(s);
    if (!e || !schedule(s, e, at)) {
        if (e)
            event_release(s, e);
        s->free_slots[s->n_free_slots++] = slot;
        return 0;
    }
    e->kind = EV_TIMER;
    e->cb = cb;
    e->user = user;
    e->slot = slot;
    s->slots[slot].ev = e;
    return ((uint64_t)s->slots[slot].gen << 32) | (slot + 1u);
}

static void slot_release(sim *s, uint32_t slot)
{
    s->slots[slot].ev = NULL;
    s->slots[slot].gen++;
    s->free_slots[s->n_free_slots++] = slot;
}

bool sim_timer_cancel(sim *s, uint64_t id)
{
    uint32_t low = (uint32_t)id;
    if (low == 0 || low > s->n_slots)
        return false;
    uint32_t slot = low - 1;
    timer_slot *ts = &s->slots[slot];
    if (!ts->ev || ts->gen != (uint32_t)(id >> 32))
        return false;
    heap_remove(s, ts->ev);
    event_release(s, ts->ev);
    slot_release(s, slot);
    return true;
}

void sim_timer_keep(sim *s, uint64_t *id, camrtc_time_us *id_at, camrtc_time_us at, sim_timer_cb cb,
                    void *user)
{
    if (*id && at == *id_at)
        return;
    if (*id)
        sim_timer_cancel(s, *id);
    *id = 0;
    *id_at = at;
    if (at != CAMRTC_TIME_NEVER)
        *id = sim_timer_set(s, at, cb, user);
}

/* ---- links ------------------------------------------------------------------------- */

static void link_config(link *l, const sim_link_config *cfg)
{
    l->cfg = *cfg;
    if (!l->cfg.queue_bytes)
        l->cfg.queue_bytes = 64 * 1024;
}

static void drop(sim *s, packet *p, const char *why)
{
    trace_packet(s, why, p);
    free(p);
}

static void schedule_packet(sim *s, packet *p, stage st, camrtc_time_us at)
{
    event *e = s->inflight < SIM_MAX_INFLIGHT ? event_alloc(s) : NULL;
    if (!e || !schedule(s, e, at)) {
        if (e)
            event_release(s, e);
        s->st.inflight_drops++;
        drop(s, p, "inflight");
        return;
    }
    e->kind = EV_PACKET;
    e->st = st;
    e->pkt = p;
    s->inflight++;
}

static packet *packet_clone(const packet *p)
{
    packet *c = malloc(sizeof *c + p->len);
    if (c)
        memcpy(c, p, sizeof *c + p->len);
    return c;
}

/* Cross link l: maybe lose, queue behind the rate limit, delay, jitter, reorder, duplicate;
 * then the packet's next event (st) fires when it comes out. */
static void pass_link(sim *s, link *l, packet *p, stage st)
{
    const sim_link_config *c = &l->cfg;
    l->st.packets++;
    l->st.bytes += p->len;
    if (chance(s, c->loss)) {
        l->st.lost++;
        drop(s, p, "loss");
        return;
    }
    camrtc_time_us t = s->now;
    if (c->rate) {
        /* A FIFO bottleneck: the bytes still queued are what the busy time represents. */
        camrtc_time_us start = l->busy_until > t ? l->busy_until : t;
        uint64_t queued = (start - t) * c->rate / 1000000u;
        if (queued + p->len > c->queue_bytes) {
            l->st.queue_drops++;
            drop(s, p, "queue");
            return;
        }
        if (queued + p->len > l->st.queue_max)
            l->st.queue_max = (uint32_t)(queued + p->len);
        l->busy_until = start + (p->len * 1000000u + c->rate - 1) / c->rate;
        t = l->busy_until;
    }
    t += c->delay;
    if (c->jitter)
        t += sim_rand_u64(s) % (c->jitter + 1);
    if (chance(s, c->reorder)) {
        l->st.reordered++;
        t += c->reorder_delay;
    }
    packet *dup = NULL;
    if (chance(s, c->dup)) {
        l->st.duplicated++;
        dup = packet_clone(p);
    }
    l->st.passed++;
    schedule_packet(s, p, st, t);
    if (dup) {
        l->st.passed++;
        schedule_packet(s, dup, st, t);
    }
}

void sim_host_set_link(sim_host *h, sim_dir dir, const sim_link_config *cfg)
{
    if (dir & SIM_UP)
        link_config(&h->up, cfg);
    if (dir & SIM_DOWN)
        link_config(&h->down, cfg);
}

const sim_link_stats *sim_host_link_stats(const sim_host *h, sim_dir dir)
{
    return dir == SIM_DOWN ? &h->down.st : &h->up.st;
}

static pair_link *find_pair(const sim *s, const sim_host *a, const sim_host *b)
{
    for (size_t i = 0; i < s->n_pairs; i++)
        if (s->pairs[i].a == a && s->pairs[i].b == b)
            return &s->pairs[i];
    return NULL;
}

int sim_pair_set_link(sim *s, const sim_host *a, const sim_host *b, const sim_link_config *cfg)
{
    pair_link *pl = find_pair(s, a, b);
    if (!pl) {
        if (!grow((void **)&s->pairs, &s->cap_pairs, s->n_pairs + 1, sizeof *s->pairs))
            return CAMRTC_ENOMEM;
        pl = &s->pairs[s->n_pairs++];
        memset(pl, 0, sizeof *pl);
        pl->a = a;
        pl->b = b;
    }
    link_config(&pl->l, cfg);
    return CAMRTC_OK;
}

const sim_link_stats *sim_pair_link_stats(const sim *s, const sim_host *a, const sim_host *b)
{
    pair_link *pl = find_pair(s, a, b);
    return pl ? &pl->l.st : NULL;
}

/* ---- hosts and sockets -------------------------------------------------------------- */

static void copy_name(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

sim_host *sim_host_new(sim *s, const char *name, sim_nat *behind)
{
    if (!grow((void **)&s->hosts, &s->cap_hosts, s->n_hosts + 1, sizeof *s->hosts))
        return NULL;
    sim_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->s = s;
    h->realm = behind;
    h->next_port = 49152;
    copy_name(h->name, sizeof h->name, name);
    link_config(&h->up, &(sim_link_config){0});
    link_config(&h->down, &(sim_link_config){0});
    s->hosts[s->n_hosts++] = h;
    return h;
}

/* The host in realm that owns ip (port ignored). */
static sim_host *find_host(const sim *s, const sim_nat *realm, const camrtc_addr *ip)
{
    for (size_t i = 0; i < s->n_hosts; i++) {
        sim_host *h = s->hosts[i];
        if (h->realm != realm)
            continue;
        for (int j = 0; j < h->n_addrs; j++)
            if (camrtc_addr_ip_equal(&h->addrs[j], ip))
                return h;
    }
    return NULL;
}

static sim_nat *find_nat(const sim *s, const camrtc_addr *ip)
{
    for (size_t i = 0; i < s->n_nats; i++)
        if (camrtc_addr_ip_equal(&s->nats[i]->pub, ip))
            return s->nats[i];
    return NULL;
}

int sim_host_add_addr(sim_host *h, const char *ip)
{
    camrtc_addr a;
    if (camrtc_addr_parse(&a, ip, 0) < 0)
        return CAMRTC_EINVAL;
    if (find_host(h->s, h->realm, &a) || (!h->realm && find_nat(h->s, &a)))
        return CAMRTC_EEXIST;
    if (h->n_addrs >= SIM_MAX_ADDRS)
        return CAMRTC_ELIMIT;
    h->addrs[h->n_addrs++] = a;
    return CAMRTC_OK;
}

const camrtc_addr *sim_host_addr(const sim_host *h, int i)
{
    return i >= 0 && i < h->n_addrs ? &h->addrs[i] : NULL;
}

int sim_host_n_addrs(const sim_host *h) { return h->n_addrs; }
const char *sim_host_name(const sim_host *h) { return h->name; }

static sim_sock *find_sock(const sim_host *h, const camrtc_addr *a)
{
    for (sim_sock *k = h->socks; k; k = k->next)
        if (camrtc_addr_equal(&k->addr, a))
            return k;
    return NULL;
}

static bool host_has_ip(const sim_host *h, const camrtc_addr *ip)
{
    for (int i = 0; i < h->n_addrs; i++)
        if (camrtc_addr_ip_equal(&h->addrs[i], ip))
            return true;
    return false;
}

/* An unused port on ip from the ephemeral range 49152-65535 (RFC 6335). */
static uint16_t ephemeral_port(sim_host *h, const camrtc_addr *ip)
{
    camrtc_addr a = *ip;
    for (unsigned tries = 0; tries < 16384; tries++) {
        a.port = h->next_port;
        h->next_port = h->next_port == 65535 ? 49152 : (uint16_t)(h->next_port + 1);
        if (!find_sock(h, &a))
            return a.port;
    }
    return 0;
}

sim_sock *sim_udp_bind(sim_host *h, const camrtc_addr *local, sim_recv_cb cb, void *user)
{
    if (!host_has_ip(h, local))
        return NULL;
    camrtc_addr a = *local;
    if (!a.port && !(a.port = ephemeral_port(h, local)))
        return NULL;
    if (find_sock(h, &a))
        return NULL;
    sim_sock *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->h = h;
    k->addr = a;
    k->cb = cb;
    k->user = user;
    k->next = h->socks;
    h->socks = k;
    return k;
}

int sim_udp_bind_extra(sim_host *h, const camrtc_addr *local, sim_sock **socks, int *n, int max,
                       sim_recv_cb cb, void *user)
{
    if (*n >= max)
        return CAMRTC_ELIMIT;
    camrtc_addr a = *local;
    a.port = 0;
    sim_sock *k = sim_udp_bind(h, &a, cb, user);
    if (!k)
        return CAMRTC_EIO;
    socks[*n] = k;
    return (*n)++;
}

void sim_udp_close(sim_sock *sock)
{
    if (!sock)
        return;
    for (sim_sock **pp = &sock->h->socks; *pp; pp = &(*pp)->next) {
        if (*pp == sock) {
            *pp = sock->next;
            break;
        }
    }
    free(sock);
}

const camrtc_addr *sim_sock_addr(const sim_sock *sock) { return &sock->addr; }
sim_host *sim_sock_host(const sim_sock *sock) { return sock->h; }
sim *sim_sock_sim(const sim_sock *sock) { return sock->h->s; }
uint64_t sim_sock_received(const sim_sock *sock) { return sock->received; }

void sim_host_set_raw(sim_host *h, sim_raw_cb cb, void *user)
{
    h->raw = cb;
    h->raw_user = user;
}

int sim_host_send_from(sim_host *h, const camrtc_addr *from, const camrtc_addr *to,
                       const uint8_t *data, size_t len)
{
    sim *s = h->s;
    if (!from || !to || !host_has_ip(h, from) || to->family != from->family)
        return CAMRTC_EINVAL;
    if (len > SIM_MAX_PACKET) {
        s->st.too_big++;
        return CAMRTC_ETOOBIG;
    }
    packet *p = malloc(sizeof *p + len);
    if (!p)
        return CAMRTC_ENOMEM;
    memset(p, 0, sizeof *p);
    p->origin = h;
    p->realm = h->realm;
    p->src = *from;
    p->dst = *to;
    p->len = len;
    if (len)
        memcpy(p->data, data, len);
    s->st.sent++;
    pass_link(s, &h->up, p, ST_ROUTE);
    return CAMRTC_OK;
}

int sim_udp_send(sim_sock *sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    return sim_host_send_from(sock->h, &sock->addr, to, data, len);
}

/* ---- NAT boxes ---------------------------------------------------------------------- */

sim_nat *sim_nat_new(sim *s, const char *name, const char *public_ip, const sim_nat_config *cfg)
{
    camrtc_addr pub;
    if (camrtc_addr_parse(&pub, public_ip, 0) < 0 || find_nat(s, &pub) || find_host(s, NULL, &pub))
        return NULL;
    if (!grow((void **)&s->nats, &s->cap_nats, s->n_nats + 1, sizeof *s->nats))
        return NULL;
    sim_nat *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->t = sim_nat_table_new(&pub, cfg);
    if (!n->t) {
        free(n);
        return NULL;
    }
    n->s = s;
    n->pub = pub;
    copy_name(n->name, sizeof n->name, name);
    link_config(&n->up, &(sim_link_config){0});
    link_config(&n->down, &(sim_link_config){0});
    s->nats[s->n_nats++] = n;
    return n;
}

const camrtc_addr *sim_nat_public(const sim_nat *n) { return &n->pub; }

void sim_nat_set_link(sim_nat *n, sim_dir dir, const sim_link_config *cfg)
{
    if (dir & SIM_UP)
        link_config(&n->up, cfg);
    if (dir & SIM_DOWN)
        link_config(&n->down, cfg);
}

const sim_link_stats *sim_nat_link_stats(const sim_nat *n, sim_dir dir)
{
    return dir == SIM_DOWN ? &n->down.st : &n->up.st;
}

const sim_nat_stats *sim_nat_get_stats(const sim_nat *n) { return sim_nat_table_stats(n->t); }

unsigned sim_nat_mappings(const sim_nat *n) { return sim_nat_table_live(n->t, n->s->now); }

/* ---- routing ---------------------------------------------------------------------- */

/* p has reached the realm of host h (its LAN or the internet): cross the pair link if
 * one is set, then h's downlink. */
static void to_host(sim *s, packet *p, sim_host *h)
{
    p->to_host = h;
    pair_link *pl = find_pair(s, p->origin, h);
    if (pl)
        pass_link(s, &pl->l, p, ST_PAIR_DONE);
    else
        pass_link(s, &h->down, p, ST_DELIVER);
}

/* Inbound translation at NAT n (also the second half of a hairpin). */
static void nat_inbound(sim *s, sim_nat *n, packet *p)
{
    camrtc_addr priv;
    if (sim_nat_table_in(n->t, s->now, &p->src, &p->dst, &priv) < 0) {
        drop(s, p, "nat");
        return;
    }
    sim_host *h = find_host(s, n, &priv);
    if (!h) {
        s->st.no_route++;
        drop(s, p, "no-route");
        return;
    }
    p->dst = priv;
    to_host(s, p, h);
}

/* A LAN packet of n for the outside: translate its source, then the NAT's uplink; or,
 * addressed to n's own public IP, turn it around (hairpin, RFC 4787 REQ-9). */
static void nat_outbound(sim *s, sim_nat *n, packet *p)
{
    camrtc_addr pub;
    if (sim_nat_table_out(n->t, s->now, &p->src, &p->dst, &pub) < 0) {
        drop(s, p, "nat-full");
        return;
    }
    p->src = pub;
    if (camrtc_addr_ip_equal(&p->dst, &n->pub)) {
        if (!sim_nat_table_hairpin(n->t)) {
            drop(s, p, "hairpin");
            return;
        }
        nat_inbound(s, n, p);
        return;
    }
    p->realm = NULL;
    pass_link(s, &n->up, p, ST_ROUTE);
}

static void route(sim *s, packet *p)
{
    sim_host *h = find_host(s, p->realm, &p->dst);
    if (h) {
        to_host(s, p, h);
        return;
    }
    if (p->realm) {
        nat_outbound(s, p->realm, p);
        return;
    }
    sim_nat *n = find_nat(s, &p->dst);
    if (n) {
        p->nat = n;
        pass_link(s, &n->down, p, ST_NAT_IN);
        return;
    }
    s->st.no_route++;
    drop(s, p, "no-route");
}

static void deliver(sim *s, packet *p)
{
    sim_host *h = p->to_host;
    sim_sock *k = find_sock(h, &p->dst);
    if (!k && h->raw) {
        s->st.delivered++;
        trace_packet(s, "deliver", p);
        h->raw(h->raw_user, h, &p->src, &p->dst, p->data, p->len);
        free(p);
        return;
    }
    if (!k) {
        s->st.no_socket++;
        drop(s, p, "no-socket");
        return;
    }
    s->st.delivered++;
    k->received++;
    trace_packet(s, "deliver", p);
    k->cb(k->user, k, &p->src, p->data, p->len);
    free(p);
}

static void packet_event(sim *s, stage st, packet *p)
{
    switch (st) {
    case ST_ROUTE:
        route(s, p);
        break;
    case ST_NAT_IN:
        nat_inbound(s, p->nat, p);
        break;
    case ST_PAIR_DONE:
        pass_link(s, &p->to_host->down, p, ST_DELIVER);
        break;
    case ST_DELIVER:
        deliver(s, p);
        break;
    }
}

/* ---- running ---------------------------------------------------------------------- */

/* Pop and run the earliest event (the caller checked it is due). */
static void run_one(sim *s)
{
    event *e = s->heap[0];
    heap_remove(s, e);
    s->now = e->at;
    s->st.events++;
    if (e->kind == EV_TIMER) {
        sim_timer_cb cb = e->cb;
        void *user = e->user;
        slot_release(s, e->slot);
        event_release(s, e);
        cb(s, user);
    } else {
        stage st = e->st;
        packet *p = e->pkt;
        s->inflight--;
        event_release(s, e);
        packet_event(s, st, p);
    }
}

int64_t sim_run_until(sim *s, camrtc_time_us t)
{
    int64_t n = 0;
    while (s->n_heap && s->heap[0]->at <= t) {
        if ((uint64_t)n >= s->max_events) {
            s->st.event_limit_hits++;
            return CAMRTC_ELIMIT;
        }
        run_one(s);
        n++;
    }
    if (t > s->now)
        s->now = t;
    return n;
}

int64_t sim_run_for(sim *s, camrtc_time_us d)
{
    return sim_run_until(s, s->now + d);
}

bool sim_run_while(sim *s, bool (*pred)(void *user), void *user, camrtc_time_us max_time)
{
    uint64_t n = 0;
    while (pred(user)) {
        if (!s->n_heap || s->heap[0]->at > max_time) {
            if (max_time > s->now)
                s->now = max_time;
            return false;
        }
        if (n++ >= s->max_events) {
            s->st.event_limit_hits++;
            return false;
        }
        run_one(s);
    }
    return true;
}
