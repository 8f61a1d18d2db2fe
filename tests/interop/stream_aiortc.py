#!/usr/bin/python3
"""aiortc (python3-aiortc) against camrtc through `camrtc signaling`, both ways.

Runs:
  aiortc viewer  recvonly H.264 offer through our service (tests/interop/kvs_py.py) to
                 `camrtc master --source testsrc`; >= 60 pictures decoded by aiortc
                 (track.recv()), each carrying the test pattern's frame id (read with
                 tests/media/roundtrip.py's reader), ids strictly increasing.
  aiortc master  answers `camrtc viewer`'s offer and sends H.264 (aiortc's libx264) of a
                 pattern drawn here with the test pattern's 64-cell id block; the viewer's
                 file decodes with python3-av: >= 60 pictures, ids strictly increasing,
                 framesDecodable == framesReceived in its stats. aiortc answers
                 a=setup:active, so our viewer is the DTLS server and OpenSSL's fragmented
                 ClientHello is put back together for mbedtls (src/dtls). AIORTC_PASSIVE=1
                 rewrites the answer to a=setup:passive to try the other role.
  aiortc refused `camrtc master --max-viewers 1` with a `camrtc viewer` on it answers an
                 aiortc viewer with every m= line rejected: aiortc's setRemoteDescription takes
                 it without error (its transceiver is then inactive, no track), and the
                 master counts the refusal.
  10 viewers     headless Chromium, AIORTC_VIEWERS (default 3) aiortc viewers and 6 `camrtc
                 viewer`s on one master (default limit 10), through a service started with
                 --max-viewers 11: every one receives frames (Chromium: framesDecoded >= 30,
                 video/H264, frame ids read from the picture; aiortc >= 30 pictures with
                 increasing ids; camrtc >= 30 pictures, all decodable); an 11th `camrtc viewer`, started
                 while the ten hold their places, is answered with every m= line rejected and
                 stops at once (exit 3, "refused": true, no frames: stream_camrtc's
                 check_refused_viewer), and the master logs and counts the refusal
                 (viewersRefused 1). Chromium needs a
                 loopback-only network namespace: this run re-executes the script inside one
                 (see run_ten_with_chromium); without Chromium, playwright-core or the right
                 to make a namespace it runs without Chromium (7 camrtc viewers) and says so.

aiortc stays on loopback (../../shared/PEERS.md): host addresses patched to 127.0.0.1,
no STUN server. Each step has a timeout, the whole script an alarm at 110 s; every process
started is killed on every exit path and the script ends with os._exit (aiortc's codec
threads can outlive an exception).

Environment: CAMRTC_BIN = the camrtc binary. Verbose: STREAM_VERBOSE=1.
"""
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stream_camrtc as sc  # noqa: E402  (process handling and checks shared with the camrtc-only run)
import kvs_py  # noqa: E402

TOTAL_SECONDS = 110
STEP_SECONDS = 30
MIN_FRAMES = 60
PASSIVE = os.environ.get("AIORTC_PASSIVE") == "1"
ONLY = os.environ.get("STREAM_ONLY", "").split()   # debugging: run only the runs whose name starts with these words
log = sc.log


def patch_aioice_loopback():
    """aioice gathers every interface but loopback; the test keeps to 127.0.0.1."""
    import aioice.ice
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def rtc_config():
    from aiortc import RTCConfiguration
    return RTCConfiguration(iceServers=[])   # None would reach for a public STUN server


async def add_candidate(pc, payload):
    """An ICE_CANDIDATE payload ({"candidate": "candidate:...", "sdpMid", "sdpMLineIndex"})."""
    from aiortc.sdp import candidate_from_sdp
    line = payload.get("candidate") or ""
    if not line:
        return   # end of candidates
    c = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
    c.sdpMid = payload.get("sdpMid")
    c.sdpMLineIndex = payload.get("sdpMLineIndex")
    await pc.addIceCandidate(c)


