/*
 * test_addr.c - the pure address helpers: equality, formatting, classes,
 * and whether an address a server told us may be used.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "addr.h"

static struct stun_addr
a4(const char *ip, uint16_t port)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	cr_assert(inet_pton(AF_INET, ip, a.addr) == 1);
	a.port = port;
	return a;
}

static struct stun_addr
a6(const char *ip, uint16_t port)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 6;
	cr_assert(inet_pton(AF_INET6, ip, a.addr) == 1);
	a.port = port;
	return a;
}

Test(addr, equality)
{
	struct stun_addr x = a4("192.0.2.1", 1), y = a4("192.0.2.1", 2), z = a6("::1", 1);
	struct stun_addr none;

	memset(&none, 0, sizeof(none));
	cr_assert(addr_ip_eq(&x, &y));
	cr_assert(!addr_eq(&x, &y));
	cr_assert(addr_eq(&x, &x));
	cr_assert(!addr_ip_eq(&x, &z));
	cr_assert(!addr_ip_eq(&none, &none), "an address of no family equals nothing");
}

Test(addr, format)
{
	char buf[ADDR_STRLEN];
	struct stun_addr none, x = a6("2001:db8::1", 3478);

	memset(&none, 0, sizeof(none));
	cr_assert_str_eq(addr_fmt(&x, buf, sizeof(buf)), "[2001:db8::1]:3478");
	x = a4("203.0.113.9", 65535);
	cr_assert_str_eq(addr_fmt(&x, buf, sizeof(buf)), "203.0.113.9:65535");
	cr_assert_str_eq(addr_fmt_ip(&x, buf, sizeof(buf)), "203.0.113.9");
	cr_assert_str_eq(addr_fmt_ip(&none, buf, sizeof(buf)), "?");
	cr_assert_str_eq(addr_fmt(&x, buf, 4), "203", "truncated, still terminated");
}

Test(addr, classes)
{
	struct stun_addr x;

	x = a4("0.0.0.0", 0);          cr_assert(addr_is_unspecified(&x));
	x = a6("::", 0);               cr_assert(addr_is_unspecified(&x));
	x = a4("127.3.2.1", 0);        cr_assert(addr_is_loopback(&x));
	x = a6("::1", 0);              cr_assert(addr_is_loopback(&x));
	x = a6("::2", 0);              cr_assert(!addr_is_loopback(&x));
	x = a4("224.0.0.251", 5353);   cr_assert(addr_is_multicast(&x));
	x = a4("239.255.255.250", 0);  cr_assert(addr_is_multicast(&x));
	x = a4("240.0.0.1", 0);        cr_assert(!addr_is_multicast(&x));
	x = a6("ff02::fb", 0);         cr_assert(addr_is_multicast(&x));
	x = a4("255.255.255.255", 0);  cr_assert(addr_is_limited_broadcast(&x));
	x = a4("10.1.2.3", 0);         cr_assert(addr_is_private(&x));
	x = a4("172.31.0.1", 0);       cr_assert(addr_is_private(&x));
	x = a4("172.32.0.1", 0);       cr_assert(!addr_is_private(&x));
	x = a4("192.168.1.1", 0);      cr_assert(addr_is_private(&x));
	x = a6("fd00::1", 0);          cr_assert(addr_is_private(&x));
	x = a4("100.64.0.1", 0);       cr_assert(addr_is_shared(&x));
	x = a4("100.127.255.254", 0);  cr_assert(addr_is_shared(&x));
	x = a4("100.128.0.1", 0);      cr_assert(!addr_is_shared(&x));
	x = a4("198.51.100.7", 0);
	cr_assert(!addr_is_private(&x) && !addr_is_shared(&x) && !addr_is_loopback(&x));
}

Test(addr, subnet_broadcast)
{
	struct stun_addr net = a4("127.0.0.1", 0), x;

	x = a4("127.255.255.255", 0);  cr_assert(addr_is_subnet_broadcast(&x, &net, 8));
	x = a4("127.255.255.254", 0);  cr_assert(!addr_is_subnet_broadcast(&x, &net, 8));
	net = a4("192.0.2.10", 0);
	x = a4("192.0.2.255", 0);      cr_assert(addr_is_subnet_broadcast(&x, &net, 24));
	x = a4("192.0.3.255", 0);      cr_assert(!addr_is_subnet_broadcast(&x, &net, 24));
	x = a4("192.0.2.11", 0);       cr_assert(!addr_is_subnet_broadcast(&x, &net, 31));
}

/* The rules both engines follow for an address a server told them. */
Test(addr, use_check)
{
	static const struct {
		const char *ip;
		uint16_t port;
		const char *server;
		enum addr_role role;
		enum addr_use want;
	} cases[] = {
		{ "203.0.113.2", 3479, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_OK },
		{ "0.0.0.0", 3479, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_UNSPECIFIED },
		{ "203.0.113.2", 0, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_PORT_ZERO },
		{ "224.0.0.1", 3479, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_MULTICAST },
		{ "255.255.255.255", 3479, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_BROADCAST },
		{ "127.0.0.1", 3479, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_LOOPBACK },
		{ "127.0.0.1", 3479, "203.0.113.1", ADDR_ROLE_MAPPED, ADDR_USE_LOOPBACK },
		/* a server on this host may name loopback */
		{ "127.0.0.1", 3479, "127.0.0.1", ADDR_ROLE_TARGET, ADDR_USE_OK },
		/* this host's own address: refused from afar, fine when it is
		 * a mapped address's claim (no NAT) or the server is here */
		{ "192.0.2.10", 5000, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_LOCAL },
		{ "192.0.2.10", 5000, "203.0.113.1", ADDR_ROLE_MAPPED, ADDR_USE_OK },
		{ "192.0.2.10", 5000, "192.0.2.10", ADDR_ROLE_TARGET, ADDR_USE_OK },
		/* Issue #20: no hairpin test to this host's own IP on another
		 * port (a local service), whoever names it */
		{ "192.0.2.10", 22, "203.0.113.1", ADDR_ROLE_HAIRPIN, ADDR_USE_LOCAL },
		{ "192.0.2.10", 22, "192.0.2.10", ADDR_ROLE_HAIRPIN, ADDR_USE_LOCAL },
		{ "127.0.0.1", 22, "127.0.0.1", ADDR_ROLE_HAIRPIN, ADDR_USE_LOCAL },
		{ "127.0.0.5", 22, "127.0.0.1", ADDR_ROLE_HAIRPIN, ADDR_USE_LOCAL },
		{ "198.51.100.1", 40000, "203.0.113.1", ADDR_ROLE_HAIRPIN, ADDR_USE_OK },
		/* Issue #20: a public server names nothing local-scope to send to */
		{ "10.0.0.20", 22, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_SITE },
		{ "172.16.0.1", 3479, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_SITE },
		{ "192.168.1.1", 3479, "198.51.100.77", ADDR_ROLE_TARGET, ADDR_USE_SITE },
		{ "169.254.1.1", 3479, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_SITE },
		{ "100.64.0.2", 3479, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_SITE },
		{ "192.168.1.1", 40000, "203.0.113.1", ADDR_ROLE_HAIRPIN, ADDR_USE_SITE },
		{ "100.64.0.9", 40000, "203.0.113.1", ADDR_ROLE_HAIRPIN, ADDR_USE_SITE },
		/* ... but as a claim about our mapping it is only unlikely */
		{ "192.168.1.1", 40000, "203.0.113.1", ADDR_ROLE_MAPPED, ADDR_USE_OK },
		/* ... and a server inside such a network may name its own kind */
		{ "10.0.0.20", 3479, "10.0.0.10", ADDR_ROLE_TARGET, ADDR_USE_OK },
		{ "100.64.0.2", 3479, "100.64.0.1", ADDR_ROLE_TARGET, ADDR_USE_OK },
		{ "192.168.1.1", 40000, "100.64.0.1", ADDR_ROLE_HAIRPIN, ADDR_USE_OK },
		/* documentation ranges stand for the Internet: public server,
		 * public target */
		{ "198.51.100.9", 3479, "203.0.113.1", ADDR_ROLE_TARGET, ADDR_USE_OK },
	};
	struct stun_addr locals[2] = { a4("192.0.2.10", 40000), a4("192.0.2.10", 40001) };
	struct stun_addr srv = a4("203.0.113.1", 3478), x;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stun_addr s = a4(cases[i].server, 3478);

		x = a4(cases[i].ip, cases[i].port);
		cr_expect_eq(addr_use_check(&x, 4, &s, locals, 2, NULL, cases[i].role), cases[i].want,
		    "case %zu (%s from %s)", i, cases[i].ip, cases[i].server);
	}
	x = a6("2001:db8::1", 3479);
	cr_assert_eq(addr_use_check(&x, 4, &srv, locals, 2, NULL, ADDR_ROLE_TARGET),
	    ADDR_USE_FAMILY);
	x.family = 0;
	cr_assert_eq(addr_use_check(&x, 4, &srv, locals, 2, NULL, ADDR_ROLE_TARGET),
	    ADDR_USE_ABSENT);
	/* an alternate differs in IP and in port */
	x = a4("203.0.113.2", 3479);
	cr_assert_eq(addr_alt_check(&x, 4, &srv, locals, 2, NULL), ADDR_USE_OK);
	x = a4("203.0.113.2", 3478);
	cr_assert_eq(addr_alt_check(&x, 4, &srv, locals, 2, NULL), ADDR_USE_NOT_DISTINCT);
	x = a4("203.0.113.1", 3479);
	cr_assert_eq(addr_alt_check(&x, 4, &srv, locals, 2, NULL), ADDR_USE_NOT_DISTINCT);
	x = a4("224.0.0.1", 3479);
	cr_assert_eq(addr_alt_check(&x, 4, &srv, locals, 2, NULL), ADDR_USE_MULTICAST);
	x = a4("192.168.0.2", 3479);
	cr_assert_eq(addr_alt_check(&x, 4, &srv, locals, 2, NULL), ADDR_USE_SITE);
}

