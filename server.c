/*
 * server.c - the dual-address STUN server behind `natcheck --serve`.
 *
 * server_handle() is the protocol: one datagram in, at most one datagram
 * out, no I/O, no allocation.  server_run() is the thin shell around it:
 * the sockets, one single-threaded poll() loop and the signals.
 *
 * server_handle() is a short pipeline over a request context (struct
 * req_ctx): parse -> read the attributes -> choose the endpoint -> encode.
 *
 * Rules worth knowing before reading the code (the man page states them):
 *  - Only Binding requests are answered.  A datagram that fails a
 *    header-level check (length, top bits, method, class, FINGERPRINT) is
 *    dropped without a word (RFC 5389 section 7.3); only a well-formed
 *    Binding request with a bad attribute gets a 400.
 *  - RESPONSE-ADDRESS is honoured only when its IP address is the request's
 *    own source IP (any port), so the server cannot be aimed at a third
 *    party (RFC 3489 section 12.1.1 names that attack); otherwise 400.
 *  - Optional attributes only fill the room the request paid for, and no
 *    reply is ever longer than the request plus SERVER_REPLY_SLACK bytes,
 *    checked in one place (emit()), so the server is no amplifier.
 */
#if defined(__linux__) && !defined(SERVER_NO_MMSG)
#define _GNU_SOURCE                 /* recvmmsg(2), sendmmsg(2) */
#define SERVER_MMSG 1
#endif
/* getifaddrs(3) is not POSIX; where it is missing (or SERVER_NO_IFADDRS),
 * only the limited broadcast and multicast are refused as addresses. */
#if !defined(SERVER_NO_IFADDRS) && (defined(__linux__) || defined(__APPLE__) || \
    defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__))
#define SERVER_IFADDRS 1
#endif

#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#ifdef SERVER_IFADDRS
#include <ifaddrs.h>
#endif

#include "net.h"

/* ------------------------------------------------------------ protocol */

/* An attribute with n value bytes on the wire: header and padding. */
#define ATTR_SIZE(n)     (4u + (((size_t)(n) + 3u) & ~(size_t)3u))
/* FINGERPRINT on the wire: header + CRC-32 (RFC 5389 section 15.5). */
#define FINGERPRINT_SIZE ATTR_SIZE(4)

/* Where a request stands after a step of server_handle's pipeline. */
enum step {
	GO_ON,                      /* nothing wrong so far */
	DROP,                       /* no answer; reply->why says why */
	REFUSE                      /* an error response; reply->code, ->why set */
};

/*
 * One request on its way through server_handle: parse -> read the
 * attributes -> choose the endpoint -> encode.  Each step fills in what it
 * learnt; an error response takes its code, reason and unknown attributes
 * from here.
 */
struct req_ctx {
	const struct server_cfg *cfg;
	unsigned at;                /* the endpoint the request arrived on */
	const struct stun_addr *from;
	const uint8_t *req;
	size_t   len;
	uint8_t *out;
	size_t   cap;
	struct server_reply *reply; /* via, to, code, why */
	struct stun_header head;
	struct stun_msg m;          /* valid once the attributes decoded */
	uint32_t flags;             /* CHANGE-REQUEST */
	int      reflect;           /* RESPONSE-ADDRESS honoured: REFLECTED-FROM */
	int      pad_idx;           /* the request's PADDING in m.attrs, or -1 */
	const char *reason;         /* ERROR-CODE reason phrase */
	const uint16_t *unknown;    /* UNKNOWN-ATTRIBUTES, nunknown of them */
	size_t   nunknown;
	char     reason_buf[96];
};

static const uint16_t change_request_type = STUN_ATTR_CHANGE_REQUEST;

static int
ep_present(const struct server_cfg *cfg, unsigned i)
{
	if (i >= SERVER_NEP || (!cfg->has_alt && (i & SERVER_EP_ALT_ADDR)))
		return 0;
	return cfg->ep[i].family == 4 || cfg->ep[i].family == 6;
}

