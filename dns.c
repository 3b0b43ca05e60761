/*
 * dns.c - DNS queries and answers, resolv.conf and hosts (see dns.h).
 *
 * The message format is RFC 1035 section 4.1: a 12-byte header, then the
 * question, answer, authority and additional sections.  Names are
 * sequences of labels, each a length byte and that many bytes, ending in
 * a zero byte, or ending in a two-byte pointer (the top two bits set) to
 * an earlier name in the message (section 4.1.4).  Names are compared in
 * their uncompressed wire form, ASCII letters folded to lower case
 * (RFC 4343); a pointer must point strictly before the label that holds
 * it, so that no name can loop.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dns.h"

#define HDR 12

/* Header bits (RFC 1035 4.1.1). */
#define F_QR     0x8000
#define F_OPCODE 0x7800
#define F_TC     0x0200
#define F_RD     0x0100
#define F_RCODE  0x000F

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* A letter, digit, '-' or '_' (SRV owner names: "_stun._udp"). */
static int
name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/*
 * name (text) into wire form at w (DNS_WIRELEN bytes), lower case; the
 * length used, or -1 when it is no name to ask about.
 */
static int
to_wire(const char *name, uint8_t *w)
{
	size_t n = strlen(name), at = 0;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	for (size_t i = 0; i < n;) {
		size_t l = 0;

		while (i + l < n && name[i + l] != '.') {
			if (!name_char((unsigned char)name[i + l]))
				return -1;
			l++;
		}
		if (l == 0 || l > 63)
			return -1;
		w[at++] = (uint8_t)l;
		for (size_t k = 0; k < l; k++)
			w[at++] = (uint8_t)lower((unsigned char)name[i + k]);
		i += l + 1;             /* past the dot (or the end) */
	}
	w[at++] = 0;
	return (int)at;
}

int
dns_name_ok(const char *name)
{
	uint8_t w[DNS_WIRELEN + 2];

	return strlen(name) <= DNS_NAMELEN && to_wire(name, w) > 0;
}

int
dns_query(uint16_t id, const char *name, uint16_t qtype, uint8_t *buf, size_t cap)
{
	uint8_t w[DNS_WIRELEN + 2];
	int n;

	if (strlen(name) > DNS_NAMELEN || (n = to_wire(name, w)) < 0 ||
	    cap < (size_t)HDR + (size_t)n + 4)
		return -1;
	memset(buf, 0, HDR);
	put16(buf, id);
	put16(buf + 2, F_RD);
	put16(buf + 4, 1);          /* QDCOUNT */
	memcpy(buf + HDR, w, (size_t)n);
	put16(buf + HDR + n, qtype);
	put16(buf + HDR + n + 2, DNS_CLASS_IN);
	return HDR + n + 4;
}

uint16_t
dns_id(const uint8_t *msg, size_t len)
{
	return len < HDR ? 0 : get16(msg);
}

/*
 * The name at msg[*off], uncompressed into w (lower case, at most
 * DNS_WIRELEN bytes with its zero byte, *wlen set); *off moves past it
 * as it is in the record (a pointer takes two bytes).  0, or -1 when it
 * runs past the end, uses a reserved label type, points forward or to
 * itself, or grows past 255 bytes.
 */
static int
get_name(const uint8_t *msg, size_t len, size_t *off, uint8_t *w, size_t *wlen)
{
	size_t p = *off, n = 0, limit = p;   /* a pointer must go below limit */
	int jumped = 0;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return -1;
		l = msg[p];
		if ((l & 0xC0) == 0xC0) {
			size_t to;

			if (p + 1 >= len)
				return -1;
			to = (size_t)(l & 0x3F) << 8 | msg[p + 1];
			if (to >= limit)
				return -1;      /* forward, or a loop */
			if (!jumped)
				*off = p + 2;
			jumped = 1;
			limit = to;
			p = to;
			continue;
		}
		if (l & 0xC0)
			return -1;          /* 0x40 and 0x80: reserved (RFC 6891 too) */
		if (n + 1 + l > DNS_WIRELEN || p + 1 + l > len)
			return -1;
		w[n++] = l;
		if (l == 0)
			break;
		for (size_t k = 0; k < l; k++)
			w[n++] = (uint8_t)lower(msg[p + 1 + k]);
		p += 1 + l;
	}
	if (!jumped)
		*off = p + 1;
	*wlen = n;
	return 0;
}

