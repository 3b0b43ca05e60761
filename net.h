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
 * (AF_UNSPEC, AF_INET, AF_INET6), with the port set.
 */
int net_resolve(const char *host, uint16_t port, int family, struct stun_addr *out, char *err);

/*
 * The local address the kernel would use to reach dst (a connected UDP
 * socket's name, no packet sent).  Port is 0.
 */
int net_local_for(const struct stun_addr *dst, struct stun_addr *out, char *err);

/* A non-blocking UDP socket bound to addr (port 0 = ephemeral); fd or -1. */
int net_udp_bind(const struct stun_addr *addr, char *err);

/* The address a socket is bound to. */
int net_sock_name(int fd, struct stun_addr *out, char *err);

/* Send one datagram; 0, or -1 with err (EAGAIN counts as failure). */
int net_send(int fd, const struct stun_addr *to, const void *buf, size_t len, char *err);

/* Receive one datagram: its length, 0 if none is waiting, -1 on error. */
long net_recv(int fd, void *buf, size_t cap, struct stun_addr *from, char *err);

/* Fill buf with bytes from the OS random source; 0 or -1. */
int net_random(void *buf, size_t len);

/* Milliseconds from a monotonic clock. */
uint64_t net_now_ms(void);

#endif /* NATCHECK_NET_H */
