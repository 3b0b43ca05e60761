/*
 * delayer.c - a delay line for the NAT lab (test-only; not part of natcheck).
 *
 *   delayer -d MS [-i IDLE_MS -H HOLD_MS] [-l SECONDS] [-q FRAMES] IF_A IF_B
 *
 * Forwards every Ethernet frame that arrives on IF_A out of IF_B and every
 * frame from IF_B out of IF_A, each MS milliseconds after it arrived, in
 * arrival order.  Run between two veth ends in a namespace of their own,
 * it is the wire between the lab's client and router: a round trip through
 * it takes 2 * MS longer.
 *
 * A cold path (-i and -H together): once no frame has arrived, in either
 * direction, for IDLE_MS, the next frame wakes the wire up and it passes
 * nothing for HOLD_MS: that frame and every frame that arrives meanwhile
 * wait until HOLD_MS after it, then go on in order (each MS later as
 * always).  So does a cellular radio waking up, or a neighbour being
 * resolved on a fresh link: the first exchange takes a second or two, the
 * next a few milliseconds.  Each wake-up that holds a frame is logged on
 * stderr as it happens ("delayer: wire idle N ms: holding frames for H
 * ms"), the first LOG_WAKEUPS of them.
 *
 * Why a wire and not NFQUEUE: the lab kernel has no nft `queue` expression,
 * and a packet held in the router before conntrack confirms it lets a
 * retransmission of the same flow create a second conntrack entry that NAT
 * maps to another port - the lab would turn every NAT symmetric under delay.
 *
 * Bounded: at most FRAMES frames wait per direction (more are dropped and
 * counted); the program exits on SIGTERM or SIGINT, or after SECONDS
 * (default 600), and prints its counters on stderr.
 *
 * A veth may hand over a UDP datagram whose checksum the sender left for
 * the "hardware" to fill in (TP_STATUS_CSUMNOTREADY).  Sent again through a
 * packet socket it would leave unfinished, so UDP checksums of such frames
 * are computed here, over IPv4 (RFC 768) and IPv6 (RFC 2460 section 8.1),
 * and TCP checksums over IPv4 (RFC 793).
 */
#define _DEFAULT_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define FRAME_MAX 2048          /* larger than the veth MTU plus headers */
#define DRAIN_MAX 64            /* frames read per socket per wake-up */
#define LOG_WAKEUPS 1000        /* cold-path wake-ups logged, at most */

struct frame {
	uint64_t due_ms;
	uint16_t len;
	uint8_t  data[FRAME_MAX];
};

/* One direction: frames read from in_fd wait in a ring, then go to out_fd. */
struct line {
	const char *name;
	int      in_fd;
	int      out_fd;
	struct frame *ring;
	size_t   cap, head, count;
	unsigned long passed, dropped_full, dropped_big, send_errors, checksums;
};

