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

Test(forecast, port_preserving_symmetric_is_addressable)
{
	pair(SYMPRES("198.51.100.1"), PREST("203.0.113.9"));
	cr_expect_eq(o.path, FORECAST_DIRECT);
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
