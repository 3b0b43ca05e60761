/*
 * test_probe.c - the engine's mechanics: matching answers to sends, the
 * schedule, loss handling, timing, and the socket discipline that keeps
 * the filtering tests honest.  Most cases run the engine against the real
 * server_handle() through natsim's virtual network; a few drive it by hand
 * to hit one rule exactly.  All times are virtual and deterministic.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <string.h>

#include "addr.h"
#include "nat.h"
#include "natsim.h"
#include "probe.h"
#include "server.h"

static struct natsim sim;
static struct probe pr;
static struct probe_config cfg;
static struct nat_verdict v;

/* When each test was decided, in virtual ms from the start. */
static uint64_t decided_at[PROBE_MAX_TESTS];
static unsigned events;
/* The engine's round-trip estimate right after each answer to the first
 * send of the binding test, and of a hairpin test. */
static uint32_t rtt_at_binding1, rtt_at_hairpin;
/* ... and after the last answer to a binding send (a burst's last). */
static uint32_t rtt_after_burst;

static void
on_event(void *ctx, const struct probe_event *ev)
{
	struct natsim *s = ctx;

	events++;
	if (ev->kind == PROBE_EV_DECIDED && ev->test != NULL)
		decided_at[ev->test - pr.tests] = s->now - pr.start_ms;
	if (ev->kind == PROBE_EV_ANSWER && ev->test != NULL) {
		if (ev->test->kind == PROBE_BINDING && ev->attempt == 1)
			rtt_at_binding1 = pr.rtt_ms;
		if (ev->test->kind == PROBE_BINDING && ev->attempt == ev->test->nsent)
			rtt_after_burst = pr.rtt_ms;
		if (ev->test->kind == PROBE_MAP_TO_HAIR || ev->test->kind == PROBE_HAIR_TO_MAP)
			rtt_at_hairpin = pr.rtt_ms;
	}
}

static uint64_t
run(void)
{
	uint64_t ms;

	memset(decided_at, 0, sizeof(decided_at));
	events = 0;
	rtt_at_binding1 = rtt_at_hairpin = rtt_after_burst = 0;
	cfg.event = on_event;
	cfg.event_ctx = &sim;
	ms = natsim_run(&sim, &cfg, &pr);
	cr_assert(pr.done, "the engine did not finish");
	nat_classify(&pr, &v);
	return ms;
}

static const struct probe_test *
test_of(enum probe_kind k)
{
	const struct probe_test *t = probe_find(&pr, k, 0);

	cr_assert_not_null(t, "no %s test", probe_kind_name(k));
	return t;
}

/* The send times of one test, relative to the run's start. */
static void
expect_sends(const struct probe_test *t, const uint64_t *at, size_t n)
{
	cr_expect_eq(t->nsent, n, "%s sent %zu times, expected %zu", probe_kind_name(t->kind),
	    t->nsent, n);
	for (size_t i = 0; i < n && i < t->nsent; i++)
		cr_expect_eq(t->sends[i].at_ms - pr.start_ms, at[i], "%s send %zu at %llu, not %llu",
		    probe_kind_name(t->kind), i + 1,
		    (unsigned long long)(t->sends[i].at_ms - pr.start_ms), (unsigned long long)at[i]);
}

/* ------------------------------------------------ socket discipline */

Test(probe, filter_socket_never_shares_a_mapping)
{
	struct stun_addr alt_ip = natsim_addr("203.0.113.2", 0);

	for (int m = NATSIM_EI; m <= NATSIM_APD; m++) {
		for (int f = NATSIM_EI; f <= NATSIM_APD; f++) {
			size_t all, to_p;

			natsim_init(&sim, m, f, 1, 20);
			natsim_config(&sim, &cfg);
			run();
			all = natsim_sent_to(&sim, PROBE_SOCK_FILTER, NULL);
			to_p = natsim_sent_to(&sim, PROBE_SOCK_FILTER, &sim.srv.ep[0]);
			cr_expect_gt(all, 0);
			cr_expect_eq(all, to_p, "filter socket: %zu sends, %zu to the primary", all, to_p);
			cr_expect_eq(natsim_sent_to(&sim, PROBE_SOCK_FILTER2, NULL), 0);
			/* The hairpin socket: the primary and the NAT's own address. */
			cr_expect_eq(natsim_sent_to(&sim, PROBE_SOCK_HAIR, NULL),
			    natsim_sent_to(&sim, PROBE_SOCK_HAIR, &sim.srv.ep[0]) +
			    natsim_sent_to(&sim, PROBE_SOCK_HAIR, &sim.nat_ip));
			/* The alternate address is reached, but by the mapping socket. */
			cr_expect_gt(natsim_sent_to(&sim, PROBE_SOCK_MAP, &alt_ip), 0);
			cr_expect_eq(natsim_sent_to(&sim, -1, &alt_ip),
			    natsim_sent_to(&sim, PROBE_SOCK_MAP, &alt_ip));
		}
	}
}

Test(probe, every_send_has_its_own_cookie_tid)
{
	natsim_init(&sim, NATSIM_APD, NATSIM_APD, 1, 21);
	natsim_path(&sim, 50, 20);
	natsim_config(&sim, &cfg);
	run();
	cr_assert_gt(sim.nlog, 20);
	cr_expect_eq(sim.nlog, pr.stats.sent);
	for (size_t i = 0; i < sim.nlog; i++) {
		cr_expect(stun_tid_has_cookie(sim.log[i].tid));
		for (size_t j = 0; j < i; j++)
			cr_expect_neq(memcmp(sim.log[i].tid, sim.log[j].tid, STUN_TID_LEN), 0,
			    "sends %zu and %zu share a transaction ID", j, i);
	}
}

/* ------------------------------------------------ schedule */

