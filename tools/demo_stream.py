#!/usr/bin/python3
"""The streaming demo (tools/demo runs it): on 127.0.0.1, `camrtc signaling` (serving the
browser viewer page with the official KVS WebRTC JS SDK), a `camrtc master` streaming the
test pattern at 1280x720 30 fps, and a `camrtc viewer` that receives for about 5 s, writes
the H.264 it got and a stats JSON; then a short report and the URL of the viewer page.

Interactive (stdin is a terminal): the service and the master keep running until Ctrl-C,
so a person can open the page. Otherwise (CI) everything stops after the report.
Exit status 1 when the viewer received no frame (or a process did not start).

  CAMRTC_BIN=build/src/app/camrtc CAMRTC_KVS_JS=.../dist/kvs-webrtc.js tools/demo_stream.py OUTDIR
"""
import json
import os
import select
import signal
import subprocess
import sys
import time

LOCAL_ENV = {   # the documented local key pair `camrtc signaling` accepts (README.md)
    "AWS_ACCESS_KEY_ID": "CAMRTCLOCALKEY0000000",
    "AWS_SECRET_ACCESS_KEY": "camrtc/local/secret/0000000000000000000000",
    "AWS_REGION": "us-west-2",
}
CHANNEL = "demo"
VIEWER_SECONDS = 5
START_TIMEOUT = 10.0     # s for the service to print its URLs, the master to join
VIEWER_TIMEOUT = 30.0    # s the viewer may take in all


def env():
    e = dict(os.environ)
    e.update(LOCAL_ENV)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS_VIDEO"):
        e.pop(k, None)
    e.setdefault("CAMRTC_LOG", "info")
    return e


def say(t0, text):
    print("[%5d ms] %s" % ((time.monotonic() - t0) * 1000, text), flush=True)


def read_lines_until(p, prefix, seconds):
    """Lines of p's stdout until one starts with prefix (bounded); returns them all."""
    deadline = time.monotonic() + seconds
    buf, lines = b"", []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([p.stdout], [], [], 0.1)
        if not ready:
            continue
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append(line.decode(errors="replace"))
            if lines[-1].startswith(prefix):
                return lines
    raise RuntimeError("camrtc signaling printed no '%s' line in %.0f s: %r" % (prefix, seconds, lines))


def wait_for_log(path, text, p, what):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            if text in f.read():
                return
        if p.poll() is not None:
            raise RuntimeError("%s exited with %d (see %s)" % (what, p.returncode, path))
        time.sleep(0.05)
    raise RuntimeError("%s: no '%s' within %.0f s (see %s)" % (what, text, START_TIMEOUT, path))


def latency_fields(st):
    """Whatever latency figures the viewer's stats carry (the SEI frame stamps): flat
    numbers whose name says latency, or an object of them (e.g. {"p50": .., "p99": ..})."""
    out = {}
    for k, v in st.items():
        if "atency" not in k:
            continue
        if isinstance(v, (int, float)):
            out[k] = v
        elif isinstance(v, dict):
            out.update({"%s.%s" % (k, kk): vv for kk, vv in v.items() if isinstance(vv, (int, float))})
    return out


def decoded_pictures(path):
    """Pictures FFmpeg (python3-av) decodes from the file; None without python3-av."""
    try:
        import av
    except ImportError:
        return None
    n = 0
    try:
        with av.open(path, format="h264") as c:
            for _ in c.decode(video=0):
                n += 1
    except Exception:   # a broken file is reported as what decoded before the error
        pass
    return n


