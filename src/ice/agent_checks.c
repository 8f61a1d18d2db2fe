/* ICE connectivity checks (RFC 8445 §6.1.2-§7.3, §8.1; trickle RFC 8838).
 *
 * Pairs are formed as candidates become known: a local base (host or relay candidate — a
 * server-reflexive candidate is replaced by its base and so never makes a pair of its own,
 * §6.1.2.4) with every remote candidate of the same IP family. Ordinary checks go out one per
 * Ta; the first one as soon as a pair and the remote credentials exist. A check received on a
 * pair triggers our own check on it at once. The controlling agent nominates (USE-CANDIDATE in
 * a second check) its best valid pair as soon as no better pair is still pending, or after a
 * short grace (2 RTT of that pair, at most 100 ms) when one is.
 */
#include <stdio.h>
#include <string.h>

#include "camrtc/error.h"
#include "ice/agent_int.h"

/* ---- priorities ------------------------------------------------------------------------ */

uint32_t ice_prflx_priority(const camrtc_ice_agent *a, int local)
{
    return camrtc_ice_priority(CAMRTC_ICE_PRFLX, a->locals[local].local_pref, 1);
}

/* §6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), G the controlling side's priority. */
static uint64_t ice_pair_priority(const camrtc_ice_agent *a, const ice_pair *p)
{
    uint64_t l = a->locals[p->local].c.priority, r = a->remotes[p->remote].c.priority;
    uint64_t g = a->controlling ? l : r, d = a->controlling ? r : l;
    uint64_t mn = g < d ? g : d, mx = g < d ? d : g;
    return (mn << 32) + 2 * mx + (g > d ? 1 : 0);
}

void ice_recompute_priorities(camrtc_ice_agent *a)
{
    for (unsigned i = 0; i < a->npairs; i++)
        a->pairs[i].prio = ice_pair_priority(a, &a->pairs[i]);
}

/* A role change after a conflict (§7.2.5.1, §7.3.1.1): pair priorities depend on it. */
static void ice_set_role(camrtc_ice_agent *a, bool controlling)
{
    if (a->controlling == controlling)
        return;
    a->controlling = controlling;
    a->stats.role_conflicts++;
    a->nominating = -1;
    a->nominate_at = CAMRTC_TIME_NEVER;
    ice_recompute_priorities(a);
    camrtc_ice_event ev = {.type = CAMRTC_ICE_EV_ROLE, .controlling = controlling};
    ice_emit(a, &ev);
}

static bool ice_same_foundation(const camrtc_ice_agent *a, const ice_pair *x, const ice_pair *y)
{
    return strcmp(a->locals[x->local].c.foundation, a->locals[y->local].c.foundation) == 0 &&
           strcmp(a->remotes[x->remote].c.foundation, a->remotes[y->remote].c.foundation) == 0;
}

/* ---- pairs ------------------------------------------------------------------------------- */
static void ice_forget_old(ice_pair *p)
{
    for (unsigned k = 0; k < ICE_OLD_TX; k++)
        p->old[k].live = false;
}


static int ice_find_pair(const camrtc_ice_agent *a, int local, int remote)
{
    for (unsigned i = 0; i < a->npairs; i++)
        if (a->pairs[i].local == local && a->pairs[i].remote == remote)
            return (int)i;
    return -1;
}

static bool ice_local_is_base(const ice_local *l)
{
    return l->c.type == CAMRTC_ICE_HOST || l->c.type == CAMRTC_ICE_RELAY;
}

/* §6.1.2.6: a pair starts Waiting unless one of its foundation is already there. */
static int ice_make_pair(camrtc_ice_agent *a, camrtc_time_us now, int local, int remote)
{
    const ice_local *l = &a->locals[local];
    const ice_remote *r = &a->remotes[remote];
    if (!ice_local_is_base(l) || l->c.addr.family != r->c.addr.family)
        return -1;
    if (l->relay >= 0 && (a->relays[l->relay].failed || !a->relays[l->relay].turn))
        return -1;
    int existing = ice_find_pair(a, local, remote);
    if (existing >= 0)
        return existing;
    if (a->npairs >= a->cfg.max_pairs) {
        a->stats.dropped_pairs++;
        return -1;
    }
    ice_pair *p = &a->pairs[a->npairs];
    memset(p, 0, sizeof *p);
    p->local = local;
    p->remote = remote;
    p->prio = ice_pair_priority(a, p);
    p->state = ICE_PAIR_WAITING;
    for (unsigned i = 0; i < a->npairs; i++)
        if (a->pairs[i].state <= ICE_PAIR_IN_PROGRESS && ice_same_foundation(a, &a->pairs[i], p))
            p->state = ICE_PAIR_FROZEN;
    a->npairs++;
    a->last_progress = now;
    /* Through a relay the server must let the peer in first (RFC 8656 §9); a channel
     * saves 36 bytes per packet on the media that follows. */
    if (l->relay >= 0)
        camrtc_turn_permit(a->relays[l->relay].turn, now, &r->c.addr, true);
    return (int)(a->npairs - 1);
}

