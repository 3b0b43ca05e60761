/*
 * nat.c - from a finished probe run to a verdict (see nat.h).
 *
 * Pure: reads struct probe, writes struct nat_verdict, no I/O.  The rules
 * are RFC 5780 section 4.3 (mapping), 4.4 (filtering) and 4.5
 * (hairpinning), named in RFC 3489 section 10.1's vocabulary.  A behaviour
 * is reported only when the tests established it; otherwise it is
 * "unknown" and a warning says why.  A positive observation (an answer
 * that arrived) is proof; a negative one rests on the engine's
 * retransmissions, so negatives are used only when nothing contradicts them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nat.h"
#include "addr.h"

/* Room left for the caller's own warnings (pinned port, send errors). */
#define NAT_RESERVED_WARNINGS 2

void
nat_warn(struct nat_verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->nwarnings >= NAT_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(v->warnings[v->nwarnings], NAT_WARNING_LEN, fmt, ap);
	va_end(ap);
	v->nwarnings++;
}

/* A test of this kind that ran against this server, or NULL. */
static const struct probe_test *
get(const struct probe *p, enum probe_kind kind, int server)
{
	for (size_t i = 0; i < p->ntests; i++)
		if (p->tests[i].kind == kind && p->tests[i].server == server)
			return &p->tests[i];
	return NULL;
}

static int
answered(const struct probe_test *t)
{
	return t != NULL && t->result == PROBE_ANSWERED;
}

static int
mapped(const struct probe_test *t)
{
	return answered(t) && t->has_mapped;
}

static int
no_answer(const struct probe_test *t)
{
	return t != NULL && t->result == PROBE_NO_ANSWER;
}

static int
is_change_kind(enum probe_kind k)
{
	return k == PROBE_FILTER_IP_PORT || k == PROBE_FILTER_PORT || k == PROBE_CHECK_PORT ||
	    k == PROBE_CHECK_IP_PORT;
}

/* A plain request: its answer comes from where it was sent. */
static int
is_plain_kind(enum probe_kind k)
{
	return k == PROBE_BINDING || k == PROBE_MAP_ALT_IP || k == PROBE_MAP_ALT_IP_PORT ||
	    k == PROBE_MAP_ALT_PORT || k == PROBE_HAIR_BINDING || k == PROBE_BINDING_OTHER;
}

/* Did any server say anything valid, believed or not? */
static int
heard_server(const struct probe *p)
{
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (t->kind == PROBE_MAP_TO_HAIR || t->kind == PROBE_HAIR_TO_MAP)
			continue;
		if (t->result == PROBE_ANSWERED || t->result == PROBE_WRONG_SOURCE ||
		    t->result == PROBE_ERROR_RESPONSE || t->wrong_source > 0 || t->errors > 0 ||
		    t->late > 0 || t->duplicates > 0)
			return 1;
		for (size_t j = 0; j < t->nsent; j++)
			if (t->sends[j].answered)
				return 1;
	}
	return 0;
}

/* What the mapping tests established (RFC 5780 section 4.3). */
struct mapping_facts {
	enum nat_behavior beh;
	int      dest_dependent;    /* varies with the destination, kind unknown */
};

static void
classify_mapping_alt(const struct probe *p, int ps, const struct probe_test *b,
                     struct nat_verdict *v, struct mapping_facts *mf)
{
	const struct probe_test *t2 = get(p, PROBE_MAP_ALT_IP, ps);
	const struct probe_test *t3 = get(p, PROBE_MAP_ALT_IP_PORT, ps);
	const struct stun_addr *m1 = &b->mapped;
	char a1[ADDR_STRLEN], a2[ADDR_STRLEN], a3[ADDR_STRLEN];

