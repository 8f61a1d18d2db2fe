/* GET / on the local service: the browser viewer page. GET /kvs-webrtc.js: the official KVS WebRTC JS
 * SDK (dist/kvs-webrtc.js of the npm package amazon-kinesis-video-streams-webrtc), read from the file
 * named by --kvs-js / CAMRTC_KVS_JS; never fetched from a CDN.
 *
 * The page is one self-contained HTML document: the string arrays below hold it one line per entry, so
 * it reads here as it is sent. Between the markup and the script the service puts a small config object
 * (region, the local key pair when that is what it accepts, channel and client counts).
 *
 * What the page does, in the browser:
 *  - control plane with fetch: DescribeSignalingChannel (waiting up to a minute for the master to create
 *    the channel), GetSignalingChannelEndpoint (WSS+HTTPS, role VIEWER), GetIceServerConfig; each signed
 *    with SigV4 (header form) by a small WebCrypto signer in the page;
 *  - the same signer presigns the WebSocket URL for the SDK's SignalingClient (its requestSigner option:
 *    the SDK's own signer refuses ws://);
 *  - an RTCPeerConnection with recvonly video and audio (as the SDK samples do), trickle ICE through the
 *    SDK, the video shown, and live plots of bitrate, frame rate, RTT, loss and latency from getStats;
 *  - latency: the test pattern's 64-cell block (src/media/testsrc.c) is read from each decoded frame and
 *    its capture time (ms mod 2^24) compared with Date.now(): meaningful only when master and browser
 *    share a clock (one machine) and the master stamps with the wall clock;
 *  - an answer that rejects the video (port 0: the master refused this viewer) is shown as such at once;
 *  - window.camrtcStats holds the latest figures and the frame id read from the picture (for tests).
 * Query parameters: channel, region, clientId, accessKey, secretKey, autojoin=1 (join at load).
 * WebCrypto needs a secure context: http://127.0.0.1 or localhost (the default), or --tls.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "camrtc/buf.h"
#include "camrtc/server.h"
#include "server/service_internal.h"

#define N_LINES(a) (sizeof(a) / sizeof((a)[0]))
/* The SDK's dist file is about 100 KB; anything far bigger is not it. */
#define KVS_JS_MAX (8u * 1024 * 1024)

/* The markup and style: a form, the video, the plots and a log. */
static const char *const page_top[] = {
    "<!doctype html>",
    "<html lang=\"en\"><head><meta charset=\"utf-8\">",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
    "<title>camrtc viewer</title>",
    "<style>",
    "body { font: 14px system-ui, sans-serif; margin: 1em 2em; background: #fafafa; color: #222; }",
    "h1 { font-size: 1.3em; margin: 0 0 .3em; }",
    "form { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: end; margin: .5em 0; }",
    "label { display: flex; flex-direction: column; font-size: .85em; color: #555; }",
    "input { font: 13px monospace; padding: 2px 4px; }",
    "#state { font-weight: bold; margin: .4em 0; }",
    "#state.bad { color: #b00; }",
    "#main { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }",
    "video { background: #000; max-width: 100%; }",
    ".plot { display: inline-block; margin: 0 .6em .6em 0; }",
    ".plot div { font-size: .8em; color: #444; }",
    "canvas.p { background: #fff; border: 1px solid #ccc; }",
    "#log { font: 12px monospace; max-height: 12em; overflow: auto; background: #fff; border: 1px solid #ddd; padding: .3em; }",
    ".note { font-size: .8em; color: #666; max-width: 60em; }",
    "</style></head><body>",
    "<h1>camrtc viewer</h1>",
    "<p class=\"note\" id=\"about\"></p>",
    "<form id=\"join\">",
    "<label>channel <input id=\"channel\" size=\"18\" required></label>",
    "<label>region <input id=\"region\" size=\"10\" required></label>",
    "<label>access key <input id=\"ak\" size=\"22\" required></label>",
    "<label>secret key <input id=\"sk\" size=\"44\" type=\"password\" required></label>",
    "<label>client id <input id=\"clientId\" size=\"16\" required></label>",
    "<button id=\"go\" type=\"submit\">Join as viewer</button>",
    "<button id=\"stop\" type=\"button\" disabled>Leave</button>",
    "</form>",
    "<div id=\"state\">idle</div>",
    "<div id=\"main\">",
    "<video id=\"video\" autoplay muted playsinline></video>",
    "<div id=\"plots\"></div>",
    "</div>",
    "<p class=\"note\">Latency is read from the test pattern's 64-cell block (frame id and capture time in ms",
    "mod 2<sup>24</sup>, top-left 128x128 pixels) and compared with this browser's clock (Date.now()). It is only",
    "meaningful when the master and the browser share one clock, that is on one machine, and the master stamps",
    "frames with the wall clock; otherwise the plot shows the delay relative to the smallest one seen.</p>",
    "<pre id=\"log\"></pre>",
};

