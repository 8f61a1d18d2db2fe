// The official KVS WebRTC JS SDK (amazon-kinesis-video-streams-webrtc
// SignalingClient) as master and viewers against the WebSocket data plane of
// `camrtc signaling`: routing, the 10-viewer quota, presigned-URL refusals,
// delivery to recipients not yet connected, key case, status responses,
// master replacement and the admin announcements.
import {
  requireDeps, Suite, startServer, tempDir, check, eq, sleep, presign, RawClient, b64json, unb64json,
  adminAnnounce, httpRequest, withTimeout,
} from './lib.mjs';

const BIN = requireDeps();
const K = await import('./kvs_common.mjs');
const { Peer, sdp, candidate } = K;

const CREDS = { accessKeyId: 'AKIAINTEROPSIGNAL001', secretAccessKey: 'interop/signaling/secret+key/000000000000', sessionToken: 'IQoJb3JpZ2luX2VjEInterop/Token+==' };

const suite = new Suite('kvs_js_signaling', { timeoutMs: 270000 });
const st = { peers: [] };
let seq = 0;
const uniq = (p) => `${p}-${++seq}`;

function peer(channel, opts) {
  const p = new Peer(channel, { creds: CREDS, ...opts });
  st.peers.push(p);
  return p;
}
const master = (ch, opts = {}) => peer(ch, { role: 'MASTER', ...opts });
const viewer = (ch, clientId, opts = {}) => peer(ch, { role: 'VIEWER', clientId, ...opts });

// Presigned data-plane URL made by our own signer (validated against the SDK
// signer in setup), so dates, expiry and fields can be chosen freely.
function url(ch, { clientId, arn = ch.arn, creds = CREDS, ...rest } = {}) {
  return presign({
    endpoint: ch.ep[clientId === undefined ? 'MASTER' : 'VIEWER'].WSS,
    query: { 'X-Amz-ChannelARN': arn, ...(clientId !== undefined ? { 'X-Amz-ClientId': clientId } : {}) },
    creds, ...rest,
  });
}

async function refused(u, status, what) {
  const r = await RawClient.connect(u);
  if (r.ok) {
    r.client.close();
    throw new Error(`${what}: the upgrade was accepted, expected HTTP ${status}`);
  }
  eq(r.status, status, `${what}: HTTP status of the refused upgrade (body ${r.body.slice(0, 200)})`);
}

const isCand = (tag) => (m) => m.messageType === 'ICE_CANDIDATE' && unb64json(m.messagePayload).candidate.includes(`ufrag ${tag}`);

// Ordering barrier: a marker from `from` to `to` arrives after anything `from`
// sent to `to` earlier, so "nothing else arrived" needs no sleep.
async function barrier(from, to) {
  const tag = uniq('marker');
  if (from.role === 'MASTER') from.sc.sendIceCandidate(candidate(tag), to.clientId);
  else from.sc.sendIceCandidate(candidate(tag));
  await to.rawNext(isCand(tag), 5000, `barrier marker ${tag} to ${to.name()}`);
}

// What a peer received, barrier markers left out, as 'TYPE:tag' (the SDP's
// s= line or the candidate's ufrag), to compare with what was meant for it.
function tagOf(m) {
  try {
    const p = unb64json(m.messagePayload);
    if (p.sdp) return /\r\ns=([^\r]*)\r\n/.exec(p.sdp)?.[1] ?? '?';
    if (p.candidate) return / ufrag (\S+)$/.exec(p.candidate)?.[1] ?? '?';
  } catch { /* not base64 JSON */ }
  return '?';
}
function received(p) {
  const all = p instanceof RawClient ? p.msgs.items.map((i) => i.args[0]) : p.rawAll();
  return all.map((m) => `${m.messageType}:${tagOf(m)}`).filter((x) => !/^ICE_CANDIDATE:marker-/.test(x));
}

