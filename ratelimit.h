/*
 * ratelimit.h - the reply limits of `natcheck --serve --rate`.
 *
 * Rate limiting is what keeps the server from hammering a host whose
 * address a flood forges, so what matters is a bound on the replies that
 * go to any one address, whatever else arrives.  Three limits, each a
 * token bucket in GCRA form (the time at which it would be empty again):
 *
 *  - per source: rate requests a second, in bursts of 2 x rate; a source
 *    is an IPv4 address or an IPv6 /64 (one host holds a whole /64);
 *  - per prefix: RL_PREFIX_FACTOR x rate, bursts of twice that, for each
 *    IPv4 /24 and IPv6 /48, so that sources spread over one network are
 *    limited as one;
 *  - in all: RL_GLOBAL_FACTOR x rate (at most RL_GLOBAL_MAX), bursts of
 *    twice that.
 *
 * A request is answered only when all three have room, and then takes a
 * token from each.  So over any span of t seconds, one address gets at
 * most rate x (t + 2) answers, one /24 or /48 RL_PREFIX_FACTOR x rate x
 * (t + 2), and all sources together RL_GLOBAL_FACTOR x rate x (t + 2).
 *
 * The per-source and per-prefix buckets are count-min sketches with
 * conservative update (Estan and Varghese, SIGCOMM 2002), not tables of
 * entries: RL_ROWS rows of RL_COLS cells, a source's cells picked by a
 * hash with a random key, its bucket read as the emptiest of its cells,
 * and an answer raising each of them to at least the source's new level.  No source is ever evicted, so no flood of other
 * addresses can hand a victim a fresh burst (a table with eviction did:
 * spoofed datagrams from random sources pushed the victim out, and each
 * return brought it 2 x rate more).  A cell only ever overstates the
 * level of a source that maps to it, so the bounds above are exact; the
 * price is that a source sharing all of its cells with busy ones may be
 * limited early.  That takes a flood of more than about RL_COLS x rate
 * requests a second from random sources (819,200 at the default rate),
 * beyond what one server core answers; below it, the innocent lose
 * nothing.  The key keeps a sender from aiming its addresses at another
 * source's cells.
 *
 * Pure and O(RL_ROWS): no allocation, no clock (the caller passes the
 * time in milliseconds), no walk of the tables.
 */
#ifndef NATCHECK_RATELIMIT_H
#define NATCHECK_RATELIMIT_H

#include <stdint.h>

#include "stun.h"

#define RL_DEFAULT_RATE 100u            /* requests per second per source: one
                                           natcheck run sends up to about 80 */
#define RL_MAX_RATE 1000000u
#define RL_PREFIX_FACTOR 8u             /* an IPv4 /24, an IPv6 /48: 8 x rate */
#define RL_GLOBAL_FACTOR 1000u          /* all sources: 1000 x rate ... */
#define RL_GLOBAL_MAX 10000000u         /* ... but at most 10^7 a second */
#define RL_UNIT 1000u                   /* a request's cost in tokens */
#define RL_ROWS 4u
#define RL_COLS 8192u                   /* a power of two, at most 2^16 */
/* Past this many milliseconds since the first request the sketches start
 * again empty (once in 34 years; tokens x ms must fit in 64 bits). */
#define RL_HORIZON_MS (UINT64_C(1) << 40)

/* One count-min sketch of GCRA buckets: tat[r][c] is the time, in tokens
 * (ms x per_ms), at which the cell would be empty; 0: empty. */
struct rl_sketch {
	uint64_t per_ms;            /* tokens a millisecond: rate x RL_UNIT / 1000 */
	uint64_t cap;               /* burst: 2 x rate x RL_UNIT tokens */
	uint64_t seed;
	uint64_t tat[RL_ROWS][RL_COLS];
};

struct ratelimit {
	uint32_t rate;              /* requests per second per source; 0: no limit */
	int      started;           /* epoch_ms is set */
	uint64_t epoch_ms;          /* the first request's time: the sketches' zero */
	uint64_t global_per_ms, global_cap, global_tat;
	const char *why;            /* the limit the last refusal hit, for logs */
	/* The last source's cells: requests come in runs from one source,
	 * and a run hashes once. */
	uint8_t  last_family;       /* 0: none */
	uint64_t last_key;
	uint64_t *last_source[RL_ROWS], *last_prefix[RL_ROWS];
	struct rl_sketch source;    /* IPv4 addresses, IPv6 /64s */
	struct rl_sketch prefix;    /* IPv4 /24s, IPv6 /48s */
};

/* Start with every bucket empty: rate requests per second per source, the
 * prefix and global limits from it (above); rate 0 lets everything
 * through.  seed should come from the OS random source. */
void rl_init(struct ratelimit *rl, uint32_t rate, uint64_t seed);

/* 1 when a request from `from` at time now_ms (any monotonic clock in
 * milliseconds) may be answered, and take its tokens; 0 when it is over
 * one of the limits, and then nothing is taken and rl->why names the
 * limit it hit. */
int rl_allow(struct ratelimit *rl, const struct stun_addr *from, uint64_t now_ms);

#endif /* NATCHECK_RATELIMIT_H */