static enum step
drop(struct req_ctx *c, const char *why)
{
	c->reply->why = why;
	return DROP;
}

static enum step
refuse(struct req_ctx *c, int code, const char *reason, const char *why)
{
	c->reply->code = code;
	c->reply->why = why;
	c->reason = reason;
	return REFUSE;
}

/* 400 naming a status of the codec, for a request that is well formed
 * as far as its header goes. */
static enum step
refuse_bad(struct req_ctx *c, const char *what, enum stun_status st)
{
	const char *text = stun_strerror(st);

	snprintf(c->reason_buf, sizeof(c->reason_buf), "Bad Request: %s%s%s",
	         what != NULL ? what : "", what != NULL ? ": " : "", text);
	return refuse(c, 400, c->reason_buf, text);
}

/*
 * Step 1, the header (RFC 5389 section 7.3): whatever fails a header-level
 * check is discarded silently, never answered: too short or too long, the
 * top bits set, a length that is misaligned or does not match the
 * datagram, anything but a Binding request (RFC 3489 knows only the whole
 * type 0x0001; responses and indications are never answered), and a wrong
 * FINGERPRINT.  Only then are the attributes decoded, and a bad one earns a
 * 400: the request is plainly STUN and plainly ours.
 */
static enum step
parse_request(struct req_ctx *c)
{
	enum stun_status st;

	if (!ep_present(c->cfg, c->at))
		return drop(c, "arrived on an endpoint the server does not have");
	/* RFC 768: source port 0 means that no reply is wanted (nor possible). */
	if (c->from->port == 0)
		return drop(c, "source port 0");
	st = stun_peek_header(c->req, c->len, &c->head);
	if (st != STUN_OK)
		return drop(c, stun_strerror(st));
	if (!c->head.has_cookie && c->head.type != STUN_BINDING_REQUEST)
		return drop(c, "not STUN");
	if (c->head.cls != STUN_CLASS_REQUEST)
		return drop(c, "not a request");
	if (c->head.method != STUN_METHOD_BINDING)
		return drop(c, "unsupported method");
	st = stun_decode(c->req, c->len, &c->m);
	if (st == STUN_ERR_FINGERPRINT)
		return drop(c, stun_strerror(st));
	if (st != STUN_OK)
		return refuse_bad(c, NULL, st);
	return GO_ON;
}

/* RESPONSE-ADDRESS (RFC 3489 section 11.2.2), honoured only towards the
 * requester's own IP: anything else would let one spoofed request aim the
 * reply at a third party (RFC 3489 section 12.1.1). */
static enum step
read_response_address(struct req_ctx *c)
{
	struct stun_addr ra;
	enum stun_status st = stun_get_addr(&c->m, STUN_ATTR_RESPONSE_ADDRESS, &ra);

	if (st == STUN_ERR_NOT_FOUND)
		return GO_ON;
	if (st != STUN_OK)
		return refuse_bad(c, "RESPONSE-ADDRESS", st);
	if (!addr_ip_eq(&ra, c->from) || ra.port == 0)
		return refuse(c, 400, "Bad Request: RESPONSE-ADDRESS must be the source IP",
		              "RESPONSE-ADDRESS is not the source IP");
	c->reflect = 1;
	c->reply->to = ra;
	return GO_ON;
}

/* RESPONSE-PORT (RFC 5780 section 7.5): the source IP, this port; never
 * with PADDING (section 6.1) nor with RESPONSE-ADDRESS. */
static enum step
read_response_port(struct req_ctx *c)
{
	uint16_t port;
	enum stun_status st = stun_get_response_port(&c->m, &port);

	if (st == STUN_ERR_NOT_FOUND)
		return GO_ON;
	if (st != STUN_OK)
		return refuse_bad(c, "RESPONSE-PORT", st);
	if (c->pad_idx >= 0)
		return refuse(c, 400, "Bad Request: RESPONSE-PORT with PADDING",
		              "RESPONSE-PORT with PADDING");
	if (c->reflect)
		return refuse(c, 400, "Bad Request: RESPONSE-PORT with RESPONSE-ADDRESS",
		              "RESPONSE-PORT with RESPONSE-ADDRESS");
	if (port == 0)
		return refuse(c, 400, "Bad Request: RESPONSE-PORT 0", "RESPONSE-PORT 0");
	c->reply->to.port = port;
	return GO_ON;
}