// The SDK master of sig-main that later tests share (a test that replaces it
// or fails may leave it closed: open a new one then).
async function mainMaster() {
  if (!st.m || st.m.sc.readyState !== 1) {
    st.m = await master(st.main).open();
    st.m.keep = true;
  }
  return st.m;
}

// Each test drops (TCP) whatever clients it left open, so that one failure
// does not fill the channel for the next tests.
function test(name, fn, opts) {
  suite.test(name, async () => {
    const p0 = st.peers.length, r0 = RawClient.all.length;
    try {
      await fn();
    } finally {
      let dropped = 0;
      for (const p of st.peers.slice(p0)) {
        if (p.keep || p.sc.readyState === 3) continue;
        if (p.sc.websocket) p.sc.websocket.terminate();
        else p.sc.close(); // still signing: stops it before it connects
        dropped++;
      }
      for (const r of RawClient.all.slice(r0)) {
        if (r.ws.readyState === 3) continue;
        r.ws.terminate();
        dropped++;
      }
      if (dropped) await sleep(500); // let the service see the sockets go
    }
  }, opts);
}

suite.test('setup: server, channels, SDK signer agrees with the test signer', async () => {
  st.srv = await startServer(BIN, {
    stateDir: tempDir('signaling'),
    args: ['--access-key', CREDS.accessKeyId, '--secret-key', CREDS.secretAccessKey, '--session-token', CREDS.sessionToken,
      '--no-rate-limits'],
  });
  K.installWebSocket();
  const c = K.controlClient(st.srv, CREDS);
  st.main = await K.setupChannel(c, 'sig-main');
  st.offline = await K.setupChannel(c, 'sig-offline');
  st.ttl = await K.setupChannel(c, 'sig-ttl', 5);
  st.admin = await K.setupChannel(c, 'sig-admin');
  st.other = await K.setupChannel(c, 'sig-other');
  for (const r of ['MASTER', 'VIEWER']) {
    check(st.main.ep[r].WSS === `ws://127.0.0.1:${st.srv.port}` || st.main.ep[r].WSS === `ws://127.0.0.1:${st.srv.port}/`,
      `${r} WSS endpoint ${st.main.ep[r].WSS}`);
  }
  const date = new Date('2024-01-02T03:04:05Z');
  const sdkUrl = await K.wsSigner(CREDS).getSignedURL(st.main.ep.VIEWER.WSS, { 'X-Amz-ChannelARN': st.main.arn, 'X-Amz-ClientId': 'v-1' }, date);
  const ours = url(st.main, { clientId: 'v-1', date });
  const norm = (u) => { const x = new URL(u); x.searchParams.sort(); return x.toString(); };
  eq(norm(ours), norm(sdkUrl), 'test presigner vs SDK SigV4RequestSigner');
}, { fatal: true });

