/*
 * test_nat.c - verdicts: the engine (probe.c) wired to the real server
 * handler (server_handle) through the in-memory NAT model (natsim), then
 * nat_classify().  One case per NAT behaviour and per server personality.
 *
 * Everything runs in virtual time and is deterministic per seed.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "nat.h"
#include "natsim.h"
#include "probe.h"
#include "report.h"

static struct natsim sim;
static struct probe pr;
static struct probe_config cfg;
static struct nat_verdict v;

static uint64_t
run(void)
{
	uint64_t ms = natsim_run(&sim, &cfg, &pr);

	cr_assert(pr.done, "the engine did not finish");
	nat_classify(&pr, &v);
	return ms;
}

static int
has(enum nat_code code)
{
	return nat_find(&v, code) != NULL;
}

/* A finding with this code whose address slot `slot` is `ip:port`. */
static int
has_at(enum nat_code code, int slot, const char *ip, uint16_t port)
{
	struct stun_addr a = natsim_addr(ip, port);

	for (size_t i = 0; i < v.nfindings; i++)
		if (v.findings[i].code == code && memcmp(&v.findings[i].addr[slot], &a, sizeof(a)) == 0)
			return 1;
	return 0;
}

static void
dump(void)
{
	fprintf(stderr, "type %s mapping %s filtering %s hairpin %d nat %d\n",
	    nat_type_word(v.type), nat_behavior_word(v.mapping), nat_behavior_word(v.filtering),
	    v.hairpinning, v.nat);
	for (size_t i = 0; i < pr.ntests; i++)
		fprintf(stderr, "  %-24s %-14s sent %zu wrong %u err %d\n",
		    probe_kind_name(pr.tests[i].kind), probe_result_name(pr.tests[i].result),
		    pr.tests[i].nsent, pr.tests[i].wrong_source, pr.tests[i].error_code);
	for (size_t i = 0; i < v.nfindings; i++) {
		char text[REPORT_FINDING_LEN];

		fprintf(stderr, "  %s: %s\n", report_code_word(v.findings[i].code),
		    report_finding_text(&v.findings[i], text, sizeof(text)));
	}
}

#define EXPECT(t, m, f, h) do { \
	if (v.type != (t) || v.mapping != (m) || v.filtering != (f) || v.hairpinning != (h)) \
		dump(); \
	cr_expect_eq(v.type, (t), "type %s", nat_type_word(v.type)); \
	cr_expect_eq(v.mapping, (m), "mapping %s", nat_behavior_word(v.mapping)); \
	cr_expect_eq(v.filtering, (f), "filtering %s", nat_behavior_word(v.filtering)); \
	cr_expect_eq(v.hairpinning, (h), "hairpinning %d", v.hairpinning); \
} while (0)

#define EI NAT_BEH_ENDPOINT_INDEPENDENT
#define AD NAT_BEH_ADDRESS_DEPENDENT
#define APD NAT_BEH_ADDRESS_PORT_DEPENDENT
#define UNK NAT_BEH_UNKNOWN

/* ------------------------------------------------ mapping x filtering x hairpin */

struct combo {
	enum natsim_beh m, f;
	int      hairpin;
	enum nat_type type;
	enum nat_behavior mapping, filtering;
	int      hairpinning;
};

ParameterizedTestParameters(nat, matrix)
{
	/* Hairpinning: an arrival is proof (1); with endpoint-independent
	 * mapping silence means no (0); through destination-dependent mapping
	 * silence proves nothing (-1): the hairpinned datagram comes from a
	 * new mapping the target's filter has never seen. */
	static struct combo c[] = {
		{ NATSIM_EI, NATSIM_EI, 1, NAT_FULL_CONE, EI, EI, 1 },
		{ NATSIM_EI, NATSIM_EI, 0, NAT_FULL_CONE, EI, EI, 0 },
		{ NATSIM_EI, NATSIM_AD, 1, NAT_RESTRICTED_CONE, EI, AD, 1 },
		{ NATSIM_EI, NATSIM_AD, 0, NAT_RESTRICTED_CONE, EI, AD, 0 },
		{ NATSIM_EI, NATSIM_APD, 1, NAT_PORT_RESTRICTED_CONE, EI, APD, 1 },
		{ NATSIM_EI, NATSIM_APD, 0, NAT_PORT_RESTRICTED_CONE, EI, APD, 0 },
		{ NATSIM_AD, NATSIM_EI, 1, NAT_SYMMETRIC, AD, EI, 1 },
		{ NATSIM_AD, NATSIM_EI, 0, NAT_SYMMETRIC, AD, EI, -1 },
		{ NATSIM_AD, NATSIM_AD, 1, NAT_SYMMETRIC, AD, AD, -1 },
		{ NATSIM_AD, NATSIM_AD, 0, NAT_SYMMETRIC, AD, AD, -1 },
		{ NATSIM_AD, NATSIM_APD, 1, NAT_SYMMETRIC, AD, APD, -1 },
		{ NATSIM_AD, NATSIM_APD, 0, NAT_SYMMETRIC, AD, APD, -1 },
		{ NATSIM_APD, NATSIM_EI, 1, NAT_SYMMETRIC, APD, EI, 1 },
		{ NATSIM_APD, NATSIM_EI, 0, NAT_SYMMETRIC, APD, EI, -1 },
		{ NATSIM_APD, NATSIM_AD, 1, NAT_SYMMETRIC, APD, AD, -1 },
		{ NATSIM_APD, NATSIM_AD, 0, NAT_SYMMETRIC, APD, AD, -1 },
		{ NATSIM_APD, NATSIM_APD, 1, NAT_SYMMETRIC, APD, APD, -1 },
		{ NATSIM_APD, NATSIM_APD, 0, NAT_SYMMETRIC, APD, APD, -1 },
	};

	return cr_make_param_array(struct combo, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct combo *c, nat, matrix)
{
	natsim_init(&sim, c->m, c->f, c->hairpin, 1);
	natsim_config(&sim, &cfg);
	run();
	EXPECT(c->type, c->mapping, c->filtering, c->hairpinning);
	cr_expect_eq(v.nat, 1);
	cr_expect(v.has_mapped && v.has_alternate);
	/* The same verdict with the RFC 3489-only server. */
	natsim_init(&sim, c->m, c->f, c->hairpin, 2);
	sim.personality = NATSIM_SRV_RFC3489;
	natsim_config(&sim, &cfg);
	run();
	EXPECT(c->type, c->mapping, c->filtering, c->hairpinning);
	cr_expect_eq(pr.tests[0].other_rfc5780, 0, "the alternate came as CHANGED-ADDRESS");
	cr_expect(pr.tests[0].has_other);
}

/* ------------------------------------------------ no NAT */

Test(nat, open_internet)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 3);
	sim.mode = NATSIM_OPEN;
	natsim_config(&sim, &cfg);
	run();
	EXPECT(NAT_OPEN, EI, EI, -1);
	cr_expect_eq(v.nat, 0);
	cr_expect_eq(probe_find(&pr, PROBE_MAP_TO_HAIR, 0)->result, PROBE_NOT_RUN,
	    "no hairpin test without a NAT");
}

Test(nat, firewall_address_dependent)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 4);
	sim.mode = NATSIM_FIREWALL;
	natsim_config(&sim, &cfg);
	run();
	EXPECT(NAT_SYMMETRIC_FIREWALL, EI, AD, -1);
	cr_expect_eq(v.nat, 0);
}

Test(nat, firewall_address_port_dependent)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 5);
	sim.mode = NATSIM_FIREWALL;
	natsim_config(&sim, &cfg);
	run();
	EXPECT(NAT_SYMMETRIC_FIREWALL, EI, APD, -1);
	cr_expect_eq(v.nat, 0);
}

Test(nat, firewall_rfc3489_server)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 6);
	sim.mode = NATSIM_FIREWALL;
	sim.personality = NATSIM_SRV_RFC3489;
	natsim_config(&sim, &cfg);
	run();
	EXPECT(NAT_SYMMETRIC_FIREWALL, EI, APD, -1);
}

Test(nat, udp_blocked_ends_at_timeout)
{
	uint64_t ms;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 7);
	sim.mode = NATSIM_BLOCKED;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 3000;
	ms = run();
	EXPECT(NAT_UDP_BLOCKED, UNK, UNK, -1);
	cr_expect_eq(v.nat, -1);
	cr_expect_eq(ms, 3000);
	cr_expect_eq(pr.tests[0].result, PROBE_TIMEOUT);
	cr_expect(has(NAT_F_NO_RESPONSE));
	cr_expect_eq(v.unreachable, 0);
}

