/* Measuring helpers shared by the C benches: process RSS, the load average (how much a
 * figure on a shared machine can be trusted) and clocks. Linux /proc only. */
#ifndef CAMRTC_BENCH_UTIL_H
#define CAMRTC_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* VmRSS of this process in kB, -1 when unreadable. */
static inline long bench_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* The 1-minute load average, -1 when unreadable. */
static inline double bench_loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* A clock (CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID) in ns. */
static inline uint64_t bench_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