test('viewer offer reaches the master with its client id; answer and candidates reach only that viewer', async () => {
  const m = await mainMaster();
  const v1 = await viewer(st.main, 'viewer-1').open();
  const v2 = await viewer(st.main, 'viewer-2').open();
  const offer = sdp('offer', 'viewer-1', 6000);
  v1.sc.sendSdpOffer(offer);
  const [gotOffer, from] = await m.ev.next('sdpOffer');
  eq(gotOffer, offer, 'offer payload at master');
  eq(from, 'viewer-1', 'senderClientId of the offer');
  v1.sc.sendIceCandidate(candidate('v1c', 1));
  const [c1, c1from] = await m.ev.next('iceCandidate');
  eq([c1, c1from], [candidate('v1c', 1), 'viewer-1'], 'viewer candidate at master');
  const answer = sdp('answer', 'for-viewer-1', 3000);
  m.sc.sendSdpAnswer(answer, 'viewer-1');
  const [gotAnswer, aFrom] = await v1.ev.next('sdpAnswer');
  eq(gotAnswer, answer, 'answer payload at viewer-1');
  check(!aFrom, `a message from the master should have no senderClientId, got ${JSON.stringify(aFrom)}`);
  m.sc.sendIceCandidate(candidate('mc', 2), 'viewer-1');
  eq((await v1.ev.next('iceCandidate'))[0], candidate('mc', 2), 'master candidate at viewer-1');
  const rawAnswer = v1.rawAll().find((x) => x.messageType === 'SDP_ANSWER');
  check(rawAnswer && Object.keys(rawAnswer).every((k) => /^[a-z][A-Za-z]*$/.test(k)), `service→client keys must be camelCase: ${JSON.stringify(rawAnswer)}`);
  await barrier(m, v2);
  eq(received(v2), [], 'viewer-2 received messages meant for viewer-1');
  // Candidates sent before the offer: the SDK holds them until the offer.
  v2.sc.sendIceCandidate(candidate('early', 3));
  v2.sc.sendSdpOffer(sdp('offer', 'viewer-2'));
  const [, f2] = await m.ev.next('sdpOffer', (o, f) => f === 'viewer-2');
  eq(f2, 'viewer-2', 'second viewer offer sender');
  eq(await m.ev.next('iceCandidate', (c, f) => f === 'viewer-2'), [candidate('early', 3), 'viewer-2'], 'early candidate');
  await barrier(m, v1);
  eq(received(v1), ['SDP_ANSWER:for-viewer-1', 'ICE_CANDIDATE:mc'], 'what viewer-1 received');
  await barrier(v1, m);
  eq(received(m), ['SDP_OFFER:viewer-1', 'ICE_CANDIDATE:v1c', 'ICE_CANDIDATE:early', 'SDP_OFFER:viewer-2'], 'what the master received');
  await v1.close();
  await v2.close();
});

test('a client close is answered with a close frame and the connection ends', async () => {
  const r = await RawClient.connect(url(st.main, { clientId: 'closer' }));
  check(r.ok, `raw viewer refused: ${r.status}`);
  r.client.ws.close(1000, 'bye');
  const c = await withTimeout(r.client.closed, 3000, 'the close handshake (RFC 6455 5.5.1: the service echoes the close frame and ends the TCP connection)');
  eq(c.code, 1000, 'close code echoed by the service');
  const v = await viewer(st.main, 'closer-sdk').open();
  await v.close(3000);
});

test('WebSocket ping is answered; fragmented client messages are reassembled', async () => {
  const m = await mainMaster();
  const r = await RawClient.connect(url(st.main, { clientId: 'raw-frag' }));
  check(r.ok, `raw viewer refused: ${r.status}`);
  const ws = r.client.ws;
  const pong = new Promise((res) => ws.once('pong', (d) => res(d.toString())));
  ws.ping('are-you-there');
  eq(await pong, 'are-you-there', 'pong payload');
  const msg = JSON.stringify({ action: 'SDP_OFFER', messagePayload: b64json(sdp('offer', 'frag', 4000)) });
  const n = Math.ceil(msg.length / 3);
  ws.send(msg.slice(0, n), { fin: false });
  ws.send(msg.slice(n, 2 * n), { fin: false });
  ws.send(msg.slice(2 * n), { fin: true });
  const [o, f] = await m.ev.next('sdpOffer', (x, from) => from === 'raw-frag');
  eq(o, sdp('offer', 'frag', 4000), 'fragmented offer');
  eq(f, 'raw-frag', 'sender');
  await r.client.close();
});

