#!/usr/bin/python3
"""camrtc end to end over real sockets: `camrtc signaling` (in memory, 127.0.0.1), a
`camrtc master` streaming the test pattern, and `camrtc viewer`s that offer, receive and
write the frames to an Annex-B file.

Runs:
  one viewer   5 s; the file decodes with python3-av (FFmpeg); every picture carries the
               test pattern's frame id (read with tests/media/roundtrip.py's reader):
               >= 100 pictures, ids strictly increasing; the viewer's stats say
               framesDecodable == framesReceived.
  three viewers at once: each receives and decodes >= 60 pictures; the master's stats
               list the three viewers with packets sent.
  --max-viewers 1: a second viewer is refused: the master answers it with every m= line
               rejected, logs and counts the refusal; the refused viewer stops on that
               answer long before its --duration, exits 3 and says "refused": true in its
               stats and why in its log (check_refused_viewer); the first streams on.
  High:        a `camrtc viewer --h264-profile high` watches a master started with the
               default profile (constrained baseline): the master switches its encoder, the
               file decodes, and every SPS in it says High (profile_idc 100). A second
               viewer offering only constrained baseline meanwhile is refused (as above:
               exit 3, no frames; the master's log names both profiles) and the first
               streams on.
  level:       an offer whose only H.264 is level 1.3 (42e00d, sent through `camrtc viewer
               --stdio`) is answered with its one m= line rejected (port 0, no BUNDLE
               group); the master logs both levels. Then an offer it could serve but for
               the missing a=fingerprint: refused by the peer connection's answer, and
               answered the same way.
  relay only:  through coturn (tests/interop/ice_coturn.py's Coturn), credentials from
               GetIceServerConfig: a relay-to-relay pair, >= 60 pictures, and both sides
               deallocate when they close (skipped without turnserver).

Everything is bounded: each process has a deadline and is killed at the end whatever
happens. Credentials: the local pair `camrtc signaling` accepts (README.md).

Environment: CAMRTC_BIN = the camrtc binary. Verbose: STREAM_VERBOSE=1.
"""
import importlib.util
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VERBOSE = os.environ.get("STREAM_VERBOSE") == "1"
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "CAMRTCLOCALKEY0000000",
    "AWS_SECRET_ACCESS_KEY": "camrtc/local/secret/0000000000000000000000",
    "AWS_REGION": "us-west-2",
}
START_TIMEOUT = 10.0      # seconds for the signaling service to print its URL
VIEWER_SECONDS = 5
PROCESS_TIMEOUT = 30.0    # seconds any one process may take to finish
REFUSED_EXIT = 3          # `camrtc viewer --help`: the master refused this viewer
REFUSED_DURATION = 25     # a refused viewer's --duration: it must end well before, on its own


def log(*a):
    if VERBOSE:
        print(*a, file=sys.stderr, flush=True)


