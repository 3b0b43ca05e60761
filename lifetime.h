/*
 * lifetime.h - how long an idle UDP binding lives, and what refreshes it
 * (RFC 5780 section 4.6, RFC 4787 REQ-5 and REQ-6).  An I/O-free engine
 * with the same contract as probe.h: lifetime_next() says what to send on
 * which socket or how long to wait, lifetime_input() takes what arrived,
 * and the outcome is in struct lifetime_result.
 *
 * Sockets (the caller opens LT_NSOCK fresh ones, like probe's):
 *   0 .. LT_NMAP-1   mapping sockets.  Each is "armed" by a Binding request
 *                    to the server's primary address (which creates or
 *                    refreshes its mapping, and opens its filter for that
 *                    address), then left idle.
 *   LT_SOCK_PROBER   sends the checks: a Binding request with RESPONSE-PORT
 *                    set to a mapping's public port.  The server answers
 *                    from its primary address to this socket's public IP at
 *                    that port (RFC 5780 section 7.5), so the answer reaches
 *                    the mapping socket iff the mapping is still alive.
 *                    The check comes from another source port, so it does
 *                    not refresh the mapping under test.
 *   LT_SOCK_REFRESH  the refresh test (RFC 5780 section 4.6 end, RFC 4787
 *                    REQ-6): armed once, then kept alive only by checks,
 *                    i.e. by inbound traffic, at intervals well below the
 *                    lifetime found so far.  If it is still alive when its
 *                    last outbound datagram is older than the lifetime,
 *                    inbound traffic refreshes bindings; if it dies while
 *                    checked more often than the lifetime, only outbound
 *                    traffic does.
 *
 * Schedule.  Every mapping socket is armed at the start, one new
 * transaction per LT_PACE_MS (RFC 5780 section 5: at most ten new
 * transactions a second).  Until one check fails, the oldest armed socket
 * is checked whenever its idle time reaches the next age of a geometric
 * series (LT_FIRST_MS, x LT_RATIO each time, the last one max_ms); a
 * checked socket is re-armed at once.  The first failure brackets the
 * lifetime between the largest age seen alive and the smallest seen
 * expired, within a factor LT_RATIO.  Because sockets were armed and
 * re-armed at many different times, others are idle for ages inside that
 * bracket at the same moment: each one is checked as its age reaches the
 * bracket's middle, until the bracket is narrow enough (LT_WIDTH_MS, or a
 * tenth of the lifetime) or the time budget (1.25 x lifetime + 5 s) is
 * spent.  A check is called "expired" after K unanswered sends, K grown
 * with the loss the arms measured so that a lost answer stays unlikely
 * (as in probe.h: K = ceil(ln(LT_EPS) / ln(q)), q the Laplace estimate of
 * one exchange failing, LT_CHECK_SENDS <= K <= LT_MAX_SENDS); the bracket is conservative on both sides by the measured round
 * trip.  A check that contradicts earlier ones (alive beyond an expiry) is
 * counted in `conflicts`: loss, or a NAT whose timeout is not fixed.
 */
#ifndef NATCHECK_LIFETIME_H
#define NATCHECK_LIFETIME_H

#include <stddef.h>
#include <stdint.h>

#include "stun.h"

#define LT_NMAP          32
#define LT_SOCK_PROBER   LT_NMAP
#define LT_SOCK_REFRESH  (LT_NMAP + 1)
#define LT_NSOCK         (LT_NMAP + 2)

#define LT_DEFAULT_MAX_MS 300000u
#define LT_PACE_MS        100       /* between new transactions */
#define LT_FIRST_MS       2000      /* the first age checked */
#define LT_RATIO          1.2       /* coarse series */
#define LT_WIDTH_MS       2000      /* enough: max(this, lifetime / 10) */
#define LT_CHECK_SENDS    3         /* fewest unanswered sends for "expired" */
#define LT_MAX_SENDS      12        /* most */
#define LT_EPS            0.0005    /* accepted chance of a false "expired" */
#define LT_ARM_SENDS      7         /* sends before a socket is given up */
#define LT_TXBUF          64

