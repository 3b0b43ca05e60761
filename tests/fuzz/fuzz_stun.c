/*
 * fuzz_stun.c - libFuzzer target for the STUN codec (make fuzz).
 *
 * For every input: decode; if it decodes, check the structural promises
 * stun.h makes about the result, call every getter, check MESSAGE-INTEGRITY
 * with a fixed key and with a 16-byte (long-term sized) key, then
 * re-encode what was decoded and require the encoder's output to decode
 * to the same attributes.  Any broken promise is a __builtin_trap(), which libFuzzer
 * reports as a crash with the input saved.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stun.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static const uint8_t fuzz_key[] = "natcheck-fuzz-key";

/* Every type stun.h names, plus two ICE types (RFC 8445) the RFC 5769
 * samples carry, so the getters also run on unknown types. */
static const uint16_t types[] = {
	STUN_ATTR_MAPPED_ADDRESS, STUN_ATTR_RESPONSE_ADDRESS, STUN_ATTR_CHANGE_REQUEST,
	STUN_ATTR_SOURCE_ADDRESS, STUN_ATTR_CHANGED_ADDRESS, STUN_ATTR_USERNAME,
	STUN_ATTR_PASSWORD, STUN_ATTR_MESSAGE_INTEGRITY, STUN_ATTR_ERROR_CODE,
	STUN_ATTR_UNKNOWN_ATTRIBUTES, STUN_ATTR_REFLECTED_FROM, STUN_ATTR_REALM,
	STUN_ATTR_NONCE, STUN_ATTR_XOR_MAPPED_ADDRESS, STUN_ATTR_PADDING,
	STUN_ATTR_RESPONSE_PORT, STUN_ATTR_XOR_MAPPED_ADDRESS_OLD, STUN_ATTR_SOFTWARE,
	STUN_ATTR_ALTERNATE_SERVER, STUN_ATTR_FINGERPRINT, STUN_ATTR_RESPONSE_ORIGIN,
	STUN_ATTR_OTHER_ADDRESS, 0x0024, 0x8029,
};

static const uint16_t addr_types[] = {
	STUN_ATTR_MAPPED_ADDRESS, STUN_ATTR_RESPONSE_ADDRESS, STUN_ATTR_SOURCE_ADDRESS,
	STUN_ATTR_CHANGED_ADDRESS, STUN_ATTR_REFLECTED_FROM, STUN_ATTR_XOR_MAPPED_ADDRESS,
	STUN_ATTR_XOR_MAPPED_ADDRESS_OLD, STUN_ATTR_ALTERNATE_SERVER,
	STUN_ATTR_RESPONSE_ORIGIN, STUN_ATTR_OTHER_ADDRESS,
};

#define NTYPES (sizeof types / sizeof types[0])
#define NADDR  (sizeof addr_types / sizeof addr_types[0])

static uint8_t out[STUN_MAX_MSG];
static uint8_t one[STUN_MAX_MSG];

static int is_xor(uint16_t t)
{
	return t == STUN_ATTR_XOR_MAPPED_ADDRESS || t == STUN_ATTR_XOR_MAPPED_ADDRESS_OLD;
}

/* The layout promises: attributes tile the message exactly, the unknown
 * list is deduplicated and comprehension-required, MI/FP sit at the end. */
