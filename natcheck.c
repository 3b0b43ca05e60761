/*
 * natcheck - tell what a NAT does to UDP, or serve the STUN tests for it.
 *
 * main() parses the options, picks detect, serve or --pair, and turns the
 * outcome into an exit status.  The protocol lives in stun.c and server.c,
 * the tests in probe.c, the decision in nat.c, the output in report.c; the
 * traversal facts (ports, lifetime, forecast) in ports.c, lifetime.c,
 * forecast.c and traversal.c.
 *
 * Options are parsed by hand rather than with getopt_long(3), which is not
 * POSIX: short options may be bundled ("-4qv") and take their argument
 * attached or as the next word; long options take "--opt=value" or
 * "--opt value".  Every short option has a long form.
 *
 * The exit status is decided here and nowhere else: the verdict's type, or
 * an error (1), or a usage error (2).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "engloop.h"
#include "forecast.h"
#include "loop.h"
#include "nat.h"
#include "net.h"
#include "portmap.h"
#include "ratelimit.h"
#include "report.h"
#include "resolve.h"
#include "resolve_io.h"
#include "serve.h"
#include "server.h"
#include "tcpreport.h"
#include "traversal.h"
#include "uri.h"
#include "watch.h"

#ifndef NATCHECK_VERSION
#define NATCHECK_VERSION "unknown"
#endif

/* The head of the built-in list (builtin_servers below); tests never
 * contact it. */
#define DEFAULT_SERVER_HOST "stun.hot-chilli.net"
#define DEFAULT_PORT      3478
#define DEFAULT_ALT_PORT  (DEFAULT_PORT + 1)   /* and -p + 1 for another -p */
#define DEFAULT_TIMEOUT_MS      3000
#define DEFAULT_RFC_TIMEOUT_MS 20000
#define MIN_TIMEOUT_MS    50
#define MAX_TIMEOUT_S     3600
#define MIN_WATCH_MS      100       /* --watch: at most ten runs a second */
#define MAX_WATCH_S       86400
#define MAX_COUNT         1000000000UL
#define MIN_LIFETIME_S    5
#define MAX_LIFETIME_S    3600

/* Exit statuses (EXIT STATUS in natcheck.1): one per type, then errors;
 * --pair's are FORECAST_EXIT_* (forecast.h). */
#define EXIT_OPEN            0
#define EXIT_FULL_CONE       10
#define EXIT_RESTRICTED      11
#define EXIT_PORT_RESTRICTED 12
#define EXIT_SYMMETRIC       13
#define EXIT_FIREWALL        14
#define EXIT_BLOCKED         15
#define EXIT_UNKNOWN         16
#define EXIT_ERROR           1      /* could not run: resolution, sockets, output */
#define EXIT_USAGE           2

static const char *progname = "natcheck";

/*
 * The built-in list, used when no server is given: public servers that a
 * public source reported as usable for RFC 5780's tests (OTHER-ADDRESS,
 * honouring CHANGE-REQUEST), with where and when that was read.  The
 * source is what it reported, not what natcheck verified: natcheck checks
 * every server's answers itself at run time (nat_classify); the list only
 * says whom to ask first.  natcheck.1, SERVER LIST, lists the same entries
 * and names the source: keep them in step.  Tests never contact these hosts.
 */
#define BUILTIN_SOURCE "pradt2/always-online-stun valid_nat_testing_hosts.txt, commits e6ef224f and 0002108c"
#define BUILTIN_READ   "2026-11-27"
static const struct builtin_server {
	const char *host;
	uint16_t port;
	const char *seen;           /* when the source was read */
	const char *source;         /* where: the file and its commit */
} builtin_servers[] = {
	{ DEFAULT_SERVER_HOST,      DEFAULT_PORT, BUILTIN_READ, BUILTIN_SOURCE },
	{ "stun.nextcloud.com",     3478, BUILTIN_READ, BUILTIN_SOURCE },
	{ "stun.stochastix.de",     3478, BUILTIN_READ, BUILTIN_SOURCE },
	{ "stun.sonetel.com",       3478, BUILTIN_READ, BUILTIN_SOURCE },
	{ "stun.freeswitch.org",    3478, BUILTIN_READ, BUILTIN_SOURCE },
	{ "stun.telnyx.com",        3478, BUILTIN_READ, BUILTIN_SOURCE },
	{ "stun.m-online.net",      3478, BUILTIN_READ, BUILTIN_SOURCE },
	{ "stun.voipgate.com",      3478, BUILTIN_READ, BUILTIN_SOURCE },
};
#define NBUILTIN (sizeof(builtin_servers) / sizeof(builtin_servers[0]))

/* The longest the built-in list's names take to resolve when nothing
 * answers (issue 20: about 2 s; -t may shorten it). */
#define BUILTIN_RESOLVE_MS 2000

/* --servers FILE: its size cap, and the longest line taken. */
#define SERVERS_FILE_MAX  65536
#define SERVERS_LINE_MAX  (NET_HOSTLEN + 8)

/* A usage error's status: 2, or UNKNOWN (3) when natcheck runs as a
 * monitoring plugin (--expect, --format nagios), whose caller reads any
 * other status as a state. */
static int usage_status = EXIT_USAGE;

/* The exit status for a verdict's type. */
static int
exit_code(enum nat_type t)
{
	switch (t) {
	case NAT_OPEN:                 return EXIT_OPEN;
	case NAT_FULL_CONE:            return EXIT_FULL_CONE;
	case NAT_RESTRICTED_CONE:      return EXIT_RESTRICTED;
	case NAT_PORT_RESTRICTED_CONE: return EXIT_PORT_RESTRICTED;
	case NAT_SYMMETRIC:            return EXIT_SYMMETRIC;
	case NAT_SYMMETRIC_FIREWALL:   return EXIT_FIREWALL;
	case NAT_UDP_BLOCKED:          return EXIT_BLOCKED;
	case NAT_UNKNOWN:              break;
	}
	return EXIT_UNKNOWN;
}

static void
usage_text(FILE *f)
{
	fprintf(f,
	    "usage: natcheck [-46qv] [--json] [--no-portmap] [--tcp] [-b address[:port]]\n"
	    "                [-t seconds] [--rfc3489-timing] [--format format]\n"
	    "                [--watch seconds] [--count n] [--metrics-file path]\n"
	    "                [--expect type[,type ...]] [--lifetime[=max]]\n"
	    "                [--servers file] [server[:port] ...]\n"
	    "       natcheck --pair a.json b.json [-v] [--json]\n"
	    "       natcheck --serve primary[,alternate] [-v] [-p port] [--alt-port port]\n"
	    "                [--advertise public[,public]] [--rate n] [--user user]\n"
	    "                [--metrics-file path] [--no-tcp]\n"
	    "       natcheck --help | --version\n");
}

