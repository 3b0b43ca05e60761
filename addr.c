/*
 * addr.c - comparing, formatting and classifying addresses (see addr.h).
 *
 * Pure: inet_ntop(3) is the only library call, and it only formats.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

size_t
addr_len(const struct stun_addr *a)
{
	return a->family == 6 ? 16 : 4;
}

int
addr_valid(const struct stun_addr *a)
{
	return a->family == 4 || a->family == 6;
}

int
addr_ip_eq(const struct stun_addr *a, const struct stun_addr *b)
{
	return a->family == b->family && addr_valid(a) &&
	    memcmp(a->addr, b->addr, addr_len(a)) == 0;
}

int
addr_eq(const struct stun_addr *a, const struct stun_addr *b)
{
	return addr_ip_eq(a, b) && a->port == b->port;
}

const char *
addr_fmt_ip(const struct stun_addr *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	/* INET6_ADDRSTRLEN (46) < ADDR_STRLEN: a socklen_t holds any len we see. */
	if (!addr_valid(a) ||
	    inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf,
	              (socklen_t)(len > 4096 ? 4096 : len)) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *
addr_fmt(const struct stun_addr *a, char *buf, size_t len)
{
	char ip[ADDR_STRLEN];

	if (len == 0)
		return buf;
	addr_fmt_ip(a, ip, sizeof(ip));
	if (a->family == 6)
		snprintf(buf, len, "[%s]:%u", ip, (unsigned)a->port);
	else
		snprintf(buf, len, "%s:%u", ip, (unsigned)a->port);
	return buf;
}

int
addr_is_unspecified(const struct stun_addr *a)
{
	static const uint8_t zero[16];

	return addr_valid(a) && memcmp(a->addr, zero, addr_len(a)) == 0;
}

int
addr_is_loopback(const struct stun_addr *a)
{
	static const uint8_t one6[16] = { [15] = 1 };

	if (a->family == 4)
		return a->addr[0] == 127;
	return a->family == 6 && memcmp(a->addr, one6, 16) == 0;
}

int
addr_is_multicast(const struct stun_addr *a)
{
	if (a->family == 4)
		return (a->addr[0] & 0xF0) == 0xE0;
	return a->family == 6 && a->addr[0] == 0xFF;
}

int
addr_is_limited_broadcast(const struct stun_addr *a)
{
	return a->family == 4 && a->addr[0] == 255 && a->addr[1] == 255 &&
	    a->addr[2] == 255 && a->addr[3] == 255;
}

int
addr_is_private(const struct stun_addr *a)
{
	if (a->family == 4)
		return a->addr[0] == 10 ||
		    (a->addr[0] == 172 && (a->addr[1] & 0xF0) == 16) ||
		    (a->addr[0] == 192 && a->addr[1] == 168);
	return a->family == 6 && (a->addr[0] & 0xFE) == 0xFC;
}

int
addr_is_shared(const struct stun_addr *a)
{
	return a->family == 4 && a->addr[0] == 100 && (a->addr[1] & 0xC0) == 64;
}

int
addr_is_subnet_broadcast(const struct stun_addr *a, const struct stun_addr *net,
                         unsigned prefix)
{
	uint32_t x, n, host;

	if (a->family != 4 || net->family != 4 || prefix >= 31)
		return 0;
	x = (uint32_t)a->addr[0] << 24 | (uint32_t)a->addr[1] << 16 |
	    (uint32_t)a->addr[2] << 8 | a->addr[3];
	n = (uint32_t)net->addr[0] << 24 | (uint32_t)net->addr[1] << 16 |
	    (uint32_t)net->addr[2] << 8 | net->addr[3];
	host = prefix == 0 ? 0xFFFFFFFFu : 0xFFFFFFFFu >> prefix;
	return (x & ~host) == (n & ~host) && (x & host) == host;
}

/* Is a the IP of one of locals[0..n)? */
static int
is_local_ip(const struct stun_addr *a, const struct stun_addr *locals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (addr_valid(&locals[i]) && addr_ip_eq(&locals[i], a))
			return 1;
	return 0;
}

enum addr_use
addr_use_check(const struct stun_addr *a, int family, const struct stun_addr *server,
               const struct stun_addr *locals, size_t nlocals, int own)
{
	int server_here;

	if (!addr_valid(a))
		return ADDR_USE_ABSENT;
	if (a->family != family)
		return ADDR_USE_FAMILY;
	if (addr_is_unspecified(a))
		return ADDR_USE_UNSPECIFIED;
	if (a->port == 0)
		return ADDR_USE_PORT_ZERO;
	if (addr_is_multicast(a))
		return ADDR_USE_MULTICAST;
	if (addr_is_limited_broadcast(a))
		return ADDR_USE_BROADCAST;
	/* A server on this very host may well name this host's addresses. */
	server_here = addr_is_loopback(server) || is_local_ip(server, locals, nlocals);
	if (addr_is_loopback(a) && !server_here)
		return ADDR_USE_LOOPBACK;
	if (!own && !server_here && is_local_ip(a, locals, nlocals))
		return ADDR_USE_LOCAL;
	return ADDR_USE_OK;
}

enum addr_use
addr_alt_check(const struct stun_addr *alt, int family, const struct stun_addr *server,
               const struct stun_addr *locals, size_t nlocals)
{
	enum addr_use u = addr_use_check(alt, family, server, locals, nlocals, 0);

	if (u == ADDR_USE_OK && (addr_ip_eq(alt, server) || alt->port == server->port))
		u = ADDR_USE_NOT_DISTINCT;
	return u;
}
