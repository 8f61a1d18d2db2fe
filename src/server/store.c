#include "server/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/sha256.h>

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/str.h"

#define MOD "store"
#define FILE_FORMAT "camrtc-signaling-channels"
#define FILE_FORMAT_VERSION 1
#define MAX_CREATION_MS INT64_C(9999999999999) /* the ARN carries it as 13 digits */
#define MAX_SEQ (UINT64_C(1) << 53)            /* exact in a JSON number */

/* Two views of the same channels: one sorted by name (listing order, lookups by
 * name), one by ARN (the data plane's lookups). Both hold the same pointers; the
 * name view owns them. */
typedef struct chan_set {
    sig_channel **by_name;
    sig_channel **by_arn;
    size_t n, cap;
} chan_set;

struct sig_store {
    char region[64];
    char account[13];
    char partition[16];
    char *state_path;
    char *tmp_path;
    camrtc_log *log;
    chan_set set;
    uint64_t seq;     /* bumped per change; feeds the opaque versions */
    bool loaded;      /* state_path was read (or found absent) by sig_store_load */
};

/* ---- small validators ---- */

bool sig_store_region_ok(const char *r)
{
    size_t n = r ? strlen(r) : 0;
    if (n == 0 || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
            return false;
    return true;
}

bool sig_store_account_ok(const char *a)
{
    if (!a || strlen(a) != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (a[i] < '0' || a[i] > '9')
            return false;
    return true;
}

static bool name_ok(const char *name)
{
    return name && camrtc_str_is_name(name, strlen(name), SIG_CHANNEL_NAME_MAX);
}

static bool alnum_ok(const char *s, size_t maxlen)
{
    size_t n = strlen(s);
    if (n == 0 || n > maxlen)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

/* Tag text: bounded, no control characters (it ends up in JSON and logs). */
static bool tag_text_ok(const char *s, size_t minlen, size_t maxlen)
{
    size_t n = strnlen(s, maxlen + 1);
    if (n < minlen || n > maxlen)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool tags_ok(const sig_tag *tags, size_t n)
{
    if (n > SIG_MAX_TAGS || (n > 0 && !tags))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!tag_text_ok(tags[i].key, 1, SIG_TAG_KEY_MAX) || !tag_text_ok(tags[i].value, 0, SIG_TAG_VALUE_MAX))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(tags[i].key, tags[j].key) == 0)
                return false;
    }
    return true;
}

/* ---- the sorted views ---- */

/* Index of the first element of v (n long) whose key is >= key (strcmp); *found
 * tells whether it is equal. by_arn selects the key field. */
static size_t set_bound(sig_channel *const *v, size_t n, const char *key, bool by_arn, bool *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(by_arn ? v[mid]->arn : v[mid]->name, key);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (found)
        *found = lo < n && strcmp(by_arn ? v[lo]->arn : v[lo]->name, key) == 0;
    return lo;
}

static int set_reserve(chan_set *set, size_t need)
{
    if (need <= set->cap)
        return CAMRTC_OK;
    size_t ncap = set->cap ? set->cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    sig_channel **a = realloc(set->by_name, ncap * sizeof *a);
    if (!a)
        return CAMRTC_ENOMEM;
    set->by_name = a;
    sig_channel **b = realloc(set->by_arn, ncap * sizeof *b);
    if (!b)
        return CAMRTC_ENOMEM;
    set->by_arn = b;
    set->cap = ncap;
    return CAMRTC_OK;
}

static void vec_insert(sig_channel **v, size_t n, size_t at, sig_channel *c)
{
    memmove(v + at + 1, v + at, (n - at) * sizeof *v);
    v[at] = c;
}

static void vec_remove(sig_channel **v, size_t n, size_t at)
{
    memmove(v + at, v + at + 1, (n - at - 1) * sizeof *v);
}

/* Insert c (whose name and ARN are not yet present) into both views. */
static int set_insert(chan_set *set, sig_channel *c)
{
    int rc = set_reserve(set, set->n + 1);
    if (rc < 0)
        return rc;
    size_t i = set_bound(set->by_name, set->n, c->name, false, NULL);
    size_t j = set_bound(set->by_arn, set->n, c->arn, true, NULL);
    vec_insert(set->by_name, set->n, i, c);
    vec_insert(set->by_arn, set->n, j, c);
    set->n++;
    return CAMRTC_OK;
}

static void set_remove(chan_set *set, const sig_channel *c)
{
    bool f1, f2;
    size_t i = set_bound(set->by_name, set->n, c->name, false, &f1);
    size_t j = set_bound(set->by_arn, set->n, c->arn, true, &f2);
    if (!f1 || !f2)
        return;
    vec_remove(set->by_name, set->n, i);
    vec_remove(set->by_arn, set->n, j);
    set->n--;
}

static void set_free(chan_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->by_name[i]);
    free(set->by_name);
    free(set->by_arn);
    memset(set, 0, sizeof *set);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(sig_channel *const *)a)->name, (*(sig_channel *const *)b)->name);
}

