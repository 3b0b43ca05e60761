/*
 * report.c - print a verdict for a person, for a script, or as one word.
 *
 * Nothing here decides anything; it only renders what nat_classify() and
 * the probe run recorded.  The JSON keys are a stable interface documented
 * in natcheck.1 (OUTPUT): add keys, never rename or drop them.
 */
#include <stdio.h>

#include "addr.h"
#include "report.h"

static uint64_t
elapsed_ms(const struct probe *p)
{
	return p->end_ms >= p->start_ms ? p->end_ms - p->start_ms : 0;
}

static const char *
yes_no_unknown(int v)
{
	return v == 1 ? "yes" : v == 0 ? "no" : "unknown";
}

static void
text_addr(FILE *out, const char *label, int has, const struct stun_addr *a)
{
	char buf[ADDR_STRLEN];

	fprintf(out, "%-13s%s\n", label, has ? addr_fmt(a, buf, sizeof(buf)) : "unknown");
}

void
report_text(FILE *out, const struct probe *p, const struct nat_verdict *v)
{
	char buf[ADDR_STRLEN];

	fprintf(out, "%-13s%s\n", "NAT type", nat_type_name(v->type));
	fprintf(out, "%-13s%s\n", "Mapping", nat_behavior_word(v->mapping));
	fprintf(out, "%-13s%s\n", "Filtering", nat_behavior_word(v->filtering));
	fprintf(out, "%-13s%s\n", "Hairpinning",
	    v->nat == 0 ? "not applicable (no NAT)" : yes_no_unknown(v->hairpinning));
	text_addr(out, "Local", v->has_local, &v->local);
	text_addr(out, "Mapped", v->has_mapped, &v->mapped);
	fprintf(out, "%-13s%s", "Server", v->has_server ? addr_fmt(&v->server, buf, sizeof(buf)) : "unknown");
	if (v->has_alternate)
		fprintf(out, " (alternate %s)", addr_fmt(&v->alternate, buf, sizeof(buf)));
	fputc('\n', out);
	fprintf(out, "%-13s%llu ms, %u datagrams sent", "Time",
	    (unsigned long long)elapsed_ms(p), p->stats.sent);
	if (v->loss > 0)
		fprintf(out, ", %.0f%% of exchanges lost", v->loss * 100.0);
	else if (v->loss == 0)
		fprintf(out, ", no loss seen");
	fputc('\n', out);
}

void
report_quiet(FILE *out, const struct nat_verdict *v)
{
	fprintf(out, "%s\n", nat_type_word(v->type));
}

void
report_warnings(FILE *out, const struct nat_verdict *v)
{
	for (size_t i = 0; i < v->nwarnings; i++)
		fprintf(out, "natcheck: warning: %s\n", v->warnings[i]);
}

void
report_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", out);
		else if (*c < 0x20 || *c >= 0x7f)
			fprintf(out, "\\u%04x", *c);  /* our text is ASCII; never emit broken UTF-8 */
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

static void
json_addr(FILE *out, const char *key, int has, const struct stun_addr *a)
{
	char buf[ADDR_STRLEN];

	fprintf(out, "\"%s\":", key);
	if (has)
		report_json_string(out, addr_fmt(a, buf, sizeof(buf)));
	else
		fputs("null", out);
}

static void
json_test(FILE *out, const struct probe *p, const struct probe_test *t)
{
	char buf[ADDR_STRLEN];

	fputs("{\"name\":", out);
	report_json_string(out, probe_kind_name(t->kind));
	fputs(",\"result\":", out);
	report_json_string(out, probe_result_name(t->result));
	fputs(",\"server\":", out);
	report_json_string(out, addr_fmt(&p->cfg.servers[t->server], buf, sizeof(buf)));
	fputc(',', out);
	json_addr(out, "destination", t->result != PROBE_NOT_RUN, &t->dst);
	fprintf(out, ",\"change_request\":%s", t->change == 0 ? "null" : "");
	if (t->change != 0)
		report_json_string(out, t->change == (STUN_CHANGE_IP | STUN_CHANGE_PORT) ? "ip+port" :
		    t->change == STUN_CHANGE_IP ? "ip" : "port");
	fputs(",\"rtt_ms\":", out);
	if (t->result == PROBE_ANSWERED)
		fprintf(out, "%u", (unsigned)t->rtt_ms);
	else
		fputs("null", out);
	fprintf(out, ",\"sent\":%zu,\"retransmissions\":%zu,", t->nsent, t->nsent ? t->nsent - 1 : 0);
	json_addr(out, "mapped", t->result == PROBE_ANSWERED && t->has_mapped, &t->mapped);
	fputc(',', out);
	json_addr(out, "from", t->result == PROBE_ANSWERED, &t->from);
	fprintf(out, ",\"wrong_source\":%u,\"error_code\":", t->wrong_source);
	if (t->errors > 0)
		fprintf(out, "%d", t->error_code);
	else
		fputs("null", out);
	fputc('}', out);
}

void
report_json(FILE *out, const struct probe *p, const struct nat_verdict *v)
{
	report_json_ext(out, p, v, NULL, NULL);
}

void
report_json_ext(FILE *out, const struct probe *p, const struct nat_verdict *v,
                void (*extra)(FILE *out, const void *ctx), const void *ctx)
{
	fputs("{\"type\":", out);
	report_json_string(out, nat_type_word(v->type));
	fputs(",\"name\":", out);
	report_json_string(out, nat_type_name(v->type));
	fputs(",\"nat\":", out);
	fputs(v->nat == 1 ? "true" : v->nat == 0 ? "false" : "null", out);
	fputs(",\"mapping\":", out);
	report_json_string(out, nat_behavior_word(v->mapping));
	fputs(",\"filtering\":", out);
	report_json_string(out, nat_behavior_word(v->filtering));
	fputs(",\"hairpinning\":", out);
	fputs(v->hairpinning == 1 ? "true" : v->hairpinning == 0 ? "false" : "null", out);
	fputc(',', out);
	json_addr(out, "local", v->has_local, &v->local);
	fputc(',', out);
	json_addr(out, "mapped", v->has_mapped, &v->mapped);
	fputc(',', out);
	json_addr(out, "server", v->has_server, &v->server);
	fputc(',', out);
	json_addr(out, "alternate", v->has_alternate, &v->alternate);
	fputs(",\"tests\":[", out);
	for (size_t i = 0, n = 0; i < p->ntests; i++) {
		if (n++ > 0)
			fputc(',', out);
		json_test(out, p, &p->tests[i]);
	}
	fprintf(out, "],\"elapsed_ms\":%llu,\"datagrams_sent\":%u,\"datagrams_received\":%u",
	    (unsigned long long)elapsed_ms(p), p->stats.sent, p->stats.received);
	fputs(",\"loss\":", out);
	if (v->loss >= 0)
		fprintf(out, "%.3f", v->loss);
	else
		fputs("null", out);
	fprintf(out, ",\"ignored\":{\"malformed\":%u,\"stray\":%u,\"duplicate\":%u,\"late\":%u,"
	    "\"wrong_source\":%u}", p->stats.malformed, p->stats.stray, p->stats.duplicates,
	    p->stats.late, p->stats.wrong_source);
	fputs(",\"warnings\":[", out);
	for (size_t i = 0; i < v->nwarnings; i++) {
		if (i > 0)
			fputc(',', out);
		report_json_string(out, v->warnings[i]);
	}
	fputc(']', out);
	if (extra != NULL)
		extra(out, ctx);
	fputs("}\n", out);
}
