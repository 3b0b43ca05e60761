/*
 * fuzz_server.c - libFuzzer target for server_handle(), the whole server
 * protocol (make fuzz builds every tests/fuzz/fuzz_*.c).
 *
 * Input: FUZZ_PREFIX bytes that choose the situation, then the datagram.
 *   byte 0: bits 0-1 the arrival endpoint, bit 2 IPv6, bit 3 a second
 *           address, bits 4-5 the SOFTWARE value (none, natcheck's, a long
 *           version string, one over the RFC's 763-byte cap), bit 6 a
 *           one-address OTHER-ADDRESS (other_port_only), bit 7 --advertise
 *   byte 1-2: the source port
 *   byte 3: the last byte of the source address (203.0.113.x or
 *           2001:db8:ffff::x), so a RESPONSE-ADDRESS can match it
 *   byte 4: 0, or 1 + the length of a PADDING attribute appended to the
 *           datagram, whose header length is then made to match: a knob
 *           for the request's size that random mutation rarely finds,
 *           since the length field and the attributes must agree
 * The same bytes also go through server_handle_stream() (TCP), whose
 * answer must go back to the source from the endpoint it arrived on, and
 * only to an RFC 5389 request.
 * Every broken promise is a __builtin_trap(), which libFuzzer reports as a
 * crash with the input saved.  The promises (server.h, man page SERVER):
 *  - never a crash, never a read or write out of bounds;
 *  - a header-level failure (stun_peek_header), a non-request, a method
 *    other than Binding: no answer;
 *  - an answer decodes with stun_decode, echoes the transaction ID, is a
 *    Binding success or error, leaves from a present endpoint and goes to
 *    the source IP (never a third party);
 *  - the amplification rule: no reply longer than the request plus
 *    SERVER_REPLY_SLACK; the optional attributes (SOFTWARE, FINGERPRINT,
 *    PADDING) only within max(request, required part); PADDING never makes
 *    a reply longer than the request; no SOFTWARE or FINGERPRINT in the
 *    RFC 3489 form.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "server.h"
#include "stun.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)
#define FUZZ_PREFIX 5

static uint8_t out[STUN_MAX_MSG + 1];
static uint8_t grown[STUN_MAX_MSG + 1];
static char over_cap[STUN_MAX_TEXT + 40];

static size_t
wire_size(size_t n)
{
	return 4 + ((n + 3) & ~(size_t)3);
}

static void
make_cfg(uint8_t sel, struct server_cfg *c)
{
	static const char *const software[4] = {
		NULL, "natcheck 0.1.0", "natcheck 0.1.0-rc1+g827864e", over_cap,
	};
	unsigned i;

	memset(over_cap, 'v', sizeof(over_cap) - 1);
	memset(c, 0, sizeof(*c));
	c->has_alt = (sel & 8) != 0;
	c->software = software[(sel >> 4) & 3];
	for (i = 0; i < SERVER_NEP; i++) {
		if ((i & SERVER_EP_ALT_ADDR) && !c->has_alt)
			continue;
		if (sel & 4) {
			static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

			c->ep[i].family = 6;
			memcpy(c->ep[i].addr, v6, 16);
			c->ep[i].addr[15] = (uint8_t)(1 + (i & SERVER_EP_ALT_ADDR));
		} else {
			c->ep[i].family = 4;
			c->ep[i].addr[0] = 192;
			c->ep[i].addr[2] = 2;
			c->ep[i].addr[3] = (uint8_t)(1 + (i & SERVER_EP_ALT_ADDR));
		}
		c->ep[i].port = (i & SERVER_EP_ALT_PORT) ? 3479 : 3478;
	}
	/* One address: name the other port as OTHER-ADDRESS (server.h). */
	c->other_port_only = (sel & 64) != 0;
	/* --advertise: public addresses of the same family, 203.0.113.x or
	 * 2001:db8::1:x. */
	if (sel & 128) {
		c->has_adv = 1;
		for (i = 0; i < 2; i++) {
			c->adv[i] = c->ep[0];
			c->adv[i].addr[c->adv[i].family == 6 ? 13 : 0] = 203;
			c->adv[i].addr[c->adv[i].family == 6 ? 15 : 3] = (uint8_t)(10 + i);
		}
	}
}

static void
make_from(const uint8_t *p, int v6, struct stun_addr *from)
{
	memset(from, 0, sizeof(*from));
	from->port = (uint16_t)(p[1] << 8 | p[2]);
	if (v6) {
		static const uint8_t net[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff };

		from->family = 6;
		memcpy(from->addr, net, 16);
		from->addr[15] = p[3];
	} else {
		from->family = 4;
		from->addr[0] = 203;
		from->addr[2] = 113;
		from->addr[3] = p[3];
	}
}