/* IPv6: ULA and link-local from a public server; IPv4-mapped addresses by
 * their IPv4. */
Test(addr, use_check_ipv6)
{
	struct stun_addr locals[2] = { a6("2001:db8:1::10", 40000), a6("2001:db8:1::10", 40001) };
	struct stun_addr srv = a6("2001:db8:3::1", 3478), x;

	x = a6("fd12:3456::1", 3479);
	cr_expect_eq(addr_use_check(&x, 6, &srv, locals, 2, NULL, ADDR_ROLE_TARGET), ADDR_USE_SITE);
	x = a6("fe80::1", 3479);
	cr_expect_eq(addr_use_check(&x, 6, &srv, locals, 2, NULL, ADDR_ROLE_TARGET), ADDR_USE_SITE);
	x = a6("::ffff:192.168.1.1", 3479);
	cr_expect_eq(addr_use_check(&x, 6, &srv, locals, 2, NULL, ADDR_ROLE_TARGET), ADDR_USE_SITE);
	x = a6("2001:db8:3::2", 3479);
	cr_expect_eq(addr_alt_check(&x, 6, &srv, locals, 2, NULL), ADDR_USE_OK);
	srv = a6("fd00::1", 3478);
	x = a6("fd00::2", 3479);
	cr_expect_eq(addr_alt_check(&x, 6, &srv, locals, 2, NULL), ADDR_USE_OK,
	    "a ULA server may name a ULA alternate");
}

