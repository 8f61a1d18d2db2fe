/* AWS CLI-style credentials/region/endpoint resolution and the INI parser.
 * The environment is injected through a lookup function; files are temporary. */
#include "check.h"

#include <sys/stat.h>
#include <unistd.h>

#include "camrtc/awsconfig.h"
#include "camrtc/error.h"

/* ---------- helpers ---------- */

typedef struct fake_env {
    const char *kv[32][2];
} fake_env;

static const char *fake_getenv(void *ud, const char *name)
{
    const fake_env *e = ud;
    for (size_t i = 0; i < 32 && e->kv[i][0]; i++)
        if (strcmp(e->kv[i][0], name) == 0)
            return e->kv[i][1];
    return NULL;
}

static camrtc_aws_config_input input(fake_env *e)
{
    camrtc_aws_config_input in;
    memset(&in, 0, sizeof in);
    in.getenv = fake_getenv;
    in.getenv_ud = e;
    in.home = "/nonexistent-camrtc-home";
    return in;
}

static camrtc_aws_files mem_files(const char *creds, const char *config)
{
    camrtc_aws_files f = {"CREDS", (const uint8_t *)creds, creds ? strlen(creds) : 0,
                          "CONFIG", (const uint8_t *)config, config ? strlen(config) : 0};
    return f;
}

static int resolve_mem(const camrtc_aws_config_input *in, const char *creds, const char *config,
                       camrtc_aws_config *out, char *err, size_t errsz)
{
    camrtc_aws_files f = mem_files(creds, config);
    return camrtc_aws_config_resolve_files(in, &f, out, err, errsz);
}

typedef struct ini_log {
    char text[4096];
    int stop_at;   /* stop (return 7) at this entry number, 0 = never */
    int n;
} ini_log;

static int log_entry(void *ud, const camrtc_aws_ini_entry *e)
{
    ini_log *l = ud;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%zu:%s|%s|%s|%s;", e->line, e->section,
             e->parent ? e->parent : "-", e->key ? e->key : "-", e->value);
    return ++l->n == l->stop_at ? 7 : 0;
}

static int parse_str(const char *s, ini_log *l, size_t *bad)
{
    memset(l, 0, sizeof *l);
    return camrtc_aws_ini_parse((const uint8_t *)s, strlen(s), log_entry, l, bad);
}

/* ---------- INI ---------- */

TEST(ini_reports_sections_properties_and_nesting)
{
    static const char text[] =
        "\xef\xbb\xbf# leading comment\r\n"
        "[default]\r\n"
        "region = us-west-2   # inline comment\r\n"
        "Output: json\n"
        "  ; indented comment\n"
        "\n"
        "[ profile dev ] ; comment after header\n"
        "aws_access_key_id=AKIDEXAMPLE\n"
        "weird = a#b;c\n"
        "s3 =\n"
        "  max_concurrent_requests = 20\n"
        "\n"
        "  addressing_style = path\n"
        "tags = first\n"
        "  second\n"
        "empty =\n"
        "[services svc]\n"
        "kinesis_video =\n"
        "\tendpoint_url = http://localhost:4566 # local\n";
    ini_log l;
    size_t bad = 99;
    CHECK_EQ_INT(parse_str(text, &l, &bad), 0);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_STR(l.text,
                 "2:default|-|-|;"
                 "3:default|-|region|us-west-2;"
                 "4:default|-|Output|json;"
                 "7:profile dev|-|-|;"
                 "8:profile dev|-|aws_access_key_id|AKIDEXAMPLE;"
                 "9:profile dev|-|weird|a#b;c;"
                 "10:profile dev|-|s3|;"
                 "11:profile dev|s3|max_concurrent_requests|20;"
                 "13:profile dev|s3|addressing_style|path;"
                 "14:profile dev|-|tags|first;"
                 "15:profile dev|tags|-|second;"
                 "16:profile dev|-|empty|;"
                 "17:services svc|-|-|;"
                 "18:services svc|-|kinesis_video|;"
                 "19:services svc|kinesis_video|endpoint_url|http://localhost:4566;");
}

