/*
 * ctl_file.h - certctl's files: whole inputs read under a size cap
 * ("-" is standard input), and outputs that appear complete or not at
 * all (a snapshot cut short by a dropped connection must not look like a
 * backup).
 */
#ifndef CS_CTL_FILE_H
#define CS_CTL_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "lib/buf.h"

/* Appends the content of path ("-": standard input) to out, at most max
 * bytes. CS_EIO (errno in errmsg) or CS_ETOOBIG; errmsg names the file. */
int cs_ctl_file_read(const char *path, size_t max, struct cs_buf *out,
    char *errmsg);

/* An output written to a temporary file next to its final name and
 * renamed into place by commit. "-" writes to standard output directly. */
struct cs_ctl_file_out {
	FILE *f;    /* write here between open and commit/abort */
	char *path; /* private */
	char *tmp;  /* private; NULL for standard output */
};

/* CS_EIO with errmsg when the temporary file cannot be created. */
int cs_ctl_file_out_open(struct cs_ctl_file_out *o, const char *path,
    char *errmsg);
/* Flushes, syncs and renames into place. CS_EIO with errmsg on failure
 * (the temporary file is removed). Closes o in any case. */
int cs_ctl_file_out_commit(struct cs_ctl_file_out *o, char *errmsg);
/* Removes the temporary file. Closes o; a closed o is a no-op. */
void cs_ctl_file_out_abort(struct cs_ctl_file_out *o);

#endif
