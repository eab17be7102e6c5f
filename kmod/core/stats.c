// SPDX-License-Identifier: GPL-2.0
/*
 * Binary statistics fds (XVM_GET_STATS_FD), in KVM's KVM_GET_STATS_FD
 * format (virt/kvm/binary_stats.c): a header, an id string, descriptors,
 * then one __u64 per statistic.  Each kind of fd (VM, vCPU) describes its
 * statistics in a table of struct xvm_stat_desc, indexed by the enum of
 * its counters (kmod/include/xvm/core.h); the file is generated from the
 * table on each read, so nothing but the id is stored per fd.
 *
 * The counters are atomic64_t: the VM's are bumped by every vCPU and by
 * raises from any context, including hard IRQ, and the device modules
 * keep theirs the same way.  Per-CPU counters would save the shared cache
 * line, but cost an allocation per VM and per vCPU (a failure path more)
 * and a sum over the CPUs on every read.
 *
 * A VM counter may instead be the sum of a vCPU counter over the VM's
 * vCPUs, computed on read (mmio_exits_*: each vCPU counts its own, as
 * KVM's mmio_exits, and no vCPU writes a line another one writes).
 *
 * Locking: none.  A read takes each counter with atomic64_read(), so the
 * values of one read are each exact but not a snapshot of one instant.
 * The fd holds a VM reference, which keeps the VM and its vCPUs alive.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"

/**
 * struct xvm_stat_desc - a statistic, as the core describes it
 * @name: what struct xvm_stats_desc.name says, shorter than
 *	%XVM_STATS_NAME_SIZE
 * @flags: ``XVM_STATS_TYPE_*`` | ``XVM_STATS_UNIT_*`` | ``XVM_STATS_BASE_*``
 * @exponent: struct xvm_stats_desc.exponent
 * @vcpu_sum: in the VM's table, 1 + the vCPU counter whose sum over the
 *	VM's vCPUs is the value; 0: the VM's own counter
 */
struct xvm_stat_desc {
	const char *name;
	u32 flags;
	s16 exponent;
	u32 vcpu_sum;
};

#define XVM_STAT_COUNTER(_name)						\
	{ .name = (_name), .flags = XVM_STATS_TYPE_CUMULATIVE |		\
	  XVM_STATS_UNIT_NONE | XVM_STATS_BASE_POW10 }

#define XVM_STAT_INSTANT(_name)						\
	{ .name = (_name), .flags = XVM_STATS_TYPE_INSTANT |		\
	  XVM_STATS_UNIT_NONE | XVM_STATS_BASE_POW10 }

/* Nanoseconds, as KVM's STATS_DESC_TIME_NSEC: seconds, exponent -9. */
#define XVM_STAT_TIME_NS(_name)						\
	{ .name = (_name), .flags = XVM_STATS_TYPE_CUMULATIVE |		\
	  XVM_STATS_UNIT_SECONDS | XVM_STATS_BASE_POW10, .exponent = -9 }
/* A VM counter that is the sum of the vCPUs' stat. */
#define XVM_STAT_VCPU_SUM(_name, stat)					\
	{ .name = (_name), .flags = XVM_STATS_TYPE_CUMULATIVE |		\
	  XVM_STATS_UNIT_NONE | XVM_STATS_BASE_POW10, .vcpu_sum = (stat) + 1 }

static const struct xvm_stat_desc xvm_vm_stat_descs[] = {
	[XVM_VM_STAT_MMIO_HANDLED]	= XVM_STAT_VCPU_SUM("mmio_exits_handled",
						XVM_VCPU_STAT_MMIO_HANDLED),
	[XVM_VM_STAT_MMIO_UNHANDLED]	= XVM_STAT_VCPU_SUM("mmio_exits_unhandled",
						XVM_VCPU_STAT_MMIO_UNHANDLED),
	[XVM_VM_STAT_EVTCHN_SENDS]	= XVM_STAT_COUNTER("evtchn_sends"),
	[XVM_VM_STAT_EVTCHN_RAISES]	= XVM_STAT_COUNTER("evtchn_raises"),
	[XVM_VM_STAT_MSIX_DELIVERED]	= XVM_STAT_COUNTER("msix_delivered"),
	[XVM_VM_STAT_MSIX_LATCHED]	= XVM_STAT_COUNTER("msix_latched"),
	[XVM_VM_STAT_IOMMU_PAGES_MAPPED] = XVM_STAT_INSTANT("iommu_pages_mapped"),
};

static_assert(ARRAY_SIZE(xvm_vm_stat_descs) == XVM_VM_NR_STATS);

