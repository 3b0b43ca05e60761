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

#endif /* NATCHECK_ADDR_H */
