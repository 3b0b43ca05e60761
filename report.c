/*
 * report.c - print a verdict for a person, for a script, or as one word.
 *
 * Nothing here decides anything; it only renders what nat_classify() and
 * the probe run recorded.  The JSON keys are a stable interface documented
 * in natcheck.1 (OUTPUT): add keys, never rename or drop them.
 */
#include <stdarg.h>
#include <stdio.h>

#include "addr.h"
#include "report.h"

uint64_t
report_elapsed_ms(const struct probe *p)
{
	return p->end_ms >= p->start_ms ? p->end_ms - p->start_ms : 0;
}

static const char *
yes_no_unknown(int v)
{
	return v == 1 ? "yes" : v == 0 ? "no" : "unknown";
}

/* ------------------------------------------------------------ findings */

static void cat(char *buf, size_t cap, size_t *used, const char *fmt, ...);

/* How a finding's `value` is rendered in JSON. */
enum val_kind { VAL_NONE, VAL_INT, VAL_STATUS, VAL_PROBLEM, VAL_UNREACH, VAL_FIRST, VAL_BOOL };

/* The JSON shape of each code: its word and the key of every slot it
 * fills (NULL: not rendered).  natcheck.1, FINDINGS, documents the same. */
struct code_desc {
	const char *word;
	const char *addr[NAT_FINDING_ADDRS];
	const char *count[NAT_FINDING_COUNTS];
	const char *test[2];
	const char *result[2];
	const char *tests;
	const char *problems;       /* `tests` holds enum nat_server_problem bits */
	const char *value;
	enum val_kind vkind;
};

static const struct code_desc descs[NAT_F_COUNT] = {
	[NAT_F_NO_SERVER] = { .word = "no-server", .vkind = VAL_NONE },
	[NAT_F_NO_RESPONSE] = { .word = "no-response", .vkind = VAL_NONE },
	[NAT_F_NO_VALID_ANSWER] = { .word = "no-valid-answer",
		.count = { "received", "echoed", "unmatched", "indications", "malformed",
		           "wrong_socket" },
		.value = "reason", .vkind = VAL_STATUS },
	[NAT_F_NO_STUN_SERVER] = { .word = "no-stun-server", .addr = { "address" } },
	[NAT_F_UNREACHABLE] = { .word = "unreachable", .addr = { "address" },
		.value = "reason", .vkind = VAL_UNREACH },
	[NAT_F_MAPPED_INVALID] = { .word = "mapped-address-invalid",
		.addr = { "address", "server" }, .value = "reason", .vkind = VAL_PROBLEM },
	[NAT_F_NO_BINDING_ANSWER] = { .word = "no-binding-answer", .addr = { "server" } },
	[NAT_F_OTHER_SERVER_USED] = { .word = "other-server-used", .addr = { "server", "used" },
		.value = "reason", .vkind = VAL_FIRST },
	[NAT_F_ALT_NOT_DISTINCT] = { .word = "alternate-not-distinct",
		.addr = { "alternate", "server" } },
	[NAT_F_ALT_REJECTED] = { .word = "alternate-rejected", .addr = { "alternate", "server" },
		.value = "reason", .vkind = VAL_PROBLEM },
	[NAT_F_NO_ALTERNATE] = { .word = "no-alternate", .addr = { "server" } },
	[NAT_F_NO_USABLE_ALTERNATE] = { .word = "no-usable-alternate", .addr = { "server" } },
	[NAT_F_MAPPING_INCONSISTENT] = { .word = "mapping-inconsistent",
		.addr = { "mapped", "other_mapped" } },
	[NAT_F_MAPPING_UNDECIDED] = { .word = "mapping-undecided",
		.addr = { "mapped", "other_mapped", "unanswered" } },
	[NAT_F_MAPPING_VARIES_SERVERS] = { .word = "mapping-varies-across-servers",
		.addr = { "mapped", "server", "other_mapped", "other_server" } },
	[NAT_F_MAPPING_NO_ALT_ANSWER] = { .word = "mapping-no-alternate-answer",
		.addr = { "address" } },
	[NAT_F_MAPPING_ACROSS_SERVERS] = { .word = "mapping-across-servers", .count = { "servers" } },
	[NAT_F_MAPPING_CONTRADICTED] = { .word = "mapping-contradicted",
		.addr = { "server", "mapped", "expected" } },
	[NAT_F_CHANGE_IGNORED] = { .word = "change-request-ignored", .addr = { "from" },
		.test = { "test" } },
	[NAT_F_CHANGE_WRONG_SOURCE] = { .word = "change-request-wrong-source",
		.addr = { "from", "expected" } },
	[NAT_F_CHANGE_IMPOSSIBLE_SOURCE] = { .word = "change-request-impossible-source",
		.addr = { "from" } },
	[NAT_F_FILTERING_UNTRUSTED] = { .word = "filtering-untrusted" },
	[NAT_F_CHANGE_ERROR] = { .word = "change-request-error",
		.value = "error_code", .vkind = VAL_INT },
	[NAT_F_FILTER_TEST_LOST] = { .word = "filter-test-lost", .test = { "test", "answered_test" } },
	[NAT_F_CHANGE_UNVERIFIED] = { .word = "change-request-unverified" },
	[NAT_F_FILTERING_UNVERIFIED] = { .word = "filtering-unverified", .addr = { "address" } },
	[NAT_F_FILTERING_INCONCLUSIVE] = { .word = "filtering-inconclusive",
		.test = { "test", "other_test" }, .result = { "result", "other_result" } },
	[NAT_F_FILTERING_UNTESTABLE] = { .word = "filtering-untestable" },
	[NAT_F_HAIRPIN_MAPPING_UNKNOWN] = { .word = "hairpinning-mapping-unknown" },
	[NAT_F_HAIRPIN_UNOBSERVABLE] = { .word = "hairpinning-unobservable" },
	[NAT_F_HAIRPIN_NOT_TESTED] = { .word = "hairpinning-not-tested" },
	[NAT_F_HAIRPIN_UNSENDABLE] = { .word = "hairpinning-unsendable", .addr = { "address" },
		.value = "reason", .vkind = VAL_PROBLEM },
	[NAT_F_HAIRPIN_SEND_FAILED] = { .word = "hairpinning-send-failed", .addr = { "address" },
		.count = { "count" }, .test = { "test" }, .value = "reason", .vkind = VAL_UNREACH },
	[NAT_F_OPEN_BUT_VARYING] = { .word = "no-nat-but-mapping-varies" },
	[NAT_F_NO_ANSWER_FROM] = { .word = "no-answer-from", .addr = { "address" } },
	[NAT_F_TIMEOUT] = { .word = "timeout", .tests = "tests" },
	[NAT_F_LOSS] = { .word = "loss", .count = { "lost", "exchanges", "min_sends" } },
	[NAT_F_ANSWERS_STOPPED] = { .word = "answers-stopped", .addr = { "address" },
		.count = { "sends" }, .test = { "test" } },
	[NAT_F_UNEXPECTED_DATAGRAMS] = { .word = "unexpected-datagrams",
		.count = { "late", "duplicate", "stray", "malformed", "wrong_source" } },
	[NAT_F_PINNED_PORT] = { .word = "pinned-port", .value = "port", .vkind = VAL_INT },
	[NAT_F_SEND_ERRORS] = { .word = "send-errors", .count = { "count" } },
	[NAT_F_ALT_PORT_ONLY] = { .word = "alternate-port-only", .addr = { "server", "alternate" } },
	[NAT_F_MAPPING_NOT_PORT_DEPENDENT] = { .word = "mapping-not-port-dependent",
		.addr = { "mapped" } },
	[NAT_F_FILTERING_NOT_PORT_DEPENDENT] = { .word = "filtering-not-port-dependent" },
	[NAT_F_SERVER_UNTRUSTED] = { .word = "server-untrusted", .addr = { "server" },
		.problems = "problems", .value = "primary", .vkind = VAL_BOOL },
	[NAT_F_NO_EXTRA_PORTS] = { .word = "no-extra-port-samples", .addr = { "server" } },
	[NAT_F_LIFETIME_NO_ANSWER] = { .word = "lifetime-no-answer" },
	[NAT_F_LIFETIME_UNSUPPORTED] = { .word = "lifetime-unsupported", .addr = { "server" } },
	[NAT_F_LIFETIME_UNMEASURED] = { .word = "lifetime-unmeasured", .addr = { "server" } },
	[NAT_F_LIFETIME_CONFLICTS] = { .word = "lifetime-conflicts", .count = { "count" } },
};

