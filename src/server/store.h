/* The local signaling service's channel store.
 *
 * Holds the signaling channels of one account in one region, the way the KVS
 * control plane does (CreateSignalingChannel, DescribeSignalingChannel,
 * DeleteSignalingChannel, ListSignalingChannels of the Kinesis Video Streams API,
 * 2017-09-30), and keeps them across restarts in one JSON file. Every change
 * rewrites the whole file through "<state_path>.tmp" + fsync + rename + fsync of
 * the directory, so a crash at any point leaves either the old or the new file.
 * A file that cannot be read back is never overwritten: the store refuses every
 * change until the operator moves it away.
 *
 * Channels are kept in two sorted arrays (by name and by ARN) so the lookups the
 * data plane does on every WebSocket connect are a binary search. The store is
 * single-threaded: call it from the loop thread only.
 */
#ifndef CAMRTC_SERVER_STORE_H
#define CAMRTC_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/log.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SIG_MAX_TAGS 50
#define SIG_MAX_CHANNELS 10000      /* per store; AWS's default account quota */
#define SIG_TAG_KEY_MAX 128
#define SIG_TAG_VALUE_MAX 256
#define SIG_CHANNEL_NAME_MAX 256
#define SIG_MSG_TTL_MIN 5
#define SIG_MSG_TTL_MAX 120
#define SIG_MSG_TTL_DEFAULT 60
#define SIG_STORE_MAX_FILE (256u * 1024u * 1024u)  /* refuse state files (and changes) past this */

typedef struct sig_tag {
    char key[SIG_TAG_KEY_MAX + 1];
    char value[SIG_TAG_VALUE_MAX + 1];
} sig_tag;

typedef struct sig_channel {
    char name[SIG_CHANNEL_NAME_MAX + 1];
    char arn[512];            /* arn:<partition>:kinesisvideo:<region>:<account>:channel/<name>/<13-digit creation ms> */
    int64_t creation_ms;      /* Unix ms */
    char version[33];         /* opaque, [A-Za-z0-9]{20} */
    int msg_ttl_s;            /* SIG_MSG_TTL_MIN..SIG_MSG_TTL_MAX */
    char status[16];          /* "ACTIVE" */
    sig_tag *tags;            /* n_tags entries, in the same allocation as the channel (owned by the store;
                                 kept out of line so an untagged channel costs under 1 KB, not 20) */
    size_t n_tags;            /* 0..SIG_MAX_TAGS */
} sig_channel;

typedef struct sig_store sig_store;

/* Whether a region name is one the store takes: 1..63 of a-z, 0-9 and '-' (it goes into
 * ARNs, signatures and the page unescaped). */
bool sig_store_region_ok(const char *region);

/* Whether an account id is 12 decimal digits, as in AWS ARNs. */
bool sig_store_account_ok(const char *account);

/* Create an empty store for region (e.g. "us-west-2") and account (12 digits).
 * state_path is the JSON file the channels persist in, or NULL for a memory-only
 * store; the strings are copied. log is borrowed (may be NULL) and must outlive the
 * store. Call sig_store_load before the first change when state_path is set.
 * Returns NULL on a bad region/account/path or out of memory. */
sig_store *sig_store_new(const char *region, const char *account, const char *state_path, camrtc_log *log);

/* Free the store and every channel it holds. NULL is ignored. */
void sig_store_free(sig_store *s);

/* Replace the store's contents with the channels in state_path. A missing file is
 * an empty store (CAMRTC_OK). A file that cannot be parsed or fails validation
 * returns CAMRTC_EPROTO (CAMRTC_ETOOBIG past SIG_STORE_MAX_FILE, CAMRTC_EIO when
 * unreadable) with an error log line; the store is then empty and refuses every
 * change (CAMRTC_ESTATE) while that file is still there, so channels are never
 * silently lost. A memory-only store returns CAMRTC_OK. */
int sig_store_load(sig_store *s);

/* Create channel name with msg_ttl_s (0 = SIG_MSG_TTL_DEFAULT) and n_tags tags
 * (copied), created at now_ms (Unix ms), and persist the store. *out (may be NULL)
 * receives the new channel, valid until it is deleted or the store freed.
 * Returns CAMRTC_OK; CAMRTC_EEXIST when the name is taken; CAMRTC_EINVAL for a bad
 * name, TTL, tag (key 1..128 bytes, value 0..256, no control characters, no
 * duplicate keys) or more than SIG_MAX_TAGS tags; CAMRTC_ELIMIT at SIG_MAX_CHANNELS;
 * CAMRTC_ESTATE when a bad state file is in the way; CAMRTC_EIO when it could not be
 * written (the store is then unchanged). */
int sig_store_create(sig_store *s, const char *name, int msg_ttl_s, const sig_tag *tags, size_t n_tags,
                     int64_t now_ms, const sig_channel **out);

/* The channel called name, or NULL. */
const sig_channel *sig_store_find_name(const sig_store *s, const char *name);

/* The channel whose ARN is exactly arn, or NULL (an ARN of another region or
 * account never matches). */
const sig_channel *sig_store_find_arn(const sig_store *s, const char *arn);

/* Delete the channel arn if current_version is NULL or equals its version, and
 * persist. Pointers to that channel become invalid. Returns CAMRTC_OK,
 * CAMRTC_ENOTFOUND, CAMRTC_ESTATE on a version mismatch or a bad state file in the
 * way, CAMRTC_EIO when the file could not be written (the channel is kept). */
int sig_store_delete(sig_store *s, const char *arn, const char *current_version);

/* Number of channels. */
size_t sig_store_count(const sig_store *s);

/* The i-th channel in name order (strcmp), or NULL when i >= count. Indexes shift
 * when channels are created or deleted. */
const sig_channel *sig_store_at(const sig_store *s, size_t i);

/* Index of the first channel whose name sorts after `after` (strcmp; NULL or ""
 * = from the start) and at or after `prefix` (NULL = no prefix): where a listing
 * resumes. May be sig_store_count(). */
size_t sig_store_lower_bound(const sig_store *s, const char *after, const char *prefix);

/* The region and account the store was created with (owned by the store). */
const char *sig_store_region(const sig_store *s);
const char *sig_store_account(const sig_store *s);

#ifdef __cplusplus
}
#endif
#endif
