/*
 * fuzz_pair.c - libFuzzer target for the --pair file reader (make fuzz).
 *
 * For every input: forecast_parse() must either fail with a reason or give
 * a host whose every field is in range; a parsed host is then forecast
 * against itself and against every peer class, which must give a known
 * path with a reason.  Any broken promise is a __builtin_trap().
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "forecast.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void
check_pair(const struct forecast_pair *o)
{
	CHECK(o->path >= FORECAST_UNKNOWN && o->path <= FORECAST_RELAY);
	CHECK(o->first >= FORECAST_FIRST_NONE && o->first <= FORECAST_FIRST_B);
	CHECK(memchr(o->why, '\0', sizeof(o->why)) != NULL && o->why[0] != '\0');
	CHECK(o->path == FORECAST_DIRECT_PREDICT || (!o->predict_a && !o->predict_b));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct forecast_host h;
	struct forecast_pair o;
	struct forecast_class c[FORECAST_NCLASSES];
	char err[128];

	err[0] = '\0';
	if (forecast_parse((const char *)data, size, &h, err, sizeof(err)) == -1) {
		CHECK(err[0] != '\0');
		return 0;
	}
	CHECK(h.type >= NAT_UNKNOWN && h.type <= NAT_UDP_BLOCKED);
	CHECK(h.nat >= -1 && h.nat <= 1 && h.hairpinning >= -1 && h.hairpinning <= 1);
	CHECK(h.mapping >= NAT_BEH_UNKNOWN && h.mapping <= NAT_BEH_ADDRESS_PORT_DEPENDENT);
	CHECK(h.filtering >= NAT_BEH_UNKNOWN && h.filtering <= NAT_BEH_ADDRESS_PORT_DEPENDENT);
	CHECK(h.allocation >= PORTS_UNKNOWN && h.allocation <= PORTS_RANDOM);
	CHECK(!h.has_delta || (h.delta >= -65535 && h.delta <= 65535));
	CHECK(memchr(h.public_ip, '\0', sizeof(h.public_ip)) != NULL);
	forecast_pair(&h, &h, &o);
	check_pair(&o);
	forecast_classes(&h, c);
	for (size_t i = 0; i < FORECAST_NCLASSES; i++)
		check_pair(&c[i].pair);
	return 0;
}
