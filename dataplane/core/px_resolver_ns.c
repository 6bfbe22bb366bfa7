/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nameserver side of the resolution state machine: building zone cuts (from the hints, a
 * cached delegation or a referral), checking every address against the policy, choosing the
 * next server and the (possibly minimised) name to ask, and glueless sub-resolutions. See
 * pollux/resolver.h.
 */
#include <errno.h>
#include <string.h>

#include <pollux/resolver.h>
#include <pollux/wire.h>

unsigned
res_labels(const uint8_t *name, unsigned len)
{
	unsigned n = 0;

	for (unsigned i = 0; i < len && name[i] != 0; i += 1u + name[i])
		n++;
	return n;
}

void
res_set_sname(struct px_resolution *s, const uint8_t *name, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		s->sname[i] = px_lower(name[i]);
	s->sname_len = (uint8_t)len;
	s->sname_labels = (uint8_t)res_labels(s->sname, len);
	s->qmin_steps = 0;
	/* The cuts given up were for the old name's zones (res_cut_mark_failed). */
	s->fb_failed_count = 0;
}

static bool
family_ok(const struct px_resolver *r, uint8_t family)
{
	return family == PX_AF_INET ? r->cfg.use_ipv4 : r->cfg.use_ipv6 && family == PX_AF_INET6;
}

/* Adds a to ns if it passes the policy (counted when not) and is not there already. Returns
 * true if ns holds it afterwards. */
bool
res_add_addr(struct px_resolver *r, struct px_resolver_ns *ns, const struct px_addr *a,
		enum px_addr_entry at)
{
	enum px_addr_reason why;

	if (a->family != PX_AF_INET && a->family != PX_AF_INET6)
		return false;
	why = px_addr_check(r->policy, a);
	if (why != PX_ADDR_OK) {
		if (ns->rejected != UINT8_MAX)
			ns->rejected++;
		if (at == PX_ADDR_AT_GLUE)
			r->stats.glue_rejected[why]++;
		else
			r->stats.ns_addr_rejected[why]++;
		return false;
	}
	for (unsigned i = 0; i < ns->addr_count; i++)
		if (px_addr_eq(&ns->addr[i], a))
			return true;
	if (ns->addr_count == PX_RES_NS_ADDRS)
		return false;
	ns->addr[ns->addr_count] = *a;
	ns->addr_state[ns->addr_count] = PX_RES_ADDR_UNTRIED;
	ns->addr_count++;
	return true;
}

static void
cut_reset(struct px_resolution *s, const uint8_t *zone, unsigned zone_len)
{
	memcpy(s->cut.zone, zone, zone_len);
	s->cut.zone_len = (uint8_t)zone_len;
	s->cut.ns_count = 0;
	s->cut.ttl = 0;
	s->cut_cached = false;
	res_qmin_step_reset(s);
}

/* The root hints h (NULL: none, an empty cut): the first PX_RES_MAX_NS servers, IPv4 then IPv6
 * addresses, each checked once more (the table was checked when it was built; this costs
 * little and keeps one rule). Everything used is copied into s: h is not kept. */
void
res_cut_hints(struct px_resolver *r, struct px_resolution *s, const struct px_hints *h)
{
	static const uint8_t root = 0;

	cut_reset(s, &root, 1);
	for (uint32_t i = 0; h != NULL && i < h->ns_count && s->cut.ns_count < PX_RES_MAX_NS; i++) {
		const struct px_hints_ns *hn = &h->ns[i];
		struct px_resolver_ns *ns = &s->cut.ns[s->cut.ns_count];

		memset(ns, 0, sizeof(*ns));
		memcpy(ns->name, hn->name, hn->name_len);
		ns->name_len = hn->name_len;
		for (unsigned j = 0; j < px_hints_ns_addr_count(hn); j++)
			res_add_addr(r, ns, &hn->addr[j], PX_ADDR_AT_HINTS);
		/* A hints server without a usable address is of no use: there is no way to look
		 * its name up without the root. */
		ns->state = ns->addr_count > 0 ? PX_RES_NS_GLUE : PX_RES_NS_UNUSABLE;
		s->cut.ns_count++;
	}
}

/* The state of an NS entry that has a name: GLUE with a usable address, else GLUELESS when it
 * lies outside the zone (a sub-resolution may find it), else UNUSABLE. */