Test(probe, fast_schedule_negative_at_100ms)
{
	/* Port restricted: both filtering tests are negatives.  No round trip
	 * before 100 ms: sends at 0 and 50 (interval doubling from 50); then
	 * iv = rtt/8 = 12.  A send's outcome counts only rtt + 20 ms after it,
	 * so for a while few exchanges have one and K stays high: the test
	 * goes on sending every 12 ms, twelve sends, the last at 208, while
	 * the outcomes come in and lower K to 5 (the beta-binomial chance that
	 * five exchanges in a row fail is <= PROBE_EPS_FILTER).  It is given
	 * up once the fifth send made with the round trip known (100, 112,
	 * 124, 136, 148) has waited W = 100 + 50 in vain: at 298.  The sends
	 * at 0 and 50 do not count: the path they met is not vouched for. */
	static const uint64_t at[] = { 0, 50, 100, 112, 124, 136, 148, 160, 172, 184, 196, 208 };
	const struct probe_test *f;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 22);
	natsim_config(&sim, &cfg);
	run();
	f = test_of(PROBE_FILTER_IP_PORT);
	cr_expect_eq(f->result, PROBE_NO_ANSWER);
	expect_sends(f, at, 12);
	cr_expect_eq(decided_at[f - pr.tests], 148 + 150);
	f = test_of(PROBE_FILTER_PORT);
	expect_sends(f, at, 12);
	cr_expect_eq(decided_at[f - pr.tests], 298);
	/* The hairpin tests (not a filtering test: PROBE_EPS, K = 4) start at
	 * 100: six sends, given up W after the fourth (136). */
	f = test_of(PROBE_MAP_TO_HAIR);
	cr_expect_eq(f->result, PROBE_NO_ANSWER);
	cr_expect_eq(f->nsent, 6);
	cr_expect_eq(decided_at[f - pr.tests], 136 + 150);
	/* The binding: answered by the first send's reply, one round trip. */
	f = test_of(PROBE_BINDING);
	cr_expect_eq(f->result, PROBE_ANSWERED);
	cr_expect_eq(f->rtt_ms, 100);
	cr_expect_eq(decided_at[f - pr.tests], 100);
	cr_expect_eq(pr.rtt_ms, 100);
	/* The mapping test needs the alternate first: two round trips. */
	f = test_of(PROBE_MAP_ALT_IP);
	cr_expect_eq(decided_at[f - pr.tests], 200);
	cr_expect_eq(probe_loss(&pr), 0.0);
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE);
}

Test(probe, backoff_before_any_round_trip)
{
	/* Nothing ever answers: the interval doubles from 50 ms to 500 ms,
	 * nothing is given up (W is undefined), the run ends at -t. */
	static const uint64_t at[] = { 0, 50, 150, 350, 750, 1250, 1750, 2250, 2750 };

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 23);
	sim.mode = NATSIM_BLOCKED;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 3000;
	cr_expect_eq(run(), 3000);
	expect_sends(test_of(PROBE_BINDING), at, 9);
	cr_expect_eq(test_of(PROBE_BINDING)->result, PROBE_TIMEOUT);
	cr_expect_eq(test_of(PROBE_FILTER_PORT)->result, PROBE_TIMEOUT);
	cr_expect_eq(test_of(PROBE_MAP_ALT_IP)->result, PROBE_NOT_RUN);
	cr_expect_eq(probe_loss(&pr), -1.0);
	cr_expect_eq(pr.have_rtt, 0);
}

Test(probe, rfc3489_timing)
{
	/* RFC 3489 section 9.3, whatever the round trip: a negative test sends
	 * at 0, 100, 300, ..., 7900 and is given up at 9500. */
	static const uint64_t at[] = { 0, 100, 300, 700, 1500, 3100, 4700, 6300, 7900 };
	const struct probe_test *f;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 24);
	natsim_config(&sim, &cfg);
	cfg.rfc3489_timing = 1;
	cfg.timeout_ms = 20000;
	run();
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE);
	for (int k = PROBE_FILTER_IP_PORT; k <= PROBE_FILTER_PORT; k++) {
		f = test_of((enum probe_kind)k);
		cr_expect_eq(f->result, PROBE_NO_ANSWER);
		expect_sends(f, at, 9);
		cr_expect_eq(decided_at[f - pr.tests], 9500);
	}
	/* A positive stops at its answer: sends at 0 and 100 before the
	 * first reply arrives at 100. */
	f = test_of(PROBE_BINDING);
	cr_expect_eq(f->result, PROBE_ANSWERED);
	cr_expect_leq(f->nsent, 2);
}

Test(probe, timeout_marks_open_tests)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 25);
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 200;           /* the negatives need 350 */
	cr_expect_eq(run(), 200);
	cr_expect_eq(test_of(PROBE_BINDING)->result, PROBE_ANSWERED);
	cr_expect_eq(test_of(PROBE_FILTER_IP_PORT)->result, PROBE_TIMEOUT);
	cr_expect_eq(v.type, NAT_UNKNOWN);
	cr_expect_eq(v.filtering, NAT_BEH_UNKNOWN);
	cr_expect_eq(v.mapping, NAT_BEH_ENDPOINT_INDEPENDENT);
	const struct nat_finding *f = nat_find(&v, NAT_F_TIMEOUT);

	cr_assert_not_null(f);
	cr_expect(f->tests & (1u << PROBE_FILTER_IP_PORT));
}

/* ------------------------------------------------ timing without loss */

struct scenario {
	enum natsim_mode mode;
	enum natsim_beh m, f;
	int      hairpin;
	enum natsim_personality pers;
	int      two_servers;       /* 1: + 203.0.113.7; 2: 203.0.113.7 first */
	enum nat_type want;
};

static struct scenario timing_cases[] = {
	{ NATSIM_NAT, NATSIM_EI, NATSIM_EI, 1, NATSIM_SRV_NORMAL, 0, NAT_FULL_CONE },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_EI, 0, NATSIM_SRV_NORMAL, 0, NAT_FULL_CONE },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_AD, 1, NATSIM_SRV_NORMAL, 0, NAT_RESTRICTED_CONE },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_AD, 0, NATSIM_SRV_NORMAL, 0, NAT_RESTRICTED_CONE },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, 1, NATSIM_SRV_NORMAL, 0, NAT_PORT_RESTRICTED_CONE },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, 0, NATSIM_SRV_NORMAL, 0, NAT_PORT_RESTRICTED_CONE },
	{ NATSIM_NAT, NATSIM_AD, NATSIM_EI, 1, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_AD, NATSIM_EI, 0, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_AD, NATSIM_AD, 1, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_AD, NATSIM_AD, 0, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_AD, NATSIM_APD, 1, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_AD, NATSIM_APD, 0, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_APD, NATSIM_EI, 1, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_APD, NATSIM_EI, 0, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_APD, NATSIM_AD, 1, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_APD, NATSIM_AD, 0, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_APD, NATSIM_APD, 1, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_APD, NATSIM_APD, 0, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC },
	{ NATSIM_OPEN, NATSIM_EI, NATSIM_EI, 0, NATSIM_SRV_NORMAL, 0, NAT_OPEN },
	{ NATSIM_FIREWALL, NATSIM_EI, NATSIM_AD, 0, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC_FIREWALL },
	{ NATSIM_FIREWALL, NATSIM_EI, NATSIM_APD, 0, NATSIM_SRV_NORMAL, 0, NAT_SYMMETRIC_FIREWALL },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, 0, NATSIM_SRV_RFC3489, 0, NAT_PORT_RESTRICTED_CONE },
	{ NATSIM_NAT, NATSIM_APD, NATSIM_APD, 0, NATSIM_SRV_RFC3489, 0, NAT_SYMMETRIC },
	/* No alternate anywhere, or one server's CHANGE-REQUEST answers not
	 * to be trusted: what cannot be tested stays unknown, quickly. */
	{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, 0, NATSIM_SRV_NO_ALT, 0, NAT_UNKNOWN },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, 0, NATSIM_SRV_NO_ALT, 1, NAT_UNKNOWN },
	{ NATSIM_NAT, NATSIM_APD, NATSIM_APD, 0, NATSIM_SRV_NO_ALT, 1, NAT_SYMMETRIC },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_AD, 0, NATSIM_SRV_NORMAL, 2, NAT_RESTRICTED_CONE },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, 0, NATSIM_SRV_IGNORE_CHANGE, 0, NAT_UNKNOWN },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_EI, 0, NATSIM_SRV_WRONG_CHANGE, 0, NAT_UNKNOWN },
	{ NATSIM_NAT, NATSIM_EI, NATSIM_EI, 1, NATSIM_SRV_PRIMARY_ONLY, 0, NAT_UNKNOWN },
};

