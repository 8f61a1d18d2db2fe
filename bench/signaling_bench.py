#!/usr/bin/env python3
"""Signaling benchmark: camrtc signaling against a minimal Node `ws` relay, same run.

Starts each relay pinned to CPU 0 and the C load generator (bench_signaling) pinned to
CPU 1, then measures, for each:
  - relay latency p50/p99 with 1 master + 10 viewers (one-way, same clock at both ends),
  - messages per second delivered with 10 channels x (1 master + 10 viewers), closed loop,
  - RSS per idle connected WebSocket client at 1,000 clients (100 channels x (1 + 9)).
Prints one JSON object per line, then the ratios against the goals
(>= 3x the Node relay's message rate, <= 1/5 of its memory per client).
"""
import argparse, datetime, hashlib, hmac, json, os, shutil, subprocess, sys, tempfile, time, urllib.request

AK = "CAMRTCLOCALKEY0000000"
SK = "camrtc/local/secret/0000000000000000000000"
REGION = "us-west-2"


def sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def rest(base, path, body):
    """One SigV4-signed control-plane call (header auth), like the AWS SDKs make."""
    data = json.dumps(body).encode()
    host = base.split("://", 1)[1]
    now = datetime.datetime.utcnow()
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    ph = hashlib.sha256(data).hexdigest()
    headers = {"content-type": "application/json", "host": host, "x-amz-date": amz}
    signed = ";".join(sorted(headers))
    canon = "\n".join(["POST", path, "", "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed, ph])
    scope = f"{day}/{REGION}/kinesisvideo/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canon.encode()).hexdigest()])
    k = sign(sign(sign(sign(("AWS4" + SK).encode(), day), REGION), "kinesisvideo"), "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={signed}, Signature={sig}"
    req = urllib.request.Request(base + path, data=data, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(cmd, prefix):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return p, line[len(prefix):].strip()
    p.kill()
    raise SystemExit(f"{cmd[0]} did not start")


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()


def taskset(cpu):
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1 else []


def run_gen(gen, url, chan_file, label, extra, on_line=None, timeout=180):
    cmd = taskset(1) + [gen, "--url", url, "--channels", chan_file, "--label", label] + extra
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = []
    for line in p.stdout:
        line = line.strip()
        if not line:
            continue
        obj = json.loads(line)
        if on_line:
            on_line(obj)
        out.append(obj)
    p.wait(timeout=timeout)
    return out


def bench_impl(label, server_cmd, prefix, gen, make_channels, tmp):
    res = {}
    server, url = start(taskset(0) + server_cmd, prefix)
    try:
        arns = make_channels(url)
        chan_file = os.path.join(tmp, f"{label}-channels.txt")
        with open(chan_file, "w") as f:
            f.write("\n".join(arns) + "\n")
        ws_url = url.replace("http://", "ws://")
        for o in run_gen(gen, ws_url, chan_file, label, ["--mode", "latency", "--viewers", "10", "--messages", "300",
                                                        "--interval-ms", "10"]):
            print(json.dumps(o), flush=True)
            res["lat"] = o
        for o in run_gen(gen, ws_url, chan_file, label, ["--mode", "throughput", "--max-channels", "10",
                                                        "--viewers", "10", "--window", "16", "--seconds", "5"]):
            print(json.dumps(o), flush=True)
            res["tput"] = o
    finally:
        stop(server)

    # Memory on a fresh process, so heap grown by the load above does not hide the cost of a client.
    server, url = start(taskset(0) + server_cmd, prefix)
    try:
        arns = make_channels(url)
        chan_file = os.path.join(tmp, f"{label}-channels.txt")
        with open(chan_file, "w") as f:
            f.write("\n".join(arns) + "\n")
        ws_url = url.replace("http://", "ws://")
        time.sleep(1)
        before = rss_kb(server.pid)
        seen = {}

        def on_line(o):
            if o.get("event") == "connected":
                time.sleep(1.0)
                seen["rss"] = rss_kb(server.pid)
                seen["clients"] = o["clients"]

        run_gen(gen, ws_url, chan_file, label, ["--mode", "idle", "--max-channels", "100", "--viewers", "9",
                                               "--hold-s", "2"], on_line)
        clients = seen.get("clients", 0)
        per = (seen.get("rss", before) - before) * 1024 / clients if clients else 0
        o = {"bench": "signaling_idle_rss", "impl": label, "clients": clients, "rss_before_kb": before,
             "rss_after_kb": seen.get("rss", 0), "bytes_per_client": round(per)}
        print(json.dumps(o), flush=True)
        res["rss"] = o
    finally:
        stop(server)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--camrtc", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--node-relay", required=True)
    ap.add_argument("--node-modules", required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="camrtc-bench-")
    try:
        def ours(url):
            arns = []
            for i in range(100):
                r = rest(url, "/createSignalingChannel", {"ChannelName": f"bench-{i}"})
                arns.append(r["ChannelARN"])
            return arns

        def synthetic(url):
            return [f"arn:aws:kinesisvideo:{REGION}:111122223333:channel/bench-{i}/1700000000000" for i in range(100)]

        cam = bench_impl("camrtc", [a.camrtc, "signaling", "--listen", "127.0.0.1:0", "--memory", "--no-rate-limits"],
                         "camrtc signaling listening on ", a.gen, ours, tmp)
        env_path = os.environ.get("NODE_PATH", "")
        os.environ["NODE_PATH"] = a.node_modules + (":" + env_path if env_path else "")
        node = bench_impl("node_ws", ["node", a.node_relay, "--port", "0"], "node relay listening on ", a.gen,
                          synthetic, tmp)
        cmp = {
            "bench": "signaling_vs_node",
            "msgs_per_s": cam["tput"]["msgs_per_s"], "node_msgs_per_s": node["tput"]["msgs_per_s"],
            "msgs_ratio": round(cam["tput"]["msgs_per_s"] / max(node["tput"]["msgs_per_s"], 1), 2),
            "msgs_ratio_goal": 3.0,
            "bytes_per_client": cam["rss"]["bytes_per_client"],
            "node_bytes_per_client": node["rss"]["bytes_per_client"],
            "memory_ratio": round(cam["rss"]["bytes_per_client"] / max(node["rss"]["bytes_per_client"], 1), 3),
            "memory_ratio_goal": 0.2,
            "latency_p50_us": cam["lat"]["p50_us"], "node_latency_p50_us": node["lat"]["p50_us"],
            "latency_p99_us": cam["lat"]["p99_us"], "node_latency_p99_us": node["lat"]["p99_us"],
        }
        print(json.dumps(cmp), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
