// camrtc's own signaling client (`camrtc master|viewer --stdio`) through the
// faults a deployed client meets: the service killed and restarted, a TCP path
// that silently goes dead, GO_AWAY, RECONNECT_ICE_SERVER, ICE credentials that
// expire, a wrong secret, a clock 10 minutes off and a stale endpoint cache.
// Every test states its time bound; every process and socket is cleaned up.
import {
  requireDeps, Suite, startServer, tempDir, check, eq, sleep, LOCAL_PAIR, unb64json, adminAnnounce, httpRequest,
} from './lib.mjs';
import { CamClient, checkStats, startProxy, freePort, candNumber, readCache } from './client_common.mjs';

const BIN = requireDeps();
const K = await import('./kvs_common.mjs');
const { Peer, sdp, candidate, kv } = K;

const suite = new Suite('client_faults', { timeoutMs: 150000 });
const st = { peers: [] };
const TURN = ['--turn-url', 'turn:127.0.0.1:3478?transport=udp', '--turn-secret', 'faults-turn-secret'];
// Reconnect storms and 20 candidates a second are the point here, not the quotas.
const BASE_ARGS = ['--no-rate-limits'];

const cam = (role, opts) => new CamClient(BIN, role, { endpoint: st.srv.url, ...opts });
function peer(channel, opts) {
  const p = new Peer(channel, { creds: LOCAL_PAIR, ...opts });
  st.peers.push(p);
  return p;
}
const adminStats = async (srv) => (await httpRequest(`${srv.url}/admin/stats`)).json;

// CLIENT_FAULTS_ONLY=b,c runs only those (by letter) after the setup.
const only = process.env.CLIENT_FAULTS_ONLY?.split(',');
function test(name, fn, opts) {
  if (only && !only.includes(name.split('.')[0])) return;
  suite.test(name, async () => {
    const c0 = CamClient.all.length, p0 = st.peers.length;
    try {
      await fn();
    } catch (e) {
      e.message += '\n' + CamClient.all.slice(c0).map((c) => c.report()).join('\n');
      throw e;
    } finally {
      for (const c of CamClient.all.slice(c0)) await c.kill();
      for (const p of st.peers.slice(p0)) {
        if (p.sc.readyState === 3) continue;
        if (p.sc.websocket) p.sc.websocket.terminate();
        else p.sc.close();
      }
    }
  }, opts);
}

const tagOf = (payload) => (payload?.sdp ? /\r\ns=([^\r]*)\r\n/.exec(payload.sdp)?.[1] : / ufrag (\S+)$/.exec(payload?.candidate ?? '')?.[1]);
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

// An offer from our viewer to our master and the answer back, by client id.
async function exchange(m, v, tag) {
  const mm = m.mark(), vm = v.mark();
  eq((await v.send('SDP_OFFER', undefined, sdp('offer', `${tag}-offer`))).result, 'ok', `${tag}: viewer offer sent`);
  const o = await m.waitFor((e) => e.event === 'message' && tagOf(e.payload) === `${tag}-offer`, { from: mm, what: `${tag}: the viewer's offer` });
  eq([o.type, o.from], ['SDP_OFFER', v.argv[v.argv.indexOf('--client-id') + 1]], `${tag}: offer type and sender at our master`);
  eq((await m.send('SDP_ANSWER', o.from, sdp('answer', `${tag}-answer`))).result, 'ok', `${tag}: master answer sent`);
  const a = await v.waitFor((e) => e.event === 'message' && tagOf(e.payload) === `${tag}-answer`, { from: vm, what: `${tag}: the master's answer` });
  eq([a.type, a.from], ['SDP_ANSWER', ''], `${tag}: answer type and sender at our viewer`);
}

// The first state event after index `from` other than 'connected', then the
// first 'connected' after that one.
async function downThenUp(c, from, ms) {
  const down = await c.waitFor((e) => e.event === 'state' && e.state !== 'connected', { from, ms, what: 'a state other than connected' });
  const up = await c.connected({ from: c.events.indexOf(down) + 1, ms });
  return { down, up };
}

