/*
 * natcheck - tell what a NAT does to UDP, or serve the STUN tests for it.
 *
 * main() parses the options, picks detect or serve, and turns the outcome
 * into an exit status.  The protocol lives in stun.c and server.c, the
 * tests in probe.c, the decision in nat.c, the output in report.c.
 *
 * Options are parsed by hand rather than with getopt_long(3), which is not
 * POSIX: short options may be bundled ("-4qv") and take their argument
 * attached or as the next word; long options take "--opt=value" or
 * "--opt value".
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "forecast.h"
#include "engloop.h"
#include "loop.h"
#include "nat.h"
#include "net.h"
#include "report.h"
#include "server.h"
#include "traversal.h"

#ifndef NATCHECK_VERSION
#define NATCHECK_VERSION "unknown"
#endif

/* stuntman's public server answers RFC 5780 tests; tests never contact it. */
#define DEFAULT_SERVER    "stunserver.stunprotocol.org:3478"
#define DEFAULT_PORT      3478
#define DEFAULT_ALT_PORT  3479
#define DEFAULT_TIMEOUT_MS      3000
#define DEFAULT_RFC_TIMEOUT_MS 20000
#define MAX_TIMEOUT_S     3600
#define MIN_LIFETIME_S    5
#define MAX_LIFETIME_S    3600

static const char *progname = "natcheck";

static void
usage_text(FILE *f)
{
	fprintf(f,
	    "usage: natcheck [-46qv] [--json] [-b address[:port]] [-t seconds]\n"
	    "                [--lifetime[=max]] [--rfc3489-timing] [server[:port] ...]\n"
	    "       natcheck --pair a.json b.json [-v] [--json]\n"
	    "       natcheck --serve primary[,alternate] [-v] [-p port] [--alt-port port]\n"
	    "       natcheck --help | --version\n");
}

static void
help_text(FILE *f)
{
	usage_text(f);
	fprintf(f,
	    "\n"
	    "Detect what the NAT between this host and a STUN server does to UDP.\n"
	    "\n"
	    "  -4, -6             use IPv4 or IPv6 only\n"
	    "  -b address[:port]  send from this local address (and port; a pinned\n"
	    "                     port may carry NAT state from earlier traffic)\n"
	    "  -q                 print only the verdict word\n"
	    "  -t seconds         cap the whole run (default 3, 20 with --rfc3489-timing)\n"
	    "  -v                 log every request and response to stderr\n"
	    "  --json             print one JSON object\n"
	    "  --lifetime[=max]   also measure how long an idle binding lives, up to\n"
	    "                     max seconds (default 300; takes about 1.25 x the\n"
	    "                     lifetime + 5 s; the server must honour RESPONSE-PORT)\n"
	    "  --pair a.json b.json\n"
	    "                     read two saved --json results: can the two hosts\n"
	    "                     connect directly over UDP, and how\n"
	    "  --rfc3489-timing   retransmit on RFC 3489's schedule (9.5 s per negative)\n"
	    "  --serve primary[,alternate]\n"
	    "                     run the dual-address STUN server instead\n"
	    "  -p port            server: primary port (default 3478)\n"
	    "  --alt-port port    server: alternate port (default 3479)\n"
	    "  --help, --version  print this help or the version\n"
	    "\n"
	    "Without a server, natcheck asks %s.\n"
	    "Exit status: 0 open, 10 full cone, 11 restricted cone, 12 port restricted\n"
	    "cone, 13 symmetric, 14 symmetric UDP firewall, 15 UDP blocked, 16 could not\n"
	    "determine, 1 error, 2 usage error.  With --pair: 0 direct, 20 direct only\n"
	    "with port prediction, 21 relay needed, 22 cannot tell.  See natcheck(1).\n",
	    DEFAULT_SERVER);
}

/* A usage error: exactly one line naming it, exit 2. */
_Noreturn static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see natcheck --help)\n", stderr);
	exit(NAT_EXIT_USAGE);
}

