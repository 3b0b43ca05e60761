/*
 * serve.h - `natcheck --serve`: the socket loop around server_handle().
 */
#ifndef NATCHECK_SERVE_H
#define NATCHECK_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

/* Address pairs served at once: one per family (IPv4, IPv6). */
#define SERVE_MAX_GRIDS 2

/* How often --metrics-file is rewritten. */
#define SERVE_METRICS_MS 10000

/* The shell's policies around server_handle(). */
struct serve_opts {
	int      verbose;           /* one timestamped line per datagram */
	uint32_t rate;              /* requests per second per source (ratelimit.h); 0: off */
	int      tcp;               /* also listen on TCP on every endpoint */
	const char *user;           /* drop to this user after binding, or NULL */
	const char *metrics_file;   /* Prometheus text, every SERVE_METRICS_MS and at exit */
};

/*
 * server_run: check the endpoints of cfg[0..ncfg) (one grid per address
 * family, at most SERVE_MAX_GRIDS; every address must pass
 * net_check_unicast), bind them, drop privileges to o->user, and answer
 * until SIGINT or SIGTERM.  SIGUSR1 prints the counters to stderr; they
 * are printed at exit as well.  Returns 0 after a clean stop, -1 with err
 * set when the endpoints are refused, the sockets could not be set up or
 * the privileges could not be dropped.
 */
int server_run(const struct server_cfg *cfg, size_t ncfg, const struct serve_opts *o,
               char *err, size_t errlen);

#endif /* NATCHECK_SERVE_H */
