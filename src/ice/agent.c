/* ICE agent: lifecycle, the public entry points, input demultiplexing and the data path.
 *
 * What arrives on a base (a host socket, or a TURN allocation's relayed address) is either
 * STUN (first two bits 0 and the magic cookie, RFC 7983) — a check, an answer to one of our
 * checks, or a consent answer — or application data, which is passed up only when it comes
 * from the remote end of a valid pair on that base (RFC 8445 §11: data is sent and accepted on
 * valid pairs only).
 *
 * Choices the header leaves open:
 * - camrtc_ice_add_host refuses (CAMRTC_EINVAL) a loopback address unless include_loopback,
 *   and IPv6 link-local always, like camrtc_ice_interface_allowed.
 * - A restart keeps the local candidates and TURN allocations and announces them again for
 *   the new generation (with a new GATHERING_DONE once gathering is over); it does not ask
 *   the servers again.
 * - A server added after gathering ended still yields candidates, with no second
 *   GATHERING_DONE.
 * - Remote credentials are checked only for what USERNAME needs (1..256 visible characters,
 *   no ':'); our own follow RFC 8839 (ice-chars, 4+ and 22+).
 */
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/str.h"
#include "ice/agent_int.h"

/* ---- small helpers ------------------------------------------------------------------- */

camrtc_time_us ice_min_time(camrtc_time_us x, camrtc_time_us y)
{
    return x < y ? x : y;
}

void ice_emit(camrtc_ice_agent *a, const camrtc_ice_event *ev)
{
    if (a->io.event)
        a->io.event(a->user, ev);
}

void ice_set_state(camrtc_ice_agent *a, camrtc_ice_state s)
{
    if (a->state == s)
        return;
    CAMRTC_LOGD(a->log, ICE_MOD, "state %s -> %s", camrtc_ice_state_name(a->state), camrtc_ice_state_name(s));
    a->state = s;
    camrtc_ice_event ev = {.type = CAMRTC_ICE_EV_STATE, .state = s};
    ice_emit(a, &ev);
}

void ice_random_id(camrtc_ice_agent *a, uint8_t id[12])
{
    if (camrtc_rng_bytes(a->rng, id, 12) != 0)
        memset(id, 0, 12); /* the DRBG does not fail once seeded; stay defined if it does */
}

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/", ufrag 4..256, pwd 22..256. Ours
 * follow that (strict); the remote side's are taken more liberally (any visible ASCII but
 * ':' which would break USERNAME, any length from 1), as a stricter check buys nothing. */
static bool ice_cred_ok(const char *s, size_t minlen, bool strict)
{
    size_t n = strlen(s);
    if (n < minlen || n > ICE_CRED_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = strict ? (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                               ch == '+' || ch == '/'
                         : ch > ' ' && ch <= '~' && ch != ':';
        if (!ok)
            return false;
    }
    return true;
}

static void ice_random_cred(camrtc_ice_agent *a, char *out, size_t n)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i++)
        out[i] = chars[camrtc_rng_uniform(a->rng, 64)];
    out[n] = '\0';
}

/* RFC 8445 §5.3: ufrag at least 24 bits of randomness (4 chars), pwd at least 128 (22). */
static void ice_new_local_credentials(camrtc_ice_agent *a)
{
    ice_random_cred(a, a->lufrag, 8);
    ice_random_cred(a, a->lpwd, 24);
}

static char *ice_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static void ice_config_defaults(camrtc_ice_config *c)
{
    if (!c->ta)
        c->ta = CAMRTC_MS(50);
    if (!c->rto)
        c->rto = CAMRTC_MS(100);
    if (!c->max_retrans)
        c->max_retrans = 7;
    if (!c->consent_interval)
        c->consent_interval = CAMRTC_SEC(5);
    if (!c->consent_disconnect)
        c->consent_disconnect = CAMRTC_SEC(5);
    if (!c->consent_timeout)
        c->consent_timeout = CAMRTC_SEC(30);
    if (!c->gather_timeout)
        c->gather_timeout = CAMRTC_SEC(5);
    if (!c->max_remote_candidates)
        c->max_remote_candidates = 64;
    if (!c->max_pairs)
        c->max_pairs = 128;
    if (!c->turn_lifetime_s)
        c->turn_lifetime_s = 600;
}

