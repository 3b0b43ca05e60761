/*
 * monitor.c - render a run for monitoring systems: the JSON envelope and
 * the --watch line, the Prometheus text exposition, and the Monitoring
 * Plugins status line.
 *
 * Nothing here decides anything about the NAT: the verdict is
 * nat_classify()'s and the exit status main()'s.  The only judgement made
 * here is the plugin state, which is a pure function of the verdict and
 * the types the user said to expect.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "monitor.h"
#include "report.h"

const char *const monitor_key_names[MONITOR_NKEYS + 1] = {
	"type", "mapping", "filtering", "hairpinning", "mapped", NULL
};

/* Every type and behaviour, in the order the one-hot gauges list them. */
static const enum nat_type all_types[] = {
	NAT_OPEN, NAT_FULL_CONE, NAT_RESTRICTED_CONE, NAT_PORT_RESTRICTED_CONE,
	NAT_SYMMETRIC, NAT_SYMMETRIC_FIREWALL, NAT_UDP_BLOCKED, NAT_UNKNOWN
};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

static const enum nat_behavior all_behaviors[] = {
	NAT_BEH_ENDPOINT_INDEPENDENT, NAT_BEH_ADDRESS_DEPENDENT,
	NAT_BEH_ADDRESS_PORT_DEPENDENT, NAT_BEH_UNKNOWN
};
#define NBEHAVIORS (sizeof(all_behaviors) / sizeof(all_behaviors[0]))

static const char *
hairpin_word(int h)
{
	return h == 1 ? "true" : h == 0 ? "false" : "null";
}

static const char *const fam_prefix[REPORT_NFAM] = { "ipv4.", "ipv6." };

/* Family f's verdict when the run tested it (report.h: tested means p and
 * v are set), else NULL. */
static const struct nat_verdict *
fam_verdict(const struct monitor_run *r, int f)
{
	return r->ran && r->has_fam && r->fam[f].tested ? r->fam[f].v : NULL;
}

static void
values_of(const struct nat_verdict *v, struct monitor_values *o)
{
	o->val[0] = nat_type_word(v->type);
	o->val[1] = nat_behavior_word(v->mapping);
	o->val[2] = nat_behavior_word(v->filtering);
	o->val[3] = hairpin_word(v->hairpinning);
	/* The IP only: every run has fresh ports, so the mapped port differs
	 * each time on almost every NAT; a new public address is news. */
	if (v->has_mapped)
		addr_fmt_ip(&v->mapped, o->mapped, sizeof(o->mapped));
}

void
monitor_state_of(const struct monitor_run *r, struct monitor_state *s)
{
	memset(s, 0, sizeof(*s));
	s->valid = 1;
	if (!r->ran)
		return;
	values_of(r->v, &s->top);
	for (int f = 0; f < REPORT_NFAM; f++)
		if (fam_verdict(r, f) != NULL)
			values_of(fam_verdict(r, f), &s->fam[f]);
}

/* Two words, either of which may be NULL (no verdict). */
static int
word_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* The keys of a and b that differ, as bits 0..MONITOR_NKEYS-1. */
static unsigned
values_differ(const struct monitor_values *a, const struct monitor_values *b)
{
	unsigned m = 0;

	for (int i = 0; i < MONITOR_NKEYS - 1; i++)
		if (word_differs(a->val[i], b->val[i]))
			m |= 1u << i;
	if (strcmp(a->mapped, b->mapped) != 0)
		m |= 1u << (MONITOR_NKEYS - 1);
	return m;
}

unsigned
monitor_changes(const struct monitor_state *prev, const struct monitor_state *cur)
{
	unsigned m;

	if (!prev->valid || !cur->valid)
		return 0;
	m = values_differ(&prev->top, &cur->top);
	for (int f = 0; f < REPORT_NFAM; f++)
		m |= values_differ(&prev->fam[f], &cur->fam[f]) * MONITOR_FAM_BIT(f, 0);
	return m;
}

