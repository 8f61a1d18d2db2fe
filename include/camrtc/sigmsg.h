/* KVS WebRTC signaling messages: the JSON carried in WebSocket text frames.
 *
 * One codec for both ends: the local signaling service parses what clients send
 * (SendSdpOffer, SendSdpAnswer, SendIceCandidate) and writes the events clients
 * receive ("Asynchronous message reception"), and our own client does the
 * reverse. See /work/shared/KVS-PROTOCOL.md, "Data plane (WebSocket)".
 *
 * Decisions where the AWS documents are silent or the SDKs differ:
 *  - Keys are matched ASCII case-insensitively (the C SDK writes PascalCase, the
 *    JS SDK camelCase). A key that appears twice (also "action" and "Action") is
 *    refused: which copy wins would otherwise depend on the implementation.
 *    Unknown keys are ignored for forward compatibility.
 *  - Client ids and correlation ids must match [A-Za-z0-9_.-]{1,256}, the
 *    pattern the AWS reference gives for both and that the JS SDK enforces
 *    before sending; an empty string (the C SDK always writes
 *    "RecipientClientId", empty when it has none) means "absent", as does null.
 *  - statusCode is written as a JSON string ("400"), as the AWS reference shows;
 *    both a string of digits and a JSON number are accepted when parsing.
 *  - errorType and description are informational: longer values are truncated
 *    (on a UTF-8 character boundary) to the struct's fields, not refused, and
 *    bytes that are not valid UTF-8 become U+FFFD (as the writer emits them).
 *  - MessagePayload must be canonical padded base64 (RFC 4648 section 4); it is
 *    kept as the base64 text, and decoded only when asked.
 *  - IceServerList (an array) is kept, re-serialized compactly, only on offers.
 * Parsing is bounded: at most CAMRTC_SIGMSG_MAX_JSON bytes of input, ids and
 * payload sizes checked before anything is copied.
 */
#ifndef CAMRTC_SIGMSG_H
#define CAMRTC_SIGMSG_H

#include <stddef.h>

#include "camrtc/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum camrtc_sigmsg_type {
    CAMRTC_SIGMSG_UNKNOWN = 0,
    CAMRTC_SIGMSG_SDP_OFFER,
    CAMRTC_SIGMSG_SDP_ANSWER,
    CAMRTC_SIGMSG_ICE_CANDIDATE,
    CAMRTC_SIGMSG_GO_AWAY,
    CAMRTC_SIGMSG_RECONNECT_ICE_SERVER,
    CAMRTC_SIGMSG_STATUS_RESPONSE,
} camrtc_sigmsg_type;

#define CAMRTC_SIGMSG_MAX_ID 256         /* client ids, correlation ids */
#define CAMRTC_SIGMSG_MAX_PAYLOAD 10240  /* decoded MessagePayload bytes */
#define CAMRTC_SIGMSG_MAX_JSON 65536     /* a whole received message */

/* The wire name of t ("SDP_OFFER", ...; "UNKNOWN" for anything else). Static string. */
const char *camrtc_sigmsg_type_name(camrtc_sigmsg_type t);

/* The type whose wire name is exactly s (upper case); CAMRTC_SIGMSG_UNKNOWN for
 * anything else, including NULL. */
camrtc_sigmsg_type camrtc_sigmsg_type_parse(const char *s);

typedef struct camrtc_sigmsg {
    camrtc_sigmsg_type type;
    /* RecipientClientId (to the service) or senderClientId (from the service); "" = none */
    char peer_id[CAMRTC_SIGMSG_MAX_ID + 1];
    char correlation_id[CAMRTC_SIGMSG_MAX_ID + 1]; /* "" = none */
    char *payload;          /* MessagePayload, base64 text as on the wire, malloc'd, owned; NULL = none */
    size_t payload_len;     /* strlen(payload) */
    char *ice_server_list;  /* IceServerList as compact JSON when an offer carried one, malloc'd, owned; NULL = none */
    /* STATUS_RESPONSE only */
    int status_code;
    char error_type[128];
    char description[512];
} camrtc_sigmsg;

