/*
 * nat.c - from a finished probe run to a verdict (see nat.h).
 *
 * Pure: reads struct probe, writes struct nat_verdict, no I/O.  The rules
 * are RFC 5780 section 4.3 (mapping), 4.4 (filtering) and 4.5
 * (hairpinning), named in RFC 3489 section 10.1's vocabulary.  A behaviour
 * is reported only when the tests established it; otherwise it is
 * "unknown" and a finding says why: a code and its data, never prose
 * (report.c words it).  A positive observation (an answer that arrived)
 * is proof; a negative one rests on the engine's retransmissions, so
 * negatives are used only when nothing contradicts them.
 */
#include <string.h>

#include "nat.h"
#include "addr.h"

struct nat_finding *
nat_add(struct nat_verdict *v, enum nat_code code)
{
	struct nat_finding *f;

	if (v->nfindings >= NAT_MAX_FINDINGS)
		return NULL;
	f = &v->findings[v->nfindings++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	return f;
}

const struct nat_finding *
nat_find(const struct nat_verdict *v, enum nat_code code)
{
	for (size_t i = 0; i < v->nfindings; i++)
		if (v->findings[i].code == code)
			return &v->findings[i];
	return NULL;
}

/* A finding with up to two addresses (NULL: none); NULL when dropped. */
static struct nat_finding *
add2(struct nat_verdict *v, enum nat_code code, const struct stun_addr *a0,
     const struct stun_addr *a1)
{
	struct nat_finding *f = nat_add(v, code);

	if (f != NULL && a0 != NULL)
		f->addr[0] = *a0;
	if (f != NULL && a1 != NULL)
		f->addr[1] = *a1;
	return f;
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

/* The binding test of the mapping socket towards server i. */
static const struct probe_test *
binding_of(const struct probe *p, int server)
{
	return get(p, server == 0 ? PROBE_BINDING : PROBE_BINDING_OTHER, server);
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
	return t != NULL && (t->result == PROBE_NO_ANSWER || t->result == PROBE_ABANDONED);
}

/* The network said t's destination cannot be reached: an ICMP error, or
 * every send failed locally. */
static int
refused(const struct probe_test *t)
{
	return t != NULL && !answered(t) && t->unreachable > 0 &&
	    (t->unreach_kind != PROBE_UNREACH_SEND || t->unreachable >= t->nsent);
}

/* A test that asks for another IP, of a single-address primary server:
 * it can only fail, and says nothing about the server or the NAT. */
static int
ip_change_moot(const struct probe *p, const struct probe_test *t)
{
	return p->alt_port_only && t->server == p->primary && (t->change & STUN_CHANGE_IP);
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
	struct nat_finding *f;

	if (mapped(t2)) {
		if (addr_eq(&t2->mapped, m1)) {
			if (mapped(t3) && !addr_eq(&t3->mapped, m1)) {
				add2(v, NAT_F_MAPPING_INCONSISTENT, m1, &t3->mapped);
				return;
			}
			mf->beh = NAT_BEH_ENDPOINT_INDEPENDENT;
		} else if (mapped(t3)) {
			mf->beh = addr_eq(&t3->mapped, &t2->mapped) ?
			    NAT_BEH_ADDRESS_DEPENDENT : NAT_BEH_ADDRESS_PORT_DEPENDENT;
		} else {
			mf->dest_dependent = 1;
			f = add2(v, NAT_F_MAPPING_UNDECIDED, m1, &t2->mapped);
			if (f != NULL)
				f->addr[2] = p->alt;
		}
	} else if (mapped(t3)) {
		/* RFC 3489 section 10.1: Test I to the changed address alone. */
		if (addr_eq(&t3->mapped, m1)) {
			mf->beh = NAT_BEH_ENDPOINT_INDEPENDENT;
		} else {
			mf->dest_dependent = 1;
			f = add2(v, NAT_F_MAPPING_UNDECIDED, m1, &t3->mapped);
			if (f != NULL && t2 != NULL)
				f->addr[2] = t2->dst;
		}
	} else {
		add2(v, NAT_F_MAPPING_NO_ALT_ANSWER, &p->alt, NULL);
	}
}

/*
 * A single-address server (RFC 5780 section 4.3 with the port alone): a
 * mapping that changes with the destination port alone is address-and-
 * port-dependent; one that does not is endpoint-independent or address-
 * dependent, which only a second IP could tell apart.
 */
static void
classify_mapping_port_only(const struct probe *p, int ps, const struct probe_test *b,
                           struct nat_verdict *v, struct mapping_facts *mf)
{
	const struct probe_test *t = get(p, PROBE_MAP_ALT_PORT, ps);

	add2(v, NAT_F_ALT_PORT_ONLY, &p->cfg.servers[ps], &p->alt);
	if (!mapped(t)) {
		add2(v, NAT_F_MAPPING_NO_ALT_ANSWER, &p->alt, NULL);
	} else if (addr_eq(&t->mapped, &b->mapped)) {
		size_t agree = 0;
		struct nat_finding *f;

		/* Another IP is what this server lacks: a trusted server on one
		 * that saw the same mapping settles it (never one that did not:
		 * it may be the one that is wrong). */
		for (size_t i = 0; i < p->cfg.nservers; i++) {
			const struct probe_test *o = binding_of(p, (int)i);

			if ((int)i != ps && mapped(o) && v->servers[i].trusted &&
			    !addr_ip_eq(&p->cfg.servers[i], &p->cfg.servers[ps]) &&
			    addr_eq(&o->mapped, &b->mapped))
				agree++;
		}
		if (agree > 0) {
			mf->beh = NAT_BEH_ENDPOINT_INDEPENDENT;
			if ((f = nat_add(v, NAT_F_MAPPING_ACROSS_SERVERS)) != NULL)
				f->count[0] = (unsigned)(agree + 1);
		} else {
			add2(v, NAT_F_MAPPING_NOT_PORT_DEPENDENT, &b->mapped, NULL);
		}
	} else {
		mf->beh = NAT_BEH_ADDRESS_PORT_DEPENDENT;
	}
}

/*
 * Filtering with the port alone (RFC 5780 section 4.4 test III): a reply
 * from another port of the server's one IP getting through rules out
 * address-and-port-dependent filtering but cannot tell endpoint-
 * independent from address-dependent; blocked, from a server shown to
 * honour the change, it is address-and-port-dependent.
 */
static void
classify_filtering_port_only(const struct probe *p, int ps, const struct mapping_facts *mf,
                             int support, int stopped, struct nat_verdict *v)
{
	const struct probe_test *f2 = get(p, PROBE_FILTER_PORT, ps);

	if (support < 0)
		return;
	if (answered(f2)) {
		nat_add(v, NAT_F_FILTERING_NOT_PORT_DEPENDENT);
	} else if (no_answer(f2) && !stopped) {
		if (support > 0) {
			v->filtering = NAT_BEH_ADDRESS_PORT_DEPENDENT;
		} else if (mf->beh == NAT_BEH_ADDRESS_PORT_DEPENDENT) {
			v->filtering = NAT_BEH_ADDRESS_PORT_DEPENDENT;
			nat_add(v, NAT_F_CHANGE_UNVERIFIED);
		} else {
			add2(v, NAT_F_FILTERING_UNVERIFIED, &p->alt, NULL);
		}
	}
}

/* Without an alternate: compare the mappings seen by different servers. */
static void
classify_mapping_servers(const struct probe *p, int ps, const struct probe_test *b,
                         struct nat_verdict *v, struct mapping_facts *mf)
{
	size_t other_ip = 0, differ = 0;
	const struct probe_test *d = NULL;
	struct nat_finding *f;

	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if ((t->kind != PROBE_BINDING_OTHER && t->kind != PROBE_BINDING) ||
		    t->server == ps || !mapped(t) || !v->servers[t->server].trusted)
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
		f = add2(v, NAT_F_MAPPING_VARIES_SERVERS, &b->mapped, &p->cfg.servers[ps]);
		if (f != NULL) {
			f->addr[2] = d->mapped;
			f->addr[3] = p->cfg.servers[d->server];
		}
	} else if (other_ip > 0) {
		mf->beh = NAT_BEH_ENDPOINT_INDEPENDENT;
		f = nat_add(v, NAT_F_MAPPING_ACROSS_SERVERS);
		if (f != NULL)
			f->count[0] = (unsigned)(other_ip + 1);
	} else {
		add2(v, b->has_other ? NAT_F_NO_USABLE_ALTERNATE : NAT_F_NO_ALTERNATE,
		    &p->cfg.servers[ps], NULL);
	}
}

/*
 * Does the primary server honour CHANGE-REQUEST?  verified: a change test
 * was answered from exactly the changed endpoint.  refuted: an answer came
 * from any other address, or an error said no.  Returns -1 refuted (with a
 * finding), 1 verified, 0 neither.
 */
static int
change_support(const struct probe *p, int ps, struct nat_verdict *v)
{
	int verified = 0;
	struct nat_finding *f;

	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (!is_change_kind(t->kind) || t->server != ps || ip_change_moot(p, t))
			continue;
		if (t->wrong_source > 0) {
			if (addr_eq(&t->wrong_from, &t->dst)) {
				f = add2(v, NAT_F_CHANGE_IGNORED, &t->wrong_from, NULL);
				if (f != NULL)
					f->test[0] = t->kind;
			} else if (t->has_expect) {
				add2(v, NAT_F_CHANGE_WRONG_SOURCE, &t->wrong_from, &t->expect);
			} else {
				add2(v, NAT_F_CHANGE_IMPOSSIBLE_SOURCE, &t->wrong_from, NULL);
			}
			nat_add(v, NAT_F_FILTERING_UNTRUSTED);
			return -1;
		}
		if (t->result == PROBE_ERROR_RESPONSE) {
			f = nat_add(v, NAT_F_CHANGE_ERROR);
			if (f != NULL)
				f->value = t->error_code;
			return -1;
		}
		if (answered(t))
			verified = 1;
	}
	return verified;
}

