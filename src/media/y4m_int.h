/* YUV4MPEG2 parsing, apart from file I/O so the fuzz target and tests can feed memory.
 *
 * A Y4M file is one header line "YUV4MPEG2 W<w> H<h> F<n>:<d> ..." and then, per frame,
 * a line "FRAME[ params]" followed by the raw planes (for 4:2:0: Y, then U and V of
 * ceil(w/2) x ceil(h/2)). Only 4:2:0 8-bit colour spaces are accepted.
 */
#ifndef CAMRTC_MEDIA_Y4M_INT_H
#define CAMRTC_MEDIA_Y4M_INT_H

#include <stddef.h>
#include <stdint.h>

/* Longest header or FRAME line we accept, newline excluded. */
#define Y4M_MAX_LINE 1024

typedef struct y4m_info {
    int width, height;
    int fps_num, fps_den;   /* 30:1 when the header has no F */
    int fps;                /* rounded, >= 1 */
    size_t frame_bytes;     /* bytes of planes per frame */
} y4m_info;

/* Parse the header line (without its '\n'). CAMRTC_OK, or CAMRTC_EPROTO /
 * CAMRTC_EUNSUPPORTED with a reason in err. */
int y4m_parse_header(const char *line, size_t len, y4m_info *out, char *err, size_t errsz);

/* Check one frame line (without its '\n'): "FRAME" alone or followed by ' ' and
 * parameters (ignored). CAMRTC_OK or CAMRTC_EPROTO. */
int y4m_parse_frame_line(const char *line, size_t len);

/* Walk a whole Y4M file held in memory: the header, then every frame. Returns the number
 * of complete frames (>= 1), or a negative code with a reason (bad header, no frames,
 * truncated frame, garbage where a FRAME line should be). */
int y4m_scan(const uint8_t *buf, size_t len, y4m_info *info, char *err, size_t errsz);

#endif
