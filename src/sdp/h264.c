/* H.264 in SDP (RFC 6184 §8): profile-level-id, packetization-mode and
 * level-asymmetry-allowed, and the choice of the payload type to send.
 *
 * profile-level-id is three bytes in hex: profile_idc, profile-iop (the constraint_set
 * flags of the SPS) and level_idc. The same decoder capability can be written several
 * ways (a Constrained Baseline stream is also valid Baseline, Main and Extended), so
 * the profile is found by pattern, as in the table of RFC 6184 §8.1.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "sdp/sdp_h264.h"

/* RFC 6184 §8.1 table: a profile_idc, a mask over profile-iop and the bits it must have.
 * Rows are tried in order; the first match wins. Constrained High (640c) is not in the
 * RFC but is how WebRTC stacks label High without B-frames. */
static const struct {
    uint8_t idc, mask, value;
    camrtc_sdp_h264_profile profile;
} profile_table[] = {
    {0x42, 0x4f, 0x40, CAMRTC_SDP_H264_CONSTRAINED_BASELINE}, /* x1xx0000 */
    {0x42, 0x4f, 0x00, CAMRTC_SDP_H264_BASELINE},             /* x0xx0000 */
    {0x4d, 0x8f, 0x80, CAMRTC_SDP_H264_CONSTRAINED_BASELINE}, /* 1xxx0000 */
    {0x4d, 0xaf, 0x00, CAMRTC_SDP_H264_MAIN},                 /* 0x0x0000 */
    {0x58, 0xcf, 0xc0, CAMRTC_SDP_H264_CONSTRAINED_BASELINE}, /* 11xx0000 */
    {0x58, 0xcf, 0x80, CAMRTC_SDP_H264_BASELINE},             /* 10xx0000 */
    {0x64, 0xff, 0x00, CAMRTC_SDP_H264_HIGH},                 /* 00000000 */
    {0x64, 0xff, 0x0c, CAMRTC_SDP_H264_CONSTRAINED_HIGH},     /* 00001100 */
};

camrtc_sdp_h264_profile camrtc_sdp_h264_profile_of(uint8_t profile_idc, uint8_t profile_iop)
{
    for (size_t i = 0; i < sizeof profile_table / sizeof profile_table[0]; i++)
        if (profile_table[i].idc == profile_idc && (profile_iop & profile_table[i].mask) == profile_table[i].value)
            return profile_table[i].profile;
    return CAMRTC_SDP_H264_OTHER;
}

const char *camrtc_sdp_h264_profile_name(camrtc_sdp_h264_profile p)
{
    switch (p) {
    case CAMRTC_SDP_H264_CONSTRAINED_BASELINE: return "constrained-baseline";
    case CAMRTC_SDP_H264_BASELINE: return "baseline";
    case CAMRTC_SDP_H264_MAIN: return "main";
    case CAMRTC_SDP_H264_CONSTRAINED_HIGH: return "constrained-high";
    case CAMRTC_SDP_H264_HIGH: return "high";
    case CAMRTC_SDP_H264_OTHER: break;
    }
    return "other";
}

/* Levels of H.264 Table A-1 (level_idc = 10 x level number). */
static bool known_level(int level)
{
    static const int levels[] = {9, 10, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52, 60, 61, 62};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (levels[i] == level)
            return true;
    return false;
}

bool sdp_h264_level_known(int level)
{
    return known_level(level);
}

int sdp_h264_level_rank(int level)
{
    return level == CAMRTC_SDP_H264_LEVEL_1B ? 21 : level * 2;
}

/* Baseline, Main and Extended write level 1b as level_idc 11 with constraint_set3
 * (RFC 6184 §8.1, H.264 A.3.1); the other profiles use level_idc 9. */
static bool level1b_by_flag(uint8_t profile_idc)
{
    return profile_idc == 0x42 || profile_idc == 0x4d || profile_idc == 0x58;
}

void sdp_h264_plid_format(char out[7], uint8_t profile_idc, uint8_t profile_iop, int level)
{
    int level_idc = level;
    if (level1b_by_flag(profile_idc)) {
        profile_iop &= (uint8_t)~0x10;
        if (level == CAMRTC_SDP_H264_LEVEL_1B) {
            level_idc = 11;
            profile_iop |= 0x10;
        }
    }
    snprintf(out, 7, "%02x%02x%02x", profile_idc, profile_iop, (unsigned)level_idc & 0xff);
}

