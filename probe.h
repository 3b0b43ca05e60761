/*
 * probe.h - the NAT test engine, a state machine without I/O.
 *
 * The engine owns no socket and no clock.  The caller (the loop in
 * loop.c, or a unit test with a simulated network and virtual time)
 * asks probe_next() what to do at time `now` and hands every datagram that
 * arrives to probe_input().  When probe_next() says PROBE_DONE, the tests'
 * outcomes are in p->tests[] for nat_classify() to read.
 *
 * Sockets are named by index:
 *   PROBE_SOCK_MAP    the mapping socket: the binding tests to every server
 *                     address and port, and the CHANGE-REQUEST checks.
 *   PROBE_SOCK_FILTER the filtering socket: it sends only to the primary
 *                     server's primary address, so the NAT's filter for it
 *                     is open towards that one endpoint and no other
 *                     (the trap go-stun and NatTypeTester fall into).
 *   PROBE_SOCK_HAIR   the hairpin socket: learns its own mapping, then it
 *                     and the mapping socket send to each other's mapped
 *                     address; either arriving means the NAT hairpins.
 *   PROBE_SOCK_FILTER2 a second filtering socket, used only when the first
 *                     server turns out to have no alternate address and a
 *                     later one does.
 * The primary server is the first whose alternate differs in IP and port;
 * when every binding is decided and none has one, the first whose
 * alternate differs in the port only (a single-address server): then only
 * the tests that change the port run (MAP_ALT_PORT, CHECK_PORT,
 * FILTER_PORT), and nat_classify says what they cannot tell.
 * When server 0's binding answer names no alternate at all, one more
 * request asks for it (PROBE_ASK_OTHER, "ask-other-address"): a Binding
 * request with an empty CHANGE-REQUEST (no flag set) from the mapping
 * socket to server 0.  natcheck's own single-address server names its
 * other port (same IP) only to a request that carries CHANGE-REQUEST
 * (server.h: a client that does not ask must not take the same IP for a
 * second server); a port-only OTHER-ADDRESS in the answer counts as server
 * 0's alternate.  Any other outcome - no OTHER-ADDRESS, an error (a plain
 * RFC 5389 server's 420), silence - leaves server 0 a plain server; the
 * port-only choice waits for the ask's outcome, a server with a full
 * alternate never does, and the ask is abandoned once one is the primary.
 * An answer that names an alternate gets no ask: a two-address server
 * sees not one datagram more.
 * Failover: when a CHANGE-REQUEST check shows the primary ignores the
 * change (an answer from elsewhere, or an error), or its answers
 * contradict themselves (probe_server_lies), the next server whose full
 * alternate is usable and that was never the primary becomes the primary
 * at once (p->abandoned names the first given up).  Its filtering tests
 * run on a socket that never sent where their replies come from
 * (PROBE_SOCK_FILTER2, else PROBE_SOCK_FILTER), or not at all.
 * The caller creates all PROBE_NSOCK sockets before the run, each on a fresh
 * ephemeral port (or the mapping socket on the -b port), bound to the local
 * address the kernel uses towards the first server, and tells the engine
 * those addresses in the config.
 *
 * Every transmission, retransmissions included, carries a fresh transaction
 * ID, so each answer names the exact send it answers: round trips are
 * measured without ambiguity and loss is counted per send.
 *
 * Fast schedule (the default):
 *   - a test sends at once, then every `iv` until answered: before any
 *     round trip is measured iv starts at PROBE_IV0_MS and doubles up to
 *     PROBE_IV_MAX_MS; afterwards iv = clamp(rtt / PROBE_IV_DIV, PROBE_IV_MIN_MS,
 *     PROBE_IV_CAP_MS).  K below grows while few outcomes are known, so
 *     the sends come densely: a negative ends about as soon as enough
 *     outcomes are in, not K intervals later.
 *   - rtt, the path's round trip, is estimated from the answers to the
 *     latest sends, not from the worst ever seen: it is the largest round
 *     trip among the current samples, one per answered send (at most
 *     PROBE_RTT_SAMPLES; the oldest send's goes first).  A sample stops
 *     being current when
 *       . a later send's answer arrives within PROBE_BURST_MS after it
 *         (not before it): both waited in one queue - a cold path holding
 *         the first datagrams while a radio wakes up or a neighbour is
 *         resolved, then releasing them together - and the path's time is
 *         the later send's;
 *       . or a send made after it was answered has been answered: a newer
 *         measurement.
 *     An answer that arrives after a later send's (reordered) stays
 *     current: a delay the path can show.  Hairpin arrivals are one-way
 *     trips and no samples.
 *   - a test is given up ("no answer") once K of its sends made after the
 *     first round trip was measured have each waited W in vain, W = rtt +
 *     max(rtt / 2, PROBE_MARGIN_MS): from the K-th of them, not from the
 *     last send (later sends only add chances).  Sends made before any
 *     round trip was known do not count: the path they met (a cold path
 *     may hold them for seconds) is not vouched for by the estimate.
 *     K is the smallest number of sends for which losing all of them is
 *     no likelier than eps, given the exchanges seen so far: a send of a
 *     test that was answered (provisionally or not, hairpin tests left
 *     out) counts once rtt + PROBE_MARGIN_MS has passed since it, as
 *     answered or lost - never an answer before a loss could have counted.
 *     With a answered and l lost, and a prior worth PROBE_PRIOR_N
 *     exchanges at loss PROBE_Q_PRIOR (q0 = PROBE_PRIOR_N * PROBE_Q_PRIOR),
 *     the chance that K exchanges in a row fail is the beta-binomial
 *         prod_{i<K} (l + q0 + i) / (a + l + PROBE_PRIOR_N + i),
 *     which stays high while the outcomes are few (two lucky answers on a
 *     path that loses half do not end a test after a few sends);
 *     PROBE_Q_FLOOR^K must be <= eps as well, and PROBE_K_MIN <= K <=
 *     PROBE_K_MAX.  eps is PROBE_EPS_FILTER for the filtering tests, whose
 *     negative alone names the filtering behaviour, and PROBE_EPS for the
 *     others, whose negatives at most leave something unknown or need a
 *     second negative to agree (the two hairpin tests).  K is recomputed
 *     whenever the engine runs: a test that stopped sending sends again
 *     if new outcomes raise it.  No test is given up before a round trip
 *     has been measured.
 *   - the whole run ends at the config's timeout; tests still open are
 *     marked PROBE_TIMEOUT.
 * RFC 3489 schedule (config.rfc3489_timing): sends at 0, 100, 300, 700,
 * 1500, 3100, 4700, 6300, 7900 ms from the test's start, given up at 9500 ms
 * (RFC 3489 section 9.3), whatever the round trip.
 */
