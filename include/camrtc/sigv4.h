/* AWS Signature Version 4: signing, URL presigning and server-side verification.
 *
 * Follows the AWS General Reference "Create a signed AWS API request" (canonical
 * request, string to sign, signing key, Authorization header), "Authenticating
 * Requests: Using Query Parameters" (presigned URLs) and the published SigV4 test
 * suite. The KVS control plane signs every REST call this way (service
 * "kinesisvideo"); the signaling WebSocket URL is presigned. The local signaling
 * service verifies both with camrtc_sigv4_verify and answers with the AWS error
 * type and message it fills in.
 *
 * Canonical forms used here: the URI path is normalised ("." and ".." segments
 * resolved, empty segments dropped) and every segment is percent-encoded once
 * more (the non-S3 rule); query names and values are percent-decoded, then
 * re-encoded keeping only A-Z a-z 0-9 - _ . ~, and sorted; header names are
 * lowercased, values trimmed with inner whitespace runs collapsed, repeats joined
 * with ','. Pure functions: time is passed in as Unix seconds.
 */
#ifndef CAMRTC_SIGV4_H
#define CAMRTC_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "camrtc/buf.h"
#include "camrtc/str.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest presigned-URL lifetime SigV4 allows (7 days). */
#define CAMRTC_SIGV4_MAX_EXPIRES 604800
/* Bounds on what is signed or verified; larger requests are refused. */
#define CAMRTC_SIGV4_MAX_HEADERS 128
#define CAMRTC_SIGV4_MAX_PARAMS 128

typedef struct camrtc_aws_creds {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;      /* NULL or "" when none */
} camrtc_aws_creds;

typedef struct camrtc_sigv4_request {
    const char *method;             /* "POST", "GET" */
    const char *path;               /* path exactly as on the wire (already percent-encoded), e.g. "/v1/get-ice-server-config" */
    const char *query;              /* raw query string as on the wire without '?', or NULL */
    const camrtc_kv *headers;       /* headers as sent (must include host) */
    size_t n_headers;
    const uint8_t *payload;
    size_t payload_len;
} camrtc_sigv4_request;

typedef struct camrtc_sigv4_signature {
    char amz_date[17];              /* X-Amz-Date value to send */
    char authorization[1024];       /* Authorization header value */
    char payload_hash[65];          /* hex SHA-256 of the payload (for x-amz-content-sha256) */
} camrtc_sigv4_signature;

/* Header signing. Signs every header in req->headers plus x-amz-date (and
 * x-amz-security-token when creds has a token) unless they are already present in
 * req->headers. now is Unix seconds.
 *
 * Headers that proxies rewrite and AWS never signs (authorization, connection,
 * user-agent, expect, keep-alive, te, trailer, transfer-encoding, upgrade, ...)
 * are left out, as the AWS SDKs do, so the headers can be passed exactly as they
 * will be sent. An x-amz-date header already in req->headers must equal the
 * date made from now, and an x-amz-security-token one the creds' token.
 * The caller sends out->amz_date as X-Amz-Date and the session token as
 * X-Amz-Security-Token if they were not in req->headers.
 * All pointers are borrowed; out is filled only on success.
 * Returns CAMRTC_OK, CAMRTC_EINVAL (missing host, bad header name, missing
 * argument, conflicting x-amz-date/token), CAMRTC_ETOOBIG (the Authorization
 * value would not fit, too many headers), CAMRTC_ENOMEM or CAMRTC_ECRYPTO. */
int camrtc_sigv4_sign(const camrtc_sigv4_request *req, const camrtc_aws_creds *creds,
                      const char *region, const char *service, int64_t now,
                      camrtc_sigv4_signature *out);

/* Query presigning of a URL such as "wss://host:port/path?X-Amz-ChannelARN=..."
 * for method GET, SignedHeaders=host, empty payload hash; adds X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-Security-Token (if token),
 * X-Amz-SignedHeaders and X-Amz-Signature. Existing query parameters are kept.
 * The output query is in SigV4 canonical form (decoded, re-encoded, sorted by
 * name) with X-Amz-Signature sorted in among the others, byte for byte what
 * the official KVS JS SDK's SigV4RequestSigner produces. The host signed is the
 * URL's authority minus a default port (:443 for wss/https, :80 for ws/http),
 * which is also dropped from the output, as the JS SDK's URL parsing does.
 * expires_s must be in 1..CAMRTC_SIGV4_MAX_EXPIRES. The URL is appended to
 * out_url (caller-owned; on error it is left as it was).
 * Returns CAMRTC_OK, CAMRTC_EINVAL (not scheme://host[/path][?query], userinfo,
 * fragment, auth parameters already present, bad expires), CAMRTC_ETOOBIG,
 * CAMRTC_ENOMEM or CAMRTC_ECRYPTO. */
int camrtc_sigv4_presign_url(const char *url, const camrtc_aws_creds *creds, const char *region,
                             const char *service, int64_t now, int expires_s, camrtc_buf *out_url);

typedef struct camrtc_sigv4_verify_config {
    const camrtc_aws_creds *creds;  /* the one key pair the server accepts */
    const char *region;             /* required credential-scope region */
    const char *service;            /* "kinesisvideo" */
    int64_t now;                    /* Unix seconds */
    int64_t max_skew_s;             /* 300: header-signed X-Amz-Date must be within now +- this (0 = 300) */
    int64_t max_expires_s;          /* 604800: X-Amz-Expires upper bound for presigned requests (0 = 604800) */
} camrtc_sigv4_verify_config;

typedef struct camrtc_sigv4_verify_result {
    int http_status;                /* 400 or 403 on failure (500 on CAMRTC_ENOMEM/EINVAL), 0 on success */
    const char *error_type;         /* AWS error type name, e.g. "InvalidSignatureException" (static string), NULL on success */
    char message[320];              /* AWS-style message, never containing the secret or the expected signature */
} camrtc_sigv4_verify_result;

/* Verify a request signed either with an Authorization header or with presigned
 * query parameters (detected automatically). req is the request as received:
 * path and query as on the wire, every header, the body. Nothing is retained.
 *
 * Checks, in order: one auth mechanism present (else 403
 * MissingAuthenticationTokenException); well-formed parameters, algorithm
 * AWS4-HMAC-SHA256, X-Amz-Date, X-Amz-Expires in 1..max_expires_s, SignedHeaders
 * lowercase, sorted and containing host (else 400 IncompleteSignatureException);
 * the access key id (403 UnrecognizedClientException); the session token when
 * cfg->creds has one (403 UnrecognizedClientException); scope date, region,
 * service and terminator (403 InvalidSignatureException); the time window (403
 * InvalidSignatureException "Signature expired: ..." or "Signature not yet
 * current: ..."); the signature, compared in constant time (403
 * InvalidSignatureException). The message may echo parts of the request
 * (sanitised, truncated) but never the secret or the expected signature.
 * Returns CAMRTC_OK (res->http_status 0), CAMRTC_EPROTO (400), CAMRTC_EAUTH (403),
 * CAMRTC_EEXPIRED (403, time window), CAMRTC_EINVAL (bad cfg), CAMRTC_ENOMEM. */
int camrtc_sigv4_verify(const camrtc_sigv4_request *req, const camrtc_sigv4_verify_config *cfg,
                        camrtc_sigv4_verify_result *res);

#ifdef __cplusplus
}
#endif
#endif
