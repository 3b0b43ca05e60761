/*
 * probe.c - the NAT test engine: which request goes out when, and what each
 * datagram that comes back means for its test (see probe.h for the contract
 * and the schedule).
 *
 * Pure: no sockets, no clock, no stdio, no allocation.  Time comes in as an
 * argument, datagrams leave through probe_next() and arrive through
 * probe_input(); randomness comes only from cfg.random.
 *
 * Three rules carry the design:
 *  - every transmission has its own transaction ID, so each answer names
 *    the exact send it answers (round trips and loss are per send);
 *  - an answer counts only when it comes from the address the test expects
 *    (RFC 5780 section 4.4: the filtering tests are about WHERE the reply
 *    comes from), and it arrives on the socket that sent the request;
 *  - a negative result ("no answer") is given only after enough sends that
 *    loss is an unlikely explanation and a wait of a few round trips.
 */
#include <string.h>

#include "addr.h"
#include "probe.h"
#include "stun.h"

/* RFC 3489 section 9.3: retransmit at 100 ms, doubling to 1.6 s, nine
 * sends, give up 1.6 s after the last one (9.5 s after the first). */
static const uint32_t rfc3489_at_ms[] = { 0, 100, 300, 700, 1500, 3100, 4700, 6300, 7900 };
#define RFC3489_NSENDS   (sizeof(rfc3489_at_ms) / sizeof(rfc3489_at_ms[0]))
#define RFC3489_GIVEUP_MS 9500u

/* probe_send.answered: a provisional answer is one to a filtering test
 * whose expected source is not known yet (the alternate address comes with
 * another test's answer); it is confirmed or rejected when it is. */
#define SEND_OPEN        0
#define SEND_ANSWERED    1
#define SEND_PROVISIONAL 2

#define NEVER UINT64_MAX

/* ------------------------------------------------------------- helpers */

/* The hairpin tests send to our own mapped addresses, not to a server. */
static int
is_peer(enum probe_kind k)
{
	return k == PROBE_MAP_TO_HAIR || k == PROBE_HAIR_TO_MAP;
}

static int
is_filter(enum probe_kind k)
{
	return k == PROBE_FILTER_IP_PORT || k == PROBE_FILTER_PORT;
}

static void
emit(const struct probe *p, enum probe_event_kind kind, const struct probe_test *t, int sock,
     const struct stun_addr *peer, size_t attempt, uint32_t rtt, const char *why)
{
	struct probe_event ev;

	if (p->cfg.event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.test = t;
	ev.sock = sock;
	if (peer != NULL)
		ev.peer = *peer;
	ev.attempt = attempt;
	ev.rtt_ms = rtt;
	ev.why = why;
	p->cfg.event(p->cfg.event_ctx, &ev);
}

static void
ignored(struct probe *p, const struct probe_test *t, int sock, const struct stun_addr *from,
        const char *why)
{
	emit(p, PROBE_EV_IGNORED, t, sock, from, 0, 0, why);
}

/* ------------------------------------------------------- the schedule */

uint64_t
probe_wait_for(uint32_t rtt_ms)
{
	uint32_t half = rtt_ms / 2;

	return (uint64_t)rtt_ms + (half > PROBE_MARGIN_MS ? half : PROBE_MARGIN_MS);
}

uint32_t
probe_iv_for(uint32_t rtt_ms)
{
	uint32_t iv = rtt_ms / PROBE_IV_DIV;

	if (iv < PROBE_IV_MIN_MS)
		iv = PROBE_IV_MIN_MS;
	if (iv > PROBE_IV_CAP_MS)
		iv = PROBE_IV_CAP_MS;
	return iv;
}

/* W: how long after its last send a test waits before "no answer". */
static uint64_t
wait_w(const struct probe *p)
{
	return probe_wait_for(p->rtt_ms);
}

/* The retransmission interval once a round trip is known. */
static uint64_t
measured_iv(const struct probe *p)
{
	return probe_iv_for(p->rtt_ms);
}

/* A provisional filtering answer is held: the test waits for the
 * alternate address instead of sending. */
static int
holds_provisional(const struct probe_test *t)
{
	return t->result == PROBE_RUNNING && !t->has_expect && t->from.family != 0;
}

/* How long after a send its outcome is taken as known: a round trip and a
 * margin.  An answer later than that turns a counted loss back into an
 * answer when it comes; until then the estimate errs towards loss. */
static uint64_t
outcome_after(const struct probe *p)
{
	return (uint64_t)p->rtt_ms + PROBE_MARGIN_MS;
}

/*
 * The exchanges whose outcome is known at now: the sends of tests that were
 * answered (provisional answers included) made at least outcome_after()
 * ago, answered or not - for the schedule an answer must not count before
 * a loss could have.  For the report (for_report), what was answered
 * counts at once: the run is over, and a young answered send is known.
 * The hairpin tests are left out: their first sends are often dropped by
 * the NAT's filter by design (the other side has not opened it yet),
 * which is not loss.
 */
static void
loss_counts(const struct probe *p, uint64_t now, int for_report, unsigned *answered,
            unsigned *lost)
{
	uint64_t h = outcome_after(p);

	*answered = 0;
	*lost = 0;
	if (!p->have_rtt)
		return;
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if ((t->result != PROBE_ANSWERED && !holds_provisional(t)) || is_peer(t->kind))
			continue;
		for (size_t j = 0; j < t->nsent; j++) {
			int known = now >= t->sends[j].at_ms + h;

			if (t->sends[j].answered != SEND_OPEN) {
				if (known || for_report)
					(*answered)++;
			} else if (known) {
				(*lost)++;
			}
		}
	}
}

/*
 * K, the number of sends before a test may be given up: the smallest K for
 * which losing K exchanges in a row is no likelier than eps, given what the
 * run has seen.  With a exchanges answered and l lost, and a prior worth
 * PROBE_PRIOR_N exchanges at loss PROBE_Q_PRIOR, that chance is the
 * beta-binomial predictive
 *     prod_{i<K} (l + q0 + i) / (a + l + PROBE_PRIOR_N + i),
 *     q0 = PROBE_PRIOR_N * PROBE_Q_PRIOR,
 * which shrinks slowly while the outcomes are few; PROBE_Q_FLOOR^K must be
 * <= eps too (no path is believed to lose less).  Computed by
 * multiplication: no libm.
 */
size_t
probe_k_for(unsigned a, unsigned l, double eps)
{
	const double q0 = PROBE_PRIOR_N * PROBE_Q_PRIOR;
	double pred = 1.0, least = 1.0;
	size_t k = 0;

	while ((pred > eps || least > eps) && k < PROBE_K_MAX) {
		pred *= ((double)l + q0 + (double)k) /
		    ((double)a + (double)l + PROBE_PRIOR_N + (double)k);
		least *= PROBE_Q_FLOOR;
		k++;
	}
	if (k < PROBE_K_MIN)
		k = PROBE_K_MIN;
	return k;
}

static size_t
sends_needed(const struct probe *p, uint64_t now, double eps)
{
	unsigned a, l;

	loss_counts(p, now, 0, &a, &l);
	return probe_k_for(a, l, eps);
}

