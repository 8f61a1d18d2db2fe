// Helpers for the scripts that test camrtc's own signaling client (`camrtc
// master|viewer --stdio`): a driver for the client's JSON-lines interface, a
// TCP proxy that can silently stop forwarding, and a free-port finder. Only
// Node built-ins here; the official SDK helpers are in kvs_common.mjs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  AssertionError, LOCAL_PAIR, REGION, check, eq, onCleanup, tempDir, withTimeout,
} from './lib.mjs';

// One `camrtc master|viewer --stdio` process. Every stdout line is an event
// {event, ...}; each is kept with its arrival time (ms) so tests can measure
// and wait for "the first X after mark".
export class CamClient {
  static all = [];

  // role 'master' | 'viewer'; endpoint: the control-plane URL; cacheDir: a
  // directory for the endpoint cache, else --no-cache; creds default to the
  // local pair; args: extra flags.
  constructor(bin, role, { channel, endpoint, clientId, create = false, cacheDir, args = [], creds = LOCAL_PAIR, name } = {}) {
    this.role = role;
    this.name = name ?? (role === 'viewer' ? `our viewer ${clientId ?? ''}`.trim() : 'our master');
    this.events = [];
    this.waiters = [];
    this.bad = [];
    this.stderr = '';
    this.exit = null;
    const home = tempDir('client-home');
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('AWS_') || k.startsWith('XDG_')) delete env[k];
    // A private HOME: no profile, config file or cache of the user is read or written.
    Object.assign(env, {
      HOME: home, XDG_CACHE_HOME: path.join(home, 'cache'), CAMRTC_LOG: 'debug',
      AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_REGION: REGION,
    });
    if (creds.sessionToken) env.AWS_SESSION_TOKEN = creds.sessionToken;
    this.argv = [role, '--channel', channel, '--endpoint', endpoint, '--stdio',
      ...(create ? ['--create'] : []),
      ...(clientId !== undefined ? ['--client-id', clientId] : []),
      ...(cacheDir ? ['--cache-dir', cacheDir] : ['--no-cache']),
      ...args];
    this.t0 = Date.now();
    this.proc = spawn(bin, this.argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.push({ event: 'exit', code, signal });
      resolve(this.exit);
    }));
    this.proc.on('error', (e) => { this.stderr += `spawn error: ${e.message}\n`; });
    this.proc.stdin.on('error', () => {});
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => {
      this.stderr += d;
      if (this.stderr.length > 400000) this.stderr = this.stderr.slice(-200000);
      if (process.env.CAMRTC_INTEROP_VERBOSE) process.stderr.write(d.replace(/^/gm, `[${this.name}] `));
    });
    let buf = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let o;
        try { o = JSON.parse(line); } catch { this.bad.push(line); continue; }
        if (!o || typeof o !== 'object' || typeof o.event !== 'string') { this.bad.push(line); continue; }
        this.push(o);
      }
    });
    CamClient.all.push(this);
    onCleanup(() => this.kill());
  }

  push(o) {
    const e = { ...o, t: Date.now() };
    const i = this.events.length;
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (i >= w.from && w.pred(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }

  // Index to pass as `from`: only events after this point count.
  mark() { return this.events.length; }

  // The first event at or after index `from` matching pred (already there or to come).
  waitFor(pred, { from = 0, ms = 5000, what = 'event' } = {}) {
    const found = this.events.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { pred, from, resolve: (e) => { clearTimeout(t); resolve(e); } };
      this.waiters.push(w);
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new AssertionError(`${this.name}: no ${what} within ${ms} ms; events since: ${this.summary(from)}`));
      }, ms);
    });
  }

  state(name, opts = {}) {
    return this.waitFor((e) => e.event === 'state' && e.state === name, { what: `state '${name}'`, ...opts });
  }

  connected(opts = {}) { return this.state('connected', opts); }

  // Events of a kind (and matching pred) since `from`.
  all(kind, pred = () => true, from = 0) {
    return this.events.slice(from).filter((e) => e.event === kind && pred(e));
  }

  states(from = 0) { return this.all('state', () => true, from).map((e) => e.state); }

  messages(from = 0) { return this.all('message', () => true, from); }

  write(obj) { this.proc.stdin.write(JSON.stringify(obj) + '\n'); }

  // Sends and resolves the client's "sent" answer to it (sends must not overlap).
  async send(type, to, payload) {
    const from = this.mark();
    this.write({ send: type, ...(to !== undefined ? { to } : {}), payload });
    return this.waitFor((e) => e.event === 'sent', { from, ms: 3000, what: `"sent" for ${type}` });
  }

  // {"stop":true}: resolves the "stopped" event (with the counters) once the
  // process has exited with status 0.
  async stop(ms = 5000) {
    const from = this.mark();
    this.write({ stop: true });
    const st = await this.waitFor((e) => e.event === 'stopped', { from, ms, what: '"stopped" after {"stop":true}' });
    const x = await withTimeout(this.exited, ms, `${this.name} to exit after stopping`);
    eq(x, { code: 0, signal: null }, `${this.name} exit status`);
    eq(this.bad, [], `${this.name}: stdout lines that are not JSON events`);
    this.stats = st;
    return st;
  }

  async kill() {
    if (this.exit) return this.exit;
    this.proc.kill('SIGKILL');
    return withTimeout(this.exited, 5000, `${this.name} to die`);
  }

  summary(from = 0) {
    const s = this.events.slice(from).map((e) => {
      const dt = e.t - this.t0;
      switch (e.event) {
        case 'state': return `+${dt} state ${e.state} (${e.why})`;
        case 'message': return `+${dt} ${e.type} from '${e.from}'`;
        default: return `+${dt} ${JSON.stringify({ ...e, t: undefined }).slice(0, 160)}`;
      }
    });
    return s.length ? `\n      ${s.slice(-40).join('\n      ')}` : '(none)';
  }

  // For failure reports: events and the end of the log.
  report(lines = 30) {
    const tail = this.stderr.trimEnd().split('\n').slice(-lines).join('\n');
    return `  -- ${this.name} (${this.argv.slice(0, 3).join(' ')} ...): exit ${JSON.stringify(this.exit)}; events:${this.summary()}\n` +
      `  -- its stderr (last ${lines} lines):\n${tail.replace(/^/gm, '  | ')}`;
  }
}

