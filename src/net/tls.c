/* The sans-I/O TLS engine: mbedtls with memory BIO callbacks. */
#include "camrtc/tls.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "camrtc/error.h"

struct camrtc_tls_config {
    mbedtls_ssl_config conf;
    mbedtls_x509_crt certs; /* trusted CAs (client) or own chain (server) */
    mbedtls_pk_context key; /* server, and clients with a certificate */
    mbedtls_x509_crt own;   /* a client's own chain, for mutual TLS */
    mbedtls_x509_crt client_ca; /* CAs a server trusts for client certificates */
    bool server;
    bool verify;
};

enum tls_state { TLS_HANDSHAKE, TLS_OPEN, TLS_DEAD };

struct camrtc_tls {
    mbedtls_ssl_context ssl;
    const camrtc_tls_config *cfg;
    camrtc_buf in;  /* ciphertext fed, not yet pulled by mbedtls */
    camrtc_buf out; /* ciphertext produced, waiting for drain */
    int state;
    int err;        /* the error every call returns once dead */
    bool write_closed;
    bool peer_closed;
    uint8_t ip[16]; /* server_name as an address when it is an IP literal */
    uint8_t iplen;
    char errstr[128];
};

/* Forward-secret AEAD suites only: what browsers and AWS endpoints offer first. */
static const int tls_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

static void set_err(char *err, size_t errsz, const char *what, const char *path, int mbed)
{
    if (!err || errsz == 0)
        return;
    char why[96] = "";
    if (mbed != 0)
        mbedtls_strerror(mbed, why, sizeof why);
    snprintf(err, errsz, "%s%s%s%s%s", what, path ? " " : "", path ? path : "", mbed ? ": " : "", why);
}

static camrtc_tls_config *config_alloc(bool server, camrtc_rng *rng, char *err, size_t errsz)
{
    camrtc_tls_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        set_err(err, errsz, "out of memory", NULL, 0);
        return NULL;
    }
    cfg->server = server;
    mbedtls_ssl_config_init(&cfg->conf);
    mbedtls_x509_crt_init(&cfg->certs);
    mbedtls_pk_init(&cfg->key);
    mbedtls_x509_crt_init(&cfg->own);
    mbedtls_x509_crt_init(&cfg->client_ca);
    int ret = mbedtls_ssl_config_defaults(&cfg->conf, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        set_err(err, errsz, "TLS config defaults failed", NULL, ret);
        camrtc_tls_config_free(cfg);
        return NULL;
    }
    mbedtls_ssl_conf_rng(&cfg->conf, camrtc_rng_mbedtls, rng);
    mbedtls_ssl_conf_min_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&cfg->conf, tls_suites);
    mbedtls_ssl_conf_renegotiation(&cfg->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    return cfg;
}

/* Load a certificate chain and its key into chain/key and make them the
 * config's own; 0, or -1 with the reason in err. */
static int load_own(camrtc_tls_config *cfg, mbedtls_x509_crt *chain, const char *cert_pem_path,
                    const char *key_pem_path, char *err, size_t errsz)
{
    int ret = mbedtls_x509_crt_parse_file(chain, cert_pem_path);
    if (ret != 0) {
        set_err(err, errsz, "cannot load certificate", cert_pem_path, ret > 0 ? 0 : ret);
        return -1;
    }
    ret = mbedtls_pk_parse_keyfile(&cfg->key, key_pem_path, NULL);
    if (ret != 0) {
        set_err(err, errsz, "cannot load key", key_pem_path, ret);
        return -1;
    }
    ret = mbedtls_pk_check_pair(&chain->pk, &cfg->key);
    if (ret != 0) {
        set_err(err, errsz, "key does not match certificate", cert_pem_path, 0);
        return -1;
    }
    ret = mbedtls_ssl_conf_own_cert(&cfg->conf, chain, &cfg->key);
    if (ret != 0) {
        set_err(err, errsz, "cannot use certificate", cert_pem_path, ret);
        return -1;
    }
    return 0;
}

camrtc_tls_config *camrtc_tls_config_new_server(const char *cert_pem_path, const char *key_pem_path,
                                                camrtc_rng *rng, char *err, size_t errsz)
{
    if (!cert_pem_path || !key_pem_path || !rng) {
        set_err(err, errsz, "missing certificate, key or rng", NULL, 0);
        return NULL;
    }
    camrtc_tls_config *cfg = config_alloc(true, rng, err, errsz);
    if (!cfg)
        return NULL;
    if (load_own(cfg, &cfg->certs, cert_pem_path, key_pem_path, err, errsz) != 0) {
        camrtc_tls_config_free(cfg);
        return NULL;
    }
    return cfg;
}

