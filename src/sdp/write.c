/* SDP serializer: a camrtc_sdp back to text (CRLF line ends, RFC 8866 §5), in the line
 * order browsers use, so a human comparing with a Chromium description finds things
 * where expected. Whatever camrtc_sdp_parse accepts, this writes back so that parsing
 * the text gives the same description (the fuzz target checks it). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "camrtc/error.h"
#include "sdp/sdp_int.h"

static const char *const direction_names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
static const char *const setup_names[] = {"", "actpass", "active", "passive", "holdconn"};

typedef struct writer {
    camrtc_buf *out;
    int rc;
} writer;

/* Append one formatted line with CRLF; the first error sticks. */
__attribute__((format(printf, 2, 3))) static void line(writer *w, const char *fmt, ...)
{
    if (w->rc != CAMRTC_OK)
        return;
    char tmp[CAMRTC_SDP_MAX_LINE + 3];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp - 2, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp - 2) {
        w->rc = CAMRTC_ETOOBIG;
        return;
    }
    tmp[n] = '\r';
    tmp[n + 1] = '\n';
    w->rc = camrtc_buf_append(w->out, tmp, (size_t)n + 2);
}

static void write_fingerprint(writer *w, const camrtc_sdp_fingerprint *fp)
{
    if (fp->len == 0)
        return;
    char hex[CAMRTC_SDP_MAX_FINGERPRINT * 3];
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < fp->len; i++) {
        hex[i * 3] = digits[fp->hash[i] >> 4];
        hex[i * 3 + 1] = digits[fp->hash[i] & 15];
        hex[i * 3 + 2] = i + 1 < fp->len ? ':' : '\0';
    }
    line(w, "a=fingerprint:%s %s", fp->alg, hex);
}

static void write_transport(writer *w, const char *ufrag, const char *pwd, const camrtc_sdp_fingerprint *fp,
                            camrtc_sdp_setup setup)
{
    if (ufrag)
        line(w, "a=ice-ufrag:%s", ufrag);
    if (pwd)
        line(w, "a=ice-pwd:%s", pwd);
    write_fingerprint(w, fp);
    if (setup != CAMRTC_SDP_SETUP_NONE && setup <= CAMRTC_SDP_SETUP_HOLDCONN)
        line(w, "a=setup:%s", setup_names[setup]);
}

static void write_attrs(writer *w, const camrtc_sdp_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (attrs[i].value)
            line(w, "a=%s:%s", attrs[i].name, attrs[i].value);
        else
            line(w, "a=%s", attrs[i].name);
    }
}

static void write_session(writer *w, const camrtc_sdp *sdp)
{
    line(w, "v=0");
    line(w, "o=%s %" PRIu64 " %" PRIu64 " %s", sdp->origin_user ? sdp->origin_user : "-", sdp->sess_id,
         sdp->sess_version, sdp->origin_addr ? sdp->origin_addr : "IN IP4 127.0.0.1");
    line(w, "s=%s", sdp->name && *sdp->name ? sdp->name : "-");
    line(w, "t=%" PRIu64 " %" PRIu64, sdp->t_start, sdp->t_stop);
    if (sdp->n_bundle > 0) {
        char group[CAMRTC_SDP_MAX_LINE + 1] = "BUNDLE";
        for (size_t i = 0; i < sdp->n_bundle; i++) {
            size_t used = strlen(group);
            if (snprintf(group + used, sizeof group - used, " %s", sdp->bundle[i]) >= (int)(sizeof group - used))
                w->rc = CAMRTC_ETOOBIG;
        }
        line(w, "a=group:%s", group);
    }
    if (sdp->ice_lite)
        line(w, "a=ice-lite");
    if (sdp->ice_trickle)
        line(w, "a=ice-options:trickle");
    if (sdp->msid_semantic)
        line(w, "a=msid-semantic:%s", sdp->msid_semantic);
    write_transport(w, sdp->ice_ufrag, sdp->ice_pwd, &sdp->fingerprint, sdp->setup);
    write_attrs(w, sdp->attrs, sdp->n_attrs);
}

