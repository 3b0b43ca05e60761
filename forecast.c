/*
 * forecast.c - the hole-punching forecast and the --pair file reader.
 *
 * Pure: no I/O.  The rules are explained in forecast.h; each verdict
 * carries the reason a person would need to check it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "forecast.h"

/* ---------------------------------------------------------------- model */

/* What a peer can know of a host's public endpoint towards it (forecast.h). */
enum reach {
	REACH_UNKNOWN,
	REACH_YES,          /* exactly the endpoint the server saw */
	REACH_PREDICT,      /* the address; the port only by prediction */
	REACH_PORT,         /* the address, not the port */
	REACH_NONE          /* not even the address */
};

static enum reach
addressable(const struct forecast_host *h)
{
	if (h->nat == 0)
		return REACH_YES;
	switch (h->mapping) {
	case NAT_BEH_ENDPOINT_INDEPENDENT:
		return REACH_YES;
	case NAT_BEH_ADDRESS_DEPENDENT:
	case NAT_BEH_ADDRESS_PORT_DEPENDENT:
		break;
	case NAT_BEH_UNKNOWN:
		return REACH_UNKNOWN;
	}
	switch (h->allocation) {
	case PORTS_PRESERVING: return REACH_NONE;
	case PORTS_SEQUENTIAL: return REACH_PREDICT;
	case PORTS_RANDOM:     return REACH_PORT;
	case PORTS_UNKNOWN:    break;
	}
	return REACH_UNKNOWN;
}

/* Can a peer send to it, at least to predicted ports? */
static int
sendable(enum reach r)
{
	return r == REACH_YES || r == REACH_PREDICT;
}

