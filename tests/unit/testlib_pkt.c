/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "testlib_pkt.h"

const struct px_test_hosts px_test_hosts = {
	.client_mac = {0x02, 0, 0, 0, 0, 0x01},
	.server_mac = {0x02, 0, 0, 0, 0, 0x02},
	.client_ip4 = RTE_BE32(0xc6120001),
	.server_ip4 = RTE_BE32(0xc6120002),
	.client_ip6 = {0x20, 0x01, 0x00, 0x02, [15] = 0x01},
	.server_ip6 = {0x20, 0x01, 0x00, 0x02, [15] = 0x02},
};

static void
eth(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)buf;

	memcpy(e->dst_addr.addr_bytes, dst, 6);
	memcpy(e->src_addr.addr_bytes, src, 6);
	e->ether_type = rte_cpu_to_be_16(type);
}

static struct rte_ipv4_hdr *
ip4(uint8_t *buf, const struct px_test_hosts *h, uint8_t proto, uint16_t l4_len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + 14);

	eth(buf, h->server_mac, h->client_mac, RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
	ip->packet_id = RTE_BE16(0x1234);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = h->client_ip4;
	ip->dst_addr = h->server_ip4;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return ip;
}

static struct rte_ipv6_hdr *
ip6(uint8_t *buf, const struct px_test_hosts *h, uint8_t proto, uint16_t l4_len,
    const uint8_t *dst_mac, const uint8_t *dst)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(buf + 14);

	eth(buf, dst_mac, h->client_mac, RTE_ETHER_TYPE_IPV6);
	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow = RTE_BE32(0x60000000);
	ip->payload_len = rte_cpu_to_be_16(l4_len);
	ip->proto = proto;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, h->client_ip6, 16);
	memcpy(ip->dst_addr, dst, 16);
	return ip;
}

uint16_t
px_test_frame_udp4(uint8_t *buf, const struct px_test_hosts *h, uint16_t sport, uint16_t dport,
		   const uint8_t *payload, uint16_t plen)
{
	uint16_t l4 = (uint16_t)(sizeof(struct rte_udp_hdr) + plen);
	struct rte_ipv4_hdr *ip = ip4(buf, h, IPPROTO_UDP, l4);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16(l4);
	udp->dgram_cksum = 0;
	memcpy(udp + 1, payload, plen);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return (uint16_t)(14 + sizeof(*ip) + l4);
}

uint16_t
px_test_frame_udp6(uint8_t *buf, const struct px_test_hosts *h, uint16_t sport, uint16_t dport,
		   const uint8_t *payload, uint16_t plen)
{
	uint16_t l4 = (uint16_t)(sizeof(struct rte_udp_hdr) + plen);
	struct rte_ipv6_hdr *ip = ip6(buf, h, IPPROTO_UDP, l4, h->server_mac, h->server_ip6);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16(l4);
	udp->dgram_cksum = 0;
	memcpy(udp + 1, payload, plen);
	udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	return (uint16_t)(14 + sizeof(*ip) + l4);
}

uint16_t
px_test_frame_arp_request(uint8_t *buf, const struct px_test_hosts *h, uint32_t target)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(buf + 14);

	eth(buf, bcast, h->client_mac, RTE_ETHER_TYPE_ARP);
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = 6;
	a->arp_plen = 4;
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	memcpy(a->arp_data.arp_sha.addr_bytes, h->client_mac, 6);
	a->arp_data.arp_sip = h->client_ip4;
	memset(a->arp_data.arp_tha.addr_bytes, 0, 6);
	a->arp_data.arp_tip = target;
	/* Padded to the 60-byte Ethernet minimum, as a NIC would. */
	memset(buf + 42, 0, 18);
	return 60;
}

uint16_t
px_test_frame_icmp4_echo(uint8_t *buf, const struct px_test_hosts *h, uint16_t seq)
{
	uint16_t l4 = sizeof(struct rte_icmp_hdr) + 32;
	struct rte_ipv4_hdr *ip = ip4(buf, h, IPPROTO_ICMP, l4);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_code = 0;
	icmp->icmp_cksum = 0;
	icmp->icmp_ident = RTE_BE16(0x4242);
	icmp->icmp_seq_nb = rte_cpu_to_be_16(seq);
	for (int i = 0; i < 32; i++)
		((uint8_t *)(icmp + 1))[i] = (uint8_t)i;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, l4);
	return (uint16_t)(14 + sizeof(*ip) + l4);
}

uint16_t
px_test_frame_icmp6_echo(uint8_t *buf, const struct px_test_hosts *h, uint16_t seq)
{
	uint16_t l4 = 8 + 32;
	struct rte_ipv6_hdr *ip = ip6(buf, h, IPPROTO_ICMPV6, l4, h->server_mac, h->server_ip6);
	uint8_t *icmp = (uint8_t *)(ip + 1);
	uint16_t ck;

	memset(icmp, 0, l4);
	icmp[0] = 128;
	icmp[4] = 0x42;
	icmp[6] = (uint8_t)(seq >> 8);
	icmp[7] = (uint8_t)seq;
	ck = rte_ipv6_udptcp_cksum(ip, icmp);
	memcpy(icmp + 2, &ck, 2);
	return (uint16_t)(14 + sizeof(*ip) + l4);
}

uint16_t
px_test_frame_ns(uint8_t *buf, const struct px_test_hosts *h, const uint8_t *target)
{
	uint8_t snm[16] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	uint8_t mac[6] = {0x33, 0x33, 0xff, target[13], target[14], target[15]};
	uint16_t l4 = 24 + 8;
	struct rte_ipv6_hdr *ip;
	uint8_t *icmp;
	uint16_t ck;

	memcpy(snm + 13, target + 13, 3);
	ip = ip6(buf, h, IPPROTO_ICMPV6, l4, mac, snm);
	ip->hop_limits = 255;
	icmp = (uint8_t *)(ip + 1);
	memset(icmp, 0, l4);
	icmp[0] = 135;
	memcpy(icmp + 8, target, 16);
	icmp[24] = 1; /* source link-layer address option */
	icmp[25] = 1;
	memcpy(icmp + 26, h->client_mac, 6);
	ck = rte_ipv6_udptcp_cksum(ip, icmp);
	memcpy(icmp + 2, &ck, 2);
	return (uint16_t)(14 + sizeof(*ip) + l4);
}
