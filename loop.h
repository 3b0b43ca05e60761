/*
 * loop.h - the thin I/O shell around the probe engine: resolution, the
 * sockets, poll() and the monotonic clock.  No test logic lives here.
 */
#ifndef NATCHECK_LOOP_H
#define NATCHECK_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "nat.h"
#include "portmap.h"
#include "probe.h"

#define LOOP_MAX_SERVERS PROBE_MAX_SERVERS

struct loop_opts {
	const char *servers[LOOP_MAX_SERVERS];  /* "host", "host:port", "[v6]:port" */
	size_t   nservers;
	int      family;            /* AF_UNSPEC, AF_INET or AF_INET6 */
	const char *bind;           /* -b ADDR[:PORT], or NULL */
	uint32_t timeout_ms;
	int      rfc3489_timing;
	int      verbose;           /* -v: one stderr line per request and response */
	struct portmap *portmap;    /* the port-mapping probes' outcome (portmap.h);
	                               NULL or no_portmap: nothing is asked */
	int      no_portmap;        /* --no-portmap */
};

/*
 * loop_detect: resolve the servers, open fresh sockets on the local address
 * the kernel uses towards the first server, drive the engine to the end and
 * classify.  Returns 0 with *p and *v filled, or -1 with a one-line reason
 * in err (errlen bytes) when the run could not even start.
 */
int loop_detect(const struct loop_opts *o, struct probe *p, struct nat_verdict *v,
                char *err, size_t errlen);

#endif /* NATCHECK_LOOP_H */
