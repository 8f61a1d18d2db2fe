// The official AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis-video and
// -signaling) against the control plane of `camrtc signaling`: channel CRUD,
// pagination, endpoints, TURN credentials, AWS-shaped errors, SigV4 refusals,
// clock-skew correction from the Date header, and persistence across restarts.
import {
  requireDeps, Suite, startServer, tempDir, check, eq, rejects, turnPassword, loopback, REGION, LOCAL_PAIR,
} from './lib.mjs';

const BIN = requireDeps();
const kv = await import('@aws-sdk/client-kinesis-video');
const kvs = await import('@aws-sdk/client-kinesis-video-signaling');

const CREDS = { accessKeyId: 'AKIAINTEROPTEST00001', secretAccessKey: 'interop/secret/key/for+camrtc/0123456789' };
const TOKEN = 'FQoGZXIvYXdzEInteropSessionToken//+=';
const TURN_SECRET = 'interop-turn-secret';
const TURN_URL = 'turn:127.0.0.1:3478?transport=udp';
const ARN_RE = (name) => new RegExp(`^arn:aws:kinesisvideo:${REGION}:\\d{12}:channel/${name.replace(/\./g, '\\.')}/\\d{13}$`);

const suite = new Suite('aws_sdk_control', { timeoutMs: 240000 });
const stateDir = tempDir('control');
const st = {};

const client = (srv, opts = {}) => new kv.KinesisVideoClient({
  region: REGION, endpoint: loopback(srv.url), credentials: { ...CREDS, sessionToken: TOKEN }, maxAttempts: 1, ...opts,
});
const send = (c, Cmd, input) => c.send(new Cmd(input));

async function expectError(promise, name, statuses, what) {
  const e = await rejects(promise, what);
  check(e.name === name, `${what}: expected ${name}, got ${e.name}: ${e.message} [http ${e.$metadata?.httpStatusCode}]`);
  const s = e.$metadata?.httpStatusCode;
  check(statuses.includes(s), `${what}: ${name} with HTTP ${s}, expected ${statuses.join(' or ')}`);
  check(typeof e.message === 'string' && e.message.length > 0 && e.message !== 'UnknownError',
    `${what}: error has no message from the JSON body (${JSON.stringify(e.message)})`);
  return e;
}

async function startMain() {
  return startServer(BIN, {
    stateDir,
    args: ['--access-key', CREDS.accessKeyId, '--secret-key', CREDS.secretAccessKey, '--session-token', TOKEN,
      '--region', REGION, '--turn-url', TURN_URL, '--turn-secret', TURN_SECRET],
  });
}

suite.test('start camrtc signaling (session-token credentials, TURN secret)', async () => {
  st.srv = await startMain();
  st.c = client(st.srv);
}, { fatal: true });

suite.test('CreateSignalingChannel returns a KVS-shaped ARN', async () => {
  const before = Date.now();
  const r = await send(st.c, kv.CreateSignalingChannelCommand, {
    ChannelName: 'interop-a', ChannelType: 'SINGLE_MASTER',
    SingleMasterConfiguration: { MessageTtlSeconds: 60 }, Tags: [{ Key: 'k', Value: 'v' }],
  });
  check(ARN_RE('interop-a').test(r.ChannelARN), `ARN shape: ${r.ChannelARN}`);
  const ms = Number(r.ChannelARN.split('/').pop());
  check(Math.abs(ms - before) < 120000, `ARN creation ms ${ms} not near now ${before}`);
  eq(r.$metadata.httpStatusCode, 200, 'status');
  st.arnA = r.ChannelARN;
  st.b = await send(st.c, kv.CreateSignalingChannelCommand, {
    ChannelName: 'interop-b.x_y', ChannelType: 'SINGLE_MASTER', SingleMasterConfiguration: { MessageTtlSeconds: 5 },
  });
  // SingleMasterConfiguration omitted: the default TTL (60) applies.
  st.cc = await send(st.c, kv.CreateSignalingChannelCommand, { ChannelName: 'interop-c' });
  check(ARN_RE('interop-b.x_y').test(st.b.ChannelARN), `ARN shape: ${st.b.ChannelARN}`);
  check(ARN_RE('interop-c').test(st.cc.ChannelARN), `ARN shape: ${st.cc.ChannelARN}`);
});