/* Filtering (RFC 5780 section 4.4).  stopped: the server's answers
 * stopped (answers_stopped), so its silence decides nothing. */
static void
classify_filtering(const struct probe *p, int ps, const struct mapping_facts *mf,
                   int support, int stopped, struct nat_verdict *v)
{
	const struct probe_test *f1 = get(p, PROBE_FILTER_IP_PORT, ps);
	const struct probe_test *f2 = get(p, PROBE_FILTER_PORT, ps);
	struct nat_finding *f;
	int dd = mf->dest_dependent || mf->beh == NAT_BEH_ADDRESS_DEPENDENT ||
	    mf->beh == NAT_BEH_ADDRESS_PORT_DEPENDENT;

	if (support < 0)
		return;                 /* refuted: said already */
	if (answered(f1)) {
		/* The filter socket never sent to A:a, yet A:a got through. */
		v->filtering = NAT_BEH_ENDPOINT_INDEPENDENT;
		if (no_answer(f2) && (f = nat_add(v, NAT_F_FILTER_TEST_LOST)) != NULL) {
			f->test[0] = f2->kind;
			f->test[1] = f1->kind;
		}
	} else if (stopped) {
		return;                 /* said already: negatives not believed */
	} else if (answered(f2) && no_answer(f1)) {
		v->filtering = NAT_BEH_ADDRESS_DEPENDENT;
	} else if (no_answer(f1) && no_answer(f2)) {
		if (support > 0) {
			v->filtering = NAT_BEH_ADDRESS_PORT_DEPENDENT;
		} else if (dd) {
			/* With address-and-port-dependent mapping no check can pass the
			 * NAT's filter; RFC 5780's own test does not verify either. */
			v->filtering = NAT_BEH_ADDRESS_PORT_DEPENDENT;
			nat_add(v, NAT_F_CHANGE_UNVERIFIED);
		} else {
			add2(v, NAT_F_FILTERING_UNVERIFIED, &p->alt, NULL);
		}
	} else if (f1 != NULL && f2 != NULL && f1->result != PROBE_TIMEOUT &&
	           f2->result != PROBE_TIMEOUT) {
		if ((f = nat_add(v, NAT_F_FILTERING_INCONCLUSIVE)) != NULL) {
			f->test[0] = f1->kind;
			f->result[0] = f1->result;
			f->test[1] = f2->kind;
			f->result[1] = f2->result;
		}
	}
}

