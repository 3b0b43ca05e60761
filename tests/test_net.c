/*
 * test_net.c - address parsing, formatting and the small OS helpers in net.c.
 *
 * Socket tests use loopback only (127.0.0.1 and ::1).
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct stun_addr
v4(const char *ip, uint16_t port)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.port = port;
	cr_assert_eq(inet_pton(AF_INET, ip, a.addr), 1);
	return a;
}

static struct stun_addr
v6(const char *ip, uint16_t port)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.port = port;
	cr_assert_eq(inet_pton(AF_INET6, ip, a.addr), 1);
	return a;
}

/* ---------------------------------------------------------- split */

struct split_case {
	const char *name;
	const char *in;
	int ok;
	const char *host;           /* expected when ok */
	uint16_t port;              /* expected when ok (given 1234 as default) */
};

static const struct split_case split_cases[] = {
	{ "bare name",            "stun.example",      1, "stun.example", 1234 },
	{ "name and port",        "stun.example:3478", 1, "stun.example", 3478 },
	{ "v4 literal",           "192.0.2.1",         1, "192.0.2.1",    1234 },
	{ "v4 and port",          "192.0.2.1:65535",   1, "192.0.2.1",    65535 },
	{ "v4 port 1",            "192.0.2.1:1",       1, "192.0.2.1",    1 },
	{ "bracketed v6",         "[2001:db8::1]",     1, "2001:db8::1",  1234 },
	{ "bracketed v6 + port",  "[2001:db8::1]:3479",1, "2001:db8::1",  3479 },
	{ "bare v6 is a host",    "2001:db8::1",       1, "2001:db8::1",  1234 },
	{ "bare ::1",             "::1",               1, "::1",          1234 },
	{ "port 0",               "host:0",            0, NULL, 0 },
	{ "port 65536",           "host:65536",        0, NULL, 0 },
	{ "port abc",             "host:abc",          0, NULL, 0 },
	{ "port with sign",       "host:+80",          0, NULL, 0 },
	{ "port with space",      "host: 80",          0, NULL, 0 },
	{ "empty port",           "host:",             0, NULL, 0 },
	{ "empty host",           ":3478",             0, NULL, 0 },
	{ "empty string",         "",                  0, NULL, 0 },
	{ "missing bracket",      "[2001:db8::1",      0, NULL, 0 },
	{ "missing bracket+port", "[2001:db8::1:3478",0, NULL, 0 },
	{ "junk after bracket",   "[::1]x",            0, NULL, 0 },
	{ "empty brackets",       "[]:3478",           0, NULL, 0 },
	{ "v6 port 0",            "[::1]:0",           0, NULL, 0 },
	{ "v6 port 65536",        "[::1]:65536",       0, NULL, 0 },
	{ "v6 empty port",        "[::1]:",            0, NULL, 0 },
	{ "stray close bracket",  "host]:80",          0, NULL, 0 },
};

Test(net, split_hostport_table)
{
	size_t i;

	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		const struct split_case *c = &split_cases[i];
		char host[256] = "untouched", err[NET_ERRLEN] = "";
		uint16_t port = 1234;
		int rc = net_split_hostport(c->in, host, sizeof(host), &port, err);

		if (c->ok) {
			cr_expect_eq(rc, 0, "%s: \"%s\" failed: %s", c->name, c->in, err);
			cr_expect_str_eq(host, c->host, "%s: host", c->name);
			cr_expect_eq(port, c->port, "%s: port %u", c->name, port);
		} else {
			cr_expect_eq(rc, -1, "%s: \"%s\" accepted", c->name, c->in);
			cr_expect_neq(err[0], '\0', "%s: no reason given", c->name);
			cr_expect_eq(port, 1234, "%s: port changed on failure", c->name);
		}
	}
}

Test(net, split_hostport_host_too_long)
{
	char host[8], err[NET_ERRLEN];
	uint16_t port = 1;

	cr_expect_eq(net_split_hostport("abcdefgh:80", host, sizeof(host), &port, err), -1);
	cr_expect_eq(net_split_hostport("abcdefg:80", host, sizeof(host), &port, err), 0);
	cr_expect_str_eq(host, "abcdefg");
	cr_expect_eq(port, 80);
}

