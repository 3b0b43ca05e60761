/*
 * test_server.c - server_handle(), the whole server protocol, without sockets.
 *
 * Every reply is decoded again with stun_decode() and every address in it
 * is checked.  The endpoints are documentation addresses (RFC 5737 /
 * RFC 3849); nothing here touches the network.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "serve.h"
#include "server.h"
#include "net.h"
#include "stun.h"

#define SOFTWARE "natcheck test"

static struct stun_addr
mk(const char *ip, uint16_t port)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	if (strchr(ip, ':')) {
		a.family = 6;
		cr_assert_eq(inet_pton(AF_INET6, ip, a.addr), 1);
	} else {
		a.family = 4;
		cr_assert_eq(inet_pton(AF_INET, ip, a.addr), 1);
	}
	a.port = port;
	return a;
}

/* A1 = .1, A2 = .2, P1 = 3478, P2 = 3479 (endpoint index: bit 0 address,
 * bit 1 port). */
static struct server_cfg
cfg_v4(int has_alt)
{
	struct server_cfg c;

	memset(&c, 0, sizeof(c));
	c.ep[0] = mk("192.0.2.1", 3478);
	c.ep[2] = mk("192.0.2.1", 3479);
	if (has_alt) {
		c.ep[1] = mk("192.0.2.2", 3478);
		c.ep[3] = mk("192.0.2.2", 3479);
	}
	c.has_alt = has_alt;
	c.software = SOFTWARE;
	return c;
}

static struct server_cfg
cfg_v6(void)
{
	struct server_cfg c;

	memset(&c, 0, sizeof(c));
	c.ep[0] = mk("2001:db8::1", 3478);
	c.ep[1] = mk("2001:db8::2", 3478);
	c.ep[2] = mk("2001:db8::1", 3479);
	c.ep[3] = mk("2001:db8::2", 3479);
	c.has_alt = 1;
	c.software = SOFTWARE;
	return c;
}

/* ------------------------------------------------------ request builder */

struct req {
	uint8_t  buf[4096];
	size_t   len;
	struct stun_enc e;
};

static void
req_start(struct req *r, int cookie, uint16_t type)
{
	uint8_t tid[STUN_TID_LEN];
	size_t i;

	for (i = 0; i < STUN_TID_LEN; i++)
		tid[i] = (uint8_t)(0xA0 + i);
	if (cookie) {
		tid[0] = 0x21; tid[1] = 0x12; tid[2] = 0xA4; tid[3] = 0x42;
	}
	stun_enc_init(&r->e, r->buf, sizeof(r->buf), type, tid);
}

static void
req_finish(struct req *r)
{
	cr_assert_eq(stun_enc_finish(&r->e, &r->len), STUN_OK);
}

/* A Binding request; flags < 0 means no CHANGE-REQUEST at all. */
static void
req_binding(struct req *r, int cookie, int flags)
{
	req_start(r, cookie, STUN_BINDING_REQUEST);
	if (flags >= 0 && (flags & ~(int)(STUN_CHANGE_IP | STUN_CHANGE_PORT)) == 0) {
		stun_enc_change_request(&r->e, (uint32_t)flags);
	} else if (flags >= 0) {
		/* Bits the encoder refuses to set: written by hand. */
		uint8_t v[4] = { 0, 0, 0, (uint8_t)flags };

		stun_enc_bytes(&r->e, STUN_ATTR_CHANGE_REQUEST, v, 4);
	}
}

/* ------------------------------------------------------------ running */

struct result {
	int      answered;
	struct server_reply rep;
	uint8_t  out[4096];
	struct stun_msg msg;        /* decoded reply when answered */
	int      asked;             /* the request carried CHANGE-REQUEST */
};

/* An attribute of n value bytes on the wire. */
static size_t
attr_size(size_t n)
{
	return 4 + ((n + 3) & ~(size_t)3);
}

/*
 * The amplification rule of server.h, exactly: the attributes the RFCs
 * require may make a reply longer than its request (by SERVER_REPLY_SLACK
 * at most), the optional ones (SOFTWARE, FINGERPRINT, PADDING) only fill
 * the room the request paid for; PADDING never makes a reply longer than
 * the request; and an optional attribute is left out only when it would
 * not fit, SOFTWARE before FINGERPRINT.  The RFC 3489 form has neither.
 */
static void
check_room(const struct server_cfg *c, const struct result *res, size_t len, int cookie)
{
	size_t required = STUN_HEADER_LEN, room, i, sw = 0, fp = 0, pad = 0;
	size_t swlen = c->software != NULL ? strlen(c->software) : 0;

	for (i = 0; i < res->msg.nattrs; i++) {
		size_t n = attr_size(res->msg.attrs[i].len);

		switch (res->msg.attrs[i].type) {
		case STUN_ATTR_SOFTWARE:    sw = n; break;
		case STUN_ATTR_FINGERPRINT: fp = n; break;
		case STUN_ATTR_PADDING:     pad = n; break;
		default:                    required += n; break;
		}
	}
	room = len > required ? len : required;
	cr_assert_eq(res->rep.len, required + sw + fp + pad);
	cr_assert_leq(res->rep.len, room, "reply %zu > max(request %zu, required %zu)",
	              res->rep.len, len, required);
	cr_assert_leq(res->rep.len, len + SERVER_REPLY_SLACK, "reply %zu, request %zu",
	              res->rep.len, len);
	if (pad > 0)
		cr_assert_leq(res->rep.len, len, "padded reply %zu > request %zu", res->rep.len, len);
	if (!cookie) {
		cr_assert_eq(sw + fp, 0, "SOFTWARE or FINGERPRINT in the RFC 3489 form");
		return;
	}
	if (fp == 0)
		cr_assert_gt(required + attr_size(4), room, "FINGERPRINT left out with room");
	if (sw == 0 && swlen > 0 && swlen <= STUN_MAX_TEXT)
		cr_assert_gt(required + fp + attr_size(swlen), room, "SOFTWARE left out with room");
}

/* One request through server_handle (UDP), or server_handle_stream (TCP). */
static void
run_on(int stream, const struct server_cfg *c, unsigned at, const struct stun_addr *from,
       const uint8_t *req, size_t len, struct result *res)
{
	enum stun_status st;
	struct stun_msg rq;

	memset(res, 0, sizeof(*res));
	res->asked = stun_decode(req, len, &rq) == STUN_OK &&
	    stun_find(&rq, STUN_ATTR_CHANGE_REQUEST) >= 0;
	res->answered = (stream ? server_handle_stream : server_handle)(c, at, from, req, len,
	                                                             res->out, sizeof(res->out),
	                                                             &res->rep);
	cr_assert(res->rep.why != NULL, "a reason is always given");
	/* The amplification bound holds for every answer in every test. */
	if (res->answered) {
		cr_assert_leq(res->rep.len, len + SERVER_REPLY_SLACK,
		              "reply of %zu bytes to a %zu-byte request", res->rep.len, len);
		st = stun_decode(res->out, res->rep.len, &res->msg);
		cr_assert_eq(st, STUN_OK, "reply does not decode: %s", stun_strerror(st));
		/* The transaction ID is echoed, cookie and all. */
		cr_assert_eq(memcmp(res->msg.tid, req + 4, STUN_TID_LEN), 0);
		check_room(c, res, len, res->msg.has_cookie);
	} else {
		cr_assert_eq(res->rep.len, 0);
	}
}

