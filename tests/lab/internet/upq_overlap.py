#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reads a capture of a resolver's upstream traffic (pcap, Ethernet) and reports its UDP DNS
queries from --resolver (one or more addresses): how many, and how many were duplicates
outstanding at once, i.e. sent to a server while a query with the same question (qname
compared without case, qtype, qclass) to the same server was still waiting for its reply. A
query's wait ends at the reply to its port and ID from that server, or --wait-ms after it was
sent when none came. Also counts the queries per question (--name NAME: only those asking
NAME) and the qnames with an upper-case letter (0x20).

Prints 'key value' lines: queries, outstanding_dups, max_outstanding, with_upper, and with
--name, name_queries and name_servers."""

import argparse
import ipaddress
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        else:
            endian = ">"
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _ = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            yield sec + frac / (1e9 if nano else 1e6), data


def udp_of(frame):
    """(src, dst, sport, dport, payload) of an Ethernet IPv4/IPv6 UDP frame, else None."""
    if len(frame) < 14:
        return None
    etype = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if etype == 0x0800 and len(p) >= 20 and p[9] == 17:
        ihl = (p[0] & 0x0F) * 4
        src, dst = ipaddress.ip_address(p[12:16]), ipaddress.ip_address(p[16:20])
        u = p[ihl:]
    elif etype == 0x86DD and len(p) >= 40 and p[6] == 17:
        src, dst = ipaddress.ip_address(p[8:24]), ipaddress.ip_address(p[24:40])
        u = p[40:]
    else:
        return None
    if len(u) < 8:
        return None
    sport, dport = struct.unpack("!HH", u[:4])
    return src, dst, sport, dport, u[8:]


def question(dns):
    """(id, qr, qname as sent, qtype, qclass) or None."""
    if len(dns) < 12 or struct.unpack("!H", dns[4:6])[0] != 1:
        return None
    qid, flags = struct.unpack("!HH", dns[:4])
    pos, labels = 12, []
    while pos < len(dns):
        n = dns[pos]
        if n == 0 or n > 63:
            break
        labels.append(dns[pos + 1:pos + 1 + n].decode("latin-1"))
        pos += 1 + n
    if pos >= len(dns) or dns[pos] != 0 or pos + 5 > len(dns):
        return None
    qtype, qclass = struct.unpack("!HH", dns[pos + 1:pos + 5])
    return qid, bool(flags & 0x8000), ".".join(labels) + ".", qtype, qclass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--resolver", action="append", required=True)
    ap.add_argument("--wait-ms", type=float, default=3000)
    ap.add_argument("--name")
    a = ap.parse_args()
    me = {ipaddress.ip_address(x) for x in a.resolver}

    queries = []  # [t_sent, t_end, server, key, qname]
    open_q = {}   # (server, sport, id) -> index in queries
    for t, frame in packets(a.pcap):
        u = udp_of(frame)
        if u is None:
            continue
        src, dst, sport, dport, dns = u
        q = question(dns)
        if q is None:
            continue
        qid, qr, qname, qtype, qclass = q
        if src in me and dport == 53 and not qr:
            open_q[(dst, sport, qid)] = len(queries)
            queries.append([t, t + a.wait_ms / 1000, dst, (qname.lower(), qtype, qclass),
                            qname])
        elif dst in me and sport == 53 and qr:
            i = open_q.pop((src, dport, qid), None)
            if i is not None and t < queries[i][1]:
                queries[i][1] = t

    dups = 0
    worst = 0
    by_key = {}
    for i, (t0, _, server, key, _) in enumerate(queries):
        by_key.setdefault((server, key), []).append(i)
    for idx in by_key.values():
        for n, i in enumerate(idx):
            t0 = queries[i][0]
            waiting = sum(1 for j in idx[:n] if queries[j][1] > t0)
            if waiting > 0:
                dups += 1
            worst = max(worst, waiting + 1)
    upper = sum(1 for q in queries if any(c.isupper() for c in q[4]))
    print("queries %d" % len(queries))
    print("outstanding_dups %d" % dups)
    print("max_outstanding %d" % worst)
    print("with_upper %d" % upper)
    if a.name:
        name = a.name.lower().rstrip(".") + "."
        mine = [q for q in queries if q[3][0] == name]
        print("name_queries %d" % len(mine))
        print("name_servers %d" % len({q[2] for q in mine}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