suite.test('setup: a shared camrtc signaling (TURN secret, no rate limits)', async () => {
  st.srv = await startServer(BIN, { stateDir: tempDir('client-faults'), args: [...BASE_ARGS, ...TURN] });
  K.installWebSocket();
  st.ctl = K.controlClient(st.srv, LOCAL_PAIR);
}, { fatal: true });

test('a. service SIGKILLed and restarted on its port and state dir: master and viewer connected again within 2 s, same ARN, same client id', async () => {
  const port = await freePort();
  const stateDir = tempDir('faults-restart');
  const listen = `127.0.0.1:${port}`;
  let srv = await startServer(BIN, { stateDir, listen, args: BASE_ARGS });
  const endpoint = srv.url;
  const m = cam('master', { endpoint, channel: 'fa', create: true });
  await m.connected();
  const v = cam('viewer', { endpoint, channel: 'fa', clientId: 'fa-viewer' });
  await v.connected();
  const ch = await K.setupChannel(K.controlClient(srv, LOCAL_PAIR), 'fa');
  await exchange(m, v, 'before');
  const mm = m.mark(), vm = v.mark();
  await srv.stop('SIGKILL');
  const tRestart = Date.now();
  srv = await startServer(BIN, { stateDir, listen, args: BASE_ARGS });
  const rm = await downThenUp(m, mm, 5000);
  const rv = await downThenUp(v, vm, 5000);
  const dm = rm.up.t - tRestart, dv = rv.up.t - tRestart;
  console.log(`  reconnected after the restart: master ${dm} ms, viewer ${dv} ms (down: '${rm.down.why}', '${rv.down.why}')`);
  check(dm <= 2000 && dv <= 2000, `connected again ${dm} ms (master) and ${dv} ms (viewer) after the restart; want <= 2000`);
  const arn = (await K.controlClient(srv, LOCAL_PAIR).send(new kv.DescribeSignalingChannelCommand({ ChannelName: 'fa' }))).ChannelInfo.ChannelARN;
  eq(arn, ch.arn, 'channel ARN after the restart');
  eq((await adminStats(srv)).Channels, 1, 'channels on the restarted service (nothing re-created)');
  await exchange(m, v, 'after');
  // An SDK viewer with the ARN and endpoints from before the restart reaches our master.
  const sv = await peer(ch, { clientId: 'fa-sdk' }).open();
  const mark = m.mark();
  sv.sc.sendSdpOffer(sdp('offer', 'fa-sdk-offer'));
  const o = await m.waitFor((e) => e.event === 'message' && e.type === 'SDP_OFFER', { from: mark, what: 'the SDK viewer offer' });
  eq([o.from, tagOf(o.payload)], ['fa-sdk', 'fa-sdk-offer'], 'SDK offer at our master after the restart');
  await sv.close();
  for (const [c, who] of [[m, 'our master'], [v, 'our viewer']]) {
    checkStats(await c.stop(), { reconnects: ['>=', 1], wsConnects: ['>=', 2] }, who);
  }
  await srv.stop();
});

