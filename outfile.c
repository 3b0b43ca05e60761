/*
 * outfile.c - a whole file written atomically (see outfile.h).
 */
#include "outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
outfile_write(const char *path, outfile_fn fn, const void *ctx, char *err, size_t errlen)
{
	char tmp[4096];
	FILE *f;
	int fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "--metrics-file %.300s: name too long", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "--metrics-file %.300s: cannot create a file beside it: %s",
		    path, strerror(errno));
		return -1;
	}
	/* mkstemp's 0600 would hide the file from a collector running as
	 * another user; the metrics are no secret. */
	if (fchmod(fd, 0644) == -1 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "--metrics-file %.300s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	fn(f, ctx);
	ok = fflush(f) != EOF && !ferror(f);
	if (fclose(f) == EOF)
		ok = 0;
	if (!ok || rename(tmp, path) == -1) {
		snprintf(err, errlen, "--metrics-file %.300s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
