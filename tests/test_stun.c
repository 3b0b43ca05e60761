/*
 * test_stun.c - the digests (hash.c) and the STUN codec (stun.c).
 *
 * Known-answer vectors for every digest, the four RFC 5769 sample messages
 * (bytes copied below), encode/decode round trips of every attribute, and
 * a table of malformed messages, one named row each.  Every decoder input
 * is copied to end right before a PROT_NONE page, and encoder output
 * buffers end there too, so a single byte read or written past the end
 * crashes the test instead of passing by luck.
 */
#define _DEFAULT_SOURCE             /* MAP_ANONYMOUS */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "edge.h"
#include "hash.h"
#include "stun.h"

/* ------------------------------------------------------------ helpers */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Build a message from a small notation, so table rows stay one line:
 *   hex digits (spaces ignored)       the bytes themselves
 *   "LLLL"                            the header length, filled in at the end
 *   "hdr"   / "hdr3489"               Binding request header, cookie / 128-bit tid,
 *                                     with LLLL as its length
 *   "[N*HEX]"                         HEX repeated N times
 *   "FP"                              a correct FINGERPRINT attribute
 * Returns the length written into out (cap bytes).
 */
static size_t build(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0, lenpos = SIZE_MAX;

	while (*s) {
		if (*s == ' ') {
			s++;
		} else if (strncmp(s, "hdr3489", 7) == 0) {
			n += build("0001 LLLL 00112233445566778899aabbccddeeff", out + n, cap - n);
			lenpos = 2;
			s += 7;
		} else if (strncmp(s, "hdr", 3) == 0) {
			n += build("0001 LLLL 2112a442 0102030405060708090a0b0c", out + n, cap - n);
			lenpos = 2;
			s += 3;
		} else if (strncmp(s, "LLLL", 4) == 0) {
			cr_assert(n + 2 <= cap);
			lenpos = n;
			out[n++] = 0;
			out[n++] = 0;
			s += 4;
		} else if (strncmp(s, "FP", 2) == 0) {
			uint32_t fp;

			cr_assert(n + 8 <= cap && lenpos != SIZE_MAX);
			out[lenpos] = (uint8_t)((n + 8 - 20) >> 8);
			out[lenpos + 1] = (uint8_t)(n + 8 - 20);
			memcpy(out + n, "\x80\x28\x00\x04", 4);
			fp = stun_fingerprint(out, n);
			out[n + 4] = (uint8_t)(fp >> 24);
			out[n + 5] = (uint8_t)(fp >> 16);
			out[n + 6] = (uint8_t)(fp >> 8);
			out[n + 7] = (uint8_t)fp;
			n += 8;
			s += 2;
		} else if (*s == '[') {
			char *end;
			unsigned long times = strtoul(s + 1, &end, 10);
			const char *close = strchr(end, ']');
			char group[64];

			cr_assert(*end == '*' && close != NULL && (size_t)(close - end - 1) < sizeof group);
			memcpy(group, end + 1, (size_t)(close - end - 1));
			group[close - end - 1] = '\0';
			for (unsigned long i = 0; i < times; i++)
				n += build(group, out + n, cap - n);
			s = close + 1;
		} else {
			int hi = hexval(s[0]), lo = hexval(s[1]);

			cr_assert(hi >= 0 && lo >= 0, "bad hex at \"%.10s\"", s);
			cr_assert(n < cap);
			out[n++] = (uint8_t)(hi << 4 | lo);
			s += 2;
		}
	}
	if (lenpos != SIZE_MAX && n >= 20) {
		/* The final length; an FP token set the same value for its CRC
		 * unless attributes follow it (then the CRC is stale on purpose). */
		out[lenpos] = (uint8_t)((n - 20) >> 8);
		out[lenpos + 1] = (uint8_t)(n - 20);
	}
	return n;
}

static void hex_to(const char *s, uint8_t *out, size_t len)
{
	size_t n = 0;

	for (; *s && n < len; s++) {
		if (*s == ' ' || *s == '\n')
			continue;
		out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
		s++;
	}
	cr_assert_eq(n, len);
}

static void expect_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[64];

	cr_assert(len <= sizeof want);
	hex_to(want_hex, want, len);
	cr_expect(memcmp(got, want, len) == 0, "digest differs from %s", want_hex);
}

/* ------------------------------------------------------------ digests */

