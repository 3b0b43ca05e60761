/*
 * monitor.h - the renderers for monitoring: the JSON envelope (schema,
 * time, exit, changed), the one-line --watch record, the Prometheus text
 * exposition and the Monitoring Plugins (Nagios/Icinga) status line.
 *
 * Pure: like report.c, these only print what a finished run recorded to
 * the stream given, and decide nothing about the NAT.  The run itself, the
 * clock, the repetition and the files are watch.c's.
 */
#ifndef NATCHECK_MONITOR_H
#define NATCHECK_MONITOR_H

#include <stdint.h>
#include <stdio.h>

#include "nat.h"
#include "probe.h"
#include "report.h"

/* The "schema" key of every JSON object: bumped only when a key changes
 * meaning (keys are only ever added, which does not bump it). */
#define MONITOR_SCHEMA 1

#define MONITOR_ERRLEN 512
#define MONITOR_TIMELEN 32          /* "2026-11-27T10:04:53Z" and room */

/* One whole run of the pipeline, as the renderers see it. */
struct portmap;
struct tcpprobe;
struct tcpprobe_verdict;

struct monitor_run {
	int      ran;               /* 1: the tests ran; p and v are the result */
	const struct probe *p;
	const struct nat_verdict *v;
	const struct portmap *pm;   /* the port-mapping probes (portmap.h), or NULL */
	const struct tcpprobe *tcp; /* --tcp: the TCP tests (tcpprobe.h), else NULL */
	const struct tcpprobe_verdict *tcpv;    /* and their verdict */
	int      exit;              /* the exit status this run maps to */
	char     error[MONITOR_ERRLEN]; /* why the run is an error; "" if none */
	int64_t  start_s;           /* wall clock at the start, Unix seconds */
	uint32_t start_ms;          /* and milliseconds within that second */
	double   elapsed_s;         /* how long the whole run took */
	const char *server;         /* the first server as host:port (a label) */
	int      has_fam;           /* fam and primary are set (the tests ran) */
	int      primary;           /* the family p and v describe (0 IPv4, 1 IPv6) */
	struct report_family fam[REPORT_NFAM]; /* each family: its run, or why not */
	/* More of the run for a single run's text and JSON: the traversal
	 * facts, of the family p and v describe.  json_extra writes top-level
	 * keys, each after a comma, after the families' objects; text_extra
	 * writes lines after the text report.  Either may be NULL; both get
	 * extra. */
	void   (*json_extra)(FILE *out, const void *ctx);
	void   (*text_extra)(FILE *out, const void *ctx);
	const void *extra;
};

/* What a --watch run is compared by: the verdict and the mapped address,
 * of the top level and of each address family (an untested family has
 * neither: its values are NULL and ""). */
#define MONITOR_NKEYS 5
struct monitor_values {
	const char *val[MONITOR_NKEYS - 1]; /* type, mapping, filtering,
	                               hairpinning: static words, NULL after an error */
	char     mapped[64];        /* the mapped IP address, "" when unknown */
};
struct monitor_state {
	int      valid;             /* 0: no run yet, nothing to compare */
	struct monitor_values top;  /* the top-level keys */
	struct monitor_values fam[REPORT_NFAM]; /* "ipv4.*", "ipv6.*" */
};

/* Bit of key k (index into monitor_key_names) of family f in a change
 * mask: the top-level keys are bits 0..4, then IPv4's, then IPv6's. */
#define MONITOR_FAM_BIT(f, k) (1u << (MONITOR_NKEYS * (1 + (f)) + (k)))

/* The keys of monitor_state, in the JSON's names. */
extern const char *const monitor_key_names[MONITOR_NKEYS + 1];

/* Snapshot r's verdict into *s. */
void monitor_state_of(const struct monitor_run *r, struct monitor_state *s);

/* Which keys differ between prev and cur, as a bit mask: bit k for the
 * top-level key monitor_key_names[k] (the last is "mapped"), and
 * MONITOR_FAM_BIT(f, k) for the same key of family f; 0 when prev is not
 * valid yet. */
unsigned monitor_changes(const struct monitor_state *prev, const struct monitor_state *cur);

/* t as RFC 3339 UTC with milliseconds ("2026-11-27T10:04:53.120Z"). */
void monitor_time(int64_t s, uint32_t ms, char *buf, size_t len);

/* The JSON members that go first in every object, without braces:
 * "schema":1,"time":"...","exit":N, then "changed":[...] when watching is
 * set, then "error":"..." when the run has one. */
void monitor_json_head(FILE *out, const struct monitor_run *r, int watching,
                       unsigned changed);

/* The JSON object of a run that produced no verdict: the head alone. */
void monitor_json_error(FILE *out, const struct monitor_run *r, int watching,
                        unsigned changed);

/* One --watch line for a person: time, verdict, mapped address, time
 * taken, exit status, and "changed=..." when something changed. */
void monitor_text_line(FILE *out, const struct monitor_run *r, unsigned changed);

/* The Prometheus text exposition (version 0.0.4) of a run. */
void monitor_prom(FILE *out, const struct monitor_run *r);

/* Monitoring Plugins states. */
enum monitor_state_code {
	MONITOR_OK = 0, MONITOR_WARNING = 1, MONITOR_CRITICAL = 2, MONITOR_UNKNOWN = 3
};

/* One --expect word: a type the top level (family -1) or one family
 * (0 IPv4, 1 IPv6: the word "ipv6:open") may have. */
struct monitor_expect {
	enum nat_type type;
	int      family;
};

/* The plugin state of a run given the expected types (nexpect of them):
 * each scope that has words (the top level, IPv4, IPv6) is OK when its
 * type is one of them, CRITICAL when it is another, UNKNOWN when it has
 * none (not tested, no server reachable, unknown); the run's state is the
 * worst, CRITICAL before UNKNOWN. */
enum monitor_state_code monitor_nagios_state(const struct monitor_run *r,
                                             const struct monitor_expect *expect, size_t nexpect);

/* The plugin's one status line with performance data, for state st. */
void monitor_nagios(FILE *out, const struct monitor_run *r, enum monitor_state_code st,
                    const struct monitor_expect *expect, size_t nexpect);

/* The type for a JSON type word ("full-cone") or its RFC 3489 name
 * ("Full Cone"), matched without regard to case, spaces, hyphens and
 * underscores ("Full-Cone", "fullcone"); or -1. */
int monitor_type_of_word(const char *word, enum nat_type *t);

#endif /* NATCHECK_MONITOR_H */