test('b. TCP path silently dead (proxy blackholes the connection): detected by ping/pong within a few seconds, reconnected through a fresh connection', async () => {
  const proxy = await startProxy();
  // With --public-url the server's "listening on" line names the public URL,
  // so listen on a known port: the control plane is called there directly.
  proxy.target = await freePort();
  const srv = await startServer(BIN, { stateDir: tempDir('faults-proxy'), listen: `127.0.0.1:${proxy.target}`, args: [...BASE_ARGS, '--public-url', proxy.url] });
  const endpoint = `http://127.0.0.1:${proxy.target}`;
  const fast = ['--ping-interval-ms', '1000', '--pong-timeout-ms', '1000'];
  const m = cam('master', { endpoint, channel: 'fb', create: true, args: fast });
  await m.connected();
  const v = cam('viewer', { endpoint, channel: 'fb', clientId: 'fb-viewer', args: fast });
  await v.connected();
  await exchange(m, v, 'b-before');
  check(proxy.live() >= 2, `the WebSockets should go through the proxy (--public-url); live proxied connections: ${proxy.live()}`);
  const accepted = proxy.accepted;
  const mm = m.mark(), vm = v.mark();
  const n = proxy.blackhole();
  const tHole = Date.now();
  check(n >= 2, `blackholed ${n} connections`);
  const rm = await downThenUp(m, mm, 8000);
  const rv = await downThenUp(v, vm, 8000);
  const t = (x) => x.t - tHole;
  console.log(`  master: '${rm.down.state}' (${rm.down.why}) at ${t(rm.down)} ms, connected at ${t(rm.up)} ms; ` +
    `viewer: '${rv.down.state}' (${rv.down.why}) at ${t(rv.down)} ms, connected at ${t(rv.up)} ms`);
  for (const [r, who] of [[rm, 'master'], [rv, 'viewer']]) {
    check(t(r.down) >= 1000, `${who} gave up after ${t(r.down)} ms: before a ping could even be due`);
    check(t(r.up) <= 5000, `${who} connected again ${t(r.up)} ms after the path died; want <= 5000 (ping 1 s + pong 1 s + backoff)`);
  }
  check(proxy.accepted > accepted, 'the reconnection should be a fresh proxied TCP connection');
  await exchange(m, v, 'b-after');
  // Stopping waits (up to the core's 5 s close deadline) for the dead
  // connections it closed: both at once.
  const t0 = Date.now();
  const [sm, sv] = await Promise.all([m.stop(6000), v.stop(6000)]);
  console.log(`  both clients stopped in ${Date.now() - t0} ms`);
  checkStats(sm, { deadConnections: ['>=', 1], reconnects: ['>=', 1] }, 'our master');
  checkStats(sv, { deadConnections: ['>=', 1], reconnects: ['>=', 1] }, 'our viewer');
  // The service would wait for the blackholed peers' close handshake too.
  proxy.dropHoled();
  eq(await srv.stop(), { code: 0, signal: null }, 'server exit after SIGTERM');
});

