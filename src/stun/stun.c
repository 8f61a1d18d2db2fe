/* STUN message parsing, attribute getters and the integrity/fingerprint checks
 * (RFC 8489 §5, §14, §15). The builder is in stun_build.c, the hashing in stun_crypto.c.
 *
 * Parsing indexes the attributes of a caller-held message without copying. Every length
 * read from the wire is checked against what is left of the message before it is used.
 */
#include "camrtc/stun.h"

#include <string.h>

#include "camrtc/error.h"
#include "stun/stun_int.h"

/* ---- message types (RFC 8489 §5) ----------------------------------------------------
 * The 14-bit type interleaves a 12-bit method M11..M0 with the class bits C1 C0:
 *   M11 M10 M9 M8 M7 C1 M6 M5 M4 C0 M3 M2 M1 M0 */

uint16_t camrtc_stun_type(uint16_t method, uint16_t cls)
{
    return (uint16_t)((method & 0x000f) | (method & 0x0070) << 1 | (method & 0x0f80) << 2 | (cls & 0x0110));
}

uint16_t camrtc_stun_method(uint16_t type)
{
    return (uint16_t)((type & 0x000f) | (type >> 1 & 0x0070) | (type >> 2 & 0x0f80));
}

uint16_t camrtc_stun_class(uint16_t type)
{
    return type & 0x0110;
}

/* ---- framing --------------------------------------------------------------------------- */

bool camrtc_stun_is_message(const uint8_t *data, size_t len)
{
    if (!data || len < CAMRTC_STUN_HEADER || (data[0] & 0xc0) != 0)
        return false;
    if (camrtc_rd32(data + 4) != CAMRTC_STUN_MAGIC)
        return false;
    size_t body = camrtc_rd16(data + 2);
    return body % 4 == 0 && body == len - CAMRTC_STUN_HEADER;
}

/* The comprehension-required attributes this codec knows (RFC 8489 §18.3, RFC 8445 §16,
 * RFC 8656 §18). Anything else below 0x8000 is reported so a server can answer 420. */
static bool known_required(uint16_t type)
{
    switch (type) {
    case CAMRTC_STUN_A_MAPPED_ADDRESS:
    case CAMRTC_STUN_A_USERNAME:
    case CAMRTC_STUN_A_MESSAGE_INTEGRITY:
    case CAMRTC_STUN_A_ERROR_CODE:
    case CAMRTC_STUN_A_UNKNOWN_ATTRIBUTES:
    case CAMRTC_STUN_A_CHANNEL_NUMBER:
    case CAMRTC_STUN_A_LIFETIME:
    case CAMRTC_STUN_A_XOR_PEER_ADDRESS:
    case CAMRTC_STUN_A_DATA:
    case CAMRTC_STUN_A_REALM:
    case CAMRTC_STUN_A_NONCE:
    case CAMRTC_STUN_A_XOR_RELAYED_ADDRESS:
    case CAMRTC_STUN_A_REQUESTED_ADDRESS_FAMILY:
    case CAMRTC_STUN_A_EVEN_PORT:
    case CAMRTC_STUN_A_REQUESTED_TRANSPORT:
    case CAMRTC_STUN_A_DONT_FRAGMENT:
    case CAMRTC_STUN_A_MESSAGE_INTEGRITY_SHA256:
    case CAMRTC_STUN_A_PASSWORD_ALGORITHM:
    case CAMRTC_STUN_A_USERHASH:
    case CAMRTC_STUN_A_XOR_MAPPED_ADDRESS:
    case CAMRTC_STUN_A_RESERVATION_TOKEN:
    case CAMRTC_STUN_A_PRIORITY:
    case CAMRTC_STUN_A_USE_CANDIDATE:
        return true;
    default:
        return false;
    }
}

static void note_unknown(camrtc_stun_msg *msg, uint16_t type)
{
    for (unsigned i = 0; i < msg->nunknown; i++)
        if (msg->unknown[i] == type)
            return;
    if (msg->nunknown < CAMRTC_STUN_MAX_UNKNOWN)
        msg->unknown[msg->nunknown++] = type;
}

/* Where the parser is relative to the integrity attributes: RFC 8489 §14.5/§14.6 say
 * that after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count, and
 * after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT. */
enum { PHASE_OPEN, PHASE_AFTER_MI, PHASE_AFTER_MI256 };

