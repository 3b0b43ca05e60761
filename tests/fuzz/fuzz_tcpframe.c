/*
 * fuzz_tcpframe.c - libFuzzer target for tcpframe_parse().
 *
 * The input is a TCP stream; it is cut into messages the way serve.c does,
 * with a limit taken from the first byte.  Every answer must be in range,
 * consistent with the header it read, and stable: what a prefix of the
 * bytes decided (a length, or "bad"), all of them decide too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tcpframe.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max, off = 0;
	long r, again, half;

	if (size < 1)
		return 0;
	max = 20 + (size_t)data[0] * 16;
	data++;
	size--;
	while (off < size) {
		r = tcpframe_parse(data + off, size - off, max, NULL);
		CHECK(r == TCPFRAME_BAD || r == TCPFRAME_INCOMPLETE || (r >= 20 && (size_t)r <= max));
		half = tcpframe_parse(data + off, (size - off) / 2, max, NULL);
		CHECK(half == TCPFRAME_INCOMPLETE || half == r);
		if (r > 0) {
			/* The length the header says, and nothing more is read. */
			CHECK((size_t)r == 20 + ((size_t)data[off + 2] << 8 | data[off + 3]));
			CHECK((size_t)r <= size - off);
			again = tcpframe_parse(data + off, (size_t)r, max, NULL);
			CHECK(again == r);
			off += (size_t)r;
			continue;
		}
		break;
	}
	return 0;
}
