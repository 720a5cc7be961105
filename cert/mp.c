#include "cert/mp.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/mem.h"

static int
on_write(void *data, const char *p, size_t len)
{
	struct cs_mp_out *w = data;
	int rc;

	if (w->err != 0)
		return -1;
	rc = cs_buf_append(w->buf, p, len);
	if (rc < 0) {
		w->err = rc;
		return -1;
	}
	return 0;
}

void
cs_mp_out_init(struct cs_mp_out *w, struct cs_buf *b)
{
	w->buf = b;
	w->err = 0;
	msgpack_packer_init(&w->pk, w, on_write);
}

void
cs_mp_array(struct cs_mp_out *w, size_t n)
{
	msgpack_pack_array(&w->pk, n);
}

void
cs_mp_map(struct cs_mp_out *w, size_t n)
{
	msgpack_pack_map(&w->pk, n);
}

void
cs_mp_uint(struct cs_mp_out *w, uint64_t v)
{
	msgpack_pack_uint64(&w->pk, v);
}

void
cs_mp_int(struct cs_mp_out *w, int64_t v)
{
	msgpack_pack_int64(&w->pk, v);
}

void
cs_mp_bool(struct cs_mp_out *w, bool v)
{
	if (v)
		msgpack_pack_true(&w->pk);
	else
		msgpack_pack_false(&w->pk);
}

void
cs_mp_nil(struct cs_mp_out *w)
{
	msgpack_pack_nil(&w->pk);
}

void
cs_mp_str(struct cs_mp_out *w, const void *s, size_t len)
{
	msgpack_pack_str_with_body(&w->pk, s, len);
}

void
cs_mp_cstr(struct cs_mp_out *w, const char *s)
{
	if (s == NULL)
		s = "";
	cs_mp_str(w, s, strlen(s));
}

void
cs_mp_bin(struct cs_mp_out *w, const void *p, size_t len)
{
	msgpack_pack_bin_with_body(&w->pk, p, len);
}

/* ---- reader ---- */

void
cs_mp_in_init(struct cs_mp_in *r, const void *p, size_t len, char *errmsg)
{
	r->p = p;
	r->end = r->p + len;
	r->err = 0;
	r->errmsg = errmsg;
}

void
cs_mp_fail(struct cs_mp_in *r, const char *what)
{
	if (r->err != 0)
		return;
	r->err = CS_EPROTO;
	cs_errmsg_printf(r->errmsg, "msgpack: %s at offset -%zu", what,
	    (size_t)(r->end - r->p));
}

bool
cs_mp_done(const struct cs_mp_in *r)
{
	return r->err == 0 && r->p == r->end;
}

static size_t
left(const struct cs_mp_in *r)
{
	return (size_t)(r->end - r->p);
}

/* Reads an n-byte big-endian unsigned number. */
static bool
take_be(struct cs_mp_in *r, int n, uint64_t *v)
{
	uint64_t x = 0;

	if (left(r) < (size_t)n) {
		cs_mp_fail(r, "truncated");
		return false;
	}
	for (int i = 0; i < n; i++)
		x = x << 8 | r->p[i];
	r->p += n;
	*v = x;
	return true;
}

/* Reads a tag byte; false (and fails) at the end of input. */
static bool
tag(struct cs_mp_in *r, uint8_t *t)
{
	if (r->err != 0)
		return false;
	if (left(r) < 1) {
		cs_mp_fail(r, "truncated");
		return false;
	}
	*t = *r->p++;
	return true;
}

static void
container(struct cs_mp_in *r, bool map, size_t max, size_t *n)
{
	uint8_t t;
	uint64_t v = 0;

	*n = 0;
	if (!tag(r, &t))
		return;
	if (!map && (t & 0xf0) == 0x90)
		v = t & 0x0f;
	else if (map && (t & 0xf0) == 0x80)
		v = t & 0x0f;
	else if (t == (map ? 0xde : 0xdc)) {
		if (!take_be(r, 2, &v))
			return;
	} else if (t == (map ? 0xdf : 0xdd)) {
		if (!take_be(r, 4, &v))
			return;
	} else {
		r->p--;
		cs_mp_fail(r, map ? "expected a map" : "expected an array");
		return;
	}
	if (v > max) {
		cs_mp_fail(r, "too many elements");
		return;
	}
	if (v > left(r) / (map ? 2 : 1)) {
		cs_mp_fail(r, "element count exceeds the input");
		return;
	}
	*n = (size_t)v;
}

void
cs_mp_read_array(struct cs_mp_in *r, size_t max, size_t *n)
{
	container(r, false, max, n);
}

void
cs_mp_read_map(struct cs_mp_in *r, size_t max, size_t *n)
{
	container(r, true, max, n);
}

/* Reads any integer as a sign and magnitude. */
static bool
integer(struct cs_mp_in *r, bool *neg, uint64_t *mag)
{
	uint8_t t;
	uint64_t v;

	if (!tag(r, &t))
		return false;
	*neg = false;
	if (t <= 0x7f) {
		*mag = t;
		return true;
	}
	if (t >= 0xe0) {
		*neg = true;
		*mag = (uint64_t)(-(int64_t)(int8_t)t);
		return true;
	}
	switch (t) {
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
		return take_be(r, 1 << (t - 0xcc), mag);
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		int n = 1 << (t - 0xd0);
		int64_t s;

		if (!take_be(r, n, &v))
			return false;
		/* sign-extend from n bytes */
		if (n < 8 && (v >> (8 * n - 1)) != 0)
			v |= ~(uint64_t)0 << (8 * n);
		s = (int64_t)v;
		*neg = s < 0;
		*mag = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
		return true;
	}
	default:
		r->p--;
		cs_mp_fail(r, "expected an integer");
		return false;
	}
}

