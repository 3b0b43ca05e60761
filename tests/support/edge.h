/*
 * edge.h - test buffers that end right before a PROT_NONE page, so that a
 * codec reading or writing one byte past the end crashes the test instead
 * of passing by luck (picohttpparser's test habit).
 */
#ifndef NATCHECK_TEST_EDGE_H
#define NATCHECK_TEST_EDGE_H

#include <stddef.h>
#include <stdint.h>

#define EDGE_DATA (80 * 1024)   /* the largest input or output buffer */

/* Copy len bytes so that the last one sits just before the guard page. */
const uint8_t *at_edge(const void *src, size_t len);

/* An output buffer of cap bytes ending at the guard page. */
uint8_t *edge_buf(size_t cap);

#endif