/* The stable words of enum nat_server_problem, bit by bit, and phrases. */
static const char *const server_problem_words[NAT_SP_COUNT] = {
	"response-origin-mismatch", "other-address-inconsistent", "mapped-address-disagrees",
	"mapped-address-invalid"
};
static const char *const server_problem_phrases[NAT_SP_COUNT] = {
	"RESPONSE-ORIGIN is not where its answers came from",
	"its answers name different alternate addresses",
	"its mapped address contradicts an endpoint-independent mapping",
	"it reports a mapped address no NAT gives"
};

/* "p1; p2" for a problem bitmask. */
static void
cat_problems(char *buf, size_t cap, size_t *used, unsigned bits)
{
	size_t start = *used;

	for (unsigned i = 0; i < NAT_SP_COUNT; i++)
		if (bits & (1u << i))
			cat(buf, cap, used, "%s%s", *used > start ? "; " : "",
			    server_problem_phrases[i]);
}

const char *
report_code_word(enum nat_code c)
{
	if ((unsigned)c >= NAT_F_COUNT || descs[c].word == NULL)
		return "unknown";
	return descs[c].word;
}

/* The stable word of an address problem (JSON "reason"). */
static const char *
problem_word(int pr)
{
	switch (pr) {
	case PROBE_ADDR_FAMILY:       return "other-family";
	case PROBE_ADDR_UNSPECIFIED:  return "unspecified";
	case PROBE_ADDR_PORT_ZERO:    return "port-zero";
	case PROBE_ADDR_MULTICAST:    return "multicast";
	case PROBE_ADDR_BROADCAST:    return "broadcast";
	case PROBE_ADDR_LOOPBACK:     return "loopback";
	case PROBE_ADDR_LOCAL:        return "local-address";
	case PROBE_ADDR_NOT_DISTINCT: return "not-distinct";
	default:                      return "absent";
	}
}

static const char *
problem_phrase(int pr)
{
	switch (pr) {
	case PROBE_ADDR_FAMILY:       return "of another address family than this socket";
	case PROBE_ADDR_UNSPECIFIED:  return "an unspecified address";
	case PROBE_ADDR_PORT_ZERO:    return "port 0";
	case PROBE_ADDR_MULTICAST:    return "a multicast address";
	case PROBE_ADDR_BROADCAST:    return "the broadcast address";
	case PROBE_ADDR_LOOPBACK:     return "a loopback address, from a server that is not";
	case PROBE_ADDR_LOCAL:        return "this host's own address";
	case PROBE_ADDR_NOT_DISTINCT: return "not distinct from the server";
	default:                      return "no address";
	}
}

static const char *
unreach_word(int k)
{
	switch (k) {
	case PROBE_UNREACH_PORT: return "port-unreachable";
	case PROBE_UNREACH_HOST: return "host-unreachable";
	default:                 return "send-failed";
	}
}

static const char *
first_word(int state)
{
	return state == 1 ? "no-alternate" : state == 2 ? "unusable-alternate" :
	    state == 3 ? "failed-checks" : "no-answer";
}

