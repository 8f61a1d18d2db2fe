#!/usr/bin/python3
"""camrtc ICE through coturn: two ice_peer processes relay-only (RFC 8656) over
turn:?transport=udp, turn:?transport=tcp and turns: (TLS), and one run where only one
side is relay-only. Each run checks both selected pairs (the relay side's local candidate
is its relay address, and each side's remote address is the other's local address) and
data both ways through the relay, then closes.

And end to end from KVS signaling (kvs_get_ice_server_config_relay): `camrtc signaling`
hands out coturn's URLs with time-limited credentials (--turn-secret); `camrtc master
--stdio` joins the channel and reports them; the official AWS SDK for JavaScript asks
GetIceServerConfig for a master and for a viewer, as a real client does; each answer is
given as it is to one ice_peer (--kvs-ice-config), and the two connect relay-only with
exactly those servers and credentials (the test never computes a password itself).

Two coturn instances on 127.0.0.1 with ephemeral ports: one with long-term credentials
(--lt-cred-mech), one with time-limited credentials (--use-auth-secret, what KVS hands
out) and a certificate made here with openssl for turns:.

This file also holds the driver the other ICE scripts share (IcePeer, run_pair,
Coturn): tests/interop/ice_aioice.py and bench/ice_bench.py import it.

Environment: ICE_PEER = path of the ice_peer binary; CAMRTC_BIN = the camrtc binary (default:
src/app/camrtc of the build directory ICE_PEER is in). The AWS SDK comes from
tests/interop/node_modules (`npm ci` there; tools/test does it). Verbose: ICE_INTEROP_VERBOSE=1.
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

VERBOSE = os.environ.get("ICE_INTEROP_VERBOSE") == "1"
STEP_TIMEOUT = 10.0     # seconds for any one expected event


def log(*a):
    if VERBOSE:
        print(*a, file=sys.stderr, flush=True)


def ice_peer_path():
    p = os.environ.get("ICE_PEER")
    if not p or not os.path.exists(p):
        raise SystemExit("set ICE_PEER to the ice_peer binary")
    return p


class IcePeer:
    """One ice_peer process: JSON lines out are queued by type, commands go in."""

    def __init__(self, name, args):
        self.name = name
        self.args = args
        self.events = []          # every event, in order
        self.proc = None
        self._waiters = []
        self._reader = None

    async def start(self):
        env = dict(os.environ)
        env.setdefault("CAMRTC_LOG", "warn")
        self.proc = await asyncio.create_subprocess_exec(
            ice_peer_path(), *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=None if VERBOSE else asyncio.subprocess.DEVNULL, env=env)
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            log(f"[{self.name}] {ev}")
            self.events.append(ev)
            for w in list(self._waiters):
                w()
        for w in list(self._waiters):
            w()

    def send(self, obj):
        if self.proc and self.proc.stdin and not self.proc.stdin.is_closing():
            self.proc.stdin.write((json.dumps(obj) + "\n").encode())

    def of_type(self, t):
        return [e for e in self.events if e.get("type") == t]

    async def wait_for(self, pred, what, timeout=STEP_TIMEOUT):
        """Wait until pred(events) gives something true; return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            r = pred(self.events)
            if r:
                return r
            if self._reader.done():
                raise AssertionError(f"{self.name}: exited while waiting for {what}")
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{self.name}: no {what} within {timeout} s; events: {self.events[-8:]}")
            fut = loop.create_future()

            def wake(f=fut):
                if not f.done():
                    f.set_result(None)
            self._waiters.append(wake)
            try:
                await asyncio.wait_for(fut, left)
            except asyncio.TimeoutError:
                pass
            finally:
                self._waiters.remove(wake)

    async def expect(self, t, timeout=STEP_TIMEOUT):
        return await self.wait_for(lambda evs: next((e for e in evs if e.get("type") == t), None), t, timeout)

    async def close(self, timeout=5.0):
        """Ask to close, wait for "closed" and the exit; kill when it does not come."""
        if not self.proc:
            return None
        self.send({"type": "close"})
        try:
            await self.expect("closed", timeout)
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except (AssertionError, asyncio.TimeoutError):
            self.kill()
            await self.proc.wait()
            return None
        finally:
            if self._reader:
                await asyncio.wait([self._reader], timeout=1)

    def kill(self):
        if self.proc and self.proc.returncode is None:
            self.proc.kill()


