/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel's half of "only DNS reaches the kernel" (dataplane/dp_tcp.h has the worker's
 * half): an nftables table of pollux's own, `inet pollux_<iface>`, whose input chain takes
 * from the tun interface only
 *
 *   - TCP to port 53 on pollux's --ip / --ip6 (client connections), and
 *   - packets of connections the kernel already tracks (ct state established,related: the
 *     connections the TCP thread opened upstream, and the client connections above),
 *
 * and drops (and counts) everything else that comes in on it. It also drops whatever reaches
 * those addresses through any other interface (with net_af_packet the kernel sees every frame
 * of the DPDK port's interface too, and would deliver it locally); its forward chain drops
 * whatever comes in on the tun, should the namespace route. Nothing else of the host's
 * filtering is touched. The workers filter the same way first, so a bug in either filter
 * alone opens nothing.
 *
 * The table is installed with the nft(8) command (package nftables), in one transaction that
 * also replaces a table a killed run left behind, and deleted at exit. Control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_NFT_TABLE_PREFIX "pollux_"
#define CTL_NFT_TABLE_LEN 32

struct ctl_nft_conf {
	const char *ifname; /* the tun's kernel interface */
	bool has_ip4;
	uint32_t ip4;       /* network order */
	bool has_ip6;
	uint8_t ip6[16];
};

/* The table's name for an interface: "pollux_" and the name with every character that is
 * not a letter or a digit turned into '_'. */
void ctl_nft_table_name(char *dst, size_t len, const char *ifname);

/* Writes the nft script that (re)creates the table into buf. Returns its length, or -ENOSPC.
 * Thread-agnostic; exported for tests. */
int ctl_nft_script(char *buf, size_t len, const struct ctl_nft_conf *conf);

/* Installs the table. Returns 0, or -errno with what nft said (or why it could not run) in
 * err. */
int ctl_nft_install(const struct ctl_nft_conf *conf, char *err, size_t err_len);

/* Deletes the table of ifname. Returns 0 or -errno (logged by the caller if it cares). */
int ctl_nft_remove(const char *ifname);
