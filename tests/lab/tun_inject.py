#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes one TCP SYN straight into the kernel side of pollux's tun, as if a worker had let it
through: the test of the kernel's filter alone (the nftables table), with the workers' filter
out of the way.

  tun_inject.py IFACE SRC DST DPORT

It attaches one more queue to the multi-queue tun (the way DPDK's tap PMD opened it: IFF_TUN,
IFF_MULTI_QUEUE, with the packet information header; a queue attached to a device that has
queues already never changes its flags), writes an IPv4 SYN from SRC:40404 to DST:DPORT with
correct checksums, and detaches. Run it in pollux's namespace, as root. Exits 0 when the
packet was written.
"""

import fcntl
import os
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_MULTI_QUEUE = 0x0100


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src, dst, sport, dport):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 0x01020304, 0, 5 << 4, 0x02, 64240, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", csum(s + d + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0x4242, 0, 64, 6, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    iface, src, dst, dport = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", iface.encode(), IFF_TUN | IFF_MULTI_QUEUE))
        # struct tun_pi: no flags, the EtherType of IPv4.
        os.write(fd, struct.pack("!HH", 0, 0x0800) + syn(src, dst, 40404, dport))
    finally:
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