/* -t: seconds as a decimal number, 0 < t <= MAX_TIMEOUT_S, to milliseconds. */
static uint32_t
parse_timeout(const char *s)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(t))
		usage_error("-t: '%s' is not a number of seconds", s);
	if (t < 0.05 || t > MAX_TIMEOUT_S)
		usage_error("-t: %s seconds is out of range (0.05 to %d)", s, MAX_TIMEOUT_S);
	return (uint32_t)(t * 1000.0 + 0.5);
}

/* --lifetime=MAX: whole seconds, MIN_LIFETIME_S..MAX_LIFETIME_S, to ms. */
static uint32_t
parse_lifetime(const char *s)
{
	char *end;
	long t;

	errno = 0;
	t = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0)
		usage_error("--lifetime: '%s' is not a whole number of seconds", s);
	if (t < MIN_LIFETIME_S || t > MAX_LIFETIME_S)
		usage_error("--lifetime: %s seconds is out of range (%d to %d)", s,
		    MIN_LIFETIME_S, MAX_LIFETIME_S);
	return (uint32_t)t * 1000u;
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

/* An IPv4 or IPv6 literal, not a name. */
static int
is_ip_literal(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1;
}

/* "A1" or "A1,A2" into the server's endpoints; exits on error. */
static void
serve_config(const char *spec, uint16_t port, uint16_t alt_port, struct server_cfg *cfg)
{
	char first[256], err[NET_ERRLEN];
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
	if (!is_ip_literal(first) || net_resolve(first, port, AF_UNSPEC, &a1, err) == -1)
		usage_error("--serve: '%s' is not an IP address", first);
	memset(cfg, 0, sizeof(*cfg));
	cfg->software = "natcheck " NATCHECK_VERSION;
	cfg->ep[0] = a1;
	cfg->ep[2] = a1;
	cfg->ep[2].port = alt_port;
	if (comma) {
		if (!is_ip_literal(comma + 1) ||
		    net_resolve(comma + 1, port, AF_UNSPEC, &a2, err) == -1)
			usage_error("--serve: '%s' is not an IP address", comma + 1);
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

struct opts {
	struct loop_opts lo;
	int json, quiet, serve, family4, family6, timeout_set;
	const char *serve_spec;
	int port_set, alt_port_set;
	uint16_t port, alt_port;
	int lifetime;               /* --lifetime */
	uint32_t lifetime_max_ms;
	const char *pair[2];        /* --pair a.json b.json */
};

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

static void
parse_args(int argc, char **argv, struct opts *o)
{
	int i, only_operands = 0;
	const char *v;

	memset(o, 0, sizeof(*o));
	o->port = DEFAULT_PORT;
	o->alt_port = DEFAULT_ALT_PORT;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (only_operands || a[0] != '-' || a[1] == '\0') {
			if (o->lo.nservers == LOOP_MAX_SERVERS)
				usage_error("at most %d servers", LOOP_MAX_SERVERS);
			o->lo.servers[o->lo.nservers++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_operands = 1;
			continue;
		}
		if (a[1] == '-') {
			if (long_opt(a, "--help", &v) && v == NULL) {
				help_text(stdout);
				exit(0);
			} else if (long_opt(a, "--version", &v) && v == NULL) {
				printf("natcheck %s\n", NATCHECK_VERSION);
				exit(0);
			} else if (long_opt(a, "--json", &v) && v == NULL) {
				o->json = 1;
			} else if (long_opt(a, "--rfc3489-timing", &v) && v == NULL) {
				o->lo.rfc3489_timing = 1;
			} else if (long_opt(a, "--lifetime", &v)) {
				o->lifetime = 1;
				o->lifetime_max_ms = v == NULL ? LT_DEFAULT_MAX_MS : parse_lifetime(v);
			} else if (long_opt(a, "--pair", &v)) {
				o->pair[0] = opt_arg("--pair", v, &i, argc, argv);
				if (i + 1 >= argc)
					usage_error("--pair needs two files");
				o->pair[1] = argv[++i];
			} else if (long_opt(a, "--serve", &v)) {
				o->serve = 1;
				o->serve_spec = opt_arg("--serve", v, &i, argc, argv);
			} else if (long_opt(a, "--alt-port", &v)) {
				o->alt_port = parse_port_opt("--alt-port",
				    opt_arg("--alt-port", v, &i, argc, argv));
				o->alt_port_set = 1;
			} else {
				usage_error("unknown option %s", a);
			}
			continue;
		}
		/* Bundled short options; one taking an argument ends the word. */
		for (const char *c = a + 1; *c != '\0'; c++) {
			const char *rest = c + 1;

			switch (*c) {
			case '4': o->family4 = 1; continue;
			case '6': o->family6 = 1; continue;
			case 'q': o->quiet = 1; continue;
			case 'v': o->lo.verbose = 1; continue;
			case 'h':
				help_text(stdout);
				exit(0);
			case 'b':
				o->lo.bind = opt_arg("-b", rest, &i, argc, argv);
				break;
			case 't':
				o->lo.timeout_ms = parse_timeout(opt_arg("-t", rest, &i, argc, argv));
				o->timeout_set = 1;
				break;
			case 'p':
				o->port = parse_port_opt("-p", opt_arg("-p", rest, &i, argc, argv));
				o->port_set = 1;
				break;
			default:
				usage_error("unknown option -%c", *c);
			}
			break;
		}
	}

	/* Conflicts, one rule per line. */
	if (o->family4 && o->family6)
		usage_error("-4 and -6 exclude each other");
	if (o->json && o->quiet)
		usage_error("--json and -q exclude each other");
	if (o->lifetime && o->quiet)
		usage_error("--lifetime and -q exclude each other (-q prints only the type)");
	if (o->pair[0] != NULL) {
		if (o->serve || o->lo.nservers > 0 || o->quiet || o->lo.bind || o->timeout_set ||
		    o->lo.rfc3489_timing || o->family4 || o->family6 || o->lifetime ||
		    o->port_set || o->alt_port_set)
			usage_error("--pair takes only -v and --json");
		return;
	}
	if (o->serve) {
		if (o->lo.nservers > 0)
			usage_error("--serve takes no server operands");
		if (o->json || o->quiet || o->lo.bind || o->timeout_set ||
		    o->lo.rfc3489_timing || o->family4 || o->family6 || o->lifetime)
			usage_error("--serve takes only -v, -p and --alt-port");
		if (o->port == o->alt_port)
			usage_error("-p and --alt-port must differ (both %u)", o->port);
	} else if (o->port_set || o->alt_port_set) {
		usage_error("-p and --alt-port go with --serve; give the server as host:port");
	}
	/* Server operands must at least be well formed; resolving comes later. */
	for (size_t k = 0; k < o->lo.nservers; k++) {
		char host[256], err[NET_ERRLEN];
		uint16_t port = DEFAULT_PORT;

		if (net_split_hostport(o->lo.servers[k], host, sizeof(host), &port, err) == -1)
			usage_error("server '%s': %s", o->lo.servers[k], err);
	}
	o->lo.family = o->family4 ? AF_INET : o->family6 ? AF_INET6 : AF_UNSPEC;
	if (!o->timeout_set)
		o->lo.timeout_ms = o->lo.rfc3489_timing ? DEFAULT_RFC_TIMEOUT_MS : DEFAULT_TIMEOUT_MS;
	if (!o->serve && o->lo.nservers == 0)
		o->lo.servers[o->lo.nservers++] = DEFAULT_SERVER;
}

static int
serve(const struct opts *o)
{
	struct server_cfg cfg;
	char err[NET_ERRLEN];

	serve_config(o->serve_spec, o->port, o->alt_port, &cfg);
	if (server_run(&cfg, o->lo.verbose, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", progname, err);
		return NAT_EXIT_ERROR;
	}
	return 0;
}

/* --lifetime after the detection, against the primary server; what it
 * could not do becomes a warning. */
static int
lifetime(const struct opts *o, const struct probe *p, struct nat_verdict *v,
         struct lifetime_result *r)
{
	char err[NET_ERRLEN];
	const struct stun_addr *server = v->has_server ? &v->server : &p->cfg.servers[0];

	if (v->type == NAT_UDP_BLOCKED) {
		nat_warn(v, "lifetime not measured: UDP is blocked");
		return 0;
	}
	if (lifeloop_run(server, o->lifetime_max_ms, o->lo.verbose, r, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", progname, err);
		return -1;
	}
	if (r->unsupported)
		nat_warn(v, "lifetime not measured: the server does not honour RESPONSE-PORT "
		    "(RFC 5780 section 7.5)");
	else if (!r->measured)
		nat_warn(v, "lifetime not measured: no binding could be made or checked");
	else if (r->conflicts > 0)
		nat_warn(v, "lifetime: %u checks contradicted others (loss, or a NAT whose "
		    "timeout varies); the bracket keeps the answers that arrived", r->conflicts);
	return 0;
}

static int
detect(const struct opts *o)
{
	static struct probe p;
	static struct nat_verdict v;
	static struct traversal t;
	struct lifetime_result lr;
	struct ports_sample samples[PORTS_MAX_SAMPLES];
	struct stun_addr dst;
	size_t ns;
	char err[NET_ERRLEN];

	if (loop_detect(&o->lo, &p, &v, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", progname, err);
		return NAT_EXIT_ERROR;
	}
	/* Port allocation: the run's own mappings, and when they cannot tell,
	 * a few more in one round trip. */
	ns = ports_samples(&p, samples, PORTS_MAX_SAMPLES);
	if (traversal_more_ports(&p, &v, samples, ns, &dst) &&
	    portsloop_run(&dst, p.have_rtt ? p.rtt_max_ms : 0, o->lo.verbose, samples, &ns,
	    PORTS_MAX_SAMPLES, err, sizeof(err)) == -1)
		nat_warn(&v, "no extra port samples: %s", err);
	memset(&lr, 0, sizeof(lr));
	if (o->lifetime && lifetime(o, &p, &v, &lr) == -1)
		return NAT_EXIT_ERROR;
	traversal_build(&v, samples, ns, o->lifetime ? &lr : NULL, &t);
	report_warnings(stderr, &v);
	if (o->json) {
		report_json_ext(stdout, &p, &v, traversal_json, &t);
	} else if (o->quiet) {
		report_quiet(stdout, &v);
	} else {
		report_text(stdout, &p, &v);
		traversal_text(stdout, &t);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: writing the result: %s\n", progname, strerror(errno));
		return NAT_EXIT_ERROR;
	}
	return nat_exit_code(v.type);
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

static int
pair(const struct opts *o)
{
	struct forecast_host a, b;
	struct forecast_pair r;

	if (read_result(o->pair[0], &a) == -1 || read_result(o->pair[1], &b) == -1)
		return NAT_EXIT_ERROR;
	forecast_pair(&a, &b, &r);
	if (o->json)
		traversal_pair_json(stdout, &a, &b, &r);
	else
		traversal_pair_text(stdout, &a, &b, &r);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: writing the result: %s\n", progname, strerror(errno));
		return NAT_EXIT_ERROR;
	}
	return forecast_exit_code(r.path);
}

int
main(int argc, char **argv)
{
	struct opts o;

	parse_args(argc, argv, &o);
	if (o.pair[0] != NULL)
		return pair(&o);
	return o.serve ? serve(&o) : detect(&o);
}
