/*
 * tcpprobe.c - the TCP mapping and hairpinning tests (see tcpprobe.h).
 *
 * No I/O: the shell connects, writes and reads; this decides which
 * connection to open when, what each answer says, and what it all means.
 */
#include <string.h>

#include "addr.h"
#include "tcpprobe.h"

#define NEVER UINT64_MAX

static const struct {
	enum tcpprobe_port port;
	const char *name;
} kinds[TCPPROBE_NCONN] = {
	[TCPPROBE_MAP]             = { TCPPROBE_PORT_MAP,  "map" },
	[TCPPROBE_MAP_ALT_IP]      = { TCPPROBE_PORT_MAP,  "map-alt-ip" },
	[TCPPROBE_MAP_ALT_IP_PORT] = { TCPPROBE_PORT_MAP,  "map-alt-ip-port" },
	[TCPPROBE_HAIR_BINDING]    = { TCPPROBE_PORT_HAIR, "hairpin-binding" },
	[TCPPROBE_HAIR]            = { TCPPROBE_PORT_ANY,  "hairpin" },
};

enum tcpprobe_frame
tcpprobe_frame(const uint8_t *buf, size_t len, size_t cap, size_t *msglen)
{
	size_t n;

	if (len < 1)
		return TCPPROBE_FRAME_INCOMPLETE;
	/* RFC 5389 section 6: the top two bits of every STUN message are 0. */
	if (buf[0] & 0xC0)
		return TCPPROBE_FRAME_NOT_STUN;
	if (len < STUN_HEADER_LEN)
		return TCPPROBE_FRAME_INCOMPLETE;
	n = (size_t)buf[2] << 8 | buf[3];
	if (n % 4 != 0)
		return TCPPROBE_FRAME_NOT_STUN;
	if (STUN_HEADER_LEN + n > cap)
		return TCPPROBE_FRAME_TOO_LONG;
	if (len < STUN_HEADER_LEN + n)
		return TCPPROBE_FRAME_INCOMPLETE;
	*msglen = STUN_HEADER_LEN + n;
	return TCPPROBE_FRAME_OK;
}

void
tcpprobe_init(struct tcpprobe *t, const struct tcpprobe_config *cfg, uint64_t now_ms)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->start_ms = now_ms;
	t->deadline_ms = now_ms + cfg->timeout_ms;
	t->alt_problem = TCPPROBE_ADDR_ABSENT;
	t->hair_problem = TCPPROBE_ADDR_ABSENT;
	for (int i = 0; i < TCPPROBE_NSLOT; i++) {
		t->c[i].slot = i;
		t->c[i].kind = (enum tcpprobe_kind)(i < TCPPROBE_NCONN ? i : 0);
		t->c[i].port = i < TCPPROBE_NCONN ? kinds[i].port : TCPPROBE_PORT_ANY;
	}
	if (!cfg->enabled) {
		t->done = 1;
		t->end_ms = now_ms;
	}
}

static int
is_scout(const struct tcpprobe_conn *c)
{
	return c->slot >= TCPPROBE_NCONN;
}

/* The test an attempt belongs to. */
static struct tcpprobe_conn *
test_of(struct tcpprobe *t, const struct tcpprobe_conn *c)
{
	return &t->c[c->kind];
}

static void
set_done(struct tcpprobe_conn *c, enum tcpprobe_result r, uint64_t now)
{
	if (c->state == TCPPROBE_S_DONE)
		return;
	c->state = TCPPROBE_S_DONE;
	c->result = r;
	c->done_ms = now;
}

/* Close test c's extra attempts still open (the shell closes their
 * sockets): whatever they would say is no longer needed. */
static void
close_scouts(struct tcpprobe *t, const struct tcpprobe_conn *c, uint64_t now)
{
	for (size_t j = 0; j < c->ntries; j++)
		if (c->tries[j] != c->slot)
			set_done(&t->c[c->tries[j]], TCPPROBE_TIMEOUT, now);
}

/*
 * May we connect to a, which the primary server told us about?  The UDP
 * engine's rules (addr_use_check): no multicast or broadcast address,
 * nothing, this host's loopback or its own addresses (P0 and P1's, the
 * host's), nothing local-scope from a public server, unless the server is
 * on this host itself; role: what a is (here a hairpin target, the
 * mapped address).
 */
static enum tcpprobe_addr
addr_check(const struct tcpprobe *t, const struct stun_addr *a, enum addr_role role)
{
	return (enum tcpprobe_addr)addr_use_check(a, t->cfg.server.family, &t->cfg.server,
	    t->cfg.local, 2, &t->cfg.host, role);
}

/* An alternate the server names: the rules for a target, and RFC 5780
 * section 7.4 (it differs in IP and in port). */
static enum tcpprobe_addr
alt_usable(const struct tcpprobe *t, const struct stun_addr *alt)
{
	return (enum tcpprobe_addr)addr_alt_check(alt, t->cfg.server.family, &t->cfg.server,
	    t->cfg.local, 2, &t->cfg.host);
}

static enum tcpprobe_addr
alt_check(const struct tcpprobe *t, const struct tcpprobe_conn *m)
{
	if (m->result != TCPPROBE_ANSWERED || !m->has_other)
		return TCPPROBE_ADDR_ABSENT;
	return alt_usable(t, &m->other);
}

/* Decide c: a test's own connection decides the test (and ends its extra
 * attempts); an extra attempt decides only itself. */
static void
decide(struct tcpprobe *t, struct tcpprobe_conn *c, enum tcpprobe_result r, uint64_t now)
{
	if (c->state == TCPPROBE_S_DONE)
		return;
	set_done(c, r, now);
	if (!is_scout(c))
		close_scouts(t, c, now);
	/* The hairpin test decided: no speculative attempt stays open,
	 * adopted or not (a slot reused since is no longer one). */
	if (c->slot == TCPPROBE_HAIR)
		for (size_t j = 0; j < t->nspec; j++)
			if (t->c[t->spec_tries[j]].spec)
				set_done(&t->c[t->spec_tries[j]], TCPPROBE_TIMEOUT, now);
	if (c->slot != TCPPROBE_MAP)
		return;
	t->alt_problem = alt_check(t, c);
	/* Alternates started on the UDP answer's word compare nothing
	 * without map's mapped address: end them rather than wait for
	 * their own negatives. */
	if (r != TCPPROBE_ANSWERED)
		for (int i = TCPPROBE_MAP_ALT_IP; i <= TCPPROBE_MAP_ALT_IP_PORT; i++)
			if (t->c[i].state != TCPPROBE_S_IDLE)
				decide(t, &t->c[i], TCPPROBE_TIMEOUT, now);
}