/* The page's script (after the config object and the SDK): SigV4 signer, block reader, plots,
 * stats, joining as viewer. */
static const char *const page_js[] = {
    "'use strict';",
    "// The viewer page of `camrtc signaling`. Control-plane calls are made here with fetch and a small",
    "// SigV4 signer (WebCrypto); the official KVS WebRTC JS SDK (served from /kvs-webrtc.js) carries the",
    "// signaling, and RTCPeerConnection receives video (and audio, as the SDK samples do).",
    "var $ = function (id) { return document.getElementById(id); };",
    "var enc = new TextEncoder();",
    "var stats = { state: 'idle', error: null, frameId: null, framesRead: 0, latencyMs: null, offerSent: false, refused: false };",
    "window.camrtcStats = stats;",
    "",
    "function log(msg) {",
    "  var line = new Date().toISOString().slice(11, 23) + ' ' + msg;",
    "  var el = $('log');",
    "  el.textContent = (el.textContent + line + '\\n').slice(-20000);",
    "  el.scrollTop = el.scrollHeight;",
    "}",
    "function setState(s, bad) {",
    "  stats.state = s;",
    "  $('state').textContent = s;",
    "  $('state').className = bad ? 'bad' : '';",
    "  log('state: ' + s);",
    "}",
    "function fail(e) {",
    "  stats.error = String(e && e.message || e);",
    "  setState('failed: ' + stats.error, true);",
    "}",
    "",
    "// ---- SigV4 (AWS Signature Version 4), with WebCrypto ----",
    "// Keys are derived from the secret, the date, the region and the service; the string to sign holds",
    "// the hash of a canonical request. Header auth for REST calls, a presigned query for the WebSocket.",
    "function hex(buf) {",
    "  return Array.from(new Uint8Array(buf), function (b) { return b.toString(16).padStart(2, '0'); }).join('');",
    "}",
    "async function sha256hex(s) { return hex(await crypto.subtle.digest('SHA-256', enc.encode(s))); }",
    "async function hmac(key, s) {",
    "  var k = await crypto.subtle.importKey('raw', typeof key === 'string' ? enc.encode(key) : key,",
    "    { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);",
    "  return crypto.subtle.sign('HMAC', k, enc.encode(s));",
    "}",
    "// RFC 3986 unreserved characters stay; encodeURIComponent leaves !'()* which SigV4 encodes.",
    "function uriEncode(s) {",
    "  return encodeURIComponent(s).replace(/[!'()*]/g, function (c) {",
    "    return '%' + c.charCodeAt(0).toString(16).toUpperCase();",
    "  });",
    "}",
    "function amzDate(d) { return d.toISOString().replace(/\\.\\d{3}Z$/, 'Z').replace(/[:-]/g, ''); }",
    "async function signingKey(creds, day, region) {",
    "  var k = await hmac('AWS4' + creds.secretAccessKey, day);",
    "  k = await hmac(k, region);",
    "  k = await hmac(k, 'kinesisvideo');",
    "  return hmac(k, 'aws4_request');",
    "}",
    "async function signature(creds, region, datetime, canonical) {",
    "  var scope = datetime.slice(0, 8) + '/' + region + '/kinesisvideo/aws4_request';",
    "  var sts = ['AWS4-HMAC-SHA256', datetime, scope, await sha256hex(canonical)].join('\\n');",
    "  return { scope: scope, sig: hex(await hmac(await signingKey(creds, datetime.slice(0, 8), region), sts)) };",
    "}",
    "function canonicalQuery(p) {",
    "  return Object.keys(p).sort().map(function (k) { return uriEncode(k) + '=' + uriEncode(p[k]); }).join('&');",
    "}",
    "// POST a JSON body with an Authorization header; resolves the parsed JSON or throws with the AWS error.",
    "async function awsPost(url, body, creds, region) {",
    "  var u = new URL(url), payload = JSON.stringify(body), datetime = amzDate(new Date());",
    "  var h = { 'content-type': 'application/json', host: u.host, 'x-amz-date': datetime };",
    "  if (creds.sessionToken) h['x-amz-security-token'] = creds.sessionToken;",
    "  var names = Object.keys(h).sort();",
    "  var canonical = ['POST', u.pathname, '', names.map(function (n) { return n + ':' + h[n] + '\\n'; }).join(''),",
    "    names.join(';'), await sha256hex(payload)].join('\\n');",
    "  var s = await signature(creds, region, datetime, canonical);",
    "  h.authorization = 'AWS4-HMAC-SHA256 Credential=' + creds.accessKeyId + '/' + s.scope +",
    "    ', SignedHeaders=' + names.join(';') + ', Signature=' + s.sig;",
    "  delete h.host; // the browser sends it, and must",
    "  var r = await fetch(url, { method: 'POST', headers: h, body: payload });",
    "  var text = await r.text(), json = null;",
    "  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }",
    "  if (!r.ok) {",
    "    var err = new Error(u.pathname + ': HTTP ' + r.status + ' ' + (r.headers.get('x-amzn-ErrorType') || '') +",
    "      ' ' + (json && (json.message || json.Message) || text.slice(0, 200)));",
    "    err.status = r.status;",
    "    throw err;",
    "  }",
    "  return json;",
    "}",
    "// The SDK's requestSigner: presign GET <endpoint>/?query with host the only signed header, as",
    "// KVS wants; the SDK's own signer refuses ws:// (the signature never covers the scheme).",
    "function presigner(creds, region) {",
    "  return {",
    "    getSignedURL: async function (endpoint, query, date) {",
    "      var u = new URL(endpoint), datetime = amzDate(date || new Date());",
    "      var p = Object.assign({}, query, {",
    "        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',",
    "        'X-Amz-Credential': creds.accessKeyId + '/' + datetime.slice(0, 8) + '/' + region + '/kinesisvideo/aws4_request',",
    "        'X-Amz-Date': datetime, 'X-Amz-Expires': '299', 'X-Amz-SignedHeaders': 'host',",
    "      });",
    "      if (creds.sessionToken) p['X-Amz-Security-Token'] = creds.sessionToken;",
    "      var path = u.pathname || '/';",
    "      var canonical = ['GET', path, canonicalQuery(p), 'host:' + u.host + '\\n', 'host', await sha256hex('')].join('\\n');",
    "      p['X-Amz-Signature'] = (await signature(creds, region, datetime, canonical)).sig;",
    "      return u.protocol + '//' + u.host + path + '?' + canonicalQuery(p);",
    "    },",
    "  };",
    "}",
    "",
    "// ---- the test pattern's machine-readable block (src/media/testsrc.c) ----",
    "// 8x8 cells of 16x16 pixels in the top-left corner, black or white; 64 bits row by row, MSB first:",
    "// frame id mod 2^32 | capture ms mod 2^24 | CRC-8 (x^8+x^2+x+1) of the first 7 bytes XOR 0xA5.",
    "// Cells are told apart by comparing them with each other, as the C reader does.",
    "function crc8(b) {",
    "  var c = 0;",
    "  for (var i = 0; i < 7; i++) {",
    "    c ^= b[i];",
    "    for (var k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;",
    "  }",
    "  return c ^ 0xA5;",
    "}",
    "function readBlock(px, width) { // px: RGBA of an area at least 128x128, width: its row length in pixels",
    "  var mean = [], lo = 255, hi = 0;",
    "  for (var i = 0; i < 64; i++) {",
    "    var x0 = (i % 8) * 16 + 4, y0 = Math.floor(i / 8) * 16 + 4, sum = 0;",
    "    for (var y = y0; y < y0 + 8; y++) {",
    "      for (var x = x0; x < x0 + 8; x++) {",
    "        var o = (y * width + x) * 4;",
    "        sum += 0.299 * px[o] + 0.587 * px[o + 1] + 0.114 * px[o + 2];",
    "      }",
    "    }",
    "    mean.push(sum / 64);",
    "    lo = Math.min(lo, sum / 64);",
    "    hi = Math.max(hi, sum / 64);",
    "  }",
    "  if (hi - lo < 40) return null;",
    "  var mid = (lo + hi) / 2, band = (hi - lo) / 4, bytes = [0, 0, 0, 0, 0, 0, 0, 0];",
    "  for (i = 0; i < 64; i++) {",
    "    var d = mean[i] - mid;",
    "    if (Math.abs(d) < band) return null; // neither clearly dark nor clearly light",
    "    if (d > 0) bytes[i >> 3] |= 0x80 >> (i & 7);",
    "  }",
    "  if (crc8(bytes) !== bytes[7]) return null;",
    "  return { frameId: ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0,",
    "    captureMs: (bytes[4] << 16) | (bytes[5] << 8) | bytes[6] };",
    "}",
    "window.camrtcReadBlock = readBlock;",
    "// now - capture, both in ms mod 2^24, taken as a signed difference (a stamp slightly ahead is small negative).",
    "function msSince(captureMs, nowMs) {",
    "  var d = (nowMs - captureMs) & 0xFFFFFF;",
    "  return d >= 0x800000 ? d - 0x1000000 : d;",
    "}",
    "",
    "// ---- plots: canvas, no library ----",
    "var PLOT_POINTS = 120;",
    "var plots = {};",
    "function makePlot(key, title, unit) {",
    "  var div = document.createElement('div'), c = document.createElement('canvas'), t = document.createElement('div');",
    "  div.className = 'plot';",
    "  c.className = 'p';",
    "  c.width = 300;",
    "  c.height = 90;",
    "  div.appendChild(t);",
    "  div.appendChild(c);",
    "  $('plots').appendChild(div);",
    "  plots[key] = { title: title, unit: unit, canvas: c, label: t, values: [] };",
    "  drawPlot(plots[key]);",
    "}",
    "function pushPlot(key, v) {",
    "  var p = plots[key];",
    "  p.values.push(v);",
    "  if (p.values.length > PLOT_POINTS) p.values.shift();",
    "  drawPlot(p);",
    "}",
    "function drawPlot(p) {",
    "  var g = p.canvas.getContext('2d'), w = p.canvas.width, h = p.canvas.height;",
    "  var vals = p.values.filter(function (v) { return v !== null && isFinite(v); });",
    "  var max = Math.max.apply(null, vals.concat([1e-9])), min = Math.min.apply(null, vals.concat([0]));",
    "  var last = p.values.length ? p.values[p.values.length - 1] : null;",
    "  p.label.textContent = p.title + ': ' + (last === null ? '-' : last.toFixed(1) + ' ' + p.unit) +",
    "    ' (max ' + (vals.length ? max.toFixed(1) : '-') + ')';",
    "  g.clearRect(0, 0, w, h);",
    "  g.strokeStyle = '#eee';",
    "  for (var i = 1; i < 4; i++) { g.beginPath(); g.moveTo(0, h * i / 4); g.lineTo(w, h * i / 4); g.stroke(); }",
    "  g.strokeStyle = '#1565c0';",
    "  g.lineWidth = 1.5;",
    "  g.beginPath();",
    "  var pen = false;",
    "  p.values.forEach(function (v, k) {",
    "    if (v === null || !isFinite(v)) { pen = false; return; }",
    "    var x = w - (p.values.length - 1 - k) * (w / (PLOT_POINTS - 1));",
    "    var y = h - 2 - (v - min) / (max - min || 1) * (h - 4);",
    "    if (pen) g.lineTo(x, y); else g.moveTo(x, y);",
    "    pen = true;",
    "  });",
    "  g.stroke();",
    "}",
    "",
    "// ---- reading frames from the video ----",
    "var grab = document.createElement('canvas');",
    "grab.width = 128;",
    "grab.height = 128;",
    "var grabCtx = grab.getContext('2d', { willReadFrequently: true });",
    "var latencyMin = null;",
    "function onVideoFrame() {",
    "  var v = $('video');",
    "  if (v.videoWidth >= 128 && v.videoHeight >= 128) {",
    "    grabCtx.drawImage(v, 0, 0, 128, 128, 0, 0, 128, 128);",
    "    var b = readBlock(grabCtx.getImageData(0, 0, 128, 128).data, 128);",
    "    if (b) {",
    "      stats.frameId = b.frameId;",
    "      stats.framesRead++;",
    "      var d = msSince(b.captureMs, Date.now() % 0x1000000);",
    "      latencyMin = latencyMin === null ? d : Math.min(latencyMin, d);",
    "      // Beyond a minute either way the clocks are not shared (or not both wall clocks).",
    "      stats.latencyShared = Math.abs(d) < 60000;",
    "      stats.latencyMs = stats.latencyShared ? d : d - latencyMin;",
    "    }",
    "  }",
    "  if (session) watchFrames();",
    "}",
    "function watchFrames() {",
    "  var v = $('video');",
    "  if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(onVideoFrame);",
    "  else setTimeout(onVideoFrame, 33);",
    "}",
    "",
    "// ---- stats: getStats every second, W3C webrtc-stats names ----",
    "var prev = null;",
    "async function pollStats() {",
    "  if (!session) return;",
    "  var rep = await session.pc.getStats(), inb = null, pair = null, codecs = {}, remoteOut = null;",
    "  var transport = null;",
    "  rep.forEach(function (s) {",
    "    if (s.type === 'inbound-rtp' && s.kind === 'video') inb = s;",
    "    if (s.type === 'codec') codecs[s.id] = s;",
    "    if (s.type === 'transport') transport = s;",
    "    if (s.type === 'remote-outbound-rtp' && s.kind === 'video') remoteOut = s;",
    "  });",
    "  rep.forEach(function (s) {",
    "    if (s.type === 'candidate-pair' && (transport ? s.id === transport.selectedCandidatePairId : s.nominated)) pair = s;",
    "  });",
    "  var now = performance.now();",
    "  if (inb) {",
    "    ['framesDecoded', 'framesReceived', 'framesDropped', 'keyFramesDecoded', 'packetsLost', 'packetsReceived',",
    "      'bytesReceived', 'jitter', 'freezeCount', 'pliCount', 'firCount', 'nackCount', 'frameWidth', 'frameHeight',",
    "      'decoderImplementation', 'totalFreezesDuration'].forEach(function (k) { stats[k] = inb[k]; });",
    "    stats.codec = inb.codecId && codecs[inb.codecId] ? codecs[inb.codecId].mimeType : null;",
    "    stats.codecFmtp = inb.codecId && codecs[inb.codecId] ? codecs[inb.codecId].sdpFmtpLine : null;",
    "  }",
    "  stats.rttMs = pair && pair.currentRoundTripTime !== undefined ? pair.currentRoundTripTime * 1000",
    "    : remoteOut && remoteOut.roundTripTime !== undefined ? remoteOut.roundTripTime * 1000 : null;",
    "  if (inb && prev) {",
    "    var dt = (now - prev.t) / 1000;",
    "    var lost = (inb.packetsLost || 0) - prev.lost, got = (inb.packetsReceived || 0) - prev.got;",
    "    stats.bitrateKbps = ((inb.bytesReceived || 0) - prev.bytes) * 8 / 1000 / dt;",
    "    stats.fps = ((inb.framesDecoded || 0) - prev.frames) / dt;",
    "    stats.lossPct = lost + got > 0 ? 100 * Math.max(lost, 0) / (lost + got) : 0;",
    "    pushPlot('bitrate', stats.bitrateKbps);",
    "    pushPlot('fps', stats.fps);",
    "    pushPlot('rtt', stats.rttMs);",
    "    pushPlot('loss', stats.lossPct);",
    "    pushPlot('latency', stats.latencyMs);",
    "  }",
    "  if (inb) {",
    "    prev = { t: now, bytes: inb.bytesReceived || 0, frames: inb.framesDecoded || 0,",
    "      lost: inb.packetsLost || 0, got: inb.packetsReceived || 0 };",
    "  }",
    "  stats.connectionState = session.pc.connectionState;",
    "  stats.updated = Date.now();",
    "}",
    "",
    "// ---- joining a channel as viewer ----",
    "var session = null;",
    "function form() {",
    "  return {",
    "    channel: $('channel').value.trim(), region: $('region').value.trim(), clientId: $('clientId').value.trim(),",
    "    creds: { accessKeyId: $('ak').value.trim(), secretAccessKey: $('sk').value },",
    "  };",
    "}",
    "async function describe(f) {",
    "  // The master may not have created the channel yet: wait for it a while.",
    "  for (var i = 0; ; i++) {",
    "    try {",
    "      return (await awsPost(location.origin + '/describeSignalingChannel', { ChannelName: f.channel }, f.creds, f.region))",
    "        .ChannelInfo.ChannelARN;",
    "    } catch (e) {",
    "      if (e.status !== 404 || i >= 60) throw e;",
    "      if (i === 0) setState('waiting for channel ' + f.channel);",
    "      await new Promise(function (r) { setTimeout(r, 1000); });",
    "      if (!session) throw new Error('left');",
    "    }",
    "  }",
    "}",
    "async function join(f) {",
    "  if (!window.crypto || !crypto.subtle) throw new Error('WebCrypto needs a secure context: open the page as http://127.0.0.1 or localhost, or serve it with --tls');",
    "  if (!window.KVSWebRTC) throw new Error(kvsMissing || 'the KVS WebRTC JS SDK (/kvs-webrtc.js) did not load');",
    "  setState('describing channel');",
    "  var arn = await describe(f);",
    "  log('channel ARN ' + arn);",
    "  var r = await awsPost(location.origin + '/getSignalingChannelEndpoint', {",
    "    ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: 'VIEWER' },",
    "  }, f.creds, f.region);",
    "  var ep = {};",
    "  r.ResourceEndpointList.forEach(function (e) { ep[e.Protocol] = e.ResourceEndpoint; });",
    "  log('endpoints ' + JSON.stringify(ep));",
    "  var ice = await awsPost(ep.HTTPS.replace(/\\/$/, '') + '/v1/get-ice-server-config',",
    "    { ChannelARN: arn, ClientId: f.clientId, Service: 'TURN' }, f.creds, f.region);",
    "  // Only the servers the service hands out: nothing outside this machine is contacted.",
    "  var iceServers = (ice.IceServerList || []).map(function (s) {",
    "    return { urls: s.Uris, username: s.Username, credential: s.Password };",
    "  });",
    "  log('ICE servers: ' + iceServers.length);",
    "  if (!session) return;",
    "  var pc = new RTCPeerConnection({ iceServers: iceServers });",
    "  session.pc = pc;",
    "  pc.addTransceiver('video', { direction: 'recvonly' });",
    "  pc.addTransceiver('audio', { direction: 'recvonly' });",
    "  pc.ontrack = function (ev) {",
    "    if (ev.track.kind !== 'video') return;",
    "    $('video').srcObject = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);",
    "    watchFrames();",
    "  };",
    "  pc.onconnectionstatechange = function () {",
    "    setState('peer connection ' + pc.connectionState, pc.connectionState === 'failed');",
    "  };",
    "  var sc = new KVSWebRTC.SignalingClient({",
    "    channelARN: arn, channelEndpoint: ep.WSS, clientId: f.clientId, role: KVSWebRTC.Role.VIEWER,",
    "    region: f.region, requestSigner: presigner(f.creds, f.region), systemClockOffset: 0,",
    "  });",
    "  session.sc = sc;",
    "  sc.on('open', async function () {",
    "    setState('connecting: sending offer');",
    "    try {",
    "      await pc.setLocalDescription(await pc.createOffer());",
    "      sc.sendSdpOffer(pc.localDescription); // trickle ICE: candidates follow one by one",
    "      stats.offerSent = true;",
    "      log('SDP offer sent');",
    "    } catch (e) { fail(e); }",
    "  });",
    "  sc.on('sdpAnswer', async function (answer) {",
    "    log('SDP answer received');",
    "    stats.answerReceived = true;",
    "    try { await pc.setRemoteDescription(answer); } catch (e) { fail(e); return; }",
    "    if (videoRejected(pc, answer.sdp)) refused();",
    "  });",
    "  sc.on('iceCandidate', function (c) {",
    "    pc.addIceCandidate(c).catch(function (e) { log('remote candidate refused: ' + e.message); });",
    "  });",
    "  sc.on('close', function () { log('signaling closed'); });",
    "  sc.on('error', function (e) { log('signaling error: ' + (e && (e.message || e.type) || e)); });",
    "  pc.onicecandidate = function (ev) {",
    "    if (!ev.candidate) { log('end of local candidates'); return; }",
    "    log('local candidate ' + ev.candidate.candidate);",
    "    try { sc.sendIceCandidate(ev.candidate); } catch (e) { log('candidate not sent: ' + e.message); }",
    "  };",
    "  setState('connecting: signaling');",
    "  sc.open();",
    "  session.timer = setInterval(function () { pollStats().catch(function (e) { log('getStats: ' + e.message); }); }, 1000);",
    "}",
    "// An answer whose video m-line has port 0 (RFC 3264 section 6) is the master refusing this viewer",
    "// (too many viewers, no H.264 it can send): say so now rather than wait for a connection that never comes.",
    "function videoRejected(pc, sdp) {",
    "  var t = pc.getTransceivers().filter(function (x) { return x.receiver.track.kind === 'video'; })[0];",
    "  return !!(t && (t.stopped || t.currentDirection === 'stopped')) || /^m=video 0 /m.test(sdp || '');",
    "}",
    "function refused() {",
    "  log('the answer rejects the video: refused by the master');",
    "  stats.refused = true;",
    "  leave();",
    "  setState('refused by the master (its answer rejects every m-line: too many viewers, or no video it can send)', true);",
    "}",
    "function leave() {",
    "  if (!session) return;",
    "  var s = session;",
    "  session = null;",
    "  clearInterval(s.timer);",
    "  if (s.sc) s.sc.close();",
    "  if (s.pc) s.pc.close();",
    "  $('video').srcObject = null;",
    "  $('go').disabled = false;",
    "  $('stop').disabled = true;",
    "  setState('idle');",
    "}",
    "function start() {",
    "  if (session) return;",
    "  var f = form();",
    "  session = { f: f };",
    "  $('go').disabled = true;",
    "  $('stop').disabled = false;",
    "  prev = null;",
    "  join(f).catch(function (e) { fail(e); });",
    "}",
    "",
    "// ---- start-up: fill the form from the service's defaults and the query string ----",
    "var kvsMissing = null;",
    "(function () {",
    "  var cfg = window.CAMRTC_PAGE || {};",
    "  var q = new URLSearchParams(location.search);",
    "  $('about').textContent = 'Service ' + location.origin + ', region ' + cfg.region + ', ' + cfg.channels +",
    "    ' channel(s), ' + cfg.clients + ' connected client(s). Joins a channel as VIEWER with the official KVS WebRTC JS SDK.';",
    "  $('channel').value = q.get('channel') || '';",
    "  $('region').value = q.get('region') || cfg.region || '';",
    "  $('ak').value = q.get('accessKey') || cfg.accessKey || '';",
    "  $('sk').value = q.get('secretKey') || cfg.secretKey || '';",
    "  $('clientId').value = q.get('clientId') || 'web-' + Math.random().toString(36).slice(2, 10);",
    "  makePlot('bitrate', 'bitrate', 'kbit/s');",
    "  makePlot('fps', 'frames per second', 'fps');",
    "  makePlot('rtt', 'RTT', 'ms');",
    "  makePlot('loss', 'packet loss', '%');",
    "  makePlot('latency', 'latency', 'ms');",
    "  $('join').onsubmit = function (ev) { ev.preventDefault(); start(); };",
    "  $('stop').onclick = leave;",
    "  if (!window.KVSWebRTC) {",
    "    fetch('/kvs-webrtc.js').then(function (r) { return r.text(); }).then(function (t) {",
    "      kvsMissing = 'the KVS WebRTC JS SDK is not available: ' + t.slice(0, 300);",
    "      setState(kvsMissing, true);",
    "    });",
    "    return;",
    "  }",
    "  if (q.get('autojoin') === '1' && $('channel').value) start();",
    "})();",
};

