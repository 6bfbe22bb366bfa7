/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * polluxctl: sends one command to a running pollux over its control socket and prints the
 * reply. Plain libc, no DPDK, so that it runs anywhere, as any user allowed on the socket.
 */
#include <errno.h>
#include <fcntl.h>
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
		"  tcp                the DNS-over-TCP server thread's counters\n"
		"  acl                access-control rules in force: origin, action, hits\n"
		"  health             'ok' when every worker polls, the link is up, hints are\n"
		"                     loaded and a resolution succeeded within\n"
		"                     --health-resolve-window; else each reason, and exit 1\n"
		"  flush NAME [TYPE]  remove NAME's cache entries (of every type, or of TYPE;\n"
		"                     TYPE NS takes the delegation at NAME too)\n"
		"  flush-zone NAME    remove every entry at or below NAME, delegations included\n"
		"  flush-all          remove every cache entry\n"
		"                     (the flushes say how many entries went; local-zone data is\n"
		"                     never flushed; a NAME with nothing to remove is an error)\n"
		"  lookup NAME TYPE   what the cache holds for NAME TYPE: rcode, records, TTL\n"
		"                     left, fresh or expired, origin (resolved, local-zone, primed)\n"
		"  dump-cache FILE    write the cache as a master file to FILE ('-': stdout); pollux\n"
		"                     streams it, polluxctl writes FILE (replaced only when the\n"
		"                     dump is complete)\n"
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

/* The output of dump-cache: FILE is written under a temporary name beside it and renamed over
 * FILE only once the dump is complete, so a cut dump never replaces a good one. */
struct dump_out {
	FILE *f;
	const char *file; /* "-": stdout */
	char *tmp;
};