/* This host's networks: an alternate on one of them is refused unless the
 * server is on it too, whatever the address class (the NAT lab's LAN is a
 * documentation range; an IPv6 LAN's addresses are global); this host's
 * other addresses are its own. */
Test(addr, use_check_host_networks)
{
	struct addr_host h;
	struct stun_addr locals[2] = { a4("192.0.2.10", 40000), a4("192.0.2.10", 40001) };
	struct stun_addr srv = a4("203.0.113.1", 3478), x;

	memset(&h, 0, sizeof(h));
	h.ip[0] = a4("127.0.0.1", 0);
	h.prefix[0] = 8;
	h.ip[1] = a4("192.0.2.10", 0);
	h.prefix[1] = 24;
	h.ip[2] = a6("2001:db8:1::10", 0);
	h.prefix[2] = 64;
	h.ip[3] = a4("198.51.100.200", 0);
	h.prefix[3] = 32;
	h.n = 4;
	x = a4("192.0.2.20", 22);
	cr_expect_eq(addr_alt_check(&x, 4, &srv, locals, 2, &h), ADDR_USE_ON_LINK,
	    "issue #20: OTHER-ADDRESS 192.0.2.20:22 on the client's LAN");
	cr_expect_eq(addr_use_check(&x, 4, &srv, locals, 2, &h, ADDR_ROLE_MAPPED), ADDR_USE_OK);
	x = a4("192.0.3.20", 3479);
	cr_expect_eq(addr_alt_check(&x, 4, &srv, locals, 2, &h), ADDR_USE_OK);
	x = a4("198.51.100.200", 3479);
	cr_expect_eq(addr_alt_check(&x, 4, &srv, locals, 2, &h), ADDR_USE_LOCAL,
	    "another address of this host");
	cr_expect_eq(addr_use_check(&x, 4, &srv, locals, 2, &h, ADDR_ROLE_HAIRPIN), ADDR_USE_LOCAL);
	x = a4("198.51.100.201", 3479);
	cr_expect_eq(addr_alt_check(&x, 4, &srv, locals, 2, &h), ADDR_USE_OK,
	    "a host route holds only the host's address");
	/* A server on the LAN may name another host there. */
	srv = a4("192.0.2.1", 3478);
	x = a4("192.0.2.2", 3479);
	cr_expect_eq(addr_alt_check(&x, 4, &srv, locals, 2, &h), ADDR_USE_OK);
	/* A server at another of this host's addresses is here. */
	srv = a4("198.51.100.200", 3478);
	x = a4("192.0.2.10", 3479);
	cr_expect_eq(addr_alt_check(&x, 4, &srv, locals, 2, &h), ADDR_USE_OK);
	/* IPv6: the LAN's /64. */
	{
		struct stun_addr l6[2] = { a6("2001:db8:1::10", 40000), a6("2001:db8:1::10", 40001) };
		struct stun_addr s6 = a6("2001:db8:3::1", 3478);

		x = a6("2001:db8:1::1", 22);
		cr_expect_eq(addr_alt_check(&x, 6, &s6, l6, 2, &h), ADDR_USE_ON_LINK);
		x = a6("2001:db8:3::2", 3479);
		cr_expect_eq(addr_alt_check(&x, 6, &s6, l6, 2, &h), ADDR_USE_OK);
	}
}

