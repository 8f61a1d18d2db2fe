/* STUN messages (RFC 8489, RFC 5389) for ICE (RFC 8445) and TURN (RFC 8656), sans-I/O.
 *
 * Parsing never copies: camrtc_stun_msg indexes the attributes of a message held by the
 * caller, and every accessor checks lengths. Building writes into a caller buffer through
 * camrtc_stun_builder, whose errors are sticky (check once, at finish). Integrity is
 * HMAC-SHA1 (MESSAGE-INTEGRITY) or HMAC-SHA256 (MESSAGE-INTEGRITY-SHA256) compared in
 * constant time; FINGERPRINT is CRC-32 xor 0x5354554e.
 */
#ifndef CAMRTC_STUN_H
#define CAMRTC_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAMRTC_STUN_HEADER 20
#define CAMRTC_STUN_MAGIC 0x2112A442u
#define CAMRTC_STUN_MAX_ATTRS 40   /* more attributes than this → CAMRTC_ETOOBIG */
#define CAMRTC_STUN_MAX_UNKNOWN 8  /* comprehension-required unknown types remembered */

/* Methods. */
enum {
    CAMRTC_STUN_BINDING = 0x001,
    CAMRTC_STUN_ALLOCATE = 0x003,
    CAMRTC_STUN_REFRESH = 0x004,
    CAMRTC_STUN_SEND = 0x006,
    CAMRTC_STUN_DATA = 0x007,
    CAMRTC_STUN_CREATE_PERMISSION = 0x008,
    CAMRTC_STUN_CHANNEL_BIND = 0x009,
};

/* Classes (already shifted into the type's C0/C1 bits). */
enum {
    CAMRTC_STUN_REQUEST = 0x0000,
    CAMRTC_STUN_INDICATION = 0x0010,
    CAMRTC_STUN_SUCCESS = 0x0100,
    CAMRTC_STUN_ERROR = 0x0110,
};

/* Attribute types. */
enum {
    CAMRTC_STUN_A_MAPPED_ADDRESS = 0x0001,
    CAMRTC_STUN_A_USERNAME = 0x0006,
    CAMRTC_STUN_A_MESSAGE_INTEGRITY = 0x0008,
    CAMRTC_STUN_A_ERROR_CODE = 0x0009,
    CAMRTC_STUN_A_UNKNOWN_ATTRIBUTES = 0x000A,
    CAMRTC_STUN_A_CHANNEL_NUMBER = 0x000C,
    CAMRTC_STUN_A_LIFETIME = 0x000D,
    CAMRTC_STUN_A_XOR_PEER_ADDRESS = 0x0012,
    CAMRTC_STUN_A_DATA = 0x0013,
    CAMRTC_STUN_A_REALM = 0x0014,
    CAMRTC_STUN_A_NONCE = 0x0015,
    CAMRTC_STUN_A_XOR_RELAYED_ADDRESS = 0x0016,
    CAMRTC_STUN_A_REQUESTED_ADDRESS_FAMILY = 0x0017,
    CAMRTC_STUN_A_EVEN_PORT = 0x0018,
    CAMRTC_STUN_A_REQUESTED_TRANSPORT = 0x0019,
    CAMRTC_STUN_A_DONT_FRAGMENT = 0x001A,
    CAMRTC_STUN_A_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    CAMRTC_STUN_A_PASSWORD_ALGORITHM = 0x001D,
    CAMRTC_STUN_A_USERHASH = 0x001E,
    CAMRTC_STUN_A_XOR_MAPPED_ADDRESS = 0x0020,
    CAMRTC_STUN_A_RESERVATION_TOKEN = 0x0022,
    CAMRTC_STUN_A_PRIORITY = 0x0024,
    CAMRTC_STUN_A_USE_CANDIDATE = 0x0025,
    CAMRTC_STUN_A_PASSWORD_ALGORITHMS = 0x8002,
    CAMRTC_STUN_A_ALTERNATE_DOMAIN = 0x8003,
    CAMRTC_STUN_A_SOFTWARE = 0x8022,
    CAMRTC_STUN_A_ALTERNATE_SERVER = 0x8023,
    CAMRTC_STUN_A_FINGERPRINT = 0x8028,
    CAMRTC_STUN_A_ICE_CONTROLLED = 0x8029,
    CAMRTC_STUN_A_ICE_CONTROLLING = 0x802A,
    CAMRTC_STUN_A_RESPONSE_ORIGIN = 0x802B,
    CAMRTC_STUN_A_OTHER_ADDRESS = 0x802C,
};

