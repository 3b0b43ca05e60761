/*
 * portmap.h - what the gateway offers for port mapping, found read-only.
 *
 * Three protocols are asked, at the same time, only of the gateway on the
 * path towards the STUN server, and nothing is ever created, changed or
 * deleted:
 *   NAT-PMP (RFC 6886)  opcode 0 only: "what is your external address?"
 *   PCP (RFC 6887)      ANNOUNCE only (opcode 0, lifetime 0): it proves the
 *                       gateway speaks PCP; PCP has no request that returns
 *                       the external address without creating a mapping, so
 *                       PCP never gives one here.
 *   UPnP IGD            an SSDP M-SEARCH for an InternetGatewayDevice (to the
 *                       gateway's own address, and optionally to the SSDP
 *                       multicast group on the gateway's link), a GET of the
 *                       device description the answer names, then the SOAP
 *                       action GetExternalIPAddress on the WANIPConnection or
 *                       WANPPPConnection service.  Only the gateway's
 *                       answers are believed, and only URLs that point at
 *                       the gateway's own address are followed.
 *
 * Like probe.c, the engine owns no socket and no clock: portmap_next() says
 * what to send, to connect, to close, or how long to wait; the caller hands
 * in what arrives.  The codecs below are pure functions of a byte buffer,
 * with a named status for every way the bytes can be wrong; nothing the
 * network sends is believed before it is checked.
 *
 * Return convention of the codecs: PORTMAP_OK, or the named reason the
 * bytes were refused (portmap_status_name gives a stable word).  The HTTP
 * parsers return pointer + length pairs into the caller's buffer.
 */
#ifndef NATCHECK_PORTMAP_H
#define NATCHECK_PORTMAP_H

#include <stddef.h>
#include <stdint.h>

#include "stun.h"

#define PORTMAP_PMP_PORT     5351   /* NAT-PMP and PCP server port */
#define PORTMAP_SSDP_PORT    1900
#define PORTMAP_PCP_MAX      1100   /* RFC 6887 section 7: largest PCP message */
#define PORTMAP_NATPMP_LEN   12     /* external address response, RFC 6886 3.2 */
#define PORTMAP_PCP_HDR      24     /* RFC 6887 section 7.1/7.2 */

/* Caps on what the gateway may send us over HTTP. */
#define PORTMAP_HTTP_CAP     16384  /* a whole HTTP response, headers and body */
#define PORTMAP_LINE_MAX     1024   /* one status or header line */
#define PORTMAP_MAX_HEADERS  32
#define PORTMAP_PATH_MAX     256    /* a URL path we will request */
#define PORTMAP_MAX_WAIT_MS  60000  /* longest wait portmap_next asks for */
#define PORTMAP_ST_MAX       96     /* a serviceType we will echo in SOAPACTION */
#define PORTMAP_TXBUF        1024   /* largest request the engine builds */

/* Time (see portmap_next). */
#define PORTMAP_RESEND_MS    100    /* each UDP request is sent at 0 and 100 ms */
#define PORTMAP_UDP_WAIT_MS  250    /* no NAT-PMP or PCP answer by then: the
                                       gateway does not speak the protocol */
#define PORTMAP_SSDP_MS      1100   /* an IGD may wait up to MX = 1 s before it
                                       answers an M-SEARCH (UDA 1.1 1.3.3, and
                                       miniupnpd does): no answer by then, no
                                       UPnP.  Cut short (UPnP then unknown)
                                       when the caller is otherwise done and
                                       the gateway has not answered NAT-PMP
                                       or PCP in the protocol: at once when
                                       both were refused (ICMP), else at
                                       PORTMAP_UDP_WAIT_MS */
#define PORTMAP_HURRY_RTTS   2      /* portmap_hurry: round trips NAT-PMP and */
#define PORTMAP_HURRY_MIN_MS 50     /* PCP still get, and at least this long */
#define PORTMAP_HTTP_MS      1000   /* the UPnP HTTP exchanges end this long
                                       after the SSDP answer */

