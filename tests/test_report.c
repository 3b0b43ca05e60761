/*
 * test_report.c - the renderers: the JSON is valid JSON (checked by a small
 * strict parser here, not by eye), every documented key is present for
 * verdicts of every shape (null cases included), strings are escaped, the
 * text lines are the documented ones, and every finding code has a word, a
 * sentence and an entry in the manual.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat.h"
#include "natsim.h"
#include "probe.h"
#include "report.h"

static struct natsim sim;
static struct probe pr;
static struct probe_config cfg;
static struct nat_verdict v;

/* ------------------------------------------------ a strict JSON parser */

/*
 * RFC 8259, strictly: no trailing commas, no leading zeros, no raw control
 * characters in strings, only the defined escapes, \u with four hex digits.
 * It records the path of every object key ("tests[].name") so the tests
 * can ask which keys were there.
 */
#define MAX_PATHS 256
#define PATH_LEN  96

struct jp {
	const char *s;
	size_t   pos, len;
	int      depth;
	char     err[128];
	size_t   npaths;
	char     paths[MAX_PATHS][PATH_LEN];
};

static int value(struct jp *j, const char *path);

static int
fail(struct jp *j, const char *what)
{
	if (j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "%s at byte %zu", what, j->pos);
	return -1;
}

static void
ws(struct jp *j)
{
	while (j->pos < j->len && strchr(" \t\r\n", j->s[j->pos]) != NULL)
		j->pos++;
}

static int
lit(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, w, n) != 0)
		return fail(j, "bad literal");
	j->pos += n;
	return 0;
}