def roundtrip_reader():
    """tests/media/roundtrip.py as a module: read_block and luma_rows."""
    path = os.path.join(HERE, "..", "media", "roundtrip.py")
    spec = importlib.util.spec_from_file_location("camrtc_roundtrip", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def env():
    e = dict(os.environ)
    e.update(LOCAL_ENV)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS_VIDEO"):
        e.pop(k, None)
    e.setdefault("CAMRTC_LOG", "info")
    return e


class Procs:
    """Every process started, killed at the end whatever happened."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        log("start:", " ".join(args))
        p = subprocess.Popen(args, env=env(), **kw)
        self.procs.append(p)
        return p

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def start_signaling(procs, camrtc, tmp, extra=()):
    err = open(os.path.join(tmp, "signaling.log"), "a")
    p = procs.start([camrtc, "signaling", "--listen", "127.0.0.1:0", "--memory", *extra],
                    stdout=subprocess.PIPE, stderr=err)
    deadline = time.monotonic() + START_TIMEOUT
    buf = b""
    while time.monotonic() < deadline and b"\n" not in buf:
        ready, _, _ = select.select([p.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
    first = buf.decode(errors="replace").split("\n", 1)[0]
    url = first.split()[-1] if first else ""
    if not url.startswith("http://127.0.0.1:"):
        raise RuntimeError("signaling did not print its URL: %r" % first)
    return url


def wait_for_log(path, text, p, what):
    """Poll a process's log until text shows (the master has joined), bounded."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        with open(path) as f:
            if text in f.read():
                return
        if p.poll() is not None:
            raise RuntimeError("%s exited with %d before '%s'" % (what, p.returncode, text))
        time.sleep(0.05)
    raise RuntimeError("%s: no '%s' within %.0f s" % (what, text, START_TIMEOUT))


def start_master(procs, camrtc, tmp, url, channel, extra=()):
    stats = os.path.join(tmp, "master-%s.json" % channel)
    logf = os.path.join(tmp, "master-%s.log" % channel)
    err = open(logf, "w")
    p = procs.start([camrtc, "master", "--channel", channel, "--create", "--endpoint", url, "--no-cache",
                     "--source", "testsrc", "--size", "640x360", "--fps", "30", "--bitrate", "1000",
                     "--stats-json", stats, *extra], stdout=subprocess.DEVNULL, stderr=err)
    # Viewers offer as soon as they join: the master must be on the channel first.
    wait_for_log(logf, "state connected", p, "master")
    return p, stats, logf


def start_viewer(procs, camrtc, tmp, url, channel, name, seconds=VIEWER_SECONDS, extra=()):
    out = os.path.join(tmp, "%s.h264" % name)
    stats = os.path.join(tmp, "%s.json" % name)
    err = open(os.path.join(tmp, "%s.log" % name), "w")
    p = procs.start([camrtc, "viewer", "--channel", channel, "--client-id", name, "--endpoint", url,
                     "--no-cache", "--duration", str(seconds), "--out", out, "--stats-json", stats, *extra],
                    stdout=subprocess.DEVNULL, stderr=err)
    return p, out, stats


def wait_exit(p, what):
    try:
        rc = p.wait(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RuntimeError("%s did not finish in %.0f s" % (what, PROCESS_TIMEOUT))
    if rc != 0:
        raise RuntimeError("%s exited with %d" % (what, rc))


def check_refused_viewer(p, stats, what):
    """A `camrtc viewer` the master refuses learns it from the answer (every m= line
    rejected) and stops then, not at its --duration (REFUSED_DURATION): exit status 3,
    "refused": true and no frames in its stats, the reason in its log."""
    try:
        rc = p.wait(timeout=REFUSED_DURATION - 10)
    except subprocess.TimeoutExpired:
        return "%s still runs after %d s (its --duration is %d s): it did not learn of its refusal" % (
            what, REFUSED_DURATION - 10, REFUSED_DURATION)
    if rc != REFUSED_EXIT:
        return "%s exited with %d, want %d (refused by the master)" % (what, rc, REFUSED_EXIT)
    with open(stats) as f:
        st = json.load(f)
    if st.get("refused") is not True or st.get("framesReceived") != 0:
        return "%s stats: refused %r, framesReceived %r" % (what, st.get("refused"), st.get("framesReceived"))
    with open(os.path.join(os.path.dirname(stats), "%s.log" % what)) as f:
        if "the master refused this viewer (all media rejected)" not in f.read():
            return "%s did not log why it stopped" % what
    return None


def rejected_m_lines(sdp):
    """None when every m= line of an answer has port 0 and there is no BUNDLE group, else why not."""
    lines = sdp.replace("\r\n", "\n").split("\n")
    m = [ln for ln in lines if ln.startswith("m=")]
    if not m:
        return "no m= line"
    if any(ln.split()[1] != "0" for ln in m):
        return "m= lines not all rejected: %s" % m
    if any(ln.startswith("a=group:BUNDLE") for ln in lines):
        return "a BUNDLE group in an answer that rejects everything"
    return None


def decode_ids(av, rt, path):
    """The frame ids of every decoded picture (None where the block does not read)."""
    ids = []
    with av.open(path, format="h264") as c:
        for frame in c.decode(video=0):
            block = rt.read_block(rt.luma_rows(frame.reformat(format="yuv420p")))
            ids.append(block[0] if block else None)
    return ids


def check_viewer(av, rt, out, stats, min_frames):
    ids = decode_ids(av, rt, out)
    if len(ids) < min_frames:
        return "%s: %d pictures decoded, want >= %d" % (out, len(ids), min_frames)
    if any(i is None for i in ids):
        return "%s: %d pictures without a readable frame id" % (out, sum(i is None for i in ids))
    if any(b <= a for a, b in zip(ids, ids[1:])):
        return "%s: frame ids not strictly increasing: %s" % (out, ids[:20])
    with open(stats) as f:
        st = json.load(f)
    for k in ("framesReceived", "framesDecodable", "packetsLost", "nackSent", "pliSent", "bytesReceived",
              "timeToFirstFrameMs"):
        if k not in st:
            return "%s: no %s" % (stats, k)
    if st.get("refused") is not False:
        return "%s: refused %r, want false" % (stats, st.get("refused"))
    if st["framesDecodable"] != st["framesReceived"]:
        return "%s: framesDecodable %d != framesReceived %d" % (stats, st["framesDecodable"], st["framesReceived"])
    if st["framesReceived"] < min_frames:
        return "%s: framesReceived %d" % (stats, st["framesReceived"])
    # Capture → frame complete, from the encoder's SEI stamps (master and viewer share this
    # machine's clock): one sample per frame, positive, below a second on loopback.
    if st.get("latencySamples", 0) < min_frames:
        return "%s: latencySamples %s" % (stats, st.get("latencySamples"))
    if not (0 < st["latencyP50Ms"] <= st["latencyP99Ms"] < 1000):
        return "%s: latency p50 %s p99 %s ms" % (stats, st["latencyP50Ms"], st["latencyP99Ms"])
    log("%s: %d pictures, ids %d..%d, first frame after %s ms, latency p50 %.1f p99 %.1f ms" % (
        out, len(ids), ids[0], ids[-1], st["timeToFirstFrameMs"], st["latencyP50Ms"], st["latencyP99Ms"]))
    return None


def stop_master(p, stats, want_viewers):
    p.send_signal(signal.SIGINT)
    wait_exit(p, "master")
    with open(stats) as f:
        st = json.load(f)
    viewers = st.get("viewers", [])
    if len(viewers) < want_viewers:
        return "master stats list %d viewers, want %d" % (len(viewers), want_viewers)
    for v in viewers:
        out = v.get("outbound-rtp", {})
        if out.get("packetsSent", 0) <= 0 or "roundTripTime" not in v.get("remote-inbound-rtp", {}):
            return "master stats for %s: %s" % (v.get("clientId"), v)
    return None


def run_one(av, rt, camrtc, tmp, url):
    master, mstats, _ = start_master(PROCS, camrtc, tmp, url, "one")
    viewer, out, vstats = start_viewer(PROCS, camrtc, tmp, url, "one", "viewer-1")
    wait_exit(viewer, "viewer-1")
    err = check_viewer(av, rt, out, vstats, 100)
    return err or stop_master(master, mstats, 1)


def run_three(av, rt, camrtc, tmp, url):
    master, mstats, _ = start_master(PROCS, camrtc, tmp, url, "three")
    viewers = [start_viewer(PROCS, camrtc, tmp, url, "three", "viewer-%d" % i) for i in range(3)]
    for i, (p, _, _) in enumerate(viewers):
        wait_exit(p, "viewer-%d" % i)
    for _, out, vstats in viewers:
        err = check_viewer(av, rt, out, vstats, 60)
        if err:
            return err
    return stop_master(master, mstats, 3)


def run_refused(av, rt, camrtc, tmp, url):
    """--max-viewers 1: the second viewer is refused and stops at once; the first streams."""
    master, mstats, mlog = start_master(PROCS, camrtc, tmp, url, "full", ("--max-viewers", "1"))
    first = start_viewer(PROCS, camrtc, tmp, url, "full", "viewer-a", 4)
    wait_for_log(mlog, "viewer-a: offer taken", master, "master")
    second = start_viewer(PROCS, camrtc, tmp, url, "full", "viewer-b", REFUSED_DURATION)
    err = check_refused_viewer(second[0], second[2], "viewer-b")
    if err:
        return err
    wait_exit(first[0], "viewer-a")
    err = check_viewer(av, rt, first[1], first[2], 60)
    if err:
        return err
    with open(mlog) as f:
        if "refusing viewer viewer-b" not in f.read():
            return "the master did not log the refusal"
    err = stop_master(master, mstats, 1)
    with open(mstats) as f:
        refused = json.load(f).get("viewersRefused", 0)
    return err or (None if refused == 1 else "viewersRefused %d, want 1" % refused)


def sps_profiles(path):
    """profile_idc of every SPS (NAL type 7) in an Annex-B file."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0 and i + 4 < len(data):
        if data[i + 3] & 0x1F == 7:
            out.append(data[i + 4])
        i = data.find(b"\x00\x00\x01", i + 3)
    return out


def run_high_switch(av, rt, camrtc, tmp, url):
    """The master starts on constrained baseline; a viewer that offers only High makes it
    switch; a second viewer that offers only constrained baseline is then refused, and the
    first one streams on."""
    master, mstats, mlog = start_master(PROCS, camrtc, tmp, url, "high")
    first = start_viewer(PROCS, camrtc, tmp, url, "high", "viewer-high", 6, ("--h264-profile", "high"))
    wait_for_log(mlog, "viewer-high: connected", master, "master")
    second = start_viewer(PROCS, camrtc, tmp, url, "high", "viewer-cb", REFUSED_DURATION,
                          ("--h264-profile", "constrained-baseline"))
    err = check_refused_viewer(second[0], second[2], "viewer-cb")
    if err:
        return err
    wait_exit(first[0], "viewer-high")
    err = check_viewer(av, rt, first[1], first[2], 100)
    if err:
        return err
    profiles = sps_profiles(first[1])
    if not profiles or any(p != 100 for p in profiles):
        return "%s: SPS profile_idc %s, want only 100 (High)" % (first[1], profiles[:10])
    with av.open(first[1], format="h264") as c:
        if c.streams.video[0].codec_context.profile != "High":
            return "FFmpeg reads profile %r" % c.streams.video[0].codec_context.profile
    with open(mlog) as f:
        text = f.read()
    if "switching the encoder from constrained-baseline to high" not in text:
        return "the master did not log the switch"
    if "refusing viewer viewer-cb" not in text or "makes high for 1 other viewer" not in text:
        return "the master did not log why viewer-cb is refused"
    err = stop_master(master, mstats, 1)
    with open(mstats) as f:
        ms = json.load(f)
    refused = ms.get("viewersRefused", 0)
    log("viewer-high: SPS profile_idc %s (x%d)" % (profiles[0], len(profiles)))
    if err:
        return err
    if refused != 1:
        return "viewersRefused %d, want 1" % refused
    if ms.get("h264Profile") != "high" or ms.get("profileChanges") != 1:
        return "master stats: h264Profile %r profileChanges %r, want 'high' and 1" % (
            ms.get("h264Profile"), ms.get("profileChanges"))
    return None


# An offer a browser could make whose only H.264 is level 1.3 (42e00d): the master's
# 640x360 at 30 fps needs level 3.1, so it must refuse (an answer rejecting the m= line),
# not answer with a level the stream breaks.
LOW_LEVEL_OFFER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
    "m=video 9 UDP/TLS/RTP/SAVPF 102", "c=IN IP4 0.0.0.0", "a=mid:0",
    "a=ice-ufrag:loLvl", "a=ice-pwd:abcdefghijklmnopqrstuvwx", "a=ice-options:trickle",
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32), "a=setup:actpass", "a=rtcp-mux", "a=recvonly",
    "a=rtpmap:102 H264/90000", "a=rtcp-fb:102 nack", "a=rtcp-fb:102 nack pli",
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e00d", ""])
# Level 3.1, but no a=fingerprint: the H.264 plan takes it, the peer connection's answer
# does not (RFC 8829 §5.8), so this refusal comes after a pc was made for it.
NO_FINGERPRINT_OFFER = "\r\n".join(
    ln for ln in LOW_LEVEL_OFFER.replace("profile-level-id=42e00d", "profile-level-id=42e01f").split("\r\n")
    if not ln.startswith("a=fingerprint:"))


def run_level_refused(av, rt, camrtc, tmp, url):
    """A viewer (driven through `camrtc viewer --stdio`) whose offer's level is too low for
    the stream gets an answer that rejects its one m= line, and the master names both
    levels; then one without a=fingerprint, refused once its pc tried to answer, the same."""
    master, mstats, mlog = start_master(PROCS, camrtc, tmp, url, "prof")
    err = open(os.path.join(tmp, "viewer-h.log"), "w")
    v = PROCS.start([camrtc, "viewer", "--channel", "prof", "--client-id", "viewer-h", "--endpoint", url,
                     "--no-cache", "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    events = []

    def read_until(pred, seconds):
        deadline = time.monotonic() + seconds
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([v.stdout], [], [], 0.1)
            if not ready:
                continue
            chunk = os.read(v.stdout.fileno(), 65536)
            if not chunk:
                return False
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                ev = json.loads(line)
                events.append(ev)
                if pred(ev):
                    return True
        return False

    if not read_until(lambda e: e.get("event") == "state" and e.get("state") == "connected", START_TIMEOUT):
        return "the --stdio viewer did not connect"
    is_answer = lambda e: e.get("event") == "message" and e.get("type") == "SDP_ANSWER"  # noqa: E731
    answers = []
    for offer in (LOW_LEVEL_OFFER, NO_FINGERPRINT_OFFER):
        cmd = {"send": "SDP_OFFER", "payload": {"type": "offer", "sdp": offer}}
        v.stdin.write((json.dumps(cmd) + "\n").encode())
        v.stdin.flush()
        if not read_until(is_answer, START_TIMEOUT):
            break
        answers.append(events[-1]["payload"])
    v.stdin.write(b'{"stop":true}\n')
    v.stdin.flush()
    wait_exit(v, "viewer-h")
    if len(answers) < 2:
        return "no answer to offer %d, which the master refuses" % (len(answers) + 1)
    for answer in answers:
        err = rejected_m_lines(answer.get("sdp", ""))
        if answer.get("type") != "answer" or err:
            return "the refusal is not an answer rejecting the offer: %s" % (err or answer.get("type"))
        if "m=video 0 UDP/TLS/RTP/SAVPF 102\r\n" not in answer["sdp"] or "a=mid:0\r\n" not in answer["sdp"]:
            return "the rejected m= line does not mirror the offer's: %r" % answer["sdp"]
    with open(mlog) as f:
        text = f.read()
    if "highest H.264 level is 1.3" not in text or "below level 3.1 that 640x360 at 30 fps needs" not in text:
        return "the master did not name both levels"
    if "no sha-256 fingerprint" not in text:
        return "the master did not say why the offer without a fingerprint is refused"
    master.send_signal(signal.SIGINT)
    wait_exit(master, "master")
    with open(mstats) as f:
        refused = json.load(f).get("viewersRefused", 0)
    return None if refused == 2 else "viewersRefused %d, want 2" % refused


def run_relay(av, rt, camrtc, tmp, url):
    """Relay only through coturn: `camrtc signaling` hands out coturn's URL with
    time-limited credentials (GetIceServerConfig), master and viewer use nothing else;
    the selected pair is relay to relay, and both deallocate (Refresh lifetime 0) when
    they close. url is unused: this run needs a signaling service that knows coturn."""
    if not shutil.which("turnserver"):
        return "SKIP: turnserver is not installed"
    sys.path.insert(0, HERE)
    from ice_coturn import Coturn
    secret = "stream-secret"
    turn = Coturn(secret=secret)
    try:
        turl = "turn:127.0.0.1:%d?transport=udp" % turn.port
        surl = start_signaling(PROCS, camrtc, tmp, ("--turn-url", turl, "--turn-secret", secret))
        master, mstats, _ = start_master(PROCS, camrtc, tmp, surl, "relay", ("--relay-only",))
        viewer, out, vstats = start_viewer(PROCS, camrtc, tmp, surl, "relay", "viewer-r", 4, ("--relay-only",))
        wait_exit(viewer, "viewer-r")
        err = check_viewer(av, rt, out, vstats, 60)
        if err:
            return err
        err = stop_master(master, mstats, 1)
        if err:
            return err
        with open(mstats) as f:
            pair = json.load(f)["viewers"][0]["candidate-pair"]
        if "typ relay" not in pair["localCandidate"] or "typ relay" not in pair["remoteCandidate"]:
            return "not a relay pair: %s" % pair
        dealloc = turn.deallocations()
        if len(dealloc) < 2:
            return "coturn saw %d deallocations, want 2 (master and viewer)" % len(dealloc)
        return None
    finally:
        turn.stop()


PROCS = Procs()


def main():
    camrtc = os.environ.get("CAMRTC_BIN")
    if not camrtc:
        print("stream_camrtc: set CAMRTC_BIN", file=sys.stderr)
        return 2
    try:
        import av
    except ImportError:
        print("stream_camrtc: python3-av is not installed", file=sys.stderr)
        return 1
    rt = roundtrip_reader()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        try:
            try:
                url = start_signaling(PROCS, camrtc, tmp)
            except RuntimeError as e:
                print("FAIL signaling: %s" % e, flush=True)
                return 1
            log("signaling at", url)
            for name, run in (("one viewer", run_one), ("three viewers", run_three),
                              ("the viewer past --max-viewers is refused", run_refused),
                              ("a High viewer switches the encoder; a baseline one is then refused",
                               run_high_switch),
                              ("a viewer offering too low a level is refused", run_level_refused),
                              ("relay only through coturn", run_relay)):
                try:
                    err = run(av, rt, camrtc, tmp, url)
                except RuntimeError as e:
                    err = str(e)
                skipped = bool(err) and err.startswith("SKIP")
                print("%s %s%s" % ("skip" if skipped else "FAIL" if err else "ok  ", name,
                                   ": " + err if err else ""), flush=True)
                failed += bool(err) and not skipped
                if err and VERBOSE:
                    for f in sorted(os.listdir(tmp)):
                        if f.endswith(".log"):
                            with open(os.path.join(tmp, f)) as fh:
                                print("--- %s\n%s" % (f, fh.read()[-3000:]), file=sys.stderr)
        finally:
            PROCS.kill_all()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