/* The hairpin tests never ran, or their sends never got out: why. */
static int
hairpin_blocked(const struct probe *p, const struct probe_test *mh,
                const struct probe_test *hm, struct nat_verdict *v)
{
	struct nat_finding *f;

	for (size_t i = 0; mh->result == PROBE_NOT_RUN && i < p->ntests; i++) {
		const struct probe_test *h = &p->tests[i], *b;
		enum probe_addr_problem pr;

		if (h->kind != PROBE_HAIR_BINDING || !mapped(h) || !mapped(b = binding_of(p, h->server)))
			continue;
		pr = probe_peer_check(p, PROBE_SOCK_MAP, h->server, &h->mapped);
		f = NULL;
		if (pr != PROBE_ADDR_OK)
			f = add2(v, NAT_F_HAIRPIN_UNSENDABLE, &h->mapped, NULL);
		else if ((pr = probe_peer_check(p, PROBE_SOCK_HAIR, h->server, &b->mapped)) !=
		    PROBE_ADDR_OK)
			f = add2(v, NAT_F_HAIRPIN_UNSENDABLE, &b->mapped, NULL);
		if (pr == PROBE_ADDR_OK)
			return 0;
		if (f != NULL)
			f->value = (int)pr;
		return 1;
	}
	/* A datagram that never left the host, or never reached the NAT,
	 * says nothing about hairpinning; an ICMP port unreachable from the
	 * NAT itself is what a NAT that does not hairpin may answer. */
	for (int k = 0; k < 2; k++) {
		const struct probe_test *t = k == 0 ? mh : hm;

		if (t->unreachable == 0 || t->unreach_kind == PROBE_UNREACH_PORT || answered(t))
			continue;
		if ((f = add2(v, NAT_F_HAIRPIN_SEND_FAILED, &t->dst, NULL)) != NULL) {
			f->test[0] = t->kind;
			f->count[0] = t->unreachable;
			f->value = (int)t->unreach_kind;
		}
		return 1;
	}
	return 0;
}

