/*
 * stun.c - the STUN wire format: a strict decoder for hostile datagrams,
 * attribute getters, MESSAGE-INTEGRITY / FINGERPRINT, and an encoder with
 * sticky errors.  See stun.h for the contract and the return convention.
 *
 * Pure: no sockets, no allocation, no stdio, no global mutable state.
 * Every read of wire bytes is preceded by a bounds check against the
 * datagram length; the decoder validates once and the getters check the
 * lengths again, so a hand-built struct stun_msg cannot make them over-read.
 */
#include <string.h>

#include "hash.h"
#include "stun.h"

#define MI_LEN  20                  /* HMAC-SHA1 output (RFC 5389 15.4) */
#define FP_LEN  4                   /* CRC-32 (RFC 5389 15.5) */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Attribute values are padded to a multiple of four (RFC 5389 section 15). */
static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static const char *const status_text[STUN_ERR__COUNT] = {
	[STUN_OK]                       = "ok",
	[STUN_ERR_SHORT]                = "message shorter than the 20-byte header",
	[STUN_ERR_TOO_LONG]             = "message too long",
	[STUN_ERR_NOT_STUN]             = "not a STUN message (top two bits set)",
	[STUN_ERR_LENGTH_UNALIGNED]     = "message length not a multiple of 4",
	[STUN_ERR_LENGTH_MISMATCH]      = "message length does not match the datagram",
	[STUN_ERR_ATTR_TRUNCATED]       = "attribute truncated",
	[STUN_ERR_ATTR_LENGTH]          = "attribute length wrong for its type",
	[STUN_ERR_ATTR_VALUE]           = "attribute value invalid",
	[STUN_ERR_ADDR_FAMILY]          = "unknown address family",
	[STUN_ERR_TOO_MANY_ATTRS]       = "too many attributes",
	[STUN_ERR_AFTER_INTEGRITY]      = "attribute after MESSAGE-INTEGRITY",
	[STUN_ERR_FINGERPRINT_NOT_LAST] = "attribute after FINGERPRINT",
	[STUN_ERR_FINGERPRINT]          = "FINGERPRINT mismatch",
	[STUN_ERR_INTEGRITY]            = "MESSAGE-INTEGRITY mismatch",
	[STUN_ERR_NO_INTEGRITY]         = "no MESSAGE-INTEGRITY",
	[STUN_ERR_NOT_FOUND]            = "attribute not found",
	[STUN_ERR_NO_COOKIE]            = "XOR address without the magic cookie",
	[STUN_ERR_NOSPACE]              = "output buffer too small",
	[STUN_ERR_ARG]                  = "argument out of range",
};

const char *stun_strerror(int status)
{
	if (status < 0 || status >= STUN_ERR__COUNT || status_text[status] == NULL)
		return "unknown status";
	return status_text[status];
}

int stun_tid_has_cookie(const uint8_t tid[STUN_TID_LEN])
{
	return get32(tid) == STUN_MAGIC_COOKIE;
}

/*
 * RFC 5389 section 6, figure 3: the class bits C1 C0 sit at bits 8 and 4,
 * the method fills the rest: M0-M3 bits 0-3, M4-M6 bits 5-7, M7-M11 bits 9-13.
 */
uint16_t stun_msg_type(uint16_t method, enum stun_class cls)
{
	unsigned m = method & 0x0FFFu, c = (unsigned)cls & 3u;

	return (uint16_t)((m & 0x000Fu) | (m & 0x0070u) << 1 | (m & 0x0F80u) << 2 |
	                  (c & 1u) << 4 | (c & 2u) << 7);
}

static uint16_t type_method(uint16_t t)
{
	return (uint16_t)((t & 0x000Fu) | (t >> 1 & 0x0070u) | (t >> 2 & 0x0F80u));
}

static uint8_t type_class(uint16_t t)
{
	return (uint8_t)((t >> 4 & 1u) | (t >> 7 & 2u));
}

static int is_xor_type(uint16_t t)
{
	return t == STUN_ATTR_XOR_MAPPED_ADDRESS || t == STUN_ATTR_XOR_MAPPED_ADDRESS_OLD;
}

