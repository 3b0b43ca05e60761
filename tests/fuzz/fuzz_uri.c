/*
 * fuzz_uri.c - libFuzzer target for the server operand parsers:
 * uri_parse(), net_parse_literal() and net_v6_port_ambiguous() (make fuzz).
 *
 * The input, cut at its first NUL, is a server operand.  The literal and
 * bracket checks must give a known answer, a zone only with a link-local
 * IPv6 address, and a hint in brackets.  uri_parse must
 * either refuse it with a reason, or give a known scheme, a terminated
 * host of at most URI_HOSTLEN - 1 bytes that the input holds (brackets
 * and "%25" aside), and a transport only for turn: and turns:.  Any
 * broken promise is a __builtin_trap().
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net.h"
#include "uri.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
literals(const char *s)
{
	char hint[64], nerr[NET_ERRLEN];
	struct stun_addr a;
	int r;

	if (net_v6_port_ambiguous(s, hint, sizeof(hint)))
		CHECK(hint[0] == '[' && strchr(hint, ']') != NULL && memchr(hint, '\0', sizeof(hint)));
	nerr[0] = '\0';
	r = net_parse_literal(s, &a, nerr);
	CHECK(r >= -1 && r <= 1);
	if (r == -1)
		CHECK(nerr[0] != '\0');
	if (r == 1)
		CHECK((a.family == 4 && a.scope == 0) ||
		    (a.family == 6 && (a.scope == 0 || (a.addr[0] == 0xfe && (a.addr[1] & 0xc0) == 0x80))));
	if (r == 0)
		CHECK(a.family == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[4096];
	char err[URI_ERRLEN];
	struct uri u;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	memcpy(s, data, n);
	s[n] = '\0';
	literals(s);
	err[0] = '\0';
	if (uri_parse(s, &u, err, sizeof(err)) == -1) {
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}
	CHECK(u.scheme >= URI_STUN && u.scheme <= URI_TURNS);
	CHECK(uri_scheme_of(s) == u.scheme);
	CHECK(memchr(u.host, '\0', sizeof(u.host)) != NULL && u.host[0] != '\0');
	CHECK(strlen(u.host) < n);
	CHECK(u.transport == URI_TRANSPORT_NONE || u.scheme == URI_TURN || u.scheme == URI_TURNS);
	CHECK(u.transport >= URI_TRANSPORT_NONE && u.transport <= URI_TRANSPORT_OTHER);
	/* A name holds no ':' and no '%'; a bracketed address no '['. */
	CHECK(u.ip_literal || (strchr(u.host, ':') == NULL && strchr(u.host, '%') == NULL));
	CHECK(strchr(u.host, '[') == NULL && strchr(u.host, ']') == NULL);
	CHECK(uri_default_port(u.scheme) != 0);
	return 0;
}
