/*
 * engloop.c - drive the lifetime and extra-ports engines with real sockets
 * and a real clock (see engloop.h).  Plumbing only, like loop.c for the
 * probe: one generic poll loop, and an adapter per engine.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "engloop.h"
#include "net.h"

#define ENGLOOP_RECV_BURST 64
#define ENGLOOP_MAX_SOCK   LT_NSOCK
#define ENGLOOP_TICK_MS    250      /* the progress line's pace, as loop.c's */

/* What an engine asks for next. */
enum eng_step { ENG_SEND, ENG_WAIT, ENG_DONE };

struct eng_ops {
	enum eng_step (*next)(void *eng, uint64_t now, int *sock, struct stun_addr *to,
	                      const uint8_t **buf, size_t *len, uint32_t *wait_ms);
	void (*input)(void *eng, uint64_t now, int sock, const struct stun_addr *from,
	              const uint8_t *buf, size_t len);
};

static void
engloop_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	if (net_random(buf, len) == -1) {
		/* No OS random source at all: we must not send guessable IDs. */
		fprintf(stderr, "natcheck: cannot read the OS random source\n");
		_exit(1);
	}
}

static void
close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] != -1) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* n fresh sockets on the local address the kernel uses towards `toward`. */
static int
open_socks(const char *name, const struct stun_addr *toward, int n, int *fds,
           struct stun_addr *locals, char *err, size_t errlen)
{
	struct stun_addr local;
	char why[NET_ERRLEN], sbuf[ADDR_STRLEN];

	for (int i = 0; i < n; i++)
		fds[i] = -1;
	if (net_local_for(toward, &local, why) == -1) {
		snprintf(err, errlen, "%s: no route to %s: %s", name,
		    addr_fmt(toward, sbuf, sizeof(sbuf)), why);
		return -1;
	}
	local.port = 0;
	for (int i = 0; i < n; i++) {
		fds[i] = net_udp_bind(&local, why);
		if (fds[i] == -1 || net_sock_name(fds[i], &locals[i], why) == -1) {
			snprintf(err, errlen, "%s: cannot open a UDP socket: %s", name, why);
			close_all(fds, n);
			return -1;
		}
	}
	return 0;
}

/* The progress line's hook for a long engine: what it does, and the
 * longest it can take. */
struct eng_tick {
	void   (*fn)(void *ctx, const char *doing, uint64_t elapsed_ms, uint64_t most_ms, int done);
	void    *ctx;
	const char *doing;
	uint64_t most_ms;
};

/* Drive one engine over fds[0..n) until it is done; closes them.  With a
 * tick, it is called at least every ENGLOOP_TICK_MS, and once with done
 * at the end. */
