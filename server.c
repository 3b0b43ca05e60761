/*
 * server.c - the dual-address STUN server behind `natcheck --serve`.
 *
 * server_handle() is the protocol: one datagram in, at most one datagram
 * out, no I/O, no allocation.  server_run() is the thin shell around it:
 * the sockets, one single-threaded poll() loop and the signals.
 *
 * Rules worth knowing before reading the code (the man page states them):
 *  - Only Binding requests are answered; anything that is not a STUN
 *    request is dropped without a word (RFC 5389 section 7.3: responses and
 *    indications are never answered with errors).
 *  - RESPONSE-ADDRESS is honoured only when its IP address is the request's
 *    own source IP (any port), so the server cannot be aimed at a third
 *    party (RFC 3489 section 12.1.1 names that attack); otherwise 400.
 *  - No reply is ever longer than the request plus SERVER_REPLY_SLACK
 *    bytes, checked in one place (emit()), so the server is no amplifier.
 */
#if defined(__linux__) && !defined(SERVER_NO_MMSG)
#define _GNU_SOURCE                 /* recvmmsg(2), sendmmsg(2) */
#define SERVER_MMSG 1
#endif

#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

/* ------------------------------------------------------------ protocol */

/* The request's header facts, taken from the decoder or, when decoding
 * failed, straight from the first 20 bytes. */
struct req_head {
	uint16_t method;
	int      cookie;
	uint8_t  tid[STUN_TID_LEN];
};

static int
ep_present(const struct server_cfg *cfg, unsigned i)
{
	if (i > 3 || (!cfg->has_alt && (i & SERVER_EP_ALT_ADDR)))
		return 0;
	return cfg->ep[i].family == 4 || cfg->ep[i].family == 6;
}

/* Mark the datagram as dropped; always returns 0 for `return drop(...)`. */
static int
drop(struct server_reply *reply, const char *why)
{
	reply->len = 0;
	reply->code = 0;
	reply->why = why;
	return 0;
}

/*
 * The single exit for every reply: finish the encoding and enforce the
 * amplification bound.  Whatever the request asked for, a reply longer than
 * the request plus SERVER_REPLY_SLACK bytes is not sent.
 */
static int
emit(struct stun_enc *e, size_t reqlen, struct server_reply *reply)
{
	size_t n = 0;

	if (stun_enc_finish(e, &n) != STUN_OK)
		return drop(reply, "reply does not fit the output buffer");
	if (n > reqlen + SERVER_REPLY_SLACK)
		return drop(reply, "reply would exceed amplification bound");
	reply->len = n;
	return 1;
}

/* SOFTWARE (RFC 5389 section 15.10) when configured; a value over the
 * RFC's 763-byte cap is not sent at all. */
static void
add_software(const struct server_cfg *cfg, struct stun_enc *e)
{
	size_t n;

	if (cfg->software == NULL)
		return;
	n = strlen(cfg->software);
	if (n > 0 && n <= STUN_MAX_TEXT)
		stun_enc_bytes(e, STUN_ATTR_SOFTWARE, cfg->software, n);
}

/*
 * An error response to the request's source, sent from the endpoint the
 * request arrived on (RFC 5389 section 7.3.1).  unknown[] is sent as
 * UNKNOWN-ATTRIBUTES when n > 0.
 */
static int
reply_error(const struct server_cfg *cfg, const struct req_head *h, int code,
            const char *reason, const char *why, const uint16_t *unknown, size_t n,
            size_t reqlen, uint8_t *out, size_t cap, struct server_reply *reply)
{
	struct stun_enc e;

	reply->code = code;
	reply->why = why;
	stun_enc_init(&e, out, cap, stun_msg_type(h->method, STUN_CLASS_ERROR), h->tid);
	stun_enc_error(&e, code, reason);
	/* The encoder repeats a type in the RFC 3489 form to keep an even
	 * count (RFC 3489 section 11.2.10) and pads in the RFC 5389 form. */
	if (n > 0)
		stun_enc_unknown_attrs(&e, unknown, n);
	if (h->cookie) {
		add_software(cfg, &e);
		stun_enc_fingerprint(&e);
	}
	if (!emit(&e, reqlen, reply))
		return 0;
	reply->why = why;
	return 1;
}

