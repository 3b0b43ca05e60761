/*
 * resolve.c - the stub resolver engine (see resolve.h).
 *
 * Pure: the clock comes as an argument, the IDs from the caller's random
 * source, the datagrams from the caller's sockets.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "resolve.h"

static const uint32_t retry_ms[RESOLVE_MAX_TRIES] = RESOLVE_RETRY_MS;

static const uint16_t qtypes[2] = { DNS_TYPE_A, DNS_TYPE_AAAA };

/* Open this name's queries for its current candidate. */
static void
ask(struct resolve *r, struct resolve_name *n, uint64_t now)
{
	for (int f = 0; f < 2; f++) {
		struct resolve_query *q = &n->q[f];

		memset(q, 0, sizeof(*q));
		q->open = r->cfg.want[f];
		q->start = q->next_at = now;
	}
}

static void
settle(struct resolve *r, struct resolve_name *n, enum resolve_why why, uint64_t now)
{
	n->why = why;
	n->ms = (uint32_t)(now - r->start);
	n->q[0].open = n->q[1].open = 0;
}

/*
 * After one of n's queries settled: an address of either family ends the
 * name once both are settled; "nothing here" for both moves on to the
 * next candidate; after the last one, the most telling reason.
 */
static void
review(struct resolve *r, struct resolve_name *n, uint64_t now)
{
	int answered = 0;

	if (n->why != RESOLVE_PENDING || n->q[0].open || n->q[1].open)
		return;
	for (int f = 0; f < 2; f++) {
		const struct resolve_query *q = &n->q[f];

		if (!r->cfg.want[f])
			continue;
		answered |= n->has[f];
		n->seen_nodata |= q->got == DNS_NODATA;
		n->seen_fail |= q->failed;
	}
	if (answered) {
		settle(r, n, RESOLVE_OK, now);
		return;
	}
	if (++n->at < n->ncand) {
		ask(r, n, now);
		return;
	}
	settle(r, n, n->seen_fail ? RESOLVE_FAILED : n->seen_nodata ? RESOLVE_NO_ADDRESS :
	    RESOLVE_NO_NAME, now);
}

void
resolve_init(struct resolve *r, const struct resolve_config *cfg, uint64_t now_ms)
{
	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	if (r->cfg.nnames > RESOLVE_MAX_NAMES)
		r->cfg.nnames = RESOLVE_MAX_NAMES;
	if (r->cfg.conf.nns > DNS_MAX_NS)
		r->cfg.conf.nns = DNS_MAX_NS;
	if (r->cfg.limit_ms > RESOLVE_MAX_MS)
		r->cfg.limit_ms = RESOLVE_MAX_MS;
	r->start = now_ms;
	for (size_t i = 0; i < r->cfg.nnames; i++) {
		struct resolve_name *n = &r->n[i];

		n->ncand = dns_candidates(r->cfg.names[i], &r->cfg.conf, n->cand, RESOLVE_MAX_CAND);
		if (!dns_name_ok(r->cfg.names[i]) || n->ncand == 0 || r->cfg.conf.nns == 0 ||
		    (!r->cfg.want[0] && !r->cfg.want[1])) {
			settle(r, n, RESOLVE_BAD_NAME, now_ms);
			continue;
		}
		ask(r, n, now_ms);
	}
}

/* The nameserver for q's next send: the next one in turn that has not
 * failed it, or -1. */
static int
next_ns(const struct resolve *r, const struct resolve_query *q)
{
	size_t nns = r->cfg.conf.nns;

	for (size_t k = 0; k < nns; k++) {
		size_t s = (q->nsent + k) % nns;

		if (!(q->dead & (1u << s)))
			return (int)s;
	}
	return -1;
}

/* At the limit: every open query is settled as timed out. */
static void
time_out(struct resolve *r, uint64_t now)
{
	for (size_t i = 0; i < r->cfg.nnames; i++) {
		struct resolve_name *n = &r->n[i];

		if (n->why != RESOLVE_PENDING)
			continue;
		for (int f = 0; f < 2; f++)
			if (n->q[f].open) {
				n->q[f].open = 0;
				n->q[f].timed_out = 1;
			}
		if (n->has[0] || n->has[1]) {
			settle(r, n, RESOLVE_OK, now);
			continue;
		}
		settle(r, n, n->q[0].bad + n->q[1].bad > 0 ? RESOLVE_MALFORMED : RESOLVE_TIMEOUT,
		    now);
	}
}

enum resolve_step
resolve_next(struct resolve *r, uint64_t now_ms, struct resolve_tx *tx, uint32_t *wait_ms)
{
	uint64_t wake = r->start + r->cfg.limit_ms;
	int open = 0;

	if (r->done)
		return RESOLVE_DONE;
	if (now_ms >= r->start + r->cfg.limit_ms)
		time_out(r, now_ms);
	for (size_t i = 0; i < r->cfg.nnames; i++) {
		struct resolve_name *n = &r->n[i];

		for (int f = 0; f < 2 && n->why == RESOLVE_PENDING; f++) {
			struct resolve_query *q = &n->q[f];
			uint8_t rnd[2];
			int s, len;

			if (!q->open)
				continue;
			open = 1;
			if (q->nsent == RESOLVE_MAX_TRIES)
				continue;       /* all sent: the limit ends it */
			if (now_ms < q->next_at) {
				if (q->next_at < wake)
					wake = q->next_at;
				continue;
			}
			s = next_ns(r, q);
			r->cfg.random(r->cfg.random_ctx, rnd, sizeof(rnd));
			len = dns_query((uint16_t)(rnd[0] << 8 | rnd[1]), n->cand[n->at], qtypes[f],
			    tx->buf, sizeof(tx->buf));
			if (s < 0 || len < 0) {
				/* Cannot happen (review settles a query whose servers
				 * all failed; candidates are names), but never loop. */
				q->open = 0;
				q->failed = 1;
				review(r, n, now_ms);
				return resolve_next(r, now_ms, tx, wait_ms);
			}
			q->id[q->nsent] = (uint16_t)(rnd[0] << 8 | rnd[1]);
			q->ns[q->nsent] = (uint8_t)s;
			q->nsent++;
			q->next_at = q->nsent < RESOLVE_MAX_TRIES ? q->start + retry_ms[q->nsent] : wake;
			tx->name = i;
			tx->fam = f;
			tx->ns = (size_t)s;
			tx->attempt = q->nsent;
			tx->qname = n->cand[n->at];
			tx->len = (size_t)len;
			return RESOLVE_SEND;
		}
	}
	if (!open) {
		r->done = 1;
		return RESOLVE_DONE;
	}
	*wait_ms = (uint32_t)(wake > now_ms ? wake - now_ms : 0);
	return RESOLVE_WAIT;
}

