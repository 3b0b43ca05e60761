/*
 * serve.c - the shell around server_handle(): bind the four endpoints,
 * drop privileges, answer in one single-threaded poll() loop, limit each
 * source's rate, count, log, write the metrics, stop on a signal.
 *
 * Linux reads and writes batches (recvmmsg/sendmmsg); elsewhere, or with
 * SERVER_NO_MMSG, one datagram per system call.  Both paths share one
 * per-datagram handler, so logging and checks are the same.
 */
#if defined(__linux__) && !defined(SERVER_NO_MMSG)
#define _GNU_SOURCE                 /* recvmmsg(2), sendmmsg(2) */
#define SERVER_MMSG 1
#else
#define _DEFAULT_SOURCE             /* setgroups(2) is not POSIX */
#endif

#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "logsum.h"
#include "net.h"
#include "outfile.h"
#include "ratelimit.h"
#include "server.h"
#include "tcpframe.h"

/* --------------------------------------------------------------- shell */

/* Set by the signal handler; the self-pipe wakes poll() without a race
 * between testing the flag and going to sleep. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t counters_requested;    /* SIGUSR1 */
static int wake_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int saved = errno;
	ssize_t r;

	if (sig == SIGUSR1)
		counters_requested = 1;
	else
		stop_requested = 1;
	if (wake_pipe[1] != -1) {
		r = write(wake_pipe[1], "", 1);
		(void)r;            /* a full pipe already wakes poll() */
	}
	errno = saved;
}

/* The endpoints in service, in the order the start-up line lists them:
 * A1:P1 A1:P2 A2:P1 A2:P2. */
static const unsigned ep_order[SERVER_NEP] = { 0, 2, 1, 3 };

#define SERVER_DGRAM_MAX 65536      /* largest UDP payload, and then some */
#define SERVER_TIMELEN   32         /* "2026-11-27T09:44:18.123Z" and a NUL */

/* What happened to the datagrams that arrived on one endpoint; a send
 * failure counts on the endpoint the reply was to leave from. */
struct ep_count {
	uint64_t requests;          /* datagrams received */
	uint64_t answers;           /* Binding success responses */
	uint64_t errors;            /* error responses (400, 420) */
	uint64_t discards;          /* dropped unanswered: not STUN, not ours, ... */
	uint64_t ratelimited;       /* dropped: over the source's --rate */
	uint64_t send_failures;     /* replies the kernel would not send */
	uint64_t tcp_accepted;      /* TCP connections taken */
	uint64_t tcp_cut;           /* TCP connections the server ended: limits,
	                               time-outs, a stream that is not STUN */
};

/*
 * A socket is named by k = grid x SERVER_NEP + endpoint: one grid (two
 * addresses x two ports, server.h) per address family served.
 */
#define SERVE_NSOCK (SERVE_MAX_GRIDS * SERVER_NEP)
#define GRID_OF(k)  ((k) / SERVER_NEP)
#define EP_OF(k)    ((k) % SERVER_NEP)

struct srv {
	struct server_cfg cfg[SERVE_MAX_GRIDS];
	int      fd[SERVE_NSOCK];
	int      lfd[SERVE_NSOCK];  /* TCP listeners, -1 with --no-tcp */
	int      verbose;
	struct logsum *log;         /* -v's budget: non-NULL with verbose */
	struct ratelimit *rl;       /* NULL: no rate limit */
	uint64_t now_ms;            /* the clock, read once per batch for rl */
	const char *metrics_file;   /* --metrics-file, or NULL */
	struct ep_count cnt[SERVE_NSOCK];
};

/* The address of socket k. */
static const struct stun_addr *
sock_addr(const struct srv *s, unsigned k)
{
	return &s->cfg[GRID_OF(k)].ep[EP_OF(k)];
}

/* 512 KB of buckets: static, never on the stack, never per packet. */
static struct ratelimit rate_table;
/* -v's budget (logsum.h). */
static struct logsum log_table;

/*
 * -v lines start with the wall-clock time as RFC 3339 in UTC with
 * milliseconds ("2026-11-27T09:44:18.123Z"): what a log file needs, and a
 * journal, which stamps lines when it receives them, can still order
 * bursts by it.  "-" when the clock cannot be read.
 */
static void
vlog(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[SERVER_TIMELEN] = "-";
	va_list ap;

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm) != NULL) {
		size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

		snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000L);
	}
	fprintf(stderr, "natcheck: %s ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* logsum_fn: a summary line, timestamped like every other. */
static void
vlog_summary(void *ctx, const char *line)
{
	(void)ctx;
	vlog("%s", line);
}

/* End -v's interval when it is due: its summaries go out. */
static void
log_flush_due(struct srv *s, uint64_t now)
{
	if (s->log != NULL && now >= logsum_due(s->log))
		logsum_flush(s->log, now, vlog_summary, NULL);
}

/* Under -v: 1 when the line for this event from src (NULL: none) may be
 * written, 0 when its source's budget is spent and it is only counted
 * (logsum.h). */
static int
log_budget(struct srv *s, const struct stun_addr *src, enum logsum_kind kind)
{
	uint64_t now;

	if (!s->verbose)
		return 0;
	now = net_now_ms();
	log_flush_due(s, now);
	return logsum_note(s->log, src, kind, now);
}

static void
log_request(struct srv *s, unsigned k, const struct stun_addr *from, int answered,
            const struct server_reply *r, enum logsum_kind kind)
{
	char f[ADDR_STRLEN], a[ADDR_STRLEN], v[ADDR_STRLEN], t[ADDR_STRLEN];
	const char *why = r->why != NULL ? r->why : "?";

	if (!log_budget(s, from, kind))
		return;
	addr_fmt(from, f, sizeof(f));
	addr_fmt(sock_addr(s, k), a, sizeof(a));
	if (!answered) {
		vlog("%s -> %s: dropped (%s)", f, a, why);
		return;
	}
	addr_fmt(&s->cfg[GRID_OF(k)].ep[r->via], v, sizeof(v));
	addr_fmt(&r->to, t, sizeof(t));
	if (r->code == 0)
		vlog("%s -> %s: binding response from %s to %s", f, a, v, t);
	else
		vlog("%s -> %s: error %d (%s) from %s to %s", f, a, r->code, why, v, t);
}

static void
log_send_error(struct srv *s, unsigned k, const struct stun_addr *to, int e)
{
	char t[ADDR_STRLEN];

	s->cnt[k].send_failures++;
	if (log_budget(s, to, LOGSUM_OTHER))
		vlog("send to %s: %s", addr_fmt(to, t, sizeof(t)), strerror(e));
}

/* A receive error other than "nothing waiting", under -v. */
static void
log_recv_error(struct srv *s, int e)
{
	if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR && log_budget(s, NULL, LOGSUM_OTHER))
		vlog("receive: %s", strerror(e));
}

