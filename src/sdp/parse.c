/* SDP parser (RFC 8866 §5) for the descriptions WebRTC peers exchange.
 *
 * The text is remote input: every line is bounded (CAMRTC_SDP_MAX_LINE), copied into a
 * local buffer, and split with explicit lengths. The attributes this module interprets
 * are checked and a bad value fails the whole description (an offer we misread is worse
 * than one we refuse); anything else is kept as a name/value pair or, past a bound,
 * dropped and counted in sdp->dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "sdp/sdp_int.h"

typedef struct parser {
    camrtc_sdp *sdp;
    camrtc_sdp_media *m;               /* current media section, NULL at session level */
    size_t lineno;
    char *reason;
    size_t reasonsz;
    bool seen_o, seen_s, seen_t;
} parser;

/* Fail with a reason naming the line. */
#define FAIL(p, err, ...)                                                                     \
    do {                                                                                      \
        char why_[160];                                                                       \
        snprintf(why_, sizeof why_, __VA_ARGS__);                                             \
        sdp_reason((p)->reason, (p)->reasonsz, "line %zu: %s", (p)->lineno, why_);            \
        return (err);                                                                         \
    } while (0)

/* ---- small lexical helpers ---------------------------------------------------------------- */

/* Next space-separated token of *s (runs of spaces are one separator). */
static bool next_token(const char **s, const char **tok, size_t *len)
{
    const char *p = *s;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return false;
    const char *start = p;
    while (*p != ' ' && *p != '\0')
        p++;
    *tok = start;
    *len = (size_t)(p - start);
    *s = p;
    return true;
}

/* Decimal digits only (no sign), at most max; false on overflow or no digit. */
static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* A token (RFC 8866 §9 token-char): printable ASCII without space and a few separators. */
static bool is_token(const char *s, size_t n, size_t maxlen)
{
    if (n == 0 || n > maxlen)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            return false;
    }
    return true;
}

/* ice-char (RFC 8839 §5.4): ALPHA / DIGIT / "+" / "/". */
static bool is_ice_chars(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return false;
    }
    return true;
}

static int keep(parser *p, const char **dst, const char *s, size_t n)
{
    *dst = sdp_strndup(p->sdp, s, n);
    return *dst ? CAMRTC_OK : CAMRTC_ENOMEM;
}

/* Keep an attribute we do not interpret, or count it when the table is full. */
static int keep_attr(parser *p, camrtc_sdp_attr *attrs, size_t *n, const char *name, const char *value)
{
    if (*n >= CAMRTC_SDP_MAX_ATTRS) {
        p->sdp->dropped++;
        return CAMRTC_OK;
    }
    camrtc_sdp_attr *a = &attrs[*n];
    if (keep(p, &a->name, name, strlen(name)) != CAMRTC_OK ||
        (value && keep(p, &a->value, value, strlen(value)) != CAMRTC_OK))
        return CAMRTC_ENOMEM;
    if (!value)
        a->value = NULL;
    (*n)++;
    return CAMRTC_OK;
}

/* Index of payload type pt on the current m= line, or -1. */
static int codec_index(const camrtc_sdp_media *m, uint64_t pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return (int)i;
    return -1;
}

/* Read "<pt> " at the start of v: the codec it names on this m= line. *rest is what
 * follows the space. Returns the index, -1 for a payload type not on the line (the
 * caller drops the attribute), or CAMRTC_EPROTO. */
static int read_pt(parser *p, const char *v, const char **rest)
{
    const char *sp = strchr(v, ' ');
    uint64_t pt;
    if (!sp || !parse_uint(v, (size_t)(sp - v), 127, &pt))
        return CAMRTC_EPROTO;
    *rest = sp + 1;
    return codec_index(p->m, pt);
}

/* ---- session-level lines ------------------------------------------------------------------ */