void ice_pair_local(camrtc_ice_agent *a, camrtc_time_us now, int local)
{
    for (unsigned i = 0; i < a->nremotes; i++)
        ice_make_pair(a, now, local, (int)i);
}

static void ice_pair_remote(camrtc_ice_agent *a, camrtc_time_us now, int remote)
{
    for (unsigned i = 0; i < a->nlocals; i++)
        ice_make_pair(a, now, (int)i, remote);
}

static int ice_find_remote(const camrtc_ice_agent *a, const camrtc_addr *addr)
{
    for (unsigned i = 0; i < a->nremotes; i++)
        if (camrtc_addr_equal(&a->remotes[i].c.addr, addr))
            return (int)i;
    return -1;
}

/* Returns the remote index, or a negative error. */
int ice_add_remote(camrtc_ice_agent *a, camrtc_time_us now, const camrtc_ice_candidate *c)
{
    if (c->tcp || c->component != 1)
        return CAMRTC_OK; /* TCP candidates and RTCP (no rtcp-mux) are not used */
    if ((c->addr.family != 4 && c->addr.family != 6) || !c->addr.port)
        return CAMRTC_EINVAL;
    int i = ice_find_remote(a, &c->addr);
    if (i >= 0) {
        /* §7.3.1.3: a peer-reflexive candidate later signalled takes the signalled values. */
        if (a->remotes[i].c.type == CAMRTC_ICE_PRFLX && c->type != CAMRTC_ICE_PRFLX) {
            a->remotes[i].c = *c;
            ice_recompute_priorities(a);
        }
        return i;
    }
    if (a->nremotes >= a->cfg.max_remote_candidates) {
        a->stats.dropped_remote_candidates++;
        return CAMRTC_ELIMIT;
    }
    i = (int)a->nremotes++;
    a->remotes[i].c = *c;
    a->remotes[i].c.foundation[CAMRTC_ICE_FOUNDATION_MAX] = '\0';
    ice_pair_remote(a, now, i);
    return i;
}

bool ice_pair_is_valid_route(const camrtc_ice_agent *a, int base, const camrtc_addr *from)
{
    for (unsigned i = 0; i < a->npairs; i++) {
        const ice_pair *p = &a->pairs[i];
        if (p->valid && p->local == base && camrtc_addr_equal(&a->remotes[p->remote].c.addr, from))
            return true;
    }
    return false;
}

/* ---- sending checks (§7.2.2) ------------------------------------------------------------ */

void ice_tx_start(camrtc_ice_agent *a, ice_tx *t, camrtc_time_us now, camrtc_time_us rto)
{
    t->active = true;
    ice_random_id(a, t->id);
    t->first_sent = now;
    t->rto = rto;
    t->next_retx = now + rto;
    t->retx = 0;
}

static void ice_check_transmit(camrtc_ice_agent *a, camrtc_time_us now, const ice_pair *p)
{
    uint8_t buf[ICE_STUN_BUF];
    char user[2 * ICE_CRED_MAX + 2];
    size_t ru = strlen(a->rufrag), lu = strlen(a->lufrag);
    memcpy(user, a->rufrag, ru);
    user[ru] = ':';
    memcpy(user + ru + 1, a->lufrag, lu + 1);

    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST), p->tx.id);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, user);
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, ice_prflx_priority(a, p->local));
    camrtc_stun_add_u64(&b, p->tx_controlling ? CAMRTC_STUN_A_ICE_CONTROLLING : CAMRTC_STUN_A_ICE_CONTROLLED,
                        a->tiebreaker);
    if (p->tx_use_cand)
        camrtc_stun_add(&b, CAMRTC_STUN_A_USE_CANDIDATE, NULL, 0);
    if (a->cfg.software)
        camrtc_stun_add_string(&b, CAMRTC_STUN_A_SOFTWARE, a->cfg.software);
    camrtc_stun_add_integrity(&b, (const uint8_t *)a->rpwd, strlen(a->rpwd));
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    if (n <= 0) {
        CAMRTC_LOGW(a->log, ICE_MOD, "cannot build a check: %d", n);
        return;
    }
    ice_send_from(a, now, p->local, &a->remotes[p->remote].c.addr, buf, (size_t)n);
}

