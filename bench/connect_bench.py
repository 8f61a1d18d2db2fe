#!/usr/bin/env python3
"""Signaling connect time: camrtc's client against the official KVS JS SDK, same run.

Starts `camrtc signaling` (no rate limits: the runs connect back to back), then
  - bench_sigclient: cold (Describe, GetSignalingChannelEndpoint, GetIceServerConfig, WSS)
    and cached (GetIceServerConfig, WSS) connects, 50 each;
  - kvs_js_connect.mjs: the same two paths with @aws-sdk + the KVS JS SDK SignalingClient.
Prints their JSON lines, then one comparison line with the goals
(<= 40 ms cold, <= 15 ms cached; the official C SDK measured 131 ms cold).
"""
import argparse, json, os, subprocess, sys, tempfile, time


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


def lines(cmd, cwd=None, timeout=300):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=cwd, timeout=timeout, check=True).stdout
    return [json.loads(x) for x in out.splitlines() if x.strip().startswith("{")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--camrtc", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--js", required=True)
    ap.add_argument("--runs", default="50")
    a = ap.parse_args()
    server, url = start([a.camrtc, "signaling", "--listen", "127.0.0.1:0", "--memory", "--no-rate-limits"],
                        "camrtc signaling listening on ")
    res = {}
    try:
        for o in lines([a.gen, "--endpoint", url, "--channel", "bench-connect", "--runs", a.runs]):
            print(json.dumps(o), flush=True)
            res[("camrtc", o["mode"])] = o
        for o in lines(["node", a.js, "--endpoint", url, "--channel", "bench-connect", "--runs", a.runs]):
            print(json.dumps(o), flush=True)
            res[("js", o["mode"])] = o
    finally:
        server.terminate()
        server.wait(timeout=10)
    cmp = {"bench": "signaling_connect_vs_kvs_js_sdk"}
    for mode, goal in (("cold", 40.0), ("cached", 15.0)):
        ours, js = res[("camrtc", mode)], res[("js", mode)]
        cmp[f"{mode}_p50_ms"] = ours["p50_ms"]
        cmp[f"{mode}_p99_ms"] = ours["p99_ms"]
        cmp[f"js_{mode}_p50_ms"] = js["p50_ms"]
        cmp[f"js_{mode}_p99_ms"] = js["p99_ms"]
        cmp[f"{mode}_p50_ratio_vs_js"] = round(ours["p50_ms"] / max(js["p50_ms"], 0.001), 3)
        cmp[f"{mode}_goal_ms"] = goal
    print(json.dumps(cmp), flush=True)


if __name__ == "__main__":
    main()
