/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sd_notify sender: datagrams reach a socket the test binds, at a path and in the abstract
 * namespace; bad $NOTIFY_SOCKET values are refused and leave a sender that sends nothing; a
 * manager that does not read never blocks a send; and $WATCHDOG_USEC / $WATCHDOG_PID parsing.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "ctl_notify.h"

/* Binds a datagram socket to name: a path, or "@name" for the abstract namespace. */
static int
listener(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	ck_assert_int_eq(ctl_notify_parse_addr(name, &sun, &len, NULL, 0), 0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sun, len) == 0, "bind %s: %s", name,
		      strerror(errno));
	return fd;
}

/* The next datagram on fd within 1 s, NUL-terminated in buf; "" when none came. */
static const char *
receive(int fd, char *buf, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	buf[0] = '\0';
	if (poll(&p, 1, 1000) != 1)
		return buf;
	n = recv(fd, buf, cap - 1, 0);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

static char tmpdir[64];

static void
make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pollux-notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

START_TEST(test_ctl_notify_path_socket)
{
	struct ctl_notify n;
	char path[128], buf[256], why[128];
	int fd;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/notify", tmpdir);
	fd = listener(path);
	ck_assert_int_eq(ctl_notify_open(&n, path, why, sizeof(why)), 0);
	ck_assert(ctl_notify_enabled(&n));
	ck_assert_int_eq(ctl_notify_send(&n, "READY=1\nSTATUS=serving"), 0);
	ck_assert_str_eq(receive(fd, buf, sizeof(buf)), "READY=1\nSTATUS=serving");
	ck_assert_int_eq(ctl_notify_sendf(&n, "WATCHDOG=%d", 1), 0);
	ck_assert_str_eq(receive(fd, buf, sizeof(buf)), "WATCHDOG=1");
	ck_assert_int_eq(ctl_notify_send(&n, "STOPPING=1"), 0);
	ck_assert_str_eq(receive(fd, buf, sizeof(buf)), "STOPPING=1");
	ck_assert_uint_eq(n.sent, 3);
	ck_assert_uint_eq(n.failed, 0);
	ctl_notify_close(&n);
	close(fd);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_ctl_notify_abstract_socket)
{
	struct ctl_notify n;
	char name[64], buf[256];
	int fd;

	snprintf(name, sizeof(name), "@pollux-test-notify-%d", (int)getpid());
	fd = listener(name);
	ck_assert_int_eq(ctl_notify_open(&n, name, NULL, 0), 0);
	ck_assert_int_eq(ctl_notify_send(&n, "READY=1"), 0);
	ck_assert_str_eq(receive(fd, buf, sizeof(buf)), "READY=1");
	/* The abstract name has no terminator: a socket bound to a longer name gets nothing. */
	ck_assert_uint_eq(n.addr_len, offsetof(struct sockaddr_un, sun_path) + strlen(name));
	ctl_notify_close(&n);
	close(fd);
}
END_TEST

START_TEST(test_ctl_notify_unset_sends_nothing)
{
	struct ctl_notify n;
	char why[128] = "x";

	ck_assert_int_eq(ctl_notify_open(&n, NULL, why, sizeof(why)), 0);
	ck_assert(!ctl_notify_enabled(&n));
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(ctl_notify_send(&n, "READY=1"), 0);
	ck_assert_uint_eq(n.sent + n.failed, 0);
	ctl_notify_close(&n);
}
END_TEST

START_TEST(test_ctl_notify_bad_values_ignored)
{
	char long_path[200], long_abstract[200];
	const char *bad[] = {
		"", "notify", "run/systemd/notify", "@", "vsock:2:1234", " /run/notify",
		long_path, long_abstract,
	};

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	memset(long_abstract, 'a', sizeof(long_abstract) - 1);
	long_abstract[0] = '@';
	long_abstract[sizeof(long_abstract) - 1] = '\0';
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctl_notify n;
		char why[128] = "";

		ck_assert_msg(ctl_notify_open(&n, bad[i], why, sizeof(why)) == -EINVAL,
			      "'%s' accepted", bad[i]);
		ck_assert_msg(why[0] != '\0', "'%s': no reason given", bad[i]);
		ck_assert(!ctl_notify_enabled(&n));
		ck_assert_int_eq(ctl_notify_send(&n, "READY=1"), 0);
		ck_assert_uint_eq(n.sent + n.failed, 0);
		ctl_notify_close(&n);
	}
}
END_TEST

