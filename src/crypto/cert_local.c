/* The local CA and server certificate kept on disk for the signaling service. */
#include "camrtc/cert.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/str.h"
#include "camrtc/time.h"
#include "crypto/cert_int.h"

#define DAY 86400
#define CA_DAYS 3650
/* A CA this close to its end is replaced rather than used for a new leaf. */
#define CA_MIN_LEFT (30 * DAY)
#define LEAF_MIN_LEFT DAY
#define CA_ORG "camrtc"

static const char *const default_hosts[] = {"localhost", "127.0.0.1", "::1"};

typedef struct local_paths {
    char ca_pem[PATH_MAX];
    char ca_key[PATH_MAX];
    char srv_pem[PATH_MAX];
    char srv_key[PATH_MAX];
} local_paths;

/* The parsed state of the directory. */
typedef struct local_state {
    mbedtls_x509_crt ca;
    mbedtls_x509_crt leaf;
    mbedtls_pk_context ca_key;
    mbedtls_pk_context leaf_key;
    bool ca_ok;
    bool leaf_ok;
    char ca_subject[160];  /* mbedtls name string of the CA, to issue leaves */
} local_state;

__attribute__((format(printf, 4, 5))) static int set_err(char *err, size_t errsz, int rc, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int64_t x509_time_unix(const mbedtls_x509_time *t)
{
    if (t->year < 0 || t->year > 9999 || t->mon < 1 || t->mon > 12 || t->day < 1 || t->day > 31 ||
        t->hour < 0 || t->hour > 23 || t->min < 0 || t->min > 59 || t->sec < 0 || t->sec > 60)
        return 0;
    char s[32];
    int64_t v = 0;
    snprintf(s, sizeof s, "%04u%02u%02uT%02u%02u%02uZ", (unsigned)t->year, (unsigned)t->mon,
             (unsigned)t->day, (unsigned)t->hour, (unsigned)t->min, (unsigned)t->sec);
    return camrtc_time_parse_amz(s, &v) == 0 ? v : 0;
}

/* Find the value of one attribute in a parsed name; copies it when it is made of
 * characters our own names use, else returns false. */
static bool name_attr(const mbedtls_x509_name *n, const char *oid, size_t oid_len, char *out, size_t outsz)
{
    for (; n; n = n->next) {
        if (n->oid.len != oid_len || memcmp(n->oid.p, oid, oid_len) != 0)
            continue;
        if (n->val.len == 0 || n->val.len >= outsz)
            return false;
        for (size_t i = 0; i < n->val.len; i++) {
            unsigned char c = n->val.p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' '))
                return false;
        }
        memcpy(out, n->val.p, n->val.len);
        out[n->val.len] = '\0';
        return true;
    }
    return false;
}

/* True when the leaf's subjectAltName lists every host. The extension is read
 * from the raw v3 extensions because mbedtls 2.28 does not keep IP entries. */
static bool leaf_covers(const mbedtls_x509_crt *leaf, const cert_host *hosts, size_t n)
{
    unsigned char *p = leaf->v3_ext.p, *end = p + leaf->v3_ext.len;
    size_t len;
    /* Extensions ::= [3] EXPLICIT SEQUENCE OF Extension; v3_ext may or may not
     * include the [3] wrapper depending on the version, so accept both. */
    if (p < end && *p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3) &&
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3) != 0)
        return false;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
        return false;
    end = p + len;
    unsigned char *san = NULL, *san_end = NULL;
    while (p < end) {
        unsigned char *ext_end;
        mbedtls_x509_buf oid;
        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
            return false;
        ext_end = p + len;
        if (mbedtls_asn1_get_tag(&p, ext_end, &oid.len, MBEDTLS_ASN1_OID) != 0)
            return false;
        oid.p = p;
        p += oid.len;
        int crit = 0;
        if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_bool(&p, ext_end, &crit) != 0)
            return false;
        if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0)
            return false;
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_SUBJECT_ALT_NAME, &oid) == 0) {
            san = p;
            san_end = p + len;
        }
        p = ext_end;
    }
    if (!san || mbedtls_asn1_get_tag(&san, san_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
        return false;
    san_end = san + len;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (unsigned char *q = san; q < san_end && !found;) {
            unsigned char tag = *q++;
            if (mbedtls_asn1_get_len(&q, san_end, &len) != 0)
                return false;
            if (hosts[i].is_ip && tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7))
                found = len == hosts[i].ip_len && memcmp(q, hosts[i].ip, len) == 0;
            else if (!hosts[i].is_ip && tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2))
                found = len == strlen(hosts[i].dns) && strncasecmp((const char *)q, hosts[i].dns, len) == 0;
            q += len;
        }
        if (!found)
            return false;
    }
    return true;
}