void
probe_pace(const struct probe *p, uint64_t now_ms, struct probe_pace *pace)
{
	memset(pace, 0, sizeof(*pace));
	/* RFC 3489's fixed schedule measures nothing the others could use. */
	if (!p->have_rtt || p->cfg.rfc3489_timing)
		return;
	pace->have_rtt = 1;
	pace->rtt_ms = p->rtt_ms;
	pace->since_ms = p->rtt_since_ms;
	loss_counts(p, now_ms, 0, &pace->answered, &pace->lost);
}

/*
 * K for this test, out of k[] as probe_next() computed it: a filtering
 * test's negative names the filtering by itself (PROBE_EPS_FILTER); any
 * other negative at most leaves a behaviour unknown, or needs a second one
 * to agree (the two hairpin tests), so PROBE_EPS will do.
 */
static size_t
k_of(const struct probe_test *t, const size_t k[2])
{
	return k[is_filter(t->kind) ? 1 : 0];
}

/*
 * The sends of t made once a round trip was known, the ones a negative
 * rests on: a send made before (into a path that may have been cold,
 * holding it for seconds) has not had a wait the estimate can vouch for.
 * n_out receives how many there are; returns the K-th one, or NULL.
 */
static const struct probe_send *
kth_measured_send(const struct probe *p, const struct probe_test *t, size_t k, size_t *n_out)
{
	const struct probe_send *kth = NULL;
	size_t n = 0;

	for (size_t j = 0; j < t->nsent; j++)
		if (t->sends[j].at_ms >= p->rtt_since_ms && ++n == k)
			kth = &t->sends[j];
	if (n_out != NULL)
		*n_out = n;
	return kth;
}

/* When this test's next send is due (NEVER when it may not send now). */
static uint64_t
send_due(const struct probe *p, const struct probe_test *t, const size_t k[2])
{
	uint64_t last;

	if (t->result != PROBE_RUNNING || holds_provisional(t) || t->nsent >= PROBE_MAX_SENDS)
		return NEVER;
	if (p->cfg.rfc3489_timing)
		return t->nsent < RFC3489_NSENDS ? t->started_ms + rfc3489_at_ms[t->nsent] : NEVER;
	if (t->nsent == 0)
		return t->started_ms;
	if (p->have_rtt) {
		size_t n;

		kth_measured_send(p, t, k_of(t, k), &n);
		if (n >= k_of(t, k))
			return NEVER;
	}
	last = t->sends[t->nsent - 1].at_ms;
	return last + (p->have_rtt ? measured_iv(p) : t->iv_ms);
}

/* When this test is given up if nothing arrives (NEVER: not yet known). */
static uint64_t
giveup_due(const struct probe *p, const struct probe_test *t, const size_t k[2])
{
	const struct probe_send *kth;

	if (t->result != PROBE_RUNNING || holds_provisional(t))
		return NEVER;
	if (p->cfg.rfc3489_timing)
		return t->started_ms + RFC3489_GIVEUP_MS;
	/* No round trip measured yet: W is undefined, nothing is given up.
	 * Then: once K sends made with the round trip known have each waited
	 * W in vain.  Sends beyond the K-th only add chances; waiting W after
	 * the last of them would add nothing to the evidence. */
	if (!p->have_rtt)
		return NEVER;
	kth = kth_measured_send(p, t, k_of(t, k), NULL);
	return kth == NULL ? NEVER : kth->at_ms + wait_w(p);
}

static void
decide(struct probe *p, struct probe_test *t, enum probe_result r)
{
	t->result = r;
	emit(p, PROBE_EV_DECIDED, t, t->sock, &t->dst, t->nsent, t->rtt_ms, NULL);
}

/* A test ran out of sends or time without a believable answer. */
static void
give_up(struct probe *p, struct probe_test *t, enum probe_result none)
{
	if (t->errors > 0)
		decide(p, t, PROBE_ERROR_RESPONSE);
	else if (t->wrong_source > 0)
		decide(p, t, PROBE_WRONG_SOURCE);
	else
		decide(p, t, none);
}

/* ------------------------------------------------------------- tests */

static struct probe_test *
add_test(struct probe *p, enum probe_kind kind, int server, int sock,
         const struct stun_addr *dst, uint32_t change)
{
	struct probe_test *t;

	if (p->ntests >= PROBE_MAX_TESTS)
		return NULL;
	t = &p->tests[p->ntests++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->result = PROBE_NOT_RUN;
	t->server = server;
	t->sock = sock;
	if (dst != NULL)
		t->dst = *dst;
	t->change = change;
	t->has_change = change != 0;
	t->iv_ms = PROBE_IV0_MS;
	return t;
}

static void
start(struct probe_test *t, const struct stun_addr *dst, const struct stun_addr *expect,
      uint64_t now)
{
	t->dst = *dst;
	t->has_expect = expect != NULL;
	if (expect != NULL)
		t->expect = *expect;
	t->result = PROBE_RUNNING;
	t->started_ms = now;
	t->iv_ms = PROBE_IV0_MS;
}

static struct probe_test *
find_kind(struct probe *p, enum probe_kind kind, int server)
{
	for (size_t i = 0; i < p->ntests; i++)
		if (p->tests[i].kind == kind && p->tests[i].server == server)
			return &p->tests[i];
	return NULL;
}

const struct probe_test *
probe_find(const struct probe *p, enum probe_kind kind, int server)
{
	const struct probe_test *first = NULL;

	/* Exact (kind, server) first; for kinds that only one server runs,
	 * any server's test of that kind will do. */
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (t->kind != kind)
			continue;
		if (t->server == server)
			return t;
		if (first == NULL)
			first = t;
	}
	return kind == PROBE_BINDING_OTHER ? NULL : first;
}

/* The address rules both engines share (addr_use_check), for an address
 * in this role that server told socket sock about. */
static enum probe_addr_problem
addr_problem(const struct probe *p, int sock, int server, const struct stun_addr *a,
             enum addr_role role)
{
	const struct stun_addr *s, *l;

	if (!addr_valid(a) || server < 0 || (size_t)server >= p->cfg.nservers ||
	    sock < 0 || sock >= PROBE_NSOCK)
		return PROBE_ADDR_ABSENT;
	s = &p->cfg.servers[server];
	l = &p->cfg.local[sock];
	return (enum probe_addr_problem)addr_use_check(a, addr_valid(l) ? l->family : s->family,
	    s, p->cfg.local, PROBE_NSOCK, &p->cfg.host, role);
}

enum probe_addr_problem
probe_addr_check(const struct probe *p, int sock, int server, const struct stun_addr *a)
{
	return addr_problem(p, sock, server, a, ADDR_ROLE_TARGET);
}

enum probe_addr_problem
probe_mapped_check(const struct probe *p, int sock, int server, const struct stun_addr *a)
{
	return addr_problem(p, sock, server, a, ADDR_ROLE_MAPPED);
}

enum probe_addr_problem
probe_hairpin_check(const struct probe *p, int sock, int server, const struct stun_addr *a)
{
	return addr_problem(p, sock, server, a, ADDR_ROLE_HAIRPIN);
}

/* RFC 5780 section 7.4 / RFC 3489 section 11.2.3: the alternate differs
 * from the server in IP AND port; and it must be safe to send to. */
