/*
 * test_resolve.c - the stub resolver engine in virtual time, against
 * simulated nameservers built from the real codec: every name asked at
 * once, the retry schedule, the limit, failover between nameservers, the
 * search list, and answers that must not be believed.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "resolve.h"

/* ---------------------------------------------------------------- a nameserver */

enum reply { SILENT, ADDR, NXDOMAIN, NODATA, SERVFAIL, TRUNCATED };

/* What the simulated server says about a name (candidate) and family. */
struct zone_entry {
	const char *name;
	int      fam;               /* RESOLVE_FAM_A, RESOLVE_FAM_AAAA, or -1 for both */
	enum reply reply;
	const char *ip;
};

static size_t
wire_len(const uint8_t *q)
{
	size_t n = 0;

	while (q[n] != 0)
		n += 1 + q[n];
	return n + 1;
}

static void
text_name(const uint8_t *w, char *out)
{
	size_t k = 0;

	for (size_t p = 0; w[p] != 0; p += 1 + w[p]) {
		memcpy(out + k, w + p + 1, w[p]);
		k += w[p];
		out[k++] = '.';
	}
	out[k ? k - 1 : 0] = '\0';
}

/* The answer `zone` gives to query tx (len bytes into out); 0 for silence. */
static size_t
answer(const struct zone_entry *zone, size_t nzone, const struct resolve_tx *tx, uint8_t *out)
{
	size_t ql = wire_len(tx->buf + 12), n = 12 + ql + 4;
	char name[DNS_NAMELEN];
	uint16_t qtype = (uint16_t)(tx->buf[12 + ql] << 8 | tx->buf[12 + ql + 1]);
	int fam = qtype == DNS_TYPE_A ? RESOLVE_FAM_A : RESOLVE_FAM_AAAA;
	const struct zone_entry *e = NULL;

	text_name(tx->buf + 12, name);
	for (size_t i = 0; i < nzone && e == NULL; i++)
		if (strcmp(zone[i].name, name) == 0 && (zone[i].fam == -1 || zone[i].fam == fam))
			e = &zone[i];
	if (e == NULL || e->reply == SILENT)
		return 0;
	memcpy(out, tx->buf, n);
	out[2] = 0x81;
	out[3] = 0x80;
	out[6] = out[7] = 0;
	switch (e->reply) {
	case NXDOMAIN:  out[3] |= 3; break;
	case SERVFAIL:  out[3] |= 2; break;
	case TRUNCATED: out[2] |= 0x02; break;
	case ADDR: {
		size_t alen = fam == RESOLVE_FAM_A ? 4 : 16;

		out[7] = 1;
		memcpy(out + n, "\xC0\x0C", 2);
		out[n + 2] = (uint8_t)(qtype >> 8);
		out[n + 3] = (uint8_t)qtype;
		memcpy(out + n + 4, "\x00\x01\x00\x00\x01\x2c\x00", 7);
		out[n + 11] = (uint8_t)alen;
		cr_assert(inet_pton(fam == RESOLVE_FAM_A ? AF_INET : AF_INET6, e->ip, out + n + 12) == 1);
		n += 12 + alen;
		break;
	}
	default:
		break;
	}
	return n;
}

/* ---------------------------------------------------------------- the harness */

static unsigned rnd_state = 1;

static void
test_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		rnd_state = rnd_state * 1103515245u + 12345u;
		buf[i] = (uint8_t)(rnd_state >> 16);
	}
}

static struct resolve_config
config(const char *conf_text, uint32_t limit_ms)
{
	struct resolve_config c;

	memset(&c, 0, sizeof(c));
	dns_conf_parse(conf_text, strlen(conf_text), &c.conf);
	c.want[0] = c.want[1] = 1;
	c.limit_ms = limit_ms;
	c.random = test_random;
	return c;
}

struct sent {
	uint64_t at;
	struct resolve_tx tx;
};

/* Run r to the end; each nameserver answers after rtt_ms as zones[ns]
 * says (at most 3 servers).  The sends in s[] (cap), their number in *ns;
 * returns the time the engine said DONE. */
