/* scenario.h — the scenario framework of ferry-pcapgen: a scenario declares ports, sends frames
 * (the event list: port, frame), states hand-written expectations about what must happen to
 * specific frames, and is then run through the reference model (model.h), whose results are
 * checked against those expectations — so the oracle itself is tested.
 *
 * Burst rounds. ferryd's PMD polls the ports in config order, up to `burst` frames per port per
 * round. A scenario that needs ordering across ports ("vm2 replies after vm1's frame was learned")
 * groups its frames into rounds: frames sent before sc_next_round() are in round 0, and so on.
 * Each port's frames of round r are placed in its input at [r * burst, (r + 1) * burst); gaps are
 * padded with filler frames: 13-byte runts reading "ferry-filler!", dropped as `runt` (or
 * `admin_down`) without any other effect. Filler frames are not events and are not counted by
 * EXPECT_DROPS (but they are in drops.json). */
#ifndef FERRY_TEST_SCENARIO_H
#define FERRY_TEST_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "pkt.h"

#define SC_BURST 32

/* Where an expected frame leaves, and how it is encoded there. */
struct egress {
	const char *port;
	int vid;                 /* < 0: untagged; else tagged 0x8100 with this VID */
	uint8_t pcp;
	bool dei;
};

#define UNTAGGED(port)            { (port), -1, 0, false }
#define TAGGED(port, vid, pcp)    { (port), (vid), (pcp), false }
#define TAGGED_DEI(port, vid, pcp) { (port), (vid), (pcp), true }

struct frame_vec {
	struct model_frame *v;
	size_t n, cap;
};

struct event {
	int port;
	size_t index;            /* in the port's input */
};

struct expectation;

struct scenario {
	const char *name;
	uint64_t seed;
	unsigned burst;
	bool free_running;       /* no rounds: frames just queue up (mixed) */
	unsigned round;
	int n_ports;
	struct model_port_cfg port[MODEL_MAX_PORTS];
	struct frame_vec in[MODEL_MAX_PORTS];
	struct event *ev;
	size_t n_ev, cap_ev;
	struct expectation *exp;
	size_t n_exp, cap_exp;
	/* results of the model */
	struct model_port_io io[MODEL_MAX_PORTS];
	struct model_stats stats;
	int failures;
};

/* ---- ports (config order = order of creation) ---- */

struct model_port_cfg *sc_port(struct scenario *sc, const char *name);   /* default VLAN mode */
void port_access(struct model_port_cfg *p, uint16_t tag);
/* allowed: zero-terminated list (ALLOWED(10, 20)) or NULL for all VLANs; native 0 = none */
void port_trunk(struct model_port_cfg *p, const int *allowed, uint16_t native);
void port_mac(struct model_port_cfg *p, const uint8_t *mac);
#define ALLOWED(...) ((const int[]){ __VA_ARGS__, 0 })

int sc_port_index(const struct scenario *sc, const char *name);   /* aborts if unknown */

/* ---- events ---- */

/* Queues a frame on a port's input; returns its event id. */
size_t sc_send(struct scenario *sc, const char *port, const struct frame_spec *fs);
#define SEND(sc, port, ...) sc_send((sc), (port), &(struct frame_spec){ __VA_ARGS__ })
/* Queues raw bytes (the frame is copied). */
size_t sc_send_raw(struct scenario *sc, int port, const uint8_t *data, uint32_t len);
void sc_next_round(struct scenario *sc);

/* ---- hand-written expectations, checked after the model ran ---- */

/* The frame leaves on exactly these ports, encoded like this. */
#define EXPECT_OUT(sc, ev, ...) \
	sc_expect_out((sc), __LINE__, (ev), (const struct egress[]){ __VA_ARGS__, { NULL, 0, 0, 0 } })
/* The frame is dropped for this reason. */
#define EXPECT_DROP(sc, ev, reason) sc_expect_drop((sc), __LINE__, (ev), (reason))
/* Exactly n of the port's events (filler frames excluded) are dropped for this reason. */
#define EXPECT_DROPS(sc, port, reason, n) sc_expect_drops((sc), __LINE__, (port), (reason), (n))

void sc_expect_out(struct scenario *sc, int line, size_t ev, const struct egress *eg);
void sc_expect_drop(struct scenario *sc, int line, size_t ev, enum model_drop reason);
void sc_expect_drops(struct scenario *sc, int line, const char *port, enum model_drop reason,
		     uint64_t n);

/* Reports a failed assertion (printf format); makes ferry-pcapgen exit non-zero. */
void sc_fail(struct scenario *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- running ---- */

int sc_run_model(struct scenario *sc);       /* 0 or -1 */
void sc_check_expectations(struct scenario *sc);
/* The model's outputs and drops with bursts of one frame must equal those with sc->burst (true
 * when only one port sends per round, since learning is per frame): a scenario check. */
void sc_check_burst_invariant(struct scenario *sc);
void sc_free(struct scenario *sc);

/* ---- the scenarios ---- */

struct scenario_def {
	const char *name;
	const char *what;
	void (*build)(struct scenario *sc);
	void (*check)(struct scenario *sc);  /* optional assertions on the model's results */
};

extern const struct scenario_def scenario_defs[];   /* terminated by { NULL } */

void scenario_mixed_build(struct scenario *sc);
void scenario_mixed_check(struct scenario *sc);
void scenario_mixed_rounds_build(struct scenario *sc);
void scenario_mixed_rounds_check(struct scenario *sc);

#endif
