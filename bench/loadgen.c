/*
 * bench/loadgen.c - a STUN Binding load generator for loopback servers.
 *
 *   loadgen [-egq] [-d seconds] [-n count] [-s sockets] [-t timeout_ms]
 *           [-w window] host:port
 *
 * Sends RFC 5389 Binding requests (the bare 20-byte header, section 6) to
 * one loopback endpoint and counts the valid success responses.
 *
 * Why closed loop with a window.  The question is how many requests one
 * server core can answer, so the server must never sit idle waiting for
 * work, and the load must not be so heavy that its receive queue overflows
 * and the kernel throws requests away (then we would measure the kernel's
 * drop path, and an open-loop sender also burns its own core making
 * packets that die).  A fixed window of outstanding requests does both:
 * each answer frees one slot that is refilled at once, so the server's
 * queue always holds about `window` requests - enough to stay busy, small
 * enough to fit in its socket buffer - and the rate we see is the rate the
 * server drains its queue, whichever server it is.  Both servers get the
 * same window, sockets and duration.  A request unanswered after
 * timeout_ms is counted lost and its slot is reused, so a drop cannot
 * shrink the window for good.
 *
 * Every request carries 12 bytes of transaction ID from the OS random
 * source (a pool refilled from /dev/urandom); answers are matched through
 * a small hash table on the ID.  An answer counts as valid when its ID
 * matches an outstanding request, its type is Binding success (0x0101),
 * its length field agrees with the datagram, and its XOR-MAPPED-ADDRESS
 * (or, failing that, MAPPED-ADDRESS) is exactly the socket's own address:
 * a server that answers fast but wrongly gets no credit.
 *
 * -e is for bench/floor.c only, the bare responder that sends each
 * request back with its type flipped to Binding success and nothing
 * added: then an answer is valid when its ID matches, its type is 0x0101
 * and it is exactly the 20-byte header with length 0 - and anything else,
 * a full Binding answer included, is not.
 *
 * Cost on our side.  On loopback the sender's core also runs the
 * receiver's network stack, so the generator pays for delivering each
 * request into the server's socket.  To keep that well below the server's
 * own cost, Linux builds send each batch of requests as one UDP GSO
 * super-datagram (UDP_SEGMENT, 20 bytes a segment): it crosses the stack
 * once and is cut into ordinary 20-byte datagrams just before the server's
 * socket, so the server sees exactly what sendmmsg would have sent.  -g
 * turns this off (and it falls back by itself where UDP_SEGMENT fails).
 *
 * Only loopback targets (127.0.0.0/8, ::1) given as numeric literals are
 * accepted: this tool must never load anybody else's machine.
 *
 * Output: a few human lines on stdout and one machine line
 *   RESULT sent=N received=N rate=N lost=N bad=N stray=N errors=N seconds=F cpu=F
 * where rate is valid responses per second over the measured period and
 * cpu the CPU seconds this generator used in it (to see whether it, not
 * the server, was the bottleneck).
 * Exit status 0 when at least one valid response arrived, 1 otherwise,
 * 2 on a usage error.
 */
#ifdef __linux__
#define _GNU_SOURCE             /* sendmmsg(2), recvmmsg(2) */
#define LOADGEN_MMSG 1
#include <netinet/udp.h>
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103         /* linux/udp.h, Linux 4.18 */
#endif
#define LOADGEN_GSO 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

#define REQ_LEN        20
#define TID_LEN        12               /* the 96-bit ID after the cookie */
#define MAGIC_COOKIE   0x2112A442u
#define BINDING_REQ    0x0001
#define BINDING_OK     0x0101
#define ATTR_MAPPED    0x0001
#define ATTR_XOR_MAPPED 0x0020
#define ATTR_XOR_MAPPED_OLD 0x8020

#define BATCH          64               /* datagrams per sendmmsg/recvmmsg */
#define RX_CAP         1500             /* larger answers are not Binding answers */
#define MAX_SECONDS    60               /* hard cap on -d */
#define MAX_SOCKETS    64
#define MAX_WINDOW     65536
#define MAX_TIMEOUT_MS 10000
#define POOL_LEN       65536            /* random bytes read at a time */
#define POLL_MS        10               /* poll wakeup, for the clock and expiry */
#define EXPIRE_EVERY_NS (20 * 1000000ull)

