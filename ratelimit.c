/*
 * ratelimit.c - the reply limits of --rate (see ratelimit.h).
 */
#include "ratelimit.h"

#include <string.h>

/* A sketch for `rate` requests a second (a product that fits: the callers
 * pass at most RL_GLOBAL_MAX). */
static void
sketch_init(struct rl_sketch *s, uint64_t rate, uint64_t seed)
{
	memset(s->tat, 0, sizeof(s->tat));
	s->per_ms = rate * RL_UNIT / 1000u;
	s->cap = 2u * rate * RL_UNIT;
	s->seed = seed;
}

void
rl_init(struct ratelimit *rl, uint32_t rate, uint64_t seed)
{
	uint64_t global;

	if (rate > RL_MAX_RATE)
		rate = RL_MAX_RATE;
	rl->rate = rate;
	rl->started = 0;
	rl->epoch_ms = 0;
	global = (uint64_t)rate * RL_GLOBAL_FACTOR;
	if (global > RL_GLOBAL_MAX)
		global = RL_GLOBAL_MAX;
	rl->global_per_ms = global * RL_UNIT / 1000u;
	rl->global_cap = 2u * global * RL_UNIT;
	rl->global_tat = 0;
	rl->why = "";
	rl->last_family = 0;
	/* Two keys from one seed: the sketches must not share their hash. */
	sketch_init(&rl->source, rate, seed);
	sketch_init(&rl->prefix, (uint64_t)rate * RL_PREFIX_FACTOR,
	            seed ^ UINT64_C(0x9e3779b97f4a7c15));
}

/* The seeded hash of a key (the finaliser of MurmurHash3): RL_ROWS column
 * indices are cut from it. */
static uint64_t
hash_of(const struct rl_sketch *s, uint64_t key, unsigned tag)
{
	uint64_t h = (key ^ s->seed) + tag;

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

_Static_assert(RL_ROWS == 4 && RL_COLS == 8192, "room() reads four cells, 13 bits of the hash each");

/* The cells of the key hashed to h, one per row: 13 bits of h each. */
static void
cells_of(struct rl_sketch *s, uint64_t h, uint64_t *c[RL_ROWS])
{
	unsigned r;

	for (r = 0; r < RL_ROWS; r++)
		c[r] = &s->tat[r][(h >> (13u * r)) & (RL_COLS - 1u)];
}

/*
 * Whether the source whose cells are c has room at time now (in the
 * sketch's tokens) under cap; if so *next is its bucket's new empty time.
 * The source's own bucket is at most as full as the emptiest of its cells,
 * so reading that one overstates its level, never understates it.
 */
static int
room(uint64_t *const c[RL_ROWS], uint64_t now, uint64_t cap, uint64_t *next)
{
	uint64_t a = *c[0] < *c[1] ? *c[0] : *c[1];
	uint64_t b = *c[2] < *c[3] ? *c[2] : *c[3];
	uint64_t est = a < b ? a : b;

	if (est < now)
		est = now;
	if (est + RL_UNIT > now + cap)
		return 0;
	*next = est + RL_UNIT;
	return 1;
}

/* Conservative update: raise the source's cells to next, no further (a
 * cell above it already holds more than this source). */
static void
take(uint64_t *const c[RL_ROWS], uint64_t next)
{
	unsigned r;

	for (r = 0; r < RL_ROWS; r++)
		if (*c[r] < next)
			*c[r] = next;
}

int
rl_allow(struct ratelimit *rl, const struct stun_addr *from, uint64_t now_ms)
{
	uint64_t t, key = 0, pkey = 0, ns, np, g, ng;
	int v6 = from->family == 6;

	if (rl->rate == 0)
		return 1;
	if (!rl->started || (now_ms > rl->epoch_ms && now_ms - rl->epoch_ms >= RL_HORIZON_MS)) {
		/* The first request, or a clock beyond the horizon: start
		 * again, every bucket empty (lenient, once in 34 years). */
		memset(rl->source.tat, 0, sizeof(rl->source.tat));
		memset(rl->prefix.tat, 0, sizeof(rl->prefix.tat));
		rl->global_tat = 0;
		rl->epoch_ms = now_ms;
		rl->started = 1;
	}
	/* A time before the epoch (callers read the clock at different
	 * moments) counts as the epoch: stricter, never a fresh start. */
	t = now_ms > rl->epoch_ms ? now_ms - rl->epoch_ms : 0;
	/* A source: an IPv4 address, an IPv6 /64 (the bytes as they lie in
	 * memory: only equality and the hash matter). */
	if (v6)
		memcpy(&key, from->addr, 8);
	else
		memcpy(&key, from->addr, 4);
	if (from->family != rl->last_family || key != rl->last_key) {
		/* A prefix: a /24, a /48.  The family in the hash keeps IPv4
		 * and IPv6 keys of equal bytes apart. */
		if (v6)
			memcpy(&pkey, from->addr, 6);
		else
			memcpy(&pkey, from->addr, 3);
		cells_of(&rl->source, hash_of(&rl->source, key, from->family), rl->last_source);
		cells_of(&rl->prefix, hash_of(&rl->prefix, pkey, from->family), rl->last_prefix);
		rl->last_family = from->family;
		rl->last_key = key;
	}
	if (!room(rl->last_source, t * rl->source.per_ms, rl->source.cap, &ns)) {
		rl->why = "over the source's rate limit";
		return 0;
	}
	if (!room(rl->last_prefix, t * rl->prefix.per_ms, rl->prefix.cap, &np)) {
		rl->why = v6 ? "over the source's /48 rate limit" : "over the source's /24 rate limit";
		return 0;
	}
	g = t * rl->global_per_ms;
	ng = (rl->global_tat > g ? rl->global_tat : g) + RL_UNIT;
	if (ng > g + rl->global_cap) {
		rl->why = "over the server's total rate limit";
		return 0;
	}
	rl->global_tat = ng;
	take(rl->last_source, ns);
	take(rl->last_prefix, np);
	return 1;
}
