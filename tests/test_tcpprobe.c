/*
 * test_tcpprobe.c - the TCP tests' framing, engine and verdict.
 *
 * The framing function gets a table of named rows, each input ending just
 * before a PROT_NONE page (tests/support/edge.h).  The engine runs in
 * virtual time against a simulated TCP world: a client host, a NAT whose
 * TCP mapping is endpoint-independent, address-dependent or
 * address-and-port-dependent (with or without hairpinning, or dropping or
 * refusing TCP), and the REAL server handler (server_handle) answering on
 * 203.0.113.1/.2 ports 3478/3479, over the stream.  The UDP engine's pace
 * (probe_pace) is given by hand, or, in the loss sweep, taken from the
 * real UDP engine run over the same lossy path (tests/support/natsim).
 * Packet loss in the world is per packet and direction; the kernel sends
 * a lost SYN again after 1 s and 3 s, a lost segment after 200 ms + RTT.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "addr.h"
#include "edge.h"
#include "natsim.h"
#include "server.h"
#include "tcpprobe.h"
#include "tcpreport.h"

static struct stun_addr
ip4(const char *ip, uint16_t port)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	if (inet_pton(AF_INET, ip, a.addr) != 1)
		a.family = 0;
	a.port = port;
	return a;
}

/* ---------------------------------------------------------------- framing */

struct frame_case {
	const char *name;
	size_t len;
	uint8_t bytes[32];
	size_t cap;
	enum tcpprobe_frame want;
	size_t msglen;
};