/* q is done with nameserver s (detail says why); the next one is asked at
 * once, or, when none is left, q has failed. */
static void
ns_failed(struct resolve *r, struct resolve_name *n, struct resolve_query *q, size_t s,
          const char *why, uint64_t now)
{
	char ip[ADDR_STRLEN];

	q->dead |= 1u << s;
	snprintf(n->detail, sizeof(n->detail), "DNS server %s: %s",
	    addr_fmt_ip(&r->cfg.conf.ns[s], ip, sizeof(ip)), why);
	if (next_ns(r, q) >= 0) {
		q->next_at = now;
		return;
	}
	q->open = 0;
	q->failed = 1;
	review(r, n, now);
}

/* The query of (name, fam), when it is open and s is a nameserver. */
static struct resolve_query *
query_of(struct resolve *r, size_t name, int fam, size_t s)
{
	if (name >= r->cfg.nnames || fam < 0 || fam > 1 || s >= r->cfg.conf.nns ||
	    r->n[name].why != RESOLVE_PENDING || !r->n[name].q[fam].open)
		return NULL;
	return &r->n[name].q[fam];
}

void
resolve_input(struct resolve *r, uint64_t now_ms, size_t name, int fam, size_t ns,
              const struct stun_addr *from, const uint8_t *buf, size_t len)
{
	struct resolve_query *q = query_of(r, name, fam, ns);
	struct resolve_name *n = &r->n[name];
	struct dns_answer a;
	enum dns_status st;
	uint16_t id = dns_id(buf, len);
	size_t k;

	if (q == NULL || !addr_eq(from, &r->cfg.conf.ns[ns]))
		return;
	for (k = 0; k < q->nsent; k++)
		if (q->id[k] == id && q->ns[k] == ns)
			break;
	if (k == q->nsent)
		return;                 /* no send of this query has that ID */
	st = dns_parse(buf, len, id, n->cand[n->at], qtypes[fam], &a);
	switch (st) {
	case DNS_ANSWER:
		n->has[fam] = 1;
		n->addr[fam] = a.addr[0];
		break;
	case DNS_NODATA:
		if (a.truncated) {
			/* Cut before any record: only TCP would tell (not done). */
			ns_failed(r, n, q, ns, "answer truncated (DNS over TCP is not used)", now_ms);
			return;
		}
		break;
	case DNS_NXDOMAIN:
		break;
	case DNS_SERVFAIL:
	case DNS_REFUSED:
	case DNS_RCODE:
		ns_failed(r, n, q, ns, dns_status_words(st), now_ms);
		return;
	default:
		q->bad++;
		q->bad_kind = st;
		return;
	}
	q->got = st;
	q->open = 0;
	review(r, n, now_ms);
}

void
resolve_unreachable(struct resolve *r, uint64_t now_ms, size_t name, int fam, size_t ns,
                    const char *why)
{
	struct resolve_query *q = query_of(r, name, fam, ns);

	if (q != NULL)
		ns_failed(r, &r->n[name], q, ns, why, now_ms);
}

const char *
resolve_why_text(const struct resolve *r, size_t i, char *buf, size_t len)
{
	const struct resolve_name *n = &r->n[i];
	const int *w = r->cfg.want;
	char ip[ADDR_STRLEN];

	if (len == 0)
		return buf;
	switch (n->why) {
	case RESOLVE_OK:
	case RESOLVE_PENDING:
		buf[0] = '\0';
		break;
	case RESOLVE_NO_NAME:
		snprintf(buf, len, "no such name");
		break;
	case RESOLVE_NO_ADDRESS:
		snprintf(buf, len, "no %s address", w[0] && w[1] ? "IPv4 or IPv6" :
		    w[0] ? "IPv4" : "IPv6");
		break;
	case RESOLVE_FAILED:
		snprintf(buf, len, "%s", n->detail);
		break;
	case RESOLVE_TIMEOUT:
		snprintf(buf, len, "no answer from the DNS server%s %s%s in %.1f s",
		    r->cfg.conf.nns > 1 ? "s" : "",
		    addr_fmt_ip(&r->cfg.conf.ns[0], ip, sizeof(ip)),
		    r->cfg.conf.nns > 1 ? " and others" : "", r->cfg.limit_ms / 1000.0);
		break;
	case RESOLVE_MALFORMED:
		snprintf(buf, len, "only malformed answers from the DNS server (%s)",
		    dns_status_words(n->q[0].bad > 0 ? n->q[0].bad_kind : n->q[1].bad_kind));
		break;
	case RESOLVE_BAD_NAME:
		snprintf(buf, len, "not a host name");
		break;
	}
	return buf;
}
