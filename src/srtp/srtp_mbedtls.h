/* AES-ICM-128 and HMAC-SHA1 on mbedtls, plugged into libsrtp2 (see srtp_mbedtls.c). */
#ifndef CAMRTC_SRTP_MBEDTLS_H
#define CAMRTC_SRTP_MBEDTLS_H

/* Replace libsrtp2's AES-ICM-128 cipher and HMAC-SHA1 auth types with ours. Call once,
 * after srtp_init and before any session exists. libsrtp runs its known-answer tests and
 * ours on them first. 0, or -1 when libsrtp refused them (its own types stay in use). */
int camrtc_srtp_install_mbedtls(void);

#endif