Test(hash, sha1_fips180_vectors)
{
	uint8_t d[20];
	static uint8_t million[1000000];

	hash_sha1("abc", 3, d);
	expect_hex(d, 20, "a9993e364706816aba3e25717850c26c9cd0d89d");
	hash_sha1("", 0, d);
	expect_hex(d, 20, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	hash_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
	expect_hex(d, 20, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	memset(million, 'a', sizeof million);
	hash_sha1(million, sizeof million, d);
	expect_hex(d, 20, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

Test(hash, sha1_incremental_equals_one_call)
{
	uint8_t msg[200], one[20], inc[20];
	struct hash_sha1 c;

	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	hash_sha1(msg, sizeof msg, one);
	for (size_t split = 0; split <= sizeof msg; split++) {
		hash_sha1_init(&c);
		hash_sha1_update(&c, msg, split);
		hash_sha1_update(&c, NULL, 0);
		hash_sha1_update(&c, msg + split, sizeof msg - split);
		hash_sha1_final(&c, inc);
		cr_assert(memcmp(one, inc, 20) == 0, "split at %zu", split);
	}
}

Test(hash, hmac_sha1_rfc2202)
{
	static const struct {
		const char *key, *data;         /* hex */
		const char *mac;
	} v[] = {
		/* test_case 1 */
		{ "[20*0b]", "4869205468657265", "b617318655057264e28bc0b6fb378c8ef146be00" },
		/* test_case 2: "Jefe", "what do ya want for nothing?" */
		{ "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
		/* test_case 3 */
		{ "[20*aa]", "[50*dd]", "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
		/* test_case 4 */
		{ "0102030405060708090a0b0c0d0e0f10111213141516171819", "[50*cd]",
		  "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
		/* test_case 5: "Test With Truncation" (full 160-bit MAC) */
		{ "[20*0c]", "546573742057697468205472756e636174696f6e",
		  "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
	};
	/* test_cases 6 and 7: an 80-byte key, longer than a block, is hashed first. */
	static const char *const long_data[] = {
		"Test Using Larger Than Block-Size Key - Hash Key First",
		"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
	};
	static const char *const long_mac[] = {
		"aa4ae5e15272d00e95705637ce8a3b55ed402112",
		"e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
	};
	uint8_t key[128], data[128], mac[20];

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t kl = build(v[i].key, key, sizeof key);
		size_t dl = build(v[i].data, data, sizeof data);

		hash_hmac_sha1(key, kl, data, dl, mac);
		expect_hex(mac, 20, v[i].mac);
	}
	memset(key, 0xaa, 80);
	for (size_t i = 0; i < 2; i++) {
		struct hash_hmac_sha1 c;
		size_t dl = strlen(long_data[i]);

		hash_hmac_sha1(key, 80, long_data[i], dl, mac);
		expect_hex(mac, 20, long_mac[i]);
		/* and in two pieces */
		hash_hmac_sha1_init(&c, key, 80);
		hash_hmac_sha1_update(&c, long_data[i], 10);
		hash_hmac_sha1_update(&c, long_data[i] + 10, dl - 10);
		hash_hmac_sha1_final(&c, mac);
		expect_hex(mac, 20, long_mac[i]);
	}
}

Test(hash, crc32_check_value)
{
	cr_expect_eq(hash_crc32("123456789", 9), 0xCBF43926u);
	cr_expect_eq(hash_crc32_update(hash_crc32("1234", 4), "56789", 5), 0xCBF43926u);
	cr_expect_eq(hash_crc32("", 0), 0u);
	cr_expect_eq(hash_crc32("a", 1), 0xE8B7BE43u);
}

Test(hash, constant_time_compare)
{
	cr_expect_eq(hash_ct_diff("abcd", "abcd", 4), 0);
	cr_expect_neq(hash_ct_diff("abcd", "abce", 4), 0);
	cr_expect_neq(hash_ct_diff("xbcd", "abcd", 4), 0);
	cr_expect_eq(hash_ct_diff("a", "b", 0), 0);
}

/* ------------------------------------------------------------ RFC 5769 */

/* RFC 5769 section 2.1: request, short-term credential. */
static const uint8_t rfc5769_req[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
	0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
	0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
	0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 section 2.2: IPv4 response. */
static const uint8_t rfc5769_resp4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
	0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 section 2.3: IPv6 response. */
static const uint8_t rfc5769_resp6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
	0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
	0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

/* RFC 5769 section 2.4: request, long-term credential (no FINGERPRINT). */
static const uint8_t rfc5769_lt[] = {
	0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0,
	0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83,
	0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00, 0x15, 0x00, 0x1c,
	0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c, 0x33, 0x34,
	0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41, 0x00, 0x14, 0x00, 0x0b,
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x08, 0x00, 0x14,
	0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2,
	0x8c, 0xa8, 0x96, 0x66,
};

#define PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"
#define PW       (const uint8_t *)PASSWORD, strlen(PASSWORD)
/* U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 in UTF-8 */
#define LT_USER  "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
#define LT_REALM "example.org"
#define LT_PASS  "TheMatrIX"
#define LT_NONCE "f//499k954d6OL34oL9FSTvy64sA"
/* RFC 5389 15.4's long-term key MD5(LT_USER ":" LT_REALM ":" LT_PASS),
 * computed outside natcheck: natcheck never derives long-term keys (that
 * is TURN's business), so it carries no MD5; the vector still proves
 * MESSAGE-INTEGRITY under a 16-byte key. */
#define LT_KEY   "e8ca7ad59d5eb0518e312911d2dab2a9"

static void expect_bytes(const struct stun_msg *m, uint16_t type, const char *want)
{
	const uint8_t *v;
	size_t len;

	cr_assert_eq(stun_get_bytes(m, type, &v, &len), STUN_OK, "attribute 0x%04x", type);
	cr_expect_eq(len, strlen(want), "attribute 0x%04x length", type);
	cr_expect(len == strlen(want) && memcmp(v, want, len) == 0, "attribute 0x%04x value", type);
}

Test(rfc5769, sample_request_short_term)
{
	struct stun_msg m;
	const uint8_t *b = at_edge(rfc5769_req, sizeof rfc5769_req);

	cr_assert_eq(stun_decode(b, sizeof rfc5769_req, &m), STUN_OK);
	cr_expect_eq(m.type, STUN_BINDING_REQUEST);
	cr_expect_eq(m.method, STUN_METHOD_BINDING);
	cr_expect_eq(m.cls, STUN_CLASS_REQUEST);
	cr_expect(m.has_cookie);
	cr_expect_eq(m.nattrs, 6);
	cr_expect_eq(m.fingerprint_idx, 5);         /* present and verified */
	cr_expect_eq(m.integrity_idx, 4);
	/* PRIORITY (0x0024) is comprehension-required and unknown to us;
	 * ICE-CONTROLLED (0x8029) is optional and only skipped. */
	cr_expect_eq(m.nunknown, 1);
	cr_expect_eq(m.unknown[0], 0x0024);
	cr_expect_geq(stun_find(&m, 0x8029), 0);
	/* USERNAME is padded with spaces: padding is not part of the value. */
	expect_bytes(&m, STUN_ATTR_USERNAME, "evtj:h6vY");
	expect_bytes(&m, STUN_ATTR_SOFTWARE, "STUN test client");
	cr_expect_eq(stun_check_integrity(&m, PW), STUN_OK);
	cr_expect_eq(stun_check_integrity(&m, (const uint8_t *)"wrong", 5), STUN_ERR_INTEGRITY);
}

Test(rfc5769, sample_ipv4_response)
{
	struct stun_msg m;
	struct stun_addr a;
	const uint8_t *b = at_edge(rfc5769_resp4, sizeof rfc5769_resp4);
	static const uint8_t ip[4] = { 192, 0, 2, 1 };

	cr_assert_eq(stun_decode(b, sizeof rfc5769_resp4, &m), STUN_OK);
	cr_expect_eq(m.cls, STUN_CLASS_SUCCESS);
	cr_expect_geq(m.fingerprint_idx, 0);
	cr_expect_eq(m.nunknown, 0);
	expect_bytes(&m, STUN_ATTR_SOFTWARE, "test vector");
	cr_assert_eq(stun_get_mapped(&m, &a), STUN_OK);
	cr_expect_eq(a.family, 4);
	cr_expect_eq(a.port, 32853);
	cr_expect(memcmp(a.addr, ip, 4) == 0);
	cr_assert_eq(stun_get_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &a), STUN_OK);
	cr_expect_eq(a.port, 32853);
	cr_expect_eq(stun_get_addr(&m, STUN_ATTR_MAPPED_ADDRESS, &a), STUN_ERR_NOT_FOUND);
	cr_expect_eq(stun_check_integrity(&m, PW), STUN_OK);
}

Test(rfc5769, sample_ipv6_response)
{
	struct stun_msg m;
	struct stun_addr a;
	const uint8_t *b = at_edge(rfc5769_resp6, sizeof rfc5769_resp6);
	uint8_t ip[16];

	hex_to("20010db8 12345678 00112233 44556677", ip, 16);
	cr_assert_eq(stun_decode(b, sizeof rfc5769_resp6, &m), STUN_OK);
	cr_expect_geq(m.fingerprint_idx, 0);
	expect_bytes(&m, STUN_ATTR_SOFTWARE, "test vector");
	cr_assert_eq(stun_get_mapped(&m, &a), STUN_OK);
	cr_expect_eq(a.family, 6);
	cr_expect_eq(a.port, 32853);
	cr_expect(memcmp(a.addr, ip, 16) == 0);
	cr_expect_eq(stun_check_integrity(&m, PW), STUN_OK);
}

Test(rfc5769, sample_request_long_term)
{
	struct stun_msg m;
	uint8_t key[16];
	const uint8_t *b = at_edge(rfc5769_lt, sizeof rfc5769_lt);

	cr_assert_eq(stun_decode(b, sizeof rfc5769_lt, &m), STUN_OK);
	cr_expect_eq(m.fingerprint_idx, -1);        /* 2.4 carries none */
	cr_expect_eq(m.integrity_idx, 3);
	expect_bytes(&m, STUN_ATTR_USERNAME, LT_USER);
	expect_bytes(&m, STUN_ATTR_NONCE, LT_NONCE);
	expect_bytes(&m, STUN_ATTR_REALM, LT_REALM);
	hex_to(LT_KEY, key, sizeof key);
	cr_expect_eq(stun_check_integrity(&m, key, sizeof key), STUN_OK);
	/* The password itself is not the long-term key. */
	cr_expect_eq(stun_check_integrity(&m, (const uint8_t *)LT_PASS, strlen(LT_PASS)),
	             STUN_ERR_INTEGRITY);
}

Test(rfc5769, flipped_byte_breaks_fingerprint)
{
	static const struct {
		const uint8_t *msg;
		size_t len;
	} v[] = {
		{ rfc5769_req, sizeof rfc5769_req },
		{ rfc5769_resp4, sizeof rfc5769_resp4 },
		{ rfc5769_resp6, sizeof rfc5769_resp6 },
	};
	uint8_t copy[128];
	struct stun_msg m;

	/* Every byte from the transaction ID to the FINGERPRINT value,
	 * padding included (the CRC covers the bytes as they stand).  The type
	 * and length are left alone: flipping them fails earlier checks. */
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		for (size_t at = 4; at < v[i].len; at++) {
			enum stun_status st;

			memcpy(copy, v[i].msg, v[i].len);
			copy[at] ^= 0x01;
			st = stun_decode(at_edge(copy, v[i].len), v[i].len, &m);
			/* Flipping an attribute's type or length may be caught
			 * first by the structure checks; a value byte must reach
			 * the CRC. */
			cr_expect_neq(st, STUN_OK, "sample %zu byte %zu", i, at);
		}
		memcpy(copy, v[i].msg, v[i].len);
		copy[v[i].len - 1] ^= 0x80;             /* the FINGERPRINT value */
		cr_expect_eq(stun_decode(at_edge(copy, v[i].len), v[i].len, &m), STUN_ERR_FINGERPRINT);
		memcpy(copy, v[i].msg, v[i].len);
		copy[25] ^= 0x20;                       /* SOFTWARE's second byte */
		cr_expect_eq(stun_decode(at_edge(copy, v[i].len), v[i].len, &m), STUN_ERR_FINGERPRINT);
		memcpy(copy, v[i].msg, v[i].len);
		copy[8] ^= 0xff;                        /* transaction ID */
		cr_expect_eq(stun_decode(at_edge(copy, v[i].len), v[i].len, &m), STUN_ERR_FINGERPRINT);
	}
}

/* Re-seal FINGERPRINT after a change, so the change reaches the MAC check. */
static void reseal(uint8_t *msg, size_t len)
{
	uint32_t fp = stun_fingerprint(msg, len - 8);

	msg[len - 4] = (uint8_t)(fp >> 24);
	msg[len - 3] = (uint8_t)(fp >> 16);
	msg[len - 2] = (uint8_t)(fp >> 8);
	msg[len - 1] = (uint8_t)fp;
}

Test(rfc5769, flipped_byte_breaks_integrity)
{
	uint8_t copy[128], key[16];
	struct stun_msg m;
	size_t len = sizeof rfc5769_resp4;

	/* 2.2 with the SOFTWARE text changed and FINGERPRINT recomputed. */
	memcpy(copy, rfc5769_resp4, len);
	copy[24] ^= 0x20;
	reseal(copy, len);
	cr_assert_eq(stun_decode(at_edge(copy, len), len, &m), STUN_OK);
	cr_expect_eq(stun_check_integrity(&m, PW), STUN_ERR_INTEGRITY);

	/* 2.2 with the MAC itself changed. */
	memcpy(copy, rfc5769_resp4, len);
	copy[60] ^= 0x01;
	reseal(copy, len);
	cr_assert_eq(stun_decode(at_edge(copy, len), len, &m), STUN_OK);
	cr_expect_eq(stun_check_integrity(&m, PW), STUN_ERR_INTEGRITY);

	/* 2.4 (no FINGERPRINT): every byte before the MAC value matters,
	 * padding included; the header length is exempt (it is replaced). */
	hex_to(LT_KEY, key, sizeof key);
	len = sizeof rfc5769_lt;
	for (size_t at = 0; at < len; at++) {
		enum stun_status st;

		if (at == 2 || at == 3)
			continue;
		memcpy(copy, rfc5769_lt, len);
		copy[at] ^= 0x01;
		st = stun_decode(at_edge(copy, len), len, &m);
		if (st == STUN_OK)
			st = stun_check_integrity(&m, key, sizeof key);
		cr_expect_neq(st, STUN_OK, "byte %zu", at);
		/* Inside the NONCE value the structure stays valid, so it must
		 * be the MAC that fails, with that name. */
		if (at >= 48 && at < 76)
			cr_expect_eq(st, STUN_ERR_INTEGRITY, "byte %zu", at);
	}
}

Test(rfc5769, padding_content_ignored)
{
	uint8_t copy[128];
	struct stun_msg m;
	size_t len = sizeof rfc5769_lt;

	/* 2.4's USERNAME (18 bytes) and REALM (11 bytes) are zero-padded;
	 * spaces there must decode the same (only the MAC notices). */
	memcpy(copy, rfc5769_lt, len);
	copy[42] = copy[43] = 0x20;
	copy[91] = 0xff;
	cr_assert_eq(stun_decode(at_edge(copy, len), len, &m), STUN_OK);
	expect_bytes(&m, STUN_ATTR_USERNAME, LT_USER);
	expect_bytes(&m, STUN_ATTR_REALM, LT_REALM);
}

Test(rfc5769, encoder_reproduces_long_term_sample)
{
	/* 2.4 pads with zeros, as our encoder does, so the encoder must
	 * produce it byte for byte, MESSAGE-INTEGRITY included. */
	uint8_t key[16];
	size_t cap = sizeof rfc5769_lt, len = 0;
	uint8_t *out = edge_buf(cap);
	struct stun_enc e;

	hex_to(LT_KEY, key, sizeof key);
	stun_enc_init(&e, out, cap, STUN_BINDING_REQUEST, rfc5769_lt + 4);
	stun_enc_bytes(&e, STUN_ATTR_USERNAME, LT_USER, strlen(LT_USER));
	stun_enc_bytes(&e, STUN_ATTR_NONCE, LT_NONCE, strlen(LT_NONCE));
	stun_enc_bytes(&e, STUN_ATTR_REALM, LT_REALM, strlen(LT_REALM));
	stun_enc_integrity(&e, key, sizeof key);
	cr_assert_eq(stun_enc_finish(&e, &len), STUN_OK);
	cr_assert_eq(len, sizeof rfc5769_lt);
	cr_expect(memcmp(out, rfc5769_lt, len) == 0);
}

Test(rfc5769, encoder_reproduces_ipv4_response_mac)
{
	/* 2.2 pads SOFTWARE with a space: encode it with the value plus that
	 * space as content (12 bytes, no padding needed), then patch the
	 * length back to 11: every byte, MAC and CRC included, must match. */
	size_t cap = sizeof rfc5769_resp4, len = 0;
	uint8_t *out = edge_buf(cap);
	struct stun_enc e;
	struct stun_addr a = { .family = 4, .port = 32853, .addr = { 192, 0, 2, 1 } };
	struct stun_msg m;

	stun_enc_init(&e, out, cap, STUN_BINDING_SUCCESS, rfc5769_resp4 + 4);
	stun_enc_bytes(&e, STUN_ATTR_SOFTWARE, "test vector ", 12);
	out[23] = 11;                           /* the RFC's length; padding is the space */
	stun_enc_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
	stun_enc_integrity(&e, PW);
	stun_enc_fingerprint(&e);
	cr_assert_eq(stun_enc_finish(&e, &len), STUN_OK);
	cr_assert_eq(len, sizeof rfc5769_resp4);
	cr_expect(memcmp(out, rfc5769_resp4, len) == 0);
	cr_expect_eq(stun_decode(out, len, &m), STUN_OK);
}

/* ------------------------------------------------------------ round trips */

static const uint8_t tid_cookie[STUN_TID_LEN] = {
	0x21, 0x12, 0xa4, 0x42, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};
static const uint8_t tid_3489[STUN_TID_LEN] = {
	0x5a, 0x5a, 0x00, 0x01, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x0f, 0x1e, 0x2d, 0x3c,
};

static const uint16_t addr_types[] = {
	STUN_ATTR_MAPPED_ADDRESS, STUN_ATTR_RESPONSE_ADDRESS, STUN_ATTR_SOURCE_ADDRESS,
	STUN_ATTR_CHANGED_ADDRESS, STUN_ATTR_REFLECTED_FROM, STUN_ATTR_XOR_MAPPED_ADDRESS,
	STUN_ATTR_XOR_MAPPED_ADDRESS_OLD, STUN_ATTR_ALTERNATE_SERVER,
	STUN_ATTR_RESPONSE_ORIGIN, STUN_ATTR_OTHER_ADDRESS,
};
#define NADDR (sizeof addr_types / sizeof addr_types[0])

static int is_xor(uint16_t t)
{
	return t == STUN_ATTR_XOR_MAPPED_ADDRESS || t == STUN_ATTR_XOR_MAPPED_ADDRESS_OLD;
}

/* Encode into a buffer that ends at the guard page, decode from there. */
static size_t finish_and_decode(struct stun_enc *e, struct stun_msg *m)
{
	size_t len = 0;

	cr_assert_eq(stun_enc_finish(e, &len), STUN_OK);
	cr_assert_eq(len % 4, 0);
	cr_assert_eq(stun_decode(e->buf, len, m), STUN_OK);
	return len;
}

Test(roundtrip, every_address_attribute_v4_v6_both_forms)
{
	struct stun_addr v4 = { .family = 4, .port = 3478, .addr = { 198, 51, 100, 7 } };
	struct stun_addr v6 = { .family = 6, .port = 65535 };
	const uint8_t *tids[2] = { tid_cookie, tid_3489 };

	hex_to("20010db8 00000000 0000ffff c0000201", v6.addr, 16);
	for (int form = 0; form < 2; form++) {
		for (size_t i = 0; i < NADDR; i++) {
			for (int fam = 0; fam < 2; fam++) {
				const struct stun_addr *in = fam ? &v6 : &v4;
				size_t cap = 20 + 4 + (fam ? 20 : 8);
				struct stun_enc e;
				struct stun_msg m;
				struct stun_addr out;
				size_t len;

				stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_SUCCESS, tids[form]);
				stun_enc_addr(&e, addr_types[i], in);
				if (form == 1 && is_xor(addr_types[i])) {
					/* RFC 3489 form: no cookie to XOR with. */
					cr_expect_eq(stun_enc_finish(&e, &len), STUN_ERR_NO_COOKIE);
					continue;
				}
				finish_and_decode(&e, &m);
				cr_expect_eq(m.has_cookie, form == 0);
				cr_expect(memcmp(m.tid, tids[form], STUN_TID_LEN) == 0);
				cr_assert_eq(stun_get_addr(&m, addr_types[i], &out), STUN_OK,
				             "type 0x%04x family %d form %d", addr_types[i], in->family, form);
				cr_expect_eq(out.family, in->family);
				cr_expect_eq(out.port, in->port);
				cr_expect(memcmp(out.addr, in->addr, fam ? 16 : 4) == 0);
				/* The XOR form must not carry the address in clear. */
				if (is_xor(addr_types[i]))
					cr_expect(memcmp(m.buf + m.attrs[0].off + 4, in->addr, 4) != 0);
				else
					cr_expect(memcmp(m.buf + m.attrs[0].off + 4, in->addr, 4) == 0);
			}
		}
	}
}

Test(roundtrip, get_mapped_prefers_xor_and_falls_back)
{
	struct stun_addr x = { .family = 4, .port = 1000, .addr = { 192, 0, 2, 10 } };
	struct stun_addr p = { .family = 4, .port = 2000, .addr = { 192, 0, 2, 20 } };
	struct stun_addr out;
	struct stun_enc e;
	struct stun_msg m;
	size_t cap = 256;

	/* Cookie: XOR-MAPPED-ADDRESS wins over MAPPED-ADDRESS. */
	stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_SUCCESS, tid_cookie);
	stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, &p);
	stun_enc_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS_OLD, &x);
	finish_and_decode(&e, &m);
	cr_assert_eq(stun_get_mapped(&m, &out), STUN_OK);
	cr_expect_eq(out.port, 1000);
	/* Cookie but only MAPPED-ADDRESS (an RFC 3489 server echoing the tid). */
	stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_SUCCESS, tid_cookie);
	stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, &p);
	finish_and_decode(&e, &m);
	cr_assert_eq(stun_get_mapped(&m, &out), STUN_OK);
	cr_expect_eq(out.port, 2000);
	/* Nothing at all. */
	stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_SUCCESS, tid_3489);
	finish_and_decode(&e, &m);
	cr_expect_eq(stun_get_mapped(&m, &out), STUN_ERR_NOT_FOUND);
	/* A non-address type is the caller's mistake. */
	cr_expect_eq(stun_get_addr(&m, STUN_ATTR_USERNAME, &out), STUN_ERR_ARG);
}

