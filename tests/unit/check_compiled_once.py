#!/usr/bin/env python3
"""Every source file is compiled into exactly one target: reads the build's
compile_commands.json and fails naming any file that two compile commands build (a module
compiled again into a test or a tool instead of linked from its library)."""
import collections, json, os, sys

build = sys.argv[1]
with open(os.path.join(build, 'compile_commands.json')) as f:
    cmds = json.load(f)
seen = collections.defaultdict(list)
for c in cmds:
    src = os.path.normpath(os.path.join(c['directory'], c['file']))
    out = c.get('output') or c['command'].split(' -o ', 1)[-1].split()[0]
    seen[src].append(out)
twice = {s: o for s, o in seen.items() if len(o) > 1}
for s, outs in sorted(twice.items()):
    print('compiled %d times: %s -> %s' % (len(outs), s, ', '.join(outs)))
if not cmds:
    print('compile_commands.json lists no command')
    sys.exit(1)
if twice:
    sys.exit(1)
print('%d compile commands, every source compiled once' % len(cmds))
