/* Replays files given on the command line through LLVMFuzzerTestOneInput, for
 * builds without libFuzzer: the committed corpus becomes a regression test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "cannot open %s\n", argv[i]);
            return 1;
        }
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        /* Copy to an exact-size allocation so ASan sees reads past the end. */
        uint8_t *p = malloc(len ? len : 1);
        if (!p)
            return 1;
        for (size_t k = 0; k < len; k++)
            p[k] = buf[k];
        LLVMFuzzerTestOneInput(p, len);
        free(p);
        n++;
    }
    printf("replayed %d inputs\n", n);
    return 0;
}
