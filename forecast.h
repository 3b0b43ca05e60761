/*
 * forecast.h - can two hosts reach each other directly over UDP?  Pure.
 *
 * The model is UDP hole punching through a rendezvous server (RFC 5128
 * section 3.3) over the behaviours RFC 4787 names.  Each host learns the
 * other's public address from the server; both then send to it, and each
 * answers the source it hears.  What a peer can know of a host's public
 * endpoint towards it:
 *   - no NAT, or endpoint-independent mapping (RFC 4787 REQ-1): exactly
 *     the endpoint the server saw;
 *   - a dependent mapping with sequential allocation: the address, and the
 *     port only by predicting the next one (RFC 5128 section 3.5), which
 *     other traffic through the NAT can spoil;
 *   - a dependent mapping with random allocation: the address, not the
 *     port;
 *   - a dependent mapping that keeps ports: not even the address (a mapping
 *     with the same port is a new one only if its address changed: an
 *     "arbitrary" address pool, RFC 4787 section 4.1).
 * The paths, in the order they are tried:
 *   1. both endpoints known exactly: both send at once, and each one's
 *      first datagram opens its own filter for the other;
 *   2. one endpoint known exactly: the other host's datagrams come from an
 *      endpoint nobody could know, so the known host's filter decides.
 *      Endpoint-independent filtering admits anything: the other sends
 *      first and is answered where it came from.  Address-dependent
 *      filtering admits the other's address once the known host has sent
 *      to it, if that address is known.  This path needs no prediction,
 *      so a sequential NAT is never harder to reach than a random one;
 *   3. both endpoints known or predictable: both send at once, to the
 *      predicted ports where needed;
 *   4. as 2, with the answering host's own port predicted.
 * Otherwise a relay (TURN) is needed, or, when a filtering behaviour that
 * decides is unknown, the forecast cannot tell.  tests/lab/pair.sh checks
 * every pair of the lab's NATs against a real punch.
 *
 * forecast_parse() reads a saved `natcheck --json` result.  The file is
 * untrusted input: its length is capped, the whole text must be valid
 * JSON (nesting capped), duplicate keys are rejected, and every value
 * used must be one of the words natcheck writes.
 */
#ifndef NATCHECK_FORECAST_H
#define NATCHECK_FORECAST_H

#include <stddef.h>

#include "nat.h"
#include "ports.h"

#define FORECAST_JSON_MAX   (1u << 20)  /* bytes of a --pair file */
#define FORECAST_JSON_DEPTH 32          /* nesting of arrays and objects */
#define FORECAST_IP_LEN     64
#define FORECAST_WHY_LEN    320

/* What the forecast needs to know about one host. */
struct forecast_host {
	enum nat_type type;
	int      nat;                       /* 1, 0, -1 unknown */
	enum nat_behavior mapping, filtering;
	int      hairpinning;               /* 1, 0, -1 unknown */
	enum ports_alloc allocation;
	int      has_delta;
	int      delta;
	char     public_ip[FORECAST_IP_LEN];/* "" when unknown */
};

enum forecast_path {
	FORECAST_UNKNOWN = 0,       /* the behaviours needed are not known */
	FORECAST_DIRECT,            /* hole punching works */
	FORECAST_DIRECT_PREDICT,    /* only with port prediction (fragile) */
	FORECAST_RELAY              /* a relay (TURN) is needed */
};

enum forecast_first {
	FORECAST_FIRST_NONE = 0,    /* no direct path, or unknown */
	FORECAST_FIRST_BOTH,        /* both send at once */
	FORECAST_FIRST_A,           /* A first (to open its filter), then B */
	FORECAST_FIRST_B            /* B first; A answers where it came from */
};

struct forecast_pair {
	enum forecast_path path;
	enum forecast_first first;
	int      predict_a, predict_b;      /* whose next port must be predicted */
	char     why[FORECAST_WHY_LEN];
};

/* The peer classes forecast_classes() covers, in this order. */
#define FORECAST_NCLASSES 7

struct forecast_class {
	const char *name;           /* "full-cone", "symmetric-random", ... */
	struct forecast_pair pair;  /* this host as A, the class as B */
};

/* How hosts a and b can connect (see the top of this file). */
void forecast_pair(const struct forecast_host *a, const struct forecast_host *b,
                   struct forecast_pair *out);

/* This host against each typical peer class. */
void forecast_classes(const struct forecast_host *self,
                      struct forecast_class out[FORECAST_NCLASSES]);

/* A host from a verdict and a port analysis (ports may be NULL). */
void forecast_host_from(const struct nat_verdict *v, const struct ports_result *ports,
                        struct forecast_host *h);

/* Parse a saved --json result buf[0..len).  Returns 0, or -1 with a
 * one-line reason in err (errlen bytes). */
int forecast_parse(const char *buf, size_t len, struct forecast_host *h,
                   char *err, size_t errlen);

/* Stable words: "direct", "direct-with-port-prediction", "relay",
 * "unknown"; "both", "a", "b", "none". */
const char *forecast_path_word(enum forecast_path p);
const char *forecast_first_word(enum forecast_first f);

/* The exit status of --pair for a path (see EXIT STATUS in natcheck.1). */
int forecast_exit_code(enum forecast_path p);

#define FORECAST_EXIT_DIRECT   0
#define FORECAST_EXIT_PREDICT  20
#define FORECAST_EXIT_RELAY    21
#define FORECAST_EXIT_UNKNOWN  22

#endif /* NATCHECK_FORECAST_H */
