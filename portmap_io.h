/*
 * portmap_io.h - the sockets of the port-mapping probes, for the loop.
 *
 * The shell around the portmap engine: it finds the gateway on the path
 * to the STUN server, opens the probe's sockets, performs the engine's
 * sends, connects and closes, and hands every arrival back.  The loop
 * puts these sockets into the same poll() as the STUN engine's.
 */
#ifndef NATCHECK_PORTMAP_IO_H
#define NATCHECK_PORTMAP_IO_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "portmap.h"

struct portmap_io {
	struct portmap *m;
	int      fds[PORTMAP_NSOCK];
	int      verbose;
	uint64_t t0;                /* for -v timestamps */
	int      slot[PORTMAP_NSOCK];   /* pollfd index of each socket, or -1 */
};

/*
 * portmap_gateway: the IPv4 gateway of the route the kernel picks for dst
 * (longest prefix, then lowest metric, in /proc/net/route; policy routing
 * is not followed).  0 with *gw set; -1 when there is none: an on-link
 * destination, IPv6, a loopback destination, or a system without
 * /proc/net/route (then the probes are not run and say null).
 */
int portmap_gateway(const struct stun_addr *dst, struct stun_addr *gw);

/* The same for a route table in the format of /proc/net/route (for tests). */
int portmap_gateway_parse(const char *table, size_t len, const struct stun_addr *dst,
                          struct stun_addr *gw);

/*
 * portmap_io_start: find the gateway towards server, open the sockets on
 * `local`'s address and start m.  With enabled 0, or without a gateway, m
 * is done at once and nothing is sent.  A socket that cannot be opened
 * leaves that protocol unasked (null), never fails the run.
 */
void portmap_io_start(struct portmap_io *io, struct portmap *m, int enabled,
                      const struct stun_addr *server, const struct stun_addr *local,
                      uint32_t timeout_ms, int verbose, uint64_t now_ms);

/* Do what the engine wants now; 1 when it is done, else 0 with *wait_ms.
 * others_done: the caller waits for nothing else (portmap_hurry, with the
 * round trip rtt_ms the STUN tests measured, 0 when none). */
int portmap_io_step(struct portmap_io *io, uint64_t now_ms, int others_done, uint32_t rtt_ms,
                    uint32_t *wait_ms);

/* Fill pfd[] (at most PORTMAP_NSOCK entries) for poll(); returns the count. */
size_t portmap_io_pollfds(struct portmap_io *io, struct pollfd *pfd);

/* After poll(): read what pfd[] (as filled above) says is ready. */
void portmap_io_ready(struct portmap_io *io, const struct pollfd *pfd, uint64_t now_ms);

/* End the run (cut short whatever is open) and close every socket. */
void portmap_io_end(struct portmap_io *io, uint64_t now_ms);

#endif /* NATCHECK_PORTMAP_IO_H */
