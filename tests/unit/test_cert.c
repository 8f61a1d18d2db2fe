/* Local CA + server certificate on disk, self-signed DTLS certificates and
 * SHA-256 fingerprints. Runs in a mkdtemp directory; cross-checks with the
 * openssl command when /usr/bin/openssl exists. */
#include "check.h"

#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "camrtc/cert.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"

static char dir[64];

static void path_of(char *out, size_t outsz, const char *name)
{
    snprintf(out, outsz, "%s/%s", dir, name);
}

/* Whole file into a malloc'd buffer (NUL-terminated); NULL if unreadable. */
static char *slurp(const char *name, size_t *len)
{
    char p[128];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static bool same_file(const char *name, const char *before)
{
    char *now = slurp(name, NULL);
    bool same = now && before && strcmp(now, before) == 0;
    free(now);
    return same;
}

static void put_file(const char *name, const char *data)
{
    char p[128];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(data, f);
        fclose(f);
    }
}

static bool have_openssl(void)
{
    return access("/usr/bin/openssl", X_OK) == 0;
}

/* Run a shell command in dir; its stdout into out. Returns the exit status. */
static int run(const char *cmd, char *out, size_t outsz)
{
    char full[512];
    snprintf(full, sizeof full, "cd '%s' && %s 2>&1", dir, cmd);
    FILE *p = popen(full, "r");
    if (!p)
        return -1;
    size_t n = out ? fread(out, 1, outsz - 1, p) : 0;
    if (out)
        out[n] = '\0';
    else {
        char sink[256];
        while (fread(sink, 1, sizeof sink, p) > 0) {
        }
    }
    return pclose(p);
}

/* Parse ca.pem and server.pem and verify the chain for cn (NULL: any name). */
static int verify_chain(const char *cn, uint32_t *flags_out)
{
    char ca_path[128], leaf_path[128];
    path_of(ca_path, sizeof ca_path, "ca.pem");
    path_of(leaf_path, sizeof leaf_path, "server.pem");
    mbedtls_x509_crt ca, leaf;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&leaf);
    uint32_t flags = 0;
    int rc = -1;
    if (mbedtls_x509_crt_parse_file(&ca, ca_path) == 0 && mbedtls_x509_crt_parse_file(&leaf, leaf_path) == 0)
        rc = mbedtls_x509_crt_verify(&leaf, &ca, NULL, cn, &flags, NULL, NULL);
    if (flags_out)
        *flags_out = flags;
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&leaf);
    return rc;
}

