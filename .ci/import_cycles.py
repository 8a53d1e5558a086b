#!/usr/bin/env python3
"""Lists import circles between the files of a crate's `src/` (exit 1 when there is one).

A file depends on another when it names an item of that module (`crate::a::b`, `super::x`,
`self::y`, in `use` trees and inline paths). A module naming its own descendants is structure,
not a dependency (`mod` and `pub use` of children), so those edges are left out; everything else
counts, a child naming its parent included.
Usage: import_cycles.py CRATE_SRC_DIR
"""
import os
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "nlsq-runtime/src"
mods = {}  # module path tuple -> file
for root, _, files in os.walk(src):
    for f in files:
        if not f.endswith(".rs"):
            continue
        rel = os.path.relpath(os.path.join(root, f), src)[:-3].split(os.sep)
        if rel[-1] in ("mod", "lib"):
            rel = rel[:-1]
        mods[tuple(rel)] = os.path.join(root, f)
# Files included with #[path] are children of the including module.
for m, f in list(mods.items()):
    text = open(f).read()
    for p, name in re.findall(r'#\[path\s*=\s*"([^"]+)"\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)', text):
        target = os.path.normpath(os.path.join(os.path.dirname(f), p))
        for k, v in list(mods.items()):
            if os.path.normpath(v) == target:
                del mods[k]
                mods[m + (name,)] = v

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def expand(tree):
    """Paths of a `use` tree: `a::{b, c::{d}}` -> [a::b, a::c::d]."""
    tree = tree.strip()
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
    if start is None:
        return [tree.split(" as ")[0].strip()]
    prefix, inner = tree[:start], tree[start + 1 : tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    return [prefix + p2 for p in parts if p.strip() for p2 in expand(p)]


def resolve(path, here):
    segs = [s for s in path.replace(" ", "").split("::") if s]
    if not segs:
        return None
    if segs[0] == "crate":
        base, segs = (), segs[1:]
    elif segs[0] == "super":
        base = here
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
    elif segs[0] == "self":
        base, segs = here, segs[1:]
    else:
        return None
    best = base if base in mods else None
    cur = base
    for s in segs:
        cur = cur + (s,)
        if cur in mods:
            best = cur
    return best


edges = {m: set() for m in mods}
for m, f in mods.items():
    text = strip(open(f).read())
    paths = []
    for tree in re.findall(r"\buse\s+([^;]+);", text):
        paths += expand(tree)
    text_wo_use = re.sub(r"\buse\s+[^;]+;", "", text)
    paths += re.findall(rf"\b(?:crate|super|self)(?:::{IDENT})+", text_wo_use)
    for p in paths:
        t = resolve(p, m)
        if t is None or t == m or t[: len(m)] == m:
            continue  # itself, or one of its descendants
        edges[m].add(t)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(comp)


for v in sorted(mods):
    if v not in index:
        visit(v)
name = lambda m: "::".join(m) or "crate"
for comp in sccs:
    print(f"import circle of {len(comp)} modules:")
    for v in sorted(comp):
        inside = sorted(name(w) for w in edges[v] if w in comp)
        print(f"  {name(v)} -> {', '.join(inside)}")
print(f"{len(sccs)} import circle(s) among {len(mods)} modules of {src}")
sys.exit(1 if sccs else 0)
