#include "camrtc/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static const char level_letter[] = "EWIDT";

int camrtc_log_parse_level(const char *name)
{
    static const char *names[] = {"error", "warn", "info", "debug", "trace"};
    if (!name || !*name)
        return -1;
    if (name[0] >= '0' && name[0] <= '4' && name[1] == '\0')
        return name[0] - '0';
    for (int i = 0; i < 5; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return CAMRTC_LOG_WARN;
    return -1;
}

void camrtc_log_init_env(camrtc_log *lg, FILE *out)
{
    int lvl = camrtc_log_parse_level(getenv("CAMRTC_LOG"));
    lg->level = lvl < 0 ? CAMRTC_LOG_INFO : lvl;
    lg->out = out;
}

int camrtc_log_enabled(const camrtc_log *lg, int level)
{
    return lg && level <= lg->level;
}

void camrtc_logf(const camrtc_log *lg, int level, const char *module, const char *fmt, ...)
{
    if (!camrtc_log_enabled(lg, level))
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    time_t sec = tv.tv_sec;
    gmtime_r(&sec, &tm);
    char line[1024];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %c %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000),
                     level_letter[level < 0 ? 0 : level > 4 ? 4 : level], module ? module : "-");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* One fputs per line keeps lines whole when several threads log. */
    size_t len = strlen(line);
    if (len + 1 < sizeof line) {
        line[len] = '\n';
        line[len + 1] = '\0';
    } else {
        line[sizeof line - 2] = '\n';
    }
    fputs(line, lg->out ? lg->out : stderr);
}
