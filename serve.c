/*
 * serve.c - the shell around server_handle(): bind the four endpoints,
 * answer in one single-threaded poll() loop, log, stop on a signal.
 *
 * Linux reads and writes batches (recvmmsg/sendmmsg); elsewhere, or with
 * SERVER_NO_MMSG, one datagram per system call.  Both paths share one
 * per-datagram handler, so logging and checks are the same.
 */
#if defined(__linux__) && !defined(SERVER_NO_MMSG)
#define _GNU_SOURCE                 /* recvmmsg(2), sendmmsg(2) */
#define SERVER_MMSG 1
#endif

#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "server.h"

/* --------------------------------------------------------------- shell */

/* Set by the signal handler; the self-pipe wakes poll() without a race
 * between testing the flag and going to sleep. */
static volatile sig_atomic_t stop_requested;
static int wake_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int saved = errno;
	ssize_t r;

	(void)sig;
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

struct srv {
	const struct server_cfg *cfg;
	int      fd[SERVER_NEP];
	int      verbose;
};

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

static void
log_request(const struct srv *s, unsigned at, const struct stun_addr *from, int answered,
            const struct server_reply *r)
{
	char f[ADDR_STRLEN], a[ADDR_STRLEN], v[ADDR_STRLEN], t[ADDR_STRLEN];
	const char *why = r->why != NULL ? r->why : "?";

	addr_fmt(from, f, sizeof(f));
	addr_fmt(&s->cfg->ep[at], a, sizeof(a));
	if (!answered) {
		vlog("%s -> %s: dropped (%s)", f, a, why);
		return;
	}
	addr_fmt(&s->cfg->ep[r->via], v, sizeof(v));
	addr_fmt(&r->to, t, sizeof(t));
	if (r->code == 0)
		vlog("%s -> %s: binding response from %s to %s", f, a, v, t);
	else
		vlog("%s -> %s: error %d (%s) from %s to %s", f, a, r->code, why, v, t);
}

static void
log_send_error(const struct srv *s, const struct stun_addr *to, int e)
{
	char t[ADDR_STRLEN];

	if (s->verbose)
		vlog("send to %s: %s", addr_fmt(to, t, sizeof(t)), strerror(e));
}

/* A receive error other than "nothing waiting", under -v. */
static void
log_recv_error(const struct srv *s, int e)
{
	if (s->verbose && e != EAGAIN && e != EWOULDBLOCK && e != EINTR)
		vlog("receive: %s", strerror(e));
}

/*
 * One datagram as received, for both receive paths: the sender, a
 * truncated datagram dropped, the protocol, the log line.  Returns 1 when
 * rep holds a reply in out.
 */
static int
handle_datagram(const struct srv *s, unsigned at, const struct sockaddr *sa, int truncated,
                const uint8_t *buf, size_t len, uint8_t *out, size_t cap,
                struct server_reply *rep)
{
	struct stun_addr from;
	int answered = 0;

	if (net_to_stun(sa, &from) == -1)
		return 0;
	if (truncated) {
		memset(rep, 0, sizeof(*rep));
		rep->why = "datagram truncated";
	} else {
		answered = server_handle(s->cfg, at, &from, buf, len, out, cap, rep);
	}
	if (s->verbose)
		log_request(s, at, &from, answered, rep);
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

/* Send every reply that leaves from endpoint via. */
static void
send_batch(struct srv *s, unsigned via, int n, const unsigned char *answered,
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
		r = sendmmsg(s->fd[via], tx + sent, (unsigned)(k - sent), 0);
		if (r <= 0) {
			log_send_error(s, &rep[idx[sent]].to, errno);
			sent++;
		} else {
			sent += r;
		}
	}
}

static void
serve_socket(struct srv *s, unsigned at)
{
	struct mmsghdr rx[SERVER_BATCH];
	struct iovec rx_iov[SERVER_BATCH];
	struct sockaddr_storage rx_sa[SERVER_BATCH];
	struct server_reply rep[SERVER_BATCH];
	unsigned char answered[SERVER_BATCH];
	int i, n, round;
	unsigned via;

	for (round = 0; round < SERVER_MMSG_ROUNDS; round++) {
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
			send_batch(s, via, n, answered, rep);
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
		if (sendto(s->fd[rep.via], tx_buf, rep.len, 0, (struct sockaddr *)&sa, salen) == -1)
			log_send_error(s, &rep.to, errno);
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

/* SIGINT and SIGTERM ask for a clean stop; the old actions go to old[2]. */
static int
catch_signals(struct sigaction old[2], char *err, size_t errlen)
{
	struct sigaction sa;

	stop_requested = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;                /* no SA_RESTART: poll() must return */
	if (sigaction(SIGINT, &sa, &old[0]) == -1) {
		snprintf(err, errlen, "sigaction: %s", strerror(errno));
		return -1;
	}
	if (sigaction(SIGTERM, &sa, &old[1]) == -1) {
		snprintf(err, errlen, "sigaction: %s", strerror(errno));
		sigaction(SIGINT, &old[0], NULL);
		return -1;
	}
	return 0;
}

/* Poll the endpoints' sockets (listed in ep[0..n)) and the wake pipe (the
 * last slot) until a signal asks for a stop. */
static int
poll_loop(struct srv *s, const unsigned *ep, unsigned n, char *err, size_t errlen)
{
	struct pollfd pfd[SERVER_NEP + 1];
	unsigned k;

	for (k = 0; k < n; k++) {
		pfd[k].fd = s->fd[ep[k]];
		pfd[k].events = POLLIN;
	}
	pfd[n].fd = wake_pipe[0];
	pfd[n].events = POLLIN;
	while (!stop_requested) {
		if (poll(pfd, n + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		for (k = 0; k < n; k++)
			if (pfd[k].revents & (POLLIN | POLLERR))
				serve_socket(s, ep[k]);
	}
	return 0;
}

int
server_run(const struct server_cfg *cfg, int verbose, char *err, size_t errlen)
{
	struct server_cfg c = *cfg;
	struct srv s;
	struct sigaction old[2];
	unsigned ep[SERVER_NEP], i, k, n = 0;
	char line[SERVER_NEP * ADDR_STRLEN], a[ADDR_STRLEN];
	size_t off = 0;
	int rc = -1;

	s.cfg = &c;
	s.verbose = verbose;
	for (i = 0; i < SERVER_NEP; i++)
		s.fd[i] = -1;
	if (check_grid(&c, err, errlen) == -1)
		return -1;
	if (bind_endpoints(&c, s.fd, err, errlen) == -1)
		goto out;
	if (open_wake_pipe() == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	if (catch_signals(old, err, errlen) == -1)
		goto out;

	for (k = 0; k < SERVER_NEP; k++) {
		i = ep_order[k];
		if (s.fd[i] == -1)
			continue;
		ep[n++] = i;
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s", off ? " " : "",
		                        addr_fmt(&c.ep[i], a, sizeof(a)));
	}
	fprintf(stderr, "natcheck: serving on %s\n", line);
	fflush(stderr);

	rc = poll_loop(&s, ep, n, err, errlen);
	sigaction(SIGINT, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
out:
	for (i = 0; i < SERVER_NEP; i++)
		if (s.fd[i] != -1)
			close(s.fd[i]);
	for (i = 0; i < 2; i++) {
		if (wake_pipe[i] != -1)
			close(wake_pipe[i]);
		wake_pipe[i] = -1;
	}
	return rc;
}
