/*
 * ratelimit.c - per-source token buckets (see ratelimit.h).
 */
#include "ratelimit.h"

#include <string.h>

void
rl_init(struct ratelimit *rl, uint32_t rate, uint64_t seed)
{
	memset(rl->b, 0, sizeof(rl->b));
	if (rate > RL_MAX_RATE)
		rate = RL_MAX_RATE;
	rl->rate = rate;
	/* 2 x 10^6 x 1000 fits in 32 bits with room to spare. */
	rl->cap = 2u * rate * RL_UNIT;
	rl->seed = seed;
}

/* The bucket key: the IPv4 address, or the first 64 bits of an IPv6 one. */
static uint64_t
key_of(const struct stun_addr *a)
{
	uint64_t k = 0;
	unsigned i, n = a->family == 6 ? 8 : 4;

	for (i = 0; i < n; i++)
		k = k << 8 | a->addr[i];
	return k;
}

/* The set: a multiplicative hash of key and seed, the top bits. */
static unsigned
set_of(const struct ratelimit *rl, uint64_t key, uint8_t family)
{
	uint64_t h = (key ^ rl->seed) + family;

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (unsigned)(h & (RL_SETS - 1u));
}

int
rl_same_source(const struct stun_addr *a, const struct stun_addr *b)
{
	return a->family == b->family && (a->family == 4 || a->family == 6) &&
	    key_of(a) == key_of(b);
}

int
rl_allow(struct ratelimit *rl, const struct stun_addr *from, uint64_t now_ms)
{
	struct rl_bucket *set, *b = NULL, *lru;
	uint64_t key, dt;
	unsigned i;

	if (rl->rate == 0)
		return 1;
	key = key_of(from);
	set = rl->b[set_of(rl, key, from->family)];
	lru = &set[0];
	for (i = 0; i < RL_WAYS; i++) {
		if (set[i].family == from->family && set[i].key == key) {
			b = &set[i];
			break;
		}
		if (set[i].family == 0 || (lru->family != 0 && set[i].last_ms < lru->last_ms))
			lru = &set[i];
	}
	if (b == NULL) {            /* a new source: a full burst */
		b = lru;
		b->key = key;
		b->family = from->family;
		b->tokens = rl->cap;
	} else if (now_ms > b->last_ms) {
		/* rate tokens per millisecond; past a full refill, the product
		 * could overflow, so cap the interval first. */
		dt = now_ms - b->last_ms;
		if (dt >= rl->cap / rl->rate)
			b->tokens = rl->cap;
		else if (b->tokens + dt * rl->rate >= rl->cap)
			b->tokens = rl->cap;
		else
			b->tokens += (uint32_t)(dt * rl->rate);
	}
	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
	if (b->tokens < RL_UNIT)
		return 0;
	b->tokens -= RL_UNIT;
	return 1;
}
