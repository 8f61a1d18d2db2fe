"""A minimal KVS WebRTC signaling client in Python, for tests that drive peers without one
(aiortc): SigV4 (header-signed control-plane POSTs, query-presigned WebSocket URL) and an
RFC 6455 WebSocket client over asyncio streams. Standard library only.

Wire facts: ../../shared/KVS-PROTOCOL.md. SigV4: the AWS "Signature Version 4" guide
(canonical request, string to sign, derived key). Plain http/ws only: the local service.
"""
import asyncio
import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import urllib.parse
import urllib.request

SERVICE = "kinesisvideo"


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _sha256hex(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def _uri_encode(s):
    # SigV4 encodes everything but the unreserved characters (A-Z a-z 0-9 - _ . ~).
    return urllib.parse.quote(s, safe="-_.~")


class Creds:
    def __init__(self, access_key, secret_key, region):
        self.access_key, self.secret_key, self.region = access_key, secret_key, region

    @classmethod
    def from_env(cls, env):
        return cls(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_REGION"])

    def _scope_key(self, date):
        k = _hmac(("AWS4" + self.secret_key).encode(), date)
        for part in (self.region, SERVICE, "aws4_request"):
            k = _hmac(k, part)
        return k

    def _sign(self, amz_date, canonical):
        scope = "%s/%s/%s/aws4_request" % (amz_date[:8], self.region, SERVICE)
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256hex(canonical)])
        return scope, hmac.new(self._scope_key(amz_date[:8]), sts.encode(), hashlib.sha256).hexdigest()

    def presign_ws(self, ws_endpoint, query, expires=299):
        """The presigned GET URL for the data-plane WebSocket (query presign, host signed)."""
        u = urllib.parse.urlsplit(ws_endpoint)
        amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        scope = "%s/%s/%s/aws4_request" % (amz_date[:8], self.region, SERVICE)
        params = dict(query)
        params.update({"X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                       "X-Amz-Credential": "%s/%s" % (self.access_key, scope),
                       "X-Amz-Date": amz_date, "X-Amz-Expires": str(expires),
                       "X-Amz-SignedHeaders": "host"})
        qs = "&".join("%s=%s" % (_uri_encode(k), _uri_encode(params[k])) for k in sorted(params))
        path = u.path or "/"
        canonical = "\n".join(["GET", path, qs, "host:%s\n" % u.netloc, "host", _sha256hex(b"")])
        _, sig = self._sign(amz_date, canonical)
        return "%s://%s%s?%s&X-Amz-Signature=%s" % (u.scheme, u.netloc, path, qs, sig)

    def post(self, endpoint, path, body, timeout=5.0):
        """A header-signed control-plane POST; returns (status, parsed JSON or {})."""
        u = urllib.parse.urlsplit(endpoint)
        data = json.dumps(body).encode()
        amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        full_path = (u.path.rstrip("/") + path) or "/"
        canonical = "\n".join(["POST", full_path, "", "content-type:application/json\nhost:%s\nx-amz-date:%s\n"
                               % (u.netloc, amz_date), "content-type;host;x-amz-date", _sha256hex(data)])
        scope, sig = self._sign(amz_date, canonical)
        auth = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host;x-amz-date, Signature=%s" % (
            self.access_key, scope, sig)
        req = urllib.request.Request("%s://%s%s" % (u.scheme, u.netloc, full_path), data=data, method="POST",
                                     headers={"Content-Type": "application/json", "X-Amz-Date": amz_date,
                                              "Authorization": auth})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw) if raw else {}
            except ValueError:
                return e.code, {"message": raw.decode(errors="replace")}


