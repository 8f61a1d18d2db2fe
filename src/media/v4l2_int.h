/* The V4L2 capture source's access to the device, through a table of operations so the
 * whole capture code can run against a fake device in tests (tests/unit/test_v4l2.c).
 * v4l2_dev.c holds the real table (open/ioctl/mmap/poll on the kernel device). */
#ifndef CAMRTC_MEDIA_V4L2_INT_H
#define CAMRTC_MEDIA_V4L2_INT_H

#include <stddef.h>
#include <stdint.h>

#include "camrtc/media.h"

/* Every operation returns 0 (or a non-negative value where said) or a negative errno. */
typedef struct v4l2_dev_ops {
    /* Open the device node for capture (non-blocking): an fd >= 0. */
    int (*open)(void *ctx, const char *path);
    void (*close)(void *ctx, int fd);
    /* One ioctl; EINTR is retried by the implementation. */
    int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg);
    /* Map len bytes of the device's buffer at offset (from VIDIOC_QUERYBUF) read/write. */
    int (*mmap)(void *ctx, int fd, size_t len, uint32_t offset, void **out);
    void (*munmap)(void *ctx, void *addr, size_t len);
    /* Wait up to timeout_ms for a filled buffer: 1 ready, 0 timed out. */
    int (*poll)(void *ctx, int fd, int timeout_ms);
    void *ctx;
} v4l2_dev_ops;

/* The real device. */
const v4l2_dev_ops *v4l2_dev_real(void);

/* Buffers asked of the driver (VIDIOC_REQBUFS), and the most we will use. */
#define V4L2_SRC_BUFFERS 4
#define V4L2_SRC_MAX_BUFFERS 8
/* How long read() waits for a frame before CAMRTC_ETIMEDOUT. */
#define V4L2_SRC_TIMEOUT_MS 2000

/* Open a V4L2 capture source on path with the given device operations. */
camrtc_source *v4l2_source_open_with(const v4l2_dev_ops *ops, const char *path,
                                     const camrtc_source_config *cfg, char *err, size_t errsz);

/* Broken buffers the driver flagged (V4L2_BUF_FLAG_ERROR) or short ones, dropped. */
uint64_t v4l2_source_dropped(const camrtc_source *s);

#endif