static void
help_text(FILE *f)
{
	usage_text(f);
	fprintf(f,
	    "\n"
	    "Detect what the NAT between this host and a STUN server does to UDP.\n"
	    "A server is host[:port], [v6]:port or stun:host[:port]; its port may also\n"
	    "follow it as its own word: natcheck host 3478.\n"
	    "\n"
	    "  -4, --ipv4              use IPv4 only\n"
	    "  -6, --ipv6              use IPv6 only\n"
	    "  -b, --bind address[:port]\n"
	    "                          send from this unicast address of this host (and\n"
	    "                          port; a pinned port may carry earlier NAT state)\n"
	    "  -q, --quiet             print only the verdict word\n"
	    "  -t, --timeout seconds   cap the tests, and the names' resolution before\n"
	    "                          them (default 3, 20 with --rfc3489-timing)\n"
	    "  -v, --verbose           log the local sockets and every request and\n"
	    "                          response to stderr\n"
	    "  --count n               with --watch: stop after n runs; alone: n runs\n"
	    "                          back to back\n"
	    "  --expect type[,type ...]\n"
	    "                          be a Nagios/Icinga plugin: OK when the type is\n"
	    "                          one of these, CRITICAL when not, UNKNOWN when it\n"
	    "                          cannot be determined or on errors; ipv4:type,\n"
	    "                          ipv6:type judge that family\n"
	    "  --format format         text, json, prometheus or nagios (default text)\n"
	    "  --json                  print one JSON object (--format json)\n"
	    "  --lifetime[=max]        also measure how long an idle binding lives, up to\n"
	    "                          max seconds (default 300; --lifetime 120 too; takes\n"
	    "                          about 1.25 x the lifetime + 5 s; the server must\n"
	    "                          honour RESPONSE-PORT)\n"
	    "  --metrics-file path     also write the Prometheus metrics to path, atomically\n"
	    "                          (server: its counters, every 10 s and at exit)\n"
	    "  --no-tcp                server: answer over UDP only (default: UDP and TCP\n"
	    "                          on every endpoint)\n"
	    "  --no-portmap            do not ask the gateway about UPnP IGD, NAT-PMP or\n"
	    "                          PCP (read-only probes; SSDP is multicast on its link)\n"
	    "  --pair a.json b.json    read two saved --json results: can the two hosts\n"
	    "                          connect directly over UDP, and how\n"
	    "  --rfc3489-timing        retransmit as RFC 3489 does (9.5 s per negative)\n"
	    "  --servers file          ask the servers in file (one server a line,\n"
	    "                          # comments) instead of the built-in list\n"
	    "  --tcp                   also run the mapping and hairpinning tests over TCP\n"
	    "                          (a verdict of its own; the exit status stays UDP's)\n"
	    "  --watch seconds         run again every so many seconds, one line per run\n"
	    "                          (JSON Lines with --json) until SIGINT or SIGTERM\n"
	    "  --serve primary[,alternate]\n"
	    "                          run the dual-address STUN server instead; give it\n"
	    "                          twice to serve an IPv4 and an IPv6 pair at once\n"
	    "  -p, --port port         server: primary port (default %d)\n"
	    "  --advertise public[,public]\n"
	    "                          server: behind a 1:1 NAT, report these addresses\n"
	    "                          as its own (one per --serve address; one\n"
	    "                          --advertise per family)\n"
	    "  --alt-port port         server: alternate port (default -p + 1, %d)\n"
	    "  --rate n                server: answer at most n requests a second per\n"
	    "                          source address, bursts of 2n (default %u; 0: off)\n"
	    "  --user user             server: run as this user once the ports are bound\n"
	    "                          (as root only)\n"
	    "  -h, --help              print this help\n"
	    "  --version               print the version\n"
	    "\n"
	    "Without a server, natcheck asks a built-in list of public servers,\n"
	    "%s:%d first (natcheck -v names them all).\n"
	    "Exit status: 0 open, 10 full cone, 11 restricted cone, 12 port restricted\n"
	    "cone, 13 symmetric, 14 symmetric UDP firewall, 15 UDP blocked, 16 could not\n"
	    "determine, 1 error (also: no server reachable), 2 usage error.  With --pair:\n"
	    "0 direct, 20 direct only with port prediction, 21 relay needed, 22 cannot\n"
	    "tell.  See natcheck(1).\n",
	    DEFAULT_PORT, DEFAULT_ALT_PORT, RL_DEFAULT_RATE, DEFAULT_SERVER_HOST, DEFAULT_PORT);
}

static void
version_text(FILE *f)
{
	fprintf(f, "natcheck %s\n", NATCHECK_VERSION);
}

/* A usage error: exactly one line naming it, exit 2. */
_Noreturn static void
usage_error(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

_Noreturn static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s (see natcheck --help)\n", progname, msg);
	/* A plugin's caller shows only its standard output; a '|' there
	 * would start the performance data. */
	if (usage_status != EXIT_USAGE) {
		for (char *c = msg; *c != '\0'; c++)
			if (*c == '|')
				*c = '/';
		printf("NATCHECK UNKNOWN - usage error: %s (see natcheck --help)\n", msg);
	}
	exit(usage_status);
}

/*
 * -t, --watch: seconds as a plain decimal number ("3", "0.5", ".5"),
 * min_ms to max_s, to milliseconds.  strtod(3) alone would also take
 * signs, leading spaces, hex, exponents, inf and nan.
 */
static uint32_t
parse_seconds(const char *opt, const char *s, uint32_t min_ms, uint32_t max_s)
{
	size_t span = strspn(s, "0123456789.");
	const char *dot = strchr(s, '.');
	double t;

	/* Digits and at most one point, nothing else, and some digit. */
	if (s[span] != '\0' || (dot != NULL && strchr(dot + 1, '.') != NULL) ||
	    strcspn(s, "0123456789") == strlen(s))
		usage_error("%s: '%s' is not a number of seconds", opt, s);
	t = strtod(s, NULL);
	if (t * 1000.0 < min_ms || t > max_s)
		usage_error("%s: %s seconds is out of range (%g to %u)", opt, s,
		    min_ms / 1000.0, (unsigned)max_s);
	return (uint32_t)(t * 1000.0 + 0.5);
}

/* --lifetime=MAX: whole seconds, MIN_LIFETIME_S..MAX_LIFETIME_S, to ms. */
static uint32_t
parse_lifetime(const char *opt, const char *s)
{
	if (*s == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5)
		usage_error("%s: '%s' is not a whole number of seconds", opt, s);
	if (atoi(s) < MIN_LIFETIME_S || atoi(s) > MAX_LIFETIME_S)
		usage_error("%s: %s seconds is out of range (%d to %d)", opt, s,
		    MIN_LIFETIME_S, MAX_LIFETIME_S);
	return (uint32_t)atoi(s) * 1000u;
}

/* --count: a whole number of runs, 1 to MAX_COUNT. */
static unsigned long
parse_count(const char *opt, const char *s)
{
	unsigned long n;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10 ||
	    (n = strtoul(s, NULL, 10)) < 1 || n > MAX_COUNT)
		usage_error("%s: '%s' is not a number of runs (1 to %lu)", opt, s, MAX_COUNT);
	return n;
}

/* --format: the renderer. */
static enum watch_format
parse_format(const char *opt, const char *s)
{
	static const struct { const char *name; enum watch_format f; } formats[] = {
		{ "text", WATCH_TEXT }, { "json", WATCH_JSON },
		{ "prometheus", WATCH_PROM }, { "nagios", WATCH_NAGIOS },
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(s, formats[i].name) == 0)
			return formats[i].f;
	usage_error("%s: '%s' is not one of text, json, prometheus, nagios", opt, s);
}

/* --expect: type words as in the JSON key "type", comma-separated, each
 * for the top level, or with "ipv4:"/"ipv6:" before it for that family. */
static void
parse_expect(const char *opt, const char *s, struct watch_opts *wo)
{
	char word[64];

	wo->nexpect = 0;
	for (const char *p = s;; p++) {
		size_t n = strcspn(p, ",");
		const char *w = word;
		enum nat_type t;
		int fam = -1;

		if (n == 0 || n >= sizeof(word))
			usage_error("%s: '%s' is not a list of types", opt, s);
		memcpy(word, p, n);
		word[n] = '\0';
		if (strncasecmp(word, "ipv4:", 5) == 0 || strncasecmp(word, "ipv6:", 5) == 0) {
			fam = word[3] == '4' ? 0 : 1;
			w = word + 5;
		}
		if (monitor_type_of_word(w, &t) == -1 || t == NAT_UNKNOWN)
			usage_error("%s: '%s' is not a type (open, full-cone, restricted-cone, "
			    "port-restricted-cone, symmetric, symmetric-udp-firewall, udp-blocked; "
			    "ipv4: or ipv6: before one judges that family)", opt, word);
		if (wo->nexpect == WATCH_MAX_EXPECT)
			usage_error("%s: at most %d types", opt, WATCH_MAX_EXPECT);
		wo->expect[wo->nexpect].type = t;
		wo->expect[wo->nexpect++].family = fam;
		p += n;
		if (*p == '\0')
			break;
	}
}