// The switchover takes about two milliseconds on loopback, so hardly a message
// would be "during" it; behind a proxy adding 30 ms each way (a WAN round
// trip) it lasts long enough for 50 ms traffic to cross it every time.
test('c. GO_AWAY (30 ms each way): our master reconnects; 40 numbered candidates each way across the switchover arrive exactly once, in order', async () => {
  const proxy = await startProxy({ latencyMs: 30 });
  proxy.target = await freePort();
  const srv = await startServer(BIN, { stateDir: tempDir('faults-goaway'), listen: `127.0.0.1:${proxy.target}`, args: [...BASE_ARGS, '--public-url', proxy.url] });
  const endpoint = `http://127.0.0.1:${proxy.target}`;
  const m = cam('master', { endpoint, channel: 'fc', create: true });
  await m.connected();
  const ch = await K.setupChannel(K.controlClient({ url: endpoint }, LOCAL_PAIR), 'fc');
  const v = await peer(ch, { clientId: 'fc-viewer' }).open();
  const stats = async () => (await httpRequest(`${endpoint}/admin/stats`)).json.Hub;
  const hub0 = await stats();
  const mm = m.mark();
  let announced;
  for (let n = 1; n <= 40; n++) {
    v.sc.sendIceCandidate(candidate('go', n));
    m.write({ send: 'ICE_CANDIDATE', to: 'fc-viewer', payload: candidate('mgo', n) });
    if (n === 10) announced = adminAnnounce({ url: endpoint }, { ChannelName: 'fc', MessageType: 'GO_AWAY' });
    await sleep(50);
  }
  const r = await announced;
  eq([r.status, r.json], [200, { Clients: 2 }], `announce GO_AWAY (${r.body})`);
  // End markers: each direction is ordered, so once a marker is in, whatever
  // was sent before it has arrived or is lost.
  v.sc.sendIceCandidate(candidate('go-end', 99));
  await m.waitFor((e) => e.event === 'message' && tagOf(e.payload) === 'go-end', { from: mm, what: 'the viewer\'s end marker' });
  eq((await m.send('ICE_CANDIDATE', 'fc-viewer', candidate('mgo-end', 99))).result, 'ok', 'master end marker sent');
  await v.rawNext((x) => x.messageType === 'ICE_CANDIDATE' && unb64json(x.messagePayload).candidate.includes('ufrag mgo-end'), 5000, 'the master\'s end marker');
  const hub = await stats();
  const sent = m.all('sent', () => true, mm);
  const got = m.messages(mm).filter((e) => tagOf(e.payload) === 'go').map((e) => candNumber(e.payload));
  const atViewer = v.rawAll().filter((x) => x.messageType === 'ICE_CANDIDATE').map((x) => unb64json(x.messagePayload))
    .filter((p) => tagOf(p) === 'mgo').map(candNumber);
  const switchStates = m.states(mm);   // before stopping adds "stopping" and "stopped"
  const s = await m.stop();
  console.log(`  master got ${got.length}/40 from the viewer, the viewer got ${atViewer.length}/40 from the master; ` +
    `service: ${hub.MessagesIn - hub0.MessagesIn} messages in (82 sent), ${hub.MastersReplaced - hub0.MastersReplaced} master replaced`);
  eq(sent.length, 41, '"sent" events of our master');
  check(sent.every((e) => e.result === 'ok'), `send results: ${sent.map((e) => e.result).join(' ')}`);
  const missing = (a) => range(1, 40).filter((n) => !a.includes(n)).join(',') || 'none';
  eq(got, range(1, 40), `candidate numbers at our master (every one, once, in order; missing: ${missing(got)})`);
  eq(atViewer, range(1, 40), `candidate numbers at the SDK viewer (every one our master reported "ok", once, in order; missing: ${missing(atViewer)})`);
  check(v.rawAll().some((x) => x.messageType === 'GO_AWAY'), 'the SDK viewer saw the GO_AWAY too');
  eq(switchStates.filter((x) => x !== 'connected'), [], 'our master\'s states during the switchover (a new connection replaces the old once open)');
  check(hub.MastersReplaced - hub0.MastersReplaced >= 1, 'the service saw the master replaced');
  checkStats(s, { goAways: ['>=', 1], reconnects: ['>=', 1], httpCalls: ['>=', 5] }, 'our master');
  await v.close();
  await srv.stop();
});

test('d. RECONNECT_ICE_SERVER: a new "ice" event, the same connection', async () => {
  const m = cam('master', { channel: 'fd', create: true });
  const up = await m.connected();
  const ice1 = m.all('ice')[0];
  check(ice1 && ice1.servers.length === 1 && ice1.servers[0].uris.length >= 1, `first ice event: ${JSON.stringify(ice1)}`);
  const mm = m.mark();
  const r = await adminAnnounce(st.srv, { ChannelName: 'fd', MessageType: 'RECONNECT_ICE_SERVER' });
  eq([r.status, r.json], [200, { Clients: 1 }], `announce RECONNECT_ICE_SERVER (${r.body})`);
  const ice2 = await m.waitFor((e) => e.event === 'ice', { from: mm, ms: 3000, what: 'a new "ice" event' });
  eq(ice2.servers.map((s) => s.uris), ice1.servers.map((s) => s.uris), 'TURN URIs after the refresh');
  check(ice2.servers[0].username, `username in the new ICE config: ${JSON.stringify(ice2)}`);
  const ch = await K.setupChannel(st.ctl, 'fd');
  const v = await peer(ch, { clientId: 'fd-viewer' }).open();
  v.sc.sendSdpOffer(sdp('offer', 'fd-offer'));
  await m.waitFor((e) => e.event === 'message' && tagOf(e.payload) === 'fd-offer', { from: mm, what: 'an offer after the refresh' });
  eq(m.all('state', () => true, m.events.indexOf(up) + 1), [], 'state changes after connecting');
  checkStats(await m.stop(), { iceRefreshes: ['>=', 1], reconnects: ['==', 0], wsConnects: ['==', 1], goAways: ['==', 0] }, 'our master');
  await v.close();
});

