/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <pollux/ctl_proto.h>

#include "ctl_api.h"
#include "ctl_sockio.h"

/* Each call serves at most this many clients, so a flood of connections cannot keep the control
 * thread from its other duties; the rest stay queued until the next call. */
#define SERVE_BURST 32

/* Before closing, unread client input is dropped, up to this much: closing a Unix socket with
 * unread data makes the peer's next read fail with ECONNRESET instead of ending cleanly. */
#define DRAIN_MAX 65536

#define MSG_TOO_LONG "request too long or incomplete\n"

struct ctl_api {
	int fd;
	char *path;
	dev_t dev;   /* the socket file we bound, so that close never unlinks someone else's */
	ino_t ino;
	ctl_api_handler_t handler;
	void *arg;
	int cur_fd;    /* the connection a handler runs for, else -1 */
	bool detached; /* the handler took cur_fd over (ctl_api_detach) */
};

/* mkdir -p of the directory part of path. */
static int
make_parent_dir(const char *path)
{
	char *dir = strdup(path);
	char *slash, *p;
	int rc = 0;

	if (dir == NULL)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		goto out;
	*slash = '\0';
	for (p = dir + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			goto out;
		}
		if (last)
			break;
		*p = '/';
	}
out:
	free(dir);
	return rc;
}

static int
fill_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

/*
 * Tells a stale socket file (a pollux that died without unlinking it) from a live one. Returns
 * 0 when the path may be unlinked, -EADDRINUSE when something listens there, -EEXIST when the
 * path is not a socket at all (never delete what we did not create).
 */
static int
probe_existing(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	/* EAGAIN means a full backlog: alive, merely busy. */
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS)
		rc = -EADDRINUSE;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		rc = 0;
	else
		rc = -errno;
	close(fd);
	return rc;
}

static int
bind_listen(int fd, const struct sockaddr_un *sun)
{
	int rc;

	if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0) {
		if (errno != EADDRINUSE)
			return -errno;
		rc = probe_existing(sun);
		if (rc < 0)
			return rc;
		if (unlink(sun->sun_path) < 0 && errno != ENOENT)
			return -errno;
		if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0)
			return -errno;
	}
	if (listen(fd, SOMAXCONN) < 0)
		return -errno;
	return 0;
}

struct ctl_api *
ctl_api_open(const char *path, ctl_api_handler_t handler, void *arg)
{
	struct sockaddr_un sun;
	struct ctl_api *api;
	struct stat st;
	int rc;

	if (path == NULL || path[0] == '\0' || handler == NULL) {
		errno = EINVAL;
		return NULL;
	}
	rc = fill_addr(&sun, path);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	api = calloc(1, sizeof(*api));
	if (api == NULL)
		return NULL;
	api->fd = -1;
	api->cur_fd = -1;
	api->handler = handler;
	api->arg = arg;
	api->path = strdup(path);
	if (api->path == NULL) {
		rc = -ENOMEM;
		goto err;
	}
	rc = make_parent_dir(path);
	if (rc < 0)
		goto err;
	api->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (api->fd < 0) {
		rc = -errno;
		goto err;
	}
	rc = bind_listen(api->fd, &sun);
	if (rc < 0)
		goto err;
	if (lstat(path, &st) == 0) {
		api->dev = st.st_dev;
		api->ino = st.st_ino;
	}
	return api;
err:
	if (api->fd >= 0)
		close(api->fd);
	free(api->path);
	free(api);
	errno = -rc;
	return NULL;
}

int
ctl_api_fd(const struct ctl_api *api)
{
	return api != NULL ? api->fd : -1;
}

/*
 * Reads one request line into buf (NUL-terminated, newline stripped). Returns its length,
 * -EMSGSIZE when no newline came within PX_CTL_MAX_REQUEST bytes, -ETIMEDOUT, or -errno. A
 * client that sends its request and shuts down its side without a newline is served too.
 */
static int
read_request(int fd, char *buf, int64_t deadline)
{
	size_t len = 0;

	for (;;) {
		char *nl = memchr(buf, '\n', len);
		ssize_t n;

		if (nl != NULL) {
			*nl = '\0';
			return (int)(nl - buf);
		}
		if (len == PX_CTL_MAX_REQUEST)
			return -EMSGSIZE;
		n = recv(fd, buf + len, PX_CTL_MAX_REQUEST - len, 0);
		if (n > 0) {
			len += n;
			continue;
		}
		if (n == 0) {
			buf[len] = '\0';
			return len > 0 ? (int)len : -ENODATA;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		n = ctl_sockio_wait(fd, POLLIN, deadline);
		if (n < 0)
			return (int)n;
	}
}

static int
split_words(char *line, char **argv)
{
	int argc = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " \t\r", &save); w != NULL;
	     w = strtok_r(NULL, " \t\r", &save)) {
		if (argc == PX_CTL_MAX_ARGS)
			return -E2BIG;
		argv[argc++] = w;
	}
	return argc;
}

