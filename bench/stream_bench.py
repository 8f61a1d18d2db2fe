#!/usr/bin/python3
"""Streaming on loopback: time to first frame, and the master's loop-thread CPU and RSS.

Everything runs on 127.0.0.1 through `camrtc signaling` (in memory): one `camrtc master`
streaming the test pattern at 1280x720 30 fps, 2500 kbit/s.

ttff: --runs viewers one after the other (each gets SIGINT after 1.5 s, which writes its
  stats). Per connection:
    offer_to_first_rtp: offer received at the master -> first RTP packet (of the IDR that
      starts every connection) sent to that viewer (master stats, offerToFirstRtpMs);
    first_frame: the viewer made its offer -> first frame complete at the viewer (viewer
      stats, timeToFirstFrameMs; includes the offer's trip through the service).
  One JSON line with p50/p90 of each; goal 30 ms (the official C SDK took 217 ms).

load: the master with 0, 1 and 10 viewers (camrtc viewer processes), each level measured
  for --seconds once every viewer is connected:
    loop_cpu_pct: utime+stime of the master's main thread (the libuv loop; the encoder
      and source run in other threads) over wall time, in % of one core;
    process_cpu_pct: the whole master process, for comparison;
    rss_kb: VmRSS at the end.
  Goals: loop thread <= 5 % of a core with 10 viewers; RSS <= 4 MB + encoder buffers with
  1 viewer, and <= 300 KB per extra viewer ((RSS 10 - RSS 1) / 9).

  "RSS minus encoder buffers" is measured, not estimated: a second master streams the same
  720p30 2.5 Mbit/s video pre-encoded (h264dir:, the frame-file layout the official C SDK's
  sample master reads, made here with `camrtc encode`) to one viewer. It runs everything but
  the encoder (signaling, ICE, DTLS, SRTP with its crypto set up, the shared NACK history,
  the NAL pool), and loads neither x264 nor libyuv (they are opened only to encode or
  convert). So: base = RSS of that master (goal 4096 KB), encoder buffers = RSS of the
  testsrc master with 1 viewer - base. rss_breakdown_pre_encoded_1_viewer says what the
  base is made of (anonymous memory, the binary, each shared library), and
  private_pre_encoded_1_viewer_kb the part no other process shares (Private_Clean +
  Private_Dirty): shared libraries' pages count in RSS in every process that maps them.
  (Before, the base was a signaling-only master plus the first viewer's growth, which
  counted the SRTP crypto setup and the NACK history as encoder memory.)

Usage: bench/stream_bench.py --camrtc build-bench/src/app/camrtc [--runs 30] [--seconds 10]
"""
import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "CAMRTCLOCALKEY0000000",
    "AWS_SECRET_ACCESS_KEY": "camrtc/local/secret/0000000000000000000000",
    "AWS_REGION": "us-west-2",
}
START_TIMEOUT = 10.0
TTFF_GOAL_MS = 30.0
CPU_GOAL_PCT = 5.0
RSS_BASE_GOAL_KB = 4096
RSS_PER_VIEWER_GOAL_KB = 300
CLK_TCK = os.sysconf("SC_CLK_TCK")


def env():
    e = dict(os.environ)
    e.update(LOCAL_ENV)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS_VIDEO"):
        e.pop(k, None)
    e["CAMRTC_LOG"] = "info"
    return e


