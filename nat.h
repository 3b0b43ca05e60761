/*
 * nat.h - from test outcomes to a verdict.  Pure: no I/O.
 *
 * nat_classify() reads a finished probe run and names the NAT in both
 * vocabularies, RFC 3489's seven types and RFC 5780's mapping, filtering
 * and hairpinning behaviours.  Whatever the tests could not establish is
 * "unknown", with a warning saying why; nothing is guessed.
 */
#ifndef NATCHECK_NAT_H
#define NATCHECK_NAT_H

#include <stddef.h>

#include "probe.h"
#include "stun.h"

enum nat_type {
	NAT_UNKNOWN = 0,
	NAT_OPEN,                   /* Open Internet */
	NAT_FULL_CONE,
	NAT_RESTRICTED_CONE,
	NAT_PORT_RESTRICTED_CONE,
	NAT_SYMMETRIC,
	NAT_SYMMETRIC_FIREWALL,     /* Symmetric UDP Firewall */
	NAT_UDP_BLOCKED
};

enum nat_behavior {
	NAT_BEH_UNKNOWN = 0,
	NAT_BEH_ENDPOINT_INDEPENDENT,
	NAT_BEH_ADDRESS_DEPENDENT,
	NAT_BEH_ADDRESS_PORT_DEPENDENT
};

#define NAT_MAX_WARNINGS 12
#define NAT_WARNING_LEN  200

struct nat_verdict {
	enum nat_type type;
	enum nat_behavior mapping;
	enum nat_behavior filtering;
	int      hairpinning;       /* 1 yes, 0 no, -1 unknown or not applicable */
	int      nat;               /* 1 behind a NAT, 0 not, -1 unknown */
	int      unreachable;       /* no server could be reached at all: every
	                               server's binding was refused/unreachable */
	int      has_local, has_mapped, has_server, has_alternate;
	struct stun_addr local;     /* the mapping socket's real local address */
	struct stun_addr mapped;    /* its mapped address at the primary server */
	struct stun_addr server;    /* the primary server (the one with the alternate) */
	struct stun_addr alternate; /* its alternate address */
	double   loss;              /* measured exchange loss, -1 unknown */
	size_t   nwarnings;
	char     warnings[NAT_MAX_WARNINGS][NAT_WARNING_LEN];
};

/* Fill *v from a finished run. */
void nat_classify(const struct probe *p, struct nat_verdict *v);

/* Add a warning (printf-style); silently dropped past NAT_MAX_WARNINGS. */
void nat_warn(struct nat_verdict *v, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* Stable JSON words ("port-restricted-cone", "address-dependent") and the
 * human names ("Port Restricted Cone", ...). */
const char *nat_type_word(enum nat_type t);
const char *nat_type_name(enum nat_type t);
const char *nat_behavior_word(enum nat_behavior b);

#endif /* NATCHECK_NAT_H */
