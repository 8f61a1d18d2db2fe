/* STUN codec: the RFC 5769 test vectors (parse, every attribute, integrity, fingerprint,
 * tampering, and building the same bytes back), then malformed input and builder limits. */
#include "camrtc/crypto.h"
#include "camrtc/error.h"
#include "camrtc/stun.h"
#include "check.h"
#include "stun/stun_int.h"

/* ---- RFC 5769 vectors, as printed in the RFC ----------------------------------------- */

/* §2.1 Sample Request: SOFTWARE "STUN test client", PRIORITY, ICE-CONTROLLED, USERNAME
 * "evtj:h6vY" (padded with spaces), MESSAGE-INTEGRITY, FINGERPRINT. */
static const char RFC_REQUEST[] =
    "00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
    "00 24 00 04 6e 00 01 ff"
    "80 29 00 08 93 2f f9 b1 51 26 3b 36"
    "00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
    "00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2"
    "80 28 00 04 e5 7a 3b cf";

/* §2.2 Sample IPv4 Response: SOFTWARE "test vector", XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const char RFC_RESPONSE4[] =
    "01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 08 00 01 a1 47 e1 12 a6 43"
    "00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7"
    "80 28 00 04 c0 7d 4c 96";

/* §2.3 Sample IPv6 Response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const char RFC_RESPONSE6[] =
    "01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"
    "00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41"
    "80 28 00 04 c8 fb 0b 4c";

/* §2.4 Sample Request with Long-Term Authentication: USERNAME "マトリックス", NONCE,
 * REALM "example.org", MESSAGE-INTEGRITY; no FINGERPRINT. */
static const char RFC_LONGTERM[] =
    "00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
    "00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00"
    "00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41"
    "00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
    "00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66";

static const char PASSWORD[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t TXID[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
static const uint8_t TXID_LT[12] = {0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e};
/* "マトリックス" in UTF-8, and the §2.4 password after SASLprep ("The<SHY>M<ª>tr<Ⅸ>" → "TheMatrIX"). */
static const char LT_USER[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
static const char LT_NONCE[] = "f//499k954d6OL34oL9FSTvy64sA";
static const char LT_PASSWORD[] = "TheMatrIX";

/* Hex digits (spaces ignored) to bytes; returns the count. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
        if (v < 0)
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            if (n == cap)
                abort();
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

static const uint8_t *key_of(const char *pw)
{
    return (const uint8_t *)pw;
}

static bool attr_is(const camrtc_stun_msg *m, uint16_t type, const char *value)
{
    const char *s;
    size_t n;
    return camrtc_stun_get_string(m, type, &s, &n) == CAMRTC_OK && n == strlen(value) && memcmp(s, value, n) == 0;
}

/* ---- message types ------------------------------------------------------------------------- */

TEST(type_composition)
{
    CHECK_EQ_INT(camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST), 0x0001);
    CHECK_EQ_INT(camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_SUCCESS), 0x0101);
    CHECK_EQ_INT(camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_ERROR), 0x0111);
    CHECK_EQ_INT(camrtc_stun_type(CAMRTC_STUN_ALLOCATE, CAMRTC_STUN_ERROR), 0x0113);
    CHECK_EQ_INT(camrtc_stun_type(CAMRTC_STUN_SEND, CAMRTC_STUN_INDICATION), 0x0016);
    CHECK_EQ_INT(camrtc_stun_type(CAMRTC_STUN_CHANNEL_BIND, CAMRTC_STUN_SUCCESS), 0x0109);
    static const uint16_t classes[] = {CAMRTC_STUN_REQUEST, CAMRTC_STUN_INDICATION, CAMRTC_STUN_SUCCESS,
                                       CAMRTC_STUN_ERROR};
    for (uint16_t m = 0; m < 0x1000; m++) {
        for (size_t c = 0; c < 4; c++) {
            uint16_t t = camrtc_stun_type(m, classes[c]);
            CHECK_EQ_INT(t & 0xc000, 0);
            CHECK_EQ_INT(camrtc_stun_method(t), m);
            CHECK_EQ_INT(camrtc_stun_class(t), classes[c]);
        }
    }
}

