/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live update, between update.c (the old VMM: hands the VM over) and
 * update-take.c (the new VMM: takes it over).  The protocol is in
 * control.c's header comment; the description is one JSON object:
 *
 *   { "version": 1, "pid": OLD, "next_step": K, "t0": NS,
 *     "options": { "json": B, "verbose": B },
 *     "config": { "path": P, "text": T },
 *     "vm": { "xvm": F, "vm": F, "gic": F, "memfd": F, "mem_addr": A },
 *     "vcpus": [ { "fd": F, "kick": PORT, "notify": PORT, "wakeups": N } ],
 *     "ports": [ { "port": PORT, "seen": N, "waited": N } ],
 *     "spis": [ { "seen": N, "waited": N } ],
 *     "vfio": [ { "container": F, "group": F, "device": F, "msix": F,
 *                 "eventfds": [ F ], "pba_gpa": A, "bound_by_us": B,
 *                 "old_driver": S, "fired": [ N ], "delivered": [ N ],
 *                 "latched": [ N ] } ],
 *     "iommu": [ { "fd": F, "old_driver": S } ],
 *     "control": { "fd": F, "path": P },
 *     "window": { "dev": I, "vector": V, "count": N, "delivered": N },
 *     "items": [ [ KIND, TEXT, OK ] ] }
 *
 * F is an fd's index in the order the fds came (-1: none); "window" is
 * there when the device fired during the hand-over ("delivered": the
 * interposer's count before); "items" are the output so far (output.c),
 * so that the summary and --json cover both processes.
 */
#ifndef XVM_VMM_UPDATE_H
#define XVM_VMM_UPDATE_H

#include <string.h>
#include <json.h>

#include "vmm.h"

#define UPD_MAGIC	"XVMU"
#define UPD_VERSION	1
#define UPD_ACK		"CLMD"	/* the new VMM claimed the VM */
#define UPD_MAX_FDS	512	/* 3 + 64 vCPUs + 4 x (4 + 32) + 4 + 2 = 217 at most */
#define UPD_DESC_MAX	(8u << 20)
#define UPD_TIMEOUT_S	20	/* each side waits this long for the other */

/* Each message of fds: this header, with nr_fds fds attached. */
struct vmm_upd_hdr {
	char magic[4];		/* UPD_MAGIC */
	uint16_t version;	/* UPD_VERSION */
	uint16_t nr_fds;	/* attached to this message (<= FDPASS_MAX) */
	int32_t status;		/* 0, or why the hand-over is refused (errno) */
	uint32_t total_fds;	/* in all the messages */
	uint32_t desc_len;	/* the description's bytes, after the last message */
	uint32_t pad;
};

/* The fds of a hand-over, in the order they go. */
struct upd_fds {
	int fd[UPD_MAX_FDS];
	unsigned int n;
};

static inline void upd_hdr_init(struct vmm_upd_hdr *h, int status)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, UPD_MAGIC, sizeof(h->magic));
	h->version = UPD_VERSION;
	h->status = status;
}

#endif /* XVM_VMM_UPDATE_H */
