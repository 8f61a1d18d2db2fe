/* Offer/answer (RFC 3264, JSEP RFC 8829 §5.3) for the two roles camrtc plays: the
 * master answers a remote offer and sends H.264; the viewer offers to receive H.264 and
 * reads the answer. One BUNDLE transport (RFC 8843) with rtcp-mux carries everything.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "camrtc/error.h"
#include "sdp/sdp_h264.h"

#define REASON(...) sdp_reason(reason, reasonsz, __VA_ARGS__)

static const struct {
    unsigned bit;
    const char *value;
} feedback_names[] = {
    {CAMRTC_SDP_FB_NACK, "nack"},      {CAMRTC_SDP_FB_PLI, "nack pli"},          {CAMRTC_SDP_FB_FIR, "ccm fir"},
    {CAMRTC_SDP_FB_REMB, "goog-remb"}, {CAMRTC_SDP_FB_TWCC, "transport-cc"},
};

static const struct {
    unsigned bit;
    const char *uri;
} extension_uris[] = {
    {CAMRTC_SDP_EXT_MID, SDP_URI_MID},
    {CAMRTC_SDP_EXT_ABS_SEND_TIME, SDP_URI_ABS_SEND_TIME},
    {CAMRTC_SDP_EXT_TWCC, SDP_URI_TWCC},
};

#define N_FEEDBACK (sizeof feedback_names / sizeof feedback_names[0])
#define N_EXTENSIONS (sizeof extension_uris / sizeof extension_uris[0])

/* 0 means "the default" in the config; CAMRTC_SDP_NONE means none. */
static unsigned bits_or(unsigned v, unsigned dflt)
{
    return v == 0 ? dflt : (v & CAMRTC_SDP_NONE) ? 0 : v;
}

static bool ice_chars_ok(const char *s, size_t min)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n < min || n > 256)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return false;
    }
    return true;
}

