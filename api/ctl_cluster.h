/*
 * ctl_cluster.h - certctl's cluster commands: the cluster view and its
 * membership, leadership transfer, the state hash, health, readiness,
 * metrics and snapshot downloads.
 */
#ifndef CS_CTL_CLUSTER_H
#define CS_CTL_CLUSTER_H

#include "api/ctl.h"

extern const struct cs_ctl_command cs_ctl_cluster_commands[];

#endif
