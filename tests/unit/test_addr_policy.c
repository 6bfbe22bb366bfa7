/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <pollux/addr_policy.h>

static struct px_addr_policy pol;

static void
setup(void)
{
	px_addr_policy_init(&pol);
}

static enum px_addr_reason
check4(const char *s)
{
	uint32_t a;

	ck_assert_msg(inet_pton(AF_INET, s, &a) == 1, "bad test address %s", s);
	return px_addr_check4(&pol, a);
}

static enum px_addr_reason
check6(const char *s)
{
	uint8_t a[16];

	ck_assert_msg(inet_pton(AF_INET6, s, a) == 1, "bad test address %s", s);
	return px_addr_check6(&pol, a);
}

#define ASSERT4(addr, want)                                                                      \
	ck_assert_msg(check4(addr) == (want), "%s: %s, want %s", addr,                           \
		      px_addr_reason_name(check4(addr)), px_addr_reason_name(want))
#define ASSERT6(addr, want)                                                                      \
	ck_assert_msg(check6(addr) == (want), "%s: %s, want %s", addr,                           \
		      px_addr_reason_name(check6(addr)), px_addr_reason_name(want))

START_TEST(test_px_addr_check4_defaults)
{
	/* 0.0.0.0/8 */
	ASSERT4("0.0.0.0", PX_ADDR_UNSPECIFIED);
	ASSERT4("0.1.2.3", PX_ADDR_UNSPECIFIED);
	ASSERT4("0.255.255.255", PX_ADDR_UNSPECIFIED);
	ASSERT4("1.0.0.0", PX_ADDR_OK);
	/* 127.0.0.0/8 */
	ASSERT4("126.255.255.255", PX_ADDR_OK);
	ASSERT4("127.0.0.0", PX_ADDR_LOOPBACK);
	ASSERT4("127.0.0.1", PX_ADDR_LOOPBACK);
	ASSERT4("127.255.255.255", PX_ADDR_LOOPBACK);
	ASSERT4("128.0.0.0", PX_ADDR_OK);
	/* 224.0.0.0/4 */
	ASSERT4("223.255.255.255", PX_ADDR_OK);
	ASSERT4("224.0.0.0", PX_ADDR_MULTICAST);
	ASSERT4("224.0.0.1", PX_ADDR_MULTICAST);
	ASSERT4("239.255.255.255", PX_ADDR_MULTICAST);
	/* 240.0.0.0/4, with the broadcast address inside it */
	ASSERT4("240.0.0.0", PX_ADDR_RESERVED);
	ASSERT4("240.0.0.1", PX_ADDR_RESERVED);
	ASSERT4("255.255.255.254", PX_ADDR_RESERVED);
	ASSERT4("255.255.255.255", PX_ADDR_BROADCAST);
	/* Ordinary addresses, the root servers' among them. */
	ASSERT4("198.41.0.4", PX_ADDR_OK);
	ASSERT4("10.0.0.1", PX_ADDR_OK);
	ASSERT4("192.0.2.1", PX_ADDR_OK);
}
END_TEST

