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
addr_is_link_local(const struct stun_addr *a)
{
	if (a->family == 4)
		return a->addr[0] == 169 && a->addr[1] == 254;
	return a->family == 6 && a->addr[0] == 0xFE && (a->addr[1] & 0xC0) == 0x80;
}

/* The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:a.b.c.d, RFC
 * 4291 section 2.5.5.2), else a itself. */
static struct stun_addr
unmapped(const struct stun_addr *a)
{
	static const uint8_t prefix[12] = { [10] = 0xFF, [11] = 0xFF };
	struct stun_addr v = *a;

	if (a->family == 6 && memcmp(a->addr, prefix, sizeof(prefix)) == 0) {
		memset(v.addr, 0, sizeof(v.addr));
		memcpy(v.addr, a->addr + 12, 4);
		v.family = 4;
	}
	return v;
}

int
addr_is_site_scoped(const struct stun_addr *a)
{
	struct stun_addr v = unmapped(a);

	return addr_is_private(&v) || addr_is_shared(&v) || addr_is_link_local(&v);
}

int
addr_is_public(const struct stun_addr *a)
{
	struct stun_addr v = unmapped(a);

	return addr_valid(&v) && !addr_is_unspecified(&v) && !addr_is_loopback(&v) &&
	    !addr_is_multicast(&v) && !addr_is_limited_broadcast(&v) && !addr_is_site_scoped(&v);
}

int
addr_in_net(const struct stun_addr *a, const struct stun_addr *net, unsigned prefix)
{
	size_t whole = prefix / 8;
	unsigned rest = prefix % 8;

	if (!addr_valid(a) || a->family != net->family || prefix > 8 * addr_len(a))
		return 0;
	if (memcmp(a->addr, net->addr, whole) != 0)
		return 0;
	return rest == 0 || ((a->addr[whole] ^ net->addr[whole]) & (0xFF00u >> rest) & 0xFF) == 0;
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

/* Is a one of this host's addresses: an engine socket's or an interface's? */
static int
is_ours(const struct stun_addr *a, const struct stun_addr *locals, size_t nlocals,
        const struct addr_host *host)
{
	return is_local_ip(a, locals, nlocals) ||
	    (host != NULL && is_local_ip(a, host->ip, host->n < ADDR_HOST_MAX ? host->n : ADDR_HOST_MAX));
}

/* Is a on one of this host's networks (not loopback's) that server is not
 * on?  Host routes (/32, /128) hold only the host's own address. */
static int
on_our_link(const struct stun_addr *a, const struct stun_addr *server,
            const struct addr_host *host)
{
	size_t n = host == NULL ? 0 : host->n < ADDR_HOST_MAX ? host->n : ADDR_HOST_MAX;

	for (size_t i = 0; i < n; i++) {
		const struct stun_addr *net = &host->ip[i];
		unsigned prefix = host->prefix[i];

		if (prefix == 0 || prefix >= 8 * addr_len(net) || addr_is_loopback(net))
			continue;
		if (addr_in_net(a, net, prefix) && !addr_in_net(server, net, prefix))
			return 1;
	}
	return 0;
}

enum addr_use
addr_use_check(const struct stun_addr *a, int family, const struct stun_addr *server,
               const struct stun_addr *locals, size_t nlocals, const struct addr_host *host,
               enum addr_role role)
{
	int here, own;

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
	here = addr_is_loopback(server) || is_ours(server, locals, nlocals, host);
	own = is_ours(a, locals, nlocals, host);
	if (addr_is_loopback(a) && !here)
		return ADDR_USE_LOOPBACK;
	/* A hairpin test to this host's own address crosses no NAT: it could
	 * only reach a local service (issue #20), whoever named it. */
	if (role == ADDR_ROLE_HAIRPIN && (own || addr_is_loopback(a)))
		return ADDR_USE_LOCAL;
	if (here)
		return ADDR_USE_OK;
	if (own)
		return role == ADDR_ROLE_TARGET ? ADDR_USE_LOCAL : ADDR_USE_OK;
	if (role != ADDR_ROLE_MAPPED && addr_is_public(server) && addr_is_site_scoped(a))
		return ADDR_USE_SITE;
	if (role == ADDR_ROLE_TARGET && on_our_link(a, server, host))
		return ADDR_USE_ON_LINK;
	return ADDR_USE_OK;
}

enum addr_use
addr_alt_check(const struct stun_addr *alt, int family, const struct stun_addr *server,
               const struct stun_addr *locals, size_t nlocals, const struct addr_host *host)
{
	enum addr_use u = addr_use_check(alt, family, server, locals, nlocals, host,
	    ADDR_ROLE_TARGET);

	if (u == ADDR_USE_OK && (addr_ip_eq(alt, server) || alt->port == server->port))
		u = ADDR_USE_NOT_DISTINCT;
	return u;
}