static void check_layout(const struct stun_msg *m, const uint8_t *data, size_t size)
{
	size_t off = STUN_HEADER_LEN;

	CHECK(m->buf == data && m->len == size);
	CHECK(size >= STUN_HEADER_LEN && size <= STUN_MAX_MSG && size % 4 == 0);
	CHECK((m->type & 0xC000) == 0);
	CHECK(stun_msg_type(m->method, (enum stun_class)m->cls) == m->type);
	CHECK(m->has_cookie == stun_tid_has_cookie(m->tid));
	CHECK(memcmp(m->tid, data + 4, STUN_TID_LEN) == 0);
	CHECK(m->nattrs <= STUN_MAX_ATTRS && m->nunknown <= STUN_MAX_UNKNOWN);
	for (size_t i = 0; i < m->nattrs; i++) {
		CHECK(m->attrs[i].off == off + 4);
		off += 4 + ((m->attrs[i].len + 3u) & ~3u);
		CHECK(off <= size);
	}
	CHECK(off == size);
	for (size_t i = 0; i < m->nunknown; i++) {
		CHECK(m->unknown[i] < 0x8000);
		CHECK(stun_find(m, m->unknown[i]) >= 0);
		for (size_t j = 0; j < i; j++)
			CHECK(m->unknown[i] != m->unknown[j]);
	}
	if (m->fingerprint_idx >= 0) {
		CHECK((size_t)m->fingerprint_idx == m->nattrs - 1);
		CHECK(m->attrs[m->fingerprint_idx].type == STUN_ATTR_FINGERPRINT);
	} else {
		CHECK(stun_find(m, STUN_ATTR_FINGERPRINT) < 0);
	}
	if (m->integrity_idx >= 0) {
		size_t after = m->nattrs - 1 - (size_t)m->integrity_idx;

		CHECK(m->attrs[m->integrity_idx].type == STUN_ATTR_MESSAGE_INTEGRITY);
		CHECK(after == 0 || (after == 1 && m->fingerprint_idx >= 0));
	} else {
		CHECK(stun_find(m, STUN_ATTR_MESSAGE_INTEGRITY) < 0);
	}
}

/* An address read by the getter, encoded again alone, gives the same wire
 * value (byte 0 is reserved and may differ). */
static void check_addr_roundtrip(const struct stun_msg *m, uint16_t type, const struct stun_addr *a)
{
	struct stun_enc e;
	struct stun_msg m2;
	struct stun_addr b;
	const uint8_t *v1, *v2;
	size_t l1, l2, n;

	stun_enc_init(&e, one, sizeof one, STUN_BINDING_SUCCESS, m->tid);
	stun_enc_addr(&e, type, a);
	CHECK(stun_enc_finish(&e, &n) == STUN_OK);
	CHECK(stun_decode(one, n, &m2) == STUN_OK);
	CHECK(stun_get_bytes(m, type, &v1, &l1) == STUN_OK);
	CHECK(stun_get_bytes(&m2, type, &v2, &l2) == STUN_OK);
	CHECK(l1 == l2 && memcmp(v1 + 1, v2 + 1, l1 - 1) == 0);
	CHECK(stun_get_addr(&m2, type, &b) == STUN_OK);
	CHECK(a->family == b.family && a->port == b.port);
	CHECK(memcmp(a->addr, b.addr, a->family == 4 ? 4 : 16) == 0);
}