def pct(xs, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return round(s[k], 2)


class Procs:
    def __init__(self, tmp):
        self.tmp, self.procs = tmp, []

    def start(self, args, log, **kw):
        p = subprocess.Popen(args, env=env(), stderr=open(os.path.join(self.tmp, log), "w"), **kw)
        self.procs.append(p)
        return p

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def start_signaling(procs, camrtc):
    p = procs.start([camrtc, "signaling", "--listen", "127.0.0.1:0", "--memory", "--no-rate-limits"],
                    "signaling.log", stdout=subprocess.PIPE)
    ready, _, _ = select.select([p.stdout], [], [], START_TIMEOUT)
    first = p.stdout.readline().decode() if ready else ""
    url = first.split()[-1] if first else ""
    if not url.startswith("http://127.0.0.1:"):
        raise RuntimeError("signaling did not print its URL: %r" % first)
    return url


def wait_for_log(path, text, p, what, count=1, timeout=START_TIMEOUT, prefix=""):
    """Until count lines of a process's log hold text (after prefix, when given); bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            if sum(text in (line.split(prefix, 1)[1] if prefix else line) for line in f if prefix in line) >= count:
                return
        if p.poll() is not None:
            raise RuntimeError("%s exited with %d before '%s'" % (what, p.returncode, text))
        time.sleep(0.02)
    raise RuntimeError("%s: fewer than %d '%s' within %.0f s" % (what, count, text, timeout))


def stop(p, sig=signal.SIGINT, timeout=15.0):
    if p.poll() is None:
        p.send_signal(sig)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def start_master(procs, camrtc, tmp, url, channel, extra=("--source", "testsrc")):
    log = os.path.join(tmp, "master-%s.log" % channel)
    stats = os.path.join(tmp, "master-%s.json" % channel)
    p = procs.start([camrtc, "master", "--channel", channel, "--create", "--endpoint", url, "--no-cache",
                     "--size", "1280x720", "--fps", "30", "--bitrate", "2500", "--stats-json", stats, *extra],
                    os.path.basename(log), stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wait_for_log(log, "state connected", p, "master")
    return p, log, stats


def start_viewer(procs, camrtc, tmp, url, channel, name, seconds):
    stats = os.path.join(tmp, "%s.json" % name)
    p = procs.start([camrtc, "viewer", "--channel", channel, "--client-id", name, "--endpoint", url, "--no-cache",
                     "--duration", str(seconds), "--stats-json", stats], "%s.log" % name, stdout=subprocess.DEVNULL)
    return p, stats


# ---- time to first frame ------------------------------------------------------------------------

def bench_ttff(camrtc, tmp, url, runs):
    procs = Procs(tmp)
    try:
        master, _, mstats = start_master(procs, camrtc, tmp, url, "ttff")
        viewer_ms = []
        for i in range(runs):
            v, vstats = start_viewer(procs, camrtc, tmp, url, "ttff", "ttff-%d" % i, 5)
            time.sleep(1.5)
            stop(v)
            with open(vstats) as f:
                t = json.load(f).get("timeToFirstFrameMs")
            if t is None:
                raise RuntimeError("viewer ttff-%d received no frame" % i)
            viewer_ms.append(t)
        stop(master)
        with open(mstats) as f:
            sender_ms = [v["offerToFirstRtpMs"] for v in json.load(f)["viewers"]
                         if v.get("offerToFirstRtpMs") is not None]
        if len(sender_ms) != runs:
            raise RuntimeError("master stats: %d of %d viewers with offerToFirstRtpMs" % (len(sender_ms), runs))
        return {"bench": "stream_ttff", "runs": runs,
                "offer_to_first_rtp_p50_ms": pct(sender_ms, 50), "offer_to_first_rtp_p90_ms": pct(sender_ms, 90),
                "first_frame_p50_ms": pct(viewer_ms, 50), "first_frame_p90_ms": pct(viewer_ms, 90),
                "goal_ms": TTFF_GOAL_MS, "official_c_sdk_ms": 217,
                "goal_met": pct(viewer_ms, 50) <= TTFF_GOAL_MS}
    finally:
        procs.kill_all()


# ---- CPU and RSS ----------------------------------------------------------------------------------

def thread_ticks(pid, tid, which="both"):
    """utime+stime (clock ticks) of one thread, from /proc/<pid>/task/<tid>/stat (proc(5));
    which="user" or "sys" for one of them."""
    with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
        rest = f.read().rsplit(")", 1)[1].split()   # fields after comm; rest[0] is field 3
    user, sys_ = int(rest[11]), int(rest[12])       # fields 14 and 15
    return user if which == "user" else sys_ if which == "sys" else user + sys_


def process_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def smaps_rss_kb(pid):
    """Rss (KB) per mapped file, and "[anon]" for anonymous memory (heap, stacks, mmap), from
    /proc/<pid>/smaps (proc(5)); several mappings of one file are added up."""
    out, name = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if not parts[0].endswith(":"):           # a mapping header: addr perms offset dev inode [path]
                name = parts[5] if len(parts) > 5 and parts[5].startswith("/") else "[anon]"
            elif parts[0] == "Rss:":
                out[name] = out.get(name, 0) + int(parts[1])
    return out


def private_kb(pid):
    """Memory of this process alone: Private_Clean + Private_Dirty from smaps_rollup (proc(5))."""
    total = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def breakdown(by_file):
    """The biggest parts of an smaps_rss_kb() result, by file name, largest first."""
    named = {("[anon]" if p == "[anon]" else os.path.basename(p)): kb for p, kb in by_file.items()}
    return dict(sorted(((k, v) for k, v in named.items() if v >= 64), key=lambda kv: -kv[1]))


def measure(pid, seconds):
    """loop_user_pct/loop_sys_pct split loop_cpu_pct: on loopback the system part also holds
    the viewers' UDP receive path and their wake-ups, which sendmsg runs in the sender's
    thread (softirq); on a network card that part is not the master's."""
    t0, loop0, all0 = time.monotonic(), thread_ticks(pid, pid), process_ticks(pid)
    user0 = thread_ticks(pid, pid, "user")
    time.sleep(seconds)
    wall = time.monotonic() - t0
    loop1, all1 = thread_ticks(pid, pid), process_ticks(pid)
    user1 = thread_ticks(pid, pid, "user")
    return {"loop_cpu_pct": round((loop1 - loop0) / CLK_TCK / wall * 100, 2),
            "loop_user_pct": round((user1 - user0) / CLK_TCK / wall * 100, 2),
            "loop_sys_pct": round(((loop1 - loop0) - (user1 - user0)) / CLK_TCK / wall * 100, 2),
            "process_cpu_pct": round((all1 - all0) / CLK_TCK / wall * 100, 2),
            "rss_kb": vm_rss_kb(pid), "threads": len(os.listdir("/proc/%d/task" % pid)),
            "smaps": smaps_rss_kb(pid)}


def make_h264dir(camrtc, tmp):
    """The testsrc master's stream, pre-encoded: 300 frames of 1280x720 at 2500 kbit/s."""
    out = os.path.join(tmp, "h264dir")
    r = subprocess.run([camrtc, "encode", "--source", "testsrc", "--size", "1280x720", "--fps", "30",
                        "--bitrate", "2500", "--frames", "300", "--out-dir", out],
                       env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0 or len(os.listdir(out)) != 300:
        raise RuntimeError("camrtc encode failed: %s" % r.stderr.decode(errors="replace")[-300:])
    return out


def pre_encoded_rss(camrtc, tmp, url, seconds):
    """RSS of a master streaming the pre-encoded stream to one viewer: everything but the encoder."""
    procs = Procs(tmp)
    try:
        master, mlog, _ = start_master(procs, camrtc, tmp, url, "pre",
                                       extra=("--source", "h264dir:" + make_h264dir(camrtc, tmp)))
        start_viewer(procs, camrtc, tmp, url, "pre", "pre-0", seconds * 2 + 30)
        wait_for_log(mlog, ": connected", master, "master", timeout=20.0, prefix="media: pre-")
        time.sleep(1.0)
        r = measure(master.pid, seconds)
        r["private_kb"] = private_kb(master.pid)
        r.update({"bench": "stream_load_pre_encoded", "viewers": 1, "seconds": seconds})
        print(json.dumps({k: v for k, v in r.items() if k != "smaps"}), flush=True)
        return r
    finally:
        procs.kill_all()


def bench_load(camrtc, tmp, url, seconds):
    procs = Procs(tmp)
    results = {}
    try:
        pre = pre_encoded_rss(camrtc, tmp, url, seconds)
        master, mlog, _ = start_master(procs, camrtc, tmp, url, "load")
        viewers = []
        for n in (0, 1, 10):
            while len(viewers) < n:
                viewers.append(start_viewer(procs, camrtc, tmp, url, "load", "load-%d" % len(viewers),
                                            seconds * 3 + 30)[0])
            # "media: load-<i>: connected" once per viewer's peer connection, then a moment for the IDR
            wait_for_log(mlog, ": connected", master, "master", count=n, timeout=20.0, prefix="media: load-")
            time.sleep(1.0)
            r = measure(master.pid, seconds)
            r.update({"bench": "stream_load", "viewers": n, "seconds": seconds})
            print(json.dumps({k: v for k, v in r.items() if k != "smaps"}), flush=True)
            results[n] = r
        for v in viewers:
            stop(v)
        stop(master)
    finally:
        procs.kill_all()
    base_kb = pre["rss_kb"]
    enc_kb = results[1]["rss_kb"] - base_kb
    per_viewer = (results[10]["rss_kb"] - results[1]["rss_kb"]) / 9.0
    return {"bench": "stream_load_goals",
            "loop_cpu_10_viewers_pct": results[10]["loop_cpu_pct"], "cpu_goal_pct": CPU_GOAL_PCT,
            "cpu_goal_met": results[10]["loop_cpu_pct"] <= CPU_GOAL_PCT,
            "rss_1_viewer_kb": results[1]["rss_kb"], "encoder_buffers_kb": enc_kb,
            "rss_1_viewer_minus_encoder_kb": base_kb, "rss_base_goal_kb": RSS_BASE_GOAL_KB,
            "rss_base_goal_met": base_kb <= RSS_BASE_GOAL_KB,
            "private_pre_encoded_1_viewer_kb": pre["private_kb"],
            "rss_breakdown_pre_encoded_1_viewer": breakdown(pre["smaps"]),
            "rss_breakdown_1_viewer": breakdown(results[1]["smaps"]),
            "rss_per_extra_viewer_kb": round(per_viewer, 1), "rss_per_viewer_goal_kb": RSS_PER_VIEWER_GOAL_KB,
            "rss_per_viewer_goal_met": per_viewer <= RSS_PER_VIEWER_GOAL_KB,
            "official_c_sdk_rss_1_viewer_kb": 15300}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--camrtc", required=True)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--only", choices=("ttff", "load"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        procs = Procs(tmp)
        try:
            url = start_signaling(procs, a.camrtc)
            if a.only in (None, "ttff"):
                print(json.dumps(bench_ttff(a.camrtc, tmp, url, a.runs)), flush=True)
            if a.only in (None, "load"):
                print(json.dumps(bench_load(a.camrtc, tmp, url, a.seconds)), flush=True)
        except RuntimeError as e:
            print(json.dumps({"bench": "stream", "error": str(e)}), flush=True)
            if os.environ.get("STREAM_VERBOSE") == "1":
                for f in sorted(os.listdir(tmp)):
                    if f.endswith(".log"):
                        with open(os.path.join(tmp, f), errors="replace") as fh:
                            print("--- %s\n%s" % (f, fh.read()[-2000:]), file=sys.stderr)
            return 1
        finally:
            procs.kill_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