enum probe_addr_problem
probe_alt_check(const struct probe *p, const struct probe_test *t)
{
	const struct stun_addr *l = &p->cfg.local[PROBE_SOCK_MAP], *srv;

	if (t == NULL || t->result != PROBE_ANSWERED || !t->has_other || t->server < 0 ||
	    (size_t)t->server >= p->cfg.nservers)
		return PROBE_ADDR_ABSENT;
	srv = &p->cfg.servers[t->server];
	return (enum probe_addr_problem)addr_alt_check(&t->other,
	    addr_valid(l) ? l->family : srv->family, srv, p->cfg.local, PROBE_NSOCK, &p->cfg.host);
}

int
probe_alt_port_only(const struct probe *p, const struct probe_test *t)
{
	const struct stun_addr *srv;

	if (probe_alt_check(p, t) != PROBE_ADDR_NOT_DISTINCT)
		return 0;
	srv = &p->cfg.servers[t->server];
	return addr_ip_eq(&t->other, srv) && t->other.port != srv->port;
}

/* Record the first believed answer's contents in the test. */
static void
take_answer(struct probe_test *t, const struct stun_msg *m, const struct stun_addr *from,
            const struct stun_addr *mapped, uint32_t rtt)
{
	t->rtt_ms = rtt;
	t->from = *from;
	t->has_mapped = mapped != NULL;
	if (mapped != NULL)
		t->mapped = *mapped;
	t->has_other = 0;
	t->other_rfc5780 = 0;
	t->has_origin = 0;
	t->origin_rfc5780 = 0;
	t->mapped_xor = 0;
	if (m == NULL)
		return;
	t->mapped_xor = m->has_cookie && (stun_find(m, STUN_ATTR_XOR_MAPPED_ADDRESS) >= 0 ||
	    stun_find(m, STUN_ATTR_XOR_MAPPED_ADDRESS_OLD) >= 0);
	if (stun_get_addr(m, STUN_ATTR_OTHER_ADDRESS, &t->other) == STUN_OK) {
		t->has_other = 1;
		t->other_rfc5780 = 1;
	} else if (stun_get_addr(m, STUN_ATTR_CHANGED_ADDRESS, &t->other) == STUN_OK) {
		t->has_other = 1;
	}
	if (stun_get_addr(m, STUN_ATTR_RESPONSE_ORIGIN, &t->origin) == STUN_OK) {
		t->has_origin = 1;
		t->origin_rfc5780 = 1;
	} else if (stun_get_addr(m, STUN_ATTR_SOURCE_ADDRESS, &t->origin) == STUN_OK) {
		t->has_origin = 1;
	}
}

static void
clear_answer(struct probe_test *t)
{
	t->rtt_ms = 0;
	t->has_mapped = 0;
	t->has_other = 0;
	t->other_rfc5780 = 0;
	t->has_origin = 0;
	t->origin_rfc5780 = 0;
	t->mapped_xor = 0;
	memset(&t->from, 0, sizeof(t->from));
}

static void
count_wrong(struct probe *p, struct probe_test *t, const struct stun_addr *from)
{
	if (t->wrong_source++ == 0)
		t->wrong_from = *from;
	p->stats.wrong_source++;
}

/* A provisional answer that nothing will verify: it stands, unverified. */
static void
settle(struct probe *p, struct probe_test *t)
{
	for (size_t j = 0; j < t->nsent; j++)
		if (t->sends[j].answered == SEND_PROVISIONAL)
			t->sends[j].answered = SEND_ANSWERED;
	decide(p, t, PROBE_ANSWERED);
}

/* No alternate address will come for server 0's filtering tests: what
 * they kept stands, unverifiable (nat_classify knows, p->primary != 0). */
static void
settle_provisional(struct probe *p)
{
	for (size_t i = 0; i < p->ntests; i++) {
		struct probe_test *t = &p->tests[i];

		if (is_filter(t->kind) && t->server == 0 && holds_provisional(t))
			settle(p, t);
	}
}

/*
 * A filtering socket for a primary P (server pa, alternate alt, P's IP at
 * the alternate port pp) other than server 0: one whose earlier sends
 * cannot have opened the NAT's filter for the replies its tests expect -
 * never sent to alt's IP, nor to pp.  PROBE_SOCK_FILTER2 first (fresh, or
 * used by an abandoned primary), then PROBE_SOCK_FILTER; -1: none is.
 */
static int
filter_sock_for(const struct probe *p, const struct stun_addr *pa, const struct stun_addr *alt,
                const struct stun_addr *pp)
{
	static const int socks[] = { PROBE_SOCK_FILTER2, PROBE_SOCK_FILTER };

	for (size_t k = 0; k < sizeof(socks) / sizeof(socks[0]); k++) {
		int clean = 1;

		for (size_t i = 0; i < p->ntests && clean; i++) {
			const struct probe_test *t = &p->tests[i];

			if (t->sock != socks[k] || t->nsent == 0 || addr_eq(&t->dst, pa))
				continue;
			if (addr_ip_eq(&t->dst, alt) || addr_eq(&t->dst, pp))
				clean = 0;
		}
		if (clean)
			return socks[k];
	}
	return -1;
}

/*
 * The alternate of the primary server P is known: A:a.  Start the mapping
 * tests and the CHANGE-REQUEST checks on the mapping socket, in this order
 * (the NAT must see the mapping socket send to A:a and P:a before the
 * checks' replies from there arrive), and give the filtering tests their
 * expected sources.
 */
