/*
 * bench/floor.c - the syscall floor for the server benchmark.
 *
 *   floor ADDR:PORT | [ADDR]:PORT
 *
 * The least work a batching UDP responder can do per STUN Binding request
 * on Linux: one socket, recvmmsg() up to FLOOR_BATCH datagrams, flip each
 * request's message type from Binding request (0x0001) to Binding success
 * (0x0101) in place, and sendmmsg() the same bytes back to their sources.
 * No parsing beyond the two type bytes and the 20-byte minimum, no
 * attributes, no copies: the reply is the request with two bytes changed.
 * The loop polls only when a batch came back short, so under load it is
 * recvmmsg, sendmmsg, recvmmsg, ...
 *
 * bench/server.sh measures it beside `natcheck --serve` with the same
 * generator, the same core and the same batch size, so natcheck's rate
 * over this one is the fraction of the machine's per-datagram system-call
 * cost that natcheck's own work leaves (the project's target: >= 0.85).
 * bench/loadgen.c accepts these header-only echoes only under -e; see
 * bench/README ("The syscall floor") for why the floor sends no
 * XOR-MAPPED-ADDRESS.
 *
 * Linux only (recvmmsg, sendmmsg); a bench tool, not part of natcheck.
 * Only loopback literals are accepted: this is not a server to deploy.
 * SIGINT or SIGTERM ends it; it then prints how many requests it answered.
 * Exit status 0 on a signal, 1 on a socket error, 2 on a usage error.
 */
#ifndef __linux__
#error "bench/floor.c is Linux-only: it measures recvmmsg/sendmmsg"
#endif
#define _GNU_SOURCE             /* recvmmsg(2), sendmmsg(2) */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"

#define FLOOR_BATCH 32          /* = SERVER_BATCH in server.c */
#define FLOOR_DGRAM 2048        /* a Binding request is 20 bytes; more is not ours */
#define STUN_HDR    20

static volatile sig_atomic_t stop;
static int wake[2] = { -1, -1 };

/* Self-pipe, as in server.c: a signal between the flag test and poll()
 * still wakes poll(), and the busy path pays no extra system call. */
static void
on_signal(int sig)
{
	int saved = errno;
	ssize_t r;

	(void)sig;
	stop = 1;
	r = write(wake[1], "", 1);
	(void)r;                /* a full pipe already wakes poll() */
	errno = saved;
}

static uint8_t buf[FLOOR_BATCH][FLOOR_DGRAM];

/*
 * Answer until a signal: 0, or -1 on a socket error (message printed).
 * *answered counts the replies the kernel took.
 */
static int
serve(int fd, unsigned long long *answered)
{
	struct mmsghdr rx[FLOOR_BATCH], tx[FLOOR_BATCH];
	struct iovec rx_iov[FLOOR_BATCH], tx_iov[FLOOR_BATCH];
	struct sockaddr_storage sa[FLOOR_BATCH];
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN }, { .fd = wake[0], .events = POLLIN } };
	int i, n, k, sent, r, idle = 0;

	while (!stop) {
		if (idle && poll(pfd, 2, -1) < 0 && errno != EINTR) {
			perror("floor: poll");
			return -1;
		}
		for (i = 0; i < FLOOR_BATCH; i++) {
			rx_iov[i].iov_base = buf[i];
			rx_iov[i].iov_len = FLOOR_DGRAM;
			memset(&rx[i].msg_hdr, 0, sizeof rx[i].msg_hdr);
			rx[i].msg_hdr.msg_name = &sa[i];
			rx[i].msg_hdr.msg_namelen = sizeof sa[i];
			rx[i].msg_hdr.msg_iov = &rx_iov[i];
			rx[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, rx, FLOOR_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				perror("floor: recvmmsg");
				return -1;
			}
			idle = 1;
			continue;
		}
		/* A short batch emptied the queue: poll before the next read
		 * instead of a recvmmsg that would only say EAGAIN. */
		idle = n < FLOOR_BATCH;
		for (i = 0, k = 0; i < n; i++) {
			uint8_t *p = buf[i];
			/* Only a Binding request, whole, gets its type flipped;
			 * anything else is dropped (no reflector). */
			if ((rx[i].msg_hdr.msg_flags & MSG_TRUNC) || rx[i].msg_len < STUN_HDR ||
			    p[0] != 0x00 || p[1] != 0x01)
				continue;
			p[0] = 0x01;    /* 0x0001 -> 0x0101, RFC 5389 section 6 */
			tx_iov[k].iov_base = p;
			tx_iov[k].iov_len = rx[i].msg_len;
			memset(&tx[k].msg_hdr, 0, sizeof tx[k].msg_hdr);
			tx[k].msg_hdr.msg_name = &sa[i];
			tx[k].msg_hdr.msg_namelen = rx[i].msg_hdr.msg_namelen;
			tx[k].msg_hdr.msg_iov = &tx_iov[k];
			tx[k].msg_hdr.msg_iovlen = 1;
			k++;
		}
		/* Like server.c: a failed message is skipped, so this ends. */
		for (sent = 0; sent < k; ) {
			r = sendmmsg(fd, tx + sent, (unsigned)(k - sent), 0);
			if (r <= 0) {
				sent++;
			} else {
				sent += r;
				*answered += (unsigned long long)r;
			}
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct sigaction sa;
	unsigned long long answered = 0;
	int fd, fl, i, rc;

	char perr[128];

	if (argc != 2) {
		fprintf(stderr, "usage: floor ADDR:PORT | [ADDR]:PORT\n");
		return 2;
	}
	switch (loopback_target(argv[1], &ss, &sslen, perr, sizeof perr)) {
	case 0:
		break;
	case -1:
		fprintf(stderr, "floor: target must be ADDR:PORT or [ADDR]:PORT: %s\n", argv[1]);
		return 2;
	default:
		fprintf(stderr, "floor: %s\n", perr);
		return 2;
	}
	if (pipe(wake) == -1) {
		perror("floor: pipe");
		return 1;
	}
	for (i = 0; i < 2; i++) {
		fl = fcntl(wake[i], F_GETFL);
		if (fl == -1 || fcntl(wake[i], F_SETFL, fl | O_NONBLOCK) == -1) {
			perror("floor: fcntl");
			return 1;
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1) {
		perror("floor: sigaction");
		return 1;
	}

	/* The same socket natcheck's net_udp_bind() makes: non-blocking,
	 * default buffers, no SO_REUSEADDR/SO_REUSEPORT. */
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd == -1) {
		perror("floor: socket");
		return 1;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		perror("floor: fcntl");
		return 1;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1) {
		fprintf(stderr, "floor: bind %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(stderr, "floor: serving on %s\n", argv[1]);

	rc = serve(fd, &answered);
	fprintf(stderr, "floor: answered %llu\n", answered);
	close(fd);
	return rc == 0 ? 0 : 1;
}