static uint8_t
ns_state_named(const struct px_resolver *r, const struct px_resolver_ns *ns, const uint8_t *zone,
	       unsigned zone_len)
{
	for (unsigned i = 0; i < ns->addr_count; i++)
		if (family_ok(r, ns->addr[i].family))
			return PX_RES_NS_GLUE;
	if (ns->addr_count > 0)
		return PX_RES_NS_GLUE; /* addresses of a family this worker cannot use */
	if (ns->name_len == 0 || px_reply_name_in(ns->name, ns->name_len, zone, zone_len))
		return PX_RES_NS_UNUSABLE;
	return PX_RES_NS_GLUELESS;
}

/*
 * A delegation from the cache: its bare addresses (PX_RES_NS_ADDRS per unnamed entry), then
 * its named servers. Returns true if the cut has something to work with (a usable address or
 * a name to look up); false leaves a cut the caller must replace.
 */
bool
res_cut_start(struct px_resolver *r, struct px_resolution *s, const struct px_resolver_start_cut *sc)
{
	bool usable = false;

	cut_reset(s, sc->zone, sc->zone_len);
	s->cut_cached = true;
	for (unsigned i = 0; i < sc->addr_count; i++) {
		struct px_resolver_ns *ns = &s->cut.ns[s->cut.ns_count];

		if (i % PX_RES_NS_ADDRS == 0) {
			if (s->cut.ns_count == PX_RES_MAX_NS)
				break;
			memset(ns, 0, sizeof(*ns));
			ns->state = PX_RES_NS_UNUSABLE;
			s->cut.ns_count++;
		}
		ns = &s->cut.ns[s->cut.ns_count - 1];
		if (res_add_addr(r, ns, &sc->addrs[i], PX_ADDR_AT_NS_ADDR))
			ns->state = PX_RES_NS_GLUE;
	}
	for (unsigned i = 0; i < sc->ns_count && s->cut.ns_count < PX_RES_MAX_NS; i++) {
		const struct px_resolver_start_ns *sn = &sc->ns[i];
		struct px_resolver_ns *ns = &s->cut.ns[s->cut.ns_count];

		if (sn->name_len == 0)
			continue;
		memset(ns, 0, sizeof(*ns));
		memcpy(ns->name, sn->name, sn->name_len);
		ns->name_len = sn->name_len;
		for (unsigned j = 0; j < sn->addr_count && j < PX_RES_NS_ADDRS; j++)
			res_add_addr(r, ns, &sn->addrs[j], PX_ADDR_AT_NS_ADDR);
		ns->state = ns_state_named(r, ns, s->cut.zone, s->cut.zone_len);
		s->cut.ns_count++;
	}
	for (unsigned i = 0; i < s->cut.ns_count && !usable; i++) {
		const struct px_resolver_ns *ns = &s->cut.ns[i];

		if (ns->state == PX_RES_NS_GLUELESS)
			usable = true;
		for (unsigned j = 0; j < ns->addr_count; j++)
			usable |= family_ok(r, ns->addr[j].family);
	}
	return usable;
}

/* s's cut for its sname: the closest the cut source knows, else the root hints. */
void
res_cut_closest(struct px_resolver *r, struct px_resolution *s)
{
	struct px_resolver_start_buf buf;

	if (r->cut_fn != NULL && r->cut_fn(r->cut_arg, s->sname, s->sname_len, s->qtype, &buf) &&
	    px_reply_name_in(s->sname, s->sname_len, buf.sc.zone, buf.sc.zone_len)) {
		if (res_cut_start(r, s, &buf.sc)) {
			r->stats.cut_source_used++;
			return;
		}
		r->stats.start_cut_unusable++;
	}
	/* Loaded here, at use: the caller is inside the loop iteration that runs this. */
	res_cut_hints(r, s, px_resolver_hints(r));
}

/* Replaces s's cut with the referral's delegation. Returns 0, or -EINVAL if the delegation is
 * not strictly below the cut (px_reply rules it out; a server failure if it ever happens). */