static int parse_plid(camrtc_sdp_h264_fmtp *f, const char *v, size_t n)
{
    uint8_t b[3];
    if (n != 6 || camrtc_hex_decode(v, 6, b, sizeof b) != 3)
        return CAMRTC_EPROTO;
    f->profile_idc = b[0];
    f->profile_iop = b[1];
    f->level_idc = b[2];
    return CAMRTC_OK;
}

/* "0" or "1" (or "2" when max2 is set) as a whole value. */
static int parse_digit(const char *v, size_t n, int max, int *out)
{
    if (n != 1 || v[0] < '0' || v[0] > '0' + max)
        return CAMRTC_EPROTO;
    *out = v[0] - '0';
    return CAMRTC_OK;
}

static int parse_param(camrtc_sdp_h264_fmtp *f, const char *key, size_t klen, const char *v, size_t vlen)
{
    int d;
    if (klen == 16 && strncasecmp(key, "profile-level-id", klen) == 0)
        return parse_plid(f, v, vlen);
    if (klen == 18 && strncasecmp(key, "packetization-mode", klen) == 0) {
        if (parse_digit(v, vlen, 2, &d) != CAMRTC_OK)
            return CAMRTC_EPROTO;
        f->packetization_mode = d;
        return CAMRTC_OK;
    }
    if (klen == 23 && strncasecmp(key, "level-asymmetry-allowed", klen) == 0) {
        if (parse_digit(v, vlen, 1, &d) != CAMRTC_OK)
            return CAMRTC_EPROTO;
        f->level_asymmetry_allowed = d == 1;
        return CAMRTC_OK;
    }
    return CAMRTC_OK;          /* sprop-parameter-sets, max-mbps, max-fs, ...: not used */
}

int camrtc_sdp_h264_fmtp_parse(camrtc_sdp_h264_fmtp *f, const char *fmtp)
{
    memset(f, 0, sizeof *f);
    /* RFC 6184 §8.1: without profile-level-id, Baseline level 1.0 (42000a). */
    f->profile_idc = 0x42;
    f->level_idc = 10;
    const char *p = fmtp ? fmtp : "";
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!*p)
            break;
        size_t plen = strcspn(p, ";");
        size_t end = plen;
        while (end > 0 && p[end - 1] == ' ')
            end--;
        const char *eq = memchr(p, '=', end);
        if (!eq || eq == p)
            return CAMRTC_EPROTO;
        int rc = parse_param(f, p, (size_t)(eq - p), eq + 1, (size_t)(p + end - eq - 1));
        if (rc != CAMRTC_OK)
            return rc;
        p += plen;
    }
    f->profile = camrtc_sdp_h264_profile_of(f->profile_idc, f->profile_iop);
    f->level = f->level_idc;
    if (level1b_by_flag(f->profile_idc) && f->level_idc == 11 && (f->profile_iop & 0x10))
        f->level = CAMRTC_SDP_H264_LEVEL_1B;
    if (!known_level(f->level))
        return CAMRTC_EPROTO;
    return CAMRTC_OK;
}

/* ---- choosing what to send ------------------------------------------------------------ */

static bool is_h264(const camrtc_sdp_codec *c)
{
    return c->name && strcasecmp(c->name, "H264") == 0 && c->clock == 90000;
}

static int level_min(int a, int b)
{
    return sdp_h264_level_rank(a) <= sdp_h264_level_rank(b) ? a : b;
}

/* Better than the best so far? Profile first (the most widely decodable), then
 * packetization-mode 1 (STAP-A/FU-A: no slice size limit), then the higher level we
 * may send at; equal ones keep the offer's order (its preference). */
static bool better(const sdp_h264_choice *cand, const sdp_h264_choice *best)
{
    if (!best->codec)
        return true;
    if (cand->fmtp.profile != best->fmtp.profile)
        return cand->fmtp.profile < best->fmtp.profile;
    if (cand->fmtp.packetization_mode != best->fmtp.packetization_mode)
        return cand->fmtp.packetization_mode > best->fmtp.packetization_mode;
    return sdp_h264_level_rank(cand->send_level) > sdp_h264_level_rank(best->send_level);
}