Test(frame, table)
{
	static const struct frame_case cases[] = {
		/* empty: nothing yet */
		{ "empty", 0, { 0 }, 1024, TCPPROBE_FRAME_INCOMPLETE, 0 },
		/* one byte with the top bits set: not STUN, said at once */
		{ "top bits", 1, { 0x80 }, 1024, TCPPROBE_FRAME_NOT_STUN, 0 },
		/* "GET " is not STUN: an HTTP server on the port */
		{ "http", 4, { 'G', 'E', 'T', ' ' }, 1024, TCPPROBE_FRAME_NOT_STUN, 0 },
		/* a header cut short */
		{ "short header", 19, { 0x01, 0x01, 0, 0 }, 1024, TCPPROBE_FRAME_INCOMPLETE, 0 },
		/* a bare header, length 0: one whole message */
		{ "bare header", 20, { 0x01, 0x01, 0, 0 }, 1024, TCPPROBE_FRAME_OK, 20 },
		/* length not a multiple of 4 */
		{ "unaligned", 20, { 0x01, 0x01, 0, 6 }, 1024, TCPPROBE_FRAME_NOT_STUN, 0 },
		/* length 8, only 4 of its bytes here */
		{ "body short", 24, { 0x01, 0x01, 0, 8 }, 1024, TCPPROBE_FRAME_INCOMPLETE, 0 },
		/* length 8 and 12 bytes more: the message is the first 28 */
		{ "next message", 32, { 0x01, 0x01, 0, 8 }, 1024, TCPPROBE_FRAME_OK, 28 },
		/* 65532 announced, cap 1024: cut off before waiting for it */
		{ "too long", 20, { 0x01, 0x01, 0xff, 0xfc }, 1024, TCPPROBE_FRAME_TOO_LONG, 0 },
		/* exactly the cap */
		{ "at cap", 28, { 0x01, 0x01, 0, 8 }, 28, TCPPROBE_FRAME_OK, 28 },
		/* one word over the cap */
		{ "over cap", 20, { 0x01, 0x01, 0, 12 }, 28, TCPPROBE_FRAME_TOO_LONG, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct frame_case *c = &cases[i];
		uint8_t *buf = edge_buf(c->len);
		size_t n = 0;
		enum tcpprobe_frame got;

		memcpy(buf, c->bytes, c->len);
		got = tcpprobe_frame(buf, c->len, c->cap, &n);
		cr_assert_eq(got, c->want, "%s: got %d, want %d", c->name, got, c->want);
		if (got == TCPPROBE_FRAME_OK)
			cr_assert_eq(n, c->msglen, "%s: length %zu, want %zu", c->name, n, c->msglen);
	}
}

/* ---------------------------------------------------------- the TCP world */

enum beh { EI, AD, APD, NONAT };

enum srv { SRV_NORMAL, SRV_NO_ALT, SRV_GARBAGE, SRV_WRONG_TID, SRV_HUGE, SRV_BAD_ALT,
	SRV_SPLIT, SRV_SILENT };

struct world {
	enum beh mapping;
	int      hairpin;           /* the NAT loops connections to its own mappings */
	int      drop_syn;          /* TCP blocked: every SYN dropped */
	int      refuse;            /* nothing listens on the server: RST */
	int      lose_first_syn;    /* the map connection's first SYN is lost */
	int      lose_first_hair_syn; /* the hairpin test's own first SYN is lost */
	int      no_listener;       /* P1 unavailable: no hairpin tests */
	int      hair_elsewhere;    /* the NAT loops hairpin SYNs back, but not to
	                               our listener: they connect, nothing arrives */
	/* The UDP engine's answer naming an alternate (tcpprobe_set_alt) from
	 * udp_alt_at on (0: never): udp_alt (default the server's own, the
	 * alternate IP and port) from udp_alt_server (default the primary). */
	uint64_t udp_alt_at;
	struct stun_addr udp_alt, udp_alt_server;
	/* The UDP answer's mapped address (tcpprobe_set_mapped) from
	 * udp_mapped_at on (0: never): udp_mapped (default PUBLIC, port 1)
	 * from udp_mapped_server (default the primary). */
	uint64_t udp_mapped_at;
	struct stun_addr udp_mapped, udp_mapped_server;
	/* A hairpin connect to our public IP on a port that is no mapping of
	 * P1 (a wrong guess): dropped, or with wrong_rst answered by an RST,
	 * with wrong_other accepted by someone else's listener (nothing
	 * reaches ours), with forward_p1 forwarded to P1 (a port forwarding
	 * that is not the mapping: our listener gets the request). */
	int      wrong_rst, wrong_other, forward_p1;
	int      hair_rst;          /* the NAT resets a hairpin SYN to a mapping */
	int      elsewhere[TCPPROBE_NSLOT]; /* the connection went to someone else */
	enum srv srv;
	uint32_t rtt;               /* ms, client <-> server */
	uint32_t cross;             /* ms, client -> NAT -> client (hairpin), 1 if 0 */
	uint64_t udp_done;          /* when the UDP tests end (hurry) */
	uint32_t timeout;
	uint32_t loss;              /* percent of packets lost, each way */
	uint64_t rng;

	/* The UDP engine's pace: none with no_pace, else from rtt_known on
	 * (default: one rtt), this round trip (default rtt) and these
	 * exchanges (default 20 answered, none lost: a clean run). */
	int      no_pace;
	uint64_t rtt_known;
	uint32_t pace_rtt;
	int      pace_set;          /* pace_answered and pace_lost as given */
	unsigned pace_answered, pace_lost;

	/* The NAT's table: (local port, destination) -> public port. */
	struct { uint16_t lport; struct stun_addr dst; uint16_t pub; } map[16];
	size_t   nmap;
	uint16_t next_pub;

	/* Pending events in virtual time. */
	struct ev { uint64_t at; int kind; int conn; unsigned gen; size_t len; uint8_t buf[256]; }
	         ev[512];
	unsigned gen[TCPPROBE_NSLOT]; /* connects per slot: a reused slot's old
	                                 connection is closed, its events void */
	size_t   nev;

	struct server_cfg srvcfg;
	uint16_t conn_lport[TCPPROBE_NSLOT];
	unsigned connects_to_bad;   /* connects to an address the server lied about */
	unsigned connects;          /* CONNECTs handed out */
	unsigned max_open;          /* most attempts open at once */
};

enum { EV_CONNECTED, EV_FAILED, EV_INPUT, EV_ACCEPTED };

static const char *CLIENT = "192.0.2.10";
static const char *PUBLIC = "198.51.100.1";

static void
seq_random(void *ctx, uint8_t *buf, size_t len)
{
	static uint8_t n;

	(void)ctx;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(++n * 37 + i);
}

/* splitmix64, as natsim's. */
static int
lost(struct world *w)
{
	uint64_t z = (w->rng += 0x9E3779B97F4A7C15ull);

	if (w->loss == 0)
		return 0;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return (z ^ (z >> 31)) % 100 < w->loss;
}

/* When a handshake whose SYN leaves at now completes, crossing `legs`
 * lossy links each way and taking rtt; the first SYN lost by force with
 * lose_first.  The kernel sends the SYN again 1 s and 3 s later; 0 when
 * every try is lost. */
static uint64_t
handshake(struct world *w, uint64_t now, uint32_t rtt, int legs, int lose_first)
{
	static const uint32_t retx[] = { 0, 1000, 3000 };

	for (size_t i = 0; i < sizeof(retx) / sizeof(retx[0]); i++) {
		int ok = !(lose_first && i == 0);

		for (int l = 0; l < 2 * legs; l++)
			if (lost(w))
				ok = 0;
		if (ok)
			return now + retx[i] + rtt;
	}
	return 0;
}

/* The extra time a segment over `legs` lossy links takes: TCP resends it
 * after 200 ms and a round trip, up to three times. */
static uint64_t
segment_delay(struct world *w, uint32_t rtt, int legs)
{
	uint64_t d = 0;

	for (int i = 0; i < 3; i++) {
		int ok = 1;

		for (int l = 0; l < legs; l++)
			if (lost(w))
				ok = 0;
		if (ok)
			return d;
		d += 200 + rtt;
	}
	return d;
}

static void
push(struct world *w, uint64_t at, int kind, int conn, const uint8_t *buf, size_t len)
{
	struct ev *e;

	cr_assert(w->nev < sizeof(w->ev) / sizeof(w->ev[0]), "event queue full");
	cr_assert(len <= sizeof(e->buf));
	e = &w->ev[w->nev++];
	e->at = at;
	e->kind = kind;
	e->conn = conn;
	e->gen = w->gen[conn];
	e->len = len;
	if (len > 0)
		memcpy(e->buf, buf, len);
}

/* The public port for a connection from lport to dst, as the NAT maps. */
static uint16_t
nat_map(struct world *w, uint16_t lport, const struct stun_addr *dst)
{
	if (w->mapping == NONAT)
		return lport;
	for (size_t i = 0; i < w->nmap; i++) {
		if (w->map[i].lport != lport)
			continue;
		if (w->mapping == EI || (w->mapping == AD && addr_ip_eq(&w->map[i].dst, dst)) ||
		    (w->mapping == APD && addr_eq(&w->map[i].dst, dst)))
			return w->map[i].pub;
	}
	cr_assert(w->nmap < 16);
	w->map[w->nmap].lport = lport;
	w->map[w->nmap].dst = *dst;
	/* The first mapping keeps the port, as Linux's masquerade does. */
	w->map[w->nmap].pub = w->nmap == 0 || w->mapping == EI ? lport : w->next_pub++;
	return w->map[w->nmap++].pub;
}

static int
server_ep(const struct world *w, const struct stun_addr *dst)
{
	for (unsigned i = 0; i < SERVER_NEP; i++)
		if (server_ep_present(&w->srvcfg, i) && addr_eq(&w->srvcfg.ep[i], dst))
			return (int)i;
	return -1;
}

/* Is dst our public IP and the NAT's mapping of P1 (one made already)? */
static int
hair_target(const struct world *w, const struct tcpprobe *t, const struct stun_addr *dst)
{
	struct stun_addr pub = ip4(PUBLIC, dst->port);

	if (!addr_eq(dst, &pub))
		return 0;
	for (size_t i = 0; i < w->nmap; i++)
		if (w->map[i].lport == t->cfg.local[1].port && w->map[i].pub == dst->port)
			return 1;
	return 0;
}

static void
do_connect(struct world *w, struct tcpprobe *t, uint64_t now, const struct tcpprobe_tx *tx)
{
	uint16_t lport = tx->port == TCPPROBE_PORT_MAP ? t->cfg.local[0].port
	    : tx->port == TCPPROBE_PORT_HAIR ? t->cfg.local[1].port : (uint16_t)(45000 + tx->conn);
	struct stun_addr local = ip4(CLIENT, lport);
	int ep = server_ep(w, &tx->to);
	uint64_t at;
	unsigned open = 0;

	w->conn_lport[tx->conn] = lport;
	w->connects++;
	w->gen[tx->conn]++;
	for (int i = TCPPROBE_NCONN; i < TCPPROBE_NSLOT; i++)
		if (t->c[i].state != TCPPROBE_S_IDLE && t->c[i].state != TCPPROBE_S_DONE)
			open++;
	if (open > w->max_open)
		w->max_open = open;
	if (addr_is_multicast(&tx->to) || addr_is_loopback(&tx->to))
		w->connects_to_bad++;
	if (t->c[tx->conn].kind == TCPPROBE_HAIR) {
		int mine = hair_target(w, t, &tx->to);

		w->elsewhere[tx->conn] = w->hair_elsewhere || (!mine && w->wrong_other);
		/* To our own public address: the NAT loops it back, or not;
		 * SYN and SYN-ACK each cross the inside link twice.  To a port
		 * that is no mapping of P1: whatever the NAT does there. */
		if ((!mine && w->wrong_rst) || (mine && w->hair_rst)) {
			push(w, now + 2 * w->cross, EV_FAILED, tx->conn, NULL, 0);
			return;
		}
		if (!w->elsewhere[tx->conn] && !(mine ? w->hairpin
		    : w->forward_p1 && tx->to.port == t->cfg.local[1].port))
			return;
		at = handshake(w, now, 2 * w->cross, 2,
		    w->lose_first_hair_syn && tx->conn == TCPPROBE_HAIR);
		if (at != 0)
			push(w, at, EV_CONNECTED, tx->conn, (const uint8_t *)&local, sizeof(local));
		return;
	}
	if (w->drop_syn || ep < 0 || (w->srv == SRV_NO_ALT && ep != 0))
		return;         /* silence: SYN dropped, or nothing there */
	if (w->refuse) {
		push(w, now + w->rtt, EV_FAILED, tx->conn, NULL, 0);
		return;
	}
	at = handshake(w, now, w->rtt, 1, w->lose_first_syn && tx->conn == TCPPROBE_MAP);
	if (at != 0)
		push(w, at, EV_CONNECTED, tx->conn, (const uint8_t *)&local, sizeof(local));
}

static void
do_send(struct world *w, struct tcpprobe *t, uint64_t now, const struct tcpprobe_tx *tx)
{
	const struct tcpprobe_conn *c = &t->c[tx->conn];
	struct stun_addr from = ip4(w->mapping == NONAT ? CLIENT : PUBLIC, 0);
	struct server_reply r;
	uint8_t out[256];
	int ep;

	if (c->kind == TCPPROBE_HAIR) {
		if (w->elsewhere[tx->conn])
			return;
		push(w, now + w->cross + segment_delay(w, 2 * w->cross, 2), EV_ACCEPTED, tx->conn,
		    tx->buf, tx->len);
		return;
	}
	if (w->srv == SRV_SILENT)
		return;
	ep = server_ep(w, &c->dst);
	cr_assert(ep >= 0);
	from.port = nat_map(w, w->conn_lport[tx->conn], &c->dst);
	if (!server_handle(&w->srvcfg, (unsigned)ep, &from, tx->buf, tx->len, out, sizeof(out), &r))
		return;
	switch (w->srv) {
	case SRV_GARBAGE:
		memset(out + 20, 0xff, r.len - 20);     /* attributes that overrun */
		break;
	case SRV_WRONG_TID:
		out[10] ^= 1;
		break;
	case SRV_HUGE:
		out[2] = 0xff;                          /* a length past the cap */
		out[3] = 0xf0;
		break;
	default:
		break;
	}
	if (w->srv == SRV_SPLIT) {
		/* One byte per segment: the framing must wait for the rest. */
		for (size_t i = 0; i < r.len; i++)
			push(w, now + w->rtt / 2, EV_INPUT, tx->conn, out + i, 1);
		return;
	}
	/* Request and answer, each resent when lost. */
	push(w, now + w->rtt / 2 + segment_delay(w, w->rtt, 1) + segment_delay(w, w->rtt, 1),
	    EV_INPUT, tx->conn, out, r.len);
}

static void
deliver(struct world *w, struct tcpprobe *t, uint64_t now)
{
	for (size_t i = 0; i < w->nev;) {
		struct ev e = w->ev[i];

		if (e.at > now) {
			i++;
			continue;
		}
		memmove(&w->ev[i], &w->ev[i + 1], (w->nev - i - 1) * sizeof(w->ev[0]));
		w->nev--;
		if (e.gen != w->gen[e.conn])
			continue;
		switch (e.kind) {
		case EV_CONNECTED: {
			struct stun_addr local;

			memcpy(&local, e.buf, sizeof(local));
			tcpprobe_connected(t, now, e.conn, &local);
			break;
		}
		case EV_FAILED:
			tcpprobe_failed(t, now, e.conn, TCPPROBE_FAIL_REFUSED);
			break;
		case EV_INPUT:
			tcpprobe_input(t, now, e.conn, e.buf, e.len);
			break;
		case EV_ACCEPTED:
			tcpprobe_accepted(t, now, e.buf, e.len);
			break;
		}
	}
}

/* Run the engine in w to the end; the verdict into *v, the end time back. */
static uint64_t
run(struct world *w, struct tcpprobe *t, struct tcpprobe_verdict *v)
{
	struct tcpprobe_config cfg;
	uint64_t now = 0;

	memset(&cfg, 0, sizeof(cfg));
	w->srvcfg.ep[0] = ip4("203.0.113.1", 3478);
	w->srvcfg.ep[1] = ip4("203.0.113.2", 3478);
	w->srvcfg.ep[2] = ip4("203.0.113.1", 3479);
	w->srvcfg.ep[3] = ip4("203.0.113.2", 3479);
	w->srvcfg.has_alt = w->srv != SRV_NO_ALT;
	w->next_pub = 61000;
	if (w->rtt == 0)
		w->rtt = 40;
	if (w->timeout == 0)
		w->timeout = 3000;
	if (w->udp_done == 0)
		w->udp_done = 300;
	if (w->cross == 0)
		w->cross = 1;
	if (w->rtt_known == 0)
		w->rtt_known = w->rtt;
	if (!w->pace_set) {
		w->pace_answered = 20;
		w->pace_lost = 0;
	}
	if (w->pace_rtt == 0)
		w->pace_rtt = w->rtt;
	if (w->udp_alt.family == 0)
		w->udp_alt = w->srvcfg.ep[3];
	if (w->udp_alt_server.family == 0)
		w->udp_alt_server = w->srvcfg.ep[0];
	if (w->udp_mapped.family == 0)
		w->udp_mapped = ip4(PUBLIC, 1);
	if (w->udp_mapped_server.family == 0)
		w->udp_mapped_server = w->srvcfg.ep[0];
	cfg.enabled = 1;
	cfg.server = w->srvcfg.ep[0];
	cfg.local[0] = ip4(CLIENT, 40000);
	cfg.local[1] = ip4(CLIENT, w->no_listener ? 0 : 40001);
	cfg.timeout_ms = w->timeout;
	cfg.random = seq_random;
	tcpprobe_init(t, &cfg, 0);
	for (int steps = 0; steps < 10000; steps++) {
		struct tcpprobe_tx tx;
		uint32_t wait = 0;
		enum tcpprobe_step st;
		uint64_t next;
		struct probe_pace pace;

		memset(&pace, 0, sizeof(pace));
		if (!w->no_pace && now >= w->rtt_known) {
			pace.have_rtt = 1;
			pace.rtt_ms = w->pace_rtt;
			pace.since_ms = w->rtt_known;
			pace.answered = w->pace_answered;
			pace.lost = w->pace_lost;
		}
		tcpprobe_set_pace(t, &pace);
		if (w->udp_alt_at != 0 && now >= w->udp_alt_at)
			tcpprobe_set_alt(t, &w->udp_alt_server, &w->udp_alt);
		if (w->udp_mapped_at != 0 && now >= w->udp_mapped_at)
			tcpprobe_set_mapped(t, &w->udp_mapped_server, &w->udp_mapped);
		if (now >= w->udp_done)
			tcpprobe_hurry(t, now, w->rtt);
		st = tcpprobe_next(t, now, &tx, &wait);
		if (st == TCPPROBE_DONE)
			break;
		if (st == TCPPROBE_CONNECT) {
			do_connect(w, t, now, &tx);
			continue;
		}
		if (st == TCPPROBE_SEND) {
			do_send(w, t, now, &tx);
			continue;
		}
		next = now + wait;
		for (size_t i = 0; i < w->nev; i++)
			if (w->ev[i].at < next)
				next = w->ev[i].at;
		if (now < w->udp_done && w->udp_done < next)
			next = w->udp_done;
		if (!w->no_pace && now < w->rtt_known && w->rtt_known < next)
			next = w->rtt_known;
		if (now < w->udp_alt_at && w->udp_alt_at < next)
			next = w->udp_alt_at;
		if (now < w->udp_mapped_at && w->udp_mapped_at < next)
			next = w->udp_mapped_at;
		cr_assert(next >= now);
		now = next;
		deliver(w, t, now);
	}
	cr_assert(t->done, "the engine ends on its own");
	tcpprobe_classify(t, v);
	return now;
}

static const char *
beh(enum nat_behavior b)
{
	return nat_behavior_word(b);
}

/* Every extra attempt is closed once its test is decided. */
static void
assert_all_closed(const struct tcpprobe *t)
{
	for (int i = 0; i < TCPPROBE_NSLOT; i++)
		cr_assert(t->c[i].state == TCPPROBE_S_IDLE || t->c[i].state == TCPPROBE_S_DONE,
		    "slot %d still open", i);
}

/* ---------------------------------------------------------------- verdicts */

Test(tcpprobe, mapping_each_behaviour)
{
	static const struct { enum beh m; enum nat_behavior want; } cases[] = {
		{ EI, NAT_BEH_ENDPOINT_INDEPENDENT },
		{ AD, NAT_BEH_ADDRESS_DEPENDENT },
		{ APD, NAT_BEH_ADDRESS_PORT_DEPENDENT },
		{ NONAT, NAT_BEH_ENDPOINT_INDEPENDENT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct world w;
		static struct tcpprobe t;
		struct tcpprobe_verdict v;

		memset(&w, 0, sizeof(w));
		w.mapping = cases[i].m;
		run(&w, &t, &v);
		cr_assert_eq(v.status, TCPPROBE_ST_OK, "case %zu", i);
		cr_assert_eq(v.mapping, cases[i].want, "case %zu: %s, want %s", i, beh(v.mapping),
		    beh(cases[i].want));
		cr_assert_eq(v.nat, cases[i].m == NONAT ? 0 : 1, "case %zu", i);
		cr_assert(v.has_mapped);
		/* The three mapping connections all left from P0. */
		for (int c = TCPPROBE_MAP; c <= TCPPROBE_MAP_ALT_IP_PORT; c++)
			cr_assert(addr_eq(&t.c[c].local, &t.cfg.local[0]), "case %zu conn %d", i, c);
	}
}

Test(tcpprobe, hairpin_yes_no_and_not_applicable)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;

	memset(&w, 0, sizeof(w));
	w.mapping = EI;
	w.hairpin = 1;
	run(&w, &t, &v);
	cr_assert_eq(v.hairpinning, 1);
	cr_assert_eq(t.c[TCPPROBE_HAIR].result, TCPPROBE_ANSWERED);
	/* The test's own connection reached the listener: its other
	 * attempts are closed with it. */
	assert_all_closed(&t);

	/* No hairpin: the SYN to our own public address goes nowhere, and
	 * only after the SYN grace is that a "no". */
	memset(&w, 0, sizeof(w));
	w.mapping = EI;
	run(&w, &t, &v);
	cr_assert_eq(v.hairpinning, 0);
	cr_assert_eq(t.c[TCPPROBE_HAIR].result, TCPPROBE_NO_SYNACK);
	cr_assert_eq(v.mapping, NAT_BEH_ENDPOINT_INDEPENDENT, "hairpin's wait changes no mapping");

	/* Address-and-port-dependent NATs hairpin too (to the mapping the
	 * server saw). */
	memset(&w, 0, sizeof(w));
	w.mapping = APD;
	w.hairpin = 1;
	run(&w, &t, &v);
	cr_assert_eq(v.hairpinning, 1);

	/* No NAT: nothing to hairpin, null as for UDP ("not applicable"),
	 * and no warning: nothing is wrong. */
	memset(&w, 0, sizeof(w));
	w.mapping = NONAT;
	run(&w, &t, &v);
	cr_assert_eq(v.hairpinning, -1);
	cr_assert_eq(v.nat, 0);
	cr_assert_eq(t.c[TCPPROBE_HAIR].result, TCPPROBE_NOT_RUN);
	cr_assert_eq(v.nwarn, 0, "no warning without a NAT (%zu)", v.nwarn);
}

Test(tcpprobe, blocked_and_refused)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	uint64_t end;

	/* Without the UDP engine's pace, the SYN grace decides. */
	memset(&w, 0, sizeof(w));
	w.drop_syn = 1;
	w.no_pace = 1;
	end = run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_BLOCKED);
	cr_assert_eq(v.mapping, NAT_BEH_UNKNOWN);
	cr_assert_eq(v.hairpinning, -1);
	cr_assert(end >= TCPPROBE_SYN_GRACE_MS, "blocked only after the SYN grace (%llu ms)",
	    (unsigned long long)end);
	cr_assert(end < w.timeout, "and not the whole -t");
	cr_assert_eq(w.connects, 2, "no extra attempts without a pace");

	memset(&w, 0, sizeof(w));
	w.refuse = 1;
	end = run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_REFUSED);
	cr_assert_eq(v.mapping, NAT_BEH_UNKNOWN);
	cr_assert(end <= w.udp_done + w.rtt + TCPPROBE_MARGIN_MS, "a refusal is decided at once");
}