static uint16_t
parse_port_opt(const char *opt, const char *s)
{
	char err[NET_ERRLEN];
	uint16_t port;

	if (net_parse_port(s, 0, &port, err) == -1)
		usage_error("%s: %s", opt, err);
	return port;
}

/*
 * -b: a concrete unicast address of this host, and a port if one is given.
 * A wildcard would leave the source address to the kernel, so "no NAT"
 * could not be decided; multicast and broadcast addresses are not sources;
 * port 0 written out is a contradiction (leave the port off for a fresh one).
 */
static void
parse_bind(const char *opt, const char *s, struct loop_opts *lo)
{
	char host[NET_HOSTLEN], err[NET_ERRLEN];
	uint16_t port = 0;
	struct stun_addr a;

	if (net_split_hostport(s, host, sizeof(host), &port, err) == -1)
		usage_error("%s '%s': %s", opt, s, err);
	if (net_parse_ip(host, &a) == -1)
		usage_error("%s '%s': not an IP address (a.b.c.d or an IPv6 address)", opt, s);
	if (net_check_unicast(&a, err, sizeof(err)) == -1)
		usage_error("%s '%s': %s; give a unicast address of this host", opt, s, err);
	a.port = port;
	lo->has_bind = 1;
	lo->bind = a;
}

/* --advertise "P1" or "P1,P2": one public address per address of the
 * --serve of its family, each a unicast literal; exits on error. */
static void
advertise_config(const char *spec, struct server_cfg *cfgs, size_t ncfg)
{
	char word[NET_HOSTLEN], err[NET_ERRLEN];
	const char *p = spec;
	struct server_cfg *cfg = NULL;
	struct stun_addr first;
	unsigned k, want;
	size_t g, n = strcspn(spec, ",");

	/* The --serve it stands for: the one of its family. */
	if (n == 0 || n >= sizeof(word))
		usage_error("--advertise: expected public[,public], got '%s'", spec);
	memcpy(word, spec, n);
	word[n] = '\0';
	if (net_parse_ip(word, &first) == -1)
		usage_error("--advertise: '%s' is not an IP address", word);
	for (g = 0; g < ncfg; g++)
		if (cfgs[g].ep[0].family == first.family)
			cfg = &cfgs[g];
	if (cfg == NULL)
		usage_error("--advertise: %s is not of the family of any --serve address", word);
	if (cfg->has_adv)
		usage_error("--advertise: one per address family");
	want = cfg->has_alt ? 2 : 1;

	for (k = 0; k < 2; k++) {
		size_t n = strcspn(p, ",");
		struct stun_addr a;

		/* More public addresses than served ones is what is wrong, not
		 * the family of an address that stands for nothing. */
		if (k == want)
			usage_error("--advertise: %s gives two public addresses for the one "
			    "--serve address %s: give one per served address", spec,
			    addr_fmt_ip(&cfg->ep[0], word, sizeof(word)));
		if (n == 0 || n >= sizeof(word))
			usage_error("--advertise: expected public[,public], got '%s'", spec);
		memcpy(word, p, n);
		word[n] = '\0';
		if (net_parse_ip(word, &a) == -1)
			usage_error("--advertise: '%s' is not an IP address", word);
		if (net_check_unicast(&a, err, sizeof(err)) == -1)
			usage_error("--advertise: %s", err);
		if (a.family != cfg->ep[k].family)
			usage_error("--advertise: %s is not of the family of the address it stands for",
			    word);
		cfg->adv[k] = a;
		p += n;
		if (*p == '\0')
			break;
		p++;
	}
	if (*p != '\0' || k + 1 != want)
		usage_error("--advertise: give exactly %u address%s, one per --serve address",
		    want, want == 1 ? "" : "es");
	if (want == 2 && addr_ip_eq(&cfg->adv[0], &cfg->adv[1]))
		usage_error("--advertise: the two public addresses must differ");
	cfg->has_adv = 1;
}

/* "A1" or "A1,A2" into the server's endpoints; exits on error. */
static void
serve_config(const char *spec, uint16_t port, uint16_t alt_port, struct server_cfg *cfg)
{
	char first[NET_HOSTLEN], err[NET_ERRLEN];
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
	struct stun_addr a1, a2;

	if (n == 0 || n >= sizeof(first) || (comma && comma[1] == '\0'))
		usage_error("--serve: expected primary[,alternate], got '%s'", spec);
	memcpy(first, spec, n);
	first[n] = '\0';
	if (strchr(comma ? comma + 1 : "", ','))
		usage_error("--serve: at most two addresses, got '%s'", spec);

	/* Only literals: a server must know exactly which addresses it owns. */
	if (net_parse_ip(first, &a1) == -1)
		usage_error("--serve: '%s' is not an IP address", first);
	a1.port = port;
	/* No wildcard, multicast or broadcast: answers would look forged. */
	if (net_check_unicast(&a1, err, sizeof(err)) == -1)
		usage_error("--serve: %s", err);
	memset(cfg, 0, sizeof(*cfg));
	cfg->software = "natcheck " NATCHECK_VERSION;
	cfg->ep[0] = a1;
	cfg->ep[2] = a1;
	cfg->ep[2].port = alt_port;
	/* One address: still offer change port, and say so (server.h). */
	cfg->other_port_only = 1;
	if (comma) {
		if (net_parse_ip(comma + 1, &a2) == -1)
			usage_error("--serve: '%s' is not an IP address", comma + 1);
		a2.port = port;
		if (net_check_unicast(&a2, err, sizeof(err)) == -1)
			usage_error("--serve: %s", err);
		if (a2.family != a1.family)
			usage_error("--serve: %s and %s are of different address families",
			    first, comma + 1);
		if (addr_ip_eq(&a1, &a2))
			usage_error("--serve: the alternate address must differ from the primary");
		cfg->has_alt = 1;
		cfg->ep[1] = a2;
		cfg->ep[3] = a2;
		cfg->ep[3].port = alt_port;
	}
}

/* Is `arg` the long option `name`, alone or as "name=value"? */
static int
long_opt(const char *arg, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '\0') {
		*value = NULL;
		return 1;
	}
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	return 0;
}

enum info { INFO_NONE, INFO_HELP, INFO_VERSION };

struct opts {
	struct loop_opts lo;
	enum info info;             /* --help or --version: print it, nothing else */
	int json, quiet, serve, family4, family6, timeout_set, tcp;
	struct watch_opts wo;
	int format_set, watch_set, count_set;
	const char *servers_file;   /* --servers */
	int builtin;                /* no server given: the built-in list */
	const char *serve_spec[SERVE_MAX_GRIDS];
	size_t nserve;
	const char *advertise[SERVE_MAX_GRIDS];
	size_t nadvertise;
	const char *user;
	uint32_t rate;
	int port_set, alt_port_set, rate_set, no_tcp;
	uint16_t port, alt_port;
	int lifetime;               /* --lifetime */
	uint32_t lifetime_max_ms;
	const char *pair[2];        /* --pair a.json b.json */
};

/* The options, short and long; 0 for a long-only one. */
enum opt_id {
	OPT_IPV4, OPT_IPV6, OPT_BIND, OPT_HELP, OPT_PORT, OPT_QUIET, OPT_TIMEOUT,
	OPT_VERBOSE, OPT_ALT_PORT, OPT_JSON, OPT_NO_PORTMAP, OPT_RFC3489, OPT_SERVE, OPT_VERSION,
	OPT_WATCH, OPT_COUNT, OPT_FORMAT, OPT_METRICS_FILE, OPT_EXPECT, OPT_TCP, OPT_ADVERTISE,
	OPT_RATE, OPT_USER, OPT_NO_TCP, OPT_LIFETIME, OPT_PAIR, OPT_SERVERS
};

