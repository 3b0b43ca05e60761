/*
 * test_lifetime.c - the binding lifetime engine against the real server
 * handler (RESPONSE-PORT) through the in-memory NAT, whose mappings time
 * out after map_timeout_ms of idleness, refreshed by traffic both ways
 * (like Linux conntrack) or by outbound traffic only.  Virtual time: a
 * 120 s lifetime takes milliseconds.
 *
 * Every case asserts the targets: the bracket holds the true
 * timeout, it is at most max(2 s, 10 %) wide, and the run takes at most
 * 1.25 x the timeout + 5 s.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "lifetime.h"
#include "natsim.h"

static struct natsim sim;
static struct lifetime lt;

static void
deliver(void *ctx, uint64_t now, int sock, const struct stun_addr *from, const uint8_t *buf,
        size_t len)
{
	lifetime_input(ctx, now, sock, from, buf, len);
}

static void
sim_random(void *ctx, uint8_t *buf, size_t len)
{
	struct natsim *s = ctx;

	for (size_t i = 0; i < len; i++) {
		s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (uint8_t)(s->rng >> 56);
	}
}

/* Run the engine to the end; returns the virtual milliseconds it took. */
static uint64_t
run(uint32_t timeout_ms, int inbound, uint32_t max_ms)
{
	struct lifetime_config cfg;
	uint64_t start = sim.now;

	sim.map_timeout_ms = timeout_ms;
	sim.map_refresh_inbound = inbound;
	sim.deliver = deliver;
	sim.deliver_ctx = &lt;
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = sim.srv.ep[0];
	cfg.max_ms = max_ms;
	cfg.random = sim_random;
	cfg.random_ctx = &sim;
	lifetime_init(&lt, &cfg, sim.now);
	for (unsigned iter = 0; iter < 2000000; iter++) {
		struct lifetime_tx tx;
		uint32_t wait = 0;
		enum lifetime_step st;

		natsim_deliver(&sim);
		st = lifetime_next(&lt, sim.now, &tx, &wait);
		if (st == LT_DONE)
			break;
		if (st == LT_SEND) {
			natsim_send(&sim, tx.sock, &tx.to, tx.buf, tx.len);
			continue;
		}
		natsim_advance(&sim, wait);
	}
	cr_assert(lt.done, "the engine did not finish");
	cr_log_info("timeout %u: alive %u expired %d/%u refresh %s checks %u conflicts %u in %llu ms",
	    timeout_ms, lt.r.alive_ms, lt.r.expired, lt.r.expired_ms,
	    lifetime_refresh_word(lt.r.refresh), lt.r.checks, lt.r.conflicts,
	    (unsigned long long)(sim.now - start));
	return sim.now - start;
}

/* The targets of issue #10 for a NAT whose timeout is t ms. */
static void
expect_bracket(uint32_t t, uint64_t wall)
{
	uint32_t width = t / 10 > 2000 ? t / 10 : 2000;

	cr_expect(lt.r.measured);
	cr_expect(lt.r.expired, "no expiry seen for a %u ms timeout", t);
	cr_expect_leq(lt.r.alive_ms, t, "alive at %u ms, beyond the %u ms timeout",
	    lt.r.alive_ms, t);
	cr_expect_geq(lt.r.expired_ms, t, "expired by %u ms, before the %u ms timeout",
	    lt.r.expired_ms, t);
	cr_expect_leq(lt.r.expired_ms - lt.r.alive_ms, width, "bracket %u..%u too wide",
	    lt.r.alive_ms, lt.r.expired_ms);
	cr_expect_leq(wall, (uint64_t)t + t / 4 + 5000, "took %llu ms",
	    (unsigned long long)wall);
	cr_expect_eq(lt.r.conflicts, 0);
	cr_expect_gt(lt.r.keepalive_ms, 0);
	cr_expect_lt(lt.r.keepalive_ms, lt.r.alive_ms + 1);
}

struct lcase {
	uint32_t timeout_ms;
	int      inbound;
	enum natsim_beh m, f;
	uint32_t delay_ms;
};

