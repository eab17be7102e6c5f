/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checksum line that ends a state file (docs/state-file.md), for the
 * tools that write or edit state files outside xvm-vmm (the selftests' bad
 * files, tools/fuzz/xvm-state-fuzz): the file is BODY, then
 *
 *   STATE_CSUM_HEAD "%08x" STATE_CSUM_TAIL
 *
 * with the CRC-32 (IEEE 802.3, zlib's crc32()) of BODY, which ends ",\n".
 * Header-only: no library links it.
 */
#ifndef XVM_VMM_STATE_CSUM_H
#define XVM_VMM_STATE_CSUM_H

#include <stddef.h>
#include <stdint.h>

#define STATE_CSUM_HEAD	"  \"checksum\":\"crc32:"
#define STATE_CSUM_TAIL	"\"\n}\n"
#define STATE_CSUM_LEN	(sizeof(STATE_CSUM_HEAD) - 1 + 8 + sizeof(STATE_CSUM_TAIL) - 1)

/* CRC-32 of len bytes (bitwise: these tools check small files). */
static inline uint32_t state_crc32(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = ~0u;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

#endif /* XVM_VMM_STATE_CSUM_H */
