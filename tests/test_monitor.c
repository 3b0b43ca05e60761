/*
 * test_monitor.c - the monitoring renderers (monitor.c) on verdicts made
 * by hand: what --watch compares, the plugin state, the Prometheus text
 * and its escaping, the JSON head and its time.  The real tools judge the
 * real output end to end (tests/e2e/monitor_*.py); these pin the edges
 * that a real run rarely reaches (a '|' in an error, a quote in a label,
 * an error after a verdict).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"

static struct probe pr;
static struct nat_verdict v;
static struct monitor_run run;

static void
ip4(struct stun_addr *a, uint8_t last, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->addr[0] = 198;
	a->addr[1] = 51;
	a->addr[2] = 100;
	a->addr[3] = last;
	a->port = port;
}

/* A run that tested: a port restricted cone, mapped to 198.51.100.1. */
static void
verdict(enum nat_type t)
{
	memset(&v, 0, sizeof(v));
	memset(&run, 0, sizeof(run));
	v.type = t;
	v.mapping = NAT_BEH_ENDPOINT_INDEPENDENT;
	v.filtering = NAT_BEH_ADDRESS_PORT_DEPENDENT;
	v.hairpinning = 0;
	v.nat = 1;
	v.has_mapped = 1;
	ip4(&v.mapped, 1, 40000);
	v.loss = 0.25;
	run.ran = 1;
	run.p = &pr;
	run.v = &v;
	run.exit = 12;
	run.start_s = 1795774227;
	run.start_ms = 275;
	run.elapsed_s = 0.118;
	run.server = "203.0.113.1:3478";
}

/* A run that could not test. */
static void
failed(const char *why)
{
	memset(&run, 0, sizeof(run));
	run.exit = 1;
	snprintf(run.error, sizeof(run.error), "%s", why);
	run.server = "203.0.113.1:3478";
}

/* What a renderer printed, as a string (free it). */
static char *buf;
static size_t buflen;

static FILE *
capture(void)
{
	FILE *f = open_memstream(&buf, &buflen);

	cr_assert_not_null(f);
	return f;
}

