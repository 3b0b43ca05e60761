/*
 * resolve.h - a stub resolver as an I/O-free engine: every name at the
 * same time, each for IPv4 (A) and IPv6 (AAAA) at the same time, all of
 * it bounded by one time limit.  Same contract as probe.h: resolve_next()
 * says what to send to which nameserver or how long to wait,
 * resolve_input() takes what came back, resolve_unreachable() what the
 * network refused; when resolve_next() says RESOLVE_DONE every name is
 * settled in r->n[].
 *
 * Sockets are the caller's, one per (name, family, nameserver): a fresh
 * source port for each, as RFC 5452 section 9.2 asks, besides a fresh
 * random ID per datagram.  The caller tells which socket a datagram came
 * in on; the engine believes it only when it comes from that nameserver,
 * carries the ID of a query sent there and echoes the question.
 *
 * Schedule: a query is sent at once, then again (new ID) at
 * RESOLVE_RETRY_MS[k] after its first send, each time to the next
 * nameserver that has not failed it (resolv.conf(5)'s order, rotating);
 * an answer to any of its sends counts.  A nameserver that answers
 * SERVFAIL, REFUSED or another error, or that cannot be reached, is done
 * for that query, and the next one is asked at once.  Names are searched
 * as the C libraries do (dns_candidates): the next candidate is asked when
 * both families of this one have "no such name" or "no data".  At the
 * limit every name still open is settled as timed out (or as answered,
 * with the family that did answer).
 *
 * Why a stub resolver and not getaddrinfo(3): getaddrinfo blocks, so the
 * names were looked up one after another, each waiting out the resolver's
 * own timeout (80 s offline with 8 names); and it cannot ask for SRV
 * records, which TURN and _stun._udp discovery need (RFC 5389 section 9,
 * RFC 5928).  The cost: names only in other name services (nsswitch.conf
 * beyond "files dns": mDNS, NIS, LDAP) are not found; hosts(5) is read by
 * the caller before anything is asked.
 */
#ifndef NATCHECK_RESOLVE_H
#define NATCHECK_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "stun.h"

#define RESOLVE_MAX_NAMES  8
#define RESOLVE_MAX_CAND   (DNS_MAX_SEARCH + 1)
#define RESOLVE_MAX_TRIES  10
#define RESOLVE_DETAIL     160
#define RESOLVE_FAM_A      0        /* IPv4 */
#define RESOLVE_FAM_AAAA   1        /* IPv6 */

/* The longest any resolution lasts, whatever the limit asked for: the
 * last send (RESOLVE_RETRY_MS) and a wait for its answer. */
#define RESOLVE_MAX_MS     15000

/* From a query's first send: when it is sent again. */
#define RESOLVE_RETRY_MS { 0, 300, 800, 1500, 2400, 3600, 5200, 7200, 9600, 12400 }

enum resolve_why {
	RESOLVE_PENDING = 0,
	RESOLVE_OK,                 /* an address of a family asked for */
	RESOLVE_NO_NAME,            /* no such name, with every candidate */
	RESOLVE_NO_ADDRESS,         /* the name exists, without an address asked for */
	RESOLVE_FAILED,             /* every nameserver failed or could not be reached */
	RESOLVE_TIMEOUT,            /* no answer by the limit */
	RESOLVE_MALFORMED,          /* by the limit, only malformed answers came */
	RESOLVE_BAD_NAME            /* not a host name DNS can carry */
};

struct resolve_config {
	struct dns_conf conf;       /* nameservers, search list, ndots */
	const char *names[RESOLVE_MAX_NAMES];
	size_t   nnames;
	int      want[2];           /* ask for A, for AAAA */
	uint32_t limit_ms;          /* every name is settled by then (at most
	                               RESOLVE_MAX_MS) */
	void   (*random)(void *ctx, uint8_t *buf, size_t len);  /* IDs */
	void    *random_ctx;
};

/* One family of one name: a query for the current candidate. */
struct resolve_query {
	int      open;              /* asked for and not settled */
	enum dns_status got;        /* how it settled (DNS_ANSWER, DNS_NODATA, ...) */
	int      failed;            /* every nameserver failed it */
	int      timed_out;
	uint64_t start, next_at;
	size_t   nsent;
	uint16_t id[RESOLVE_MAX_TRIES];
	uint8_t  ns[RESOLVE_MAX_TRIES];
	unsigned dead;              /* bit per nameserver done for this query */
	unsigned bad;               /* malformed answers */
	enum dns_status bad_kind;   /* the last one's */
};

struct resolve_name {
	enum resolve_why why;
	int      has[2];            /* an address of the family */
	struct stun_addr addr[2];   /* the first of each family, port 0 */
	uint32_t ms;                /* settled this long after the start */
	char     detail[RESOLVE_DETAIL]; /* RESOLVE_FAILED: who said what */
	/* The search. */
	char     cand[RESOLVE_MAX_CAND][DNS_NAMELEN];
	size_t   ncand, at;
	int      seen_nodata, seen_fail;
	struct resolve_query q[2];
};

struct resolve {
	struct resolve_config cfg;
	uint64_t start;
	int      done;
	struct resolve_name n[RESOLVE_MAX_NAMES];
};

enum resolve_step { RESOLVE_SEND, RESOLVE_WAIT, RESOLVE_DONE };

struct resolve_tx {
	size_t   name;              /* index into cfg.names */
	int      fam;               /* RESOLVE_FAM_A or RESOLVE_FAM_AAAA */
	size_t   ns;                /* index into cfg.conf.ns */
	size_t   attempt;           /* 1 for the first send of this query */
	const char *qname;          /* the candidate asked for */
	size_t   len;
	uint8_t  buf[DNS_QUERY_MAX];
};

/* Start resolving cfg's names at now_ms. */
void resolve_init(struct resolve *r, const struct resolve_config *cfg, uint64_t now_ms);

/* The next thing to do: RESOLVE_SEND tx (then call again), RESOLVE_WAIT
 * at most *wait_ms, or RESOLVE_DONE (every name settled in r->n). */
enum resolve_step resolve_next(struct resolve *r, uint64_t now_ms, struct resolve_tx *tx,
                               uint32_t *wait_ms);

/* buf[0..len) came from `from` on the socket of (name, fam, ns). */
void resolve_input(struct resolve *r, uint64_t now_ms, size_t name, int fam, size_t ns,
                   const struct stun_addr *from, const uint8_t *buf, size_t len);

/* Nameserver ns cannot be reached for (name, fam): why, in a few words
 * ("port unreachable", "Network is unreachable"). */
void resolve_unreachable(struct resolve *r, uint64_t now_ms, size_t name, int fam, size_t ns,
                         const char *why);

/* Why name i has no address, in a few words ("no such name", "no answer
 * from 192.0.2.53 in 2.0 s"), into buf; "" for RESOLVE_OK. */
const char *resolve_why_text(const struct resolve *r, size_t i, char *buf, size_t len);

#endif /* NATCHECK_RESOLVE_H */