# ---------------------------------------------------------------- aiortc as viewer

async def aiortc_viewer(rt, creds, url, channel, client_id, min_frames, seconds=STEP_SECONDS, hold=None):
    """Offer recvonly H.264, apply the answer and the master's candidates, decode min_frames
    pictures. Returns their frame ids (None where the block does not read). With hold (an
    asyncio.Event), the connection stays open (still receiving) until it is set."""
    from aiortc import RTCPeerConnection, RTCRtpReceiver
    sig = await kvs_py.Signaling.open(creds, url, channel, client_id)
    pc = RTCPeerConnection(rtc_config())
    try:
        tr = pc.addTransceiver("video", direction="recvonly")
        tr.setCodecPreferences([c for c in RTCRtpReceiver.getCapabilities("video").codecs
                                if c.mimeType in ("video/H264", "video/rtx")])
        got_track = asyncio.get_running_loop().create_future()
        pc.on("track", lambda t: got_track.done() or got_track.set_result(t))
        await pc.setLocalDescription(await pc.createOffer())   # gathers: all candidates in the SDP
        await sig.send("SDP_OFFER", {"type": "offer", "sdp": pc.localDescription.sdp})

        async def signaling_in():
            early = []
            while True:
                m = await sig.recv()
                if m is None:
                    return
                kind, _, payload = m
                if kind == "SDP_ANSWER":
                    from aiortc import RTCSessionDescription
                    await pc.setRemoteDescription(RTCSessionDescription(payload["sdp"], "answer"))
                    for p in early:
                        await add_candidate(pc, p)
                    early = None
                elif kind == "ICE_CANDIDATE":
                    if early is None:
                        await add_candidate(pc, payload)
                    else:
                        early.append(payload)

        reader = asyncio.ensure_future(signaling_in())
        try:
            track = await asyncio.wait_for(got_track, seconds)
            ids = []
            deadline = time.monotonic() + seconds
            while len(ids) < min_frames:
                frame = await asyncio.wait_for(track.recv(), max(0.1, deadline - time.monotonic()))
                block = rt.read_block(rt.luma_rows(frame.reformat(format="yuv420p")))
                ids.append(block[0] if block else None)
            while hold is not None and not hold.is_set():
                await asyncio.wait_for(track.recv(), max(0.1, deadline - time.monotonic()))
            return ids
        finally:
            reader.cancel()
    finally:
        await pc.close()
        sig.close()


async def aiortc_refused(creds, url, channel, client_id):
    """Offer as aiortc_viewer does and apply the answer, which the master makes refusing us.
    Returns the answer's SDP and the transceiver's currentDirection after it is applied
    (setRemoteDescription raising fails the run)."""
    from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription

    def quiet(loop, ctx):
        # aiortc 1.4 starts ICE on a rejected section too (it does not look at the port);
        # closing the pc under that task leaves its error unretrieved: expected here.
        if "__connect" not in repr(ctx.get("future")):
            loop.default_exception_handler(ctx)
    asyncio.get_running_loop().set_exception_handler(quiet)
    sig = await kvs_py.Signaling.open(creds, url, channel, client_id)
    pc = RTCPeerConnection(rtc_config())
    try:
        tr = pc.addTransceiver("video", direction="recvonly")
        tr.setCodecPreferences([c for c in RTCRtpReceiver.getCapabilities("video").codecs
                                if c.mimeType in ("video/H264", "video/rtx")])
        await pc.setLocalDescription(await pc.createOffer())
        await sig.send("SDP_OFFER", {"type": "offer", "sdp": pc.localDescription.sdp})
        while True:
            m = await sig.recv()
            if m is None:
                raise RuntimeError("signaling closed before an answer")
            if m[0] == "SDP_ANSWER":
                sdp = m[2]["sdp"]
                await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
                return sdp, tr.currentDirection
    finally:
        await pc.close()
        sig.close()