struct slot {
	uint8_t  tid[TID_LEN];
	uint64_t sent_ns;
	int      busy;
};

struct lsock {
	int      fd;
	int      family;
	uint8_t  addr[16];              /* local address, network order */
	uint16_t port;                  /* local port, host order */
	size_t   nslots;
	struct slot *slots;
	uint32_t *freelist;             /* stack of free slot indices */
	size_t   nfree;
	int32_t *ht;                    /* tid -> slot index, -1 empty */
	size_t   htmask;
	int      gso;                   /* UDP_SEGMENT set on this socket */
};

static int echo_mode;            /* -e: expect bench/floor.c's echoes */

struct stats {
	uint64_t sent, received, received_in_window, lost, bad, stray, errors;
};

/* CPU seconds (user + system) this process has used so far. */
static double
cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint8_t pool[POOL_LEN];
static size_t pool_off = POOL_LEN;
static int urandom_fd = -1;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Fill out with len random bytes from the pool; -1 when urandom fails. */
static int
random_bytes(uint8_t *out, size_t len)
{
	if (pool_off + len > POOL_LEN) {
		size_t got = 0;
		while (got < POOL_LEN) {
			ssize_t r = read(urandom_fd, pool + got, POOL_LEN - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			got += (size_t)r;
		}
		pool_off = 0;
	}
	memcpy(out, pool + pool_off, len);
	pool_off += len;
	return 0;
}

static size_t
tid_home(const struct lsock *s, const uint8_t *tid)
{
	uint32_t k;

	memcpy(&k, tid, sizeof k);      /* random bytes: any 4 of them hash well */
	return k & s->htmask;
}

static void
ht_insert(struct lsock *s, uint32_t idx)
{
	size_t h = tid_home(s, s->slots[idx].tid);

	while (s->ht[h] >= 0)           /* table is 4x the slots: never full */
		h = (h + 1) & s->htmask;
	s->ht[h] = (int32_t)idx;
}

/* Position in the table of the outstanding request with this tid, or -1. */
static long
ht_find(const struct lsock *s, const uint8_t *tid)
{
	size_t h = tid_home(s, tid);

	for (size_t n = 0; n <= s->htmask; n++) {
		int32_t v = s->ht[h];
		if (v < 0)
			return -1;
		if (memcmp(s->slots[v].tid, tid, TID_LEN) == 0)
			return (long)h;
		h = (h + 1) & s->htmask;
	}
	return -1;
}

/* Remove the entry at position pos, shifting later entries of the probe run
 * back so lookups never need tombstones (Knuth, TAOCP 6.4 Algorithm R). */
static void
ht_delete(struct lsock *s, size_t pos)
{
	size_t i = pos, j = pos;

	s->ht[i] = -1;
	for (;;) {
		j = (j + 1) & s->htmask;
		if (s->ht[j] < 0)
			return;
		size_t k = tid_home(s, s->slots[s->ht[j]].tid);
		int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		s->ht[i] = s->ht[j];
		s->ht[j] = -1;
		i = j;
	}
}

static void
slot_release(struct lsock *s, uint32_t idx)
{
	s->slots[idx].busy = 0;
	s->freelist[s->nfree++] = idx;
}

/* A non-blocking UDP socket connected to the target, with room in both
 * buffers for its share of the window; 0 or -1 with errno. */
static int
lsock_open(struct lsock *s, const struct sockaddr_storage *to, socklen_t tolen,
           size_t nslots, int use_gso)
{
	s->fd = socket(to->ss_family, SOCK_DGRAM, 0);
	if (s->fd < 0)
		return -1;
	int flags = fcntl(s->fd, F_GETFL);
	if (flags < 0 || fcntl(s->fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	/* Connected: the kernel filters foreign senders and caches the route. */
	if (connect(s->fd, (const struct sockaddr *)to, tolen) < 0)
		return -1;
	s->gso = 0;
#ifdef LOADGEN_GSO
	if (use_gso) {
		int seg = REQ_LEN;
		s->gso = setsockopt(s->fd, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg) == 0;
	}
#else
	(void)use_gso;
#endif
	int buf = 1 << 20;              /* best effort; capped by rmem_max */
	(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	(void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);

	struct sockaddr_storage me;
	socklen_t melen = sizeof me;
	if (getsockname(s->fd, (struct sockaddr *)&me, &melen) < 0)
		return -1;
	s->family = me.ss_family;
	memset(s->addr, 0, sizeof s->addr);
	if (me.ss_family == AF_INET) {
		const struct sockaddr_in *m = (const struct sockaddr_in *)&me;
		memcpy(s->addr, &m->sin_addr, 4);
		s->port = ntohs(m->sin_port);
	} else {
		const struct sockaddr_in6 *m = (const struct sockaddr_in6 *)&me;
		memcpy(s->addr, &m->sin6_addr, 16);
		s->port = ntohs(m->sin6_port);
	}

	size_t htsize = 1;
	while (htsize < 4 * nslots)
		htsize <<= 1;
	s->nslots = nslots;
	s->slots = calloc(nslots, sizeof *s->slots);
	s->freelist = calloc(nslots, sizeof *s->freelist);
	s->ht = malloc(htsize * sizeof *s->ht);
	if (s->slots == NULL || s->freelist == NULL || s->ht == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < htsize; i++)
		s->ht[i] = -1;
	s->htmask = htsize - 1;
	s->nfree = 0;
	for (size_t i = nslots; i > 0; i--)
		s->freelist[s->nfree++] = (uint32_t)(i - 1);
	return 0;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Check an answer whose tid already matched: Binding success, the header
 * length agrees with the datagram (RFC 5389 section 6), attributes inside
 * it, and the mapped address equals our socket's; under -e, the bare
 * header instead (bench/floor.c's echo).  1 valid, 0 not.
 */
static int
answer_valid(const struct lsock *s, const uint8_t *b, size_t n)
{
	if (n < REQ_LEN || rd16(b) != BINDING_OK)
		return 0;
	size_t mlen = rd16(b + 2);
	if ((mlen & 3) != 0 || REQ_LEN + mlen != n)
		return 0;
	if (echo_mode)
		return mlen == 0;

	int have_xor = 0, have_plain = 0, ok_xor = 0, ok_plain = 0;
	size_t off = REQ_LEN;
	while (off + 4 <= n) {
		uint16_t type = rd16(b + off), alen = rd16(b + off + 2);
		const uint8_t *v = b + off + 4;
		if (alen > n - off - 4)
			return 0;
		if (type == ATTR_XOR_MAPPED || type == ATTR_XOR_MAPPED_OLD || type == ATTR_MAPPED) {
			int is_xor = type != ATTR_MAPPED;
			size_t alen_want = s->family == AF_INET ? 8 : 20;
			int fam_want = s->family == AF_INET ? 1 : 2;
			int match = 0;
			if (alen == alen_want && v[1] == fam_want) {
				uint8_t a[16];
				uint16_t port = rd16(v + 2);
				size_t al = alen - 4;
				memcpy(a, v + 4, al);
				if (is_xor) {
					/* RFC 5389 section 15.2: port ^ top of cookie, address
					 * ^ cookie (then the transaction ID for IPv6). */
					port ^= (uint16_t)(MAGIC_COOKIE >> 16);
					for (size_t i = 0; i < al; i++)
						a[i] ^= b[4 + i];
				}
				match = port == s->port && memcmp(a, s->addr, al) == 0;
			}
			if (is_xor && !have_xor) {
				have_xor = 1;
				ok_xor = match;
			} else if (!is_xor && !have_plain) {
				have_plain = 1;
				ok_plain = match;
			}
		}
		off += 4 + (((size_t)alen + 3) & ~(size_t)3);
	}
	if (off != n)
		return 0;
	return have_xor ? ok_xor : (have_plain && ok_plain);
}

/* Send up to k prepared requests; how many went, or -1 (errno set). */
static int
send_batch(struct lsock *s, uint8_t (*bufs)[REQ_LEN], int k)
{
	int fd = s->fd;
#ifdef LOADGEN_GSO
	if (s->gso && k > 1) {
		/* The rows of bufs are contiguous: one datagram, cut into k. */
		for (;;) {
			ssize_t r = send(fd, bufs, (size_t)k * REQ_LEN, 0);
			if (r >= 0)
				return k;
			if (errno == EINTR)
				continue;
			if (errno != EIO && errno != EINVAL && errno != EOPNOTSUPP)
				return -1;
			s->gso = 0;     /* the path cannot segment: plain sends */
			break;
		}
	}
#endif
#ifdef LOADGEN_MMSG
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];

	for (int i = 0; i < k; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = REQ_LEN;
		memset(&mm[i], 0, sizeof mm[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		int r = sendmmsg(fd, mm, (unsigned)k, 0);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
#else
	int i;
	for (i = 0; i < k; i++) {
		ssize_t r = send(fd, bufs[i], REQ_LEN, 0);
		if (r < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (r < 0)
			return i > 0 ? i : -1;
	}
	return i;
#endif
}

/*
 * Refill this socket's window, but only once a quarter of it (at most one
 * batch) is free: refilling after every single answer would cost a
 * syscall per request, and the server still has three quarters of the
 * window queued meanwhile, so it never runs dry.
 */
static void
fill(struct lsock *s, struct stats *st, uint64_t now, uint64_t max_count)
{
	uint8_t bufs[BATCH][REQ_LEN];
	uint32_t idx[BATCH];
	size_t min_free = s->nslots / 4 < BATCH ? s->nslots / 4 : BATCH;

	if (s->nfree == 0 || s->nfree < min_free)
		return;
	while (s->nfree > 0 && st->sent < max_count) {
		int k = 0;
		while (k < BATCH && s->nfree > 0 && st->sent + (uint64_t)k < max_count) {
			uint32_t i = s->freelist[--s->nfree];
			struct slot *sl = &s->slots[i];
			if (random_bytes(sl->tid, TID_LEN) < 0) {
				fprintf(stderr, "loadgen: /dev/urandom: read failed\n");
				exit(1);
			}
			uint8_t *p = bufs[k];
			p[0] = 0; p[1] = BINDING_REQ;   /* type */
			p[2] = 0; p[3] = 0;             /* no attributes */
			p[4] = 0x21; p[5] = 0x12; p[6] = 0xA4; p[7] = 0x42;
			memcpy(p + 8, sl->tid, TID_LEN);
			idx[k++] = i;
		}
		int r = send_batch(s, bufs, k);
		if (r < 0) {
			/* EAGAIN (our buffer is full) or ECONNREFUSED (an ICMP error
			 * from an earlier send: nobody listening yet): try later. */
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				st->errors++;
			r = 0;
		}
		for (int i = 0; i < r; i++) {
			s->slots[idx[i]].busy = 1;
			s->slots[idx[i]].sent_ns = now;
			ht_insert(s, idx[i]);
		}
		for (int i = k; i > r; i--)
			s->freelist[s->nfree++] = idx[i - 1];
		st->sent += (uint64_t)r;
		if (r < k)
			return;
	}
}

/* Take one answer: match, validate, free its slot. */
static void
take(struct lsock *s, struct stats *st, const uint8_t *b, size_t n, int in_window)
{
	if (n < REQ_LEN) {
		st->stray++;
		return;
	}
	long pos = ht_find(s, b + 8);
	if (pos < 0 || rd16(b + 4) != (MAGIC_COOKIE >> 16) || rd16(b + 6) != (MAGIC_COOKIE & 0xffff)) {
		st->stray++;            /* late (already counted lost) or not ours */
		return;
	}
	uint32_t i = (uint32_t)s->ht[pos];
	ht_delete(s, (size_t)pos);
	slot_release(s, i);
	if (!answer_valid(s, b, n)) {
		st->bad++;
		return;
	}
	st->received++;
	if (in_window)
		st->received_in_window++;
}

/* Read what is waiting on the socket (bounded by its window); how many
 * datagrams were read. */
static size_t
drain(struct lsock *s, struct stats *st, int in_window)
{
	static uint8_t rx[BATCH][RX_CAP];
	size_t got = 0;

	for (size_t rounds = 0; rounds <= s->nslots / BATCH + 1; rounds++) {
#ifdef LOADGEN_MMSG
		struct mmsghdr mm[BATCH];
		struct iovec iov[BATCH];
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = rx[i];
			iov[i].iov_len = RX_CAP;
			memset(&mm[i], 0, sizeof mm[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		int r = recvmmsg(s->fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				st->errors++;
			return got;
		}
		got += (size_t)r;
		for (int i = 0; i < r; i++) {
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				st->stray++;
			else
				take(s, st, rx[i], mm[i].msg_len, in_window);
		}
		if (r < BATCH)
			return got;
#else
		for (int i = 0; i < BATCH; i++) {
			ssize_t r = recv(s->fd, rx[0], RX_CAP, MSG_DONTWAIT);
			if (r < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
					st->errors++;
				return got;
			}
			got++;
			take(s, st, rx[0], (size_t)r, in_window);
		}
#endif
	}
	return got;
}

/* Count requests older than the timeout as lost and free their slots. */
static void
expire(struct lsock *s, struct stats *st, uint64_t now, uint64_t timeout_ns)
{
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct slot *sl = &s->slots[i];
		if (!sl->busy || now - sl->sent_ns < timeout_ns)
			continue;
		long pos = ht_find(s, sl->tid);
		if (pos >= 0)
			ht_delete(s, (size_t)pos);
		slot_release(s, i);
		st->lost++;
	}
}

static size_t
outstanding(const struct lsock *socks, int nsock)
{
	size_t n = 0;

	for (int i = 0; i < nsock; i++)
		n += socks[i].nslots - socks[i].nfree;
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen [-egq] [-d seconds] [-n count] [-s sockets] [-t timeout_ms]\n"
	                "               [-w window] host:port\n");
	exit(2);
}

/* strtol with range check, or usage(). */
static long
number(const char *s, long lo, long hi, const char *what)
{
	char *end;

	errno = 0;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
		fprintf(stderr, "loadgen: %s must be %ld..%ld: %s\n", what, lo, hi, s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	long seconds = 10, nsock = 4, window = 128, timeout_ms = 200;
	uint64_t max_count = 100000000ull;
	int quiet = 0, use_gso = 1, c;

	while ((c = getopt(argc, argv, "d:egn:qs:t:w:")) != -1) {
		switch (c) {
		case 'e': echo_mode = 1; break;
		case 'g': use_gso = 0; break;
		case 'd': seconds = number(optarg, 1, MAX_SECONDS, "-d seconds"); break;
		case 'n': max_count = (uint64_t)number(optarg, 1, LONG_MAX, "-n count"); break;
		case 'q': quiet = 1; break;
		case 's': nsock = number(optarg, 1, MAX_SOCKETS, "-s sockets"); break;
		case 't': timeout_ms = number(optarg, 1, MAX_TIMEOUT_MS, "-t timeout_ms"); break;
		case 'w': window = number(optarg, 1, MAX_WINDOW, "-w window"); break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (window < nsock) {
		fprintf(stderr, "loadgen: -w window (%ld) must be at least -s sockets (%ld)\n",
		        window, nsock);
		return 2;
	}

	struct sockaddr_storage to;
	socklen_t tolen;
	char perr[128];
	int pr = loopback_target(argv[optind], &to, &tolen, perr, sizeof perr);
	if (pr == -1) {
		fprintf(stderr, "loadgen: target must be ADDR:PORT or [ADDR]:PORT: %s\n", argv[optind]);
		return 2;
	}
	if (pr < 0) {
		fprintf(stderr, "loadgen: %s\n", perr);
		return 2;
	}

	urandom_fd = open("/dev/urandom", O_RDONLY);
	if (urandom_fd < 0) {
		perror("loadgen: /dev/urandom");
		return 1;
	}

	struct lsock socks[MAX_SOCKETS];
	struct pollfd pfd[MAX_SOCKETS];
	for (long i = 0; i < nsock; i++) {
		/* Spread the window; the first sockets take the remainder. */
		size_t share = (size_t)(window / nsock + (i < window % nsock));
		if (lsock_open(&socks[i], &to, tolen, share, use_gso) < 0) {
			perror("loadgen: socket");
			return 1;
		}
		pfd[i].fd = socks[i].fd;
		pfd[i].events = POLLIN;
	}

	struct stats st;
	memset(&st, 0, sizeof st);
	uint64_t timeout_ns = (uint64_t)timeout_ms * 1000000ull;
	double cpu0 = cpu_seconds();
	uint64_t t0 = now_ns();
	uint64_t t_end = t0 + (uint64_t)seconds * 1000000000ull;
	uint64_t next_expire = t0 + EXPIRE_EVERY_NS;
	uint64_t now = t0, t_stop;

	/* Measured period: keep the window full until the time or count ends. */
	for (;;) {
		now = now_ns();
		if (now >= t_end)
			break;
		for (long i = 0; i < nsock; i++)
			fill(&socks[i], &st, now, max_count);
		if (st.sent >= max_count && outstanding(socks, (int)nsock) == 0)
			break;
		/* Read without waiting while answers flow; sleep in poll only
		 * when a whole pass found nothing (saves a syscall per pass). */
		size_t got = 0;
		for (long i = 0; i < nsock; i++)
			got += drain(&socks[i], &st, 1);
		if (got == 0 && poll(pfd, (nfds_t)nsock, POLL_MS) < 0 && errno != EINTR) {
			perror("loadgen: poll");
			return 1;
		}
		if (now >= next_expire) {
			for (long i = 0; i < nsock; i++)
				expire(&socks[i], &st, now, timeout_ns);
			next_expire = now + EXPIRE_EVERY_NS;
		}
	}
	t_stop = now;
	double cpu = cpu_seconds() - cpu0;

	/* Tail: send nothing more; give the outstanding requests one timeout
	 * to be answered (they count for loss, not for the rate). */
	uint64_t t_tail = now_ns() + timeout_ns;
	while (outstanding(socks, (int)nsock) > 0) {
		now = now_ns();
		if (now >= t_tail)
			break;
		int ms = (int)((t_tail - now) / 1000000ull) + 1;
		int n = poll(pfd, (nfds_t)nsock, ms < POLL_MS ? ms : POLL_MS);
		for (long i = 0; n > 0 && i < nsock; i++)
			if (pfd[i].revents & (POLLIN | POLLERR))
				drain(&socks[i], &st, 0);
	}
	st.lost += outstanding(socks, (int)nsock);

	double secs = (double)(t_stop - t0) / 1e9;
	double rate = secs > 0 ? (double)st.received_in_window / secs : 0;
	double loss = st.sent > 0 ? 100.0 * (double)st.lost / (double)st.sent : 0;
	if (!quiet) {
		printf("target       %s, %ld sockets, window %ld, timeout %ld ms, %s\n",
		       argv[optind], nsock, window, timeout_ms,
		       socks[0].gso ? "UDP GSO sends" : "plain sends");
		printf("duration     %.2f s, generator CPU %.2f s\n", secs, cpu);
		printf("requests     %llu\n", (unsigned long long)st.sent);
		printf("responses    %llu valid\n", (unsigned long long)st.received);
		printf("responses/s  %.0f\n", rate);
		printf("loss         %llu (%.4f%%)\n", (unsigned long long)st.lost, loss);
		printf("invalid      %llu bad answers, %llu stray or late, %llu socket errors\n",
		       (unsigned long long)st.bad, (unsigned long long)st.stray,
		       (unsigned long long)st.errors);
	}
	printf("RESULT sent=%llu received=%llu rate=%.0f lost=%llu bad=%llu stray=%llu "
	       "errors=%llu seconds=%.3f cpu=%.3f\n",
	       (unsigned long long)st.sent, (unsigned long long)st.received, rate,
	       (unsigned long long)st.lost, (unsigned long long)st.bad,
	       (unsigned long long)st.stray, (unsigned long long)st.errors, secs, cpu);
	return st.received > 0 ? 0 : 1;
}
