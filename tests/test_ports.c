/*
 * test_ports.c - port allocation: ports_analyze() on tables of samples, and
 * ports_samples() on real engine runs through the in-memory NAT with each
 * allocation policy.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "nat.h"
#include "natsim.h"
#include "ports.h"
#include "probe.h"

static struct ports_result r;

/* Analyse n (local, mapped) pairs given in creation order. */
static void
analyze(size_t n, const uint16_t pairs[][2])
{
	struct ports_sample s[PORTS_MAX_SAMPLES];

	/* stored last first: the analysis must sort by creation order */
	for (size_t i = 0; i < n; i++) {
		struct ports_sample *x = &s[n - 1 - i];

		x->sock = (int)i;
		x->local_port = pairs[i][0];
		x->mapped_port = pairs[i][1];
		x->order = i;
	}
	ports_analyze(s, n, &r);
}

Test(ports, no_samples_is_unknown)
{
	ports_analyze(NULL, 0, &r);
	cr_expect_eq(r.samples, 0);
	cr_expect_eq(r.preservation, -1);
	cr_expect_eq(r.parity, -1);
	cr_expect_eq(r.allocation, PORTS_UNKNOWN);
	cr_expect_eq(r.has_delta, 0);
}

Test(ports, one_kept_port_is_not_yet_an_allocation)
{
	static const uint16_t p[][2] = { { 40001, 40001 } };

	analyze(1, p);
	cr_expect_eq(r.preservation, 1);
	cr_expect_eq(r.parity, 1);
	cr_expect_eq(r.allocation, PORTS_UNKNOWN, "one sample: %s", ports_alloc_word(r.allocation));
}

Test(ports, preserving)
{
	static const uint16_t p[][2] = { { 40001, 40001 }, { 51234, 51234 }, { 33333, 33333 } };

	analyze(3, p);
	cr_expect_eq(r.preservation, 1);
	cr_expect_eq(r.parity, 1);
	cr_expect_eq(r.allocation, PORTS_PRESERVING);
	cr_expect_eq(r.min_port, 33333);
	cr_expect_eq(r.max_port, 51234);
}

Test(ports, sequential_by_one)
{
	static const uint16_t p[][2] = { { 40001, 30000 }, { 40002, 30001 }, { 40003, 30002 },
	                                 { 40004, 30003 } };

	analyze(4, p);
	cr_expect_eq(r.preservation, 0);
	cr_expect_eq(r.parity, 0, "40001 -> 30000 changes parity");
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL);
	cr_expect(r.has_delta);
	cr_expect_eq(r.delta, 1);
}

Test(ports, sequential_with_gaps_reports_the_usual_step)
{
	/* another host took 20005 between two of ours */
	static const uint16_t p[][2] = { { 1, 20001 }, { 3, 20003 }, { 5, 20007 }, { 7, 20009 },
	                                 { 9, 20011 } };

	analyze(5, p);
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL);
	cr_expect_eq(r.delta, 2);
	cr_expect_eq(r.parity, 1, "five samples, every parity kept");
}

Test(ports, sequential_wraps_around_the_port_space)
{
	static const uint16_t p[][2] = { { 1, 65534 }, { 2, 65535 }, { 3, 0 }, { 4, 1 } };

	analyze(4, p);
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL);
	cr_expect_eq(r.delta, 1);
}

Test(ports, random)
{
	static const uint16_t p[][2] = { { 40001, 61023 }, { 40002, 2050 }, { 40003, 33917 } };

	analyze(3, p);
	cr_expect_eq(r.preservation, 0);
	cr_expect_eq(r.parity, -1, "parity of three samples can be chance");
	cr_expect_eq(r.allocation, PORTS_RANDOM);
	cr_expect_eq(r.has_delta, 0);
}

Test(ports, one_changed_parity_is_proof)
{
	static const uint16_t p[][2] = { { 40001, 61022 }, { 40002, 2050 }, { 40003, 33917 } };

	analyze(3, p);
	cr_expect_eq(r.parity, 0);
}

Test(ports, descending_or_repeated_ports_are_not_sequential)
{
	static const uint16_t down[][2] = { { 1, 30003 }, { 2, 30002 }, { 3, 30001 } };
	static const uint16_t same[][2] = { { 1, 30003 }, { 2, 30003 }, { 3, 30003 } };

	analyze(3, down);
	cr_expect_eq(r.allocation, PORTS_RANDOM);
	analyze(3, same);
	cr_expect_eq(r.allocation, PORTS_RANDOM);
}

