/* `camrtc encode` (a source through the pipeline into an H.264 file or directory) and
 * `camrtc probe` (what an Annex-B file holds, per access unit, without decoding). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "app/app.h"
#include "camrtc/encoder.h"
#include "camrtc/error.h"
#include "camrtc/pipeline.h"
#include "media/h264_int.h"

/* ---- encode ------------------------------------------------------------------------------ */

static const char encode_usage[] =
"usage: camrtc encode --source SPEC [options] (--out FILE.h264 | --out-dir DIR)\n"
"\n"
"Runs SPEC through the capture/encoder pipeline as fast as it goes and writes the NALs.\n"
"  --source SPEC    testsrc, y4m:PATH, v4l2:/dev/videoN, h264dir:DIR, h264:FILE\n"
"  --size WxH       picture size (default: the source's own; testsrc 1280x720)\n"
"  --fps N          frame rate given to the encoder's rate control (default: source's, 30)\n"
"  --bitrate K      target kbit/s (default 2500)\n"
"  --frames N       stop after N frames (default 300)\n"
"  --profile P      cb (constrained baseline, default), main, high\n"
"  --keyint N       frames between IDRs (default 2 s)\n"
"  --slice-max N    largest slice in bytes (default 1100)\n"
"  --out FILE       one Annex-B stream\n"
"  --out-dir DIR    one Annex-B access unit per file: DIR/frame-0001.h264, ... (the\n"
"                   layout the h264dir: source reads)\n";

typedef struct encode_run {
    camrtc_pipeline *p;
    uv_loop_t *loop;
    FILE *out;                     /* --out, or the current frame's file with --out-dir */
    const char *dir;
    unsigned frames;               /* access units written */
    uint64_t bytes;
    bool in_frame;
    int io_error;
    int status;
} encode_run;

