/*
 * engloop.h - the thin I/O shell around the engines beside probe: the
 * binding lifetime (lifetime.h) and the extra port samples (ports.h).
 * Fresh sockets, poll() and the monotonic clock; no test logic.
 */
#ifndef NATCHECK_ENGLOOP_H
#define NATCHECK_ENGLOOP_H

#include <stddef.h>
#include <stdint.h>

#include "lifetime.h"
#include "ports.h"

/*
 * lifeloop_run: measure the binding lifetime against `server` (the primary
 * address of a server that honours RESPONSE-PORT), looking for lifetimes
 * up to max_ms, with LT_NSOCK fresh sockets on the local address the
 * kernel uses towards it.  tick (may be NULL: no progress line) is called
 * at least every 250 ms with what it does, the time since it began and
 * the longest it can take, and once with done = 1 at the end.  Returns 0
 * with *r filled (r->unsupported / r->no_server say why nothing was
 * measured), or -1 with a one-line reason in err when it could not even
 * start.
 */
int lifeloop_run(const struct stun_addr *server, uint32_t max_ms, int verbose,
                 void (*tick)(void *ctx, const char *doing, uint64_t elapsed_ms,
                              uint64_t most_ms, int done),
                 void *tick_ctx, struct lifetime_result *r, char *err, size_t errlen);

/*
 * portsloop_run: PORTS_EXTRA_NSOCK fresh sockets each ask `dst` for their
 * mapping once (one round trip; rtt_ms is the run's, 0 if unknown); the
 * answers are added to s[0..*n) (cap entries) as later mappings.  Returns
 * 0, or -1 with err set when the sockets could not be opened.
 */
int portsloop_run(const struct stun_addr *dst, uint32_t rtt_ms, int verbose,
                  struct ports_sample *s, size_t *n, size_t cap, char *err, size_t errlen);

#endif /* NATCHECK_ENGLOOP_H */
