/*
 * log.h - one line per event on stderr, journald-style.
 *
 * Each line starts with an sd-daemon priority prefix ("<3>" for errors)
 * that journald turns into the priority, followed by an event name and
 * key=value pairs: "<4>forward retry req=0a1b leader=2 rc=CS_ENOTLEADER".
 * Log where an error is handled, not where it is detected. cert/ never
 * logs. Loop thread only (the level is a plain variable).
 */
#ifndef CS_LOG_H
#define CS_LOG_H

enum cs_log_level {
	CS_LOG_ERR = 3,
	CS_LOG_WARN = 4,
	CS_LOG_INFO = 6,
	CS_LOG_DEBUG = 7
};

/* Lines above this level are dropped. Default CS_LOG_INFO. */
void cs_log_set_level(enum cs_log_level level);
enum cs_log_level cs_log_get_level(void);
/* Parses "err", "warn", "info" or "debug". Returns 0 or CS_EINVAL. */
int cs_log_level_parse(const char *s, enum cs_log_level *out);

void cs_log(enum cs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