camrtc_tls_config *camrtc_tls_config_new_client(const char *ca_file, bool verify, camrtc_rng *rng,
                                                char *err, size_t errsz)
{
    if (!rng) {
        set_err(err, errsz, "missing rng", NULL, 0);
        return NULL;
    }
    camrtc_tls_config *cfg = config_alloc(false, rng, err, errsz);
    if (!cfg)
        return NULL;
    cfg->verify = verify;
    mbedtls_ssl_conf_session_tickets(&cfg->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    if (!verify) {
        mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_NONE);
        return cfg;
    }
    const char *path = ca_file ? ca_file : CAMRTC_TLS_SYSTEM_CA_FILE;
    /* A positive result counts certificates that did not parse; system bundles
       may hold a few mbedtls cannot read, which is fine as long as some did. */
    int ret = mbedtls_x509_crt_parse_file(&cfg->certs, path);
    if (ret < 0 || cfg->certs.version == 0) {
        set_err(err, errsz, "cannot load CA file", path, ret < 0 ? ret : 0);
        camrtc_tls_config_free(cfg);
        return NULL;
    }
    mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->certs, NULL);
    return cfg;
}

camrtc_tls_config *camrtc_tls_config_new_client_cert(const char *ca_file, const char *cert_pem_path,
                                                     const char *key_pem_path, camrtc_rng *rng, char *err,
                                                     size_t errsz)
{
    if (!cert_pem_path || !key_pem_path || !rng) {
        set_err(err, errsz, "missing certificate, key or rng", NULL, 0);
        return NULL;
    }
    camrtc_tls_config *cfg = camrtc_tls_config_new_client(ca_file, true, rng, err, errsz);
    if (!cfg)
        return NULL;
    if (load_own(cfg, &cfg->own, cert_pem_path, key_pem_path, err, errsz) != 0) {
        camrtc_tls_config_free(cfg);
        return NULL;
    }
    return cfg;
}

int camrtc_tls_config_require_client_cert(camrtc_tls_config *cfg, const char *ca_file, char *err, size_t errsz)
{
    if (!cfg || !cfg->server || !ca_file) {
        set_err(err, errsz, "client certificates need a server config and a CA file", NULL, 0);
        return CAMRTC_EINVAL;
    }
    if (cfg->client_ca.version != 0) {
        set_err(err, errsz, "client certificates are already required", NULL, 0);
        return CAMRTC_ESTATE;
    }
    int ret = mbedtls_x509_crt_parse_file(&cfg->client_ca, ca_file);
    if (ret < 0 || cfg->client_ca.version == 0) {
        set_err(err, errsz, "cannot load CA file", ca_file, ret < 0 ? ret : 0);
        mbedtls_x509_crt_free(&cfg->client_ca);
        mbedtls_x509_crt_init(&cfg->client_ca);
        return ret == MBEDTLS_ERR_PK_FILE_IO_ERROR || ret == MBEDTLS_ERR_X509_FILE_IO_ERROR ? CAMRTC_EIO
                                                                                            : CAMRTC_ECERT;
    }
    mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->client_ca, NULL);
    mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    return CAMRTC_OK;
}

bool camrtc_tls_config_is_server(const camrtc_tls_config *cfg)
{
    return cfg && cfg->server;
}

void camrtc_tls_config_free(camrtc_tls_config *cfg)
{
    if (!cfg)
        return;
    mbedtls_ssl_config_free(&cfg->conf);
    mbedtls_x509_crt_free(&cfg->certs);
    mbedtls_pk_free(&cfg->key);
    mbedtls_x509_crt_free(&cfg->own);
    mbedtls_x509_crt_free(&cfg->client_ca);
    free(cfg);
}

static int bio_send(void *p, const unsigned char *data, size_t len)
{
    camrtc_tls *t = p;
    if (len > INT_MAX)
        len = INT_MAX;
    if (camrtc_buf_append(&t->out, data, len) < 0)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    return (int)len;
}