def channel_endpoint(creds, endpoint, name, role, create=False):
    """(ARN, wss/ws endpoint) for a channel, creating it when asked (the C SDK's order:
    Describe, Create on 404, GetSignalingChannelEndpoint)."""
    st, r = creds.post(endpoint, "/describeSignalingChannel", {"ChannelName": name})
    if st == 404 and create:
        st, r = creds.post(endpoint, "/createSignalingChannel", {"ChannelName": name, "ChannelType": "SINGLE_MASTER"})
        if st != 200:
            raise RuntimeError("CreateSignalingChannel: %d %s" % (st, r))
        arn = r["ChannelARN"]
    elif st == 200:
        arn = r["ChannelInfo"]["ChannelARN"]
    else:
        raise RuntimeError("DescribeSignalingChannel: %d %s" % (st, r))
    st, r = creds.post(endpoint, "/getSignalingChannelEndpoint", {
        "ChannelARN": arn, "SingleMasterChannelEndpointConfiguration": {"Protocols": ["WSS", "HTTPS"], "Role": role}})
    if st != 200:
        raise RuntimeError("GetSignalingChannelEndpoint: %d %s" % (st, r))
    ws = [e["ResourceEndpoint"] for e in r["ResourceEndpointList"] if e["Protocol"] == "WSS"]
    return arn, ws[0]


class WebSocket:
    """RFC 6455 client: handshake (section 4.1), masked text frames out (5.3), text frames in
    (fragments reassembled, 5.4), pings answered (5.5.2). Enough for signaling messages."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, url, timeout=5.0):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("ws", "http"):
            raise RuntimeError("only ws:// here: %s" % url)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(u.hostname, u.port or 80), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        target = (u.path or "/") + ("?" + u.query if u.query else "")
        writer.write(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (target, u.netloc, key)).encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise RuntimeError("WebSocket upgrade refused: %s" % status.decode(errors="replace"))
        want = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        if want.lower() not in head.lower():
            raise RuntimeError("bad Sec-WebSocket-Accept")
        return cls(reader, writer)

    def _frame(self, opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        return head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload))

    async def send_text(self, text):
        self.writer.write(self._frame(0x1, text.encode()))
        await self.writer.drain()

    async def recv_text(self):
        """The next text message, or None when the connection closes."""
        parts = []
        while True:
            b0, b1 = await self.reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            mask = await self.reader.readexactly(4) if b1 & 0x80 else None
            data = await self.reader.readexactly(n)
            if mask:
                data = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
            op = b0 & 0x0F
            if op == 0x8:
                return None
            if op == 0x9:
                self.writer.write(self._frame(0xA, data))
                continue
            if op in (0x1, 0x0, 0x2):
                parts.append(data)
                if b0 & 0x80:
                    return b"".join(parts).decode()

    def close(self):
        try:
            self.writer.write(self._frame(0x8, b"\x03\xe8"))
            self.writer.close()
        except Exception:
            pass


class Signaling:
    """One signaling connection as master (client_id None) or viewer."""

    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def open(cls, creds, endpoint, channel, client_id=None, create=False):
        role = "VIEWER" if client_id else "MASTER"
        arn, ws_ep = await asyncio.get_running_loop().run_in_executor(
            None, channel_endpoint, creds, endpoint, channel, role, create)
        query = {"X-Amz-ChannelARN": arn}
        if client_id:
            query["X-Amz-ClientId"] = client_id
        # The service takes 3 connections per second per channel (KVS quota): a refused
        # upgrade (400) is retried after a pause, a bounded number of times.
        for attempt in range(10):
            try:
                return cls(await WebSocket.connect(creds.presign_ws(ws_ep, query)))
            except RuntimeError as e:
                if " 400 " not in str(e) or attempt == 9:
                    raise
                await asyncio.sleep(0.4)

    async def send(self, action, payload, to=None):
        msg = {"action": action, "messagePayload": base64.b64encode(json.dumps(payload).encode()).decode()}
        if to:
            msg["recipientClientId"] = to
        await self.ws.send_text(json.dumps(msg))

    async def recv(self):
        """(messageType, senderClientId, payload dict) or None at close. Other types are skipped."""
        while True:
            text = await self.ws.recv_text()
            if text is None:
                return None
            if not text.strip():
                continue
            m = json.loads(text)
            raw = m.get("messagePayload")
            payload = json.loads(base64.b64decode(raw)) if raw else {}
            return m.get("messageType"), m.get("senderClientId") or "", payload

    def close(self):
        self.ws.close()
