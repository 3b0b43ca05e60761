/*
 * bench/loopback.h - the one target parser of the bench tools
 * (bench/loadgen.c, bench/floor.c): they must never touch anything but
 * this machine, so an address is taken only as a numeric loopback literal.
 * Header-only, because each tool is one file built on its own.
 */
#ifndef BENCH_LOOPBACK_H
#define BENCH_LOOPBACK_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Parse "a.b.c.d:port" or "[v6]:port" into ss.  0 on success; -1 when the
 * text is not ADDR:PORT; -2 when the address is not a loopback literal
 * (127.0.0.0/8, RFC 1122 section 3.2.1.3 (g), or ::1), with the reason
 * in err.
 */
static int
loopback_target(const char *arg, struct sockaddr_storage *ss, socklen_t *sslen,
                char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s, *sep;
	size_t hlen;

	if (arg[0] == '[') {
		sep = strchr(arg, ']');
		if (sep == NULL || sep[1] != ':')
			return -1;
		arg++;
		port_s = sep + 2;
	} else {
		sep = strrchr(arg, ':');
		if (sep == NULL)
			return -1;
		port_s = sep + 1;
	}
	hlen = (size_t)(sep - arg);
	if (hlen >= sizeof host)
		return -1;
	memcpy(host, arg, hlen);
	host[hlen] = '\0';

	char *end;
	errno = 0;
	long port = strtol(port_s, &end, 10);
	if (*port_s == '\0' || *end != '\0' || errno != 0 || port < 1 || port > 65535)
		return -1;

	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	static const uint8_t lo6[16] = { [15] = 1 };
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
			snprintf(err, errlen, "%s is not a loopback address (127.0.0.0/8)", host);
			return -2;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof *sin;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		if (memcmp(&sin6->sin6_addr, lo6, sizeof lo6) != 0) {
			snprintf(err, errlen, "%s is not the loopback address ::1", host);
			return -2;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof *sin6;
		return 0;
	}
	snprintf(err, errlen, "%s: not a numeric loopback address", host);
	return -2;
}

#endif