START_TEST(test_px_addr_check6_defaults)
{
	ASSERT6("::", PX_ADDR_UNSPECIFIED);
	ASSERT6("::1", PX_ADDR_LOOPBACK);
	/* ::/96, IPv4-compatible */
	ASSERT6("::2", PX_ADDR_V4COMPAT);
	ASSERT6("::1.2.3.4", PX_ADDR_V4COMPAT);
	ASSERT6("::ffff:ffff", PX_ADDR_V4COMPAT);
	ASSERT6("0:0:0:0:0:1::", PX_ADDR_OK);
	/* ::ffff:0:0/96, IPv4-mapped */
	ASSERT6("::fffe:ffff:ffff", PX_ADDR_OK);
	ASSERT6("::ffff:0:0", PX_ADDR_V4MAPPED);
	ASSERT6("::ffff:1.2.3.4", PX_ADDR_V4MAPPED);
	ASSERT6("::ffff:ffff:ffff", PX_ADDR_V4MAPPED);
	ASSERT6("::1:0:0:0", PX_ADDR_OK);
	/* fe80::/10 */
	ASSERT6("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_OK);
	ASSERT6("fe80::", PX_ADDR_LINK_LOCAL);
	ASSERT6("fe80::1", PX_ADDR_LINK_LOCAL);
	ASSERT6("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_LINK_LOCAL);
	ASSERT6("fec0::", PX_ADDR_OK);
	ASSERT6("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_OK);
	/* ff00::/8 */
	ASSERT6("ff00::", PX_ADDR_MULTICAST);
	ASSERT6("ff02::1", PX_ADDR_MULTICAST);
	ASSERT6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_MULTICAST);
	/* Ordinary addresses. */
	ASSERT6("2001:503:ba3e::2:30", PX_ADDR_OK);
	ASSERT6("2001:db8::1", PX_ADDR_OK);
	ASSERT6("fc00::1", PX_ADDR_OK);
}
END_TEST

START_TEST(test_px_addr_check_allow_loopback)
{
	pol.allow_loopback = true;
	ASSERT4("127.0.0.0", PX_ADDR_OK);
	ASSERT4("127.0.0.1", PX_ADDR_OK);
	ASSERT4("127.255.255.255", PX_ADDR_OK);
	ASSERT6("::1", PX_ADDR_OK);
	/* Only loopback: the rest of the defaults stand. */
	ASSERT4("0.0.0.0", PX_ADDR_UNSPECIFIED);
	ASSERT4("224.0.0.1", PX_ADDR_MULTICAST);
	ASSERT6("::", PX_ADDR_UNSPECIFIED);
	ASSERT6("::2", PX_ADDR_V4COMPAT);
	ASSERT6("fe80::1", PX_ADDR_LINK_LOCAL);
}
END_TEST

/* 169.254.0.0/16: link-local, the cloud metadata service's home. */
START_TEST(test_px_addr_check4_link_local)
{
	ASSERT4("169.253.255.255", PX_ADDR_OK);
	ASSERT4("169.254.0.0", PX_ADDR_LINK_LOCAL);
	ASSERT4("169.254.169.254", PX_ADDR_LINK_LOCAL);
	ASSERT4("169.254.255.255", PX_ADDR_LINK_LOCAL);
	ASSERT4("169.255.0.0", PX_ADDR_OK);
}
END_TEST

static void
set_self4(const char *addr, unsigned prefix)
{
	uint32_t a;

	ck_assert_int_eq(inet_pton(AF_INET, addr, &a), 1);
	px_addr_policy_set_self4(&pol, a, prefix);
}

static int
set_self6(const char *addr)
{
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(AF_INET6, addr, a), 1);
	return px_addr_policy_set_self6(&pol, a);
}

/* pollux's own IPv4 address and its subnet's broadcast (all-ones) and all-zeros hosts. */
START_TEST(test_px_addr_check4_self)
{
	ASSERT4("198.18.0.2", PX_ADDR_OK); /* nothing is known before it is told */
	set_self4("198.18.0.2", 24);
	ASSERT4("198.18.0.2", PX_ADDR_SELF);
	ASSERT4("198.18.0.1", PX_ADDR_OK);
	ASSERT4("198.18.0.3", PX_ADDR_OK);
	ASSERT4("198.18.0.0", PX_ADDR_SUBNET_BROADCAST);
	ASSERT4("198.18.0.255", PX_ADDR_SUBNET_BROADCAST);
	ASSERT4("198.18.0.254", PX_ADDR_OK);
	ASSERT4("198.17.255.255", PX_ADDR_OK);
	ASSERT4("198.18.1.0", PX_ADDR_OK);
	ASSERT4("198.18.1.255", PX_ADDR_OK);
	/* A /30 has both; a /31 (RFC 3021) and a /32 have neither. */
	set_self4("198.18.0.1", 30);
	ASSERT4("198.18.0.0", PX_ADDR_SUBNET_BROADCAST);
	ASSERT4("198.18.0.3", PX_ADDR_SUBNET_BROADCAST);
	ASSERT4("198.18.0.2", PX_ADDR_OK);
	ASSERT4("198.18.0.1", PX_ADDR_SELF);
	set_self4("198.18.0.2", 31);
	ASSERT4("198.18.0.3", PX_ADDR_OK);
	ASSERT4("198.18.0.2", PX_ADDR_SELF);
	set_self4("198.18.0.2", 32);
	ASSERT4("198.18.0.3", PX_ADDR_OK);
	ASSERT4("198.18.0.1", PX_ADDR_OK);
	ASSERT4("198.18.0.2", PX_ADDR_SELF);
	/* A /8: the edges are far apart. */
	set_self4("10.1.2.3", 8);
	ASSERT4("10.0.0.0", PX_ADDR_SUBNET_BROADCAST);
	ASSERT4("10.255.255.255", PX_ADDR_SUBNET_BROADCAST);
	ASSERT4("10.0.0.1", PX_ADDR_OK);
	ASSERT4("10.255.255.254", PX_ADDR_OK);
}
END_TEST

START_TEST(test_px_addr_check6_self)
{
	ASSERT6("2001:2::2", PX_ADDR_OK);
	ck_assert_int_eq(set_self6("2001:2::2"), 0);
	ck_assert_int_eq(set_self6("fe80::ff:fe00:2"), 0);
	ck_assert_int_eq(set_self6("2001:2::5"), -ENOSPC);
	ASSERT6("2001:2::2", PX_ADDR_SELF);
	ASSERT6("fe80::ff:fe00:2", PX_ADDR_SELF);
	ASSERT6("2001:2::1", PX_ADDR_OK);
	ASSERT6("2001:2::3", PX_ADDR_OK);
	ASSERT6("2001:2::5", PX_ADDR_OK);
	ASSERT6("fe80::ff:fe00:3", PX_ADDR_LINK_LOCAL);
}
END_TEST

/* NAT64 (RFC 6052, RFC 8215): 64:ff9b::/96 by its last 32 bits; 64:ff9b:1::/48 whole. */
START_TEST(test_px_addr_check6_nat64)
{
	ASSERT6("64:ff9b::7f00:1", PX_ADDR_NAT64);      /* 127.0.0.1 */
	ASSERT6("64:ff9b::", PX_ADDR_NAT64);            /* 0.0.0.0 */
	ASSERT6("64:ff9b::ff:ffff", PX_ADDR_NAT64);     /* 0.255.255.255 */
	ASSERT6("64:ff9b::100:0", PX_ADDR_OK);          /* 1.0.0.0 */
	ASSERT6("64:ff9b::7eff:ffff", PX_ADDR_OK);      /* 126.255.255.255 */
	ASSERT6("64:ff9b::7fff:ffff", PX_ADDR_NAT64);   /* 127.255.255.255 */
	ASSERT6("64:ff9b::8000:0", PX_ADDR_OK);         /* 128.0.0.0 */
	ASSERT6("64:ff9b::a9fe:a9fe", PX_ADDR_NAT64);   /* 169.254.169.254 */
	ASSERT6("64:ff9b::a9fd:ffff", PX_ADDR_OK);      /* 169.253.255.255 */
	ASSERT6("64:ff9b::e000:1", PX_ADDR_NAT64);      /* 224.0.0.1 */
	ASSERT6("64:ff9b::dfff:ffff", PX_ADDR_OK);      /* 223.255.255.255 */
	ASSERT6("64:ff9b::ffff:ffff", PX_ADDR_NAT64);   /* 255.255.255.255 */
	ASSERT6("64:ff9b::c612:301", PX_ADDR_OK);       /* 198.18.3.1 */
	/* Just outside the /96: no embedding, judged as any other address. */
	ASSERT6("64:ff9a:ffff:ffff:ffff:ffff:7f00:1", PX_ADDR_OK);
	ASSERT6("64:ff9b::1:7f00:1", PX_ADDR_OK);
	ASSERT6("64:ff9b:0:ffff:ffff:ffff:7f00:1", PX_ADDR_OK);
	/* The local-use /48: where the IPv4 sits is the site's choice, so all of it goes. */
	ASSERT6("64:ff9b:1::", PX_ADDR_NAT64);
	ASSERT6("64:ff9b:1::c612:301", PX_ADDR_NAT64);
	ASSERT6("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", PX_ADDR_NAT64);
	ASSERT6("64:ff9b:2::", PX_ADDR_OK);
}
END_TEST

/* 6to4 (RFC 3056): 2002::/16, the IPv4 address in bits 16-47. */
START_TEST(test_px_addr_check6_6to4)
{
	ASSERT6("2002:7f00:1::", PX_ADDR_6TO4);
	ASSERT6("2002::", PX_ADDR_6TO4);
	ASSERT6("2002:ff:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_6TO4);
	ASSERT6("2002:100::", PX_ADDR_OK);
	ASSERT6("2002:7eff:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_OK);
	ASSERT6("2002:7fff:ffff::", PX_ADDR_6TO4);
	ASSERT6("2002:8000::", PX_ADDR_OK);
	ASSERT6("2002:a9fe:a9fe::1", PX_ADDR_6TO4);
	ASSERT6("2002:c612:301::1", PX_ADDR_OK);
	ASSERT6("2002:ffff:ffff::", PX_ADDR_6TO4);
	ASSERT6("2002:e000::", PX_ADDR_6TO4);
	/* Neighbouring /16s carry nothing. */
	ASSERT6("2001:ffff:7f00:1::", PX_ADDR_OK);
	ASSERT6("2003:7f00:1::", PX_ADDR_OK);
}
END_TEST

/* Teredo (RFC 4380): 2001:0::/32, the server in bits 32-63, the client's public address
 * inverted in bits 96-127 (198.18.3.1 inverted is 39ed:fcfe, 127.0.0.1 is 80ff:fffe). */
START_TEST(test_px_addr_check6_teredo)
{
	ASSERT6("2001:0:c612:301::39ed:fcfe", PX_ADDR_OK);
	ASSERT6("2001:0:7f00:1::39ed:fcfe", PX_ADDR_TEREDO);     /* server 127.0.0.1 */
	ASSERT6("2001:0:a9fe:a9fe::39ed:fcfe", PX_ADDR_TEREDO);  /* server 169.254.169.254 */
	ASSERT6("2001::39ed:fcfe", PX_ADDR_TEREDO);              /* server 0.0.0.0 */
	ASSERT6("2001:0:ffff:ffff::39ed:fcfe", PX_ADDR_TEREDO);  /* server broadcast */
	ASSERT6("2001:0:100:0::39ed:fcfe", PX_ADDR_OK);          /* server 1.0.0.0 */
	ASSERT6("2001:0:c612:301::80ff:fffe", PX_ADDR_TEREDO);   /* client 127.0.0.1 */
	ASSERT6("2001:0:c612:301::ffff:ffff", PX_ADDR_TEREDO);   /* client 0.0.0.0 */
	ASSERT6("2001:0:c612:301::", PX_ADDR_TEREDO);            /* client 255.255.255.255 */
	ASSERT6("2001:0:c612:301::feff:ffff", PX_ADDR_OK);       /* client 1.0.0.0 */
	ASSERT6("2001:0:c612:301::56:0", PX_ADDR_TEREDO);        /* client 169.254.255.255 */
	/* Outside 2001::/32: 2001:1:: and 2000:ffff:: carry nothing. */
	ASSERT6("2001:1:7f00:1::", PX_ADDR_OK);
	ASSERT6("2000:ffff:7f00:1::", PX_ADDR_OK);
	ASSERT6("2001:2::1", PX_ADDR_OK);
}
END_TEST

/* The embedded IPv4 address goes through the whole IPv4 policy: pollux's own address, its
 * subnet's broadcast, the operator's netblocks. */
START_TEST(test_px_addr_check6_embedded_policy)
{
	set_self4("198.18.0.2", 24);
	ck_assert_int_eq(px_addr_policy_add(&pol, "10.0.0.0/8"), 0);
	ASSERT6("64:ff9b::c612:2", PX_ADDR_NAT64);
	ASSERT6("64:ff9b::c612:ff", PX_ADDR_NAT64);
	ASSERT6("64:ff9b::a00:1", PX_ADDR_NAT64);
	ASSERT6("64:ff9b::b00:1", PX_ADDR_OK);
	ASSERT6("2002:c612:2::", PX_ADDR_6TO4);
	ASSERT6("2002:aff:ffff::", PX_ADDR_6TO4);
	ASSERT6("2001:0:a00:1::39ed:fcfe", PX_ADDR_TEREDO);
	ASSERT6("2001:0:c612:301::39ed:fffd", PX_ADDR_TEREDO); /* client 198.18.0.2 */
	/* Loopback allowed (a lab): an embedded loopback passes with it. */
	pol.allow_loopback = true;
	ASSERT6("64:ff9b::7f00:1", PX_ADDR_OK);
}
END_TEST

START_TEST(test_px_addr_policy_add_v4)
{
	ck_assert_int_eq(px_addr_policy_add(&pol, "192.0.2.0/24"), 0);
	ck_assert_int_eq(px_addr_policy_add(&pol, "10.0.0.0/8"), 0);
	ck_assert_int_eq(px_addr_policy_add(&pol, "198.51.100.64/26"), 0);
	ck_assert_int_eq(px_addr_policy_add(&pol, "203.0.113.7"), 0);
	ck_assert_int_eq(px_addr_policy_add(&pol, "100.64.0.1/32"), 0);
	ck_assert_uint_eq(pol.net4_count, 5);
	ck_assert_uint_eq(pol.net6_count, 0);
	ASSERT4("192.0.1.255", PX_ADDR_OK);
	ASSERT4("192.0.2.0", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("192.0.2.255", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("192.0.3.0", PX_ADDR_OK);
	ASSERT4("9.255.255.255", PX_ADDR_OK);
	ASSERT4("10.0.0.0", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("10.255.255.255", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("11.0.0.0", PX_ADDR_OK);
	ASSERT4("198.51.100.63", PX_ADDR_OK);
	ASSERT4("198.51.100.64", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("198.51.100.127", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("198.51.100.128", PX_ADDR_OK);
	ASSERT4("203.0.113.6", PX_ADDR_OK);
	ASSERT4("203.0.113.7", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("203.0.113.8", PX_ADDR_OK);
	ASSERT4("100.64.0.1", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("100.64.0.2", PX_ADDR_OK);
	/* A default reason wins over an operator's block that also holds the address. */
	ck_assert_int_eq(px_addr_policy_add(&pol, "127.0.0.0/8"), 0);
	ASSERT4("127.0.0.1", PX_ADDR_LOOPBACK);
	/* IPv4 blocks do not touch IPv6. */
	ASSERT6("::ffff:192.0.2.1", PX_ADDR_V4MAPPED);
	ASSERT6("2001:db8::1", PX_ADDR_OK);
}
END_TEST

START_TEST(test_px_addr_policy_add_v4_whole)
{
	/* /0 takes everything the defaults left. */
	ck_assert_int_eq(px_addr_policy_add(&pol, "0.0.0.0/0"), 0);
	ASSERT4("1.0.0.0", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("223.255.255.255", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("0.0.0.0", PX_ADDR_UNSPECIFIED);
}
END_TEST

START_TEST(test_px_addr_policy_add_v6)
{
	ck_assert_int_eq(px_addr_policy_add(&pol, "2001:db8::/32"), 0);
	ck_assert_int_eq(px_addr_policy_add(&pol, "2001:500:2f::/48"), 0);
	ck_assert_int_eq(px_addr_policy_add(&pol, "fc00::/7"), 0);
	ck_assert_int_eq(px_addr_policy_add(&pol, "2620:0:ccc::2"), 0);
	ck_assert_int_eq(px_addr_policy_add(&pol, "2001:7fe::/33"), 0);
	ck_assert_uint_eq(pol.net6_count, 5);
	ck_assert_uint_eq(pol.net4_count, 0);
	ASSERT6("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_OK);
	ASSERT6("2001:db8::", PX_ADDR_DO_NOT_QUERY);
	ASSERT6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_DO_NOT_QUERY);
	ASSERT6("2001:db9::", PX_ADDR_OK);
	ASSERT6("2001:500:2e:ffff:ffff:ffff:ffff:ffff", PX_ADDR_OK);
	ASSERT6("2001:500:2f::f", PX_ADDR_DO_NOT_QUERY);
	ASSERT6("2001:500:30::", PX_ADDR_OK);
	/* /7: fc00:: and fd00:: both, fe00:: not */
	ASSERT6("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_OK);
	ASSERT6("fc00::", PX_ADDR_DO_NOT_QUERY);
	ASSERT6("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_DO_NOT_QUERY);
	ASSERT6("fe00::", PX_ADDR_OK);
	ASSERT6("2620:0:ccc::1", PX_ADDR_OK);
	ASSERT6("2620:0:ccc::2", PX_ADDR_DO_NOT_QUERY);
	ASSERT6("2620:0:ccc::3", PX_ADDR_OK);
	/* /33: a prefix that ends inside a byte */
	ASSERT6("2001:7fe::53", PX_ADDR_DO_NOT_QUERY);
	ASSERT6("2001:7fe:7fff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_DO_NOT_QUERY);
	ASSERT6("2001:7fe:8000::", PX_ADDR_OK);
	ASSERT6("2001:7fd:ffff:ffff:ffff:ffff:ffff:ffff", PX_ADDR_OK);
	/* IPv6 blocks do not touch IPv4. */
	ASSERT4("192.0.2.1", PX_ADDR_OK);
}
END_TEST

START_TEST(test_px_addr_policy_add_malformed)
{
	static const char *const bad[] = {
		"",
		"/24",
		"garbage",
		"192.0.2.0/",
		"192.0.2.0/33",
		"192.0.2.0/-1",
		"192.0.2.0/+8",
		"192.0.2.0/24x",
		"192.0.2.0/ 24",
		"192.0.2.1/24",     /* host bits set */
		"11.0.0.0/7",       /* host bits set */
		"192.0.2",
		"192.0.2.256",
		"192.0.2.0/24/8",
		"2001:db8::/129",
		"2001:db8::1/64",   /* host bits set */
		"2001:7fe:4000::/33", /* host bits set */
		"2001:db8:::/32",
		"::g",
		"2001:db8::/",
		"fe80::1%eth0",
		"192.0.2.0/024",    /* leading zero: a typo more likely than a /24 */
		"2001:db8::/032",
		"1111111111111111111111111111111111111111111111111111111111111111111111.0.0.0",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(px_addr_policy_add(&pol, bad[i]) == -EINVAL, "\"%s\" accepted",
			      bad[i]);
	ck_assert_uint_eq(pol.net4_count, 0);
	ck_assert_uint_eq(pol.net6_count, 0);
}
END_TEST

START_TEST(test_px_addr_policy_add_full)
{
	char buf[64];

	for (unsigned i = 0; i < PX_ADDR_MAX_NETS; i++) {
		snprintf(buf, sizeof(buf), "10.%u.0.0/16", i);
		ck_assert_int_eq(px_addr_policy_add(&pol, buf), 0);
		snprintf(buf, sizeof(buf), "2001:db8:%x::/48", i);
		ck_assert_int_eq(px_addr_policy_add(&pol, buf), 0);
	}
	ck_assert_int_eq(px_addr_policy_add(&pol, "192.0.2.0/24"), -ENOSPC);
	ck_assert_int_eq(px_addr_policy_add(&pol, "2001:db9::/32"), -ENOSPC);
	/* Malformed is still -EINVAL when full. */
	ck_assert_int_eq(px_addr_policy_add(&pol, "192.0.2.1/24"), -EINVAL);
	ck_assert_uint_eq(pol.net4_count, PX_ADDR_MAX_NETS);
	ck_assert_uint_eq(pol.net6_count, PX_ADDR_MAX_NETS);
	ASSERT4("10.63.255.255", PX_ADDR_DO_NOT_QUERY);
	ASSERT4("10.64.0.0", PX_ADDR_OK);
	ASSERT4("192.0.2.1", PX_ADDR_OK);
	ASSERT6("2001:db8:3f::1", PX_ADDR_DO_NOT_QUERY);
	ASSERT6("2001:db8:40::1", PX_ADDR_OK);
}
END_TEST

START_TEST(test_px_addr_policy_init_clears)
{
	ck_assert_int_eq(px_addr_policy_add(&pol, "192.0.2.0/24"), 0);
	pol.allow_loopback = true;
	px_addr_policy_init(&pol);
	ck_assert(!pol.allow_loopback);
	ck_assert_uint_eq(pol.net4_count, 0);
	ASSERT4("192.0.2.1", PX_ADDR_OK);
	ASSERT4("127.0.0.1", PX_ADDR_LOOPBACK);
}
END_TEST

START_TEST(test_px_addr_reason_names)
{
	static const char *const want[PX_ADDR_REASON_COUNT] = {
		"ok",        "unspecified", "loopback",   "broadcast",   "multicast",
		"reserved",  "v4mapped",    "v4compat",   "link_local",  "self",
		"subnet_broadcast", "nat64", "6to4",      "teredo",      "do_not_query",
	};
	static const char *const entries[PX_ADDR_ENTRY_COUNT] = {"hints", "glue", "ns_addr",
								  "send"};

	for (int r = 0; r < PX_ADDR_REASON_COUNT; r++)
		ck_assert_str_eq(px_addr_reason_name((enum px_addr_reason)r), want[r]);
	ck_assert_str_eq(px_addr_reason_name(PX_ADDR_REASON_COUNT), "invalid");
	ck_assert_str_eq(px_addr_reason_name((enum px_addr_reason)-1), "invalid");
	for (int e = 0; e < PX_ADDR_ENTRY_COUNT; e++)
		ck_assert_str_eq(px_addr_entry_name((enum px_addr_entry)e), entries[e]);
	ck_assert_str_eq(px_addr_entry_name(PX_ADDR_ENTRY_COUNT), "invalid");
	ck_assert_str_eq(px_addr_entry_name((enum px_addr_entry)-1), "invalid");
}
END_TEST

/* The address type: IPv4 in the first four bytes with the rest zero, the port beside it in host
 * order, and equality with and without the port. */
START_TEST(test_px_addr_helpers)
{
	static const uint8_t zero[12];
	struct px_addr x, y;
	uint8_t v6[16];
	uint32_t v4;

	ck_assert_uint_eq(sizeof(struct px_addr), 20);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", &v4), 1);
	memset(&x, 0xa5, sizeof(x));
	px_addr_set4(&x, v4, 53);
	ck_assert_uint_eq(x.family, PX_AF_INET);
	ck_assert_uint_eq(x.zero, 0);
	ck_assert_uint_eq(x.port, 53);
	ck_assert_mem_eq(x.a, "\xc0\x00\x02\x01", 4);
	ck_assert_mem_eq(x.a + 4, zero, 12);
	ck_assert_uint_eq(px_addr_v4(&x), v4);
	ck_assert_uint_eq(px_addr_len(x.family), 4);

	/* Only the family's bytes count; the port counts only for px_addr_eq_port. */
	y = x;
	y.a[15] = 1;
	y.port = 5353;
	ck_assert(px_addr_eq(&x, &y));
	ck_assert(!px_addr_eq_port(&x, &y));
	y.port = 53;
	ck_assert(px_addr_eq_port(&x, &y));
	y.a[3] = 2;
	ck_assert(!px_addr_eq(&x, &y));

	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", v6), 1);
	px_addr_set6(&y, v6, 0);
	ck_assert_uint_eq(y.family, PX_AF_INET6);
	ck_assert_uint_eq(px_addr_len(y.family), 16);
	ck_assert_mem_eq(y.a, v6, 16);
	/* The same bytes under the other family are another address. */
	memcpy(x.a, v6, 16);
	ck_assert(!px_addr_eq(&x, &y));

	px_addr_set(&x, 6, v6, 7);
	ck_assert(px_addr_eq(&x, &y));
	ck_assert_uint_eq(x.port, 7);
	px_addr_set(&x, 4, (const uint8_t *)&v4, 0);
	ck_assert_uint_eq(px_addr_v4(&x), v4);
	ck_assert_mem_eq(x.a + 4, zero, 12);
	px_addr_set(&x, 5, v6, 7);
	ck_assert_uint_eq(x.family, PX_AF_NONE);
	ck_assert_uint_eq(x.port, 0);
	ck_assert_uint_eq(px_addr_len(x.family), 0);
	/* An address of no family (nothing was set) equals nothing, not even another such or
	 * itself: an unset server or peer never matches one. */
	memset(&y, 0, sizeof(y));
	ck_assert(!px_addr_eq(&x, &y));
	ck_assert(!px_addr_eq(&y, &y));
	ck_assert(!px_addr_eq_port(&y, &y));
}
END_TEST

/* px_addr_check() is check4 or check6 by the family, and no family is unspecified. */
START_TEST(test_px_addr_check_by_family)
{
	struct px_addr x;
	uint8_t v6[16];
	uint32_t v4;

	ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.1", &v4), 1);
	px_addr_set4(&x, v4, 53);
	ck_assert_int_eq(px_addr_check(&pol, &x), PX_ADDR_LOOPBACK);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", &v4), 1);
	px_addr_set4(&x, v4, 53);
	ck_assert_int_eq(px_addr_check(&pol, &x), PX_ADDR_OK);
	ck_assert_int_eq(inet_pton(AF_INET6, "ff02::1", v6), 1);
	px_addr_set6(&x, v6, 0);
	ck_assert_int_eq(px_addr_check(&pol, &x), PX_ADDR_MULTICAST);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", v6), 1);
	px_addr_set6(&x, v6, 0);
	ck_assert_int_eq(px_addr_check(&pol, &x), PX_ADDR_OK);
	/* The first four bytes of 2001:db8:: read as IPv4 (32.1.13.184) would pass too; a
	 * multicast IPv4 prefix shows the family is what picks the check. */
	ck_assert_int_eq(inet_pton(AF_INET6, "e000::1", v6), 1);
	px_addr_set6(&x, v6, 0);
	ck_assert_int_eq(px_addr_check(&pol, &x), PX_ADDR_OK);
	x.family = PX_AF_INET;
	ck_assert_int_eq(px_addr_check(&pol, &x), PX_ADDR_MULTICAST);
	x.family = PX_AF_NONE;
	ck_assert_int_eq(px_addr_check(&pol, &x), PX_ADDR_UNSPECIFIED);
}
END_TEST

#define ADD_CASE(s, name, test)                                                                  \
	do {                                                                                     \
		TCase *tc = tcase_create(name);                                                  \
		tcase_add_checked_fixture(tc, setup, NULL);                                      \
		tcase_add_test(tc, test);                                                        \
		suite_add_tcase(s, tc);                                                          \
	} while (0)

Suite *addr_policy_suite(void);

Suite *
addr_policy_suite(void)
{
	Suite *s = suite_create("addr_policy");

	ADD_CASE(s, "defaults_v4", test_px_addr_check4_defaults);
	ADD_CASE(s, "defaults_v6", test_px_addr_check6_defaults);
	ADD_CASE(s, "allow_loopback", test_px_addr_check_allow_loopback);
	ADD_CASE(s, "link_local_v4", test_px_addr_check4_link_local);
	ADD_CASE(s, "self_v4", test_px_addr_check4_self);
	ADD_CASE(s, "self_v6", test_px_addr_check6_self);
	ADD_CASE(s, "nat64", test_px_addr_check6_nat64);
	ADD_CASE(s, "6to4", test_px_addr_check6_6to4);
	ADD_CASE(s, "teredo", test_px_addr_check6_teredo);
	ADD_CASE(s, "embedded_policy", test_px_addr_check6_embedded_policy);
	ADD_CASE(s, "add_v4", test_px_addr_policy_add_v4);
	ADD_CASE(s, "add_v4_whole", test_px_addr_policy_add_v4_whole);
	ADD_CASE(s, "add_v6", test_px_addr_policy_add_v6);
	ADD_CASE(s, "add_malformed", test_px_addr_policy_add_malformed);
	ADD_CASE(s, "add_full", test_px_addr_policy_add_full);
	ADD_CASE(s, "init_clears", test_px_addr_policy_init_clears);
	ADD_CASE(s, "names", test_px_addr_reason_names);
	ADD_CASE(s, "addr_helpers", test_px_addr_helpers);
	ADD_CASE(s, "check_by_family", test_px_addr_check_by_family);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(addr_policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