static void
classify_hairpin(const struct probe *p, const struct mapping_facts *mf,
                 struct nat_verdict *v)
{
	const struct probe_test *mh = get(p, PROBE_MAP_TO_HAIR, 0);
	const struct probe_test *hm = get(p, PROBE_HAIR_TO_MAP, 0);

	v->hairpinning = -1;
	if (v->nat != 1 || mh == NULL || hm == NULL)
		return;                 /* not applicable, or unknown */
	if (answered(mh) || answered(hm)) {
		v->hairpinning = 1;     /* our own request came back through the NAT */
	} else if (hairpin_blocked(p, mh, hm, v)) {
		return;
	} else if (no_answer(mh) && no_answer(hm)) {
		if (mf->beh == NAT_BEH_ENDPOINT_INDEPENDENT)
			v->hairpinning = 0;
		else if (mf->beh == NAT_BEH_UNKNOWN && !mf->dest_dependent)
			nat_add(v, NAT_F_HAIRPIN_MAPPING_UNKNOWN);
		else
			nat_add(v, NAT_F_HAIRPIN_UNOBSERVABLE);
	} else if (mh->result == PROBE_NOT_RUN) {
		nat_add(v, NAT_F_HAIRPIN_NOT_TESTED);
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
			nat_add(v, NAT_F_OPEN_BUT_VARYING);
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

/*
 * Destinations that never answered a plain request: those the network
 * refused, and silent ones when `silent` is set (2: a test still open at
 * -t counts as silent too).  Each destination is named once, by its
 * first test.
 */
static void
destination_findings(const struct probe *p, struct nat_verdict *v, int silent)
{
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i], *why = NULL;
		int quiet = 1, seen = 0, timed = 0;
		struct nat_finding *f;

		if (!is_plain_kind(t->kind) || t->result == PROBE_NOT_RUN)
			continue;
		for (size_t j = 0; j < i; j++)
			if (is_plain_kind(p->tests[j].kind) &&
			    addr_eq(&p->tests[j].dst, &t->dst) && p->tests[j].result != PROBE_NOT_RUN)
				seen = 1;
		if (seen)
			continue;
		for (size_t j = i; j < p->ntests; j++) {
			const struct probe_test *u = &p->tests[j];

			if (!is_plain_kind(u->kind) || !addr_eq(&u->dst, &t->dst) ||
			    u->result == PROBE_NOT_RUN)
				continue;
			if (refused(u)) {
				if (why == NULL)
					why = u;
			} else if (u->result == PROBE_TIMEOUT) {
				timed = 1;
			} else if (!no_answer(u)) {
				quiet = 0;
			}
		}
		if (!quiet)
			continue;
		if (why != NULL) {
			f = add2(v, why->unreach_kind == PROBE_UNREACH_PORT ? NAT_F_NO_STUN_SERVER :
			    NAT_F_UNREACHABLE, &t->dst, NULL);
			if (f != NULL)
				f->value = (int)why->unreach_kind;
		} else if (silent == 2 || (silent == 1 && !timed)) {
			add2(v, NAT_F_NO_ANSWER_FROM, &t->dst, NULL);
		}
	}
}

