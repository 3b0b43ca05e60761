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
#include "stun.h"

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

/*
 * A tiny engine for a few more samples, when the run's own were too few to
 * tell the allocation: PORTS_EXTRA_NSOCK fresh sockets each send one
 * Binding request to one destination, all at once (one round trip); each
 * answer is one more mapping.  Same contract as probe.h and lifetime.h.
 */
#define PORTS_EXTRA_NSOCK 3
#define PORTS_EXTRA_SENDS 4         /* per socket, PORTS_EXTRA_IV_MS apart */
#define PORTS_EXTRA_IV_MS 100

struct ports_extra {
	struct stun_addr dst;
	uint32_t wait_ms;           /* after the last send: a round trip and a margin */
	void   (*random)(void *ctx, uint8_t *buf, size_t len);
	void    *random_ctx;
	uint64_t start;
	int      done;
	uint16_t local[PORTS_EXTRA_NSOCK];
	int      got[PORTS_EXTRA_NSOCK];
	uint16_t mapped[PORTS_EXTRA_NSOCK];
	size_t   nsent[PORTS_EXTRA_NSOCK];
	uint8_t  tids[PORTS_EXTRA_NSOCK][PORTS_EXTRA_SENDS][STUN_TID_LEN];
	uint64_t sent_at[PORTS_EXTRA_NSOCK][PORTS_EXTRA_SENDS];
};

enum ports_extra_step { PORTS_EXTRA_SEND, PORTS_EXTRA_WAIT, PORTS_EXTRA_DONE };

struct ports_extra_tx {
	int      sock;
	struct stun_addr to;
	size_t   len;
	uint8_t  buf[64];
};

/* Start at now_ms: the sockets' local addresses, the destination, the
 * round trip the run measured (0: unknown). */
void ports_extra_init(struct ports_extra *x, const struct stun_addr local[PORTS_EXTRA_NSOCK],
                      const struct stun_addr *dst, uint32_t rtt_ms,
                      void (*random)(void *ctx, uint8_t *buf, size_t len), void *random_ctx,
                      uint64_t now_ms);
enum ports_extra_step ports_extra_next(struct ports_extra *x, uint64_t now_ms,
                                       struct ports_extra_tx *tx, uint32_t *wait_ms);
void ports_extra_input(struct ports_extra *x, uint64_t now_ms, int sock,
                       const struct stun_addr *from, const uint8_t *buf, size_t len);

/* Add the answered sockets' mappings to s[0..*n) (cap entries), ordered
 * after every sample already there. */
void ports_extra_samples(const struct ports_extra *x, struct ports_sample *s, size_t *n,
                         size_t cap);

/* Stable words: "preserving", "sequential", "random", "unknown". */
const char *ports_alloc_word(enum ports_alloc a);

#endif /* NATCHECK_PORTS_H */