static int parse_origin(parser *p, const char *v)
{
    const char *tok[6];
    size_t len[6];
    for (int i = 0; i < 6; i++)
        if (!next_token(&v, &tok[i], &len[i]))
            FAIL(p, CAMRTC_EPROTO, "o= needs six fields");
    const char *extra;
    size_t elen;
    if (next_token(&v, &extra, &elen))
        FAIL(p, CAMRTC_EPROTO, "o= has more than six fields");
    if (!parse_uint(tok[1], len[1], UINT64_MAX, &p->sdp->sess_id) ||
        !parse_uint(tok[2], len[2], UINT64_MAX, &p->sdp->sess_version))
        FAIL(p, CAMRTC_EPROTO, "o= session id or version is not a number");
    if (keep(p, &p->sdp->origin_user, tok[0], len[0]) != CAMRTC_OK ||
        keep(p, &p->sdp->origin_addr, tok[3], (size_t)(tok[5] + len[5] - tok[3])) != CAMRTC_OK)
        return CAMRTC_ENOMEM;
    p->seen_o = true;
    return CAMRTC_OK;
}

static int parse_timing(parser *p, const char *v)
{
    const char *a, *b, *c;
    size_t alen, blen, clen;
    if (!next_token(&v, &a, &alen) || !next_token(&v, &b, &blen) || next_token(&v, &c, &clen) ||
        !parse_uint(a, alen, UINT64_MAX, &p->sdp->t_start) || !parse_uint(b, blen, UINT64_MAX, &p->sdp->t_stop))
        FAIL(p, CAMRTC_EPROTO, "t= needs two numbers");
    p->seen_t = true;
    return CAMRTC_OK;
}

/* a=group:BUNDLE mid... (RFC 8843 §9.1). Other groups (LS, ...) are kept as attributes. */
static int parse_group(parser *p, const char *v, bool *handled)
{
    *handled = false;
    if (strncmp(v, "BUNDLE", 6) != 0 || (v[6] != ' ' && v[6] != '\0') || p->sdp->n_bundle > 0)
        return CAMRTC_OK;
    *handled = true;
    v += 6;
    const char *tok;
    size_t len;
    while (next_token(&v, &tok, &len)) {
        if (!is_token(tok, len, 64))
            FAIL(p, CAMRTC_EPROTO, "bad mid in BUNDLE group");
        if (p->sdp->n_bundle >= CAMRTC_SDP_MAX_MEDIA)
            FAIL(p, CAMRTC_ETOOBIG, "BUNDLE group longer than %d", CAMRTC_SDP_MAX_MEDIA);
        if (keep(p, &p->sdp->bundle[p->sdp->n_bundle++], tok, len) != CAMRTC_OK)
            return CAMRTC_ENOMEM;
    }
    return CAMRTC_OK;
}

static int parse_ice_options(parser *p, const char *v)
{
    const char *tok;
    size_t len;
    while (next_token(&v, &tok, &len))
        if (len == 7 && strncmp(tok, "trickle", 7) == 0)
            p->sdp->ice_trickle = true;
    return CAMRTC_OK;
}

/* ---- attributes valid at both levels ------------------------------------------------------ */

static int parse_setup(parser *p, const char *v, camrtc_sdp_setup *out)
{
    static const char *const names[] = {"", "actpass", "active", "passive", "holdconn"};
    for (int i = 1; i < 5; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = (camrtc_sdp_setup)i;
            return CAMRTC_OK;
        }
    FAIL(p, CAMRTC_EPROTO, "a=setup:%.16s is not actpass, active, passive or holdconn", v);
}

static int parse_fingerprint(parser *p, const char *v, camrtc_sdp_fingerprint *out)
{
    camrtc_sdp_fingerprint fp;
    int rc = camrtc_sdp_fingerprint_parse(&fp, v);
    if (rc == CAMRTC_EUNSUPPORTED) {
        p->sdp->dropped++;             /* another hash may follow on its own line */
        return CAMRTC_OK;
    }
    if (rc != CAMRTC_OK)
        FAIL(p, CAMRTC_EPROTO, "malformed a=fingerprint");
    /* Several lines may be given; sha-256 is the one WebRTC requires (RFC 8827 §6.5). */
    if (out->len == 0 || (strcmp(out->alg, "sha-256") != 0 && strcmp(fp.alg, "sha-256") == 0))
        *out = fp;
    return CAMRTC_OK;
}