/* One timing case with `delay` ms each way and no loss: the verdict must
 * be the scenario's and come within limit_ms of virtual time. */
static void
timing_case(const struct scenario *c, uint32_t delay, uint64_t limit_ms)
{
	uint64_t ms;

	natsim_init(&sim, c->m, c->f, c->hairpin, 26);
	sim.mode = c->mode;
	sim.personality = c->pers;
	natsim_path(&sim, delay, 0);
	natsim_config(&sim, &cfg);
	if (c->two_servers == 1) {
		cfg.servers[1] = sim.srv2.ep[0];
		cfg.nservers = 2;
	} else if (c->two_servers == 2) {
		cfg.servers[0] = sim.srv2.ep[0];
		cfg.servers[1] = sim.srv.ep[0];
		cfg.nservers = 2;
	}
	ms = run();
	cr_expect_eq(v.type, c->want, "verdict %s, want %s", nat_type_word(v.type),
	    nat_type_word(c->want));
	cr_expect_leq(ms, limit_ms, "verdict %s after %llu virtual ms", nat_type_word(v.type),
	    (unsigned long long)ms);
	cr_expect_eq(pr.end_ms - pr.start_ms, ms);
	cr_expect_gt(events, pr.stats.sent);
}

ParameterizedTestParameters(probe, verdict_within_2_5_rtt_plus_250)
{
	return cr_make_param_array(struct scenario, timing_cases,
	    sizeof(timing_cases) / sizeof(timing_cases[0]));
}

ParameterizedTest(struct scenario *c, probe, verdict_within_2_5_rtt_plus_250)
{
	timing_case(c, 50, 250 + 250);
}

ParameterizedTestParameters(probe, verdict_within_1100ms_at_300ms_rtt)
{
	return cr_make_param_array(struct scenario, timing_cases,
	    sizeof(timing_cases) / sizeof(timing_cases[0]));
}

ParameterizedTest(struct scenario *c, probe, verdict_within_1100ms_at_300ms_rtt)
{
	timing_case(c, 150, 1100);
}

/* ------------------------------------------------ imperfect paths */

static enum nat_type
clean_verdict(enum natsim_beh m, enum natsim_beh f)
{
	natsim_init(&sim, m, f, 1, 30);
	natsim_config(&sim, &cfg);
	run();
	return v.type;
}

Test(probe, duplicates_are_counted_not_believed_twice)
{
	enum nat_type want = clean_verdict(NATSIM_EI, NATSIM_AD);

	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 1, 31);
	sim.up.dup_pct = 40;
	sim.down.dup_pct = 40;
	natsim_config(&sim, &cfg);
	run();
	cr_expect_eq(v.type, want);
	cr_expect_eq(v.hairpinning, 1);
	cr_expect_gt(sim.duplicated, 0);
	cr_expect_gt(pr.stats.duplicates, 0);
	cr_expect_eq(pr.stats.lost_sends, 0);
}

Test(probe, reordering_keeps_the_verdict)
{
	for (int f = NATSIM_EI; f <= NATSIM_APD; f++) {
		enum nat_type want = clean_verdict(NATSIM_EI, (enum natsim_beh)f);

		natsim_init(&sim, NATSIM_EI, (enum natsim_beh)f, 1, 32);
		sim.up.reorder_pct = sim.down.reorder_pct = 50;
		sim.up.reorder_ms = sim.down.reorder_ms = 60;
		natsim_config(&sim, &cfg);
		run();
		cr_expect_eq(v.type, want, "filtering %d: %s", f, nat_type_word(v.type));
		cr_expect_gt(sim.reordered, 0);
		cr_expect_gt(pr.rtt_ms, 100);
	}
}

Test(probe, loss_is_measured_and_reported)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 33);
	natsim_path(&sim, 50, 15);
	natsim_config(&sim, &cfg);
	run();
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE);
	cr_expect_gt(sim.lost, 0);
	cr_expect_gt(pr.stats.lost_sends, 0);
	cr_expect_gt(probe_loss(&pr), 0.0);
	cr_expect_lt(probe_loss(&pr), 1.0);
	cr_expect_eq(v.loss, probe_loss(&pr));
	const struct nat_finding *f = nat_find(&v, NAT_F_LOSS);

	cr_assert_not_null(f);
	cr_expect_eq(f->count[0], pr.stats.lost_sends);
}

/* The reply to one chosen send gets extra delay. */
static const uint8_t *hook_tid;
static uint32_t hook_ms;

static uint32_t
delay_one(void *ctx, int up, const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (up || hook_tid == NULL || len < STUN_HEADER_LEN)
		return 0;
	return memcmp(buf + 4, hook_tid, STUN_TID_LEN) == 0 ? hook_ms : 0;
}

/* Delay every reply of one or two tests. */
static const struct probe_test *hook_test, *hook_test2;

static int
is_reply_of(const struct probe_test *t, const uint8_t *buf)
{
	for (size_t i = 0; t != NULL && i < t->nsent; i++)
		if (memcmp(buf + 4, t->sends[i].tid, STUN_TID_LEN) == 0)
			return 1;
	return 0;
}

static uint32_t
delay_test(void *ctx, int up, const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (up || len < STUN_HEADER_LEN)
		return 0;
	return is_reply_of(hook_test, buf) || is_reply_of(hook_test2, buf) ? hook_ms : 0;
}

Test(probe, reply_overtaken_by_a_retransmission_is_late)
{
	/* The binding's first reply is held 120 ms: the second send's reply
	 * (sent at 50, back at 150) answers the test; the first one, at 220,
	 * is late.  Same verdict. */
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 1, 34);
	natsim_config(&sim, &cfg);
	probe_init(&pr, &cfg, sim.now);         /* only to learn where tids live */
	hook_tid = pr.tests[0].sends[0].tid;
	hook_ms = 120;
	sim.delay_hook = delay_one;
	run();
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE);
	cr_expect_eq(pr.stats.late, 1);
	cr_expect_eq(test_of(PROBE_BINDING)->late, 1);
	cr_expect_eq(test_of(PROBE_BINDING)->rtt_ms, 100);
	cr_expect_eq(decided_at[0], 150);
	/* Answered after a later send's answer: reordered, not queued behind
	 * it, so its round trip is a delay the path can show. */
	cr_expect_eq(rtt_at_binding1, 220, "the late reply still counts as a delay seen");
}

