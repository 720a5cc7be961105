/*
 * kaio.c - keep libraft 0.15 off RWF_NOWAIT kernel AIO.
 *
 * raft_uv probes the data directory at start: when the file system takes
 * O_DIRECT and a RWF_NOWAIT io_submit() succeeds (ext4, xfs), every log
 * append goes through kernel AIO from the loop thread; otherwise (tmpfs,
 * overlayfs, ZFS: the probe's io_submit fails with EOPNOTSUPP) appends are
 * blocking direct writes on the thread pool. Two reasons to want the
 * latter everywhere:
 *
 *   - speed: on this project's virtio disks a NOWAIT write completes in
 *     14-25 ms or comes back -EAGAIN after several ms (and is then redone
 *     on the thread pool in 0.3 ms). Appends are serialised, so that was
 *     the cluster's write ceiling: ~27 appends/s per node, measured with
 *     strace on a loaded leader;
 *   - safety: 0.15's uvWriterPollCb drops the other completions of a batch
 *     when one is -EAGAIN, and the node hangs on writes that never complete
 *     (notes/raft-0.15.md 5.4; fixed only in dqlite's fork).
 *
 * libraft makes these system calls through syscall(3), so certstored
 * defines syscall() and answers io_submit() requests that carry
 * RWF_NOWAIT with EOPNOTSUPP, exactly what the probe sees on tmpfs; every
 * other call goes to the C library's syscall(). The executable's
 * definition takes precedence over libc's for libraft's references (ELF
 * symbol interposition). `raft-kernel-aio yes` turns it off.
 *
 * x86-64 and aarch64 Linux: syscall() takes at most six long arguments.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/aio_abi.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raft/replica.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

static bool allow_nowait;

void
cs_replica_kernel_aio(bool on)
{
	allow_nowait = on;
}

typedef long (*syscall_fn)(long, ...);

static long
real_syscall(long n, long a, long b, long c, long d, long e, long f)
{
	static syscall_fn real;

	if (real == NULL)
		real = (syscall_fn)(uintptr_t)dlsym(RTLD_NEXT, "syscall");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(n, a, b, c, d, e, f);
}

long
syscall(long number, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
#ifdef SYS_io_submit
	if (number == SYS_io_submit && !allow_nowait && a[1] > 0) {
		struct iocb **iocbs = (struct iocb **)(uintptr_t)a[2];

		for (long i = 0; i < a[1]; i++) {
			if (iocbs[i] != NULL &&
			    (iocbs[i]->aio_rw_flags & RWF_NOWAIT)) {
				errno = EOPNOTSUPP;
				return -1;
			}
		}
	}
#endif
	return real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