static int parse_ice_cred(parser *p, const char *v, const char **dst, bool pwd)
{
    /* RFC 8839 §5.4: ufrag 4..256 ice-chars, pwd 22..256. */
    if (!is_ice_chars(v, pwd ? 22 : 4, 256))
        FAIL(p, CAMRTC_EPROTO, "bad a=%s", pwd ? "ice-pwd" : "ice-ufrag");
    return keep(p, dst, v, strlen(v));
}

/* Attributes both levels share. *handled false when name is none of them. */
static int parse_common_attr(parser *p, const char *name, const char *v, const char **ufrag, const char **pwd,
                             camrtc_sdp_fingerprint *fp, camrtc_sdp_setup *setup, bool *handled)
{
    *handled = true;
    if (strcmp(name, "ice-ufrag") == 0 && v)
        return parse_ice_cred(p, v, ufrag, false);
    if (strcmp(name, "ice-pwd") == 0 && v)
        return parse_ice_cred(p, v, pwd, true);
    if (strcmp(name, "fingerprint") == 0 && v)
        return parse_fingerprint(p, v, fp);
    if (strcmp(name, "setup") == 0 && v)
        return parse_setup(p, v, setup);
    if (strcmp(name, "ice-options") == 0 && v)
        return parse_ice_options(p, v);
    if (strcmp(name, "ice-lite") == 0 && !v) {
        p->sdp->ice_lite = true;
        return CAMRTC_OK;
    }
    *handled = false;
    return CAMRTC_OK;
}

static int parse_session_attr(parser *p, const char *name, const char *v)
{
    camrtc_sdp *sdp = p->sdp;
    bool handled;
    int rc = parse_common_attr(p, name, v, &sdp->ice_ufrag, &sdp->ice_pwd, &sdp->fingerprint, &sdp->setup, &handled);
    if (handled)
        return rc;
    if (strcmp(name, "group") == 0 && v) {
        rc = parse_group(p, v, &handled);
        if (handled || rc != CAMRTC_OK)
            return rc;
    } else if (strcmp(name, "msid-semantic") == 0 && v) {
        while (*v == ' ')            /* Chromium writes "msid-semantic: WMS" */
            v++;
        return keep(p, &sdp->msid_semantic, v, strlen(v));
    }
    return keep_attr(p, sdp->attrs, &sdp->n_attrs, name, v);
}

/* ---- media-level lines --------------------------------------------------------------------- */

