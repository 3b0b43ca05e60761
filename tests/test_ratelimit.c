/*
 * test_ratelimit.c - the reply limits of --rate (per source, per prefix, in
 * all), in virtual time.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "ratelimit.h"

static struct ratelimit rl;     /* 512 KB: not on the stack */

static struct stun_addr
v4(uint32_t ip)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.addr[0] = (uint8_t)(ip >> 24);
	a.addr[1] = (uint8_t)(ip >> 16);
	a.addr[2] = (uint8_t)(ip >> 8);
	a.addr[3] = (uint8_t)ip;
	a.port = 40000;
	return a;
}

/* How many of n requests at time t are let through. */
static unsigned
allowed(const struct stun_addr *a, unsigned n, uint64_t t)
{
	unsigned k, ok = 0;

	for (k = 0; k < n; k++)
		ok += (unsigned)rl_allow(&rl, a, t);
	return ok;
}

/* A new source gets a burst of 2 x rate, then rate per second. */
Test(ratelimit, burst_then_rate)
{
	struct stun_addr a = v4(0xC0000201);

	rl_init(&rl, 20, 12345);
	cr_assert_eq(allowed(&a, 100, 1000), 40);
	cr_assert_eq(allowed(&a, 100, 1000), 0);
	cr_assert_eq(allowed(&a, 100, 1500), 10, "half a second: 10 tokens");
	cr_assert_eq(allowed(&a, 100, 1549), 0, "49 ms: less than one token");
	cr_assert_eq(allowed(&a, 100, 1550), 1, "the 50th ms completes one");
	cr_assert_eq(allowed(&a, 100, 100000), 40, "a long pause refills the burst, no more");
	cr_assert_eq(allowed(&a, 1, UINT64_C(1) << 62), 1, "huge gaps do not overflow");
}

/* One source flooding does not cost another its answers. */
Test(ratelimit, flood_does_not_starve_others)
{
	struct stun_addr flood = v4(0xC0000201), quiet = v4(0xC0000202);
	uint64_t t;
	unsigned quiet_ok = 0, flood_ok = 0;

	rl_init(&rl, 20, 99);
	for (t = 0; t < 10000; t += 10) {       /* 10 s, 100 floods per 10 ms */
		flood_ok += allowed(&flood, 100, t);
		if (t % 100 == 0)
			quiet_ok += allowed(&quiet, 1, t);   /* 10 per second */
	}
	cr_assert_eq(quiet_ok, 100, "the quiet source lost %u", 100 - quiet_ok);
	cr_assert_leq(flood_ok, 40 + 20 * 10 + 1, "the flood got %u", flood_ok);
}

/* A victim's bucket cannot be refreshed: with a table of entries, spoofed
 * datagrams from random sources pushed the victim out and each return
 * brought a fresh burst.  Here a flood of random sources between the
 * victim's bursts neither raises its answers above rate x (t + 2) nor
 * costs it the answers it is due, and the flood's own sources, one
 * request each, are all answered. */
Test(ratelimit, random_sources_do_not_refresh_a_victim)
{
	struct stun_addr victim = v4(0xC0000232);
	uint32_t x = 12345;
	uint64_t t;
	unsigned k, victim_ok = 0, flood_ok = 0, flood_sent = 0;

	rl_init(&rl, 100, 4242);
	for (t = 0; t < 10000; t += 100) {
		for (k = 0; k < 2048; k++) {    /* 20,480 sources a second */
			struct stun_addr s;

			x = x * 1664525u + 1013904223u;     /* Numerical Recipes' LCG */
			s = v4(x);
			flood_ok += (unsigned)rl_allow(&rl, &s, t);
			flood_sent++;
		}
		victim_ok += allowed(&victim, 200, t);
	}
	/* The last burst came at 9.9 s: 2 x 100 + 100 x 9.9 due, no more. */
	cr_assert_leq(victim_ok, 200 + 990, "the victim got %u", victim_ok);
	cr_assert_geq(victim_ok, 200 + 990 - 10, "the victim lost answers: %u", victim_ok);
	cr_assert_eq(flood_ok, flood_sent, "%u of %u", flood_ok, flood_sent);
}

/* Sources spread over one /24 are limited as one prefix: 8 x rate, bursts
 * of twice that; another /24 is not touched. */
