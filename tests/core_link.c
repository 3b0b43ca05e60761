/*
 * core_link.c - the pure core links on its own (make check-core).
 *
 * Linked with the core objects only (stun, hash, addr, probe, nat,
 * report, server) and none of the I/O shell (net, serve, loop, natcheck): a core
 * module that starts calling into the shell breaks this link, and so the
 * build.  It takes the address of one function of each module rather than
 * calling it, so that it does not depend on their signatures.
 */
#include <stddef.h>

#include "addr.h"
#include "dns.h"
#include "hash.h"
#include "nat.h"
#include "probe.h"
#include "report.h"
#include "resolve.h"
#include "portmap.h"
#include "server.h"
#include "stun.h"
#include "uri.h"

typedef void (*any_fn)(void);

int main(void)
{
	static const any_fn core[] = {
		(any_fn)stun_decode, (any_fn)hash_crc32, (any_fn)addr_fmt,
		(any_fn)probe_next, (any_fn)nat_classify, (any_fn)report_text,
		(any_fn)server_handle, (any_fn)portmap_double_nat,
		(any_fn)dns_parse, (any_fn)resolve_next, (any_fn)uri_parse,
	};

	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
		if (core[i] == NULL)
			return 1;
	return 0;
}