static int bio_recv(void *p, unsigned char *out, size_t len)
{
    camrtc_tls *t = p;
    if (t->in.len == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = t->in.len < len ? t->in.len : len;
    if (n > INT_MAX)
        n = INT_MAX;
    memcpy(out, camrtc_buf_data(&t->in), n);
    camrtc_buf_consume(&t->in, n);
    return (int)n;
}

/* Walk the certificate's raw extensions for iPAddress subjectAltNames
 * (RFC 5280 section 4.2.1.6): mbedtls 2.28 does not keep them. */
static bool crt_has_ip(const mbedtls_x509_crt *crt, const uint8_t *ip, size_t iplen)
{
    unsigned char *p = crt->v3_ext.p;
    if (!p || crt->v3_ext.len == 0)
        return false;
    const unsigned char *end = p + crt->v3_ext.len;
    size_t len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
        return false;
    end = p + len;
    while (p < end) {
        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
            return false;
        const unsigned char *ext_end = p + len;
        size_t oid_len;
        if (mbedtls_asn1_get_tag(&p, ext_end, &oid_len, MBEDTLS_ASN1_OID) != 0)
            return false;
        const unsigned char *oid = p;
        p += oid_len;
        if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN) {
            int critical;
            if (mbedtls_asn1_get_bool(&p, ext_end, &critical) != 0)
                return false;
        }
        size_t val_len;
        if (mbedtls_asn1_get_tag(&p, ext_end, &val_len, MBEDTLS_ASN1_OCTET_STRING) != 0)
            return false;
        if (oid_len == MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME) &&
            memcmp(oid, MBEDTLS_OID_SUBJECT_ALT_NAME, oid_len) == 0) {
            unsigned char *q = p;
            const unsigned char *val_end = p + val_len;
            size_t names_len;
            if (mbedtls_asn1_get_tag(&q, val_end, &names_len,
                                     MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
                return false;
            const unsigned char *names_end = q + names_len;
            while (q < names_end) {
                unsigned char tag = *q++;
                size_t n;
                if (mbedtls_asn1_get_len(&q, names_end, &n) != 0)
                    return false;
                if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && n == iplen && memcmp(q, ip, n) == 0)
                    return true;
                q += n;
            }
        }
        p = (unsigned char *)ext_end;
    }
    return false;
}

static int verify_ip_cb(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    const camrtc_tls *t = p;
    if (depth == 0 && !crt_has_ip(crt, t->ip, t->iplen))
        *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    return 0;
}

camrtc_tls *camrtc_tls_new(const camrtc_tls_config *cfg, const char *server_name)
{
    if (!cfg)
        return NULL;
    if (!cfg->server && cfg->verify && (!server_name || !*server_name))
        return NULL;
    camrtc_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = cfg;
    t->in.max_cap = CAMRTC_TLS_MAX_FEED;
    mbedtls_ssl_init(&t->ssl);
    if (mbedtls_ssl_setup(&t->ssl, &cfg->conf) != 0)
        goto fail;
    if (!cfg->server && server_name) {
        if (inet_pton(AF_INET, server_name, t->ip) == 1)
            t->iplen = 4;
        else if (inet_pton(AF_INET6, server_name, t->ip) == 1)
            t->iplen = 16;
        if (t->iplen) {
            /* Explicitly no name: no SNI for an address, and the iPAddress SAN
               check happens in verify_ip_cb instead. */
            if (mbedtls_ssl_set_hostname(&t->ssl, NULL) != 0)
                goto fail;
            if (cfg->verify)
                mbedtls_ssl_set_verify(&t->ssl, verify_ip_cb, t);
        } else if (mbedtls_ssl_set_hostname(&t->ssl, server_name) != 0) {
            goto fail;
        }
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    return t;
fail:
    camrtc_tls_free(t);
    return NULL;
}

int camrtc_tls_feed(camrtc_tls *t, const uint8_t *data, size_t len)
{
    if (t->state == TLS_DEAD)
        return t->err;
    return camrtc_buf_append(&t->in, data, len);
}

/* Idle sessions should hold only mbedtls's own buffers: give back ours. */
static void release_idle(camrtc_tls *t)
{
    if (t->in.len == 0 && t->in.mem)
        camrtc_buf_free(&t->in);
}

static void verify_reason(char *s, size_t n, uint32_t flags)
{
    static const struct { uint32_t flag; const char *text; } reasons[] = {
        {MBEDTLS_X509_BADCERT_CN_MISMATCH, "name mismatch"},
        {MBEDTLS_X509_BADCERT_NOT_TRUSTED, "not trusted"},
        {MBEDTLS_X509_BADCERT_EXPIRED, "expired"},
        {MBEDTLS_X509_BADCERT_FUTURE, "not yet valid"},
        {MBEDTLS_X509_BADCERT_REVOKED, "revoked"},
        {MBEDTLS_X509_BADCERT_KEY_USAGE, "bad key usage"},
        {MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "bad extended key usage"},
        {MBEDTLS_X509_BADCERT_BAD_MD, "weak signature hash"},
        {MBEDTLS_X509_BADCERT_BAD_KEY, "weak key"},
    };
    size_t used = (size_t)snprintf(s, n, "certificate verification failed:");
    bool any = false;
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0] && used < n; i++) {
        if (flags & reasons[i].flag) {
            used += (size_t)snprintf(s + used, n - used, "%s %s", any ? "," : "", reasons[i].text);
            any = true;
        }
    }
    if (!any && used < n)
        snprintf(s + used, n - used, " flags 0x%x", (unsigned)flags);
}

