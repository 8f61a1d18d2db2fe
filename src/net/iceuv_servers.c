/* The driver's STUN/TURN servers (iceuv.c): URLs (RFC 7064/7065) parsed and their names
 * resolved with uv_getaddrinfo, each registered with the agent once it has an address;
 * a KVS GetIceServerConfig answer taken URI by URI. Gathering starts once every name is
 * resolved, so the agent knows all its servers when it begins.
 */
#include "iceuv_int.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/time.h"

#define MOD "iceuv"

static void free_server(iceuv_server *s)
{
    free(s->username);
    free(s->password);
    free(s);
}

void iceuv_cancel_lookups(camrtc_iceuv *u)
{
    for (unsigned i = 0; i < u->nservers; i++)
        if (u->servers[i]->gai.loop)   /* still resolving: the callback still comes */
            uv_cancel((uv_req_t *)&u->servers[i]->gai);
}

void iceuv_free_servers(camrtc_iceuv *u)
{
    for (unsigned i = 0; i < u->nservers; i++)
        free_server(u->servers[i]);
    u->nservers = 0;
}

static void register_server(camrtc_iceuv *u, iceuv_server *s)
{
    camrtc_ice_server srv = {
        .turn = s->url.turn, .transport = s->url.transport, .addr = s->addr,
        .username = s->username, .password = s->password,
    };
    iceuv_drv_enter(u);
    int rc = u->ops->add_server(u->owner, camrtc_now_us(), &srv);
    if (rc < 0)
        CAMRTC_LOGW(u->log, MOD, "server %s not taken: %s", s->url.host, camrtc_strerror(rc));
    iceuv_drv_leave(u);
}

void iceuv_start_gather(camrtc_iceuv *u)
{
    u->gather_started = true;
    iceuv_drv_enter(u);
    u->ops->gather(u->owner, camrtc_now_us());
    iceuv_drv_leave(u);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    iceuv_server *s = req->data;
    camrtc_iceuv *u = s->u;
    req->loop = NULL;    /* marks "not resolving" for teardown */
    u->refs--;
    u->dns_pending--;
    if (u->tearing_down) {
        if (res)
            uv_freeaddrinfo(res);
        iceuv_maybe_finish(u);
        return;
    }
    /* IPv4 first: a name such as "localhost" often lists ::1 first while TURN servers
     * commonly listen on IPv4 only; IPv6 when the name has no IPv4 address. */
    bool found = false;
    for (int pass = 0; pass < 2 && !found; pass++)
        for (struct addrinfo *ai = status == 0 ? res : NULL; ai && !found; ai = ai->ai_next)
            if (pass == 1 || ai->ai_family == AF_INET)
                found = camrtc_addr_from_sockaddr(&s->addr, ai->ai_addr) == CAMRTC_OK;
    if (res)
        uv_freeaddrinfo(res);
    if (found && !u->close_asked) {
        s->addr.port = s->url.port;
        register_server(u, s);
    } else if (!found) {
        u->stats.dns_failed++;
        CAMRTC_LOGW(u->log, MOD, "cannot resolve %s: %s", s->url.host, status ? uv_strerror(status) : "no address");
    }
    if (u->gather_asked && !u->gather_started && u->dns_pending == 0 && !u->close_asked)
        iceuv_start_gather(u);
}

