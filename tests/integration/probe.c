/*
 * probe.c - can this host give us a fanotify group of a given kind? Exit status sorts the
 * answer for lib.sh's require_fanotify: 0 yes, 77 EPERM (needs CAP_SYS_ADMIN), 78 ENOSYS
 * (kernel without fanotify), 79 EINVAL (flag unsupported), 1 anything else (a real error).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned flags = FAN_CLOEXEC;
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "fid"))
			flags |= FAN_REPORT_DFID_NAME | FAN_REPORT_FID;
		else if (!strcmp(argv[i], "perm"))
			flags |= FAN_CLASS_CONTENT;
		else if (!strcmp(argv[i], "pidfd"))
			flags |= 0x80; /* FAN_REPORT_PIDFD */
		else {
			fprintf(stderr, "probe: unknown flag %s\n", argv[i]);
			return 1;
		}
	}
	fd = fanotify_init(flags, O_RDONLY);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	switch (errno) {
	case EPERM:
		return 77;
	case ENOSYS:
		return 78;
	case EINVAL:
		return 79;
	default:
		fprintf(stderr, "probe: fanotify_init: %s\n", strerror(errno));
		return 1;
	}
}