#ifndef NATCHECK_PROBE_H
#define NATCHECK_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "stun.h"

#define PROBE_MAX_SERVERS 8
/* Tests a run can hold: 4 at the start, a binding per other server (7),
 * 7 waiting for the primary, a hairpin binding to another anchor, the ask
 * for server 0's alternate, and 7 more for every server that becomes the
 * primary after a failover (each at most once): 4 + 7 + 7 + 1 + 1 + 7 * 7
 * = 69. */
#define PROBE_MAX_TESTS   69
#define PROBE_MAX_SENDS   32        /* sends one test may make */
#define PROBE_TXBUF       128       /* largest request the engine builds */

enum probe_sock {
	PROBE_SOCK_MAP = 0,
	PROBE_SOCK_FILTER = 1,
	PROBE_SOCK_HAIR = 2,
	PROBE_SOCK_FILTER2 = 3,
	PROBE_NSOCK = 4
};

/* Fast-schedule constants (see the top of this file). */
#define PROBE_IV0_MS      50
#define PROBE_IV_MAX_MS   500
#define PROBE_IV_MIN_MS   5
#define PROBE_IV_CAP_MS   100
#define PROBE_IV_DIV      8
#define PROBE_MARGIN_MS   20
#define PROBE_EPS         0.0005
#define PROBE_EPS_FILTER  0.00002
#define PROBE_Q_FLOOR     0.1
#define PROBE_Q_PRIOR     0.2
#define PROBE_PRIOR_N     2.0
#define PROBE_BURST_MS    10
#define PROBE_RTT_SAMPLES 32
#define PROBE_K_MIN       4
#define PROBE_K_MAX       24