static int ice_init_credentials(camrtc_ice_agent *a, const camrtc_ice_config *cfg)
{
    if (cfg->ufrag || cfg->pwd) {
        if (!cfg->ufrag || !cfg->pwd || !ice_cred_ok(cfg->ufrag, 4, true) || !ice_cred_ok(cfg->pwd, 22, true))
            return CAMRTC_EINVAL;
        camrtc_strlcpy(a->lufrag, cfg->ufrag, sizeof a->lufrag);
        camrtc_strlcpy(a->lpwd, cfg->pwd, sizeof a->lpwd);
    } else {
        ice_new_local_credentials(a);
    }
    return CAMRTC_OK;
}

camrtc_ice_agent *camrtc_ice_new(const camrtc_ice_config *cfg, const camrtc_ice_io *io, void *user,
                                 camrtc_rng *rng, const camrtc_log *log)
{
    if (!cfg || !io || !rng)
        return NULL;
    camrtc_ice_agent *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = *cfg;
    ice_config_defaults(&a->cfg);
    a->cfg.ufrag = a->cfg.pwd = NULL; /* copied into lufrag/lpwd */
    a->io = *io;
    a->user = user;
    a->rng = rng;
    a->log = log;
    a->interfaces = ice_strdup(cfg->interfaces);
    a->software = ice_strdup(cfg->software);
    if (a->software && strlen(a->software) > ICE_SOFTWARE_MAX)
        a->software[ICE_SOFTWARE_MAX] = '\0';
    a->cfg.interfaces = a->interfaces;
    a->cfg.software = a->software;
    a->remotes = calloc(a->cfg.max_remote_candidates, sizeof *a->remotes);
    a->pairs = calloc(a->cfg.max_pairs, sizeof *a->pairs);
    if ((cfg->interfaces && !a->interfaces) || (cfg->software && !a->software) || !a->remotes || !a->pairs ||
        ice_init_credentials(a, cfg) != CAMRTC_OK) {
        camrtc_ice_free(a);
        return NULL;
    }
    a->controlling = cfg->controlling;
    a->tiebreaker = cfg->tiebreaker;
    if (!a->tiebreaker && camrtc_rng_bytes(rng, &a->tiebreaker, sizeof a->tiebreaker) != 0)
        a->tiebreaker = 0;
    if (!a->tiebreaker)
        a->tiebreaker = 1;
    a->nominating = -1;
    a->nominate_at = CAMRTC_TIME_NEVER;
    a->state = CAMRTC_ICE_NEW;
    return a;
}

void camrtc_ice_free(camrtc_ice_agent *a)
{
    if (!a)
        return;
    ice_relays_free(a);
    for (unsigned i = 0; i < a->nservers; i++) {
        free(a->servers[i].username);
        free(a->servers[i].password);
    }
    free(a->interfaces);
    free(a->software);
    free(a->remotes);
    free(a->pairs);
    free(a);
}

const char *camrtc_ice_local_ufrag(const camrtc_ice_agent *a)
{
    return a->lufrag;
}

const char *camrtc_ice_local_pwd(const camrtc_ice_agent *a)
{
    return a->lpwd;
}

/* ---- registration ---------------------------------------------------------------------- */

int camrtc_ice_add_host(camrtc_ice_agent *a, camrtc_time_us now, int sock, const camrtc_addr *local)
{
    if (a->closed)
        return CAMRTC_ESTATE;
    if (!local || (local->family != 4 && local->family != 6) || !local->port)
        return CAMRTC_EINVAL;
    if ((camrtc_addr_is_loopback(local) && !a->cfg.include_loopback) ||
        (local->family == 6 && camrtc_addr_is_link_local(local)))
        return CAMRTC_EINVAL;
    for (unsigned i = 0; i < a->nhosts; i++)
        if (a->hosts[i].sock == sock || camrtc_addr_equal(&a->hosts[i].addr, local))
            return CAMRTC_EEXIST;
    if (a->nhosts >= ICE_MAX_HOSTS)
        return CAMRTC_ELIMIT;
    ice_host *h = &a->hosts[a->nhosts];
    h->sock = sock;
    h->addr = *local;
    h->local = -1;
    a->nhosts++;
    ice_gather_host(a, now, (int)(a->nhosts - 1));
    return CAMRTC_OK;
}

