/*
 * outfile.h - write a whole file atomically: beside its destination, then
 * rename(2) into place, so a reader (node_exporter's textfile collector)
 * never sees half a file.  Shared by the client's and the server's
 * --metrics-file.
 */
#ifndef NATCHECK_OUTFILE_H
#define NATCHECK_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

/* Writes the contents to f. */
typedef void (*outfile_fn)(FILE *f, const void *ctx);

/*
 * outfile_write: fn's output becomes path (mode 0644), or path is left as
 * it was.  Returns 0, or -1 with err set ("--metrics-file PATH: ...").
 */
int outfile_write(const char *path, outfile_fn fn, const void *ctx, char *err, size_t errlen);

#endif /* NATCHECK_OUTFILE_H */