/* Step 2, the attributes: unknown comprehension-required ones (420, RFC
 * 5389 section 7.3.1), then what the request asks of the reply. */
static enum step
read_attributes(struct req_ctx *c)
{
	enum stun_status st;
	enum step s;

	if (c->m.nunknown > 0) {
		c->unknown = c->m.unknown;
		c->nunknown = c->m.nunknown;
		return refuse(c, 420, "Unknown Attribute", "unknown attribute");
	}
	st = stun_get_change_request(&c->m, &c->flags);
	if (st != STUN_OK && st != STUN_ERR_NOT_FOUND)
		return refuse_bad(c, "CHANGE-REQUEST", st);
	c->pad_idx = stun_find(&c->m, STUN_ATTR_PADDING);
	s = read_response_address(c);
	if (s == GO_ON)
		s = read_response_port(c);
	return s;
}

/* Step 3: CHANGE-REQUEST's "change IP" flips bit 0 of the endpoint, "change
 * port" bit 1 (RFC 3489 Table 1, RFC 5780 Table 1); an endpoint the server
 * does not have is a 420 naming CHANGE-REQUEST (RFC 5780 section 6.1). */
static enum step
choose_endpoint(struct req_ctx *c)
{
	unsigned via = c->at;

	if (c->flags & STUN_CHANGE_IP)
		via ^= SERVER_EP_ALT_ADDR;
	if (c->flags & STUN_CHANGE_PORT)
		via ^= SERVER_EP_ALT_PORT;
	if (!ep_present(c->cfg, via)) {
		c->unknown = &change_request_type;
		c->nunknown = 1;
		if ((c->flags & STUN_CHANGE_IP) && !c->cfg->has_alt)
			return refuse(c, 420, "Unknown Attribute: no alternate address",
			              "change IP without an alternate address");
		return refuse(c, 420, "Unknown Attribute: no alternate port",
		              "change port without an alternate port");
	}
	c->reply->via = via;
	return GO_ON;
}

/*
 * The optional attributes, in the room the request paid for: the reply
 * grows up to the request's own length, or not at all when what the RFCs
 * require is already longer (see SERVER_REPLY_SLACK).  SOFTWARE is the
 * first to be left out, then FINGERPRINT, so a long version string never
 * costs an answer.  PADDING (RFC 5780 section 6.1) echoes the request's own
 * padding bytes, cut so that the reply is never longer than the request:
 * with no room there is no PADDING attribute at all.  Only the RFC 5389
 * form gets SOFTWARE and FINGERPRINT: an RFC 3489 client knows neither.
 */
static void
add_optional(const struct req_ctx *c, struct stun_enc *e, int pad)
{
	size_t room = c->len > e->len ? c->len : e->len;
	size_t fp = 0, sw = 0;

	if (c->head.has_cookie) {
		if (e->len + FINGERPRINT_SIZE <= room)
			fp = FINGERPRINT_SIZE;
		if (c->cfg->software != NULL)
			sw = strlen(c->cfg->software);
		/* A value over the RFC's 763-byte cap is not sent at all. */
		if (sw > 0 && sw <= STUN_MAX_TEXT && e->len + ATTR_SIZE(sw) + fp <= room)
			stun_enc_bytes(e, STUN_ATTR_SOFTWARE, c->cfg->software, sw);
	}
	if (pad && c->pad_idx >= 0 && e->len + ATTR_SIZE(0) + fp <= c->len) {
		const struct stun_attr *p = &c->m.attrs[c->pad_idx];
		size_t n = (c->len - e->len - ATTR_SIZE(0) - fp) & ~(size_t)3;

		stun_enc_bytes(e, STUN_ATTR_PADDING, c->req + p->off, p->len < n ? p->len : n);
	}
	if (fp > 0)
		stun_enc_fingerprint(e);
}