void
monitor_time(int64_t s, uint32_t ms, char *buf, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

/* The changed keys' names, comma-separated, each within quote: the
 * top-level ones, then IPv4's and IPv6's with their prefix. */
static void
changed_list(FILE *out, unsigned changed, const char *quote)
{
	const char *sep = "";

	for (int g = 0; g <= REPORT_NFAM; g++)
		for (int i = 0; i < MONITOR_NKEYS; i++)
			if (changed & (1u << (MONITOR_NKEYS * g + i))) {
				fprintf(out, "%s%s%s%s%s", sep, quote, g == 0 ? "" : fam_prefix[g - 1],
				    monitor_key_names[i], quote);
				sep = ",";
			}
}

void
monitor_json_head(FILE *out, const struct monitor_run *r, int watching, unsigned changed)
{
	char t[MONITOR_TIMELEN];

	monitor_time(r->start_s, r->start_ms, t, sizeof(t));
	fprintf(out, "\"schema\":%d,\"time\":\"%s\",\"exit\":%d", MONITOR_SCHEMA, t, r->exit);
	if (watching) {
		fputs(",\"changed\":[", out);
		changed_list(out, changed, "\"");
		fputc(']', out);
	}
	if (r->error[0] != '\0') {
		fputs(",\"error\":", out);
		report_json_string(out, r->error);
	}
}

void
monitor_json_error(FILE *out, const struct monitor_run *r, int watching, unsigned changed)
{
	fputc('{', out);
	monitor_json_head(out, r, watching, changed);
	fputs("}\n", out);
}

void
monitor_text_line(FILE *out, const struct monitor_run *r, unsigned changed)
{
	char t[MONITOR_TIMELEN], buf[ADDR_STRLEN];

	monitor_time(r->start_s, r->start_ms, t, sizeof(t));
	fputs(t, out);
	if (r->ran) {
		const struct nat_verdict *v = r->v;

		/* Hairpinning as the text report words it: without a NAT it is
		 * not applicable, not unknown (JSON's null covers both; its
		 * "nat" tells them apart). */
		fprintf(out, " %s mapping=%s filtering=%s hairpinning=%s mapped=%s",
		    nat_type_word(v->type), nat_behavior_word(v->mapping),
		    nat_behavior_word(v->filtering),
		    v->hairpinning == 1 ? "yes" : v->hairpinning == 0 ? "no" :
		    v->nat == 0 ? "not-applicable" : "unknown",
		    v->has_mapped ? addr_fmt(&v->mapped, buf, sizeof(buf)) : "unknown");
		/* The other family, asked for: its type, or why it was not
		 * tested (its full verdict is in the JSON). */
		for (int f = 0; r->has_fam && f < REPORT_NFAM; f++)
			if (f != r->primary && r->fam[f].asked)
				fprintf(out, " %.4s=%s", fam_prefix[f], fam_verdict(r, f) != NULL ?
				    nat_type_word(fam_verdict(r, f)->type) :
				    r->fam[f].why != NULL ? r->fam[f].why : "not-tested");
	} else {
		fputs(" error", out);
	}
	fprintf(out, " elapsed=%.3fs exit=%d", r->elapsed_s, r->exit);
	if (changed != 0) {
		fputs(" changed=", out);
		changed_list(out, changed, "");
	}
	if (r->error[0] != '\0')
		fprintf(out, " error: %s", r->error);
	fputc('\n', out);
}

/* ---------------------------------------------------------------- Prometheus */

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void
prom_head(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* name{server="..."[,family="..."][,label="value"]}: fam (the family's
 * JSON key, "ipv4" or "ipv6") and label may be NULL. */
static void
prom_sample(FILE *out, const struct monitor_run *r, const char *name, const char *fam,
            const char *label, const char *value)
{
	fprintf(out, "%s{server=", name);
	prom_label(out, r->server);
	if (fam != NULL) {
		fputs(",family=", out);
		prom_label(out, fam);
	}
	if (label != NULL) {
		fprintf(out, ",%s=", label);
		prom_label(out, value);
	}
	fputs("} ", out);
}

/* A plain gauge with `decimals` decimals; only its HELP and TYPE when
 * the value is not known (absent, rather than a number that lies). */
static void
prom_value(FILE *out, const struct monitor_run *r, const char *name, const char *help,
           int present, double value, int decimals)
{
	prom_head(out, name, help);
	if (!present)
		return;
	prom_sample(out, r, name, NULL, NULL, NULL);
	fprintf(out, "%.*f\n", decimals, value);
}

/* Whose verdict a group of samples gives: the top level (fam NULL: no
 * family label) or one address family; v NULL when there is none. */
struct prom_of {
	const char *fam;
	const struct nat_verdict *v;
	const struct probe *p;
};

/* The type as a one-hot gauge over n subjects; all 0 for one without a
 * verdict. */
static void
prom_types(FILE *out, const struct monitor_run *r, const char *name, const char *help,
           const struct prom_of *s, size_t n)
{
	prom_head(out, name, help);
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < NTYPES; i++) {
			prom_sample(out, r, name, s[k].fam, "type", nat_type_word(all_types[i]));
			fprintf(out, "%d\n", s[k].v != NULL && s[k].v->type == all_types[i]);
		}
}

/* The mapping (filtering = 0) or filtering behaviour, one-hot likewise. */
static void
prom_behavior(FILE *out, const struct monitor_run *r, const char *name, const char *help,
              const struct prom_of *s, size_t n, int filtering)
{
	prom_head(out, name, help);
	for (size_t k = 0; k < n; k++) {
		const struct nat_verdict *v = s[k].v;
		enum nat_behavior b = v == NULL ? NAT_BEH_UNKNOWN :
		    filtering ? v->filtering : v->mapping;

		for (size_t i = 0; i < NBEHAVIORS; i++) {
			prom_sample(out, r, name, s[k].fam, "behaviour",
			    nat_behavior_word(all_behaviors[i]));
			fprintf(out, "%d\n", v != NULL && b == all_behaviors[i]);
		}
	}
}

/* The numbers of a verdict, a gauge per subject that has the number. */
enum prom_number { PROM_HAIRPINNING, PROM_LOSS, PROM_ELAPSED };

static void
prom_numbers(FILE *out, const struct monitor_run *r, const char *name, const char *help,
             const struct prom_of *s, size_t n, enum prom_number what)
{
	prom_head(out, name, help);
	for (size_t k = 0; k < n; k++) {
		const struct nat_verdict *v = s[k].v;

		if (v == NULL)
			continue;
		switch (what) {
		case PROM_HAIRPINNING:
			if (v->hairpinning < 0)
				continue;
			prom_sample(out, r, name, s[k].fam, NULL, NULL);
			fprintf(out, "%d\n", v->hairpinning);
			break;
		case PROM_LOSS:
			if (v->loss < 0)
				continue;
			prom_sample(out, r, name, s[k].fam, NULL, NULL);
			fprintf(out, "%.3f\n", v->loss);
			break;
		case PROM_ELAPSED:
			prom_sample(out, r, name, s[k].fam, NULL, NULL);
			fprintf(out, "%.3f\n", (double)report_elapsed_ms(s[k].p) / 1000.0);
			break;
		}
	}
}

/*
 * Each address family's verdict, labelled family="ipv4" / "ipv6" (the
 * JSON's keys): new series beside the top-level ones, which describe the
 * top-level family alone and stay as they were.  A family has a verdict
 * when it was tested and its server could be reached; without one, its
 * natcheck_family_tested is 0, its one-hot gauges all 0 and its numbers
 * absent.
 */
static void
prom_families(FILE *out, const struct monitor_run *r)
{
	static const char *const words[REPORT_NFAM] = { "ipv4", "ipv6" };
	struct prom_of s[REPORT_NFAM];

	for (size_t k = 0; k < REPORT_NFAM; k++) {
		const struct nat_verdict *v = fam_verdict(r, (int)k);
		int have = v != NULL && r->fam[k].p != NULL && !v->unreachable;

		s[k].fam = words[k];
		s[k].v = have ? v : NULL;
		s[k].p = have ? r->fam[k].p : NULL;
	}
	prom_head(out, "natcheck_family_tested",
	    "1 when the last run has a verdict for this address family; 0 when the family was "
	    "not asked for, could not be tested or its server was unreachable.");
	for (size_t k = 0; k < REPORT_NFAM; k++) {
		prom_sample(out, r, "natcheck_family_tested", s[k].fam, NULL, NULL);
		fprintf(out, "%d\n", s[k].v != NULL);
	}
	prom_types(out, r, "natcheck_family_nat_type",
	    "NAT type of the last run per address family (RFC 3489 name), one-hot; "
	    "all 0 for a family without a verdict.", s, REPORT_NFAM);
	prom_behavior(out, r, "natcheck_family_mapping",
	    "NAT mapping behaviour per address family (RFC 5780 4.3), one-hot.", s, REPORT_NFAM, 0);
	prom_behavior(out, r, "natcheck_family_filtering",
	    "NAT filtering behaviour per address family (RFC 5780 4.4), one-hot.", s, REPORT_NFAM, 1);
	prom_numbers(out, r, "natcheck_family_hairpinning",
	    "1 when the family's NAT hairpins, 0 when it does not; absent when unknown or not "
	    "applicable.", s, REPORT_NFAM, PROM_HAIRPINNING);
	prom_numbers(out, r, "natcheck_family_loss_ratio",
	    "Fraction of the family's request/response exchanges lost; absent when unknown.",
	    s, REPORT_NFAM, PROM_LOSS);
	prom_numbers(out, r, "natcheck_family_elapsed_seconds",
	    "How long the family's tests took, first request to verdict.", s, REPORT_NFAM,
	    PROM_ELAPSED);
}

void
monitor_prom(FILE *out, const struct monitor_run *r)
{
	/* A run that could not test (exit status 1: it could not start, or no
	 * server was there to answer) has no type: every state gauge is 0, and
	 * natcheck_server_up says why. */
	struct prom_of top = { NULL, r->ran && r->exit != 1 ? r->v : NULL, r->p };

	prom_types(out, r, "natcheck_nat_type",
	    "NAT type of the last run (RFC 3489 name), one-hot; all 0 when the run failed.",
	    &top, 1);
	prom_behavior(out, r, "natcheck_mapping",
	    "NAT mapping behaviour of the last run (RFC 5780 4.3), one-hot.", &top, 1, 0);
	prom_behavior(out, r, "natcheck_filtering",
	    "NAT filtering behaviour of the last run (RFC 5780 4.4), one-hot.", &top, 1, 1);
	prom_numbers(out, r, "natcheck_hairpinning",
	    "1 when the NAT hairpins, 0 when it does not; absent when unknown or not applicable.",
	    &top, 1, PROM_HAIRPINNING);
	prom_value(out, r, "natcheck_server_up",
	    "1 when the last run tested (a verdict), 0 when it failed (exit status 1).",
	    1, r->ran && r->exit != 1, 0);
	prom_value(out, r, "natcheck_elapsed_seconds", "How long the last run took.",
	    1, r->elapsed_s, 3);
	prom_numbers(out, r, "natcheck_loss_ratio",
	    "Fraction of request/response exchanges lost in the last run; absent when unknown.",
	    &top, 1, PROM_LOSS);
	prom_families(out, r);
	prom_value(out, r, "natcheck_last_run_timestamp_seconds",
	    "When the last run started, in Unix seconds.",
	    1, (double)r->start_s + (double)(r->start_ms % 1000) / 1000.0, 3);
}

/* ---------------------------------------------------------------- Nagios */

/* Are a and b the same words, letters in any case, spaces, hyphens and
 * underscores left out ("Full-Cone", "full cone", "FULL_CONE")? */
static int
same_type_words(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ' || *a == '-' || *a == '_')
			a++;
		while (*b == ' ' || *b == '-' || *b == '_')
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
}

int
monitor_type_of_word(const char *word, enum nat_type *t)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (same_type_words(word, nat_type_word(all_types[i])) ||
		    same_type_words(word, nat_type_name(all_types[i]))) {
			*t = all_types[i];
			return 0;
		}
	return -1;
}