/* Start conn towards dst: hand out the CONNECT. */
static enum tcpprobe_step
start(struct tcpprobe *t, struct tcpprobe_conn *c, const struct stun_addr *dst,
      uint64_t now, struct tcpprobe_tx *tx)
{
	c->dst = *dst;
	c->state = TCPPROBE_S_CONNECTING;
	c->result = TCPPROBE_RUNNING;
	c->started_ms = now;
	c->ntries = 0;
	c->path_open = 0;
	c->starved = 0;
	memset(tx, 0, sizeof(*tx));
	tx->conn = c->slot;
	tx->port = c->port;
	tx->to = *dst;
	if (!is_scout(c))
		c->tries[c->ntries++] = c->slot;
	(void)t;
	return TCPPROBE_CONNECT;
}

/* A Binding request with a fresh transaction ID and FINGERPRINT. */
static enum tcpprobe_step
request(struct tcpprobe *t, struct tcpprobe_conn *c, struct tcpprobe_tx *tx)
{
	uint8_t tid[STUN_TID_LEN];
	struct stun_enc e;
	uint32_t cookie = STUN_MAGIC_COOKIE;

	tid[0] = (uint8_t)(cookie >> 24);
	tid[1] = (uint8_t)(cookie >> 16);
	tid[2] = (uint8_t)(cookie >> 8);
	tid[3] = (uint8_t)cookie;
	t->cfg.random(t->cfg.random_ctx, tid + 4, STUN_TID_LEN - 4);
	memcpy(c->tid, tid, sizeof(tid));
	memset(tx, 0, sizeof(*tx));
	tx->conn = c->slot;
	stun_enc_init(&e, tx->buf, sizeof(tx->buf), STUN_BINDING_REQUEST, tid);
	stun_enc_fingerprint(&e);
	if (stun_enc_finish(&e, &tx->len) != STUN_OK) {
		decide(t, c, TCPPROBE_LOCAL_ERROR, c->connected_ms);
		return TCPPROBE_WAIT;
	}
	c->state = TCPPROBE_S_SENT;
	return TCPPROBE_SEND;
}

/* ------------------------------------------------ redundant attempts */

/* The round trip negatives are paced by: the UDP engine's estimate, or the
 * shortest TCP handshake to a server when that is longer (0: none known). */
static uint32_t
pace_rtt(const struct tcpprobe *t)
{
	if (!t->pace.have_rtt)
		return 0;
	return t->synack_ms > t->pace.rtt_ms ? t->synack_ms : t->pace.rtt_ms;
}

/* The attempts test kind may make in all. */
static size_t
tries_cap(enum tcpprobe_kind kind)
{
	return kind == TCPPROBE_HAIR ? TCPPROBE_HAIR_TRIES : TCPPROBE_TRIES;
}

/*
 * K for test kind, as probe.h computes it (probe_k_for), from the UDP
 * engine's exchanges and the TCP path's own (a loss that hits TCP alone
 * must not go unweighed).  eps as probe.h chooses it: a negative that
 * names a verdict by itself - the map test's "blocked", the hairpin
 * test's "no" - PROBE_EPS_FILTER, as the filtering tests; one that at most
 * leaves something unknown, PROBE_EPS.
 */
static size_t
k_of(const struct tcpprobe *t, enum tcpprobe_kind kind)
{
	return probe_k_for(t->pace.answered + t->tcp_answered, t->pace.lost + t->tcp_lost,
	    kind == TCPPROBE_MAP || kind == TCPPROBE_HAIR ? PROBE_EPS_FILTER : PROBE_EPS);
}

/* The failed exchanges since the round trip was known that test kind's
 * negative needs: K, twice K for the hairpin test (see tcpprobe.h). */
static size_t
needed(const struct tcpprobe *t, enum tcpprobe_kind kind)
{
	return kind == TCPPROBE_HAIR ? 2 * k_of(t, kind) : k_of(t, kind);
}

/* Is there a pace to follow: a round trip measured? */
static int
paced(const struct tcpprobe *t)
{
	return t->pace.have_rtt;
}

/* How long an attempt of test kind waits for its SYN-ACK: W; a hairpin
 * attempt's SYN and SYN-ACK each go to the NAT and back, a round trip
 * more (the NAT is no farther than the server). */
static uint64_t
synack_wait(const struct tcpprobe *t, enum tcpprobe_kind kind)
{
	uint32_t rtt = pace_rtt(t);

	return probe_wait_for(rtt) + (kind == TCPPROBE_HAIR ? rtt : 0);
}

/* Is test c still one that extra attempts can help?  A server test while
 * its own connection awaits the SYN-ACK and no scout got one; the hairpin
 * test until it is decided. */
static int
wants_attempts(const struct tcpprobe_conn *c)
{
	if (c->state == TCPPROBE_S_IDLE || c->state == TCPPROBE_S_DONE)
		return 0;
	if (c->kind == TCPPROBE_HAIR)
		return 1;
	return c->state == TCPPROBE_S_CONNECTING && !c->path_open;
}

/* How many of test c's attempts were made since the round trip was known
 * (the ones a negative rests on, as in probe.h: an earlier one may have
 * met a cold path). */
static size_t
measured(const struct tcpprobe *t, const int *tries, size_t ntries)
{
	size_t n = 0;

	for (size_t j = 0; j < ntries; j++)
		if (t->c[tries[j]].started_ms >= t->pace.since_ms)
			n++;
	return n;
}

/* The kernel sends a SYN again 1 s and 3 s after the first (RFC 6298
 * section 2.1's initial RTO, doubled): each a further exchange. */
static const uint32_t syn_retx_ms[] = { 0, 1000, 3000 };
#define NRETX (sizeof(syn_retx_ms) / sizeof(syn_retx_ms[0]))

/* Insert v into the ascending w[0..*n). */
static void
insert_sorted(uint64_t *w, size_t *n, uint64_t v)
{
	size_t i = (*n)++;

	for (; i > 0 && w[i - 1] > v; i--)
		w[i] = w[i - 1];
	w[i] = v;
}

/*
 * When test c is given up: once `needed` exchanges of its attempts made
 * since the round trip was known have each failed.  An attempt awaiting
 * its SYN-ACK fails an exchange synack_wait after its SYN and after each
 * of the kernel's retransmissions; a hairpin attempt that connected fails
 * once, the SYN grace after (its request, retransmitted if need be, did
 * not reach the listener); one that was closed, when it was.  NEVER: not
 * (yet) known, or more exchanges needed than the attempts can make.
 */
