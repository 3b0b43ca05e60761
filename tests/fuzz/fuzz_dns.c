/*
 * fuzz_dns.c - libFuzzer target for the DNS codec and the resolver's
 * files (make fuzz).
 *
 * The input is an answer to "stun.example.org" (A, AAAA or SRV, chosen by
 * its last byte; its own ID), and also a resolv.conf and a hosts line.
 * dns_parse must return a known status, keep nothing from an answer that
 * is not believed, and keep only what fits: addresses of the family asked
 * for, SRV targets that are host names.  dns_conf_parse must give one to
 * three nameservers on port 53 and search names that can be asked for.
 * Any broken promise is a __builtin_trap().
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char qname[] = "stun.example.org";

static void
answer(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_SRV };
	uint16_t qtype = types[size > 0 ? data[size - 1] % 3 : 0];
	const char *name = qtype == DNS_TYPE_SRV ? "_stun._udp.example.org" : qname;
	struct dns_answer a;
	enum dns_status st = dns_parse(data, size, dns_id(data, size), name, qtype, &a);

	CHECK(st >= DNS_ANSWER && st <= DNS_E_RECORD);
	CHECK(dns_status_words(st)[0] != '?');
	CHECK(a.naddr <= DNS_MAX_ADDRS && a.nsrv <= DNS_MAX_SRV);
	if (st != DNS_ANSWER && st != DNS_NODATA)
		CHECK(a.naddr == 0 && a.nsrv == 0);
	if (st == DNS_ANSWER)
		CHECK(a.naddr > 0 || a.nsrv > 0);
	if (st == DNS_NODATA)
		CHECK(a.naddr == 0 && a.nsrv == 0);
	for (size_t i = 0; i < a.naddr; i++)
		CHECK(a.addr[i].family == (qtype == DNS_TYPE_A ? 4 : 6) && a.addr[i].port == 0);
	for (size_t i = 0; i < a.nsrv; i++) {
		CHECK(qtype == DNS_TYPE_SRV);
		CHECK(memchr(a.srv[i].target, '\0', sizeof(a.srv[i].target)) != NULL);
		CHECK(strcmp(a.srv[i].target, ".") == 0 || dns_name_ok(a.srv[i].target));
	}
	/* Another ID is never believed. */
	if (size >= 12)
		CHECK(dns_parse(data, size, (uint16_t)(dns_id(data, size) + 1), name, qtype, &a) ==
		    DNS_E_ID || st == DNS_E_SHORT || st == DNS_E_NOT_ANSWER);
}

static void
files(const uint8_t *data, size_t size)
{
	struct dns_conf c;
	struct stun_addr v4, v6;
	int h4 = 0, h6 = 0;
	char cand[4][DNS_NAMELEN];
	size_t n;

	dns_conf_parse((const char *)data, size, &c);
	CHECK(c.nns >= 1 && c.nns <= DNS_MAX_NS && c.nsearch <= DNS_MAX_SEARCH && c.ndots <= 15);
	for (size_t i = 0; i < c.nns; i++)
		CHECK((c.ns[i].family == 4 || c.ns[i].family == 6) && c.ns[i].port == DNS_PORT &&
		    memchr(c.zone[i], '\0', DNS_ZONELEN) != NULL);
	for (size_t i = 0; i < c.nsearch; i++)
		CHECK(dns_name_ok(c.search[i]));
	n = dns_candidates("stunbox", &c, cand, 4);
	CHECK(n >= 1 && n <= 4);
	for (size_t i = 0; i < n; i++)
		CHECK(memchr(cand[i], '\0', DNS_NAMELEN) != NULL);
	if (dns_hosts_line((const char *)data, size, qname, &v4, &h4, &v6, &h6))
		CHECK(h4 != h6 && (!h4 || v4.family == 4) && (!h6 || v6.family == 6));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	answer(data, size);
	files(data, size);
	return 0;
}
