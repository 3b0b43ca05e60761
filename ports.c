/*
 * ports.c - port preservation, parity and allocation from a run's mappings.
 *
 * Why these thresholds: local ports are fresh ephemeral ports, so a NAT
 * that does not preserve ports matches one by chance about once in tens of
 * thousands; two preserved samples are proof enough.  Parity matches by
 * chance half the time, so "kept" needs five samples (1 in 32) unless the
 * ports themselves are kept.  A random allocator steps by a small positive
 * delta twice in a row about once in a million runs, so two such deltas
 * make "sequential"; anything else with three samples is "random".
 */
#include <string.h>

#include "addr.h"
#include "ports.h"

int
ports_add(struct ports_sample *s, size_t *n, size_t cap, const struct ports_sample *x)
{
	for (size_t i = 0; i < *n; i++)
		if (s[i].sock == x->sock && s[i].mapped_port == x->mapped_port) {
			if (x->order < s[i].order)
				s[i].order = x->order;
			return 0;
		}
	if (*n >= cap)
		return 0;
	s[(*n)++] = *x;
	return 1;
}

/* Tests whose answer names the mapping of the socket that sent them. */
static int
names_own_mapping(enum probe_kind k)
{
	return k != PROBE_HAIR_TO_MAP && k != PROBE_MAP_TO_HAIR;
}

size_t
ports_samples(const struct probe *p, struct ports_sample *s, size_t cap)
{
	const struct probe_test *first = probe_find(p, PROBE_BINDING, 0);
	size_t n = 0;

	if (first == NULL || first->result != PROBE_ANSWERED || !first->has_mapped)
		return 0;
	for (size_t i = 0; i < p->ntests; i++) {
		const struct probe_test *t = &p->tests[i];
		struct ports_sample x;

		if (t->result != PROBE_ANSWERED || !t->has_mapped || t->nsent == 0 ||
		    !names_own_mapping(t->kind) || t->sock < 0 || t->sock >= PROBE_NSOCK ||
		    !addr_ip_eq(&t->mapped, &first->mapped))
			continue;
		x.sock = t->sock;
		x.local_port = p->cfg.local[t->sock].port;
		x.mapped_port = t->mapped.port;
		/* Creation order: the first send's time, then engine order. */
		x.order = t->sends[0].at_ms * PROBE_MAX_TESTS + i;
		ports_add(s, &n, cap, &x);
	}
	return n;
}