/* The amplification rule on an answer that decoded as m. */
static void
check_room(const struct server_cfg *c, const struct stun_msg *m, size_t replen, size_t len)
{
	size_t required = STUN_HEADER_LEN, sw = 0, fp = 0, pad = 0, room, i;
	size_t swlen = c->software != NULL ? strlen(c->software) : 0;

	CHECK(replen <= len + SERVER_REPLY_SLACK);
	for (i = 0; i < m->nattrs; i++) {
		size_t n = wire_size(m->attrs[i].len);

		if (m->attrs[i].type == STUN_ATTR_SOFTWARE)
			sw = n;
		else if (m->attrs[i].type == STUN_ATTR_FINGERPRINT)
			fp = n;
		else if (m->attrs[i].type == STUN_ATTR_PADDING)
			pad = n;
		else
			required += n;
	}
	room = len > required ? len : required;
	CHECK(replen == required + sw + fp + pad);
	CHECK(replen <= room);
	if (pad > 0)
		CHECK(replen <= len);
	if (!m->has_cookie) {
		CHECK(sw == 0 && fp == 0);
		return;
	}
	/* Left out only for want of room, SOFTWARE first. */
	if (fp == 0)
		CHECK(required + wire_size(4) > room);
	if (sw == 0 && swlen > 0 && swlen <= STUN_MAX_TEXT)
		CHECK(required + fp + wire_size(swlen) > room);
	if (sw > 0)
		CHECK(swlen > 0 && swlen <= STUN_MAX_TEXT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_cfg cfg;
	struct server_reply rep;
	struct stun_addr from;
	struct stun_header h;
	struct stun_msg m;
	const uint8_t *req;
	size_t len;
	unsigned at;
	int answered, header_ok;

	if (size < FUZZ_PREFIX)
		return 0;
	make_cfg(data[0], &cfg);
	make_from(data, (data[0] & 4) != 0, &from);
	at = data[0] & 3u;
	req = data + FUZZ_PREFIX;
	len = size - FUZZ_PREFIX;
	if (data[4] != 0 && len >= STUN_HEADER_LEN && len + 4 + 256 <= sizeof(grown)) {
		size_t n = data[4] - 1u;

		memcpy(grown, req, len);
		grown[len] = STUN_ATTR_PADDING >> 8;
		grown[len + 1] = STUN_ATTR_PADDING & 0xFF;
		grown[len + 2] = 0;
		grown[len + 3] = (uint8_t)n;
		memset(grown + len + 4, 'p', (n + 3) & ~(size_t)3);
		len += wire_size(n);
		grown[2] = (uint8_t)((len - STUN_HEADER_LEN) >> 8);
		grown[3] = (uint8_t)(len - STUN_HEADER_LEN);
		req = grown;
	}

	/* Over TCP: the answer only ever goes back where the request came
	 * from, and only to an RFC 5389 request. */
	answered = server_handle_stream(&cfg, at, &from, req, len, out, sizeof(out), &rep);
	CHECK(rep.why != NULL);
	if (answered) {
		CHECK(rep.via == at && addr_eq(&rep.to, &from));
		CHECK(len >= 8 && req[4] == 0x21 && req[5] == 0x12 && req[6] == 0xA4 &&
		      req[7] == 0x42);
		CHECK(stun_decode(out, rep.len, &m) == STUN_OK);
		CHECK(memcmp(m.tid, req + 4, STUN_TID_LEN) == 0);
	} else {
		CHECK(rep.len == 0);
	}

	answered = server_handle(&cfg, at, &from, req, len, out, sizeof(out), &rep);
	CHECK(rep.why != NULL);
	header_ok = stun_peek_header(req, len, &h) == STUN_OK && h.cls == STUN_CLASS_REQUEST &&
	    h.method == STUN_METHOD_BINDING && (h.has_cookie || h.type == STUN_BINDING_REQUEST);
	if (!answered) {
		CHECK(rep.len == 0);
		return 0;
	}
	CHECK(header_ok);
	CHECK(cfg.has_alt || !(at & SERVER_EP_ALT_ADDR));
	CHECK(rep.via < SERVER_NEP && (cfg.has_alt || !(rep.via & SERVER_EP_ALT_ADDR)));
	CHECK(addr_ip_eq(&rep.to, &from) && rep.to.port != 0);
	CHECK(stun_decode(out, rep.len, &m) == STUN_OK);
	CHECK(memcmp(m.tid, req + 4, STUN_TID_LEN) == 0);
	CHECK(m.method == STUN_METHOD_BINDING);
	if (m.cls == STUN_CLASS_ERROR) {
		/* Errors go back to the source, from where the request arrived. */
		CHECK(rep.code >= 400 && rep.code < 500 && rep.via == at);
		CHECK(addr_eq(&rep.to, &from));
	} else {
		struct stun_addr origin, want;

		CHECK(m.cls == STUN_CLASS_SUCCESS && rep.code == 0);
		/* The reported origin is the endpoint sent from, as advertised. */
		if (stun_get_addr(&m, STUN_ATTR_RESPONSE_ORIGIN, &origin) == STUN_OK ||
		    stun_get_addr(&m, STUN_ATTR_SOURCE_ADDRESS, &origin) == STUN_OK) {
			server_ep_public(&cfg, rep.via, &want);
			CHECK(addr_eq(&origin, &want));
		}
	}
	check_room(&cfg, &m, rep.len, len);
	return 0;
}
