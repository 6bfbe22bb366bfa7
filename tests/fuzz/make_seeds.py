#!/usr/bin/env python3
"""Writes the seeds of the committed fuzz corpus (tests/fuzz/corpus/HARNESS, or the directory
given) for the fuzz harnesses: valid and broken DNS queries (fuzz_wire) and
the same inside Ethernet/IPv4/IPv6/UDP frames, plus ARP, ICMP echo and neighbour solicitation
(fuzz_frame), root hints files good and bad (fuzz_hints), upstream replies (fuzz_reply) and
priming replies (fuzz_prime), so the fuzzers start deep in the parser instead of at random
bytes. CI replays and fuzzes from the committed files (tests/fuzz/run.sh ci); rerun this after
changing a seed and commit the result."""
import os
import struct
import sys

SERVER_MAC = bytes([2, 0, 0, 0, 0, 2])
CLIENT_MAC = bytes([2, 0, 0, 0, 0, 1])
SERVER4 = bytes([198, 18, 0, 2])
CLIENT4 = bytes([198, 18, 0, 1])
SERVER6 = bytes([0x20, 0x01, 0, 2] + [0] * 11 + [2])
CLIENT6 = bytes([0x20, 0x01, 0, 2] + [0] * 11 + [1])


def name(n):
    out = b""
    for label in n.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qname, qtype=1, edns=True, flags=0x0100, qd=1, extra=b"", ar=None):
    body = name(qname) + struct.pack("!HH", qtype, 1)
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0) if edns else b""
    arcount = (1 if edns else 0) if ar is None else ar
    return struct.pack("!HHHHHH", 0x1234, flags, qd, 0, 0, arcount) + body + opt + extra


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp4(payload, dport=53):
    udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
    ph = CLIENT4 + SERVER4 + struct.pack("!BBH", 0, 17, len(udp))
    udp = udp[:6] + struct.pack("!H", csum(ph + udp) or 0xFFFF) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, CLIENT4, SERVER4)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return SERVER_MAC + CLIENT_MAC + b"\x08\x00" + ip + udp


def ip6(proto, l4, dst=SERVER6, dst_mac=SERVER_MAC, hops=64):
    ph = CLIENT6 + dst + struct.pack("!I3xB", len(l4), proto)
    ck = csum(ph + l4)
    off = 6 if proto == 17 else 2
    l4 = l4[:off] + struct.pack("!H", ck or 0xFFFF) + l4[off + 2:]
    hdr = struct.pack("!IHBB", 0x60000000, len(l4), proto, hops) + CLIENT6 + dst
    return dst_mac + CLIENT_MAC + b"\x86\xdd" + hdr + l4


def udp6(payload):
    return ip6(17, struct.pack("!HHHH", 40000, 53, 8 + len(payload), 0) + payload)