Test(ports, two_changed_ports_are_too_few)
{
	static const uint16_t p[][2] = { { 40001, 30000 }, { 40002, 30001 } };

	analyze(2, p);
	cr_expect_eq(r.preservation, 0);
	cr_expect_eq(r.allocation, PORTS_UNKNOWN);
}

Test(ports, kept_ports_do_not_count_as_steps)
{
	/* kept where it could, then sequential elsewhere: the kept one is no step */
	static const uint16_t p[][2] = { { 40001, 40001 }, { 40002, 30000 }, { 40003, 30001 },
	                                 { 40004, 30002 } };

	analyze(4, p);
	cr_expect_eq(r.preservation, 0);
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL);
	cr_expect_eq(r.delta, 1);
}

Test(ports, add_deduplicates_and_keeps_the_earliest)
{
	struct ports_sample s[2], x = { 1, 40001, 50000, 7 };
	size_t n = 0;

	cr_expect_eq(ports_add(s, &n, 2, &x), 1);
	x.order = 3;
	cr_expect_eq(ports_add(s, &n, 2, &x), 0);
	cr_expect_eq(n, 1);
	cr_expect_eq(s[0].order, 3);
	x.mapped_port = 50001;
	cr_expect_eq(ports_add(s, &n, 2, &x), 1);
	x.mapped_port = 50002;
	cr_expect_eq(ports_add(s, &n, 2, &x), 0, "full");
	cr_expect_eq(n, 2);
}

/* ------------------------------------------------ through the engine */

static struct natsim sim;
static struct probe pr;
static struct probe_config cfg;

static void
engine(enum natsim_beh m, enum natsim_alloc alloc, uint64_t seed)
{
	struct ports_sample s[PORTS_MAX_SAMPLES];
	size_t n;

	natsim_init(&sim, m, NATSIM_EI, 0, seed);
	sim.alloc = alloc;
	sim.alloc_step = 7;
	natsim_config(&sim, &cfg);
	natsim_run(&sim, &cfg, &pr);
	cr_assert(pr.done);
	n = ports_samples(&pr, s, PORTS_MAX_SAMPLES);
	ports_analyze(s, n, &r);
}

Test(ports, engine_symmetric_sequential)
{
	engine(NATSIM_APD, NATSIM_ALLOC_SEQ, 11);
	/* map socket: 4 destinations, filter and hairpin sockets: 1 each */
	cr_expect_geq(r.samples, 5, "samples %zu", r.samples);
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL, "%s", ports_alloc_word(r.allocation));
	cr_expect_eq(r.delta, 1);
	cr_expect_eq(r.min_port, 50000);
}

Test(ports, engine_symmetric_step)
{
	engine(NATSIM_APD, NATSIM_ALLOC_STEP, 12);
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL);
	cr_expect_eq(r.delta, 7);
}

Test(ports, engine_symmetric_random)
{
	engine(NATSIM_APD, NATSIM_ALLOC_RANDOM, 13);
	cr_expect_eq(r.preservation, 0);
	cr_expect_eq(r.allocation, PORTS_RANDOM, "%s", ports_alloc_word(r.allocation));
}

Test(ports, engine_cone_preserving)
{
	engine(NATSIM_EI, NATSIM_ALLOC_PRESERVE, 14);
	cr_expect_geq(r.samples, 3, "one per socket");
	cr_expect_eq(r.preservation, 1);
	cr_expect_eq(r.parity, 1);
	cr_expect_eq(r.allocation, PORTS_PRESERVING);
}

Test(ports, engine_cone_one_sample_per_socket)
{
	engine(NATSIM_EI, NATSIM_ALLOC_SEQ, 15);
	/* an endpoint-independent NAT maps each socket once, whatever the
	 * destinations: map, filter and hairpin sockets */
	cr_expect_eq(r.samples, 3, "samples %zu", r.samples);
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL);
}

Test(ports, engine_blocked_has_no_samples)
{
	struct ports_sample s[PORTS_MAX_SAMPLES];

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 16);
	sim.mode = NATSIM_BLOCKED;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 2000;
	natsim_run(&sim, &cfg, &pr);
	cr_expect_eq(ports_samples(&pr, s, PORTS_MAX_SAMPLES), 0);
}

/* ------------------------------------------------ the extra samples engine */

static struct ports_extra px;