/*
 * Step 4, the single exit for every reply: finish the encoding and enforce
 * the amplification bound (SERVER_REPLY_SLACK) once more.  Returns 1 when
 * there is a reply to send.
 */
static int
emit(struct req_ctx *c, struct stun_enc *e)
{
	size_t n = 0;

	if (stun_enc_finish(e, &n) != STUN_OK) {
		c->reply->why = "reply does not fit the output buffer";
		return 0;
	}
	if (n > c->len + SERVER_REPLY_SLACK) {
		c->reply->why = "reply would exceed amplification bound";
		return 0;
	}
	c->reply->len = n;
	return 1;
}

/* An error response to the request's source, from the endpoint it arrived
 * on (RFC 5389 section 7.3.1).  The encoder repeats an UNKNOWN-ATTRIBUTES
 * type in the RFC 3489 form (RFC 3489 section 11.2.10) and pads in the RFC
 * 5389 form. */
static int
reply_error(struct req_ctx *c)
{
	struct stun_enc e;

	c->reply->via = c->at;
	c->reply->to = *c->from;
	stun_enc_init(&e, c->out, c->cap, STUN_BINDING_ERROR, c->head.tid);
	stun_enc_error(&e, c->reply->code, c->reason);
	if (c->nunknown > 0)
		stun_enc_unknown_attrs(&e, c->unknown, c->nunknown);
	add_optional(c, &e, 0);
	return emit(c, &e);
}

/* A Binding success response: RFC 5780 section 6.1 in the RFC 5389 form
 * (both mapped forms, RESPONSE-ORIGIN, OTHER-ADDRESS when there is a second
 * address), RFC 3489 section 8.1 without the cookie (MAPPED-, SOURCE- and
 * CHANGED-ADDRESS, the last being Ca:Cp whatever the flags). */
static int
reply_success(struct req_ctx *c)
{
	const struct server_cfg *cfg = c->cfg;
	const struct stun_addr *src = &cfg->ep[c->reply->via];
	const struct stun_addr *other = &cfg->ep[c->at ^ SERVER_EP_OTHER];
	struct stun_enc e;

	stun_enc_init(&e, c->out, c->cap, STUN_BINDING_SUCCESS, c->head.tid);
	if (c->head.has_cookie) {
		stun_enc_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, c->from);
		stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, c->from);
		stun_enc_addr(&e, STUN_ATTR_RESPONSE_ORIGIN, src);
		if (cfg->has_alt)
			stun_enc_addr(&e, STUN_ATTR_OTHER_ADDRESS, other);
	} else {
		stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, c->from);
		stun_enc_addr(&e, STUN_ATTR_SOURCE_ADDRESS, src);
		if (cfg->has_alt)
			stun_enc_addr(&e, STUN_ATTR_CHANGED_ADDRESS, other);
	}
	if (c->reflect)     /* RFC 3489 section 8.1: traceability */
		stun_enc_addr(&e, STUN_ATTR_REFLECTED_FROM, c->from);
	add_optional(c, &e, 1);
	if (!emit(c, &e))
		return 0;
	c->reply->why = "binding response";
	return 1;
}

int
server_handle(const struct server_cfg *cfg, unsigned at, const struct stun_addr *from,
              const uint8_t *req, size_t len, uint8_t *out, size_t cap,
              struct server_reply *reply)
{
	struct req_ctx c;
	enum step s;

	memset(reply, 0, sizeof(*reply));
	reply->via = at;
	reply->to = *from;
	/* Field by field: the hot path need not clear the decoded message
	 * (stun_decode fills it) nor the reason buffer. */
	c.cfg = cfg;
	c.at = at;
	c.from = from;
	c.req = req;
	c.len = len;
	c.out = out;
	c.cap = cap;
	c.reply = reply;
	c.flags = 0;
	c.reflect = 0;
	c.pad_idx = -1;
	c.reason = NULL;
	c.unknown = NULL;
	c.nunknown = 0;

