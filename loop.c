/*
 * loop.c - drive the probe engine with real sockets and a real clock.
 *
 * Everything here is plumbing: name resolution, choosing the local address,
 * one fresh socket per engine socket, and a poll() loop that hands the
 * engine the time and every datagram.  The engine decides what to send and
 * when; nat_classify decides what it means.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "net.h"
#include "portmap_io.h"

/* At most this many datagrams are read from one socket per wake-up, so a
 * flood on one socket cannot starve the clock. */
#define LOOP_RECV_BURST 64

/* The engine ends the run at its timeout; this guards against the loop
 * itself outliving it (it never should). */
#define LOOP_GRACE_MS 1000

static const char *sock_names[PROBE_NSOCK] = { "map", "filter", "hairpin", "filter2" };

struct loop_ctx {
	uint64_t start_ms;
	int      verbose;
};

static void
loop_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	if (net_random(buf, len) == -1) {
		/* No OS random source at all: we must not send guessable IDs. */
		fprintf(stderr, "natcheck: cannot read the OS random source\n");
		_exit(NAT_EXIT_ERROR);
	}
}

/* -v: one line per send, answer, ignored datagram and decision. */
static void
loop_event(void *vctx, const struct probe_event *ev)
{
	struct loop_ctx *ctx = vctx;
	char peer[ADDR_STRLEN];
	unsigned long t = (unsigned long)(net_now_ms() - ctx->start_ms);
	const char *name = ev->test ? probe_kind_name(ev->test->kind) : "-";
	const char *sock = ev->sock >= 0 && ev->sock < PROBE_NSOCK ? sock_names[ev->sock] : "?";

	if (!ctx->verbose)
		return;
	addr_fmt(&ev->peer, peer, sizeof(peer));
	switch (ev->kind) {
	case PROBE_EV_SEND:
		fprintf(stderr, "natcheck: %5lu ms  send    %-22s #%zu to %s from %s socket\n",
		    t, name, ev->attempt, peer, sock);
		break;
	case PROBE_EV_ANSWER:
		fprintf(stderr, "natcheck: %5lu ms  answer  %-22s #%zu from %s on %s socket, rtt %u ms\n",
		    t, name, ev->attempt, peer, sock, (unsigned)ev->rtt_ms);
		break;
	case PROBE_EV_IGNORED:
		fprintf(stderr, "natcheck: %5lu ms  ignored %-22s from %s on %s socket: %s\n",
		    t, name, peer, sock, ev->why ? ev->why : "not ours");
		break;
	case PROBE_EV_DECIDED:
		fprintf(stderr, "natcheck: %5lu ms  decided %-22s %s after %zu send%s\n",
		    t, name, probe_result_name(ev->test ? ev->test->result : PROBE_NOT_RUN),
		    ev->attempt, ev->attempt == 1 ? "" : "s");
		break;
	}
}

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Resolve the servers: the first decides the family unless -4/-6 did. */
static int
resolve_servers(const struct loop_opts *o, struct probe_config *cfg, char *err, size_t errlen)
{
	int family = o->family;

	for (size_t i = 0; i < o->nservers; i++) {
		char host[256], why[NET_ERRLEN];
		uint16_t port = 3478;

		if (net_split_hostport(o->servers[i], host, sizeof(host), &port, why) == -1) {
			errf(err, errlen, "server '%s': %s", o->servers[i], why);
			return -1;
		}
		if (net_resolve(host, port, family, &cfg->servers[i], why) == -1) {
			errf(err, errlen, "cannot resolve '%s': %s", host, why);
			return -1;
		}
		family = cfg->servers[i].family == 4 ? AF_INET : AF_INET6;
		for (size_t j = 0; j < i; j++)
			if (addr_eq(&cfg->servers[j], &cfg->servers[i])) {
				errf(err, errlen, "server '%s' is given twice", o->servers[i]);
				return -1;
			}
	}
	cfg->nservers = o->nservers;
	return 0;
}

/* The local address: -b's, or the one the kernel uses towards server 0. */
static int
local_address(const struct loop_opts *o, const struct stun_addr *server,
              struct stun_addr *local, char *err, size_t errlen)
{
	char why[NET_ERRLEN], sbuf[ADDR_STRLEN];

	if (o->bind != NULL) {
		char host[256];
		uint16_t port = 0;
		int family = server->family == 4 ? AF_INET : AF_INET6;

		if (net_split_hostport(o->bind, host, sizeof(host), &port, why) == -1) {
			errf(err, errlen, "-b '%s': %s", o->bind, why);
			return -1;
		}
		if (net_resolve(host, port, family, local, why) == -1) {
			errf(err, errlen, "-b '%s': %s", o->bind, why);
			return -1;
		}
		return 0;
	}
	if (net_local_for(server, local, why) == -1) {
		errf(err, errlen, "no route to %s: %s", addr_fmt(server, sbuf, sizeof(sbuf)), why);
		return -1;
	}
	return 0;
}

