/*
 * stun.h - the STUN wire format (RFC 3489, RFC 5389/8489, RFC 5780).
 *
 * The codec is pure: no sockets, no allocation, no global state, no stdio.
 * Every byte handed to stun_decode() is treated as hostile.
 *
 * Return convention, once for the whole module: functions that can fail
 * return an enum stun_status; STUN_OK (0) is success and every failure has
 * its own named value (stun_strerror() gives a short text for it).  Nothing
 * is written to an output argument unless the call returns STUN_OK.
 *
 * The transaction ID is kept as the 16 bytes that follow the type and
 * length fields.  In an RFC 5389 message the first four of them are the
 * magic cookie 0x2112A442 and the rest is the 96-bit ID; in an RFC 3489
 * message all 16 are the 128-bit ID.  Keeping both forms in one array
 * makes header encoding and transaction matching identical for both.
 */
#ifndef NATCHECK_STUN_H
#define NATCHECK_STUN_H

#include <stddef.h>
#include <stdint.h>

#define STUN_HEADER_LEN     20
#define STUN_TID_LEN        16          /* cookie + 96-bit ID, or 128-bit ID */
#define STUN_MAGIC_COOKIE   0x2112A442u
#define STUN_MAX_ATTRS      40          /* more attributes: STUN_ERR_TOO_MANY_ATTRS */
#define STUN_MAX_UNKNOWN    16          /* unknown comprehension-required kept */
#define STUN_MAX_MSG        65535       /* largest datagram decode accepts */
#define STUN_FINGERPRINT_XOR 0x5354554eu

/* Message methods and classes (RFC 5389 section 6). */
#define STUN_METHOD_BINDING 0x001

enum stun_class {
	STUN_CLASS_REQUEST    = 0,
	STUN_CLASS_INDICATION = 1,
	STUN_CLASS_SUCCESS    = 2,
	STUN_CLASS_ERROR      = 3
};

/* Whole message types for Binding, valid in both RFC 3489 and RFC 5389. */
#define STUN_BINDING_REQUEST  0x0001
#define STUN_BINDING_SUCCESS  0x0101
#define STUN_BINDING_ERROR    0x0111

/* Attribute types. */
#define STUN_ATTR_MAPPED_ADDRESS     0x0001 /* RFC 3489 */
#define STUN_ATTR_RESPONSE_ADDRESS   0x0002 /* RFC 3489 */
#define STUN_ATTR_CHANGE_REQUEST     0x0003 /* RFC 3489, RFC 5780 */
#define STUN_ATTR_SOURCE_ADDRESS     0x0004 /* RFC 3489 */
#define STUN_ATTR_CHANGED_ADDRESS    0x0005 /* RFC 3489 */
#define STUN_ATTR_USERNAME           0x0006
#define STUN_ATTR_PASSWORD           0x0007 /* RFC 3489 */
#define STUN_ATTR_MESSAGE_INTEGRITY  0x0008
#define STUN_ATTR_ERROR_CODE         0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_ATTR_REFLECTED_FROM     0x000B /* RFC 3489 */
#define STUN_ATTR_REALM              0x0014 /* RFC 5389 */
#define STUN_ATTR_NONCE              0x0015 /* RFC 5389 */
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020 /* RFC 5389 */
#define STUN_ATTR_PADDING            0x0026 /* RFC 5780 */
#define STUN_ATTR_RESPONSE_PORT      0x0027 /* RFC 5780 */
#define STUN_ATTR_XOR_MAPPED_ADDRESS_OLD 0x8020 /* pre-RFC 5389 drafts; still sent by some servers */
#define STUN_ATTR_SOFTWARE           0x8022 /* RFC 5389 */
#define STUN_ATTR_ALTERNATE_SERVER   0x8023 /* RFC 5389 */
#define STUN_ATTR_FINGERPRINT        0x8028 /* RFC 5389 */
#define STUN_ATTR_RESPONSE_ORIGIN    0x802B /* RFC 5780 */
#define STUN_ATTR_OTHER_ADDRESS      0x802C /* RFC 5780 */

/* CHANGE-REQUEST flags (RFC 3489 section 11.2.4, RFC 5780 section 7.2). */
#define STUN_CHANGE_IP   0x04u
#define STUN_CHANGE_PORT 0x02u

