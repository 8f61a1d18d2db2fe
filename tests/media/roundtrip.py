#!/usr/bin/python3
"""Encode the test pattern with `camrtc encode`, decode it with python3-av (FFmpeg), and
read the machine-readable block back from every picture: all frames must decode and
carry the frame ids 0..59 in order. Also runs `camrtc probe` on the file.

usage: roundtrip.py CAMRTC_BINARY

The block (src/media/testsrc.c): the top-left 128x128 luma pixels hold 8 x 8 cells of
16x16, each black (16) or white (235). Cell 0 is top-left, row by row; the 64 bits,
most significant first, are frame_id mod 2^32 (32) | capture ms mod 2^24 (24) | check (8),
the check being CRC-8 (polynomial 0x07, initial 0) of the first 7 bytes XOR 0xA5. A
cell counts when the mean of its 8x8 centre is <= 80 (0) or >= 176 (1).
"""
import os
import subprocess
import sys
import tempfile

FRAMES = 60
CELL, PER_ROW = 16, 8
DARK_MAX, LIGHT_MIN = 80, 176


def crc8(data):
    c = 0
    for byte in data:
        c ^= byte
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c ^ 0xA5


def read_block(luma):
    """luma: rows of bytes (a numpy-free view). Returns (frame_id, ms) or None."""
    word = 0
    for i in range(64):
        x0 = (i % PER_ROW) * CELL + CELL // 4
        y0 = (i // PER_ROW) * CELL + CELL // 4
        total = 0
        for r in range(CELL // 2):
            row = luma[y0 + r]
            total += sum(row[x0:x0 + CELL // 2])
        mean = total // (CELL // 2 * CELL // 2)
        if DARK_MAX < mean < LIGHT_MIN:
            return None
        word = (word << 1) | (1 if mean >= LIGHT_MIN else 0)
    head = (word >> 8).to_bytes(7, "big")
    if crc8(head) != word & 0xFF:
        return None
    return word >> 32, (word >> 8) & 0xFFFFFF


def luma_rows(frame):
    """The Y plane of a decoded yuv420p frame as a list of bytes rows (stride-aware)."""
    plane = frame.planes[0]
    data = bytes(plane)
    stride = plane.line_size
    return [data[y * stride:y * stride + plane.width] for y in range(CELL * PER_ROW)]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    camrtc = sys.argv[1]
    try:
        import av
    except ImportError:
        print("roundtrip: python3-av is not installed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "tmp.h264")
        cmd = [camrtc, "encode", "--source", "testsrc", "--size", "320x240",
               "--frames", str(FRAMES), "--out", out]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            print("roundtrip: encode failed (%d): %s" % (r.returncode, r.stderr), file=sys.stderr)
            return 1
        probe = subprocess.run([camrtc, "probe", out], capture_output=True, text=True, timeout=60)
        if probe.returncode != 0 or "%d access units" % FRAMES not in probe.stdout:
            print("roundtrip: probe disagrees:\n" + probe.stdout + probe.stderr, file=sys.stderr)
            return 1
        if "(profile-level-id 42c01f) constrained baseline 320x240" not in probe.stdout:
            print("roundtrip: probe shows an unexpected SPS:\n" + probe.stdout, file=sys.stderr)
            return 1

        ids = []
        with av.open(out, format="h264") as container:
            for frame in container.decode(video=0):
                if frame.width != 320 or frame.height != 240:
                    print("roundtrip: decoded %dx%d" % (frame.width, frame.height), file=sys.stderr)
                    return 1
                got = read_block(luma_rows(frame.reformat(format="yuv420p")))
                if got is None:
                    print("roundtrip: frame %d: no readable block" % len(ids), file=sys.stderr)
                    return 1
                ids.append(got[0])
        if ids != list(range(FRAMES)):
            print("roundtrip: frame ids %s, want 0..%d" % (ids, FRAMES - 1), file=sys.stderr)
            return 1
    print("roundtrip: %d frames decoded, frame ids 0..%d in order" % (FRAMES, FRAMES - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
