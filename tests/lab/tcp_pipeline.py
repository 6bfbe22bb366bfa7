#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Pipelined DNS over TCP (RFC 7766 6.2.1.1), for the TCP lab test.

Opens one connection to SERVER port 53, writes every query at once (each with its two-byte
length prefix, in a single send), then reads answers until each ID has one, in whatever order
they come. Prints one line per answer in arrival order: "ID QNAME RCODE ANCOUNT", then
"order: in-order|out-of-order". Exits 0 when every query got exactly one answer with its own ID
and question, 1 otherwise (with the reason on stderr).

Usage: tcp_pipeline.py SERVER QNAME[/QTYPE]...   (QTYPE defaults to A)
Standard library only.
"""
import random
import socket
import struct
import sys

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}


def wire_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, name, qtype):
    hdr = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    return hdr + wire_name(name) + struct.pack("!HH", qtype, 1)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    server = sys.argv[1]
    asked = {}
    payload = b""
    ids = random.sample(range(1, 65535), len(sys.argv) - 2)
    for qid, arg in zip(ids, sys.argv[2:]):
        name, _, qtype = arg.partition("/")
        msg = query(qid, name, TYPES[qtype or "A"])
        asked[qid] = (name, msg[12:])
        payload += struct.pack("!H", len(msg)) + msg
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect((server, 53))
    sock.sendall(payload)
    order = []
    try:
        while len(order) < len(asked):
            (length,) = struct.unpack("!H", recv_exact(sock, 2))
            msg = recv_exact(sock, length)
            qid, flags, _, ancount = struct.unpack("!HHHH", msg[:8])
            if qid not in asked or qid in order:
                print("unexpected or repeated ID %d" % qid, file=sys.stderr)
                return 1
            question = asked[qid][1]
            if msg[12:12 + len(question)] != question:
                print("ID %d: the answer does not echo its question" % qid, file=sys.stderr)
                return 1
            order.append(qid)
            print("%d %s %d %d" % (qid, asked[qid][0], flags & 0xF, ancount))
    except (OSError, EOFError) as e:
        print("after %d of %d answers: %s" % (len(order), len(asked), e), file=sys.stderr)
        return 1
    print("order: %s" % ("in-order" if order == ids else "out-of-order"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
