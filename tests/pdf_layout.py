"""Reading a rendered PDF's layout back (pdfplumber words): the text area and words printed over words."""
from __future__ import annotations

CM = 72 / 2.54
MARGIN = 2.2 * CM


def body_words(page: dict) -> list[dict]:
    """Words in the text area (not the running header or the page number in the margins)."""
    return [w for w in page["words"] if MARGIN - 4 <= w["top"] and w["bottom"] <= page["height"] - MARGIN + 4]


def overlaps(a: dict, b: dict) -> bool:
    dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
    dy = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    if dx <= 0 or dy <= 0:
        return False
    smaller = min((a["x1"] - a["x0"]) * (a["bottom"] - a["top"]), (b["x1"] - b["x0"]) * (b["bottom"] - b["top"]))
    return dx * dy > 0.25 * smaller


def overprinted(words: list[dict]) -> list[tuple[str, str]]:
    """Pairs of words drawn on top of each other (swept by vertical position)."""
    words = sorted(words, key=lambda w: w["top"])
    found = []
    for i, a in enumerate(words):
        for b in words[i + 1:]:
            if b["top"] >= a["bottom"]:
                break
            if overlaps(a, b):
                found.append((a["text"], b["text"]))
    return found