/*
 * The requests whose silence no NAT explains (the text's loss line): the
 * sends of the tests that were answered, counted by the engine as
 * answered or lost, and the sends of the plain requests that never were,
 * once each has waited a round trip and a half in vain.  Silence of a
 * filtering, check or hairpin test may be the NAT's doing; of these it is
 * loss, or an endpoint that does not answer.
 */
static void
count_plain(const struct probe *p, struct nat_verdict *v)
{
	uint64_t wait = probe_wait_for(p->rtt_ms);
	unsigned silent = 0;

	if (!p->have_rtt)
		return;
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (!is_plain_kind(t->kind) || answered(t) || t->result == PROBE_NOT_RUN ||
		    t->result == PROBE_RUNNING)
			continue;
		for (size_t j = 0; j < t->nsent; j++)
			if (!t->sends[j].answered && t->sends[j].at_ms + wait <= p->end_ms)
				silent++;
	}
	v->plain_sent = p->stats.answered_sends + p->stats.lost_sends + silent;
	v->plain_unanswered = p->stats.lost_sends + silent;
}

/*
 * Did the answers of server `server` stop (issue 20)?  A plain request -
 * its answer comes from where it went, so no NAT stops it - to an endpoint
 * that answered another plain request in this run, given up after all
 * its sends: the engine sends that many because the loss it measured says
 * they cannot all be lost (probe.h).  A live endpoint silent through them
 * is a run of losses the independent-loss model rules out: a rate limit
 * whose burst is spent, a server that stalls.  Negatives drawn from that
 * model (the filtering tests' silence) are then not believed.  The first
 * such test, or NULL.
 */
static const struct probe_test *
answers_stopped(const struct probe *p, int server)
{
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (t->server != server || !is_plain_kind(t->kind) || t->result != PROBE_NO_ANSWER)
			continue;
		for (size_t j = 0; j < p->ntests; j++) {
			const struct probe_test *u = &p->tests[j];

			if (is_plain_kind(u->kind) && answered(u) && addr_eq(&u->dst, &t->dst))
				return t;
		}
	}
	return NULL;
}

/* The finding for answers_stopped(); 1 when it was made. */
static int
stopped_finding(const struct probe *p, int server, struct nat_verdict *v)
{
	const struct probe_test *t = answers_stopped(p, server);
	struct nat_finding *f;

	if (t == NULL)
		return 0;
	if ((f = add2(v, NAT_F_ANSWERS_STOPPED, &t->dst, NULL)) != NULL) {
		f->test[0] = t->kind;
		f->count[0] = (unsigned)t->nsent;
	}
	return 1;
}

/* Findings about the run rather than the verdict. */
static void
run_findings(const struct probe *p, struct nat_verdict *v)
{
	const struct probe_stats *s = &p->stats;
	struct nat_finding *f;
	uint32_t open = 0;
	size_t min_sends = 0;

	destination_findings(p, v, 1);

	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (t->result == PROBE_NO_ANSWER && (min_sends == 0 || t->nsent < min_sends))
			min_sends = t->nsent;
		if (t->result == PROBE_TIMEOUT)
			open |= 1u << t->kind;
	}
	if (open != 0 && (f = nat_add(v, NAT_F_TIMEOUT)) != NULL)
		f->tests = open;

	if (s->lost_sends > 0 && (f = nat_add(v, NAT_F_LOSS)) != NULL) {
		f->count[0] = s->lost_sends;
		f->count[1] = s->answered_sends + s->lost_sends;
		f->count[2] = (unsigned)min_sends;
	}

	if ((s->late || s->duplicates || s->stray || s->malformed || s->wrong_source) &&
	    (f = nat_add(v, NAT_F_UNEXPECTED_DATAGRAMS)) != NULL) {
		f->count[0] = s->late;
		f->count[1] = s->duplicates;
		f->count[2] = s->stray;
		f->count[3] = s->malformed;
		f->count[4] = s->wrong_source;
	}
}

