/* rpc_private.h — what the files of lib/rpc share: the server and client objects, the method
 * table's types and the param helpers. Not a public API. */
#ifndef FERRY_RPC_PRIVATE_H
#define FERRY_RPC_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "ferry_rpc.h"
#include "ferry_sock.h"

struct rpc_batch;              /* rpc_dispatch.c: a batch being answered over several rounds */

struct rpc_client {
	struct rpc_client *next;
	int fd;
	unsigned id;               /* connection number, for logs */
	bool has_cred;             /* peer_pid/peer_uid known (SO_PEERCRED) */
	pid_t peer_pid;
	uid_t peer_uid;
	uint64_t last_request_ms;  /* connected, or last complete request handled: idle timer */
	struct rpc_batch *batch;   /* the batch being answered, or NULL */
	uint32_t epoll_events;     /* interest currently registered */
	bool subscribed;           /* receives event notifications */
	bool eof;                  /* peer shut down its side: answer what is buffered, then close */
	bool closing;              /* read no more; close once the output is flushed (or deadline) */
	bool dead;                 /* close at the next reap */
	uint64_t close_deadline_ms;
	char *in;                  /* unprocessed input */
	size_t in_len, in_cap, in_scan;   /* in_scan: bytes known to hold no '\n' */
	char *out;                 /* unsent output: out[out_off .. out_len) */
	size_t out_off, out_len, out_cap;
};

struct ferry_rpc {
	struct ferry_switch *sw;
	volatile int *quit;
	char path[108];
	struct ferry_sock_id sock_id;   /* the socket file we created (removed only if it is ours) */
	int listen_fd, epoll_fd, wake_fd;
	bool accept_paused;        /* out of fds: listen socket taken out of epoll for a while */
	uint64_t accept_resume_ms;
	size_t max_request, max_output;
	unsigned max_clients, n_clients, next_id;
	unsigned idle_timeout_s;   /* 0 = never close idle clients */
	uint64_t next_sweep_ms;    /* next look for idle clients */
	struct rpc_client *clients;
};

/* One method call being handled. */
struct rpc_call {
	struct ferry_rpc *r;
	struct rpc_client *client;   /* NULL from ferry_rpc_handle() */
	json_t *params;              /* always an object (empty when absent) */
	char err[512];
};

typedef int (*rpc_handler)(struct rpc_call *c, json_t **result);

struct rpc_method {
	const char *name;
	rpc_handler fn;
	const char *params;          /* short signature, for rpc.methods and ferryctl */
	const char *help;            /* one line */
};

/* rpc_methods.c: the one method table. */
const struct rpc_method *rpc_method_find(const char *name);
json_t *rpc_methods_json(void);

/* rpc_dispatch.c: one request line in, response text out (malloc'd, no newline) or NULL; a
 * batch is answered whole. */
char *rpc_handle_line(struct ferry_rpc *r, struct rpc_client *client, const char *line, size_t len);
/* The same, except that a batch is only started: *batch is set (text NULL) and the caller runs it
 * with rpc_batch_step() until that returns true. */
char *rpc_line_begin(struct ferry_rpc *r, struct rpc_client *client, const char *line, size_t len,
		     struct rpc_batch **batch);
/* Run up to max_requests more requests of the batch (at least one; none once rpc_now_ms() passes
 * deadline_ms, 0 = no deadline). Returns true when the batch is done: *text is then its answer
 * (malloc'd; NULL for a batch of notifications only). */
bool rpc_batch_step(struct ferry_rpc *r, struct rpc_client *client, struct rpc_batch *b,
		    unsigned max_requests, uint64_t deadline_ms, char **text);
void rpc_batch_free(struct rpc_batch *b);

/* rpc_server.c */
void rpc_client_subscribe(struct ferry_rpc *r, struct rpc_client *c, bool on);
void rpc_wake(struct ferry_rpc *r);     /* make ferry_rpc_fd() readable: more work is pending */
uint64_t rpc_now_ms(void);

/* rpc_socket.c: the socket file. */
int rpc_socket_open(struct ferry_rpc *r, const struct ferry_rpc_opts *o, char *err, size_t errlen);
void rpc_socket_close(struct ferry_rpc *r);

/* rpc_client.c: one connection's buffers and I/O. */
struct rpc_client *rpc_client_new(struct ferry_rpc *r, int fd);
void rpc_client_free(struct ferry_rpc *r, struct rpc_client *c);
/* Close it at the next reap (its buffered output is dropped). */
void rpc_client_kill(struct ferry_rpc *r, struct rpc_client *c);
/* Busy: a request is buffered or being answered, or an answer is not yet sent. */
bool rpc_client_busy(const struct rpc_client *c);
void rpc_client_ready(struct ferry_rpc *r, struct rpc_client *c, uint32_t events);
/* Answer buffered requests: at most a few, and none once rpc_now_ms() passes deadline_ms.
 * Returns true if more are waiting. */
bool rpc_client_work(struct ferry_rpc *r, struct rpc_client *c, uint64_t deadline_ms);
/* Queue text plus '\n' and try to send it; a client whose unread output would exceed
 * max_output is marked dead. */
void rpc_client_send_line(struct ferry_rpc *r, struct rpc_client *c, const char *text);
/* Register the epoll interest the client's state calls for; closes out the closing state. */
void rpc_client_update(struct ferry_rpc *r, struct rpc_client *c);

/* rpc_params.c: typed params; each returns 0 or FERRY_EINVAL with "params.<key>: ..." in c->err. */
int rpc_err(struct rpc_call *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int rpc_check_keys(struct rpc_call *c, const char *const *allowed);
int rpc_get_string(struct rpc_call *c, const char *key, bool required, const char **out);
int rpc_get_uint(struct rpc_call *c, const char *key, bool required, unsigned min, unsigned max,
		 unsigned *out);
int rpc_get_bool(struct rpc_call *c, const char *key, bool *out);
int rpc_need_switch(struct rpc_call *c);

#endif
