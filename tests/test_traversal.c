/*
 * test_traversal.c - what natcheck --json writes, --pair reads back: every
 * NAT behaviour and allocation of the in-memory NAT, run through the engine,
 * rendered by report_json_ext + traversal_json, parsed by forecast_parse,
 * must give the same host; and the text lines name what was decided.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "natsim.h"
#include "report.h"
#include "traversal.h"

static struct natsim sim;
static struct probe pr;
static struct probe_config cfg;
static struct nat_verdict v;
static struct traversal t;

static void
run(enum natsim_beh m, enum natsim_beh f, enum natsim_alloc a, uint64_t seed)
{
	struct ports_sample s[PORTS_MAX_SAMPLES];
	size_t n;

	natsim_init(&sim, m, f, 0, seed);
	sim.alloc = a;
	natsim_config(&sim, &cfg);
	natsim_run(&sim, &cfg, &pr);
	cr_assert(pr.done);
	nat_classify(&pr, &v);
	n = ports_samples(&pr, s, PORTS_MAX_SAMPLES);
	traversal_build(&v, s, n, NULL, &t);
}

/* Render into a string (caller frees). */
static char *
render(int json, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	cr_assert(f != NULL);
	if (json)
		report_json_ext(f, &pr, &v, NULL, traversal_json, &t);
	else
		traversal_text(f, &t);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(traversal, json_round_trips_through_the_pair_reader)
{
	static const enum natsim_beh beh[] = { NATSIM_EI, NATSIM_AD, NATSIM_APD };
	static const enum natsim_alloc alloc[] = { NATSIM_ALLOC_SEQ, NATSIM_ALLOC_PRESERVE,
	                                           NATSIM_ALLOC_RANDOM };
	uint64_t seed = 1;

	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++)
			for (size_t k = 0; k < 3; k++) {
				struct forecast_host want, got;
				char err[160];
				size_t len;
				char *json;

				run(beh[i], beh[j], alloc[k], seed++);
				forecast_host_from(&v, &t.ports, &want);
				json = render(1, &len);
				cr_assert_eq(forecast_parse(json, len, &got, err, sizeof(err)), 0,
				    "%s: %s", err, json);
				cr_expect_eq(got.type, want.type);
				cr_expect_eq(got.nat, want.nat);
				cr_expect_eq(got.mapping, want.mapping);
				cr_expect_eq(got.filtering, want.filtering);
				cr_expect_eq(got.hairpinning, want.hairpinning);
				cr_expect_eq(got.allocation, want.allocation, "%s vs %s",
				    ports_alloc_word(got.allocation), ports_alloc_word(want.allocation));
				cr_expect_eq(got.has_delta, want.has_delta);
				cr_expect_eq(got.delta, want.delta);
				cr_expect_str_eq(got.public_ip, want.public_ip);
				cr_expect(strstr(json, "\"lifetime\":null") != NULL);
				free(json);
			}
}

Test(traversal, text_names_the_allocation_and_the_relay_cases)
{
	size_t len;
	char *text;

	run(NATSIM_APD, NATSIM_APD, NATSIM_ALLOC_RANDOM, 40);
	text = render(0, &len);
	cr_expect(strstr(text, "Ports        random (kept no") != NULL, "%s", text);
	cr_expect(strstr(text, "Relay for    ") != NULL, "%s", text);
	cr_expect(strstr(text, "Lifetime") == NULL, "no lifetime without --lifetime");
	free(text);
}

Test(traversal, lifetime_in_text_and_json)
{
	struct lifetime_result lt;
	size_t len;
	char *s;

	run(NATSIM_EI, NATSIM_APD, NATSIM_ALLOC_PRESERVE, 41);
	memset(&lt, 0, sizeof(lt));
	lt.measured = 1;
	lt.alive_ms = 29600;
	lt.expired = 1;
	lt.expired_ms = 31000;
	lt.max_ms = 300000;
	lt.keepalive_ms = 22200;
	lt.refresh = LT_REFRESH_INBOUND;
	t.has_lifetime = 1;
	t.lifetime = lt;
	s = render(0, &len);
	cr_expect(strstr(s, "Lifetime     alive at 29.6 s, expired by 31.0 s; keepalive every "
	    "22.2 s; refresh inbound") != NULL, "%s", s);
	free(s);
	s = render(1, &len);
	cr_expect(strstr(s, "\"lifetime\":{\"alive_s\":29.6,\"expired_s\":31.0,\"max_s\":300.0,"
	    "\"keepalive_s\":22.2,\"refresh\":\"inbound\"") != NULL, "%s", s);
	free(s);
}

Test(traversal, no_keepalive_without_nat)
{
	struct lifetime_result lt;
	struct ports_sample s[PORTS_MAX_SAMPLES];
	size_t len, n;
	char *txt;

	/* No NAT (Open Internet), nothing expired in 300 s: no advice. */
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 7);
	sim.mode = NATSIM_OPEN;
	natsim_config(&sim, &cfg);
	natsim_run(&sim, &cfg, &pr);
	cr_assert(pr.done);
	nat_classify(&pr, &v);
	cr_assert_eq(v.nat, 0);
	memset(&lt, 0, sizeof(lt));
	lt.measured = 1;
	lt.alive_ms = 299000;
	lt.max_ms = 300000;
	lt.keepalive_ms = 224250;   /* what the engine says from the bracket */
	n = ports_samples(&pr, s, PORTS_MAX_SAMPLES);
	traversal_build(&v, s, n, &lt, &t);
	cr_assert(t.no_keepalive);
	txt = render(0, &len);
	cr_expect(strstr(txt, "keepalive every") == NULL, "%s", txt);
	cr_expect(strstr(txt, "no keepalive needed (no NAT, nothing expired)") != NULL, "%s", txt);
	free(txt);
	txt = render(1, &len);
	cr_expect(strstr(txt, "\"keepalive_s\":null") != NULL, "%s", txt);
	free(txt);
	/* No NAT, but a binding expired: a stateful firewall; advice stays. */
	lt.expired = 1;
	lt.expired_ms = 31000;
	lt.alive_ms = 29600;
	lt.keepalive_ms = 22200;
	traversal_build(&v, s, n, &lt, &t);
	cr_assert(!t.no_keepalive);
	cr_assert_eq(t.lifetime.keepalive_ms, 22200);
	/* Behind a NAT, nothing expired: advice stays (within what was seen). */
	run(NATSIM_EI, NATSIM_APD, NATSIM_ALLOC_PRESERVE, 41);
	lt.expired = 0;
	lt.keepalive_ms = 224250;
	n = ports_samples(&pr, s, PORTS_MAX_SAMPLES);
	traversal_build(&v, s, n, &lt, &t);
	cr_assert(!t.no_keepalive);
	cr_assert_eq(t.lifetime.keepalive_ms, 224250);
}
