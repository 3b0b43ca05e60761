/*
 * natsim.c - the virtual network of natsim.h.
 *
 * Datagrams move between three places: the client's sockets, the router
 * (NAT, firewall, nothing or a wall) and the server endpoints.  Each hop
 * is an entry in a time-ordered queue; the router applies RFC 4787
 * mapping and filtering when a datagram passes it, the servers answer with
 * the real server_handle().
 */
#include <string.h>

#include "natsim.h"
#include "addr.h"

#include <arpa/inet.h>

/* ---------------------------------------------------------------- PRNG */

/* splitmix64: small, fast, and every seed gives a good stream. */
static uint64_t
rnd(struct natsim *s)
{
	uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int
chance(struct natsim *s, uint32_t pct)
{
	return pct > 0 && rnd(s) % 100 < pct;
}

static void
sim_random(void *ctx, uint8_t *buf, size_t len)
{
	struct natsim *s = ctx;

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(rnd(s) >> 24);
}

/* ------------------------------------------------------------ addresses */

struct stun_addr
natsim_addr(const char *ip, uint16_t port)
{
	struct stun_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	inet_pton(AF_INET, ip, a.addr);
	a.port = port;
	return a;
}

/* ---------------------------------------------------------------- setup */

void
natsim_init(struct natsim *s, enum natsim_beh mapping, enum natsim_beh filtering,
            int hairpin, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->mode = NATSIM_NAT;
	s->mapping = mapping;
	s->filtering = filtering;
	s->hairpin = hairpin;
	s->personality = NATSIM_SRV_NORMAL;
	s->second_server_up = 1;
	s->up.delay_ms = 50;
	s->down.delay_ms = 50;
	s->rng = seed * 0x2545F4914F6CDD1Dull + 1;
	s->now = 1000000;               /* anything but zero */
	s->next_port = 50000;
	for (int i = 0; i < NATSIM_MAX_SOCKS; i++)
		s->client[i] = natsim_addr("192.0.2.10", (uint16_t)(40001 + i));
	s->nat_ip = natsim_addr("198.51.100.1", 0);

	s->srv.ep[0] = natsim_addr("203.0.113.1", 3478);
	s->srv.ep[1] = natsim_addr("203.0.113.2", 3478);
	s->srv.ep[2] = natsim_addr("203.0.113.1", 3479);
	s->srv.ep[3] = natsim_addr("203.0.113.2", 3479);
	s->srv.has_alt = 1;
	s->srv.software = "natsim";
	s->srv2.ep[0] = natsim_addr("203.0.113.7", 3478);
	s->srv2.has_alt = 0;
}

enum nat_type
natsim_truth(enum natsim_beh m, enum natsim_beh f)
{
	if (m != NATSIM_EI)
		return NAT_SYMMETRIC;
	return f == NATSIM_EI ? NAT_FULL_CONE : f == NATSIM_AD ? NAT_RESTRICTED_CONE :
	    NAT_PORT_RESTRICTED_CONE;
}

enum nat_behavior
natsim_behavior(enum natsim_beh b)
{
	return b == NATSIM_EI ? NAT_BEH_ENDPOINT_INDEPENDENT :
	    b == NATSIM_AD ? NAT_BEH_ADDRESS_DEPENDENT : NAT_BEH_ADDRESS_PORT_DEPENDENT;
}

const char *
natsim_wrong(const struct nat_verdict *v, enum natsim_beh m, enum natsim_beh f)
{
	if (v->type != NAT_UNKNOWN && v->type != natsim_truth(m, f))
		return "type";
	if (v->mapping != NAT_BEH_UNKNOWN && v->mapping != natsim_behavior(m))
		return "mapping";
	if (v->filtering != NAT_BEH_UNKNOWN && v->filtering != natsim_behavior(f))
		return "filtering";
	return NULL;
}

void
natsim_rate(struct natsim *s, uint32_t per_s, uint32_t burst, uint32_t tokens)
{
	s->rate_per_s = per_s;
	s->rate_burst = burst;
	s->rate_tokens = (uint64_t)(tokens < burst ? tokens : burst) * 1000u;
	s->rate_last = s->now;
}

/* A token for one request to the main server, if the bucket has one. */
static int
rate_take(struct natsim *s)
{
	uint64_t cap = (uint64_t)s->rate_burst * 1000u;

	s->rate_tokens += (s->now - s->rate_last) * s->rate_per_s;
	if (s->rate_tokens > cap)
		s->rate_tokens = cap;
	s->rate_last = s->now;
	if (s->rate_tokens < 1000u) {
		s->rate_dropped++;
		return 0;
	}
	s->rate_tokens -= 1000u;
	return 1;
}

void
natsim_path(struct natsim *s, uint32_t delay_ms, uint32_t loss_pct)
{
	s->up.delay_ms = s->down.delay_ms = delay_ms;
	s->up.loss_pct = s->down.loss_pct = loss_pct;
}

void
natsim_config(struct natsim *s, struct probe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->servers[0] = s->srv.ep[0];
	cfg->nservers = 1;
	for (int i = 0; i < PROBE_NSOCK; i++)
		cfg->local[i] = s->client[i];
	cfg->timeout_ms = 10000;
	cfg->random = sim_random;
	cfg->random_ctx = s;
}

size_t
natsim_sent_to(const struct natsim *s, int sock, const struct stun_addr *to)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nlog; i++) {
		const struct natsim_sent *e = &s->log[i];

		if (sock >= 0 && e->sock != sock)
			continue;
		if (to != NULL && (!addr_ip_eq(&e->to, to) || (to->port != 0 && e->to.port != to->port)))
			continue;
		n++;
	}
	return n;
}

