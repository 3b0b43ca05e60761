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

/* The same object with more keys: extra (may be NULL) writes them, each
 * preceded by a comma, just before the closing brace. */
void report_json_ext(FILE *out, const struct probe *p, const struct nat_verdict *v,
                     const struct portmap *pm, void (*extra)(FILE *out, const void *ctx),
                     const void *ctx);

/* The verdict word only ("port-restricted-cone"). */
void report_quiet(FILE *out, const struct nat_verdict *v);

/* Each finding as "natcheck: warning: ..." on its own line. */
void report_warnings(FILE *out, const struct nat_verdict *v);

/* Room for one finding's sentence (a longer one is cut). */
#define REPORT_FINDING_LEN 320

/* A finding as one English sentence into buf (cap bytes); returns buf. */
const char *report_finding_text(const struct nat_finding *f, char *buf, size_t cap);

/* The stable JSON word of a code ("no-stun-server"); "unknown" for none. */
const char *report_code_word(enum nat_code c);

/* Write s as a JSON string literal, quotes included, escaping everything
 * outside printable ASCII. */
void report_json_string(FILE *out, const char *s);

#endif /* NATCHECK_REPORT_H */