static uint64_t
giveup_due(const struct tcpprobe *t, const struct tcpprobe_conn *c)
{
	uint64_t when[TCPPROBE_HAIR_TRIES * NRETX];
	size_t n = 0, need;

	if (!paced(t) || !wants_attempts(c))
		return NEVER;
	need = needed(t, c->kind);
	for (size_t j = 0; j < c->ntries; j++) {
		const struct tcpprobe_conn *a = &t->c[c->tries[j]];

		if (a->started_ms < t->pace.since_ms)
			continue;
		switch (a->state) {
		case TCPPROBE_S_CONNECTING:
			for (size_t r = 0; r < NRETX; r++)
				insert_sorted(when, &n, a->started_ms + syn_retx_ms[r] +
				    synack_wait(t, a->kind));
			break;
		case TCPPROBE_S_CONNECTED:
		case TCPPROBE_S_SENT:
			if (a->kind == TCPPROBE_HAIR)
				insert_sorted(when, &n, a->connected_ms + TCPPROBE_SYN_GRACE_MS);
			break;
		case TCPPROBE_S_DONE:
			if (a->result == TCPPROBE_NO_SYNACK || a->result == TCPPROBE_CLOSED)
				insert_sorted(when, &n, a->done_ms);
			break;
		case TCPPROBE_S_IDLE:
			break;
		}
	}
	return n >= need ? when[need - 1] : NEVER;
}

/* When the next of the hairpin attempts tries[0..n) is due, not before
 * first.  The hairpin test's 2 K attempts go out in pairs, at the times
 * of a UDP test's K sends.  An attempt that connected has its request on
 * the way to the listener (TCP resends it if need be): no more attempts
 * while it may still arrive, a SYN-ACK's wait after the connect.  Past
 * that the attempts go on, so that a "no" still rests on 2 K failed
 * exchanges. */
static uint64_t
hair_due(const struct tcpprobe *t, const int *tries, size_t n, uint64_t first)
{
	uint64_t due = n == 0 ? first : t->c[tries[n - 1]].started_ms +
	    (n % 2 == 1 ? 0 : probe_iv_for(pace_rtt(t)));

	for (size_t j = 0; j < n; j++) {
		const struct tcpprobe_conn *a = &t->c[tries[j]];
		uint64_t hold = a->connected_ms + synack_wait(t, TCPPROBE_HAIR);

		if (a->up && a->state != TCPPROBE_S_DONE && hold > first)
			first = hold;
	}
	return due > first ? due : first;
}

/* When test c's next extra attempt is due, NEVER when it makes none: a
 * server test's from W after its own connect (most SYN-ACKs come in time,
 * and each scout costs the server a connection), the hairpin test's from
 * its start (its attempts go to our own NAT); then one every interval
 * (two for the hairpin test), until the attempts since the round trip was known are as many as the
 * negative needs, or the test's cap. */
static uint64_t
attempt_due(const struct tcpprobe *t, const struct tcpprobe_conn *c)
{
	uint64_t due, first;

	if (!paced(t) || !wants_attempts(c) || c->ntries >= tries_cap(c->kind) || c->starved ||
	    measured(t, c->tries, c->ntries) >= needed(t, c->kind))
		return NEVER;
	if (c->kind == TCPPROBE_HAIR)
		return hair_due(t, c->tries, c->ntries, c->started_ms);
	due = t->c[c->tries[c->ntries - 1]].started_ms + probe_iv_for(pace_rtt(t));
	first = c->started_ms + probe_wait_for(pace_rtt(t));
	return due > first ? due : first;
}

/* A slot for the next attempt: one never used, or one whose test is
 * decided, or a discarded speculative one (its socket closed by then).
 * -1: none. */
static int
free_slot(const struct tcpprobe *t)
{
	for (int i = TCPPROBE_NCONN; i < TCPPROBE_NSLOT; i++) {
		const struct tcpprobe_conn *a = &t->c[i];

		if (a->state == TCPPROBE_S_IDLE || (a->state == TCPPROBE_S_DONE &&
		    (t->c[a->kind].state == TCPPROBE_S_DONE ||
		    (a->spec && t->spec == TCPPROBE_SPEC_DISCARDED))))
			return i;
	}
	return -1;
}

/* Hand out an extra attempt of test kind to dst, from a fresh port, into
 * tries[*n] (*starved: no slot was free). */
static enum tcpprobe_step
attempt_to(struct tcpprobe *t, enum tcpprobe_kind kind, const struct stun_addr *dst,
           int *tries, size_t *n, int *starved, uint64_t now, struct tcpprobe_tx *tx)
{
	int i = free_slot(t);
	struct tcpprobe_conn *a;
	enum tcpprobe_step st;

	if (i < 0) {
		/* Every slot busy: no more attempts for this test; the
		 * kernel's retransmissions may still make up its count. */
		*starved = 1;
		return TCPPROBE_WAIT;
	}
	a = &t->c[i];
	memset(a, 0, sizeof(*a));
	a->slot = i;
	a->kind = kind;
	a->port = TCPPROBE_PORT_ANY;
	st = start(t, a, dst, now, tx);
	tries[(*n)++] = i;
	return st;
}

/* Hand out test c's next attempt (to c's destination). */
static enum tcpprobe_step
attempt(struct tcpprobe *t, struct tcpprobe_conn *c, uint64_t now, struct tcpprobe_tx *tx)
{
	return attempt_to(t, c->kind, &c->dst, c->tries, &c->ntries, &c->starved, now, tx);
}

/* ------------------------------------ speculative hairpin attempts */

/* When the next speculative hairpin attempt (tcpprobe.h) is due, NEVER
 * when none is to be made: with a guess and a pace, from when
 * hairpin-binding connected (its mapping exists) until it is decided,
 * while nothing was held, as the hairpin test's own are paced; at most
 * what the test's negative needs, leaving room in its cap for its own
 * connection. */
static uint64_t
spec_due(const struct tcpprobe *t)
{
	const struct tcpprobe_conn *hb = &t->c[TCPPROBE_HAIR_BINDING];

	if (!t->guess_ok || t->spec > TCPPROBE_SPEC_PENDING || !paced(t) || !hb->up ||
	    hb->state == TCPPROBE_S_DONE || t->spec_hit || t->spec_neg != TCPPROBE_NOT_RUN ||
	    t->spec_starved || t->nspec + 1 >= TCPPROBE_HAIR_TRIES ||
	    measured(t, t->spec_tries, t->nspec) >= needed(t, TCPPROBE_HAIR))
		return NEVER;
	return hair_due(t, t->spec_tries, t->nspec, hb->connected_ms);
}

static enum tcpprobe_step
spec_attempt(struct tcpprobe *t, uint64_t now, struct tcpprobe_tx *tx)
{
	enum tcpprobe_step st = attempt_to(t, TCPPROBE_HAIR, &t->guess, t->spec_tries, &t->nspec,
	    &t->spec_starved, now, tx);

	if (st == TCPPROBE_CONNECT) {
		t->c[tx->conn].spec = 1;
		t->spec = TCPPROBE_SPEC_PENDING;
	}
	return st;
}

/* hairpin-binding is decided: its mapped address confirms the guess, or
 * the speculative attempts are closed and count for nothing. */
