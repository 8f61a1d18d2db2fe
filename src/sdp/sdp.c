/* The camrtc_sdp object: its string arena, lifetime, and lookups shared by parser,
 * writer and negotiation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "sdp/sdp_int.h"

/* Strings are never freed one by one, so a list of chunks that only grows is enough;
 * a string never moves, so the pointers in camrtc_sdp stay valid. */
#define ARENA_CHUNK 4096

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
} arena_chunk;

struct camrtc_sdp_arena {
    arena_chunk *head;
};

camrtc_sdp *sdp_new(void)
{
    camrtc_sdp *sdp = calloc(1, sizeof *sdp);
    if (!sdp)
        return NULL;
    sdp->arena_ = calloc(1, sizeof *sdp->arena_);
    if (!sdp->arena_) {
        free(sdp);
        return NULL;
    }
    return sdp;
}

void camrtc_sdp_free(camrtc_sdp *sdp)
{
    if (!sdp)
        return;
    if (sdp->arena_) {
        arena_chunk *c = sdp->arena_->head;
        while (c) {
            arena_chunk *next = c->next;
            free(c);
            c = next;
        }
        free(sdp->arena_);
    }
    free(sdp);
}

static char *arena_alloc(camrtc_sdp_arena *a, size_t n)
{
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

const char *sdp_strndup(camrtc_sdp *sdp, const char *s, size_t n)
{
    char *p = arena_alloc(sdp->arena_, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

const char *sdp_strdup(camrtc_sdp *sdp, const char *s)
{
    return sdp_strndup(sdp, s, strlen(s));
}

const char *sdp_printf(camrtc_sdp *sdp, const char *fmt, ...)
{
    char tmp[CAMRTC_SDP_MAX_LINE + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return NULL;
    return sdp_strndup(sdp, tmp, (size_t)n);
}

void sdp_reason(char *reason, size_t reasonsz, const char *fmt, ...)
{
    if (!reason || reasonsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, reasonsz, fmt, ap);
    va_end(ap);
}

/* ---- lookups ------------------------------------------------------------------------------ */

const char *camrtc_sdp_ice_ufrag(const camrtc_sdp *sdp, const camrtc_sdp_media *m)
{
    return m && m->ice_ufrag ? m->ice_ufrag : sdp->ice_ufrag;
}

const char *camrtc_sdp_ice_pwd(const camrtc_sdp *sdp, const camrtc_sdp_media *m)
{
    return m && m->ice_pwd ? m->ice_pwd : sdp->ice_pwd;
}

const camrtc_sdp_fingerprint *camrtc_sdp_get_fingerprint(const camrtc_sdp *sdp, const camrtc_sdp_media *m)
{
    return m && m->fingerprint.len ? &m->fingerprint : &sdp->fingerprint;
}

camrtc_sdp_setup camrtc_sdp_get_setup(const camrtc_sdp *sdp, const camrtc_sdp_media *m)
{
    return m && m->setup != CAMRTC_SDP_SETUP_NONE ? m->setup : sdp->setup;
}

const camrtc_sdp_codec *camrtc_sdp_find_codec(const camrtc_sdp_media *m, int pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

bool sdp_has_fb(const camrtc_sdp_media *m, int pt, const char *value)
{
    for (size_t i = 0; i < m->n_rtcp_fb; i++)
        if ((m->rtcp_fb[i].pt == pt || m->rtcp_fb[i].pt == -1) && strcmp(m->rtcp_fb[i].value, value) == 0)
            return true;
    return false;
}

/* ---- fingerprints (RFC 8122 §5) -------------------------------------------------------- */

static const struct {
    const char *name;
    size_t len;
} hash_algs[] = {
    {"sha-1", 20}, {"sha-224", 28}, {"sha-256", 32}, {"sha-384", 48}, {"sha-512", 64},
};

int camrtc_sdp_fingerprint_parse(camrtc_sdp_fingerprint *fp, const char *value)
{
    memset(fp, 0, sizeof *fp);
    const char *sp = strchr(value, ' ');
    if (!sp || sp == value || (size_t)(sp - value) >= sizeof fp->alg)
        return CAMRTC_EPROTO;
    size_t alen = (size_t)(sp - value);
    /* The hash name is case-insensitive (RFC 8122 §5: hash-func is a token). */
    char alg[sizeof fp->alg];
    for (size_t i = 0; i < alen; i++) {
        char c = value[i];
        alg[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    alg[alen] = '\0';
    size_t want = 0;
    for (size_t i = 0; i < sizeof hash_algs / sizeof hash_algs[0]; i++)
        if (strcmp(alg, hash_algs[i].name) == 0)
            want = hash_algs[i].len;
    /* Then "XX:XX:...": exactly 3*len-1 characters, two hex digits per byte. */
    const char *h = sp + 1;
    size_t hlen = strlen(h);
    if (want == 0) {
        /* Still check the shape, so a malformed line is EPROTO either way. */
        if (hlen < 2 || hlen % 3 != 2)
            return CAMRTC_EPROTO;
        return CAMRTC_EUNSUPPORTED;
    }
    if (hlen != want * 3 - 1)
        return CAMRTC_EPROTO;
    for (size_t i = 0; i < want; i++) {
        int hi = camrtc_hex_digit((unsigned char)h[i * 3]), lo = camrtc_hex_digit((unsigned char)h[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i + 1 < want && h[i * 3 + 2] != ':'))
            return CAMRTC_EPROTO;
        fp->hash[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(fp->alg, alg, alen + 1);
    fp->len = want;
    return CAMRTC_OK;
}