static void write_codecs(writer *w, const camrtc_sdp_media *m)
{
    for (size_t i = 0; i < m->n_rtcp_fb; i++)
        if (m->rtcp_fb[i].pt == -1)
            line(w, "a=rtcp-fb:* %s", m->rtcp_fb[i].value);
    for (size_t i = 0; i < m->n_codecs; i++) {
        const camrtc_sdp_codec *c = &m->codecs[i];
        if (c->name && c->channels)
            line(w, "a=rtpmap:%u %s/%" PRIu32 "/%u", c->pt, c->name, c->clock, c->channels);
        else if (c->name)
            line(w, "a=rtpmap:%u %s/%" PRIu32, c->pt, c->name, c->clock);
        for (size_t k = 0; k < m->n_rtcp_fb; k++)
            if (m->rtcp_fb[k].pt == c->pt)
                line(w, "a=rtcp-fb:%u %s", c->pt, m->rtcp_fb[k].value);
        if (c->fmtp)
            line(w, "a=fmtp:%u %s", c->pt, c->fmtp);
    }
}

/* The m= line: for RTP the payload types from codecs[] (so a description built in code
 * needs no format text), otherwise the format text. */
static void write_m_line(writer *w, const camrtc_sdp_media *m)
{
    char fmts[CAMRTC_SDP_MAX_FMTS * 4 + 1] = "";
    const char *fmt = m->fmt ? m->fmt : "";
    if (m->rtp) {
        size_t used = 0;
        for (size_t i = 0; i < m->n_codecs; i++)
            used += (size_t)snprintf(fmts + used, sizeof fmts - used, i ? " %u" : "%u", m->codecs[i].pt);
        fmt = fmts;
    }
    line(w, "m=%s %u %s %s", m->media, m->port, m->proto, fmt);
}

static void write_media(writer *w, const camrtc_sdp_media *m)
{
    write_m_line(w, m);
    if (m->conn)
        line(w, "c=%s", m->conn);
    write_transport(w, m->ice_ufrag, m->ice_pwd, &m->fingerprint, m->setup);
    if (m->mid)
        line(w, "a=mid:%s", m->mid);
    for (size_t i = 0; i < m->n_extmap; i++) {
        const camrtc_sdp_extmap *e = &m->extmap[i];
        line(w, "a=extmap:%u%s%s %s%s%s", e->id, e->direction ? "/" : "", e->direction ? e->direction : "", e->uri,
             e->attributes ? " " : "", e->attributes ? e->attributes : "");
    }
    /* A direction means nothing for a data channel section: write it only when set. */
    if (m->direction <= CAMRTC_SDP_INACTIVE && (m->rtp || m->direction != CAMRTC_SDP_SENDRECV))
        line(w, "a=%s", direction_names[m->direction]);
    if (m->msid)
        line(w, "a=msid:%s", m->msid);
    if (m->rtcp_mux)
        line(w, "a=rtcp-mux");
    if (m->rtcp_rsize)
        line(w, "a=rtcp-rsize");
    if (m->bundle_only)
        line(w, "a=bundle-only");
    write_codecs(w, m);
    for (size_t i = 0; i < m->n_ssrc_groups; i++) {
        const camrtc_sdp_ssrc_group *g = &m->ssrc_groups[i];
        char list[4 * 11 + 1] = "";
        size_t used = 0;
        for (size_t k = 0; k < g->n && k < 4; k++)
            used += (size_t)snprintf(list + used, sizeof list - used, " %" PRIu32, g->ssrcs[k]);
        line(w, "a=ssrc-group:%s%s", g->semantics, list);
    }
    for (size_t i = 0; i < m->n_ssrcs; i++)
        line(w, "a=ssrc:%" PRIu32 " %s", m->ssrcs[i].ssrc, m->ssrcs[i].attr);
    if (m->sctp_port)
        line(w, "a=sctp-port:%u", m->sctp_port);
    if (m->max_message_size)
        line(w, "a=max-message-size:%" PRIu32, m->max_message_size);
    write_attrs(w, m->attrs, m->n_attrs);
    for (size_t i = 0; i < m->n_candidates; i++)
        line(w, "a=%s", m->candidates[i]);
    if (m->end_of_candidates)
        line(w, "a=end-of-candidates");
}

int camrtc_sdp_write(const camrtc_sdp *sdp, camrtc_buf *out)
{
    if (!sdp || !out)
        return CAMRTC_EINVAL;
    writer w = {.out = out, .rc = CAMRTC_OK};
    write_session(&w, sdp);
    for (size_t i = 0; i < sdp->n_media && w.rc == CAMRTC_OK; i++)
        write_media(&w, &sdp->media[i]);
    return w.rc;
}