/* A string; its unescaped ASCII form into out (for keys), if out. */
static int
string(struct jp *j, char *out, size_t cap)
{
	size_t o = 0;

	if (j->pos >= j->len || j->s[j->pos] != '"')
		return fail(j, "expected a string");
	j->pos++;
	for (;;) {
		unsigned char c;

		if (j->pos >= j->len)
			return fail(j, "unterminated string");
		c = (unsigned char)j->s[j->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(j, "raw control character in a string");
		if (c == '\\') {
			if (j->pos >= j->len)
				return fail(j, "unterminated escape");
			c = (unsigned char)j->s[j->pos++];
			if (c == 'u') {
				for (int i = 0; i < 4; i++, j->pos++)
					if (j->pos >= j->len || strchr("0123456789abcdefABCDEF",
					    j->s[j->pos]) == NULL || j->s[j->pos] == '\0')
						return fail(j, "bad \\u escape");
				c = '?';
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
				return fail(j, "bad escape");
			}
		}
		if (out != NULL && o + 1 < cap)
			out[o++] = (char)c;
	}
	if (out != NULL)
		out[o] = '\0';
	return 0;
}

static int
number(struct jp *j)
{
	size_t start = j->pos;

	if (j->pos < j->len && j->s[j->pos] == '-')
		j->pos++;
	if (j->pos >= j->len || j->s[j->pos] < '0' || j->s[j->pos] > '9')
		return fail(j, "bad number");
	if (j->s[j->pos] == '0' && j->pos + 1 < j->len && j->s[j->pos + 1] >= '0' &&
	    j->s[j->pos + 1] <= '9')
		return fail(j, "leading zero");
	while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
		j->pos++;
	if (j->pos < j->len && j->s[j->pos] == '.') {
		j->pos++;
		if (j->pos >= j->len || j->s[j->pos] < '0' || j->s[j->pos] > '9')
			return fail(j, "bad fraction");
		while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
			j->pos++;
	}
	return j->pos > start ? 0 : fail(j, "bad number");
}

static void
note_path(struct jp *j, const char *path)
{
	for (size_t i = 0; i < j->npaths; i++)
		if (strcmp(j->paths[i], path) == 0)
			return;
	if (j->npaths < MAX_PATHS)
		snprintf(j->paths[j->npaths++], PATH_LEN, "%s", path);
}

static int
object(struct jp *j, const char *path)
{
	char key[64], sub[PATH_LEN];

	j->pos++;
	ws(j);
	if (j->pos < j->len && j->s[j->pos] == '}') {
		j->pos++;
		return 0;
	}
	for (;;) {
		ws(j);
		if (string(j, key, sizeof(key)) == -1)
			return -1;
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		note_path(j, sub);
		ws(j);
		if (j->pos >= j->len || j->s[j->pos++] != ':')
			return fail(j, "expected ':'");
		if (value(j, sub) == -1)
			return -1;
		ws(j);
		if (j->pos < j->len && j->s[j->pos] == ',') {
			j->pos++;
			continue;
		}
		if (j->pos < j->len && j->s[j->pos] == '}') {
			j->pos++;
			return 0;
		}
		return fail(j, "expected ',' or '}'");
	}
}

static int
array(struct jp *j, const char *path)
{
	char sub[PATH_LEN];

	snprintf(sub, sizeof(sub), "%s[]", path);
	j->pos++;
	ws(j);
	if (j->pos < j->len && j->s[j->pos] == ']') {
		j->pos++;
		return 0;
	}
	for (;;) {
		if (value(j, sub) == -1)
			return -1;
		ws(j);
		if (j->pos < j->len && j->s[j->pos] == ',') {
			j->pos++;
			continue;
		}
		if (j->pos < j->len && j->s[j->pos] == ']') {
			j->pos++;
			return 0;
		}
		return fail(j, "expected ',' or ']'");
	}
}

static int
value(struct jp *j, const char *path)
{
	int r;

	ws(j);
	if (j->pos >= j->len)
		return fail(j, "expected a value");
	if (++j->depth > 32)
		return fail(j, "too deep");
	switch (j->s[j->pos]) {
	case '{': r = object(j, path); break;
	case '[': r = array(j, path); break;
	case '"': r = string(j, NULL, 0); break;
	case 't': r = lit(j, "true"); break;
	case 'f': r = lit(j, "false"); break;
	case 'n': r = lit(j, "null"); break;
	default:  r = number(j); break;
	}
	j->depth--;
	return r;
}

/* Parse exactly one JSON value followed by one newline. */
static int
parse(struct jp *j, const char *s, size_t len)
{
	memset(j, 0, sizeof(*j));
	j->s = s;
	j->len = len;
	if (value(j, "") == -1)
		return -1;
	if (j->pos + 1 != len || s[j->pos] != '\n')
		return fail(j, "not exactly one value and a newline");
	return 0;
}

static int
has_path(const struct jp *j, const char *path)
{
	for (size_t i = 0; i < j->npaths; i++)
		if (strcmp(j->paths[i], path) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------ helpers */

static char *out;
static size_t outlen;

/* Render with fn into `out` (a fresh buffer each time). */
#define RENDER(call) do { \
	FILE *f_; \
	free(out); \
	out = NULL; \
	f_ = open_memstream(&out, &outlen); \
	cr_assert_not_null(f_); \
	call; \
	cr_assert_eq(fclose(f_), 0); \
} while (0)

static void
run_sim(void)
{
	natsim_run(&sim, &cfg, &pr);
	cr_assert(pr.done);
	nat_classify(&pr, &v);
}

static struct jp jp;

static void
expect_valid_json(void)
{
	RENDER(report_json(f_, &pr, &v, NULL));
	if (parse(&jp, out, outlen) == -1)
		cr_assert_fail("invalid JSON: %s\n%s", jp.err, out);
	for (size_t i = 0; i < outlen; i++)
		cr_assert(out[i] == '\n' ? i == outlen - 1 : out[i] >= 0x20 && out[i] < 0x7f,
		    "byte %zu is 0x%02x: output must be printable ASCII", i, (unsigned char)out[i]);
}

/* The keys natcheck.1 OUTPUT promises, at every verdict. */
static const char *const top_keys[] = {
	"type", "name", "nat", "unreachable", "mapping", "filtering", "hairpinning", "local",
	"mapped", "server", "alternate", "tests", "elapsed_ms", "datagrams_sent",
	"datagrams_received", "loss", "ignored", "ignored.malformed", "ignored.stray",
	"ignored.duplicate", "ignored.late", "ignored.wrong_source", "ignored.echoed",
	"ignored.unmatched", "ignored.indications", "ignored.wrong_socket", "servers", "warnings",
	"findings",
};
static const char *const test_keys[] = {
	"name", "result", "server", "destination", "change_request", "rtt_ms", "sent",
	"retransmissions", "mapped", "from", "wrong_source", "error_code",
};

static void
expect_all_keys(void)
{
	char path[PATH_LEN];

	for (size_t i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
		cr_expect(has_path(&jp, top_keys[i]), "key %s missing", top_keys[i]);
	if (pr.ntests == 0)
		return;
	for (size_t i = 0; i < sizeof(test_keys) / sizeof(test_keys[0]); i++) {
		snprintf(path, sizeof(path), "tests[].%s", test_keys[i]);
		cr_expect(has_path(&jp, path), "key %s missing", path);
	}
	if (v.nfindings > 0) {
		cr_expect(has_path(&jp, "findings[].code"));
		cr_expect(has_path(&jp, "findings[].message"));
	}
}

/* ------------------------------------------------ JSON */

Test(report, json_valid_with_every_key_for_several_verdicts)
{
	static const struct {
		enum natsim_mode mode;
		enum natsim_personality pers;
		enum nat_type type;
		const char *null_key;       /* a key that must be null, or NULL */
	} c[] = {
		{ NATSIM_NAT, NATSIM_SRV_NORMAL, NAT_PORT_RESTRICTED_CONE, NULL },
		{ NATSIM_OPEN, NATSIM_SRV_NORMAL, NAT_OPEN, "\"hairpinning\":null" },
		{ NATSIM_BLOCKED, NATSIM_SRV_NORMAL, NAT_UDP_BLOCKED, "\"mapped\":null" },
		{ NATSIM_NAT, NATSIM_SRV_GARBAGE, NAT_UNKNOWN, "\"alternate\":null" },
		{ NATSIM_NAT, NATSIM_SRV_NO_ALT, NAT_UNKNOWN, "\"alternate\":null" },
		{ NATSIM_NAT, NATSIM_SRV_CLOSED, NAT_UNKNOWN, "\"unreachable\":true" },
		{ NATSIM_NAT, NATSIM_SRV_ECHO, NAT_UNKNOWN, "\"loss\":null" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		natsim_init(&sim, NATSIM_EI, NATSIM_APD, 0, 90 + i);
		sim.mode = c[i].mode;
		sim.personality = c[i].pers;
		natsim_config(&sim, &cfg);
		cfg.timeout_ms = 1500;
		run_sim();
		cr_expect_eq(v.type, c[i].type, "case %zu: %s", i, nat_type_word(v.type));
		expect_valid_json();
		expect_all_keys();
		if (c[i].null_key != NULL)
			cr_expect_not_null(strstr(out, c[i].null_key), "case %zu: %s in %s", i,
			    c[i].null_key, out);
		/* warnings[] and findings[] carry the same messages, in order. */
		for (size_t k = 0; k < v.nfindings; k++) {
			char text[REPORT_FINDING_LEN], want[REPORT_FINDING_LEN + 32];

			report_finding_text(&v.findings[k], text, sizeof(text));
			snprintf(want, sizeof(want), "\"message\":\"%s\"", text);
			cr_expect_not_null(strstr(out, want), "case %zu: %s", i, want);
		}
	}
}

Test(report, json_with_no_server_and_no_tests)
{
	memset(&pr, 0, sizeof(pr));
	pr.primary = -1;
	nat_classify(&pr, &v);
	expect_valid_json();
	expect_all_keys();
	cr_expect_not_null(strstr(out, "\"tests\":[]"));
	cr_expect_not_null(strstr(out, "\"server\":null"));
	cr_expect_not_null(strstr(out, "\"findings\":[{\"code\":\"no-server\""));
}

Test(report, json_string_escaping)
{
	static const struct {
		const char *in, *want;
	} c[] = {
		{ "plain", "\"plain\"" },
		{ "", "\"\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "line\nnext", "\"line\\nnext\"" },
		{ "tab\there", "\"tab\\u0009here\"" },
		{ "\x01\x1f", "\"\\u0001\\u001f\"" },
		{ "del\x7f", "\"del\\u007f\"" },
		{ "caf\xc3\xa9", "\"caf\\u00c3\\u00a9\"" },
		{ "\xff", "\"\\u00ff\"" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		RENDER((report_json_string(f_, c[i].in), fputc('\n', f_)));
		cr_expect_eq(outlen, strlen(c[i].want) + 1, "case %zu: %s", i, out);
		cr_expect_eq(strncmp(out, c[i].want, strlen(c[i].want)), 0, "case %zu: %s", i, out);
		cr_expect_eq(parse(&jp, out, outlen), 0, "case %zu: %s: %s", i, jp.err, out);
	}
}

Test(report, the_parser_is_strict)
{
	/* A checker that accepts everything proves nothing. */
	static const char *const bad[] = {
		"{\"a\":1,}\n", "[1,]\n", "{\"a\" 1}\n", "\"raw\ttab\"\n", "\"bad \\x\"\n",
		"\"\\u12\"\n", "01\n", "tru\n", "{\"a\":1}", "{\"a\":1}\n\n", "[1] [2]\n", "\"open\n",
		"-\n", "1.\n",
	};
	static const char *const good[] = {
		"{}\n", "[]\n", "{\"a\":[1,-2,3.5,true,false,null,\"x\\u00e9\\n\"]}\n", "0\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse(&jp, bad[i], strlen(bad[i])), -1, "accepted %s", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect_eq(parse(&jp, good[i], strlen(good[i])), 0, "rejected %s: %s", good[i],
		    jp.err);
}

/* ------------------------------------------------ findings */

/* One finding of every code, every slot filled. */
static void
every_code(enum nat_code from, enum nat_code to)
{
	memset(&v, 0, sizeof(v));
	v.nat = -1;
	v.hairpinning = -1;
	v.loss = -1;
	for (int c = from; c < (int)to; c++) {
		struct nat_finding *f = nat_add(&v, (enum nat_code)c);

		cr_assert_not_null(f);
		for (int i = 0; i < NAT_FINDING_ADDRS; i++)
			f->addr[i] = natsim_addr("203.0.113.1", (uint16_t)(3478 + i));
		for (int i = 0; i < NAT_FINDING_COUNTS; i++)
			f->count[i] = (unsigned)(i + 1);
		f->test[0] = PROBE_FILTER_IP_PORT;
		f->test[1] = PROBE_FILTER_PORT;
		f->result[0] = PROBE_NO_ANSWER;
		f->result[1] = PROBE_ANSWERED;
		f->tests = (1u << PROBE_BINDING) | (1u << PROBE_HAIR_TO_MAP);
		f->value = c == NAT_F_CHANGE_ERROR ? 420 : 1;
	}
}

Test(report, every_code_has_a_word_a_sentence_and_valid_json)
{
	char text[REPORT_FINDING_LEN], fallback[32];

	memset(&pr, 0, sizeof(pr));
	for (int c = 0; c < NAT_F_COUNT; c++) {
		const char *w = report_code_word((enum nat_code)c);
		struct nat_finding f;

		cr_expect_str_neq(w, "unknown", "code %d has no word", c);
		cr_expect_eq(strspn(w, "abcdefghijklmnopqrstuvwxyz-"), strlen(w), "%s", w);
		for (int d = 0; d < c; d++)
			cr_expect_str_neq(w, report_code_word((enum nat_code)d), "%s twice", w);
		memset(&f, 0, sizeof(f));
		f.code = (enum nat_code)c;
		report_finding_text(&f, text, sizeof(text));
		snprintf(fallback, sizeof(fallback), "finding %d", c);
		cr_expect_str_neq(text, fallback, "code %s has no sentence", w);
		cr_expect_gt(strlen(text), 10);
	}
	cr_expect_str_eq(report_code_word(NAT_F_COUNT), "unknown");

	/* All of them in one report (in two, NAT_MAX_FINDINGS at a time). */
	for (int half = 0; half < 2; half++) {
		every_code(half ? NAT_F_COUNT / 2 : 0, half ? NAT_F_COUNT : NAT_F_COUNT / 2);
		expect_valid_json();
		cr_expect(has_path(&jp, "findings[].code"));
	}
	cr_expect(has_path(&jp, "findings[].tests"));
	cr_expect(has_path(&jp, "findings[].address"));
	cr_expect(has_path(&jp, "findings[].count"));
}

Test(report, sentences_carry_the_data)
{
	char text[REPORT_FINDING_LEN];
	struct nat_finding f;

	memset(&f, 0, sizeof(f));
	f.code = NAT_F_NO_STUN_SERVER;
	f.addr[0] = natsim_addr("203.0.113.7", 3478);
	cr_expect_str_eq(report_finding_text(&f, text, sizeof(text)),
	    "no STUN server at 203.0.113.7:3478 (port unreachable)");
	f.code = NAT_F_PINNED_PORT;
	f.value = 4242;
	cr_expect_str_eq(report_finding_text(&f, text, sizeof(text)),
	    "local port 4242 pinned with -b: NAT state left by earlier traffic from this port "
	    "can change the result");
	f.code = NAT_F_NO_VALID_ANSWER;
	f.count[0] = 5;
	f.count[1] = 3;
	f.count[3] = 2;
	cr_expect_str_eq(report_finding_text(&f, text, sizeof(text)),
	    "5 datagrams came back, none a valid answer: 3 echoes of our own requests, "
	    "2 indications");
	f.code = NAT_F_TIMEOUT;
	f.tests = (1u << PROBE_FILTER_IP_PORT) | (1u << PROBE_BINDING);
	cr_expect_str_eq(report_finding_text(&f, text, sizeof(text)),
	    "-t reached before these tests were decided: binding, filter-change-ip-port");
	/* A small buffer cuts, never overflows. */
	cr_expect_eq(strlen(report_finding_text(&f, text, 8)), 7);
}

Test(report, every_code_is_in_the_manual)
{
	FILE *man = fopen("man/natcheck.1", "r");
	char line[512], want[96];
	static char seen[NAT_F_COUNT];

	cr_assert_not_null(man, "run from the source tree");
	while (fgets(line, sizeof(line), man) != NULL)
		for (int c = 0; c < NAT_F_COUNT; c++) {
			size_t n = (size_t)snprintf(want, sizeof(want), ".It Li %s",
			    report_code_word((enum nat_code)c));

			if (strncmp(line, want, n) == 0 && (line[n] == '\n' || line[n] == ' '))
				seen[c] = 1;
		}
	fclose(man);
	for (int c = 0; c < NAT_F_COUNT; c++)
		cr_expect(seen[c], "%s is not in natcheck.1, FINDINGS",
		    report_code_word((enum nat_code)c));
}

/* ------------------------------------------------ text, quiet, warnings */

Test(report, text_lines)
{
	static const char *const want[] = {
		"NAT type     Port Restricted Cone",
		"Mapping      endpoint-independent",
		"Filtering    address-and-port-dependent",
		"Hairpinning  yes",
		"Local        192.0.2.10:40001",
		"Mapped       198.51.100.1:50000",
		"Server       203.0.113.1:3478 (alternate 203.0.113.2:3479)",
		"Time         ",
	};
	char *line, *save = NULL;
	size_t n = 0;

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 1, 95);
	natsim_config(&sim, &cfg);
	run_sim();
	RENDER(report_text(f_, &pr, &v, NULL));
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		cr_assert_lt(n, sizeof(want) / sizeof(want[0]), "extra line %s", line);
		cr_expect_eq(strncmp(line, want[n], strlen(want[n])), 0, "line %zu: '%s'", n, line);
		n++;
	}
	cr_expect_eq(n, sizeof(want) / sizeof(want[0]));

	RENDER(report_quiet(f_, &v));
	cr_expect_str_eq(out, "port-restricted-cone\n");

	/* Without a NAT, and for the unknowns. */
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 96);
	sim.mode = NATSIM_BLOCKED;
	natsim_config(&sim, &cfg);
	cfg.timeout_ms = 500;
	run_sim();
	RENDER(report_text(f_, &pr, &v, NULL));
	cr_expect_not_null(strstr(out, "NAT type     UDP Blocked\n"));
	cr_expect_not_null(strstr(out, "Mapped       unknown\n"));
	cr_expect_not_null(strstr(out, "Hairpinning  unknown\n"));
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 97);
	sim.mode = NATSIM_OPEN;
	natsim_config(&sim, &cfg);
	run_sim();
	RENDER(report_text(f_, &pr, &v, NULL));
	cr_expect_not_null(strstr(out, "Hairpinning  not applicable (no NAT)\n"));
	cr_expect_not_null(strstr(out, "no loss seen\n"));
}

Test(report, warnings_one_line_per_finding)
{
	size_t lines = 0;

	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 98);
	sim.personality = NATSIM_SRV_PRIMARY_ONLY;
	natsim_config(&sim, &cfg);
	cfg.pinned_port = 1;
	run_sim();
	cr_assert_gt(v.nfindings, 2);
	RENDER(report_warnings(f_, &v));
	for (char *p = out; *p != '\0'; p = strchr(p, '\n') + 1) {
		cr_assert_eq(strncmp(p, "natcheck: warning: ", 19), 0, "%s", p);
		cr_assert_not_null(strchr(p, '\n'));
		lines++;
	}
	cr_expect_eq(lines, v.nfindings);
	cr_expect_not_null(strstr(out, "natcheck: warning: local port 40001 pinned with -b"));
	free(out);
	out = NULL;
}