static char *
captured(FILE *f)
{
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(monitor, time_is_rfc3339_utc_with_milliseconds)
{
	char t[MONITOR_TIMELEN];

	monitor_time(0, 0, t, sizeof(t));
	cr_assert_str_eq(t, "1970-01-01T00:00:00.000Z");
	monitor_time(1795774227, 275, t, sizeof(t));
	cr_assert_str_eq(t, "2026-11-27T10:10:27.275Z");
}

Test(monitor, nothing_changes_on_the_first_run)
{
	struct monitor_state prev, cur;

	memset(&prev, 0, sizeof(prev));
	verdict(NAT_PORT_RESTRICTED_CONE);
	monitor_state_of(&run, &cur);
	cr_assert_eq(monitor_changes(&prev, &cur), 0u);
}

Test(monitor, a_new_port_alone_is_no_change)
{
	struct monitor_state prev, cur;

	verdict(NAT_PORT_RESTRICTED_CONE);
	monitor_state_of(&run, &prev);
	v.mapped.port = 40001;          /* every run has fresh ports */
	monitor_state_of(&run, &cur);
	cr_assert_eq(monitor_changes(&prev, &cur), 0u);
}

Test(monitor, a_new_public_address_is_a_change_of_mapped)
{
	struct monitor_state prev, cur;

	verdict(NAT_PORT_RESTRICTED_CONE);
	monitor_state_of(&run, &prev);
	ip4(&v.mapped, 2, 40000);
	monitor_state_of(&run, &cur);
	cr_assert_eq(monitor_changes(&prev, &cur), 1u << 4);
	cr_assert_str_eq(monitor_key_names[4], "mapped");
}

Test(monitor, each_verdict_key_is_compared)
{
	struct monitor_state prev, cur;

	verdict(NAT_PORT_RESTRICTED_CONE);
	monitor_state_of(&run, &prev);
	v.type = NAT_SYMMETRIC;
	v.mapping = NAT_BEH_ADDRESS_PORT_DEPENDENT;
	v.hairpinning = -1;
	monitor_state_of(&run, &cur);
	cr_assert_eq(monitor_changes(&prev, &cur), (1u << 0) | (1u << 1) | (1u << 3));
}

Test(monitor, an_error_after_a_verdict_changes_everything_then_nothing)
{
	struct monitor_state prev, cur, again;

	verdict(NAT_FULL_CONE);
	monitor_state_of(&run, &prev);
	failed("no server");
	monitor_state_of(&run, &cur);
	cr_assert_eq(monitor_changes(&prev, &cur), 0x1fu);
	monitor_state_of(&run, &again);
	cr_assert_eq(monitor_changes(&cur, &again), 0u);
}

Test(monitor, plugin_states)
{
	struct monitor_expect want[] = { { NAT_FULL_CONE, -1 }, { NAT_PORT_RESTRICTED_CONE, -1 } };

	verdict(NAT_PORT_RESTRICTED_CONE);
	cr_assert_eq(monitor_nagios_state(&run, want, 2), MONITOR_OK);
	v.type = NAT_SYMMETRIC;
	cr_assert_eq(monitor_nagios_state(&run, want, 2), MONITOR_CRITICAL);
	v.type = NAT_UNKNOWN;
	cr_assert_eq(monitor_nagios_state(&run, want, 2), MONITOR_UNKNOWN);
	/* Tested, but no server could be reached: exit 1, not a state of the NAT. */
	v.type = NAT_UDP_BLOCKED;
	run.exit = 1;
	cr_assert_eq(monitor_nagios_state(&run, want, 2), MONITOR_UNKNOWN);
	failed("cannot resolve x");
	cr_assert_eq(monitor_nagios_state(&run, want, 2), MONITOR_UNKNOWN);
}

Test(monitor, plugin_line_keeps_its_shape_whatever_the_error_says)
{
	struct monitor_expect want[] = { { NAT_OPEN, -1 } };
	FILE *f = capture();
	char *s;

	failed("a | b\nc");
	monitor_nagios(f, &run, MONITOR_UNKNOWN, want, 1);
	s = captured(f);
	cr_assert_str_eq(s, "NATCHECK UNKNOWN - a / b c (expected open, server 203.0.113.1:3478)"
	    " | elapsed=0.000s;;;0; loss=U;;;0;1\n");
	free(s);
}

Test(monitor, plugin_line_with_a_verdict)
{
	struct monitor_expect want[] = { { NAT_FULL_CONE, -1 }, { NAT_PORT_RESTRICTED_CONE, -1 } };
	FILE *f = capture();
	char *s;

	verdict(NAT_PORT_RESTRICTED_CONE);
	monitor_nagios(f, &run, MONITOR_OK, want, 2);
	s = captured(f);
	cr_assert_str_eq(s, "NATCHECK OK - port-restricted-cone (expected full-cone,"
	    "port-restricted-cone, server 203.0.113.1:3478) | elapsed=0.118s;;;0; loss=0.250;;;0;1\n");
	free(s);
}

/* How many lines of s start with prefix. */
static int
count_lines(const char *s, const char *prefix)
{
	int n = 0;

	for (const char *p = s; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

/* The last line of s, which ends with a newline. */
static const char *
last_line(const char *s)
{
	const char *l = s + strlen(s) - 1;

	while (l > s && l[-1] != '\n')
		l--;
	return l;
}

/* How many lines of s contain needle and end in " 1" (a gauge set). */
static int
count_ones(const char *s, const char *needle)
{
	int n = 0;

	for (const char *l = s; *l != '\0'; ) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		if (strstr(line, needle) != NULL && len >= 2 && strcmp(line + len - 2, " 1") == 0)
			n++;
		l += len + (e != NULL);
	}
	return n;
}

Test(monitor, prometheus_one_hot_and_absent_unknowns)
{
	FILE *f = capture();
	char *s;

	verdict(NAT_PORT_RESTRICTED_CONE);
	v.loss = -1;
	monitor_prom(f, &run);
	s = captured(f);
	cr_assert_eq(count_lines(s, "natcheck_nat_type{"), 8);
	cr_assert_eq(count_lines(s, "natcheck_nat_type{server=\"203.0.113.1:3478\","
	    "type=\"port-restricted-cone\"} 1"), 1);
	cr_assert_eq(count_lines(s, "natcheck_mapping{server=\"203.0.113.1:3478\","
	    "behaviour=\"endpoint-independent\"} 1"), 1);
	cr_assert_eq(count_lines(s, "natcheck_hairpinning{server=\"203.0.113.1:3478\"} 0"), 1);
	cr_assert_eq(count_lines(s, "natcheck_loss_ratio{"), 0, "unknown loss must be absent");
	cr_assert_eq(count_lines(s, "# TYPE natcheck_loss_ratio gauge"), 1);
	cr_assert_eq(count_lines(s, "natcheck_server_up{server=\"203.0.113.1:3478\"} 1"), 1);
	cr_assert_eq(count_lines(s, "natcheck_last_run_timestamp_seconds{server=\"203.0.113.1:3478\"}"
	    " 1795774227.275"), 1);
	cr_assert_eq(count_lines(s, "# HELP "), 15);
	cr_assert_eq(count_lines(s, "# TYPE "), 15);
	/* The timestamp stays last: a reader that sees it has the whole file. */
	cr_assert_eq(strncmp(last_line(s), "natcheck_last_run_timestamp_seconds{", 36), 0, "%s", s);
	free(s);
}

/* Both families tested: IPv4 a port restricted cone (the top level), IPv6
 * a stateful firewall without NAT. */
static struct probe pr6;
static struct nat_verdict v6;

static void
dual(void)
{
	verdict(NAT_PORT_RESTRICTED_CONE);
	v.loss = 0;
	v6 = v;
	v6.type = NAT_SYMMETRIC_FIREWALL;
	v6.nat = 0;
	v6.hairpinning = -1;
	v6.loss = -1;
	pr.start_ms = 1000;
	pr.end_ms = 1302;
	pr6.start_ms = 1000;
	pr6.end_ms = 1201;
	run.has_fam = 1;
	run.primary = 0;
	run.fam[0] = (struct report_family){ .tested = 1, .asked = 1, .why = "tested",
	    .reason = "", .p = &pr, .v = &v };
	run.fam[1] = (struct report_family){ .tested = 1, .asked = 1, .why = "tested",
	    .reason = "", .p = &pr6, .v = &v6 };
}

#define S4 "{server=\"203.0.113.1:3478\",family=\"ipv4\""
#define S6 "{server=\"203.0.113.1:3478\",family=\"ipv6\""

Test(monitor, prometheus_a_series_per_family_beside_the_top_level)
{
	FILE *f = capture();
	char *s;

	dual();
	monitor_prom(f, &run);
	s = captured(f);
	/* The top-level series are the IPv4 verdict's, as before. */
	cr_assert_eq(count_lines(s, "natcheck_nat_type{server=\"203.0.113.1:3478\","
	    "type=\"port-restricted-cone\"} 1"), 1, "%s", s);
	cr_assert_eq(count_lines(s, "natcheck_nat_type{server=\"203.0.113.1:3478\",family="), 0);
	cr_assert_eq(count_lines(s, "natcheck_family_tested" S4 "} 1"), 1, "%s", s);
	cr_assert_eq(count_lines(s, "natcheck_family_tested" S6 "} 1"), 1);
	cr_assert_eq(count_lines(s, "natcheck_family_nat_type{"), 16);
	cr_assert_eq(count_lines(s, "natcheck_family_nat_type" S4 ",type=\"port-restricted-cone\"} 1"), 1);
	cr_assert_eq(count_lines(s, "natcheck_family_nat_type" S6 ",type=\"symmetric-udp-firewall\"} 1"),
	    1);
	cr_assert_eq(count_lines(s, "natcheck_family_mapping" S6 ",behaviour=\"endpoint-independent\"} 1"),
	    1);
	cr_assert_eq(count_lines(s, "natcheck_family_filtering" S6
	    ",behaviour=\"address-and-port-dependent\"} 1"), 1);
	/* Unknown or not applicable: absent, for that family only. */
	cr_assert_eq(count_lines(s, "natcheck_family_hairpinning" S4 "} 0"), 1);
	cr_assert_eq(count_lines(s, "natcheck_family_hairpinning" S6), 0);
	cr_assert_eq(count_lines(s, "natcheck_family_loss_ratio" S4 "} 0.000"), 1);
	cr_assert_eq(count_lines(s, "natcheck_family_loss_ratio" S6), 0);
	cr_assert_eq(count_lines(s, "natcheck_family_elapsed_seconds" S4 "} 0.302"), 1);
	cr_assert_eq(count_lines(s, "natcheck_family_elapsed_seconds" S6 "} 0.201"), 1);
	/* Each metric's samples follow its one HELP and TYPE. */
	cr_assert_eq(count_lines(s, "# HELP natcheck_family_nat_type "), 1);
	cr_assert_eq(count_lines(s, "# TYPE natcheck_family_nat_type gauge"), 1);
	free(s);
}

Test(monitor, a_change_in_either_family_is_named_with_its_prefix)
{
	struct monitor_state prev, cur, gone;

	dual();
	monitor_state_of(&run, &prev);
	/* IPv6's firewall starts translating: IPv6 alone changed, the top
	 * level (IPv4) did not. */
	v6.type = NAT_SYMMETRIC;
	v6.mapping = NAT_BEH_ADDRESS_PORT_DEPENDENT;
	monitor_state_of(&run, &cur);
	cr_assert_eq(monitor_changes(&prev, &cur), MONITOR_FAM_BIT(1, 0) | MONITOR_FAM_BIT(1, 1));
	/* IPv4 changes: the top level and "ipv4.*" both say so. */
	prev = cur;
	v.type = NAT_FULL_CONE;
	v.filtering = NAT_BEH_ENDPOINT_INDEPENDENT;
	monitor_state_of(&run, &cur);
	cr_assert_eq(monitor_changes(&prev, &cur), (1u << 0) | (1u << 2) |
	    MONITOR_FAM_BIT(0, 0) | MONITOR_FAM_BIT(0, 2));
	/* IPv6 becomes untestable: every IPv6 key changes (no verdict), as
	 * every top-level key does after an error. */
	run.fam[1] = (struct report_family){ .tested = 0, .asked = 1, .why = "no-route",
	    .reason = "no route" };
	monitor_state_of(&run, &gone);
	cr_assert_eq(monitor_changes(&cur, &gone), 0x1fu * MONITOR_FAM_BIT(1, 0));
}

Test(monitor, watch_line_names_the_other_family_and_its_changes)
{
	FILE *f = capture();
	char *s;

	dual();
	run.exit = 12;
	monitor_text_line(f, &run, MONITOR_FAM_BIT(1, 0));
	s = captured(f);
	cr_assert_str_eq(s, "2026-11-27T10:10:27.275Z port-restricted-cone mapping=endpoint-independent"
	    " filtering=address-and-port-dependent hairpinning=no mapped=198.51.100.1:40000"
	    " ipv6=symmetric-udp-firewall elapsed=0.118s exit=12 changed=ipv6.type\n");
	free(s);
	f = capture();
	run.fam[1] = (struct report_family){ .tested = 0, .asked = 1, .why = "no-route",
	    .reason = "no route" };
	monitor_json_head(f, &run, 1, (1u << 4) | MONITOR_FAM_BIT(0, 4) | MONITOR_FAM_BIT(1, 0));
	s = captured(f);
	cr_assert_str_eq(s, "\"schema\":1,\"time\":\"2026-11-27T10:10:27.275Z\",\"exit\":12,"
	    "\"changed\":[\"mapped\",\"ipv4.mapped\",\"ipv6.type\"]");
	free(s);
	f = capture();
	monitor_text_line(f, &run, 0);
	s = captured(f);
	cr_assert_not_null(strstr(s, " ipv6=no-route elapsed="), "%s", s);
	free(s);
	f = capture();
	run.fam[1].asked = 0;           /* -4: IPv6 left out on purpose */
	monitor_text_line(f, &run, 0);
	s = captured(f);
	cr_assert_null(strstr(s, "ipv6="), "%s", s);
	free(s);
}

Test(monitor, plugin_judges_each_family_it_is_given_words_for)
{
	struct monitor_expect both[] = { { NAT_PORT_RESTRICTED_CONE, -1 },
	    { NAT_SYMMETRIC_FIREWALL, 1 }, { NAT_OPEN, 1 } };
	struct monitor_expect v6only[] = { { NAT_OPEN, 1 } };
	FILE *f;
	char *s;

	dual();
	cr_assert_eq(monitor_nagios_state(&run, both, 3), MONITOR_OK);
	/* Only IPv6 judged: IPv4's type does not matter. */
	cr_assert_eq(monitor_nagios_state(&run, v6only, 1), MONITOR_CRITICAL);
	v6.type = NAT_OPEN;
	cr_assert_eq(monitor_nagios_state(&run, v6only, 1), MONITOR_OK);
	/* IPv4 wrong, IPv6 right: CRITICAL. */
	v.type = NAT_SYMMETRIC;
	cr_assert_eq(monitor_nagios_state(&run, both, 3), MONITOR_CRITICAL);
	v.type = NAT_PORT_RESTRICTED_CONE;
	/* IPv6 unreachable, or not tested: UNKNOWN, not OK and not CRITICAL. */
	v6.unreachable = 1;
	cr_assert_eq(monitor_nagios_state(&run, both, 3), MONITOR_UNKNOWN);
	v6.unreachable = 0;
	run.fam[1] = (struct report_family){ .tested = 0, .asked = 1, .why = "no-route",
	    .reason = "no route" };
	cr_assert_eq(monitor_nagios_state(&run, both, 3), MONITOR_UNKNOWN);
	/* ... but a wrong IPv4 beside it is still CRITICAL. */
	v.type = NAT_SYMMETRIC;
	cr_assert_eq(monitor_nagios_state(&run, both, 3), MONITOR_CRITICAL);
	v.type = NAT_PORT_RESTRICTED_CONE;
	f = capture();
	monitor_nagios(f, &run, MONITOR_UNKNOWN, both, 3);
	s = captured(f);
	cr_assert_str_eq(s, "NATCHECK UNKNOWN - port-restricted-cone, ipv6 not tested (expected "
	    "port-restricted-cone,ipv6:symmetric-udp-firewall,ipv6:open, server 203.0.113.1:3478)"
	    " | elapsed=0.118s;;;0; loss=0.000;;;0;1 ipv6_loss=U;;;0;1\n");
	free(s);
	dual();
	f = capture();
	monitor_nagios(f, &run, MONITOR_OK, both, 3);
	s = captured(f);
	cr_assert_str_eq(s, "NATCHECK OK - port-restricted-cone, ipv6 symmetric-udp-firewall (expected "
	    "port-restricted-cone,ipv6:symmetric-udp-firewall,ipv6:open, server 203.0.113.1:3478)"
	    " | elapsed=0.118s;;;0; loss=0.000;;;0;1 ipv6_loss=U;;;0;1\n");
	free(s);
}

Test(monitor, prometheus_a_family_without_a_verdict_is_never_a_type)
{
	FILE *f = capture();
	char *s;

	/* IPv6 not tested (no route): 0 and all its gauges 0 or absent. */
	dual();
	run.fam[1] = (struct report_family){ .tested = 0, .asked = 1, .why = "no-route",
	    .reason = "no route to [2001:db8::1]:3478" };
	monitor_prom(f, &run);
	s = captured(f);
	cr_assert_eq(count_lines(s, "natcheck_family_tested" S6 "} 0"), 1, "%s", s);
	cr_assert_eq(count_lines(s, "natcheck_family_nat_type" S6), 8);
	cr_assert_eq(count_lines(s, "natcheck_family_elapsed_seconds" S6), 0);
	cr_assert_eq(count_lines(s, "natcheck_family_tested" S4 "} 1"), 1);
	free(s);

	/* Tested, but its server was unreachable: no verdict either. */
	f = capture();
	dual();
	v6.unreachable = 1;
	monitor_prom(f, &run);
	s = captured(f);
	cr_assert_eq(count_lines(s, "natcheck_family_tested" S6 "} 0"), 1, "%s", s);
	cr_assert_eq(count_ones(s, S6), 0, "an IPv6 gauge is 1 without a verdict: %s", s);
	cr_assert_gt(count_ones(s, S4), 0);
	free(s);

	/* A run that failed: no family has a verdict. */
	f = capture();
	failed("cannot resolve x");
	monitor_prom(f, &run);
	s = captured(f);
	cr_assert_eq(count_lines(s, "natcheck_family_tested" S4 "} 0"), 1, "%s", s);
	cr_assert_eq(count_lines(s, "natcheck_family_tested" S6 "} 0"), 1);
	free(s);
}

Test(monitor, prometheus_error_is_never_a_type)
{
	FILE *f = capture();
	char *s;

	failed("cannot resolve x");
	run.server = "a\"b\\c\nd";
	monitor_prom(f, &run);
	s = captured(f);
	cr_assert_eq(count_lines(s, "natcheck_nat_type{"), 8);
	cr_assert_null(strstr(s, "} 1\n"), "no gauge may be 1 after an error: %s", s);
	cr_assert_eq(count_lines(s, "natcheck_server_up{server=\"a\\\"b\\\\c\\nd\"} 0"), 1, "%s", s);
	cr_assert_eq(count_lines(s, "natcheck_hairpinning{"), 0);
	free(s);
}

Test(monitor, json_head_and_error_object)
{
	FILE *f = capture();
	char *s;

	failed("no \"server\"");
	run.start_s = 1795774227;
	monitor_json_error(f, &run, 1, (1u << 0) | (1u << 4));
	s = captured(f);
	cr_assert_str_eq(s, "{\"schema\":1,\"time\":\"2026-11-27T10:10:27.000Z\",\"exit\":1,"
	    "\"changed\":[\"type\",\"mapped\"],\"error\":\"no \\\"server\\\"\"}\n");
	free(s);
}

Test(monitor, json_head_without_watch_has_no_changed)
{
	FILE *f = capture();
	char *s;

	verdict(NAT_FULL_CONE);
	run.exit = 10;
	monitor_json_head(f, &run, 0, 0);
	s = captured(f);
	cr_assert_str_eq(s, "\"schema\":1,\"time\":\"2026-11-27T10:10:27.275Z\",\"exit\":10");
	free(s);
}

Test(monitor, watch_text_line_marks_a_change)
{
	FILE *f = capture();
	char *s;

	verdict(NAT_PORT_RESTRICTED_CONE);
	monitor_text_line(f, &run, 1u << 0);
	s = captured(f);
	cr_assert_str_eq(s, "2026-11-27T10:10:27.275Z port-restricted-cone mapping=endpoint-independent"
	    " filtering=address-and-port-dependent hairpinning=no mapped=198.51.100.1:40000"
	    " elapsed=0.118s exit=12 changed=type\n");
	free(s);
}

/* The --watch line words hairpinning as the text report does: without a
 * NAT it is not applicable (text: "not applicable (no NAT)"), never
 * "unknown", which is what a NAT whose hairpinning was not found is. */
Test(monitor, watch_line_says_hairpinning_is_not_applicable_without_a_nat)
{
	FILE *f = capture();
	char *s;

	verdict(NAT_OPEN);
	v.mapping = NAT_BEH_ENDPOINT_INDEPENDENT;
	v.filtering = NAT_BEH_ENDPOINT_INDEPENDENT;
	v.hairpinning = -1;
	v.nat = 0;
	run.exit = 0;
	monitor_text_line(f, &run, 0);
	s = captured(f);
	cr_assert_not_null(strstr(s, " hairpinning=not-applicable "), "%s", s);
	free(s);
	f = capture();
	v.nat = 1;                  /* a NAT whose hairpinning is not known */
	monitor_text_line(f, &run, 0);
	s = captured(f);
	cr_assert_not_null(strstr(s, " hairpinning=unknown "), "%s", s);
	free(s);
}

/* An error beside a verdict (the metrics file could not be written): the
 * status line names the error, and the type the run found. */
Test(monitor, plugin_line_names_an_error_beside_the_verdict)
{
	struct monitor_expect open[] = { { NAT_OPEN, -1 } };
	FILE *f = capture();
	char *s;

	verdict(NAT_OPEN);
	run.exit = 1;
	snprintf(run.error, sizeof(run.error), "--metrics-file /x/y.prom: No such file");
	monitor_nagios(f, &run, MONITOR_UNKNOWN, open, 1);
	s = captured(f);
	cr_assert_eq(strncmp(s, "NATCHECK UNKNOWN - --metrics-file /x/y.prom: No such file; "
	    "the type was open (expected open, ", 85), 0, "%s", s);
	free(s);
}

Test(monitor, type_words)
{
	enum nat_type t;

	cr_assert_eq(monitor_type_of_word("symmetric-udp-firewall", &t), 0);
	cr_assert_eq(t, NAT_SYMMETRIC_FIREWALL);
	cr_assert_eq(monitor_type_of_word("open", &t), 0);
	cr_assert_eq(t, NAT_OPEN);
	cr_assert_eq(monitor_type_of_word("cone", &t), -1);
	cr_assert_eq(monitor_type_of_word("", &t), -1);
	/* As users write them: case, spaces, hyphens and underscores aside,
	 * and the RFC 3489 names. */
	cr_assert_eq(monitor_type_of_word("Full-Cone", &t), 0);
	cr_assert_eq(t, NAT_FULL_CONE);
	cr_assert_eq(monitor_type_of_word("port restricted cone", &t), 0);
	cr_assert_eq(t, NAT_PORT_RESTRICTED_CONE);
	cr_assert_eq(monitor_type_of_word("SYMMETRIC_UDP_FIREWALL", &t), 0);
	cr_assert_eq(t, NAT_SYMMETRIC_FIREWALL);
	cr_assert_eq(monitor_type_of_word("Open Internet", &t), 0);
	cr_assert_eq(t, NAT_OPEN);
	cr_assert_eq(monitor_type_of_word("udpblocked", &t), 0);
	cr_assert_eq(t, NAT_UDP_BLOCKED);
	cr_assert_eq(monitor_type_of_word("restricted", &t), -1, "no prefix matching");
	cr_assert_eq(monitor_type_of_word("full-cone-", &t), 0, "a stray hyphen is a hyphen");
	cr_assert_eq(monitor_type_of_word("- -", &t), -1);
	cr_assert_eq(monitor_type_of_word("full.cone", &t), -1);
}