/* ---------------------------------------------------------------- queue */

static void
enqueue(struct natsim *s, uint64_t at, int to_router, const struct stun_addr *from,
        const struct stun_addr *to, const uint8_t *buf, size_t len)
{
	struct natsim_pkt *k;

	if (s->nq >= NATSIM_MAX_QUEUE || len > sizeof(k->buf)) {
		s->overflow++;
		return;
	}
	k = &s->q[s->nq++];
	k->at = at;
	k->seq = s->seq++;
	k->to_router = to_router;
	k->icmp = 0;
	k->from = *from;
	k->to = *to;
	k->len = len;
	memcpy(k->buf, buf, len);
}

/* When a datagram entering the path now may leave it: now, unless the
 * path is cold (see natsim.h) and still waking up. */
static uint64_t
path_ready(struct natsim *s)
{
	if (s->cold_hold_ms == 0)
		return s->now;
	if (!s->path_used || s->now - s->path_last >= s->cold_idle_ms)
		s->path_awake = s->now + s->cold_hold_ms;
	s->path_used = 1;
	s->path_last = s->now;
	if (s->path_awake <= s->now)
		return s->now;
	s->held++;
	return s->path_awake;
}

/* Put a datagram on a link: a cold path's wait, loss, the delay hook,
 * duplication, reordering. */
static void
transmit(struct natsim *s, const struct natsim_link *l, int up, const struct stun_addr *from,
         const struct stun_addr *to, const uint8_t *buf, size_t len)
{
	int copies = 1;
	uint32_t extra = 0;
	uint64_t ready = path_ready(s);

	if (s->delay_hook != NULL)
		extra = s->delay_hook(s->hook_ctx, up, buf, len);
	if (chance(s, l->dup_pct)) {
		copies = 2;
		s->duplicated++;
	}
	for (int c = 0; c < copies; c++) {
		uint64_t at = ready + l->delay_ms + extra;

		if (chance(s, l->loss_pct)) {
			s->lost++;
			continue;
		}
		if (l->reorder_ms > 0 && chance(s, l->reorder_pct)) {
			at += 1 + rnd(s) % l->reorder_ms;
			s->reordered++;
		}
		enqueue(s, at, !up, from, to, buf, len);
	}
}

/* ---------------------------------------------------------------- router */

/* A new mapping's public port (s->alloc). */
static uint16_t
alloc_port(struct natsim *s, int sock)
{
	uint16_t port;

	switch (s->alloc) {
	case NATSIM_ALLOC_PRESERVE:
		return s->client[sock].port;
	case NATSIM_ALLOC_RANDOM:
		return (uint16_t)(1024 + rnd(s) % (65536 - 1024));
	case NATSIM_ALLOC_STEP:
		port = s->next_port;
		s->next_port = (uint16_t)(s->next_port + s->alloc_step);
		return port;
	case NATSIM_ALLOC_SEQ:
		break;
	}
	return s->next_port++;
}