/* Length caps from RFC 5389 section 15. */
#define STUN_MAX_USERNAME 513
#define STUN_MAX_TEXT     763   /* REALM, NONCE, SOFTWARE, ERROR-CODE reason */

enum stun_status {
	STUN_OK = 0,
	STUN_ERR_SHORT,              /* fewer than 20 bytes */
	STUN_ERR_TOO_LONG,           /* datagram longer than STUN_MAX_MSG */
	STUN_ERR_NOT_STUN,           /* top two bits of the type are not zero */
	STUN_ERR_LENGTH_UNALIGNED,   /* header length not a multiple of 4 */
	STUN_ERR_LENGTH_MISMATCH,    /* 20 + header length != datagram length */
	STUN_ERR_ATTR_TRUNCATED,     /* attribute header or value runs past the end */
	STUN_ERR_ATTR_LENGTH,        /* attribute length wrong for its type */
	STUN_ERR_ATTR_VALUE,         /* attribute value invalid (e.g. error class 9) */
	STUN_ERR_ADDR_FAMILY,        /* address family neither 0x01 nor 0x02 */
	STUN_ERR_TOO_MANY_ATTRS,     /* more than STUN_MAX_ATTRS attributes */
	STUN_ERR_AFTER_INTEGRITY,    /* attribute other than FINGERPRINT after MESSAGE-INTEGRITY */
	STUN_ERR_FINGERPRINT_NOT_LAST, /* FINGERPRINT is followed by another attribute */
	STUN_ERR_FINGERPRINT,        /* FINGERPRINT present but wrong */
	STUN_ERR_INTEGRITY,          /* MESSAGE-INTEGRITY present but wrong */
	STUN_ERR_NO_INTEGRITY,       /* MESSAGE-INTEGRITY asked for but absent */
	STUN_ERR_NOT_FOUND,          /* getter: attribute absent */
	STUN_ERR_NO_COOKIE,          /* XOR address in a message without the magic cookie */
	STUN_ERR_NOSPACE,            /* encoder: output buffer too small */
	STUN_ERR_ARG,                /* argument out of range (encoder), or a NULL / wrong-kind argument */
	STUN_ERR__COUNT
};

/* An address as carried on the wire; family is 4 or 6, addr in network order. */
struct stun_addr {
	uint8_t  family;            /* 4 or 6 (not the wire value 0x01/0x02) */
	uint16_t port;              /* host byte order */
	uint8_t  addr[16];          /* 4 bytes used for IPv4 */
	uint32_t scope;             /* IPv6: the zone (interface index) of a
	                               link-local address, 0 for none; never on
	                               the wire, never compared */
};

/* One attribute as found: value is msg->buf[off .. off+len). */
struct stun_attr {
	uint16_t type;
	uint16_t len;               /* value length, without padding */
	uint16_t off;               /* offset of the value from the message start */
};

/*
 * A decoded message.  It points into the caller's buffer, which must outlive
 * it.  Attributes are in wire order; a getter returns the first of a type
 * (RFC 5389 section 15: later duplicates are ignored).  Every attribute is
 * recorded in attrs, unknown ones too (so stun_get_bytes reaches them);
 * "skipped" below means not validated and not an error.
 */
struct stun_msg {
	const uint8_t *buf;
	size_t   len;               /* 20 + header length */
	uint16_t type;              /* raw 14-bit message type */
	uint16_t method;            /* 12-bit method */
	uint8_t  cls;               /* enum stun_class */
	uint8_t  has_cookie;        /* bytes 4..7 are the magic cookie */
	uint8_t  tid[STUN_TID_LEN];
	size_t   nattrs;
	struct stun_attr attrs[STUN_MAX_ATTRS];
	/* Unknown comprehension-required types (0x0000-0x7FFF), in order, deduplicated. */
	size_t   nunknown;
	uint16_t unknown[STUN_MAX_UNKNOWN];
	int      integrity_idx;     /* index into attrs of MESSAGE-INTEGRITY, or -1 */
	int      fingerprint_idx;   /* index into attrs of FINGERPRINT (verified), or -1 */
};

/* The fixed 20-byte header, as stun_peek_header() reads it. */
struct stun_header {
	uint16_t type;              /* raw 14-bit message type */
	uint16_t method;            /* 12-bit method */
	uint8_t  cls;               /* enum stun_class */
	uint8_t  has_cookie;        /* bytes 4..7 are the magic cookie */
	uint16_t length;            /* the length field: bytes after the header */
	uint8_t  tid[STUN_TID_LEN];
};