enum portmap_status {
	PORTMAP_OK = 0,
	PORTMAP_E_SHORT,            /* fewer bytes than the format needs */
	PORTMAP_E_LONG,             /* more than the format allows */
	PORTMAP_E_VERSION,          /* a version we did not ask for */
	PORTMAP_E_NOT_RESPONSE,     /* a request, not a response */
	PORTMAP_E_OPCODE,           /* the answer to another opcode */
	PORTMAP_E_ALIGN,            /* PCP: length not a multiple of 4 */
	PORTMAP_E_OPTION,           /* PCP: an option overruns the message */
	PORTMAP_E_INCOMPLETE,       /* HTTP: the message is not complete yet */
	PORTMAP_E_STATUS_LINE,      /* HTTP: not "HTTP/1.x NNN ..." */
	PORTMAP_E_HEADER,           /* HTTP: a header line without "name:" */
	PORTMAP_E_HEADERS,          /* HTTP: more than PORTMAP_MAX_HEADERS */
	PORTMAP_E_LINE,             /* HTTP: a line longer than PORTMAP_LINE_MAX */
	PORTMAP_E_LENGTH,           /* HTTP: a bad or conflicting Content-Length */
	PORTMAP_E_CHUNK,            /* HTTP: bad chunked encoding */
	PORTMAP_E_TOO_BIG,          /* HTTP: more than PORTMAP_HTTP_CAP bytes */
	PORTMAP_E_HTTP_STATUS,      /* HTTP: a status other than 200 */
	PORTMAP_E_NOT_IGD,          /* SSDP: the answer is not for a gateway */
	PORTMAP_E_NO_LOCATION,      /* SSDP: no LOCATION header */
	PORTMAP_E_URL,              /* a URL that is not http://IPv4[:port]/path,
	                               or a path with a byte outside
	                               [A-Za-z0-9/._-] */
	PORTMAP_E_URL_PORT,         /* a URL naming a port below 1024 but 80 */
	PORTMAP_E_FOREIGN_HOST,     /* a URL pointing away from the gateway */
	PORTMAP_E_FOREIGN_PORT,     /* a control URL on another port than the
	                               description's (LOCATION's) */
	PORTMAP_E_NO_SERVICE,       /* description: no WANIP/WANPPPConnection */
	PORTMAP_E_NO_CONTROL,       /* description: the service has no controlURL */
	PORTMAP_E_SOAP_FAULT,       /* SOAP: the action failed (UPnP error code) */
	PORTMAP_E_NO_ADDRESS,       /* SOAP: no NewExternalIPAddress */
	PORTMAP_E_EMPTY_ADDRESS,    /* SOAP: NewExternalIPAddress is empty */
	PORTMAP_E_BAD_ADDRESS,      /* an address that is not a usable IPv4 one */
	PORTMAP_E_CONNECT,          /* TCP: the connection failed */
	PORTMAP_E_CLOSED,           /* TCP: closed before a whole response */
	PORTMAP_E_TIMEOUT,          /* no (complete) answer in time */
	PORTMAP_STATUS_COUNT
};

const char *portmap_status_name(enum portmap_status s);

/* ------------------------------------------------------------ NAT-PMP */

/* The external address request, RFC 6886 section 3.2: version 0, opcode 0.
 * Writes 2 bytes to buf; returns 2. */
size_t portmap_natpmp_request(uint8_t *buf);

struct portmap_natpmp {
	uint16_t result;            /* RFC 6886 3.5: 0 success, 1 unsupported
	                               version, 2 refused, 3 network failure, ... */
	uint32_t epoch;
	int      has_external;      /* result 0 only */
	struct stun_addr external;  /* port 0 */
};

/* Decode an answer to portmap_natpmp_request: 12 bytes for success, at
 * least 8 for an error result (its address field is ignored, RFC 6886
 * 3.5).  PORTMAP_E_VERSION also for a PCP (version 2) answer. */
enum portmap_status portmap_natpmp_decode(const uint8_t *buf, size_t len,
                                          struct portmap_natpmp *out);

/* ------------------------------------------------------------ PCP */

/* The ANNOUNCE request, RFC 6887 sections 7.1 and 14.1: version 2,
 * opcode 0, lifetime 0, our own address as the client address (IPv4 as
 * ::ffff:a.b.c.d), no options.  Writes PORTMAP_PCP_HDR bytes. */
size_t portmap_pcp_announce(uint8_t *buf, const struct stun_addr *client);

struct portmap_pcp {
	uint8_t  version;           /* 2, or 0 for a NAT-PMP-only server's
	                               "unsupported version" answer */
	uint8_t  result;            /* RFC 6887 7.4 (NAT-PMP's for version 0) */
	uint32_t lifetime;
	uint32_t epoch;
	size_t   noptions;
};

/* Decode an answer to portmap_pcp_announce.  A version 0 answer (a
 * NAT-PMP server refusing version 2, RFC 6887 section 9) decodes as
 * PORTMAP_OK with version 0: the gateway answered, but not in PCP. */
enum portmap_status portmap_pcp_decode(const uint8_t *buf, size_t len, struct portmap_pcp *out);

/* ------------------------------------------------------------ HTTP, SSDP */

