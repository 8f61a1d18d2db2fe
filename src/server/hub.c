/* Data plane of the local signaling service: see hub.h. */
#include "server/hub.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/str.h"

#define MOD "hub"
#define NO_IDX UINT32_MAX
#define USEC_PER_TOKEN 1000000u
#define MAX_ARN 1024
#define GO_AWAY_LEAD_MAX CAMRTC_SEC(60)

/* ---- records ---- */

enum { TIMER_CONN, TIMER_CHAN };

/* An entry of the deadline heap, embedded in a connection or a channel. */
typedef struct hub_timer {
    camrtc_time_us key;
    uint32_t idx;   /* position in the heap, NO_IDX when not in it */
    uint8_t kind;
} hub_timer;

/* Token bucket: level in token-microseconds (one token = USEC_PER_TOKEN). */
typedef struct hub_bucket {
    camrtc_time_us last;
    uint64_t level;
} hub_bucket;

typedef struct hub_channel hub_channel;

typedef struct hub_conn {
    hub_timer timer;   /* first: the heap stores &conn->timer */
    uint64_t id;
    struct hub_conn *hnext;
    hub_channel *ch;
    camrtc_time_us connected_at, last_activity, close_at;
    hub_bucket sdp, cand;
    int16_t slot;      /* index in ch->viewers, -1 for the master */
    bool go_away_sent;
    char client_id[];  /* "" for the master */
} hub_conn;

/* A message kept for a recipient that is not connected: its serialized text. */
typedef struct hub_held {
    struct hub_held *next;
    camrtc_time_us expires;
    size_t len;        /* of text */
    size_t cost;       /* bytes counted against max_held_bytes */
    const char *text;  /* points after recipient */
    char recipient[];  /* client id, "" for the master, then text */
} hub_held;

struct hub_channel {
    hub_timer timer;   /* first: the heap stores &channel->timer */
    hub_channel *hnext;
    uint64_t hash;
    char *arn;         /* points into the same allocation */
    int ttl_s;
    hub_bucket connects;
    hub_conn *master;
    hub_held *held, *held_tail;
    int nheld;
    size_t held_bytes;
    int nviewers;
    hub_conn *viewers[]; /* cfg.max_viewers slots */
};

struct sig_hub {
    sig_hub_config cfg;
    sig_hub_io io;
    void *ud;
    camrtc_log *log;
    hub_conn **conns;      /* buckets, chained by hnext */
    size_t conn_mask, nconns;
    hub_channel **chans;
    size_t chan_mask, nchans;
    hub_timer **heap;
    size_t heap_len, heap_cap;
    uint64_t next_id;
    camrtc_buf out;        /* scratch for serialized messages */
    sig_hub_stats stats;
};

static camrtc_time_us tmin(camrtc_time_us a, camrtc_time_us b)
{
    return a < b ? a : b;
}

/* now + d without wrapping past CAMRTC_TIME_NEVER. */
static camrtc_time_us tadd(camrtc_time_us now, camrtc_time_us d)
{
    return d > CAMRTC_TIME_NEVER - now ? CAMRTC_TIME_NEVER : now + d;
}

/* ---- token buckets ---- */

static void bucket_init(hub_bucket *b, int rate, camrtc_time_us now)
{
    b->last = now;
    b->level = (uint64_t)(rate > 0 ? rate : 0) * USEC_PER_TOKEN;
}

static bool bucket_take(hub_bucket *b, int rate, camrtc_time_us now)
{
    if (rate <= 0)
        return true;
    uint64_t cap = (uint64_t)rate * USEC_PER_TOKEN;
    if (now > b->last) {
        camrtc_time_us dt = now - b->last;
        /* A whole second refills any bucket (burst = rate); this also keeps dt * rate small. */
        b->level = dt >= USEC_PER_TOKEN ? cap : b->level + dt * (uint64_t)rate;
        if (b->level > cap)
            b->level = cap;
        b->last = now;
    }
    if (b->level < USEC_PER_TOKEN)
        return false;
    b->level -= USEC_PER_TOKEN;
    return true;
}

/* ---- deadline heap ---- */

