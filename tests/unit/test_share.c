/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fair-share table (pollux/share.h): the cap per client, IPv6 clients counted by prefix, every
 * slot given back (no count leaks, entries removed at zero), a full probe run, and the churn
 * of many clients checked against a plain model. Pure: no EAL.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/share.h>

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t mem[1 << 16] __attribute__((aligned(8)));
static const uint8_t key_a[16] = "0123456789abcdef";
static const uint8_t key_b[16] = "fedcba9876543210";

static struct px_share *
table(uint32_t slots, uint32_t cap, uint8_t prefix6, const uint8_t *key)
{
	struct px_share *t;

	ck_assert_uint_le(px_share_memsize(slots), sizeof(mem));
	t = px_share_init(mem, slots, cap, prefix6, key);
	ck_assert_ptr_nonnull(t);
	return t;
}

static void
v4(uint8_t *a, const char *s)
{
	memset(a, 0, 16);
	ck_assert_int_eq(inet_pton(AF_INET, s, a), 1);
}

static void
v6(uint8_t *a, const char *s)
{
	ck_assert_int_eq(inet_pton(AF_INET6, s, a), 1);
}

START_TEST(test_share_cap_per_address)
{
	struct px_share *t = table(64, 3, 56, key_a);
	uint8_t a[16], b[16];

	v4(a, "198.18.0.10");
	v4(b, "198.18.0.11");
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_CAPPED);
	ck_assert_uint_eq(px_share_count(t, 4, a), 3);
	/* Another address is not touched by the first one's cap. */
	ck_assert_int_eq(px_share_take(t, 4, b), PX_SHARE_TAKEN);
	ck_assert_uint_eq(px_share_count(t, 4, b), 1);
	ck_assert_uint_eq(t->clients, 2);
	ck_assert_uint_eq(t->held, 4);
	/* One slot back: one more may be taken, and no more. */
	ck_assert_int_eq(px_share_put(t, 4, a), 0);
	ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_CAPPED);
	/* Everything back: the table is empty again and a put too many is refused. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(px_share_put(t, 4, a), 0);
	ck_assert_int_eq(px_share_put(t, 4, b), 0);
	ck_assert_int_eq(px_share_put(t, 4, a), -ENOENT);
	ck_assert_uint_eq(t->clients, 0);
	ck_assert_uint_eq(t->held, 0);
	ck_assert_uint_eq(px_share_count(t, 4, a), 0);
}
END_TEST

/* Only the family's bytes count for IPv4; a TCP tag and an IPv6 address with the same bytes
 * are other clients. */
START_TEST(test_share_families_apart)
{
	struct px_share *t = table(64, 1, 128, key_a);
	uint8_t a[16], junk[16];

	v4(a, "198.18.0.10");
	memcpy(junk, a, 16);
	memset(junk + 4, 0xee, 12);
	ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 4, junk), PX_SHARE_CAPPED);
	ck_assert_int_eq(px_share_take(t, 6, a), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 't', a), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 't', junk), PX_SHARE_TAKEN);
	ck_assert_uint_eq(t->clients, 4);
	/* Family 0 would look like a free bucket: never stored. */
	ck_assert_int_eq(px_share_take(t, 0, a), PX_SHARE_UNCOUNTED);
	ck_assert_uint_eq(t->clients, 4);
}
END_TEST

START_TEST(test_share_ipv6_prefix)
{
	struct px_share *t = table(64, 2, 56, key_a);
	uint8_t a[16], b[16], c[16];

	/* One /56: the addresses of a subscriber share its cap. */
	v6(a, "2001:2:0:1200::1");
	v6(b, "2001:2:0:12ff:ffff::2");
	v6(c, "2001:2:0:1300::1"); /* the next /56 */
	ck_assert_int_eq(px_share_take(t, 6, a), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 6, b), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 6, a), PX_SHARE_CAPPED);
	ck_assert_int_eq(px_share_take(t, 6, b), PX_SHARE_CAPPED);
	ck_assert_uint_eq(px_share_count(t, 6, b), 2);
	ck_assert_int_eq(px_share_take(t, 6, c), PX_SHARE_TAKEN);
	/* Given back through another address of the same prefix: the same client. */
	ck_assert_int_eq(px_share_put(t, 6, b), 0);
	ck_assert_int_eq(px_share_put(t, 6, b), 0);
	ck_assert_uint_eq(px_share_count(t, 6, a), 0);

	/* A prefix that is not a whole number of bytes: /60. */
	t = table(64, 1, 60, key_a);
	v6(a, "2001:2:0:1230::1");
	v6(b, "2001:2:0:123f::1");
	v6(c, "2001:2:0:1240::1");
	ck_assert_int_eq(px_share_take(t, 6, a), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 6, b), PX_SHARE_CAPPED);
	ck_assert_int_eq(px_share_take(t, 6, c), PX_SHARE_TAKEN);

	/* /128: every address is its own client. */
	t = table(64, 1, 128, key_a);
	v6(a, "2001:2::1");
	v6(b, "2001:2::2");
	ck_assert_int_eq(px_share_take(t, 6, a), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 6, b), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 6, a), PX_SHARE_CAPPED);
}
END_TEST

