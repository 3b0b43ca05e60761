/*
 * test_dns.c - the DNS codec, resolv.conf and hosts: queries byte for
 * byte, answers built by hand (compression, aliases, every error), each
 * message copied to end at a guard page so that a read past it crashes.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "dns.h"
#include "tests/support/edge.h"

/* A message under construction. */
struct msg {
	uint8_t b[2048];
	size_t  n;
};

static void
put(struct msg *m, const void *p, size_t n)
{
	cr_assert(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void
put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(m, b, 2);
}

/* A name in wire form from "a.b" text (no compression). */
static void
put_name(struct msg *m, const char *s)
{
	while (*s != '\0') {
		size_t l = strcspn(s, ".");
		uint8_t len = (uint8_t)l;

		put(m, &len, 1);
		put(m, s, l);
		s += l + (s[l] == '.');
	}
	put(m, "", 1);
}

static void
put_ptr(struct msg *m, uint16_t to)
{
	put16(m, (uint16_t)(0xC000 | to));
}

/* Header and the question (name, type) echoed; flags as given. */
static void
head(struct msg *m, uint16_t id, uint16_t flags, uint16_t an, const char *q, uint16_t qtype)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, 1);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
	put_name(m, q);
	put16(m, qtype);
	put16(m, DNS_CLASS_IN);
}

/* A record's fixed part after its name, then rdata. */
static void
rr(struct msg *m, uint16_t type, const void *rdata, uint16_t rdlen)
{
	put16(m, type);
	put16(m, DNS_CLASS_IN);
	put16(m, 0);
	put16(m, 300);              /* TTL */
	put16(m, rdlen);
	put(m, rdata, rdlen);
}

#define QR 0x8180               /* response, RD, RA, RCODE 0 */

static enum dns_status
parse(const struct msg *m, uint16_t id, const char *q, uint16_t qtype, struct dns_answer *a)
{
	return dns_parse(at_edge(m->b, m->n), m->n, id, q, qtype, a);
}

Test(dns, query_bytes)
{
	uint8_t b[DNS_QUERY_MAX];
	static const uint8_t want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		4, 's', 't', 'u', 'n', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0,
		0, 28, 0, 1,
	};

	cr_assert_eq(dns_query(0x1234, "STUN.example.org.", DNS_TYPE_AAAA, b, sizeof(b)),
	    (int)sizeof(want));
	cr_assert(memcmp(b, want, sizeof(want)) == 0, "RD set, one question, name in lower case");
	cr_assert_eq(dns_query(1, "_stun._udp.example.org", DNS_TYPE_SRV, b, sizeof(b)), 40);
	cr_assert_eq(dns_query(1, "a.b", DNS_TYPE_A, b, 12 + 5 + 4 - 1), -1, "too small a buffer");
}

Test(dns, names_refused)
{
	uint8_t b[DNS_QUERY_MAX];
	char long_label[80], long_name[300];

	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	for (size_t i = 0; i < 254; i += 2) {
		long_name[i] = 'a';
		long_name[i + 1] = '.';
	}
	long_name[254] = 'a';
	long_name[255] = '\0';
	cr_assert_eq(dns_query(1, "", DNS_TYPE_A, b, sizeof(b)), -1);
	cr_assert_eq(dns_query(1, ".", DNS_TYPE_A, b, sizeof(b)), -1);
	cr_assert_eq(dns_query(1, "a..b", DNS_TYPE_A, b, sizeof(b)), -1, "an empty label");
	cr_assert_eq(dns_query(1, ".a", DNS_TYPE_A, b, sizeof(b)), -1);
	cr_assert_eq(dns_query(1, long_label, DNS_TYPE_A, b, sizeof(b)), -1, "64-byte label");
	long_label[63] = '\0';
	cr_assert_gt(dns_query(1, long_label, DNS_TYPE_A, b, sizeof(b)), 0, "63 is fine");
	cr_assert_eq(dns_query(1, long_name, DNS_TYPE_A, b, sizeof(b)), -1, "255 characters");
	cr_assert_eq(dns_query(1, "a b", DNS_TYPE_A, b, sizeof(b)), -1);
	cr_assert_eq(dns_query(1, "a%25b", DNS_TYPE_A, b, sizeof(b)), -1);
	cr_assert_eq(dns_query(1, "fe80::1", DNS_TYPE_A, b, sizeof(b)), -1);
	cr_assert(dns_name_ok("stun.example.org"));
	cr_assert(!dns_name_ok("a\x80.org"));
}

