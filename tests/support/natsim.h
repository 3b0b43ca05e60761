/*
 * natsim.h - a deterministic virtual network for the detector's unit tests.
 *
 * One client host (192.0.2.10) with the engine's PROBE_NSOCK sockets, a
 * router in front of it (a NAT per RFC 4787, a stateful firewall, nothing,
 * or a wall), links with delay, loss, duplication and reordering, and the
 * REAL server request handler (server_handle) on 203.0.113.1/.2 ports
 * 3478/3479, optionally wrapped in a misbehaving "personality", plus a
 * second, independent server on 203.0.113.7:3478 without an alternate
 * (natsim_second_alt gives it one: 203.0.113.8, port 3479).
 *
 * Time is virtual (milliseconds) and every random choice comes from one
 * seeded PRNG, so a run is a pure function of its configuration and seed.
 * Addresses are the RFC 5737 documentation ranges; nothing touches a socket.
 */
#ifndef NATCHECK_NATSIM_H
#define NATCHECK_NATSIM_H

#include <stddef.h>
#include <stdint.h>

#include "nat.h"
#include "probe.h"
#include "server.h"
#include "stun.h"

/* What sits between the client and the Internet. */
enum natsim_mode {
	NATSIM_NAT,             /* translation + filtering per mapping/filtering */
	NATSIM_OPEN,            /* no NAT, no firewall */
	NATSIM_FIREWALL,        /* no NAT, stateful filter (filtering below) */
	NATSIM_BLOCKED          /* no UDP at all */
};

/* RFC 4787 behaviours, for mapping (section 4.1) and filtering (section 5). */
enum natsim_beh {
	NATSIM_EI,              /* endpoint-independent */
	NATSIM_AD,              /* address-dependent */
	NATSIM_APD              /* address-and-port-dependent */
};

/* How the NAT picks a new mapping's public port. */
enum natsim_alloc {
	NATSIM_ALLOC_SEQ = 0,       /* 50000, 50001, ... in order of creation */
	NATSIM_ALLOC_PRESERVE,      /* the client socket's own port */
	NATSIM_ALLOC_RANDOM,        /* uniformly random in 1024..65535 */
	NATSIM_ALLOC_STEP           /* like SEQ, but by alloc_step each time */
};

/* How the main server (203.0.113.1) behaves around server_handle(). */
enum natsim_personality {
	NATSIM_SRV_NORMAL,          /* server_handle() as is */
	NATSIM_SRV_RFC3489,         /* replies re-encoded the stund way: MAPPED-,
	                               SOURCE-, CHANGED-ADDRESS, same tid */
	NATSIM_SRV_NO_ALT,          /* one address, one port (a plain RFC 8489
	                               server): change requests get 420 */
	NATSIM_SRV_IGNORE_CHANGE,   /* answers from the arrival endpoint, still
	                               advertising OTHER-ADDRESS */
	NATSIM_SRV_WRONG_CHANGE,    /* answers change requests from a wrong endpoint */
	NATSIM_SRV_ALT_NO_CHANGE_IP,/* coturn 4.6: a change of IP asked of its alternate
	                               address is answered from the alternate address;
	                               right on the primary */
	NATSIM_SRV_PRIMARY_ONLY,    /* nothing in or out except on A1:P1 */
	NATSIM_SRV_GARBAGE,         /* every reply truncated: undecodable */
	NATSIM_SRV_DOWN,            /* no answer at all */
	NATSIM_SRV_CLOSED,          /* nothing listens: every datagram to it draws an
	                               ICMP port unreachable (probe_unreachable) */
	NATSIM_SRV_ECHO,            /* sends every request back as it came */
	NATSIM_SRV_WRONG_TID,       /* answers, with a transaction ID not ours */
	NATSIM_SRV_INDICATION,      /* answers with a Binding indication */
	NATSIM_SRV_FAKE_ALT,        /* OTHER-ADDRESS replaced by fake_alt */
	NATSIM_SRV_FAKE_MAPPED,     /* the mapped address replaced by fake_mapped */
	NATSIM_SRV_FAKE_ORIGIN,     /* RESPONSE-ORIGIN replaced by fake_origin */
	NATSIM_SRV_SHIFTING_ALT,    /* OTHER-ADDRESS replaced by fake_alt in the
	                               answers to CHANGE-REQUESTs only: answers to
	                               one endpoint name two alternates */
	NATSIM_SRV_SINGLE_ADDRESS,  /* one IP, two ports (203.0.113.1:3478/3479):
	                               OTHER-ADDRESS is the same IP and the other
	                               port; a change of IP is not made (the reply
	                               comes from the same IP) */
	NATSIM_SRV_ONE_ADDRESS,     /* natcheck --serve with one address: 3478/3479,
	                               has_alt 0, other_port_only: OTHER-ADDRESS (same
	                               IP, other port) only to a request that carries
	                               CHANGE-REQUEST, change IP is a 420 */
	NATSIM_SRV_REFUSE_CHANGE,   /* one address, one port, knows no CHANGE-REQUEST
	                               (a plain RFC 8489 server): 420 to any request
	                               that carries one, whatever its flags */
	NATSIM_SRV_DROP_CHANGE      /* one address, one port: any request that carries
	                               CHANGE-REQUEST goes unanswered */
};