/* One lost SYN and UDP long done: the map connection is still given its
 * retransmission, and the verdict is the right one, not "blocked". */
Test(tcpprobe, lost_syn_is_not_blocked)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;

	memset(&w, 0, sizeof(w));
	w.mapping = APD;
	w.lose_first_syn = 1;
	w.udp_done = 150;
	run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_OK);
	/* The alternate connections start after the hurry and still get
	 * their round trips. */
	cr_assert_eq(v.mapping, NAT_BEH_ADDRESS_PORT_DEPENDENT, "got %s", beh(v.mapping));
}

/* The run's cap (-t) ends everything, and undecided is unknown. */
Test(tcpprobe, timeout_is_unknown)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;

	memset(&w, 0, sizeof(w));
	w.drop_syn = 1;
	w.timeout = 500;
	w.no_pace = 1;
	run(&w, &t, &v);
	cr_assert_eq(t.c[TCPPROBE_MAP].result, TCPPROBE_TIMEOUT);
	cr_assert_eq(v.status, TCPPROBE_ST_UNKNOWN, "500 ms without a SYN-ACK is not 'blocked'");
	cr_assert_eq(v.mapping, NAT_BEH_UNKNOWN);
}

/* Servers that answer wrong: never a verdict from their words. */
Test(tcpprobe, hostile_servers)
{
	static const struct { enum srv s; enum tcpprobe_status st; enum tcpprobe_result r; }
	cases[] = {
		{ SRV_GARBAGE, TCPPROBE_ST_NO_STUN, TCPPROBE_MALFORMED },
		{ SRV_WRONG_TID, TCPPROBE_ST_NO_STUN, TCPPROBE_MALFORMED },
		{ SRV_HUGE, TCPPROBE_ST_NO_STUN, TCPPROBE_MALFORMED },
		{ SRV_SILENT, TCPPROBE_ST_UNKNOWN, TCPPROBE_TIMEOUT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct world w;
		static struct tcpprobe t;
		struct tcpprobe_verdict v;

		memset(&w, 0, sizeof(w));
		w.mapping = EI;
		w.srv = cases[i].s;
		run(&w, &t, &v);
		cr_assert_eq(v.status, cases[i].st, "case %zu: %s", i,
		    tcpprobe_status_word(v.status));
		cr_assert_eq(t.c[TCPPROBE_MAP].result, cases[i].r, "case %zu: %s", i,
		    tcpprobe_result_name(t.c[TCPPROBE_MAP].result));
		cr_assert_eq(v.mapping, NAT_BEH_UNKNOWN, "case %zu", i);
		cr_assert_eq(v.hairpinning, -1, "case %zu", i);
	}
}

/* An answer in one-byte segments is framed and believed. */
Test(tcpprobe, split_stream)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;

	memset(&w, 0, sizeof(w));
	w.mapping = AD;
	w.srv = SRV_SPLIT;
	run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_OK);
	cr_assert_eq(v.mapping, NAT_BEH_ADDRESS_DEPENDENT);
}

