/*
 * portmap.c - the port-mapping probes: pure codecs and an I/O-free engine.
 *
 * Read-only by construction: the only requests this file can build are
 * NAT-PMP opcode 0, PCP ANNOUNCE, an SSDP M-SEARCH, an HTTP GET and the
 * SOAP action GetExternalIPAddress.  Every byte that comes back is read
 * behind a length check; a malformed answer is a named status and is not
 * believed.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "portmap.h"

static const char *const status_names[PORTMAP_STATUS_COUNT] = {
	[PORTMAP_OK] = "ok",
	[PORTMAP_E_SHORT] = "short",
	[PORTMAP_E_LONG] = "too-long",
	[PORTMAP_E_VERSION] = "bad-version",
	[PORTMAP_E_NOT_RESPONSE] = "not-a-response",
	[PORTMAP_E_OPCODE] = "wrong-opcode",
	[PORTMAP_E_ALIGN] = "misaligned",
	[PORTMAP_E_OPTION] = "bad-option",
	[PORTMAP_E_INCOMPLETE] = "incomplete",
	[PORTMAP_E_STATUS_LINE] = "bad-status-line",
	[PORTMAP_E_HEADER] = "bad-header",
	[PORTMAP_E_HEADERS] = "too-many-headers",
	[PORTMAP_E_LINE] = "line-too-long",
	[PORTMAP_E_LENGTH] = "bad-content-length",
	[PORTMAP_E_CHUNK] = "bad-chunk",
	[PORTMAP_E_TOO_BIG] = "too-big",
	[PORTMAP_E_HTTP_STATUS] = "http-error",
	[PORTMAP_E_NOT_IGD] = "not-a-gateway",
	[PORTMAP_E_NO_LOCATION] = "no-location",
	[PORTMAP_E_URL] = "bad-url",
	[PORTMAP_E_FOREIGN_HOST] = "foreign-host",
	[PORTMAP_E_NO_SERVICE] = "no-wan-service",
	[PORTMAP_E_NO_CONTROL] = "no-control-url",
	[PORTMAP_E_SOAP_FAULT] = "soap-fault",
	[PORTMAP_E_NO_ADDRESS] = "no-address",
	[PORTMAP_E_EMPTY_ADDRESS] = "empty-address",
	[PORTMAP_E_BAD_ADDRESS] = "bad-address",
	[PORTMAP_E_CONNECT] = "connect-failed",
	[PORTMAP_E_CLOSED] = "closed-early",
	[PORTMAP_E_TIMEOUT] = "timeout",
};

const char *
portmap_status_name(enum portmap_status s)
{
	return (unsigned)s < PORTMAP_STATUS_COUNT && status_names[s] ? status_names[s] : "?";
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ------------------------------------------------------------ NAT-PMP */

size_t
portmap_natpmp_request(uint8_t *buf)
{
	buf[0] = 0;     /* version */
	buf[1] = 0;     /* opcode 0: external address */
	return 2;
}

enum portmap_status
portmap_natpmp_decode(const uint8_t *buf, size_t len, struct portmap_natpmp *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 2)
		return PORTMAP_E_SHORT;
	if (buf[0] != 0)
		return PORTMAP_E_VERSION;
	if (buf[1] < 128)
		return PORTMAP_E_NOT_RESPONSE;
	if (buf[1] != 128)
		return PORTMAP_E_OPCODE;
	if (len < 8)
		return PORTMAP_E_SHORT;
	if (len > PORTMAP_PCP_MAX)
		return PORTMAP_E_LONG;
	out->result = (uint16_t)(buf[2] << 8 | buf[3]);
	out->epoch = get32(buf + 4);
	if (out->result != 0)
		return PORTMAP_OK;      /* the address field is undefined (RFC 6886 3.5) */
	if (len < PORTMAP_NATPMP_LEN)
		return PORTMAP_E_SHORT;
	out->has_external = 1;
	out->external.family = 4;
	memcpy(out->external.addr, buf + 8, 4);
	return PORTMAP_OK;
}

/* ------------------------------------------------------------ PCP */

size_t
portmap_pcp_announce(uint8_t *buf, const struct stun_addr *client)
{
	memset(buf, 0, PORTMAP_PCP_HDR);
	buf[0] = 2;             /* version */
	buf[1] = 0;             /* R = 0 (request), opcode 0 = ANNOUNCE */
	put32(buf + 4, 0);      /* requested lifetime: 0 */
	if (client->family == 6) {
		memcpy(buf + 8, client->addr, 16);
	} else {
		buf[18] = 0xff;     /* ::ffff:a.b.c.d (RFC 6887 section 5) */
		buf[19] = 0xff;
		memcpy(buf + 20, client->addr, 4);
	}
	return PORTMAP_PCP_HDR;
}

enum portmap_status
portmap_pcp_decode(const uint8_t *buf, size_t len, struct portmap_pcp *out)
{
	size_t off;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return PORTMAP_E_SHORT;
	if (buf[0] == 0) {
		/* A NAT-PMP server refusing version 2 (RFC 6887 section 9). */
		struct portmap_natpmp n;
		enum portmap_status st;

		if (buf[1] < 128)
			return PORTMAP_E_NOT_RESPONSE;
		if (len < 8)
			return PORTMAP_E_SHORT;
		if (len > PORTMAP_PCP_MAX)
			return PORTMAP_E_LONG;
		/* Any NAT-PMP opcode: servers echo 128 + the opcode they read. */
		st = portmap_natpmp_decode((const uint8_t[]){ 0, 128, buf[2], buf[3],
		    buf[4], buf[5], buf[6], buf[7] }, 8, &n);
		if (st != PORTMAP_OK)
			return st;
		out->version = 0;
		out->result = n.result > 255 ? 255 : (uint8_t)n.result;
		out->epoch = n.epoch;
		return PORTMAP_OK;
	}
	if (buf[0] != 2)
		return PORTMAP_E_VERSION;
	if (len < PORTMAP_PCP_HDR)
		return PORTMAP_E_SHORT;
	if (len > PORTMAP_PCP_MAX)
		return PORTMAP_E_LONG;
	if (len % 4 != 0)
		return PORTMAP_E_ALIGN;
	if (!(buf[1] & 0x80))
		return PORTMAP_E_NOT_RESPONSE;
	if ((buf[1] & 0x7f) != 0)
		return PORTMAP_E_OPCODE;
	out->version = 2;
	out->result = buf[3];
	out->lifetime = get32(buf + 4);
	out->epoch = get32(buf + 8);
	/* Options (RFC 6887 section 7.3): code, reserved, 16-bit length, data
	 * padded to 4; each must fit what is left. */
	for (off = PORTMAP_PCP_HDR; off < len; ) {
		size_t olen, padded;

		if (len - off < 4)
			return PORTMAP_E_OPTION;
		olen = (size_t)(buf[off + 2] << 8 | buf[off + 3]);
		padded = (olen + 3) & ~(size_t)3;
		if (padded > len - off - 4)
			return PORTMAP_E_OPTION;
		off += 4 + padded;
		out->noptions++;
	}
	return PORTMAP_OK;
}

