/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fallbacks within one resolution (see pollux/resolver.h, "Fallbacks"): a nameserver's
 * parent-side (glue) and child-side (its own zone's) addresses kept apart so that one is tried
 * when the other fails, a name whose glue all failed or was rejected looked up in its own zone,
 * and a cached cut whose servers all failed replaced by a fresh referral from the parent zone.
 * Each is counted and each stays within the resolution's limits: a lookup is a glueless
 * sub-resolution, a fresh cut a referral.
 */
#include <errno.h>
#include <string.h>

#include <pollux/resolver.h>
#include <pollux/wire.h>

bool
res_add_addr_side(struct px_resolver *r, struct px_resolver_ns *ns, const struct px_addr *a,
		  enum px_addr_entry at, enum px_resolver_addr_side side)
{
	unsigned before = ns->addr_count;

	if (!res_add_addr(r, ns, a, at))
		return false;
	if (ns->addr_count > before)
		ns->addr_side[before] = (uint8_t)side;
	return true;
}

/*
 * True when address j of ns is parent-side glue held back because the name's own zone gave
 * addresses that are still untried or working: the child side is the more authoritative
 * (RFC 2181 5.4.1), and the glue is the fallback when all of it has failed.
 */
bool
res_addr_held_back(const struct px_resolver *r, const struct px_resolver_ns *ns, unsigned j)
{
	if (ns->addr_side[j] != PX_RES_SIDE_PARENT)
		return false;
	for (unsigned i = 0; i < ns->addr_count; i++) {
		uint8_t f = ns->addr[i].family;

		if (ns->addr_side[i] == PX_RES_SIDE_CHILD &&
		    ns->addr_state[i] < PX_RES_ADDR_FAILED &&
		    (f == PX_AF_INET ? r->cfg.use_ipv4 : r->cfg.use_ipv6))
			return true;
	}
	return false;
}

/*
 * The sub-resolution sub, which looked up the NS entry ns of its parent, is ending: the glue
 * its own cut holds for that very name (the parent side: what the zone above the name's zone
 * says) joins the child-side addresses its answer gave, if any. So an address the name's own
 * zone gives that does not work, or a lookup the name's zone fails (NXDOMAIN, NODATA, REFUSED,
 * SERVFAIL, lame), still leaves the glue that led to that zone. Glue that failed the
 * sub-resolution is kept too: a server that would not say where it is may still serve the
 * zone it was named for (a silent one costs one more timeout, within the limits). Each address
 * passes the policy once more.
 */
void
res_keep_parent_side(struct px_resolver *r, const struct px_resolution *sub,
		     struct px_resolver_ns *ns)
{
	unsigned before = ns->addr_count;

	for (unsigned i = 0; i < sub->cut.ns_count; i++) {
		const struct px_resolver_ns *g = &sub->cut.ns[i];

		if (g->name_len != ns->name_len || memcmp(g->name, ns->name, ns->name_len) != 0)
			continue;
		for (unsigned j = 0; j < g->addr_count; j++)
			res_add_addr_side(r, ns, &g->addr[j], PX_ADDR_AT_NS_ADDR,
					  PX_RES_SIDE_PARENT);
	}
	if (ns->addr_count > before)
		r->stats.fb_parent_addr++;
}

/*
 * The NS entry of s's cut to look up next, once no address is left to ask (or
 * s->cut.ns_count): a glueless name first; then, if fallbacks, a name outside the zone whose
 * glue all failed and that was never looked up (its own zone may know an address that works),
 * and last a name outside the zone whose glue the policy rejected (what the lookup returns
 * goes through the policy again). The entry chosen is left GLUELESS for res_advance(), and
 * *why says which of the three it is (counted by the caller once the lookup starts).
 */
unsigned
res_next_lookup(struct px_resolution *s, bool fallbacks, enum px_resolver_lookup *why)
{
	struct px_resolver_cut *cut = &s->cut;
	unsigned i;

	*why = PX_RES_LOOKUP_GLUELESS;
	for (i = 0; i < cut->ns_count; i++)
		if (cut->ns[i].state == PX_RES_NS_GLUELESS)
			return i;
	if (!fallbacks)
		return cut->ns_count;
	for (i = 0; i < cut->ns_count; i++) {
		struct px_resolver_ns *ns = &cut->ns[i];

		if (ns->state == PX_RES_NS_GLUE && ns->name_len != 0 && ns->lookups == 0 &&
		    !px_reply_name_in(ns->name, ns->name_len, cut->zone, cut->zone_len)) {
			ns->state = PX_RES_NS_GLUELESS;
			*why = PX_RES_LOOKUP_CHILD;
			return i;
		}
	}
	for (i = 0; i < cut->ns_count; i++) {
		if (cut->ns[i].state == PX_RES_NS_REJECTED) {
			cut->ns[i].state = PX_RES_NS_GLUELESS;
			*why = PX_RES_LOOKUP_REJECTED;
			return i;
		}
	}
	return cut->ns_count;
}

/*
 * Every server of s's cut failed. A cut that came from the cache may be stale: it is replaced
 * by the closest cut the cut source knows above it (else the root hints), whose servers are
 * asked again and whose referral brings the zone's current servers. It counts as a referral.
 * Returns 0 with the new cut in place, -ENOENT when the cut did not come from the cache (or is
 * the root's), -ENETUNREACH when every address it had was unreachable (no query left this
 * host: a stale cut is not the cause, and asking further only spends the deadline), or -E2BIG
 * when max_referrals are used up.
 */
int
res_cut_parent(struct px_resolver *r, struct px_resolution *s)
{
	struct px_resolver_start_buf buf;
	uint8_t zone[PX_DNS_NAME_BUF];
	unsigned len = s->cut.zone_len, up;

	if (!s->cut_cached || len <= 1)
		return -ENOENT;
	if (res_cut_fail(r, &s->cut) == PX_RES_FAIL_NETWORK)
		return -ENETUNREACH;
	if (s->referrals >= r->cfg.max_referrals)
		return -E2BIG;
	memcpy(zone, s->cut.zone, len);
	up = 1u + zone[0];
	/* Remembered with the zone: a server failed for this zone (lame, silent...) fails the
	 * same question in a fresh cut of it again, but may well serve another zone (a parent
	 * server lame for the child it no longer serves). */
	for (unsigned i = 0; i < s->cut.ns_count; i++) {
		const struct px_resolver_ns *ns = &s->cut.ns[i];

		for (unsigned j = 0; j < ns->addr_count && s->fb_failed_count < PX_RES_FB_FAILED;
		     j++) {
			struct px_resolver_fb_mark *mk = &s->fb_failed[s->fb_failed_count];

			if (ns->addr_state[j] < PX_RES_ADDR_FAILED)
				continue;
			mk->addr = ns->addr[j];
			mk->zone_len = (uint8_t)len;
			mk->state = ns->addr_state[j];
			s->fb_failed_count++;
		}
	}
	s->referrals++;
	r->stats.fb_parent_cut++;
	if (r->cut_fn != NULL &&
	    r->cut_fn(r->cut_arg, zone + up, (uint8_t)(len - up), PX_DNS_TYPE_NS, &buf) &&
	    buf.sc.zone_len < len && px_reply_name_in(zone, len, buf.sc.zone, buf.sc.zone_len) &&
	    res_cut_start(r, s, &buf.sc)) {
		r->stats.cut_source_used++;
	} else {
		res_cut_hints(r, s, px_resolver_hints(r));
	}
	res_cut_mark_failed(s);
	res_qmin_step(r, s, s->ask_labels);
	return 0;
}

/* Marks the addresses of s's cut that failed in a cut of the same zone that s gave up
 * (res_cut_parent) the same way here (failed, or unreachable): the parent may well hand out
 * the same servers again. The zone is told by its length alone: the marks' zones and the cut's
 * are all suffixes of sname (the marks are dropped when sname changes, res_set_sname). */
void
res_cut_mark_failed(struct px_resolution *s)
{
	for (unsigned k = 0; k < s->fb_failed_count; k++) {
		const struct px_resolver_fb_mark *mk = &s->fb_failed[k];

		if (mk->zone_len != s->cut.zone_len)
			continue;
		for (unsigned i = 0; i < s->cut.ns_count; i++) {
			struct px_resolver_ns *ns = &s->cut.ns[i];

			for (unsigned j = 0; j < ns->addr_count; j++)
				if (px_addr_eq(&ns->addr[j], &mk->addr))
					ns->addr_state[j] = mk->state;
		}
	}
}