	if (mapped(t2)) {
		if (addr_eq(&t2->mapped, m1)) {
			if (mapped(t3) && !addr_eq(&t3->mapped, m1)) {
				nat_warn(v, "inconsistent mappings: %s towards the primary and the "
				    "alternate address, %s towards the alternate port: mapping unknown",
				    addr_fmt(m1, a1, sizeof(a1)), addr_fmt(&t3->mapped, a3, sizeof(a3)));
				return;
			}
			mf->beh = NAT_BEH_ENDPOINT_INDEPENDENT;
		} else if (mapped(t3)) {
			mf->beh = addr_eq(&t3->mapped, &t2->mapped) ?
			    NAT_BEH_ADDRESS_DEPENDENT : NAT_BEH_ADDRESS_PORT_DEPENDENT;
		} else {
			mf->dest_dependent = 1;
			nat_warn(v, "mapping varies with the destination (%s, then %s); no answer "
			    "from %s, so address-dependent and address-and-port-dependent "
			    "cannot be told apart", addr_fmt(m1, a1, sizeof(a1)),
			    addr_fmt(&t2->mapped, a2, sizeof(a2)), addr_fmt(&p->alt, a3, sizeof(a3)));
		}
	} else if (mapped(t3)) {
		/* RFC 3489 section 10.1: Test I to the changed address alone. */
		if (addr_eq(&t3->mapped, m1)) {
			mf->beh = NAT_BEH_ENDPOINT_INDEPENDENT;
		} else {
			mf->dest_dependent = 1;
			nat_warn(v, "mapping varies with the destination; the server did not answer "
			    "on its alternate address with the primary port, so address-dependent "
			    "and address-and-port-dependent cannot be told apart");
		}
	} else {
		nat_warn(v, "mapping unknown: no answer from the alternate address %s",
		    addr_fmt(&p->alt, a1, sizeof(a1)));
	}
}

/* Without an alternate: compare the mappings seen by different servers. */
static void
classify_mapping_servers(const struct probe *p, int ps, const struct probe_test *b,
                         struct nat_verdict *v, struct mapping_facts *mf)
{
	size_t other_ip = 0, differ = 0;
	const struct probe_test *d = NULL;
	char a1[ADDR_STRLEN], a2[ADDR_STRLEN], a3[ADDR_STRLEN], a4[ADDR_STRLEN];

	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if ((t->kind != PROBE_BINDING_OTHER && t->kind != PROBE_BINDING) ||
		    t->server == ps || !mapped(t))
			continue;
		if (!addr_eq(&t->mapped, &b->mapped)) {
			if (differ++ == 0)
				d = t;
		} else if (!addr_ip_eq(&p->cfg.servers[t->server], &p->cfg.servers[ps])) {
			other_ip++;
		}
	}
	if (differ > 0) {
		mf->dest_dependent = 1;
		nat_warn(v, "mapping varies with the destination (%s at %s, %s at %s); without an "
		    "alternate address, address-dependent and address-and-port-dependent "
		    "cannot be told apart", addr_fmt(&b->mapped, a1, sizeof(a1)),
		    addr_fmt(&p->cfg.servers[ps], a2, sizeof(a2)), addr_fmt(&d->mapped, a3, sizeof(a3)),
		    addr_fmt(&p->cfg.servers[d->server], a4, sizeof(a4)));
	} else if (other_ip > 0) {
		mf->beh = NAT_BEH_ENDPOINT_INDEPENDENT;
		nat_warn(v, "mapping compared across %zu servers, not one server's two addresses",
		    other_ip + 1);
	} else {
		nat_warn(v, "server %s has no alternate address (no OTHER-ADDRESS/CHANGED-ADDRESS): "
		    "mapping and filtering cannot be tested; give a second server",
		    addr_fmt(&p->cfg.servers[ps], a1, sizeof(a1)));
	}
}

/*
 * Does the primary server honour CHANGE-REQUEST?  verified: a change test
 * was answered from exactly the changed endpoint.  refuted: an answer came
 * from any other address, or an error said no.  Returns -1 refuted (with a
 * warning), 1 verified, 0 neither.
 */
