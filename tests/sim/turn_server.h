/* A TURN server model (RFC 8656) for tests and the simulated network, sans-I/O.
 *
 * One server listens on one transport address (UDP only) and hands out relayed
 * addresses on relay_ip, ports relay_port_base, relay_port_base + 1, ... It does the
 * long-term credential mechanism (RFC 8489 §9.2: 401 with REALM and NONCE, 438 when a
 * nonce is stale), Allocate / Refresh (§7), CreatePermission (§9), Send and Data
 * indications (§11), ChannelBind and ChannelData (§12). Permissions are enforced: data
 * from a peer whose IP has no permission is dropped and counted (§9). Allocations
 * (lifetime), permissions (300 s) and channels (600 s) expire on the virtual clock.
 *
 * The owner feeds every datagram that arrives at the listen address or at any relayed
 * address to turn_server_input, and routes what the send callback emits: datagrams to
 * clients leave from the listen address, datagrams to peers leave from the relayed
 * address of the allocation. turn_server_owns tells whether an address belongs to the
 * server (so a simulated host can route to it).
 */
#ifndef CAMRTC_SIM_TURN_SERVER_H
#define CAMRTC_SIM_TURN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/addr.h"
#include "camrtc/rand.h"
#include "camrtc/time.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct turn_server turn_server;

/* A datagram the server emits: from is the listen address (to a client) or a relayed
 * address (to a peer). data is valid during the call only. The callback must not call
 * back into the server. */
typedef void (*turn_server_send_fn)(void *user, const camrtc_addr *from, const camrtc_addr *to,
                                    const uint8_t *data, size_t len);

typedef struct turn_server_config {
    camrtc_addr listen;          /* where clients send (UDP) */
    camrtc_addr relay_ip;        /* family + ip of relayed addresses (port ignored) */
    const char *realm;           /* NULL = "camrtc.test" */
    const char *username;        /* the one accepted user */
    const char *password;
    uint16_t relay_port_base;    /* 0 = 49152 */
    uint64_t seed;               /* seeds the server's own rng (nonces) when rng is NULL */
    camrtc_rng *rng;             /* optional; must outlive the server */
    uint32_t default_lifetime_s; /* 0 = 600: lifetime when the client asks none */
    uint32_t max_lifetime_s;     /* 0 = 3600: longer requests are clamped */
    camrtc_time_us nonce_lifetime; /* 0 = nonces never go stale */
    unsigned max_allocations;    /* 0 = 64; more → 486 Allocation Quota Reached */
    turn_server_send_fn send;
    void *user;
} turn_server_config;

typedef struct turn_server_stats {
    uint64_t allocations;        /* successful Allocates */
    uint64_t auth_challenges;    /* 401 sent */
    uint64_t stale_nonces;       /* 438 sent */
    uint64_t bad_requests;       /* 400/4xx errors sent other than 401/438 */
    uint64_t refreshes, deallocations, permissions, channel_binds;
    uint64_t expired_allocations, expired_permissions, expired_channels;
    uint64_t to_peer_indications, to_peer_channel_data;       /* client → peer */
    uint64_t to_client_indications, to_client_channel_data;   /* peer → client */
    uint64_t dropped_no_permission;  /* peer data, or a Send to a peer, without permission */
    uint64_t keepalives;             /* Binding indications from clients (NAT keepalives), ignored */
    uint64_t dropped;                /* malformed or unexpected input */
    uint64_t mismatches;             /* 437 to an Allocate: its 5-tuple held by another allocation */
} turn_server_stats;

/* Create a server; config strings are copied. NULL on allocation failure or when
 * username/password/send are missing. */
turn_server *turn_server_new(const turn_server_config *cfg);
void turn_server_free(turn_server *s);

/* A datagram from `from` arrived at `to` (the listen address or a relayed address).
 * Returns CAMRTC_OK when handled, CAMRTC_ENOTFOUND when `to` is not the server's,
 * CAMRTC_EPROTO when dropped as malformed, CAMRTC_EAUTH when answered with an auth error. */
int turn_server_input(turn_server *s, camrtc_time_us now, const camrtc_addr *from, const camrtc_addr *to,
                      const uint8_t *data, size_t len);

/* Expire allocations, permissions and channels. */
void turn_server_handle_timeout(turn_server *s, camrtc_time_us now);
camrtc_time_us turn_server_next_timeout(const turn_server *s);

/* True when addr is the listen address or a live relayed address. */
bool turn_server_owns(const turn_server *s, const camrtc_addr *addr);

/* Behave as coturn 4.6.1 does: a deallocated allocation (Refresh LIFETIME 0) keeps its
 * 5-tuple for linger (0 = deleted at once, RFC 8656 §7.3), and an Allocate from a 5-tuple
 * that has an allocation gets 437 before any credential check. Meanwhile a Refresh with
 * LIFETIME 0 still succeeds, everything else about it gets 437 and its relayed address is
 * gone. */
void turn_server_set_linger(turn_server *s, camrtc_time_us linger);

/* Make every nonce handed out so far stale (the next request gets 438). */
void turn_server_rotate_nonce(turn_server *s);

/* Live allocations. */
size_t turn_server_allocation_count(const turn_server *s);

const turn_server_stats *turn_server_get_stats(const turn_server *s);

#ifdef __cplusplus
}
#endif
#endif