Test(roundtrip, change_request_and_response_port)
{
	static const uint32_t flags[] = { 0, STUN_CHANGE_IP, STUN_CHANGE_PORT,
	                                  STUN_CHANGE_IP | STUN_CHANGE_PORT };

	for (size_t i = 0; i < 4; i++) {
		struct stun_enc e;
		struct stun_msg m;
		uint32_t got = 99;
		uint16_t port = 0;
		size_t cap = 20 + 8 + 8;

		stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_REQUEST, i % 2 ? tid_3489 : tid_cookie);
		stun_enc_change_request(&e, flags[i]);
		stun_enc_response_port(&e, (uint16_t)(40000 + i));
		finish_and_decode(&e, &m);
		cr_assert_eq(stun_get_change_request(&m, &got), STUN_OK);
		cr_expect_eq(got, flags[i]);
		cr_assert_eq(stun_get_response_port(&m, &port), STUN_OK);
		cr_expect_eq(port, 40000 + i);
	}
}

Test(roundtrip, byte_attributes_with_every_padding)
{
	static const uint16_t types[] = {
		STUN_ATTR_USERNAME, STUN_ATTR_PASSWORD, STUN_ATTR_REALM, STUN_ATTR_NONCE,
		STUN_ATTR_SOFTWARE, STUN_ATTR_PADDING, 0x8029 /* unknown optional */,
	};
	uint8_t val[16];

	for (size_t i = 0; i < sizeof val; i++)
		val[i] = (uint8_t)('a' + i);
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		for (size_t len = 0; len <= 9; len++) {
			size_t cap = 20 + 4 + ((len + 3) & ~(size_t)3);
			struct stun_enc e;
			struct stun_msg m;
			const uint8_t *v;
			size_t l;

			stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_REQUEST, tid_cookie);
			stun_enc_bytes(&e, types[t], val, len);
			cr_assert_eq(finish_and_decode(&e, &m), cap);
			cr_assert_eq(stun_get_bytes(&m, types[t], &v, &l), STUN_OK);
			cr_expect_eq(l, len);
			cr_expect(memcmp(v, val, len) == 0);
			/* The encoder pads with zeros (RFC 5389 section 15). */
			for (size_t p = len; p < cap - 24; p++)
				cr_expect_eq(v[p], 0, "type 0x%04x len %zu pad byte %zu", types[t], len, p);
			cr_expect_eq(m.nunknown, 0);
		}
	}
}