static void
close_all(int *fds)
{
	for (int i = 0; i < PROBE_NSOCK; i++)
		if (fds[i] != -1) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* One fresh socket per engine socket; only the mapping socket takes -b's port. */
static int
open_sockets(const struct stun_addr *local, int *fds, struct probe_config *cfg,
             char *err, size_t errlen)
{
	char why[NET_ERRLEN], lbuf[ADDR_STRLEN];

	for (int i = 0; i < PROBE_NSOCK; i++) {
		struct stun_addr a = *local;

		if (i != PROBE_SOCK_MAP)
			a.port = 0;
		fds[i] = net_udp_bind(&a, why);
		if (fds[i] == -1 || net_sock_name(fds[i], &cfg->local[i], why) == -1) {
			errf(err, errlen, "cannot open a UDP socket on %s: %s",
			    addr_fmt(&a, lbuf, sizeof(lbuf)), why);
			close_all(fds);
			return -1;
		}
	}
	return 0;
}

/* Read what is waiting on fd (a bounded burst) and hand it to the engine. */
static void
drain(struct probe *p, int fd, int sock)
{
	uint8_t buf[2048];
	char why[NET_ERRLEN];

	for (int n = 0; n < LOOP_RECV_BURST; n++) {
		struct stun_addr from;
		long len = net_recv(fd, buf, sizeof(buf), &from, why);

		if (len <= 0)
			return;     /* nothing more, or an error (e.g. ICMP) we may ignore */
		probe_input(p, net_now_ms(), sock, &from, buf, (size_t)len);
	}
}

int
loop_detect(const struct loop_opts *o, struct probe *p, struct nat_verdict *v,
            char *err, size_t errlen)
{
	struct probe_config cfg;
	struct loop_ctx ctx;
	struct stun_addr local;
	struct pollfd pfd[PROBE_NSOCK + PORTMAP_NSOCK];
	static struct portmap pm_off;     /* 33 KiB: not on the stack */
	struct portmap_io pm;
	int probe_done = 0;
	int fds[PROBE_NSOCK] = { -1, -1, -1, -1 };
	unsigned send_errors = 0;
	char last_send_error[NET_ERRLEN] = "";

	memset(&cfg, 0, sizeof(cfg));
	if (o->nservers == 0 || o->nservers > PROBE_MAX_SERVERS) {
		errf(err, errlen, "between 1 and %d servers", PROBE_MAX_SERVERS);
		return -1;
	}
	if (resolve_servers(o, &cfg, err, errlen) == -1 ||
	    local_address(o, &cfg.servers[0], &local, err, errlen) == -1 ||
	    open_sockets(&local, fds, &cfg, err, errlen) == -1)
		return -1;

	ctx.start_ms = net_now_ms();
	ctx.verbose = o->verbose;
	cfg.rfc3489_timing = o->rfc3489_timing;
	cfg.timeout_ms = o->timeout_ms;
	cfg.random = loop_random;
	cfg.event = loop_event;
	cfg.event_ctx = &ctx;
	for (int i = 0; i < PROBE_NSOCK; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}

	probe_init(p, &cfg, ctx.start_ms);
	/* The port-mapping probes run beside the STUN tests (portmap_io.h). */
	portmap_io_start(&pm, o->portmap ? o->portmap : &pm_off, o->portmap && !o->no_portmap,
	    &cfg.servers[0], &local, o->timeout_ms, o->verbose, ctx.start_ms);
	for (;;) {
		struct probe_tx tx;
		uint32_t wait_ms = 0, pm_wait = 0;
		uint64_t now = net_now_ms();
		enum probe_step step;
		int pm_done;
		nfds_t npfd;

		if (now > ctx.start_ms + o->timeout_ms + LOOP_GRACE_MS)
			break;
		pm_done = portmap_io_step(&pm, now, probe_done, &pm_wait);
		step = probe_done ? PROBE_DONE : probe_next(p, now, &tx, &wait_ms);
		if (step == PROBE_DONE) {
			probe_done = 1;
			if (pm_done)
				break;
			wait_ms = pm_wait;
		} else if (!pm_done && pm_wait < wait_ms) {
			wait_ms = pm_wait;
		}
		if (step == PROBE_SEND) {
			char why[NET_ERRLEN];

			/* A failed send is a lost datagram to the engine; keep the reason. */
			if (net_send(fds[tx.sock], &tx.to, tx.buf, tx.len, why) == -1) {
				send_errors++;
				snprintf(last_send_error, sizeof(last_send_error), "%s", why);
				if (o->verbose)
					fprintf(stderr, "natcheck: send failed: %s\n", why);
			}
			continue;
		}
		npfd = PROBE_NSOCK + portmap_io_pollfds(&pm, pfd + PROBE_NSOCK);
		if (poll(pfd, npfd, (int)(wait_ms > 60000 ? 60000 : wait_ms)) == -1) {
			if (errno == EINTR)
				continue;
			errf(err, errlen, "poll: %s", strerror(errno));
			close_all(fds);
			portmap_io_end(&pm, net_now_ms());
			return -1;
		}
		for (int i = 0; i < PROBE_NSOCK; i++)
			if (pfd[i].revents & (POLLIN | POLLERR))
				drain(p, fds[i], i);
		portmap_io_ready(&pm, pfd + PROBE_NSOCK, net_now_ms());
	}
	close_all(fds);
	portmap_io_end(&pm, net_now_ms());

	nat_classify(p, v);
	if (o->bind != NULL && local.port != 0)
		nat_warn(v, "local port %u pinned with -b: NAT state left by earlier traffic "
		    "from this port can change the result", (unsigned)local.port);
	if (send_errors > 0)
		nat_warn(v, "%u datagrams could not be sent (%s)", send_errors, last_send_error);
	return 0;
}
