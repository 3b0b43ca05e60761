/*
 * uri.c - STUN and TURN URIs (see uri.h).
 *
 * RFC 7064 section 3.1 and RFC 7065 section 3.1:
 *   stunURI = scheme ":" host [ ":" port ]
 *   turnURI = scheme ":" host [ ":" port ] [ "?transport=" transport ]
 * with host and port as in RFC 3986 section 3.2.2 and 3.2.3.  There is no
 * "//": these URIs have no authority part.  Every byte is checked before
 * it is copied, and nothing is written past host[URI_HOSTLEN - 1].
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "uri.h"

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const struct {
	const char *word;
	enum uri_scheme scheme;
	uint16_t port;
} schemes[] = {
	{ "stun",  URI_STUN,  3478 },
	{ "stuns", URI_STUNS, 5349 },
	{ "turn",  URI_TURN,  3478 },
	{ "turns", URI_TURNS, 5349 },
};
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Do the n bytes at s equal the lower-case word w, in any case? */
static int
same_word(const char *s, size_t n, const char *w)
{
	if (strlen(w) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)s[i]) != w[i])
			return 0;
	return 1;
}

enum uri_scheme
uri_scheme_of(const char *s)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL)
		return URI_NONE;
	for (size_t i = 0; i < NSCHEMES; i++)
		if (same_word(s, (size_t)(colon - s), schemes[i].word))
			return schemes[i].scheme;
	return URI_NONE;
}

uint16_t
uri_default_port(enum uri_scheme s)
{
	for (size_t i = 0; i < NSCHEMES; i++)
		if (schemes[i].scheme == s)
			return schemes[i].port;
	return 0;
}

const char *
uri_scheme_word(enum uri_scheme s)
{
	for (size_t i = 0; i < NSCHEMES; i++)
		if (schemes[i].scheme == s)
			return schemes[i].word;
	return "";
}

/* RFC 3986 unreserved: ALPHA DIGIT "-" "." "_" "~". */
static int
unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The bracketed host at s ("[" ... "]"): an IPv6 address (hex digits,
 * colons and dots), then optionally an RFC 6874 zone "%25" zone-id, which
 * is copied as "%zone-id".  IPvFuture ("[v1.x]") is refused.  Returns the
 * bytes used, or -1.
 */
static long
ip_literal(const char *s, struct uri *u, char *err, size_t errlen)
{
	size_t i = 1, n = 0;

	if (s[1] == 'v' || s[1] == 'V')
		return fail(err, errlen, "IPvFuture addresses ([v...]) are not supported");
	for (; s[i] != '\0' && s[i] != ']' && s[i] != '%'; i++) {
		if (hexval((unsigned char)s[i]) < 0 && s[i] != ':' && s[i] != '.')
			return fail(err, errlen, "'%c' in an IPv6 address", s[i]);
		if (n + 1 >= sizeof(u->host))
			return fail(err, errlen, "the address is too long");
		u->host[n++] = s[i];
	}
	if (s[i] == '%') {
		/* RFC 6874: the '%' itself is written %25. */
		if (s[i + 1] != '2' || s[i + 2] != '5')
			return fail(err, errlen, "a zone in a URI is written %%25zone (RFC 6874)");
		u->host[n++] = '%';
		for (i += 3; s[i] != '\0' && s[i] != ']'; i++) {
			if (!unreserved((unsigned char)s[i]))
				return fail(err, errlen, "'%c' in a zone", s[i]);
			if (n + 1 >= sizeof(u->host))
				return fail(err, errlen, "the address is too long");
			u->host[n++] = s[i];
		}
		if (u->host[n - 1] == '%')
			return fail(err, errlen, "an empty zone");
	}
	if (s[i] != ']')
		return fail(err, errlen, "missing ']'");
	if (n == 0 || u->host[0] == '%')
		return fail(err, errlen, "an empty address in brackets");
	u->host[n] = '\0';
	u->ip_literal = 1;
	return (long)i + 1;
}

/* A name or an IPv4 address at s, up to ':', '?', '#' or the end.  Only
 * what a host name can hold (letters, digits, '-', '.', '_') is taken:
 * percent-encoding and RFC 3986's sub-delims never name a host in DNS. */