/* Start a new transaction on pair i (ordinary, triggered or nominating). */
static void ice_start_check(camrtc_ice_agent *a, camrtc_time_us now, int i, bool use_cand)
{
    ice_pair *p = &a->pairs[i];
    if (p->tx.active && !p->tx_use_cand) {
        ice_old_tx *o = &p->old[p->old_next++ % ICE_OLD_TX];
        o->live = true;
        memcpy(o->id, p->tx.id, 12);
        o->first_sent = p->tx.first_sent;
        o->controlling = p->tx_controlling;
    }
    p->tx_use_cand = use_cand;
    p->tx_controlling = a->controlling;
    p->triggered = false;
    ice_tx_start(a, &p->tx, now, a->cfg.rto);
    if (p->state != ICE_PAIR_SUCCEEDED)
        p->state = ICE_PAIR_IN_PROGRESS;
    a->checks_started = true;
    a->stats.checks_sent++;
    ice_check_transmit(a, now, p);
    if (a->state == CAMRTC_ICE_NEW)
        ice_set_state(a, CAMRTC_ICE_CHECKING);
}

/* A triggered check (§7.3.1.4): at once when we can authenticate it, else remembered. */
static void ice_trigger(camrtc_ice_agent *a, camrtc_time_us now, int i)
{
    ice_pair *p = &a->pairs[i];
    if (!a->have_remote) {
        p->triggered = true;
        if (p->state != ICE_PAIR_IN_PROGRESS)
            p->state = ICE_PAIR_WAITING;
        return;
    }
    a->stats.triggered_checks++;
    ice_start_check(a, now, i, false);
}

void ice_send_pending_triggered(camrtc_ice_agent *a, camrtc_time_us now)
{
    for (unsigned i = 0; i < a->npairs; i++)
        if (a->pairs[i].triggered)
            ice_trigger(a, now, (int)i);
}

/* §6.1.4.2: the highest-priority Waiting pair; when none, unfreeze the best Frozen one. */
static int ice_next_ordinary(camrtc_ice_agent *a)
{
    int best = -1;
    for (unsigned i = 0; i < a->npairs; i++)
        if (a->pairs[i].state == ICE_PAIR_WAITING && (best < 0 || a->pairs[i].prio > a->pairs[best].prio))
            best = (int)i;
    if (best >= 0)
        return best;
    for (unsigned i = 0; i < a->npairs; i++)
        if (a->pairs[i].state == ICE_PAIR_FROZEN && (best < 0 || a->pairs[i].prio > a->pairs[best].prio))
            best = (int)i;
    return best;
}

/* ---- nomination (§8.1.1, regular nomination) -------------------------------------------- */

static int ice_best_valid(const camrtc_ice_agent *a)
{
    int best = -1;
    for (unsigned i = 0; i < a->npairs; i++) {
        const ice_pair *p = &a->pairs[i];
        if (p->valid && p->state == ICE_PAIR_SUCCEEDED && (best < 0 || p->prio > a->pairs[best].prio))
            best = (int)i;
    }
    return best;
}

static bool ice_better_pending(const camrtc_ice_agent *a, uint64_t prio)
{
    for (unsigned i = 0; i < a->npairs; i++)
        if (a->pairs[i].prio > prio && a->pairs[i].state <= ICE_PAIR_IN_PROGRESS)
            return true;
    return false;
}

static void ice_try_nominate(camrtc_ice_agent *a, camrtc_time_us now)
{
    a->nominate_at = CAMRTC_TIME_NEVER;
    if (!a->controlling || !a->have_remote || a->nominating >= 0 || a->checklist_done)
        return;
    int best = ice_best_valid(a);
    if (best < 0)
        return;
    const ice_pair *p = &a->pairs[best];
    if (ice_better_pending(a, p->prio)) {
        camrtc_time_us grace = 2 * p->rtt;
        if (grace > ICE_NOMINATE_WAIT_MAX)
            grace = ICE_NOMINATE_WAIT_MAX;
        if (now < p->valid_at + grace) {
            a->nominate_at = p->valid_at + grace;
            return;
        }
    }
    a->nominating = best;
    ice_start_check(a, now, best, true);
}

/* ---- retransmissions and pacing ---------------------------------------------------------- */