static void heap_set(sig_hub *h, size_t i, hub_timer *t)
{
    h->heap[i] = t;
    t->idx = (uint32_t)i;
}

static void heap_up(sig_hub *h, size_t i)
{
    hub_timer *t = h->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->heap[p]->key <= t->key)
            break;
        heap_set(h, i, h->heap[p]);
        i = p;
    }
    heap_set(h, i, t);
}

static void heap_down(sig_hub *h, size_t i)
{
    hub_timer *t = h->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->heap_len)
            break;
        if (c + 1 < h->heap_len && h->heap[c + 1]->key < h->heap[c]->key)
            c++;
        if (t->key <= h->heap[c]->key)
            break;
        heap_set(h, i, h->heap[c]);
        i = c;
    }
    heap_set(h, i, t);
}

/* Every connection and channel can be in the heap at once, so room for all of
 * them is made before one is created; timer_set then never allocates. */
static int heap_reserve(sig_hub *h, size_t total)
{
    if (total <= h->heap_cap)
        return CAMRTC_OK;
    size_t ncap = h->heap_cap ? h->heap_cap * 2 : 64;
    while (ncap < total)
        ncap *= 2;
    hub_timer **n = realloc(h->heap, ncap * sizeof *n);
    if (!n)
        return CAMRTC_ENOMEM;
    h->heap = n;
    h->heap_cap = ncap;
    return CAMRTC_OK;
}

static void heap_remove(sig_hub *h, hub_timer *t)
{
    if (t->idx == NO_IDX)
        return;
    size_t i = t->idx;
    t->idx = NO_IDX;
    hub_timer *last = h->heap[--h->heap_len];
    if (last == t)
        return;
    heap_set(h, i, last);
    heap_up(h, i);
    heap_down(h, last->idx);
}

/* Put t in the heap at key, or take it out for CAMRTC_TIME_NEVER. */
static void timer_set(sig_hub *h, hub_timer *t, camrtc_time_us key)
{
    if (key == CAMRTC_TIME_NEVER) {
        heap_remove(h, t);
        return;
    }
    t->key = key;
    if (t->idx == NO_IDX) {
        heap_set(h, h->heap_len++, t);
        heap_up(h, t->idx);
    } else {
        heap_up(h, t->idx);
        heap_down(h, t->idx);
    }
}

/* ---- tables ---- */

static size_t conn_bucket(const sig_hub *h, uint64_t id)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & h->conn_mask;
}

static uint64_t arn_hash(const char *s)
{
    uint64_t x = 0xcbf29ce484222325ull;
    for (; *s; s++)
        x = (x ^ (uint8_t)*s) * 0x100000001b3ull;
    return x;
}

static hub_conn *conn_find(const sig_hub *h, uint64_t id)
{
    for (hub_conn *c = h->conns[conn_bucket(h, id)]; c; c = c->hnext)
        if (c->id == id)
            return c;
    return NULL;
}

static hub_channel *chan_find(const sig_hub *h, const char *arn)
{
    uint64_t x = arn_hash(arn);
    for (hub_channel *ch = h->chans[x & h->chan_mask]; ch; ch = ch->hnext)
        if (ch->hash == x && strcmp(ch->arn, arn) == 0)
            return ch;
    return NULL;
}

/* Double the bucket arrays before they pass one entry per bucket. */
static int conns_reserve(sig_hub *h)
{
    if (h->nconns < h->conn_mask + 1)
        return CAMRTC_OK;
    size_t n = (h->conn_mask + 1) * 2;
    hub_conn **t = calloc(n, sizeof *t);
    if (!t)
        return CAMRTC_ENOMEM;
    hub_conn **old = h->conns;
    size_t old_n = h->conn_mask + 1;
    h->conns = t;
    h->conn_mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        for (hub_conn *c = old[i], *next; c; c = next) {
            next = c->hnext;
            size_t b = conn_bucket(h, c->id);
            c->hnext = t[b];
            t[b] = c;
        }
    }
    free(old);
    return CAMRTC_OK;
}

