/* camrtc: a small, fast WebRTC camera stack with KVS-compatible signaling. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"

/* The media commands (cmd_media.c). */
int camrtc_cmd_encode(int argc, char **argv);
int camrtc_cmd_probe(int argc, char **argv);

static const char usage[] =
"usage: camrtc <command> [options]\n"
"\n"
"commands:\n"
"  master      join a signaling channel as its master (the camera)\n"
"  viewer      join a signaling channel as a viewer\n"
"  signaling   run the local KVS-compatible signaling service\n"
"  encode      run a video source through the encoder into an H.264 file\n"
"  probe       list the access units of an H.264 file (no decoding)\n"
"\n"
"Run 'camrtc <command> --help' for a command's options.\n";

int app_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "camrtc %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

int main(int argc, char **argv)
{
    /* libuv writes with write(2): a peer that went away must give EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "master"))
        return camrtc_cmd_peer(argc - 1, argv + 1, false);
    if (!strcmp(argv[1], "viewer"))
        return camrtc_cmd_peer(argc - 1, argv + 1, true);
    if (!strcmp(argv[1], "signaling"))
        return camrtc_cmd_signaling(argc - 1, argv + 1);
    if (!strcmp(argv[1], "encode"))
        return camrtc_cmd_encode(argc - 1, argv + 1);
    if (!strcmp(argv[1], "probe"))
        return camrtc_cmd_probe(argc - 1, argv + 1);
    fprintf(stderr, "camrtc: unknown command '%s'\n%s", argv[1], usage);
    return 2;
}
