/*
 * test_forecast.c - the hole-punching forecast over peer classes and pairs,
 * and the bounded reader of saved --json results (table of named cases;
 * each input is copied to a buffer of exactly its length, so the ASan
 * build catches any read past the end).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"

#define EI  NAT_BEH_ENDPOINT_INDEPENDENT
#define AD  NAT_BEH_ADDRESS_DEPENDENT
#define APD NAT_BEH_ADDRESS_PORT_DEPENDENT
#define UNK NAT_BEH_UNKNOWN

static struct forecast_host
host(enum nat_type t, int nat, enum nat_behavior m, enum nat_behavior f, enum ports_alloc a,
     const char *ip)
{
	struct forecast_host h;

	memset(&h, 0, sizeof(h));
	h.type = t;
	h.nat = nat;
	h.mapping = m;
	h.filtering = f;
	h.hairpinning = -1;
	h.allocation = a;
	snprintf(h.public_ip, sizeof(h.public_ip), "%s", ip);
	return h;
}

#define FULL(ip)  host(NAT_FULL_CONE, 1, EI, EI, PORTS_PRESERVING, ip)
#define REST(ip)  host(NAT_RESTRICTED_CONE, 1, EI, AD, PORTS_PRESERVING, ip)
#define PREST(ip) host(NAT_PORT_RESTRICTED_CONE, 1, EI, APD, PORTS_PRESERVING, ip)
#define SYMSEQ(ip) host(NAT_SYMMETRIC, 1, APD, APD, PORTS_SEQUENTIAL, ip)
#define SYMRND(ip) host(NAT_SYMMETRIC, 1, APD, APD, PORTS_RANDOM, ip)
#define SYMPRES(ip) host(NAT_SYMMETRIC, 1, APD, APD, PORTS_PRESERVING, ip)
#define OPEN(ip)  host(NAT_OPEN, 0, EI, EI, PORTS_PRESERVING, ip)
#define FW(ip)    host(NAT_SYMMETRIC_FIREWALL, 0, EI, APD, PORTS_PRESERVING, ip)
#define BLOCKED   host(NAT_UDP_BLOCKED, -1, UNK, UNK, PORTS_UNKNOWN, "")

static struct forecast_pair o;

static void
pair(struct forecast_host a, struct forecast_host b)
{
	forecast_pair(&a, &b, &o);
	cr_log_info("%s / %s: %s", forecast_path_word(o.path), forecast_first_word(o.first), o.why);
}

Test(forecast, cones_punch_at_once)
{
	pair(PREST("198.51.100.1"), PREST("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT);
	cr_expect_eq(o.first, FORECAST_FIRST_BOTH);
	cr_expect(!o.predict_a && !o.predict_b);
	pair(FULL("198.51.100.1"), FW("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT);
}

Test(forecast, port_restricted_and_random_symmetric_need_a_relay)
{
	pair(PREST("198.51.100.1"), SYMRND("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_RELAY);
	cr_expect_eq(o.first, FORECAST_FIRST_NONE);
	cr_expect(strstr(o.why, "exact endpoint") != NULL, "%s", o.why);
	pair(SYMRND("198.51.100.1"), PREST("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_RELAY, "and the other way round");
}

Test(forecast, restricted_cone_opens_for_a_random_symmetric_peer)
{
	pair(REST("198.51.100.1"), SYMRND("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT);
	cr_expect_eq(o.first, FORECAST_FIRST_A, "A must open its filter first");
	pair(SYMRND("198.51.100.1"), REST("203.0.113.9"));
	cr_expect_eq(o.first, FORECAST_FIRST_B);
}

Test(forecast, full_cone_lets_the_random_side_send_first)
{
	pair(FULL("198.51.100.1"), SYMRND("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT);
	cr_expect_eq(o.first, FORECAST_FIRST_B);
}

Test(forecast, two_random_symmetric_need_a_relay)
{
	pair(SYMRND("198.51.100.1"), SYMRND("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_RELAY);
}

Test(forecast, sequential_needs_prediction)
{
	pair(SYMSEQ("198.51.100.1"), PREST("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT_PREDICT);
	cr_expect_eq(o.first, FORECAST_FIRST_BOTH);
	cr_expect(o.predict_a && !o.predict_b);
	pair(SYMSEQ("198.51.100.1"), SYMSEQ("203.0.113.9"));
	cr_expect(o.predict_a && o.predict_b);
	pair(SYMSEQ("198.51.100.1"), SYMRND("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_RELAY, "its APD filter cannot admit a random port");
}

/* A dependent mapping that keeps the port is a new mapping only because
 * its address changed (the lab's address-dependent-mapping NAT): a peer
 * knows the port, not the address it will come from. */
