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
int addr_is_link_local(const struct stun_addr *a);    /* 169.254/16, fe80::/10 */

/*
 * addr_is_site_scoped: an address that means something only inside one
 * site, link or carrier network: private (RFC 1918), unique local
 * (fc00::/7), link-local, or shared (100.64/10, carrier-grade NAT).  An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged by its IPv4.
 */
int addr_is_site_scoped(const struct stun_addr *a);

/*
 * addr_is_public: a unicast address outside loopback and every site-scoped
 * range, as the address rules below read "a server on the Internet".  The
 * documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24,
 * 2001:db8::/32; RFC 5737, RFC 3849) are neither private nor globally
 * reachable in the IANA special-purpose registries; they count as public
 * here, because what they stand for in examples and test networks (the
 * NAT lab) is the Internet, and nothing else would make them site-scoped.
 */
int addr_is_public(const struct stun_addr *a);

/* Is a inside net/prefix (the same family, the first prefix bits equal)? */
int addr_in_net(const struct stun_addr *a, const struct stun_addr *net, unsigned prefix);

/*
 * What this host knows about itself, for the rules below: its interfaces'
 * addresses, each with its on-link prefix length (the shell fills it,
 * net_host_addrs; empty when the system cannot say).  The engines' own
 * sockets' addresses count as this host's whether or not they are here.
 */
#define ADDR_HOST_MAX 32
struct addr_host {
	size_t   n;
	struct stun_addr ip[ADDR_HOST_MAX];     /* port 0 */
	uint8_t  prefix[ADDR_HOST_MAX];         /* 0..32, 0..128 */
};

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
 * (loopback, or one of this host's addresses), which may well name them.
 * From a public server (addr_is_public) nothing site-scoped is used
 * (addr_is_site_scoped: private, ULA, link-local, carrier-grade NAT): a
 * server on the Internet cannot know of such an address, so naming one is
 * aiming the client's probes at its LAN (issue #20).
 *
 * The rules depend on the address's role:
 *   ADDR_ROLE_TARGET  an address to send to that the server names (its
 *                     alternate): every rule, and also not on one of this
 *                     host's own networks (host's prefixes) unless the
 *                     server is on that network too - whatever the
 *                     address class, an IPv6 LAN's global addresses too;
 *   ADDR_ROLE_MAPPED  a mapped address, judged as a claim: it may be this
 *                     host's own (no NAT), and it may be site-scoped
 *                     (nothing proves such a claim false, so the verdict
 *                     is not thrown away for it);
 *   ADDR_ROLE_HAIRPIN a mapped address the hairpin tests would send to:
 *                     never this host's own address (then there is no NAT
 *                     to hairpin through, only a local service), even
 *                     from a server on this host, and nothing site-scoped
 *                     from a public server.
 * family: the socket's (4 or 6).  locals[0..nlocals): the engine's
 * sockets' addresses; host: NULL or what the shell found.  ADDR_USE_OK or
 * the first problem found.  The engines' own problem enums (probe.h,
 * tcpprobe.h) take these values.
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
	                               that is not on this host (or a hairpin
	                               target) */
	ADDR_USE_NOT_DISTINCT,      /* an alternate that does not differ from its
	                               server in both IP and port (RFC 5780 7.4) */
	ADDR_USE_SITE,              /* site-scoped, told by a public server */
	ADDR_USE_ON_LINK            /* on one of this host's networks, told by a
	                               server that is not on it */
};

enum addr_role { ADDR_ROLE_TARGET, ADDR_ROLE_MAPPED, ADDR_ROLE_HAIRPIN };

enum addr_use addr_use_check(const struct stun_addr *a, int family,
                             const struct stun_addr *server, const struct stun_addr *locals,
                             size_t nlocals, const struct addr_host *host, enum addr_role role);

/* The same for an alternate address (OTHER-ADDRESS, CHANGED-ADDRESS) of
 * server, an ADDR_ROLE_TARGET: usable, and different from the server in
 * IP and in port (RFC 5780 section 7.4, RFC 3489 section 11.2.3). */
enum addr_use addr_alt_check(const struct stun_addr *alt, int family,
                             const struct stun_addr *server, const struct stun_addr *locals,
                             size_t nlocals, const struct addr_host *host);

#endif /* NATCHECK_ADDR_H */