/* Has this mapping timed out by now (map_timeout_ms)?  Once gone it stays
 * gone: a later datagram makes a new mapping. */
static int
map_gone(struct natsim *s, struct natsim_map *mp)
{
	uint64_t last = mp->last_out;

	if (s->map_refresh_inbound && mp->last_in > last)
		last = mp->last_in;
	if (!mp->dead && s->map_timeout_ms != 0 && s->now > last + s->map_timeout_ms)
		mp->dead = 1;
	return mp->dead;
}

/* The mapping for client socket `sock` sending to `to`, made on first use.
 * Its key is the internal endpoint, plus the destination IP (ADM) or IP
 * and port (APDM): RFC 4787 section 4.1.  A firewall keys by the internal
 * endpoint only. */
static struct natsim_map *
mapping_for(struct natsim *s, int sock, const struct stun_addr *to)
{
	struct stun_addr key;
	enum natsim_beh m = s->mode == NATSIM_NAT ? s->mapping : NATSIM_EI;

	memset(&key, 0, sizeof(key));
	if (m != NATSIM_EI) {
		key = *to;
		if (m == NATSIM_AD)
			key.port = 0;
	}
	for (size_t i = 0; i < s->nmaps; i++)
		if (s->maps[i].sock == sock && !map_gone(s, &s->maps[i]) &&
		    (m == NATSIM_EI || addr_eq(&s->maps[i].key_dst, &key)))
			return &s->maps[i];
	if (s->nmaps >= NATSIM_MAX_MAPS)
		return NULL;
	struct natsim_map *mp = &s->maps[s->nmaps++];

	memset(mp, 0, sizeof(*mp));
	mp->sock = sock;
	mp->key_dst = key;
	mp->last_out = s->now;
	mp->pub_port = s->mode == NATSIM_NAT ? alloc_port(s, sock) : s->client[sock].port;
	return mp;
}

static void
remember_dest(struct natsim_map *mp, const struct stun_addr *to)
{
	for (size_t i = 0; i < mp->ndests; i++)
		if (addr_eq(&mp->dests[i], to))
			return;
	if (mp->ndests < NATSIM_MAX_DESTS)
		mp->dests[mp->ndests++] = *to;
}

/* RFC 4787 section 5: does this mapping's filter let `from` in?  Only the
 * destinations THIS mapping has sent to count. */
static int
filter_pass(const struct natsim *s, const struct natsim_map *mp, const struct stun_addr *from)
{
	if (s->filtering == NATSIM_EI)
		return 1;
	for (size_t i = 0; i < mp->ndests; i++) {
		if (!addr_ip_eq(&mp->dests[i], from))
			continue;
		if (s->filtering == NATSIM_AD || mp->dests[i].port == from->port)
			return 1;
	}
	return 0;
}

static void
client_send(struct natsim *s, int sock, const struct stun_addr *to, const uint8_t *buf,
            size_t len)
{
	struct natsim_map *mp;
	struct stun_addr src;

	if (s->nlog < NATSIM_MAX_LOG) {
		struct natsim_sent *e = &s->log[s->nlog++];

		e->at = s->now;
		e->sock = sock;
		e->to = *to;
		memset(e->tid, 0, sizeof(e->tid));
		if (len >= STUN_HEADER_LEN)
			memcpy(e->tid, buf + 4, STUN_TID_LEN);
	}
	if (s->fail_sends_to_set && addr_ip_eq(to, &s->fail_sends_to)) {
		probe_unreachable(s->probe, s->now, sock, to, PROBE_UNREACH_SEND,
		    "simulated send failure");
		return;
	}
	switch (s->mode) {
	case NATSIM_BLOCKED:
		s->filtered++;
		return;
	case NATSIM_OPEN:
		transmit(s, &s->up, 1, &s->client[sock], to, buf, len);
		return;
	case NATSIM_FIREWALL:
		mp = mapping_for(s, sock, to);
		if (mp != NULL)
			remember_dest(mp, to);
		transmit(s, &s->up, 1, &s->client[sock], to, buf, len);
		return;
	case NATSIM_NAT:
		break;
	}
	mp = mapping_for(s, sock, to);
	if (mp == NULL) {
		s->overflow++;
		return;
	}
	remember_dest(mp, to);
	mp->last_out = s->now;
	src = s->nat_ip;
	src.port = mp->pub_port;
	if (addr_ip_eq(to, &s->nat_ip)) {
		/* Addressed to the NAT itself.  Hairpinning (RFC 4787 section 6):
		 * the sender's mapping as source, then the target mapping's
		 * filter as for any inbound datagram. */
		if (!s->hairpin) {
			s->filtered++;
			return;
		}
		s->hairpinned++;
		enqueue(s, s->now, 1, &src, to, buf, len);
		return;
	}
	transmit(s, &s->up, 1, &src, to, buf, len);
}