static const struct xvm_stat_desc xvm_vcpu_stat_descs[] = {
	[XVM_VCPU_STAT_POLLS]		= XVM_STAT_COUNTER("polls"),
	[XVM_VCPU_STAT_POLL_WAKEUPS]	= XVM_STAT_COUNTER("poll_wakeups"),
	[XVM_VCPU_STAT_POLL_TIMEOUTS]	= XVM_STAT_COUNTER("poll_timeouts"),
	[XVM_VCPU_STAT_HALT_SUCCESSFUL_POLL] = XVM_STAT_COUNTER("halt_successful_poll"),
	[XVM_VCPU_STAT_HALT_ATTEMPTED_POLL] = XVM_STAT_COUNTER("halt_attempted_poll"),
	[XVM_VCPU_STAT_HALT_POLL_INVALID] = XVM_STAT_COUNTER("halt_poll_invalid"),
	[XVM_VCPU_STAT_HALT_WAKEUP]	= XVM_STAT_COUNTER("halt_wakeup"),
	[XVM_VCPU_STAT_HALT_POLL_SUCCESS_NS] = XVM_STAT_TIME_NS("halt_poll_success_ns"),
	[XVM_VCPU_STAT_HALT_POLL_FAIL_NS] = XVM_STAT_TIME_NS("halt_poll_fail_ns"),
	[XVM_VCPU_STAT_HALT_WAIT_NS]	= XVM_STAT_TIME_NS("halt_wait_ns"),
	[XVM_VCPU_STAT_MMIO_HANDLED]	= XVM_STAT_COUNTER("mmio_exits_handled"),
	[XVM_VCPU_STAT_MMIO_UNHANDLED]	= XVM_STAT_COUNTER("mmio_exits_unhandled"),
};

static_assert(ARRAY_SIZE(xvm_vcpu_stat_descs) == XVM_VCPU_NR_STATS);

/* One descriptor as the file holds it: the struct, then its name. */
struct xvm_stats_desc_entry {
	struct xvm_stats_desc desc;
	char name[XVM_STATS_NAME_SIZE];
};

/**
 * struct xvm_stats_file - what a statistics fd refers to
 * @vm: the VM, referenced
 * @descs: the table of its kind
 * @nr: entries of @descs, and of @counters
 * @counters: the VM's or the vCPU's stats[]
 * @id: the id string
 */
struct xvm_stats_file {
	struct xvm_vm *vm;
	const struct xvm_stat_desc *descs;
	u32 nr;
	atomic64_t *counters;
	char id[XVM_STATS_NAME_SIZE];
};

/* Where a read is: the user buffer left, and the file offset. */
struct xvm_stats_cursor {
	char __user *buf;
	size_t count;
	loff_t pos;
};

static void xvm_stats_header(struct xvm_stats_header *hdr, u32 nr)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->name_size = XVM_STATS_NAME_SIZE;
	hdr->num_desc = nr;
	hdr->id_offset = sizeof(*hdr);
	hdr->desc_offset = hdr->id_offset + XVM_STATS_NAME_SIZE;
	hdr->data_offset = hdr->desc_offset +
			   nr * sizeof(struct xvm_stats_desc_entry);
}

static loff_t xvm_stats_size(const struct xvm_stats_file *sf)
{
	struct xvm_stats_header hdr;

	xvm_stats_header(&hdr, sf->nr);
	return hdr.data_offset + sf->nr * sizeof(u64);
}

/*
 * Copies the part of [start, start + size) of the file, whose bytes are
 * src, that the cursor is in.  The parts are visited in file order.
 */
static int xvm_stats_copy(struct xvm_stats_cursor *c, loff_t start,
			  const void *src, size_t size)
{
	size_t skip, len;

	if (!c->count || c->pos < start || c->pos - start >= (loff_t)size)
		return 0;
	skip = c->pos - start;
	len = min(c->count, size - skip);
	if (copy_to_user(c->buf, src + skip, len))
		return -EFAULT;
	c->buf += len;
	c->count -= len;
	c->pos += len;
	return 0;
}

static int xvm_stats_copy_descs(const struct xvm_stats_file *sf,
				struct xvm_stats_cursor *c,
				const struct xvm_stats_header *hdr)
{
	struct xvm_stats_desc_entry e;
	u32 i;
	int r;

	for (i = 0; i < sf->nr && c->count; i++) {
		memset(&e, 0, sizeof(e));
		e.desc.flags = sf->descs[i].flags;
		e.desc.exponent = sf->descs[i].exponent;
		e.desc.size = 1;
		e.desc.offset = i * sizeof(u64);
		strscpy(e.name, sf->descs[i].name, sizeof(e.name));
		r = xvm_stats_copy(c, hdr->desc_offset + i * sizeof(e),
				   &e, sizeof(e));
		if (r)
			return r;
	}
	return 0;
}