static void ice_pair_fail(camrtc_ice_agent *a, int i)
{
    ice_pair *p = &a->pairs[i];
    p->tx.active = false;
    ice_forget_old(p);
    p->state = ICE_PAIR_FAILED;
    p->valid = false;
    a->stats.checks_failed++;
    if (a->nominating == i)
        a->nominating = -1;
}

static void ice_retransmit(camrtc_ice_agent *a, camrtc_time_us now)
{
    for (unsigned i = 0; i < a->npairs; i++) {
        ice_pair *p = &a->pairs[i];
        if (!p->tx.active || now < p->tx.next_retx)
            continue;
        if (p->tx.retx >= a->cfg.max_retrans) {
            ice_pair_fail(a, (int)i);
            continue;
        }
        p->tx.retx++;
        p->tx.rto = p->tx.rto * 2 > ICE_RTO_MAX ? ICE_RTO_MAX : p->tx.rto * 2;
        p->tx.next_retx = now + p->tx.rto;
        a->stats.checks_retransmitted++;
        ice_check_transmit(a, now, p);
    }
}

void ice_checks_timeout(camrtc_ice_agent *a, camrtc_time_us now)
{
    a->now = now;
    ice_retransmit(a, now);
    if (a->have_remote && !a->checklist_done && now >= a->next_check) {
        int i = ice_next_ordinary(a);
        if (i >= 0) {
            ice_start_check(a, now, i, false);
            a->next_check = now + a->cfg.ta;
        }
    }
    ice_try_nominate(a, now);
}

camrtc_time_us ice_checks_next_timeout(const camrtc_ice_agent *a)
{
    camrtc_time_us t = a->nominate_at;
    bool ordinary = false;
    for (unsigned i = 0; i < a->npairs; i++) {
        const ice_pair *p = &a->pairs[i];
        if (p->tx.active)
            t = ice_min_time(t, p->tx.next_retx);
        if (p->state == ICE_PAIR_WAITING || p->state == ICE_PAIR_FROZEN)
            ordinary = true;
    }
    if (ordinary && a->have_remote && !a->checklist_done)
        t = ice_min_time(t, a->next_check);
    return t;
}

/* ---- answers to our checks (§7.2.5) ------------------------------------------------------ */

/* The pair whose transaction id matches: the one in flight (*old = NULL), or a cancelled one. */
static int ice_find_tx(camrtc_ice_agent *a, const uint8_t id[12], ice_old_tx **old)
{
    for (unsigned i = 0; i < a->npairs; i++) {
        ice_pair *p = &a->pairs[i];
        *old = NULL;
        if (p->tx.active && memcmp(p->tx.id, id, 12) == 0)
            return (int)i;
        for (unsigned k = 0; k < ICE_OLD_TX; k++) {
            if (p->old[k].live && memcmp(p->old[k].id, id, 12) == 0) {
                *old = &p->old[k];
                return (int)i;
            }
        }
    }
    *old = NULL;
    return -1;
}

/* §7.2.5.3.1: a mapped address we do not know is a peer-reflexive local candidate. It is
 * remembered (and counted) but not signalled; the pair that found it stays the valid one
 * since data leaves from the same base anyway. */
static void ice_learn_local_prflx(camrtc_ice_agent *a, const ice_pair *p, const camrtc_addr *mapped)
{
    for (unsigned i = 0; i < a->nlocals; i++)
        if (camrtc_addr_equal(&a->locals[i].c.addr, mapped) && a->locals[i].base == p->local)
            return;
    if (a->nlocals >= ICE_MAX_LOCALS)
        return;
    const ice_local *base = &a->locals[p->local];
    ice_local *l = &a->locals[a->nlocals++];
    memset(l, 0, sizeof *l);
    l->c = base->c;
    l->c.type = CAMRTC_ICE_PRFLX;
    l->c.addr = *mapped;
    l->c.related = base->c.addr;
    l->c.priority = ice_prflx_priority(a, p->local);
    l->host = base->host;
    l->relay = base->relay;
    l->base = p->local;
    l->local_pref = base->local_pref;
    a->stats.prflx_candidates++;
}

static void ice_unfreeze_foundation(camrtc_ice_agent *a, const ice_pair *p)
{
    for (unsigned i = 0; i < a->npairs; i++)
        if (a->pairs[i].state == ICE_PAIR_FROZEN && ice_same_foundation(a, &a->pairs[i], p))
            a->pairs[i].state = ICE_PAIR_WAITING;
}