test('10 viewers at once each get only their own answer; the 11th is refused, the 10 keep working', async () => {
  const m = await mainMaster();
  const vs = await Promise.all(Array.from({ length: 10 }, (_, i) => viewer(st.main, `multi-${i}`).open()));
  const v11 = viewer(st.main, 'multi-10');
  const [type, args] = await v11.openOutcome();
  check(type !== 'open', 'the 11th viewer was accepted');
  check(type === 'error' || type === 'close', `11th viewer: ${type}`);
  if (type === 'error') check(/400/.test(String(args[0]?.message)), `11th viewer error: ${args[0]?.message}`);
  await v11.ev.next('close', () => true, 5000, '11th viewer close');
  await refused(url(st.main, { clientId: 'multi-raw' }), 400, '11th viewer (raw)');
  for (const v of vs) v.sc.sendSdpOffer(sdp('offer', v.clientId));
  const seen = new Set();
  for (let i = 0; i < 10; i++) {
    const [o, from] = await m.ev.next('sdpOffer', (x, f) => f.startsWith('multi-'));
    check(o.sdp.includes(`s=${from}\r\n`), `offer from ${from} carries another viewer's SDP`);
    seen.add(from);
    m.sc.sendSdpAnswer(sdp('answer', `ans-${from}`), from);
  }
  eq(seen.size, 10, 'distinct offer senders');
  for (const v of vs) {
    const [a] = await v.ev.next('sdpAnswer');
    check(a.sdp.includes(`s=ans-${v.clientId}\r\n`), `${v.clientId} got the answer for ${a.sdp.match(/s=(.*)\r\n/)[1]}`);
  }
  for (const v of vs) await barrier(m, v);
  for (const v of vs) eq(received(v), [`SDP_ANSWER:ans-${v.clientId}`], `what ${v.clientId} received`);
  // A freed slot can be taken again.
  await vs[9].close();
  const again = await viewer(st.main, 'multi-again').open();
  again.sc.sendSdpOffer(sdp('offer', 'multi-again'));
  eq((await m.ev.next('sdpOffer', (x, f) => f === 'multi-again'))[1], 'multi-again', 'viewer in the freed slot');
  await Promise.all([...vs.slice(0, 9), again].map((v) => v.close()));
}, { timeoutMs: 60000 });

test('refused presigned URLs get the right HTTP status; connected clients are unaffected', async () => {
  const m = await mainMaster();
  const v = await viewer(st.main, 'survivor').open();
  const flip = (s) => s.slice(0, -1) + (s.endsWith('0') ? '1' : '0');
  const cases = [
    ['tampered signature', url(st.main, { clientId: 'x1', mutate: (p) => { p['X-Amz-Signature'] = flip(p['X-Amz-Signature']); } }), 403],
    ['tampered client id after signing', url(st.main, { clientId: 'x1', mutate: (p) => { p['X-Amz-ClientId'] = 'x2'; } }), 403],
    ['wrong secret', url(st.main, { clientId: 'x1', creds: { ...CREDS, secretAccessKey: CREDS.secretAccessKey + 'x' } }), 403],
    ['unknown access key', url(st.main, { clientId: 'x1', creds: { ...CREDS, accessKeyId: 'AKIAUNKNOWN000000000' } }), 403],
    ['no session token', url(st.main, { clientId: 'x1', creds: { ...CREDS, sessionToken: undefined } }), 403],
    ['wrong session token', url(st.main, { clientId: 'x1', creds: { ...CREDS, sessionToken: 'nope' } }), 403],
    ['wrong region', url(st.main, { clientId: 'x1', region: 'eu-west-1' }), 403],
    ['wrong service', url(st.main, { clientId: 'x1', service: 'kinesis' }), 403],
    ['date 10 min ahead', url(st.main, { clientId: 'x1', date: new Date(Date.now() + 600000) }), 403],
    ['date 10 min behind (past its 299 s expiry)', url(st.main, { clientId: 'x1', date: new Date(Date.now() - 600000) }), 403],
    ['expired (X-Amz-Expires=1, dated 10 s ago)', url(st.main, { clientId: 'x1', date: new Date(Date.now() - 10000), expires: 1 }), 403],
    ['master URL expired', url(st.main, { date: new Date(Date.now() - 10000), expires: 1 }), 403],
    ['signed for another host', url({ ...st.main, ep: { VIEWER: { WSS: `ws://localhost:${st.srv.port}` } } }, { clientId: 'x1' }).replace('localhost', '127.0.0.1'), 403],
    ['unknown channel ARN', url(st.main, { clientId: 'x1', arn: st.main.arn.replace('sig-main', 'sig-nope') }), 404],
    ['unknown channel ARN (master)', url(st.main, { arn: st.main.arn.replace('sig-main', 'sig-nope') }), 404],
    ['client id AWS_x', url(st.main, { clientId: 'AWS_x' }), 400],
    ['client id bad/id', url(st.main, { clientId: 'bad/id' }), 400],
    ['client id of 300 chars', url(st.main, { clientId: 'c'.repeat(300) }), 400],
    ['empty client id', url(st.main, { clientId: '' }), 400],
  ];
  for (const [what, u, status] of cases) await refused(u, status, what);
  // The SDK sees a refusal as 'error' then 'close', never 'open'.
  const bad = viewer(st.main, 'bad-secret', { creds: { ...CREDS, secretAccessKey: 'wrong' } });
  const [type, args] = await bad.openOutcome();
  eq(type, 'error', 'SDK outcome with a wrong secret');
  check(/403/.test(String(args[0]?.message)), `SDK error: ${args[0]?.message}`);
  await bad.ev.next('close');
  v.sc.sendSdpOffer(sdp('offer', 'survivor'));
  eq((await m.ev.next('sdpOffer', (x, f) => f === 'survivor'))[1], 'survivor', 'offer after the refusals');
  m.sc.sendSdpAnswer(sdp('answer', 'survivor'), 'survivor');
  await v.ev.next('sdpAnswer');
  await v.close();
}, { timeoutMs: 60000 });