static int
change_support(const struct probe *p, int ps, struct nat_verdict *v)
{
	int verified = 0;
	char a1[ADDR_STRLEN], a2[ADDR_STRLEN];

	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (!is_change_kind(t->kind) || t->server != ps)
			continue;
		if (t->wrong_source > 0) {
			if (addr_eq(&t->wrong_from, &t->dst))
				nat_warn(v, "server ignores CHANGE-REQUEST: %s was answered from %s, "
				    "the address it was sent to", probe_kind_name(t->kind),
				    addr_fmt(&t->wrong_from, a1, sizeof(a1)));
			else if (t->has_expect)
				nat_warn(v, "server answered CHANGE-REQUEST from %s, expected %s",
				    addr_fmt(&t->wrong_from, a1, sizeof(a1)),
				    addr_fmt(&t->expect, a2, sizeof(a2)));
			else
				nat_warn(v, "server answered CHANGE-REQUEST from %s, which cannot be "
				    "the changed address", addr_fmt(&t->wrong_from, a1, sizeof(a1)));
			nat_warn(v, "filtering unknown: the server's CHANGE-REQUEST answers cannot "
			    "be trusted");
			return -1;
		}
		if (t->result == PROBE_ERROR_RESPONSE) {
			if (t->error_code == 420)
				nat_warn(v, "server does not support CHANGE-REQUEST (error 420): "
				    "filtering unknown");
			else
				nat_warn(v, "server answered CHANGE-REQUEST with error %d: filtering "
				    "unknown", t->error_code);
			return -1;
		}
		if (answered(t))
			verified = 1;
	}
	return verified;
}

static void
classify_filtering(const struct probe *p, int ps, const struct mapping_facts *mf,
                   int support, struct nat_verdict *v)
{
	const struct probe_test *f1 = get(p, PROBE_FILTER_IP_PORT, ps);
	const struct probe_test *f2 = get(p, PROBE_FILTER_PORT, ps);
	char a1[ADDR_STRLEN];
	int dd = mf->dest_dependent || mf->beh == NAT_BEH_ADDRESS_DEPENDENT ||
	    mf->beh == NAT_BEH_ADDRESS_PORT_DEPENDENT;

	if (support < 0)
		return;                 /* refuted: warned already */
	if (answered(f1)) {
		/* The filter socket never sent to A:a, yet A:a got through. */
		v->filtering = NAT_BEH_ENDPOINT_INDEPENDENT;
		if (no_answer(f2))
			nat_warn(v, "%s went unanswered although %s was answered; taken as loss",
			    probe_kind_name(f2->kind), probe_kind_name(f1->kind));
	} else if (answered(f2) && no_answer(f1)) {
		v->filtering = NAT_BEH_ADDRESS_DEPENDENT;
	} else if (no_answer(f1) && no_answer(f2)) {
		if (support > 0) {
			v->filtering = NAT_BEH_ADDRESS_PORT_DEPENDENT;
		} else if (dd) {
			/* With address-and-port-dependent mapping no check can pass the
			 * NAT's filter; RFC 5780's own test does not verify either. */
			v->filtering = NAT_BEH_ADDRESS_PORT_DEPENDENT;
			nat_warn(v, "the server's CHANGE-REQUEST support could not be verified "
			    "through this NAT");
		} else {
			nat_warn(v, "filtering unknown: could not verify that the server honours "
			    "CHANGE-REQUEST (no changed answer from %s)",
			    addr_fmt(&p->alt, a1, sizeof(a1)));
		}
	} else if (f1 != NULL && f2 != NULL && f1->result != PROBE_TIMEOUT &&
	           f2->result != PROBE_TIMEOUT) {
		nat_warn(v, "filtering unknown: %s %s, %s %s", probe_kind_name(f1->kind),
		    probe_result_name(f1->result), probe_kind_name(f2->kind),
		    probe_result_name(f2->result));
	}
}

static void
classify_hairpin(const struct probe *p, const struct mapping_facts *mf,
                 struct nat_verdict *v)
{
	const struct probe_test *mh = get(p, PROBE_MAP_TO_HAIR, 0);
	const struct probe_test *hm = get(p, PROBE_HAIR_TO_MAP, 0);