/* The cold path, shared by both directions (see the top). */
struct cold {
	long     idle_ms, hold_ms;     /* 0: no cold path */
	int      seen;                 /* a frame has arrived before */
	uint64_t last_ms;              /* when the last frame arrived */
	uint64_t awake_ms;             /* the wire passes nothing before this */
	unsigned long wakeups, held;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A raw socket on one interface: every frame in, none of our own out-frames,
 * promiscuous so frames for the far end's MAC address are seen too. */
static int open_port(const char *ifname)
{
	unsigned idx = if_nametoindex(ifname);
	if (idx == 0) {
		fprintf(stderr, "delayer: no interface %s\n", ifname);
		return -1;
	}
	/* Protocol 0 until bound: no frame of another interface queues up. */
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("delayer: socket(AF_PACKET)");
		return -1;
	}
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	int one = 1;
	struct packet_mreq mr;
	memset(&mr, 0, sizeof mr);
	mr.mr_ifindex = (int)idx;
	mr.mr_type = PACKET_MR_PROMISC;
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
		fprintf(stderr, "delayer: setting up %s: %s\n", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

/* Write the UDP checksum of the ulen bytes at udp, acc holding the sum of
 * the pseudo-header.  A sum of 0 is sent as 0xffff: 0 means "no checksum"
 * over IPv4 (RFC 768) and is forbidden over IPv6 (RFC 2460 section 8.1). */
static void put_udp_checksum(uint8_t *udp, size_t ulen, uint32_t acc)
{
	udp[6] = udp[7] = 0;
	acc = sum16(acc, udp, ulen);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	uint16_t c = (uint16_t)~acc;
	if (c == 0)
		c = 0xffff;
	udp[6] = (uint8_t)(c >> 8);
	udp[7] = (uint8_t)c;
}

/* The transport header of an unfragmented IPv4 packet of protocol proto in
 * an Ethernet frame of len bytes, at least min bytes long: *tlen gets its
 * length.  NULL when the frame is not such a packet or does not hold
 * together (then it is passed on as it is). */
static uint8_t *ipv4_payload(uint8_t *f, size_t len, uint8_t proto, size_t min, size_t *tlen)
{
	const size_t eth = 14;
	if (len < eth + 20 || f[12] != 0x08 || f[13] != 0x00)
		return NULL;
	uint8_t *ip = f + eth;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t tot = (size_t)ip[2] << 8 | ip[3];
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl + min || eth + tot > len || ip[9] != proto)
		return NULL;
	if ((ip[6] & 0x3f) != 0 || ip[7] != 0)      /* MF flag or an offset: a fragment */
		return NULL;
	*tlen = tot - ihl;
	return ip + ihl;
}

/* Fill in the UDP checksum of an unfragmented IPv4 datagram in an Ethernet
 * frame.  Returns 1 when done, 0 when the frame is not such a datagram. */
static int fix_udp4_checksum(uint8_t *f, size_t len)
{
	size_t tlen;
	uint8_t *udp = ipv4_payload(f, len, 17, 8, &tlen);
	if (udp == NULL)
		return 0;
	size_t ulen = (size_t)udp[4] << 8 | udp[5];
	if (ulen < 8 || ulen > tlen)
		return 0;
	uint32_t acc = sum16(0, f + 14 + 12, 8);    /* source and destination */
	put_udp_checksum(udp, ulen, acc + 17u + (uint32_t)ulen);
	return 1;
}

/* The same for an IPv6 datagram whose UDP header follows the fixed header
 * directly (no extension header: the lab sends none).  The pseudo-header
 * is RFC 2460 section 8.1's: source, destination, the UDP length, 17. */
static int fix_udp6_checksum(uint8_t *f, size_t len)
{
	const size_t eth = 14, hdr = 40;
	if (len < eth + hdr + 8 || f[12] != 0x86 || f[13] != 0xdd)
		return 0;
	uint8_t *ip = f + eth;
	size_t plen = (size_t)ip[4] << 8 | ip[5];
	if ((ip[0] >> 4) != 6 || ip[6] != 17 || plen < 8 || eth + hdr + plen > len)
		return 0;
	uint8_t *udp = ip + hdr;
	size_t ulen = (size_t)udp[4] << 8 | udp[5];
	if (ulen < 8 || ulen > plen)
		return 0;
	uint32_t acc = sum16(0, ip + 8, 32);        /* source and destination */
	put_udp_checksum(udp, ulen, acc + 17u + (uint32_t)ulen);
	return 1;
}

/* Fill in the TCP checksum of an unfragmented IPv4 segment in an Ethernet
 * frame (RFC 793 section 3.1: over a pseudo header and the segment).
 * Returns 1 when done, 0 when the frame is not such a segment. */
static int fix_tcp4_checksum(uint8_t *f, size_t len)
{
	size_t tlen;
	uint8_t *tcp = ipv4_payload(f, len, 6, 20, &tlen);
	if (tcp == NULL)
		return 0;
	tcp[16] = tcp[17] = 0;
	uint32_t acc = sum16(0, f + 14 + 12, 8);    /* source and destination */
	acc += 6u + (uint32_t)tlen;
	acc = sum16(acc, tcp, tlen);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	uint16_t c = (uint16_t)~acc;
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	return 1;
}

/* When a frame that arrives at now may go on its way (before the delay):
 * now, unless the wire is cold and still waking up. */
static uint64_t cold_ready(struct cold *c, uint64_t now)
{
	if (c->hold_ms == 0)
		return now;
	if (!c->seen || now - c->last_ms >= (uint64_t)c->idle_ms) {
		c->awake_ms = now + (uint64_t)c->hold_ms;
		if (c->wakeups++ < LOG_WAKEUPS)
			fprintf(stderr, "delayer: wire idle %llu ms: holding frames for %ld ms\n",
			        c->seen ? (unsigned long long)(now - c->last_ms) : 0ull, c->hold_ms);
	}
	c->seen = 1;
	c->last_ms = now;
	if (c->awake_ms <= now)
		return now;
	c->held++;
	return c->awake_ms;
}

/* Read what is waiting on l->in_fd (at most DRAIN_MAX frames) into the
 * ring, each due `delay` ms after it may go (see cold_ready). */
static void take(struct line *l, uint64_t now, long delay, struct cold *cold)
{
	for (int n = 0; n < DRAIN_MAX; n++) {
		uint8_t buf[FRAME_MAX];
		union {
			struct cmsghdr h;
			uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
		struct sockaddr_ll from;
		struct msghdr msg;
		memset(&msg, 0, sizeof msg);
		msg.msg_name = &from;
		msg.msg_namelen = sizeof from;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof ctl.b;

		ssize_t got = recvmsg(l->in_fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
		if (got < 0)
			return;                             /* EAGAIN, or nothing usable */
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if ((size_t)got > sizeof buf || (msg.msg_flags & MSG_TRUNC)) {
			l->dropped_big++;
			continue;
		}
		if (l->count == l->cap) {
			l->dropped_full++;
			continue;
		}
		int partial = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
				struct tpacket_auxdata aux;
				memcpy(&aux, CMSG_DATA(c), sizeof aux);
				partial = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
			}
		}
		if (partial && (fix_udp4_checksum(buf, (size_t)got) ||
		                fix_udp6_checksum(buf, (size_t)got) ||
		                fix_tcp4_checksum(buf, (size_t)got)))
			l->checksums++;
		struct frame *f = &l->ring[(l->head + l->count) % l->cap];
		f->due_ms = cold_ready(cold, now) + (uint64_t)delay;
		f->len = (uint16_t)got;
		memcpy(f->data, buf, (size_t)got);
		l->count++;
	}
}

/* Send every frame that is due; return the time until the next one, or -1. */
static long give(struct line *l, uint64_t now)
{
	while (l->count > 0) {
		struct frame *f = &l->ring[l->head];
		if (f->due_ms > now)
			return (long)(f->due_ms - now);
		if (send(l->out_fd, f->data, f->len, 0) < 0)
			l->send_errors++;
		else
			l->passed++;
		l->head = (l->head + 1) % l->cap;
		l->count--;
	}
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: delayer -d MS [-i IDLE_MS -H HOLD_MS] [-l SECONDS] [-q FRAMES] "
	        "IF_A IF_B\n"
	        "  -d MS       hold every frame MS ms (0..10000)\n"
	        "  -i IDLE_MS  after IDLE_MS (1..600000) without a frame either way ...\n"
	        "  -H HOLD_MS  ... pass nothing for HOLD_MS (1..10000), then all in order\n"
	        "  -l SECONDS  exit after SECONDS (1..86400, default 600)\n"
	        "  -q FRAMES   at most FRAMES waiting per direction (1..65536, default 1024)\n");
	exit(2);
}