static void
spec_resolve(struct tcpprobe *t, uint64_t now)
{
	const struct tcpprobe_conn *hb = &t->c[TCPPROBE_HAIR_BINDING];

	if (t->spec != TCPPROBE_SPEC_PENDING)
		return;
	if (hb->result == TCPPROBE_ANSWERED && hb->has_mapped && addr_eq(&hb->mapped, &t->guess)) {
		t->spec = TCPPROBE_SPEC_CONFIRMED;
		return;
	}
	t->spec = TCPPROBE_SPEC_DISCARDED;
	for (size_t j = 0; j < t->nspec; j++)
		set_done(&t->c[t->spec_tries[j]], TCPPROBE_TIMEOUT, now);
}

/* The guess confirmed: the speculative attempts become hairpin test c's. */
static void
spec_adopt(struct tcpprobe *t, struct tcpprobe_conn *c)
{
	if (t->spec != TCPPROBE_SPEC_CONFIRMED)
		return;
	for (size_t j = 0; j < t->nspec && c->ntries < TCPPROBE_HAIR_TRIES; j++)
		c->tries[c->ntries++] = t->spec_tries[j];
}

/* Did any of test c's attempts connect? */
static int
any_connected(const struct tcpprobe *t, const struct tcpprobe_conn *c)
{
	for (size_t j = 0; j < c->ntries; j++)
		if (t->c[c->tries[j]].up)
			return 1;
	return 0;
}

/* Close test c's extra attempts now that the path to its destination is
 * known open: one that waited its SYN-ACK in vain was a lost exchange. */
static void
close_scouts_open(struct tcpprobe *t, const struct tcpprobe_conn *c, uint64_t now)
{
	for (size_t j = 1; j < c->ntries; j++) {
		struct tcpprobe_conn *a = &t->c[c->tries[j]];

		if (a->state == TCPPROBE_S_CONNECTING && paced(t) &&
		    a->started_ms >= t->pace.since_ms && now >= a->started_ms + synack_wait(t, a->kind))
			t->tcp_lost++;
		set_done(a, TCPPROBE_TIMEOUT, now);
	}
}

/* Is there a connection to dst that got its SYN-ACK (the path open)? */
static int
dst_open(const struct tcpprobe *t, const struct stun_addr *dst)
{
	for (int i = 0; i < TCPPROBE_NSLOT; i++)
		if (t->c[i].up && t->c[i].kind != TCPPROBE_HAIR && addr_eq(&t->c[i].dst, dst))
			return 1;
	return 0;
}

/*
 * Server attempt c connected: the path to its destination is open.  Every
 * test still waiting for its own SYN-ACK from there (its own SYN, or the
 * SYN-ACK, was lost; the kernel sends it again) is no longer a candidate
 * for "no SYN-ACK", and needs no more scouts; nor does c's own test.
 */
static void
path_open(struct tcpprobe *t, const struct tcpprobe_conn *c, uint64_t now)
{
	for (int i = 0; i < TCPPROBE_NCONN; i++) {
		struct tcpprobe_conn *o = &t->c[i];

		if (o->kind == TCPPROBE_HAIR || o->state == TCPPROBE_S_IDLE ||
		    o->state == TCPPROBE_S_DONE || !addr_eq(&o->dst, &c->dst))
			continue;
		if (o->state == TCPPROBE_S_CONNECTING)
			o->path_open = 1;
		close_scouts_open(t, o, now);
	}
}

/* ---------------------------------------------------------- deadlines */

/* When every open attempt of the hairpin test c has had the SYN grace,
 * counted from its connect if it connected, else from its start: TCP's own
 * retransmission had its chance. */
static uint64_t
hair_grace_end(const struct tcpprobe *t, const struct tcpprobe_conn *c)
{
	uint64_t end = 0;

	for (size_t j = 0; j < c->ntries; j++) {
		const struct tcpprobe_conn *a = &t->c[c->tries[j]];
		uint64_t o = (a->state == TCPPROBE_S_CONNECTING ? a->started_ms
		    : a->connected_ms) + TCPPROBE_SYN_GRACE_MS;

		if (a->state != TCPPROBE_S_DONE && o > end)
			end = o;
	}
	return end;
}

/*
 * When test c's time is up: the run's cap; a negative once its attempts
 * have failed enough exchanges (giveup_due); once hurried, the hurry's
 * end, but never before a connect had its SYN grace (or, with a pace, its
 * negative if one can come), an answer a round trip (twice, and a margin)
 * after its request, or a hairpin attempt that connected the grace to
 * reach the listener (TCP's own retransmission).
 */
static uint64_t
conn_deadline(const struct tcpprobe *t, const struct tcpprobe_conn *c)
{
	uint64_t d = t->deadline_ms, h, own = 0, g = giveup_due(t, c);

	if (g < d)
		d = g;
	if (!t->hurried)
		return d;
	h = t->hurry_ms;
	if (c->kind == TCPPROBE_HAIR)
		own = hair_grace_end(t, c);
	else if (c->state == TCPPROBE_S_CONNECTING)
		own = c->started_ms + TCPPROBE_SYN_GRACE_MS;
	else
		own = c->connected_ms + 2 * (uint64_t)t->hurry_rtt + TCPPROBE_MARGIN_MS;
	if (g != NEVER && g > own)
		own = g;
	if (own > h)
		h = own;
	return h < d ? h : d;
}

/*
 * Test c's time is up at now: decide what the wait showed.  A negative
 * needs its exchanges (giveup_due) when there is a pace; without one (the
 * UDP tests measured no round trip), the SYN grace as ever.  Anything
 * else is timeout: unknown, never a guess.
 */
static void
expire(struct tcpprobe *t, struct tcpprobe_conn *c, uint64_t now)
{
	int waited = now >= giveup_due(t, c);
	int graced = !paced(t);

	if (c->kind == TCPPROBE_HAIR && c->state != TCPPROBE_S_CONNECTED) {
		/* Every attempt waited for its SYN-ACK, or connected to our own
		 * mapped address with the request written, and the listener
		 * has not seen one: whatever accepted, it was not our
		 * listener. */
		if (waited || (graced && now >= hair_grace_end(t, c)))
			decide(t, c, any_connected(t, c) ? TCPPROBE_NOT_DELIVERED
			    : TCPPROBE_NO_SYNACK, now);
		else
			decide(t, c, TCPPROBE_TIMEOUT, now);
	} else if (c->state == TCPPROBE_S_CONNECTING) {
		/* With a scout through, the path is open: only this SYN was
		 * lost, and its retransmission did not come in time. */
		decide(t, c, !c->path_open && (waited || (graced && now >= c->started_ms +
		    TCPPROBE_SYN_GRACE_MS)) ? TCPPROBE_NO_SYNACK : TCPPROBE_TIMEOUT, now);
	} else {
		decide(t, c, TCPPROBE_TIMEOUT, now);
	}
}

