/*
 * fuzz_uri.c - libFuzzer target for uri_parse() (make fuzz).
 *
 * The input, cut at its first NUL, is a server operand.  uri_parse must
 * either refuse it with a reason, or give a known scheme, a terminated
 * host of at most URI_HOSTLEN - 1 bytes that the input holds (brackets
 * and "%25" aside), and a transport only for turn: and turns:.  Any
 * broken promise is a __builtin_trap().
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "uri.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[4096];
	char err[URI_ERRLEN];
	struct uri u;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	memcpy(s, data, n);
	s[n] = '\0';
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
