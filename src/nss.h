/*
 * nss.h - name service look-ups the daemon makes at start-up (and --check-config makes
 * for it), each in one place.
 */
#ifndef FANOTIFYD_NSS_H
#define FANOTIFYD_NSS_H

#include <sys/types.h>

#define NSS_GROUP_BUF_MAX (1u << 20)	/* getgrnam_r buffer bound (huge group entries) */

/*
 * Resolves a group name, or a number that is not a group name, as chown(1) does. NSS reads
 * /etc/group (or asks a daemon): call before any permission mark is placed. Returns 0 and
 * sets *ret_gid, -ENOENT for no such group, or another negative errno.
 */
int nss_group(const char *name, gid_t *ret_gid);

#endif