/* A name we write into a line: printable, no spaces, bounded. */
static bool word_ok(const char *s)
{
    if (!s)
        return true;
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

static int check_local(const camrtc_sdp_local *l, char *reason, size_t reasonsz)
{
    if (!ice_chars_ok(l->ice_ufrag, 4) || !ice_chars_ok(l->ice_pwd, 22) || !l->fingerprint) {
        REASON("local ICE credentials or fingerprint missing or malformed");
        return CAMRTC_EINVAL;
    }
    if (!word_ok(l->cname) || !word_ok(l->stream_id) || !word_ok(l->track_id) || (l->n_candidates && !l->candidates)) {
        REASON("bad cname, msid or candidates");
        return CAMRTC_EINVAL;
    }
    for (size_t i = 0; i < l->n_candidates; i++)
        if (!l->candidates[i] || strncmp(l->candidates[i], "candidate:", 10) != 0 ||
            strlen(l->candidates[i]) > CAMRTC_SDP_MAX_LINE - 2 || strpbrk(l->candidates[i], "\r\n")) {
            REASON("local candidate %zu is not a \"candidate:\" line", i);
            return CAMRTC_EINVAL;
        }
    int max = l->h264_max_level ? l->h264_max_level : 31;
    if ((l->h264_min_level && !sdp_h264_level_known(l->h264_min_level)) || !sdp_h264_level_known(max) ||
        sdp_h264_level_rank(l->h264_min_level) > sdp_h264_level_rank(max)) {
        REASON("bad H.264 level range");
        return CAMRTC_EINVAL;
    }
    return CAMRTC_OK;
}

static sdp_h264_prefs prefs_of(const camrtc_sdp_local *l)
{
    sdp_h264_prefs p = {
        .profiles = l->h264_profiles ? l->h264_profiles : CAMRTC_SDP_H264_CAN_SEND_DEFAULT,
        .min_level = l->h264_min_level,
        .max_level = l->h264_max_level ? l->h264_max_level : 31,
        .no_mode0 = l->h264_no_mode0,
    };
    return p;
}

static camrtc_sdp_h264_profile encode_profile_of(camrtc_sdp_h264_profile p)
{
    switch (p) {
    case CAMRTC_SDP_H264_MAIN: return CAMRTC_SDP_H264_MAIN;
    case CAMRTC_SDP_H264_CONSTRAINED_HIGH:
    case CAMRTC_SDP_H264_HIGH: return CAMRTC_SDP_H264_HIGH;
    default: return CAMRTC_SDP_H264_CONSTRAINED_BASELINE;
    }
}

/* RFC 3264 §6.1: what we may do given what the offer says it does. */
static camrtc_sdp_direction answer_direction(camrtc_sdp_direction offered, bool send, bool recv)
{
    bool they_recv = offered == CAMRTC_SDP_SENDRECV || offered == CAMRTC_SDP_RECVONLY;
    bool they_send = offered == CAMRTC_SDP_SENDRECV || offered == CAMRTC_SDP_SENDONLY;
    send = send && they_recv;
    recv = recv && they_send;
    return send && recv ? CAMRTC_SDP_SENDRECV : send ? CAMRTC_SDP_SENDONLY : recv ? CAMRTC_SDP_RECVONLY
                                                                                : CAMRTC_SDP_INACTIVE;
}

static bool sends(camrtc_sdp_direction d)
{
    return d == CAMRTC_SDP_SENDRECV || d == CAMRTC_SDP_SENDONLY;
}

/* ---- building sections ---------------------------------------------------------------- */

typedef struct builder {
    camrtc_sdp *sdp;
    int rc;                            /* first allocation failure sticks */
} builder;

static const char *dup(builder *b, const char *s)
{
    if (!s)
        return NULL;
    const char *d = sdp_strdup(b->sdp, s);
    if (!d)
        b->rc = CAMRTC_ENOMEM;
    return d;
}

static camrtc_sdp *new_session(const camrtc_sdp_local *l, builder *b)
{
    camrtc_sdp *sdp = sdp_new();
    b->sdp = sdp;
    b->rc = sdp ? CAMRTC_OK : CAMRTC_ENOMEM;
    if (!sdp)
        return NULL;
    sdp->origin_user = dup(b, "-");
    sdp->sess_id = l->sess_id ? l->sess_id : 1;
    sdp->sess_version = l->sess_version;
    sdp->origin_addr = dup(b, "IN IP4 127.0.0.1");
    sdp->name = dup(b, "-");
    sdp->ice_trickle = l->trickle;
    sdp->msid_semantic = dup(b, "WMS *");
    return sdp;
}

static void add_fb(builder *b, camrtc_sdp_media *m, int pt, const char *value)
{
    if (m->n_rtcp_fb < CAMRTC_SDP_MAX_RTCP_FB) {
        m->rtcp_fb[m->n_rtcp_fb].pt = pt;
        m->rtcp_fb[m->n_rtcp_fb++].value = dup(b, value);
    }
}

static void add_extmap(builder *b, camrtc_sdp_media *m, uint16_t id, const char *uri)
{
    if (m->n_extmap < CAMRTC_SDP_MAX_EXTMAP) {
        camrtc_sdp_extmap *e = &m->extmap[m->n_extmap++];
        memset(e, 0, sizeof *e);
        e->id = id;
        e->uri = dup(b, uri);
    }
}

static camrtc_sdp_codec *add_codec(builder *b, camrtc_sdp_media *m, uint8_t pt, const char *name, uint32_t clock,
                                   uint8_t channels, const char *fmtp)
{
    if (m->n_codecs >= CAMRTC_SDP_MAX_FMTS)
        return NULL;
    camrtc_sdp_codec *c = &m->codecs[m->n_codecs++];
    c->pt = pt;
    c->name = dup(b, name);
    c->clock = clock;
    c->channels = channels;
    c->fmtp = dup(b, fmtp);
    return c;
}

/* Our ICE, DTLS and (for the transport section) candidates on a section. */
static void add_transport(builder *b, camrtc_sdp_media *m, const camrtc_sdp_local *l, camrtc_sdp_setup setup,
                          bool candidates)
{
    m->conn = dup(b, "IN IP4 0.0.0.0");
    m->ice_ufrag = dup(b, l->ice_ufrag);
    m->ice_pwd = dup(b, l->ice_pwd);
    memcpy(m->fingerprint.alg, "sha-256", 8);
    memcpy(m->fingerprint.hash, l->fingerprint, 32);
    m->fingerprint.len = 32;
    m->setup = setup;
    m->rtcp_mux = true;
    if (!candidates)
        return;
    for (size_t i = 0; i < l->n_candidates && m->n_candidates < CAMRTC_SDP_MAX_CANDIDATES; i++)
        m->candidates[m->n_candidates++] = dup(b, l->candidates[i]);
    m->end_of_candidates = l->end_of_candidates;
}

/* a=msid, and a=ssrc with cname and msid (RFC 5576, RFC 8830) for what we send. */
static void add_sender(builder *b, camrtc_sdp_media *m, const camrtc_sdp_local *l, bool rtx)
{
    const char *stream = l->stream_id ? l->stream_id : "camrtc";
    const char *track = l->track_id ? l->track_id : "video0";
    const char *cname = l->cname ? l->cname : "camrtc";
    m->msid = sdp_printf(b->sdp, "%s %s", stream, track);
    if (!m->msid)
        b->rc = CAMRTC_ENOMEM;
    uint32_t ssrcs[2] = {l->video_ssrc, l->rtx_ssrc};
    size_t n = rtx ? 2 : 1;
    if (rtx) {
        camrtc_sdp_ssrc_group *g = &m->ssrc_groups[m->n_ssrc_groups++];
        g->semantics = dup(b, "FID");      /* RFC 4588 §8.7 */
        g->ssrcs[0] = ssrcs[0];
        g->ssrcs[1] = ssrcs[1];
        g->n = 2;
    }
    for (size_t i = 0; i < n; i++) {
        m->ssrcs[m->n_ssrcs].ssrc = ssrcs[i];
        m->ssrcs[m->n_ssrcs++].attr = sdp_printf(b->sdp, "cname:%s", cname);
        m->ssrcs[m->n_ssrcs].ssrc = ssrcs[i];
        m->ssrcs[m->n_ssrcs++].attr = sdp_printf(b->sdp, "msid:%s %s", stream, track);
    }
    for (size_t i = 0; i < m->n_ssrcs; i++)
        if (!m->ssrcs[i].attr)
            b->rc = CAMRTC_ENOMEM;
}

/* A rejected section (RFC 3264 §6, JSEP §5.3.1): port 0, same media and proto, the
 * offer's first format, the mid mirrored so the offerer can match it. JSEP §5.8 needs
 * nothing more on a rejected section, and Chromium asks for nothing more; aiortc (1.4)
 * validates every section alike, rejected or not, so with l (not NULL) it gets what aiortc
 * looks for: our ICE credentials, fingerprint and a=setup, rtcp-mux on RTP sections, and
 * the echoed format's rtpmap and fmtp (aiortc matches codecs before it looks at the port). */
static void add_rejected(builder *b, camrtc_sdp_media *am, const camrtc_sdp_media *om, const camrtc_sdp_local *l,
                         camrtc_sdp_setup setup)
{
    if (l) {
        add_transport(b, am, l, setup, false);
        am->rtcp_mux = om->rtp && om->rtcp_mux;   /* RFC 5761 §5.1.1: only when offered */
    }
    am->type = om->type;
    am->media = dup(b, om->media);
    am->proto = dup(b, om->proto);
    am->port = 0;
    am->rtp = om->rtp;
    am->direction = om->rtp ? CAMRTC_SDP_INACTIVE : CAMRTC_SDP_SENDRECV;
    am->mid = dup(b, om->mid);
    if (om->rtp) {
        const camrtc_sdp_codec *c = &om->codecs[0];   /* the parser guarantees one */
        if (l)
            add_codec(b, am, c->pt, c->name, c->clock, c->channels, c->fmtp);
        else
            add_codec(b, am, c->pt, NULL, 0, 0, NULL);
    } else {
        am->fmt = dup(b, om->fmt);
    }
}

/* The a=setup an offer states: with BUNDLE every section states the same one, so the
 * first one given decides (the session level's when no section has one). */
static camrtc_sdp_setup offered_setup(const camrtc_sdp *offer)
{
    for (size_t i = 0; i < offer->n_media; i++)
        if (offer->media[i].setup != CAMRTC_SDP_SETUP_NONE)
            return offer->media[i].setup;
    return offer->setup;
}

/* ---- answering ------------------------------------------------------------------------ */

typedef struct answer_ctx {
    const camrtc_sdp *offer;
    const camrtc_sdp_answer_config *cfg;
    builder b;
    camrtc_sdp_negotiated *neg;
    camrtc_sdp_setup our_setup;
    const camrtc_sdp_media *transport; /* offer section whose transport we use */
    char *reason;
    size_t reasonsz;
} answer_ctx;

static bool in_bundle(const camrtc_sdp *sdp, const char *mid)
{
    for (size_t i = 0; mid && i < sdp->n_bundle; i++)
        if (strcmp(sdp->bundle[i], mid) == 0)
            return true;
    return false;
}

/* Can this offered section be carried on our one transport? With BUNDLE, any section
 * in the group; without, only the first one we accept. */
static bool transport_ok(answer_ctx *x, const camrtc_sdp_media *om)
{
    if (om->port == 0 && !om->bundle_only)
        return false;                  /* the offerer disabled it */
    if (x->offer->n_bundle > 0)
        return in_bundle(x->offer, om->mid);
    return x->transport == NULL;
}

static void answer_video(answer_ctx *x, camrtc_sdp_media *am, const camrtc_sdp_media *om, const sdp_h264_choice *ch)
{
    const camrtc_sdp_local *l = &x->cfg->local;
    camrtc_sdp_negotiated *neg = x->neg;
    builder *b = &x->b;
    am->type = CAMRTC_SDP_VIDEO;
    am->media = dup(b, om->media);
    am->proto = dup(b, om->proto);
    am->rtp = true;
    am->port = 9;                      /* JSEP §5.3.1: the real address is in candidates */
    am->mid = dup(b, om->mid);
    am->rtcp_rsize = om->rtcp_rsize;
    am->direction = answer_direction(om->direction, x->cfg->video_send, x->cfg->video_recv);
    add_transport(b, am, l, x->our_setup, false);

    uint8_t pt = ch->codec->pt;
    char fmtp[128], plid[7];
    sdp_h264_plid_format(plid, ch->fmtp.profile_idc, ch->fmtp.profile_iop, ch->answer_level);
    snprintf(fmtp, sizeof fmtp, "%spacketization-mode=%d;profile-level-id=%s",
             ch->fmtp.level_asymmetry_allowed ? "level-asymmetry-allowed=1;" : "", ch->fmtp.packetization_mode,
             plid);
    add_codec(b, am, pt, ch->codec->name, 90000, 0, fmtp);
    unsigned fb = bits_or(l->feedback, CAMRTC_SDP_FB_ALL);
    neg->feedback = 0;
    for (size_t i = 0; i < N_FEEDBACK; i++)
        if ((fb & feedback_names[i].bit) && sdp_has_fb(om, pt, feedback_names[i].value)) {
            add_fb(b, am, pt, feedback_names[i].value);
            neg->feedback |= feedback_names[i].bit;
        }
    /* rtx needs an SSRC of its own when we send. */
    int rtx = l->no_rtx ? -1 : sdp_rtx_for(om, pt);
    if (rtx >= 0 && sends(am->direction) && l->rtx_ssrc == 0)
        rtx = -1;
    if (rtx >= 0) {
        char apt[16];
        snprintf(apt, sizeof apt, "apt=%u", pt);
        add_codec(b, am, (uint8_t)rtx, "rtx", 90000, 0, apt);
    }
    unsigned ext = bits_or(l->extensions, CAMRTC_SDP_EXT_ALL);
    int *ids[N_EXTENSIONS] = {&neg->ext_mid, &neg->ext_abs_send_time, &neg->ext_twcc};
    for (size_t i = 0; i < om->n_extmap; i++)
        for (size_t k = 0; k < N_EXTENSIONS; k++)
            if ((ext & extension_uris[k].bit) && strcmp(om->extmap[i].uri, extension_uris[k].uri) == 0 &&
                *ids[k] == 0) {
                add_extmap(b, am, om->extmap[i].id, extension_uris[k].uri);
                *ids[k] = om->extmap[i].id;
            }
    if (sends(am->direction))
        add_sender(b, am, l, rtx >= 0);

    neg->video = true;
    neg->video_mid = om->mid;
    neg->video_direction = am->direction;
    neg->video_pt = pt;
    neg->rtx_pt = rtx;
    neg->profile = ch->fmtp.profile;
    neg->profile_idc = ch->fmtp.profile_idc;
    neg->profile_iop = ch->fmtp.profile_iop;
    neg->send_level = ch->send_level;
    neg->packetization_mode = ch->fmtp.packetization_mode;
    neg->encode_profile = encode_profile_of(ch->fmtp.profile);
}

/* Audio when asked for: the first of opus, PCMU, PCMA the offer has. */
static bool answer_audio(answer_ctx *x, camrtc_sdp_media *am, const camrtc_sdp_media *om)
{
    static const struct {
        const char *name;
        uint32_t clock;
    } wanted[] = {{"opus", 48000}, {"PCMU", 8000}, {"PCMA", 8000}};
    for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++)
        for (size_t i = 0; i < om->n_codecs; i++) {
            const camrtc_sdp_codec *c = &om->codecs[i];
            if (!c->name || strcasecmp(c->name, wanted[w].name) != 0 || c->clock != wanted[w].clock)
                continue;
            builder *b = &x->b;
            am->type = CAMRTC_SDP_AUDIO;
            am->media = dup(b, om->media);
            am->proto = dup(b, om->proto);
            am->rtp = true;
            am->port = 9;
            am->mid = dup(b, om->mid);
            am->rtcp_rsize = om->rtcp_rsize;
            am->direction = answer_direction(om->direction, x->cfg->audio_send, x->cfg->audio_recv);
            add_transport(b, am, &x->cfg->local, x->our_setup, false);
            add_codec(b, am, c->pt, c->name, c->clock, c->channels, c->fmtp);
            x->neg->audio = true;
            x->neg->audio_pt = c->pt;
            return true;
        }
    return false;
}