TEST(ini_indentation_is_relative_to_the_property)
{
    /* configparser: same indentation as the property above starts a new one. */
    ini_log l;
    CHECK_EQ_INT(parse_str("[a]\n  k1 = 1\n  k2 = 2\n    sub\n", &l, NULL), 0);
    CHECK_EQ_STR(l.text, "1:a|-|-|;2:a|-|k1|1;3:a|-|k2|2;4:a|k2|-|sub;");
}

TEST(ini_callback_can_stop)
{
    ini_log l;
    memset(&l, 0, sizeof l);
    l.stop_at = 2;
    size_t bad = 0;
    const char *s = "[a]\nx = 1\ny = 2\n";
    CHECK_EQ_INT(camrtc_aws_ini_parse((const uint8_t *)s, strlen(s), log_entry, &l, &bad), 7);
    CHECK_EQ_INT(bad, 2);
    CHECK_EQ_INT(l.n, 2);
}

TEST(ini_rejects_malformed_lines)
{
    static const struct {
        const char *text;
        int rc;
        size_t line;
    } cases[] = {
        {"key = value\n", CAMRTC_EPROTO, 1},               /* property before any section */
        {"[default\nk = v\n", CAMRTC_EPROTO, 1},           /* unclosed header */
        {"[  ]\n", CAMRTC_EPROTO, 1},                      /* empty header */
        {"[a]\njust words\n", CAMRTC_EPROTO, 2},           /* neither header nor property */
        {"[a]\n = v\n", CAMRTC_EPROTO, 2},                 /* empty key */
        {"[a]\nk = v # c\nk2 # = v\n", CAMRTC_EPROTO, 3},  /* the comment hides the '=' */
        {"[a]\ns3 =\n  no equals here\n", CAMRTC_EPROTO, 3},
        {"[a]\ns3 =\n  = 1\n", CAMRTC_EPROTO, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ini_log l;
        size_t bad = 0;
        int rc = parse_str(cases[i].text, &l, &bad);
        if (rc != cases[i].rc || bad != cases[i].line)
            fprintf(stderr, "case %zu: rc %d line %zu\n", i, rc, bad);
        CHECK_EQ_INT(rc, cases[i].rc);
        CHECK_EQ_INT(bad, cases[i].line);
    }
    static const uint8_t nul[] = "[a]\nk = v\0x\n";
    size_t bad = 0;
    CHECK_EQ_INT(camrtc_aws_ini_parse(nul, sizeof nul - 1, NULL, NULL, &bad), CAMRTC_EPROTO);
    CHECK_EQ_INT(bad, 2);
    CHECK_EQ_INT(camrtc_aws_ini_parse(NULL, 0, NULL, NULL, &bad), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_aws_ini_parse(NULL, 3, NULL, NULL, &bad), CAMRTC_EINVAL);
}

TEST(ini_bounds)
{
    size_t bad = 0;
    /* A line one byte over the bound, then one exactly at it. */
    char *big = malloc(CAMRTC_AWS_INI_MAX_LINE + 64);
    CHECK(big != NULL);
    strcpy(big, "[a]\nk = ");
    size_t head = strlen(big);
    memset(big + head, 'x', CAMRTC_AWS_INI_MAX_LINE - 4 + 1);
    size_t n = head + CAMRTC_AWS_INI_MAX_LINE - 4 + 1;
    int over = camrtc_aws_ini_parse((const uint8_t *)big, n, NULL, NULL, &bad);
    size_t over_line = bad;
    int at = camrtc_aws_ini_parse((const uint8_t *)big, n - 1, NULL, NULL, &bad);
    free(big);
    CHECK_EQ_INT(over, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(over_line, 2);
    CHECK_EQ_INT(at, CAMRTC_OK);

    uint8_t *huge = calloc(1, CAMRTC_AWS_INI_MAX_FILE + 1);
    CHECK(huge != NULL);
    memset(huge, '\n', CAMRTC_AWS_INI_MAX_FILE + 1);
    int whole = camrtc_aws_ini_parse(huge, CAMRTC_AWS_INI_MAX_FILE + 1, NULL, NULL, &bad);
    size_t whole_line = bad;
    int fits = camrtc_aws_ini_parse(huge, CAMRTC_AWS_INI_MAX_FILE, NULL, NULL, &bad);
    free(huge);
    CHECK_EQ_INT(whole, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(whole_line, 0);
    CHECK_EQ_INT(fits, CAMRTC_OK);

    char name[300] = "[";
    memset(name + 1, 'n', 256);
    strcpy(name + 257, "]\n");
    CHECK_EQ_INT(camrtc_aws_ini_parse((const uint8_t *)name, strlen(name), NULL, NULL, &bad), CAMRTC_ETOOBIG);
    name[256] = ']';
    name[257] = '\0';
    CHECK_EQ_INT(camrtc_aws_ini_parse((const uint8_t *)name, strlen(name), NULL, NULL, &bad), CAMRTC_OK);
}

/* ---------- dates ---------- */

TEST(iso8601_dates)
{
    int64_t t = 0;
    CHECK_EQ_INT(camrtc_aws_parse_iso8601("1970-01-01T00:00:00Z", &t), 0);
    CHECK_EQ_INT(t, 0);
    CHECK_EQ_INT(camrtc_aws_parse_iso8601("2026-11-23T20:07:31Z", &t), 0);
    CHECK_EQ_INT(t, 1795464451);
    CHECK_EQ_INT(camrtc_aws_parse_iso8601("2024-02-29T12:00:00.123456Z", &t), 0);
    CHECK_EQ_INT(t, 1709208000);
    CHECK_EQ_INT(camrtc_aws_parse_iso8601("2024-02-29T14:30:00+02:30", &t), 0);
    CHECK_EQ_INT(t, 1709208000);
    CHECK_EQ_INT(camrtc_aws_parse_iso8601("2024-02-29T09:00:00-03:00", &t), 0);
    CHECK_EQ_INT(t, 1709208000);
    CHECK_EQ_INT(camrtc_aws_parse_iso8601("2000-03-01T00:00:00Z", &t), 0);
    CHECK_EQ_INT(t, 951868800);
    CHECK_EQ_INT(camrtc_aws_parse_iso8601("9999-12-31T23:59:59Z", &t), 0);
    CHECK_EQ_INT(t, 253402300799LL);
    static const char *const bad[] = {
        "", "2026-11-23", "2026-11-23T20:07:31", "2026-11-23T20:07:31Zx", "2026-11-23 20:07:31Z",
        "2023-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
        "2026-11-23T24:00:00Z", "2026-11-23T20:60:00Z", "2026-11-23T20:07:60Z", "1969-12-31T23:59:59Z",
        "2026-11-23T20:07:31.Z", "2026-11-23T20:07:31+0100", "2026-11-23T20:07:31+24:00", "+2026-11-23T20:07:31Z",
        "2026-1-23T20:07:31Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (camrtc_aws_parse_iso8601(bad[i], &t) != CAMRTC_EPROTO)
            fprintf(stderr, "accepted '%s'\n", bad[i]);
        CHECK_EQ_INT(camrtc_aws_parse_iso8601(bad[i], &t), CAMRTC_EPROTO);
    }
    CHECK_EQ_INT(camrtc_aws_parse_iso8601(NULL, &t), CAMRTC_EPROTO);
}

/* ---------- resolution from memory ---------- */

static const char creds_file[] =
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key = SECRETDEFAULT\n"
    "\n"
    "[dev]\n"
    "AWS_ACCESS_KEY_ID = AKIDDEV\n"
    "aws_secret_access_key = SECRETDEV\n"
    "aws_session_token = TOKENDEV\n"
    "region = eu-west-1\n"
    "\n"
    "[profile odd]\n"   /* the credentials file has no "profile " prefix */
    "aws_access_key_id = AKIDODD\n"
    "aws_secret_access_key = SECRETODD\n";

static const char config_file[] =
    "[default]\n"
    "region = us-west-2\n"
    "\n"
    "[profile dev]\n"
    "region = eu-central-1\n"
    "aws_access_key_id = AKIDIGNORED\n"
    "aws_secret_access_key = SECRETIGNORED\n"
    "\n"
    "[profile cfgonly]\n"
    "aws_access_key_id = AKIDCFG\n"
    "aws_secret_access_key = SECRETCFG\n"
    "region = ap-south-1\n"
    "endpoint_url = https://global.example.com\n"
    "\n"
    "[profile \"quoted name\"]\n"
    "aws_access_key_id = AKIDQ\n"
    "aws_secret_access_key = SECRETQ\n"
    "region = sa-east-1\n"
    "\n"
    "[profile svc]\n"
    "aws_access_key_id = AKIDSVC\n"
    "aws_secret_access_key = SECRETSVC\n"
    "region = us-east-2\n"
    "endpoint_url = https://global.example.com\n"
    "services = local\n"
    "\n"
    "[profile ignoring]\n"
    "aws_access_key_id = AKIDIGN\n"
    "aws_secret_access_key = SECRETIGN\n"
    "region = us-east-2\n"
    "endpoint_url = https://global.example.com\n"
    "ignore_configured_endpoint_urls = true\n"
    "\n"
    "[services local]\n"
    "s3 =\n"
    "  endpoint_url = http://s3.invalid:1\n"
    "kinesis_video =\n"
    "  endpoint_url = http://127.0.0.1:4566\n"
    "\n"
    "[profile sso]\n"
    "sso_session = corp\n"
    "region = us-east-1\n"
    "\n"
    "[profilebogus]\n"
    "region = xx-bogus-1\n";

TEST(environment_credentials_win_without_a_profile_flag)
{
    fake_env e = {{{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "SECRETENV"},
                   {"AWS_SESSION_TOKEN", "TOKENENV"}, {"AWS_PROFILE", "dev"}}};
    camrtc_aws_config_input in = input(&e);
    camrtc_aws_config out;
    char err[512];
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_STR(out.access_key_id, "AKIDENV");
    CHECK_EQ_STR(out.secret_access_key, "SECRETENV");
    CHECK_EQ_STR(out.session_token, "TOKENENV");
    CHECK_EQ_STR(out.source, "env");
    CHECK_EQ_STR(out.profile, "");
    CHECK_EQ_STR(out.region, "eu-west-1"); /* AWS_PROFILE still picks the region */
    CHECK_EQ_INT(out.expiration, 0);
}

TEST(profile_flag_beats_environment_credentials)
{
    fake_env e = {{{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "SECRETENV"}}};
    camrtc_aws_config_input in = input(&e);
    in.profile = "dev";
    camrtc_aws_config out;
    char err[512];
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.access_key_id, "AKIDDEV");
    CHECK_EQ_STR(out.secret_access_key, "SECRETDEV");
    CHECK_EQ_STR(out.session_token, "TOKENDEV");
    CHECK_EQ_STR(out.source, "profile");
    CHECK_EQ_STR(out.profile, "dev");
    CHECK_EQ_STR(out.region, "eu-west-1"); /* credentials-file value beats the config file */
}

TEST(default_profile_from_files)
{
    fake_env e = {{{NULL, NULL}}};
    camrtc_aws_config_input in = input(&e);
    camrtc_aws_config out;
    char err[512];
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.access_key_id, "AKIDDEFAULT");
    CHECK_EQ_STR(out.secret_access_key, "SECRETDEFAULT");
    CHECK_EQ_STR(out.session_token, "");
    CHECK_EQ_STR(out.profile, "default");
    CHECK_EQ_STR(out.region, "us-west-2");
    CHECK_EQ_STR(out.endpoint, "");

    /* [profile default] names the default profile in the config file too. */
    CHECK_EQ_INT(resolve_mem(&in, NULL,
                             "[profile default]\naws_access_key_id=A1\naws_secret_access_key=S1\nregion=r-1\n", &out,
                             err, sizeof err), 0);
    CHECK_EQ_STR(out.access_key_id, "A1");
    CHECK_EQ_STR(out.region, "r-1");
}

TEST(config_file_profiles)
{
    fake_env e = {{{NULL, NULL}}};
    camrtc_aws_config_input in = input(&e);
    camrtc_aws_config out;
    char err[512];
    in.profile = "cfgonly";
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.access_key_id, "AKIDCFG");
    CHECK_EQ_STR(out.region, "ap-south-1");
    CHECK_EQ_STR(out.endpoint, "https://global.example.com");
    in.profile = "quoted name";
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.access_key_id, "AKIDQ");
    CHECK_EQ_STR(out.region, "sa-east-1");
    /* "[profile odd]" in the credentials file is a profile named "profile odd". */
    in.profile = "odd";
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), CAMRTC_EINVAL);
    in.profile = "profile odd";
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), CAMRTC_ENOTFOUND);
    CHECK_EQ_STR(out.access_key_id, "AKIDODD"); /* found, but no region anywhere */
    CHECK(strstr(err, "no AWS region") != NULL);
    /* "[profilebogus]" is not "profile bogus". */
    in.profile = "bogus";
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), CAMRTC_EINVAL);
}