/* The verdict scope f speaks of (-1 the top level), or NULL when it has
 * none a plugin could judge. */
static const struct nat_verdict *
scope_verdict(const struct monitor_run *r, int f)
{
	const struct nat_verdict *v;

	if (f >= 0) {
		v = fam_verdict(r, f);
		if (v != NULL && v->unreachable)
			v = NULL;
	} else {
		v = r->ran && r->exit != 1 ? r->v : NULL;
	}
	return v != NULL && v->type != NAT_UNKNOWN ? v : NULL;
}

enum monitor_state_code
monitor_nagios_state(const struct monitor_run *r, const struct monitor_expect *expect,
                     size_t nexpect)
{
	int unknown = 0, critical = 0;

	for (int f = -1; f < REPORT_NFAM; f++) {
		const struct nat_verdict *v = scope_verdict(r, f);
		int asked = 0, ok = 0;

		for (size_t i = 0; i < nexpect; i++)
			if (expect[i].family == f) {
				asked = 1;
				ok |= v != NULL && expect[i].type == v->type;
			}
		if (!asked)
			continue;
		if (v == NULL)
			unknown = 1;
		else if (!ok)
			critical = 1;
	}
	return critical ? MONITOR_CRITICAL : unknown ? MONITOR_UNKNOWN : MONITOR_OK;
}

