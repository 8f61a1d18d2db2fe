/* Certificate building blocks shared by cert.c (in-memory certificates) and
 * cert_local.c (the on-disk local CA). */
#ifndef CAMRTC_CRYPTO_CERT_INT_H
#define CAMRTC_CRYPTO_CERT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>

#include "camrtc/rand.h"

/* Room for one certificate with the largest SAN list we allow. */
#define CERT_BUF_SIZE 16384

/* A subjectAltName entry: an IPv4/IPv6 address or a DNS name. */
typedef struct cert_host {
    bool is_ip;
    uint8_t ip[16];
    size_t ip_len;      /* 4 or 16 */
    char dns[254];      /* lowercase */
} cert_host;

/* What to put in one certificate. Names are mbedtls name strings ("CN=x,O=y"). */
typedef struct cert_spec {
    const char *subject;
    const char *issuer;
    mbedtls_pk_context *subject_key;
    mbedtls_pk_context *issuer_key;
    int64_t not_before;         /* Unix seconds */
    int64_t not_after;
    bool is_ca;
    bool extensions;            /* false: a bare v3 certificate (DTLS) */
    unsigned key_usage;         /* MBEDTLS_X509_KU_* */
    bool server_auth;           /* extendedKeyUsage serverAuth */
    const cert_host *hosts;     /* subjectAltName, when n_hosts > 0 */
    size_t n_hosts;
} cert_spec;

/* Parse a host: dotted IPv4, IPv6, or a DNS name (labels of [A-Za-z0-9-], at
 * most 253 characters). CAMRTC_EINVAL otherwise. */
int cert_parse_host(const char *s, cert_host *h);

/* A fresh ECDSA P-256 key into pk (initialised by the caller). */
int cert_gen_key(mbedtls_pk_context *pk, camrtc_rng *rng);

/* Sign a certificate per spec. DER goes to the start of buf with *len set; PEM
 * is NUL-terminated in buf with *len its strlen. */
int cert_write(const cert_spec *s, camrtc_rng *rng, bool pem, uint8_t *buf, size_t bufsz, size_t *len);

#endif