/* Start what the answers so far allow; NOT_RUN what they rule out. */
static int
ready_to_start(struct tcpprobe *t, struct tcpprobe_conn *c, struct stun_addr *dst, uint64_t now)
{
	const struct tcpprobe_conn *m = &t->c[TCPPROBE_MAP];
	const struct tcpprobe_conn *hb = &t->c[TCPPROBE_HAIR_BINDING];

	switch (c->kind) {
	case TCPPROBE_MAP:
		*dst = t->cfg.server;
		return t->cfg.local[0].port != 0 ? 1 : -1;
	case TCPPROBE_HAIR_BINDING:
		*dst = t->cfg.server;
		return t->cfg.local[1].port != 0 ? 1 : -1;
	case TCPPROBE_MAP_ALT_IP:
	case TCPPROBE_MAP_ALT_IP_PORT:
		/* Map's own answer when it is in, else the UDP answer's
		 * alternate when there is one; both connections go to the
		 * one chosen first. */
		if (!t->alt_set) {
			if (m->state == TCPPROBE_S_DONE) {
				t->alt_problem = alt_check(t, m);
				if (t->alt_problem != TCPPROBE_ADDR_OK)
					return -1;
				t->alt = m->other;
			} else if (t->udp_alt_ok) {
				t->alt = t->udp_alt;
				t->alt_udp = 1;
			} else {
				return 0;
			}
			t->alt_set = 1;
		}
		*dst = t->alt;
		if (c->kind == TCPPROBE_MAP_ALT_IP)
			dst->port = t->cfg.server.port;
		return 1;
	case TCPPROBE_HAIR:
		if (hb->state != TCPPROBE_S_DONE)
			return 0;
		spec_resolve(t, now);
		if (hb->result != TCPPROBE_ANSWERED || !hb->has_mapped)
			return -1;
		/* Our own address: no NAT, nothing to hairpin. */
		if (hb->has_local && addr_eq(&hb->mapped, &hb->local))
			return -1;
		/* Nor to this host's own IP with another port (a local
		 * service), nor anywhere the server may not aim us. */
		t->hair_problem = addr_check(t, &hb->mapped, ADDR_ROLE_HAIRPIN);
		if (t->hair_problem != TCPPROBE_ADDR_OK)
			return -1;
		*dst = hb->mapped;
		return 1;
	case TCPPROBE_NCONN:
		break;
	}
	return -1;
}

enum tcpprobe_step
tcpprobe_next(struct tcpprobe *t, uint64_t now_ms, struct tcpprobe_tx *tx, uint32_t *wait_ms)
{
	uint64_t next = UINT64_MAX;
	int open = 0;

	if (t->done)
		return TCPPROBE_DONE;
	for (int i = 0; i < TCPPROBE_NCONN; i++) {
		struct tcpprobe_conn *c = &t->c[i];
		struct stun_addr dst;
		int r;

		if (c->state == TCPPROBE_S_IDLE) {
			r = ready_to_start(t, c, &dst, now_ms);
			if (r < 0) {
				decide(t, c, TCPPROBE_NOT_RUN, now_ms);
				continue;
			}
			if (r == 0) {
				uint64_t d = c->kind == TCPPROBE_HAIR ? spec_due(t) : NEVER;

				open = 1;
				if (d <= now_ms && now_ms < t->deadline_ms &&
				    spec_attempt(t, now_ms, tx) == TCPPROBE_CONNECT)
					return TCPPROBE_CONNECT;
				if (d < next)
					next = d > now_ms ? d : now_ms;
				continue;
			}
			if (c->kind == TCPPROBE_HAIR && t->spec == TCPPROBE_SPEC_CONFIRMED &&
			    (t->spec_hit || t->spec_neg != TCPPROBE_NOT_RUN)) {
				/* A speculative attempt already showed it: no
				 * connection of its own. */
				c->dst = dst;
				c->started_ms = now_ms;
				spec_adopt(t, c);
				decide(t, c, t->spec_hit ? TCPPROBE_ANSWERED : t->spec_neg, now_ms);
				continue;
			}
			if (now_ms >= t->deadline_ms) {
				decide(t, c, TCPPROBE_TIMEOUT, now_ms);
				continue;
			}
			start(t, c, &dst, now_ms, tx);
			spec_adopt(t, c);
			/* Towards a destination another connection reached: a
			 * missing SYN-ACK will be a lost one, no scouts needed. */
			if (c->kind != TCPPROBE_HAIR && dst_open(t, &dst))
				c->path_open = 1;
			return TCPPROBE_CONNECT;
		}
		if (c->state == TCPPROBE_S_DONE)
			continue;
		if (now_ms >= conn_deadline(t, c)) {
			expire(t, c, now_ms);
			i = -1;         /* a decision may start or end another */
			continue;
		}
		if (c->state == TCPPROBE_S_CONNECTED && request(t, c, tx) == TCPPROBE_SEND)
			return TCPPROBE_SEND;
		if (c->state == TCPPROBE_S_DONE) {
			i = -1;
			continue;
		}
		open = 1;
		if (conn_deadline(t, c) < next)
			next = conn_deadline(t, c);
		if (now_ms < t->deadline_ms && attempt_due(t, c) <= now_ms &&
		    attempt(t, c, now_ms, tx) == TCPPROBE_CONNECT)
			return TCPPROBE_CONNECT;
		if (attempt_due(t, c) < next)
			next = attempt_due(t, c) > now_ms ? attempt_due(t, c) : now_ms;
	}
	/* A hairpin attempt that connected sends its own request. */
	for (int i = TCPPROBE_NCONN; i < TCPPROBE_NSLOT; i++) {
		struct tcpprobe_conn *a = &t->c[i];

		if (a->state == TCPPROBE_S_CONNECTED && request(t, a, tx) == TCPPROBE_SEND)
			return TCPPROBE_SEND;
	}
	if (!open) {
		t->done = 1;
		t->end_ms = now_ms;
		return TCPPROBE_DONE;
	}
	*wait_ms = next == UINT64_MAX ? 0 : next - now_ms > UINT32_MAX ? UINT32_MAX
	    : (uint32_t)(next - now_ms);
	return TCPPROBE_WAIT;
}

void
tcpprobe_set_pace(struct tcpprobe *t, const struct probe_pace *pace)
{
	t->pace = *pace;
}

void
tcpprobe_set_alt(struct tcpprobe *t, const struct stun_addr *server, const struct stun_addr *alt)
{
	if (t->alt_set || t->udp_alt_ok || !addr_eq(server, &t->cfg.server) ||
	    alt_usable(t, alt) != TCPPROBE_ADDR_OK)
		return;
	t->udp_alt_ok = 1;
	t->udp_alt = *alt;
}