	s = parse_request(&c);
	if (s == GO_ON)
		s = read_attributes(&c);
	if (s == GO_ON)
		s = choose_endpoint(&c);
	if (s == GO_ON)
		return reply_success(&c);
	if (s == REFUSE)
		return reply_error(&c);
	return 0;
}

/* --------------------------------------------------------- addresses */

#ifdef SERVER_IFADDRS
/* Leading one bits of an IPv4 netmask.  The BSDs may cut a netmask after
 * its last non-zero byte (sa_len says where), so only bytes that are
 * there are read. */
static unsigned
mask_prefix(const struct sockaddr *mask)
{
	const uint8_t *p = (const uint8_t *)mask;
	size_t at = offsetof(struct sockaddr_in, sin_addr), have = sizeof(struct sockaddr_in);
	uint8_t m[4] = { 0 };
	unsigned bits = 0, k;

#ifndef __linux__
	have = mask->sa_len;
#endif
	for (k = 0; k < 4 && at + k < have; k++)
		m[k] = p[at + k];
	while (bits < 32 && (m[bits / 8] & (0x80u >> (bits % 8))))
		bits++;
	return bits;
}

/* Is a the directed broadcast address of a local IPv4 subnet?  The
 * netmask is read whatever its sa_family says (some BSDs leave it 0); lo
 * may have no broadcast flag, so the address is computed, not looked up. */
static int
check_subnet_broadcast(const struct stun_addr *a, char *err, size_t errlen)
{
	struct ifaddrs *list, *i;
	struct stun_addr net;
	char ip[ADDR_STRLEN], n[ADDR_STRLEN];
	unsigned prefix;
	int rc = 0;

	if (a->family != 4 || getifaddrs(&list) == -1)
		return 0;       /* without the list only the checks above apply */
	for (i = list; i != NULL && rc == 0; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_netmask == NULL ||
		    i->ifa_addr->sa_family != AF_INET || net_to_stun(i->ifa_addr, &net) == -1)
			continue;
		prefix = mask_prefix(i->ifa_netmask);
		if (!addr_is_subnet_broadcast(a, &net, prefix))
			continue;
		for (unsigned b = prefix; b < 32; b++)  /* the network, for the message */
			net.addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		snprintf(err, errlen, "%s is the broadcast address of %s/%u on %s",
		         addr_fmt_ip(a, ip, sizeof(ip)), addr_fmt_ip(&net, n, sizeof(n)), prefix,
		         i->ifa_name != NULL ? i->ifa_name : "?");
		rc = -1;
	}
	freeifaddrs(list);
	return rc;
}
#else
/* No getifaddrs(3): the subnets are unknown, the other checks still apply. */
static int
check_subnet_broadcast(const struct stun_addr *a, char *err, size_t errlen)
{
	(void)a;
	(void)err;
	(void)errlen;
	return 0;
}
#endif