static int is_addr_type(uint16_t t)
{
	switch (t) {
	case STUN_ATTR_MAPPED_ADDRESS:
	case STUN_ATTR_RESPONSE_ADDRESS:
	case STUN_ATTR_SOURCE_ADDRESS:
	case STUN_ATTR_CHANGED_ADDRESS:
	case STUN_ATTR_REFLECTED_FROM:
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
	case STUN_ATTR_XOR_MAPPED_ADDRESS_OLD:
	case STUN_ATTR_ALTERNATE_SERVER:
	case STUN_ATTR_RESPONSE_ORIGIN:
	case STUN_ATTR_OTHER_ADDRESS:
		return 1;
	default:
		return 0;
	}
}

/* Every type stun.h names; the rest of 0x0000-0x7FFF is "unknown
 * comprehension-required" (RFC 5389 section 15). */
static int is_known_type(uint16_t t)
{
	if (is_addr_type(t))
		return 1;
	switch (t) {
	case STUN_ATTR_CHANGE_REQUEST:
	case STUN_ATTR_USERNAME:
	case STUN_ATTR_PASSWORD:
	case STUN_ATTR_MESSAGE_INTEGRITY:
	case STUN_ATTR_ERROR_CODE:
	case STUN_ATTR_UNKNOWN_ATTRIBUTES:
	case STUN_ATTR_REALM:
	case STUN_ATTR_NONCE:
	case STUN_ATTR_PADDING:
	case STUN_ATTR_RESPONSE_PORT:
	case STUN_ATTR_SOFTWARE:
	case STUN_ATTR_FINGERPRINT:
		return 1;
	default:
		return 0;
	}
}

/* Address value (RFC 5389 15.1): reserved, family, port, then 4 or 16
 * address bytes.  Short values are a length error; a family we cannot size
 * is its own error, so a caller can tell a future family from garbage. */
static enum stun_status check_addr(const uint8_t *v, size_t len)
{
	if (len < 4)
		return STUN_ERR_ATTR_LENGTH;
	switch (v[1]) {
	case 0x01:
		return len == 8 ? STUN_OK : STUN_ERR_ATTR_LENGTH;
	case 0x02:
		return len == 20 ? STUN_OK : STUN_ERR_ATTR_LENGTH;
	default:
		return STUN_ERR_ADDR_FAMILY;
	}
}

/* ERROR-CODE (RFC 5389 15.6): class 3..6 in the low three bits of byte 2,
 * number 0..99 in byte 3, then a reason of at most 763 bytes. */
static enum stun_status check_error(const uint8_t *v, size_t len)
{
	if (len < 4 || len - 4 > STUN_MAX_TEXT)
		return STUN_ERR_ATTR_LENGTH;
	if ((v[2] & 7) < 3 || (v[2] & 7) > 6 || v[3] > 99)
		return STUN_ERR_ATTR_VALUE;
	return STUN_OK;
}

/*
 * The per-type rules, shared by the decoder and stun_enc_bytes() so the
 * encoder can never produce what the decoder refuses.  v has len readable
 * bytes.  Types without a rule (PADDING, PASSWORD, unknown) take any length.
 */
static enum stun_status check_value(uint16_t type, const uint8_t *v, size_t len)
{
	if (is_addr_type(type))
		return check_addr(v, len);
	switch (type) {
	case STUN_ATTR_CHANGE_REQUEST:          /* RFC 5780 7.2: 32 bits of flags */
	case STUN_ATTR_RESPONSE_PORT:           /* RFC 5780 7.5: port + 2 bytes padding */
	case STUN_ATTR_FINGERPRINT:             /* RFC 5389 15.5 */
		return len == 4 ? STUN_OK : STUN_ERR_ATTR_LENGTH;
	case STUN_ATTR_MESSAGE_INTEGRITY:       /* RFC 5389 15.4 */
		return len == MI_LEN ? STUN_OK : STUN_ERR_ATTR_LENGTH;
	case STUN_ATTR_ERROR_CODE:
		return check_error(v, len);
	case STUN_ATTR_UNKNOWN_ATTRIBUTES:      /* RFC 5389 15.9: 16-bit types */
		return len % 2 == 0 ? STUN_OK : STUN_ERR_ATTR_LENGTH;
	case STUN_ATTR_USERNAME:                /* RFC 5389 15.3 */
		return len <= STUN_MAX_USERNAME ? STUN_OK : STUN_ERR_ATTR_LENGTH;
	case STUN_ATTR_REALM:                   /* RFC 5389 15.7, 15.8, 15.10 */
	case STUN_ATTR_NONCE:
	case STUN_ATTR_SOFTWARE:
		return len <= STUN_MAX_TEXT ? STUN_OK : STUN_ERR_ATTR_LENGTH;
	default:
		return STUN_OK;
	}
}