/*
 * One datagram as received, for both receive paths: the sender, a
 * truncated datagram dropped, the protocol, the log line.  Returns 1 when
 * rep holds a reply in out.
 */
static int
handle_datagram(struct srv *s, unsigned k, const struct sockaddr *sa, int truncated,
                const uint8_t *buf, size_t len, uint8_t *out, size_t cap,
                struct server_reply *rep)
{
	struct ep_count *n = &s->cnt[k];
	struct stun_addr from;
	enum logsum_kind kind = LOGSUM_DROPPED;
	int answered = 0;

	n->requests++;
	if (net_to_stun(sa, &from) == -1) {
		n->discards++;
		return 0;
	}
	/* Before any parsing: a flood costs one table look-up per datagram. */
	if (s->rl != NULL && !rl_allow(s->rl, &from, s->now_ms)) {
		n->ratelimited++;
		memset(rep, 0, sizeof(*rep));
		rep->why = s->rl->why;
		kind = LOGSUM_RATELIMITED;
	} else if (truncated) {
		n->discards++;
		memset(rep, 0, sizeof(*rep));
		rep->why = "datagram truncated";
	} else {
		answered = server_handle(&s->cfg[GRID_OF(k)], EP_OF(k), &from, buf, len, out, cap,
		                         rep);
		if (!answered) {
			n->discards++;
		} else if (rep->code == 0) {
			n->answers++;
			kind = LOGSUM_ANSWERED;
		} else {
			n->errors++;
			kind = LOGSUM_ERROR;
		}
	}
	if (s->verbose)
		log_request(s, k, &from, answered, rep, kind);
	return answered;
}

#ifdef SERVER_MMSG
/*
 * Linux: up to SERVER_BATCH datagrams per system call each way, and up to
 * SERVER_MMSG_ROUNDS batches per wake-up, so one busy socket cannot starve
 * the other three; poll() brings us back for the rest.  Replies are grouped
 * by the endpoint they leave from, one sendmmsg() per socket.
 */
#define SERVER_BATCH       32
#define SERVER_MMSG_ROUNDS 4

static uint8_t rx_buf[SERVER_BATCH][SERVER_DGRAM_MAX];
static uint8_t tx_buf[SERVER_BATCH][SERVER_DGRAM_MAX];

/* Send every reply that leaves from endpoint via of the grid whose first
 * socket is base. */
static void
send_batch(struct srv *s, unsigned base, unsigned via, int n, const unsigned char *answered,
           const struct server_reply *rep)
{
	struct mmsghdr tx[SERVER_BATCH];
	struct iovec tx_iov[SERVER_BATCH];
	struct sockaddr_storage tx_sa[SERVER_BATCH];
	int idx[SERVER_BATCH];      /* tx[k] carries rep[idx[k]] */
	int i, k = 0, sent = 0, r;

	for (i = 0; i < n; i++) {
		socklen_t salen;

		if (!answered[i] || rep[i].via != via)
			continue;
		net_from_stun(&rep[i].to, &tx_sa[k], &salen);
		tx_iov[k].iov_base = tx_buf[i];
		tx_iov[k].iov_len = rep[i].len;
		memset(&tx[k].msg_hdr, 0, sizeof(tx[k].msg_hdr));
		tx[k].msg_hdr.msg_name = &tx_sa[k];
		tx[k].msg_hdr.msg_namelen = salen;
		tx[k].msg_hdr.msg_iov = &tx_iov[k];
		tx[k].msg_hdr.msg_iovlen = 1;
		idx[k++] = i;
	}
	/* Each pass sends at least one message or skips the one that failed,
	 * so this ends after at most k passes. */
	while (sent < k) {
		r = sendmmsg(s->fd[base + via], tx + sent, (unsigned)(k - sent), 0);
		if (r <= 0) {
			log_send_error(s, base + via, &rep[idx[sent]].to, errno);
			sent++;
		} else {
			sent += r;
		}
	}
}