static int parse_media_line(parser *p, const char *v)
{
    camrtc_sdp *sdp = p->sdp;
    if (sdp->n_media >= CAMRTC_SDP_MAX_MEDIA)
        FAIL(p, CAMRTC_ETOOBIG, "more than %d m= sections", CAMRTC_SDP_MAX_MEDIA);
    camrtc_sdp_media *m = &sdp->media[sdp->n_media++];
    p->m = m;
    const char *media, *port, *proto;
    size_t mlen, plen, prlen;
    if (!next_token(&v, &media, &mlen) || !next_token(&v, &port, &plen) || !next_token(&v, &proto, &prlen))
        FAIL(p, CAMRTC_EPROTO, "m= needs media, port, proto and formats");
    if (!is_token(media, mlen, 32))
        FAIL(p, CAMRTC_EPROTO, "bad m= media");
    /* proto is tokens joined by '/' (RFC 8866 §5.14). */
    if (prlen > 64)
        FAIL(p, CAMRTC_EPROTO, "bad m= proto");
    for (size_t i = 0; i < prlen; i++)
        if (!is_token(&proto[i], 1, 1) && proto[i] != '/')
            FAIL(p, CAMRTC_EPROTO, "bad m= proto");
    /* port[/number of ports] */
    const char *slash = memchr(port, '/', plen);
    uint64_t portv, nports;
    if (!parse_uint(port, slash ? (size_t)(slash - port) : plen, 65535, &portv) ||
        (slash && !parse_uint(slash + 1, (size_t)(port + plen - slash - 1), 65535, &nports)))
        FAIL(p, CAMRTC_EPROTO, "bad m= port");
    m->port = (uint16_t)portv;
    if (keep(p, &m->media, media, mlen) != CAMRTC_OK || keep(p, &m->proto, proto, prlen) != CAMRTC_OK)
        return CAMRTC_ENOMEM;
    m->type = strcmp(m->media, "audio") == 0         ? CAMRTC_SDP_AUDIO
              : strcmp(m->media, "video") == 0       ? CAMRTC_SDP_VIDEO
              : strcmp(m->media, "application") == 0 ? CAMRTC_SDP_APPLICATION
                                                     : CAMRTC_SDP_OTHER;
    m->rtp = strstr(m->proto, "RTP/") != NULL;
    while (*v == ' ')
        v++;
    if (*v == '\0')
        FAIL(p, CAMRTC_EPROTO, "m= without formats");
    if (keep(p, &m->fmt, v, strlen(v)) != CAMRTC_OK)
        return CAMRTC_ENOMEM;
    if (!m->rtp)
        return CAMRTC_OK;
    /* RTP: each format is a payload type (RFC 3551). */
    const char *tok;
    size_t len;
    while (next_token(&v, &tok, &len)) {
        uint64_t pt;
        if (!parse_uint(tok, len, 127, &pt))
            FAIL(p, CAMRTC_EPROTO, "m= payload type %.8s is not 0..127", tok);
        if (codec_index(m, pt) >= 0)
            FAIL(p, CAMRTC_EPROTO, "payload type %u twice on the m= line", (unsigned)pt);
        if (m->n_codecs >= CAMRTC_SDP_MAX_FMTS)
            FAIL(p, CAMRTC_ETOOBIG, "more than %d payload types", CAMRTC_SDP_MAX_FMTS);
        m->codecs[m->n_codecs++].pt = (uint8_t)pt;
    }
    return CAMRTC_OK;
}

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] (RFC 8866 §6.6). */
static int parse_rtpmap(parser *p, const char *v)
{
    const char *rest;
    int idx = read_pt(p, v, &rest);
    if (idx == CAMRTC_EPROTO)
        FAIL(p, CAMRTC_EPROTO, "malformed a=rtpmap");
    if (idx < 0) {
        p->sdp->dropped++;
        return CAMRTC_OK;
    }
    camrtc_sdp_codec *c = &p->m->codecs[idx];
    if (c->name)
        FAIL(p, CAMRTC_EPROTO, "second a=rtpmap for payload type %u", c->pt);
    const char *s1 = strchr(rest, '/');
    if (!s1 || !is_token(rest, (size_t)(s1 - rest), 32))
        FAIL(p, CAMRTC_EPROTO, "malformed a=rtpmap encoding name");
    const char *s2 = strchr(s1 + 1, '/');
    size_t clen = s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1);
    uint64_t clock, ch = 0;
    if (!parse_uint(s1 + 1, clen, UINT32_MAX, &clock) || clock == 0 ||
        (s2 && (!parse_uint(s2 + 1, strlen(s2 + 1), 255, &ch) || ch == 0)))
        FAIL(p, CAMRTC_EPROTO, "malformed a=rtpmap clock rate or channels");
    c->clock = (uint32_t)clock;
    c->channels = (uint8_t)ch;
    return keep(p, &c->name, rest, (size_t)(s1 - rest));
}

/* a=fmtp:<pt> <parameters>: kept as text; codecs parse their own (sdp_h264.c). */
static int parse_fmtp(parser *p, const char *v)
{
    const char *rest;
    int idx = read_pt(p, v, &rest);
    if (idx == CAMRTC_EPROTO)
        FAIL(p, CAMRTC_EPROTO, "malformed a=fmtp");
    if (idx < 0) {
        p->sdp->dropped++;
        return CAMRTC_OK;
    }
    camrtc_sdp_codec *c = &p->m->codecs[idx];
    if (c->fmtp)
        FAIL(p, CAMRTC_EPROTO, "second a=fmtp for payload type %u", c->pt);
    return keep(p, &c->fmtp, rest, strlen(rest));
}

