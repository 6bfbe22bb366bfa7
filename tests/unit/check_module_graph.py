#!/usr/bin/env python3
"""No cycle between data-plane modules: reads which module each object of the data-plane
library defines and imports (nm), and which headers each source and header of dataplane/
includes, and fails naming every cycle of that graph.

A module is a file stem's first two words: dp_miss.c, dp_miss_link.c and dp_miss_int.h are all
"dp_miss"; dp_cache_mem.c is "dp_cache". An edge A -> B says A includes a header of B or calls
(or reads) a symbol B defines, from its sources or from a header's inline functions. A module
may use those below it, never one that uses it back: that is what lets each be read, tested and
replaced on its own.

usage: check_module_graph.py NM LIBRARY.a SRCDIR"""
import collections, os, re, subprocess, sys


def module(path):
    stem = os.path.basename(path).split('.', 1)[0]
    return '_'.join(stem.split('_')[:2])


def call_edges(nm, lib):
    """What each object of the static library lib defines and imports (nm -P -A)."""
    out = subprocess.run([nm, '-P', '-A', lib], check=True, capture_output=True,
                         text=True).stdout
    defs, uses, objs = {}, collections.defaultdict(set), set()
    member = re.compile(r'^.*\[(?:.*/)?([^/\]]+\.o)\]:\s+(\S+)\s+(\S)')
    for line in out.splitlines():
        m = member.match(line)
        if not m:
            continue
        o, sym, kind = m.groups()
        objs.add(o)
        if kind == 'U':
            uses[o].add(sym)
        elif kind.isupper() and kind not in 'UVW':
            defs[sym] = o
    edges = collections.defaultdict(set)
    for o, syms in uses.items():
        for s in syms:
            if s in defs and module(defs[s]) != module(o):
                edges[(module(o), module(defs[s]))].add('calls ' + s)
    return sorted(objs), edges, defs


def inline_edges(srcdir, defined):
    """Calls from a header's inline functions: they are its module's code, though nm sees them
    in the objects that include the header. A call is a name followed by ( on an indented
    line that is not a comment (declarations start at the left margin)."""
    edges = collections.defaultdict(set)
    call = re.compile(r'\b([a-z_][a-z0-9_]*)\s*\(')
    for f in sorted(os.listdir(srcdir)):
        if not f.endswith('.h'):
            continue
        with open(os.path.join(srcdir, f)) as fh:
            for line in fh:
                code = re.sub(r'/\*.*?(\*/|$)', '', line).rstrip()
                if not code[:1].isspace() or code.lstrip().startswith('*'):
                    continue
                for sym in call.findall(code):
                    if sym in defined and module(defined[sym]) != module(f):
                        edges[(module(f), module(defined[sym]))].add(
                            f + ' inline calls ' + sym)
    return edges


def include_edges(srcdir):
    edges = collections.defaultdict(set)
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    for f in sorted(os.listdir(srcdir)):
        if not f.endswith(('.c', '.h')):
            continue
        with open(os.path.join(srcdir, f)) as fh:
            for line in fh:
                m = inc.match(line)
                if not m:
                    continue
                h = os.path.basename(m.group(1))
                if os.path.exists(os.path.join(srcdir, h)) and module(h) != module(f):
                    edges[(module(f), module(h))].add(f + ' includes ' + h)
    return edges


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def shortest_loop(graph, start, comp):
    """One loop through start inside comp, by breadth-first search back to it."""
    prev, todo = {start: None}, collections.deque([start])
    while todo:
        v = todo.popleft()
        for w in sorted(graph[v]):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in comp and w not in prev:
                prev[w] = v
                todo.append(w)
    return [start]


def main():
    nm, lib, srcdir = sys.argv[1:4]
    objs, calls, defined = call_edges(nm, lib)
    incs = include_edges(srcdir)
    inlines = inline_edges(srcdir, defined)
    if not objs:
        print('no object in %s' % lib)
        return 1
    why = collections.defaultdict(set)
    for d in (calls, incs, inlines):
        for e, w in d.items():
            why[e] |= w
    graph = collections.defaultdict(set)
    for a, b in why:
        graph[a].add(b)
        graph[b]
    bad = cycles(graph)
    for comp in bad:
        print('cycle between modules %s:' % ', '.join(comp))
        print('  e.g. ' + ' -> '.join(shortest_loop(graph, comp[0], set(comp))))
        for a, b in sorted(e for e in why if e[0] in comp and e[1] in comp):
            print('  %s -> %s: %s' % (a, b, '; '.join(sorted(why[(a, b)]))))
    if bad:
        return 1
    print('%d modules, %d edges (%d objects), no cycle' % (len(graph), len(why), len(objs)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
