"""Headless Chromium screenshot of the rendered HTML (to look at the layout).

    .venv/bin/python scripts/screenshot.py [_output/index.html] [--out _output/screenshot.png]
        [--height 2400] [--tile 2000]

Needs Debian's chromium (apt-get install -y chromium). With --tile, a tall capture is also cut into
tiles of that many pixels (screenshot-01.png, ...), so a long page can be looked at piece by piece.
Prints the PNG path(s).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("error: chromium not found (apt-get install -y chromium)")


def screenshot(html: Path, out: Path, width: int = 1280, height: int = 2400) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    url = html.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
               "--hide-scrollbars", "--virtual-time-budget=3000", f"--window-size={width},{height}", f"--screenshot={out.resolve()}", url]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", nargs="?", type=Path, default=ROOT / "_output" / "index.html")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=2400)
    ap.add_argument("--tile", type=int, default=0, help="also cut the capture into tiles this tall (pixels)")
    a = ap.parse_args()
    if not a.html.exists():
        sys.exit(f"error: {a.html} not found: run `perinatal-csc render --to html` first")
    out = a.out or a.html.with_name("screenshot.png")
    print(screenshot(a.html, out, a.width, a.height))
    if a.tile:
        for p in tiles(out, a.tile):
            print(p)


def tiles(png: Path, step: int) -> list[Path]:
    """Cut a tall capture into pieces; blank trailing pieces are skipped."""
    from PIL import Image, ImageChops

    img = Image.open(png).convert("RGB")
    out = []
    for i, top in enumerate(range(0, img.height, step), start=1):
        piece = img.crop((0, top, img.width, min(img.height, top + step)))
        if not ImageChops.difference(piece, Image.new("RGB", piece.size, "white")).getbbox():
            continue
        path = png.with_name(f"{png.stem}-{i:02d}.png")
        piece.save(path)
        out.append(path)
    return out


if __name__ == "__main__":
    main()