/* Alternates that never answer: the mapping tests' requests to them went
 * unanswered, which no NAT explains.  The Time line says how many, never
 * "no loss seen" beside the warnings that name them. */
Test(report, unanswered_plain_requests_are_not_no_loss)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 1, 95);
	sim.personality = NATSIM_SRV_PRIMARY_ONLY;
	natsim_config(&sim, &cfg);
	run_sim();
	cr_assert_eq(v.loss, 0.0);
	RENDER(report_text(f_, &pr, &v, NULL));
	cr_expect_null(strstr(out, "no loss seen"), "%s", out);
	{
		char want[80];

		snprintf(want, sizeof(want), ", %u of %u plain requests unanswered\n",
		    v.plain_unanswered, v.plain_sent);
		cr_expect_not_null(strstr(out, want), "%s", out);
		cr_expect_gt(v.plain_unanswered, 0);
	}
}

/* A closed port: the run's error line names it (natcheck.c), so the
 * warnings beside it leave it out; alone, the warnings give it. */
Test(report, warnings_beside_the_error_do_not_repeat_it)
{
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 97);
	sim.personality = NATSIM_SRV_CLOSED;
	natsim_config(&sim, &cfg);
	cfg.pinned_port = 1;            /* and a finding that is no error's */
	run_sim();
	cr_assert(v.unreachable);
	RENDER(report_warnings_tagged(f_, "", &v));
	cr_expect_not_null(strstr(out, "no STUN server at 203.0.113.1:3478 (port unreachable)"),
	    "%s", out);
	RENDER(report_warnings_beside_error(f_, "", &v));
	cr_expect_null(strstr(out, "no STUN server"), "%s", out);
	cr_expect_not_null(strstr(out, "natcheck: warning: local port 40001 pinned with -b"),
	    "%s", out);
	/* A family whose server answered keeps every warning. */
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 98);
	sim.personality = NATSIM_SRV_PRIMARY_ONLY;
	natsim_config(&sim, &cfg);
	run_sim();
	cr_assert(!v.unreachable);
	RENDER(report_warnings_beside_error(f_, "", &v));
	{
		char *all = strdup(out);

		RENDER(report_warnings_tagged(f_, "", &v));
		cr_expect_str_eq(all, out);
		free(all);
	}
}

