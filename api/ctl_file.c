/*
 * ctl_file.c - reading inputs and writing outputs whole (ctl_file.h).
 */
#include "api/ctl_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/mem.h"

int
cs_ctl_file_read(const char *path, size_t max, struct cs_buf *out, char *errmsg)
{
	bool std = strcmp(path, "-") == 0;
	FILE *f = std ? stdin : fopen(path, "rb");
	const char *name = std ? "standard input" : path;
	size_t start = out->len;
	int rc = CS_EIO;

	if (f == NULL) {
		cs_errmsg_printf(errmsg, "%s: %s", name, strerror(errno));
		return CS_EIO;
	}
	for (;;) {
		uint8_t chunk[65536];
		size_t n = fread(chunk, 1, sizeof chunk, f);

		if (n > 0 && (out->len - start + n > max ||
				 cs_buf_append(out, chunk, n) < 0)) {
			cs_errmsg_printf(errmsg, "%s: larger than %zu bytes",
			    name, max);
			rc = CS_ETOOBIG;
			goto out;
		}
		if (n < sizeof chunk)
			break;
	}
	if (ferror(f)) {
		cs_errmsg_printf(errmsg, "%s: %s", name, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (!std)
		fclose(f);
	return rc;
}

int
cs_ctl_file_out_open(struct cs_ctl_file_out *o, const char *path, char *errmsg)
{
	size_t len = strlen(path);
	int fd;

	memset(o, 0, sizeof *o);
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	o->path = cs_strdup(path);
	o->tmp = cs_malloc(len + sizeof ".XXXXXX");
	memcpy(o->tmp, path, len);
	memcpy(o->tmp + len, ".XXXXXX", sizeof ".XXXXXX");
	/* mkstemp makes it 0600: a snapshot holds the whole store */
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		cs_errmsg_printf(errmsg, "%s: %s", path, strerror(errno));
		free(o->tmp);
		free(o->path);
		memset(o, 0, sizeof *o);
		return CS_EIO;
	}
	o->f = fdopen(fd, "wb");
	if (o->f == NULL) {
		cs_errmsg_printf(errmsg, "%s: %s", path, strerror(errno));
		close(fd);
		cs_ctl_file_out_abort(o);
		return CS_EIO;
	}
	return 0;
}

int
cs_ctl_file_out_commit(struct cs_ctl_file_out *o, char *errmsg)
{
	int rc = CS_EIO;
	FILE *f = o->f;

	o->f = NULL;
	if (o->tmp == NULL) {
		/* standard output: the caller's stream, not ours to close */
		if (fflush(f) != 0) {
			cs_errmsg_printf(errmsg, "standard output: %s",
			    strerror(errno));
			return CS_EIO;
		}
		return 0;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		cs_errmsg_printf(errmsg, "%s: %s", o->path, strerror(errno));
		fclose(f);
		goto out;
	}
	if (fclose(f) != 0) {
		cs_errmsg_printf(errmsg, "%s: %s", o->path, strerror(errno));
		goto out;
	}
	if (rename(o->tmp, o->path) != 0) {
		cs_errmsg_printf(errmsg, "%s: %s", o->path, strerror(errno));
		goto out;
	}
	free(o->tmp);
	o->tmp = NULL;
	rc = 0;
out:
	cs_ctl_file_out_abort(o);
	return rc;
}

void
cs_ctl_file_out_abort(struct cs_ctl_file_out *o)
{
	if (o->f != NULL && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp != NULL)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = NULL;
	o->path = NULL;
}