static int
run(int n, int *fds, const struct eng_ops *ops, void *eng, int verbose, const char *name,
    const struct eng_tick *tick, char *err, size_t errlen)
{
	struct pollfd pfd[ENGLOOP_MAX_SOCK];
	char why[NET_ERRLEN];
	uint64_t t0 = net_now_ms();
	int rc = 0;

	for (int i = 0; i < n; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	for (;;) {
		int sock = 0;
		struct stun_addr to;
		const uint8_t *buf = NULL;
		size_t len = 0;
		uint32_t wait_ms = 0;
		enum eng_step step = ops->next(eng, net_now_ms(), &sock, &to, &buf, &len, &wait_ms);

		if (step == ENG_DONE)
			break;
		if (step == ENG_SEND) {
			/* A failed send is a lost datagram to the engine. */
			if (net_send(fds[sock], &to, buf, len, why) == -1 && verbose)
				fprintf(stderr, "natcheck: %s: send failed: %s\n", name, why);
			continue;
		}
		if (tick != NULL) {
			tick->fn(tick->ctx, tick->doing, net_now_ms() - t0, tick->most_ms, 0);
			if (wait_ms > ENGLOOP_TICK_MS)
				wait_ms = ENGLOOP_TICK_MS;
		}
		if (poll(pfd, (nfds_t)n, (int)(wait_ms > 60000 ? 60000 : wait_ms)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: poll: %s", name, strerror(errno));
			rc = -1;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			for (int k = 0; k < ENGLOOP_RECV_BURST; k++) {
				uint8_t rx[2048];
				struct stun_addr from;
				long got = net_recv(fds[i], rx, sizeof(rx), &from, why);

				if (got <= 0)
					break;
				ops->input(eng, net_now_ms(), i, &from, rx, (size_t)got);
			}
		}
	}
	if (tick != NULL)
		tick->fn(tick->ctx, tick->doing, net_now_ms() - t0, tick->most_ms, 1);
	close_all(fds, n);
	return rc;
}

/* ---------------------------------------------------------------- lifetime */

struct life_adapter {
	struct lifetime l;
	struct lifetime_tx tx;
};

static enum eng_step
life_next(void *eng, uint64_t now, int *sock, struct stun_addr *to, const uint8_t **buf,
          size_t *len, uint32_t *wait_ms)
{
	struct life_adapter *a = eng;

	switch (lifetime_next(&a->l, now, &a->tx, wait_ms)) {
	case LT_SEND:
		*sock = a->tx.sock;
		*to = a->tx.to;
		*buf = a->tx.buf;
		*len = a->tx.len;
		return ENG_SEND;
	case LT_WAIT:
		return ENG_WAIT;
	case LT_DONE:
		break;
	}
	return ENG_DONE;
}

static void
life_input(void *eng, uint64_t now, int sock, const struct stun_addr *from, const uint8_t *buf,
           size_t len)
{
	lifetime_input(&((struct life_adapter *)eng)->l, now, sock, from, buf, len);
}

int
lifeloop_run(const struct stun_addr *server, uint32_t max_ms, int verbose,
             void (*tick)(void *ctx, const char *doing, uint64_t elapsed_ms, uint64_t most_ms,
                          int done),
             void *tick_ctx, struct lifetime_result *r, char *err, size_t errlen)
{
	static struct life_adapter a;
	static const struct eng_ops ops = { life_next, life_input };
	/* lifetime.c's budget at the most: 1.25 x max + 5 s. */
	const struct eng_tick lt_tick = { tick, tick_ctx, "measuring the binding lifetime",
	                                  (uint64_t)max_ms + max_ms / 4 + 5000 };
	struct lifetime_config cfg;
	struct stun_addr locals[LT_NSOCK];
	int fds[LT_NSOCK];
	char sbuf[ADDR_STRLEN];

	if (open_socks("lifetime", server, LT_NSOCK, fds, locals, err, errlen) == -1)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = *server;
	cfg.max_ms = max_ms;
	cfg.random = engloop_random;
	lifetime_init(&a.l, &cfg, net_now_ms());
	if (verbose)
		fprintf(stderr, "natcheck: lifetime: %d mappings towards %s, up to %u s\n",
		    LT_NMAP, addr_fmt(server, sbuf, sizeof(sbuf)), (unsigned)(max_ms / 1000));
	if (run(LT_NSOCK, fds, &ops, &a, verbose, "lifetime", tick != NULL ? &lt_tick : NULL, err,
	    errlen) == -1)
		return -1;
	*r = a.l.r;
	if (verbose)
		fprintf(stderr, "natcheck: lifetime: %u checks, alive at %u ms, %s %u ms\n",
		    r->checks, r->alive_ms, r->expired ? "expired by" : "none expired, max",
		    r->expired ? r->expired_ms : r->max_ms);
	return 0;
}

/* ---------------------------------------------------------------- ports */

struct ports_adapter {
	struct ports_extra x;
	struct ports_extra_tx tx;
};

static enum eng_step
ports_next(void *eng, uint64_t now, int *sock, struct stun_addr *to, const uint8_t **buf,
           size_t *len, uint32_t *wait_ms)
{
	struct ports_adapter *a = eng;

	switch (ports_extra_next(&a->x, now, &a->tx, wait_ms)) {
	case PORTS_EXTRA_SEND:
		*sock = a->tx.sock;
		*to = a->tx.to;
		*buf = a->tx.buf;
		*len = a->tx.len;
		return ENG_SEND;
	case PORTS_EXTRA_WAIT:
		return ENG_WAIT;
	case PORTS_EXTRA_DONE:
		break;
	}
	return ENG_DONE;
}

static void
ports_input(void *eng, uint64_t now, int sock, const struct stun_addr *from, const uint8_t *buf,
            size_t len)
{
	ports_extra_input(&((struct ports_adapter *)eng)->x, now, sock, from, buf, len);
}

int
portsloop_run(const struct stun_addr *dst, uint32_t rtt_ms, int verbose,
              struct ports_sample *s, size_t *n, size_t cap, char *err, size_t errlen)
{
	static struct ports_adapter a;
	static const struct eng_ops ops = { ports_next, ports_input };
	struct stun_addr locals[PORTS_EXTRA_NSOCK];
	int fds[PORTS_EXTRA_NSOCK];

	if (open_socks("ports", dst, PORTS_EXTRA_NSOCK, fds, locals, err, errlen) == -1)
		return -1;
	ports_extra_init(&a.x, locals, dst, rtt_ms, engloop_random, NULL, net_now_ms());
	if (run(PORTS_EXTRA_NSOCK, fds, &ops, &a, verbose, "ports", NULL, err, errlen) == -1)
		return -1;
	ports_extra_samples(&a.x, s, n, cap);
	return 0;
}
