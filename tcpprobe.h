/*
 * tcpprobe.h - the TCP tests (--tcp) as a state machine without I/O.
 *
 * RFC 5780's mapping and hairpinning tests over TCP (section 4.3 and 4.5;
 * RFC 6062 and RFC 5389 section 7.2.2 carry STUN over a TCP stream).  The
 * filtering test stays UDP-only: over TCP it would need CHANGE-REQUEST,
 * which no server honours on a stream.
 *
 *   map             local port P0 -> the primary server
 *   map-alt-ip      local port P0 -> the alternate IP, primary port
 *   map-alt-ip-port local port P0 -> the alternate IP and port
 *                   (the alternate from the first answer's OTHER-ADDRESS;
 *                   one local port, three connections: SO_REUSEADDR and
 *                   SO_REUSEPORT, so the three mapped addresses compare
 *                   the NAT's mapping, not the kernel's port choice)
 *                   The UDP engine's answer from the same server names
 *                   the alternate too, usually a round trip before map's
 *                   answer does (map's connect, then its request): with
 *                   it (tcpprobe_set_alt) the two alternate connections
 *                   start at once.  When map's OTHER-ADDRESS then names
 *                   another, the mapping is unknown (W_ALT_MISMATCH):
 *                   the connections went where this server over TCP did
 *                   not say; when it names none, unknown as ever.
 *   hairpin-binding local port P1, where a socket listens -> the primary
 *   hairpin         a fresh socket -> hairpin-binding's mapped address;
 *                   it counts only when the listener on P1 accepts a
 *                   connection whose first message is this test's request
 *
 * Speculative hairpin attempts.  hairpin-binding's mapped address comes
 * two round trips into the run (connect, then request); the UDP engine's
 * answer from the same server names the NAT's IP a round trip sooner
 * (tcpprobe_set_mapped), and a NAT that keeps the source port when it is
 * free (Linux masquerade) maps P1 to itself.  So once the UDP answer says
 * there is a NAT (its mapped IP is not ours) and hairpin-binding has
 * connected (its SYN went through the NAT: the mapping exists), hairpin
 * attempts go to the guess, that IP with P1's port, paced as the hairpin
 * test's own, each with its own request and transaction ID.  Until
 * hairpin-binding answers nothing they show is believed: the guessed port
 * may belong to nothing at the NAT (an RST), to someone else (a listener
 * that is not ours), or be forwarded to P1 by a port forwarding that is
 * not this mapping.  When the answer's mapped address equals the guess,
 * the attempts went where the test's own go, after the mapping existed:
 * they are the test's attempts with their real start times (towards K
 * and the negative's wait), and what they showed meanwhile decides it
 * now (our request reached the listener: yes; an RST, ICMP error or
 * close: as an attempt's own would).  When it differs, or no answer
 * comes, they are closed and count for nothing; the test runs as ever.
 * Never a verdict the ordinary test could not give; only sooner.
 *
 * Same contract as probe.h: tcpprobe_next() says what to do (connect,
 * send) or how long to wait; the shell (tcpprobe_io.c) reports what
 * happened.  Every byte that comes back is untrusted: tcpprobe_frame()
 * finds one message in a stream, bounded by TCPPROBE_RXCAP.
 *
 * Redundant attempts.  A lost SYN is sent again by the kernel only after
 * a second (RFC 6298), so the engine adds its own redundancy, paced as the
 * UDP engine paces its retransmissions (probe_pace(): its round trip rtt,
 * W = probe_wait_for(rtt), the interval probe_iv_for(rtt), and the
 * exchanges the UDP run has seen), and decides a negative as it does:
 *   - a connection to a server with no SYN-ACK W after it started gets
 *     "scouts": connects to the same destination from fresh ports, one
 *     every interval.  A scout that connects proves the path open: the
 *     scouts are closed, and the test's own connection (which must keep
 *     its local port) waits for the kernel's retransmission, up to
 *     TCPPROBE_SYN_GRACE_MS, and is then timeout (unknown), never
 *     no-synack.  An RST or ICMP error to a scout decides the test as it
 *     would the test's own connection;
 *   - the hairpin test makes its extra attempts from fresh ports from the
 *     start, two every interval, each sending its own request with its
 *     own transaction ID; any of them reaching the listener means yes;
 *   - each attempt made since the round trip was known is an exchange
 *     (SYN and SYN-ACK, as a UDP send and its answer), failed W after its
 *     SYN and again W after each of the kernel's retransmissions (1 s,
 *     3 s).  A hairpin attempt's SYN and SYN-ACK each cross the NAT and
 *     come back, the traversals of two exchanges: its wait is W and a
 *     round trip, and the hairpin test needs 2 K of them; one that
 *     connected (a NAT that loops SYNs back almost surely hairpins) fails
 *     only the SYN grace after, its request not delivered.  A test is
 *     given up (no-synack; hairpin not-delivered when an attempt
 *     connected) once K failed exchanges are in, as probe.h gives up a
 *     UDP test.  K is probe_k_for() over the UDP run's exchanges and the
 *     TCP path's own (a server attempt answered in time, or lost on a
 *     path shown open), so that loss striking TCP alone raises it too;
 *     eps is PROBE_EPS_FILTER for the map and hairpin tests, whose
 *     negatives ("blocked", "no") name a verdict by themselves, as for
 *     the UDP filtering tests, and PROBE_EPS for the others.  A test makes
 *     at most TCPPROBE_TRIES attempts (the hairpin test
 *     TCPPROBE_HAIR_TRIES); when even the kernel's retransmissions cannot
 *     make up K, the test ends timeout (unknown).  With no round trip
 *     measured by the UDP engine, no extra attempts are made and
 *     TCPPROBE_SYN_GRACE_MS decides as it always did;
 *   - any connection that gets a SYN-ACK from a server shows the path to
 *     it open for every test connecting there (the map and hairpin-binding
 *     tests share the primary server).
 * Connections are named by slot: 0 .. TCPPROBE_NCONN - 1 are the tests'
 * own (slot = enum tcpprobe_kind), the rest are extra attempts, each with
 * the kind of the test it belongs to.
 */
