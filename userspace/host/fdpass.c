// SPDX-License-Identifier: GPL-2.0
/* File descriptors over a unix socket (fdpass.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

/* Room for FDPASS_MAX fds, aligned as a cmsghdr must be. */
union fdpass_cbuf {
	char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
	struct cmsghdr align;
};

int fdpass_send(int sock, const void *buf, size_t len, const int *fds,
		unsigned int nr)
{
	union fdpass_cbuf cbuf;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (!len || nr > FDPASS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (nr) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nr);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nr);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr);
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)len) {
		if (!errno)
			errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* The fds of msg's SCM_RIGHTS message into fds: their number. */
static unsigned int fdpass_take(struct msghdr *msg, int *fds)
{
	struct cmsghdr *cm;
	unsigned int n = 0;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(cm), sizeof(int) * n);
		break;
	}
	return n;
}

ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds,
		    unsigned int max, unsigned int *nr, int flags)
{
	union fdpass_cbuf cbuf;
	int got[FDPASS_MAX];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * (max > FDPASS_MAX ?
							     FDPASS_MAX : max)),
	};
	unsigned int n, i;
	ssize_t r;

	*nr = 0;
	r = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	if (r < 0)
		return -1;
	n = fdpass_take(&msg, got);
	if ((msg.msg_flags & MSG_CTRUNC) || n > max) {
		for (i = 0; i < n; i++)
			close(got[i]);
		errno = EPROTO;
		return -1;
	}
	if (n)
		memcpy(fds, got, sizeof(int) * n);
	*nr = n;
	return r;
}

int fdpass_send_one(int sock, int fd)
{
	return fdpass_send(sock, "f", 1, &fd, 1);
}

int fdpass_recv_one(int sock)
{
	unsigned int nr;
	char byte;
	int fd;

	if (fdpass_recv(sock, &byte, 1, &fd, 1, &nr, 0) < 0)
		return -1;
	if (nr != 1) {
		errno = EPROTO;
		return -1;
	}
	return fd;
}