/* ------------------------------------------------------------ decoder */

enum stun_status stun_peek_header(const uint8_t *buf, size_t len, struct stun_header *h)
{
	if (len < STUN_HEADER_LEN)
		return STUN_ERR_SHORT;
	if (buf == NULL || h == NULL)
		return STUN_ERR_ARG;
	if (len > STUN_MAX_MSG)
		return STUN_ERR_TOO_LONG;
	/* RFC 5389 section 6: the two most significant bits are zero; this is
	 * what tells STUN from other protocols multiplexed on the same port. */
	if (buf[0] & 0xC0)
		return STUN_ERR_NOT_STUN;
	if (get16(buf + 2) % 4 != 0)
		return STUN_ERR_LENGTH_UNALIGNED;
	if ((size_t)STUN_HEADER_LEN + get16(buf + 2) != len)
		return STUN_ERR_LENGTH_MISMATCH;
	h->type = get16(buf);
	h->method = type_method(h->type);
	h->cls = type_class(h->type);
	h->has_cookie = get32(buf + 4) == STUN_MAGIC_COOKIE;
	h->length = get16(buf + 2);
	memcpy(h->tid, buf + 4, STUN_TID_LEN);
	return STUN_OK;
}

enum stun_status stun_decode(const uint8_t *buf, size_t len, struct stun_msg *msg)
{
	struct stun_header h;
	struct stun_msg m;
	enum stun_status hst;
	size_t off;
	int fp = -1;

	if (len >= STUN_HEADER_LEN && msg == NULL)
		return STUN_ERR_ARG;
	hst = stun_peek_header(buf, len, &h);
	if (hst != STUN_OK)
		return hst;

	memset(&m, 0, sizeof m);
	m.buf = buf;
	m.len = len;
	m.type = h.type;
	m.method = h.method;
	m.cls = h.cls;
	m.has_cookie = h.has_cookie;
	memcpy(m.tid, h.tid, STUN_TID_LEN);
	m.integrity_idx = -1;
	m.fingerprint_idx = -1;

