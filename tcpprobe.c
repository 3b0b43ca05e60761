/*
 * tcpprobe.c - the TCP mapping and hairpinning tests (see tcpprobe.h).
 *
 * No I/O: the shell connects, writes and reads; this decides which
 * connection to open when, what each answer says, and what it all means.
 */
#include <string.h>

#include "addr.h"
#include "tcpprobe.h"

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
	for (int i = 0; i < TCPPROBE_NCONN; i++) {
		t->c[i].kind = (enum tcpprobe_kind)i;
		t->c[i].port = kinds[i].port;
	}
	if (!cfg->enabled) {
		t->done = 1;
		t->end_ms = now_ms;
	}
}

static void
decide(struct tcpprobe *t, struct tcpprobe_conn *c, enum tcpprobe_result r, uint64_t now)
{
	if (c->state == TCPPROBE_S_DONE)
		return;
	c->state = TCPPROBE_S_DONE;
	c->result = r;
	c->done_ms = now;
	(void)t;
}

/*
 * May we connect to a, which the primary server told us about?  The same
 * rules as the UDP engine's (probe.h): a server must not make us connect
 * to a multicast or broadcast address, to nothing, or to this host's
 * loopback unless it is there itself.
 */
static enum tcpprobe_addr
addr_check(const struct tcpprobe *t, const struct stun_addr *a)
{
	const struct stun_addr *s = &t->cfg.server;

	if (a->family != s->family)
		return TCPPROBE_ADDR_FAMILY;
	if (addr_is_unspecified(a))
		return TCPPROBE_ADDR_UNSPECIFIED;
	if (a->port == 0)
		return TCPPROBE_ADDR_PORT_ZERO;
	if (addr_is_multicast(a))
		return TCPPROBE_ADDR_MULTICAST;
	if (addr_is_limited_broadcast(a))
		return TCPPROBE_ADDR_BROADCAST;
	if (addr_is_loopback(a) && !addr_is_loopback(s))
		return TCPPROBE_ADDR_LOOPBACK;
	return TCPPROBE_ADDR_OK;
}

/* RFC 5780 section 7.4: the alternate differs in IP and in port. */
static enum tcpprobe_addr
alt_check(const struct tcpprobe *t, const struct tcpprobe_conn *m)
{
	enum tcpprobe_addr a;

	if (m->result != TCPPROBE_ANSWERED || !m->has_other)
		return TCPPROBE_ADDR_ABSENT;
	a = addr_check(t, &m->other);
	if (a == TCPPROBE_ADDR_OK && (addr_ip_eq(&m->other, &t->cfg.server) ||
	    m->other.port == t->cfg.server.port))
		a = TCPPROBE_ADDR_NOT_DISTINCT;
	return a;
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
	memset(tx, 0, sizeof(*tx));
	tx->conn = (int)c->kind;
	tx->port = c->port;
	tx->to = *dst;
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
	tx->conn = (int)c->kind;
	stun_enc_init(&e, tx->buf, sizeof(tx->buf), STUN_BINDING_REQUEST, tid);
	stun_enc_fingerprint(&e);
	if (stun_enc_finish(&e, &tx->len) != STUN_OK) {
		decide(t, c, TCPPROBE_LOCAL_ERROR, c->connected_ms);
		return TCPPROBE_WAIT;
	}
	c->state = TCPPROBE_S_SENT;
	return TCPPROBE_SEND;
}

/*
 * When conn's time is up: the run's cap; once hurried, the hurry's end,
 * but never before a connect had its SYN grace, an answer a round trip
 * (twice, and a margin) after its request, or a hairpin connection that
 * connected the grace to reach the listener (TCP's own retransmission).
 */
static uint64_t
conn_deadline(const struct tcpprobe *t, const struct tcpprobe_conn *c)
{
	uint64_t d = t->deadline_ms, h, own = 0;

	if (!t->hurried)
		return d;
	h = t->hurry_ms;
	if (c->state == TCPPROBE_S_CONNECTING)
		own = c->started_ms + TCPPROBE_SYN_GRACE_MS;
	else if (c->kind == TCPPROBE_HAIR)
		own = c->connected_ms + TCPPROBE_SYN_GRACE_MS;
	else
		own = c->connected_ms + 2 * (uint64_t)t->hurry_rtt + TCPPROBE_MARGIN_MS;
	if (own > h)
		h = own;
	return h < d ? h : d;
}

