/*
 * log.c - owns the log level, the destination (stderr or syslog), the log queue and the
 * thread that writes it: the only file-scope mutable state of the daemon.
 *
 * From log_prepare() on, no caller ever writes a log line itself: log_msg() formats the
 * line into a bounded queue (LOG_QUEUE_BYTES) and the log thread writes it. A destination
 * that blocks (stderr on a pipe nobody reads, a stalled syslog daemon) stalls only that
 * thread, never the event loop and so never a permission answer (fapolicyd #427). Lines that
 * do not fit are counted and the count is written as soon as the destination takes lines
 * again. The thread starts only with log_start(), after the daemon has dropped its
 * capabilities (they are per thread); lines logged before wait in the queue. Before
 * log_prepare() and after a clean log_stop() lines are written directly; after a log_stop()
 * that timed out they are dropped.
 *
 * syslog() formats its time stamp with localtime_r(), which opens /etc/localtime the first
 * time: log_prepare() loads the time zone (and connects to syslog) before any mark is
 * placed, so that no later message opens a file on a marked filesystem.
 *
 * Under systemd, stderr is often a stream to the journal ($JOURNAL_STREAM says which): each
 * line then starts with its priority as sd-daemon(3)'s "<N>" and carries neither the
 * "fanotifyd: " nor the "error: " tag, as a syslog line does, since the journal keeps the
 * priority (PRIORITY=, what journalctl -p selects) and the name (SYSLOG_IDENTIFIER=) itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 4096	/* longest line (the stats line: ~60 counters); longer are cut */

struct log_rl {
	time_t second;
	unsigned used;
	unsigned long suppressed;
};

struct log_queue {
	char data[LOG_QUEUE_BYTES];	/* entries: one level byte, the text, '\0' */
	size_t len;
};

static enum log_level log_max = LOG_LEVEL_NOTICE;
static bool log_syslog, log_opened;
static log_sink_fn *log_sink;		/* NULL = stderr or syslog */
static bool log_journal;		/* stderr is the journal's stream: "<N>" prefixes */
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
/* Under lock: */
static struct log_queue queues[2];
static struct log_queue *pending = &queues[0];
static bool queueing, started, stopping, stalled;
static unsigned long dropped;		/* lines the queue had no room for, not yet reported */
static unsigned long dropped_total;
static struct log_rl rl_daemon, rl_hook;
static pthread_t thread;

void log_setup(unsigned verbose, bool use_syslog)
{
	unsigned lvl = LOG_LEVEL_NOTICE + verbose;

	pthread_mutex_lock(&lock);
	log_max = lvl > LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : (enum log_level)lvl;
	log_syslog = use_syslog;
	pthread_mutex_unlock(&lock);
}

void log_set_sink(log_sink_fn *fn)
{
	pthread_mutex_lock(&lock);
	log_sink = fn;
	pthread_mutex_unlock(&lock);
}