enum probe_kind {
	PROBE_BINDING,          /* map sock -> server 0 primary (RFC 3489 Test I) */
	PROBE_MAP_ALT_IP,       /* map sock -> alternate IP, primary port (RFC 5780 4.3 test II) */
	PROBE_MAP_ALT_IP_PORT,  /* map sock -> alternate IP and port (RFC 3489 Test I to
	                           CHANGED-ADDRESS, RFC 5780 4.3 test III) */
	PROBE_FILTER_IP_PORT,   /* filter sock -> primary, change IP+port (RFC 3489 Test II) */
	PROBE_FILTER_PORT,      /* filter sock -> primary, change port (RFC 3489 Test III) */
	PROBE_CHECK_IP_PORT,    /* map sock -> primary, change IP+port: the filter test's very
	                           request, but the reply comes from A:a, which the map sock
	                           has contacted, so it passes any filter of an endpoint-
	                           independent mapping: proves the server honours it */
	PROBE_CHECK_PORT,       /* map sock -> primary, change port; reply from P's IP, the
	                           alternate port, contacted by MAP_ALT_PORT */
	PROBE_HAIR_BINDING,     /* hairpin sock -> server 0 primary: its own mapping */
	PROBE_HAIR_TO_MAP,      /* hairpin sock -> the map sock's mapped address */
	PROBE_MAP_TO_HAIR,      /* map sock -> the hairpin sock's mapped address */
	PROBE_BINDING_OTHER,    /* map sock -> server N>0 primary (mapping across servers) */
	PROBE_MAP_ALT_PORT,     /* map sock -> primary IP, alternate port: opens the NAT's
	                           filter for CHECK_PORT's reply */
	PROBE_ASK_OTHER,        /* map sock -> server 0 primary, CHANGE-REQUEST with no
	                           flag set: asks a server whose binding answer named no
	                           alternate for its OTHER-ADDRESS (see the top) */
	PROBE_KIND_COUNT
};

enum probe_result {
	PROBE_NOT_RUN = 0,      /* never started: its prerequisite is missing */
	PROBE_RUNNING,
	PROBE_ANSWERED,         /* a valid answer from the expected source */
	PROBE_NO_ANSWER,        /* given up by the schedule */
	PROBE_WRONG_SOURCE,     /* answered only from an unexpected source */
	PROBE_ERROR_RESPONSE,   /* answered only with an error response */
	PROBE_TIMEOUT,          /* still open when the run's time ran out */
	PROBE_UNREACHABLE,      /* the network said the destination cannot be
	                           reached (see probe_unreachable) */
	PROBE_ABANDONED         /* unanswered when the tests moved on: a silent
	                           first server overdue while another answered
	                           (failover), or a change of IP asked of what
	                           turned out a single-address server; the same
	                           as no answer, sooner */
};

/* What the network said about a datagram that was not delivered. */
enum probe_unreach {
	PROBE_UNREACH_PORT = 1, /* ICMP port unreachable: nothing listens there */
	PROBE_UNREACH_HOST,     /* ICMP host or network unreachable, or no route
	                           when sending */
	PROBE_UNREACH_SEND      /* the send failed locally for another reason */
};

/* One transmission. */
struct probe_send {
	uint8_t  tid[STUN_TID_LEN];
	uint64_t at_ms;
	uint8_t  answered;
};

/* One test and what it saw. */
struct probe_test {
	enum probe_kind kind;
	enum probe_result result;
	int      server;            /* index into config.servers */
	int      sock;              /* enum probe_sock */
	struct stun_addr dst;
	uint32_t change;            /* CHANGE-REQUEST flags, 0 for none */
	int      has_change;        /* the request carries CHANGE-REQUEST: change
	                               != 0, or PROBE_ASK_OTHER's empty one */
	int      has_expect;        /* the reply's source is known in advance */
	struct stun_addr expect;    /* (for filter tests it becomes known with the
	                               alternate address; answers that came before are
	                               checked then) */
	uint64_t started_ms;
	uint32_t iv_ms;             /* current interval (before an RTT is known) */
	size_t   nsent;
	struct probe_send sends[PROBE_MAX_SENDS];

