/* SPDX-License-Identifier: BSD-3-Clause */
/* SipHash against published vectors: key bytes 00..0f, message n = bytes 0, 1, ..., n-1. Pure. */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include <pollux/siphash.h>

static struct px_siphash_key
ref_key(void)
{
	uint8_t k[PX_SIPHASH_KEY_LEN];

	for (unsigned i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)i;
	return px_siphash_key_from(k);
}

static const uint8_t msg[64] = {
	0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
	22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
	44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

/* The SipHash paper's appendix A (15 bytes) and the reference implementation's first vector. */
START_TEST(test_px_siphash24_reference)
{
	struct px_siphash_key k = ref_key();

	ck_assert_uint_eq(px_siphash24(&k, msg, 0), 0x726fdb47dd0e0e31ull);
	ck_assert_uint_eq(px_siphash24(&k, msg, 15), 0xa129ca6149be45e5ull);
}
END_TEST

/* SipHash-1-3 vectors of the reference hasher behind Rust's RandomState, at every tail length
 * from 0 to 7, on block boundaries and past them. */
START_TEST(test_px_siphash13_reference)
{
	static const struct {
		size_t len;
		uint64_t h;
	} v[] = {
		{0, 0xabac0158050fc4dcull},  {1, 0xc9f49bf37d57ca93ull},
		{2, 0x82cb9b024dc7d44dull},  {3, 0x8bf80ab8e7ddf7fbull},
		{4, 0xcf75576088d38328ull},  {5, 0xdef9d52f49533b67ull},
		{6, 0xc50d2b50c59f22a7ull},  {7, 0xd3927d989bb11140ull},
		{8, 0x369095118d299a8eull},  {15, 0xd320d86d2a519956ull},
		{16, 0xcc4fdd1a7d908b66ull}, {63, 0x9d199062b7bbb3a8ull},
	};
	struct px_siphash_key k = ref_key();

	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_msg(px_siphash13(&k, msg, v[i].len) == v[i].h, "length %zu", v[i].len);
}
END_TEST

START_TEST(test_px_siphash13_key_matters)
{
	struct px_siphash_key k = ref_key(), k2 = k;

	k2.k0 ^= 1;
	ck_assert_uint_ne(px_siphash13(&k, msg, 11), px_siphash13(&k2, msg, 11));
	k2 = k;
	k2.k1 ^= 1ull << 63;
	ck_assert_uint_ne(px_siphash13(&k, msg, 11), px_siphash13(&k2, msg, 11));
}
END_TEST

/* The tail form equals the plain hash of the name and the tail concatenated, at every alignment
 * of the seam, on big-endian and little-endian hosts alike (tail is read little-endian). */
START_TEST(test_px_siphash13_tail_is_concatenation)
{
	struct px_siphash_key k = ref_key();
	const uint64_t tail = 0x8877665544332211ull;
	uint8_t cat[64 + 8];

	for (size_t len = 0; len <= 56; len++) {
		memcpy(cat, msg, len);
		for (unsigned i = 0; i < 8; i++)
			cat[len + i] = (uint8_t)(tail >> (8 * i));
		ck_assert_msg(px_siphash13_tail(&k, msg, len, tail) == px_siphash13(&k, cat, len + 8),
			      "length %zu", len);
	}
	ck_assert_uint_ne(px_siphash13_tail(&k, msg, 5, 1), px_siphash13_tail(&k, msg, 5, 2));
}
END_TEST

static Suite *
siphash_suite(void)
{
	Suite *s = suite_create("siphash");
	TCase *tc = tcase_create("vectors");

	tcase_add_test(tc, test_px_siphash24_reference);
	tcase_add_test(tc, test_px_siphash13_reference);
	tcase_add_test(tc, test_px_siphash13_key_matters);
	tcase_add_test(tc, test_px_siphash13_tail_is_concatenation);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(siphash_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