TEST(region_precedence)
{
    fake_env e = {{{"AWS_REGION", "env-region-1"}, {"AWS_DEFAULT_REGION", "env-default-1"}}};
    camrtc_aws_config_input in = input(&e);
    camrtc_aws_config out;
    char err[512];
    in.region = "flag-region-1";
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.region, "flag-region-1");
    in.region = NULL;
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.region, "env-region-1");
    e.kv[0][1] = "";  /* empty counts as unset */
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.region, "env-default-1");
    e.kv[1][1] = NULL;
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.region, "us-west-2");
}

TEST(endpoint_precedence)
{
    fake_env e = {{{"AWS_ENDPOINT_URL_KINESIS_VIDEO", "http://kvs.env:1"}, {"AWS_ENDPOINT_URL", "http://all.env:2"},
                   {"AWS_PROFILE", "svc"}}};
    camrtc_aws_config_input in = input(&e);
    camrtc_aws_config out;
    char err[512];
    in.endpoint = "https://flag.example:3";
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.endpoint, "https://flag.example:3");
    in.endpoint = NULL;
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.endpoint, "http://kvs.env:1");
    e.kv[0][1] = NULL;
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.endpoint, "http://all.env:2");
    e.kv[1][1] = NULL;
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.endpoint, "http://127.0.0.1:4566"); /* [services local] kinesis_video */
    e.kv[2][1] = "cfgonly";
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.endpoint, "https://global.example.com");
}