/* A short constant text naming a status ("attribute truncated", ...). */
const char *stun_strerror(int status);

/*
 * stun_peek_header: the header-level checks alone, without reading one
 * attribute: at least 20 bytes (STUN_ERR_SHORT), at most STUN_MAX_MSG
 * (STUN_ERR_TOO_LONG), the top two bits zero (STUN_ERR_NOT_STUN), a length
 * that is a multiple of four (STUN_ERR_LENGTH_UNALIGNED) and that matches
 * the datagram (STUN_ERR_LENGTH_MISMATCH).  RFC 5389 section 7.3 discards a
 * message that fails one of these silently; stun_decode() starts with them.
 * The method and class are split out but not judged: which ones are
 * supported is the caller's business.
 */
enum stun_status stun_peek_header(const uint8_t *buf, size_t len, struct stun_header *h);

/*
 * stun_decode: parse and validate buf[0..len) into *msg.  Checks the header
 * bits, alignment, the 20 + length rule, every attribute's length against
 * its type and the buffer, address families, the position of
 * MESSAGE-INTEGRITY and FINGERPRINT, and verifies FINGERPRINT when present.
 * Unknown comprehension-required attributes are listed in msg->unknown, not
 * rejected.  Unknown comprehension-optional attributes are skipped.
 * The RFC 3489 form (no cookie) is parsed by the same rules: RFC 3489 made
 * every value a multiple of four, so it never needs padding, and the
 * RFC 5389 padded parse accepts it unchanged.  Padding bytes may hold
 * anything (RFC 5769 pads with spaces) and are never inspected.
 */
enum stun_status stun_decode(const uint8_t *buf, size_t len, struct stun_msg *msg);

/* Compose / split a message type (RFC 5389 section 6 bit layout). */
uint16_t stun_msg_type(uint16_t method, enum stun_class cls);

/* Index into msg->attrs of the first attribute of this type, or -1. */
int stun_find(const struct stun_msg *msg, uint16_t type);

/*
 * Address getters.  stun_get_addr reads a plain address attribute
 * (MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS, RESPONSE-ADDRESS,
 * REFLECTED-FROM, ALTERNATE-SERVER, RESPONSE-ORIGIN, OTHER-ADDRESS);
 * for XOR-MAPPED-ADDRESS (either code) it undoes the XOR with the cookie and
 * transaction ID, and fails with STUN_ERR_NO_COOKIE in a message without the
 * cookie.
 */
enum stun_status stun_get_addr(const struct stun_msg *msg, uint16_t type, struct stun_addr *out);

/* The mapped address a response reports: XOR-MAPPED-ADDRESS (0x0020, then
 * 0x8020) when the message carries the cookie, else MAPPED-ADDRESS (also
 * when a cookie message has no XOR form: an RFC 3489 server echoes the
 * cookie in the tid but sends only MAPPED-ADDRESS). */
enum stun_status stun_get_mapped(const struct stun_msg *msg, struct stun_addr *out);

/* CHANGE-REQUEST flags (STUN_CHANGE_IP | STUN_CHANGE_PORT; other bits dropped). */
enum stun_status stun_get_change_request(const struct stun_msg *msg, uint32_t *flags);

/* RESPONSE-PORT's port. */
enum stun_status stun_get_response_port(const struct stun_msg *msg, uint16_t *port);

/* ERROR-CODE: code = class * 100 + number (300..699); reason points into the
 * message, reason_len bytes, not NUL-terminated. */
enum stun_status stun_get_error(const struct stun_msg *msg, int *code,
                                const char **reason, size_t *reason_len);

/* UNKNOWN-ATTRIBUTES: up to max types into types[], count in *n. */
enum stun_status stun_get_unknown_attrs(const struct stun_msg *msg, uint16_t *types,
                                        size_t max, size_t *n);

/* Raw value of any attribute (USERNAME, SOFTWARE, REALM, NONCE, ...). */
enum stun_status stun_get_bytes(const struct stun_msg *msg, uint16_t type,
                                const uint8_t **val, size_t *len);