static void append_lines(camrtc_buf *b, const char *const *lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        camrtc_buf_append_str(b, lines[i]);
        camrtc_buf_append(b, "\n", 1);
    }
}

/* A JSON string, which is also a JavaScript one. Besides quotes, backslashes and control characters,
 * '<', '>' and '&' are escaped so no value can end the <script> element it sits in. */
static void append_js_string(camrtc_buf *b, const char *s)
{
    camrtc_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            camrtc_buf_appendf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            camrtc_buf_appendf(b, "\\u%04x", *p);
        else
            camrtc_buf_append(b, p, 1);
    }
    camrtc_buf_append(b, "\"", 1);
}

static void send_page(sconn *sc, const camrtc_http_msg *m)
{
    camrtc_signaling *s = sc->srv;
    const camrtc_signaling_config *c = &s->cfg;
    /* Prefill the form only with the documented local pair: a configured secret never goes into a page. */
    bool local = c->creds.access_key_id && c->creds.secret_access_key && !c->creds.session_token &&
                 strcmp(c->creds.access_key_id, CAMRTC_LOCAL_ACCESS_KEY) == 0 &&
                 strcmp(c->creds.secret_access_key, CAMRTC_LOCAL_SECRET_KEY) == 0;
    camrtc_buf b = {0};
    append_lines(&b, page_top, N_LINES(page_top));
    camrtc_buf_append_str(&b, "<script>window.CAMRTC_PAGE = {region: ");
    append_js_string(&b, c->region);
    camrtc_buf_append_str(&b, ", accessKey: ");
    append_js_string(&b, local ? CAMRTC_LOCAL_ACCESS_KEY : "");
    camrtc_buf_append_str(&b, ", secretKey: ");
    append_js_string(&b, local ? CAMRTC_LOCAL_SECRET_KEY : "");
    camrtc_buf_appendf(&b, ", channels: %zu, clients: %zu};</script>\n", sig_store_count(s->store),
                       sig_hub_connection_count(s->hub));
    camrtc_buf_append_str(&b, "<script src=\"/kvs-webrtc.js\"></script>\n<script>\n");
    append_lines(&b, page_js, N_LINES(page_js));
    camrtc_buf_append_str(&b, "</script>\n</body></html>\n");
    if (camrtc_buf_data(&b))
        sig_service_respond(sc, 200, NULL, "text/html; charset=utf-8", camrtc_buf_data(&b), b.len, m->keep_alive);
    else
        sig_service_respond(sc, 500, NULL, "text/plain; charset=utf-8", "out of memory\n", 14, m->keep_alive);
    camrtc_buf_free(&b);
}