/* What lowers confidence in any run: a pinned port, sends that failed. */
static void
setup_findings(const struct probe *p, struct nat_verdict *v)
{
	struct nat_finding *f;

	if (p->cfg.pinned_port && (f = nat_add(v, NAT_F_PINNED_PORT)) != NULL)
		f->value = p->cfg.local[PROBE_SOCK_MAP].port;
	if (p->stats.send_errors > 0 && (f = nat_add(v, NAT_F_SEND_ERRORS)) != NULL)
		f->count[0] = p->stats.send_errors;
}

/*
 * No server said anything valid.  UDP Blocked only when nothing at all
 * came back: invalid datagrams are a server that is there, and an ICMP
 * error is the network saying where the datagrams went.
 */
static void
classify_silence(const struct probe *p, struct nat_verdict *v)
{
	const struct probe_stats *s = &p->stats;
	struct nat_finding *f;
	size_t nrefused = 0;

	for (size_t i = 0; i < p->cfg.nservers; i++)
		if (refused(binding_of(p, (int)i)))
			nrefused++;
	/* Some servers refused, the others were silent: name them all. */
	destination_findings(p, v, s->received == 0 && nrefused > 0 &&
	    nrefused < p->cfg.nservers ? 2 : 0);
	if (s->received > 0) {
		if ((f = nat_add(v, NAT_F_NO_VALID_ANSWER)) != NULL) {
			f->count[0] = s->received;
			f->count[1] = s->echoed;
			f->count[2] = s->unmatched;
			f->count[3] = s->indications;
			f->count[4] = s->malformed;
			f->count[5] = s->wrong_socket;
			f->value = (int)s->last_malformed;
		}
	} else if (nrefused == p->cfg.nservers) {
		v->unreachable = 1;
	} else if (nrefused == 0 && s->unreachable == 0) {
		v->type = NAT_UDP_BLOCKED;
		nat_add(v, NAT_F_NO_RESPONSE);
	}
	/* Otherwise some servers refused and the others were silent: not
	 * "nothing came back", and not "no server could be reached". */
}

/* The server whose results are reported: the one whose alternate the
 * tests used, else the first trusted one that answered, else the first
 * that answered, else server 0. */
static int
reported_server(const struct probe *p, const struct nat_verdict *v)
{
	if (p->primary >= 0)
		return p->primary;
	for (size_t i = 0; i < p->cfg.nservers; i++)
		if (mapped(binding_of(p, (int)i)) && v->servers[i].trusted)
			return (int)i;
	for (size_t i = 0; i < p->cfg.nservers; i++)
		if (mapped(binding_of(p, (int)i)))
			return (int)i;
	return 0;
}

/* Does server i honour CHANGE-REQUEST?  1: a change test with a known
 * expected source was answered from it; 0: an answer came from elsewhere,
 * or an error said no; -1: unknown. */
static int
server_change(const struct probe *p, int server)
{
	int verified = -1;

	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (!is_change_kind(t->kind) || t->server != server || ip_change_moot(p, t))
			continue;
		if (t->wrong_source > 0 || t->result == PROBE_ERROR_RESPONSE)
			return 0;
		if (answered(t) && t->has_expect)
			verified = 1;
	}
	return verified;
}

/* The RFC a server's answer speaks: the binding's, else any answer's. */
static int
server_rfc(const struct probe *p, int server)
{
	const struct probe_test *t = binding_of(p, server);

	for (size_t i = 0; !mapped(t) && i < p->ntests; i++)
		if (p->tests[i].server == server && is_plain_kind(p->tests[i].kind))
			t = &p->tests[i];
	if (!mapped(t))
		return 0;
	/* A one-address server names its alternate only when asked. */
	if (!t->has_other && answered(get(p, PROBE_ASK_OTHER, server)) &&
	    get(p, PROBE_ASK_OTHER, server)->has_other)
		t = get(p, PROBE_ASK_OTHER, server);
	if (t->has_other)
		return t->other_rfc5780 ? 5780 : 3489;
	return t->mapped_xor ? 5389 : 3489;
}

/*
 * Check every server by what its answers say about themselves
 * (probe_server_lies: RESPONSE-ORIGIN, OTHER-ADDRESS) and whether every
 * mapped address is one a NAT can give.  The hairpin tests are no
 * server's.
 */