static void check_getters(const struct stun_msg *m)
{
	struct stun_addr a;
	const uint8_t *v;
	size_t l, n;
	uint32_t flags;
	uint16_t port, ua[STUN_MAX_UNKNOWN];
	int code;
	const char *reason;
	enum stun_status st;

	for (size_t i = 0; i < NTYPES; i++) {
		int at = stun_find(m, types[i]);

		st = stun_get_bytes(m, types[i], &v, &l);
		CHECK(at >= 0 ? st == STUN_OK : st == STUN_ERR_NOT_FOUND);
		if (st == STUN_OK) {
			CHECK(v == m->buf + m->attrs[at].off && l == m->attrs[at].len);
			CHECK(v + l <= m->buf + m->len);
		}
	}
	for (size_t i = 0; i < NADDR; i++) {
		uint16_t t = addr_types[i];

		st = stun_get_addr(m, t, &a);
		if (stun_find(m, t) < 0) {
			CHECK(st == STUN_ERR_NOT_FOUND);
		} else if (is_xor(t) && !m->has_cookie) {
			CHECK(st == STUN_ERR_NO_COOKIE);
		} else {
			CHECK(st == STUN_OK && (a.family == 4 || a.family == 6));
			check_addr_roundtrip(m, t, &a);
		}
	}
	CHECK(stun_get_addr(m, STUN_ATTR_USERNAME, &a) == STUN_ERR_ARG);
	st = stun_get_mapped(m, &a);
	CHECK(st == STUN_OK || st == STUN_ERR_NOT_FOUND || st == STUN_ERR_NO_COOKIE);

	st = stun_get_change_request(m, &flags);
	CHECK(st == (stun_find(m, STUN_ATTR_CHANGE_REQUEST) >= 0 ? STUN_OK : STUN_ERR_NOT_FOUND));
	if (st == STUN_OK)
		CHECK((flags & ~(uint32_t)(STUN_CHANGE_IP | STUN_CHANGE_PORT)) == 0);
	st = stun_get_response_port(m, &port);
	CHECK(st == (stun_find(m, STUN_ATTR_RESPONSE_PORT) >= 0 ? STUN_OK : STUN_ERR_NOT_FOUND));

	st = stun_get_error(m, &code, &reason, &l);
	CHECK(st == (stun_find(m, STUN_ATTR_ERROR_CODE) >= 0 ? STUN_OK : STUN_ERR_NOT_FOUND));
	if (st == STUN_OK) {
		CHECK(code >= 300 && code <= 699 && l <= STUN_MAX_TEXT);
		CHECK((const uint8_t *)reason + l <= m->buf + m->len);
	}
	st = stun_get_unknown_attrs(m, ua, STUN_MAX_UNKNOWN, &n);
	CHECK(st == (stun_find(m, STUN_ATTR_UNKNOWN_ATTRIBUTES) >= 0 ? STUN_OK : STUN_ERR_NOT_FOUND));
	if (st == STUN_OK)
		CHECK(n <= STUN_MAX_UNKNOWN);
}

static void check_integrity(const struct stun_msg *m)
{
	/* A 16-byte key, the size of a long-term one (RFC 5389 15.4). */
	static const uint8_t lt[16] = { 0xe8, 0xca, 0x7a, 0xd5, 0x9d, 0x5e, 0xb0, 0x51,
	                                0x8e, 0x31, 0x29, 0x11, 0xd2, 0xda, 0xb2, 0xa9 };
	enum stun_status st, want = m->integrity_idx >= 0 ? STUN_ERR_INTEGRITY : STUN_ERR_NO_INTEGRITY;

	st = stun_check_integrity(m, fuzz_key, sizeof fuzz_key - 1);
	CHECK(st == want || (st == STUN_OK && m->integrity_idx >= 0));
	st = stun_check_integrity(m, lt, sizeof lt);
	CHECK(st == want || (st == STUN_OK && m->integrity_idx >= 0));
}

/* Encode every decoded attribute again, MESSAGE-INTEGRITY under the fuzz
 * key: the result must have the same size and decode to the same list. */
static void check_reencode(const struct stun_msg *m)
{
	struct stun_enc e;
	struct stun_msg m2;
	size_t n;

	stun_enc_init(&e, out, sizeof out, m->type, m->tid);
	for (size_t i = 0; i < m->nattrs; i++) {
		const struct stun_attr *a = &m->attrs[i];

		if (a->type == STUN_ATTR_MESSAGE_INTEGRITY)
			stun_enc_integrity(&e, fuzz_key, sizeof fuzz_key - 1);
		else if (a->type == STUN_ATTR_FINGERPRINT)
			stun_enc_fingerprint(&e);
		else
			stun_enc_bytes(&e, a->type, m->buf + a->off, a->len);
	}
	CHECK(stun_enc_finish(&e, &n) == STUN_OK);
	CHECK(n == m->len);
	CHECK(stun_decode(out, n, &m2) == STUN_OK);
	CHECK(memcmp(out, m->buf, STUN_HEADER_LEN) == 0);
	CHECK(m2.nattrs == m->nattrs && m2.nunknown == m->nunknown);
	CHECK(memcmp(m2.unknown, m->unknown, m->nunknown * sizeof m->unknown[0]) == 0);
	CHECK(m2.integrity_idx == m->integrity_idx && m2.fingerprint_idx == m->fingerprint_idx);
	for (size_t i = 0; i < m->nattrs; i++) {
		const struct stun_attr *a = &m->attrs[i], *b = &m2.attrs[i];

		CHECK(a->type == b->type && a->len == b->len && a->off == b->off);
		if (a->type != STUN_ATTR_MESSAGE_INTEGRITY && a->type != STUN_ATTR_FINGERPRINT)
			CHECK(memcmp(m->buf + a->off, out + b->off, a->len) == 0);
	}
	if (m2.integrity_idx >= 0)
		CHECK(stun_check_integrity(&m2, fuzz_key, sizeof fuzz_key - 1) == STUN_OK);
}