static void
run(const struct server_cfg *c, unsigned at, const struct stun_addr *from,
    const uint8_t *req, size_t len, struct result *res)
{
	run_on(0, c, at, from, req, len, res);
}

static void
expect_addr(const struct stun_msg *m, uint16_t type, const struct stun_addr *want,
            const char *ctx)
{
	struct stun_addr got;
	char g[ADDR_STRLEN], w[ADDR_STRLEN];
	enum stun_status st = stun_get_addr(m, type, &got);

	cr_assert_eq(st, STUN_OK, "%s: attribute 0x%04x: %s", ctx, type, stun_strerror(st));
	cr_assert(addr_eq(&got, want), "%s: attribute 0x%04x is %s, want %s", ctx, type,
	          addr_fmt(&got, g, sizeof(g)), addr_fmt(want, w, sizeof(w)));
}

static void
expect_absent(const struct stun_msg *m, uint16_t type, const char *ctx)
{
	cr_assert_lt(stun_find(m, type), 0, "%s: attribute 0x%04x present", ctx, type);
}

/* SOFTWARE and FINGERPRINT, when there was room for them (check_room), are
 * right: our SOFTWARE, FINGERPRINT verified by stun_decode and last. */
static void
expect_optional(const struct result *res, int cookie, const char *ctx)
{
	const uint8_t *v;
	size_t n;

	if (!cookie) {
		expect_absent(&res->msg, STUN_ATTR_FINGERPRINT, ctx);
		expect_absent(&res->msg, STUN_ATTR_SOFTWARE, ctx);
		return;
	}
	if (stun_get_bytes(&res->msg, STUN_ATTR_SOFTWARE, &v, &n) == STUN_OK)
		cr_assert(n == strlen(SOFTWARE) && memcmp(v, SOFTWARE, n) == 0, "%s: SOFTWARE", ctx);
	if (res->msg.fingerprint_idx >= 0)
		cr_assert_eq((size_t)res->msg.fingerprint_idx, res->msg.nattrs - 1, "%s", ctx);
}

static void
expect_error(const struct result *res, int cookie, int code, const char *reason_part,
             unsigned via, const struct stun_addr *to, const char *ctx)
{
	int got;
	const char *reason;
	size_t rlen;
	char text[800];

	cr_assert(res->answered, "%s: dropped (%s)", ctx, res->rep.why);
	cr_assert_eq(res->rep.code, code, "%s: code %d", ctx, res->rep.code);
	cr_assert_eq(res->msg.cls, STUN_CLASS_ERROR, "%s: not an error response", ctx);
	cr_assert_eq(stun_get_error(&res->msg, &got, &reason, &rlen), STUN_OK, "%s", ctx);
	cr_assert_eq(got, code, "%s: ERROR-CODE %d", ctx, got);
	cr_assert_lt(rlen, sizeof(text));
	memcpy(text, reason, rlen);
	text[rlen] = '\0';
	if (reason_part != NULL)
		cr_assert(strstr(text, reason_part) != NULL, "%s: reason \"%s\" lacks \"%s\"",
		          ctx, text, reason_part);
	/* Errors go back to the request's source from where it arrived. */
	cr_assert_eq(res->rep.via, via, "%s: error sent via %u", ctx, res->rep.via);
	cr_assert(addr_eq(&res->rep.to, to), "%s: error sent elsewhere", ctx);
	expect_optional(res, cookie, ctx);
}

/* Check a success response to a Binding request that arrived on `at`. */
static void
expect_success(const struct server_cfg *c, const struct result *res, int cookie, unsigned at,
               unsigned via, const struct stun_addr *from, const char *ctx)
{
	cr_assert(res->answered, "%s: dropped (%s)", ctx, res->rep.why);
	cr_assert_eq(res->rep.code, 0, "%s", ctx);
	cr_assert_eq(res->msg.type, STUN_BINDING_SUCCESS, "%s: type 0x%04x", ctx, res->msg.type);
	cr_assert_eq(res->rep.via, via, "%s: sent via %u, want %u", ctx, res->rep.via, via);
	expect_addr(&res->msg, STUN_ATTR_MAPPED_ADDRESS, from, ctx);
	if (cookie) {
		expect_addr(&res->msg, STUN_ATTR_XOR_MAPPED_ADDRESS, from, ctx);
		expect_addr(&res->msg, STUN_ATTR_RESPONSE_ORIGIN, &c->ep[via], ctx);
		if (c->has_alt)
			expect_addr(&res->msg, STUN_ATTR_OTHER_ADDRESS, &c->ep[at ^ SERVER_EP_OTHER], ctx);
		else if (c->other_port_only && res->asked)
			expect_addr(&res->msg, STUN_ATTR_OTHER_ADDRESS, &c->ep[at ^ SERVER_EP_ALT_PORT],
			            ctx);
		else
			expect_absent(&res->msg, STUN_ATTR_OTHER_ADDRESS, ctx);
		expect_absent(&res->msg, STUN_ATTR_SOURCE_ADDRESS, ctx);
		expect_absent(&res->msg, STUN_ATTR_CHANGED_ADDRESS, ctx);
	} else {
		expect_addr(&res->msg, STUN_ATTR_SOURCE_ADDRESS, &c->ep[via], ctx);
		if (c->has_alt)
			expect_addr(&res->msg, STUN_ATTR_CHANGED_ADDRESS, &c->ep[at ^ SERVER_EP_OTHER], ctx);
		else
			expect_absent(&res->msg, STUN_ATTR_CHANGED_ADDRESS, ctx);
		/* Nothing an RFC 3489 client does not know. */
		expect_absent(&res->msg, STUN_ATTR_XOR_MAPPED_ADDRESS, ctx);
		expect_absent(&res->msg, STUN_ATTR_RESPONSE_ORIGIN, ctx);
		expect_absent(&res->msg, STUN_ATTR_OTHER_ADDRESS, ctx);
	}
	expect_optional(res, cookie, ctx);
}

/* ---------------------------------------------- CHANGE-REQUEST matrix */

