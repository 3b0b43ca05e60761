/*
 * traversal.c - render port allocation, lifetime and forecast (see
 * traversal.h).  The JSON keys are a stable interface (natcheck.1, OUTPUT).
 */
#include <stdio.h>
#include <string.h>

#include "monitor.h"
#include "report.h"
#include "traversal.h"

void
traversal_build(const struct nat_verdict *v, struct ports_sample *s, size_t n,
                const struct lifetime_result *lt, struct traversal *t)
{
	struct forecast_host self;

	ports_analyze(s, n, &t->ports);
	forecast_host_from(v, &t->ports, &self);
	forecast_classes(&self, t->classes);
	t->has_lifetime = lt != NULL && lt->measured;
	t->no_keepalive = 0;
	if (t->has_lifetime) {
		t->lifetime = *lt;
		if (v->nat == 0 && !lt->expired) {
			t->no_keepalive = 1;
			t->lifetime.keepalive_ms = 0;
		}
	}
}

int
traversal_more_ports(const struct probe *p, const struct nat_verdict *v,
                     const struct ports_sample *s, size_t n, struct stun_addr *dst)
{
	struct ports_sample copy[PORTS_MAX_SAMPLES];
	struct ports_result r;

	if (v->nat != 1 || n == 0 || n > PORTS_MAX_SAMPLES)
		return 0;
	memcpy(copy, s, n * sizeof(*s));
	ports_analyze(copy, n, &r);
	if (r.allocation != PORTS_UNKNOWN)
		return 0;
	if (v->has_alternate)
		*dst = v->alternate;
	else if (v->has_server)
		*dst = v->server;
	else
		*dst = p->cfg.servers[0];
	return 1;
}

static const char *
tri(int v, const char *yes, const char *no)
{
	return v == 1 ? yes : v == 0 ? no : "unknown";
}

static double
secs(uint32_t ms)
{
	return ms / 1000.0;
}

/* One line naming the peer classes whose forecast is `path`, if any. */
static void
text_forecast_line(FILE *out, const char *label, const struct traversal *t,
                   enum forecast_path path)
{
	int n = 0;

	for (size_t i = 0; i < FORECAST_NCLASSES; i++) {
		if (t->classes[i].pair.path != path)
			continue;
		if (n++ == 0)
			fprintf(out, "%-13s", label);
		else
			fputs(", ", out);
		fputs(t->classes[i].name, out);
	}
	if (n > 0)
		fputc('\n', out);
}

void
traversal_text(FILE *out, const void *ctx)
{
	const struct traversal *t = ctx;
	const struct ports_result *r = &t->ports;

	fprintf(out, "%-13s%s", "Ports", ports_alloc_word(r->allocation));
	if (r->has_delta)
		fprintf(out, ", %+d per new mapping", r->delta);
	fprintf(out, " (kept %s, parity %s, %zu mapping%s", tri(r->preservation, "yes", "no"),
	    tri(r->parity, "kept", "changed"), r->samples, r->samples == 1 ? "" : "s");
	if (r->samples > 1)
		fprintf(out, ", ports %u..%u", (unsigned)r->min_port, (unsigned)r->max_port);
	fputs(")\n", out);
	text_forecast_line(out, "Direct to", t, FORECAST_DIRECT);
	text_forecast_line(out, "Predict for", t, FORECAST_DIRECT_PREDICT);
	text_forecast_line(out, "Relay for", t, FORECAST_RELAY);
	text_forecast_line(out, "Unknown for", t, FORECAST_UNKNOWN);
	if (t->has_lifetime) {
		const struct lifetime_result *l = &t->lifetime;

		if (l->expired)
			fprintf(out, "%-13salive at %.1f s, expired by %.1f s", "Lifetime",
			    secs(l->alive_ms), secs(l->expired_ms));
		else
			fprintf(out, "%-13sat least %.1f s (alive at %.1f s)", "Lifetime",
			    secs(l->max_ms), secs(l->alive_ms));
		if (l->keepalive_ms > 0)
			fprintf(out, "; keepalive every %.1f s", secs(l->keepalive_ms));
		else if (t->no_keepalive)
			fputs("; no keepalive needed (no NAT, nothing expired)", out);
		fprintf(out, "; refresh %s\n", lifetime_refresh_word(l->refresh));
	}
}

static void
json_tri(FILE *out, int v)
{
	fputs(v == 1 ? "true" : v == 0 ? "false" : "null", out);
}

static const char *
first_self(enum forecast_first f)
{
	switch (f) {
	case FORECAST_FIRST_BOTH: return "both";
	case FORECAST_FIRST_A:    return "self";
	case FORECAST_FIRST_B:    return "peer";
	case FORECAST_FIRST_NONE: break;
	}
	return "none";
}

static void
json_names(FILE *out, const char *key, const struct traversal *t, enum forecast_path path)
{
	int n = 0;

	fprintf(out, ",\"%s\":[", key);
	for (size_t i = 0; i < FORECAST_NCLASSES; i++)
		if (t->classes[i].pair.path == path) {
			if (n++)
				fputc(',', out);
			report_json_string(out, t->classes[i].name);
		}
	fputc(']', out);
}