/* ------------------------------------------------ servers without an alternate */

Test(nat, no_alternate_single_server)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 8);
	sim.personality = NATSIM_SRV_NO_ALT;
	natsim_config(&sim, &cfg);
	run();
	EXPECT(NAT_UNKNOWN, UNK, UNK, -1);
	cr_expect_eq(v.nat, 1);
	cr_expect(has_at(NAT_F_NO_ALTERNATE, 0, "203.0.113.1", 3478));
	cr_expect_eq(pr.have_alt, 0);
	cr_expect_eq(pr.primary, -1);
	cr_expect_eq(probe_find(&pr, PROBE_FILTER_IP_PORT, 0)->result, PROBE_ERROR_RESPONSE);
	cr_expect_eq(probe_find(&pr, PROBE_FILTER_IP_PORT, 0)->error_code, 420);
}

Test(nat, no_alternate_two_servers_same_mapping)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 9);
	sim.personality = NATSIM_SRV_NO_ALT;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	EXPECT(NAT_UNKNOWN, EI, UNK, 0);
	cr_assert(has(NAT_F_MAPPING_ACROSS_SERVERS));
	cr_expect_eq(nat_find(&v, NAT_F_MAPPING_ACROSS_SERVERS)->count[0], 2);
	cr_expect(has(NAT_F_FILTERING_UNTESTABLE));
}

Test(nat, no_alternate_two_servers_different_mapping)
{
	natsim_init(&sim, NATSIM_APD, NATSIM_APD, 0, 10);
	sim.personality = NATSIM_SRV_NO_ALT;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	EXPECT(NAT_SYMMETRIC, UNK, UNK, -1);
	cr_expect(has_at(NAT_F_MAPPING_VARIES_SERVERS, 1, "203.0.113.1", 3478));
	cr_expect(has_at(NAT_F_MAPPING_VARIES_SERVERS, 3, "203.0.113.7", 3478));
	cr_expect(has(NAT_F_FILTERING_UNTESTABLE));
}

Test(nat, first_server_without_alternate_second_with)
{
	/* Server 0 is the plain one; the full tests move to server 1 and a
	 * fresh filtering socket. */
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 1, 11);
	natsim_config(&sim, &cfg);
	cfg.servers[0] = sim.srv2.ep[0];
	cfg.servers[1] = sim.srv.ep[0];
	cfg.nservers = 2;
	run();
	EXPECT(NAT_RESTRICTED_CONE, EI, AD, 1);
	cr_expect_eq(pr.primary, 1);
	cr_expect(has_at(NAT_F_OTHER_SERVER_USED, 1, "203.0.113.1", 3478));
	cr_expect_eq(nat_find(&v, NAT_F_OTHER_SERVER_USED)->value, 1, "server 0 answered");
	cr_expect_gt(natsim_sent_to(&sim, PROBE_SOCK_FILTER2, &sim.srv.ep[0]), 0);
	cr_expect_eq(natsim_sent_to(&sim, PROBE_SOCK_FILTER2, NULL),
	    natsim_sent_to(&sim, PROBE_SOCK_FILTER2, &sim.srv.ep[0]),
	    "FILTER2 sent only to the primary's primary endpoint");
}

Test(nat, two_servers_with_alternate_agree)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 1, 12);
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	EXPECT(NAT_PORT_RESTRICTED_CONE, EI, APD, 1);
	cr_expect_eq(pr.primary, 0);
}

/* ------------------------------------------------ servers that lie or break */

static void
never_cone_or_firewall(void)
{
	cr_expect_neq(v.type, NAT_FULL_CONE);
	cr_expect_neq(v.type, NAT_SYMMETRIC_FIREWALL);
	cr_expect_neq(v.type, NAT_OPEN);
}

struct liar {
	enum natsim_mode mode;
	enum natsim_beh m, f;
	enum natsim_personality pers;
	enum nat_type type;
	enum nat_behavior mapping;
	enum nat_code code;
};

ParameterizedTestParameters(nat, lying_server)
{
	/*
	 * A server that ignores CHANGE-REQUEST answers the filtering socket
	 * from the primary address, which any NAT lets in: believed, that
	 * would read "full cone".  One that answers from another wrong
	 * endpoint is caught wherever its answer gets through the NAT.
	 */
	static struct liar c[] = {
		{ NATSIM_NAT, NATSIM_EI, NATSIM_EI, NATSIM_SRV_IGNORE_CHANGE, NAT_UNKNOWN, EI,
		  NAT_F_CHANGE_IGNORED },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, NATSIM_SRV_IGNORE_CHANGE, NAT_UNKNOWN, EI,
		  NAT_F_CHANGE_IGNORED },
		{ NATSIM_NAT, NATSIM_APD, NATSIM_APD, NATSIM_SRV_IGNORE_CHANGE, NAT_SYMMETRIC, APD,
		  NAT_F_CHANGE_IGNORED },
		{ NATSIM_OPEN, NATSIM_EI, NATSIM_EI, NATSIM_SRV_IGNORE_CHANGE, NAT_UNKNOWN, EI,
		  NAT_F_CHANGE_IGNORED },
		{ NATSIM_FIREWALL, NATSIM_EI, NATSIM_APD, NATSIM_SRV_IGNORE_CHANGE, NAT_UNKNOWN, EI,
		  NAT_F_CHANGE_IGNORED },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_EI, NATSIM_SRV_WRONG_CHANGE, NAT_UNKNOWN, EI,
		  NAT_F_CHANGE_WRONG_SOURCE },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_AD, NATSIM_SRV_WRONG_CHANGE, NAT_UNKNOWN, EI,
		  NAT_F_CHANGE_WRONG_SOURCE },
		{ NATSIM_NAT, NATSIM_EI, NATSIM_APD, NATSIM_SRV_WRONG_CHANGE, NAT_UNKNOWN, EI,
		  NAT_F_CHANGE_WRONG_SOURCE },
		{ NATSIM_NAT, NATSIM_AD, NATSIM_APD, NATSIM_SRV_WRONG_CHANGE, NAT_SYMMETRIC, AD,
		  NAT_F_CHANGE_WRONG_SOURCE },
		{ NATSIM_OPEN, NATSIM_EI, NATSIM_EI, NATSIM_SRV_WRONG_CHANGE, NAT_UNKNOWN, EI,
		  NAT_F_CHANGE_WRONG_SOURCE },
		{ NATSIM_FIREWALL, NATSIM_EI, NATSIM_AD, NATSIM_SRV_WRONG_CHANGE, NAT_UNKNOWN, EI,
		  NAT_F_CHANGE_WRONG_SOURCE },
	};

	return cr_make_param_array(struct liar, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct liar *c, nat, lying_server)
{
	natsim_init(&sim, c->m, c->f, 0, 13);
	sim.mode = c->mode;
	sim.personality = c->pers;
	natsim_config(&sim, &cfg);
	run();
	if (v.type != c->type || v.filtering != UNK || !has(c->code))
		dump();
	cr_expect_eq(v.type, c->type, "type %s", nat_type_word(v.type));
	cr_expect_eq(v.mapping, c->mapping, "mapping %s", nat_behavior_word(v.mapping));
	cr_expect_eq(v.filtering, UNK, "filtering %s", nat_behavior_word(v.filtering));
	cr_expect(has(c->code), "finding %s", report_code_word(c->code));
	cr_expect(has(NAT_F_FILTERING_UNTRUSTED));
	never_cone_or_firewall();
}

Test(nat, server_wrong_only_on_its_alternate_address)
{
	/* coturn answers a change of IP received on its alternate address from
	 * that same address, and gets it right on the primary.  The filter
	 * tests and their checks all go to the primary, so the quirk never
	 * shows and every verdict stays exact (found in the NAT lab). */
	static const struct { enum natsim_beh f; enum nat_type type; } c[] = {
		{ NATSIM_EI, NAT_FULL_CONE },
		{ NATSIM_AD, NAT_RESTRICTED_CONE },
		{ NATSIM_APD, NAT_PORT_RESTRICTED_CONE },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		natsim_init(&sim, NATSIM_EI, c[i].f, 0, 40 + (unsigned)i);
		sim.personality = NATSIM_SRV_ALT_NO_CHANGE_IP;
		natsim_config(&sim, &cfg);
		run();
		cr_expect_eq(v.type, c[i].type, "filtering %d: type %s", (int)c[i].f,
		    nat_type_word(v.type));
		cr_expect_eq(v.filtering, (enum nat_behavior)(c[i].f == NATSIM_EI ? EI :
		    c[i].f == NATSIM_AD ? AD : APD), "filtering %s", nat_behavior_word(v.filtering));
		cr_expect_eq(v.nfindings, 0, "%zu findings, first: %s", v.nfindings,
		    v.nfindings ? report_code_word(v.findings[0].code) : "");
	}
}

