/*
 * test_ratelimit.c - the per-source token buckets of --rate, in virtual time.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "ratelimit.h"

static struct ratelimit rl;     /* 100 KB: not on the stack */

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

/* Many sources (more than the table holds) evict each other, but a
 * source is never left with fewer tokens than its own traffic earned:
 * eviction only ever grants a fresh burst. */
Test(ratelimit, eviction_is_lenient)
{
	struct stun_addr quiet = v4(0x0A000001);
	uint32_t ip;
	uint64_t t = 0;
	unsigned quiet_ok = 0;

	rl_init(&rl, 1, 7);
	for (ip = 0; ip < 50000; ip++) {
		struct stun_addr s = v4(0xC6336400u + ip);

		cr_assert_eq(rl_allow(&rl, &s, t), 1, "a new source has its burst");
		if (ip % 1000 == 0) {
			quiet_ok += (unsigned)rl_allow(&rl, &quiet, t);
			t += 1000;
		}
	}
	cr_assert_eq(quiet_ok, 50);
}

/* IPv6 sources share a bucket per /64; IPv4 and IPv6 never share one. */
Test(ratelimit, ipv6_per_64)
{
	struct stun_addr a, b, c;

	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.addr[0] = 0x20; a.addr[1] = 0x01; a.addr[2] = 0x0d; a.addr[3] = 0xb8;
	a.addr[15] = 1;
	b = a;
	b.addr[15] = 2;             /* same /64 */
	b.addr[8] = 0x77;
	c = a;
	c.addr[7] = 1;              /* another /64 */
	rl_init(&rl, 5, 1);
	cr_assert_eq(allowed(&a, 6, 0), 6);
	cr_assert_eq(allowed(&b, 10, 0), 4, "same /64, same bucket");
	cr_assert_eq(allowed(&c, 20, 0), 10, "another /64, its own bucket");
	cr_assert(rl_same_source(&a, &b), "one /64, one source");
	cr_assert(!rl_same_source(&a, &c), "another /64");
	c = v4(0x20010db8);         /* IPv4 bytes equal to a's first four */
	cr_assert(!rl_same_source(&a, &c), "IPv4 is never an IPv6 source");
	b = v4(0x20010db8);
	cr_assert(rl_same_source(&b, &c));
	b.port = 1;
	cr_assert(rl_same_source(&b, &c), "ports do not matter");
	b.addr[3] ^= 1;
	cr_assert(!rl_same_source(&b, &c));
}

Test(ratelimit, rate_zero_is_off)
{
	struct stun_addr a = v4(1);

	rl_init(&rl, 0, 0);
	cr_assert_eq(allowed(&a, 100000, 0), 100000);
}