static const struct {
	const char *name;
	int flags;                  /* -1: no CHANGE-REQUEST */
	unsigned flip;              /* endpoint bits the flags flip */
} change_cases[] = {
	{ "no CHANGE-REQUEST", -1, 0 },
	{ "flags none", 0, 0 },
	{ "change port", STUN_CHANGE_PORT, SERVER_EP_ALT_PORT },
	{ "change IP", STUN_CHANGE_IP, SERVER_EP_ALT_ADDR },
	{ "change IP and port", STUN_CHANGE_IP | STUN_CHANGE_PORT,
	  SERVER_EP_ALT_ADDR | SERVER_EP_ALT_PORT },
	/* Bits other than A and B are ignored (RFC 5780 section 7.2). */
	{ "change port + junk bits", STUN_CHANGE_PORT | 0xF1, SERVER_EP_ALT_PORT },
};

static void
change_matrix(const struct server_cfg *c, const struct stun_addr *from)
{
	int cookie;
	unsigned at;
	size_t i;
	struct req r;
	static struct result res;
	char ctx[160];

	for (cookie = 0; cookie <= 1; cookie++)
		for (at = 0; at < 4; at++)
			for (i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
				snprintf(ctx, sizeof(ctx), "%s form, arrived on ep %u, %s, IPv%u",
				         cookie ? "RFC 5389" : "RFC 3489", at, change_cases[i].name,
				         (unsigned)from->family);
				req_binding(&r, cookie, change_cases[i].flags);
				req_finish(&r);
				run(c, at, from, r.buf, r.len, &res);
				expect_success(c, &res, cookie, at, at ^ change_cases[i].flip, from,
				               ctx);
				cr_assert(addr_eq(&res.rep.to, from), "%s: sent elsewhere", ctx);
			}
}

Test(server, change_request_matrix_v4)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001);

	change_matrix(&c, &from);
}

Test(server, change_request_matrix_v6)
{
	struct server_cfg c = cfg_v6();
	struct stun_addr from = mk("2001:db8:ffff::9", 40002);

	change_matrix(&c, &from);
}

/* The exact via for each flag, spelled out once against RFC 5780 Table 1. */
Test(server, table1_spelled_out)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001), got;
	struct req r;
	static struct result res;

	/* Request to A2:P2 (ep 3) with change port: from Da=A2, Cp=P1 (ep 1). */
	req_binding(&r, 1, STUN_CHANGE_PORT);
	req_finish(&r);
	run(&c, 3, &from, r.buf, r.len, &res);
	cr_assert_eq(stun_get_addr(&res.msg, STUN_ATTR_RESPONSE_ORIGIN, &got), STUN_OK);
	cr_expect(addr_eq(&got, &c.ep[1]), "A2:P1");
	/* OTHER-ADDRESS is Ca:Cp = A1:P1 whatever the flags. */
	cr_assert_eq(stun_get_addr(&res.msg, STUN_ATTR_OTHER_ADDRESS, &got), STUN_OK);
	cr_expect(addr_eq(&got, &c.ep[0]), "A1:P1");
}

/* ------------------------------------------------------- has_alt == 0 */

Test(server, single_address)
{
	struct server_cfg c = cfg_v4(0);
	struct stun_addr from = mk("203.0.113.9", 40001);
	struct req r;
	static struct result res;
	int cookie;
	uint16_t types[4];
	size_t n;
	char ctx[64];

	for (cookie = 0; cookie <= 1; cookie++) {
		snprintf(ctx, sizeof(ctx), "single address, cookie %d", cookie);
		req_binding(&r, cookie, -1);
		req_finish(&r);
		run(&c, 0, &from, r.buf, r.len, &res);
		expect_success(&c, &res, cookie, 0, 0, &from, ctx);
		if (!cookie)
			continue;       /* single_address_rfc3489 */

		/* Change port still works: two ports on one address. */
		req_binding(&r, cookie, STUN_CHANGE_PORT);
		req_finish(&r);
		run(&c, 0, &from, r.buf, r.len, &res);
		expect_success(&c, &res, cookie, 0, 2, &from, ctx);
		run(&c, 2, &from, r.buf, r.len, &res);
		expect_success(&c, &res, cookie, 2, 0, &from, ctx);

		/* Change IP without an alternate address: 420 (RFC 5780 6.1),
		 * naming CHANGE-REQUEST, from the endpoint it arrived on. */
		req_binding(&r, cookie, STUN_CHANGE_IP);
		req_finish(&r);
		run(&c, 2, &from, r.buf, r.len, &res);
		expect_error(&res, cookie, 420, "no alternate address", 2, &from, ctx);
		cr_assert_eq(stun_get_unknown_attrs(&res.msg, types, 4, &n), STUN_OK);
		cr_assert_geq(n, 1);
		cr_assert_eq(types[0], STUN_ATTR_CHANGE_REQUEST);

		req_binding(&r, cookie, STUN_CHANGE_IP | STUN_CHANGE_PORT);
		req_finish(&r);
		run(&c, 0, &from, r.buf, r.len, &res);
		expect_error(&res, cookie, 420, NULL, 0, &from, ctx);

		/* Endpoints the server does not have receive nothing. */
		req_binding(&r, cookie, -1);
		req_finish(&r);
		run(&c, 1, &from, r.buf, r.len, &res);
		cr_assert_eq(res.answered, 0, "%s: answered on a missing endpoint", ctx);
		run(&c, 7, &from, r.buf, r.len, &res);
		cr_assert_eq(res.answered, 0);
	}
}

/* One address: an RFC 3489 request with CHANGE-REQUEST, whatever its
 * flags, is dropped, so a classic client's NAT test fails instead of
 * counting a 420 as a reply from another address (server.h); without
 * CHANGE-REQUEST it is answered, with no CHANGED-ADDRESS. */
Test(server, single_address_rfc3489)
{
	static const int flags[4] = { 0, STUN_CHANGE_IP, STUN_CHANGE_PORT,
	                              STUN_CHANGE_IP | STUN_CHANGE_PORT };
	struct server_cfg c = cfg_v4(0);
	struct stun_addr from = mk("203.0.113.9", 40001);
	struct req r;
	static struct result res;
	unsigned at, k;

	for (k = 0; k < 2; k++) {
		c.other_port_only = (int)k;
		for (at = 0; at <= 2; at += 2) {
			for (size_t i = 0; i < 4; i++) {
				req_binding(&r, 0, flags[i]);
				req_finish(&r);
				run(&c, at, &from, r.buf, r.len, &res);
				cr_assert_eq(res.answered, 0, "flags %d at %u: answered", flags[i], at);
				cr_assert(strstr(res.rep.why, "RFC 3489") != NULL, "%s", res.rep.why);
			}
			req_binding(&r, 0, -1);
			req_finish(&r);
			run(&c, at, &from, r.buf, r.len, &res);
			expect_success(&c, &res, 0, at, at, &from, "RFC 3489, no CHANGE-REQUEST");
		}
	}
	/* Two addresses: the same requests are answered as RFC 3489 says. */
	c = cfg_v4(1);
	req_binding(&r, 0, 0);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_success(&c, &res, 0, 0, 0, &from, "two addresses, RFC 3489, flags 0");
	req_binding(&r, 0, STUN_CHANGE_IP);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_success(&c, &res, 0, 0, 1, &from, "two addresses, RFC 3489, change IP");
}

