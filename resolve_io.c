/*
 * resolve_io.c - drive the stub resolver with real sockets and a real
 * clock (see resolve_io.h).  Plumbing only: the files are read, each
 * (name, family, nameserver) gets its own connected UDP socket the first
 * time it is asked, and one poll() hands the engine the time, every
 * datagram and every refusal.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolve.h"
#include "resolve_io.h"

#define RESOLVE_RECV_BURST 16
#define RESOLVE_CONF_MAX   65536    /* bytes of resolv.conf read */
#define RESOLVE_LINE_MAX   1024     /* a longer hosts line is skipped */

static const char *const qtype_name[2] = { "A", "AAAA" };

struct io {
	struct resolve r;
	int      fd[RESOLVE_MAX_NAMES][2][DNS_MAX_NS];
	int      random_failed;
	uint64_t start;
	int      verbose;
};

static void
io_random(void *ctx, uint8_t *buf, size_t len)
{
	struct io *io = ctx;

	if (net_random(buf, len) == -1) {
		io->random_failed = 1;
		memset(buf, 0, len);
	}
}

/* resolv.conf, or the C libraries' default without one. */
static void
read_conf(struct dns_conf *c)
{
	static char buf[RESOLVE_CONF_MAX];
	FILE *f = fopen(RESOLVE_CONF_FILE, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	dns_conf_parse(buf, n, c);
	/* A link-local nameserver's zone, as an interface index. */
	for (size_t i = 0; i < c->nns; i++)
		if (c->zone[i][0] != '\0')
			c->ns[i].scope = if_nametoindex(c->zone[i]);
}

/* hosts(5): every name of `idx` (indexes into s) found there is settled
 * from there, both families from the file alone, as getaddrinfo does for
 * an unspecified family.  The others stay in idx; returns their number. */
static size_t
read_hosts(const struct loop_server *s, size_t *idx, size_t n, const int want[2],
           struct resolve_out *out)
{
	struct stun_addr a[RESOLVE_MAX_NAMES][2];
	int has[RESOLVE_MAX_NAMES][2], hit[RESOLVE_MAX_NAMES];
	char line[RESOLVE_LINE_MAX];
	FILE *f = fopen(RESOLVE_HOSTS_FILE, "r");
	size_t left = 0;
	int skipping = 0;

	memset(has, 0, sizeof(has));
	memset(hit, 0, sizeof(hit));
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		/* A piece that ends neither in a newline nor at the end of the
		 * file is part of an overlong line: all of it is skipped. */
		int partial = (len == 0 || line[len - 1] != '\n') && !feof(f);

		if (skipping || partial) {
			skipping = partial;
			continue;
		}
		for (size_t k = 0; k < n; k++)
			hit[k] |= dns_hosts_line(line, len, s[idx[k]].host, &a[k][0], &has[k][0],
			    &a[k][1], &has[k][1]);
	}
	if (f != NULL)
		fclose(f);
	for (size_t k = 0; k < n; k++) {
		struct resolve_out *o = &out[idx[k]];

		if (!hit[k]) {
			idx[left++] = idx[k];
			continue;
		}
		for (int fam = 0; fam < 2; fam++)
			if (want[fam] && has[k][fam]) {
				o->has[fam] = 1;
				o->addr[fam] = a[k][fam];
				o->addr[fam].port = s[idx[k]].port;
			}
		if (!o->has[0] && !o->has[1])
			snprintf(o->why, sizeof(o->why), "no %s address in %s",
			    want[0] && want[1] ? "IPv4 or IPv6" : want[0] ? "IPv4" : "IPv6",
			    RESOLVE_HOSTS_FILE);
	}
	return left;
}

/* Send what the engine asked for, on the socket of (name, family,
 * nameserver), opened the first time.  A refusal goes back to it. */
static void
send_tx(struct io *io, const struct resolve_tx *tx)
{
	int *fd = &io->fd[tx->name][tx->fam][tx->ns];
	char why[NET_ERRLEN], ip[ADDR_STRLEN];
	uint64_t now = net_now_ms();

	if (io->verbose)
		fprintf(stderr, "natcheck: %5lu ms  dns     send %-4s %s #%zu to %s\n",
		    (unsigned long)(now - io->start), qtype_name[tx->fam], tx->qname, tx->attempt,
		    addr_fmt_ip(&io->r.cfg.conf.ns[tx->ns], ip, sizeof(ip)));
	if (*fd == -1 && (*fd = net_udp_connect(&io->r.cfg.conf.ns[tx->ns], why)) == -1) {
		resolve_unreachable(&io->r, now, tx->name, tx->fam, tx->ns, why);
		return;
	}
	if (send(*fd, tx->buf, tx->len, 0) == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != ENOBUFS && errno != EINTR)
		resolve_unreachable(&io->r, now, tx->name, tx->fam, tx->ns,
		    errno == ECONNREFUSED ? "port 53 unreachable" : strerror(errno));
}

/* Read what waits on the socket of (name, fam, ns): a bounded burst. */
static void
drain(struct io *io, size_t name, int fam, size_t ns)
{
	uint8_t buf[4096];

	for (int k = 0; k < RESOLVE_RECV_BURST; k++) {
		ssize_t got = recv(io->fd[name][fam][ns], buf, sizeof(buf), 0);

		if (got >= 0) {
			/* Connected: only the nameserver gets through. */
			resolve_input(&io->r, net_now_ms(), name, fam, ns, &io->r.cfg.conf.ns[ns], buf,
			    (size_t)got);
			continue;
		}
		if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
			resolve_unreachable(&io->r, net_now_ms(), name, fam, ns,
			    errno == ECONNREFUSED ? "port 53 unreachable" : strerror(errno));
		return;
	}
}

