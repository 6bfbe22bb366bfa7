#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Asks a resolver every question of questions.txt with dig and checks each reply.

For each question, in file order: one dig (RD set, one try, UDP with dig's own TCP retry on TC),
then the rcode and the answer section (as a set, TTLs ignored) are compared with the expected
ones: the rcode/answer columns (--expect correct, for pollux) or the unbound column where it is
not '=' (--expect unbound). Lines flagged 'fast' must also be answered within --fast-ms when the
resolver is expected to give the rcode column.

Prints one 'ok - ...' or 'not ok - ...' line per question, '#' lines with details, and last
'ask: N as expected, M not'. Exits 0 if all passed, 1 if any failed, 2 on a usage or file error.
--results FILE writes one tab-separated line per question (qname, qtype, rcode, answer, ms) for
comparing two resolvers.

Run it where the resolver is reachable, e.g.:
  ip netns exec pxlab-cli python3 ask.py --server 198.19.255.6 --expect unbound questions.txt
"""

import argparse
import re
import subprocess
import sys
import time


class Question:
    def __init__(self, lineno, qname, qtype, rcode, answer, unbound, flags):
        self.lineno = lineno
        self.qname = qname
        self.qtype = qtype.upper()
        self.rcode = rcode.upper()
        self.answer = answer
        self.unbound = unbound
        self.flags = set() if flags == "-" else {f.strip() for f in flags.split(",")}


def norm_record(rtype, rdata):
    rtype = rtype.upper()
    rdata = " ".join(rdata.split())
    if rtype != "TXT":
        rdata = rdata.lower()
    return "%s %s" % (rtype, rdata)


def parse_answer(text):
    """'-' or 'TYPE RDATA; N*TYPE; ...' -> (sorted explicit records, {type: count})."""
    text = text.strip()
    records, counts = [], {}
    if text in ("", "-"):
        return records, counts
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        m = re.fullmatch(r"(\d+)\*([A-Za-z0-9]+)", item)
        if m:
            counts[m.group(2).upper()] = int(m.group(1))
            continue
        parts = item.split(None, 1)
        if len(parts) != 2:
            raise ValueError("bad answer record '%s'" % item)
        records.append(norm_record(parts[0], parts[1]))
    return sorted(records), counts


def parse_expect(text):
    """An unbound column other than '=': TIMEOUT, RCODE, or 'RCODE: ANSWER'."""
    rcode, _, answer = text.partition(":")
    return rcode.strip().upper(), parse_answer(answer if answer.strip() else "-")


def load(path):
    questions = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cols = [c.strip() for c in line.split("|")]
            if len(cols) != 6:
                raise ValueError("%s:%d: %d columns, want 6" % (path, lineno, len(cols)))
            q = Question(lineno, *cols)
            parse_answer(q.answer)  # validate early
            if q.unbound != "=":
                parse_expect(q.unbound)
            questions.append(q)
    return questions


def ask(args, q, timeout):
    """Returns (rcode or 'TIMEOUT', sorted records, milliseconds, raw output)."""
    cmd = ["dig", "+tries=1", "+time=%d" % timeout, "+nocookie", "+noall", "+comments",
           "+answer", "-p", str(args.port), "@" + args.server, q.qname, q.qtype]
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ms = int((time.monotonic() - t0) * 1000)
    out = p.stdout
    m = re.search(r"->>HEADER<<- opcode: \w+, status: (\w+),", out)
    if not m:
        return "TIMEOUT", [], ms, out
    records = []
    for line in out.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        f = line.split()
        if len(f) >= 5:
            records.append(norm_record(f[3], " ".join(f[4:])))
    return m.group(1), sorted(records), ms, out


def matches(got_records, want):
    records, counts = want
    rest = list(got_records)
    for rtype, n in counts.items():
        of_type = [r for r in rest if r.split(" ", 1)[0] == rtype]
        if len(of_type) != n:
            return False
        rest = [r for r in rest if r.split(" ", 1)[0] != rtype]
    return sorted(rest) == records


def show(records, counts=None):
    items = list(records) + ["%d*%s" % (n, t) for t, n in sorted((counts or {}).items())]
    return "; ".join(items) if items else "-"


def brief(records):
    """show(), cut short for a one-line report."""
    text = show(records)
    if len(text) > 120:
        text = text[:100] + "... (%d records)" % len(records)
    return text


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("questions", help="questions.txt")
    p.add_argument("--server", required=True, help="the resolver's address")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--expect", choices=("correct", "unbound"), default="correct",
                   help="check against the rcode/answer columns or the unbound column")
    p.add_argument("--timeout", type=int, default=3, help="client timeout, seconds [3]")
    p.add_argument("--slow-s", type=int, default=10,
                   help="client timeout for 'slow' lines expected to be answered [10]")
    p.add_argument("--fast-ms", type=int, default=1000,
                   help="bound for 'fast' lines, dig's start included [1000]")
    p.add_argument("--only", help="ask only the questions whose 'qname qtype' matches this regex")
    p.add_argument("--results", help="write 'qname qtype rcode answer ms' lines (tabs) here")
    args = p.parse_args()
    try:
        questions = load(args.questions)
    except (OSError, ValueError) as e:
        print("ask: %s" % e, file=sys.stderr)
        return 2
    res = open(args.results, "w") if args.results else None
    passed = failed = 0
    for q in questions:
        if args.only and not re.search(args.only, "%s %s" % (q.qname, q.qtype)):
            continue
        if args.expect == "unbound" and q.unbound != "=":
            want_rcode, want = parse_expect(q.unbound)
            documented = True
        else:
            want_rcode, want = q.rcode, parse_answer(q.answer)
            documented = False
        timeout = args.timeout
        if "slow" in q.flags and want_rcode != "TIMEOUT":
            timeout = args.slow_s
        rcode, records, ms, raw = ask(args, q, timeout)
        if res:
            res.write("%s\t%s\t%s\t%s\t%d\n" % (q.qname, q.qtype, rcode, show(records), ms))
            res.flush()
        desc = "%s %s: %s %s (%d ms)" % (q.qname, q.qtype, rcode, brief(records), ms)
        problems = []
        if rcode != want_rcode:
            problems.append("rcode %s, want %s" % (rcode, want_rcode))
        if rcode != "TIMEOUT" and not matches(records, want):
            problems.append("answer '%s', want '%s'" % (show(records), show(*want)))
        if "fast" in q.flags and not documented and ms > args.fast_ms:
            problems.append("%d ms, want at most %d ms" % (ms, args.fast_ms))
        if problems:
            failed += 1
            print("not ok - %s [line %d] (%s)" % (desc, q.lineno, "; ".join(problems)))
            for line in raw.strip().splitlines():
                print("#   | " + line)
        else:
            passed += 1
            note = ""
            if documented:
                note = " [documented difference: a correct resolver gives %s %s]" % (
                    q.rcode, q.answer)
            print("ok - %s%s" % (desc, note))
        sys.stdout.flush()
    if res:
        res.close()
    # Not "N passed, M failed": the calling test prints the one summary line CI reads.
    print("ask: %d as expected, %d not" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