def report(t0, st, out):
    frames = st.get("framesReceived", 0)
    ttff = st.get("timeToFirstFrameMs")
    dur = st.get("durationMs", 0)
    span_s = (dur - (ttff or 0)) / 1000.0
    say(t0, "viewer report (%s):" % out)
    print("  frames received    %d (decodable %d)" % (frames, st.get("framesDecodable", 0)))
    if span_s > 0 and frames:
        print("  frame rate         %.1f fps" % (frames / span_s))
        print("  bitrate            %.0f kbit/s" % (st.get("bytesReceived", 0) * 8 / 1000 / span_s))
    print("  bytes received     %d (%d packets)" % (st.get("bytesReceived", 0), st.get("packetsReceived", 0)))
    print("  packets lost       %d (NACKs sent %d, PLIs sent %d)" % (st.get("packetsLost", 0), st.get("nackSent", 0),
                                                                     st.get("pliSent", 0)))
    print("  time to first frame %s" % ("%.1f ms (offer made -> first frame complete)" % ttff
                                        if ttff is not None else "-"))
    lat = latency_fields(st)
    if lat:
        for k, v in sorted(lat.items()):
            print("  %-18s %s" % (k, v))
    else:
        print("  latency            (no latency field in the viewer's stats)")
    pics = decoded_pictures(out)
    if pics is not None:
        print("  FFmpeg decodes     %d pictures from %s" % (pics, os.path.basename(out)))


def stop(p, sig, seconds=10):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    camrtc, kvs_js = os.environ["CAMRTC_BIN"], os.environ["CAMRTC_KVS_JS"]
    outdir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(outdir, exist_ok=True)
    interactive = os.isatty(0)
    t0 = time.monotonic()
    procs = []

    def start(args, logname, **kw):
        p = subprocess.Popen(args, env=env(), stderr=open(os.path.join(outdir, logname), "w"), **kw)
        procs.append(p)
        return p

    try:
        sig = start([camrtc, "signaling", "--listen", "127.0.0.1:0", "--memory", "--kvs-js", kvs_js],
                    "signaling.log", stdout=subprocess.PIPE)
        lines = read_lines_until(sig, "viewer page:", START_TIMEOUT)
        url = lines[0].split()[-1]
        page = lines[-1].split()[2]
        say(t0, "camrtc signaling is up at %s" % url)

        mlog = os.path.join(outdir, "master.log")
        mstats = os.path.join(outdir, "master-stats.json")
        master = start([camrtc, "master", "--channel", CHANNEL, "--create", "--endpoint", url, "--no-cache",
                        "--source", "testsrc", "--size", "1280x720", "--fps", "30", "--bitrate", "2500",
                        "--stats-json", mstats], "master.log", stdout=subprocess.DEVNULL)
        wait_for_log(mlog, "state connected", master, "camrtc master")
        say(t0, "camrtc master is on channel '%s', streaming the test pattern at 1280x720 30 fps, 2.5 Mbit/s"
            % CHANNEL)

        out = os.path.join(outdir, "viewer.h264")
        vstats = os.path.join(outdir, "viewer-stats.json")
        viewer = start([camrtc, "viewer", "--channel", CHANNEL, "--client-id", "demo-viewer", "--endpoint", url,
                        "--no-cache", "--duration", str(VIEWER_SECONDS), "--out", out, "--stats-json", vstats],
                       "viewer.log", stdout=subprocess.DEVNULL)
        say(t0, "camrtc viewer joined; receiving for %d s" % VIEWER_SECONDS)
        try:
            rc = viewer.wait(timeout=VIEWER_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeError("camrtc viewer did not finish in %.0f s" % VIEWER_TIMEOUT)
        if rc != 0 or not os.path.exists(vstats):
            raise RuntimeError("camrtc viewer exited with %d (see %s)" % (rc, os.path.join(outdir, "viewer.log")))
        with open(vstats) as f:
            st = json.load(f)
        report(t0, st, out)
        print()
        print("Open the viewer page (official KVS WebRTC JS SDK) in a browser on this machine:")
        print("  %s?channel=%s&autojoin=1" % (page, CHANNEL), flush=True)
        if interactive:
            print("The service and the master keep running: Ctrl-C to stop.", flush=True)
            try:
                while master.poll() is None and sig.poll() is None:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
        stop(master, signal.SIGINT)
        stop(sig, signal.SIGTERM)
        say(t0, "stopped; files in %s" % outdir)
        if not st.get("framesReceived"):
            print("demo: FAIL: the viewer received no frame (logs in %s)" % outdir, file=sys.stderr)
            return 1
        return 0
    except RuntimeError as e:
        print("demo: FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        for p in procs:   # whatever happened, nothing is left running
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