static void
close_all(struct io *io)
{
	for (size_t i = 0; i < RESOLVE_MAX_NAMES; i++)
		for (int f = 0; f < 2; f++)
			for (size_t s = 0; s < DNS_MAX_NS; s++)
				if (io->fd[i][f][s] != -1) {
					close(io->fd[i][f][s]);
					io->fd[i][f][s] = -1;
				}
}

/* The engine to the end in one poll loop. */
static int
run(struct io *io, void (*tick)(void *, uint64_t), void *tick_ctx, char *err, size_t errlen)
{
	struct pollfd pfd[RESOLVE_MAX_NAMES * 2 * DNS_MAX_NS];
	struct { size_t name, ns; int fam; } who[RESOLVE_MAX_NAMES * 2 * DNS_MAX_NS];

	for (;;) {
		struct resolve_tx tx;
		uint32_t wait_ms = 0;
		uint64_t now = net_now_ms();
		enum resolve_step st = resolve_next(&io->r, now, &tx, &wait_ms);
		nfds_t np = 0;

		if (io->random_failed) {
			/* Never send a guessable ID. */
			snprintf(err, errlen, "cannot read the OS random source");
			return -1;
		}
		if (st == RESOLVE_DONE)
			return 0;
		if (st == RESOLVE_SEND) {
			send_tx(io, &tx);
			continue;
		}
		if (tick != NULL) {
			tick(tick_ctx, now - io->start);
			if (wait_ms > LOOP_TICK_MS)
				wait_ms = LOOP_TICK_MS;
		}
		for (size_t i = 0; i < RESOLVE_MAX_NAMES; i++)
			for (int f = 0; f < 2; f++)
				for (size_t k = 0; k < DNS_MAX_NS; k++)
					if (io->fd[i][f][k] != -1) {
						pfd[np].fd = io->fd[i][f][k];
						pfd[np].events = POLLIN;
						who[np].name = i;
						who[np].fam = f;
						who[np++].ns = k;
					}
		if (poll(pfd, np, (int)wait_ms) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		for (nfds_t k = 0; k < np; k++)
			if (pfd[k].revents & (POLLIN | POLLERR))
				drain(io, who[k].name, who[k].fam, who[k].ns);
	}
}

int
resolve_servers(const struct loop_server *s, size_t n, const int want[2], uint32_t limit_ms,
                int verbose, void (*tick)(void *ctx, uint64_t elapsed_ms), void *tick_ctx,
                struct resolve_out *out, char *err, size_t errlen)
{
	static struct io io;
	struct resolve_config cfg;
	size_t idx[RESOLVE_MAX_NAMES], nnames = 0;
	int rc;

	memset(out, 0, n * sizeof(*out));
	if (n > RESOLVE_MAX_NAMES) {
		snprintf(err, errlen, "at most %d servers", RESOLVE_MAX_NAMES);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int fam = s[i].addr.family == 6;

		if (!s[i].literal) {
			idx[nnames++] = i;
			continue;
		}
		if (want[fam]) {
			out[i].has[fam] = 1;
			out[i].addr[fam] = s[i].addr;
			out[i].addr[fam].port = s[i].port;
		} else {
			snprintf(out[i].why, sizeof(out[i].why), "an IPv%d address",
			    s[i].addr.family);
		}
	}
	if (nnames > 0)
		nnames = read_hosts(s, idx, nnames, want, out);
	if (nnames == 0)
		return 0;

	memset(&io, 0, sizeof(io));
	memset(io.fd, -1, sizeof(io.fd));
	memset(&cfg, 0, sizeof(cfg));
	read_conf(&cfg.conf);
	for (size_t k = 0; k < nnames; k++)
		cfg.names[k] = s[idx[k]].host;
	cfg.nnames = nnames;
	cfg.want[0] = want[0];
	cfg.want[1] = want[1];
	cfg.limit_ms = limit_ms;
	cfg.random = io_random;
	cfg.random_ctx = &io;
	io.verbose = verbose;
	io.start = net_now_ms();
	resolve_init(&io.r, &cfg, io.start);
	rc = run(&io, tick, tick_ctx, err, errlen);
	close_all(&io);
	if (rc == -1)
		return -1;
	for (size_t k = 0; k < nnames; k++) {
		const struct resolve_name *rn = &io.r.n[k];
		struct resolve_out *o = &out[idx[k]];
		char a4[ADDR_STRLEN], a6[ADDR_STRLEN];

		for (int fam = 0; fam < 2; fam++)
			if (rn->has[fam]) {
				o->has[fam] = 1;
				o->addr[fam] = rn->addr[fam];
				o->addr[fam].port = s[idx[k]].port;
			}
		o->ms = rn->ms;
		resolve_why_text(&io.r, k, o->why, sizeof(o->why));
		if (verbose)
			fprintf(stderr, "natcheck: %5lu ms  dns     %s: %s%s%s%s\n", (unsigned long)rn->ms,
			    s[idx[k]].host, o->has[0] ? addr_fmt_ip(&o->addr[0], a4, sizeof(a4)) : "",
			    o->has[0] && o->has[1] ? ", " : "",
			    o->has[1] ? addr_fmt_ip(&o->addr[1], a6, sizeof(a6)) : "", o->why);
	}
	return 0;
}