/* A server without an alternate: the mapping cannot be told. */
Test(tcpprobe, no_alternate)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;

	memset(&w, 0, sizeof(w));
	w.mapping = EI;
	w.srv = SRV_NO_ALT;
	run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_OK);
	cr_assert_eq(v.mapping, NAT_BEH_UNKNOWN);
	cr_assert_eq(t.c[TCPPROBE_MAP_ALT_IP].result, TCPPROBE_NOT_RUN);
	cr_assert_eq(v.warn[0].code, TCPPROBE_W_NO_ALTERNATE);
	cr_assert_eq(v.warn[0].addr, TCPPROBE_ADDR_ABSENT);
}

/* OTHER-ADDRESS or a mapped address the engine must not connect to. */
Test(tcpprobe, addresses_never_followed)
{
	static const struct { const char *ip; uint16_t port; enum tcpprobe_addr want; } cases[] = {
		{ "224.0.0.1", 3479, TCPPROBE_ADDR_MULTICAST },
		{ "127.0.0.1", 3479, TCPPROBE_ADDR_LOOPBACK },
		{ "255.255.255.255", 3479, TCPPROBE_ADDR_BROADCAST },
		{ "0.0.0.0", 3479, TCPPROBE_ADDR_UNSPECIFIED },
		{ "203.0.113.2", 0, TCPPROBE_ADDR_PORT_ZERO },
		{ "203.0.113.1", 3479, TCPPROBE_ADDR_NOT_DISTINCT },
		/* this host's own address, from a server elsewhere: the UDP
		 * engine's own-address rule */
		{ "192.0.2.10", 3479, TCPPROBE_ADDR_LOCAL },
		/* Issue #20: nothing local-scope from a public server */
		{ "10.0.0.20", 22, TCPPROBE_ADDR_SITE },
		{ "100.64.0.2", 3479, TCPPROBE_ADDR_SITE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct tcpprobe t;
		struct tcpprobe_config cfg;
		struct tcpprobe_tx tx;
		struct tcpprobe_verdict v;
		uint32_t wait;
		struct tcpprobe_conn *m = &t.c[TCPPROBE_MAP];

		memset(&cfg, 0, sizeof(cfg));
		cfg.enabled = 1;
		cfg.server = ip4("203.0.113.1", 3478);
		cfg.local[0] = ip4(CLIENT, 40000);
		cfg.timeout_ms = 3000;
		cfg.random = seq_random;
		tcpprobe_init(&t, &cfg, 0);
		cr_assert_eq(tcpprobe_next(&t, 0, &tx, &wait), TCPPROBE_CONNECT);
		cr_assert_eq(tx.conn, TCPPROBE_MAP);
		/* Hand the map connection an answer by hand. */
		m->state = TCPPROBE_S_DONE;
		m->result = TCPPROBE_ANSWERED;
		m->has_mapped = 1;
		m->mapped = ip4(PUBLIC, 40000);
		m->has_local = 1;
		m->local = cfg.local[0];
		m->has_other = 1;
		m->other = ip4(cases[i].ip, cases[i].port);
		for (int n = 0; n < 10; n++) {
			enum tcpprobe_step st = tcpprobe_next(&t, 10, &tx, &wait);

			cr_assert_neq(st, TCPPROBE_CONNECT, "case %zu: connected to %s", i,
			    cases[i].ip);
			if (st == TCPPROBE_DONE)
				break;
		}
		cr_assert_eq(t.alt_problem, cases[i].want, "case %zu: %s", i,
		    tcpprobe_addr_word(t.alt_problem));
		tcpprobe_classify(&t, &v);
		cr_assert_eq(v.mapping, NAT_BEH_UNKNOWN);
		cr_assert_eq(v.warn[0].code, TCPPROBE_W_NO_ALTERNATE);
	}
}

/* Issue #20: hairpin-binding's mapped address at this host's own IP with
 * another port (a local service's) is no hairpin target: no connection
 * there, hairpinning unknown with a warning, whoever named it. */
Test(tcpprobe, hairpin_never_to_this_hosts_own_ip)
{
	static const char *const servers[] = { "203.0.113.1", "192.0.2.10" };

	for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++) {
		static struct tcpprobe t;
		struct tcpprobe_config cfg;
		struct tcpprobe_tx tx;
		struct tcpprobe_verdict v;
		uint32_t wait;
		struct tcpprobe_conn *m = &t.c[TCPPROBE_MAP], *hb = &t.c[TCPPROBE_HAIR_BINDING];
		struct stun_addr service = ip4(CLIENT, 22);

		memset(&cfg, 0, sizeof(cfg));
		cfg.enabled = 1;
		cfg.server = ip4(servers[i], 3478);
		cfg.local[0] = ip4(CLIENT, 40000);
		cfg.local[1] = ip4(CLIENT, 40001);
		cfg.timeout_ms = 3000;
		cfg.random = seq_random;
		tcpprobe_init(&t, &cfg, 0);
		/* The server's answers, by hand: a NAT (the port changed). */
		for (int c = 0; c < 2; c++) {
			struct tcpprobe_conn *k = c == 0 ? m : hb;

			k->state = TCPPROBE_S_DONE;
			k->result = TCPPROBE_ANSWERED;
			k->has_mapped = 1;
			k->mapped = service;
			k->has_local = 1;
			k->local = cfg.local[c];
		}
		tcpprobe_set_mapped(&t, &cfg.server, &service);
		cr_expect_eq(t.guess_ok, 0, "%s: no guess at this host's own IP", servers[i]);
		for (int n = 0; n < 20; n++) {
			enum tcpprobe_step st = tcpprobe_next(&t, 10, &tx, &wait);

			if (st == TCPPROBE_CONNECT)
				cr_assert(!addr_ip_eq(&tx.to, &service), "%s: connected to %s:22",
				    servers[i], CLIENT);
			if (st == TCPPROBE_DONE)
				break;
			if (st == TCPPROBE_CONNECT)
				tcpprobe_failed(&t, 10, tx.conn, TCPPROBE_FAIL_REFUSED);
		}
		cr_expect_eq(t.c[TCPPROBE_HAIR].result, TCPPROBE_NOT_RUN);
		cr_expect_eq(t.hair_problem, TCPPROBE_ADDR_LOCAL, "%s: %s", servers[i],
		    tcpprobe_addr_word(t.hair_problem));
		tcpprobe_classify(&t, &v);
		cr_expect_eq(v.hairpinning, -1);
	}
}

/* A stranger connecting to the listener proves no hairpin. */
Test(tcpprobe, stranger_on_listener)
{
	static struct tcpprobe t;
	struct tcpprobe_config cfg;
	uint8_t req[20] = { 0x00, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x42 };
	struct tcpprobe_conn *h = &t.c[TCPPROBE_HAIR];

	memset(&cfg, 0, sizeof(cfg));
	cfg.enabled = 1;
	cfg.server = ip4("203.0.113.1", 3478);
	cfg.timeout_ms = 3000;
	cfg.random = seq_random;
	tcpprobe_init(&t, &cfg, 0);
	h->state = TCPPROBE_S_SENT;
	h->result = TCPPROBE_RUNNING;
	h->ntries = 1;
	h->tries[0] = TCPPROBE_HAIR;
	memset(h->tid, 0x55, sizeof(h->tid));
	tcpprobe_accepted(&t, 5, req, sizeof(req));
	cr_assert_eq(h->state, TCPPROBE_S_SENT, "another transaction ID is not ours");
	memcpy(req + 4, h->tid, sizeof(h->tid));
	req[1] = 0x11;              /* an error response, not a request */
	tcpprobe_accepted(&t, 5, req, sizeof(req));
	cr_assert_eq(h->state, TCPPROBE_S_SENT, "not a Binding request");
	req[1] = 0x01;
	tcpprobe_accepted(&t, 5, req, sizeof(req));
	cr_assert_eq(h->result, TCPPROBE_ANSWERED, "our own request: hairpinned");
}