/* Our DTLS role from the offer's a=setup (RFC 8842 §5.2; absent means active, RFC 4145 §4). */
static int choose_setup(answer_ctx *x, camrtc_sdp_setup offered)
{
    switch (offered) {
    case CAMRTC_SDP_SETUP_ACTPASS:
        x->our_setup = x->cfg->setup == CAMRTC_SDP_SETUP_PASSIVE ? CAMRTC_SDP_SETUP_PASSIVE : CAMRTC_SDP_SETUP_ACTIVE;
        return CAMRTC_OK;
    case CAMRTC_SDP_SETUP_ACTIVE:
    case CAMRTC_SDP_SETUP_NONE:
        x->our_setup = CAMRTC_SDP_SETUP_PASSIVE;
        return CAMRTC_OK;
    case CAMRTC_SDP_SETUP_PASSIVE:
        x->our_setup = CAMRTC_SDP_SETUP_ACTIVE;
        return CAMRTC_OK;
    default:
        sdp_reason(x->reason, x->reasonsz, "offer a=setup:holdconn");
        return CAMRTC_EUNSUPPORTED;
    }
}

/* The remote transport: ICE credentials and a sha-256 fingerprint are what WebRTC needs
 * (RFC 8829 §5.8 rejects descriptions without them). */
static int read_remote_transport(const camrtc_sdp *remote, const camrtc_sdp_media *tm, camrtc_sdp_negotiated *neg,
                                 char *reason, size_t reasonsz)
{
    const camrtc_sdp_fingerprint *fp = camrtc_sdp_get_fingerprint(remote, tm);
    neg->remote_ufrag = camrtc_sdp_ice_ufrag(remote, tm);
    neg->remote_pwd = camrtc_sdp_ice_pwd(remote, tm);
    if (!neg->remote_ufrag || !neg->remote_pwd) {
        REASON("no ICE credentials for mid %s", tm->mid ? tm->mid : "(none)");
        return CAMRTC_EUNSUPPORTED;
    }
    if (fp->len != 32 || strcmp(fp->alg, "sha-256") != 0) {
        REASON("no sha-256 fingerprint for mid %s", tm->mid ? tm->mid : "(none)");
        return CAMRTC_EUNSUPPORTED;
    }
    neg->remote_fingerprint = *fp;
    neg->remote_trickle = remote->ice_trickle;
    neg->remote_ice_lite = remote->ice_lite;
    neg->transport = tm;
    return CAMRTC_OK;
}