#ifndef NATCHECK_TCPPROBE_H
#define NATCHECK_TCPPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "nat.h"
#include "probe.h"
#include "stun.h"

#define TCPPROBE_RXCAP    1024      /* longest answer taken on one connection */
#define TCPPROBE_TXBUF    64        /* a Binding request with FINGERPRINT */
/* Without a pace (see above), a connect still waiting for its SYN-ACK is
 * given this long before the run may be cut for it: past the kernel's
 * first SYN retransmission (1 s, RFC 6298 section 2.1), so one lost SYN
 * is not read as "blocked".  With one, a connect whose path a scout
 * proved open waits this long for its retransmission. */
#define TCPPROBE_SYN_GRACE_MS 1500
#define TCPPROBE_MARGIN_MS    20
#define TCPPROBE_DEFAULT_RTT_MS 100 /* when no round trip was measured at all */
/* Attempts a test may make in all (its own connection and the extra
 * ones): a server test, and the hairpin test (which needs twice K). */
#define TCPPROBE_TRIES      7
#define TCPPROBE_HAIR_TRIES 12
#define TCPPROBE_NSCOUT     20      /* slots for extra attempts, reused once
                                       their test is decided */

enum tcpprobe_kind {
	TCPPROBE_MAP = 0,
	TCPPROBE_MAP_ALT_IP,
	TCPPROBE_MAP_ALT_IP_PORT,
	TCPPROBE_HAIR_BINDING,
	TCPPROBE_HAIR,
	TCPPROBE_NCONN
};

#define TCPPROBE_NSLOT (TCPPROBE_NCONN + TCPPROBE_NSCOUT)

/* The speculative hairpin attempts (see above). */
enum tcpprobe_spec {
	TCPPROBE_SPEC_NONE = 0,     /* none made (yet) */
	TCPPROBE_SPEC_PENDING,      /* made; hairpin-binding has not answered */
	TCPPROBE_SPEC_CONFIRMED,    /* its mapped address is the guess: counted */
	TCPPROBE_SPEC_DISCARDED     /* it is not, or no answer: closed, counted
	                               for nothing */
};

/* Which local port a connection is made from. */
enum tcpprobe_port {
	TCPPROBE_PORT_MAP = 0,      /* P0, shared by the mapping connections */
	TCPPROBE_PORT_HAIR = 1,     /* P1, where the listener is */
	TCPPROBE_PORT_ANY = 2       /* a fresh ephemeral port */
};

enum tcpprobe_state { TCPPROBE_S_IDLE = 0, TCPPROBE_S_CONNECTING, TCPPROBE_S_CONNECTED,
	TCPPROBE_S_SENT, TCPPROBE_S_DONE };