void
tcpprobe_set_mapped(struct tcpprobe *t, const struct stun_addr *server,
                    const struct stun_addr *mapped)
{
	struct stun_addr g;

	if (t->guess_ok || t->cfg.local[1].port == 0 || !addr_eq(server, &t->cfg.server))
		return;
	g = *mapped;
	g.port = t->cfg.local[1].port;
	/* Our own IP (no NAT, nothing to hairpin), or one the server may not
	 * aim the tests at. */
	if (addr_check(t, &g, ADDR_ROLE_HAIRPIN) != TCPPROBE_ADDR_OK)
		return;
	t->guess_ok = 1;
	t->guess = g;
}

void
tcpprobe_hurry(struct tcpprobe *t, uint64_t now_ms, uint32_t rtt_ms)
{
	const struct tcpprobe_conn *m = &t->c[TCPPROBE_MAP];

	if (t->hurried || t->done)
		return;
	/* Our own round trip when the map connection measured one (the
	 * handshake), else the UDP tests', else a guess that only delays. */
	if (m->connected_ms > m->started_ms && m->connected_ms - m->started_ms > rtt_ms)
		rtt_ms = (uint32_t)(m->connected_ms - m->started_ms);
	if (rtt_ms == 0)
		rtt_ms = TCPPROBE_DEFAULT_RTT_MS;
	t->hurried = 1;
	t->hurry_rtt = rtt_ms;
	t->hurry_ms = now_ms + rtt_ms + TCPPROBE_MARGIN_MS;
}

static struct tcpprobe_conn *
conn_of(struct tcpprobe *t, int conn)
{
	if (conn < 0 || conn >= TCPPROBE_NSLOT || t->c[conn].state == TCPPROBE_S_DONE ||
	    t->c[conn].state == TCPPROBE_S_IDLE)
		return NULL;
	return &t->c[conn];
}

void
tcpprobe_connected(struct tcpprobe *t, uint64_t now_ms, int conn, const struct stun_addr *local)
{
	struct tcpprobe_conn *c = conn_of(t, conn);

	if (c == NULL || c->state != TCPPROBE_S_CONNECTING)
		return;
	c->state = TCPPROBE_S_CONNECTED;
	c->connected_ms = now_ms;
	c->up = 1;
	if (local != NULL) {
		c->has_local = 1;
		c->local = *local;
	}
	if (c->kind == TCPPROBE_HAIR)
		return;
	/* An exchange of the TCP path: answered in time, or (the kernel sent
	 * the SYN again) one lost. */
	if (paced(t) && c->started_ms >= t->pace.since_ms) {
		if (now_ms <= c->started_ms + synack_wait(t, c->kind))
			t->tcp_answered++;
		else
			t->tcp_lost++;
	}
	/* A server's handshake: a round trip of the TCP path. */
	if (now_ms > c->started_ms && (t->synack_ms == 0 ||
	    now_ms - c->started_ms < t->synack_ms))
		t->synack_ms = (uint32_t)(now_ms - c->started_ms > UINT32_MAX ? UINT32_MAX
		    : now_ms - c->started_ms);
	if (is_scout(c))
		set_done(c, TCPPROBE_ANSWERED, now_ms);
	path_open(t, c, now_ms);
}

void
tcpprobe_failed(struct tcpprobe *t, uint64_t now_ms, int conn, enum tcpprobe_fail why)
{
	struct tcpprobe_conn *c = conn_of(t, conn);
	enum tcpprobe_result r = TCPPROBE_LOCAL_ERROR;

	if (c == NULL)
		return;
	switch (why) {
	case TCPPROBE_FAIL_REFUSED:     r = TCPPROBE_REFUSED; break;
	case TCPPROBE_FAIL_UNREACHABLE: r = TCPPROBE_UNREACHABLE; break;
	case TCPPROBE_FAIL_TIMEDOUT:    r = TCPPROBE_NO_SYNACK; break;
	case TCPPROBE_FAIL_CLOSED:      r = TCPPROBE_CLOSED; break;
	case TCPPROBE_FAIL_LOCAL:       r = TCPPROBE_LOCAL_ERROR; break;
	}
	/* A connection that was never up cannot have been closed by the peer:
	 * the kernel says RST to a SYN as "refused". */
	if (r == TCPPROBE_CLOSED && c->state == TCPPROBE_S_CONNECTING)
		r = TCPPROBE_REFUSED;
	decide(t, c, r, now_ms);
	/* A speculative one's is held until the guess is confirmed. */
	if (c->spec && t->spec == TCPPROBE_SPEC_PENDING && !t->spec_hit &&
	    t->spec_neg == TCPPROBE_NOT_RUN && (r == TCPPROBE_REFUSED ||
	    r == TCPPROBE_UNREACHABLE || r == TCPPROBE_CLOSED))
		t->spec_neg = r;
	/* An extra attempt's RST or ICMP error answers for its test, as the
	 * test's own connection's would (a hairpin attempt's close too, as
	 * ever); silence and local trouble are the attempt's alone. */
	if (is_scout(c) && (r == TCPPROBE_REFUSED || r == TCPPROBE_UNREACHABLE ||
	    (r == TCPPROBE_CLOSED && c->kind == TCPPROBE_HAIR)) && wants_attempts(test_of(t, c)))
		decide(t, test_of(t, c), r, now_ms);
}

/* The answer in m on conn c: ours, a Binding success, with a mapped address. */
static void
take(struct tcpprobe *t, struct tcpprobe_conn *c, const struct stun_msg *m, uint64_t now)
{
	struct stun_addr a;
	int code = 0;

	if (m->method != 0x001 || memcmp(m->tid, c->tid, STUN_TID_LEN) != 0 ||
	    (m->cls != STUN_CLASS_SUCCESS && m->cls != STUN_CLASS_ERROR)) {
		c->bad = STUN_OK;
		decide(t, c, TCPPROBE_MALFORMED, now);
		return;
	}
	if (m->cls == STUN_CLASS_ERROR) {
		const char *reason;
		size_t rlen;

		(void)stun_get_error(m, &code, &reason, &rlen);
		c->error_code = code;
		decide(t, c, TCPPROBE_ERROR_RESPONSE, now);
		return;
	}
	if (stun_get_mapped(m, &a) != STUN_OK) {
		c->bad = STUN_OK;
		decide(t, c, TCPPROBE_MALFORMED, now);
		return;
	}
	c->has_mapped = 1;
	c->mapped = a;
	if (stun_get_addr(m, STUN_ATTR_OTHER_ADDRESS, &a) == STUN_OK ||
	    stun_get_addr(m, STUN_ATTR_CHANGED_ADDRESS, &a) == STUN_OK) {
		c->has_other = 1;
		c->other = a;
	}
	decide(t, c, TCPPROBE_ANSWERED, now);
}