int camrtc_ice_add_server(camrtc_ice_agent *a, camrtc_time_us now, const camrtc_ice_server *srv)
{
    if (a->closed)
        return CAMRTC_ESTATE;
    if (!srv || (srv->addr.family != 4 && srv->addr.family != 6) || !srv->addr.port)
        return CAMRTC_EINVAL;
    if (!srv->turn && srv->transport != CAMRTC_ICE_UDP)
        return CAMRTC_EUNSUPPORTED; /* STUN over TCP gives no UDP candidate */
    if (srv->turn && (!srv->username || !srv->password))
        return CAMRTC_EINVAL;
    if (a->nservers >= ICE_MAX_SERVERS)
        return CAMRTC_ELIMIT;
    ice_server *s = &a->servers[a->nservers];
    memset(s, 0, sizeof *s);
    s->s = *srv;
    s->username = ice_strdup(srv->username);
    s->password = ice_strdup(srv->password);
    if ((srv->username && !s->username) || (srv->password && !s->password)) {
        free(s->username);
        free(s->password);
        return CAMRTC_ENOMEM;
    }
    s->s.username = s->username;
    s->s.password = s->password;
    a->nservers++;
    if (a->gathering)
        ice_gather_server(a, now, (int)(a->nservers - 1));
    ice_update_state(a, now);
    return CAMRTC_OK;
}

int camrtc_ice_gather(camrtc_ice_agent *a, camrtc_time_us now)
{
    if (a->closed)
        return CAMRTC_ESTATE;
    if (a->gathering)
        return CAMRTC_OK;
    int rc = ice_gather_start(a, now);
    ice_update_state(a, now);
    return rc;
}

/* ---- generations (ICE restart, RFC 8445 §9) ------------------------------------------ */

/* Start a new generation: fresh checklist and remote side; local candidates stay and are
 * announced again. The selected pair (if any) keeps carrying data until a pair of the new
 * generation is selected, so its credentials were copied into a->sel when it was chosen. */
static void ice_new_generation(camrtc_ice_agent *a, camrtc_time_us now)
{
    a->gen++;
    ice_new_local_credentials(a);
    a->rufrag[0] = a->rpwd[0] = '\0';
    a->have_remote = false;
    a->remote_eoc = false;
    a->nremotes = 0;
    a->npairs = 0;
    a->checks_started = false;
    a->checklist_done = false;
    a->nominating = -1;
    a->nominate_at = CAMRTC_TIME_NEVER;
    a->last_progress = now;
    a->consent_failed = false;
    if (a->gathering)
        ice_announce_locals(a);
    if (!a->sel.active)
        ice_set_state(a, a->gathering ? CAMRTC_ICE_CHECKING : CAMRTC_ICE_NEW);
    else if (a->state == CAMRTC_ICE_COMPLETED)
        ice_set_state(a, CAMRTC_ICE_CONNECTED);
}

int camrtc_ice_restart(camrtc_ice_agent *a, camrtc_time_us now)
{
    if (a->closed)
        return CAMRTC_ESTATE;
    ice_new_generation(a, now);
    a->local_restart_pending = true;
    CAMRTC_LOGD(a->log, ICE_MOD, "restart: generation %u", a->gen);
    return CAMRTC_OK;
}

int camrtc_ice_set_remote_credentials(camrtc_ice_agent *a, camrtc_time_us now, const char *ufrag, const char *pwd)
{
    if (a->closed)
        return CAMRTC_ESTATE;
    if (!ufrag || !pwd || !ice_cred_ok(ufrag, 1, false) || !ice_cred_ok(pwd, 1, false))
        return CAMRTC_EINVAL;
    if (a->have_remote) {
        if (strcmp(ufrag, a->rufrag) == 0 && strcmp(pwd, a->rpwd) == 0)
            return CAMRTC_OK;
        /* New remote credentials: the remote side restarted; we follow with ours. */
        CAMRTC_LOGD(a->log, ICE_MOD, "remote restart detected");
        ice_new_generation(a, now);
    }
    a->local_restart_pending = false;
    camrtc_strlcpy(a->rufrag, ufrag, sizeof a->rufrag);
    camrtc_strlcpy(a->rpwd, pwd, sizeof a->rpwd);
    a->have_remote = true;
    a->last_progress = now;
    ice_send_pending_triggered(a, now);
    ice_checks_timeout(a, now);
    ice_update_state(a, now);
    return CAMRTC_OK;
}

