/*
 * ports.h - how a NAT allocates public ports, from the mappings a run saw.
 * Pure: no I/O.
 *
 * Every distinct mapping the detector made (one per local socket on an
 * endpoint-independent NAT, one per socket and destination on a dependent
 * one) is a sample: its local port and the public port the server saw.
 * From them, in the order the mappings were created:
 *   preservation  every public port equals its local port;
 *   parity        every public port has its local port's parity (RFC 4787
 *                 REQ-4);
 *   allocation    "preserving", "sequential" (successive new mappings step
 *                 by a small positive delta), "random", or "unknown" when
 *                 there are too few samples to tell.
 * A verdict is only given when chance cannot explain it (see ports.c).
 */
#ifndef NATCHECK_PORTS_H
#define NATCHECK_PORTS_H

#include <stddef.h>
#include <stdint.h>

#include "probe.h"

#define PORTS_MAX_SAMPLES 64
/* A delta up to this counts as sequential (other hosts behind the NAT may
 * take ports between two of ours). */
#define PORTS_SEQ_MAX_DELTA 64
/* Samples needed for a "sequential" or "random" verdict (two deltas), for
 * "preserving", and for parity "true" without preservation. */
#define PORTS_MIN_SEQ      3
#define PORTS_MIN_PRESERVE 2
#define PORTS_MIN_PARITY   5

enum ports_alloc {
	PORTS_UNKNOWN = 0,
	PORTS_PRESERVING,
	PORTS_SEQUENTIAL,
	PORTS_RANDOM
};

/* One mapping.  `order` is when it was created (the first send that made
 * it, in engine order); smaller is earlier. */
struct ports_sample {
	int      sock;
	uint16_t local_port;
	uint16_t mapped_port;
	uint64_t order;
};

struct ports_result {
	size_t   samples;           /* distinct mappings */
	int      preservation;      /* 1, 0, or -1 unknown */
	int      parity;            /* 1, 0, or -1 unknown */
	enum ports_alloc allocation;
	int      has_delta;
	int      delta;             /* the most frequent step between successive
	                               new mappings (sequential only) */
	uint16_t min_port, max_port;/* the public ports seen (samples > 0) */
};

/* Collect the samples of a finished run into s[0..cap); returns how many.
 * Only answered tests whose mapped address has the primary mapped IP count,
 * and one sample per distinct (socket, public port). */
size_t ports_samples(const struct probe *p, struct ports_sample *s, size_t cap);

/* Add one sample to s[0..*n) (cap entries) unless it duplicates a mapping
 * already there; returns 1 if added. */
int ports_add(struct ports_sample *s, size_t *n, size_t cap, const struct ports_sample *x);

/* Analyse s[0..n) (in any order; it is sorted by `order` in place). */
void ports_analyze(struct ports_sample *s, size_t n, struct ports_result *r);

/* Stable words: "preserving", "sequential", "random", "unknown". */
const char *ports_alloc_word(enum ports_alloc a);

#endif /* NATCHECK_PORTS_H */
