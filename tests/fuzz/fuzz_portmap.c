/*
 * fuzz_portmap.c - libFuzzer target for the port-mapping codecs and engine.
 *
 * Every input goes through every decoder (NAT-PMP, PCP, SSDP, HTTP head
 * and body, URL, IPv4, the XML scan, device description, SOAP answer,
 * route table), and then through the engine as a gateway's answers: as
 * the NAT-PMP, PCP and SSDP datagrams, then split in two as the
 * description's and the SOAP answer's stream.  Every promise portmap.h makes about a result is
 * checked; a broken one is a __builtin_trap(), which libFuzzer reports as
 * a crash with the input saved.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "portmap.h"
#include "portmap_io.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static int
in(const void *p, size_t n, const void *base, size_t len)
{
	return (const char *)p >= (const char *)base &&
	    (const char *)p + n <= (const char *)base + len;
}

static void
url_ok(const struct portmap_url *u)
{
	size_t n = strnlen(u->path, sizeof(u->path));

	CHECK(n < sizeof(u->path) && n > 0 && u->path[0] == '/');
	/* [A-Za-z0-9/._-] only, and port 80 or 1024 and up (issue #20). */
	CHECK(strspn(u->path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-")
	    == n);
	CHECK(u->host.family == 4 && (u->host.port == 80 || u->host.port >= 1024));
}

/* The names the engine looks for, and the shortest. */
static const char *const xml_names[] = {
	"serviceType", "controlURL", "errorCode", "NewExternalIPAddress", "a",
};

static void
codecs(const uint8_t *d, size_t n)
{
	static char out[PORTMAP_HTTP_CAP];
	const char *t = (const char *)d;
	struct portmap_natpmp np;
	struct portmap_pcp pcp;
	struct portmap_url u, loc;
	struct portmap_http h;
	struct portmap_igd igd;
	struct stun_addr a;
	int code;

	if (portmap_natpmp_decode(d, n, &np) == PORTMAP_OK)
		CHECK(n >= 8 && (np.has_external == (np.result == 0)) && (!np.has_external || n >= 12));
	if (portmap_pcp_decode(d, n, &pcp) == PORTMAP_OK)
		CHECK(pcp.version == 0 || (pcp.version == 2 && n % 4 == 0 && n >= 24 &&
		    n <= PORTMAP_PCP_MAX && pcp.noptions <= (n - 24) / 4));
	if (portmap_ssdp_decode(t, n, &u) == PORTMAP_OK)
		url_ok(&u);
	if (portmap_url_parse(t, n, &u) == PORTMAP_OK)
		url_ok(&u);
	if (portmap_ipv4_parse(t, n, &a) == 0)
		CHECK(a.family == 4 && n >= 7 && n <= 15);
	if (portmap_http_parse(t, n, &h) == PORTMAP_OK) {
		CHECK(h.header_len <= n && h.nheaders <= PORTMAP_MAX_HEADERS);
		CHECK(h.status >= 0 && h.status <= 999);
		for (size_t i = 0; i < h.nheaders; i++) {
			CHECK(in(h.headers[i].name, h.headers[i].name_len, d, n));
			CHECK(in(h.headers[i].value, h.headers[i].value_len, d, n));
		}
		for (int eof = 0; eof < 2; eof++) {
			const char *body;
			size_t blen;

			if (portmap_http_body(t, n, eof, &h, out, sizeof(out), &body, &blen) == PORTMAP_OK)
				CHECK(in(body, blen, d, n) || in(body, blen, out, sizeof(out)));
		}
	}
	CHECK(portmap_url_parse("http://192.0.2.1:5000/d.xml", 27, &loc) == PORTMAP_OK);
	if (portmap_igd_find(t, n, &loc, &igd) == PORTMAP_OK) {
		char req[PORTMAP_TXBUF];

		url_ok(&igd.control);
		CHECK(addr_eq(&igd.control.host, &loc.host));     /* LOCATION's IP and port */
		CHECK(strpbrk(igd.service_type, "\r\n\" <>") == NULL);
		CHECK(portmap_soap_request(req, sizeof(req), &igd) > 0);
	}
	/* The XML scan: linear whatever the bytes (at most two looks a byte),
	 * and a text inside the input. */
	for (size_t i = 0; i < sizeof(xml_names) / sizeof(xml_names[0]); i++) {
		const char *x = NULL;
		size_t xlen = 0, looked = 0;

		if (portmap_xml_text(t, n, xml_names[i], &x, &xlen, &looked) == 0)
			CHECK(in(x, xlen, d, n) && memchr(x, '<', xlen) == NULL);
		CHECK(looked <= 2 * n);
	}
	for (int status = 200; status <= 500; status += 300)
		if (portmap_soap_decode(status, t, n, &a, &code) == PORTMAP_OK)
			CHECK(status == 200 && a.family == 4 && !addr_is_unspecified(&a));
	(void)portmap_gateway_parse(t, n, &loc.host, &a);
}

