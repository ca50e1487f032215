/* fuzz_rpc.c — libFuzzer target for the control socket's request handler, ferry_rpc_handle().
 *
 * The handler runs with no switch (sw = NULL) and no socket: every method still parses and
 * validates its params exactly as in ferryd (JSON-RPC framing, batches, typed params, the port
 * object parser of port.add), then stops with -32603 "no switch" where it would call the switch.
 * So no EAL is needed, nothing touches a device, and config.save never writes a file.
 *
 * Besides ASan/LSan findings, every answer is checked: valid JSON on one line, an object or a
 * non-empty array of JSON-RPC 2.0 responses with exactly one of result/error, and errors carry
 * an integer code and a string message. Build and run: tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "ferry_rpc.h"

static struct ferry_rpc *rpc;
static volatile int quit;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *why, const char *resp)
{
	fprintf(stderr, "fuzz_rpc: %s: %.500s\n", why, resp);
	abort();
}

static void
check_response(const json_t *r, const char *text)
{
	const json_t *err = json_object_get(r, "error");
	const char *ver = json_string_value(json_object_get(r, "jsonrpc"));

	if (!json_is_object(r) || ver == NULL || strcmp(ver, "2.0") != 0)
		fail("not a JSON-RPC 2.0 response", text);
	if (json_object_get(r, "id") == NULL)
		fail("response without id", text);
	if ((json_object_get(r, "result") != NULL) == (err != NULL))
		fail("response needs exactly one of result and error", text);
	if (err != NULL && (!json_is_integer(json_object_get(err, "code")) ||
			    !json_is_string(json_object_get(err, "message"))))
		fail("malformed error object", text);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ferry_rpc_opts o = { .no_socket = 1 };
	char err[256];

	(void)argc;
	(void)argv;
	rpc = ferry_rpc_create(NULL, &o, &quit, err, sizeof(err));
	if (rpc == NULL) {
		fprintf(stderr, "fuzz_rpc: ferry_rpc_create: %s\n", err);
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = ferry_rpc_handle(rpc, (const char *)data, size);
	json_error_t je;
	json_t *r;
	size_t i;
	const json_t *it;

	if (text == NULL)
		return 0;   /* notifications only */
	if (strchr(text, '\n') != NULL)
		fail("newline inside a response line", text);
	r = json_loads(text, 0, &je);
	if (r == NULL)
		fail("response is not JSON", text);
	if (json_is_array(r)) {
		if (json_array_size(r) == 0)
			fail("empty batch response", text);
		json_array_foreach(r, i, it)
			check_response(it, text);
	} else {
		check_response(r, text);
	}
	json_decref(r);
	free(text);
	return 0;
}
