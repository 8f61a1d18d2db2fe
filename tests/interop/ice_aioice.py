#!/usr/bin/python3
"""camrtc ICE against aioice (the ICE agent of aiortc, python3-aiortc) on 127.0.0.1.

Both role assignments: our ice_peer controlling with aioice controlled, and the other way
round. Full exchange of credentials and candidates (aioice does not trickle: it gathers,
then is given every remote candidate and end-of-candidates before connect()), the pair
each side selected checked against the other's, data both ways on it, then close.

aioice skips 127.0.0.1 when gathering; as /work/shared/PEERS.md says, its
get_host_addresses is replaced with one returning only 127.0.0.1.

Environment: ICE_PEER = path of the ice_peer binary. Verbose: ICE_INTEROP_VERBOSE=1.
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aioice  # noqa: E402
import aioice.ice  # noqa: E402
from aioice import Candidate, Connection  # noqa: E402

from ice_coturn import LOOPBACK, IcePeer, cand_addr  # noqa: E402

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]


def sdp_of(c):
    return "candidate:" + c.to_sdp()


async def aioice_data(conn, peer, tries=20):
    """Data both ways; each sender repeats until the text arrives (UDP)."""
    text = "from aioice"
    for _ in range(tries):
        await conn.send(text.encode())
        try:
            await peer.wait_for(lambda evs: any(e.get("type") == "data" and e.get("data") == text for e in evs),
                                "data", timeout=0.25)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("ice_peer never received aioice's data")
    text = "from camrtc"
    for _ in range(tries):
        peer.send({"type": "send", "data": text})
        try:
            got = await asyncio.wait_for(conn.recv(), 0.25)
        except asyncio.TimeoutError:
            continue
        assert got == text.encode(), got
        return
    raise AssertionError("aioice never received ice_peer's data")


async def run(ours_controlling):
    name = "camrtc_controlling" if ours_controlling else "camrtc_controlled"
    conn = Connection(ice_controlling=not ours_controlling, components=1, use_ipv6=False)
    peer = IcePeer("camrtc", LOOPBACK + (["--controlling"] if ours_controlling else []))
    await peer.start()
    try:
        await conn.gather_candidates()
        assert conn.local_candidates, "aioice gathered nothing"
        creds = await peer.expect("credentials")
        conn.remote_username, conn.remote_password = creds["ufrag"], creds["pwd"]
        peer.send({"type": "credentials", "ufrag": conn.local_username, "pwd": conn.local_password})
        for c in conn.local_candidates:
            peer.send({"type": "candidate", "candidate": sdp_of(c)})
        peer.send({"type": "end_of_candidates"})

        await peer.expect("gathering_done")
        ours = [e["candidate"] for e in peer.of_type("candidate")]
        assert ours, "ice_peer gathered nothing"
        for line in ours:
            await conn.add_remote_candidate(Candidate.from_sdp(line.split(":", 1)[1]))
        await conn.add_remote_candidate(None)

        await asyncio.wait_for(conn.connect(), 10)
        sel = await peer.expect("selected")
        pair = conn._nominated.get(1)   # aioice keeps its nominated pair here (0.8)
        assert pair is not None, "aioice has no nominated pair"
        a_local = (pair.local_candidate.host, pair.local_candidate.port)
        a_remote = tuple(pair.remote_addr)
        assert sel["local_type"] == "host", sel
        assert sel["remote_type"] in ("host", "prflx"), sel
        assert cand_addr(sel["local"]) == a_remote, (sel["local"], a_remote)
        assert cand_addr(sel["remote"]) == a_local, (sel["remote"], a_local)
        assert a_local[0] == "127.0.0.1", a_local
        await aioice_data(conn, peer)
        rc = await peer.close()
        assert rc == 0, f"ice_peer exit status {rc}"
        print(f"ok   {name}  camrtc {sel['local']} -> {sel['remote']}  connect_ms={sel.get('connect_ms')}",
              flush=True)
        return True
    except (AssertionError, ConnectionError) as e:
        print(f"FAIL {name}: {e!r}", flush=True)
        return False
    finally:
        peer.kill()
        await conn.close()


async def main():
    results = [await run(True), await run(False)]
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        rc = asyncio.run(asyncio.wait_for(main(), 60))
    except asyncio.TimeoutError:
        print("FAIL: the whole run took more than 60 s", flush=True)
        rc = 1
    sys.stdout.flush()
    os._exit(rc)