static void
one(const struct lcase *c, uint64_t seed)
{
	uint64_t wall;

	natsim_init(&sim, c->m, c->f, 0, seed);
	natsim_path(&sim, c->delay_ms, 0);
	wall = run(c->timeout_ms, c->inbound, LT_DEFAULT_MAX_MS);
	expect_bracket(c->timeout_ms, wall);
	cr_expect_eq(lt.r.refresh, c->inbound ? LT_REFRESH_INBOUND : LT_REFRESH_OUTBOUND_ONLY,
	    "refresh %s", lifetime_refresh_word(lt.r.refresh));
}

Test(lifetime, conntrack_like_timeouts)
{
	static const struct lcase cases[] = {
		{ 10000, 1, NATSIM_APD, NATSIM_APD, 1 },
		{ 30000, 1, NATSIM_EI, NATSIM_APD, 1 },
		{ 40000, 1, NATSIM_EI, NATSIM_EI, 1 },
		{ 120000, 1, NATSIM_APD, NATSIM_APD, 1 },
		{ 180000, 1, NATSIM_EI, NATSIM_AD, 1 },
		{ 7000, 1, NATSIM_EI, NATSIM_APD, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one(&cases[i], 100 + i);
}

Test(lifetime, refreshed_by_outbound_traffic_only)
{
	static const struct lcase cases[] = {
		{ 10000, 0, NATSIM_EI, NATSIM_APD, 1 },
		{ 40000, 0, NATSIM_APD, NATSIM_APD, 1 },
		{ 65000, 0, NATSIM_EI, NATSIM_AD, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one(&cases[i], 200 + i);
}

Test(lifetime, long_paths_keep_the_bracket_honest)
{
	static const struct lcase cases[] = {
		{ 20000, 1, NATSIM_EI, NATSIM_APD, 80 },
		{ 45000, 0, NATSIM_APD, NATSIM_APD, 150 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one(&cases[i], 300 + i);
}

Test(lifetime, sweep_of_timeouts_and_paths)
{
	/* 3 s to 297 s, with both refresh rules and three path lengths */
	for (uint32_t t = 3000, k = 0; t < LT_DEFAULT_MAX_MS; t += 2900, k++) {
		struct lcase c = { t, (int)(k & 1), k % 3 ? NATSIM_APD : NATSIM_EI, NATSIM_APD,
		                   k % 3 == 0 ? 1 : k % 3 == 1 ? 25 : 100 };

		one(&c, 500 + k);
	}
}

Test(lifetime, loss_does_not_fake_an_expiry)
{
	/* 10 % loss each way: about one exchange in five fails, so a check
	 * needs more than three silent sends before it may say "expired". */
	for (uint64_t seed = 600; seed < 612; seed++) {
		natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, seed);
		natsim_path(&sim, 20, 10);
		run(30000, 1, LT_DEFAULT_MAX_MS);
		cr_expect(lt.r.expired, "seed %llu: no expiry", (unsigned long long)seed);
		cr_expect_leq(lt.r.alive_ms, 30000, "seed %llu: alive at %u", (unsigned long long)seed,
		    lt.r.alive_ms);
		cr_expect_geq(lt.r.expired_ms, 30000, "seed %llu: expired by %u",
		    (unsigned long long)seed, lt.r.expired_ms);
	}
}

/* A server that drops requests without FINGERPRINT (RFC 5389 section
 * 15.5) answers every one of the engine's. */
Test(lifetime, a_strict_server_answers_every_request)
{
	uint64_t wall;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 700);
	natsim_path(&sim, 1, 0);
	sim.strict_fingerprint = 1;
	wall = run(10000, 1, LT_DEFAULT_MAX_MS);
	expect_bracket(10000, wall);
	cr_expect_eq(sim.dropped_unsigned, 0, "%u requests without FINGERPRINT",
	    sim.dropped_unsigned);
}

Test(lifetime, nothing_expires_within_max)
{
	uint64_t wall;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 400);
	natsim_path(&sim, 1, 0);
	wall = run(0, 1, 20000);
	cr_expect_eq(lt.r.expired, 0);
	cr_expect_geq(lt.r.alive_ms, 19000, "alive %u", lt.r.alive_ms);
	cr_expect_eq(lt.r.refresh, LT_REFRESH_UNKNOWN, "no expiry, so nothing to compare");
	cr_expect_leq(wall, 20000 + 5000 + 5000);
}

Test(lifetime, longer_than_max_is_at_least_max)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 401);
	natsim_path(&sim, 1, 0);
	run(60000, 1, 30000);
	cr_expect_eq(lt.r.expired, 0);
	cr_expect_leq(lt.r.alive_ms, 60000);
	cr_expect_geq(lt.r.alive_ms, 29000);
}

Test(lifetime, blocked_udp_ends_quickly_with_nothing)
{
	uint64_t wall;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 402);
	sim.mode = NATSIM_BLOCKED;
	wall = run(10000, 1, 300000);
	cr_expect_eq(lt.r.measured, 0);
	cr_expect_eq(lt.r.no_server, 1, "no binding could be made");
	cr_expect_eq(lt.r.expired, 0);
	cr_expect_leq(wall, 10000, "took %llu ms", (unsigned long long)wall);
}