Test(report, untrusted_servers_in_text_and_json)
{
	/* A server that names a false RESPONSE-ORIGIN: one "Untrusted" line in
	 * the text, and its entry in the JSON "servers" array says why. */
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 140);
	sim.personality = NATSIM_SRV_FAKE_ORIGIN;
	sim.fake_origin = natsim_addr("203.0.113.99", 3478);
	natsim_config(&sim, &cfg);
	run_sim();
	RENDER(report_text(f_, &pr, &v, NULL));
	cr_expect_not_null(strstr(out, "\nUntrusted    203.0.113.1:3478: RESPONSE-ORIGIN is not "
	    "where its answers came from\n"), "%s", out);
	expect_valid_json();
	cr_expect_not_null(strstr(out, "\"servers\":[{\"address\":\"203.0.113.1:3478\",\"rfc\":5780,"
	    "\"change_request\":true,\"trusted\":false,\"problems\":[\"response-origin-mismatch\"]}]"),
	    "%s", out);

	/* An honest one: no such line. */
	natsim_init(&sim, NATSIM_EI, NATSIM_EI, 0, 141);
	natsim_config(&sim, &cfg);
	run_sim();
	RENDER(report_text(f_, &pr, &v, NULL));
	cr_expect_null(strstr(out, "Untrusted"), "%s", out);
}