static int chans_reserve(sig_hub *h)
{
    if (h->nchans < h->chan_mask + 1)
        return CAMRTC_OK;
    size_t n = (h->chan_mask + 1) * 2;
    hub_channel **t = calloc(n, sizeof *t);
    if (!t)
        return CAMRTC_ENOMEM;
    hub_channel **old = h->chans;
    size_t old_n = h->chan_mask + 1;
    h->chans = t;
    h->chan_mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        for (hub_channel *ch = old[i], *next; ch; ch = next) {
            next = ch->hnext;
            ch->hnext = t[ch->hash & h->chan_mask];
            t[ch->hash & h->chan_mask] = ch;
        }
    }
    free(old);
    return CAMRTC_OK;
}

static void conn_unlink(sig_hub *h, hub_conn *c)
{
    for (hub_conn **pp = &h->conns[conn_bucket(h, c->id)]; *pp; pp = &(*pp)->hnext) {
        if (*pp == c) {
            *pp = c->hnext;
            h->nconns--;
            return;
        }
    }
}

/* ---- channels ---- */

static bool chan_empty(const hub_channel *ch)
{
    return !ch->master && ch->nviewers == 0 && !ch->held;
}

static hub_conn *chan_viewer(const hub_channel *ch, const char *client_id)
{
    for (int i = 0; i < ch->nviewers; i++)
        if (strcmp(ch->viewers[i]->client_id, client_id) == 0)
            return ch->viewers[i];
    return NULL;
}

/* The channel's deadline: its earliest held message, and for an empty channel
 * the moment its connect bucket is full again (so forgetting it loses nothing). */
static void chan_rekey(sig_hub *h, hub_channel *ch)
{
    camrtc_time_us key = CAMRTC_TIME_NEVER;
    for (const hub_held *m = ch->held; m; m = m->next)
        key = tmin(key, m->expires);
    if (chan_empty(ch))
        key = h->cfg.connects_per_s > 0 ? tadd(ch->connects.last, CAMRTC_SEC(1)) : 0;
    timer_set(h, &ch->timer, key);
}

static hub_channel *chan_new(sig_hub *h, const char *arn, camrtc_time_us now)
{
    size_t alen = strlen(arn);
    size_t vsz = (size_t)h->cfg.max_viewers * sizeof(hub_conn *);
    hub_channel *ch = calloc(1, sizeof *ch + vsz + alen + 1);
    if (!ch)
        return NULL;
    ch->arn = (char *)ch + sizeof *ch + vsz;
    memcpy(ch->arn, arn, alen + 1);
    ch->hash = arn_hash(arn);
    ch->timer.idx = NO_IDX;
    ch->timer.kind = TIMER_CHAN;
    bucket_init(&ch->connects, h->cfg.connects_per_s, now);
    size_t b = ch->hash & h->chan_mask;
    ch->hnext = h->chans[b];
    h->chans[b] = ch;
    h->nchans++;
    return ch;
}

