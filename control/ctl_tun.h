/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path to the kernel's TCP (dataplane/dp_tcp.h has the whole design): a net_tun
 * port (DPDK's tap PMD in L3 mode, one queue pair per worker) and its kernel interface,
 * configured with rtnetlink so that the kernel owns pollux's addresses for TCP only:
 *
 *  - the interface gets pollux's --ip as a /32 and --ip6 as a /128 (no DAD): the kernel never
 *    sees a subnet on it, so it never tries ARP or ND there (a tun has no link layer anyway);
 *  - a routing table of its own (CTL_TUN_TABLE) holds a default route (IPv4 and IPv6) through
 *    the interface, and a policy rule (priority CTL_TUN_RULE_PRIO) sends everything *from*
 *    pollux's addresses to that table. The host's own routes are never touched, so a
 *    management interface in the same namespace keeps working; only packets with pollux's
 *    source address go into the tun, and from there out of the DPDK port;
 *  - an nftables table (ctl_nft.h) lets in from the interface only TCP to port 53 on those
 *    addresses and the connections the kernel already tracks: the kernel's half of the filter
 *    the workers apply first (dataplane/dp_tcp.h). If it cannot be installed, the open fails.
 *
 * Everything is undone at close: the interface (and with it its addresses and routes) goes
 * with the port, and the rules and the nftables table are deleted. Rules and a table a killed
 * run left behind are replaced at the next start. Control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

#define CTL_TUN_TABLE 5353
#define CTL_TUN_RULE_PRIO 5353
#define CTL_TUN_DEFAULT_IFNAME "pxtcp0"
#define CTL_TUN_DESC 512

struct rte_mempool;

struct ctl_tun {
	bool open;
	uint16_t port_id;
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	struct rte_mempool *pool;
	bool has_ip4, has_ip6;
	uint32_t ip4;   /* network order */
	uint8_t ip6[16];
	bool rule4, rule6; /* our policy rules are installed */
	bool nft;          /* our nftables table is installed (ctl_nft.h) */
};

/*
 * Creates the net_tun port named ifname with nb_q queue pairs, starts it, and configures the
 * kernel side as described above for the given addresses. Returns 0, or -errno with the step
 * that failed in err (what was done is undone). Control thread only, after rte_eal_init.
 */
int ctl_tun_open(struct ctl_tun *tun, const char *ifname, uint16_t nb_q, bool has_ip4,
		 uint32_t ip4, bool has_ip6, const uint8_t *ip6, char *err, size_t err_len);

/* Stops and closes the port, deletes the rules, frees the pool. Idempotent. Control thread
 * only, after the workers stopped. */
void ctl_tun_close(struct ctl_tun *tun);
