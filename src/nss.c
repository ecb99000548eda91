/*
 * nss.c - group names to gids for socket_group and output_group, resolved once at start-up
 * and by --check-config with the same rule. Owns nothing past a call; never logs.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>

#include "nss.h"

int nss_group(const char *name, gid_t *ret_gid)
{
	struct group gr, *res = NULL;
	size_t size = 4096;
	char *buf = NULL, *end;
	unsigned long v;
	int r;

	for (;;) {
		char *nbuf = realloc(buf, size);

		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
		r = getgrnam_r(name, &gr, buf, size, &res);
		if (r != ERANGE || size >= NSS_GROUP_BUF_MAX)
			break;
		size *= 2;
	}
	if (r == 0 && res) {
		*ret_gid = res->gr_gid;
		free(buf);
		return 0;
	}
	free(buf);
	/* getgrnam_r(3): these say "not found" on some NSS modules. */
	if (r != 0 && r != ENOENT && r != ESRCH && r != EBADF && r != EPERM)
		return -r;
	errno = 0;
	v = strtoul(name, &end, 10);
	if (name[0] < '0' || name[0] > '9' || *end || errno || v >= (gid_t)-1)
		return -ENOENT;
	*ret_gid = (gid_t)v;
	return 0;
}
