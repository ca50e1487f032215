/* ferry_port_fields.h — the port types and the one table of the port object's fields
 * (config_fields.c). Config parsing and printing, port.set, port.schema and, through port.schema,
 * ferryctl's help and completion all follow ferry_port_fields[]: a new field is one table row, a
 * new port type one enum constant and one name. No DPDK here. */
#ifndef FERRY_PORT_FIELDS_H
#define FERRY_PORT_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum ferry_port_type { FERRY_PORT_DPDK, FERRY_PORT_VHOST, FERRY_PORT_NTYPES };
/* "dpdk", "vhostuser": the port object's "type" */
extern const char *const ferry_port_type_names[FERRY_PORT_NTYPES];

#define FERRY_PORT_TYPE_BIT(t) (1u << (t))
#define FERRY_PORT_ALL_TYPES   ((1u << FERRY_PORT_NTYPES) - 1)

struct ferry_port_conf;
struct ferry_port_field;

/* Reads the field from a port object into pc; called whether or not the object has it (absent:
 * the default, or "missing" if required). Errors name the JSON path ("<where>.<field>: ..."). */
typedef int ferry_port_field_parse_fn(const struct ferry_port_field *f, json_t *port,
				      const char *where, struct ferry_port_conf *pc,
				      char *err, size_t errlen);
/* The field's value as JSON (new reference), NULL when it is absent: the default. */
typedef json_t *ferry_port_field_to_json_fn(const struct ferry_port_field *f,
					    const struct ferry_port_conf *pc);

struct ferry_port_field {
	const char *name;
	const char *json_type;      /* "string", "integer", "boolean", "array" or "object" */
	uint32_t types;             /* FERRY_PORT_TYPE_BIT of each port type it applies to */
	bool settable;              /* port.set may change it at runtime */
	bool unique;                /* two ports may not share its value (name, socket, device) */
	const char *help;           /* one line; no '|' (it is a cell of README.md's table) */
	ferry_port_field_parse_fn *parse;
	ferry_port_field_to_json_fn *to_json;
	size_t offset;              /* integer fields: their uint16_t in struct ferry_port_conf */
	unsigned max;               /* integer fields: the largest value */
};

/* Every field of the port object, in output order; ends with a row whose name is NULL. "name" and
 * "type" come first: the fields after them are checked against the port's type. */
extern const struct ferry_port_field ferry_port_fields[];

/* The type named s, or -1. */
int ferry_port_type_from_name(const char *s);
/* The field called name, or NULL. */
const struct ferry_port_field *ferry_port_field_find(const char *name);
bool ferry_port_field_applies(const struct ferry_port_field *f, enum ferry_port_type t);
/* Is name a field port.set can change on a port of type t? */
bool ferry_port_field_settable(const char *name, enum ferry_port_type t);
/* The settable fields' names, "mtu, mac, ..." (for error messages). */
void ferry_port_fields_settable_list(char *buf, size_t len);
/* The table as port.schema returns it: [{"name", "type" (JSON type), "port_types": [...],
 * "settable", "unique", "help"}]. New reference. */
json_t *ferry_port_fields_json(void);

#endif
