/*
 * tcpprobe_io.c - sockets for the TCP tests (see tcpprobe_io.h).
 *
 * Plumbing only: which connection to open and what the answers mean is
 * tcpprobe.c's business.  The mapping connections share one local port:
 * each socket sets SO_REUSEADDR (and SO_REUSEPORT where it exists) before
 * bind(), so the kernel lets several connections leave from one address
 * and port as long as their destinations differ, as TCP hole punching
 * does.  Where a system refuses, the connect fails, the test says
 * local-error and the verdict unknown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "net.h"
#include "tcpprobe_io.h"

#define TCPPROBE_IO_BURST 8         /* reads per socket per wake-up */

static void
io_log(const struct tcpprobe_io *io, uint64_t now, const char *what, int conn,
       const struct stun_addr *a)
{
	char buf[ADDR_STRLEN];

	if (!io->verbose)
		return;
	/* An extra attempt (tcpprobe.h) is its test's name and a "+". */
	fprintf(stderr, "natcheck: %5lu ms  tcp     %-16s %s%s%s%s\n",
	    (unsigned long)(now - io->t0),
	    conn >= 0 ? tcpprobe_kind_name((int)io->t->c[conn].kind) : "listener",
	    conn >= TCPPROBE_NCONN ? "+" : "", what, a ? " " : "",
	    a ? addr_fmt(a, buf, sizeof(buf)) : "");
}

static void
io_random(void *ctx, uint8_t *buf, size_t len)
{
	struct tcpprobe_io *io = ctx;

	if (net_random(buf, len) == -1) {
		io->random_failed = 1;
		memset(buf, 0, len);
	}
}