Test(dns, answer_a_and_aaaa)
{
	struct msg m;
	struct dns_answer a;
	static const uint8_t v4[4] = { 192, 0, 2, 1 }, v4b[4] = { 192, 0, 2, 2 };
	uint8_t v6[16];

	inet_pton(AF_INET6, "2001:db8::7", v6);
	head(&m, 7, QR, 2, "stun.example.org", DNS_TYPE_A);
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_A, v4, 4);
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_A, v4b, 4);
	cr_assert_eq(parse(&m, 7, "stun.example.org", DNS_TYPE_A, &a), DNS_ANSWER);
	cr_assert_eq(a.naddr, 2);
	cr_assert_eq(a.addr[0].family, 4);
	cr_assert(memcmp(a.addr[0].addr, v4, 4) == 0, "in the order given");
	cr_assert_eq(a.addr[0].port, 0);
	/* The question matches in any case (RFC 4343). */
	cr_assert_eq(parse(&m, 7, "STUN.Example.ORG.", DNS_TYPE_A, &a), DNS_ANSWER);

	head(&m, 8, QR, 1, "stun.example.org", DNS_TYPE_AAAA);
	put_name(&m, "STUN.example.ORG");                   /* owner without compression */
	rr(&m, DNS_TYPE_AAAA, v6, 16);
	cr_assert_eq(parse(&m, 8, "stun.example.org", DNS_TYPE_AAAA, &a), DNS_ANSWER);
	cr_assert_eq(a.naddr, 1);
	cr_assert_eq(a.addr[0].family, 6);
	cr_assert(memcmp(a.addr[0].addr, v6, 16) == 0);
}

Test(dns, aliases)
{
	struct msg m;
	struct dns_answer a;
	static const uint8_t v4[4] = { 198, 51, 100, 9 }, other[4] = { 203, 0, 113, 1 };
	size_t target;

	/* stun.example.org CNAME edge.cdn.example, which has the address;
	 * an A record of an unrelated name is ignored. */
	head(&m, 9, QR, 3, "stun.example.org", DNS_TYPE_A);
	put_name(&m, "unrelated.example");
	rr(&m, DNS_TYPE_A, other, 4);
	put_ptr(&m, 12);
	put16(&m, DNS_TYPE_CNAME);
	put16(&m, DNS_CLASS_IN);
	put16(&m, 0);
	put16(&m, 60);
	put16(&m, 18);
	target = m.n;
	put_name(&m, "edge.cdn.example");                   /* 18 bytes */
	put_ptr(&m, (uint16_t)target);
	rr(&m, DNS_TYPE_A, v4, 4);
	cr_assert_eq(parse(&m, 9, "stun.example.org", DNS_TYPE_A, &a), DNS_ANSWER);
	cr_assert_eq(a.naddr, 1);
	cr_assert(memcmp(a.addr[0].addr, v4, 4) == 0, "the alias's address, not the stranger's");

	/* An alias with no address in the answer: no data. */
	head(&m, 10, QR, 1, "stun.example.org", DNS_TYPE_A);
	put_ptr(&m, 12);
	put16(&m, DNS_TYPE_CNAME);
	put16(&m, DNS_CLASS_IN);
	put16(&m, 0);
	put16(&m, 60);
	put16(&m, 18);
	put_name(&m, "edge.cdn.example");
	cr_assert_eq(parse(&m, 10, "stun.example.org", DNS_TYPE_A, &a), DNS_NODATA);

	/* A loop of aliases ends, with no data. */
	head(&m, 11, QR, 2, "a.example", DNS_TYPE_A);
	put_ptr(&m, 12);
	put16(&m, DNS_TYPE_CNAME);
	put16(&m, DNS_CLASS_IN);
	put16(&m, 0);
	put16(&m, 60);
	put16(&m, 11);
	target = m.n;
	put_name(&m, "b.example");                          /* 11 bytes */
	put_ptr(&m, (uint16_t)target);
	put16(&m, DNS_TYPE_CNAME);
	put16(&m, DNS_CLASS_IN);
	put16(&m, 0);
	put16(&m, 60);
	put16(&m, 2);
	put_ptr(&m, 12);
	cr_assert_eq(parse(&m, 11, "a.example", DNS_TYPE_A, &a), DNS_NODATA);
}

