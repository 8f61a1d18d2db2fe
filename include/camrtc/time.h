/* Time values and the date formats the AWS protocols use.
 *
 * Protocol modules never read a clock: they are given "now" as a camrtc_time_us
 * (microseconds on a monotonic clock) and, where a wall-clock date matters
 * (SigV4), as Unix seconds. Only net/, media/ and app/ call the clock functions.
 */
#ifndef CAMRTC_TIME_H
#define CAMRTC_TIME_H

#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t camrtc_time_us;

#define CAMRTC_TIME_NEVER UINT64_MAX
#define CAMRTC_MS(x) ((camrtc_time_us)(x) * 1000u)
#define CAMRTC_SEC(x) ((camrtc_time_us)(x) * 1000000u)

/* Monotonic clock in microseconds. */
camrtc_time_us camrtc_now_us(void);

/* Wall clock, Unix time in milliseconds. */
int64_t camrtc_wall_ms(void);

/* Format Unix seconds t as an ISO 8601 basic date "20240102T030405Z" (out >= 17 bytes). */
void camrtc_time_amz(int64_t t, char out[17]);

/* Format only the date part "20240102" (out >= 9 bytes). */
void camrtc_time_amz_date(int64_t t, char out[9]);

/* Parse "20240102T030405Z" into Unix seconds; CAMRTC_EPROTO when malformed. */
int camrtc_time_parse_amz(const char *s, int64_t *t);

/* Format an RFC 7231 HTTP date "Mon, 23 Nov 2026 19:07:31 GMT" (out >= 30 bytes). */
void camrtc_time_http(int64_t t, char out[30]);

/* Parse an RFC 7231 IMF-fixdate; CAMRTC_EPROTO when malformed. */
int camrtc_time_parse_http(const char *s, int64_t *t);

#ifdef __cplusplus
}
#endif
#endif