def run_aiortc_refused(rt, creds, camrtc, tmp, url):
    master, mstats, mlog = sc.start_master(sc.PROCS, camrtc, tmp, url, "aio-r", ("--max-viewers", "1"))
    first = sc.start_viewer(sc.PROCS, camrtc, tmp, url, "aio-r", "viewer-r1", 4)
    sc.wait_for_log(mlog, "viewer-r1: offer taken", master, "master")
    try:
        sdp, direction = asyncio.run(asyncio.wait_for(aiortc_refused(creds, url, "aio-r", "aiortc-r"), STEP_SECONDS))
    except asyncio.TimeoutError:
        return "aiortc viewer: no answer within %d s" % STEP_SECONDS
    err = sc.rejected_m_lines(sdp)
    if err:
        return "the answer to aiortc: %s" % err
    if direction != "inactive":
        return "aiortc's transceiver is %r after the refusal, want 'inactive'" % direction
    sc.wait_exit(first[0], "viewer-r1")
    master.send_signal(signal.SIGINT)
    sc.wait_exit(master, "master")
    with open(mstats) as f:
        refused = json.load(f).get("viewersRefused")
    with open(mlog) as f:
        logged = "refusing viewer aiortc-r" in f.read()
    return None if refused == 1 and logged else "viewersRefused %s, refusal logged %s" % (refused, logged)


def check_ids(what, ids, min_frames):
    if len(ids) < min_frames:
        return "%s: %d pictures, want >= %d" % (what, len(ids), min_frames)
    bad = sum(i is None for i in ids)
    if bad:
        return "%s: %d of %d pictures without a readable frame id" % (what, bad, len(ids))
    if any(b <= a for a, b in zip(ids, ids[1:])):
        return "%s: frame ids not strictly increasing: %s" % (what, ids[:20])
    log("%s: %d pictures, ids %d..%d" % (what, len(ids), ids[0], ids[-1]))
    return None


def run_aiortc_viewer(rt, creds, camrtc, tmp, url):
    master, mstats, _ = sc.start_master(sc.PROCS, camrtc, tmp, url, "aio-v")
    try:
        ids = asyncio.run(asyncio.wait_for(
            aiortc_viewer(rt, creds, url, "aio-v", "aiortc-1", MIN_FRAMES), STEP_SECONDS))
    except asyncio.TimeoutError:
        return "aiortc viewer: no %d pictures within %d s" % (MIN_FRAMES, STEP_SECONDS)
    err = check_ids("aiortc viewer", ids, MIN_FRAMES)
    return err or sc.stop_master(master, mstats, 1)


# ---------------------------------------------------------------- aiortc as master