async def forward_candidates(src, dst, stop):
    """Trickle: src's candidates to dst as they come, then end-of-candidates."""
    sent = 0
    while not stop.is_set():
        cands = src.of_type("candidate")
        for c in cands[sent:]:
            dst.send({"type": "candidate", "candidate": c["candidate"]})
        sent = len(cands)
        if src.of_type("gathering_done"):
            dst.send({"type": "end_of_candidates"})
            return
        try:
            await src.wait_for(lambda evs: len([e for e in evs if e.get("type") in ("candidate", "gathering_done")])
                               > sent, "candidate", timeout=STEP_TIMEOUT)
        except AssertionError:
            return


async def exchange(a, b, trickle=True):
    """Credentials both ways, then candidates (trickled, or all at once after both gathered)."""
    ca, cb = await a.expect("credentials"), await b.expect("credentials")
    a.send({"type": "credentials", "ufrag": cb["ufrag"], "pwd": cb["pwd"]})
    b.send({"type": "credentials", "ufrag": ca["ufrag"], "pwd": ca["pwd"]})
    if trickle:
        stop = asyncio.Event()
        await asyncio.gather(forward_candidates(a, b, stop), forward_candidates(b, a, stop))
        return
    await a.expect("gathering_done")
    await b.expect("gathering_done")
    for src, dst in ((a, b), (b, a)):
        for c in src.of_type("candidate"):
            dst.send({"type": "candidate", "candidate": c["candidate"]})
        dst.send({"type": "end_of_candidates"})


def cand_addr(line):
    """(ip, port) of an SDP candidate line."""
    f = line.split()
    return f[4], int(f[5])


async def data_both_ways(a, b, tries=20):
    """Each side sends until the other reports the text (UDP: a datagram may be lost)."""
    for src, dst in ((a, b), (b, a)):
        text = f"ping {src.name} to {dst.name} {random.randrange(1 << 30)}"
        for _ in range(tries):
            src.send({"type": "send", "data": text})
            try:
                await dst.wait_for(lambda evs: any(e.get("type") == "data" and e.get("data") == text for e in evs),
                                   "data", timeout=0.25)
                break
            except AssertionError:
                continue
        else:
            raise AssertionError(f"{dst.name} never received data from {src.name}")


async def run_pair(args_a, args_b, trickle=True):
    """Start two ice_peers (a controlling), exchange, wait for both selections.
    Returns (a, b, sel_a, sel_b); the caller closes them."""
    a = await IcePeer("A", ["--controlling"] + args_a).start()
    b = await IcePeer("B", args_b).start()
    try:
        await exchange(a, b, trickle)
        sel_a = await a.expect("selected")
        sel_b = await b.expect("selected")
    except BaseException:
        a.kill()
        b.kill()
        raise
    return a, b, sel_a, sel_b


# ---- coturn ------------------------------------------------------------------------------

def free_port(kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM)):
    """A port free for both UDP and TCP on 127.0.0.1 at the time of asking."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, kinds[0])
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        ok = True
        for k in kinds[1:]:
            t = socket.socket(socket.AF_INET, k)
            try:
                t.bind(("127.0.0.1", port))
            except OSError:
                ok = False
            finally:
                t.close()
        if ok:
            return port
    raise RuntimeError("no free port")


def make_cert(d):
    """A self-signed certificate for localhost / 127.0.0.1 (it is its own CA)."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    return cert, key


