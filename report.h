/*
 * report.h - rendering a verdict as text, as one JSON object, or as one word.
 *
 * The report decides nothing: it prints what nat_classify() and the probe
 * run recorded.  All output goes to the stream given.
 */
#ifndef NATCHECK_REPORT_H
#define NATCHECK_REPORT_H

#include <stdio.h>

#include "nat.h"
#include "portmap.h"
#include "probe.h"

/* The human-readable verdict, one fact per line; pm (the port-mapping
 * probes, or NULL) adds the Gateway, External and Double NAT lines. */
void report_text(FILE *out, const struct probe *p, const struct nat_verdict *v,
                 const struct portmap *pm);

/* Exactly one JSON object followed by a newline (keys in natcheck.1, OUTPUT);
 * pm adds the "portmap" object. */
void report_json(FILE *out, const struct probe *p, const struct nat_verdict *v,
                 const struct portmap *pm);

/* How long the run's tests took: first send to verdict, in ms (the JSON's
 * "elapsed_ms"). */
uint64_t report_elapsed_ms(const struct probe *p);

/* One address family of a run, as the renderers see it. */
struct report_family {
	int      tested;            /* 1: p and v are this family's run */
	int      asked;             /* 0: -4, -6 or -b left it out on purpose */
	const char *why;            /* not tested: a stable word ("no-route") */
	const char *reason;         /* not tested: one sentence */
	const struct probe *p;
	const struct nat_verdict *v;
};

/* Index of the families in the arrays below. */
#define REPORT_NFAM 2               /* IPv4, then IPv6 */

/* The verdict's JSON members alone, without the braces: what report_json
 * puts between them. */
void report_json_members(FILE *out, const struct probe *p, const struct nat_verdict *v,
                         const struct portmap *pm);

/* The "ipv4" and "ipv6" members, each with a leading comma: the family's
 * whole verdict with "tested":true, or "tested":false and why
 * (natcheck.1, OUTPUT). */
void report_json_families(FILE *out, const struct report_family fam[REPORT_NFAM]);

/* The text report of a run over both families: the top-level family's
 * (primary) block as report_text prints it, then the other's; each under
 * an "IPv4"/"IPv6" title when both were tested, and one "not tested" line
 * for a family that was asked for but could not be tested.  extra (may be
 * NULL) writes more lines of the primary family's at the end of its block. */
void report_text_families(FILE *out, const struct report_family fam[REPORT_NFAM],
                          int primary, const struct portmap *pm,
                          void (*extra)(FILE *out, const void *ctx), const void *ctx);

/* report_json's object with more keys: extra (may be NULL) writes them, each
 * preceded by a comma, just before the closing brace. */
void report_json_ext(FILE *out, const struct probe *p, const struct nat_verdict *v,
                     const struct portmap *pm, void (*extra)(FILE *out, const void *ctx),
                     const void *ctx);

/* The verdict word only ("port-restricted-cone"). */
void report_quiet(FILE *out, const struct nat_verdict *v);

/* Each finding as "natcheck: warning: ..." on its own line. */
void report_warnings(FILE *out, const struct nat_verdict *v);

/* The same, each sentence after tag ("IPv6: "; "" for none). */
void report_warnings_tagged(FILE *out, const char *tag, const struct nat_verdict *v);

/* report_warnings_tagged for the verdict a run's error speaks for: when no
 * server could be reached (v->unreachable), the error line names every
 * address the network refused, so their findings (no-stun-server,
 * unreachable) are left out here; they are said once. */
void report_warnings_beside_error(FILE *out, const char *tag, const struct nat_verdict *v);

/* Room for one finding's sentence (a longer one is cut). */
#define REPORT_FINDING_LEN 320

/* A finding as one English sentence into buf (cap bytes); returns buf. */
const char *report_finding_text(const struct nat_finding *f, char *buf, size_t cap);

/* The stable JSON word of a code ("no-stun-server"); "unknown" for none. */
const char *report_code_word(enum nat_code c);

/* Write s as a JSON string literal, quotes included, escaping everything
 * outside printable ASCII. */
void report_json_string(FILE *out, const char *s);

/* "key":"addr:port", or "key":null when !has; no comma before it. */
void report_json_addr(FILE *out, const char *key, int has, const struct stun_addr *a);

#endif /* NATCHECK_REPORT_H */