enum tcpprobe_result {
	TCPPROBE_NOT_RUN = 0,       /* its prerequisite is missing */
	TCPPROBE_RUNNING,
	TCPPROBE_ANSWERED,          /* a Binding success with our transaction ID
	                               (hairpin: the listener got our request) */
	TCPPROBE_REFUSED,           /* RST to the SYN: nothing listens, or a
	                               firewall rejects */
	TCPPROBE_UNREACHABLE,       /* ICMP host/network unreachable, no route */
	TCPPROBE_NO_SYNACK,         /* no SYN-ACK within TCPPROBE_SYN_GRACE_MS */
	TCPPROBE_CLOSED,            /* connected, then closed or reset without
	                               an answer */
	TCPPROBE_MALFORMED,         /* the stream did not hold a STUN message, or
	                               not an answer to us */
	TCPPROBE_ERROR_RESPONSE,    /* a Binding error response */
	TCPPROBE_NOT_DELIVERED,     /* hairpin: connected, and the listener never
	                               got the request (someone else answered) */
	TCPPROBE_LOCAL_ERROR,       /* no socket, the local port not reusable, a
	                               failed write */
	TCPPROBE_TIMEOUT            /* still open when the run ended */
};

/* What the shell reports about a connection. */
enum tcpprobe_fail {
	TCPPROBE_FAIL_REFUSED = 1,
	TCPPROBE_FAIL_UNREACHABLE,
	TCPPROBE_FAIL_TIMEDOUT,     /* the kernel gave up on the SYN */
	TCPPROBE_FAIL_CLOSED,
	TCPPROBE_FAIL_LOCAL
};

/* One message found in a stream (tcpprobe_frame). */
enum tcpprobe_frame {
	TCPPROBE_FRAME_OK = 0,      /* *msglen bytes hold one whole message */
	TCPPROBE_FRAME_INCOMPLETE,  /* more bytes are needed */
	TCPPROBE_FRAME_NOT_STUN,    /* the top two bits, or a length not a
	                               multiple of four */
	TCPPROBE_FRAME_TOO_LONG     /* 20 + length exceeds the cap */
};

struct tcpprobe_conn {
	enum tcpprobe_kind kind;    /* the test (an extra attempt's: its test's) */
	int      slot;              /* index in tcpprobe.c[] */
	enum tcpprobe_port port;
	enum tcpprobe_state state;
	enum tcpprobe_result result;
	struct stun_addr dst;
	uint8_t  tid[STUN_TID_LEN];
	uint64_t started_ms, connected_ms, done_ms;
	int      has_local;
	struct stun_addr local;     /* the connection's real local address */
	int      has_mapped;
	struct stun_addr mapped;
	int      has_other;
	struct stun_addr other;     /* OTHER-ADDRESS (or CHANGED-ADDRESS) */
	int      error_code;        /* of an error response */
	enum stun_status bad;       /* why a MALFORMED stream was refused */
	/* A test's own connection only: its attempts (slot numbers, its own
	 * first), and whether a scout proved the path open. */
	size_t   ntries;
	int      tries[TCPPROBE_HAIR_TRIES];
	int      path_open;
	int      up;                /* it connected (got its SYN-ACK) */
	int      starved;           /* no slot was free for another attempt */
	int      spec;              /* a speculative hairpin attempt (above) */
	size_t   rxlen;
	uint8_t  rx[TCPPROBE_RXCAP];
};

struct tcpprobe_config {
	int      enabled;
	struct stun_addr server;    /* the primary server */
	struct stun_addr local[2];  /* P0 and P1 as bound (port 0: unavailable) */
	struct addr_host host;      /* this host's addresses and networks, for
	                               the address rules (n 0: only local[]) */
	uint32_t timeout_ms;        /* the run's cap (-t) */
	void   (*random)(void *ctx, uint8_t *buf, size_t len);
	void    *random_ctx;
};

/* Why an address a server told us is not used: the rules the UDP engine
 * follows too (addr.h's addr_use_check; its values, one for one). */
enum tcpprobe_addr {
	TCPPROBE_ADDR_OK = ADDR_USE_OK,
	TCPPROBE_ADDR_ABSENT = ADDR_USE_ABSENT,
	TCPPROBE_ADDR_FAMILY = ADDR_USE_FAMILY,
	TCPPROBE_ADDR_UNSPECIFIED = ADDR_USE_UNSPECIFIED,
	TCPPROBE_ADDR_PORT_ZERO = ADDR_USE_PORT_ZERO,
	TCPPROBE_ADDR_MULTICAST = ADDR_USE_MULTICAST,
	TCPPROBE_ADDR_BROADCAST = ADDR_USE_BROADCAST,
	TCPPROBE_ADDR_LOOPBACK = ADDR_USE_LOOPBACK,
	TCPPROBE_ADDR_LOCAL = ADDR_USE_LOCAL,
	TCPPROBE_ADDR_NOT_DISTINCT = ADDR_USE_NOT_DISTINCT,
	TCPPROBE_ADDR_SITE = ADDR_USE_SITE,
	TCPPROBE_ADDR_ON_LINK = ADDR_USE_ON_LINK
};