Test(probe, answer_after_give_up_is_still_proof)
{
	/* Port restricted, 20 ms round trip, but every reply of both
	 * CHANGE-REQUEST checks takes an extra 60 ms: the checks are given up
	 * before 100, then their first replies arrive at 100 while the run
	 * still lasts (the filtering negatives end at 230).  Without them the
	 * server's CHANGE-REQUEST support is unverified and the filtering
	 * unknown; an answer that got through proves it. */
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 35);
	natsim_path(&sim, 10, 0);
	natsim_config(&sim, &cfg);
	probe_init(&pr, &cfg, sim.now);
	hook_test = &pr.tests[7];
	hook_test2 = &pr.tests[8];
	cr_assert_eq(hook_test->kind, PROBE_CHECK_PORT);
	cr_assert_eq(hook_test2->kind, PROBE_CHECK_IP_PORT);
	hook_ms = 40;
	sim.delay_hook = delay_test;
	run();
	cr_expect_eq(decided_at[7], 80, "decided (again) when the late answer came");
	cr_expect_eq(test_of(PROBE_CHECK_PORT)->result, PROBE_ANSWERED);
	cr_expect_gt(test_of(PROBE_CHECK_PORT)->late, 0);
	cr_expect_gt(pr.stats.late, 0);
	cr_expect_eq(decided_at[test_of(PROBE_FILTER_PORT) - pr.tests], 130);
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE);
}

/* ------------------------------------------------ a cold path */

struct cold {
	enum natsim_mode mode;
	enum natsim_beh m, f;
	enum nat_type want;
	uint32_t hold_ms;
};

ParameterizedTestParameters(probe, cold_path_is_not_a_slow_path)
{
	/* A 20 ms round trip whose first datagrams after 2 s of silence wait
	 * hold_ms: a cellular radio waking up (1.5 s), neighbour discovery on
	 * a fresh IPv6 namespace (2 s). */
	static struct cold c[] = {
		{ NATSIM_NAT, NATSIM_EI, NATSIM_EI, NAT_FULL_CONE, 1500 },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_AD, NAT_RESTRICTED_CONE, 1500 },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, NAT_PORT_RESTRICTED_CONE, 1500 },
		{ NATSIM_NAT, NATSIM_APD, NATSIM_APD, NAT_SYMMETRIC, 1500 },
		{ NATSIM_NAT, NATSIM_AD, NATSIM_AD, NAT_SYMMETRIC, 1500 },
		{ NATSIM_OPEN, NATSIM_EI, NATSIM_EI, NAT_OPEN, 1500 },
		{ NATSIM_FIREWALL, NATSIM_EI, NATSIM_APD, NAT_SYMMETRIC_FIREWALL, 1500 },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_AD, NAT_RESTRICTED_CONE, 2000 },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, NAT_PORT_RESTRICTED_CONE, 2000 },
	};

	return cr_make_param_array(struct cold, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct cold *c, probe, cold_path_is_not_a_slow_path)
{
	const struct probe_test *b;
	uint64_t ms;

	natsim_init(&sim, c->m, c->f, 0, 50);
	sim.mode = c->mode;
	natsim_path(&sim, 10, 0);
	sim.cold_idle_ms = 2000;
	sim.cold_hold_ms = c->hold_ms;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 3000;          /* natcheck's default -t */
	ms = run();

	/* The path was cold: the binding's first answer waited out the hold,
	 * and so did the retransmissions queued behind it. */
	b = test_of(PROBE_BINDING);
	cr_assert_gt(sim.held, 1);
	cr_expect_geq(b->rtt_ms, c->hold_ms);
	/* Yet every test was decided by its own schedule, well within -t, and
	 * the verdict is right. */
	cr_expect_eq(v.type, c->want, "verdict %s, want %s", nat_type_word(v.type),
	    nat_type_word(c->want));
	cr_expect_lt(ms, cfg.timeout_ms, "ended by -t after %llu ms", (unsigned long long)ms);
	for (size_t i = 0; i < pr.ntests; i++)
		cr_expect_neq(pr.tests[i].result, PROBE_TIMEOUT, "%s timed out",
		    probe_kind_name(pr.tests[i].kind));
	/* The estimate is the warm path's, not the stall's. */
	cr_expect_leq(pr.rtt_ms, 2 * 20, "round trip estimate %u ms", pr.rtt_ms);
}

Test(probe, burst_of_answers_is_one_queue)
{
	/* The cold path's burst: the binding's sends at 0, 50, 150, 350, 750
	 * and 1250 all wait until 1500 and are answered at 1520.  Each answer
	 * arrives within PROBE_BURST_MS of the one before, to a later send:
	 * one queue, and the path's time is the last send's, 270 ms.  The
	 * tests that start at 1520 are answered 20 ms later, after their send:
	 * a newer measurement, and the estimate is 20 ms. */
	static const uint64_t at[] = { 0, 50, 150, 350, 750, 1250 };

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 1, 51);
	natsim_path(&sim, 10, 0);
	sim.cold_idle_ms = 2000;
	sim.cold_hold_ms = 1500;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 3000;
	run();
	expect_sends(test_of(PROBE_BINDING), at, 6);
	cr_expect_eq(test_of(PROBE_BINDING)->rtt_ms, 1520);
	cr_expect_eq(rtt_at_binding1, 1520, "one answer alone is all there is");
	cr_expect_eq(rtt_after_burst, 270);
	cr_expect_eq(pr.rtt_ms, 20);
	cr_expect_eq(v.type, NAT_FULL_CONE);
	cr_expect_eq(v.hairpinning, 1);
}

/* ------------------------------------------------ loss accuracy */

struct accuracy {
	enum natsim_mode mode;
	enum natsim_beh m, f;
	enum nat_type want;
	enum nat_behavior want_m, want_f;
	uint32_t loss_pct;
	unsigned seeds;
	unsigned min_right;         /* of seeds; the rest may only be unknown */
};

#define EI_  NAT_BEH_ENDPOINT_INDEPENDENT
#define AD_  NAT_BEH_ADDRESS_DEPENDENT
#define APD_ NAT_BEH_ADDRESS_PORT_DEPENDENT