TEST(ignore_configured_endpoint_urls)
{
    fake_env e = {{{"AWS_ENDPOINT_URL", "http://all.env:2"}, {"AWS_PROFILE", "ignoring"}}};
    camrtc_aws_config_input in = input(&e);
    camrtc_aws_config out;
    char err[512];
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.endpoint, "");
    in.endpoint = "http://flag:9"; /* the command line is never ignored */
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.endpoint, "http://flag:9");
    in.endpoint = NULL;
    fake_env e2 = {{{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}, {"AWS_ENDPOINT_URL", "http://all.env:2"},
                    {"AWS_PROFILE", "svc"}}};
    in = input(&e2);
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.endpoint, "");
    e2.kv[0][1] = "false";
    CHECK_EQ_INT(resolve_mem(&in, creds_file, config_file, &out, err, sizeof err), 0);
    CHECK_EQ_STR(out.endpoint, "http://all.env:2");
}

TEST(named_profile_that_does_not_exist)
{
    fake_env e = {{{"AWS_PROFILE", "nope"}, {"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "S"}}};
    camrtc_aws_config_input in = input(&e);
    camrtc_aws_config out;
    char err[512];
    CHECK_EQ_INT(resolve_mem(&in, creds_file, NULL, &out, err, sizeof err), CAMRTC_EINVAL);
    CHECK_EQ_STR(err, "AWS profile 'nope' (from AWS_PROFILE) is in neither CREDS nor CONFIG (absent)");
    CHECK_EQ_STR(out.access_key_id, "");
    in.profile = "gone";
    CHECK_EQ_INT(resolve_mem(&in, NULL, NULL, &out, err, sizeof err), CAMRTC_EINVAL);
    CHECK(strstr(err, "'gone' (from --profile)") != NULL);
    /* Even "default" must exist once it is named. */
    in.profile = "default";
    CHECK_EQ_INT(resolve_mem(&in, NULL, "[profile x]\n", &out, err, sizeof err), CAMRTC_EINVAL);
    /* An empty section is enough for a profile to exist. */
    in.profile = "x";
    in.region = "us-west-2";
    CHECK_EQ_INT(resolve_mem(&in, NULL, "[profile x]\n", &out, err, sizeof err), CAMRTC_ENOTFOUND);
}

TEST(missing_credentials_and_region_say_where_they_looked)
{
    fake_env e = {{{NULL, NULL}}};
    camrtc_aws_config_input in = input(&e);
    camrtc_aws_config out;
    char err[1024];
    in.endpoint = "http://127.0.0.1:8080";
    CHECK_EQ_INT(resolve_mem(&in, NULL, "[default]\nregion = us-west-2\n", &out, err, sizeof err),
                 CAMRTC_ENOTFOUND);
    CHECK_EQ_STR(out.region, "us-west-2"); /* the rest is still resolved */
    CHECK_EQ_STR(out.endpoint, "http://127.0.0.1:8080");
    CHECK_EQ_STR(out.source, "");
    CHECK_EQ_STR(err, "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/--profile "
                      "with keys in CREDS (absent) or CONFIG (looked in profile 'default'), or use --iot-*");
    CHECK(strchr(err, '\n') == NULL);

    CHECK_EQ_INT(resolve_mem(&in, NULL, NULL, &out, err, sizeof err), CAMRTC_ENOTFOUND);
    CHECK(strstr(err, "no AWS credentials: ") == err);
    CHECK(strstr(err, "; no AWS region: use --region, AWS_REGION or AWS_DEFAULT_REGION") != NULL);

    in.region = "us-west-2";
    in.profile = "sso";
    CHECK_EQ_INT(resolve_mem(&in, NULL, config_file, &out, err, sizeof err), CAMRTC_ENOTFOUND);
    CHECK(strstr(err, "profile 'sso' uses sso_session, which camrtc does not support") != NULL);

    fake_env e2 = {{{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRETX"}}};
    in = input(&e2);
    CHECK_EQ_INT(resolve_mem(&in, NULL, NULL, &out, err, sizeof err), CAMRTC_ENOTFOUND);
    CHECK_EQ_STR(out.access_key_id, "AKID");
    CHECK(strstr(err, "no AWS region: ") == err);
}

TEST(partial_and_invalid_values_never_leak_secrets)
{
    char err[1024];
    camrtc_aws_config out;
    fake_env e = {{{"AWS_SECRET_ACCESS_KEY", "SUPERSECRETVALUE"}, {"AWS_REGION", "us-west-2"}}};
    camrtc_aws_config_input in = input(&e);
    CHECK_EQ_INT(resolve_mem(&in, NULL, NULL, &out, err, sizeof err), CAMRTC_EINVAL);
    CHECK(strstr(err, "partial AWS credentials in the environment") != NULL);
    CHECK(strstr(err, "SUPERSECRETVALUE") == NULL);
    CHECK_EQ_STR(out.secret_access_key, "");

    fake_env e2 = {{{"AWS_REGION", "us-west-2"}}};
    in = input(&e2);
    CHECK_EQ_INT(resolve_mem(&in, "[default]\naws_secret_access_key = SUPERSECRETVALUE\n", NULL, &out, err,
                             sizeof err), CAMRTC_EINVAL);
    CHECK(strstr(err, "partial AWS credentials in profile 'default' in CREDS") != NULL);
    CHECK(strstr(err, "SUPERSECRETVALUE") == NULL);

    CHECK_EQ_INT(resolve_mem(&in, "[default]\naws_access_key_id = AKID\naws_secret_access_key = SUPER\x01SECRET\n",
                             NULL, &out, err, sizeof err), CAMRTC_EINVAL);
    CHECK(strstr(err, "characters that are not allowed") != NULL);
    CHECK(strstr(err, "SUPER") == NULL);
    CHECK_EQ_STR(out.access_key_id, "");

    /* A token longer than its slot. */
    static char big[6000];
    strcpy(big, "[default]\naws_access_key_id = AKID\naws_secret_access_key = S\naws_session_token = ");
    size_t n = strlen(big);
    memset(big + n, 'T', 4200);
    strcpy(big + n + 4200, "\n");
    CHECK_EQ_INT(resolve_mem(&in, big, NULL, &out, err, sizeof err), CAMRTC_ETOOBIG);
    CHECK_EQ_STR(err, "CREDS line 4: the value of aws_session_token is too long");

    CHECK_EQ_INT(resolve_mem(&in, "[default]\nbroken line\n", NULL, &out, err, sizeof err), CAMRTC_EPROTO);
    CHECK_EQ_STR(err, "cannot parse CREDS line 2: expected [section], key = value or a comment");

    fake_env e3 = {{{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRETVALUE"},
                    {"AWS_REGION", "us west 2"}}};
    in = input(&e3);
    CHECK_EQ_INT(resolve_mem(&in, NULL, NULL, &out, err, sizeof err), CAMRTC_EINVAL);
    CHECK_EQ_STR(err, "the region from AWS_REGION is not a valid AWS region name");
    CHECK_EQ_STR(out.secret_access_key, "");
    e3.kv[2][1] = "us-west-2";
    in.endpoint = "ftp://example.com";
    CHECK_EQ_INT(resolve_mem(&in, NULL, NULL, &out, err, sizeof err), CAMRTC_EINVAL);
    CHECK_EQ_STR(err, "the endpoint from --endpoint is not an http:// or https:// URL");
    in.endpoint = NULL;
    CHECK_EQ_INT(resolve_mem(&in, NULL, "[default]\nendpoint_url = not a url\n", &out, err, sizeof err),
                 CAMRTC_EINVAL);
    CHECK_EQ_STR(err, "the endpoint from endpoint_url of the profile is not an http:// or https:// URL");
}

/* ---------- resolution from files ---------- */

static bool write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(text, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

TEST(files_under_home_and_overrides)
{
    char home[] = "/tmp/camrtc-awsconfig-XXXXXX";
    CHECK(mkdtemp(home) != NULL);
    char dir[128], cpath[160], fpath[160], alt[160];
    snprintf(dir, sizeof dir, "%s/.aws", home);
    snprintf(cpath, sizeof cpath, "%s/credentials", dir);
    snprintf(fpath, sizeof fpath, "%s/config", dir);
    snprintf(alt, sizeof alt, "%s/alt-credentials", home);
    static const char alt_text[] = "[default]\naws_access_key_id = AKIDALT\naws_secret_access_key = SALT\n";
    int made = mkdir(dir, 0700);
    bool wrote = write_file(cpath, creds_file, sizeof creds_file - 1) &&
                 write_file(fpath, config_file, sizeof config_file - 1) &&
                 write_file(alt, alt_text, strlen(alt_text));

    fake_env e = {{{NULL, NULL}}};
    camrtc_aws_config_input in = input(&e);
    in.home = home;
    camrtc_aws_config out;
    char err[1024];
    int rc1 = camrtc_aws_config_resolve(&in, &out, err, sizeof err);
    char id1[128], region1[64];
    snprintf(id1, sizeof id1, "%s", out.access_key_id);
    snprintf(region1, sizeof region1, "%s", out.region);

    /* AWS_SHARED_CREDENTIALS_FILE with "~/" expands against the home. */
    e.kv[0][0] = "AWS_SHARED_CREDENTIALS_FILE";
    e.kv[0][1] = "~/alt-credentials";
    int rc2 = camrtc_aws_config_resolve(&in, &out, err, sizeof err);
    char id2[128];
    snprintf(id2, sizeof id2, "%s", out.access_key_id);

    /* HOME from the environment when in->home is NULL; config moved away. */
    e.kv[1][0] = "HOME";
    e.kv[1][1] = home;
    e.kv[2][0] = "AWS_CONFIG_FILE";
    e.kv[2][1] = "/nonexistent-camrtc/config";
    in.home = NULL;
    int rc3 = camrtc_aws_config_resolve(&in, &out, err, sizeof err);
    char err3[1024];
    snprintf(err3, sizeof err3, "%s", err);

    /* A path that exists but cannot be read as a file. */
    e.kv[2][1] = dir;
    int rc4 = camrtc_aws_config_resolve(&in, &out, err, sizeof err);
    char err4[1024];
    snprintf(err4, sizeof err4, "%s", err);

    /* A file over the bound. */
    size_t big_len = CAMRTC_AWS_INI_MAX_FILE + 10;
    char *big = malloc(big_len);
    bool big_ok = false;
    if (big) {
        memset(big, '#', big_len);
        big_ok = write_file(fpath, big, big_len);
        free(big);
    }
    e.kv[2][1] = NULL;
    int rc5 = camrtc_aws_config_resolve(&in, &out, err, sizeof err);
    char err5[1024];
    snprintf(err5, sizeof err5, "%s", err);

    unlink(cpath);
    unlink(fpath);
    unlink(alt);
    rmdir(dir);
    rmdir(home);
    CHECK_EQ_INT(made, 0);
    CHECK(wrote);
    CHECK_EQ_INT(rc1, 0);
    CHECK_EQ_STR(id1, "AKIDDEFAULT");
    CHECK_EQ_STR(region1, "us-west-2");
    CHECK_EQ_INT(rc2, 0);
    CHECK_EQ_STR(id2, "AKIDALT");
    CHECK_EQ_INT(rc3, CAMRTC_ENOTFOUND); /* no region without the config file */
    CHECK(strstr(err3, "/nonexistent-camrtc/config") != NULL);
    CHECK_EQ_INT(rc4, CAMRTC_EIO);
    CHECK(strstr(err4, "cannot read ") == err4);
    CHECK(big_ok);
    CHECK_EQ_INT(rc5, CAMRTC_ETOOBIG);
    CHECK(strstr(err5, "is larger than") != NULL);
}

TEST(null_arguments)
{
    camrtc_aws_config out;
    char err[64];
    CHECK_EQ_INT(camrtc_aws_config_resolve(NULL, &out, err, sizeof err), CAMRTC_EINVAL);
    fake_env e = {{{NULL, NULL}}};
    camrtc_aws_config_input in = input(&e);
    CHECK_EQ_INT(camrtc_aws_config_resolve(&in, NULL, err, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_aws_config_resolve_files(&in, NULL, &out, NULL, 0), CAMRTC_EINVAL);
}

int main(void)
{
    return RUN_TESTS(ini_reports_sections_properties_and_nesting, ini_indentation_is_relative_to_the_property,
                     ini_callback_can_stop, ini_rejects_malformed_lines, ini_bounds, iso8601_dates,
                     environment_credentials_win_without_a_profile_flag, profile_flag_beats_environment_credentials,
                     default_profile_from_files, config_file_profiles, region_precedence, endpoint_precedence,
                     ignore_configured_endpoint_urls, named_profile_that_does_not_exist,
                     missing_credentials_and_region_say_where_they_looked,
                     partial_and_invalid_values_never_leak_secrets, files_under_home_and_overrides, null_arguments);
}