/* Conn's time is up at now: decide what the wait showed. */
static void
expire(struct tcpprobe *t, struct tcpprobe_conn *c, uint64_t now)
{
	if (c->state == TCPPROBE_S_CONNECTING)
		decide(t, c, now >= c->started_ms + TCPPROBE_SYN_GRACE_MS ? TCPPROBE_NO_SYNACK
		    : TCPPROBE_TIMEOUT, now);
	else if (c->kind == TCPPROBE_HAIR && c->state == TCPPROBE_S_SENT &&
	    now >= c->connected_ms + TCPPROBE_SYN_GRACE_MS)
		/* Connected to our own mapped address, the request written, and
		 * a long wait later the listener has not seen it: whatever
		 * accepted the connection, it was not our listener. */
		decide(t, c, TCPPROBE_NOT_DELIVERED, now);
	else
		decide(t, c, TCPPROBE_TIMEOUT, now);
}

/* Start what the answers so far allow; NOT_RUN what they rule out. */
static int
ready_to_start(struct tcpprobe *t, struct tcpprobe_conn *c, struct stun_addr *dst)
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
		if (m->state != TCPPROBE_S_DONE)
			return 0;
		t->alt_problem = alt_check(t, m);
		if (t->alt_problem != TCPPROBE_ADDR_OK)
			return -1;
		*dst = m->other;
		if (c->kind == TCPPROBE_MAP_ALT_IP)
			dst->port = t->cfg.server.port;
		return 1;
	case TCPPROBE_HAIR:
		if (hb->state != TCPPROBE_S_DONE)
			return 0;
		if (hb->result != TCPPROBE_ANSWERED || !hb->has_mapped)
			return -1;
		t->hair_problem = addr_check(t, &hb->mapped);
		if (t->hair_problem != TCPPROBE_ADDR_OK)
			return -1;
		/* Our own address: no NAT, nothing to hairpin. */
		if (hb->has_local && addr_eq(&hb->mapped, &hb->local))
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
			r = ready_to_start(t, c, &dst);
			if (r < 0) {
				decide(t, c, TCPPROBE_NOT_RUN, now_ms);
				continue;
			}
			if (r == 0) {
				open = 1;
				continue;
			}
			if (now_ms >= t->deadline_ms) {
				decide(t, c, TCPPROBE_TIMEOUT, now_ms);
				continue;
			}
			return start(t, c, &dst, now_ms, tx);
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
	if (conn < 0 || conn >= TCPPROBE_NCONN || t->c[conn].state == TCPPROBE_S_DONE ||
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
	if (local != NULL) {
		c->has_local = 1;
		c->local = *local;
	}
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

	if (c == NULL || c->state != TCPPROBE_S_SENT || c->kind == TCPPROBE_HAIR)
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

	/* Anyone may connect to the listener: only our request counts. */
	if (c == NULL || c->state != TCPPROBE_S_SENT || stun_decode(buf, len, &m) != STUN_OK ||
	    m.method != 0x001 || m.cls != STUN_CLASS_REQUEST ||
	    memcmp(m.tid, c->tid, STUN_TID_LEN) != 0)
		return;
	decide(t, c, TCPPROBE_ANSWERED, now_ms);
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
	if (t->hair_problem != TCPPROBE_ADDR_OK) {
		warn(v, TCPPROBE_W_BAD_MAPPED, hb, t->hair_problem);
		return -1;
	}
	if (hb->has_local && addr_eq(&hb->mapped, &hb->local)) {
		warn(v, TCPPROBE_W_NO_NAT, hb, TCPPROBE_ADDR_OK);
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
	case TCPPROBE_ADDR_NOT_DISTINCT: return "not-distinct";
	}
	return "unknown";
}