/* ----------------------------------------------------------- port */

Test(net, parse_port)
{
	char err[NET_ERRLEN];
	uint16_t p = 7;

	cr_expect_eq(net_parse_port("3478", 0, &p, err), 0);
	cr_expect_eq(p, 3478);
	cr_expect_eq(net_parse_port("65535", 0, &p, err), 0);
	cr_expect_eq(p, 65535);
	cr_expect_eq(net_parse_port("1", 0, &p, err), 0);
	cr_expect_eq(p, 1);
	cr_expect_eq(net_parse_port("0", 1, &p, err), 0);
	cr_expect_eq(p, 0);

	p = 7;
	cr_expect_eq(net_parse_port("0", 0, &p, err), -1);
	cr_expect_eq(net_parse_port("65536", 1, &p, err), -1);
	cr_expect_eq(net_parse_port("99999999999999999999999", 1, &p, err), -1);
	cr_expect_eq(net_parse_port("abc", 1, &p, err), -1);
	cr_expect_eq(net_parse_port("12a", 1, &p, err), -1);
	cr_expect_eq(net_parse_port("-1", 1, &p, err), -1);
	cr_expect_eq(net_parse_port("0x10", 1, &p, err), -1);
	cr_expect_eq(net_parse_port("", 1, &p, err), -1);
	cr_expect_eq(net_parse_port(" 80", 1, &p, err), -1);
	cr_expect_eq(p, 7, "port written on failure");
	cr_expect_neq(err[0], '\0');
}

/* ------------------------------------------------------ formatting */

Test(net, fmt_v4)
{
	char buf[ADDR_STRLEN];
	struct stun_addr a = v4("192.0.2.1", 3478);

	cr_expect_str_eq(addr_fmt(&a, buf, sizeof(buf)), "192.0.2.1:3478");
	cr_expect_str_eq(addr_fmt_ip(&a, buf, sizeof(buf)), "192.0.2.1");
	a.port = 0;
	cr_expect_str_eq(addr_fmt(&a, buf, sizeof(buf)), "192.0.2.1:0");
}

