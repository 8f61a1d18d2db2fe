/* dlopen + dlsym into a caller-owned table; see dynlib.h. */
#include "dynlib.h"

#include <dlfcn.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/str.h"

/* POSIX (dlsym) guarantees a data pointer can hold a function's address. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers fit in void *");

int camrtc_dynlib_open(void **handle, const char *soname, const char *package,
                       const camrtc_dynsym *syms, size_t n, char *err, size_t errsz)
{
    *handle = NULL;
    /* RTLD_LOCAL: its symbols serve only these tables, never other libraries' lookups.
     * RTLD_NOW: a missing dependency fails here, not in the middle of a frame. */
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        camrtc_errf(err, errsz, "cannot load %s (Debian package %s): %s", soname, package,
                    why ? why : "unknown reason");
        return CAMRTC_EUNSUPPORTED;
    }
    for (size_t i = 0; i < n; i++) {
        dlerror();
        void *fn = dlsym(h, syms[i].name);
        if (!fn) {
            const char *why = dlerror();
            camrtc_errf(err, errsz, "%s has no %s (Debian package %s, another version?): %s", soname,
                        syms[i].name, package, why ? why : "null symbol");
            dlclose(h);
            return CAMRTC_EUNSUPPORTED;
        }
        memcpy(syms[i].slot, &fn, sizeof fn);
    }
    *handle = h;
    return CAMRTC_OK;
}

void camrtc_dynlib_close(void *handle)
{
    if (handle)
        dlclose(handle);
}
