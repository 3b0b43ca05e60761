/*
 * tcpreport.c - the TCP verdict as text lines, as the "tcp" JSON member,
 * and as warnings (see tcpreport.h).  Decides nothing.
 */
#include <stdio.h>

#include "addr.h"
#include "report.h"
#include "tcpreport.h"

const char *
tcpreport_warning_text(const struct tcpprobe_warning *w, char *buf, size_t cap)
{
	const char *name = tcpprobe_kind_name(w->conn);

	switch (w->code) {
	case TCPPROBE_W_TEST:
		snprintf(buf, cap, "TCP: the %s test ended %s, so its verdict is unknown",
		    name, tcpprobe_result_name(w->result));
		break;
	case TCPPROBE_W_NO_ALTERNATE:
		snprintf(buf, cap, "TCP: the server's answer over TCP gave no usable alternate "
		    "address (%s): TCP mapping unknown", tcpprobe_addr_word(w->addr));
		break;
	case TCPPROBE_W_PORT_NOT_KEPT:
		snprintf(buf, cap, "TCP: the mapping connections did not all leave from one "
		    "local port: TCP mapping unknown");
		break;
	case TCPPROBE_W_INCONSISTENT:
		snprintf(buf, cap, "TCP: the mapping was kept towards the alternate IP but not "
		    "towards its alternate port: TCP mapping unknown");
		break;
	case TCPPROBE_W_ALT_MISMATCH:
		snprintf(buf, cap, "TCP: the server's answer over TCP names another alternate "
		    "address than its answer over UDP, to which the alternate connections went: "
		    "TCP mapping unknown");
		break;
	case TCPPROBE_W_BAD_MAPPED:
		snprintf(buf, cap, "TCP: the %s test's mapped address is not usable (%s): "
		    "TCP hairpinning unknown", name, tcpprobe_addr_word(w->addr));
		break;
	case TCPPROBE_W_NO_LISTENER:
		snprintf(buf, cap, "TCP: no listening socket could be opened: "
		    "TCP hairpinning unknown");
		break;
	default:
		snprintf(buf, cap, "TCP: unknown finding");
		break;
	}
	return buf;
}

void
tcpreport_warnings(FILE *out, const struct tcpprobe_verdict *v)
{
	char text[REPORT_FINDING_LEN];

	for (size_t i = 0; i < v->nwarn; i++)
		fprintf(out, "natcheck: warning: %s\n",
		    tcpreport_warning_text(&v->warn[i], text, sizeof(text)));
}

void
tcpreport_text(FILE *out, const struct tcpprobe *t, const struct tcpprobe_verdict *v)
{
	char a[ADDR_STRLEN];

	fprintf(out, "%-13s%s, to %s\n", "TCP", tcpprobe_status_word(v->status),
	    addr_fmt(&t->cfg.server, a, sizeof(a)));
	fprintf(out, "%-13s%s\n", "TCP mapping", nat_behavior_word(v->mapping));
	fprintf(out, "%-13s%s\n", "TCP hairpin", v->nat == 0 ? "not applicable (no NAT)"
	    : v->hairpinning == 1 ? "yes" : v->hairpinning == 0 ? "no" : "unknown");
	fprintf(out, "%-13s%s\n", "TCP mapped",
	    v->has_mapped ? addr_fmt(&v->mapped, a, sizeof(a)) : "unknown");
}

/* ,"key":address-or-null */
static void
json_addr(FILE *out, const char *key, int has, const struct stun_addr *a)
{
	fputc(',', out);
	report_json_addr(out, key, has, a);
}

void
tcpreport_json(FILE *out, const struct tcpprobe *t, const struct tcpprobe_verdict *v)
{
	char text[REPORT_FINDING_LEN];

	if (t == NULL || v == NULL) {
		fputs("null", out);
		return;
	}
	fputs("{\"status\":", out);
	report_json_string(out, tcpprobe_status_word(v->status));
	fputs(",\"mapping\":", out);
	report_json_string(out, nat_behavior_word(v->mapping));
	fprintf(out, ",\"hairpinning\":%s,\"nat\":%s", v->hairpinning == 1 ? "true"
	    : v->hairpinning == 0 ? "false" : "null",
	    v->nat == 1 ? "true" : v->nat == 0 ? "false" : "null");
	json_addr(out, "mapped", v->has_mapped, &v->mapped);
	fputs(",\"tests\":[", out);
	for (int i = 0; i < TCPPROBE_NCONN; i++) {
		const struct tcpprobe_conn *c = &t->c[i];
		int ran = c->result != TCPPROBE_NOT_RUN;

		if (i > 0)
			fputc(',', out);
		fputs("{\"test\":", out);
		report_json_string(out, tcpprobe_kind_name(i));
		fputs(",\"result\":", out);
		report_json_string(out, tcpprobe_result_name(c->result));
		json_addr(out, "destination", ran, &c->dst);
		json_addr(out, "local", c->has_local, &c->local);
		json_addr(out, "mapped", c->has_mapped, &c->mapped);
		json_addr(out, "other", c->has_other, &c->other);
		fputs(",\"connect_ms\":", out);
		if (c->connected_ms >= c->started_ms && c->has_local)
			fprintf(out, "%llu", (unsigned long long)(c->connected_ms - c->started_ms));
		else
			fputs("null", out);
		fprintf(out, ",\"attempts\":%zu", c->ntries);
		if (i == TCPPROBE_HAIR) {
			/* Made to the UDP answer's IP before hairpin-binding
			 * answered; counted in attempts when confirmed. */
			fprintf(out, ",\"speculative\":%zu,\"guess\":", t->nspec);
			if (t->spec == TCPPROBE_SPEC_NONE)
				fputs("null", out);
			else
				report_json_string(out, tcpprobe_spec_word(t->spec));
		}
		fputc('}', out);
	}
	fputs("],\"warnings\":[", out);
	for (size_t i = 0; i < v->nwarn; i++) {
		if (i > 0)
			fputc(',', out);
		report_json_string(out, tcpreport_warning_text(&v->warn[i], text, sizeof(text)));
	}
	fprintf(out, "],\"elapsed_ms\":%llu}", (unsigned long long)(t->end_ms >= t->start_ms
	    ? t->end_ms - t->start_ms : 0));
}