/* Append printf-style to buf[0..cap) at *used; never overflows. */
static void
cat(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, cap - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + (size_t)n < cap ? *used + (size_t)n : cap;
}

/* ", N what" for a non-zero count. */
static void
cat_count(char *buf, size_t cap, size_t *used, size_t start, unsigned n, const char *what)
{
	if (n > 0)
		cat(buf, cap, used, "%s%u %s", *used > start ? ", " : "", n, what);
}

const char *
report_finding_text(const struct nat_finding *f, char *buf, size_t cap)
{
	char a[NAT_FINDING_ADDRS][ADDR_STRLEN];
	const unsigned *n = f->count;
	size_t used = 0, start;
	const char *k0 = probe_kind_name(f->test[0]), *k1 = probe_kind_name(f->test[1]);

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < NAT_FINDING_ADDRS; i++)
		addr_fmt(&f->addr[i], a[i], sizeof(a[i]));
	switch (f->code) {
	case NAT_F_NO_SERVER:
		cat(buf, cap, &used, "no server was given");
		break;
	case NAT_F_NO_RESPONSE:
		cat(buf, cap, &used, "no answer from any server: UDP is blocked on this path, or "
		    "the server is down");
		break;
	case NAT_F_NO_VALID_ANSWER:
		if (n[4] == n[0] && n[0] > 0) {
			cat(buf, cap, &used, "server answered only with malformed datagrams (%s)",
			    stun_strerror(f->value));
			break;
		}
		cat(buf, cap, &used, "%u datagram%s came back, none a valid answer: ", n[0],
		    n[0] == 1 ? "" : "s");
		start = used;
		cat_count(buf, cap, &used, start, n[1], "echoes of our own requests");
		cat_count(buf, cap, &used, start, n[2], "answers to no transaction of ours");
		cat_count(buf, cap, &used, start, n[3], "indications");
		cat_count(buf, cap, &used, start, n[4], "malformed");
		if (n[4] > 0)
			cat(buf, cap, &used, " (%s)", stun_strerror(f->value));
		cat_count(buf, cap, &used, start, n[5], "on the wrong socket");
		break;
	case NAT_F_NO_STUN_SERVER:
		cat(buf, cap, &used, "no STUN server at %s (port unreachable)", a[0]);
		break;
	case NAT_F_UNREACHABLE:
		if (f->value == PROBE_UNREACH_HOST)
			cat(buf, cap, &used, "%s is unreachable (host or network unreachable)", a[0]);
		else
			cat(buf, cap, &used, "no datagram to %s could be sent", a[0]);
		break;
	case NAT_F_NO_BINDING_ANSWER:
		cat(buf, cap, &used, "no usable answer to the binding request to %s", a[0]);
		break;
	case NAT_F_MAPPED_INVALID:
		cat(buf, cap, &used, "server %s reported mapped address %s, %s, which no NAT "
		    "gives: its answers are not used", a[1], a[0], problem_phrase(f->value));
		break;
	case NAT_F_OTHER_SERVER_USED:
		cat(buf, cap, &used, "server %s %s; the tests used %s", a[0],
		    f->value == 1 ? "has no alternate address" :
		    f->value == 2 ? "has no usable alternate address" :
		    f->value == 3 ? "failed its checks (CHANGE-REQUEST or its own addresses)" :
		    "did not answer", a[1]);
		break;
	case NAT_F_ALT_NOT_DISTINCT:
		cat(buf, cap, &used, "server advertises alternate %s, which does not differ from %s "
		    "in both address and port: not used", a[0], a[1]);
		break;
	case NAT_F_ALT_REJECTED:
		cat(buf, cap, &used, "server %s advertises alternate %s, %s: not sent to", a[1],
		    a[0], problem_phrase(f->value));
		break;
	case NAT_F_NO_ALTERNATE:
		cat(buf, cap, &used, "server %s has no alternate address (no OTHER-ADDRESS/"
		    "CHANGED-ADDRESS): mapping and filtering cannot be tested; give a second "
		    "server", a[0]);
		break;
	case NAT_F_NO_USABLE_ALTERNATE:
		cat(buf, cap, &used, "server %s has no usable alternate address: mapping and "
		    "filtering cannot be tested; give a second server", a[0]);
		break;
	case NAT_F_MAPPING_INCONSISTENT:
		cat(buf, cap, &used, "inconsistent mappings: %s towards the primary and the "
		    "alternate address, %s towards the alternate port: mapping unknown", a[0], a[1]);
		break;
	case NAT_F_MAPPING_UNDECIDED:
		cat(buf, cap, &used, "mapping varies with the destination (%s, then %s); no answer "
		    "from %s, so address-dependent and address-and-port-dependent cannot be told "
		    "apart", a[0], a[1], a[2]);
		break;
	case NAT_F_MAPPING_VARIES_SERVERS:
		cat(buf, cap, &used, "mapping varies with the destination (%s at %s, %s at %s); "
		    "without an alternate address, address-dependent and address-and-port-"
		    "dependent cannot be told apart", a[0], a[1], a[2], a[3]);
		break;
	case NAT_F_MAPPING_NO_ALT_ANSWER:
		cat(buf, cap, &used, "mapping unknown: no answer from the alternate address %s", a[0]);
		break;
	case NAT_F_MAPPING_ACROSS_SERVERS:
		cat(buf, cap, &used, "mapping compared across %u servers, not one server's two "
		    "addresses", n[0]);
		break;
	case NAT_F_MAPPING_CONTRADICTED:
		cat(buf, cap, &used, "server %s saw mapping %s, not the %s the primary server's "
		    "tests agreed on: one of them is wrong, mapping unknown", a[0], a[1], a[2]);
		break;
	case NAT_F_CHANGE_IGNORED:
		cat(buf, cap, &used, "server ignores CHANGE-REQUEST: %s was answered from %s, the "
		    "address it was sent to", k0, a[0]);
		break;
	case NAT_F_CHANGE_WRONG_SOURCE:
		cat(buf, cap, &used, "server answered CHANGE-REQUEST from %s, expected %s", a[0], a[1]);
		break;
	case NAT_F_CHANGE_IMPOSSIBLE_SOURCE:
		cat(buf, cap, &used, "server answered CHANGE-REQUEST from %s, which cannot be the "
		    "changed address", a[0]);
		break;
	case NAT_F_FILTERING_UNTRUSTED:
		cat(buf, cap, &used, "filtering unknown: the server's CHANGE-REQUEST answers cannot "
		    "be trusted");
		break;
	case NAT_F_CHANGE_ERROR:
		if (f->value == 420)
			cat(buf, cap, &used, "server does not support CHANGE-REQUEST (error 420): "
			    "filtering unknown");
		else
			cat(buf, cap, &used, "server answered CHANGE-REQUEST with error %d: filtering "
			    "unknown", f->value);
		break;
	case NAT_F_FILTER_TEST_LOST:
		cat(buf, cap, &used, "%s went unanswered although %s was answered; taken as loss",
		    k0, k1);
		break;
	case NAT_F_CHANGE_UNVERIFIED:
		cat(buf, cap, &used, "the server's CHANGE-REQUEST support could not be verified "
		    "through this NAT");
		break;
	case NAT_F_FILTERING_UNVERIFIED:
		cat(buf, cap, &used, "filtering unknown: could not verify that the server honours "
		    "CHANGE-REQUEST (no changed answer from %s)", a[0]);
		break;
	case NAT_F_FILTERING_INCONCLUSIVE:
		cat(buf, cap, &used, "filtering unknown: %s %s, %s %s", k0,
		    probe_result_name(f->result[0]), k1, probe_result_name(f->result[1]));
		break;
	case NAT_F_FILTERING_UNTESTABLE:
		cat(buf, cap, &used, "filtering cannot be tested: no server with an alternate "
		    "address");
		break;
	case NAT_F_HAIRPIN_MAPPING_UNKNOWN:
		cat(buf, cap, &used, "hairpinning unknown: the mapping behaviour is unknown");
		break;
	case NAT_F_HAIRPIN_UNOBSERVABLE:
		cat(buf, cap, &used, "hairpinning unknown: it cannot be observed through "
		    "destination-dependent mapping unless the filter lets it in");
		break;
	case NAT_F_HAIRPIN_NOT_TESTED:
		cat(buf, cap, &used, "hairpinning not tested: the hairpin socket learned no mapping");
		break;
	case NAT_F_HAIRPIN_UNSENDABLE:
		cat(buf, cap, &used, "hairpinning unknown: the mapped address %s is %s, not sent to",
		    a[0], problem_phrase(f->value));
		break;
	case NAT_F_HAIRPIN_SEND_FAILED:
		cat(buf, cap, &used, "hairpinning unknown: %u of the %s datagrams to %s %s", n[0], k0,
		    a[0], f->value == PROBE_UNREACH_HOST ? "were reported unreachable" :
		    "could not be sent");
		break;
	case NAT_F_OPEN_BUT_VARYING:
		cat(buf, cap, &used, "mapped address equals the local one, yet the mapping varies "
		    "with the destination: type unknown");
		break;
	case NAT_F_NO_ANSWER_FROM:
		cat(buf, cap, &used, "no answer from %s", a[0]);
		break;
	case NAT_F_TIMEOUT:
		cat(buf, cap, &used, "-t reached before these tests were decided: ");
		start = used;
		for (int k = 0; k < PROBE_KIND_COUNT; k++)
			if (f->tests & (1u << k))
				cat(buf, cap, &used, "%s%s", used > start ? ", " : "",
				    probe_kind_name((enum probe_kind)k));
		break;
	case NAT_F_LOSS:
		cat(buf, cap, &used, "%u of %u exchanges lost (%.0f%%)", n[0], n[1],
		    n[1] ? 100.0 * n[0] / n[1] : 0.0);
		if (n[2] > 0)
			cat(buf, cap, &used, ": negative results rest on %u sends or more each", n[2]);
		break;
	case NAT_F_ANSWERS_STOPPED:
		cat(buf, cap, &used, "answers stopped after a burst: %u requests of %s to %s, which "
		    "answered others, went unanswered; the server may be rate-limiting; negatives "
		    "not trusted", n[0], probe_kind_name(f->test[0]), a[0]);
		break;
	case NAT_F_UNEXPECTED_DATAGRAMS:
		cat(buf, cap, &used, "unexpected datagrams: ");
		start = used;
		cat_count(buf, cap, &used, start, n[0], "late");
		cat_count(buf, cap, &used, start, n[1], "duplicate");
		cat_count(buf, cap, &used, start, n[2], "stray");
		cat_count(buf, cap, &used, start, n[3], "malformed");
		cat_count(buf, cap, &used, start, n[4], "from an unexpected source");
		break;
	case NAT_F_PINNED_PORT:
		cat(buf, cap, &used, "local port %d pinned with -b: NAT state left by earlier "
		    "traffic from this port can change the result", f->value);
		break;
	case NAT_F_SEND_ERRORS:
		cat(buf, cap, &used, "%u datagram%s could not be sent (-v shows why)", n[0],
		    n[0] == 1 ? "" : "s");
		break;
	case NAT_F_ALT_PORT_ONLY:
		cat(buf, cap, &used, "server %s has one address; its alternate %s differs in the "
		    "port only: only the tests that change the port ran", a[0], a[1]);
		break;
	case NAT_F_MAPPING_NOT_PORT_DEPENDENT:
		cat(buf, cap, &used, "mapping %s stays the same towards another port: endpoint-"
		    "independent or address-dependent, which a server with one address cannot "
		    "tell apart", a[0]);
		break;
	case NAT_F_FILTERING_NOT_PORT_DEPENDENT:
		cat(buf, cap, &used, "a reply from another port got through: filtering is "
		    "endpoint-independent or address-dependent, which a server with one address "
		    "cannot tell apart");
		break;
	case NAT_F_SERVER_UNTRUSTED:
		cat(buf, cap, &used, "server %s is not trusted (", a[0]);
		cat_problems(buf, cap, &used, f->tests);
		cat(buf, cap, &used, "): %s", f->value ? "nothing it said is used, the verdict "
		    "stays unknown" : "its answers are left out");
		break;
	case NAT_F_NO_EXTRA_PORTS:
		cat(buf, cap, &used, "no extra port samples: the sockets to ask %s could not be "
		    "used (-v shows why)", a[0]);
		break;
	case NAT_F_LIFETIME_NO_ANSWER:
		cat(buf, cap, &used, "lifetime not measured: no server answered the tests");
		break;
	case NAT_F_LIFETIME_UNSUPPORTED:
		cat(buf, cap, &used, "lifetime not measured: the server %s does not honour "
		    "RESPONSE-PORT (RFC 5780 section 7.5)", a[0]);
		break;
	case NAT_F_LIFETIME_UNMEASURED:
		cat(buf, cap, &used, "lifetime not measured: no binding could be made or checked "
		    "at %s", a[0]);
		break;
	case NAT_F_LIFETIME_CONFLICTS:
		cat(buf, cap, &used, "lifetime: %u check%s contradicted others (loss, or a NAT whose "
		    "timeout varies); the bracket keeps the answers that arrived", n[0],
		    n[0] == 1 ? "" : "s");
		break;
	case NAT_F_COUNT:
		break;
	}
	if (used == 0)
		cat(buf, cap, &used, "finding %d", (int)f->code);
	return buf;
}