static void
serve_socket(struct srv *s, unsigned at)
{
	unsigned base = at - EP_OF(at);
	struct mmsghdr rx[SERVER_BATCH];
	struct iovec rx_iov[SERVER_BATCH];
	struct sockaddr_storage rx_sa[SERVER_BATCH];
	struct server_reply rep[SERVER_BATCH];
	unsigned char answered[SERVER_BATCH];
	int i, n, round;
	unsigned via;

	for (round = 0; round < SERVER_MMSG_ROUNDS; round++) {
		if (s->rl != NULL)
			s->now_ms = net_now_ms();
		for (i = 0; i < SERVER_BATCH; i++) {
			rx_iov[i].iov_base = rx_buf[i];
			rx_iov[i].iov_len = sizeof(rx_buf[i]);
			memset(&rx[i].msg_hdr, 0, sizeof(rx[i].msg_hdr));
			rx[i].msg_hdr.msg_name = &rx_sa[i];
			rx[i].msg_hdr.msg_namelen = sizeof(rx_sa[i]);
			rx[i].msg_hdr.msg_iov = &rx_iov[i];
			rx[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(s->fd[at], rx, SERVER_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0)
				log_recv_error(s, errno);
			return;
		}
		for (i = 0; i < n; i++)
			answered[i] = (unsigned char)handle_datagram(
			    s, at, (struct sockaddr *)&rx_sa[i],
			    (rx[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, rx_buf[i], rx[i].msg_len,
			    tx_buf[i], sizeof(tx_buf[i]), &rep[i]);
		for (via = 0; via < SERVER_NEP; via++)
			send_batch(s, base, via, n, answered, rep);
		if (n < SERVER_BATCH)
			return;
	}
}

#else /* portable: one datagram per system call */

/* Datagrams read per wake-up, so one busy socket cannot starve the others. */
#define SERVER_BURST 64

static uint8_t rx_buf[SERVER_DGRAM_MAX];
static uint8_t tx_buf[SERVER_DGRAM_MAX];

static void
serve_socket(struct srv *s, unsigned at)
{
	struct server_reply rep;
	struct sockaddr_storage sa;
	struct iovec iov;
	struct msghdr mh;
	socklen_t salen;
	ssize_t n;
	int i;

	if (s->rl != NULL)
		s->now_ms = net_now_ms();   /* once per burst, not per datagram */
	for (i = 0; i < SERVER_BURST; i++) {
		/* recvmsg(2), not recvfrom(2): MSG_TRUNC tells a datagram cut
		 * to the buffer from a whole one, as recvmmsg does. */
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = rx_buf;
		iov.iov_len = sizeof(rx_buf);
		mh.msg_name = &sa;
		mh.msg_namelen = sizeof(sa);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(s->fd[at], &mh, 0);     /* the socket is non-blocking */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_recv_error(s, errno);
			return;
		}
		if (!handle_datagram(s, at, (struct sockaddr *)&sa, (mh.msg_flags & MSG_TRUNC) != 0,
		                     rx_buf, (size_t)n, tx_buf, sizeof(tx_buf), &rep))
			continue;
		net_from_stun(&rep.to, &sa, &salen);
		if (sendto(s->fd[at - EP_OF(at) + rep.via], tx_buf, rep.len, 0,
		           (struct sockaddr *)&sa, salen) == -1)
			log_send_error(s, at - EP_OF(at) + rep.via, &rep.to, errno);
	}
}
#endif

/* A close-on-exec, non-blocking pipe for the signal handler. */
static int
open_wake_pipe(void)
{
	int i, fl;

	if (pipe(wake_pipe) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		fl = fcntl(wake_pipe[i], F_GETFL);
		if (fl == -1 || fcntl(wake_pipe[i], F_SETFL, fl | O_NONBLOCK) == -1 ||
		    fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			return -1;
	}
	return 0;
}

/* The endpoints must form the 2x2 grid server.h describes, of addresses a
 * server may answer from (net_check_unicast). */
static int
check_grid(const struct server_cfg *c, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < SERVER_NEP; i++) {
		if ((i & SERVER_EP_ALT_ADDR) && !c->has_alt)
			continue;
		if (c->ep[i].family != 4 && c->ep[i].family != 6) {
			snprintf(err, errlen, "server endpoint %u has no address", i);
			return -1;
		}
		if (net_check_unicast(&c->ep[i], err, errlen) == -1)
			return -1;
	}
	if (!addr_ip_eq(&c->ep[0], &c->ep[2]) ||
	    (c->has_alt && !addr_ip_eq(&c->ep[1], &c->ep[3]))) {
		snprintf(err, errlen, "server endpoints: the two ports must share each address");
		return -1;
	}
	if (c->has_alt && (c->ep[0].family != c->ep[1].family || addr_ip_eq(&c->ep[0], &c->ep[1]))) {
		snprintf(err, errlen, "the alternate address must be a different address "
		         "of the same family as the primary");
		return -1;
	}
	if (c->has_alt && (c->ep[0].port != c->ep[1].port || c->ep[2].port != c->ep[3].port)) {
		snprintf(err, errlen, "server endpoints: both addresses must use the same ports");
		return -1;
	}
	if (c->ep[0].port != 0 && c->ep[0].port == c->ep[2].port) {
		snprintf(err, errlen, "the alternate port must differ from the primary port");
		return -1;
	}
	return 0;
}

/* Bind A1:P1, A1:P2, then A2:P1, A2:P2, filling in the bound addresses.  A
 * port given as 0 is taken from the kernel for A1 and then used for A2. */
static int
bind_endpoints(struct server_cfg *c, int *fd, char *err, size_t errlen)
{
	char nerr[NET_ERRLEN];
	unsigned i, k;

	for (k = 0; k < SERVER_NEP; k++) {
		i = ep_order[k];
		if (!server_ep_present(c, i))
			continue;
		if (i & SERVER_EP_ALT_ADDR)
			c->ep[i].port = c->ep[i ^ SERVER_EP_ALT_ADDR].port;
		fd[i] = net_udp_bind(&c->ep[i], nerr);
		if (fd[i] == -1 || net_sock_name(fd[i], &c->ep[i], nerr) == -1) {
			snprintf(err, errlen, "%s", nerr);
			return -1;
		}
	}
	if (c->ep[0].port == c->ep[2].port) {   /* cannot happen: both bound */
		snprintf(err, errlen, "the alternate port must differ from the primary port");
		return -1;
	}
	return 0;
}

/* SIGINT and SIGTERM ask for a clean stop, SIGUSR1 for the counters; the
 * old actions go to old[3]. */
static const int caught[3] = { SIGINT, SIGTERM, SIGUSR1 };

static void
restore_signals(const struct sigaction old[3], int n)
{
	while (n-- > 0)
		sigaction(caught[n], &old[n], NULL);
}

static int
catch_signals(struct sigaction old[3], char *err, size_t errlen)
{
	struct sigaction sa;
	int k;

	stop_requested = 0;
	counters_requested = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;                /* no SA_RESTART: poll() must return */
	for (k = 0; k < 3; k++) {
		if (sigaction(caught[k], &sa, &old[k]) == -1) {
			snprintf(err, errlen, "sigaction: %s", strerror(errno));
			restore_signals(old, k);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ counters */

static const struct {
	const char *name, *help;
	size_t   off;
} counter_defs[] = {
	{ "requests", "Datagrams received", offsetof(struct ep_count, requests) },
	{ "answers", "Binding success responses sent", offsetof(struct ep_count, answers) },
	{ "errors", "Error responses sent (400, 420)", offsetof(struct ep_count, errors) },
	{ "discards", "Datagrams dropped without an answer (not a STUN request, "
	  "not ours, malformed header, an RFC 3489 CHANGE-REQUEST to a server with "
	  "one address)", offsetof(struct ep_count, discards) },
	{ "ratelimited", "Datagrams dropped over their source's --rate",
	  offsetof(struct ep_count, ratelimited) },
	{ "send_failures", "Replies the kernel refused to send",
	  offsetof(struct ep_count, send_failures) },
	{ "tcp_accepted", "TCP connections accepted", offsetof(struct ep_count, tcp_accepted) },
	{ "tcp_cut", "TCP connections the server ended (limits, time-outs, not STUN)",
	  offsetof(struct ep_count, tcp_cut) },
};
#define NCOUNTERS (sizeof(counter_defs) / sizeof(counter_defs[0]))

static uint64_t
counter(const struct ep_count *c, size_t k)
{
	return *(const uint64_t *)(const void *)((const char *)c + counter_defs[k].off);
}

/* One timestamped line per endpoint: "counters A1:P1 requests=... ...". */
static void
print_counters(const struct srv *s)
{
	char a[ADDR_STRLEN], line[512];
	unsigned k, i;
	size_t j, off;

	for (k = 0; k < SERVE_NSOCK; k++) {
		i = GRID_OF(k) * SERVER_NEP + ep_order[EP_OF(k)];
		if (s->fd[i] == -1)
			continue;
		off = 0;
		for (j = 0; j < NCOUNTERS && off < sizeof(line); j++)
			off += (size_t)snprintf(line + off, sizeof(line) - off, " %s=%" PRIu64,
			                        counter_defs[j].name, counter(&s->cnt[i], j));
		vlog("counters %s%s", addr_fmt(sock_addr(s, i), a, sizeof(a)), line);
	}
	fflush(stderr);
}

/* The Prometheus text exposition of the counters, one series per endpoint
 * (outfile_fn). */
static void
prom_counters(FILE *f, const void *ctx)
{
	const struct srv *s = ctx;
	char a[ADDR_STRLEN];
	unsigned k, i;
	size_t j;

	for (j = 0; j < NCOUNTERS; j++) {
		fprintf(f, "# HELP natcheck_server_%s_total %s.\n", counter_defs[j].name,
		        counter_defs[j].help);
		fprintf(f, "# TYPE natcheck_server_%s_total counter\n", counter_defs[j].name);
		for (k = 0; k < SERVE_NSOCK; k++) {
			i = GRID_OF(k) * SERVER_NEP + ep_order[EP_OF(k)];
			if (s->fd[i] == -1)
				continue;
			fprintf(f, "natcheck_server_%s_total{endpoint=\"%s\"} %" PRIu64 "\n",
			        counter_defs[j].name, addr_fmt(sock_addr(s, i), a, sizeof(a)),
			        counter(&s->cnt[i], j));
		}
	}
}

/* Write --metrics-file; a failure is logged, never fatal: the server
 * keeps serving and tries again next time. */
static void
write_metrics(const struct srv *s)
{
	char err[NET_ERRLEN * 2];

	if (s->metrics_file != NULL &&
	    outfile_write(s->metrics_file, prom_counters, s, err, sizeof(err)) == -1)
		vlog("%s", err);
}

/* ---------------------------------------------------------------- TCP */

/*
 * STUN over TCP (RFC 5389 section 7.2.2): messages back to back on the
 * stream, cut by tcpframe_parse().  A hostile stream costs the server a
 * bounded amount and then the connection, never the server:
 *  - a table of tcp_max connections, sized from RLIMIT_NOFILE (raised to
 *    its hard limit as far as the table needs), between SERVE_TCP_CONNS_MIN
 *    and SERVE_TCP_CONNS_MAX; SERVE_TCP_PER_SOURCE of them from one source,
 *    an IPv4 address or an IPv6 /56 (a site's usual delegation: a host can
 *    pick any address of its /64, and a /59 of /64s once held the whole
 *    table); past that a new connection is accepted and closed;
 *  - when the table is full, a newcomer takes the place of the
 *    longest-idle connection of the source holding the most (so holding
 *    connections open locks nobody out: the heaviest holder pays first);
 *  - a request is at most SERVE_TCP_MSG bytes, the input buffer's size
 *    (Redis's client-query-buffer-limit); a length field beyond it, or
 *    bytes that cannot be STUN, end the connection at once;
 *  - a request must be complete SERVE_TCP_PARTIAL_MS after its first byte
 *    (slowloris), and a connection with nothing to do for SERVE_TCP_IDLE_MS
 *    is closed; with the table over three quarters full, the limits are
 *    SERVE_TCP_BUSY_PARTIAL_MS and SERVE_TCP_BUSY_IDLE_MS;
 *  - replies wait in a fixed output buffer; while it holds any, the
 *    connection is not read (a peer that does not read stops being
 *    served, and then times out).
 * The table is static: no allocation per connection or per request.
 */
#define SERVE_TCP_CONNS_MIN  16
#define SERVE_TCP_CONNS_MAX  1024
/* Descriptors kept for what is not a connection: the UDP sockets and TCP
 * listeners (2 x SERVE_NSOCK), the wake pipe, stdin/out/err, the metrics
 * file, and a margin for the C library. */
#define SERVE_FD_RESERVE     (2 * SERVE_NSOCK + 16)
#define SERVE_TCP_PER_SOURCE 8
#define SERVE_TCP_MSG        2048
#define SERVE_TCP_OUT        (SERVE_TCP_MSG + SERVER_REPLY_SLACK)
#define SERVE_TCP_PARTIAL_MS 3000
#define SERVE_TCP_IDLE_MS    10000
#define SERVE_TCP_BUSY_PARTIAL_MS 1000
#define SERVE_TCP_BUSY_IDLE_MS    2000
#define SERVE_TCP_BACKLOG    64
#define SERVE_TCP_ACCEPTS    16     /* per wake-up: listeners cannot starve UDP */

struct conn {
	int      fd;                /* -1: free */
	unsigned k;                 /* the listener's socket index */
	struct stun_addr peer;
	/* The connections of one source form a ring, each knowing how many
	 * there are: no table walk to count them. */
	size_t   same_next, same_prev;
	size_t   nsame;
	uint64_t idle_since;        /* last progress: accepted, answered, sent */
	uint64_t partial_since;     /* the first byte of the request in in[] */
	size_t   inlen;
	size_t   outoff, outlen;    /* out[outoff..outlen) still to send */
	uint8_t  in[SERVE_TCP_MSG];
	uint8_t  out[SERVE_TCP_OUT];
};

static struct conn conns[SERVE_TCP_CONNS_MAX];
static size_t tcp_max;          /* the table in use: conns[0..tcp_max) */
static size_t nconns;           /* in use: no table walk while 0 */
static size_t conns_top;        /* 1 + the highest slot in use: walks stop there */
/* Out of file descriptors: a waiting connection would keep its listener
 * readable and poll() spinning, so the listeners rest until then. */
static uint64_t accept_pause_until;
#define SERVE_TCP_PAUSE_MS 1000

/* One source for the per-source connection limit: the same IPv4 address,
 * or the same IPv6 /56. */
static int
same_source(const struct stun_addr *a, const struct stun_addr *b)
{
	size_t n = a->family == 6 ? 7 : 4;

	return a->family == b->family && (a->family == 4 || a->family == 6) &&
	    memcmp(a->addr, b->addr, n) == 0;
}

/*
 * The table's size: what RLIMIT_NOFILE leaves after SERVE_FD_RESERVE,
 * within SERVE_TCP_CONNS_MIN..SERVE_TCP_CONNS_MAX.  The soft limit is
 * raised first, as far as the hard one allows and the table could use
 * (Debian's soft default, 1024, would leave room for 992).
 */
static size_t
tcp_table_size(void)
{
	struct rlimit rl;
	rlim_t want = SERVE_TCP_CONNS_MAX + SERVE_FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return SERVE_TCP_CONNS_MIN;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want &&
	    (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > rl.rlim_cur)) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 && getrlimit(RLIMIT_NOFILE, &rl) == -1)
			return SERVE_TCP_CONNS_MIN;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return SERVE_TCP_CONNS_MAX;
	if (rl.rlim_cur < SERVE_TCP_CONNS_MIN + SERVE_FD_RESERVE)
		return SERVE_TCP_CONNS_MIN;
	return (size_t)rl.rlim_cur - SERVE_FD_RESERVE;
}

static void
tcp_init(size_t max)
{
	size_t i;

	tcp_max = max;
	for (i = 0; i < tcp_max; i++)
		conns[i].fd = -1;
	nconns = conns_top = 0;
	accept_pause_until = 0;
}

/* Over three quarters full: the time limits shorten. */
static int
tcp_busy(void)
{
	return nconns * 4 > tcp_max * 3;
}

/* End connection c; cut: the server's decision (counted), why: for -v. */
static void
conn_close(struct srv *s, struct conn *c, int cut, const char *why)
{
	char f[ADDR_STRLEN], a[ADDR_STRLEN];
	size_t i = (size_t)(c - conns), j;

	if (log_budget(s, &c->peer, LOGSUM_TCP))
		vlog("tcp %s -> %s: closed (%s)", addr_fmt(&c->peer, f, sizeof(f)),
		     addr_fmt(sock_addr(s, c->k), a, sizeof(a)), why);
	if (cut)
		s->cnt[c->k].tcp_cut++;
	close(c->fd);
	c->fd = -1;
	nconns--;
	/* The others of its source count one fewer; then out of the ring. */
	for (j = c->same_next; j != i; j = conns[j].same_next)
		conns[j].nsame--;
	conns[c->same_prev].same_next = c->same_next;
	conns[c->same_next].same_prev = c->same_prev;
	while (conns_top > 0 && conns[conns_top - 1].fd == -1)
		conns_top--;
}

/* Send what waits in c->out; 0, or -1 when c was closed. */
static int
conn_flush(struct srv *s, struct conn *c, uint64_t now)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			s->cnt[c->k].send_failures++;
			conn_close(s, c, 0, n < 0 ? strerror(errno) : "send returned 0");
			return -1;
		}
		c->outoff += (size_t)n;
		c->idle_since = now;
	}
	c->outoff = c->outlen = 0;
	return 0;
}