/* ------------------------------------------------- redundant attempts */

/* TCP dropped: the scouts' silence says "blocked" as the UDP engine ends
 * a test - K attempts made since the round trip was known, each waited W
 * in vain - within a round trip of the UDP run's end, not after the SYN
 * grace (1.5 s), and never before a measured attempt had its W. */
Test(tcpprobe, blocked_decided_within_a_round_trip)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	uint64_t end;

	memset(&w, 0, sizeof(w));
	w.drop_syn = 1;
	w.rtt = 100;
	w.udp_done = 300;
	end = run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_BLOCKED);
	cr_assert(end <= w.udp_done + w.rtt, "decided at %llu ms, the UDP run ended at %llu",
	    (unsigned long long)end, (unsigned long long)w.udp_done);
	cr_assert(end >= w.rtt_known + probe_wait_for(w.rtt));
	/* Its own connect came before the round trip was known: K scouts,
	 * the map test's K as strict as a filtering test's ("blocked" is a
	 * verdict by itself), the hairpin binding's not. */
	cr_assert_eq(t.c[TCPPROBE_MAP].ntries, 1 + probe_k_for(20, 0, PROBE_EPS_FILTER));
	cr_assert_eq(t.c[TCPPROBE_HAIR_BINDING].ntries, 1 + probe_k_for(20, 0, PROBE_EPS));
	assert_all_closed(&t);

	/* The UDP answer named the alternate, and its two connections started
	 * at 1 RTT into the same silence: "blocked" ends them, it does not
	 * wait for negatives of their own. */
	memset(&w, 0, sizeof(w));
	w.drop_syn = 1;
	w.rtt = 100;
	w.udp_done = 300;
	w.udp_alt_at = 100;
	end = run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_BLOCKED);
	cr_assert_eq(t.c[TCPPROBE_MAP_ALT_IP].started_ms, 100);
	cr_assert(end <= w.udp_done + w.rtt, "with the alternates: decided at %llu ms",
	    (unsigned long long)end);
	cr_assert_eq(t.c[TCPPROBE_MAP_ALT_IP].done_ms, t.c[TCPPROBE_MAP].done_ms);
	assert_all_closed(&t);
}

/* K beyond what the attempts can make before the kernel gives up: never
 * "blocked" on fewer exchanges than K; unknown.  K a little beyond the
 * attempts: the kernel's retransmissions make up the count. */
Test(tcpprobe, blocked_needs_k_exchanges)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	uint64_t end;

	memset(&w, 0, sizeof(w));
	w.drop_syn = 1;
	w.rtt = 100;
	w.pace_set = 1;             /* 2 answered, 2 lost: K at its cap */
	w.pace_answered = 2;
	w.pace_lost = 2;
	cr_assert_eq(probe_k_for(2, 2, PROBE_EPS_FILTER), PROBE_K_MAX);
	run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_UNKNOWN, "got %s", tcpprobe_status_word(v.status));
	cr_assert_eq(t.c[TCPPROBE_MAP].result, TCPPROBE_TIMEOUT);
	cr_assert_eq(t.c[TCPPROBE_MAP].ntries, TCPPROBE_TRIES, "the cap on attempts");

	memset(&w, 0, sizeof(w));
	w.drop_syn = 1;
	w.rtt = 100;
	w.pace_set = 1;             /* 10 answered, 2 lost: K 11, past the attempts */
	w.pace_answered = 10;
	w.pace_lost = 2;
	cr_assert_gt(probe_k_for(10, 2, PROBE_EPS_FILTER), TCPPROBE_TRIES);
	end = run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_BLOCKED);
	cr_assert(end >= 1000, "the retransmissions counted only once sent (%llu ms)",
	    (unsigned long long)end);
}

/* A world where the map connection's first SYN is lost, at 100 ms. */
static void
lost_syn_world(struct world *w, enum beh m, int no_listener)
{
	memset(w, 0, sizeof(*w));
	w->mapping = m;
	w->lose_first_syn = 1;
	w->no_listener = no_listener;
	w->rtt = 100;
	w->udp_done = 300;
}

/* The map connection's SYN lost: a scout connects, the path is open, the
 * map connection waits for the kernel's retransmission (it must keep P0)
 * and the verdict is the right one - never "blocked".  With the hairpin
 * binding connected to the same server, no scout is needed at all. */
Test(tcpprobe, lost_syn_scout_proves_path_open)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	uint64_t end;

	lost_syn_world(&w, APD, 0);
	run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_OK);
	cr_assert(t.c[TCPPROBE_MAP].path_open, "the hairpin binding reached the server");
	cr_assert_eq(t.c[TCPPROBE_MAP].ntries, 1);

	lost_syn_world(&w, APD, 1);
	end = run(&w, &t, &v);
	cr_assert_eq(v.status, TCPPROBE_ST_OK);
	cr_assert_eq(v.mapping, NAT_BEH_ADDRESS_PORT_DEPENDENT, "got %s", beh(v.mapping));
	cr_assert(t.c[TCPPROBE_MAP].path_open);
	cr_assert(t.c[TCPPROBE_MAP].ntries >= 2);
	cr_assert(addr_eq(&t.c[TCPPROBE_MAP].local, &t.cfg.local[0]), "still from P0");
	cr_assert(end >= 1000 + w.rtt, "waited for the retransmission");
	assert_all_closed(&t);

	/* With the scout through and the retransmission lost too, the map
	 * test is unknown (timeout), not no-synack. */
	lost_syn_world(&w, EI, 1);
	w.timeout = 900;
	run(&w, &t, &v);
	cr_assert(t.c[TCPPROBE_MAP].path_open);
	cr_assert_eq(t.c[TCPPROBE_MAP].result, TCPPROBE_TIMEOUT);
	cr_assert_eq(v.status, TCPPROBE_ST_UNKNOWN);
}

/* A NAT that drops the hairpin SYN: "no" once 2 K attempts each waited
 * for their SYN-ACK (W and the extra round trip), well before the SYN
 * grace; a UDP-like bound from the hairpin test's start. */
Test(tcpprobe, no_hairpin_decided_fast)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	const struct tcpprobe_conn *h = &t.c[TCPPROBE_HAIR];
	uint64_t end, bound;
	size_t k;

	memset(&w, 0, sizeof(w));
	w.mapping = EI;
	w.rtt = 100;
	w.cross = 50;
	w.udp_done = 300;
	end = run(&w, &t, &v);
	cr_assert_eq(v.hairpinning, 0);
	cr_assert_eq(h->result, TCPPROBE_NO_SYNACK);
	k = probe_k_for(20, 0, PROBE_EPS_FILTER);
	cr_assert_eq(h->ntries, 2 * k, "2 K attempts, K %zu", k);
	bound = h->started_ms + (k - 1) * probe_iv_for(w.rtt) + probe_wait_for(w.rtt) + w.rtt;
	cr_assert(end <= bound, "decided at %llu ms, bound %llu", (unsigned long long)end,
	    (unsigned long long)bound);
	cr_assert(end < h->started_ms + TCPPROBE_SYN_GRACE_MS);
	cr_assert_eq(v.mapping, NAT_BEH_ENDPOINT_INDEPENDENT);
	assert_all_closed(&t);
}

/* The hairpin test's own first SYN lost: another attempt, with its own
 * request, reaches the listener - yes, long before the kernel resends. */
Test(tcpprobe, hairpin_first_syn_lost_is_yes)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	uint64_t end;

	memset(&w, 0, sizeof(w));
	w.mapping = EI;
	w.hairpin = 1;
	w.lose_first_hair_syn = 1;
	w.rtt = 100;
	w.cross = 20;
	end = run(&w, &t, &v);
	cr_assert_eq(v.hairpinning, 1);
	cr_assert_eq(t.c[TCPPROBE_HAIR].result, TCPPROBE_ANSWERED);
	cr_assert(t.c[TCPPROBE_HAIR].ntries >= 2);
	cr_assert(end < t.c[TCPPROBE_HAIR].started_ms + 1000, "decided at %llu ms",
	    (unsigned long long)end);
	assert_all_closed(&t);
}

/* A hairpin attempt that connected: no further attempts while its request
 * may still reach the listener (with K raised by a lossy UDP run, the old
 * pace kept launching pairs until the request arrived). */