static void
text_addr(FILE *out, const char *label, int has, const struct stun_addr *a)
{
	char buf[ADDR_STRLEN];

	fprintf(out, "%-13s%s\n", label, has ? addr_fmt(a, buf, sizeof(buf)) : "unknown");
}

/* "yes (result 3)" / "no" / "unknown" for one port-mapping protocol. */
static void
text_proto(FILE *out, const char *name, const struct portmap_proto *pp)
{
	const char *j = portmap_state_json(pp->state);

	fprintf(out, "%s %s", name, j[0] == 't' ? "yes" : j[0] == 'f' ? "no" : "unknown");
	if (pp->state == PORTMAP_SPEAKS && pp->result > 0)
		fprintf(out, " (result %d)", pp->result);
}

static void
text_portmap(FILE *out, const struct portmap *pm, const struct nat_verdict *v)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	if (!pm->cfg.enabled) {
		fprintf(out, "%-13s%s\n", "Gateway", "not asked (--no-portmap)");
		return;
	}
	if (!pm->cfg.has_gateway) {
		fprintf(out, "%-13s%s\n", "Gateway", "none known on the path to the server");
		if (pm->dn_reason == PORTMAP_DN_NO_NAT)
			fprintf(out, "%-13sno: the mapped address is the local address\n", "Double NAT");
		return;
	}
	fprintf(out, "%-13s%s: ", "Gateway", addr_fmt_ip(&pm->cfg.gateway, a, sizeof(a)));
	text_proto(out, "UPnP IGD", &pm->upnp);
	fputs(", ", out);
	text_proto(out, "NAT-PMP", &pm->natpmp);
	fputs(", ", out);
	text_proto(out, "PCP", &pm->pcp);
	fputc('\n', out);
	if (pm->has_external)
		fprintf(out, "%-13s%s\n", "External", addr_fmt_ip(&pm->external, a, sizeof(a)));
	else
		fprintf(out, "%-13sunknown (the gateway gives none)\n", "External");
	fprintf(out, "%-13s", "Double NAT");
	switch (pm->dn_reason) {
	case PORTMAP_DN_SHARED:
		fprintf(out, "yes: the gateway's external address %s is carrier-grade NAT space "
		    "(100.64.0.0/10)\n", addr_fmt_ip(&pm->external, a, sizeof(a)));
		break;
	case PORTMAP_DN_PRIVATE:
		fprintf(out, "yes: the gateway's external address %s is private\n",
		    addr_fmt_ip(&pm->external, a, sizeof(a)));
		break;
	case PORTMAP_DN_DIFFERS:
		fprintf(out, "yes: the gateway's external address %s is not the mapped address %s\n",
		    addr_fmt_ip(&pm->external, a, sizeof(a)), addr_fmt_ip(&pm->dn_mapped, b, sizeof(b)));
		break;
	case PORTMAP_DN_EQUAL:
		fprintf(out, "no: the gateway's external address is the mapped address\n");
		break;
	case PORTMAP_DN_NO_NAT:
		fprintf(out, "no: the mapped address is the local address, nothing translates it\n");
		break;
	case PORTMAP_DN_NO_EXTERNAL:
		fprintf(out, "unknown: the gateway speaks a port-mapping protocol but reports no "
		    "external address, as a gateway behind another NAT does\n");
		break;
	case PORTMAP_DN_LOCAL_ONLY:
		fprintf(out, "unknown: no port-mapping protocol answered; local %s against mapped "
		    "%s shows %s, never how many\n",
		    v->has_local ? addr_fmt_ip(&v->local, a, sizeof(a)) : "unknown",
		    v->has_mapped ? addr_fmt_ip(&v->mapped, b, sizeof(b)) : "unknown",
		    v->nat == 1 ? "a NAT" : v->nat == 0 ? "no NAT" : "nothing");
		break;
	default:
		fprintf(out, "unknown\n");
		break;
	}
}

