#include "cert/pem.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert/der.h"
#include "lib/error.h"
#include "lib/mem.h"

static const uint8_t *
find(const uint8_t *p, const uint8_t *end, const char *s)
{
	size_t n = strlen(s);

	while ((size_t)(end - p) >= n) {
		const uint8_t *q = memchr(p, s[0], (size_t)(end - p) - n + 1);

		if (q == NULL)
			return NULL;
		if (memcmp(q, s, n) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

bool
cs_pem_detect(const uint8_t *in, size_t len)
{
	if (len > 0 && in[0] == 0x30 &&
	    cs_der_seq_size(in, len, "", NULL) == len)
		return false;
	return find(in, in + len, "-----BEGIN ") != NULL;
}

void
cs_pem_init(struct cs_pem *it, const uint8_t *in, size_t len)
{
	it->p = in;
	it->end = in + len;
	it->block = 0;
}

/* One line of the text: [*line, *line + *n) without the newline and
 * trailing blanks. Advances it->p. Returns false at the end of input. */
static bool
next_line(struct cs_pem *it, const uint8_t **line, size_t *n)
{
	const uint8_t *nl;
	const uint8_t *e;

	if (it->p >= it->end)
		return false;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	e = nl != NULL ? nl : it->end;
	*line = it->p;
	it->p = nl != NULL ? nl + 1 : it->end;
	while (e > *line && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*n = (size_t)(e - *line);
	return true;
}

/* If line is "-----<kw><label>-----", returns the label's length and sets
 * *label; otherwise returns -1. */
static long
boundary(const uint8_t *line, size_t n, const char *kw, const uint8_t **label)
{
	size_t k = strlen(kw);

	if (n < 10 + k || memcmp(line, "-----", 5) != 0 ||
	    memcmp(line + 5, kw, k) != 0 ||
	    memcmp(line + n - 5, "-----", 5) != 0)
		return -1;
	*label = line + 5 + k;
	return (long)(n - 10 - k);
}

int
cs_pem_next(struct cs_pem *it, char *label, size_t label_size,
    const uint8_t **body, size_t *body_len, char *errmsg)
{
	const uint8_t *line, *lab, *endlab, *start;
	size_t n;
	long ln = -1, eln;

	while (ln < 0) {
		if (!next_line(it, &line, &n))
			return 0;
		ln = boundary(line, n, "BEGIN ", &lab);
	}
	it->block++;
	snprintf(label, label_size, "%.*s", (int)ln, (const char *)lab);
	start = it->p;
	for (;;) {
		const uint8_t *here = it->p;

		if (!next_line(it, &line, &n)) {
			cs_errmsg_printf(errmsg, "block %zu (%s): no END line",
			    it->block, label);
			return CS_EINVAL;
		}
		/* Said here, or the next block's lines would surface later
		 * as a puzzling "bad base64: '-'". */
		if (n >= 11 && memcmp(line, "-----BEGIN ", 11) == 0) {
			cs_errmsg_printf(errmsg,
			    "block %zu (%s): no END line before "
			    "the next BEGIN",
			    it->block, label);
			return CS_EINVAL;
		}
		if (n < 9 || memcmp(line, "-----END", 8) != 0)
			continue;
		eln = boundary(line, n, "END ", &endlab);
		if (eln != ln || memcmp(endlab, lab, (size_t)ln) != 0) {
			cs_errmsg_printf(errmsg,
			    "block %zu (%s): END line does not match BEGIN",
			    it->block, label);
			return CS_EINVAL;
		}
		*body = start;
		*body_len = (size_t)(here - start);
		return 1;
	}
}

static int
b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool
is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
cs_base64_decode(const uint8_t *in, size_t len, size_t max, uint8_t **out,
    size_t *out_len, char *errmsg)
{
	size_t nchars = 0, npad = 0, olen, o = 0;
	uint32_t acc = 0;
	unsigned nacc = 0;
	uint8_t *buf;

	/* Pass 1 validates and sizes, so nothing is allocated for bad or
	 * oversized input. */
	for (size_t i = 0; i < len; i++) {
		if (is_blank(in[i]))
			continue;
		if (in[i] == '=') {
			npad++;
			continue;
		}
		if (b64val(in[i]) < 0) {
			if (in[i] > 0x20 && in[i] < 0x7f)
				cs_errmsg_printf(errmsg,
				    "bad base64: '%c' at offset %zu", in[i], i);
			else
				cs_errmsg_printf(errmsg,
				    "bad base64: byte 0x%02x at offset %zu",
				    in[i], i);
			return CS_EINVAL;
		}
		if (npad > 0) {
			cs_errmsg_printf(errmsg,
			    "bad base64: data after '=' padding");
			return CS_EINVAL;
		}
		nchars++;
	}
	if (nchars == 0) {
		cs_errmsg_printf(errmsg, "bad base64: no data");
		return CS_EINVAL;
	}
	if (npad > 2 || (nchars + npad) % 4 != 0) {
		cs_errmsg_printf(errmsg,
		    "bad base64: %zu characters and %zu '=' are not whole "
		    "groups of 4",
		    nchars, npad);
		return CS_EINVAL;
	}
	olen = nchars / 4 * 3 + (nchars % 4 == 0 ? 0 : nchars % 4 - 1);
	if (olen > max) {
		cs_errmsg_printf(errmsg, "%zu bytes, at most %zu allowed", olen,
		    max);
		return CS_ETOOBIG;
	}
	buf = cs_malloc(olen);
	for (size_t i = 0; i < len; i++) {
		int v = b64val(in[i]);

		if (v < 0)
			continue; /* blanks and padding, validated above */
		acc = acc << 6 | (uint32_t)v;
		if (++nacc == 4) {
			buf[o++] = (uint8_t)(acc >> 16);
			buf[o++] = (uint8_t)(acc >> 8);
			buf[o++] = (uint8_t)acc;
			acc = 0;
			nacc = 0;
		}
	}
	if (nacc == 2) {
		buf[o++] = (uint8_t)(acc >> 4);
	} else if (nacc == 3) {
		buf[o++] = (uint8_t)(acc >> 10);
		buf[o++] = (uint8_t)(acc >> 2);
	}
	*out = buf;
	*out_len = o;
	return 0;
}

char *
cs_pem_encode(const char *label, const uint8_t *der, size_t len)
{
	size_t b64 = (len + 2) / 3 * 4;
	size_t lines = (b64 + 63) / 64;
	size_t llen = strlen(label);
	char *pem = cs_malloc(2 * (llen + 17) + b64 + lines + 1);
	char *p = pem;

	p += sprintf(p, "-----BEGIN %s-----\n", label);
	for (size_t off = 0; off < len; off += 48) {
		size_t chunk = len - off < 48 ? len - off : 48;

		p += EVP_EncodeBlock((unsigned char *)p, der + off, (int)chunk);
		*p++ = '\n';
	}
	sprintf(p, "-----END %s-----\n", label);
	return pem;
}