/* Cap 0: counted, never capped. */
START_TEST(test_share_no_cap)
{
	struct px_share *t = table(64, 0, 56, key_a);
	uint8_t a[16];

	v4(a, "198.18.0.10");
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_TAKEN);
	ck_assert_uint_eq(px_share_count(t, 4, a), 1000);
}
END_TEST

/* Where the table put a client's entry: its home bucket, or UINT32_MAX if it is not in. */
static uint32_t
home_of(const struct px_share *t, const uint8_t *a)
{
	for (uint32_t b = 0; b <= t->mask; b++)
		if (t->bucket[b].family == 4 && memcmp(t->bucket[b].addr, a, 4) == 0)
			return t->bucket[b].home;
	return UINT32_MAX;
}

static void
addr_n(uint8_t *a, unsigned n)
{
	v4(a, "198.18.0.0");
	a[2] = (uint8_t)(n >> 8);
	a[3] = (uint8_t)n;
}

/* A run with no free bucket within PX_SHARE_PROBE: the client is let in uncounted and nothing
 * changes; once the run shrinks, it is counted again. The test knows the key, so it can find
 * PX_SHARE_PROBE + 1 addresses with one home bucket, which an attacker without it cannot. */
START_TEST(test_share_table_full)
{
	struct px_share *t = table(64, 2, 56, key_a);
	unsigned same[PX_SHARE_PROBE + 1], found = 0;
	uint32_t home = UINT32_MAX;
	uint8_t a[16];

	for (unsigned n = 0; n < 65536 && found < DIM(same); n++) {
		uint32_t h;

		addr_n(a, n);
		ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_TAKEN);
		h = home_of(t, a);
		ck_assert_int_eq(px_share_put(t, 4, a), 0);
		if (home == UINT32_MAX)
			home = h;
		if (h == home)
			same[found++] = n;
	}
	ck_assert_uint_eq(found, DIM(same));
	ck_assert_uint_eq(t->clients, 0);
	for (unsigned i = 0; i < PX_SHARE_PROBE; i++) {
		addr_n(a, same[i]);
		ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_TAKEN);
	}
	addr_n(a, same[PX_SHARE_PROBE]);
	ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_UNCOUNTED);
	ck_assert_uint_eq(px_share_count(t, 4, a), 0);
	ck_assert_int_eq(px_share_put(t, 4, a), -ENOENT);
	ck_assert_uint_eq(t->held, PX_SHARE_PROBE);
	/* Those in the run are still found and capped, the last one too. */
	addr_n(a, same[PX_SHARE_PROBE - 1]);
	ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_TAKEN);
	ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_CAPPED);
	ck_assert_int_eq(px_share_put(t, 4, a), 0);
	/* The first leaves: the rest shift back, all still found, and the newcomer fits. */
	addr_n(a, same[0]);
	ck_assert_int_eq(px_share_put(t, 4, a), 0);
	for (unsigned i = 1; i < PX_SHARE_PROBE; i++) {
		addr_n(a, same[i]);
		ck_assert_uint_eq(px_share_count(t, 4, a), 1);
	}
	addr_n(a, same[PX_SHARE_PROBE]);
	ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_TAKEN);
	for (unsigned i = 1; i <= PX_SHARE_PROBE; i++) {
		addr_n(a, same[i]);
		ck_assert_int_eq(px_share_put(t, 4, a), 0);
	}
	ck_assert_uint_eq(t->clients, 0);
	ck_assert_uint_eq(t->held, 0);
}
END_TEST

