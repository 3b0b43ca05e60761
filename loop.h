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

#define LOOP_MAX_SERVERS PROBE_MAX_SERVERS

/* A server as given on the command line, already split (net_split_hostport). */
struct loop_server {
	const char *spec;           /* the words as given, for messages */
	char     host[NET_HOSTLEN];
	uint16_t port;
};

struct loop_opts {
	struct loop_server servers[LOOP_MAX_SERVERS];
	size_t   nservers;
	int      family;            /* AF_UNSPEC, AF_INET or AF_INET6 */
	int      has_bind;          /* -b: send from this unicast address */
	struct stun_addr bind;      /* its port, when not 0, pins the mapping socket */
	uint32_t timeout_ms;
	int      rfc3489_timing;
	int      verbose;           /* -v: one stderr line per request and response */
	struct portmap *portmap;    /* the port-mapping probes' outcome (portmap.h);
	                               NULL or no_portmap: nothing is asked */
	int      no_portmap;        /* --no-portmap */
	/* When set, called on every turn of the loop (at least every
	 * LOOP_TICK_MS) with the time since the run began, and once more with
	 * done = 1 before loop_detect returns: the shell's progress line. */
	void   (*tick)(void *ctx, uint64_t elapsed_ms, int done);
	void    *tick_ctx;
};

#define LOOP_TICK_MS 250

/* What the loop could not use but worked around: main() reports it. */
struct loop_notes {
	size_t   nskipped;          /* servers that did not resolve */
	char     skipped[LOOP_MAX_SERVERS][NET_ERRLEN];
};

/*
 * loop_detect: resolve the servers (skipping those that do not resolve, as
 * long as one does), open fresh sockets on the local address the kernel
 * uses towards the first one, and drive the engine to the end.  Returns 0
 * with the finished run in *p and what was skipped in *notes, or -1 with a
 * one-line reason in err (errlen bytes) when the run could not start or
 * could not go on (no server resolves, no socket, no OS random source).
 */
int loop_detect(const struct loop_opts *o, struct probe *p, struct loop_notes *notes,
                char *err, size_t errlen);

#endif /* NATCHECK_LOOP_H */
