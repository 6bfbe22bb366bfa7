/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket, driven by real clients: most tests connect, write and close from the test
 * itself before serving (a Unix socket queues all of it), so they need no threads. The polluxctl
 * test runs the real binary named by the POLLUXCTL environment variable.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include <pollux/ctl_proto.h>

#include "ctl_api.h"

#define BIG_REPLY (4u << 20)
#define TIMEOUT_MS 1000

struct calls {
	int count;
	int argc;
	char argv0[64];
};

static char dir[64];
static char sock_path[100]; /* fits sun_path */
static struct calls calls;
/* The "detach" and "dump-cache" commands take the connection over (ctl_api_detach). */
static struct ctl_api *detach_api;
static int detached_fd = -1;
static bool dump_complete;

#define DUMP_BODY "; a dump\nwww.example.test.\t1\tIN\tA\t192.0.2.1\n"
#define DUMP_END PX_CTL_DUMP_END "1 entries\n"

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	/* A client that vanishes must not kill the server: keep the default, fatal SIGPIPE. */
	signal(SIGPIPE, SIG_DFL);
	snprintf(dir, sizeof(dir), "/tmp/pollux-test-api-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/run/pollux/ctl.sock", dir);
	memset(&calls, 0, sizeof(calls));
}

static void
teardown(void)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int
handler(void *arg, int argc, char **argv, FILE *out)
{
	struct calls *c = arg;

	c->count++;
	c->argc = argc;
	snprintf(c->argv0, sizeof(c->argv0), "%s", argv[0]);
	ck_assert_ptr_null(argv[argc]);
	if (strcmp(argv[0], "echo") == 0) {
		for (int i = 1; i < argc; i++)
			fprintf(out, "%s%s", i > 1 ? " " : "", argv[i]);
		fputc('\n', out);
		return 0;
	}
	if (strcmp(argv[0], "big") == 0) {
		for (unsigned i = 0; i < BIG_REPLY / 64; i++)
			fprintf(out, "%063u\n", i);
		return 0;
	}
	if (strcmp(argv[0], "detach") == 0) {
		detached_fd = ctl_api_detach(detach_api);
		return 0;
	}
	if (strcmp(argv[0], "dump-cache") == 0) {
		/* As the cache dump does, only all at once: the reply streams on the fd. */
		const char *body = dump_complete ? "OK\n" DUMP_BODY DUMP_END : "OK\n" DUMP_BODY;
		int fd = ctl_api_detach(detach_api);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(send(fd, body, strlen(body), MSG_NOSIGNAL), (ssize_t)strlen(body));
		close(fd);
		return 0;
	}
	if (strcmp(argv[0], "nonl") == 0) {
		fputs("no newline", out);
		return 0;
	}
	fprintf(out, "unknown command '%s'\n", argv[0]);
	return -EINVAL;
}

static struct ctl_api *
open_api(void)
{
	struct ctl_api *api = ctl_api_open(sock_path, handler, &calls);

	ck_assert_msg(api != NULL, "ctl_api_open: %s", strerror(errno));
	return api;
}

