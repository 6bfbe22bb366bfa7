#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two clients of one resolver at once, for the fair-share lab test (test_fairshare_lab.sh).

The flooder (its own source address) sends RATE queries a second for random names under a
zone whose servers never answer; the victim (another source address) asks one fresh name a
tick in healthy zones (a random label under the wildcard *.w.zN.test, so every question is a
cache miss) and waits for each answer. Both run in one thread, paced by the clock, for
DURATION seconds; then the victim's last questions get VICTIM_TIMEOUT seconds to be answered.

Prints one line per client, key=value:
  flood sent=N rate=R noerror=N servfail=N other=N
  victim sent=N noerror=N servfail=N other=N lost=N worst_ms=N
and exits 0 (the caller judges the figures).
"""
import argparse
import os
import random
import select
import socket
import struct
import time


def query(qid, name):
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for label in name.rstrip(".").split("."):
        msg += bytes([len(label)]) + label.encode()
    msg += b"\x00" + struct.pack(">HH", 1, 1)
    # EDNS 1232, as a stub would.
    msg += b"\x00" + struct.pack(">HHIH", 41, 1232, 0, 0)
    return msg


def sock(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((src, 0))
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--flood-src", required=True)
    ap.add_argument("--victim-src", required=True)
    ap.add_argument("--rate", type=int, default=3000)
    ap.add_argument("--flood-zone", default="silent.test")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--victim-interval", type=float, default=0.1)
    ap.add_argument("--victim-zones", type=int, default=20, help="z1..zN.test")
    ap.add_argument("--victim-timeout", type=float, default=4.0)
    a = ap.parse_args()

    rnd = random.Random(os.getpid())
    fs, vs = sock(a.flood_src), sock(a.victim_src)
    flood = {"sent": 0, "noerror": 0, "servfail": 0, "other": 0}
    victim = {"sent": 0, "noerror": 0, "servfail": 0, "other": 0, "lost": 0, "worst_ms": 0}
    waiting = {}  # victim query id -> send time
    fid = 0
    start = time.monotonic()
    end = start + a.duration
    next_victim = start

    def drain():
        while True:
            r, _, _ = select.select([fs, vs], [], [], 0)
            if not r:
                return
            for s in r:
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                if len(data) < 12:
                    continue
                qid, flags = struct.unpack(">HH", data[:4])
                rcode = flags & 0xF
                ancount = struct.unpack(">H", data[6:8])[0]
                if s is fs:
                    key = {0: "noerror", 2: "servfail"}.get(rcode, "other")
                    flood[key] += 1
                    continue
                t = waiting.pop(qid, None)
                if t is None:
                    continue
                victim["worst_ms"] = max(victim["worst_ms"], int((time.monotonic() - t) * 1000))
                if rcode == 0 and ancount > 0:
                    victim["noerror"] += 1
                elif rcode == 2:
                    victim["servfail"] += 1
                else:
                    victim["other"] += 1

    while True:
        now = time.monotonic()
        if now >= end:
            break
        # The flood: as many as the rate allows by now (catching up after a slow iteration).
        due = int((now - start) * a.rate)
        while flood["sent"] < due:
            fid = (fid + 1) & 0xFFFF
            name = "f%016x.%s" % (rnd.getrandbits(64), a.flood_zone)
            try:
                fs.sendto(query(fid, name), (a.server, 53))
            except BlockingIOError:
                break
            flood["sent"] += 1
        if now >= next_victim:
            vid = rnd.getrandbits(16)
            while vid in waiting:
                vid = rnd.getrandbits(16)
            name = "v%012x.w.z%d.test" % (rnd.getrandbits(48), rnd.randint(1, a.victim_zones))
            vs.sendto(query(vid, name), (a.server, 53))
            waiting[vid] = now
            victim["sent"] += 1
            next_victim += a.victim_interval
        drain()
        time.sleep(0.001)
    flood_rate = flood["sent"] / a.duration
    deadline = time.monotonic() + a.victim_timeout
    while waiting and time.monotonic() < deadline:
        drain()
        time.sleep(0.005)
    drain()
    victim["lost"] = len(waiting)
    print("flood sent=%d rate=%d noerror=%d servfail=%d other=%d" % (
        flood["sent"], flood_rate, flood["noerror"], flood["servfail"], flood["other"]))
    print("victim sent=%d noerror=%d servfail=%d other=%d lost=%d worst_ms=%d" % (
        victim["sent"], victim["noerror"], victim["servfail"], victim["other"], victim["lost"],
        victim["worst_ms"]))


if __name__ == "__main__":
    main()
