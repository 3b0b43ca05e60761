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
 * unit tests can answer their requests with the real server logic; the
 * socket loop around it is in serve.h.
 */
#ifndef NATCHECK_SERVER_H
#define NATCHECK_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "stun.h"

#define SERVER_NEP         4u   /* endpoints: 2 addresses x 2 ports */
#define SERVER_EP_ALT_ADDR 1u
#define SERVER_EP_ALT_PORT 2u
/* XOR mask from an endpoint to the one on the other address and other port:
 * RFC 5780's OTHER-ADDRESS, RFC 3489's CHANGED-ADDRESS (Ca:Cp). */
#define SERVER_EP_OTHER    (SERVER_EP_ALT_ADDR | SERVER_EP_ALT_PORT)

/*
 * Amplification.  A reply carries first what the RFCs require (RFC 5389 +
 * RFC 5780 form: XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, RESPONSE-ORIGIN and
 * OTHER-ADDRESS; RFC 3489 form: MAPPED-, SOURCE- and CHANGED-ADDRESS, and
 * REFLECTED-FROM for an honoured RESPONSE-ADDRESS; an error: ERROR-CODE and
 * UNKNOWN-ATTRIBUTES).  The optional attributes (FINGERPRINT, SOFTWARE,
 * PADDING) only go into the room the request itself paid for: they never
 * make a reply longer than its request, and PADDING never makes it longer
 * than the request at all.  So no reply is longer than its request by more
 * than the required part's excess, at most four IPv6 address attributes
 * (4 x 24 bytes, a bare 20-byte request to a dual-address IPv6 server).
 * emit() enforces that bound once more for every reply.
 */
#define SERVER_REPLY_SLACK 96

/*
 * Advertised addresses (--advertise, stuntman's --primaryadvertised): behind
 * a 1:1 NAT (a cloud VM) the server binds private addresses but its clients
 * see public ones, so RESPONSE-ORIGIN, SOURCE-ADDRESS, OTHER-ADDRESS and
 * CHANGED-ADDRESS carry adv[0] in place of the primary address's IP and
 * adv[1] in place of the alternate's, each with the endpoint's own port
 * (a 1:1 NAT keeps ports).  The mapped addresses and the reflection rules
 * are untouched: they are about the request's source, not the server.
 *
 * One address, two ports (has_alt == 0): RFC 5780 section 6 wants such a
 * server to send no OTHER-ADDRESS and to refuse CHANGE-REQUEST with a 420.
 * A request without CHANGE-REQUEST, a bare Binding request above all, gets
 * exactly that: no OTHER-ADDRESS, whatever other_port_only says.  With
 * other_port_only set, an RFC 5389-form request that carries CHANGE-REQUEST
 * (flags clear, or change port) also gets OTHER-ADDRESS = this IP, the
 * other port: natcheck's extension.  RFC 5780 section 7.4 wants
 * OTHER-ADDRESS to differ in IP as well; a server with one address cannot,
 * and naming the other port to a client that asks lets it still tell
 * whether the mapping and the filtering depend on the port (change port)
 * and see that no IP change is possible (a 420 for change IP).  natcheck's
 * client asks with an empty CHANGE-REQUEST (ask-other-address) when the
 * bare answer names no alternate.  A client that never asks is never told:
 * coturn's turnutils_natdiscovery, which does not compare OTHER-ADDRESS's
 * IP with the server's, would send its mapping test II to the same IP and
 * port (test I again) and call every NAT endpoint-independent; without
 * OTHER-ADDRESS it stops after test I and names no behaviour, which is
 * right.  Left 0, such a server has no OTHER-ADDRESS at all (the client's
 * in-memory tests rely on that).
 *
 * With one address, whatever the flags, an RFC 3489 request (no magic
 * cookie) that carries CHANGE-REQUEST is dropped unanswered; one without
 * is answered, with no CHANGED-ADDRESS.  A classic client cannot learn
 * that the server has one address: RFC 3489 has no way to say it, and
 * Debian's `stun` (stund's client) counts any reply to its change-IP test,
 * a 420 included, as proof of an open filter, and sends its second Test I
 * to CHANGED-ADDRESS's IP on the primary port, so with one IP it can never
 * see a mapping change.  Answered at all, it names every NAT's mapping
 * endpoint-independent, a symmetric NAT's too; unanswered, it says
 * "Blocked or could not reach STUN server".  The lab (tests/lab/single.sh)
 * holds both clients to that (natcheck.1, SERVER).
 */
struct server_cfg {
	struct stun_addr ep[SERVER_NEP]; /* the endpoints, indexed as above */
	int      has_alt;           /* 0: one address (ep[1], ep[3] unused) */
	int      other_port_only;   /* has_alt == 0: OTHER-ADDRESS = A1, other port,
	                               to requests with CHANGE-REQUEST */
	int      has_adv;           /* adv[] replaces the IPs the server reports */
	struct stun_addr adv[2];    /* [0] for the primary, [1] the alternate; port unused */
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
 * server_handle_stream: the same for one message that arrived over a TCP
 * connection to endpoint `at`, whose answer can only go back on that
 * connection: a request that asks for a change of address or port
 * (CHANGE-REQUEST), or another destination (RESPONSE-PORT,
 * RESPONSE-ADDRESS), gets a 400; reply->via is always `at` and reply->to
 * always `from`.  Only RFC 5389 messages exist over TCP.
 */
int server_handle_stream(const struct server_cfg *cfg, unsigned at, const struct stun_addr *from,
                         const uint8_t *req, size_t len, uint8_t *out, size_t cap,
                         struct server_reply *reply);

/* Endpoint i as the server reports it: ep[i], with the advertised IP in
 * place of its own when cfg->has_adv is set. */
void server_ep_public(const struct server_cfg *cfg, unsigned i, struct stun_addr *out);

/* True when the configuration has endpoint i (0..SERVER_NEP-1). */
int server_ep_present(const struct server_cfg *cfg, unsigned i);

#endif /* NATCHECK_SERVER_H */