static void held_free_all(hub_channel *ch)
{
    for (hub_held *m = ch->held, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    ch->held = ch->held_tail = NULL;
    ch->nheld = 0;
    ch->held_bytes = 0;
}

static void chan_free(sig_hub *h, hub_channel *ch)
{
    for (hub_channel **pp = &h->chans[ch->hash & h->chan_mask]; *pp; pp = &(*pp)->hnext) {
        if (*pp == ch) {
            *pp = ch->hnext;
            h->nchans--;
            break;
        }
    }
    heap_remove(h, &ch->timer);
    held_free_all(ch);
    free(ch);
}

/* Unlink the held messages matching pred from the channel's queue into a
 * private list (so the queue is consistent before anything is sent). */
static hub_held *held_take(hub_channel *ch, const char *recipient, camrtc_time_us now, uint64_t *expired)
{
    hub_held *out = NULL, **out_tail = &out;
    hub_held **pp = &ch->held;
    ch->held_tail = NULL;
    while (*pp) {
        hub_held *m = *pp;
        bool is_expired = m->expires <= now;
        if (is_expired || (recipient && strcmp(m->recipient, recipient) == 0)) {
            *pp = m->next;
            ch->nheld--;
            ch->held_bytes -= m->cost;
            if (is_expired) {
                (*expired)++;
                free(m);
            } else {
                m->next = NULL;
                *out_tail = m;
                out_tail = &m->next;
            }
            continue;
        }
        ch->held_tail = m;
        pp = &m->next;
    }
    return out;
}

/* ---- connections ---- */

static camrtc_time_us conn_deadline(const sig_hub *h, const hub_conn *c)
{
    camrtc_time_us d = c->close_at;
    if (h->cfg.idle_timeout)
        d = tmin(d, tadd(c->last_activity, h->cfg.idle_timeout));
    if (h->cfg.max_duration) {
        camrtc_time_us end = tadd(c->connected_at, h->cfg.max_duration);
        d = tmin(d, end);
        if (h->cfg.go_away_lead && !c->go_away_sent)
            d = tmin(d, end - h->cfg.go_away_lead);
    }
    return d;
}

/* Take c out of its channel, the id table and the heap; the caller frees it. */
static void conn_detach(sig_hub *h, hub_conn *c)
{
    hub_channel *ch = c->ch;
    if (c->slot < 0) {
        if (ch->master == c)
            ch->master = NULL;
    } else {
        int last = --ch->nviewers;
        if (c->slot != last) {
            ch->viewers[c->slot] = ch->viewers[last];
            ch->viewers[c->slot]->slot = c->slot;
        }
        ch->viewers[last] = NULL;
    }
    conn_unlink(h, c);
    heap_remove(h, &c->timer);
}

/* Forget c, then ask the glue to close it. */
static void conn_close(sig_hub *h, hub_conn *c, uint16_t code, const char *reason)
{
    uint64_t id = c->id;
    hub_channel *ch = c->ch;
    conn_detach(h, c);
    free(c);
    chan_rekey(h, ch);
    CAMRTC_LOGD(h->log, MOD, "close conn %llu: %s", (unsigned long long)id, reason);
    h->io.close(h->ud, id, code, reason);
}

static void send_text(sig_hub *h, uint64_t id, const camrtc_buf *b)
{
    h->io.send(h->ud, id, (const char *)camrtc_buf_data(b), b->len);
}

/* Serialize a message with no payload (GO_AWAY, RECONNECT_ICE_SERVER) into h->out. */
static int build_bare(sig_hub *h, camrtc_sigmsg_type type)
{
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    camrtc_buf_reset(&h->out);
    return camrtc_sigmsg_write_to_client(&h->out, &m);
}

/* Answer a refused message with a STATUS_RESPONSE when it had a correlation id. */
static void send_status(sig_hub *h, hub_conn *c, const char *correlation_id, const char *error_type,
                        const char *description)
{
    if (!correlation_id[0])
        return;
    camrtc_sigmsg st;
    memset(&st, 0, sizeof st);
    st.type = CAMRTC_SIGMSG_STATUS_RESPONSE;
    st.status_code = 400;
    camrtc_strlcpy(st.correlation_id, correlation_id, sizeof st.correlation_id);
    camrtc_strlcpy(st.error_type, error_type, sizeof st.error_type);
    camrtc_strlcpy(st.description, description, sizeof st.description);
    camrtc_buf_reset(&h->out);
    if (camrtc_sigmsg_write_to_client(&h->out, &st) < 0)
        return;
    h->stats.status_responses++;
    send_text(h, c->id, &h->out);
}

/* Send every held message for recipient now connected as c (and drop expired ones). */
static void deliver_held(sig_hub *h, hub_conn *c, camrtc_time_us now)
{
    hub_channel *ch = c->ch;
    if (!ch->held)
        return;
    hub_held *list = held_take(ch, c->client_id, now, &h->stats.messages_expired);
    chan_rekey(h, ch);
    for (hub_held *m = list, *next; m; m = next) {
        next = m->next;
        h->stats.messages_routed++;
        h->io.send(h->ud, c->id, m->text, m->len);
        free(m);
    }
}

/* ---- public API ---- */

void sig_hub_config_default(sig_hub_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_viewers = 10;
    c->connects_per_s = 3;
    c->sdp_per_s = 5;
    c->candidates_per_s = 20;
    c->idle_timeout = CAMRTC_SEC(600);
    c->max_duration = CAMRTC_SEC(3600);
    c->go_away_lead = CAMRTC_SEC(60);
    c->max_held_messages = 100;
    c->max_held_bytes = 1u << 20;
    c->max_connections = 100000;
}

sig_hub *sig_hub_new(const sig_hub_config *cfg, const sig_hub_io *io, void *ud, camrtc_log *log)
{
    if (!cfg || !io || !io->send || !io->close)
        return NULL;
    if (cfg->max_viewers < 0 || cfg->max_viewers > 1000 || cfg->connects_per_s < 0 || cfg->sdp_per_s < 0 ||
        cfg->candidates_per_s < 0 || cfg->max_held_messages < 0 || cfg->max_connections < 0)
        return NULL;
    sig_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cfg = *cfg;
    if (h->cfg.go_away_lead > GO_AWAY_LEAD_MAX)
        h->cfg.go_away_lead = GO_AWAY_LEAD_MAX;
    if (h->cfg.max_duration && h->cfg.go_away_lead > h->cfg.max_duration)
        h->cfg.go_away_lead = h->cfg.max_duration;
    h->io = *io;
    h->ud = ud;
    h->log = log;
    h->conn_mask = 63;
    h->chan_mask = 15;
    h->conns = calloc(h->conn_mask + 1, sizeof *h->conns);
    h->chans = calloc(h->chan_mask + 1, sizeof *h->chans);
    /* Room for a routed message plus the sender id, or a status response. */
    h->out.max_cap = 2 * CAMRTC_SIGMSG_MAX_JSON;
    if (!h->conns || !h->chans || camrtc_buf_init(&h->out, 0, 4096) < 0) {
        sig_hub_free(h);
        return NULL;
    }
    return h;
}

void sig_hub_free(sig_hub *h)
{
    if (!h)
        return;
    if (h->conns) {
        for (size_t i = 0; i <= h->conn_mask; i++)
            for (hub_conn *c = h->conns[i], *next; c; c = next) {
                next = c->hnext;
                free(c);
            }
    }
    if (h->chans) {
        for (size_t i = 0; i <= h->chan_mask; i++)
            for (hub_channel *ch = h->chans[i], *next; ch; ch = next) {
                next = ch->hnext;
                held_free_all(ch);
                free(ch);
            }
    }
    free(h->conns);
    free(h->chans);
    free(h->heap);
    camrtc_buf_free(&h->out);
    free(h);
}

static bool client_id_ok(const char *id)
{
    size_t n = strnlen(id, CAMRTC_SIGMSG_MAX_ID + 1);
    return camrtc_str_is_name(id, n, CAMRTC_SIGMSG_MAX_ID) && strncmp(id, "AWS_", 4) != 0;
}

int sig_hub_connect(sig_hub *h, const char *channel_arn, int msg_ttl_s, const char *client_id, camrtc_time_us now,
                    uint64_t *conn_id, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (!h || !conn_id || !channel_arn || !channel_arn[0] || strnlen(channel_arn, MAX_ARN + 1) > MAX_ARN) {
        *why = "Invalid channel ARN";
        return CAMRTC_EINVAL;
    }
    *conn_id = 0;
    if (client_id && !client_id_ok(client_id)) {
        *why = "Invalid client id";
        return CAMRTC_EINVAL;
    }
    if (msg_ttl_s < 5 || msg_ttl_s > 120) {
        *why = "Invalid MessageTtlSeconds";
        return CAMRTC_EINVAL;
    }
    if (h->cfg.max_connections && h->nconns >= (size_t)h->cfg.max_connections) {
        h->stats.refused_connections++;
        *why = "Exceeded the maximum number of connections";
        return CAMRTC_ELIMIT;
    }
    /* Reserve first so nothing can fail once the channel starts changing. */
    if (heap_reserve(h, h->nconns + h->nchans + 2) < 0 || conns_reserve(h) < 0 || chans_reserve(h) < 0) {
        *why = "Out of memory";
        return CAMRTC_ENOMEM;
    }
    hub_channel *ch = chan_find(h, channel_arn);
    if (!ch && !(ch = chan_new(h, channel_arn, now))) {
        *why = "Out of memory";
        return CAMRTC_ENOMEM;
    }
    ch->ttl_s = msg_ttl_s;
    int rc = CAMRTC_OK;
    hub_conn *old = client_id ? chan_viewer(ch, client_id) : ch->master;
    if (!bucket_take(&ch->connects, h->cfg.connects_per_s, now)) {
        h->stats.refused_rate++;
        *why = "Exceeded the connection rate limit for the channel";
        rc = CAMRTC_ELIMIT;
    } else if (client_id && !old && ch->nviewers >= h->cfg.max_viewers) {
        h->stats.refused_viewer_limit++;
        *why = "Exceeded the maximum number of viewers for the channel";
        rc = CAMRTC_ELIMIT;
    }
    size_t idlen = client_id ? strlen(client_id) : 0;
    hub_conn *c = rc == 0 ? calloc(1, sizeof *c + idlen + 1) : NULL;
    if (rc == 0 && !c) {
        *why = "Out of memory";
        rc = CAMRTC_ENOMEM;
    }
    if (rc < 0) {
        chan_rekey(h, ch); /* an empty channel is forgotten once its bucket refills */
        return rc;
    }
    c->id = ++h->next_id;
    c->ch = ch;
    c->timer.idx = NO_IDX;
    c->timer.kind = TIMER_CONN;
    c->connected_at = c->last_activity = now;
    c->close_at = CAMRTC_TIME_NEVER;
    bucket_init(&c->sdp, h->cfg.sdp_per_s, now);
    bucket_init(&c->cand, h->cfg.candidates_per_s, now);
    if (client_id)
        memcpy(c->client_id, client_id, idlen + 1);

    uint64_t old_id = 0;
    if (old) {
        old_id = old->id;
        conn_detach(h, old);
        free(old);
        if (client_id)
            h->stats.viewers_replaced++;
        else
            h->stats.masters_replaced++;
    }
    if (client_id) {
        c->slot = (int16_t)ch->nviewers;
        ch->viewers[ch->nviewers++] = c;
    } else {
        c->slot = -1;
        ch->master = c;
    }
    size_t b = conn_bucket(h, c->id);
    c->hnext = h->conns[b];
    h->conns[b] = c;
    h->nconns++;
    timer_set(h, &c->timer, conn_deadline(h, c));
    chan_rekey(h, ch);
    h->stats.connects++;
    *conn_id = c->id;
    CAMRTC_LOGD(h->log, MOD, "conn %llu: %s %s on %s", (unsigned long long)c->id, client_id ? "viewer" : "master",
                client_id ? client_id : "", ch->arn);
    if (old_id)
        h->io.close(h->ud, old_id, SIG_HUB_CLOSE_REPLACED, "Replaced by a newer connection");
    deliver_held(h, c, now);
    return CAMRTC_OK;
}

/* Keep msg (in h->out) for recipient until the channel's TTL; false when the queue is full. */
static bool hold(sig_hub *h, hub_channel *ch, const char *recipient, camrtc_time_us now)
{
    size_t rlen = strlen(recipient);
    size_t cost = rlen + 1 + h->out.len;
    if (ch->nheld >= h->cfg.max_held_messages || ch->held_bytes > h->cfg.max_held_bytes ||
        cost > h->cfg.max_held_bytes - ch->held_bytes)
        return false;
    hub_held *m = malloc(sizeof *m + cost);
    if (!m)
        return false;
    m->next = NULL;
    m->expires = tadd(now, CAMRTC_SEC(ch->ttl_s));
    m->len = h->out.len;
    m->cost = cost;
    memcpy(m->recipient, recipient, rlen + 1);
    memcpy(m->recipient + rlen + 1, camrtc_buf_data(&h->out), h->out.len);
    m->text = m->recipient + rlen + 1;
    if (ch->held_tail)
        ch->held_tail->next = m;
    else
        ch->held = m;
    ch->held_tail = m;
    ch->nheld++;
    ch->held_bytes += cost;
    chan_rekey(h, ch);
    return true;
}

void sig_hub_message(sig_hub *h, uint64_t conn_id, const char *text, size_t len, camrtc_time_us now)
{
    hub_conn *c = h ? conn_find(h, conn_id) : NULL;
    if (!c) {
        /* A connection the hub already let go (replaced, closed) whose frames still
         * arrive while its close completes. */
        if (h)
            h->stats.dropped_closed_conn++;
        return;
    }
    h->stats.messages_in++;
    if (now > c->last_activity)
        c->last_activity = now;
    if (!text || len > CAMRTC_SIGMSG_MAX_JSON) {
        h->stats.dropped_too_large++;
        return;
    }
    /* Parsed in place and re-serialized from the input: the payload is
     * validated once and copied once, into h->out. */
    camrtc_sigmsg_relay m;
    char reason[128];
    int rc = camrtc_sigmsg_relay_parse(text, len, &m, reason, sizeof reason);
    if (rc < 0) {
        if (rc == CAMRTC_ETOOBIG)
            h->stats.dropped_too_large++;
        else
            h->stats.dropped_malformed++;
        CAMRTC_LOGD(h->log, MOD, "conn %llu: dropped: %s", (unsigned long long)conn_id, reason);
        send_status(h, c, m.correlation_id, "InvalidArgumentException", reason);
        camrtc_sigmsg_relay_clear(&m);
        return;
    }
    bool sdp = m.type != CAMRTC_SIGMSG_ICE_CANDIDATE;
    if (!bucket_take(sdp ? &c->sdp : &c->cand, sdp ? h->cfg.sdp_per_s : h->cfg.candidates_per_s, now)) {
        h->stats.dropped_rate++;
        send_status(h, c, m.correlation_id, "ClientLimitExceededException",
                    sdp ? "Exceeded the rate of SDP offers and answers for the connection"
                        : "Exceeded the rate of ICE candidates for the connection");
        camrtc_sigmsg_relay_clear(&m);
        return;
    }
    hub_channel *ch = c->ch;
    hub_conn *to;
    const char *recipient, *sender;
    if (c->slot >= 0) {
        /* Everything a viewer sends goes to the master, under the viewer's id. */
        to = ch->master;
        recipient = "";
        sender = c->client_id;
    } else if (!m.peer_id[0]) {
        h->stats.dropped_no_recipient++;
        send_status(h, c, m.correlation_id, "InvalidArgumentException",
                    "RecipientClientId is required for messages from the master");
        camrtc_sigmsg_relay_clear(&m);
        return;
    } else {
        to = chan_viewer(ch, m.peer_id);
        recipient = m.peer_id;
        sender = "";
    }
    camrtc_buf_reset(&h->out);
    rc = camrtc_sigmsg_relay_write(&h->out, &m, sender);
    if (rc < 0) {
        h->stats.dropped_too_large++;
    } else if (to) {
        h->stats.messages_routed++;
        send_text(h, to->id, &h->out);
    } else if (hold(h, ch, recipient, now)) {
        h->stats.messages_held++;
    } else {
        h->stats.dropped_held_full++;
        send_status(h, c, m.correlation_id, "ClientLimitExceededException",
                    "Too many messages waiting for recipients that are not connected");
    }
    camrtc_sigmsg_relay_clear(&m);
}

void sig_hub_activity(sig_hub *h, uint64_t conn_id, camrtc_time_us now)
{
    hub_conn *c = h ? conn_find(h, conn_id) : NULL;
    /* The heap key is left as is: it only gets refreshed when it comes due. */
    if (c && now > c->last_activity)
        c->last_activity = now;
}

void sig_hub_disconnect(sig_hub *h, uint64_t conn_id)
{
    hub_conn *c = h ? conn_find(h, conn_id) : NULL;
    if (!c)
        return;
    hub_channel *ch = c->ch;
    conn_detach(h, c);
    free(c);
    chan_rekey(h, ch);
}

static void conn_fire(sig_hub *h, hub_conn *c, camrtc_time_us now)
{
    camrtc_time_us real = conn_deadline(h, c);
    if (real > now) {
        timer_set(h, &c->timer, real);
        return;
    }
    camrtc_time_us end = h->cfg.max_duration ? tadd(c->connected_at, h->cfg.max_duration) : CAMRTC_TIME_NEVER;
    if (c->close_at <= now) {
        conn_close(h, c, SIG_HUB_CLOSE_GOING_AWAY, "Going away");
    } else if (end <= now) {
        h->stats.duration_closed++;
        conn_close(h, c, SIG_HUB_CLOSE_GOING_AWAY, "Maximum connection duration reached");
    } else if (h->cfg.idle_timeout && tadd(c->last_activity, h->cfg.idle_timeout) <= now) {
        h->stats.idle_closed++;
        conn_close(h, c, SIG_HUB_CLOSE_GOING_AWAY, "Idle timeout");
    } else {
        /* The GO_AWAY lead time before the maximum duration has come. */
        c->go_away_sent = true;
        timer_set(h, &c->timer, conn_deadline(h, c));
        if (build_bare(h, CAMRTC_SIGMSG_GO_AWAY) == 0) {
            h->stats.go_away_sent++;
            send_text(h, c->id, &h->out);
        }
    }
}

static void chan_fire(sig_hub *h, hub_channel *ch, camrtc_time_us now)
{
    held_take(ch, NULL, now, &h->stats.messages_expired);
    if (chan_empty(ch) && (h->cfg.connects_per_s == 0 || tadd(ch->connects.last, CAMRTC_SEC(1)) <= now)) {
        chan_free(h, ch);
        return;
    }
    chan_rekey(h, ch);
}

void sig_hub_handle_timeout(sig_hub *h, camrtc_time_us now)
{
    if (!h)
        return;
    /* Each step either removes the entry or moves its key past now. */
    while (h->heap_len && h->heap[0]->key <= now) {
        hub_timer *t = h->heap[0];
        if (t->kind == TIMER_CONN)
            conn_fire(h, (hub_conn *)t, now);
        else
            chan_fire(h, (hub_channel *)t, now);
    }
}

camrtc_time_us sig_hub_next_timeout(const sig_hub *h)
{
    return h && h->heap_len ? h->heap[0]->key : CAMRTC_TIME_NEVER;
}

int sig_hub_announce(sig_hub *h, const char *channel_arn, camrtc_sigmsg_type type, camrtc_time_us now)
{
    if (!h || !channel_arn || (type != CAMRTC_SIGMSG_GO_AWAY && type != CAMRTC_SIGMSG_RECONNECT_ICE_SERVER))
        return CAMRTC_EINVAL;
    hub_channel *ch = chan_find(h, channel_arn);
    if (!ch)
        return CAMRTC_ENOTFOUND;
    int rc = build_bare(h, type);
    if (rc < 0)
        return rc;
    int told = 0;
    for (int i = -1; i < ch->nviewers; i++) {
        hub_conn *c = i < 0 ? ch->master : ch->viewers[i];
        if (!c)
            continue;
        if (type == CAMRTC_SIGMSG_GO_AWAY) {
            c->go_away_sent = true;
            c->close_at = tmin(c->close_at, tadd(now, h->cfg.go_away_lead));
            timer_set(h, &c->timer, conn_deadline(h, c));
            h->stats.go_away_sent++;
        }
        send_text(h, c->id, &h->out);
        told++;
    }
    return told;
}

void sig_hub_channel_deleted(sig_hub *h, const char *channel_arn)
{
    hub_channel *ch = h && channel_arn ? chan_find(h, channel_arn) : NULL;
    if (!ch)
        return;
    held_free_all(ch);
    while (ch->master || ch->nviewers) {
        hub_conn *c = ch->master ? ch->master : ch->viewers[ch->nviewers - 1];
        conn_close(h, c, SIG_HUB_CLOSE_GOING_AWAY, "Channel deleted");
    }
    chan_free(h, ch);
}

const sig_hub_stats *sig_hub_get_stats(const sig_hub *h)
{
    return &h->stats;
}

size_t sig_hub_connection_count(const sig_hub *h)
{
    return h ? h->nconns : 0;
}

size_t sig_hub_connection_size(void)
{
    return sizeof(hub_conn) + sizeof(hub_conn *) /* its viewer slot */ + sizeof(hub_conn *) /* its heap entry */;
}