static void
close_fd(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* A non-blocking TCP socket bound to a (port 0: fresh), with the port
 * shareable; -1 on failure. */
static int
tcp_socket(const struct stun_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, fl, on = 1;

	net_from_stun(a, &ss, &sl);
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd == -1)
		return -1;
	if ((fl = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
#ifdef SO_REUSEPORT
	/* Linux lets a listener and a connecting socket share a port only
	 * with this; the BSDs need it for a second bind at all. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto fail;
#endif
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

void
tcpprobe_io_start(struct tcpprobe_io *io, struct tcpprobe *t, int enabled,
                  const struct stun_addr *server, const struct stun_addr *local,
                  uint32_t timeout_ms, int verbose, uint64_t now_ms)
{
	struct tcpprobe_config cfg;
	char why[NET_ERRLEN];
	struct stun_addr a = *local;

	memset(io, 0, sizeof(*io));
	memset(&cfg, 0, sizeof(cfg));
	io->t = t;
	/* Without --tcp the tests never run: nothing to log about them. */
	io->verbose = verbose && enabled;
	io->t0 = now_ms;
	io->lfd = -1;
	for (int i = 0; i < TCPPROBE_NSLOT; i++)
		io->fd[i] = -1;
	for (int i = 0; i < TCPPROBE_NACCEPT; i++)
		io->afd[i] = -1;
	cfg.enabled = enabled;
	cfg.server = *server;
	cfg.timeout_ms = timeout_ms;
	cfg.random = io_random;
	cfg.random_ctx = io;
	if (enabled) {
		/* P0: the map connection's own socket, bound now so the port is
		 * known and held; the other mapping sockets bind to it later. */
		a.port = 0;
		io->fd[TCPPROBE_MAP] = tcp_socket(&a);
		if (io->fd[TCPPROBE_MAP] == -1 ||
		    net_sock_name(io->fd[TCPPROBE_MAP], &cfg.local[0], why) == -1) {
			close_fd(&io->fd[TCPPROBE_MAP]);
			memset(&cfg.local[0], 0, sizeof(cfg.local[0]));
		}
		/* P1: hairpin-binding's socket, then the listener beside it.  In
		 * this order: Linux refuses a SO_REUSEADDR bind next to a socket
		 * that already listens, but lets one listen next to it. */
		io->fd[TCPPROBE_HAIR_BINDING] = tcp_socket(&a);
		if (io->fd[TCPPROBE_HAIR_BINDING] != -1 &&
		    net_sock_name(io->fd[TCPPROBE_HAIR_BINDING], &cfg.local[1], why) == 0)
			io->lfd = tcp_socket(&cfg.local[1]);
		if (io->lfd == -1 || listen(io->lfd, TCPPROBE_NACCEPT) == -1) {
			close_fd(&io->lfd);
			close_fd(&io->fd[TCPPROBE_HAIR_BINDING]);
			memset(&cfg.local[1], 0, sizeof(cfg.local[1]));
		}
		io_log(io, now_ms, "local port", TCPPROBE_MAP, &cfg.local[0]);
		io_log(io, now_ms, "listening on", -1, &cfg.local[1]);
	}
	tcpprobe_init(t, &cfg, now_ms);
}

static enum tcpprobe_fail
fail_of(int e)
{
	switch (e) {
	case ECONNREFUSED:  return TCPPROBE_FAIL_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:   return TCPPROBE_FAIL_UNREACHABLE;
	case ETIMEDOUT:     return TCPPROBE_FAIL_TIMEDOUT;
	case ECONNRESET:
	case EPIPE:         return TCPPROBE_FAIL_CLOSED;
	default:            return TCPPROBE_FAIL_LOCAL;
	}
}

static void
failed(struct tcpprobe_io *io, uint64_t now, int conn, int e)
{
	if (io->verbose) {
		char what[96];

		snprintf(what, sizeof(what), "failed: %s", strerror(e));
		io_log(io, now, what, conn, NULL);
	}
	tcpprobe_failed(io->t, now, conn, fail_of(e));
	close_fd(&io->fd[conn]);
}

static void
connected(struct tcpprobe_io *io, uint64_t now, int conn)
{
	struct stun_addr local;
	char why[NET_ERRLEN];

	if (net_sock_name(io->fd[conn], &local, why) == -1) {
		failed(io, now, conn, EINVAL);
		return;
	}
	io_log(io, now, "connected from", conn, &local);
	tcpprobe_connected(io->t, now, conn, &local);
}

static void
do_connect(struct tcpprobe_io *io, uint64_t now, const struct tcpprobe_tx *tx)
{
	const struct tcpprobe_config *cfg = &io->t->cfg;
	struct sockaddr_storage ss;
	socklen_t sl;
	int c = tx->conn;

	/* An extra attempt's slot is reused once its test is decided: never
	 * with the old socket. */
	if (c >= TCPPROBE_NCONN)
		close_fd(&io->fd[c]);
	if (io->fd[c] == -1) {
		struct stun_addr from = cfg->local[tx->port == TCPPROBE_PORT_HAIR ? 1 : 0];

		if (tx->port == TCPPROBE_PORT_ANY)
			from.port = 0;
		io->fd[c] = tcp_socket(&from);
		if (io->fd[c] == -1) {
			failed(io, now, c, errno);
			return;
		}
	}
	io_log(io, now, (c == TCPPROBE_MAP_ALT_IP || c == TCPPROBE_MAP_ALT_IP_PORT) && io->t->alt_udp
	    ? "connect (the alternate of the UDP answer) to" : io->t->c[c].spec
	    ? "connect (speculative: the UDP answer's IP, P1's port) to" : "connect to", c, &tx->to);
	net_from_stun(&tx->to, &ss, &sl);
	if (connect(io->fd[c], (struct sockaddr *)&ss, sl) == 0)
		connected(io, now, c);
	else if (errno != EINPROGRESS && errno != EINTR)
		failed(io, now, c, errno);
}

static void
do_send(struct tcpprobe_io *io, uint64_t now, const struct tcpprobe_tx *tx)
{
	int c = tx->conn;
	ssize_t w;

	if (io->fd[c] == -1)
		return;
	if (io->random_failed) {
		/* Never send a guessable transaction ID. */
		failed(io, now, c, EIO);
		return;
	}
	/* A request of < 100 bytes on a fresh connection: all of it fits the
	 * send buffer, or the connection is useless. */
	w = send(io->fd[c], tx->buf, tx->len, MSG_NOSIGNAL);
	if (w < 0)
		failed(io, now, c, errno);
	else if ((size_t)w != tx->len)
		failed(io, now, c, EIO);
	else
		io_log(io, now, "sent request", c, NULL);
}

/* Close what the engine has decided; under -v, say how each test ended
 * (once: an answer read was said when it came). */
static void
reap(struct tcpprobe_io *io, uint64_t now)
{
	for (int i = 0; i < TCPPROBE_NSLOT; i++) {
		if (io->t->c[i].state != TCPPROBE_S_DONE)
			continue;
		if (i < TCPPROBE_NCONN && !io->told[i]) {
			io->told[i] = 1;
			io_log(io, now, tcpprobe_result_name(io->t->c[i].result), i, NULL);
		}
		close_fd(&io->fd[i]);
	}
	if (!io->told_spec && io->t->spec > TCPPROBE_SPEC_PENDING) {
		char what[80];

		io->told_spec = 1;
		snprintf(what, sizeof(what), "guess %s (%zu speculative attempts)",
		    tcpprobe_spec_word(io->t->spec), io->t->nspec);
		io_log(io, now, what, TCPPROBE_HAIR, &io->t->guess);
	}
	if (io->t->done)
		close_fd(&io->lfd);
}

int
tcpprobe_io_step(struct tcpprobe_io *io, uint64_t now_ms, int udp_done,
                 const struct probe_pace *pace, uint32_t *wait_ms)
{
	tcpprobe_set_pace(io->t, pace);
	if (udp_done)
		tcpprobe_hurry(io->t, now_ms, pace->have_rtt ? pace->rtt_ms : 0);
	/* Bounded: a handful of actions per connection. */
	for (int n = 0; n < 4 * TCPPROBE_NSLOT; n++) {
		struct tcpprobe_tx tx;
		enum tcpprobe_step st = tcpprobe_next(io->t, now_ms, &tx, wait_ms);

		switch (st) {
		case TCPPROBE_DONE:
			reap(io, now_ms);
			return 1;
		case TCPPROBE_WAIT:
			reap(io, now_ms);
			return 0;
		case TCPPROBE_CONNECT:
			do_connect(io, now_ms, &tx);
			break;
		case TCPPROBE_SEND:
			do_send(io, now_ms, &tx);
			break;
		}
	}
	reap(io, now_ms);
	*wait_ms = 0;
	return 0;
}

size_t
tcpprobe_io_pollfds(struct tcpprobe_io *io, struct pollfd *pfd)
{
	size_t n = 0;

	for (int i = 0; i < TCPPROBE_IO_NFDS; i++) {
		int fd = i < TCPPROBE_NSLOT ? io->fd[i] : i == TCPPROBE_NSLOT ? io->lfd
		    : io->afd[i - TCPPROBE_NSLOT - 1];

		io->slot[i] = -1;
		if (fd == -1 || io->t->done)
			continue;
		pfd[n].fd = fd;
		pfd[n].events = i < TCPPROBE_NSLOT && io->t->c[i].state == TCPPROBE_S_CONNECTING
		    ? POLLOUT : POLLIN;
		pfd[n].revents = 0;
		io->slot[i] = (int)n++;
	}
	return n;
}

static void
conn_ready(struct tcpprobe_io *io, int c, uint64_t now)
{
	if (io->t->c[c].state == TCPPROBE_S_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(io->fd[c], SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			failed(io, now, c, errno);
		else if (soerr != 0)
			failed(io, now, c, soerr);
		else
			connected(io, now, c);
		return;
	}
	for (int n = 0; n < TCPPROBE_IO_BURST && io->fd[c] != -1; n++) {
		uint8_t buf[TCPPROBE_RXCAP];
		ssize_t r = recv(io->fd[c], buf, sizeof(buf), 0);

		if (r > 0) {
			tcpprobe_input(io->t, now, c, buf, (size_t)r);
			continue;
		}
		if (r == 0)
			failed(io, now, c, ECONNRESET);
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			failed(io, now, c, errno);
		return;
	}
}

static void
listener_ready(struct tcpprobe_io *io, uint64_t now)
{
	for (int n = 0; n < TCPPROBE_NACCEPT; n++) {
		int fd = accept(io->lfd, NULL, NULL), fl, k;

		if (fd == -1)
			return;
		for (k = 0; k < TCPPROBE_NACCEPT && io->afd[k] != -1; k++)
			;
		if (k == TCPPROBE_NACCEPT) {
			/* Full: strangers holding the slots silent must not keep
			 * our own hairpinned connection out, so one of them goes,
			 * each in turn. */
			k = (int)(io->evict++ % TCPPROBE_NACCEPT);
			close_fd(&io->afd[k]);
		}
		if ((fl = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
			close(fd);
			continue;
		}
		io->afd[k] = fd;
		io->alen[k] = 0;
		io_log(io, now, "accepted", -1, NULL);
	}
}

/* An accepted connection: its first message goes to the engine, then it
 * is closed; anything that is not a message is dropped at once. */
static void
accepted_ready(struct tcpprobe_io *io, int k, uint64_t now)
{
	size_t room = sizeof(io->abuf[k]) - io->alen[k], mlen = 0;
	ssize_t r;

	if (room == 0) {
		close_fd(&io->afd[k]);
		return;
	}
	r = recv(io->afd[k], io->abuf[k] + io->alen[k], room, 0);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (r <= 0) {
		close_fd(&io->afd[k]);
		return;
	}
	io->alen[k] += (size_t)r;
	switch (tcpprobe_frame(io->abuf[k], io->alen[k], sizeof(io->abuf[k]), &mlen)) {
	case TCPPROBE_FRAME_INCOMPLETE:
		return;
	case TCPPROBE_FRAME_OK:
		tcpprobe_accepted(io->t, now, io->abuf[k], mlen);
		break;
	case TCPPROBE_FRAME_NOT_STUN:
	case TCPPROBE_FRAME_TOO_LONG:
		break;
	}
	close_fd(&io->afd[k]);
}

void
tcpprobe_io_ready(struct tcpprobe_io *io, const struct pollfd *pfd, uint64_t now_ms)
{
	for (int i = 0; i < TCPPROBE_IO_NFDS; i++) {
		if (io->slot[i] < 0 || pfd[io->slot[i]].revents == 0)
			continue;
		if (i < TCPPROBE_NSLOT) {
			if (io->fd[i] != -1)
				conn_ready(io, i, now_ms);
		} else if (i == TCPPROBE_NSLOT) {
			if (io->lfd != -1)
				listener_ready(io, now_ms);
		} else if (io->afd[i - TCPPROBE_NSLOT - 1] != -1) {
			accepted_ready(io, i - TCPPROBE_NSLOT - 1, now_ms);
		}
	}
	reap(io, now_ms);
}

void
tcpprobe_io_end(struct tcpprobe_io *io, uint64_t now_ms)
{
	tcpprobe_finish(io->t, now_ms);
	reap(io, now_ms);
	for (int i = 0; i < TCPPROBE_NSLOT; i++)
		close_fd(&io->fd[i]);
	for (int i = 0; i < TCPPROBE_NACCEPT; i++)
		close_fd(&io->afd[i]);
	close_fd(&io->lfd);
}