test('messages to a viewer not yet connected are delivered when it connects', async () => {
  const m = await mainMaster();
  const answer = sdp('answer', 'late');
  m.sc.sendSdpAnswer(answer, 'late-viewer');
  m.sc.sendIceCandidate(candidate('late', 7), 'late-viewer');
  await sleep(1500);
  const v = await viewer(st.main, 'late-viewer').open();
  eq((await v.ev.next('sdpAnswer'))[0], answer, 'held answer');
  eq((await v.ev.next('iceCandidate'))[0], candidate('late', 7), 'held candidate');
  await barrier(m, v);
  eq(received(v), ['SDP_ANSWER:late', 'ICE_CANDIDATE:late'], 'what the late viewer received');
  await v.close();
});

test('offers sent while no master is connected reach the master when it connects', async () => {
  const v = await viewer(st.offline, 'early-viewer').open();
  const offer = sdp('offer', 'early');
  v.sc.sendSdpOffer(offer);
  v.sc.sendIceCandidate(candidate('ev', 1));
  await sleep(1000);
  const m = await master(st.offline).open();
  const [o, f] = await m.ev.next('sdpOffer');
  eq([o, f], [offer, 'early-viewer'], 'held offer');
  eq(await m.ev.next('iceCandidate'), [candidate('ev', 1), 'early-viewer'], 'held candidate');
  m.sc.sendSdpAnswer(sdp('answer', 'early'), 'early-viewer');
  await v.ev.next('sdpAnswer');
  await v.close();
  await m.close();
});

test('held messages expire after MessageTtlSeconds (5 s channel)', async () => {
  const mr = await RawClient.connect(url(st.ttl));
  check(mr.ok, `raw master refused: ${mr.status}`);
  mr.client.send({ action: 'SDP_ANSWER', recipientClientId: 'ttl-viewer', messagePayload: b64json(sdp('answer', 'expired')) });
  mr.client.send({ action: 'SDP_ANSWER', recipientClientId: 'ttl-viewer-2', messagePayload: b64json(sdp('answer', 'kept')) });
  await sleep(7500);
  mr.client.send({ action: 'SDP_ANSWER', recipientClientId: 'ttl-viewer', messagePayload: b64json(sdp('answer', 'fresh')) });
  const vr = await RawClient.connect(url(st.ttl, { clientId: 'ttl-viewer' }));
  check(vr.ok, `raw viewer refused: ${vr.status}`);
  const first = await vr.client.next('SDP_ANSWER');
  check(unb64json(first.messagePayload).sdp.includes('s=fresh\r\n'), `expired message delivered: ${unb64json(first.messagePayload).sdp.slice(0, 80)}`);
  await Promise.all([mr.client.close(), vr.client.close()]);
}, { timeoutMs: 20000 });

