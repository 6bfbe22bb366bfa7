#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Plays systemd's side of sd_notify for tests/lab/test_systemd_lab.sh.

Binds a datagram socket at ADDR (a path, or '@name' in the abstract namespace, which belongs to
the network namespace this runs in) with SO_PASSCRED, and appends one line per datagram to OUT:

    <unix time> <sender pid> <message, its newlines written as '|'>

With --probe IP, the first READY=1 from each sender is followed at once by one DNS query to
IP:53 (a question for the root, NS), and a line

    <unix time> <sender pid> PROBE answered|timeout <milliseconds>

says whether the resolver answered within 2 s: READY=1 must mean "answers now". Runs until
killed.
"""
import argparse
import os
import socket
import struct
import sys
import time


def dns_probe(ip):
    """One query for '. NS' to ip:53; returns (answered, ms)."""
    qid = os.getpid() & 0xFFFF
    query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + b"\x00" + struct.pack("!HH", 2, 1)
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    try:
        s.sendto(query, (ip, 53))
        while True:
            data, _ = s.recvfrom(4096)
            if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid and data[2] & 0x80:
                return True, (time.monotonic() - t0) * 1000
    except (socket.timeout, OSError):
        return False, (time.monotonic() - t0) * 1000
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("out")
    ap.add_argument("--probe")
    args = ap.parse_args()

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    if args.addr.startswith("@"):
        sock.bind("\0" + args.addr[1:])
    else:
        sock.bind(args.addr)
    out = open(args.out, "a", buffering=1)
    out.write("%.3f 0 LISTENING\n" % time.time())
    probed = set()
    cred_len = struct.calcsize("3i")
    while True:
        msg, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(cred_len))
        pid = 0
        for level, ctype, data in anc:
            if level == socket.SOL_SOCKET and ctype == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", data[:cred_len])[0]
        text = msg.decode("utf-8", "replace").replace("\n", "|")
        out.write("%.3f %d %s\n" % (time.time(), pid, text))
        if args.probe and "READY=1" in msg.decode("utf-8", "replace").split("\n") \
                and pid not in probed:
            probed.add(pid)
            answered, ms = dns_probe(args.probe)
            out.write("%.3f %d PROBE %s %.0f\n" % (time.time(), pid,
                                                  "answered" if answered else "timeout", ms))


if __name__ == "__main__":
    sys.exit(main())