/* has_arg: ARG_NONE, ARG_ONE (attached or the next word), or ARG_ATTACHED
 * (optional, only as --opt=value). */
enum { ARG_NONE, ARG_ONE, ARG_ATTACHED };

static const struct optdef {
	enum opt_id id;
	char     short_name;
	const char *long_name;
	int      has_arg;
} optdefs[] = {
	{ OPT_IPV4,     '4', "--ipv4",           0 },
	{ OPT_IPV6,     '6', "--ipv6",           0 },
	{ OPT_BIND,     'b', "--bind",           1 },
	{ OPT_HELP,     'h', "--help",           0 },
	{ OPT_PORT,     'p', "--port",           1 },
	{ OPT_QUIET,    'q', "--quiet",          0 },
	{ OPT_TIMEOUT,  't', "--timeout",        1 },
	{ OPT_VERBOSE,  'v', "--verbose",        0 },
	{ OPT_ADVERTISE, 0,  "--advertise",      1 },
	{ OPT_ALT_PORT, 0,   "--alt-port",       1 },
	{ OPT_COUNT,    0,   "--count",          1 },
	{ OPT_EXPECT,   0,   "--expect",         1 },
	{ OPT_FORMAT,   0,   "--format",         1 },
	{ OPT_JSON,     0,   "--json",           0 },
	{ OPT_LIFETIME, 0,   "--lifetime",       ARG_ATTACHED },
	{ OPT_METRICS_FILE, 0, "--metrics-file", 1 },
	{ OPT_NO_PORTMAP, 0, "--no-portmap",     0 },
	{ OPT_NO_TCP,   0,   "--no-tcp",         0 },
	{ OPT_RATE,     0,   "--rate",           1 },
	{ OPT_PAIR,     0,   "--pair",           ARG_ONE },  /* and the next word */
	{ OPT_RFC3489,  0,   "--rfc3489-timing", 0 },
	{ OPT_SERVE,    0,   "--serve",          1 },
	{ OPT_SERVERS,  0,   "--servers",        1 },
	{ OPT_TCP,      0,   "--tcp",            0 },
	{ OPT_USER,     0,   "--user",           1 },
	{ OPT_VERSION,  0,   "--version",        0 },
	{ OPT_WATCH,    0,   "--watch",          1 },
};
#define NOPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

/* The argument of an option: attached, "=value", or the next word. */
static const char *
opt_arg(const char *opt, const char *attached, int *i, int argc, char **argv)
{
	if (attached != NULL && *attached != '\0')
		return attached;
	if (attached != NULL && *attached == '\0' && opt[0] == '-' && opt[1] == '-')
		usage_error("%s: empty argument", opt);
	if (*i + 1 >= argc)
		usage_error("%s needs an argument", opt);
	return argv[++*i];
}

/* Apply one option; `opt` is its name as written, for messages. */
static void
apply_opt(struct opts *o, enum opt_id id, const char *opt, const char *arg)
{
	switch (id) {
	case OPT_IPV4:     o->family4 = 1; break;
	case OPT_IPV6:     o->family6 = 1; break;
	case OPT_QUIET:    o->quiet = 1; break;
	case OPT_VERBOSE:  o->lo.verbose = 1; break;
	case OPT_JSON:     o->json = 1; break;
	case OPT_NO_PORTMAP: o->lo.no_portmap = 1; break;
	case OPT_NO_TCP:   o->no_tcp = 1; break;
	case OPT_RFC3489:  o->lo.rfc3489_timing = 1; break;
	case OPT_TCP:      o->tcp = 1; break;
	case OPT_HELP:     o->info = INFO_HELP; break;
	case OPT_VERSION:  o->info = INFO_VERSION; break;
	case OPT_BIND:     parse_bind(opt, arg, &o->lo); break;
	case OPT_TIMEOUT:
		o->lo.timeout_ms = parse_seconds(opt, arg, MIN_TIMEOUT_MS, MAX_TIMEOUT_S);
		o->timeout_set = 1;
		break;
	case OPT_PORT:
		o->port = parse_port_opt(opt, arg);
		o->port_set = 1;
		break;
	case OPT_ALT_PORT:
		o->alt_port = parse_port_opt(opt, arg);
		o->alt_port_set = 1;
		break;
	case OPT_SERVE:
		/* One address pair per family: --serve A1,A2 --serve B1,B2. */
		if (o->nserve == SERVE_MAX_GRIDS)
			usage_error("%s: at most %d, one per address family", opt, SERVE_MAX_GRIDS);
		o->serve = 1;
		o->serve_spec[o->nserve++] = arg;
		break;
	case OPT_WATCH:
		o->wo.interval_ms = parse_seconds(opt, arg, MIN_WATCH_MS, MAX_WATCH_S);
		o->watch_set = 1;
		break;
	case OPT_COUNT:
		o->wo.count = parse_count(opt, arg);
		o->count_set = 1;
		break;
	case OPT_FORMAT:
		o->wo.format = parse_format(opt, arg);
		o->format_set = 1;
		break;
	case OPT_METRICS_FILE:
		if (*arg == '\0')
			usage_error("%s: empty path", opt);
		o->wo.metrics_file = arg;
		break;
	case OPT_EXPECT:
		parse_expect(opt, arg, &o->wo);
		break;
	case OPT_SERVERS:
		if (*arg == '\0')
			usage_error("%s: empty path", opt);
		/* Not silently the last one: one file holds every server. */
		if (o->servers_file != NULL)
			usage_error("%s is given once: put all the servers in one file", opt);
		o->servers_file = arg;
		break;
	case OPT_ADVERTISE:
		if (o->nadvertise == SERVE_MAX_GRIDS)
			usage_error("%s: at most %d, one per address family", opt, SERVE_MAX_GRIDS);
		o->advertise[o->nadvertise++] = arg;
		break;
	case OPT_RATE:
		if (*arg == '\0' || strspn(arg, "0123456789") != strlen(arg) || strlen(arg) > 7 ||
		    strtoul(arg, NULL, 10) > RL_MAX_RATE)
			usage_error("%s: '%s' is not a number of requests a second (0 to %u)", opt,
			    arg, RL_MAX_RATE);
		o->rate = (uint32_t)strtoul(arg, NULL, 10);
		o->rate_set = 1;
		break;
	case OPT_USER:
		if (*arg == '\0')
			usage_error("%s: empty user name", opt);
		o->user = arg;
		break;
	case OPT_LIFETIME:
		o->lifetime = 1;
		o->lifetime_max_ms = arg == NULL ? LT_DEFAULT_MAX_MS : parse_lifetime(opt, arg);
		break;
	case OPT_PAIR:
		o->pair[0] = arg;
		break;
	}
}

/* A word of digits alone: a port, never an address. */
static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Is s "help" or "version" (in any case)?  The option it stands for, or
 * NULL. */
