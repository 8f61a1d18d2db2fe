/* The local KVS-compatible signaling service (`camrtc signaling`).
 *
 * One libuv loop serves, on one port:
 *  - the control plane (SigV4-signed REST: Create/Describe/Delete/List signaling
 *    channels, GetSignalingChannelEndpoint, GetIceServerConfig),
 *  - the WebSocket data plane (SigV4-presigned upgrade on "/"), routing SDP
 *    offers/answers and ICE candidates between a channel's master and viewers with
 *    the quotas of the real service,
 *  - a loopback-only admin endpoint to announce GO_AWAY / RECONNECT_ICE_SERVER.
 * Wire facts: ../shared/KVS-PROTOCOL.md (in the repository: docs/signaling.md).
 * The protocol logic lives in sans-I/O parts (src/server/store, control, hub);
 * this object is the glue to sockets and timers.
 */
#ifndef CAMRTC_SERVER_H
#define CAMRTC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "camrtc/log.h"
#include "camrtc/sigv4.h"
#include "camrtc/time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The documented local key pair the service accepts when no credentials are configured. */
#define CAMRTC_LOCAL_ACCESS_KEY "CAMRTCLOCALKEY0000000"
#define CAMRTC_LOCAL_SECRET_KEY "camrtc/local/secret/0000000000000000000000"
#define CAMRTC_LOCAL_REGION "us-west-2"
#define CAMRTC_LOCAL_ACCOUNT "111122223333"

#define CAMRTC_SIGNALING_MAX_ICE_URLS 8

typedef struct camrtc_signaling_config {
    const char *listen_host;        /* "127.0.0.1" */
    uint16_t listen_port;           /* 8443; 0 = ephemeral */
    const char *public_host;        /* host put in endpoint URLs; NULL = listen host (127.0.0.1 for 0.0.0.0/::) */
    const char *public_url;         /* base URL to advertise instead (e.g. a proxy's "http://127.0.0.1:9000"); NULL = own */
    const char *state_dir;          /* channels.json and TLS files; NULL = memory only */
    bool tls;                       /* serve https/wss with a local CA created in state_dir */
    const char *region;             /* credential-scope region accepted and put in ARNs */
    const char *account;            /* 12-digit account id for ARNs */
    camrtc_aws_creds creds;         /* the one key pair accepted (session token optional) */
    const char *stun_urls[CAMRTC_SIGNALING_MAX_ICE_URLS];
    size_t n_stun;
    const char *turn_urls[CAMRTC_SIGNALING_MAX_ICE_URLS];
    size_t n_turn;
    const char *turn_secret;        /* coturn --static-auth-secret: time-limited credentials */
    const char *turn_user;          /* static TURN credentials when no secret */
    const char *turn_password;
    int ice_ttl_s;                  /* 300 */
    bool rate_limits;               /* connect 3/s/channel, 5 SDP/s and 20 candidates/s per connection */
    int max_viewers;                /* 10 */
    camrtc_time_us idle_timeout;    /* 10 min */
    camrtc_time_us max_duration;    /* 1 h, GO_AWAY sent 60 s before (or half of it when shorter) */
    size_t max_http_body;           /* 64 KiB */
    const char *kvs_js_path;        /* dist/kvs-webrtc.js of the npm package amazon-kinesis-video-streams-webrtc,
                                     * served at /kvs-webrtc.js for the viewer page at /; NULL = 404 */
} camrtc_signaling_config;

/* Fill cfg with the defaults above (local credentials, 127.0.0.1:8443, no TLS, no state dir). */
void camrtc_signaling_config_default(camrtc_signaling_config *cfg);

typedef struct camrtc_signaling camrtc_signaling;

/* Create the service on loop and start listening. Strings in cfg are copied. On failure returns NULL
 * and writes a one-line reason into err. log is borrowed and must outlive the service. */
camrtc_signaling *camrtc_signaling_start(uv_loop_t *loop, const camrtc_signaling_config *cfg, camrtc_log *log,
                                         char *err, size_t errsz);

/* The base URL handed to clients in endpoints, e.g. "http://127.0.0.1:8443" (valid until free). */
const char *camrtc_signaling_url(const camrtc_signaling *s);

/* The URL of the socket it listens on (differs from camrtc_signaling_url with public_url). */
const char *camrtc_signaling_listen_url(const camrtc_signaling *s);

/* Path of the local CA certificate when serving TLS, else NULL. */
const char *camrtc_signaling_ca_path(const camrtc_signaling *s);

/* Number of connected WebSocket clients. */
size_t camrtc_signaling_client_count(const camrtc_signaling *s);

/* Stop listening, close every connection (WebSocket close 1001), and free the service once libuv has closed
 * every handle; the loop then has nothing left of it and uv_run returns. */
void camrtc_signaling_stop(camrtc_signaling *s);

#ifdef __cplusplus
}
#endif
#endif