static void
check_servers(const struct probe *p, struct nat_verdict *v)
{
	v->nservers = p->cfg.nservers;
	for (size_t i = 0; i < p->cfg.nservers; i++) {
		struct nat_server *s = &v->servers[i];

		s->address = p->cfg.servers[i];
		s->rfc = server_rfc(p, (int)i);
		s->change_request = server_change(p, (int)i);
	}
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];
		enum probe_addr_problem pr;
		struct nat_server *s;

		if (!answered(t) || t->kind == PROBE_MAP_TO_HAIR || t->kind == PROBE_HAIR_TO_MAP ||
		    t->server < 0 || (size_t)t->server >= p->cfg.nservers)
			continue;
		s = &v->servers[t->server];
		if (t->has_mapped) {
			pr = probe_peer_check(p, PROBE_SOCK_MAP, t->server, &t->mapped);
			if (pr != PROBE_ADDR_OK && pr != PROBE_ADDR_FAMILY)
				s->problems |= NAT_SP_MAPPED_INVALID;
		}
	}
	for (size_t i = 0; i < v->nservers; i++) {
		unsigned lies = probe_server_lies(p, (int)i);

		if (lies & PROBE_LIE_ORIGIN)
			v->servers[i].problems |= NAT_SP_ORIGIN_MISMATCH;
		if (lies & PROBE_LIE_OTHER)
			v->servers[i].problems |= NAT_SP_OTHER_INCONSISTENT;
		v->servers[i].trusted = v->servers[i].problems == 0;
	}
}

/* A finding for every untrusted server; value 1 for the one the verdict
 * would rest on. */
static void
untrusted_findings(struct nat_verdict *v, int ps)
{
	struct nat_finding *f;

	for (size_t i = 0; i < v->nservers; i++) {
		if (v->servers[i].trusted)
			continue;
		if ((f = add2(v, NAT_F_SERVER_UNTRUSTED, &v->servers[i].address, NULL)) != NULL) {
			f->tests = v->servers[i].problems;
			f->value = (int)i == ps;
		}
	}
}

/* Alternates the servers advertised that the engine did not use, and
 * whether the tests moved away from server 0. */
static void
server_findings(const struct probe *p, int ps, const struct probe_test *b,
                struct nat_verdict *v)
{
	const struct probe_test *b0 = binding_of(p, 0);
	struct nat_finding *f;

	if (ps != 0 && (f = add2(v, NAT_F_OTHER_SERVER_USED, &p->cfg.servers[0],
	    &p->cfg.servers[ps])) != NULL)
		f->value = p->abandoned == 0 ? 3 : !answered(b0) ? 0 : b0->has_other ? 2 : 1;
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];
		enum probe_addr_problem pr;

		if (t->kind != PROBE_BINDING && t->kind != PROBE_BINDING_OTHER)
			continue;
		pr = probe_alt_check(p, t);
		if (pr == PROBE_ADDR_OK || pr == PROBE_ADDR_ABSENT)
			continue;
		if (pr == PROBE_ADDR_NOT_DISTINCT) {
			if (t == b && !p->have_alt)
				add2(v, NAT_F_ALT_NOT_DISTINCT, &t->other, &p->cfg.servers[t->server]);
		} else if ((f = add2(v, NAT_F_ALT_REJECTED, &t->other,
		    &p->cfg.servers[t->server])) != NULL) {
			f->value = (int)pr;
		}
	}
}

/*
 * A mapped address that no NAT hands out (unspecified, port 0, multicast,
 * broadcast, or loopback from a server that is not on this host) proves
 * the server wrong; nothing it said is used.  Another family is fine
 * (NAT64).
 */
static int
invalid_mapping(const struct probe *p, int ps, const struct probe_test *b,
                struct nat_verdict *v)
{
	enum probe_addr_problem pr = probe_peer_check(p, PROBE_SOCK_MAP, ps, &b->mapped);
	struct nat_finding *f;

	if (pr == PROBE_ADDR_OK || pr == PROBE_ADDR_FAMILY)
		return 0;
	if ((f = add2(v, NAT_F_MAPPED_INVALID, &b->mapped, &p->cfg.servers[ps])) != NULL)
		f->value = (int)pr;
	return 1;
}

