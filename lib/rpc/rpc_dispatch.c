/* rpc_dispatch.c — JSON-RPC 2.0 framing of one request line: parse, single request or batch,
 * notifications, the standard error codes, and the response text. Transport-free: the server and
 * ferry_rpc_handle() both come here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ferry_common.h"
#include "rpc_private.h"

#define MAX_BATCH 1000   /* requests in one batch: bounds the work and output one line can cause */

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

static json_t *
handle_batch(struct ferry_rpc *r, struct rpc_client *client, json_t *batch)
{
	size_t n = json_array_size(batch), i;
	json_t *out, *req;

	if (n == 0)
		return error_response(NULL, FERRY_EINVALID_REQ, "invalid request: empty batch");
	if (n > MAX_BATCH)
		return error_response(NULL, FERRY_EINVALID_REQ,
				      "invalid request: batch of %zu requests (at most %d)", n,
				      MAX_BATCH);
	out = json_array();
	json_array_foreach(batch, i, req) {
		json_t *resp = handle_request(r, client, req);
		if (resp != NULL)
			json_array_append_new(out, resp);
	}
	if (json_array_size(out) == 0) {   /* notifications only */
		json_decref(out);
		return NULL;
	}
	return out;
}

char *
rpc_handle_line(struct ferry_rpc *r, struct rpc_client *client, const char *line, size_t len)
{
	json_error_t je;
	json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je), *resp;
	char *text;

	if (root == NULL)
		resp = error_response(NULL, FERRY_EPARSE, "parse error: %s (at byte %d)", je.text,
				      je.position);
	else if (json_is_array(root))
		resp = handle_batch(r, client, root);
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
ferry_rpc_handle(struct ferry_rpc *r, const char *line, size_t len)
{
	return rpc_handle_line(r, NULL, line, len);
}