static void
why(struct forecast_pair *o, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static void
why(struct forecast_pair *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
}

/* What is not known of a host's endpoint (not REACH_YES), for a reason. */
static const char *
unknown_part(enum reach r)
{
	switch (r) {
	case REACH_PREDICT: return "next port can only be predicted";
	case REACH_PORT:    return "port cannot be known";
	case REACH_NONE:
		return "address cannot be known (its new mappings keep the port and change the address)";
	case REACH_YES:
	case REACH_UNKNOWN: break;
	}
	return "endpoint is unknown";
}

/*
 * x (reach ax, YES or PREDICT) answers y (reach ay, not YES), whose
 * datagrams come from an endpoint nobody could know: x's filter decides
 * (paths 2 and 4 in forecast.h).  Returns 1 with o set when it admits
 * them; xn/yn name the hosts ("A", "B").
 */
static int
answers(const struct forecast_host *x, enum reach ax, enum reach ay, const char *xn,
        const char *yn, int x_is_a, struct forecast_pair *o)
{
	enum forecast_first x_first = x_is_a ? FORECAST_FIRST_A : FORECAST_FIRST_B;
	enum forecast_first y_first = x_is_a ? FORECAST_FIRST_B : FORECAST_FIRST_A;
	size_t n;

	if (x->filtering == NAT_BEH_ENDPOINT_INDEPENDENT) {
		o->first = y_first;
		why(o, "%s's %s, but %s's filter admits any sender: %s sends first and %s "
		    "answers where it came from", yn, unknown_part(ay), xn, yn, xn);
	} else if (x->filtering == NAT_BEH_ADDRESS_DEPENDENT && ay != REACH_NONE) {
		o->first = x_first;
		why(o, "%s's %s, but %s's filter admits %s's address once %s has sent to it: "
		    "%s sends first, then %s, and %s answers where it came from",
		    yn, unknown_part(ay), xn, yn, xn, xn, yn, xn);
	} else {
		return 0;
	}
	if (ax == REACH_PREDICT) {
		o->path = FORECAST_DIRECT_PREDICT;
		*(x_is_a ? &o->predict_a : &o->predict_b) = 1;
		/* The reason says so too (FORECAST_WHY_LEN leaves room). */
		n = strlen(o->why);
		snprintf(o->why + n, sizeof(o->why) - n, "; %s's next port must be predicted", xn);
	} else {
		o->path = FORECAST_DIRECT;
	}
	return 1;
}

/* No path: x (sendable) cannot admit y, or neither can be sent to. */
static void
no_path(const struct forecast_host *x, enum reach ax, enum reach ay, const char *xn,
        const char *yn, struct forecast_pair *o)
{
	o->first = FORECAST_FIRST_NONE;
	o->predict_a = o->predict_b = 0;
	if (!sendable(ax)) {
		o->path = FORECAST_RELAY;
		why(o, "neither can be addressed: %s's %s, and %s's %s", xn, unknown_part(ax), yn,
		    unknown_part(ay));
		return;
	}
	switch (x->filtering) {
	case NAT_BEH_UNKNOWN:
		o->path = FORECAST_UNKNOWN;
		why(o, "%s's %s and %s's filtering is unknown", yn, unknown_part(ay), xn);
		return;
	case NAT_BEH_ADDRESS_DEPENDENT:
		o->path = FORECAST_RELAY;
		why(o, "%s's %s and %s's filter admits only addresses it has sent to", yn,
		    unknown_part(ay), xn);
		return;
	case NAT_BEH_ADDRESS_PORT_DEPENDENT:
	case NAT_BEH_ENDPOINT_INDEPENDENT:     /* not here: it admits anyone */
		break;
	}
	o->path = FORECAST_RELAY;
	why(o, "%s's %s and %s's filter admits only the exact endpoint it sent to", yn,
	    unknown_part(ay), xn);
}

/* forecast_pair with the hosts' names for the reason ("A", "this host"). */
static void
pair_named(const struct forecast_host *a, const struct forecast_host *b, const char *an,
           const char *bn, struct forecast_pair *o)
{
	enum reach aa, ab;

	memset(o, 0, sizeof(*o));
	if (a->type == NAT_UDP_BLOCKED || b->type == NAT_UDP_BLOCKED) {
		o->path = FORECAST_RELAY;
		why(o, "UDP is blocked for %s: only a relay over TCP or TLS",
		    a->type == NAT_UDP_BLOCKED ? (b->type == NAT_UDP_BLOCKED ? "both" : an) : bn);
		return;
	}
	if (a->nat == 1 && b->nat == 1 && a->public_ip[0] != '\0' &&
	    strcmp(a->public_ip, b->public_ip) == 0 && a->hairpinning != 1) {
		why(o, "both are behind the same public address %s, whose NAT %s hairpin: "
		    "only their local addresses (if they share a network) or a relay",
		    a->public_ip, a->hairpinning == 0 ? "does not" : "may not");
		return;
	}
	aa = addressable(a);
	ab = addressable(b);
	if (aa == REACH_UNKNOWN || ab == REACH_UNKNOWN) {
		why(o, "the mapping or port allocation of %s is unknown",
		    aa == REACH_UNKNOWN ? (ab == REACH_UNKNOWN ? "both" : an) : bn);
		return;
	}
	/* 1. Both known exactly. */
	if (aa == REACH_YES && ab == REACH_YES) {
		o->path = FORECAST_DIRECT;
		o->first = FORECAST_FIRST_BOTH;
		why(o, "both can be addressed at the endpoint the server saw: both send at "
		    "once, and each one's first datagram opens its own filter");
		return;
	}
	/* 2. One known exactly, the other answered where it came from. */
	if ((aa == REACH_YES && answers(a, aa, ab, an, bn, 1, o)) ||
	    (ab == REACH_YES && answers(b, ab, aa, bn, an, 0, o)))
		return;
	/* 3. Both at once, to predicted ports. */
	if (sendable(aa) && sendable(ab)) {
		o->path = FORECAST_DIRECT_PREDICT;
		o->first = FORECAST_FIRST_BOTH;
		o->predict_a = aa == REACH_PREDICT;
		o->predict_b = ab == REACH_PREDICT;
		why(o, "both send at once; the next port of %s must be predicted from the "
		    "sequential allocation, which other traffic through the NAT can spoil",
		    o->predict_a && o->predict_b ? "each" : o->predict_a ? an : bn);
		return;
	}
	/* 4. As 2, the answering host's port predicted. */
	if ((aa == REACH_PREDICT && answers(a, aa, ab, an, bn, 1, o)) ||
	    (ab == REACH_PREDICT && answers(b, ab, aa, bn, an, 0, o)))
		return;
	if (sendable(ab))
		no_path(b, ab, aa, bn, an, o);
	else
		no_path(a, aa, ab, an, bn, o);
}

void
forecast_pair(const struct forecast_host *a, const struct forecast_host *b,
              struct forecast_pair *o)
{
	pair_named(a, b, "A", "B", o);
}

/* Typical peers: RFC 3489's names, symmetric split by allocation. */
static const struct {
	const char *name;
	struct forecast_host h;
} classes[FORECAST_NCLASSES] = {
	{ "open", { NAT_OPEN, 0, NAT_BEH_ENDPOINT_INDEPENDENT, NAT_BEH_ENDPOINT_INDEPENDENT,
	            -1, PORTS_PRESERVING, 0, 0, "" } },
	{ "full-cone", { NAT_FULL_CONE, 1, NAT_BEH_ENDPOINT_INDEPENDENT,
	                 NAT_BEH_ENDPOINT_INDEPENDENT, -1, PORTS_UNKNOWN, 0, 0, "" } },
	{ "restricted-cone", { NAT_RESTRICTED_CONE, 1, NAT_BEH_ENDPOINT_INDEPENDENT,
	                       NAT_BEH_ADDRESS_DEPENDENT, -1, PORTS_UNKNOWN, 0, 0, "" } },
	{ "port-restricted-cone", { NAT_PORT_RESTRICTED_CONE, 1, NAT_BEH_ENDPOINT_INDEPENDENT,
	                            NAT_BEH_ADDRESS_PORT_DEPENDENT, -1, PORTS_UNKNOWN, 0, 0,
	                            "" } },
	{ "symmetric-sequential", { NAT_SYMMETRIC, 1, NAT_BEH_ADDRESS_PORT_DEPENDENT,
	                            NAT_BEH_ADDRESS_PORT_DEPENDENT, -1, PORTS_SEQUENTIAL, 1, 1,
	                            "" } },
	{ "symmetric-random", { NAT_SYMMETRIC, 1, NAT_BEH_ADDRESS_PORT_DEPENDENT,
	                        NAT_BEH_ADDRESS_PORT_DEPENDENT, -1, PORTS_RANDOM, 0, 0, "" } },
	{ "udp-blocked", { NAT_UDP_BLOCKED, -1, NAT_BEH_UNKNOWN, NAT_BEH_UNKNOWN, -1,
	                   PORTS_UNKNOWN, 0, 0, "" } },
};

void
forecast_classes(const struct forecast_host *self, struct forecast_class out[FORECAST_NCLASSES])
{
	for (size_t i = 0; i < FORECAST_NCLASSES; i++) {
		out[i].name = classes[i].name;
		pair_named(self, &classes[i].h, "this host", "the peer", &out[i].pair);
	}
}

/* The IP part of "ip:port" or "[ip]:port" into out; "" if malformed. */
static void
ip_part(const char *s, char *out, size_t cap)
{
	const char *end;
	size_t n;

	out[0] = '\0';
	if (s[0] == '[') {
		s++;
		end = strchr(s, ']');
	} else {
		end = strrchr(s, ':');
	}
	if (end == NULL)
		return;
	n = (size_t)(end - s);
	if (n == 0 || n >= cap)
		return;
	memcpy(out, s, n);
	out[n] = '\0';
}

void
forecast_host_from(const struct nat_verdict *v, const struct ports_result *ports,
                   struct forecast_host *h)
{
	char buf[ADDR_STRLEN];

	memset(h, 0, sizeof(*h));
	h->type = v->type;
	h->nat = v->nat;
	h->mapping = v->mapping;
	h->filtering = v->filtering;
	h->hairpinning = v->hairpinning;
	h->allocation = ports ? ports->allocation : PORTS_UNKNOWN;
	h->has_delta = ports ? ports->has_delta : 0;
	h->delta = ports ? ports->delta : 0;
	if (v->has_mapped)
		ip_part(addr_fmt(&v->mapped, buf, sizeof(buf)), h->public_ip, sizeof(h->public_ip));
}

const char *
forecast_path_word(enum forecast_path p)
{
	switch (p) {
	case FORECAST_DIRECT:         return "direct";
	case FORECAST_DIRECT_PREDICT: return "direct-with-port-prediction";
	case FORECAST_RELAY:          return "relay";
	case FORECAST_UNKNOWN:        break;
	}
	return "unknown";
}

const char *
forecast_first_word(enum forecast_first f)
{
	switch (f) {
	case FORECAST_FIRST_BOTH: return "both";
	case FORECAST_FIRST_A:    return "a";
	case FORECAST_FIRST_B:    return "b";
	case FORECAST_FIRST_NONE: break;
	}
	return "none";
}

int
forecast_exit_code(enum forecast_path p)
{
	switch (p) {
	case FORECAST_DIRECT:         return FORECAST_EXIT_DIRECT;
	case FORECAST_DIRECT_PREDICT: return FORECAST_EXIT_PREDICT;
	case FORECAST_RELAY:          return FORECAST_EXIT_RELAY;
	case FORECAST_UNKNOWN:        break;
	}
	return FORECAST_EXIT_UNKNOWN;
}

/* ---------------------------------------------------------------- JSON */

/*
 * A bounded JSON reader (RFC 8259) for one saved result.  It checks the
 * whole text and remembers where the top-level values this module reads
 * are; nothing is allocated and every read is behind a bounds check.
 */
struct jr {
	const char *s;
	size_t   n, i;
	char    *err;
	size_t   errlen;
};

/* A value's span [at, end) in the text; end == 0 when absent. */
struct jspan {
	size_t   at, end;
};

static int
jfail(struct jr *j, const char *what)
{
	snprintf(j->err, j->errlen, "%s at byte %zu", what, j->i);
	return -1;
}

static void
jws(struct jr *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
	    j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A string at j->i (the opening quote).  Its printable ASCII content goes
 * to out (cap bytes, NUL-terminated) when out is not NULL; *ascii says
 * whether it all fitted and was printable ASCII.
 */
static int
jstring(struct jr *j, char *out, size_t cap, int *ascii)
{
	size_t k = 0;
	int ok = 1;

	if (j->i >= j->n || j->s[j->i] != '"')
		return jfail(j, "expected a string");
	j->i++;
	for (;;) {
		unsigned c;

		if (j->i >= j->n)
			return jfail(j, "unterminated string");
		c = (unsigned char)j->s[j->i++];
		if (c == '"')
			break;
		if (c < 0x20)
			return jfail(j, "control character in a string");
		if (c == '\\') {
			if (j->i >= j->n)
				return jfail(j, "unterminated escape");
			c = (unsigned char)j->s[j->i++];
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': case 'f': case 'n': case 'r': case 't': c = 0; break;
			case 'u': {
				unsigned v = 0;

				if (j->n - j->i < 4)
					return jfail(j, "short \\u escape");
				for (int d = 0; d < 4; d++) {
					int h = hexval(j->s[j->i++]);

					if (h < 0)
						return jfail(j, "bad \\u escape");
					v = v * 16 + (unsigned)h;
				}
				c = v;
				break;
			}
			default:
				return jfail(j, "bad escape");
			}
		}
		if (c < 0x20 || c > 0x7e) {
			ok = 0;
			continue;
		}
		if (out != NULL && k + 1 < cap)
			out[k++] = (char)c;
		else
			ok = 0;
	}
	if (out != NULL && cap > 0)
		out[k] = '\0';
	if (ascii != NULL)
		*ascii = ok;
	return 0;
}

static int
jdigits(struct jr *j)
{
	size_t at = j->i;

	while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
		j->i++;
	return j->i > at ? 0 : jfail(j, "expected a digit");
}

static int
jnumber(struct jr *j)
{
	if (j->i < j->n && j->s[j->i] == '-')
		j->i++;
	if (j->i < j->n && j->s[j->i] == '0')
		j->i++;
	else if (jdigits(j) == -1)
		return -1;
	if (j->i < j->n && j->s[j->i] == '.') {
		j->i++;
		if (jdigits(j) == -1)
			return -1;
	}
	if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
		j->i++;
		if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
			j->i++;
		if (jdigits(j) == -1)
			return -1;
	}
	return 0;
}