void
cs_mp_read_uint(struct cs_mp_in *r, uint64_t max, uint64_t *v)
{
	bool neg;
	uint64_t mag;

	*v = 0;
	if (!integer(r, &neg, &mag))
		return;
	if (neg || mag > max) {
		cs_mp_fail(r, "integer out of range");
		return;
	}
	*v = mag;
}

void
cs_mp_read_int(struct cs_mp_in *r, int64_t *v)
{
	bool neg;
	uint64_t mag;

	*v = 0;
	if (!integer(r, &neg, &mag))
		return;
	if ((!neg && mag > (uint64_t)INT64_MAX) ||
	    (neg && mag > (uint64_t)INT64_MAX + 1)) {
		cs_mp_fail(r, "integer out of range");
		return;
	}
	*v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
}

void
cs_mp_read_bool(struct cs_mp_in *r, bool *v)
{
	uint8_t t;

	*v = false;
	if (!tag(r, &t))
		return;
	if (t == 0xc2 || t == 0xc3) {
		*v = t == 0xc3;
		return;
	}
	r->p--;
	cs_mp_fail(r, "expected a boolean");
}

/* Reads the length of a str (is_bin false) or bin. */
static bool
raw_len(struct cs_mp_in *r, bool is_bin, uint64_t *len)
{
	uint8_t t;

	if (!tag(r, &t))
		return false;
	if (!is_bin && (t & 0xe0) == 0xa0) {
		*len = t & 0x1f;
		return true;
	}
	if (t == (is_bin ? 0xc4 : 0xd9))
		return take_be(r, 1, len);
	if (t == (is_bin ? 0xc5 : 0xda))
		return take_be(r, 2, len);
	if (t == (is_bin ? 0xc6 : 0xdb))
		return take_be(r, 4, len);
	r->p--;
	cs_mp_fail(r, is_bin ? "expected bytes" : "expected a string");
	return false;
}

static void
raw(struct cs_mp_in *r, bool is_bin, size_t min, size_t max,
    struct cs_bytes *out)
{
	uint64_t len;

	out->p = NULL;
	out->len = 0;
	if (!raw_len(r, is_bin, &len))
		return;
	if (len > left(r)) {
		cs_mp_fail(r, "length exceeds the input");
		return;
	}
	if (len < min || len > max) {
		cs_mp_fail(r, "length out of range");
		return;
	}
	if (!is_bin && memchr(r->p, '\0', (size_t)len) != NULL) {
		cs_mp_fail(r, "NUL byte in a string");
		return;
	}
	out->p = r->p;
	out->len = (size_t)len;
	r->p += len;
}

void
cs_mp_read_str(struct cs_mp_in *r, size_t max, struct cs_bytes *out)
{
	raw(r, false, 0, max, out);
}

void
cs_mp_read_bin(struct cs_mp_in *r, size_t min, size_t max, struct cs_bytes *out)
{
	raw(r, true, min, max, out);
}

bool
cs_mp_read_nil(struct cs_mp_in *r)
{
	if (r->err == 0 && left(r) > 0 && *r->p == 0xc0) {
		r->p++;
		return true;
	}
	return false;
}

static void
skip(struct cs_mp_in *r, int depth)
{
	uint8_t t;
	uint64_t len;
	size_t n;

	if (depth > 16) {
		cs_mp_fail(r, "nested too deep");
		return;
	}
	if (r->err != 0 || left(r) == 0) {
		cs_mp_fail(r, "truncated");
		return;
	}
	t = *r->p;
	if (t <= 0x7f || t >= 0xe0 || (t >= 0xcc && t <= 0xd3)) {
		bool neg;

		integer(r, &neg, &len);
	} else if ((t & 0xf0) == 0x80 || t == 0xde || t == 0xdf) {
		container(r, true, SIZE_MAX, &n);
		for (size_t i = 0; i < 2 * n && r->err == 0; i++)
			skip(r, depth + 1);
	} else if ((t & 0xf0) == 0x90 || t == 0xdc || t == 0xdd) {
		container(r, false, SIZE_MAX, &n);
		for (size_t i = 0; i < n && r->err == 0; i++)
			skip(r, depth + 1);
	} else if ((t & 0xe0) == 0xa0 || (t >= 0xd9 && t <= 0xdb) ||
		   (t >= 0xc4 && t <= 0xc6)) {
		bool is_bin = t >= 0xc4 && t <= 0xc6;

		if (raw_len(r, is_bin, &len)) {
			if (len > left(r))
				cs_mp_fail(r, "length exceeds the input");
			else
				r->p += len;
		}
	} else if (t == 0xc0 || t == 0xc2 || t == 0xc3) {
		r->p++;
	} else if (t == 0xca || t == 0xcb) {
		r->p++;
		if (left(r) < (t == 0xca ? 4u : 8u))
			cs_mp_fail(r, "truncated");
		else
			r->p += t == 0xca ? 4 : 8;
	} else {
		cs_mp_fail(r, "unsupported type");
	}
}

void
cs_mp_skip(struct cs_mp_in *r)
{
	skip(r, 0);
}

bool
cs_bytes_eq(struct cs_bytes b, const char *s)
{
	size_t n = strlen(s);

	return b.len == n && (n == 0 || memcmp(b.p, s, n) == 0);
}

char *
cs_bytes_dup(struct cs_bytes b)
{
	return cs_strndup(b.p != NULL ? (const char *)b.p : "", b.len);
}