/* One offered section: accept video or audio, reject the rest. *accepted says which. */
static void answer_section(answer_ctx *x, size_t i, char *video_reason, size_t vrsz, bool *accepted)
{
    const camrtc_sdp_media *om = &x->offer->media[i];
    camrtc_sdp_media *am = &x->b.sdp->media[i];
    *accepted = false;
    if (transport_ok(x, om) && om->rtp && om->rtcp_mux) {
        if (om->type == CAMRTC_SDP_VIDEO && !x->neg->video) {
            sdp_h264_choice ch;
            sdp_h264_prefs prefs = prefs_of(&x->cfg->local);
            if (sdp_h264_choose(om, &prefs, &ch, video_reason, vrsz) == CAMRTC_OK) {
                answer_video(x, am, om, &ch);
                *accepted = true;
            }
        } else if (om->type == CAMRTC_SDP_AUDIO && x->cfg->accept_audio && !x->neg->audio) {
            *accepted = answer_audio(x, am, om);
        }
    } else if (om->type == CAMRTC_SDP_VIDEO && !x->neg->video && video_reason[0] == '\0') {
        snprintf(video_reason, vrsz, "video section %s is disabled, not bundled or without rtcp-mux",
                 om->mid ? om->mid : "(no mid)");
    }
    if (!*accepted) {
        add_rejected(&x->b, am, om, &x->cfg->local, x->our_setup);
        x->neg->rejected++;
    }
}