static int fail(camrtc_tls *t, int ret, const char *during)
{
    t->state = TLS_DEAD;
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        t->err = CAMRTC_ECERT;
        verify_reason(t->errstr, sizeof t->errstr, mbedtls_ssl_get_verify_result(&t->ssl));
    } else {
        t->err = ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? CAMRTC_ENOMEM : CAMRTC_ETLS;
        char why[96];
        mbedtls_strerror(ret, why, sizeof why);
        snprintf(t->errstr, sizeof t->errstr, "%s failed: %s (-0x%04x)", during, why, (unsigned)-ret);
    }
    camrtc_buf_free(&t->in);
    return t->err;
}

int camrtc_tls_handshake(camrtc_tls *t)
{
    if (t->state == TLS_OPEN)
        return CAMRTC_OK;
    if (t->state == TLS_DEAD)
        return t->err;
    int ret = mbedtls_ssl_handshake(&t->ssl);
    if (ret == 0) {
        t->state = TLS_OPEN;
        release_idle(t);
        return CAMRTC_OK;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        release_idle(t);
        return CAMRTC_EAGAIN;
    }
    return fail(t, ret, "TLS handshake");
}

int camrtc_tls_read(camrtc_tls *t, uint8_t *out, size_t cap)
{
    if (t->state == TLS_DEAD)
        return t->err;
    if (t->state != TLS_OPEN)
        return CAMRTC_ESTATE;
    if (t->peer_closed)
        return CAMRTC_ECLOSED;
    if (cap == 0)
        return CAMRTC_EINVAL;
    if (cap > INT_MAX)
        cap = INT_MAX;
    int ret = mbedtls_ssl_read(&t->ssl, out, cap);
    if (ret > 0)
        return ret;
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        release_idle(t);
        return CAMRTC_EAGAIN;
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        t->peer_closed = true;
        camrtc_buf_free(&t->in);
        return CAMRTC_ECLOSED;
    }
    return fail(t, ret, "TLS read");
}

int camrtc_tls_write(camrtc_tls *t, const void *data, size_t len)
{
    if (t->state == TLS_DEAD)
        return t->err;
    if (t->state != TLS_OPEN || t->write_closed)
        return CAMRTC_ESTATE;
    const unsigned char *p = data;
    while (len > 0) {
        /* The memory BIO never blocks, so mbedtls takes up to one record per call. */
        int ret = mbedtls_ssl_write(&t->ssl, p, len);
        if (ret <= 0)
            return fail(t, ret == 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : ret, "TLS write");
        p += ret;
        len -= (size_t)ret;
    }
    return CAMRTC_OK;
}

int camrtc_tls_close(camrtc_tls *t)
{
    if (t->state == TLS_DEAD)
        return t->err;
    if (t->write_closed)
        return CAMRTC_OK;
    t->write_closed = true;
    int ret = mbedtls_ssl_close_notify(&t->ssl);
    if (ret != 0 && ret != MBEDTLS_ERR_SSL_WANT_WRITE)
        return fail(t, ret, "TLS close");
    return CAMRTC_OK;
}

int camrtc_tls_drain(camrtc_tls *t, camrtc_buf *out)
{
    size_t n = t->out.len;
    if (n == 0)
        return 0;
    if (out->len == 0 && (out->max_cap == 0 || t->out.cap <= out->max_cap)) {
        size_t max_cap = out->max_cap;
        free(out->mem);
        *out = t->out;
        out->max_cap = max_cap;
        memset(&t->out, 0, sizeof t->out);
    } else {
        int rc = camrtc_buf_append(out, camrtc_buf_data(&t->out), n);
        if (rc < 0)
            return rc;
        camrtc_buf_free(&t->out);
    }
    return n > INT_MAX ? INT_MAX : (int)n;
}

size_t camrtc_tls_pending(const camrtc_tls *t)
{
    return t->out.len;
}

const char *camrtc_tls_error_string(const camrtc_tls *t)
{
    return t->errstr;
}

void camrtc_tls_free(camrtc_tls *t)
{
    if (!t)
        return;
    mbedtls_ssl_free(&t->ssl);
    camrtc_buf_free(&t->in);
    camrtc_buf_free(&t->out);
    free(t);
}
