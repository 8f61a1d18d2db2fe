/* Byte buffers.
 *
 * camrtc_buf is a growable byte buffer with optional headroom in front of the
 * data, so a lower layer can prepend its header (RTP, SRTP, framing) without a
 * copy. The buffer owns its memory; camrtc_buf_free releases it. A zeroed
 * struct is a valid empty buffer. max_cap bounds growth (0 = no bound) so
 * remote input can never grow a buffer without limit.
 */
#ifndef CAMRTC_BUF_H
#define CAMRTC_BUF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_buf {
    uint8_t *mem;     /* allocation start */
    size_t cap;       /* bytes allocated */
    size_t off;       /* start of data within mem (headroom) */
    size_t len;       /* bytes of data */
    size_t max_cap;   /* growth bound, 0 = unbounded */
} camrtc_buf;

/* Pointer to the first byte of data. */
static inline uint8_t *camrtc_buf_data(const camrtc_buf *b) { return b->mem ? b->mem + b->off : NULL; }

/* Initialise an empty buffer with headroom bytes reserved in front and room for
 * cap bytes of data. Returns CAMRTC_OK or CAMRTC_ENOMEM. */
int camrtc_buf_init(camrtc_buf *b, size_t headroom, size_t cap);

/* Make room for at least extra more bytes of data after the current data.
 * CAMRTC_ETOOBIG if max_cap would be exceeded, CAMRTC_ENOMEM on allocation failure. */
int camrtc_buf_reserve(camrtc_buf *b, size_t extra);

/* Append n bytes. */
int camrtc_buf_append(camrtc_buf *b, const void *p, size_t n);

/* Append a NUL-terminated string (without its NUL). */
int camrtc_buf_append_str(camrtc_buf *b, const char *s);

/* Append printf-formatted text. */
int camrtc_buf_appendf(camrtc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepend n bytes into the headroom; CAMRTC_ENOMEM-free: fails with CAMRTC_ETOOBIG
 * when the headroom is smaller than n. */
int camrtc_buf_prepend(camrtc_buf *b, const void *p, size_t n);

/* Drop n bytes from the front of the data (n is clamped to len). When the
 * buffer becomes empty the headroom is reset to 0. */
void camrtc_buf_consume(camrtc_buf *b, size_t n);

/* Make the data NUL-terminated (the NUL is not counted in len) and return it. */
char *camrtc_buf_cstr(camrtc_buf *b);

/* Forget the data, keep the allocation. */
void camrtc_buf_reset(camrtc_buf *b);

/* Release the allocation; b becomes a valid empty buffer (max_cap is kept). */
void camrtc_buf_free(camrtc_buf *b);

#ifdef __cplusplus
}
#endif
#endif
