/*
 * nat.h - from test outcomes to a verdict.  Pure: no I/O.
 *
 * nat_classify() reads a finished probe run and names the NAT in both
 * vocabularies, RFC 3489's seven types and RFC 5780's mapping, filtering
 * and hairpinning behaviours.  Whatever the tests could not establish is
 * "unknown", with a finding saying why; nothing is guessed.
 */
#ifndef NATCHECK_NAT_H
#define NATCHECK_NAT_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * Findings: what could not be determined and why, and anything that lowers
 * confidence in the result.  Each is a code plus its data; nat.c holds no
 * prose.  report.c renders a finding as a sentence and as a JSON object
 * whose keys name the data (natcheck.1, FINDINGS, lists every code and its
 * keys).  Which slots a code fills, and what they mean, is documented at
 * the code.  The JSON word of a code is its name in lower case with '-'.
 */
enum nat_code {
	NAT_F_NO_SERVER = 0,        /* no server was given */
	NAT_F_NO_RESPONSE,          /* nothing at all came back: UDP blocked */
	NAT_F_NO_VALID_ANSWER,      /* datagrams came back, none a valid answer:
	                               count[] = received, echoed, unmatched,
	                               indications, malformed, wrong socket;
	                               value = the last stun_decode status */
	NAT_F_NO_STUN_SERVER,       /* addr[0]: ICMP port unreachable, nothing
	                               listens there */
	NAT_F_UNREACHABLE,          /* addr[0] cannot be reached: value = enum
	                               probe_unreach (host/network, or no send left) */
	NAT_F_NO_BINDING_ANSWER,    /* addr[0]: the server, no usable binding answer */
	NAT_F_MAPPED_INVALID,       /* addr[0] a mapped address no NAT can give
	                               (value = enum probe_addr_problem), reported
	                               by server addr[1]: its answers are not used */
	NAT_F_OTHER_SERVER_USED,    /* addr[0] the first server, addr[1] the one the
	                               tests used; value 1 when addr[0] answered
	                               without an alternate, 2 with an unusable one,
	                               0 when it did not answer, 3 when it was given
	                               up (p->abandoned): CHANGE-REQUEST ignored or
	                               refused, or its answers contradict themselves */
	NAT_F_ALT_NOT_DISTINCT,     /* addr[0] advertised alternate, addr[1] server */
	NAT_F_ALT_REJECTED,         /* addr[0] advertised alternate, addr[1] server,
	                               value = enum probe_addr_problem */
	NAT_F_NO_ALTERNATE,         /* addr[0]: the server, no alternate at all */
	NAT_F_NO_USABLE_ALTERNATE,  /* addr[0]: the server, no usable alternate */
	NAT_F_MAPPING_INCONSISTENT, /* addr[0] mapping towards the primary and the
	                               alternate IP, addr[1] towards the alternate port */
	NAT_F_MAPPING_UNDECIDED,    /* varies with the destination, dependency unknown:
	                               addr[0] first mapping, addr[1] second mapping,
	                               addr[2] the endpoint that did not answer */
	NAT_F_MAPPING_VARIES_SERVERS, /* addr[0] mapping at addr[1], addr[2] at addr[3] */
	NAT_F_MAPPING_NO_ALT_ANSWER,/* addr[0]: the silent alternate */
	NAT_F_MAPPING_ACROSS_SERVERS, /* count[0]: servers compared */
	NAT_F_MAPPING_CONTRADICTED, /* addr[0] server saw addr[1], not addr[2] */
	NAT_F_CHANGE_IGNORED,       /* test[0] answered from addr[0], where it was sent */
	NAT_F_CHANGE_WRONG_SOURCE,  /* answered from addr[0], expected addr[1] */
	NAT_F_CHANGE_IMPOSSIBLE_SOURCE, /* answered from addr[0], cannot be the change */
	NAT_F_FILTERING_UNTRUSTED,  /* CHANGE-REQUEST answers cannot be trusted */
	NAT_F_CHANGE_ERROR,         /* value: the error code */
	NAT_F_FILTER_TEST_LOST,     /* test[0] unanswered although test[1] answered */
	NAT_F_CHANGE_UNVERIFIED,    /* support not verifiable through this NAT */
	NAT_F_FILTERING_UNVERIFIED, /* no changed answer from addr[0] */
	NAT_F_FILTERING_INCONCLUSIVE, /* test[0] result[0], test[1] result[1] */
	NAT_F_FILTERING_UNTESTABLE, /* no server with an alternate address */
	NAT_F_HAIRPIN_MAPPING_UNKNOWN, /* hairpinning unknown: mapping unknown */
	NAT_F_HAIRPIN_UNOBSERVABLE, /* through destination-dependent mapping */
	NAT_F_HAIRPIN_NOT_TESTED,   /* the hairpin socket learned no mapping */
	NAT_F_HAIRPIN_UNSENDABLE,   /* addr[0] a mapped address the engine would
	                               not send to: value = enum probe_addr_problem */
	NAT_F_HAIRPIN_SEND_FAILED,  /* test[0]'s sends to addr[0] did not leave the
	                               host or reach the NAT: count[0] reports,
	                               value = enum probe_unreach of the first */
	NAT_F_OPEN_BUT_VARYING,     /* mapped == local, yet the mapping varies */
	NAT_F_NO_ANSWER_FROM,       /* addr[0] never answered a plain request */
	NAT_F_TIMEOUT,              /* tests: bitmask of probe kinds still open at -t */
	NAT_F_LOSS,                 /* count[0] lost of count[1] exchanges;
	                               count[2] fewest sends of a negative, 0 none */
	NAT_F_ANSWERS_STOPPED,      /* test[0], a plain request to addr[0], an
	                               endpoint that answered another, went
	                               unanswered through all its count[0] sends:
	                               losses in a run the independent-loss model
	                               rules out (a rate limit's spent burst, a
	                               server that stalls); the primary server's
	                               negatives are not used */
	NAT_F_UNEXPECTED_DATAGRAMS, /* count[] = late, duplicate, stray, malformed,
	                               wrong source */
	NAT_F_PINNED_PORT,          /* value: the -b port */
	NAT_F_SEND_ERRORS,          /* count[0]: sends that failed locally */
	NAT_F_ALT_PORT_ONLY,        /* addr[0] the server, addr[1] its alternate, the
	                               same IP: only the port-changing tests ran */
	NAT_F_MAPPING_NOT_PORT_DEPENDENT, /* addr[0] the mapping towards the server and
	                               towards its alternate port: endpoint-
	                               independent or address-dependent */
	NAT_F_FILTERING_NOT_PORT_DEPENDENT, /* a change of port got through:
	                               endpoint-independent or address-dependent */
	NAT_F_SERVER_UNTRUSTED,     /* addr[0] the server, tests = its problems
	                               (bitmask of enum nat_server_problem); value 1
	                               when it is the server the verdict would rest
	                               on: then nothing it said is used */
	/* After the verdict, from the traversal measurements (natcheck.c). */
	NAT_F_NO_EXTRA_PORTS,       /* addr[0]: the server the extra port samples
	                               were for; their sockets could not be used */
	NAT_F_LIFETIME_NO_ANSWER,   /* --lifetime: no server answered the tests */
	NAT_F_LIFETIME_UNSUPPORTED, /* --lifetime: addr[0], the server, does not
	                               honour RESPONSE-PORT */
	NAT_F_LIFETIME_UNMEASURED,  /* --lifetime: at addr[0], no binding could be
	                               made or checked */
	NAT_F_LIFETIME_CONFLICTS,   /* --lifetime: count[0] checks contradicted others */
	NAT_F_COUNT
};