static uint64_t
drive(struct resolve *r, uint64_t now, const struct zone_entry *const zones[], const size_t *nz,
      uint32_t rtt_ms, struct sent *s, size_t cap, size_t *nsent)
{
	struct { uint64_t at; struct resolve_tx tx; uint8_t buf[1024]; size_t len; } q[256];
	size_t nq = 0;

	*nsent = 0;
	for (int guard = 0; guard < 100000; guard++) {
		struct resolve_tx tx;
		uint32_t wait = 0;
		enum resolve_step st = resolve_next(r, now, &tx, &wait);
		uint64_t next;

		if (st == RESOLVE_DONE)
			return now;
		if (st == RESOLVE_SEND) {
			if (*nsent < cap)
				s[(*nsent)++] = (struct sent){ now, tx };
			cr_assert(nq < 256);
			q[nq].at = now + rtt_ms;
			q[nq].tx = tx;
			q[nq].len = answer(zones[tx.ns], nz[tx.ns], &tx, q[nq].buf);
			nq++;
			continue;
		}
		/* Deliver what is due by the wake-up, in order. */
		next = now + wait;
		for (size_t i = 0; i < nq; i++)
			if (q[i].len > 0 && q[i].at < next)
				next = q[i].at;
		now = next;
		for (size_t i = 0; i < nq; i++)
			if (q[i].len > 0 && q[i].at <= now) {
				resolve_input(r, now, q[i].tx.name, q[i].tx.fam, q[i].tx.ns,
				    &r->cfg.conf.ns[q[i].tx.ns], q[i].buf, q[i].len);
				q[i].len = 0;
			}
	}
	cr_assert_fail("the engine never finished");
	return now;
}

static const char *
ip(const struct stun_addr *a)
{
	static char b[64];

	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, b, sizeof(b));
	return b;
}

/* ---------------------------------------------------------------- tests */

Test(resolve, every_name_at_once)
{
	static const struct zone_entry z[] = {
		{ "a.example", RESOLVE_FAM_A, ADDR, "192.0.2.1" },
		{ "a.example", RESOLVE_FAM_AAAA, ADDR, "2001:db8::1" },
		{ "b.example", RESOLVE_FAM_A, ADDR, "192.0.2.2" },
		{ "b.example", RESOLVE_FAM_AAAA, NODATA, NULL },
		{ "c.example", -1, NXDOMAIN, NULL },
	};
	const struct zone_entry *zones[] = { z };
	size_t nz[] = { sizeof(z) / sizeof(z[0]) }, n;
	struct resolve_config c = config("nameserver 192.0.2.53\n", 2000);
	static struct resolve r;
	struct sent s[32];
	char why[RESOLVE_DETAIL];
	uint64_t end;

	c.names[0] = "a.example";
	c.names[1] = "b.example";
	c.names[2] = "c.example";
	c.nnames = 3;
	resolve_init(&r, &c, 1000);
	end = drive(&r, 1000, zones, nz, 40, s, 32, &n);
	cr_assert_eq(n, 6, "one query per name and family, no retry");
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(s[i].at, 1000, "all sent at once");
	cr_assert_eq(end, 1040, "done in one round trip");
	cr_assert_eq(r.n[0].why, RESOLVE_OK);
	cr_assert_str_eq(ip(&r.n[0].addr[0]), "192.0.2.1");
	cr_assert_str_eq(ip(&r.n[0].addr[1]), "2001:db8::1");
	cr_assert_eq(r.n[1].why, RESOLVE_OK);
	cr_assert(r.n[1].has[0] && !r.n[1].has[1], "IPv4 only");
	cr_assert_eq(r.n[2].why, RESOLVE_NO_NAME);
	cr_assert_str_eq(resolve_why_text(&r, 2, why, sizeof(why)), "no such name");
	cr_assert_eq(r.n[2].ms, 40);
}

