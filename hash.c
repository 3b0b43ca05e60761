/*
 * hash.c - SHA-1, HMAC-SHA1, MD5 and CRC-32 for the STUN codec.
 *
 * Written from the specifications (FIPS 180-4 section 6.1, RFC 2104,
 * RFC 1321, ISO-HDLC CRC-32) so that natcheck needs no crypto library.
 * Byte order is handled with explicit shifts, never by casting buffers,
 * so the code is endian-neutral and never reads unaligned words.
 */
#include <string.h>

#include "hash.h"

static uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* ------------------------------------------------------------ SHA-1 */

/* One 512-bit block, FIPS 180-4 section 6.1.2, with the 16-word rolling
 * schedule (section 6.1.3) instead of the 80-word array. */
static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[16];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int t = 0; t < 16; t++)
		w[t] = load_be32(p + 4 * t);
	for (int t = 0; t < 80; t++) {
		uint32_t f, k, tmp;

		if (t >= 16) {
			w[t & 15] = rol32(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^
			                  w[(t - 14) & 15] ^ w[t & 15], 1);
		}
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999u;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1u;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdcu;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6u;
		}
		tmp = rol32(a, 5) + f + e + k + w[t & 15];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

/* Buffering shared by SHA-1 and MD5: whole 64-byte blocks go straight to
 * compress, the rest waits in block (fill bytes) for the next call. */
static void md_update(uint32_t *h, uint8_t block[HASH_BLOCK_LEN], size_t *fill, uint64_t *total,
                      const void *data, size_t len, void (*compress)(uint32_t *, const uint8_t *))
{
	const uint8_t *p = data;

	if (len == 0)
		return;         /* data may be NULL: memcpy must not see it */
	*total += len;
	if (*fill > 0) {
		size_t take = HASH_BLOCK_LEN - *fill;

		if (take > len)
			take = len;
		memcpy(block + *fill, p, take);
		*fill += take;
		p += take;
		len -= take;
		if (*fill < HASH_BLOCK_LEN)
			return;
		compress(h, block);
		*fill = 0;
	}
	for (; len >= HASH_BLOCK_LEN; p += HASH_BLOCK_LEN, len -= HASH_BLOCK_LEN)
		compress(h, p);
	if (len > 0) {
		memcpy(block, p, len);
		*fill = len;
	}
}

void hash_sha1_init(struct hash_sha1 *c)
{
	c->h[0] = 0x67452301u;
	c->h[1] = 0xefcdab89u;
	c->h[2] = 0x98badcfeu;
	c->h[3] = 0x10325476u;
	c->h[4] = 0xc3d2e1f0u;
	c->total = 0;
	c->fill = 0;
}

void hash_sha1_update(struct hash_sha1 *c, const void *data, size_t len)
{
	md_update(c->h, c->block, &c->fill, &c->total, data, len, sha1_block);
}

/* Padding shared by SHA-1 and MD5 (FIPS 180-4 5.1.1, RFC 1321 3.1-3.2):
 * 0x80, zeros to 56 mod 64, then the bit length, big- or little-endian. */
static void md_pad(uint8_t block[HASH_BLOCK_LEN], size_t fill, uint64_t total,
                   int big_endian, void (*compress)(uint32_t *, const uint8_t *), uint32_t *h)
{
	uint64_t bits = total * 8;

	block[fill++] = 0x80;
	if (fill > 56) {
		memset(block + fill, 0, HASH_BLOCK_LEN - fill);
		compress(h, block);
		fill = 0;
	}
	memset(block + fill, 0, 56 - fill);
	for (int i = 0; i < 8; i++) {
		uint8_t byte = (uint8_t)(bits >> (8 * i));

		if (big_endian)
			block[63 - i] = byte;
		else
			block[56 + i] = byte;
	}
	compress(h, block);
}

void hash_sha1_final(struct hash_sha1 *c, uint8_t out[HASH_SHA1_LEN])
{
	md_pad(c->block, c->fill, c->total, 1, sha1_block, c->h);
	for (int i = 0; i < 5; i++)
		store_be32(out + 4 * i, c->h[i]);
	/* Leave no message bytes behind in the caller's context. */
	memset(c, 0, sizeof *c);
}

void hash_sha1(const void *data, size_t len, uint8_t out[HASH_SHA1_LEN])
{
	struct hash_sha1 c;

	hash_sha1_init(&c);
	hash_sha1_update(&c, data, len);
	hash_sha1_final(&c, out);
}

/* ------------------------------------------------------------ HMAC-SHA1 */

/* RFC 2104 section 2: H(K ^ opad, H(K ^ ipad, text)), K zero-padded to the
 * block size, or first hashed when longer than a block. */