Test(server, single_address_single_port)
{
	/* A configuration without ep[2] cannot change the port either. */
	struct server_cfg c = cfg_v4(0);
	struct stun_addr from = mk("203.0.113.9", 40001);
	struct req r;
	static struct result res;

	memset(&c.ep[2], 0, sizeof(c.ep[2]));
	req_binding(&r, 1, STUN_CHANGE_PORT);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_error(&res, 1, 420, "no alternate port", 0, &from, "no alternate port");
}

/* ----------------------------------------------------- RESPONSE-ADDRESS */

Test(server, response_address_same_ip_is_honoured)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001), ra = mk("203.0.113.9", 50000);
	struct req r;
	static struct result res;
	int cookie;

	for (cookie = 0; cookie <= 1; cookie++) {
		req_binding(&r, cookie, STUN_CHANGE_IP);
		stun_enc_addr(&r.e, STUN_ATTR_RESPONSE_ADDRESS, &ra);
		req_finish(&r);
		run(&c, 0, &from, r.buf, r.len, &res);
		expect_success(&c, &res, cookie, 0, 1, &from, "RESPONSE-ADDRESS");
		cr_assert(addr_eq(&res.rep.to, &ra), "sent to RESPONSE-ADDRESS");
		expect_addr(&res.msg, STUN_ATTR_REFLECTED_FROM, &from, "REFLECTED-FROM");
	}
}

Test(server, response_address_elsewhere_is_refused)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001);
	struct stun_addr other = mk("198.51.100.7", 40001);       /* a third party */
	struct stun_addr zero_port = mk("203.0.113.9", 0);
	struct stun_addr other_family = mk("2001:db8::9", 40001);
	const struct stun_addr *bad[3] = { &other, &zero_port, &other_family };
	struct req r;
	static struct result res;
	int cookie;
	size_t i;

	for (cookie = 0; cookie <= 1; cookie++)
		for (i = 0; i < 3; i++) {
			req_binding(&r, cookie, STUN_CHANGE_IP | STUN_CHANGE_PORT);
			stun_enc_addr(&r.e, STUN_ATTR_RESPONSE_ADDRESS, bad[i]);
			req_finish(&r);
			run(&c, 2, &from, r.buf, r.len, &res);
			/* 400 to the source, from the arrival endpoint: nothing
			 * ever goes to the named third party. */
			expect_error(&res, cookie, 400, "RESPONSE-ADDRESS", 2, &from, "refused");
			expect_absent(&res.msg, STUN_ATTR_REFLECTED_FROM, "refused");
		}
}

/* -------------------------------------------------------- RESPONSE-PORT */

Test(server, response_port)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001), want = mk("203.0.113.9", 40999);
	struct stun_addr ra = mk("203.0.113.9", 50000);
	struct req r;
	static struct result res;
	uint8_t pad[8] = { 0 };

	req_binding(&r, 1, STUN_CHANGE_PORT);
	stun_enc_response_port(&r.e, 40999);
	req_finish(&r);
	run(&c, 1, &from, r.buf, r.len, &res);
	expect_success(&c, &res, 1, 1, 3, &from, "RESPONSE-PORT");
	cr_assert(addr_eq(&res.rep.to, &want), "sent to the source IP at RESPONSE-PORT");

	/* With PADDING: 400 (RFC 5780 section 6.1), to the source. */
	req_binding(&r, 1, STUN_CHANGE_PORT);
	stun_enc_response_port(&r.e, 40999);
	stun_enc_bytes(&r.e, STUN_ATTR_PADDING, pad, sizeof(pad));
	req_finish(&r);
	run(&c, 1, &from, r.buf, r.len, &res);
	expect_error(&res, 1, 400, "PADDING", 1, &from, "RESPONSE-PORT + PADDING");

	/* Port 0 cannot be sent to. */
	req_binding(&r, 1, -1);
	stun_enc_response_port(&r.e, 0);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_error(&res, 1, 400, "RESPONSE-PORT", 0, &from, "RESPONSE-PORT 0");

	/* Both ways of redirecting at once: refused. */
	req_binding(&r, 1, -1);
	stun_enc_addr(&r.e, STUN_ATTR_RESPONSE_ADDRESS, &ra);
	stun_enc_response_port(&r.e, 40999);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_error(&res, 1, 400, "RESPONSE-PORT", 0, &from, "RESPONSE-PORT + RESPONSE-ADDRESS");
}

/* ------------------------------------------------------------- errors */

/* A raw datagram: header fields as given, body bytes appended as is. */
static size_t
raw(uint8_t *buf, uint16_t type, uint16_t hlen, int cookie, const uint8_t *body, size_t n)
{
	size_t i;

	buf[0] = (uint8_t)(type >> 8);
	buf[1] = (uint8_t)type;
	buf[2] = (uint8_t)(hlen >> 8);
	buf[3] = (uint8_t)hlen;
	for (i = 0; i < STUN_TID_LEN; i++)
		buf[4 + i] = (uint8_t)(0x50 + i);
	if (cookie) {
		buf[4] = 0x21; buf[5] = 0x12; buf[6] = 0xA4; buf[7] = 0x42;
	}
	if (n > 0)
		memcpy(buf + 20, body, n);
	return 20 + n;
}

Test(server, malformed_attributes_get_400)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001);
	static struct result res;
	uint8_t buf[128];
	/* CHANGE-REQUEST claiming 8 bytes with only 4 present. */
	const uint8_t trunc[] = { 0x00, 0x03, 0x00, 0x08, 0, 0, 0, 0 };
	/* CHANGE-REQUEST of length 2: wrong for its type. */
	const uint8_t badlen[] = { 0x00, 0x03, 0x00, 0x02, 0, 0, 0, 0 };
	/* MAPPED-ADDRESS-shaped RESPONSE-ADDRESS with family 7. */
	const uint8_t badfam[] = { 0x00, 0x02, 0x00, 0x08, 0, 7, 0x13, 0x88, 1, 2, 3, 4 };
	size_t len;
	int cookie;

	/* The header is right, so the request is plainly ours: 400. */
	for (cookie = 0; cookie <= 1; cookie++) {
		len = raw(buf, 0x0001, sizeof(trunc), cookie, trunc, sizeof(trunc));
		run(&c, 3, &from, buf, len, &res);
		expect_error(&res, cookie, 400, stun_strerror(STUN_ERR_ATTR_TRUNCATED), 3, &from,
		             "truncated attribute");
		cr_assert_eq(res.msg.type, STUN_BINDING_ERROR);

		len = raw(buf, 0x0001, sizeof(badlen), cookie, badlen, sizeof(badlen));
		run(&c, 0, &from, buf, len, &res);
		expect_error(&res, cookie, 400, stun_strerror(STUN_ERR_ATTR_LENGTH), 0, &from,
		             "attribute length");

		len = raw(buf, 0x0001, sizeof(badfam), cookie, badfam, sizeof(badfam));
		run(&c, 0, &from, buf, len, &res);
		expect_error(&res, cookie, 400, stun_strerror(STUN_ERR_ADDR_FAMILY), 0, &from,
		             "address family");
	}
}

