#!/usr/bin/env python3
"""Render `tmux capture-pane -e -p` output (text with ANSI SGR colours) to a PNG.

usage: ansi2png.py INPUT.ansi OUTPUT.png [--cols N] [--rows N] [--font PATH] [--size PX]

Understands the SGR codes tmux emits: bold, dim, italic, underline, reverse, the 16 colours,
256-colour (38;5;N) and true colour (38;2;R;G;B), for foreground and background. Wide
characters take two cells. Needs Pillow (pip install pillow) and a monospace TTF font
(DejaVu Sans Mono by default: apt-get install fonts-dejavu-core).
"""
import argparse
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

DEFAULT_FG = (212, 215, 221)
DEFAULT_BG = (27, 29, 35)
BASE16 = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]
FONTS = {
    "regular": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "bold": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
}


def xterm256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def copy(self):
        s = Style()
        s.__dict__.update(self.__dict__)
        return s

    def apply(self, params):
        p = [int(x) if x else 0 for x in params.split(";")] if params else [0]
        i = 0
        while i < len(p):
            c = p[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.underline = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.underline = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = BASE16[c - 30]
            elif c == 39:
                self.fg = None
            elif 40 <= c <= 47:
                self.bg = BASE16[c - 40]
            elif c == 49:
                self.bg = None
            elif 90 <= c <= 97:
                self.fg = BASE16[c - 90 + 8]
            elif 100 <= c <= 107:
                self.bg = BASE16[c - 100 + 8]
            elif c in (38, 48) and i + 1 < len(p):
                if p[i + 1] == 5 and i + 2 < len(p):
                    col = xterm256(p[i + 2])
                    i += 2
                elif p[i + 1] == 2 and i + 4 < len(p):
                    col = (p[i + 2], p[i + 3], p[i + 4])
                    i += 4
                else:
                    col = None
                if c == 38:
                    self.fg = col
                else:
                    self.bg = col
            i += 1


TOKEN = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])|\x1b[()][0-9A-B]|(.)", re.S)


def parse(text, cols):
    rows = []
    style = Style()
    for line in text.split("\n"):
        cells = []
        for m in TOKEN.finditer(line):
            if m.group(2) == "m":
                style.apply(m.group(1))
            elif m.group(3) is not None:
                ch = m.group(3)
                if ch == "\r" or unicodedata.category(ch) == "Cc":
                    continue
                wide = unicodedata.east_asian_width(ch) in ("W", "F")
                cells.append((ch, style.copy(), wide))
                if wide:
                    cells.append(("", style.copy(), False))
        rows.append(cells)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def render(rows, out, cols, nrows, font_path, bold_path, size):
    font = ImageFont.truetype(font_path, size)
    bold = ImageFont.truetype(bold_path, size)
    cw = round(font.getlength("M"))
    asc, desc = font.getmetrics()
    ch = asc + desc + 2
    cols = cols or max((len(r) for r in rows), default=80)
    nrows = nrows or len(rows)
    pad = 12
    # The margin takes the colour most cells have, so a light theme gets a light frame.
    counts = {}
    for cells in rows[:nrows]:
        for _, st, _ in cells[:cols]:
            bg = (st.fg or DEFAULT_FG) if st.reverse else (st.bg or DEFAULT_BG)
            counts[bg] = counts.get(bg, 0) + 1
    canvas = max(counts, key=counts.get) if counts else DEFAULT_BG
    img = Image.new("RGB", (cols * cw + 2 * pad, nrows * ch + 2 * pad), canvas)
    d = ImageDraw.Draw(img)
    for y, cells in enumerate(rows[:nrows]):
        for x, (char, st, wide) in enumerate(cells[:cols]):
            fg = st.fg or DEFAULT_FG
            bg = st.bg or DEFAULT_BG
            if st.reverse:
                fg, bg = bg, fg
            if st.dim:
                fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
            px, py = pad + x * cw, pad + y * ch
            w = cw * (2 if wide else 1)
            if bg != canvas:
                d.rectangle([px, py, px + w - 1, py + ch - 1], fill=bg)
            if char and char != " ":
                if char in "─│┌┐└┘├┤┬┴┼":
                    draw_box(d, char, px, py, cw, ch, fg)
                else:
                    d.text((px, py + 1), char, font=bold if st.bold else font, fill=fg)
            if st.underline:
                d.line([px, py + ch - 2, px + w - 1, py + ch - 2], fill=fg)
    # Pad short rows with the default background (already filled).
    img.save(out)


def draw_box(d, c, x, y, w, h, fg):
    """Box-drawing lines drawn as lines, so borders join without gaps between rows."""
    mx, my = x + w // 2, y + h // 2
    left = c in "─┐┘┤┬┴┼"
    right = c in "─┌└├┬┴┼"
    up = c in "│└┘├┤┴┼"
    down = c in "│┌┐├┤┬┼"
    if left:
        d.line([x, my, mx, my], fill=fg)
    if right:
        d.line([mx, my, x + w - 1, my], fill=fg)
    if up:
        d.line([mx, y, mx, my], fill=fg)
    if down:
        d.line([mx, my, mx, y + h - 1], fill=fg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--cols", type=int, default=0)
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--font", default=FONTS["regular"])
    ap.add_argument("--bold-font", default=FONTS["bold"])
    ap.add_argument("--size", type=int, default=15)
    a = ap.parse_args()
    with open(a.input, encoding="utf-8", errors="replace") as f:
        rows = parse(f.read(), a.cols)
    render(rows, a.output, a.cols, a.rows, a.font, a.bold_font, a.size)


if __name__ == "__main__":
    sys.exit(main())