static long
reg_name(const char *s, struct uri *u, char *err, size_t errlen)
{
	size_t i = 0;

	for (; s[i] != '\0' && s[i] != ':' && s[i] != '?' && s[i] != '#'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/')
			return fail(err, errlen, "'/' in the host (the form is scheme:host[:port])");
		if (c == '%')
			return fail(err, errlen, "percent-encoding in a host name is not supported");
		if (!unreserved(c) || c == '~')
			return fail(err, errlen, c >= 0x20 && c < 0x7f ? "'%c' in a host name" :
			    "a byte 0x%02x in a host name", c);
		if (i + 1 >= sizeof(u->host))
			return fail(err, errlen, "the host name is too long");
		u->host[i] = s[i];
	}
	if (i == 0)
		return fail(err, errlen, "no host");
	u->host[i] = '\0';
	return (long)i;
}

/* ":" port at s: digits, 1 to 65535; an empty port is no port (RFC 3986
 * section 3.2.3).  Returns the bytes used or -1. */
static long
port_part(const char *s, struct uri *u, char *err, size_t errlen)
{
	unsigned long v = 0;
	size_t i = 1;

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > 65535)          /* checked per digit: no overflow */
			return fail(err, errlen, "the port is out of range (1-65535)");
	}
	if (s[i] != '\0' && s[i] != '?' && s[i] != '#')
		return fail(err, errlen, "the port is not a number");
	if (i > 1 && v == 0)
		return fail(err, errlen, "port 0 is not allowed");
	u->port = (uint16_t)v;
	return (long)i;
}

/* "?transport=" word at s (RFC 7065 section 3.1), for turn: and turns:. */
static int
query_part(const char *s, struct uri *u, char *err, size_t errlen)
{
	static const char key[] = "?transport=";
	size_t n = sizeof(key) - 1, i;

	if (u->scheme != URI_TURN && u->scheme != URI_TURNS)
		return fail(err, errlen, "a %s: URI has no query ('?')", uri_scheme_word(u->scheme));
	if (strncmp(s, key, n) != 0)
		return fail(err, errlen, "the only query is ?transport=udp or ?transport=tcp");
	for (i = n; s[i] != '\0'; i++)
		if (!unreserved((unsigned char)s[i]))
			return fail(err, errlen, s[i] == '#' ? "a URI here has no fragment ('#')" :
			    "'%c' in the transport", s[i]);
	if (i == n)
		return fail(err, errlen, "an empty transport");
	u->transport = same_word(s + n, i - n, "udp") ? URI_TRANSPORT_UDP :
	    same_word(s + n, i - n, "tcp") ? URI_TRANSPORT_TCP : URI_TRANSPORT_OTHER;
	return 0;
}

/* The colons in s before its query or fragment. */
static size_t
colons(const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && *s != '?' && *s != '#'; s++)
		n += *s == ':';
	return n;
}

int
uri_parse(const char *s, struct uri *u, char *err, size_t errlen)
{
	const char *p;
	long n;

	memset(u, 0, sizeof(*u));
	u->scheme = uri_scheme_of(s);
	if (u->scheme == URI_NONE)
		return fail(err, errlen, "not a stun:, stuns:, turn: or turns: URI");
	p = strchr(s, ':') + 1;
	if (p[0] == '/' && p[1] == '/')
		return fail(err, errlen, "no '//' after %s: (the form is %s:host[:port])",
		    uri_scheme_word(u->scheme), uri_scheme_word(u->scheme));
	if (p[0] != '[' && colons(p) > 1)
		return fail(err, errlen, "an IPv6 address in a URI goes in brackets "
		    "(%s:[2001:db8::1]:3478)", uri_scheme_word(u->scheme));
	n = p[0] == '[' ? ip_literal(p, u, err, errlen) : reg_name(p, u, err, errlen);
	if (n < 0)
		return -1;
	p += n;
	if (*p == ':') {
		if ((n = port_part(p, u, err, errlen)) < 0)
			return -1;
		p += n;
	} else if (*p != '\0' && *p != '?' && *p != '#') {
		return fail(err, errlen, "'%c' after the host", *p);
	}
	if (*p == '?' && query_part(p, u, err, errlen) == -1)
		return -1;
	if (*p == '#')
		return fail(err, errlen, "a URI here has no fragment ('#')");
	return 0;
}
