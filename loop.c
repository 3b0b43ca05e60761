/*
 * loop.c - drive the probe engine with real sockets and a real clock.
 *
 * Everything here is plumbing: name resolution, choosing the local address,
 * one fresh socket per engine socket, and a poll() loop that hands the
 * engine the time, every datagram, and every report that a datagram was not
 * delivered.  The engine decides what to send and when; nat_classify(),
 * called by main(), decides what it means.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "portmap_io.h"
#include "resolve_io.h"
#include "tcpprobe_io.h"

/* At most this many datagrams (or error reports) are read from one socket
 * per wake-up, so a flood on one socket cannot starve the clock. */
#define LOOP_RECV_BURST 64

/* The engine ends the run at its timeout; this guards against the loop
 * itself outliving it (it never should). */
#define LOOP_GRACE_MS 1000

/* The longest single poll(); the engine's waits are far shorter, and a
 * bounded wait keeps the grace check above alive whatever it asks. */
#define LOOP_MAX_WAIT_MS 60000

/* Large enough for any STUN answer we accept; longer ones are truncated
 * and then rejected by the decoder's length check. */
#define LOOP_RXBUF 2048

static const char *sock_names[PROBE_NSOCK] = { "map", "filter", "hairpin", "filter2" };

struct loop_ctx {
	uint64_t start_ms;
	int      verbose;
	int      random_failed;     /* the OS random source failed: send nothing */
	const char *tag;            /* -v: "IPv4 " or "IPv6 " when both run, else "" */
};

/* One family's engine and the sockets it owns. */
struct fam_run {
	int      active;            /* sockets open, the engine runs */
	int      done;              /* the engine said PROBE_DONE */
	struct probe *p;
	struct probe_config cfg;
	struct stun_addr local;
	struct loop_ctx ctx;
	int      fds[PROBE_NSOCK];
	int      recverr[PROBE_NSOCK];
};

/* Transaction IDs: the OS random source or nothing.  A failure is recorded
 * and the loop stops before the datagram holding the ID is sent. */
static void
loop_random(void *vctx, uint8_t *buf, size_t len)
{
	struct loop_ctx *ctx = vctx;

	if (net_random(buf, len) == -1) {
		ctx->random_failed = 1;
		memset(buf, 0, len);
	}
}

static unsigned long
since_start(const struct loop_ctx *ctx)
{
	return (unsigned long)(net_now_ms() - ctx->start_ms);
}

