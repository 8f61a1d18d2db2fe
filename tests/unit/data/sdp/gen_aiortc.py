# Records aiortc offers into the directory given as argument:
#   timeout 60 /usr/bin/python3 gen_aiortc.py tests/unit/data/sdp
import asyncio, os, sys
import aioice.ice
from aiortc import RTCPeerConnection, RTCConfiguration

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

async def offer(kind):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    if kind == "recvonly":
        pc.addTransceiver("video", direction="recvonly")
    else:
        pc.addTransceiver("video", direction="sendrecv")
        pc.createDataChannel("chat")
    o = await pc.createOffer()
    await pc.setLocalDescription(o)
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp

async def main():
    out = sys.argv[1]
    for kind in ("recvonly", "sendrecv_dc"):
        s = await offer(kind)
        with open(os.path.join(out, "aiortc_%s.sdp" % kind), "w", newline="") as f:
            f.write(s)

asyncio.run(main())
os._exit(0)
