/* Certificate generation with mbedtls x509write, and fingerprints. */
#include "camrtc/cert.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "camrtc/crypto.h"
#include "camrtc/error.h"
#include "camrtc/time.h"
#include "crypto/cert_int.h"

int cert_parse_host(const char *s, cert_host *h)
{
    memset(h, 0, sizeof *h);
    if (!s)
        return CAMRTC_EINVAL;
    if (inet_pton(AF_INET, s, h->ip) == 1) {
        h->is_ip = true;
        h->ip_len = 4;
        return CAMRTC_OK;
    }
    if (inet_pton(AF_INET6, s, h->ip) == 1) {
        h->is_ip = true;
        h->ip_len = 16;
        return CAMRTC_OK;
    }
    size_t len = strlen(s);
    if (len == 0 || len > 253)
        return CAMRTC_EINVAL;
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            /* Labels are 1..63 characters and do not start or end with '-'. */
            if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
                return CAMRTC_EINVAL;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            label++;
        } else if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
            label++;
        } else {
            return CAMRTC_EINVAL;
        }
        h->dns[i] = c;
    }
    return CAMRTC_OK;
}

int cert_gen_key(mbedtls_pk_context *pk, camrtc_rng *rng)
{
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), camrtc_rng_mbedtls, rng) != 0)
        return CAMRTC_ECRYPTO;
    return CAMRTC_OK;
}

/* "YYYYMMDDhhmmss" in UTC, the form mbedtls_x509write_crt_set_validity takes. */
static void x509_time_str(int64_t t, char out[15])
{
    char amz[17];
    camrtc_time_amz(t, amz);
    memcpy(out, amz, 8);
    memcpy(out + 8, amz + 9, 6);
    out[14] = '\0';
}

/* Append a DER length to p (at most 3 bytes for our sizes); returns bytes written. */
static size_t der_len(uint8_t *p, size_t n)
{
    if (n < 128) {
        p[0] = (uint8_t)n;
        return 1;
    }
    if (n < 256) {
        p[0] = 0x81;
        p[1] = (uint8_t)n;
        return 2;
    }
    p[0] = 0x82;
    p[1] = (uint8_t)(n >> 8);
    p[2] = (uint8_t)n;
    return 3;
}

/* GeneralNames ::= SEQUENCE OF GeneralName, with [2] dNSName (IA5String) and
 * [7] iPAddress (OCTET STRING), both IMPLICIT (RFC 5280 section 4.2.1.6). */
static int san_der(const cert_host *hosts, size_t n, uint8_t *out, size_t outsz, size_t *len)
{
    size_t body = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = hosts[i].is_ip ? hosts[i].ip_len : strlen(hosts[i].dns);
        body += 1 + (l < 128 ? 1 : 2) + l;
    }
    if (body > 0xffff || body + 4 > outsz)
        return CAMRTC_ETOOBIG;
    size_t k = 0;
    out[k++] = 0x30;
    k += der_len(out + k, body);
    for (size_t i = 0; i < n; i++) {
        const cert_host *h = &hosts[i];
        size_t l = h->is_ip ? h->ip_len : strlen(h->dns);
        out[k++] = h->is_ip ? 0x87 : 0x82;
        k += der_len(out + k, l);
        memcpy(out + k, h->is_ip ? (const void *)h->ip : (const void *)h->dns, l);
        k += l;
    }
    *len = k;
    return CAMRTC_OK;
}

static int random_serial(mbedtls_mpi *serial, camrtc_rng *rng)
{
    uint8_t b[16];
    if (camrtc_rng_bytes(rng, b, sizeof b) < 0)
        return CAMRTC_ECRYPTO;
    /* Positive (RFC 5280 4.1.2.2) and a fixed 16-byte length. */
    b[0] = (uint8_t)((b[0] & 0x7f) | 0x40);
    return mbedtls_mpi_read_binary(serial, b, sizeof b) == 0 ? CAMRTC_OK : CAMRTC_ECRYPTO;
}

