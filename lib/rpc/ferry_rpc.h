/* ferry_rpc.h — ferryd's JSON-RPC 2.0 control socket.
 *
 * A Unix stream socket carrying one JSON-RPC request (object or batch array) per line. Everything
 * runs on the control thread: ferryd polls ferry_rpc_fd() and calls ferry_rpc_process(), which never
 * blocks — slow, stuck or vanished clients cannot delay the loop or each other. Switch events are
 * forwarded as "event" notifications to clients that called events.subscribe. */
#ifndef FERRY_RPC_H
#define FERRY_RPC_H

#include <stddef.h>

struct ferry_switch;
struct ferry_rpc;

#define FERRY_RPC_DEFAULT_SOCKET      "/run/ferry/ferryd.sock"
#define FERRY_RPC_DEFAULT_MODE        0660
#define FERRY_RPC_DEFAULT_MAX_REQUEST (1u << 20)   /* bytes in one request line */
#define FERRY_RPC_DEFAULT_MAX_OUTPUT  (4u << 20)   /* unread output before a client is dropped */
#define FERRY_RPC_DEFAULT_MAX_CLIENTS 256
#define FERRY_RPC_DEFAULT_IDLE_TIMEOUT 60          /* seconds (config rpc.idle_timeout) */

struct ferry_rpc_opts {
	const char *path;      /* socket path; NULL or "" = the default. */
	unsigned mode;         /* file mode of the socket; 0 = 0660 */
	const char *group;     /* group owning the socket (by name); NULL or "" = leave it */
	size_t max_request;    /* 0 = 1 MiB */
	size_t max_output;     /* 0 = 4 MiB */
	unsigned max_clients;  /* 0 = 256; when full, the longest-idle client that is neither
				* subscribed nor busy is closed to make room */
	unsigned idle_timeout_s; /* close a client without a complete request for this long,
				  * subscribers excepted; 0 = never */
	int no_socket;         /* 1 = no socket at all: only ferry_rpc_handle() (tests, fuzzing) */
};

/* Binds the socket (creating its directory) and registers the switch event callback. sw may be
 * NULL: methods then validate their params and fail with -32603 "no switch" (the fuzzer uses
 * this). switch.shutdown sets *quit = 1 (quit may be NULL). Returns NULL with err filled. */
struct ferry_rpc *ferry_rpc_create(struct ferry_switch *sw, const struct ferry_rpc_opts *o,
				   volatile int *quit, char *err, size_t errlen);

/* An epoll fd: readable when ferry_rpc_process() has work to do. */
int ferry_rpc_fd(const struct ferry_rpc *r);

/* Non-blocking: accept, read, dispatch, write, drop dead clients. */
void ferry_rpc_process(struct ferry_rpc *r);

/* Change the idle timeout at runtime (seconds, 0 = never). */
void ferry_rpc_set_idle_timeout(struct ferry_rpc *r, unsigned seconds);

/* Closes every client, unregisters the event callback, removes the socket file. NULL is fine. */
void ferry_rpc_destroy(struct ferry_rpc *r);

/* Handle one request line (no connection: events.subscribe is refused) and return the response
 * text without a newline (malloc'd, free() it), or NULL when there is nothing to answer
 * (notifications only). */
char *ferry_rpc_handle(struct ferry_rpc *r, const char *line, size_t len);

#endif