	v->hairpinning = -1;
	if (v->nat != 1)
		return;                 /* not applicable, or unknown */
	if (answered(mh) || answered(hm)) {
		v->hairpinning = 1;     /* our own request came back through the NAT */
	} else if (no_answer(mh) && no_answer(hm)) {
		if (mf->beh == NAT_BEH_ENDPOINT_INDEPENDENT)
			v->hairpinning = 0;
		else if (mf->beh == NAT_BEH_UNKNOWN && !mf->dest_dependent)
			nat_warn(v, "hairpinning unknown: the mapping behaviour is unknown");
		else
			nat_warn(v, "hairpinning unknown: it cannot be observed through "
			    "destination-dependent mapping unless the filter lets it in");
	} else if (mh == NULL || mh->result == PROBE_NOT_RUN) {
		nat_warn(v, "hairpinning not tested: the hairpin socket learned no mapping");
	}
}

static void
classify_type(const struct mapping_facts *mf, struct nat_verdict *v)
{
	int dd = mf->dest_dependent || mf->beh == NAT_BEH_ADDRESS_DEPENDENT ||
	    mf->beh == NAT_BEH_ADDRESS_PORT_DEPENDENT;

	v->type = NAT_UNKNOWN;
	if (v->nat == 0) {
		/* RFC 3489 10.1: no NAT; Test II decides open vs firewall. */
		if (dd) {
			nat_warn(v, "mapped address equals the local one, yet the mapping varies "
			    "with the destination: type unknown");
			return;
		}
		if (v->filtering == NAT_BEH_ENDPOINT_INDEPENDENT)
			v->type = NAT_OPEN;
		else if (v->filtering != NAT_BEH_UNKNOWN)
			v->type = NAT_SYMMETRIC_FIREWALL;
		return;
	}
	if (v->nat != 1)
		return;
	if (dd) {
		v->type = NAT_SYMMETRIC;    /* nearest classic name */
		return;
	}
	if (v->mapping != NAT_BEH_ENDPOINT_INDEPENDENT)
		return;
	switch (v->filtering) {
	case NAT_BEH_ENDPOINT_INDEPENDENT:
		v->type = NAT_FULL_CONE;
		break;
	case NAT_BEH_ADDRESS_DEPENDENT:
		v->type = NAT_RESTRICTED_CONE;
		break;
	case NAT_BEH_ADDRESS_PORT_DEPENDENT:
		v->type = NAT_PORT_RESTRICTED_CONE;
		break;
	default:
		break;
	}
}

/* Append ", N what" to list when n > 0. */
static void
count_item(char *list, size_t cap, size_t *used, unsigned n, const char *what)
{
	int k;

	if (n == 0 || *used >= cap)
		return;
	k = snprintf(list + *used, cap - *used, "%s%u %s", *used ? ", " : "", n, what);
	if (k > 0)
		*used += (size_t)k;
}