TEST(crc32_reference_value)
{
    /* The CRC-32 check value of "123456789" (ITU-T V.42 / zlib). */
    CHECK_EQ_INT(stun_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
}

/* ---- RFC 5769 ----------------------------------------------------------------------------- */

TEST(rfc5769_request_parses)
{
    uint8_t b[256];
    size_t n = unhex(RFC_REQUEST, b, sizeof b);
    CHECK_EQ_INT(n, 108);
    CHECK(camrtc_stun_is_message(b, n));
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, b, n), CAMRTC_OK);
    CHECK_EQ_INT(m.type, 0x0001);
    CHECK_EQ_INT(m.len, 108);
    CHECK_EQ_MEM(m.txid, TXID, 12);
    CHECK_EQ_INT(m.nattrs, 6);
    CHECK_EQ_INT(m.nunknown, 0);
    CHECK(attr_is(&m, CAMRTC_STUN_A_SOFTWARE, "STUN test client"));
    CHECK(attr_is(&m, CAMRTC_STUN_A_USERNAME, "evtj:h6vY"));
    uint32_t prio;
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_PRIORITY, &prio), CAMRTC_OK);
    CHECK_EQ_INT(prio, 0x6e0001ffu);
    uint64_t tie;
    CHECK_EQ_INT(camrtc_stun_get_u64(&m, CAMRTC_STUN_A_ICE_CONTROLLED, &tie), CAMRTC_OK);
    CHECK(tie == 0x932ff9b151263b36ull);
    CHECK_EQ_INT(camrtc_stun_get_u64(&m, CAMRTC_STUN_A_ICE_CONTROLLING, &tie), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(m.integrity, 4);
    CHECK_EQ_INT(m.fingerprint, 5);
    CHECK_EQ_INT(m.integrity_sha256, -1);
    const camrtc_stun_attr *mi = camrtc_stun_find(&m, CAMRTC_STUN_A_MESSAGE_INTEGRITY);
    CHECK(mi == &m.attrs[4]);
    CHECK_EQ_INT(mi->len, 20);
    CHECK_EQ_INT(camrtc_stun_value(&m, mi)[0], 0x9a);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key_of("VOkJxbRl1RmTxUk/WvJxBu"), 22), CAMRTC_EAUTH);
    CHECK_EQ_INT(camrtc_stun_check_integrity_sha256(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_OK);
}

TEST(rfc5769_ipv4_response_parses)
{
    uint8_t b[256];
    size_t n = unhex(RFC_RESPONSE4, b, sizeof b);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, b, n), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_method(m.type), CAMRTC_STUN_BINDING);
    CHECK_EQ_INT(camrtc_stun_class(m.type), CAMRTC_STUN_SUCCESS);
    CHECK(attr_is(&m, CAMRTC_STUN_A_SOFTWARE, "test vector"));
    camrtc_addr a;
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &a), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&a, &(camrtc_addr){4, 32853, {192, 0, 2, 1}}));
    CHECK_EQ_INT(camrtc_stun_get_addr(&m, CAMRTC_STUN_A_MAPPED_ADDRESS, &a), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_OK);
}

TEST(rfc5769_ipv6_response_parses)
{
    uint8_t b[256];
    size_t n = unhex(RFC_RESPONSE6, b, sizeof b);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, b, n), CAMRTC_OK);
    camrtc_addr a, want;
    CHECK_EQ_INT(camrtc_addr_parse(&want, "2001:db8:1234:5678:11:2233:4455:6677", 32853), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &a), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&a, &want));
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_OK);
}

TEST(rfc5769_long_term_request_parses)
{
    uint8_t b[256];
    size_t n = unhex(RFC_LONGTERM, b, sizeof b);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, b, n), CAMRTC_OK);
    CHECK_EQ_MEM(m.txid, TXID_LT, 12);
    CHECK(attr_is(&m, CAMRTC_STUN_A_USERNAME, LT_USER));
    CHECK(attr_is(&m, CAMRTC_STUN_A_NONCE, LT_NONCE));
    CHECK(attr_is(&m, CAMRTC_STUN_A_REALM, "example.org"));
    const char *realm;
    size_t realm_len;
    CHECK_EQ_INT(camrtc_stun_get_string(&m, CAMRTC_STUN_A_REALM, &realm, &realm_len), CAMRTC_OK);
    uint8_t key[16];
    CHECK_EQ_INT(camrtc_stun_longterm_key(LT_USER, realm, realm_len, LT_PASSWORD, key), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key, sizeof key), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_longterm_key(LT_USER, realm, realm_len, "TheMatrix", key), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key, sizeof key), CAMRTC_EAUTH);
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_ENOTFOUND);
}

TEST(longterm_key_is_md5_of_user_realm_password)
{
    /* MD5("user:realm:pass"), computed independently. */
    static const uint8_t want[16] = {0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb,
                                     0x4c, 0x04, 0x4c, 0x45, 0x6b, 0xdc, 0x40, 0xeb};
    uint8_t key[16];
    CHECK_EQ_INT(camrtc_stun_longterm_key("user", "realm", 5, "pass", key), CAMRTC_OK);
    CHECK_EQ_MEM(key, want, 16);
    CHECK_EQ_INT(camrtc_stun_longterm_key(NULL, "realm", 5, "pass", key), CAMRTC_EINVAL);
}

/* Flipping any single bit of a protected message must be caught by the parser, the
 * MESSAGE-INTEGRITY check or the FINGERPRINT check. */