static void send_text(sconn *sc, const camrtc_http_msg *m, int status, const char *text)
{
    sig_service_respond(sc, status, NULL, "text/plain; charset=utf-8", text, strlen(text), m->keep_alive);
}

/* Read the whole file into b; 0, or -1 with a reason in why. */
static int read_file(const char *path, camrtc_buf *b, char *why, size_t whysz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whysz, "%s", strerror(errno));
        return -1;
    }
    int rc = 0;
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > KVS_JS_MAX || camrtc_buf_append(b, chunk, n) < 0) {
            snprintf(why, whysz, "larger than %u bytes or out of memory", KVS_JS_MAX);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(why, whysz, "read error");
        rc = -1;
    }
    fclose(f);
    return rc;
}

/* The SDK is read at each request (about 100 KB from a local file, well under a millisecond) rather than
 * kept in memory for a page most runs never open. */
static void send_kvs_js(sconn *sc, const camrtc_http_msg *m)
{
    const char *path = sc->srv->cfg.kvs_js_path;
    if (!path) {
        send_text(sc, m, 404,
                  "kvs-webrtc.js is not configured: start `camrtc signaling` with --kvs-js PATH (or set "
                  "CAMRTC_KVS_JS) naming dist/kvs-webrtc.js of the npm package amazon-kinesis-video-streams-webrtc "
                  "(e.g. tests/interop/node_modules/amazon-kinesis-video-streams-webrtc/dist/kvs-webrtc.js after "
                  "`npm ci` in tests/interop). It is never loaded from a CDN.\n");
        return;
    }
    camrtc_buf b = {0};
    char why[160];
    if (read_file(path, &b, why, sizeof why) < 0) {
        camrtc_buf msg = {0};
        camrtc_buf_appendf(&msg, "kvs-webrtc.js: cannot read the file given with --kvs-js (%s)\n", why);
        if (camrtc_buf_cstr(&msg))
            send_text(sc, m, 404, camrtc_buf_cstr(&msg));
        else
            send_text(sc, m, 500, "out of memory\n");
        camrtc_buf_free(&msg);
    } else {
        sig_service_respond(sc, 200, NULL, "application/javascript; charset=utf-8", camrtc_buf_data(&b), b.len,
                            m->keep_alive);
    }
    camrtc_buf_free(&b);
}

void sig_page_handle(sconn *sc, const camrtc_http_msg *m)
{
    if (strcmp(m->path, "/kvs-webrtc.js") == 0)
        send_kvs_js(sc, m);
    else
        send_page(sc, m);
}