def draw_pattern(n, width=640, height=360):
    """A yuv420p picture: grey with a moving bar, and at the top left the test pattern's id
    block (8x8 cells of 16 px, MSB first: frame id 32 bits, ms 24 bits, CRC-8; light = 1),
    the layout roundtrip.py reads."""
    import av
    import numpy as np
    rt = sc.roundtrip_reader()
    y = np.full((height, width), 128, dtype=np.uint8)
    x = (n * 8) % (width - 32)
    y[160:, x:x + 32] = 220
    ms = (n * 33) & 0xFFFFFF
    head = (n & 0xFFFFFFFF).to_bytes(4, "big") + ms.to_bytes(3, "big")
    word = (int.from_bytes(head, "big") << 8) | rt.crc8(head)
    for i in range(64):
        bit = (word >> (63 - i)) & 1
        r, c = divmod(i, rt.PER_ROW)
        y[r * rt.CELL:(r + 1) * rt.CELL, c * rt.CELL:(c + 1) * rt.CELL] = 235 if bit else 16
    uv = np.full((height // 2, width), 128, dtype=np.uint8)   # U then V planes, w/2 x h/2 each
    return av.VideoFrame.from_ndarray(np.vstack([y, uv]), format="yuv420p")


def pattern_track():
    from aiortc import VideoStreamTrack

    class PatternTrack(VideoStreamTrack):
        def __init__(self):
            super().__init__()
            self.n = 0

        async def recv(self):
            pts, time_base = await self.next_timestamp()   # paced at 30 fps
            frame = draw_pattern(self.n)
            self.n += 1
            frame.pts, frame.time_base = pts, time_base
            return frame

    return PatternTrack()


async def aiortc_master(creds, url, channel, ready, stop):
    """Join as master; answer each offer with a peer connection sending the pattern.
    ready: set once connected. Runs until stop is set."""
    from aiortc import RTCPeerConnection, RTCSessionDescription
    sig = await kvs_py.Signaling.open(creds, url, channel, None, create=True)
    ready.set()
    pcs, early = {}, {}
    try:
        async def serve():
            while True:
                m = await sig.recv()
                if m is None:
                    return
                kind, sender, payload = m
                if kind == "SDP_OFFER":
                    pc = RTCPeerConnection(rtc_config())
                    pc.addTrack(pattern_track())
                    await pc.setRemoteDescription(RTCSessionDescription(payload["sdp"], "offer"))
                    for p in early.pop(sender, []):
                        await add_candidate(pc, p)
                    answer = await pc.createAnswer()
                    if PASSIVE:
                        answer.sdp = answer.sdp.replace("a=setup:active", "a=setup:passive")
                    await pc.setLocalDescription(answer)
                    pcs[sender] = pc
                    await sig.send("SDP_ANSWER", {"type": "answer", "sdp": pc.localDescription.sdp}, to=sender)
                elif kind == "ICE_CANDIDATE":
                    if sender in pcs:
                        await add_candidate(pcs[sender], payload)
                    else:
                        early.setdefault(sender, []).append(payload)

        task = asyncio.ensure_future(serve())
        await stop.wait()
        task.cancel()
    finally:
        for pc in pcs.values():
            await pc.close()
        sig.close()


def run_aiortc_master(rt, creds, camrtc, tmp, url):
    import av

    async def go():
        ready, stop = asyncio.Event(), asyncio.Event()
        master = asyncio.ensure_future(aiortc_master(creds, url, "aio-m", ready, stop))
        await asyncio.wait_for(ready.wait(), 10)
        viewer, out, vstats = sc.start_viewer(sc.PROCS, camrtc, tmp, url, "aio-m", "viewer-aio")
        deadline = time.monotonic() + STEP_SECONDS
        while viewer.poll() is None and time.monotonic() < deadline and not master.done():
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(master, 5)
        return viewer, out, vstats

    viewer, out, vstats = asyncio.run(asyncio.wait_for(go(), STEP_SECONDS + 20))
    sc.wait_exit(viewer, "viewer-aio")
    # Not sc.check_viewer: aiortc's stream has no capture-time SEI, so no latency figures.
    err = check_ids(out, sc.decode_ids(av, rt, out), MIN_FRAMES)
    if err:
        return err
    with open(vstats) as f:
        st = json.load(f)
    if st.get("framesReceived", 0) < MIN_FRAMES or st.get("framesDecodable") != st["framesReceived"]:
        return "%s: framesReceived %s, framesDecodable %s" % (vstats, st.get("framesReceived"),
                                                             st.get("framesDecodable"))
    return None


# ---------------------------------------------------------------- ten viewers

CHROMIUM = "/usr/bin/chromium"
KVS_JS = os.path.join(HERE, "node_modules", "amazon-kinesis-video-streams-webrtc", "dist", "kvs-webrtc.js")
# Headless Chromium on the viewer page `camrtc signaling` serves at / (launch as in
# browser_view.mjs): prints "FRAMES <stats>" once framesDecoded >= MIN, keeps receiving until
# the file RELEASE exists (or 40 s), then "FINAL <stats>".
CHROMIUM_JS = r'''
import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { createRequire } from 'node:module';
const { chromium } = createRequire(process.cwd() + '/')('playwright-core');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'camrtc-chromium-'));
const args = ['--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--no-sandbox', '--disable-gpu',
  '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const browser = await chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM, headless: true, timeout: 20000, args });
try {
  const page = await browser.newPage();
  await page.goto(process.env.PAGE_URL, { waitUntil: 'load', timeout: 10000 });
  const stats = () => page.evaluate(() => JSON.parse(JSON.stringify(window.camrtcStats || {})));
  let s = {}, said = false;
  for (const end = Date.now() + 40000; Date.now() < end && !fs.existsSync(process.env.RELEASE);) {
    s = await stats();
    if (!said && s.framesDecoded >= Number(process.env.MIN)) { console.log('FRAMES ' + JSON.stringify(s)); said = true; }
    await sleep(200);
  }
  console.log('FINAL ' + JSON.stringify(await stats()));
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(0);
'''


def chromium_reason():
    """Why Chromium cannot join the ten here, or None."""
    if not os.path.exists(CHROMIUM):
        return CHROMIUM + " is missing"
    if not os.path.exists(os.path.join(HERE, "node_modules", "playwright-core")) or not os.path.exists(KVS_JS):
        return "tests/interop/node_modules lacks playwright-core or the KVS SDK (npm ci)"
    if not shutil.which("node") or not shutil.which("ip"):
        return "node or ip (iproute2) is missing"
    return None


def start_chromium(tmp, url, channel, min_frames):
    release = os.path.join(tmp, "chromium.release")
    out = os.path.join(tmp, "chromium.out")
    e = {"CHROMIUM": CHROMIUM, "RELEASE": release, "MIN": str(min_frames),
         "PAGE_URL": "%s/?channel=%s&clientId=chromium-1&autojoin=1" % (url, channel)}
    e.update(sc.env())
    p = subprocess.Popen(["node", "--input-type=module", "-e", CHROMIUM_JS], cwd=HERE, env=e,
                         stdout=open(out, "w"), stderr=open(os.path.join(tmp, "chromium.log"), "w"))
    sc.PROCS.procs.append(p)   # killed with the rest on every exit path
    return p, out, release


def chromium_lines(out, tag):
    with open(out) as f:
        for line in f:
            if line.startswith(tag + " "):
                return json.loads(line[len(tag) + 1:])
    return None


def run_ten(rt, creds, camrtc, tmp, url):
    import av
    n_aio = int(os.environ.get("AIORTC_VIEWERS", "3"))
    with_chromium = os.environ.get("STREAM_CHROMIUM") == "1"
    # The service itself refuses an 11th viewer (the KVS quota, kvs_js_signaling.mjs checks
    # it): a service that lets 11 in, so the refusal tested here is the master's (default 10).
    extra = ("--max-viewers", "11") + (("--kvs-js", KVS_JS) if with_chromium else ())
    url = sc.start_signaling(sc.PROCS, camrtc, tmp, extra)
    master, mstats, mlog = sc.start_master(sc.PROCS, camrtc, tmp, url, "ten")
    chrome = start_chromium(tmp, url, "ten", 30) if with_chromium else None
    if chrome:
        # The page's SDK does not retry a refused connection (the service takes 3 per second
        # per channel): Chromium joins first, the others (which retry) after its offer.
        deadline = time.monotonic() + 20
        while chrome[0].poll() is None and time.monotonic() < deadline:
            with open(mlog) as f:
                if "chromium-1: offer taken" in f.read():
                    break
            time.sleep(0.1)
        else:
            return "Chromium's offer did not reach the master within 20 s (node exited: %s)" % chrome[0].poll()
    # Long enough to outlast the 11th (started once the ten have offered, up to ~4 s at the
    # service's 3 connections/s): the ten hold their places while it is refused.
    n_cam = 10 - n_aio - (1 if chrome else 0)
    cams = [sc.start_viewer(sc.PROCS, camrtc, tmp, url, "ten", "ten-%d" % i, 12 if chrome else 10)
            for i in range(n_cam)]

    async def go():
        hold = asyncio.Event()
        aio = asyncio.ensure_future(asyncio.gather(*[asyncio.wait_for(
            aiortc_viewer(rt, creds, url, "ten", "ten-aio-%d" % i, 30, hold=hold), STEP_SECONDS)
            for i in range(n_aio)], return_exceptions=True))
        # The ten have all offered once the master took ten offers; then the 11th.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(mlog) as f:
                if f.read().count(": offer taken") >= 10:
                    break
            await asyncio.sleep(0.1)
        eleventh = sc.start_viewer(sc.PROCS, camrtc, tmp, url, "ten", "ten-11th", sc.REFUSED_DURATION)
        while eleventh[0].poll() is None and time.monotonic() < deadline + 10:
            await asyncio.sleep(0.1)
        hold.set()
        if chrome:
            while chrome[0].poll() is None and chromium_lines(chrome[1], "FRAMES") is None \
                    and time.monotonic() < deadline + 15:
                await asyncio.sleep(0.1)
            open(chrome[2], "w").close()
        return await aio, eleventh

    results, eleventh = asyncio.run(go())
    for i, r in enumerate(results):
        if isinstance(r, BaseException):
            return "aiortc viewer %d: %r" % (i, r)
        err = check_ids("aiortc viewer %d" % i, r, 30)
        if err:
            return err
    for i, (p, out, vstats) in enumerate(cams):
        sc.wait_exit(p, "ten-%d" % i)
        err = sc.check_viewer(av, rt, out, vstats, 30)
        if err:
            return err
    if chrome:
        sc.wait_exit(chrome[0], "chromium")
        final = chromium_lines(chrome[1], "FINAL") or {}
        if chromium_lines(chrome[1], "FRAMES") is None:
            return "Chromium: framesDecoded %s, want >= 30" % final.get("framesDecoded")
        if final.get("codec") != "video/H264" or not final.get("framesRead"):
            # framesRead: pictures whose test-pattern frame id the page read (browser_view.mjs)
            return "Chromium: codec %s, %s frame ids read" % (final.get("codec"), final.get("framesRead"))
        log("Chromium: %s" % final)
    err = sc.check_refused_viewer(eleventh[0], eleventh[2], "ten-11th")
    if err:
        return err
    with open(mlog) as f:
        if "refusing viewer ten-11th" not in f.read():
            return "the master did not log refusing the 11th viewer"
    master.send_signal(signal.SIGINT)
    sc.wait_exit(master, "master")
    with open(mstats) as f:
        st = json.load(f)
    if st.get("viewersRefused") != 1:
        return "viewersRefused %s, want 1" % st.get("viewersRefused")
    return None


NETNS_ADDR = "10.254.78.1/24"
INNER_SECONDS = 75


def run_ten_with_chromium(rt, creds, camrtc, tmp, url):
    """The ten viewers with Chromium among them. Chromium gathers loopback candidates only in
    a loopback-only network namespace (../../shared/PEERS.md), so this script runs the ten
    there; while `camrtc master` has no loopback-candidate option the namespace also gets
    NETNS_ADDR on a veth pair whose two ends stay inside it (as browser_view.mjs does).
    Without Chromium or the rights to make a namespace: the ten without Chromium, said so."""
    if os.environ.get("STREAM_NETNS"):
        return run_ten(rt, creds, camrtc, tmp, url)
    why = chromium_reason()
    ns = "camrtc-a%d" % os.getpid()
    if why is None:
        r = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
        if r.returncode != 0:
            why = "cannot create a network namespace: %s" % r.stderr.strip()
    if why:
        print("# no Chromium among the ten: %s" % why, flush=True)
        return run_ten(rt, creds, camrtc, tmp, url)
    try:
        for cmd in (["link", "set", "lo", "up"],
                    ["link", "add", "camrtc0", "type", "veth", "peer", "name", "camrtc1"],
                    ["addr", "add", NETNS_ADDR, "dev", "camrtc0"],
                    ["link", "set", "camrtc1", "up"], ["link", "set", "camrtc0", "up"]):
            subprocess.run(["ip", "-n", ns] + cmd, check=True, capture_output=True, timeout=5)
        e = dict(os.environ, STREAM_NETNS=ns, STREAM_ONLY="10", STREAM_CHROMIUM="1")
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__)], env=e,
                             stdout=subprocess.PIPE, text=True)
        sc.PROCS.procs.append(p)
        try:
            out, _ = p.communicate(timeout=INNER_SECONDS)
        except subprocess.TimeoutExpired:
            return "the run in namespace %s did not finish in %d s" % (ns, INNER_SECONDS)
        log(out)
        for line in out.splitlines():
            if line.startswith("ok   10 "):
                return None
            if line.startswith("FAIL 10 "):
                return "in namespace %s: %s" % (ns, line.split(": ", 1)[-1])
        return "the run in namespace %s ended (%d) without a result: %s" % (ns, p.returncode, out[-500:])
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        return "setting up namespace %s: %s" % (ns, e)
    finally:
        netns_delete(ns)