static void
use_primary(struct probe *p, int server, const struct stun_addr *alt, uint64_t now)
{
	const struct stun_addr *pa = &p->cfg.servers[server];
	struct stun_addr ap = *alt, pp = *pa;
	static const enum probe_kind order[] = {
		PROBE_MAP_ALT_IP, PROBE_MAP_ALT_IP_PORT, PROBE_MAP_ALT_PORT,
		PROBE_CHECK_PORT, PROBE_CHECK_IP_PORT
	};

	int port_only = addr_ip_eq(alt, pa);

	p->primary = server;
	p->tried |= 1u << server;
	p->have_alt = 1;
	p->alt = *alt;
	p->alt_port_only = port_only;
	ap.port = pa->port;             /* A:p */
	pp.port = alt->port;            /* P's IP, alternate port */

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct probe_test *t = find_kind(p, order[i], 0);

		/* A second primary (failover) gets tests of its own: the first
		 * primary took the ones made at the start. */
		if (t == NULL || (t->result != PROBE_NOT_RUN && t->server != server))
			t = add_test(p, order[i], server, PROBE_SOCK_MAP, NULL,
			             order[i] == PROBE_CHECK_PORT ? STUN_CHANGE_PORT :
			             order[i] == PROBE_CHECK_IP_PORT ? STUN_CHANGE_IP | STUN_CHANGE_PORT : 0);
		if (t == NULL || t->result != PROBE_NOT_RUN)
			continue;
		/* A single-address server cannot change its IP: the tests that
		 * need another IP stay not run. */
		if (port_only && order[i] != PROBE_MAP_ALT_PORT && order[i] != PROBE_CHECK_PORT)
			continue;
		t->server = server;
		switch (order[i]) {
		case PROBE_MAP_ALT_IP:
			start(t, &ap, &ap, now);
			break;
		case PROBE_MAP_ALT_IP_PORT:
			start(t, alt, alt, now);
			break;
		case PROBE_MAP_ALT_PORT:
			start(t, &pp, &pp, now);
			break;
		/* The checks send the filter tests' own requests to the primary:
		 * a server may honour CHANGE-REQUEST on one address and not on
		 * the other (coturn answers a change of IP received on its
		 * alternate address from the alternate address). */
		case PROBE_CHECK_PORT:
			start(t, pa, &pp, now);
			break;
		default:
			start(t, pa, alt, now);
			break;
		}
	}

	if (server != 0) {
		/* Another socket than the mapping socket, whose filter is open
		 * towards server 0 only (or an abandoned primary): a filter open
		 * there says nothing about this server. */
		struct probe_test *t;
		int fs = filter_sock_for(p, pa, alt, &pp);

		if (fs < 0)
			return;         /* none clean: the filtering stays unknown */
		if (!port_only) {
			t = add_test(p, PROBE_FILTER_IP_PORT, server, fs, pa,
			             STUN_CHANGE_IP | STUN_CHANGE_PORT);
			if (t != NULL)
				start(t, pa, alt, now);
		}
		t = add_test(p, PROBE_FILTER_PORT, server, fs, pa, STUN_CHANGE_PORT);
		if (t != NULL)
			start(t, pa, &pp, now);
		return;
	}

	/* Server 0: the filtering tests already run; check what they kept. */
	for (size_t i = 0; i < p->ntests; i++) {
		struct probe_test *t = &p->tests[i];

		if (!is_filter(t->kind) || t->server != 0 || t->has_expect)
			continue;
		if (port_only && t->kind == PROBE_FILTER_IP_PORT) {
			/* The server has no other IP to answer from: what it kept
			 * stands, unverifiable, and it sends no more; nat_classify
			 * leaves it out. */
			if (holds_provisional(t))
				settle(p, t);
			else if (t->result == PROBE_RUNNING)
				give_up(p, t, PROBE_ABANDONED);
			continue;
		}
		t->has_expect = 1;
		t->expect = t->kind == PROBE_FILTER_IP_PORT ? *alt : pp;
		if (t->result == PROBE_ANSWERED && !addr_eq(&t->from, &t->expect)) {
			/* Settled unverified earlier (the binding's answer came only
			 * after it was given up), and now known to be wrong. */
			count_wrong(p, t, &t->from);
			clear_answer(t);
			decide(p, t, PROBE_WRONG_SOURCE);
			continue;
		}
		if (t->result != PROBE_RUNNING || t->from.family == 0)
			continue;
		for (size_t j = 0; j < t->nsent; j++) {
			if (t->sends[j].answered != SEND_PROVISIONAL)
				continue;
			if (addr_eq(&t->from, &t->expect)) {
				t->sends[j].answered = SEND_ANSWERED;
			} else {
				t->sends[j].answered = SEND_OPEN;
				count_wrong(p, t, &t->from);
			}
		}
		if (addr_eq(&t->from, &t->expect)) {
			decide(p, t, PROBE_ANSWERED);
		} else {
			ignored(p, t, t->sock, &t->from, "answer from an unexpected source");
			clear_answer(t);        /* and it sends again */
		}
	}
}

/* The binding test that learned the mapping socket's mapping at server i. */
static struct probe_test *
binding_of(struct probe *p, int server)
{
	return find_kind(p, server == 0 ? PROBE_BINDING : PROBE_BINDING_OTHER, server);
}

/*
 * The server the hairpin tests learn their mappings from: server 0, or,
 * once server 0's binding has failed, the first other server that
 * answered.  -1: none (yet).
 */
static int
hairpin_anchor(struct probe *p)
{
	struct probe_test *b = binding_of(p, 0);

	if (b == NULL)
		return -1;
	if (b->result == PROBE_ANSWERED)
		return b->has_mapped ? 0 : -1;
	if (b->result == PROBE_RUNNING)
		return -1;
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (t->kind == PROBE_BINDING_OTHER && t->result == PROBE_ANSWERED && t->has_mapped)
			return t->server;
	}
	return -1;
}

/* Hairpinning (RFC 5780 section 4.5): only behind a NAT, once both sockets
 * know their mapped address at the anchor server, and only to mapped
 * addresses that can be sent to (a server names them: untrusted). */
static void
advance_hairpin(struct probe *p, uint64_t now)
{
	struct probe_test *mh = find_kind(p, PROBE_MAP_TO_HAIR, 0);
	struct probe_test *hm = find_kind(p, PROBE_HAIR_TO_MAP, 0);
	struct probe_test *b, *h;
	int a = hairpin_anchor(p);

	if (mh == NULL || hm == NULL || mh->result != PROBE_NOT_RUN || a < 0)
		return;
	b = binding_of(p, a);
	h = find_kind(p, PROBE_HAIR_BINDING, a);
	if (h == NULL && a != 0) {
		/* Server 0 never gave the hairpin socket its mapping: ask the
		 * server that answered instead. */
		struct probe_test *h0 = find_kind(p, PROBE_HAIR_BINDING, 0);

		if (h0 == NULL || h0->result == PROBE_RUNNING ||
		    (h0->result == PROBE_ANSWERED && h0->has_mapped))
			return;
		h = add_test(p, PROBE_HAIR_BINDING, a, PROBE_SOCK_HAIR, &p->cfg.servers[a], 0);
		if (h != NULL)
			start(h, &p->cfg.servers[a], &p->cfg.servers[a], now);
		return;
	}
	if (b == NULL || h == NULL || b->result != PROBE_ANSWERED || !b->has_mapped ||
	    h->result != PROBE_ANSWERED || !h->has_mapped ||
	    addr_eq(&b->mapped, &p->cfg.local[PROBE_SOCK_MAP]))
		return;
	/* nat_classify names an address that is not sent to: one of this
	 * host's own (a local service, no NAT to cross), or one the server
	 * may not aim the tests at. */
	if (probe_hairpin_check(p, PROBE_SOCK_MAP, a, &h->mapped) != PROBE_ADDR_OK ||
	    probe_hairpin_check(p, PROBE_SOCK_HAIR, a, &b->mapped) != PROBE_ADDR_OK)
		return;
	start(mh, &h->mapped, NULL, now);
	start(hm, &b->mapped, NULL, now);
}

unsigned
probe_server_lies(const struct probe *p, int server)
{
	unsigned lies = 0;

	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if (t->result != PROBE_ANSWERED || is_peer(t->kind) || t->server != server)
			continue;
		if (t->has_origin && t->origin_rfc5780 && !addr_eq(&t->origin, &t->from))
			lies |= PROBE_LIE_ORIGIN;
		for (size_t j = 0; j < i && t->has_other; j++) {
			const struct probe_test *u = &p->tests[j];

			if (u->result == PROBE_ANSWERED && u->has_other && u->server == server &&
			    addr_eq(&u->dst, &t->dst) && !addr_eq(&u->other, &t->other))
				lies |= PROBE_LIE_OTHER;
		}
	}
	return lies;
}

/* Has the primary shown it cannot be used: a CHANGE-REQUEST check
 * answered from the wrong place or refused, or answers that contradict
 * themselves? */