int
res_cut_referral(struct px_resolver *r, struct px_resolution *s, const struct px_reply *rep)
{
	struct px_addr a;

	if (rep->zone_len <= s->cut.zone_len ||
	    !px_reply_name_in(rep->zone, rep->zone_len, s->cut.zone, s->cut.zone_len))
		return -EINVAL;
	for (unsigned i = 0; i < PX_ADDR_REASON_COUNT; i++)
		r->stats.glue_rejected[i] += rep->counts.addr_rejected[i];
	cut_reset(s, rep->zone, rep->zone_len);
	s->cut.ttl = px_reply_ttl_cap(px_reply_referral_ttl(rep), r->cfg.max_ttl);
	for (unsigned i = 0; i < rep->ns_count && i < PX_RES_MAX_NS; i++) {
		const struct px_reply_ns *rn = &rep->ns[i];
		struct px_resolver_ns *ns = &s->cut.ns[s->cut.ns_count++];

		memset(ns, 0, sizeof(*ns));
		memcpy(ns->name, rn->name, rn->name_len);
		ns->name_len = rn->name_len;
		ns->rejected = rn->addr_rejected; /* px_reply's policy check came first */
		for (unsigned j = 0; j < rn->addr_count; j++) {
			if (rn->addr[j].family == 4) {
				uint32_t v4;

				memcpy(&v4, rn->addr[j].addr, 4);
				px_addr_set4(&a, v4, 0);
			} else {
				px_addr_set6(&a, rn->addr[j].addr, 0);
			}
			res_add_addr(r, ns, &a, PX_ADDR_AT_GLUE);
		}
		if (ns->addr_count > 0)
			ns->state = PX_RES_NS_GLUE;
		else if (px_reply_name_in(ns->name, ns->name_len, s->cut.zone, s->cut.zone_len))
			/* Inside the zone it serves without glue: only the zone could say where
			 * it is. */
			ns->state = PX_RES_NS_UNUSABLE;
		else if (rn->glue_seen)
			/* In-bailiwick glue that the policy rejected: the delegation points at
			 * an address pollux never queries. Looking the name up elsewhere is a
			 * last resort (res_next_lookup), and what it finds is checked again. */
			ns->state = PX_RES_NS_REJECTED;
		else
			/* No glue, or glue out of the bailiwick (px_reply dropped it): the
			 * name is looked up like any glueless one. */
			ns->state = PX_RES_NS_GLUELESS;
	}
	res_cut_mark_failed(s);
	return 0;
}

/*
 * Why cut, out of servers, has none left to ask. PX_RES_FAIL_POLICY when no NS entry holds an
 * address (so none ever passed the policy, and no server was ever tried) and the policy refused
 * at least one: an entry that never had an address (in the zone without glue, a lookup that
 * found nothing) does not count either way, the policy rejected every address there was.
 * PX_RES_FAIL_NETWORK when every address this worker could use was unreachable. Else NO_NS.
 */
enum px_resolver_fail
res_cut_fail(const struct px_resolver *r, const struct px_resolver_cut *cut)
{
	bool rejected = false, held = false, unreachable = false, failed = false;

	for (unsigned i = 0; i < cut->ns_count; i++) {
		const struct px_resolver_ns *ns = &cut->ns[i];

		held |= ns->addr_count != 0;
		rejected |= ns->rejected != 0;
		for (unsigned j = 0; j < ns->addr_count; j++) {
			if (!family_ok(r, ns->addr[j].family))
				continue;
			unreachable |= ns->addr_state[j] == PX_RES_ADDR_UNREACHABLE;
			failed |= ns->addr_state[j] != PX_RES_ADDR_UNREACHABLE;
		}
	}
	if (!held && rejected)
		return PX_RES_FAIL_POLICY;
	if (unreachable && !failed)
		return PX_RES_FAIL_NETWORK;
	return PX_RES_FAIL_NO_NS;
}

void
res_qmin_step_reset(struct px_resolution *s)
{
	s->ask_labels = (uint8_t)res_labels(s->cut.zone, s->cut.zone_len);
}

/*
 * Chooses the name to ask next, RFC 9156 2.3: from_labels is the label count of the last name
 * asked (or of the cut). The first PX_RES_QMIN_ONE_LAB steps add one label, later ones spread
 * what is left over the steps left of PX_RES_QMIN_MAX; the last label always goes with the
 * real qtype, i.e. the full question.
 */
void
res_qmin_step(const struct px_resolver *r, struct px_resolution *s, unsigned from_labels)
{
	unsigned n = s->sname_labels, add;

	if (!r->cfg.qname_min || from_labels + 1 >= n || s->qmin_steps >= PX_RES_QMIN_MAX) {
		s->ask_labels = (uint8_t)n;
		return;
	}
	if (s->qmin_steps < PX_RES_QMIN_ONE_LAB) {
		add = 1;
	} else {
		unsigned left = PX_RES_QMIN_MAX - s->qmin_steps;

		add = (n - from_labels + left - 1) / left;
	}
	s->qmin_steps++;
	s->ask_labels = (uint8_t)(from_labels + add >= n ? n : from_labels + add);
}