static void ice_check_error(camrtc_ice_agent *a, camrtc_time_us now, int i, const camrtc_stun_msg *m,
                            const ice_old_tx *old)
{
    ice_pair *p = &a->pairs[i];
    int code = 0;
    const char *reason;
    size_t rlen;
    camrtc_stun_get_error(m, &code, &reason, &rlen);
    if (code != 487) {
        ice_pair_fail(a, i);
        return;
    }
    /* §7.2.5.1: role conflict — take the other role than the one the check claimed, and
     * check the pair again (unless a newer check of it is already on its way). */
    bool claimed = old ? old->controlling : p->tx_controlling;
    ice_forget_old(p);
    if (old && p->tx.active) {
        ice_set_role(a, !claimed);
        return;
    }
    p->tx.active = false;
    if (a->nominating == i)
        a->nominating = -1;
    ice_set_role(a, !claimed);
    if (p->state != ICE_PAIR_SUCCEEDED)
        p->state = ICE_PAIR_WAITING;
    ice_trigger(a, now, i);
}

static void ice_check_success(camrtc_ice_agent *a, camrtc_time_us now, int i, const camrtc_stun_msg *m,
                              const ice_old_tx *old)
{
    ice_pair *p = &a->pairs[i];
    bool use_cand = !old && p->tx_use_cand;
    p->rtt = now - (old ? old->first_sent : p->tx.first_sent);
    if (!old || !p->tx_use_cand)
        p->tx.active = false; /* a nomination in flight goes on */
    ice_forget_old(p);
    camrtc_addr mapped;
    if (camrtc_stun_get_xor_addr(m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &mapped) == CAMRTC_OK &&
        !camrtc_addr_equal(&mapped, &a->locals[p->local].c.addr))
        ice_learn_local_prflx(a, p, &mapped);
    if (p->state != ICE_PAIR_SUCCEEDED) {
        p->state = ICE_PAIR_SUCCEEDED;
        p->valid = true;
        p->valid_at = now;
        a->stats.checks_succeeded++;
        ice_unfreeze_foundation(a, p);
    }
    if (a->sel.active && a->sel.gen == a->gen && a->sel.base == p->local &&
        camrtc_addr_equal(&a->sel.remote.addr, &a->remotes[p->remote].c.addr)) {
        a->sel.last_answer = now; /* any authenticated answer on the selected pair is consent */
        a->sel.awaiting = false;
        a->stats.selected_rtt = p->rtt;
    }
    if (use_cand && a->controlling) {
        a->nominating = -1;
        p->nominated = true;
        a->stats.nominations++;
        ice_select(a, now, i);
    } else if (!a->controlling && p->remote_nominated) {
        ice_select(a, now, i); /* §7.3.1.5: nominated before its own check succeeded */
    }
}

bool ice_handle_check_response(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                               const camrtc_stun_msg *m)
{
    ice_old_tx *old;
    int i = ice_find_tx(a, m->txid, &old);
    if (i < 0)
        return false;
    if (camrtc_stun_check_integrity(m, (const uint8_t *)a->rpwd, strlen(a->rpwd)) != CAMRTC_OK) {
        a->stats.bad_integrity++;
        return true;
    }
    ice_pair *p = &a->pairs[i];
    /* §7.2.5.2.1: the answer must come back from where the check went, on the same base. */
    if (base != p->local || !camrtc_addr_equal(from, &a->remotes[p->remote].c.addr)) {
        ice_pair_fail(a, i);
        return true;
    }
    a->last_progress = now;
    if (camrtc_stun_class(m->type) == CAMRTC_STUN_ERROR)
        ice_check_error(a, now, i, m, old);
    else
        ice_check_success(a, now, i, m, old);
    ice_try_nominate(a, now);
    return true;
}

/* ---- checks we receive (§7.3) ------------------------------------------------------------ */

static void ice_answer(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                       const camrtc_stun_msg *m, const char *pwd, int error)
{
    uint8_t buf[ICE_STUN_BUF];
    uint16_t cls = error ? CAMRTC_STUN_ERROR : CAMRTC_STUN_SUCCESS;
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, cls), m->txid);
    if (error)
        camrtc_stun_add_error(&b, error, "Role Conflict");
    else
        camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, from);
    camrtc_stun_add_integrity(&b, (const uint8_t *)pwd, strlen(pwd));
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    if (n > 0)
        ice_send_from(a, now, base, from, buf, (size_t)n);
}

/* Which of our credentials the check names: the current generation's, or those of the
 * selected pair of an older generation (its consent checks). NULL when neither. */