int camrtc_iceuv_add_server(camrtc_iceuv *u, const char *url, const char *username, const char *password)
{
    if (!u || !url)
        return CAMRTC_EINVAL;
    if (u->gather_asked || u->close_asked)
        return CAMRTC_ESTATE;
    if (u->nservers >= CAMRTC_ICEUV_MAX_SERVERS)
        return CAMRTC_ELIMIT;
    camrtc_ice_url parsed;
    int rc = camrtc_ice_url_parse(&parsed, url);
    if (rc < 0)
        return rc;
    iceuv_server *s = calloc(1, sizeof *s);
    if (!s)
        return CAMRTC_ENOMEM;
    s->url = parsed;
    s->u = u;
    s->username = username ? strdup(username) : NULL;
    s->password = password ? strdup(password) : NULL;
    if ((username && !s->username) || (password && !s->password)) {
        free_server(s);
        return CAMRTC_ENOMEM;
    }
    u->servers[u->nservers++] = s;
    if (camrtc_addr_parse(&s->addr, s->url.host, s->url.port) == CAMRTC_OK) {
        register_server(u, s);
        return CAMRTC_OK;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC };
    hints.ai_socktype = s->url.transport == CAMRTC_ICE_UDP ? SOCK_DGRAM : SOCK_STREAM;
    s->gai.data = s;
    rc = uv_getaddrinfo(u->loop, &s->gai, on_resolved, s->url.host, NULL, &hints);
    if (rc < 0) {
        s->gai.loop = NULL;
        u->stats.dns_failed++;
        CAMRTC_LOGW(u->log, MOD, "cannot resolve %s: %s", s->url.host, uv_strerror(rc));
        return CAMRTC_OK;   /* skipped, as a failed lookup would be */
    }
    u->refs++;
    u->dns_pending++;
    return CAMRTC_OK;
}

/* A GetIceServerConfig answer (KVS developer guide, API_signaling_GetIceServerConfig): each
 * IceServerList entry is one TURN server reachable by several URIs (RFC 7065), all sharing
 * the entry's time-limited credentials. Every URI becomes one server for the agent, so that
 * ICE gathers a relay per transport and keeps whichever pair works (RFC 8445 §5.1.1.2). */
static int add_kvs_uri(camrtc_iceuv *u, const char *uri, const camrtc_kvs_ice_server *srv)
{
    camrtc_ice_url url;
    int rc = camrtc_ice_url_parse(&url, uri);
    if (rc == CAMRTC_OK) {
        /* STUN servers take no credentials (RFC 8489 §9: a Binding needs none); an empty
         * Username is a TURN server without authentication. */
        const char *user = url.turn && srv->username[0] ? srv->username : NULL;
        const char *pass = url.turn && srv->password[0] ? srv->password : NULL;
        rc = camrtc_iceuv_add_server(u, uri, user, pass);
    }
    if (rc == CAMRTC_ENOMEM)
        return rc;
    if (rc < 0) {
        u->stats.servers_skipped++;
        CAMRTC_LOGI(u->log, MOD, "ICE server URI %s skipped: %s", uri, camrtc_strerror(rc));
        return 0;
    }
    return 1;
}

int camrtc_iceuv_add_kvs_servers(camrtc_iceuv *u, const camrtc_kvs_ice_config *cfg)
{
    if (!u || !cfg)
        return CAMRTC_EINVAL;
    if (u->gather_asked || u->close_asked)
        return CAMRTC_ESTATE;
    int taken = 0;
    /* Bounded by the parser's own bounds, whatever the counts say. */
    size_t ns = cfg->n_servers < CAMRTC_KVS_MAX_ICE_SERVERS ? cfg->n_servers : CAMRTC_KVS_MAX_ICE_SERVERS;
    for (size_t i = 0; i < ns; i++) {
        const camrtc_kvs_ice_server *srv = &cfg->servers[i];
        size_t nu = srv->n_uris < CAMRTC_KVS_MAX_ICE_URIS ? srv->n_uris : CAMRTC_KVS_MAX_ICE_URIS;
        for (size_t k = 0; k < nu; k++) {
            int rc = add_kvs_uri(u, srv->uris[k], srv);
            if (rc < 0)
                return rc;
            taken += rc;
        }
    }
    CAMRTC_LOGI(u->log, MOD, "GetIceServerConfig: %d ICE server URI(s) taken from %zu server(s)", taken, ns);
    return taken;
}

unsigned camrtc_iceuv_server_count(const camrtc_iceuv *u)
{
    return u ? u->nservers : 0;
}

int camrtc_iceuv_get_server(const camrtc_iceuv *u, unsigned i, camrtc_iceuv_server_info *out)
{
    if (!u || !out)
        return CAMRTC_EINVAL;
    if (i >= u->nservers)
        return CAMRTC_ENOTFOUND;
    const iceuv_server *s = u->servers[i];
    *out = (camrtc_iceuv_server_info){ .url = &s->url, .username = s->username, .password = s->password };
    return CAMRTC_OK;
}

