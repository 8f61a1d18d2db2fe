// The signaling demo: camrtc's own master (the camera side) with two viewers — one
// the official KVS WebRTC JS SDK, one `camrtc viewer` — exchanging SDP offers,
// answers and ICE candidates through `camrtc signaling`, the local KVS-compatible
// service. (Until camrtc streams video, this is the main job.)
//   CAMRTC_BIN=build/src/app/camrtc node tools/demo_signaling.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const interop = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'interop');
const lib = await import(path.join(interop, 'lib.mjs'));
const bin = lib.requireDeps();
const { controlClient, setupChannel, Peer, installWebSocket, sdp, candidate } =
  await import(path.join(interop, 'kvs_common.mjs'));
const { CamClient } = await import(path.join(interop, 'client_common.mjs'));

const t0 = Date.now();
const say = (s) => console.log(`[${String(Date.now() - t0).padStart(5)} ms] ${s}`);
const short = (c) => c.candidate.split(' ').slice(4, 8).join(' ');

const suite = new lib.Suite('demo', { timeoutMs: 60000 });
suite.test('camrtc master, an official-SDK viewer and a camrtc viewer through camrtc signaling', async () => {
  const srv = await lib.startServer(bin, { stateDir: lib.tempDir('demo') });
  say(`camrtc signaling is up at ${srv.url} (local key ${lib.LOCAL_PAIR.accessKeyId}, region ${lib.REGION})`);

  const master = new CamClient(bin, 'master', { channel: 'demo-channel', endpoint: srv.url, create: true });
  await master.connected({ ms: 5000 });
  say(`camrtc master connected: ${master.states().join(' -> ')}`);

  installWebSocket(null);
  const ch = await setupChannel(controlClient(srv, lib.LOCAL_PAIR), 'demo-channel');
  say(`channel ${ch.name}: ${ch.arn}`);
  const sdkViewer = await new Peer(ch, { clientId: 'sdk-viewer', creds: lib.LOCAL_PAIR }).open();
  say('sdk-viewer (official KVS WebRTC JS SDK) connected');
  const camViewer = new CamClient(bin, 'viewer', { channel: 'demo-channel', endpoint: srv.url, clientId: 'camrtc-viewer' });
  await camViewer.connected({ ms: 5000 });
  say(`camrtc-viewer connected: ${camViewer.states().join(' -> ')}`);

  sdkViewer.sc.sendSdpOffer(sdp('offer', 'sdk-viewer', 1200));
  sdkViewer.sc.sendIceCandidate(candidate('sdk-viewer', 1));
  say('sdk-viewer -> SDP_OFFER, ICE_CANDIDATE');
  await camViewer.send('SDP_OFFER', undefined, sdp('offer', 'camrtc-viewer', 1200));
  await camViewer.send('ICE_CANDIDATE', undefined, candidate('camrtc-viewer', 2));
  say('camrtc-viewer -> SDP_OFFER, ICE_CANDIDATE');

  for (const from of ['sdk-viewer', 'camrtc-viewer']) {
    const offer = await master.waitFor((e) => e.event === 'message' && e.type === 'SDP_OFFER' && e.from === from,
      { what: `offer from ${from}` });
    say(`camrtc master <- SDP_OFFER from ${from} (${offer.payload.sdp.length} bytes of SDP)`);
    const cand = await master.waitFor((e) => e.event === 'message' && e.type === 'ICE_CANDIDATE' && e.from === from,
      { what: `candidate from ${from}` });
    say(`camrtc master <- ICE_CANDIDATE from ${from}: ${short(cand.payload)}`);
    const r = await master.send('SDP_ANSWER', from, sdp('answer', from, 1200));
    await master.send('ICE_CANDIDATE', from, candidate('master', 9));
    say(`camrtc master -> SDP_ANSWER and ICE_CANDIDATE to ${from} (correlation id ${r.correlationId})`);
  }
  const [answer] = await sdkViewer.ev.next('sdpAnswer', () => true, 5000, 'answer at sdk-viewer');
  lib.check(answer.sdp.includes('s=sdk-viewer'), 'sdk-viewer got someone else\'s answer');
  say('sdk-viewer <- SDP_ANSWER meant for it');
  const [mc] = await sdkViewer.ev.next('iceCandidate', () => true, 5000, 'candidate at sdk-viewer');
  say(`sdk-viewer <- ICE_CANDIDATE: ${short(mc)}`);
  const a2 = await camViewer.waitFor((e) => e.event === 'message' && e.type === 'SDP_ANSWER', { what: 'answer at camrtc-viewer' });
  lib.check(a2.payload.sdp.includes('s=camrtc-viewer'), 'camrtc-viewer got someone else\'s answer');
  say('camrtc-viewer <- SDP_ANSWER meant for it');
  const c2 = await camViewer.waitFor((e) => e.event === 'message' && e.type === 'ICE_CANDIDATE', { what: 'candidate at camrtc-viewer' });
  say(`camrtc-viewer <- ICE_CANDIDATE: ${short(c2.payload)}`);

  const sm = await master.stop();
  await camViewer.stop();
  await sdkViewer.close();
  const h = JSON.parse((await lib.httpRequest(`${srv.url}/admin/stats`)).body).Hub;
  say(`camrtc master: ${sm.messagesIn} messages in, ${sm.messagesOut} out, ${sm.httpCalls} control-plane calls`);
  say(`service: ${h.MessagesRouted} messages routed, ${h.Connects} connects, ` +
      `${h.DroppedMalformed + h.DroppedRate + h.DroppedTooLarge} dropped`);
});
await suite.run();
