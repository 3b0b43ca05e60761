/*
 * ratelimit.h - per-source token buckets for `natcheck --serve --rate`.
 *
 * A fixed table of RL_SETS x RL_WAYS buckets, keyed by source address
 * (an IPv4 address, an IPv6 /64: one host holds a whole /64), placed by a
 * seeded hash so that a sender cannot aim its addresses at one set.  A
 * source not in the table takes the least recently used bucket of its set
 * and starts with a full burst.  Eviction can only ever be lenient: a
 * flood from many addresses can make a quiet source lose its bucket and
 * start afresh with a full one, never leave it with fewer tokens, so no
 * sender can starve another (except by forging that one's own address,
 * which rate limiting cannot tell apart).
 *
 * Pure and O(1): no allocation, no clock (the caller passes the time in
 * milliseconds), at most RL_WAYS comparisons per call.
 */
#ifndef NATCHECK_RATELIMIT_H
#define NATCHECK_RATELIMIT_H

#include <stdint.h>

#include "stun.h"

#define RL_WAYS 4u
#define RL_SETS 1024u                   /* a power of two: 4096 sources */
#define RL_DEFAULT_RATE 100u            /* requests per second per source: one
                                           natcheck run sends up to about 80 */
#define RL_MAX_RATE 1000000u
#define RL_UNIT 1000u                   /* a request's cost in tokens */

struct rl_bucket {
	uint64_t key;               /* IPv4 address, or IPv6 /64 */
	uint64_t last_ms;           /* last refill; 0 with family 0: unused */
	uint32_t tokens;            /* in 1/RL_UNIT requests */
	uint8_t  family;            /* 4, 6, or 0 for an unused bucket */
};

struct ratelimit {
	uint32_t rate;              /* requests per second; 0: no limit */
	uint32_t cap;               /* burst (2 x rate) in tokens */
	uint64_t seed;
	struct rl_bucket b[RL_SETS][RL_WAYS];
};

/* Start with every bucket unused: rate requests per second per source,
 * bursts of 2 x rate; rate 0 lets everything through.  seed should come
 * from the OS random source. */
void rl_init(struct ratelimit *rl, uint32_t rate, uint64_t seed);

/* 1 when a and b count as one source: the same IPv4 address, or the
 * same IPv6 /64 (the server's per-source TCP connection limit uses it). */
int rl_same_source(const struct stun_addr *a, const struct stun_addr *b);

/* 1 when a request from `from` at time now_ms (any monotonic clock in
 * milliseconds) may be answered, and take its token; 0 when it is over the
 * limit. */
int rl_allow(struct ratelimit *rl, const struct stun_addr *from, uint64_t now_ms);

#endif /* NATCHECK_RATELIMIT_H */