Test(resolve, silent_server_bounded_by_the_limit)
{
	static const struct zone_entry z[] = { { "x", -1, SILENT, NULL } };
	const struct zone_entry *zones[] = { z };
	size_t nz[] = { 1 }, n;
	struct resolve_config c = config("nameserver 10.255.255.53\n", 2000);
	static struct resolve r;
	struct sent s[128];
	char why[RESOLVE_DETAIL];
	static const char *names[8] = {
		"stun.hot-chilli.net", "stun.nextcloud.com", "stun.stochastix.de", "stun.sonetel.com",
		"stun.freeswitch.org", "stun.telnyx.com", "stun.m-online.net", "stun.voipgate.com",
	};
	uint64_t end;

	memcpy(c.names, names, sizeof(names));
	c.nnames = 8;
	resolve_init(&r, &c, 0);
	end = drive(&r, 0, zones, nz, 10, s, 128, &n);
	cr_assert_eq(end, 2000, "the whole list ends at the limit, not 8 x a resolver timeout");
	/* Sends at 0, 300, 800, 1500 ms for each of 16 queries. */
	cr_assert_eq(n, 8 * 2 * 4);
	for (size_t i = 0; i < 8; i++) {
		cr_assert_eq(r.n[i].why, RESOLVE_TIMEOUT);
		cr_assert_eq(r.n[i].ms, 2000);
	}
	cr_assert_str_eq(resolve_why_text(&r, 0, why, sizeof(why)),
	    "no answer from the DNS server 10.255.255.53 in 2.0 s");
	for (size_t i = 1; i < n; i++)
		cr_assert(s[i].at >= s[i - 1].at);
	cr_assert_eq(s[n - 1].at, 1500);
}

Test(resolve, search_list)
{
	static const struct zone_entry z[] = {
		{ "stunbox.lan", -1, NXDOMAIN, NULL },
		{ "stunbox.corp.example", RESOLVE_FAM_A, NODATA, NULL },
		{ "stunbox.corp.example", RESOLVE_FAM_AAAA, NODATA, NULL },
		{ "stunbox", RESOLVE_FAM_A, ADDR, "192.0.2.9" },
		{ "stunbox", RESOLVE_FAM_AAAA, NODATA, NULL },
		{ "none", -1, NXDOMAIN, NULL },
		{ "none.lan", -1, NXDOMAIN, NULL },
		{ "none.corp.example", -1, NODATA, NULL },
	};
	const struct zone_entry *zones[] = { z };
	size_t nz[] = { sizeof(z) / sizeof(z[0]) }, n;
	struct resolve_config c = config("nameserver 192.0.2.53\nsearch lan corp.example\n", 3000);
	static struct resolve r;
	struct sent s[32];
	char why[RESOLVE_DETAIL];

	c.names[0] = "stunbox";
	c.names[1] = "none";
	c.nnames = 2;
	resolve_init(&r, &c, 0);
	cr_assert_eq(drive(&r, 0, zones, nz, 5, s, 32, &n), 15, "three candidates, a round trip each");
	cr_assert_eq(r.n[0].why, RESOLVE_OK);
	cr_assert_str_eq(ip(&r.n[0].addr[0]), "192.0.2.9");
	cr_assert_str_eq(s[0].tx.qname, "stunbox.lan");
	cr_assert_eq(r.n[1].why, RESOLVE_NO_ADDRESS, "a name was there, without an address");
	cr_assert_str_eq(resolve_why_text(&r, 1, why, sizeof(why)), "no IPv4 or IPv6 address");
}

Test(resolve, failover_and_failure)
{
	static const struct zone_entry bad[] = { { "a.example", -1, SERVFAIL, NULL },
	                                         { "b.example", -1, SERVFAIL, NULL } };
	static const struct zone_entry good[] = { { "a.example", -1, ADDR, "192.0.2.7" },
	                                          { "b.example", -1, SERVFAIL, NULL } };
	const struct zone_entry *zones[] = { bad, good };
	size_t nz[] = { 2, 2 }, n;
	struct resolve_config c = config("nameserver 192.0.2.53\nnameserver 192.0.2.54\n", 2000);
	static struct resolve r;
	struct sent s[32];
	char why[RESOLVE_DETAIL];

	c.names[0] = "a.example";
	c.names[1] = "b.example";
	c.nnames = 2;
	c.want[1] = 0;              /* -4: A only */
	resolve_init(&r, &c, 0);
	cr_assert_eq(drive(&r, 0, zones, nz, 20, s, 32, &n), 40,
	    "the second server is asked as soon as the first fails");
	cr_assert_eq(n, 4);
	cr_assert_eq(s[2].tx.ns, 1);
	cr_assert_eq(s[2].at, 20);
	cr_assert_eq(r.n[0].why, RESOLVE_OK);
	cr_assert_eq(r.n[1].why, RESOLVE_FAILED);
	cr_assert_str_eq(resolve_why_text(&r, 1, why, sizeof(why)),
	    "DNS server 192.0.2.54: the DNS server failed (SERVFAIL)");
}

