/*
 * dns.h - the little of DNS a stub resolver needs (RFC 1035, RFC 3596
 * AAAA, RFC 2782 SRV), and the two files that configure one:
 * resolv.conf(5) and hosts(5).
 *
 * Pure: no sockets, no files, no allocation, no global state.  The caller
 * reads the files and moves the datagrams (resolve.c drives the queries,
 * resolve_io.c owns the sockets).  The wire is hostile: every answer is
 * checked against the query it claims to answer (ID, the question, the
 * type) and every byte against the end of the message; a malformed one is
 * a named error, never a believed address.
 */
#ifndef NATCHECK_DNS_H
#define NATCHECK_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "stun.h"

#define DNS_PORT        53
#define DNS_QUERY_MAX   512         /* RFC 1035 4.2.1: a query fits in UDP */
#define DNS_NAMELEN     256         /* a name in text: 253 + a final dot + NUL */
#define DNS_WIRELEN     255         /* a name on the wire (RFC 1035 2.3.4) */

#define DNS_TYPE_A      1
#define DNS_TYPE_CNAME  5
#define DNS_TYPE_AAAA   28
#define DNS_TYPE_SRV    33
#define DNS_CLASS_IN    1

#define DNS_MAX_ADDRS   8           /* addresses kept from one answer */
#define DNS_MAX_SRV     8           /* SRV records kept from one answer */
#define DNS_MAX_CHAIN   8           /* CNAMEs followed within one answer */

/*
 * dns_query: a standard query with recursion desired for name (text, with
 * or without a final dot; letters, digits, '-', '_' and '.', no empty
 * label, labels of at most 63 bytes, at most 253 characters) and qtype,
 * with ID id, into buf.  Its length, or -1 when the name is not one to
 * ask about or cap is too small.
 */
int dns_query(uint16_t id, const char *name, uint16_t qtype, uint8_t *buf, size_t cap);

/* Is name one dns_query takes? */
int dns_name_ok(const char *name);

/* The ID of a message (0 when it is shorter than a header). */
uint16_t dns_id(const uint8_t *msg, size_t len);

enum dns_status {
	DNS_ANSWER = 0,             /* records of the type asked for (naddr/nsrv) */
	DNS_NODATA,                 /* the name exists, no record of that type */
	DNS_NXDOMAIN,               /* no such name (RCODE 3) */
	DNS_SERVFAIL,               /* the server could not answer (RCODE 2) */
	DNS_REFUSED,                /* the server refused (RCODE 5) */
	DNS_RCODE,                  /* another error RCODE (FORMERR, NOTIMP, ...) */
	/* Not an answer to believe: */
	DNS_E_SHORT,                /* shorter than a header */
	DNS_E_NOT_ANSWER,           /* not a response (QR 0), or not a standard query's */
	DNS_E_ID,                   /* another query's ID */
	DNS_E_QUESTION,             /* not exactly our question (name, type, class) */
	DNS_E_NAME,                 /* a name that runs past the end, loops, points
	                               forward or is longer than 255 bytes */
	DNS_E_RECORD                /* a record that runs past the end, or an A, AAAA
	                               or SRV record of the wrong length */
};

struct dns_srv {
	uint16_t priority, weight, port;
	char     target[DNS_NAMELEN];   /* "." for "no service" (RFC 2782) */
};

struct dns_answer {
	int      rcode;
	int      truncated;         /* TC: the answer was cut to fit */
	size_t   naddr;             /* A or AAAA records of the name (port 0) */
	struct stun_addr addr[DNS_MAX_ADDRS];
	size_t   nsrv;              /* SRV records whose target is a usable name */
	struct dns_srv srv[DNS_MAX_SRV];
};

/*
 * dns_parse: msg[0..len), the answer to the query (id, name, qtype) that
 * dns_query built.  The records of qtype count for name itself or for the
 * name it is an alias of (CNAME records in the same answer, at most
 * DNS_MAX_CHAIN of them); others are ignored, as are the authority and
 * additional sections.  Returns the status, with *a filled as far as it
 * goes (DNS_ANSWER: at least one address or SRV record).
 */
enum dns_status dns_parse(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                          uint16_t qtype, struct dns_answer *a);

/* A few words for a status ("no such name", "malformed answer: ..."). */
const char *dns_status_words(enum dns_status s);

/* ---------------------------------------------------------------- resolv.conf */

#define DNS_MAX_NS      3           /* as resolv.conf(5)'s MAXNS */
#define DNS_MAX_SEARCH  6
#define DNS_ZONELEN     16

struct dns_conf {
	size_t   nns;
	struct stun_addr ns[DNS_MAX_NS]; /* port 53 */
	char     zone[DNS_MAX_NS][DNS_ZONELEN]; /* "eth0" for fe80::1%eth0, else "" */
	size_t   nsearch;
	char     search[DNS_MAX_SEARCH][DNS_NAMELEN]; /* without a final dot */
	unsigned ndots;             /* default 1, at most 15 */
	int      defaulted;         /* no nameserver line: 127.0.0.1 */
};

/*
 * dns_conf_parse: resolv.conf(5) text buf[0..len): "nameserver ADDR" (the
 * first DNS_MAX_NS; an IPv6 link-local one may carry "%zone"), "search"
 * and "domain" (the last one of them wins, as in glibc), "options
 * ndots:N"; '#' and ';' start comments; anything else is ignored.  With
 * no usable nameserver line, the local one (127.0.0.1), as the C
 * libraries do.  Never fails.
 */
void dns_conf_parse(const char *buf, size_t len, struct dns_conf *c);

/*
 * dns_candidates: the names to ask for `name`, in order, as the C
 * libraries' resolvers search (resolv.conf(5)): a name with a final dot
 * alone (without it); one with at least ndots dots, itself and then with
 * each search domain; a shorter one the other way round.  Up to cap names
 * of DNS_NAMELEN bytes into out; their number (candidates too long to be
 * names are left out).
 */
size_t dns_candidates(const char *name, const struct dns_conf *c, char (*out)[DNS_NAMELEN],
                      size_t cap);

/* ---------------------------------------------------------------- hosts */

/*
 * dns_hosts_line: one line of hosts(5), line[0..len) ("ADDR NAME
 * [ALIAS...]", '#' to the end of the line is a comment).  When `name` (any
 * case, one final dot aside) is among its names, the address goes to
 * v4 or v6 unless *has4 / *has6 is already set (the first line wins), and
 * 1 is returned; 0 otherwise.  Addresses with a zone are skipped.
 */
int dns_hosts_line(const char *line, size_t len, const char *name, struct stun_addr *v4,
                   int *has4, struct stun_addr *v6, int *has6);

#endif /* NATCHECK_DNS_H */