Test(forecast, port_preserving_dependent_mapping_hides_its_address)
{
	pair(SYMPRES("198.51.100.1"), PREST("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_RELAY);
	cr_expect(strstr(o.why, "address cannot be known") != NULL, "%s", o.why);
	pair(SYMPRES("198.51.100.1"), REST("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_RELAY, "an address filter cannot admit an unknown address");
	pair(SYMPRES("198.51.100.1"), FULL("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT);
	cr_expect_eq(o.first, FORECAST_FIRST_A, "it sends first, the full cone answers");
}

/* Issue 20: the peer of a sequential NAT sends first where its filter
 * allows, as for a random one; no prediction then. */
Test(forecast, sequential_peer_sends_first_without_prediction)
{
	pair(FULL("198.51.100.1"), SYMSEQ("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT, "%s", o.why);
	cr_expect_eq(o.first, FORECAST_FIRST_B);
	cr_expect(!o.predict_a && !o.predict_b);
	pair(REST("198.51.100.1"), SYMSEQ("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT, "%s", o.why);
	cr_expect_eq(o.first, FORECAST_FIRST_A, "the restricted cone opens its filter first");
	pair(SYMSEQ("198.51.100.1"), OPEN("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT, "%s", o.why);
	cr_expect_eq(o.first, FORECAST_FIRST_A);
	cr_expect(strstr(o.why, "predicted") != NULL, "the reason names the sequential side: %s",
	    o.why);
}

/* Path order: direct, then prediction, then relay. */
static int
rank(enum forecast_path p)
{
	return p == FORECAST_DIRECT ? 0 : p == FORECAST_DIRECT_PREDICT ? 1 : 2;
}

/* Every host with known behaviours against a dependent-mapping peer with
 * sequential ports and the same peer with random ports. */
Test(forecast, sequential_never_harder_than_random)
{
	static const enum nat_behavior beh[] = { EI, AD, APD };
	static const enum nat_behavior dep[] = { AD, APD };
	static const enum ports_alloc alloc[] = { PORTS_PRESERVING, PORTS_SEQUENTIAL,
	                                          PORTS_RANDOM };
	struct forecast_pair seq, rnd;
	int n = 0;

	/* Each combination once: nat, mapping, filtering, allocation of the
	 * host; mapping and filtering of the peer. */
	for (int c = 0; c < 2 * 3 * 3 * 3 * 2 * 3; c++) {
		int nat = c % 2;
		enum nat_behavior m = beh[c / 2 % 3], f = beh[c / 6 % 3];
		enum ports_alloc al = alloc[c / 18 % 3];
		enum nat_behavior pm = dep[c / 54 % 2], pf = beh[c / 108 % 3];
		struct forecast_host h = host(nat ? NAT_SYMMETRIC : NAT_OPEN, nat, m, f, al,
		                              "198.51.100.1");
		struct forecast_host ps = host(NAT_SYMMETRIC, 1, pm, pf, PORTS_SEQUENTIAL,
		                               "203.0.113.9");
		struct forecast_host pr = ps;

		pr.allocation = PORTS_RANDOM;
		forecast_pair(&h, &ps, &seq);
		forecast_pair(&h, &pr, &rnd);
		cr_expect(seq.path != FORECAST_UNKNOWN && rnd.path != FORECAST_UNKNOWN);
		cr_expect(rank(seq.path) <= rank(rnd.path),
		    "nat %d, %s/%s/%s against %s/%s: sequential %s, random %s (%s)", nat,
		    nat_behavior_word(m), nat_behavior_word(f), ports_alloc_word(al),
		    nat_behavior_word(pm), nat_behavior_word(pf), forecast_path_word(seq.path),
		    forecast_path_word(rnd.path), seq.why);
		n++;
	}
	cr_expect_eq(n, 2 * 3 * 3 * 3 * 2 * 3);
}

/*
 * Every pair of the two-site lab's NATs (tests/lab/pair.sh), each as
 * natcheck's --json describes it there, against what a real punch
 * between them found (tests/lab/README.md has the matrix): D direct, P
 * only with port prediction, R relay.  Both orders must agree.
 */
#define NLAB 9

static struct forecast_host
lab_host(size_t i, const char *ip)
{
	struct forecast_host h;

	switch (i) {
	case 0: return OPEN(ip);
	case 1: return FULL(ip);
	case 2: return REST(ip);
	case 3: return PREST(ip);
	case 4: return SYMRND(ip);
	case 5:
		h = SYMSEQ(ip);
		h.has_delta = 1;
		h.delta = 1;
		return h;
	case 6: return host(NAT_SYMMETRIC, 1, AD, AD, PORTS_PRESERVING, ip);
	case 7: return FW(ip);
	default: return BLOCKED;
	}
}

Test(forecast, every_pair_of_the_lab_as_the_punch_found)
{
	static const char *const names[NLAB] = {
		"open", "full-cone", "restricted-cone", "port-restricted-cone", "symmetric",
		"symmetric-sequential", "address-dependent-mapping", "symmetric-udp-firewall",
		"udp-blocked"
	};
	/* Row: site a; column: site b; upper triangle, as pair.sh runs them. */
	static const char *const punch[NLAB] = {
		"DDDDDDDDR",
		" DDDDDDDR",
		"  DDDDRDR",
		"   DRPRDR",
		"    RRRRR",
		"     PRPR",
		"      RRR",
		"       DR",
		"        R",
	};
	struct forecast_pair ab, ba;

	for (size_t i = 0; i < NLAB; i++)
		for (size_t k = i; k < NLAB; k++) {
			struct forecast_host a = lab_host(i, "198.51.100.1");
			struct forecast_host b = lab_host(k, "203.0.113.129");
			enum forecast_path want = punch[i][k] == 'D' ? FORECAST_DIRECT :
			    punch[i][k] == 'P' ? FORECAST_DIRECT_PREDICT : FORECAST_RELAY;

			if (i == 0 || i == 7)
				snprintf(a.public_ip, sizeof(a.public_ip), "192.0.2.10");
			if (k == 0 || k == 7)
				snprintf(b.public_ip, sizeof(b.public_ip), "192.0.2.138");
			forecast_pair(&a, &b, &ab);
			forecast_pair(&b, &a, &ba);
			cr_expect_eq(ab.path, want, "%s x %s: %s, the punch %c (%s)", names[i], names[k],
			    forecast_path_word(ab.path), punch[i][k], ab.why);
			cr_expect_eq(ba.path, ab.path, "%s x %s: not symmetric", names[i], names[k]);
			cr_expect_eq(ba.predict_a, ab.predict_b, "%s x %s", names[i], names[k]);
			cr_expect_eq(ba.predict_b, ab.predict_a, "%s x %s", names[i], names[k]);
			cr_expect_eq(ba.first, ab.first == FORECAST_FIRST_A ? FORECAST_FIRST_B :
			    ab.first == FORECAST_FIRST_B ? FORECAST_FIRST_A : ab.first,
			    "%s x %s: who sends first", names[i], names[k]);
		}
}

/* No reason is cut short, with the longest names (forecast_classes'). */
Test(forecast, reasons_fit)
{
	struct forecast_class c[FORECAST_NCLASSES];

	for (size_t i = 0; i < NLAB; i++) {
		struct forecast_host self = lab_host(i, "198.51.100.1");

		forecast_classes(&self, c);
		for (size_t k = 0; k < FORECAST_NCLASSES; k++)
			cr_expect_lt(strlen(c[k].pair.why), FORECAST_WHY_LEN - 1, "%zu x %s: %s", i,
			    c[k].name, c[k].pair.why);
	}
}

/* The README's first run: an open host reaches every class but a blocked
 * one directly, a sequential symmetric NAT included. */
Test(forecast, classes_for_an_open_host)
{
	struct forecast_host self = OPEN("192.0.2.10");
	struct forecast_class c[FORECAST_NCLASSES];

	forecast_classes(&self, c);
	for (size_t i = 0; i < FORECAST_NCLASSES; i++)
		cr_expect_eq(c[i].pair.path, i + 1 < FORECAST_NCLASSES ? FORECAST_DIRECT : FORECAST_RELAY,
		    "%s: %s", c[i].name, forecast_path_word(c[i].pair.path));
	cr_expect_str_eq(c[4].name, "symmetric-sequential");
}

Test(forecast, blocked_needs_a_tcp_relay)
{
	pair(OPEN("198.51.100.1"), BLOCKED);
	cr_expect_eq(o.path, FORECAST_RELAY);
	cr_expect(strstr(o.why, "TCP") != NULL);
}

Test(forecast, unknown_behaviour_is_unknown)
{
	pair(host(NAT_UNKNOWN, 1, UNK, APD, PORTS_UNKNOWN, "198.51.100.1"), PREST("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_UNKNOWN);
	/* symmetric with too few samples to know the allocation */
	pair(host(NAT_SYMMETRIC, 1, APD, APD, PORTS_UNKNOWN, "198.51.100.1"),
	    PREST("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_UNKNOWN);
	/* the filter that decides is unknown */
	pair(host(NAT_UNKNOWN, 1, EI, UNK, PORTS_PRESERVING, "198.51.100.1"),
	    SYMRND("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_UNKNOWN);
}

Test(forecast, same_public_address_depends_on_hairpinning)
{
	struct forecast_host a = PREST("198.51.100.1"), b = PREST("198.51.100.1");

	pair(a, b);
	cr_expect_eq(o.path, FORECAST_UNKNOWN, "hairpinning unknown");
	a.hairpinning = b.hairpinning = 0;
	pair(a, b);
	cr_expect_eq(o.path, FORECAST_UNKNOWN);
	cr_expect(strstr(o.why, "does not") != NULL);
	a.hairpinning = b.hairpinning = 1;
	pair(a, b);
	cr_expect_eq(o.path, FORECAST_DIRECT);
}

Test(forecast, classes_for_a_port_restricted_cone)
{
	struct forecast_host self = PREST("198.51.100.1");
	struct forecast_class c[FORECAST_NCLASSES];
	static const enum forecast_path want[FORECAST_NCLASSES] = {
		FORECAST_DIRECT, FORECAST_DIRECT, FORECAST_DIRECT, FORECAST_DIRECT,
		FORECAST_DIRECT_PREDICT, FORECAST_RELAY, FORECAST_RELAY
	};

	forecast_classes(&self, c);
	for (size_t i = 0; i < FORECAST_NCLASSES; i++)
		cr_expect_eq(c[i].pair.path, want[i], "%s: %s", c[i].name,
		    forecast_path_word(c[i].pair.path));
	cr_expect_str_eq(c[5].name, "symmetric-random");
}

Test(forecast, exit_codes_are_distinct)
{
	cr_expect_eq(forecast_exit_code(FORECAST_DIRECT), 0);
	cr_expect_eq(forecast_exit_code(FORECAST_DIRECT_PREDICT), FORECAST_EXIT_PREDICT);
	cr_expect_eq(forecast_exit_code(FORECAST_RELAY), FORECAST_EXIT_RELAY);
	cr_expect_eq(forecast_exit_code(FORECAST_UNKNOWN), FORECAST_EXIT_UNKNOWN);
	/* None is a detection's status (natcheck.1, EXIT STATUS): 1 error,
	 * 2 usage, 3 a plugin's usage error, 10 to 16 the types. */
	const int taken[] = { 1, 2, 3, 10, 11, 12, 13, 14, 15, 16 };
	const int ours[] = { FORECAST_EXIT_PREDICT, FORECAST_EXIT_RELAY, FORECAST_EXIT_UNKNOWN };

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		for (size_t k = 0; k < sizeof(taken) / sizeof(taken[0]); k++)
			cr_expect_neq(ours[i], taken[k], "--pair status %d is taken", ours[i]);
}

/* ------------------------------------------------ the reader */

static struct forecast_host h;
static char err[160];

static int
parse(const char *text)
{
	size_t n = strlen(text);
	char *copy = malloc(n ? n : 1);     /* exactly n bytes: no terminator */
	int rc;

	cr_assert(copy != NULL);
	memcpy(copy, text, n);
	rc = forecast_parse(copy, n, &h, err, sizeof(err));
	free(copy);
	return rc;
}

#define GOOD "{\"type\":\"symmetric\",\"name\":\"Symmetric\",\"nat\":true," \
	"\"mapping\":\"address-and-port-dependent\",\"filtering\":\"address-dependent\"," \
	"\"hairpinning\":null,\"local\":\"192.0.2.10:40001\",\"mapped\":\"198.51.100.1:30000\"," \
	"\"tests\":[{\"name\":\"binding\",\"rtt_ms\":1.5e2,\"x\":[-0.5,{}]}]," \
	"\"ports\":{\"preservation\":false,\"parity\":null,\"allocation\":\"sequential\"," \
	"\"delta\":-2,\"samples\":5},\"warnings\":[\"a \\\"quoted\\\" \\u00e9 word\"]}"

Test(forecast_parse, a_full_result)
{
	cr_assert_eq(parse(GOOD), 0, "%s", err);
	cr_expect_eq(h.type, NAT_SYMMETRIC);
	cr_expect_eq(h.nat, 1);
	cr_expect_eq(h.mapping, APD);
	cr_expect_eq(h.filtering, AD);
	cr_expect_eq(h.hairpinning, -1);
	cr_expect_eq(h.allocation, PORTS_SEQUENTIAL);
	cr_expect(h.has_delta);
	cr_expect_eq(h.delta, -2);
	cr_expect_str_eq(h.public_ip, "198.51.100.1");
}

Test(forecast_parse, older_result_without_ports_and_ipv6)
{
	cr_assert_eq(parse("{\"type\":\"full-cone\",\"nat\":true,\"mapping\":"
	    "\"endpoint-independent\",\"filtering\":\"endpoint-independent\","
	    "\"mapped\":\"[2001:db8::5]:4000\"}"), 0, "%s", err);
	cr_expect_eq(h.allocation, PORTS_UNKNOWN);
	cr_expect_str_eq(h.public_ip, "2001:db8::5");
}

struct bad {
	const char *name, *text;
};

Test(forecast_parse, rejects)
{
	static const struct bad cases[] = {
		{ "empty", "" },
		{ "not an object", "[1,2]" },
		{ "no type", "{\"nat\":true}" },
		{ "unknown type", "{\"type\":\"cone\"}" },
		{ "type not a string", "{\"type\":7}" },
		{ "duplicate type", "{\"type\":\"open\",\"type\":\"symmetric\"}" },
		{ "unterminated", "{\"type\":\"open\"" },
		{ "unterminated string", "{\"type\":\"open" },
		{ "trailing comma", "{\"type\":\"open\",}" },
		{ "trailing text", "{\"type\":\"open\"} x" },
		{ "two objects", "{\"type\":\"open\"}{}" },
		{ "bad literal", "{\"type\":\"open\",\"nat\":tru}" },
		{ "nat is a string", "{\"type\":\"open\",\"nat\":\"yes\"}" },
		{ "bad escape", "{\"type\":\"op\\x\"}" },
		{ "short unicode escape", "{\"type\":\"\\u00\"}" },
		{ "control char", "{\"type\":\"op\nen\"}" },
		{ "bad number", "{\"type\":\"open\",\"x\":01}" },
		{ "bare minus", "{\"type\":\"open\",\"x\":-}" },
		{ "bad exponent", "{\"type\":\"open\",\"x\":1e}" },
		{ "unknown mapping", "{\"type\":\"open\",\"mapping\":\"weird\"}" },
		{ "ports not an object", "{\"type\":\"open\",\"ports\":[]}" },
		{ "unknown allocation", "{\"type\":\"open\",\"ports\":{\"allocation\":\"x\"}}" },
		{ "fractional delta", "{\"type\":\"open\",\"ports\":{\"delta\":1.5}}" },
		{ "huge delta", "{\"type\":\"open\",\"ports\":{\"delta\":99999}}" },
		{ "long delta", "{\"type\":\"open\",\"ports\":{\"delta\":1000000}}" },
		{ "missing colon", "{\"type\" \"open\"}" },
		{ "deep nesting", "{\"type\":\"open\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		  "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(parse(cases[i].text), -1, "%s: accepted", cases[i].name);
		cr_expect(err[0] != '\0', "%s: no reason given", cases[i].name);
	}
}

Test(forecast_parse, accepts_nesting_up_to_the_cap)
{
	cr_expect_eq(parse("{\"type\":\"open\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]"
	    "]]]]]]]]]]]]]]]]]]]]}"), 0, "%s", err);
}

Test(forecast_parse, too_long)
{
	cr_expect_eq(forecast_parse("{}", FORECAST_JSON_MAX + 1, &h, err, sizeof(err)), -1);
}
