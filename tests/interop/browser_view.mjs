// Headless Chromium (playwright-core) opens the viewer page that `camrtc signaling` serves at / and
// joins a channel whose master is `camrtc master`. Everything runs in a network namespace with only
// loopback up (Chromium gathers loopback candidates there with --allow-loopback-in-peer-connection;
// see ../../shared/PEERS.md), so nothing leaves the machine.
//
// Outer process: skips (exit 77) without /usr/bin/chromium or without the rights to make a namespace;
// creates camrtc-t<pid>, runs this same script inside it, and on every exit path kills whatever is
// left in the namespace and deletes it. Bounded to 60 s. While `camrtc master` has no option to gather
// loopback candidates, the namespace also gets 10.254.77.1 on a veth pair whose two ends stay inside it.
// Chromium needs --use-fake-ui-for-media-stream there (see the launch below).
// Inner process (CAMRTC_NETNS set): the service (--memory --kvs-js), a master, Chromium, the checks.
// When `camrtc master --help` lists --source, the master streams the test pattern and the full video
// checks run (framesDecoded > 150, video/H264, no decode trouble, a screenshot of the pattern, frame
// ids read from the picture advancing), and with the master's --max-viewers 1 a second page is refused and
// says so at once ("refused by the master", from the answer's rejected m-lines); before that, the page must reach the master with an SDP
// offer (recvonly H.264 video) and trickled loopback candidates through our service.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const HERE = path.dirname(SELF);
const CHROMIUM = '/usr/bin/chromium';
const KVS_JS = path.join(HERE, 'node_modules', 'amazon-kinesis-video-streams-webrtc', 'dist', 'kvs-webrtc.js');
const TOTAL_MS = 60000;
// How `camrtc master --help` would name an option to gather loopback candidates, and the fallback address.
const LOOPBACK_OPT = /--(include-)?loopback\b/;
const DUMMY_ADDR = '10.254.77.1';

function skip(why) {
  console.log(`SKIP browser_view: ${why}`);
  process.exit(77);
}
function failEarly(why) {
  console.log(`FAIL browser_view: ${why}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (!process.env.CAMRTC_NETNS) await outer();
else await inner();

// ---------------------------------------------------------------- outer: the namespace

async function outer() {
  if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (tools/install-deps installs the chromium package)`);
  if (!fs.existsSync(path.join(HERE, 'node_modules', 'playwright-core')) || !fs.existsSync(KVS_JS)) {
    failEarly(`${path.join(HERE, 'node_modules')} lacks playwright-core or the KVS SDK: run \`npm ci\` in tests/interop`);
  }
  const bin = process.env.CAMRTC_BIN;
  if (!bin || !fs.existsSync(bin)) failEarly(`set CAMRTC_BIN to the camrtc executable (got ${bin ?? 'nothing'})`);
  const ns = `camrtc-t${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) skip(`cannot create a network namespace (needs root and iproute2): ${(add.stderr || add.error?.message || '').trim()}`);
  let child = null, cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    if (child && child.exitCode === null) { try { child.kill('SIGKILL'); } catch { /* gone */ } }
    // Whatever the inner run left (Chromium's helpers, camrtc): only processes in our namespace.
    for (let i = 0; i < 3; i++) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split(/\s+/).filter(Boolean) ?? [];
      if (!pids.length) break;
      for (const p of pids) { try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ } }
      spawnSync('sleep', ['0.2']);
    }
    spawnSync('ip', ['netns', 'delete', ns]);
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { cleanup(); process.exit(130); });
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    cleanup();
    failEarly(`ip -n ${ns} link set lo up: ${e.message}`);
  }
  // Our master gathers loopback candidates only when told to (an option of the ICE agent, off by
  // default). Until `camrtc master` has such an option, give the namespace one more address, on an
  // interface that exists only inside it (nothing can leave through it either).
  const help = spawnSync(bin, ['master', '--help'], { encoding: 'utf8' });
  const helpText = `${help.stdout}${help.stderr}`;
  if (/--source\b/.test(helpText) && !LOOPBACK_OPT.test(helpText)) {
    try {
      // A veth pair with both ends inside the namespace (this kernel has no dummy driver).
      execFileSync('ip', ['-n', ns, 'link', 'add', 'camrtc0', 'type', 'veth', 'peer', 'name', 'camrtc1']);
      execFileSync('ip', ['-n', ns, 'addr', 'add', `${DUMMY_ADDR}/24`, 'dev', 'camrtc0']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'camrtc1', 'up']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'camrtc0', 'up']);
      console.log(`# camrtc master has no loopback-candidate option: added ${DUMMY_ADDR} on a veth pair inside ${ns}`);
    } catch (e) {
      console.log(`# could not add a veth pair (${e.message.split('\n')[0]}): the master may gather no candidate`);
    }
  }
  child = spawn('ip', ['netns', 'exec', ns, process.execPath, SELF], {
    env: { ...process.env, CAMRTC_NETNS: ns }, stdio: 'inherit',
  });
  const timer = setTimeout(() => {
    console.log(`FAIL browser_view: overall limit of ${TOTAL_MS} ms`);
    cleanup();
    process.exit(1);
  }, TOTAL_MS);
  const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  clearTimeout(timer);
  cleanup();
  process.exit(code);
}