static void
px_deliver(void *ctx, uint64_t now, int sock, const struct stun_addr *from, const uint8_t *buf,
           size_t len)
{
	/* natsim numbers the client's sockets from 0; ours follow the probe's */
	ports_extra_input(ctx, now, sock - PROBE_NSOCK, from, buf, len);
}

static void
px_random(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *st = ctx;

	for (size_t i = 0; i < len; i++) {
		*st = *st * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (uint8_t)(*st >> 56);
	}
}

/* The servers drop requests without FINGERPRINT (natsim's
 * strict_fingerprint) in with_extra's runs. */
static int strict;

/* A default run, then the extra engine on client sockets PROBE_NSOCK.. of
 * the same simulated host; the analysis of all samples lands in r.
 * Returns the virtual time the extra engine took. */
static uint64_t
with_extra(enum natsim_beh m, enum natsim_alloc alloc, uint32_t loss, uint64_t seed,
           size_t *before)
{
	struct ports_sample s[PORTS_MAX_SAMPLES];
	struct stun_addr local[PORTS_EXTRA_NSOCK];
	uint64_t rng = seed, start;
	size_t n;

	natsim_init(&sim, m, NATSIM_APD, 0, seed);
	sim.alloc = alloc;
	sim.strict_fingerprint = strict;
	natsim_config(&sim, &cfg);
	natsim_run(&sim, &cfg, &pr);
	n = ports_samples(&pr, s, PORTS_MAX_SAMPLES);
	*before = n;
	natsim_path(&sim, 50, loss);
	sim.deliver = px_deliver;
	sim.deliver_ctx = &px;
	for (int i = 0; i < PORTS_EXTRA_NSOCK; i++)
		local[i] = sim.client[PROBE_NSOCK + i];
	start = sim.now;
	ports_extra_init(&px, local, &sim.srv.ep[3], pr.rtt_ms, px_random, &rng, sim.now);
	for (unsigned iter = 0; iter < 100000; iter++) {
		struct ports_extra_tx tx;
		uint32_t wait = 0;
		enum ports_extra_step st;

		natsim_deliver(&sim);
		st = ports_extra_next(&px, sim.now, &tx, &wait);
		if (st == PORTS_EXTRA_DONE)
			break;
		if (st == PORTS_EXTRA_SEND) {
			natsim_send(&sim, PROBE_NSOCK + tx.sock, &tx.to, tx.buf, tx.len);
			continue;
		}
		natsim_advance(&sim, wait);
	}
	cr_assert(px.done);
	ports_extra_samples(&px, s, &n, PORTS_MAX_SAMPLES);
	ports_analyze(s, n, &r);
	return sim.now - start;
}

Test(ports, extra_samples_tell_a_cone_with_sequential_ports)
{
	size_t before;
	uint64_t ms = with_extra(NATSIM_EI, NATSIM_ALLOC_SEQ, 0, 21, &before);

	cr_expect_eq(before, 2, "map and hairpin sockets only (the filter tests go unanswered)");
	cr_expect_eq(r.samples, before + PORTS_EXTRA_NSOCK);
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL, "%s", ports_alloc_word(r.allocation));
	cr_expect_eq(r.delta, 1);
	cr_expect_leq(ms, 100 + 75 + 1, "one round trip: %llu ms", (unsigned long long)ms);
}

/* The same against a server that drops requests without FINGERPRINT
 * (RFC 5389 section 15.5): every request, the extra samples' too, has it. */
Test(ports, extra_samples_from_a_strict_server)
{
	size_t before;

	strict = 1;
	with_extra(NATSIM_EI, NATSIM_ALLOC_SEQ, 0, 21, &before);
	strict = 0;
	cr_expect_eq(r.samples, before + PORTS_EXTRA_NSOCK);
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL, "%s", ports_alloc_word(r.allocation));
	cr_expect_eq(sim.dropped_unsigned, 0, "%u requests without FINGERPRINT",
	    sim.dropped_unsigned);
}

Test(ports, extra_samples_tell_a_cone_with_random_ports)
{
	size_t before;

	with_extra(NATSIM_EI, NATSIM_ALLOC_RANDOM, 0, 22, &before);
	cr_expect_eq(r.allocation, PORTS_RANDOM, "%s", ports_alloc_word(r.allocation));
}

Test(ports, extra_samples_survive_loss)
{
	size_t before;

	with_extra(NATSIM_EI, NATSIM_ALLOC_SEQ, 20, 23, &before);
	cr_expect_geq(r.samples, before + 2, "samples %zu", r.samples);
	cr_expect_eq(r.allocation, PORTS_SEQUENTIAL);
}