Test(roundtrip, length_caps_accepted_at_the_limit)
{
	static uint8_t big[STUN_MAX_TEXT];
	struct stun_enc e;
	struct stun_msg m;
	size_t cap = 2048;

	memset(big, 'x', sizeof big);
	stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_bytes(&e, STUN_ATTR_USERNAME, big, STUN_MAX_USERNAME);
	stun_enc_bytes(&e, STUN_ATTR_SOFTWARE, big, STUN_MAX_TEXT);
	finish_and_decode(&e, &m);
	stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_bytes(&e, STUN_ATTR_REALM, big, STUN_MAX_TEXT);
	stun_enc_bytes(&e, STUN_ATTR_NONCE, big, STUN_MAX_TEXT);
	finish_and_decode(&e, &m);
}

Test(roundtrip, unknown_comprehension_required_listed_once)
{
	struct stun_enc e;
	struct stun_msg m;
	size_t cap = 20 + 4 * 40;
	uint16_t t;

	/* 0x0024 twice, then 19 more distinct types: deduplicated, capped. */
	stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_bytes(&e, 0x0024, NULL, 0);
	stun_enc_bytes(&e, 0x0024, NULL, 0);
	stun_enc_bytes(&e, 0xC001, NULL, 0);            /* optional: skipped */
	for (t = 0x0040; t < 0x0040 + 19; t++)
		stun_enc_bytes(&e, t, NULL, 0);
	finish_and_decode(&e, &m);
	cr_expect_eq(m.nattrs, 22);
	cr_assert_eq(m.nunknown, STUN_MAX_UNKNOWN);
	cr_expect_eq(m.unknown[0], 0x0024);
	for (size_t i = 1; i < STUN_MAX_UNKNOWN; i++)
		cr_expect_eq(m.unknown[i], 0x0040 + i - 1);
	/* 0x0000, the reserved type, is unknown too. */
	stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_bytes(&e, 0x0000, "ab", 2);
	finish_and_decode(&e, &m);
	cr_expect_eq(m.nunknown, 1);
	cr_expect_eq(m.unknown[0], 0x0000);
}

Test(roundtrip, message_type_bit_layout)
{
	/* RFC 5389 section 6 figure 3, and the Binding values RFC 3489 used. */
	cr_expect_eq(stun_msg_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), 0x0001);
	cr_expect_eq(stun_msg_type(STUN_METHOD_BINDING, STUN_CLASS_INDICATION), 0x0011);
	cr_expect_eq(stun_msg_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), 0x0101);
	cr_expect_eq(stun_msg_type(STUN_METHOD_BINDING, STUN_CLASS_ERROR), 0x0111);
	cr_expect_eq(stun_msg_type(0x0FFF, STUN_CLASS_REQUEST), 0x3EEF);
	cr_expect_eq(stun_msg_type(0x0FFF, STUN_CLASS_ERROR), 0x3FFF);
	cr_expect_eq(stun_msg_type(0x0000, STUN_CLASS_ERROR), 0x0110);

	/* Every method x class survives encode + decode. */
	for (unsigned method = 0; method <= 0x0FFF; method += 0x0111) {
		for (int cls = 0; cls < 4; cls++) {
			uint16_t type = stun_msg_type((uint16_t)method, (enum stun_class)cls);
			struct stun_enc e;
			struct stun_msg m;

			cr_assert_eq(type & 0xC000, 0);
			stun_enc_init(&e, edge_buf(20), 20, type, tid_cookie);
			finish_and_decode(&e, &m);
			cr_expect_eq(m.type, type);
			cr_expect_eq(m.method, method);
			cr_expect_eq(m.cls, cls);
		}
	}
}

Test(roundtrip, error_codes_300_to_699)
{
	char reason[STUN_MAX_TEXT + 2];

	for (int code = 300; code <= 699; code++) {
		struct stun_enc e;
		struct stun_msg m;
		const char *r = NULL;
		size_t rl = 99, cap = 20 + 4 + 4 + 12;
		int got = 0;

		snprintf(reason, sizeof reason, "err %d", code);     /* 7 bytes: padded */
		stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_ERROR,
		              code % 2 ? tid_3489 : tid_cookie);
		stun_enc_error(&e, code, reason);
		finish_and_decode(&e, &m);
		cr_assert_eq(stun_get_error(&m, &got, &r, &rl), STUN_OK);
		cr_expect_eq(got, code);
		/* RFC 3489 11.2.9: the phrase padded with spaces to 8 bytes. */
		cr_expect_eq(rl, code % 2 ? 8 : strlen(reason));
		cr_expect(memcmp(r, reason, strlen(reason)) == 0);
		if (code % 2)
			cr_expect_eq(r[7], ' ');
	}
	/* NULL reason, and the longest reason allowed. */
	{
		struct stun_enc e;
		struct stun_msg m;
		const char *r;
		size_t rl, cap = 1024;
		int got;

		stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_ERROR, tid_cookie);
		stun_enc_error(&e, 420, NULL);
		finish_and_decode(&e, &m);
		cr_assert_eq(stun_get_error(&m, &got, &r, &rl), STUN_OK);
		cr_expect_eq(got, 420);
		cr_expect_eq(rl, 0);

		memset(reason, 'r', STUN_MAX_TEXT);
		reason[STUN_MAX_TEXT] = '\0';
		stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_ERROR, tid_cookie);
		stun_enc_error(&e, 699, reason);
		finish_and_decode(&e, &m);
		cr_assert_eq(stun_get_error(&m, &got, &r, &rl), STUN_OK);
		cr_expect_eq(rl, STUN_MAX_TEXT);
	}
}

