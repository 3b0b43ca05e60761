/*
 * fuzz_tcpprobe.c - libFuzzer target for the TCP tests' stream handling
 * (make fuzz).
 *
 * The input is what a hostile server writes on the map connection, in
 * segments whose sizes come from the first byte.  Checked: tcpprobe_frame
 * keeps its promises (a whole message within the cap and the bytes), the
 * engine never connects to an address tcpprobe.h forbids, never loops, and
 * the verdict says nothing about the mapping when the map connection was
 * not answered.  The same bytes also go to the listener's side.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "tcpprobe.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void
fixed_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	memset(buf, 0x5a, len);
}

static struct stun_addr
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct stun_addr s;

	memset(&s, 0, sizeof(s));
	s.family = 4;
	s.addr[0] = a;
	s.addr[1] = b;
	s.addr[2] = c;
	s.addr[3] = d;
	s.port = port;
	return s;
}

/* Drive the engine until it waits; check every connect it asks for. */
static void
pump(struct tcpprobe *t, uint64_t now)
{
	for (int n = 0; n < 64; n++) {
		struct tcpprobe_tx tx;
		uint32_t wait;
		enum tcpprobe_step st = tcpprobe_next(t, now, &tx, &wait);

		if (st == TCPPROBE_DONE || st == TCPPROBE_WAIT)
			return;
		if (st == TCPPROBE_CONNECT) {
			CHECK(tx.conn >= 0 && tx.conn < TCPPROBE_NSLOT);
			CHECK(!addr_is_multicast(&tx.to) && !addr_is_unspecified(&tx.to));
			CHECK(!addr_is_loopback(&tx.to) && !addr_is_limited_broadcast(&tx.to));
			CHECK(tx.to.port != 0 && tx.to.family == 4);
			/* Issue #20: nothing local-scope from the public server,
			 * nothing at this host's own address. */
			CHECK(!addr_is_site_scoped(&tx.to) && !addr_ip_eq(&tx.to, &t->cfg.local[0]));
			tcpprobe_connected(t, now, tx.conn, &t->cfg.local[0]);
		} else {
			CHECK(tx.len >= 20 && tx.len <= sizeof(tx.buf));
		}
	}
	__builtin_trap();           /* the engine must come to a wait */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tcpprobe t;
	struct tcpprobe_config cfg;
	struct tcpprobe_verdict v;
	size_t seg, off, msglen = 0;
	enum tcpprobe_frame f;

	if (size < 1)
		return 0;
	seg = (size_t)(data[0] % 64) + 1;
	data++;
	size--;

	f = tcpprobe_frame(data, size, TCPPROBE_RXCAP, &msglen);
	if (f == TCPPROBE_FRAME_OK)
		CHECK(msglen >= 20 && msglen <= size && msglen <= TCPPROBE_RXCAP && msglen % 4 == 0);

	memset(&cfg, 0, sizeof(cfg));
	cfg.enabled = 1;
	cfg.server = v4(203, 0, 113, 1, 3478);
	cfg.local[0] = v4(192, 0, 2, 10, 40000);
	cfg.local[1] = v4(192, 0, 2, 10, 40001);
	cfg.host.ip[0] = v4(192, 0, 2, 10, 0);
	cfg.host.prefix[0] = 24;
	cfg.host.n = 1;
	cfg.timeout_ms = 3000;
	cfg.random = fixed_random;
	tcpprobe_init(&t, &cfg, 0);
	pump(&t, 0);
	for (off = 0; off < size; off += seg) {
		size_t n = size - off < seg ? size - off : seg;

		tcpprobe_input(&t, 10, TCPPROBE_MAP, data + off, n);
		tcpprobe_input(&t, 10, TCPPROBE_HAIR_BINDING, data + off, n);
		pump(&t, 10);
	}
	if (f == TCPPROBE_FRAME_OK)
		tcpprobe_accepted(&t, 20, data, msglen);
	tcpprobe_finish(&t, 5000);
	tcpprobe_classify(&t, &v);
	if (t.c[TCPPROBE_MAP].result != TCPPROBE_ANSWERED)
		CHECK(v.mapping == NAT_BEH_UNKNOWN && v.has_mapped == 0);
	CHECK(v.nwarn <= TCPPROBE_MAX_WARN);
	CHECK(v.hairpinning >= -1 && v.hairpinning <= 1);
	return 0;
}
