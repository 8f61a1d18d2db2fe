// Shared helpers for the interop scripts: a tiny sequential test runner with
// timeouts, spawning `camrtc signaling` on an ephemeral loopback port, an
// independent SigV4 presigner (to craft URLs the SDK signer cannot: other
// expiries, dates, tampered fields), and event collectors for async clients.
import { spawn } from 'node:child_process';
import { createHmac, createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The AWS SDK warns once per process that it will want Node 22 from 2027; on
// the Node 20 these machines have that is noise in every test log.
const emitWarning = process.emitWarning;
process.emitWarning = function (w, ...rest) {
  if (String(w?.message ?? w).startsWith('NodeVersionSupportWarning')) return undefined;
  return emitWarning.call(process, w, ...rest);
};

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REGION = 'us-west-2';
export const LOCAL_PAIR = {
  accessKeyId: 'CAMRTCLOCALKEY0000000',
  secretAccessKey: 'camrtc/local/secret/0000000000000000000000',
};

// Dependencies come from `npm ci`; say so plainly instead of an import stack trace.
export function requireDeps() {
  if (!fs.existsSync(path.join(HERE, 'node_modules', 'amazon-kinesis-video-streams-webrtc'))) {
    console.error(`FAIL: ${path.join(HERE, 'node_modules')} is missing or incomplete: ` +
      'run `npm ci` in tests/interop first');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const bin = process.env.CAMRTC_BIN;
  if (!bin || !fs.existsSync(bin)) {
    console.error(`FAIL: set CAMRTC_BIN to the camrtc executable (got ${bin ?? 'nothing'})`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  return bin;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class AssertionError extends Error {}

export function check(cond, msg) {
  if (!cond) throw new AssertionError(msg);
}

const clip = (s, n = 600) => (s === undefined || s.length <= n ? s : `${s.slice(0, n)}...(${s.length} chars)`);

export function eq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new AssertionError(`${what}: expected ${clip(e)}, got ${clip(a)}`);
}

export async function rejects(promise, what) {
  try {
    const v = await promise;
    throw new AssertionError(`${what}: expected an error, got success ${JSON.stringify(v)?.slice(0, 300)}`);
  } catch (e) {
    if (e instanceof AssertionError) throw e;
    return e;
  }
}

export function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, rej) => { t = setTimeout(() => rej(new AssertionError(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------- runner

const cleanups = [];
const servers = [];

// A server that exited without being asked to is the most useful fact in a
// failure report: say so once, with the end of its log.
function reportDeadServers() {
  for (const srv of servers) {
    if (srv.exit && !srv.stopping && !srv.reported) {
      srv.reported = true;
      console.log(`  !! camrtc signaling (${srv.url}) died: ${JSON.stringify(srv.exit)}; last stderr:\n${srv.stderr.slice(-3000).replace(/^/gm, '  | ')}`);
    }
  }
}
export function onCleanup(fn) { cleanups.push(fn); }

async function runCleanups() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try { await withTimeout(Promise.resolve().then(fn), 8000, 'cleanup'); } catch (e) { console.error(`cleanup: ${e.message}`); }
  }
}

// Tests run in order and share state (servers, channels); a failed test does
// not stop the rest unless it is marked `fatal` (setup steps).
export class Suite {
  constructor(name, { timeoutMs = 240000 } = {}) {
    this.name = name;
    this.tests = [];
    this.timeoutMs = timeoutMs;
  }

  test(name, fn, { timeoutMs = 30000, fatal = false } = {}) {
    this.tests.push({ name, fn, timeoutMs, fatal });
  }

  async run() {
    let passed = 0, failed = 0;
    const overall = setTimeout(async () => {
      console.log(`FAIL ${this.name}: overall timeout of ${this.timeoutMs} ms`);
      await runCleanups();
      console.log(`${passed} passed, ${failed + 1} failed`);
      process.exit(1);
    }, this.timeoutMs);
    const onSig = async () => { await runCleanups(); process.exit(130); };
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    const t0 = Date.now();
    for (let i = 0; i < this.tests.length; i++) {
      const { name, fn, timeoutMs, fatal } = this.tests[i];
      const start = Date.now();
      try {
        await withTimeout(Promise.resolve().then(fn), timeoutMs, name);
        passed++;
        console.log(`ok ${i + 1} - ${name} (${Date.now() - start} ms)`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${i + 1} - ${name}: ${describeError(e)}`);
        if (!(e instanceof AssertionError) && e?.stack) console.log(e.stack.split('\n').slice(1, 6).join('\n'));
        reportDeadServers();
        if (fatal) {
          console.log('(setup failed: skipping the rest)');
          failed += this.tests.length - i - 1;
          break;
        }
      }
    }
    clearTimeout(overall);
    if (servers.some((x) => x.exit && !x.stopping)) {
      failed++;
      console.log('FAIL - a camrtc signaling process exited on its own during the run');
      reportDeadServers();
    }
    await runCleanups();
    console.log(`${this.name}: ${Date.now() - t0} ms`);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  }
}

// Every client must talk to our loopback server: an SDK with no endpoint (say,
// because an earlier step failed) would go to the real AWS.
export function loopback(endpoint) {
  if (typeof endpoint !== 'string' || !/^(https?|wss?):\/\/127\.0\.0\.1:\d+(\/|$)/.test(endpoint)) {
    throw new AssertionError(`refusing to use a non-loopback endpoint: ${endpoint}`);
  }
  return endpoint;
}

export function describeError(e) {
  if (!e) return String(e);
  const md = e.$metadata ? ` [http ${e.$metadata.httpStatusCode}]` : '';
  return `${e.name && e.name !== 'Error' ? e.name + ': ' : ''}${e.message}${md}`;
}

// ---------------------------------------------------------------- server

export function tempDir(tag) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `camrtc-interop-${tag}-`));
  onCleanup(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

// Spawns `camrtc signaling` and waits for its first stdout line; with --tls
// also for the CA line. The child's environment has no AWS_* variables so the
// credentials are exactly those on the command line (or the local pair).
// `listen` picks a fixed address (a restart on the same port keeps the endpoints).
export async function startServer(bin, { stateDir, args = [], env = {}, startMs = 15000, listen = '127.0.0.1:0' } = {}) {
  const childEnv = { ...process.env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('AWS_')) delete childEnv[k];
  Object.assign(childEnv, env);
  const argv = ['signaling', '--listen', listen, '--state-dir', stateDir, ...args];
  const proc = spawn(bin, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const srv = { proc, argv, lines: [], stderr: '', exit: null };
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    srv.exit = { code, signal };
    resolve(srv.exit);
  }));
  srv.exited = exited;
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    srv.stderr += d;
    if (srv.stderr.length > 200000) srv.stderr = srv.stderr.slice(-100000);
    if (process.env.CAMRTC_INTEROP_VERBOSE) process.stderr.write(d);
  });
  const tls = args.includes('--tls');
  let buf = '';
  const ready = new Promise((resolve, reject) => {
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        srv.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      if (srv.lines.length && !srv.url) {
        const m = /^camrtc signaling listening on ((https?):\/\/127\.0\.0\.1:(\d+))$/.exec(srv.lines[0]);
        if (!m) return reject(new AssertionError(`first stdout line is not 'camrtc signaling listening on <URL>': ${JSON.stringify(srv.lines[0])}`));
        srv.url = m[1];
        srv.port = Number(m[3]);
        if ((m[2] === 'https') !== tls) return reject(new AssertionError(`URL scheme ${m[2]} with tls=${tls}`));
      }
      if (srv.url && tls && !srv.caPath) {
        const l = srv.lines.find((x) => x.startsWith('CA certificate: '));
        if (l) srv.caPath = l.slice('CA certificate: '.length).trim();
      }
      if (srv.url && (!tls || srv.caPath)) resolve();
    });
    exited.then((x) => reject(new AssertionError(`camrtc signaling exited before it was ready (${JSON.stringify(x)}): ${srv.stderr.slice(-2000)}`)));
    proc.on('error', reject);
  });
  servers.push(srv);
  srv.stop = async (signal = 'SIGTERM') => {
    if (srv.exit) return srv.exit;
    srv.stopping = true;
    proc.kill(signal);
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    const r = await exited;
    clearTimeout(t);
    return r;
  };
  onCleanup(() => srv.stop());
  try {
    await withTimeout(ready, startMs, `camrtc signaling to start (${argv.join(' ')})`);
  } catch (e) {
    await srv.stop('SIGKILL');
    throw e;
  }
  if (tls) srv.ca = fs.readFileSync(srv.caPath);
  return srv;
}

// ---------------------------------------------------------------- HTTP

// Plain request (admin endpoints, raw probes); resolves {status, headers, body, json}.
export function httpRequest(url, { method = 'GET', headers = {}, body, ca } = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const data = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = mod.request(u, {
      method, ca, agent: false,
      headers: { ...(data !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}), ...headers },
    }, (res) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { s += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(s); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: s, json });
      });
    });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

export function adminAnnounce(srv, body) {
  return httpRequest(`${srv.url}/admin/announce`, { method: 'POST', body, ca: srv.ca });
}

// ---------------------------------------------------------------- SigV4

const hmac = (key, s) => createHmac('sha256', key).update(s, 'utf8').digest();
const sha256hex = (s) => createHash('sha256').update(s, 'utf8').digest('hex');
// RFC 3986 unreserved stay; encodeURIComponent leaves !'()* which SigV4 encodes.
const uriEncode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

export function amzDate(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[:-]/g, '');
}

// Presigns GET <endpoint>/?query the way KVS wants (host the only signed
// header, session token inside the signed query). `mutate(params)` may edit the
// final parameters after signing (tampering).
export function presign({ endpoint, query, creds, region = REGION, date = new Date(), expires = 299, service = 'kinesisvideo', mutate }) {
  const u = new URL(endpoint);
  const datetime = amzDate(date);
  const scope = `${datetime.slice(0, 8)}/${region}/${service}/aws4_request`;
  const params = {
    ...query,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${creds.accessKeyId}/${scope}`,
    'X-Amz-Date': datetime,
    'X-Amz-Expires': String(expires),
    'X-Amz-SignedHeaders': 'host',
  };
  if (creds.sessionToken) params['X-Amz-Security-Token'] = creds.sessionToken;
  const qs = (p) => Object.keys(p).sort().map((k) => `${uriEncode(k)}=${uriEncode(p[k])}`).join('&');
  const pathPart = u.pathname || '/';
  const canonical = ['GET', pathPart, qs(params), `host:${u.host}\n`, 'host', sha256hex('')].join('\n');
  const sts = ['AWS4-HMAC-SHA256', datetime, scope, sha256hex(canonical)].join('\n');
  let k = hmac('AWS4' + creds.secretAccessKey, datetime.slice(0, 8));
  k = hmac(k, region);
  k = hmac(k, service);
  k = hmac(k, 'aws4_request');
  params['X-Amz-Signature'] = hmac(k, sts).toString('hex');
  if (mutate) mutate(params);
  return `${u.protocol}//${u.host}${pathPart}?${qs(params)}`;
}

export function turnPassword(secret, username) {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

// ---------------------------------------------------------------- events

// Records events of an EventEmitter-like object and lets a test wait for the
// next one matching a predicate (earlier arrivals included).
export class Collector {
  constructor(emitter, events, { on = 'on' } = {}) {
    this.items = [];
    this.waiters = [];
    for (const ev of events) {
      emitter[on](ev, (...args) => this.push(ev, args));
    }
  }

  push(type, args) {
    const item = { type, args, used: false };
    this.items.push(item);
    for (const w of [...this.waiters]) {
      if (!item.used && w.type === type && w.pred(...args)) {
        item.used = true;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(args);
      }
    }
  }

  next(type, pred = () => true, ms = 5000, what = type) {
    const found = this.items.find((i) => !i.used && i.type === type && pred(...i.args));
    if (found) { found.used = true; return Promise.resolve(found.args); }
    return new Promise((resolve, reject) => {
      const w = { type, pred, resolve: (args) => { clearTimeout(t); resolve(args); } };
      this.waiters.push(w);
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          const seen = this.items.filter((x) => x.type === type).map((x) => JSON.stringify(x.args).slice(0, 200));
          reject(new AssertionError(`no '${type}' (${what}) within ${ms} ms; seen: [${seen.join(', ')}]`));
        }
      }, ms);
    });
  }

  // First unconsumed event among `types`; resolves [type, args].
  nextAny(types, ms = 5000, what = types.join('|')) {
    const found = this.items.find((i) => !i.used && types.includes(i.type));
    if (found) { found.used = true; return Promise.resolve([found.type, found.args]); }
    return new Promise((resolve, reject) => {
      const ws = types.map((type) => ({ type, pred: () => true, resolve: null }));
      const done = (type, args) => {
        for (const w of ws) { const i = this.waiters.indexOf(w); if (i >= 0) this.waiters.splice(i, 1); }
        clearTimeout(t);
        resolve([type, args]);
      };
      for (const w of ws) { w.resolve = (args) => done(w.type, args); this.waiters.push(w); }
      const t = setTimeout(() => {
        for (const w of ws) { const i = this.waiters.indexOf(w); if (i >= 0) this.waiters.splice(i, 1); }
        reject(new AssertionError(`none of ${what} within ${ms} ms`));
      }, ms);
    });
  }

  // Unconsumed events of `type` (optionally those matching pred).
  unused(type, pred = () => true) {
    return this.items.filter((i) => !i.used && i.type === type && pred(...i.args));
  }

  count(type) { return this.items.filter((i) => i.type === type).length; }
}

// ---------------------------------------------------------------- raw WebSocket

// A `ws` client that records parsed JSON messages. connect() resolves
// {ok:true, client} on 101, or {ok:false, status, body, headers} when the
// upgrade was refused with an HTTP error (the SDKs only see an error event).
export class RawClient {
  static all = [];

  constructor(ws) {
    RawClient.all.push(this);
    this.ws = ws;
    this.bad = [];
    this.msgs = new Collector({ on: () => {} }, []);
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => {
      let m;
      try { m = JSON.parse(data.toString()); } catch { this.bad.push({ data: data.toString(), isBinary }); return; }
      this.msgs.push('message', [m]);
    });
    ws.on('error', () => {});
  }

  static async connect(url, { ca, timeoutMs = 5000 } = {}) {
    const { WebSocket } = await import('ws');
    return withTimeout(new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { ca, handshakeTimeout: timeoutMs });
      ws.once('open', () => resolve({ ok: true, client: new RawClient(ws) }));
      ws.once('unexpected-response', (req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { body += d; });
        res.on('end', () => {
          resolve({ ok: false, status: res.statusCode, headers: res.headers, body });
          ws.on('error', () => {});
          req.destroy();
        });
      });
      ws.once('error', (e) => reject(e));
    }), timeoutMs + 1000, `WebSocket connect ${url.slice(0, 80)}`);
  }

  // Next message of a given messageType (case as sent by the service).
  next(type, pred = () => true, ms = 5000) {
    return this.msgs.next('message', (m) => m.messageType === type && pred(m), ms, type).then(([m]) => m);
  }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }

  close(ms = 5000) {
    this.ws.close();
    return withTimeout(this.closed, ms, 'WebSocket close handshake');
  }
}

export const b64json = (o) => Buffer.from(JSON.stringify(o)).toString('base64');
export const unb64json = (s) => JSON.parse(Buffer.from(s, 'base64').toString('utf8'));
