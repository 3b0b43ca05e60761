/*
 * test_uri.c - STUN and TURN URIs (RFC 7064, RFC 7065): one line per
 * case, each input copied to end at a guard page so that a read past its
 * NUL crashes the test.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "uri.h"
#include "tests/support/edge.h"

/* s at the edge, NUL included. */
static const char *
edge(const char *s)
{
	return (const char *)at_edge(s, strlen(s) + 1);
}

static struct uri
ok(const char *s)
{
	struct uri u;
	char err[URI_ERRLEN] = "";

	cr_assert_eq(uri_parse(edge(s), &u, err, sizeof(err)), 0, "%s: %s", s, err);
	return u;
}

/* s is refused with a reason containing `why`. */
static void
bad(const char *s, const char *why)
{
	struct uri u;
	char err[URI_ERRLEN] = "";

	cr_assert_eq(uri_parse(edge(s), &u, err, sizeof(err)), -1, "%s was accepted", s);
	cr_assert(strstr(err, why) != NULL, "%s: '%s' does not say '%s'", s, err, why);
}

Test(uri, scheme_of)
{
	cr_assert_eq(uri_scheme_of("stun:x"), URI_STUN);
	cr_assert_eq(uri_scheme_of("STUN:x"), URI_STUN, "schemes are case-insensitive");
	cr_assert_eq(uri_scheme_of("stuns:x"), URI_STUNS);
	cr_assert_eq(uri_scheme_of("Turn:x"), URI_TURN);
	cr_assert_eq(uri_scheme_of("turns:"), URI_TURNS);
	cr_assert_eq(uri_scheme_of("stun.example.org:3478"), URI_NONE);
	cr_assert_eq(uri_scheme_of("stunx:a"), URI_NONE);
	cr_assert_eq(uri_scheme_of("stu:a"), URI_NONE);
	cr_assert_eq(uri_scheme_of("::1"), URI_NONE);
	cr_assert_eq(uri_scheme_of("stun"), URI_NONE, "no colon");
	cr_assert_eq(uri_scheme_of(""), URI_NONE);
}

Test(uri, stun_forms)
{
	struct uri u;

	u = ok("stun:stun.l.google.com:19302");
	cr_assert_eq(u.scheme, URI_STUN);
	cr_assert_str_eq(u.host, "stun.l.google.com");
	cr_assert_eq(u.port, 19302);
	cr_assert(!u.ip_literal);
	u = ok("stun:127.0.0.1");                       /* no port: 0, the default applies */
	cr_assert_str_eq(u.host, "127.0.0.1");
	cr_assert_eq(u.port, 0);
	u = ok("stun:[2001:db8::1]:3479");               /* IPv6 in brackets */
	cr_assert_str_eq(u.host, "2001:db8::1");
	cr_assert(u.ip_literal);
	cr_assert_eq(u.port, 3479);
	u = ok("stun:[::ffff:192.0.2.1]");               /* dots in a literal (checked later) */
	cr_assert_str_eq(u.host, "::ffff:192.0.2.1");
	u = ok("stun:[fe80::1%25eth0]:3478");            /* RFC 6874 zone */
	cr_assert_str_eq(u.host, "fe80::1%eth0");
	u = ok("stun:host:");                            /* an empty port is no port */
	cr_assert_eq(u.port, 0);
	u = ok("STUNS:Example.ORG");
	cr_assert_eq(u.scheme, URI_STUNS);
	cr_assert_str_eq(u.host, "Example.ORG", "the host is kept as written");
	u = ok("stun:_stun._udp.example.org:65535");
	cr_assert_eq(u.port, 65535);
}