Test(nat, wrong_change_hidden_behind_apdm_apdf)
{
	/* Address-and-port-dependent mapping and filtering hide every wrong
	 * answer: nothing refutes the server, nothing verifies it.  The type
	 * is still right (symmetric, from the mapping tests) and the
	 * filtering comes with the finding that it was not verified. */
	natsim_init(&sim, NATSIM_APD, NATSIM_APD, 0, 14);
	sim.personality = NATSIM_SRV_WRONG_CHANGE;
	natsim_config(&sim, &cfg);
	run();
	EXPECT(NAT_SYMMETRIC, APD, APD, -1);
	cr_expect(has(NAT_F_CHANGE_UNVERIFIED));
}

Test(nat, garbage_server_is_not_udp_blocked)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 15);
	sim.personality = NATSIM_SRV_GARBAGE;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 2000;
	run();
	EXPECT(NAT_UNKNOWN, UNK, UNK, -1);
	cr_expect_gt(pr.stats.malformed, 0);
	cr_assert(has(NAT_F_NO_VALID_ANSWER));
	cr_expect_eq(nat_find(&v, NAT_F_NO_VALID_ANSWER)->count[4], pr.stats.malformed);
	cr_expect_eq(nat_find(&v, NAT_F_NO_VALID_ANSWER)->count[0], pr.stats.received);
	cr_expect_neq(nat_find(&v, NAT_F_NO_VALID_ANSWER)->value, STUN_OK, "the decoder's reason");
	cr_expect(!has(NAT_F_NO_RESPONSE));
}

Test(nat, primary_endpoint_only)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 1, 16);
	sim.personality = NATSIM_SRV_PRIMARY_ONLY;
	natsim_config(&sim, &cfg);
	run();
	/* Known: there is a NAT, its mapped address, and it hairpins. */
	EXPECT(NAT_UNKNOWN, UNK, UNK, 1);
	cr_expect_eq(v.nat, 1);
	cr_expect(v.has_mapped);
	cr_expect(has_at(NAT_F_NO_ANSWER_FROM, 0, "203.0.113.2", 3478));
	cr_expect(has_at(NAT_F_NO_ANSWER_FROM, 0, "203.0.113.2", 3479));
	cr_expect(has(NAT_F_MAPPING_NO_ALT_ANSWER));
	cr_expect(has(NAT_F_FILTERING_UNVERIFIED));
}

Test(nat, second_server_down)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 17);
	sim.second_server_up = 0;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	EXPECT(NAT_RESTRICTED_CONE, EI, AD, 0);
	cr_expect(has_at(NAT_F_NO_ANSWER_FROM, 0, "203.0.113.7", 3478));
}

Test(nat, server_down_is_blocked)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 18);
	sim.personality = NATSIM_SRV_DOWN;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 1500;
	run();
	EXPECT(NAT_UDP_BLOCKED, UNK, UNK, -1);
	cr_expect(has(NAT_F_NO_RESPONSE));
	cr_expect_eq(v.nfindings, 1);
}

/* ------------------------------------------------ answers that are not answers */

ParameterizedTestParameters(nat, invalid_answers_are_not_udp_blocked)
{
	static enum natsim_personality c[] = {
		NATSIM_SRV_ECHO, NATSIM_SRV_WRONG_TID, NATSIM_SRV_INDICATION, NATSIM_SRV_GARBAGE,
	};

	return cr_make_param_array(enum natsim_personality, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(enum natsim_personality *pers, nat, invalid_answers_are_not_udp_blocked)
{
	/* Twenty-odd datagrams come back, none an answer: the server is there,
	 * so the path does not block UDP; what it sent is named. */
	const struct nat_finding *f;
	int slot = *pers == NATSIM_SRV_ECHO ? 1 : *pers == NATSIM_SRV_WRONG_TID ? 2 :
	    *pers == NATSIM_SRV_INDICATION ? 3 : 4;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 60);
	sim.personality = *pers;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 2000;
	run();
	if (v.type != NAT_UNKNOWN || !has(NAT_F_NO_VALID_ANSWER))
		dump();
	EXPECT(NAT_UNKNOWN, UNK, UNK, -1);
	cr_expect_eq(v.unreachable, 0);
	cr_expect(!has(NAT_F_NO_RESPONSE));
	cr_assert_gt(pr.stats.received, 10);
	f = nat_find(&v, NAT_F_NO_VALID_ANSWER);
	cr_assert_not_null(f);
	cr_expect_eq(f->count[0], pr.stats.received);
	cr_expect_eq(f->count[slot], pr.stats.received, "every datagram in slot %d", slot);
	cr_expect_eq(f->count[1] + f->count[2] + f->count[3] + f->count[4] + f->count[5],
	    pr.stats.received);
}

/* ------------------------------------------------ untrusted alternates */

struct fake_alt {
	char     ip[40];
	uint16_t port;
	int      family6;
	enum probe_addr_problem why;
};

ParameterizedTestParameters(nat, untrusted_alternate_is_never_sent_to)
{
	static struct fake_alt c[] = {
		{ "224.0.0.251", 5353, 0, PROBE_ADDR_MULTICAST },
		{ "239.255.255.250", 1900, 0, PROBE_ADDR_MULTICAST },
		{ "255.255.255.255", 3479, 0, PROBE_ADDR_BROADCAST },
		{ "0.0.0.0", 3479, 0, PROBE_ADDR_UNSPECIFIED },
		{ "203.0.113.2", 0, 0, PROBE_ADDR_PORT_ZERO },
		{ "127.0.0.1", 3479, 0, PROBE_ADDR_LOOPBACK },
		{ "192.0.2.10", 3479, 0, PROBE_ADDR_LOCAL },
		{ "2001:db8::2", 3479, 1, PROBE_ADDR_FAMILY },
		/* Another IP but the same port; the same IP and another port is a
		 * single-address server (single_address_* below). */
		{ "203.0.113.2", 3478, 0, PROBE_ADDR_NOT_DISTINCT },
	};

	return cr_make_param_array(struct fake_alt, c, sizeof(c) / sizeof(c[0]));
}

static struct stun_addr
addr6(const char *ip, uint16_t port)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 6;
	cr_assert_eq(inet_pton(AF_INET6, ip, a.addr), 1);
	a.port = port;
	return a;
}

ParameterizedTest(struct fake_alt *c, nat, untrusted_alternate_is_never_sent_to)
{
	struct stun_addr fake = c->family6 ? addr6(c->ip, c->port) : natsim_addr(c->ip, c->port);
	const struct nat_finding *f;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 1, 61);
	sim.personality = NATSIM_SRV_FAKE_ALT;
	sim.fake_alt = fake;
	natsim_config(&sim, &cfg);
	run();
	if (v.type != NAT_UNKNOWN)
		dump();
	cr_expect_eq(v.type, NAT_UNKNOWN, "type %s", nat_type_word(v.type));
	cr_expect_eq(pr.have_alt, 0);
	cr_expect_eq(natsim_sent_to(&sim, -1, &fake), 0, "sent to %s", c->ip);
	cr_expect_eq(probe_alt_check(&pr, &pr.tests[0]), c->why);
	if (c->why == PROBE_ADDR_NOT_DISTINCT) {
		cr_expect(has(NAT_F_ALT_NOT_DISTINCT));
	} else {
		f = nat_find(&v, NAT_F_ALT_REJECTED);
		cr_assert_not_null(f);
		cr_expect_eq(f->value, (int)c->why);
		cr_expect(memcmp(&f->addr[0], &fake, sizeof(fake)) == 0);
	}
	cr_expect(has(NAT_F_NO_USABLE_ALTERNATE));
	/* The mapping socket's own mapping is still reported. */
	cr_expect(v.has_mapped);
	cr_expect_eq(v.nat, 1);
}