/* Issue #11: the families' objects and blocks. */
Test(report, families_json_and_text)
{
	struct report_family fam[REPORT_NFAM];
	static const char head4[] = ",\"ipv4\":{\"tested\":true,\"reason\":null,"
	    "\"message\":null,\"type\":\"port-restricted-cone\",";

	natsim_init(&sim, NATSIM_EI, NATSIM_APD, 1, 99);
	natsim_config(&sim, &cfg);
	run_sim();
	memset(fam, 0, sizeof(fam));
	fam[0].tested = 1;
	fam[0].asked = 1;
	fam[0].p = &pr;
	fam[0].v = &v;
	fam[1].asked = 1;
	fam[1].why = "no-route";
	fam[1].reason = "no route to [2001:db8::1]:3478: Network is unreachable";

	RENDER(report_json_families(f_, fam));
	cr_expect_eq(strncmp(out, head4, strlen(head4)), 0, "%s", out);
	cr_expect_not_null(strstr(out, ",\"ipv6\":{\"tested\":false,\"reason\":\"no-route\","
	    "\"message\":\"no route to [2001:db8::1]:3478: Network is unreachable\"}"), "%s", out);
	cr_expect_null(strstr(out, "\"portmap\""));

	/* One family tested: its block as before, then the other's line. */
	RENDER(report_text_families(f_, fam, 0, NULL, NULL, NULL));
	cr_expect_eq(strncmp(out, "NAT type     Port Restricted Cone\n", 34), 0, "%s", out);
	cr_expect_not_null(strstr(out, "\nIPv6         not tested: no route to [2001:db8::1]:3478"));
	cr_expect_null(strstr(out, "IPv4"));

	/* Left out on purpose (-4): no line at all. */
	fam[1].asked = 0;
	fam[1].why = "not-asked";
	RENDER(report_text_families(f_, fam, 0, NULL, NULL, NULL));
	cr_expect_null(strstr(out, "IPv6"), "%s", out);

	/* Both tested: a titled block each, the top-level family first. */
	fam[1] = fam[0];
	RENDER(report_text_families(f_, fam, 1, NULL, NULL, NULL));
	cr_expect_eq(strncmp(out, "IPv6\nNAT type     ", 18), 0, "%s", out);
	cr_expect_not_null(strstr(out, "\n\nIPv4\nNAT type     "), "%s", out);

	RENDER(report_warnings_tagged(f_, "IPv6: ", &v));
	for (char *p = out; *p != '\0'; p = strchr(p, '\n') + 1)
		cr_assert_eq(strncmp(p, "natcheck: warning: IPv6: ", 25), 0, "%s", p);
}