void
report_text(FILE *out, const struct probe *p, const struct nat_verdict *v,
            const struct portmap *pm)
{
	char buf[ADDR_STRLEN];

	fprintf(out, "%-13s%s\n", "NAT type", nat_type_name(v->type));
	fprintf(out, "%-13s%s\n", "Mapping", nat_behavior_word(v->mapping));
	fprintf(out, "%-13s%s\n", "Filtering", nat_behavior_word(v->filtering));
	fprintf(out, "%-13s%s\n", "Hairpinning",
	    v->nat == 0 ? "not applicable (no NAT)" : yes_no_unknown(v->hairpinning));
	text_addr(out, "Local", v->has_local, &v->local);
	text_addr(out, "Mapped", v->has_mapped, &v->mapped);
	fprintf(out, "%-13s%s", "Server", v->has_server ? addr_fmt(&v->server, buf, sizeof(buf)) : "unknown");
	if (v->has_alternate)
		fprintf(out, " (alternate %s)", addr_fmt(&v->alternate, buf, sizeof(buf)));
	fputc('\n', out);
	fprintf(out, "%-13s%llu ms, %u datagrams sent", "Time",
	    (unsigned long long)report_elapsed_ms(p), p->stats.sent);
	/* A plain request that was never answered is silence no NAT explains:
	 * "no loss seen" would deny the warnings about it. */
	if (v->plain_unanswered > p->stats.lost_sends)
		fprintf(out, ", %u of %u plain requests unanswered", v->plain_unanswered,
		    v->plain_sent);
	else if (v->loss > 0)
		fprintf(out, ", %.0f%% of exchanges lost", v->loss * 100.0);
	else if (v->loss == 0)
		fprintf(out, ", no loss seen");
	fputc('\n', out);
	for (size_t i = 0; i < v->nservers; i++) {
		char why[REPORT_FINDING_LEN];
		size_t used = 0;

		if (v->servers[i].trusted)
			continue;
		why[0] = '\0';
		cat_problems(why, sizeof(why), &used, v->servers[i].problems);
		fprintf(out, "%-13s%s: %s\n", "Untrusted",
		    addr_fmt(&v->servers[i].address, buf, sizeof(buf)), why);
	}
	if (pm != NULL)
		text_portmap(out, pm, v);
}

