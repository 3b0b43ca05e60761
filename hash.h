/*
 * hash.h - the digests STUN needs, written here so natcheck links only libc:
 * SHA-1 (FIPS 180-4) and HMAC-SHA1 (RFC 2104) for MESSAGE-INTEGRITY,
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) for FINGERPRINT.
 * (No MD5: only long-term credentials need it, and natcheck uses none.)
 *
 * Pure functions over caller-owned memory: no allocation, no global
 * mutable state.  Each digest has an incremental form (init / update /
 * final) so a message can be hashed in pieces without copying it, and a
 * one-call form.  These are for protocol checks, not for secrets at rest:
 * SHA-1 is what the RFCs prescribe, not a choice.
 */
#ifndef NATCHECK_HASH_H
#define NATCHECK_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SHA1_LEN  20
#define HASH_BLOCK_LEN 64           /* SHA-1 works on 64-byte blocks */

struct hash_sha1 {
	uint32_t h[5];
	uint64_t total;             /* bytes hashed so far */
	uint8_t  block[HASH_BLOCK_LEN];
	size_t   fill;              /* bytes waiting in block */
};

struct hash_hmac_sha1 {
	struct hash_sha1 inner;     /* already fed key ^ ipad */
	struct hash_sha1 outer;     /* already fed key ^ opad */
};

/* Start a SHA-1 computation. */
void hash_sha1_init(struct hash_sha1 *c);
/* Feed len bytes (data may be NULL when len is 0). */
void hash_sha1_update(struct hash_sha1 *c, const void *data, size_t len);
/* Finish and write the 20-byte digest; c must be re-initialised to reuse. */
void hash_sha1_final(struct hash_sha1 *c, uint8_t out[HASH_SHA1_LEN]);
/* SHA-1 of data[0..len) in one call. */
void hash_sha1(const void *data, size_t len, uint8_t out[HASH_SHA1_LEN]);

/* Start HMAC-SHA1 with this key (any length; longer than 64 bytes is hashed first). */
void hash_hmac_sha1_init(struct hash_hmac_sha1 *c, const void *key, size_t keylen);
/* Feed message bytes. */
void hash_hmac_sha1_update(struct hash_hmac_sha1 *c, const void *data, size_t len);
/* Finish and write the 20-byte MAC. */
void hash_hmac_sha1_final(struct hash_hmac_sha1 *c, uint8_t out[HASH_SHA1_LEN]);
/* HMAC-SHA1 of data[0..len) under key in one call. */
void hash_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
                    uint8_t out[HASH_SHA1_LEN]);

/* Continue a CRC-32: pass 0 to start, then the previous result. */
uint32_t hash_crc32_update(uint32_t crc, const void *data, size_t len);
/* CRC-32 of data[0..len) ("123456789" gives 0xCBF43926). */
uint32_t hash_crc32(const void *data, size_t len);

/* Compare n bytes in time independent of where they differ; 0 when equal. */
int hash_ct_diff(const void *a, const void *b, size_t n);

#endif /* NATCHECK_HASH_H */