struct tcpprobe {
	struct tcpprobe_config cfg;
	uint64_t start_ms, end_ms;
	uint64_t deadline_ms;       /* start + timeout */
	int      hurried;           /* the UDP tests are done */
	uint64_t hurry_ms;          /* then: open connections get until here, */
	uint32_t hurry_rtt;         /* or this round trip (twice) after they
	                               connected, or the SYN grace to connect */
	int      done;
	enum tcpprobe_addr alt_problem;     /* of map's OTHER-ADDRESS (once map
	                                       is decided) */
	int      udp_alt_ok;        /* tcpprobe_set_alt() gave a usable one: */
	struct stun_addr udp_alt;   /*   the UDP answer's alternate */
	int      alt_set;           /* the alternate connections' address is */
	int      alt_udp;           /* chosen: the UDP answer's (alt_udp 1) or */
	struct stun_addr alt;       /* map's OTHER-ADDRESS; this one */
	enum tcpprobe_addr hair_problem;    /* of hairpin-binding's mapped address */
	int      guess_ok;          /* tcpprobe_set_mapped() gave the NAT's IP: */
	struct stun_addr guess;     /*   it with P1's port, the hairpin guess */
	enum tcpprobe_spec spec;    /* the speculative hairpin attempts (above): */
	size_t   nspec;             /*   how many were made, their slots */
	int      spec_tries[TCPPROBE_HAIR_TRIES];
	int      spec_starved;      /*   no slot was free for another */
	int      spec_hit;          /*   one's request reached the listener */
	enum tcpprobe_result spec_neg;      /* one's RST, ICMP error or close
	                                       (NOT_RUN: none), held until the
	                                       guess is confirmed */
	struct probe_pace pace;     /* the UDP engine's, as last told */
	uint32_t synack_ms;         /* the shortest handshake to a server, 0: none */
	unsigned tcp_answered;      /* server attempts since the round trip was */
	unsigned tcp_lost;          /* known: SYN-ACK in time, or an exchange
	                               lost on a path shown open */
	struct tcpprobe_conn c[TCPPROBE_NSLOT];
};

enum tcpprobe_step { TCPPROBE_CONNECT, TCPPROBE_SEND, TCPPROBE_WAIT, TCPPROBE_DONE };

struct tcpprobe_tx {
	int      conn;              /* the slot */
	enum tcpprobe_port port;    /* CONNECT: from which local port */
	struct stun_addr to;        /* CONNECT: where */
	size_t   len;               /* SEND: the bytes */
	uint8_t  buf[TCPPROBE_TXBUF];
};

/*
 * tcpprobe_frame: does buf[0..len) start with one whole STUN message of at
 * most cap bytes?  Reads the 20-byte header only; TCPPROBE_FRAME_OK with
 * *msglen, else what is wrong or missing.  Never reads past len.
 */
enum tcpprobe_frame tcpprobe_frame(const uint8_t *buf, size_t len, size_t cap, size_t *msglen);

/* Start the tests at now_ms (with cfg->enabled 0, done at once). */
void tcpprobe_init(struct tcpprobe *t, const struct tcpprobe_config *cfg, uint64_t now_ms);

/* The next thing to do: CONNECT or SEND tx and call again; WAIT at most
 * *wait_ms for news; DONE when every test is decided. */
enum tcpprobe_step tcpprobe_next(struct tcpprobe *t, uint64_t now_ms, struct tcpprobe_tx *tx,
                                 uint32_t *wait_ms);

/* The UDP engine's pace as of now (probe_pace); have_rtt 0 leaves the
 * negatives to the kernel's retransmission and the SYN grace. */
void tcpprobe_set_pace(struct tcpprobe *t, const struct probe_pace *pace);

/* The UDP engine's answer from server (its binding test's) names alt as
 * its alternate (OTHER-ADDRESS or CHANGED-ADDRESS, usable by the UDP
 * engine's rules).  When server is this run's server and alt passes the
 * TCP tests' own rules, the alternate connections may start with it
 * before map's answer comes (see above); ignored once they started. */
void tcpprobe_set_alt(struct tcpprobe *t, const struct stun_addr *server,
                      const struct stun_addr *alt);

/* The UDP engine's answer from server (its binding test's) says our
 * mapped address is mapped, and it is not this host's own address (there
 * is a NAT).  When server is this run's server and the IP passes the TCP
 * tests' own rules, the hairpin test may make speculative attempts to it
 * with P1's port (see above) before hairpin-binding answers; the first
 * one given is kept. */
