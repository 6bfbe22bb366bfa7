/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the unit tests: DNS message and frame builders, EAL start-up. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Writes name ("www.example.test", "." or "a.b.") in wire form to dst; returns its length, or
 * 0 if it is not a valid name. */
unsigned px_test_name(uint8_t *dst, const char *name);

struct px_test_query {
	uint16_t id;
	uint16_t flags;   /* e.g. PX_DNS_RD */
	const char *name; /* presentation form, case kept */
	uint16_t qtype;
	uint16_t qclass;
	bool edns;
	uint16_t edns_bufsize;
};

/* Builds a DNS query message in buf; returns its length. */
uint16_t px_test_query(uint8_t *buf, const struct px_test_query *q);

/* Starts the EAL for a test process: --no-huge --no-shconf --no-pci --no-telemetry -m 512,
 * with `lcores` (e.g. "0,1" or "0@0,1@1,2@0") and any extra arguments (NULL-terminated). Exits
 * the process if it fails. */
void px_test_eal_init(const char *prog, const char *lcores, const char *const *extra);

struct rte_mempool;
struct rte_ring;

/* A started net_ring port named name over two new rings, name_rx (what the test sends in) and
 * name_tx (what the port sends out), one queue pair with mbufs from pool. Exits the process if
 * it fails. In testlib_ring.c: tests that call it link net_ring. */
uint16_t px_test_ring_port(const char *name, struct rte_mempool *pool, struct rte_ring **rx,
			   struct rte_ring **tx);

/* A DNS message under construction, for scripted upstream replies: px_test_msg_start() writes
 * the header and the question, then records are appended section by section, in order (0
 * answer, 1 authority, 2 additional), each bumping its section's count. An owner or target of
 * NULL is written as a compression pointer to the question's name. Bad arguments abort(). */
struct px_test_msg {
	uint8_t buf[16384]; /* the most the TCP path takes from a server */
	uint16_t len;
	int sec; /* the section being filled */
};

/* flags go into the header as given (QR, AA, TC, rcode ...); the question's class is IN. */
void px_test_msg_start(struct px_test_msg *m, uint16_t id, uint16_t flags, const char *qname,
		       uint16_t qtype);

/* Appends an owner, type, class and TTL; returns the offset of the RDLENGTH, left for the
 * caller to fill in along with the rdata. */
uint16_t px_test_msg_rr_head(struct px_test_msg *m, int sec, const char *owner, uint16_t type,
			     uint16_t rclass, uint32_t ttl);

/* Appends a class IN record with the given rdata. */
void px_test_msg_rr(struct px_test_msg *m, int sec, const char *owner, uint16_t type, uint32_t ttl,
		    const void *rdata, uint16_t rdlen);

/* Appends an A or an AAAA record (by the address's form), TTL 300. */
void px_test_msg_addr(struct px_test_msg *m, int sec, const char *owner, const char *addr);

/* Appends a record whose rdata is one uncompressed name (NS, CNAME, PTR). */
void px_test_msg_target(struct px_test_msg *m, int sec, const char *owner, uint16_t type,
			uint32_t ttl, const char *target);

/* Appends an SOA (mname ns.example.test, serial 1000 ...) with the given TTL and MINIMUM. */
void px_test_msg_soa(struct px_test_msg *m, int sec, const char *owner, uint32_t ttl,
		     uint32_t minimum);

/* Appends an OPT to the additional section: 1232 bytes, the given TTL field, no options. */
void px_test_msg_opt(struct px_test_msg *m, uint32_t ttl);