/* Connects to syslog once (LOG_NDELAY: now, before the marks, not at the first line). */
static void syslog_open(void)
{
	if (log_opened)
		return;
	openlog("fanotifyd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_opened = true;
}

void log_prepare(bool will_syslog)
{
	tzset(); /* opens /etc/localtime now, not at the first syslog() after the marks */
	if (will_syslog)
		syslog_open();
	pthread_mutex_lock(&lock);
	queueing = true;
	pthread_mutex_unlock(&lock);
}

void log_use_syslog(void)
{
	syslog_open(); /* done before the marks by log_prepare(true): nothing new now */
	pthread_mutex_lock(&lock);
	log_syslog = true;
	pthread_mutex_unlock(&lock);
}

bool log_enabled(enum log_level level)
{
	return level <= log_max;
}

/*
 * Whether stderr is the journal: $JOURNAL_STREAM is "DEV:INODE" of the stream the service
 * manager gave stdout and stderr (systemd.exec(5)), in decimal; it is ours only if it is
 * still what fd 2 is (a shell or a redirection in between keeps the variable, not the fd).
 */
static void journal_detect(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;

	if (!s || sscanf(s, "%llu:%llu%n", &dev, &ino, &end) != 2 || s[end] != '\0')
		return;
	if (fstat(STDERR_FILENO, &st) < 0)
		return; /* no stderr: nothing is written to it either */
	log_journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Writes one line; called by the log thread, or directly when there is none. */
static void emit(bool to_syslog, enum log_level level, const char *text)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error: ", "warning: ", "", "", "debug: " };
	char line[LOG_LINE_MAX + 32];
	size_t off = 0;
	int n;

	if (log_sink) {
		log_sink(level, text);
		return;
	}
	if (to_syslog) {
		syslog(prio[level], "%s", text);
		return;
	}
	(void)pthread_once(&journal_once, journal_detect); /* fails only with bad arguments */
	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>%s\n", prio[level], text);
	else
		n = snprintf(line, sizeof(line), "fanotifyd: %s%s\n", tag[level], text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	while (off < (size_t)n) {
		ssize_t w = write(STDERR_FILENO, line + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to say it */
		off += (size_t)w;
	}
}

static void *log_thread(void *arg)
{
	static struct log_queue *mine = &queues[1];

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		unsigned long lost;
		bool to_syslog;

		while (!pending->len && !dropped && !stopping)
			pthread_cond_wait(&cond, &lock);
		if (!pending->len && !dropped)
			break; /* stopping, and everything written */
		struct log_queue *q = pending;

		pending = mine;
		mine = q;
		lost = dropped;
		dropped = 0;
		to_syslog = log_syslog;
		pthread_mutex_unlock(&lock);

		if (lost) {
			char msg[128];

			snprintf(msg, sizeof(msg),
				 "%lu log messages dropped: the log destination did not take them",
				 lost);
			emit(to_syslog, LOG_LEVEL_WARN, msg);
		}
		for (size_t off = 0; off < mine->len;) {
			const char *text = mine->data + off + 1;

			emit(to_syslog, (enum log_level)mine->data[off], text);
			off += 1 + strlen(text) + 1;
		}
		mine->len = 0;
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int log_start(void)
{
	int r;

	pthread_mutex_lock(&lock);
	r = started ? 0 : pthread_create(&thread, NULL, log_thread, NULL);
	if (r == 0)
		started = true;
	pthread_mutex_unlock(&lock);
	return -r;
}

void log_stop(unsigned timeout_ms)
{
	struct timespec until;
	int r = 0;

	pthread_mutex_lock(&lock);
	/* Lines queued by a start that failed before log_start(): a thread writes them, so
	 * that a stalled destination cannot hold up the exit either. */
	if (!started && queueing && pending->len)
		r = pthread_create(&thread, NULL, log_thread, NULL);
	queueing = false;
	if (!started && (r || !pending->len)) {
		pthread_mutex_unlock(&lock);
		return;
	}
	started = true;
	stopping = true;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);

	(void)clock_gettime(CLOCK_REALTIME, &until); /* pthread_timedjoin_np's clock */
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	r = pthread_timedjoin_np(thread, NULL, &until);
	pthread_mutex_lock(&lock);
	started = false;
	/* Still blocked on the destination: it is left to the process's exit, and nothing
	 * more is written (a direct write would block the caller the same way). */
	stalled = r != 0;
	pthread_mutex_unlock(&lock);
}

unsigned long log_dropped(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = dropped_total;
	pthread_mutex_unlock(&lock);
	return n;
}

/* Under lock: whether a rate-limited line may go now (LOG_RATELIMIT_PER_S a second). When
 * one goes after others were held back, *ret_suppressed says how many. */
static bool rl_pass(struct log_rl *rl, unsigned long *ret_suppressed)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* cannot fail with a valid clock */
	*ret_suppressed = 0;
	if (ts.tv_sec != rl->second) {
		rl->second = ts.tv_sec;
		rl->used = 0;
	}
	if (rl->used >= LOG_RATELIMIT_PER_S) {
		rl->suppressed++;
		return false;
	}
	rl->used++;
	*ret_suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

/* Under lock: queues one line, or writes it when there is no thread. */
static void put(enum log_level level, const char *text)
{
	size_t n = strlen(text) + 2;

	if (stalled)
		return;
	if (!started && !queueing) {
		emit(log_syslog, level, text);
		return;
	}
	if (pending->len + n > sizeof(pending->data)) {
		dropped++;
		dropped_total++;
		return;
	}
	pending->data[pending->len] = (char)level;
	memcpy(pending->data + pending->len + 1, text, n - 1);
	if (!pending->len)
		pthread_cond_signal(&cond);
	pending->len += n;
}

static void log_v(enum log_level level, struct log_rl *rl, int err, const char *fmt,
		  va_list ap)
{
	char text[LOG_LINE_MAX];
	unsigned long suppressed = 0;
	int n;

	if (!log_enabled(level))
		return;
	n = vsnprintf(text, sizeof(text), fmt, ap); /* cut at LOG_LINE_MAX */
	if (err && n >= 0 && (size_t)n < sizeof(text))
		(void)snprintf(text + n, sizeof(text) - (size_t)n, ": %s",
			       strerror(err < 0 ? -err : err));
	pthread_mutex_lock(&lock);
	if (!rl || rl_pass(rl, &suppressed)) {
		if (suppressed) {
			char msg[64];

			snprintf(msg, sizeof(msg), "%lu similar messages suppressed", suppressed);
			put(level, msg);
		}
		put(level, text);
	}
	pthread_mutex_unlock(&lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(level, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_errno(enum log_level level, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(level, NULL, err, fmt, ap);
	va_end(ap);
}

void log_rl(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(level, &rl_daemon, 0, fmt, ap);
	va_end(ap);
}

void log_rl_errno(enum log_level level, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(level, &rl_daemon, err, fmt, ap);
	va_end(ap);
}

void log_rl_hook(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(level, &rl_hook, 0, fmt, ap);
	va_end(ap);
}
