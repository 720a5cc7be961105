#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/mem.h"

void
cs_buf_init(struct cs_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
cs_buf_close(struct cs_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
cs_buf_reset(struct cs_buf *b)
{
	cs_buf_truncate(b, 0);
}

void
cs_buf_truncate(struct cs_buf *b, size_t len)
{
	if (len > b->len)
		return;
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

int
cs_buf_reserve(struct cs_buf *b, size_t n)
{
	size_t need;
	size_t cap;

	if (n > b->max || b->len > b->max - n)
		return CS_ETOOBIG;
	need = b->len + n + 1; /* + NUL */
	if (need <= b->cap)
		return 0;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = cs_realloc(b->data, cap);
	b->cap = cap;
	return 0;
}

int
cs_buf_append(struct cs_buf *b, const void *p, size_t n)
{
	int rc;

	rc = cs_buf_reserve(b, n);
	if (rc < 0)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
cs_buf_append_str(struct cs_buf *b, const char *s)
{
	return cs_buf_append(b, s, strlen(s));
}

int
cs_buf_append_byte(struct cs_buf *b, uint8_t c)
{
	return cs_buf_append(b, &c, 1);
}

int
cs_buf_vprintf(struct cs_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	int rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return CS_EINVAL;
	rc = cs_buf_reserve(b, (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
cs_buf_printf(struct cs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cs_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

uint8_t *
cs_buf_steal(struct cs_buf *b, size_t *len)
{
	uint8_t *p = b->data;

	if (p == NULL)
		p = cs_calloc(1, 1);
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