test('client→service keys are matched case-insensitively (C SDK PascalCase)', async () => {
  const m = await mainMaster();
  const v = await viewer(st.main, 'pascal').open();
  const vr = await RawClient.connect(url(st.main, { clientId: 'pascal-raw' }));
  check(vr.ok, 'raw viewer');
  vr.client.send({ Action: 'SDP_OFFER', MessagePayload: b64json(sdp('offer', 'pascal-raw')), CorrelationId: 'c-1' });
  eq((await m.ev.next('sdpOffer', (x, f) => f === 'pascal-raw'))[0].sdp.includes('s=pascal-raw\r\n'), true, 'PascalCase offer');
  // The SDK master sends camelCase; a C-SDK-style master sends PascalCase.
  const pm = await RawClient.connect(url(st.main));
  check(pm.ok, 'second (raw) master');
  await m.ev.next('close', () => true, 5000, 'old master closed when a new master connects');
  pm.client.send({ action: 'SDP_ANSWER', RecipientClientId: 'pascal', MessagePayload: b64json(sdp('answer', 'pascal')), CorrelationId: 'c-2' });
  check((await v.ev.next('sdpAnswer'))[0].sdp.includes('s=pascal\r\n'), 'PascalCase answer');
  pm.client.send({ ACTION: 'ICE_CANDIDATE', recipientclientid: 'pascal', messagepayload: b64json(candidate('mixed', 1)) });
  eq((await v.ev.next('iceCandidate'))[0], candidate('mixed', 1), 'odd-case candidate');
  // Offers now go to the new master.
  v.sc.sendSdpOffer(sdp('offer', 'to-new-master'));
  const got = await pm.client.next('SDP_OFFER');
  eq(got.senderClientId, 'pascal', 'senderClientId at the new master');
  check(unb64json(got.messagePayload).sdp.includes('s=to-new-master\r\n'), 'offer at the new master');
  await pm.client.close();
  await Promise.all([v.close(), vr.client.close()]);
});

test('errors come back as STATUS_RESPONSE only when a correlation id was given', async () => {
  const m = await mainMaster();
  const v = await viewer(st.main, 'status').open();
  // The SDK master may omit the recipient; the service must refuse that.
  m.sc.sendSdpAnswer(sdp('answer', 'nobody'));
  m.sc.sendSdpAnswer(sdp('answer', 'nobody'), undefined, 'corr-1');
  const [s] = await m.ev.next('statusResponse');
  eq(s.correlationId, 'corr-1', 'correlationId of the first status response');
  check(s.errorType && String(s.statusCode) !== '200', `status response: ${JSON.stringify(s)}`);
  const mr = await RawClient.connect(url(st.other));
  const sv = await RawClient.connect(url(st.other, { clientId: 'status-v' }));
  check(mr.ok && sv.ok, 'raw master and viewer on sig-other');
  mr.client.send({ action: 'SDP_BOGUS', recipientClientId: 'status-v', messagePayload: b64json({}) });
  mr.client.send({ action: 'SDP_BOGUS', recipientClientId: 'status-v', messagePayload: b64json({}), correlationId: 'corr-2' });
  const s2 = await mr.client.next('STATUS_RESPONSE');
  eq(s2.statusResponse?.correlationId, 'corr-2', `first STATUS_RESPONSE (${JSON.stringify(s2)})`);
  check(s2.statusResponse.errorType && String(s2.statusResponse.statusCode) !== '200', `status response: ${JSON.stringify(s2)}`);
  mr.client.send('{"action": "SDP_ANSWER", "recipientClientId": ');
  mr.client.send('[1,2,3]');
  mr.client.send({ action: 'ICE_CANDIDATE', recipientClientId: 'status-v', messagePayload: b64json(candidate('after-junk', 1)) });
  const c = await sv.client.next('ICE_CANDIDATE');
  eq(unb64json(c.messagePayload), candidate('after-junk', 1), 'candidate after malformed messages');
  eq(mr.client.ws.readyState, 1, 'master connection state after malformed messages');
  eq(mr.client.msgs.unused('message').map((i) => i.args[0]), [], 'replies to messages without a correlation id');
  eq(sv.client.msgs.items.length, 1, 'messages at the viewer (only the candidate)');
  await barrier(m, v);
  eq(received(v), [], 'what the viewer received');
  await Promise.all([mr.client.close(), sv.client.close(), v.close()]);
});