/* a=rtcp-fb:<pt|*> <type> [<subtype>] (RFC 4585 §4.2). */
static int parse_rtcp_fb(parser *p, const char *v)
{
    camrtc_sdp_media *m = p->m;
    int pt = -1;
    const char *rest;
    if (v[0] == '*' && v[1] == ' ') {
        rest = v + 2;
    } else {
        int idx = read_pt(p, v, &rest);
        if (idx == CAMRTC_EPROTO)
            FAIL(p, CAMRTC_EPROTO, "malformed a=rtcp-fb");
        if (idx < 0) {
            p->sdp->dropped++;
            return CAMRTC_OK;
        }
        pt = m->codecs[idx].pt;
    }
    if (*rest == '\0' || *rest == ' ')
        FAIL(p, CAMRTC_EPROTO, "a=rtcp-fb without a type");
    if (m->n_rtcp_fb >= CAMRTC_SDP_MAX_RTCP_FB) {
        p->sdp->dropped++;
        return CAMRTC_OK;
    }
    camrtc_sdp_rtcp_fb *fb = &m->rtcp_fb[m->n_rtcp_fb];
    fb->pt = pt;
    if (keep(p, &fb->value, rest, strlen(rest)) != CAMRTC_OK)
        return CAMRTC_ENOMEM;
    m->n_rtcp_fb++;
    return CAMRTC_OK;
}

/* a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §8). */
static int parse_extmap(parser *p, const char *v)
{
    camrtc_sdp_media *m = p->m;
    const char *idtok, *uri;
    size_t idlen, ulen;
    if (!next_token(&v, &idtok, &idlen) || !next_token(&v, &uri, &ulen))
        FAIL(p, CAMRTC_EPROTO, "malformed a=extmap");
    const char *slash = memchr(idtok, '/', idlen);
    uint64_t id;
    if (!parse_uint(idtok, slash ? (size_t)(slash - idtok) : idlen, 255, &id) || id == 0)
        FAIL(p, CAMRTC_EPROTO, "a=extmap id is not 1..255");
    for (size_t i = 0; i < m->n_extmap; i++)
        if (m->extmap[i].id == id)
            FAIL(p, CAMRTC_EPROTO, "a=extmap id %u twice", (unsigned)id);
    if (m->n_extmap >= CAMRTC_SDP_MAX_EXTMAP) {
        p->sdp->dropped++;
        return CAMRTC_OK;
    }
    camrtc_sdp_extmap *e = &m->extmap[m->n_extmap];
    memset(e, 0, sizeof *e);
    e->id = (uint16_t)id;
    while (*v == ' ')
        v++;
    if ((slash && keep(p, &e->direction, slash + 1, (size_t)(idtok + idlen - slash - 1)) != CAMRTC_OK) ||
        keep(p, &e->uri, uri, ulen) != CAMRTC_OK || (*v && keep(p, &e->attributes, v, strlen(v)) != CAMRTC_OK))
        return CAMRTC_ENOMEM;
    if (slash && !is_token(e->direction, strlen(e->direction), 16))
        FAIL(p, CAMRTC_EPROTO, "bad a=extmap direction");
    m->n_extmap++;
    return CAMRTC_OK;
}

/* a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1). */
static int parse_ssrc(parser *p, const char *v)
{
    camrtc_sdp_media *m = p->m;
    const char *sp = strchr(v, ' ');
    uint64_t ssrc;
    if (!sp || !parse_uint(v, (size_t)(sp - v), UINT32_MAX, &ssrc) || sp[1] == '\0' || sp[1] == ' ')
        FAIL(p, CAMRTC_EPROTO, "malformed a=ssrc");
    if (m->n_ssrcs >= CAMRTC_SDP_MAX_SSRC) {
        p->sdp->dropped++;
        return CAMRTC_OK;
    }
    m->ssrcs[m->n_ssrcs].ssrc = (uint32_t)ssrc;
    if (keep(p, &m->ssrcs[m->n_ssrcs].attr, sp + 1, strlen(sp + 1)) != CAMRTC_OK)
        return CAMRTC_ENOMEM;
    m->n_ssrcs++;
    return CAMRTC_OK;
}

