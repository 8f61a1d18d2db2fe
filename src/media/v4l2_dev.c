/* The real V4L2 device operations (see v4l2_int.h): thin wrappers that turn -1/errno
 * into negative errno codes and retry EINTR. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "media/v4l2_int.h"

static int dev_open(void *ctx, const char *path)
{
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

static void dev_close(void *ctx, int fd)
{
    close(fd);
}

static int dev_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
    /* A signal can interrupt any ioctl; bounded so a signal storm cannot spin forever. */
    for (int tries = 0; tries < 100; tries++) {
        if (ioctl(fd, request, arg) == 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
    return -EINTR;
}

static int dev_mmap(void *ctx, int fd, size_t len, uint32_t offset, void **out)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
    if (p == MAP_FAILED)
        return -errno;
    *out = p;
    return 0;
}

static void dev_munmap(void *ctx, void *addr, size_t len)
{
    munmap(addr, len);
}

static int dev_poll(void *ctx, int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0)
        return -errno;
    if (n > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) && !(p.revents & POLLIN))
        return -EIO; /* device unplugged or stream stopped */
    return n;
}

static const v4l2_dev_ops real_ops = {
    .open = dev_open,
    .close = dev_close,
    .ioctl = dev_ioctl,
    .mmap = dev_mmap,
    .munmap = dev_munmap,
    .poll = dev_poll,
    .ctx = NULL,
};

const v4l2_dev_ops *v4l2_dev_real(void)
{
    return &real_ops;
}