/* The sum of vCPU counter stat over the VM's vCPUs (all complete ones). */
static u64 xvm_stats_vcpu_sum(struct xvm_vm *vm, u32 stat)
{
	struct xvm_vcpu *vcpu;
	u64 sum = 0;
	u32 i;

	/* vCPUs only come (nr_vcpus grows) and live as long as the VM. */
	for (i = 0; (vcpu = xvm_get_vcpu(vm, i)); i++)
		sum += atomic64_read(&vcpu->stats[stat]);
	return sum;
}

static int xvm_stats_copy_data(const struct xvm_stats_file *sf,
			       struct xvm_stats_cursor *c,
			       const struct xvm_stats_header *hdr)
{
	u32 i, sum;
	u64 val;
	int r;

	for (i = 0; i < sf->nr && c->count; i++) {
		sum = sf->descs[i].vcpu_sum;
		val = sum ? xvm_stats_vcpu_sum(sf->vm, sum - 1) :
			    atomic64_read(&sf->counters[i]);
		r = xvm_stats_copy(c, hdr->data_offset + i * sizeof(val),
				   &val, sizeof(val));
		if (r)
			return r;
	}
	return 0;
}

static ssize_t xvm_stats_read(struct file *file, char __user *buf,
			      size_t count, loff_t *ppos)
{
	struct xvm_stats_file *sf = file->private_data;
	struct xvm_stats_cursor c = { .buf = buf, .count = count, .pos = *ppos };
	struct xvm_stats_header hdr;
	int r;

	xvm_stats_header(&hdr, sf->nr);
	r = xvm_stats_copy(&c, 0, &hdr, sizeof(hdr));
	if (!r)
		r = xvm_stats_copy(&c, hdr.id_offset, sf->id, sizeof(sf->id));
	if (!r)
		r = xvm_stats_copy_descs(sf, &c, &hdr);
	if (!r)
		r = xvm_stats_copy_data(sf, &c, &hdr);
	if (r)
		return r;
	*ppos = c.pos;
	return count - c.count;
}

/* SEEK_SET, SEEK_CUR and SEEK_END within the file's fixed size. */
static loff_t xvm_stats_llseek(struct file *file, loff_t offset, int whence)
{
	struct xvm_stats_file *sf = file->private_data;

	return fixed_size_llseek(file, offset, whence, xvm_stats_size(sf));
}

static int xvm_stats_release(struct inode *inode, struct file *file)
{
	struct xvm_stats_file *sf = file->private_data;

	xvm_vm_put(sf->vm);
	kfree(sf);
	return 0;
}

static const struct file_operations xvm_stats_fops = {
	.owner		= THIS_MODULE,
	.read		= xvm_stats_read,
	.llseek		= xvm_stats_llseek,
	.release	= xvm_stats_release,
};

/* A new read-only statistics fd of vm, or an errno; takes a VM reference. */
static int xvm_stats_fd_create(struct xvm_stats_file *sf)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto out_free;
	file = anon_inode_getfile("xvm-stats", &xvm_stats_fops, sf, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto out_free;
	}
	file->f_mode |= FMODE_PREAD;
	xvm_vm_get(sf->vm);
	fd_install(fd, file);
	return fd;

out_free:
	kfree(sf);
	return fd;
}

static struct xvm_stats_file *xvm_stats_file_alloc(struct xvm_vm *vm,
						   const struct xvm_stat_desc *descs,
						   u32 nr, atomic64_t *counters)
{
	struct xvm_stats_file *sf;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL_ACCOUNT);
	if (!sf)
		return NULL;
	sf->vm = vm;
	sf->descs = descs;
	sf->nr = nr;
	sf->counters = counters;
	return sf;
}

/* XVM_GET_STATS_FD on a VM fd. */
int xvm_vm_stats_fd(struct xvm_vm *vm)
{
	struct xvm_stats_file *sf;

	sf = xvm_stats_file_alloc(vm, xvm_vm_stat_descs, XVM_VM_NR_STATS,
				  vm->stats);
	if (!sf)
		return -ENOMEM;
	snprintf(sf->id, sizeof(sf->id), "xvm-%llu", vm->id);
	return xvm_stats_fd_create(sf);
}

/* XVM_GET_STATS_FD on a vCPU fd: the vCPU lives as long as its VM. */
int xvm_vcpu_stats_fd(struct xvm_vcpu *vcpu)
{
	struct xvm_stats_file *sf;

	sf = xvm_stats_file_alloc(vcpu->vm, xvm_vcpu_stat_descs,
				  XVM_VCPU_NR_STATS, vcpu->stats);
	if (!sf)
		return -ENOMEM;
	snprintf(sf->id, sizeof(sf->id), "xvm-%llu/vcpu-%u", vcpu->vm->id,
		 vcpu->id);
	return xvm_stats_fd_create(sf);
}
