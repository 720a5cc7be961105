/*
 * ctl_out.h - what certctl shows people: aligned tables, "key  value"
 * records, short fingerprints, human durations, and a progress bar.
 *
 * Scripts use --json instead, which prints the server's documents; so
 * tables may shorten (fingerprints to 16 hex digits and "…") and
 * reformat freely, and nothing here is meant to be parsed.
 */
#ifndef CS_CTL_OUT_H
#define CS_CTL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A table is filled cell by cell, row by row, and printed with every
 * column as wide as its widest cell (in characters, UTF-8 aware). */
struct cs_ctl_out_table;

/* headers: ncols column titles. Returns new (cs_ctl_out_table_free()). */
struct cs_ctl_out_table *cs_ctl_out_table_new(size_t ncols,
    const char *const *headers);
void cs_ctl_out_table_free(struct cs_ctl_out_table *t); /* NULL: no-op */
/* Appends the next cell (rows wrap after ncols cells). NULL or "" shows
 * as "-". */
void cs_ctl_out_table_cell(struct cs_ctl_out_table *t, const char *text);
void cs_ctl_out_table_cellf(struct cs_ctl_out_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t cs_ctl_out_table_rows(const struct cs_ctl_out_table *t);
/* Prints the header and the rows; two spaces between columns, no
 * trailing blanks. */
void cs_ctl_out_table_print(const struct cs_ctl_out_table *t, FILE *f);

/* "key   value" lines with the keys padded to width. */
void cs_ctl_out_field(FILE *f, int width, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define CS_CTL_OUT_SHORT_FP_SIZE 24
/* The first 16 hex digits and "…" (for tables only). */
void cs_ctl_out_short_fp(const char *fp, char out[CS_CTL_OUT_SHORT_FP_SIZE]);

#define CS_CTL_OUT_AGE_SIZE 32
/* A rounded duration for people: "29d 4h", "3h 20m", "45s"; negative
 * values get a leading "-". */
void cs_ctl_out_age(int64_t secs, char out[CS_CTL_OUT_AGE_SIZE]);

/* A progress bar on a stream, redrawn in place ("\r"); the caller
 * decides whether one is wanted (a terminal, or --progress). */
struct cs_ctl_out_progress {
	FILE *f; /* NULL: off */
	const char *what;
	size_t total;
	size_t done;
	int drawn; /* the last percentage drawn, -1 for none */
};

void cs_ctl_out_progress_start(struct cs_ctl_out_progress *p, FILE *f,
    const char *what, size_t total);
void cs_ctl_out_progress_update(struct cs_ctl_out_progress *p, size_t done);
/* Ends the line the bar is on. */
void cs_ctl_out_progress_finish(struct cs_ctl_out_progress *p);

#endif