void
report_quiet(FILE *out, const struct nat_verdict *v)
{
	fprintf(out, "%s\n", nat_type_word(v->type));
}

void
report_warnings(FILE *out, const struct nat_verdict *v)
{
	report_warnings_tagged(out, "", v);
}

/* Each finding as a warning, or, with beside_error, all but those the
 * error line of a run that reached no server already gives. */
static void
warnings(FILE *out, const char *tag, const struct nat_verdict *v, int beside_error)
{
	char text[REPORT_FINDING_LEN];

	for (size_t i = 0; i < v->nfindings; i++) {
		enum nat_code c = v->findings[i].code;

		if (beside_error && v->unreachable &&
		    (c == NAT_F_NO_STUN_SERVER || c == NAT_F_UNREACHABLE))
			continue;
		fprintf(out, "natcheck: warning: %s%s\n", tag,
		    report_finding_text(&v->findings[i], text, sizeof(text)));
	}
}

void
report_warnings_tagged(FILE *out, const char *tag, const struct nat_verdict *v)
{
	warnings(out, tag, v, 0);
}

void
report_warnings_beside_error(FILE *out, const char *tag, const struct nat_verdict *v)
{
	warnings(out, tag, v, 1);
}

void
report_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", out);
		else if (*c < 0x20 || *c >= 0x7f)
			fprintf(out, "\\u%04x", *c);  /* our text is ASCII; never emit broken UTF-8 */
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

void
report_json_addr(FILE *out, const char *key, int has, const struct stun_addr *a)
{
	char buf[ADDR_STRLEN];

	fprintf(out, "\"%s\":", key);
	if (has)
		report_json_string(out, addr_fmt(a, buf, sizeof(buf)));
	else
		fputs("null", out);
}

static void
json_test(FILE *out, const struct probe *p, const struct probe_test *t)
{
	char buf[ADDR_STRLEN];
	/* "none": CHANGE-REQUEST with no flag set (ask-other-address). */
	int asks = t->has_change || t->change != 0;

	fputs("{\"name\":", out);
	report_json_string(out, probe_kind_name(t->kind));
	fputs(",\"result\":", out);
	report_json_string(out, probe_result_name(t->result));
	fputs(",\"server\":", out);
	report_json_string(out, addr_fmt(&p->cfg.servers[t->server], buf, sizeof(buf)));
	fputc(',', out);
	report_json_addr(out, "destination", t->result != PROBE_NOT_RUN, &t->dst);
	fprintf(out, ",\"change_request\":%s", asks ? "" : "null");
	if (asks)
		report_json_string(out, t->change == (STUN_CHANGE_IP | STUN_CHANGE_PORT) ? "ip+port" :
		    t->change == STUN_CHANGE_IP ? "ip" : t->change == STUN_CHANGE_PORT ? "port" :
		    "none");
	fputs(",\"rtt_ms\":", out);
	if (t->result == PROBE_ANSWERED)
		fprintf(out, "%u", (unsigned)t->rtt_ms);
	else
		fputs("null", out);
	fprintf(out, ",\"sent\":%zu,\"retransmissions\":%zu,", t->nsent, t->nsent ? t->nsent - 1 : 0);
	report_json_addr(out, "mapped", t->result == PROBE_ANSWERED && t->has_mapped, &t->mapped);
	fputc(',', out);
	report_json_addr(out, "from", t->result == PROBE_ANSWERED, &t->from);
	fprintf(out, ",\"wrong_source\":%u,\"error_code\":", t->wrong_source);
	if (t->errors > 0)
		fprintf(out, "%d", t->error_code);
	else
		fputs("null", out);
	fputc('}', out);
}

static const char *
kind_word(unsigned k)
{
	return probe_kind_name((enum probe_kind)k);
}

static const char *
problem_bit_word(unsigned k)
{
	return k < NAT_SP_COUNT ? server_problem_words[k] : "unknown";
}