/* RFC 3489 11.2.9: in the form without the cookie the reason phrase is a
 * multiple of four bytes, padded with spaces, so the attribute needs no
 * padding (stund's parser rejects one that does); the RFC 5389 form keeps
 * the phrase as is and pads the attribute with zeros. */
Test(roundtrip, error_reason_padding_rfc3489)
{
	static const char *const reasons[] = { "", "a", "ab", "abc", "abcd", "Unknown Attribute" };
	char big[STUN_MAX_TEXT + 1];

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		size_t n = strlen(reasons[i]), want = (n + 3) & ~(size_t)3;

		for (int form = 0; form < 2; form++) {
			struct stun_enc e;
			struct stun_msg m;
			uint8_t *buf = edge_buf(64);
			const char *r;
			size_t rl, len = 0;
			int got;

			stun_enc_init(&e, buf, 64, STUN_BINDING_ERROR,
			              form ? tid_cookie : tid_3489);
			stun_enc_error(&e, 420, reasons[i]);
			cr_assert_eq(stun_enc_finish(&e, &len), STUN_OK);
			cr_assert_eq(stun_decode(buf, len, &m), STUN_OK);
			cr_assert_eq(stun_get_error(&m, &got, &r, &rl), STUN_OK);
			cr_expect_eq(got, 420);
			/* The attribute's own length field, right after the header. */
			cr_expect_eq(((size_t)buf[22] << 8 | buf[23]), 4 + (form ? n : want),
			    "\"%s\" form %d", reasons[i], form);
			cr_expect_eq(rl, form ? n : want, "\"%s\" form %d", reasons[i], form);
			cr_expect(memcmp(r, reasons[i], n) == 0);
			for (size_t k = n; k < rl; k++)
				cr_expect_eq(r[k], ' ', "\"%s\": byte %zu", reasons[i], k);
		}
	}
	/* Padded, the phrase must still fit: 760 bytes in the RFC 3489 form. */
	memset(big, 'r', sizeof(big));
	big[761] = '\0';
	{
		struct stun_enc e;
		size_t cap = 1024;

		stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_ERROR, tid_3489);
		stun_enc_error(&e, 400, big);
		cr_expect_eq(e.err, STUN_ERR_ARG);
		big[760] = '\0';
		stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_ERROR, tid_3489);
		stun_enc_error(&e, 400, big);
		cr_expect_eq(e.err, STUN_OK);
		big[760] = 'r';
		stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_ERROR, tid_cookie);
		stun_enc_error(&e, 400, big);
		cr_expect_eq(e.err, STUN_OK);
	}
}

Test(roundtrip, unknown_attributes_both_forms)
{
	static const uint16_t list[] = { 0x0024, 0x0031, 0x7fff };
	uint16_t got[8];
	size_t n = 0;

	for (size_t count = 0; count <= 3; count++) {
		for (int form = 0; form < 2; form++) {
			struct stun_enc e;
			struct stun_msg m;
			size_t cap = 64;

			stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_ERROR,
			              form ? tid_3489 : tid_cookie);
			stun_enc_unknown_attrs(&e, list, count);
			finish_and_decode(&e, &m);
			cr_assert_eq(stun_get_unknown_attrs(&m, got, 8, &n), STUN_OK);
			/* RFC 3489 11.2.10: an odd list repeats a type; RFC 5389 pads. */
			if (form == 1 && count % 2 == 1) {
				cr_expect_eq(n, count + 1);
				cr_expect_eq(got[count], list[count - 1]);
			} else {
				cr_expect_eq(n, count);
			}
			cr_expect(memcmp(got, list, count * 2) == 0);
			cr_expect_eq(m.attrs[0].len % 4, form == 1 ? 0 : (count * 2) % 4);
		}
	}
	/* The caller's max truncates. */
	{
		struct stun_enc e;
		struct stun_msg m;

		stun_enc_init(&e, edge_buf(64), 64, STUN_BINDING_ERROR, tid_cookie);
		stun_enc_unknown_attrs(&e, list, 3);
		finish_and_decode(&e, &m);
		cr_assert_eq(stun_get_unknown_attrs(&m, got, 2, &n), STUN_OK);
		cr_expect_eq(n, 2);
		cr_expect_eq(got[1], 0x0031);
	}
}

Test(roundtrip, integrity_and_fingerprint_from_encoder)
{
	static const uint8_t key[] = "a short-term password";
	struct stun_addr a = { .family = 6, .port = 5349 };
	const uint8_t *tids[2] = { tid_cookie, tid_3489 };

	hex_to("20010db8000000000000000000000042", a.addr, 16);
	for (int form = 0; form < 2; form++) {
		for (int with_mi = 0; with_mi < 2; with_mi++) {
			for (int with_fp = 0; with_fp < 2; with_fp++) {
				struct stun_enc e;
				struct stun_msg m;
				size_t cap = 20 + 12 + 24 + (with_mi ? 24 : 0) + (with_fp ? 8 : 0);

				stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_SUCCESS, tids[form]);
				stun_enc_bytes(&e, STUN_ATTR_SOFTWARE, "natcheck", 8);
				stun_enc_addr(&e, STUN_ATTR_OTHER_ADDRESS, &a);
				if (with_mi)
					stun_enc_integrity(&e, key, sizeof key - 1);
				if (with_fp)
					stun_enc_fingerprint(&e);
				cr_assert_eq(finish_and_decode(&e, &m), cap);
				cr_expect_eq(m.fingerprint_idx, with_fp ? (int)m.nattrs - 1 : -1);
				if (with_mi) {
					cr_expect_eq(stun_check_integrity(&m, key, sizeof key - 1), STUN_OK);
					cr_expect_eq(stun_check_integrity(&m, key, sizeof key - 2),
					             STUN_ERR_INTEGRITY);
				} else {
					cr_expect_eq(stun_check_integrity(&m, key, sizeof key - 1),
					             STUN_ERR_NO_INTEGRITY);
				}
			}
		}
	}
}

Test(roundtrip, strerror_names_every_status)
{
	for (int st = 0; st < STUN_ERR__COUNT; st++) {
		const char *s = stun_strerror(st);

		cr_assert(s != NULL && *s != '\0');
		cr_expect_str_neq(s, "unknown status", "status %d", st);
		for (int other = 0; other < st; other++)
			cr_expect_str_neq(s, stun_strerror(other), "statuses %d and %d", st, other);
	}
	cr_expect_str_eq(stun_strerror(-1), "unknown status");
	cr_expect_str_eq(stun_strerror(STUN_ERR__COUNT), "unknown status");
}