static int
same_wire(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	return na == nb && memcmp(a, b, na) == 0;
}

/* A wire name as text ("." for the root), when it is a host name:
 * letters, digits, '-' and '_' only. */
static int
wire_text(const uint8_t *w, char *out, size_t cap)
{
	size_t n = 0;

	if (w[0] == 0) {
		if (cap < 2)
			return -1;
		memcpy(out, ".", 2);
		return 0;
	}
	for (size_t p = 0; w[p] != 0; p += 1 + w[p]) {
		for (size_t k = 1; k <= w[p]; k++) {
			if (!name_char(w[p + k]) || n + 2 >= cap)
				return -1;
			out[n++] = (char)w[p + k];
		}
		out[n++] = '.';
	}
	out[n - 1] = '\0';          /* no final dot */
	return 0;
}

/* One resource record's fixed part (RFC 1035 4.1.3), after its name. */
struct rr {
	uint8_t  owner[DNS_WIRELEN + 1];
	size_t   nowner;
	uint16_t type, class;
	size_t   rdata, rdlen;      /* msg[rdata .. rdata + rdlen) */
};

/* The record at *off; *off moves past it.  0, or a DNS_E_* status. */
static enum dns_status
get_rr(const uint8_t *msg, size_t len, size_t *off, struct rr *r)
{
	if (get_name(msg, len, off, r->owner, &r->nowner) == -1)
		return DNS_E_NAME;
	if (*off + 10 > len)
		return DNS_E_RECORD;
	r->type = get16(msg + *off);
	r->class = get16(msg + *off + 2);
	r->rdlen = get16(msg + *off + 8);
	r->rdata = *off + 10;
	if (r->rdata + r->rdlen > len)
		return DNS_E_RECORD;
	*off = r->rdata + r->rdlen;
	return DNS_ANSWER;
}

/* Walk the answer section from `start` (n records): every record must
 * parse.  With follow set, the CNAME of `cur` replaces it (once per call:
 * the caller repeats).  0, or a DNS_E_* status. */
static enum dns_status
walk(const uint8_t *msg, size_t len, size_t start, unsigned n, uint8_t *cur, size_t *ncur,
     uint16_t qtype, struct dns_answer *a, int collect)
{
	size_t off = start;
	int moved = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rr r;
		enum dns_status st = get_rr(msg, len, &off, &r);

		/* A truncated answer (TC) ends where it was cut: what came
		 * whole before that still counts. */
		if (st != DNS_ANSWER)
			return a->truncated ? DNS_ANSWER : st;
		if (r.class != DNS_CLASS_IN || !same_wire(r.owner, r.nowner, cur, *ncur))
			continue;
		if (!collect && r.type == DNS_TYPE_CNAME && qtype != DNS_TYPE_CNAME && !moved) {
			size_t p = r.rdata, nt;
			uint8_t t[DNS_WIRELEN + 1];

			if (get_name(msg, r.rdata + r.rdlen, &p, t, &nt) == -1 ||
			    p != r.rdata + r.rdlen)
				return DNS_E_RECORD;
			memcpy(cur, t, nt);
			*ncur = nt;
			moved = 1;
			continue;
		}
		if (!collect || r.type != qtype)
			continue;
		if (qtype == DNS_TYPE_A || qtype == DNS_TYPE_AAAA) {
			size_t want = qtype == DNS_TYPE_A ? 4 : 16;

			if (r.rdlen != want)
				return DNS_E_RECORD;
			if (a->naddr < DNS_MAX_ADDRS) {
				struct stun_addr *x = &a->addr[a->naddr++];

				memset(x, 0, sizeof(*x));
				x->family = qtype == DNS_TYPE_A ? 4 : 6;
				memcpy(x->addr, msg + r.rdata, want);
			}
		} else if (qtype == DNS_TYPE_SRV) {
			/* RFC 2782: priority, weight, port, target (not compressed
			 * by rule, but read as any name). */
			size_t p = r.rdata + 6, nt;
			uint8_t t[DNS_WIRELEN + 1];
			struct dns_srv *s;

			if (r.rdlen < 7 || get_name(msg, r.rdata + r.rdlen, &p, t, &nt) == -1 ||
			    p != r.rdata + r.rdlen)
				return DNS_E_RECORD;
			if (a->nsrv == DNS_MAX_SRV)
				continue;
			s = &a->srv[a->nsrv];
			if (wire_text(t, s->target, sizeof(s->target)) == -1)
				continue;       /* not a host name: left out */
			s->priority = get16(msg + r.rdata);
			s->weight = get16(msg + r.rdata + 2);
			s->port = get16(msg + r.rdata + 4);
			a->nsrv++;
		}
	}
	return DNS_ANSWER;
}

