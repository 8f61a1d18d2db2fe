/* The selected pair, consent freshness (RFC 7675) and the agent's overall state.
 *
 * Consent: every consent_interval (randomized 0.8..1.2, §5.1) a Binding request goes to the
 * remote end of the selected pair; an authenticated success answer renews consent. Requests
 * are not retransmitted: the next one is the retry. When a request stays unanswered for
 * consent_disconnect (with nothing answered since) the state is DISCONNECTED, and an answer
 * brings it back; with no answer at all for consent_timeout after the last one it is FAILED
 * and the pair stops carrying data (§5.1: "cease transmission").
 *
 * The selected pair keeps a copy of its candidates and of its generation's credentials, so
 * after an ICE restart it keeps working (data and consent) until the new generation selects.
 */
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/str.h"
#include "ice/agent_int.h"

static camrtc_time_us ice_consent_delay(camrtc_ice_agent *a)
{
    /* RFC 7675 §5.1: randomized between 0.8 and 1.2 of the interval. */
    return a->cfg.consent_interval * (800 + camrtc_rng_uniform(a->rng, 401)) / 1000;
}

void ice_select(camrtc_ice_agent *a, camrtc_time_us now, int pair)
{
    const ice_pair *p = &a->pairs[pair];
    const ice_local *l = &a->locals[p->local];
    const ice_remote *r = &a->remotes[p->remote];
    ice_sel *s = &a->sel;
    a->checklist_done = true;
    if (s->active && s->gen == a->gen && s->base == p->local && camrtc_addr_equal(&s->remote.addr, &r->c.addr))
        return; /* already the one (USE-CANDIDATE is repeated on later checks) */
    memset(s, 0, sizeof *s);
    s->active = true;
    s->gen = a->gen;
    s->base = p->local;
    s->local = l->c;
    s->remote = r->c;
    s->prio = p->prio;
    camrtc_strlcpy(s->lufrag, a->lufrag, sizeof s->lufrag);
    camrtc_strlcpy(s->lpwd, a->lpwd, sizeof s->lpwd);
    camrtc_strlcpy(s->rufrag, a->rufrag, sizeof s->rufrag);
    camrtc_strlcpy(s->rpwd, a->rpwd, sizeof s->rpwd);
    s->last_answer = now;
    s->next_consent = now + ice_consent_delay(a);
    a->consent_failed = false;
    a->stats.selected_rtt = p->rtt;
    char la[CAMRTC_ADDR_STRLEN], ra[CAMRTC_ADDR_STRLEN];
    CAMRTC_LOGD(a->log, ICE_MOD, "selected %s -> %s", camrtc_addr_format(&s->local.addr, la, sizeof la),
                camrtc_addr_format(&s->remote.addr, ra, sizeof ra));
    camrtc_ice_event ev = {.type = CAMRTC_ICE_EV_SELECTED, .local = &s->local, .remote = &s->remote};
    ice_emit(a, &ev);
    ice_update_state(a, now);
}

static void ice_consent_send(camrtc_ice_agent *a, camrtc_time_us now)
{
    ice_sel *s = &a->sel;
    unsigned slot = s->consent_next_slot++ % ICE_CONSENT_IDS;
    ice_random_id(a, s->consent_ids[slot]);
    s->consent_sent_at[slot] = now;
    s->consent_live[slot] = true;
    if (!s->awaiting) {
        s->awaiting = true;
        s->unanswered_since = now;
    }

    char user[2 * ICE_CRED_MAX + 2];
    size_t ru = strlen(s->rufrag), lu = strlen(s->lufrag);
    memcpy(user, s->rufrag, ru);
    user[ru] = ':';
    memcpy(user + ru + 1, s->lufrag, lu + 1);

    uint8_t buf[ICE_STUN_BUF];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST),
                           s->consent_ids[slot]);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, user);
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, ice_prflx_priority(a, s->base));
    camrtc_stun_add_u64(&b, a->controlling ? CAMRTC_STUN_A_ICE_CONTROLLING : CAMRTC_STUN_A_ICE_CONTROLLED,
                        a->tiebreaker);
    if (a->cfg.software)
        camrtc_stun_add_string(&b, CAMRTC_STUN_A_SOFTWARE, a->cfg.software);
    camrtc_stun_add_integrity(&b, (const uint8_t *)s->rpwd, strlen(s->rpwd));
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    if (n <= 0)
        return;
    a->stats.consent_sent++;
    ice_send_from(a, now, s->base, &s->remote.addr, buf, (size_t)n);
}

