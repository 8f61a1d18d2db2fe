// Helpers around the official clients, shared by the signaling scripts. This
// module imports npm packages: load it with `await import()` after
// requireDeps() so a missing node_modules gives a clear message.
import https from 'node:https';
import { createRequire } from 'node:module';
import WS from 'ws';
import * as kv from '@aws-sdk/client-kinesis-video';
import * as kvsig from '@aws-sdk/client-kinesis-video-signaling';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Collector, AssertionError, REGION, loopback } from './lib.mjs';

const require = createRequire(import.meta.url);
export const { SignalingClient, SigV4RequestSigner, Role } = require('amazon-kinesis-video-streams-webrtc');
export { kv, kvsig, WS };

// The KVS SDK does `new WebSocket(url)` on the global. With a CA, a `ws`
// subclass that trusts it (the SDK has no TLS options of its own).
export function installWebSocket(ca) {
  globalThis.WebSocket = ca
    ? class CaWebSocket extends WS {
      constructor(url, protocols, opts) { super(url, protocols, { ...(opts || {}), ca }); }
    }
    : WS;
}

// The SDK signer only takes wss:// endpoints. The signature covers host, path
// and query but not the scheme, so sign the wss:// form and swap back.
export function wsSigner(creds, region = REGION) {
  const inner = new SigV4RequestSigner(region, creds);
  return {
    async getSignedURL(endpoint, query, date) {
      if (!endpoint.startsWith('ws://')) return inner.getSignedURL(endpoint, query, date);
      const url = await inner.getSignedURL('wss://' + endpoint.slice(5), query, date);
      return 'ws://' + url.slice(6);
    },
  };
}

export function controlClient(srv, credentials, opts = {}) {
  return new kv.KinesisVideoClient({
    region: REGION, endpoint: loopback(srv.url), credentials, maxAttempts: 1,
    ...(srv.ca ? { requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: srv.ca }) }) } : {}),
    ...opts,
  });
}

export function signalingControlClient(srv, endpoint, credentials) {
  return new kvsig.KinesisVideoSignalingClient({
    region: REGION, endpoint: loopback(endpoint), credentials, maxAttempts: 1,
    ...(srv.ca ? { requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: srv.ca }) }) } : {}),
  });
}

// Create (or reuse) a channel and fetch its endpoints as the C SDK does.
export async function setupChannel(c, name, ttl = 60) {
  let arn;
  try {
    arn = (await c.send(new kv.CreateSignalingChannelCommand({
      ChannelName: name, ChannelType: 'SINGLE_MASTER', SingleMasterConfiguration: { MessageTtlSeconds: ttl },
    }))).ChannelARN;
  } catch (e) {
    if (e.name !== 'ResourceInUseException') throw e;
    arn = (await c.send(new kv.DescribeSignalingChannelCommand({ ChannelName: name }))).ChannelInfo.ChannelARN;
  }
  const ep = {};
  for (const Role of ['MASTER', 'VIEWER']) {
    const r = await c.send(new kv.GetSignalingChannelEndpointCommand({
      ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role },
    }));
    ep[Role] = Object.fromEntries(r.ResourceEndpointList.map((e) => [e.Protocol, e.ResourceEndpoint]));
  }
  return { name, arn, ep };
}

const EVENTS = ['open', 'close', 'error', 'sdpOffer', 'sdpAnswer', 'iceCandidate', 'statusResponse'];

// One SignalingClient plus a record of everything it emitted.
export class Peer {
  constructor(channel, { role = 'VIEWER', clientId, creds, signer, systemClockOffset } = {}) {
    this.role = role;
    this.clientId = clientId;
    this.sc = new SignalingClient({
      channelARN: channel.arn,
      channelEndpoint: loopback(channel.ep[role].WSS),
      role,
      clientId: role === 'VIEWER' ? clientId : undefined,
      region: REGION,
      ...(signer ? { requestSigner: signer } : channel.ep[role].WSS.startsWith('ws://') ? { requestSigner: wsSigner(creds) } : { credentials: creds }),
      systemClockOffset,
    });
    this.ev = new Collector(this.sc, EVENTS);
    // Everything the service sent, as parsed JSON, seen beside the SDK (which
    // drops some types and holds early candidates).
    this.raw = new Collector({ on() {} }, []);
    this.sc.on('open', () => this.sc.websocket.addEventListener('message', (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch { m = { unparsable: String(e.data) }; }
      this.raw.push('message', [m]);
    }));
  }

  rawNext(pred, ms = 5000, what = 'message') {
    return this.raw.next('message', pred, ms, what).then(([m]) => m);
  }

  rawAll() { return this.raw.items.map((i) => i.args[0]); }

  // Resolves when open; rejects with the SDK's error if it fails first.
  async open(ms = 5000) {
    this.sc.open();
    const [type, args] = await this.ev.nextAny(['open', 'error', 'close'], ms, `${this.name()} open`);
    if (type !== 'open') throw new AssertionError(`${this.name()} did not open: ${type} ${args[0]?.message ?? args[0]?.type ?? ''}`);
    return this;
  }

  // Resolves [type, args] of the first of open/error/close (for refusals).
  async openOutcome(ms = 5000) {
    this.sc.open();
    return this.ev.nextAny(['open', 'error', 'close'], ms, `${this.name()} open outcome`);
  }

  async close(ms = 5000) {
    if (this.sc.readyState === 3) return;
    const closed = this.ev.next('close', () => true, ms, `${this.name()} close`);
    this.sc.close();
    await closed;
  }

  name() { return this.role === 'MASTER' ? 'master' : `viewer ${this.clientId}`; }
}

// A realistic offer/answer payload of roughly `size` bytes naming `tag`.
export function sdp(type, tag, size = 1500) {
  const lines = [
    'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', `s=${tag}`, 't=0 0',
    'a=group:BUNDLE 0', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS',
    'm=video 9 UDP/TLS/RTP/SAVPF 102 103', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:Ab3d', 'a=ice-pwd:0123456789abcdefghijklmn', 'a=ice-options:trickle',
    'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, (_, i) => (i * 7 % 256).toString(16).padStart(2, '0').toUpperCase()).join(':'),
    `a=setup:${type === 'offer' ? 'actpass' : 'active'}`, 'a=mid:0', 'a=recvonly', 'a=rtcp-mux', 'a=rtcp-rsize',
    'a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 nack', 'a=rtcp-fb:102 nack pli', 'a=rtcp-fb:102 goog-remb',
    'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    'a=rtpmap:103 rtx/90000', 'a=fmtp:103 apt=102',
  ];
  let i = 0;
  while (lines.join('\r\n').length < size) lines.push(`a=x-pad-${tag}-${i++}:${'z'.repeat(40)}`);
  return { type, sdp: lines.join('\r\n') + '\r\n' };
}

export function candidate(tag, n = 1) {
  return {
    candidate: `candidate:${n} 1 udp ${2122260223 - n} 127.0.0.1 ${40000 + n} typ host generation 0 ufrag ${tag}`,
    sdpMid: '0', sdpMLineIndex: 0,
  };
}