int camrtc_ice_add_remote_candidate(camrtc_ice_agent *a, camrtc_time_us now, const camrtc_ice_candidate *c)
{
    if (a->closed)
        return CAMRTC_ESTATE;
    if (!c)
        return CAMRTC_EINVAL;
    int rc = ice_add_remote(a, now, c);
    if (rc >= 0) {
        ice_checks_timeout(a, now);
        ice_update_state(a, now);
    }
    return rc < 0 ? rc : CAMRTC_OK;
}

int camrtc_ice_remote_end_of_candidates(camrtc_ice_agent *a, camrtc_time_us now)
{
    if (a->closed)
        return CAMRTC_ESTATE;
    a->remote_eoc = true;
    ice_update_state(a, now);
    return CAMRTC_OK;
}

/* ---- input --------------------------------------------------------------------------- */

static void ice_stun_input(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                           const uint8_t *data, size_t len)
{
    camrtc_stun_msg m;
    if (camrtc_stun_parse(&m, data, len) != 0) {
        a->stats.malformed++;
        return;
    }
    if (camrtc_stun_method(m.type) != CAMRTC_STUN_BINDING) {
        a->stats.malformed++;
        return;
    }
    /* FINGERPRINT on every ICE message (RFC 8445 §7.1/§7.3): it tells STUN from data. */
    if (camrtc_stun_check_fingerprint(&m) != CAMRTC_OK) {
        a->stats.bad_fingerprint++;
        return;
    }
    switch (camrtc_stun_class(m.type)) {
    case CAMRTC_STUN_REQUEST:
        ice_handle_request(a, now, base, from, &m);
        break;
    case CAMRTC_STUN_SUCCESS:
    case CAMRTC_STUN_ERROR:
        if (!ice_consent_response(a, now, base, from, &m) && !ice_handle_check_response(a, now, base, from, &m))
            a->stats.malformed++; /* an answer to no transaction of ours */
        break;
    default:
        break; /* Binding indications are keepalives (RFC 8445 §11): nothing to do */
    }
}

static bool ice_data_route_ok(const camrtc_ice_agent *a, int base, const camrtc_addr *from)
{
    if (a->sel.active && a->sel.base == base && camrtc_addr_equal(&a->sel.remote.addr, from))
        return true;
    return ice_pair_is_valid_route(a, base, from);
}

void ice_input_from_base(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                         const uint8_t *data, size_t len)
{
    if (camrtc_stun_is_message(data, len)) {
        ice_stun_input(a, now, base, from, data, len);
        return;
    }
    if (len == 0 || !ice_data_route_ok(a, base, from)) {
        a->stats.dropped_unknown_source++;
        return;
    }
    a->stats.data_received++;
    a->stats.bytes_received += len;
    camrtc_ice_event ev = {.type = CAMRTC_ICE_EV_DATA, .data = data, .len = len};
    ice_emit(a, &ev);
}

int camrtc_ice_udp_input(camrtc_ice_agent *a, camrtc_time_us now, int sock, const camrtc_addr *from,
                         const uint8_t *data, size_t len)
{
    if (!from || (!data && len))
        return CAMRTC_EINVAL;
    int host = -1;
    for (unsigned i = 0; i < a->nhosts; i++)
        if (a->hosts[i].sock == sock)
            host = (int)i;
    if (host < 0) {
        /* A socket a TURN allocation moved to (io.open_udp), or none of ours. */
        if (!ice_relay_sock_input(a, now, sock, from, data, len))
            return CAMRTC_ENOTFOUND;
        if (!a->closed)
            ice_update_state(a, now);
        return CAMRTC_OK;
    }
    if (a->closed) {
        /* Only the TURN servers' answers to our deallocations still matter. */
        ice_gather_udp_input(a, now, host, from, data, len);
        return CAMRTC_OK;
    }
    /* Answers from STUN servers and everything from a TURN server on this socket. */
    if (!ice_gather_udp_input(a, now, host, from, data, len)) {
        int base = a->hosts[host].local;
        if (base >= 0)
            ice_input_from_base(a, now, base, from, data, len);
        else if (camrtc_stun_is_message(data, len))
            a->stats.malformed++;
        else
            a->stats.dropped_unknown_source++;
    }
    ice_update_state(a, now);
    return CAMRTC_OK;
}

int camrtc_ice_stream_connected(camrtc_ice_agent *a, camrtc_time_us now, int stream)
{
    int r = ice_relay_by_stream(a, stream);
    if (r < 0)
        return CAMRTC_ENOTFOUND;
    ice_relay_stream_connected(a, now, r);
    ice_update_state(a, now);
    return CAMRTC_OK;
}