void tcpprobe_set_mapped(struct tcpprobe *t, const struct stun_addr *server,
                         const struct stun_addr *mapped);

/* Stable words for enum tcpprobe_spec ("confirmed", ...). */
const char *tcpprobe_spec_word(enum tcpprobe_spec s);

/* The UDP tests are done: what is still open gets one round trip
 * (rtt_ms, 0 if unknown) more, a connect awaiting its SYN-ACK at least
 * TCPPROBE_SYN_GRACE_MS from its start, or until its negative is due
 * when one can come (see above). */
void tcpprobe_hurry(struct tcpprobe *t, uint64_t now_ms, uint32_t rtt_ms);

/* Connection (slot) conn is established with this local address. */
void tcpprobe_connected(struct tcpprobe *t, uint64_t now_ms, int conn,
                        const struct stun_addr *local);

/* Connection conn failed (or could not be made). */
void tcpprobe_failed(struct tcpprobe *t, uint64_t now_ms, int conn, enum tcpprobe_fail why);

/* Bytes arrived on connection conn (appended, framed, decoded). */
void tcpprobe_input(struct tcpprobe *t, uint64_t now_ms, int conn, const uint8_t *buf,
                    size_t len);

/* The listener accepted a connection whose first message is buf[0..len)
 * (one whole message, as tcpprobe_frame found it). */
void tcpprobe_accepted(struct tcpprobe *t, uint64_t now_ms, const uint8_t *buf, size_t len);

/* End the run: whatever is open is decided TIMEOUT. */
void tcpprobe_finish(struct tcpprobe *t, uint64_t now_ms);

/* ---------------------------------------------------------------- verdict */

enum tcpprobe_status {
	TCPPROBE_ST_OK = 0,         /* the primary answered over TCP */
	TCPPROBE_ST_REFUSED,        /* the primary's port refused the connection */
	TCPPROBE_ST_BLOCKED,        /* no SYN-ACK at all */
	TCPPROBE_ST_UNREACHABLE,    /* the network said it cannot be reached */
	TCPPROBE_ST_NO_STUN,        /* connected, but no STUN answer */
	TCPPROBE_ST_UNKNOWN         /* cut short, or a local failure */
};

/* Findings of the TCP tests: a code and the test it is about. */
enum tcpprobe_code {
	TCPPROBE_W_TEST = 1,        /* conn's result kept a verdict unknown */
	TCPPROBE_W_NO_ALTERNATE,    /* map's answer had no usable OTHER-ADDRESS
	                               (addr says why) */
	TCPPROBE_W_PORT_NOT_KEPT,   /* a mapping connection did not leave from P0 */
	TCPPROBE_W_INCONSISTENT,    /* alt IP kept the mapping, alt IP+port did not */
	TCPPROBE_W_BAD_MAPPED,      /* hairpin-binding's mapped address is unusable */
	TCPPROBE_W_NO_LISTENER,     /* no listening socket: no hairpin test */
	TCPPROBE_W_ALT_MISMATCH     /* the alternate connections went to the UDP
	                               answer's alternate, and map's OTHER-ADDRESS
	                               names another */
};

struct tcpprobe_warning {
	enum tcpprobe_code code;
	int      conn;              /* enum tcpprobe_kind, or -1 */
	enum tcpprobe_result result;
	enum tcpprobe_addr addr;
};

#define TCPPROBE_MAX_WARN 8

struct tcpprobe_verdict {
	enum tcpprobe_status status;
	enum nat_behavior mapping;
	int      hairpinning;       /* 1 yes, 0 no, -1 unknown or not applicable */
	int      nat;               /* 1: map's mapped address differs from its
	                               local one, 0: it does not, -1 unknown */
	int      has_mapped;
	struct stun_addr mapped;    /* map's mapped address */
	size_t   nwarn;
	struct tcpprobe_warning warn[TCPPROBE_MAX_WARN];
};

/* The TCP verdict from a finished run; never a guess: what the evidence
 * cannot decide is unknown with a warning saying why. */
void tcpprobe_classify(const struct tcpprobe *t, struct tcpprobe_verdict *v);

/* Stable words ("map-alt-ip", "no-synack", "blocked", ...). */
const char *tcpprobe_kind_name(int kind);
const char *tcpprobe_result_name(enum tcpprobe_result r);
const char *tcpprobe_status_word(enum tcpprobe_status s);
const char *tcpprobe_addr_word(enum tcpprobe_addr a);

#endif /* NATCHECK_TCPPROBE_H */