/* Answer the complete requests in c->in while the output buffer has room
 * for the largest reply; 0, or -1 when c was closed. */
static int
conn_process(struct srv *s, struct conn *c, uint64_t now)
{
	const struct server_cfg *cfg = &s->cfg[GRID_OF(c->k)];
	struct ep_count *n = &s->cnt[c->k];
	struct server_reply rep;
	enum logsum_kind kind;
	const char *why = NULL;
	long len;
	int answered;

	while (c->inlen > 0 && c->outlen == 0) {
		len = tcpframe_parse(c->in, c->inlen, sizeof(c->in), &why);
		if (len == TCPFRAME_INCOMPLETE)
			return 0;
		n->requests++;
		if (len == TCPFRAME_BAD) {
			n->discards++;
			conn_close(s, c, 1, why);
			return -1;
		}
		if (s->rl != NULL && !rl_allow(s->rl, &c->peer, now)) {
			n->ratelimited++;
			memset(&rep, 0, sizeof(rep));
			rep.why = s->rl->why;
			answered = 0;
			kind = LOGSUM_RATELIMITED;
		} else {
			answered = server_handle_stream(cfg, EP_OF(c->k), &c->peer, c->in, (size_t)len,
			                                c->out, sizeof(c->out), &rep);
			kind = !answered ? LOGSUM_DROPPED : rep.code == 0 ? LOGSUM_ANSWERED :
			    LOGSUM_ERROR;
			if (!answered)
				n->discards++;
			else if (rep.code == 0)
				n->answers++;
			else
				n->errors++;
		}
		if (s->verbose)
			log_request(s, c->k, &c->peer, answered, &rep, kind);
		/* Only an answer is progress: a peer sending what is dropped
		 * (rate-limited, not a request) still runs into the idle limit. */
		if (answered) {
			c->outlen = rep.len;
			c->idle_since = now;
		}
		c->inlen -= (size_t)len;
		memmove(c->in, c->in + len, c->inlen);
		c->partial_since = now;
		if (conn_flush(s, c, now) == -1)
			return -1;
	}
	return 0;
}