static bool tamper_detected(const uint8_t *orig, size_t n, size_t i, uint8_t bit, const char *pw)
{
    uint8_t b[256];
    memcpy(b, orig, n);
    b[i] ^= bit;
    camrtc_stun_msg m;
    if (camrtc_stun_parse(&m, b, n) != CAMRTC_OK)
        return true;
    return camrtc_stun_check_integrity(&m, key_of(pw), strlen(pw)) != CAMRTC_OK ||
           camrtc_stun_check_fingerprint(&m) != CAMRTC_OK;
}

TEST(rfc5769_tampering_any_bit_fails)
{
    const char *vectors[] = {RFC_REQUEST, RFC_RESPONSE4, RFC_RESPONSE6};
    for (size_t v = 0; v < 3; v++) {
        uint8_t b[256];
        size_t n = unhex(vectors[v], b, sizeof b);
        CHECK(!tamper_detected(b, n, 0, 0, PASSWORD)); /* the untouched message passes */
        for (size_t i = 0; i < n; i++)
            for (unsigned bit = 1; bit < 256; bit <<= 1)
                CHECK(tamper_detected(b, n, i, (uint8_t)bit, PASSWORD));
    }
}

TEST(rfc5769_tampered_fingerprint_only)
{
    /* Change the FINGERPRINT value alone: integrity still passes, fingerprint fails. */
    uint8_t b[256];
    size_t n = unhex(RFC_REQUEST, b, sizeof b);
    b[n - 1] ^= 1;
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, b, n), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_EPROTO);
}

/* The RFC pads strings with spaces, the builder with zeros (both valid, §14): overwrite the
 * builder's padding of the attribute just added so the bytes (and so the MACs) match. */
static void pad_with_spaces(camrtc_stun_builder *b, size_t value_len)
{
    size_t pad = (4 - value_len % 4) % 4;
    memset(b->buf + b->len - pad, ' ', pad);
}

TEST(rfc5769_request_built_back)
{
    uint8_t want[256], buf[256];
    size_t n = unhex(RFC_REQUEST, want, sizeof want);
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST), TXID);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_SOFTWARE, "STUN test client");
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, 0x6e0001ffu);
    camrtc_stun_add_u64(&b, CAMRTC_STUN_A_ICE_CONTROLLED, 0x932ff9b151263b36ull);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, "evtj:h6vY");
    pad_with_spaces(&b, 9);
    camrtc_stun_add_integrity(&b, key_of(PASSWORD), strlen(PASSWORD));
    camrtc_stun_add_fingerprint(&b);
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), n);
    CHECK_EQ_MEM(buf, want, n);
}

TEST(rfc5769_ipv4_response_built_back)
{
    uint8_t want[256], buf[256];
    size_t n = unhex(RFC_RESPONSE4, want, sizeof want);
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_SUCCESS), TXID);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_SOFTWARE, "test vector");
    pad_with_spaces(&b, 11);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &(camrtc_addr){4, 32853, {192, 0, 2, 1}});
    camrtc_stun_add_integrity(&b, key_of(PASSWORD), strlen(PASSWORD));
    camrtc_stun_add_fingerprint(&b);
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), n);
    CHECK_EQ_MEM(buf, want, n);
}

TEST(rfc5769_ipv6_response_built_back)
{
    uint8_t want[256], buf[256];
    size_t n = unhex(RFC_RESPONSE6, want, sizeof want);
    camrtc_addr a;
    CHECK_EQ_INT(camrtc_addr_parse(&a, "2001:db8:1234:5678:11:2233:4455:6677", 32853), CAMRTC_OK);
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_SUCCESS), TXID);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_SOFTWARE, "test vector");
    pad_with_spaces(&b, 11);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &a);
    camrtc_stun_add_integrity(&b, key_of(PASSWORD), strlen(PASSWORD));
    camrtc_stun_add_fingerprint(&b);
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), n);
    CHECK_EQ_MEM(buf, want, n);
}

TEST(rfc5769_long_term_request_built_back)
{
    uint8_t want[256], buf[256], key[16];
    size_t n = unhex(RFC_LONGTERM, want, sizeof want);
    CHECK_EQ_INT(camrtc_stun_longterm_key(LT_USER, "example.org", 11, LT_PASSWORD, key), CAMRTC_OK);
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST),
                           TXID_LT);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, LT_USER);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_NONCE, LT_NONCE);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_REALM, "example.org");
    camrtc_stun_add_integrity(&b, key, sizeof key);
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), n);
    CHECK_EQ_MEM(buf, want, n);
}

/* ---- malformed input ------------------------------------------------------------------------ */

/* Parse a copy held in a heap block of exactly n bytes, so a read past the end is an
 * AddressSanitizer error rather than a silent success. */