/* ERROR-CODE and UNKNOWN-ATTRIBUTES through their own encoders. */
static void check_typed_reencode(const struct stun_msg *m)
{
	struct stun_enc e;
	struct stun_msg m2;
	uint16_t ua[STUN_MAX_UNKNOWN], ub[STUN_MAX_UNKNOWN + 1];
	char reason[STUN_MAX_TEXT + 1];
	const char *r;
	size_t rl, n, nb, len;
	int code, code2;

	if (stun_get_error(m, &code, &r, &rl) == STUN_OK && memchr(r, 0, rl) == NULL) {
		const char *r2;
		size_t rl2;
		/* The RFC 3489 form pads the phrase with spaces to a multiple
		 * of four (RFC 3489 11.2.9), and refuses one that would not
		 * fit STUN_MAX_TEXT so padded. */
		size_t want = stun_tid_has_cookie(m->tid) ? rl : (rl + 3) & ~(size_t)3;

		memcpy(reason, r, rl);
		reason[rl] = '\0';
		stun_enc_init(&e, one, sizeof one, m->type, m->tid);
		stun_enc_error(&e, code, reason);
		if (want > STUN_MAX_TEXT) {
			CHECK(stun_enc_finish(&e, &len) == STUN_ERR_ARG);
		} else {
			CHECK(stun_enc_finish(&e, &len) == STUN_OK);
			CHECK(stun_decode(one, len, &m2) == STUN_OK);
			CHECK(stun_get_error(&m2, &code2, &r2, &rl2) == STUN_OK);
			CHECK(code2 == code && rl2 == want && memcmp(r2, r, rl) == 0);
			for (size_t k = rl; k < rl2; k++)
				CHECK(r2[k] == ' ');
		}
	}
	if (stun_get_unknown_attrs(m, ua, STUN_MAX_UNKNOWN, &n) == STUN_OK) {
		stun_enc_init(&e, one, sizeof one, m->type, m->tid);
		stun_enc_unknown_attrs(&e, ua, n);
		CHECK(stun_enc_finish(&e, &len) == STUN_OK);
		CHECK(stun_decode(one, len, &m2) == STUN_OK);
		CHECK(stun_get_unknown_attrs(&m2, ub, STUN_MAX_UNKNOWN + 1, &nb) == STUN_OK);
		/* RFC 3489 form repeats the last type of an odd list. */
		CHECK(nb == n || (nb == n + 1 && !m->has_cookie && ub[n] == ub[n - 1]));
		CHECK(memcmp(ua, ub, n * sizeof ua[0]) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	enum stun_status st = stun_decode(data, size, &m);

	CHECK((int)st >= 0 && st < STUN_ERR__COUNT);
	CHECK(stun_strerror(st) != NULL);
	if (st != STUN_OK)
		return 0;
	check_layout(&m, data, size);
	check_getters(&m);
	check_integrity(&m);
	check_reencode(&m);
	check_typed_reencode(&m);
	return 0;
}