static int file_mode(const char *name)
{
    char p[128];
    struct stat st;
    path_of(p, sizeof p, name);
    return stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

TEST(ensure_creates_ca_and_server_files)
{
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init(&rng), CAMRTC_OK);
    char err[256];
    int rc = camrtc_cert_ensure_local_ca(dir, NULL, 0, &rng, err, sizeof err);
    camrtc_rng_free(&rng);
    if (rc)
        fprintf(stderr, "  err: %s\n", err);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK_EQ_INT(file_mode("ca.key"), 0600);
    CHECK_EQ_INT(file_mode("server.key"), 0600);
    CHECK_EQ_INT(file_mode("ca.pem"), 0644);
    CHECK_EQ_INT(file_mode("server.pem"), 0644);
    uint32_t flags;
    CHECK_EQ_INT(verify_chain("localhost", &flags), 0);
    /* A name not in subjectAltName must fail the same verification. */
    CHECK(verify_chain("example.com", &flags) != 0);
    CHECK(flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
}

TEST(certificate_profile)
{
    char ca_path[128], leaf_path[128];
    path_of(ca_path, sizeof ca_path, "ca.pem");
    path_of(leaf_path, sizeof leaf_path, "server.pem");
    mbedtls_x509_crt ca, leaf;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&leaf);
    int ok = mbedtls_x509_crt_parse_file(&ca, ca_path) == 0 && mbedtls_x509_crt_parse_file(&leaf, leaf_path) == 0;
    int ca_true = ca.ca_istrue, leaf_ca = leaf.ca_istrue;
    unsigned ca_ku = ca.key_usage, leaf_ku = leaf.key_usage;
    int eku = mbedtls_x509_crt_check_extended_key_usage(&leaf, MBEDTLS_OID_SERVER_AUTH,
                                                         MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
    int leaf_ec = mbedtls_pk_get_type(&leaf.pk) == MBEDTLS_PK_ECKEY;
    int sig_sha256 = leaf.sig_md == MBEDTLS_MD_SHA256 && ca.sig_md == MBEDTLS_MD_SHA256;
    /* Days between notBefore and notAfter, by calendar arithmetic on the fields. */
    long from = leaf.valid_from.year * 372L + leaf.valid_from.mon * 31L + leaf.valid_from.day;
    long to = leaf.valid_to.year * 372L + leaf.valid_to.mon * 31L + leaf.valid_to.day;
    size_t serial_len = leaf.serial.len;
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&leaf);
    CHECK(ok);
    CHECK_EQ_INT(ca_true, 1);
    CHECK_EQ_INT(leaf_ca, 0);
    CHECK_EQ_INT(ca_ku, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN);
    CHECK_EQ_INT(leaf_ku, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    CHECK_EQ_INT(eku, 0);
    CHECK(leaf_ec);
    CHECK(sig_sha256);
    CHECK(to - from <= 397 + 14); /* coarse month arithmetic; openssl checks it exactly below */
    CHECK(serial_len >= 8);

    if (!have_openssl()) {
        fprintf(stderr, "  /usr/bin/openssl absent: openssl checks skipped\n");
        return;
    }
    char out[8192];
    CHECK_EQ_INT(run("openssl verify -CAfile ca.pem server.pem", out, sizeof out), 0);
    CHECK(strstr(out, "server.pem: OK") != NULL);
    CHECK_EQ_INT(run("openssl x509 -noout -ext subjectAltName -in server.pem", out, sizeof out), 0);
    CHECK(strstr(out, "DNS:localhost") != NULL);
    CHECK(strstr(out, "IP Address:127.0.0.1") != NULL);
    CHECK(strstr(out, "IP Address:0:0:0:0:0:0:0:1") != NULL);
    CHECK_EQ_INT(run("openssl x509 -noout -text -in server.pem", out, sizeof out), 0);
    CHECK(strstr(out, "CA:FALSE") != NULL);
    CHECK(strstr(out, "TLS Web Server Authentication") != NULL);
    CHECK(strstr(out, "Digital Signature") != NULL);
    CHECK(strstr(out, "ecdsa-with-SHA256") != NULL);
    CHECK(strstr(out, "prime256v1") != NULL);
    CHECK_EQ_INT(run("openssl x509 -noout -text -in ca.pem", out, sizeof out), 0);
    CHECK(strstr(out, "CA:TRUE") != NULL);
    CHECK(strstr(out, "Certificate Sign, CRL Sign") != NULL);
    /* Valid for at least 396 days more, at most 397 in all. */
    CHECK_EQ_INT(run("openssl x509 -noout -checkend 34128000 -in server.pem", out, sizeof out), 0);
    CHECK(run("openssl x509 -noout -checkend 34300800 -in server.pem", out, sizeof out) != 0);
    /* The key files are the private halves of the certificates. */
    char a[512], b[512];
    CHECK_EQ_INT(run("openssl pkey -in server.key -pubout", a, sizeof a), 0);
    CHECK_EQ_INT(run("openssl x509 -noout -pubkey -in server.pem", b, sizeof b), 0);
    CHECK_EQ_STR(a, b);
}

TEST(second_call_reuses_files)
{
    char *ca = slurp("ca.pem", NULL), *cak = slurp("ca.key", NULL);
    char *srv = slurp("server.pem", NULL), *srvk = slurp("server.key", NULL);
    camrtc_rng rng;
    camrtc_rng_init(&rng);
    int rc = camrtc_cert_ensure_local_ca(dir, NULL, 0, &rng, NULL, 0);
    /* The default hosts given explicitly are the same set. */
    const char *hosts[] = {"127.0.0.1", "LOCALHOST", "::1"};
    int rc2 = camrtc_cert_ensure_local_ca(dir, hosts, 3, &rng, NULL, 0);
    camrtc_rng_free(&rng);
    bool same = same_file("ca.pem", ca) && same_file("ca.key", cak) && same_file("server.pem", srv) &&
                same_file("server.key", srvk);
    free(ca);
    free(cak);
    free(srv);
    free(srvk);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK_EQ_INT(rc2, CAMRTC_OK);
    CHECK(same);
}

TEST(corrupt_server_pem_is_regenerated)
{
    char *ca = slurp("ca.pem", NULL), *srvk = slurp("server.key", NULL);
    put_file("server.pem", "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
    camrtc_rng rng;
    camrtc_rng_init(&rng);
    char err[256] = "";
    int rc = camrtc_cert_ensure_local_ca(dir, NULL, 0, &rng, err, sizeof err);
    camrtc_rng_free(&rng);
    bool ca_kept = same_file("ca.pem", ca);
    bool new_key = !same_file("server.key", srvk);
    free(ca);
    free(srvk);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK(ca_kept);   /* a CA the user may already trust survives */
    CHECK(new_key);
    CHECK_EQ_INT(verify_chain("localhost", NULL), 0);
}

TEST(other_hosts_give_a_new_leaf)
{
    char *ca = slurp("ca.pem", NULL), *srv = slurp("server.pem", NULL);
    const char *hosts[] = {"camera.local", "192.168.1.20", "fe80::1", "localhost"};
    camrtc_rng rng;
    camrtc_rng_init(&rng);
    int rc = camrtc_cert_ensure_local_ca(dir, hosts, 4, &rng, NULL, 0);
    bool ca_kept = same_file("ca.pem", ca);
    bool leaf_new = !same_file("server.pem", srv);
    free(srv);
    srv = slurp("server.pem", NULL);
    int rc2 = camrtc_cert_ensure_local_ca(dir, hosts, 4, &rng, NULL, 0);
    bool reused = same_file("server.pem", srv);
    camrtc_rng_free(&rng);
    free(ca);
    free(srv);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK_EQ_INT(rc2, CAMRTC_OK);
    CHECK(ca_kept);
    CHECK(leaf_new);
    CHECK(reused);
    CHECK_EQ_INT(verify_chain("camera.local", NULL), 0);
    if (have_openssl()) {
        char out[2048];
        CHECK_EQ_INT(run("openssl x509 -noout -ext subjectAltName -in server.pem", out, sizeof out), 0);
        CHECK(strstr(out, "DNS:camera.local") != NULL);
        CHECK(strstr(out, "IP Address:192.168.1.20") != NULL);
        CHECK(strstr(out, "IP Address:FE80:0:0:0:0:0:0:1") != NULL);
        CHECK(strstr(out, "127.0.0.1") == NULL);
        CHECK_EQ_INT(run("openssl verify -CAfile ca.pem server.pem", out, sizeof out), 0);
    }
}

TEST(corrupt_ca_regenerates_everything)
{
    char *ca = slurp("ca.pem", NULL), *srv = slurp("server.pem", NULL);
    put_file("ca.key", "garbage");
    camrtc_rng rng;
    camrtc_rng_init(&rng);
    int rc = camrtc_cert_ensure_local_ca(dir, NULL, 0, &rng, NULL, 0);
    camrtc_rng_free(&rng);
    bool ca_new = !same_file("ca.pem", ca), leaf_new = !same_file("server.pem", srv);
    free(ca);
    free(srv);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK(ca_new);
    CHECK(leaf_new);
    CHECK_EQ_INT(verify_chain("localhost", NULL), 0);
    CHECK_EQ_INT(file_mode("ca.key"), 0600);
}

TEST(ensure_refuses_bad_arguments)
{
    camrtc_rng rng;
    camrtc_rng_init(&rng);
    char err[256] = "";
    const char *bad[] = {"bad host!"};
    int rc1 = camrtc_cert_ensure_local_ca(dir, bad, 1, &rng, err, sizeof err);
    bool named = strstr(err, "bad host!") != NULL;
    const char *bad2[] = {"-leading.example"};
    int rc2 = camrtc_cert_ensure_local_ca(dir, bad2, 1, &rng, NULL, 0);
    const char *many[CAMRTC_CERT_MAX_HOSTS + 1];
    for (size_t i = 0; i < CAMRTC_CERT_MAX_HOSTS + 1; i++)
        many[i] = "localhost";
    int rc3 = camrtc_cert_ensure_local_ca(dir, many, CAMRTC_CERT_MAX_HOSTS + 1, &rng, NULL, 0);
    /* A directory that cannot be created. */
    int rc4 = camrtc_cert_ensure_local_ca("/proc/camrtc-no-such/dir", NULL, 0, &rng, err, sizeof err);
    camrtc_rng_free(&rng);
    CHECK_EQ_INT(rc1, CAMRTC_EINVAL);
    CHECK(named);
    CHECK_EQ_INT(rc2, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc3, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc4, CAMRTC_EIO);
}

TEST(creates_missing_parent_directories)
{
    char nested[128];
    snprintf(nested, sizeof nested, "%s/a/b", dir);
    camrtc_rng rng;
    camrtc_rng_init(&rng);
    char err[256] = "";
    int rc = camrtc_cert_ensure_local_ca(nested, NULL, 0, &rng, err, sizeof err);
    camrtc_rng_free(&rng);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK_EQ_INT(file_mode("a/b/server.key"), 0600);
    CHECK_EQ_INT(file_mode("a/b/ca.pem"), 0644);
    CHECK_EQ_INT(file_mode("a"), 0700);
}

TEST(fingerprint_format)
{
    char fp[CAMRTC_CERT_FINGERPRINT_SIZE];
    /* SHA-256("abc"), as a fingerprint */
    CHECK_EQ_INT(camrtc_cert_fingerprint_sha256((const uint8_t *)"abc", 3, fp, sizeof fp), CAMRTC_OK);
    CHECK_EQ_STR(fp, "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD");
    CHECK_EQ_INT(strlen(fp), 95);
    CHECK_EQ_INT(camrtc_cert_fingerprint_sha256((const uint8_t *)"abc", 3, fp, 95), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_cert_fingerprint_sha256(NULL, 0, fp, sizeof fp), CAMRTC_EINVAL);
}

TEST(self_signed_der_parses_and_matches_openssl)
{
    camrtc_rng rng;
    camrtc_rng_init(&rng);
    camrtc_cert c;
    int rc = camrtc_cert_self_signed("camrtc", 30, &rng, &c);
    int bad1 = camrtc_cert_self_signed("", 30, &rng, &(camrtc_cert){0});
    int bad2 = camrtc_cert_self_signed("a,b=c", 30, &rng, &(camrtc_cert){0});
    int bad3 = camrtc_cert_self_signed("camrtc", 0, &rng, &(camrtc_cert){0});
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK_EQ_INT(bad1, CAMRTC_EINVAL);
    CHECK_EQ_INT(bad2, CAMRTC_EINVAL);
    CHECK_EQ_INT(bad3, CAMRTC_EINVAL);

    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    int parsed = mbedtls_x509_crt_parse_der(&crt, c.cert_der, c.cert_len);
    int kparsed = mbedtls_pk_parse_key(&key, c.key_der, c.key_len, NULL, 0);
    int pair = parsed == 0 && kparsed == 0 ? mbedtls_pk_check_pair(&crt.pk, &key) : -1;
    uint32_t flags = 0;
    /* Self-signed: it verifies against itself. */
    int selfv = parsed == 0 ? mbedtls_x509_crt_verify(&crt, &crt, NULL, NULL, &flags, NULL, NULL) : -1;
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&key);
    char fp[CAMRTC_CERT_FINGERPRINT_SIZE];
    int frc = camrtc_cert_fingerprint_sha256(c.cert_der, c.cert_len, fp, sizeof fp);
    char der_path[128];
    path_of(der_path, sizeof der_path, "dtls.der");
    FILE *f = fopen(der_path, "wb");
    if (f) {
        fwrite(c.cert_der, 1, c.cert_len, f);
        fclose(f);
    }
    camrtc_cert_free(&c);
    camrtc_cert_free(&c); /* zeroed: a second free is harmless */
    camrtc_rng_free(&rng);
    CHECK_EQ_INT(parsed, 0);
    CHECK_EQ_INT(kparsed, 0);
    CHECK_EQ_INT(pair, 0);
    CHECK_EQ_INT(selfv, 0);
    CHECK_EQ_INT(frc, CAMRTC_OK);
    for (int i = 0; i < 95; i++)
        CHECK(i % 3 == 2 ? fp[i] == ':' : ((fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'A' && fp[i] <= 'F')));
    if (have_openssl()) {
        char out[512];
        CHECK_EQ_INT(run("openssl x509 -inform DER -in dtls.der -noout -fingerprint -sha256", out, sizeof out), 0);
        char *eq = strchr(out, '=');
        CHECK(eq != NULL);
        CHECK(strncmp(eq + 1, fp, 95) == 0);
    }
}

static void cleanup(void)
{
    /* Files first, then the nested directories, deepest first. */
    static const char *const names[] = {
        "ca.pem", "ca.key", "server.pem", "server.key", "dtls.der",
        "a/b/ca.pem", "a/b/ca.key", "a/b/server.pem", "a/b/server.key", "a/b", "a",
    };
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_of(p, sizeof p, names[i]);
        if (unlink(p) != 0)
            rmdir(p);
    }
    rmdir(dir);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/camrtc-cert-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = RUN_TESTS(ensure_creates_ca_and_server_files, certificate_profile, second_call_reuses_files,
                       corrupt_server_pem_is_regenerated, other_hosts_give_a_new_leaf,
                       corrupt_ca_regenerates_everything, ensure_refuses_bad_arguments,
                       creates_missing_parent_directories, fingerprint_format,
                       self_signed_der_parses_and_matches_openssl);
    cleanup();
    return rc;
}