static int parse_exact(const uint8_t *src, size_t n, camrtc_stun_msg *m)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    memcpy(p, src, n);
    int rc = camrtc_stun_parse(m, p, n);
    if (rc == CAMRTC_OK) {
        /* Touch every attribute the way a user would, inside the block's lifetime. */
        uint32_t u32;
        uint64_t u64;
        camrtc_addr a;
        int code;
        const char *s;
        size_t len;
        camrtc_stun_get_u32(m, CAMRTC_STUN_A_PRIORITY, &u32);
        camrtc_stun_get_u64(m, CAMRTC_STUN_A_ICE_CONTROLLED, &u64);
        camrtc_stun_get_xor_addr(m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &a);
        camrtc_stun_get_error(m, &code, &s, &len);
        camrtc_stun_check_integrity(m, key_of(PASSWORD), strlen(PASSWORD));
        camrtc_stun_check_fingerprint(m);
    }
    free(p);
    m->data = NULL;
    return rc;
}

TEST(every_truncation_rejected)
{
    uint8_t b[256];
    size_t n = unhex(RFC_REQUEST, b, sizeof b);
    camrtc_stun_msg m;
    for (size_t cut = 0; cut < n; cut++)
        CHECK_EQ_INT(parse_exact(b, cut, &m), CAMRTC_EPROTO);
    CHECK_EQ_INT(parse_exact(b, n, &m), CAMRTC_OK);
}

TEST(every_truncation_with_fixed_length)
{
    /* Cut the message and make the header agree: only cuts at attribute boundaries are
     * valid messages; every other cut ends inside an attribute. */
    static const size_t boundaries[] = {20, 40, 48, 60, 76, 100, 108};
    uint8_t b[256];
    size_t n = unhex(RFC_REQUEST, b, sizeof b);
    for (size_t cut = 20; cut <= n; cut++) {
        uint8_t c[256];
        memcpy(c, b, cut);
        camrtc_wr16(c + 2, (uint16_t)(cut - 20));
        bool boundary = false;
        for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++)
            boundary |= boundaries[i] == cut;
        camrtc_stun_msg m;
        CHECK_EQ_INT(parse_exact(c, cut, &m), boundary ? CAMRTC_OK : CAMRTC_EPROTO);
    }
}

TEST(header_checks)
{
    uint8_t b[256];
    size_t n = unhex(RFC_REQUEST, b, sizeof b);
    camrtc_stun_msg m;
    uint8_t c[256];

    memcpy(c, b, n);
    c[0] |= 0x40; /* the two top bits must be zero (RFC 7983 demultiplexing relies on it) */
    CHECK(!camrtc_stun_is_message(c, n));
    CHECK_EQ_INT(parse_exact(c, n, &m), CAMRTC_EPROTO);

    memcpy(c, b, n);
    c[5] ^= 1; /* magic cookie */
    CHECK(!camrtc_stun_is_message(c, n));
    CHECK_EQ_INT(parse_exact(c, n, &m), CAMRTC_EPROTO);

    memcpy(c, b, n);
    camrtc_wr16(c + 2, (uint16_t)(n - 20 + 4)); /* longer than the datagram */
    CHECK_EQ_INT(parse_exact(c, n, &m), CAMRTC_EPROTO);
    camrtc_wr16(c + 2, (uint16_t)(n - 20 - 4)); /* shorter: trailing bytes */
    CHECK_EQ_INT(parse_exact(c, n, &m), CAMRTC_EPROTO);

    /* A length that is not a multiple of 4, matching the datagram. */
    memcpy(c, b, 20);
    camrtc_wr16(c + 2, 2);
    c[20] = c[21] = 0;
    CHECK(!camrtc_stun_is_message(c, 22));
    CHECK_EQ_INT(parse_exact(c, 22, &m), CAMRTC_EPROTO);

    CHECK(!camrtc_stun_is_message(NULL, 0));
    CHECK(!camrtc_stun_is_message(b, 19));
    CHECK_EQ_INT(camrtc_stun_parse(&m, NULL, 0), CAMRTC_EPROTO);
}

/* A header with txid TXID and body length len. */
static void header(uint8_t *c, uint16_t type, size_t len)
{
    camrtc_wr16(c, type);
    camrtc_wr16(c + 2, (uint16_t)len);
    camrtc_wr32(c + 4, CAMRTC_STUN_MAGIC);
    memcpy(c + 8, TXID, 12);
}