// ---------------------------------------------------------------- inner: the checks

async function inner() {
  const { Suite, AssertionError, check, eq, startServer, tempDir, onCleanup, sleep, LOCAL_PAIR, REGION, httpRequest } = await import('./lib.mjs');
  const { CamClient } = await import('./client_common.mjs');
  const { chromium } = await import('playwright-core');
  const BIN = process.env.CAMRTC_BIN;
  // Artifacts (the screenshot) go to <build>/tests/interop, next to meson's own output.
  const OUT = path.resolve(path.dirname(BIN), '..', '..', 'tests', 'interop');
  fs.mkdirSync(OUT, { recursive: true });
  const help = spawnSync(BIN, ['master', '--help'], { encoding: 'utf8' });
  const VIDEO = /--source\b/.test(help.stdout + help.stderr);
  const channel = `browser-${process.pid}`;
  const clientId = `chromium-${process.pid}`;
  const st = {};
  const suite = new Suite('browser_view', { timeoutMs: TOTAL_MS - 5000 });
  console.log(`# namespace ${process.env.CAMRTC_NETNS}; master ${VIDEO ? 'streams the test pattern (--source)' : 'answers signaling only (no --source yet): video checks not run'}`);

  suite.test('setup: camrtc signaling --memory --kvs-js, in the test namespace', async () => {
    st.srv = await startServer(BIN, { stateDir: tempDir('browser'), args: ['--memory', '--kvs-js', KVS_JS] });
    const js = await httpRequest(`${st.srv.url}/kvs-webrtc.js`);
    eq(js.status, 200, 'GET /kvs-webrtc.js');
    check(js.body.includes('KVSWebRTC'), 'the served file is the SDK bundle (defines window.KVSWebRTC)');
    const page = await httpRequest(`${st.srv.url}/`);
    eq(page.status, 200, 'GET /');
    check(/text\/html/.test(page.headers['content-type']), `page content type ${page.headers['content-type']}`);
    check(!/https?:\/\/(?!127\.0\.0\.1)[a-z]/i.test(page.body.replace(/http:\/\/127\.0\.0\.1|localhost/g, '')),
      'the page loads nothing from elsewhere');
  }, { fatal: true, timeoutMs: 10000 });

  suite.test('setup: the master creates the channel', async () => {
    if (VIDEO) {
      const env = { ...process.env, AWS_ACCESS_KEY_ID: LOCAL_PAIR.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_PAIR.secretAccessKey,
        AWS_REGION: REGION, HOME: tempDir('master-home'), CAMRTC_LOG: 'info' };
      const argv = ['master', '--channel', channel, '--endpoint', st.srv.url, '--create', '--no-cache',
        '--source', 'testsrc', '--size', '640x360', '--fps', '30', '--bitrate', '1000', '--max-viewers', '1'];
      const opt = LOOPBACK_OPT.exec(help.stdout + help.stderr);
      if (opt) argv.push(opt[0]);
      const proc = spawn(BIN, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      st.masterLog = '';
      proc.stdout.on('data', (d) => { st.masterLog += d; });
      proc.stderr.on('data', (d) => { st.masterLog += d; if (st.masterLog.length > 200000) st.masterLog = st.masterLog.slice(-100000); });
      st.masterExit = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
      onCleanup(async () => { if (proc.exitCode === null) { proc.kill('SIGTERM'); await Promise.race([st.masterExit, sleep(3000)]); proc.kill('SIGKILL'); } });
      // Ready when the service has a connected client (the master's WebSocket).
      for (let i = 0; i < 100; i++) {
        const s = await httpRequest(`${st.srv.url}/admin/stats`);
        if (s.json?.WebSocketClients >= 1 && s.json?.Channels >= 1) return;
        await sleep(100);
      }
      // Not fatal by itself: the page waits for the channel too.
    } else {
      st.master = new CamClient(BIN, 'master', { channel, endpoint: st.srv.url, create: true });
      await st.master.connected({ ms: 8000 });
    }
  }, { fatal: true, timeoutMs: 12000 });

  suite.test('setup: headless Chromium opens the page with autojoin', async () => {
    const profile = tempDir('chromium-profile');
    // Without media permission Chromium hides host addresses behind mDNS names, and in a namespace with
    // only loopback the mDNS registration never completes: no candidate at all. --use-fake-ui-for-media-stream
    // grants the permission, so it gathers 127.0.0.1 plainly (with --allow-loopback-in-peer-connection).
    const args = ['--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--no-sandbox', '--disable-gpu',
      '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
    // A persistent context on a fresh temporary directory: the fresh --user-data-dir of PEERS.md.
    st.browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, timeout: 20000, args, viewport: { width: 1400, height: 1000 },
    });
    onCleanup(() => st.browser.close());
    st.page = await st.browser.newPage();
    st.console = [];
    st.page.on('console', (m) => st.console.push(`${m.type()}: ${m.text()}`));
    st.page.on('pageerror', (e) => st.console.push(`pageerror: ${e.message}`));
    const q = new URLSearchParams({ channel, clientId, autojoin: '1' });
    await st.page.goto(`${st.srv.url}/?${q}`, { waitUntil: 'load', timeout: 10000 });
  }, { fatal: true, timeoutMs: 25000 });

  suite.test('without --kvs-js: /kvs-webrtc.js is a 404 that says what to do, and the page shows it', async () => {
    const bare = await startServer(BIN, { stateDir: tempDir('browser-bare'), args: ['--memory'] });
    const r = await httpRequest(`${bare.url}/kvs-webrtc.js`);
    eq(r.status, 404, 'GET /kvs-webrtc.js without --kvs-js');
    check(/--kvs-js/.test(r.body) && /CAMRTC_KVS_JS/.test(r.body), `the 404 names --kvs-js and CAMRTC_KVS_JS: ${r.body.slice(0, 200)}`);
    const p = await st.browser.newPage();
    try {
      await p.goto(`${bare.url}/?channel=none&autojoin=1`, { waitUntil: 'load', timeout: 10000 });
      let state = '';
      for (let i = 0; i < 40 && !/--kvs-js/.test(state); i++) {
        await sleep(100);
        state = await p.evaluate(() => document.getElementById('state').textContent);
      }
      check(/not available.*--kvs-js/.test(state), `the page states the SDK is missing and how to fix it (got ${JSON.stringify(state.slice(0, 200))})`);
    } finally {
      await p.close();
      await bare.stop();
    }
  }, { timeoutMs: 15000 });

  const pageStats = () => st.page.evaluate(() => JSON.parse(JSON.stringify(window.camrtcStats)));
  // The master's log without its once-a-second status lines (the last one kept).
  function masterTail(n) {
    const lines = st.masterLog.trimEnd().split('\n');
    const status = lines.filter((l) => /^master: viewers/.test(l));
    return [...lines.filter((l) => !/^master: viewers/.test(l)).slice(-n), ...status.slice(-1)].join('\n');
  }
  async function pageReport() {
    const s = await pageStats().catch((e) => ({ unavailable: e.message }));
    const log = await st.page.evaluate(() => document.getElementById('log').textContent).catch(() => '');
    return `\n  camrtcStats: ${JSON.stringify(s)}\n  page log:\n${log.trimEnd().split('\n').slice(-25).join('\n').replace(/^/gm, '  | ')}` +
      (st.console.length ? `\n  console:\n${st.console.slice(-15).join('\n').replace(/^/gm, '  | ')}` : '') +
      (st.masterLog !== undefined ? `\n  master log (last 30 lines):\n${masterTail(30).replace(/^/gm, '  | ')}` : '');
  }
  async function waitStats(pred, ms, what) {
    const end = Date.now() + ms;
    let s;
    while (Date.now() < end) {
      s = await pageStats();
      if (s.error) throw new AssertionError(`page failed while waiting for ${what}: ${s.error}${await pageReport()}`);
      if (pred(s)) return s;
      await sleep(250);
    }
    throw new AssertionError(`timed out after ${ms} ms waiting for ${what}${await pageReport()}`);
  }

  // The page's reader of the test pattern's block, against blocks drawn here from the layout of
  // src/media/testsrc.c (an independent encoder): the right word reads back, a flipped cell does not.
  suite.test('the page reads frame id and capture ms from a drawn 64-cell block (CRC-checked)', async () => {
    const crc8 = (b) => {
      let c = 0;
      for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 7) & 0xff : (c << 1) & 0xff; }
      return c ^ 0xA5;
    };
    const word = (id, ms) => {
      const b = [id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255, ms >>> 16, (ms >>> 8) & 255, ms & 255];
      return [...b, crc8(b)];
    };
    const read = (bytes, flip = -1) => st.page.evaluate(([bs, fl]) => {
      const c = document.createElement('canvas');
      c.width = 160; c.height = 140;
      const g = c.getContext('2d', { willReadFrequently: true });
      g.fillStyle = '#808080'; g.fillRect(0, 0, 160, 140);
      for (let i = 0; i < 64; i++) {
        const one = ((bs[i >> 3] >> (7 - (i & 7))) & 1) ^ (i === fl ? 1 : 0);
        g.fillStyle = one ? 'rgb(235,235,235)' : 'rgb(16,16,16)';
        g.fillRect((i % 8) * 16, Math.floor(i / 8) * 16, 16, 16);
      }
      return window.camrtcReadBlock(g.getImageData(0, 0, 160, 140).data, 160);
    }, [bytes, flip]);
    for (const [id, ms] of [[0, 0], [123456, 0xABCDEF], [0xFFFFFFFF, 0xFFFFFF], [7, 1]]) {
      eq(await read(word(id, ms)), { frameId: id, captureMs: ms }, `block for frame ${id}, ms ${ms}`);
    }
    eq(await read(word(123456, 42), 17), null, 'a block with one cell flipped');
    eq(await read([0, 0, 0, 0, 0, 0, 0, 0]), null, 'all black');
  }, { timeoutMs: 10000 });

  suite.test('the page signs the control plane, opens the SDK SignalingClient and sends its offer', async () => {
    await waitStats((s) => s.offerSent, 10000, 'offerSent');
  }, { timeoutMs: 12000 });

  if (!VIDEO) {
    suite.test('our master gets the page\'s SDP offer (recvonly H.264 video, audio) and trickled loopback candidates', async () => {
      const offer = await st.master.waitFor((e) => e.event === 'message' && e.type === 'SDP_OFFER', { ms: 5000, what: 'SDP_OFFER' });
      eq(offer.from, clientId, 'offer sender (the page\'s client id)');
      const sdp = offer.payload?.sdp ?? '';
      check(offer.payload?.type === 'offer', `payload type ${offer.payload?.type}`);
      check(/^m=video /m.test(sdp) && /^m=audio /m.test(sdp), 'video and audio m-lines');
      check(/a=rtpmap:\d+ H264\/90000/.test(sdp), 'H.264 offered');
      check((sdp.match(/^a=recvonly/gm) || []).length === 2, 'both m-lines recvonly');
      const cand = await st.master.waitFor((e) => e.event === 'message' && e.type === 'ICE_CANDIDATE' && e.from === clientId,
        { ms: 5000, what: 'ICE_CANDIDATE from the page' }).catch(async (e) => { throw new Error(e.message + await pageReport()); });
      check(/ 127\.0\.0\.1 /.test(cand.payload?.candidate ?? ''), `a loopback candidate (got ${cand.payload?.candidate})`);
      const s = await pageStats();
      check(/^connecting/.test(s.state), `page state is connecting (got ${s.state})`);
    }, { timeoutMs: 12000 });
  } else {
    suite.test('Chromium decodes more than 150 H.264 frames from our master', async () => {
      const s = await waitStats((x) => x.framesDecoded > 150, 25000, 'framesDecoded > 150');
      eq(s.codec, 'video/H264', 'codec mimeType');
      st.s = s;
    }, { timeoutMs: 27000, fatal: true });

    suite.test('no decode trouble: frames dropped, PLIs and freezes stay small', async () => {
      const s = await pageStats();
      check((s.framesDropped ?? 0) <= 0.05 * s.framesDecoded, `framesDropped ${s.framesDropped} of ${s.framesDecoded}`);
      check((s.pliCount ?? 0) <= 5, `pliCount ${s.pliCount}`);
      check((s.freezeCount ?? 0) <= 3, `freezeCount ${s.freezeCount}`);
      check(s.keyFramesDecoded >= 1, `keyFramesDecoded ${s.keyFramesDecoded}`);
      eq([s.frameWidth, s.frameHeight], [640, 360], 'decoded size');
    });

    suite.test('the frame id read from the picture advances', async () => {
      const a = await waitStats((x) => x.frameId !== null, 5000, 'a frame id read from the picture');
      const b = await waitStats((x) => x.frameId > a.frameId + 10, 5000, `frame id past ${a.frameId + 10}`);
      console.log(`# frame ids read: ${a.frameId} -> ${b.frameId}; blocks read ${b.framesRead}; latency ${b.latencyMs} ms (${b.latencyShared ? 'shared clock' : 'relative'})`);
    });

    suite.test('a screenshot of the video shows the test pattern', async () => {
      const file = path.join(OUT, 'browser_view.png');
      const png = await st.page.locator('#video').screenshot({ path: file });
      console.log(`# screenshot: ${file}`);
      // Decode it in the page (no PNG decoder here): colour spread, and the block read from the screenshot itself.
      const r = await st.page.evaluate(async (b64) => {
        const img = new Image();
        img.src = 'data:image/png;base64,' + b64;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width;
        c.height = img.height;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0);
        const px = g.getImageData(0, 0, c.width, c.height).data;
        let sum = 0, sum2 = 0, n = 0;
        const colours = new Set();
        for (let i = 0; i < px.length; i += 4 * 97) {
          const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
          sum += y; sum2 += y * y; n++;
          colours.add((px[i] >> 5) * 64 + (px[i + 1] >> 5) * 8 + (px[i + 2] >> 5));
        }
        const block = img.width >= 128 && img.height >= 128 ? window.camrtcReadBlock(px, c.width) : null;
        return { w: img.width, h: img.height, sd: Math.sqrt(sum2 / n - (sum / n) ** 2), colours: colours.size, block };
      }, png.toString('base64'));
      check(r.sd > 20 && r.colours >= 6, `screenshot not uniform: luma sd ${r.sd.toFixed(1)}, ${r.colours} colour bins (${r.w}x${r.h})`);
      check(r.block !== null, `the test pattern's block reads back from the screenshot (${r.w}x${r.h})`);
      // The whole page too (video, plots, log), for a person to look at.
      await st.page.screenshot({ path: path.join(OUT, 'browser_view_page.png'), fullPage: true });
      const x = await pageStats();
      const f = (v, d = 1) => (typeof v === 'number' ? v.toFixed(d) : String(v));
      console.log(`# figures: framesDecoded ${x.framesDecoded}, keyFramesDecoded ${x.keyFramesDecoded}, ${f(x.fps)} fps, ` +
        `${f(x.bitrateKbps, 0)} kbit/s, RTT ${f(x.rttMs)} ms, loss ${f(x.lossPct)} %, packetsLost ${x.packetsLost}, ` +
        `framesDropped ${x.framesDropped}, freezeCount ${x.freezeCount}, pliCount ${x.pliCount}, nackCount ${x.nackCount}, ` +
        `latency ${f(x.latencyMs)} ms (${x.latencyShared ? 'shared clock' : 'relative to the smallest seen'}), codec ${x.codec} ${x.codecFmtp}`);
    });

    suite.test('a second page, past the master\'s --max-viewers 1, shows "refused by the master" at once', async () => {
      const p = await st.browser.newPage();
      const second = `${clientId}-2`;
      try {
        await p.goto(`${st.srv.url}/?${new URLSearchParams({ channel, clientId: second, autojoin: '1' })}`, { waitUntil: 'load', timeout: 10000 });
        let s = {};
        for (let i = 0; i < 60 && !s.refused && !s.error; i++) {
          await sleep(250);
          s = await p.evaluate(() => JSON.parse(JSON.stringify(window.camrtcStats)));
        }
        const shown = await p.evaluate(() => document.getElementById('state').textContent);
        check(s.refused === true && /^refused by the master/.test(shown),
          `the page says it is refused (refused ${s.refused}, state ${JSON.stringify(shown)}, error ${s.error})`);
        check(s.answerReceived === true, 'it came from the answer');
        check(st.masterLog.includes(`refusing viewer ${second}: 1 viewers already (--max-viewers)`), 'the master logged the refusal');
        const first = await pageStats();
        check(first.connectionState === 'connected', `the first page still connected (${first.connectionState})`);
      } finally {
        await p.close();
      }
    }, { timeoutMs: 20000 });
  }

  await suite.run();
}