static const char *
info_word(const char *s)
{
	static const char *const words[] = { "help", "version" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return words[i];
	return NULL;
}

/*
 * One server as written, an operand or a --servers line: "host",
 * "host:port", "[v6]:port", an IPv6 address alone, or stun:host[:port]
 * (RFC 7064; "stun:3478" stays a host named stun with its port).  0 with
 * *s filled (the default port when none is written; *has_port says
 * whether one was), or -1 with one sentence in err (NET_ERRLEN bytes).
 */
static int
server_word(const char *word, struct loop_server *s, int *has_port, char *err)
{
	enum uri_scheme scheme = uri_scheme_of(word);
	char why[URI_ERRLEN], hint[NET_HOSTLEN + 16];
	uint16_t port = 0;
	int lit;

	memset(s, 0, sizeof(*s));
	if (scheme != URI_NONE && !all_digits(strchr(word, ':') + 1)) {
		struct uri u;

		if (uri_parse(word, &u, why, sizeof(why)) == -1) {
			snprintf(err, NET_ERRLEN, "not a STUN URI: %s", why);
			return -1;
		}
		if (scheme != URI_STUN) {
			snprintf(err, NET_ERRLEN, "%s: URIs (%s) are not supported yet: give "
			    "stun:host[:port] or host[:port]", uri_scheme_word(scheme),
			    scheme == URI_STUNS ? "STUN over TLS" : "TURN relays");
			return -1;
		}
		snprintf(s->host, sizeof(s->host), "%s", u.host);
		port = u.port;
	} else {
		if (net_v6_port_ambiguous(word, hint, sizeof(hint))) {
			snprintf(err, NET_ERRLEN, "an IPv6 address with a port is written "
			    "in brackets: %.80s (or [%.80s] for the address alone)", hint, word);
			return -1;
		}
		if (net_split_hostport(word, s->host, sizeof(s->host), &port, err) == -1)
			return -1;
	}
	if ((lit = net_parse_literal(s->host, &s->addr, err)) == -1)
		return -1;
	s->literal = lit;
	if (!lit && net_is_ipv4_shorthand(s->host)) {
		snprintf(err, NET_ERRLEN, "not an address (IPv4 is written a.b.c.d)");
		return -1;
	}
	*has_port = port != 0;
	s->port = port == 0 ? DEFAULT_PORT : port;
	return 0;
}

/*
 * The server operands: "host", "host:port", "[v6]:port", stun:host[:port],
 * and, as nc(1) takes it, "host port" (a word of digits right after a
 * server without a port is that server's port).  Only well-formedness is
 * checked here; resolving comes later.
 */
static void
parse_servers(char **words, size_t n, struct loop_opts *lo)
{
	int port_open = 0;          /* the last server may still take a port word */

	for (size_t k = 0; k < n; k++) {
		struct loop_server *s;
		char err[NET_ERRLEN];
		int has_port;

		if (all_digits(words[k])) {
			if (!port_open)
				usage_error("'%s' is not an address (a port goes after its server: "
				    "host port, or host:port)", words[k]);
			s = &lo->servers[lo->nservers - 1];
			if (net_parse_port(words[k], 0, &s->port, err) == -1)
				usage_error("server '%s' port '%s': %s", s->spec, words[k], err);
			port_open = 0;
			continue;
		}
		if (info_word(words[k]) != NULL)
			usage_error("'%s' is not a server: did you mean natcheck --%s?", words[k],
			    info_word(words[k]));
		if (lo->nservers == LOOP_MAX_SERVERS)
			usage_error("at most %d servers", LOOP_MAX_SERVERS);
		s = &lo->servers[lo->nservers++];
		if (server_word(words[k], s, &has_port, err) == -1)
			usage_error("server '%s': %s", words[k], err);
		s->spec = words[k];
		port_open = !has_port;
	}
}

/* Do a and b name the same server: the same address, or the same name
 * (in any case, a final dot aside), and the same port? */
static int
same_server(const struct loop_server *a, const struct loop_server *b)
{
	size_t na = strlen(a->host), nb = strlen(b->host);

	if (a->port != b->port || a->literal != b->literal)
		return 0;
	if (a->literal)
		return addr_ip_eq(&a->addr, &b->addr) && a->addr.scope == b->addr.scope;
	na -= na > 0 && a->host[na - 1] == '.';
	nb -= nb > 0 && b->host[nb - 1] == '.';
	return na == nb && strncasecmp(a->host, b->host, na) == 0;
}

/* A server given twice, and an address of a family that -4 or -6 leaves
 * out, are usage errors: the run could only fail on them. */
static void
check_servers(const struct opts *o)
{
	const struct loop_opts *lo = &o->lo;

	for (size_t i = 0; i < lo->nservers; i++) {
		const struct loop_server *s = &lo->servers[i];

		for (size_t j = 0; j < i; j++)
			if (same_server(&lo->servers[j], s) && strcmp(lo->servers[j].spec, s->spec) == 0)
				usage_error("server '%s' is given twice", s->spec);
			else if (same_server(&lo->servers[j], s))
				usage_error("server '%s' is given twice (as '%s' too)", s->spec,
				    lo->servers[j].spec);
		if (s->literal && ((o->family4 && s->addr.family == 6) ||
		    (o->family6 && s->addr.family == 4)))
			usage_error("server '%s' is an IPv%d address, and %s asks for IPv%d only",
			    s->spec, s->addr.family, o->family4 ? "-4" : "-6", o->family4 ? 4 : 6);
		if (s->literal && lo->has_bind && s->addr.family != lo->bind.family)
			usage_error("server '%s' is an IPv%d address, and -b gives an IPv%d one",
			    s->spec, s->addr.family, lo->bind.family);
	}
}

/* One line of a --servers file (its trailing newline cut): a server, none
 * (blank or a comment), or a usage error naming the line. */
static void
servers_file_line(const char *path, unsigned lineno, char *line, struct loop_opts *lo)
{
	static char specs[LOOP_MAX_SERVERS][SERVERS_LINE_MAX + 1];
	char *word, *end, *hash = strchr(line, '#');
	struct loop_server *s;
	char err[NET_ERRLEN];
	int has_port;

	if (hash != NULL)
		*hash = '\0';
	for (char *c = line; *c != '\0'; c++)
		if (*c == '\t' || *c == '\r')
			*c = ' ';
		else if ((unsigned char)*c < 0x20 || *c == 0x7f)
			usage_error("--servers %s: line %u: a control character", path, lineno);
	for (word = line; *word == ' '; word++)
		;
	for (end = word; *end != '\0' && *end != ' '; end++)
		;
	if (*word == '\0')
		return;
	for (char *c = end; *c != '\0'; c++)
		if (*c != ' ')
			usage_error("--servers %s: line %u: one host[:port] a line", path, lineno);
	*end = '\0';
	if (lo->nservers == LOOP_MAX_SERVERS)
		usage_error("--servers %s: line %u: more than %d servers", path, lineno,
		    LOOP_MAX_SERVERS);
	s = &lo->servers[lo->nservers];
	if (server_word(word, s, &has_port, err) == -1)
		usage_error("--servers %s: line %u: '%s': %s", path, lineno, word, err);
	snprintf(specs[lo->nservers], sizeof(specs[0]), "%s", word);
	s->spec = specs[lo->nservers];
	lo->nservers++;
}

/*
 * --servers FILE: one host[:port] a line, '#' starts a comment, blank lines
 * are skipped.  The file is the user's, but read as hostile all the same:
 * a NUL or another control character, an overlong line, two words on a
 * line, a bad address, too many servers or none is a usage error naming
 * the line.
 */
static void
parse_servers_file(const char *path, struct loop_opts *lo)
{
	static char buf[SERVERS_FILE_MAX + 1];
	char line[SERVERS_LINE_MAX + 1];
	size_t n, start = 0;
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		usage_error("--servers %s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		usage_error("--servers %s: %s", path, strerror(e));
	}
	fclose(f);
	if (n > SERVERS_FILE_MAX)
		usage_error("--servers %s: larger than %d bytes", path, SERVERS_FILE_MAX);
	while (start < n) {
		size_t len = 0;

		lineno++;
		while (start + len < n && buf[start + len] != '\n') {
			if (buf[start + len] == '\0')
				usage_error("--servers %s: line %u: a NUL byte", path, lineno);
			len++;
		}
		if (len > SERVERS_LINE_MAX)
			usage_error("--servers %s: line %u: longer than %d characters", path, lineno,
			    SERVERS_LINE_MAX);
		memcpy(line, buf + start, len);
		line[len] = '\0';
		servers_file_line(path, lineno, line, lo);
		start += len + 1;
	}
	if (lo->nservers == 0)
		usage_error("--servers %s: no server in it", path);
}

/* No server given: the built-in list, as many as the engine takes. */
static void
use_builtin_servers(struct loop_opts *lo)
{
	for (size_t i = 0; i < NBUILTIN && lo->nservers < LOOP_MAX_SERVERS; i++) {
		struct loop_server *s = &lo->servers[lo->nservers++];

		s->spec = builtin_servers[i].host;
		snprintf(s->host, sizeof(s->host), "%s", builtin_servers[i].host);
		s->port = builtin_servers[i].port;
	}
}

/* -v: which list the run uses, and what is known of each entry. */
static void
log_builtin_servers(FILE *f)
{
	fprintf(f, "%s: no server given: the built-in list (%zu servers)\n", progname,
	    NBUILTIN < LOOP_MAX_SERVERS ? NBUILTIN : (size_t)LOOP_MAX_SERVERS);
	for (size_t i = 0; i < NBUILTIN && i < LOOP_MAX_SERVERS; i++)
		fprintf(f, "%s:   %s:%u  listed as RFC 5780 capable by %s (read %s)\n", progname,
		    builtin_servers[i].host, builtin_servers[i].port, builtin_servers[i].source,
		    builtin_servers[i].seen);
}

/* The output options: -q, --json and --expect are --format's shorthands. */
static void
output_conflicts(struct opts *o)
{
	if (o->json) {
		if (o->format_set && o->wo.format != WATCH_JSON)
			usage_error("--json goes only with --format json");
		o->wo.format = WATCH_JSON;
	}
	if (o->quiet) {
		if (o->format_set && o->wo.format != WATCH_TEXT)
			usage_error("-q goes only with --format text");
		o->wo.format = WATCH_QUIET;
	}
	if (o->wo.nexpect > 0) {
		if (o->json || o->quiet || (o->format_set && o->wo.format != WATCH_NAGIOS))
			usage_error("--expect goes only with --format nagios");
		o->wo.format = WATCH_NAGIOS;
	} else if (o->wo.format == WATCH_NAGIOS) {
		usage_error("--format nagios needs --expect");
	}
	if (o->wo.format == WATCH_NAGIOS && (o->watch_set || o->count_set))
		usage_error("--expect is a single check: it does not go with --watch or --count");
	o->wo.watching = o->watch_set || o->count_set;
}

/*
 * The edit distance between a and b (insertions, deletions, changes and
 * swaps of two neighbours: optimal string alignment), or 3 for anything
 * farther than two edits.
 */
static unsigned
near(const char *a, const char *b)
{
	enum { W = 32 };
	unsigned d[3][W + 1];     /* three rows: the swap looks two back */
	size_t na = strlen(a), nb = strlen(b);

	if (na > W || nb > W || (na > nb ? na - nb : nb - na) > 2)
		return 3;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= na; i++) {
		unsigned *r = d[i % 3], *p = d[(i - 1) % 3], *q = d[(i + 1) % 3];

		r[0] = (unsigned)i;
		for (size_t j = 1; j <= nb; j++) {
			unsigned c = a[i - 1] != b[j - 1], v = p[j - 1] + c;

			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (r[j - 1] + 1 < v)
				v = r[j - 1] + 1;
			/* q is row i - 2 here. */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    q[j - 2] + 1 < v)
				v = q[j - 2] + 1;
			r[j] = v;
		}
	}
	return d[na % 3][nb] > 2 ? 3 : d[na % 3][nb];
}