/* a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2). */
static int parse_ssrc_group(parser *p, const char *v)
{
    camrtc_sdp_media *m = p->m;
    const char *sem, *tok;
    size_t slen, len;
    if (!next_token(&v, &sem, &slen) || !is_token(sem, slen, 16))
        FAIL(p, CAMRTC_EPROTO, "malformed a=ssrc-group");
    camrtc_sdp_ssrc_group g = {0};
    while (next_token(&v, &tok, &len)) {
        uint64_t ssrc;
        if (!parse_uint(tok, len, UINT32_MAX, &ssrc))
            FAIL(p, CAMRTC_EPROTO, "malformed a=ssrc-group ssrc");
        if (g.n >= sizeof g.ssrcs / sizeof g.ssrcs[0])
            FAIL(p, CAMRTC_ETOOBIG, "a=ssrc-group with more than 4 ssrcs");
        g.ssrcs[g.n++] = (uint32_t)ssrc;
    }
    if (g.n == 0)
        FAIL(p, CAMRTC_EPROTO, "a=ssrc-group without ssrcs");
    if (m->n_ssrc_groups >= CAMRTC_SDP_MAX_SSRC_GROUPS) {
        p->sdp->dropped++;
        return CAMRTC_OK;
    }
    if (keep(p, &g.semantics, sem, slen) != CAMRTC_OK)
        return CAMRTC_ENOMEM;
    m->ssrc_groups[m->n_ssrc_groups++] = g;
    return CAMRTC_OK;
}

static int parse_u16_attr(parser *p, const char *v, uint16_t *out, const char *what)
{
    uint64_t n;
    size_t len = strcspn(v, " ");
    if (!parse_uint(v, len, 65535, &n) || n == 0)
        FAIL(p, CAMRTC_EPROTO, "bad a=%s", what);
    *out = (uint16_t)n;
    return CAMRTC_OK;
}

/* a=sendrecv / sendonly / recvonly / inactive (RFC 3264 §5.1); false for other names. */
static bool set_direction(camrtc_sdp_media *m, const char *name)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            m->direction = (camrtc_sdp_direction)i;
            return true;
        }
    return false;
}

/* Flag attributes of a media section. */
static bool set_flag(camrtc_sdp_media *m, const char *name)
{
    bool *flag = strcmp(name, "rtcp-mux") == 0            ? &m->rtcp_mux
                 : strcmp(name, "rtcp-rsize") == 0        ? &m->rtcp_rsize
                 : strcmp(name, "end-of-candidates") == 0 ? &m->end_of_candidates
                 : strcmp(name, "bundle-only") == 0       ? &m->bundle_only
                                                          : NULL;
    if (flag)
        *flag = true;
    return flag != NULL;
}

