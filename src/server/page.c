/* GET / on the local service: a short page saying what this is and how to use it. */
#include <stdio.h>
#include <string.h>

#include "server/service_internal.h"

void sig_page_handle(sconn *sc, const camrtc_http_msg *m)
{
    camrtc_signaling *s = sc->srv;
    camrtc_buf b = {0};
    camrtc_buf_appendf(&b,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>camrtc signaling</title></head><body>"
        "<h1>camrtc signaling</h1>"
        "<p>A local service that speaks the Amazon Kinesis Video Streams WebRTC signaling protocol.</p>"
        "<p>Control plane endpoint: <code>%s</code>, region <code>%s</code>, %zu channel(s), "
        "%zu connected client(s).</p>"
        "<p>Point an AWS SDK's <code>endpoint</code> option here, or run <code>camrtc master</code> / "
        "<code>camrtc viewer</code> with <code>--endpoint %s</code>.</p></body></html>",
        s->url, s->cfg.region, sig_store_count(s->store), sig_hub_connection_count(s->hub), s->url);
    sig_service_respond(sc, 200, NULL, "text/html; charset=utf-8", camrtc_buf_data(&b), b.len, m->keep_alive);
    camrtc_buf_free(&b);
}