	/* What the first valid answer said. */
	uint32_t rtt_ms;
	int      has_mapped;
	struct stun_addr mapped;    /* XOR-MAPPED-ADDRESS or MAPPED-ADDRESS */
	int      mapped_xor;        /* it came as XOR-MAPPED-ADDRESS (RFC 5389) */
	int      has_other;
	struct stun_addr other;     /* OTHER-ADDRESS, or CHANGED-ADDRESS */
	int      other_rfc5780;     /* it came as OTHER-ADDRESS */
	int      has_origin;
	struct stun_addr origin;    /* RESPONSE-ORIGIN or SOURCE-ADDRESS */
	int      origin_rfc5780;    /* it came as RESPONSE-ORIGIN */
	struct stun_addr from;      /* where the answer came from */

	/* What was counted and not believed. */
	unsigned wrong_source;      /* answers from an unexpected address */
	struct stun_addr wrong_from;/* the first of them */
	unsigned errors;            /* error responses */
	int      error_code;        /* the first error code */
	uint16_t error_unknown[4];  /* UNKNOWN-ATTRIBUTES of a 420, first four */
	size_t   error_nunknown;
	unsigned duplicates;        /* second answers to one send */
	unsigned late;              /* answers after the test was decided */
	unsigned unreachable;       /* probe_unreachable reports for this test */
	enum probe_unreach unreach_kind;  /* the first one's kind */
};

/* An event for -v logging. */
enum probe_event_kind { PROBE_EV_SEND, PROBE_EV_ANSWER, PROBE_EV_IGNORED, PROBE_EV_DECIDED };
struct probe_event {
	enum probe_event_kind kind;
	const struct probe_test *test;  /* NULL for a datagram no test claims */
	int      sock;
	struct stun_addr peer;          /* destination of a send, source of an answer */
	size_t   attempt;               /* 1-based send number */
	uint32_t rtt_ms;
	const char *why;                /* for IGNORED: the reason */
};

struct probe_config {
	struct stun_addr servers[PROBE_MAX_SERVERS];
	size_t   nservers;
	struct stun_addr local[PROBE_NSOCK]; /* each socket's real local address */
	struct addr_host host;      /* this host's addresses and networks, for
	                               the address rules (n 0: only local[]) */
	int      rfc3489_timing;
	uint32_t timeout_ms;        /* the whole run's cap (-t) */
	int      pinned_port;       /* the mapping socket's port was chosen by the
	                               user (-b ADDR:PORT), not fresh */
	void   (*random)(void *ctx, uint8_t *buf, size_t len);
	void    *random_ctx;
	void   (*event)(void *ctx, const struct probe_event *ev);  /* may be NULL */
	void    *event_ctx;
};

/* Counters for datagrams nobody could claim. */
struct probe_stats {
	unsigned sent;              /* datagrams handed out */
	unsigned received;          /* datagrams handed in */
	unsigned malformed;         /* failed stun_decode */
	enum stun_status last_malformed;
	unsigned stray;             /* valid STUN, but not an answer to us: the sum
	                               of the four below */
	unsigned echoed;            /*   our own request came back to us */
	unsigned unmatched;         /*   no transaction of ours, or not Binding */
	unsigned indications;       /*   an indication */
	unsigned wrong_socket;      /*   ours, but on another socket */
	unsigned duplicates;
	unsigned late;
	unsigned wrong_source;
	unsigned unreachable;       /* ICMP errors reported by probe_unreachable */
	unsigned send_errors;       /* sends that failed locally (PROBE_UNREACH_SEND) */
	unsigned answered_sends;    /* sends of answered tests that got their answer */
	unsigned lost_sends;        /* sends of answered tests that never did */
};

/* One measured round trip: a send and its answer (see the top of this file). */
struct probe_rtt {
	uint64_t sent_ms;
	uint64_t answered_ms;
};