/* Why a payload type is not acceptable, or NULL when it is. */
static const char *unacceptable(const sdp_h264_choice *c, const sdp_h264_prefs *prefs)
{
    if (!(prefs->profiles & (1u << c->fmtp.profile)))
        return "profile not sendable";
    if (c->fmtp.packetization_mode == 2)
        return "packetization-mode 2 (interleaved) not supported";
    if (c->fmtp.packetization_mode == 0 && prefs->no_mode0)
        return "packetization-mode 0 refused";
    if (sdp_h264_level_rank(c->fmtp.level) < sdp_h264_level_rank(prefs->min_level))
        return "level below what the stream needs";
    return NULL;
}

static void note(char *reason, size_t reasonsz, size_t *used, const char *fmt, const char *a, unsigned pt)
{
    if (!reason || *used + 1 >= reasonsz)
        return;
    int n = snprintf(reason + *used, reasonsz - *used, fmt, pt, a);
    if (n > 0)
        *used = *used + (size_t)n < reasonsz ? *used + (size_t)n : reasonsz - 1;
}

int sdp_h264_choose(const camrtc_sdp_media *m, const sdp_h264_prefs *prefs, sdp_h264_choice *out, char *reason,
                    size_t reasonsz)
{
    memset(out, 0, sizeof *out);
    out->rtx_pt = -1;
    size_t used = 0, seen = 0;
    sdp_reason(reason, reasonsz, "no acceptable H.264 payload type:");
    if (reason && reasonsz)
        used = strlen(reason);
    for (size_t i = 0; i < m->n_codecs; i++) {
        const camrtc_sdp_codec *c = &m->codecs[i];
        if (!is_h264(c))
            continue;
        seen++;
        sdp_h264_choice cand = {.codec = c, .rtx_pt = -1};
        if (camrtc_sdp_h264_fmtp_parse(&cand.fmtp, c->fmtp) != CAMRTC_OK) {
            note(reason, reasonsz, &used, " %u: %s;", "malformed fmtp", c->pt);
            continue;
        }
        const char *why = unacceptable(&cand, prefs);
        if (why) {
            char what[64];
            snprintf(what, sizeof what, "%s (%s)", why, camrtc_sdp_h264_profile_name(cand.fmtp.profile));
            note(reason, reasonsz, &used, " %u: %s;", what, c->pt);
            continue;
        }
        cand.send_level = level_min(prefs->max_level, cand.fmtp.level);
        if (better(&cand, out))
            *out = cand;
    }
    if (!out->codec) {
        if (seen == 0)
            sdp_reason(reason, reasonsz, "the video section offers no H.264");
        return CAMRTC_EUNSUPPORTED;
    }
    /* RFC 6184 §8.2.2: without level asymmetry both directions use one level, the lower;
     * with it (both sides allow it) our answer states our own level. */
    out->answer_level = out->fmtp.level_asymmetry_allowed ? prefs->max_level : out->send_level;
    sdp_reason(reason, reasonsz, "%s", "");
    return CAMRTC_OK;
}

int sdp_rtx_for(const camrtc_sdp_media *m, uint8_t pt)
{
    for (size_t i = 0; i < m->n_codecs; i++) {
        const camrtc_sdp_codec *c = &m->codecs[i];
        if (!c->name || strcasecmp(c->name, "rtx") != 0 || !c->fmtp)
            continue;
        /* fmtp "apt=<pt>[;rtx-time=...]" (RFC 4588 §8.6) */
        if (strncmp(c->fmtp, "apt=", 4) != 0)
            continue;
        const char *d = c->fmtp + 4;
        unsigned apt = 0;
        size_t n = 0;
        while (n < 3 && d[n] >= '0' && d[n] <= '9')
            apt = apt * 10 + (unsigned)(d[n++] - '0');
        if (n > 0 && (d[n] == '\0' || d[n] == ';') && apt == pt)
            return c->pt;
    }
    return -1;
}
