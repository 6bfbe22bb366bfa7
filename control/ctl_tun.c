/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The net_tun port and its kernel interface; see ctl_tun.h. The kernel side is configured with
 * rtnetlink directly (addresses, a route table, policy rules), not by running ip(8): one
 * request per step, each acknowledged, each failure reported with the kernel's errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "ctl_nft.h"
#include "ctl_tun.h"
#include "dp_lcore.h"

RTE_LOG_REGISTER(ctl_tun_logtype, pollux.ctl.tun, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_tun_logtype, "pollux: " __VA_ARGS__)

#define TUN_VDEV "net_tun_pollux"
#define TUN_MBUF_CACHE 64

struct nl_req {
	struct nlmsghdr h;
	union {
		struct ifaddrmsg ifa;
		struct rtmsg rt;
		struct fib_rule_hdr fr;
	};
	uint8_t attrs[256];
};

static void
nl_attr(struct nl_req *r, uint16_t type, const void *data, uint16_t len)
{
	struct rtattr *a = (struct rtattr *)((uint8_t *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Sends one request and waits for its acknowledgement. Returns 0 or -errno (the kernel's). */
static int
nl_talk(struct nl_req *r)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	union {
		struct nlmsghdr h;
		uint8_t buf[4096];
	} ans;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int ret = -EIO;
	ssize_t n;

	if (fd < 0)
		return -errno;
	r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	r->h.nlmsg_seq = 1;
	if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(fd, &ans, sizeof(ans), 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) && ans.h.nlmsg_type == NLMSG_ERROR)
		ret = ((struct nlmsgerr *)NLMSG_DATA(&ans.h))->error;
out:
	close(fd);
	return ret;
}

static int
addr_add(const struct ctl_tun *tun, int family, const void *addr)
{
	struct nl_req r;
	uint32_t flags = IFA_F_NODAD | IFA_F_PERMANENT;
	unsigned alen = family == AF_INET ? 4 : 16;

	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r.h.nlmsg_type = RTM_NEWADDR;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	r.ifa.ifa_family = (uint8_t)family;
	r.ifa.ifa_prefixlen = (uint8_t)(alen * 8);
	r.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	r.ifa.ifa_index = tun->ifindex;
	nl_attr(&r, IFA_LOCAL, addr, (uint16_t)alen);
	nl_attr(&r, IFA_ADDRESS, addr, (uint16_t)alen);
	nl_attr(&r, IFA_FLAGS, &flags, sizeof(flags));
	return nl_talk(&r);
}

static int
route_default(const struct ctl_tun *tun, int family)
{
	struct nl_req r;
	uint32_t oif = tun->ifindex, table = CTL_TUN_TABLE;

	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	r.h.nlmsg_type = RTM_NEWROUTE;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	r.rt.rtm_family = (uint8_t)family;
	r.rt.rtm_table = RT_TABLE_UNSPEC;
	r.rt.rtm_protocol = RTPROT_STATIC;
	r.rt.rtm_scope = RT_SCOPE_LINK;
	r.rt.rtm_type = RTN_UNICAST;
	nl_attr(&r, RTA_TABLE, &table, sizeof(table));
	nl_attr(&r, RTA_OIF, &oif, sizeof(oif));
	return nl_talk(&r);
}

static int
rule(int family, const void *src, bool add)
{
	struct nl_req r;
	uint32_t table = CTL_TUN_TABLE, prio = CTL_TUN_RULE_PRIO;
	unsigned alen = family == AF_INET ? 4 : 16;

	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct fib_rule_hdr));
	r.h.nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	r.h.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0;
	r.fr.family = (uint8_t)family;
	r.fr.src_len = (uint8_t)(alen * 8);
	r.fr.table = RT_TABLE_UNSPEC;
	r.fr.action = FR_ACT_TO_TBL;
	nl_attr(&r, FRA_SRC, src, (uint16_t)alen);
	nl_attr(&r, FRA_TABLE, &table, sizeof(table));
	nl_attr(&r, FRA_PRIORITY, &prio, sizeof(prio));
	return nl_talk(&r);
}

/* Replaces a rule a killed run may have left, then adds ours. */
static int
rule_install(int family, const void *src)
{
	while (rule(family, src, false) == 0)
		;
	return rule(family, src, true);
}

static int
link_up(const struct ctl_tun *tun)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tun->ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
		ret = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
			ret = -errno;
	}
	close(fd);
	return ret;
}