Test(net, fmt_v6)
{
	char buf[ADDR_STRLEN];
	struct stun_addr a = v6("2001:db8::1", 3479);
	struct stun_addr longest = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);

	cr_expect_str_eq(addr_fmt(&a, buf, sizeof(buf)), "[2001:db8::1]:3479");
	cr_expect_str_eq(addr_fmt_ip(&a, buf, sizeof(buf)), "2001:db8::1");
	/* ADDR_STRLEN holds the longest form without truncation. */
	cr_expect_str_eq(addr_fmt(&longest, buf, sizeof(buf)),
	                 "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

Test(net, fmt_small_buffer_and_bad_family)
{
	char buf[8];
	struct stun_addr a = v4("192.0.2.100", 3478), z;

	addr_fmt(&a, buf, sizeof(buf));
	cr_expect_eq(strlen(buf), sizeof(buf) - 1, "truncated, NUL-terminated");
	memset(&z, 0, sizeof(z));
	z.family = 9;
	cr_expect_str_eq(addr_fmt_ip(&z, buf, sizeof(buf)), "?");
}

/* ------------------------------------------------------- equality */

Test(net, addr_eq)
{
	struct stun_addr a = v4("192.0.2.1", 1), b = v4("192.0.2.1", 1);
	struct stun_addr c = v4("192.0.2.1", 2), d = v4("192.0.2.2", 1);
	struct stun_addr e = v6("::ffff:192.0.2.1", 1), f = v6("2001:db8::1", 1);
	struct stun_addr g = v6("2001:db8::1", 1), h = v6("2001:db8::2", 1);

	cr_expect(addr_eq(&a, &b));
	cr_expect(!addr_eq(&a, &c), "ports differ");
	cr_expect(addr_ip_eq(&a, &c), "same IP, other port");
	cr_expect(!addr_eq(&a, &d));
	cr_expect(!addr_ip_eq(&a, &d));
	cr_expect(!addr_ip_eq(&a, &e), "v4 and v4-mapped v6 are different families");
	cr_expect(addr_eq(&f, &g));
	cr_expect(!addr_ip_eq(&f, &h));
	/* Bytes past the 4 used by IPv4 do not matter. */
	b.addr[10] = 0xAA;
	cr_expect(addr_eq(&a, &b));
}

/* -------------------------------------------------- sockaddr round trip */

Test(net, sockaddr_round_trip)
{
	struct stun_addr in[2] = { v4("198.51.100.7", 53), v6("2001:db8::42", 3478) }, out;
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;

	for (i = 0; i < 2; i++) {
		net_from_stun(&in[i], &ss, &len);
		cr_expect_eq(len, in[i].family == 4 ? sizeof(struct sockaddr_in)
		                                    : sizeof(struct sockaddr_in6));
		cr_assert_eq(net_to_stun((struct sockaddr *)&ss, &out), 0);
		cr_expect(addr_eq(&in[i], &out));
	}
	ss.ss_family = AF_UNIX;
	cr_expect_eq(net_to_stun((struct sockaddr *)&ss, &out), -1);
}

/* --------------------------------------------------------- resolve */

Test(net, resolve_literals)
{
	char err[NET_ERRLEN];
	struct stun_addr a, want4 = v4("127.0.0.1", 3478), want6 = v6("::1", 3479);

	cr_assert_eq(net_resolve("127.0.0.1", 3478, AF_UNSPEC, &a, err), 0, "%s", err);
	cr_expect(addr_eq(&a, &want4));
	cr_assert_eq(net_resolve("::1", 3479, AF_INET6, &a, err), 0, "%s", err);
	cr_expect(addr_eq(&a, &want6));
	cr_expect_eq(net_resolve("::1", 3479, AF_INET, &a, err), -1, "v6 literal for -4");
	cr_expect_neq(err[0], '\0');
	cr_expect_eq(net_resolve("127.0.0.1", 1, 12345, &a, err), -1, "bad family");
}

/* inet_aton shorthand is never an address: "natcheck 127.0.0.1 51000" once
 * read 51000 as 0.0.199.56. */
Test(net, resolve_refuses_ipv4_shorthand)
{
	static const char *const bad[] = { "51000", "0", "99999999999", "127.1", "127.0.1",
	                                   "0x7f.0.0.1", "0x7f000001", "017.0.0.1" };
	char err[NET_ERRLEN];
	struct stun_addr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect(net_is_ipv4_shorthand(bad[i]), "%s is shorthand", bad[i]);
		cr_expect_eq(net_resolve(bad[i], 3478, AF_UNSPEC, &a, err), -1, "%s", bad[i]);
		cr_expect(strstr(err, "not an address") != NULL, "%s: %s", bad[i], err);
	}
	cr_expect(!net_is_ipv4_shorthand("127.0.0.1"));
	cr_expect(!net_is_ipv4_shorthand("::1"));
	cr_expect(!net_is_ipv4_shorthand("stun.example.org"));
	cr_expect(!net_is_ipv4_shorthand("3com.example"));
}

Test(net, parse_ip_literals_only)
{
	struct stun_addr a, want4 = v4("192.0.2.1", 0), want6 = v6("2001:db8::1", 0);

	cr_assert_eq(net_parse_ip("192.0.2.1", &a), 0);
	cr_expect(addr_eq(&a, &want4));
	cr_assert_eq(net_parse_ip("2001:db8::1", &a), 0);
	cr_expect(addr_eq(&a, &want6));
	cr_expect_eq(net_parse_ip("localhost", &a), -1);
	cr_expect_eq(net_parse_ip("127.1", &a), -1);
	cr_expect_eq(net_parse_ip("51000", &a), -1);
	cr_expect_eq(net_parse_ip("[::1]", &a), -1);
	cr_expect_eq(net_parse_ip("", &a), -1);
}