/*
 * RFC 5389 section 7.3: a header-level failure is discarded silently.
 * (Answering a 20-byte datagram whose length field lies with a 400 sent a
 * 112-byte reply: 5.6 times the bytes, for free.)
 */
Test(server, header_failures_are_dropped)
{
	struct server_cfg c = cfg_v6();
	struct stun_addr from = mk("2001:db8:ffff::9", 40002);
	static struct result res;
	uint8_t buf[128];
	const uint8_t cr[] = { 0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0 };
	static const struct {
		const char *name;
		uint16_t type;
		uint16_t hlen;          /* the header's length field */
		size_t   body;          /* bytes really after the header */
		const char *why;
	} cases[] = {
		{ "20 bytes, length 4", 0x0001, 4, 0, "message length does not match the datagram" },
		{ "20 bytes, length 8", 0x0001, 8, 0, "message length does not match the datagram" },
		{ "length 4 more than there is", 0x0001, 12, 8,
		  "message length does not match the datagram" },
		{ "length 4 less than there is", 0x0001, 4, 8,
		  "message length does not match the datagram" },
		{ "length not a multiple of 4", 0x0001, 3, 3, "message length not a multiple of 4" },
		{ "unknown method (Allocate)", 0x0003, 8, 8, "unsupported method" },
		{ "unknown method 0xFFF", 0x3EEF, 8, 8, "unsupported method" },
		{ "binding indication", 0x0011, 8, 8, "not a request" },
		{ "binding success", STUN_BINDING_SUCCESS, 8, 8, "not a request" },
		{ "binding error", STUN_BINDING_ERROR, 8, 8, "not a request" },
		{ "Allocate success", 0x0103, 8, 8, "not a request" },
	};
	size_t i, len;
	int cookie;

	for (cookie = 0; cookie <= 1; cookie++)
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			len = raw(buf, cases[i].type, cases[i].hlen, cookie, cr, cases[i].body);
			run(&c, 0, &from, buf, len, &res);
			cr_assert_eq(res.answered, 0, "%s, cookie %d: answered", cases[i].name, cookie);
			/* Without the cookie, RFC 3489 knows only type 0x0001. */
			if (cookie || cases[i].type == 0x0001)
				cr_assert_str_eq(res.rep.why, cases[i].why, "%s, cookie %d",
				                 cases[i].name, cookie);
			else
				cr_assert_str_eq(res.rep.why, "not STUN", "%s", cases[i].name);
		}
}

Test(server, unknown_attributes_get_420)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001);
	struct req r;
	static struct result res;
	uint8_t v[4] = { 1, 2, 3, 4 };
	uint16_t types[8];
	size_t n;
	int cookie;

	for (cookie = 0; cookie <= 1; cookie++) {
		/* Two unknown required types, one twice, and an unknown optional
		 * one (0x8099), which is ignored. */
		req_binding(&r, cookie, STUN_CHANGE_IP);
		stun_enc_bytes(&r.e, 0x0031, v, 4);
		stun_enc_bytes(&r.e, 0x8099, v, 4);
		stun_enc_bytes(&r.e, 0x7001, v, 2);
		stun_enc_bytes(&r.e, 0x0031, v, 4);
		req_finish(&r);
		run(&c, 0, &from, r.buf, r.len, &res);
		/* 420 via the arrival endpoint, whatever CHANGE-REQUEST said. */
		expect_error(&res, cookie, 420, NULL, 0, &from, "unknown attributes");
		cr_assert_eq(stun_get_unknown_attrs(&res.msg, types, 8, &n), STUN_OK);
		cr_assert_eq(types[0], 0x0031);
		cr_assert_eq(types[1], 0x7001);
		if (cookie) {
			cr_assert_eq(n, 2);
		} else {
			cr_assert_eq(n, 2, "an even count needs no repeat");
		}

		/* One unknown: RFC 3489 repeats it to keep four-byte alignment. */
		req_binding(&r, cookie, -1);
		stun_enc_bytes(&r.e, 0x0042, v, 4);
		req_finish(&r);
		run(&c, 2, &from, r.buf, r.len, &res);
		expect_error(&res, cookie, 420, NULL, 2, &from, "one unknown attribute");
		cr_assert_eq(stun_get_unknown_attrs(&res.msg, types, 8, &n), STUN_OK);
		cr_assert_eq(types[0], 0x0042);
		if (cookie) {
			cr_assert_eq(n, 1);
		} else {
			cr_assert_eq(n, 2);
			cr_assert_eq(types[1], 0x0042);
		}
	}
}

/* -------------------------------------------------------------- drops */

Test(server, non_requests_are_dropped)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001);
	static struct result res;
	uint8_t buf[128];
	struct req r;
	size_t len;
	const uint8_t cr[] = { 0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0 };
	const uint8_t trunc[] = { 0x00, 0x03, 0x00, 0x08, 0, 0, 0, 0 };
	static const struct {
		const char *name;
		uint16_t type;
		int cookie;
		int malformed;
	} cases[] = {
		{ "binding success, RFC 5389", STUN_BINDING_SUCCESS, 1, 0 },
		{ "binding success, RFC 3489", STUN_BINDING_SUCCESS, 0, 0 },
		{ "binding error, RFC 5389", STUN_BINDING_ERROR, 1, 0 },
		{ "binding error, RFC 3489", STUN_BINDING_ERROR, 0, 0 },
		{ "binding indication", 0x0011, 1, 0 },
		{ "RFC 3489 shared secret request", 0x0002, 0, 0 },
		{ "classic header, odd type", 0x0003, 0, 0 },
		{ "malformed success, RFC 5389", STUN_BINDING_SUCCESS, 1, 1 },
		{ "malformed success, RFC 3489", STUN_BINDING_SUCCESS, 0, 1 },
		{ "malformed indication", 0x0011, 1, 1 },
		{ "malformed classic non-binding", 0x0002, 0, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].malformed)
			len = raw(buf, cases[i].type, sizeof(trunc), cases[i].cookie, trunc,
			          sizeof(trunc));
		else
			len = raw(buf, cases[i].type, sizeof(cr), cases[i].cookie, cr, sizeof(cr));
		run(&c, 0, &from, buf, len, &res);
		cr_assert_eq(res.answered, 0, "%s: answered", cases[i].name);
	}

	/* Not STUN at all. */
	memset(buf, 0xFF, sizeof(buf));
	run(&c, 0, &from, buf, 64, &res);
	cr_assert_eq(res.answered, 0, "top bits set");
	run(&c, 0, &from, (const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18, &res);
	cr_assert_eq(res.answered, 0, "short text");
	run(&c, 0, &from, buf, 0, &res);
	cr_assert_eq(res.answered, 0, "empty datagram");
	len = raw(buf, 0x0001, 0, 1, NULL, 0);
	run(&c, 0, &from, buf, 19, &res);
	cr_assert_eq(res.answered, 0, "19 bytes");

	/* From port 0 (RFC 768: no reply wanted), nothing can go back. */
	{
		struct stun_addr port0 = mk("203.0.113.9", 0);

		req_binding(&r, 1, -1);
		req_finish(&r);
		run(&c, 0, &port0, r.buf, r.len, &res);
		cr_assert_eq(res.answered, 0, "answered port 0");
		cr_assert_str_eq(res.rep.why, "source port 0");
	}

	/* A request whose FINGERPRINT is wrong is not STUN (RFC 5389 7.3). */
	req_binding(&r, 1, -1);
	stun_enc_fingerprint(&r.e);
	req_finish(&r);
	r.buf[r.len - 1] ^= 1;
	run(&c, 0, &from, r.buf, r.len, &res);
	cr_assert_eq(res.answered, 0, "bad FINGERPRINT answered");
	r.buf[r.len - 1] ^= 1;
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_success(&c, &res, 1, 0, 0, &from, "good FINGERPRINT");
}

