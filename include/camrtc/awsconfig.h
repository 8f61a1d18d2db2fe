/* AWS credentials, region and endpoint, resolved the way the AWS CLI does.
 *
 * Sources, first match wins (facts from the AWS CLI user guide, "Configuration
 * and credential file settings", "Environment variables to configure the AWS
 * CLI", and the AWS SDKs and Tools reference guide, "Service-specific
 * endpoints"):
 *   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
 *                unless a profile was given on the command line (the CLI's
 *                --profile beats the environment); then the profile's
 *                aws_access_key_id / aws_secret_access_key / aws_session_token
 *                from the credentials file, else from the config file.
 *   profile      command line, AWS_PROFILE, "default". Credentials file
 *                (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials): section
 *                [name]. Config file (AWS_CONFIG_FILE, ~/.aws/config): section
 *                [profile name] (the name may be quoted), and also [default]
 *                for "default". A profile named on the command line or in
 *                AWS_PROFILE (even "default") must exist in one of the files.
 *   region       command line, AWS_REGION, AWS_DEFAULT_REGION, the profile's
 *                region (a value in the credentials file beats the config file,
 *                as botocore merges them).
 *   endpoint     command line, AWS_ENDPOINT_URL_KINESIS_VIDEO, AWS_ENDPOINT_URL,
 *                endpoint_url under kinesis_video in the [services NAME] section
 *                the profile names with `services = NAME`, the profile's
 *                endpoint_url. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the
 *                profile's ignore_configured_endpoint_urls = true) skips all but
 *                the command line.
 * Role assumption, SSO, credential_process and instance metadata are not
 * supported: a profile that only has those reports so in the error.
 *
 * The files use the AWS INI dialect: [section] headers, `key = value` (or
 * `key: value`) properties with case-insensitive keys, full-line comments
 * starting with # or ;, inline comments after whitespace, and indented
 * sub-properties under a property with an empty value (used by `services`).
 * Files are bounded by CAMRTC_AWS_INI_MAX_FILE, lines by CAMRTC_AWS_INI_MAX_LINE.
 * Repeated sections merge and a repeated key keeps its last value (the CLI
 * refuses both; the SDKs accept them).
 *
 * Everything here is a pure function over bytes except camrtc_aws_config_resolve,
 * which reads the two files and then calls camrtc_aws_config_resolve_files. The
 * environment is read through a caller-supplied function. Secrets never appear
 * in error messages.
 */
#ifndef CAMRTC_AWSCONFIG_H
#define CAMRTC_AWSCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAMRTC_AWS_INI_MAX_FILE (1024u * 1024u) /* bytes in one credentials/config file */
#define CAMRTC_AWS_INI_MAX_LINE 8192u           /* bytes in one line, without the newline */

/* What was resolved. Every string is NUL-terminated ("" when unknown). */
typedef struct camrtc_aws_config {
    char access_key_id[128], secret_access_key[256], session_token[4096];
    int64_t expiration;       /* Unix seconds, 0 = none */
    char region[64];
    char endpoint[1024];      /* control-plane endpoint override; "" = real AWS */
    char profile[128];        /* the profile the credentials came from, "" when from env */
    char source[32];          /* "env", "profile", "iot" ("" = no credentials): for logs */
    int64_t obtained;         /* Unix seconds the credentials were issued (IoT), 0 = unknown */
} camrtc_aws_config;

/* Look up environment variable name; NULL (or "") when unset. */
typedef const char *(*camrtc_getenv_fn)(void *ud, const char *name);

typedef struct camrtc_aws_config_input {   /* command-line values win; NULL = not given */
    const char *region, *endpoint, *profile;
    camrtc_getenv_fn getenv; void *getenv_ud;   /* NULL = getenv(3) */
    const char *home;                           /* NULL = HOME from getenv; files default to <home>/.aws/credentials and config */
} camrtc_aws_config_input;

/* Resolve credentials, region and endpoint as described at the top of this
 * file, reading the credentials and config files (a missing file counts as
 * empty). in is borrowed; out (caller-owned) is always filled with what could
 * be resolved. Returns CAMRTC_OK, or:
 *   CAMRTC_ENOTFOUND  no credentials and/or no region (out still holds the
 *                     rest, so a caller with other credentials can go on);
 *   CAMRTC_EINVAL     a named profile that exists in neither file, partial
 *                     credentials, or a value that is not valid (bad region,
 *                     endpoint not an http(s) URL, characters not allowed);
 *   CAMRTC_EPROTO     a file that does not parse;
 *   CAMRTC_ETOOBIG    a file, line or value over its bound;
 *   CAMRTC_EIO        a file that exists but cannot be read.
 * On any error err (errsz bytes, may be 0) gets a one-line reason naming what
 * was missing and where it looked, never a secret. */
int camrtc_aws_config_resolve(const camrtc_aws_config_input *in, camrtc_aws_config *out, char *err, size_t errsz);

/* The two files' contents, for camrtc_aws_config_resolve_files (all borrowed). */
typedef struct camrtc_aws_files {
    const char *credentials_path;          /* for messages only; may be NULL */
    const uint8_t *credentials;            /* NULL = no such file */
    size_t credentials_len;
    const char *config_path;               /* for messages only; may be NULL */
    const uint8_t *config;                 /* NULL = no such file */
    size_t config_len;
} camrtc_aws_files;

/* camrtc_aws_config_resolve on file contents already in memory: no file is
 * read (in->home and the *_FILE variables are ignored). Same results. */
int camrtc_aws_config_resolve_files(const camrtc_aws_config_input *in, const camrtc_aws_files *files,
                                    camrtc_aws_config *out, char *err, size_t errsz);

/* One item of an AWS INI file, as camrtc_aws_ini_parse reports it. Strings are
 * NUL-terminated, trimmed, and valid only during the callback. */
typedef struct camrtc_aws_ini_entry {
    const char *section;   /* header text inside [], e.g. "default", "profile dev", "services s1" */
    const char *parent;    /* NULL for a property; for an indented line, the property above it */
    const char *key;       /* NULL for a section header, and for an indented line that continues
                              a non-empty value (value is then that line) */
    const char *value;     /* "" for a section header */
    size_t line;           /* 1-based line number */
} camrtc_aws_ini_entry;

/* Called for every section header and property; a non-zero return stops the
 * parse and is returned by camrtc_aws_ini_parse. */
typedef int (*camrtc_aws_ini_fn)(void *ud, const camrtc_aws_ini_entry *e);

/* Parse len bytes of an AWS INI file (need not be NUL-terminated) and report
 * each item to fn in file order. Returns CAMRTC_OK, fn's non-zero return,
 * CAMRTC_EPROTO (a property before any section, a line that is neither a
 * header nor a property, an unclosed or empty header, an empty key, a NUL
 * byte) or CAMRTC_ETOOBIG (text over CAMRTC_AWS_INI_MAX_FILE, a line over
 * CAMRTC_AWS_INI_MAX_LINE, a section name or key over 255 bytes); *bad_line
 * (may be NULL) then holds the 1-based line number (0 for the whole file). */
int camrtc_aws_ini_parse(const uint8_t *text, size_t len, camrtc_aws_ini_fn fn, void *ud, size_t *bad_line);

/* Parse an ISO 8601 UTC date-time as AWS returns it, "2026-11-23T20:07:31Z"
 * (fractional seconds and a numeric offset "+01:00" are also accepted; years
 * 1970-9999), into Unix seconds. CAMRTC_OK or CAMRTC_EPROTO. */
int camrtc_aws_parse_iso8601(const char *s, int64_t *t);

#ifdef __cplusplus
}
#endif
#endif