static int parse_media_attr(parser *p, const char *name, const char *v)
{
    camrtc_sdp_media *m = p->m;
    bool handled = false;
    int rc = parse_common_attr(p, name, v, &m->ice_ufrag, &m->ice_pwd, &m->fingerprint, &m->setup, &handled);
    if (handled)
        return rc;
    if (!v) {
        if (set_direction(m, name) || set_flag(m, name))
            return CAMRTC_OK;
        return keep_attr(p, m->attrs, &m->n_attrs, name, v);
    }
    if (strcmp(name, "mid") == 0) {
        if (m->mid)
            FAIL(p, CAMRTC_EPROTO, "second a=mid in one m= section");
        if (!is_token(v, strlen(v), 64))
            FAIL(p, CAMRTC_EPROTO, "bad a=mid");
        for (size_t i = 0; i + 1 < p->sdp->n_media; i++)
            if (p->sdp->media[i].mid && strcmp(p->sdp->media[i].mid, v) == 0)
                FAIL(p, CAMRTC_EPROTO, "a=mid:%s used twice", v);
        return keep(p, &m->mid, v, strlen(v));
    }
    if (strcmp(name, "candidate") == 0) {
        if (m->n_candidates >= CAMRTC_SDP_MAX_CANDIDATES) {
            p->sdp->dropped++;
            return CAMRTC_OK;
        }
        /* Kept whole ("candidate:..."), for camrtc_ice_candidate_parse. */
        const char *c = sdp_printf(p->sdp, "candidate:%s", v);
        if (!c)
            return CAMRTC_ENOMEM;
        m->candidates[m->n_candidates++] = c;
        return CAMRTC_OK;
    }
    if (m->rtp && strcmp(name, "rtpmap") == 0)
        return parse_rtpmap(p, v);
    if (m->rtp && strcmp(name, "fmtp") == 0)
        return parse_fmtp(p, v);
    if (m->rtp && strcmp(name, "rtcp-fb") == 0)
        return parse_rtcp_fb(p, v);
    if (strcmp(name, "extmap") == 0)
        return parse_extmap(p, v);
    if (strcmp(name, "ssrc") == 0)
        return parse_ssrc(p, v);
    if (strcmp(name, "ssrc-group") == 0)
        return parse_ssrc_group(p, v);
    if (strcmp(name, "msid") == 0) {
        if (*v == '\0' || *v == ' ')
            FAIL(p, CAMRTC_EPROTO, "empty a=msid");
        return keep(p, &m->msid, v, strlen(v));
    }
    if (strcmp(name, "sctp-port") == 0)
        return parse_u16_attr(p, v, &m->sctp_port, "sctp-port");
    if (strcmp(name, "sctpmap") == 0)   /* the older form: "<port> webrtc-datachannel <streams>" */
        return parse_u16_attr(p, v, &m->sctp_port, "sctpmap");
    if (strcmp(name, "max-message-size") == 0) {
        uint64_t n;
        if (!parse_uint(v, strlen(v), UINT64_MAX, &n))
            FAIL(p, CAMRTC_EPROTO, "bad a=max-message-size");
        m->max_message_size = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        return CAMRTC_OK;
    }
    return keep_attr(p, m->attrs, &m->n_attrs, name, v);
}

/* ---- lines -------------------------------------------------------------------------------- */

/* a=<name>[:<value>] at either level. */
static int parse_attribute(parser *p, char *v)
{
    char *colon = strchr(v, ':');
    if (colon)
        *colon = '\0';
    if (!is_token(v, strlen(v), 64))
        FAIL(p, CAMRTC_EPROTO, "bad attribute name");
    const char *value = colon ? colon + 1 : NULL;
    return p->m ? parse_media_attr(p, v, value) : parse_session_attr(p, v, value);
}

static int parse_line(parser *p, char type, char *v)
{
    if (p->lineno == 1) {
        if (type != 'v' || strcmp(v, "0") != 0)
            FAIL(p, CAMRTC_EPROTO, "the first line must be v=0");
        return CAMRTC_OK;
    }
    if (!p->m && type != 'm') {
        switch (type) {
        case 'o':
            if (p->seen_o)
                FAIL(p, CAMRTC_EPROTO, "second o=");
            return parse_origin(p, v);
        case 's':
            if (p->seen_s)
                FAIL(p, CAMRTC_EPROTO, "second s=");
            p->seen_s = true;
            return keep(p, &p->sdp->name, v, strlen(v));
        case 't':
            return parse_timing(p, v);
        case 'a':
            return parse_attribute(p, v);
        case 'v':
            FAIL(p, CAMRTC_EPROTO, "second v=");
        default:
            p->sdp->dropped++;       /* i= u= e= p= c= b= z= k= r=: not used by WebRTC */
            return CAMRTC_OK;
        }
    }
    switch (type) {
    case 'm':
        if (!p->seen_o || !p->seen_s || !p->seen_t)
            FAIL(p, CAMRTC_EPROTO, "m= before o=, s= and t=");
        return parse_media_line(p, v);
    case 'a':
        return parse_attribute(p, v);
    case 'c':
        if (p->m->conn)
            FAIL(p, CAMRTC_EPROTO, "second c= in one m= section");
        return keep(p, &p->m->conn, v, strlen(v));
    case 'i':
    case 'b':
    case 'k':
        p->sdp->dropped++;
        return CAMRTC_OK;
    default:
        FAIL(p, CAMRTC_EPROTO, "%c= line inside an m= section", type);
    }
}

