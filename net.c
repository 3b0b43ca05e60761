/*
 * net.c - addresses and sockets shared by the client and the server.
 *
 * Every function returns 0 (or a descriptor / length) on success and -1 on
 * failure with a one-line reason in the caller's err buffer (NET_ERRLEN
 * bytes, may be NULL); nothing here prints, exits or allocates.
 */
#define _DEFAULT_SOURCE             /* getentropy(3) in glibc's <unistd.h> */

#include "net.h"

#include <errno.h>
#include <fcntl.h>
#if defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__) || \
    defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__)
#define NET_HAVE_GETIFADDRS 1
#include <ifaddrs.h>
#endif
#if defined(__linux__)
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#endif
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The reason for a failure, truncated to the caller's buffer. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
seterr(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err, NET_ERRLEN, fmt, ap);
	va_end(ap);
}

int
net_to_stun(const struct sockaddr *sa, struct stun_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		out->family = 4;
		out->port = ntohs(sin->sin_port);
		memcpy(out->addr, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		out->family = 6;
		out->port = ntohs(sin6->sin6_port);
		memcpy(out->addr, &sin6->sin6_addr, 16);
		out->scope = sin6->sin6_scope_id;
		return 0;
	}
	return -1;
}

void
net_from_stun(const struct stun_addr *a, struct sockaddr_storage *ss, socklen_t *sslen)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		sin6->sin6_scope_id = a->scope;
		*sslen = sizeof(*sin6);
	} else {
		/* Anything that is not 6 is taken as IPv4: struct stun_addr only
		 * ever holds 4 or 6, and a zeroed one becomes 0.0.0.0:0. */
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		*sslen = sizeof(*sin);
	}
}





int
net_parse_port(const char *s, int allow_zero, uint16_t *port, char *err)
{
	unsigned long v = 0;
	const char *p;

	/* Digits only: strtoul would accept a sign, spaces and "0x". */
	if (s == NULL || *s == '\0') {
		seterr(err, "empty port");
		return -1;
	}
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			seterr(err, "port \"%s\" is not a number", s);
			return -1;
		}
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535) {            /* checked per digit: no overflow */
			seterr(err, "port \"%s\" is out of range (1-65535)", s);
			return -1;
		}
	}
	if (v == 0 && !allow_zero) {
		seterr(err, "port 0 is not allowed here");
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* Copy n bytes of src to dst as a string if it fits in dstlen. */
static int
copy_host(char *dst, size_t dstlen, const char *src, size_t n, char *err)
{
	if (n == 0) {
		seterr(err, "empty host");
		return -1;
	}
	if (n >= dstlen) {
		seterr(err, "host name too long");
		return -1;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int
net_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port, char *err)
{
	const char *colon, *close;
	uint16_t p;

	if (s == NULL || *s == '\0') {
		seterr(err, "empty address");
		return -1;
	}
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (close == NULL) {
			seterr(err, "\"%s\": missing ']'", s);
			return -1;
		}
		if (close[1] != '\0' && close[1] != ':') {
			seterr(err, "\"%s\": junk after ']'", s);
			return -1;
		}
		if (close[1] == ':' && net_parse_port(close + 2, 0, &p, err) == -1)
			return -1;
		if (copy_host(host, hostlen, s + 1, (size_t)(close - s - 1), err) == -1)
			return -1;
		if (close[1] == ':')
			*port = p;
		return 0;
	}
	colon = strchr(s, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		/* Two or more colons: a bare IPv6 literal, no port. */
		return copy_host(host, hostlen, s, strlen(s), err);
	}
	if (strchr(s, ']') != NULL) {
		seterr(err, "\"%s\": ']' without '['", s);
		return -1;
	}
	if (colon == NULL)
		return copy_host(host, hostlen, s, strlen(s), err);
	if (net_parse_port(colon + 1, 0, &p, err) == -1)
		return -1;
	if (copy_host(host, hostlen, s, (size_t)(colon - s), err) == -1)
		return -1;
	*port = p;
	return 0;
}

/* getaddrinfo(3) takes inet_aton(3)'s shorthand, and so would read a port
 * written as its own word as an address: refuse it. */
int
net_is_ipv4_shorthand(const char *host)
{
	struct addrinfo hints, *res = NULL;
	struct in_addr a4;
	const char *c;

	for (c = host; *c >= '0' && *c <= '9'; c++)
		;
	if (*c == '\0')
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	freeaddrinfo(res);
	return 1;
}

int
net_resolve(const char *host, uint16_t port, int family, struct stun_addr *out, char *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc;

	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
		seterr(err, "unsupported address family %d", family);
		return -1;
	}
	if (net_is_ipv4_shorthand(host)) {
		seterr(err, "%s: not an address (IPv4 is written a.b.c.d)", host);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	/* No AI_ADDRCONFIG: it hides ::1 on hosts whose only IPv6 address is
	 * loopback, and the caller asked for a family on purpose. */
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		seterr(err, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_addr != NULL && net_to_stun(ai->ai_addr, out) == 0) {
			out->port = port;
			freeaddrinfo(res);
			return 0;
		}
	}
	freeaddrinfo(res);
	seterr(err, "%s: no %s address", host,
	       family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "IPv4 or IPv6");
	return -1;
}