struct portmap_header {
	const char *name;
	size_t   name_len;
	const char *value;          /* leading and trailing blanks removed */
	size_t   value_len;
};

struct portmap_http {
	int      status;            /* e.g. 200 */
	size_t   header_len;        /* bytes up to and including the blank line */
	size_t   nheaders;
	struct portmap_header headers[PORTMAP_MAX_HEADERS];
};

/*
 * portmap_http_parse: the status line and headers of an HTTP response in
 * buf[0..len).  PORTMAP_E_INCOMPLETE when the blank line has not arrived
 * yet (call again with more bytes); a named error for anything malformed.
 */
enum portmap_status portmap_http_parse(const char *buf, size_t len, struct portmap_http *h);

/* The value of header `name` (case-insensitive), or NULL. */
const struct portmap_header *portmap_http_header(const struct portmap_http *h, const char *name);

/*
 * portmap_http_body: the body of a parsed response in buf[0..len).
 * Content-Length: complete once that many bytes are there; chunked: the
 * chunks are joined into out (outcap bytes); neither: complete only at
 * the end of the stream (eof).  *body and *body_len point into buf or out.
 */
enum portmap_status portmap_http_body(const char *buf, size_t len, int eof,
                                      const struct portmap_http *h, char *out, size_t outcap,
                                      const char **body, size_t *body_len);

/* An http URL we may follow: an IPv4 literal host, a port, a path. */
struct portmap_url {
	struct stun_addr host;      /* port included (80 when absent) */
	char     path[PORTMAP_PATH_MAX];
};

/*
 * Parse "http://a.b.c.d[:port][/path]" (no names: we never resolve what
 * the network tells us).  A LAN host can spoof the SSDP answer, and the
 * description names the control URL: so that neither can point a request
 * at another service of the gateway (its SSH or SMTP port), the port is
 * 80 or 1024 and up (PORTMAP_E_URL_PORT), and the path holds only
 * [A-Za-z0-9/._-] (PORTMAP_E_URL: no query, no escapes).
 */
enum portmap_status portmap_url_parse(const char *s, size_t len, struct portmap_url *u);

/* Parse a dotted-quad IPv4 literal, exactly (no blanks, no leading '+'). */
int portmap_ipv4_parse(const char *s, size_t len, struct stun_addr *out);

/* The M-SEARCH for an InternetGatewayDevice (UDA 1.1 section 1.3.2).
 * host: "239.255.255.250:1900" for multicast, the gateway's "a.b.c.d:1900"
 * for a unicast search (then without MX, UDA 1.1 section 1.3.3). */
size_t portmap_ssdp_request(char *buf, size_t cap, const struct stun_addr *to, int multicast);

/* Decode an M-SEARCH answer: a 200 response whose ST names an
 * InternetGatewayDevice, with a LOCATION URL. */
enum portmap_status portmap_ssdp_decode(const char *buf, size_t len, struct portmap_url *location);

/* A GET of url's path on its host, "Connection: close".  Returns the length
 * or 0 when it does not fit. */
size_t portmap_http_get(char *buf, size_t cap, const struct portmap_url *url);

/* The control point of the device description's WANIPConnection (any
 * version) or WANPPPConnection service; the first in document order. */
struct portmap_igd {
	char     service_type[PORTMAP_ST_MAX];
	struct portmap_url control;
};

/* Find it in a description body; relative control URLs are taken against
 * `location`.  An absolute one must name location's IP
 * (PORTMAP_E_FOREIGN_HOST) and port (PORTMAP_E_FOREIGN_PORT); either
 * follows portmap_url_parse's rules. */
enum portmap_status portmap_igd_find(const char *body, size_t len,
                                     const struct portmap_url *location, struct portmap_igd *igd);

/*
 * portmap_xml_text: the text of the first element named `name` (with any
 * namespace prefix) in buf[0..len), trimmed, in *text and *tlen (length 0
 * for an empty or self-closed element): 0 found, -1 not found.  Text that
 * holds markup counts as not found: only leaf values are read.  The scan
 * is linear whatever buf holds: *looked (unless NULL) receives how many
 * times it looked at a byte, never more than 2 * len.
 */
int portmap_xml_text(const char *buf, size_t len, const char *name, const char **text,
                     size_t *tlen, size_t *looked);

/* The GetExternalIPAddress SOAP request; returns its length or 0. */
size_t portmap_soap_request(char *buf, size_t cap, const struct portmap_igd *igd);

/* Decode the SOAP answer: http_status is the response's status, body its
 * body.  PORTMAP_OK with *external set; PORTMAP_E_SOAP_FAULT with
 * *upnp_error (or -1 when the fault names none). */