/* The method bits of a raw message type (RFC 5389 section 6). */
static uint16_t
raw_method(uint16_t type)
{
	return (uint16_t)((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}

/*
 * A datagram stun_decode() rejected.  Only something that is plainly a
 * STUN request gets a 400 naming the decoder's complaint; everything else
 * (too short, wrong top bits, a bad FINGERPRINT, which RFC 5389 section 7.3
 * treats as "not STUN", or a classic header that is not a Binding request)
 * is dropped.
 */
static int
handle_undecodable(const struct server_cfg *cfg, const uint8_t *req, size_t len,
                   enum stun_status st, uint8_t *out, size_t cap, struct server_reply *reply)
{
	struct req_head h;
	uint16_t type;
	char reason[96];
	const char *what;

	if (st == STUN_ERR_SHORT || st == STUN_ERR_NOT_STUN || st == STUN_ERR_FINGERPRINT ||
	    st == STUN_ERR_TOO_LONG || len < STUN_HEADER_LEN || (req[0] & 0xC0) != 0)
		return drop(reply, stun_strerror(st));
	type = (uint16_t)(req[0] << 8 | req[1]);
	memcpy(h.tid, req + 4, STUN_TID_LEN);
	h.cookie = stun_tid_has_cookie(h.tid);
	h.method = raw_method(type);
	if (!h.cookie && type != STUN_BINDING_REQUEST)
		return drop(reply, "not STUN");
	if ((type & 0x0110) != 0)       /* class bits C1 C0: not a request */
		return drop(reply, "not a request");
	what = stun_strerror(st);
	snprintf(reason, sizeof(reason), "Bad Request: %s", what);
	return reply_error(cfg, &h, 400, reason, what, NULL, 0, len, out, cap, reply);
}

int
server_handle(const struct server_cfg *cfg, unsigned at, const struct stun_addr *from,
              const uint8_t *req, size_t len, uint8_t *out, size_t cap,
              struct server_reply *reply)
{
	struct stun_msg m;
	struct req_head h;
	struct stun_enc e;
	struct stun_addr ra;
	enum stun_status st;
	uint32_t flags = 0;
	uint16_t rport = 0, cr_type = STUN_ATTR_CHANGE_REQUEST;
	int has_ra = 0, has_rport = 0, pad_idx;
	unsigned via;

	memset(reply, 0, sizeof(*reply));
	reply->via = at;
	reply->to = *from;
	if (!ep_present(cfg, at))
		return drop(reply, "arrived on an endpoint the server does not have");

	st = stun_decode(req, len, &m);
	if (st != STUN_OK)
		return handle_undecodable(cfg, req, len, st, out, cap, reply);

	/* RFC 3489 knows only the whole type 0x0001 as a Binding request; a
	 * classic header with any other type is not ours.  Responses and
	 * indications are never answered (RFC 5389 section 7.3). */
	if (!m.has_cookie && m.type != STUN_BINDING_REQUEST)
		return drop(reply, "not STUN");
	if (m.cls != STUN_CLASS_REQUEST)
		return drop(reply, "not a request");

	h.method = m.method;
	h.cookie = m.has_cookie;
	memcpy(h.tid, m.tid, STUN_TID_LEN);
	if (m.method != STUN_METHOD_BINDING)
		return reply_error(cfg, &h, 400, "Bad Request: unsupported method",
		                   "unsupported method", NULL, 0, len, out, cap, reply);
	/* RFC 5389 section 7.3.1: unknown comprehension-required attributes. */
	if (m.nunknown > 0)
		return reply_error(cfg, &h, 420, "Unknown Attribute", "unknown attribute",
		                   m.unknown, m.nunknown, len, out, cap, reply);

	st = stun_get_change_request(&m, &flags);
	if (st != STUN_OK && st != STUN_ERR_NOT_FOUND)
		return reply_error(cfg, &h, 400, "Bad Request: CHANGE-REQUEST", stun_strerror(st),
		                   NULL, 0, len, out, cap, reply);

	/* RESPONSE-ADDRESS (RFC 3489 section 11.2.2), honoured only towards
	 * the requester's own IP: anything else would let one spoofed request
	 * aim the reply at a third party. */
	st = stun_get_addr(&m, STUN_ATTR_RESPONSE_ADDRESS, &ra);
	if (st == STUN_OK) {
		if (!addr_ip_eq(&ra, from) || ra.port == 0)
			return reply_error(cfg, &h, 400,
			                   "Bad Request: RESPONSE-ADDRESS must be the source IP",
			                   "RESPONSE-ADDRESS is not the source IP", NULL, 0, len,
			                   out, cap, reply);
		has_ra = 1;
	} else if (st != STUN_ERR_NOT_FOUND) {
		return reply_error(cfg, &h, 400, "Bad Request: RESPONSE-ADDRESS",
		                   stun_strerror(st), NULL, 0, len, out, cap, reply);
	}

	/* RESPONSE-PORT (RFC 5780 section 7.5): same IP, the given port; never
	 * together with PADDING (section 6.1). */
	pad_idx = stun_find(&m, STUN_ATTR_PADDING);
	st = stun_get_response_port(&m, &rport);
	if (st == STUN_OK) {
		if (pad_idx >= 0)
			return reply_error(cfg, &h, 400, "Bad Request: RESPONSE-PORT with PADDING",
			                   "RESPONSE-PORT with PADDING", NULL, 0, len, out, cap,
			                   reply);
		if (has_ra)
			return reply_error(cfg, &h, 400,
			                   "Bad Request: RESPONSE-PORT with RESPONSE-ADDRESS",
			                   "RESPONSE-PORT with RESPONSE-ADDRESS", NULL, 0, len,
			                   out, cap, reply);
		if (rport == 0)
			return reply_error(cfg, &h, 400, "Bad Request: RESPONSE-PORT 0",
			                   "RESPONSE-PORT 0", NULL, 0, len, out, cap, reply);
		has_rport = 1;
	} else if (st != STUN_ERR_NOT_FOUND) {
		return reply_error(cfg, &h, 400, "Bad Request: RESPONSE-PORT", stun_strerror(st),
		                   NULL, 0, len, out, cap, reply);
	}

	/* CHANGE-REQUEST: "change IP" flips bit 0 of the endpoint, "change
	 * port" bit 1 (RFC 3489 Table 1, RFC 5780 Table 1).  Without the
	 * endpoint asked for, 420 (RFC 5780 section 6.1). */
	via = at;
	if (flags & STUN_CHANGE_IP)
		via ^= SERVER_EP_ALT_ADDR;
	if (flags & STUN_CHANGE_PORT)
		via ^= SERVER_EP_ALT_PORT;
	if (!ep_present(cfg, via)) {
		int no_addr = (flags & STUN_CHANGE_IP) && !cfg->has_alt;

		return reply_error(cfg, &h, 420,
		                   no_addr ? "Unknown Attribute: no alternate address"
		                           : "Unknown Attribute: no alternate port",
		                   no_addr ? "change IP without an alternate address"
		                           : "change port without an alternate port",
		                   &cr_type, 1, len, out, cap, reply);
	}

	reply->via = via;
	if (has_ra)
		reply->to = ra;
	else if (has_rport)
		reply->to.port = rport;

	stun_enc_init(&e, out, cap, STUN_BINDING_SUCCESS, m.tid);
	if (m.has_cookie) {
		/* RFC 5780 section 6.1: both mapped forms, RESPONSE-ORIGIN, and
		 * OTHER-ADDRESS only when there is a second IP (section 7.4). */
		stun_enc_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, from);
		stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, from);
		stun_enc_addr(&e, STUN_ATTR_RESPONSE_ORIGIN, &cfg->ep[via]);
		if (cfg->has_alt)
			stun_enc_addr(&e, STUN_ATTR_OTHER_ADDRESS, &cfg->ep[at ^ 3u]);
	} else {
		/* RFC 3489 section 8.1: MAPPED-, SOURCE- and CHANGED-ADDRESS, the
		 * last being Ca:Cp whatever the flags. */
		stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, from);
		stun_enc_addr(&e, STUN_ATTR_SOURCE_ADDRESS, &cfg->ep[via]);
		if (cfg->has_alt)
			stun_enc_addr(&e, STUN_ATTR_CHANGED_ADDRESS, &cfg->ep[at ^ 3u]);
	}
	if (has_ra)     /* RFC 3489 section 8.1: traceability */
		stun_enc_addr(&e, STUN_ATTR_REFLECTED_FROM, from);
	if (m.has_cookie)
		add_software(cfg, &e);
	if (pad_idx >= 0) {
		/*
		 * PADDING (RFC 5780 section 6.1) echoes the request's own padding
		 * bytes, cut so that the whole reply is no longer than the request:
		 * the client chose the size, and it cannot make us send more.
		 */
		size_t want = m.attrs[pad_idx].len & ~(size_t)3;
		size_t fp = m.has_cookie ? 8 : 0, room = 0;

		if (len > e.len + 4 + fp)
			room = (len - (e.len + 4 + fp)) & ~(size_t)3;
		if (want > room)
			want = room;
		stun_enc_bytes(&e, STUN_ATTR_PADDING, req + m.attrs[pad_idx].off, want);
	}
	if (m.has_cookie)
		stun_enc_fingerprint(&e);
	if (!emit(&e, len, reply))
		return 0;
	reply->why = "binding response";
	return 1;
}

