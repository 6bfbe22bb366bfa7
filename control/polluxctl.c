/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * polluxctl: sends one command to a running pollux over its control socket and prints the
 * reply. Plain libc, no DPDK, so that it runs anywhere, as any user allowed on the socket.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <pollux/ctl_proto.h>

#include "ctl_sockio.h"

#define EXIT_OK 0
#define EXIT_ERR 1    /* the server replied ERR */
#define EXIT_USAGE 2  /* bad usage, or no usable reply from the server */

#define TIMEOUT_MS 5000
/* More than any reply pollux writes; only a confused peer sends this much. */
#define MAX_REPLY (64u << 20)

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: polluxctl [-s|--socket PATH] COMMAND [ARGS...]\n"
		"\n"
		"Sends COMMAND to a running pollux and prints its reply.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH  control socket (default: $POLLUX_CONTROL, else %s;\n"
		"                     pollux's --control sets it)\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Commands (the server replies ERR for commands it does not know):\n"
		"  status             a short summary of the running daemon\n"
		"  stats              counters summed over all workers, one 'name value' a line\n"
		"  hints              the root hints in use\n"
		"  reload-hints       re-read the root hints file and publish it\n"
		"  reload             re-read the config file and apply, all or nothing: local\n"
		"                     zones, access control, rate limits, do-not-query, TTL caps,\n"
		"                     QNAME minimisation, hints, metrics; others need a restart\n"
		"  config             the configuration in force, each value with its source\n"
		"  acl                access-control rules in force: origin, action, hits\n"
		"  health             'ok' when every worker polls, the link is up, hints are\n"
		"                     loaded and a resolution succeeded within\n"
		"                     --health-resolve-window; else each reason, and exit 1\n"
		"\n"
		"Exit status: 0 when pollux replied OK, 1 when it replied ERR (the reason goes to\n"
		"stderr; for health: unhealthy), 2 on a usage error or when no reply could be had\n"
		"(for health: pollux cannot be reached).\n",
		PX_CTL_DEFAULT_PATH);
}

/* Joins the words with single spaces and a final newline; they must not hold whitespace of
 * their own, since the server splits on it. Returns the length or -1 with a message printed. */
static int
build_request(char *req, size_t cap, int argc, char **argv)
{
	size_t len = 0;

	if (argc > PX_CTL_MAX_ARGS) {
		fprintf(stderr, "polluxctl: too many arguments (at most %d words)\n",
			PX_CTL_MAX_ARGS);
		return -1;
	}
	for (int i = 0; i < argc; i++) {
		size_t wlen = strlen(argv[i]);

		if (wlen == 0 || strpbrk(argv[i], " \t\r\n") != NULL) {
			fprintf(stderr,
				"polluxctl: argument '%s' is empty or contains whitespace\n",
				argv[i]);
			return -1;
		}
		if (len + wlen + 1 > cap) {
			fprintf(stderr, "polluxctl: request longer than %d bytes\n",
				PX_CTL_MAX_REQUEST);
			return -1;
		}
		memcpy(req + len, argv[i], wlen);
		len += wlen;
		req[len++] = i + 1 < argc ? ' ' : '\n';
	}
	return (int)len;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = TIMEOUT_MS / 1000 };
	const char *hint;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "polluxctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "polluxctl: socket: %s\n", strerror(errno));
		return -1;
	}
	/* A blocking Unix connect waits for room in a full backlog; bound it like the rest. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = errno;
		hint = "";
		if (err == ENOENT || err == ECONNREFUSED)
			hint = " (is pollux running? see --control)";
		fprintf(stderr, "polluxctl: cannot connect to %s: %s%s\n", path, strerror(err), hint);
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads until the server closes. Returns 0 with a malloc'ed, NUL-terminated reply, or -errno. */
static int
read_reply(int fd, char **reply, size_t *reply_len, int64_t deadline)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *bigger;

			if (cap >= MAX_REPLY) {
				rc = -EMSGSIZE;
				goto err;
			}
			bigger = realloc(buf, cap * 2);
			if (bigger == NULL) {
				rc = -ENOMEM;
				goto err;
			}
			buf = bigger;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, MSG_DONTWAIT);
		if (n > 0) {
			len += n;
			continue;
		}
		/* The server closes when done; it may reset the connection if it did not read
		 * all we sent, but what it wrote before that still counts. */
		if (n == 0 || (errno == ECONNRESET && len > 0))
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			rc = -errno;
			goto err;
		}
		rc = ctl_sockio_wait(fd, POLLIN, deadline);
		if (rc < 0)
			goto err;
	}
	buf[len] = '\0';
	*reply = buf;
	*reply_len = len;
	return 0;
err:
	free(buf);
	return rc;
}

/* Prints the body of an "OK"/"ERR" reply where it belongs and returns the exit status. */
static int
print_reply(const char *path, const char *reply, size_t len)
{
	const char *nl = memchr(reply, '\n', len);
	size_t status_len, body_len;
	const char *body;
	bool ok;

	if (nl == NULL) {
		fprintf(stderr, "polluxctl: %s from %s\n",
			len == 0 ? "no reply" : "malformed reply", path);
		return EXIT_USAGE;
	}
	status_len = nl - reply;
	if (status_len > 0 && reply[status_len - 1] == '\r')
		status_len--;
	if (status_len == strlen(PX_CTL_REPLY_OK) &&
	    memcmp(reply, PX_CTL_REPLY_OK, status_len) == 0) {
		ok = true;
	} else if (status_len == strlen(PX_CTL_REPLY_ERR) &&
		   memcmp(reply, PX_CTL_REPLY_ERR, status_len) == 0) {
		ok = false;
	} else {
		fprintf(stderr, "polluxctl: malformed reply from %s\n", path);
		return EXIT_USAGE;
	}
	body = nl + 1;
	body_len = len - (body - reply);
	if (ok) {
		if (fwrite(body, 1, body_len, stdout) != body_len || fflush(stdout) != 0) {
			fprintf(stderr, "polluxctl: writing the reply: %s\n", strerror(errno));
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (body_len == 0)
		fprintf(stderr, "polluxctl: pollux replied ERR\n");
	else
		fwrite(body, 1, body_len, stderr);
	return EXIT_ERR;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("POLLUX_CONTROL");
	char req[PX_CTL_MAX_REQUEST];
	int64_t deadline;
	size_t reply_len = 0;
	char *reply = NULL;
	int c, len, fd, rc;

	if (path == NULL || path[0] == '\0')
		path = PX_CTL_DEFAULT_PATH;
	/* '+': stop at the command, so that its own arguments may look like options. */
	while ((c = getopt_long(argc, argv, "+s:h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "polluxctl: no command given\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	len = build_request(req, sizeof(req), argc - optind, argv + optind);
	if (len < 0)
		return EXIT_USAGE;

	deadline = ctl_sockio_now_ms() + TIMEOUT_MS;
	fd = connect_to(path);
	if (fd < 0)
		return EXIT_USAGE;
	rc = ctl_sockio_send_all(fd, req, len, deadline);
	if (rc == 0) {
		shutdown(fd, SHUT_WR);
		rc = read_reply(fd, &reply, &reply_len, deadline);
	}
	close(fd);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "polluxctl: no reply from %s within %d s\n", path,
			TIMEOUT_MS / 1000);
		return EXIT_USAGE;
	}
	if (rc < 0) {
		fprintf(stderr, "polluxctl: talking to %s: %s\n", path, strerror(-rc));
		return EXIT_USAGE;
	}
	rc = print_reply(path, reply, reply_len);
	free(reply);
	return rc;
}
