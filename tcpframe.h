/*
 * tcpframe.h - where one STUN message ends in a TCP byte stream.
 *
 * Over TCP, STUN messages follow each other back to back, each framed by
 * its own header (RFC 5389 section 7.2.2): 20 bytes, the last 16 of them
 * the magic cookie and the transaction ID, and a length field counting the
 * attribute bytes after it.  tcpframe_parse() looks at the bytes received
 * so far and says how long the first message is, as picohttpparser does
 * for HTTP: no I/O, no allocation, no state; the caller appends bytes and
 * asks again.  What can never become a STUN message is said as early as
 * possible, so the caller can cut the peer off instead of buffering it.
 *
 * Return convention: > 0, the length of the complete first message;
 * TCPFRAME_INCOMPLETE (-2), more bytes are needed; TCPFRAME_BAD (-1), the
 * stream is not STUN or the message is longer than max, and *why (when
 * not NULL) names the reason.
 */
#ifndef NATCHECK_TCPFRAME_H
#define NATCHECK_TCPFRAME_H

#include <stddef.h>
#include <stdint.h>

#define TCPFRAME_INCOMPLETE (-2)
#define TCPFRAME_BAD        (-1)

/*
 * tcpframe_parse: the first message of buf[0..len), at most max bytes
 * (max >= 20).  Decided from the first byte on: the top two bits must be
 * 0 (RFC 5389 section 6); from the fourth, the length must be a multiple of
 * four and fit max; from the fifth on, the magic cookie must be there, byte
 * by byte (over TCP only RFC 5389 messages exist: RFC 3489 had no TCP).
 */
long tcpframe_parse(const uint8_t *buf, size_t len, size_t max, const char **why);

#endif /* NATCHECK_TCPFRAME_H */
