/* The KVS signaling control plane: request builders and response parsers, sans-I/O.
 *
 * Builds the SigV4-signed REST calls a signaling client makes (DescribeSignalingChannel,
 * CreateSignalingChannel, GetSignalingChannelEndpoint on the control plane;
 * GetIceServerConfig on the channel's HTTPS endpoint) and the presigned WebSocket URL,
 * byte for byte as the official AWS clients do for the same inputs; and parses the
 * service's answers and errors (AWS JSON protocol: `x-amzn-ErrorType`, `message`).
 * Wire facts: KVS developer guide API_* pages; docs/signaling-service.md.
 * No sockets, no clock: the caller passes "now" (Unix seconds) and performs the I/O.
 */
#ifndef CAMRTC_KVS_H
#define CAMRTC_KVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/buf.h"
#include "camrtc/sigv4.h"
#include "camrtc/str.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAMRTC_KVS_MAX_ARN 1024
#define CAMRTC_KVS_MAX_URL 1024
#define CAMRTC_KVS_MAX_ICE_SERVERS 5
#define CAMRTC_KVS_MAX_ICE_URIS 4

typedef enum camrtc_kvs_op {
    CAMRTC_KVS_DESCRIBE_CHANNEL,
    CAMRTC_KVS_CREATE_CHANNEL,
    CAMRTC_KVS_GET_ENDPOINT,
    CAMRTC_KVS_GET_ICE_CONFIG,
} camrtc_kvs_op;

/* What the request is about. Unused fields may be NULL/0. */
typedef struct camrtc_kvs_params {
    const char *channel_name;   /* Describe (if no ARN), Create */
    const char *channel_arn;    /* Describe (preferred when set), GetEndpoint, GetIceConfig */
    bool viewer;                /* GetEndpoint Role VIEWER (else MASTER) */
    const char *client_id;      /* GetIceConfig ClientId (viewers); NULL or "" = omitted */
    int msg_ttl_s;              /* Create: SingleMasterConfiguration.MessageTtlSeconds (0 = 60; else 5..120) */
    const camrtc_kv *extra_headers;   /* sent as given and signed (except those SigV4 never signs, such
                                         as user-agent); may not repeat a header build sets itself */
    size_t n_extra_headers;
} camrtc_kvs_params;

/* A built request: POST url with headers and body. Owns its strings. */
typedef struct camrtc_kvs_request {
    char url[CAMRTC_KVS_MAX_URL];   /* e.g. "https://kinesisvideo.us-west-2.amazonaws.com/describeSignalingChannel" */
    camrtc_kv headers[32];          /* host, content-type, content-length, x-amz-date, [x-amz-security-token],
                                       extras, authorization (point into storage) */
    size_t n_headers;
    camrtc_buf body;                /* JSON, exactly as the official clients serialize it */
    camrtc_buf storage;             /* backing store of the header strings */
} camrtc_kvs_request;

/* The control-plane base URL for region: "https://kinesisvideo.<region>.amazonaws.com"
 * (".amazonaws.com.cn" for cn-* regions), NUL-terminated into out[outsz].
 * Returns CAMRTC_OK, CAMRTC_EINVAL (region empty, over 64 bytes or not [a-z0-9-]),
 * CAMRTC_ETOOBIG (out too small; out is then ""). */
int camrtc_kvs_control_endpoint(const char *region, char *out, size_t outsz);

/* Build op against base_url (the control-plane base for the first three ops, the channel's
 * HTTPS endpoint for CAMRTC_KVS_GET_ICE_CONFIG), signed for region at now (Unix seconds).
 * base_url is http(s)://host[:port][/prefix] (the prefix is kept, trailing '/' dropped; no
 * query or fragment); the Host header keeps an explicit non-default port. Strings go into
 * the body JSON-escaped as JSON.stringify does and must be valid UTF-8; ARN under
 * CAMRTC_KVS_MAX_ARN bytes, channel name and client id at most 256. Describe needs the ARN
 * or the name, Create the name, GetEndpoint and GetIceConfig the ARN. p, creds and the
 * strings are borrowed; *out is caller-owned storage, overwritten (not freed) first, and
 * owns everything it points to afterwards. Free with camrtc_kvs_request_free (harmless
 * after an error: *out is then empty).
 * Returns CAMRTC_OK, CAMRTC_EINVAL (missing or malformed argument, bad extra header name
 * or value, extra header repeating one build sets), CAMRTC_ETOOBIG (URL or header count
 * over the bounds), CAMRTC_ENOMEM or CAMRTC_ECRYPTO. */
int camrtc_kvs_build(camrtc_kvs_request *out, camrtc_kvs_op op, const char *base_url, const camrtc_kvs_params *p,
                     const camrtc_aws_creds *creds, const char *region, int64_t now);
/* Release what r owns; r becomes empty. NULL is ignored. */
void camrtc_kvs_request_free(camrtc_kvs_request *r);

/* The presigned WebSocket URL: <wss_endpoint>?X-Amz-ChannelARN=<arn>[&X-Amz-ClientId=<id>] + SigV4 query
 * (X-Amz-Expires = expires_s, 299 like the JS SDK when 0), byte for byte what the KVS JS SDK
 * gives: the endpoint's path is kept ("/" when it has none), a default port dropped, the
 * query in canonical order. wss_endpoint is ws(s)://host[:port][/path] without query or
 * fragment; client_id NULL or "" for the master. Appends to out (caller-owned; left as it
 * was on error). Returns CAMRTC_OK, CAMRTC_EINVAL, CAMRTC_ETOOBIG, CAMRTC_ENOMEM or
 * CAMRTC_ECRYPTO. */