	/*
	 * Attributes until the datagram is used up exactly.  Because len and
	 * every padded attribute are multiples of four, "padded value fits"
	 * also guarantees the next header starts on a boundary with either
	 * nothing or at least four bytes left; the first test is kept anyway
	 * so the loop does not depend on that reasoning for its safety.
	 */
	for (off = STUN_HEADER_LEN; off < len;) {
		uint16_t at, alen;
		size_t room;
		enum stun_status st;

		if (len - off < 4)
			return STUN_ERR_ATTR_TRUNCATED;
		at = get16(buf + off);
		alen = get16(buf + off + 2);
		room = len - off - 4;
		if (pad4(alen) > room)          /* value and its padding */
			return STUN_ERR_ATTR_TRUNCATED;
		/* RFC 5389 15.5: FINGERPRINT is the last attribute. */
		if (fp >= 0)
			return STUN_ERR_FINGERPRINT_NOT_LAST;
		/* RFC 5389 15.4: only FINGERPRINT may follow MESSAGE-INTEGRITY.  The
		 * RFC lets a receiver ignore the rest; we refuse, since nothing a
		 * correct peer sends lands there and ignoring invites confusion. */
		if (m.integrity_idx >= 0 && at != STUN_ATTR_FINGERPRINT)
			return STUN_ERR_AFTER_INTEGRITY;
		if (m.nattrs == STUN_MAX_ATTRS)
			return STUN_ERR_TOO_MANY_ATTRS;
		st = check_value(at, buf + off + 4, alen);
		if (st != STUN_OK)
			return st;

		if (at < 0x8000 && !is_known_type(at)) {
			size_t i;

			for (i = 0; i < m.nunknown && m.unknown[i] != at; i++)
				;
			/* Beyond STUN_MAX_UNKNOWN distinct types the rest are
			 * dropped: nunknown > 0 already says "reject this". */
			if (i == m.nunknown && m.nunknown < STUN_MAX_UNKNOWN)
				m.unknown[m.nunknown++] = at;
		}
		if (at == STUN_ATTR_MESSAGE_INTEGRITY)
			m.integrity_idx = (int)m.nattrs;
		if (at == STUN_ATTR_FINGERPRINT)
			fp = (int)m.nattrs;
		m.attrs[m.nattrs].type = at;
		m.attrs[m.nattrs].len = alen;
		m.attrs[m.nattrs].off = (uint16_t)(off + 4);
		m.nattrs++;
		off += 4 + pad4(alen);
	}

	/* RFC 5389 15.5: CRC-32 of the message up to FINGERPRINT's header, with
	 * the header length as it stands (it already counts FINGERPRINT). */
	if (fp >= 0) {
		const struct stun_attr *a = &m.attrs[fp];

		if (stun_fingerprint(buf, (size_t)a->off - 4) != get32(buf + a->off))
			return STUN_ERR_FINGERPRINT;
		m.fingerprint_idx = fp;
	}
	*msg = m;
	return STUN_OK;
}

int stun_find(const struct stun_msg *msg, uint16_t type)
{
	size_t n;

	if (msg == NULL)
		return -1;
	n = msg->nattrs < STUN_MAX_ATTRS ? msg->nattrs : STUN_MAX_ATTRS;
	for (size_t i = 0; i < n; i++) {
		if (msg->attrs[i].type == type)
			return (int)i;
	}
	return -1;
}

/* The value of the first attribute of this type, re-checked against the
 * message bounds (getters may be handed a struct not made by stun_decode). */
static enum stun_status attr_value(const struct stun_msg *msg, uint16_t type,
                                   const uint8_t **v, size_t *len)
{
	int i = stun_find(msg, type);
	const struct stun_attr *a;

	if (i < 0)
		return STUN_ERR_NOT_FOUND;
	a = &msg->attrs[i];
	if (msg->buf == NULL || msg->len > STUN_MAX_MSG || a->off < STUN_HEADER_LEN + 4 ||
	    (size_t)a->off + a->len > msg->len)
		return STUN_ERR_ATTR_TRUNCATED;
	*v = msg->buf + a->off;
	*len = a->len;
	return STUN_OK;
}

enum stun_status stun_get_addr(const struct stun_msg *msg, uint16_t type, struct stun_addr *out)
{
	const uint8_t *v;
	size_t len;
	enum stun_status st;
	struct stun_addr a;
	uint8_t mask[STUN_TID_LEN];

	if (msg == NULL || out == NULL || !is_addr_type(type))
		return STUN_ERR_ARG;
	st = attr_value(msg, type, &v, &len);
	if (st != STUN_OK)
		return st;
	st = check_addr(v, len);
	if (st != STUN_OK)
		return st;

	/* RFC 5389 15.2: port XOR the cookie's top 16 bits, address XOR the
	 * cookie (IPv4) or the cookie and the 96-bit transaction ID (IPv6). */
	memset(mask, 0, sizeof mask);
	if (is_xor_type(type)) {
		if (!msg->has_cookie)
			return STUN_ERR_NO_COOKIE;
		put32(mask, STUN_MAGIC_COOKIE);
		memcpy(mask + 4, msg->tid + 4, STUN_TID_LEN - 4);
	}
	memset(&a, 0, sizeof a);
	a.family = v[1] == 0x01 ? 4 : 6;
	a.port = (uint16_t)(get16(v + 2) ^ get16(mask));
	for (size_t i = 0; i < len - 4; i++)
		a.addr[i] = v[4 + i] ^ mask[i];
	*out = a;
	return STUN_OK;
}