/* One direction of the path between the router and the servers. */
struct natsim_link {
	uint32_t delay_ms;          /* one-way delay */
	uint32_t loss_pct;          /* 0..100, per datagram */
	uint32_t dup_pct;           /* chance a datagram arrives twice */
	uint32_t reorder_pct;       /* chance of an extra random delay ... */
	uint32_t reorder_ms;        /* ... of 1..reorder_ms */
};

#define NATSIM_MAX_MAPS   256
/* Client sockets: the probe engine's, or another engine's (lifetime). */
#define NATSIM_MAX_SOCKS  40
#define NATSIM_MAX_DESTS  16
#define NATSIM_MAX_QUEUE  1024
#define NATSIM_MAX_LOG    1024

/* A NAT mapping (or a firewall's per-endpoint state) and the destinations
 * it has sent to: its filter opens for exactly those (RFC 4787 section 5). */
struct natsim_map {
	int      sock;                  /* internal endpoint: client socket index */
	struct stun_addr key_dst;       /* destination part of the key (ADM: IP, APDM: IP:port) */
	uint16_t pub_port;
	size_t   ndests;
	struct stun_addr dests[NATSIM_MAX_DESTS];
	uint64_t last_out, last_in;     /* traffic each way (map_timeout_ms) */
	int      dead;                  /* timed out: never used again */
};

/* A datagram in flight. */
struct natsim_pkt {
	uint64_t at;                    /* arrival time at its next hop */
	uint64_t seq;                   /* FIFO order among equal times */
	int      to_router;             /* 1: arriving at the router from outside
	                                   (inbound or hairpinned); 0: arriving at
	                                   a server endpoint */
	int      icmp;                  /* an ICMP port unreachable about a datagram
	                                   to `from` (to_router only) */
	struct stun_addr from, to;
	size_t   len;
	uint8_t  buf[PROBE_TXBUF + SERVER_REPLY_SLACK + 64];
};

/* One datagram a client socket sent (for "never sent to X" assertions). */
struct natsim_sent {
	uint64_t at;
	int      sock;
	struct stun_addr to;
	uint8_t  tid[STUN_TID_LEN];
};

struct natsim {
	/* Configuration: set by natsim_init's arguments, then freely by the test. */
	enum natsim_mode mode;
	enum natsim_beh mapping, filtering;
	int      hairpin;
	enum natsim_personality personality;
	int      second_server_up;      /* 203.0.113.7:3478 answers */
	struct natsim_link up, down;    /* router -> servers, servers -> router */
	/* Extra delay for one specific datagram: called for every datagram
	 * leaving the router (up = 1) or a server (up = 0). */
	uint32_t (*delay_hook)(void *ctx, int up, const uint8_t *buf, size_t len);
	void    *hook_ctx;
	enum natsim_alloc alloc;        /* NATSIM_ALLOC_SEQ unless set */
	uint16_t alloc_step;            /* for NATSIM_ALLOC_STEP */
	/* A mapping idle for longer than this is gone (0: never).  Idle means
	 * no outbound datagram, and with map_refresh_inbound no inbound one
	 * either (RFC 4787 REQ-6). */
	uint32_t map_timeout_ms;
	int      map_refresh_inbound;
	/* Another engine than probe: datagrams for the client go here. */
	void   (*deliver)(void *ctx, uint64_t now, int sock, const struct stun_addr *from,
	                  const uint8_t *buf, size_t len);
	void    *deliver_ctx;

	/* A cold path (0: off): once the path between the router and the
	 * servers has carried nothing for cold_idle_ms, the next datagram, in
	 * either direction, wakes it up and it carries nothing for
	 * cold_hold_ms: what is sent meanwhile waits, then all of it goes
	 * through in order (a radio waking up, a neighbour being resolved).
	 * The first datagram of a run finds the path cold. */
	uint32_t cold_idle_ms;
	uint32_t cold_hold_ms;

