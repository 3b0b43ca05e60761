/*
 * fuzz_probe.c - libFuzzer target for the engine's answer side
 * (probe_input, probe_unreachable, the trust rules in advance) and for
 * what follows it (nat_classify, every renderer).
 *
 * The input is a script.  Its first bytes choose the configuration; then
 * each op either lets virtual time pass (the engine sends, and its
 * requests are remembered), hands the engine a datagram (raw fuzz bytes,
 * or a STUN message built around one of its own transaction IDs with
 * addresses from the input, so the fuzzer gets past the ID check), or
 * reports a send as unreachable.  At the end the run is finished, and
 * the invariants are checked:
 *   - the engine never sends to a multicast, broadcast, unspecified or
 *     port-0 address, nor to one of another family than the socket, nor
 *     (issue #20) to this host's own IP, to a private, ULA, link-local or
 *     shared address the public servers named, or to an alternate on this
 *     host's network;
 *   - a type other than unknown / udp-blocked has a mapped address;
 *   - udp-blocked only when nothing at all came back;
 *   - "unreachable" only with the type unknown;
 *   - hairpinning "no" never rests on sends that did not leave the host;
 *   - the JSON is one line of printable ASCII; every finding renders.
 * A violated invariant aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "nat.h"
#include "probe.h"
#include "report.h"
#include "stun.h"

#define MAX_TX 64

struct input {
	const uint8_t *d;
	size_t   n, pos;
};

static unsigned
byte(struct input *in)
{
	return in->pos < in->n ? in->d[in->pos++] : 0;
}

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_probe: invariant broken: %s\n", what);
		abort();
	}
}

static struct stun_addr
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct stun_addr x;

	memset(&x, 0, sizeof(x));
	x.family = 4;
	x.addr[0] = a;
	x.addr[1] = b;
	x.addr[2] = c;
	x.addr[3] = d;
	x.port = port;
	return x;
}

/* An address: one of a few that matter, or one made of input bytes. */
static struct stun_addr
pick_addr(struct input *in, const struct probe *p)
{
	unsigned k = byte(in);
	struct stun_addr a;

	switch (k % 14) {
	case 0: return p->cfg.servers[0];
	case 1: return v4(203, 0, 113, 2, 3479);
	case 2: return v4(203, 0, 113, 1, 3479);
	case 3: return v4(203, 0, 113, 2, 3478);
	case 4: return v4(198, 51, 100, 1, 50000);
	case 5: return p->cfg.servers[p->cfg.nservers > 1 ? 1 : 0];
	case 6: return v4(224, 0, 0, 251, 5353);
	case 7: return v4(10, 0, 0, 20, 22);            /* a LAN host's SSH */
	case 8: return v4(100, 64, 0, 2, 3479);         /* a carrier's network */
	case 9: return v4(192, 0, 2, 20, 22);           /* on this host's network */
	case 10: return v4(192, 0, 2, 10, 22);          /* this host, a local service */
	default: break;
	}
	memset(&a, 0, sizeof(a));
	a.family = (k & 0x10) ? 6 : 4;
	for (size_t i = 0; i < addr_len(&a); i++)
		a.addr[i] = (uint8_t)byte(in);
	a.port = (uint16_t)(byte(in) << 8 | byte(in));
	return a;
}