static int
primary_failed(const struct probe *p)
{
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];

		if ((t->kind == PROBE_CHECK_PORT || t->kind == PROBE_CHECK_IP_PORT) &&
		    t->server == p->primary && (t->wrong_source > 0 ||
		    (t->result == PROBE_ERROR_RESPONSE && (t->error_code < 500 ||
		    t->error_code > 599))))
			return 1;
	}
	return probe_server_lies(p, p->primary) != 0;
}

/* Failover (see probe.h): the primary failed; the next server whose full
 * alternate is usable and that was never the primary takes over, once one
 * has answered. */
static void
fail_over(struct probe *p, uint64_t now)
{
	if (p->alt_port_only || !primary_failed(p))
		return;
	for (size_t i = 0; i < p->ntests; i++) {
		struct probe_test *t = &p->tests[i];

		if (t->kind == PROBE_BINDING_OTHER && t->server != p->primary &&
		    !(p->tried & (1u << t->server)) && probe_alt_check(p, t) == PROBE_ADDR_OK &&
		    !probe_server_lies(p, t->server)) {
			if (p->abandoned < 0)
				p->abandoned = p->primary;
			use_primary(p, t->server, &t->other, now);
			return;
		}
	}
}

/*
 * Failover from a silent server 0: it has had a round trip and a margin
 * (W) since its first send without a word, and another server with a
 * usable alternate has answered: waiting for server 0's binding to be
 * given up (K sends) would cost several round trips more.  Its answer, if
 * it comes, still counts for the mapping; the tests no longer wait for it.
 */
static int
silent_past_rtt(const struct probe *p, const struct probe_test *b, uint64_t now)
{
	if (!p->have_rtt || b->nsent == 0 || b->from.family != 0 || b->wrong_source > 0 ||
	    b->errors > 0 || now < b->sends[0].at_ms + wait_w(p))
		return 0;
	for (size_t i = 0; i < p->ntests; i++)
		if (p->tests[i].kind == PROBE_BINDING_OTHER &&
		    probe_alt_check(p, &p->tests[i]) == PROBE_ADDR_OK)
			return 1;
	return 0;
}

/* Failover from a silent server 0: its tests that have had no word stop
 * (their late answers are still taken while the run lasts, as any late
 * answer), so the run does not wait for them. */
static void
abandon_server0(struct probe *p)
{
	for (size_t i = 0; i < p->ntests; i++) {
		struct probe_test *t = &p->tests[i];

		if (t->server == 0 && t->result == PROBE_RUNNING && !is_peer(t->kind) &&
		    t->from.family == 0 && t->wrong_source == 0 && t->errors == 0 &&
		    (t->kind == PROBE_BINDING || t->kind == PROBE_HAIR_BINDING || is_filter(t->kind)))
			decide(p, t, PROBE_ABANDONED);
	}
}

/*
 * The answer that names binding test t's server as a single-address one:
 * t's own, or for server 0's binding, which named no alternate, the
 * answer to the ask for it (PROBE_ASK_OTHER).  NULL: neither does.
 */
static struct probe_test *
port_only_answer(struct probe *p, struct probe_test *t)
{
	struct probe_test *a;

	if (probe_alt_port_only(p, t))
		return t;
	if (t->kind != PROBE_BINDING || t->has_other)
		return NULL;
	a = find_kind(p, PROBE_ASK_OTHER, 0);
	return a != NULL && probe_alt_port_only(p, a) ? a : NULL;
}

/*
 * Server 0's binding was answered without an alternate: ask for one, once
 * (see the top of probe.h).  Returns 1 while the ask is open: its outcome
 * may still make server 0 a single-address primary.
 */
static int
ask_other(struct probe *p, const struct probe_test *b, uint64_t now)
{
	struct probe_test *a = find_kind(p, PROBE_ASK_OTHER, 0);

	if (a == NULL && b->result == PROBE_ANSWERED && !b->has_other) {
		a = add_test(p, PROBE_ASK_OTHER, 0, PROBE_SOCK_MAP, &b->dst, 0);
		if (a == NULL)
			return 0;
		a->has_change = 1;      /* empty: no flag set */
		start(a, &b->dst, &b->dst, now);
	}
	return a != NULL && a->result == PROBE_RUNNING;
}

/* The ask for server 0's alternate stops once another server is the
 * primary (a late answer is still taken, as any late answer). */
static void
abandon_ask(struct probe *p)
{
	struct probe_test *a = find_kind(p, PROBE_ASK_OTHER, 0);

	if (a != NULL && a->result == PROBE_RUNNING)
		decide(p, a, PROBE_ABANDONED);
}

/* No server with a full alternate so far: once every binding is decided
 * (none still might have one) and the ask for server 0's alternate too,
 * the first single-address server. */
static void
use_port_only(struct probe *p, uint64_t now)
{
	struct probe_test *pick = NULL;

	for (size_t i = 0; i < p->ntests; i++) {
		struct probe_test *t = &p->tests[i];

		if (t->kind != PROBE_BINDING && t->kind != PROBE_BINDING_OTHER &&
		    t->kind != PROBE_ASK_OTHER)
			continue;
		if (t->result == PROBE_RUNNING)
			return;
		if (pick == NULL && t->kind != PROBE_ASK_OTHER)
			pick = port_only_answer(p, t);
	}
	if (pick != NULL)
		use_primary(p, pick->server, &pick->other, now);
}

/*
 * Start what the answers so far make possible: the tests against the
 * primary server's alternate address, and the hairpin tests.  The primary
 * is server 0 when its alternate is usable; otherwise, once server 0's
 * binding is decided (answered without one, refused, silent), the first
 * other server whose alternate is.
 */
static void
advance(struct probe *p, uint64_t now)
{
	struct probe_test *b = find_kind(p, PROBE_BINDING, 0);

	if (b == NULL)
		return;
	if (p->primary < 0) {
		if (probe_alt_check(p, b) == PROBE_ADDR_OK) {
			use_primary(p, 0, &b->other, now);
		} else if (b->result != PROBE_RUNNING || silent_past_rtt(p, b, now)) {
			if (b->result == PROBE_RUNNING)
				abandon_server0(p);
			/* Server 0 with a port-only alternate, or one it may yet
			 * name when asked, may yet be the primary: its filtering
			 * tests wait to be verified against it. */
			int asking = ask_other(p, b, now);
			int hold = asking || port_only_answer(p, b) != NULL;

			if (!hold)
				settle_provisional(p);
			for (size_t i = 0; i < p->ntests && p->primary < 0; i++) {
				struct probe_test *t = &p->tests[i];

				if (t->kind == PROBE_BINDING_OTHER &&
				    probe_alt_check(p, t) == PROBE_ADDR_OK)
					use_primary(p, t->server, &t->other, now);
			}
			if (p->primary < 0)
				use_port_only(p, now);
			if (hold && p->primary > 0) {
				settle_provisional(p);
				/* Another server is the primary: server 0's
				 * alternate no longer matters. */
				abandon_ask(p);
			}
		}
	}
	if (p->primary >= 0)
		fail_over(p, now);
	advance_hairpin(p, now);
}

/* ---------------------------------------------------------------- API */