int cert_write(const cert_spec *s, camrtc_rng *rng, bool pem, uint8_t *buf, size_t bufsz, size_t *len)
{
    /* SEQUENCE { OID id-kp-serverAuth } */
    static const uint8_t eku_server_auth[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
                                              0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    uint8_t *san = NULL;
    char nb[15], na[15];
    x509_time_str(s->not_before, nb);
    x509_time_str(s->not_after, na);

    int rc = random_serial(&serial, rng);
    if (rc == 0) {
        mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
        mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
        mbedtls_x509write_crt_set_subject_key(&crt, s->subject_key);
        mbedtls_x509write_crt_set_issuer_key(&crt, s->issuer_key);
        if (mbedtls_x509write_crt_set_subject_name(&crt, s->subject) != 0 ||
            mbedtls_x509write_crt_set_issuer_name(&crt, s->issuer) != 0 ||
            mbedtls_x509write_crt_set_serial(&crt, &serial) != 0 ||
            mbedtls_x509write_crt_set_validity(&crt, nb, na) != 0)
            rc = CAMRTC_ECRYPTO;
    }
    if (rc == 0 && s->extensions) {
        if (mbedtls_x509write_crt_set_basic_constraints(&crt, s->is_ca, s->is_ca ? 0 : -1) != 0 ||
            mbedtls_x509write_crt_set_key_usage(&crt, s->key_usage) != 0 ||
            mbedtls_x509write_crt_set_subject_key_identifier(&crt) != 0 ||
            mbedtls_x509write_crt_set_authority_key_identifier(&crt) != 0)
            rc = CAMRTC_ECRYPTO;
    }
    if (rc == 0 && s->extensions && s->server_auth &&
        mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                            MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                            eku_server_auth, sizeof eku_server_auth) != 0)
        rc = CAMRTC_ECRYPTO;
    if (rc == 0 && s->extensions && s->n_hosts > 0) {
        size_t san_len = 0;
        san = malloc(CERT_BUF_SIZE);
        rc = san ? san_der(s->hosts, s->n_hosts, san, CERT_BUF_SIZE, &san_len) : CAMRTC_ENOMEM;
        if (rc == 0 && mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                           MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                                           san, san_len) != 0)
            rc = CAMRTC_ECRYPTO;
    }
    if (rc == 0 && pem) {
        if (mbedtls_x509write_crt_pem(&crt, buf, bufsz, camrtc_rng_mbedtls, rng) != 0)
            rc = CAMRTC_ECRYPTO;
        else
            *len = strlen((char *)buf);
    } else if (rc == 0) {
        int n = mbedtls_x509write_crt_der(&crt, buf, bufsz, camrtc_rng_mbedtls, rng);
        if (n <= 0) {
            rc = CAMRTC_ECRYPTO;
        } else {
            /* mbedtls writes DER at the end of the buffer. */
            memmove(buf, buf + bufsz - (size_t)n, (size_t)n);
            *len = (size_t)n;
        }
    }
    free(san);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    return rc;
}

