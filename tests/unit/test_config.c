/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include <pollux/ctl_proto.h>

#include "ctl_config.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define MAX_TMP 8

static struct ctl_config cfg;
static char err[512];
static char tmp_paths[MAX_TMP][64];
static unsigned tmp_count;

static void
setup(void)
{
	ctl_config_init(&cfg);
	err[0] = '\0';
	tmp_count = 0;
}

static void
teardown(void)
{
	ctl_config_free(&cfg);
	for (unsigned i = 0; i < tmp_count; i++)
		unlink(tmp_paths[i]);
}

static int
parse_argv(const char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	err[0] = '\0';
	return ctl_config_parse_args(&cfg, argc, (char **)argv, err, sizeof(err));
}

/* PARSE("--ip", "10.0.0.1/24") parses as if pollux got "-- --ip 10.0.0.1/24". */
#define PARSE(...) parse_argv((const char *[]){ "pollux", __VA_ARGS__, NULL })

/* Writes content to a fresh file under /tmp, removed by the teardown. */
static const char *
write_tmp(const char *content, size_t len)
{
	char *path;
	int fd;

	ck_assert_uint_lt(tmp_count, MAX_TMP);
	path = tmp_paths[tmp_count++];
	snprintf(path, sizeof(tmp_paths[0]), "/tmp/pollux-test-config-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

#define WRITE_TMP(s) write_tmp((s), sizeof(s) - 1)

static int
parse_file(const char *path)
{
	err[0] = '\0';
	return ctl_config_parse_file(&cfg, path, err, sizeof(err));
}

static int
validate(void)
{
	err[0] = '\0';
	return ctl_config_validate(&cfg, err, sizeof(err));
}

static uint32_t
ip4(const char *s)
{
	uint32_t a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void
assert_ip6(const uint8_t *got, const char *s)
{
	uint8_t want[16];

	ck_assert_int_eq(inet_pton(AF_INET6, s, want), 1);
	ck_assert_mem_eq(got, want, 16);
}

START_TEST(test_ctl_config_init_defaults)
{
	ck_assert(!cfg.has_ip4 && !cfg.has_gw4 && !cfg.has_ip6 && !cfg.has_gw6);
	ck_assert_uint_eq(cfg.local_zone_count, 0);
	ck_assert_str_eq(cfg.control_path, PX_CTL_DEFAULT_PATH);
	ck_assert_ptr_null(cfg.config_file);
	ck_assert_uint_eq(cfg.idle_sleep_us, CTL_DEFAULT_IDLE_SLEEP_US);
	ck_assert_uint_eq(cfg.cache_size, CTL_DEFAULT_CACHE_SIZE);
	ck_assert_uint_eq(cfg.port_id, 0);
	ck_assert_uint_eq(cfg.mbufs, CTL_DEFAULT_MBUFS);
	ck_assert_uint_eq(cfg.rx_desc, CTL_DEFAULT_RX_DESC);
	ck_assert_uint_eq(cfg.tx_desc, CTL_DEFAULT_TX_DESC);
	ck_assert(!cfg.help);
}
END_TEST

START_TEST(test_ctl_config_parse_args_keeps_defaults)
{
	ck_assert_int_eq(PARSE("--ip", "192.0.2.53/24"), 0);
	ck_assert_str_eq(cfg.control_path, PX_CTL_DEFAULT_PATH);
	ck_assert_uint_eq(cfg.cache_size, CTL_DEFAULT_CACHE_SIZE);
	ck_assert_uint_eq(cfg.mbufs, CTL_DEFAULT_MBUFS);
	ck_assert_uint_eq(cfg.rx_desc, CTL_DEFAULT_RX_DESC);
	ck_assert_uint_eq(cfg.tx_desc, CTL_DEFAULT_TX_DESC);
	ck_assert_uint_eq(cfg.idle_sleep_us, 0);
	ck_assert_uint_eq(cfg.port_id, 0);
}
END_TEST

START_TEST(test_ctl_config_parse_args_no_options)
{
	ck_assert_int_eq(parse_argv((const char *[]){ "pollux", NULL }), 0);
	ck_assert(!cfg.has_ip4 && !cfg.has_ip6);
}
END_TEST

START_TEST(test_ctl_config_parse_args_ip4)
{
	ck_assert_int_eq(PARSE("--ip", "192.0.2.53/24", "--gateway", "192.0.2.1"), 0);
	ck_assert(cfg.has_ip4 && cfg.has_gw4);
	ck_assert_uint_eq(cfg.ip4, ip4("192.0.2.53"));
	ck_assert_uint_eq(cfg.ip4, htonl(0xc0000235));
	ck_assert_uint_eq(cfg.ip4_prefix, 24);
	ck_assert_uint_eq(cfg.gw4, ip4("192.0.2.1"));
	ck_assert_int_eq(PARSE("--ip=10.1.2.3/0"), 0);
	ck_assert_uint_eq(cfg.ip4_prefix, 0);
	ck_assert_int_eq(PARSE("--ip", "10.1.2.3/32"), 0);
	ck_assert_uint_eq(cfg.ip4_prefix, 32);
	ck_assert_uint_eq(cfg.ip4, ip4("10.1.2.3"));
}
END_TEST

START_TEST(test_ctl_config_parse_args_ip6)
{
	ck_assert_int_eq(PARSE("--ip6", "2001:db8::53/64", "--gateway6", "fe80::1"), 0);
	ck_assert(cfg.has_ip6 && cfg.has_gw6 && !cfg.has_ip4);
	assert_ip6(cfg.ip6, "2001:db8::53");
	ck_assert_uint_eq(cfg.ip6_prefix, 64);
	assert_ip6(cfg.gw6, "fe80::1");
	ck_assert_int_eq(PARSE("--ip6", "2001:db8::1/128"), 0);
	ck_assert_uint_eq(cfg.ip6_prefix, 128);
	ck_assert_int_eq(PARSE("--ip6", "::ffff:192.0.2.1/0"), 0);
	ck_assert_uint_eq(cfg.ip6_prefix, 0);
}
END_TEST

START_TEST(test_ctl_config_parse_args_numbers)
{
	ck_assert_int_eq(PARSE("--idle-sleep-us", "0", "--cache-size", "1", "--port", "0",
			       "--mbufs", "1023", "--rx-desc", "64", "--tx-desc", "64"), 0);
	ck_assert_uint_eq(cfg.idle_sleep_us, 0);
	ck_assert_uint_eq(cfg.cache_size, 1);
	ck_assert_uint_eq(cfg.port_id, 0);
	ck_assert_uint_eq(cfg.mbufs, 1023);
	ck_assert_uint_eq(cfg.rx_desc, 64);
	ck_assert_uint_eq(cfg.tx_desc, 64);
	ck_assert_int_eq(PARSE("--idle-sleep-us", "1000000", "--cache-size", "1073741824",
			       "--port", "65535", "--mbufs", "16777215", "--rx-desc", "16384",
			       "--tx-desc", "16384"), 0);
	ck_assert_uint_eq(cfg.idle_sleep_us, 1000000);
	ck_assert_uint_eq(cfg.cache_size, 1u << 30);
	ck_assert_uint_eq(cfg.port_id, 65535);
	ck_assert_uint_eq(cfg.mbufs, 16777215);
	ck_assert_uint_eq(cfg.rx_desc, 16384);
	ck_assert_uint_eq(cfg.tx_desc, 16384);
	/* Leading zeros are still decimal, not octal. */
	ck_assert_int_eq(PARSE("--port", "010", "--rx-desc=0512"), 0);
	ck_assert_uint_eq(cfg.port_id, 10);
	ck_assert_uint_eq(cfg.rx_desc, 512);
}
END_TEST

START_TEST(test_ctl_config_parse_args_paths)
{
	char longest[108];

	ck_assert_int_eq(PARSE("--local-zone", "/etc/pollux/a.zone", "--local-zone=b.zone",
			       "--control", "/tmp/x.sock"), 0);
	ck_assert_uint_eq(cfg.local_zone_count, 2);
	ck_assert_str_eq(cfg.local_zones[0], "/etc/pollux/a.zone");
	ck_assert_str_eq(cfg.local_zones[1], "b.zone");
	ck_assert_str_eq(cfg.control_path, "/tmp/x.sock");
	/* Repeating a single-valued option replaces it (and frees the old copy: see LSan). */
	ck_assert_int_eq(PARSE("--control", "/a", "--control", "/b", "--control", "/c"), 0);
	ck_assert_str_eq(cfg.control_path, "/c");
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	ck_assert_int_eq(PARSE("--control", longest), 0);
	ck_assert_str_eq(cfg.control_path, longest);
}
END_TEST

struct bad_value {
	const char *opt;
	const char *val;
	const char *msg; /* the whole expected message */
};

static const struct bad_value bad_values[] = {
	{ "--ip", "10.0.0.1/33", "--ip: '10.0.0.1/33': prefix length must be 0-32" },
	{ "--ip", "10.0.0.1", "--ip: '10.0.0.1': expected ADDR/LEN" },
	{ "--ip", "", "--ip: '': expected ADDR/LEN" },
	{ "--ip", "10.0.0.1/", "--ip: '10.0.0.1/': prefix length must be 0-32" },
	{ "--ip", "10.0.0.1/-1", "--ip: '10.0.0.1/-1': prefix length must be 0-32" },
	{ "--ip", "10.0.0.1/24x", "--ip: '10.0.0.1/24x': prefix length must be 0-32" },
	{ "--ip", "10.0.0.1/ 24", "--ip: '10.0.0.1/ 24': prefix length must be 0-32" },
	{ "--ip", "10.0.0.256/24", "--ip: '10.0.0.256/24': not an IPv4 address" },
	{ "--ip", "10.0.0/24", "--ip: '10.0.0/24': not an IPv4 address" },
	{ "--ip", "2001:db8::1/64", "--ip: '2001:db8::1/64': not an IPv4 address" },
	{ "--ip", "/24", "--ip: '/24': not an IPv4 address" },
	{ "--gateway", "10.0.0", "--gateway: '10.0.0': not an IPv4 address" },
	{ "--gateway", "10.0.0.1/24", "--gateway: '10.0.0.1/24': not an IPv4 address" },
	{ "--gateway", "gw", "--gateway: 'gw': not an IPv4 address" },
	{ "--ip6", "2001:db8::1/129", "--ip6: '2001:db8::1/129': prefix length must be 0-128" },
	{ "--ip6", "2001:db8::1", "--ip6: '2001:db8::1': expected ADDR/LEN" },
	{ "--ip6", "2001:db8::g/64", "--ip6: '2001:db8::g/64': not an IPv6 address" },
	{ "--ip6", "10.0.0.1/24", "--ip6: '10.0.0.1/24': not an IPv6 address" },
	{ "--gateway6", "fe80::1%eth0", "--gateway6: 'fe80::1%eth0': not an IPv6 address" },
	{ "--gateway6", "10.0.0.1", "--gateway6: '10.0.0.1': not an IPv6 address" },
	{ "--local-zone", "", "--local-zone: '': must not be empty" },
	{ "--control", "", "--control: '': must not be empty" },
	{ "--config", "", "--config: '': must not be empty" },
	{ "--idle-sleep-us", "1000001", "--idle-sleep-us: '1000001': must be 0-1000000" },
	{ "--idle-sleep-us", "-1", "--idle-sleep-us: '-1': not a decimal number" },
	{ "--idle-sleep-us", "+5", "--idle-sleep-us: '+5': not a decimal number" },
	{ "--idle-sleep-us", " 5", "--idle-sleep-us: ' 5': not a decimal number" },
	{ "--idle-sleep-us", "5 ", "--idle-sleep-us: '5 ': not a decimal number" },
	{ "--idle-sleep-us", "0x10", "--idle-sleep-us: '0x10': not a decimal number" },
	{ "--idle-sleep-us", "", "--idle-sleep-us: '': not a decimal number" },
	{ "--idle-sleep-us", "99999999999999999999999",
	  "--idle-sleep-us: '99999999999999999999999': must be 0-1000000" },
	{ "--cache-size", "0", "--cache-size: '0': must be 1-1073741824" },
	{ "--cache-size", "1073741825", "--cache-size: '1073741825': must be 1-1073741824" },
	{ "--cache-size", "1e6", "--cache-size: '1e6': not a decimal number" },
	{ "--port", "65536", "--port: '65536': must be 0-65535" },
	{ "--port", "eth0", "--port: 'eth0': not a decimal number" },
	{ "--mbufs", "1022", "--mbufs: '1022': must be 1023-16777215" },
	{ "--mbufs", "16777216", "--mbufs: '16777216': must be 1023-16777215" },
	{ "--rx-desc", "100", "--rx-desc: '100': must be a power of two 64-16384" },
	{ "--rx-desc", "32", "--rx-desc: '32': must be a power of two 64-16384" },
	{ "--rx-desc", "32768", "--rx-desc: '32768': must be a power of two 64-16384" },
	{ "--rx-desc", "0", "--rx-desc: '0': must be a power of two 64-16384" },
	{ "--tx-desc", "16385", "--tx-desc: '16385': must be a power of two 64-16384" },
	{ "--tx-desc", "4294967296", "--tx-desc: '4294967296': must be 0-4294967295" },
	{ "--tx-desc", "many", "--tx-desc: 'many': not a decimal number" },
};

START_TEST(test_ctl_config_parse_args_rejects_bad_value)
{
	const struct bad_value *b = &bad_values[_i];

	ck_assert_int_eq(PARSE(b->opt, b->val), -EINVAL);
	ck_assert_str_eq(err, b->msg);
}
END_TEST

START_TEST(test_ctl_config_parse_args_rejects_long_control_path)
{
	char path[109];

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	ck_assert_int_eq(PARSE("--control", path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too long for a Unix socket path (at most 107 bytes)"));
	ck_assert_str_eq(cfg.control_path, PX_CTL_DEFAULT_PATH);
}
END_TEST

START_TEST(test_ctl_config_parse_args_rejects_syntax)
{
	ck_assert_int_eq(PARSE("--bogus"), -EINVAL);
	ck_assert_str_eq(err, "unknown option '--bogus'");
	ck_assert_int_eq(PARSE("--bogus=1"), -EINVAL);
	ck_assert_str_eq(err, "unknown option '--bogus=1'");
	ck_assert_int_eq(PARSE("-x"), -EINVAL);
	ck_assert_str_eq(err, "unknown option '-x'");
	ck_assert_int_eq(PARSE("-hx"), -EINVAL);
	ck_assert_str_eq(err, "unknown option '-x'");
	ck_assert_int_eq(PARSE("--port", "1", "--ip"), -EINVAL);
	ck_assert_str_eq(err, "--ip: missing argument");
	ck_assert_int_eq(PARSE("--ip", "10.0.0.1/24", "stray"), -EINVAL);
	ck_assert_str_eq(err, "unexpected argument 'stray'");
	ck_assert_int_eq(PARSE("--", "--port", "1"), -EINVAL);
	ck_assert_str_eq(err, "unexpected argument '--port'");
	ck_assert_int_eq(PARSE("--help=yes"), -EINVAL);
	ck_assert_str_eq(err, "--help takes no argument");
	/* "--gateway" is exact even though "--gateway6" shares its prefix; "--gate" is not. */
	ck_assert_int_eq(PARSE("--gate", "10.0.0.1"), -EINVAL);
	ck_assert_str_eq(err, "unknown option '--gate'");
}
END_TEST

START_TEST(test_ctl_config_parse_args_silent_getopt)
{
	const char *path = WRITE_TMP("");
	struct stat st;
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	dup2(fd, STDERR_FILENO);
	PARSE("--bogus");
	PARSE("-q");
	PARSE("--ip");
	PARSE("--help=1");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(fd);
	close(saved);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
}
END_TEST

START_TEST(test_ctl_config_parse_args_reentrant)
{
	/* An error in the middle of a short-option cluster must not confuse the next parse. */
	ck_assert_int_eq(PARSE("-hqz"), -EINVAL);
	ck_assert_int_eq(PARSE("--port", "7", "-h"), 0);
	ck_assert_uint_eq(cfg.port_id, 0); /* --help stops before applying anything */
	ck_assert(cfg.help);
	cfg.help = false;
	ck_assert_int_eq(PARSE("--port", "7"), 0);
	ck_assert_uint_eq(cfg.port_id, 7);
	ck_assert(!cfg.help);
}
END_TEST

START_TEST(test_ctl_config_parse_args_help)
{
	ck_assert_int_eq(PARSE("--help"), 0);
	ck_assert(cfg.help);
	ck_assert_int_eq(PARSE("--config", "/nonexistent/pollux.conf", "-h"), 0);
	ck_assert(cfg.help);
}
END_TEST

START_TEST(test_ctl_config_parse_file_all_keys)
{
	const char *path = WRITE_TMP(
		"\xef\xbb\xbf# pollux test configuration\n"
		"\n"
		"ip: 192.0.2.53/24\r\n"
		"gateway:192.0.2.1   # the router\n"
		"  ip6 :  2001:db8::53/64  \n"
		"gateway6: \"fe80::1\"\r\n"
		"\t\n"
		"local-zone: \"/etc/pollux/with#hash.zone\"  # quoted '#' is not a comment\n"
		"local-zone: /etc/pollux/b.zone\n"
		"control: \"/tmp/my control.sock\"\n"
		"idle-sleep-us: 50\n"
		"cache-size: 4096\n"
		"port: 1\n"
		"mbufs: 8191\n"
		"rx-desc: 2048\n"
		"tx-desc: 512\n"
		"# trailing comment without newline");

	ck_assert_int_eq(parse_file(path), 0);
	ck_assert(cfg.has_ip4 && cfg.has_gw4 && cfg.has_ip6 && cfg.has_gw6);
	ck_assert_uint_eq(cfg.ip4, ip4("192.0.2.53"));
	ck_assert_uint_eq(cfg.ip4_prefix, 24);
	ck_assert_uint_eq(cfg.gw4, ip4("192.0.2.1"));
	assert_ip6(cfg.ip6, "2001:db8::53");
	ck_assert_uint_eq(cfg.ip6_prefix, 64);
	assert_ip6(cfg.gw6, "fe80::1");
	ck_assert_uint_eq(cfg.local_zone_count, 2);
	ck_assert_str_eq(cfg.local_zones[0], "/etc/pollux/with#hash.zone");
	ck_assert_str_eq(cfg.local_zones[1], "/etc/pollux/b.zone");
	ck_assert_str_eq(cfg.control_path, "/tmp/my control.sock");
	ck_assert_uint_eq(cfg.idle_sleep_us, 50);
	ck_assert_uint_eq(cfg.cache_size, 4096);
	ck_assert_uint_eq(cfg.port_id, 1);
	ck_assert_uint_eq(cfg.mbufs, 8191);
	ck_assert_uint_eq(cfg.rx_desc, 2048);
	ck_assert_uint_eq(cfg.tx_desc, 512);
}
END_TEST

START_TEST(test_ctl_config_parse_file_empty)
{
	ck_assert_int_eq(parse_file(WRITE_TMP("")), 0);
	ck_assert_int_eq(parse_file(WRITE_TMP("\n\n# only comments\r\n   \n")), 0);
	ck_assert(!cfg.has_ip4);
}
END_TEST

struct bad_file {
	const char *text;
	const char *msg; /* expected after "PATH:" */
};

static const struct bad_file bad_files[] = {
	{ "ip: 10.0.0.1/24\n\nbogus: 1\n", "3: unknown key 'bogus'" },
	{ "help: yes\n", "1: unknown key 'help'" },
	{ "--port: 1\n", "1: unknown key '--port'" },
	{ "port 1\n", "1: expected 'key: value'" },
	{ "# x\nport: 70000\n", "2: port: '70000': must be 0-65535" },
	{ "ip: 10.0.0.1/33\r\n", "1: ip: '10.0.0.1/33': prefix length must be 0-32" },
	{ "port:\n", "1: port: missing value" },
	{ "port:   # nothing\n", "1: port: missing value" },
	{ "control: \"/tmp/x\n", "1: control: unbalanced double quotes" },
	{ "control: /tmp/x\"\n", "1: control: unbalanced double quotes" },
	{ "control: \"\n", "1: control: unbalanced double quotes" },
	{ "control: \"a\"b\"\n", "1: control: unbalanced double quotes" },
	{ "control: \"\"\n", "1: control: '': must not be empty" },
	{ "\n\nconfig: /etc/other.conf\n", "3: 'config' is not allowed inside a config file" },
	{ "mbufs: 1e4\n", "1: mbufs: '1e4': not a decimal number" },
};

START_TEST(test_ctl_config_parse_file_rejects_bad_line)
{
	const struct bad_file *b = &bad_files[_i];
	const char *path = write_tmp(b->text, strlen(b->text));
	char want[512];

	snprintf(want, sizeof(want), "%s:%s", path, b->msg);
	ck_assert_int_eq(parse_file(path), -EINVAL);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_ctl_config_parse_file_rejects_nul)
{
	const char *path = WRITE_TMP("port: 1\nport: 2\0 3\n");
	char want[128];

	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	ck_assert_int_eq(parse_file(path), -EINVAL);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_ctl_config_parse_file_unreadable)
{
	ck_assert_int_eq(parse_file("/nonexistent/pollux.conf"), -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/pollux.conf: No such file or directory");
	ck_assert_int_eq(parse_file("/tmp"), -EISDIR);
	ck_assert_str_eq(err, "/tmp: Is a directory");
}
END_TEST

START_TEST(test_ctl_config_parse_args_command_line_overrides_file)
{
	const char *path = WRITE_TMP("ip: 192.0.2.53/24\n"
				     "port: 3\n"
				     "control: /tmp/from-file.sock\n"
				     "local-zone: a.zone\n"
				     "local-zone: b.zone\n");

	/* --config comes last but is read first. */
	ck_assert_int_eq(PARSE("--port", "4", "--local-zone", "c.zone", "--config", path), 0);
	ck_assert_str_eq(cfg.config_file, path);
	ck_assert_uint_eq(cfg.port_id, 4);
	ck_assert(cfg.has_ip4);
	ck_assert_uint_eq(cfg.ip4, ip4("192.0.2.53"));
	ck_assert_str_eq(cfg.control_path, "/tmp/from-file.sock");
	ck_assert_uint_eq(cfg.local_zone_count, 3);
	ck_assert_str_eq(cfg.local_zones[0], "a.zone");
	ck_assert_str_eq(cfg.local_zones[1], "b.zone");
	ck_assert_str_eq(cfg.local_zones[2], "c.zone");
}
END_TEST

START_TEST(test_ctl_config_parse_args_reports_file_error)
{
	const char *path = WRITE_TMP("port: 1\nrx-desc: 1000\n");
	char want[256];

	snprintf(want, sizeof(want), "%s:2: rx-desc: '1000': must be a power of two 64-16384",
		 path);
	ck_assert_int_eq(PARSE("--config", path), -EINVAL);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(PARSE("--config", "/nonexistent/x.conf"), -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/x.conf: No such file or directory");
}
END_TEST

START_TEST(test_ctl_config_parse_args_too_many_local_zones)
{
	char text[64 * 32] = "";
	const char *path;

	for (int i = 0; i < CTL_MAX_LOCAL_ZONES - 1; i++) {
		char line[32];

		snprintf(line, sizeof(line), "local-zone: z%d\n", i);
		strcat(text, line);
	}
	path = write_tmp(text, strlen(text));
	ck_assert_int_eq(PARSE("--config", path, "--local-zone", "last"), 0);
	ck_assert_uint_eq(cfg.local_zone_count, CTL_MAX_LOCAL_ZONES);
	ck_assert_str_eq(cfg.local_zones[CTL_MAX_LOCAL_ZONES - 1], "last");
	ctl_config_free(&cfg);
	ctl_config_init(&cfg);
	ck_assert_int_eq(PARSE("--config", path, "--local-zone", "y", "--local-zone", "z"),
			 -EINVAL);
	ck_assert_str_eq(err, "--local-zone: 'z': too many local zones (at most 64)");
}
END_TEST

static void
set_args(const char *ip, const char *gw, const char *ip6, const char *gw6)
{
	const char *argv[10] = { "pollux" };
	int n = 1;

	if (ip != NULL) {
		argv[n++] = "--ip";
		argv[n++] = ip;
	}
	if (gw != NULL) {
		argv[n++] = "--gateway";
		argv[n++] = gw;
	}
	if (ip6 != NULL) {
		argv[n++] = "--ip6";
		argv[n++] = ip6;
	}
	if (gw6 != NULL) {
		argv[n++] = "--gateway6";
		argv[n++] = gw6;
	}
	ck_assert_int_eq(parse_argv(argv), 0);
}

START_TEST(test_ctl_config_validate_accepts)
{
	set_args("192.0.2.53/24", "192.0.2.1", NULL, NULL);
	ck_assert_int_eq(validate(), 0);
	ctl_config_free(&cfg);
	ctl_config_init(&cfg);
	set_args(NULL, NULL, "2001:db8::53/64", "fe80::1");
	ck_assert_int_eq(validate(), 0);
	ctl_config_free(&cfg);
	ctl_config_init(&cfg);
	set_args("10.0.0.255/32", "10.9.9.9", "2001:db8::53/64", NULL);
	ck_assert_int_eq(validate(), 0);
	ctl_config_free(&cfg);
	ctl_config_init(&cfg);
	set_args("10.0.0.1/31", NULL, NULL, NULL);
	ck_assert_int_eq(validate(), 0);
}
END_TEST

struct bad_cfg {
	const char *ip, *gw, *ip6, *gw6;
	const char *msg;
};

static const struct bad_cfg bad_cfgs[] = {
	{ NULL, NULL, NULL, NULL, "an address to serve on is required: give --ip or --ip6" },
	{ NULL, "10.0.0.1", "2001:db8::1/64", NULL, "--gateway needs --ip" },
	{ "10.0.0.2/24", NULL, NULL, "fe80::1", "--gateway6 needs --ip6" },
	{ "0.0.0.0/0", NULL, NULL, NULL, "--ip: '0.0.0.0' is an unspecified address" },
	{ "224.0.0.1/24", NULL, NULL, NULL, "--ip: '224.0.0.1' is a multicast address" },
	{ "239.1.1.1/8", NULL, NULL, NULL, "--ip: '239.1.1.1' is a multicast address" },
	{ "255.255.255.255/32", NULL, NULL, NULL,
	  "--ip: '255.255.255.255' is the broadcast address" },
	{ "127.0.0.1/8", NULL, NULL, NULL, "--ip: '127.0.0.1' is a loopback address" },
	{ "10.0.0.255/24", NULL, NULL, NULL,
	  "--ip: '10.0.0.255/24' is the subnet's broadcast address" },
	{ "10.0.0.2/24", "10.0.1.1", NULL, NULL,
	  "--gateway: '10.0.1.1' is not inside the --ip subnet" },
	{ "10.0.0.2/24", "10.0.0.2", NULL, NULL, "--gateway: '10.0.0.2' is pollux's own address" },
	{ "10.0.0.2/24", "0.0.0.0", NULL, NULL, "--gateway: '0.0.0.0' is an unspecified address" },
	{ NULL, NULL, "::/0", NULL, "--ip6: '::' is an unspecified address" },
	{ NULL, NULL, "ff02::1/64", NULL, "--ip6: 'ff02::1' is a multicast address" },
	{ NULL, NULL, "::1/128", NULL, "--ip6: '::1' is a loopback address" },
	{ NULL, NULL, "2001:db8::1/64", "ff02::2", "--gateway6: 'ff02::2' is a multicast address" },
	{ NULL, NULL, "2001:db8::1/64", "2001:db8::1",
	  "--gateway6: '2001:db8::1' is pollux's own address" },
	{ "192.0.2.1/24", NULL, "::1/128", NULL, "--ip6: '::1' is a loopback address" },
};

START_TEST(test_ctl_config_validate_rejects)
{
	const struct bad_cfg *b = &bad_cfgs[_i];

	set_args(b->ip, b->gw, b->ip6, b->gw6);
	ck_assert_int_eq(validate(), -EINVAL);
	ck_assert_str_eq(err, b->msg);
}
END_TEST

START_TEST(test_ctl_config_usage_lists_every_option)
{
	static const char *const want[] = {
		"Usage: pollux [EAL options] -- [pollux options]",
		"--ip ADDR/LEN", "--gateway ADDR", "--ip6 ADDR/LEN", "--gateway6 ADDR",
		"--local-zone FILE", "--control PATH", "--config FILE", "--idle-sleep-us N",
		"--cache-size N", "--port N", "--mbufs N", "--rx-desc N", "--tx-desc N",
		"-h, --help", "[default: " PX_CTL_DEFAULT_PATH "]", "[default: 262144]",
		"[default: 16383]", "[default: 1024]", "pure polling", "'key: value'", "'#'",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(out);
	ctl_config_usage(out, "pollux");
	fclose(out);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(text, want[i]) != NULL, "usage lacks '%s'", want[i]);
	/* Every line fits a terminal of 100 columns. */
	for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		ck_assert_int_le(nl - line, 100);
	free(text);
}
END_TEST

START_TEST(test_ctl_config_free_releases_everything)
{
	const char *path = WRITE_TMP("local-zone: f1\ncontrol: /tmp/f.sock\n");

	ck_assert_int_eq(PARSE("--config", path, "--local-zone", "a", "--local-zone", "b",
			       "--control", "/tmp/a.sock", "--control", "/tmp/b.sock",
			       "--config", path), 0);
	ck_assert_uint_eq(cfg.local_zone_count, 3);
	ctl_config_free(&cfg);
	ck_assert_uint_eq(cfg.local_zone_count, 0);
	for (int i = 0; i < CTL_MAX_LOCAL_ZONES; i++)
		ck_assert_ptr_null(cfg.local_zones[i]);
	ck_assert_ptr_null(cfg.control_path);
	ck_assert_ptr_null(cfg.config_file);
	/* Freeing twice is harmless, and a freed config parses again with the default path. */
	ctl_config_free(&cfg);
	ck_assert_int_eq(PARSE("--port", "2"), 0);
	ck_assert_str_eq(cfg.control_path, PX_CTL_DEFAULT_PATH);
	/* A failed parse owns nothing extra either. */
	ck_assert_int_eq(PARSE("--local-zone", "x", "--control", "/tmp/c", "--port", "x"),
			 -EINVAL);
	ctl_config_free(&cfg);
#if defined(__SANITIZE_ADDRESS__)
	ck_assert_int_eq(__lsan_do_recoverable_leak_check(), 0);
#endif
}
END_TEST

START_TEST(test_ctl_config_parse_args_hints_options)
{
	ck_assert_ptr_null(cfg.hints_file);
	ck_assert_int_eq(cfg.hints_fallback, CTL_HINTS_FALLBACK_BUILTIN);
	ck_assert_uint_eq(cfg.min_root_servers, CTL_DEFAULT_MIN_ROOT_SERVERS);
	ck_assert(!cfg.addr_policy.allow_loopback);
	ck_assert_int_eq(PARSE("--hints", "/etc/pollux/named.root", "--hints-fallback", "refuse",
			       "--min-root-servers", "3", "--allow-loopback-ns", "yes",
			       "--do-not-query", "10.0.0.0/8", "--do-not-query", "2001:db8::/32",
			       "--do-not-query", "192.0.2.1"), 0);
	ck_assert_str_eq(cfg.hints_file, "/etc/pollux/named.root");
	ck_assert_int_eq(cfg.hints_fallback, CTL_HINTS_FALLBACK_REFUSE);
	ck_assert_uint_eq(cfg.min_root_servers, 3);
	ck_assert(cfg.addr_policy.allow_loopback);
	ck_assert_uint_eq(cfg.addr_policy.net4_count, 2);
	ck_assert_uint_eq(cfg.addr_policy.net6_count, 1);
	ck_assert_int_eq(px_addr_check4(&cfg.addr_policy, htonl(0x0a010203)), PX_ADDR_DO_NOT_QUERY);
	ck_assert_int_eq(px_addr_check4(&cfg.addr_policy, htonl(0xc0000201)), PX_ADDR_DO_NOT_QUERY);
	ck_assert_int_eq(px_addr_check4(&cfg.addr_policy, htonl(0xc0000202)), PX_ADDR_OK);
	ck_assert_int_eq(px_addr_check4(&cfg.addr_policy, htonl(0x7f000001)), PX_ADDR_OK);
	ck_assert_int_eq(PARSE("--allow-loopback-ns", "no", "--hints-fallback", "builtin"), 0);
	ck_assert(!cfg.addr_policy.allow_loopback);
	ck_assert_int_eq(cfg.hints_fallback, CTL_HINTS_FALLBACK_BUILTIN);
}
END_TEST

START_TEST(test_ctl_config_parse_args_hints_bad_values)
{
	ck_assert_int_eq(PARSE("--hints-fallback", "maybe"), -EINVAL);
	ck_assert_str_eq(err, "--hints-fallback: 'maybe': must be 'builtin' or 'refuse'");
	ck_assert_int_eq(PARSE("--min-root-servers", "0"), -EINVAL);
	ck_assert_str_eq(err, "--min-root-servers: '0': must be 1-64");
	ck_assert_int_eq(PARSE("--min-root-servers", "65"), -EINVAL);
	ck_assert_int_eq(PARSE("--allow-loopback-ns", "1"), -EINVAL);
	ck_assert_str_eq(err, "--allow-loopback-ns: '1': must be 'yes' or 'no'");
	ck_assert_int_eq(PARSE("--do-not-query", "10.0.0.1/8"), -EINVAL);
	ck_assert_str_eq(err, "--do-not-query: '10.0.0.1/8': not a netblock (ADDR/LEN with the "
			      "host bits clear, or ADDR)");
	ck_assert_int_eq(PARSE("--do-not-query", "example.com"), -EINVAL);
	ck_assert_int_eq(PARSE("--do-not-query", "10.0.0.0/33"), -EINVAL);
	ck_assert_int_eq(PARSE("--hints", ""), -EINVAL);
}
END_TEST

START_TEST(test_ctl_config_parse_args_do_not_query_limit)
{
	char nets[PX_ADDR_MAX_NETS + 1][32];

	for (unsigned i = 0; i <= PX_ADDR_MAX_NETS; i++) {
		snprintf(nets[i], sizeof(nets[i]), "10.%u.0.0/16", i);
		int rc = PARSE("--do-not-query", nets[i]);

		ck_assert_int_eq(rc, i < PX_ADDR_MAX_NETS ? 0 : -EINVAL);
	}
	ck_assert_str_eq(err, "--do-not-query: '10.64.0.0/16': too many netblocks (at most 64 per "
			      "family)");
}
END_TEST

START_TEST(test_ctl_config_parse_file_hints_keys)
{
	const char *path = WRITE_TMP("hints: /srv/named.root\nhints-fallback: refuse\n"
				     "min-root-servers: 2\ndo-not-query: 198.51.100.0/24\n"
				     "do-not-query: 203.0.113.0/24\nallow-loopback-ns: yes\n");

	ck_assert_int_eq(parse_file(path), 0);
	ck_assert_str_eq(cfg.hints_file, "/srv/named.root");
	ck_assert_int_eq(cfg.hints_fallback, CTL_HINTS_FALLBACK_REFUSE);
	ck_assert_uint_eq(cfg.min_root_servers, 2);
	ck_assert_uint_eq(cfg.addr_policy.net4_count, 2);
	ck_assert(cfg.addr_policy.allow_loopback);
}
END_TEST

START_TEST(test_ctl_config_parse_args_recursion_options)
{
	ck_assert(cfg.recursion);
	ck_assert(cfg.qname_min);
	ck_assert_uint_eq(cfg.resolver_slots, CTL_DEFAULT_RESOLVER_SLOTS);
	ck_assert_int_eq(PARSE("--recursion", "no", "--resolver-slots", "100",
			       "--qname-minimisation", "no"), 0);
	ck_assert(!cfg.recursion);
	ck_assert(!cfg.qname_min);
	ck_assert_uint_eq(cfg.resolver_slots, 100);
	ck_assert_int_eq(PARSE("--recursion", "yes", "--qname-minimisation", "yes"), 0);
	ck_assert(cfg.recursion);
	ck_assert(cfg.qname_min);
	ck_assert_int_eq(PARSE("--recursion", "maybe"), -EINVAL);
	ck_assert_str_eq(err, "--recursion: 'maybe': must be 'yes' or 'no'");
	ck_assert_int_eq(PARSE("--qname-minimisation", "on"), -EINVAL);
	ck_assert_str_eq(err, "--qname-minimisation: 'on': must be 'yes' or 'no'");
	ck_assert_int_eq(PARSE("--resolver-slots", "0"), -EINVAL);
	ck_assert_str_eq(err, "--resolver-slots: '0': must be 1-1048576");
	ck_assert_int_eq(PARSE("--resolver-slots", "1048577"), -EINVAL);
}
END_TEST

START_TEST(test_ctl_config_parse_args_ttl_caps_and_priming)
{
	ck_assert_uint_eq(cfg.max_ttl, 86400);
	ck_assert_uint_eq(cfg.max_neg_ttl, 3600);
	ck_assert(cfg.priming);
	ck_assert_int_eq(PARSE("--max-ttl", "600", "--max-neg-ttl", "0", "--priming", "no"), 0);
	ck_assert_uint_eq(cfg.max_ttl, 600);
	ck_assert_uint_eq(cfg.max_neg_ttl, 0);
	ck_assert(!cfg.priming);
	ck_assert_int_eq(PARSE("--max-ttl", "0"), -EINVAL);
	ck_assert_str_eq(err, "--max-ttl: '0': must be 1-604800");
	ck_assert_int_eq(PARSE("--max-ttl", "604801"), -EINVAL);
	ck_assert_str_eq(err, "--max-ttl: '604801': must be 1-604800");
	ck_assert_int_eq(PARSE("--max-neg-ttl", "-1"), -EINVAL);
	ck_assert_str_eq(err, "--max-neg-ttl: '-1': not a decimal number");
	ck_assert_int_eq(PARSE("--priming", "sometimes"), -EINVAL);
	ck_assert_str_eq(err, "--priming: 'sometimes': must be 'yes' or 'no'");
}
END_TEST

START_TEST(test_ctl_config_parse_file_ttl_keys)
{
	const char *path = WRITE_TMP("max-ttl: 7200\nmax-neg-ttl: 60\npriming: no\n");

	ck_assert_int_eq(parse_file(path), 0);
	ck_assert_uint_eq(cfg.max_ttl, 7200);
	ck_assert_uint_eq(cfg.max_neg_ttl, 60);
	ck_assert(!cfg.priming);
}
END_TEST

START_TEST(test_ctl_config_parse_file_recursion_keys)
{
	const char *path = WRITE_TMP("recursion: no\nresolver-slots: 64\nqname-minimisation: no\n");

	ck_assert_int_eq(parse_file(path), 0);
	ck_assert(!cfg.recursion);
	ck_assert(!cfg.qname_min);
	ck_assert_uint_eq(cfg.resolver_slots, 64);
}
END_TEST

/* The fair share: an eighth of the slots unless given, 0 for no cap, and its neighbours. */
START_TEST(test_ctl_config_fair_share_options)
{
	ck_assert_uint_eq(ctl_config_slots_per_client(&cfg), CTL_DEFAULT_RESOLVER_SLOTS / 8);
	ck_assert_uint_eq(cfg.client_prefix6, 56);
	ck_assert_uint_eq(cfg.jostle_ms, 200);
	ck_assert_int_eq(PARSE("--resolver-slots", "100"), 0);
	ck_assert_uint_eq(ctl_config_slots_per_client(&cfg), 12);
	ck_assert_int_eq(PARSE("--resolver-slots", "7"), 0);
	ck_assert_uint_eq(ctl_config_slots_per_client(&cfg), 1);
	ck_assert_int_eq(PARSE("--resolver-slots-per-client", "0", "--resolver-client-prefix6", "64",
			       "--resolver-jostle-ms", "0"), 0);
	ck_assert_uint_eq(ctl_config_slots_per_client(&cfg), 0);
	ck_assert_uint_eq(cfg.client_prefix6, 64);
	ck_assert_uint_eq(cfg.jostle_ms, 0);
	ck_assert_int_eq(PARSE("--resolver-slots-per-client", "300"), 0);
	ck_assert_uint_eq(ctl_config_slots_per_client(&cfg), 300);
	ck_assert_int_eq(PARSE("--resolver-slots-per-client", "1048577"), -EINVAL);
	ck_assert_str_eq(err, "--resolver-slots-per-client: '1048577': must be 0-1048576");
	ck_assert_int_eq(PARSE("--resolver-client-prefix6", "0"), -EINVAL);
	ck_assert_str_eq(err, "--resolver-client-prefix6: '0': must be 1-128");
	ck_assert_int_eq(PARSE("--resolver-client-prefix6", "129"), -EINVAL);
	ck_assert_int_eq(PARSE("--resolver-jostle-ms", "60001"), -EINVAL);
	ck_assert_str_eq(err, "--resolver-jostle-ms: '60001': must be 0-60000");
	ck_assert_int_eq(PARSE("--resolver-jostle-ms", "1s"), -EINVAL);
	ck_assert_str_eq(err, "--resolver-jostle-ms: '1s': not a decimal number");
	/* The upstream RTO's floor. */
	ck_assert_uint_eq(cfg.rto_min_ms, 50);
	ck_assert_int_eq(PARSE("--upstream-rto-min", "400"), 0);
	ck_assert_uint_eq(cfg.rto_min_ms, 400);
	ck_assert_int_eq(PARSE("--upstream-rto-min", "9"), -EINVAL);
	ck_assert_str_eq(err, "--upstream-rto-min: '9': must be 10-3000");
	ck_assert_int_eq(PARSE("--upstream-rto-min", "3001"), -EINVAL);
	/* The health check's resolution window. */
	ck_assert_uint_eq(cfg.health_resolve_window_s, 60);
	ck_assert_int_eq(PARSE("--health-resolve-window", "0"), 0);
	ck_assert_uint_eq(cfg.health_resolve_window_s, 0);
	ck_assert_int_eq(PARSE("--health-resolve-window", "86401"), -EINVAL);
	ck_assert_str_eq(err, "--health-resolve-window: '86401': must be 0-86400");
	ck_assert_uint_eq(cfg.health_probe.qname_len, 1);
	ck_assert_uint_eq(cfg.health_probe.qtype, PX_DNS_TYPE_NS);
	ck_assert_int_eq(PARSE("--health-probe", "example.com AAAA"), 0);
	ck_assert_uint_eq(cfg.health_probe.qname_len, 13);
	ck_assert_uint_eq(cfg.health_probe.qtype, PX_DNS_TYPE_AAAA);
	ck_assert_int_eq(PARSE("--health-probe", "example..com"), -EINVAL);
	ck_assert_str_eq(err, "--health-probe: 'example..com': NAME is not a domain name (labels "
			 "of 1-63 printable characters, 255 octets at most)");
}
END_TEST

START_TEST(test_ctl_config_parse_file_fair_share_keys)
{
	const char *path = WRITE_TMP("resolver-slots-per-client: 16\nresolver-client-prefix6: 48\n"
				     "resolver-jostle-ms: 500\n");

	ck_assert_int_eq(parse_file(path), 0);
	ck_assert_uint_eq(ctl_config_slots_per_client(&cfg), 16);
	ck_assert_uint_eq(cfg.client_prefix6, 48);
	ck_assert_uint_eq(cfg.jostle_ms, 500);
	path = WRITE_TMP("resolver-slots: 64\nresolver-client-prefix6: 200\n");
	ck_assert_int_eq(parse_file(path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":2: resolver-client-prefix6: '200': must be 1-128"));
}
END_TEST

START_TEST(test_ctl_config_tcp_conn_per_client)
{
	const char *path = WRITE_TMP("tcp-conn-per-client: 3\n");

	ck_assert_uint_eq(cfg.tcp_conn_per_client, CTL_DEFAULT_TCP_CONN_PER_CLIENT);
	ck_assert_uint_eq(cfg.tcp_conn_per_client, 16);
	ck_assert_int_eq(PARSE("--tcp-conn-per-client", "256"), 0);
	ck_assert_uint_eq(cfg.tcp_conn_per_client, 256);
	ck_assert_int_eq(PARSE("--tcp-conn-per-client", "0"), -EINVAL);
	ck_assert_str_eq(err, "--tcp-conn-per-client: '0': must be 1-256");
	ck_assert_int_eq(PARSE("--tcp-conn-per-client", "257"), -EINVAL);
	ck_assert_str_eq(err, "--tcp-conn-per-client: '257': must be 1-256");
	ck_assert_int_eq(parse_file(path), 0);
	ck_assert_uint_eq(cfg.tcp_conn_per_client, 3);
}
END_TEST

START_TEST(test_ctl_config_vlan)
{
	const char *path = WRITE_TMP("vlan: 4094\n");
	const char *bad = WRITE_TMP("\nvlan: 4095\n");

	ck_assert_uint_eq(cfg.vlan, 0);
	ck_assert_int_eq(PARSE("--vlan", "1"), 0);
	ck_assert_uint_eq(cfg.vlan, 1);
	ck_assert_int_eq(PARSE("--vlan", "0"), -EINVAL);
	ck_assert_str_eq(err, "--vlan: '0': must be 1-4094");
	ck_assert_int_eq(PARSE("--vlan", "4095"), -EINVAL);
	ck_assert_int_eq(PARSE("--vlan", "0x64"), -EINVAL);
	ck_assert_int_eq(parse_file(path), 0);
	ck_assert_uint_eq(cfg.vlan, 4094);
	ck_assert_int_ne(parse_file(bad), 0);
	ck_assert_ptr_nonnull(strstr(err, ":2: vlan: '4095': must be 1-4094"));
}
END_TEST

START_TEST(test_ctl_config_metrics_listen)
{
	const char *path = WRITE_TMP("# scrape me\nmetrics-listen: [::1]:9153\n");

	ck_assert(!cfg.has_metrics);
	ck_assert_int_eq(PARSE("--metrics-listen", "127.0.0.1:9100"), 0);
	ck_assert(cfg.has_metrics);
	ck_assert_int_eq(cfg.metrics_addr.ss_family, AF_INET);
	ck_assert_uint_eq(cfg.metrics_addr_len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&cfg.metrics_addr)->sin_port), 9100);
	ck_assert_int_eq(parse_file(path), 0);
	ck_assert_int_eq(cfg.metrics_addr.ss_family, AF_INET6);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&cfg.metrics_addr)->sin6_port), 9153);
	ck_assert_int_eq(PARSE("--metrics-listen", "127.0.0.1"), -EINVAL);
	ck_assert_str_eq(err, "--metrics-listen: '127.0.0.1': expected IPV4:PORT or [IPV6]:PORT, "
			 "port 1-65535");
	path = WRITE_TMP("cache-size: 1024\nmetrics-listen: ::1:9153\n");
	ck_assert_int_eq(parse_file(path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":2: metrics-listen: '::1:9153': expected"));
}
END_TEST

START_TEST(test_ctl_config_validate_check_hints_needs_no_address)
{
	ck_assert_int_eq(PARSE("--check-hints", "/tmp/x.root"), 0);
	ck_assert_str_eq(cfg.check_hints, "/tmp/x.root");
	ck_assert_int_eq(ctl_config_validate(&cfg, err, sizeof(err)), 0);
}
END_TEST

Suite *config_suite(void);

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_config_init_defaults);
	tcase_add_test(tc, test_ctl_config_parse_args_keeps_defaults);
	tcase_add_test(tc, test_ctl_config_parse_args_no_options);
	suite_add_tcase(s, tc);

	tc = tcase_create("good_values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_config_parse_args_ip4);
	tcase_add_test(tc, test_ctl_config_parse_args_ip6);
	tcase_add_test(tc, test_ctl_config_parse_args_numbers);
	tcase_add_test(tc, test_ctl_config_parse_args_paths);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_ctl_config_parse_args_rejects_bad_value, 0,
			    sizeof(bad_values) / sizeof(bad_values[0]));
	tcase_add_test(tc, test_ctl_config_parse_args_rejects_long_control_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("getopt");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_config_parse_args_rejects_syntax);
	tcase_add_test(tc, test_ctl_config_parse_args_silent_getopt);
	tcase_add_test(tc, test_ctl_config_parse_args_reentrant);
	tcase_add_test(tc, test_ctl_config_parse_args_help);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_config_parse_file_all_keys);
	tcase_add_test(tc, test_ctl_config_parse_file_empty);
	tcase_add_loop_test(tc, test_ctl_config_parse_file_rejects_bad_line, 0,
			    sizeof(bad_files) / sizeof(bad_files[0]));
	tcase_add_test(tc, test_ctl_config_parse_file_rejects_nul);
	tcase_add_test(tc, test_ctl_config_parse_file_unreadable);
	suite_add_tcase(s, tc);

	tc = tcase_create("file_and_command_line");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_config_parse_args_command_line_overrides_file);
	tcase_add_test(tc, test_ctl_config_parse_args_reports_file_error);
	tcase_add_test(tc, test_ctl_config_parse_args_too_many_local_zones);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_config_validate_accepts);
	tcase_add_loop_test(tc, test_ctl_config_validate_rejects, 0,
			    sizeof(bad_cfgs) / sizeof(bad_cfgs[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("hints_options");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_config_parse_args_hints_options);
	tcase_add_test(tc, test_ctl_config_parse_args_hints_bad_values);
	tcase_add_test(tc, test_ctl_config_parse_args_do_not_query_limit);
	tcase_add_test(tc, test_ctl_config_parse_file_hints_keys);
	tcase_add_test(tc, test_ctl_config_validate_check_hints_needs_no_address);
	tcase_add_test(tc, test_ctl_config_parse_args_recursion_options);
	tcase_add_test(tc, test_ctl_config_fair_share_options);
	tcase_add_test(tc, test_ctl_config_parse_file_recursion_keys);
	tcase_add_test(tc, test_ctl_config_parse_file_fair_share_keys);
	tcase_add_test(tc, test_ctl_config_parse_args_ttl_caps_and_priming);
	tcase_add_test(tc, test_ctl_config_parse_file_ttl_keys);
	tcase_add_test(tc, test_ctl_config_tcp_conn_per_client);
	tcase_add_test(tc, test_ctl_config_vlan);
	tcase_add_test(tc, test_ctl_config_metrics_listen);
	suite_add_tcase(s, tc);

	tc = tcase_create("usage");
	tcase_add_test(tc, test_ctl_config_usage_lists_every_option);
	suite_add_tcase(s, tc);

	tc = tcase_create("free");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_config_free_releases_everything);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
