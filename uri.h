/*
 * uri.h - STUN and TURN URIs as users paste them from WebRTC settings:
 * stun:host[:port] and stuns:host[:port] (RFC 7064), turn: and turns:
 * with an optional ?transport=udp|tcp (RFC 7065).
 *
 * Pure: no resolution, no allocation, no global state.  The host is
 * taken apart only as far as RFC 3986 section 3.2.2 says (an IPv6 address
 * in brackets, else a name or an IPv4 address up to the port); whether it
 * is a usable address or name is the caller's to check, as for any other
 * server operand.
 */
#ifndef NATCHECK_URI_H
#define NATCHECK_URI_H

#include <stddef.h>
#include <stdint.h>

/* A host name (253 characters) or an IPv6 literal with a zone, and a NUL. */
#define URI_HOSTLEN 256
#define URI_ERRLEN  160

enum uri_scheme {
	URI_NONE = 0,               /* not one of the schemes below */
	URI_STUN,                   /* stun:  (RFC 7064), default port 3478 */
	URI_STUNS,                  /* stuns: (STUN over TLS), default port 5349 */
	URI_TURN,                   /* turn:  (RFC 7065), default port 3478 */
	URI_TURNS                   /* turns: (TURN over TLS), default port 5349 */
};

enum uri_transport {
	URI_TRANSPORT_NONE = 0,     /* no ?transport= */
	URI_TRANSPORT_UDP,
	URI_TRANSPORT_TCP,
	URI_TRANSPORT_OTHER         /* transport-ext (RFC 7065): 1*unreserved */
};

struct uri {
	enum uri_scheme scheme;
	char     host[URI_HOSTLEN]; /* without brackets; an RFC 6874 zone as "%zone" */
	int      ip_literal;        /* the host was in brackets (an IPv6 address) */
	uint16_t port;              /* 0: none given (uri_default_port applies) */
	enum uri_transport transport;
};

/*
 * uri_scheme_of: the scheme s starts with ("stun:", "stuns:", "turn:",
 * "turns:", in any case, RFC 3986 section 3.1), or URI_NONE.  Nothing
 * after the colon is looked at.
 */
enum uri_scheme uri_scheme_of(const char *s);

/*
 * uri_parse: s as scheme ":" host [ ":" port ] [ "?transport=" word ],
 * the query only for turn: and turns:.  0 with *u filled, or -1 with one
 * sentence in err (errlen bytes) saying what is wrong: an unknown scheme,
 * "//" (these URIs have no authority part), an empty or overlong host, a
 * character no host name has, an IPv6 address outside brackets, a port
 * that is not 1..65535, a query or a fragment where none may be.
 */
int uri_parse(const char *s, struct uri *u, char *err, size_t errlen);

/* The scheme's default port: 3478 for stun and turn, 5349 for stuns and
 * turns (RFC 7064 section 3.2, RFC 7065 section 3.2); 0 for URI_NONE. */
uint16_t uri_default_port(enum uri_scheme s);

/* "stun", "stuns", "turn", "turns", or "" for URI_NONE. */
const char *uri_scheme_word(enum uri_scheme s);

#endif /* NATCHECK_URI_H */