static int
port_start(struct ctl_tun *tun, uint16_t nb_q, char *err, size_t err_len)
{
	struct rte_eth_conf conf;
	char args[64];
	uint16_t rxd = CTL_TUN_DESC, txd = CTL_TUN_DESC;
	int ret;

	snprintf(args, sizeof(args), "iface=%s", tun->ifname);
	ret = rte_vdev_init(TUN_VDEV, args);
	if (ret != 0) {
		snprintf(err, err_len, "cannot create %s (%s): %s", TUN_VDEV, args,
			 rte_strerror(-ret));
		return ret < 0 ? ret : -EIO;
	}
	tun->open = true;
	ret = rte_eth_dev_get_port_by_name(TUN_VDEV, &tun->port_id);
	if (ret != 0) {
		snprintf(err, err_len, "%s: no port: %s", TUN_VDEV, rte_strerror(-ret));
		return ret;
	}
	tun->pool = rte_pktmbuf_pool_create("pollux_tun_mbufs",
					    nb_q * (rxd + txd + 2 * DP_BURST) +
						    (nb_q + 1) * TUN_MBUF_CACHE * 3 / 2,
					    TUN_MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    (int)rte_socket_id());
	if (tun->pool == NULL) {
		snprintf(err, err_len, "cannot create the tun's mbufs: %s",
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(tun->port_id, nb_q, nb_q, &conf);
	for (uint16_t q = 0; ret == 0 && q < nb_q; q++) {
		ret = rte_eth_rx_queue_setup(tun->port_id, q, rxd, (unsigned)rte_socket_id(), NULL,
					     tun->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(tun->port_id, q, txd,
						     (unsigned)rte_socket_id(), NULL);
	}
	if (ret == 0)
		ret = rte_eth_dev_start(tun->port_id);
	if (ret != 0) {
		snprintf(err, err_len, "%s with %u queues: setup failed: %s", TUN_VDEV, nb_q,
			 rte_strerror(-ret));
		return ret;
	}
	return 0;
}

static int
nft_install(struct ctl_tun *tun, char *err, size_t err_len)
{
	struct ctl_nft_conf nc = {
		.ifname = tun->ifname,
		.has_ip4 = tun->has_ip4,
		.ip4 = tun->ip4,
		.has_ip6 = tun->has_ip6,
	};
	char why[384];
	int ret;

	memcpy(nc.ip6, tun->ip6, 16);
	ret = ctl_nft_install(&nc, why, sizeof(why));
	if (ret != 0) {
		snprintf(err, err_len, "%s: the nftables filter: %s", tun->ifname, why);
		return ret;
	}
	tun->nft = true;
	return 0;
}

int
ctl_tun_open(struct ctl_tun *tun, const char *ifname, uint16_t nb_q, bool has_ip4,
	     uint32_t ip4, bool has_ip6, const uint8_t *ip6, char *err, size_t err_len)
{
	char nft[CTL_NFT_TABLE_LEN];
	const char *step;
	int ret;

	memset(tun, 0, sizeof(*tun));
	snprintf(tun->ifname, sizeof(tun->ifname), "%s", ifname);
	tun->has_ip4 = has_ip4;
	tun->ip4 = ip4;
	tun->has_ip6 = has_ip6;
	if (has_ip6)
		memcpy(tun->ip6, ip6, 16);
	ret = port_start(tun, nb_q, err, err_len);
	if (ret != 0)
		goto fail;
	tun->ifindex = if_nametoindex(tun->ifname);
	step = "finding the interface";
	ret = tun->ifindex == 0 ? -errno : link_up(tun);
	if (ret != 0)
		goto nl_fail;
	if (has_ip4) {
		step = "adding the IPv4 address";
		ret = addr_add(tun, AF_INET, &ip4);
		if (ret == 0) {
			step = "adding the IPv4 default route to table 5353";
			ret = route_default(tun, AF_INET);
		}
		if (ret == 0) {
			step = "adding the IPv4 rule";
			ret = rule_install(AF_INET, &ip4);
			tun->rule4 = ret == 0;
		}
		if (ret != 0)
			goto nl_fail;
	}
	if (has_ip6) {
		step = "adding the IPv6 address";
		ret = addr_add(tun, AF_INET6, ip6);
		if (ret == 0) {
			step = "adding the IPv6 default route to table 5353";
			ret = route_default(tun, AF_INET6);
		}
		if (ret == 0) {
			step = "adding the IPv6 rule";
			ret = rule_install(AF_INET6, ip6);
			tun->rule6 = ret == 0;
		}
		if (ret != 0)
			goto nl_fail;
	}
	ret = nft_install(tun, err, err_len);
	if (ret != 0)
		goto fail;
	ctl_nft_table_name(nft, sizeof(nft), tun->ifname);
	LOG(INFO, "TCP exception path: %s (port %u, %u queues), table %u, rule priority %u, "
	    "nftables table inet %s\n", tun->ifname, tun->port_id, nb_q, CTL_TUN_TABLE,
	    CTL_TUN_RULE_PRIO, nft);
	return 0;
nl_fail:
	snprintf(err, err_len, "%s: %s: %s", tun->ifname, step, strerror(-ret));
fail:
	ctl_tun_close(tun);
	return ret < 0 ? ret : -EIO;
}

void
ctl_tun_close(struct ctl_tun *tun)
{
	if (tun->rule4)
		rule(AF_INET, &tun->ip4, false);
	if (tun->rule6)
		rule(AF_INET6, tun->ip6, false);
	tun->rule4 = tun->rule6 = false;
	if (tun->nft && ctl_nft_remove(tun->ifname) != 0)
		LOG(WARNING, "nft_remove_failed: the nftables table of %s is left behind (the "
		    "next start replaces it)\n", tun->ifname);
	tun->nft = false;
	if (tun->open) {
		rte_eth_dev_stop(tun->port_id);
		rte_eth_dev_close(tun->port_id);
		rte_vdev_uninit(TUN_VDEV);
		tun->open = false;
	}
	rte_mempool_free(tun->pool);
	tun->pool = NULL;
}