/* ,"key":[word of each set bit below nbits] */
static void
json_bits(FILE *out, const char *key, uint32_t bits, unsigned nbits,
          const char *(*word)(unsigned))
{
	int n = 0;

	fprintf(out, ",\"%s\":[", key);
	for (unsigned k = 0; k < nbits; k++) {
		if (!(bits & (1u << k)))
			continue;
		if (n++ > 0)
			fputc(',', out);
		report_json_string(out, word(k));
	}
	fputc(']', out);
}

/* One finding: {"code":..., "message":..., then its data by name}. */
static void
json_finding(FILE *out, const struct nat_finding *f)
{
	const struct code_desc *d = &descs[(unsigned)f->code < NAT_F_COUNT ? f->code : 0];
	char text[REPORT_FINDING_LEN];

	fputs("{\"code\":", out);
	report_json_string(out, report_code_word(f->code));
	fputs(",\"message\":", out);
	report_json_string(out, report_finding_text(f, text, sizeof(text)));
	for (int i = 0; i < NAT_FINDING_ADDRS; i++) {
		if (d->addr[i] == NULL)
			continue;
		fputc(',', out);
		report_json_addr(out, d->addr[i], addr_valid(&f->addr[i]), &f->addr[i]);
	}
	for (int i = 0; i < NAT_FINDING_COUNTS; i++)
		if (d->count[i] != NULL)
			fprintf(out, ",\"%s\":%u", d->count[i], f->count[i]);
	for (int i = 0; i < 2; i++) {
		if (d->test[i] != NULL) {
			fprintf(out, ",\"%s\":", d->test[i]);
			report_json_string(out, probe_kind_name(f->test[i]));
		}
		if (d->result[i] != NULL) {
			fprintf(out, ",\"%s\":", d->result[i]);
			report_json_string(out, probe_result_name(f->result[i]));
		}
	}
	if (d->tests != NULL)
		json_bits(out, d->tests, f->tests, PROBE_KIND_COUNT, kind_word);
	if (d->problems != NULL)
		json_bits(out, d->problems, f->tests, NAT_SP_COUNT, problem_bit_word);
	if (d->value == NULL)
		goto done;
	fprintf(out, ",\"%s\":", d->value);
	switch (d->vkind) {
	case VAL_INT:
		fprintf(out, "%d", f->value);
		break;
	case VAL_STATUS:
		if (f->value != 0)
			report_json_string(out, stun_strerror(f->value));
		else
			fputs("null", out);
		break;
	case VAL_PROBLEM:
		report_json_string(out, problem_word(f->value));
		break;
	case VAL_UNREACH:
		report_json_string(out, unreach_word(f->value));
		break;
	case VAL_FIRST:
		report_json_string(out, first_word(f->value));
		break;
	case VAL_BOOL:
		fputs(f->value ? "true" : "false", out);
		break;
	case VAL_NONE:
		fputs("null", out);
		break;
	}
done:
	fputc('}', out);
}

static void
json_int_or_null(FILE *out, const char *key, int has, long n)
{
	fprintf(out, ",\"%s\":", key);
	if (has)
		fprintf(out, "%ld", n);
	else
		fputs("null", out);
}

static void
json_ip(FILE *out, const char *key, int has, const struct stun_addr *a)
{
	char buf[ADDR_STRLEN];

	fprintf(out, ",\"%s\":", key);
	if (has)
		report_json_string(out, addr_fmt_ip(a, buf, sizeof(buf)));
	else
		fputs("null", out);
}

/* The "portmap" object (natcheck.1, OUTPUT). */
static void
json_portmap(FILE *out, const struct portmap *pm)
{
	const struct portmap_proto *ps[] = { &pm->upnp, &pm->natpmp, &pm->pcp };
	const char *names[] = { "upnp", "natpmp", "pcp" };

	fprintf(out, ",\"portmap\":{\"enabled\":%s", pm->cfg.enabled ? "true" : "false");
	for (int i = 0; i < 3; i++)
		fprintf(out, ",\"%s\":%s", names[i], portmap_state_json(ps[i]->state));
	json_ip(out, "gateway", pm->cfg.has_gateway, &pm->cfg.gateway);
	json_ip(out, "external", pm->has_external, &pm->external);
	fprintf(out, ",\"double_nat\":%s,\"double_nat_reason\":",
	    pm->double_nat == 1 ? "true" : pm->double_nat == 0 ? "false" : "null");
	report_json_string(out, portmap_dnat_word(pm->dn_reason));
	json_int_or_null(out, "natpmp_result", pm->natpmp.result >= 0, pm->natpmp.result);
	json_ip(out, "natpmp_external", pm->natpmp.has_external, &pm->natpmp.external);
	json_int_or_null(out, "pcp_result", pm->pcp.result >= 0, pm->pcp.result);
	json_ip(out, "upnp_external", pm->upnp.has_external, &pm->upnp.external);
	json_int_or_null(out, "upnp_error", pm->upnp_error >= 0, pm->upnp_error);
	for (int i = 0; i < 3; i++) {
		fprintf(out, ",\"%s_status\":", names[i]);
		if (ps[i]->state == PORTMAP_UNTRIED)
			fputs("null", out);
		else
			report_json_string(out, portmap_status_name(ps[i]->error));
	}
	json_int_or_null(out, "elapsed_ms", 1, (long)(pm->end_ms >= pm->start_ms ?
	    pm->end_ms - pm->start_ms : 0));
	fputc('}', out);
}

/* One entry of the "servers" array (natcheck.1, OUTPUT). */
static void
json_server(FILE *out, const struct nat_server *s, int comma)
{
	if (comma)
		fputc(',', out);
	fputc('{', out);
	report_json_addr(out, "address", 1, &s->address);
	json_int_or_null(out, "rfc", s->rfc != 0, s->rfc);
	fprintf(out, ",\"change_request\":%s,\"trusted\":%s",
	    s->change_request == 1 ? "true" : s->change_request == 0 ? "false" : "null",
	    s->trusted ? "true" : "false");
	json_bits(out, "problems", s->problems, NAT_SP_COUNT, problem_bit_word);
	fputc('}', out);
}

