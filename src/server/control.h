/* The local signaling service's control plane: the KVS REST operations, sans-I/O.
 *
 * Implements, over a sig_store, the JSON request/response shapes of the Kinesis
 * Video Streams API (restJson1, 2017-09-30): CreateSignalingChannel,
 * DescribeSignalingChannel, DeleteSignalingChannel, ListSignalingChannels,
 * GetSignalingChannelEndpoint; and of the Kinesis Video Signaling API
 * (2019-12-04): GetIceServerConfig, whose TURN credentials follow the
 * "REST API for access to TURN services" scheme (draft-uberti-rtcweb-turn-rest-00
 * section 2.2, coturn's use-auth-secret): username "<expiry>:<user>", password
 * base64(HMAC-SHA1(secret, username)).
 *
 * The uv glue parses HTTP, verifies SigV4 and calls sig_control_handle with the
 * request path and body; it sends back reply->status, the header
 * "x-amzn-ErrorType: <error_type>" when error_type is set, and reply->body as
 * application/json. Errors carry {"message": ..., "Message": ...}: the AWS SDK
 * for JavaScript v3 models KVS errors with "Message" and falls back to "message".
 * Nothing here reads a clock or touches a socket; the store writes its file.
 */
#ifndef CAMRTC_SERVER_CONTROL_H
#define CAMRTC_SERVER_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "camrtc/buf.h"
#include "server/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SIG_ICE_MAX_SERVERS 5        /* IceServerList entries, as AWS (and the C SDK's arrays) */
#define SIG_ICE_MAX_URIS 4           /* Uris per entry, as AWS */
#define SIG_LIST_DEFAULT_MAX 500     /* ListSignalingChannels MaxResults default (AWS) */
#define SIG_LIST_MAX 10000           /* and its upper bound */

typedef struct sig_ice_config {
    const char *const *stun_urls; size_t n_stun;   /* e.g. "stun:127.0.0.1:3478"; not returned by GetIceServerConfig
                                                      (AWS clients add the STUN server themselves) */
    const char *const *turn_urls; size_t n_turn;   /* e.g. "turn:127.0.0.1:3478?transport=udp" */
    const char *turn_secret;                       /* coturn use-auth-secret shared secret, or NULL */
    const char *turn_user, *turn_password;         /* static TURN credentials when there is no secret */
    int ttl_s;                                     /* credential lifetime and Ttl; 0 = 300 */
} sig_ice_config;

typedef struct sig_control_config {
    const char *region;
    const char *wss_endpoint;     /* GetSignalingChannelEndpoint's WSS answer, e.g. "wss://127.0.0.1:8443"; NULL = none */
    const char *https_endpoint;   /* its HTTPS answer, e.g. "https://127.0.0.1:8443"; NULL = none */
    sig_ice_config ice;
} sig_control_config;

typedef struct sig_reply {
    int status;                   /* HTTP status: 200, 400, 404, 500 */
    const char *error_type;       /* NULL on success, else a static name such as "ResourceNotFoundException" */
    camrtc_buf body;              /* JSON body; owned by the caller, who frees it with camrtc_buf_free */
} sig_reply;

/* Handle "POST <path>" with a JSON body (body_len bytes, not NUL-terminated;
 * an empty body counts as {}). A query string after '?' in path is ignored.
 * now_ms is the wall clock in Unix ms (creation times, TURN credential expiry).
 * reply must be zeroed or hold a valid body buffer, whose content is replaced.
 * When a channel was deleted its ARN is copied into deleted_arn (may be NULL;
 * otherwise set to "" when nothing was deleted) so the glue can close its
 * WebSocket clients. Never fails: problems become AWS-shaped error replies
 * (unknown path → 404 UnknownOperationException, bad JSON → 400
 * SerializationException, bad values → 400 InvalidArgumentException, unknown
 * channel → 404 ResourceNotFoundException, duplicate → 400
 * ResourceInUseException, ...). */
void sig_control_handle(sig_store *s, const sig_control_config *cfg, const char *path, const uint8_t *body,
                        size_t body_len, int64_t now_ms, sig_reply *reply, char *deleted_arn, size_t deleted_arn_sz);

/* Fill reply with status, error_type (static string, borrowed) and the body
 * {"message":"<text>","Message":"<text>"} where text is printf-formatted (cut at
 * 511 bytes, JSON-escaped). reply must be zeroed or hold a valid body buffer. */
void sig_reply_error(sig_reply *reply, int status, const char *error_type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif
#endif
