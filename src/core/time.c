#include "camrtc/time.h"

#include <string.h>

#include "camrtc/error.h"

camrtc_time_us camrtc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (camrtc_time_us)ts.tv_sec * 1000000u + (camrtc_time_us)ts.tv_nsec / 1000u;
}

int64_t camrtc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void to_tm(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    gmtime_r(&tt, tm);
}

static char *put_num(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

void camrtc_time_amz(int64_t t, char out[17])
{
    struct tm tm;
    to_tm(t, &tm);
    char *p = put_num(out, (unsigned)(tm.tm_year + 1900) % 10000, 4);
    p = put_num(p, (unsigned)tm.tm_mon + 1, 2);
    p = put_num(p, (unsigned)tm.tm_mday, 2);
    *p++ = 'T';
    p = put_num(p, (unsigned)tm.tm_hour, 2);
    p = put_num(p, (unsigned)tm.tm_min, 2);
    p = put_num(p, (unsigned)tm.tm_sec, 2);
    *p++ = 'Z';
    *p = '\0';
}

void camrtc_time_amz_date(int64_t t, char out[9])
{
    char full[17];
    camrtc_time_amz(t, full);
    memcpy(out, full, 8);
    out[8] = '\0';
}

static int digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), valid for any year >= 1. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int make_time(int y, int mo, int d, int h, int mi, int s, int64_t *t)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
        return CAMRTC_EPROTO;
    *t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return CAMRTC_OK;
}

int camrtc_time_parse_amz(const char *s, int64_t *t)
{
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || digits(s, 4, &y) ||
        digits(s + 4, 2, &mo) || digits(s + 6, 2, &d) || digits(s + 9, 2, &h) ||
        digits(s + 11, 2, &mi) || digits(s + 13, 2, &sec))
        return CAMRTC_EPROTO;
    return make_time(y, mo, d, h, mi, sec, t);
}

static const char *const wk[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void camrtc_time_http(int64_t t, char out[30])
{
    struct tm tm;
    to_tm(t, &tm);
    memcpy(out, wk[tm.tm_wday % 7], 3);
    out[3] = ',';
    out[4] = ' ';
    put_num(out + 5, (unsigned)tm.tm_mday, 2);
    out[7] = ' ';
    memcpy(out + 8, mon[tm.tm_mon % 12], 3);
    out[11] = ' ';
    put_num(out + 12, (unsigned)(tm.tm_year + 1900) % 10000, 4);
    out[16] = ' ';
    put_num(out + 17, (unsigned)tm.tm_hour, 2);
    out[19] = ':';
    put_num(out + 20, (unsigned)tm.tm_min, 2);
    out[22] = ':';
    put_num(out + 23, (unsigned)tm.tm_sec, 2);
    memcpy(out + 25, " GMT", 5);
}

int camrtc_time_parse_http(const char *s, int64_t *t)
{
    /* "Mon, 23 Nov 2026 19:07:31 GMT" */
    int y, mo = -1, d, h, mi, sec;
    if (!s || strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' || strcmp(s + 26, "GMT"))
        return CAMRTC_EPROTO;
    for (int i = 0; i < 12; i++)
        if (memcmp(s + 8, mon[i], 3) == 0)
            mo = i + 1;
    if (mo < 0 || digits(s + 5, 2, &d) || digits(s + 12, 4, &y) || digits(s + 17, 2, &h) ||
        digits(s + 20, 2, &mi) || digits(s + 23, 2, &sec))
        return CAMRTC_EPROTO;
    return make_time(y, mo, d, h, mi, sec, t);
}
