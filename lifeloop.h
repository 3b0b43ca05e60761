/*
 * lifeloop.h - the thin I/O shell around the lifetime engine (lifetime.h):
 * its sockets, poll() and the monotonic clock.  No test logic lives here.
 */
#ifndef NATCHECK_LIFELOOP_H
#define NATCHECK_LIFELOOP_H

#include <stddef.h>
#include <stdint.h>

#include "lifetime.h"

/*
 * lifeloop_run: measure the binding lifetime against `server` (the primary
 * address of a server that honours RESPONSE-PORT), looking for lifetimes
 * up to max_ms, with LT_NSOCK fresh sockets on the local address the
 * kernel uses towards it.  Returns 0 with *r filled (r->unsupported /
 * r->no_server say why nothing was measured), or -1 with a one-line
 * reason in err when it could not even start.
 */
int lifeloop_run(const struct stun_addr *server, uint32_t max_ms, int verbose,
                 struct lifetime_result *r, char *err, size_t errlen);

#endif /* NATCHECK_LIFELOOP_H */