static bool cn_ok(const char *cn)
{
    size_t n = cn ? strlen(cn) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = cn[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int camrtc_cert_self_signed(const char *common_name, int days, camrtc_rng *rng, camrtc_cert *out)
{
    if (!out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    if (!cn_ok(common_name) || days < 1 || days > 3650 || !rng)
        return CAMRTC_EINVAL;
    char subject[80];
    snprintf(subject, sizeof subject, "CN=%s", common_name);
    int64_t now = camrtc_wall_ms() / 1000;

    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    uint8_t *buf = malloc(CERT_BUF_SIZE);
    int rc = buf ? cert_gen_key(&key, rng) : CAMRTC_ENOMEM;
    size_t len = 0;
    if (rc == 0) {
        cert_spec spec = {.subject = subject, .issuer = subject, .subject_key = &key, .issuer_key = &key,
                          .not_before = now - 86400, .not_after = now + (int64_t)days * 86400};
        rc = cert_write(&spec, rng, false, buf, CERT_BUF_SIZE, &len);
    }
    if (rc == 0) {
        out->cert_der = malloc(len);
        if (!out->cert_der)
            rc = CAMRTC_ENOMEM;
        else {
            memcpy(out->cert_der, buf, len);
            out->cert_len = len;
        }
    }
    if (rc == 0) {
        int n = mbedtls_pk_write_key_der(&key, buf, CERT_BUF_SIZE);
        if (n <= 0)
            rc = CAMRTC_ECRYPTO;
        else if (!(out->key_der = malloc((size_t)n)))
            rc = CAMRTC_ENOMEM;
        else {
            memcpy(out->key_der, buf + CERT_BUF_SIZE - (size_t)n, (size_t)n);
            out->key_len = (size_t)n;
        }
    }
    if (buf) {
        mbedtls_platform_zeroize(buf, CERT_BUF_SIZE);
        free(buf);
    }
    mbedtls_pk_free(&key);
    if (rc < 0)
        camrtc_cert_free(out);
    return rc;
}

void camrtc_cert_free(camrtc_cert *c)
{
    if (!c)
        return;
    if (c->key_der)
        mbedtls_platform_zeroize(c->key_der, c->key_len);
    free(c->key_der);
    free(c->cert_der);
    memset(c, 0, sizeof *c);
}

int camrtc_cert_fingerprint_sha256(const uint8_t *der, size_t len, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!der || len == 0 || !out || outsz < CAMRTC_CERT_FINGERPRINT_SIZE)
        return CAMRTC_EINVAL;
    uint8_t d[CAMRTC_SHA256_LEN];
    int rc = camrtc_sha256(der, len, d);
    if (rc < 0)
        return rc;
    char *p = out;
    for (size_t i = 0; i < sizeof d; i++) {
        if (i)
            *p++ = ':';
        *p++ = hex[d[i] >> 4];
        *p++ = hex[d[i] & 15];
    }
    *p = '\0';
    return CAMRTC_OK;
}

/* ---- a DTLS certificate kept in PEM files ---------------------------------------- */

static int dup_bytes(const uint8_t *p, size_t n, uint8_t **out, size_t *out_len)
{
    *out = malloc(n);
    if (!*out)
        return CAMRTC_ENOMEM;
    memcpy(*out, p, n);
    *out_len = n;
    return CAMRTC_OK;
}

int camrtc_cert_from_pem(const char *cert_pem, const char *key_pem, camrtc_cert *out)
{
    if (!out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    if (!cert_pem || !key_pem)
        return CAMRTC_EINVAL;
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    uint8_t *buf = NULL;
    int rc = CAMRTC_OK;
    /* mbedtls wants the terminating NUL counted for PEM input. */
    if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert_pem, strlen(cert_pem) + 1) < 0 ||
        crt.raw.len == 0 ||
        mbedtls_pk_parse_key(&key, (const unsigned char *)key_pem, strlen(key_pem) + 1, NULL, 0) != 0 ||
        mbedtls_pk_check_pair(&crt.pk, &key) != 0)
        rc = CAMRTC_EINVAL;
    if (rc == CAMRTC_OK)
        rc = dup_bytes(crt.raw.p, crt.raw.len, &out->cert_der, &out->cert_len);
    if (rc == CAMRTC_OK && !(buf = malloc(CERT_BUF_SIZE)))
        rc = CAMRTC_ENOMEM;
    if (rc == CAMRTC_OK) {
        /* Re-encode the key as DER (mbedtls writes at the end of the buffer). */
        int n = mbedtls_pk_write_key_der(&key, buf, CERT_BUF_SIZE);
        rc = n > 0 ? dup_bytes(buf + CERT_BUF_SIZE - (size_t)n, (size_t)n, &out->key_der, &out->key_len)
                   : CAMRTC_ECRYPTO;
    }
    if (buf) {
        mbedtls_platform_zeroize(buf, CERT_BUF_SIZE);
        free(buf);
    }
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&crt);
    if (rc < 0)
        camrtc_cert_free(out);
    return rc;
}

#define CERT_PEM_FILE_MAX 65536

/* The whole of a small file, NUL-terminated, in *out (caller frees). */
static int read_small_file(const char *path, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return CAMRTC_EIO;
    char *buf = malloc(CERT_PEM_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return CAMRTC_ENOMEM;
    }
    size_t n = fread(buf, 1, CERT_PEM_FILE_MAX + 1, f);
    int err = ferror(f);
    fclose(f);
    if (err || n > CERT_PEM_FILE_MAX) {
        mbedtls_platform_zeroize(buf, n < CERT_PEM_FILE_MAX + 1 ? n : CERT_PEM_FILE_MAX + 1);
        free(buf);
        return err ? CAMRTC_EIO : CAMRTC_ETOOBIG;
    }
    buf[n] = '\0';
    *out = buf;
    return CAMRTC_OK;
}

int camrtc_cert_load_pem_files(const char *cert_path, const char *key_path, camrtc_cert *out)
{
    if (!out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    if (!cert_path || !key_path)
        return CAMRTC_EINVAL;
    char *cert_pem = NULL, *key_pem = NULL;
    int rc = read_small_file(cert_path, &cert_pem);
    if (rc == CAMRTC_OK)
        rc = read_small_file(key_path, &key_pem);
    if (rc == CAMRTC_OK)
        rc = camrtc_cert_from_pem(cert_pem, key_pem, out);
    free(cert_pem);
    if (key_pem) {
        mbedtls_platform_zeroize(key_pem, strlen(key_pem));
        free(key_pem);
    }
    return rc;
}
