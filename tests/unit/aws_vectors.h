/* The inputs of the requests captured from the official AWS clients
 * (../shared/vectors/kvs-sigv4.md), shared by the SigV4 and KVS request tests. */
#ifndef CAMRTC_TEST_AWS_VECTORS_H
#define CAMRTC_TEST_AWS_VECTORS_H

#include <stdint.h>

#include "camrtc/sigv4.h"
#include "camrtc/time.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "FQoGZXIvYXdzEXAMPLETOKEN"

static const camrtc_aws_creds creds_token = {AKID, SECRET, TOKEN};
static const camrtc_aws_creds creds_plain = {AKID, SECRET, NULL};

/* Unix seconds of an X-Amz-Date value. */
static inline int64_t amz(const char *s)
{
    int64_t t = 0;
    camrtc_time_parse_amz(s, &t);
    return t;
}

#endif