Test(nat, untrusted_alternate_with_a_plain_second_server)
{
	/* Server 0 lies about its alternate; server 1 has none: the mapping
	 * is compared across the two, filtering stays unknown. */
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 62);
	sim.personality = NATSIM_SRV_FAKE_ALT;
	sim.fake_alt = natsim_addr("224.0.0.251", 5353);
	natsim_config(&sim, &cfg);
	cfg.servers[0] = sim.srv.ep[0];
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	cr_expect_eq(pr.have_alt, 0);
	cr_expect_eq(natsim_sent_to(&sim, -1, &sim.fake_alt), 0);
	cr_expect(has(NAT_F_ALT_REJECTED));
	EXPECT(NAT_UNKNOWN, EI, UNK, 0);
	cr_expect(has(NAT_F_MAPPING_ACROSS_SERVERS));
	cr_expect(has(NAT_F_FILTERING_UNTESTABLE));
}

Test(nat, address_checks_allow_a_server_on_this_host)
{
	struct probe_test t;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 63);
	natsim_config(&sim, &cfg);
	/* A server on loopback may name loopback alternates... */
	cfg.servers[0] = natsim_addr("127.0.0.1", 3478);
	for (int i = 0; i < PROBE_NSOCK; i++)
		cfg.local[i] = natsim_addr("127.0.0.1", (uint16_t)(40001 + i));
	probe_init(&pr, &cfg, 0);
	memset(&t, 0, sizeof(t));
	t.result = PROBE_ANSWERED;
	t.has_other = 1;
	t.other = natsim_addr("127.0.0.2", 3479);
	cr_expect_eq(probe_alt_check(&pr, &t), PROBE_ADDR_OK);
	t.other = natsim_addr("127.0.0.1", 3479);
	cr_expect_eq(probe_alt_check(&pr, &t), PROBE_ADDR_NOT_DISTINCT);
	/* ... a server at our own address may name another of ours ... */
	cfg.servers[0] = natsim_addr("192.0.2.10", 3478);
	for (int i = 0; i < PROBE_NSOCK; i++)
		cfg.local[i] = natsim_addr("192.0.2.10", (uint16_t)(40001 + i));
	probe_init(&pr, &cfg, 0);
	t.other = natsim_addr("192.0.2.11", 3479);
	cr_expect_eq(probe_alt_check(&pr, &t), PROBE_ADDR_OK);
	/* ... but a remote one may not name either. */
	cfg.servers[0] = natsim_addr("203.0.113.1", 3478);
	probe_init(&pr, &cfg, 0);
	t.other = natsim_addr("192.0.2.10", 3479);
	cr_expect_eq(probe_alt_check(&pr, &t), PROBE_ADDR_LOCAL);
	t.other = natsim_addr("127.0.0.2", 3479);
	cr_expect_eq(probe_alt_check(&pr, &t), PROBE_ADDR_LOOPBACK);
	t.other = natsim_addr("203.0.113.2", 3479);
	cr_expect_eq(probe_alt_check(&pr, &t), PROBE_ADDR_OK);
	t.has_other = 0;
	cr_expect_eq(probe_alt_check(&pr, &t), PROBE_ADDR_ABSENT);
	/* A mapped address is ours by definition: only the local rule is off. */
	cr_expect_eq(probe_peer_check(&pr, PROBE_SOCK_MAP, 0, &cfg.local[1]), PROBE_ADDR_OK);
	cr_expect_eq(probe_addr_check(&pr, PROBE_SOCK_MAP, 0, &cfg.local[1]), PROBE_ADDR_LOCAL);
	cr_expect_eq(probe_peer_check(&pr, PROBE_SOCK_MAP, 0, &t.other), PROBE_ADDR_OK);
	cr_expect_eq(probe_peer_check(&pr, PROBE_SOCK_MAP, 5, &t.other), PROBE_ADDR_ABSENT);
}

/* ------------------------------------------------ unsendable mapped addresses */

Test(nat, mapped_address_of_the_other_family_is_not_sent_to)
{
	struct stun_addr fake = addr6("2001:db8::1", 50000);
	const struct nat_finding *f;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 1, 64);
	sim.personality = NATSIM_SRV_FAKE_MAPPED;
	sim.fake_mapped = fake;
	natsim_config(&sim, &cfg);
	run();
	cr_expect_eq(v.hairpinning, -1, "hairpinning %d", v.hairpinning);
	f = nat_find(&v, NAT_F_HAIRPIN_UNSENDABLE);
	cr_assert_not_null(f);
	cr_expect_eq(f->value, PROBE_ADDR_FAMILY);
	cr_expect(memcmp(&f->addr[0], &fake, sizeof(fake)) == 0);
	cr_expect_eq(natsim_sent_to(&sim, -1, &fake), 0);
	cr_expect_eq(probe_find(&pr, PROBE_MAP_TO_HAIR, 0)->result, PROBE_NOT_RUN);
}

Test(nat, impossible_mapped_address_discredits_the_server)
{
	/* Every answer says the same multicast "mapping": endpoint-independent
	 * on its face, a full cone with the filtering tests.  No NAT maps to
	 * a multicast address, so none of it is believed or sent to. */
	static const char *const ip[] = { "224.0.0.251", "0.0.0.0", "255.255.255.255",
	                                   "127.0.0.1" };

	for (size_t i = 0; i < sizeof(ip) / sizeof(ip[0]); i++) {
		natsim_init(&sim, NATSIM_EI, NATSIM_EI, 1, 65);
		sim.personality = NATSIM_SRV_FAKE_MAPPED;
		sim.fake_mapped = natsim_addr(ip[i], 5353);
		natsim_config(&sim, &cfg);
		run();
		cr_expect_eq(v.type, NAT_UNKNOWN, "%s: type %s", ip[i], nat_type_word(v.type));
		cr_expect_eq(v.mapping, UNK);
		cr_expect_eq(v.hairpinning, -1);
		cr_expect_eq(v.nat, -1);
		cr_expect(has(NAT_F_MAPPED_INVALID), "%s", ip[i]);
		cr_expect_eq(natsim_sent_to(&sim, -1, &sim.fake_mapped), 0);
	}
}

Test(nat, hairpin_sends_that_never_left_prove_nothing)
{
	/* Without hairpinning the silence would read "no"; but every send to
	 * the mapped addresses failed on this host, so it is unknown. */
	static const int hairpin[] = { 0, 1 };

	for (size_t i = 0; i < 2; i++) {
		const struct nat_finding *f;

		natsim_init(&sim, NATSIM_EI, NATSIM_APD, hairpin[i], 66 + (unsigned)i);
		sim.fail_sends_to_set = 1;
		sim.fail_sends_to = sim.nat_ip;
		natsim_config(&sim, &cfg);
		run();
		cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE);
		cr_expect_eq(v.hairpinning, -1, "hairpin %d: hairpinning %d", hairpin[i],
		    v.hairpinning);
		f = nat_find(&v, NAT_F_HAIRPIN_SEND_FAILED);
		cr_assert_not_null(f);
		cr_expect_eq(f->value, PROBE_UNREACH_SEND);
		cr_expect_gt(f->count[0], 0);
		cr_expect(has(NAT_F_SEND_ERRORS));
		cr_expect_eq(nat_find(&v, NAT_F_SEND_ERRORS)->count[0], pr.stats.send_errors);
	}
}

/* ------------------------------------------------ refused servers */

Test(nat, refused_server_is_unreachable_not_blocked)
{
	uint64_t ms;
	const struct nat_finding *f;

	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 70);
	sim.personality = NATSIM_SRV_CLOSED;
	natsim_config(&sim, &cfg);
	ms = run();
	EXPECT(NAT_UNKNOWN, UNK, UNK, -1);
	cr_expect_eq(v.unreachable, 1);
	cr_expect(!has(NAT_F_NO_RESPONSE));
	f = nat_find(&v, NAT_F_NO_STUN_SERVER);
	cr_assert_not_null(f);
	cr_expect(memcmp(&f->addr[0], &sim.srv.ep[0], sizeof(f->addr[0])) == 0);
	cr_expect_eq(probe_find(&pr, PROBE_BINDING, 0)->result, PROBE_UNREACHABLE);
	cr_expect_gt(sim.icmp_sent, 0);
	cr_expect_leq(ms, 200, "decided by the ICMP errors, one round trip: %llu ms",
	    (unsigned long long)ms);
}

