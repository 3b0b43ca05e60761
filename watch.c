/*
 * watch.c - whole runs, once or again and again, and where they go.
 *
 * Repetition is this shell running the whole pipeline again (main's run
 * function: fresh sockets, the engine, the classification), never the
 * engine keeping state: an earlier run's NAT state must not change the
 * next answer.  Runs never overlap: the next one starts --watch seconds
 * after the previous one started, or right after it ended when it took
 * longer.  Each run's record is written and flushed whole, so a reader
 * of a pipe (jq) sees it at once, and a SIGINT or SIGTERM lets the
 * current run finish and its line out before the program ends.
 *
 * The metrics file is written beside its destination and renamed into
 * place (rename(2) is atomic within a file system), so node_exporter's
 * textfile collector never reads half a file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "outfile.h"
#include "report.h"
#include "tcpreport.h"
#include "watch.h"

/* The progress line appears only on a terminal, and only for runs longer
 * than this (a normal run ends well before). */
#define PROGRESS_AFTER_MS 2000

/* Between runs, the flag set by a signal is looked at this often. */
#define WATCH_NAP_MS 100

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* SIGINT and SIGTERM end the watch after the current run; without
 * SA_RESTART, a wait they interrupt returns at once (poll's EINTR is
 * retried by the loop, which then finishes its run).  SA_RESETHAND: a
 * second one, from someone who will not wait for a long run, ends the
 * program at once, as usual. */
static void
catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---------------------------------------------------------------- progress */

struct progress {
	unsigned long shown_s;      /* the second last drawn; 0: nothing drawn */
};

/* The loop's tick: "natcheck: testing, 3 s (at most 20 s)" - or
 * "resolving 8 names", "measuring the binding lifetime" - on one line of
 * the terminal, rewritten each second, erased when the run ends. */
static void
progress_tick(void *vctx, const char *doing, uint64_t elapsed_ms, uint64_t most_ms, int done)
{
	struct progress *pr = vctx;
	unsigned long s = (unsigned long)(elapsed_ms / 1000);

	if (done) {
		if (pr->shown_s != 0)
			fputs("\r\033[K", stderr);
		pr->shown_s = 0;
		return;
	}
	if (elapsed_ms < PROGRESS_AFTER_MS || s == pr->shown_s)
		return;
	fprintf(stderr, "\rnatcheck: %s, %lu s (at most %lu s)\033[K", doing, s,
	    (unsigned long)((most_ms + 999) / 1000));
	pr->shown_s = s;
}

/* ---------------------------------------------------------------- output */

/* The run's JSON: the head (schema, time, exit, ...), the top-level
 * verdict's keys, the families' objects, then the run's extra keys
 * (the traversal facts), as one object. */
static int
json_run(FILE *out, const struct monitor_run *r, int watching, unsigned changed)
{
	if (!r->ran) {
		monitor_json_error(out, r, watching, changed);
		return 0;
	}
	fputc('{', out);
	monitor_json_head(out, r, watching, changed);
	fputc(',', out);
	report_json_members(out, r->p, r->v, r->pm);
	if (r->has_fam)
		report_json_families(out, r->fam);
	/* "tcp" (null without --tcp): the TCP verdict is one member more. */
	fputs(",\"tcp\":", out);
	tcpreport_json(out, r->tcp, r->tcpv);
	if (r->json_extra != NULL)
		r->json_extra(out, r->extra);
	fputs("}\n", out);
	return 0;
}

/* A single run's text: the families' reports, the run's extra lines (the
 * traversal facts) at the end of the top-level family's block, then the
 * TCP verdict. */
static void
text_run(FILE *out, const struct monitor_run *r)
{
	if (r->has_fam) {
		report_text_families(out, r->fam, r->primary, r->pm, r->text_extra, r->extra);
	} else {
		report_text(out, r->p, r->v, r->pm);
		if (r->text_extra != NULL)
			r->text_extra(out, r->extra);
	}
	if (r->tcp != NULL && r->tcpv != NULL)
		tcpreport_text(out, r->tcp, r->tcpv);
}

/* The exposition of one run, for outfile_write(). */
static void
prom_to(FILE *f, const void *r)
{
	monitor_prom(f, r);
}

/* Render one run to stdout as wo says (st: the plugin state, for
 * WATCH_NAGIOS); -1 when stdout cannot be written. */