# Relay ports per coturn. coturn 4.6.1 keeps a deallocated allocation, with its relay port, for
# about a second (its timers tick once a second); the bench's relay path makes 100 to 200
# allocations a second, so 200 ports ran out and Allocates got 508 (about 270 held at most).
RELAY_PORTS = 2000


class Coturn:
    """coturn in the foreground on 127.0.0.1 (see /work/shared/PEERS.md)."""

    def __init__(self, secret=None, tls=False):
        self.dir = tempfile.mkdtemp(prefix="camrtc-coturn-")
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        base = random.randrange(20000, 60000 - RELAY_PORTS, 200)
        self.secret = secret
        args = ["turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                f"--listening-port={self.port}", f"--min-port={base}", f"--max-port={base + RELAY_PORTS - 1}",
                "--realm=test", "--fingerprint", "--no-dtls", "--no-cli", "--no-multicast-peers",
                "--allow-loopback-peers", f"--userdb={self.dir}/turndb", f"--pidfile={self.dir}/turn.pid",
                "--log-file=stdout", "--simple-log", "-v"]
        if secret:
            args += ["--use-auth-secret", f"--static-auth-secret={secret}"]
        else:
            args += ["--lt-cred-mech", "--user=test:test"]
        if tls:
            self.cert, key = make_cert(self.dir)
            args += [f"--tls-listening-port={self.tls_port}", f"--cert={self.cert}", f"--pkey={key}"]
        else:
            self.cert = None
            args += ["--no-tls"]
        self.log_path = os.path.join(self.dir, "turn.log")
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT)
        self._wait_listening()

    def _wait_listening(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("turnserver exited: " + open(self.log_path).read()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.tls_port or self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("turnserver did not listen")

    def credentials(self, name="camrtc"):
        """(user, password): long-term test:test, or the time-limited kind of the REST API
        (username "<expiry>:<name>", password base64(HMAC-SHA1(secret, username)))."""
        if not self.secret:
            return "test", "test"
        user = f"{int(time.time()) + 3600}:{name}"
        pw = base64.b64encode(hmac.new(self.secret.encode(), user.encode(), hashlib.sha1).digest()).decode()
        return user, pw

    def deallocations(self):
        """{session id: how many Refresh with lifetime 0 (RFC 8656 §7) coturn processed}."""
        counts = {}
        for m in re.finditer(r"session (\w+): refreshed, .*lifetime=0\b", self.log_text()):
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        return counts

    def log_text(self):
        self.logf.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- the tests -------------------------------------------------------------------------------

LOOPBACK = ["--loopback", "--interfaces", "lo"]


def turn_args(url, user, pw, relay_only=True, ca=None):
    a = LOOPBACK + ["--turn", url, "--user", user, "--pass", pw]
    if relay_only:
        a.append("--relay-only")
    if ca:
        a += ["--ca", ca]
    return a


def check_pair(a, b, sel_a, sel_b, relay_a, relay_b):
    """Both sides agree on the pair; a relay-only side's local candidate is a relay one."""
    for side, sel, relay in ((a, sel_a, relay_a), (b, sel_b, relay_b)):
        if relay:
            assert sel["local_type"] == "relay", f"{side.name}: local {sel['local']} is not relay"
        else:
            assert sel["local_type"] in ("host", "srflx", "prflx"), f"{side.name}: local {sel['local']}"
    # Each side's remote address is the other's local one (the relayed address for a
    # relay side: the peer sends to coturn, which relays).
    assert cand_addr(sel_a["remote"]) == cand_addr(sel_b["local"]), (sel_a["remote"], sel_b["local"])
    assert cand_addr(sel_b["remote"]) == cand_addr(sel_a["local"]), (sel_b["remote"], sel_a["local"])
    if relay_b:
        assert sel_a["remote_type"] in ("relay", "prflx"), sel_a["remote"]
    if relay_a:
        assert sel_b["remote_type"] in ("relay", "prflx"), sel_b["remote"]


async def check_deallocated(turn, before, allocations):
    """Every allocation of the case was deallocated on close, exactly once: a second
    Refresh(0) means the answer to the first was lost on our side (coturn answers each)."""
    new = {}
    for _ in range(40):
        new = {k: v for k, v in turn.deallocations().items() if k not in before}
        if len(new) >= allocations:
            break
        await asyncio.sleep(0.05)
    assert len(new) >= allocations, f"{allocations} allocations, {len(new)} deallocated: {new}"
    assert all(v == 1 for v in new.values()), f"Refresh(lifetime 0) repeated: {new}"


async def case(name, args_a, args_b, relay_a, relay_b, turn, stream=False, allocations=2):
    a = b = None
    before = set(turn.deallocations())
    try:
        a, b, sel_a, sel_b = await run_pair(args_a, args_b)
        check_pair(a, b, sel_a, sel_b, relay_a, relay_b)
        await data_both_ways(a, b)
        for p in (a, b):
            rc = await p.close()
            assert rc == 0, f"{p.name}: exit status {rc}"
            st = p.of_type("stats")
            assert st and st[-1]["stats"]["data_received"] >= 1, f"{p.name}: stats {st}"
            if stream:   # the allocation really went over the TCP/TLS connection
                assert st[-1]["stats"]["stream_bytes_in"] > 0, f"{p.name}: nothing over the stream"
        await check_deallocated(turn, before, allocations)
        close_ms = [p.of_type("closed")[-1].get("close_ms") for p in (a, b)]
        print(f"ok   {name}  A {sel_a['local_type']}->{sel_a['remote_type']}  "
              f"B {sel_b['local_type']}->{sel_b['remote_type']}  close_ms {close_ms}", flush=True)
        return True
    except AssertionError as e:
        print(f"FAIL {name}: {e}", flush=True)
        return False
    finally:
        for p in (a, b):
            if p:
                p.kill()


# ---- GetIceServerConfig from camrtc signaling, end to end -----------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-west-2"
LOCAL_PAIR = ("CAMRTCLOCALKEY0000000", "camrtc/local/secret/0000000000000000000000")   # README.md
KVS_CHANNEL = "kvsice"
KVS_VIEWER = "kvsice-viewer"

# The official AWS SDK for JavaScript, as a client would use it: the channel by name, the
# HTTPS endpoint for each role, then GetIceServerConfig there (master: no ClientId). The
# answers come out as GetIceServerConfig bodies ({"IceServerList": [...]}, the SDK's own
# member names, which are the wire's). Only 127.0.0.1 endpoints are used.
SDK_SCRIPT = r"""
const kv = await import('@aws-sdk/client-kinesis-video');
const kvs = await import('@aws-sdk/client-kinesis-video-signaling');
const { KVS_ENDPOINT, KVS_CHANNEL, KVS_VIEWER, KVS_REGION, KVS_AK, KVS_SK } = process.env;
const loopback = (u) => { if (!/^https?:\/\/127\.0\.0\.1:\d+(\/|$)/.test(u)) throw new Error('not loopback: ' + u); return u; };
const credentials = { accessKeyId: KVS_AK, secretAccessKey: KVS_SK };
const c = new kv.KinesisVideoClient({ region: KVS_REGION, endpoint: loopback(KVS_ENDPOINT), credentials, maxAttempts: 1 });
const d = await c.send(new kv.DescribeSignalingChannelCommand({ ChannelName: KVS_CHANNEL }));
const arn = d.ChannelInfo.ChannelARN;
const out = {};
for (const [role, clientId] of [['MASTER', undefined], ['VIEWER', KVS_VIEWER]]) {
  const e = await c.send(new kv.GetSignalingChannelEndpointCommand({ ChannelARN: arn,
    SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: role } }));
  const https = e.ResourceEndpointList.find((x) => x.Protocol === 'HTTPS').ResourceEndpoint;
  const sc = new kvs.KinesisVideoSignalingClient({ region: KVS_REGION, endpoint: loopback(https), credentials, maxAttempts: 1 });
  const r = await sc.send(new kvs.GetIceServerConfigCommand({ ChannelARN: arn, Service: 'TURN',
    ...(clientId ? { ClientId: clientId } : {}) }));
  out[role.toLowerCase()] = { IceServerList: r.IceServerList };
}
process.stdout.write(JSON.stringify(out) + '\n');
"""


def camrtc_bin():
    p = os.environ.get("CAMRTC_BIN")
    if not p:   # <build>/tests/peers/ice_peer -> <build>/src/app/camrtc
        build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(ice_peer_path()))))
        p = os.path.join(build, "src", "app", "camrtc")
    if not os.path.exists(p):
        raise AssertionError(f"no camrtc binary at {p} (set CAMRTC_BIN)")
    return p