TEST(bad_padding_rejected)
{
    camrtc_stun_msg m;
    uint8_t c[64] = {0};
    /* USERNAME of 5 bytes with no room for its 3 padding bytes: length 9, not aligned. */
    header(c, 0x0001, 9);
    camrtc_wr16(c + 20, CAMRTC_STUN_A_USERNAME);
    camrtc_wr16(c + 22, 5);
    memcpy(c + 24, "alice", 5);
    CHECK_EQ_INT(parse_exact(c, 29, &m), CAMRTC_EPROTO);
    /* Aligned message, but the padded value (8) runs past the body (4 + 4). */
    header(c, 0x0001, 8);
    CHECK_EQ_INT(parse_exact(c, 28, &m), CAMRTC_EPROTO);
    /* Padding present: fine, whatever the padding bytes hold (§14 says ignore them). */
    header(c, 0x0001, 12);
    memset(c + 29, 0xee, 3);
    CHECK_EQ_INT(parse_exact(c, 32, &m), CAMRTC_OK);
    /* An attribute header cut short by the end of the body. */
    header(c, 0x0001, 12 + 4);
    memcpy(c + 32, "\x80\x22\x00\x00", 4);
    CHECK_EQ_INT(parse_exact(c, 36, &m), CAMRTC_OK); /* a zero-length SOFTWARE is valid */
    camrtc_wr16(c + 34, 1);
    CHECK_EQ_INT(parse_exact(c, 36, &m), CAMRTC_EPROTO);
}

TEST(fingerprint_must_be_last)
{
    uint8_t buf[128];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_fingerprint(&b);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_SOFTWARE, "late");
    int n = camrtc_stun_build_finish(&b);
    CHECK(n > 0);
    camrtc_stun_msg m;
    CHECK_EQ_INT(parse_exact(buf, (size_t)n, &m), CAMRTC_EPROTO);
    /* Two FINGERPRINTs: the first is not last either. */
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_fingerprint(&b);
    camrtc_stun_add_fingerprint(&b);
    n = camrtc_stun_build_finish(&b);
    CHECK_EQ_INT(parse_exact(buf, (size_t)n, &m), CAMRTC_EPROTO);
}

TEST(attributes_after_integrity_ignored)
{
    uint8_t buf[256];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, "a:b");
    camrtc_stun_add_integrity(&b, key_of(PASSWORD), strlen(PASSWORD));
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_SOFTWARE, "injected");
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, 1);
    camrtc_stun_add(&b, 0x0033, "x", 1); /* unknown comprehension-required, but ignored */
    camrtc_stun_add_integrity_sha256(&b, key_of(PASSWORD), strlen(PASSWORD));
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_LIFETIME, 1); /* ignored after MI-SHA256 too */
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    CHECK(n > 0);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, buf, (size_t)n), CAMRTC_OK);
    CHECK_EQ_INT(m.nattrs, 4); /* USERNAME, MI, MI-SHA256, FINGERPRINT */
    CHECK(camrtc_stun_find(&m, CAMRTC_STUN_A_SOFTWARE) == NULL);
    CHECK(camrtc_stun_find(&m, CAMRTC_STUN_A_PRIORITY) == NULL);
    CHECK(camrtc_stun_find(&m, CAMRTC_STUN_A_LIFETIME) == NULL);
    CHECK_EQ_INT(m.nunknown, 0);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_integrity_sha256(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_integrity_sha256(&m, key_of("wrong"), 5), CAMRTC_EAUTH);
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_OK);
}

TEST(unknown_required_attributes_reported)
{
    uint8_t buf[512];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add(&b, 0x0033, "x", 1);
    camrtc_stun_add(&b, 0x8033, "y", 1); /* comprehension-optional: not reported */
    camrtc_stun_add(&b, 0x7fff, NULL, 0);
    camrtc_stun_add(&b, 0x0033, "z", 1); /* reported once */
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, 7);
    for (uint16_t t = 0x0040; t < 0x0040 + CAMRTC_STUN_MAX_UNKNOWN; t++)
        camrtc_stun_add(&b, t, NULL, 0); /* more than the table holds: the rest are dropped */
    int n = camrtc_stun_build_finish(&b);
    CHECK(n > 0);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, buf, (size_t)n), CAMRTC_OK);
    CHECK_EQ_INT(m.nunknown, CAMRTC_STUN_MAX_UNKNOWN);
    CHECK_EQ_INT(m.unknown[0], 0x0033);
    CHECK_EQ_INT(m.unknown[1], 0x7fff);
    CHECK_EQ_INT(m.unknown[2], 0x0040);
    /* Then a 420 answer lists them. */
    uint8_t out[256];
    camrtc_stun_build_init(&b, out, sizeof out, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_ERROR), m.txid);
    camrtc_stun_add_error(&b, 420, "Unknown Attribute");
    camrtc_stun_add_unknown(&b, m.unknown, 3);
    n = camrtc_stun_build_finish(&b);
    CHECK(n > 0);
    camrtc_stun_msg r;
    CHECK_EQ_INT(camrtc_stun_parse(&r, out, (size_t)n), CAMRTC_OK);
    const camrtc_stun_attr *ua = camrtc_stun_find(&r, CAMRTC_STUN_A_UNKNOWN_ATTRIBUTES);
    CHECK(ua != NULL);
    CHECK_EQ_INT(ua->len, 6);
    CHECK_EQ_INT(camrtc_rd16(camrtc_stun_value(&r, ua) + 2), 0x7fff);
    int code;
    const char *reason;
    size_t rlen;
    CHECK_EQ_INT(camrtc_stun_get_error(&r, &code, &reason, &rlen), CAMRTC_OK);
    CHECK_EQ_INT(code, 420);
    CHECK_EQ_INT(rlen, 17);
    CHECK(memcmp(reason, "Unknown Attribute", 17) == 0);
}

