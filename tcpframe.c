/*
 * tcpframe.c - STUN message boundaries in a TCP stream (see tcpframe.h).
 */
#include "tcpframe.h"

#include "stun.h"

static long
bad(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return TCPFRAME_BAD;
}

long
tcpframe_parse(const uint8_t *buf, size_t len, size_t max, const char **why)
{
	size_t body, i;

	if (max < STUN_HEADER_LEN)
		return bad(why, "no room for a STUN header");
	if (len >= 1 && (buf[0] & 0xC0) != 0)
		return bad(why, "not STUN (top bits set)");
	if (len < 4)
		return TCPFRAME_INCOMPLETE;
	body = (size_t)buf[2] << 8 | buf[3];
	if (body % 4 != 0)
		return bad(why, "message length not a multiple of 4");
	/* body <= 65535 and max >= 20: no overflow either way. */
	if (body > max - STUN_HEADER_LEN)
		return bad(why, "message longer than the connection's limit");
	/* Byte by byte, so that a wrong first cookie byte is enough. */
	for (i = 4; i < 8 && i < len; i++)
		if (buf[i] != (uint8_t)(STUN_MAGIC_COOKIE >> (8 * (7 - i))))
			return bad(why, "no magic cookie (only RFC 5389 messages go over TCP)");
	if (len < STUN_HEADER_LEN + body)
		return TCPFRAME_INCOMPLETE;
	return (long)(STUN_HEADER_LEN + body);
}