Test(tcpprobe, hairpin_attempts_stop_once_one_connects)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	const struct tcpprobe_conn *h = &t.c[TCPPROBE_HAIR];
	uint64_t first_up = UINT64_MAX;

	memset(&w, 0, sizeof(w));
	w.mapping = EI;
	w.hairpin = 1;
	w.rtt = 100;
	w.cross = 20;
	w.pace_set = 1;
	w.pace_answered = 20;
	w.pace_lost = 6;
	run(&w, &t, &v);
	cr_assert_eq(v.hairpinning, 1);
	cr_assert_eq(h->result, TCPPROBE_ANSWERED);
	cr_assert(2 * probe_k_for(20, 6, PROBE_EPS_FILTER) > h->ntries,
	    "the pace alone would have made more than %zu", h->ntries);
	for (size_t j = 0; j < h->ntries; j++)
		if (t.c[h->tries[j]].up && t.c[h->tries[j]].connected_ms < first_up)
			first_up = t.c[h->tries[j]].connected_ms;
	cr_assert(first_up != UINT64_MAX);
	for (size_t j = 0; j < h->ntries; j++)
		cr_assert(t.c[h->tries[j]].started_ms < first_up,
		    "attempt %zu started at %llu ms, after one connected at %llu ms", j,
		    (unsigned long long)t.c[h->tries[j]].started_ms, (unsigned long long)first_up);
	assert_all_closed(&t);
}

/* A NAT that loops hairpin SYNs back to something other than our listener:
 * the attempts connect, no request arrives.  Stopping the attempts while
 * one is connected must not make a "no" of fewer than 2 K failures. */
Test(tcpprobe, hairpin_connected_elsewhere_still_needs_2k)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	const struct tcpprobe_conn *h = &t.c[TCPPROBE_HAIR];
	size_t k;

	memset(&w, 0, sizeof(w));
	w.mapping = EI;
	w.hair_elsewhere = 1;
	w.rtt = 100;
	w.cross = 1;
	w.timeout = 6000;
	w.udp_done = 300;
	run(&w, &t, &v);
	k = probe_k_for(20, 0, PROBE_EPS_FILTER);
	cr_assert_eq(h->result, TCPPROBE_NOT_DELIVERED, "%s", tcpprobe_result_name(h->result));
	cr_assert_eq(v.hairpinning, 0);
	cr_assert_geq(h->ntries, 2 * k, "a \"no\" on %zu attempts, 2 K is %zu", h->ntries, 2 * k);
	assert_all_closed(&t);
}

/* ------------------------------------------- the alternate from UDP */

/* The UDP answer from the same server names the alternate at 1 RTT: both
 * alternate connections start then, not after map's answer, and every
 * mapping behaviour is still named right. */
Test(tcpprobe, alternates_start_on_udp_answer)
{
	static const enum beh behs[] = { EI, AD, APD, NONAT };
	static const enum nat_behavior want[] = { NAT_BEH_ENDPOINT_INDEPENDENT,
		NAT_BEH_ADDRESS_DEPENDENT, NAT_BEH_ADDRESS_PORT_DEPENDENT,
		NAT_BEH_ENDPOINT_INDEPENDENT };

	for (size_t i = 0; i < sizeof(behs) / sizeof(behs[0]); i++) {
		static struct world w;
		static struct tcpprobe t;
		struct tcpprobe_verdict v;
		const struct tcpprobe_conn *m = &t.c[TCPPROBE_MAP];

		memset(&w, 0, sizeof(w));
		w.mapping = behs[i];
		w.rtt = 100;
		w.udp_alt_at = 100;
		run(&w, &t, &v);
		cr_assert_eq(v.mapping, want[i], "case %zu: %s", i, beh(v.mapping));
		cr_assert_eq(v.nwarn, 0, "case %zu: %zu warnings", i, v.nwarn);
		for (int c = TCPPROBE_MAP_ALT_IP; c <= TCPPROBE_MAP_ALT_IP_PORT; c++) {
			cr_assert_eq(t.c[c].result, TCPPROBE_ANSWERED, "case %zu conn %d", i, c);
			cr_assert_eq(t.c[c].started_ms, 100, "case %zu conn %d started at %llu ms",
			    i, c, (unsigned long long)t.c[c].started_ms);
			cr_assert(t.c[c].started_ms < m->done_ms, "before map's answer (%llu ms)",
			    (unsigned long long)m->done_ms);
		}
		cr_assert(t.alt_udp);
	}
}

/* No usable alternate from UDP - none at all, one from another server,
 * one that is this host's own address - and nothing changes: the
 * alternates wait for map's answer and go where it says. */
Test(tcpprobe, alternates_without_udp_answer_unchanged)
{
	for (int i = 0; i < 3; i++) {
		static struct world w;
		static struct tcpprobe t;
		struct tcpprobe_verdict v;
		const struct tcpprobe_conn *m = &t.c[TCPPROBE_MAP];

		memset(&w, 0, sizeof(w));
		w.mapping = APD;
		w.rtt = 100;
		if (i == 1) {
			w.udp_alt_at = 100;
			w.udp_alt_server = ip4("198.51.100.77", 3478);
		} else if (i == 2) {
			w.udp_alt_at = 100;
			w.udp_alt = ip4(CLIENT, 3479);
		}
		run(&w, &t, &v);
		cr_assert_eq(v.mapping, NAT_BEH_ADDRESS_PORT_DEPENDENT, "case %d: %s", i,
		    beh(v.mapping));
		cr_assert(!t.alt_udp, "case %d", i);
		for (int c = TCPPROBE_MAP_ALT_IP; c <= TCPPROBE_MAP_ALT_IP_PORT; c++) {
			cr_assert_geq(t.c[c].started_ms, m->done_ms, "case %d conn %d", i, c);
			cr_assert_eq(t.c[c].dst.port, c == TCPPROBE_MAP_ALT_IP ? 3478 : 3479);
		}
	}
}

/* The UDP answer names an alternate that map's OTHER-ADDRESS then
 * contradicts: whatever the connections to it showed, the mapping is
 * unknown, and a warning says why. */
Test(tcpprobe, alternate_disagreeing_with_tcp_is_unknown)
{
	static const enum beh behs[] = { EI, APD };

	for (size_t i = 0; i < sizeof(behs) / sizeof(behs[0]); i++) {
		static struct world w;
		static struct tcpprobe t;
		struct tcpprobe_verdict v;
		int named = 0;

		memset(&w, 0, sizeof(w));
		w.mapping = behs[i];
		w.rtt = 100;
		w.udp_alt_at = 100;
		/* The server's other address, another port: its alt-ip connection
		 * (port 3478) reaches the server, the alt-ip-port one nothing. */
		w.udp_alt = ip4("203.0.113.2", 3480);
		run(&w, &t, &v);
		cr_assert_eq(v.status, TCPPROBE_ST_OK);
		cr_assert_eq(t.c[TCPPROBE_MAP_ALT_IP].result, TCPPROBE_ANSWERED, "case %zu", i);
		cr_assert_eq(v.mapping, NAT_BEH_UNKNOWN, "case %zu: %s", i, beh(v.mapping));
		for (size_t j = 0; j < v.nwarn; j++)
			if (v.warn[j].code == TCPPROBE_W_ALT_MISMATCH)
				named = 1;
		cr_assert(named, "case %zu: the mismatch is named", i);
	}
}

/* ------------------------------------- speculative hairpin attempts */

/* A world for the hairpin guess: the delay line beyond the NAT (a round
 * trip of 100 ms to the server, the hairpin path the LAN's), the UDP
 * answer's mapped IP known one round trip in; spec 0: never told. */
static void
guess_world(struct world *w, enum beh m, int hairpin, int spec)
{
	memset(w, 0, sizeof(*w));
	w->mapping = m;
	w->hairpin = hairpin;
	w->rtt = 100;
	w->cross = 1;
	w->udp_done = 300;
	w->udp_mapped_at = spec ? 100 : 0;
}

/* Is any of the hairpin test's attempts a speculative one? */
static size_t
adopted(const struct tcpprobe *t)
{
	const struct tcpprobe_conn *h = &t->c[TCPPROBE_HAIR];
	size_t n = 0;

	for (size_t j = 0; j < h->ntries; j++)
		if (t->c[h->tries[j]].spec)
			n++;
	return n;
}

/* A NAT that keeps P1's port and drops the hairpin SYN in silence (the
 * common home router): the "no" rests on as many failed attempts as
 * ever, the speculative ones among them, and comes a round trip sooner,
 * since they started when hairpin-binding connected, not when it
 * answered.  The old engine waited for the answer. */