Test(resolve, unreachable_and_truncated)
{
	static const struct zone_entry z[] = { { "t.example", -1, TRUNCATED, NULL } };
	const struct zone_entry *zones[] = { z };
	size_t nz[] = { 1 }, n;
	struct resolve_config c = config("nameserver 127.0.0.53\n", 2000);
	static struct resolve r;
	struct resolve_tx tx;
	uint32_t wait;
	struct sent s[8];
	char why[RESOLVE_DETAIL];

	c.names[0] = "u.example";
	c.nnames = 1;
	resolve_init(&r, &c, 0);
	cr_assert_eq(resolve_next(&r, 0, &tx, &wait), RESOLVE_SEND);
	resolve_unreachable(&r, 1, tx.name, tx.fam, tx.ns, "port unreachable");
	cr_assert_eq(resolve_next(&r, 1, &tx, &wait), RESOLVE_SEND, "the other family");
	resolve_unreachable(&r, 1, tx.name, tx.fam, tx.ns, "port unreachable");
	cr_assert_eq(resolve_next(&r, 1, &tx, &wait), RESOLVE_DONE, "at once, not at the limit");
	cr_assert_eq(r.n[0].why, RESOLVE_FAILED);
	cr_assert_str_eq(resolve_why_text(&r, 0, why, sizeof(why)),
	    "DNS server 127.0.0.53: port unreachable");

	c.names[0] = "t.example";
	resolve_init(&r, &c, 0);
	drive(&r, 0, zones, nz, 5, s, 8, &n);
	cr_assert_eq(r.n[0].why, RESOLVE_FAILED);
	cr_assert(strstr(resolve_why_text(&r, 0, why, sizeof(why)), "truncated") != NULL, "%s", why);
}

Test(resolve, not_believed)
{
	struct resolve_config c = config("nameserver 192.0.2.53\n", 1000);
	static const struct zone_entry z[] = { { "a.example", -1, ADDR, "192.0.2.1" },
	                                       { "evil.example", -1, ADDR, "203.0.113.66" } };
	static struct resolve r;
	struct resolve_tx tx, forged;
	struct stun_addr other;
	uint8_t buf[512];
	uint32_t wait;
	size_t len;

	c.names[0] = "a.example";
	c.nnames = 1;
	c.want[1] = 0;
	resolve_init(&r, &c, 0);
	cr_assert_eq(resolve_next(&r, 0, &tx, &wait), RESOLVE_SEND);
	len = answer(z, 2, &tx, buf);
	/* From another address. */
	other = r.cfg.conf.ns[0];
	other.addr[3] = 54;
	resolve_input(&r, 5, 0, RESOLVE_FAM_A, 0, &other, buf, len);
	cr_assert_eq(r.n[0].why, RESOLVE_PENDING);
	/* Another ID. */
	buf[1] ^= 1;
	resolve_input(&r, 5, 0, RESOLVE_FAM_A, 0, &r.cfg.conf.ns[0], buf, len);
	cr_assert_eq(r.n[0].why, RESOLVE_PENDING);
	buf[1] ^= 1;
	/* Another question, with the right ID. */
	forged = tx;
	forged.len = (size_t)dns_query((uint16_t)(tx.buf[0] << 8 | tx.buf[1]), "evil.example",
	    DNS_TYPE_A, forged.buf, sizeof(forged.buf));
	{
		uint8_t fb[512];
		size_t fl = answer(z, 2, &forged, fb);

		resolve_input(&r, 6, 0, RESOLVE_FAM_A, 0, &r.cfg.conf.ns[0], fb, fl);
	}
	cr_assert_eq(r.n[0].why, RESOLVE_PENDING, "an answer to another question is no answer");
	/* On the socket of another family or name. */
	resolve_input(&r, 6, 0, RESOLVE_FAM_AAAA, 0, &r.cfg.conf.ns[0], buf, len);
	resolve_input(&r, 6, 1, RESOLVE_FAM_A, 0, &r.cfg.conf.ns[0], buf, len);
	cr_assert_eq(r.n[0].why, RESOLVE_PENDING);
	/* Malformed: counted (the other question was, too), not believed. */
	resolve_input(&r, 7, 0, RESOLVE_FAM_A, 0, &r.cfg.conf.ns[0], buf, 13);
	cr_assert_eq(r.n[0].q[0].bad, 2);
	/* The real one. */
	resolve_input(&r, 8, 0, RESOLVE_FAM_A, 0, &r.cfg.conf.ns[0], buf, len);
	cr_assert_eq(r.n[0].why, RESOLVE_OK);
	cr_assert_str_eq(ip(&r.n[0].addr[0]), "192.0.2.1");
	cr_assert_eq(resolve_next(&r, 8, &tx, &wait), RESOLVE_DONE);
}