/* Read what c's peer sent, then answer it. */
static void
conn_read(struct srv *s, struct conn *c, uint64_t now)
{
	ssize_t n;

	if (c->outlen > 0)          /* replies first: no reading meanwhile */
		return;
	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(s, c, 0, n == 0 ? "closed by the peer" : strerror(errno));
		return;
	}
	if (c->inlen == 0)
		c->partial_since = now;
	c->inlen += (size_t)n;
	conn_process(s, c, now);
}

/* The replies waiting for c may go now; then the requests behind them. */
static void
conn_write(struct srv *s, struct conn *c, uint64_t now)
{
	if (conn_flush(s, c, now) == 0)
		conn_process(s, c, now);
}

/*
 * The connection to end for a newcomer when the table is full: the
 * longest-idle one of the source holding the most.  Only called with
 * every slot in use.
 */
static struct conn *
tcp_victim(void)
{
	struct conn *v = &conns[0];
	size_t i;

	for (i = 1; i < conns_top; i++) {
		struct conn *c = &conns[i];

		if (c->nsame > v->nsame ||
		    (c->nsame == v->nsame && c->idle_since < v->idle_since))
			v = c;
	}
	return v;
}

/* Take the connections waiting on listener k, up to SERVE_TCP_ACCEPTS. */
static void
tcp_accept(struct srv *s, unsigned k, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct stun_addr peer;
	struct conn *c;
	char f[ADDR_STRLEN], to[ADDR_STRLEN];
	const char *refused;
	size_t i, same, ring;
	int fd, fl, round;

	for (round = 0; round < SERVE_TCP_ACCEPTS; round++) {
		sslen = sizeof(ss);
		fd = accept(s->lfd[k], (struct sockaddr *)&ss, &sslen);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				accept_pause_until = now + SERVE_TCP_PAUSE_MS;
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_recv_error(s, errno);
			return;
		}
		c = NULL;
		same = 0;
		ring = 0;
		refused = NULL;
		fl = fcntl(fd, F_GETFL);
		if (net_to_stun((struct sockaddr *)&ss, &peer) == -1 || fl == -1 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			memset(&peer, 0, sizeof(peer));
			refused = "cannot set the socket up";
		}
		for (i = 0; i < conns_top && refused == NULL; i++) {
			if (conns[i].fd == -1) {
				if (c == NULL)
					c = &conns[i];
			} else if (same_source(&conns[i].peer, &peer)) {
				same = conns[i].nsame;
				ring = i;
			}
		}
		if (c == NULL && conns_top < tcp_max)
			c = &conns[conns_top];
		if (refused == NULL && same >= SERVE_TCP_PER_SOURCE)
			refused = "too many connections from this address";
		s->cnt[k].tcp_accepted++;
		if (refused != NULL) {
			s->cnt[k].tcp_cut++;
			if (log_budget(s, &peer, LOGSUM_TCP))
				vlog("tcp %s: refused (%s)", addr_fmt(&peer, f, sizeof(f)), refused);
			close(fd);
			continue;
		}
		if (c == NULL) {        /* full: the heaviest holder makes room */
			c = tcp_victim();
			if (same > 0 && same_source(&c->peer, &peer))
				same--;         /* it was one of the newcomer's own */
			conn_close(s, c, 1, "the table is full: room for a newcomer");
			if (same == 0)
				ring = 0;
			else
				for (ring = 0; conns[ring].fd == -1 ||
				     !same_source(&conns[ring].peer, &peer); ring++)
					;
		}
		i = (size_t)(c - conns);
		c->fd = fd;
		nconns++;
		if (i >= conns_top)
			conns_top = i + 1;
		c->k = k;
		c->peer = peer;
		c->idle_since = c->partial_since = now;
		c->inlen = c->outoff = c->outlen = 0;
		/* Into its source's ring, which now counts one more. */
		c->nsame = same + 1;
		if (same == 0) {
			c->same_next = c->same_prev = i;
		} else {
			c->same_next = conns[ring].same_next;
			c->same_prev = ring;
			conns[c->same_next].same_prev = i;
			conns[ring].same_next = i;
			for (ring = c->same_next; ring != i; ring = conns[ring].same_next)
				conns[ring].nsame = same + 1;
		}
		if (log_budget(s, &peer, LOGSUM_TCP))
			vlog("tcp %s -> %s: accepted", addr_fmt(&peer, f, sizeof(f)),
			     addr_fmt(sock_addr(s, k), to, sizeof(to)));
	}
}