struct probe {
	struct probe_config cfg;
	uint64_t start_ms;
	uint64_t end_ms;            /* when PROBE_DONE was first returned */
	int      done;
	uint32_t rtt_ms;            /* the path's round trip as estimated now */
	int      have_rtt;
	uint64_t rtt_since_ms;      /* when the first round trip was measured */
	size_t   nrtt;
	struct probe_rtt rtt[PROBE_RTT_SAMPLES];    /* the current samples */
	int      primary;           /* server whose alternate the tests use, or -1 */
	int      abandoned;         /* the first primary given up for the next:
	                               it ignored CHANGE-REQUEST or its answers
	                               contradict themselves; -1 none */
	uint32_t tried;             /* bit i: server i has been the primary */
	int      have_alt;
	struct stun_addr alt;       /* that server's alternate IP:port */
	int      alt_port_only;     /* the alternate differs in port only (a
	                               single-address server): only the tests that
	                               change the port run */
	size_t   ntests;
	struct probe_test tests[PROBE_MAX_TESTS];
	struct probe_stats stats;
};

/* What the caller is to do next. */
enum probe_step { PROBE_SEND, PROBE_WAIT, PROBE_DONE };

struct probe_tx {
	int      sock;
	struct stun_addr to;
	size_t   len;
	uint8_t  buf[PROBE_TXBUF];
	const struct probe_test *test;
};

/* Start a run at time now_ms with this configuration. */
void probe_init(struct probe *p, const struct probe_config *cfg, uint64_t now_ms);

/*
 * probe_next: the next thing to do at now_ms.  PROBE_SEND: send tx and call
 * again.  PROBE_WAIT: wait at most *wait_ms for input, then call again.
 * PROBE_DONE: every test is decided (or the time ran out).
 */
enum probe_step probe_next(struct probe *p, uint64_t now_ms, struct probe_tx *tx,
                           uint32_t *wait_ms);

/* probe_input: a datagram buf[0..len) arrived on socket sock from `from`. */
void probe_input(struct probe *p, uint64_t now_ms, int sock, const struct stun_addr *from,
                 const uint8_t *buf, size_t len);

/*
 * probe_unreachable: the network reported that a datagram sent on socket
 * sock to `to` was not delivered: an ICMP error (a connected socket's
 * ECONNREFUSED, or IP_RECVERR's queue), or a send that failed at once.
 * Every test on that socket with that destination records it; a running
 * test is decided PROBE_UNREACHABLE, except for PROBE_UNREACH_SEND, which
 * counts as a lost datagram, and for the hairpin tests, which go on (the
 * report is theirs to weigh in nat_classify).  why is a short reason for -v.
 */
void probe_unreachable(struct probe *p, uint64_t now_ms, int sock, const struct stun_addr *to,
                       enum probe_unreach kind, const char *why);

/*
 * Why the engine will not send to an address a server told it about (an
 * alternate address, or a mapped address for the hairpin tests).  The wire
 * is hostile: a server must not be able to make the client send to a
 * multicast group, a broadcast address, itself, this host's loopback, or
 * its LAN (addr.h's addr_use_check has the rules).
 */
enum probe_addr_problem {      /* addr.h's enum addr_use, value for value */
	PROBE_ADDR_OK = ADDR_USE_OK,
	PROBE_ADDR_ABSENT = ADDR_USE_ABSENT,            /* no address (no answer,
	                                                   no OTHER-ADDRESS) */
	PROBE_ADDR_FAMILY = ADDR_USE_FAMILY,            /* not the socket's family */
	PROBE_ADDR_UNSPECIFIED = ADDR_USE_UNSPECIFIED,  /* 0.0.0.0 or :: */
	PROBE_ADDR_PORT_ZERO = ADDR_USE_PORT_ZERO,
	PROBE_ADDR_MULTICAST = ADDR_USE_MULTICAST,
	PROBE_ADDR_BROADCAST = ADDR_USE_BROADCAST,      /* 255.255.255.255 */
	PROBE_ADDR_LOOPBACK = ADDR_USE_LOOPBACK,        /* loopback, told by a server
	                                                   that is not */
	PROBE_ADDR_LOCAL = ADDR_USE_LOCAL,              /* this host's own address,
	                                                   told by a server that is
	                                                   not on this host */
	PROBE_ADDR_NOT_DISTINCT = ADDR_USE_NOT_DISTINCT, /* an alternate that does not
	                                                   differ from its server in
	                                                   both IP and port (RFC 5780
	                                                   7.4) */
	PROBE_ADDR_SITE = ADDR_USE_SITE,                /* private, ULA, link-local or
	                                                   shared, told by a public
	                                                   server */
	PROBE_ADDR_ON_LINK = ADDR_USE_ON_LINK           /* on one of this host's
	                                                   networks, told by a server
	                                                   that is not on it */
};