static const char *ice_request_pwd(camrtc_ice_agent *a, const camrtc_stun_msg *m, bool *current)
{
    const char *u;
    size_t ulen;
    if (camrtc_stun_get_string(m, CAMRTC_STUN_A_USERNAME, &u, &ulen) != CAMRTC_OK)
        return NULL;
    const char *colon = memchr(u, ':', ulen);
    if (!colon)
        return NULL;
    size_t n = (size_t)(colon - u);
    if (n == strlen(a->lufrag) && memcmp(u, a->lufrag, n) == 0) {
        *current = true;
        return a->lpwd;
    }
    if (a->sel.active && a->sel.gen != a->gen && n == strlen(a->sel.lufrag) && memcmp(u, a->sel.lufrag, n) == 0) {
        *current = false;
        return a->sel.lpwd;
    }
    return NULL;
}

/* §7.3.1.1: returns 487 when the remote must change its role, else 0 (maybe after we did). */
static int ice_role_conflict(camrtc_ice_agent *a, const camrtc_stun_msg *m)
{
    uint64_t theirs;
    if (a->controlling && camrtc_stun_get_u64(m, CAMRTC_STUN_A_ICE_CONTROLLING, &theirs) == CAMRTC_OK) {
        if (a->tiebreaker >= theirs)
            return 487;
        ice_set_role(a, false);
    } else if (!a->controlling && camrtc_stun_get_u64(m, CAMRTC_STUN_A_ICE_CONTROLLED, &theirs) == CAMRTC_OK) {
        if (a->tiebreaker < theirs)
            return 487;
        ice_set_role(a, true);
    }
    return 0;
}

/* §7.3.1.3: a check from an address we do not know reveals a peer-reflexive candidate. */
static int ice_remote_for_check(camrtc_ice_agent *a, camrtc_time_us now, const camrtc_addr *from, uint32_t prio)
{
    int i = ice_find_remote(a, from);
    if (i >= 0)
        return i;
    camrtc_ice_candidate c;
    memset(&c, 0, sizeof c);
    c.component = 1;
    c.priority = prio;
    c.addr = *from;
    c.type = CAMRTC_ICE_PRFLX;
    /* Any value unique to this address will do (§7.3.1.3). */
    snprintf(c.foundation, sizeof c.foundation, "prflx%08x", (unsigned)camrtc_addr_hash(from));
    i = ice_add_remote(a, now, &c);
    if (i >= 0)
        a->stats.prflx_candidates++;
    return i;
}

void ice_handle_request(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                        const camrtc_stun_msg *m)
{
    bool current = false;
    const char *pwd = ice_request_pwd(a, m, &current);
    if (!pwd) {
        a->stats.unknown_ufrag++;
        return;
    }
    if (camrtc_stun_check_integrity(m, (const uint8_t *)pwd, strlen(pwd)) != CAMRTC_OK) {
        a->stats.bad_integrity++;
        return;
    }
    uint32_t prio;
    if (camrtc_stun_get_u32(m, CAMRTC_STUN_A_PRIORITY, &prio) != CAMRTC_OK) {
        a->stats.malformed++;
        return;
    }
    a->stats.checks_received++;
    if (!current) {
        ice_answer(a, now, base, from, m, pwd, 0); /* consent on the old selected pair */
        return;
    }
    int conflict = ice_role_conflict(a, m);
    ice_answer(a, now, base, from, m, pwd, conflict);
    if (conflict)
        return;
    a->last_progress = now;
    int r = ice_remote_for_check(a, now, from, prio);
    int i = r >= 0 ? ice_make_pair(a, now, base, r) : -1;
    if (i < 0)
        return;
    ice_pair *p = &a->pairs[i];
    bool use_cand = camrtc_stun_find(m, CAMRTC_STUN_A_USE_CANDIDATE) != NULL;
    if (p->state == ICE_PAIR_IN_PROGRESS) {
        /* §7.3.1.4: cancel and trigger at once. Our first check may have been lost (the
         * peer's TURN permission was not installed yet); answers to it still count. */
        if (!p->tx_use_cand)
            ice_trigger(a, now, i);
    } else if (p->state != ICE_PAIR_SUCCEEDED) {
        ice_trigger(a, now, i);
    }
    if (!a->controlling && use_cand) {
        p->remote_nominated = true;
        if (p->state == ICE_PAIR_SUCCEEDED)
            ice_select(a, now, i); /* §7.3.1.5 */
    }
}
