/*
 * server.c - the dual-address STUN server behind `natcheck --serve`.
 *
 * server_handle() is the protocol: one datagram in, at most one datagram
 * out, no I/O, no allocation; it is part of the pure core, so the client's
 * unit tests and the fuzzer run it without sockets.  serve.c is the thin
 * shell around it: the sockets, one single-threaded poll() loop and the
 * signals.
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
#include "server.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

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
	int      stream;            /* over TCP: no other destination, no other source */
	uint32_t flags;             /* CHANGE-REQUEST */
	int      asked;             /* the request carries CHANGE-REQUEST, any flags */
	int      reflect;           /* RESPONSE-ADDRESS honoured: REFLECTED-FROM */
	int      pad_idx;           /* the request's PADDING in m.attrs, or -1 */
	const char *reason;         /* ERROR-CODE reason phrase */
	const uint16_t *unknown;    /* UNKNOWN-ATTRIBUTES, nunknown of them */
	size_t   nunknown;
	char     reason_buf[96];
};

static const uint16_t change_request_type = STUN_ATTR_CHANGE_REQUEST;

int
server_ep_present(const struct server_cfg *cfg, unsigned i)
{
	if (i >= SERVER_NEP || (!cfg->has_alt && (i & SERVER_EP_ALT_ADDR)))
		return 0;
	return cfg->ep[i].family == 4 || cfg->ep[i].family == 6;
}

void
server_ep_public(const struct server_cfg *cfg, unsigned i, struct stun_addr *out)
{
	*out = cfg->ep[i];
	if (cfg->has_adv) {
		uint16_t port = out->port;

		*out = cfg->adv[i & SERVER_EP_ALT_ADDR];
		out->port = port;
	}
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

	if (!server_ep_present(c->cfg, c->at))
		return drop(c, "arrived on an endpoint the server does not have");
	/* RFC 768: source port 0 means that no reply is wanted (nor possible). */
	if (c->from->port == 0)
		return drop(c, "source port 0");
	st = stun_peek_header(c->req, c->len, &c->head);
	if (st != STUN_OK)
		return drop(c, stun_strerror(st));
	if (!c->head.has_cookie && c->head.type != STUN_BINDING_REQUEST)
		return drop(c, "not STUN");
	if (c->stream && !c->head.has_cookie)
		return drop(c, "no magic cookie over TCP");
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
	c->asked = st == STUN_OK;
	/* One address: an RFC 3489 client's NAT test gets no answer at all
	 * (server.h says why); its plain Binding request is answered. */
	if (st == STUN_OK && !c->head.has_cookie && !c->cfg->has_alt)
		return drop(c, "RFC 3489 CHANGE-REQUEST to a server with one address");
	c->pad_idx = stun_find(&c->m, STUN_ATTR_PADDING);
	if (c->stream) {
		/* A server never opens a TCP connection to a client (RFC 5780
		 * section 4), so over TCP the answer can only go back on the
		 * connection the request came in on: a change of address or
		 * port, or another destination, is a request it cannot honour. */
		if (c->flags & (STUN_CHANGE_IP | STUN_CHANGE_PORT))
			return refuse(c, 400, "Bad Request: CHANGE-REQUEST over TCP",
			              "CHANGE-REQUEST over TCP");
		if (stun_find(&c->m, STUN_ATTR_RESPONSE_PORT) >= 0)
			return refuse(c, 400, "Bad Request: RESPONSE-PORT over TCP",
			              "RESPONSE-PORT over TCP");
		if (stun_find(&c->m, STUN_ATTR_RESPONSE_ADDRESS) >= 0)
			return refuse(c, 400, "Bad Request: RESPONSE-ADDRESS over TCP",
			              "RESPONSE-ADDRESS over TCP");
	}
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
	if (!server_ep_present(c->cfg, via)) {
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
 * address, or, with one address, to a request that carries CHANGE-REQUEST:
 * server.h says why), RFC 3489 section 8.1 without the cookie (MAPPED-,
 * SOURCE- and CHANGED-ADDRESS, the last being Ca:Cp whatever the flags). */
static int
reply_success(struct req_ctx *c)
{
	const struct server_cfg *cfg = c->cfg;
	struct stun_addr src, other;
	struct stun_enc e;

	server_ep_public(cfg, c->reply->via, &src);
	/* Ca:Cp; with one address, the other port (server.h says why). */
	server_ep_public(cfg, c->at ^ (cfg->has_alt ? SERVER_EP_OTHER : SERVER_EP_ALT_PORT),
	                 &other);
	stun_enc_init(&e, c->out, c->cap, STUN_BINDING_SUCCESS, c->head.tid);
	if (c->head.has_cookie) {
		stun_enc_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, c->from);
		stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, c->from);
		stun_enc_addr(&e, STUN_ATTR_RESPONSE_ORIGIN, &src);
		if (cfg->has_alt || (cfg->other_port_only && c->asked &&
		    server_ep_present(cfg, c->at ^ SERVER_EP_ALT_PORT)))
			stun_enc_addr(&e, STUN_ATTR_OTHER_ADDRESS, &other);
	} else {
		stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, c->from);
		stun_enc_addr(&e, STUN_ATTR_SOURCE_ADDRESS, &src);
		if (cfg->has_alt)
			stun_enc_addr(&e, STUN_ATTR_CHANGED_ADDRESS, &other);
	}
	if (c->reflect)     /* RFC 3489 section 8.1: traceability */
		stun_enc_addr(&e, STUN_ATTR_REFLECTED_FROM, c->from);
	add_optional(c, &e, 1);
	if (!emit(c, &e))
		return 0;
	c->reply->why = "binding response";
	return 1;
}

/* server_handle and server_handle_stream: the same pipeline, over UDP
 * (stream 0) or TCP (stream 1). */
static int
handle(const struct server_cfg *cfg, unsigned at, const struct stun_addr *from, int stream,
       const uint8_t *req, size_t len, uint8_t *out, size_t cap, struct server_reply *reply)
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
	c.stream = stream;
	c.flags = 0;
	c.asked = 0;
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

int
server_handle(const struct server_cfg *cfg, unsigned at, const struct stun_addr *from,
              const uint8_t *req, size_t len, uint8_t *out, size_t cap,
              struct server_reply *reply)
{
	return handle(cfg, at, from, 0, req, len, out, cap, reply);
}

int
server_handle_stream(const struct server_cfg *cfg, unsigned at, const struct stun_addr *from,
                     const uint8_t *req, size_t len, uint8_t *out, size_t cap,
                     struct server_reply *reply)
{
	return handle(cfg, at, from, 1, req, len, out, cap, reply);
}
