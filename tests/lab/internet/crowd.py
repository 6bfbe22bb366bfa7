#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A crowd of clients at once: sends COUNT A queries to a resolver within SPREAD seconds, each
with its own ID, either all for one name (--same NAME) or each for its own name below a zone
(--below ZONE: n0.ZONE, n1.ZONE, ...), then waits up to --timeout seconds for the answers.
Prints one line: 'sent N answered M noerror K other J' and exits 0 if every query got NOERROR."""

import argparse
import random
import socket
import struct
import sys
import time


def query(qid, name):
    msg = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for label in name.rstrip(".").split("."):
        msg += bytes([len(label)]) + label.encode()
    msg += b"\x00" + struct.pack("!HH", 1, 1)
    # EDNS: the root, 1232 bytes, version 0, no flags, no options.
    return msg + b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--spread", type=float, default=0.2)
    ap.add_argument("--timeout", type=float, default=6.0)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--same")
    g.add_argument("--below")
    a = ap.parse_args()

    family = socket.AF_INET6 if ":" in a.server else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    ids = random.sample(range(65536), a.count)
    pending = {}
    start = time.monotonic()
    for i, qid in enumerate(ids):
        name = a.same if a.same else "n%d.%s" % (i, a.below)
        pending[qid] = name
        s.sendto(query(qid, name), (a.server, 53))
        lag = start + a.spread * (i + 1) / a.count - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    answered = noerror = other = 0
    deadline = time.monotonic() + a.timeout
    while pending and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = s.recv(4096)
        except socket.timeout:
            break
        if len(data) < 12:
            continue
        qid, flags = struct.unpack("!HH", data[:4])
        if qid not in pending:
            continue
        del pending[qid]
        answered += 1
        if flags & 0x000F == 0:
            noerror += 1
        else:
            other += 1
    print("sent %d answered %d noerror %d other %d" % (a.count, answered, noerror, other))
    return 0 if noerror == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
