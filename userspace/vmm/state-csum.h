/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checksum line that ends a state file (docs/state-file.md), for the
 * tools that write or edit state files outside xvm-vmm (the selftests' bad
 * files, tools/fuzz/xvm-state-fuzz): the file is BODY, then
 *
 *   STATE_CSUM_HEAD "%08x" STATE_CSUM_TAIL
 *
 * with the CRC-32 (IEEE 802.3, zlib's crc32()) of BODY, which ends ",\n".
 * Header-only, shared by xvm-vmm's state.c and those tools.
 */
#ifndef XVM_VMM_STATE_CSUM_H
#define XVM_VMM_STATE_CSUM_H

#include <stddef.h>
#include <stdint.h>

#define STATE_CSUM_HEAD	"  \"checksum\":\"crc32:"
#define STATE_CSUM_TAIL	"\"\n}\n"
#define STATE_CSUM_LEN	(sizeof(STATE_CSUM_HEAD) - 1 + 8 + sizeof(STATE_CSUM_TAIL) - 1)

/*
 * CRC-32 of len bytes, a byte at a time through a table built on first use
 * (a state file may hold 256 MiB of memory pages).  Single-threaded callers.
 */
static inline uint32_t state_crc32(const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;
	uint32_t crc = ~0u;
	unsigned int i, k;

	if (!table[1])
		for (i = 0; i < 256; i++) {
			uint32_t c = i;

			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#endif /* XVM_VMM_STATE_CSUM_H */