int
net_parse_ip(const char *s, struct stun_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = 6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

/* fe80::/10 */
static int
is_link_local6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

int
net_parse_literal(const char *host, struct stun_addr *out, char *err)
{
	char ip[INET6_ADDRSTRLEN + 1], v4[INET_ADDRSTRLEN];
	const char *zone = strchr(host, '%');
	size_t n = zone != NULL ? (size_t)(zone - host) : strlen(host);
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(out, 0, sizeof(*out));
	if (n >= sizeof(ip))
		return 0;
	memcpy(ip, host, n);
	ip[n] = '\0';
	if (zone == NULL && inet_pton(AF_INET, ip, out->addr) == 1) {
		out->family = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, ip, out->addr) != 1) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	out->family = 6;
	if (memcmp(out->addr, mapped, sizeof(mapped)) == 0) {
		/* RFC 4291 section 2.5.5.2: an IPv4 address in IPv6 clothes;
		 * sent from an IPv6 socket it would test IPv4 under the name
		 * of IPv6. */
		seterr(err, "an IPv4-mapped IPv6 address: give the IPv4 address %s instead",
		    inet_ntop(AF_INET, out->addr + 12, v4, sizeof(v4)) ? v4 : "a.b.c.d");
		return -1;
	}
	if (zone == NULL)
		return 1;
	if (!is_link_local6(out->addr)) {
		seterr(err, "a zone (%%%s) goes only with a link-local address (fe80::/10)",
		    zone + 1);
		return -1;
	}
	if (zone[1] != '\0' && strspn(zone + 1, "0123456789") == strlen(zone + 1) &&
	    strlen(zone + 1) <= 9) {
		char name[IF_NAMESIZE];

		/* An index: one of an interface that exists. */
		out->scope = (uint32_t)strtoul(zone + 1, NULL, 10);
		if (out->scope != 0 && if_indextoname(out->scope, name) == NULL)
			out->scope = 0;
	} else {
		out->scope = zone[1] != '\0' ? if_nametoindex(zone + 1) : 0;
	}
	if (out->scope == 0) {
		seterr(err, "no interface '%s' for the zone", zone + 1);
		return -1;
	}
	return 1;
}

int
net_v6_port_ambiguous(const char *word, char *hint, size_t len)
{
	char head[INET6_ADDRSTRLEN + 1], tail[8];
	const char *zone = strchr(word, '%'), *colon;
	size_t n = zone != NULL ? (size_t)(zone - word) : strlen(word), t;
	uint8_t a[16];
	uint16_t port;

	if (n >= sizeof(head) || word[0] == '[')
		return 0;
	memcpy(head, word, n);
	head[n] = '\0';
	if ((colon = strrchr(head, ':')) == NULL)
		return 0;
	/* The last group: decimal digits that make a port. */
	t = strlen(colon + 1);
	if (t == 0 || t >= sizeof(tail) || strspn(colon + 1, "0123456789") != t)
		return 0;
	memcpy(tail, colon + 1, t + 1);
	if (net_parse_port(tail, 0, &port, NULL) == -1)
		return 0;
	/* What is left must be an address of its own. */
	head[colon - head] = '\0';
	if (inet_pton(AF_INET6, head, a) != 1)
		return 0;
	/* A hint cut short would mislead: then none. */
	return (size_t)snprintf(hint, len, "[%s%s]:%s", head, zone != NULL ? zone : "", tail) < len;
}