int
server_addr_check(const struct stun_addr *a, char *err, size_t errlen)
{
	char ip[ADDR_STRLEN];

	if (a->family != 4 && a->family != 6) {
		snprintf(err, errlen, "not an IPv4 or IPv6 address");
		return -1;
	}
	addr_fmt_ip(a, ip, sizeof(ip));
	/* A wildcard cannot be reported as SOURCE-ADDRESS or RESPONSE-ORIGIN,
	 * and the kernel would pick the reply's source. */
	if (addr_is_unspecified(a)) {
		snprintf(err, errlen, "%s is a wildcard; the server needs the concrete "
		         "addresses it answers from", ip);
		return -1;
	}
	if (addr_is_multicast(a)) {
		snprintf(err, errlen, "%s is a multicast address", ip);
		return -1;
	}
	if (addr_is_limited_broadcast(a)) {
		snprintf(err, errlen, "%s is the broadcast address", ip);
		return -1;
	}
	return check_subnet_broadcast(a, err, errlen);
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
static const unsigned ep_order[SERVER_NEP] = { 0, 2, 1, 3 };

#define SERVER_DGRAM_MAX 65536      /* largest UDP payload, and then some */
#define SERVER_TIMELEN   32         /* "2026-11-27T09:44:18.123Z" and a NUL */

struct srv {
	const struct server_cfg *cfg;
	int      fd[SERVER_NEP];
	int      verbose;
};

/*
 * -v lines start with the wall-clock time as RFC 3339 in UTC with
 * milliseconds ("2026-11-27T09:44:18.123Z"): what a log file needs, and a
 * journal, which stamps lines when it receives them, can still order
 * bursts by it.  "-" when the clock cannot be read.
 */
static void
vlog(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[SERVER_TIMELEN] = "-";
	va_list ap;

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm) != NULL) {
		size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

		snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000L);
	}
	fprintf(stderr, "natcheck: %s ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
log_request(const struct srv *s, unsigned at, const struct stun_addr *from, int answered,
            const struct server_reply *r)
{
	char f[ADDR_STRLEN], a[ADDR_STRLEN], v[ADDR_STRLEN], t[ADDR_STRLEN];
	const char *why = r->why != NULL ? r->why : "?";

	addr_fmt(from, f, sizeof(f));
	addr_fmt(&s->cfg->ep[at], a, sizeof(a));
	if (!answered) {
		vlog("%s -> %s: dropped (%s)", f, a, why);
		return;
	}
	addr_fmt(&s->cfg->ep[r->via], v, sizeof(v));
	addr_fmt(&r->to, t, sizeof(t));
	if (r->code == 0)
		vlog("%s -> %s: binding response from %s to %s", f, a, v, t);
	else
		vlog("%s -> %s: error %d (%s) from %s to %s", f, a, r->code, why, v, t);
}

static void
log_send_error(const struct srv *s, const struct stun_addr *to, int e)
{
	char t[ADDR_STRLEN];

	if (s->verbose)
		vlog("send to %s: %s", addr_fmt(to, t, sizeof(t)), strerror(e));
}

/* A receive error other than "nothing waiting", under -v. */
static void
log_recv_error(const struct srv *s, int e)
{
	if (s->verbose && e != EAGAIN && e != EWOULDBLOCK && e != EINTR)
		vlog("receive: %s", strerror(e));
}

/*
 * One datagram as received, for both receive paths: the sender, a
 * truncated datagram dropped, the protocol, the log line.  Returns 1 when
 * rep holds a reply in out.
 */
static int
handle_datagram(const struct srv *s, unsigned at, const struct sockaddr *sa, int truncated,
                const uint8_t *buf, size_t len, uint8_t *out, size_t cap,
                struct server_reply *rep)
{
	struct stun_addr from;
	int answered = 0;

	if (net_to_stun(sa, &from) == -1)
		return 0;
	if (truncated) {
		memset(rep, 0, sizeof(*rep));
		rep->why = "datagram truncated";
	} else {
		answered = server_handle(s->cfg, at, &from, buf, len, out, cap, rep);
	}
	if (s->verbose)
		log_request(s, at, &from, answered, rep);
	return answered;
}

#ifdef SERVER_MMSG
/*
 * Linux: up to SERVER_BATCH datagrams per system call each way, and up to
 * SERVER_MMSG_ROUNDS batches per wake-up, so one busy socket cannot starve
 * the other three; poll() brings us back for the rest.  Replies are grouped
 * by the endpoint they leave from, one sendmmsg() per socket.
 */
#define SERVER_BATCH       32
#define SERVER_MMSG_ROUNDS 4

static uint8_t rx_buf[SERVER_BATCH][SERVER_DGRAM_MAX];
static uint8_t tx_buf[SERVER_BATCH][SERVER_DGRAM_MAX];

/* Send every reply that leaves from endpoint via. */
static void
send_batch(struct srv *s, unsigned via, int n, const unsigned char *answered,
           const struct server_reply *rep)
{
	struct mmsghdr tx[SERVER_BATCH];
	struct iovec tx_iov[SERVER_BATCH];
	struct sockaddr_storage tx_sa[SERVER_BATCH];
	int idx[SERVER_BATCH];      /* tx[k] carries rep[idx[k]] */
	int i, k = 0, sent = 0, r;

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
		idx[k++] = i;
	}
	/* Each pass sends at least one message or skips the one that failed,
	 * so this ends after at most k passes. */
	while (sent < k) {
		r = sendmmsg(s->fd[via], tx + sent, (unsigned)(k - sent), 0);
		if (r <= 0) {
			log_send_error(s, &rep[idx[sent]].to, errno);
			sent++;
		} else {
			sent += r;
		}
	}
}

