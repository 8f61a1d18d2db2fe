#!/usr/bin/python3
"""Regenerates the media test data in this folder (python3-av + numpy).

small.jpg        64x32 JPEG (4:2:0), four flat quadrants, for MJPEG decoding tests
                 (QUAD is limited range; JFIF stores it expanded to full range).
stream.h264      Annex-B H.264, 64x64, 12 frames, 2 slices per picture, IDR every 6.
h264dir/         the same stream, one access unit per file (frame-0001.h264 ...), as
                 libavcodec cut it: the ground truth for our access-unit splitter.
aud.h264         64x64, 4 frames with access unit delimiters, 1 slice.
"""
import os
import av
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# Quadrant colours in limited-range YUV: (Y, U, V).
QUAD = [(41, 240, 110), (145, 54, 34), (82, 90, 240), (235, 128, 128)]


def jpeg():
    w, h = 64, 32
    y = np.zeros((h, w), np.uint8)
    u = np.zeros((h // 2, w // 2), np.uint8)
    v = np.zeros((h // 2, w // 2), np.uint8)
    for i, (yy, uu, vv) in enumerate(QUAD):
        x0, y0 = (i % 2) * 32, (i // 2) * 16
        y[y0:y0 + 16, x0:x0 + 32] = yy
        u[y0 // 2:y0 // 2 + 8, x0 // 2:x0 // 2 + 16] = uu
        v[y0 // 2:y0 // 2 + 8, x0 // 2:x0 // 2 + 16] = vv
    frame = av.VideoFrame.from_ndarray(np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)])
                                       .reshape(h * 3 // 2, w), format='yuv420p')
    c = av.CodecContext.create('mjpeg', 'w')
    c.width, c.height, c.pix_fmt = w, h, 'yuvj420p'
    c.options = {'qmin': '1', 'qmax': '1'}
    c.qscale = 1
    frame = frame.reformat(format='yuvj420p')
    data = b''.join(bytes(p) for p in c.encode(frame)) + b''.join(bytes(p) for p in c.encode(None))
    if not (data.startswith(b'\xff\xd8') and data.endswith(b'\xff\xd9')):
        raise SystemExit('make_media: the encoder did not make one whole JPEG')
    open(os.path.join(HERE, 'small.jpg'), 'wb').write(data)


def h264(name, n, params, dirname=None):
    c = av.CodecContext.create('libx264', 'w')
    c.width, c.height, c.pix_fmt = 64, 64, 'yuv420p'
    c.framerate = 30
    c.options = {'preset': 'ultrafast', 'x264-params': params}
    out = b''
    aus = []
    for i in range(n):
        img = np.zeros((64, 64, 3), np.uint8)
        img[:, :, 0] = (np.arange(64) * 4 + i * 8) % 256
        img[8 + i:24 + i, 8:24, 1] = 255
        f = av.VideoFrame.from_ndarray(img, format='rgb24').reformat(format='yuv420p')
        f.pts = i
        aus += [bytes(p) for p in c.encode(f)]
    aus += [bytes(p) for p in c.encode(None)]
    # One access unit per frame, each in Annex-B: the tests compare our splitter with these.
    if len(aus) != n or any(not (au.startswith(b'\x00\x00\x01') or au.startswith(b'\x00\x00\x00\x01')) for au in aus):
        raise SystemExit('make_media: %s: %d access units for %d frames, or not Annex-B' % (name, len(aus), n))
    open(os.path.join(HERE, name), 'wb').write(b''.join(aus))
    if dirname:
        d = os.path.join(HERE, dirname)
        os.makedirs(d, exist_ok=True)
        for i, au in enumerate(aus):
            open(os.path.join(d, 'frame-%04d.h264' % (i + 1)), 'wb').write(au)
    return aus


if __name__ == '__main__':
    jpeg()
    a = h264('stream.h264', 12, 'keyint=6:min-keyint=6:scenecut=0:slices=2:bframes=0', 'h264dir')
    b = h264('aud.h264', 4, 'keyint=2:min-keyint=2:scenecut=0:aud=1:bframes=0')
    print(len(a), 'AUs in stream.h264;', len(b), 'in aud.h264')
