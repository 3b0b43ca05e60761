/*
 * forecast.h - can two hosts reach each other directly over UDP?  Pure.
 *
 * The model is UDP hole punching through a rendezvous server (RFC 5128
 * section 3.3) over the behaviours RFC 4787 names.  Each host learns the
 * other's public address from the server; both then send to it.  A host
 * is "addressable" when the peer can know the public endpoint its
 * datagrams will come from and go to:
 *   - no NAT, or endpoint-independent mapping (RFC 4787 REQ-1): exactly;
 *   - a dependent mapping that keeps ports: the same port as towards the
 *     server (it is the local port);
 *   - a dependent mapping with sequential allocation: only by predicting
 *     the next port (RFC 5128 section 3.5), which other traffic can spoil;
 *   - a dependent mapping with random allocation: not at all.
 * Two addressable hosts connect by sending at the same time: each one's
 * first datagram opens its own filter for the other.  When one host is
 * not addressable, its datagrams arrive from a port nobody could know, so
 * the other host's filter must admit them: endpoint-independent filtering
 * admits anything, address-dependent filtering admits the peer's address
 * once it has sent anything to it.  Otherwise a relay (TURN) is needed.
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
#define FORECAST_WHY_LEN    200

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
