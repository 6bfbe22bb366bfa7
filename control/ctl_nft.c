/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollux's nftables table on the tun; see ctl_nft.h. nft(8) runs as a child with an empty
 * signal mask (the control thread blocks the signals it reads from a signalfd, and a child
 * would inherit that), reads its script from a pipe and reports on another.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_nft.h"

extern char **environ;

/* Where Debian puts nft, then PATH, so that a daemon started with a bare PATH still finds it. */
static const char *const nft_paths[] = {"/usr/sbin/nft", "/sbin/nft", NULL};

void
ctl_nft_table_name(char *dst, size_t len, const char *ifname)
{
	size_t n = (size_t)snprintf(dst, len, "%s%s", CTL_NFT_TABLE_PREFIX, ifname);

	for (size_t i = strlen(CTL_NFT_TABLE_PREFIX); i < n && i < len; i++)
		if (!isalnum((unsigned char)dst[i]))
			dst[i] = '_';
}

static int __attribute__((format(printf, 4, 5)))
put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		return -ENOSPC;
	*off += (size_t)n;
	return 0;
}

int
ctl_nft_script(char *buf, size_t len, const struct ctl_nft_conf *conf)
{
	char table[CTL_NFT_TABLE_LEN], a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	size_t off = 0;
	int rc = 0;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	ctl_nft_table_name(table, sizeof(table), conf->ifname);
	/* Declaring the table first makes the delete succeed whether or not a killed run left
	 * one, and the whole script is one transaction: there is never a moment without it. */
	rc |= put(buf, len, &off, "table inet %s\ndelete table inet %s\n", table, table);
	inet_ntop(AF_INET, &conf->ip4, a4, sizeof(a4));
	inet_ntop(AF_INET6, conf->ip6, a6, sizeof(a6));
	rc |= put(buf, len, &off,
		  "table inet %s {\n"
		  "\tchain input {\n"
		  "\t\ttype filter hook input priority filter - 10; policy accept;\n",
		  table);
	/* pollux's addresses are the kernel's only through the tun. A PMD that leaves the
	 * kernel a copy of every frame (af_packet) would otherwise let the DPDK port's own
	 * kernel interface deliver anything to them, past the workers. */
	if (conf->has_ip4)
		rc |= put(buf, len, &off, "\t\tiifname != \"%s\" ip daddr %s counter drop\n",
			  conf->ifname, a4);
	if (conf->has_ip6)
		rc |= put(buf, len, &off, "\t\tiifname != \"%s\" ip6 daddr %s counter drop\n",
			  conf->ifname, a6);
	rc |= put(buf, len, &off, "\t\tiifname != \"%s\" accept\n", conf->ifname);
	if (conf->has_ip4)
		rc |= put(buf, len, &off, "\t\tip daddr %s tcp dport 53 accept\n", a4);
	if (conf->has_ip6)
		rc |= put(buf, len, &off, "\t\tip6 daddr %s tcp dport 53 accept\n", a6);
	/* Nothing from the tun is ever routed on, should the namespace forward. */
	rc |= put(buf, len, &off,
		  "\t\tct state established,related accept\n"
		  "\t\tcounter drop\n"
		  "\t}\n"
		  "\tchain forward {\n"
		  "\t\ttype filter hook forward priority filter - 10; policy accept;\n"
		  "\t\tiifname \"%s\" counter drop\n"
		  "\t}\n"
		  "}\n", conf->ifname);
	return rc != 0 ? -ENOSPC : (int)off;
}

/* Runs nft -f - with script on its standard input. Returns 0, or -errno with nft's first
 * line of complaint (or why it did not run) in err. */
static int
nft_run(const char *script, char *err, size_t err_len)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, status = 0, rc = -EIO;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid = -1;
	char msg[512];
	size_t have = 0, slen = strlen(script);
	ssize_t n;

	/* The script is a few hundred bytes, far under a pipe's buffer: written before nft
	 * starts, it never blocks. */
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    write(in[1], script, slen) != (ssize_t)slen) {
		rc = -errno;
		snprintf(err, err_len, "nft: cannot set up its pipes: %s", strerror(errno));
		goto out;
	}
	close(in[1]);
	in[1] = -1;
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDERR_FILENO);
	/* nft gets its three pipes and nothing else of pollux's: not the control socket, the tap
	 * or the packet sockets, nor DPDK's runtime files, whose locks would outlive a killed
	 * pollux for as long as nft runs and keep the next start from initialising. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	rc = ENOENT;
	for (unsigned i = 0; nft_paths[i] != NULL && rc != 0; i++)
		rc = posix_spawn(&pid, nft_paths[i], &fa, &attr,
				 (char *const[]){"nft", "-f", "-", NULL}, environ);
	if (rc != 0)
		rc = posix_spawnp(&pid, "nft", &fa, &attr, (char *const[]){"nft", "-f", "-", NULL},
				  environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, err_len, "cannot run nft (install the nftables package): %s",
			 strerror(rc));
		rc = -rc;
		goto out;
	}
	close(out[1]);
	out[1] = -1;
	while (have < sizeof(msg) - 1 &&
	       (n = read(out[0], msg + have, sizeof(msg) - 1 - have)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		have += (size_t)n;
	}
	msg[have] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = 0;
	} else {
		msg[strcspn(msg, "\n")] = '\0';
		snprintf(err, err_len, "nft failed (exit %d): %s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, msg[0] ? msg : "no output");
		rc = -EIO;
	}
out:
	for (unsigned i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return rc;
}

int
ctl_nft_install(const struct ctl_nft_conf *conf, char *err, size_t err_len)
{
	char script[1024];
	int len = ctl_nft_script(script, sizeof(script), conf);

	if (len < 0) {
		snprintf(err, err_len, "nft: the script does not fit %zu bytes", sizeof(script));
		return len;
	}
	return nft_run(script, err, err_len);
}

int
ctl_nft_remove(const char *ifname)
{
	char table[CTL_NFT_TABLE_LEN], script[128], err[256];

	ctl_nft_table_name(table, sizeof(table), ifname);
	snprintf(script, sizeof(script), "delete table inet %s\n", table);
	return nft_run(script, err, sizeof(err));
}