START_TEST(test_ctl_notify_limits)
{
	struct sockaddr_un sun;
	socklen_t len;
	char path[sizeof(sun.sun_path) + 1], abstract[sizeof(sun.sun_path) + 2];

	/* A path takes sun_path less its NUL; an abstract name all of it, the '@' becoming
	 * the leading NUL. */
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[sizeof(sun.sun_path) - 1] = '\0';
	ck_assert_int_eq(ctl_notify_parse_addr(path, &sun, &len, NULL, 0), 0);
	path[sizeof(sun.sun_path) - 1] = 'p';
	path[sizeof(sun.sun_path)] = '\0';
	ck_assert_int_eq(ctl_notify_parse_addr(path, &sun, &len, NULL, 0), -EINVAL);
	memset(abstract, 'a', sizeof(abstract));
	abstract[0] = '@';
	abstract[sizeof(sun.sun_path)] = '\0';
	ck_assert_int_eq(ctl_notify_parse_addr(abstract, &sun, &len, NULL, 0), 0);
	ck_assert_uint_eq(len, sizeof(sun));
	ck_assert_int_eq(sun.sun_path[0], '\0');
	abstract[sizeof(sun.sun_path)] = 'a';
	abstract[sizeof(sun.sun_path) + 1] = '\0';
	ck_assert_int_eq(ctl_notify_parse_addr(abstract, &sun, &len, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(test_ctl_notify_no_listener_counted)
{
	struct ctl_notify n;
	char path[128];

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/nobody", tmpdir);
	ck_assert_int_eq(ctl_notify_open(&n, path, NULL, 0), 0);
	ck_assert_int_lt(ctl_notify_send(&n, "READY=1"), 0);
	ck_assert_uint_eq(n.failed, 1);
	ck_assert_int_eq(n.last_error, ENOENT);
	ctl_notify_close(&n);
	rmdir(tmpdir);
}
END_TEST

/* A manager that never reads: the queue fills, and every later send fails at once. */
START_TEST(test_ctl_notify_never_blocks)
{
	struct ctl_notify n;
	struct timespec t0, t1;
	char path[128];
	int fd, refused = 0;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/full", tmpdir);
	fd = listener(path);
	ck_assert_int_eq(ctl_notify_open(&n, path, NULL, 0), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 5000; i++)
		if (ctl_notify_send(&n, "WATCHDOG=1") == -EAGAIN)
			refused++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_gt(refused, 0);
	ck_assert_uint_eq(n.failed, (uint64_t)refused);
	ck_assert_uint_eq(n.sent + n.failed, 5000);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
	ctl_notify_close(&n);
	close(fd);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_ctl_notify_sendf_too_long)
{
	struct ctl_notify n;
	char path[128], big[2000];
	int fd;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/big", tmpdir);
	fd = listener(path);
	ck_assert_int_eq(ctl_notify_open(&n, path, NULL, 0), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(ctl_notify_sendf(&n, "STATUS=%s", big), -EMSGSIZE);
	ck_assert_uint_eq(n.sent, 0);
	ctl_notify_close(&n);
	close(fd);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_ctl_notify_watchdog_usec)
{
	char why[128];

	ck_assert_uint_eq(ctl_notify_watchdog_usec("30000000", NULL, 42, why, sizeof(why)),
			  30000000);
	ck_assert_uint_eq(ctl_notify_watchdog_usec("30000000", "42", 42, why, sizeof(why)),
			  30000000);
	ck_assert_str_eq(why, "");
	/* Meant for another process: no watchdog, and nothing wrong. */
	ck_assert_uint_eq(ctl_notify_watchdog_usec("30000000", "43", 42, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	ck_assert_uint_eq(ctl_notify_watchdog_usec(NULL, "42", 42, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");

	const char *bad_usec[] = {"", "0", "-1", " 5", "5 ", "12abc", "0x10",
				  "99999999999999999999999"};

	for (unsigned i = 0; i < sizeof(bad_usec) / sizeof(bad_usec[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(ctl_notify_watchdog_usec(bad_usec[i], NULL, 42, why, sizeof(why)) == 0,
			      "'%s' accepted", bad_usec[i]);
		ck_assert_msg(strstr(why, "WATCHDOG_USEC") != NULL, "'%s': why '%s'", bad_usec[i],
			      why);
	}
	const char *bad_pid[] = {"", "0", "abc", "-42", "42x"};

	for (unsigned i = 0; i < sizeof(bad_pid) / sizeof(bad_pid[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(ctl_notify_watchdog_usec("1000000", bad_pid[i], 42, why, sizeof(why)) ==
				      0,
			      "pid '%s' accepted", bad_pid[i]);
		ck_assert_msg(strstr(why, "WATCHDOG_PID") != NULL, "'%s': why '%s'", bad_pid[i], why);
	}
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("send");

	tcase_add_test(tc, test_ctl_notify_path_socket);
	tcase_add_test(tc, test_ctl_notify_abstract_socket);
	tcase_add_test(tc, test_ctl_notify_unset_sends_nothing);
	tcase_add_test(tc, test_ctl_notify_no_listener_counted);
	tcase_add_test(tc, test_ctl_notify_never_blocks);
	tcase_add_test(tc, test_ctl_notify_sendf_too_long);
	suite_add_tcase(s, tc);
	tc = tcase_create("parse");
	tcase_add_test(tc, test_ctl_notify_bad_values_ignored);
	tcase_add_test(tc, test_ctl_notify_limits);
	tcase_add_test(tc, test_ctl_notify_watchdog_usec);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(notify_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