Test(dns, rcodes_and_nodata)
{
	struct msg m;
	struct dns_answer a;

	head(&m, 1, QR | 3, 0, "no.example", DNS_TYPE_A);
	cr_assert_eq(parse(&m, 1, "no.example", DNS_TYPE_A, &a), DNS_NXDOMAIN);
	head(&m, 1, QR | 2, 0, "no.example", DNS_TYPE_A);
	cr_assert_eq(parse(&m, 1, "no.example", DNS_TYPE_A, &a), DNS_SERVFAIL);
	head(&m, 1, QR | 5, 0, "no.example", DNS_TYPE_A);
	cr_assert_eq(parse(&m, 1, "no.example", DNS_TYPE_A, &a), DNS_REFUSED);
	head(&m, 1, QR | 4, 0, "no.example", DNS_TYPE_A);
	cr_assert_eq(parse(&m, 1, "no.example", DNS_TYPE_A, &a), DNS_RCODE);
	cr_assert_eq(a.rcode, 4);
	head(&m, 1, QR, 0, "v4only.example", DNS_TYPE_AAAA);
	cr_assert_eq(parse(&m, 1, "v4only.example", DNS_TYPE_AAAA, &a), DNS_NODATA);
	cr_assert_str_eq(dns_status_words(DNS_NXDOMAIN), "no such name");
}

Test(dns, not_ours)
{
	struct msg m;
	struct dns_answer a;
	static const uint8_t v4[4] = { 192, 0, 2, 1 };

	head(&m, 5, QR, 1, "stun.example.org", DNS_TYPE_A);
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_A, v4, 4);
	cr_assert_eq(parse(&m, 6, "stun.example.org", DNS_TYPE_A, &a), DNS_E_ID);
	cr_assert_eq(parse(&m, 5, "evil.example.org", DNS_TYPE_A, &a), DNS_E_QUESTION);
	cr_assert_eq(parse(&m, 5, "stun.example.org", DNS_TYPE_AAAA, &a), DNS_E_QUESTION);
	cr_assert_eq(a.naddr, 0, "nothing is kept from an answer that is not ours");
	m.b[2] &= 0x7F;                                     /* QR 0: a query */
	cr_assert_eq(parse(&m, 5, "stun.example.org", DNS_TYPE_A, &a), DNS_E_NOT_ANSWER);
	m.b[2] = 0x80 | 0x10;                               /* opcode 2 */
	cr_assert_eq(parse(&m, 5, "stun.example.org", DNS_TYPE_A, &a), DNS_E_NOT_ANSWER);
	m.n = 11;
	cr_assert_eq(parse(&m, 5, "stun.example.org", DNS_TYPE_A, &a), DNS_E_SHORT);
	cr_assert_eq(dns_id(m.b, 11), 0);
	/* Two questions. */
	head(&m, 5, QR, 0, "stun.example.org", DNS_TYPE_A);
	m.b[5] = 2;
	cr_assert_eq(parse(&m, 5, "stun.example.org", DNS_TYPE_A, &a), DNS_E_QUESTION);
	/* Class CH. */
	head(&m, 5, QR, 0, "stun.example.org", DNS_TYPE_A);
	m.b[m.n - 1] = 3;
	cr_assert_eq(parse(&m, 5, "stun.example.org", DNS_TYPE_A, &a), DNS_E_QUESTION);
}

Test(dns, malformed)
{
	struct msg m;
	struct dns_answer a;
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	size_t end;

	/* A record that runs past the end. */
	head(&m, 1, QR, 1, "x.example", DNS_TYPE_A);
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_A, v4, 4);
	end = m.n;
	m.n = end - 1;
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_E_RECORD);
	/* ... unless the answer says it was truncated (TC): then what came
	 * whole counts, and nothing came whole here. */
	m.b[2] |= 0x02;
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_NODATA);
	cr_assert(a.truncated);
	/* An A record of 5 bytes, an AAAA of 4. */
	head(&m, 1, QR, 1, "x.example", DNS_TYPE_A);
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_A, "\1\2\3\4\5", 5);
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_E_RECORD);
	head(&m, 1, QR, 1, "x.example", DNS_TYPE_AAAA);
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_AAAA, v4, 4);
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_AAAA, &a), DNS_E_RECORD);
	/* More records announced than there are. */
	head(&m, 1, QR, 2, "x.example", DNS_TYPE_A);
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_A, v4, 4);
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_E_NAME);
	/* A pointer to itself, forward, past the end; a reserved label type. */
	head(&m, 1, QR, 1, "x.example", DNS_TYPE_A);
	put_ptr(&m, (uint16_t)m.n);
	rr(&m, DNS_TYPE_A, v4, 4);
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_E_NAME, "a loop");
	head(&m, 1, QR, 1, "x.example", DNS_TYPE_A);
	put_ptr(&m, (uint16_t)(m.n + 2));
	rr(&m, DNS_TYPE_A, v4, 4);
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_E_NAME, "forward");
	head(&m, 1, QR, 1, "x.example", DNS_TYPE_A);
	put(&m, "\x40", 1);
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_E_NAME, "label type 0x40");
	head(&m, 1, QR, 1, "x.example", DNS_TYPE_A);
	put(&m, "\xC0", 1);
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_E_NAME, "half a pointer");
	/* A question name cut short. */
	m.n = 14;
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_E_NAME);
}