/* ------------------------------------------------------------ text helpers */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* buf[0..len) equals the NUL-terminated s, ignoring ASCII case. */
static int
ieq(const char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)buf[i]) != lower((unsigned char)s[i]))
			return 0;
	return 1;
}

/* buf[0..len) starts with s, ignoring ASCII case. */
static int
iprefix(const char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	return len >= n && ieq(buf, n, s);
}

/* The first occurrence of s in buf[0..len), or NULL (memmem is not POSIX). */
static const char *
find(const char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > len)
		return NULL;
	for (size_t i = 0; i + n <= len; i++)
		if (buf[i] == s[0] && memcmp(buf + i, s, n) == 0)
			return buf + i;
	return NULL;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && blank((*s)[*len - 1]))
		(*len)--;
}

/* A decimal number of at most `maxdigits` digits, all of s[0..len). */
static int
parse_uint(const char *s, size_t len, size_t maxdigits, unsigned long *out)
{
	unsigned long v = 0;

	if (len == 0 || len > maxdigits)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
portmap_ipv4_parse(const char *s, size_t len, struct stun_addr *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned long v;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (parse_uint(s + start, i - start, 3, &v) == -1 || v > 255)
			return -1;
		out->addr[part] = (uint8_t)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
	}
	if (i != len)
		return -1;
	out->family = 4;
	return 0;
}

/* ------------------------------------------------------------ HTTP */

/* The next line of buf[off..len): its length without CRLF (or LF) in
 * *line_len, the offset after it in *next.  0, -2 incomplete, -1 too long. */
static int
next_line(const char *buf, size_t len, size_t off, size_t *line_len, size_t *next)
{
	for (size_t i = off; i < len; i++) {
		if (i - off > PORTMAP_LINE_MAX)
			return -1;
		if (buf[i] == '\n') {
			size_t l = i - off;

			if (l > 0 && buf[i - 1] == '\r')
				l--;
			*line_len = l;
			*next = i + 1;
			return 0;
		}
	}
	return len - off > PORTMAP_LINE_MAX ? -1 : -2;
}