Test(tcpprobe, guess_confirmed_no_a_round_trip_sooner)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	uint64_t before, after;
	size_t n = 0;
	const struct tcpprobe_conn *hb = &t.c[TCPPROBE_HAIR_BINDING];

	guess_world(&w, EI, 0, 0);
	run(&w, &t, &v);
	cr_assert_eq(v.hairpinning, 0);
	cr_assert_eq(t.spec, TCPPROBE_SPEC_NONE);
	before = t.c[TCPPROBE_HAIR].done_ms;

	guess_world(&w, EI, 0, 1);
	run(&w, &t, &v);
	cr_assert_eq(v.hairpinning, 0);
	cr_assert_eq(t.c[TCPPROBE_HAIR].result, TCPPROBE_NO_SYNACK);
	cr_assert_eq(t.spec, TCPPROBE_SPEC_CONFIRMED);
	after = t.c[TCPPROBE_HAIR].done_ms;
	/* The first speculative attempt left as hairpin-binding connected. */
	cr_assert_eq(t.c[t.spec_tries[0]].started_ms, hb->connected_ms);
	cr_assert_lt(hb->connected_ms, hb->done_ms);
	/* Still 2 K failed exchanges since the round trip was known. */
	for (size_t j = 0; j < t.c[TCPPROBE_HAIR].ntries; j++)
		if (t.c[t.c[TCPPROBE_HAIR].tries[j]].started_ms >= w.rtt_known)
			n++;
	cr_assert_geq(n, 2 * probe_k_for(20, 0, PROBE_EPS_FILTER));
	cr_assert_eq(adopted(&t), t.nspec);
	cr_assert_leq(t.c[TCPPROBE_HAIR].ntries, TCPPROBE_HAIR_TRIES);
	/* Sooner by hairpin-binding's request and answer (a round trip on a
	 * real path; this world answers a request in half of one). */
	cr_assert(after + (hb->done_ms - hb->connected_ms) <= before,
	    "no at %llu ms, without the guess at %llu ms", (unsigned long long)after,
	    (unsigned long long)before);
	assert_all_closed(&t);
}

/* A NAT that keeps P1's port and hairpins: a speculative attempt's
 * request reaches the listener before hairpin-binding answers.  One that
 * resets the hairpin SYN: the speculative attempt's RST, which says
 * nothing until then (the guessed port may be nobody's).  Either way the
 * answer confirms the guess and decides the test at once, as the test's
 * own attempt would have, without a connection of its own. */
Test(tcpprobe, guess_confirmed_decides_with_the_binding_answer)
{
	static const struct { int hairpin, rst; enum tcpprobe_result want; } cases[] = {
		{ 1, 0, TCPPROBE_ANSWERED },
		{ 0, 1, TCPPROBE_REFUSED },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct world w;
		static struct tcpprobe t;
		struct tcpprobe_verdict v;
		const struct tcpprobe_conn *h = &t.c[TCPPROBE_HAIR];
		const struct tcpprobe_conn *hb = &t.c[TCPPROBE_HAIR_BINDING];

		guess_world(&w, EI, cases[i].hairpin, 1);
		w.hair_rst = cases[i].rst;
		run(&w, &t, &v);
		cr_assert_eq(v.hairpinning, cases[i].hairpin, "case %zu", i);
		cr_assert_eq(h->result, cases[i].want, "case %zu: %s", i,
		    tcpprobe_result_name(h->result));
		cr_assert_eq(t.spec, TCPPROBE_SPEC_CONFIRMED, "case %zu", i);
		cr_assert(cases[i].rst ? t.spec_neg == TCPPROBE_REFUSED && !t.spec_hit
		    : t.spec_hit && t.spec_neg == TCPPROBE_NOT_RUN, "case %zu: held", i);
		cr_assert_lt(t.c[t.spec_tries[0]].done_ms, hb->done_ms,
		    "case %zu: shown before the answer", i);
		cr_assert_eq(h->done_ms, hb->done_ms, "case %zu: decided at %llu ms, the answer"
		    " at %llu ms", i, (unsigned long long)h->done_ms,
		    (unsigned long long)hb->done_ms);
		cr_assert(!h->up && !h->has_local, "case %zu: no connection of its own", i);
		cr_assert(addr_eq(&h->dst, &hb->mapped), "case %zu", i);
		cr_assert_eq(adopted(&t), t.nspec, "case %zu", i);
		assert_all_closed(&t);
	}
}

/* A NAT that does not keep P1's port, or a UDP answer naming another IP:
 * the guess is wrong.  Whatever the guessed destination does - nothing,
 * an RST, someone else's listener, a port forwarding to our P1 that is
 * not the mapping - the speculative attempts are closed and count for
 * nothing, and the verdict is the one the test gives without them. */
