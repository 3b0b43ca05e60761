/*
 * test_logsum.c - the -v log budget of the server, in virtual time.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "logsum.h"

static struct logsum ls;

/* 192.0.2.0/24's host n, or 198.51.100.0/24's for n >= 256. */
static struct stun_addr
host(unsigned n)
{
	struct stun_addr a = { .family = 4, .port = 40000 };

	memcpy(a.addr, n < 256 ? "\xc0\x00\x02" : "\xc6\x33\x64", 3);
	a.addr[3] = (uint8_t)n;
	return a;
}

/* The summary lines of one flush. */
struct lines {
	size_t n;
	char line[LOGSUM_SLOTS + 2][LOGSUM_LINELEN];
};

static void
collect(void *ctx, const char *line)
{
	struct lines *l = ctx;

	cr_assert_lt(l->n, LOGSUM_SLOTS + 2, "more summaries than sources");
	cr_assert_lt(strlen(line), LOGSUM_LINELEN);
	snprintf(l->line[l->n++], LOGSUM_LINELEN, "%s", line);
}

/* One source: its first LOGSUM_LINES lines in full, the rest counted by
 * kind and summarised once the interval is due. */
Test(logsum, one_source_budget_then_summary)
{
	struct stun_addr a = host(9);
	static struct lines out;
	unsigned k, full = 0;

	logsum_init(&ls);
	cr_assert_eq(logsum_due(&ls), UINT64_MAX, "no interval before an event");
	for (k = 0; k < 5000; k++)
		full += (unsigned)logsum_note(&ls, &a, k < 4900 ? LOGSUM_RATELIMITED :
		                              LOGSUM_DROPPED, 1000 + k / 1000);
	cr_assert_eq(full, LOGSUM_LINES);
	cr_assert_eq(logsum_due(&ls), 1000 + LOGSUM_INTERVAL_MS);
	cr_assert_eq(logsum_flush(&ls, 1000 + LOGSUM_INTERVAL_MS, collect, &out), 1);
	cr_assert_str_eq(out.line[0], "192.0.2.9: 4900 more events in 10.0 s not logged: "
	                 "100 dropped, 4800 over a rate limit");
	cr_assert_eq(logsum_due(&ls), UINT64_MAX, "a fresh start");
	cr_assert(logsum_note(&ls, &a, LOGSUM_ANSWERED, 20000), "a new budget");
}

/* Nothing held back, nothing to say. */
Test(logsum, quiet_interval_has_no_summary)
{
	struct stun_addr a = host(9);
	static struct lines out;
	unsigned k;

	logsum_init(&ls);
	for (k = 0; k < LOGSUM_LINES; k++)
		cr_assert(logsum_note(&ls, &a, LOGSUM_ANSWERED, 5));
	cr_assert_eq(logsum_flush(&ls, 5 + LOGSUM_INTERVAL_MS, collect, &out), 0);
	cr_assert_eq(out.n, 0);
}

/* Whatever arrives - a million events from random sources, of every kind,
 * with and without a source - one interval logs at most
 * (LOGSUM_SLOTS + 1) x LOGSUM_LINES lines in full and LOGSUM_SLOTS + 1
 * summaries, and every event is either logged or counted. */
Test(logsum, any_flood_is_bounded)
{
	static struct lines out;
	uint32_t x = 7;
	unsigned long k, full = 0, counted = 0;
	size_t i;
	unsigned long long n;

	logsum_init(&ls);
	for (k = 0; k < 1000000; k++) {
		struct stun_addr a;

		x = x * 1664525u + 1013904223u;
		a = host(x % 40 * 8);   /* 40 sources: more than the slots */
		full += (unsigned long)logsum_note(&ls, k % 7 == 0 ? NULL : &a,
		                                   (enum logsum_kind)(k % LOGSUM_NKINDS), k / 100);
	}
	cr_assert_leq(full, (LOGSUM_SLOTS + 1) * LOGSUM_LINES, "%lu lines", full);
	cr_assert_eq(full, (LOGSUM_SLOTS + 1) * LOGSUM_LINES, "every budget used");
	cr_assert_eq(logsum_flush(&ls, 1000000 / 100, collect, &out), LOGSUM_SLOTS + 1);
	for (i = 0; i < out.n; i++) {
		cr_assert_eq(sscanf(strstr(out.line[i], ": ") + 2, "%llu", &n), 1, "%s",
		             out.line[i]);
		counted += (unsigned long)n;
	}
	cr_assert_eq(full + counted, 1000000, "%lu + %lu", full, counted);
	cr_assert(strncmp(out.line[LOGSUM_SLOTS], "other sources: ", 15) == 0, "%s",
	          out.line[LOGSUM_SLOTS]);
}

/* An IPv6 source is its /64, and named so. */
Test(logsum, ipv6_per_64)
{
	struct stun_addr a, b;
	static struct lines out;
	unsigned k, full = 0;

	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.addr[0] = 0x20; a.addr[1] = 0x01; a.addr[2] = 0x0d; a.addr[3] = 0xb8;
	a.addr[7] = 2;
	a.addr[15] = 1;
	b = a;
	b.addr[15] = 2;
	logsum_init(&ls);
	for (k = 0; k < 2 * LOGSUM_LINES; k++)
		full += (unsigned)logsum_note(&ls, k % 2 ? &a : &b, LOGSUM_TCP, 0);
	cr_assert_eq(full, LOGSUM_LINES, "one /64, one budget");
	cr_assert_eq(logsum_flush(&ls, 12345, collect, &out), 1);
	cr_assert_str_eq(out.line[0], "2001:db8:0:2::/64: 100 more events in 12.3 s not logged: "
	                 "100 TCP events");
}
