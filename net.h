/*
 * net.h - addresses and sockets shared by the client and the server.
 *
 * Knows nothing of STUN beyond converting to and from struct stun_addr.
 * Functions return 0 on success and -1 on failure, writing a one-line
 * reason into the caller's err buffer (NET_ERRLEN bytes); they never print
 * and never exit.
 */
#ifndef NATCHECK_NET_H
#define NATCHECK_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "stun.h"

#define NET_ERRLEN   256
#define NET_HOSTLEN  256            /* a host name or literal, NUL included */

/* Convert between sockaddr (AF_INET/AF_INET6) and stun_addr. */
int  net_to_stun(const struct sockaddr *sa, struct stun_addr *out);
void net_from_stun(const struct stun_addr *a, struct sockaddr_storage *ss, socklen_t *sslen);

/* Parse a port number 1..65535 (0 allowed if allow_zero); -1 on error. */
int net_parse_port(const char *s, int allow_zero, uint16_t *port, char *err);

/*
 * Split "host", "host:port", "[v6]" or "[v6]:port" into host and port.
 * A bare IPv6 literal without brackets ("2001:db8::1") is taken as a host.
 * *port is left as given when the string has no port.
 */
int net_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port, char *err);

/*
 * Resolve host (name or literal) to the first address of the wanted family
 * (AF_UNSPEC, AF_INET, AF_INET6), with the port set.  IPv4 is taken only as
 * a full dotted quad: inet_aton(3) shorthand ("51000", "127.1", "0x7f.1"),
 * which getaddrinfo(3) would turn into an address, is refused.
 */
int net_resolve(const char *host, uint16_t port, int family, struct stun_addr *out, char *err);

/* Is host an IPv4 address in inet_aton(3)'s shorthand ("51000", "127.1",
 * "0x7f.0.0.1") rather than a dotted quad, or digits alone? */
int net_is_ipv4_shorthand(const char *host);

/* An IPv4 dotted quad or an IPv6 literal (no name, no shorthand) into *out
 * with port 0; -1 if s is neither. */
int net_parse_ip(const char *s, struct stun_addr *out);

/*
 * net_parse_literal: is host an IP address?  An IPv4 dotted quad, or an
 * IPv6 address with an optional zone after '%' ("fe80::1%eth0": an
 * interface's name or index, only for a link-local address).  1 with *out
 * set (port 0, the zone's interface index in out->scope), 0 when host is
 * no address (a name, for the resolver), -1 with one sentence in err when
 * it is an address that cannot be used: an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, whose IPv4 address is to be given instead), a zone on
 * an address that is not link-local, or a zone naming no interface.
 */
int net_parse_literal(const char *host, struct stun_addr *out, char *err);

/*
 * net_v6_port_ambiguous: word, written without brackets, reads as an IPv6
 * address, a colon and a port (1 to 65535, decimal): "::1:3478" is also
 * the address ::0.1.52.120, and "2001:db8::1:19302" is no address at all.
 * 1 with the reading in brackets ("[::1]:3478", a zone kept) in hint (len
 * bytes; when it does not fit, 0), else 0.
 */
int net_v6_port_ambiguous(const char *word, char *hint, size_t len);

/*
 * net_check_unicast: 0 when `a` is an address a datagram may honestly come
 * from, else -1 with the reason in err.  Refused: the unspecified address
 * (the kernel would pick the source), multicast (IPv4 and IPv6), the
 * limited broadcast 255.255.255.255 and the directed broadcast of any local
 * IPv4 subnet, computed from the interfaces' netmasks (getifaddrs(3), where
 * the system has it; elsewhere only the other checks apply).
 */
int net_check_unicast(const struct stun_addr *a, char *err, size_t errlen);

/*
 * The local address the kernel would use to reach dst (a connected UDP
 * socket's name, no packet sent).  Port is 0.
 */
int net_local_for(const struct stun_addr *dst, struct stun_addr *out, char *err);

/* A non-blocking UDP socket bound to addr (port 0 = ephemeral); fd or -1. */
int net_udp_bind(const struct stun_addr *addr, char *err);

/* A non-blocking UDP socket on a fresh ephemeral port, connected to dst
 * (so the kernel drops datagrams from anyone else, and an ICMP error
 * comes back as ECONNREFUSED on the next recv or send); fd, or -1 with
 * err set to the reason alone (strerror, "Network is unreachable"). */
int net_udp_connect(const struct stun_addr *dst, char *err);

/* A non-blocking TCP socket listening on addr (SO_REUSEADDR, so that a
 * restarted server gets its port back); the fd, or -1 with err set. */
int net_tcp_listen(const struct stun_addr *addr, int backlog, char *err);

/* The address a socket is bound to. */
int net_sock_name(int fd, struct stun_addr *out, char *err);

/* Send one datagram; 0, or -1 with err and errno kept from sendto(2)
 * (EAGAIN counts as failure). */
int net_send(int fd, const struct stun_addr *to, const void *buf, size_t len, char *err);

/*
 * ICMP errors for an unconnected UDP socket.  Only Linux reports them, with
 * IP_RECVERR / IPV6_RECVERR; elsewhere nothing comes back for a datagram
 * that was refused, exactly as if it were lost.
 *
 * net_recverr_on: ask for them on fd (of family 4 or 6).  1 when enabled,
 * 0 when this system cannot, -1 with err on failure.
 */
int net_recverr_on(int fd, int family, char *err);

enum net_unreach_kind {
	NET_UNREACH_NONE = 0,       /* an ICMP error that is not unreachability
	                               (e.g. "fragmentation needed") */
	NET_UNREACH_PORT,           /* port unreachable: nothing listens there */
	NET_UNREACH_HOST            /* host, network or administratively
	                               unreachable, or time exceeded */
};

/* One report from a socket's error queue. */
struct net_unreach {
	enum net_unreach_kind kind;
	struct stun_addr dst;       /* the refused datagram's destination */
	int      has_offender;
	struct stun_addr offender;  /* who sent the ICMP error (port 0) */
	int      icmp_type, icmp_code;
};

/* net_recv_error: take one report from fd's error queue.  1 with *u filled,
 * 0 when the queue is empty (or the system has none), -1 with err. */
int net_recv_error(int fd, struct net_unreach *u, char *err);

/* A short name for an errno of a failed send that means the destination
 * cannot be reached from here (no route, family or address unusable):
 * 1 for those (EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL, EACCES, ...), 0
 * for a merely lost datagram (EAGAIN, ENOBUFS, a local firewall's EPERM). */
int net_send_errno_unreachable(int e);

/* Receive one datagram: its length, 0 if none is waiting, -1 on error. */
long net_recv(int fd, void *buf, size_t cap, struct stun_addr *from, char *err);

/* Fill buf with bytes from the OS random source; 0 or -1. */
int net_random(void *buf, size_t len);

/* Milliseconds from a monotonic clock. */
uint64_t net_now_ms(void);

#endif /* NATCHECK_NET_H */