enum stun_status stun_get_mapped(const struct stun_msg *msg, struct stun_addr *out)
{
	if (msg == NULL || out == NULL)
		return STUN_ERR_ARG;
	/* An RFC 3489 server answering a cookie-carrying request echoes the
	 * cookie but sends only MAPPED-ADDRESS, hence the fall-back. */
	if (msg->has_cookie) {
		if (stun_find(msg, STUN_ATTR_XOR_MAPPED_ADDRESS) >= 0)
			return stun_get_addr(msg, STUN_ATTR_XOR_MAPPED_ADDRESS, out);
		if (stun_find(msg, STUN_ATTR_XOR_MAPPED_ADDRESS_OLD) >= 0)
			return stun_get_addr(msg, STUN_ATTR_XOR_MAPPED_ADDRESS_OLD, out);
	}
	return stun_get_addr(msg, STUN_ATTR_MAPPED_ADDRESS, out);
}

enum stun_status stun_get_change_request(const struct stun_msg *msg, uint32_t *flags)
{
	const uint8_t *v;
	size_t len;
	enum stun_status st;

	if (msg == NULL || flags == NULL)
		return STUN_ERR_ARG;
	st = attr_value(msg, STUN_ATTR_CHANGE_REQUEST, &v, &len);
	if (st != STUN_OK)
		return st;
	if (len != 4)
		return STUN_ERR_ATTR_LENGTH;
	*flags = get32(v) & (STUN_CHANGE_IP | STUN_CHANGE_PORT);
	return STUN_OK;
}

enum stun_status stun_get_response_port(const struct stun_msg *msg, uint16_t *port)
{
	const uint8_t *v;
	size_t len;
	enum stun_status st;

	if (msg == NULL || port == NULL)
		return STUN_ERR_ARG;
	st = attr_value(msg, STUN_ATTR_RESPONSE_PORT, &v, &len);
	if (st != STUN_OK)
		return st;
	if (len != 4)
		return STUN_ERR_ATTR_LENGTH;
	*port = get16(v);
	return STUN_OK;
}

enum stun_status stun_get_error(const struct stun_msg *msg, int *code,
                                const char **reason, size_t *reason_len)
{
	const uint8_t *v;
	size_t len;
	enum stun_status st;

	if (msg == NULL || code == NULL)
		return STUN_ERR_ARG;
	st = attr_value(msg, STUN_ATTR_ERROR_CODE, &v, &len);
	if (st != STUN_OK)
		return st;
	st = check_error(v, len);
	if (st != STUN_OK)
		return st;
	*code = (v[2] & 7) * 100 + v[3];
	if (reason != NULL)
		*reason = (const char *)v + 4;
	if (reason_len != NULL)
		*reason_len = len - 4;
	return STUN_OK;
}

enum stun_status stun_get_unknown_attrs(const struct stun_msg *msg, uint16_t *types,
                                        size_t max, size_t *n)
{
	const uint8_t *v;
	size_t len, count;
	enum stun_status st;

	if (msg == NULL || n == NULL || (types == NULL && max > 0))
		return STUN_ERR_ARG;
	st = attr_value(msg, STUN_ATTR_UNKNOWN_ATTRIBUTES, &v, &len);
	if (st != STUN_OK)
		return st;
	if (len % 2 != 0)
		return STUN_ERR_ATTR_LENGTH;
	count = len / 2 < max ? len / 2 : max;
	for (size_t i = 0; i < count; i++)
		types[i] = get16(v + 2 * i);
	*n = count;
	return STUN_OK;
}

enum stun_status stun_get_bytes(const struct stun_msg *msg, uint16_t type,
                                const uint8_t **val, size_t *len)
{
	const uint8_t *v;
	size_t l;
	enum stun_status st;

	if (msg == NULL || val == NULL || len == NULL)
		return STUN_ERR_ARG;
	st = attr_value(msg, type, &v, &l);
	if (st != STUN_OK)
		return st;
	*val = v;
	*len = l;
	return STUN_OK;
}