/* --------------------------------------------------------------- shell */

/* Set by the signal handler; the self-pipe wakes poll() without a race
 * between testing the flag and going to sleep. */
static volatile sig_atomic_t stop_requested;
static int wake_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int saved = errno;
	ssize_t r;

	(void)sig;
	stop_requested = 1;
	if (wake_pipe[1] != -1) {
		r = write(wake_pipe[1], "", 1);
		(void)r;            /* a full pipe already wakes poll() */
	}
	errno = saved;
}

/* The endpoints in service, in the order the start-up line lists them:
 * A1:P1 A1:P2 A2:P1 A2:P2. */
static const unsigned ep_order[4] = { 0, 2, 1, 3 };

#define SERVER_DGRAM_MAX 65536      /* largest UDP payload, and then some */

struct srv {
	const struct server_cfg *cfg;
	int      fd[4];
	int      verbose;
};

static void
log_request(const struct srv *s, unsigned at, const struct stun_addr *from, int answered,
            const struct server_reply *r)
{
	char f[ADDR_STRLEN], a[ADDR_STRLEN], v[ADDR_STRLEN], t[ADDR_STRLEN];

	addr_fmt(from, f, sizeof(f));
	addr_fmt(&s->cfg->ep[at], a, sizeof(a));
	if (!answered) {
		fprintf(stderr, "natcheck: %s -> %s: dropped (%s)\n", f, a,
		        r->why != NULL ? r->why : "?");
		return;
	}
	addr_fmt(&s->cfg->ep[r->via], v, sizeof(v));
	addr_fmt(&r->to, t, sizeof(t));
	if (r->code == 0)
		fprintf(stderr, "natcheck: %s -> %s: binding response from %s to %s\n",
		        f, a, v, t);
	else
		fprintf(stderr, "natcheck: %s -> %s: error %d (%s) from %s to %s\n",
		        f, a, r->code, r->why != NULL ? r->why : "?", v, t);
}

