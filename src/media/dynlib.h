/* Libraries opened when first needed (dlopen(3)) instead of at program start.
 *
 * One camrtc binary is the master, the viewer and the signaling service, but only a
 * master that encodes needs x264, and only one that converts camera formats needs
 * libyuv (which brings libstdc++, libjpeg and libgcc_s). Linking them would load them,
 * run their constructors and keep their pages in every process, ~1.6 MB of RSS. So
 * the encoder and the converter open them here, each holding its own handle and
 * function table: no process-wide state, and dlclose when the last holder is done.
 * The headers stay the compile-time contract: each table entry is declared with the
 * type of the function it stands for (encoder.c, convert.c).
 */
#ifndef CAMRTC_MEDIA_DYNLIB_H
#define CAMRTC_MEDIA_DYNLIB_H

#include <stddef.h>

/* One function to look up: its exported name and where to store its address (the
 * address of a function-pointer member of the caller's table). */
typedef struct camrtc_dynsym {
    const char *name;
    void *slot;
} camrtc_dynsym;

/* Open soname (e.g. "libx264.so.164") and fill every slot of syms[0..n). On failure
 * returns CAMRTC_EUNSUPPORTED with err naming the library, the Debian package that
 * provides it and dlerror's reason; nothing stays open. *handle is for
 * camrtc_dynlib_close. */
int camrtc_dynlib_open(void **handle, const char *soname, const char *package,
                       const camrtc_dynsym *syms, size_t n, char *err, size_t errsz);

/* Close a handle from camrtc_dynlib_open; NULL is accepted. */
void camrtc_dynlib_close(void *handle);

#endif