static int cmp_arn(const void *a, const void *b)
{
    return strcmp((*(sig_channel *const *)a)->arn, (*(sig_channel *const *)b)->arn);
}

/* One block: the channel, then its n_tags tags. */
static sig_channel *channel_alloc(size_t n_tags)
{
    sig_channel *c = calloc(1, sizeof *c + n_tags * sizeof(sig_tag));
    if (c)
        c->tags = (sig_tag *)(c + 1);
    return c;
}

/* ---- lifecycle ---- */

sig_store *sig_store_new(const char *region, const char *account, const char *state_path, camrtc_log *log)
{
    if (!sig_store_region_ok(region) || !sig_store_account_ok(account) || (state_path && !*state_path))
        return NULL;
    sig_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    camrtc_strlcpy(s->region, region, sizeof s->region);
    camrtc_strlcpy(s->account, account, sizeof s->account);
    /* The ARN partition follows the region, as AWS's do. */
    const char *part = "aws";
    if (strncmp(region, "cn-", 3) == 0)
        part = "aws-cn";
    else if (strncmp(region, "us-gov-", 7) == 0)
        part = "aws-us-gov";
    camrtc_strlcpy(s->partition, part, sizeof s->partition);
    s->log = log;
    if (state_path) {
        size_t n = strlen(state_path);
        s->state_path = malloc(n + 1);
        s->tmp_path = malloc(n + 5);
        if (!s->state_path || !s->tmp_path) {
            sig_store_free(s);
            return NULL;
        }
        memcpy(s->state_path, state_path, n + 1);
        memcpy(s->tmp_path, state_path, n);
        memcpy(s->tmp_path + n, ".tmp", 5);
    }
    return s;
}

void sig_store_free(sig_store *s)
{
    if (!s)
        return;
    set_free(&s->set);
    free(s->state_path);
    free(s->tmp_path);
    free(s);
}

/* ---- persistence ---- */

/* Append s as a JSON string. Hand-written because every change rewrites the
 * whole file, and cJSON's number printing made that quadratic cost dominate. */
static int json_put_str(camrtc_buf *b, const char *s)
{
    int rc = camrtc_buf_append(b, "\"", 1);
    const char *run = s;
    for (; rc == CAMRTC_OK && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = camrtc_buf_append(b, run, (size_t)(s - run));
        if (rc == CAMRTC_OK)
            rc = c == '"' ? camrtc_buf_append(b, "\\\"", 2)
                 : c == '\\' ? camrtc_buf_append(b, "\\\\", 2)
                             : camrtc_buf_appendf(b, "\\u%04x", c);
        run = s + 1;
    }
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_append(b, run, (size_t)(s - run));
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_append(b, "\"", 1);
    return rc;
}

static int channel_to_json(camrtc_buf *b, const sig_channel *c)
{
    int rc = CAMRTC_OK;
#define PUT(x) do { if (rc == CAMRTC_OK) rc = (x); } while (0)
    PUT(camrtc_buf_append_str(b, "{\"name\":"));
    PUT(json_put_str(b, c->name));
    PUT(camrtc_buf_append_str(b, ",\"arn\":"));
    PUT(json_put_str(b, c->arn));
    PUT(camrtc_buf_appendf(b, ",\"creation_ms\":%" PRId64 ",\"version\":", c->creation_ms));
    PUT(json_put_str(b, c->version));
    PUT(camrtc_buf_appendf(b, ",\"msg_ttl_s\":%d,\"status\":", c->msg_ttl_s));
    PUT(json_put_str(b, c->status));
    PUT(camrtc_buf_append_str(b, ",\"tags\":["));
    for (size_t i = 0; i < c->n_tags; i++) {
        PUT(camrtc_buf_append_str(b, i ? ",{\"key\":" : "{\"key\":"));
        PUT(json_put_str(b, c->tags[i].key));
        PUT(camrtc_buf_append_str(b, ",\"value\":"));
        PUT(json_put_str(b, c->tags[i].value));
        PUT(camrtc_buf_append_str(b, "}"));
    }
    PUT(camrtc_buf_append_str(b, "]}"));
#undef PUT
    return rc;
}