/* The transport section: the first accepted one in the offer's BUNDLE order (the
 * offer's tag when we accept it; RFC 8843 §7.3.1), else the first accepted. */
static size_t pick_transport(const camrtc_sdp *offer, const bool *accepted)
{
    for (size_t k = 0; k < offer->n_bundle; k++)
        for (size_t i = 0; i < offer->n_media; i++)
            if (accepted[i] && offer->media[i].mid && strcmp(offer->media[i].mid, offer->bundle[k]) == 0)
                return i;
    for (size_t i = 0; i < offer->n_media; i++)
        if (accepted[i])
            return i;
    return SIZE_MAX;
}

static int finish_answer(answer_ctx *x, const bool *accepted)
{
    const camrtc_sdp *offer = x->offer;
    camrtc_sdp *ans = x->b.sdp;
    size_t t = pick_transport(offer, accepted);
    /* Candidates go in the tagged section only: the others share its transport. */
    const camrtc_sdp_local *l = &x->cfg->local;
    camrtc_sdp_media *tm = &ans->media[t];
    for (size_t i = 0; i < l->n_candidates && tm->n_candidates < CAMRTC_SDP_MAX_CANDIDATES; i++)
        tm->candidates[tm->n_candidates++] = dup(&x->b, l->candidates[i]);
    tm->end_of_candidates = l->end_of_candidates;
    if (offer->n_bundle > 0) {
        ans->bundle[ans->n_bundle++] = tm->mid;
        for (size_t k = 0; k < offer->n_bundle; k++)
            for (size_t i = 0; i < offer->n_media; i++)
                if (i != t && accepted[i] && offer->media[i].mid && strcmp(offer->media[i].mid, offer->bundle[k]) == 0)
                    ans->bundle[ans->n_bundle++] = ans->media[i].mid;
    }
    return read_remote_transport(offer, &offer->media[t], x->neg, x->reason, x->reasonsz);
}