/* An unknown long option: one line naming it, and the real one within
 * two edits of its name ("--jsn": --json), if any. */
_Noreturn static void
unknown_long(const char *arg)
{
	char name[40];
	size_t n = strcspn(arg, "=");
	const char *best = NULL;
	unsigned bd = 3;

	snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), arg);
	for (size_t k = 0; k < NOPTDEFS; k++) {
		unsigned d = near(name, optdefs[k].long_name);

		if (d < bd) {
			bd = d;
			best = optdefs[k].long_name;
		}
	}
	if (best != NULL)
		usage_error("unknown option %s; did you mean %s?", name, best);
	usage_error("unknown option %s", name);
}

/* An unknown short option c in the word arg: when arg with one more
 * dash is a long option ("-json"), say so. */
_Noreturn static void
unknown_short(const char *arg, char c)
{
	char name[40];

	snprintf(name, sizeof(name), "-%.*s", (int)strcspn(arg, "="), arg);
	for (size_t k = 0; k < NOPTDEFS && strlen(arg) > 2; k++)
		if (near(name, optdefs[k].long_name) <= 1)
			usage_error("unknown option -%c in %s; did you mean %s?", c, arg,
			    optdefs[k].long_name);
	usage_error("unknown option -%c", c);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static char *words[LOOP_MAX_SERVERS * 2];
	size_t nwords = 0;
	int i, only_operands = 0;

	memset(o, 0, sizeof(*o));
	o->port = DEFAULT_PORT;
	o->alt_port = DEFAULT_ALT_PORT;
	o->rate = RL_DEFAULT_RATE;
	/* As a monitoring plugin, even a usage error must be a plugin state,
	 * so this is known before any option is read. */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *v;

		if (long_opt(argv[i], "--expect", &v) || strcmp(argv[i], "--format=nagios") == 0 ||
		    (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "nagios") == 0))
			usage_status = MONITOR_UNKNOWN;
	}
	for (i = 1; i < argc && o->info == INFO_NONE; i++) {
		const char *a = argv[i];

		if (only_operands || a[0] != '-' || a[1] == '\0') {
			if (nwords == sizeof(words) / sizeof(words[0]))
				usage_error("at most %d servers", LOOP_MAX_SERVERS);
			words[nwords++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_operands = 1;
			continue;
		}
		if (a[1] == '-') {
			const struct optdef *d = NULL;
			const char *v = NULL;

			for (size_t k = 0; k < NOPTDEFS && d == NULL; k++)
				if (long_opt(a, optdefs[k].long_name, &v))
					d = &optdefs[k];
			if (d == NULL)
				unknown_long(a);
			if (d->has_arg == ARG_NONE && v != NULL)
				usage_error("%s takes no argument", d->long_name);
			apply_opt(o, d->id, d->long_name, d->has_arg == ARG_ONE ?
			    opt_arg(d->long_name, v, &i, argc, argv) : v);
			if (d->id == OPT_PAIR) {
				/* Two files; an option where the second should be
				 * means only one was given. */
				if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0'))
					usage_error("--pair needs two files: --pair a.json b.json");
				o->pair[1] = argv[++i];
			}
			/* "--lifetime 120": a word of digits after it is its
			 * maximum (a port word goes only after a server). */
			if (d->id == OPT_LIFETIME && v == NULL && i + 1 < argc &&
			    all_digits(argv[i + 1]))
				apply_opt(o, d->id, d->long_name, argv[++i]);
			continue;
		}
		/* Bundled short options; one taking an argument ends the word. */
		for (const char *c = a + 1; *c != '\0' && o->info == INFO_NONE; c++) {
			const struct optdef *d = NULL;
			char name[3] = { '-', *c, '\0' };

			for (size_t k = 0; k < NOPTDEFS && d == NULL; k++)
				if (optdefs[k].short_name == *c)
					d = &optdefs[k];
			if (d == NULL)
				unknown_short(a, *c);
			if (!d->has_arg) {
				apply_opt(o, d->id, name, NULL);
				continue;
			}
			apply_opt(o, d->id, name, opt_arg(name, c + 1, &i, argc, argv));
			break;
		}
	}
	if (o->info != INFO_NONE)
		return;

	/* Conflicts, one rule per line. */
	if (o->family4 && o->family6)
		usage_error("-4 and -6 exclude each other");
	for (size_t k = 0; k < o->wo.nexpect; k++)
		if ((o->family4 && o->wo.expect[k].family == 1) ||
		    (o->family6 && o->wo.expect[k].family == 0))
			usage_error("--expect: ipv%c: judges a family -%c leaves out",
			    o->family4 ? '6' : '4', o->family4 ? '4' : '6');
	if (o->json && o->quiet)
		usage_error("--json and -q exclude each other");
	if (o->lo.has_bind && ((o->family4 && o->lo.bind.family != 4) ||
	    (o->family6 && o->lo.bind.family != 6)))
		usage_error("-b's address is not of the family -%c asks for", o->family4 ? '4' : '6');
	if (o->pair[0] != NULL) {
		if (o->serve || nwords > 0 || o->quiet || o->lo.has_bind || o->timeout_set ||
		    o->lo.no_portmap || o->lo.rfc3489_timing || o->family4 || o->family6 ||
		    o->lifetime || o->tcp || o->port_set || o->alt_port_set || o->format_set ||
		    o->watch_set || o->count_set || o->wo.metrics_file != NULL || o->wo.nexpect > 0 ||
		    o->servers_file != NULL)
			usage_error("--pair takes only -v and --json");
		return;
	}
	if (o->lifetime && (o->serve || o->quiet || o->watch_set || o->count_set ||
	    o->wo.nexpect > 0 || (o->format_set && o->wo.format != WATCH_TEXT &&
	    o->wo.format != WATCH_JSON)))
		usage_error("--lifetime is a single run's, in text or JSON: not with --serve, -q, "
		    "--watch, --count, --format prometheus or nagios, or --expect");
	if (o->serve) {
		if (nwords > 0)
			usage_error("--serve takes no server operands");
		if (o->json || o->quiet || o->lo.has_bind || o->timeout_set || o->lo.no_portmap ||
		    o->lo.rfc3489_timing || o->family4 || o->family6 || o->format_set || o->tcp ||
		    o->watch_set || o->count_set || o->wo.nexpect > 0)
			usage_error("--serve takes only -v, -p, --alt-port, --advertise, --rate, "
			    "--user, --metrics-file and --no-tcp");
		/* The alternate port follows -p unless it is given. */
		if (!o->alt_port_set && o->port_set) {
			if (o->port == 65535)
				usage_error("-p 65535 leaves no port above it for the alternate: "
				    "give --alt-port");
			o->alt_port = (uint16_t)(o->port + 1);
		}
		if (o->port == o->alt_port)
			usage_error("-p and --alt-port must differ (both %u)", o->port);
	} else if (o->port_set || o->alt_port_set) {
		usage_error("-p and --alt-port go with --serve; give the server as host:port");
	} else if (o->nadvertise > 0 || o->rate_set || o->user != NULL || o->no_tcp) {
		usage_error("--advertise, --rate, --user and --no-tcp go with --serve");
	}
	if (!o->serve)
		output_conflicts(o);
	parse_servers(words, nwords, &o->lo);
	o->lo.family = o->family4 ? AF_INET : o->family6 ? AF_INET6 : AF_UNSPEC;
	if (!o->timeout_set)
		o->lo.timeout_ms = o->lo.rfc3489_timing ? DEFAULT_RFC_TIMEOUT_MS : DEFAULT_TIMEOUT_MS;
	if (o->servers_file != NULL) {
		if (o->serve)
			usage_error("--servers goes only with detection, not with --serve");
		if (o->lo.nservers > 0)
			usage_error("--servers and server operands exclude each other");
		parse_servers_file(o->servers_file, &o->lo);
	}
	check_servers(o);
	if (!o->serve && o->lo.nservers == 0) {
		use_builtin_servers(&o->lo);
		o->builtin = 1;
	}
	/* Names are resolved within the run's own limit (RESOLVE_MAX_MS at
	 * the most: no query is sent after that); the built-in list, which
	 * the user did not choose, within BUILTIN_RESOLVE_MS. */
	o->lo.resolve_ms = o->lo.timeout_ms < RESOLVE_MAX_MS ? o->lo.timeout_ms : RESOLVE_MAX_MS;
	if (o->builtin && o->lo.resolve_ms > BUILTIN_RESOLVE_MS)
		o->lo.resolve_ms = BUILTIN_RESOLVE_MS;
	if (!o->serve) {
		static char label[NET_HOSTLEN + 8];
		const struct loop_server *s = &o->lo.servers[0];

		snprintf(label, sizeof(label), strchr(s->host, ':') ? "[%s]:%u" : "%s:%u",
		    s->host, s->port);
		o->wo.server = label;
	}
}