/* The whole store as JSON, one channel per line so operators can read it. */
static int store_to_json(const sig_store *s, camrtc_buf *b)
{
    int rc = camrtc_buf_append_str(b, "{\"format\":\"" FILE_FORMAT "\",\"format_version\":1,\"region\":");
    if (rc == CAMRTC_OK)
        rc = json_put_str(b, s->region);
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_append_str(b, ",\"account\":");
    if (rc == CAMRTC_OK)
        rc = json_put_str(b, s->account);
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_appendf(b, ",\"seq\":%" PRIu64 ",\"channels\":[", s->seq);
    for (size_t i = 0; rc == CAMRTC_OK && i < s->set.n; i++) {
        rc = camrtc_buf_append_str(b, i ? ",\n" : "\n");
        if (rc == CAMRTC_OK)
            rc = channel_to_json(b, s->set.by_name[i]);
    }
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_append_str(b, "\n]}\n");
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync the directory holding path so the rename itself is durable. */
static int fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
        dir[0] = '.';
        dir[1] = '\0';
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir)
            return -1;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write the whole store to state_path atomically. */
static int store_persist(sig_store *s)
{
    if (!s->state_path)
        return CAMRTC_OK;
    if (!s->loaded) {
        /* Whatever is at state_path was not read (or could not be): writing now
         * would replace channels we never saw. */
        struct stat st;
        if (stat(s->state_path, &st) == 0 || errno != ENOENT) {
            CAMRTC_LOGE(s->log, MOD, "refusing to overwrite %s: it was not loaded; move it away to continue",
                        s->state_path);
            return CAMRTC_ESTATE;
        }
    }
    camrtc_buf b = {.max_cap = SIG_STORE_MAX_FILE};
    int rc = store_to_json(s, &b);
    if (rc < 0) {
        camrtc_buf_free(&b);
        if (rc == CAMRTC_ETOOBIG) {
            CAMRTC_LOGE(s->log, MOD, "state would exceed %u bytes; change refused", SIG_STORE_MAX_FILE);
            return CAMRTC_ELIMIT;
        }
        return rc;
    }
    const char *text = (const char *)camrtc_buf_data(&b);
    size_t len = b.len;
    int fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        CAMRTC_LOGE(s->log, MOD, "cannot create %s: %s", s->tmp_path, strerror(errno));
        camrtc_buf_free(&b);
        return CAMRTC_EIO;
    }
    int bad = write_all(fd, text, len) || fsync(fd);
    int err = errno;
    camrtc_buf_free(&b);
    if (close(fd) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (!bad && rename(s->tmp_path, s->state_path) != 0) {
        bad = 1;
        err = errno;
    }
    if (bad) {
        CAMRTC_LOGE(s->log, MOD, "cannot write %s: %s", s->state_path, strerror(err));
        unlink(s->tmp_path);
        return CAMRTC_EIO;
    }
    if (fsync_parent(s->state_path) != 0)
        CAMRTC_LOGW(s->log, MOD, "fsync of the directory of %s failed: %s", s->state_path, strerror(errno));
    s->loaded = true;
    return CAMRTC_OK;
}

/* ---- loading ---- */

static const char *json_str(const cJSON *o, const char *key, size_t maxlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) > maxlen)
        return NULL;
    return v->valuestring;
}

static bool json_int(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d)
        return false;
    *out = (int64_t)d;
    return true;
}

