/* Transport addresses (IPv4/IPv6 + port) as plain values.
 *
 * camrtc_addr is what the sans-I/O protocol modules (STUN, ICE, TURN, the simulated
 * network) pass around: no sockaddr, no name resolution, no I/O. net/ converts to and
 * from struct sockaddr at the socket boundary with the two helpers at the end.
 */
#ifndef CAMRTC_ADDR_H
#define CAMRTC_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest text camrtc_addr_format writes, with its NUL: "[v6 address]:65535". */
#define CAMRTC_ADDR_STRLEN 56

typedef struct camrtc_addr {
    uint8_t family;  /* 0 = unset, 4 = IPv4, 6 = IPv6 */
    uint16_t port;   /* host byte order */
    uint8_t ip[16];  /* network byte order; IPv4 uses the first 4 bytes, the rest are 0 */
} camrtc_addr;

/* Set a from a numeric IPv4 or IPv6 literal (no brackets, no names) and a port.
 * CAMRTC_EINVAL when ip is not a numeric address. */
int camrtc_addr_parse(camrtc_addr *a, const char *ip, uint16_t port);

/* Parse "1.2.3.4:5", "[::1]:5" (port required). CAMRTC_EINVAL when malformed. */
int camrtc_addr_parse_hostport(camrtc_addr *a, const char *s);

/* Write "1.2.3.4:5" or "[2001:db8::1]:5" into out (size >= CAMRTC_ADDR_STRLEN is always
 * enough). Returns out; "-" for an unset address. */
const char *camrtc_addr_format(const camrtc_addr *a, char *out, size_t outsz);

/* Write only the IP ("1.2.3.4", "2001:db8::1"); returns out. */
const char *camrtc_addr_ip_str(const camrtc_addr *a, char *out, size_t outsz);

/* Same family, IP and port. */
bool camrtc_addr_equal(const camrtc_addr *a, const camrtc_addr *b);

/* Same family and IP (ports may differ). */
bool camrtc_addr_ip_equal(const camrtc_addr *a, const camrtc_addr *b);

/* 127.0.0.0/8 or ::1. */
bool camrtc_addr_is_loopback(const camrtc_addr *a);

/* 169.254.0.0/16 or fe80::/10. */
bool camrtc_addr_is_link_local(const camrtc_addr *a);

/* A value for hash tables (family, IP and port mixed; stable within a process). */
uint32_t camrtc_addr_hash(const camrtc_addr *a);

struct sockaddr;
/* Fill a struct sockaddr_in/sockaddr_in6 (out must hold a sockaddr_storage); returns
 * its length, or 0 for an unset address. */
size_t camrtc_addr_to_sockaddr(const camrtc_addr *a, struct sockaddr *out);

/* Set a from an AF_INET/AF_INET6 sockaddr; CAMRTC_EINVAL for any other family.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) become IPv4. */
int camrtc_addr_from_sockaddr(camrtc_addr *a, const struct sockaddr *sa);

#ifdef __cplusplus
}
#endif
#endif