#ifdef NET_HAVE_GETIFADDRS
/* Leading one bits of an IPv4 netmask.  The BSDs may cut a netmask after
 * its last non-zero byte (sa_len says where), so only bytes that are
 * there are read. */
static unsigned
mask_prefix(const struct sockaddr *mask)
{
	const uint8_t *p = (const uint8_t *)mask;
	size_t at = offsetof(struct sockaddr_in, sin_addr), have = sizeof(struct sockaddr_in);
	uint8_t m[4] = { 0 };
	unsigned bits = 0, k;

#ifndef __linux__
	have = mask->sa_len;
#endif
	for (k = 0; k < 4 && at + k < have; k++)
		m[k] = p[at + k];
	while (bits < 32 && (m[bits / 8] & (0x80u >> (bits % 8))))
		bits++;
	return bits;
}
#endif

/*
 * Is a the directed broadcast address of a local IPv4 subnet?  Computed
 * from each interface's address and netmask (read whatever its sa_family
 * says: some BSDs leave it 0), not from ifa_broadaddr: lo has no broadcast
 * flag, and without a configured broadcast glibc puts the interface's own
 * address there, which would refuse the one address -b is for.
 */
static int
local_broadcast(const struct stun_addr *a, char *err, size_t errlen)
{
#ifdef NET_HAVE_GETIFADDRS
	struct ifaddrs *list, *i;
	struct stun_addr net;
	char ip[ADDR_STRLEN], n[ADDR_STRLEN];
	unsigned prefix;
	int found = 0;

	if (a->family != 4 || getifaddrs(&list) == -1)
		return 0;       /* without the list only the other checks apply */
	for (i = list; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_netmask == NULL ||
		    i->ifa_addr->sa_family != AF_INET || net_to_stun(i->ifa_addr, &net) == -1)
			continue;
		prefix = mask_prefix(i->ifa_netmask);
		if (!addr_is_subnet_broadcast(a, &net, prefix))
			continue;
		for (unsigned b = prefix; b < 32; b++)  /* the network, for the message */
			net.addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		snprintf(err, errlen, "%s is the broadcast address of %s/%u on %s",
		         addr_fmt_ip(a, ip, sizeof(ip)), addr_fmt_ip(&net, n, sizeof(n)), prefix,
		         i->ifa_name != NULL ? i->ifa_name : "?");
		found = 1;
	}
	freeifaddrs(list);
	return found;
#else
	(void)a;
	(void)err;
	(void)errlen;
	return 0;
#endif
}

int
net_check_unicast(const struct stun_addr *a, char *err, size_t errlen)
{
	char ip[ADDR_STRLEN];

	if (!addr_valid(a)) {
		snprintf(err, errlen, "not an IPv4 or IPv6 address");
		return -1;
	}
	addr_fmt_ip(a, ip, sizeof(ip));
	if (addr_is_unspecified(a)) {
		snprintf(err, errlen, "%s is a wildcard address", ip);
		return -1;
	}
	if (addr_is_multicast(a)) {
		snprintf(err, errlen, "%s is a multicast address", ip);
		return -1;
	}
	if (addr_is_limited_broadcast(a)) {
		snprintf(err, errlen, "%s is the broadcast address", ip);
		return -1;
	}
	return local_broadcast(a, err, errlen) ? -1 : 0;
}