/* ------------------------------------------------------------ integrity */

uint32_t stun_fingerprint(const uint8_t *data, size_t len)
{
	return hash_crc32(data, len) ^ STUN_FINGERPRINT_XOR;
}

/*
 * RFC 5389 section 15.4: the HMAC covers the header and the attributes
 * before MESSAGE-INTEGRITY, with the header length field set as if
 * MESSAGE-INTEGRITY were the last attribute, so a FINGERPRINT after it is
 * excluded.  The length is patched in a 4-byte copy of the header start, so
 * the caller's buffer is never written and nothing is copied whole.  The
 * same rule is applied in the RFC 3489 form: RFC 3489's variant (text
 * padded to 64 bytes, length unadjusted) is not supported, as natcheck uses
 * no credentials with RFC 3489 servers.
 */
enum stun_status stun_check_integrity(const struct stun_msg *msg,
                                      const uint8_t *key, size_t keylen)
{
	const struct stun_attr *a;
	struct hash_hmac_sha1 h;
	uint8_t head[4], mac[HASH_SHA1_LEN];
	size_t nattrs;

	if (msg == NULL || (key == NULL && keylen > 0))
		return STUN_ERR_ARG;
	nattrs = msg->nattrs < STUN_MAX_ATTRS ? msg->nattrs : STUN_MAX_ATTRS;
	if (msg->integrity_idx < 0 || (size_t)msg->integrity_idx >= nattrs)
		return STUN_ERR_NO_INTEGRITY;
	a = &msg->attrs[msg->integrity_idx];
	if (msg->buf == NULL || a->type != STUN_ATTR_MESSAGE_INTEGRITY || a->len != MI_LEN ||
	    a->off < STUN_HEADER_LEN + 4 || (size_t)a->off + MI_LEN > msg->len)
		return STUN_ERR_INTEGRITY;

	/* Length = bytes after the header up to the end of MESSAGE-INTEGRITY,
	 * i.e. (a->off + 20) - 20 = a->off. */
	head[0] = msg->buf[0];
	head[1] = msg->buf[1];
	put16(head + 2, a->off);
	hash_hmac_sha1_init(&h, key, keylen);
	hash_hmac_sha1_update(&h, head, sizeof head);
	hash_hmac_sha1_update(&h, msg->buf + 4, (size_t)a->off - 4 - 4);
	hash_hmac_sha1_final(&h, mac);
	return hash_ct_diff(mac, msg->buf + a->off, MI_LEN) ? STUN_ERR_INTEGRITY : STUN_OK;
}

/* ------------------------------------------------------------ encoder */

static void enc_fail(struct stun_enc *e, enum stun_status st)
{
	if (e->err == STUN_OK)
		e->err = st;
}

/* Type of the last attribute encoded so far, or -1: the encoder keeps no
 * extra state, so it walks what it wrote (at most STUN_MAX_MSG bytes). */
static int enc_last_type(const struct stun_enc *e)
{
	size_t off = STUN_HEADER_LEN;
	int last = -1;

	while (off + 4 <= e->len) {
		last = get16(e->buf + off);
		off += 4 + pad4(get16(e->buf + off + 2));
	}
	return last;
}

/*
 * Append an attribute header for vlen value bytes, zero the padding, update
 * the header length, and return where the value goes; NULL after an error.
 * Enforces the RFC 5389 15.4/15.5 order: after MESSAGE-INTEGRITY only
 * FINGERPRINT, after FINGERPRINT nothing.
 */