/* Warnings about the run rather than the verdict. */
static void
run_warnings(const struct probe *p, struct nat_verdict *v)
{
	char list[NAT_WARNING_LEN] = "", a1[ADDR_STRLEN];
	size_t used = 0, min_sends = 0;
	const size_t cap = NAT_MAX_WARNINGS - NAT_RESERVED_WARNINGS;
	unsigned total = p->stats.answered_sends + p->stats.lost_sends;
	const struct probe_stats *s = &p->stats;

	/* Destinations that never answered a plain request while others did. */
	for (size_t i = 0; i < p->ntests && v->nwarnings < cap; i++) {
		const struct probe_test *t = &p->tests[i];
		int silent = 1, seen = 0;

		if (!is_plain_kind(t->kind))
			continue;
		for (size_t j = 0; j < i; j++)
			if (is_plain_kind(p->tests[j].kind) &&
			    addr_eq(&p->tests[j].dst, &t->dst) && p->tests[j].result != PROBE_NOT_RUN)
				seen = 1;
		if (seen || t->result == PROBE_NOT_RUN)
			continue;
		for (size_t j = i; j < p->ntests; j++) {
			const struct probe_test *u = &p->tests[j];

			if (is_plain_kind(u->kind) && addr_eq(&u->dst, &t->dst) &&
			    u->result != PROBE_NO_ANSWER)
				silent = 0;
		}
		if (silent)
			nat_warn(v, "no answer from %s", addr_fmt(&t->dst, a1, sizeof(a1)));
	}

	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];
		int n;

		if (t->result == PROBE_NO_ANSWER && (min_sends == 0 || t->nsent < min_sends))
			min_sends = t->nsent;
		if (t->result != PROBE_TIMEOUT || used >= sizeof(list))
			continue;
		n = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
		    probe_kind_name(t->kind));
		if (n > 0)
			used += (size_t)n;
	}
	if (used > 0 && v->nwarnings < cap)
		nat_warn(v, "-t reached before these tests were decided: %s", list);

	if (s->lost_sends > 0 && v->nwarnings < cap) {
		if (min_sends > 0)
			nat_warn(v, "%u of %u exchanges lost (%.0f%%): negative results rest on %zu "
			    "sends or more each", s->lost_sends, total,
			    100.0 * s->lost_sends / total, min_sends);
		else
			nat_warn(v, "%u of %u exchanges lost (%.0f%%)", s->lost_sends, total,
			    100.0 * s->lost_sends / total);
	}

	/* One line for the datagrams that were set apart, non-zero counts only. */
	used = 0;
	list[0] = '\0';
	count_item(list, sizeof(list), &used, s->late, "late");
	count_item(list, sizeof(list), &used, s->duplicates, "duplicate");
	count_item(list, sizeof(list), &used, s->stray, "stray");
	count_item(list, sizeof(list), &used, s->malformed, "malformed");
	count_item(list, sizeof(list), &used, s->wrong_source, "from an unexpected source");
	if (used > 0 && v->nwarnings < cap)
		nat_warn(v, "unexpected datagrams: %s", list);
}