Test(lifetime, the_checks_never_refresh_the_mapping_under_test)
{
	/* Every check leaves from the prober socket, never from a mapping
	 * socket: only arms do. */
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 403);
	natsim_path(&sim, 1, 0);
	run(10000, 0, 300000);
	cr_expect(natsim_sent_to(&sim, LT_SOCK_PROBER, NULL) > 0);
	cr_expect_eq(lt.r.refresh, LT_REFRESH_OUTBOUND_ONLY);
	/* pacing: no more than ten new transactions a second overall */
	cr_expect_leq(sim.nlog, (size_t)((10000 * 1.25 + 5000) / 1000 * 10 * LT_MAX_SENDS));
}

/* A server that refuses RESPONSE-PORT (a plain RFC 3489 one answers 420,
 * RFC 5780 section 7.5 makes it mandatory for a behaviour-discovery
 * server): the run stops at the first check and says so. */
Test(lifetime, a_server_without_response_port_stops_the_run)
{
	struct lifetime_config c;
	struct server_cfg srv;
	uint64_t now = 5000, rng = 7;
	unsigned arms = 0, checks = 0;

	memset(&srv, 0, sizeof(srv));
	srv.ep[0] = natsim_addr("203.0.113.1", 3478);
	memset(&c, 0, sizeof(c));
	c.server = srv.ep[0];
	c.max_ms = 60000;
	c.random = sim_random;
	sim.rng = rng;
	c.random_ctx = &sim;
	lifetime_init(&lt, &c, now);
	for (unsigned iter = 0; iter < 100000 && !lt.done; iter++) {
		struct lifetime_tx tx;
		struct stun_addr from = natsim_addr("198.51.100.1", (uint16_t)(50000 + iter % 64));
		uint32_t wait = 0;
		uint8_t out[256];
		size_t len = 0;

		if (lifetime_next(&lt, now, &tx, &wait) != LT_SEND) {
			now += wait ? wait : 1;
			continue;
		}
		from.port = (uint16_t)(50000 + tx.sock);
		if (tx.sock != LT_SOCK_PROBER) {
			struct server_reply rep;

			arms++;
			cr_assert(server_handle(&srv, 0, &from, tx.buf, tx.len, out, sizeof(out), &rep));
			lifetime_input(&lt, now + 1, tx.sock, &srv.ep[0], out, rep.len);
		} else {
			struct stun_enc e;

			checks++;
			stun_enc_init(&e, out, sizeof(out), STUN_BINDING_ERROR, tx.buf + 4);
			stun_enc_error(&e, 420, "Unknown Attribute");
			cr_assert_eq(stun_enc_finish(&e, &len), STUN_OK);
			lifetime_input(&lt, now + 1, LT_SOCK_PROBER, &srv.ep[0], out, len);
		}
	}
	cr_expect(lt.done);
	cr_expect_eq(lt.r.unsupported, 1);
	cr_expect_eq(lt.r.measured, 0);
	cr_expect_eq(checks, 1, "one refused check is enough");
	cr_expect_leq(arms, LT_NMAP + 1);
	cr_expect_lt(now - 5000, 10000, "stopped after %llu ms", (unsigned long long)(now - 5000));
}