Test(dns, name_too_long)
{
	struct msg m;
	struct dns_answer a;
	size_t prev, rdlen_at;

	/* Labels chained by pointers, each a step back, to past 255 bytes,
	 * inside the data of a record of another type (which is skipped);
	 * then a record whose owner is the last of them. */
	head(&m, 1, QR, 2, "x.example", DNS_TYPE_A);
	put_ptr(&m, 12);
	put16(&m, 16);                                      /* TXT */
	put16(&m, DNS_CLASS_IN);
	put16(&m, 0);
	put16(&m, 60);
	rdlen_at = m.n;
	put16(&m, 0);
	prev = m.n;
	put(&m, "\x3f", 1);
	for (int i = 0; i < 63; i++)
		put(&m, "a", 1);
	put(&m, "", 1);
	for (int k = 0; k < 4; k++) {
		size_t here = m.n;

		put(&m, "\x3f", 1);
		for (int i = 0; i < 63; i++)
			put(&m, "b", 1);
		put_ptr(&m, (uint16_t)prev);
		prev = here;
	}
	m.b[rdlen_at] = (uint8_t)((m.n - rdlen_at - 2) >> 8);
	m.b[rdlen_at + 1] = (uint8_t)(m.n - rdlen_at - 2);
	put_ptr(&m, (uint16_t)prev);
	rr(&m, DNS_TYPE_A, "\1\2\3\4", 4);
	cr_assert_eq(parse(&m, 1, "x.example", DNS_TYPE_A, &a), DNS_E_NAME);
}

Test(dns, srv)
{
	struct msg m;
	struct dns_answer a;
	struct msg rd;

	head(&m, 3, QR, 2, "_stun._udp.example.org", DNS_TYPE_SRV);
	rd.n = 0;
	put16(&rd, 10);
	put16(&rd, 5);
	put16(&rd, 3478);
	put_name(&rd, "stun1.example.org");
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_SRV, rd.b, (uint16_t)rd.n);
	rd.n = 0;
	put16(&rd, 20);
	put16(&rd, 0);
	put16(&rd, 3479);
	put_name(&rd, "bad name.example");                  /* not a host name: left out */
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_SRV, rd.b, (uint16_t)rd.n);
	cr_assert_eq(parse(&m, 3, "_stun._udp.example.org", DNS_TYPE_SRV, &a), DNS_ANSWER);
	cr_assert_eq(a.nsrv, 1);
	cr_assert_eq(a.srv[0].priority, 10);
	cr_assert_eq(a.srv[0].weight, 5);
	cr_assert_eq(a.srv[0].port, 3478);
	cr_assert_str_eq(a.srv[0].target, "stun1.example.org");
	/* "." is "no such service here" (RFC 2782). */
	head(&m, 4, QR, 1, "_stun._udp.example.org", DNS_TYPE_SRV);
	rd.n = 0;
	put16(&rd, 0);
	put16(&rd, 0);
	put16(&rd, 0);
	put(&rd, "", 1);
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_SRV, rd.b, (uint16_t)rd.n);
	cr_assert_eq(parse(&m, 4, "_stun._udp.example.org", DNS_TYPE_SRV, &a), DNS_ANSWER);
	cr_assert_str_eq(a.srv[0].target, ".");
	/* Too short to hold a target. */
	head(&m, 4, QR, 1, "_stun._udp.example.org", DNS_TYPE_SRV);
	put_ptr(&m, 12);
	rr(&m, DNS_TYPE_SRV, "\0\0\0\0\0\0", 6);
	cr_assert_eq(parse(&m, 4, "_stun._udp.example.org", DNS_TYPE_SRV, &a), DNS_E_RECORD);
}

static const char *
ip(const struct stun_addr *a)
{
	static char b[64];

	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, b, sizeof(b));
	return b;
}

#define CONF(c, s) dns_conf_parse((const char *)at_edge(s, strlen(s)), strlen(s), c)