void
probe_init(struct probe *p, const struct probe_config *cfg, uint64_t now_ms)
{
	struct probe_test *t;
	const struct stun_addr *s0;

	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	if (p->cfg.nservers > PROBE_MAX_SERVERS)
		p->cfg.nservers = PROBE_MAX_SERVERS;
	p->start_ms = now_ms;
	p->primary = -1;
	p->abandoned = -1;
	if (p->cfg.nservers == 0)
		return;
	s0 = &p->cfg.servers[0];

	/* t = 0: everything that needs nothing but server 0's address. */
	t = add_test(p, PROBE_BINDING, 0, PROBE_SOCK_MAP, s0, 0);
	start(t, s0, s0, now_ms);
	t = add_test(p, PROBE_FILTER_IP_PORT, 0, PROBE_SOCK_FILTER, s0,
	             STUN_CHANGE_IP | STUN_CHANGE_PORT);
	start(t, s0, NULL, now_ms);
	t = add_test(p, PROBE_FILTER_PORT, 0, PROBE_SOCK_FILTER, s0, STUN_CHANGE_PORT);
	start(t, s0, NULL, now_ms);
	t = add_test(p, PROBE_HAIR_BINDING, 0, PROBE_SOCK_HAIR, s0, 0);
	start(t, s0, s0, now_ms);
	for (size_t i = 1; i < p->cfg.nservers; i++) {
		t = add_test(p, PROBE_BINDING_OTHER, (int)i, PROBE_SOCK_MAP, &p->cfg.servers[i], 0);
		start(t, &p->cfg.servers[i], &p->cfg.servers[i], now_ms);
	}

	/* Later, in this order; not run until their prerequisite is known. */
	add_test(p, PROBE_MAP_ALT_IP, 0, PROBE_SOCK_MAP, NULL, 0);
	add_test(p, PROBE_MAP_ALT_IP_PORT, 0, PROBE_SOCK_MAP, NULL, 0);
	add_test(p, PROBE_MAP_ALT_PORT, 0, PROBE_SOCK_MAP, NULL, 0);
	add_test(p, PROBE_CHECK_PORT, 0, PROBE_SOCK_MAP, NULL, STUN_CHANGE_PORT);
	add_test(p, PROBE_CHECK_IP_PORT, 0, PROBE_SOCK_MAP, NULL, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	add_test(p, PROBE_MAP_TO_HAIR, 0, PROBE_SOCK_MAP, NULL, 0);
	add_test(p, PROBE_HAIR_TO_MAP, 0, PROBE_SOCK_HAIR, NULL, 0);
}

/* Counts for probe_loss() and the report, as of now. */
static void
update_loss_stats(struct probe *p, uint64_t now)
{
	unsigned a, l;

	loss_counts(p, now, 1, &a, &l);
	p->stats.answered_sends = a;
	p->stats.lost_sends = l;
}

static enum probe_step
finish(struct probe *p, uint64_t now)
{
	if (!p->done) {
		p->done = 1;
		p->end_ms = now;
		update_loss_stats(p, now);
	}
	return PROBE_DONE;
}

/* Build the request for the test's next send into tx. */
static int
build(struct probe *p, struct probe_test *t, uint64_t now, struct probe_tx *tx)
{
	struct probe_send *s = &t->sends[t->nsent];
	struct stun_enc e;
	size_t len = 0;

	memset(s, 0, sizeof(*s));
	/* RFC 5389 section 6: the cookie, then 96 random bits; a fresh ID for
	 * every transmission (see the top of probe.h). */
	s->tid[0] = (uint8_t)(STUN_MAGIC_COOKIE >> 24);
	s->tid[1] = (uint8_t)(STUN_MAGIC_COOKIE >> 16);
	s->tid[2] = (uint8_t)(STUN_MAGIC_COOKIE >> 8);
	s->tid[3] = (uint8_t)STUN_MAGIC_COOKIE;
	if (p->cfg.random != NULL)
		p->cfg.random(p->cfg.random_ctx, s->tid + 4, STUN_TID_LEN - 4);
	s->at_ms = now;

	stun_enc_init(&e, tx->buf, sizeof(tx->buf), STUN_BINDING_REQUEST, s->tid);
	if (t->has_change)
		stun_enc_change_request(&e, t->change);
	/* RFC 5389 section 15.5: strict servers drop a request without it. */
	stun_enc_fingerprint(&e);
	if (stun_enc_finish(&e, &len) != STUN_OK)
		return -1;
	tx->sock = t->sock;
	tx->to = t->dst;
	tx->len = len;
	tx->test = t;

	/* Before a round trip is known the interval doubles after each send. */
	if (t->nsent > 0 && !p->have_rtt) {
		t->iv_ms *= 2;
		if (t->iv_ms > PROBE_IV_MAX_MS)
			t->iv_ms = PROBE_IV_MAX_MS;
	}
	t->nsent++;
	p->stats.sent++;
	emit(p, PROBE_EV_SEND, t, t->sock, &t->dst, t->nsent, 0, NULL);
	return 0;
}

enum probe_step
probe_next(struct probe *p, uint64_t now_ms, struct probe_tx *tx, uint32_t *wait_ms)
{
	uint64_t deadline, next = NEVER;
	size_t k[2];
	int running = 0;

	if (p->done)
		return PROBE_DONE;
	deadline = p->start_ms + (p->cfg.timeout_ms ? p->cfg.timeout_ms : UINT32_MAX);
	advance(p, now_ms);

	if (now_ms >= deadline) {
		for (size_t i = 0; i < p->ntests; i++) {
			struct probe_test *t = &p->tests[i];

			if (t->result != PROBE_RUNNING)
				continue;
			if (holds_provisional(t)) {
				for (size_t j = 0; j < t->nsent; j++)
					if (t->sends[j].answered == SEND_PROVISIONAL)
						t->sends[j].answered = SEND_ANSWERED;
				decide(p, t, PROBE_ANSWERED);
			} else {
				give_up(p, t, PROBE_TIMEOUT);
			}
		}
		return finish(p, now_ms);
	}

	/* Give up what has had its sends and its wait; a decision can start
	 * other tests (a primary server when server 0 has no alternate). */
	k[0] = sends_needed(p, now_ms, PROBE_EPS);
	k[1] = sends_needed(p, now_ms, PROBE_EPS_FILTER);
	for (size_t i = 0; i < p->ntests; i++) {
		struct probe_test *t = &p->tests[i];

		if (giveup_due(p, t, k) <= now_ms)
			give_up(p, t, PROBE_NO_ANSWER);
	}
	advance(p, now_ms);
	update_loss_stats(p, now_ms);

	for (size_t i = 0; i < p->ntests; i++) {
		struct probe_test *t = &p->tests[i];
		uint64_t due, gu;

		if (t->result != PROBE_RUNNING)
			continue;
		running = 1;
		due = send_due(p, t, k);
		if (due <= now_ms) {
			if (build(p, t, now_ms, tx) == 0)
				return PROBE_SEND;
			/* Cannot happen with PROBE_TXBUF; never loop on it. */
			give_up(p, t, PROBE_NO_ANSWER);
			continue;
		}
		gu = giveup_due(p, t, k);
		if (due < next)
			next = due;
		if (gu < next)
			next = gu;
	}
	if (!running)
		return finish(p, now_ms);
	if (deadline < next)
		next = deadline;
	if (wait_ms != NULL) {
		uint64_t w = next > now_ms ? next - now_ms : 1;

		*wait_ms = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
	}
	return PROBE_WAIT;
}

/* The send (test t, index j) this transaction ID belongs to. */
static int
find_send(struct probe *p, const uint8_t tid[STUN_TID_LEN], struct probe_test **tp, size_t *jp)
{
	for (size_t i = 0; i < p->ntests; i++) {
		struct probe_test *t = &p->tests[i];

		for (size_t j = 0; j < t->nsent; j++) {
			if (memcmp(t->sends[j].tid, tid, STUN_TID_LEN) == 0) {
				*tp = t;
				*jp = j;
				return 1;
			}
		}
	}
	return 0;
}

/*
 * Does round trip `later` (a later send) make `earlier` stale?  Yes when
 * its answer came right behind earlier's (within PROBE_BURST_MS, not
 * before it): both waited in one queue - a cold path holding the first
 * datagrams while a radio wakes up or a neighbour is resolved - and only
 * the later send's time is the path's.  Yes too when it was sent after
 * earlier's answer arrived: a newer measurement of the path.  An answer
 * that came after a later send's (reordered) stays: a delay the path can
 * show.
 */
static int
supersedes(const struct probe_rtt *later, const struct probe_rtt *earlier)
{
	if (later->sent_ms <= earlier->sent_ms)
		return 0;
	return later->sent_ms >= earlier->answered_ms ||
	    (later->answered_ms >= earlier->answered_ms &&
	     later->answered_ms <= earlier->answered_ms + PROBE_BURST_MS);
}

/* A send made at `sent` was answered at `now`: the estimate is the largest
 * round trip among the samples no other sample supersedes. */
static void
note_rtt(struct probe *p, uint64_t sent, uint64_t now)
{
	struct probe_rtt r = { sent, now };
	size_t n = 0;

	for (size_t i = 0; i < p->nrtt; i++)
		if (supersedes(&p->rtt[i], &r))
			return;
	for (size_t i = 0; i < p->nrtt; i++)
		if (!supersedes(&r, &p->rtt[i]))
			p->rtt[n++] = p->rtt[i];
	if (n == PROBE_RTT_SAMPLES) {
		/* Full: the oldest send is the oldest news. */
		size_t old = 0;

		for (size_t i = 1; i < n; i++)
			if (p->rtt[i].sent_ms < p->rtt[old].sent_ms)
				old = i;
		p->rtt[old] = p->rtt[--n];
	}
	p->rtt[n++] = r;
	p->nrtt = n;
	p->rtt_ms = 0;
	for (size_t i = 0; i < n; i++)
		if (p->rtt[i].answered_ms - p->rtt[i].sent_ms > p->rtt_ms)
			p->rtt_ms = (uint32_t)(p->rtt[i].answered_ms - p->rtt[i].sent_ms);
	if (!p->have_rtt)
		p->rtt_since_ms = r.answered_ms;
	p->have_rtt = 1;
}

/*
 * Is `from` a believable source for this answer?  Known expectations are
 * compared exactly.  A filtering test whose alternate is not known yet can
 * still rule out the impossible: RFC 3489 Test II's reply must come from
 * another IP and another port, Test III's from the same IP, another port.
 */
static int
source_ok(const struct probe_test *t, const struct stun_addr *from)
{
	if (t->has_expect)
		return addr_eq(from, &t->expect);
	if (t->kind == PROBE_FILTER_IP_PORT)
		return from->family == t->dst.family && !addr_ip_eq(from, &t->dst) &&
		    from->port != t->dst.port;
	if (t->kind == PROBE_FILTER_PORT)
		return addr_ip_eq(from, &t->dst) && from->port != t->dst.port;
	return 1;
}

/* A second answer to send j: counted and ignored.  True when it is one. */
static int
is_duplicate(struct probe *p, struct probe_test *t, size_t j, int sock,
             const struct stun_addr *from)
{
	if (t->sends[j].answered == SEND_OPEN)
		return 0;
	t->duplicates++;
	p->stats.duplicates++;
	ignored(p, t, sock, from, "duplicate answer");
	return 1;
}

/* Our own hairpin request arrived: that is the hairpin test's answer. */
static void
hairpin_arrival(struct probe *p, uint64_t now, struct probe_test *t, size_t j, int sock,
                const struct stun_addr *from)
{
	int want = t->kind == PROBE_MAP_TO_HAIR ? PROBE_SOCK_HAIR : PROBE_SOCK_MAP;
	uint32_t rtt = (uint32_t)(now - t->sends[j].at_ms);

	if (sock != want) {
		p->stats.stray++;
		p->stats.wrong_socket++;
		ignored(p, t, sock, from, "own request arrived on the wrong socket");
		return;
	}
	if (is_duplicate(p, t, j, sock, from))
		return;
	t->sends[j].answered = SEND_ANSWERED;
	/* A one-way trip through the NAT, not a round trip: kept in the test,
	 * not in the engine's RTT. */
	emit(p, PROBE_EV_ANSWER, t, sock, from, j + 1, rtt, NULL);
	if (t->result == PROBE_RUNNING) {
		take_answer(t, NULL, from, NULL, rtt);
		decide(p, t, PROBE_ANSWERED);
	} else if (t->result != PROBE_ANSWERED) {
		t->late++;
		p->stats.late++;
		take_answer(t, NULL, from, NULL, rtt);
		t->result = PROBE_ANSWERED;
		emit(p, PROBE_EV_DECIDED, t, t->sock, &t->dst, t->nsent, rtt, NULL);
	}
}

/* An error response to one of our sends. */
static void
error_answer(struct probe *p, uint64_t now, struct probe_test *t, size_t j,
             const struct stun_msg *m, int sock, const struct stun_addr *from)
{
	int code = 0;
	const char *reason;
	size_t rlen;

	/* Errors come from the endpoint the request went to (RFC 5389 7.3.1). */
	if (!addr_eq(from, &t->dst) && !(t->has_expect && addr_eq(from, &t->expect))) {
		count_wrong(p, t, from);
		ignored(p, t, sock, from, "error response from an unexpected source");
		return;
	}
	if (is_duplicate(p, t, j, sock, from))
		return;
	if (stun_get_error(m, &code, &reason, &rlen) != STUN_OK) {
		p->stats.malformed++;
		p->stats.last_malformed = STUN_ERR_ATTR_VALUE;
		ignored(p, t, sock, from, "error response without ERROR-CODE");
		return;
	}
	t->sends[j].answered = SEND_ANSWERED;
	note_rtt(p, t->sends[j].at_ms, now);
	if (t->errors++ == 0) {
		t->error_code = code;
		t->error_nunknown = 0;
		if (stun_get_unknown_attrs(m, t->error_unknown, 4, &t->error_nunknown) != STUN_OK)
			t->error_nunknown = 0;
	}
	emit(p, PROBE_EV_ANSWER, t, sock, from, j + 1, (uint32_t)(now - t->sends[j].at_ms),
	     "error response");
	/* A 5xx is transient (RFC 5389 section 15.6): keep trying.  Anything
	 * else will be the same answer next time. */
	if (t->result == PROBE_RUNNING && !holds_provisional(t) && (code < 500 || code > 599))
		decide(p, t, PROBE_ERROR_RESPONSE);
}

void
probe_input(struct probe *p, uint64_t now_ms, int sock, const struct stun_addr *from,
            const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	struct stun_addr mapped;
	struct probe_test *t = NULL;
	enum stun_status st;
	size_t j = 0;
	uint32_t rtt;
	int later_answered = 0;

	p->stats.received++;
	st = stun_decode(buf, len, &m);
	if (st != STUN_OK) {
		p->stats.malformed++;
		p->stats.last_malformed = st;
		ignored(p, NULL, sock, from, stun_strerror(st));
		return;
	}
	/* Set apart, each kind counted: a server that only ever sends these
	 * is not silent, and nat_classify says what it sent. */
	if (m.cls == STUN_CLASS_INDICATION) {
		p->stats.stray++;
		p->stats.indications++;
		ignored(p, NULL, sock, from, "an indication");
		return;
	}
	if (m.method != STUN_METHOD_BINDING || !find_send(p, m.tid, &t, &j)) {
		p->stats.stray++;
		p->stats.unmatched++;
		ignored(p, NULL, sock, from, "not a transaction of ours");
		return;
	}
	if (m.cls == STUN_CLASS_REQUEST) {
		if (is_peer(t->kind)) {
			hairpin_arrival(p, now_ms, t, j, sock, from);
		} else {
			p->stats.stray++;
			p->stats.echoed++;
			ignored(p, t, sock, from, "our own request came back");
		}
		return;
	}
	if (is_peer(t->kind)) {
		/* A response to a hairpin request: nobody answers those. */
		p->stats.stray++;
		p->stats.unmatched++;
		ignored(p, t, sock, from, "a response to a hairpin request");
		return;
	}
	if (sock != t->sock) {
		p->stats.stray++;
		p->stats.wrong_socket++;
		ignored(p, t, sock, from, "answer on the wrong socket");
		return;
	}
	if (m.cls == STUN_CLASS_ERROR) {
		error_answer(p, now_ms, t, j, &m, sock, from);
		return;
	}

	/* A success response.  The source is checked before the duplicate
	 * rule: a copy from somewhere else is a wrong source, not a copy. */
	st = stun_get_mapped(&m, &mapped);
	if (st != STUN_OK) {
		p->stats.malformed++;
		p->stats.last_malformed = st;
		ignored(p, t, sock, from, "success response without a mapped address");
		return;
	}
	if (!source_ok(t, from)) {
		count_wrong(p, t, from);
		ignored(p, t, sock, from, "answer from an unexpected source");
		return;
	}
	if (is_duplicate(p, t, j, sock, from))
		return;
	rtt = (uint32_t)(now_ms - t->sends[j].at_ms);
	for (size_t i = j + 1; i < t->nsent; i++)
		if (t->sends[i].answered == SEND_ANSWERED)
			later_answered = 1;
	note_rtt(p, t->sends[j].at_ms, now_ms);
	emit(p, PROBE_EV_ANSWER, t, sock, from, j + 1, rtt, NULL);

	if (t->result == PROBE_RUNNING) {
		if (!t->has_expect) {
			/* Provisional until the alternate address is known. */
			t->sends[j].answered = SEND_PROVISIONAL;
			if (t->from.family == 0)
				take_answer(t, &m, from, &mapped, rtt);
		} else {
			t->sends[j].answered = SEND_ANSWERED;
			take_answer(t, &m, from, &mapped, rtt);
			decide(p, t, PROBE_ANSWERED);
		}
	} else if (t->result == PROBE_ANSWERED) {
		/* The answer to a retransmission: normal, unless a later send's
		 * answer came first (reordered or delayed). */
		t->sends[j].answered = SEND_ANSWERED;
		if (later_answered) {
			t->late++;
			p->stats.late++;
		}
	} else {
		/*
		 * After the test was given up: late.  The answer is still proof
		 * (e.g. that the filter let it through), so while the run lasts
		 * it replaces the negative result.
		 */
		t->sends[j].answered = SEND_ANSWERED;
		t->late++;
		p->stats.late++;
		if (!p->done && t->has_expect) {
			take_answer(t, &m, from, &mapped, rtt);
			t->result = PROBE_ANSWERED;
			emit(p, PROBE_EV_DECIDED, t, t->sock, &t->dst, t->nsent, rtt, "late answer");
		}
	}
	if (!p->done)
		advance(p, now_ms);
}

void
probe_unreachable(struct probe *p, uint64_t now_ms, int sock, const struct stun_addr *to,
                  enum probe_unreach kind, const char *why)
{
	if (kind == PROBE_UNREACH_SEND)
		p->stats.send_errors++;
	else
		p->stats.unreachable++;
	for (size_t i = 0; i < p->ntests; i++) {
		struct probe_test *t = &p->tests[i];

		if (t->sock != sock || t->result == PROBE_NOT_RUN || !addr_eq(&t->dst, to))
			continue;
		if (t->unreachable++ == 0)
			t->unreach_kind = kind;
		ignored(p, t, sock, to, why);
		/* A hairpin test goes on: its first sends may meet a filter the
		 * other side has not opened yet (nat_classify weighs the reports). */
		if (t->result == PROBE_RUNNING && kind != PROBE_UNREACH_SEND && !is_peer(t->kind))
			decide(p, t, PROBE_UNREACHABLE);
	}
	if (!p->done)
		advance(p, now_ms);
}

/* ------------------------------------------------------------ names */

const char *
probe_kind_name(enum probe_kind kind)
{
	static const char *const names[PROBE_KIND_COUNT] = {
		[PROBE_BINDING] = "binding",
		[PROBE_MAP_ALT_IP] = "mapping-alt-ip",
		[PROBE_MAP_ALT_IP_PORT] = "mapping-alt-ip-port",
		[PROBE_MAP_ALT_PORT] = "mapping-alt-port",
		[PROBE_FILTER_IP_PORT] = "filter-change-ip-port",
		[PROBE_FILTER_PORT] = "filter-change-port",
		[PROBE_CHECK_IP_PORT] = "check-change-ip-port",
		[PROBE_CHECK_PORT] = "check-change-port",
		[PROBE_HAIR_BINDING] = "hairpin-binding",
		[PROBE_HAIR_TO_MAP] = "hairpin-to-mapping",
		[PROBE_MAP_TO_HAIR] = "mapping-to-hairpin",
		[PROBE_BINDING_OTHER] = "binding-other-server",
		[PROBE_ASK_OTHER] = "ask-other-address",
	};

	if ((unsigned)kind >= PROBE_KIND_COUNT)
		return "unknown";
	return names[kind];
}

const char *
probe_result_name(enum probe_result r)
{
	switch (r) {
	case PROBE_NOT_RUN:        return "not-run";
	case PROBE_RUNNING:        return "running";
	case PROBE_ANSWERED:       return "answered";
	case PROBE_NO_ANSWER:      return "no-answer";
	case PROBE_WRONG_SOURCE:   return "wrong-source";
	case PROBE_ERROR_RESPONSE: return "error-response";
	case PROBE_TIMEOUT:        return "timeout";
	case PROBE_UNREACHABLE:    return "unreachable";
	case PROBE_ABANDONED:      return "abandoned";
	}
	return "unknown";
}

double
probe_loss(const struct probe *p)
{
	unsigned total = p->stats.answered_sends + p->stats.lost_sends;

	if (total == 0)
		return -1.0;
	return (double)p->stats.lost_sends / (double)total;
}