Test(nat, refused_first_server_the_next_takes_over)
{
	/* Server 0 refuses; server 1 (with an alternate) runs every test, and
	 * the verdict is as complete as with server 1 alone. */
	uint64_t alone, both;

	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 1, 71);
	natsim_config(&sim, &cfg);
	alone = run();
	cr_assert_eq(v.type, NAT_RESTRICTED_CONE);

	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 1, 71);
	sim.second_server_closed = 1;
	natsim_config(&sim, &cfg);
	cfg.servers[0] = sim.srv2.ep[0];
	cfg.servers[1] = sim.srv.ep[0];
	cfg.nservers = 2;
	both = run();
	EXPECT(NAT_RESTRICTED_CONE, EI, AD, 1);
	cr_expect_eq(pr.primary, 1);
	cr_expect_eq(v.unreachable, 0);
	cr_expect(has_at(NAT_F_NO_STUN_SERVER, 0, "203.0.113.7", 3478));
	cr_expect(has_at(NAT_F_OTHER_SERVER_USED, 1, "203.0.113.1", 3478));
	cr_expect_eq(nat_find(&v, NAT_F_OTHER_SERVER_USED)->value, 0);
	cr_expect_leq(both, alone + 100, "%llu ms with the refused server first, %llu alone",
	    (unsigned long long)both, (unsigned long long)alone);
}

Test(nat, refused_first_server_next_without_alternate_still_reports)
{
	/* The server that answered has no alternate: its mapping is still the
	 * reported one, and the hairpin tests move to it. */
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 1, 72);
	sim.personality = NATSIM_SRV_CLOSED;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	EXPECT(NAT_UNKNOWN, UNK, UNK, 1);
	cr_expect(v.has_mapped);
	cr_expect_eq(v.nat, 1);
	cr_expect(memcmp(&v.server, &sim.srv2.ep[0], sizeof(v.server)) == 0);
	cr_expect(has_at(NAT_F_NO_STUN_SERVER, 0, "203.0.113.1", 3478));
	cr_expect(has_at(NAT_F_NO_ALTERNATE, 0, "203.0.113.7", 3478));
	cr_expect(has(NAT_F_OTHER_SERVER_USED));
	cr_expect_eq(probe_find(&pr, PROBE_HAIR_BINDING, 1)->result, PROBE_ANSWERED);
}

Test(nat, every_server_refused_or_unsendable)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 73);
	sim.personality = NATSIM_SRV_CLOSED;
	sim.second_server_closed = 1;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	cr_expect_eq(v.type, NAT_UNKNOWN);
	cr_expect_eq(v.unreachable, 1);
	cr_expect(has_at(NAT_F_NO_STUN_SERVER, 0, "203.0.113.1", 3478));
	cr_expect(has_at(NAT_F_NO_STUN_SERVER, 0, "203.0.113.7", 3478));

	/* No datagram could leave at all (a local firewall, no route). */
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 74);
	sim.fail_sends_to_set = 1;
	sim.fail_sends_to = sim.srv.ep[0];
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 1000;
	run();
	cr_expect_eq(v.type, NAT_UNKNOWN);
	cr_expect_eq(v.unreachable, 1);
	cr_assert(has(NAT_F_UNREACHABLE));
	cr_expect_eq(nat_find(&v, NAT_F_UNREACHABLE)->value, PROBE_UNREACH_SEND);
	cr_expect_eq(nat_find(&v, NAT_F_SEND_ERRORS)->count[0], pr.stats.sent);
}

Test(nat, refused_and_silent_is_neither_blocked_nor_unreachable)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 75);
	sim.personality = NATSIM_SRV_CLOSED;
	sim.second_server_up = 0;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	cfg.timeout_ms = 1000;
	run();
	cr_expect_eq(v.type, NAT_UNKNOWN);
	cr_expect_eq(v.unreachable, 0);
	cr_expect(has_at(NAT_F_NO_STUN_SERVER, 0, "203.0.113.1", 3478));
	cr_expect(has_at(NAT_F_NO_ANSWER_FROM, 0, "203.0.113.7", 3478));
	cr_expect(!has(NAT_F_NO_RESPONSE));
}

Test(nat, pinned_port_is_a_finding)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 76);
	natsim_config(&sim, &cfg);
	cfg.pinned_port = 1;
	run();
	cr_assert(has(NAT_F_PINNED_PORT));
	cr_expect_eq(nat_find(&v, NAT_F_PINNED_PORT)->value, 40001);
	cr_expect_eq(v.findings[v.nfindings - 1].code, NAT_F_PINNED_PORT);
	/* Even when nothing came back. */
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 77);
	sim.mode = NATSIM_BLOCKED;
	natsim_config(&sim, &cfg);
	cfg.pinned_port = 1;
	cfg.timeout_ms = 500;
	run();
	cr_expect_eq(v.type, NAT_UDP_BLOCKED);
	cr_expect(has(NAT_F_PINNED_PORT));
}

/* ------------------------------------------------ names and findings */

Test(nat, words)
{
	static const struct {
		enum nat_type t;
		const char *word, *name;
	} c[] = {
		{ NAT_UNKNOWN, "unknown", "Unknown" },
		{ NAT_OPEN, "open", "Open Internet" },
		{ NAT_FULL_CONE, "full-cone", "Full Cone" },
		{ NAT_RESTRICTED_CONE, "restricted-cone", "Restricted Cone" },
		{ NAT_PORT_RESTRICTED_CONE, "port-restricted-cone", "Port Restricted Cone" },
		{ NAT_SYMMETRIC, "symmetric", "Symmetric" },
		{ NAT_SYMMETRIC_FIREWALL, "symmetric-udp-firewall", "Symmetric UDP Firewall" },
		{ NAT_UDP_BLOCKED, "udp-blocked", "UDP Blocked" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cr_expect_str_eq(nat_type_word(c[i].t), c[i].word);
		cr_expect_str_eq(nat_type_name(c[i].t), c[i].name);
	}
	cr_expect_str_eq(nat_type_word((enum nat_type)99), "unknown");
	cr_expect_str_eq(nat_behavior_word(NAT_BEH_UNKNOWN), "unknown");
	cr_expect_str_eq(nat_behavior_word(EI), "endpoint-independent");
	cr_expect_str_eq(nat_behavior_word(AD), "address-dependent");
	cr_expect_str_eq(nat_behavior_word(APD), "address-and-port-dependent");
}

Test(nat, findings_cap)
{
	memset(&v, 0, sizeof(v));
	for (int i = 0; i < 2 * NAT_MAX_FINDINGS; i++) {
		struct nat_finding *f = nat_add(&v, NAT_F_NO_ANSWER_FROM);

		if (i < NAT_MAX_FINDINGS) {
			cr_assert_not_null(f);
			f->count[0] = (unsigned)i;
		} else {
			cr_expect_null(f);
		}
	}
	cr_expect_eq(v.nfindings, NAT_MAX_FINDINGS);
	cr_expect_eq(v.findings[NAT_MAX_FINDINGS - 1].count[0], NAT_MAX_FINDINGS - 1);
	cr_expect_null(nat_find(&v, NAT_F_LOSS));
}

Test(nat, no_servers)
{
	memset(&pr, 0, sizeof(pr));
	pr.primary = -1;
	nat_classify(&pr, &v);
	cr_expect_eq(v.type, NAT_UNKNOWN);
	cr_expect_eq(v.nfindings, 1);
	cr_expect_eq(v.findings[0].code, NAT_F_NO_SERVER);
}

/* ------------------------------------------------ checking the servers (#14) */

/* The server entry for this address in the verdict, or NULL. */
static const struct nat_server *
server_of(const struct stun_addr *a)
{
	for (size_t i = 0; i < v.nservers; i++)
		if (memcmp(&v.servers[i].address, a, sizeof(*a)) == 0)
			return &v.servers[i];
	return NULL;
}

Test(nat, honest_servers_are_trusted_and_described)
{
	const struct nat_server *s0, *s1;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 140);
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	EXPECT(NAT_PORT_RESTRICTED_CONE, EI, APD, 0);
	cr_assert_eq(v.nservers, 2);
	s0 = server_of(&sim.srv.ep[0]);
	s1 = server_of(&sim.srv2.ep[0]);
	cr_assert(s0 != NULL && s1 != NULL);
	cr_expect(s0->trusted && s1->trusted);
	cr_expect_eq(s0->problems | s1->problems, 0);
	cr_expect_eq(s0->rfc, 5780);
	cr_expect_eq(s0->change_request, 1);
	cr_expect_eq(s1->rfc, 5389, "a server without an alternate: %d", s1->rfc);
	cr_expect_eq(s1->change_request, -1);
	cr_expect(!has(NAT_F_SERVER_UNTRUSTED));
}