enum portmap_status
portmap_http_parse(const char *buf, size_t len, struct portmap_http *h)
{
	size_t off = 0, ll, next;
	unsigned long code;
	int r;

	memset(h, 0, sizeof(*h));
	r = next_line(buf, len, off, &ll, &next);
	if (r == -1)
		return PORTMAP_E_LINE;
	if (r == -2)
		return len >= 5 && !iprefix(buf, len, "HTTP/") ? PORTMAP_E_STATUS_LINE
		    : PORTMAP_E_INCOMPLETE;
	/* "HTTP/1.x NNN reason" */
	if (ll < 12 || !iprefix(buf, ll, "HTTP/1.") || buf[7] < '0' || buf[7] > '9' ||
	    buf[8] != ' ' || parse_uint(buf + 9, 3, 3, &code) == -1 ||
	    (ll > 12 && buf[12] != ' '))
		return PORTMAP_E_STATUS_LINE;
	h->status = (int)code;
	off = next;
	for (;;) {
		const char *line, *colon, *v;
		size_t vlen;

		r = next_line(buf, len, off, &ll, &next);
		if (r == -1)
			return PORTMAP_E_LINE;
		if (r == -2)
			return PORTMAP_E_INCOMPLETE;
		line = buf + off;
		off = next;
		if (ll == 0)
			break;
		colon = memchr(line, ':', ll);
		if (colon == NULL || colon == line || blank(line[0]))
			return PORTMAP_E_HEADER;
		for (const char *c = line; c < colon; c++)
			if (blank(*c) || (unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e)
				return PORTMAP_E_HEADER;
		if (h->nheaders == PORTMAP_MAX_HEADERS)
			return PORTMAP_E_HEADERS;
		v = colon + 1;
		vlen = ll - (size_t)(v - line);
		trim(&v, &vlen);
		h->headers[h->nheaders].name = line;
		h->headers[h->nheaders].name_len = (size_t)(colon - line);
		h->headers[h->nheaders].value = v;
		h->headers[h->nheaders].value_len = vlen;
		h->nheaders++;
	}
	h->header_len = off;
	return PORTMAP_OK;
}

const struct portmap_header *
portmap_http_header(const struct portmap_http *h, const char *name)
{
	for (size_t i = 0; i < h->nheaders; i++)
		if (ieq(h->headers[i].name, h->headers[i].name_len, name))
			return &h->headers[i];
	return NULL;
}

/* Join the chunks of buf[off..len) into out (RFC 9112 section 7.1). */
static enum portmap_status
dechunk(const char *buf, size_t len, size_t off, char *out, size_t outcap, size_t *outlen)
{
	size_t n = 0;

	for (;;) {
		size_t ll, next, i, size = 0, digits = 0;
		int r = next_line(buf, len, off, &ll, &next);

		if (r == -1)
			return PORTMAP_E_CHUNK;
		if (r == -2)
			return PORTMAP_E_INCOMPLETE;
		/* Hex size, then optional ";extension". */
		for (i = 0; i < ll && buf[off + i] != ';'; i++) {
			char c = (char)lower((unsigned char)buf[off + i]);
			int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

			if (blank(c))
				continue;
			if (d < 0 || size > PORTMAP_HTTP_CAP)   /* guards the multiply */
				return PORTMAP_E_CHUNK;
			size = size * 16 + (size_t)d;
			digits++;
		}
		if (digits == 0)
			return PORTMAP_E_CHUNK;
		off = next;
		if (size == 0)
			break;          /* trailers, if any, are not needed */
		if (size > outcap - n)
			return PORTMAP_E_TOO_BIG;
		if (size > len - off)
			return PORTMAP_E_INCOMPLETE;
		memcpy(out + n, buf + off, size);
		n += size;
		off += size;
		r = next_line(buf, len, off, &ll, &next);
		if (r == -2)
			return PORTMAP_E_INCOMPLETE;
		if (r == -1 || ll != 0)
			return PORTMAP_E_CHUNK;
		off = next;
	}
	*outlen = n;
	return PORTMAP_OK;
}

enum portmap_status
portmap_http_body(const char *buf, size_t len, int eof, const struct portmap_http *h,
                  char *out, size_t outcap, const char **body, size_t *body_len)
{
	const struct portmap_header *te = portmap_http_header(h, "Transfer-Encoding");
	const struct portmap_header *cl = portmap_http_header(h, "Content-Length");
	size_t have = len - h->header_len;
	enum portmap_status st;

	if (te != NULL && !ieq(te->value, te->value_len, "identity")) {
		if (!ieq(te->value, te->value_len, "chunked"))
			return PORTMAP_E_CHUNK;
		if (cl != NULL)
			return PORTMAP_E_LENGTH;    /* RFC 9112 6.3: a smuggling sign */
		st = dechunk(buf, len, h->header_len, out, outcap, body_len);
		if (st == PORTMAP_E_INCOMPLETE && eof)
			return PORTMAP_E_CLOSED;
		if (st == PORTMAP_OK)
			*body = out;
		return st;
	}
	if (cl != NULL) {
		unsigned long n;

		for (size_t i = 0; i < h->nheaders; i++)
			if (&h->headers[i] != cl && ieq(h->headers[i].name, h->headers[i].name_len,
			    "Content-Length"))
				return PORTMAP_E_LENGTH;    /* two of them */
		if (parse_uint(cl->value, cl->value_len, 9, &n) == -1)
			return PORTMAP_E_LENGTH;
		if (n > PORTMAP_HTTP_CAP)
			return PORTMAP_E_TOO_BIG;
		if (have < n)
			return eof ? PORTMAP_E_CLOSED : PORTMAP_E_INCOMPLETE;
		*body = buf + h->header_len;
		*body_len = n;
		return PORTMAP_OK;
	}
	if (!eof)
		return PORTMAP_E_INCOMPLETE;
	*body = buf + h->header_len;
	*body_len = have;
	return PORTMAP_OK;
}

enum portmap_status
portmap_url_parse(const char *s, size_t len, struct portmap_url *u)
{
	size_t i, hs;
	unsigned long port = 80;

	memset(u, 0, sizeof(*u));
	if (!iprefix(s, len, "http://"))
		return PORTMAP_E_URL;
	i = hs = 7;
	while (i < len && s[i] != ':' && s[i] != '/')
		i++;
	if (portmap_ipv4_parse(s + hs, i - hs, &u->host) == -1)
		return PORTMAP_E_URL;
	if (i < len && s[i] == ':') {
		size_t ps = ++i;

		while (i < len && s[i] != '/')
			i++;
		if (parse_uint(s + ps, i - ps, 5, &port) == -1 || port == 0 || port > 65535)
			return PORTMAP_E_URL;
	}
	u->host.port = (uint16_t)port;
	if (i == len) {
		u->path[0] = '/';
		return PORTMAP_OK;
	}
	if (len - i >= PORTMAP_PATH_MAX)
		return PORTMAP_E_URL;
	/* Only what may go into a request line as it is. */
	for (size_t k = i; k < len; k++)
		if ((unsigned char)s[k] <= 0x20 || (unsigned char)s[k] >= 0x7f)
			return PORTMAP_E_URL;
	memcpy(u->path, s + i, len - i);
	u->path[len - i] = '\0';
	return PORTMAP_OK;
}

/* ------------------------------------------------------------ SSDP */

#define SSDP_IGD "urn:schemas-upnp-org:device:InternetGatewayDevice:"
#define SSDP_GROUP "239.255.255.250"

size_t
portmap_ssdp_request(char *buf, size_t cap, const struct stun_addr *to, int multicast)
{
	char host[ADDR_STRLEN];
	int n;

	addr_fmt(to, host, sizeof(host));
	n = snprintf(buf, cap,
	    "M-SEARCH * HTTP/1.1\r\n"
	    "HOST: %s\r\n"
	    "MAN: \"ssdp:discover\"\r\n"
	    "%s"
	    "ST: " SSDP_IGD "1\r\n"
	    "\r\n", host, multicast ? "MX: 1\r\n" : "");
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

enum portmap_status
portmap_ssdp_decode(const char *buf, size_t len, struct portmap_url *location)
{
	struct portmap_http h;
	const struct portmap_header *st, *loc;
	enum portmap_status s = portmap_http_parse(buf, len, &h);

	memset(location, 0, sizeof(*location));
	if (s != PORTMAP_OK)
		return s;
	if (h.status != 200)
		return PORTMAP_E_HTTP_STATUS;
	st = portmap_http_header(&h, "ST");
	if (st == NULL || !iprefix(st->value, st->value_len, SSDP_IGD))
		return PORTMAP_E_NOT_IGD;
	loc = portmap_http_header(&h, "LOCATION");
	if (loc == NULL || loc->value_len == 0)
		return PORTMAP_E_NO_LOCATION;
	return portmap_url_parse(loc->value, loc->value_len, location);
}

size_t
portmap_http_get(char *buf, size_t cap, const struct portmap_url *url)
{
	char host[ADDR_STRLEN];
	int n;

	addr_fmt(&url->host, host, sizeof(host));
	n = snprintf(buf, cap,
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Connection: close\r\n"
	    "User-Agent: natcheck (read-only port-mapping probe)\r\n"
	    "\r\n", url->path, host);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* ------------------------------------------------------------ XML */

/*
 * The text of the first element named `name` (any namespace prefix) in
 * buf[0..len): *text and *tlen, trimmed.  An empty element gives length 0.
 * 0 found, -1 not found.  Text that holds markup counts as not found: we
 * only read leaf values.
 */
static int
xml_text(const char *buf, size_t len, const char *name, const char **text, size_t *tlen)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < len; i++) {
		size_t j, k, ns;

		if (buf[i] != '<')
			continue;
		j = i + 1;
		ns = j;
		while (j < len && buf[j] != '>' && buf[j] != '/' && !blank(buf[j])) {
			if (buf[j] == ':')
				ns = j + 1;
			j++;
		}
		if (j - ns != nlen || memcmp(buf + ns, name, nlen) != 0)
			continue;
		while (j < len && buf[j] != '>')
			j++;
		if (j >= len)
			return -1;
		if (buf[j - 1] == '/') {
			*text = buf + j;
			*tlen = 0;
			return 0;
		}
		k = ++j;
		while (k < len && buf[k] != '<')
			k++;
		if (k + 1 >= len || buf[k + 1] != '/')
			return -1;
		*text = buf + j;
		*tlen = k - j;
		trim(text, tlen);
		return 0;
	}
	return -1;
}

/* A serviceType we are willing to echo back in a SOAPACTION header. */
static int
service_type_ok(const char *s, size_t len)
{
	static const char *const prefixes[] = {
		"urn:schemas-upnp-org:service:WANIPConnection:",
		"urn:schemas-upnp-org:service:WANPPPConnection:",
	};
	int match = 0;

	if (len >= PORTMAP_ST_MAX)
		return 0;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (len > n && memcmp(s, prefixes[i], n) == 0)
			match = 1;
	}
	for (size_t i = 0; match && i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == ':' || s[i] == '-' || s[i] == '.'))
			return 0;
	return match;
}