def client_env(home):
    """A private HOME and only the local key pair: nothing of the user's AWS setup is read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XDG_"))}
    env.update(HOME=home, XDG_CACHE_HOME=os.path.join(home, "cache"), AWS_ACCESS_KEY_ID=LOCAL_PAIR[0],
               AWS_SECRET_ACCESS_KEY=LOCAL_PAIR[1], AWS_REGION=REGION)
    return env


async def read_json_line(stream, pred, what, timeout=STEP_TIMEOUT):
    """The first JSON line from stream for which pred is true (other lines are skipped)."""
    async def scan():
        while True:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"end of output before {what}")
            try:
                o = json.loads(line)
            except ValueError:
                continue
            log(f"[{what}] {o}")
            if pred(o):
                return o
    try:
        return await asyncio.wait_for(scan(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"no {what} within {timeout} s")


async def stop_process(proc, timeout=5.0):
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


async def start_signaling(secret, urls):
    """`camrtc signaling` on an ephemeral 127.0.0.1 port handing out urls with time-limited
    credentials for coturn's secret. Returns (process, base URL)."""
    args = ["signaling", "--listen", "127.0.0.1:0", "--memory", "--turn-secret", secret]
    for u in urls:
        args += ["--turn-url", u]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}   # the local pair
    env.setdefault("CAMRTC_LOG", "warn")
    proc = await asyncio.create_subprocess_exec(camrtc_bin(), *args, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=None if VERBOSE else asyncio.subprocess.DEVNULL, env=env)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), STEP_TIMEOUT)
        m = re.match(rb"camrtc signaling listening on (http://127\.0\.0\.1:\d+)\s*$", line)
        assert m, f"camrtc signaling said {line!r}"
    except BaseException:
        await stop_process(proc)
        raise
    return proc, m.group(1).decode()


