/*
 * server.h - the dual-address STUN server behind `natcheck --serve`.
 *
 * The server listens on four endpoints: two addresses x two ports.  An
 * endpoint is named by an index 0..3: bit 0 set means the alternate
 * address, bit 1 set means the alternate port, so
 *   0 = primary address, primary port     (A1:P1)
 *   1 = alternate address, primary port   (A2:P1)
 *   2 = primary address, alternate port   (A1:P2)
 *   3 = alternate address, alternate port (A2:P2)
 * and "change IP" flips bit 0, "change port" flips bit 1 (RFC 3489 section
 * 8.1, RFC 5780 Table 1).
 *
 * server_handle() is the whole protocol and does no I/O, so the client's
 * unit tests can answer their requests with the real server logic.
 */
#ifndef NATCHECK_SERVER_H
#define NATCHECK_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "stun.h"

#define SERVER_EP_ALT_ADDR 1u
#define SERVER_EP_ALT_PORT 2u

/* A reply is never larger than the request plus this many bytes, so the
 * server cannot be used as an amplifier (see the man page). */
#define SERVER_REPLY_SLACK 128

struct server_cfg {
	struct stun_addr ep[4];     /* the four endpoints, indexed as above */
	int      has_alt;           /* 0: one address (ep[1], ep[3] unused) */
	const char *software;       /* SOFTWARE value, or NULL for none */
};

/* What server_handle decided. */
struct server_reply {
	unsigned via;               /* endpoint index to send from */
	struct stun_addr to;        /* destination */
	size_t   len;               /* bytes in the caller's out buffer */
	int      code;              /* 0 for success, else the error code sent */
	const char *why;            /* for logging: short reason when dropped / error */
};

/*
 * server_handle: the answer to one datagram `req[0..len)` that arrived on
 * endpoint `at` from `from`.  Returns 1 with the reply encoded in
 * out[0..reply->len) and reply->via / reply->to set; 0 when the datagram is
 * to be dropped (not a STUN request, or not ours to answer), with
 * reply->why set.  Never fails on bad input.  out must not overlap req
 * (a PADDING reply copies the request's padding).
 */
int server_handle(const struct server_cfg *cfg, unsigned at, const struct stun_addr *from,
                  const uint8_t *req, size_t len, uint8_t *out, size_t cap,
                  struct server_reply *reply);

/*
 * server_run: bind the endpoints and answer until SIGINT or SIGTERM.
 * verbose logs one line per request to stderr.  Returns 0 after a clean
 * stop, -1 with err set when the sockets could not be set up.
 */
int server_run(const struct server_cfg *cfg, int verbose, char *err, size_t errlen);

#endif /* NATCHECK_SERVER_H */