/* Flush standard output; a failure (a full disk, a closed pipe) is an error. */
static int
flush_stdout(const char *what)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: writing %s: %s\n", progname, what, strerror(errno));
		return -1;
	}
	return 0;
}

static int
serve(const struct opts *o)
{
	struct server_cfg cfg[SERVE_MAX_GRIDS];
	struct serve_opts so;
	char err[NET_ERRLEN * 2];
	size_t g;

	for (g = 0; g < o->nserve; g++)
		serve_config(o->serve_spec[g], o->port, o->alt_port, &cfg[g]);
	if (o->nserve == 2 && cfg[0].ep[0].family == cfg[1].ep[0].family)
		usage_error("--serve: give one address pair per family (%s and %s are both IPv%d)",
		    o->serve_spec[0], o->serve_spec[1], cfg[0].ep[0].family);
	for (g = 0; g < o->nadvertise; g++)
		advertise_config(o->advertise[g], cfg, o->nserve);
	so.verbose = o->lo.verbose;
	so.rate = o->rate;
	so.tcp = !o->no_tcp;
	so.user = o->user;
	so.metrics_file = o->wo.metrics_file;
	if (server_run(cfg, o->nserve, &so, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", progname, err);
		return EXIT_ERROR;
	}
	return 0;
}

/*
 * When no server could be reached at all, the run says so in one line
 * naming each refused address, so "server down" reads differently from
 * "UDP blocked" (nothing came back at all).
 */
static void
unreachable_msg(const struct probe *p, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "no STUN server at ");
	const char *sep = "";

	for (size_t i = 0; i < p->ntests && n < len; i++) {
		const struct probe_test *t = &p->tests[i];
		char a[ADDR_STRLEN];

		if ((t->kind != PROBE_BINDING && t->kind != PROBE_BINDING_OTHER) ||
		    t->result != PROBE_UNREACHABLE)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s (%s unreachable)", sep,
		    addr_fmt(&t->dst, a, sizeof(a)),
		    t->unreach_kind == PROBE_UNREACH_PORT ? "port" : "host");
		sep = ", ";
	}
}

/*
 * No server name resolved: the error (loop.c's "cannot resolve NAME: why"
 * for one name, "no server name resolves" for several, each already
 * warned about) becomes one line that says which list it was and what to
 * do next.
 */
static void
unresolved_msg(const struct opts *o, char *err, size_t len)
{
	char what[NET_ERRLEN * 2];

	if (o->builtin)
		snprintf(what, sizeof(what), "no server of the built-in list resolves (%zu names)",
		    o->lo.nservers);
	else
		snprintf(what, sizeof(what), "%s", err);
	snprintf(err, len, "%.280s: check the network and its DNS server (%s), give a server by "
	    "its IP address, or try natcheck on this host first: natcheck --serve "
	    "127.0.0.1,127.0.0.2 & natcheck 127.0.0.1", what, RESOLVE_CONF_FILE);
}

/*
 * --lifetime after the detection, against the primary server; what it
 * could not do becomes a finding.  -1 with err set when it could not
 * even start.
 */
static int
lifetime(const struct opts *o, const struct probe *p, struct nat_verdict *v,
         struct lifetime_result *r, char *err, size_t errlen)
{
	const struct stun_addr *server = v->has_server ? &v->server : &p->cfg.servers[0];
	struct nat_finding *f;