/* ------------------------------------------------------ amplification */

/*
 * PADDING over every request size: present only when it fits, and then the
 * reply is never longer than the request (check_room in run() holds the
 * rule); a big pad fills the reply to the request's size.
 */
Test(server, padding_never_beyond_request)
{
	struct server_cfg c4 = cfg_v4(1), c6 = cfg_v6(), c1 = cfg_v4(0);
	const struct server_cfg *cfgs[3] = { &c4, &c6, &c1 };
	struct stun_addr from4 = mk("203.0.113.9", 40001), from6 = mk("2001:db8:ffff::9", 40002);
	struct req r;
	static struct result res;
	static uint8_t pad[1500];
	const uint8_t *v;
	size_t n, size, k, padded = 0;
	int cookie, flags;

	memset(pad, 'p', sizeof(pad));
	for (k = 0; k < 3; k++)
		for (cookie = 0; cookie <= 1; cookie++)
			for (flags = -1; flags <= (int)STUN_CHANGE_PORT; flags += 1 + STUN_CHANGE_PORT)
				for (size = 0; size <= sizeof(pad); size++) {
					const struct stun_addr *from = k == 1 ? &from6 : &from4;

					/* single_address_rfc3489: not answered. */
					if (k == 2 && !cookie && flags >= 0)
						break;
					req_binding(&r, cookie, flags);
					stun_enc_bytes(&r.e, STUN_ATTR_PADDING, pad, size);
					req_finish(&r);
					run(cfgs[k], 0, from, r.buf, r.len, &res);
					expect_success(cfgs[k], &res, cookie, 0,
					               flags > 0 ? 2 : 0, from, "PADDING");
					if (stun_get_bytes(&res.msg, STUN_ATTR_PADDING, &v, &n) != STUN_OK)
						continue;
					padded++;
					cr_assert_leq(n, size);
					cr_assert_leq(res.rep.len, r.len);
					cr_assert(n == 0 || memcmp(v, pad, n) == 0);
					if (size >= 200)
						cr_assert_eq(res.rep.len, r.len, "%zu-byte pad", size);
				}
	cr_assert_gt(padded, 1000, "PADDING was hardly ever sent");
}

/*
 * Every request length, header form, family and configuration: the
 * amplification rule holds exactly (check_room in run()).  The smallest
 * requests get only what the RFCs require.
 */
Test(server, reply_bound_over_all_request_sizes)
{
	struct server_cfg c4 = cfg_v4(1), c6 = cfg_v6(), c1 = cfg_v4(0);
	const struct server_cfg *cfgs[3] = { &c4, &c6, &c1 };
	struct stun_addr from4 = mk("203.0.113.9", 40001), from6 = mk("2001:db8:ffff::9", 40002);
	struct req r;
	static struct result res;
	static uint8_t junk[400];
	size_t size, k;
	int cookie;

	memset(junk, 'j', sizeof(junk));
	for (k = 0; k < 3; k++)
		for (cookie = 0; cookie <= 1; cookie++)
			for (size = 0; size <= sizeof(junk); size++) {
				const struct stun_addr *from = k == 1 ? &from6 : &from4;

				req_binding(&r, cookie, -1);
				if (size > 0)       /* an optional type, ignored */
					stun_enc_bytes(&r.e, 0x8077, junk, size - 1);
				req_finish(&r);
				run(cfgs[k], 0, from, r.buf, r.len, &res);
				expect_success(cfgs[k], &res, cookie, 0, 0, from, "sizes");
				if (r.len == STUN_HEADER_LEN) {
					/* Nothing optional fits beside a bare request. */
					expect_absent(&res.msg, STUN_ATTR_SOFTWARE, "bare");
					expect_absent(&res.msg, STUN_ATTR_FINGERPRINT, "bare");
				}
				if (cookie && r.len >= 200)
					cr_assert_geq(stun_find(&res.msg, STUN_ATTR_SOFTWARE), 0);
			}
}

/* The largest replies the RFCs require, to a bare 20-byte request: these
 * are the numbers the man page and README state. */
Test(server, bare_request_reply_sizes)
{
	struct server_cfg c4 = cfg_v4(1), c6 = cfg_v6(), c41 = cfg_v4(0), c61 = cfg_v6();
	struct stun_addr from4 = mk("203.0.113.9", 40001), from6 = mk("2001:db8:ffff::9", 40002);
	static const struct {
		int k, cookie;
		size_t want;
	} cases[] = {
		{ 0, 1, 68 }, { 0, 0, 56 }, { 1, 1, 116 }, { 1, 0, 92 },
		{ 2, 1, 56 }, { 2, 0, 44 }, { 3, 1, 92 }, { 3, 0, 68 },
	};
	const struct server_cfg *cfgs[4] = { &c4, &c6, &c41, &c61 };
	struct req r;
	static struct result res;
	size_t i;

	c61.has_alt = 0;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct stun_addr *from = cases[i].k & 1 ? &from6 : &from4;

		req_binding(&r, cases[i].cookie, -1);
		req_finish(&r);
		cr_assert_eq(r.len, 20);
		run(cfgs[cases[i].k], 0, from, r.buf, r.len, &res);
		cr_assert(res.answered);
		cr_assert_eq(res.rep.len, cases[i].want, "case %zu: %zu bytes", i, res.rep.len);
	}
	/* The largest of them is the bound. */
	cr_assert_eq(SERVER_REPLY_SLACK, 116 - 20);
}