async def master_ice_event(endpoint, home):
    """`camrtc master --stdio --create` on the channel: its "ice" event (the servers it got
    from GetIceServerConfig; it leaves the password out). Stops it with {"stop":true}."""
    proc = await asyncio.create_subprocess_exec(
        camrtc_bin(), "master", "--channel", KVS_CHANNEL, "--create", "--endpoint", endpoint, "--stdio",
        "--no-cache", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=None if VERBOSE else asyncio.subprocess.DEVNULL, env=client_env(home))
    try:
        ev = await read_json_line(proc.stdout, lambda o: o.get("event") == "ice", "camrtc master ice event")
        proc.stdin.write(b'{"stop":true}\n')
        await read_json_line(proc.stdout, lambda o: o.get("event") == "stopped", "camrtc master stopped")
        rc = await asyncio.wait_for(proc.wait(), STEP_TIMEOUT)
        assert rc == 0, f"camrtc master exit status {rc}"
        return ev
    finally:
        await stop_process(proc)


async def sdk_ice_configs(endpoint, home):
    """{"master": body, "viewer": body} from the AWS SDK for JavaScript (SDK_SCRIPT)."""
    if not os.path.isdir(os.path.join(HERE, "node_modules", "@aws-sdk", "client-kinesis-video-signaling")):
        raise AssertionError("the AWS SDK is not installed: cd tests/interop && npm ci")
    env = client_env(home)
    env.update(KVS_ENDPOINT=endpoint, KVS_CHANNEL=KVS_CHANNEL, KVS_VIEWER=KVS_VIEWER, KVS_REGION=REGION,
               KVS_AK=LOCAL_PAIR[0], KVS_SK=LOCAL_PAIR[1])
    # cwd: an --input-type=module script resolves its imports from the working directory.
    proc = await asyncio.create_subprocess_exec(
        "node", "--no-warnings", "--input-type=module", "-e", SDK_SCRIPT, cwd=HERE, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    except asyncio.TimeoutError:
        await stop_process(proc)
        raise AssertionError("the AWS SDK script took more than 30 s")
    assert proc.returncode == 0, f"AWS SDK script failed: {err.decode(errors='replace')[-1500:]}"
    return json.loads(out)


def check_ice_body(body, urls, who):
    """One IceServerList entry with exactly the URLs handed out, REST credentials for who."""
    lst = body.get("IceServerList")
    assert isinstance(lst, list) and len(lst) == 1, f"{who}: IceServerList {lst}"
    e = lst[0]
    assert e["Uris"] == urls, f"{who}: Uris {e['Uris']}"
    m = re.match(r"^(\d+):(.+)$", e["Username"])
    assert m and m.group(2) == who, f"{who}: Username {e['Username']} is not <expiry>:{who}"
    assert int(m.group(1)) > time.time() + 60, f"{who}: Username {e['Username']} expires too soon"
    assert e["Password"] and e["Ttl"] > 0, f"{who}: Password/Ttl {e.get('Ttl')}"


def check_servers_line(p, expect_transports):
    """ice_peer's "servers" line: every usable URI taken with credentials, turns:?udp skipped."""
    sv = p.of_type("servers")
    assert sv, f"{p.name}: no servers line"
    sv = sv[0]
    assert sv["taken"] == len(expect_transports) and sv["skipped"] == 1, f"{p.name}: {sv}"
    got = sorted(s["transport"] for s in sv["servers"])
    assert got == sorted(expect_transports), f"{p.name}: transports {got}"
    assert all(s["auth"] for s in sv["servers"]), f"{p.name}: a TURN server without credentials: {sv}"


async def kvs_case(turn, tmp):
    """GetIceServerConfig from camrtc signaling → ice_peer --kvs-ice-config, relay-only."""
    name = "kvs_get_ice_server_config_relay"
    sig = a = b = None
    before = set(turn.deallocations())
    # AWS's three kinds of URI (turn: UDP, turns: UDP (DTLS: skipped), turns: TCP), plus TCP.
    urls = [f"turn:127.0.0.1:{turn.port}?transport=udp", f"turns:localhost:{turn.tls_port}?transport=udp",
            f"turns:localhost:{turn.tls_port}?transport=tcp", f"turn:127.0.0.1:{turn.port}?transport=tcp"]
    try:
        sig, endpoint = await start_signaling(turn.secret, urls)
        ev = await master_ice_event(endpoint, tmp)
        assert [s["uris"] for s in ev["servers"]] == [urls], f"camrtc master ice event {ev}"
        bodies = await sdk_ice_configs(endpoint, tmp)
        check_ice_body(bodies["master"], urls, KVS_CHANNEL)
        check_ice_body(bodies["viewer"], urls, KVS_VIEWER)
        assert bodies["master"]["IceServerList"][0]["Username"].split(":")[1] == ev["servers"][0]["username"].split(":")[1]
        files = {}
        for role, body in bodies.items():
            files[role] = os.path.join(tmp, f"{role}.json")
            with open(files[role], "w") as f:
                json.dump(body, f)
        common = LOOPBACK + ["--relay-only", "--ca", turn.cert]
        a, b, sel_a, sel_b = await run_pair(common + ["--kvs-ice-config", files["master"]],
                                            common + ["--kvs-ice-config", files["viewer"]])
        for p in (a, b):
            check_servers_line(p, ["udp", "tcp", "tls"])
            relays = [c for c in p.of_type("candidate") if c.get("ctype") == "relay"]
            assert len(relays) == 3, f"{p.name}: {len(relays)} relay candidates, one per server expected"
        check_pair(a, b, sel_a, sel_b, True, True)
        await data_both_ways(a, b)
        for p in (a, b):
            rc = await p.close()
            assert rc == 0, f"{p.name}: exit status {rc}"
            st = p.of_type("stats")[-1]["stats"]
            assert st["data_received"] >= 1 and st["stream_bytes_in"] > 0, f"{p.name}: stats {st}"
        await check_deallocated(turn, before, 6)
        print(f"ok   {name}  A {sel_a['local']}  B {sel_b['local']}", flush=True)
        return True
    except AssertionError as e:
        print(f"FAIL {name}: {e}", flush=True)
        return False
    finally:
        for p in (a, b):
            if p:
                p.kill()
        if sig:
            await stop_process(sig)


async def main():
    results = []
    lt = Coturn()
    try:
        user, pw = lt.credentials()
        url_udp = f"turn:127.0.0.1:{lt.port}?transport=udp"
        url_tcp = f"turn:127.0.0.1:{lt.port}?transport=tcp"
        results.append(await case("relay_udp_both_sides_long_term_creds",
                                  turn_args(url_udp, user, pw), turn_args(url_udp, user, pw), True, True, lt))
        results.append(await case("relay_tcp_both_sides",
                                  turn_args(url_tcp, user, pw), turn_args(url_tcp, user, pw), True, True, lt,
                                  stream=True))
        # The other side has no TURN server: its pair must be host -> A's relayed address.
        results.append(await case("relay_udp_one_side_only",
                                  turn_args(url_udp, user, pw), LOOPBACK, True, False, lt, allocations=1))
    finally:
        lt.stop()
    rest = Coturn(secret="camrtc-static-secret", tls=True)
    try:
        ua, pa = rest.credentials("a")
        ub, pb = rest.credentials("b")
        # By name: the adapter resolves "localhost" and TLS checks the name against the
        # certificate, which is the only CA the peers trust.
        url_tls = f"turns:localhost:{rest.tls_port}"
        results.append(await case("relay_tls_both_sides_auth_secret",
                                  turn_args(url_tls, ua, pa, ca=rest.cert), turn_args(url_tls, ub, pb, ca=rest.cert),
                                  True, True, rest, stream=True))
        url_udp = f"turn:127.0.0.1:{rest.port}"
        results.append(await case("relay_udp_auth_secret_controlled_side_relay",
                                  LOOPBACK, turn_args(url_udp, ub, pb), False, True, rest, allocations=1))
        # A wrong password: coturn refuses (401 after the retry), no relay candidate, and the
        # peer still ends gathering and closes cleanly.
        bad = await IcePeer("bad", turn_args(url_udp, ua, "wrong")).start()
        try:
            done = await bad.expect("gathering_done")
            ok = done and not bad.of_type("candidate") and await bad.close() == 0
            print(("ok  " if ok else "FAIL") + " relay_wrong_password_gathers_nothing", flush=True)
            results.append(bool(ok))
        except AssertionError as e:
            print(f"FAIL relay_wrong_password_gathers_nothing: {e}", flush=True)
            results.append(False)
        finally:
            bad.kill()
        tmp = tempfile.mkdtemp(prefix="camrtc-kvsice-")
        try:
            results.append(await kvs_case(rest, tmp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        rest.stop()
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        rc = asyncio.run(asyncio.wait_for(main(), 110))
    except asyncio.TimeoutError:
        print("FAIL: the whole run took more than 110 s", flush=True)
        rc = 1
    sys.stdout.flush()
    os._exit(rc)