enum dns_status
dns_parse(const uint8_t *msg, size_t len, uint16_t id, const char *name, uint16_t qtype,
          struct dns_answer *a)
{
	uint8_t want[DNS_WIRELEN + 2], got[DNS_WIRELEN + 1], cur[DNS_WIRELEN + 1];
	size_t off = HDR, ngot, ncur;
	uint16_t flags;
	unsigned an;
	int nwant;
	enum dns_status st;

	memset(a, 0, sizeof(*a));
	if (len < HDR)
		return DNS_E_SHORT;
	flags = get16(msg + 2);
	if (!(flags & F_QR) || (flags & F_OPCODE) != 0)
		return DNS_E_NOT_ANSWER;
	if (get16(msg) != id)
		return DNS_E_ID;
	/* Exactly our question, echoed (RFC 1035 4.1.2; RFC 5452 section 9.1). */
	if ((nwant = to_wire(name, want)) < 0 || get16(msg + 4) != 1)
		return DNS_E_QUESTION;
	if (get_name(msg, len, &off, got, &ngot) == -1)
		return DNS_E_NAME;
	if (off + 4 > len || !same_wire(got, ngot, want, (size_t)nwant) ||
	    get16(msg + off) != qtype || get16(msg + off + 2) != DNS_CLASS_IN)
		return DNS_E_QUESTION;
	off += 4;
	a->rcode = flags & F_RCODE;
	a->truncated = (flags & F_TC) != 0;
	switch (a->rcode) {
	case 0:  break;
	case 2:  return DNS_SERVFAIL;
	case 3:  return DNS_NXDOMAIN;
	case 5:  return DNS_REFUSED;
	default: return DNS_RCODE;
	}
	an = get16(msg + 6);
	/* The alias chain first (each pass follows one CNAME), then the
	 * records of the last name in it. */
	memcpy(cur, want, (size_t)nwant);
	ncur = (size_t)nwant;
	for (int hop = 0; hop <= DNS_MAX_CHAIN; hop++) {
		uint8_t before[DNS_WIRELEN + 1];
		size_t nbefore = ncur;

		memcpy(before, cur, ncur);
		if ((st = walk(msg, len, off, an, cur, &ncur, qtype, a, 0)) != DNS_ANSWER)
			return st;
		if (same_wire(before, nbefore, cur, ncur))
			break;
	}
	if ((st = walk(msg, len, off, an, cur, &ncur, qtype, a, 1)) != DNS_ANSWER)
		return st;
	return a->naddr > 0 || a->nsrv > 0 ? DNS_ANSWER : DNS_NODATA;
}

