/* The camrtc command's subcommands. */
#ifndef CAMRTC_APP_H
#define CAMRTC_APP_H

#include <stdbool.h>

/* Print "camrtc <cmd>: <reason>" on stderr and return the exit status for unusable configuration (2). */
int app_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* `camrtc viewer` exit status when the master refused it (its answer rejected all we offered). */
#define APP_EXIT_REFUSED 3

/* `camrtc master|viewer [options]`: join a signaling channel (viewer selects the role). */
int camrtc_cmd_peer(int argc, char **argv, bool viewer);

/* `camrtc signaling [options]` */
int camrtc_cmd_signaling(int argc, char **argv);

#endif
