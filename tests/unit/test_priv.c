/*
 * test_priv.c - priv.c's CAP_SYS_ADMIN for reloads: priv_admin() raises it into the calling
 * thread's effective set and lowers it, and refuses when it was not kept; threads started
 * under priv_lowered() (and that helper itself) lack it even permitted, while the calling
 * thread keeps it; priv_thread_lower() drops it for good. Capabilities are per thread, so
 * each case runs on a thread of its own and the test process keeps what it had. Needs
 * CAP_SYS_ADMIN permitted (root): skipped without.
 */
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "priv.h"

#define ADMIN (UINT64_C(1) << CAP_SYS_ADMIN)

struct sets {
	uint64_t eff, perm;
};

static struct sets sets_now(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3];
	struct sets s = { 0, 0 };

	if (syscall(SYS_capget, &h, c) == 0) {
		s.eff = (uint64_t)c[1].effective << 32 | c[0].effective;
		s.perm = (uint64_t)c[1].permitted << 32 | c[0].permitted;
	}
	return s;
}

/* The calling thread: CAP_SYS_ADMIN permitted but not effective, as priv_drop() leaves the
 * loop thread. */
static int lower_effective(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, c) < 0)
		return -errno;
	c[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	return syscall(SYS_capset, &h, c) < 0 ? -errno : 0;
}

static void run_on_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

struct admin_case {
	int r_low, r_on, r_off, r_off_again;
	struct sets after_on, after_off;
};

static void *admin_thread(void *arg)
{
	struct admin_case *c = arg;
	const struct priv p = { .admin = true };

	c->r_low = lower_effective();
	c->r_on = priv_admin(&p, true);
	c->after_on = sets_now();
	c->r_off = priv_admin(&p, false);
	c->after_off = sets_now();
	c->r_off_again = priv_admin(&p, false);
	return NULL;
}

static void test_admin_raise_lower(void **state)
{
	struct admin_case c;

	(void)state;
	if (!(sets_now().perm & ADMIN))
		skip();
	memset(&c, 0, sizeof(c));
	run_on_thread(admin_thread, &c);
	assert_int_equal(c.r_low, 0);
	assert_int_equal(c.r_on, 0);
	assert_true(c.after_on.eff & ADMIN);
	assert_int_equal(c.r_off, 0);
	assert_false(c.after_off.eff & ADMIN);
	assert_true(c.after_off.perm & ADMIN); /* raised again by the next reload */
	assert_int_equal(c.r_off_again, 0);
}

static void test_admin_not_kept(void **state)
{
	const struct priv p = { .admin = false };

	(void)state;
	assert_int_equal(priv_admin(&p, true), -EPERM);
	assert_int_equal(priv_admin(&p, false), -EPERM);
}

struct lowered_case {
	pthread_t caller;
	bool on_caller;		/* fn ran on the calling thread */
	struct sets helper;	/* the thread fn ran on */
	struct sets child;	/* a thread fn started */
	struct sets caller_after;
};

static void *child_thread(void *arg)
{
	struct lowered_case *c = arg;

	c->child = sets_now();
	return NULL;
}

static int lowered_fn(void *arg)
{
	struct lowered_case *c = arg;
	pthread_t t;

	c->on_caller = pthread_equal(pthread_self(), c->caller);
	c->helper = sets_now();
	if (pthread_create(&t, NULL, child_thread, c) != 0)
		return -EAGAIN;
	return pthread_join(t, NULL) == 0 ? 42 : -EINVAL;
}

static void *lowered_thread(void *arg)
{
	struct lowered_case *c = arg;
	const struct priv p = { .admin = true };

	c->caller = pthread_self();
	assert_int_equal(priv_lowered(&p, lowered_fn, c), 42);
	c->caller_after = sets_now();
	return NULL;
}

static void test_lowered(void **state)
{
	struct lowered_case c;

	(void)state;
	if (!(sets_now().perm & ADMIN))
		skip();
	memset(&c, 0, sizeof(c));
	run_on_thread(lowered_thread, &c);
	assert_false(c.on_caller);
	assert_false(c.helper.perm & ADMIN);
	assert_false(c.helper.eff & ADMIN);
	assert_false(c.child.perm & ADMIN);
	assert_false(c.child.eff & ADMIN);
	assert_true(c.caller_after.perm & ADMIN);
}

static void *not_kept_thread(void *arg)
{
	struct lowered_case *c = arg;
	const struct priv p = { .admin = false };

	c->caller = pthread_self();
	assert_int_equal(priv_lowered(&p, lowered_fn, c), 42);
	return NULL;
}

static void test_lowered_not_kept(void **state)
{
	struct lowered_case c;

	(void)state;
	memset(&c, 0, sizeof(c));
	run_on_thread(not_kept_thread, &c);
	assert_true(c.on_caller); /* nothing to drop: no thread of its own */
}

static void *thread_lower(void *arg)
{
	struct sets *s = arg;

	if (priv_thread_lower() == 0)
		s[0] = sets_now();
	s[1].perm = priv_thread_lower() == 0; /* again: nothing left to drop */
	return NULL;
}

static void test_thread_lower(void **state)
{
	struct sets s[2] = { { ADMIN, ADMIN }, { 0, 0 } };

	(void)state;
	if (!(sets_now().perm & ADMIN))
		skip();
	run_on_thread(thread_lower, s);
	assert_false(s[0].perm & ADMIN);
	assert_false(s[0].eff & ADMIN);
	assert_true(s[1].perm);
	assert_true(sets_now().perm & ADMIN); /* the test's own thread keeps it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admin_raise_lower),
		cmocka_unit_test(test_admin_not_kept),
		cmocka_unit_test(test_lowered),
		cmocka_unit_test(test_lowered_not_kept),
		cmocka_unit_test(test_thread_lower),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