/* Parse and validate one channel object; NULL (with why) when it is not sound. */
static sig_channel *channel_from_json(const cJSON *o, const char **why)
{
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
    int n_tags = cJSON_IsArray(tags) ? cJSON_GetArraySize(tags) : 0;
    sig_channel *c = channel_alloc(n_tags > 0 && n_tags <= SIG_MAX_TAGS ? (size_t)n_tags : 0);
    if (!c) {
        *why = "out of memory";
        return NULL;
    }
    const char *name = json_str(o, "name", SIG_CHANNEL_NAME_MAX);
    const char *arn = json_str(o, "arn", sizeof c->arn - 1);
    const char *ver = json_str(o, "version", sizeof c->version - 1);
    const char *status = json_str(o, "status", sizeof c->status - 1);
    int64_t ms = 0, ttl = 0;
    *why = NULL;
    if (!cJSON_IsObject(o) || !name || !name_ok(name))
        *why = "bad channel name";
    else if (!json_int(o, "creation_ms", 0, MAX_CREATION_MS, &ms))
        *why = "bad creation_ms";
    else if (!json_int(o, "msg_ttl_s", SIG_MSG_TTL_MIN, SIG_MSG_TTL_MAX, &ttl))
        *why = "bad msg_ttl_s";
    else if (!ver || !alnum_ok(ver, sizeof c->version - 1))
        *why = "bad version";
    else if (!status || !alnum_ok(status, sizeof c->status - 1))
        *why = "bad status";
    else if (tags && (!cJSON_IsArray(tags) || cJSON_GetArraySize(tags) > SIG_MAX_TAGS))
        *why = "bad tags";
    if (!*why && arn) {
        /* The ARN ends in what it was built from; anything else is tampering or rot. */
        char tail[SIG_CHANNEL_NAME_MAX + 32];
        snprintf(tail, sizeof tail, ":channel/%s/%013" PRId64, name, ms);
        size_t al = strlen(arn), tl = strlen(tail);
        if (strncmp(arn, "arn:", 4) != 0 || al <= tl || strcmp(arn + al - tl, tail) != 0)
            *why = "ARN does not match name and creation time";
    } else if (!*why) {
        *why = "bad arn";
    }
    if (*why) {
        free(c);
        return NULL;
    }
    memcpy(c->name, name, strlen(name) + 1);
    memcpy(c->arn, arn, strlen(arn) + 1);
    memcpy(c->version, ver, strlen(ver) + 1);
    memcpy(c->status, status, strlen(status) + 1);
    c->creation_ms = ms;
    c->msg_ttl_s = (int)ttl;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
        const char *k = json_str(t, "key", SIG_TAG_KEY_MAX);
        const char *v = json_str(t, "value", SIG_TAG_VALUE_MAX);
        if (!k || !v) {
            *why = "bad tag";
            free(c);
            return NULL;
        }
        memcpy(c->tags[c->n_tags].key, k, strlen(k) + 1);
        memcpy(c->tags[c->n_tags].value, v, strlen(v) + 1);
        c->n_tags++;
    }
    if (!tags_ok(c->tags, c->n_tags)) {
        *why = "bad tag";
        free(c);
        return NULL;
    }
    return c;
}

