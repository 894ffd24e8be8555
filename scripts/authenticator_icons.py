#!/usr/bin/env python3
"""Draws the web authenticator's PNG icons (crates/server/static/authenticator/icon-*.png)
from the same shapes as favicon.svg: four tiles on the brand blue. Run once after changing
the shapes; the PNGs are committed, so a build needs no image tools. Standard library only."""

import struct
import zlib
from pathlib import Path

BRAND = (0x1F, 0x4E, 0x8C)
WHITE = (0xFF, 0xFF, 0xFF)
LIGHT = (0x9C, 0xC1, 0xF0)
OUT = Path(__file__).resolve().parent.parent / "crates/server/static/authenticator"


def inside(x, y, rect):
    """Whether (x, y) is in a rounded rectangle (x0, y0, w, h, r)."""
    x0, y0, w, h, r = rect
    if not (x0 <= x <= x0 + w and y0 <= y <= y0 + h):
        return False
    cx = min(max(x, x0 + r), x0 + w - r)
    cy = min(max(y, y0 + r), y0 + h - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def shapes(maskable):
    """The icon on a 32-unit square: the background, then the four tiles."""
    if maskable:
        # Full bleed; the tiles inside the central 60% that every mask keeps.
        back = (0, 0, 32, 32, 0)
        s, o = 0.6, 32 * 0.2
    else:
        back = (0, 0, 32, 32, 7)
        s, o = 1.0, 0.0
    tiles = [(6, 6, WHITE), (17, 6, LIGHT), (6, 17, LIGHT), (17, 17, WHITE)]
    out = [(back, BRAND)]
    for x, y, colour in tiles:
        out.append(((o + x * s, o + y * s, 9 * s, 9 * s, 1.5 * s), colour))
    return out


def render(size, maskable):
    drawn = shapes(maskable)
    n = 4  # 4×4 samples a pixel: smooth edges
    rows = []
    for py in range(size):
        row = bytearray([0])  # filter: none
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    x = (px + (sx + 0.5) / n) * 32 / size
                    y = (py + (sy + 0.5) / n) * 32 / size
                    colour = None
                    for rect, c in drawn:
                        if inside(x, y, rect):
                            colour = c
                    if colour:
                        acc[0] += colour[0]
                        acc[1] += colour[1]
                        acc[2] += colour[2]
                        acc[3] += 255
            k = n * n
            alpha = acc[3] / k
            if alpha:
                cover = acc[3] / 255
                row += bytes([round(acc[0] / cover), round(acc[1] / cover), round(acc[2] / cover), round(alpha)])
            else:
                row += bytes(4)
        rows.append(bytes(row))
    return png(size, b"".join(rows))


def png(size, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    for name, size, maskable in [
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
    ]:
        (OUT / name).write_bytes(render(size, maskable))
        print(OUT / name)
