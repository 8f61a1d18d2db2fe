#!/usr/bin/python3
"""Encode the test pattern with `camrtc encode`, decode it with python3-av (FFmpeg), and
read the machine-readable block back from every picture: all frames must decode and
carry the frame ids 0..59 in order. Also runs `camrtc probe` on the file: the frame id
and capture time it prints from each access unit's camrtc SEI must equal what the
pixels of that picture say (frame_id mod 2^32, capture ms mod 2^24). Two runs: a
small picture, and 720p at 2.5 Mbit/s (the bench's setting), where the pattern's moving
texture must cost several slices per picture and still leave the block readable.

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


def slices_per_au(probe_out):
    """Mean slices per access unit from `camrtc probe` lines 'au N: ... K slices'."""
    counts = [int(line.split()[-2]) for line in probe_out.splitlines()
              if line.startswith("au ") and line.endswith(" slices")]
    return sum(counts) / len(counts) if counts else 0.0


def sei_per_au(probe_out):
    """(frame_id mod 2^32, ms24) per access unit from `camrtc probe`, in order; None for
    an access unit that probe says has no camrtc SEI."""
    values = []
    for line in probe_out.splitlines():
        words = line.split()
        if line.startswith("  camrtc SEI: "):
            values.append((int(words[3]) % (1 << 32), int(words[7])))
        elif line == "  no camrtc SEI":
            values.append(None)
    return values


def run(camrtc, av, tmp, width, height, bitrate, min_slices):
    """One encode/probe/decode round; returns an error string or None."""
    out = os.path.join(tmp, "tmp_%dx%d.h264" % (width, height))
    cmd = [camrtc, "encode", "--source", "testsrc", "--size", "%dx%d" % (width, height),
           "--bitrate", str(bitrate), "--frames", str(FRAMES), "--out", out]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return "encode failed (%d): %s" % (r.returncode, r.stderr)
    probe = subprocess.run([camrtc, "probe", out], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0 or "%d access units" % FRAMES not in probe.stdout:
        return "probe disagrees:\n" + probe.stdout + probe.stderr
    if "(profile-level-id 42c01f) constrained baseline %dx%d" % (width, height) not in probe.stdout:
        return "probe shows an unexpected SPS:\n" + probe.stdout
    slices = slices_per_au(probe.stdout)
    if slices < min_slices:
        return "%.1f slices per picture, want at least %d" % (slices, min_slices)

    sei = sei_per_au(probe.stdout)
    if len(sei) != FRAMES:
        return "probe printed %d SEI lines for %d access units" % (len(sei), FRAMES)

    ids = []
    with av.open(out, format="h264") as container:
        for frame in container.decode(video=0):
            if frame.width != width or frame.height != height:
                return "decoded %dx%d" % (frame.width, frame.height)
            got = read_block(luma_rows(frame.reformat(format="yuv420p")))
            if got is None:
                return "frame %d: no readable block" % len(ids)
            if sei[len(ids)] != got:
                return "frame %d: the pixels say (frame_id, ms24) %s, the SEI %s" % (
                    len(ids), got, sei[len(ids)])
            ids.append(got[0])
    if ids != list(range(FRAMES)):
        return "frame ids %s, want 0..%d" % (ids, FRAMES - 1)
    print("roundtrip: %dx%d at %d kbit/s: %d frames decoded, frame ids 0..%d in order, "
          "SEI frame id and capture ms equal to the pixels' in every frame, "
          "%.1f slices per picture" % (width, height, bitrate, FRAMES, FRAMES - 1, slices))
    return None


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
        for width, height, bitrate, min_slices in ((320, 240, 2500, 1), (1280, 720, 2500, 4)):
            err = run(camrtc, av, tmp, width, height, bitrate, min_slices)
            if err:
                print("roundtrip: %dx%d: %s" % (width, height, err), file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