def netns_delete(ns):
    """Kill whatever is left in our namespace (only there), then delete it."""
    for _ in range(3):
        r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        pids = [int(x) for x in r.stdout.split()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.2)
    subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


def main():
    camrtc = os.environ.get("CAMRTC_BIN")
    if not camrtc:
        print("stream_aiortc: set CAMRTC_BIN", file=sys.stderr)
        return 2
    try:
        import aiortc  # noqa: F401
        import av  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        print("SKIP stream_aiortc: %s (python3-aiortc, python3-av)" % e)
        return 77
    patch_aioice_loopback()
    rt = sc.roundtrip_reader()
    creds = kvs_py.Creds.from_env(sc.LOCAL_ENV)
    failed = ran = 0
    with tempfile.TemporaryDirectory() as tmp:
        try:
            url = sc.start_signaling(sc.PROCS, camrtc, tmp)
            log("signaling at", url)
            for name, run in (("aiortc viewer <- camrtc master", run_aiortc_viewer),
                              ("camrtc viewer <- aiortc master", run_aiortc_master),
                              ("aiortc refused by camrtc master: the rejecting answer applies", run_aiortc_refused),
                              ("10 viewers (Chromium + aiortc + camrtc) on one master, the 11th refused",
                               run_ten_with_chromium)):
                if ONLY and name.split()[0] not in ONLY:
                    continue
                try:
                    err = run(rt, creds, camrtc, tmp, url)
                except (RuntimeError, OSError, ValueError, KeyError, asyncio.TimeoutError) as e:
                    err = "%s: %s" % (type(e).__name__, e)
                print("%s %s%s" % ("FAIL" if err else "ok  ", name, ": " + err if err else ""), flush=True)
                failed += bool(err)
                ran += 1
                if err and sc.VERBOSE:
                    for f in sorted(os.listdir(tmp)):
                        if f.endswith(".log") or f.endswith(".json"):
                            with open(os.path.join(tmp, f)) as fh:
                                print("--- %s\n%s" % (f, fh.read()[-3000:]), file=sys.stderr)
        finally:
            sc.PROCS.kill_all()
    print("%d passed, %d failed" % (ran - failed, failed), flush=True)
    return 1 if failed else 0


def on_alarm(signum, frame):
    print("FAIL stream_aiortc: overall limit of %d s" % TOTAL_SECONDS, flush=True)
    sc.PROCS.kill_all()
    os._exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TOTAL_SECONDS)
    try:
        code = main()
    finally:
        sc.PROCS.kill_all()
    sys.stdout.flush()
    os._exit(code)