/* Compose a message type from a method and a class, and take it apart. */
uint16_t camrtc_stun_type(uint16_t method, uint16_t cls);
uint16_t camrtc_stun_method(uint16_t type);
uint16_t camrtc_stun_class(uint16_t type);

/* One attribute of a parsed message: its value is msg->data[off .. off+len). */
typedef struct camrtc_stun_attr {
    uint16_t type;
    uint16_t len;
    uint16_t off;
} camrtc_stun_attr;

typedef struct camrtc_stun_msg {
    const uint8_t *data;  /* the whole message, owned by the caller */
    size_t len;           /* 20 + header length field */
    uint16_t type;
    uint8_t txid[12];
    unsigned nattrs;
    camrtc_stun_attr attrs[CAMRTC_STUN_MAX_ATTRS];
    int integrity;        /* index in attrs of MESSAGE-INTEGRITY, -1 if absent */
    int integrity_sha256; /* index of MESSAGE-INTEGRITY-SHA256, -1 if absent */
    int fingerprint;      /* index of FINGERPRINT, -1 if absent */
    unsigned nunknown;    /* comprehension-required (< 0x8000) types this codec does not know */
    uint16_t unknown[CAMRTC_STUN_MAX_UNKNOWN];
} camrtc_stun_msg;

/* Cheap test for the demultiplexer: at least 20 bytes, first two bits 0, the magic
 * cookie, a length that is a multiple of 4 and equals len - 20. */
bool camrtc_stun_is_message(const uint8_t *data, size_t len);

/* Parse a whole STUN message of exactly len bytes. Attributes after MESSAGE-INTEGRITY
 * other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, and after MESSAGE-INTEGRITY-SHA256
 * other than FINGERPRINT, are ignored: framing-checked but not indexed (RFC 8489
 * §14.5/§14.6). An attribute after FINGERPRINT makes the message malformed (§14.7).
 * CAMRTC_EPROTO when malformed (bad header, length not len - 20 or not a multiple of 4,
 * an attribute or its padding running past the end, FINGERPRINT not last, a
 * MESSAGE-INTEGRITY that is not 20 bytes, a MESSAGE-INTEGRITY-SHA256 that is not 16..32
 * in steps of 4, a FINGERPRINT that is not 4), CAMRTC_ETOOBIG when more than
 * CAMRTC_STUN_MAX_ATTRS attributes are indexed. The contents of padding bytes are
 * ignored (§14). Duplicate attributes are all indexed; the getters read the first. */
int camrtc_stun_parse(camrtc_stun_msg *msg, const uint8_t *data, size_t len);

/* The first attribute of type, or NULL. */
const camrtc_stun_attr *camrtc_stun_find(const camrtc_stun_msg *msg, uint16_t type);

/* Pointer to an attribute's value. */
const uint8_t *camrtc_stun_value(const camrtc_stun_msg *msg, const camrtc_stun_attr *a);

/* Read an XOR-*-ADDRESS attribute of type (IPv4 or IPv6, xored with the cookie and the
 * transaction id). CAMRTC_ENOTFOUND when absent, CAMRTC_EPROTO when malformed. */
int camrtc_stun_get_xor_addr(const camrtc_stun_msg *msg, uint16_t type, camrtc_addr *out);

/* Read a plain address attribute (MAPPED-ADDRESS, ALTERNATE-SERVER, ...). */
int camrtc_stun_get_addr(const camrtc_stun_msg *msg, uint16_t type, camrtc_addr *out);