Test(uri, turn_forms)
{
	struct uri u;

	u = ok("turn:192.0.2.1?transport=udp");
	cr_assert_eq(u.scheme, URI_TURN);
	cr_assert_eq(u.transport, URI_TRANSPORT_UDP);
	cr_assert_eq(u.port, 0);
	u = ok("turns:turn.example.org:443?transport=tcp");
	cr_assert_eq(u.scheme, URI_TURNS);
	cr_assert_eq(u.port, 443);
	cr_assert_eq(u.transport, URI_TRANSPORT_TCP);
	u = ok("turn:[2001:db8::2]?transport=TCP");
	cr_assert_eq(u.transport, URI_TRANSPORT_TCP, "the transport word in any case");
	u = ok("turn:x?transport=sctp");
	cr_assert_eq(u.transport, URI_TRANSPORT_OTHER, "transport-ext");
	u = ok("turn:x");
	cr_assert_eq(u.transport, URI_TRANSPORT_NONE);
}

Test(uri, default_ports)
{
	cr_assert_eq(uri_default_port(URI_STUN), 3478);
	cr_assert_eq(uri_default_port(URI_TURN), 3478);
	cr_assert_eq(uri_default_port(URI_STUNS), 5349);
	cr_assert_eq(uri_default_port(URI_TURNS), 5349);
	cr_assert_eq(uri_default_port(URI_NONE), 0);
	cr_assert_str_eq(uri_scheme_word(URI_TURNS), "turns");
	cr_assert_str_eq(uri_scheme_word(URI_NONE), "");
}

Test(uri, refused)
{
	bad("http://example.org", "not a stun:");
	bad("stun://stun.example.org", "no '//'");
	bad("stun:", "no host");
	bad("stun::3478", "no host");
	bad("stun:::1", "in brackets");
	bad("stun:2001:db8::1:3478", "in brackets");
	bad("stun:[2001:db8::1", "missing ']'");
	bad("stun:[]", "empty address");
	bad("stun:[v1.x]", "IPvFuture");
	bad("stun:[fe80::1%eth0]", "%25");
	bad("stun:[fe80::1%25]", "empty zone");
	bad("stun:[2001:db8::g]", "'g' in an IPv6");
	bad("stun:[::1]x", "'x' after the host");
	bad("stun:host:99999", "out of range");
	bad("stun:host:0", "port 0");
	bad("stun:host:34x", "not a number");
	bad("stun:host:-1", "not a number");
	bad("stun:ho st", "' ' in a host");
	bad("stun:a%2eb", "percent-encoding");
	bad("stun:host/path", "'/'");
	bad("stun:a!b", "'!' in a host");
	bad("stun:a~b", "'~' in a host");
	bad("stun:a\x01" "b", "byte 0x01");
	bad("stun:host?transport=udp", "no query");
	bad("turn:host?foo=bar", "only query");
	bad("turn:host?transport=", "empty transport");
	bad("turn:host?transport=u/dp", "'/' in the transport");
	bad("turn:host?transport=udp#x", "fragment");
	bad("stun:host#frag", "fragment");
}

Test(uri, host_length)
{
	char s[600], err[URI_ERRLEN];
	struct uri u;

	/* 255 characters fit (with the NUL), 256 do not. */
	memcpy(s, "stun:", 5);
	memset(s + 5, 'a', 255);
	s[260] = '\0';
	cr_assert_eq(uri_parse(edge(s), &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strlen(u.host), 255);
	memset(s + 5, 'a', 256);
	s[261] = '\0';
	cr_assert_eq(uri_parse(edge(s), &u, err, sizeof(err)), -1);
	cr_assert(strstr(err, "too long") != NULL, "%s", err);
	memcpy(s, "stun:[", 6);
	memset(s + 6, '1', 300);
	memcpy(s + 306, "]", 2);
	cr_assert_eq(uri_parse(edge(s), &u, err, sizeof(err)), -1);
	cr_assert(strstr(err, "too long") != NULL, "%s", err);
	/* A NULL or empty error buffer is fine. */
	cr_assert_eq(uri_parse("stun:", &u, NULL, 0), -1);
}