int camrtc_sdp_answer(const camrtc_sdp *offer, const camrtc_sdp_answer_config *cfg, camrtc_sdp **answer,
                      camrtc_sdp_negotiated *neg, char *reason, size_t reasonsz)
{
    *answer = NULL;
    memset(neg, 0, sizeof *neg);
    neg->rtx_pt = -1;
    REASON("%s", "");
    if (!offer || !cfg)
        return CAMRTC_EINVAL;
    int rc = check_local(&cfg->local, reason, reasonsz);
    if (rc != CAMRTC_OK)
        return rc;
    if (cfg->video_send && cfg->local.video_ssrc == 0) {
        REASON("video_send needs a video_ssrc");
        return CAMRTC_EINVAL;
    }
    answer_ctx x = {.offer = offer, .cfg = cfg, .neg = neg, .reason = reason, .reasonsz = reasonsz};
    camrtc_sdp *ans = new_session(&cfg->local, &x.b);
    if (!ans)
        return CAMRTC_ENOMEM;
    rc = choose_setup(&x, offered_setup(offer));
    bool accepted[CAMRTC_SDP_MAX_MEDIA] = {false};
    char video_reason[256] = "";
    if (rc == CAMRTC_OK) {
        ans->n_media = offer->n_media;
        for (size_t i = 0; i < offer->n_media; i++) {
            answer_section(&x, i, video_reason, sizeof video_reason, &accepted[i]);
            if (accepted[i] && !x.transport)
                x.transport = &offer->media[i];
        }
        if (!neg->video) {
            bool any_video = false;
            for (size_t i = 0; i < offer->n_media; i++)
                any_video |= offer->media[i].type == CAMRTC_SDP_VIDEO;
            REASON("%s", any_video ? video_reason : "the offer has no video section");
            rc = CAMRTC_EUNSUPPORTED;
        }
    }
    if (rc == CAMRTC_OK)
        rc = finish_answer(&x, accepted);
    if (rc == CAMRTC_OK && x.b.rc != CAMRTC_OK)
        rc = x.b.rc;
    if (rc != CAMRTC_OK) {
        camrtc_sdp_free(ans);
        camrtc_sdp_negotiated empty = {.rtx_pt = -1};
        *neg = empty;
        return rc;
    }
    neg->dtls_client = x.our_setup == CAMRTC_SDP_SETUP_ACTIVE;
    *answer = ans;
    return CAMRTC_OK;
}

/* Refusing a whole offer: every section rejected, in the offer's order. There is no
 * BUNDLE group (RFC 8843 §7.3.3: a rejected section's mid leaves the group, and a group
 * with no mid is not written) and no candidate: nothing is to be connected. */
int camrtc_sdp_reject_offer(const camrtc_sdp *offer, const camrtc_sdp_local *local, camrtc_sdp **answer)
{
    *answer = NULL;
    if (!offer || (local && check_local(local, NULL, 0) != CAMRTC_OK))
        return CAMRTC_EINVAL;
    static const camrtc_sdp_local no_local;   /* only for the o= line and the session flags */
    builder b;
    camrtc_sdp *ans = new_session(local ? local : &no_local, &b);
    if (!ans)
        return CAMRTC_ENOMEM;
    ans->ice_trickle = false;
    /* An answer's a=setup is active or passive (RFC 8842 §5.3); even to a holdconn offer. */
    camrtc_sdp_setup setup = offered_setup(offer) == CAMRTC_SDP_SETUP_ACTIVE ? CAMRTC_SDP_SETUP_PASSIVE
                                                                           : CAMRTC_SDP_SETUP_ACTIVE;
    for (size_t i = 0; i < offer->n_media; i++)
        add_rejected(&b, &ans->media[ans->n_media++], &offer->media[i], local, setup);
    if (b.rc != CAMRTC_OK) {
        camrtc_sdp_free(ans);
        return b.rc;
    }
    *answer = ans;
    return CAMRTC_OK;
}

/* Port 0 rejects a section unless a=bundle-only says it rides on the BUNDLE transport
 * (RFC 8843 §6). */
static bool section_rejected(const camrtc_sdp_media *m)
{
    return m->port == 0 && !m->bundle_only;
}

bool camrtc_sdp_answer_rejects_video(const camrtc_sdp *answer, bool *all_rejected)
{
    size_t video = 0, video_rejected = 0, rejected = 0;
    for (size_t i = 0; answer && i < answer->n_media; i++) {
        const camrtc_sdp_media *m = &answer->media[i];
        rejected += section_rejected(m);
        if (m->type == CAMRTC_SDP_VIDEO) {
            video++;
            video_rejected += section_rejected(m);
        }
    }
    if (all_rejected)
        *all_rejected = answer && answer->n_media > 0 && rejected == answer->n_media;
    return video > 0 && video_rejected == video;
}

