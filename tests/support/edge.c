/*
 * edge.c - buffers against a guard page (see edge.h).
 */
#define _DEFAULT_SOURCE             /* MAP_ANONYMOUS */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "edge.h"

/* Data pages followed by one PROT_NONE page, mapped once per test process
 * (Criterion runs each test in its own process). */
static uint8_t *edge_base;

static uint8_t *
edge_end(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (EDGE_DATA + page - 1) / page * page;

	if (edge_base == NULL) {
		void *p = mmap(NULL, data + page, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		cr_assert(p != MAP_FAILED, "mmap");
		cr_assert(mprotect((uint8_t *)p + data, page, PROT_NONE) == 0, "mprotect");
		edge_base = p;
	}
	return edge_base + data;
}

const uint8_t *
at_edge(const void *src, size_t len)
{
	uint8_t *dst = edge_end() - len;

	cr_assert(len <= EDGE_DATA);
	if (len > 0)
		memcpy(dst, src, len);
	return dst;
}

uint8_t *
edge_buf(size_t cap)
{
	cr_assert(cap <= EDGE_DATA);
	return edge_end() - cap;
}