/* Sets ask_off and ask_type from ask_labels. */
static void
ask_set(struct px_resolution *s)
{
	unsigned skip = s->sname_labels - s->ask_labels, off = 0;

	for (unsigned i = 0; i < skip; i++)
		off += 1u + s->sname[off];
	s->ask_off = (uint8_t)off;
	s->ask_type = skip == 0 ? s->qtype : PX_DNS_TYPE_A;
}

/*
 * Picks a usable address of s's cut (s's next question already set by ask_set()); returns
 * false when none is left. A candidate the worker has the very same question outstanding to
 * comes first: the resolution then shares that query (dp_miss.c) instead of putting the
 * question to another server too, which is what lets a crowd of resolutions below one zone
 * share one referral.
 */
static bool
pick_server(struct px_resolver *r, struct px_resolution *s, uint64_t now_ms, unsigned *ni, unsigned *ai)
{
	struct px_addr cand[PX_RES_MAX_NS * PX_RES_NS_ADDRS];
	uint8_t cn[PX_RES_MAX_NS * PX_RES_NS_ADDRS], ca[PX_RES_MAX_NS * PX_RES_NS_ADDRS];
	unsigned n = 0;
	int pick;

	for (unsigned i = 0; i < s->cut.ns_count; i++) {
		const struct px_resolver_ns *ns = &s->cut.ns[i];

		for (unsigned j = 0; j < ns->addr_count; j++) {
			if (ns->addr_state[j] >= PX_RES_ADDR_FAILED || /* or UNREACHABLE */
			    !family_ok(r, ns->addr[j].family) || res_addr_held_back(r, ns, j))
				continue;
			if (r->upq == NULL) {
				*ni = i;
				*ai = j;
				return true;
			}
			cand[n] = ns->addr[j];
			cn[n] = (uint8_t)i;
			ca[n] = (uint8_t)j;
			n++;
		}
	}
	if (n == 0)
		return false;
	pick = px_upq_find_server(r->upq, s->sname + s->ask_off,
				  (uint8_t)(s->sname_len - s->ask_off), s->ask_type, s->qclass,
				  PX_DNS_PORT, cand, n);
	if (pick < 0)
		pick = px_upq_server_select(r->upq, r->rand, cand, n, now_ms);
	if (pick < 0)
		pick = 0;
	*ni = cn[pick];
	*ai = ca[pick];
	return true;
}

/* True if s or one of its ancestors is resolving name: looking it up again would loop. */
static bool
resolving_already(const struct px_resolver *r, const struct px_resolution *s, const uint8_t *name,
		  unsigned len)
{
	for (;;) {
		if (s->sname_len == len && memcmp(s->sname, name, len) == 0)
			return true;
		if (s->parent == 0)
			return false;
		s = &r->pool[s->parent - 1];
	}
}

/* Starts a sub-resolution for s's NS entry ni. Returns it, or NULL (counted) when the pool is
 * full. */
static struct px_resolution *
sub_start(struct px_resolver *r, struct px_resolution *s, unsigned ni)
{
	struct px_resolver_ns *ns = &s->cut.ns[ni];
	struct px_resolution *sub = res_alloc(r);

	if (sub == NULL) {
		r->stats.glueless_no_slot++;
		return NULL;
	}
	sub->parent = (uint32_t)(s - r->pool) + 1;
	sub->top = s->top;
	sub->depth = (uint8_t)(s->depth + 1);
	sub->parent_ns = (uint8_t)ni;
	sub->start_ms = s->start_ms;
	sub->deadline_ms = s->deadline_ms;
	sub->qclass = PX_DNS_CLASS_IN;
	/* A first unless the worker has no IPv4; AAAA second. */
	sub->qtype = ns->lookups == 0 && r->cfg.use_ipv4 ? PX_DNS_TYPE_A : PX_DNS_TYPE_AAAA;
	ns->lookups = (uint8_t)(sub->qtype == PX_DNS_TYPE_A ? 1 : 2);
	memcpy(sub->qname, ns->name, ns->name_len);
	sub->qname_len = ns->name_len;
	res_set_sname(sub, ns->name, ns->name_len);
	res_cut_closest(r, sub);
	res_qmin_step(r, sub, sub->ask_labels);
	ns->state = PX_RES_NS_RESOLVING;
	s->child = (uint32_t)(sub - r->pool) + 1;
	r->pool[s->top].glueless++;
	r->stats.glueless_started++;
	return sub;
}

/*
 * The next step of s: SEND to a usable server of the cut, else start a glueless
 * sub-resolution, else fail (no usable nameserver, or a limit). Fills act.
 */