/* A datagram reaches the router from outside (or hairpinned). */
static void
router_in(struct natsim *s, const struct natsim_pkt *k)
{
	int sock = -1;

	switch (s->mode) {
	case NATSIM_BLOCKED:
		s->filtered++;
		return;
	case NATSIM_OPEN:
	case NATSIM_FIREWALL:
		for (int i = 0; i < NATSIM_MAX_SOCKS; i++)
			if (addr_eq(&s->client[i], &k->to))
				sock = i;
		if (sock < 0) {
			s->unroutable++;
			return;
		}
		if (s->mode == NATSIM_FIREWALL) {
			struct natsim_map *mp = NULL;

			for (size_t i = 0; i < s->nmaps; i++)
				if (s->maps[i].sock == sock)
					mp = &s->maps[i];
			if (mp == NULL || (!k->icmp && !filter_pass(s, mp, &k->from))) {
				s->filtered++;
				return;
			}
		}
		break;
	case NATSIM_NAT:
		if (!addr_ip_eq(&k->to, &s->nat_ip)) {
			s->unroutable++;
			return;
		}
		for (size_t i = 0; i < s->nmaps; i++) {
			if (s->maps[i].pub_port != k->to.port || map_gone(s, &s->maps[i]))
				continue;
			/* An ICMP error about a datagram the mapping sent is
			 * "related" state: it passes any filter. */
			if (!k->icmp && !filter_pass(s, &s->maps[i], &k->from)) {
				s->filtered++;
				return;
			}
			sock = s->maps[i].sock;
			s->maps[i].last_in = s->now;
		}
		if (sock < 0) {
			s->unroutable++;
			return;
		}
		break;
	}
	if (s->deliver != NULL) {
		/* The hook takes datagrams only: an ICMP error is dropped. */
		if (!k->icmp)
			s->deliver(s->deliver_ctx, s->now, sock, &k->from, k->buf, k->len);
	} else if (k->icmp)
		probe_unreachable(s->probe, s->now, sock, &k->from, PROBE_UNREACH_PORT,
		    "port unreachable");
	else
		probe_input(s->probe, s->now, sock, &k->from, k->buf, k->len);
}

/* ---------------------------------------------------------------- servers */

/* The request without its CHANGE-REQUEST (for a server that ignores it). */
static size_t
strip_change(const uint8_t *req, size_t len, uint8_t *out, size_t cap)
{
	struct stun_msg m;
	struct stun_enc e;
	size_t n = 0;
	int fp = 0;

	if (stun_decode(req, len, &m) != STUN_OK || stun_find(&m, STUN_ATTR_CHANGE_REQUEST) < 0) {
		if (len > cap)
			return 0;
		memcpy(out, req, len);
		return len;
	}
	stun_enc_init(&e, out, cap, m.type, m.tid);
	for (size_t i = 0; i < m.nattrs; i++) {
		if (m.attrs[i].type == STUN_ATTR_FINGERPRINT)
			fp = 1;
		else if (m.attrs[i].type != STUN_ATTR_CHANGE_REQUEST)
			stun_enc_bytes(&e, m.attrs[i].type, req + m.attrs[i].off, m.attrs[i].len);
	}
	if (fp)
		stun_enc_fingerprint(&e);
	return stun_enc_finish(&e, &n) == STUN_OK ? n : 0;
}

static int
has_change_request(const uint8_t *req, size_t len)
{
	struct stun_msg m;

	return stun_decode(req, len, &m) == STUN_OK && stun_find(&m, STUN_ATTR_CHANGE_REQUEST) >= 0;
}

/* A server that knows no CHANGE-REQUEST: a comprehension-required
 * attribute it does not understand is a 420 naming it (RFC 5389 section
 * 7.3.1). */
