/* SPDX-License-Identifier: BSD-3-Clause */
/* The dnstap logging thread and the workers' rings (ctl_dnstap.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <fstrm.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "ctl_dnstap.h"
#include "dp_tap.h"

RTE_LOG_REGISTER(ctl_dnstap_logtype, pollux.ctl.dnstap, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_dnstap_logtype, "pollux: " __VA_ARGS__)

/* Frames gathered from one ring before one write: a write per batch, not per message. */
#define BATCH 64
/* How long the thread sleeps when every ring was empty: a record waits at most this long. */
#define IDLE_SLEEP_US 1000
/* How long shutdown waits for the thread (a socket reader that stopped reading blocks it). */
#define JOIN_TIMEOUT_S 5

struct ctl_dnstap {
	struct ctl_dnstap_conf conf; /* path owned (a copy) */
	unsigned workers;
	struct dp_tap **taps;        /* [workers], each on its worker's socket, ring after it */
	struct fstrm_writer_options *wopt;
	struct fstrm_file_options *fopt;
	struct fstrm_unix_writer_options *uopt;
	struct fstrm_writer *w;      /* thread: rw (ctl before start); NULL while not open */
	struct ctl_dnstap_next *pending; /* ctl: stores; thread: takes (exchange) */
	uint64_t switch_asked;       /* ctl only: destinations committed */
	uint64_t switch_done;        /* thread: stores the last one in use; ctl: loads */
	uint64_t retry_ms;           /* thread: when to try the socket again */
	pthread_t thread;
	bool started;
	bool stop;                   /* ctl: set once; thread: relaxed load per pass */
	char identity[256];
	char version[64];
	/* The thread's own tallies, logged at shutdown. Thread: rw, ctl: ro after join. */
	uint64_t frames, lost, opens_failed;
	uint8_t buf[BATCH][CTL_DNSTAP_FRAME_MAX]; /* thread only */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
clock_now(struct ctl_dnstap_clock *clk)
{
	struct timespec ts;

	clk->hz = rte_get_tsc_hz();
	clk->tsc = rte_rdtsc();
	clock_gettime(CLOCK_REALTIME, &ts);
	clk->ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Opens the stream: a file is created or truncated; a socket is connected and the content
 * type agreed with its reader. Returns true if open. */
static bool
writer_open(struct ctl_dnstap *d)
{
	d->w = d->conf.socket ? fstrm_unix_writer_init(d->uopt, d->wopt)
			      : fstrm_file_writer_init(d->fopt, d->wopt);
	if (d->w != NULL && fstrm_writer_open(d->w) == fstrm_res_success)
		return true;
	if (d->w != NULL)
		fstrm_writer_destroy(&d->w);
	d->w = NULL;
	d->opens_failed++;
	return false;
}

/* Closes the stream; a file is flushed and the stream ends with a STOP frame. */
static void
writer_close(struct ctl_dnstap *d)
{
	if (d->w == NULL)
		return;
	fstrm_writer_close(d->w);
	fstrm_writer_destroy(&d->w);
	d->w = NULL;
}

/* Encodes and writes up to BATCH records of ring r. Returns how many were taken. */
static unsigned
drain_ring(struct ctl_dnstap *d, struct px_tap_ring *r, const struct ctl_dnstap_clock *clk,
	   const struct ctl_dnstap_ident *id)
{
	struct iovec iov[BATCH];
	const struct px_tap_rec *rec;
	unsigned n = 0, taken = 0;

	while (taken < BATCH && (rec = px_tap_ring_peek(r)) != NULL) {
		size_t len = ctl_dnstap_encode(rec, id, clk, d->buf[n], sizeof(d->buf[n]));

		px_tap_ring_release(r);
		taken++;
		if (len == 0) {
			d->lost++;
			continue;
		}
		iov[n].iov_base = d->buf[n];
		iov[n].iov_len = len;
		n++;
	}
	if (n == 0)
		return taken;
	if (fstrm_writer_writev(d->w, iov, (int)n) != fstrm_res_success) {
		/* The reader went away (a socket) or the disk failed: what was taken is lost,
		 * and the stream is opened again later. */
		d->lost += n;
		writer_close(d);
		d->retry_ms = now_ms() + CTL_DNSTAP_RETRY_MS;
		if (!d->conf.socket)
			LOG(ERR, "dnstap_write_failed: %s: writing failed; retrying every %u ms\n",
			    d->conf.path, CTL_DNSTAP_RETRY_MS);
		return taken;
	}
	d->frames += n;
	return taken;
}

/* One pass over every ring. Returns how many records were taken. */
static unsigned
drain_all(struct ctl_dnstap *d)
{
	const struct ctl_dnstap_ident id = {d->identity, d->version};
	struct ctl_dnstap_clock clk;
	unsigned total = 0;

	clock_now(&clk);
	for (unsigned i = 0; i < d->workers && d->w != NULL; i++)
		total += drain_ring(d, d->taps[i]->ring, &clk, &id);
	return total;
}

/* A destination a reload asks for (ctl_dnstap_prepare): taken over by the thread. */
struct ctl_dnstap_next {
	struct ctl_dnstap_conf conf; /* path owned; NULL: logging off */
	struct fstrm_file_options *fopt;
	struct fstrm_unix_writer_options *uopt;
	uint64_t seq; /* switch_asked when committed */
};

/* The thread takes what a reload published: what the rings held goes to the old stream (a
 * ring's worth of passes at most, so that workers still logging cannot hold the switch), the
 * old stream is closed, and the new one is opened on the next pass. Returns whether it
 * switched. */
static bool
take_pending(struct ctl_dnstap *d)
{
	struct ctl_dnstap_next *n = __atomic_exchange_n(&d->pending, NULL, __ATOMIC_ACQ_REL);

	if (n == NULL)
		return false;
	for (unsigned pass = 0; d->w != NULL && pass <= CTL_DNSTAP_RING_SIZE / BATCH; pass++)
		if (drain_all(d) == 0)
			break;
	writer_close(d);
	if (d->fopt != NULL)
		fstrm_file_options_destroy(&d->fopt);
	if (d->uopt != NULL)
		fstrm_unix_writer_options_destroy(&d->uopt);
	free(d->conf.path);
	d->conf.path = n->conf.path;
	d->conf.socket = n->conf.socket;
	d->fopt = n->fopt;
	d->uopt = n->uopt;
	d->retry_ms = 0;
	__atomic_store_n(&d->switch_done, n->seq, __ATOMIC_RELEASE);
	free(n);
	return true;
}

static void *
dnstap_thread(void *arg)
{
	struct ctl_dnstap *d = arg;
	bool switched;
	sigset_t all;

	/* A socket reader that closes makes a write raise SIGPIPE: blocked here, the write fails
	 * with EPIPE instead of killing the daemon. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		take_pending(d);
		if (d->w == NULL && d->conf.path != NULL && now_ms() >= d->retry_ms &&
		    !writer_open(d))
			d->retry_ms = now_ms() + CTL_DNSTAP_RETRY_MS;
		if (d->w == NULL || drain_all(d) == 0)
			usleep(IDLE_SLEEP_US);
	}
	/* The workers have stopped: what the rings hold is all there will be. A file is opened
	 * again only when it is a new destination: reopening the one whose writes failed would
	 * truncate what it holds. */
	switched = take_pending(d);
	if (d->w == NULL && d->conf.path != NULL && (d->conf.socket || switched))
		writer_open(d);
	while (d->w != NULL && drain_all(d) != 0)
		;
	writer_close(d);
	return NULL;
}

static void
options_free(struct ctl_dnstap *d)
{
	if (d->wopt != NULL)
		fstrm_writer_options_destroy(&d->wopt);
	if (d->fopt != NULL)
		fstrm_file_options_destroy(&d->fopt);
	if (d->uopt != NULL)
		fstrm_unix_writer_options_destroy(&d->uopt);
}

struct ctl_dnstap *
ctl_dnstap_create(const struct ctl_dnstap_conf *conf, unsigned workers, char *err,
		  size_t err_len)
{
	struct ctl_dnstap *d = calloc(1, sizeof(*d));
	int fd;

	if (d == NULL || (d->taps = calloc(workers, sizeof(*d->taps))) == NULL) {
		snprintf(err, err_len, "dnstap: out of memory");
		goto err;
	}
	d->conf = *conf;
	d->conf.path = strdup(conf->path);
	d->workers = workers;
	if (d->conf.path == NULL) {
		snprintf(err, err_len, "dnstap: out of memory");
		goto err;
	}
	if (gethostname(d->identity, sizeof(d->identity) - 1) != 0)
		snprintf(d->identity, sizeof(d->identity), "pollux");
	snprintf(d->version, sizeof(d->version), "pollux %s", POLLUX_VERSION);
	d->wopt = fstrm_writer_options_init();
	fstrm_writer_options_add_content_type(d->wopt, CTL_DNSTAP_CONTENT_TYPE,
					      strlen(CTL_DNSTAP_CONTENT_TYPE));
	if (d->conf.socket) {
		d->uopt = fstrm_unix_writer_options_init();
		fstrm_unix_writer_options_set_socket_path(d->uopt, d->conf.path);
		return d; /* connected by the thread: the collector may not be up yet */
	}
	/* Opened here for the errno that libfstrm does not report: the file was checked when
	 * the option was read, but a start is the moment that counts. */
	fd = open(d->conf.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, err_len, "%s: dnstap: '%s': cannot be opened for writing: %s",
			 d->conf.origin, d->conf.path, strerror(errno));
		goto err;
	}
	close(fd);
	d->fopt = fstrm_file_options_init();
	fstrm_file_options_set_file_path(d->fopt, d->conf.path);
	if (!writer_open(d)) {
		snprintf(err, err_len, "%s: dnstap: '%s': cannot start a Frame Streams file",
			 d->conf.origin, d->conf.path);
		goto err;
	}
	return d;
err:
	if (d != NULL) {
		options_free(d);
		free(d->conf.path);
		free(d->taps);
		free(d);
	}
	return NULL;
}

struct dp_tap *
ctl_dnstap_worker(struct ctl_dnstap *d, unsigned w, int socket)
{
	size_t sz = RTE_ALIGN_CEIL(sizeof(struct dp_tap), RTE_CACHE_LINE_SIZE);
	struct dp_tap *t;
	struct px_tap_ring *r;

	if (d == NULL)
		return NULL;
	if (w >= d->workers) {
		errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("pollux_dnstap", sz + px_tap_ring_size(CTL_DNSTAP_RING_SIZE),
			       RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	r = (struct px_tap_ring *)((uint8_t *)t + sz);
	px_tap_ring_init(r, CTL_DNSTAP_RING_SIZE);
	dp_tap_init(t, r, d->conf.types, d->conf.sample);
	d->taps[w] = t;
	return t;
}

int
ctl_dnstap_start(struct ctl_dnstap *d, char *err, size_t err_len)
{
	int rc;

	for (unsigned i = 0; i < d->workers; i++)
		if (d->taps[i] == NULL) {
			snprintf(err, err_len, "dnstap: worker %u has no ring", i);
			return -EINVAL;
		}
	rc = pthread_create(&d->thread, NULL, dnstap_thread, d);
	if (rc != 0) {
		snprintf(err, err_len, "dnstap: cannot start the logging thread: %s", strerror(rc));
		return -rc;
	}
	pthread_setname_np(d->thread, "pollux-dnstap");
	d->started = true;
	LOG(INFO, "dnstap: logging to %s %s, 1 in %u messages\n",
	    d->conf.socket ? "socket" : "file", d->conf.path, d->conf.sample);
	return 0;
}

struct ctl_dnstap *
ctl_dnstap_open(const struct ctl_dnstap_conf *conf, char *err, size_t err_len)
{
	struct ctl_dnstap *d = ctl_dnstap_create(conf, rte_lcore_count() - 1, err, err_len);
	unsigned lcore, w = 0;

	if (d == NULL)
		return NULL;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (ctl_dnstap_worker(d, w, (int)rte_lcore_to_socket_id(lcore)) == NULL) {
			snprintf(err, err_len, "dnstap: out of memory for lcore %u's ring (%zu bytes)",
				 lcore, px_tap_ring_size(CTL_DNSTAP_RING_SIZE));
			ctl_dnstap_free(d);
			return NULL;
		}
		w++;
	}
	if (ctl_dnstap_start(d, err, err_len) != 0) {
		ctl_dnstap_free(d);
		return NULL;
	}
	return d;
}

struct dp_tap *
ctl_dnstap_tap(struct ctl_dnstap *d, unsigned w)
{
	return d != NULL && w < d->workers ? d->taps[w] : NULL;
}

void
ctl_dnstap_free(struct ctl_dnstap *d)
{
	struct timespec until;

	if (d == NULL)
		return;
	if (d->started) {
		__atomic_store_n(&d->stop, true, __ATOMIC_RELEASE);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += JOIN_TIMEOUT_S;
		if (pthread_timedjoin_np(d->thread, NULL, &until) != 0) {
			/* Its reader stopped reading: leave it (and what it uses, the path included,
			 * which a reload hands to the thread) to the exit. */
			LOG(WARNING, "dnstap_stuck: the logging thread did not finish in %d s; "
			    "not flushed\n", JOIN_TIMEOUT_S);
			return;
		}
		LOG(INFO, "dnstap: %" PRIu64 " frames written, %" PRIu64 " lost to write errors\n",
		    d->frames, d->lost);
	} else {
		writer_close(d);
	}
	ctl_dnstap_next_free(__atomic_exchange_n(&d->pending, NULL, __ATOMIC_ACQ_REL));
	for (unsigned i = 0; i < d->workers; i++)
		rte_free(d->taps[i]);
	options_free(d);
	free(d->conf.path);
	free(d->taps);
	free(d);
}

struct ctl_dnstap_next *
ctl_dnstap_prepare(const struct ctl_dnstap_conf *conf, bool reopen, char *err, size_t err_len)
{
	struct ctl_dnstap_next *n = calloc(1, sizeof(*n));
	int fd;

	if (n == NULL)
		goto nomem;
	n->conf = *conf;
	n->conf.path = NULL;
	if (conf->path == NULL)
		return n;
	if ((n->conf.path = strdup(conf->path)) == NULL)
		goto nomem;
	if (!reopen)
		return n; /* the stream in use stays: nothing to open or check */
	if (conf->socket) {
		if ((n->uopt = fstrm_unix_writer_options_init()) == NULL)
			goto nomem;
		fstrm_unix_writer_options_set_socket_path(n->uopt, n->conf.path);
		return n;
	}
	/* As at start: a file that cannot be opened refuses the reload, naming where it came
	 * from. It is truncated when the thread opens it. */
	fd = open(conf->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, err_len, "%s: dnstap: '%s': cannot be opened for writing: %s",
			 conf->origin, conf->path, strerror(errno));
		ctl_dnstap_next_free(n);
		return NULL;
	}
	close(fd);
	if ((n->fopt = fstrm_file_options_init()) == NULL)
		goto nomem;
	fstrm_file_options_set_file_path(n->fopt, n->conf.path);
	return n;
nomem:
	snprintf(err, err_len, "dnstap: out of memory");
	ctl_dnstap_next_free(n);
	return NULL;
}

void
ctl_dnstap_commit(struct ctl_dnstap *d, struct ctl_dnstap_next *n, bool reopen)
{
	uint32_t types = n->conf.path != NULL ? n->conf.types : 0;
	uint32_t sample = n->conf.sample == 0 ? 1 : n->conf.sample;

	for (unsigned i = 0; i < d->workers; i++) {
		__atomic_store_n(&d->taps[i]->sample, sample, __ATOMIC_RELAXED);
		__atomic_store_n(&d->taps[i]->types, types, __ATOMIC_RELAXED);
	}
	if (!reopen) {
		ctl_dnstap_next_free(n);
		return;
	}
	/* Logged first: once published, n is the thread's. */
	LOG(INFO, "dnstap: %s%s%s, 1 in %u messages\n", n->conf.path == NULL ? "off" : "now to ",
	    n->conf.path == NULL ? "" : n->conf.socket ? "socket " : "file ",
	    n->conf.path == NULL ? "" : n->conf.path, sample);
	/* A destination published before the thread took it is replaced: the thread only ever
	 * opens the latest. */
	n->seq = ++d->switch_asked;
	ctl_dnstap_next_free(__atomic_exchange_n(&d->pending, n, __ATOMIC_ACQ_REL));
}

void
ctl_dnstap_next_free(struct ctl_dnstap_next *n)
{
	if (n == NULL)
		return;
	if (n->fopt != NULL)
		fstrm_file_options_destroy(&n->fopt);
	if (n->uopt != NULL)
		fstrm_unix_writer_options_destroy(&n->uopt);
	free(n->conf.path);
	free(n);
}

bool
ctl_dnstap_switched(struct ctl_dnstap *d)
{
	return __atomic_load_n(&d->switch_done, __ATOMIC_ACQUIRE) == d->switch_asked;
}
