#!/usr/bin/env python3
# Regenerate icons/icon.png with: python3 icons/generate.py
# Rasterise the Keyhold icon (a padlock on a blue rounded square) to an RGBA PNG, no deps.
import math, os, struct, zlib
N = 512; SS = 3
def rrect(px, py, x0, y0, x1, y1, r):
    cx = min(max(px, x0 + r), x1 - r); cy = min(max(py, y0 + r), y1 - r)
    return math.hypot(px - cx, py - cy) <= r if (px < x0 + r or px > x1 - r) and (py < y0 + r or py > y1 - r) else (x0 <= px <= x1 and y0 <= py <= y1)
def shackle(px, py):
    # arc centre (256,180) radius 80, thickness 36, upper half, plus legs down to 232
    if py <= 180:
        return abs(math.hypot(px - 256, py - 180) - 80) <= 18
    if py <= 240:
        return abs(px - 176) <= 18 or abs(px - 336) <= 18
    return False
def colour(px, py):
    if not rrect(px, py, 16, 16, 496, 496, 112):
        return None
    t = (py - 16) / 480
    top, bot = (0x4f, 0x7d, 0xf3), (0x1e, 0x3a, 0x8a)
    bg = tuple(round(a + (b - a) * t) for a, b in zip(top, bot))
    if rrect(px, py, 128, 222, 384, 422, 36):
        if math.hypot(px - 256, py - 302) <= 28 or rrect(px, py, 244, 312, 268, 372, 8):
            return (0x1e, 0x3a, 0x8a)
        return (255, 255, 255)
    if shackle(px, py):
        return (255, 255, 255)
    return bg
rows = []
for y in range(N):
    row = bytearray(b"\x00")
    for x in range(N):
        acc = [0, 0, 0, 0]
        for sy in range(SS):
            for sx in range(SS):
                c = colour(x + (sx + 0.5) / SS, y + (sy + 0.5) / SS)
                if c:
                    acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 1
        n = acc[3]
        row += bytes([acc[0] // n, acc[1] // n, acc[2] // n, n * 255 // (SS * SS)] if n else [0, 0, 0, 0])
    rows.append(bytes(row))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "icon.png"), "wb").write(png)
