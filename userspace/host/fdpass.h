/* SPDX-License-Identifier: GPL-2.0 */
/*
 * File descriptors passed over a unix socket (SCM_RIGHTS): one message of
 * a few bytes and up to FDPASS_MAX fds, sent and received whole.  Used by
 * the VMM's control socket, the selftests and the fuzzer.
 */
#ifndef _XVM_HOST_FDPASS_H
#define _XVM_HOST_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX	128

/*
 * Sends len bytes of buf (len >= 1) and nr fds (0 .. FDPASS_MAX) in one
 * message, without SIGPIPE: 0 once all of it went, else -1 with errno.
 */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds,
		unsigned int nr);

/*
 * Receives one message: up to len bytes into buf and up to max fds into
 * fds (close-on-exec), their number in *nr.  flags are recvmsg()'s (e.g.
 * MSG_DONTWAIT).  Returns the bytes received, or -1 with errno; EPROTO
 * when more fds came than max (those that did fit are closed).
 */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds,
		    unsigned int max, unsigned int *nr, int flags);

/* One fd with one byte: 0 or -1; the fd received, or -1 (EPROTO: none). */
int fdpass_send_one(int sock, int fd);
int fdpass_recv_one(int sock);

#endif /* _XVM_HOST_FDPASS_H */
