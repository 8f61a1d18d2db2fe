#!/usr/bin/python3
"""Instructions of the media pipeline against raw x264 (issue 5), counted by callgrind.

Wall and CPU times on a shared two-core machine move by 10-30 % from run to run; the
number of instructions executed does not. This runs bench_media twice under
`valgrind --tool=callgrind --instr-atstart=no`:
  - `--only raw`: x264_encoder_open, x264_encoder_encode on N in-memory 720p test-pattern
    frames, x264_encoder_close (the settings of camrtc_encoder);
  - `--only pipeline`: the same N frames from a Y4M file through camrtc_pipeline_new,
    its encoder thread, output ring, uv_async and the loop's on_nal, to
    camrtc_pipeline_free;
bench_media switches callgrind's instrumentation on only around that part (the frames
are drawn and written outside it), and callgrind counts every thread.

Prints one JSON line: {"bench":"media","what":"instructions_pipeline_vs_raw","frames":N,
"raw_ir":..,"pipeline_ir":..,"ratio":..,"raw_outside_x264_ir_per_frame":..,
"pipeline_outside_x264_ir_per_frame":..,"goal":1.1}. "outside x264" is what runs in
other objects than libx264 (camrtc, libuv, libc...): the pipeline's own work.
Callgrind counts user-space instructions only: system calls, page faults and the
kernel's copies (read(2), the wake-ups through an eventfd) are not in these numbers; the
CPU-time ratios of `bench_media --only encode` include them.

Usage: bench/media_instr.py --bench build-bench/bench/bench_media [--frames 60]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")


def run_side(bench, side, frames, out_dir):
    """Run one side under callgrind; returns the path of its profile."""
    out = os.path.join(out_dir, side + ".out")
    # Valgrind runs one thread at a time; --fair-sched keeps the encoder thread from filling
    # the pipeline's output ring in one long turn (the pipeline then drops to the next IDR
    # and the run counts fewer frames). A second try covers what is left of that.
    cmd = ["valgrind", "--tool=callgrind", "--fair-sched=yes", "--instr-atstart=no",
           "--callgrind-out-file=" + out, bench, "--only", side, "--frames", str(frames)]
    for attempt in range(2):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=1800)
        if r.returncode == 0:
            break
    if r.returncode != 0:
        sys.stderr.write(r.stderr[-2000:])
        raise RuntimeError("%s failed (%d)" % (" ".join(cmd), r.returncode))
    return out


def totals(profile):
    with open(profile) as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + profile)


def outside_x264(profile):
    """Instructions in functions of every object but libx264 (exclusive counts)."""
    r = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", profile],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       timeout=600)
    total = 0
    in_table = False
    for line in r.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        what = m.group(2)
        if "PROGRAM TOTALS" in what:
            in_table = True
            continue
        if in_table and "libx264" not in what:
            total += int(m.group(1).replace(",", ""))
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True, help="path of bench_media")
    ap.add_argument("--frames", type=int, default=60)
    a = ap.parse_args()
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        print(json.dumps({"bench": "media", "what": "instructions_pipeline_vs_raw",
                          "skipped": "valgrind not installed"}))
        return 0
    with tempfile.TemporaryDirectory(prefix="media_instr_") as d:
        raw = run_side(a.bench, "raw", a.frames, d)
        pipe = run_side(a.bench, "pipeline", a.frames, d)
        raw_ir, pipe_ir = totals(raw), totals(pipe)
        raw_out, pipe_out = outside_x264(raw), outside_x264(pipe)
    print(json.dumps({
        "bench": "media", "what": "instructions_pipeline_vs_raw", "frames": a.frames,
        "raw_ir": raw_ir, "pipeline_ir": pipe_ir, "ratio": round(pipe_ir / raw_ir, 4),
        "raw_outside_x264_ir_per_frame": raw_out // a.frames,
        "pipeline_outside_x264_ir_per_frame": pipe_out // a.frames,
        "goal": 1.1}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