Test(roundtrip, encoder_updates_length_after_every_attribute)
{
	struct stun_enc e;
	size_t cap = 128;
	uint8_t *b = edge_buf(cap);

	stun_enc_init(&e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	cr_expect_eq(b[2] << 8 | b[3], 0);
	stun_enc_bytes(&e, STUN_ATTR_SOFTWARE, "abcde", 5);
	cr_expect_eq(b[2] << 8 | b[3], 12);
	stun_enc_change_request(&e, STUN_CHANGE_IP);
	cr_expect_eq(b[2] << 8 | b[3], 20);
	stun_enc_fingerprint(&e);
	cr_expect_eq(b[2] << 8 | b[3], 28);
	cr_expect_eq(e.len, 48);
}

/* ------------------------------------------------------------ malformed table */

enum stage {
	DECODE,         /* stun_decode must return want */
	GET_XOR,        /* decode succeeds, stun_get_addr(XOR-MAPPED-ADDRESS) returns want */
	GET_MAPPED,     /* decode succeeds, stun_get_mapped returns want */
};

struct bad {
	const char *name;
	const char *msg;                /* build() notation */
	enum stage stage;
	enum stun_status want;
};

#define TXT764 "[191*61616161]"                 /* 764 bytes of 'a' */

static const struct bad bad_msgs[] = {
	/* empty datagram */
	{ "empty", "", DECODE, STUN_ERR_SHORT },
	/* short: 19 bytes */
	{ "short", "0001 0000 2112a442 0102030405060708090a0b", DECODE, STUN_ERR_SHORT },
	/* not stun: first bit set (e.g. RTP) */
	{ "not stun bit 15", "8001 0000 2112a442 0102030405060708090a0b0c", DECODE, STUN_ERR_NOT_STUN },
	/* not stun: second bit set */
	{ "not stun bit 14", "4001 0000 2112a442 0102030405060708090a0b0c", DECODE, STUN_ERR_NOT_STUN },
	/* unaligned length */
	{ "unaligned length", "0001 0002 2112a442 0102030405060708090a0b0c 0000", DECODE,
	  STUN_ERR_LENGTH_UNALIGNED },
	/* length mismatch: header says more than the datagram */
	{ "length longer than datagram", "0001 0008 2112a442 0102030405060708090a0b0c 80220000",
	  DECODE, STUN_ERR_LENGTH_MISMATCH },
	/* length mismatch: header says less than the datagram */
	{ "length shorter than datagram", "0001 0000 2112a442 0102030405060708090a0b0c 80220000",
	  DECODE, STUN_ERR_LENGTH_MISMATCH },
	/* attr header truncated: only two bytes of an attribute header fit,
	 * which the aligned-length rule already refuses */
	{ "attr header truncated", "0001 0002 2112a442 0102030405060708090a0b0c 8022", DECODE,
	  STUN_ERR_LENGTH_UNALIGNED },
	/* attr value truncated: SOFTWARE says 8, 4 are there */
	{ "attr value truncated", "hdr 8022 0008 61626364", DECODE, STUN_ERR_ATTR_TRUNCATED },
	/* attr value truncated: length 0xffff */
	{ "attr length 0xffff", "hdr 8022 ffff 61626364", DECODE, STUN_ERR_ATTR_TRUNCATED },
	/* attr value truncated: the second attribute runs out */
	{ "second attr truncated", "hdr 80220000 0006 0008 61626364", DECODE, STUN_ERR_ATTR_TRUNCATED },
	/* padding truncated: the header length stops after the 5-byte value */
	{ "padding truncated, length to value end",
	  "0001 0009 2112a442 0102030405060708090a0b0c 8022 0005 6162636465", DECODE,
	  STUN_ERR_LENGTH_UNALIGNED },
	/* padding truncated: length counts the padding, the datagram stops short */
	{ "padding truncated, datagram short",
	  "0001 000c 2112a442 0102030405060708090a0b0c 8022 0005 6162636465", DECODE,
	  STUN_ERR_LENGTH_MISMATCH },
	/* value and padding past the end with an aligned length (a value that
	 * fits while its padding does not is impossible once lengths are aligned) */
	{ "value and padding past end", "hdr 8022 0005 61626364", DECODE, STUN_ERR_ATTR_TRUNCATED },
	/* MAPPED-ADDRESS: IPv4 family with 12 bytes */
	{ "mapped v4 len 12", "hdr 0001 000c 0001 1234 c0000201 00000000", DECODE, STUN_ERR_ATTR_LENGTH },
	/* MAPPED-ADDRESS: IPv6 family with 8 bytes */
	{ "mapped v6 len 8", "hdr 0001 0008 0002 1234 c0000201", DECODE, STUN_ERR_ATTR_LENGTH },
	/* MAPPED-ADDRESS: too short to hold the family */
	{ "mapped len 2", "hdr 0001 0002 0001 0000", DECODE, STUN_ERR_ATTR_LENGTH },
	/* RESPONSE-ADDRESS: IPv4 with 4 bytes */
	{ "response-address len 4", "hdr 0002 0004 0001 1234", DECODE, STUN_ERR_ATTR_LENGTH },
	/* SOURCE-ADDRESS: IPv4 with 4 bytes */
	{ "source-address len 4", "hdr 0004 0004 0001 1234", DECODE, STUN_ERR_ATTR_LENGTH },
	/* CHANGED-ADDRESS: IPv4 with 4 bytes */
	{ "changed-address len 4", "hdr 0005 0004 0001 1234", DECODE, STUN_ERR_ATTR_LENGTH },
	/* REFLECTED-FROM: IPv4 with 4 bytes */
	{ "reflected-from len 4", "hdr 000b 0004 0001 1234", DECODE, STUN_ERR_ATTR_LENGTH },
	/* XOR-MAPPED-ADDRESS: IPv6 with 16 bytes */
	{ "xor-mapped v6 len 16", "hdr 0020 0010 0002 1234 [3*00000000]", DECODE, STUN_ERR_ATTR_LENGTH },
	/* XOR-MAPPED-ADDRESS (0x8020): IPv4 with 0 bytes */
	{ "xor-mapped-old len 0", "hdr 8020 0000", DECODE, STUN_ERR_ATTR_LENGTH },
	/* ALTERNATE-SERVER: IPv4 with 4 bytes */
	{ "alternate-server len 4", "hdr 8023 0004 0001 1234", DECODE, STUN_ERR_ATTR_LENGTH },
	/* RESPONSE-ORIGIN: IPv4 with 4 bytes */
	{ "response-origin len 4", "hdr 802b 0004 0001 1234", DECODE, STUN_ERR_ATTR_LENGTH },
	/* OTHER-ADDRESS: IPv6 with 24 bytes */
	{ "other-address v6 len 24", "hdr 802c 0018 0002 1234 [5*00000000]", DECODE, STUN_ERR_ATTR_LENGTH },
	/* CHANGE-REQUEST: 8 bytes */
	{ "change-request len 8", "hdr 0003 0008 00000006 00000000", DECODE, STUN_ERR_ATTR_LENGTH },
	/* CHANGE-REQUEST: 0 bytes */
	{ "change-request len 0", "hdr 0003 0000", DECODE, STUN_ERR_ATTR_LENGTH },
	/* RESPONSE-PORT: 2 bytes */
	{ "response-port len 2", "hdr 0027 0002 1234 0000", DECODE, STUN_ERR_ATTR_LENGTH },
	/* MESSAGE-INTEGRITY: 16 bytes */
	{ "message-integrity len 16", "hdr 0008 0010 [4*00000000]", DECODE, STUN_ERR_ATTR_LENGTH },
	/* FINGERPRINT: 8 bytes */
	{ "fingerprint len 8", "hdr 8028 0008 00000000 00000000", DECODE, STUN_ERR_ATTR_LENGTH },
	/* ERROR-CODE: 3 bytes */
	{ "error-code len 3", "hdr 0009 0003 000004 00", DECODE, STUN_ERR_ATTR_LENGTH },
	/* ERROR-CODE: reason of 764 bytes */
	{ "error-code reason 764", "hdr 0009 0300 00000414 " TXT764, DECODE, STUN_ERR_ATTR_LENGTH },
	/* UNKNOWN-ATTRIBUTES: odd length */
	{ "unknown-attributes len 3", "hdr 000a 0003 002400 00", DECODE, STUN_ERR_ATTR_LENGTH },
	/* USERNAME: 514 bytes */
	{ "username 514", "hdr 0006 0202 [128*61616161] 6161 0000", DECODE, STUN_ERR_ATTR_LENGTH },
	/* REALM: 764 bytes */
	{ "realm 764", "hdr 0014 02fc " TXT764, DECODE, STUN_ERR_ATTR_LENGTH },
	/* NONCE: 764 bytes */
	{ "nonce 764", "hdr 0015 02fc " TXT764, DECODE, STUN_ERR_ATTR_LENGTH },
	/* SOFTWARE: 764 bytes */
	{ "software 764", "hdr 8022 02fc " TXT764, DECODE, STUN_ERR_ATTR_LENGTH },
	/* bad family: 0x03 */
	{ "mapped family 3", "hdr 0001 0008 0003 1234 c0000201", DECODE, STUN_ERR_ADDR_FAMILY },
	/* bad family: 0x00 */
	{ "xor-mapped family 0", "hdr 0020 0008 0000 1234 c0000201", DECODE, STUN_ERR_ADDR_FAMILY },
	/* bad family: IPv4 family value in byte 0 instead of byte 1 */
	{ "other-address family in wrong byte", "hdr 802c 0008 0100 1234 c0000201", DECODE,
	  STUN_ERR_ADDR_FAMILY },
	/* bad error class: 2 */
	{ "error class 2", "hdr 0009 0004 00000214", DECODE, STUN_ERR_ATTR_VALUE },
	/* bad error class: 7 */
	{ "error class 7", "hdr 0009 0004 00000700", DECODE, STUN_ERR_ATTR_VALUE },
	/* bad error number: 100 */
	{ "error number 100", "hdr 0009 0004 00000464", DECODE, STUN_ERR_ATTR_VALUE },
	/* too many attrs: 41 */
	{ "41 attributes", "hdr [41*80290000]", DECODE, STUN_ERR_TOO_MANY_ATTRS },
	/* attr after MI: SOFTWARE */
	{ "software after integrity", "hdr 0008 0014 [5*00000000] 8022 0000", DECODE,
	  STUN_ERR_AFTER_INTEGRITY },
	/* attr after MI: a second MESSAGE-INTEGRITY */
	{ "integrity after integrity", "hdr 0008 0014 [5*00000000] 0008 0014 [5*00000000]", DECODE,
	  STUN_ERR_AFTER_INTEGRITY },
	/* attr after fingerprint: SOFTWARE */
	{ "software after fingerprint", "hdr FP 8022 0000", DECODE, STUN_ERR_FINGERPRINT_NOT_LAST },
	/* attr after fingerprint: MESSAGE-INTEGRITY */
	{ "integrity after fingerprint", "hdr FP 0008 0014 [5*00000000]", DECODE,
	  STUN_ERR_FINGERPRINT_NOT_LAST },
	/* bad fingerprint: arbitrary value */
	{ "fingerprint wrong value", "hdr 8028 0004 1a4a2ab4", DECODE, STUN_ERR_FINGERPRINT },
	/* bad fingerprint: zero */
	{ "fingerprint zero", "hdr 8022 0003 616263 00 8028 0004 00000000", DECODE, STUN_ERR_FINGERPRINT },
	/* XOR address without cookie (getter) */
	{ "xor-mapped without cookie", "hdr3489 0020 0008 0001 1234 c0000201", GET_XOR, STUN_ERR_NO_COOKIE },
	/* XOR address without cookie: get_mapped wants MAPPED-ADDRESS then */
	{ "3489 form, only xor-mapped", "hdr3489 0020 0008 0001 1234 c0000201", GET_MAPPED,
	  STUN_ERR_NOT_FOUND },
	/* getter on a message without the attribute */
	{ "no xor-mapped", "hdr 8022 0000", GET_XOR, STUN_ERR_NOT_FOUND },
};

Test(malformed, table)
{
	static uint8_t raw[STUN_MAX_MSG + 1];

	for (size_t i = 0; i < sizeof bad_msgs / sizeof bad_msgs[0]; i++) {
		const struct bad *c = &bad_msgs[i];
		size_t len = build(c->msg, raw, sizeof raw);
		const uint8_t *b = at_edge(raw, len);
		struct stun_msg m;
		struct stun_addr a;
		enum stun_status st;

		memset(&m, 0x5a, sizeof m);
		st = stun_decode(b, len, &m);
		/* The header peek fails exactly on the header-level statuses,
		 * with the same status as the decoder. */
		{
			struct stun_header h;
			enum stun_status hst = stun_peek_header(b, len, &h);
			int header_level = st == STUN_ERR_SHORT || st == STUN_ERR_TOO_LONG ||
			    st == STUN_ERR_NOT_STUN || st == STUN_ERR_LENGTH_UNALIGNED ||
			    st == STUN_ERR_LENGTH_MISMATCH;

			cr_expect_eq(hst, header_level ? st : STUN_OK, "%s: peek \"%s\"", c->name,
			             stun_strerror(hst));
		}
		if (c->stage == DECODE) {
			struct stun_msg untouched;

			cr_expect_eq(st, c->want, "%s: got \"%s\", want \"%s\"", c->name,
			             stun_strerror(st), stun_strerror(c->want));
			/* Nothing written on failure. */
			memset(&untouched, 0x5a, sizeof untouched);
			cr_expect(memcmp(&m, &untouched, sizeof m) == 0, "%s: msg written", c->name);
			continue;
		}
		cr_assert_eq(st, STUN_OK, "%s: decode: %s", c->name, stun_strerror(st));
		memset(&a, 0x5a, sizeof a);
		st = c->stage == GET_XOR ? stun_get_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &a)
		                         : stun_get_mapped(&m, &a);
		cr_expect_eq(st, c->want, "%s: got \"%s\"", c->name, stun_strerror(st));
		cr_expect_eq(a.family, 0x5a, "%s: out written", c->name);
	}
}