def hints():
    """The IANA root hints, and small files that reach each of the loader's checks."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "control", "named.root"), "rb") as f:
        iana = f.read()
    two = (b".  3600000  NS  A.ROOT-SERVERS.NET.\n"
           b"A.ROOT-SERVERS.NET.  3600000  A  198.41.0.4\n"
           b"A.ROOT-SERVERS.NET.  3600000  AAAA  2001:503:ba3e::2:30\n"
           b".  3600000  NS  B.ROOT-SERVERS.NET.\n"
           b"B.ROOT-SERVERS.NET.  3600000  A  170.247.170.2\n")
    return {
        "iana": iana,
        "two": two,
        "crlf": two.replace(b"\n", b"\r\n"),
        "relative": (b"$TTL 518400\n$ORIGIN root-servers.net.\nA  A  198.41.0.4\n"
                     b"a  AAAA  2001:503:ba3e::2:30\n$ORIGIN .\n@  IN  NS  a.Root-Servers.NET\n"
                     b"@  NS  b.root-servers.net.\nb.root-servers.net. ( 3600000 IN\n"
                     b"  A 170.247.170.2 ) ; comment\n"),
        "bad_addrs": (b". NS a.test.\n. NS b.test.\na.test. A 0.0.0.0\na.test. A 192.0.2.1\n"
                      b"b.test. AAAA ::ffff:1.2.3.4\nb.test. AAAA fe80::1\nb.test. A 224.0.0.1\n"),
        "class_ch": b". 3600000 CH NS a.test.\na.test. 3600000 CH A 192.0.2.1\n",
        "dup": b". NS a.test.\na.test. A 192.0.2.1\n. NS A.TEST.\na.test. A 192.0.2.1\n",
        "no_addr": b". NS a.test.\n. NS b.test.\na.test. A 192.0.2.1\nc.test. A 192.0.2.3\n",
        "ns_owner": b". NS a.test.\na.test. A 192.0.2.1\ncom. NS a.gtld.test.\n",
        "soa": b". NS a.test.\na.test. A 192.0.2.1\n. SOA a.test. h.test. 1 2 3 4 5\n",
        "truncated": iana[:len(iana) // 2],
        "generic": b". NS a.test.\na.test. A \\# 4 c0000201\na.test. TYPE28 \\# 3 010203\n",
        "nul": b". NS a.test.\n\0a.test. A 192.0.2.1\n",
        "include": b"$INCLUDE /etc/hosts\n",
    }


def replies():
    """Upstream replies for fuzz_reply: a steering byte (labels to strip from the qname for the
    bailiwick, see fuzz_reply.c), then the reply: answers, CNAME chains, referrals with good,
    bad and out-of-bailiwick glue, negative answers, lame and broken replies."""
    def rr(owner, rtype, rdata, ttl=300, cls=1):
        o = name(owner) if isinstance(owner, str) else owner
        return o + struct.pack("!HHIH", rtype, cls, ttl, len(rdata)) + rdata

    def soa(owner):
        return rr(owner, 6, name("ns." + owner) + name("h." + owner)
                  + struct.pack("!IIIII", 1, 2, 3, 4, 300))

    def reply(qname, an=(), ns=(), ar=(), flags=0x8400, qtype=1):
        an, ns, ar = list(an), list(ns), list(ar)
        hdr = struct.pack("!HHHHHH", 0x1234, flags, 1, len(an), len(ns), len(ar))
        return hdr + name(qname) + struct.pack("!HH", qtype, 1) + b"".join(an + ns + ar)

    def a(owner, addr):
        return rr(owner, 1, bytes(int(x) for x in addr.split(".")))

    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    ptr = b"\xc0\x0c"
    q = "www.example.test"
    return {
        "answer": b"\x02" + reply(q, an=[rr(ptr, 1, b"\xc0\0\2\1")], ar=[opt]),
        "chain": b"\x02" + reply(q, an=[rr(ptr, 5, name("a.example.test")),
                                        rr("a.example.test", 5, name("b.example.test")),
                                        a("b.example.test", "192.0.2.1")]),
        "cname_out": b"\x02" + reply(q, an=[rr(ptr, 5, name("www.other.test")),
                                            a("www.other.test", "192.0.2.66")]),
        "referral": b"\x02" + reply(q, flags=0x8000, ns=[
            rr("example.test", 2, name("ns1.example.test")),
            rr("example.test", 2, b"\3ns2\xc0\x10"),
            rr("example.test", 2, name("ns.example.net"))], ar=[
            a("ns1.example.test", "0.0.0.0"), a("ns2.example.test", "192.0.2.2"),
            rr("ns2.example.test", 28, bytes(15) + b"\1"), a("ns.example.net", "192.0.2.3"),
            opt]),
        "nxdomain": b"\x02" + reply(q, flags=0x8403, ns=[soa("example.test")]),
        "nodata": b"\x02" + reply(q, ns=[soa("example.test"), soa("test")], qtype=28),
        "lame": b"\x02" + reply(q, flags=0x8000, ns=[rr(".", 2, name("a.root-servers.net"))],
                                 ar=[a("a.root-servers.net", "198.41.0.4")]),
        "poison": b"\x01" + reply("www.evil.test", an=[a("www.evil.test", "192.0.2.1")],
                                   ns=[rr("victim.test", 2, name("ns.evil.test"))],
                                   ar=[a("www.victim.test", "203.0.113.66")]),
        "loop": b"\x02" + reply(q, an=[b"\xc0\x1e" + struct.pack("!HHIH", 1, 1, 0, 4)
                                        + b"\1\2\3\4"]),
        "refused": b"\x02" + reply(q, flags=0x8005),
        "tc": b"\x02" + reply(q, flags=0x8600),
        "fixed_question": b"\x10" + reply(q, an=[a(q, "192.0.2.1")]),
        # Names inside rdata compressed against the question (www.example.test at 12,
        # example.test at 16): SRV, NAPTR, MX, RP answers, kept with the names expanded.
        "srv": b"\x02" + reply(q, qtype=33, an=[rr(ptr, 33, b"\0\x0a\0\5\x13\xc4\3sip\xc0\x10")]),
        "naptr": b"\x02" + reply(q, qtype=35, an=[rr(ptr, 35, b"\0\x64\0\x0a\1U\7E2U+sip\0"
                                                    b"\4_sip\4_udp\xc0\x10")]),
        "mx": b"\x02" + reply(q, qtype=15, an=[rr(ptr, 15, b"\0\x0a\4mail\xc0\x10")]),
        "rp": b"\x02" + reply(q, qtype=17, an=[rr(ptr, 17, b"\5admin\xc0\x10\3txt\xc0\x0c")]),
    }


def priming():
    """Priming replies for fuzz_prime: the root's NS set with its addresses (good), one with an
    invalid address, one without AA, one truncated."""
    def rr(owner, rtype, rdata, ttl=518400):
        return name(owner) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata

    def reply(flags, ns, glue):
        an = [rr(".", 2, name(n)) for n in ns]
        ar = [rr(n, 1, bytes(int(x) for x in a.split("."))) for n, a in glue]
        hdr = struct.pack("!HHHHHH", 0x4242, flags, 1, len(an), 0, len(ar))
        return hdr + name(".") + struct.pack("!HH", 2, 1) + b"".join(an + ar)

    ns = ["a.root.test", "b.root.test"]
    good = [("a.root.test", "198.18.1.1"), ("b.root.test", "198.18.1.2")]
    return {
        "good": reply(0x8400, ns, good),
        "zero": reply(0x8400, ns, [("a.root.test", "0.0.0.0"), ("b.root.test", "198.18.1.2")]),
        "not_aa": reply(0x8000, ns, good),
        "tc": reply(0x8600, ns, good),
    }


def main(out):
    msgs = {
        "a": query("www.example.test"),
        "aaaa_noedns": query("WWW.Example.Test", 28, edns=False),
        "root": query(".", 2),
        "any": query("example.test", 255),
        "qd2": query("x.test", qd=2),
        "notimp": query("x.test", flags=0x2800),
        "loop": query("x.test", edns=False, ar=1, extra=b"\xc0\x1e" + b"\0" * 10),
        "badvers": query("x.test", edns=False, ar=1,
                         extra=b"\0" + struct.pack("!HHIH", 41, 1232, 0x00010000, 0)),
        "cookie": query("x.test", edns=False, ar=1,
                        extra=b"\0" + struct.pack("!HHIH", 41, 1232, 0, 12)
                        + struct.pack("!HH", 10, 8) + b"12345678"),
    }
    frames = {k: udp4(v) for k, v in msgs.items()}
    frames.update({k + "_v6": udp6(v) for k, v in msgs.items() if k in ("a", "loop")})
    arp = (b"\xff" * 6 + CLIENT_MAC + b"\x08\x06"
           + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + CLIENT_MAC + CLIENT4 + b"\0" * 6
           + SERVER4 + b"\0" * 18)
    frames["arp"] = arp
    icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + bytes(range(32))
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0, CLIENT4, SERVER4)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    frames["icmp"] = SERVER_MAC + CLIENT_MAC + b"\x08\x00" + ip + icmp
    snm = bytes([0xFF, 2] + [0] * 9 + [1, 0xFF]) + SERVER6[13:]
    ns = struct.pack("!BBHI", 135, 0, 0, 0) + SERVER6 + bytes([1, 1]) + CLIENT_MAC
    frames["ns"] = ip6(58, ns, dst=snm, dst_mac=b"\x33\x33\xff" + SERVER6[13:], hops=255)
    frames["echo6"] = ip6(58, struct.pack("!BBHHH", 128, 0, 0, 1, 1) + b"ping")

    # 802.1Q: fuzz_frame takes a tagged frame as on a --vlan port of its VLAN ID.
    def tag(frame, tpid=0x8100, tci=100):
        return frame[:12] + struct.pack("!HH", tpid, tci) + frame[12:]
    frames["vlan_a"] = tag(frames["a"], tci=0xA000 | 100)
    frames["vlan_arp"] = tag(arp)
    frames["vlan_qinq"] = tag(tag(frames["a"]), tpid=0x88A8)
    for sub, items in (("fuzz_wire", msgs), ("fuzz_frame", frames), ("fuzz_hints", hints()),
                       ("fuzz_reply", replies()), ("fuzz_prime", priming())):
        d = os.path.join(out, sub)
        os.makedirs(d, exist_ok=True)
        for k, v in items.items():
            with open(os.path.join(d, k), "wb") as f:
                f.write(v)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1
                  else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")))