static size_t
refuse_change(const uint8_t *req, size_t len, uint8_t *out, size_t cap)
{
	static const uint16_t unknown = STUN_ATTR_CHANGE_REQUEST;
	struct stun_msg m;
	struct stun_enc e;
	size_t n = 0;

	if (stun_decode(req, len, &m) != STUN_OK)
		return 0;
	stun_enc_init(&e, out, cap, STUN_BINDING_ERROR, m.tid);
	stun_enc_error(&e, 420, "Unknown Attribute");
	stun_enc_unknown_attrs(&e, &unknown, 1);
	return stun_enc_finish(&e, &n) == STUN_OK ? n : 0;
}

/* Re-encode a reply the way an RFC 3489-only server (stund) writes it. */
static size_t
as_rfc3489(const struct server_cfg *c, unsigned via, const uint8_t *rep, size_t len,
           uint8_t *out, size_t cap)
{
	struct stun_msg m;
	struct stun_enc e;
	struct stun_addr a;
	size_t n = 0;

	if (stun_decode(rep, len, &m) != STUN_OK)
		return 0;
	stun_enc_init(&e, out, cap, m.type, m.tid);
	if (m.cls == STUN_CLASS_SUCCESS) {
		if (stun_get_mapped(&m, &a) == STUN_OK)
			stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, &a);
		stun_enc_addr(&e, STUN_ATTR_SOURCE_ADDRESS, &c->ep[via]);
		if (stun_get_addr(&m, STUN_ATTR_OTHER_ADDRESS, &a) == STUN_OK)
			stun_enc_addr(&e, STUN_ATTR_CHANGED_ADDRESS, &a);
	} else {
		int code = 0;
		const char *reason = NULL;
		size_t rlen = 0;
		char text[128];
		uint16_t unk[8];
		size_t nunk = 0;

		if (stun_get_error(&m, &code, &reason, &rlen) != STUN_OK)
			return 0;
		if (rlen >= sizeof(text))
			rlen = sizeof(text) - 1;
		memcpy(text, reason, rlen);
		text[rlen] = '\0';
		stun_enc_error(&e, code, text);
		if (stun_get_unknown_attrs(&m, unk, 8, &nunk) == STUN_OK && nunk > 0)
			stun_enc_unknown_attrs(&e, unk, nunk);
	}
	return stun_enc_finish(&e, &n) == STUN_OK ? n : 0;
}

/* Nothing listens at k->to: the server host says so to the sender. */
static void
icmp_back(struct natsim *s, const struct natsim_pkt *k)
{
	enqueue(s, s->now + s->down.delay_ms, 1, &k->to, &k->from, k->buf, k->len);
	if (s->nq > 0 && s->q[s->nq - 1].seq == s->seq - 1)
		s->q[s->nq - 1].icmp = 1;
	s->icmp_sent++;
}

/* A reply re-encoded by a hostile personality: as an indication, with a
 * transaction ID not ours, or with OTHER-ADDRESS / the mapped address
 * replaced by the configured fake. */
static size_t
rewrite(const struct natsim *s, enum natsim_personality pers, const uint8_t *rep, size_t len,
        uint8_t *out, size_t cap)
{
	struct stun_msg m;
	struct stun_enc e;
	size_t n = 0;

	if (stun_decode(rep, len, &m) != STUN_OK)
		return 0;
	if (pers == NATSIM_SRV_WRONG_TID)
		m.tid[STUN_TID_LEN - 1] ^= 0x5a;        /* no transaction of ours */
	stun_enc_init(&e, out, cap, pers == NATSIM_SRV_INDICATION ?
	    stun_msg_type(STUN_METHOD_BINDING, STUN_CLASS_INDICATION) : m.type, m.tid);
	for (size_t i = 0; i < m.nattrs; i++) {
		uint16_t t = m.attrs[i].type;

		if (t == STUN_ATTR_FINGERPRINT)
			continue;
		if (pers == NATSIM_SRV_FAKE_ORIGIN && t == STUN_ATTR_RESPONSE_ORIGIN) {
			stun_enc_addr(&e, STUN_ATTR_RESPONSE_ORIGIN, &s->fake_origin);
			continue;
		}
		if (pers == NATSIM_SRV_FAKE_ALT && t == STUN_ATTR_OTHER_ADDRESS) {
			stun_enc_addr(&e, STUN_ATTR_OTHER_ADDRESS, &s->fake_alt);
			continue;
		}
		if (pers == NATSIM_SRV_FAKE_MAPPED && t == STUN_ATTR_XOR_MAPPED_ADDRESS) {
			stun_enc_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, &s->fake_mapped);
			continue;
		}
		if (pers == NATSIM_SRV_FAKE_MAPPED && t == STUN_ATTR_MAPPED_ADDRESS) {
			stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, &s->fake_mapped);
			continue;
		}
		stun_enc_bytes(&e, t, rep + m.attrs[i].off, m.attrs[i].len);
	}
	return stun_enc_finish(&e, &n) == STUN_OK ? n : 0;
}

