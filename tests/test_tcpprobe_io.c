/*
 * test_tcpprobe_io.c - the TCP tests' sockets, on loopback.
 *
 * Real sockets on 127.0.0.1: the hairpin listener must take our own
 * request even when strangers connected first and hold every slot
 * without a word.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net.h"
#include "tcpprobe_io.h"

static int
connect_to(const struct stun_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	net_from_stun(a, &ss, &sl);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd != -1);
	cr_assert_eq(connect(fd, (struct sockaddr *)&ss, sl), 0, "connect to the listener");
	return fd;
}

/* Let the io accept and read what is waiting (bounded). */
static void
pump(struct tcpprobe_io *io)
{
	for (int n = 0; n < 20; n++) {
		struct pollfd pfd[TCPPROBE_IO_NFDS];
		size_t k = tcpprobe_io_pollfds(io, pfd);

		if (poll(pfd, (nfds_t)k, 20) <= 0)
			return;
		tcpprobe_io_ready(io, pfd, net_now_ms());
	}
}

Test(tcpprobe_io, strangers_do_not_keep_our_hairpin_out)
{
	static struct tcpprobe t;
	static struct tcpprobe_io io;
	struct stun_addr server, local;
	struct tcpprobe_conn *h = &t.c[TCPPROBE_HAIR];
	uint8_t req[20] = { 0x00, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x42 };
	int strangers[TCPPROBE_NACCEPT + 1], fd;

	cr_assert_eq(net_parse_ip("127.0.0.1", &server), 0);
	server.port = 9;            /* never connected to: no io_step is run */
	local = server;
	local.port = 0;
	tcpprobe_io_start(&io, &t, 1, &server, &local, NULL, 3000, 0, net_now_ms());
	cr_assert(io.lfd != -1 && t.cfg.local[1].port != 0, "a listener on loopback");

	/* The hairpin test has sent its request (by hand: no NAT here). */
	h->state = TCPPROBE_S_SENT;
	h->result = TCPPROBE_RUNNING;
	h->ntries = 1;
	h->tries[0] = TCPPROBE_HAIR;
	memset(h->tid, 0x77, sizeof(h->tid));
	memcpy(h->tid, req + 4, 4);

	for (int i = 0; i < TCPPROBE_NACCEPT + 1; i++) {
		strangers[i] = connect_to(&t.cfg.local[1]);
		pump(&io);
	}
	fd = connect_to(&t.cfg.local[1]);
	memcpy(req + 4, h->tid, sizeof(h->tid));
	cr_assert_eq(send(fd, req, sizeof(req), 0), (ssize_t)sizeof(req));
	pump(&io);
	cr_assert_eq(h->result, TCPPROBE_ANSWERED, "our request reached the engine (%s)",
	    tcpprobe_result_name(h->result));

	close(fd);
	for (int i = 0; i < TCPPROBE_NACCEPT + 1; i++)
		close(strangers[i]);
	tcpprobe_io_end(&io, net_now_ms());
	cr_assert_eq(io.lfd, -1);
}