void
traversal_json(FILE *out, const void *ctx)
{
	const struct traversal *t = ctx;
	const struct ports_result *r = &t->ports;

	fputs(",\"lifetime\":", out);
	if (t->has_lifetime) {
		const struct lifetime_result *l = &t->lifetime;

		fprintf(out, "{\"alive_s\":%.1f,\"expired_s\":", secs(l->alive_ms));
		if (l->expired)
			fprintf(out, "%.1f", secs(l->expired_ms));
		else
			fputs("null", out);
		fprintf(out, ",\"max_s\":%.1f,\"keepalive_s\":", secs(l->max_ms));
		if (l->keepalive_ms > 0)
			fprintf(out, "%.1f", secs(l->keepalive_ms));
		else
			fputs("null", out);
		fputs(",\"refresh\":", out);
		report_json_string(out, lifetime_refresh_word(l->refresh));
		fprintf(out, ",\"checks\":%u,\"conflicts\":%u}", l->checks, l->conflicts);
	} else {
		fputs("null", out);
	}
	fputs(",\"ports\":{\"preservation\":", out);
	json_tri(out, r->preservation);
	fputs(",\"parity\":", out);
	json_tri(out, r->parity);
	fputs(",\"allocation\":", out);
	report_json_string(out, ports_alloc_word(r->allocation));
	fputs(",\"delta\":", out);
	if (r->has_delta)
		fprintf(out, "%d", r->delta);
	else
		fputs("null", out);
	fprintf(out, ",\"samples\":%zu,\"range\":", r->samples);
	if (r->samples > 0)
		fprintf(out, "[%u,%u]", (unsigned)r->min_port, (unsigned)r->max_port);
	else
		fputs("null", out);
	fputs("},\"forecast\":{", out);
	fputs("\"peers\":[", out);
	for (size_t i = 0; i < FORECAST_NCLASSES; i++) {
		const struct forecast_pair *o = &t->classes[i].pair;

		fputs(i ? ",{\"peer\":" : "{\"peer\":", out);
		report_json_string(out, t->classes[i].name);
		fputs(",\"path\":", out);
		report_json_string(out, forecast_path_word(o->path));
		fputs(",\"first\":", out);
		report_json_string(out, first_self(o->first));
		fputs(",\"reason\":", out);
		report_json_string(out, o->why);
		fputc('}', out);
	}
	fputc(']', out);
	json_names(out, "direct", t, FORECAST_DIRECT);
	json_names(out, "predict", t, FORECAST_DIRECT_PREDICT);
	json_names(out, "relay", t, FORECAST_RELAY);
	json_names(out, "unknown", t, FORECAST_UNKNOWN);
	fputc('}', out);
}

static void
text_host(FILE *out, const char *label, const struct forecast_host *h)
{
	fprintf(out, "%-13s%s (mapping %s, filtering %s, ports %s)\n", label, nat_type_word(h->type),
	    nat_behavior_word(h->mapping), nat_behavior_word(h->filtering),
	    ports_alloc_word(h->allocation));
}

void
traversal_pair_text(FILE *out, const struct forecast_host *a, const struct forecast_host *b,
                    const struct forecast_pair *o)
{
	static const char *first[] = {
		[FORECAST_FIRST_NONE] = "-", [FORECAST_FIRST_BOTH] = "both at once",
		[FORECAST_FIRST_A] = "A", [FORECAST_FIRST_B] = "B"
	};

	text_host(out, "A", a);
	text_host(out, "B", b);
	fprintf(out, "%-13s%s\n", "Path", forecast_path_word(o->path));
	fprintf(out, "%-13s%s\n", "First", first[o->first]);
	fprintf(out, "%-13s%s\n", "Prediction",
	    o->predict_a && o->predict_b ? "A's and B's ports" : o->predict_a ? "A's port" :
	    o->predict_b ? "B's port" : "not needed");
	fprintf(out, "%-13s%s\n", "Why", o->why);
}

static void
json_host(FILE *out, const char *key, const struct forecast_host *h)
{
	fprintf(out, "\"%s\":{\"type\":", key);
	report_json_string(out, nat_type_word(h->type));
	fputs(",\"mapping\":", out);
	report_json_string(out, nat_behavior_word(h->mapping));
	fputs(",\"filtering\":", out);
	report_json_string(out, nat_behavior_word(h->filtering));
	fputs(",\"allocation\":", out);
	report_json_string(out, ports_alloc_word(h->allocation));
	fputc('}', out);
}

void
traversal_pair_json(FILE *out, const struct forecast_host *a, const struct forecast_host *b,
                    const struct forecast_pair *o)
{
	/* "schema" first, as in every object natcheck prints (monitor.h). */
	fprintf(out, "{\"schema\":%d,", MONITOR_SCHEMA);
	json_host(out, "a", a);
	fputc(',', out);
	json_host(out, "b", b);
	fputs(",\"path\":", out);
	report_json_string(out, forecast_path_word(o->path));
	fputs(",\"first\":", out);
	report_json_string(out, forecast_first_word(o->first));
	fprintf(out, ",\"predict\":{\"a\":%s,\"b\":%s},\"reason\":",
	    o->predict_a ? "true" : "false", o->predict_b ? "true" : "false");
	report_json_string(out, o->why);
	fputs("}\n", out);
}