static int
jliteral(struct jr *j, const char *word)
{
	size_t n = strlen(word);

	if (j->n - j->i < n || memcmp(j->s + j->i, word, n) != 0)
		return jfail(j, "unexpected character");
	j->i += n;
	return 0;
}

/* The keys read from an object, and where their values are. */
struct jkeys {
	const char *const *names;
	size_t   nnames;
	struct jspan *spans;
};

static int jvalue(struct jr *j, int depth, const struct jkeys *keys);

/* An object or array at j->i; keys (objects only, may be NULL) collects
 * the spans of its named members. */
static int
jcontainer(struct jr *j, int depth, const struct jkeys *keys)
{
	int obj = j->s[j->i] == '{';
	char close = obj ? '}' : ']';

	if (depth >= FORECAST_JSON_DEPTH)
		return jfail(j, "nested too deeply");
	j->i++;
	jws(j);
	if (j->i < j->n && j->s[j->i] == close) {
		j->i++;
		return 0;
	}
	for (;;) {
		struct jspan *slot = NULL;

		jws(j);
		if (obj) {
			char key[32];
			int ascii;

			if (jstring(j, key, sizeof(key), &ascii) == -1)
				return -1;
			for (size_t k = 0; keys != NULL && ascii && k < keys->nnames; k++)
				if (strcmp(key, keys->names[k]) == 0)
					slot = &keys->spans[k];
			if (slot != NULL && slot->end != 0)
				return jfail(j, "duplicate key");
			jws(j);
			if (j->i >= j->n || j->s[j->i] != ':')
				return jfail(j, "expected ':'");
			j->i++;
			jws(j);
		}
		if (slot != NULL)
			slot->at = j->i;
		if (jvalue(j, depth + 1, NULL) == -1)
			return -1;
		if (slot != NULL)
			slot->end = j->i;
		jws(j);
		if (j->i >= j->n)
			return jfail(j, obj ? "unterminated object" : "unterminated array");
		if (j->s[j->i] == close) {
			j->i++;
			return 0;
		}
		if (j->s[j->i] != ',')
			return jfail(j, "expected ',' or the end");
		j->i++;
	}
}