static int open_frame_file(encode_run *r)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/frame-%04u.h264", r->dir, r->frames + 1);
    r->out = fopen(path, "wb");
    if (!r->out) {
        fprintf(stderr, "camrtc encode: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void encode_on_nal(void *user, const camrtc_nal *nal)
{
    encode_run *r = user;
    if (!r->io_error && r->dir && !r->in_frame && open_frame_file(r) < 0)
        r->io_error = 1;
    r->in_frame = true;
    if (!r->io_error) {
        if (fwrite("\0\0\0\1", 1, 4, r->out) != 4 || fwrite(nal->data, 1, nal->len, r->out) != nal->len)
            r->io_error = 1;
        r->bytes += 4 + nal->len;
    }
    if (nal->last_of_frame) {
        r->in_frame = false;
        r->frames++;
        if (r->dir && r->out) {
            if (fclose(r->out) != 0)
                r->io_error = 1;
            r->out = NULL;
        }
    }
    camrtc_pipeline_release(r->p, nal);
}

static void encode_on_end(void *user, int status)
{
    encode_run *r = user;
    r->status = status;
    uv_stop(r->loop);
}

static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (*end != 'x' && *end != 'X')
        return -1;
    long b = strtol(end + 1, &end, 10);
    if (*end || a <= 0 || b <= 0 || a > 8192 || b > 8192)
        return -1;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

static int parse_int(const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return (errno || *end || !*s || *v < lo || *v > hi) ? -1 : 0;
}

typedef struct encode_opts {
    camrtc_source_config src;
    camrtc_encoder_config enc;
    long frames;
    const char *out, *dir;
} encode_opts;

static int parse_encode(int argc, char **argv, encode_opts *o)
{
    static const struct option longs[] = {
        {"source", 1, 0, 's'}, {"size", 1, 0, 'z'}, {"fps", 1, 0, 'f'},
        {"bitrate", 1, 0, 'b'}, {"frames", 1, 0, 'n'}, {"profile", 1, 0, 'p'},
        {"keyint", 1, 0, 'k'}, {"slice-max", 1, 0, 'm'}, {"out", 1, 0, 'o'},
        {"out-dir", 1, 0, 'd'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    o->frames = 300;
    int c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 's': o->src.spec = optarg; break;
        case 'z':
            if (parse_size(optarg, &o->src.width, &o->src.height) < 0)
                return app_fail("encode", "--size %s: want WxH", optarg);
            break;
        case 'f':
            if (parse_int(optarg, 1, 240, &v) < 0)
                return app_fail("encode", "--fps %s: want 1..240", optarg);
            o->src.fps = (int)v;
            break;
        case 'b':
            if (parse_int(optarg, 16, 100000, &v) < 0)
                return app_fail("encode", "--bitrate %s: want 16..100000 kbit/s", optarg);
            o->enc.bitrate_kbps = (int)v;
            break;
        case 'n':
            if (parse_int(optarg, 1, 100000000, &o->frames) < 0)
                return app_fail("encode", "--frames %s: want a positive count", optarg);
            break;
        case 'p':
            if (!strcmp(optarg, "cb") || !strcmp(optarg, "baseline"))
                o->enc.profile = CAMRTC_H264_CONSTRAINED_BASELINE;
            else if (!strcmp(optarg, "main"))
                o->enc.profile = CAMRTC_H264_MAIN;
            else if (!strcmp(optarg, "high"))
                o->enc.profile = CAMRTC_H264_HIGH;
            else
                return app_fail("encode", "--profile %s: want cb, main or high", optarg);
            break;
        case 'k':
            if (parse_int(optarg, 1, 100000, &v) < 0)
                return app_fail("encode", "--keyint %s: want a positive count", optarg);
            o->enc.keyint = (int)v;
            break;
        case 'm':
            if (parse_int(optarg, 100, 65535, &v) < 0)
                return app_fail("encode", "--slice-max %s: want 100..65535", optarg);
            o->enc.slice_max_size = (int)v;
            break;
        case 'o': o->out = optarg; break;
        case 'd': o->dir = optarg; break;
        case 'h': fputs(encode_usage, stdout); return -1;
        default: fputs(encode_usage, stderr); return 2;
        }
    }
    if (!o->src.spec)
        return app_fail("encode", "--source is required");
    if (!o->out == !o->dir)
        return app_fail("encode", "give one of --out FILE or --out-dir DIR");
    return 0;
}

int camrtc_cmd_encode(int argc, char **argv)
{
    encode_opts o = {0};
    int rc = parse_encode(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    o.enc.fps = o.src.fps;
    encode_run r = {.dir = o.dir, .status = CAMRTC_OK};
    if (o.out && !(r.out = fopen(o.out, "wb")))
        return app_fail("encode", "%s: %s", o.out, strerror(errno));
    if (o.dir && mkdir(o.dir, 0755) < 0 && errno != EEXIST)
        return app_fail("encode", "%s: %s", o.dir, strerror(errno));

    uv_loop_t loop;
    uv_loop_init(&loop);
    r.loop = &loop;
    camrtc_pipeline_settings set = {.on_end = encode_on_end, .unpaced = true,
                                    .max_frames = (uint64_t)o.frames};
    char err[256] = "";
    camrtc_time_us t0 = camrtc_now_us();
    int e = camrtc_pipeline_new(&loop, &o.src, &o.enc, encode_on_nal, &r, &set, &r.p, err,
                                sizeof(err));
    if (e == 0)
        uv_run(&loop, UV_RUN_DEFAULT);
    double secs = (double)(camrtc_now_us() - t0) / 1e6;
    camrtc_pipeline_stats st = {0};
    if (r.p) {
        camrtc_pipeline_get_stats(r.p, &st);
        const camrtc_source_info *si = camrtc_pipeline_source_info(r.p);
        fprintf(stderr, "camrtc encode: %u frames, %llu bytes in %.2f s", r.frames,
                (unsigned long long)r.bytes, secs);
        if (si->encoded)
            fprintf(stderr, " (pre-encoded input, passed through)\n");
        else
            fprintf(stderr, " (%dx%d source); encode %.2f ms/frame avg, %.2f max\n",
                    si->width, si->height,
                    st.frames_encoded ? (double)st.encode_us_total / 1000.0 /
                                        (double)st.frames_encoded : 0.0,
                    (double)st.encode_us_max / 1000.0);
    }
    camrtc_pipeline_free(r.p);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (r.out && fclose(r.out) != 0)
        r.io_error = 1;
    if (e < 0)
        return app_fail("encode", "%s (%s)", err[0] ? err : camrtc_strerror(e), camrtc_errname(e));
    if (r.io_error)
        return app_fail("encode", "writing the output failed");
    if (r.status < 0) {
        fprintf(stderr, "camrtc encode: stopped: %s\n", camrtc_strerror(r.status));
        return 1;
    }
    return 0;
}

/* ---- probe ------------------------------------------------------------------------------- */

static const char probe_usage[] =
"usage: camrtc probe FILE.h264\n"
"\n"
"Lists the access units of an Annex-B H.264 stream without decoding it: for each, IDR\n"
"or not, its size and NAL count, and every SPS's profile, constraint flags, level and\n"
"picture size. camrtc has no H.264 decoder (it never needs one); to see the pictures,\n"
"decode with ffmpeg or python3-av.\n"
"\n"
"Every picture camrtc encodes carries an SEI (user data, camrtc's UUID) with its frame\n"
"id and capture time (microseconds, the sender's monotonic clock): probe prints them\n"
"per access unit, or \"no camrtc SEI\". They are the same values the test pattern burns\n"
"into the pixels as a machine-readable block (there: frame id mod 2^32, capture time in\n"
"ms mod 2^24, printed here as ms24), which tests/media/roundtrip.py reads back from the\n"
"decoded pictures with python3-av and compares with this output.\n";

#define PROBE_MAX_FILE ((size_t)512 << 20)

/* A bounded bit reader over an RBSP (emulation prevention bytes removed). */
typedef struct bits {
    const uint8_t *p;
    size_t n, pos;                 /* in bits */
    bool bad;                      /* read past the end */
} bits;

static unsigned bit1(bits *b)
{
    if (b->pos >= b->n * 8) {
        b->bad = true;
        return 0;
    }
    unsigned v = (b->p[b->pos / 8] >> (7 - b->pos % 8)) & 1;
    b->pos++;
    return v;
}

/* ue(v), H.264 9.1: leading zeros, a one, that many bits. */
static uint32_t ue(bits *b)
{
    int zeros = 0;
    while (!bit1(b) && !b->bad)
        if (++zeros > 31) {
            b->bad = true;
            return 0;
        }
    uint32_t v = 0;
    for (int i = 0; i < zeros; i++)
        v = (v << 1) | bit1(b);
    return ((uint32_t)1 << zeros) - 1 + v;
}

static int32_t se(bits *b)
{
    uint32_t k = ue(b);
    return (k & 1) ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

static void skip_scaling_list(bits *b, int size)
{
    int last = 8, next = 8;
    for (int j = 0; j < size && !b->bad; j++) {
        if (next != 0)
            next = (last + se(b) + 256) % 256;
        last = next == 0 ? last : next;
    }
}

/* The picture size from an SPS (H.264 7.3.2.1.1), or false when it does not parse. */
static bool sps_size(const uint8_t *nal, size_t len, int *w, int *h)
{
    uint8_t rbsp[512];
    size_t n = 0;
    int zeros = 0;
    for (size_t i = 1; i < len && n < sizeof(rbsp); i++) {
        if (zeros >= 2 && nal[i] == 3) {        /* emulation_prevention_three_byte */
            zeros = 0;
            continue;
        }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        rbsp[n++] = nal[i];
    }
    bits b = {rbsp, n, 24, false};              /* after profile, constraints, level */
    unsigned profile = rbsp[0];
    ue(&b);                                     /* seq_parameter_set_id */
    unsigned chroma = 1;
    if (profile == 100 || profile == 110 || profile == 122 || profile == 244 || profile == 44 ||
        profile == 83 || profile == 86 || profile == 118 || profile == 128 || profile == 138 ||
        profile == 139 || profile == 134 || profile == 135) {
        chroma = ue(&b);
        if (chroma == 3)
            bit1(&b);                           /* separate_colour_plane_flag */
        ue(&b);
        ue(&b);                                 /* bit depths */
        bit1(&b);
        if (bit1(&b))                           /* seq_scaling_matrix_present_flag */
            for (int i = 0; i < (chroma != 3 ? 8 : 12); i++)
                if (bit1(&b))
                    skip_scaling_list(&b, i < 6 ? 16 : 64);
    }
    ue(&b);                                     /* log2_max_frame_num_minus4 */
    uint32_t poc_type = ue(&b);
    if (poc_type == 0) {
        ue(&b);
    } else if (poc_type == 1) {
        bit1(&b);
        se(&b);
        se(&b);
        uint32_t cycle = ue(&b);
        for (uint32_t i = 0; i < cycle && i < 256 && !b.bad; i++)
            se(&b);
    }
    ue(&b);                                     /* max_num_ref_frames */
    bit1(&b);
    uint32_t wmbs = ue(&b) + 1, hmaps = ue(&b) + 1;
    unsigned frame_mbs_only = bit1(&b);
    if (!frame_mbs_only)
        bit1(&b);
    bit1(&b);                                   /* direct_8x8_inference_flag */
    uint32_t cl = 0, cr = 0, ct = 0, cb = 0;
    if (bit1(&b)) {
        cl = ue(&b);
        cr = ue(&b);
        ct = ue(&b);
        cb = ue(&b);
    }
    if (b.bad || wmbs > 1024 || hmaps > 1024)
        return false;
    unsigned cux = chroma == 0 || chroma == 3 ? 1 : 2;
    unsigned cuy = (chroma == 1 ? 2 : 1) * (2 - frame_mbs_only);
    long wl = (long)wmbs * 16 - (long)cux * (cl + cr);
    long hl = (long)hmaps * 16 * (2 - frame_mbs_only) - (long)cuy * (ct + cb);
    if (wl <= 0 || hl <= 0)
        return false;
    *w = (int)wl;
    *h = (int)hl;
    return true;
}

static void probe_sps(const uint8_t *nal, size_t len)
{
    if (len < 4) {
        printf("  SPS (truncated)\n");
        return;
    }
    int w = 0, h = 0;
    printf("  SPS profile_idc %u constraints %02x level_idc %u (profile-level-id %02x%02x%02x)",
           nal[1], nal[2], nal[3], nal[1], nal[2], nal[3]);
    if (nal[1] == 66 && (nal[2] & 0x40))
        printf(" constrained baseline");
    if (sps_size(nal, len, &w, &h))
        printf(" %dx%d", w, h);
    printf("\n");
}

typedef struct probe_totals {
    unsigned aus, idrs;
    size_t bytes, biggest;
} probe_totals;

static void probe_au(const uint8_t *au, size_t len, bool key, probe_totals *t)
{
    size_t off = 0;
    h264_nal_pos np;
    unsigned nals = 0, slices = 0;
    bool have_sei = false;
    uint64_t frame_id = 0;
    camrtc_time_us capture_us = 0;
    while (h264_next_nal(au, len, &off, &np)) {
        nals++;
        uint8_t type = au[np.nal] & 0x1f;
        slices += type == H264_NAL_SLICE || type == H264_NAL_IDR;
        if (type == H264_NAL_SPS)
            probe_sps(au + np.nal, np.len);
        if (type == H264_NAL_SEI && !have_sei)
            have_sei = camrtc_h264_read_camrtc_sei(au + np.nal, np.len, &frame_id,
                                                   &capture_us) == CAMRTC_OK;
    }
    printf("au %u: %s %zu bytes, %u NALs, %u slices\n", t->aus, key ? "IDR" : "non-IDR", len,
           nals, slices);
    /* ms24: the capture time as the test pattern's block carries it (camrtc/media.h). */
    if (have_sei)
        printf("  camrtc SEI: frame_id %llu capture_us %llu ms24 %llu\n",
               (unsigned long long)frame_id, (unsigned long long)capture_us,
               (unsigned long long)(capture_us / 1000 % (1u << 24)));
    else
        printf("  no camrtc SEI\n");
    t->aus++;
    t->idrs += key;
    t->bytes += len;
    if (len > t->biggest)
        t->biggest = len;
}

static int load(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        if (n == cap) {
            uint8_t *nb = cap < PROBE_MAX_FILE ? realloc(b, cap * 2) : NULL;
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b || bad) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

int camrtc_cmd_probe(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(probe_usage, stdout);
        return 0;
    }
    if (argc != 2) {
        fputs(probe_usage, stderr);
        return 2;
    }
    uint8_t *buf;
    size_t len;
    if (load(argv[1], &buf, &len) < 0)
        return app_fail("probe", "%s: cannot read it (or over %zu MB)", argv[1], PROBE_MAX_FILE >> 20);
    probe_totals t = {0};
    size_t off = 0, start, au_len;
    bool key, slice;
    int r;
    while ((r = h264_next_au(buf, len, &off, &start, &au_len, &key, &slice)) == 1)
        probe_au(buf + start, au_len, key, &t);
    free(buf);
    printf("%u access units, %u IDR, %zu bytes, biggest %zu\n", t.aus, t.idrs, t.bytes, t.biggest);
    if (r < 0) {
        fprintf(stderr, "camrtc probe: %s: malformed NAL after %u access units\n", argv[1], t.aus);
        return 1;
    }
    if (t.aus == 0) {
        fprintf(stderr, "camrtc probe: %s: no H.264 access unit found\n", argv[1]);
        return 1;
    }
    return 0;
}