static int
client_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void
client_send(int fd, const char *buf, size_t len)
{
	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads until the server closes; the reply is NUL-terminated, its length in *len. */
static char *
client_read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		ssize_t r;

		if (n + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		r = recv(fd, buf + n, cap - n - 1, 0);
		ck_assert_msg(r >= 0, "recv: %s", strerror(errno));
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* One whole exchange: the request is queued before the server even accepts. */
static char *
exchange(struct ctl_api *api, const char *req, size_t req_len)
{
	int fd = client_connect();
	char *reply;

	client_send(fd, req, req_len);
	ck_assert_int_eq(ctl_api_serve(api, TIMEOUT_MS), 1);
	reply = client_read_all(fd, NULL);
	close(fd);
	return reply;
}

#define EXCHANGE(api, s) exchange((api), (s), strlen(s))

static void
assert_reply(struct ctl_api *api, const char *req, const char *want)
{
	char *reply = EXCHANGE(api, req);

	ck_assert_str_eq(reply, want);
	free(reply);
}

START_TEST(test_ctl_api_open_creates_parent_dir)
{
	struct ctl_api *api;
	char parent[128];
	struct stat st;
	int fd;

	umask(022);
	api = open_api();
	snprintf(parent, sizeof(parent), "%s/run/pollux", dir);
	ck_assert_int_eq(stat(parent, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	fd = ctl_api_fd(api);
	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_open_rejects_bad_arguments)
{
	char path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	ck_assert_ptr_null(ctl_api_open(path, handler, NULL));
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_ptr_null(ctl_api_open(sock_path, NULL, NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(ctl_api_open("", handler, NULL));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_ctl_api_serve_nothing_pending)
{
	struct ctl_api *api = open_api();

	ck_assert_int_eq(ctl_api_serve(api, TIMEOUT_MS), 0);
	ck_assert_int_eq(calls.count, 0);
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_serve_ok)
{
	struct ctl_api *api = open_api();

	assert_reply(api, "echo hello world\n", "OK\nhello world\n");
	ck_assert_int_eq(calls.count, 1);
	ck_assert_int_eq(calls.argc, 3);
	ck_assert_str_eq(calls.argv0, "echo");
	/* A body without a final newline gets one. */
	assert_reply(api, "nonl\n", "OK\nno newline\n");
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_serve_err)
{
	struct ctl_api *api = open_api();

	assert_reply(api, "nope\n", "ERR\nunknown command 'nope'\n");
	assert_reply(api, "\n", "ERR\nempty request\n");
	assert_reply(api, " \t \r\n", "ERR\nempty request\n");
	ck_assert_int_eq(calls.count, 1);
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_serve_splits_words)
{
	struct ctl_api *api = open_api();

	assert_reply(api, "  echo \t x   y\r\n", "OK\nx y\n");
	ck_assert_int_eq(calls.argc, 3);
	/* Whatever follows the first line is not a second request. */
	assert_reply(api, "echo one\necho two\n", "OK\none\n");
	ck_assert_int_eq(calls.count, 2);
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_serve_limits_words)
{
	struct ctl_api *api = open_api();
	char req[256] = "echo";

	for (int i = 1; i < PX_CTL_MAX_ARGS; i++)
		strcat(req, " w");
	strcat(req, "\n");
	assert_reply(api, req, "OK\nw w w w w w w w w w w w w w w\n");
	ck_assert_int_eq(calls.argc, PX_CTL_MAX_ARGS);
	strcpy(req + strlen(req) - 1, " w\n");
	assert_reply(api, req, "ERR\ntoo many words in request (at most 16)\n");
	ck_assert_int_eq(calls.count, 1);
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_serve_request_without_newline)
{
	struct ctl_api *api = open_api();
	int fd = client_connect();
	char *reply;

	client_send(fd, "echo eof", 8);
	shutdown(fd, SHUT_WR);
	ck_assert_int_eq(ctl_api_serve(api, TIMEOUT_MS), 1);
	reply = client_read_all(fd, NULL);
	ck_assert_str_eq(reply, "OK\neof\n");
	free(reply);
	close(fd);
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_serve_rejects_long_request)
{
	struct ctl_api *api = open_api();
	static char req[5000];
	char *reply;

	/* The longest request: PX_CTL_MAX_REQUEST bytes, newline included. */
	memset(req, 'a', sizeof(req));
	memcpy(req, "echo ", 5);
	req[PX_CTL_MAX_REQUEST - 1] = '\n';
	reply = exchange(api, req, PX_CTL_MAX_REQUEST);
	ck_assert_uint_eq(strlen(reply), 3 + PX_CTL_MAX_REQUEST - 5);
	ck_assert_int_eq(strncmp(reply, "OK\naaa", 6), 0);
	free(reply);
	ck_assert_int_eq(calls.count, 1);
	/* One more byte and the line does not fit. */
	req[PX_CTL_MAX_REQUEST - 1] = 'a';
	req[PX_CTL_MAX_REQUEST] = '\n';
	reply = exchange(api, req, PX_CTL_MAX_REQUEST + 1);
	ck_assert_str_eq(reply, "ERR\nrequest too long or incomplete\n");
	free(reply);
	/* Far more than fits: the reply still arrives whole, with no reset. */
	reply = exchange(api, req, sizeof(req));
	ck_assert_str_eq(reply, "ERR\nrequest too long or incomplete\n");
	free(reply);
	ck_assert_int_eq(calls.count, 1);
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_serve_rejects_nul)
{
	struct ctl_api *api = open_api();
	char *reply = exchange(api, "echo a\0b\n", 9);

	ck_assert_str_eq(reply, "ERR\nNUL byte in request\n");
	free(reply);
	ck_assert_int_eq(calls.count, 0);
	ctl_api_close(api);
}
END_TEST

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_ctl_api_serve_times_out_slow_client)
{
	struct ctl_api *api = open_api();
	int fd = client_connect();
	int64_t start;
	char *reply;

	client_send(fd, "echo", 4);
	start = mono_ms();
	ck_assert_int_eq(ctl_api_serve(api, 100), 1);
	ck_assert_int_lt(mono_ms() - start, 2000);
	reply = client_read_all(fd, NULL);
	ck_assert_str_eq(reply, "ERR\nrequest too long or incomplete\n");
	free(reply);
	close(fd);
	ck_assert_int_eq(calls.count, 0);
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_serve_survives_client_gone)
{
	struct ctl_api *api = open_api();
	int fd;

	/* Gone before anything was read: the big reply meets EPIPE, not SIGPIPE. */
	fd = client_connect();
	client_send(fd, "big\n", 4);
	close(fd);
	ck_assert_int_eq(ctl_api_serve(api, TIMEOUT_MS), 1);
	ck_assert_int_eq(calls.count, 1);
	/* Gone without a word: accepted and closed, but not counted as served. */
	close(client_connect());
	ck_assert_int_eq(ctl_api_serve(api, TIMEOUT_MS), 0);
	ck_assert_int_eq(calls.count, 1);
	/* Still there but not reading: the server gives up after the timeout. */
	fd = client_connect();
	client_send(fd, "big\n", 4);
	ck_assert_int_eq(ctl_api_serve(api, 100), 1);
	close(fd);
	/* And the server still works. */
	assert_reply(api, "echo alive\n", "OK\nalive\n");
	ctl_api_close(api);
}
END_TEST

static void *
slow_reader(void *arg)
{
	int fd = *(int *)arg;
	size_t len;
	char *reply;

	usleep(50 * 1000);
	reply = client_read_all(fd, &len);
	close(fd);
	*(size_t *)arg = len;
	free(reply);
	return NULL;
}

START_TEST(test_ctl_api_serve_large_reply)
{
	struct ctl_api *api = open_api();
	union {
		int fd;
		size_t len;
	} arg;
	pthread_t t;

	/* The reply is far larger than the socket buffer, so it goes out in partial writes. */
	arg.fd = client_connect();
	client_send(arg.fd, "big\n", 4);
	ck_assert_int_eq(pthread_create(&t, NULL, slow_reader, &arg), 0);
	ck_assert_int_eq(ctl_api_serve(api, 10000), 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(arg.len, 3 + BIG_REPLY);
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_open_replaces_stale_socket)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_api *api;
	struct stat st;
	int fd;

	/* A pollux that died leaves its socket file behind, with nobody listening. */
	api = open_api();
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	ck_assert_int_eq(unlink(sock_path), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	ctl_api_close(api);
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	api = open_api();
	assert_reply(api, "echo fresh\n", "OK\nfresh\n");
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_open_does_not_steal_live_socket)
{
	struct ctl_api *api = open_api();

	ck_assert_ptr_null(ctl_api_open(sock_path, handler, &calls));
	ck_assert_int_eq(errno, EADDRINUSE);
	assert_reply(api, "echo still mine\n", "OK\nstill mine\n");
	ctl_api_close(api);
}
END_TEST

START_TEST(test_ctl_api_open_keeps_other_files)
{
	char parent[128];
	struct stat st;
	FILE *f;

	snprintf(parent, sizeof(parent), "%s/run", dir);
	ck_assert_int_eq(mkdir(parent, 0755), 0);
	snprintf(parent, sizeof(parent), "%s/run/pollux", dir);
	ck_assert_int_eq(mkdir(parent, 0755), 0);
	f = fopen(sock_path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_ptr_null(ctl_api_open(sock_path, handler, &calls));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
}
END_TEST

START_TEST(test_ctl_api_close_unlinks)
{
	struct ctl_api *api = open_api();
	struct ctl_api *other;
	struct stat st;

	ctl_api_close(api);
	ck_assert_int_eq(lstat(sock_path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ctl_api_close(NULL);
	/* A socket another instance put in its place is left alone. */
	api = open_api();
	ck_assert_int_eq(unlink(sock_path), 0);
	other = open_api();
	ctl_api_close(api);
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	assert_reply(other, "echo other\n", "OK\nother\n");
	ctl_api_close(other);
	ck_assert_int_eq(lstat(sock_path, &st), -1);
}
END_TEST

START_TEST(test_ctl_api_detach)
{
	struct ctl_api *api = open_api();
	char buf[16], *reply;
	int fd;

	detach_api = api;
	ck_assert_int_eq(ctl_api_detach(api), -1); /* outside a handler */
	fd = client_connect();
	client_send(fd, "detach\n", 7);
	ck_assert_int_eq(ctl_api_serve(api, TIMEOUT_MS), 1);
	ck_assert_int_ge(detached_fd, 0);
	/* Nothing was sent and the connection is open: the new owner answers. */
	ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(send(detached_fd, "OK\nlater\n", 9, MSG_NOSIGNAL), 9);
	close(detached_fd);
	reply = client_read_all(fd, NULL);
	ck_assert_str_eq(reply, "OK\nlater\n");
	free(reply);
	close(fd);
	/* The next client is served as usual. */
	assert_reply(api, "echo a\n", "OK\na\n");
	ctl_api_close(api);
}
END_TEST

struct run {
	int status;
	char out[4096];
	char err[4096];
};

static void
read_pipe(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < cap && (r = read(fd, buf + n, cap - n - 1)) > 0)
		n += r;
	buf[n] = '\0';
	close(fd);
}

/* Runs polluxctl with args while serving api (which may be NULL). */
static void
run_polluxctl(const char *bin, struct ctl_api *api, const char *env_path, struct run *r,
	      const char **args)
{
	int out[2], err[2];
	int64_t deadline = mono_ms() + 10000;
	pid_t pid;

	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		if (env_path != NULL)
			setenv("POLLUX_CONTROL", env_path, 1);
		else
			unsetenv("POLLUX_CONTROL");
		execv(bin, (char **)args);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	for (;;) {
		pid_t w = waitpid(pid, &r->status, WNOHANG);

		if (w == pid)
			break;
		if (mono_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &r->status, 0);
			ck_abort_msg("polluxctl did not finish in 10 s");
		}
		if (api != NULL) {
			struct pollfd pfd = { .fd = ctl_api_fd(api), .events = POLLIN };

			if (poll(&pfd, 1, 20) > 0)
				ctl_api_serve(api, TIMEOUT_MS);
		} else {
			usleep(10000);
		}
	}
	read_pipe(out[0], r->out, sizeof(r->out));
	read_pipe(err[0], r->err, sizeof(r->err));
	ck_assert_msg(WIFEXITED(r->status), "polluxctl died");
	r->status = WEXITSTATUS(r->status);
}

START_TEST(test_ctl_api_serve_polluxctl)
{
	const char *bin = getenv("POLLUXCTL");
	struct ctl_api *api;
	struct run r;

	if (bin == NULL) {
		printf("test_ctl_api_serve_polluxctl: skipped: set POLLUXCTL to the polluxctl "
		       "binary to run it\n");
		return;
	}
	api = open_api();
	run_polluxctl(bin, api, NULL, &r,
		      (const char *[]){ bin, "-s", sock_path, "echo", "hi", "there", NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "hi there\n");
	ck_assert_str_eq(r.err, "");
	run_polluxctl(bin, api, sock_path, &r, (const char *[]){ bin, "nope", NULL });
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "unknown command 'nope'\n");
	run_polluxctl(bin, api, "/nonexistent", &r,
		      (const char *[]){ bin, "--socket", sock_path, "echo", NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "\n");
	ck_assert_int_eq(calls.count, 3);
	ctl_api_close(api);

	run_polluxctl(bin, NULL, sock_path, &r, (const char *[]){ bin, "status", NULL });
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "polluxctl: cannot connect to") != NULL, "stderr: %s", r.err);
	ck_assert_msg(strstr(r.err, "No such file or directory") != NULL, "stderr: %s", r.err);
	run_polluxctl(bin, NULL, NULL, &r, (const char *[]){ bin, NULL });
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "Usage:"));
	run_polluxctl(bin, NULL, NULL, &r, (const char *[]){ bin, "--help", NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "reload-hints"));
}
END_TEST

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 4096);

	ck_assert_ptr_nonnull(buf);
	if (f == NULL) {
		free(buf);
		return NULL;
	}
	ck_assert_uint_lt(fread(buf, 1, 4095, f), 4095);
	fclose(f);
	return buf;
}

/* polluxctl dump-cache FILE writes FILE itself, and only from a complete dump. */
START_TEST(test_polluxctl_dump_cache)
{
	const char *bin = getenv("POLLUXCTL");
	char file[128], *got;
	struct ctl_api *api;
	struct run r;
	FILE *f;

	if (bin == NULL) {
		printf("test_polluxctl_dump_cache: skipped: set POLLUXCTL to the polluxctl "
		       "binary to run it\n");
		return;
	}
	api = open_api();
	detach_api = api;
	snprintf(file, sizeof(file), "%s/cache.zone", dir);
	dump_complete = true;
	run_polluxctl(bin, api, sock_path, &r, (const char *[]){ bin, "dump-cache", file, NULL });
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_str_eq(calls.argv0, "dump-cache");
	ck_assert_int_eq(calls.argc, 1); /* FILE stays with polluxctl */
	got = slurp(file);
	ck_assert_str_eq(got, DUMP_BODY DUMP_END);
	free(got);
	run_polluxctl(bin, api, sock_path, &r, (const char *[]){ bin, "dump-cache", "-", NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, DUMP_BODY DUMP_END);

	/* Cut short: an error, and the previous file stays as it was. */
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs("previous\n", f);
	fclose(f);
	dump_complete = false;
	run_polluxctl(bin, api, sock_path, &r, (const char *[]){ bin, "dump-cache", file, NULL });
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "cut short") != NULL, "stderr: %s", r.err);
	got = slurp(file);
	ck_assert_str_eq(got, "previous\n");
	free(got);
	run_polluxctl(bin, api, sock_path, &r, (const char *[]){ bin, "dump-cache", NULL });
	ck_assert_int_eq(r.status, 2);
	ck_assert_int_eq(calls.count, 3);
	ctl_api_close(api);
}
END_TEST

Suite *api_suite(void);

Suite *
api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_api_open_creates_parent_dir);
	tcase_add_test(tc, test_ctl_api_open_rejects_bad_arguments);
	tcase_add_test(tc, test_ctl_api_open_replaces_stale_socket);
	tcase_add_test(tc, test_ctl_api_open_does_not_steal_live_socket);
	tcase_add_test(tc, test_ctl_api_open_keeps_other_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("framing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_api_serve_nothing_pending);
	tcase_add_test(tc, test_ctl_api_serve_ok);
	tcase_add_test(tc, test_ctl_api_serve_err);
	tcase_add_test(tc, test_ctl_api_serve_splits_words);
	tcase_add_test(tc, test_ctl_api_serve_limits_words);
	tcase_add_test(tc, test_ctl_api_serve_request_without_newline);
	tcase_add_test(tc, test_ctl_api_detach);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_clients");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_api_serve_rejects_long_request);
	tcase_add_test(tc, test_ctl_api_serve_rejects_nul);
	tcase_add_test(tc, test_ctl_api_serve_times_out_slow_client);
	tcase_add_test(tc, test_ctl_api_serve_survives_client_gone);
	tcase_add_test(tc, test_ctl_api_serve_large_reply);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_api_close_unlinks);
	suite_add_tcase(s, tc);

	tc = tcase_create("polluxctl");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ctl_api_serve_polluxctl);
	tcase_add_test(tc, test_polluxctl_dump_cache);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(api_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