Test(malformed, too_long_datagram)
{
	static uint8_t raw[STUN_MAX_MSG + 1];
	struct stun_msg m;

	/* A well-formed header claiming the largest aligned length, in a
	 * datagram one byte over the cap. */
	build("0001 fffc 2112a442 0102030405060708090a0b0c", raw, sizeof raw);
	cr_expect_eq(stun_decode(at_edge(raw, sizeof raw), sizeof raw, &m), STUN_ERR_TOO_LONG);
}

Test(malformed, forty_attributes_accepted)
{
	static uint8_t raw[512];
	size_t len = build("hdr [40*80290000]", raw, sizeof raw);
	struct stun_msg m;

	cr_expect_eq(stun_decode(at_edge(raw, len), len, &m), STUN_OK);
	cr_expect_eq(m.nattrs, 40);
}

Test(malformed, every_truncation_of_the_samples)
{
	static const struct {
		const uint8_t *msg;
		size_t len;
	} v[] = {
		{ rfc5769_req, sizeof rfc5769_req },
		{ rfc5769_resp4, sizeof rfc5769_resp4 },
		{ rfc5769_resp6, sizeof rfc5769_resp6 },
		{ rfc5769_lt, sizeof rfc5769_lt },
	};
	struct stun_msg m;

	/* Each prefix, right at the guard page: refused, never over-read. */
	for (size_t i = 0; i < 4; i++) {
		for (size_t n = 0; n < v[i].len; n++)
			cr_expect_neq(stun_decode(at_edge(v[i].msg, n), n, &m), STUN_OK, "%zu/%zu", i, n);
	}
}

Test(malformed, null_arguments)
{
	struct stun_msg m;

	cr_expect_eq(stun_decode(NULL, 0, &m), STUN_ERR_SHORT);
	cr_expect_eq(stun_decode(NULL, 20, &m), STUN_ERR_ARG);
	cr_expect_eq(stun_decode(rfc5769_resp4, sizeof rfc5769_resp4, NULL), STUN_ERR_ARG);
	cr_assert_eq(stun_decode(rfc5769_resp4, sizeof rfc5769_resp4, &m), STUN_OK);
	cr_expect_eq(stun_check_integrity(&m, NULL, 4), STUN_ERR_ARG);
}

/* ------------------------------------------------------------ encoder errors */

struct enc_case {
	const char *name;
	size_t cap;
	void (*run)(struct stun_enc *e, uint8_t *buf, size_t cap);
	enum stun_status want;
};

static const struct stun_addr enc_v4 = { .family = 4, .port = 1, .addr = { 192, 0, 2, 1 } };

static void e_cap19(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
}

static void e_attr_one_short(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_bytes(e, STUN_ATTR_SOFTWARE, "abcde", 5);      /* needs 12, 11 left */
}

static void e_sticky(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_addr(e, STUN_ATTR_MAPPED_ADDRESS, &enc_v4);    /* 12 bytes: too many */
	stun_enc_change_request(e, 0);                          /* 8 would fit: ignored */
}

static void e_over_max_msg(struct stun_enc *e, uint8_t *b, size_t cap)
{
	static uint8_t big[0xFFFF];

	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_bytes(e, STUN_ATTR_PADDING, big, 0xFFFF - 20); /* fits cap, not STUN_MAX_MSG */
}

static void e_integrity_no_room(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_integrity(e, (const uint8_t *)"k", 1);
}

static void e_fingerprint_no_room(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_fingerprint(e);
}

static void e_type_top_bits(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, 0x8001, tid_cookie);
}

static void e_null_buf(struct stun_enc *e, uint8_t *b, size_t cap)
{
	(void)b;
	stun_enc_init(e, NULL, cap, STUN_BINDING_REQUEST, tid_cookie);
}

static void e_family_5(struct stun_enc *e, uint8_t *b, size_t cap)
{
	struct stun_addr a = enc_v4;

	a.family = 5;
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_addr(e, STUN_ATTR_MAPPED_ADDRESS, &a);
}

static void e_addr_wrong_type(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_addr(e, STUN_ATTR_SOFTWARE, &enc_v4);
}

static void e_xor_no_cookie(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_SUCCESS, tid_3489);
	stun_enc_addr(e, STUN_ATTR_XOR_MAPPED_ADDRESS, &enc_v4);
}

static void e_change_bit(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_change_request(e, 0x01);
}

static void e_error_299(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_ERROR, tid_cookie);
	stun_enc_error(e, 299, "x");
}

static void e_error_700(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_ERROR, tid_cookie);
	stun_enc_error(e, 700, "x");
}