enum portmap_status
portmap_igd_find(const char *body, size_t len, const struct portmap_url *location,
                 struct portmap_igd *igd)
{
	const char *p = body;

	memset(igd, 0, sizeof(*igd));
	for (;;) {
		const char *s = find(p, len - (size_t)(p - body), "<service>"), *e, *t, *c;
		size_t slen, tlen, clen;
		enum portmap_status st;

		if (s == NULL)
			return PORTMAP_E_NO_SERVICE;
		e = find(s, len - (size_t)(s - body), "</service>");
		if (e == NULL)
			return PORTMAP_E_NO_SERVICE;
		slen = (size_t)(e - s);
		p = e;
		if (xml_text(s, slen, "serviceType", &t, &tlen) == -1 || !service_type_ok(t, tlen))
			continue;
		if (xml_text(s, slen, "controlURL", &c, &clen) == -1 || clen == 0)
			return PORTMAP_E_NO_CONTROL;
		memcpy(igd->service_type, t, tlen);
		igd->service_type[tlen] = '\0';
		if (iprefix(c, clen, "http://")) {
			st = portmap_url_parse(c, clen, &igd->control);
			if (st != PORTMAP_OK)
				return st;
			if (!addr_eq(&igd->control.host, &location->host) &&
			    !addr_ip_eq(&igd->control.host, &location->host))
				return PORTMAP_E_FOREIGN_HOST;
			return PORTMAP_OK;
		}
		/* Relative: on the description's host and port. */
		if (clen + 2 > PORTMAP_PATH_MAX)
			return PORTMAP_E_URL;
		igd->control.host = location->host;
		{
			size_t o = 0;

			if (c[0] != '/')
				igd->control.path[o++] = '/';
			for (size_t i = 0; i < clen; i++) {
				if ((unsigned char)c[i] <= 0x20 || (unsigned char)c[i] >= 0x7f)
					return PORTMAP_E_URL;
				igd->control.path[o++] = c[i];
			}
			igd->control.path[o] = '\0';
		}
		return PORTMAP_OK;
	}
}