/* -v: one line per send, answer, ignored datagram and decision. */
static void
loop_event(void *vctx, const struct probe_event *ev)
{
	struct loop_ctx *ctx = vctx;
	char peer[ADDR_STRLEN];
	unsigned long t = since_start(ctx);
	const char *name = ev->test ? probe_kind_name(ev->test->kind) : "-";
	const char *sock = ev->sock >= 0 && ev->sock < PROBE_NSOCK ? sock_names[ev->sock] : "?";

	if (!ctx->verbose)
		return;
	addr_fmt(&ev->peer, peer, sizeof(peer));
	switch (ev->kind) {
	case PROBE_EV_SEND:
		fprintf(stderr, "natcheck: %5lu ms  %ssend    %-22s #%zu to %s from %s socket\n",
		    t, ctx->tag, name, ev->attempt, peer, sock);
		break;
	case PROBE_EV_ANSWER:
		fprintf(stderr, "natcheck: %5lu ms  %sanswer  %-22s #%zu from %s on %s socket, rtt %u ms\n",
		    t, ctx->tag, name, ev->attempt, peer, sock, (unsigned)ev->rtt_ms);
		break;
	case PROBE_EV_IGNORED:
		fprintf(stderr, "natcheck: %5lu ms  %signored %-22s from %s on %s socket: %s\n",
		    t, ctx->tag, name, peer, sock, ev->why ? ev->why : "not ours");
		break;
	case PROBE_EV_DECIDED:
		fprintf(stderr, "natcheck: %5lu ms  %sdecided %-22s %s after %zu send%s\n",
		    t, ctx->tag, name, probe_result_name(ev->test ? ev->test->result : PROBE_NOT_RUN),
		    ev->attempt, ev->attempt == 1 ? "" : "s");
		break;
	}
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The local address: -b's, or the one the kernel uses towards server 0. */
static int
local_address(const struct loop_opts *o, const struct stun_addr *server,
              struct stun_addr *local, char *err, size_t errlen)
{
	char why[NET_ERRLEN], sbuf[ADDR_STRLEN], bbuf[ADDR_STRLEN];

	if (o->has_bind) {
		if (o->bind.family != server->family) {
			errf(err, errlen, "-b %s and server %s are of different address families",
			    addr_fmt_ip(&o->bind, bbuf, sizeof(bbuf)),
			    addr_fmt(server, sbuf, sizeof(sbuf)));
			return -1;
		}
		*local = o->bind;
		return 0;
	}
	if (net_local_for(server, local, why) == -1) {
		errf(err, errlen, "%s", why);       /* names the server already */
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

/*
 * One fresh socket per engine socket; only the mapping socket takes -b's
 * port.  Each asks for ICMP errors where the system reports them
 * (recverr[i] says whether it does).
 */
static int
open_sockets(const struct stun_addr *local, int *fds, int *recverr,
             struct probe_config *cfg, char *err, size_t errlen)
{
	char why[NET_ERRLEN], lbuf[ADDR_STRLEN];

	for (int i = 0; i < PROBE_NSOCK; i++) {
		struct stun_addr a = *local;

		if (i != PROBE_SOCK_MAP)
			a.port = 0;
		fds[i] = net_udp_bind(&a, why);
		if (fds[i] == -1 || net_sock_name(fds[i], &cfg->local[i], why) == -1 ||
		    (recverr[i] = net_recverr_on(fds[i], a.family, why)) == -1) {
			errf(err, errlen, "cannot open a UDP socket on %s: %s",
			    addr_fmt(&a, lbuf, sizeof(lbuf)), why);
			close_all(fds);
			return -1;
		}
	}
	return 0;
}

static enum probe_unreach
unreach_kind(enum net_unreach_kind k)
{
	return k == NET_UNREACH_PORT ? PROBE_UNREACH_PORT : PROBE_UNREACH_HOST;
}

/* Hand the engine every report waiting in fd's error queue (bounded). */
static void
drain_errors(struct probe *p, struct loop_ctx *ctx, int fd, int sock)
{
	for (int n = 0; n < LOOP_RECV_BURST; n++) {
		struct net_unreach u;
		char why[NET_ERRLEN], dst[ADDR_STRLEN], off[ADDR_STRLEN];

		if (net_recv_error(fd, &u, why) != 1)
			return;
		addr_fmt(&u.dst, dst, sizeof(dst));
		if (u.has_offender)
			addr_fmt_ip(&u.offender, off, sizeof(off));
		else
			snprintf(off, sizeof(off), "?");
		if (u.kind == NET_UNREACH_NONE) {
			if (ctx->verbose)
				fprintf(stderr, "natcheck: %5lu ms  icmp    type %d code %d for %s "
				    "from %s on %s socket: not an unreachable, ignored\n",
				    since_start(ctx), u.icmp_type, u.icmp_code, dst, off,
				    sock_names[sock]);
			continue;
		}
		errf(why, sizeof(why), "ICMP %s unreachable from %s",
		    u.kind == NET_UNREACH_PORT ? "port" : "host", off);
		probe_unreachable(p, net_now_ms(), sock, &u.dst, unreach_kind(u.kind), why);
	}
}

/* Read what is waiting on fd (a bounded burst) and hand it to the engine. */
static void
drain(struct probe *p, struct loop_ctx *ctx, int fd, int sock, int recverr)
{
	uint8_t buf[LOOP_RXBUF];
	char why[NET_ERRLEN];

	if (recverr)
		drain_errors(p, ctx, fd, sock);
	for (int n = 0; n < LOOP_RECV_BURST; n++) {
		struct stun_addr from;
		long len = net_recv(fd, buf, sizeof(buf), &from, why);

		if (len == 0)
			return;
		if (len < 0) {
			/* With IP_RECVERR a pending ICMP error makes recv fail
			 * once; its report is in the error queue.  Without it,
			 * there is nothing to learn from the error. */
			if (!recverr)
				return;
			drain_errors(p, ctx, fd, sock);
			continue;
		}
		probe_input(p, net_now_ms(), sock, &from, buf, (size_t)len);
	}
}

/*
 * Send what the engine asked for.  A failure tells the engine: the
 * destination cannot be reached from here (no route, unusable address), or
 * the datagram is merely lost (EAGAIN, ENOBUFS, a local firewall).
 */
static void
send_tx(struct probe *p, struct loop_ctx *ctx, const int *fds, const int *recverr,
        const struct probe_tx *tx)
{
	char why[NET_ERRLEN];
	int fd = fds[tx->sock], e;

	if (net_send(fd, &tx->to, tx->buf, tx->len, why) == 0)
		return;
	e = errno;
	if (recverr[tx->sock] && (e == ECONNREFUSED || net_send_errno_unreachable(e))) {
		/* Linux reports a pending ICMP error for an earlier datagram,
		 * maybe to another destination, on the next send: read the
		 * queue, which names the real destination, and try once more. */
		drain_errors(p, ctx, fd, tx->sock);
		if (net_send(fd, &tx->to, tx->buf, tx->len, why) == 0)
			return;
		e = errno;
	}
	if (ctx->verbose)
		fprintf(stderr, "natcheck: %5lu ms  %ssend failed: %s\n", since_start(ctx),
		    ctx->tag, why);
	probe_unreachable(p, net_now_ms(), tx->sock, &tx->to,
	    net_send_errno_unreachable(e) ? PROBE_UNREACH_HOST : PROBE_UNREACH_SEND, why);
}

/* -v: the local address of every socket, before anything is sent. */
static void
log_sockets(const struct probe_config *cfg, const char *tag)
{
	char buf[ADDR_STRLEN];

	for (int i = 0; i < PROBE_NSOCK; i++)
		fprintf(stderr, "natcheck: %slocal   %-7s socket %s\n", tag, sock_names[i],
		    addr_fmt(&cfg->local[i], buf, sizeof(buf)));
}


const char *
loop_why_word(enum loop_why w)
{
	switch (w) {
	case LOOP_TESTED:     return "tested";
	case LOOP_NOT_ASKED:  return "not-asked";
	case LOOP_NO_ADDRESS: return "no-address";
	case LOOP_NO_ROUTE:   return "no-route";
	case LOOP_NO_SOCKET:  return "no-socket";
	}
	return "unknown";
}

static const int fam_af[LOOP_NFAM] = { AF_INET, AF_INET6 };
static const char *const fam_name[LOOP_NFAM] = { "IPv4", "IPv6" };

static void
not_tested(struct loop_family *f, enum loop_why why, const char *fmt, const char *arg)
{
	f->why = why;
	errf(f->reason, sizeof(f->reason), fmt, arg);
}

/*
 * The servers of one family, in the order given: those without an address
 * of the family are left out (loop_detect has already warned about the
 * names that resolve to nothing at all), and so is one whose address is an
 * earlier one's (two names for one server), with a note.  0, or -1 when
 * none has one.
 */
static int
resolve_family(const struct loop_opts *o, const struct resolve_out *res, int k,
               struct probe_config *cfg, struct loop_notes *notes, int *noted)
{
	cfg->nservers = 0;
	for (size_t i = 0; i < o->nservers; i++) {
		struct stun_addr *a = &cfg->servers[cfg->nservers];
		size_t j;

		if (!res[i].has[k])
			continue;
		*a = res[i].addr[k];
		for (j = 0; j < i && !(res[j].has[k] && addr_eq(&res[j].addr[k], a)); j++)
			;
		if (j < i) {
			char ab[ADDR_STRLEN];

			if (!noted[i] && notes->nskipped < LOOP_MAX_SERVERS)
				errf(notes->skipped[notes->nskipped++], NET_ERRLEN,
				    "%s is %s, as %s is; server skipped", o->servers[i].spec,
				    addr_fmt(a, ab, sizeof(ab)), o->servers[j].spec);
			noted[i] = 1;
			continue;
		}
		cfg->nservers++;
	}
	return cfg->nservers > 0 ? 0 : -1;
}

/*
 * Set up family k: its servers, its local address and its sockets.  0 when
 * it can run; -1 when it cannot (notes->fam[k] says why).
 */
static int
fam_setup(const struct loop_opts *o, const struct resolve_out *res, int k, struct fam_run *fr,
          struct loop_notes *notes, int *noted)
{
	struct loop_family *f = &notes->fam[k];
	char why[NET_ERRLEN];

	memset(&fr->cfg, 0, sizeof(fr->cfg));
	if (resolve_family(o, res, k, &fr->cfg, notes, noted) == -1) {
		if (o->nservers == 1)
			errf(why, sizeof(why), "%s has no %s address", o->servers[0].spec,
			    fam_name[k]);
		else
			errf(why, sizeof(why), "no server has an %s address", fam_name[k]);
		not_tested(f, LOOP_NO_ADDRESS, "%s", why);
		return -1;
	}
	if (local_address(o, &fr->cfg.servers[0], &fr->local, why, sizeof(why)) == -1) {
		not_tested(f, LOOP_NO_ROUTE, "%s", why);
		return -1;
	}
	if (open_sockets(&fr->local, fr->fds, fr->recverr, &fr->cfg, why, sizeof(why)) == -1) {
		not_tested(f, LOOP_NO_SOCKET, "%s", why);
		return -1;
	}
	fr->active = 1;
	return 0;
}

/* The TCP tests' alternate from the UDP binding answer of the same server
 * (tcpprobe_set_alt), as soon as the UDP engine would use it: a round trip
 * before the TCP answer could name it. */
static void
tcp_alt_from_udp(struct tcpprobe *t, const struct probe *p)
{
	const struct probe_test *b = probe_find(p, PROBE_BINDING, 0);

	if (b == NULL || probe_alt_check(p, b) != PROBE_ADDR_OK ||
	    (probe_server_lies(p, b->server) & PROBE_LIE_OTHER))
		return;
	tcpprobe_set_alt(t, &p->cfg.servers[b->server], &b->other);
}

/* The TCP hairpin test's guess from the same UDP answer (tcpprobe_set_mapped):
 * its mapped IP, when it is not the binding socket's own (there is a NAT). */
static void
tcp_mapped_from_udp(struct tcpprobe *t, const struct probe *p)
{
	const struct probe_test *b = probe_find(p, PROBE_BINDING, 0);

	if (b == NULL || b->result != PROBE_ANSWERED || !b->has_mapped ||
	    addr_ip_eq(&b->mapped, &p->cfg.local[b->sock]))
		return;
	tcpprobe_set_mapped(t, &p->cfg.servers[b->server], &b->mapped);
}

/* The progress line's view of a run: resolution, then the tests. */
struct run_tick {
	const struct loop_opts *o;
	uint64_t t0;                /* the run's start */
	uint32_t resolve_ms;
	char     doing[32];
};

static void
resolve_tick(void *ctx, uint64_t elapsed_ms)
{
	const struct run_tick *rt = ctx;

	rt->o->tick(rt->o->tick_ctx, rt->doing, elapsed_ms,
	    (uint64_t)rt->resolve_ms + rt->o->timeout_ms, 0);
}

int
loop_detect(const struct loop_opts *o, struct probe *const p[LOOP_NFAM],
            struct loop_notes *notes, char *err, size_t errlen)
{
	static struct fam_run fr[LOOP_NFAM];
	struct pollfd pfd[LOOP_NFAM * PROBE_NSOCK + PORTMAP_NSOCK + TCPPROBE_IO_NFDS];
	static struct portmap pm_off;     /* 33 KiB: not on the stack */
	static struct tcpprobe tc_off;
	static struct tcpprobe_io tc;
	struct portmap_io pm;
	static struct resolve_out res[LOOP_MAX_SERVERS];
	struct run_tick rt;
	uint64_t start_ms;
	int family = o->family, nactive = 0, first = -1, rc = 0, want[LOOP_NFAM];
	int noted[LOOP_MAX_SERVERS] = { 0 };

	memset(notes, 0, sizeof(*notes));
	memset(fr, 0, sizeof(fr));
	for (int k = 0; k < LOOP_NFAM; k++)
		for (int i = 0; i < PROBE_NSOCK; i++)
			fr[k].fds[i] = -1;
	if (o->nservers == 0 || o->nservers > PROBE_MAX_SERVERS) {
		errf(err, errlen, "between 1 and %d servers", PROBE_MAX_SERVERS);
		return -1;
	}
	if (family == AF_UNSPEC && o->has_bind)
		family = o->bind.family == 4 ? AF_INET : AF_INET6;
	/* Every server at once, in the families asked for: a warning about
	 * each name that does not resolve, an error when none does. */
	for (int k = 0; k < LOOP_NFAM; k++)
		want[k] = family == AF_UNSPEC || family == fam_af[k];
	rt.o = o;
	rt.t0 = net_now_ms();
	rt.resolve_ms = o->resolve_ms != 0 ? o->resolve_ms : o->timeout_ms;
	snprintf(rt.doing, sizeof(rt.doing), "resolving %zu name%s", o->nservers,
	    o->nservers == 1 ? "" : "s");
	if (resolve_servers(o->servers, o->nservers, want, rt.resolve_ms, o->verbose,
	    o->tick != NULL ? resolve_tick : NULL, &rt, res, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < o->nservers; i++)
		notes->nresolved += res[i].has[0] || res[i].has[1];
	for (size_t i = 0; i < o->nservers; i++) {
		if (res[i].has[0] || res[i].has[1])
			continue;
		errf(notes->skipped[notes->nskipped++], NET_ERRLEN, "cannot resolve %s: %s%s",
		    o->servers[i].host, res[i].why, notes->nresolved > 0 ? "; server skipped" : "");
		noted[i] = 1;
	}
	if (notes->nresolved == 0) {
		/* One name: its reason is the error (one line); several: each
		 * has had its warning, the error says none resolves. */
		if (o->nservers == 1) {
			errf(err, errlen, "cannot resolve %s: %s", o->servers[0].host, res[0].why);
			notes->nskipped = 0;
		} else {
			errf(err, errlen, "none of the %zu server names resolves", o->nservers);
		}
		if (o->tick != NULL)
			o->tick(o->tick_ctx, rt.doing, net_now_ms() - rt.t0, 0, 1);
		return -1;
	}
	for (int k = 0; k < LOOP_NFAM; k++) {
		if (family != AF_UNSPEC && family != fam_af[k]) {
			not_tested(&notes->fam[k], LOOP_NOT_ASKED, "%s",
			    o->has_bind && o->family == AF_UNSPEC ? "-b gives an address of the other family" :
			    family == AF_INET ? "-4 was given" : "-6 was given");
			continue;
		}
		if (fam_setup(o, res, k, &fr[k], notes, noted) == -1) {
			/* The reason of the family whose servers resolved
			 * says more than "no address". */
			if (first == -1 || (notes->fam[first].why == LOOP_NO_ADDRESS &&
			    notes->fam[k].why != LOOP_NO_ADDRESS))
				first = k;
			continue;
		}
		nactive++;
	}
	if (nactive == 0) {
		errf(err, errlen, "%s", first >= 0 ? notes->fam[first].reason : "no family to test");
		if (o->tick != NULL)
			o->tick(o->tick_ctx, rt.doing, net_now_ms() - rt.t0, 0, 1);
		return -1;
	}

	start_ms = net_now_ms();
	for (int k = 0; k < LOOP_NFAM; k++) {
		struct fam_run *f = &fr[k];

		for (int i = 0; i < PROBE_NSOCK; i++) {
			pfd[k * PROBE_NSOCK + i].fd = f->active ? f->fds[i] : -1;
			pfd[k * PROBE_NSOCK + i].events = POLLIN;
		}
		if (!f->active)
			continue;
		f->p = p[k];
		f->ctx.start_ms = start_ms;
		f->ctx.verbose = o->verbose;
		f->ctx.tag = nactive > 1 ? (k == LOOP_FAM_IPV4 ? "IPv4 " : "IPv6 ") : "";
		f->cfg.rfc3489_timing = o->rfc3489_timing;
		f->cfg.timeout_ms = o->timeout_ms;
		f->cfg.pinned_port = o->has_bind && o->bind.port != 0;
		f->cfg.random = loop_random;
		f->cfg.random_ctx = &f->ctx;
		f->cfg.event = loop_event;
		f->cfg.event_ctx = &f->ctx;
		if (o->verbose)
			log_sockets(&f->cfg, f->ctx.tag);
		probe_init(f->p, &f->cfg, start_ms);
	}
	notes->primary = fr[LOOP_FAM_IPV4].active ? LOOP_FAM_IPV4 : LOOP_FAM_IPV6;

	/* The port-mapping probes run beside the STUN tests (portmap_io.h),
	 * towards the top-level family's server. */
	portmap_io_start(&pm, o->portmap ? o->portmap : &pm_off, o->portmap && !o->no_portmap,
	    &fr[notes->primary].cfg.servers[0], &fr[notes->primary].local, o->timeout_ms,
	    o->verbose, start_ms);
	/* So do the TCP tests (--tcp, tcpprobe_io.h), towards the same server. */
	tcpprobe_io_start(&tc, o->tcp ? o->tcp : &tc_off, o->tcp != NULL,
	    &fr[notes->primary].cfg.servers[0], &fr[notes->primary].local, o->timeout_ms,
	    o->verbose, start_ms);
	for (;;) {
		uint32_t wait_ms = LOOP_MAX_WAIT_MS, pm_wait = 0, tc_wait = 0;
		uint64_t now = net_now_ms();
		int pm_done, tc_done, all_done = 1, sent = 0;
		const struct probe *top = fr[notes->primary].p;
		struct probe_pace pace;
		nfds_t npfd, pm_n;

		if (now > start_ms + o->timeout_ms + LOOP_GRACE_MS)
			break;
		for (int k = 0; k < LOOP_NFAM; k++) {
			struct fam_run *f = &fr[k];
			struct probe_tx tx;
			enum probe_step step;
			uint32_t w = 0;

			if (!f->active || f->done)
				continue;
			step = probe_next(f->p, now, &tx, &w);
			if (step == PROBE_DONE) {
				f->done = 1;
				continue;
			}
			all_done = 0;
			if (f->ctx.random_failed)
				break;
			if (step == PROBE_WAIT) {
				if (w < wait_ms)
					wait_ms = w;
				continue;
			}
			sent = 1;
			send_tx(f->p, &f->ctx, f->fds, f->recverr, &tx);
		}
		if (fr[0].ctx.random_failed || fr[1].ctx.random_failed) {
			/* Never send a guessable transaction ID. */
			errf(err, errlen, "cannot read the OS random source");
			rc = -1;
			break;
		}
		pm_done = portmap_io_step(&pm, now, all_done, top->have_rtt ? top->rtt_ms : 0,
		    &pm_wait);
		probe_pace(top, now, &pace);
		if (o->tcp != NULL) {
			tcp_alt_from_udp(o->tcp, top);
			tcp_mapped_from_udp(o->tcp, top);
		}
		tc_done = tcpprobe_io_step(&tc, now, all_done, &pace, &tc_wait);
		if (all_done && pm_done && tc_done)
			break;
		if (sent)
			continue;
		if (!pm_done && pm_wait < wait_ms)
			wait_ms = pm_wait;
		if (!tc_done && tc_wait < wait_ms)
			wait_ms = tc_wait;
		if (o->tick != NULL) {
			o->tick(o->tick_ctx, "testing", now - rt.t0, start_ms - rt.t0 + o->timeout_ms, 0);
			if (wait_ms > LOOP_TICK_MS)
				wait_ms = LOOP_TICK_MS;
		}
		pm_n = portmap_io_pollfds(&pm, pfd + LOOP_NFAM * PROBE_NSOCK);
		npfd = LOOP_NFAM * PROBE_NSOCK + pm_n +
		    tcpprobe_io_pollfds(&tc, pfd + LOOP_NFAM * PROBE_NSOCK + pm_n);
		if (poll(pfd, npfd, (int)wait_ms) == -1) {
			if (errno == EINTR)
				continue;
			errf(err, errlen, "poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		for (int k = 0; k < LOOP_NFAM; k++)
			for (int i = 0; i < PROBE_NSOCK; i++)
				if (fr[k].active &&
				    (pfd[k * PROBE_NSOCK + i].revents & (POLLIN | POLLERR)))
					drain(fr[k].p, &fr[k].ctx, fr[k].fds[i], i, fr[k].recverr[i]);
		portmap_io_ready(&pm, pfd + LOOP_NFAM * PROBE_NSOCK, net_now_ms());
		tcpprobe_io_ready(&tc, pfd + LOOP_NFAM * PROBE_NSOCK + pm_n, net_now_ms());
	}
	if (o->tick != NULL)
		o->tick(o->tick_ctx, "testing", net_now_ms() - rt.t0, 0, 1);
	for (int k = 0; k < LOOP_NFAM; k++)
		close_all(fr[k].fds);
	portmap_io_end(&pm, net_now_ms());
	tcpprobe_io_end(&tc, net_now_ms());
	return rc;
}