/* Checks that need the whole description. */
static int check_whole(parser *p)
{
    camrtc_sdp *sdp = p->sdp;
    if (!p->seen_o || !p->seen_s || !p->seen_t)
        FAIL(p, CAMRTC_EPROTO, "missing o=, s= or t=");
    for (size_t i = 0; i < sdp->n_bundle; i++) {
        bool found = false;
        for (size_t k = 0; k < sdp->n_media; k++)
            found |= sdp->media[k].mid && strcmp(sdp->media[k].mid, sdp->bundle[i]) == 0;
        if (!found)
            FAIL(p, CAMRTC_EPROTO, "BUNDLE names mid %.64s that no m= section has", sdp->bundle[i]);
    }
    return CAMRTC_OK;
}

/* Copy the next line of [*pos, end) into line; *pos moves past its end of line. */
static int next_line(parser *p, const char **pos, const char *end, char *line, size_t *len)
{
    const char *s = *pos;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *stop = nl ? nl : end;
    *pos = nl ? nl + 1 : end;
    if (stop > s && stop[-1] == '\r')
        stop--;
    size_t n = (size_t)(stop - s);
    if (n > CAMRTC_SDP_MAX_LINE)
        FAIL(p, CAMRTC_ETOOBIG, "longer than %d bytes", CAMRTC_SDP_MAX_LINE);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            FAIL(p, CAMRTC_EPROTO, "control character 0x%02x", c);
    }
    memcpy(line, s, n);
    line[n] = '\0';
    *len = n;
    return CAMRTC_OK;
}

int camrtc_sdp_parse(const char *text, size_t len, camrtc_sdp **out, char *reason, size_t reasonsz)
{
    *out = NULL;
    sdp_reason(reason, reasonsz, "%s", "");
    if (!text && len)
        return CAMRTC_EINVAL;
    if (len > CAMRTC_SDP_MAX_LEN) {
        sdp_reason(reason, reasonsz, "description longer than %d bytes", CAMRTC_SDP_MAX_LEN);
        return CAMRTC_ETOOBIG;
    }
    parser p = {.sdp = sdp_new(), .reason = reason, .reasonsz = reasonsz};
    if (!p.sdp)
        return CAMRTC_ENOMEM;
    const char *pos = text, *end = text + len;
    char line[CAMRTC_SDP_MAX_LINE + 1];
    int rc = CAMRTC_OK;
    while (rc == CAMRTC_OK && pos < end) {
        p.lineno++;
        if (p.lineno > CAMRTC_SDP_MAX_LINES) {
            sdp_reason(reason, reasonsz, "more than %d lines", CAMRTC_SDP_MAX_LINES);
            rc = CAMRTC_ETOOBIG;
            break;
        }
        size_t n;
        rc = next_line(&p, &pos, end, line, &n);
        if (rc != CAMRTC_OK)
            break;
        if (n == 0 && p.lineno > 1)
            continue;                /* a stray blank line: harmless */
        if (n < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
            sdp_reason(reason, reasonsz, "line %zu: not <type>=<value>", p.lineno);
            rc = CAMRTC_EPROTO;
            break;
        }
        rc = parse_line(&p, line[0], line + 2);
    }
    if (rc == CAMRTC_OK && p.lineno == 0) {
        sdp_reason(reason, reasonsz, "empty description");
        rc = CAMRTC_EPROTO;
    }
    if (rc == CAMRTC_OK)
        rc = check_whole(&p);
    if (rc != CAMRTC_OK) {
        if (rc == CAMRTC_ENOMEM)
            sdp_reason(reason, reasonsz, "out of memory");
        camrtc_sdp_free(p.sdp);
        return rc;
    }
    *out = p.sdp;
    return CAMRTC_OK;
}