int camrtc_kvs_ws_url(camrtc_buf *out, const char *wss_endpoint, const char *channel_arn, const char *client_id,
                      const camrtc_aws_creds *creds, const char *region, int64_t now, int expires_s);

/* ---------- responses ---------- */

typedef struct camrtc_kvs_channel {
    char arn[CAMRTC_KVS_MAX_ARN];
    char name[257];
    char status[32];           /* "ACTIVE", "CREATING", "UPDATING", "DELETING" */
    int msg_ttl_s;             /* 0 when SingleMasterConfiguration is absent */
} camrtc_kvs_channel;

typedef struct camrtc_kvs_endpoints {
    char wss[CAMRTC_KVS_MAX_URL];
    char https[CAMRTC_KVS_MAX_URL];
} camrtc_kvs_endpoints;

typedef struct camrtc_kvs_ice_server {
    char uris[CAMRTC_KVS_MAX_ICE_URIS][256];
    size_t n_uris;
    char username[256];
    char password[256];
    int ttl_s;
} camrtc_kvs_ice_server;

typedef struct camrtc_kvs_ice_config {
    camrtc_kvs_ice_server servers[CAMRTC_KVS_MAX_ICE_SERVERS];
    size_t n_servers;
} camrtc_kvs_ice_config;

/* How a client should react to a failed call (KVS-PROTOCOL.md "error routing"). */
typedef enum camrtc_kvs_error_class {
    CAMRTC_KVS_ERR_NONE = 0,
    CAMRTC_KVS_ERR_AUTH,         /* 401/403 (and a 400 for an expired request or token): refresh credentials
                                    (and the clock when the signature expired) */
    CAMRTC_KVS_ERR_NOT_FOUND,    /* 404: describe the channel again (and create it when asked to) */
    CAMRTC_KVS_ERR_RETRY,        /* 400, 429, 5xx, timeouts: back off and get the endpoint again */
} camrtc_kvs_error_class;

typedef struct camrtc_kvs_error {
    int status;
    char type[128];              /* from x-amzn-ErrorType or else the body's __type: the part before ':',
                                    after a "namespace#" prefix */
    char message[512];           /* "message" or "Message" from the body */
    camrtc_kvs_error_class cls;
    bool signature_expired;      /* the service rejected the request's time: correct the clock */
} camrtc_kvs_error;

/* Classify a non-2xx answer. headers/body are the response's (borrowed); body may be empty or
 * not JSON (type and message then come only from the header, or stay ""). type and message
 * are truncated to fit and control characters in them replaced by '?'.
 * cls: 2xx → NONE; 401/403 → AUTH; 404, and 400 with ResourceNotFoundException → NOT_FOUND;
 * 400 whose type/message says the request time was rejected (RequestExpired) or
 * ExpiredTokenException → AUTH; anything else → RETRY.
 * signature_expired (400/401/403 only): message "Signature expired", "Signature not yet
 * current", "Request has expired", or a type containing "Expired" or "TimeTooSkewed"; never
 * for a type naming a token (ExpiredTokenException: new credentials fix that, the clock
 * does not). out is always filled (NULL out is ignored). */
void camrtc_kvs_parse_error(int status, const camrtc_kv *headers, size_t n_headers, const uint8_t *body,
                            size_t body_len, camrtc_kvs_error *out);

/* Parse the 200 answers (body borrowed, at most 64 KiB, need not be NUL-terminated).
 * Returns CAMRTC_OK, CAMRTC_EPROTO when the body is not the expected JSON shape (not an
 * object, a required member missing or of the wrong type, a negative, fractional or
 * over-int number), CAMRTC_ETOOBIG when a string does not fit its field or the body is
 * over 64 KiB, CAMRTC_EINVAL for NULL out, CAMRTC_ENOMEM. On error *out is zeroed.
 * describe: ChannelInfo{ChannelARN, ChannelName, ChannelStatus} required,
 *   SingleMasterConfiguration.MessageTtlSeconds optional.
 * create: ChannelARN (non-empty) into arn[arnsz] ("" on error; CAMRTC_EINVAL when arn is NULL).
 * endpoints: ResourceEndpointList; the first WSS (ws/wss URL) and HTTPS (http/https URL)
 *   entries are taken (scheme lowercased), other protocols ignored; either missing → CAMRTC_EPROTO.
 * ice_config: IceServerList (may be empty); each server needs Uris (1+ strings of printable
 *   ASCII without spaces), Username,
 *   Password and Ttl; servers past CAMRTC_KVS_MAX_ICE_SERVERS and URIs past
 *   CAMRTC_KVS_MAX_ICE_URIS are ignored. */
int camrtc_kvs_parse_describe(const uint8_t *body, size_t len, camrtc_kvs_channel *out);
int camrtc_kvs_parse_create(const uint8_t *body, size_t len, char *arn, size_t arnsz);
int camrtc_kvs_parse_endpoints(const uint8_t *body, size_t len, camrtc_kvs_endpoints *out);
int camrtc_kvs_parse_ice_config(const uint8_t *body, size_t len, camrtc_kvs_ice_config *out);

/* Clock skew from a response's Date header (RFC 7231 IMF-fixdate): server time minus
 * local_now (Unix seconds) into *skew. Returns CAMRTC_OK, CAMRTC_EPROTO when the header is
 * absent or malformed, CAMRTC_EINVAL on NULL skew or overflow. */
int camrtc_kvs_clock_skew(const camrtc_kv *headers, size_t n_headers, int64_t local_now, int64_t *skew);

#ifdef __cplusplus
}
#endif
#endif