Test(tcpprobe, guess_wrong_is_discarded)
{
	static const struct {
		enum beh m;
		int hairpin, rst, other, forward;
		const char *ip;
	} cases[] = {
		{ APD, 0, 0, 0, 0, NULL },
		{ APD, 1, 0, 0, 0, NULL },
		{ APD, 0, 1, 0, 0, NULL },
		{ APD, 1, 1, 0, 0, NULL },
		{ APD, 0, 0, 1, 0, NULL },
		{ APD, 1, 0, 1, 0, NULL },
		{ APD, 0, 0, 0, 1, NULL },
		{ AD, 0, 0, 0, 1, NULL },
		{ EI, 0, 1, 0, 0, "198.51.100.7" },
		{ EI, 1, 0, 1, 0, "198.51.100.7" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct world w;
		static struct tcpprobe t;
		struct tcpprobe_verdict v, want;
		enum tcpprobe_result r;

		for (int spec = 0; spec < 2; spec++) {
			guess_world(&w, cases[i].m, cases[i].hairpin, spec);
			w.wrong_rst = cases[i].rst;
			w.wrong_other = cases[i].other;
			w.forward_p1 = cases[i].forward;
			if (cases[i].ip != NULL)
				w.udp_mapped = ip4(cases[i].ip, 1);
			run(&w, &t, spec ? &v : &want);
			if (!spec)
				r = t.c[TCPPROBE_HAIR].result;
		}
		cr_assert_eq(want.hairpinning, cases[i].hairpin, "case %zu: without the guess", i);
		cr_assert_eq(v.hairpinning, want.hairpinning, "case %zu: hairpinning %d, want %d", i,
		    v.hairpinning, want.hairpinning);
		cr_assert_eq(t.c[TCPPROBE_HAIR].result, r, "case %zu: %s, want %s", i,
		    tcpprobe_result_name(t.c[TCPPROBE_HAIR].result), tcpprobe_result_name(r));
		cr_assert_eq(t.spec, TCPPROBE_SPEC_DISCARDED, "case %zu", i);
		cr_assert_gt(t.nspec, 0, "case %zu: the guess was tried", i);
		cr_assert_eq(adopted(&t), 0, "case %zu: none counted", i);
		if (cases[i].forward)
			cr_assert(t.spec_hit, "case %zu: the forwarding reached our listener", i);
		if (cases[i].rst)
			cr_assert_eq(t.spec_neg, TCPPROBE_REFUSED, "case %zu", i);
		assert_all_closed(&t);
	}
}

/* No speculation: no UDP answer, one from another server, its mapped IP
 * our own (no NAT), or no pace to count by. */
Test(tcpprobe, guess_not_made)
{
	static const struct { enum beh m; const char *ip; const char *server; int no_pace; }
	cases[] = {
		{ EI, NULL, NULL, 0 },
		{ EI, "198.51.100.1", "203.0.113.9", 0 },
		{ NONAT, "192.0.2.10", NULL, 0 },
		{ EI, "192.0.2.10", NULL, 0 },
		{ EI, "198.51.100.1", NULL, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct world w;
		static struct tcpprobe t;
		struct tcpprobe_verdict v;

		guess_world(&w, cases[i].m, 0, cases[i].ip != NULL);
		w.no_pace = cases[i].no_pace;
		if (cases[i].ip != NULL)
			w.udp_mapped = ip4(cases[i].ip, 1);
		if (cases[i].server != NULL)
			w.udp_mapped_server = ip4(cases[i].server, 3478);
		run(&w, &t, &v);
		cr_assert_eq(t.spec, TCPPROBE_SPEC_NONE, "case %zu", i);
		cr_assert_eq(t.nspec, 0, "case %zu", i);
		cr_assert_eq(v.hairpinning, cases[i].m == NONAT ? -1 : 0, "case %zu", i);
	}
}

/* ------------------------------------------------------- loss sweep */

struct tcp_loss_case {
	enum beh m;
	int      hairpin;
	int      drop_syn;
	uint32_t loss;              /* percent, each way */
	unsigned seeds;
	unsigned min_right;
};

ParameterizedTestParameters(tcpprobe, verdicts_under_loss)
{
	static struct tcp_loss_case c[] = {
		/* 10% each way: most runs right; the rest unknown (an answer
		 * that came too late for the hurried run), none wrong. */
		{ EI, 1, 0, 10, 200, 60 },
		{ EI, 0, 0, 10, 200, 60 },
		{ APD, 1, 0, 10, 200, 60 },
		{ EI, 0, 1, 10, 200, 190 },
		/* 30% each way (51% of exchanges lost): mostly unknown. */
		{ EI, 1, 0, 30, 200, 0 },
		{ EI, 0, 0, 30, 200, 0 },
		{ APD, 0, 0, 30, 200, 0 },
		{ EI, 0, 1, 30, 200, 0 },
	};

	return cr_make_param_array(struct tcp_loss_case, c, sizeof(c) / sizeof(c[0]));
}

/*
 * Many seeds, each: the real UDP engine over a path with this loss each
 * way (natsim, 50 ms each way), then the TCP tests over the same path with
 * the pace the UDP engine ended with and hurried when it ended.  No TCP
 * verdict may be wrong; unknown is allowed.
 */
ParameterizedTest(struct tcp_loss_case *c, tcpprobe, verdicts_under_loss)
{
	static struct natsim sim;
	static struct probe pr;
	static struct world w;
	static struct tcpprobe t;
	unsigned right = 0, wrong = 0, unknown = 0, early = 0, spec[4] = { 0 };
	enum nat_behavior want = c->m == EI ? NAT_BEH_ENDPOINT_INDEPENDENT
	    : NAT_BEH_ADDRESS_PORT_DEPENDENT;

	for (unsigned seed = 0; seed < c->seeds; seed++) {
		struct probe_config cfg;
		struct probe_pace pace;
		struct tcpprobe_verdict v;
		const struct probe_test *b;
		uint64_t udp;
		int bad;

		natsim_init(&sim, c->m == EI ? NATSIM_EI : NATSIM_APD, NATSIM_APD, c->hairpin,
		    5000 + seed);
		natsim_path(&sim, 50, c->loss);
		natsim_config(&sim, &cfg);
		cfg.timeout_ms = 3000;
		udp = natsim_run(&sim, &cfg, &pr);
		probe_pace(&pr, pr.end_ms, &pace);

		memset(&w, 0, sizeof(w));
		w.mapping = c->m;
		w.hairpin = c->hairpin;
		w.drop_syn = c->drop_syn;
		w.loss = c->loss;
		w.rng = 7000 + seed;
		w.rtt = 100;
		w.cross = 50;
		w.udp_done = udp > 0 ? udp : 1;
		w.no_pace = !pace.have_rtt;
		/* natsim's clock starts at 1000000: the same instants, from 0. */
		w.rtt_known = pace.have_rtt ? pace.since_ms - pr.start_ms : 0;
		w.pace_rtt = pace.rtt_ms;
		w.pace_set = 1;
		w.pace_answered = pace.answered;
		w.pace_lost = pace.lost;
		/* The UDP binding's answer names the alternate (this world's
		 * server's) when it came: the alternates start then. */
		b = probe_find(&pr, PROBE_BINDING, 0);
		if (b != NULL && b->result == PROBE_ANSWERED)
			for (size_t j = 0; j < b->nsent && w.udp_alt_at == 0; j++)
				if (b->sends[j].answered)
					w.udp_alt_at = b->sends[j].at_ms + b->rtt_ms - pr.start_ms;
		/* And its mapped IP, for the hairpin guess: right for the EI
		 * NAT (it keeps P1's port), wrong for the APD one. */
		w.udp_mapped_at = w.udp_alt_at;
		run(&w, &t, &v);
		if (w.udp_alt_at != 0 && v.status == TCPPROBE_ST_OK)
			early++;
		spec[t.spec]++;

		bad = (v.status == TCPPROBE_ST_BLOCKED && !c->drop_syn) ||
		    (v.status == TCPPROBE_ST_OK && c->drop_syn) ||
		    (v.mapping != NAT_BEH_UNKNOWN && v.mapping != want) ||
		    (v.hairpinning == 0 && c->hairpin) || (v.hairpinning == 1 && !c->hairpin);
		if (bad) {
			if (wrong++ < 3)
				cr_log_error("seed %u: %s, mapping %s, hairpinning %d (UDP %u/%u)",
				    seed, tcpprobe_status_word(v.status), beh(v.mapping), v.hairpinning,
				    pace.answered, pace.lost);
		} else if (c->drop_syn ? v.status == TCPPROBE_ST_BLOCKED
		    : v.status == TCPPROBE_ST_OK && v.mapping == want &&
		    v.hairpinning == c->hairpin) {
			right++;
		} else {
			if (unknown++ < 3)
				cr_log_info("seed %u unknown: %s %s %s %s %s", seed,
				    tcpprobe_result_name(t.c[0].result), tcpprobe_result_name(t.c[1].result),
				    tcpprobe_result_name(t.c[2].result), tcpprobe_result_name(t.c[3].result),
				    tcpprobe_result_name(t.c[4].result));
		}
	}
	cr_log_info("TCP %s hairpin %d blocked %d at %u%% loss: %u right, %u unknown, %u wrong"
	    " (%u with the UDP answer's alternate; hairpin guess confirmed %u, discarded %u)",
	    beh(want), c->hairpin, c->drop_syn, c->loss, right, unknown, wrong, early,
	    spec[TCPPROBE_SPEC_CONFIRMED], spec[TCPPROBE_SPEC_DISCARDED]);
	cr_assert_eq(wrong, 0, "%u of %u runs said something wrong", wrong, c->seeds);
	cr_assert_geq(right, c->min_right, "%u of %u right", right, c->seeds);
}

/* Loss on TCP alone (SYNs filtered, UDP clean): the UDP engine's K knows
 * nothing of it.  A connection to the same server that got through shows
 * the path open, and TCP's own lost exchanges raise K: never "blocked"
 * or "no hairpin" from it (unknown is allowed). */
Test(tcpprobe, tcp_only_loss_is_never_a_negative)
{
	static struct world w;
	static struct tcpprobe t;
	unsigned wrong = 0, right = 0, loss = 10;

	for (unsigned seed = 0; seed < 300; seed++) {
		struct tcpprobe_verdict v;

		memset(&w, 0, sizeof(w));
		w.mapping = EI;
		w.hairpin = 1;
		w.loss = loss;
		w.rng = 9000 + seed;
		w.rtt = 100;
		w.cross = 50;
		w.udp_done = 310;           /* a clean UDP run: the default pace */
		w.udp_mapped_at = 100;      /* with the hairpin guess */
		run(&w, &t, &v);
		if (v.status == TCPPROBE_ST_BLOCKED || v.hairpinning == 0 ||
		    (v.mapping != NAT_BEH_UNKNOWN && v.mapping != NAT_BEH_ENDPOINT_INDEPENDENT)) {
			if (wrong++ < 3)
				cr_log_error("seed %u: %s, mapping %s, hairpinning %d (TCP %u/%u)",
				    seed, tcpprobe_status_word(v.status), beh(v.mapping), v.hairpinning,
				    t.tcp_answered, t.tcp_lost);
		} else if (v.status == TCPPROBE_ST_OK && v.hairpinning == 1 &&
		    v.mapping == NAT_BEH_ENDPOINT_INDEPENDENT)
			right++;
	}
	cr_log_info("TCP-only loss %u%%: %u right, %u wrong of 300", loss, right, wrong);
	cr_assert_eq(wrong, 0, "%u of 300 runs said something wrong", wrong);
	cr_assert_geq(right, 100, "%u of 300 right", right);
}

/* Without --tcp the engine is done at once and asks for nothing. */
Test(tcpprobe, disabled)
{
	static struct tcpprobe t;
	struct tcpprobe_config cfg;
	struct tcpprobe_tx tx;
	uint32_t wait;

	memset(&cfg, 0, sizeof(cfg));
	tcpprobe_init(&t, &cfg, 7);
	cr_assert_eq(tcpprobe_next(&t, 7, &tx, &wait), TCPPROBE_DONE);
}

/* ---------------------------------------------------------------- output */

static char *
render(void (*fn)(FILE *, const struct tcpprobe *, const struct tcpprobe_verdict *),
       const struct tcpprobe *t, const struct tcpprobe_verdict *v)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	cr_assert(f != NULL);
	fn(f, t, v);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(tcpreport, json_and_text)
{
	static struct world w;
	static struct tcpprobe t;
	struct tcpprobe_verdict v;
	const char *s;

	memset(&w, 0, sizeof(w));
	w.mapping = APD;
	w.hairpin = 1;
	run(&w, &t, &v);
	s = render(tcpreport_json, &t, &v);
	cr_assert(strstr(s, "{\"status\":\"ok\",\"mapping\":\"address-and-port-dependent\","
	    "\"hairpinning\":true,\"nat\":true,\"mapped\":\"198.51.100.1:40000\"") == s, "%s", s);
	cr_assert(strstr(s, "{\"test\":\"map-alt-ip\",\"result\":\"answered\","
	    "\"destination\":\"203.0.113.2:3478\"") != NULL, "%s", s);
	cr_assert(strstr(s, "\"warnings\":[]") != NULL, "%s", s);
	s = render(tcpreport_text, &t, &v);
	cr_assert_str_eq(s, "TCP          ok, to 203.0.113.1:3478\n"
	    "TCP mapping  address-and-port-dependent\n"
	    "TCP hairpin  yes\n"
	    "TCP mapped   198.51.100.1:40000\n");
	cr_assert(strstr(render(tcpreport_json, &t, &v), "\"speculative\":0,\"guess\":null}")
	    != NULL, "no guess told: none made");
	/* The hairpin guess confirmed, and a wrong one discarded. */
	guess_world(&w, EI, 1, 1);
	run(&w, &t, &v);
	s = render(tcpreport_json, &t, &v);
	cr_assert(strstr(s, "\"guess\":\"confirmed\"}") != NULL, "%s", s);
	guess_world(&w, APD, 1, 1);
	run(&w, &t, &v);
	s = render(tcpreport_json, &t, &v);
	cr_assert(strstr(s, "\"guess\":\"discarded\"}") != NULL, "%s", s);
	s = render(tcpreport_json, NULL, NULL);
	cr_assert_str_eq(s, "null");
}