// Counters of a "stopped" event, checked one by one for clear messages.
export function checkStats(st, expect, who) {
  for (const [k, [op, v]] of Object.entries(expect)) {
    const a = st[k];
    const ok = op === '==' ? a === v : op === '>=' ? a >= v : op === '<=' ? a <= v : op === '>' ? a > v : false;
    check(ok, `${who}: ${k} ${op} ${v} expected, got ${a} (stats ${JSON.stringify({ ...st, t: undefined })})`);
  }
}

// A TCP proxy on 127.0.0.1 to 127.0.0.1:target (set before the first
// connection). blackhole() stops forwarding on every connection open at that
// moment, in both directions, without closing anything (a silently dead path,
// as after a NAT timeout); later connections are forwarded normally.
// latencyMs delays everything (data, FIN, close) by that much each way, in
// order: a WAN round trip on loopback.
export async function startProxy({ latencyMs = 0 } = {}) {
  const later = latencyMs ? (fn) => setTimeout(fn, latencyMs) : (fn) => fn();
  const p = { target: 0, pairs: new Set(), accepted: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    p.accepted++;
    const u = net.connect({ host: '127.0.0.1', port: p.target, allowHalfOpen: true });
    const pair = { c, u, holed: false };
    p.pairs.add(pair);
    const fwd = (from, to) => {
      // Timers of one duration fire in the order they were set: bytes stay in order.
      from.on('data', (d) => { if (!pair.holed) later(() => { if (!pair.holed) to.write(d); }); });
      from.on('end', () => { if (!pair.holed) later(() => { if (!pair.holed) to.end(); }); });
      from.on('error', () => {});
      from.on('close', () => {
        if (!pair.holed) later(() => { if (!pair.holed) to.destroy(); });
        if (c.destroyed && u.destroyed) p.pairs.delete(pair);
      });
    };
    fwd(c, u);
    fwd(u, c);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  p.port = server.address().port;
  p.url = `http://127.0.0.1:${p.port}`;
  p.blackhole = () => {
    let n = 0;
    for (const pair of p.pairs) if (!pair.holed && !pair.c.destroyed) { pair.holed = true; n++; }
    return n;
  };
  p.dropHoled = () => {
    for (const pair of p.pairs) if (pair.holed) { pair.c.destroy(); pair.u.destroy(); }
  };
  p.live = () => [...p.pairs].filter((x) => !x.holed && !x.c.destroyed).length;
  p.close = () => {
    for (const pair of p.pairs) { pair.c.destroy(); pair.u.destroy(); }
    return new Promise((resolve) => server.close(() => resolve()));
  };
  onCleanup(() => p.close());
  return p;
}

// A loopback TCP port that was free a moment ago (for servers that must come
// back on the same port after a restart).
export async function freePort() {
  const s = net.createServer();
  await new Promise((resolve, reject) => { s.once('error', reject); s.listen(0, '127.0.0.1', resolve); });
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

// The number in a candidate made by kvs_common.candidate(tag, n) ('candidate:<n> ...').
export function candNumber(payload) {
  const m = /^candidate:(\d+) /.exec(payload?.candidate ?? '');
  return m ? Number(m[1]) : NaN;
}

// The endpoint cache files a client wrote into dir, parsed.
export function readCache(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}
