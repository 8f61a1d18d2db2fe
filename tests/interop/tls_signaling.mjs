// The core of aws_sdk_control and kvs_js_signaling over TLS: `camrtc signaling
// --tls` with its own CA. The AWS SDK trusts the printed CA through an
// https.Agent; the KVS SDK uses its default signer on the wss:// endpoint and a
// `ws` subclass that trusts the CA. Credentials come from the server's
// environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
import fs from 'node:fs';
import https from 'node:https';
import {
  requireDeps, Suite, startServer, tempDir, check, eq, rejects, turnPassword, adminAnnounce, presign, RawClient,
  loopback, REGION,
} from './lib.mjs';

const BIN = requireDeps();
const K = await import('./kvs_common.mjs');
const { Peer, sdp, candidate, kv } = K;

const CREDS = { accessKeyId: 'AKIAINTEROPTLS000001', secretAccessKey: 'interop/tls/secret/key+0000000000000000' };
const TURN_SECRET = 'tls-turn-secret';
const TURN_URL = 'turn:127.0.0.1:3478?transport=udp';

const suite = new Suite('tls_signaling', { timeoutMs: 180000 });
const st = { peers: [] };
const stateDir = tempDir('tls');

const start = () => startServer(BIN, {
  stateDir,
  args: ['--tls', '--turn-url', TURN_URL, '--turn-secret', TURN_SECRET],
  env: { AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey },
});

suite.test('start camrtc signaling --tls; it prints an https URL and its CA', async () => {
  st.srv = await start();
  check(st.srv.url.startsWith('https://127.0.0.1:'), `URL ${st.srv.url}`);
  check(/-----BEGIN CERTIFICATE-----/.test(st.srv.ca.toString()), `CA file ${st.srv.caPath} is not PEM`);
  check(st.srv.caPath.startsWith(stateDir), `CA ${st.srv.caPath} is outside the state dir ${stateDir}`);
  K.installWebSocket(st.srv.ca);
  st.c = K.controlClient(st.srv, CREDS);
}, { fatal: true });

suite.test('without the CA the certificate is not trusted', async () => {
  const untrusted = new kv.KinesisVideoClient({ region: REGION, endpoint: loopback(st.srv.url), credentials: CREDS, maxAttempts: 1 });
  const e = await rejects(untrusted.send(new kv.ListSignalingChannelsCommand({})), 'TLS without the CA');
  check(/certificate|self.signed|issuer/i.test(`${e.code} ${e.message}`), `unexpected error: ${e.code} ${e.message}`);
  // The certificate names 127.0.0.1 (and chains to the printed CA).
  await new Promise((resolve, reject) => {
    const req = https.request(`${st.srv.url}/admin/stats`, { ca: st.srv.ca, agent: false }, (res) => {
      const cert = res.socket.getPeerCertificate();
      res.resume();
      try {
        check(/IP Address:127\.0\.0\.1/.test(cert.subjectaltname || ''), `subjectAltName ${cert.subjectaltname}`);
        resolve();
      } catch (err) { reject(err); }
    });
    req.on('error', reject);
    req.end();
  });
});

suite.test('create, describe, list, endpoints over https', async () => {
  st.ch = await K.setupChannel(st.c, 'tls-chan');
  check(/^arn:aws:kinesisvideo:us-west-2:\d{12}:channel\/tls-chan\/\d{13}$/.test(st.ch.arn), `ARN ${st.ch.arn}`);
  const d = await st.c.send(new kv.DescribeSignalingChannelCommand({ ChannelARN: st.ch.arn }));
  eq([d.ChannelInfo.ChannelName, d.ChannelInfo.ChannelStatus], ['tls-chan', 'ACTIVE'], 'describe');
  const l = await st.c.send(new kv.ListSignalingChannelsCommand({ MaxResults: 1 }));
  eq(l.ChannelInfoList.map((i) => i.ChannelARN), [st.ch.arn], 'list');
  for (const r of ['MASTER', 'VIEWER']) {
    const w = new URL(st.ch.ep[r].WSS), h = new URL(st.ch.ep[r].HTTPS);
    eq([w.protocol, w.hostname, Number(w.port)], ['wss:', '127.0.0.1', st.srv.port], `${r} WSS endpoint ${st.ch.ep[r].WSS}`);
    eq([h.protocol, h.hostname, Number(h.port)], ['https:', '127.0.0.1', st.srv.port], `${r} HTTPS endpoint ${st.ch.ep[r].HTTPS}`);
  }
  const e = await rejects(K.controlClient(st.srv, { ...CREDS, secretAccessKey: 'wrong' })
    .send(new kv.DescribeSignalingChannelCommand({ ChannelName: 'tls-chan' })), 'wrong secret');
  eq(e.$metadata?.httpStatusCode, 403, `wrong secret (${e.name})`);
});

