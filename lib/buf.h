/*
 * buf.h - a growable byte buffer with a hard size cap (curl's dynbuf).
 *
 * The caller allocates struct cs_buf (usually embedded) and sets the cap
 * with cs_buf_init(). Appends that would make the content longer than the
 * cap fail with CS_ETOOBIG and leave the content unchanged. The content is
 * always followed by a NUL byte that is not counted in len, so text can be
 * used as a C string.
 */
#ifndef CS_BUF_H
#define CS_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct cs_buf {
	uint8_t *data; /* NULL until the first append */
	size_t len;    /* bytes of content */
	size_t cap;    /* bytes allocated */
	size_t max;    /* hard cap on len */
};

void cs_buf_init(struct cs_buf *b, size_t max);
/* Frees the content; the buffer can be used again as if just initialised. */
void cs_buf_close(struct cs_buf *b);
/* Empties the content, keeping the allocation. */
void cs_buf_reset(struct cs_buf *b);
/* Cuts the content back to its first len bytes (len <= b->len), keeping
 * the allocation: undoes appends made after len was the length. */
void cs_buf_truncate(struct cs_buf *b, size_t len);

/* Makes room for n more bytes. CS_ETOOBIG if len + n > max. */
int cs_buf_reserve(struct cs_buf *b, size_t n);
int cs_buf_append(struct cs_buf *b, const void *p, size_t n);
int cs_buf_append_str(struct cs_buf *b, const char *s);
int cs_buf_append_byte(struct cs_buf *b, uint8_t c);
int cs_buf_printf(struct cs_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cs_buf_vprintf(struct cs_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Hands the content to the caller (free() it) and resets the buffer.
 * Returns new; never NULL (an empty buffer yields an empty string). */
uint8_t *cs_buf_steal(struct cs_buf *b, size_t *len);

#endif
