/*
 * tcpprobe_io.h - the sockets of the TCP tests (--tcp), for the loop.
 *
 * The shell around the tcpprobe engine: non-blocking connects from one
 * local port to several destinations (SO_REUSEADDR, and SO_REUSEPORT where
 * the system has it), a listening socket for the hairpin test, reads and
 * writes.  The loop puts these sockets into the same poll() as the UDP
 * engine's, with the same five calls as portmap_io.h.
 */
#ifndef NATCHECK_TCPPROBE_IO_H
#define NATCHECK_TCPPROBE_IO_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpprobe.h"

/* Connections the listener holds at once: more than the hairpin test's
 * attempts, so that ours never push each other out. */
#define TCPPROBE_NACCEPT  (TCPPROBE_HAIR_TRIES + 2)
#define TCPPROBE_IO_NFDS  (TCPPROBE_NSLOT + 1 + TCPPROBE_NACCEPT)

struct tcpprobe_io {
	struct tcpprobe *t;
	int      fd[TCPPROBE_NSLOT];  /* per connection slot (tcpprobe.h) */
	int      lfd;               /* the listener on P1, or -1 */
	int      afd[TCPPROBE_NACCEPT];
	size_t   alen[TCPPROBE_NACCEPT];
	uint8_t  abuf[TCPPROBE_NACCEPT][TCPPROBE_RXCAP];
	unsigned evict;             /* the accepted slot to give up next */
	int      told[TCPPROBE_NCONN];  /* -v: the test's end was said */
	int      told_spec;         /* -v: what became of the hairpin guess */
	int      slot[TCPPROBE_IO_NFDS];  /* pollfd index of each fd, or -1 */
	int      verbose;
	int      random_failed;
	uint64_t t0;
};

/*
 * tcpprobe_io_start: with enabled, open the listener and reserve the two
 * local ports on local's address, and start t towards server; host (NULL:
 * unknown) is this host's addresses, for the address rules.  A socket
 * that cannot be opened leaves its tests not run (the verdict says why);
 * it never fails the run.  With enabled 0, t is done at once.
 */
void tcpprobe_io_start(struct tcpprobe_io *io, struct tcpprobe *t, int enabled,
                       const struct stun_addr *server, const struct stun_addr *local,
                       const struct addr_host *host, uint32_t timeout_ms, int verbose,
                       uint64_t now_ms);

/* Do what the engine wants now; 1 when it is done, else 0 with *wait_ms.
 * pace: the UDP engine's (probe_pace), which paces the redundant
 * attempts; udp_done: the UDP tests are over (the TCP tests are hurried,
 * with pace's round trip, if any). */
int tcpprobe_io_step(struct tcpprobe_io *io, uint64_t now_ms, int udp_done,
                     const struct probe_pace *pace, uint32_t *wait_ms);

/* Fill pfd[] (at most TCPPROBE_IO_NFDS entries); returns the count. */
size_t tcpprobe_io_pollfds(struct tcpprobe_io *io, struct pollfd *pfd);

/* After poll(): handle what pfd[] (as filled above) says is ready. */
void tcpprobe_io_ready(struct tcpprobe_io *io, const struct pollfd *pfd, uint64_t now_ms);

/* End the run (what is open is decided) and close every socket. */
void tcpprobe_io_end(struct tcpprobe_io *io, uint64_t now_ms);

#endif /* NATCHECK_TCPPROBE_IO_H */