suite.test('GetIceServerConfig on the https channel endpoint', async () => {
  const sc = K.signalingControlClient(st.srv, st.ch.ep.VIEWER.HTTPS, CREDS);
  const r = await sc.send(new K.kvsig.GetIceServerConfigCommand({ ChannelARN: st.ch.arn, ClientId: 'tls-viewer', Service: 'TURN' }));
  const turn = r.IceServerList.find((s) => s.Uris.includes(TURN_URL));
  check(turn, `no ${TURN_URL} in ${JSON.stringify(r.IceServerList)}`);
  check(/^\d+:tls-viewer$/.test(turn.Username), `Username ${turn.Username}`);
  eq(turn.Password, turnPassword(TURN_SECRET, turn.Username), 'Password');
});

suite.test('KVS SDK master and viewer over wss:// with the default signer', async () => {
  const m = new Peer(st.ch, { role: 'MASTER', creds: CREDS });
  const v = new Peer(st.ch, { role: 'VIEWER', clientId: 'tls-viewer', creds: CREDS });
  st.peers.push(m, v);
  await m.open();
  await v.open();
  check(v.sc.websocket.url.startsWith('wss://127.0.0.1:'), `viewer URL ${v.sc.websocket.url}`);
  const offer = sdp('offer', 'tls-viewer', 5000);
  v.sc.sendSdpOffer(offer);
  eq(await m.ev.next('sdpOffer'), [offer, 'tls-viewer'], 'offer at master');
  v.sc.sendIceCandidate(candidate('tv', 1));
  eq(await m.ev.next('iceCandidate'), [candidate('tv', 1), 'tls-viewer'], 'candidate at master');
  const answer = sdp('answer', 'tls-master');
  m.sc.sendSdpAnswer(answer, 'tls-viewer');
  eq((await v.ev.next('sdpAnswer'))[0], answer, 'answer at viewer');
  m.sc.sendIceCandidate(candidate('tm', 2), 'tls-viewer');
  eq((await v.ev.next('iceCandidate'))[0], candidate('tm', 2), 'candidate at viewer');
  // A bad signature over TLS is refused with 403 on the upgrade.
  const bad = presign({
    endpoint: st.ch.ep.VIEWER.WSS, creds: { ...CREDS, secretAccessKey: 'wrong' },
    query: { 'X-Amz-ChannelARN': st.ch.arn, 'X-Amz-ClientId': 'tls-bad' },
  });
  const r = await RawClient.connect(bad, { ca: st.srv.ca });
  check(!r.ok, 'bad signature accepted over wss');
  eq(r.status, 403, 'status of a bad signature over wss');
  const a = await adminAnnounce(st.srv, { ChannelARN: st.ch.arn, MessageType: 'RECONNECT_ICE_SERVER' });
  eq([a.status, a.json], [200, { Clients: 2 }], `admin announce over https (${a.body})`);
  await m.rawNext((x) => x.messageType === 'RECONNECT_ICE_SERVER', 5000, 'RECONNECT_ICE_SERVER at the master');
  await Promise.all([m.close(), v.close()]);
});

suite.test('restart keeps the CA and the channel', async () => {
  const ca = st.srv.ca.toString();
  eq(await st.srv.stop(), { code: 0, signal: null }, 'exit after SIGTERM');
  st.srv = await start();
  eq(st.srv.ca.toString(), ca, 'CA after restart');
  eq(fs.readFileSync(st.srv.caPath, 'utf8'), ca, 'CA file after restart');
  const c = K.controlClient(st.srv, CREDS);
  const d = await c.send(new kv.DescribeSignalingChannelCommand({ ChannelName: 'tls-chan' }));
  eq(d.ChannelInfo.ChannelARN, st.ch.arn, 'ARN after restart');
  eq(await st.srv.stop(), { code: 0, signal: null }, 'exit after SIGTERM');
});

await suite.run();
