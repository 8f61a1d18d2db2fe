// Connect time of the official KVS JS SDK, the reference for bench_sigclient:
//   node bench/kvs_js_connect.mjs --endpoint http://127.0.0.1:PORT --channel NAME [--runs 50]
// cold:   DescribeSignalingChannel, GetSignalingChannelEndpoint, GetIceServerConfig
//         (@aws-sdk clients), then SignalingClient.open() until 'open';
// cached: GetIceServerConfig, then SignalingClient.open().
// Clients are made once per run, as an application starting up would.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const interop = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'interop');
const lib = await import(path.join(interop, 'lib.mjs'));
const { kv, kvsig, SignalingClient, installWebSocket, wsSigner } = await import(path.join(interop, 'kvs_common.mjs'));

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const endpoint = arg('endpoint');
const channel = arg('channel');
const runs = Number(arg('runs', '50'));
if (!endpoint || !channel) {
  console.error('usage: kvs_js_connect.mjs --endpoint URL --channel NAME [--runs N]');
  process.exit(2);
}
installWebSocket(null);
const creds = lib.LOCAL_PAIR;
const region = lib.REGION;

async function once(cached, state) {
  const t0 = process.hrtime.bigint();
  if (!cached) {
    const c = new kv.KinesisVideoClient({ region, endpoint, credentials: creds, maxAttempts: 1 });
    let arn;
    try {
      arn = (await c.send(new kv.DescribeSignalingChannelCommand({ ChannelName: channel }))).ChannelInfo.ChannelARN;
    } catch (e) {
      if (e.name !== 'ResourceNotFoundException') throw e;
      arn = (await c.send(new kv.CreateSignalingChannelCommand({ ChannelName: channel }))).ChannelARN;
    }
    const r = await c.send(new kv.GetSignalingChannelEndpointCommand({
      ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: 'MASTER' },
    }));
    const ep = Object.fromEntries(r.ResourceEndpointList.map((e) => [e.Protocol, e.ResourceEndpoint]));
    Object.assign(state, { arn, wss: ep.WSS, https: ep.HTTPS });
  }
  const sig = new kvsig.KinesisVideoSignalingClient({ region, endpoint: state.https, credentials: creds, maxAttempts: 1 });
  await sig.send(new kvsig.GetIceServerConfigCommand({ ChannelARN: state.arn }));
  const sc = new SignalingClient({
    channelARN: state.arn, channelEndpoint: state.wss, role: 'MASTER', region,
    requestSigner: wsSigner(creds),
  });
  await new Promise((resolve, reject) => {
    sc.once('open', resolve);
    sc.once('error', reject);
    sc.open();
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await new Promise((resolve) => { sc.once('close', resolve); sc.close(); });
  return ms;
}

const state = {};
for (const mode of ['cold', 'cached']) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await once(mode === 'cached', state));
  samples.sort((a, b) => a - b);
  const p = (q) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))];
  console.log(JSON.stringify({ bench: 'signaling_connect', impl: 'kvs_js_sdk', mode, role: 'master', runs,
    p50_ms: Number(p(0.5).toFixed(2)), p99_ms: Number(p(0.99).toFixed(2)) }));
}
process.exit(0);
