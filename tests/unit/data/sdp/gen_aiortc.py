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
        # A recording the SDP tests can use: a video section offering H.264 (and for
        # sendrecv_dc, the data channel); anything else is refused, nothing written.
        if "m=video" not in s or "H264/90000" not in s or (kind == "sendrecv_dc" and "m=application" not in s):
            sys.exit("gen_aiortc: aiortc's %s offer lacks video/H.264/data channel" % kind)
        with open(os.path.join(out, "aiortc_%s.sdp" % kind), "w", newline="") as f:
            f.write(s)

asyncio.run(main())
os._exit(0)
