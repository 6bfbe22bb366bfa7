#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""An 802.1Q client on a raw socket, for tests/lab/test_vlan_lab.sh: the lab's kernel has no
8021q module and no VLAN-filtering bridge, so no kernel interface can send or receive tagged
frames. This writes whole Ethernet frames on IFACE (AF_PACKET), tagged with VID or not, and
reads pollux's replies back with their tag: in the frame, or (when the kernel moved it to the
packet's metadata on receive) from PACKET_AUXDATA.

  vlan_client.py IFACE VID arp SRC DST
      ARP request for DST; prints the replier's MAC. The reply must carry tag VID.
  vlan_client.py IFACE VID dns SRC DST DST_MAC NAME TYPE
      UDP query; prints the rcode, then one line per A/AAAA answer. The reply must carry VID.
  vlan_client.py IFACE VID tcp SRC DST DST_MAC NAME TYPE
      The same over TCP: SYN, the handshake, the length-prefixed query, the answer, RST.
  vlan_client.py IFACE VID silent SRC DST DST_MAC NAME TYPE [--untagged | --qinq]
      The query untagged, or tagged VID (the caller gives another), or QinQ (802.1ad outer
      tag, then VID): no reply may come within a second.

VID is the tag sent (and wanted back). Exits 0 when all is as expected, 1 with the reason on
stderr otherwise. Run in the client namespace, as root.
"""

import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
TPID = 0x8100
TPID_QINQ = 0x88A8
WAIT_S = 2.0


def fail(msg):
    sys.stderr.write("vlan_client: %s\n" % msg)
    sys.exit(1)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def mac_text(b):
    return ":".join("%02x" % x for x in b)


class Link:
    def __init__(self, iface, vid):
        self.vid = vid
        self.mac = mac_bytes(open("/sys/class/net/%s/address" % iface).read().strip())
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.s.bind((iface, ETH_P_ALL))

    def send(self, dst, ethertype, payload, tags):
        """tags: a list of (tpid, tci), outermost first."""
        hdr = dst + self.mac
        for tpid, tci in tags:
            hdr += struct.pack("!HH", tpid, tci)
        frame = hdr + struct.pack("!H", ethertype) + payload
        self.s.send(frame + b"\0" * max(0, 60 - len(frame)))

    def recv(self, deadline):
        """The next frame received (not one we sent), with its tag put back in place, or None
        at the deadline."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            data, anc, _, addr = self.s.recvmsg(65535, socket.CMSG_SPACE(64))
            if addr[2] == PACKET_OUTGOING:
                continue
            for level, kind, val in anc:
                if level != SOL_PACKET or kind != PACKET_AUXDATA or len(val) < 20:
                    continue
                status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", val[:20])
                if status & TP_STATUS_VLAN_VALID:
                    if not status & TP_STATUS_VLAN_TPID_VALID:
                        tpid = TPID
                    data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
            return data

    def wait(self, match, secs=WAIT_S):
        """The first frame for which match(tpid_or_None, tci, ethertype, payload) is true, as
        (tag, payload); the tag is (tpid, tci) or None."""
        deadline = time.monotonic() + secs
        while True:
            f = self.recv(deadline)
            if f is None:
                return None
            if f[:6] != self.mac and f[:6] != b"\xff" * 6:
                continue
            tag = None
            et = struct.unpack("!H", f[12:14])[0]
            body = f[14:]
            if et in (TPID, TPID_QINQ):
                tag = (et, struct.unpack("!H", f[14:16])[0])
                et = struct.unpack("!H", f[16:18])[0]
                body = f[18:]
            r = match(tag, et, body, f[6:12])
            if r is not None:
                return tag, r


def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), random.randrange(65536), 0,
                    64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def l4_sum(src, dst, proto, seg):
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, len(seg))
    return csum(ph + seg)


def udp4(src, dst, sport, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_sum(src, dst, 17, u) or 0xFFFF
    return ip4(src, dst, 17, u[:6] + struct.pack("!H", c) + u[8:])


def tcp4(src, dst, sport, dport, seq, ack, flags, payload=b"", opts=b""):
    off = (20 + len(opts)) // 4
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0)
    t += opts + payload
    c = l4_sum(src, dst, 6, t)
    return ip4(src, dst, 6, t[:16] + struct.pack("!H", c) + t[18:])


QTYPES = {"A": 1, "NS": 2, "MX": 15, "TXT": 16, "AAAA": 28}


def dns_query(qid, name, qtype):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", QTYPES[qtype], 1)


def skip_name(m, p):
    while True:
        n = m[p]
        if n == 0:
            return p + 1
        if n & 0xC0 == 0xC0:
            return p + 2
        p += n + 1


def dns_answers(m, qid):
    """The rcode and the A/AAAA addresses of the answer section of message m."""
    rid, flags, qd, an = struct.unpack("!HHHH", m[:8])
    if rid != qid or not flags & 0x8000:
        fail("reply with id %#x flags %#x for query %#x" % (rid, flags, qid))
    p = 12
    for _ in range(qd):
        p = skip_name(m, p) + 4
    out = []
    for _ in range(an):
        p = skip_name(m, p)
        rtype, _, _, rdlen = struct.unpack("!HHIH", m[p:p + 10])
        rd = m[p + 10:p + 10 + rdlen]
        if rtype == 1:
            out.append("A " + socket.inet_ntop(socket.AF_INET, rd))
        elif rtype == 28:
            out.append("AAAA " + socket.inet_ntop(socket.AF_INET6, rd))
        p += 10 + rdlen
    return flags & 0xF, out