static int
jvalue(struct jr *j, int depth, const struct jkeys *keys)
{
	if (j->i >= j->n)
		return jfail(j, "expected a value");
	switch (j->s[j->i]) {
	case '{': case '[': return jcontainer(j, depth, keys);
	case '"':           return jstring(j, NULL, 0, NULL);
	case 't':           return jliteral(j, "true");
	case 'f':           return jliteral(j, "false");
	case 'n':           return jliteral(j, "null");
	default:
		if (j->s[j->i] == '-' || (j->s[j->i] >= '0' && j->s[j->i] <= '9'))
			return jnumber(j);
		return jfail(j, "unexpected character");
	}
}

/* Parse the whole text (one object) and collect the named top-level
 * members' spans. */
static int
jdocument(struct jr *j, const struct jkeys *keys)
{
	jws(j);
	if (j->i >= j->n || j->s[j->i] != '{')
		return jfail(j, "expected a JSON object");
	if (jvalue(j, 0, keys) == -1)
		return -1;
	jws(j);
	if (j->i != j->n)
		return jfail(j, "text after the object");
	return 0;
}

/* The members read from a result and from its "ports" object. */
enum { K_TYPE, K_NAT, K_MAPPING, K_FILTERING, K_HAIRPIN, K_MAPPED, K_PORTS, K_N };
static const char *const top_names[K_N] = {
	"type", "nat", "mapping", "filtering", "hairpinning", "mapped", "ports"
};
enum { P_ALLOC, P_DELTA, P_N };
static const char *const ports_names[P_N] = { "allocation", "delta" };