void
report_json(FILE *out, const struct probe *p, const struct nat_verdict *v,
            const struct portmap *pm)
{
	fputc('{', out);
	report_json_members(out, p, v, pm);
	fputs("}\n", out);
}

static const char *const fam_keys[REPORT_NFAM] = { "ipv4", "ipv6" };
static const char *const fam_titles[REPORT_NFAM] = { "IPv4", "IPv6" };

void
report_json_families(FILE *out, const struct report_family fam[REPORT_NFAM])
{
	for (int k = 0; k < REPORT_NFAM; k++) {
		const struct report_family *f = &fam[k];

		fprintf(out, ",\"%s\":{\"tested\":%s", fam_keys[k], f->tested ? "true" : "false");
		if (f->tested) {
			fputs(",\"reason\":null,\"message\":null,", out);
			report_json_members(out, f->p, f->v, NULL);
		} else {
			fputs(",\"reason\":", out);
			report_json_string(out, f->why ? f->why : "unknown");
			fputs(",\"message\":", out);
			report_json_string(out, f->reason ? f->reason : "");
		}
		fputc('}', out);
	}
}

void
report_text_families(FILE *out, const struct report_family fam[REPORT_NFAM], int primary,
                     const struct portmap *pm, void (*extra)(FILE *out, const void *ctx),
                     const void *ctx)
{
	int both = fam[0].tested && fam[1].tested;

	for (int n = 0; n < REPORT_NFAM; n++) {
		int k = n == 0 ? primary : 1 - primary;
		const struct report_family *f = &fam[k];

		if (f->tested) {
			if (both)
				fprintf(out, "%s%s\n", n > 0 ? "\n" : "", fam_titles[k]);
			report_text(out, f->p, f->v, k == primary ? pm : NULL);
			if (k == primary && extra != NULL)
				extra(out, ctx);
		} else if (f->asked) {
			fprintf(out, "%-13snot tested: %s\n", fam_titles[k], f->reason);
		}
	}
}

void
report_json_ext(FILE *out, const struct probe *p, const struct nat_verdict *v,
                const struct portmap *pm, void (*extra)(FILE *out, const void *ctx),
                const void *ctx)
{
	fputc('{', out);
	report_json_members(out, p, v, pm);
	if (extra != NULL)
		extra(out, ctx);
	fputs("}\n", out);
}

void
report_json_members(FILE *out, const struct probe *p, const struct nat_verdict *v,
                    const struct portmap *pm)
{
	char text[REPORT_FINDING_LEN];

	fputs("\"type\":", out);
	report_json_string(out, nat_type_word(v->type));
	fputs(",\"name\":", out);
	report_json_string(out, nat_type_name(v->type));
	fputs(",\"nat\":", out);
	fputs(v->nat == 1 ? "true" : v->nat == 0 ? "false" : "null", out);
	fputs(",\"unreachable\":", out);
	fputs(v->unreachable ? "true" : "false", out);
	fputs(",\"mapping\":", out);
	report_json_string(out, nat_behavior_word(v->mapping));
	fputs(",\"filtering\":", out);
	report_json_string(out, nat_behavior_word(v->filtering));
	fputs(",\"hairpinning\":", out);
	fputs(v->hairpinning == 1 ? "true" : v->hairpinning == 0 ? "false" : "null", out);
	fputc(',', out);
	report_json_addr(out, "local", v->has_local, &v->local);
	fputc(',', out);
	report_json_addr(out, "mapped", v->has_mapped, &v->mapped);
	fputc(',', out);
	report_json_addr(out, "server", v->has_server, &v->server);
	fputc(',', out);
	report_json_addr(out, "alternate", v->has_alternate, &v->alternate);
	fputs(",\"tests\":[", out);
	for (size_t i = 0, n = 0; i < p->ntests; i++) {
		if (n++ > 0)
			fputc(',', out);
		json_test(out, p, &p->tests[i]);
	}
	fprintf(out, "],\"elapsed_ms\":%llu,\"datagrams_sent\":%u,\"datagrams_received\":%u",
	    (unsigned long long)report_elapsed_ms(p), p->stats.sent, p->stats.received);
	fputs(",\"loss\":", out);
	if (v->loss >= 0)
		fprintf(out, "%.3f", v->loss);
	else
		fputs("null", out);
	fprintf(out, ",\"ignored\":{\"malformed\":%u,\"stray\":%u,\"duplicate\":%u,\"late\":%u,"
	    "\"wrong_source\":%u,\"echoed\":%u,\"unmatched\":%u,\"indications\":%u,"
	    "\"wrong_socket\":%u}", p->stats.malformed, p->stats.stray, p->stats.duplicates,
	    p->stats.late, p->stats.wrong_source, p->stats.echoed, p->stats.unmatched,
	    p->stats.indications, p->stats.wrong_socket);
	if (pm != NULL)
		json_portmap(out, pm);
	fputs(",\"servers\":[", out);
	for (size_t i = 0; i < v->nservers; i++)
		json_server(out, &v->servers[i], i > 0);
	fputs("]", out);
	fputs(",\"warnings\":[", out);
	for (size_t i = 0; i < v->nfindings; i++) {
		if (i > 0)
			fputc(',', out);
		report_json_string(out, report_finding_text(&v->findings[i], text, sizeof(text)));
	}
	fputs("],\"findings\":[", out);
	for (size_t i = 0; i < v->nfindings; i++) {
		if (i > 0)
			fputc(',', out);
		json_finding(out, &v->findings[i]);
	}
	fputc(']', out);
}
