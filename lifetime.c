/*
 * lifetime.c - the binding lifetime engine (see lifetime.h for the method).
 *
 * Pure: no I/O, the clock comes in as an argument.  Ages are measured
 * conservatively: "alive at A" uses the check's send time minus the time
 * the arm's answer came back (the mapping was refreshed before that), and
 * "expired by E" the check's last send plus a round trip minus the arm's
 * last send (the mapping was refreshed after that), so the bracket holds
 * the truth whatever the delays on the path.
 */
#include <string.h>

#include "addr.h"
#include "lifetime.h"

#define LT_NONE        UINT32_MAX
#define LT_SLACK_MS    20       /* added to every round-trip bound */
#define LT_RTO_MIN_MS  100
#define LT_RTO0_MS     500      /* before any round trip is measured */

static uint32_t
rto(const struct lifetime *l)
{
	uint32_t r = 2 * l->rtt_max;

	if (!l->have_rtt)
		return LT_RTO0_MS;
	return r < LT_RTO_MIN_MS ? LT_RTO_MIN_MS : r;
}

/* How long after its last send an operation is given up. */
static uint32_t
giveup_wait(const struct lifetime *l)
{
	uint32_t half = l->rtt_max / 2;

	return rto(l) + l->rtt_max + (half > 50 ? half : 50);
}

/* Unanswered sends that make a check "expired": enough that losing them
 * all stays below LT_EPS at the exchange loss the arms measured.  By
 * multiplication, as probe.c does: no libm. */
static size_t
check_sends(const struct lifetime *l)
{
	double q = (double)(l->arm_sends - l->arm_answers + 1) / (double)(l->arm_sends + 2);
	double prod = q;
	size_t k = 1;

	for (; prod > LT_EPS && k < LT_MAX_SENDS; k++)
		prod *= q;
	return k < LT_CHECK_SENDS ? LT_CHECK_SENDS : k;
}

static uint64_t
age(const struct lifetime_sock *s, uint64_t now)
{
	return now > s->arm_rx ? now - s->arm_rx : 0;
}

/* The wall-time budget: 1.25 x the lifetime (as far as known) + 5 s. */
static uint64_t
deadline(const struct lifetime *l)
{
	uint64_t base = l->hi == LT_NONE ? l->cfg.max_ms : l->lo;

	return l->start + base + base / 4 + 5000;
}

void
lifetime_init(struct lifetime *l, const struct lifetime_config *cfg, uint64_t now_ms)
{
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	if (l->cfg.max_ms == 0)
		l->cfg.max_ms = LT_DEFAULT_MAX_MS;
	l->start = now_ms;
	l->hi = LT_NONE;
	l->next_age = LT_FIRST_MS < l->cfg.max_ms ? LT_FIRST_MS : l->cfg.max_ms;
	for (int i = 0; i < LT_NSOCK; i++)
		l->s[i].want_arm = i != LT_SOCK_PROBER;
	l->r.max_ms = l->cfg.max_ms;
}

/* ---------------------------------------------------------------- sending */

/* Encode one Binding request (with RESPONSE-PORT when port != 0, and
 * FINGERPRINT) with a fresh transaction ID recorded in s. */
static int
build(struct lifetime *l, struct lifetime_sock *s, int sock, uint16_t port, uint64_t now,
      struct lifetime_tx *tx)
{
	uint8_t *tid = s->tids[s->nsent];
	struct stun_enc e;
	size_t len = 0;

	tid[0] = (uint8_t)(STUN_MAGIC_COOKIE >> 24);
	tid[1] = (uint8_t)(STUN_MAGIC_COOKIE >> 16);
	tid[2] = (uint8_t)(STUN_MAGIC_COOKIE >> 8);
	tid[3] = (uint8_t)STUN_MAGIC_COOKIE;
	memset(tid + 4, 0, STUN_TID_LEN - 4);
	if (l->cfg.random != NULL)
		l->cfg.random(l->cfg.random_ctx, tid + 4, STUN_TID_LEN - 4);
	stun_enc_init(&e, tx->buf, sizeof(tx->buf), STUN_BINDING_REQUEST, tid);
	if (port != 0)
		stun_enc_response_port(&e, port);
	stun_enc_fingerprint(&e);       /* RFC 5389 section 15.5 */
	if (stun_enc_finish(&e, &len) != STUN_OK)
		return -1;
	tx->sock = sock;
	tx->to = l->cfg.server;
	tx->len = len;
	s->sent_at[s->nsent++] = now;
	return 0;
}

/* Send the next datagram of socket i's operation. */
static int
send_op(struct lifetime *l, int i, uint64_t now, struct lifetime_tx *tx)
{
	struct lifetime_sock *s = &l->s[i];

	if (s->op == LT_OP_ARM)
		return build(l, s, i, 0, now, tx);
	return build(l, s, LT_SOCK_PROBER, s->mapped_port, now, tx);
}