#ifdef SERVER_MMSG
/*
 * Linux: up to SERVER_BATCH datagrams per system call each way.  Replies
 * are grouped by the endpoint they leave from, one sendmmsg() per socket.
 */
#define SERVER_BATCH 32

static void
log_send_error(const struct srv *s, const struct stun_addr *to, int e)
{
	char t[ADDR_STRLEN];

	if (s->verbose)
		fprintf(stderr, "natcheck: send to %s: %s\n", addr_fmt(to, t, sizeof(t)),
		        strerror(e));
}

static uint8_t rx_buf[SERVER_BATCH][SERVER_DGRAM_MAX];
static uint8_t tx_buf[SERVER_BATCH][SERVER_DGRAM_MAX];

static void
serve_socket(struct srv *s, unsigned at)
{
	struct mmsghdr rx[SERVER_BATCH], tx[SERVER_BATCH];
	struct iovec rx_iov[SERVER_BATCH], tx_iov[SERVER_BATCH];
	struct sockaddr_storage rx_sa[SERVER_BATCH], tx_sa[SERVER_BATCH];
	struct server_reply rep[SERVER_BATCH];
	unsigned char answered[SERVER_BATCH];
	int i, n, round;

	/* A few batches per wake-up, so one busy socket cannot starve the
	 * other three; poll() brings us back for the rest. */
	for (round = 0; round < 4; round++) {
		for (i = 0; i < SERVER_BATCH; i++) {
			rx_iov[i].iov_base = rx_buf[i];
			rx_iov[i].iov_len = sizeof(rx_buf[i]);
			memset(&rx[i].msg_hdr, 0, sizeof(rx[i].msg_hdr));
			rx[i].msg_hdr.msg_name = &rx_sa[i];
			rx[i].msg_hdr.msg_namelen = sizeof(rx_sa[i]);
			rx[i].msg_hdr.msg_iov = &rx_iov[i];
			rx[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(s->fd[at], rx, SERVER_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    s->verbose)
				fprintf(stderr, "natcheck: receive: %s\n", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++) {
			struct stun_addr from;

			answered[i] = 0;
			if (net_to_stun((struct sockaddr *)&rx_sa[i], &from) == -1)
				continue;
			if (rx[i].msg_hdr.msg_flags & MSG_TRUNC) {
				rep[i].why = "datagram truncated";
				if (s->verbose)
					log_request(s, at, &from, 0, &rep[i]);
				continue;
			}
			answered[i] = (unsigned char)server_handle(s->cfg, at, &from, rx_buf[i],
			                                           rx[i].msg_len, tx_buf[i],
			                                           sizeof(tx_buf[i]), &rep[i]);
			if (s->verbose)
				log_request(s, at, &from, answered[i], &rep[i]);
		}
		for (unsigned via = 0; via < 4; via++) {
			int k = 0, sent = 0, r;

			for (i = 0; i < n; i++) {
				socklen_t salen;

				if (!answered[i] || rep[i].via != via)
					continue;
				net_from_stun(&rep[i].to, &tx_sa[k], &salen);
				tx_iov[k].iov_base = tx_buf[i];
				tx_iov[k].iov_len = rep[i].len;
				memset(&tx[k].msg_hdr, 0, sizeof(tx[k].msg_hdr));
				tx[k].msg_hdr.msg_name = &tx_sa[k];
				tx[k].msg_hdr.msg_namelen = salen;
				tx[k].msg_hdr.msg_iov = &tx_iov[k];
				tx[k].msg_hdr.msg_iovlen = 1;
				k++;
			}
			/* Each pass sends at least one message or skips the one
			 * that failed, so this ends after at most k passes. */
			while (sent < k) {
				r = sendmmsg(s->fd[via], tx + sent, (unsigned)(k - sent), 0);
				if (r <= 0) {
					struct stun_addr to;

					if (net_to_stun((struct sockaddr *)&tx_sa[sent], &to) == 0)
						log_send_error(s, &to, errno);
					sent++;
				} else {
					sent += r;
				}
			}
		}
		if (n < SERVER_BATCH)
			return;
	}
}

#else /* portable: one datagram per system call */

static uint8_t rx_buf[SERVER_DGRAM_MAX];
static uint8_t tx_buf[SERVER_DGRAM_MAX];

static void
serve_socket(struct srv *s, unsigned at)
{
	struct server_reply rep;
	struct stun_addr from;
	char err[NET_ERRLEN];
	long n;
	int i;

	for (i = 0; i < 64; i++) {      /* bounded: fairness between sockets */
		n = net_recv(s->fd[at], rx_buf, sizeof(rx_buf), &from, err);
		if (n < 0) {
			if (s->verbose)
				fprintf(stderr, "natcheck: %s\n", err);
			continue;       /* the pending error is cleared by reading it */
		}
		if (n == 0)
			return;         /* nothing waiting (or an empty datagram) */
		if (server_handle(s->cfg, at, &from, rx_buf, (size_t)n, tx_buf, sizeof(tx_buf),
		                  &rep)) {
			if (s->verbose)
				log_request(s, at, &from, 1, &rep);
			if (net_send(s->fd[rep.via], &rep.to, tx_buf, rep.len, err) == -1 &&
			    s->verbose)
				fprintf(stderr, "natcheck: %s\n", err);
		} else if (s->verbose) {
			log_request(s, at, &from, 0, &rep);
		}
	}
}
#endif

/* A close-on-exec, non-blocking pipe for the signal handler. */
static int
open_wake_pipe(void)
{
	int i, fl;

	if (pipe(wake_pipe) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		fl = fcntl(wake_pipe[i], F_GETFL);
		if (fl == -1 || fcntl(wake_pipe[i], F_SETFL, fl | O_NONBLOCK) == -1 ||
		    fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			return -1;
	}
	return 0;
}

/* The endpoints must form the 2x2 grid server.h describes. */
static int
check_grid(const struct server_cfg *c, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		if ((i & SERVER_EP_ALT_ADDR) && !c->has_alt)
			continue;
		if (c->ep[i].family != 4 && c->ep[i].family != 6) {
			snprintf(err, errlen, "server endpoint %u has no address", i);
			return -1;
		}
		/* A wildcard address cannot be reported as SOURCE-ADDRESS or
		 * RESPONSE-ORIGIN, and the kernel would pick the reply's source. */
		if (addr_is_unspecified(&c->ep[i])) {
			snprintf(err, errlen, "the server needs concrete addresses, not a wildcard");
			return -1;
		}
	}
	if (!addr_ip_eq(&c->ep[0], &c->ep[2]) ||
	    (c->has_alt && !addr_ip_eq(&c->ep[1], &c->ep[3]))) {
		snprintf(err, errlen, "server endpoints: the two ports must share each address");
		return -1;
	}
	if (c->has_alt && (c->ep[0].family != c->ep[1].family || addr_ip_eq(&c->ep[0], &c->ep[1]))) {
		snprintf(err, errlen, "the alternate address must be a different address "
		         "of the same family as the primary");
		return -1;
	}
	if (c->has_alt && (c->ep[0].port != c->ep[1].port || c->ep[2].port != c->ep[3].port)) {
		snprintf(err, errlen, "server endpoints: both addresses must use the same ports");
		return -1;
	}
	if (c->ep[0].port != 0 && c->ep[0].port == c->ep[2].port) {
		snprintf(err, errlen, "the alternate port must differ from the primary port");
		return -1;
	}
	return 0;
}

int
server_run(const struct server_cfg *cfg, int verbose, char *err, size_t errlen)
{
	struct server_cfg c = *cfg;
	struct srv s;
	struct sigaction sa, old_int, old_term;
	struct pollfd pfd[5];
	unsigned map[5], i, k, nfd = 0;
	char nerr[NET_ERRLEN];
	char a[4][ADDR_STRLEN];
	int rc = -1;

	s.cfg = &c;
	s.verbose = verbose;
	for (i = 0; i < 4; i++)
		s.fd[i] = -1;
	if (check_grid(&c, err, errlen) == -1)
		return -1;

	/* Bind A1:P1, A1:P2, then A2:P1, A2:P2.  A port given as 0 is taken
	 * from the kernel for A1 and then used for A2 as well. */
	for (k = 0; k < 4; k++) {
		i = ep_order[k];
		if (!ep_present(&c, i))
			continue;
		if (i & SERVER_EP_ALT_ADDR)
			c.ep[i].port = c.ep[i ^ SERVER_EP_ALT_ADDR].port;
		s.fd[i] = net_udp_bind(&c.ep[i], nerr);
		if (s.fd[i] == -1) {
			snprintf(err, errlen, "%s", nerr);
			goto out;
		}
		if (net_sock_name(s.fd[i], &c.ep[i], nerr) == -1) {
			snprintf(err, errlen, "%s", nerr);
			goto out;
		}
	}
	if (c.ep[0].port == c.ep[2].port) {     /* cannot happen: both bound */
		snprintf(err, errlen, "the alternate port must differ from the primary port");
		goto out;
	}

	if (open_wake_pipe() == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	stop_requested = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;                /* no SA_RESTART: poll() must return */
	if (sigaction(SIGINT, &sa, &old_int) == -1) {
		snprintf(err, errlen, "sigaction: %s", strerror(errno));
		goto out;
	}
	if (sigaction(SIGTERM, &sa, &old_term) == -1) {
		snprintf(err, errlen, "sigaction: %s", strerror(errno));
		sigaction(SIGINT, &old_int, NULL);
		goto out;
	}

	for (k = 0; k < 4; k++) {
		i = ep_order[k];
		if (s.fd[i] == -1)
			continue;
		pfd[nfd].fd = s.fd[i];
		pfd[nfd].events = POLLIN;
		map[nfd++] = i;
	}
	pfd[nfd].fd = wake_pipe[0];
	pfd[nfd].events = POLLIN;
	map[nfd] = 4;

	for (k = 0; k < 4; k++)
		a[k][0] = '\0';
	for (k = 0; k < nfd; k++)
		addr_fmt(&c.ep[map[k]], a[k], sizeof(a[k]));
	fprintf(stderr, "natcheck: serving on %s%s%s%s%s%s%s\n", a[0],
	        nfd > 1 ? " " : "", a[1], nfd > 2 ? " " : "", a[2], nfd > 3 ? " " : "", a[3]);
	fflush(stderr);

	rc = 0;
	while (!stop_requested) {
		int n = poll(pfd, nfd + 1, -1);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		for (k = 0; k < nfd; k++)
			if (pfd[k].revents & (POLLIN | POLLERR))
				serve_socket(&s, map[k]);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	for (i = 0; i < 4; i++)
		if (s.fd[i] != -1)
			close(s.fd[i]);
	for (i = 0; i < 2; i++) {
		if (wake_pipe[i] != -1)
			close(wake_pipe[i]);
		wake_pipe[i] = -1;
	}
	return rc;
}
