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
#include "probe.h"

/* The human-readable verdict, one fact per line. */
void report_text(FILE *out, const struct probe *p, const struct nat_verdict *v);

/* Exactly one JSON object followed by a newline (keys in natcheck.1, OUTPUT). */
void report_json(FILE *out, const struct probe *p, const struct nat_verdict *v);

/* The same object with more keys: extra (may be NULL) writes them, each
 * preceded by a comma, just before the closing brace. */
void report_json_ext(FILE *out, const struct probe *p, const struct nat_verdict *v,
                     void (*extra)(FILE *out, const void *ctx), const void *ctx);

/* The verdict word only ("port-restricted-cone"). */
void report_quiet(FILE *out, const struct nat_verdict *v);

/* Each warning as "natcheck: warning: ..." on its own line. */
void report_warnings(FILE *out, const struct nat_verdict *v);

/* Write s as a JSON string literal, quotes included, escaping everything
 * outside printable ASCII. */
void report_json_string(FILE *out, const char *s);

#endif /* NATCHECK_REPORT_H */
