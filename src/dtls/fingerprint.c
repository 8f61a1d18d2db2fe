/* SDP fingerprints (RFC 8122 section 5) and the DTLS-SRTP keying split (RFC 5764 section 4.2). */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "camrtc/codec.h"
#include "camrtc/dtls.h"
#include "camrtc/error.h"

/* hash-func names from the IANA "Hash Function Textual Names" registry that
 * are valid in a=fingerprint but that we do not check. */
static bool known_other_hash(const char *name, size_t n)
{
    static const char *const names[] = {"sha-1", "sha-224", "sha-384", "sha-512", "md5", "md2"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
            return true;
    return false;
}

int camrtc_dtls_parse_fingerprint(const char *s, uint8_t out[32])
{
    if (!s || !out)
        return CAMRTC_EINVAL;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *sp = strpbrk(s, " \t");
    if (sp) {
        size_t n = (size_t)(sp - s);
        if (!(n == 7 && strncasecmp(s, "sha-256", 7) == 0))
            return known_other_hash(s, n) ? CAMRTC_EUNSUPPORTED : CAMRTC_EINVAL;
        s = sp;
        while (*s == ' ' || *s == '\t')
            s++;
    }
    /* 32 "XX" groups separated by ':' (RFC 8122 section 5, UHEX pairs). */
    for (size_t i = 0; i < 32; i++) {
        if (i > 0 && *s++ != ':')
            return CAMRTC_EINVAL;
        int hi = camrtc_hex_digit(s[0]);
        int lo = hi < 0 ? -1 : camrtc_hex_digit(s[1]);
        if (lo < 0)
            return CAMRTC_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0' ? CAMRTC_OK : CAMRTC_EINVAL;
}

int camrtc_dtls_split_keying(camrtc_srtp_profile profile, const uint8_t *m, size_t len, camrtc_srtp_keying *out)
{
    size_t kl, sl;
    if (!m || !out)
        return CAMRTC_EINVAL;
    if (camrtc_srtp_profile_lengths(profile, &kl, &sl) < 0)
        return CAMRTC_EUNSUPPORTED;
    if (len != 2 * (kl + sl))
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    out->profile = profile;
    out->key_len = kl;
    out->salt_len = sl;
    /* client_write_SRTP_master_key[SRTPSecurityParams.master_key_len];
     * server_write_SRTP_master_key[...]; client_write_SRTP_master_salt[...];
     * server_write_SRTP_master_salt[...] -- RFC 5764 section 4.2. */
    memcpy(out->client_key, m, kl);
    memcpy(out->server_key, m + kl, kl);
    memcpy(out->client_salt, m + 2 * kl, sl);
    memcpy(out->server_salt, m + 2 * kl + sl, sl);
    return CAMRTC_OK;
}