/* 127.255.255.255 is the broadcast of lo's 127.0.0.0/8 on every Linux. */
Test(net, local_broadcast)
{
	struct stun_addr brd = v4("127.255.255.255", 0), one = v4("127.0.0.1", 0),
	                 six = v6("::1", 0);

	char err[NET_ERRLEN] = "";

#if defined(__linux__)
	cr_expect_eq(net_check_unicast(&brd, err, sizeof(err)), -1);
	cr_expect(strstr(err, "broadcast address of 127.0.0.0/8") != NULL, "%s", err);
#else
	(void)brd;
#endif
	cr_expect_eq(net_check_unicast(&one, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(net_check_unicast(&six, err, sizeof(err)), 0, "%s", err);
}

Test(net, send_errno_unreachable)
{
	cr_expect(net_send_errno_unreachable(EHOSTUNREACH));
	cr_expect(net_send_errno_unreachable(ENETUNREACH));
	cr_expect(net_send_errno_unreachable(EADDRNOTAVAIL));
	cr_expect(net_send_errno_unreachable(EAFNOSUPPORT));
	cr_expect(net_send_errno_unreachable(EACCES), "a prohibit route");
	cr_expect(!net_send_errno_unreachable(EAGAIN));
	cr_expect(!net_send_errno_unreachable(ENOBUFS));
	cr_expect(!net_send_errno_unreachable(EPERM), "a local firewall: lost, not unreachable");
}

/* ----------------------------------------------- sockets on loopback */

/* A datagram to a closed port comes back as ICMP port unreachable, naming
 * the refused destination (Linux; elsewhere the queue stays empty). */
Test(net, error_queue_port_unreachable)
{
	char err[NET_ERRLEN];
	struct stun_addr lo = v4("127.0.0.1", 0), closed;
	struct net_unreach u;
	int fd, gone, on, rc = 0;

	/* A port that was free a moment ago: bind, learn it, close. */
	gone = net_udp_bind(&lo, err);
	cr_assert_geq(gone, 0, "%s", err);
	cr_assert_eq(net_sock_name(gone, &closed, err), 0);
	close(gone);

	fd = net_udp_bind(&lo, err);
	cr_assert_geq(fd, 0, "%s", err);
	on = net_recverr_on(fd, 4, err);
	cr_assert_neq(on, -1, "%s", err);
	cr_expect_eq(net_recv_error(fd, &u, err), 0, "empty queue");
	cr_assert_eq(net_send(fd, &closed, "x", 1, err), 0, "%s", err);
	for (int i = 0; i < 200 && rc == 0; i++) {      /* bounded: 2 s */
		rc = net_recv_error(fd, &u, err);
		if (rc == 0)
			sleep_ms(10);
	}
	if (on == 0) {
		cr_expect_eq(rc, 0, "no error queue on this system");
	} else {
		cr_assert_eq(rc, 1, "%s", err);
		cr_expect_eq(u.kind, NET_UNREACH_PORT);
		cr_expect(addr_eq(&u.dst, &closed), "the refused destination is named");
		cr_expect(u.has_offender && addr_ip_eq(&u.offender, &lo));
		cr_expect_eq(net_recv_error(fd, &u, err), 0, "one report only");
	}
	close(fd);
}


Test(net, bind_send_recv_loopback)
{
	char err[NET_ERRLEN];
	struct stun_addr lo = v4("127.0.0.1", 0), an, bn, from;
	uint8_t buf[64];
	int a, b, i;
	long n = 0;

	a = net_udp_bind(&lo, err);
	cr_assert_geq(a, 0, "%s", err);
	b = net_udp_bind(&lo, err);
	cr_assert_geq(b, 0, "%s", err);
	cr_assert_eq(net_sock_name(a, &an, err), 0);
	cr_assert_eq(net_sock_name(b, &bn, err), 0);
	cr_expect_neq(an.port, 0, "ephemeral port assigned");
	cr_expect(addr_ip_eq(&an, &lo));

	/* Non-blocking: nothing waiting is 0, not a hang. */
	cr_expect_eq(net_recv(b, buf, sizeof(buf), &from, err), 0);

	cr_assert_eq(net_send(a, &bn, "hello", 5, err), 0, "%s", err);
	for (i = 0; i < 200 && n == 0; i++) {      /* bounded: 2 s */
		n = net_recv(b, buf, sizeof(buf), &from, err);
		if (n == 0)
			sleep_ms(10);
	}
	cr_assert_eq(n, 5);
	cr_expect_eq(memcmp(buf, "hello", 5), 0);
	cr_expect(addr_eq(&from, &an), "sender address is a's socket");

	/* Binding an address that is already taken fails: no SO_REUSEADDR. */
	cr_expect_eq(net_udp_bind(&an, err), -1);
	cr_expect_neq(err[0], '\0');
	close(a);
	close(b);
}

Test(net, bind_v6_loopback_is_v6only)
{
	char err[NET_ERRLEN];
	struct stun_addr lo6 = v6("::1", 0), name;
	int fd, on = 0;
	socklen_t len = sizeof(on);

	fd = net_udp_bind(&lo6, err);
	if (fd == -1)
		cr_skip_test("no IPv6 loopback here: %s", err);
	cr_assert_eq(net_sock_name(fd, &name, err), 0);
	cr_expect_eq(name.family, 6);
	cr_assert_eq(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len), 0);
	cr_expect_eq(on, 1);
	close(fd);
}

Test(net, local_for_loopback)
{
	char err[NET_ERRLEN];
	struct stun_addr dst = v4("127.0.0.2", 3478), out, want = v4("127.0.0.1", 0);

	cr_assert_eq(net_local_for(&dst, &out, err), 0, "%s", err);
	cr_expect_eq(out.family, 4);
	cr_expect_eq(out.port, 0);
	/* Linux picks 127.0.0.1 as the source for the whole 127/8 route. */
	cr_expect(addr_ip_eq(&out, &want) || (out.addr[0] == 127),
	          "a loopback source address");
}

/* ---------------------------------------------------------- random */

Test(net, random_fills_every_byte)
{
	/* 1000 bytes: more than one 256-byte getentropy chunk.  Each byte
	 * position is filled twice; the chance that a position stays 0 in both
	 * runs and in both buffers by luck is negligible (2^-32 per position,
	 * tested across 1000 positions below with a looser rule). */
	static uint8_t a[1000], b[1000];
	size_t i, zero_a = 0, same = 0;

	cr_assert_eq(net_random(a, sizeof(a)), 0);
	cr_assert_eq(net_random(b, sizeof(b)), 0);
	for (i = 0; i < sizeof(a); i++) {
		zero_a += a[i] == 0;
		same += a[i] == b[i];
	}
	/* Expected ~3.9 zero bytes and ~3.9 equal positions out of 1000. */
	cr_expect_lt(zero_a, 30, "%zu zero bytes: buffer not filled", zero_a);
	cr_expect_lt(same, 30, "%zu equal positions: not random", same);
	/* The tail past the last full chunk is filled too. */
	for (i = 768, zero_a = 0; i < 1000; i++)
		zero_a += a[i] == 0 && b[i] == 0;
	cr_expect_lt(zero_a, 5);
	cr_expect_eq(net_random(a, 0), 0, "zero length is fine");
}

/* Milliseconds of CLOCK_MONOTONIC, read here: the yardstick for
 * net_now_ms.  (The test may call the clock; the core may not.) */
static uint64_t
mono_ms(void)
{
	struct timespec ts;

	cr_assert_eq(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* net_now_ms counts milliseconds: it advances by no less than a sleep of
 * 20 ms and by no more than CLOCK_MONOTONIC does around it (within a
 * millisecond of rounding at each end), however long the machine made
 * the sleep - no bound taken from the wall clock. */
Test(net, now_ms_is_monotonic)
{
	uint64_t m0 = mono_ms(), t0 = net_now_ms(), t1, m1;

	sleep_ms(20);
	t1 = net_now_ms();
	m1 = mono_ms();
	cr_expect_geq(t1, t0);
	cr_expect_geq(t1 - t0, 19, "%llu ms across a 20 ms sleep", (unsigned long long)(t1 - t0));
	cr_expect_leq(t1 - t0, m1 - m0 + 2, "net_now_ms moved %llu ms, CLOCK_MONOTONIC %llu ms",
	              (unsigned long long)(t1 - t0), (unsigned long long)(m1 - m0));
}

Test(net, parse_literal)
{
	struct stun_addr a;
	char err[NET_ERRLEN], zone[32];
	unsigned lo = if_nametoindex("lo");

	cr_assert_eq(net_parse_literal("192.0.2.1", &a, err), 1);
	cr_assert_eq(a.family, 4);
	cr_assert_eq(net_parse_literal("2001:db8::1", &a, err), 1);
	cr_assert_eq(a.family, 6);
	cr_assert_eq(a.scope, 0);
	cr_assert_eq(net_parse_literal("stun.example.org", &a, err), 0, "a name");
	cr_assert_eq(net_parse_literal("127.1", &a, err), 0, "shorthand is no literal here");
	cr_assert_eq(net_parse_literal("192.0.2.1%1", &a, err), 0, "no zone on IPv4");
	/* RFC 4291 2.5.5.2: refused with the IPv4 address to give. */
	cr_assert_eq(net_parse_literal("::ffff:127.0.0.1", &a, err), -1);
	cr_assert(strstr(err, "IPv4-mapped") && strstr(err, "give the IPv4 address 127.0.0.1"), "%s", err);
	cr_assert_eq(net_parse_literal("::ffff:c000:201", &a, err), -1);
	cr_assert(strstr(err, "192.0.2.1") != NULL, "%s", err);
	/* A zone: kept as the interface index, only on link-local addresses. */
	cr_assert_eq(net_parse_literal("2001:db8::1%1", &a, err), -1);
	cr_assert(strstr(err, "link-local") != NULL, "%s", err);
	cr_assert_eq(net_parse_literal("fe80::1%no-such-if0", &a, err), -1);
	cr_assert(strstr(err, "no interface 'no-such-if0'") != NULL, "%s", err);
	cr_assert_eq(net_parse_literal("fe80::1%", &a, err), -1);
	cr_assert_eq(net_parse_literal("fe80::1%4000000000", &a, err), -1, "no such index");
	if (lo != 0) {
		cr_assert_eq(net_parse_literal("fe80::1%lo", &a, err), 1, "%s", err);
		cr_assert_eq(a.scope, lo);
		snprintf(zone, sizeof(zone), "fe80::2%%%u", lo);
		cr_assert_eq(net_parse_literal(zone, &a, err), 1, "%s", err);
		cr_assert_eq(a.scope, lo);
	}
}

Test(net, v6_port_ambiguous)
{
	char hint[64];

	/* An address whose last group reads as a port after an address. */
	cr_assert(net_v6_port_ambiguous("::1:3478", hint, sizeof(hint)));
	cr_assert_str_eq(hint, "[::1]:3478");
	cr_assert(net_v6_port_ambiguous("2001:db8::1:19302", hint, sizeof(hint)),
	    "19302 is no IPv6 group, but a port");
	cr_assert_str_eq(hint, "[2001:db8::1]:19302");
	cr_assert(net_v6_port_ambiguous("2001:db8::7:3479", hint, sizeof(hint)));
	cr_assert_str_eq(hint, "[2001:db8::7]:3479");
	cr_assert(net_v6_port_ambiguous("fe80::1:80%eth0", hint, sizeof(hint)));
	cr_assert_str_eq(hint, "[fe80::1%eth0]:80", "the zone is kept");
	/* Not ambiguous. */
	cr_assert(!net_v6_port_ambiguous("::1", hint, sizeof(hint)), "the rest is no address");
	cr_assert(!net_v6_port_ambiguous("2001:db8::1", hint, sizeof(hint)));
	cr_assert(!net_v6_port_ambiguous("2001:db8:0:0:0:0:0:1", hint, sizeof(hint)),
	    "seven groups are no address");
	cr_assert(!net_v6_port_ambiguous("::1:abcd", hint, sizeof(hint)), "hex is no port");
	cr_assert(!net_v6_port_ambiguous("::1:0", hint, sizeof(hint)), "port 0 is no port");
	cr_assert(!net_v6_port_ambiguous("[::1]:3478", hint, sizeof(hint)), "brackets decide");
	cr_assert(!net_v6_port_ambiguous("127.0.0.1:3478", hint, sizeof(hint)));
	cr_assert(!net_v6_port_ambiguous("stun.example.org", hint, sizeof(hint)));
	cr_assert(!net_v6_port_ambiguous("::ffff:1.2.3.4", hint, sizeof(hint)));
}
