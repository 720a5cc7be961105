/*
 * ctl_issue.h - certctl issue and renew: a certificate under a profile,
 * for a request from a file or for a key and request made here.
 *
 * A key certctl makes is written, mode 0600, to a file that did not exist
 * (it is reserved before anything is sent) and removed again when the
 * server refuses the request (4xx); after a 5xx or no answer the key
 * stays, since the certificate may yet be issued. A profile violation
 * prints every rule broken.
 */
#ifndef CS_CTL_ISSUE_H
#define CS_CTL_ISSUE_H

#include "api/ctl.h"

extern const struct cs_ctl_command cs_ctl_issue_commands[];

#endif