/* May the engine send to a, which server `server` told it about, from
 * socket sock (ADDR_ROLE_TARGET)?  PROBE_ADDR_OK or the first problem
 * found. */
enum probe_addr_problem probe_addr_check(const struct probe *p, int sock, int server,
                                         const struct stun_addr *a);

/* Is a, a mapped address server `server` reported for socket sock, one
 * that a NAT can give (ADDR_ROLE_MAPPED: it may be this host's own)? */
enum probe_addr_problem probe_mapped_check(const struct probe *p, int sock, int server,
                                           const struct stun_addr *a);

/* May the hairpin tests send to a, a mapped address server `server`
 * reported, from socket sock (ADDR_ROLE_HAIRPIN: never this host's own
 * address, where no NAT is crossed)? */
enum probe_addr_problem probe_hairpin_check(const struct probe *p, int sock, int server,
                                            const struct stun_addr *a);

/* Is the alternate that binding test t's answer advertises usable, for the
 * mapping socket?  PROBE_ADDR_ABSENT when t was not answered or carried
 * none. */
enum probe_addr_problem probe_alt_check(const struct probe *p, const struct probe_test *t);

/* Does the alternate of binding test t's answer differ from its server in
 * the port only (same IP), and is it otherwise fine to send to?  Such a
 * single-address server allows the tests that change the port alone; the
 * engine uses one when no server with a full alternate answered. */
int probe_alt_port_only(const struct probe *p, const struct probe_test *t);

/* What server `server`'s answers so far say against themselves (issue
 * #14): PROBE_LIE_ORIGIN, an answer's RESPONSE-ORIGIN is not where it
 * came from (RFC 3489's SOURCE-ADDRESS is not held to it: stund, the
 * classic server, names a wrong one in some answers); PROBE_LIE_OTHER, answers to requests that reached
 * one endpoint name different OTHER-ADDRESS (CHANGED-ADDRESS), which RFC
 * 5780 section 7.3 makes a function of that endpoint.  0: neither. */
#define PROBE_LIE_ORIGIN 1u
#define PROBE_LIE_OTHER  2u
unsigned probe_server_lies(const struct probe *p, int server);

/* The first test of this kind (for server N with BINDING_OTHER), or NULL. */
const struct probe_test *probe_find(const struct probe *p, enum probe_kind kind, int server);

/* Stable names for the JSON "tests" array and -v ("binding", ...). */
const char *probe_kind_name(enum probe_kind kind);
const char *probe_result_name(enum probe_result r);

/*
 * How the fast schedule paces a negative, for another engine that sends
 * redundant attempts over the same path (the TCP tests' extra connects,
 * tcpprobe.h): the round trip as estimated now and since when it is known,
 * and the exchanges whose outcome is known (answered, lost; see the
 * schedule above), from which probe_k_for() gives K: the attempts (made
 * since then) after which silence is no likelier loss than eps allows.
 * have_rtt 0: nothing measured (or the RFC 3489 schedule), no pace to
 * follow.
 */
struct probe_pace {
	int      have_rtt;
	uint32_t rtt_ms;
	uint64_t since_ms;
	unsigned answered, lost;
};
void probe_pace(const struct probe *p, uint64_t now_ms, struct probe_pace *pace);

/* K for a answered and l lost exchanges and this eps (the beta-binomial
 * of the schedule above), for an engine that adds exchanges of its own. */
size_t probe_k_for(unsigned a, unsigned l, double eps);

/* W for a round trip: how long a send waits for its answer before it
 * counts as lost, rtt + max(rtt / 2, PROBE_MARGIN_MS). */
uint64_t probe_wait_for(uint32_t rtt_ms);

/* The interval between redundant sends for a round trip. */
uint32_t probe_iv_for(uint32_t rtt_ms);

/* Measured fraction of lost exchanges among answered tests (0..1), or -1
 * when nothing was answered.  A send counts as lost once a round trip and
 * PROBE_MARGIN_MS have passed without its answer. */
double probe_loss(const struct probe *p);

#endif /* NATCHECK_PROBE_H */