static int
start_op(struct lifetime *l, int i, enum lt_op op, uint64_t now, struct lifetime_tx *tx)
{
	struct lifetime_sock *s = &l->s[i];

	s->op = op;
	s->nsent = 0;
	if (op == LT_OP_ARM) {
		s->want_arm = 0;
		s->armed = 0;
	}
	l->last_new = now;
	l->have_new = 1;
	return send_op(l, i, now, tx);
}

/* ---------------------------------------------------------------- results */

static void
alive(struct lifetime *l, int i, size_t j, uint64_t now)
{
	struct lifetime_sock *s = &l->s[i];
	uint64_t a = s->sent_at[j] > s->arm_rx ? s->sent_at[j] - s->arm_rx : 0;

	s->op = LT_OP_NONE;
	if (i == LT_SOCK_REFRESH) {
		uint64_t out = s->sent_at[j] > s->arm_rx ? s->sent_at[j] - s->arm_rx : 0;

		if (out > l->refresh_alive_out)
			l->refresh_alive_out = out;
		s->last_in = s->sent_at[j];
		return;
	}
	(void)now;
	l->r.checks++;
	if (a > UINT32_MAX - 1)
		a = UINT32_MAX - 1;
	if (l->hi != LT_NONE && a >= l->hi) {
		/* Alive beyond an expiry: that expiry was loss, or the NAT's
		 * timeout varies.  An answer is proof; drop the expiry. */
		l->r.conflicts++;
		l->hi = LT_NONE;
		if (l->next_age < (double)a * LT_RATIO)
			l->next_age = (double)a * LT_RATIO;
		if (l->next_age > l->cfg.max_ms)
			l->next_age = l->cfg.max_ms;
		l->coarse_done = 0;
	}
	if (a > l->lo)
		l->lo = (uint32_t)a;
	s->armed = 0;
	s->want_arm = 1;
}

static void
expired(struct lifetime *l, int i)
{
	struct lifetime_sock *s = &l->s[i];
	uint64_t last = s->sent_at[s->nsent - 1] + l->rtt_max + LT_SLACK_MS;
	uint64_t e = last > s->arm_sent ? last - s->arm_sent : 0;

	s->op = LT_OP_NONE;
	s->armed = 0;
	if (i == LT_SOCK_REFRESH) {
		l->refresh_dead = 1;
		if (s->last_in != 0)
			l->refresh_dead_in = last > s->last_in ? last - s->last_in : 0;
		return;
	}
	l->r.checks++;
	s->want_arm = 1;
	if (e <= l->lo) {
		l->r.conflicts++;       /* expired below an age seen alive: loss */
		return;
	}
	if (e < l->hi)
		l->hi = (uint32_t)e;
}

static int
any_mapping(const struct lifetime *l)
{
	for (int i = 0; i < LT_NMAP; i++)
		if (!l->s[i].dead)
			return 1;
	return 0;
}

static void
finish(struct lifetime *l)
{
	struct lifetime_result *r = &l->r;

	l->done = 1;
	r->measured = r->checks > 0;
	r->no_server = !any_mapping(l);
	r->alive_ms = l->lo;
	r->expired = l->hi != LT_NONE;
	r->expired_ms = r->expired ? l->hi : 0;
	r->keepalive_ms = l->lo / 4 * 3;
	r->refresh = LT_REFRESH_UNKNOWN;
	if (r->expired && l->refresh_alive_out > l->hi)
		r->refresh = LT_REFRESH_INBOUND;
	else if (r->expired && l->refresh_dead && l->refresh_dead_in != 0 &&
	    l->refresh_dead_in < l->lo)
		r->refresh = LT_REFRESH_OUTBOUND_ONLY;
}

/* ---------------------------------------------------------------- schedule */

static int
usable(const struct lifetime_sock *s)
{
	return !s->dead && s->armed && s->op == LT_OP_NONE;
}

/* The refresh socket still has something to show. */
static int
refresh_pending(const struct lifetime *l)
{
	const struct lifetime_sock *s = &l->s[LT_SOCK_REFRESH];

	if (s->dead || l->refresh_dead || l->hi == LT_NONE)
		return !s->dead && !l->refresh_dead && l->hi == LT_NONE;
	return l->refresh_alive_out <= l->hi &&
	    s->arm_rx + l->hi + rto(l) + LT_SLACK_MS <= deadline(l);
}