/* Close the connections whose time is up; the time the next one's is
 * (UINT64_MAX: none). */
static uint64_t
tcp_expire(struct srv *s, uint64_t now)
{
	uint64_t next = UINT64_MAX, d;
	uint64_t idle = tcp_busy() ? SERVE_TCP_BUSY_IDLE_MS : SERVE_TCP_IDLE_MS;
	uint64_t partial = tcp_busy() ? SERVE_TCP_BUSY_PARTIAL_MS : SERVE_TCP_PARTIAL_MS;
	size_t i;

	for (i = 0; i < conns_top && nconns > 0; i++) {
		struct conn *c = &conns[i];

		if (c->fd == -1)
			continue;
		d = c->idle_since + idle;
		if (c->inlen > 0 && c->partial_since + partial < d)
			d = c->partial_since + partial;
		if (now >= d) {
			conn_close(s, c, 1, c->inlen > 0 ? "request not complete in time" :
			           "idle");
			continue;
		}
		if (d < next)
			next = d;
	}
	return next;
}

/* ------------------------------------------------------------ the loop */

/* Empty the wake pipe (it is non-blocking): a signal wrote a byte. */
static void
drain_wake_pipe(void)
{
	char junk[64];

	while (read(wake_pipe[0], junk, sizeof(junk)) > 0)
		;
}