#define NAT_FINDING_ADDRS  4
#define NAT_FINDING_COUNTS 6
#define NAT_MAX_FINDINGS   32

struct nat_finding {
	enum nat_code code;
	struct stun_addr addr[NAT_FINDING_ADDRS];
	unsigned count[NAT_FINDING_COUNTS];
	enum probe_kind test[2];
	enum probe_result result[2];
	uint32_t tests;             /* bitmask: 1u << enum probe_kind */
	int      value;
};

/*
 * What the answers show about each server (issue #14: servers in the wild
 * lie).  A problem with its addresses makes a server untrusted: its
 * answers decide nothing.  Not honouring CHANGE-REQUEST is no lie about
 * addresses: change_request says so, and the filtering is unknown.
 */
enum nat_server_problem {
	NAT_SP_ORIGIN_MISMATCH = 1u << 0,   /* RESPONSE-ORIGIN is not where the
	                                       answer came from */
	NAT_SP_OTHER_INCONSISTENT = 1u << 1,/* answers to requests that reached the
	                                       same endpoint named different
	                                       OTHER-ADDRESS (CHANGED-ADDRESS) */
	NAT_SP_MAPPED_DISAGREES = 1u << 2,  /* its mapped address is not the one an
	                                       endpoint-independent mapping showed
	                                       every other endpoint */
	NAT_SP_MAPPED_INVALID = 1u << 3     /* a mapped address no NAT gives */
};
#define NAT_SP_COUNT 4