static void load_state(local_state *st, const local_paths *lp, const cert_host *hosts, size_t n, int64_t now)
{
    char cn[65], org[65];
    st->ca_ok = mbedtls_x509_crt_parse_file(&st->ca, lp->ca_pem) == 0 && st->ca.next == NULL &&
                st->ca.ca_istrue && mbedtls_pk_parse_keyfile(&st->ca_key, lp->ca_key, NULL) == 0 &&
                mbedtls_pk_check_pair(&st->ca.pk, &st->ca_key) == 0 &&
                x509_time_unix(&st->ca.valid_from) <= now &&
                x509_time_unix(&st->ca.valid_to) >= now + CA_MIN_LEFT &&
                name_attr(&st->ca.subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), cn,
                          sizeof cn) &&
                name_attr(&st->ca.subject, MBEDTLS_OID_AT_ORGANIZATION,
                          MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION), org, sizeof org);
    if (st->ca_ok)
        snprintf(st->ca_subject, sizeof st->ca_subject, "CN=%s,O=%s", cn, org);
    if (!st->ca_ok)
        return;
    uint32_t flags = 0;
    st->leaf_ok = mbedtls_x509_crt_parse_file(&st->leaf, lp->srv_pem) == 0 && !st->leaf.ca_istrue &&
                  mbedtls_pk_parse_keyfile(&st->leaf_key, lp->srv_key, NULL) == 0 &&
                  mbedtls_pk_check_pair(&st->leaf.pk, &st->leaf_key) == 0 &&
                  mbedtls_x509_crt_verify(&st->leaf, &st->ca, NULL, NULL, &flags, NULL, NULL) == 0 &&
                  x509_time_unix(&st->leaf.valid_to) >= now + LEAF_MIN_LEFT && leaf_covers(&st->leaf, hosts, n);
}

/* Write data to path through a temporary file in the same directory and a rename,
 * so readers never see half a file. */
