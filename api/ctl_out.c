/*
 * ctl_out.c - tables, fields, short fingerprints, progress (ctl_out.h).
 */
#include "api/ctl_out.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mem.h"

struct cs_ctl_out_table {
	size_t ncols;
	size_t ncells; /* header cells included */
	size_t cap;
	char **cells;
};

struct cs_ctl_out_table *
cs_ctl_out_table_new(size_t ncols, const char *const *headers)
{
	struct cs_ctl_out_table *t = cs_calloc(1, sizeof *t);

	t->ncols = ncols;
	for (size_t i = 0; i < ncols; i++)
		cs_ctl_out_table_cell(t, headers[i]);
	return t;
}

void
cs_ctl_out_table_free(struct cs_ctl_out_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void
cs_ctl_out_table_cell(struct cs_ctl_out_table *t, const char *text)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->cells = cs_reallocarray(t->cells, t->cap, sizeof *t->cells);
	}
	t->cells[t->ncells++] =
	    cs_strdup(text != NULL && text[0] != '\0' ? text : "-");
}

void
cs_ctl_out_table_cellf(struct cs_ctl_out_table *t, const char *fmt, ...)
{
	struct cs_buf b;
	va_list ap;

	cs_buf_init(&b, 1u << 20);
	va_start(ap, fmt);
	cs_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	cs_ctl_out_table_cell(t, b.len > 0 ? (const char *)b.data : "");
	cs_buf_close(&b);
}

size_t
cs_ctl_out_table_rows(const struct cs_ctl_out_table *t)
{
	return t->ncells / t->ncols - 1;
}

/* Characters, not bytes: UTF-8 continuation bytes take no column. Wide
 * characters (CJK) are rare in certificate names and count as one. */
static size_t
text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	}
	return w;
}

void
cs_ctl_out_table_print(const struct cs_ctl_out_table *t, FILE *f)
{
	size_t *width = cs_calloc(t->ncols, sizeof *width);

	for (size_t i = 0; i < t->ncells; i++) {
		size_t w = text_width(t->cells[i]);

		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		size_t col = i % t->ncols;

		fputs(t->cells[i], f);
		if (col + 1 == t->ncols || i + 1 == t->ncells) {
			fputc('\n', f);
			continue;
		}
		for (size_t pad = text_width(t->cells[i]); pad < width[col] + 2;
		     pad++)
			fputc(' ', f);
	}
	free(width);
}

void
cs_ctl_out_field(FILE *f, int width, const char *key, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%-*s  ", width, key);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

void
cs_ctl_out_short_fp(const char *fp, char out[CS_CTL_OUT_SHORT_FP_SIZE])
{
	if (fp == NULL) {
		snprintf(out, CS_CTL_OUT_SHORT_FP_SIZE, "-");
		return;
	}
	if (strlen(fp) <= 16) {
		snprintf(out, CS_CTL_OUT_SHORT_FP_SIZE, "%s", fp);
		return;
	}
	snprintf(out, CS_CTL_OUT_SHORT_FP_SIZE,
	    "%.16s\xe2\x80\xa6" /* U+2026 … */, fp);
}

void
cs_ctl_out_age(int64_t secs, char out[CS_CTL_OUT_AGE_SIZE])
{
	const char *sign = secs < 0 ? "-" : "";
	uint64_t s = secs < 0 ? (uint64_t)0 - (uint64_t)secs : (uint64_t)secs;
	unsigned long long d = s / 86400, h = s % 86400 / 3600,
			   m = s % 3600 / 60;

	if (d > 0)
		snprintf(out, CS_CTL_OUT_AGE_SIZE, "%s%llud %lluh", sign, d, h);
	else if (h > 0)
		snprintf(out, CS_CTL_OUT_AGE_SIZE, "%s%lluh %llum", sign, h, m);
	else if (m > 0)
		snprintf(out, CS_CTL_OUT_AGE_SIZE, "%s%llum %llus", sign, m,
		    (unsigned long long)(s % 60));
	else
		snprintf(out, CS_CTL_OUT_AGE_SIZE, "%s%llus", sign,
		    (unsigned long long)s);
}

#define BAR_WIDTH 30

void
cs_ctl_out_progress_start(struct cs_ctl_out_progress *p, FILE *f,
    const char *what, size_t total)
{
	p->f = f;
	p->what = what;
	p->total = total;
	p->done = 0;
	p->drawn = -1;
	cs_ctl_out_progress_update(p, 0);
}

void
cs_ctl_out_progress_update(struct cs_ctl_out_progress *p, size_t done)
{
	int pct;
	size_t fill;
	char bar[BAR_WIDTH + 1];

	if (p->f == NULL)
		return;
	p->done = done;
	pct =
	    p->total > 0 ? (int)(100.0 * (double)done / (double)p->total) : 100;
	if (pct == p->drawn && done != p->total)
		return;
	p->drawn = pct;
	fill = p->total > 0 ? BAR_WIDTH * done / p->total : BAR_WIDTH;
	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	fprintf(p->f, "\r%s [%s] %zu/%zu %3d%%", p->what, bar, done, p->total,
	    pct);
	fflush(p->f);
}

void
cs_ctl_out_progress_finish(struct cs_ctl_out_progress *p)
{
	if (p->f == NULL)
		return;
	fputc('\n', p->f);
	fflush(p->f);
	p->f = NULL;
}
