/* Helpers shared by the signaling message codec (sigmsg.c) and its relay fast
 * path (sigmsg_relay.c). Not part of the public API. */
#ifndef CAMRTC_SIGNALING_SIGMSG_INT_H
#define CAMRTC_SIGNALING_SIGMSG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "camrtc/sigmsg.h"

/* True for the three types a client may send (offer, answer, candidate). */
bool sigmsg_client_may_send(camrtc_sigmsg_type t);

/* Write a one-line reason (printf format) into reason[rsz] when given; returns rc. */
int sigmsg_fail(int rc, char *reason, size_t rsz, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Length of the prefix of s[0..n) that needs no JSON escaping. */
size_t sigmsg_plain_prefix(const unsigned char *s, size_t n);

/* CAMRTC_OK when s[0..n) is canonical padded base64 decoding to at most
 * CAMRTC_SIGMSG_MAX_PAYLOAD bytes; CAMRTC_EPROTO / CAMRTC_ETOOBIG otherwise. */
int sigmsg_check_base64(const char *s, size_t n);

#endif