ParameterizedTestParameters(probe, verdicts_under_loss)
{
	/* 100 ms RTT, loss each way.  30% each way loses 51% of exchanges. */
	static struct accuracy c[] = {
		{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, NAT_PORT_RESTRICTED_CONE, EI_, APD_, 10, 200, 198 },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_AD, NAT_RESTRICTED_CONE, EI_, AD_, 10, 200, 198 },
		{ NATSIM_NAT, NATSIM_APD, NATSIM_APD, NAT_SYMMETRIC, APD_, APD_, 10, 200, 198 },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_EI, NAT_FULL_CONE, EI_, EI_, 30, 2000, 1980 },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_AD, NAT_RESTRICTED_CONE, EI_, AD_, 30, 2000, 1980 },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, NAT_PORT_RESTRICTED_CONE, EI_, APD_, 30, 2000, 1980 },
		{ NATSIM_NAT, NATSIM_APD, NATSIM_APD, NAT_SYMMETRIC, APD_, APD_, 30, 2000, 1980 },
		{ NATSIM_NAT, NATSIM_AD, NATSIM_AD, NAT_SYMMETRIC, AD_, AD_, 30, 2000, 1980 },
		{ NATSIM_OPEN, NATSIM_EI, NATSIM_EI, NAT_OPEN, EI_, EI_, 30, 2000, 1980 },
		{ NATSIM_FIREWALL, NATSIM_EI, NATSIM_APD, NAT_SYMMETRIC_FIREWALL, EI_, APD_, 30, 2000, 1980 },
	};

	return cr_make_param_array(struct accuracy, c, sizeof(c) / sizeof(c[0]));
}

/* Does v say something that is not so?  Unknown is never wrong. */
static int
contradicts(const struct accuracy *c, const struct nat_verdict *r)
{
	if (r->type != NAT_UNKNOWN && r->type != c->want)
		return 1;
	if (r->mapping != NAT_BEH_UNKNOWN && r->mapping != c->want_m)
		return 1;
	if (r->filtering != NAT_BEH_UNKNOWN && r->filtering != c->want_f)
		return 1;
	/* The simulated NAT hairpins; without a NAT there is nothing to say. */
	return c->mode == NATSIM_NAT ? r->hairpinning == 0 : r->hairpinning != -1;
}

ParameterizedTest(struct accuracy *c, probe, verdicts_under_loss)
{
	unsigned right = 0, unknown = 0, wrong = 0;

	for (unsigned seed = 0; seed < c->seeds; seed++) {
		natsim_init(&sim, c->m, c->f, 1, 1000 + seed);
		sim.mode = c->mode;
		natsim_path(&sim, 50, c->loss_pct);
		natsim_config(&sim, &cfg);
		cfg.timeout_ms = 3000;          /* natcheck's default -t */
		natsim_run(&sim, &cfg, &pr);
		cr_assert(pr.done);
		nat_classify(&pr, &v);
		if (contradicts(c, &v)) {
			if (wrong++ < 3)
				cr_log_error("seed %u: %s, mapping %s, filtering %s, hairpinning %d",
				    1000 + seed, nat_type_word(v.type), nat_behavior_word(v.mapping),
				    nat_behavior_word(v.filtering), v.hairpinning);
		} else if (v.type == c->want) {
			right++;
		} else {
			unknown++;
		}
	}
	cr_log_info("%s at %u%% loss: %u/%u right, %u unknown, %u wrong", nat_type_word(c->want),
	    c->loss_pct, right, c->seeds, unknown, wrong);
	cr_expect_eq(wrong, 0, "%s at %u%% loss: %u of %u runs said something wrong",
	    nat_type_word(c->want), c->loss_pct, wrong, c->seeds);
	cr_expect_geq(right, c->min_right, "%s at %u%% loss: %u of %u right",
	    nat_type_word(c->want), c->loss_pct, right, c->seeds);
}

/* ------------------------------------------------ matching, by hand */

/* Everything the engine sends at now, in order. */
static size_t
drain(uint64_t now, struct probe_tx *tx, size_t max)
{
	size_t n = 0;
	uint32_t wait;

	while (n < max && probe_next(&pr, now, &tx[n], &wait) == PROBE_SEND)
		n++;
	return n;
}

/* server_handle's answer to tx as if it came from `mapped`. */
static size_t
answer(const struct server_cfg *c, const struct probe_tx *tx, const struct stun_addr *mapped,
       uint8_t *out, size_t cap, struct stun_addr *from)
{
	struct server_reply r;
	unsigned at = 4;

	for (unsigned i = 0; i < 4; i++)
		if (c->ep[i].family != 0 && memcmp(&c->ep[i], &tx->to, sizeof(tx->to)) == 0)
			at = i;
	cr_assert_lt(at, 4);
	cr_assert_eq(server_handle(c, at, mapped, tx->buf, tx->len, out, cap, &r), 1);
	*from = c->ep[r.via];
	return r.len;
}

Test(probe, matching_rules)
{
	struct probe_tx tx[8];
	uint8_t out[512];
	struct stun_addr from, m1 = natsim_addr("198.51.100.1", 50000);
	struct stun_addr stranger = natsim_addr("203.0.113.9", 3478);
	size_t n, len;
	const struct probe_test *b;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 40);
	natsim_config(&sim, &cfg);
	probe_init(&pr, &cfg, 0);
	n = drain(0, tx, 8);
	cr_assert_eq(n, 4, "binding, two filtering tests, hairpin binding");
	cr_expect_eq(tx[0].sock, PROBE_SOCK_MAP);
	cr_expect_eq(tx[1].sock, PROBE_SOCK_FILTER);
	cr_expect_eq(tx[2].sock, PROBE_SOCK_FILTER);
	cr_expect_eq(tx[3].sock, PROBE_SOCK_HAIR);
	b = test_of(PROBE_BINDING);

	/* Not STUN at all. */
	probe_input(&pr, 10, PROBE_SOCK_MAP, &sim.srv.ep[0], (const uint8_t *)"hello, world", 12);
	cr_expect_eq(pr.stats.malformed, 1);
	cr_expect_eq(pr.stats.last_malformed, STUN_ERR_SHORT);

	len = answer(&sim.srv, &tx[0], &m1, out, sizeof(out), &from);
	/* Right bytes, wrong socket. */
	probe_input(&pr, 20, PROBE_SOCK_FILTER, &from, out, len);
	cr_expect_eq(pr.stats.stray, 1);
	/* Right bytes, wrong source: counted, not believed. */
	probe_input(&pr, 30, PROBE_SOCK_MAP, &stranger, out, len);
	cr_expect_eq(b->wrong_source, 1);
	cr_expect_eq(pr.stats.wrong_source, 1);
	cr_expect_eq(b->result, PROBE_RUNNING);
	/* A valid answer to a transaction that is not ours. */
	{
		uint8_t other[256], tid[STUN_TID_LEN] = { 0x21, 0x12, 0xa4, 0x42, 1, 2, 3 };
		struct stun_enc e;
		size_t olen;

		stun_enc_init(&e, other, sizeof(other), STUN_BINDING_SUCCESS, tid);
		stun_enc_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, &m1);
		cr_assert_eq(stun_enc_finish(&e, &olen), STUN_OK);
		probe_input(&pr, 35, PROBE_SOCK_MAP, &from, other, olen);
		cr_expect_eq(pr.stats.stray, 2);
	}
	/* Now properly. */
	probe_input(&pr, 80, PROBE_SOCK_MAP, &from, out, len);
	cr_expect_eq(b->result, PROBE_ANSWERED);
	cr_expect_eq(b->rtt_ms, 80);
	cr_expect(b->has_mapped && memcmp(&b->mapped, &m1, sizeof(m1)) == 0);
	cr_expect(b->has_other && b->other_rfc5780);
	cr_expect(b->has_origin);
	cr_expect(pr.have_alt);
	cr_expect_eq(pr.primary, 0);
	cr_expect(memcmp(&pr.alt, &sim.srv.ep[3], sizeof(pr.alt)) == 0);
	cr_expect_eq(test_of(PROBE_MAP_ALT_IP)->result, PROBE_RUNNING);
	/* The same answer again. */
	probe_input(&pr, 81, PROBE_SOCK_MAP, &from, out, len);
	cr_expect_eq(b->duplicates, 1);
	cr_expect_eq(pr.stats.duplicates, 1);
	cr_expect_eq(pr.stats.received, 6);

	/* Change ip+port answered from A2:P2: believed. */
	len = answer(&sim.srv, &tx[1], &m1, out, sizeof(out), &from);
	cr_expect(memcmp(&from, &sim.srv.ep[3], sizeof(from)) == 0);
	probe_input(&pr, 90, PROBE_SOCK_FILTER, &from, out, len);
	cr_expect_eq(test_of(PROBE_FILTER_IP_PORT)->result, PROBE_ANSWERED);
}