static void
sort_by_order(struct ports_sample *s, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct ports_sample x = s[i];
		size_t j = i;

		for (; j > 0 && s[j - 1].order > x.order; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
}

/* The step from port a to port b, modulo the port space, in -32767..32768. */
static int
step(uint16_t a, uint16_t b)
{
	int d = ((int)b - (int)a + 65536) % 65536;

	return d > 32768 ? d - 65536 : d;
}

/* Sequential or random from the samples that did not keep their port. */
static void
allocation(const struct ports_sample *s, size_t n, struct ports_result *r)
{
	uint16_t ports[PORTS_MAX_SAMPLES];
	int deltas[PORTS_MAX_SAMPLES];
	size_t m = 0, nd, best = 0;

	for (size_t i = 0; i < n && m < PORTS_MAX_SAMPLES; i++)
		if (s[i].mapped_port != s[i].local_port)
			ports[m++] = s[i].mapped_port;
	if (m < PORTS_MIN_SEQ)
		return;     /* unknown: too few */
	nd = m - 1;
	for (size_t i = 0; i < nd; i++) {
		deltas[i] = step(ports[i], ports[i + 1]);
		if (deltas[i] < 1 || deltas[i] > PORTS_SEQ_MAX_DELTA) {
			r->allocation = PORTS_RANDOM;
			return;
		}
	}
	/* The most frequent step (the smallest among equals). */
	for (size_t i = 0; i < nd; i++) {
		size_t c = 0;

		for (size_t j = 0; j < nd; j++)
			c += deltas[j] == deltas[i];
		if (c > best || (c == best && deltas[i] < r->delta)) {
			best = c;
			r->delta = deltas[i];
		}
	}
	r->allocation = PORTS_SEQUENTIAL;
	r->has_delta = 1;
}

void
ports_analyze(struct ports_sample *s, size_t n, struct ports_result *r)
{
	size_t kept = 0, same_parity = 0;

	memset(r, 0, sizeof(*r));
	r->preservation = -1;
	r->parity = -1;
	r->allocation = PORTS_UNKNOWN;
	r->samples = n;
	if (n == 0)
		return;
	sort_by_order(s, n);
	r->min_port = r->max_port = s[0].mapped_port;
	for (size_t i = 0; i < n; i++) {
		kept += s[i].mapped_port == s[i].local_port;
		same_parity += (s[i].mapped_port & 1) == (s[i].local_port & 1);
		if (s[i].mapped_port < r->min_port)
			r->min_port = s[i].mapped_port;
		if (s[i].mapped_port > r->max_port)
			r->max_port = s[i].mapped_port;
	}
	r->preservation = kept == n;
	if (same_parity < n)
		r->parity = 0;
	else if (kept == n || n >= PORTS_MIN_PARITY)
		r->parity = 1;
	if (kept == n) {
		if (n >= PORTS_MIN_PRESERVE)
			r->allocation = PORTS_PRESERVING;
		return;
	}
	allocation(s, n, r);
}

/* ---------------------------------------------------------------- extra */

void
ports_extra_init(struct ports_extra *x, const struct stun_addr local[PORTS_EXTRA_NSOCK],
                 const struct stun_addr *dst, uint32_t rtt_ms,
                 void (*random)(void *ctx, uint8_t *buf, size_t len), void *random_ctx,
                 uint64_t now_ms)
{
	memset(x, 0, sizeof(*x));
	x->dst = *dst;
	/* A round trip and half again (at least 50 ms) after the last send,
	 * or half a second when the run measured none. */
	x->wait_ms = rtt_ms == 0 ? 500 : rtt_ms + (rtt_ms / 2 > 50 ? rtt_ms / 2 : 50);
	x->random = random;
	x->random_ctx = random_ctx;
	x->start = now_ms;
	for (int i = 0; i < PORTS_EXTRA_NSOCK; i++)
		x->local[i] = local[i].port;
}

enum ports_extra_step
ports_extra_next(struct ports_extra *x, uint64_t now, struct ports_extra_tx *tx, uint32_t *wait_ms)
{
	uint64_t wake = UINT64_MAX;
	int open = 0;

	if (x->done)
		return PORTS_EXTRA_DONE;
	for (int i = 0; i < PORTS_EXTRA_NSOCK; i++) {
		size_t k = x->nsent[i];
		uint64_t due;

		if (x->got[i])
			continue;
		due = k == 0 ? now : x->sent_at[i][k - 1] + (k < PORTS_EXTRA_SENDS ?
		    PORTS_EXTRA_IV_MS : x->wait_ms);
		if (k == PORTS_EXTRA_SENDS && now >= due)
			continue;       /* given up */
		open = 1;
		if (k < PORTS_EXTRA_SENDS && now >= due) {
			struct stun_enc e;
			uint8_t *tid = x->tids[i][k];

			tid[0] = (uint8_t)(STUN_MAGIC_COOKIE >> 24);
			tid[1] = (uint8_t)(STUN_MAGIC_COOKIE >> 16);
			tid[2] = (uint8_t)(STUN_MAGIC_COOKIE >> 8);
			tid[3] = (uint8_t)STUN_MAGIC_COOKIE;
			memset(tid + 4, 0, STUN_TID_LEN - 4);
			if (x->random != NULL)
				x->random(x->random_ctx, tid + 4, STUN_TID_LEN - 4);
			stun_enc_init(&e, tx->buf, sizeof(tx->buf), STUN_BINDING_REQUEST, tid);
			stun_enc_fingerprint(&e);       /* RFC 5389 section 15.5 */
			if (stun_enc_finish(&e, &tx->len) != STUN_OK) {
				x->done = 1;
				return PORTS_EXTRA_DONE;
			}
			tx->sock = i;
			tx->to = x->dst;
			x->sent_at[i][k] = now;
			x->nsent[i] = k + 1;
			return PORTS_EXTRA_SEND;
		}
		if (due < wake)
			wake = due;
	}
	if (!open) {
		x->done = 1;
		return PORTS_EXTRA_DONE;
	}
	*wait_ms = wake <= now ? 1 : (uint32_t)(wake - now);
	return PORTS_EXTRA_WAIT;
}

void
ports_extra_input(struct ports_extra *x, uint64_t now, int sock, const struct stun_addr *from,
                  const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	struct stun_addr mapped;

	(void)now;
	if (sock < 0 || sock >= PORTS_EXTRA_NSOCK || x->got[sock] || !addr_eq(from, &x->dst) ||
	    stun_decode(buf, len, &m) != STUN_OK || m.cls != STUN_CLASS_SUCCESS ||
	    m.method != STUN_METHOD_BINDING || stun_get_mapped(&m, &mapped) != STUN_OK)
		return;         /* not ours, or not believable: dropped */
	for (size_t k = 0; k < x->nsent[sock]; k++)
		if (memcmp(x->tids[sock][k], m.tid, STUN_TID_LEN) == 0) {
			x->got[sock] = 1;
			x->mapped[sock] = mapped.port;
			return;
		}
}

void
ports_extra_samples(const struct ports_extra *x, struct ports_sample *s, size_t *n, size_t cap)
{
	uint64_t base = 0;

	for (size_t i = 0; i < *n; i++)
		if (s[i].order >= base)
			base = s[i].order + 1;
	for (int i = 0; i < PORTS_EXTRA_NSOCK; i++) {
		struct ports_sample e;

		if (!x->got[i])
			continue;
		/* Sockets the run never used: indices past the engine's. */
		e.sock = PROBE_NSOCK + i;
		e.local_port = x->local[i];
		e.mapped_port = x->mapped[i];
		/* All sent at once, in socket order: that is creation order. */
		e.order = base + (uint64_t)i;
		ports_add(s, n, cap, &e);
	}
}

const char *
ports_alloc_word(enum ports_alloc a)
{
	switch (a) {
	case PORTS_PRESERVING: return "preserving";
	case PORTS_SEQUENTIAL: return "sequential";
	case PORTS_RANDOM:     return "random";
	case PORTS_UNKNOWN:    break;
	}
	return "unknown";
}