/*
 * A long SOFTWARE (a version string such as 0.1.0-rc1+g827864e) costs the
 * SOFTWARE attribute, never the answer: the dual-address IPv6 server used
 * to drop every bare Binding request.
 */
Test(server, long_software_never_costs_the_answer)
{
	static char huge[STUN_MAX_TEXT + 2];
	const char *sw[] = { "natcheck 0.1.0-rc1+g827864e", "natcheck 0.1.0", huge };
	struct server_cfg c = cfg_v6();
	struct stun_addr from = mk("2001:db8:ffff::9", 40002);
	struct req r;
	static struct result res;
	static uint8_t junk[900];
	const uint8_t *v;
	size_t i, n;
	unsigned at;
	int flags;

	memset(huge, 's', sizeof(huge) - 1);
	for (i = 0; i < sizeof(sw) / sizeof(sw[0]); i++) {
		c.software = sw[i];
		for (at = 0; at < SERVER_NEP; at++)
			for (flags = 0; flags <= (int)(STUN_CHANGE_IP | STUN_CHANGE_PORT); flags += 2) {
				req_binding(&r, 1, flags == 0 ? -1 : flags);
				req_finish(&r);
				run(&c, at, &from, r.buf, r.len, &res);
				cr_assert(res.answered, "SOFTWARE %zu bytes, ep %u, flags %d: %s",
				          strlen(sw[i]), at, flags, res.rep.why);
				expect_absent(&res.msg, STUN_ATTR_SOFTWARE, "long SOFTWARE");
			}
		/* A request with room for it gets it, unless it is over the cap. */
		req_binding(&r, 1, -1);
		stun_enc_bytes(&r.e, 0x8077, junk, sizeof(junk));
		req_finish(&r);
		run(&c, 0, &from, r.buf, r.len, &res);
		cr_assert(res.answered);
		if (strlen(sw[i]) <= STUN_MAX_TEXT) {
			cr_assert_eq(stun_get_bytes(&res.msg, STUN_ATTR_SOFTWARE, &v, &n), STUN_OK);
			cr_assert(n == strlen(sw[i]) && memcmp(v, sw[i], n) == 0);
		} else {
			expect_absent(&res.msg, STUN_ATTR_SOFTWARE, "over the cap");
		}
	}
}

Test(server, small_output_buffer_drops)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001);
	struct req r;
	struct server_reply rep;
	uint8_t out[40];

	req_binding(&r, 1, -1);
	req_finish(&r);
	cr_assert_eq(server_handle(&c, 0, &from, r.buf, r.len, out, sizeof(out), &rep), 0);
	cr_assert_eq(rep.len, 0);
	cr_assert(rep.why != NULL);
}

/* ---------------------------------------------------- server addresses */

/* A request to one of these reaches the server, but the answer would leave
 * from a unicast address: it would look forged.  Refused up front. */
Test(server, addresses_a_reply_cannot_come_from)
{
	static const char *refused[] = {
		"0.0.0.0", "::", "224.0.0.1", "239.255.255.250", "ff02::1", "ff05::1:3",
		"255.255.255.255",
#ifdef __linux__
		"127.255.255.255",  /* lo's 127.0.0.0/8: no broadcast flag, computed */
#endif
	};
	static const char *fine[] = { "127.0.0.1", "127.0.0.2", "::1", "2001:db8::1", "192.0.2.1" };
	struct stun_addr a;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		a = mk(refused[i], 3478);
		err[0] = '\0';
		cr_expect_eq(net_check_unicast(&a, err, sizeof(err)), -1, "%s accepted", refused[i]);
		cr_expect(strstr(err, refused[i]) != NULL, "%s: \"%s\"", refused[i], err);
	}
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		a = mk(fine[i], 3478);
		cr_expect_eq(net_check_unicast(&a, err, sizeof(err)), 0, "%s: %s", fine[i], err);
	}
	/* server_run checks the same before binding anything. */
	{
		struct server_cfg c = cfg_v4(1);

		c.ep[1] = mk("224.0.0.1", 3478);
		c.ep[3] = mk("224.0.0.1", 3479);
		struct serve_opts so = { .verbose = 0, .rate = 0, .tcp = 1, .user = NULL };

		cr_expect_eq(server_run(&c, 1, &so, err, sizeof(err)), -1);
		cr_expect(strstr(err, "multicast") != NULL, "%s", err);
	}
}

/* ------------------------------------------------------- --advertise */

/* Behind a 1:1 NAT: every address the server reports about itself is the
 * public one with the endpoint's port; the mapped address is untouched. */
Test(server, advertised_addresses_replace_own)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("198.51.100.7", 40001), got, want;
	static const int flags[4] = { -1, STUN_CHANGE_PORT, STUN_CHANGE_IP,
	                              STUN_CHANGE_IP | STUN_CHANGE_PORT };
	struct req r;
	static struct result res;
	unsigned at, k, via;
	int cookie;

	c.has_adv = 1;
	c.adv[0] = mk("203.0.113.10", 0);
	c.adv[1] = mk("203.0.113.20", 0);
	for (cookie = 0; cookie <= 1; cookie++)
	for (at = 0; at < SERVER_NEP; at++)
	for (k = 0; k < 4; k++) {
		req_binding(&r, cookie, flags[k]);
		req_finish(&r);
		run(&c, at, &from, r.buf, r.len, &res);
		via = at ^ (k & 1 ? SERVER_EP_ALT_PORT : 0) ^ (k & 2 ? SERVER_EP_ALT_ADDR : 0);
		cr_assert(res.answered, "at %u flags %d: %s", at, flags[k], res.rep.why);
		cr_assert_eq(res.rep.via, via);
		cr_assert(addr_eq(&res.rep.to, &from), "sent to the source");
		expect_addr(&res.msg, STUN_ATTR_MAPPED_ADDRESS, &from, "mapped");
		want = c.adv[via & 1];
		want.port = c.ep[via].port;
		cr_assert_eq(stun_get_addr(&res.msg, cookie ? STUN_ATTR_RESPONSE_ORIGIN :
		             STUN_ATTR_SOURCE_ADDRESS, &got), STUN_OK);
		cr_expect(addr_eq(&got, &want), "origin at %u via %u", at, via);
		want = c.adv[(at ^ SERVER_EP_OTHER) & 1];
		want.port = c.ep[at ^ SERVER_EP_OTHER].port;
		cr_assert_eq(stun_get_addr(&res.msg, cookie ? STUN_ATTR_OTHER_ADDRESS :
		             STUN_ATTR_CHANGED_ADDRESS, &got), STUN_OK);
		cr_expect(addr_eq(&got, &want), "other address at %u", at);
	}
}

