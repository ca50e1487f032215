/* ferryd_service.c — the sd_notify datagram protocol written by hand (a few lines; ferry does not
 * link libsystemd) and an rte_log stream on stderr that journald reads with levels. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <rte_log.h>
#include "ferryd_service.h"

int
ferryd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	ssize_t n;
	int fd;

	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')   /* abstract namespace */
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
	return n < 0 ? -1 : 0;
}

int
ferryd_notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	return ferryd_notify(msg);
}

static int journal;          /* stderr is the journal: prefix lines with "<priority>" */
static int at_line_start = 1;

/* True if $JOURNAL_STREAM ("dev:ino") is the file stderr is. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	       st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		const char *nl = memchr(buf + done, '\n', size - done);
		size_t len = nl != NULL ? (size_t)(nl - (buf + done)) + 1 : size - done;
		if (journal && at_line_start) {
			char pfx[8];   /* rte_log levels are syslog's plus one */
			int lvl = (int)rte_log_cur_msg_loglevel() - 1;
			int n = snprintf(pfx, sizeof(pfx), "<%d>", lvl < 0 || lvl > 7 ? 6 : lvl);
			if (write(2, pfx, (size_t)n) < 0)
				return -1;
		}
		if (write(2, buf + done, len) < 0)
			return -1;
		at_line_start = nl != NULL;
		done += len;
	}
	return (ssize_t)size;
}

void
ferryd_log_init(void)
{
	static const cookie_io_functions_t io = { .write = log_write };
	FILE *f = fopencookie(NULL, "w", io);

	journal = stderr_is_journal();
	if (f != NULL) {
		setvbuf(f, NULL, _IOLBF, 0);
		rte_openlog_stream(f);
	}
}