/* A STUN message around a transaction ID the engine used. */
static size_t
craft(struct input *in, const struct probe *p, const uint8_t *tid, uint8_t *buf, size_t cap)
{
	static const uint16_t types[] = { 0x0101, 0x0111, 0x0011, 0x0001, 0x0102 };
	unsigned shape = byte(in);
	struct stun_enc e;
	struct stun_addr a;
	size_t len = 0;
	uint16_t type = types[shape % 5];

	stun_enc_init(&e, buf, cap, type, tid);
	if (type == 0x0111) {
		stun_enc_error(&e, 300 + (int)(byte(in) % 4) * 100 + (int)(byte(in) % 40),
		    "fuzz");
	} else if (type != 0x0001) {
		a = pick_addr(in, p);
		stun_enc_addr(&e, (shape & 0x08) ? STUN_ATTR_MAPPED_ADDRESS :
		    STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
	}
	if (shape & 0x10) {
		a = pick_addr(in, p);
		stun_enc_addr(&e, (shape & 0x20) ? STUN_ATTR_CHANGED_ADDRESS :
		    STUN_ATTR_OTHER_ADDRESS, &a);
	}
	if (shape & 0x40) {
		a = pick_addr(in, p);
		stun_enc_addr(&e, STUN_ATTR_RESPONSE_ORIGIN, &a);
	}
	if (shape & 0x80)
		stun_enc_fingerprint(&e);
	if (stun_enc_finish(&e, &len) != STUN_OK)
		return 0;
	return len;
}

struct run {
	struct probe p;
	struct probe_tx tx[MAX_TX];
	size_t   ntx;
	uint64_t now;
	uint64_t rng;
};

static void
fuzz_random(void *ctx, uint8_t *buf, size_t len)
{
	struct run *r = ctx;

	for (size_t i = 0; i < len; i++) {
		r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (uint8_t)(r->rng >> 56);
	}
}

/* Let the engine send what is due at r->now; remember and check it. */
static void
pump(struct run *r, uint32_t *wait)
{
	for (int guard = 0; guard < 256; guard++) {
		struct probe_tx tx;
		const struct stun_addr *l;
		enum probe_step st = probe_next(&r->p, r->now, &tx, wait);

		if (st != PROBE_SEND)
			return;
		check(tx.sock >= 0 && tx.sock < PROBE_NSOCK, "socket index");
		l = &r->p.cfg.local[tx.sock];
		check(!addr_is_multicast(&tx.to), "sent to multicast");
		check(!addr_is_limited_broadcast(&tx.to), "sent to broadcast");
		check(!addr_is_unspecified(&tx.to), "sent to an unspecified address");
		check(tx.to.port != 0, "sent to port 0");
		check(tx.to.family == l->family, "sent to another family");
		check(!addr_is_site_scoped(&tx.to), "sent where a public server aimed it: local-scope");
		check(!addr_ip_eq(&tx.to, l), "sent to this host's own address");
		check(tx.test == NULL || tx.test->kind == PROBE_MAP_TO_HAIR ||
		    tx.test->kind == PROBE_HAIR_TO_MAP ||
		    !addr_in_net(&tx.to, &r->p.cfg.host.ip[0], r->p.cfg.host.prefix[0]),
		    "sent to an alternate on this host's network");
		check(tx.len >= STUN_HEADER_LEN && tx.len <= sizeof(tx.buf), "request length");
		r->tx[r->ntx % MAX_TX] = tx;
		r->ntx++;
	}
}

static struct run R;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size, 0 };
	struct probe_config cfg;
	static struct nat_verdict v;
	uint32_t wait = 0;
	unsigned c0 = byte(&in);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	memset(&R, 0, sizeof(R));
	memset(&cfg, 0, sizeof(cfg));
	R.rng = 0x9e3779b97f4a7c15ull ^ size;
	cfg.nservers = 1 + c0 % 3;
	cfg.servers[0] = v4(203, 0, 113, 1, 3478);
	cfg.servers[1] = v4(203, 0, 113, 7, 3478);
	cfg.servers[2] = v4(203, 0, 113, 9, 3478);
	for (int i = 0; i < PROBE_NSOCK; i++)
		cfg.local[i] = v4(192, 0, 2, 10, (uint16_t)(40001 + i));
	cfg.host.ip[0] = v4(192, 0, 2, 10, 0);
	cfg.host.prefix[0] = 24;
	cfg.host.n = 1;
	cfg.rfc3489_timing = (c0 & 0x04) != 0;
	cfg.pinned_port = (c0 & 0x08) != 0;
	cfg.timeout_ms = 500 + 100 * (c0 >> 4);
	cfg.random = fuzz_random;
	cfg.random_ctx = &R;
	R.now = 1000;
	probe_init(&R.p, &cfg, R.now);
	pump(&R, &wait);

	while (in.pos < in.n && !R.p.done) {
		unsigned op = byte(&in);
		uint8_t buf[512];
		size_t len;
		int sock = (int)(byte(&in) % PROBE_NSOCK);
		struct stun_addr from;

		switch (op % 5) {
		case 0:         /* time passes */
			R.now += 1 + (op >> 3) * 7;
			pump(&R, &wait);
			break;
		case 1:         /* raw bytes */
			from = pick_addr(&in, &R.p);
			len = byte(&in);
			if (len > in.n - in.pos)
				len = in.n - in.pos;
			probe_input(&R.p, R.now, sock, &from, in.d + in.pos, len);
			in.pos += len;
			break;
		case 2:         /* built around one of our IDs, from a chosen source */
		case 3:         /* ... or from where that request went */
			if (R.ntx == 0)
				break;
			{
				const struct probe_tx *t = &R.tx[byte(&in) % (R.ntx < MAX_TX ? R.ntx : MAX_TX)];

				len = craft(&in, &R.p, t->buf + 4, buf, sizeof(buf));
				from = op % 5 == 3 ? t->to : pick_addr(&in, &R.p);
				if (op & 0x20)
					sock = t->sock;
				if (len > 0)
					probe_input(&R.p, R.now, sock, &from, buf, len);
			}
			break;
		default:        /* the network says a send did not arrive */
			if (R.ntx == 0)
				break;
			{
				const struct probe_tx *t = &R.tx[byte(&in) % (R.ntx < MAX_TX ? R.ntx : MAX_TX)];

				probe_unreachable(&R.p, R.now, t->sock, &t->to,
				    (enum probe_unreach)(1 + byte(&in) % 3), "fuzz");
			}
			break;
		}
		pump(&R, &wait);
	}
	/* Finish: let time run out. */
	for (int guard = 0; guard < 10000 && !R.p.done; guard++) {
		R.now += wait > 0 ? wait : 1;
		pump(&R, &wait);
	}
	check(R.p.done, "the run ends at its timeout");

	nat_classify(&R.p, &v);
	if (v.type != NAT_UNKNOWN && v.type != NAT_UDP_BLOCKED)
		check(v.has_mapped, "a type without a mapped address");
	if (v.type == NAT_UDP_BLOCKED)
		check(R.p.stats.received == 0 && R.p.stats.unreachable == 0,
		    "udp-blocked although something came back");
	if (v.unreachable)
		check(v.type == NAT_UNKNOWN, "unreachable with a type");
	if (v.hairpinning == 0)
		for (size_t i = 0; i < R.p.ntests; i++) {
			const struct probe_test *t = &R.p.tests[i];

			if (t->kind == PROBE_MAP_TO_HAIR || t->kind == PROBE_HAIR_TO_MAP)
				check(t->unreachable == 0 || t->unreach_kind == PROBE_UNREACH_PORT,
				    "no hairpinning on sends that never arrived");
		}
	check(v.nfindings <= NAT_MAX_FINDINGS, "findings");

	f = open_memstream(&out, &outlen);
	check(f != NULL, "open_memstream");
	report_json(f, &R.p, &v, NULL);
	fflush(f);
	check(outlen > 2 && out[0] == '{' && out[outlen - 1] == '\n', "one JSON object");
	for (size_t i = 0; i + 1 < outlen; i++)
		check(out[i] >= 0x20 && out[i] < 0x7f, "JSON is printable ASCII");
	report_text(f, &R.p, &v, NULL);
	report_quiet(f, &v);
	report_warnings(f, &v);
	fclose(f);
	free(out);
	return 0;
}
