/*
 * logsum.h - bounded -v logging for `natcheck --serve`.
 *
 * Under -v the server logs one line per datagram and per TCP event.  A
 * flood would make that a flood of log (one TCP connection once made a -v
 * server write 231 MB in 25 s), so the lines go through this budget:
 * within an interval of LOGSUM_INTERVAL_MS, each source (an IPv4 address,
 * an IPv6 /64) has its first LOGSUM_LINES lines logged in full; past
 * that, its events are only counted, by kind, and the interval ends with
 * one summary line per such source, with the counts.  LOGSUM_SLOTS
 * sources have a budget of their own per interval; the rest, and events
 * without a source, share one more.  So an interval logs at most
 * (LOGSUM_SLOTS + 1) x (LOGSUM_LINES + 1) lines, whatever arrives.  A
 * natcheck run (up to about 80 requests) stays within one source's
 * budget, so -v still shows every request of an ordinary client.
 *
 * Pure: no I/O, no clock (the caller passes the time in milliseconds);
 * the summary lines are handed to a callback.
 */
#ifndef NATCHECK_LOGSUM_H
#define NATCHECK_LOGSUM_H

#include <stddef.h>
#include <stdint.h>

#include "stun.h"

#define LOGSUM_INTERVAL_MS 10000
#define LOGSUM_LINES       100      /* full lines per source per interval */
#define LOGSUM_SLOTS       16       /* sources with a budget of their own */
#define LOGSUM_LINELEN     256      /* a summary line, NUL included */

/* What an event was, for the counts of a summary. */
enum logsum_kind {
	LOGSUM_ANSWERED,            /* a success answer */
	LOGSUM_ERROR,               /* an error answer */
	LOGSUM_DROPPED,             /* dropped: not STUN, not ours, truncated */
	LOGSUM_RATELIMITED,         /* dropped: over a --rate limit */
	LOGSUM_TCP,                 /* a TCP connection accepted, closed, refused */
	LOGSUM_OTHER,               /* send and receive errors */
	LOGSUM_NKINDS
};

struct logsum_entry {
	uint8_t  family;            /* 4, 6; 0: free (or, for `rest`, no source) */
	uint8_t  key[8];            /* the IPv4 address, the IPv6 /64 */
	uint32_t lines;             /* logged in full this interval */
	uint64_t quiet[LOGSUM_NKINDS];  /* counted, not logged */
};

struct logsum {
	int      open;              /* an interval is running */
	uint64_t start_ms;          /* when it began */
	size_t   used;              /* entries in e[] */
	struct logsum_entry e[LOGSUM_SLOTS];
	struct logsum_entry rest;   /* every other source */
};

/* Called with each summary line (no newline). */
typedef void (*logsum_fn)(void *ctx, const char *line);

/* No interval running, nothing counted. */
void logsum_init(struct logsum *ls);

/* 1 when the line for an event of this kind from src (NULL: no source) at
 * now_ms may be logged in full; 0 when it is only counted.  The caller
 * calls logsum_flush() first once logsum_due() says so. */
int logsum_note(struct logsum *ls, const struct stun_addr *src, enum logsum_kind kind,
                uint64_t now_ms);

/* When the running interval ends, and its summaries are due; UINT64_MAX
 * when none is running. */
uint64_t logsum_due(const struct logsum *ls);

/* End the interval: one line per source whose events were counted, such
 * as "192.0.2.9: 4980 more events in 10.0 s not logged: 80 dropped, 4900
 * over a rate limit", handed to fn in the order the sources came; then
 * start afresh.  Returns the number of lines. */
size_t logsum_flush(struct logsum *ls, uint64_t now_ms, logsum_fn fn, void *ctx);

#endif /* NATCHECK_LOGSUM_H */