def want_tag(link, tag, what):
    if tag is None:
        fail("%s came back untagged" % what)
    if tag[0] != TPID or tag[1] & 0xFFF != link.vid:
        fail("%s came back with tag %#x/%d, not 0x8100/%d" % (what, tag[0], tag[1] & 0xFFF,
                                                              link.vid))


def cmd_arp(link, src, dst):
    req = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, link.mac, socket.inet_aton(src),
                      b"\0" * 6, socket.inet_aton(dst))
    link.send(b"\xff" * 6, 0x0806, req, [(TPID, link.vid)])

    def match(tag, et, body, _):
        if et != 0x0806 or len(body) < 28:
            return None
        op, sha, sip = struct.unpack("!6xH6s4s", body[:18])
        if op == 2 and sip == socket.inet_aton(dst):
            return sha
        return None

    r = link.wait(match)
    if r is None:
        fail("no ARP reply for %s" % dst)
    want_tag(link, r[0], "the ARP reply")
    print(mac_text(r[1]))


def udp_exchange(link, src, dst, dmac, name, qtype, tags):
    qid, sport = random.randrange(65536), random.randrange(20000, 60000)
    link.send(dmac, 0x0800, udp4(src, dst, sport, 53, dns_query(qid, name, qtype)), tags)

    def match(tag, et, body, _):
        if et != 0x0800 or len(body) < 28 or body[9] != 17 or body[12:16] != socket.inet_aton(dst):
            return None
        ihl = (body[0] & 0xF) * 4
        sp, dp = struct.unpack("!HH", body[ihl:ihl + 4])
        if sp == 53 and dp == sport:
            return body[ihl + 8:]
        return None

    return qid, link.wait(match)


def cmd_dns(link, src, dst, dmac, name, qtype):
    qid, r = udp_exchange(link, src, dst, dmac, name, qtype, [(TPID, link.vid)])
    if r is None:
        fail("no reply to %s %s" % (name, qtype))
    want_tag(link, r[0], "the DNS reply")
    rcode, ans = dns_answers(r[1], qid)
    print("rcode %d" % rcode)
    for a in ans:
        print(a)


def cmd_silent(link, src, dst, dmac, name, qtype, how):
    tags = {"--untagged": [], "--qinq": [(TPID_QINQ, link.vid), (TPID, link.vid)]}.get(
        how, [(TPID, link.vid)])
    _, r = udp_exchange(link, src, dst, dmac, name, qtype, tags)
    if r is not None:
        fail("a reply came to a query sent %s" % (how or "with tag %d" % link.vid))
    print("no reply")


def cmd_tcp(link, src, dst, dmac, name, qtype):
    sport, seq = random.randrange(20000, 60000), random.randrange(1 << 32)
    tags = [(TPID, link.vid)]

    def seg_match(want_flags):
        def match(tag, et, body, _):
            if et != 0x0800 or len(body) < 40 or body[9] != 6:
                return None
            ihl = (body[0] & 0xF) * 4
            sp, dp, rseq, rack, off, flags = struct.unpack("!HHIIBB", body[ihl:ihl + 14])
            if sp != 53 or dp != sport or (flags & want_flags) != want_flags:
                return None
            tl = struct.unpack("!H", body[2:4])[0]
            return rseq, rack, flags, body[ihl + (off >> 4) * 4:tl]
        return match

    link.send(dmac, 0x0800, tcp4(src, dst, sport, 53, seq, 0, 0x02,
                                 opts=struct.pack("!BBH", 2, 4, 1400)), tags)
    r = link.wait(seg_match(0x12))
    if r is None:
        fail("no SYN-ACK from %s:53" % dst)
    want_tag(link, r[0], "the SYN-ACK")
    rseq = r[1][0]
    seq += 1
    ack = (rseq + 1) & 0xFFFFFFFF
    qid = random.randrange(65536)
    q = dns_query(qid, name, qtype)
    msg = struct.pack("!H", len(q)) + q
    link.send(dmac, 0x0800, tcp4(src, dst, sport, 53, seq, ack, 0x18, msg), tags)
    seq += len(msg)
    data = b""
    deadline = time.monotonic() + WAIT_S
    while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
        r = link.wait(seg_match(0x10), max(0.01, deadline - time.monotonic()))
        if r is None:
            fail("no answer over TCP (%d bytes so far)" % len(data))
        want_tag(link, r[0], "a TCP segment")
        pseq, _, _, payload = r[1]
        if payload and pseq == ack:
            data += payload
            ack = (ack + len(payload)) & 0xFFFFFFFF
    link.send(dmac, 0x0800, tcp4(src, dst, sport, 53, seq, ack, 0x14), tags)
    rcode, ans = dns_answers(data[2:], qid)
    print("rcode %d" % rcode)
    for a in ans:
        print(a)


def main(argv):
    if len(argv) < 4:
        fail(__doc__)
    link = Link(argv[1], int(argv[2]))
    cmd, args = argv[3], argv[4:]
    if cmd == "arp" and len(args) == 2:
        cmd_arp(link, *args)
    elif cmd in ("dns", "tcp") and len(args) == 5:
        (cmd_dns if cmd == "dns" else cmd_tcp)(link, args[0], args[1], mac_bytes(args[2]),
                                               args[3], args[4])
    elif cmd == "silent" and len(args) in (5, 6):
        cmd_silent(link, args[0], args[1], mac_bytes(args[2]), args[3], args[4],
                   args[5] if len(args) == 6 else "")
    else:
        fail("bad arguments: %s" % " ".join(argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