void ice_consent_timeout(camrtc_ice_agent *a, camrtc_time_us now)
{
    ice_sel *s = &a->sel;
    if (!s->active)
        return;
    camrtc_time_us silent = now - s->last_answer;
    if (silent >= a->cfg.consent_timeout) {
        CAMRTC_LOGI(a->log, ICE_MOD, "consent lost on the selected pair");
        a->stats.consent_lost++;
        s->active = false; /* RFC 7675 §5.1: stop sending at once */
        a->consent_failed = true;
        ice_set_state(a, CAMRTC_ICE_FAILED);
        return;
    }
    /* Measured from the oldest unanswered request, so that a request interval longer than
     * consent_disconnect (5 s randomized up to 6 s, with 5 s) does not disconnect a healthy
     * path between two requests. */
    if (s->awaiting && now - s->unanswered_since >= a->cfg.consent_disconnect && !s->disconnected) {
        s->disconnected = true;
        ice_set_state(a, CAMRTC_ICE_DISCONNECTED);
    }
    if (now >= s->next_consent) {
        ice_consent_send(a, now);
        s->next_consent = now + ice_consent_delay(a);
    }
}

camrtc_time_us ice_consent_next_timeout(const camrtc_ice_agent *a)
{
    const ice_sel *s = &a->sel;
    if (!s->active)
        return CAMRTC_TIME_NEVER;
    camrtc_time_us t = ice_min_time(s->next_consent, s->last_answer + a->cfg.consent_timeout);
    if (s->awaiting && !s->disconnected)
        t = ice_min_time(t, s->unanswered_since + a->cfg.consent_disconnect);
    return t;
}

bool ice_consent_response(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                          const camrtc_stun_msg *m)
{
    ice_sel *s = &a->sel;
    if (!s->active)
        return false;
    int slot = -1;
    for (int i = 0; i < ICE_CONSENT_IDS; i++)
        if (s->consent_live[i] && memcmp(s->consent_ids[i], m->txid, 12) == 0)
            slot = i;
    if (slot < 0)
        return false;
    if (camrtc_stun_check_integrity(m, (const uint8_t *)s->rpwd, strlen(s->rpwd)) != CAMRTC_OK) {
        a->stats.bad_integrity++;
        return true;
    }
    if (base != s->base || !camrtc_addr_equal(from, &s->remote.addr) ||
        camrtc_stun_class(m->type) != CAMRTC_STUN_SUCCESS)
        return true; /* only a success from the pair's remote end is consent */
    s->last_answer = now;
    s->awaiting = false;
    a->stats.selected_rtt = now - s->consent_sent_at[slot];
    s->consent_live[slot] = false;
    if (s->disconnected) {
        s->disconnected = false;
        a->state = CAMRTC_ICE_DISCONNECTED; /* ice_update_state picks CONNECTED or COMPLETED */
        ice_update_state(a, now);
    }
    return true;
}

/* Is anything of this generation still being checked, and is anything valid? */
static void ice_checklist_status(const camrtc_ice_agent *a, bool *pending, bool *valid)
{
    *pending = *valid = false;
    for (unsigned i = 0; i < a->npairs; i++) {
        const ice_pair *p = &a->pairs[i];
        if (p->state <= ICE_PAIR_IN_PROGRESS || p->tx.active || p->triggered)
            *pending = true;
        if (p->valid)
            *valid = true;
    }
}

/* The agent's state from its parts. COMPLETED: selected in this generation, the remote side
 * has no more candidates and our gathering is done. FAILED (without a selected pair): every
 * pair failed while both sides' candidates are complete, or nothing happened for
 * consent_timeout (the bound for a peer that never ends its candidates). */
void ice_update_state(camrtc_ice_agent *a, camrtc_time_us now)
{
    if (a->closed)
        return;
    if (a->sel.active) {
        if (a->sel.disconnected)
            ice_set_state(a, CAMRTC_ICE_DISCONNECTED);
        else if (a->sel.gen == a->gen && a->remote_eoc && a->gathering_done)
            ice_set_state(a, CAMRTC_ICE_COMPLETED);
        else
            ice_set_state(a, CAMRTC_ICE_CONNECTED);
        return;
    }
    if (a->consent_failed)
        return;
    bool pending, valid;
    ice_checklist_status(a, &pending, &valid);
    if (pending) {
        a->last_progress = now;
        if ((a->state == CAMRTC_ICE_NEW || a->state == CAMRTC_ICE_FAILED) && a->have_remote)
            ice_set_state(a, CAMRTC_ICE_CHECKING);
        return;
    }
    if (valid || !a->have_remote || a->state == CAMRTC_ICE_FAILED)
        return;
    if (a->npairs > 0 && a->remote_eoc && a->gathering_done)
        ice_set_state(a, CAMRTC_ICE_FAILED);
    else if (now - a->last_progress >= a->cfg.consent_timeout)
        ice_set_state(a, CAMRTC_ICE_FAILED);
}

camrtc_time_us ice_state_next_timeout(const camrtc_ice_agent *a)
{
    if (a->closed || a->sel.active || a->consent_failed || a->state == CAMRTC_ICE_FAILED)
        return CAMRTC_TIME_NEVER;
    bool pending, valid;
    ice_checklist_status(a, &pending, &valid);
    if (pending || valid || !a->have_remote)
        return CAMRTC_TIME_NEVER;
    return a->last_progress + a->cfg.consent_timeout;
}
