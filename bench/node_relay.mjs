#!/usr/bin/env node
// The benchmark's reference: a minimal KVS-style signaling relay on Node's `ws`
// package, written the way a competent Node developer would (no artificial
// slowness), to compare `camrtc signaling` against.
//
//   node bench/node_relay.mjs [--port N]      (0 = ephemeral; listens on 127.0.0.1 only)
//
// First stdout line: `node relay listening on ws://127.0.0.1:PORT`.
// Clients connect to /?X-Amz-ChannelARN=<arn>[&X-Amz-ClientId=<id>] (no id = the
// master). Any SigV4 query parameters are accepted unchecked. Routing is the KVS
// one: everything a viewer sends goes to its channel's master with the viewer's
// senderClientId; the master names its viewer in RecipientClientId. Client keys
// are matched case-insensitively (the C SDK writes PascalCase, the JS SDK
// camelCase); the relay writes camelCase. The newest master or viewer with a
// given id replaces the older one. Unlike the real service it does not hold
// messages for recipients that are not connected (they are dropped and counted)
// and has no quotas or rate limits. `ws` answers pings itself.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// `ws` comes from NODE_PATH (the benchmark sets it) or tests/interop/node_modules.
function loadWs() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const base of [import.meta.url, path.join(here, '..', 'tests', 'interop', 'package.json')]) {
    try {
      return createRequire(base)('ws');
    } catch { /* try the next place */ }
  }
  console.error('node_relay: cannot load the `ws` package: run `npm ci` in tests/interop or set NODE_PATH');
  process.exit(2);
}

const { WebSocketServer } = loadWs();

let port = 0;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--port' && i + 1 < argv.length) {
    port = Number(argv[++i]);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      console.error(`node_relay: bad --port ${argv[i]}`);
      process.exit(2);
    }
  } else if (argv[i] === '-h' || argv[i] === '--help') {
    console.log('usage: node node_relay.mjs [--port N]');
    process.exit(0);
  } else {
    console.error(`node_relay: unknown argument ${argv[i]}`);
    process.exit(2);
  }
}

const ID_RE = /^[A-Za-z0-9_.-]{1,256}$/;
const ACTIONS = new Set(['SDP_OFFER', 'SDP_ANSWER', 'ICE_CANDIDATE']);
const channels = new Map(); // ARN -> { master: ws|null, viewers: Map<id, ws> }
const stats = { connections: 0, relayed: 0, dropped: 0, refused: 0, bad: 0 };

function statusResponse(ws, correlationId, errorType, description) {
  if (!correlationId) return;
  ws.send(JSON.stringify({
    messageType: 'STATUS_RESPONSE',
    statusResponse: { correlationId, errorType, statusCode: '400', description },
  }));
}

function onMessage(ws, data, isBinary) {
  if (isBinary) { stats.bad++; return; }
  let msg;
  try { msg = JSON.parse(data); } catch { stats.bad++; return; }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) { stats.bad++; return; }
  let action, recipient, payload, correlationId;
  for (const k in msg) {
    switch (k.toLowerCase()) {
      case 'action': action = msg[k]; break;
      case 'recipientclientid': recipient = msg[k]; break;
      case 'messagepayload': payload = msg[k]; break;
      case 'correlationid': correlationId = msg[k]; break;
      default: break;
    }
  }
  if (!ACTIONS.has(action) || typeof payload !== 'string') {
    stats.bad++;
    statusResponse(ws, correlationId, 'InvalidArgumentException', 'bad action or payload');
    return;
  }
  const ch = ws.channel;
  let target, out;
  if (ws.clientId === null) {
    target = typeof recipient === 'string' ? ch.viewers.get(recipient) : undefined;
    out = { messageType: action, messagePayload: payload };
  } else {
    target = ch.master;
    out = { senderClientId: ws.clientId, messageType: action, messagePayload: payload };
  }
  if (!target || target.readyState !== 1) {
    stats.dropped++;
    return;
  }
  target.send(JSON.stringify(out));
  stats.relayed++;
}

function onConnection(ws, req) {
  const q = new URL(req.url, 'ws://relay').searchParams;
  const arn = q.get('X-Amz-ChannelARN');
  const clientId = q.get('X-Amz-ClientId');
  let ch = channels.get(arn);
  if (!ch) {
    ch = { master: null, viewers: new Map() };
    channels.set(arn, ch);
  }
  ws.channel = ch;
  ws.clientId = clientId;
  stats.connections++;
  const old = clientId === null ? ch.master : ch.viewers.get(clientId);
  if (old) old.close(1000, 'replaced');
  if (clientId === null) ch.master = ws;
  else ch.viewers.set(clientId, ws);
  ws.on('message', (data, isBinary) => onMessage(ws, data, isBinary));
  ws.on('error', () => {});
  ws.on('close', () => {
    if (clientId === null) {
      if (ch.master === ws) ch.master = null;
    } else if (ch.viewers.get(clientId) === ws) {
      ch.viewers.delete(clientId);
    }
    if (!ch.master && ch.viewers.size === 0) channels.delete(arn);
  });
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  maxPayload: 64 * 1024,
  perMessageDeflate: false,
  clientTracking: true,
  verifyClient: ({ req }, done) => {
    const q = new URL(req.url, 'ws://relay').searchParams;
    const arn = q.get('X-Amz-ChannelARN');
    const id = q.get('X-Amz-ClientId');
    if (!arn || (id !== null && (!ID_RE.test(id) || id.startsWith('AWS_')))) {
      stats.refused++;
      return done(false, 400, 'Bad Request');
    }
    done(true);
  },
});
wss.on('connection', onConnection);
wss.on('listening', () => {
  console.log(`node relay listening on ws://127.0.0.1:${wss.address().port}`);
});
wss.on('error', (e) => {
  console.error(`node_relay: ${e.message}`);
  process.exit(1);
});

function shutdown() {
  console.error(`node_relay: stopping ${JSON.stringify(stats)}`);
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