/* ---- offering ------------------------------------------------------------------------- */

/* The H.264 payload types the viewer offers, most preferred first. */
static const struct {
    uint8_t pt;
    uint8_t profile_idc, profile_iop;
    int mode;
} offer_h264[] = {
    {102, 0x42, 0xe0, 1}, {104, 0x42, 0xe0, 0}, {106, 0x42, 0x00, 1}, {108, 0x4d, 0x00, 1}, {110, 0x64, 0x0c, 1},
};

int camrtc_sdp_create_offer(const camrtc_sdp_offer_config *cfg, camrtc_sdp **offer)
{
    *offer = NULL;
    if (!cfg || check_local(&cfg->local, NULL, 0) != CAMRTC_OK)
        return CAMRTC_EINVAL;
    const camrtc_sdp_local *l = &cfg->local;
    camrtc_sdp_direction dir = cfg->video_direction;
    if (dir > CAMRTC_SDP_INACTIVE || (sends(dir) && l->video_ssrc == 0))
        return CAMRTC_EINVAL;
    builder b;
    camrtc_sdp *sdp = new_session(l, &b);
    if (!sdp)
        return CAMRTC_ENOMEM;
    camrtc_sdp_media *m = &sdp->media[sdp->n_media++];
    m->type = CAMRTC_SDP_VIDEO;
    m->media = dup(&b, "video");
    m->proto = dup(&b, "UDP/TLS/RTP/SAVPF");
    m->rtp = true;
    m->port = 9;
    m->mid = dup(&b, "0");
    m->direction = dir;
    m->rtcp_rsize = true;
    add_transport(&b, m, l, CAMRTC_SDP_SETUP_ACTPASS, true);   /* RFC 8842 §5.2 */
    sdp->bundle[sdp->n_bundle++] = m->mid;

    sdp_h264_prefs prefs = prefs_of(l);
    unsigned fb = bits_or(l->feedback, CAMRTC_SDP_FB_ALL);
    for (size_t i = 0; i < sizeof offer_h264 / sizeof offer_h264[0]; i++) {
        camrtc_sdp_h264_profile p = camrtc_sdp_h264_profile_of(offer_h264[i].profile_idc, offer_h264[i].profile_iop);
        if (!(prefs.profiles & (1u << p)) || (offer_h264[i].mode == 0 && prefs.no_mode0))
            continue;
        char plid[7], fmtp[128];
        sdp_h264_plid_format(plid, offer_h264[i].profile_idc, offer_h264[i].profile_iop, prefs.max_level);
        snprintf(fmtp, sizeof fmtp, "level-asymmetry-allowed=1;packetization-mode=%d;profile-level-id=%s",
                 offer_h264[i].mode, plid);
        add_codec(&b, m, offer_h264[i].pt, "H264", 90000, 0, fmtp);
        for (size_t k = 0; k < N_FEEDBACK; k++)
            if (fb & feedback_names[k].bit)
                add_fb(&b, m, offer_h264[i].pt, feedback_names[k].value);
        if (!l->no_rtx) {
            char apt[16];
            snprintf(apt, sizeof apt, "apt=%u", offer_h264[i].pt);
            add_codec(&b, m, (uint8_t)(offer_h264[i].pt + 1), "rtx", 90000, 0, apt);
        }
    }
    unsigned ext = bits_or(l->extensions, CAMRTC_SDP_EXT_ALL);
    for (size_t k = 0; k < N_EXTENSIONS; k++)
        if (ext & extension_uris[k].bit)
            add_extmap(&b, m, (uint16_t)(k + 1), extension_uris[k].uri);
    if (sends(dir))
        add_sender(&b, m, l, !l->no_rtx && l->rtx_ssrc != 0);
    if (b.rc != CAMRTC_OK || m->n_codecs == 0) {
        camrtc_sdp_free(sdp);
        return b.rc != CAMRTC_OK ? b.rc : CAMRTC_EINVAL;
    }
    *offer = sdp;
    return CAMRTC_OK;
}

/* ---- reading the answer to our offer ---------------------------------------------------- */

static const camrtc_sdp_media *find_mid(const camrtc_sdp *sdp, const char *mid)
{
    for (size_t i = 0; mid && i < sdp->n_media; i++)
        if (sdp->media[i].mid && strcmp(sdp->media[i].mid, mid) == 0)
            return &sdp->media[i];
    return NULL;
}

/* The answer may only use an extension with the id we offered it under (RFC 8285 §7). */
static bool offered_ext(const camrtc_sdp_media *om, const camrtc_sdp_extmap *e)
{
    for (size_t i = 0; i < om->n_extmap; i++)
        if (om->extmap[i].id == e->id && strcmp(om->extmap[i].uri, e->uri) == 0)
            return true;
    return false;
}