int
net_local_for(const struct stun_addr *dst, struct stun_addr *out, char *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd;
	char buf[ADDR_STRLEN];

	net_from_stun(dst, &ss, &sslen);
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd == -1) {
		seterr(err, "socket: %s", strerror(errno));
		return -1;
	}
	/* Connecting a UDP socket only picks the route and source address;
	 * nothing is sent. */
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1) {
		seterr(err, "no route to %s: %s", addr_fmt(dst, buf, sizeof(buf)), strerror(errno));
		close(fd);
		return -1;
	}
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1 ||
	    net_to_stun((struct sockaddr *)&ss, out) == -1) {
		seterr(err, "getsockname: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	out->port = 0;
	return 0;
}

/* A socket of this family and type, non-blocking (one poll loop owns
 * every socket) and close-on-exec (the sockets are nobody else's
 * business); -1 with err set. */
static int
new_socket(int family, int type, char *err)
{
	int fd = socket(family, type, 0), fl;

	if (fd == -1) {
		seterr(err, "socket: %s", strerror(errno));
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		seterr(err, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A non-blocking, close-on-exec socket of this type bound to addr. */
static int
bound_socket(const struct stun_addr *addr, int type, char *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, on = 1;
	char buf[ADDR_STRLEN];

	net_from_stun(addr, &ss, &sslen);
	if ((fd = new_socket(ss.ss_family, type, err)) == -1)
		return -1;
	/* An IPv6 socket sees only IPv6: a v4-mapped peer would be a second,
	 * different path to the same server. */
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1) {
		seterr(err, "IPV6_V6ONLY: %s", strerror(errno));
		close(fd);
		return -1;
	}
	/* A listening TCP port must survive a restart while its old
	 * connections sit in TIME_WAIT.  UDP sockets never get SO_REUSEADDR:
	 * a fresh, exclusive port is what makes a NAT test meaningful. */
	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1) {
		seterr(err, "SO_REUSEADDR: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1) {
		seterr(err, "bind %s%s: %s", type == SOCK_STREAM ? "TCP " : "",
		       addr_fmt(addr, buf, sizeof(buf)), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
net_udp_bind(const struct stun_addr *addr, char *err)
{
	return bound_socket(addr, SOCK_DGRAM, err);
}

int
net_udp_connect(const struct stun_addr *dst, char *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd;

	net_from_stun(dst, &ss, &sslen);
	if ((fd = new_socket(ss.ss_family, SOCK_DGRAM, err)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1) {
		seterr(err, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
net_tcp_listen(const struct stun_addr *addr, int backlog, char *err)
{
	char buf[ADDR_STRLEN];
	int fd = bound_socket(addr, SOCK_STREAM, err);

	if (fd != -1 && listen(fd, backlog) == -1) {
		seterr(err, "listen TCP %s: %s", addr_fmt(addr, buf, sizeof(buf)), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
net_sock_name(int fd, struct stun_addr *out, char *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		seterr(err, "getsockname: %s", strerror(errno));
		return -1;
	}
	if (net_to_stun((struct sockaddr *)&ss, out) == -1) {
		seterr(err, "getsockname: not an IPv4 or IPv6 socket");
		return -1;
	}
	return 0;
}

int
net_send(int fd, const struct stun_addr *to, const void *buf, size_t len, char *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	ssize_t n;
	int tries;
	char a[ADDR_STRLEN];

	net_from_stun(to, &ss, &sslen);
	for (tries = 0; tries < 3; tries++) {   /* a signal may interrupt; bounded */
		n = sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sslen);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0) {
		int e = errno;

		seterr(err, "send to %s: %s", addr_fmt(to, a, sizeof(a)), strerror(e));
		errno = e;
		return -1;
	}
	if ((size_t)n != len) {
		seterr(err, "send to %s: short write (%zd of %zu bytes)",
		       addr_fmt(to, a, sizeof(a)), n, len);
		return -1;
	}
	return 0;
}

long
net_recv(int fd, void *buf, size_t cap, struct stun_addr *from, char *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	ssize_t n;
	int tries;

	/* A datagram longer than cap is truncated to cap (recvfrom(2)); the
	 * STUN length check then rejects it. */
	for (tries = 0; tries < 3; tries++) {
		sslen = sizeof(ss);
		n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&ss, &sslen);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		seterr(err, "recv: %s", strerror(errno));
		return -1;
	}
	if (net_to_stun((struct sockaddr *)&ss, from) == -1) {
		seterr(err, "recv: sender is not IPv4 or IPv6");
		return -1;
	}
	return (long)n;
}

int
net_send_errno_unreachable(int e)
{
	switch (e) {
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
#ifdef EHOSTDOWN
	case EHOSTDOWN:
#endif
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
	case EINVAL:
	case EACCES:                /* a "prohibit" route, or a broadcast */
		return 1;
	default:
		/* EAGAIN, ENOBUFS, ENOMEM: the datagram is lost this once.
		 * EPERM: a local firewall drops it, which is what UDP being
		 * blocked looks like from here. */
		return 0;
	}
}

int
net_recverr_on(int fd, int family, char *err)
{
#if defined(__linux__) && defined(IP_RECVERR) && defined(IPV6_RECVERR)
	int on = 1;
	int rc = family == 6 ?
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on)) :
	    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));

	if (rc == -1) {
		seterr(err, "%s: %s", family == 6 ? "IPV6_RECVERR" : "IP_RECVERR", strerror(errno));
		return -1;
	}
	return 1;
#else
	(void)fd;
	(void)family;
	(void)err;
	return 0;
#endif
}

#if defined(__linux__) && defined(IP_RECVERR) && defined(IPV6_RECVERR)
/* What an ICMP or ICMPv6 error says about the destination. */
static enum net_unreach_kind
icmp_kind(const struct sock_extended_err *ee)
{
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP) {
		if (ee->ee_type == ICMP_DEST_UNREACH && ee->ee_code == ICMP_PORT_UNREACH)
			return NET_UNREACH_PORT;
		if (ee->ee_type == ICMP_DEST_UNREACH && ee->ee_code != ICMP_FRAG_NEEDED)
			return NET_UNREACH_HOST;
		if (ee->ee_type == ICMP_TIME_EXCEEDED)
			return NET_UNREACH_HOST;
	} else if (ee->ee_origin == SO_EE_ORIGIN_ICMP6) {
		if (ee->ee_type == ICMP6_DST_UNREACH && ee->ee_code == ICMP6_DST_UNREACH_NOPORT)
			return NET_UNREACH_PORT;
		if (ee->ee_type == ICMP6_DST_UNREACH || ee->ee_type == ICMP6_TIME_EXCEEDED)
			return NET_UNREACH_HOST;
	}
	return NET_UNREACH_NONE;
}
#endif

int
net_recv_error(int fd, struct net_unreach *u, char *err)
{
	memset(u, 0, sizeof(*u));
#if defined(__linux__) && defined(IP_RECVERR) && defined(IPV6_RECVERR)
	struct sockaddr_storage ss;
	union {
		struct cmsghdr align;
		char buf[512];
	} ctl;
	uint8_t data[64];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr msg;
	struct cmsghdr *c;

	memset(&msg, 0, sizeof(msg));
	memset(&ss, 0, sizeof(ss));
	msg.msg_name = &ss;
	msg.msg_namelen = sizeof(ss);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		seterr(err, "recvmsg(MSG_ERRQUEUE): %s", strerror(errno));
		return -1;
	}
	/* The kernel names the refused datagram's destination in msg_name. */
	if (net_to_stun((struct sockaddr *)&ss, &u->dst) == -1) {
		seterr(err, "error queue: destination is not IPv4 or IPv6");
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		struct sock_extended_err ee;
		struct sockaddr_storage os;
		size_t avail;

		if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
		      (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
			continue;
		if (c->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		u->kind = icmp_kind(&ee);
		u->icmp_type = ee.ee_type;
		u->icmp_code = ee.ee_code;
		/* The offender's address follows the structure (SO_EE_OFFENDER). */
		avail = c->cmsg_len - CMSG_LEN(sizeof(ee));
		memset(&os, 0, sizeof(os));
		memcpy(&os, CMSG_DATA(c) + sizeof(ee), avail < sizeof(os) ? avail : sizeof(os));
		if ((os.ss_family == AF_INET && avail >= sizeof(struct sockaddr_in)) ||
		    (os.ss_family == AF_INET6 && avail >= sizeof(struct sockaddr_in6)))
			u->has_offender = net_to_stun((struct sockaddr *)&os, &u->offender) == 0;
		if (u->has_offender)
			u->offender.port = 0;
		break;
	}
	return 1;
#else
	(void)fd;
	(void)err;
	return 0;
#endif
}

/* The rest of len bytes from /dev/urandom; for systems without getentropy. */
static int
urandom_fill(unsigned char *p, size_t len)
{
	int fd, tries = 0;
	ssize_t n;

	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	while (len > 0) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR && ++tries < 100)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
	return 0;
}

int
net_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	/* getentropy(3) gives at most 256 bytes per call (POSIX 2024). */
	while (len > 0) {
		size_t n = len < 256 ? len : 256;

		if (getentropy(p, n) == -1)
			return urandom_fill(p, len);
		p += n;
		len -= n;
	}
	return 0;
}

uint64_t
net_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer on any system that
	 * has it; wall-clock steps must never move a deadline. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