Test(probe, filter_answer_before_the_alternate_is_held)
{
	struct probe_tx tx[8];
	uint8_t out[512], out0[512];
	struct stun_addr from, from0, m1 = natsim_addr("198.51.100.1", 50000);
	size_t len, len0;
	const struct probe_test *f1, *f2;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 41);
	natsim_config(&sim, &cfg);
	probe_init(&pr, &cfg, 0);
	cr_assert_eq(drain(0, tx, 8), 4);
	f1 = test_of(PROBE_FILTER_IP_PORT);
	f2 = test_of(PROBE_FILTER_PORT);

	/* Test II's reply overtakes the binding's: kept, not yet believed. */
	len = answer(&sim.srv, &tx[1], &m1, out, sizeof(out), &from);
	probe_input(&pr, 60, PROBE_SOCK_FILTER, &from, out, len);
	cr_expect_eq(f1->result, PROBE_RUNNING);
	cr_expect_eq(f1->sends[0].answered, 2);
	/* Test III "answered" from a plausible address that is not the
	 * server's: also kept for now. */
	len = answer(&sim.srv, &tx[2], &m1, out, sizeof(out), &from);
	{
		struct stun_addr near = natsim_addr("203.0.113.1", 9999);

		probe_input(&pr, 61, PROBE_SOCK_FILTER, &near, out, len);
	}
	cr_expect_eq(f2->result, PROBE_RUNNING);
	/* ... but an answer from the very address it was sent to is wrong at
	 * once, alternate or not. */
	probe_input(&pr, 62, PROBE_SOCK_FILTER, &sim.srv.ep[0], out, len);
	cr_expect_eq(f2->wrong_source, 1);

	/* The binding's reply brings the alternate: Test II confirmed,
	 * Test III's kept answer rejected and the test goes on. */
	len0 = answer(&sim.srv, &tx[0], &m1, out0, sizeof(out0), &from0);
	probe_input(&pr, 100, PROBE_SOCK_MAP, &from0, out0, len0);
	cr_expect_eq(f1->result, PROBE_ANSWERED);
	cr_expect_eq(f1->sends[0].answered, 1);
	cr_expect_eq(f1->rtt_ms, 60);
	cr_expect_eq(f2->result, PROBE_RUNNING);
	cr_expect_eq(f2->wrong_source, 2);
	cr_expect_eq(f2->sends[0].answered, 0);
	/* And the real Test III reply (from A1:P2) is then believed. */
	probe_input(&pr, 110, PROBE_SOCK_FILTER, &from, out, len);
	cr_expect_eq(f2->result, PROBE_ANSWERED);
}

Test(probe, error_responses)
{
	struct probe_tx tx[8];
	uint8_t out[512];
	struct stun_addr from, m1 = natsim_addr("198.51.100.1", 50000);
	struct server_cfg plain;
	const struct probe_test *f1;
	size_t len;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 42);
	natsim_config(&sim, &cfg);
	plain = sim.srv;
	plain.has_alt = 0;
	memset(&plain.ep[1], 0, 3 * sizeof(plain.ep[1]));
	probe_init(&pr, &cfg, 0);
	cr_assert_eq(drain(0, tx, 8), 4);
	f1 = test_of(PROBE_FILTER_IP_PORT);

	/* A server without an alternate: 420 naming CHANGE-REQUEST. */
	len = answer(&plain, &tx[1], &m1, out, sizeof(out), &from);
	probe_input(&pr, 50, PROBE_SOCK_FILTER, &from, out, len);
	cr_expect_eq(f1->result, PROBE_ERROR_RESPONSE);
	cr_expect_eq(f1->error_code, 420);
	cr_expect_eq(f1->error_nunknown, 1);
	cr_expect_eq(f1->error_unknown[0], STUN_ATTR_CHANGE_REQUEST);
	cr_expect(pr.have_rtt, "an error response is a round trip too");

	/* A 500 is transient: the test keeps going. */
	{
		struct stun_enc e;
		const struct probe_test *b = test_of(PROBE_BINDING);

		stun_enc_init(&e, out, sizeof(out), STUN_BINDING_ERROR, tx[0].buf + 4);
		stun_enc_error(&e, 500, "Server Error");
		cr_assert_eq(stun_enc_finish(&e, &len), STUN_OK);
		probe_input(&pr, 60, PROBE_SOCK_MAP, &sim.srv.ep[0], out, len);
		cr_expect_eq(b->errors, 1);
		cr_expect_eq(b->error_code, 500);
		cr_expect_eq(b->result, PROBE_RUNNING);
	}
}

Test(probe, hairpin_request_is_the_answer)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 1, 43);
	natsim_config(&sim, &cfg);
	run();
	const struct probe_test *mh = test_of(PROBE_MAP_TO_HAIR);
	const struct probe_test *hm = test_of(PROBE_HAIR_TO_MAP);

	cr_expect_eq(mh->result, PROBE_ANSWERED);
	cr_expect_eq(hm->result, PROBE_ANSWERED);
	cr_expect(memcmp(&mh->dst, &test_of(PROBE_HAIR_BINDING)->mapped, sizeof(mh->dst)) == 0);
	cr_expect(memcmp(&hm->dst, &test_of(PROBE_BINDING)->mapped, sizeof(hm->dst)) == 0);
	/* The NAT rewrote the source to the sender's mapping. */
	cr_expect(memcmp(&mh->from, &test_of(PROBE_BINDING)->mapped, sizeof(mh->from)) == 0);
	cr_expect_eq(v.hairpinning, 1);
	/* One-way NAT trips (here at once) are not round trips. */
	cr_expect_eq(rtt_at_hairpin, 100);
	cr_expect_eq(pr.rtt_ms, 100);
}