Test(addr, scopes)
{
	static const struct {
		const char *ip;
		int site, pub;
	} cases[] = {
		{ "10.1.2.3", 1, 0 }, { "172.20.0.1", 1, 0 }, { "192.168.0.1", 1, 0 },
		{ "169.254.0.1", 1, 0 }, { "100.64.0.1", 1, 0 }, { "100.127.255.255", 1, 0 },
		{ "127.0.0.1", 0, 0 }, { "0.0.0.0", 0, 0 }, { "224.0.0.1", 0, 0 },
		{ "255.255.255.255", 0, 0 },
		{ "192.0.2.1", 0, 1 }, { "198.51.100.1", 0, 1 }, { "203.0.113.1", 0, 1 },
		{ "8.8.8.8", 0, 1 }, { "100.128.0.1", 0, 1 }, { "169.255.0.1", 0, 1 },
		{ "fd00::1", 1, 0 }, { "fc00::1", 1, 0 }, { "fe80::1", 1, 0 }, { "febf::1", 1, 0 },
		{ "::ffff:10.0.0.1", 1, 0 }, { "::ffff:127.0.0.1", 0, 0 },
		{ "::1", 0, 0 }, { "::", 0, 0 }, { "ff02::1", 0, 0 },
		{ "2001:db8::1", 0, 1 }, { "2a00:1450::1", 0, 1 }, { "fec0::1", 0, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stun_addr x = strchr(cases[i].ip, ':') ? a6(cases[i].ip, 0) : a4(cases[i].ip, 0);

		cr_expect_eq(addr_is_site_scoped(&x), cases[i].site, "%s: site-scoped", cases[i].ip);
		cr_expect_eq(addr_is_public(&x), cases[i].pub, "%s: public", cases[i].ip);
	}
}

Test(addr, in_net)
{
	struct stun_addr net = a4("192.0.2.10", 0), x;

	x = a4("192.0.2.200", 0);      cr_expect(addr_in_net(&x, &net, 24));
	x = a4("192.0.3.1", 0);        cr_expect(!addr_in_net(&x, &net, 24));
	x = a4("192.0.3.1", 0);        cr_expect(addr_in_net(&x, &net, 23));
	x = a4("192.0.2.11", 0);       cr_expect(!addr_in_net(&x, &net, 32));
	x = a4("1.2.3.4", 0);          cr_expect(addr_in_net(&x, &net, 0));
	cr_expect(!addr_in_net(&x, &net, 33), "a prefix longer than the address");
	x = a6("2001:db8::1", 0);      cr_expect(!addr_in_net(&x, &net, 0), "another family");
	net = a6("2001:db8:1::10", 0);
	x = a6("2001:db8:1:0:ffff::1", 0); cr_expect(addr_in_net(&x, &net, 64));
	x = a6("2001:db8:1:1::1", 0);  cr_expect(!addr_in_net(&x, &net, 64));
	x = a6("2001:db8:1:1::1", 0);  cr_expect(addr_in_net(&x, &net, 63));
}