/* The reflection rule looks at the real source, not the advertised IPs:
 * RESPONSE-ADDRESS naming the server's public address is still refused. */
Test(server, advertised_keeps_reflection_rules)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("198.51.100.7", 40001), ra = mk("203.0.113.10", 3478);
	struct req r;
	static struct result res;

	c.has_adv = 1;
	c.adv[0] = mk("203.0.113.10", 0);
	c.adv[1] = mk("203.0.113.20", 0);
	req_binding(&r, 0, -1);
	stun_enc_addr(&r.e, STUN_ATTR_RESPONSE_ADDRESS, &ra);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_error(&res, 0, 400, "source IP", 0, &from, "RESPONSE-ADDRESS elsewhere");
}

/* One address, two ports, other_port_only: a request without
 * CHANGE-REQUEST gets no OTHER-ADDRESS (RFC 5780 section 6), so a client
 * that never asks cannot take the same IP for a second server; one that
 * carries CHANGE-REQUEST, with no flag set or change port, gets
 * OTHER-ADDRESS = this IP, the other port (RFC 5389 form only), so
 * natcheck can test change port; change IP is still a 420. */
Test(server, single_address_other_port)
{
	struct server_cfg c = cfg_v4(0);
	struct stun_addr from = mk("198.51.100.7", 40001), got;
	struct req r;
	static struct result res;
	unsigned at;

	c.other_port_only = 1;
	for (at = 0; at <= 2; at += 2) {
		/* Bare, as turnutils_natdiscovery's test I: no OTHER-ADDRESS. */
		req_binding(&r, 1, -1);
		req_finish(&r);
		run(&c, at, &from, r.buf, r.len, &res);
		expect_success(&c, &res, 1, at, at, &from, "bare");
		expect_absent(&res.msg, STUN_ATTR_OTHER_ADDRESS, "bare");
		/* Another attribute is no question either. */
		req_binding(&r, 1, -1);
		stun_enc_bytes(&r.e, STUN_ATTR_PADDING, "pppp", 4);
		req_finish(&r);
		run(&c, at, &from, r.buf, r.len, &res);
		expect_absent(&res.msg, STUN_ATTR_OTHER_ADDRESS, "PADDING only");

		/* An empty CHANGE-REQUEST: answered from where it arrived,
		 * naming the other port. */
		req_binding(&r, 1, 0);
		req_finish(&r);
		run(&c, at, &from, r.buf, r.len, &res);
		expect_success(&c, &res, 1, at, at, &from, "empty CHANGE-REQUEST");
		cr_assert_eq(stun_get_addr(&res.msg, STUN_ATTR_OTHER_ADDRESS, &got), STUN_OK);
		cr_expect(addr_eq(&got, &c.ep[at ^ SERVER_EP_ALT_PORT]), "other port at %u", at);

		req_binding(&r, 1, STUN_CHANGE_PORT);
		req_finish(&r);
		run(&c, at, &from, r.buf, r.len, &res);
		expect_success(&c, &res, 1, at, at ^ SERVER_EP_ALT_PORT, &from, "change port");
		cr_assert_eq(stun_get_addr(&res.msg, STUN_ATTR_OTHER_ADDRESS, &got), STUN_OK);
	}
	/* No CHANGED-ADDRESS for an RFC 3489 client. */
	req_binding(&r, 0, -1);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	cr_assert(res.answered);
	expect_absent(&res.msg, STUN_ATTR_CHANGED_ADDRESS, "RFC 3489 form");
	req_binding(&r, 1, STUN_CHANGE_IP);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_error(&res, 1, 420, "no alternate address", 0, &from, "change IP");
	/* Two addresses: OTHER-ADDRESS in every answer, asked or not. */
	c = cfg_v4(1);
	req_binding(&r, 1, -1);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_success(&c, &res, 1, 0, 0, &from, "two addresses, bare");
}

/* ------------------------------------------------------------------ TCP */

/* Over TCP the answer goes back on the connection: a Binding request is
 * answered from where it arrived, with RESPONSE-ORIGIN and OTHER-ADDRESS;
 * whatever asks for another source or destination is a 400. */
Test(server, stream_requests)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("198.51.100.7", 40001), got;
	struct req r;
	static struct result res;
	static const int changes[3] = { STUN_CHANGE_IP, STUN_CHANGE_PORT,
	                                STUN_CHANGE_IP | STUN_CHANGE_PORT };
	uint8_t rp[4] = { 0x9c, 0x41, 0, 0 };
	unsigned at, k;

	for (at = 0; at < SERVER_NEP; at++) {
		req_binding(&r, 1, -1);
		req_finish(&r);
		run_on(1, &c, at, &from, r.buf, r.len, &res);
		cr_assert(res.answered, "at %u: %s", at, res.rep.why);
		cr_assert_eq(res.rep.code, 0);
		cr_assert_eq(res.rep.via, at);
		cr_assert(addr_eq(&res.rep.to, &from));
		expect_addr(&res.msg, STUN_ATTR_XOR_MAPPED_ADDRESS, &from, "stream");
		cr_assert_eq(stun_get_addr(&res.msg, STUN_ATTR_RESPONSE_ORIGIN, &got), STUN_OK);
		cr_expect(addr_eq(&got, &c.ep[at]));
		cr_assert_eq(stun_get_addr(&res.msg, STUN_ATTR_OTHER_ADDRESS, &got), STUN_OK);
		cr_expect(addr_eq(&got, &c.ep[at ^ SERVER_EP_OTHER]));
		/* No flags set: nothing to change, answered. */
		req_binding(&r, 1, 0);
		req_finish(&r);
		run_on(1, &c, at, &from, r.buf, r.len, &res);
		cr_assert(res.answered && res.rep.code == 0);
		for (k = 0; k < 3; k++) {
			req_binding(&r, 1, changes[k]);
			req_finish(&r);
			run_on(1, &c, at, &from, r.buf, r.len, &res);
			expect_error(&res, 1, 400, "CHANGE-REQUEST over TCP", at, &from, "change");
		}
		req_binding(&r, 1, -1);
		stun_enc_bytes(&r.e, STUN_ATTR_RESPONSE_PORT, rp, 4);
		req_finish(&r);
		run_on(1, &c, at, &from, r.buf, r.len, &res);
		expect_error(&res, 1, 400, "RESPONSE-PORT over TCP", at, &from, "response port");
	}
	/* RFC 3489 form: not over TCP. */
	req_binding(&r, 0, -1);
	req_finish(&r);
	run_on(1, &c, 0, &from, r.buf, r.len, &res);
	cr_assert_eq(res.answered, 0, "RFC 3489 over TCP");
	/* The same requests over UDP are honoured: the refusals are TCP's. */
	req_binding(&r, 1, STUN_CHANGE_IP);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_success(&c, &res, 1, 0, 1, &from, "UDP change IP");
}