Test(nat, rfc3489_server_is_named_so)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 141);
	sim.personality = NATSIM_SRV_RFC3489;
	natsim_config(&sim, &cfg);
	run();
	cr_expect_eq(v.type, NAT_FULL_CONE, "type %s", nat_type_word(v.type));
	cr_expect_eq(v.servers[0].rfc, 3489);
	cr_expect(v.servers[0].trusted, "problems %#x", v.servers[0].problems);
}

Test(nat, ignoring_change_request_is_reported_per_server)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 142);
	sim.personality = NATSIM_SRV_IGNORE_CHANGE;
	natsim_config(&sim, &cfg);
	run();
	cr_expect_eq(v.type, NAT_UNKNOWN);
	cr_expect_eq(v.servers[0].change_request, 0);
	cr_expect_eq(v.servers[0].rfc, 5780);
}

Test(nat, lying_response_origin_gives_no_verdict)
{
	/* Every NAT behaviour: the liar's answers never make a type. */
	static const enum natsim_beh beh[][2] = {
		{ NATSIM_EI, NATSIM_EI }, { NATSIM_EI, NATSIM_AD }, { NATSIM_EI, NATSIM_APD },
		{ NATSIM_APD, NATSIM_APD },
	};

	for (size_t i = 0; i < sizeof(beh) / sizeof(beh[0]); i++) {
		const struct nat_finding *f;

		natsim_init(&sim, beh[i][0], beh[i][1], 0, 143 + (unsigned)i);
		sim.personality = NATSIM_SRV_FAKE_ORIGIN;
		sim.fake_origin = natsim_addr("203.0.113.99", 3478);
		natsim_config(&sim, &cfg);
		run();
		cr_expect_eq(v.type, NAT_UNKNOWN, "case %zu: type %s", i, nat_type_word(v.type));
		cr_expect_eq(v.mapping, UNK);
		cr_expect_eq(v.filtering, UNK);
		cr_expect(!v.servers[0].trusted);
		cr_expect(v.servers[0].problems & NAT_SP_ORIGIN_MISMATCH);
		f = nat_find(&v, NAT_F_SERVER_UNTRUSTED);
		cr_assert_not_null(f, "case %zu", i);
		cr_expect_eq(f->value, 1);
		cr_expect(f->tests & NAT_SP_ORIGIN_MISMATCH);
	}
}

Test(nat, untrusted_second_server_is_left_out)
{
	/* The primary has no alternate, so the mapping rests on comparing
	 * servers; a liar among them must not count. */
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 150);
	sim.personality = NATSIM_SRV_FAKE_ORIGIN;
	sim.fake_origin = natsim_addr("203.0.113.99", 3478);
	natsim_config(&sim, &cfg);
	cfg.servers[0] = sim.srv2.ep[0];
	cfg.servers[1] = sim.srv.ep[0];
	cfg.nservers = 2;
	sim.srv2.has_alt = 0;
	run();
	/* Server 1 (the liar) has the alternate; it becomes the primary. */
	cr_expect_eq(v.type, NAT_UNKNOWN, "type %s", nat_type_word(v.type));
	cr_expect(!server_of(&sim.srv.ep[0])->trusted);
	cr_expect(server_of(&sim.srv2.ep[0])->trusted);
	cr_expect(has_at(NAT_F_SERVER_UNTRUSTED, 0, "203.0.113.1", 3478));
}

Test(nat, shifting_other_address_is_caught)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 151);
	sim.personality = NATSIM_SRV_SHIFTING_ALT;
	sim.fake_alt = natsim_addr("203.0.113.66", 4000);
	natsim_config(&sim, &cfg);
	run();
	cr_expect_eq(v.type, NAT_UNKNOWN, "type %s", nat_type_word(v.type));
	cr_expect(v.servers[0].problems & NAT_SP_OTHER_INCONSISTENT, "problems %#x",
	    v.servers[0].problems);
	cr_expect(!v.servers[0].trusted);
	cr_expect_eq(natsim_sent_to(&sim, -1, &sim.fake_alt), 0);
}

Test(nat, servers_that_disagree_under_eim_are_both_distrusted)
{
	/* The primary lies about the mapped address consistently, so its own
	 * tests look endpoint-independent; the honest second server sees the
	 * real mapping.  Which one lies cannot be told: no verdict, never
	 * "symmetric". */
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 152);
	sim.personality = NATSIM_SRV_FAKE_MAPPED;
	sim.fake_mapped = natsim_addr("198.51.100.77", 40000);
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	cr_expect_eq(v.type, NAT_UNKNOWN, "type %s", nat_type_word(v.type));
	cr_expect_eq(v.mapping, UNK);
	cr_expect(has(NAT_F_MAPPING_CONTRADICTED));
	cr_expect(v.servers[0].problems & NAT_SP_MAPPED_DISAGREES);
	cr_expect(v.servers[1].problems & NAT_SP_MAPPED_DISAGREES);
	cr_expect(!v.servers[0].trusted && !v.servers[1].trusted);
}

/* ------------------------------------------------ single-address servers (#14) */

Test(nat, single_address_server_never_gives_a_wrong_verdict)
{
	/* Every mapping x filtering: what one IP cannot tell is unknown, what
	 * it can (port-dependence) is right, and nothing is sent to another IP. */
	static const enum natsim_beh all[] = { NATSIM_EI, NATSIM_AD, NATSIM_APD };
	struct stun_addr other_ip = natsim_addr("203.0.113.2", 0);

	for (size_t m = 0; m < 3; m++)
		for (size_t f = 0; f < 3; f++) {
			natsim_init(&sim, all[m], all[f], 0, 160 + (unsigned)(m * 3 + f));
			sim.personality = NATSIM_SRV_SINGLE_ADDRESS;
			natsim_config(&sim, &cfg);
			run();
			cr_expect_null(natsim_wrong(&v, all[m], all[f]), "m%zu f%zu: %s %s %s wrong", m, f,
			    nat_type_word(v.type), nat_behavior_word(v.mapping),
			    nat_behavior_word(v.filtering));
			cr_expect(pr.have_alt && pr.alt_port_only, "m%zu f%zu", m, f);
			cr_expect(has(NAT_F_ALT_PORT_ONLY), "m%zu f%zu", m, f);
			cr_expect_eq(natsim_sent_to(&sim, -1, &other_ip), 0, "m%zu f%zu", m, f);
			/* What the port alone does decide, it decides. */
			if (all[m] == NATSIM_APD) {
				cr_expect_eq(v.type, NAT_SYMMETRIC, "m%zu f%zu", m, f);
				cr_expect_eq(v.mapping, APD);
			} else {
				cr_expect(has(NAT_F_MAPPING_NOT_PORT_DEPENDENT), "m%zu f%zu", m, f);
			}
			if (all[f] == NATSIM_APD)
				cr_expect_eq(v.filtering, APD, "m%zu f%zu", m, f);
			else
				cr_expect(has(NAT_F_FILTERING_NOT_PORT_DEPENDENT), "m%zu f%zu", m, f);
			cr_expect(v.servers[0].trusted, "m%zu f%zu: problems %#x", m, f,
			    v.servers[0].problems);
			/* The change of IP it cannot make stops being asked once
			 * that is known (the binding answers at 100 ms). */
			cr_expect_leq(probe_find(&pr, PROBE_FILTER_IP_PORT, 0)->nsent, 3,
			    "m%zu f%zu: %zu sends", m, f,
			    probe_find(&pr, PROBE_FILTER_IP_PORT, 0)->nsent);
		}
}

Test(nat, single_address_server_behind_no_nat)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 170);
	sim.mode = NATSIM_FIREWALL;
	sim.personality = NATSIM_SRV_SINGLE_ADDRESS;
	natsim_config(&sim, &cfg);
	run();
	cr_expect_eq(v.nat, 0);
	cr_expect_eq(v.type, NAT_SYMMETRIC_FIREWALL, "type %s", nat_type_word(v.type));

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 171);
	sim.mode = NATSIM_OPEN;
	sim.personality = NATSIM_SRV_SINGLE_ADDRESS;
	natsim_config(&sim, &cfg);
	run();
	cr_expect_eq(v.nat, 0);
	/* Open Internet needs a reply from another IP: not shown. */
	cr_expect_eq(v.type, NAT_UNKNOWN, "type %s", nat_type_word(v.type));
	cr_expect(has(NAT_F_FILTERING_NOT_PORT_DEPENDENT));
}