enum portmap_status portmap_soap_decode(int http_status, const char *body, size_t len,
                                        struct stun_addr *external, int *upnp_error);

/* ------------------------------------------------------------ engine */

enum portmap_sock {
	PORTMAP_SOCK_NATPMP = 0,    /* UDP, to gateway:5351 */
	PORTMAP_SOCK_PCP,           /* UDP, to gateway:5351 (its own port, so a
	                               NAT-PMP server's answer to the PCP request
	                               cannot pass for an answer to NAT-PMP's) */
	PORTMAP_SOCK_SSDP,          /* UDP, M-SEARCH */
	PORTMAP_SOCK_TCP,           /* the one HTTP connection at a time */
	PORTMAP_NSOCK
};

/* What one protocol's probe found. */
enum portmap_state {
	PORTMAP_UNTRIED = 0,        /* not asked (no gateway, --no-portmap): null */
	PORTMAP_ASKING,             /* asked, still waiting */
	PORTMAP_SPEAKS,             /* answered in the protocol: true */
	PORTMAP_SILENT,             /* no answer in PORTMAP_UDP_WAIT_MS: false */
	PORTMAP_REFUSED,            /* ICMP port unreachable: false */
	PORTMAP_OTHER,              /* answered, but not in this protocol: false */
	PORTMAP_GARBLED,            /* only malformed answers: null */
	PORTMAP_CUT_SHORT           /* the run ended before an answer: null */
};

struct portmap_proto {
	enum portmap_state state;
	int      result;            /* NAT-PMP/PCP result code, -1 none */
	int      has_external;
	struct stun_addr external;
	enum portmap_status error;  /* the last thing that went wrong, or OK */
	uint32_t rtt_ms;
	unsigned sent;
	unsigned malformed;         /* answers refused by the decoder */
	uint64_t next_ms;
};

/* The UPnP chain after SSDP. */
enum portmap_upnp_stage {
	PORTMAP_UPNP_SSDP = 0,
	PORTMAP_UPNP_DESC,          /* fetching the description */
	PORTMAP_UPNP_SOAP,          /* asking GetExternalIPAddress */
	PORTMAP_UPNP_DONE
};

enum portmap_tcp { PORTMAP_TCP_CLOSED = 0, PORTMAP_TCP_WANT, PORTMAP_TCP_CONNECTING,
                   PORTMAP_TCP_SEND, PORTMAP_TCP_READING, PORTMAP_TCP_CLOSING };

/* Why the gateway's answers do or do not show a double NAT. */
enum portmap_dnat_reason {
	PORTMAP_DN_NONE = 0,        /* nothing to say (portmap off) */
	PORTMAP_DN_NO_NAT,          /* the mapped address is our own: no NAT at
	                               all, so no double NAT */
	PORTMAP_DN_NO_GATEWAY,      /* no gateway on the path: null */
	PORTMAP_DN_SHARED,          /* external in 100.64/10: double, carrier NAT */
	PORTMAP_DN_PRIVATE,         /* external is RFC 1918: double NAT */
	PORTMAP_DN_DIFFERS,         /* external != STUN mapped: double NAT */
	PORTMAP_DN_EQUAL,           /* external == STUN mapped: no double NAT */
	PORTMAP_DN_NO_MAPPED,       /* external known, no mapped address: null */
	PORTMAP_DN_NO_EXTERNAL,     /* the gateway speaks a protocol but gives no
	                               external address (a NAT-PMP error, an empty
	                               or failed GetExternalIPAddress): what a
	                               gateway behind a carrier NAT does; null */
	PORTMAP_DN_LOCAL_ONLY       /* no protocol: only local vs mapped, which
	                               shows a NAT but not how many: null */
};

struct portmap_config {
	int      enabled;
	int      has_gateway;
	struct stun_addr gateway;   /* port ignored */
	struct stun_addr local;     /* our address towards it (PCP client address) */
	int      multicast;         /* also send the M-SEARCH to 239.255.255.250 */
	uint32_t timeout_ms;        /* the run's cap (-t) */
};

