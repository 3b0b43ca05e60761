/*
 * test_tcpframe.c - tcpframe_parse(): STUN message boundaries in a stream.
 *
 * Every input is copied to end right before a PROT_NONE page (edge.h), so
 * a read past the bytes given crashes instead of passing by luck.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "edge.h"
#include "tcpframe.h"

/* A Binding request header with `body` attribute bytes, and the body. */
static size_t
msg(uint8_t *b, size_t body)
{
	static const uint8_t head[20] = { 0x00, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x42,
	                                  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

	memcpy(b, head, 20);
	b[2] = (uint8_t)(body >> 8);
	b[3] = (uint8_t)body;
	memset(b + 20, 0xAB, body);
	return 20 + body;
}

static long
parse(const uint8_t *b, size_t len, size_t max)
{
	const char *why = NULL;
	long r = tcpframe_parse(at_edge(b, len), len, max, &why);

	if (r == TCPFRAME_BAD)
		cr_assert(why != NULL && *why != '\0', "a bad stream names its reason");
	return r;
}

static uint8_t b[70000];

Test(tcpframe, table)
{
	static const struct {
		const char *name;
		size_t body, len, max;
		long want;
	} cases[] = {
		{ "empty: incomplete", 0, 0, 2048, TCPFRAME_INCOMPLETE },
		{ "one byte: incomplete", 0, 1, 2048, TCPFRAME_INCOMPLETE },
		{ "half a header", 8, 10, 2048, TCPFRAME_INCOMPLETE },
		{ "header, no body yet", 8, 20, 2048, TCPFRAME_INCOMPLETE },
		{ "bare request", 0, 20, 2048, 20 },
		{ "with attributes", 12, 32, 2048, 32 },
		{ "one byte short", 12, 31, 2048, TCPFRAME_INCOMPLETE },
		{ "next message follows", 12, 60, 2048, 32 },
		{ "exactly the limit", 2028, 2048, 2048, 2048 },
		{ "one word over the limit", 2032, 8, 2048, TCPFRAME_BAD },
		{ "huge length, said at 4 bytes", 65532, 4, 2048, TCPFRAME_BAD },
		{ "largest message, large limit", 65532, 65552, 65552, 65552 },
		{ "max below a header", 0, 20, 19, TCPFRAME_BAD },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = msg(b, cases[i].body);

		if (cases[i].len > n)
			msg(b + n, 8);  /* a second message behind the first */
		cr_expect_eq(parse(b, cases[i].len, cases[i].max), cases[i].want, "%s: got %ld",
		             cases[i].name, parse(b, cases[i].len, cases[i].max));
	}
}

Test(tcpframe, not_stun_as_early_as_possible)
{
	uint8_t g[20];
	size_t k;

	/* Top bits: from the first byte ("GET /" is 0x47). */
	memcpy(g, "GET / HTTP/1.0\r\n\r\n..", 20);
	cr_expect_eq(parse(g, 1, 2048), TCPFRAME_BAD, "HTTP");
	/* Length not a multiple of 4: from the fourth byte. */
	msg(g, 0);
	g[3] = 5;
	cr_expect_eq(parse(g, 3, 2048), TCPFRAME_INCOMPLETE);
	cr_expect_eq(parse(g, 4, 2048), TCPFRAME_BAD, "odd length");
	/* The cookie, byte by byte: the first wrong byte decides. */
	for (k = 4; k < 8; k++) {
		msg(g, 0);
		g[k] ^= 0x01;
		cr_expect_eq(parse(g, k, 2048), TCPFRAME_INCOMPLETE, "before byte %zu", k);
		cr_expect_eq(parse(g, k + 1, 2048), TCPFRAME_BAD, "cookie byte %zu", k);
	}
	/* RFC 3489 form (no cookie) is not accepted over TCP. */
	msg(g, 0);
	memset(g + 4, 0x33, 4);
	cr_expect_eq(parse(g, 20, 2048), TCPFRAME_BAD, "RFC 3489");
}

/* Every prefix of a valid message is incomplete until the last byte. */
Test(tcpframe, prefixes)
{
	size_t n = msg(b, 40), k;

	for (k = 0; k < n; k++)
		cr_assert_eq(parse(b, k, 2048), TCPFRAME_INCOMPLETE, "prefix %zu", k);
	cr_assert_eq(parse(b, n, 2048), (long)n);
}