static uint8_t *enc_put(struct stun_enc *e, uint16_t type, size_t vlen)
{
	int last;
	size_t need;
	uint8_t *p;

	if (e->err != STUN_OK)
		return NULL;
	last = enc_last_type(e);
	if (last == STUN_ATTR_FINGERPRINT ||
	    (last == STUN_ATTR_MESSAGE_INTEGRITY && type != STUN_ATTR_FINGERPRINT) ||
	    vlen > 0xFFFF) {
		enc_fail(e, STUN_ERR_ARG);
		return NULL;
	}
	need = 4 + pad4(vlen);
	/* Both sides are bounded (len <= cap, len <= STUN_MAX_MSG), so the
	 * subtractions cannot wrap.  The cap keeps every message decodable. */
	if (need > e->cap - e->len || need > STUN_MAX_MSG - e->len) {
		enc_fail(e, STUN_ERR_NOSPACE);
		return NULL;
	}
	p = e->buf + e->len;
	put16(p, type);
	put16(p + 2, (uint16_t)vlen);
	memset(p + 4 + vlen, 0, pad4(vlen) - vlen);
	e->len += need;
	put16(e->buf + 2, (uint16_t)(e->len - STUN_HEADER_LEN));
	return p + 4;
}

void stun_enc_init(struct stun_enc *e, uint8_t *buf, size_t cap, uint16_t type,
                   const uint8_t tid[STUN_TID_LEN])
{
	memset(e, 0, sizeof *e);
	e->buf = buf;
	e->cap = cap;
	e->err = STUN_OK;
	if (buf == NULL || tid == NULL || (type & 0xC000)) {
		e->err = STUN_ERR_ARG;
		return;
	}
	memcpy(e->tid, tid, STUN_TID_LEN);
	if (cap < STUN_HEADER_LEN) {
		e->err = STUN_ERR_NOSPACE;
		return;
	}
	put16(buf, type);
	put16(buf + 2, 0);
	memcpy(buf + 4, tid, STUN_TID_LEN);
	e->len = STUN_HEADER_LEN;
}

void stun_enc_addr(struct stun_enc *e, uint16_t type, const struct stun_addr *a)
{
	uint8_t mask[STUN_TID_LEN];
	size_t alen;
	uint8_t *v;

	if (e->err != STUN_OK)
		return;
	if (a == NULL || !is_addr_type(type) || (a->family != 4 && a->family != 6)) {
		enc_fail(e, STUN_ERR_ARG);
		return;
	}
	memset(mask, 0, sizeof mask);
	if (is_xor_type(type)) {
		if (!stun_tid_has_cookie(e->tid)) {
			enc_fail(e, STUN_ERR_NO_COOKIE);
			return;
		}
		memcpy(mask, e->tid, STUN_TID_LEN);   /* cookie, then the 96-bit ID */
	}
	alen = a->family == 4 ? 4 : 16;
	v = enc_put(e, type, 4 + alen);
	if (v == NULL)
		return;
	v[0] = 0;
	v[1] = a->family == 4 ? 0x01 : 0x02;
	put16(v + 2, (uint16_t)(a->port ^ get16(mask)));
	for (size_t i = 0; i < alen; i++)
		v[4 + i] = a->addr[i] ^ mask[i];
}

void stun_enc_change_request(struct stun_enc *e, uint32_t flags)
{
	uint8_t *v;

	if (e->err != STUN_OK)
		return;
	/* RFC 5780 7.2: the other bits must be zero; refuse rather than send them. */
	if (flags & ~(uint32_t)(STUN_CHANGE_IP | STUN_CHANGE_PORT)) {
		enc_fail(e, STUN_ERR_ARG);
		return;
	}
	v = enc_put(e, STUN_ATTR_CHANGE_REQUEST, 4);
	if (v != NULL)
		put32(v, flags);
}

void stun_enc_response_port(struct stun_enc *e, uint16_t port)
{
	uint8_t *v = enc_put(e, STUN_ATTR_RESPONSE_PORT, 4);

	/* RFC 5780 7.5: the port, then two bytes of padding inside the value. */
	if (v != NULL) {
		put16(v, port);
		put16(v + 2, 0);
	}
}