struct portmap {
	struct portmap_config cfg;
	uint64_t start_ms;
	uint64_t end_ms;
	int      done;
	int      hurry;             /* portmap_hurry: the caller waits only for us */
	uint64_t hurry_udp_end;     /* then: NAT-PMP and PCP cut short from here */
	uint64_t ssdp_at_ms;        /* when the SSDP answer came */
	struct portmap_proto natpmp, pcp, upnp;
	unsigned ssdp_mcast_sent;
	enum portmap_upnp_stage stage;
	struct portmap_url location;
	struct portmap_igd igd;
	int      upnp_http_status;  /* of the SOAP answer, 0 none */
	int      upnp_error;        /* UPnP error code of a SOAP fault, -1 none */
	enum portmap_tcp tcp;
	int      reconnect;         /* open the next connection after the close */
	size_t   rx_len;
	char     rx[PORTMAP_HTTP_CAP];
	char     body[PORTMAP_HTTP_CAP];   /* a chunked body, joined */
	/* The external address the gateway reports (NAT-PMP's, else UPnP's). */
	int      has_external;
	struct stun_addr external;
	/* The double-NAT decision (portmap_double_nat). */
	int      double_nat;        /* 1, 0, -1 unknown */
	enum portmap_dnat_reason dn_reason;
	int      dn_has_mapped;
	struct stun_addr dn_mapped;
};

enum portmap_step { PORTMAP_SEND, PORTMAP_CONNECT, PORTMAP_CLOSE, PORTMAP_WAIT, PORTMAP_DONE };

struct portmap_tx {
	int      sock;              /* enum portmap_sock */
	struct stun_addr to;        /* SEND on UDP, CONNECT */
	size_t   len;
	uint8_t  buf[PORTMAP_TXBUF];
};

/* Start at now_ms.  Without cfg->enabled or a gateway it is done at once
 * and every answer is null. */
void portmap_init(struct portmap *m, const struct portmap_config *cfg, uint64_t now_ms);

/*
 * portmap_next: PORTMAP_SEND: send tx (UDP: a datagram to tx->to; TCP: the
 * bytes on the open connection) and call again.  PORTMAP_CONNECT: open a
 * TCP connection to tx->to on PORTMAP_SOCK_TCP and report with
 * portmap_tcp_event.  PORTMAP_CLOSE: close the TCP connection.
 * PORTMAP_WAIT: wait at most *wait_ms.  PORTMAP_DONE: finished.
 * Every UDP request is sent at 0 and PORTMAP_RESEND_MS; NAT-PMP and PCP
 * not answered by PORTMAP_UDP_WAIT_MS are "silent", SSDP by
 * PORTMAP_SSDP_MS (or cut short, see there); the UPnP HTTP exchanges must
 * end PORTMAP_HTTP_MS after the SSDP answer; nothing outlives the run's
 * cap.
 */
enum portmap_step portmap_next(struct portmap *m, uint64_t now_ms, struct portmap_tx *tx,
                               uint32_t *wait_ms);

/* A datagram (UDP sockets) or stream bytes (PORTMAP_SOCK_TCP) arrived. */
void portmap_input(struct portmap *m, uint64_t now_ms, int sock, const struct stun_addr *from,
                   const uint8_t *buf, size_t len);

enum portmap_tcp_event { PORTMAP_TCP_CONNECTED, PORTMAP_TCP_FAILED, PORTMAP_TCP_EOF };

/* What happened to the TCP connection (connect done or failed, end of
 * stream, a failed write or read). */
void portmap_tcp_event(struct portmap *m, uint64_t now_ms, enum portmap_tcp_event ev);

/* The network said a datagram on UDP socket sock was not delivered
 * (ICMP port unreachable on a connected socket). */
void portmap_unreachable(struct portmap *m, uint64_t now_ms, int sock);

/*
 * portmap_hurry: the caller has nothing else to wait for (the STUN tests
 * are done); rtt_ms is the round trip they measured to the server (0 when
 * none).  The gateway sits on that path, so NAT-PMP and PCP still silent
 * PORTMAP_HURRY_RTTS round trips (at least PORTMAP_HURRY_MIN_MS) after
 * they were sent are cut short - unknown, not "not spoken" - and the SSDP
 * wait ends early where PORTMAP_SSDP_MS allows it.
 */
void portmap_hurry(struct portmap *m, uint32_t rtt_ms);

/* End the run now (the caller's cap): whatever is still open is cut short. */
void portmap_finish(struct portmap *m, uint64_t now_ms);

/* JSON value of a state: "true", "false" or "null". */
const char *portmap_state_json(enum portmap_state s);

/*
 * portmap_double_nat: decide, from the gateway's answers and the STUN
 * mapped address (has_mapped, mapped) and the local address (has_local,
 * local), whether there is a second NAT beyond the gateway; fills
 * m->double_nat and m->dn_reason.  Pure.
 */
void portmap_double_nat(struct portmap *m, int has_mapped, const struct stun_addr *mapped,
                        int has_local, const struct stun_addr *local);

/* A stable word for a reason ("carrier-grade-nat", ...). */
const char *portmap_dnat_word(enum portmap_dnat_reason r);

#endif /* NATCHECK_PORTMAP_H */
