// camrtc's own signaling client (`camrtc master|viewer --stdio`) with the
// official KVS WebRTC JS SDK on the other side, through `camrtc signaling`:
// routing by client id both ways, what our client reports, and STATUS_RESPONSE
// tied to the correlation id our client announced.
import { requireDeps, Suite, startServer, tempDir, check, eq, sleep, LOCAL_PAIR, unb64json } from './lib.mjs';
import { CamClient, checkStats } from './client_common.mjs';

const BIN = requireDeps();
const K = await import('./kvs_common.mjs');
const { Peer, sdp, candidate } = K;

// The service keeps its rate limits here: they are what answers with a status.
const suite = new Suite('client_interop', { timeoutMs: 120000 });
const st = { peers: [] };

const cam = (role, opts) => new CamClient(BIN, role, { endpoint: st.srv.url, ...opts });
function peer(channel, opts) {
  const p = new Peer(channel, { creds: LOCAL_PAIR, ...opts });
  st.peers.push(p);
  return p;
}

// Each test kills the clients it started and drops its SDK peers; a failure
// report carries what our clients said and logged.
function test(name, fn, opts) {
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

// 'TYPE:tag' for what an SDK peer received (tag: the SDP's s= line or the candidate's ufrag).
function tagOf(payload) {
  if (payload?.sdp) return /\r\ns=([^\r]*)\r\n/.exec(payload.sdp)?.[1] ?? '?';
  if (payload?.candidate) return / ufrag (\S+)$/.exec(payload.candidate)?.[1] ?? '?';
  return '?';
}
const rawReceived = (p) => p.rawAll()
  .filter((m) => ['SDP_OFFER', 'SDP_ANSWER', 'ICE_CANDIDATE'].includes(m.messageType))
  .map((m) => `${m.messageType}:${tagOf(unb64json(m.messagePayload))}`);
const camReceived = (c, from = 0) => c.messages(from).map((m) => `${m.type}:${m.from}:${tagOf(m.payload)}`);

suite.test('setup: camrtc signaling (with its rate limits)', async () => {
  st.srv = await startServer(BIN, { stateDir: tempDir('client-interop') });
  K.installWebSocket();
  st.ctl = K.controlClient(st.srv, LOCAL_PAIR);
}, { fatal: true });

test('our master: two SDK viewers\' offers and candidates arrive with their ids; answers and candidates by id reach only that viewer', async () => {
  const m = cam('master', { channel: 'ci-master', create: true });
  const up = await m.connected({ ms: 5000 });
  eq(m.states().slice(0, 5), ['describe', 'create', 'get-endpoint', 'get-ice-config', 'connecting'], 'first run of a new channel');
  const ch = await K.setupChannel(st.ctl, 'ci-master');
  const va = await peer(ch, { clientId: 'sdk-a' }).open();
  const vb = await peer(ch, { clientId: 'sdk-b' }).open();
  va.sc.sendSdpOffer(sdp('offer', 'offer-a', 4000));
  vb.sc.sendSdpOffer(sdp('offer', 'offer-b', 2000));
  va.sc.sendIceCandidate(candidate('cand-a', 1));
  vb.sc.sendIceCandidate(candidate('cand-b', 2));
  va.sc.sendIceCandidate(candidate('cand-a2', 3));
  const got = [];
  for (let i = 0; i < 5; i++) {
    got.push(await m.waitFor((e) => e.event === 'message' && !got.includes(e), { what: `message ${i + 1} of 5` }));
  }
  const byFrom = (id) => got.filter((e) => e.from === id).map((e) => `${e.type}:${tagOf(e.payload)}`);
  eq(byFrom('sdk-a'), ['SDP_OFFER:offer-a', 'ICE_CANDIDATE:cand-a', 'ICE_CANDIDATE:cand-a2'], 'what our master got from sdk-a, in order');
  eq(byFrom('sdk-b'), ['SDP_OFFER:offer-b', 'ICE_CANDIDATE:cand-b'], 'what our master got from sdk-b, in order');
  eq(got.find((e) => e.type === 'SDP_OFFER' && e.from === 'sdk-a').payload, sdp('offer', 'offer-a', 4000), 'offer payload as our master reports it');
  eq(got.find((e) => e.from === 'sdk-b' && e.type === 'ICE_CANDIDATE').payload, candidate('cand-b', 2), 'candidate payload as our master reports it');

  const sends = [
    ['SDP_ANSWER', 'sdk-a', sdp('answer', 'answer-a', 3000)],
    ['SDP_ANSWER', 'sdk-b', sdp('answer', 'answer-b')],
    ['ICE_CANDIDATE', 'sdk-a', candidate('mc-a', 4)],
    ['ICE_CANDIDATE', 'sdk-b', candidate('mc-b', 5)],
    ['ICE_CANDIDATE', 'sdk-a', candidate('mc-a2', 6)],
  ];
  const corrs = new Set();
  for (const [type, to, payload] of sends) {
    const r = await m.send(type, to, payload);
    eq(r.result, 'ok', `result of ${type} to ${to}`);
    check(typeof r.correlationId === 'string' && r.correlationId.length > 0 && !corrs.has(r.correlationId),
      `a fresh correlation id for each send, got ${JSON.stringify(r.correlationId)}`);
    corrs.add(r.correlationId);
  }
  const [ans] = await va.ev.next('sdpAnswer');
  eq(ans, sdp('answer', 'answer-a', 3000), 'answer at sdk-a');
  eq((await vb.ev.next('sdpAnswer'))[0], sdp('answer', 'answer-b'), 'answer at sdk-b');
  await va.rawNext((x) => x.messageType === 'ICE_CANDIDATE' && unb64json(x.messagePayload).candidate.includes('ufrag mc-a2'), 5000, 'last candidate at sdk-a');
  await vb.rawNext((x) => x.messageType === 'ICE_CANDIDATE' && unb64json(x.messagePayload).candidate.includes('ufrag mc-b'), 5000, 'candidate at sdk-b');
  // Everything from one connection to one recipient is ordered, so the last
  // message having arrived means nothing else is on its way.
  eq(rawReceived(va), ['SDP_ANSWER:answer-a', 'ICE_CANDIDATE:mc-a', 'ICE_CANDIDATE:mc-a2'], 'all that sdk-a received');
  eq(rawReceived(vb), ['SDP_ANSWER:answer-b', 'ICE_CANDIDATE:mc-b'], 'all that sdk-b received');
  const rawAns = va.rawAll().find((x) => x.messageType === 'SDP_ANSWER');
  check(!rawAns.senderClientId, `a message from the master carries no sender id: ${JSON.stringify(rawAns).slice(0, 200)}`);
  eq((await va.ev.next('iceCandidate'))[0], candidate('mc-a', 4), 'candidate as the SDK viewer parsed it');

  // A message for a viewer that is not connected is held, not refused.
  const held = await m.send('SDP_ANSWER', 'sdk-late', sdp('answer', 'answer-late'));
  eq(held.result, 'ok', 'send to a viewer not connected yet');
  await sleep(400); // the channel's connect rate is 3 per second: this is its 4th connection
  const late = await peer(ch, { clientId: 'sdk-late' }).open();
  eq((await late.ev.next('sdpAnswer'))[0], sdp('answer', 'answer-late'), 'held answer at the late viewer');
  check(m.all('status').length === 0, `status responses at our master: ${JSON.stringify(m.all('status'))}`);
  check(m.all('state', () => true, m.events.indexOf(up) + 1).length === 0, `state changes while connected: ${m.summary(m.events.indexOf(up) + 1)}`);
  const s = await m.stop();
  checkStats(s, { messagesIn: ['==', 5], messagesOut: ['==', 6], reconnects: ['==', 0], wsConnects: ['==', 1], httpCalls: ['==', 4] }, 'our master');
  await Promise.all([va.close(), vb.close(), late.close()]);
});

test('our viewer: its offer reaches the SDK master from its client id; the SDK master\'s answer and candidates reach it', async () => {
  const ch = await K.setupChannel(st.ctl, 'ci-viewer');
  const sm = await peer(ch, { role: 'MASTER' }).open();
  const v = cam('viewer', { channel: 'ci-viewer', clientId: 'cam-viewer-1' });
  await v.connected({ ms: 5000 });
  eq(v.states().slice(0, 4), ['describe', 'get-endpoint', 'get-ice-config', 'connecting'], 'viewer of an existing channel');
  const offer = sdp('offer', 'cam-offer', 5000);
  const r = await v.send('SDP_OFFER', undefined, offer);
  eq(r.result, 'ok', 'offer sent');
  check(r.correlationId, 'offer correlation id');
  const [o, from] = await sm.ev.next('sdpOffer');
  eq([o, from], [offer, 'cam-viewer-1'], 'offer and sender at the SDK master');
  const rawOffer = sm.rawAll().find((x) => x.messageType === 'SDP_OFFER');
  eq(rawOffer.senderClientId, 'cam-viewer-1', 'senderClientId on the wire');
  // A viewer's messages all go to the master; a recipient it names is ignored.
  for (const [n, to] of [[1, undefined], [2, 'somebody-else']]) {
    eq((await v.send('ICE_CANDIDATE', to, candidate('cam-c', n))).result, 'ok', `candidate ${n} sent`);
    eq(await sm.ev.next('iceCandidate'), [candidate('cam-c', n), 'cam-viewer-1'], `candidate ${n} at the SDK master`);
  }
  const mark = v.mark();
  sm.sc.sendSdpAnswer(sdp('answer', 'sdk-answer', 2500), 'cam-viewer-1');
  sm.sc.sendIceCandidate(candidate('sdk-c1', 7), 'cam-viewer-1');
  sm.sc.sendIceCandidate(candidate('sdk-c2', 8), 'cam-viewer-1');
  await v.waitFor((e) => e.event === 'message' && tagOf(e.payload) === 'sdk-c2', { from: mark, what: 'the last SDK master candidate' });
  eq(camReceived(v, mark), ['SDP_ANSWER::sdk-answer', 'ICE_CANDIDATE::sdk-c1', 'ICE_CANDIDATE::sdk-c2'], 'what our viewer received (type:from:tag)');
  eq(v.messages(mark)[0].payload, sdp('answer', 'sdk-answer', 2500), 'answer payload at our viewer');
  eq(v.messages(mark)[2].payload, candidate('sdk-c2', 8), 'candidate payload at our viewer');
  const s = await v.stop();
  checkStats(s, { messagesIn: ['==', 3], messagesOut: ['==', 3], reconnects: ['==', 0], wsConnects: ['==', 1] }, 'our viewer');
  await sm.close();
});

test('STATUS_RESPONSE: offers over the service\'s rate come back with the correlation ids our viewer reported; oversize and recipient-less sends are refused locally', async () => {
  const ch = await K.setupChannel(st.ctl, 'ci-status');
  const sm = await peer(ch, { role: 'MASTER' }).open();
  const v = cam('viewer', { channel: 'ci-status', clientId: 'cam-burst' });
  await v.connected({ ms: 5000 });
  await sleep(1100); // a full SDP token bucket (5 per second) for a known start
  const from = v.mark();
  const N = 9;
  for (let i = 0; i < N; i++) v.write({ send: 'SDP_OFFER', payload: sdp('offer', `burst-${i}`, 800) });
  const sent = [];
  for (let i = 0; i < N; i++) sent.push(await v.waitFor((e) => e.event === 'sent' && !sent.includes(e), { from, what: `"sent" ${i + 1} of ${N}` }));
  eq(sent.map((e) => e.result), Array(N).fill('ok'), 'send results');
  const ids = sent.map((e) => e.correlationId);
  eq(new Set(ids).size, N, `distinct correlation ids (${ids.join(' ')})`);
  // The ICE candidate bucket is separate: this goes through and, arriving
  // after every offer that did, tells us when to count.
  eq((await v.send('ICE_CANDIDATE', undefined, candidate('after-burst', 1))).result, 'ok', 'marker sent');
  await sm.rawNext((x) => x.messageType === 'ICE_CANDIDATE' && unb64json(x.messagePayload).candidate.includes('ufrag after-burst'), 5000, 'marker at the SDK master');
  const delivered = rawReceived(sm).filter((x) => x.startsWith('SDP_OFFER:burst-'));
  const nRefused = N - delivered.length;
  check(nRefused >= N - 5 - 1, `at least ${N - 6} of ${N} offers sent at once should be over the 5/s rate; the SDK master got ${delivered.length}`);
  const nth = (k) => (e) => e.event === 'status' && v.all('status', () => true, from).indexOf(e) === k - 1;
  await v.waitFor(nth(nRefused), { from, what: `status response ${nRefused} (one per refused offer)` });
  const statuses = v.all('status', () => true, from);
  for (const s of statuses) {
    check(ids.includes(s.correlationId), `status for a correlation id our client never reported: ${JSON.stringify(s)}`);
    eq([s.errorType, s.statusCode], ['ClientLimitExceededException', 400], `status ${s.correlationId}`);
    check(typeof s.description === 'string' && s.description.length > 0, `status description: ${JSON.stringify(s)}`);
  }
  const refused = new Set(statuses.map((s) => s.correlationId));
  eq(refused.size, statuses.length, 'one status per refused message');
  const expected = ids.map((id, i) => (refused.has(id) ? null : `SDP_OFFER:burst-${i}`)).filter(Boolean);
  eq(delivered, expected, 'offers at the SDK master = those without a status, in order');

  const big = await v.send('SDP_OFFER', undefined, sdp('offer', 'too-big', 11000));
  eq([big.result, big.correlationId], ['CAMRTC_ETOOBIG', ''], 'an 11 KB offer (over the 10 KB payload limit)');
  const s = await v.stop();
  checkStats(s, { messagesOut: ['==', N + 1], reconnects: ['==', 0] }, 'our viewer');
  eq(v.all('status', () => true, from).length, nRefused, 'status events in all (none late, none extra)');

  // A master must name the viewer: refused before it reaches the wire.
  const m = cam('master', { channel: 'ci-status' });
  await m.connected({ ms: 5000 });
  const r = await m.send('SDP_ANSWER', undefined, sdp('answer', 'nobody'));
  eq([r.result, r.correlationId], ['CAMRTC_EINVAL', ''], 'master send without "to"');
  const bad = await m.send('SDP_ANSWER', 'bad/id', sdp('answer', 'nobody'));
  eq(bad.result, 'CAMRTC_EINVAL', 'master send to a malformed client id');
  const ms = await m.stop();
  checkStats(ms, { messagesOut: ['==', 0] }, 'our master');
  await sm.close().catch(() => {}); // replaced by our master: already closed
});

suite.test('teardown: the server stops cleanly', async () => {
  eq(await st.srv.stop('SIGTERM'), { code: 0, signal: null }, 'exit after SIGTERM');
});

await suite.run();