static long number(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	long delay = -1, life = 600, qmax = 1024;
	struct cold cold;
	int opt;

	memset(&cold, 0, sizeof cold);
	while ((opt = getopt(argc, argv, "d:i:H:l:q:")) != -1) {
		switch (opt) {
		case 'd': delay = number(optarg, 0, 10000); break;
		case 'i': cold.idle_ms = number(optarg, 1, 600000); break;
		case 'H': cold.hold_ms = number(optarg, 1, 10000); break;
		case 'l': life = number(optarg, 1, 86400); break;
		case 'q': qmax = number(optarg, 1, 65536); break;
		default: usage();
		}
	}
	if (delay < 0 || argc - optind != 2 || (cold.idle_ms == 0) != (cold.hold_ms == 0))
		usage();

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int fa = open_port(argv[optind]), fb = open_port(argv[optind + 1]);
	if (fa < 0 || fb < 0)
		return 1;
	struct line lines[2] = {
		{ .name = "a->b", .in_fd = fa, .out_fd = fb, .cap = (size_t)qmax },
		{ .name = "b->a", .in_fd = fb, .out_fd = fa, .cap = (size_t)qmax },
	};
	for (int i = 0; i < 2; i++) {
		lines[i].ring = calloc(lines[i].cap, sizeof *lines[i].ring);
		if (!lines[i].ring) {
			fprintf(stderr, "delayer: out of memory\n");
			return 1;
		}
	}

	const uint64_t deadline = now_ms() + (uint64_t)life * 1000u;
	while (!stop_signal) {
		uint64_t now = now_ms();
		if (now >= deadline)
			break;
		long wait = (long)(deadline - now);
		for (int i = 0; i < 2; i++) {
			long w = give(&lines[i], now);
			if (w >= 0 && w < wait)
				wait = w;
		}
		struct pollfd pfd[2] = { { .fd = fa, .events = POLLIN }, { .fd = fb, .events = POLLIN } };
		int r = poll(pfd, 2, (int)(wait > 1000 ? 1000 : wait));
		if (r < 0 && errno != EINTR) {
			perror("delayer: poll");
			break;
		}
		if (r <= 0)
			continue;
		now = now_ms();
		for (int i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLIN | POLLERR))
				take(&lines[i], now, delay, &cold);
		}
	}

	for (int i = 0; i < 2; i++) {
		struct line *l = &lines[i];
		fprintf(stderr, "delayer %s: %lu passed, %lu dropped (queue full), %lu dropped (too big), "
		        "%lu send errors, %lu checksums computed, %zu in flight at exit\n",
		        l->name, l->passed, l->dropped_full, l->dropped_big, l->send_errors,
		        l->checksums, l->count);
		free(l->ring);
	}
	if (cold.hold_ms > 0)
		fprintf(stderr, "delayer cold path: %lu wake-ups, %lu frames held\n", cold.wakeups,
		        cold.held);
	close(fa);
	close(fb);
	return 0;
}
