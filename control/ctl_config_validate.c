/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What only the whole configuration can tell (ctl_config_validate): an address to serve on, and
 * addresses and gateways that can be a host's. Kept apart from the option table and the parsers
 * in ctl_config.c, which know one option at a time. No DPDK, like ctl_config.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ctl_config.h"


static bool
ip4_in_net(uint32_t addr, uint32_t net, uint8_t prefix)
{
	uint32_t mask = prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);

	return ((ntohl(addr) ^ ntohl(net)) & mask) == 0;
}

/* Returns why addr cannot be a unicast host address of ours, or NULL when it can. */
static const char *
ip4_unusable(uint32_t addr_be)
{
	uint32_t a = ntohl(addr_be);

	if (a == 0)
		return "an unspecified";
	if ((a >> 28) == 0xe)
		return "a multicast";
	if (a == UINT32_MAX)
		return "the broadcast";
	if ((a >> 24) == 127)
		return "a loopback";
	return NULL;
}

static const char *
ip6_unusable(const uint8_t *a)
{
	static const uint8_t zero[16], loop[16] = { [15] = 1 };

	if (memcmp(a, zero, 16) == 0)
		return "an unspecified";
	if (a[0] == 0xff)
		return "a multicast";
	if (memcmp(a, loop, 16) == 0)
		return "a loopback";
	return NULL;
}

int
ctl_config_validate(const struct ctl_config *cfg, char *err, size_t err_len)
{
	char buf[INET6_ADDRSTRLEN];
	const char *why;

	if (cfg->check_hints != NULL)
		return 0; /* offline: nothing is served */
	if (!cfg->has_ip4 && !cfg->has_ip6) {
		ctl_config_set_err(err, err_len,
				   "an address to serve on is required: give --ip or --ip6");
		return -EINVAL;
	}
	if (cfg->has_gw4 && !cfg->has_ip4) {
		ctl_config_set_err(err, err_len, "--gateway needs --ip");
		return -EINVAL;
	}
	if (cfg->has_gw6 && !cfg->has_ip6) {
		ctl_config_set_err(err, err_len, "--gateway6 needs --ip6");
		return -EINVAL;
	}
	if (cfg->has_ip4) {
		inet_ntop(AF_INET, &cfg->ip4, buf, sizeof(buf));
		why = ip4_unusable(cfg->ip4);
		if (why != NULL) {
			ctl_config_set_err(err, err_len, "--ip: '%s' is %s address", buf, why);
			return -EINVAL;
		}
		/* The subnet's own broadcast address exists only for prefixes up to /30. */
		if (cfg->ip4_prefix <= 30 && cfg->ip4_prefix > 0 &&
		    (ntohl(cfg->ip4) | UINT32_MAX << (32 - cfg->ip4_prefix)) == UINT32_MAX) {
			ctl_config_set_err(err, err_len,
					   "--ip: '%s/%u' is the subnet's broadcast address", buf,
					   cfg->ip4_prefix);
			return -EINVAL;
		}
	}
	if (cfg->has_gw4) {
		inet_ntop(AF_INET, &cfg->gw4, buf, sizeof(buf));
		why = ip4_unusable(cfg->gw4);
		if (why != NULL) {
			ctl_config_set_err(err, err_len, "--gateway: '%s' is %s address", buf, why);
			return -EINVAL;
		}
		/* pollux resolves the gateway with ARP, which only reaches the local subnet. */
		if (cfg->ip4_prefix < 32 && !ip4_in_net(cfg->gw4, cfg->ip4, cfg->ip4_prefix)) {
			ctl_config_set_err(err, err_len,
					   "--gateway: '%s' is not inside the --ip subnet", buf);
			return -EINVAL;
		}
		if (cfg->gw4 == cfg->ip4) {
			ctl_config_set_err(err, err_len,
					   "--gateway: '%s' is pollux's own address", buf);
			return -EINVAL;
		}
	}
	if (cfg->has_ip6) {
		inet_ntop(AF_INET6, cfg->ip6, buf, sizeof(buf));
		why = ip6_unusable(cfg->ip6);
		if (why != NULL) {
			ctl_config_set_err(err, err_len, "--ip6: '%s' is %s address", buf, why);
			return -EINVAL;
		}
	}
	if (cfg->has_gw6) {
		inet_ntop(AF_INET6, cfg->gw6, buf, sizeof(buf));
		why = ip6_unusable(cfg->gw6);
		if (why != NULL) {
			ctl_config_set_err(err, err_len,
					   "--gateway6: '%s' is %s address", buf, why);
			return -EINVAL;
		}
		if (memcmp(cfg->gw6, cfg->ip6, 16) == 0) {
			ctl_config_set_err(err, err_len,
					   "--gateway6: '%s' is pollux's own address", buf);
			return -EINVAL;
		}
	}
	return 0;
}