struct nat_server {
	struct stun_addr address;
	int      rfc;               /* 5780 (OTHER-ADDRESS), 3489 (CHANGED-ADDRESS or
	                               MAPPED-ADDRESS alone), 5389 (XOR-MAPPED-ADDRESS,
	                               no alternate), 0: never answered */
	int      change_request;    /* 1 honoured (an answer came from the changed
	                               endpoint), 0 not (ignored, wrong source, error),
	                               -1 unknown */
	int      trusted;
	unsigned problems;          /* enum nat_server_problem bits */
};

struct nat_verdict {
	enum nat_type type;
	enum nat_behavior mapping;
	enum nat_behavior filtering;
	int      hairpinning;       /* 1 yes, 0 no, -1 unknown or not applicable */
	int      nat;               /* 1 behind a NAT, 0 not, -1 unknown */
	int      unreachable;       /* 1: no server could be reached at all (the
	                               network said so, or no send left the host) */
	int      has_local, has_mapped, has_server, has_alternate;
	struct stun_addr local;     /* the mapping socket's real local address */
	struct stun_addr mapped;    /* its mapped address at the primary server */
	struct stun_addr server;    /* the primary server (the one with the alternate,
	                               else the first that answered) */
	struct stun_addr alternate; /* its alternate address */
	double   loss;              /* measured exchange loss, -1 unknown */
	unsigned plain_sent;        /* sends whose silence no NAT explains: of the
	                               answered tests, and of the plain requests
	                               (an answer comes from where they went) */
	unsigned plain_unanswered;  /* of those, the ones that went unanswered
	                               (lost, or to an endpoint that never answered);
	                               both 0 while no round trip is known */
	size_t   nservers;          /* = the run's servers, in their order */
	struct nat_server servers[PROBE_MAX_SERVERS];
	size_t   nfindings;
	struct nat_finding findings[NAT_MAX_FINDINGS];
};

/* Fill *v from a finished run. */
void nat_classify(const struct probe *p, struct nat_verdict *v);

/* Append a finding with only its code set and return it for the caller to
 * fill, or NULL past NAT_MAX_FINDINGS (then it is dropped). */
struct nat_finding *nat_add(struct nat_verdict *v, enum nat_code code);

/* The finding with this code, or NULL (the first one). */
const struct nat_finding *nat_find(const struct nat_verdict *v, enum nat_code code);

/* Stable JSON words ("port-restricted-cone", "address-dependent") and the
 * human names ("Port Restricted Cone", ...). */
const char *nat_type_word(enum nat_type t);
const char *nat_type_name(enum nat_type t);
const char *nat_behavior_word(enum nat_behavior b);

#endif /* NATCHECK_NAT_H */