static void e_error_reason_764(struct stun_enc *e, uint8_t *b, size_t cap)
{
	static char r[STUN_MAX_TEXT + 2];

	memset(r, 'r', STUN_MAX_TEXT + 1);
	stun_enc_init(e, b, cap, STUN_BINDING_ERROR, tid_cookie);
	stun_enc_error(e, 400, r);
}

static void e_bytes_integrity(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_bytes(e, STUN_ATTR_MESSAGE_INTEGRITY, "01234567890123456789", 20);
}

static void e_bytes_username_514(struct stun_enc *e, uint8_t *b, size_t cap)
{
	static uint8_t u[514];

	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_bytes(e, STUN_ATTR_USERNAME, u, sizeof u);
}

static void e_bytes_bad_error(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_ERROR, tid_cookie);
	stun_enc_bytes(e, STUN_ATTR_ERROR_CODE, "\0\0\x02\x00", 4);
}

static void e_bytes_null(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_bytes(e, STUN_ATTR_SOFTWARE, NULL, 3);
}

static void e_after_integrity(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_integrity(e, (const uint8_t *)"k", 1);
	stun_enc_bytes(e, STUN_ATTR_SOFTWARE, "x", 1);
}

static void e_after_fingerprint(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_fingerprint(e);
	stun_enc_integrity(e, (const uint8_t *)"k", 1);
}

static void e_fingerprint_twice(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_fingerprint(e);
	stun_enc_fingerprint(e);
}

static void e_unknown_null(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_ERROR, tid_cookie);
	stun_enc_unknown_attrs(e, NULL, 2);
}

static void e_integrity_null_key(struct stun_enc *e, uint8_t *b, size_t cap)
{
	stun_enc_init(e, b, cap, STUN_BINDING_REQUEST, tid_cookie);
	stun_enc_integrity(e, NULL, 3);
}

static const struct enc_case enc_cases[] = {
	/* NOSPACE: buffer smaller than the header */
	{ "cap 19", 19, e_cap19, STUN_ERR_NOSPACE },
	/* NOSPACE: attribute one byte short (padding counts) */
	{ "attr one byte short", 31, e_attr_one_short, STUN_ERR_NOSPACE },
	/* NOSPACE: sticky, a later smaller attribute does not clear it */
	{ "sticky after nospace", 31, e_sticky, STUN_ERR_NOSPACE },
	/* NOSPACE: message would exceed STUN_MAX_MSG though the buffer is big */
	{ "over STUN_MAX_MSG", 70000, e_over_max_msg, STUN_ERR_NOSPACE },
	/* NOSPACE: MESSAGE-INTEGRITY does not fit */
	{ "integrity no room", 43, e_integrity_no_room, STUN_ERR_NOSPACE },
	/* NOSPACE: FINGERPRINT does not fit */
	{ "fingerprint no room", 27, e_fingerprint_no_room, STUN_ERR_NOSPACE },
	/* ARG: type with the top bits set */
	{ "type top bits", 64, e_type_top_bits, STUN_ERR_ARG },
	/* ARG: NULL buffer */
	{ "null buffer", 64, e_null_buf, STUN_ERR_ARG },
	/* ARG: address family 5 */
	{ "family 5", 64, e_family_5, STUN_ERR_ARG },
	/* ARG: stun_enc_addr with a non-address type */
	{ "addr wrong type", 64, e_addr_wrong_type, STUN_ERR_ARG },
	/* NO_COOKIE: XOR address in the RFC 3489 form */
	{ "xor without cookie", 64, e_xor_no_cookie, STUN_ERR_NO_COOKIE },
	/* ARG: CHANGE-REQUEST bit outside IP|PORT */
	{ "change-request bit 0", 64, e_change_bit, STUN_ERR_ARG },
	/* ARG: error code 299 */
	{ "error 299", 64, e_error_299, STUN_ERR_ARG },
	/* ARG: error code 700 */
	{ "error 700", 64, e_error_700, STUN_ERR_ARG },
	/* ARG: reason 764 bytes */
	{ "error reason 764", 2048, e_error_reason_764, STUN_ERR_ARG },
	/* ARG: MESSAGE-INTEGRITY as raw bytes */
	{ "bytes integrity", 64, e_bytes_integrity, STUN_ERR_ARG },
	/* ARG: USERNAME over 513 bytes */
	{ "bytes username 514", 1024, e_bytes_username_514, STUN_ERR_ARG },
	/* ARG: raw ERROR-CODE with class 2 */
	{ "bytes error class 2", 64, e_bytes_bad_error, STUN_ERR_ARG },
	/* ARG: NULL value with a length */
	{ "bytes null value", 64, e_bytes_null, STUN_ERR_ARG },
	/* ARG: attribute after MESSAGE-INTEGRITY */
	{ "attr after integrity", 128, e_after_integrity, STUN_ERR_ARG },
	/* ARG: MESSAGE-INTEGRITY after FINGERPRINT */
	{ "integrity after fingerprint", 128, e_after_fingerprint, STUN_ERR_ARG },
	/* ARG: FINGERPRINT twice */
	{ "fingerprint twice", 128, e_fingerprint_twice, STUN_ERR_ARG },
	/* ARG: UNKNOWN-ATTRIBUTES NULL list */
	{ "unknown-attributes null", 64, e_unknown_null, STUN_ERR_ARG },
	/* ARG: NULL key with a length */
	{ "integrity null key", 64, e_integrity_null_key, STUN_ERR_ARG },
};

Test(encoder, error_table)
{
	for (size_t i = 0; i < sizeof enc_cases / sizeof enc_cases[0]; i++) {
		const struct enc_case *c = &enc_cases[i];
		struct stun_enc e;
		size_t len = 12345;
		enum stun_status st;

		c->run(&e, edge_buf(c->cap), c->cap);
		st = stun_enc_finish(&e, &len);
		cr_expect_eq(st, c->want, "%s: got \"%s\", want \"%s\"", c->name,
		             stun_strerror(st), stun_strerror(c->want));
		cr_expect_eq(len, 12345, "%s: length written on failure", c->name);
	}
}

Test(encoder, exact_fit)
{
	struct stun_enc e;
	struct stun_msg m;
	size_t cap = 20 + 12 + 24 + 8;

	stun_enc_init(&e, edge_buf(cap), cap, STUN_BINDING_SUCCESS, tid_cookie);
	stun_enc_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, &enc_v4);
	stun_enc_integrity(&e, (const uint8_t *)"k", 1);
	stun_enc_fingerprint(&e);
	cr_expect_eq(finish_and_decode(&e, &m), cap);
}

/* stun_peek_header splits the type as the decoder does, reads no attribute
 * and judges neither method nor class. */
Test(stun, peek_header)
{
	static const struct {
		const char *name;
		const char *msg;
		uint16_t method;
		uint8_t cls;
		int cookie;
	} cases[] = {
		{ "binding request", "0001 0000 2112a442 0102030405060708090a0b0c", 0x001, 0, 1 },
		{ "binding indication", "0011 0000 2112a442 0102030405060708090a0b0c", 0x001, 1, 1 },
		{ "allocate success", "0103 0000 2112a442 0102030405060708090a0b0c", 0x003, 2, 1 },
		{ "method 0xfff request", "3eef 0000 2112a442 0102030405060708090a0b0c", 0xfff, 0, 1 },
		{ "binding error, classic", "0111 0000 01020304 0102030405060708090a0b0c", 0x001, 3, 0 },
		/* An attribute that would not decode is not looked at. */
		{ "bad attribute", "0001 0004 2112a442 0102030405060708090a0b0c 0001 0000", 0x001, 0, 1 },
	};
	static uint8_t raw[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = build(cases[i].msg, raw, sizeof raw);
		const uint8_t *b = at_edge(raw, len);
		struct stun_header h;

		cr_assert_eq(stun_peek_header(b, len, &h), STUN_OK, "%s", cases[i].name);
		cr_expect_eq(h.method, cases[i].method, "%s: method 0x%03x", cases[i].name, h.method);
		cr_expect_eq(h.cls, cases[i].cls, "%s: class %u", cases[i].name, h.cls);
		cr_expect_eq(h.has_cookie, cases[i].cookie, "%s", cases[i].name);
		cr_expect_eq(h.type, (uint16_t)(b[0] << 8 | b[1]), "%s", cases[i].name);
		cr_expect_eq(h.length, len - STUN_HEADER_LEN, "%s", cases[i].name);
		cr_expect_eq(memcmp(h.tid, b + 4, STUN_TID_LEN), 0, "%s", cases[i].name);
		cr_expect_eq(stun_msg_type(h.method, (enum stun_class)h.cls), h.type, "%s",
		             cases[i].name);
	}
	cr_expect_eq(stun_peek_header(NULL, 20, NULL), STUN_ERR_ARG);
}