static int
render(const struct watch_opts *wo, const struct monitor_run *r, unsigned changed,
       enum monitor_state_code st)
{
	int rc = 0;

	switch (wo->format) {
	case WATCH_JSON:
		rc = json_run(stdout, r, wo->watching, changed);
		break;
	case WATCH_PROM:
		monitor_prom(stdout, r);
		break;
	case WATCH_NAGIOS:
		monitor_nagios(stdout, r, st, wo->expect, wo->nexpect);
		break;
	case WATCH_QUIET:
		if (wo->watching && !r->ran)
			fputs("error\n", stdout);
		else if (r->ran)
			report_quiet(stdout, r->v);
		break;
	case WATCH_TEXT:
		if (wo->watching)
			monitor_text_line(stdout, r, changed);
		else if (r->ran)
			text_run(stdout, r);
		break;
	}
	if (fflush(stdout) == EOF || ferror(stdout) || rc == -1) {
		fprintf(stderr, "natcheck: writing the result: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* One run with its wall-clock start and duration. */
static void
one_run(watch_run_fn run, void *ctx, const struct watch_opts *wo, struct monitor_run *r)
{
	struct timespec ts;
	uint64_t t0;

	memset(r, 0, sizeof(*r));
	r->server = wo->server;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->start_s = (int64_t)ts.tv_sec;
	r->start_ms = (uint32_t)(ts.tv_nsec / 1000000);
	t0 = net_now_ms();
	run(ctx, r);
	r->elapsed_s = (double)(net_now_ms() - t0) / 1000.0;
}

/* Sleep until the monotonic time `until`, or a stop signal. */
static void
nap_until(uint64_t until)
{
	for (uint64_t now = net_now_ms(); now < until && !stop_requested; now = net_now_ms()) {
		uint64_t ms = until - now < WATCH_NAP_MS ? until - now : WATCH_NAP_MS;
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

int
watch_main(const struct watch_opts *wo, struct loop_opts *lo, watch_run_fn run, void *ctx)
{
	static struct monitor_run r;
	struct monitor_state prev, cur;
	static struct progress pr;
	int status = 0;

	memset(&prev, 0, sizeof(prev));
	memset(&pr, 0, sizeof(pr));
	if (isatty(STDERR_FILENO) && !lo->verbose) {
		lo->tick = progress_tick;
		lo->tick_ctx = &pr;
	}
	if (wo->watching)
		catch_stop_signals();
	for (unsigned long n = 0; wo->count == 0 || n < wo->count; n++) {
		uint64_t started = net_now_ms();
		unsigned changed;
		char merr[MONITOR_ERRLEN];
		enum monitor_state_code st;
		int mfail = 0;

		one_run(run, ctx, wo, &r);
		monitor_state_of(&r, &cur);
		changed = monitor_changes(&prev, &cur);
		prev = cur;
		/* The metrics file first: a single run that cannot write it is an
		 * error, and what it prints must say so (the plugin's UNKNOWN,
		 * JSON's exit 1 and error), not a state it will not exit with.
		 * A watch says so on stderr and goes on. */
		if (wo->metrics_file != NULL &&
		    outfile_write(wo->metrics_file, prom_to, &r, merr, sizeof(merr)) == -1) {
			mfail = 1;
			if (wo->watching) {
				fprintf(stderr, "natcheck: %s\n", merr);
			} else {
				size_t n = strlen(r.error);

				snprintf(r.error + n, sizeof(r.error) - n, "%s%s", n > 0 ? "; " : "",
				    merr);
				r.exit = 1;
			}
		}
		st = monitor_nagios_state(&r, wo->expect, wo->nexpect);
		if (mfail && !wo->watching)
			st = MONITOR_UNKNOWN;
		status = wo->format == WATCH_NAGIOS ? (int)st : r.exit;
		if (render(wo, &r, changed, st) == -1)
			return 1;
		if (r.error[0] != '\0')
			fprintf(stderr, "natcheck: %s\n", r.error);
		if (!wo->watching)
			break;
		if (stop_requested)
			return 0;
		if (wo->count != 0 && n + 1 >= wo->count)
			break;
		nap_until(started + wo->interval_ms);
		if (stop_requested)
			return 0;
	}
	return status;
}