enum lifetime_refresh {
	LT_REFRESH_UNKNOWN = 0,
	LT_REFRESH_INBOUND,         /* inbound traffic alone keeps a binding */
	LT_REFRESH_OUTBOUND_ONLY    /* only outbound traffic does */
};

struct lifetime_config {
	struct stun_addr server;    /* the primary address */
	uint32_t max_ms;            /* longest lifetime looked for */
	void   (*random)(void *ctx, uint8_t *buf, size_t len);
	void    *random_ctx;
};

/* What the run found.  Times in milliseconds of idle time. */
struct lifetime_result {
	int      measured;          /* at least one check was decided */
	uint32_t alive_ms;          /* seen alive after this long idle (0: never) */
	int      expired;           /* an expiry was seen ... */
	uint32_t expired_ms;        /* ... by this long idle */
	uint32_t max_ms;
	uint32_t keepalive_ms;      /* recommended; 0 when unknown */
	enum lifetime_refresh refresh;
	unsigned checks;            /* checks decided */
	unsigned conflicts;         /* checks that contradicted others */
	int      unsupported;       /* the server does not honour RESPONSE-PORT */
	int      no_server;         /* no mapping socket could be armed */
};

enum lt_op { LT_OP_NONE, LT_OP_ARM, LT_OP_CHECK };

/* One socket: its mapping, and the operation in flight. */
struct lifetime_sock {
	int      dead;              /* could not be armed */
	int      armed;             /* has a mapping and is idle */
	uint16_t mapped_port;
	uint64_t arm_sent;          /* last outbound datagram of the arm */
	uint64_t arm_rx;            /* when the arm's answer came */
	uint64_t last_in;           /* refresh socket: last check answer */
	enum lt_op op;              /* on this socket's behalf */
	int      want_arm;          /* to be (re-)armed when the pacer allows */
	size_t   nsent;
	uint8_t  tids[LT_MAX_SENDS][STUN_TID_LEN];
	uint64_t sent_at[LT_MAX_SENDS];
};

struct lifetime {
	struct lifetime_config cfg;
	uint64_t start;
	int      done;
	uint64_t last_new;          /* last new transaction (pacing) */
	int      have_new;
	uint32_t rtt_max;
	int      have_rtt;
	unsigned arm_sends, arm_answers;/* of answered arms: the loss estimate */
	double   next_age;          /* coarse series: next age to check */
	int      coarse_done;       /* max_ms was checked */
	uint32_t lo, hi;            /* bracket; hi == UINT32_MAX: no expiry yet */
	int      refresh_dead;      /* the refresh socket's binding expired */
	uint64_t refresh_dead_in;   /* then: inbound idle (upper bound) */
	uint64_t refresh_alive_out; /* largest outbound idle seen alive */
	struct lifetime_sock s[LT_NSOCK];
	struct lifetime_result r;
};

enum lifetime_step { LT_SEND, LT_WAIT, LT_DONE };

struct lifetime_tx {
	int      sock;
	struct stun_addr to;
	size_t   len;
	uint8_t  buf[LT_TXBUF];
};

/* Start a run at now_ms. */
void lifetime_init(struct lifetime *l, const struct lifetime_config *cfg, uint64_t now_ms);

/* The next thing to do: LT_SEND tx then call again; LT_WAIT at most
 * *wait_ms; LT_DONE: the result is in l->r. */
enum lifetime_step lifetime_next(struct lifetime *l, uint64_t now_ms, struct lifetime_tx *tx,
                                 uint32_t *wait_ms);

/* A datagram buf[0..len) arrived on socket sock from `from`. */
void lifetime_input(struct lifetime *l, uint64_t now_ms, int sock, const struct stun_addr *from,
                    const uint8_t *buf, size_t len);

/* Stable words: "inbound", "outbound-only", "unknown". */
const char *lifetime_refresh_word(enum lifetime_refresh r);

#endif /* NATCHECK_LIFETIME_H */