Test(nat, single_address_server_waits_for_the_other_bindings)
{
	/* A plain second server answers too: the single-address server is the
	 * primary once both bindings are decided, and the mapping it shows is
	 * reported with the comparison. */
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 172);
	sim.personality = NATSIM_SRV_SINGLE_ADDRESS;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	cr_expect_eq(pr.primary, 0);
	cr_expect(pr.alt_port_only);
	cr_expect_eq(v.filtering, APD);
	/* The second server's other IP saw the same mapping: endpoint-
	 * independent after all. */
	cr_expect_eq(v.mapping, EI, "mapping %s", nat_behavior_word(v.mapping));
	cr_expect(has(NAT_F_MAPPING_ACROSS_SERVERS));
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE, "type %s", nat_type_word(v.type));

	/* With an address-dependent mapping the second server sees another
	 * mapping: left unknown, never taken as proof either way. */
	natsim_init(&sim, NATSIM_AD, NATSIM_APD, 0, 173);
	sim.personality = NATSIM_SRV_SINGLE_ADDRESS;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	cr_expect_eq(v.mapping, UNK, "mapping %s", nat_behavior_word(v.mapping));
	cr_expect_eq(v.type, NAT_UNKNOWN, "type %s", nat_type_word(v.type));
}

/* ------------------------------------------------ failover (#14) */

/* The first test of this kind run against server `server`, or NULL. */
static const struct probe_test *
test_of(enum probe_kind kind, int server)
{
	for (size_t i = 0; i < pr.ntests; i++)
		if (pr.tests[i].kind == kind && pr.tests[i].server == server &&
		    pr.tests[i].result != PROBE_NOT_RUN)
			return &pr.tests[i];
	return NULL;
}

Test(nat, failover_from_a_server_that_fails_its_checks)
{
	/* Server 0 ignores CHANGE-REQUEST (or lies about where it answers
	 * from, or names shifting alternates); server 1 is honest.  The tests
	 * move to server 1 about one round trip after the failure shows, and
	 * the verdict is server 1's, right for every filtering. */
	static const enum natsim_personality pers[] = {
		NATSIM_SRV_IGNORE_CHANGE, NATSIM_SRV_FAKE_ORIGIN, NATSIM_SRV_SHIFTING_ALT,
		NATSIM_SRV_WRONG_CHANGE,
	};
	static const enum natsim_beh filt[] = { NATSIM_EI, NATSIM_AD, NATSIM_APD };

	for (size_t i = 0; i < sizeof(pers) / sizeof(pers[0]); i++)
		for (size_t f = 0; f < 3; f++) {
			const struct probe_test *t;
			const struct nat_finding *fd;

			natsim_init(&sim, NATSIM_EI, filt[f], 0, 180 + (unsigned)(i * 3 + f));
			sim.personality = pers[i];
			sim.fake_origin = natsim_addr("203.0.113.99", 3478);
			sim.fake_alt = natsim_addr("203.0.113.66", 4000);
			natsim_second_alt(&sim);
			natsim_config(&sim, &cfg);
			cfg.servers[1] = sim.srv2.ep[0];
			cfg.nservers = 2;
			run();
			cr_expect_eq(pr.primary, 1, "pers %zu f%zu: primary %d", i, f, pr.primary);
			cr_expect_eq(pr.abandoned, 0, "pers %zu f%zu", i, f);
			cr_expect_eq(v.type, natsim_truth(NATSIM_EI, filt[f]), "pers %zu f%zu: type %s", i, f,
			    nat_type_word(v.type));
			cr_expect_eq(v.mapping, EI, "pers %zu f%zu", i, f);
			cr_expect_eq(v.filtering, natsim_behavior(filt[f]), "pers %zu f%zu: filtering %s", i, f,
			    nat_behavior_word(v.filtering));
			fd = nat_find(&v, NAT_F_OTHER_SERVER_USED);
			cr_assert_not_null(fd, "pers %zu f%zu", i, f);
			cr_expect_eq(fd->value, 3);
			/* 50 ms each way: the binding answers at 100 ms, the failed
			 * check at about 200 ms; server 1 takes over then. */
			t = test_of(PROBE_MAP_ALT_IP, 1);
			cr_assert_not_null(t, "pers %zu f%zu", i, f);
			cr_expect_leq(t->started_ms - pr.start_ms, 2 * 100 + 20,
			    "pers %zu f%zu: server 1 took over at %llu ms", i, f,
			    (unsigned long long)(t->started_ms - pr.start_ms));
			cr_expect(v.servers[1].trusted);
		}
}

Test(nat, no_failover_without_a_good_server)
{
	/* Server 1 has no alternate: nothing to fail over to; the verdict
	 * stays as cautious as before. */
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 195);
	sim.personality = NATSIM_SRV_IGNORE_CHANGE;
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	run();
	cr_expect_eq(pr.primary, 0);
	cr_expect_eq(pr.abandoned, -1);
	cr_expect_eq(v.type, NAT_UNKNOWN, "type %s", nat_type_word(v.type));
	cr_expect_eq(v.servers[0].change_request, 0);
}

Test(nat, failover_from_a_silent_or_closed_first_server)
{
	/* Server 0 never answers (or its port is closed); server 1 is a good
	 * RFC 5780 server.  The tests move to it about a round trip after
	 * server 0 should have answered, not after server 0 is given up. */
	static const enum natsim_personality pers[] = { NATSIM_SRV_DOWN, NATSIM_SRV_CLOSED };

	for (size_t i = 0; i < 2; i++) {
		const struct probe_test *t;

		natsim_init(&sim, NATSIM_EI, NATSIM_AD, 0, 196 + (unsigned)i);
		sim.personality = pers[i];
		natsim_second_alt(&sim);
		natsim_config(&sim, &cfg);
		cfg.servers[1] = sim.srv2.ep[0];
		cfg.nservers = 2;
		run();
		cr_expect_eq(pr.primary, 1, "case %zu", i);
		cr_expect_eq(v.type, NAT_RESTRICTED_CONE, "case %zu: type %s", i,
		    nat_type_word(v.type));
		t = test_of(PROBE_MAP_ALT_IP, 1);
		cr_assert_not_null(t);
		/* 100 ms round trip: server 1 answers at 100 ms; server 0 is
		 * overdue at W = 150 ms after its first send. */
		cr_expect_leq(t->started_ms - pr.start_ms, 2 * 100 + 20, "case %zu: at %llu ms", i,
		    (unsigned long long)(t->started_ms - pr.start_ms));
	}
}

Test(nat, failover_twice)
{
	/* Server 0 is silent (nothing there), server 1 ignores CHANGE-REQUEST,
	 * server 2 is good: two failovers, the second with tests of its own. */
	const struct probe_test *t;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 198);
	sim.personality = NATSIM_SRV_IGNORE_CHANGE;
	natsim_second_alt(&sim);
	natsim_config(&sim, &cfg);
	cfg.servers[0] = natsim_addr("203.0.113.50", 3478);
	cfg.servers[1] = sim.srv.ep[0];
	cfg.servers[2] = sim.srv2.ep[0];
	cfg.nservers = 3;
	run();
	cr_expect_eq(pr.primary, 2, "primary %d", pr.primary);
	cr_expect_eq(pr.abandoned, 1);
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE, "type %s", nat_type_word(v.type));
	t = test_of(PROBE_MAP_ALT_IP, 2);
	cr_assert_not_null(t);
	cr_expect_eq(t->result, PROBE_ANSWERED);
	cr_expect_eq(v.servers[1].change_request, 0);
	cr_expect_eq(v.servers[2].change_request, 1);
}

Test(nat, silent_first_server_costs_about_a_round_trip)
{
	/* The whole run, not only the switch: a silent server 0's tests are
	 * abandoned when the tests move on, so the run ends about when the
	 * good server's tests do, not after server 0 is given up. */
	uint64_t alone, with_dead;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 199);
	natsim_second_alt(&sim);
	natsim_config(&sim, &cfg);
	cfg.servers[0] = sim.srv2.ep[0];
	alone = run();
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE);

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 199);
	sim.personality = NATSIM_SRV_DOWN;
	natsim_second_alt(&sim);
	natsim_config(&sim, &cfg);
	cfg.servers[1] = sim.srv2.ep[0];
	cfg.nservers = 2;
	with_dead = run();
	cr_expect_eq(v.type, NAT_PORT_RESTRICTED_CONE, "type %s", nat_type_word(v.type));
	cr_expect_eq(test_of(PROBE_BINDING, 0)->result, PROBE_ABANDONED);
	cr_expect(has_at(NAT_F_NO_ANSWER_FROM, 0, "203.0.113.1", 3478));
	/* 100 ms round trip: at most two more. */
	cr_expect_leq(with_dead, alone + 2 * 100, "alone %llu ms, after a dead server %llu ms",
	    (unsigned long long)alone, (unsigned long long)with_dead);
}