/* When the refresh socket is next to be checked. */
static uint64_t
refresh_due(const struct lifetime *l)
{
	const struct lifetime_sock *s = &l->s[LT_SOCK_REFRESH];
	uint64_t iv = l->lo / 2 > 1000 ? l->lo / 2 : 1000;
	uint64_t ref = s->last_in != 0 ? s->last_in : s->arm_rx;
	uint64_t due = ref + iv;

	/* Once the bracket is known: one check past its top settles it. */
	if (l->hi != LT_NONE) {
		uint64_t past = s->arm_rx + l->hi + rto(l) + LT_SLACK_MS;

		if (past < due)
			due = past;
	}
	return due;
}

/*
 * The upper end of the bracket for scheduling: the real one, or lower, the
 * age of a check still in flight whose first send has gone unanswered for
 * a round trip.  That check is probably an expiry; checking other sockets
 * below its age meanwhile saves the retransmissions' wait, and if it turns
 * out alive after all, nothing was decided from the guess.
 */
static uint32_t
sched_hi(const struct lifetime *l, uint64_t now)
{
	uint32_t hi = l->hi;

	if (!l->have_rtt)
		return hi;
	for (int i = 0; i < LT_NMAP; i++) {
		const struct lifetime_sock *s = &l->s[i];
		uint64_t a;

		if (s->op != LT_OP_CHECK || now < s->sent_at[0] + l->rtt_max + 2 * LT_SLACK_MS)
			continue;
		a = s->sent_at[0] - s->arm_sent + l->rtt_max + LT_SLACK_MS;
		if (a > l->lo && a < hi)
			hi = (uint32_t)a;
	}
	return hi;
}

/* The mapping socket to check now, or -1; *when: when one may be due. */
static int
pick_check(const struct lifetime *l, uint64_t now, uint64_t *when)
{
	int best = -1;
	uint64_t best_age = 0;
	uint32_t hi = sched_hi(l, now);

	*when = UINT64_MAX;
	for (int i = 0; i < LT_NMAP; i++) {
		const struct lifetime_sock *s = &l->s[i];
		uint64_t a = age(s, now), target;

		if (!usable(s))
			continue;
		if (hi == LT_NONE) {
			if (l->coarse_done)
				continue;
			target = (uint64_t)l->next_age;
		} else {
			if (a >= hi)
				continue;
			target = l->lo + (hi - l->lo) / 2;
		}
		/* Coarse: the oldest.  Refining: the one nearest the middle. */
		if (a >= target) {
			if (best == -1 || (hi == LT_NONE ? a > best_age : a < best_age)) {
				best = i;
				best_age = a;
			}
		} else if (s->arm_rx + target < *when) {
			*when = s->arm_rx + target;
		}
	}
	return best;
}

static int
checks_in_flight(const struct lifetime *l)
{
	for (int i = 0; i < LT_NMAP; i++)
		if (l->s[i].op == LT_OP_CHECK)
			return 1;
	return 0;
}


