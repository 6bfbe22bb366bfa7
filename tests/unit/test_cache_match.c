/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which keys a flush matches (pollux/cache_match.h): one name, one name and type, a zone and
 * everything below it on label boundaries, everything; case ignored; malformed names refused.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include <pollux/cache_match.h>

#include "testlib.h"

struct name {
	uint8_t w[PX_DNS_NAME_BUF];
	unsigned len;
};

static struct name
N(const char *s)
{
	struct name n;

	n.len = px_test_name(n.w, s);
	ck_assert_uint_gt(n.len, 0);
	return n;
}

static bool
below(const char *name, const char *zone)
{
	struct name a = N(name), b = N(zone);

	return px_name_at_or_below(a.w, a.len, b.w, b.len);
}

START_TEST(test_px_name_labels)
{
	static const uint8_t bad_len[] = {3, 'w', 'w', 0};      /* label runs past the end */
	static const uint8_t trailing[] = {1, 'a', 0, 0};       /* bytes after the root */
	static const uint8_t no_root[] = {1, 'a'};
	static const uint8_t long_label[] = {64};
	struct name n = N("www.example.com");

	ck_assert_int_eq(px_name_labels(n.w, n.len), 3);
	n = N(".");
	ck_assert_int_eq(px_name_labels(n.w, n.len), 0);
	ck_assert_int_eq(px_name_labels(bad_len, sizeof(bad_len)), -1);
	ck_assert_int_eq(px_name_labels(trailing, sizeof(trailing)), -1);
	ck_assert_int_eq(px_name_labels(no_root, sizeof(no_root)), -1);
	ck_assert_int_eq(px_name_labels(long_label, sizeof(long_label)), -1);
	ck_assert_int_eq(px_name_labels(n.w, 0), -1);
}
END_TEST

START_TEST(test_px_name_at_or_below_label_boundaries)
{
	ck_assert(below("example.com", "example.com"));
	ck_assert(below("www.example.com", "example.com"));
	ck_assert(below("a.b.c.example.com", "example.com"));
	ck_assert(!below("badexample.com", "example.com"));
	ck_assert(!below("www.badexample.com", "example.com"));
	ck_assert(!below("example.com", "www.example.com"));
	ck_assert(!below("example.org", "example.com"));
	ck_assert(!below("com", "example.com"));
	ck_assert(below("anything.at.all", "."));
	ck_assert(below(".", "."));
	ck_assert(below("WWW.Example.COM", "example.com"));
	ck_assert(below("www.example.com", "EXAMPLE.com"));
}
END_TEST

START_TEST(test_px_name_at_or_below_escaped_label)
{
	/* One label "bad.example" then "com": its bytes end in "example\3com" but the label
	 * boundary before "example" is not one. */
	static const uint8_t name[] = {11, 'b', 'a', 'd', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				       3, 'c', 'o', 'm', 0};
	struct name zone = N("example.com");

	ck_assert(!px_name_at_or_below(name, sizeof(name), zone.w, zone.len));
}
END_TEST

START_TEST(test_px_flush_spec_init_refuses)
{
	struct px_flush_spec s;
	struct name n = N("example.com");
	static const uint8_t bad[] = {5, 'a', 0};

	ck_assert_int_eq(px_flush_spec_init(&s, PX_FLUSH_NAME, bad, sizeof(bad), -1), -EINVAL);
	ck_assert_int_eq(px_flush_spec_init(&s, PX_FLUSH_ZONE, n.w, n.len, 1), -EINVAL);
	ck_assert_int_eq(px_flush_spec_init(&s, PX_FLUSH_NAME, n.w, n.len, 70000), -EINVAL);
	ck_assert_int_eq(px_flush_spec_init(&s, (enum px_flush_scope)7, n.w, n.len, -1), -EINVAL);
	ck_assert_int_eq(px_flush_spec_init(&s, PX_FLUSH_ALL, NULL, 0, -1), 0);
}
END_TEST

static bool
match(const struct px_flush_spec *s, const char *name, uint16_t qtype)
{
	struct name n = N(name);

	return px_flush_match(s, n.w, (uint8_t)n.len, qtype);
}

START_TEST(test_px_flush_match_name)
{
	struct px_flush_spec s;
	struct name n = N("WWW.example.com");

	ck_assert_int_eq(px_flush_spec_init(&s, PX_FLUSH_NAME, n.w, n.len, PX_FLUSH_ANY_TYPE), 0);
	ck_assert(match(&s, "www.example.com", 1));
	ck_assert(match(&s, "www.example.com", 28));
	ck_assert(match(&s, "www.EXAMPLE.com", 2));
	ck_assert(!match(&s, "a.www.example.com", 1));
	ck_assert(!match(&s, "example.com", 1));
	ck_assert_int_eq(px_flush_spec_init(&s, PX_FLUSH_NAME, n.w, n.len, 28), 0);
	ck_assert(match(&s, "www.example.com", 28));
	ck_assert(!match(&s, "www.example.com", 1));
}
END_TEST

START_TEST(test_px_flush_match_zone_and_all)
{
	struct px_flush_spec s;
	struct name n = N("example.com");

	ck_assert_int_eq(px_flush_spec_init(&s, PX_FLUSH_ZONE, n.w, n.len, PX_FLUSH_ANY_TYPE), 0);
	ck_assert(match(&s, "example.com", 2));
	ck_assert(match(&s, "deep.www.example.com", 1));
	ck_assert(!match(&s, "badexample.com", 1));
	ck_assert(!match(&s, "com", 2));
	ck_assert_int_eq(px_flush_spec_init(&s, PX_FLUSH_ALL, NULL, 0, PX_FLUSH_ANY_TYPE), 0);
	ck_assert(match(&s, "badexample.com", 1));
	ck_assert(match(&s, ".", 2));
}
END_TEST

static Suite *
cache_match_suite(void)
{
	Suite *s = suite_create("cache_match");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_px_name_labels);
	tcase_add_test(tc, test_px_name_at_or_below_label_boundaries);
	tcase_add_test(tc, test_px_name_at_or_below_escaped_label);
	suite_add_tcase(s, tc);
	tc = tcase_create("spec");
	tcase_add_test(tc, test_px_flush_spec_init_refuses);
	tcase_add_test(tc, test_px_flush_match_name);
	tcase_add_test(tc, test_px_flush_match_zone_and_all);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cache_match_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