void
nat_classify(const struct probe *p, struct nat_verdict *v)
{
	struct mapping_facts mf = { NAT_BEH_UNKNOWN, 0 };
	const struct probe_test *b;
	int ps, support = 0, stopped;

	memset(v, 0, sizeof(*v));
	v->type = NAT_UNKNOWN;
	v->mapping = NAT_BEH_UNKNOWN;
	v->filtering = NAT_BEH_UNKNOWN;
	v->hairpinning = -1;
	v->nat = -1;
	v->loss = probe_loss(p);
	if (p->cfg.nservers == 0) {
		nat_add(v, NAT_F_NO_SERVER);
		return;
	}
	check_servers(p, v);
	ps = reported_server(p, v);
	count_plain(p, v);
	stopped = stopped_finding(p, ps, v);
	v->local = p->cfg.local[PROBE_SOCK_MAP];
	v->has_local = v->local.family == 4 || v->local.family == 6;
	v->server = p->cfg.servers[ps];
	v->has_server = 1;
	if (p->have_alt) {
		v->alternate = p->alt;
		v->has_alternate = 1;
	}

	if (!heard_server(p)) {
		classify_silence(p, v);
		setup_findings(p, v);
		return;
	}

	b = binding_of(p, ps);
	if (!mapped(b)) {
		add2(v, NAT_F_NO_BINDING_ANSWER, &p->cfg.servers[ps], NULL);
		run_findings(p, v);
		setup_findings(p, v);
		return;
	}
	v->mapped = b->mapped;
	v->has_mapped = 1;
	if (invalid_mapping(p, ps, b, v) || !v->servers[ps].trusted) {
		/* Nothing a server that lies about addresses said is used. */
		untrusted_findings(v, ps);
		run_findings(p, v);
		setup_findings(p, v);
		return;
	}
	if (v->has_local)
		v->nat = !addr_eq(&b->mapped, &v->local);

	server_findings(p, ps, b, v);

	/* Mapping (RFC 5780 section 4.3). */
	if (p->have_alt && p->alt_port_only)
		classify_mapping_port_only(p, ps, b, v, &mf);
	else if (p->have_alt)
		classify_mapping_alt(p, ps, b, v, &mf);
	else
		classify_mapping_servers(p, ps, b, v, &mf);
	if (mf.beh == NAT_BEH_ENDPOINT_INDEPENDENT) {
		/* Endpoint-independent means the same mapping for EVERY destination:
		 * another server that saw a different one contradicts it. */
		for (size_t i = 0; i < p->ntests; i++) {
			const struct probe_test *t = &p->tests[i];
			struct nat_finding *f;

			if ((t->kind == PROBE_BINDING || t->kind == PROBE_BINDING_OTHER) &&
			    t->server != ps && mapped(t) && v->servers[t->server].trusted &&
			    !addr_eq(&t->mapped, &b->mapped)) {
				/* One of the two is wrong, and nothing says which:
				 * neither is believed (a NAT whose mapping truly
				 * varied would not have passed the primary's tests). */
				mf.beh = NAT_BEH_UNKNOWN;
				v->servers[t->server].problems |= NAT_SP_MAPPED_DISAGREES;
				v->servers[t->server].trusted = 0;
				v->servers[ps].problems |= NAT_SP_MAPPED_DISAGREES;
				v->servers[ps].trusted = 0;
				f = add2(v, NAT_F_MAPPING_CONTRADICTED, &p->cfg.servers[t->server],
				    &t->mapped);
				if (f != NULL)
					f->addr[2] = b->mapped;
				break;
			}
		}
	}
	v->mapping = mf.beh;
	if (!v->servers[ps].trusted) {
		v->nat = -1;
		untrusted_findings(v, ps);
		run_findings(p, v);
		setup_findings(p, v);
		return;
	}

	/* Filtering (RFC 5780 section 4.4), believed only from a server that
	 * demonstrably honours CHANGE-REQUEST. */
	if (p->have_alt) {
		support = change_support(p, ps, v);
		if (p->alt_port_only)
			classify_filtering_port_only(p, ps, &mf, support, stopped, v);
		else
			classify_filtering(p, ps, &mf, support, stopped, v);
	} else if (mf.beh != NAT_BEH_UNKNOWN || mf.dest_dependent) {
		nat_add(v, NAT_F_FILTERING_UNTESTABLE);
	}

	classify_hairpin(p, &mf, v);
	classify_type(&mf, v);
	untrusted_findings(v, ps);
	run_findings(p, v);
	setup_findings(p, v);
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
