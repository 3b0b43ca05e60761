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
		int own;
		enum addr_use want;
	} cases[] = {
		{ "203.0.113.2", 3479, "203.0.113.1", 0, ADDR_USE_OK },
		{ "0.0.0.0", 3479, "203.0.113.1", 0, ADDR_USE_UNSPECIFIED },
		{ "203.0.113.2", 0, "203.0.113.1", 0, ADDR_USE_PORT_ZERO },
		{ "224.0.0.1", 3479, "203.0.113.1", 0, ADDR_USE_MULTICAST },
		{ "255.255.255.255", 3479, "203.0.113.1", 0, ADDR_USE_BROADCAST },
		{ "127.0.0.1", 3479, "203.0.113.1", 0, ADDR_USE_LOOPBACK },
		/* a server on this host may name loopback */
		{ "127.0.0.1", 3479, "127.0.0.1", 0, ADDR_USE_OK },
		/* this host's own address: refused from afar, fine when it is
		 * ours by definition (a mapped address) or the server is here */
		{ "192.0.2.10", 5000, "203.0.113.1", 0, ADDR_USE_LOCAL },
		{ "192.0.2.10", 5000, "203.0.113.1", 1, ADDR_USE_OK },
		{ "192.0.2.10", 5000, "192.0.2.10", 0, ADDR_USE_OK },
	};
	struct stun_addr locals[2] = { a4("192.0.2.10", 40000), a4("192.0.2.10", 40001) };
	struct stun_addr srv = a4("203.0.113.1", 3478), x;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stun_addr s = a4(cases[i].server, 3478);

		x = a4(cases[i].ip, cases[i].port);
		cr_assert_eq(addr_use_check(&x, 4, &s, locals, 2, cases[i].own), cases[i].want,
		    "case %zu (%s)", i, cases[i].ip);
	}
	x = a6("2001:db8::1", 3479);
	cr_assert_eq(addr_use_check(&x, 4, &srv, locals, 2, 0), ADDR_USE_FAMILY);
	x.family = 0;
	cr_assert_eq(addr_use_check(&x, 4, &srv, locals, 2, 0), ADDR_USE_ABSENT);
	/* an alternate differs in IP and in port */
	x = a4("203.0.113.2", 3479);
	cr_assert_eq(addr_alt_check(&x, 4, &srv, locals, 2), ADDR_USE_OK);
	x = a4("203.0.113.2", 3478);
	cr_assert_eq(addr_alt_check(&x, 4, &srv, locals, 2), ADDR_USE_NOT_DISTINCT);
	x = a4("203.0.113.1", 3479);
	cr_assert_eq(addr_alt_check(&x, 4, &srv, locals, 2), ADDR_USE_NOT_DISTINCT);
	x = a4("224.0.0.1", 3479);
	cr_assert_eq(addr_alt_check(&x, 4, &srv, locals, 2), ADDR_USE_MULTICAST);
}
