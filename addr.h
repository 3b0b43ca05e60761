/*
 * addr.h - comparing, formatting and classifying struct stun_addr.
 *
 * Pure: no sockets, no resolution, no allocation, no global state.  Every
 * layer (codec users, engine, classifier, report, server, simulator) uses
 * these, so the core links without the socket layer in net.c.
 */
#ifndef NATCHECK_ADDR_H
#define NATCHECK_ADDR_H

#include <stddef.h>

#include "stun.h"

/* "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" and a NUL fit. */
#define ADDR_STRLEN 64

/* 4 or 16: the bytes of a->addr in use (4 for anything but family 6). */
size_t addr_len(const struct stun_addr *a);

/* True when a's family is 4 or 6. */
int addr_valid(const struct stun_addr *a);

/* True when family, address and port are equal / family and address only. */
int addr_eq(const struct stun_addr *a, const struct stun_addr *b);
int addr_ip_eq(const struct stun_addr *a, const struct stun_addr *b);

/* "192.0.2.1:3478" or "[2001:db8::1]:3478" into buf (ADDR_STRLEN bytes);
 * "?" for an address of no family.  Returns buf. */
const char *addr_fmt(const struct stun_addr *a, char *buf, size_t len);
/* Only the IP part, no brackets. */
const char *addr_fmt_ip(const struct stun_addr *a, char *buf, size_t len);

/* Address classes (the port is not looked at). */
int addr_is_unspecified(const struct stun_addr *a);   /* 0.0.0.0, :: */
int addr_is_loopback(const struct stun_addr *a);      /* 127/8, ::1 */
int addr_is_multicast(const struct stun_addr *a);     /* 224/4, ff00::/8 */
int addr_is_limited_broadcast(const struct stun_addr *a); /* 255.255.255.255 */
int addr_is_private(const struct stun_addr *a);       /* RFC 1918, fc00::/7 */
int addr_is_shared(const struct stun_addr *a);        /* 100.64/10 (RFC 6598) */

/*
 * addr_is_subnet_broadcast: is a the directed broadcast address (all host
 * bits set) of the IPv4 network `net`/`prefix`?  Never for prefixes of 31
 * and 32 bits (RFC 3021: no broadcast there) or for IPv6.
 */
int addr_is_subnet_broadcast(const struct stun_addr *a, const struct stun_addr *net,
                             unsigned prefix);

/*
 * May a client send to (or connect to) a, an address a server told it
 * about?  The wire is hostile: a server must not make a client send to a
 * multicast group, a broadcast address, nothing, this host's loopback or
 * this host's own addresses - unless the server is on this host itself
 * (loopback, or one of locals[0..nlocals)'s IPs), which may well name
 * them.  family: the socket's (4 or 6).  own: a is ours by definition (a
 * mapped address, which the hairpin tests send to), so the own-address
 * rule is off.  ADDR_USE_OK or the first problem found.  The engines'
 * own problem enums (probe.h, tcpprobe.h) take these values.
 */
enum addr_use {
	ADDR_USE_OK = 0,
	ADDR_USE_ABSENT,            /* no address */
	ADDR_USE_FAMILY,            /* not the family of the socket */
	ADDR_USE_UNSPECIFIED,       /* 0.0.0.0 or :: */
	ADDR_USE_PORT_ZERO,
	ADDR_USE_MULTICAST,
	ADDR_USE_BROADCAST,         /* 255.255.255.255 */
	ADDR_USE_LOOPBACK,          /* loopback, told by a server that is not */
	ADDR_USE_LOCAL,             /* this host's own address, told by a server
	                               that is not on this host */
	ADDR_USE_NOT_DISTINCT       /* an alternate that does not differ from its
	                               server in both IP and port (RFC 5780 7.4) */
};
enum addr_use addr_use_check(const struct stun_addr *a, int family,
                             const struct stun_addr *server, const struct stun_addr *locals,
                             size_t nlocals, int own);

/* The same for an alternate address (OTHER-ADDRESS, CHANGED-ADDRESS) of
 * server: usable, and different from the server in IP and in port (RFC
 * 5780 section 7.4, RFC 3489 section 11.2.3). */
enum addr_use addr_alt_check(const struct stun_addr *alt, int family,
                             const struct stun_addr *server, const struct stun_addr *locals,
                             size_t nlocals);

#endif /* NATCHECK_ADDR_H */
