/*
 * ctl_admin.h - certctl's administration commands: keys, profiles, role
 * bindings and the audit chain.
 */
#ifndef CS_CTL_ADMIN_H
#define CS_CTL_ADMIN_H

#include "api/ctl.h"

extern const struct cs_ctl_command cs_ctl_admin_commands[];

#endif