void
res_advance(struct px_resolver *r, struct px_resolution *s, uint64_t now_ms,
	       struct px_resolver_action *act)
{
	struct px_resolution *top = &r->pool[s->top];
	enum px_resolver_lookup why;
	unsigned ni, ai;

	if (now_ms >= s->deadline_ms) {
		res_fail(r, s, PX_RES_FAIL_DEADLINE, now_ms, act);
		return;
	}
	for (;;) {
		ask_set(s);
		if (pick_server(r, s, now_ms, &ni, &ai)) {
			if (top->queries >= r->cfg.max_queries) {
				res_fail(r, s, PX_RES_FAIL_QUERIES, now_ms, act);
				return;
			}
			top->queries++;
			r->stats.queries_sent++;
			if (s->ask_off != 0)
				r->stats.qmin_queries++;
			s->inflight = true;
			s->inflight_ns = (uint8_t)ni;
			s->inflight_addr = (uint8_t)ai;
			s->inflight_server = s->cut.ns[ni].addr[ai];
			act->kind = PX_RES_ACT_SEND;
			act->res = s->handle;
			act->server = s->inflight_server;
			act->qname = s->sname + s->ask_off;
			act->qname_len = (uint8_t)(s->sname_len - s->ask_off);
			act->qtype = s->ask_type;
			act->qclass = s->qclass;
			act->zone = s->cut.zone;
			act->zone_len = s->cut.zone_len;
			return;
		}
		/* A cached cut goes up (res_cut_parent) before its fallback lookups: a stale cut
		 * is the likelier cause of its servers all failing, one referral from the parent
		 * fixes it, and each lookup of a name whose glue failed could spend up to two of
		 * the tree's max_glueless, so that with a few such names going up would never be
		 * reached. When it cannot go up, the lookups are still tried. */
		ni = res_next_lookup(s, !s->cut_cached, &why);
		if (ni == s->cut.ns_count) {
			int ret = res_cut_parent(r, s);

			if (ret == 0)
				continue;
			if (s->cut_cached)
				ni = res_next_lookup(s, true, &why);
			if (ni == s->cut.ns_count) {
				res_fail(r, s,
					 ret == -E2BIG ? PX_RES_FAIL_REFERRALS
						       : res_cut_fail(r, &s->cut),
					 now_ms, act);
				return;
			}
		}
		struct px_resolver_ns *ns = &s->cut.ns[ni];

		if (s->depth + 1u > r->cfg.max_depth ||
		    resolving_already(r, s, ns->name, ns->name_len)) {
			ns->state = PX_RES_NS_UNUSABLE;
			continue;
		}
		if (top->glueless >= r->cfg.max_glueless) {
			res_fail(r, s, PX_RES_FAIL_GLUELESS, now_ms, act);
			return;
		}
		struct px_resolution *sub = sub_start(r, s, ni);

		if (sub == NULL) {
			ns->state = PX_RES_NS_UNUSABLE;
			continue;
		}
		if (why == PX_RES_LOOKUP_CHILD)
			r->stats.fb_child_lookup++;
		else if (why == PX_RES_LOOKUP_REJECTED)
			r->stats.fb_rejected_lookup++;
		res_advance(r, sub, now_ms, act);
		return;
	}
}

/*
 * A sub-resolution ended without a limit failure (its addresses, if any, are in the parent's NS
 * entry already): frees it and resumes the parent. An NS name left without an address gets its
 * AAAA lookup if only A was tried, else becomes unusable.
 */
void
res_sub_end(struct px_resolver *r, struct px_resolution *sub, uint64_t now_ms,
	       struct px_resolver_action *act)
{
	struct px_resolution *p = &r->pool[sub->parent - 1];
	struct px_resolver_ns *ns = &p->cut.ns[sub->parent_ns];
	bool usable = false;

	res_keep_parent_side(r, sub, ns);
	res_free(r, sub);
	p->child = 0;
	/* Failed addresses do not count: the name may have had glue that failed before its own
	 * zone was asked (res_next_lookup). */
	for (unsigned i = 0; i < ns->addr_count; i++)
		usable |= family_ok(r, ns->addr[i].family) &&
			  ns->addr_state[i] < PX_RES_ADDR_FAILED;
	if (usable) {
		ns->state = PX_RES_NS_GLUE;
		act->cache_cut = &p->cut;
	} else if (ns->lookups < 2 && r->cfg.use_ipv6) {
		ns->state = PX_RES_NS_GLUELESS;
	} else {
		ns->state = PX_RES_NS_UNUSABLE;
	}
	res_advance(r, p, now_ms, act);
}