const char *
dns_status_words(enum dns_status s)
{
	switch (s) {
	case DNS_ANSWER:       return "an answer";
	case DNS_NODATA:       return "no address";
	case DNS_NXDOMAIN:     return "no such name";
	case DNS_SERVFAIL:     return "the DNS server failed (SERVFAIL)";
	case DNS_REFUSED:      return "the DNS server refused (REFUSED)";
	case DNS_RCODE:        return "the DNS server answered with an error";
	case DNS_E_SHORT:      return "malformed answer: shorter than a header";
	case DNS_E_NOT_ANSWER: return "malformed answer: not a response";
	case DNS_E_ID:         return "malformed answer: another query's ID";
	case DNS_E_QUESTION:   return "malformed answer: not our question";
	case DNS_E_NAME:       return "malformed answer: a bad name";
	case DNS_E_RECORD:     return "malformed answer: a bad record";
	}
	return "?";
}

/* ---------------------------------------------------------------- resolv.conf */

/* The next word in line[*at .. end): its start and length (0 at the end). */
static size_t
word(const char *line, size_t end, size_t *at, const char **w)
{
	size_t i = *at, n = 0;

	while (i < end && (line[i] == ' ' || line[i] == '\t'))
		i++;
	*w = line + i;
	while (i + n < end && line[i + n] != ' ' && line[i + n] != '\t')
		n++;
	*at = i + n;
	return n;
}

static int
is_word(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(w, s, n) == 0;
}

/* "nameserver ADDR[%zone]". */
static void
conf_ns(struct dns_conf *c, const char *w, size_t n)
{
	char ip[64];
	const char *pct = memchr(w, '%', n);
	size_t nip = pct != NULL ? (size_t)(pct - w) : n;
	struct stun_addr *a;

	if (c->nns == DNS_MAX_NS || nip == 0 || nip >= sizeof(ip))
		return;
	memcpy(ip, w, nip);
	ip[nip] = '\0';
	a = &c->ns[c->nns];
	memset(a, 0, sizeof(*a));
	if (pct == NULL && inet_pton(AF_INET, ip, a->addr) == 1) {
		a->family = 4;
	} else if (inet_pton(AF_INET6, ip, a->addr) == 1) {
		a->family = 6;
		c->zone[c->nns][0] = '\0';
		if (pct != NULL) {
			size_t nz = n - nip - 1;

			if (nz == 0 || nz >= DNS_ZONELEN)
				return;
			memcpy(c->zone[c->nns], pct + 1, nz);
			c->zone[c->nns][nz] = '\0';
		}
	} else {
		return;
	}
	a->port = DNS_PORT;
	c->nns++;
}

/* "search D1 D2 ..." or "domain D": the list replaces the last one. */
static void
conf_search(struct dns_conf *c, const char *line, size_t end, size_t at, int one)
{
	const char *w;
	size_t n;

	c->nsearch = 0;
	while ((n = word(line, end, &at, &w)) > 0 && c->nsearch < DNS_MAX_SEARCH) {
		char *d = c->search[c->nsearch];

		if (n > 0 && w[n - 1] == '.')
			n--;            /* "example.org." is example.org */
		if (n == 0 || n >= DNS_NAMELEN)
			continue;
		memcpy(d, w, n);
		d[n] = '\0';
		if (!dns_name_ok(d))
			continue;
		c->nsearch++;
		if (one)
			break;
	}
}

/* "options ndots:N ..." (the rest are the C library's business). */
static void
conf_options(struct dns_conf *c, const char *line, size_t end, size_t at)
{
	const char *w;
	size_t n;

	while ((n = word(line, end, &at, &w)) > 0) {
		unsigned v = 0;
		size_t k = 6;

		if (n <= 6 || memcmp(w, "ndots:", 6) != 0)
			continue;
		for (; k < n && w[k] >= '0' && w[k] <= '9' && v < 100; k++)
			v = v * 10 + (unsigned)(w[k] - '0');
		if (k == n)
			c->ndots = v > 15 ? 15 : v;   /* glibc's cap */
	}
}

