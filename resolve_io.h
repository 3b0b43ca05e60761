/*
 * resolve_io.h - the servers' names to addresses, all at once, in a
 * bounded time, single-threaded: the I/O shell around the stub resolver
 * engine (resolve.h).  It reads hosts(5) and resolv.conf(5), owns the
 * sockets and the clock, and runs one poll() until every name is settled
 * or the limit has passed.
 */
#ifndef NATCHECK_RESOLVE_IO_H
#define NATCHECK_RESOLVE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "net.h"

/* The files; a test may mount others over them (a private mount
 * namespace), never change these names. */
#define RESOLVE_HOSTS_FILE "/etc/hosts"
#define RESOLVE_CONF_FILE  "/etc/resolv.conf"

/* One server after resolution. */
struct resolve_out {
	int      has[2];            /* [0] an IPv4 address, [1] an IPv6 address */
	struct stun_addr addr[2];   /* with the server's port (and zone) */
	char     why[NET_ERRLEN];   /* with neither: why, in a few words */
	uint32_t ms;                /* how long it took */
};

/*
 * resolve_servers: the addresses of s[0..n) of the families asked for
 * (want[0] IPv4, want[1] IPv6), all at the same time: an address as it
 * is; a name from hosts(5) when it is there (and then from there alone),
 * else from DNS through the nameservers of resolv.conf(5), every
 * name and family at once, until all are settled or limit_ms has passed.
 * verbose: one stderr line per query sent and per name settled.  tick
 * (may be NULL) is called at least every LOOP_TICK_MS with the time
 * since the start.  0 with out[i] for every server, or -1 with err when
 * it could not run at all (no OS random source, poll failed).
 */
int resolve_servers(const struct loop_server *s, size_t n, const int want[2], uint32_t limit_ms,
                    int verbose, void (*tick)(void *ctx, uint64_t elapsed_ms), void *tick_ctx,
                    struct resolve_out *out, char *err, size_t errlen);

#endif /* NATCHECK_RESOLVE_IO_H */
