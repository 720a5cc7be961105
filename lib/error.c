#include "lib/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	const char *text;
} errors[] = {
    {"CS_OK", "success"},
    {"CS_ENOMEM", "out of memory"},
    {"CS_EINVAL", "invalid input"},
    {"CS_ENOTFOUND", "not found"},
    {"CS_EEXIST", "already exists"},
    {"CS_ENOTLEADER", "not the leader"},
    {"CS_EIO", "I/O error"},
    {"CS_ECRYPTO", "cryptographic operation failed"},
    {"CS_EBUSY", "busy, try again later"},
    {"CS_ECANCELED", "canceled"},
    {"CS_ETOOBIG", "too big"},
    {"CS_EPROTO", "malformed data"},
    {"CS_EPERM", "not permitted"},
    {"CS_ETIMEDOUT", "timed out"},
    {"CS_ECONFLICT", "conflicts with the current state"},
    {"CS_ELEADERLOST", "leadership lost, outcome unknown"},
};

const char *
cs_strerror(int rc)
{
	if (rc > 0 || rc < CS_E__MIN)
		return "unknown error";
	return errors[-rc].text;
}

const char *
cs_errname(int rc)
{
	if (rc > 0 || rc < CS_E__MIN)
		return "CS_E?";
	return errors[-rc].name;
}

int
cs_err_from_errno(int e)
{
	if (e < 0)
		e = -e;
	switch (e) {
	case 0:
		return 0;
	case ENOMEM:
		return CS_ENOMEM;
	case EINVAL:
		return CS_EINVAL;
	case ENOENT:
		return CS_ENOTFOUND;
	case EEXIST:
	case EADDRINUSE:
		return CS_EEXIST;
	case EAGAIN:
	case EBUSY:
		return CS_EBUSY;
	case ECANCELED:
		return CS_ECANCELED;
	case E2BIG:
	case EFBIG:
	case EMSGSIZE:
	case ENAMETOOLONG:
		return CS_ETOOBIG;
	case EPERM:
	case EACCES:
		return CS_EPERM;
	case ETIMEDOUT:
		return CS_ETIMEDOUT;
	case EPROTO:
		return CS_EPROTO;
	default:
		return CS_EIO;
	}
}

void
cs_errmsg_printf(char *errmsg, const char *fmt, ...)
{
	va_list ap;

	if (errmsg == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(errmsg, CS_ERRMSG_SIZE, fmt, ap);
	va_end(ap);
}

void
cs_errmsg_wrapf(char *errmsg, const char *fmt, ...)
{
	char prev[CS_ERRMSG_SIZE];
	char ctx[CS_ERRMSG_SIZE];
	size_t n, m;
	va_list ap;

	if (errmsg == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	if (errmsg[0] == '\0') {
		memcpy(errmsg, ctx, sizeof ctx);
		return;
	}
	/* Truncation is intended: the outermost context matters most. */
	memcpy(prev, errmsg, sizeof prev);
	prev[sizeof prev - 1] = '\0';
	n = strlen(ctx);
	memcpy(errmsg, ctx, n);
	if (n + 2 < CS_ERRMSG_SIZE) {
		memcpy(errmsg + n, ": ", 2);
		n += 2;
	}
	m = strnlen(prev, CS_ERRMSG_SIZE - 1 - n);
	memcpy(errmsg + n, prev, m);
	errmsg[n + m] = '\0';
}