void
tcpprobe_input(struct tcpprobe *t, uint64_t now_ms, int conn, const uint8_t *buf, size_t len)
{
	struct tcpprobe_conn *c = conn_of(t, conn);
	struct stun_msg m;
	size_t n, room;

	if (c == NULL || c->state != TCPPROBE_S_SENT || c->kind == TCPPROBE_HAIR || is_scout(c))
		return;
	room = sizeof(c->rx) - c->rxlen;
	n = len < room ? len : room;
	memcpy(c->rx + c->rxlen, buf, n);
	c->rxlen += n;
	switch (tcpprobe_frame(c->rx, c->rxlen, sizeof(c->rx), &n)) {
	case TCPPROBE_FRAME_INCOMPLETE:
		return;
	case TCPPROBE_FRAME_NOT_STUN:
		c->bad = STUN_ERR_NOT_STUN;
		decide(t, c, TCPPROBE_MALFORMED, now_ms);
		return;
	case TCPPROBE_FRAME_TOO_LONG:
		c->bad = STUN_ERR_TOO_LONG;
		decide(t, c, TCPPROBE_MALFORMED, now_ms);
		return;
	case TCPPROBE_FRAME_OK:
		break;
	}
	c->bad = stun_decode(c->rx, n, &m);
	if (c->bad != STUN_OK) {
		decide(t, c, TCPPROBE_MALFORMED, now_ms);
		return;
	}
	take(t, c, &m, now_ms);
}

void
tcpprobe_accepted(struct tcpprobe *t, uint64_t now_ms, const uint8_t *buf, size_t len)
{
	struct tcpprobe_conn *c = conn_of(t, TCPPROBE_HAIR);
	struct stun_msg m;

	/* Anyone may connect to the listener: only our request counts, the
	 * one of any of the test's attempts. */
	if (stun_decode(buf, len, &m) != STUN_OK || m.method != 0x001 ||
	    m.cls != STUN_CLASS_REQUEST)
		return;
	/* A speculative attempt's: held until the guess is confirmed. */
	if (t->spec == TCPPROBE_SPEC_PENDING && !t->spec_hit && t->spec_neg == TCPPROBE_NOT_RUN) {
		for (size_t j = 0; j < t->nspec; j++) {
			struct tcpprobe_conn *a = &t->c[t->spec_tries[j]];

			if (a->state == TCPPROBE_S_SENT && memcmp(m.tid, a->tid, STUN_TID_LEN) == 0) {
				set_done(a, TCPPROBE_ANSWERED, now_ms);
				t->spec_hit = 1;
				return;
			}
		}
	}
	if (c == NULL)
		return;
	for (size_t j = 0; j < c->ntries; j++) {
		struct tcpprobe_conn *a = &t->c[c->tries[j]];

		if (a->state == TCPPROBE_S_SENT && memcmp(m.tid, a->tid, STUN_TID_LEN) == 0) {
			/* The test's own connection (a == c) is decided with
			 * the test, which closes the other attempts. */
			if (a != c)
				set_done(a, TCPPROBE_ANSWERED, now_ms);
			decide(t, c, TCPPROBE_ANSWERED, now_ms);
			return;
		}
	}
}

void
tcpprobe_finish(struct tcpprobe *t, uint64_t now_ms)
{
	for (int i = 0; i < TCPPROBE_NCONN; i++) {
		struct tcpprobe_conn *c = &t->c[i];

		if (c->state == TCPPROBE_S_IDLE)
			decide(t, c, TCPPROBE_NOT_RUN, now_ms);
		else if (c->state != TCPPROBE_S_DONE)
			expire(t, c, now_ms);
	}
	for (int i = TCPPROBE_NCONN; i < TCPPROBE_NSLOT; i++)
		set_done(&t->c[i], TCPPROBE_TIMEOUT, now_ms);
	if (t->spec == TCPPROBE_SPEC_PENDING)
		t->spec = TCPPROBE_SPEC_DISCARDED;
	if (!t->done) {
		t->done = 1;
		t->end_ms = now_ms;
	}
}

/* ---------------------------------------------------------------- verdict */

static void
warn(struct tcpprobe_verdict *v, enum tcpprobe_code code, const struct tcpprobe_conn *c,
     enum tcpprobe_addr a)
{
	struct tcpprobe_warning *w;

	if (v->nwarn == TCPPROBE_MAX_WARN)
		return;
	w = &v->warn[v->nwarn++];
	w->code = code;
	w->conn = c ? (int)c->kind : -1;
	w->result = c ? c->result : TCPPROBE_NOT_RUN;
	w->addr = a;
}

static enum tcpprobe_status
status_of(const struct tcpprobe_conn *m)
{
	switch (m->result) {
	case TCPPROBE_ANSWERED:         return TCPPROBE_ST_OK;
	case TCPPROBE_REFUSED:          return TCPPROBE_ST_REFUSED;
	case TCPPROBE_NO_SYNACK:        return TCPPROBE_ST_BLOCKED;
	case TCPPROBE_UNREACHABLE:      return TCPPROBE_ST_UNREACHABLE;
	case TCPPROBE_CLOSED:
	case TCPPROBE_MALFORMED:
	case TCPPROBE_ERROR_RESPONSE:   return TCPPROBE_ST_NO_STUN;
	default:                        break;
	}
	return TCPPROBE_ST_UNKNOWN;
}

/* Did mapping connection c leave from P0, as the comparison needs? */
static int
from_p0(const struct tcpprobe *t, const struct tcpprobe_conn *c)
{
	return c->has_local && addr_eq(&c->local, &t->cfg.local[0]);
}

