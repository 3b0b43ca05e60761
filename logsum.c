/*
 * logsum.c - bounded -v logging for the server (see logsum.h).
 */
#include "logsum.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

void
logsum_init(struct logsum *ls)
{
	memset(ls, 0, sizeof(*ls));
}

/* The entry that counts src: its own, a new one while slots are free,
 * else the shared rest. */
static struct logsum_entry *
entry_of(struct logsum *ls, const struct stun_addr *src)
{
	uint8_t key[8] = { 0 };
	size_t i, n;

	if (src == NULL || (src->family != 4 && src->family != 6))
		return &ls->rest;
	n = src->family == 6 ? 8 : 4;
	memcpy(key, src->addr, n);
	for (i = 0; i < ls->used; i++)
		if (ls->e[i].family == src->family && memcmp(ls->e[i].key, key, n) == 0)
			return &ls->e[i];
	if (ls->used == LOGSUM_SLOTS)
		return &ls->rest;
	ls->e[ls->used].family = src->family;
	memcpy(ls->e[ls->used].key, key, sizeof(key));
	return &ls->e[ls->used++];
}

int
logsum_note(struct logsum *ls, const struct stun_addr *src, enum logsum_kind kind,
            uint64_t now_ms)
{
	struct logsum_entry *e;

	if (!ls->open) {
		ls->open = 1;
		ls->start_ms = now_ms;
	}
	e = entry_of(ls, src);
	if (e->lines < LOGSUM_LINES) {
		e->lines++;
		return 1;
	}
	if ((unsigned)kind < LOGSUM_NKINDS)
		e->quiet[kind]++;
	return 0;
}

uint64_t
logsum_due(const struct logsum *ls)
{
	return ls->open ? ls->start_ms + LOGSUM_INTERVAL_MS : UINT64_MAX;
}

/* The words for each kind in a summary. */
static const char *const kind_words[LOGSUM_NKINDS] = {
	"answered", "error answers", "dropped", "over a rate limit", "TCP events",
	"send or receive errors",
};

/* "192.0.2.9", "2001:db8:1:2::/64", or "other sources" into buf. */
static void
name_of(const struct logsum_entry *e, int rest, char *buf, size_t len)
{
	struct stun_addr a;
	char ip[ADDR_STRLEN];

	if (rest) {
		snprintf(buf, len, "other sources");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.family = e->family;
	memcpy(a.addr, e->key, e->family == 6 ? 8 : 4);
	addr_fmt_ip(&a, ip, sizeof(ip));
	snprintf(buf, len, "%s%s", ip, e->family == 6 ? "/64" : "");
}

/* One entry's summary line, if it counted anything. */
static size_t
summarise(const struct logsum_entry *e, int rest, uint64_t ms, logsum_fn fn, void *ctx)
{
	char line[LOGSUM_LINELEN], who[ADDR_STRLEN + 8];
	uint64_t total = 0;
	size_t off;
	int k, first = 1;

	for (k = 0; k < LOGSUM_NKINDS; k++)
		total += e->quiet[k];
	if (total == 0)
		return 0;
	name_of(e, rest, who, sizeof(who));
	off = (size_t)snprintf(line, sizeof(line), "%s: %" PRIu64 " more events in %" PRIu64
	                       ".%" PRIu64 " s not logged:", who, total, ms / 1000, ms % 1000 / 100);
	for (k = 0; k < LOGSUM_NKINDS && off < sizeof(line); k++) {
		if (e->quiet[k] == 0)
			continue;
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s %" PRIu64 " %s",
		                        first ? "" : ",", e->quiet[k], kind_words[k]);
		first = 0;
	}
	fn(ctx, line);
	return 1;
}

size_t
logsum_flush(struct logsum *ls, uint64_t now_ms, logsum_fn fn, void *ctx)
{
	uint64_t ms = ls->open && now_ms > ls->start_ms ? now_ms - ls->start_ms : 0;
	size_t i, n = 0;

	for (i = 0; i < ls->used; i++)
		n += summarise(&ls->e[i], 0, ms, fn, ctx);
	n += summarise(&ls->rest, 1, ms, fn, ctx);
	logsum_init(ls);
	return n;
}