/* Does any --expect word speak of family f? */
static int
expects_family(const struct monitor_expect *expect, size_t nexpect, int f)
{
	for (size_t i = 0; i < nexpect; i++)
		if (expect[i].family == f)
			return 1;
	return 0;
}

/* Plugin text: a '|' would start the performance data, a newline end the
 * status line. */
static void
nagios_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++)
		fputc(*s == '|' ? '/' : *s == '\n' ? ' ' : *s, out);
}

void
monitor_nagios(FILE *out, const struct monitor_run *r, enum monitor_state_code st,
               const struct monitor_expect *expect, size_t nexpect)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	const struct nat_verdict *v = r->ran ? r->v : NULL;

	fprintf(out, "NATCHECK %s - ", names[st]);
	if (r->error[0] != '\0') {
		nagios_text(out, r->error);
		/* An error beside a verdict (the metrics file could not be
		 * written): the status line is all a plugin's caller shows. */
		if (v != NULL && v->type != NAT_UNKNOWN && !v->unreachable)
			fprintf(out, "; the type was %s", nat_type_word(v->type));
	} else if (v == NULL)
		fputs("no result", out);
	else if (v->type == NAT_UNKNOWN)
		fputs("the NAT type could not be determined", out);
	else
		fputs(nat_type_word(v->type), out);
	if (v != NULL && v->nfindings > 0 && r->error[0] == '\0' && v->type == NAT_UNKNOWN) {
		char why[REPORT_FINDING_LEN];

		fputs(": ", out);
		nagios_text(out, report_finding_text(&v->findings[0], why, sizeof(why)));
	}
	/* Each family a word speaks of: its type, or why there is none. */
	for (int f = 0; f < REPORT_NFAM; f++) {
		const struct nat_verdict *fv = scope_verdict(r, f);

		if (!expects_family(expect, nexpect, f))
			continue;
		fprintf(out, ", %.4s ", fam_prefix[f]);
		if (fv != NULL)
			fputs(nat_type_word(fv->type), out);
		else if (fam_verdict(r, f) != NULL)
			fputs("could not be determined", out);
		else
			fputs("not tested", out);
	}
	fputs(" (expected ", out);
	for (size_t i = 0; i < nexpect; i++)
		fprintf(out, "%s%s%s", i ? "," : "",
		    expect[i].family < 0 ? "" : expect[i].family == 0 ? "ipv4:" : "ipv6:",
		    nat_type_word(expect[i].type));
	fputs(", server ", out);
	nagios_text(out, r->server);
	fprintf(out, ") | elapsed=%.3fs;;;0; loss=", r->elapsed_s);
	if (v != NULL && v->loss >= 0)
		fprintf(out, "%.3f;;;0;1", v->loss);
	else
		fputs("U;;;0;1", out);
	for (int f = 0; f < REPORT_NFAM; f++) {
		const struct nat_verdict *fv = fam_verdict(r, f);

		if (!expects_family(expect, nexpect, f))
			continue;
		fprintf(out, " %.4s_loss=", fam_prefix[f]);
		if (fv != NULL && fv->loss >= 0)
			fprintf(out, "%.3f;;;0;1", fv->loss);
		else
			fputs("U;;;0;1", out);
	}
	fputc('\n', out);
}
