#!/usr/bin/env python3
"""Folds `perf script` output into a flame graph SVG (no dependencies).

    perf record -F 999 -g --call-graph dwarf -p <pid> -o perf.data -- sleep 10
    perf script -i perf.data | python3 scripts/flamegraph.py "title" > docs/flame.svg

Frames are simplified (generic parameters and closure suffixes dropped) so the graph reads
by function; async state machines appear as their `{{closure}}` owners.
"""

import html
import re
import sys
from collections import defaultdict

WIDTH, ROW, MIN_PX = 1600, 16, 8.0


def simplify(frame: str) -> str:
    frame = re.sub(r"\+0x[0-9a-f]+$", "", frame.strip())
    depth, out = 0, []
    for ch in frame:  # drop <...> generic arguments
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    s = "".join(out).replace("::{{closure}}", "").replace(" (inlined)", "")
    return s or frame


def fold(lines):
    stacks, stack = defaultdict(int), []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if stack:
                stacks[";".join(reversed(stack))] += 1
            stack = []
        elif line.startswith((" ", "\t")):
            parts = line.strip().split(" ", 1)
            if len(parts) == 2:
                name = simplify(parts[1].rsplit(" (", 1)[0])
                if name not in ("[unknown]",) and not name.startswith("0xffff"):
                    stack.append(name)
    if stack:
        stacks[";".join(reversed(stack))] += 1
    return stacks


def tree(stacks):
    root = {"n": 0, "c": {}}
    for s, n in stacks.items():
        node = root
        node["n"] += n
        for f in s.split(";"):
            node = node["c"].setdefault(f, {"n": 0, "c": {}})
            node["n"] += n
    return root


def color(name: str) -> str:
    h = sum(map(ord, name)) % 60
    if "malloc" in name or "free" in name or "memmove" in name or "alloc" in name:
        return "rgb(90,160,230)"
    if name.startswith(("opsgraph", "<opsgraph")):
        return f"rgb(230,{120 + h},60)"
    return f"rgb(240,{170 + h // 2},{60 + h})"


def render(root, title):
    total = root["n"] or 1
    rects, depth_max = [], 0

    def walk(node, x, depth):
        nonlocal depth_max
        for name, child in sorted(node["c"].items()):
            w = child["n"] / total * WIDTH
            if w >= MIN_PX:
                depth_max = max(depth_max, depth)
                rects.append((x, depth, w, name, child["n"]))
                walk(child, x, depth + 1)
            x += w

    walk(root, 0.0, 0)
    height = (depth_max + 3) * ROW
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="monospace" '
           f'font-size="11"><rect width="100%" height="100%" fill="#fff"/>',
           f'<text x="4" y="13">{html.escape(title)} ({total} samples; hover for names)</text>']
    for x, d, w, name, n in rects:
        y = height - (d + 1) * ROW
        label = html.escape(name)
        pct = 100.0 * n / total
        out.append(f'<g><title>{label} ({n} samples, {pct:.1f}%)</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 1}" fill="{color(name)}"/>')
        chars = int(w / 7)
        if chars > 3:
            text = name if len(name) <= chars else name[: chars - 2] + ".."
            out.append(f'<text x="{x + 2:.1f}" y="{y + 11}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


if __name__ == "__main__":
    print(render(tree(fold(sys.stdin)), sys.argv[1] if len(sys.argv) > 1 else "flame graph"))