	if (v->type == NAT_UDP_BLOCKED || v->unreachable) {
		nat_add(v, NAT_F_LIFETIME_NO_ANSWER);
		return 0;
	}
	/* The verdict is known: say it now, not after minutes of waiting. */
	fprintf(stderr, "%s: %s%s; now measuring how long an idle binding lives, up to %u s "
	    "(this takes up to %u s more)\n", progname, nat_type_name(v->type),
	    v->nat == 0 ? " (no NAT)" : "", (unsigned)(o->lifetime_max_ms / 1000),
	    (unsigned)((o->lifetime_max_ms + o->lifetime_max_ms / 4 + 5000 + 999) / 1000));
	if (lifeloop_run(server, o->lifetime_max_ms, o->lo.verbose, o->lo.tick, o->lo.tick_ctx, r,
	    err, errlen) == -1)
		return -1;
	if (r->unsupported) {
		if ((f = nat_add(v, NAT_F_LIFETIME_UNSUPPORTED)) != NULL)
			f->addr[0] = *server;
	} else if (!r->measured) {
		if ((f = nat_add(v, NAT_F_LIFETIME_UNMEASURED)) != NULL)
			f->addr[0] = *server;
	} else if (r->conflicts > 0) {
		if ((f = nat_add(v, NAT_F_LIFETIME_CONFLICTS)) != NULL)
			f->count[0] = r->conflicts;
	}
	return 0;
}

/*
 * The traversal facts (issue #10) after the verdict: port allocation from
 * the run's own mappings, and when they cannot tell, a few more in one
 * round trip; the binding lifetime with --lifetime; then the forecast
 * classes.  A lifetime run that cannot start is the run's error.
 */
static void
run_traversal(const struct opts *o, const struct probe *p, struct nat_verdict *v,
              struct traversal *t, struct monitor_run *r)
{
	static struct ports_sample samples[PORTS_MAX_SAMPLES];
	struct lifetime_result lr;
	struct stun_addr dst;
	char err[NET_ERRLEN];
	size_t ns;

	ns = ports_samples(p, samples, PORTS_MAX_SAMPLES);
	if (traversal_more_ports(p, v, samples, ns, &dst) &&
	    portsloop_run(&dst, p->have_rtt ? p->rtt_ms : 0, o->lo.verbose, samples, &ns,
	    PORTS_MAX_SAMPLES, err, sizeof(err)) == -1) {
		struct nat_finding *f = nat_add(v, NAT_F_NO_EXTRA_PORTS);

		if (f != NULL)
			f->addr[0] = dst;
		if (o->lo.verbose)
			fprintf(stderr, "%s: %s\n", progname, err);
	}
	memset(&lr, 0, sizeof(lr));
	if (o->lifetime && lifetime(o, p, v, &lr, err, sizeof(err)) == -1) {
		snprintf(r->error, sizeof(r->error), "%s", err);
		r->exit = EXIT_ERROR;
	}
	traversal_build(v, samples, ns, o->lifetime ? &lr : NULL, t);
}

/*
 * The whole pipeline once, with fresh sockets (watch.c runs it once, or
 * again and again): the tests of each address family, a verdict for each,
 * the exit status of the top-level one (IPv4 when it was tested, else
 * IPv6).  Warnings go to stderr at once, each under its family's name when
 * both ran; the result is rendered by watch.c.
 */
static void
run_once(void *ctx, struct monitor_run *r)
{
	const struct opts *o = ctx;
	static struct probe p4, p6;
	static struct nat_verdict v[LOOP_NFAM];
	static struct portmap pm;
	struct probe *const p[LOOP_NFAM] = { &p4, &p6 };
	static struct tcpprobe tcp;
	static struct tcpprobe_verdict tv;
	static struct traversal t;
	struct loop_opts lo = o->lo;
	static struct loop_notes notes;
	int top, both, traversed = 0;

	lo.portmap = &pm;
	lo.tcp = o->tcp ? &tcp : NULL;
	if (loop_detect(&lo, p, &notes, r->error, sizeof(r->error)) == -1) {
		for (size_t i = 0; i < notes.nskipped; i++)
			fprintf(stderr, "%s: warning: %s\n", progname, notes.skipped[i]);
		if (notes.nresolved == 0 && r->error[0] != '\0')
			unresolved_msg(o, r->error, sizeof(r->error));
		r->exit = EXIT_ERROR;
		return;
	}
	for (size_t i = 0; i < notes.nskipped; i++)
		fprintf(stderr, "%s: warning: %s\n", progname, notes.skipped[i]);
	top = notes.primary;
	both = notes.fam[0].why == LOOP_TESTED && notes.fam[1].why == LOOP_TESTED;
	for (int k = 0; k < LOOP_NFAM; k++) {
		struct report_family *f = &r->fam[k];

		f->tested = notes.fam[k].why == LOOP_TESTED;
		f->asked = notes.fam[k].why != LOOP_NOT_ASKED;
		f->why = loop_why_word(notes.fam[k].why);
		f->reason = notes.fam[k].reason;
		if (!f->tested)
			continue;
		nat_classify(p[k], &v[k]);
		if (k == top) {
			portmap_double_nat(&pm, v[k].has_mapped, &v[k].mapped, v[k].has_local,
			    &v[k].local);
			run_traversal(o, p[k], &v[k], &t, r);
			traversed = 1;
		}
		/* The top level's error names what no server answered from:
		 * once, there (below). */
		(k == top ? report_warnings_beside_error : report_warnings_tagged)(stderr,
		    both ? (k == 0 ? "IPv4: " : "IPv6: ") : "", &v[k]);
		f->p = p[k];
		f->v = &v[k];
	}
	r->has_fam = 1;
	r->primary = top;
	if (o->tcp) {
		/* A verdict of its own: the exit status stays the UDP one's. */
		tcpprobe_classify(&tcp, &tv);
		tcpreport_warnings(stderr, &tv);
		r->tcp = &tcp;
		r->tcpv = &tv;
	}
	r->ran = 1;
	r->p = p[top];
	r->v = &v[top];
	r->pm = &pm;
	if (traversed) {
		/* No forecast lines under a run that reached no server: it is an
		 * error (exit 1).  The JSON keeps its keys (keys are only added). */
		r->json_extra = traversal_json;
		r->text_extra = v[top].unreachable ? NULL : traversal_text;
		r->extra = &t;
	}
	if (r->exit != EXIT_ERROR)
		r->exit = exit_code(v[top].type);
	if (v[top].unreachable) {
		unreachable_msg(p[top], r->error, sizeof(r->error));
		r->exit = EXIT_ERROR;
	}
}

/* Read a saved result (at most FORECAST_JSON_MAX bytes) and parse it. */
static int
read_result(const char *path, struct forecast_host *h)
{
	static char buf[FORECAST_JSON_MAX + 1];
	char err[160];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f)) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	/* One byte past the cap is read so that forecast_parse can refuse it. */
	if (forecast_parse(buf, n, h, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, err);
		return -1;
	}
	return 0;
}

/* --pair: two saved results, one forecast; no network at all. */
static int
pair(const struct opts *o)
{
	struct forecast_host a, b;
	struct forecast_pair r;

	if (read_result(o->pair[0], &a) == -1 || read_result(o->pair[1], &b) == -1)
		return EXIT_ERROR;
	forecast_pair(&a, &b, &r);
	if (o->json)
		traversal_pair_json(stdout, &a, &b, &r);
	else
		traversal_pair_text(stdout, &a, &b, &r);
	if (flush_stdout("the result") == -1)
		return EXIT_ERROR;
	return forecast_exit_code(r.path);
}

int
main(int argc, char **argv)
{
	struct opts o;

	parse_args(argc, argv, &o);
	if (o.info != INFO_NONE) {
		(o.info == INFO_HELP ? help_text : version_text)(stdout);
		return flush_stdout(o.info == INFO_HELP ? "the help" : "the version") == -1 ?
		    EXIT_ERROR : 0;
	}
	if (o.pair[0] != NULL)
		return pair(&o);
	if (o.builtin && o.lo.verbose)
		log_builtin_servers(stderr);
	return o.serve ? serve(&o) : watch_main(&o.wo, &o.lo, run_once, &o);
}