/* The poll timeout for a deadline: -1 for none, else the milliseconds to
 * it, at least 0. */
static int
timeout_to(uint64_t deadline, uint64_t now)
{
	if (deadline == UINT64_MAX)
		return -1;
	if (deadline <= now)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

/* Poll the endpoints' sockets (listed in ep[0..n)), the wake pipe, the TCP
 * listeners and connections until a signal asks for a stop; rewrite the
 * metrics file every SERVE_METRICS_MS.  The UDP sockets and the pipe keep
 * their slots; the TCP part is laid out again on every turn. */
static int
poll_loop(struct srv *s, const unsigned *ep, unsigned n, char *err, size_t errlen)
{
	static struct pollfd pfd[2 * SERVE_NSOCK + 1 + SERVE_TCP_CONNS_MAX];
	static int what[2 * SERVE_NSOCK + 1 + SERVE_TCP_CONNS_MAX]; /* listener k, or conn */
	uint64_t next = UINT64_MAX, now = 0, deadline;
	unsigned k, m;
	size_t i;
	int tcp = 0;

	for (k = 0; k < n; k++) {
		pfd[k].fd = s->fd[ep[k]];
		pfd[k].events = POLLIN;
		tcp |= s->lfd[ep[k]] != -1;
	}
	pfd[n].fd = wake_pipe[0];
	pfd[n].events = POLLIN;
	if (s->metrics_file != NULL)
		next = net_now_ms() + SERVE_METRICS_MS;
	while (!stop_requested) {
		deadline = next;
		m = n + 1;
		if (s->metrics_file != NULL || tcp || s->log != NULL)
			now = net_now_ms();
		if (s->metrics_file != NULL && now >= next) {
			write_metrics(s);
			deadline = next = now + SERVE_METRICS_MS;
		}
		if (s->log != NULL) {
			log_flush_due(s, now);
			if (logsum_due(s->log) < deadline)
				deadline = logsum_due(s->log);
		}
		if (tcp) {
			uint64_t t = tcp_expire(s, now);

			if (t < deadline)
				deadline = t;
			if (now < accept_pause_until && accept_pause_until < deadline)
				deadline = accept_pause_until;
			for (k = 0; k < n && now >= accept_pause_until; k++) {
				pfd[m].fd = s->lfd[ep[k]];
				pfd[m].events = POLLIN;
				what[m++] = (int)ep[k];
			}
			for (i = 0; i < conns_top; i++) {
				if (conns[i].fd == -1)
					continue;
				pfd[m].fd = conns[i].fd;
				pfd[m].events = conns[i].outlen > 0 ? POLLOUT : POLLIN;
				what[m++] = -1 - (int)i;
			}
		}
		if (poll(pfd, m, timeout_to(deadline, now)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[n].revents & POLLIN)
			drain_wake_pipe();
		if (counters_requested) {
			counters_requested = 0;
			print_counters(s);
		}
		for (k = 0; k < n; k++)
			if (pfd[k].revents & (POLLIN | POLLERR))
				serve_socket(s, ep[k]);
		if (tcp)
			now = net_now_ms();
		for (k = n + 1; k < m; k++) {
			struct conn *c;

			if (pfd[k].revents == 0)
				continue;
			if (what[k] >= 0) {
				tcp_accept(s, (unsigned)what[k], now);
				continue;
			}
			c = &conns[-1 - what[k]];
			if (c->fd != pfd[k].fd)
				continue;       /* closed meanwhile */
			if (pfd[k].revents & POLLOUT)
				conn_write(s, c, now);
			else
				conn_read(s, c, now);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ privileges */

/*
 * --user: after the sockets are bound (a port below 1024 needs root), become
 * that user and its primary group, with no supplementary groups, for good.
 * Only root can do that, so anyone else asking for it is an error rather
 * than a silent no-op.  Afterwards root must be out of reach: if setuid(0)
 * still works, the drop failed and the server refuses to run.
 */
static int
drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	gid_t gid;
	uid_t uid;

	if (geteuid() != 0) {
		snprintf(err, errlen, "--user %s: only root can change its user "
		         "(run without --user, or start as root)", user);
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "--user %s: %s", user,
		         errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0) {
		snprintf(err, errlen, "--user %s: that is root", user);
		return -1;
	}
	/* Groups first: after setuid() there is no right to change them. */
	if (setgroups(0, NULL) == -1 || setgid(gid) == -1 || setuid(uid) == -1) {
		snprintf(err, errlen, "--user %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || geteuid() != uid || getegid() != gid) {
		snprintf(err, errlen, "--user %s: privileges could not be dropped for good", user);
		return -1;
	}
	return 0;
}

/* Two grids must not overlap: one family each. */
static int
check_grids(const struct server_cfg *cfg, size_t n, char *err, size_t errlen)
{
	size_t g;

	if (n < 1 || n > SERVE_MAX_GRIDS) {
		snprintf(err, errlen, "one or two address pairs, one per family");
		return -1;
	}
	for (g = 0; g < n; g++)
		if (check_grid(&cfg[g], err, errlen) == -1)
			return -1;
	if (n == 2 && cfg[0].ep[0].family == cfg[1].ep[0].family) {
		snprintf(err, errlen, "the two --serve address pairs must be of different families");
		return -1;
	}
	return 0;
}

int
server_run(const struct server_cfg *cfg, size_t ncfg, const struct serve_opts *o, char *err,
           size_t errlen)
{
	static struct srv s;        /* the counters: zeroed once per run below */
	struct sigaction old[3];
	unsigned ep[SERVE_NSOCK], i, k, n = 0;
	char line[SERVE_NSOCK * ADDR_STRLEN], a[ADDR_STRLEN], merr[NET_ERRLEN * 2];
	size_t off = 0, g;
	uint64_t seed = 0;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	s.verbose = o->verbose;
	if (s.verbose) {
		logsum_init(&log_table);
		s.log = &log_table;
	}
	s.metrics_file = o->metrics_file;
	for (i = 0; i < SERVE_NSOCK; i++)
		s.fd[i] = s.lfd[i] = -1;
	tcp_init(o->tcp ? tcp_table_size() : 0);
	if (check_grids(cfg, ncfg, err, errlen) == -1)
		return -1;
	for (g = 0; g < ncfg; g++)
		s.cfg[g] = cfg[g];
	if (o->rate > 0) {
		/* The hash seed keeps a sender from choosing addresses that
		 * share one set of buckets. */
		if (net_random(&seed, sizeof(seed)) == -1) {
			snprintf(err, errlen, "the OS random source failed: %s", strerror(errno));
			return -1;
		}
		rl_init(&rate_table, o->rate, seed);
		s.rl = &rate_table;
	}
	for (g = 0; g < ncfg; g++)
		if (bind_endpoints(&s.cfg[g], s.fd + g * SERVER_NEP, err, errlen) == -1)
			goto out;
	/* TCP on every endpoint, on the port UDP got. */
	for (i = 0; i < SERVE_NSOCK && o->tcp; i++) {
		char nerr[NET_ERRLEN];

		if (s.fd[i] == -1)
			continue;
		s.lfd[i] = net_tcp_listen(sock_addr(&s, i), SERVE_TCP_BACKLOG, nerr);
		if (s.lfd[i] == -1) {
			snprintf(err, errlen, "%s", nerr);
			goto out;
		}
	}
	if (o->user != NULL && drop_privileges(o->user, err, errlen) == -1)
		goto out;
	/* The metrics file once now, as the user that will rewrite it: one it
	 * cannot write is an error to refuse at start-up, not a line every
	 * ten seconds in a log nobody reads. */
	if (s.metrics_file != NULL &&
	    outfile_write(s.metrics_file, prom_counters, &s, merr, sizeof(merr)) == -1) {
		if (o->user != NULL)
			snprintf(err, errlen, "%s (as --user %s)", merr, o->user);
		else
			snprintf(err, errlen, "%s", merr);
		goto out;
	}
	if (open_wake_pipe() == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	if (catch_signals(old, err, errlen) == -1)
		goto out;

	for (k = 0; k < SERVE_NSOCK; k++) {
		i = GRID_OF(k) * SERVER_NEP + ep_order[EP_OF(k)];
		if (s.fd[i] == -1)
			continue;
		ep[n++] = i;
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s", off ? " " : "",
		                        addr_fmt(sock_addr(&s, i), a, sizeof(a)));
	}
	vlog("serving on %s", line);    /* timestamped like every log line */
	if (o->tcp)
		vlog("tcp: at most %zu connections at once, %u from one source", tcp_max,
		     SERVE_TCP_PER_SOURCE);
	fflush(stderr);

	rc = poll_loop(&s, ep, n, err, errlen);
	restore_signals(old, 3);
	print_counters(&s);
	write_metrics(&s);
out:
	for (i = 0; i < SERVE_NSOCK; i++) {
		if (s.fd[i] != -1)
			close(s.fd[i]);
		if (s.lfd[i] != -1)
			close(s.lfd[i]);
	}
	for (i = 0; i < conns_top; i++)
		if (conns[i].fd != -1)
			conn_close(&s, &conns[i], 0, "server stops");
	if (s.log != NULL)          /* what the last interval did not log */
		logsum_flush(s.log, net_now_ms(), vlog_summary, NULL);
	for (i = 0; i < 2; i++) {
		if (wake_pipe[i] != -1)
			close(wake_pipe[i]);
		wake_pipe[i] = -1;
	}
	return rc;
}