/* Read a 32-bit (PRIORITY, LIFETIME, ...) or 64-bit (ICE-CONTROLLING/-CONTROLLED) value. */
int camrtc_stun_get_u32(const camrtc_stun_msg *msg, uint16_t type, uint32_t *out);
int camrtc_stun_get_u64(const camrtc_stun_msg *msg, uint16_t type, uint64_t *out);

/* Point at a string attribute's bytes (USERNAME, REALM, NONCE, SOFTWARE); not
 * NUL-terminated. */
int camrtc_stun_get_string(const camrtc_stun_msg *msg, uint16_t type, const char **s, size_t *len);

/* ERROR-CODE: code = class * 100 + number (300..699); reason points into the message. */
int camrtc_stun_get_error(const camrtc_stun_msg *msg, int *code, const char **reason, size_t *reason_len);

/* Check MESSAGE-INTEGRITY (HMAC-SHA1 with key) in constant time. CAMRTC_OK, CAMRTC_EAUTH
 * when it does not match, CAMRTC_ENOTFOUND when the attribute is absent. */
int camrtc_stun_check_integrity(const camrtc_stun_msg *msg, const uint8_t *key, size_t keylen);

/* The same for MESSAGE-INTEGRITY-SHA256 (truncated values of 16..32 bytes accepted). */
int camrtc_stun_check_integrity_sha256(const camrtc_stun_msg *msg, const uint8_t *key, size_t keylen);

/* Check FINGERPRINT: CAMRTC_OK, CAMRTC_EPROTO when wrong, CAMRTC_ENOTFOUND when absent. */
int camrtc_stun_check_fingerprint(const camrtc_stun_msg *msg);

/* Long-term credential key (RFC 8489 §9.2.2): MD5(username ":" realm ":" password). */
int camrtc_stun_longterm_key(const char *username, const char *realm, size_t realm_len,
                             const char *password, uint8_t key[16]);

/* A message being written into buf[0..cap). err is sticky: the first failure
 * (CAMRTC_ETOOBIG when out of room, CAMRTC_EINVAL) is kept and every later call does
 * nothing. */
typedef struct camrtc_stun_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err;
} camrtc_stun_builder;

/* Start a message of type with transaction id txid (12 bytes). */
void camrtc_stun_build_init(camrtc_stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
                            const uint8_t txid[12]);

/* Append an attribute with a raw value (padded to 4 bytes with zeros). */
void camrtc_stun_add(camrtc_stun_builder *b, uint16_t type, const void *value, size_t len);
void camrtc_stun_add_u32(camrtc_stun_builder *b, uint16_t type, uint32_t v);
void camrtc_stun_add_u64(camrtc_stun_builder *b, uint16_t type, uint64_t v);
void camrtc_stun_add_string(camrtc_stun_builder *b, uint16_t type, const char *s);
/* XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS. */
void camrtc_stun_add_xor_addr(camrtc_stun_builder *b, uint16_t type, const camrtc_addr *a);
/* MAPPED-ADDRESS and other plain address attributes. */
void camrtc_stun_add_addr(camrtc_stun_builder *b, uint16_t type, const camrtc_addr *a);
/* ERROR-CODE with code 300..699 and a reason phrase (may be NULL). */
void camrtc_stun_add_error(camrtc_stun_builder *b, int code, const char *reason);
/* UNKNOWN-ATTRIBUTES listing n types. */
void camrtc_stun_add_unknown(camrtc_stun_builder *b, const uint16_t *types, unsigned n);
/* MESSAGE-INTEGRITY (HMAC-SHA1) / MESSAGE-INTEGRITY-SHA256 over what is written so far. */
void camrtc_stun_add_integrity(camrtc_stun_builder *b, const uint8_t *key, size_t keylen);
void camrtc_stun_add_integrity_sha256(camrtc_stun_builder *b, const uint8_t *key, size_t keylen);
/* FINGERPRINT; must be the last attribute (the builder does not check that later calls
 * add nothing: the caller adds it last). */
void camrtc_stun_add_fingerprint(camrtc_stun_builder *b);

/* The message length (> 0), or the sticky error. */
int camrtc_stun_build_finish(const camrtc_stun_builder *b);

#ifdef __cplusplus
}
#endif
#endif