TEST(too_many_attributes)
{
    uint8_t buf[1024];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    for (int i = 0; i < CAMRTC_STUN_MAX_ATTRS; i++)
        camrtc_stun_add(&b, CAMRTC_STUN_A_SOFTWARE, NULL, 0);
    int n = camrtc_stun_build_finish(&b);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, buf, (size_t)n), CAMRTC_OK);
    camrtc_stun_add(&b, CAMRTC_STUN_A_SOFTWARE, NULL, 0);
    n = camrtc_stun_build_finish(&b);
    CHECK_EQ_INT(camrtc_stun_parse(&m, buf, (size_t)n), CAMRTC_ETOOBIG);
}

TEST(integrity_attribute_sizes_checked)
{
    camrtc_stun_msg m;
    uint8_t c[128] = {0};
    /* MESSAGE-INTEGRITY of 16 bytes instead of 20. */
    header(c, 0x0001, 20);
    camrtc_wr16(c + 20, CAMRTC_STUN_A_MESSAGE_INTEGRITY);
    camrtc_wr16(c + 22, 16);
    CHECK_EQ_INT(parse_exact(c, 40, &m), CAMRTC_EPROTO);
    /* FINGERPRINT of 8 bytes. */
    header(c, 0x0001, 12);
    camrtc_wr16(c + 20, CAMRTC_STUN_A_FINGERPRINT);
    camrtc_wr16(c + 22, 8);
    CHECK_EQ_INT(parse_exact(c, 32, &m), CAMRTC_EPROTO);
    /* MESSAGE-INTEGRITY-SHA256 of 12 bytes (less than 16), and of 18 (not a multiple of 4). */
    header(c, 0x0001, 16);
    camrtc_wr16(c + 20, CAMRTC_STUN_A_MESSAGE_INTEGRITY_SHA256);
    camrtc_wr16(c + 22, 12);
    CHECK_EQ_INT(parse_exact(c, 36, &m), CAMRTC_EPROTO);
    header(c, 0x0001, 24);
    camrtc_wr16(c + 22, 18);
    CHECK_EQ_INT(parse_exact(c, 44, &m), CAMRTC_EPROTO);
}

TEST(truncated_sha256_integrity_accepted)
{
    /* A 16-byte MESSAGE-INTEGRITY-SHA256 (§14.6 allows truncation), made with the generic
     * HMAC from crypto.h over the message with the header length already counting it. */
    uint8_t buf[128], mac[32];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, "u:v");
    size_t start = b.len;
    camrtc_wr16(buf + 2, (uint16_t)(start - 20 + 4 + 16));
    CHECK_EQ_INT(camrtc_hmac_sha256(PASSWORD, strlen(PASSWORD), buf, start, mac), CAMRTC_OK);
    camrtc_stun_add(&b, CAMRTC_STUN_A_MESSAGE_INTEGRITY_SHA256, mac, 16);
    int n = camrtc_stun_build_finish(&b);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, buf, (size_t)n), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_integrity_sha256(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_OK);
    buf[start + 4 + 15] ^= 1;
    CHECK_EQ_INT(camrtc_stun_check_integrity_sha256(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_EAUTH);
}

TEST(hmac_matches_generic_hmac_for_long_keys)
{
    /* Keys longer than the 64-byte block are hashed first (RFC 2104 §2): compare with
     * mbedtls' own HMAC through crypto.h. */
    uint8_t key[100], buf[128], mac[20];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, "long:key");
    size_t start = b.len;
    camrtc_stun_add_integrity(&b, key, sizeof key);
    CHECK(camrtc_stun_build_finish(&b) > 0);
    /* buf's header already reads the final length, as the MAC requires. */
    CHECK_EQ_INT(camrtc_hmac_sha1(key, sizeof key, buf, start, mac), CAMRTC_OK);
    CHECK_EQ_MEM(buf + start + 4, mac, 20);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, buf, b.len), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key, sizeof key), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key, 64), CAMRTC_EAUTH);
}

/* ---- getters ---------------------------------------------------------------------------------- */