/* Where a client lands depends on the secret key: two keys place the same addresses apart. */
START_TEST(test_share_keyed)
{
	uint32_t home_a[32], home_b[32];
	unsigned same = 0;
	uint8_t a[16];

	for (int k = 0; k < 2; k++) {
		struct px_share *t = table(1024, 4, 56, k == 0 ? key_a : key_b);

		for (unsigned i = 0; i < 32; i++) {
			v4(a, "198.18.3.0");
			a[3] = (uint8_t)i;
			ck_assert_int_eq(px_share_take(t, 4, a), PX_SHARE_TAKEN);
			(k == 0 ? home_a : home_b)[i] = home_of(t, a);
		}
	}
	for (unsigned i = 0; i < 32; i++)
		same += home_a[i] == home_b[i];
	ck_assert_uint_lt(same, 4);
}
END_TEST

/* Random takes and puts over many clients at high load, checked against a plain array after
 * every step: the backward shift of deletion never loses or duplicates a client. */
START_TEST(test_share_churn_model)
{
	enum { SLOTS = 64, CLIENTS = 160, CAPN = 3, STEPS = 40000 };
	struct px_share *t = table(SLOTS, CAPN, 56, key_b);
	uint32_t model[CLIENTS] = {0}, held = 0;
	uint8_t a[16];

	srandom(7);
	for (unsigned step = 0; step < STEPS; step++) {
		unsigned c = (unsigned)random() % CLIENTS;
		bool take = held < SLOTS && (random() & 1);

		v4(a, "198.18.4.0");
		a[2] = (uint8_t)(c >> 8);
		a[3] = (uint8_t)c;
		if (take) {
			enum px_share_verdict v = px_share_take(t, 4, a);

			if (model[c] == CAPN)
				ck_assert_int_eq(v, PX_SHARE_CAPPED);
			else if (v == PX_SHARE_TAKEN) {
				model[c]++;
				held++;
			} else {
				/* Only a new client can find its run full. */
				ck_assert_int_eq(v, PX_SHARE_UNCOUNTED);
				ck_assert_uint_eq(model[c], 0);
			}
		} else if (model[c] > 0) {
			ck_assert_int_eq(px_share_put(t, 4, a), 0);
			model[c]--;
			held--;
		} else {
			ck_assert_int_eq(px_share_put(t, 4, a), -ENOENT);
		}
		ck_assert_uint_eq(px_share_count(t, 4, a), model[c]);
		ck_assert_uint_eq(t->held, held);
	}
	for (unsigned c = 0; c < CLIENTS; c++) {
		v4(a, "198.18.4.0");
		a[2] = (uint8_t)(c >> 8);
		a[3] = (uint8_t)c;
		ck_assert_uint_eq(px_share_count(t, 4, a), model[c]);
		while (model[c]-- > 0)
			ck_assert_int_eq(px_share_put(t, 4, a), 0);
	}
	ck_assert_uint_eq(t->clients, 0);
	ck_assert_uint_eq(t->held, 0);
	for (uint32_t b = 0; b <= t->mask; b++)
		ck_assert_uint_eq(t->bucket[b].family, 0);
}
END_TEST

START_TEST(test_share_init_invalid)
{
	ck_assert_uint_eq(px_share_memsize(0), 0);
	ck_assert_uint_eq(px_share_memsize(PX_SHARE_MAX_SLOTS + 1), 0);
	ck_assert_ptr_null(px_share_init(mem, 0, 1, 56, key_a));
	ck_assert_ptr_null(px_share_init(mem, 8, 1, 0, key_a));
	ck_assert_ptr_null(px_share_init(mem, 8, 1, 129, key_a));
	ck_assert_ptr_null(px_share_init(mem, 8, 1, 56, NULL));
	ck_assert_ptr_null(px_share_init(mem + 1, 8, 1, 56, key_a));
}
END_TEST

static Suite *
share_suite(void)
{
	Suite *s = suite_create("share");
	TCase *tc = tcase_create("share");

	tcase_add_test(tc, test_share_cap_per_address);
	tcase_add_test(tc, test_share_families_apart);
	tcase_add_test(tc, test_share_ipv6_prefix);
	tcase_add_test(tc, test_share_no_cap);
	tcase_add_test(tc, test_share_table_full);
	tcase_add_test(tc, test_share_keyed);
	tcase_add_test(tc, test_share_churn_model);
	tcase_add_test(tc, test_share_init_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(share_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