/* Parse a client -> service message (text of one WebSocket frame, len bytes, no
 * NUL needed). out is overwritten (call camrtc_sigmsg_clear on it first if it
 * owns anything) and owns its fields on success; the caller clears it.
 * Returns CAMRTC_OK; CAMRTC_EPROTO (malformed: not a JSON object, duplicate key,
 * missing/unknown action or one a client may not send, missing, empty or
 * non-base64 payload, bad id, wrong JSON type), CAMRTC_ETOOBIG (message over
 * CAMRTC_SIGMSG_MAX_JSON or decoded payload over CAMRTC_SIGMSG_MAX_PAYLOAD),
 * CAMRTC_ENOMEM or CAMRTC_EINVAL (NULL arguments). On failure a one-line reason
 * is written to reason (may be NULL) and out holds nothing that needs freeing,
 * except that out->correlation_id is kept when the message carried a valid one,
 * so the service can answer with a STATUS_RESPONSE. */
int camrtc_sigmsg_parse_from_client(const char *json, size_t len, camrtc_sigmsg *out, char *reason,
                                    size_t reason_sz);

/* Parse a service -> client message: senderClientId, messageType, messagePayload,
 * and for STATUS_RESPONSE the statusResponse object (required for that type,
 * ignored for others). SDP_OFFER, SDP_ANSWER and ICE_CANDIDATE need a non-empty
 * payload; GO_AWAY, RECONNECT_ICE_SERVER and STATUS_RESPONSE may have none.
 * Same ownership and errors as camrtc_sigmsg_parse_from_client, plus
 * CAMRTC_EUNSUPPORTED for a well-formed message of a messageType this codec does
 * not know (out->type is CAMRTC_SIGMSG_UNKNOWN), which a client should ignore. */
int camrtc_sigmsg_parse_from_service(const char *json, size_t len, camrtc_sigmsg *out, char *reason,
                                     size_t reason_sz);

/* Append the client -> service JSON for m to out, PascalCase like the C SDK:
 * {"action":"SDP_OFFER","RecipientClientId":"..","MessagePayload":"..","CorrelationId":".."}
 * (RecipientClientId and CorrelationId only when non-empty; IceServerList on
 * offers that have one). m is borrowed. Returns CAMRTC_OK; CAMRTC_EINVAL when m
 * is not a sendable message (type not offer/answer/candidate, no payload, bad
 * id); CAMRTC_ETOOBIG/CAMRTC_ENOMEM from the buffer. On failure out is left as
 * it was. */
int camrtc_sigmsg_write_to_service(camrtc_buf *out, const camrtc_sigmsg *m);

/* Append the service -> client JSON for m to out, camelCase:
 * {"senderClientId":"..","messageType":"..","messagePayload":"..", and for
 * STATUS_RESPONSE "statusResponse":{"correlationId":"..","errorType":"..",
 * "statusCode":"400","description":".."}}. senderClientId is omitted when
 * peer_id is empty (messages from the master), messagePayload when payload is
 * NULL. Strings are JSON-escaped (invalid UTF-8 becomes U+FFFD). m is borrowed.
 * Returns CAMRTC_OK; CAMRTC_EINVAL for an unknown type or bad id; buffer errors.
 * On failure out is left as it was. */
int camrtc_sigmsg_write_to_client(camrtc_buf *out, const camrtc_sigmsg *m);

/* Base64-encode len bytes of json (the payload's inner JSON) into a new
 * m->payload, freeing the previous one. Returns CAMRTC_OK, CAMRTC_ETOOBIG when
 * len > CAMRTC_SIGMSG_MAX_PAYLOAD, CAMRTC_ENOMEM or CAMRTC_EINVAL. */
int camrtc_sigmsg_set_payload_json(camrtc_sigmsg *m, const char *json, size_t len);

/* Append the decoded m->payload to out (not NUL-terminated; camrtc_buf_cstr
 * makes it a string). Returns CAMRTC_OK, CAMRTC_ENOTFOUND when m has no
 * payload, CAMRTC_EPROTO when it is not canonical base64, CAMRTC_ETOOBIG when it
 * decodes to more than CAMRTC_SIGMSG_MAX_PAYLOAD bytes, buffer errors. */
int camrtc_sigmsg_get_payload_json(const camrtc_sigmsg *m, camrtc_buf *out);

/* Append the SDP payload JSON {"type":"offer","sdp":"..."} to out. type and
 * sdp are NUL-terminated and borrowed. Returns CAMRTC_OK, CAMRTC_EINVAL, buffer errors. */