TEST(address_attributes_round_trip)
{
    camrtc_addr v4 = {4, 4242, {10, 0, 0, 1}}, v6, got;
    CHECK_EQ_INT(camrtc_addr_parse(&v6, "2001:db8::1", 5060), CAMRTC_OK);
    uint8_t buf[256];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0101, TXID);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &v4);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_RELAYED_ADDRESS, &v6);
    camrtc_stun_add_addr(&b, CAMRTC_STUN_A_MAPPED_ADDRESS, &v6);
    camrtc_stun_add_addr(&b, CAMRTC_STUN_A_ALTERNATE_SERVER, &v4);
    int n = camrtc_stun_build_finish(&b);
    CHECK_EQ_INT(n, 20 + 12 + 24 + 24 + 12);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, buf, (size_t)n), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &got), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&got, &v4));
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_RELAYED_ADDRESS, &got), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&got, &v6));
    CHECK_EQ_INT(camrtc_stun_get_addr(&m, CAMRTC_STUN_A_MAPPED_ADDRESS, &got), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&got, &v6));
    CHECK_EQ_INT(camrtc_stun_get_addr(&m, CAMRTC_STUN_A_ALTERNATE_SERVER, &got), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&got, &v4));
    /* The xored form really is xored (plain bytes would read 10.0.0.1). */
    const camrtc_stun_attr *x = camrtc_stun_find(&m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS);
    CHECK_EQ_INT(camrtc_stun_value(&m, x)[4], 10 ^ 0x21);
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &got), CAMRTC_ENOTFOUND);
}

TEST(malformed_attribute_values)
{
    uint8_t c[64] = {0};
    camrtc_stun_msg m;
    camrtc_addr a;
    uint32_t u32;
    uint64_t u64;
    int code;
    /* XOR-MAPPED-ADDRESS, family 3. */
    header(c, 0x0101, 12);
    camrtc_wr16(c + 20, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS);
    camrtc_wr16(c + 22, 8);
    c[25] = 3;
    CHECK_EQ_INT(camrtc_stun_parse(&m, c, 32), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &a), CAMRTC_EPROTO);
    /* IPv6 family with an IPv4-sized value. */
    c[25] = 2;
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &a), CAMRTC_EPROTO);
    /* Too short to hold a family at all. */
    camrtc_wr16(c + 22, 2);
    header(c, 0x0101, 8);
    CHECK_EQ_INT(camrtc_stun_parse(&m, c, 28), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_get_addr(&m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &a), CAMRTC_EPROTO);
    /* PRIORITY of 2 bytes, ICE-CONTROLLING of 4. */
    memset(c, 0, sizeof c);
    header(c, 0x0001, 16);
    camrtc_wr16(c + 20, CAMRTC_STUN_A_PRIORITY);
    camrtc_wr16(c + 22, 2);
    camrtc_wr16(c + 28, CAMRTC_STUN_A_ICE_CONTROLLING);
    camrtc_wr16(c + 30, 4);
    CHECK_EQ_INT(camrtc_stun_parse(&m, c, 36), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_PRIORITY, &u32), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_stun_get_u64(&m, CAMRTC_STUN_A_ICE_CONTROLLING, &u64), CAMRTC_EPROTO);
    /* ERROR-CODE with class 7, with number 100, and shorter than 4 bytes. */
    memset(c, 0, sizeof c);
    header(c, 0x0111, 8);
    camrtc_wr16(c + 20, CAMRTC_STUN_A_ERROR_CODE);
    camrtc_wr16(c + 22, 4);
    c[26] = 7;
    CHECK_EQ_INT(camrtc_stun_parse(&m, c, 28), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_get_error(&m, &code, NULL, NULL), CAMRTC_EPROTO);
    c[26] = 4;
    c[27] = 100;
    CHECK_EQ_INT(camrtc_stun_get_error(&m, &code, NULL, NULL), CAMRTC_EPROTO);
    c[27] = 1;
    CHECK_EQ_INT(camrtc_stun_get_error(&m, &code, NULL, NULL), CAMRTC_OK);
    CHECK_EQ_INT(code, 401);
    camrtc_wr16(c + 22, 3);
    CHECK_EQ_INT(camrtc_stun_parse(&m, c, 28), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_get_error(&m, &code, NULL, NULL), CAMRTC_EPROTO);
}

TEST(zero_length_and_duplicate_attributes)
{
    uint8_t buf[128];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add(&b, CAMRTC_STUN_A_USE_CANDIDATE, NULL, 0);
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, 1);
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, 2);
    int n = camrtc_stun_build_finish(&b);
    CHECK_EQ_INT(n, 20 + 4 + 8 + 8);
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, buf, (size_t)n), CAMRTC_OK);
    const camrtc_stun_attr *uc = camrtc_stun_find(&m, CAMRTC_STUN_A_USE_CANDIDATE);
    CHECK(uc != NULL);
    CHECK_EQ_INT(uc->len, 0);
    uint32_t p;
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_PRIORITY, &p), CAMRTC_OK);
    CHECK_EQ_INT(p, 1); /* the first one counts (§14) */
}

/* ---- builder ------------------------------------------------------------------------------------ */