static void
server_in(struct natsim *s, const struct natsim_pkt *k)
{
	struct server_cfg c = s->srv;
	struct server_reply r;
	const struct server_cfg *use = &c;
	uint8_t req[sizeof(k->buf)], out[sizeof(k->buf)], alt[sizeof(k->buf)];
	size_t reqlen = k->len;
	int at = -1;
	enum natsim_personality pers = s->personality;

	if (pers == NATSIM_SRV_NO_ALT || pers == NATSIM_SRV_REFUSE_CHANGE ||
	    pers == NATSIM_SRV_DROP_CHANGE || pers == NATSIM_SRV_ONE_ADDRESS) {
		c.has_alt = 0;
		memset(&c.ep[1], 0, sizeof(c.ep[1]));
		if (pers != NATSIM_SRV_ONE_ADDRESS)
			memset(&c.ep[2], 0, sizeof(c.ep[2]));
		memset(&c.ep[3], 0, sizeof(c.ep[3]));
		c.other_port_only = pers == NATSIM_SRV_ONE_ADDRESS;
	}
	if (pers == NATSIM_SRV_SINGLE_ADDRESS) {
		/* The "alternate address" endpoints are the primary's own. */
		c.ep[SERVER_EP_ALT_ADDR] = c.ep[0];
		c.ep[SERVER_EP_OTHER] = c.ep[SERVER_EP_ALT_PORT];
	}
	for (int i = 0; i < 4; i++)
		if (c.ep[i].family != 0 && addr_eq(&c.ep[i], &k->to))
			at = i;
	if ((pers == NATSIM_SRV_CLOSED && at >= 0) ||
	    (s->second_server_closed && addr_eq(&s->srv2.ep[0], &k->to))) {
		icmp_back(s, k);
		return;
	}
	for (int i = 0; at < 0 && s->second_server_up && i < (s->srv2.has_alt ? 4 : 1); i++)
		if (addr_eq(&s->srv2.ep[i], &k->to)) {
			at = i;
			use = &s->srv2;
			pers = NATSIM_SRV_NORMAL;
		}
	if (at < 0) {
		s->unroutable++;
		return;
	}
	if (use == &c && s->rate_per_s > 0 && !rate_take(s))
		return;
	if (pers == NATSIM_SRV_DOWN || (pers == NATSIM_SRV_PRIMARY_ONLY && at != 0))
		return;
	if (pers == NATSIM_SRV_ECHO) {
		transmit(s, &s->down, 0, &k->to, &k->from, k->buf, k->len);
		return;
	}

	if ((pers == NATSIM_SRV_REFUSE_CHANGE || pers == NATSIM_SRV_DROP_CHANGE) &&
	    has_change_request(k->buf, k->len)) {
		if (pers == NATSIM_SRV_DROP_CHANGE)
			return;
		reqlen = refuse_change(k->buf, k->len, out, sizeof(out));
		if (reqlen > 0)
			transmit(s, &s->down, 0, &k->to, &k->from, out, reqlen);
		return;
	}
	memcpy(req, k->buf, k->len);
	if (pers == NATSIM_SRV_IGNORE_CHANGE) {
		reqlen = strip_change(k->buf, k->len, req, sizeof(req));
		if (reqlen == 0)
			return;
	}
	if (!server_handle(use, (unsigned)at, &k->from, req, reqlen, out, sizeof(out), &r))
		return;

	switch (pers) {
	case NATSIM_SRV_WRONG_CHANGE:
		/* Change port: from the other address too; change both: only
		 * the port changes.  Either way not what was asked. */
		if (r.via != (unsigned)at)
			r.via ^= SERVER_EP_ALT_ADDR;
		break;
	case NATSIM_SRV_ALT_NO_CHANGE_IP:
		if ((at & SERVER_EP_ALT_ADDR) && !(r.via & SERVER_EP_ALT_ADDR))
			r.via |= SERVER_EP_ALT_ADDR;
		break;
	case NATSIM_SRV_PRIMARY_ONLY:
		if (r.via != 0)
			return;
		break;
	case NATSIM_SRV_RFC3489:
		r.len = as_rfc3489(use, r.via, out, r.len, alt, sizeof(alt));
		if (r.len == 0)
			return;
		memcpy(out, alt, r.len);
		break;
	case NATSIM_SRV_SHIFTING_ALT:
		if (r.via == (unsigned)at)
			break;
		pers = NATSIM_SRV_FAKE_ALT;
		/* FALLTHROUGH */
	case NATSIM_SRV_WRONG_TID:
	case NATSIM_SRV_INDICATION:
	case NATSIM_SRV_FAKE_ALT:
	case NATSIM_SRV_FAKE_MAPPED:
	case NATSIM_SRV_FAKE_ORIGIN:
		r.len = rewrite(s, pers, out, r.len, alt, sizeof(alt));
		if (r.len == 0)
			return;
		memcpy(out, alt, r.len);
		break;
	case NATSIM_SRV_GARBAGE:
		/* Cut the last four bytes: the header's length no longer fits. */
		if (r.len > STUN_HEADER_LEN + 4)
			r.len -= 4;
		break;
	default:
		break;
	}
	transmit(s, &s->down, 0, &use->ep[r.via], &r.to, out, r.len);
}

