#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"

/* The one piece of mutable global state outside main(): the log level is
 * process-wide by nature (stderr is), and changed only by SIGHUP. */
static enum cs_log_level max_level = CS_LOG_INFO;

void
cs_log_set_level(enum cs_log_level level)
{
	max_level = level;
}

enum cs_log_level
cs_log_get_level(void)
{
	return max_level;
}

int
cs_log_level_parse(const char *s, enum cs_log_level *out)
{
	static const struct {
		const char *name;
		enum cs_log_level level;
	} names[] = {
	    {"err", CS_LOG_ERR},
	    {"error", CS_LOG_ERR},
	    {"warn", CS_LOG_WARN},
	    {"warning", CS_LOG_WARN},
	    {"info", CS_LOG_INFO},
	    {"debug", CS_LOG_DEBUG},
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return CS_EINVAL;
}

void
cs_log(enum cs_log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	if (level > max_level)
		return;
	n = snprintf(line, sizeof line, "<%d>", (int)level);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* One event, one line: fold embedded newlines. */
	for (char *p = line; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	n = (int)strlen(line);
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}