function checkInfo(info, name, arn, ttl) {
  eq(info.ChannelName, name, 'ChannelName');
  eq(info.ChannelARN, arn, 'ChannelARN');
  eq(info.ChannelStatus, 'ACTIVE', 'ChannelStatus');
  eq(info.ChannelType, 'SINGLE_MASTER', 'ChannelType');
  eq(info.SingleMasterConfiguration?.MessageTtlSeconds, ttl, 'MessageTtlSeconds');
  check(typeof info.Version === 'string' && info.Version.length > 0, `Version: ${info.Version}`);
  check(info.CreationTime instanceof Date && Math.abs(info.CreationTime - Date.now()) < 600000,
    `CreationTime: ${info.CreationTime}`);
}

suite.test('DescribeSignalingChannel by name and by ARN', async () => {
  const byName = await send(st.c, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-a' });
  checkInfo(byName.ChannelInfo, 'interop-a', st.arnA, 60);
  const byArn = await send(st.c, kv.DescribeSignalingChannelCommand, { ChannelARN: st.arnA });
  checkInfo(byArn.ChannelInfo, 'interop-a', st.arnA, 60);
  eq(byArn.ChannelInfo.Version, byName.ChannelInfo.Version, 'Version');
  st.versionA = byArn.ChannelInfo.Version;
  const b = await send(st.c, kv.DescribeSignalingChannelCommand, { ChannelARN: st.b.ChannelARN });
  checkInfo(b.ChannelInfo, 'interop-b.x_y', st.b.ChannelARN, 5);
  const c = await send(st.c, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-c' });
  checkInfo(c.ChannelInfo, 'interop-c', st.cc.ChannelARN, 60);
});

suite.test('ListSignalingChannels pages with MaxResults 1 and NextToken', async () => {
  const names = [];
  let token, pages = 0;
  do {
    const r = await send(st.c, kv.ListSignalingChannelsCommand, { MaxResults: 1, NextToken: token });
    pages++;
    check(r.ChannelInfoList.length <= 1, `page ${pages} has ${r.ChannelInfoList.length} items`);
    for (const i of r.ChannelInfoList) names.push(i.ChannelName);
    token = r.NextToken;
    check(pages <= 10, 'pagination does not end');
  } while (token);
  eq([...names].sort(), ['interop-a', 'interop-b.x_y', 'interop-c'], 'names over all pages');
  check(pages >= 3, `only ${pages} pages`);
  const all = await send(st.c, kv.ListSignalingChannelsCommand, {});
  eq(all.ChannelInfoList.map((i) => i.ChannelName).sort(), ['interop-a', 'interop-b.x_y', 'interop-c'], 'unpaged list');
  const a = all.ChannelInfoList.find((i) => i.ChannelName === 'interop-a');
  checkInfo(a, 'interop-a', st.arnA, 60);
  const cond = await send(st.c, kv.ListSignalingChannelsCommand, {
    ChannelNameCondition: { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: 'interop-b' },
  });
  eq(cond.ChannelInfoList.map((i) => i.ChannelName), ['interop-b.x_y'], 'BEGINS_WITH interop-b');
});

suite.test('GetSignalingChannelEndpoint for MASTER and VIEWER', async () => {
  for (const Role of ['MASTER', 'VIEWER']) {
    const r = await send(st.c, kv.GetSignalingChannelEndpointCommand, {
      ChannelARN: st.arnA, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role },
    });
    const eps = Object.fromEntries(r.ResourceEndpointList.map((e) => [e.Protocol, e.ResourceEndpoint]));
    eq(Object.keys(eps).sort(), ['HTTPS', 'WSS'], `${Role} protocols`);
    const wss = new URL(eps.WSS), h = new URL(eps.HTTPS);
    eq([wss.protocol, wss.hostname, Number(wss.port)], ['ws:', '127.0.0.1', st.srv.port], `${Role} WSS endpoint ${eps.WSS}`);
    eq([h.protocol, h.hostname, Number(h.port)], ['http:', '127.0.0.1', st.srv.port], `${Role} HTTPS endpoint ${eps.HTTPS}`);
    check(!eps.WSS.includes('?'), 'WSS endpoint has a query (the KVS SDK signer refuses that)');
    st.https = eps.HTTPS;
  }
  const only = await send(st.c, kv.GetSignalingChannelEndpointCommand, {
    ChannelARN: st.arnA, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS'], Role: 'VIEWER' },
  });
  eq(only.ResourceEndpointList.map((e) => e.Protocol), ['WSS'], 'Protocols [WSS] only');
});

function checkIce(r, clientIdRe) {
  const list = r.IceServerList;
  check(Array.isArray(list) && list.length >= 1 && list.length <= 5, `IceServerList length ${list?.length}`);
  for (const s of list) check(s.Uris.length >= 1 && s.Uris.length <= 4, `Uris count ${s.Uris.length}`);
  const turn = list.find((s) => s.Uris.includes(TURN_URL));
  check(turn, `no server with ${TURN_URL}: ${JSON.stringify(list)}`);
  const m = /^(\d+):(.+)$/.exec(turn.Username);
  check(m && clientIdRe.test(m[2]), `Username ${turn.Username} is not <expiry>:<clientId>`);
  eq(turn.Password, turnPassword(TURN_SECRET, turn.Username), 'Password = base64 HMAC-SHA1(secret, Username)');
  check(Number.isInteger(turn.Ttl) && turn.Ttl > 30 && turn.Ttl <= 86400, `Ttl ${turn.Ttl}`);
  const exp = Number(m[1]), now = Date.now() / 1000;
  check(Math.abs(exp - (now + turn.Ttl)) < 60, `expiry ${exp} is not now+Ttl (${Math.round(now)}+${turn.Ttl})`);
}

suite.test('GetIceServerConfig on the returned HTTPS endpoint: time-limited TURN credentials', async () => {
  const sc = new kvs.KinesisVideoSignalingClient({
    region: REGION, endpoint: loopback(st.https), credentials: { ...CREDS, sessionToken: TOKEN }, maxAttempts: 1,
  });
  const r = await sc.send(new kvs.GetIceServerConfigCommand({ ChannelARN: st.arnA, ClientId: 'viewer-1', Service: 'TURN' }));
  checkIce(r, /^viewer-1$/);
  const m = await sc.send(new kvs.GetIceServerConfigCommand({ ChannelARN: st.arnA }));
  checkIce(m, /.+/);
  await expectError(sc.send(new kvs.GetIceServerConfigCommand({
    ChannelARN: st.arnA.replace('interop-a', 'interop-none'), ClientId: 'viewer-1',
  })), 'ResourceNotFoundException', [404], 'GetIceServerConfig on an unknown channel');
});

suite.test('DeleteSignalingChannel, then Describe gives ResourceNotFoundException', async () => {
  const d = await send(st.c, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-c' });
  await send(st.c, kv.DeleteSignalingChannelCommand, { ChannelARN: st.cc.ChannelARN, CurrentVersion: d.ChannelInfo.Version });
  await expectError(send(st.c, kv.DescribeSignalingChannelCommand, { ChannelARN: st.cc.ChannelARN }),
    'ResourceNotFoundException', [404], 'describe deleted (ARN)');
  await expectError(send(st.c, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-c' }),
    'ResourceNotFoundException', [404], 'describe deleted (name)');
  await expectError(send(st.c, kv.DeleteSignalingChannelCommand, { ChannelARN: st.cc.ChannelARN }),
    'ResourceNotFoundException', [404], 'delete twice');
  const all = await send(st.c, kv.ListSignalingChannelsCommand, {});
  eq(all.ChannelInfoList.map((i) => i.ChannelName).sort(), ['interop-a', 'interop-b.x_y'], 'list after delete');
});

suite.test('duplicate create gives ResourceInUseException', async () => {
  const e = await expectError(send(st.c, kv.CreateSignalingChannelCommand, { ChannelName: 'interop-a' }),
    'ResourceInUseException', [400, 409], 'duplicate create');
  st.dupStatus = e.$metadata.httpStatusCode;
});

suite.test('bad arguments give InvalidArgumentException', async () => {
  for (const [what, input] of [
    ['name with a slash', { ChannelName: 'bad/name' }],
    ['name with a space', { ChannelName: 'bad name' }],
    ['257-char name', { ChannelName: 'n'.repeat(257) }],
    ['empty name', { ChannelName: '' }],
    ['MessageTtlSeconds 4', { ChannelName: 'ttl-low', SingleMasterConfiguration: { MessageTtlSeconds: 4 } }],
    ['MessageTtlSeconds 121', { ChannelName: 'ttl-high', SingleMasterConfiguration: { MessageTtlSeconds: 121 } }],
  ]) {
    await expectError(send(st.c, kv.CreateSignalingChannelCommand, input), 'InvalidArgumentException', [400], what);
  }
  await expectError(send(st.c, kv.DescribeSignalingChannelCommand, { ChannelARN: 'arn:aws:nope' }),
    'InvalidArgumentException', [400], 'malformed ARN');
  const list = await send(st.c, kv.ListSignalingChannelsCommand, {});
  check(!list.ChannelInfoList.some((i) => i.ChannelName.startsWith('ttl-') || i.ChannelName.startsWith('bad')),
    'a refused channel was created anyway');
});

suite.test('wrong secret, unknown key, missing or wrong session token: 403', async () => {
  const cases = [
    ['wrong secret', { ...CREDS, sessionToken: TOKEN, secretAccessKey: CREDS.secretAccessKey + 'x' }, ['InvalidSignatureException']],
    ['unknown access key', { ...CREDS, sessionToken: TOKEN, accessKeyId: 'AKIAUNKNOWNKEY000000' }, ['UnrecognizedClientException', 'InvalidSignatureException', 'AccessDeniedException']],
    ['no session token', { ...CREDS }, ['UnrecognizedClientException', 'InvalidSignatureException', 'AccessDeniedException', 'MissingAuthenticationTokenException']],
    ['wrong session token', { ...CREDS, sessionToken: TOKEN + 'x' }, ['UnrecognizedClientException', 'InvalidSignatureException', 'AccessDeniedException']],
  ];
  for (const [what, credentials, names] of cases) {
    const e = await rejects(send(client(st.srv, { credentials }), kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-a' }), what);
    check(names.includes(e.name), `${what}: got ${e.name}: ${e.message}, expected one of ${names.join(', ')}`);
    eq(e.$metadata?.httpStatusCode, 403, `${what}: HTTP status`);
  }
  const e = await rejects(send(client(st.srv, { region: 'eu-west-1' }), kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-a' }), 'other region');
  eq(e.$metadata?.httpStatusCode, 403, `signature scoped to another region (${e.name}): HTTP status`);
});

suite.test('systemClockOffset ±10 min: 403 signature expired / not yet current; the Date header fixes the offset', async () => {
  for (const offset of [-600000, 600000]) {
    const c = client(st.srv, { systemClockOffset: offset });
    const e = await rejects(send(c, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-a' }), `offset ${offset}`);
    eq(e.$metadata?.httpStatusCode, 403, `offset ${offset} (${e.name}: ${e.message}): HTTP status`);
    eq(e.name, 'InvalidSignatureException', `offset ${offset}: error name (${e.message})`);
    check(/expired|not yet current|skew/i.test(e.message), `offset ${offset}: message does not say why: ${e.message}`);
    const d = new Date(e.$response?.headers?.date);
    check(Math.abs(d - Date.now()) < 5000, `Date header ${e.$response?.headers?.date} is not the server time`);
    // The SDK took the server's time from the Date header: the next call works.
    check(Math.abs(c.config.systemClockOffset) < 3000, `offset after the 403: ${c.config.systemClockOffset} ms`);
    const r = await send(c, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-a' });
    eq(r.ChannelInfo.ChannelARN, st.arnA, 'ARN after the correction');
  }
});

// The SDK retries a clock-skew error on its own only when the machine clock
// itself is off (the new offset from the Date header exceeds 4 min): simulate
// that by moving Date.now, which is what the SDK reads.
suite.test('machine clock 10 min off: the SDK retries with the Date header offset and succeeds', async () => {
  const realNow = Date.now;
  try {
    for (const skew of [-600000, 600000]) {
      Date.now = () => realNow() + skew;
      const once = client(st.srv);
      const e = await rejects(send(once, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-a' }), `clock ${skew}, maxAttempts 1`);
      eq([e.$metadata?.httpStatusCode, e.name], [403, 'InvalidSignatureException'], `clock ${skew}, maxAttempts 1`);
      check(e.$metadata.clockSkewCorrected === true, `clock ${skew}: the SDK did not flag the skew from the Date header`);
      const c = client(st.srv, { maxAttempts: 3 });
      const r = await send(c, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-a' });
      eq(r.ChannelInfo.ChannelARN, st.arnA, 'ARN after skew correction');
      eq(r.$metadata.attempts, 2, `clock ${skew}: attempts`);
      check(Math.abs(c.config.systemClockOffset + skew) < 3000, `clock ${skew}: corrected offset ${c.config.systemClockOffset} ms`);
    }
  } finally {
    Date.now = realNow;
  }
});

suite.test('restart with the same state dir keeps the channels and their ARNs', async () => {
  const ex = await st.srv.stop('SIGTERM');
  eq(ex, { code: 0, signal: null }, 'exit after SIGTERM');
  st.srv = await startMain();
  st.c = client(st.srv);
  const a = await send(st.c, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-a' });
  checkInfo(a.ChannelInfo, 'interop-a', st.arnA, 60);
  eq(a.ChannelInfo.Version, st.versionA, 'Version after restart');
  const b = await send(st.c, kv.DescribeSignalingChannelCommand, { ChannelARN: st.b.ChannelARN });
  eq(b.ChannelInfo.SingleMasterConfiguration.MessageTtlSeconds, 5, 'TTL after restart');
  await expectError(send(st.c, kv.DescribeSignalingChannelCommand, { ChannelName: 'interop-c' }),
    'ResourceNotFoundException', [404], 'deleted channel after restart');
  const ex2 = await st.srv.stop('SIGINT');
  eq(ex2, { code: 0, signal: null }, 'exit after SIGINT');
});

suite.test('no credentials given: the documented local pair works, others do not', async () => {
  const srv = await startServer(BIN, { stateDir: tempDir('local') });
  const c = new kv.KinesisVideoClient({ region: REGION, endpoint: loopback(srv.url), credentials: LOCAL_PAIR, maxAttempts: 1 });
  const r = await c.send(new kv.CreateSignalingChannelCommand({ ChannelName: 'local' }));
  check(/^arn:aws:kinesisvideo:us-west-2:111122223333:channel\/local\/\d{13}$/.test(r.ChannelARN), `ARN ${r.ChannelARN}`);
  const bad = new kv.KinesisVideoClient({ region: REGION, endpoint: loopback(srv.url), credentials: CREDS, maxAttempts: 1 });
  const e = await rejects(bad.send(new kv.ListSignalingChannelsCommand({})), 'other key on the local pair server');
  eq(e.$metadata?.httpStatusCode, 403, `other key (${e.name}): HTTP status`);
  await srv.stop();
});

await suite.run();
