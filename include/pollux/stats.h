/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker counters. Each worker owns one struct px_stats and is its only writer; the control
 * thread (polluxctl stats) and the telemetry thread read and sum them. One list, expanded with
 * an X-macro, so the struct, the control protocol, telemetry and the tests cannot drift apart.
 */
#pragma once

#include <stdint.h>

#include <pollux/wire.h>

/* X(name, help): every counter a worker keeps. */
#define PX_STATS_FIELDS(X) \
	X(rx_pkts, "packets received") \
	X(tx_pkts, "packets sent") \
	X(idle_polls, "polls that received nothing") \
	X(busy_cycles, "TSC cycles of loop iterations that received packets (rx to tx)") \
	X(poll_gap_100us, "polls that came 100 us or more after the previous one (idle naps aside)") \
	X(poll_gap_1ms, "polls that came 1 ms or more after the previous one: a query waited that long") \
	X(poll_gap_10ms, "polls that came 10 ms or more after the previous one (the thread lost its core)") \
	X(acl_allowed, "UDP queries from a source access control allows") \
	X(acl_refused, "UDP queries answered REFUSED by access control") \
	X(acl_dropped, "UDP queries dropped by access control") \
	X(ratelimited, "UDP queries over their client's rate (dropped or slipped)") \
	X(ratelimit_slipped, "rate-limited queries answered with TC set (the slip)") \
	X(queries, "DNS queries with a valid header") \
	X(hits, "queries answered from the cache") \
	X(misses, "queries not in the cache (handed to the resolver path)") \
	X(local_nodata, "NODATA answers from a local zone") \
	X(local_nxdomain, "NXDOMAIN answers from a local zone") \
	X(stale_served, "expired answers served (serve-stale, RFC 8767, with EDE 3 for EDNS clients)") \
	X(stale_on_timeout, "stale answers sent because the refresh outran serve-stale-client-timeout") \
	X(stale_no_timer, "stale-eligible misses with no client timer (ring full): answered at the end") \
	X(prefetch, "refreshes started by a hit in the last tenth of an entry's TTL (prefetch)") \
	X(prefetch_skipped, "prefetches not started: too few free resolutions, or the client at its cap") \
	X(resp_noerror, "responses with rcode NOERROR") \
	X(resp_nxdomain, "responses with rcode NXDOMAIN") \
	X(resp_servfail, "responses with rcode SERVFAIL") \
	X(resp_formerr, "responses with rcode FORMERR") \
	X(resp_notimp, "responses with rcode NOTIMP") \
	X(resp_refused, "responses with rcode REFUSED") \
	X(resp_badvers, "responses with extended rcode BADVERS") \
	X(resp_truncated, "responses with TC set") \
	X(arp_replies, "ARP replies sent") \
	X(nd_replies, "neighbour advertisements sent") \
	X(icmp_echo_replies, "ICMP echo replies sent") \
	X(icmp6_echo_replies, "ICMPv6 echo replies sent") \
	X(formerr_qdcount, "FORMERR: qdcount other than 1") \
	X(formerr_name, "FORMERR: bad label, name length or compression pointer") \
	X(formerr_counts, "FORMERR: section counts disagree with the data") \
	X(formerr_opt, "FORMERR: OPT in the wrong section, repeated, or not owned by the root") \
	X(formerr_sections, "FORMERR: a query with answer or authority records") \
	X(drop_runt, "dropped: frame shorter than an Ethernet header") \
	X(drop_multiseg, "dropped: multi-segment mbuf") \
	X(drop_l2_dst, "dropped: Ethernet destination not ours") \
	X(drop_l2_src, "dropped: Ethernet source multicast or broadcast") \
	X(drop_ip6_src_unspecified, "dropped: IPv6 query from ::") \
	X(drop_ip6_src_loopback, "dropped: IPv6 query from ::1") \
	X(drop_ip6_src_v4mapped, "dropped: IPv6 query from ::ffff:0:0/96") \
	X(drop_ip6_src_multicast, "dropped: IPv6 query from a multicast source") \
	X(drop_ip6_src_self, "dropped: IPv6 query from pollux's own address") \
	X(drop_ethertype, "dropped: EtherType not ARP, IPv4 or IPv6 (a VLAN tag without --vlan too)") \
	X(drop_vlan_untagged, "dropped: no 802.1Q tag on a --vlan port") \
	X(drop_vlan_id, "dropped: 802.1Q tag of another VLAN ID than --vlan") \
	X(drop_vlan_double, "dropped: QinQ (an 802.1ad S-tag, or a second tag inside ours)") \
	X(drop_vlan_tx, "frames not sent: no headroom for the 802.1Q tag, or a shared mbuf") \
	X(drop_arp, "dropped: ARP that is not a request for our address") \
	X(drop_ip_hdr, "dropped: bad IPv4/IPv6 header (version, length fields)") \
	X(drop_ip_cksum, "dropped: bad IPv4 header checksum") \
	X(drop_ip_frag, "dropped: IPv4 fragment") \
	X(drop_ip_options, "dropped: IPv4 options or IPv6 extension headers") \
	X(drop_ip_dst, "dropped: IP destination not ours") \
	X(drop_ip_src, "dropped: IP source that can never be answered") \
	X(drop_l4_proto, "dropped: transport protocol not served") \
	X(drop_udp_hdr, "dropped: truncated UDP or bad UDP length") \
	X(drop_udp_cksum, "dropped: bad UDP checksum") \
	X(drop_udp_port, "dropped: UDP destination port not served") \
	X(drop_icmp, "dropped: ICMP/ICMPv6 that is not an echo request or NS for us, or bad checksum") \
	X(drop_dns_runt, "dropped: UDP payload shorter than a DNS header") \
	X(drop_dns_response, "dropped: DNS message with QR set") \
	X(drop_no_room, "dropped: the response does not fit the mbuf") \
	X(drop_tx_full, "dropped: the TX queue was full") \
	X(tcp_to_kernel, "TCP segments to our address handed to the kernel (tun)") \
	X(tcp_to_kernel_full, "TCP segments to the kernel dropped: tun queue full") \
	X(drop_tcp_hdr, "dropped: TCP segment shorter than its header (or a bad data offset)") \
	X(drop_tcp_port, "dropped: TCP neither to port 53 nor from port 53 to a connection of ours") \
	X(tcp_from_kernel, "TCP segments from the kernel sent out of the port") \
	X(tcp_from_kernel_bad, "kernel packets dropped: not TCP from our address") \
	X(tcp_from_kernel_no_neigh, "kernel TCP segments dropped: no MAC known for the destination") \
	X(tcp_queries, "DNS messages received over TCP (from the TCP thread)") \
	X(tcp_answers, "answers returned to the TCP thread") \
	X(tcp_ring_full, "TCP answers or upstream requests lost: ring to the TCP thread full") \
	X(tcp_no_mbuf, "TCP answers or upstream requests lost: no message mbuf") \
	X(tcp_bad_msg, "messages from the TCP thread of an unknown kind") \
	X(tcp_up_asked, "truncated upstream replies asked again over TCP") \
	X(tcp_up_replies, "upstream TCP replies fed to the resolver") \
	X(tcp_up_failed, "upstream TCP retries that got no reply") \
	X(tcp_up_stale, "upstream TCP outcomes for a resolution that had ended") \
	X(rec_started, "resolutions started for a cache miss") \
	X(rec_attached, "cache misses coalesced onto a resolution in flight") \
	X(rec_answered, "resolutions answered (NOERROR or NXDOMAIN)") \
	X(rec_servfail, "resolutions that ended in SERVFAIL") \
	X(rec_servfail_no_ns, "SERVFAIL: no usable nameserver left") \
	X(rec_servfail_deadline, "SERVFAIL: the resolution's deadline passed") \
	X(rec_servfail_policy, "SERVFAIL: the address policy rejected every nameserver address " \
	  "of the zone") \
	X(rec_servfail_network, "SERVFAIL: no query to any nameserver could be sent (no next-hop " \
	  "MAC or no buffer)") \
	X(rec_servfail_limit, "SERVFAIL: a work limit (queries, referrals, glueless, CNAMEs, size)") \
	X(rec_no_client_slot, "cache misses answered SERVFAIL: every client slot in use") \
	X(rec_no_res_slot, "cache misses answered SERVFAIL: the resolver could not start") \
	X(rec_client_capped, "cache misses answered SERVFAIL: the client held its share of slots") \
	X(rec_share_uncounted, "cache misses let in uncounted: the fair-share table's probe was full") \
	X(rec_jostled, "resolutions stuck on an unresponsive server ended to make room (SERVFAIL)") \
	X(rec_client_answers, "client answers sent for resolutions") \
	X(rec_client_no_mbuf, "client answers lost: no mbuf") \
	X(rec_queries_sent, "upstream queries sent") \
	X(rec_replies_matched, "upstream replies matched to a query") \
	X(rec_timeouts, "upstream queries that timed out") \
	X(rec_expire_lagged, "ticks that judged upstream timeouts as of an earlier time: a backlog (RX, hand-off) was unread") \
	X(rec_late_replies, "upstream replies after their query timed out (spurious timeouts)") \
	X(rec_forged_no_query, "upstream replies dropped: no query with that port and ID") \
	X(rec_forged_addr, "upstream replies dropped: wrong source address") \
	X(rec_forged_port, "upstream replies dropped: wrong source port") \
	X(rec_forged_question, "upstream replies dropped: wrong or missing question") \
	X(rec_drop_no_neigh, "upstream queries not sent: next hop's MAC not known yet") \
	X(rec_drop_no_mbuf, "upstream queries not sent: no mbuf") \
	X(rec_drop_no_slot, "upstream queries not started: outstanding-query table full") \
	X(rec_drop_family, "upstream queries not sent: no route for the address family") \
	X(rec_send_rejected_unspecified, "address policy at send: unspecified") \
	X(rec_send_rejected_loopback, "address policy at send: loopback") \
	X(rec_send_rejected_broadcast, "address policy at send: broadcast") \
	X(rec_send_rejected_multicast, "address policy at send: multicast") \
	X(rec_send_rejected_reserved, "address policy at send: reserved") \
	X(rec_send_rejected_v4mapped, "address policy at send: IPv4-mapped") \
	X(rec_send_rejected_v4compat, "address policy at send: IPv4-compatible") \
	X(rec_send_rejected_link_local, "address policy at send: link-local") \
	X(rec_send_rejected_self, "address policy at send: pollux's own address") \
	X(rec_send_rejected_subnet_broadcast, "address policy at send: subnet broadcast") \
	X(rec_send_rejected_nat64, "address policy at send: NAT64 embedding a rejected IPv4") \
	X(rec_send_rejected_6to4, "address policy at send: 6to4 embedding a rejected IPv4") \
	X(rec_send_rejected_teredo, "address policy at send: Teredo embedding a rejected IPv4") \
	X(rec_send_rejected_do_not_query, "address policy at send: do-not-query") \
	X(rec_neigh_probes, "ARP requests and neighbour solicitations sent for next hops") \
	X(rec_neigh_learned, "ARP/ND packets from a wanted next hop (gateway, on-link server)") \
	X(rec_onlink_sent, "upstream queries sent straight to an on-link server") \
	X(rec_handoff_out, "upstream replies passed to the worker owning their port") \
	X(rec_handoff_in, "upstream replies received from another worker") \
	X(rec_handoff_full, "upstream replies dropped: the owning worker's hand-off ring was full") \
	X(rec_cache_inserted, "resolved answers this worker put in the cache before answering") \
	X(rec_cache_busy, "resolved answers not cached: another writer held the bucket") \
	X(rec_cache_dropped, "resolved answers not cached: no pool room, defer queue full, or kept") \
	X(rec_cut_hits, "resolutions started from a cached delegation below the root") \
	X(rec_cut_primed, "resolutions started from the primed root set (no deeper cut cached)") \
	X(rec_cut_hints, "resolutions started from the root hints (nothing cached, not primed)") \
	X(rec_cut_restarts, "sub-resolutions and CNAME restarts started from a cached cut") \
	X(rec_cut_bad, "cached cuts that did not decode (ignored)") \
	X(rec_answer_type_mismatch, "upstream answer records of a type not asked, ignored (an A " \
	  "record for an AAAA question): never cached; with nothing else, the reply is NODATA") \
	X(rec_cut_inserted, "delegations (referral NS sets and glue) this worker put in the cache") \
	X(rec_cut_busy, "delegations not cached: another writer held the bucket") \
	X(rec_cut_dropped, "delegations not cached: no pool room, defer queue full, or kept") \
	X(rec_prime_sent, "priming resolutions started (. NS to a root server from the hints)") \
	X(rec_prime_replies, "priming replies checked (hints-file rules, on the priming worker)") \
	X(rec_prime_accepted, "priming replies whose root set became the cached root cut") \
	X(rec_prime_rejected, "priming replies refused by the hints-file rules") \
	X(rec_prime_not_cached, "priming replies accepted but not cached (the cache refused)") \
	X(rec_prime_failed, "priming resolutions that ended without an answer") \
	X(rec_up_coalesced, "upstream queries not sent: the same question to the same server was " \
	  "outstanding, and its reply is shared") \
	X(rec_forged_case, "upstream replies dropped: question matched but not in its 0x20 case") \
	X(rec_0x20_retries, "upstream queries asked again after a reply failed only the 0x20 " \
	  "check") \
	X(rec_0x20_fallback, "servers queried without 0x20 for a while: their replies failed the " \
	  "case check twice in a row") \
	X(rec_settings_applied, "resolver settings taken in, at start and after each reload (address " \
	  "policy, TTL caps, QNAME minimisation)") \
	X(rec_probe_started, "health probes started (no resolution succeeded for half the window)") \
	X(rec_probe_not_started, "health probes not started: no gateway MAC yet, or no resolver slot") \
	X(dnstap_logged, "dnstap records queued for the logging thread") \
	X(dnstap_dropped, "dnstap records dropped: the ring to the logging thread was full") \
	X(dnstap_cut, "dnstap records of messages longer than a record: header and question kept")