test('e. ICE credentials with Ttl 35 s (TURN secret): refreshed ~30 s before expiry (new username within 8 s), connection undisturbed', async () => {
  const srv = await startServer(BIN, { stateDir: tempDir('faults-ttl'), args: [...BASE_ARGS, ...TURN, '--ice-ttl', '35'] });
  const m = cam('master', { endpoint: srv.url, channel: 'fe', create: true });
  const up = await m.connected();
  const ice1 = m.all('ice')[0];
  check(ice1 && ice1.servers[0]?.ttl === 35, `first ice event with Ttl 35: ${JSON.stringify(ice1)}`);
  // Wait past the bound so a late refresh is measured rather than just missed.
  const ice2 = await m.waitFor((e) => e.event === 'ice' && e !== ice1, { ms: 20000, what: 'a refreshed "ice" event within 20 s' });
  const dt = ice2.t - ice1.t;
  console.log(`  ICE config refreshed ${dt} ms after the first (Ttl 35 s)`);
  const exp = (ice) => Number(ice.servers[0].username.split(':')[0]);
  check(ice2.servers[0].username !== ice1.servers[0].username && exp(ice2) > exp(ice1),
    `a new TURN username with a later expiry: ${ice1.servers[0].username} -> ${ice2.servers[0].username}`);
  check(dt <= 8000, `the refresh came ${dt} ms after the first ICE config; with Ttl 35 s and refresh 30 s before expiry it is due at ~5 s (want <= 8000 ms)`);
  eq(m.all('state', () => true, m.events.indexOf(up) + 1), [], 'state changes after connecting');
  checkStats(await m.stop(), { iceRefreshes: ['>=', 1], reconnects: ['==', 0], wsConnects: ['==', 1] }, 'our master');
  await srv.stop();
}, { timeoutMs: 30000 });

test('f. wrong secret: never connects, says why (403 InvalidSignatureException), retries with backoff (bounded over 5 s), stops cleanly', async () => {
  const failures = async () => (await adminStats(st.srv)).Service.AuthFailures;
  const base = await failures();
  const c = cam('master', { channel: 'ff', create: true, creds: { accessKeyId: LOCAL_PAIR.accessKeyId, secretAccessKey: 'wrong/secret/0000000000000000000000000000' } });
  await sleep(1000);
  const at1 = (await failures()) - base;
  await sleep(4000);
  const at5 = (await failures()) - base;
  const s = await c.stop(2000);
  const total = (await failures()) - base;
  console.log(`  auth failures at the service: ${at1} after 1 s, ${at5} after 5 s; client states: ${c.states().join(' ')}`);
  eq(c.states().filter((x) => x === 'connected'), [], 'connected states');
  check(c.all('state').some((e) => /403/.test(e.why)), `a state event naming the 403: ${c.summary()}`);
  check(/InvalidSignatureException/.test(c.stderr), 'the log names InvalidSignatureException');
  eq(s.httpCalls, total, 'the client\'s HTTP calls = auth failures at the service (every call refused)');
  check(at5 <= 30, `${at5} refused calls in 5 s: a tight loop`);
  check(c.states().includes('backoff'), `the client should back off and retry (KVS-PROTOCOL.md: unlimited retries with backoff); states: ${c.states().join(' ')}`);
  check(at5 >= 2, `the client should keep retrying, slowly; refused calls: ${at1} after 1 s, ${at5} after 5 s`);
}, { timeoutMs: 15000 });

