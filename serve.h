/*
 * serve.h - `natcheck --serve`: the socket loop around server_handle().
 */
#ifndef NATCHECK_SERVE_H
#define NATCHECK_SERVE_H

#include <stddef.h>

#include "server.h"

/*
 * server_run: check the endpoints (every address must pass
 * net_check_unicast), bind them and answer until SIGINT or SIGTERM.
 * verbose logs one line per datagram to stderr, with a UTC timestamp.
 * Returns 0 after a clean stop, -1 with err set when the endpoints are
 * refused or the sockets could not be set up.
 */
int server_run(const struct server_cfg *cfg, int verbose, char *err, size_t errlen);

#endif /* NATCHECK_SERVE_H */
