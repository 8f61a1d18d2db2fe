/* camrtc logging.
 *
 * A logger is a small caller-owned value handed to the objects that log, so the
 * library holds no global state. Levels come from the CAMRTC_LOG environment
 * variable (error, warn, info, debug, trace; default info). Lines go to the given
 * FILE (stderr by default) as "2026-11-23T19:07:31.123Z W module: text".
 * Never log credentials or signatures: log the access key id at most.
 */
#ifndef CAMRTC_LOG_H
#define CAMRTC_LOG_H

#include <stdarg.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum camrtc_log_level {
    CAMRTC_LOG_ERROR = 0,
    CAMRTC_LOG_WARN = 1,
    CAMRTC_LOG_INFO = 2,
    CAMRTC_LOG_DEBUG = 3,
    CAMRTC_LOG_TRACE = 4,
};

typedef struct camrtc_log {
    int level;   /* messages above this level are dropped */
    FILE *out;   /* NULL means stderr */
} camrtc_log;

/* Initialise lg with the level from CAMRTC_LOG (default info) and output out. */
void camrtc_log_init_env(camrtc_log *lg, FILE *out);

/* Parse a level name ("error".."trace" or a digit); returns -1 if unknown. */
int camrtc_log_parse_level(const char *name);

/* Write one line at level from module. lg may be NULL (nothing is written). */
void camrtc_logf(const camrtc_log *lg, int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True when a message at level would be written (check before costly formatting). */
int camrtc_log_enabled(const camrtc_log *lg, int level);

#define CAMRTC_LOGE(lg, mod, ...) camrtc_logf((lg), CAMRTC_LOG_ERROR, (mod), __VA_ARGS__)
#define CAMRTC_LOGW(lg, mod, ...) camrtc_logf((lg), CAMRTC_LOG_WARN, (mod), __VA_ARGS__)
#define CAMRTC_LOGI(lg, mod, ...) camrtc_logf((lg), CAMRTC_LOG_INFO, (mod), __VA_ARGS__)
#define CAMRTC_LOGD(lg, mod, ...) camrtc_logf((lg), CAMRTC_LOG_DEBUG, (mod), __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