Test(resolve, only_malformed)
{
	struct resolve_config c = config("nameserver 192.0.2.53\n", 1000);
	static struct resolve r;
	struct resolve_tx tx;
	uint32_t wait;
	uint8_t junk[16];
	char why[RESOLVE_DETAIL];

	c.names[0] = "a.example";
	c.nnames = 1;
	c.want[1] = 0;
	resolve_init(&r, &c, 0);
	cr_assert_eq(resolve_next(&r, 0, &tx, &wait), RESOLVE_SEND);
	memcpy(junk, tx.buf, 2);    /* its ID, then garbage: not a response */
	memset(junk + 2, 0, sizeof(junk) - 2);
	resolve_input(&r, 5, 0, RESOLVE_FAM_A, 0, &r.cfg.conf.ns[0], junk, sizeof(junk));
	while (resolve_next(&r, 1000, &tx, &wait) == RESOLVE_SEND)
		;
	cr_assert_eq(r.n[0].why, RESOLVE_MALFORMED);
	cr_assert(strstr(resolve_why_text(&r, 0, why, sizeof(why)), "not a response") != NULL, "%s", why);
}

Test(resolve, bad_names_and_answered_family)
{
	static const struct zone_entry z[] = { { "v4.example", RESOLVE_FAM_A, ADDR, "192.0.2.4" },
	                                       { "v4.example", RESOLVE_FAM_AAAA, SILENT, NULL } };
	const struct zone_entry *zones[] = { z };
	size_t nz[] = { 2 }, n;
	struct resolve_config c = config("nameserver 192.0.2.53\n", 1000);
	static struct resolve r;
	struct sent s[16];
	char why[RESOLVE_DETAIL];

	c.names[0] = "bad name";
	c.names[1] = "v4.example";
	c.nnames = 2;
	resolve_init(&r, &c, 0);
	cr_assert_eq(r.n[0].why, RESOLVE_BAD_NAME, "settled before anything is sent");
	cr_assert_str_eq(resolve_why_text(&r, 0, why, sizeof(why)), "not a host name");
	cr_assert_eq(drive(&r, 0, zones, nz, 5, s, 16, &n), 1000,
	    "the silent family is waited for until the limit");
	cr_assert_eq(r.n[1].why, RESOLVE_OK, "the family that answered counts");
	cr_assert(r.n[1].has[0] && !r.n[1].has[1]);
}

Test(resolve, at_most_fifteen_seconds)
{
	static const struct zone_entry z[] = { { "x", -1, SILENT, NULL } };
	const struct zone_entry *zones[] = { z };
	size_t nz[] = { 1 }, n;
	struct resolve_config c = config("nameserver 192.0.2.53\n", 3600000);
	static struct resolve r;
	struct sent s[32];

	c.names[0] = "slow.example";
	c.nnames = 1;
	c.want[1] = 0;
	resolve_init(&r, &c, 0);
	cr_assert_eq(drive(&r, 0, zones, nz, 5, s, 32, &n), RESOLVE_MAX_MS,
	    "-t 3600 does not make a dead DNS server cost an hour");
	cr_assert_eq(n, RESOLVE_MAX_TRIES);
	cr_assert_eq(r.n[0].why, RESOLVE_TIMEOUT);
}
