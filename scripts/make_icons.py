"""Draw the app icons into static/icons/: a white clock face on the Kairos teal.

Pure Python (zlib + struct), so it needs nothing beyond the standard library. Shapes are
signed distance functions, sampled once per pixel and anti-aliased over one pixel's width.

    .venv/bin/python scripts/make_icons.py
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
TEAL = (11, 110, 105)  # --accent in static/css/app.css
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Icon:
    name: str
    size: int
    rounded: bool  # rounded corners, transparent outside; else a full square for masks
    glyph_scale: float  # 1.0 fills the icon as the "any" icons do


# Maskable icons keep the glyph inside the central 80 % circle that every mask leaves
# visible; iOS rounds the apple-touch-icon itself and shows transparency as black.
ICON_SET = (
    Icon("icon-192.png", 192, rounded=True, glyph_scale=1.0),
    Icon("icon-512.png", 512, rounded=True, glyph_scale=1.0),
    Icon("maskable-192.png", 192, rounded=False, glyph_scale=0.78),
    Icon("maskable-512.png", 512, rounded=False, glyph_scale=0.78),
    Icon("apple-touch-icon.png", 180, rounded=False, glyph_scale=0.9),
    Icon("favicon-32.png", 32, rounded=True, glyph_scale=1.1),
)


def _rounded_square(x: float, y: float, radius: float) -> float:
    """Distance to a square filling [0, 1]² with corners of ``radius`` (negative inside)."""
    qx, qy = abs(x - 0.5) - 0.5 + radius, abs(y - 0.5) - 0.5 + radius
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def _segment(x: float, y: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance to the segment from (ax, ay) to (bx, by)."""
    px, py, dx, dy = x - ax, y - ay, bx - ax, by - ay
    t = max(0.0, min(1.0, (px * dx + py * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - t * dx, py - t * dy)


def _clock(x: float, y: float, scale: float) -> float:
    """Distance to the clock: a ring, a minute hand at twelve, an hour hand at four."""
    ring_radius, ring_width = 0.29 * scale, 0.075 * scale
    hand_width = 0.07 * scale
    cx = cy = 0.5
    ring = abs(math.hypot(x - cx, y - cy) - ring_radius) - ring_width / 2
    minute = _segment(x, y, cx, cy, cx, cy - 0.17 * scale) - hand_width / 2
    angle = math.radians(120)  # four o'clock, measured clockwise from twelve
    hour_x, hour_y = cx + 0.12 * scale * math.sin(angle), cy - 0.12 * scale * math.cos(angle)
    hour = _segment(x, y, cx, cy, hour_x, hour_y) - hand_width / 2
    return min(ring, minute, hour)


def _coverage(distance: float, size: int) -> float:
    """How much of a pixel a shape covers, from its distance in icon units."""
    return max(0.0, min(1.0, 0.5 - distance * size))


def render(icon: Icon) -> bytes:
    """The icon's pixels as RGBA rows, each preceded by PNG filter type 0."""
    size = icon.size
    rows = bytearray()
    for row in range(size):
        rows.append(0)
        y = (row + 0.5) / size
        for column in range(size):
            x = (column + 0.5) / size
            alpha = _coverage(_rounded_square(x, y, 0.22), size) if icon.rounded else 1.0
            ink = _coverage(_clock(x, y, icon.glyph_scale), size)
            rgb = (round(b + (w - b) * ink) for b, w in zip(TEAL, WHITE, strict=True))
            rows.extend((*rgb, round(255 * alpha)))
    return bytes(rows)


def png(width: int, height: int, rgba_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rgba_rows, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for icon in ICON_SET:
        path = ICONS / icon.name
        path.write_bytes(png(icon.size, icon.size, render(icon)))
        print(f"wrote {path.relative_to(ICONS.parent.parent)} ({icon.size}×{icon.size})")


if __name__ == "__main__":
    main()