static void
serve_socket(struct srv *s, unsigned at)
{
	struct mmsghdr rx[SERVER_BATCH];
	struct iovec rx_iov[SERVER_BATCH];
	struct sockaddr_storage rx_sa[SERVER_BATCH];
	struct server_reply rep[SERVER_BATCH];
	unsigned char answered[SERVER_BATCH];
	int i, n, round;
	unsigned via;

	for (round = 0; round < SERVER_MMSG_ROUNDS; round++) {
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
			if (n < 0)
				log_recv_error(s, errno);
			return;
		}
		for (i = 0; i < n; i++)
			answered[i] = (unsigned char)handle_datagram(
			    s, at, (struct sockaddr *)&rx_sa[i],
			    (rx[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, rx_buf[i], rx[i].msg_len,
			    tx_buf[i], sizeof(tx_buf[i]), &rep[i]);
		for (via = 0; via < SERVER_NEP; via++)
			send_batch(s, via, n, answered, rep);
		if (n < SERVER_BATCH)
			return;
	}
}

#else /* portable: one datagram per system call */

/* Datagrams read per wake-up, so one busy socket cannot starve the others. */
#define SERVER_BURST 64

static uint8_t rx_buf[SERVER_DGRAM_MAX];
static uint8_t tx_buf[SERVER_DGRAM_MAX];

static void
serve_socket(struct srv *s, unsigned at)
{
	struct server_reply rep;
	struct sockaddr_storage sa;
	struct iovec iov;
	struct msghdr mh;
	socklen_t salen;
	ssize_t n;
	int i;

	for (i = 0; i < SERVER_BURST; i++) {
		/* recvmsg(2), not recvfrom(2): MSG_TRUNC tells a datagram cut
		 * to the buffer from a whole one, as recvmmsg does. */
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = rx_buf;
		iov.iov_len = sizeof(rx_buf);
		mh.msg_name = &sa;
		mh.msg_namelen = sizeof(sa);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(s->fd[at], &mh, 0);     /* the socket is non-blocking */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_recv_error(s, errno);
			return;
		}
		if (!handle_datagram(s, at, (struct sockaddr *)&sa, (mh.msg_flags & MSG_TRUNC) != 0,
		                     rx_buf, (size_t)n, tx_buf, sizeof(tx_buf), &rep))
			continue;
		net_from_stun(&rep.to, &sa, &salen);
		if (sendto(s->fd[rep.via], tx_buf, rep.len, 0, (struct sockaddr *)&sa, salen) == -1)
			log_send_error(s, &rep.to, errno);
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

/* The endpoints must form the 2x2 grid server.h describes, of addresses a
 * server may answer from (server_addr_check). */
static int
check_grid(const struct server_cfg *c, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < SERVER_NEP; i++) {
		if ((i & SERVER_EP_ALT_ADDR) && !c->has_alt)
			continue;
		if (c->ep[i].family != 4 && c->ep[i].family != 6) {
			snprintf(err, errlen, "server endpoint %u has no address", i);
			return -1;
		}
		if (server_addr_check(&c->ep[i], err, errlen) == -1)
			return -1;
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

/* Bind A1:P1, A1:P2, then A2:P1, A2:P2, filling in the bound addresses.  A
 * port given as 0 is taken from the kernel for A1 and then used for A2. */
static int
bind_endpoints(struct server_cfg *c, int *fd, char *err, size_t errlen)
{
	char nerr[NET_ERRLEN];
	unsigned i, k;

	for (k = 0; k < SERVER_NEP; k++) {
		i = ep_order[k];
		if (!ep_present(c, i))
			continue;
		if (i & SERVER_EP_ALT_ADDR)
			c->ep[i].port = c->ep[i ^ SERVER_EP_ALT_ADDR].port;
		fd[i] = net_udp_bind(&c->ep[i], nerr);
		if (fd[i] == -1 || net_sock_name(fd[i], &c->ep[i], nerr) == -1) {
			snprintf(err, errlen, "%s", nerr);
			return -1;
		}
	}
	if (c->ep[0].port == c->ep[2].port) {   /* cannot happen: both bound */
		snprintf(err, errlen, "the alternate port must differ from the primary port");
		return -1;
	}
	return 0;
}

/* SIGINT and SIGTERM ask for a clean stop; the old actions go to old[2]. */
static int
catch_signals(struct sigaction old[2], char *err, size_t errlen)
{
	struct sigaction sa;

	stop_requested = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;                /* no SA_RESTART: poll() must return */
	if (sigaction(SIGINT, &sa, &old[0]) == -1) {
		snprintf(err, errlen, "sigaction: %s", strerror(errno));
		return -1;
	}
	if (sigaction(SIGTERM, &sa, &old[1]) == -1) {
		snprintf(err, errlen, "sigaction: %s", strerror(errno));
		sigaction(SIGINT, &old[0], NULL);
		return -1;
	}
	return 0;
}

/* Poll the endpoints' sockets (listed in ep[0..n)) and the wake pipe (the
 * last slot) until a signal asks for a stop. */
static int
poll_loop(struct srv *s, const unsigned *ep, unsigned n, char *err, size_t errlen)
{
	struct pollfd pfd[SERVER_NEP + 1];
	unsigned k;

	for (k = 0; k < n; k++) {
		pfd[k].fd = s->fd[ep[k]];
		pfd[k].events = POLLIN;
	}
	pfd[n].fd = wake_pipe[0];
	pfd[n].events = POLLIN;
	while (!stop_requested) {
		if (poll(pfd, n + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		for (k = 0; k < n; k++)
			if (pfd[k].revents & (POLLIN | POLLERR))
				serve_socket(s, ep[k]);
	}
	return 0;
}

int
server_run(const struct server_cfg *cfg, int verbose, char *err, size_t errlen)
{
	struct server_cfg c = *cfg;
	struct srv s;
	struct sigaction old[2];
	unsigned ep[SERVER_NEP], i, k, n = 0;
	char line[SERVER_NEP * ADDR_STRLEN], a[ADDR_STRLEN];
	size_t off = 0;
	int rc = -1;

	s.cfg = &c;
	s.verbose = verbose;
	for (i = 0; i < SERVER_NEP; i++)
		s.fd[i] = -1;
	if (check_grid(&c, err, errlen) == -1)
		return -1;
	if (bind_endpoints(&c, s.fd, err, errlen) == -1)
		goto out;
	if (open_wake_pipe() == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	if (catch_signals(old, err, errlen) == -1)
		goto out;

	for (k = 0; k < SERVER_NEP; k++) {
		i = ep_order[k];
		if (s.fd[i] == -1)
			continue;
		ep[n++] = i;
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s", off ? " " : "",
		                        addr_fmt(&c.ep[i], a, sizeof(a)));
	}
	fprintf(stderr, "natcheck: serving on %s\n", line);
	fflush(stderr);

	rc = poll_loop(&s, ep, n, err, errlen);
	sigaction(SIGINT, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
out:
	for (i = 0; i < SERVER_NEP; i++)
		if (s.fd[i] != -1)
			close(s.fd[i]);
	for (i = 0; i < 2; i++) {
		if (wake_pipe[i] != -1)
			close(wake_pipe[i]);
		wake_pipe[i] = -1;
	}
	return rc;
}