Test(dns, resolv_conf)
{
	struct dns_conf c;

	CONF(&c, "# generated\nnameserver 10.255.255.53\n");
	cr_assert_eq(c.nns, 1);
	cr_assert_str_eq(ip(&c.ns[0]), "10.255.255.53");
	cr_assert_eq(c.ns[0].port, 53);
	cr_assert_eq(c.ndots, 1);
	cr_assert(!c.defaulted);
	CONF(&c, "nameserver 127.0.0.53\r\noptions edns0 trust-ad ndots:3\nsearch lan example.org.\n");
	cr_assert_eq(c.nns, 1);
	cr_assert_eq(c.ndots, 3);
	cr_assert_eq(c.nsearch, 2);
	cr_assert_str_eq(c.search[1], "example.org", "a final dot dropped");
	CONF(&c, "nameserver 192.0.2.1\nnameserver 2001:db8::53\nnameserver fe80::1%eth0\n"
	    "nameserver 192.0.2.4\n");
	cr_assert_eq(c.nns, 3, "at most three");
	cr_assert_eq(c.ns[1].family, 6);
	cr_assert_str_eq(c.zone[2], "eth0");
	cr_assert_str_eq(ip(&c.ns[2]), "fe80::1");
	CONF(&c, "search a.example b.example\ndomain c.example\n");
	cr_assert_eq(c.nsearch, 1, "the last of search and domain wins");
	cr_assert_str_eq(c.search[0], "c.example");
	cr_assert(c.defaulted, "no nameserver: the local one");
	cr_assert_str_eq(ip(&c.ns[0]), "127.0.0.1");
	CONF(&c, "nameserver not-an-address\n;nameserver 192.0.2.9\nnameserver  192.0.2.8 # x\n"
	    "options ndots:99 ndots:x\nnameserver 1.2.3.4%eth0\n");
	cr_assert_eq(c.nns, 1);
	cr_assert_str_eq(ip(&c.ns[0]), "192.0.2.8");
	cr_assert_eq(c.ndots, 15, "capped as glibc does");
	CONF(&c, "");
	cr_assert(c.defaulted);
	dns_conf_parse("nameserver 192.0.2.1", 9, &c);   /* cut inside the word */
	cr_assert(c.defaulted, "nothing read past len");
}

Test(dns, candidates)
{
	struct dns_conf c;
	char out[8][DNS_NAMELEN];

	CONF(&c, "search lan corp.example\n");
	cr_assert_eq(dns_candidates("stun.example.org", &c, out, 8), 3);
	cr_assert_str_eq(out[0], "stun.example.org", "enough dots: itself first");
	cr_assert_str_eq(out[1], "stun.example.org.lan");
	cr_assert_eq(dns_candidates("stunbox", &c, out, 8), 3);
	cr_assert_str_eq(out[0], "stunbox.lan", "no dot: the search list first");
	cr_assert_str_eq(out[2], "stunbox");
	cr_assert_eq(dns_candidates("stun.example.org.", &c, out, 8), 1);
	cr_assert_str_eq(out[0], "stun.example.org", "a final dot: that name alone");
	cr_assert_eq(dns_candidates("stunbox", &c, out, 1), 1, "cap");
	cr_assert_eq(dns_candidates("", &c, out, 8), 0);
	cr_assert_eq(dns_candidates(".", &c, out, 8), 0);
}

Test(dns, hosts)
{
	struct stun_addr v4, v6;
	int h4 = 0, h6 = 0;
	static const char *lines[] = {
		"# comment dual.test",
		"127.0.0.1\tlocalhost",
		"  198.51.100.7 other.test Dual.Test  # the first IPv4 line wins",
		"198.51.100.8 dual.test",
		"fe80::1%eth0 dual.test",
		"2001:db8::9 dual.test.",
		"not-an-address dual.test",
	};
	int hit = 0;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		hit += dns_hosts_line((const char *)at_edge(lines[i], strlen(lines[i])), strlen(lines[i]),
		    "dual.test.", &v4, &h4, &v6, &h6);
	cr_assert_eq(hit, 3);
	cr_assert(h4 && h6);
	cr_assert_str_eq(ip(&v4), "198.51.100.7");
	cr_assert_str_eq(ip(&v6), "2001:db8::9");
	h4 = h6 = 0;
	cr_assert_eq(dns_hosts_line("127.0.0.1 localhost", 19, "local", &v4, &h4, &v6, &h6), 0,
	    "whole names only");
	cr_assert_eq(dns_hosts_line("127.0.0.1 localhost", 12, "localhost", &v4, &h4, &v6, &h6), 0,
	    "nothing read past len");
}
