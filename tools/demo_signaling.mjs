// The signaling demo: a master and two viewers, each the official KVS WebRTC JS
// SDK, exchange SDP offers, answers and ICE candidates through `camrtc signaling`.
// (Until camrtc's own master and viewer stream video, this is the main job.)
//   CAMRTC_BIN=build/src/app/camrtc node tools/demo_signaling.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const interop = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'interop');
const lib = await import(path.join(interop, 'lib.mjs'));
const bin = lib.requireDeps();
const { controlClient, setupChannel, Peer, installWebSocket, sdp, candidate } =
  await import(path.join(interop, 'kvs_common.mjs'));

const t0 = Date.now();
const say = (s) => console.log(`[${String(Date.now() - t0).padStart(5)} ms] ${s}`);

const suite = new lib.Suite('demo', { timeoutMs: 60000 });
suite.test('master and two viewers exchange signaling through camrtc signaling', async () => {
  const srv = await lib.startServer(bin, { stateDir: lib.tempDir('demo') });
  say(`camrtc signaling is up at ${srv.url} (local key ${lib.LOCAL_PAIR.accessKeyId}, region ${lib.REGION})`);
  installWebSocket(null);
  const c = controlClient(srv, lib.LOCAL_PAIR);
  const ch = await setupChannel(c, 'demo-channel');
  say(`channel ${ch.name}: ${ch.arn}`);
  say(`  master endpoint ${ch.ep.MASTER.WSS}, control ${ch.ep.MASTER.HTTPS}`);

  const master = await new Peer(ch, { role: 'MASTER', creds: lib.LOCAL_PAIR }).open();
  say('master connected');
  const viewers = [];
  for (const id of ['viewer-1', 'viewer-2']) {
    viewers.push(await new Peer(ch, { clientId: id, creds: lib.LOCAL_PAIR }).open());
    say(`${id} connected`);
  }
  for (const v of viewers) {
    v.sc.sendSdpOffer(sdp('offer', v.clientId, 1200));
    say(`${v.clientId} -> SDP_OFFER`);
    v.sc.sendIceCandidate(candidate(v.clientId, 1));
    say(`${v.clientId} -> ICE_CANDIDATE`);
  }
  for (let i = 0; i < viewers.length; i++) {
    const [offer, from] = await master.ev.next('sdpOffer', () => true, 5000, 'offer at master');
    say(`master <- SDP_OFFER from ${from} (${offer.sdp.length} bytes of SDP)`);
    master.sc.sendSdpAnswer(sdp('answer', from, 1200), from);
    say(`master -> SDP_ANSWER to ${from}`);
    master.sc.sendIceCandidate(candidate('master', i + 1), from);
    say(`master -> ICE_CANDIDATE to ${from}`);
  }
  for (let i = 0; i < viewers.length; i++) {
    const [cand, from] = await master.ev.next('iceCandidate', () => true, 5000, 'candidate at master');
    say(`master <- ICE_CANDIDATE from ${from}: ${cand.candidate.split(' ').slice(4, 8).join(' ')}`);
  }
  for (const v of viewers) {
    const [answer] = await v.ev.next('sdpAnswer', () => true, 5000, `answer at ${v.clientId}`);
    lib.check(answer.sdp.includes(`s=${v.clientId}`), `${v.clientId} got someone else's answer`);
    say(`${v.clientId} <- SDP_ANSWER meant for it`);
    const [cand] = await v.ev.next('iceCandidate', () => true, 5000, `candidate at ${v.clientId}`);
    say(`${v.clientId} <- ICE_CANDIDATE: ${cand.candidate.split(' ').slice(4, 8).join(' ')}`);
  }
  for (const p of [...viewers, master]) await p.close();
  const stats = await lib.httpRequest(`${srv.url}/admin/stats`);
  const h = JSON.parse(stats.body).Hub;
  say(`service counters: ${h.MessagesRouted} messages routed, ${h.Connects} connects, ` +
      `${h.DroppedMalformed + h.DroppedRate + h.DroppedTooLarge} dropped`);
});
await suite.run();
