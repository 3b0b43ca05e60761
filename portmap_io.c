/*
 * portmap_io.c - sockets for the port-mapping probes (see portmap_io.h).
 *
 * Plumbing only: what to send and what it means is portmap.c's business.
 * NAT-PMP's and PCP's sockets are connected to gateway:5351, so only the
 * gateway's datagrams reach them and an ICMP port unreachable comes back
 * as ECONNREFUSED: "nobody listens", decided in one round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "addr.h"
#include "net.h"
#include "portmap_io.h"

#define PORTMAP_ROUTE_MAX   65536   /* bytes of /proc/net/route we read */
#define PORTMAP_RECV_BURST  16

static const char *const sock_names[PORTMAP_NSOCK] = { "nat-pmp", "pcp", "ssdp", "http" };

/* One hexadecimal field of /proc/net/route: the kernel prints the
 * network-order 32-bit value as a host-order integer, so its bytes in
 * memory are the address bytes. */
static int
route_hex(const char *s, uint8_t out[4])
{
	char *end;
	unsigned long v;
	uint32_t v32;

	errno = 0;
	v = strtoul(s, &end, 16);
	if (end == s || errno != 0 || v > 0xffffffffUL)
		return -1;
	v32 = (uint32_t)v;
	memcpy(out, &v32, 4);
	return 0;
}

static unsigned
prefix_len(const uint8_t mask[4])
{
	unsigned n = 0;

	for (int i = 0; i < 4; i++)
		for (int b = 7; b >= 0; b--)
			n += (mask[i] >> b) & 1;
	return n;
}

int
portmap_gateway_parse(const char *table, size_t len, const struct stun_addr *dst,
                      struct stun_addr *gw)
{
	const char *line = table, *end = table + len;
	int best = -1, found = 0;
	unsigned long best_metric = 0;

	if (dst->family != 4 || addr_is_loopback(dst))
		return -1;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t ll = nl ? (size_t)(nl - line) : (size_t)(end - line);
		char buf[256], iface[64], dest[16], gate[16], mask[16];
		unsigned long flags, refcnt, use, metric;
		uint8_t d[4], g[4], mk[4];
		int match = 1, plen;

		if (ll < sizeof(buf)) {
			memcpy(buf, line, ll);
			buf[ll] = '\0';
			/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
			if (sscanf(buf, "%63s %15s %15s %lx %lu %lu %lu %15s", iface, dest, gate,
			    &flags, &refcnt, &use, &metric, mask) == 8 &&
			    route_hex(dest, d) == 0 && route_hex(gate, g) == 0 &&
			    route_hex(mask, mk) == 0 && (flags & 0x1) /* RTF_UP */) {
				for (int i = 0; i < 4; i++)
					if ((dst->addr[i] & mk[i]) != d[i])
						match = 0;
				plen = (int)prefix_len(mk);
				if (match && (plen > best || (plen == best && metric < best_metric))) {
					best = plen;
					best_metric = metric;
					found = (flags & 0x2) != 0;     /* RTF_GATEWAY */
					memset(gw, 0, sizeof(*gw));
					gw->family = 4;
					memcpy(gw->addr, g, 4);
				}
			}
		}
		line = nl ? nl + 1 : end;
	}
	if (best < 0 || !found || addr_is_unspecified(gw) || addr_is_loopback(gw))
		return -1;
	return 0;
}

int
portmap_gateway(const struct stun_addr *dst, struct stun_addr *gw)
{
	static char table[PORTMAP_ROUTE_MAX];
	size_t len;
	FILE *f;

	if (dst->family != 4 || addr_is_loopback(dst))
		return -1;
	f = fopen("/proc/net/route", "r");
	if (f == NULL)
		return -1;      /* not Linux: no gateway known, the probes say null */
	len = fread(table, 1, sizeof(table), f);
	fclose(f);
	return portmap_gateway_parse(table, len, dst, gw);
}

static void
pm_log(struct portmap_io *io, uint64_t now, const char *what, int sock,
      const struct stun_addr *peer)
{
	char a[ADDR_STRLEN];

	if (!io->verbose)
		return;
	fprintf(stderr, "natcheck: %5lu ms  portmap %-8s %s %s\n",
	    (unsigned long)(now - io->t0), sock_names[sock], what,
	    peer ? addr_fmt(peer, a, sizeof(a)) : "");
}