/* A word value at span sp into out; -1 unless it is a short ASCII string. */
static int
jword(struct jr *j, const struct jspan *sp, char *out, size_t cap, const char *key)
{
	int ascii;

	j->i = sp->at;
	if (j->s[j->i] != '"' || jstring(j, out, cap, &ascii) == -1 || !ascii) {
		snprintf(j->err, j->errlen, "\"%s\" is not a short string", key);
		return -1;
	}
	return 0;
}

static int
jis(const struct jr *j, const struct jspan *sp, const char *lit)
{
	size_t n = strlen(lit);

	return sp->end - sp->at == n && memcmp(j->s + sp->at, lit, n) == 0;
}

/* true/false/null into 1/0/-1. */
static int
jtristate(struct jr *j, const struct jspan *sp, const char *key, int *out)
{
	if (sp->end == 0 || jis(j, sp, "null"))
		*out = -1;
	else if (jis(j, sp, "true"))
		*out = 1;
	else if (jis(j, sp, "false"))
		*out = 0;
	else {
		snprintf(j->err, j->errlen, "\"%s\" is not true, false or null", key);
		return -1;
	}
	return 0;
}

static int
behavior_of(struct jr *j, const struct jspan *sp, const char *key, enum nat_behavior *b)
{
	char w[40];

	*b = NAT_BEH_UNKNOWN;
	if (sp->end == 0)
		return 0;
	if (jword(j, sp, w, sizeof(w), key) == -1)
		return -1;
	for (int k = NAT_BEH_UNKNOWN; k <= NAT_BEH_ADDRESS_PORT_DEPENDENT; k++)
		if (strcmp(w, nat_behavior_word((enum nat_behavior)k)) == 0) {
			*b = (enum nat_behavior)k;
			return 0;
		}
	snprintf(j->err, j->errlen, "\"%s\": unknown behaviour", key);
	return -1;
}

