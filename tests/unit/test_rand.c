/* SPDX-License-Identifier: BSD-3-Clause */
/* The per-worker ChaCha20 generator. Pure: no EAL. Statistical checks use fixed seeds, so they
 * are deterministic, and bounds loose enough that a correct generator passes with any seed. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <pollux/rand.h>

static struct px_rand rng;

static void
seed_with(struct px_rand *r, uint8_t fill)
{
	uint8_t seed[PX_RAND_KEY_LEN];

	memset(seed, fill, sizeof(seed));
	px_rand_init_seed(r, seed);
}

/* Pearson's chi-square statistic of counts against a uniform expectation. */
static double
chi_square(const uint32_t *count, unsigned buckets, uint32_t samples)
{
	double expect = (double)samples / buckets, chi = 0;

	for (unsigned i = 0; i < buckets; i++) {
		double d = count[i] - expect;

		chi += d * d / expect;
	}
	return chi;
}

/* RFC 8439 2.3.2. */
START_TEST(test_dp_chacha20_block_rfc8439)
{
	static const uint8_t nonce[12] = {0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0};
	static const uint8_t expect[64] = {
	    0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3,
	    0x20, 0x71, 0xc4, 0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22,
	    0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e, 0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa,
	    0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2, 0xb5, 0x12, 0x9c, 0xd1,
	    0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e,
	};
	uint8_t key[32], out[64];

	for (unsigned i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	dp_chacha20_block(out, key, 1, nonce);
	ck_assert_mem_eq(out, expect, 64);
}
END_TEST

/* RFC 8439 A.1 test vector #1: the all-zero key, nonce and counter. */
START_TEST(test_dp_chacha20_block_zero)
{
	static const uint8_t expect[16] = {
	    0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90,
	    0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28,
	};
	uint8_t key[32] = {0}, nonce[12] = {0}, out[64];

	dp_chacha20_block(out, key, 0, nonce);
	ck_assert_mem_eq(out, expect, 16);
}
END_TEST

/* Fast key erasure: the key changes at every refill, and the stream is not the raw block
 * function under the seed (its first 32 bytes became the next key and were never output). */
START_TEST(test_dp_rand_key_erasure)
{
	uint8_t seed[PX_RAND_KEY_LEN], block[64], key0[PX_RAND_KEY_LEN], out[32];
	static const uint8_t nonce[12];

	memset(seed, 7, sizeof(seed));
	px_rand_init_seed(&rng, seed);
	memcpy(key0, rng.key, sizeof(key0));
	px_rand_bytes(&rng, out, sizeof(out));
	ck_assert(memcmp(rng.key, key0, sizeof(key0)) != 0);
	dp_chacha20_block(block, seed, 0, nonce);
	ck_assert_mem_eq(rng.key, block, 32);
	ck_assert_mem_eq(out, block + 32, 32);
	/* Consumed output is wiped from the buffer. */
	for (unsigned i = 0; i < PX_RAND_KEY_LEN + 32; i++)
		ck_assert_uint_eq(rng.buf[i], 0);
}
END_TEST

START_TEST(test_dp_rand_seed_deterministic)
{
	struct px_rand a, b;

	seed_with(&a, 1);
	seed_with(&b, 1);
	for (unsigned i = 0; i < 10000; i++)
		ck_assert_uint_eq(px_rand_u32(&a), px_rand_u32(&b));
	seed_with(&b, 2);
	ck_assert_uint_ne(px_rand_u32(&a), px_rand_u32(&b));
}
END_TEST

START_TEST(test_dp_rand_init_generators_differ)
{
	struct px_rand a, b;
	uint32_t same = 0;

	ck_assert_int_eq(px_rand_init(&a), 0);
	ck_assert_int_eq(px_rand_init(&b), 0);
	ck_assert(memcmp(a.key, b.key, sizeof(a.key)) != 0);
	for (unsigned i = 0; i < 1000; i++)
		same += px_rand_u32(&a) == px_rand_u32(&b);
	ck_assert_uint_le(same, 2);
}
END_TEST

/* Bytes, words and refills interleave without repeating or skipping into used output. */
START_TEST(test_dp_rand_bytes_lengths)
{
	uint8_t buf[3000];
	uint32_t count[256] = {0};
	size_t total = 0;

	seed_with(&rng, 3);
	for (unsigned round = 0; round < 200; round++) {
		size_t len = (round * 37) % sizeof(buf);

		memset(buf, 0, sizeof(buf));
		px_rand_bytes(&rng, buf, len);
		for (size_t i = 0; i < len; i++)
			count[buf[i]]++;
		total += len;
		(void)px_rand_u32(&rng);
	}
	/* 255 degrees of freedom: mean 255, sd 22.6; 400 is over six sd. */
	ck_assert_double_lt(chi_square(count, 256, (uint32_t)total), 400);
}
END_TEST

START_TEST(test_dp_rand_u32_uniform)
{
	enum { N = 1 << 20 };
	static uint32_t lo[256], hi[256], mid[256];

	memset(lo, 0, sizeof(lo));
	memset(hi, 0, sizeof(hi));
	memset(mid, 0, sizeof(mid));
	seed_with(&rng, 4);
	for (unsigned i = 0; i < N; i++) {
		uint32_t v = px_rand_u32(&rng);

		lo[v & 0xff]++;
		mid[v >> 12 & 0xff]++;
		hi[v >> 24]++;
	}
	ck_assert_double_lt(chi_square(lo, 256, N), 400);
	ck_assert_double_lt(chi_square(mid, 256, N), 400);
	ck_assert_double_lt(chi_square(hi, 256, N), 400);
}
END_TEST

START_TEST(test_dp_rand_uniform_small_bounds)
{
	uint32_t count[10] = {0};

	seed_with(&rng, 5);
	for (unsigned i = 0; i < 1000; i++) {
		ck_assert_uint_eq(px_rand_uniform(&rng, 0), 0);
		ck_assert_uint_eq(px_rand_uniform(&rng, 1), 0);
	}
	for (unsigned i = 0; i < 100000; i++) {
		uint32_t v = px_rand_uniform(&rng, 10);

		ck_assert_uint_lt(v, 10);
		count[v]++;
	}
	/* 9 degrees of freedom: 50 is far in the tail (p < 1e-6). */
	ck_assert_double_lt(chi_square(count, 10, 100000), 50);
}
END_TEST

/*
 * Modulo reduction of a 32-bit value by 3 * 2^30 puts the first third of the range twice as
 * often as the rest (probability 1/2 instead of 1/3); Lemire's rejection must not. Likewise
 * at 2^31 + 1 the top value and the bottom must be equally likely.
 */
START_TEST(test_dp_rand_uniform_no_edge_bias)
{
	enum { N = 300000 };
	const uint32_t b1 = 3u << 30, b2 = (1u << 31) + 1;
	uint32_t low = 0, top = 0, bottom = 0;
	double p;

	seed_with(&rng, 6);
	for (unsigned i = 0; i < N; i++) {
		uint32_t v = px_rand_uniform(&rng, b1);

		ck_assert_uint_lt(v, b1);
		low += v < (1u << 30);
	}
	p = (double)low / N;
	/* sd of the proportion is 0.00086: 0.33 to 0.337 is about four sd either way. */
	ck_assert_double_gt(p, 0.33);
	ck_assert_double_lt(p, 0.337);

	for (unsigned i = 0; i < N; i++) {
		uint32_t v = px_rand_uniform(&rng, b2);

		ck_assert_uint_lt(v, b2);
		top += v >= b2 / 2;
		bottom += v < b2 / 2;
	}
	ck_assert_uint_gt(top, N / 2 - 2500);
	ck_assert_uint_gt(bottom, N / 2 - 2500);

	/* Both ends of a small range are reached. */
	for (uint32_t bound = 2; bound < 40; bound++) {
		bool seen_first = false, seen_last = false;

		for (unsigned i = 0; i < 2000 && !(seen_first && seen_last); i++) {
			uint32_t v = px_rand_uniform(&rng, bound);

			ck_assert_uint_lt(v, bound);
			seen_first |= v == 0;
			seen_last |= v == bound - 1;
		}
		ck_assert(seen_first && seen_last);
	}
	/* The largest bound. */
	for (unsigned i = 0; i < 1000; i++)
		ck_assert_uint_lt(px_rand_uniform(&rng, UINT32_MAX), UINT32_MAX);
}
END_TEST

START_TEST(test_dp_rand_maintain_reseeds)
{
	struct px_rand ref;
	uint32_t diff = 0;

	seed_with(&rng, 8);
	seed_with(&ref, 8);
	ck_assert_int_eq(px_rand_maintain(&rng, false), 0);
	for (unsigned i = 0; i < PX_RAND_RESEED_OUTPUTS - 1; i++) {
		(void)px_rand_u32(&rng);
		(void)px_rand_u32(&ref);
	}
	ck_assert_int_eq(px_rand_maintain(&rng, false), 0);
	(void)px_rand_u32(&rng);
	(void)px_rand_u32(&ref);
	ck_assert_int_eq(px_rand_maintain(&rng, false), 1);
	ck_assert_uint_eq(rng.reseeds, 1);
	ck_assert_uint_eq(rng.since_seed, 0);
	/* After the re-seed the stream departs from the one the seed alone determines. */
	for (unsigned i = 0; i < 100; i++)
		diff += px_rand_u32(&rng) != px_rand_u32(&ref);
	ck_assert_uint_ge(diff, 98);
	ck_assert_int_eq(px_rand_maintain(&rng, true), 1);
	ck_assert_uint_eq(rng.reseeds, 2);
}
END_TEST

#define ADD_CASE(s, name, test)                                                                    \
	do {                                                                                       \
		TCase *tc = tcase_create(name);                                                    \
		tcase_set_timeout(tc, 60);                                                         \
		tcase_add_test(tc, test);                                                          \
		suite_add_tcase(s, tc);                                                            \
	} while (0)

Suite *rand_suite(void);

Suite *
rand_suite(void)
{
	Suite *s = suite_create("rand");

	ADD_CASE(s, "chacha20_rfc8439", test_dp_chacha20_block_rfc8439);
	ADD_CASE(s, "chacha20_zero", test_dp_chacha20_block_zero);
	ADD_CASE(s, "key_erasure", test_dp_rand_key_erasure);
	ADD_CASE(s, "seed_deterministic", test_dp_rand_seed_deterministic);
	ADD_CASE(s, "generators_differ", test_dp_rand_init_generators_differ);
	ADD_CASE(s, "bytes_lengths", test_dp_rand_bytes_lengths);
	ADD_CASE(s, "u32_uniform", test_dp_rand_u32_uniform);
	ADD_CASE(s, "uniform_small_bounds", test_dp_rand_uniform_small_bounds);
	ADD_CASE(s, "uniform_no_edge_bias", test_dp_rand_uniform_no_edge_bias);
	ADD_CASE(s, "maintain_reseeds", test_dp_rand_maintain_reseeds);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rand_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