void
nat_classify(const struct probe *p, struct nat_verdict *v)
{
	struct mapping_facts mf = { NAT_BEH_UNKNOWN, 0 };
	const struct probe_test *b;
	int ps, support = 0;
	char a1[ADDR_STRLEN], a2[ADDR_STRLEN], a3[ADDR_STRLEN];

	memset(v, 0, sizeof(*v));
	v->type = NAT_UNKNOWN;
	v->mapping = NAT_BEH_UNKNOWN;
	v->filtering = NAT_BEH_UNKNOWN;
	v->hairpinning = -1;
	v->nat = -1;
	v->loss = probe_loss(p);
	if (p->cfg.nservers == 0) {
		nat_warn(v, "no server was given");
		return;
	}
	ps = p->primary >= 0 ? p->primary : 0;
	v->local = p->cfg.local[PROBE_SOCK_MAP];
	v->has_local = v->local.family == 4 || v->local.family == 6;
	v->server = p->cfg.servers[ps];
	v->has_server = 1;
	if (p->have_alt) {
		v->alternate = p->alt;
		v->has_alternate = 1;
	}

	if (!heard_server(p)) {
		if (p->stats.malformed > 0) {
			nat_warn(v, "server answered only with malformed datagrams (%s)",
			    stun_strerror(p->stats.last_malformed));
		} else {
			v->type = NAT_UDP_BLOCKED;
			nat_warn(v, "no answer from any server: UDP is blocked on this path, or "
			    "the server is down");
		}
		return;
	}

	b = get(p, ps == 0 ? PROBE_BINDING : PROBE_BINDING_OTHER, ps);
	if (!mapped(b)) {
		nat_warn(v, "no usable answer to the binding request to %s",
		    addr_fmt(&p->cfg.servers[ps], a1, sizeof(a1)));
		run_warnings(p, v);
		return;
	}
	v->mapped = b->mapped;
	v->has_mapped = 1;
	if (v->has_local)
		v->nat = !addr_eq(&b->mapped, &v->local);

	/* Which server the tests used, and why. */
	if (ps != 0)
		nat_warn(v, "server %s has no alternate address; the tests used %s",
		    addr_fmt(&p->cfg.servers[0], a1, sizeof(a1)),
		    addr_fmt(&p->cfg.servers[ps], a2, sizeof(a2)));
	else if (!p->have_alt && b->has_other)
		nat_warn(v, "server advertises alternate %s, which does not differ from %s in both "
		    "address and port: not used", addr_fmt(&b->other, a1, sizeof(a1)),
		    addr_fmt(&p->cfg.servers[0], a2, sizeof(a2)));

	/* Mapping (RFC 5780 section 4.3). */
	if (p->have_alt)
		classify_mapping_alt(p, ps, b, v, &mf);
	else
		classify_mapping_servers(p, ps, b, v, &mf);
	if (mf.beh == NAT_BEH_ENDPOINT_INDEPENDENT) {
		/* Endpoint-independent means the same mapping for EVERY destination:
		 * another server that saw a different one contradicts it. */
		for (size_t i = 0; i < p->ntests; i++) {
			const struct probe_test *t = &p->tests[i];

			if ((t->kind == PROBE_BINDING || t->kind == PROBE_BINDING_OTHER) &&
			    t->server != ps && mapped(t) && !addr_eq(&t->mapped, &b->mapped)) {
				mf.beh = NAT_BEH_UNKNOWN;
				mf.dest_dependent = 1;
				nat_warn(v, "server %s saw mapping %s, not %s: the mapping varies with "
				    "the destination", addr_fmt(&p->cfg.servers[t->server], a1, sizeof(a1)),
				    addr_fmt(&t->mapped, a2, sizeof(a2)),
				    addr_fmt(&b->mapped, a3, sizeof(a3)));
				break;
			}
		}
	}
	v->mapping = mf.beh;

	/* Filtering (RFC 5780 section 4.4), believed only from a server that
	 * demonstrably honours CHANGE-REQUEST. */
	if (p->have_alt) {
		support = change_support(p, ps, v);
		classify_filtering(p, ps, &mf, support, v);
	} else if (mf.beh != NAT_BEH_UNKNOWN || mf.dest_dependent) {
		nat_warn(v, "filtering cannot be tested: no server with an alternate address");
	}

	classify_hairpin(p, &mf, v);
	classify_type(&mf, v);
	run_warnings(p, v);
}

const char *
nat_type_word(enum nat_type t)
{
	switch (t) {
	case NAT_OPEN:                 return "open";
	case NAT_FULL_CONE:            return "full-cone";
	case NAT_RESTRICTED_CONE:      return "restricted-cone";
	case NAT_PORT_RESTRICTED_CONE: return "port-restricted-cone";
	case NAT_SYMMETRIC:            return "symmetric";
	case NAT_SYMMETRIC_FIREWALL:   return "symmetric-udp-firewall";
	case NAT_UDP_BLOCKED:          return "udp-blocked";
	case NAT_UNKNOWN:              break;
	}
	return "unknown";
}

const char *
nat_type_name(enum nat_type t)
{
	switch (t) {
	case NAT_OPEN:                 return "Open Internet";
	case NAT_FULL_CONE:            return "Full Cone";
	case NAT_RESTRICTED_CONE:      return "Restricted Cone";
	case NAT_PORT_RESTRICTED_CONE: return "Port Restricted Cone";
	case NAT_SYMMETRIC:            return "Symmetric";
	case NAT_SYMMETRIC_FIREWALL:   return "Symmetric UDP Firewall";
	case NAT_UDP_BLOCKED:          return "UDP Blocked";
	case NAT_UNKNOWN:              break;
	}
	return "Unknown";
}

const char *
nat_behavior_word(enum nat_behavior b)
{
	switch (b) {
	case NAT_BEH_ENDPOINT_INDEPENDENT:    return "endpoint-independent";
	case NAT_BEH_ADDRESS_DEPENDENT:       return "address-dependent";
	case NAT_BEH_ADDRESS_PORT_DEPENDENT:  return "address-and-port-dependent";
	case NAT_BEH_UNKNOWN:                 break;
	}
	return "unknown";
}
