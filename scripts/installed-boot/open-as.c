// SPDX-License-Identifier: GPL-2.0
/*
 * open-as - open /dev/xvm as a given user and create a VM, for
 * scripts/installed-boot.sh (built static, run in the guest as root).
 *
 *   open-as UID GID[,GID...] PATH
 *
 * Drops to UID with primary group the first GID and the others as
 * supplementary groups (what login's initgroups() gives), then opens PATH
 * read-write and issues XVM_GET_API_VERSION and XVM_CREATE_VM(0).
 * Prints one line: "open-as: ok api=N vmfd=N", or
 * "open-as: open: ENAME (message)" / "open-as: ioctl NAME: ENAME (message)".
 * Exit: 0 a VM was created; 2 open failed with EACCES; 3 open failed
 * otherwise; 4 an ioctl failed; 1 usage or privilege-drop error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/xvm.h>

#define MAX_GROUPS 16

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static int report(const char *what, int e, int code)
{
	printf("open-as: %s: %s (%s)\n", what, ename(e), strerror(e));
	return code;
}

static int drop_to(const char *uid_s, char *gids_s)
{
	gid_t gids[MAX_GROUPS];
	int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(gids_s, ",", &save); tok && n < MAX_GROUPS;
	     tok = strtok_r(NULL, ",", &save))
		gids[n++] = (gid_t)strtoul(tok, NULL, 10);
	if (n == 0)
		return -1;
	if (setgroups((size_t)n, gids) || setgid(gids[0]) ||
	    setuid((uid_t)strtoul(uid_s, NULL, 10)))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int fd, api, vm;

	if (argc != 4) {
		fprintf(stderr, "usage: open-as UID GID[,GID...] PATH\n");
		return 1;
	}
	if (drop_to(argv[1], argv[2]))
		return report("dropping privileges", errno, 1);
	fd = open(argv[3], O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return report("open", errno, errno == EACCES ? 2 : 3);
	api = ioctl(fd, XVM_GET_API_VERSION, 0);
	if (api < 0)
		return report("ioctl XVM_GET_API_VERSION", errno, 4);
	vm = ioctl(fd, XVM_CREATE_VM, 0);
	if (vm < 0)
		return report("ioctl XVM_CREATE_VM", errno, 4);
	printf("open-as: ok api=%d vmfd=%d\n", api, vm);
	return 0;
}
