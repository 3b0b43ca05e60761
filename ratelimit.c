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
	/* Two keys from one seed: the sketches must not share their hash. */
	sketch_init(&rl->source, rate, seed);
	sketch_init(&rl->prefix, (uint64_t)rate * RL_PREFIX_FACTOR,
	            seed ^ UINT64_C(0x9e3779b97f4a7c15));
}

/* The first n bytes of a's address as a number, tagged with the family
 * and the length so that no two kinds of key are equal. */
static uint64_t
key_of(const struct stun_addr *a, unsigned n)
{
	uint64_t k = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		k = k << 8 | a->addr[i];
	return k;
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

/* The column of row r for hash h: 13 bits each, 52 of the 64. */
#define RL_COL(h, r) ((unsigned)((h) >> (13u * (r))) & (RL_COLS - 1u))

/*
 * Whether the source hashed to h has room at time now (in the sketch's
 * tokens); if so *next is its bucket's new empty time.  The source's own
 * bucket is at most as full as the emptiest of its cells, so reading that
 * one overstates its level, never understates it.
 */
static int
sketch_room(const struct rl_sketch *s, uint64_t h, uint64_t now, uint64_t *next)
{
	uint64_t est = UINT64_MAX;
	unsigned r;

	for (r = 0; r < RL_ROWS; r++)
		if (s->tat[r][RL_COL(h, r)] < est)
			est = s->tat[r][RL_COL(h, r)];
	if (est < now)
		est = now;
	if (est + RL_UNIT > now + s->cap)
		return 0;
	*next = est + RL_UNIT;
	return 1;
}

/* Conservative update: raise the source's cells to next, no further (a
 * cell above it already holds more than this source). */
static void
sketch_take(struct rl_sketch *s, uint64_t h, uint64_t next)
{
	unsigned r;

	for (r = 0; r < RL_ROWS; r++)
		if (s->tat[r][RL_COL(h, r)] < next)
			s->tat[r][RL_COL(h, r)] = next;
}

int
rl_allow(struct ratelimit *rl, const struct stun_addr *from, uint64_t now_ms)
{
	uint64_t t, hs, hp, ns, np, ng, g;
	unsigned fam6;

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
	fam6 = from->family == 6;
	/* A source: an IPv4 address, an IPv6 /64; a prefix: a /24, a /48. */
	hs = hash_of(&rl->source, key_of(from, fam6 ? 8 : 4), fam6 ? 64 : 32);
	if (!sketch_room(&rl->source, hs, t * rl->source.per_ms, &ns)) {
		rl->why = "over the source's rate limit";
		return 0;
	}
	hp = hash_of(&rl->prefix, key_of(from, fam6 ? 6 : 3), fam6 ? 48 : 24);
	if (!sketch_room(&rl->prefix, hp, t * rl->prefix.per_ms, &np)) {
		rl->why = fam6 ? "over the source's /48 rate limit" :
		    "over the source's /24 rate limit";
		return 0;
	}
	g = t * rl->global_per_ms;
	ng = (rl->global_tat > g ? rl->global_tat : g) + RL_UNIT;
	if (ng > g + rl->global_cap) {
		rl->why = "over the server's total rate limit";
		return 0;
	}
	rl->global_tat = ng;
	sketch_take(&rl->source, hs, ns);
	sketch_take(&rl->prefix, hp, np);
	return 1;
}