static int write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return CAMRTC_EINVAL;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return CAMRTC_EIO;
    int rc = fchmod(fd, mode) == 0 ? CAMRTC_OK : CAMRTC_EIO;
    const uint8_t *p = data;
    while (rc == 0 && len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = CAMRTC_EIO;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = CAMRTC_EIO;
    if (close(fd) != 0 && rc == 0)
        rc = CAMRTC_EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = CAMRTC_EIO;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

static int write_key(const char *path, mbedtls_pk_context *key, uint8_t *buf, size_t bufsz)
{
    int rc = mbedtls_pk_write_key_pem(key, buf, bufsz) == 0 ? CAMRTC_OK : CAMRTC_ECRYPTO;
    if (rc == 0)
        rc = write_atomic(path, buf, strlen((char *)buf), 0600);
    mbedtls_platform_zeroize(buf, bufsz);
    return rc;
}

static int make_ca(local_state *st, const local_paths *lp, camrtc_rng *rng, int64_t now, uint8_t *buf,
                   char *err, size_t errsz)
{
    uint8_t id[4];
    char idhex[9];
    if (camrtc_rng_bytes(rng, id, sizeof id) < 0)
        return set_err(err, errsz, CAMRTC_ECRYPTO, "random generator failed");
    camrtc_hex_encode(id, sizeof id, idhex, sizeof idhex);
    /* A unique name per CA, so browsers never mix up an old and a new one. */
    snprintf(st->ca_subject, sizeof st->ca_subject, "CN=camrtc local CA %s,O=" CA_ORG, idhex);
    mbedtls_pk_free(&st->ca_key);
    mbedtls_pk_init(&st->ca_key);
    int rc = cert_gen_key(&st->ca_key, rng);
    if (rc < 0)
        return set_err(err, errsz, rc, "CA key generation failed");
    cert_spec spec = {
        .subject = st->ca_subject, .issuer = st->ca_subject, .subject_key = &st->ca_key,
        .issuer_key = &st->ca_key, .not_before = now - 3600, .not_after = now + (int64_t)CA_DAYS * DAY,
        .is_ca = true, .extensions = true,
        .key_usage = MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN,
    };
    size_t len;
    if ((rc = write_key(lp->ca_key, &st->ca_key, buf, CERT_BUF_SIZE)) < 0)
        return set_err(err, errsz, rc, "cannot write %s", lp->ca_key);
    if ((rc = cert_write(&spec, rng, true, buf, CERT_BUF_SIZE, &len)) < 0)
        return set_err(err, errsz, rc, "CA certificate creation failed");
    if ((rc = write_atomic(lp->ca_pem, buf, len, 0644)) < 0)
        return set_err(err, errsz, rc, "cannot write %s", lp->ca_pem);
    return CAMRTC_OK;
}

static int make_leaf(local_state *st, const local_paths *lp, const cert_host *hosts, size_t n,
                     camrtc_rng *rng, int64_t now, uint8_t *buf, char *err, size_t errsz)
{
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    int rc = cert_gen_key(&key, rng);
    if (rc < 0) {
        mbedtls_pk_free(&key);
        return set_err(err, errsz, rc, "server key generation failed");
    }
    /* One hour of slack for clocks behind ours, still within 397 days in total. */
    cert_spec spec = {
        .subject = "CN=camrtc local server,O=" CA_ORG, .issuer = st->ca_subject, .subject_key = &key,
        .issuer_key = &st->ca_key, .not_before = now - 3600,
        .not_after = now + (int64_t)(CAMRTC_CERT_LEAF_DAYS - 1) * DAY, .is_ca = false, .extensions = true,
        .key_usage = MBEDTLS_X509_KU_DIGITAL_SIGNATURE, .server_auth = true, .hosts = hosts, .n_hosts = n,
    };
    size_t len;
    if ((rc = write_key(lp->srv_key, &key, buf, CERT_BUF_SIZE)) < 0)
        rc = set_err(err, errsz, rc, "cannot write %s", lp->srv_key);
    else if ((rc = cert_write(&spec, rng, true, buf, CERT_BUF_SIZE, &len)) < 0)
        rc = set_err(err, errsz, rc, "server certificate creation failed");
    else if ((rc = write_atomic(lp->srv_pem, buf, len, 0644)) < 0)
        rc = set_err(err, errsz, rc, "cannot write %s", lp->srv_pem);
    mbedtls_pk_free(&key);
    return rc;
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int make_dirs(const char *dir)
{
    char p[PATH_MAX];
    if (camrtc_strlcpy(p, dir, sizeof p) < 0)
        return CAMRTC_EINVAL;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return CAMRTC_EIO;
        *s = c;
        if (!c)
            break;
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? CAMRTC_OK : CAMRTC_EIO;
}

static int make_paths(const char *dir, local_paths *lp)
{
    /* Room for the longest name plus the ".tmp.XXXXXX" suffix of write_atomic. */
    if (strlen(dir) + 32 >= PATH_MAX)
        return CAMRTC_EINVAL;
    snprintf(lp->ca_pem, sizeof lp->ca_pem, "%s/ca.pem", dir);
    snprintf(lp->ca_key, sizeof lp->ca_key, "%s/ca.key", dir);
    snprintf(lp->srv_pem, sizeof lp->srv_pem, "%s/server.pem", dir);
    snprintf(lp->srv_key, sizeof lp->srv_key, "%s/server.key", dir);
    return CAMRTC_OK;
}

int camrtc_cert_ensure_local_ca(const char *dir, const char *const *hosts, size_t n_hosts, camrtc_rng *rng,
                                char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    if (!dir || !*dir || !rng || (n_hosts && !hosts))
        return set_err(err, errsz, CAMRTC_EINVAL, "invalid argument");
    if (!hosts || n_hosts == 0) {
        hosts = default_hosts;
        n_hosts = sizeof default_hosts / sizeof default_hosts[0];
    }
    if (n_hosts > CAMRTC_CERT_MAX_HOSTS)
        return set_err(err, errsz, CAMRTC_EINVAL, "too many hosts (%zu > %d)", n_hosts, CAMRTC_CERT_MAX_HOSTS);
    cert_host h[CAMRTC_CERT_MAX_HOSTS];
    for (size_t i = 0; i < n_hosts; i++)
        if (cert_parse_host(hosts[i], &h[i]) < 0)
            return set_err(err, errsz, CAMRTC_EINVAL, "not a DNS name or IP address: '%.64s'",
                           hosts[i] ? hosts[i] : "(null)");
    local_paths *lp = malloc(sizeof *lp);
    uint8_t *buf = malloc(CERT_BUF_SIZE);
    if (!lp || !buf) {
        free(lp);
        free(buf);
        return set_err(err, errsz, CAMRTC_ENOMEM, "out of memory");
    }
    int rc = make_paths(dir, lp);
    if (rc < 0) {
        set_err(err, errsz, rc, "directory name too long");
    } else if (make_dirs(dir) < 0) {
        rc = set_err(err, errsz, CAMRTC_EIO, "cannot create directory %s: %s", dir, strerror(errno));
    }
    if (rc < 0) {
        free(lp);
        free(buf);
        return rc;
    }

    int64_t now = camrtc_wall_ms() / 1000;
    local_state st;
    memset(&st, 0, sizeof st);
    mbedtls_x509_crt_init(&st.ca);
    mbedtls_x509_crt_init(&st.leaf);
    mbedtls_pk_init(&st.ca_key);
    mbedtls_pk_init(&st.leaf_key);
    load_state(&st, lp, h, n_hosts, now);
    if (!st.ca_ok)
        rc = make_ca(&st, lp, rng, now, buf, err, errsz);
    if (rc == 0 && !st.leaf_ok)
        rc = make_leaf(&st, lp, h, n_hosts, rng, now, buf, err, errsz);
    mbedtls_x509_crt_free(&st.ca);
    mbedtls_x509_crt_free(&st.leaf);
    mbedtls_pk_free(&st.ca_key);
    mbedtls_pk_free(&st.leaf_key);
    mbedtls_platform_zeroize(buf, CERT_BUF_SIZE);
    free(buf);
    free(lp);
    return rc;
}
