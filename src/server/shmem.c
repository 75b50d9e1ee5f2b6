// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "server/shmem.h"

#define SEALS_NEEDED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int shmem_check_fd(int fd, enum shmem_source src, uint64_t budget_left,
		   struct shmem_fd_info *info, struct uerr *err)
{
	struct statfs sfs;
	struct stat st;
	uint64_t align;
	int flags, seals;

	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) < 0)
		return uerr_sys(err, errno, "fstat");
	if (!S_ISREG(st.st_mode))
		return uerr_set(err, EINVAL,
				"not a memfd or shared-memory file (a pipe, "
				"socket or device?)");
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return uerr_sys(err, errno, "not a usable fd");
	if (flags & O_PATH)
		return uerr_set(err, EBADF, "an O_PATH fd cannot be mapped");
	if ((flags & O_ACCMODE) != O_RDWR)
		return uerr_set(err, EBADF, "the fd must be open read-write");
	if (fstatfs(fd, &sfs) < 0)
		return uerr_sys(err, errno, "fstatfs");
	if (sfs.f_type == HUGETLBFS_MAGIC)
		info->hugetlb = true;
	else if (sfs.f_type != TMPFS_MAGIC)
		return uerr_set(err, EINVAL,
				"not shared memory (only memfd, hugetlbfs "
				"and tmpfs files)");

	/* Only a memfd made with MFD_ALLOW_SEALING can carry these seals. */
	seals = fcntl(fd, F_GET_SEALS);
	if (src == SHMEM_FROM_CLIENT) {
		if (seals < 0 || (seals & SEALS_NEEDED) != SEALS_NEEDED)
			return uerr_set(err, EPERM,
					"a memfd sealed with F_SEAL_SHRINK, "
					"F_SEAL_GROW and F_SEAL_SEAL is "
					"needed");
	}
	if (seals > 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		info->read_only = true;

	info->len = st.st_size;
	/* On hugetlbfs st_blksize is the huge page size. */
	align = info->hugetlb ? (uint64_t)st.st_blksize :
				(uint64_t)sysconf(_SC_PAGESIZE);
	if (!info->len)
		return uerr_set(err, EINVAL, "the shared memory is empty");
	if (info->len % align)
		return uerr_set(err, EINVAL,
				"size %llu is not a multiple of the %s size "
				"%llu",
				(unsigned long long)info->len,
				info->hugetlb ? "huge page" : "page",
				(unsigned long long)align);
	if (info->len > SHMEM_BUF_MAX)
		return uerr_set(err, EFBIG,
				"size %llu is over the kernel's 4 GiB limit",
				(unsigned long long)info->len);
	if (info->len > budget_left)
		return uerr_set(err, EDQUOT,
				"size %llu is over what this device may still "
				"register (%llu bytes of max_shmem left)",
				(unsigned long long)info->len,
				(unsigned long long)budget_left);
	return 0;
}

static int reg_buf(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
		   void *base, uint64_t len, bool read_only)
{
	struct ublk_shmem_buf_reg reg = {
		.addr = (uint64_t)(uintptr_t)base,
		.len = len,
		.flags = read_only ? UBLK_SHMEM_BUF_READ_ONLY : 0,
	};
	struct ublk_ctrl_msg *msg = ctrl->msg;
	struct uerr err;
	int ret;

	ret = ublk_ctrl_encode(msg, ref, 0, &reg, sizeof(reg), 0, &err);
	if (ret < 0)
		return ret;
	return ublk_ctrl_send(ctrl, UBLK_U_CMD_REG_BUF, msg, 0);
}

static int unreg_buf(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
		     int index)
{
	struct ublk_ctrl_msg *msg = ctrl->msg;
	struct uerr err;
	int ret;

	ret = ublk_ctrl_encode(msg, ref, 0, NULL, 0, index, &err);
	if (ret < 0)
		return ret;
	return ublk_ctrl_send(ctrl, UBLK_U_CMD_UNREG_BUF, msg, 0);
}

int shmem_register(struct shmem_table *t, struct ublk_ctrl *ctrl,
		   const struct ublk_dev_ref *ref, int fd,
		   const struct shmem_fd_info *info, uint64_t owner,
		   struct uerr *err)
{
	struct shmem_buf *b;
	void *base;
	int index;

	if (t->count >= SHMEM_MAX_BUFS)
		return uerr_set(err, ENOSPC,
				"this device has %u shared buffers already",
				SHMEM_MAX_BUFS);
	if (info->len > t->budget - t->total)
		return uerr_set(err, EDQUOT, "over max_shmem");
	base = mmap(NULL, info->len,
		    PROT_READ | (info->read_only ? 0 : PROT_WRITE), MAP_SHARED,
		    fd, 0);
	if (base == MAP_FAILED)
		return uerr_sys(err, errno, "mapping %llu bytes",
				(unsigned long long)info->len);
	index = reg_buf(ctrl, ref, base, info->len, info->read_only);
	if (index < 0) {
		munmap(base, info->len);
		return uerr_sys(err, -index, "UBLK_U_CMD_REG_BUF");
	}
	if (index >= SHMEM_MAX_BUFS) {
		unreg_buf(ctrl, ref, index);
		munmap(base, info->len);
		return uerr_set(err, ENOSPC, "kernel buffer index %d too large",
				index);
	}
	b = &t->bufs[index];
	b->base = base;
	b->read_only = info->read_only;
	b->owner = owner;
	/* Queue threads see the slot only once base and flags are set. */
	__atomic_store_n(&b->len, info->len, __ATOMIC_RELEASE);
	t->total += info->len;
	t->count++;
	return index; /* the kernel's index, which the client must use */
}

int shmem_unregister(struct shmem_table *t, struct ublk_ctrl *ctrl,
		     const struct ublk_dev_ref *ref, int index, uint64_t owner,
		     struct uerr *err)
{
	struct shmem_buf *b;
	uint64_t len;
	int ret;

	if (index < 0 || index >= SHMEM_MAX_BUFS || !t->bufs[index].len)
		return uerr_set(err, ENOENT, "no shared buffer %d", index);
	b = &t->bufs[index];
	if (owner && b->owner != owner)
		return uerr_set(err, EPERM, "shared buffer %d is not yours",
				index);
	/*
	 * The kernel freezes the queue to unregister: when it returns, no
	 * request uses the buffer and none will, so it may be unmapped.
	 */
	ret = unreg_buf(ctrl, ref, index);
	if (ret < 0)
		return uerr_sys(err, -ret, "UBLK_U_CMD_UNREG_BUF %d", index);
	len = b->len;
	__atomic_store_n(&b->len, 0, __ATOMIC_RELEASE);
	munmap(b->base, len);
	b->base = NULL;
	t->total -= len;
	t->count--;
	return 0;
}

void shmem_unregister_owner(struct shmem_table *t, struct ublk_ctrl *ctrl,
			    const struct ublk_dev_ref *ref, uint64_t owner)
{
	struct uerr err;
	int i;

	for (i = 0; i < SHMEM_MAX_BUFS; i++)
		if (t->bufs[i].len && t->bufs[i].owner == owner &&
		    shmem_unregister(t, ctrl, ref, i, owner, &err) < 0)
			fprintf(stderr, "shmem: %s\n", err.msg);
}
