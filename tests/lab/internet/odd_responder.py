#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The lab's server for odd.test: authoritative, honest, but with two habits nsd cannot be
made to have, for a resolver's fallbacks within one resolution to meet:

  * oob.odd.test and every name below it: a referral to "oob.odd.test NS ns.oob.example." with
    glue for ns.oob.example pointing at the lab's silent server (198.18.4.3, 2001:2:0:4::3).
    That glue is out of the bailiwick (odd.test has no say over example.): a resolver must drop
    it and look ns.oob.example up where it lives (oob.example, which names the real server).
  * wrongtype.odd.test: asked AAAA, it answers with its A record (NOERROR, AA, nothing else),
    as a broken authoritative server or DNS load balancer does; asked A, the same A record.
    The A record in the AAAA reply answers nothing: a resolver must ignore it and take the
    authoritative reply for NODATA from that server.

Everything else is plain: SOA and NS at the apex, ns.odd.test A/AAAA (this server), NXDOMAIN
with the SOA for any other name. The wire handling (UDP, EDNS, TC, FORMERR/NOTIMP/REFUSED) is
evil_responder.py's, whose main loop and options this reuses (--zone odd.test).
"""

import ipaddress
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evil_responder as er  # noqa: E402

RCODE_NXDOMAIN = 3
SILENT4 = ipaddress.IPv4Address("198.18.4.3").packed
SILENT6 = ipaddress.IPv6Address("2001:2:0:4::3").packed
OOB_NS = "ns.oob.example."


class OddResponder(er.Responder):
    def answer(self, labels, qname_wire, qtype):
        """Returns (rcode, aa, answer, authority, additional) for an IN question."""
        if not self.in_zone(labels):
            return er.RCODE_REFUSED, False, [], [], []
        rel = labels[:len(labels) - len(self.zone)]
        ttl = self.ttl
        if rel[-1:] == [b"oob"]:
            child = er.name_wire("oob." + self.zone_name)
            auth = [er.rr(child, er.TYPE_NS, ttl, er.name_wire(OOB_NS))]
            add = [er.rr(er.name_wire(OOB_NS), er.TYPE_A, ttl, SILENT4),
                   er.rr(er.name_wire(OOB_NS), er.TYPE_AAAA, ttl, SILENT6)]
            return er.RCODE_NOERROR, False, [], auth, add
        if rel == [b"wrongtype"]:
            a = er.rr(qname_wire, er.TYPE_A, ttl, self.addr4)
            if qtype == er.TYPE_A:
                return er.RCODE_NOERROR, True, [a], [], []
            if qtype == er.TYPE_AAAA:
                return er.RCODE_NOERROR, True, [a], [], []
            return er.RCODE_NOERROR, True, [], [self.soa()], []
        if rel == [b"ns"] and qtype in (er.TYPE_A, er.TYPE_AAAA):
            addrs = [a for a in self.ns_addrs if a.version == (4 if qtype == er.TYPE_A else 6)]
            return er.RCODE_NOERROR, True, [er.rr(qname_wire, qtype, ttl, a.packed)
                                            for a in addrs], [], []
        if not rel:
            if qtype == er.TYPE_NS:
                return er.RCODE_NOERROR, True, [er.rr(qname_wire, er.TYPE_NS, ttl,
                                                      er.name_wire(self.ns_name))], [], []
            if qtype == er.TYPE_SOA:
                return er.RCODE_NOERROR, True, [self.soa()], [], []
            return er.RCODE_NOERROR, True, [], [self.soa()], []
        if rel == [b"ns"]:
            return er.RCODE_NOERROR, True, [], [self.soa()], []
        return RCODE_NXDOMAIN, True, [], [self.soa()], []


if __name__ == "__main__":
    er.Responder = OddResponder
    sys.exit(er.main())