/* ------------------------------------------------ API corners */

Test(probe, done_is_sticky_and_waits_are_positive)
{
	struct probe_tx tx;
	uint32_t wait = 0;
	uint64_t now = 0;
	enum probe_step st = PROBE_SEND;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 44);
	sim.mode = NATSIM_BLOCKED;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 1000;
	probe_init(&pr, &cfg, 0);
	for (int i = 0; i < 1000 && st != PROBE_DONE; i++) {
		st = probe_next(&pr, now, &tx, &wait);
		if (st == PROBE_WAIT) {
			cr_assert_geq(wait, 1);
			now += wait;
		}
	}
	cr_expect_eq(st, PROBE_DONE);
	cr_expect_eq(now, 1000);
	cr_expect_eq(probe_next(&pr, now + 5, &tx, &wait), PROBE_DONE);
	cr_expect_eq(pr.end_ms, 1000);
}

Test(probe, no_servers_is_done_at_once)
{
	struct probe_tx tx;
	uint32_t wait;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 45);
	natsim_config(&sim, &cfg);
	cfg.nservers = 0;
	probe_init(&pr, &cfg, 0);
	cr_expect_eq(probe_next(&pr, 0, &tx, &wait), PROBE_DONE);
	cr_expect_eq(pr.ntests, 0);
}

Test(probe, find_and_names)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 46);
	natsim_config(&sim, &cfg);
	cfg.servers[0] = sim.srv2.ep[0];
	cfg.servers[1] = sim.srv.ep[0];
	cfg.nservers = 2;
	run();
	cr_expect_eq(probe_find(&pr, PROBE_BINDING_OTHER, 1)->server, 1);
	cr_expect_null(probe_find(&pr, PROBE_BINDING_OTHER, 0));
	cr_expect_eq(probe_find(&pr, PROBE_FILTER_PORT, 1)->sock, PROBE_SOCK_FILTER2);
	cr_expect_eq(probe_find(&pr, PROBE_FILTER_PORT, 0)->sock, PROBE_SOCK_FILTER);

	for (int i = 0; i < PROBE_KIND_COUNT; i++) {
		cr_expect_str_neq(probe_kind_name((enum probe_kind)i), "unknown");
		for (int j = 0; j < i; j++)
			cr_expect_str_neq(probe_kind_name((enum probe_kind)i),
			    probe_kind_name((enum probe_kind)j));
	}
	cr_expect_str_eq(probe_kind_name(PROBE_KIND_COUNT), "unknown");
	/* The JSON words of natcheck(1). */
	cr_expect_str_eq(probe_result_name(PROBE_ANSWERED), "answered");
	cr_expect_str_eq(probe_result_name(PROBE_NO_ANSWER), "no-answer");
	cr_expect_str_eq(probe_result_name(PROBE_WRONG_SOURCE), "wrong-source");
	cr_expect_str_eq(probe_result_name(PROBE_ERROR_RESPONSE), "error-response");
	cr_expect_str_eq(probe_result_name(PROBE_TIMEOUT), "timeout");
	cr_expect_str_eq(probe_result_name(PROBE_NOT_RUN), "not-run");
}

/* ------------------------------------------------ asking for the alternate (#14) */

static size_t
count_kind(enum probe_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < pr.ntests; i++)
		n += pr.tests[i].kind == k;
	return n;
}

/* The latest decision of any test but the ask, in ms from the start. */
static uint64_t
last_decision_but_ask(void)
{
	uint64_t last = 0;

	for (size_t i = 0; i < pr.ntests; i++)
		if (pr.tests[i].kind != PROBE_ASK_OTHER && decided_at[i] > last)
			last = decided_at[i];
	return last;
}

/* natcheck's own one-address server names its other port only to a
 * request that carries CHANGE-REQUEST (server.h): the engine asks once,
 * with an empty one, and the port-only tests follow. */
Test(probe, ask_other_address_of_a_one_address_server)
{
	static const enum natsim_beh all[] = { NATSIM_EI, NATSIM_AD, NATSIM_APD };
	struct stun_addr other_ip = natsim_addr("203.0.113.2", 0);
	struct stun_addr alt = natsim_addr("203.0.113.1", 3479);

	for (size_t m = 0; m < 3; m++)
		for (size_t f = 0; f < 3; f++) {
			const struct probe_test *a, *b, *t;

			natsim_init(&sim, all[m], all[f], 0, 300 + (unsigned)(m * 3 + f));
			sim.personality = NATSIM_SRV_ONE_ADDRESS;
			natsim_config(&sim, &cfg);
			run();
			b = test_of(PROBE_BINDING);
			cr_expect(b->result == PROBE_ANSWERED && !b->has_other, "m%zu f%zu", m, f);
			a = test_of(PROBE_ASK_OTHER);
			cr_expect_eq(a->result, PROBE_ANSWERED, "m%zu f%zu", m, f);
			/* One ask, retransmitted like any test until answered. */
			cr_expect_eq(count_kind(PROBE_ASK_OTHER), 1, "m%zu f%zu", m, f);
			cr_expect_lt(a->sends[a->nsent - 1].at_ms, a->sends[0].at_ms + a->rtt_ms + 1,
			    "m%zu f%zu: sent on after its answer", m, f);
			cr_expect(a->has_change && a->change == 0 && a->sock == PROBE_SOCK_MAP &&
			    addr_eq(&a->dst, &sim.srv.ep[0]), "m%zu f%zu", m, f);
			cr_expect(a->has_other && addr_eq(&a->other, &alt), "m%zu f%zu", m, f);
			cr_expect(a->sends[0].at_ms >= b->sends[0].at_ms + b->rtt_ms,
			    "m%zu f%zu: asked before the binding's answer", m, f);
			/* The port-only tests, against the alternate the ask named. */
			cr_expect(pr.primary == 0 && pr.have_alt && pr.alt_port_only &&
			    addr_eq(&pr.alt, &alt), "m%zu f%zu", m, f);
			t = test_of(PROBE_MAP_ALT_PORT);
			cr_expect_eq(t->result, PROBE_ANSWERED, "m%zu f%zu", m, f);
			cr_expect_geq(t->started_ms, a->sends[0].at_ms + a->rtt_ms, "m%zu f%zu", m, f);
			cr_expect_eq(test_of(PROBE_MAP_ALT_IP)->result, PROBE_NOT_RUN);
			cr_expect_eq(natsim_sent_to(&sim, -1, &other_ip), 0, "m%zu f%zu", m, f);
			/* OTHER-ADDRESS in the ask's answer and not in the bare one is
			 * no contradiction. */
			cr_expect_eq(probe_server_lies(&pr, 0), 0, "m%zu f%zu", m, f);
			cr_expect(v.servers[0].trusted, "m%zu f%zu: problems %#x", m, f,
			    v.servers[0].problems);
			cr_expect_eq(v.servers[0].rfc, 5780, "m%zu f%zu", m, f);
			/* Never wrong; right where a change of port tells. */
			cr_expect_null(natsim_wrong(&v, all[m], all[f]), "m%zu f%zu: %s %s %s wrong", m, f,
			    nat_type_word(v.type), nat_behavior_word(v.mapping),
			    nat_behavior_word(v.filtering));
			if (all[m] == NATSIM_APD)
				cr_expect_eq(v.type, NAT_SYMMETRIC, "m%zu f%zu", m, f);
			if (all[f] == NATSIM_APD)
				cr_expect_eq(v.filtering, NAT_BEH_ADDRESS_PORT_DEPENDENT, "m%zu f%zu", m, f);
			cr_expect_not_null(nat_find(&v, NAT_F_ALT_PORT_ONLY), "m%zu f%zu", m, f);
		}
}

