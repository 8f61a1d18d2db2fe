#include "check.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "camrtc/error.h"
#include "server/store.h"

#define REGION "us-west-2"
#define ACCOUNT "123456789012"
#define T0 INT64_C(1700000000123)

/* A fresh temporary directory; rm_dir removes it and whatever files it holds. */
static void tmp_dir(char out[64])
{
    snprintf(out, 64, "/tmp/camrtc-store-XXXXXX");
    if (!mkdtemp(out))
        out[0] = '\0';
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_dir(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

/* The whole file as a malloc'd string (NULL when absent). */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool is_alnum_str(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

TEST(create_find_delete_and_order)
{
    sig_store *s = sig_store_new(REGION, ACCOUNT, NULL, NULL);
    CHECK(s);
    const sig_channel *c = NULL, *a = NULL, *b = NULL;
    CHECK_EQ_INT(sig_store_create(s, "cam-c", 0, NULL, 0, T0, &c), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "cam-a", 30, NULL, 0, T0 + 1, &a), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "cam-b", 120, NULL, 0, T0 + 2, &b), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 3);
    CHECK_EQ_STR(c->arn, "arn:aws:kinesisvideo:us-west-2:123456789012:channel/cam-c/1700000000123");
    CHECK_EQ_INT(c->creation_ms, T0);
    CHECK_EQ_INT(c->msg_ttl_s, 60);
    CHECK_EQ_INT(a->msg_ttl_s, 30);
    CHECK_EQ_STR(c->status, "ACTIVE");
    CHECK(is_alnum_str(c->version, 20));
    CHECK(strcmp(a->version, b->version) != 0 && strcmp(a->version, c->version) != 0);
    /* listing order is by name, whatever the creation order */
    CHECK(sig_store_at(s, 0) == a);
    CHECK(sig_store_at(s, 1) == b);
    CHECK(sig_store_at(s, 2) == c);
    CHECK(sig_store_at(s, 3) == NULL);
    CHECK(sig_store_find_name(s, "cam-b") == b);
    CHECK(sig_store_find_name(s, "cam-") == NULL);
    CHECK(sig_store_find_arn(s, b->arn) == b);
    CHECK(sig_store_find_arn(s, "arn:aws:kinesisvideo:us-west-2:999999999999:channel/cam-b/1700000000125") == NULL);
    CHECK_EQ_INT(sig_store_create(s, "cam-b", 0, NULL, 0, T0 + 3, NULL), CAMRTC_EEXIST);

    char arn[512], ver[33];
    strcpy(arn, b->arn);
    strcpy(ver, b->version);
    CHECK_EQ_INT(sig_store_delete(s, arn, "wrongversion"), CAMRTC_ESTATE);
    CHECK_EQ_INT(sig_store_count(s), 3);
    CHECK_EQ_INT(sig_store_delete(s, arn, ver), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_delete(s, arn, NULL), CAMRTC_ENOTFOUND);
    CHECK(sig_store_find_name(s, "cam-b") == NULL);
    CHECK(sig_store_find_arn(s, arn) == NULL);
    CHECK_EQ_INT(sig_store_count(s), 2);
    CHECK(sig_store_at(s, 1) == c);
    CHECK_EQ_INT(sig_store_delete(s, c->arn, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 1);
    sig_store_free(s);
}

TEST(create_validation)
{
    sig_store *s = sig_store_new(REGION, ACCOUNT, NULL, NULL);
    CHECK(s);
    char long_name[258];
    memset(long_name, 'n', 257);
    long_name[257] = '\0';
    CHECK_EQ_INT(sig_store_create(s, "", 0, NULL, 0, T0, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_store_create(s, long_name, 0, NULL, 0, T0, NULL), CAMRTC_EINVAL);
    long_name[256] = '\0';
    CHECK_EQ_INT(sig_store_create(s, long_name, 0, NULL, 0, T0, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "a b", 0, NULL, 0, T0, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_store_create(s, "a/b", 0, NULL, 0, T0, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_store_create(s, NULL, 0, NULL, 0, T0, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_store_create(s, "ttl", 4, NULL, 0, T0, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_store_create(s, "ttl", 121, NULL, 0, T0, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_store_create(s, "ttl", -1, NULL, 0, T0, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_store_create(s, "when", 0, NULL, 0, -1, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(sig_store_create(s, "when", 0, NULL, 0, INT64_C(10000000000000), NULL), CAMRTC_EINVAL);

    static sig_tag tags[SIG_MAX_TAGS + 1];
    for (int i = 0; i <= SIG_MAX_TAGS; i++) {
        snprintf(tags[i].key, sizeof tags[i].key, "key%d", i);
        snprintf(tags[i].value, sizeof tags[i].value, "value %d", i);
    }
    CHECK_EQ_INT(sig_store_create(s, "tags", 0, tags, SIG_MAX_TAGS + 1, T0, NULL), CAMRTC_EINVAL);
    const sig_channel *c;
    CHECK_EQ_INT(sig_store_create(s, "tags", 0, tags, SIG_MAX_TAGS, T0, &c), CAMRTC_OK);
    CHECK_EQ_INT(c->n_tags, SIG_MAX_TAGS);
    CHECK_EQ_STR(c->tags[49].key, "key49");
    CHECK_EQ_STR(c->tags[49].value, "value 49");
    sig_tag bad[2] = {{"k", "v"}, {"k", "w"}};
    CHECK_EQ_INT(sig_store_create(s, "dup", 0, bad, 2, T0, NULL), CAMRTC_EINVAL);
    strcpy(bad[1].key, "");
    CHECK_EQ_INT(sig_store_create(s, "dup", 0, bad, 2, T0, NULL), CAMRTC_EINVAL);
    strcpy(bad[1].key, "k2");
    strcpy(bad[1].value, "line\nbreak");
    CHECK_EQ_INT(sig_store_create(s, "dup", 0, bad, 2, T0, NULL), CAMRTC_EINVAL);
    strcpy(bad[1].value, "");
    CHECK_EQ_INT(sig_store_create(s, "dup", 0, bad, 2, T0, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 3);
    sig_store_free(s);
}

TEST(new_checks_region_account_and_partition)
{
    CHECK(sig_store_new(REGION, "12345678901", NULL, NULL) == NULL);
    CHECK(sig_store_new(REGION, "12345678901a", NULL, NULL) == NULL);
    CHECK(sig_store_new("US-WEST-2", ACCOUNT, NULL, NULL) == NULL);
    CHECK(sig_store_new("", ACCOUNT, NULL, NULL) == NULL);
    CHECK(sig_store_new(REGION, ACCOUNT, "", NULL) == NULL);
    sig_store *s = sig_store_new("cn-north-1", ACCOUNT, NULL, NULL);
    CHECK(s);
    const sig_channel *c;
    CHECK_EQ_INT(sig_store_create(s, "x", 0, NULL, 0, 5, &c), CAMRTC_OK);
    CHECK_EQ_STR(c->arn, "arn:aws-cn:kinesisvideo:cn-north-1:123456789012:channel/x/0000000000005");
    CHECK_EQ_STR(sig_store_region(s), "cn-north-1");
    CHECK_EQ_STR(sig_store_account(s), ACCOUNT);
    sig_store_free(s);
    sig_store_free(NULL);
}

TEST(lower_bound_resumes_and_prefixes)
{
    sig_store *s = sig_store_new(REGION, ACCOUNT, NULL, NULL);
    CHECK(s);
    const char *names[] = {"alpha", "beta", "beta-1", "beta-2", "gamma"};
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(sig_store_create(s, names[i], 0, NULL, 0, T0, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_lower_bound(s, NULL, NULL), 0);
    CHECK_EQ_INT(sig_store_lower_bound(s, "", "beta"), 1);
    CHECK_EQ_INT(sig_store_lower_bound(s, "beta", "beta"), 2);
    CHECK_EQ_INT(sig_store_lower_bound(s, "beta-0", NULL), 2);  /* a deleted name resumes right */
    CHECK_EQ_INT(sig_store_lower_bound(s, "alpha", "gamma"), 4);
    CHECK_EQ_INT(sig_store_lower_bound(s, "gamma", NULL), 5);
    CHECK_EQ_INT(sig_store_lower_bound(s, NULL, "zz"), 5);
    sig_store_free(s);
}

TEST(persistence_round_trip_keeps_arn_version_creation)
{
    char dir[64], path[128];
    tmp_dir(dir);
    CHECK(dir[0]);
    snprintf(path, sizeof path, "%s/channels.json", dir);
    sig_store *s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK(s);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK); /* no file yet: empty */
    CHECK_EQ_INT(sig_store_count(s), 0);
    sig_tag tags[2] = {{"owner", "lab \"7\" \\ ü"}, {"empty", ""}};
    const sig_channel *g; /* first change: a lost change counter would give it the same version again */
    CHECK_EQ_INT(sig_store_create(s, "gone", 0, NULL, 0, T0 + 5, &g), CAMRTC_OK);
    char gone_version[33];
    strcpy(gone_version, g->version);
    CHECK_EQ_INT(sig_store_delete(s, g->arn, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "cam1", 17, tags, 2, T0, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "cam0", 0, NULL, 0, T0 + 999, NULL), CAMRTC_OK);
    sig_channel before[2];
    before[0] = *sig_store_at(s, 0);
    before[1] = *sig_store_at(s, 1);
    sig_store_free(s);

    s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK(s);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 2);
    for (int i = 0; i < 2; i++) {
        const sig_channel *c = sig_store_at(s, (size_t)i);
        CHECK_EQ_STR(c->name, before[i].name);
        CHECK_EQ_STR(c->arn, before[i].arn);
        CHECK_EQ_STR(c->version, before[i].version);
        CHECK_EQ_STR(c->status, before[i].status);
        CHECK_EQ_INT(c->creation_ms, before[i].creation_ms);
        CHECK_EQ_INT(c->msg_ttl_s, before[i].msg_ttl_s);
        CHECK_EQ_INT(c->n_tags, before[i].n_tags);
        CHECK(sig_store_find_arn(s, before[i].arn) == c);
    }
    const sig_channel *c1 = sig_store_find_name(s, "cam1");
    CHECK_EQ_INT(c1->msg_ttl_s, 17);
    CHECK_EQ_STR(c1->tags[0].key, "owner");
    CHECK_EQ_STR(c1->tags[0].value, "lab \"7\" \\ ü");
    CHECK_EQ_STR(c1->tags[1].value, "");
    CHECK(sig_store_find_name(s, "gone") == NULL);
    /* versions keep changing after a restart, even for a channel recreated with
     * the same ARN: the change counter was saved */
    CHECK_EQ_INT(sig_store_create(s, "gone", 0, NULL, 0, T0 + 5, &g), CAMRTC_OK);
    CHECK(strcmp(g->version, gone_version) != 0);
    CHECK(strcmp(g->version, before[0].version) != 0 && strcmp(g->version, before[1].version) != 0);
    sig_store_free(s);

    s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 3);
    /* a second load replaces, never duplicates */
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 3);
    sig_store_free(s);
    rm_dir(dir);
}

TEST(garbage_tmp_file_is_ignored)
{
    char dir[64], path[128], tmp[140];
    tmp_dir(dir);
    CHECK(dir[0]);
    snprintf(path, sizeof path, "%s/channels.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    sig_store *s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "kept", 0, NULL, 0, T0, NULL), CAMRTC_OK);
    char arn[512];
    strcpy(arn, sig_store_at(s, 0)->arn);
    sig_store_free(s);
    /* a crash in the middle of the next write leaves a half-written .tmp */
    CHECK_EQ_INT(write_text(tmp, "{\"format\":\"camrtc-signaling-channels\",\"channels\":[{\"na"), 0);

    s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 1);
    CHECK_EQ_STR(sig_store_at(s, 0)->arn, arn);
    CHECK_EQ_INT(sig_store_create(s, "next", 0, NULL, 0, T0, NULL), CAMRTC_OK);
    sig_store_free(s);
    CHECK(access(tmp, F_OK) != 0); /* renamed away by the write */
    s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 2);
    sig_store_free(s);
    rm_dir(dir);
}

TEST(corrupt_state_refused_and_never_overwritten)
{
    char dir[64], path[128], moved[140];
    tmp_dir(dir);
    CHECK(dir[0]);
    snprintf(path, sizeof path, "%s/channels.json", dir);
    snprintf(moved, sizeof moved, "%s/channels.bad", dir);
    const char *garbage = "{\"format\":\"camrtc-signaling-channels\",\"format_version\":1,\"seq\":3,\"chan";
    CHECK_EQ_INT(write_text(path, garbage), 0);
    sig_store *s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_EPROTO);
    CHECK_EQ_INT(sig_store_count(s), 0);
    CHECK_EQ_INT(sig_store_create(s, "new", 0, NULL, 0, T0, NULL), CAMRTC_ESTATE);
    CHECK_EQ_INT(sig_store_count(s), 0);
    char *now = read_text(path);
    CHECK(now);
    int same = strcmp(now, garbage) == 0;
    free(now);
    CHECK(same);
    /* the operator moves it away: changes are allowed again */
    CHECK_EQ_INT(rename(path, moved), 0);
    CHECK_EQ_INT(sig_store_create(s, "new", 0, NULL, 0, T0, NULL), CAMRTC_OK);
    sig_store_free(s);
    s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 1);
    sig_store_free(s);
    rm_dir(dir);
}

TEST(unsound_state_files_are_rejected)
{
    char dir[64], path[128];
    tmp_dir(dir);
    CHECK(dir[0]);
    snprintf(path, sizeof path, "%s/channels.json", dir);
#define HEAD "{\"format\":\"camrtc-signaling-channels\",\"format_version\":1,\"region\":\"us-west-2\"," \
             "\"account\":\"123456789012\",\"seq\":4,\"channels\":["
#define CH(name, arn) "{\"name\":\"" name "\",\"arn\":\"" arn "\",\"creation_ms\":1700000000123," \
                      "\"version\":\"abc\",\"msg_ttl_s\":60,\"status\":\"ACTIVE\",\"tags\":[]}"
#define ARN(name) "arn:aws:kinesisvideo:us-west-2:123456789012:channel/" name "/1700000000123"
    static const struct {
        const char *text;
        int rc;
    } cases[] = {
        {HEAD CH("a", ARN("a")) "]}", CAMRTC_OK},
        {HEAD CH("a", ARN("a")) "]}\n\n", CAMRTC_OK},
        {HEAD CH("a", ARN("a")) "]} x", CAMRTC_EPROTO},                     /* trailing bytes */
        {HEAD CH("a", ARN("b")) "]}", CAMRTC_EPROTO},                       /* ARN of another name */
        {HEAD CH("a", ARN("a")) "," CH("a", ARN("a")) "]}", CAMRTC_EPROTO}, /* duplicate */
        {HEAD CH("a b", ARN("a b")) "]}", CAMRTC_EPROTO},                   /* bad name */
        {HEAD "{\"name\":\"a\"}]}", CAMRTC_EPROTO},
        {HEAD "7]}", CAMRTC_EPROTO},
        {"{\"format\":\"other\",\"format_version\":1,\"seq\":1,\"channels\":[]}", CAMRTC_EPROTO},
        {"{\"format\":\"camrtc-signaling-channels\",\"format_version\":2,\"seq\":1,\"channels\":[]}", CAMRTC_EPROTO},
        {"{\"format\":\"camrtc-signaling-channels\",\"format_version\":1,\"seq\":-1,\"channels\":[]}", CAMRTC_EPROTO},
        {"[]", CAMRTC_EPROTO},
        {"", CAMRTC_EPROTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ_INT(write_text(path, cases[i].text), 0);
        sig_store *s = sig_store_new(REGION, ACCOUNT, path, NULL);
        int rc = sig_store_load(s);
        if (rc != cases[i].rc)
            fprintf(stderr, "case %zu\n", i);
        sig_store_free(s);
        CHECK_EQ_INT(rc, cases[i].rc);
    }
    /* a TTL outside 5..120 or a tag too long is rot too */
    const char *bad_ttl = HEAD "{\"name\":\"a\",\"arn\":\"" ARN("a") "\",\"creation_ms\":1700000000123,"
                               "\"version\":\"abc\",\"msg_ttl_s\":500,\"status\":\"ACTIVE\",\"tags\":[]}]}";
    CHECK_EQ_INT(write_text(path, bad_ttl), 0);
    sig_store *s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_EPROTO);
    sig_store_free(s);
    rm_dir(dir);
#undef HEAD
#undef CH
#undef ARN
}

TEST(unloaded_existing_file_is_not_overwritten)
{
    char dir[64], path[128];
    tmp_dir(dir);
    CHECK(dir[0]);
    snprintf(path, sizeof path, "%s/channels.json", dir);
    sig_store *s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_create(s, "first", 0, NULL, 0, T0, NULL), CAMRTC_OK); /* no file: fine */
    sig_store_free(s);
    s = sig_store_new(REGION, ACCOUNT, path, NULL);
    /* sig_store_load was forgotten: writing would drop "first" */
    CHECK_EQ_INT(sig_store_create(s, "second", 0, NULL, 0, T0, NULL), CAMRTC_ESTATE);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "second", 0, NULL, 0, T0, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), 2);
    sig_store_free(s);
    rm_dir(dir);
}

TEST(failed_write_leaves_store_unchanged)
{
    char dir[64], sub[96], path[128];
    tmp_dir(dir);
    CHECK(dir[0]);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(path, sizeof path, "%s/channels.json", sub);
    CHECK_EQ_INT(mkdir(sub, 0700), 0);
    sig_store *s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "a", 0, NULL, 0, T0, NULL), CAMRTC_OK);
    /* the directory disappears: nothing can be written any more */
    CHECK_EQ_INT(unlink(path), 0);
    CHECK_EQ_INT(rmdir(sub), 0);
    CHECK_EQ_INT(sig_store_create(s, "b", 0, NULL, 0, T0, NULL), CAMRTC_EIO);
    CHECK_EQ_INT(sig_store_count(s), 1);
    CHECK(sig_store_find_name(s, "b") == NULL);
    char arn[512];
    strcpy(arn, sig_store_at(s, 0)->arn);
    CHECK_EQ_INT(sig_store_delete(s, arn, NULL), CAMRTC_EIO);
    CHECK_EQ_INT(sig_store_count(s), 1);
    CHECK(sig_store_find_arn(s, arn) != NULL);
    CHECK(sig_store_find_name(s, "a") != NULL);
    sig_store_free(s);
    rm_dir(dir);
}

/* A deterministic shuffle of 0..n-1. */
static void shuffle(int *v, int n)
{
    uint32_t x = 12345;
    for (int i = 0; i < n; i++)
        v[i] = i;
    for (int i = n - 1; i > 0; i--) {
        x = x * 1103515245u + 12345u;
        int j = (int)((x >> 8) % (uint32_t)(i + 1));
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

TEST(thousand_channels_in_memory)
{
    enum { N = 1000 };
    sig_store *s = sig_store_new(REGION, ACCOUNT, NULL, NULL);
    CHECK(s);
    static int order[N];
    shuffle(order, N);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "cam-%04d", order[i]);
        CHECK_EQ_INT(sig_store_create(s, name, 0, NULL, 0, T0 + i, NULL), CAMRTC_OK);
    }
    CHECK_EQ_INT(sig_store_count(s), N);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "cam-%04d", i);
        const sig_channel *c = sig_store_at(s, (size_t)i);
        CHECK_EQ_STR(c->name, name);
        CHECK(sig_store_find_name(s, name) == c);
        CHECK(sig_store_find_arn(s, c->arn) == c);
    }
    for (int i = 1; i < N; i += 2) {
        char name[32];
        snprintf(name, sizeof name, "cam-%04d", i);
        CHECK_EQ_INT(sig_store_delete(s, sig_store_find_name(s, name)->arn, NULL), CAMRTC_OK);
    }
    CHECK_EQ_INT(sig_store_count(s), N / 2);
    for (int i = 0; i < N / 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "cam-%04d", 2 * i);
        const sig_channel *c = sig_store_at(s, (size_t)i);
        CHECK_EQ_STR(c->name, name);
        CHECK(sig_store_find_arn(s, c->arn) == c);
    }
    sig_store_free(s);
}