void hash_hmac_sha1_init(struct hash_hmac_sha1 *c, const void *key, size_t keylen)
{
	uint8_t k[HASH_BLOCK_LEN];
	uint8_t pad[HASH_BLOCK_LEN];

	memset(k, 0, sizeof k);
	if (keylen > HASH_BLOCK_LEN)
		hash_sha1(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);

	for (int i = 0; i < HASH_BLOCK_LEN; i++)
		pad[i] = k[i] ^ 0x36;
	hash_sha1_init(&c->inner);
	hash_sha1_update(&c->inner, pad, sizeof pad);
	for (int i = 0; i < HASH_BLOCK_LEN; i++)
		pad[i] = k[i] ^ 0x5c;
	hash_sha1_init(&c->outer);
	hash_sha1_update(&c->outer, pad, sizeof pad);
	memset(k, 0, sizeof k);
	memset(pad, 0, sizeof pad);
}

void hash_hmac_sha1_update(struct hash_hmac_sha1 *c, const void *data, size_t len)
{
	hash_sha1_update(&c->inner, data, len);
}

void hash_hmac_sha1_final(struct hash_hmac_sha1 *c, uint8_t out[HASH_SHA1_LEN])
{
	uint8_t ih[HASH_SHA1_LEN];

	hash_sha1_final(&c->inner, ih);
	hash_sha1_update(&c->outer, ih, sizeof ih);
	hash_sha1_final(&c->outer, out);
}

void hash_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
                    uint8_t out[HASH_SHA1_LEN])
{
	struct hash_hmac_sha1 c;

	hash_hmac_sha1_init(&c, key, keylen);
	hash_hmac_sha1_update(&c, data, len);
	hash_hmac_sha1_final(&c, out);
}

/* ------------------------------------------------------------ MD5 */

/* RFC 1321 section 3.4: T[i] = floor(2^32 * |sin(i + 1)|). */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Per-round rotation amounts, four per round (RFC 1321 section 3.4). */
static const uint8_t md5_s[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

static void md5_block(uint32_t h[4], const uint8_t *p)
{
	uint32_t x[16];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3];

	for (int i = 0; i < 16; i++)
		x[i] = load_le32(p + 4 * i);
	for (int i = 0; i < 64; i++) {
		int round = i / 16;
		uint32_t f;
		int g;

		switch (round) {
		case 0:
			f = (b & c) | (~b & d);
			g = i;
			break;
		case 1:
			f = (b & d) | (c & ~d);
			g = (5 * i + 1) & 15;
			break;
		case 2:
			f = b ^ c ^ d;
			g = (3 * i + 5) & 15;
			break;
		default:
			f = c ^ (b | ~d);
			g = (7 * i) & 15;
			break;
		}
		f = a + f + md5_t[i] + x[g];
		a = d;
		d = c;
		c = b;
		b = b + rol32(f, md5_s[round][i & 3]);
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

void hash_md5_init(struct hash_md5 *c)
{
	c->h[0] = 0x67452301u;
	c->h[1] = 0xefcdab89u;
	c->h[2] = 0x98badcfeu;
	c->h[3] = 0x10325476u;
	c->total = 0;
	c->fill = 0;
}

void hash_md5_update(struct hash_md5 *c, const void *data, size_t len)
{
	md_update(c->h, c->block, &c->fill, &c->total, data, len, md5_block);
}

void hash_md5_final(struct hash_md5 *c, uint8_t out[HASH_MD5_LEN])
{
	md_pad(c->block, c->fill, c->total, 0, md5_block, c->h);
	for (int i = 0; i < 4; i++)
		store_le32(out + 4 * i, c->h[i]);
	memset(c, 0, sizeof *c);
}

void hash_md5(const void *data, size_t len, uint8_t out[HASH_MD5_LEN])
{
	struct hash_md5 c;

	hash_md5_init(&c);
	hash_md5_update(&c, data, len);
	hash_md5_final(&c, out);
}

/* ------------------------------------------------------------ CRC-32 */

/* Reflected CRC-32 (polynomial 0x04C11DB7, reflected 0xEDB88320, init and
 * final xor 0xFFFFFFFF), the one RFC 5389 section 15.5 names via ISO 3309.
 * A 16-entry table, one nibble at a time: small and still fast enough for
 * a server answering at line rate. */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t hash_crc32_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len == 0)
		return crc;
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
	}
	return ~crc;
}

uint32_t hash_crc32(const void *data, size_t len)
{
	return hash_crc32_update(0, data, len);
}

int hash_ct_diff(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= x[i] ^ y[i];
	return acc != 0;
}
