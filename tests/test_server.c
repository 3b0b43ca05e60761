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
};

static void
run(const struct server_cfg *c, unsigned at, const struct stun_addr *from,
    const uint8_t *req, size_t len, struct result *res)
{
	enum stun_status st;

	memset(res, 0, sizeof(*res));
	res->answered = server_handle(c, at, from, req, len, res->out, sizeof(res->out), &res->rep);
	cr_assert(res->rep.why != NULL, "a reason is always given");
	/* The amplification bound holds for every answer in every test. */
	if (res->answered) {
		cr_assert_leq(res->rep.len, len + SERVER_REPLY_SLACK,
		              "reply of %zu bytes to a %zu-byte request", res->rep.len, len);
		st = stun_decode(res->out, res->rep.len, &res->msg);
		cr_assert_eq(st, STUN_OK, "reply does not decode: %s", stun_strerror(st));
		/* The transaction ID is echoed, cookie and all. */
		cr_assert_eq(memcmp(res->msg.tid, req + 4, STUN_TID_LEN), 0);
	} else {
		cr_assert_eq(res->rep.len, 0);
	}
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
	if (cookie) {
		cr_assert_geq(res->msg.fingerprint_idx, 0, "%s: no FINGERPRINT", ctx);
		cr_assert_eq((size_t)res->msg.fingerprint_idx, res->msg.nattrs - 1);
		cr_assert_geq(stun_find(&res->msg, STUN_ATTR_SOFTWARE), 0, "%s: no SOFTWARE", ctx);
	} else {
		expect_absent(&res->msg, STUN_ATTR_FINGERPRINT, ctx);
		expect_absent(&res->msg, STUN_ATTR_SOFTWARE, ctx);
	}
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
		const uint8_t *v;
		size_t n;

		expect_addr(&res->msg, STUN_ATTR_XOR_MAPPED_ADDRESS, from, ctx);
		expect_addr(&res->msg, STUN_ATTR_RESPONSE_ORIGIN, &c->ep[via], ctx);
		if (c->has_alt)
			expect_addr(&res->msg, STUN_ATTR_OTHER_ADDRESS, &c->ep[at ^ 3u], ctx);
		else
			expect_absent(&res->msg, STUN_ATTR_OTHER_ADDRESS, ctx);
		expect_absent(&res->msg, STUN_ATTR_SOURCE_ADDRESS, ctx);
		expect_absent(&res->msg, STUN_ATTR_CHANGED_ADDRESS, ctx);
		cr_assert_eq(stun_get_bytes(&res->msg, STUN_ATTR_SOFTWARE, &v, &n), STUN_OK, "%s", ctx);
		cr_assert(n == strlen(SOFTWARE) && memcmp(v, SOFTWARE, n) == 0, "%s: SOFTWARE", ctx);
		/* FINGERPRINT present, verified by stun_decode, and last. */
		cr_assert_geq(res->msg.fingerprint_idx, 0, "%s: no FINGERPRINT", ctx);
		cr_assert_eq((size_t)res->msg.fingerprint_idx, res->msg.nattrs - 1, "%s", ctx);
	} else {
		expect_addr(&res->msg, STUN_ATTR_SOURCE_ADDRESS, &c->ep[via], ctx);
		if (c->has_alt)
			expect_addr(&res->msg, STUN_ATTR_CHANGED_ADDRESS, &c->ep[at ^ 3u], ctx);
		else
			expect_absent(&res->msg, STUN_ATTR_CHANGED_ADDRESS, ctx);
		/* Nothing an RFC 3489 client does not know. */
		expect_absent(&res->msg, STUN_ATTR_XOR_MAPPED_ADDRESS, ctx);
		expect_absent(&res->msg, STUN_ATTR_RESPONSE_ORIGIN, ctx);
		expect_absent(&res->msg, STUN_ATTR_OTHER_ADDRESS, ctx);
		expect_absent(&res->msg, STUN_ATTR_SOFTWARE, ctx);
		expect_absent(&res->msg, STUN_ATTR_FINGERPRINT, ctx);
	}
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

Test(server, malformed_requests_get_400)
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

		/* Header length 4 more than the datagram holds. */
		len = raw(buf, 0x0001, 12, cookie, badlen, sizeof(badlen));
		run(&c, 1, &from, buf, len, &res);
		expect_error(&res, cookie, 400, stun_strerror(STUN_ERR_LENGTH_MISMATCH), 1, &from,
		             "length mismatch");

		/* Header length not a multiple of 4. */
		len = raw(buf, 0x0001, 3, cookie, badlen, 3);
		run(&c, 0, &from, buf, len, &res);
		expect_error(&res, cookie, 400, NULL, 0, &from, "unaligned");
	}
}