/*
 * MESSAGE-INTEGRITY (RFC 5389 section 15.4): HMAC-SHA1 over the message up
 * to the attribute, with the header length counting up to and including
 * MESSAGE-INTEGRITY.  For short-term credentials the key is the password;
 * for long-term ones the caller derives it (natcheck never does: that is
 * TURN's business, so it carries no MD5).  Returns STUN_OK,
 * STUN_ERR_NO_INTEGRITY or STUN_ERR_INTEGRITY (STUN_ERR_ARG for a NULL key
 * with keylen > 0).
 * No caller in natcheck, which sends no credentials; it stays, tested, as
 * the proof of the RFC 5769 vectors, which all carry MESSAGE-INTEGRITY.
 */
enum stun_status stun_check_integrity(const struct stun_msg *msg,
                                      const uint8_t *key, size_t keylen);

/* FINGERPRINT value for data[0..len): CRC-32 xor 0x5354554e. */
uint32_t stun_fingerprint(const uint8_t *data, size_t len);

/*
 * Encoder.  Errors are sticky: after the first failure every further call
 * does nothing and stun_enc_finish() returns that failure, so a caller can
 * add attributes without checking each call.  Failures: STUN_ERR_NOSPACE
 * (buffer, or the message would exceed STUN_MAX_MSG), STUN_ERR_NO_COOKIE,
 * STUN_ERR_ARG (bad argument, or any attribute after FINGERPRINT, or one
 * other than FINGERPRINT after MESSAGE-INTEGRITY).
 */
struct stun_enc {
	uint8_t *buf;
	size_t   cap;
	size_t   len;
	uint8_t  tid[STUN_TID_LEN];
	int      err;               /* enum stun_status */
};

/* Start a message of this type; tid is the 16 bytes after the length field
 * (put STUN_MAGIC_COOKIE in the first four for RFC 5389 form). */
void stun_enc_init(struct stun_enc *e, uint8_t *buf, size_t cap, uint16_t type,
                   const uint8_t tid[STUN_TID_LEN]);
/* Any address attribute; XOR-MAPPED-ADDRESS (both codes) is XORed here and
 * needs the cookie in the tid (else STUN_ERR_NO_COOKIE). */
void stun_enc_addr(struct stun_enc *e, uint16_t type, const struct stun_addr *a);
/* flags may hold only STUN_CHANGE_IP | STUN_CHANGE_PORT (else STUN_ERR_ARG). */
void stun_enc_change_request(struct stun_enc *e, uint32_t flags);
/* RESPONSE-PORT (RFC 5780 section 7.5).  No caller in natcheck yet: the
 * server's tests build requests with it, and the lifetime test will. */
void stun_enc_response_port(struct stun_enc *e, uint16_t port);
/* Any attribute from raw bytes, zero-padded to a multiple of four.  The
 * value must pass the decoder's rule for its type, and MESSAGE-INTEGRITY /
 * FINGERPRINT are refused (use the functions below); else STUN_ERR_ARG. */
void stun_enc_bytes(struct stun_enc *e, uint16_t type, const void *val, size_t len);
/* ERROR-CODE; code 300..699, reason may be NULL.  In the RFC 3489 form
 * (no cookie) the reason is padded with spaces to a multiple of four bytes
 * (RFC 3489 11.2.9), so it may be 760 bytes at most there. */
void stun_enc_error(struct stun_enc *e, int code, const char *reason);
/* UNKNOWN-ATTRIBUTES; in the RFC 3489 form (no cookie) an odd list repeats
 * its last type (RFC 3489 11.2.10), in the RFC 5389 form it is padded. */
void stun_enc_unknown_attrs(struct stun_enc *e, const uint16_t *types, size_t n);
/* MESSAGE-INTEGRITY over what is encoded so far, with this key (no caller
 * in natcheck: it stays so the tests reproduce RFC 5769's samples byte for
 * byte, MESSAGE-INTEGRITY then FINGERPRINT). */
void stun_enc_integrity(struct stun_enc *e, const uint8_t *key, size_t keylen);
/* FINGERPRINT over what is encoded so far; must be the last attribute. */
void stun_enc_fingerprint(struct stun_enc *e);
/* The message length in *len, or the first error. */
enum stun_status stun_enc_finish(struct stun_enc *e, size_t *len);

/* True when the tid starts with the magic cookie. */
int stun_tid_has_cookie(const uint8_t tid[STUN_TID_LEN]);

#endif /* NATCHECK_STUN_H */