Test(ratelimit, a_24_counts_as_one_prefix)
{
	struct stun_addr other = v4(0xC6336501);    /* 198.51.101.1 */
	uint64_t t;
	uint32_t h;
	unsigned ok = 0;

	rl_init(&rl, 20, 77);
	for (t = 0; t < 10000; t += 50)
		for (h = 1; h < 255; h++) {         /* 198.51.100.1-254, 20 a second each */
			struct stun_addr s = v4(0xC6336400u + h);

			ok += allowed(&s, t == 0 ? 40 : 1, t);
		}
	/* The last at 9.95 s: 2 x 160 + 160 x 9.95. */
	cr_assert_leq(ok, 320 + 1592, "the /24 got %u", ok);
	cr_assert_geq(ok, 320 + 1592 - 10, "the /24 got only %u", ok);
	cr_assert_eq(allowed(&other, 100, 10000), 40, "another /24 has its own limit");
}

/* IPv6: a /64 is one source, a /48 one prefix. */
static struct stun_addr
v6(uint16_t g2, uint16_t g3, uint8_t last)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.addr[0] = 0x20; a.addr[1] = 0x01; a.addr[2] = 0x0d; a.addr[3] = 0xb8;
	a.addr[4] = (uint8_t)(g2 >> 8); a.addr[5] = (uint8_t)g2;
	a.addr[6] = (uint8_t)(g3 >> 8); a.addr[7] = (uint8_t)g3;
	a.addr[15] = last;
	a.port = 40000;
	return a;
}

Test(ratelimit, a_48_counts_as_one_prefix)
{
	struct stun_addr other = v6(1, 0, 1);
	uint16_t n;
	unsigned ok = 0;

	rl_init(&rl, 10, 5);
	for (n = 0; n < 1000; n++) {                /* 1000 /64s of 2001:db8::/48 */
		struct stun_addr s = v6(0, n, 1);

		ok += allowed(&s, 20, 0);
	}
	cr_assert_eq(ok, 2 * 8 * 10, "one /48: a burst of 2 x 8 x rate, got %u", ok);
	cr_assert_str_eq(rl.why, "over the source's /48 rate limit");
	cr_assert_eq(allowed(&other, 100, 0), 20, "another /48 has its own limit");
}

/* All sources together: 1000 x rate, bursts of twice that. */
Test(ratelimit, global_cap)
{
	uint64_t t;
	uint32_t k, x = 99;
	unsigned ok = 0;

	rl_init(&rl, 1, 3);
	for (t = 0; t < 5000; t += 10)
		for (k = 0; k < 50; k++) {          /* 5,000 new sources a second */
			struct stun_addr s;

			x = x * 1664525u + 1013904223u;
			s = v4(x);
			ok += (unsigned)rl_allow(&rl, &s, t);
		}
	/* The last at 4.99 s: 2 x 1000 + 1000 x 4.99. */
	cr_assert_leq(ok, 2000 + 4990, "%u answers in all", ok);
	cr_assert_geq(ok, 2000 + 4990 - 100, "only %u answers in all", ok);
	cr_assert_str_eq(rl.why, "over the server's total rate limit");
}

/* A caller's clock read a little earlier than the last one is no fresh
 * start; a jump past the horizon is. */
Test(ratelimit, clock_order)
{
	struct stun_addr a = v4(0xC0000201);

	rl_init(&rl, 20, 1);
	cr_assert_eq(allowed(&a, 100, 1000), 40);
	cr_assert_str_eq(rl.why, "over the source's rate limit");
	cr_assert_eq(allowed(&a, 100, 999), 0, "an earlier time is not a new epoch");
	cr_assert_eq(allowed(&a, 100, 1000 + RL_HORIZON_MS), 40, "past the horizon");
}

/* IPv6 sources share a bucket per /64; IPv4 and IPv6 never share one. */
Test(ratelimit, ipv6_per_64)
{
	struct stun_addr a, b, c, d;

	a = v6(0, 0, 1);
	b = a;
	b.addr[15] = 2;             /* same /64 */
	b.addr[8] = 0x77;
	c = v6(0, 1, 1);            /* another /64 */
	d = v4(0x20010db8);         /* IPv4 bytes equal to a's first four */
	rl_init(&rl, 5, 1);
	cr_assert_eq(allowed(&a, 6, 0), 6);
	cr_assert_eq(allowed(&b, 10, 0), 4, "same /64, same bucket");
	cr_assert_eq(allowed(&c, 20, 0), 10, "another /64, its own bucket");
	cr_assert_eq(allowed(&d, 20, 0), 10, "IPv4 is never an IPv6 source");
}

Test(ratelimit, rate_zero_is_off)
{
	struct stun_addr a = v4(1);

	rl_init(&rl, 0, 0);
	cr_assert_eq(allowed(&a, 100000, 0), 100000);
}
