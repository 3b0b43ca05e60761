/*
 * traversal.h - the traversal facts beyond the NAT type (issue #10): port
 * allocation, the binding lifetime, and the hole-punching forecast,
 * gathered from a finished run and rendered as text lines and JSON keys.
 * Pure: decides nothing itself (ports.c, lifetime.c and forecast.c do),
 * and writes only to the stream it is given.
 */
#ifndef NATCHECK_TRAVERSAL_H
#define NATCHECK_TRAVERSAL_H

#include <stdio.h>

#include "forecast.h"
#include "lifetime.h"
#include "nat.h"
#include "ports.h"
#include "probe.h"

struct traversal {
	struct ports_result ports;
	struct forecast_class classes[FORECAST_NCLASSES];
	int      has_lifetime;      /* --lifetime ran and measured something */
	struct lifetime_result lifetime;
	int      no_keepalive;      /* no NAT and no binding expired: nothing
	                               to keep alive (lifetime.keepalive_ms 0) */
};

/* From a finished run's verdict, the port samples (ports_samples() and
 * any extra ones; sorted in place), and the lifetime run (NULL if none).
 * A lifetime measured with no NAT on the path, where no binding expired,
 * gives no keepalive advice: nothing there keeps state to refresh (a
 * stateful firewall without NAT shows itself by an expiry, and then its
 * timeout is advice worth giving). */
void traversal_build(const struct nat_verdict *v, struct ports_sample *s, size_t n,
                     const struct lifetime_result *lt, struct traversal *t);

/* Are a few more mappings worth one more round trip?  Only behind a NAT
 * whose allocation the run's own samples s[0..n) could not tell; then 1,
 * with *dst the server endpoint to ask (the alternate address, which the
 * tests' filtering sockets never contacted, else the primary). */
int traversal_more_ports(const struct probe *p, const struct nat_verdict *v,
                         const struct ports_sample *s, size_t n, struct stun_addr *dst);

/* Lines for the text report, in its "%-13s" layout; ctx is a const
 * struct traversal * (the shape of monitor_run's text_extra). */
void traversal_text(FILE *out, const void *ctx);

/* The keys "lifetime", "ports" and "forecast", each preceded by a comma,
 * for report_json_ext(); ctx is a const struct traversal *. */
void traversal_json(FILE *out, const void *ctx);

/* --pair: the two hosts and how they connect. */
void traversal_pair_text(FILE *out, const struct forecast_host *a,
                         const struct forecast_host *b, const struct forecast_pair *o);
void traversal_pair_json(FILE *out, const struct forecast_host *a,
                         const struct forecast_host *b, const struct forecast_pair *o);

#endif /* NATCHECK_TRAVERSAL_H */
