/*
 * watch.h - the shell around whole runs: pick the renderer, run the
 * pipeline once or again and again (--watch, --count) with fresh sockets
 * each time, compare verdicts, write the metrics file, draw the progress
 * line on a terminal.  The engines never learn that they are repeated.
 */
#ifndef NATCHECK_WATCH_H
#define NATCHECK_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "monitor.h"
#include "nat.h"

enum watch_format { WATCH_TEXT, WATCH_QUIET, WATCH_JSON, WATCH_PROM, WATCH_NAGIOS };

#define WATCH_MAX_EXPECT 8

struct watch_opts {
	enum watch_format format;
	int      watching;          /* --watch or --count: one line per run */
	uint32_t interval_ms;       /* --watch: start to start; 0: back to back */
	unsigned long count;        /* --count: this many runs; 0: until a signal */
	const char *metrics_file;   /* --metrics-file: also write the exposition here */
	struct monitor_expect expect[WATCH_MAX_EXPECT];
	size_t   nexpect;           /* --expect (WATCH_NAGIOS) */
	const char *server;         /* the first server as host:port, for labels */
};

/*
 * One run of the whole pipeline with fresh sockets: fill r's ran, p, v,
 * exit and error (the rest is watch.c's).  Warnings go to stderr.
 */
typedef void (*watch_run_fn)(void *ctx, struct monitor_run *r);

/*
 * Run as wo says, rendering each run to stdout; lo gets the progress hook
 * when stderr is a terminal and -v is off.  Returns the exit status: a
 * single run's (the plugin state with WATCH_NAGIOS); when watching, the
 * last run's after --count runs, 0 after SIGINT or SIGTERM; 1 when
 * standard output cannot be written.
 */
int watch_main(const struct watch_opts *wo, struct loop_opts *lo, watch_run_fn run,
               void *ctx);

#endif /* NATCHECK_WATCH_H */