static int read_file(const char *path, char **out, size_t *out_len, camrtc_log *log)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CAMRTC_ENOTFOUND : CAMRTC_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        CAMRTC_LOGE(log, MOD, "%s is not a readable regular file", path);
        return CAMRTC_EIO;
    }
    if ((uint64_t)st.st_size > SIG_STORE_MAX_FILE) {
        close(fd);
        CAMRTC_LOGE(log, MOD, "%s is larger than %u bytes", path, SIG_STORE_MAX_FILE);
        return CAMRTC_ETOOBIG;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return CAMRTC_ENOMEM;
    }
    for (;;) {
        if (len == cap - 1) {
            /* The file grew under us; stay within the bound. */
            if (cap > SIG_STORE_MAX_FILE) {
                free(buf);
                close(fd);
                return CAMRTC_ETOOBIG;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return CAMRTC_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            close(fd);
            return CAMRTC_EIO;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return CAMRTC_OK;
}

/* Parse text into set/seq; on failure *why says what was wrong. */
static int parse_state(const sig_store *s, const char *text, size_t len, chan_set *set, uint64_t *seq,
                       const char **why)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        *why = "not valid JSON";
        return CAMRTC_EPROTO;
    }
    while (end && end < text + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    int rc = CAMRTC_EPROTO;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "channels");
    const char *fmt = json_str(root, "format", 64);
    int64_t fv = 0, sq = 0;
    *why = NULL;
    if (end != text + len)
        *why = "trailing bytes after the JSON";
    else if (!cJSON_IsObject(root) || !fmt || strcmp(fmt, FILE_FORMAT) != 0)
        *why = "not a channel state file";
    else if (!json_int(root, "format_version", FILE_FORMAT_VERSION, FILE_FORMAT_VERSION, &fv))
        *why = "unknown format_version";
    else if (!json_int(root, "seq", 0, (int64_t)MAX_SEQ, &sq))
        *why = "bad seq";
    else if (!cJSON_IsArray(arr))
        *why = "no channels array";
    else if (cJSON_GetArraySize(arr) > SIG_MAX_CHANNELS)
        *why = "more channels than SIG_MAX_CHANNELS";
    if (*why)
        goto out;
    const char *reg = json_str(root, "region", 63), *acc = json_str(root, "account", 12);
    if (!reg || !acc || strcmp(reg, s->region) != 0 || strcmp(acc, s->account) != 0)
        CAMRTC_LOGW(s->log, MOD, "%s was written for another region/account; its channels keep their ARNs",
                    s->state_path);
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        sig_channel *c = channel_from_json(item, why);
        if (!c)
            goto out;
        rc = set_reserve(set, set->n + 1);
        if (rc < 0) {
            free(c);
            *why = "out of memory";
            goto out;
        }
        rc = CAMRTC_EPROTO;
        set->by_name[set->n] = c;
        set->by_arn[set->n] = c;
        set->n++;
    }
    qsort(set->by_name, set->n, sizeof *set->by_name, cmp_name);
    qsort(set->by_arn, set->n, sizeof *set->by_arn, cmp_arn);
    for (size_t i = 1; i < set->n; i++) {
        if (strcmp(set->by_name[i - 1]->name, set->by_name[i]->name) == 0 ||
            strcmp(set->by_arn[i - 1]->arn, set->by_arn[i]->arn) == 0) {
            *why = "duplicate channel";
            goto out;
        }
    }
    *seq = (uint64_t)sq;
    rc = CAMRTC_OK;
out:
    cJSON_Delete(root);
    return rc;
}

int sig_store_load(sig_store *s)
{
    if (!s->state_path) {
        s->loaded = true;
        return CAMRTC_OK;
    }
    set_free(&s->set);
    s->loaded = false;
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(s->state_path, &text, &len, s->log);
    if (rc == CAMRTC_ENOTFOUND) {
        CAMRTC_LOGI(s->log, MOD, "%s does not exist yet: starting with no channels", s->state_path);
        s->loaded = true;
        return CAMRTC_OK;
    }
    if (rc < 0) {
        CAMRTC_LOGE(s->log, MOD, "cannot read %s (%s); refusing changes until it is fixed or moved away",
                    s->state_path, camrtc_strerror(rc));
        return rc;
    }
    chan_set set = {0};
    uint64_t seq = 0;
    const char *why = "unknown";
    rc = parse_state(s, text, len, &set, &seq, &why);
    free(text);
    if (rc < 0) {
        set_free(&set);
        CAMRTC_LOGE(s->log, MOD, "%s is corrupt (%s); refusing changes until it is fixed or moved away",
                    s->state_path, why);
        return rc == CAMRTC_ENOMEM ? rc : CAMRTC_EPROTO;
    }
    s->set = set;
    s->seq = seq;
    s->loaded = true;
    CAMRTC_LOGI(s->log, MOD, "loaded %zu channel(s) from %s", set.n, s->state_path);
    return CAMRTC_OK;
}

/* ---- changes ---- */

/* An opaque [A-Za-z0-9]{20} that differs for every change. */
static void make_version(const sig_store *s, const sig_channel *c, char out[33])
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char seed[600];
    int n = snprintf(seed, sizeof seed, "%s|%" PRIu64, c->arn, s->seq);
    unsigned char h[32];
    mbedtls_sha256_ret((const unsigned char *)seed, (size_t)n, h, 0);
    for (int i = 0; i < 20; i++)
        out[i] = digits[h[i] % 62];
    out[20] = '\0';
}