/* Is the run over? */
static int
over(const struct lifetime *l, uint64_t now, int c, uint64_t check_when)
{
	uint32_t width, enough;

	if (l->r.unsupported || !any_mapping(l))
		return 1;
	if (now >= deadline(l))
		return 1;
	if (l->hi == LT_NONE)
		return l->coarse_done && !checks_in_flight(l);
	width = l->hi > l->lo ? l->hi - l->lo : 0;
	enough = l->lo / 10 > LT_WIDTH_MS ? l->lo / 10 : LT_WIDTH_MS;
	if (width <= enough || (c < 0 && check_when >= deadline(l) && !checks_in_flight(l)))
		return !refresh_pending(l);
	return 0;
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

enum lifetime_step
lifetime_next(struct lifetime *l, uint64_t now, struct lifetime_tx *tx, uint32_t *wait_ms)
{
	uint64_t wake = UINT64_MAX, check_when;
	int c;

	if (l->done)
		return LT_DONE;

	/* Operations in flight: retransmit, or decide. */
	for (int i = 0; i < LT_NSOCK; i++) {
		struct lifetime_sock *s = &l->s[i];
		size_t cap = s->op == LT_OP_ARM ? LT_ARM_SENDS : check_sends(l);
		uint64_t last, iv;

		if (s->op == LT_OP_NONE)
			continue;
		last = s->sent_at[s->nsent - 1];
		/* A check's copies go out close together: the expiry bound
		 * counts from its last copy, so spreading them would blur it. */
		iv = s->op == LT_OP_ARM ? rto(l) : LT_RTO_MIN_MS;
		if (s->nsent < cap) {
			if (now >= last + iv)
				return send_op(l, i, now, tx) == 0 ? LT_SEND : LT_WAIT;
			wake = min64(wake, last + iv);
			continue;
		}
		if (now < last + giveup_wait(l)) {
			wake = min64(wake, last + giveup_wait(l));
			continue;
		}
		if (s->op == LT_OP_ARM) {
			s->op = LT_OP_NONE;
			s->dead = 1;
		} else {
			expired(l, i);
		}
	}

	c = pick_check(l, now, &check_when);
	if (over(l, now, c, check_when)) {
		finish(l);
		return LT_DONE;
	}

	/* New transactions, paced. */
	if (l->have_new && now < l->last_new + LT_PACE_MS) {
		wake = min64(wake, l->last_new + LT_PACE_MS);
	} else {
		struct lifetime_sock *r = &l->s[LT_SOCK_REFRESH];

		if (c >= 0) {
			if (sched_hi(l, now) == LT_NONE) {
				if (l->next_age >= l->cfg.max_ms)
					l->coarse_done = 1;
				l->next_age *= LT_RATIO;
				if (l->next_age > l->cfg.max_ms)
					l->next_age = l->cfg.max_ms;
			}
			return start_op(l, c, LT_OP_CHECK, now, tx) == 0 ? LT_SEND : LT_WAIT;
		}
		if (usable(r) && !l->refresh_dead && refresh_pending(l) && now >= refresh_due(l))
			return start_op(l, LT_SOCK_REFRESH, LT_OP_CHECK, now, tx) == 0 ? LT_SEND
			    : LT_WAIT;
		/* The refresh socket first: it should be the oldest. */
		for (int k = 0; k < LT_NSOCK; k++) {
			int i = k == 0 ? LT_SOCK_REFRESH : k - 1;

			if (i != LT_SOCK_REFRESH && i >= LT_NMAP)
				continue;
			if (l->s[i].want_arm && !l->s[i].dead && l->s[i].op == LT_OP_NONE &&
			    (i == LT_SOCK_REFRESH || l->hi == LT_NONE ||
			     now + l->lo < deadline(l)))
				return start_op(l, i, LT_OP_ARM, now, tx) == 0 ? LT_SEND : LT_WAIT;
		}
	}
	wake = min64(wake, check_when);
	if (usable(&l->s[LT_SOCK_REFRESH]) && refresh_pending(l))
		wake = min64(wake, refresh_due(l));
	wake = min64(wake, deadline(l));
	*wait_ms = wake <= now ? 1 : (uint32_t)min64(wake - now, 60000);
	return LT_WAIT;
}

/* ---------------------------------------------------------------- input */

static int
find_tid(const struct lifetime *l, const uint8_t *tid, int *ip, size_t *jp)
{
	for (int i = 0; i < LT_NSOCK; i++) {
		const struct lifetime_sock *s = &l->s[i];

		if (s->op == LT_OP_NONE)
			continue;
		for (size_t j = 0; j < s->nsent; j++)
			if (memcmp(s->tids[j], tid, STUN_TID_LEN) == 0) {
				*ip = i;
				*jp = j;
				return 1;
			}
	}
	return 0;
}

void
lifetime_input(struct lifetime *l, uint64_t now, int sock, const struct stun_addr *from,
               const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	struct stun_addr mapped;
	struct lifetime_sock *s;
	size_t j;
	int i;

	if (l->done || stun_decode(buf, len, &m) != STUN_OK ||
	    m.method != STUN_METHOD_BINDING || !find_tid(l, m.tid, &i, &j) ||
	    !addr_eq(from, &l->cfg.server))
		return;         /* not ours: dropped, like probe's strays */
	s = &l->s[i];
	if (s->op == LT_OP_CHECK) {
		if (sock == LT_SOCK_PROBER && (m.cls == STUN_CLASS_SUCCESS ||
		    m.cls == STUN_CLASS_ERROR)) {
			/* Answered to the sender, or refused: RESPONSE-PORT is not
			 * honoured (RFC 5780 section 7.5 makes it mandatory). */
			l->r.unsupported = 1;
			return;
		}
		if (sock == i && m.cls == STUN_CLASS_SUCCESS)
			alive(l, i, j, now);
		return;
	}
	/* An arm: the answer names the mapping. */
	if (sock != i || m.cls != STUN_CLASS_SUCCESS || stun_get_mapped(&m, &mapped) != STUN_OK)
		return;
	if (now - s->sent_at[j] > l->rtt_max || !l->have_rtt)
		l->rtt_max = (uint32_t)min64(now - s->sent_at[j], 60000);
	l->have_rtt = 1;
	l->arm_sends += (unsigned)s->nsent;
	l->arm_answers++;
	s->op = LT_OP_NONE;
	s->armed = 1;
	s->mapped_port = mapped.port;
	s->arm_sent = s->sent_at[s->nsent - 1];
	s->arm_rx = now;
}

const char *
lifetime_refresh_word(enum lifetime_refresh r)
{
	switch (r) {
	case LT_REFRESH_INBOUND:       return "inbound";
	case LT_REFRESH_OUTBOUND_ONLY: return "outbound-only";
	case LT_REFRESH_UNKNOWN:       break;
	}
	return "unknown";
}
