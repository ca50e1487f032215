/* rpc_dispatch.c — JSON-RPC 2.0 framing of one request line: parse, single request or batch,
 * notifications, the standard error codes, and the response text. Transport-free: the server and
 * ferry_rpc_handle() both come here. A batch is run a few requests at a time (rpc_batch_step), so
 * the server can answer other clients between the steps of a long one; its answer is still one
 * array, in request order, bounded by max_output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ferry_common.h"
#include "rpc_private.h"

#define MAX_BATCH 1000   /* requests in one batch: bounds the work one line can cause */

/* A jansson string even from invalid UTF-8 (a message cut inside a character): non-ASCII bytes
 * become '?' then. */
static json_t *
rpc_json_string(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	json_t *j = json_stringn(s, n);
	char *copy;

	if (j != NULL)
		return j;
	copy = malloc(n + 1);   /* invalid UTF-8 (or cut inside a character): keep the ASCII */
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	j = json_stringn(copy, n);
	free(copy);
	return j;
}

static json_t *
error_response(json_t *id, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static json_t *
error_response(json_t *id, int code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:{s:i, s:o}, s:O}", "jsonrpc", "2.0", "error", "code", code,
			 "message", rpc_json_string(msg, sizeof(msg)),
			 "id", id != NULL ? id : json_null());
}

static json_t *
result_response(json_t *id, json_t *result /* stolen */)
{
	return json_pack("{s:s, s:o, s:O}", "jsonrpc", "2.0", "result", result, "id", id);
}

static bool
valid_id(const json_t *id)
{
	return json_is_string(id) || json_is_number(id) || json_is_null(id);
}

/* Run the method; the response, or NULL for a notification. */
static json_t *
call(struct ferry_rpc *r, struct rpc_client *client, const struct rpc_method *m, json_t *params,
     json_t *id)
{
	struct rpc_call c = { .r = r, .client = client, .err = "" };
	json_t *result = NULL;
	int rc;

	c.params = params != NULL ? json_incref(params) : json_object();
	if (c.params == NULL)
		rc = rpc_err(&c, FERRY_EINTERNAL, "out of memory");
	else
		rc = m->fn(&c, &result);
	json_decref(c.params);
	if (rc >= 0 && result == NULL)
		rc = rpc_err(&c, FERRY_EINTERNAL, "%s: no result", m->name);
	if (id == NULL) {
		json_decref(result);
		return NULL;
	}
	if (rc < 0) {
		json_decref(result);
		return error_response(id, rc, "%s", c.err[0] ? c.err : "failed");
	}
	return result_response(id, result);
}

/* One request object (or whatever stands in its place in a batch). */
static json_t *
handle_request(struct ferry_rpc *r, struct rpc_client *client, json_t *req)
{
	json_t *id, *ver, *method, *params;
	const struct rpc_method *m;

	if (!json_is_object(req))
		return error_response(NULL, FERRY_EINVALID_REQ, "invalid request: must be an object");
	id = json_object_get(req, "id");
	if (id != NULL && !valid_id(id))
		return error_response(NULL, FERRY_EINVALID_REQ,
				      "invalid request: id must be a string, a number or null");
	ver = json_object_get(req, "jsonrpc");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
		return error_response(id, FERRY_EINVALID_REQ,
				      "invalid request: \"jsonrpc\" must be \"2.0\"");
	method = json_object_get(req, "method");
	if (!json_is_string(method))
		return error_response(id, FERRY_EINVALID_REQ,
				      "invalid request: \"method\" must be a string");
	params = json_object_get(req, "params");
	m = rpc_method_find(json_string_value(method));
	if (m == NULL)
		return id == NULL ? NULL : error_response(id, FERRY_ENOMETHOD, "method not found: %.64s",
							  json_string_value(method));
	if (params != NULL && !json_is_object(params))
		return id == NULL ? NULL : error_response(id, FERRY_EINVAL,
							  "params: must be an object");
	return call(r, client, m, params, id);
}

/* A batch being answered, possibly over several rounds of ferry_rpc_process(): the requests
 * still to run and the answer text built so far ("[" + answers joined by ","). */
struct rpc_batch {
	json_t *reqs;              /* the batch array (owned) */
	size_t next, n;            /* next request to run, requests in all */
	char *out;                 /* the answer text so far, '\0'-terminated */
	size_t out_len, out_cap;
	size_t max_out;            /* past this many bytes of answers, the rest are not run */
	bool oom;
};

void
rpc_batch_free(struct rpc_batch *b)
{
	if (b == NULL)
		return;
	json_decref(b->reqs);
	free(b->out);
	free(b);
}

