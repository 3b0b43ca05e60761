/*
 * lifeloop.c - drive the lifetime engine with real sockets and a real
 * clock (see lifeloop.h).  Plumbing only, like loop.c for the probe.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "lifeloop.h"
#include "net.h"

#define LIFELOOP_RECV_BURST 64

static void
lifeloop_random(void *ctx, uint8_t *buf, size_t len)
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
		if (fds[i] != -1)
			close(fds[i]);
}

int
lifeloop_run(const struct stun_addr *server, uint32_t max_ms, int verbose,
             struct lifetime_result *r, char *err, size_t errlen)
{
	static struct lifetime l;
	struct lifetime_config cfg;
	struct pollfd pfd[LT_NSOCK];
	int fds[LT_NSOCK];
	struct stun_addr local;
	char why[NET_ERRLEN], sbuf[ADDR_STRLEN];

	for (int i = 0; i < LT_NSOCK; i++)
		fds[i] = -1;
	if (net_local_for(server, &local, why) == -1) {
		snprintf(err, errlen, "lifetime: no route to %s: %s",
		    addr_fmt(server, sbuf, sizeof(sbuf)), why);
		return -1;
	}
	local.port = 0;
	for (int i = 0; i < LT_NSOCK; i++) {
		fds[i] = net_udp_bind(&local, why);
		if (fds[i] == -1) {
			snprintf(err, errlen, "lifetime: cannot open a UDP socket: %s", why);
			close_all(fds, LT_NSOCK);
			return -1;
		}
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = *server;
	cfg.max_ms = max_ms;
	cfg.random = lifeloop_random;
	lifetime_init(&l, &cfg, net_now_ms());
	if (verbose)
		fprintf(stderr, "natcheck: lifetime: %d mappings towards %s, up to %u s\n",
		    LT_NMAP, addr_fmt(server, sbuf, sizeof(sbuf)), (unsigned)(max_ms / 1000));
	for (;;) {
		struct lifetime_tx tx;
		uint32_t wait_ms = 0;
		enum lifetime_step step = lifetime_next(&l, net_now_ms(), &tx, &wait_ms);

		if (step == LT_DONE)
			break;
		if (step == LT_SEND) {
			/* A failed send is a lost datagram to the engine. */
			if (net_send(fds[tx.sock], &tx.to, tx.buf, tx.len, why) == -1 && verbose)
				fprintf(stderr, "natcheck: lifetime: send failed: %s\n", why);
			continue;
		}
		if (poll(pfd, LT_NSOCK, (int)wait_ms) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "lifetime: poll: %s", strerror(errno));
			close_all(fds, LT_NSOCK);
			return -1;
		}
		for (int i = 0; i < LT_NSOCK; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			for (int n = 0; n < LIFELOOP_RECV_BURST; n++) {
				uint8_t buf[2048];
				struct stun_addr from;
				long len = net_recv(fds[i], buf, sizeof(buf), &from, why);

				if (len <= 0)
					break;
				lifetime_input(&l, net_now_ms(), i, &from, buf, (size_t)len);
			}
		}
	}
	close_all(fds, LT_NSOCK);
	*r = l.r;
	if (verbose)
		fprintf(stderr, "natcheck: lifetime: %u checks, alive at %u ms, %s %u ms\n",
		    r->checks, r->alive_ms, r->expired ? "expired by" : "none expired, max",
		    r->expired ? r->expired_ms : r->max_ms);
	return 0;
}