	/* A rate limit in front of the main server, as natcheck --serve
	 * --rate keeps one (0: none): a token bucket for the client's public
	 * address, shared by all four endpoints, refilled at rate_per_s and
	 * holding at most rate_burst; a request that finds no token is
	 * dropped unanswered.  natsim_rate() sets it up. */
	uint32_t rate_per_s, rate_burst;
	uint64_t rate_tokens;           /* in 1/1000 requests */
	uint64_t rate_last;             /* when the bucket was last refilled */
	unsigned rate_dropped;

	/* Hostile servers and a hostile network (NATSIM_SRV_FAKE_*). */
	struct stun_addr fake_alt, fake_mapped, fake_origin;
	int      second_server_closed;  /* 203.0.113.7:3478 draws ICMP port unreachable */
	int      fail_sends_to_set;     /* the client's sends to fail_sends_to's IP fail
	                                   locally (probe_unreachable, PROBE_UNREACH_SEND) */
	struct stun_addr fail_sends_to;

	/* Fixed addresses. */
	struct stun_addr client[NATSIM_MAX_SOCKS];
	struct stun_addr nat_ip;        /* 198.51.100.1 */
	struct server_cfg srv;          /* 203.0.113.1/.2, 3478/3479 */
	struct server_cfg srv2;         /* 203.0.113.7:3478 */

	/* State. */
	uint64_t now;
	uint64_t rng;
	uint64_t seq;
	uint16_t next_port;
	size_t   nmaps;
	struct natsim_map maps[NATSIM_MAX_MAPS];
	size_t   nq;
	struct natsim_pkt q[NATSIM_MAX_QUEUE];
	size_t   nlog;
	struct natsim_sent log[NATSIM_MAX_LOG];
	struct probe *probe;            /* the engine being driven */
	int      path_used;             /* the cold path: anything sent yet */
	uint64_t path_last;             /* when the last datagram entered it */
	uint64_t path_awake;            /* it carries nothing before this */

	/* Counters. */
	unsigned lost, duplicated, reordered, filtered, hairpinned, unroutable, overflow;
	unsigned icmp_sent;             /* ICMP port unreachables the servers sent */
	unsigned held;                  /* datagrams the cold path held */
};

/* A fresh simulation: a NAT with these behaviours, hairpinning on or off,
 * the normal server, perfect links with 50 ms each way, this seed. */
void natsim_init(struct natsim *s, enum natsim_beh mapping, enum natsim_beh filtering,
                 int hairpin, uint64_t seed);

/* Give the second server an alternate address and port (203.0.113.8,
 * 3479): an honest RFC 5780 server to fail over to. */
void natsim_second_alt(struct natsim *s);

/* Rate-limit the main server: per_s requests a second, bursts of burst,
 * the bucket holding `tokens` requests' worth now (burst: a fresh source;
 * 0: one that has just spent them all). */
void natsim_rate(struct natsim *s, uint32_t per_s, uint32_t burst, uint32_t tokens);

/* Set both directions' one-way delay and loss in one go. */
void natsim_path(struct natsim *s, uint32_t delay_ms, uint32_t loss_pct);

/* A probe configuration for this network: the client's socket addresses,
 * the PRNG, server 203.0.113.1:3478 and a 10 s timeout. */
void natsim_config(struct natsim *s, struct probe_config *cfg);

/* The RFC 3489 name of a NAT with these behaviours, and RFC 5780's word
 * for one behaviour: what a right verdict says. */
enum nat_type natsim_truth(enum natsim_beh m, enum natsim_beh f);
enum nat_behavior natsim_behavior(enum natsim_beh b);

/* What in verdict v contradicts a NAT with these behaviours ("type",
 * "mapping" or "filtering": neither the truth nor unknown), or NULL. */
const char *natsim_wrong(const struct nat_verdict *v, enum natsim_beh m, enum natsim_beh f);

/* Addresses used by the tests. */
struct stun_addr natsim_addr(const char *ip, uint16_t port);

/* Run the engine in virtual time until PROBE_DONE; returns the elapsed
 * virtual milliseconds. */
uint64_t natsim_run(struct natsim *s, const struct probe_config *cfg, struct probe *p);

/* How many datagrams client socket `sock` sent to `to` (port 0: any port
 * of that IP; NULL: anywhere). */
size_t natsim_sent_to(const struct natsim *s, int sock, const struct stun_addr *to);

/* For engines other than probe, which drive the clock themselves (set
 * s->deliver first): send a datagram from client socket `sock`; deliver
 * everything due now; move the clock on by at most wait_ms (at least 1 ms),
 * stopping at the next arrival. */
void natsim_send(struct natsim *s, int sock, const struct stun_addr *to, const uint8_t *buf,
                 size_t len);
void natsim_deliver(struct natsim *s);
void natsim_advance(struct natsim *s, uint32_t wait_ms);

#endif /* NATCHECK_NATSIM_H */