/* Record one attribute whose framing has been checked. */
static int take_attr(camrtc_stun_msg *msg, int *phase, uint16_t type, uint16_t len, size_t off)
{
    bool is_mi = type == CAMRTC_STUN_A_MESSAGE_INTEGRITY;
    bool is_mi256 = type == CAMRTC_STUN_A_MESSAGE_INTEGRITY_SHA256;
    bool is_fp = type == CAMRTC_STUN_A_FINGERPRINT;
    if (*phase == PHASE_AFTER_MI && !is_mi256 && !is_fp)
        return CAMRTC_OK; /* ignored, §14.5 */
    if (*phase == PHASE_AFTER_MI256 && !is_fp)
        return CAMRTC_OK; /* ignored, §14.6 */
    if (msg->nattrs >= CAMRTC_STUN_MAX_ATTRS)
        return CAMRTC_ETOOBIG;
    /* Fixed sizes that the checks depend on (§14.5-14.7); a MESSAGE-INTEGRITY-SHA256 may
     * be truncated to 16 bytes, in steps of 4. */
    if ((is_mi && len != STUN_SHA1_LEN) || (is_fp && len != 4) ||
        (is_mi256 && (len < 16 || len > STUN_SHA256_LEN || len % 4)))
        return CAMRTC_EPROTO;
    int idx = (int)msg->nattrs;
    msg->attrs[msg->nattrs++] = (camrtc_stun_attr){.type = type, .len = len, .off = (uint16_t)off};
    if (is_mi) {
        msg->integrity = idx;
        *phase = PHASE_AFTER_MI;
    } else if (is_mi256) {
        msg->integrity_sha256 = idx;
        *phase = PHASE_AFTER_MI256;
    } else if (is_fp) {
        msg->fingerprint = idx;
    } else if (type < 0x8000 && !known_required(type)) {
        note_unknown(msg, type);
    }
    return CAMRTC_OK;
}

int camrtc_stun_parse(camrtc_stun_msg *msg, const uint8_t *data, size_t len)
{
    if (!msg || (!data && len))
        return CAMRTC_EINVAL;
    memset(msg, 0, sizeof *msg);
    msg->integrity = msg->integrity_sha256 = msg->fingerprint = -1;
    /* is_message also bounds len to 20 + 65532 (the length field is 16 bits). */
    if (!camrtc_stun_is_message(data, len))
        return CAMRTC_EPROTO;
    msg->data = data;
    msg->len = len;
    msg->type = camrtc_rd16(data);
    memcpy(msg->txid, data + 8, sizeof msg->txid);

    int phase = PHASE_OPEN;
    size_t pos = CAMRTC_STUN_HEADER;
    while (pos < len) {
        /* camrtc_stun_attr.off is 16 bits: a value starting past 65535 (only possible in
         * the last few bytes of a maximum-size message) is refused, not wrapped. */
        if (len - pos < 4 || pos + 4 > UINT16_MAX)
            return CAMRTC_EPROTO;
        if (msg->fingerprint >= 0)
            return CAMRTC_EPROTO; /* FINGERPRINT must be the last attribute, §14.7 */
        uint16_t type = camrtc_rd16(data + pos), alen = camrtc_rd16(data + pos + 2);
        size_t padded = ((size_t)alen + 3) & ~(size_t)3;
        /* Padding bytes are part of the frame; their contents are ignored (§14). */
        if (padded > len - pos - 4)
            return CAMRTC_EPROTO;
        int rc = take_attr(msg, &phase, type, alen, pos + 4);
        if (rc < 0)
            return rc;
        pos += 4 + padded;
    }
    return CAMRTC_OK;
}

/* ---- getters ------------------------------------------------------------------------------ */

const camrtc_stun_attr *camrtc_stun_find(const camrtc_stun_msg *msg, uint16_t type)
{
    for (unsigned i = 0; i < msg->nattrs; i++)
        if (msg->attrs[i].type == type)
            return &msg->attrs[i];
    return NULL;
}

const uint8_t *camrtc_stun_value(const camrtc_stun_msg *msg, const camrtc_stun_attr *a)
{
    return msg->data + a->off;
}

/* Address attributes (§14.1, §14.2): 0, family (1 = IPv4, 2 = IPv6), port, address. */
static int read_addr(const camrtc_stun_msg *msg, uint16_t type, bool xored, camrtc_addr *out)
{
    const camrtc_stun_attr *a = camrtc_stun_find(msg, type);
    if (!a)
        return CAMRTC_ENOTFOUND;
    const uint8_t *v = camrtc_stun_value(msg, a);
    if (a->len < 4)
        return CAMRTC_EPROTO;
    camrtc_addr r = {0};
    size_t iplen;
    if (v[1] == 0x01 && a->len == 8) {
        r.family = 4;
        iplen = 4;
    } else if (v[1] == 0x02 && a->len == 20) {
        r.family = 6;
        iplen = 16;
    } else {
        return CAMRTC_EPROTO;
    }
    r.port = camrtc_rd16(v + 2);
    memcpy(r.ip, v + 4, iplen);
    if (xored) {
        /* X-Port is xored with the cookie's top 16 bits, X-Address with the cookie and,
         * for IPv6, the transaction id that follows it in the header. */
        const uint8_t *mask = msg->data + 4;
        r.port ^= (uint16_t)(CAMRTC_STUN_MAGIC >> 16);
        for (size_t i = 0; i < iplen; i++)
            r.ip[i] ^= mask[i];
    }
    *out = r;
    return CAMRTC_OK;
}