void
dns_conf_parse(const char *buf, size_t len, struct dns_conf *c)
{
	size_t start = 0;

	memset(c, 0, sizeof(*c));
	c->ndots = 1;
	while (start < len) {
		size_t end = start, at, n;
		const char *w;

		while (end < len && buf[end] != '\n')
			end++;
		/* A comment starts at '#' or ';' anywhere on the line. */
		for (size_t i = start; i < end; i++)
			if (buf[i] == '#' || buf[i] == ';' || buf[i] == '\0' || buf[i] == '\r') {
				end = i;
				break;
			}
		at = start;
		n = word(buf, end, &at, &w);
		if (is_word(w, n, "nameserver")) {
			const char *a;
			size_t na = word(buf, end, &at, &a);

			if (na > 0)
				conf_ns(c, a, na);
		} else if (is_word(w, n, "search") || is_word(w, n, "domain")) {
			conf_search(c, buf, end, at, is_word(w, n, "domain"));
		} else if (is_word(w, n, "options")) {
			conf_options(c, buf, end, at);
		}
		while (end < len && buf[end] != '\n')
			end++;
		start = end + 1;
	}
	if (c->nns == 0) {
		c->nns = 1;
		c->defaulted = 1;
		memset(&c->ns[0], 0, sizeof(c->ns[0]));
		c->ns[0].family = 4;
		c->ns[0].addr[0] = 127;
		c->ns[0].addr[3] = 1;
		c->ns[0].port = DNS_PORT;
	}
}

size_t
dns_candidates(const char *name, const struct dns_conf *c, char (*out)[DNS_NAMELEN],
               size_t cap)
{
	size_t n = strlen(name), dots = 0, k = 0;
	int self_first;

	if (n == 0 || n >= DNS_NAMELEN)
		return 0;
	if (name[n - 1] == '.') {
		if (cap == 0 || n < 2)
			return 0;
		memcpy(out[0], name, n - 1);
		out[0][n - 1] = '\0';
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		dots += name[i] == '.';
	self_first = dots >= c->ndots;
	if (self_first && k < cap)
		memcpy(out[k++], name, n + 1);
	for (size_t i = 0; i < c->nsearch && k < cap; i++) {
		size_t m = strlen(c->search[i]);

		if (n + 1 + m >= DNS_NAMELEN)
			continue;
		memcpy(out[k], name, n);
		out[k][n] = '.';
		memcpy(out[k] + n + 1, c->search[i], m + 1);
		k++;
	}
	if (!self_first && k < cap)
		memcpy(out[k++], name, n + 1);
	return k;
}

/* ---------------------------------------------------------------- hosts */

/* Is w[0..n) name, in any case, a final dot of either aside? */
static int
same_host(const char *w, size_t n, const char *name)
{
	size_t m = strlen(name);

	if (m > 0 && name[m - 1] == '.')
		m--;
	if (n > 0 && w[n - 1] == '.')
		n--;
	if (m != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)w[i]) != lower((unsigned char)name[i]))
			return 0;
	return 1;
}

int
dns_hosts_line(const char *line, size_t len, const char *name, struct stun_addr *v4,
               int *has4, struct stun_addr *v6, int *has6)
{
	size_t end = len, at = 0, n;
	const char *w;
	char ip[64];
	struct stun_addr a;

	for (size_t i = 0; i < len; i++)
		if (line[i] == '#' || line[i] == '\0' || line[i] == '\r' || line[i] == '\n') {
			end = i;
			break;
		}
	n = word(line, end, &at, &w);
	if (n == 0 || n >= sizeof(ip))
		return 0;
	memcpy(ip, w, n);
	ip[n] = '\0';
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, ip, a.addr) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, ip, a.addr) == 1)
		a.family = 6;
	else
		return 0;               /* not an address (a zone among others) */
	while ((n = word(line, end, &at, &w)) > 0) {
		if (!same_host(w, n, name))
			continue;
		if (a.family == 4 && !*has4) {
			*v4 = a;
			*has4 = 1;
		} else if (a.family == 6 && !*has6) {
			*v6 = a;
			*has6 = 1;
		}
		return 1;
	}
	return 0;
}
