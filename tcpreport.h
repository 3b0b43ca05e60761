/*
 * tcpreport.h - rendering the TCP verdict (--tcp): text lines, the "tcp"
 * JSON member, warnings.  Pure: it prints what tcpprobe_classify() decided.
 */
#ifndef NATCHECK_TCPREPORT_H
#define NATCHECK_TCPREPORT_H

#include <stdio.h>

#include "tcpprobe.h"

/* The TCP lines of the text report ("TCP", "TCP mapping", ...). */
void tcpreport_text(FILE *out, const struct tcpprobe *t, const struct tcpprobe_verdict *v);

/* The value of the "tcp" key: an object, or null when t or v is NULL
 * (no --tcp). */
void tcpreport_json(FILE *out, const struct tcpprobe *t, const struct tcpprobe_verdict *v);

/* Each warning as "natcheck: warning: TCP: ..." on its own line. */
void tcpreport_warnings(FILE *out, const struct tcpprobe_verdict *v);

/* One warning as a sentence into buf (cap bytes); returns buf. */
const char *tcpreport_warning_text(const struct tcpprobe_warning *w, char *buf, size_t cap);

#endif /* NATCHECK_TCPREPORT_H */