int camrtc_stun_get_xor_addr(const camrtc_stun_msg *msg, uint16_t type, camrtc_addr *out)
{
    return read_addr(msg, type, true, out);
}

int camrtc_stun_get_addr(const camrtc_stun_msg *msg, uint16_t type, camrtc_addr *out)
{
    return read_addr(msg, type, false, out);
}

int camrtc_stun_get_u32(const camrtc_stun_msg *msg, uint16_t type, uint32_t *out)
{
    const camrtc_stun_attr *a = camrtc_stun_find(msg, type);
    if (!a)
        return CAMRTC_ENOTFOUND;
    if (a->len != 4)
        return CAMRTC_EPROTO;
    *out = camrtc_rd32(camrtc_stun_value(msg, a));
    return CAMRTC_OK;
}

int camrtc_stun_get_u64(const camrtc_stun_msg *msg, uint16_t type, uint64_t *out)
{
    const camrtc_stun_attr *a = camrtc_stun_find(msg, type);
    if (!a)
        return CAMRTC_ENOTFOUND;
    if (a->len != 8)
        return CAMRTC_EPROTO;
    const uint8_t *v = camrtc_stun_value(msg, a);
    *out = (uint64_t)camrtc_rd32(v) << 32 | camrtc_rd32(v + 4);
    return CAMRTC_OK;
}

int camrtc_stun_get_string(const camrtc_stun_msg *msg, uint16_t type, const char **s, size_t *len)
{
    const camrtc_stun_attr *a = camrtc_stun_find(msg, type);
    if (!a)
        return CAMRTC_ENOTFOUND;
    *s = (const char *)camrtc_stun_value(msg, a);
    *len = a->len;
    return CAMRTC_OK;
}

/* ERROR-CODE (§14.8): 21 zero bits, class (3 bits, 3..6), number (8 bits, 0..99), reason. */
int camrtc_stun_get_error(const camrtc_stun_msg *msg, int *code, const char **reason, size_t *reason_len)
{
    const camrtc_stun_attr *a = camrtc_stun_find(msg, CAMRTC_STUN_A_ERROR_CODE);
    if (!a)
        return CAMRTC_ENOTFOUND;
    if (a->len < 4)
        return CAMRTC_EPROTO;
    const uint8_t *v = camrtc_stun_value(msg, a);
    int cls = v[2] & 0x07, number = v[3];
    if (cls < 3 || cls > 6 || number > 99)
        return CAMRTC_EPROTO;
    *code = cls * 100 + number;
    if (reason)
        *reason = (const char *)v + 4;
    if (reason_len)
        *reason_len = (size_t)a->len - 4;
    return CAMRTC_OK;
}

/* ---- integrity and fingerprint ------------------------------------------------------------ */

/* Compare without an early exit, so the time taken says nothing about where a forged
 * MAC first differs. */
static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

/* The MAC covers everything before the attribute, with the header length counting up
 * to the end of the attribute itself (§14.5). */
static int check_mac(const camrtc_stun_msg *msg, int idx, bool sha256, const uint8_t *key, size_t keylen)
{
    if (idx < 0)
        return CAMRTC_ENOTFOUND;
    const camrtc_stun_attr *a = &msg->attrs[idx];
    size_t start = (size_t)a->off - 4, end = (size_t)a->off + a->len;
    uint8_t mac[STUN_SHA256_LEN];
    int rc = stun_hmac_prefix(sha256, key, keylen, msg->data, start, (uint16_t)(end - CAMRTC_STUN_HEADER), mac);
    if (rc < 0)
        return rc;
    /* MESSAGE-INTEGRITY-SHA256 may carry a truncated MAC: compare its leading bytes. */
    return equal_ct(mac, camrtc_stun_value(msg, a), a->len) ? CAMRTC_OK : CAMRTC_EAUTH;
}

int camrtc_stun_check_integrity(const camrtc_stun_msg *msg, const uint8_t *key, size_t keylen)
{
    return check_mac(msg, msg->integrity, false, key, keylen);
}

int camrtc_stun_check_integrity_sha256(const camrtc_stun_msg *msg, const uint8_t *key, size_t keylen)
{
    return check_mac(msg, msg->integrity_sha256, true, key, keylen);
}

int camrtc_stun_check_fingerprint(const camrtc_stun_msg *msg)
{
    if (msg->fingerprint < 0)
        return CAMRTC_ENOTFOUND;
    const camrtc_stun_attr *a = &msg->attrs[msg->fingerprint];
    size_t start = (size_t)a->off - 4, end = (size_t)a->off + a->len;
    uint32_t want = stun_fingerprint_prefix(msg->data, start, (uint16_t)(end - CAMRTC_STUN_HEADER));
    return camrtc_rd32(camrtc_stun_value(msg, a)) == want ? CAMRTC_OK : CAMRTC_EPROTO;
}