/* The answer's H.264 payload type: the first on its m= line that we offered as H.264,
 * with the same profile (RFC 6184 §8.2.2: the answer may lower the level, not change the
 * profile). */
static int pick_answered_h264(const camrtc_sdp_media *om, const camrtc_sdp_media *am, camrtc_sdp_negotiated *neg,
                              char *reason, size_t reasonsz)
{
    for (size_t i = 0; i < am->n_codecs; i++) {
        const camrtc_sdp_codec *ac = &am->codecs[i];
        const camrtc_sdp_codec *oc = camrtc_sdp_find_codec(om, ac->pt);
        camrtc_sdp_h264_fmtp af, of;
        if (!oc || !oc->name || strcmp(oc->name, "H264") != 0 || camrtc_sdp_h264_fmtp_parse(&of, oc->fmtp) ||
            camrtc_sdp_h264_fmtp_parse(&af, ac->fmtp) || af.profile != of.profile ||
            af.packetization_mode != of.packetization_mode)
            continue;
        neg->video_pt = ac->pt;
        neg->profile = af.profile;
        neg->profile_idc = af.profile_idc;
        neg->profile_iop = af.profile_iop;
        neg->send_level = af.level;
        neg->packetization_mode = af.packetization_mode;
        neg->encode_profile = encode_profile_of(af.profile);
        int rtx = sdp_rtx_for(am, ac->pt);
        neg->rtx_pt = rtx >= 0 && camrtc_sdp_find_codec(om, rtx) ? rtx : -1;
        return CAMRTC_OK;
    }
    REASON("the answer's video section has no H.264 payload type we offered (same profile and mode)");
    return CAMRTC_EUNSUPPORTED;
}

int camrtc_sdp_accept_answer(const camrtc_sdp *offer, const camrtc_sdp *answer, camrtc_sdp_negotiated *neg,
                             char *reason, size_t reasonsz)
{
    memset(neg, 0, sizeof *neg);
    neg->rtx_pt = -1;
    REASON("%s", "");
    if (!offer || !answer || offer->n_media == 0)
        return CAMRTC_EINVAL;
    const camrtc_sdp_media *om = &offer->media[0];
    const camrtc_sdp_media *am = find_mid(answer, om->mid);
    if (!am || am->type != CAMRTC_SDP_VIDEO || am->port == 0) {
        REASON("the answer rejects or lacks video mid %s", om->mid ? om->mid : "");
        return CAMRTC_EUNSUPPORTED;
    }
    int rc = pick_answered_h264(om, am, neg, reason, reasonsz);
    if (rc != CAMRTC_OK)
        return rc;
    const camrtc_sdp_media *tm = answer->n_bundle ? find_mid(answer, answer->bundle[0]) : am;
    rc = read_remote_transport(answer, tm ? tm : am, neg, reason, reasonsz);
    if (rc != CAMRTC_OK)
        return rc;
    switch (camrtc_sdp_get_setup(answer, tm ? tm : am)) {
    case CAMRTC_SDP_SETUP_ACTIVE: neg->dtls_client = false; break;
    case CAMRTC_SDP_SETUP_PASSIVE:
    case CAMRTC_SDP_SETUP_NONE: neg->dtls_client = true; break;   /* RFC 4145 §4: passive */
    default:
        REASON("the answer's a=setup must be active or passive");
        return CAMRTC_EPROTO;
    }
    /* Our offer listed only what we implement: keep what both sides list. */
    for (size_t i = 0; i < N_FEEDBACK; i++)
        if (sdp_has_fb(am, neg->video_pt, feedback_names[i].value) &&
            sdp_has_fb(om, neg->video_pt, feedback_names[i].value))
            neg->feedback |= feedback_names[i].bit;
    int *ids[N_EXTENSIONS] = {&neg->ext_mid, &neg->ext_abs_send_time, &neg->ext_twcc};
    for (size_t i = 0; i < am->n_extmap; i++)
        for (size_t k = 0; k < N_EXTENSIONS; k++)
            if (strcmp(am->extmap[i].uri, extension_uris[k].uri) == 0 && *ids[k] == 0 &&
                offered_ext(om, &am->extmap[i]))
                *ids[k] = am->extmap[i].id;
    neg->video = true;
    neg->video_mid = am->mid;
    /* Our direction is the mirror of the answer's. */
    static const camrtc_sdp_direction mirror[] = {CAMRTC_SDP_SENDRECV, CAMRTC_SDP_RECVONLY, CAMRTC_SDP_SENDONLY,
                                                  CAMRTC_SDP_INACTIVE};
    neg->video_direction = mirror[am->direction];
    for (size_t i = 0; i < answer->n_media; i++)
        neg->rejected += answer->media[i].port == 0;
    return CAMRTC_OK;
}