/* ---------------------------------------------------------------- driver */

/* Deliver everything due by now, in (time, FIFO) order. */
static void
deliver_due(struct natsim *s)
{
	for (unsigned guard = 0; guard < 100000; guard++) {
		size_t best = s->nq;
		struct natsim_pkt k;

		for (size_t i = 0; i < s->nq; i++) {
			if (s->q[i].at > s->now)
				continue;
			if (best == s->nq || s->q[i].at < s->q[best].at ||
			    (s->q[i].at == s->q[best].at && s->q[i].seq < s->q[best].seq))
				best = i;
		}
		if (best == s->nq)
			return;
		k = s->q[best];
		s->q[best] = s->q[--s->nq];
		if (k.to_router)
			router_in(s, &k);
		else
			server_in(s, &k);
	}
}

uint64_t
natsim_run(struct natsim *s, const struct probe_config *cfg, struct probe *p)
{
	uint64_t start = s->now;
	uint64_t cap = start + cfg->timeout_ms + 60000;

	s->probe = p;
	probe_init(p, cfg, s->now);
	for (unsigned iter = 0; iter < 1000000 && s->now <= cap; iter++) {
		struct probe_tx tx;
		uint32_t wait = 0;
		enum probe_step step;

		deliver_due(s);
		step = probe_next(p, s->now, &tx, &wait);
		if (step == PROBE_DONE)
			break;
		if (step == PROBE_SEND) {
			client_send(s, tx.sock, &tx.to, tx.buf, tx.len);
			continue;
		}
		natsim_advance(s, wait);
	}
	return s->now - start;
}

void
natsim_second_alt(struct natsim *s)
{
	s->srv2.has_alt = 1;
	s->srv2.ep[SERVER_EP_ALT_ADDR] = natsim_addr("203.0.113.8", 3478);
	s->srv2.ep[SERVER_EP_ALT_PORT] = natsim_addr("203.0.113.7", 3479);
	s->srv2.ep[SERVER_EP_OTHER] = natsim_addr("203.0.113.8", 3479);
}

void
natsim_send(struct natsim *s, int sock, const struct stun_addr *to, const uint8_t *buf,
            size_t len)
{
	if (sock >= 0 && sock < NATSIM_MAX_SOCKS)
		client_send(s, sock, to, buf, len);
}

void
natsim_deliver(struct natsim *s)
{
	deliver_due(s);
}

void
natsim_advance(struct natsim *s, uint32_t wait_ms)
{
	uint64_t next = s->now + (wait_ms > 0 ? wait_ms : 1);

	for (size_t i = 0; i < s->nq; i++)
		if (s->q[i].at < next)
			next = s->q[i].at > s->now ? s->q[i].at : s->now + 1;
	s->now = next;
}