struct px_stats {
#define PX_STATS_MEMBER(name, help) uint64_t name;
	PX_STATS_FIELDS(PX_STATS_MEMBER)
#undef PX_STATS_MEMBER
};

#define PX_STATS_COUNT (sizeof(struct px_stats) / sizeof(uint64_t))

/* Names in struct order, for printing and telemetry. */
extern const char *const px_stats_names[PX_STATS_COUNT];
extern const char *const px_stats_help[PX_STATS_COUNT];

/* Adds every counter of src to dst. Thread-agnostic; src may be written concurrently, each
 * counter is read with one relaxed atomic load so no value is ever torn. */
void px_stats_add(struct px_stats *dst, const struct px_stats *src);

/* Counts a response in s by its rcode (resp_*) and its TC bit, msg being the response written.
 * Every path that sends a client a DNS response calls it once (the answer path, the miss path,
 * the TCP path, access control), so it lives here, below all of them, inline: it runs per
 * answer. The caller is s's one writer. */
static inline void
px_stats_count_rcode(struct px_stats *s, uint8_t rcode, const uint8_t *msg)
{
	switch (rcode) {
	case PX_DNS_RCODE_NOERROR: s->resp_noerror++; break;
	case PX_DNS_RCODE_NXDOMAIN: s->resp_nxdomain++; break;
	case PX_DNS_RCODE_SERVFAIL: s->resp_servfail++; break;
	case PX_DNS_RCODE_FORMERR: s->resp_formerr++; break;
	case PX_DNS_RCODE_NOTIMP: s->resp_notimp++; break;
	case PX_DNS_RCODE_REFUSED: s->resp_refused++; break;
	case PX_DNS_RCODE_BADVERS: s->resp_badvers++; break;
	default: break;
	}
	if (px_get16(msg + 2) & PX_DNS_TC)
		s->resp_truncated++;
}