static void
batch_append(struct rpc_batch *b, json_t *resp /* stolen */)
{
	char *text = json_dumps(resp, JSON_COMPACT);
	size_t len = text != NULL ? strlen(text) : 0;

	json_decref(resp);
	if (text == NULL || b->oom) {
		b->oom = true;
		free(text);
		return;
	}
	if (b->out_len + len + 3 > b->out_cap) {   /* separator, closing bracket, NUL */
		size_t cap = b->out_cap * 2 > b->out_len + len + 3 ? b->out_cap * 2
								   : b->out_len + len + 3;
		char *nb = realloc(b->out, cap);
		if (nb == NULL) {
			b->oom = true;
			free(text);
			return;
		}
		b->out = nb;
		b->out_cap = cap;
	}
	char sep = b->out_len == 0 ? '[' : ',';

	b->out[b->out_len++] = sep;
	memcpy(b->out + b->out_len, text, len);
	b->out_len += len;
	b->out[b->out_len] = '\0';
	free(text);
}

/* The next request of the batch; once the answers exceed max_out, the rest are not run and
 * each gets a -32004 error (notifications among them: nothing). */
static void
batch_run_one(struct ferry_rpc *r, struct rpc_client *client, struct rpc_batch *b)
{
	json_t *req = json_array_get(b->reqs, b->next++), *resp;

	if (b->out_len > b->max_out) {
		json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
		if (json_is_object(req) && id == NULL)
			return;   /* a notification: not run, not answered */
		resp = error_response(valid_id(id) ? id : NULL, FERRY_ELIMIT,
				      "batch answer over %zu bytes: request not run", b->max_out);
	} else {
		resp = handle_request(r, client, req);
	}
	if (resp != NULL)
		batch_append(b, resp);
}

bool
rpc_batch_step(struct ferry_rpc *r, struct rpc_client *client, struct rpc_batch *b,
	       unsigned max_requests, uint64_t deadline_ms, char **text)
{
	*text = NULL;
	for (unsigned i = 0; b->next < b->n && i < max_requests; i++) {
		if (i > 0 && deadline_ms != 0 && rpc_now_ms() >= deadline_ms)
			break;
		batch_run_one(r, client, b);
	}
	if (b->next < b->n)
		return false;
	if (b->oom) {
		json_t *e = error_response(NULL, FERRY_EINTERNAL, "out of memory for the batch answer");
		*text = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
	} else if (b->out_len > 0) {   /* else notifications only: no answer */
		b->out[b->out_len++] = ']';
		b->out[b->out_len] = '\0';
		*text = b->out;
		b->out = NULL;
	}
	return true;
}

/* A batch array: refused whole (empty, too long) as *resp, or started as *batch. */
static void
batch_begin(struct ferry_rpc *r, json_t *root, json_t **resp, struct rpc_batch **batch)
{
	size_t n = json_array_size(root);
	struct rpc_batch *b;

	if (n == 0) {
		*resp = error_response(NULL, FERRY_EINVALID_REQ, "invalid request: empty batch");
		return;
	}
	if (n > MAX_BATCH) {
		*resp = error_response(NULL, FERRY_EINVALID_REQ,
				       "invalid request: batch too large: %zu requests (max %d)", n,
				       MAX_BATCH);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		*resp = error_response(NULL, FERRY_EINTERNAL, "out of memory");
		return;
	}
	b->reqs = json_incref(root);
	b->n = n;
	b->max_out = r != NULL && r->max_output != 0 ? r->max_output
						      : FERRY_RPC_DEFAULT_MAX_OUTPUT;
	*batch = b;
}

char *
rpc_line_begin(struct ferry_rpc *r, struct rpc_client *client, const char *line, size_t len,
	       struct rpc_batch **batch)
{
	json_error_t je;
	json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	json_t *resp = NULL;
	char *text;

	*batch = NULL;
	if (root == NULL)
		resp = error_response(NULL, FERRY_EPARSE, "parse error: %s (at byte %d)", je.text,
				      je.position);
	else if (json_is_array(root))
		batch_begin(r, root, &resp, batch);
	else
		resp = handle_request(r, client, root);
	json_decref(root);
	if (resp == NULL)
		return NULL;
	text = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	return text;
}

char *
rpc_handle_line(struct ferry_rpc *r, struct rpc_client *client, const char *line, size_t len)
{
	struct rpc_batch *b;
	char *text = rpc_line_begin(r, client, line, len, &b);

	if (b != NULL) {   /* no connection to be fair to: the whole batch at once */
		rpc_batch_step(r, client, b, MAX_BATCH, 0, &text);
		rpc_batch_free(b);
	}
	return text;
}

char *
ferry_rpc_handle(struct ferry_rpc *r, const char *line, size_t len)
{
	return rpc_handle_line(r, NULL, line, len);
}