static int
ports_of(struct jr *j, const struct jspan *sp, struct forecast_host *h)
{
	struct jspan ps[P_N];
	struct jkeys keys = { ports_names, P_N, ps };
	char w[24];

	if (sp->end == 0 || jis(j, sp, "null"))
		return 0;
	memset(ps, 0, sizeof(ps));
	j->i = sp->at;
	if (j->s[j->i] != '{' || jvalue(j, 0, &keys) == -1) {
		snprintf(j->err, j->errlen, "\"ports\" is not an object");
		return -1;
	}
	if (ps[P_ALLOC].end != 0) {
		int found = 0;

		if (jword(j, &ps[P_ALLOC], w, sizeof(w), "allocation") == -1)
			return -1;
		for (int k = PORTS_UNKNOWN; k <= PORTS_RANDOM; k++)
			if (strcmp(w, ports_alloc_word((enum ports_alloc)k)) == 0) {
				h->allocation = (enum ports_alloc)k;
				found = 1;
			}
		if (!found) {
			snprintf(j->err, j->errlen, "\"allocation\": unknown word");
			return -1;
		}
	}
	if (ps[P_DELTA].end != 0 && !jis(j, &ps[P_DELTA], "null")) {
		long v = 0;
		size_t at = ps[P_DELTA].at, end = ps[P_DELTA].end;
		int neg = j->s[at] == '-';

		/* An integer of at most five digits, within the port space. */
		at += (size_t)neg;
		if (end - at == 0 || end - at > 5) {
			snprintf(j->err, j->errlen, "\"delta\" is not a port step");
			return -1;
		}
		for (size_t k = at; k < end; k++) {
			if (j->s[k] < '0' || j->s[k] > '9') {
				snprintf(j->err, j->errlen, "\"delta\" is not an integer");
				return -1;
			}
			v = v * 10 + (j->s[k] - '0');
		}
		if (v > 65535) {
			snprintf(j->err, j->errlen, "\"delta\" is out of range");
			return -1;
		}
		h->has_delta = 1;
		h->delta = (int)(neg ? -v : v);
	}
	return 0;
}

int
forecast_parse(const char *buf, size_t len, struct forecast_host *h, char *err, size_t errlen)
{
	struct jspan sp[K_N];
	struct jkeys keys = { top_names, K_N, sp };
	struct jr j = { buf, len, 0, err, errlen };
	char w[FORECAST_IP_LEN + 16];
	int found = 0;

	memset(h, 0, sizeof(*h));
	memset(sp, 0, sizeof(sp));
	h->nat = h->hairpinning = -1;
	if (len > FORECAST_JSON_MAX) {
		snprintf(err, errlen, "longer than %u bytes", FORECAST_JSON_MAX);
		return -1;
	}
	if (jdocument(&j, &keys) == -1)
		return -1;
	if (sp[K_TYPE].end == 0) {
		snprintf(err, errlen, "no \"type\": not a natcheck --json result");
		return -1;
	}
	if (jword(&j, &sp[K_TYPE], w, sizeof(w), "type") == -1)
		return -1;
	for (int k = NAT_UNKNOWN; k <= NAT_UDP_BLOCKED; k++)
		if (strcmp(w, nat_type_word((enum nat_type)k)) == 0) {
			h->type = (enum nat_type)k;
			found = 1;
		}
	if (!found) {
		snprintf(err, errlen, "\"type\": unknown NAT type");
		return -1;
	}
	if (jtristate(&j, &sp[K_NAT], "nat", &h->nat) == -1 ||
	    jtristate(&j, &sp[K_HAIRPIN], "hairpinning", &h->hairpinning) == -1 ||
	    behavior_of(&j, &sp[K_MAPPING], "mapping", &h->mapping) == -1 ||
	    behavior_of(&j, &sp[K_FILTERING], "filtering", &h->filtering) == -1 ||
	    ports_of(&j, &sp[K_PORTS], h) == -1)
		return -1;
	if (sp[K_MAPPED].end != 0 && !jis(&j, &sp[K_MAPPED], "null")) {
		if (jword(&j, &sp[K_MAPPED], w, sizeof(w), "mapped") == -1)
			return -1;
		ip_part(w, h->public_ip, sizeof(h->public_ip));
	}
	return 0;
}