/* Every change fsyncs twice, so the big persisted store is written by the test
 * in the store's format and the store changes it only a few times. */
TEST(thousand_channels_persisted)
{
    enum { N = 1000 };
    char dir[64], path[128];
    tmp_dir(dir);
    CHECK(dir[0]);
    snprintf(path, sizeof path, "%s/channels.json", dir);
    static int order[N];
    shuffle(order, N);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fprintf(f, "{\"format\":\"camrtc-signaling-channels\",\"format_version\":1,\"region\":\"" REGION "\","
               "\"account\":\"" ACCOUNT "\",\"seq\":%d,\"channels\":[", N);
    for (int i = 0; i < N; i++)
        fprintf(f, "%s{\"name\":\"cam-%04d\",\"arn\":\"arn:aws:kinesisvideo:" REGION ":" ACCOUNT
                   ":channel/cam-%04d/%013lld\",\"creation_ms\":%lld,\"version\":\"v%d\",\"msg_ttl_s\":%d,"
                   "\"status\":\"ACTIVE\",\"tags\":[{\"key\":\"n\",\"value\":\"%d\"}]}",
                i ? "," : "", order[i], order[i], (long long)(T0 + i), (long long)(T0 + i), i, 5 + i % 116, i);
    fprintf(f, "]}");
    CHECK_EQ_INT(fclose(f), 0);

    sig_store *s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), N);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "cam-%04d", i);
        const sig_channel *c = sig_store_at(s, (size_t)i);
        CHECK_EQ_STR(c->name, name);
        CHECK(sig_store_find_arn(s, c->arn) == c);
        CHECK_EQ_INT(c->n_tags, 1);
    }
    /* a few changes rewrite all of it */
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(sig_store_delete(s, sig_store_at(s, (size_t)(i * 50))->arn, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "cam-new", 0, NULL, 0, T0 + N, NULL), CAMRTC_OK);
    static sig_channel copy[N]; /* the fixed-size fields only: tags point into the store */
    for (int i = 0; i < N - 9; i++)
        copy[i] = *sig_store_at(s, (size_t)i);
    sig_store_free(s);

    s = sig_store_new(REGION, ACCOUNT, path, NULL);
    CHECK_EQ_INT(sig_store_load(s), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_count(s), N - 9);
    for (int i = 0; i < N - 9; i++) {
        const sig_channel *c = sig_store_at(s, (size_t)i);
        CHECK_EQ_STR(c->name, copy[i].name);
        CHECK_EQ_STR(c->arn, copy[i].arn);
        CHECK_EQ_STR(c->version, copy[i].version);
        CHECK_EQ_INT(c->creation_ms, copy[i].creation_ms);
        CHECK_EQ_INT(c->msg_ttl_s, copy[i].msg_ttl_s);
    }
    sig_store_free(s);
    rm_dir(dir);
}