/* RFC 5780 section 4.3 over TCP. */
static enum nat_behavior
mapping(const struct tcpprobe *t, struct tcpprobe_verdict *v)
{
	const struct tcpprobe_conn *m = &t->c[TCPPROBE_MAP];
	const struct tcpprobe_conn *a = &t->c[TCPPROBE_MAP_ALT_IP];
	const struct tcpprobe_conn *b = &t->c[TCPPROBE_MAP_ALT_IP_PORT];
	int b_ok = b->result == TCPPROBE_ANSWERED;

	if (m->result != TCPPROBE_ANSWERED) {
		warn(v, TCPPROBE_W_TEST, m, TCPPROBE_ADDR_OK);
		return NAT_BEH_UNKNOWN;
	}
	if (t->alt_problem != TCPPROBE_ADDR_OK) {
		warn(v, TCPPROBE_W_NO_ALTERNATE, m, t->alt_problem);
		return NAT_BEH_UNKNOWN;
	}
	/* The alternate connections went where the UDP answer said, and
	 * this server over TCP names another: they compare nothing it
	 * vouched for. */
	if (t->alt_set && !addr_eq(&t->alt, &m->other)) {
		warn(v, TCPPROBE_W_ALT_MISMATCH, m, TCPPROBE_ADDR_OK);
		return NAT_BEH_UNKNOWN;
	}
	if (a->result != TCPPROBE_ANSWERED) {
		warn(v, TCPPROBE_W_TEST, a, TCPPROBE_ADDR_OK);
		return NAT_BEH_UNKNOWN;
	}
	if (!from_p0(t, m) || !from_p0(t, a) || (b_ok && !from_p0(t, b))) {
		warn(v, TCPPROBE_W_PORT_NOT_KEPT, NULL, TCPPROBE_ADDR_OK);
		return NAT_BEH_UNKNOWN;
	}
	if (addr_eq(&m->mapped, &a->mapped)) {
		if (b_ok && !addr_eq(&b->mapped, &a->mapped)) {
			warn(v, TCPPROBE_W_INCONSISTENT, b, TCPPROBE_ADDR_OK);
			return NAT_BEH_UNKNOWN;
		}
		return NAT_BEH_ENDPOINT_INDEPENDENT;
	}
	if (!b_ok) {
		warn(v, TCPPROBE_W_TEST, b, TCPPROBE_ADDR_OK);
		return NAT_BEH_UNKNOWN;
	}
	return addr_eq(&b->mapped, &a->mapped) ? NAT_BEH_ADDRESS_DEPENDENT
	    : NAT_BEH_ADDRESS_PORT_DEPENDENT;
}

/* RFC 5780 section 4.5 over TCP. */
static int
hairpinning(const struct tcpprobe *t, struct tcpprobe_verdict *v)
{
	const struct tcpprobe_conn *hb = &t->c[TCPPROBE_HAIR_BINDING];
	const struct tcpprobe_conn *h = &t->c[TCPPROBE_HAIR];

	if (t->cfg.local[1].port == 0) {
		warn(v, TCPPROBE_W_NO_LISTENER, NULL, TCPPROBE_ADDR_OK);
		return -1;
	}
	if (hb->result != TCPPROBE_ANSWERED) {
		warn(v, TCPPROBE_W_TEST, hb, TCPPROBE_ADDR_OK);
		return -1;
	}
	/* No NAT: hairpinning does not apply, as the UDP report says it
	 * (null, "not applicable"), which is no warning. */
	if (hb->has_local && addr_eq(&hb->mapped, &hb->local))
		return -1;
	if (t->hair_problem != TCPPROBE_ADDR_OK) {
		warn(v, TCPPROBE_W_BAD_MAPPED, hb, t->hair_problem);
		return -1;
	}
	switch (h->result) {
	case TCPPROBE_ANSWERED:
		return 1;
	case TCPPROBE_REFUSED:
	case TCPPROBE_NO_SYNACK:
	case TCPPROBE_NOT_DELIVERED:
	case TCPPROBE_CLOSED:
		return 0;
	default:
		warn(v, TCPPROBE_W_TEST, h, TCPPROBE_ADDR_OK);
		return -1;
	}
}

void
tcpprobe_classify(const struct tcpprobe *t, struct tcpprobe_verdict *v)
{
	const struct tcpprobe_conn *m = &t->c[TCPPROBE_MAP];

	memset(v, 0, sizeof(*v));
	v->status = status_of(m);
	v->has_mapped = m->result == TCPPROBE_ANSWERED && m->has_mapped;
	if (v->has_mapped)
		v->mapped = m->mapped;
	v->nat = !v->has_mapped || !m->has_local ? -1 : !addr_eq(&m->mapped, &m->local);
	v->mapping = mapping(t, v);
	/* A blocked or refused primary says all there is to say. */
	if (v->status != TCPPROBE_ST_OK) {
		v->hairpinning = -1;
		return;
	}
	v->hairpinning = hairpinning(t, v);
}

const char *
tcpprobe_kind_name(int kind)
{
	return kind >= 0 && kind < TCPPROBE_NCONN ? kinds[kind].name : "unknown";
}

const char *
tcpprobe_result_name(enum tcpprobe_result r)
{
	switch (r) {
	case TCPPROBE_NOT_RUN:        return "not-run";
	case TCPPROBE_RUNNING:        return "running";
	case TCPPROBE_ANSWERED:       return "answered";
	case TCPPROBE_REFUSED:        return "refused";
	case TCPPROBE_UNREACHABLE:    return "unreachable";
	case TCPPROBE_NO_SYNACK:      return "no-synack";
	case TCPPROBE_CLOSED:         return "closed";
	case TCPPROBE_MALFORMED:      return "malformed";
	case TCPPROBE_ERROR_RESPONSE: return "error-response";
	case TCPPROBE_NOT_DELIVERED:  return "not-delivered";
	case TCPPROBE_LOCAL_ERROR:    return "local-error";
	case TCPPROBE_TIMEOUT:        return "timeout";
	}
	return "unknown";
}

const char *
tcpprobe_status_word(enum tcpprobe_status s)
{
	switch (s) {
	case TCPPROBE_ST_OK:          return "ok";
	case TCPPROBE_ST_REFUSED:     return "refused";
	case TCPPROBE_ST_BLOCKED:     return "blocked";
	case TCPPROBE_ST_UNREACHABLE: return "unreachable";
	case TCPPROBE_ST_NO_STUN:     return "no-stun";
	case TCPPROBE_ST_UNKNOWN:     break;
	}
	return "unknown";
}

const char *
tcpprobe_spec_word(enum tcpprobe_spec s)
{
	switch (s) {
	case TCPPROBE_SPEC_NONE:      return "none";
	case TCPPROBE_SPEC_PENDING:   return "pending";
	case TCPPROBE_SPEC_CONFIRMED: return "confirmed";
	case TCPPROBE_SPEC_DISCARDED: return "discarded";
	}
	return "unknown";
}

const char *
tcpprobe_addr_word(enum tcpprobe_addr a)
{
	switch (a) {
	case TCPPROBE_ADDR_OK:           return "ok";
	case TCPPROBE_ADDR_ABSENT:       return "absent";
	case TCPPROBE_ADDR_FAMILY:       return "family";
	case TCPPROBE_ADDR_UNSPECIFIED:  return "unspecified";
	case TCPPROBE_ADDR_PORT_ZERO:    return "port-zero";
	case TCPPROBE_ADDR_MULTICAST:    return "multicast";
	case TCPPROBE_ADDR_BROADCAST:    return "broadcast";
	case TCPPROBE_ADDR_LOOPBACK:     return "loopback";
	case TCPPROBE_ADDR_LOCAL:        return "local";
	case TCPPROBE_ADDR_NOT_DISTINCT: return "not-distinct";
	case TCPPROBE_ADDR_SITE:         return "local-scope";
	case TCPPROBE_ADDR_ON_LINK:      return "on-link";
	}
	return "unknown";
}