static int
dump_open(struct dump_out *o, const char *file)
{
	int fd;

	o->file = file;
	o->tmp = NULL;
	if (strcmp(file, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	if (asprintf(&o->tmp, "%s.tmp.%ld", file, (long)getpid()) < 0) {
		o->tmp = NULL;
		return -ENOMEM;
	}
	fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || (o->f = fdopen(fd, "w")) == NULL) {
		int err = errno;

		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		free(o->tmp);
		o->tmp = NULL;
		return -err;
	}
	return 0;
}

/* Finishes the output: renamed into place when ok, else removed. Returns 0 or -errno. */
static int
dump_close(struct dump_out *o, bool ok)
{
	int rc = 0;

	if (o->f == stdout)
		return fflush(stdout) == 0 ? 0 : -errno;
	if (fclose(o->f) != 0)
		rc = -errno;
	if (ok && rc == 0 && rename(o->tmp, o->file) != 0)
		rc = -errno;
	if (!ok || rc != 0)
		unlink(o->tmp);
	free(o->tmp);
	return rc;
}

/* Keeps the last bytes seen, so that the last line can be checked at the end. */
static void
tail_add(char *tail, size_t cap, size_t *len, const char *p, size_t n)
{
	if (n >= cap) {
		memcpy(tail, p + n - cap, cap);
		*len = cap;
		return;
	}
	if (*len + n > cap) {
		size_t drop = *len + n - cap;

		memmove(tail, tail + drop, *len - drop);
		*len -= drop;
	}
	memcpy(tail + *len, p, n);
	*len += n;
}

/* Whether the stream ended with a complete dump's last line. */
static bool
tail_complete(const char *tail, size_t len)
{
	size_t i;

	if (len == 0 || tail[len - 1] != '\n')
		return false;
	for (i = len - 1; i > 0 && tail[i - 1] != '\n'; i--)
		;
	return len - i > strlen(PX_CTL_DUMP_END) &&
	       memcmp(tail + i, PX_CTL_DUMP_END, strlen(PX_CTL_DUMP_END)) == 0;
}

/*
 * polluxctl dump-cache FILE: the reply streams for as long as the cache takes to walk, so it is
 * copied to FILE as it comes, with TIMEOUT_MS allowed between two reads rather than for the
 * whole reply. ERR goes to stderr as for any command.
 */
static int
run_dump(int fd, const char *path, const char *file)
{
	char buf[65536], status[16], tail[256];
	size_t status_len = 0, tail_len = 0;
	struct dump_out o = {0};
	bool ok = false, err_reply = false, opened = false;
	int rc;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		char *p = buf;

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				rc = -errno;
				goto io_err;
			}
			rc = ctl_sockio_wait(fd, POLLIN, ctl_sockio_now_ms() + TIMEOUT_MS);
			if (rc < 0)
				goto io_err;
			continue;
		}
		/* The status line first. */
		while (!opened && !err_reply && n > 0) {
			char c = *p++;

			n--;
			if (c != '\n') {
				if (status_len + 1 >= sizeof(status)) {
					fprintf(stderr, "polluxctl: malformed reply from %s\n", path);
					return EXIT_USAGE;
				}
				status[status_len++] = c;
				continue;
			}
			status[status_len] = '\0';
			if (strcmp(status, PX_CTL_REPLY_ERR) == 0) {
				err_reply = true;
			} else if (strcmp(status, PX_CTL_REPLY_OK) == 0) {
				rc = dump_open(&o, file);
				if (rc < 0) {
					fprintf(stderr, "polluxctl: cannot write %s: %s\n", file,
						strerror(-rc));
					return EXIT_USAGE;
				}
				opened = true;
			} else {
				fprintf(stderr, "polluxctl: malformed reply from %s\n", path);
				return EXIT_USAGE;
			}
		}
		if (n == 0)
			continue;
		if (err_reply) {
			fwrite(p, 1, (size_t)n, stderr);
			continue;
		}
		if (fwrite(p, 1, (size_t)n, o.f) != (size_t)n) {
			fprintf(stderr, "polluxctl: writing %s: %s\n", file, strerror(errno));
			dump_close(&o, false);
			return EXIT_USAGE;
		}
		tail_add(tail, sizeof(tail), &tail_len, p, (size_t)n);
	}
	if (err_reply)
		return EXIT_ERR;
	if (!opened) {
		fprintf(stderr, "polluxctl: no reply from %s\n", path);
		return EXIT_USAGE;
	}
	ok = tail_complete(tail, tail_len);
	rc = dump_close(&o, ok);
	if (!ok) {
		fprintf(stderr, "polluxctl: the dump from %s was cut short%s\n", path,
			strcmp(file, "-") == 0 ? "" : "; nothing written");
		return EXIT_ERR;
	}
	if (rc < 0) {
		fprintf(stderr, "polluxctl: writing %s: %s\n", file, strerror(-rc));
		return EXIT_USAGE;
	}
	return EXIT_OK;
io_err:
	if (opened)
		dump_close(&o, false);
	if (rc == -ETIMEDOUT)
		fprintf(stderr, "polluxctl: %s sent nothing for %d s\n", path, TIMEOUT_MS / 1000);
	else
		fprintf(stderr, "polluxctl: talking to %s: %s\n", path, strerror(-rc));
	return EXIT_USAGE;
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
	const char *dump_file;
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
	/* dump-cache FILE: FILE is polluxctl's business; pollux is only asked for the dump. */
	dump_file = NULL;
	if (strcmp(argv[optind], "dump-cache") == 0) {
		if (argc - optind != 2) {
			fprintf(stderr, "polluxctl: usage: dump-cache FILE ('-' for stdout)\n");
			return EXIT_USAGE;
		}
		dump_file = argv[optind + 1];
	}
	len = build_request(req, sizeof(req), dump_file != NULL ? 1 : argc - optind,
			    argv + optind);
	if (len < 0)
		return EXIT_USAGE;

	deadline = ctl_sockio_now_ms() + TIMEOUT_MS;
	fd = connect_to(path);
	if (fd < 0)
		return EXIT_USAGE;
	rc = ctl_sockio_send_all(fd, req, len, deadline);
	if (rc == 0 && dump_file != NULL) {
		shutdown(fd, SHUT_WR);
		rc = run_dump(fd, path, dump_file);
		close(fd);
		return rc;
	}
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
