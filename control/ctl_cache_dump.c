/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include <pollux/ctl_proto.h>

#include "ctl_api.h"
#include "ctl_cache_cmd.h"
#include "ctl_cache_dump.h"
#include "ctl_sockio.h"
#include "dp_clock.h"

RTE_LOG_REGISTER(ctl_dump_logtype, pollux.ctl.dump, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_dump_logtype, "cache dump: " __VA_ARGS__)

/* Buckets copied per slice: at most four entries each, so a slice holds the lock-side work of
 * a few hundred copies, and formatting it takes well under a millisecond or two. */
#define SLICE_BUCKETS 256
/* Client input drained before the close, as ctl_api.c does (see DRAIN_MAX there). */
#define DRAIN_MAX 65536

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
ctl_cache_dump_init(struct ctl_cache_dump *d, struct dp_cache *c, struct ctl_api *api)
{
	memset(d, 0, sizeof(*d));
	d->cache = c;
	d->api = api;
	d->fd = -1;
}

bool
ctl_cache_dump_busy(const struct ctl_cache_dump *d)
{
	return d->running;
}

static void
copies_free(struct ctl_cache_dump *d)
{
	for (size_t i = 0; i < d->copy_count; i++)
		free(d->copies[i]);
	d->copy_count = 0;
}

static void
end(struct ctl_cache_dump *d, bool complete)
{
	char junk[4096];
	size_t total = 0;
	ssize_t n;

	if (!complete)
		d->aborted++;
	while (total < DRAIN_MAX && (n = recv(d->fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	close(d->fd);
	d->fd = -1;
	d->running = false;
	free(d->buf);
	d->buf = NULL;
	d->len = d->off = 0;
	copies_free(d);
	free(d->copies);
	d->copies = NULL;
	d->copy_cap = 0;
}

void
ctl_cache_dump_stop(struct ctl_cache_dump *d)
{
	if (d->running)
		end(d, false);
}

/* Replaces the (sent) buffer with what fn writes to a fresh one. */
static int
buf_fill(struct ctl_cache_dump *d, void (*fn)(struct ctl_cache_dump *, FILE *))
{
	FILE *f;

	free(d->buf);
	d->buf = NULL;
	d->len = d->off = 0;
	f = open_memstream(&d->buf, &d->len);
	if (f == NULL)
		return -ENOMEM;
	fn(d, f);
	if (fclose(f) != 0) {
		free(d->buf);
		d->buf = NULL;
		d->len = 0;
		return -ENOMEM;
	}
	return 0;
}

static void
write_head(struct ctl_cache_dump *d, FILE *f)
{
	(void)d;
	fprintf(f, PX_CTL_REPLY_OK "\n"
		"; pollux cache dump: the answers and delegations the cache holds, each with the\n"
		"; time it has left; local-zone data and expired entries are left out. Taken while\n"
		"; the table is walked, so not a snapshot.\n");
}

/* Under a bucket's lock: a copy, formatted once the lock is gone. Local-zone data is not
 * copied at all. */
static void
visit(void *arg, const struct dp_cache_entry *e)
{
	struct ctl_cache_dump *d = arg;
	size_t sz = ctl_cache_entry_size(e);
	struct dp_cache_entry *copy;

	if (e->flags & DP_CACHE_F_PINNED)
		return;
	if (d->copy_count == d->copy_cap) {
		size_t cap = d->copy_cap != 0 ? d->copy_cap * 2 : 4 * SLICE_BUCKETS;
		struct dp_cache_entry **p = realloc(d->copies, cap * sizeof(*p));

		if (p == NULL) {
			d->copy_failed = true;
			return;
		}
		d->copies = p;
		d->copy_cap = cap;
	}
	copy = malloc(sz);
	if (copy == NULL) {
		d->copy_failed = true;
		return;
	}
	memcpy(copy, e, sz);
	d->copies[d->copy_count++] = copy;
}

static void
write_slice(struct ctl_cache_dump *d, FILE *f)
{
	uint64_t now_ms = dp_clock_ms();

	for (size_t i = 0; i < d->copy_count; i++)
		d->entries += (uint64_t)ctl_cache_dump_entry(f, d->copies[i], now_ms);
	if (d->pos == dp_cache_bucket_count(d->cache)) {
		fprintf(f, PX_CTL_DUMP_END "%" PRIu64 " entries\n", d->entries);
		d->ended = true;
	}
}

int
ctl_cache_dump_start_fd(struct ctl_cache_dump *d, int fd)
{
	if (d->running)
		return -EBUSY;
	d->running = true;
	d->fd = fd;
	d->pos = 0;
	d->entries = 0;
	d->ended = false;
	d->copy_failed = false;
	d->last_ms = ctl_sockio_now_ms();
	if (buf_fill(d, write_head) != 0) {
		end(d, false);
		return -ENOMEM;
	}
	return 0;
}

int
ctl_cache_dump_start(struct ctl_cache_dump *d, FILE *err)
{
	int fd, rc;

	if (d->running) {
		fprintf(err, "a cache dump is running already; try again when it is done\n");
		return -EBUSY;
	}
	fd = ctl_api_detach(d->api);
	if (fd < 0) {
		fprintf(err, "dump-cache needs the control connection\n");
		return -EINVAL;
	}
	rc = ctl_cache_dump_start_fd(d, fd);
	if (rc != 0)
		return rc; /* the connection is closed: no reply can follow */
	LOG(INFO, "dump_started: %u buckets to walk\n", dp_cache_bucket_count(d->cache));
	return 0;
}

/* Sends what the socket takes. Returns 1 when everything went, 0 when the socket is full, -1
 * when the client is gone. */
static int
send_some(struct ctl_cache_dump *d)
{
	while (d->off < d->len) {
		ssize_t n = send(d->fd, d->buf + d->off, d->len - d->off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			d->off += (size_t)n;
			d->last_ms = ctl_sockio_now_ms();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	return 1;
}

void
ctl_cache_dump_tick(struct ctl_cache_dump *d)
{
	int64_t start = now_us();

	if (!d->running)
		return;
	/* A new slice is made only once the last one is sent: a slow reader holds one slice of
	 * memory, not the whole dump. */
	for (;;) {
		int s = send_some(d);

		if (s < 0) {
			LOG(NOTICE, "dump_aborted: the client went away after %" PRIu64 " entries\n",
			    d->entries);
			end(d, false);
			return;
		}
		if (s == 0)
			break;
		if (d->ended) {
			LOG(INFO, "dump_done: %" PRIu64 " entries\n", d->entries);
			end(d, true);
			return;
		}
		if (now_us() - start >= CTL_CACHE_DUMP_TICK_US)
			return;
		d->pos = dp_cache_walk(d->cache, d->pos, SLICE_BUCKETS, visit, d);
		if (d->copy_failed || buf_fill(d, write_slice) != 0) {
			LOG(WARNING, "dump_aborted: out of memory after %" PRIu64 " entries\n",
			    d->entries);
			end(d, false);
			return;
		}
		copies_free(d);
	}
	if (ctl_sockio_now_ms() - d->last_ms > CTL_CACHE_DUMP_STALL_MS) {
		LOG(NOTICE, "dump_aborted: the client read nothing for %d s\n",
		    CTL_CACHE_DUMP_STALL_MS / 1000);
		end(d, false);
	}
}
