/* Fuzzes the YUV4MPEG2 parser on memory: the header line, FRAME lines, and the walk over
 * a whole file (src/media/y4m_int.h). Whatever y4m_scan accepts must be consistent: a
 * positive frame count whose frames fit in the input, sizes within bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "media/y4m_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    y4m_info info;
    char err[128];
    int n = y4m_scan(data, size, &info, err, sizeof err);
    if (n > 0) {
        if (info.width < 16 || info.height < 16 || (info.width & 1) || (info.height & 1) || info.width > 4096 || info.height > 4096 ||
            info.fps < 1 || info.fps > 240)
            abort();
        /* Each frame needs at least "FRAME\n" plus its planes. */
        if ((size_t)n > size / (info.frame_bytes + 6))
            abort();
    } else if (n == 0 || strlen(err) == 0) {
        abort(); /* a failure always says why */
    }
    /* The line parsers on their own, on the whole input as one line. */
    y4m_parse_header((const char *)data, size, &info, err, sizeof err);
    y4m_parse_frame_line((const char *)data, size);
    return 0;
}