test('admin GO_AWAY and RECONNECT_ICE_SERVER reach every client of the channel', async () => {
  const mr = await RawClient.connect(url(st.admin));
  const vr = await RawClient.connect(url(st.admin, { clientId: 'admin-raw' }));
  check(mr.ok && vr.ok, 'raw clients');
  const vs = await viewer(st.admin, 'admin-sdk').open();
  const bystander = await RawClient.connect(url(st.other, { clientId: 'other-viewer' }));
  check(bystander.ok, 'raw client on another channel');
  let r = await adminAnnounce(st.srv, { ChannelARN: st.admin.arn, MessageType: 'RECONNECT_ICE_SERVER' });
  eq([r.status, r.json], [200, { Clients: 3 }], `announce RECONNECT_ICE_SERVER (${r.body})`);
  for (const [c, who] of [[mr.client, 'master'], [vr.client, 'viewer']]) {
    const msg = await c.next('RECONNECT_ICE_SERVER');
    check(!('senderClientId' in msg) || msg.senderClientId === '', `${who}: ${JSON.stringify(msg)}`);
  }
  await vs.rawNext((x) => x.messageType === 'RECONNECT_ICE_SERVER', 5000, 'RECONNECT_ICE_SERVER at the SDK viewer');
  // Nothing reached the other channel.
  mr.client.send({ action: 'ICE_CANDIDATE', recipientClientId: 'admin-raw', messagePayload: b64json(candidate('done', 1)) });
  await vr.client.next('ICE_CANDIDATE');
  eq(bystander.client.msgs.items.length, 0, 'messages on another channel');
  r = await adminAnnounce(st.srv, { ChannelName: 'sig-admin', MessageType: 'GO_AWAY' });
  eq([r.status, r.json], [200, { Clients: 3 }], `announce GO_AWAY (${r.body})`);
  await mr.client.next('GO_AWAY');
  await vr.client.next('GO_AWAY');
  await vs.rawNext((x) => x.messageType === 'GO_AWAY', 5000, 'GO_AWAY at the SDK viewer');
  check(vs.ev.count('error') === 0, 'the SDK reported an error on GO_AWAY');
  r = await adminAnnounce(st.srv, { ChannelName: 'sig-nope', MessageType: 'GO_AWAY' });
  check(r.status === 404, `announce on an unknown channel: ${r.status} ${r.body}`);
  r = await adminAnnounce(st.srv, { ChannelName: 'sig-admin', MessageType: 'SDP_OFFER' });
  check(r.status === 400, `announce with a bad MessageType: ${r.status} ${r.body}`);
  r = await adminAnnounce(st.srv, 'not json');
  check(r.status === 400, `announce with a bad body: ${r.status} ${r.body}`);
  const stats = await httpRequest(`${st.srv.url}/admin/stats`);
  check(stats.status === 200 && stats.json && typeof stats.json === 'object', `stats: ${stats.status} ${stats.body}`);
  await Promise.all([mr.client.close(), vr.client.close(), bystander.client.close(), vs.close()]);
});

suite.test('teardown: every SDK client closes, the server stops cleanly', async () => {
  await Promise.all(st.peers.map((p) => p.close().catch(() => {})));
  const stats = await httpRequest(`${st.srv.url}/admin/stats`);
  eq(stats.status, 200, 'stats status');
  console.log(`  stats: ${stats.body.slice(0, 400)}`);
  eq(await st.srv.stop('SIGTERM'), { code: 0, signal: null }, 'exit after SIGTERM');
});

await suite.run();