/* The input as everything a gateway says, in virtual time. */
static void
engine(const uint8_t *d, size_t n)
{
	static struct portmap m;
	struct portmap_config c;
	struct stun_addr gw, mapped;
	size_t half = n / 2;
	int fed = 0;
	uint64_t now = 0;

	memset(&c, 0, sizeof(c));
	c.enabled = c.has_gateway = c.multicast = 1;
	CHECK(portmap_ipv4_parse("192.0.2.1", 9, &c.gateway) == 0);
	CHECK(portmap_ipv4_parse("192.0.2.10", 10, &c.local) == 0);
	c.timeout_ms = 3000;
	gw = c.gateway;
	portmap_init(&m, &c, 0);
	for (int steps = 0; steps < 200; steps++) {
		struct portmap_tx tx;
		uint32_t wait = 0;
		enum portmap_step st = portmap_next(&m, now, &tx, &wait);

		if (st == PORTMAP_DONE)
			break;
		if (st == PORTMAP_SEND && tx.sock != PORTMAP_SOCK_TCP)
			CHECK(tx.len > 0 && (addr_ip_eq(&tx.to, &gw) || tx.to.addr[0] == 239));
		if (st == PORTMAP_CONNECT) {
			/* Never anywhere else, nor to another service of it. */
			CHECK(addr_ip_eq(&tx.to, &gw) && (tx.to.port == 80 || tx.to.port >= 1024));
			portmap_tcp_event(&m, now, PORTMAP_TCP_CONNECTED);
		}
		if (st == PORTMAP_SEND && tx.sock == PORTMAP_SOCK_TCP) {
			CHECK(tx.len > 0 && tx.len <= sizeof(tx.buf));
			portmap_input(&m, now, PORTMAP_SOCK_TCP, NULL, d, fed++ ? n - half : half);
			portmap_tcp_event(&m, now, PORTMAP_TCP_EOF);
		}
		if (st == PORTMAP_WAIT) {
			if (now == 0) {
				gw.port = PORTMAP_PMP_PORT;
				portmap_input(&m, 1, PORTMAP_SOCK_NATPMP, &gw, d, n);
				portmap_input(&m, 1, PORTMAP_SOCK_PCP, &gw, d, n);
				gw.port = PORTMAP_SSDP_PORT;
				portmap_input(&m, 1, PORTMAP_SOCK_SSDP, &gw, d, n);
			}
			now += wait ? wait : 1;
		}
	}
	CHECK(m.done);
	CHECK(!m.has_external || m.external.family == 4);
	mapped = gw;
	portmap_double_nat(&m, 1, &mapped, 1, &c.local);
	CHECK(m.double_nat >= -1 && m.double_nat <= 1);
	CHECK(m.double_nat != 1 || m.has_external);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	codecs(data, size);
	engine(data, size);
	return 0;
}