TEST(channel_limit)
{
    sig_store *s = sig_store_new(REGION, ACCOUNT, NULL, NULL);
    CHECK(s);
    for (int i = 0; i < SIG_MAX_CHANNELS; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%05d", i);
        CHECK_EQ_INT(sig_store_create(s, name, 0, NULL, 0, T0, NULL), CAMRTC_OK);
    }
    CHECK_EQ_INT(sig_store_create(s, "one-more", 0, NULL, 0, T0, NULL), CAMRTC_ELIMIT);
    CHECK_EQ_INT(sig_store_count(s), SIG_MAX_CHANNELS);
    CHECK_EQ_INT(sig_store_delete(s, sig_store_at(s, 0)->arn, NULL), CAMRTC_OK);
    CHECK_EQ_INT(sig_store_create(s, "one-more", 0, NULL, 0, T0, NULL), CAMRTC_OK);
    sig_store_free(s);
}

int main(void)
{
    return RUN_TESTS(create_find_delete_and_order, create_validation, new_checks_region_account_and_partition,
                     lower_bound_resumes_and_prefixes, persistence_round_trip_keeps_arn_version_creation,
                     garbage_tmp_file_is_ignored, corrupt_state_refused_and_never_overwritten,
                     unsound_state_files_are_rejected, unloaded_existing_file_is_not_overwritten,
                     failed_write_leaves_store_unchanged, thousand_channels_in_memory, thousand_channels_persisted,
                     channel_limit);
}