static void
drain(int fd)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;

	while (total < DRAIN_MAX && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += n;
}

/* Runs the handler on one request line. Returns whether the answer is OK; the body is left in
 * *reply (malloc'ed, NULL when memory ran out). */
static bool
handle(struct ctl_api *api, char *line, char **reply, size_t *reply_len)
{
	char *argv[PX_CTL_MAX_ARGS + 1];
	FILE *out;
	int argc;
	bool ok;

	out = open_memstream(reply, reply_len);
	if (out == NULL)
		return false;
	argc = split_words(line, argv);
	if (argc == -E2BIG) {
		fprintf(out, "too many words in request (at most %d)\n", PX_CTL_MAX_ARGS);
		ok = false;
	} else if (argc == 0) {
		fprintf(out, "empty request\n");
		ok = false;
	} else {
		argv[argc] = NULL;
		ok = api->handler(api->arg, argc, argv, out) == 0;
	}
	fflush(out);
	/* Clients read line by line: end the body with a newline when the handler forgot. */
	if (*reply_len > 0 && (*reply)[*reply_len - 1] != '\n')
		fputc('\n', out);
	if (fclose(out) != 0) {
		free(*reply);
		*reply = NULL;
		*reply_len = 0;
		return false;
	}
	return ok;
}

/* Returns whether the client asked something (and so was answered, if it was still there). */
static bool
serve_one(struct ctl_api *api, int cfd, int timeout_ms)
{
	int64_t deadline = ctl_sockio_now_ms() + timeout_ms;
	char line[PX_CTL_MAX_REQUEST + 1];
	const char *status, *body;
	char *reply = NULL;
	size_t body_len = 0;
	int len;

	len = read_request(cfd, line, deadline);
	if (len == -ENODATA || len == -ECONNRESET || len == -EPIPE)
		return false; /* the client left without asking, or probed that we are alive */
	if (len < 0) {
		status = PX_CTL_REPLY_ERR "\n";
		body = MSG_TOO_LONG;
		body_len = strlen(MSG_TOO_LONG);
	} else if (memchr(line, '\0', len) != NULL) {
		status = PX_CTL_REPLY_ERR "\n";
		body = "NUL byte in request\n";
		body_len = strlen(body);
	} else {
		bool ok;

		api->cur_fd = cfd;
		ok = handle(api, line, &reply, &body_len);
		api->cur_fd = -1;
		if (api->detached) {
			free(reply);
			return true;
		}

		status = ok ? PX_CTL_REPLY_OK "\n" : PX_CTL_REPLY_ERR "\n";
		body = reply != NULL ? reply : "out of memory\n";
		if (reply == NULL)
			body_len = strlen(body);
	}
	if (ctl_sockio_send_all(cfd, status, strlen(status), deadline) == 0)
		ctl_sockio_send_all(cfd, body, body_len, deadline);
	drain(cfd);
	free(reply);
	return true;
}

int
ctl_api_serve(struct ctl_api *api, int timeout_ms)
{
	int accepted = 0, served = 0;

	while (accepted < SERVE_BURST) {
		int cfd = accept4(api->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EAGAIN: nothing pending. EMFILE and the like: retrying now would spin;
			 * the connection stays queued for the next call. */
			break;
		}
		served += serve_one(api, cfd, timeout_ms);
		if (!api->detached)
			close(cfd);
		api->detached = false;
		accepted++;
	}
	return served;
}

int
ctl_api_detach(struct ctl_api *api)
{
	if (api == NULL || api->cur_fd < 0)
		return -1;
	api->detached = true;
	return api->cur_fd;
}

void
ctl_api_close(struct ctl_api *api)
{
	struct stat st;

	if (api == NULL)
		return;
	close(api->fd);
	/* If another instance replaced the socket meanwhile, the path is theirs now. */
	if (lstat(api->path, &st) == 0 && st.st_dev == api->dev && st.st_ino == api->ino)
		unlink(api->path);
	free(api->path);
	free(api);
}