TEST(builder_errors_are_sticky)
{
    uint8_t buf[40];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, "12345678"); /* 20 + 12 = 32 */
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), 32);
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, 1); /* 32 + 8 = 40: fits exactly */
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), 40);
    camrtc_stun_add(&b, CAMRTC_STUN_A_USE_CANDIDATE, NULL, 0); /* 44 > 40 */
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), CAMRTC_ETOOBIG);
    camrtc_stun_add_error(&b, 200, NULL); /* would be EINVAL, but the first error stays */
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(b.len, 40);
    CHECK_EQ_INT(camrtc_rd16(buf + 2), 20); /* the header still describes what was written */

    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_error(&b, 700, "x");
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), CAMRTC_EINVAL);
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &(camrtc_addr){0});
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), CAMRTC_EINVAL);
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x4001, TXID); /* top bits set */
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), CAMRTC_EINVAL);
    camrtc_stun_build_init(&b, buf, 19, 0x0001, TXID);
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), CAMRTC_ETOOBIG);
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_integrity(&b, key_of(PASSWORD), strlen(PASSWORD)); /* 44 > 40 */
    CHECK_EQ_INT(camrtc_stun_build_finish(&b), CAMRTC_ETOOBIG);
}

TEST(builder_caps_message_length)
{
    /* The 16-bit length field bounds a message to 20 + 65532 bytes, whatever the buffer. */
    size_t cap = 70000;
    uint8_t *buf = calloc(1, cap), *payload = calloc(1, cap);
    if (!buf || !payload)
        abort();
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, cap, 0x0016, TXID);
    camrtc_stun_add(&b, CAMRTC_STUN_A_DATA, payload, 65528); /* 4 + 65528 = 65532 */
    int n = camrtc_stun_build_finish(&b);
    camrtc_stun_msg m;
    int parsed = camrtc_stun_parse(&m, buf, (size_t)(n > 0 ? n : 0));
    camrtc_stun_add(&b, CAMRTC_STUN_A_USE_CANDIDATE, NULL, 0);
    int after = camrtc_stun_build_finish(&b);
    free(buf);
    free(payload);
    CHECK_EQ_INT(n, 20 + 65532);
    CHECK_EQ_INT(parsed, CAMRTC_OK);
    CHECK_EQ_INT(after, CAMRTC_ETOOBIG);
}

TEST(built_binding_request_verifies)
{
    /* What the ICE agent sends: USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MI, FP. */
    uint8_t buf[256];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, 0x0001, TXID);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, "remote:local");
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, 1853824767u);
    camrtc_stun_add_u64(&b, CAMRTC_STUN_A_ICE_CONTROLLING, 0x0123456789abcdefull);
    camrtc_stun_add(&b, CAMRTC_STUN_A_USE_CANDIDATE, NULL, 0);
    camrtc_stun_add_integrity(&b, key_of(PASSWORD), strlen(PASSWORD));
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    CHECK_EQ_INT(n, 20 + 16 + 8 + 12 + 4 + 24 + 8);
    CHECK(camrtc_stun_is_message(buf, (size_t)n));
    camrtc_stun_msg m;
    CHECK_EQ_INT(camrtc_stun_parse(&m, buf, (size_t)n), CAMRTC_OK);
    uint64_t tie;
    CHECK_EQ_INT(camrtc_stun_get_u64(&m, CAMRTC_STUN_A_ICE_CONTROLLING, &tie), CAMRTC_OK);
    CHECK(tie == 0x0123456789abcdefull);
    CHECK(camrtc_stun_find(&m, CAMRTC_STUN_A_USE_CANDIDATE) != NULL);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, key_of(PASSWORD), strlen(PASSWORD)), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_OK);
}

int main(void)
{
    return RUN_TESTS(type_composition, crc32_reference_value, rfc5769_request_parses, rfc5769_ipv4_response_parses,
                     rfc5769_ipv6_response_parses, rfc5769_long_term_request_parses,
                     longterm_key_is_md5_of_user_realm_password, rfc5769_tampering_any_bit_fails,
                     rfc5769_tampered_fingerprint_only, rfc5769_request_built_back, rfc5769_ipv4_response_built_back,
                     rfc5769_ipv6_response_built_back, rfc5769_long_term_request_built_back,
                     every_truncation_rejected, every_truncation_with_fixed_length, header_checks,
                     bad_padding_rejected, fingerprint_must_be_last, attributes_after_integrity_ignored,
                     unknown_required_attributes_reported, too_many_attributes, integrity_attribute_sizes_checked,
                     truncated_sha256_integrity_accepted, hmac_matches_generic_hmac_for_long_keys,
                     address_attributes_round_trip, malformed_attribute_values, zero_length_and_duplicate_attributes,
                     builder_errors_are_sticky, builder_caps_message_length, built_binding_request_verifies);
}