/* A UDP socket on local's address; connected to `peer` when given. */
static int
udp_open(const struct stun_addr *local, const struct stun_addr *peer, int multicast)
{
	struct stun_addr a = *local;
	char why[NET_ERRLEN];
	int fd;

	a.port = 0;
	fd = net_udp_bind(&a, why);
	if (fd == -1)
		return -1;
	if (peer != NULL) {
		struct sockaddr_storage ss;
		socklen_t sl;

		net_from_stun(peer, &ss, &sl);
		if (connect(fd, (struct sockaddr *)&ss, sl) == -1) {
			close(fd);
			return -1;
		}
	}
	if (multicast) {
		/* Out of the interface that holds our address (the gateway's link),
		 * never further than the next router, never looped back. */
		struct in_addr ifa;
		unsigned char ttl = 2, loop = 0;

		memcpy(&ifa, local->addr, 4);
		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa)) == -1 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) == -1 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) == -1) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

void
portmap_io_start(struct portmap_io *io, struct portmap *m, int enabled,
                 const struct stun_addr *server, const struct stun_addr *local,
                 uint32_t timeout_ms, int verbose, uint64_t now_ms)
{
	struct portmap_config cfg;

	memset(io, 0, sizeof(*io));
	memset(&cfg, 0, sizeof(cfg));
	io->m = m;
	io->verbose = verbose;
	io->t0 = now_ms;
	for (int i = 0; i < PORTMAP_NSOCK; i++)
		io->fds[i] = io->slot[i] = -1;
	cfg.enabled = enabled;
	cfg.local = *local;
	cfg.timeout_ms = timeout_ms;
	cfg.multicast = 1;
	if (enabled && local->family == 4 && !addr_is_loopback(local) &&
	    portmap_gateway(server, &cfg.gateway) == 0) {
		struct stun_addr pmp = cfg.gateway;

		pmp.port = PORTMAP_PMP_PORT;
		cfg.has_gateway = 1;
		io->fds[PORTMAP_SOCK_NATPMP] = udp_open(local, &pmp, 0);
		io->fds[PORTMAP_SOCK_PCP] = udp_open(local, &pmp, 0);
		io->fds[PORTMAP_SOCK_SSDP] = udp_open(local, NULL, 1);
	}
	portmap_init(m, &cfg, now_ms);
	/* A socket we could not open: that protocol stays unasked (null). */
	for (int i = 0; i < PORTMAP_SOCK_TCP; i++) {
		struct portmap_proto *p = i == PORTMAP_SOCK_NATPMP ? &m->natpmp
		    : i == PORTMAP_SOCK_PCP ? &m->pcp : &m->upnp;

		if (cfg.has_gateway && io->fds[i] == -1 && p->state == PORTMAP_ASKING) {
			p->state = PORTMAP_UNTRIED;
			if (i == PORTMAP_SOCK_SSDP)
				m->stage = PORTMAP_UPNP_DONE;
		}
	}
	if (verbose && enabled) {
		char a[ADDR_STRLEN];

		fprintf(stderr, "natcheck: portmap: %s\n", cfg.has_gateway
		    ? addr_fmt_ip(&cfg.gateway, a, sizeof(a))
		    : "no IPv4 gateway on the path to the server: nothing asked");
	}
}

static void
tcp_close(struct portmap_io *io)
{
	if (io->fds[PORTMAP_SOCK_TCP] != -1) {
		close(io->fds[PORTMAP_SOCK_TCP]);
		io->fds[PORTMAP_SOCK_TCP] = -1;
	}
}

static void
tcp_connect(struct portmap_io *io, uint64_t now, const struct stun_addr *to)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, fl;

	tcp_close(io);
	net_from_stun(to, &ss, &sl);
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd == -1 || (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		if (fd != -1)
			close(fd);
		portmap_tcp_event(io->m, now, PORTMAP_TCP_FAILED);
		return;
	}
	io->fds[PORTMAP_SOCK_TCP] = fd;
	pm_log(io, now, "connect", PORTMAP_SOCK_TCP, to);
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
		portmap_tcp_event(io->m, now, PORTMAP_TCP_CONNECTED);
	else if (errno != EINPROGRESS)
		portmap_tcp_event(io->m, now, PORTMAP_TCP_FAILED);
}