int sig_store_create(sig_store *s, const char *name, int msg_ttl_s, const sig_tag *tags, size_t n_tags,
                     int64_t now_ms, const sig_channel **out)
{
    if (out)
        *out = NULL;
    if (msg_ttl_s == 0)
        msg_ttl_s = SIG_MSG_TTL_DEFAULT;
    if (!name_ok(name) || msg_ttl_s < SIG_MSG_TTL_MIN || msg_ttl_s > SIG_MSG_TTL_MAX || !tags_ok(tags, n_tags) ||
        now_ms < 0 || now_ms > MAX_CREATION_MS)
        return CAMRTC_EINVAL;
    bool found;
    set_bound(s->set.by_name, s->set.n, name, false, &found);
    if (found)
        return CAMRTC_EEXIST;
    if (s->set.n >= SIG_MAX_CHANNELS)
        return CAMRTC_ELIMIT;
    if (s->seq >= MAX_SEQ)
        return CAMRTC_ELIMIT;
    sig_channel *c = channel_alloc(n_tags);
    if (!c)
        return CAMRTC_ENOMEM;
    memcpy(c->name, name, strlen(name) + 1);
    snprintf(c->arn, sizeof c->arn, "arn:%s:kinesisvideo:%s:%s:channel/%s/%013" PRId64, s->partition, s->region,
             s->account, name, now_ms);
    c->creation_ms = now_ms;
    c->msg_ttl_s = msg_ttl_s;
    memcpy(c->status, "ACTIVE", 7);
    for (size_t i = 0; i < n_tags; i++)
        c->tags[i] = tags[i];
    c->n_tags = n_tags;
    s->seq++;
    make_version(s, c, c->version);
    int rc = set_insert(&s->set, c);
    if (rc == CAMRTC_OK) {
        rc = store_persist(s);
        if (rc < 0)
            set_remove(&s->set, c);
    }
    if (rc < 0) {
        s->seq--;
        free(c);
        return rc;
    }
    CAMRTC_LOGI(s->log, MOD, "created channel %s (%s)", c->name, c->arn);
    if (out)
        *out = c;
    return CAMRTC_OK;
}

int sig_store_delete(sig_store *s, const char *arn, const char *current_version)
{
    if (!arn)
        return CAMRTC_ENOTFOUND;
    bool found;
    size_t j = set_bound(s->set.by_arn, s->set.n, arn, true, &found);
    if (!found)
        return CAMRTC_ENOTFOUND;
    sig_channel *c = s->set.by_arn[j];
    if (current_version && strcmp(current_version, c->version) != 0)
        return CAMRTC_ESTATE;
    set_remove(&s->set, c);
    s->seq++;
    int rc = store_persist(s);
    if (rc < 0) {
        s->seq--;
        /* Room is there: the views had this entry a moment ago. */
        if (set_insert(&s->set, c) < 0)
            free(c);
        return rc;
    }
    CAMRTC_LOGI(s->log, MOD, "deleted channel %s (%s)", c->name, c->arn);
    free(c);
    return CAMRTC_OK;
}

/* ---- lookups ---- */

const sig_channel *sig_store_find_name(const sig_store *s, const char *name)
{
    if (!name)
        return NULL;
    bool found;
    size_t i = set_bound(s->set.by_name, s->set.n, name, false, &found);
    return found ? s->set.by_name[i] : NULL;
}

const sig_channel *sig_store_find_arn(const sig_store *s, const char *arn)
{
    if (!arn)
        return NULL;
    bool found;
    size_t i = set_bound(s->set.by_arn, s->set.n, arn, true, &found);
    return found ? s->set.by_arn[i] : NULL;
}

size_t sig_store_count(const sig_store *s)
{
    return s->set.n;
}

const sig_channel *sig_store_at(const sig_store *s, size_t i)
{
    return i < s->set.n ? s->set.by_name[i] : NULL;
}

size_t sig_store_lower_bound(const sig_store *s, const char *after, const char *prefix)
{
    size_t i = 0;
    if (after && *after) {
        bool found;
        i = set_bound(s->set.by_name, s->set.n, after, false, &found);
        if (found)
            i++;
    }
    if (prefix && *prefix) {
        size_t p = set_bound(s->set.by_name, s->set.n, prefix, false, NULL);
        if (p > i)
            i = p;
    }
    return i;
}

const char *sig_store_region(const sig_store *s)
{
    return s->region;
}

const char *sig_store_account(const sig_store *s)
{
    return s->account;
}