Test(server, unsupported_method_gets_400)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001);
	struct req r;
	static struct result res;

	/* An Allocate request (method 0x003, RFC 5766) with the cookie. */
	req_start(&r, 1, stun_msg_type(0x003, STUN_CLASS_REQUEST));
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	expect_error(&res, 1, 400, "unsupported method", 0, &from, "Allocate");
	cr_assert_eq(res.msg.type, stun_msg_type(0x003, STUN_CLASS_ERROR));
	cr_assert_eq(res.msg.method, 0x003);

	/* Malformed and not Binding: still a request, still 400, same method. */
	{
		uint8_t buf[64];
		const uint8_t trunc[] = { 0x00, 0x03, 0x00, 0x08, 0, 0, 0, 0 };
		size_t len = raw(buf, stun_msg_type(0x003, STUN_CLASS_REQUEST), sizeof(trunc), 1,
		                 trunc, sizeof(trunc));

		run(&c, 0, &from, buf, len, &res);
		expect_error(&res, 1, 400, NULL, 0, &from, "malformed Allocate");
		cr_assert_eq(res.msg.method, 0x003);
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

Test(server, padding_never_beyond_request)
{
	struct server_cfg c = cfg_v4(1);
	struct stun_addr from = mk("203.0.113.9", 40001);
	struct req r;
	static struct result res;
	static uint8_t pad[1500];
	const uint8_t *v;
	size_t n, sizes[] = { 0, 4, 5, 64, 100, 1500 };
	size_t i;
	int cookie;

	memset(pad, 'p', sizeof(pad));
	for (cookie = 0; cookie <= 1; cookie++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			req_binding(&r, cookie, STUN_CHANGE_PORT);
			stun_enc_bytes(&r.e, STUN_ATTR_PADDING, pad, sizes[i]);
			req_finish(&r);
			run(&c, 0, &from, r.buf, r.len, &res);
			expect_success(&c, &res, cookie, 0, 2, &from, "PADDING");
			/* PADDING is in the reply ... */
			cr_assert_eq(stun_get_bytes(&res.msg, STUN_ATTR_PADDING, &v, &n), STUN_OK,
			             "PADDING %zu missing", sizes[i]);
			/* ... at most as long as the request's, and the padded reply
			 * is no longer than the request itself, unless the reply
			 * carries no padding at all. */
			cr_assert_leq(n, sizes[i]);
			if (n > 0)
				cr_assert_leq(res.rep.len, r.len, "padded reply %zu > request %zu",
				              res.rep.len, r.len);
			if (sizes[i] >= 1000) {
				/* A big pad fills the reply to the request's size. */
				cr_assert_eq(res.rep.len, r.len);
				cr_assert_gt(n, 1000);
			}
		}
}

Test(server, reply_never_exceeds_bound)
{
	/* A SOFTWARE value long enough that the smallest request's reply
	 * would break the bound: the reply is dropped, not sent. */
	static char longsw[301];
	struct server_cfg c = cfg_v6();
	struct stun_addr from = mk("2001:db8:ffff::9", 40002);
	struct req r;
	static struct result res;
	static uint8_t pad[400];

	memset(longsw, 's', sizeof(longsw) - 1);
	c.software = longsw;
	req_binding(&r, 1, -1);
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	cr_assert_eq(res.answered, 0, "a %zu-byte reply to a 20-byte request", res.rep.len);
	cr_assert_str_eq(res.rep.why, "reply would exceed amplification bound");

	/* The error path goes through the same check. */
	req_start(&r, 1, stun_msg_type(0x003, STUN_CLASS_REQUEST));
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	cr_assert_eq(res.answered, 0);
	cr_assert_str_eq(res.rep.why, "reply would exceed amplification bound");

	/* A larger request earns the same reply: the bound is relative. */
	req_binding(&r, 1, -1);
	stun_enc_bytes(&r.e, 0x8077, pad, 300);        /* optional, ignored */
	req_finish(&r);
	run(&c, 0, &from, r.buf, r.len, &res);
	cr_assert_eq(res.answered, 1, "%s", res.rep.why);

	/* With the default-sized SOFTWARE the smallest IPv6 request (20 bytes,
	 * the largest reply: four IPv6 addresses) fits. */
	c.software = SOFTWARE;
	req_binding(&r, 1, -1);
	req_finish(&r);
	run(&c, 3, &from, r.buf, r.len, &res);
	expect_success(&c, &res, 1, 3, 3, &from, "smallest v6 request");
	/* natcheck's own SOFTWARE ("natcheck 0.1.0") is as long as SOFTWARE +1. */
	cr_assert_leq(res.rep.len + 4, r.len + SERVER_REPLY_SLACK);
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