int
portmap_io_step(struct portmap_io *io, uint64_t now_ms, int others_done, uint32_t rtt_ms,
                 uint32_t *wait_ms)
{
	if (others_done)
		portmap_hurry(io->m, rtt_ms);
	/* Bounded: the engine hands out a handful of actions per wake-up. */
	for (int n = 0; n < 32; n++) {
		struct portmap_tx tx;
		enum portmap_step st = portmap_next(io->m, now_ms, &tx, wait_ms);

		switch (st) {
		case PORTMAP_DONE:
			tcp_close(io);
			return 1;
		case PORTMAP_WAIT:
			return 0;
		case PORTMAP_CLOSE:
			tcp_close(io);
			break;
		case PORTMAP_CONNECT:
			tcp_connect(io, now_ms, &tx.to);
			break;
		case PORTMAP_SEND:
			if (io->fds[tx.sock] == -1)
				break;
			pm_log(io, now_ms, "send", tx.sock, &tx.to);
			if (tx.sock == PORTMAP_SOCK_TCP) {
				/* A request of < 1 KiB on a fresh connection: all of it
				 * fits the send buffer, or the connection is useless. */
				ssize_t w = send(io->fds[tx.sock], tx.buf, tx.len, MSG_NOSIGNAL);

				if (w < 0 || (size_t)w != tx.len)
					portmap_tcp_event(io->m, now_ms, PORTMAP_TCP_FAILED);
			} else if (tx.sock == PORTMAP_SOCK_SSDP) {
				char why[NET_ERRLEN];

				(void)net_send(io->fds[tx.sock], &tx.to, tx.buf, tx.len, why);
			} else if (send(io->fds[tx.sock], tx.buf, tx.len, 0) == -1 &&
			    errno == ECONNREFUSED) {
				portmap_unreachable(io->m, now_ms, tx.sock);
			}
			break;
		}
	}
	*wait_ms = 0;
	return 0;
}

size_t
portmap_io_pollfds(struct portmap_io *io, struct pollfd *pfd)
{
	size_t n = 0;

	for (int i = 0; i < PORTMAP_NSOCK; i++) {
		io->slot[i] = -1;
		if (io->fds[i] == -1 || io->m->done)
			continue;
		pfd[n].fd = io->fds[i];
		pfd[n].events = i == PORTMAP_SOCK_TCP && io->m->tcp == PORTMAP_TCP_CONNECTING
		    ? POLLOUT : POLLIN;
		pfd[n].revents = 0;
		io->slot[i] = (int)n++;
	}
	return n;
}

static void
udp_ready(struct portmap_io *io, int sock, uint64_t now)
{
	uint8_t buf[2048];

	for (int n = 0; n < PORTMAP_RECV_BURST && io->fds[sock] != -1; n++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct stun_addr from;
		ssize_t len = recvfrom(io->fds[sock], buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);

		if (len < 0) {
			if (errno == ECONNREFUSED) {
				pm_log(io, now, "port unreachable", sock, NULL);
				portmap_unreachable(io->m, now, sock);
				continue;
			}
			return;     /* EAGAIN, or an error we cannot use */
		}
		if (net_to_stun((struct sockaddr *)&ss, &from) == -1)
			continue;
		pm_log(io, now, "answer from", sock, &from);
		portmap_input(io->m, now, sock, &from, buf, (size_t)len);
	}
}

static void
tcp_ready(struct portmap_io *io, short revents, uint64_t now)
{
	int fd = io->fds[PORTMAP_SOCK_TCP];

	if (io->m->tcp == PORTMAP_TCP_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 || soerr != 0 ||
		    (revents & (POLLERR | POLLHUP)))
			portmap_tcp_event(io->m, now, PORTMAP_TCP_FAILED);
		else
			portmap_tcp_event(io->m, now, PORTMAP_TCP_CONNECTED);
		return;
	}
	for (int n = 0; n < PORTMAP_RECV_BURST; n++) {
		uint8_t buf[4096];
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r > 0) {
			portmap_input(io->m, now, PORTMAP_SOCK_TCP, NULL, buf, (size_t)r);
			if (io->m->tcp != PORTMAP_TCP_READING)
				return;
			continue;
		}
		if (r == 0)
			portmap_tcp_event(io->m, now, PORTMAP_TCP_EOF);
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			portmap_tcp_event(io->m, now, PORTMAP_TCP_FAILED);
		return;
	}
}

void
portmap_io_ready(struct portmap_io *io, const struct pollfd *pfd, uint64_t now_ms)
{
	for (int i = 0; i < PORTMAP_NSOCK; i++) {
		short re;

		if (io->slot[i] < 0 || io->fds[i] == -1)
			continue;
		re = pfd[io->slot[i]].revents;
		if (re == 0)
			continue;
		if (i == PORTMAP_SOCK_TCP)
			tcp_ready(io, re, now_ms);
		else
			udp_ready(io, i, now_ms);
	}
}

void
portmap_io_end(struct portmap_io *io, uint64_t now_ms)
{
	portmap_finish(io->m, now_ms);
	for (int i = 0; i < PORTMAP_NSOCK; i++)
		if (io->fds[i] != -1) {
			close(io->fds[i]);
			io->fds[i] = -1;
		}
}