test('g. clock 10 minutes off (--clock-offset-s 600 and -600): master and viewer connect anyway, correcting from the Date header', async () => {
  for (const off of [600, -600]) {
    const args = ['--clock-offset-s', String(off)];
    const m = cam('master', { channel: 'fg', create: true, args, name: `our master (clock ${off} s)` });
    const v = cam('viewer', { channel: 'fg', create: true, clientId: 'fg-viewer', args, name: `our viewer (clock ${off} s)` });
    const [um, uv] = await Promise.all([m.connected({ ms: 3000 }), v.connected({ ms: 3000 })]);
    console.log(`  clock ${off} s: master connected after ${um.t - m.t0} ms, viewer after ${uv.t - v.t0} ms`);
    await exchange(m, v, `clock${off}`);
    for (const [c, who] of [[m, 'master'], [v, 'viewer']]) {
      checkStats(await c.stop(), { clockCorrections: ['>=', 1], reconnects: ['==', 0], wsConnects: ['==', 1] }, `our ${who} (clock ${off} s)`);
    }
  }
});

test('h. stale endpoint cache (the channel is gone after a restart with a fresh state dir): 404, Describe/Create, connected; the fresh cache then needs one call', async () => {
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const cacheDir = tempDir('faults-cache');
  let srv = await startServer(BIN, { stateDir: tempDir('faults-h1'), listen, args: BASE_ARGS });
  const run = async (tag) => {
    const c = cam('master', { endpoint: srv.url, channel: 'fh', create: true, cacheDir, name: `our master (${tag})` });
    await c.connected({ ms: 6000 });
    const s = await c.stop();
    return { c, s, cache: readCache(cacheDir) };
  };
  const r1 = await run('first run');
  eq(r1.s.httpCalls, 4, 'first run: Describe (404), Create, GetSignalingChannelEndpoint, GetIceServerConfig');
  eq(r1.cache.length, 1, 'cache files after the first run');
  const arn1 = r1.cache[0].ChannelARN;
  check(/:channel\/fh\/\d{13}$/.test(arn1), `cached ARN ${arn1}`);
  await srv.stop();
  srv = await startServer(BIN, { stateDir: tempDir('faults-h2'), listen, args: BASE_ARGS });
  const r2 = await run('stale cache');
  const s2 = r2.c.states();
  console.log(`  stale cache run: ${r2.s.httpCalls} HTTP calls; states ${s2.join(' ')}`);
  eq(s2[0], 'get-ice-config', 'the stale run starts from the cache');
  check(s2.includes('describe') && s2.includes('create'), `the stale run should Describe and Create after the 404: ${s2.join(' ')}`);
  check(r2.s.httpCalls > 2, `stale run HTTP calls ${r2.s.httpCalls}`);
  const arn2 = (await K.controlClient(srv, LOCAL_PAIR).send(new kv.DescribeSignalingChannelCommand({ ChannelName: 'fh' }))).ChannelInfo.ChannelARN;
  check(arn2 !== arn1, 'the re-created channel has a new ARN');
  eq(r2.cache.map((k) => k.ChannelARN), [arn2], 'the cache holds the new ARN');
  const r3 = await run('fresh cache');
  eq(r3.s.httpCalls, 1, 'fresh cache: only GetIceServerConfig before the WebSocket');
  eq(r3.c.states().slice(0, 3), ['get-ice-config', 'connecting', 'connected'], 'fresh cache run states');
  await srv.stop();
});

suite.test('teardown: the shared server stops cleanly', async () => {
  eq(await st.srv.stop('SIGTERM'), { code: 0, signal: null }, 'exit after SIGTERM');
});

await suite.run();