int camrtc_ice_stream_input(camrtc_ice_agent *a, camrtc_time_us now, int stream, const uint8_t *data, size_t len)
{
    int r = ice_relay_by_stream(a, stream);
    if (r < 0)
        return CAMRTC_ENOTFOUND;
    if (!data && len)
        return CAMRTC_EINVAL;
    int rc = ice_relay_stream_input(a, now, r, data, len);
    ice_update_state(a, now);
    return rc;
}

int camrtc_ice_stream_closed(camrtc_ice_agent *a, camrtc_time_us now, int stream, int err)
{
    int r = ice_relay_by_stream(a, stream);
    if (r < 0)
        return CAMRTC_ENOTFOUND;
    ice_relay_stream_closed(a, now, r, err);
    ice_update_state(a, now);
    return CAMRTC_OK;
}

/* ---- timers ---------------------------------------------------------------------------- */

int camrtc_ice_handle_timeout(camrtc_ice_agent *a, camrtc_time_us now)
{
    ice_gather_timeout(a, now); /* TURN clients run even while closing (deallocation) */
    if (a->closed)
        return CAMRTC_OK;
    ice_checks_timeout(a, now);
    ice_consent_timeout(a, now);
    ice_update_state(a, now);
    return CAMRTC_OK;
}

camrtc_time_us camrtc_ice_next_timeout(const camrtc_ice_agent *a)
{
    camrtc_time_us t = ice_gather_next_timeout(a);
    if (a->closed)
        return t;
    t = ice_min_time(t, ice_checks_next_timeout(a));
    t = ice_min_time(t, ice_consent_next_timeout(a));
    t = ice_min_time(t, ice_state_next_timeout(a));
    return t;
}

/* ---- output ---------------------------------------------------------------------------- */

void ice_send_from(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *to, const uint8_t *data,
                   size_t len)
{
    const ice_local *l = &a->locals[base];
    if (l->relay >= 0) {
        ice_relay *r = &a->relays[l->relay];
        if (r->turn && !r->failed)
            camrtc_turn_send_to(r->turn, now, to, data, len);
        return;
    }
    if (l->host >= 0 && a->io.send_udp)
        a->io.send_udp(a->user, a->hosts[l->host].sock, to, data, len);
}

int camrtc_ice_send(camrtc_ice_agent *a, camrtc_time_us now, const uint8_t *data, size_t len)
{
    if (a->closed || !a->sel.active)
        return CAMRTC_ESTATE;
    if (!data || !len)
        return CAMRTC_EINVAL;
    a->stats.data_sent++;
    a->stats.bytes_sent += len;
    ice_send_from(a, now, a->sel.base, &a->sel.remote.addr, data, len);
    return CAMRTC_OK;
}

int camrtc_ice_close(camrtc_ice_agent *a, camrtc_time_us now)
{
    if (a->closed)
        return CAMRTC_OK;
    a->closed = true;
    a->sel.active = false;
    ice_relays_close(a, now);
    ice_set_state(a, CAMRTC_ICE_CLOSED);
    return CAMRTC_OK;
}

/* ---- getters ---------------------------------------------------------------------------- */

camrtc_ice_state camrtc_ice_get_state(const camrtc_ice_agent *a)
{
    return a->state;
}

const char *camrtc_ice_state_name(camrtc_ice_state s)
{
    switch (s) {
    case CAMRTC_ICE_NEW: return "new";
    case CAMRTC_ICE_CHECKING: return "checking";
    case CAMRTC_ICE_CONNECTED: return "connected";
    case CAMRTC_ICE_COMPLETED: return "completed";
    case CAMRTC_ICE_DISCONNECTED: return "disconnected";
    case CAMRTC_ICE_FAILED: return "failed";
    case CAMRTC_ICE_CLOSED: return "closed";
    }
    return "unknown";
}

bool camrtc_ice_is_controlling(const camrtc_ice_agent *a)
{
    return a->controlling;
}

int camrtc_ice_get_selected(const camrtc_ice_agent *a, camrtc_ice_candidate *local, camrtc_ice_candidate *remote)
{
    if (!a->sel.active)
        return CAMRTC_ENOTFOUND;
    if (local)
        *local = a->sel.local;
    if (remote)
        *remote = a->sel.remote;
    return CAMRTC_OK;
}

const camrtc_ice_stats *camrtc_ice_get_stats(const camrtc_ice_agent *a)
{
    return &a->stats;
}
