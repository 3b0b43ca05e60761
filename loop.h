/*
 * loop.h - the thin I/O shell around the probe engine: resolution, the
 * sockets, poll() and the monotonic clock.  No test logic and no decision
 * live here: the loop hands back the finished run (the observations) and
 * main() has them classified and reported.
 */
#ifndef NATCHECK_LOOP_H
#define NATCHECK_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "portmap.h"
#include "probe.h"
#include "tcpprobe.h"

#define LOOP_MAX_SERVERS PROBE_MAX_SERVERS

/* A server as given on the command line, already split (net_split_hostport,
 * or a stun: URI). */
struct loop_server {
	const char *spec;           /* the words as given, for messages */
	char     host[NET_HOSTLEN];
	uint16_t port;
	int      literal;           /* host is an IP address (net_parse_literal) ... */
	struct stun_addr addr;      /* ... this one, its zone kept; port 0 */
};

struct loop_opts {
	struct loop_server servers[LOOP_MAX_SERVERS];
	size_t   nservers;
	int      family;            /* AF_UNSPEC, AF_INET or AF_INET6 */
	int      has_bind;          /* -b: send from this unicast address */
	struct stun_addr bind;      /* its port, when not 0, pins the mapping socket */
	uint32_t timeout_ms;
	uint32_t resolve_ms;        /* the names are resolved within this, before
	                               the tests (0: timeout_ms) */
	int      rfc3489_timing;
	int      verbose;           /* -v: one stderr line per request and response */
	struct portmap *portmap;    /* the port-mapping probes' outcome (portmap.h);
	                               NULL or no_portmap: nothing is asked */
	int      no_portmap;        /* --no-portmap */
	struct tcpprobe *tcp;       /* --tcp: the TCP tests' run (tcpprobe.h);
	                               NULL: no TCP test */
	/* When set, called on every turn of the loop (at least every
	 * LOOP_TICK_MS) with what it is doing ("resolving 8 names",
	 * "testing"), the time since the run began and the longest it can
	 * take from there, and once more with done = 1 before loop_detect
	 * returns: the shell's progress line. */
	void   (*tick)(void *ctx, const char *doing, uint64_t elapsed_ms, uint64_t most_ms,
	               int done);
	void    *tick_ctx;
};

#define LOOP_TICK_MS 250

/* One engine per address family, in this order. */
#define LOOP_NFAM 2
#define LOOP_FAM_IPV4 0
#define LOOP_FAM_IPV6 1

/* Why a family was not tested (LOOP_TESTED: it was). */
enum loop_why {
	LOOP_TESTED,
	LOOP_NOT_ASKED,             /* -4, -6 or -b chose the other family */
	LOOP_NO_ADDRESS,            /* no server has an address of this family */
	LOOP_NO_ROUTE,              /* no local address or route towards it */
	LOOP_NO_SOCKET              /* no UDP socket of this family */
};

struct loop_family {
	enum loop_why why;
	char     reason[NET_ERRLEN]; /* one sentence when not tested, else "" */
};

/* What the loop could not use but worked around: main() reports it. */
struct loop_notes {
	size_t   nskipped;          /* servers that did not resolve, or that are
	                               another's address again: one line each */
	char     skipped[LOOP_MAX_SERVERS][NET_ERRLEN];
	size_t   nresolved;         /* servers with an address (0: the run's error
	                               is that nothing resolves) */
	struct loop_family fam[LOOP_NFAM]; /* each family: tested, or why not */
	int      primary;           /* the family the top-level verdict describes:
	                               IPv4 when it was tested, else IPv6 */
};

/* The stable JSON word of a loop_why ("no-route"). */
const char *loop_why_word(enum loop_why w);

/*
 * loop_detect: resolve the servers, all at once within resolve_ms
 * (resolve_io.h; skipping those that do not resolve, as long as one
 * does), and for each address family asked for (both unless
 * -4, -6 or -b restrict it) and reachable from here, open fresh sockets on
 * the local address the kernel uses towards that family's first server;
 * then drive the engines, one per family, in one poll() to the end.  A
 * family that cannot be tested (no address, no route, no socket) is noted
 * in notes->fam before anything is sent, and the other goes on.  Returns 0 with each finished
 * run in *p[family] (LOOP_FAM_IPV4, LOOP_FAM_IPV6) and what was skipped in
 * *notes, or -1 with a one-line reason in err (errlen bytes) when no family
 * could start or the run could not go on (no server resolves, no socket,
 * no OS random source).
 */
int loop_detect(const struct loop_opts *o, struct probe *const p[LOOP_NFAM],
                struct loop_notes *notes, char *err, size_t errlen);

#endif /* NATCHECK_LOOP_H */
