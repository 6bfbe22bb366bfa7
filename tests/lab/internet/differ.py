#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The differential test's comparison: pollux's and Unbound's answers to questions.txt, side by
side.

Both resolvers were asked every question in file order by ask.py --results (one warm cache each,
same lab). For each question the rcode and the answer section (a set, TTLs ignored) must be
the same, unless questions.txt documents a difference on that line (its unbound column is not
'='): those are the places where pollux is meant to be better (SERVFAIL in milliseconds where
Unbound lets the client time out, the TCP retry, ...), and each is reported with both answers.
An undocumented difference fails. A question Unbound did not answer in time although it
normally does is reported and not compared (Unbound on a busy machine). A documented difference that did not happen is reported (the
documentation is stale) but does not fail: the two agree there.

Prints 'ok - ...' / 'not ok - ...' per question, '#' lines, and last 'differ: N same,
D documented differences, U undocumented, S not compared'. Exits 1 if any undocumented difference or a missing
result, 2 on a usage or file error.

  differ.py questions.txt pollux.results unbound.results
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ask  # noqa: E402  (the questions file format lives there)


def read_results(path):
    """qname, qtype -> list of (rcode, answer) in file order (a question may repeat)."""
    out = {}
    with open(path) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 5:
                raise ValueError("%s: bad line %r" % (path, line))
            out.setdefault((cols[0].lower(), cols[1].upper()), []).append((cols[2], cols[3]))
    return out


def short(text):
    return text if len(text) <= 80 else text[:77] + "..."


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    try:
        questions = ask.load(sys.argv[1])
        px = read_results(sys.argv[2])
        ub = read_results(sys.argv[3])
    except (OSError, ValueError) as e:
        print("differ: %s" % e, file=sys.stderr)
        return 2
    same = documented = undocumented = skipped = 0
    seen = {}
    for q in questions:
        key = (q.qname.lower(), q.qtype)
        i = seen.get(key, 0)
        seen[key] = i + 1
        what = "%s %s" % (q.qname, q.qtype)
        try:
            p, u = px[key][i], ub[key][i]
        except (KeyError, IndexError):
            print("not ok - %s: no result from %s" % (what, "pollux" if key not in px else "Unbound"))
            undocumented += 1
            continue
        if p == u:
            same += 1
            print("ok - %s: same (%s %s)" % (what, p[0], short(p[1])))
            if q.unbound != "=":
                print("# documented difference did not happen on line %d (%s): both %s"
                      % (q.lineno, q.unbound, p[0]))
        elif u[0] == "TIMEOUT" and q.unbound == "=":
            # Unbound usually answers this one (test_internet.sh holds it to that); on a busy
            # machine it can run out of the client's 3 s. Nothing to compare pollux with.
            skipped += 1
            print("# %s: Unbound did not answer this time (pollux: %s %s): not compared"
                  % (what, p[0], short(p[1])))
        elif q.unbound != "=":
            documented += 1
            print("ok - %s: documented difference (line %d): pollux %s %s, Unbound %s %s"
                  % (what, q.lineno, p[0], short(p[1]), u[0], short(u[1])))
        else:
            undocumented += 1
            print("not ok - %s: undocumented difference: pollux %s %s, Unbound %s %s"
                  % (what, p[0], short(p[1]), u[0], short(u[1])))
    print("differ: %d same, %d documented differences, %d undocumented, %d not compared "
          "(Unbound timed out)" % (same, documented, undocumented, skipped))
    return 1 if undocumented else 0


if __name__ == "__main__":
    sys.exit(main())
