/* Local certificates on mbedtls x509write: ECDSA P-256 keys, SHA-256 signatures.
 *
 * camrtc_cert_ensure_local_ca keeps a small private CA plus a TLS server
 * certificate for the local signaling service in a directory (RFC 5280 profile:
 * basicConstraints 4.2.1.9, keyUsage 4.2.1.3, extKeyUsage 4.2.1.12,
 * subjectAltName 4.2.1.6; leaf lifetime within the CA/Browser Forum 397 days).
 * camrtc_cert_self_signed makes the throw-away DTLS certificate whose SHA-256
 * fingerprint goes into SDP (RFC 8122 section 5, "a=fingerprint:sha-256 AB:CD:...").
 * Unlike the protocol modules, ensure_local_ca reads files and the wall clock.
 */
#ifndef CAMRTC_CERT_H
#define CAMRTC_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "camrtc/rand.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest validity of the server certificate, in days. */
#define CAMRTC_CERT_LEAF_DAYS 397
/* Most hosts one server certificate may name. */
#define CAMRTC_CERT_MAX_HOSTS 32
/* Size of a camrtc_cert_fingerprint_sha256 result: 32 "XX" groups, 31 ':' and a NUL. */
#define CAMRTC_CERT_FINGERPRINT_SIZE 96

/* Make sure dir holds a local CA (ca.pem, ca.key) and a server certificate signed
 * by it (server.pem, server.key) valid for the DNS names and IP addresses given
 * (localhost, 127.0.0.1 and ::1 when hosts is NULL or n_hosts is 0).
 * Existing files are reused when they parse, the keys match, the leaf verifies
 * against the CA, is valid for >= 1 more day and covers every host; otherwise the
 * leaf is regenerated (and the CA too when it is missing, broken or expires
 * within 30 days, so a CA already trusted by a browser survives leaf renewals).
 * dir and missing parents are created (mode 0700). Keys are written with mode 0600, certificates
 * 0644, each through a temporary file renamed into place.
 * The CA has basicConstraints CA:TRUE, keyUsage keyCertSign|cRLSign; the leaf has
 * CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth,
 * subjectAltName (DNS + IP), validity <= 397 days, a random serial.
 * rng is borrowed. err (may be NULL) receives a message on failure.
 * Returns CAMRTC_OK, CAMRTC_EINVAL (bad host name, too many hosts), CAMRTC_EIO
 * (file system), CAMRTC_ECRYPTO or CAMRTC_ENOMEM. */
int camrtc_cert_ensure_local_ca(const char *dir, const char *const *hosts, size_t n_hosts, camrtc_rng *rng,
                                char *err, size_t errsz);

/* A certificate and its private key, both DER, owned by the struct. */
typedef struct camrtc_cert {
    uint8_t *cert_der;
    size_t cert_len;
    uint8_t *key_der;
    size_t key_len;
} camrtc_cert;

/* A self-signed ECDSA P-256 certificate + key in memory (DER) for DTLS, valid
 * from one day ago for days days (1..3650). common_name is 1..64 characters of
 * [A-Za-z0-9 _.-]. On success out owns two allocations; free them with
 * camrtc_cert_free. Returns CAMRTC_OK, CAMRTC_EINVAL, CAMRTC_ECRYPTO or
 * CAMRTC_ENOMEM (out is then zeroed). */
int camrtc_cert_self_signed(const char *common_name, int days, camrtc_rng *rng, camrtc_cert *out);

/* Release what c owns and zero it (the key bytes are wiped). Safe on a zeroed struct. */
void camrtc_cert_free(camrtc_cert *c);

/* A certificate and its private key from PEM text (both NUL-terminated), for
 * a DTLS certificate kept across runs. Only the first certificate of cert_pem
 * is used; the key must be unencrypted and match the certificate's public key.
 * On success out owns DER copies (free with camrtc_cert_free). Returns
 * CAMRTC_OK, CAMRTC_EINVAL (does not parse, or the pair does not match),
 * CAMRTC_ECRYPTO or CAMRTC_ENOMEM (out is then zeroed). */
int camrtc_cert_from_pem(const char *cert_pem, const char *key_pem, camrtc_cert *out);

/* camrtc_cert_from_pem on the contents of two files (each at most 64 KiB).
 * Reads files: for application start-up, not protocol modules. Returns as
 * camrtc_cert_from_pem, or CAMRTC_EIO when a file cannot be read,
 * CAMRTC_ETOOBIG when one is larger than 64 KiB. */
int camrtc_cert_load_pem_files(const char *cert_path, const char *key_path, camrtc_cert *out);

/* "AB:CD:..." uppercase SHA-256 fingerprint of a DER certificate into out
 * (outsz >= CAMRTC_CERT_FINGERPRINT_SIZE). Returns CAMRTC_OK, CAMRTC_EINVAL
 * or CAMRTC_ECRYPTO. */
int camrtc_cert_fingerprint_sha256(const uint8_t *der, size_t len, char *out, size_t outsz);

#ifdef __cplusplus
}
#endif
#endif