size_t
portmap_soap_request(char *buf, size_t cap, const struct portmap_igd *igd)
{
	char host[ADDR_STRLEN], body[512];
	int bn, n;

	bn = snprintf(body, sizeof(body),
	    "<?xml version=\"1.0\"?>\r\n"
	    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	    "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
	    "<s:Body><u:GetExternalIPAddress xmlns:u=\"%s\"></u:GetExternalIPAddress>"
	    "</s:Body></s:Envelope>\r\n", igd->service_type);
	if (bn < 0 || (size_t)bn >= sizeof(body))
		return 0;
	addr_fmt(&igd->control.host, host, sizeof(host));
	n = snprintf(buf, cap,
	    "POST %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Content-Type: text/xml; charset=\"utf-8\"\r\n"
	    "Content-Length: %d\r\n"
	    "SOAPAction: \"%s#GetExternalIPAddress\"\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "%s", igd->control.path, host, bn, igd->service_type, body);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

enum portmap_status
portmap_soap_decode(int http_status, const char *body, size_t len,
                    struct stun_addr *external, int *upnp_error)
{
	const char *t;
	size_t tlen;

	memset(external, 0, sizeof(*external));
	*upnp_error = -1;
	if (http_status != 200) {
		unsigned long code;

		if (xml_text(body, len, "errorCode", &t, &tlen) == 0 &&
		    parse_uint(t, tlen, 4, &code) == 0)
			*upnp_error = (int)code;
		return http_status == 500 ? PORTMAP_E_SOAP_FAULT : PORTMAP_E_HTTP_STATUS;
	}
	if (xml_text(body, len, "NewExternalIPAddress", &t, &tlen) == -1)
		return PORTMAP_E_NO_ADDRESS;
	if (tlen == 0)
		return PORTMAP_E_EMPTY_ADDRESS;
	if (portmap_ipv4_parse(t, tlen, external) == -1 || addr_is_unspecified(external)) {
		memset(external, 0, sizeof(*external));
		return PORTMAP_E_BAD_ADDRESS;
	}
	return PORTMAP_OK;
}

/* ------------------------------------------------------------ engine */

const char *
portmap_state_json(enum portmap_state s)
{
	switch (s) {
	case PORTMAP_SPEAKS:
		return "true";
	case PORTMAP_SILENT:
	case PORTMAP_REFUSED:
	case PORTMAP_OTHER:
		return "false";
	default:
		return "null";
	}
}

static void
proto_init(struct portmap_proto *p, uint64_t now)
{
	memset(p, 0, sizeof(*p));
	p->state = PORTMAP_ASKING;
	p->result = -1;
	p->next_ms = now;
}

void
portmap_init(struct portmap *m, const struct portmap_config *cfg, uint64_t now_ms)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->start_ms = now_ms;
	m->upnp_error = -1;
	m->double_nat = -1;
	m->natpmp.result = m->pcp.result = m->upnp.result = -1;
	if (!cfg->enabled || !cfg->has_gateway || cfg->gateway.family != 4) {
		/* NAT-PMP and PCP over IPv4 only here; no gateway, nothing to ask. */
		m->done = 1;
		m->end_ms = now_ms;
		m->stage = PORTMAP_UPNP_DONE;
		return;
	}
	proto_init(&m->natpmp, now_ms);
	proto_init(&m->pcp, now_ms);
	proto_init(&m->upnp, now_ms);
	m->stage = PORTMAP_UPNP_SSDP;
}

/* A protocol that has not answered by the end of the UDP window. */
static void
proto_give_up(struct portmap_proto *p)
{
	if (p->state != PORTMAP_ASKING)
		return;
	p->state = p->malformed > 0 ? PORTMAP_GARBLED : PORTMAP_SILENT;
	if (p->error == PORTMAP_OK)
		p->error = PORTMAP_E_TIMEOUT;
}

/* A hurried run stops asking before the protocol's window closed. */
static void
proto_cut_short(struct portmap_proto *p)
{
	if (p->state != PORTMAP_ASKING)
		return;
	p->state = p->malformed > 0 ? PORTMAP_GARBLED : PORTMAP_CUT_SHORT;
	if (p->error == PORTMAP_OK)
		p->error = PORTMAP_E_TIMEOUT;
}

static void
tcp_close(struct portmap *m)
{
	if (m->tcp != PORTMAP_TCP_CLOSED)
		m->tcp = PORTMAP_TCP_CLOSING;
}

static void
upnp_fail(struct portmap *m, enum portmap_status st)
{
	m->upnp.error = st;
	m->stage = PORTMAP_UPNP_DONE;
	m->reconnect = 0;
	tcp_close(m);
}

/* Start the next HTTP exchange (description, then SOAP), on a fresh
 * connection once the last one is closed. */
static void
http_start(struct portmap *m)
{
	m->rx_len = 0;
	if (m->tcp == PORTMAP_TCP_CLOSING)
		m->reconnect = 1;
	else
		m->tcp = PORTMAP_TCP_WANT;
}

static void
set_external(struct portmap *m, const struct stun_addr *a)
{
	if (!m->has_external) {
		m->has_external = 1;
		m->external = *a;
	}
}

/* A whole HTTP response is in rx (or the stream ended). */
static void
http_response(struct portmap *m, int eof)
{
	struct portmap_http h;
	const char *body;
	size_t blen;
	enum portmap_status st = portmap_http_parse(m->rx, m->rx_len, &h);

	if (st == PORTMAP_E_INCOMPLETE && eof)
		st = PORTMAP_E_CLOSED;
	if (st == PORTMAP_OK)
		st = portmap_http_body(m->rx, m->rx_len, eof, &h, m->body, sizeof(m->body),
		    &body, &blen);
	if (st == PORTMAP_E_INCOMPLETE) {
		if (m->rx_len >= sizeof(m->rx))
			upnp_fail(m, PORTMAP_E_TOO_BIG);
		return;
	}
	if (st != PORTMAP_OK) {
		upnp_fail(m, st);
		return;
	}
	tcp_close(m);
	if (m->stage == PORTMAP_UPNP_DESC) {
		if (h.status != 200) {
			upnp_fail(m, PORTMAP_E_HTTP_STATUS);
			return;
		}
		st = portmap_igd_find(body, blen, &m->location, &m->igd);
		if (st == PORTMAP_OK && !addr_ip_eq(&m->igd.control.host, &m->cfg.gateway))
			st = PORTMAP_E_FOREIGN_HOST;
		if (st != PORTMAP_OK) {
			upnp_fail(m, st);
			return;
		}
		m->stage = PORTMAP_UPNP_SOAP;
		http_start(m);
		return;
	}
	/* PORTMAP_UPNP_SOAP */
	m->upnp_http_status = h.status;
	{
		struct stun_addr ext;

		st = portmap_soap_decode(h.status, body, blen, &ext, &m->upnp_error);
		if (st == PORTMAP_OK) {
			m->upnp.has_external = 1;
			m->upnp.external = ext;
		}
		m->upnp.error = st;
		m->stage = PORTMAP_UPNP_DONE;
	}
}

/* The next send of a UDP request, if one is due; 1 when tx is filled. */
static int
udp_due(struct portmap *m, struct portmap_proto *p, int sock, uint64_t now,
        struct portmap_tx *tx, uint64_t *wake)
{
	if (p->state != PORTMAP_ASKING || p->sent >= 2)
		return 0;
	if (now < p->next_ms) {
		if (p->next_ms < *wake)
			*wake = p->next_ms;
		return 0;
	}
	tx->sock = sock;
	tx->to = m->cfg.gateway;
	tx->to.port = sock == PORTMAP_SOCK_SSDP ? PORTMAP_SSDP_PORT : PORTMAP_PMP_PORT;
	if (sock == PORTMAP_SOCK_NATPMP)
		tx->len = portmap_natpmp_request(tx->buf);
	else if (sock == PORTMAP_SOCK_PCP)
		tx->len = portmap_pcp_announce(tx->buf, &m->cfg.local);
	else
		tx->len = portmap_ssdp_request((char *)tx->buf, sizeof(tx->buf), &tx->to, 0);
	p->sent++;
	p->next_ms = m->start_ms + PORTMAP_RESEND_MS;
	return 1;
}

static void
min_wake(uint64_t *wake, uint64_t t)
{
	if (t < *wake)
		*wake = t;
}

enum portmap_step
portmap_next(struct portmap *m, uint64_t now_ms, struct portmap_tx *tx, uint32_t *wait_ms)
{
	uint64_t udp_end = m->start_ms + PORTMAP_UDP_WAIT_MS;
	uint64_t ssdp_end = m->start_ms + PORTMAP_SSDP_MS;
	uint64_t http_end = m->ssdp_at_ms + PORTMAP_HTTP_MS;
	uint64_t cap_end = m->start_ms + m->cfg.timeout_ms;
	uint64_t wake = UINT64_MAX;

	if (m->done)
		return PORTMAP_DONE;
	if (now_ms >= cap_end) {
		/* The run's cap: whatever is open is cut short; the caller closes
		 * the TCP socket with everything else once we say DONE. */
		portmap_finish(m, now_ms);
		return PORTMAP_DONE;
	}
	if (m->tcp == PORTMAP_TCP_CLOSING) {
		m->tcp = m->reconnect ? PORTMAP_TCP_WANT : PORTMAP_TCP_CLOSED;
		m->reconnect = 0;
		tx->sock = PORTMAP_SOCK_TCP;
		return PORTMAP_CLOSE;
	}
	if (udp_due(m, &m->natpmp, PORTMAP_SOCK_NATPMP, now_ms, tx, &wake) ||
	    udp_due(m, &m->pcp, PORTMAP_SOCK_PCP, now_ms, tx, &wake) ||
	    udp_due(m, &m->upnp, PORTMAP_SOCK_SSDP, now_ms, tx, &wake))
		return PORTMAP_SEND;
	if (m->cfg.multicast && m->upnp.state == PORTMAP_ASKING && m->ssdp_mcast_sent < 2 &&
	    now_ms >= m->start_ms + m->ssdp_mcast_sent * PORTMAP_RESEND_MS) {
		static const struct stun_addr group = { .family = 4, .port = PORTMAP_SSDP_PORT,
		    .addr = { 239, 255, 255, 250 } };

		tx->sock = PORTMAP_SOCK_SSDP;
		tx->to = group;
		tx->len = portmap_ssdp_request((char *)tx->buf, sizeof(tx->buf), &group, 1);
		m->ssdp_mcast_sent++;
		return PORTMAP_SEND;
	}
	if (m->cfg.multicast && m->upnp.state == PORTMAP_ASKING && m->ssdp_mcast_sent < 2)
		min_wake(&wake, m->start_ms + m->ssdp_mcast_sent * PORTMAP_RESEND_MS);
	if (now_ms >= udp_end) {
		proto_give_up(&m->natpmp);
		proto_give_up(&m->pcp);
	} else if (m->hurry && now_ms >= m->hurry_udp_end) {
		/* Silent for a few round trips of a path the gateway is on:
		 * most likely not spoken, but not waited out - unknown. */
		proto_cut_short(&m->natpmp);
		proto_cut_short(&m->pcp);
	} else if (m->natpmp.state == PORTMAP_ASKING || m->pcp.state == PORTMAP_ASKING) {
		min_wake(&wake, udp_end);
		if (m->hurry)
			min_wake(&wake, m->hurry_udp_end);
	}
	if (m->upnp.state == PORTMAP_ASKING) {
		/* A gateway that answers NAT-PMP or PCP is up and is given the
		 * whole MX second; otherwise a hurried run stops as soon as
		 * NAT-PMP and PCP are decided (refused at once, or silent at
		 * udp_end). */
		int short_ok = m->hurry && m->natpmp.state != PORTMAP_SPEAKS &&
		    m->pcp.state != PORTMAP_SPEAKS && m->natpmp.state != PORTMAP_ASKING &&
		    m->pcp.state != PORTMAP_ASKING;

		if (now_ms >= ssdp_end) {
			proto_give_up(&m->upnp);
			m->stage = PORTMAP_UPNP_DONE;
		} else if (short_ok) {
			m->upnp.state = m->upnp.malformed ? PORTMAP_GARBLED : PORTMAP_CUT_SHORT;
			if (m->upnp.error == PORTMAP_OK)
				m->upnp.error = PORTMAP_E_TIMEOUT;
			m->stage = PORTMAP_UPNP_DONE;
		} else {
			min_wake(&wake, short_ok ? udp_end : ssdp_end);
		}
	}

	if (m->stage == PORTMAP_UPNP_DESC || m->stage == PORTMAP_UPNP_SOAP) {
		if (now_ms >= http_end) {
			upnp_fail(m, PORTMAP_E_TIMEOUT);
			m->tcp = PORTMAP_TCP_CLOSED;
			tx->sock = PORTMAP_SOCK_TCP;
			return PORTMAP_CLOSE;
		}
		if (m->tcp == PORTMAP_TCP_WANT) {
			m->tcp = PORTMAP_TCP_CONNECTING;
			tx->sock = PORTMAP_SOCK_TCP;
			tx->to = m->stage == PORTMAP_UPNP_DESC ? m->location.host : m->igd.control.host;
			tx->len = 0;
			return PORTMAP_CONNECT;
		}
		if (m->tcp == PORTMAP_TCP_SEND) {
			tx->sock = PORTMAP_SOCK_TCP;
			tx->to = m->stage == PORTMAP_UPNP_DESC ? m->location.host : m->igd.control.host;
			tx->len = m->stage == PORTMAP_UPNP_DESC
			    ? portmap_http_get((char *)tx->buf, sizeof(tx->buf), &m->location)
			    : portmap_soap_request((char *)tx->buf, sizeof(tx->buf), &m->igd);
			if (tx->len == 0) {
				upnp_fail(m, PORTMAP_E_URL);
				m->tcp = PORTMAP_TCP_CLOSED;
				return PORTMAP_CLOSE;
			}
			m->tcp = PORTMAP_TCP_READING;
			return PORTMAP_SEND;
		}
		min_wake(&wake, http_end);
	}

	if (m->natpmp.state != PORTMAP_ASKING && m->pcp.state != PORTMAP_ASKING &&
	    m->upnp.state != PORTMAP_ASKING && m->stage == PORTMAP_UPNP_DONE &&
	    m->tcp == PORTMAP_TCP_CLOSED) {
		m->done = 1;
		m->end_ms = now_ms;
		return PORTMAP_DONE;
	}
	min_wake(&wake, cap_end);
	*wait_ms = wake <= now_ms ? 0 :
	    (uint32_t)(wake - now_ms > PORTMAP_MAX_WAIT_MS ? PORTMAP_MAX_WAIT_MS : wake - now_ms);
	return PORTMAP_WAIT;
}

static uint32_t
rtt(const struct portmap *m, uint64_t now)
{
	return now > m->start_ms ? (uint32_t)(now - m->start_ms) : 0;
}

static void
input_natpmp(struct portmap *m, uint64_t now, const uint8_t *buf, size_t len)
{
	struct portmap_natpmp r;
	enum portmap_status st = portmap_natpmp_decode(buf, len, &r);

	if (st == PORTMAP_E_VERSION && len >= 4 && buf[0] == 2 && (buf[1] & 0x80)) {
		/* A PCP-only server refusing version 0 (RFC 6887 section 9). */
		m->natpmp.state = PORTMAP_OTHER;
		m->natpmp.result = buf[3];
		m->natpmp.rtt_ms = rtt(m, now);
		return;
	}
	if (st != PORTMAP_OK) {
		m->natpmp.malformed++;
		m->natpmp.error = st;
		return;
	}
	m->natpmp.state = PORTMAP_SPEAKS;
	m->natpmp.error = PORTMAP_OK;
	m->natpmp.result = r.result;
	m->natpmp.rtt_ms = rtt(m, now);
	if (r.has_external && !addr_is_unspecified(&r.external)) {
		m->natpmp.has_external = 1;
		m->natpmp.external = r.external;
		set_external(m, &r.external);
	}
}

static void
input_pcp(struct portmap *m, uint64_t now, const uint8_t *buf, size_t len)
{
	struct portmap_pcp r;
	enum portmap_status st = portmap_pcp_decode(buf, len, &r);

	if (st != PORTMAP_OK) {
		m->pcp.malformed++;
		m->pcp.error = st;
		return;
	}
	/* Version 0: the gateway speaks NAT-PMP, not PCP. */
	m->pcp.state = r.version == 2 ? PORTMAP_SPEAKS : PORTMAP_OTHER;
	m->pcp.error = PORTMAP_OK;
	m->pcp.result = r.result;
	m->pcp.rtt_ms = rtt(m, now);
}

static void
input_ssdp(struct portmap *m, uint64_t now, const uint8_t *buf, size_t len)
{
	struct portmap_url loc;
	enum portmap_status st = portmap_ssdp_decode((const char *)buf, len, &loc);

	if (st == PORTMAP_OK && !addr_ip_eq(&loc.host, &m->cfg.gateway))
		st = PORTMAP_E_FOREIGN_HOST;    /* we only talk to the gateway */
	if (st != PORTMAP_OK) {
		m->upnp.malformed++;
		m->upnp.error = st;
		return;
	}
	m->upnp.state = PORTMAP_SPEAKS;
	m->upnp.error = PORTMAP_OK;
	m->upnp.rtt_ms = rtt(m, now);
	m->ssdp_at_ms = now;
	m->location = loc;
	m->stage = PORTMAP_UPNP_DESC;
	http_start(m);
}

void
portmap_input(struct portmap *m, uint64_t now_ms, int sock, const struct stun_addr *from,
              const uint8_t *buf, size_t len)
{
	if (m->done)
		return;
	if (sock == PORTMAP_SOCK_TCP) {
		size_t room = sizeof(m->rx) - m->rx_len;

		if (m->tcp != PORTMAP_TCP_READING)
			return;
		if (len > room) {
			upnp_fail(m, PORTMAP_E_TOO_BIG);
			return;
		}
		memcpy(m->rx + m->rx_len, buf, len);
		m->rx_len += len;
		http_response(m, 0);
		return;
	}
	/* Only the gateway's answers count ('Twas not our answer otherwise). */
	if (from == NULL || !addr_ip_eq(from, &m->cfg.gateway))
		return;
	if (sock == PORTMAP_SOCK_NATPMP && m->natpmp.state == PORTMAP_ASKING &&
	    from->port == PORTMAP_PMP_PORT)
		input_natpmp(m, now_ms, buf, len);
	else if (sock == PORTMAP_SOCK_PCP && m->pcp.state == PORTMAP_ASKING &&
	    from->port == PORTMAP_PMP_PORT)
		input_pcp(m, now_ms, buf, len);
	else if (sock == PORTMAP_SOCK_SSDP && m->upnp.state == PORTMAP_ASKING)
		input_ssdp(m, now_ms, buf, len);
}

void
portmap_tcp_event(struct portmap *m, uint64_t now_ms, enum portmap_tcp_event ev)
{
	(void)now_ms;
	if (m->done || m->tcp == PORTMAP_TCP_CLOSED || m->tcp == PORTMAP_TCP_CLOSING)
		return;
	switch (ev) {
	case PORTMAP_TCP_CONNECTED:
		if (m->tcp == PORTMAP_TCP_CONNECTING)
			m->tcp = PORTMAP_TCP_SEND;
		break;
	case PORTMAP_TCP_FAILED:
		upnp_fail(m, m->tcp == PORTMAP_TCP_CONNECTING ? PORTMAP_E_CONNECT : PORTMAP_E_CLOSED);
		break;
	case PORTMAP_TCP_EOF:
		if (m->tcp == PORTMAP_TCP_READING)
			http_response(m, 1);
		else
			upnp_fail(m, PORTMAP_E_CLOSED);
		break;
	}
}

void
portmap_unreachable(struct portmap *m, uint64_t now_ms, int sock)
{
	struct portmap_proto *p = sock == PORTMAP_SOCK_NATPMP ? &m->natpmp
	    : sock == PORTMAP_SOCK_PCP ? &m->pcp : sock == PORTMAP_SOCK_SSDP ? &m->upnp : NULL;

	if (m->done || p == NULL || p->state != PORTMAP_ASKING)
		return;
	p->state = PORTMAP_REFUSED;
	p->rtt_ms = rtt(m, now_ms);
	if (sock == PORTMAP_SOCK_SSDP)
		m->stage = PORTMAP_UPNP_DONE;
}

void
portmap_hurry(struct portmap *m, uint32_t rtt_ms)
{
	uint64_t wait = (uint64_t)rtt_ms * PORTMAP_HURRY_RTTS;

	if (m->hurry)
		return;
	m->hurry = 1;
	m->hurry_udp_end = m->start_ms + (wait > PORTMAP_HURRY_MIN_MS ? wait : PORTMAP_HURRY_MIN_MS);
}

void
portmap_finish(struct portmap *m, uint64_t now_ms)
{
	struct portmap_proto *ps[] = { &m->natpmp, &m->pcp, &m->upnp };

	if (m->done)
		return;
	for (size_t i = 0; i < 3; i++)
		if (ps[i]->state == PORTMAP_ASKING) {
			uint64_t window = ps[i] == &m->upnp ? PORTMAP_SSDP_MS : PORTMAP_UDP_WAIT_MS;

			ps[i]->state = ps[i]->malformed ? PORTMAP_GARBLED
			    : now_ms >= m->start_ms + window ? PORTMAP_SILENT : PORTMAP_CUT_SHORT;
			ps[i]->error = PORTMAP_E_TIMEOUT;
		}
	if (m->stage == PORTMAP_UPNP_DESC || m->stage == PORTMAP_UPNP_SOAP)
		m->upnp.error = PORTMAP_E_TIMEOUT;
	m->stage = PORTMAP_UPNP_DONE;
	tcp_close(m);
	m->done = 1;
	m->end_ms = now_ms;
}

/* ------------------------------------------------------------ double NAT */

const char *
portmap_dnat_word(enum portmap_dnat_reason r)
{
	switch (r) {
	case PORTMAP_DN_NO_NAT: return "no-nat";
	case PORTMAP_DN_NO_GATEWAY: return "no-gateway";
	case PORTMAP_DN_SHARED: return "carrier-grade-nat";
	case PORTMAP_DN_PRIVATE: return "private-external-address";
	case PORTMAP_DN_DIFFERS: return "external-differs-from-mapped";
	case PORTMAP_DN_EQUAL: return "external-equals-mapped";
	case PORTMAP_DN_NO_MAPPED: return "no-mapped-address";
	case PORTMAP_DN_NO_EXTERNAL: return "gateway-gives-no-external-address";
	case PORTMAP_DN_LOCAL_ONLY: return "no-port-mapping-protocol";
	default: return "none";
	}
}

void
portmap_double_nat(struct portmap *m, int has_mapped, const struct stun_addr *mapped,
                   int has_local, const struct stun_addr *local)
{
	int speaks = m->natpmp.state == PORTMAP_SPEAKS || m->upnp.state == PORTMAP_SPEAKS ||
	    m->pcp.state == PORTMAP_SPEAKS;

	m->double_nat = -1;
	m->dn_has_mapped = has_mapped;
	if (has_mapped)
		m->dn_mapped = *mapped;
	/* The UPnP address, when NAT-PMP gave none. */
	if (!m->has_external && m->upnp.has_external)
		set_external(m, &m->upnp.external);
	if (!m->cfg.enabled) {
		m->dn_reason = PORTMAP_DN_NONE;
		return;
	}
	/* The server saw our own address: nothing translates it, whatever a
	 * gateway elsewhere on the link says about itself. */
	if (has_mapped && has_local && addr_ip_eq(mapped, local)) {
		m->double_nat = 0;
		m->dn_reason = PORTMAP_DN_NO_NAT;
		return;
	}
	if (m->has_external) {
		if (addr_is_shared(&m->external)) {
			m->double_nat = 1;
			m->dn_reason = PORTMAP_DN_SHARED;
		} else if (addr_is_private(&m->external)) {
			m->double_nat = 1;
			m->dn_reason = PORTMAP_DN_PRIVATE;
		} else if (!has_mapped) {
			m->dn_reason = PORTMAP_DN_NO_MAPPED;
		} else if (!addr_ip_eq(&m->external, mapped)) {
			m->double_nat = 1;
			m->dn_reason = PORTMAP_DN_DIFFERS;
		} else {
			m->double_nat = 0;
			m->dn_reason = PORTMAP_DN_EQUAL;
		}
		return;
	}
	if (speaks) {
		m->dn_reason = PORTMAP_DN_NO_EXTERNAL;
		return;
	}
	if (!m->cfg.has_gateway) {
		m->dn_reason = PORTMAP_DN_NO_GATEWAY;
		return;
	}
	/* No protocol: local vs mapped shows that there is a NAT, never how
	 * many; the report says so. */
	m->dn_reason = PORTMAP_DN_LOCAL_ONLY;
}