/* An answer that names an alternate, full or port-only, CHANGED-ADDRESS
 * too, gets no ask: a two-address server sees not one datagram more. */
Test(probe, no_ask_when_the_answer_names_an_alternate)
{
	static const enum natsim_personality pers[] = {
		NATSIM_SRV_NORMAL, NATSIM_SRV_SINGLE_ADDRESS, NATSIM_SRV_RFC3489
	};

	for (size_t k = 0; k < sizeof(pers) / sizeof(pers[0]); k++)
		for (int m = NATSIM_EI; m <= NATSIM_APD; m++) {
			size_t want;

			natsim_init(&sim, (enum natsim_beh)m, NATSIM_APD, 1, 320 + (unsigned)(k * 3) +
			    (unsigned)m);
			sim.personality = pers[k];
			natsim_config(&sim, &cfg);
			run();
			cr_expect_null(probe_find(&pr, PROBE_ASK_OTHER, 0), "personality %zu m%d", k, m);
			/* Every datagram the mapping socket sent to the primary
			 * endpoint is one of the known tests'. */
			want = test_of(PROBE_BINDING)->nsent + test_of(PROBE_CHECK_PORT)->nsent +
			    (pr.alt_port_only ? 0 : test_of(PROBE_CHECK_IP_PORT)->nsent);
			cr_expect_eq(natsim_sent_to(&sim, PROBE_SOCK_MAP, &sim.srv.ep[0]), want,
			    "personality %zu m%d", k, m);
		}
}

/* A plain server that knows no CHANGE-REQUEST answers the ask with a 420:
 * expected, no finding, and the verdict is the one a server that answers
 * it without OTHER-ADDRESS gets. */
Test(probe, ask_refused_by_a_plain_server)
{
	static struct nat_verdict plain;

	for (int m = NATSIM_EI; m <= NATSIM_APD; m++)
		for (int f = NATSIM_EI; f <= NATSIM_APD; f++) {
			const struct probe_test *a;

			natsim_init(&sim, (enum natsim_beh)m, (enum natsim_beh)f, 0, 330);
			sim.personality = NATSIM_SRV_NO_ALT;
			natsim_config(&sim, &cfg);
			run();
			a = test_of(PROBE_ASK_OTHER);
			cr_expect(a->result == PROBE_ANSWERED && !a->has_other, "m%d f%d", m, f);
			plain = v;

			natsim_init(&sim, (enum natsim_beh)m, (enum natsim_beh)f, 0, 330);
			sim.personality = NATSIM_SRV_REFUSE_CHANGE;
			natsim_config(&sim, &cfg);
			run();
			a = test_of(PROBE_ASK_OTHER);
			cr_expect_eq(a->result, PROBE_ERROR_RESPONSE, "m%d f%d", m, f);
			cr_expect_eq(a->error_code, 420, "m%d f%d", m, f);
			cr_expect_eq(count_kind(PROBE_ASK_OTHER), 1, "m%d f%d", m, f);
			cr_expect(!pr.have_alt && pr.primary < 0, "m%d f%d", m, f);
			cr_expect(v.type == plain.type && v.mapping == plain.mapping &&
			    v.filtering == plain.filtering && v.nat == plain.nat, "m%d f%d: %s, not %s",
			    m, f, nat_type_word(v.type), nat_type_word(plain.type));
			cr_expect_eq(v.nfindings, plain.nfindings, "m%d f%d", m, f);
			for (size_t i = 0; i < v.nfindings && i < plain.nfindings; i++)
				cr_expect_eq(v.findings[i].code, plain.findings[i].code,
				    "m%d f%d: finding %zu", m, f, i);
			cr_expect(v.servers[0].trusted, "m%d f%d", m, f);
		}
}

/* Server 0 with this personality, and a second server with a full
 * alternate: when the second one's tests start. */
static uint64_t
second_primary_starts(enum natsim_personality pers)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 341);
	natsim_second_alt(&sim);
	sim.personality = pers;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	cr_assert_eq(pr.primary, 1);
	return probe_find(&pr, PROBE_MAP_ALT_IP, 1)->started_ms;
}

/* A server that drops the ask: the run waits for its negative at most
 * (one server), and not at all when another server has a full alternate
 * (the primary's tests start when they would have). */
Test(probe, silent_ask_costs_at_most_its_negative)
{
	uint64_t ms, started;
	const struct probe_test *a;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 340);
	sim.personality = NATSIM_SRV_DROP_CHANGE;
	natsim_config(&sim, &cfg);
	ms = run();
	a = test_of(PROBE_ASK_OTHER);
	cr_expect_eq(a->result, PROBE_NO_ANSWER);
	cr_expect(!pr.have_alt);
	/* Its negative: K sends with the round trip known, then W. */
	cr_expect_leq(decided_at[a - pr.tests], a->sends[a->nsent - 1].at_ms - pr.start_ms +
	    pr.rtt_ms + (pr.rtt_ms / 2 > PROBE_MARGIN_MS ? pr.rtt_ms / 2 : PROBE_MARGIN_MS));
	cr_expect_leq(ms, last_decision_but_ask() > decided_at[a - pr.tests] ?
	    last_decision_but_ask() : decided_at[a - pr.tests]);
	cr_expect_leq(decided_at[a - pr.tests], a->started_ms - pr.start_ms +
	    PROBE_K_MAX * PROBE_IV_CAP_MS + 2 * pr.rtt_ms);
	cr_expect_eq(v.mapping, NAT_BEH_UNKNOWN);

	/* Two servers, the second with a full alternate: it is the primary
	 * as soon as without the ask, which is abandoned. */
	started = second_primary_starts(NATSIM_SRV_NO_ALT);
	cr_expect_eq(second_primary_starts(NATSIM_SRV_DROP_CHANGE), started);
	a = test_of(PROBE_ASK_OTHER);
	cr_expect(a->result == PROBE_ABANDONED || a->result == PROBE_NO_ANSWER, "%s",
	    probe_result_name(a->result));
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE, "type %s", nat_type_word(v.type));
}