int camrtc_sigmsg_build_sdp_json(camrtc_buf *out, const char *type, const char *sdp);

/* Append the candidate payload JSON {"candidate":"...","sdpMid":"0","sdpMLineIndex":0}
 * to out. sdp_mid NULL or sdp_mline_index < 0 leave that member out. Returns
 * CAMRTC_OK, CAMRTC_EINVAL, buffer errors. */
int camrtc_sigmsg_build_candidate_json(camrtc_buf *out, const char *candidate, const char *sdp_mid,
                                       int sdp_mline_index);

/* Parse an SDP payload JSON of len bytes: type ("offer" or "answer") is copied
 * to type (type_sz >= 7), the SDP text is appended to sdp. Returns CAMRTC_OK,
 * CAMRTC_EPROTO (malformed, other type, missing sdp), CAMRTC_ETOOBIG (len over
 * CAMRTC_SIGMSG_MAX_PAYLOAD), CAMRTC_EINVAL, CAMRTC_ENOMEM. */
int camrtc_sigmsg_parse_sdp_json(const char *json, size_t len, char *type, size_t type_sz, camrtc_buf *sdp);

/* Parse a candidate payload JSON of len bytes: the candidate line is appended to
 * candidate ("" is the end-of-candidates marker), sdpMid copied to sdp_mid (""
 * when absent or null; CAMRTC_EPROTO when it does not fit mid_sz), sdpMLineIndex
 * to *sdp_mline_index (-1 when absent or null). Errors as camrtc_sigmsg_parse_sdp_json. */
int camrtc_sigmsg_parse_candidate_json(const char *json, size_t len, camrtc_buf *candidate, char *sdp_mid,
                                       size_t mid_sz, int *sdp_mline_index);

/* ---- Relaying (the service's hot path) ----
 *
 * A client message parsed for forwarding without building a camrtc_sigmsg: the
 * common shape (a flat object of plain strings) is scanned in place and its
 * payload is borrowed from the input, so relaying costs one validation pass and
 * one copy of the payload. Anything else goes through
 * camrtc_sigmsg_parse_from_client, which stays the reference: results, errors
 * and reasons are the same either way. */
typedef struct camrtc_sigmsg_relay {
    camrtc_sigmsg_type type;
    char peer_id[CAMRTC_SIGMSG_MAX_ID + 1];        /* RecipientClientId, "" = none */
    char correlation_id[CAMRTC_SIGMSG_MAX_ID + 1]; /* "" = none */
    const char *payload;         /* canonical base64, payload_len bytes, not NUL-terminated; borrowed */
    size_t payload_len;
    const char *ice_server_list; /* compact JSON (offers only), ice_len bytes; NULL = none; borrowed */
    size_t ice_len;
    char *owned_;                /* private: storage the fields may point into */
    char *owned_ice_;            /* private */
} camrtc_sigmsg_relay;

/* Parse a client -> service message like camrtc_sigmsg_parse_from_client (same
 * acceptance, return codes, reason text, and correlation id kept on failure).
 * out->payload and out->ice_server_list may point into json, which must then
 * outlive out's use. out is overwritten; call camrtc_sigmsg_relay_clear when
 * done, whatever this returns. */
int camrtc_sigmsg_relay_parse(const char *json, size_t len, camrtc_sigmsg_relay *out, char *reason,
                              size_t reason_sz);

/* Append the service -> client JSON for r, sent by sender_id ("" = the master),
 * to out: byte for byte what camrtc_sigmsg_write_to_client writes for the same
 * message with peer_id = sender_id. r and sender_id are borrowed. Returns
 * CAMRTC_OK; CAMRTC_EINVAL (r not from a successful parse, bad sender id);
 * CAMRTC_ETOOBIG/CAMRTC_ENOMEM from the buffer. On failure out is left as it was. */
int camrtc_sigmsg_relay_write(camrtc_buf *out, const camrtc_sigmsg_relay *r, const char *sender_id);

/* Free what r owns and make it empty. r may be NULL. */
void camrtc_sigmsg_relay_clear(camrtc_sigmsg_relay *r);

/* Free m's owned fields and zero the whole struct. m may be NULL. */
void camrtc_sigmsg_clear(camrtc_sigmsg *m);

#ifdef __cplusplus
}
#endif
#endif