/* ------------------------------------------------ a rate-limited server */

/* What in v contradicts the network natsim was set up as (its mode, its
 * behaviours, whether it hairpins), or NULL: unknown is never wrong. */
static const char *
contradicts_sim(const struct natsim *s, const struct nat_verdict *r)
{
	enum nat_type want = NAT_OPEN;

	if (s->mode == NATSIM_NAT) {
		if (natsim_wrong(r, s->mapping, s->filtering) != NULL)
			return natsim_wrong(r, s->mapping, s->filtering);
		if (r->hairpinning != -1 && r->hairpinning != s->hairpin)
			return "hairpinning";
		return r->nat == 0 ? "nat" : NULL;
	}
	if (s->mode == NATSIM_FIREWALL && s->filtering != NATSIM_EI)
		want = NAT_SYMMETRIC_FIREWALL;
	if (r->type != NAT_UNKNOWN && r->type != want)
		return "type";
	if (r->mapping != UNK && r->mapping != EI)
		return "mapping";
	if (r->filtering != UNK && r->filtering !=
	    (s->mode == NATSIM_FIREWALL ? natsim_behavior(s->filtering) : EI))
		return "filtering";
	if (r->hairpinning != -1 || r->nat == 1)
		return "nat";
	return NULL;
}

/*
 * natcheck --serve --rate N in front of the server: it answers a burst,
 * then a request every 1/N s.  Every silence after the burst looks like a
 * negative; the loss the engine measures among answered tests says nothing
 * of it.  Across NAT behaviours, limits, what is left in the bucket when
 * the run starts and the path's delay, no verdict may be wrong.
 */
Test(nat, rate_limited_server_never_gives_a_wrong_verdict)
{
	static const enum natsim_beh all[] = { NATSIM_EI, NATSIM_AD, NATSIM_APD };
	static const uint32_t rates[] = { 2, 5, 10, 15, 30 };
	static const uint32_t delays[] = { 1, 5, 20, 100 };
	static const enum natsim_mode modes[] = { NATSIM_NAT, NATSIM_OPEN, NATSIM_FIREWALL };
	unsigned runs = 0, wrong = 0, limited = 0, right = 0, stopped = 0;

	for (size_t mo = 0; mo < 3; mo++)
	for (size_t m = 0; m < 3; m++)
	for (size_t f = 0; f < 3; f++)
	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++)
	for (uint32_t left = 0; left <= 6; left++)
	for (size_t d = 0; d < 4; d++) {
		const char *bad;

		if (modes[mo] != NATSIM_NAT && m > 0)
			continue;       /* no mapping behaviour without a NAT */
		if (modes[mo] == NATSIM_OPEN && f > 0)
			continue;
		natsim_init(&sim, all[m], all[f], (int)(r + left) % 2,
		    7000 + runs);
		sim.mode = modes[mo];
		natsim_path(&sim, delays[d], 0);
		/* left 6: a fresh source's whole burst; else what a run just
		 * before left over. */
		natsim_rate(&sim, rates[r], 2 * rates[r], left == 6 ? 2 * rates[r] : left);
		natsim_config(&sim, &cfg);
		cfg.timeout_ms = 3000;          /* natcheck's default -t */
		run();
		runs++;
		limited += sim.rate_dropped > 0;
		if (has(NAT_F_ANSWERS_STOPPED)) {
			stopped++;
			/* Only a limit that dropped something stops answers. */
			cr_expect_gt(sim.rate_dropped, 0);
		}
		if ((bad = contradicts_sim(&sim, &v)) != NULL) {
			if (wrong++ < 5) {
				cr_log_error("mode %zu m%zu f%zu rate %u left %u delay %u: %s wrong "
				    "(%s, mapping %s, filtering %s, hairpinning %d)", mo, m, f,
				    rates[r], left, delays[d], bad, nat_type_word(v.type),
				    nat_behavior_word(v.mapping), nat_behavior_word(v.filtering),
				    v.hairpinning);
				dump();
			}
		} else if (v.type != NAT_UNKNOWN) {
			right++;
		}
	}
	cr_log_info("rate-limited server: %u runs (%u limited, %u with answers-stopped), "
	    "%u right, %u wrong", runs, limited, stopped, right, wrong);
	cr_expect_gt(stopped, 0, "answers-stopped never said");
	cr_expect_gt(limited, runs / 2, "the limit bit in only %u of %u runs", limited, runs);
	cr_expect_eq(wrong, 0, "%u of %u runs against a rate-limited server said something wrong",
	    wrong, runs);
}

/*
 * The burst spent: a source that has just used up its tokens (natcheck
 * --serve --rate 2, a run right after another).  The server answers a
 * request every half second: the binding, then a plain request to the
 * same endpoint goes unanswered through all its sends.  That is said, the
 * filtering is not decided from silence, and the loss line does not say
 * "no loss seen".
 */
Test(nat, spent_burst_says_answers_stopped)
{
	static const enum natsim_beh all[] = { NATSIM_EI, NATSIM_AD, NATSIM_APD };

	for (size_t f = 0; f < 3; f++) {
		const struct nat_finding *st;
		char text[REPORT_FINDING_LEN];

		natsim_init(&sim, NATSIM_EI, all[f], 1, 7500 + f);
		natsim_path(&sim, 1, 0);
		natsim_rate(&sim, 2, 4, 0);
		natsim_config(&sim, &cfg);
		cfg.timeout_ms = 3000;
		run();
		st = nat_find(&v, NAT_F_ANSWERS_STOPPED);
		if (st == NULL)
			dump();
		cr_assert_not_null(st, "f%zu", f);
		cr_expect(addr_eq(&st->addr[0], &sim.srv.ep[0]), "f%zu", f);
		cr_expect_null(natsim_wrong(&v, NATSIM_EI, all[f]), "f%zu", f);
		cr_expect_gt(v.plain_unanswered, 0, "f%zu", f);
		cr_expect_leq(v.plain_unanswered, v.plain_sent, "f%zu", f);
		report_finding_text(st, text, sizeof(text));
		cr_expect_eq(strncmp(text, "answers stopped after a burst: ", 31), 0, "%s", text);
		cr_expect_not_null(strstr(text, "the server may be rate-limiting; negatives not "
		    "trusted"), "%s", text);
	}
}

/*
 * Not every silence is a stopped server.  Alternates that never answer
 * (a server that serves its primary endpoint only) were never heard: no
 * model is defeated, and nothing says the server rate-limits.  Nor does
 * any honest run, or a lossy one, say so.
 */
Test(nat, silent_alternates_are_no_stopped_answers)
{
	static const enum natsim_beh all[] = { NATSIM_EI, NATSIM_AD, NATSIM_APD };
	unsigned said = 0;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 1, 7600);
	sim.personality = NATSIM_SRV_PRIMARY_ONLY;
	natsim_config(&sim, &cfg);
	run();
	cr_expect(!has(NAT_F_ANSWERS_STOPPED));
	cr_expect(has_at(NAT_F_NO_ANSWER_FROM, 0, "203.0.113.2", 3478));
	/* Unanswered, and counted so: the mapping tests' sends to them. */
	cr_expect_gt(v.plain_unanswered, pr.stats.lost_sends);
	for (size_t m = 0; m < 3; m++)
		for (size_t f = 0; f < 3; f++)
			for (uint32_t loss = 0; loss <= 20; loss += 10) {
				natsim_init(&sim, all[m], all[f], 1, 7700 + m * 3 + f + loss);
				natsim_path(&sim, 50, loss);
				natsim_config(&sim, &cfg);
				cfg.timeout_ms = 3000;
				run();
				said += has(NAT_F_ANSWERS_STOPPED);
				cr_expect_null(natsim_wrong(&v, all[m], all[f]));
				if (loss == 0) {
					cr_expect(!has(NAT_F_ANSWERS_STOPPED), "m%zu f%zu", m, f);
					cr_expect_eq(v.plain_unanswered, 0, "m%zu f%zu", m, f);
					cr_expect_gt(v.plain_sent, 0, "m%zu f%zu", m, f);
				}
			}
	cr_expect_eq(said, 0, "answers-stopped in %u honest runs", said);
}