void stun_enc_bytes(struct stun_enc *e, uint16_t type, const void *val, size_t len)
{
	uint8_t *v;

	if (e->err != STUN_OK)
		return;
	/* MESSAGE-INTEGRITY and FINGERPRINT are computed, never copied; every
	 * other value must pass the decoder's rule for its type. */
	if ((val == NULL && len > 0) || len > 0xFFFF || type == STUN_ATTR_MESSAGE_INTEGRITY ||
	    type == STUN_ATTR_FINGERPRINT || check_value(type, val, len) != STUN_OK) {
		enc_fail(e, STUN_ERR_ARG);
		return;
	}
	v = enc_put(e, type, len);
	if (v != NULL && len > 0)
		memcpy(v, val, len);
}

void stun_enc_error(struct stun_enc *e, int code, const char *reason)
{
	size_t rlen = 0, plen;
	uint8_t *v;

	if (e->err != STUN_OK)
		return;
	/* Bounded scan (strnlen is not C11): stop one past the cap. */
	while (reason != NULL && rlen <= STUN_MAX_TEXT && reason[rlen] != '\0')
		rlen++;
	/* RFC 3489 11.2.9: the reason phrase's length is a multiple of four,
	 * padded with spaces (stund rejects anything else); RFC 5389 15.6 pads
	 * the attribute with zeros instead.  Padded, the phrase must still fit
	 * STUN_MAX_TEXT (760 bytes at most in the RFC 3489 form). */
	plen = stun_tid_has_cookie(e->tid) ? rlen : (rlen + 3) & ~(size_t)3;
	if (code < 300 || code > 699 || plen > STUN_MAX_TEXT) {
		enc_fail(e, STUN_ERR_ARG);
		return;
	}
	v = enc_put(e, STUN_ATTR_ERROR_CODE, 4 + plen);
	if (v == NULL)
		return;
	/* RFC 5389 15.6: 21 reserved bits, class (hundreds), number (0..99). */
	v[0] = 0;
	v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	if (rlen > 0)
		memcpy(v + 4, reason, rlen);
	if (plen > rlen)
		memset(v + 4 + rlen, ' ', plen - rlen);
}

void stun_enc_unknown_attrs(struct stun_enc *e, const uint16_t *types, size_t n)
{
	size_t count;
	uint8_t *v;

	if (e->err != STUN_OK)
		return;
	if ((types == NULL && n > 0) || n > 0xFFFF / 2 - 1) {
		enc_fail(e, STUN_ERR_ARG);
		return;
	}
	/* RFC 3489 11.2.10 wants a list whose length is a multiple of four and
	 * repeats one type to get there; RFC 5389 15.9 pads instead.  Repeat in
	 * the RFC 3489 form so old clients, which do not expect padding, parse it. */
	count = n;
	if (!stun_tid_has_cookie(e->tid) && n % 2 == 1)
		count = n + 1;
	v = enc_put(e, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * count);
	if (v == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		put16(v + 2 * i, types[i < n ? i : n - 1]);
}

void stun_enc_integrity(struct stun_enc *e, const uint8_t *key, size_t keylen)
{
	uint8_t *v;
	size_t at;

	if (e->err != STUN_OK)
		return;
	if (key == NULL && keylen > 0) {
		enc_fail(e, STUN_ERR_ARG);
		return;
	}
	/* enc_put has already set the header length to end at MESSAGE-INTEGRITY,
	 * exactly the value RFC 5389 15.4 says the HMAC must see. */
	v = enc_put(e, STUN_ATTR_MESSAGE_INTEGRITY, MI_LEN);
	if (v == NULL)
		return;
	at = (size_t)(v - e->buf) - 4;
	hash_hmac_sha1(key, keylen, e->buf, at, v);
}

void stun_enc_fingerprint(struct stun_enc *e)
{
	uint8_t *v = enc_put(e, STUN_ATTR_FINGERPRINT, FP_LEN);

	if (v != NULL)
		put32(v, stun_fingerprint(e->buf, (size_t)(v - e->buf) - 4));
}

enum stun_status stun_enc_finish(struct stun_enc *e, size_t *len)
{
	if (e == NULL)
		return STUN_ERR_ARG;
	if (e->err != STUN_OK)
		return (enum stun_status)e->err;
	if (len != NULL)
		*len = e->len;
	return STUN_OK;
}
