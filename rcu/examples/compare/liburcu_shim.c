/*
 * A small C shim over liburcu for the `compare` example.
 *
 * build.rs compiles this file twice, once with SHIM_FLAVOR_QSBR and once without, so
 * each liburcu flavour gets its own symbols: shim_memb_* and shim_qsbr_*. Reads use
 * liburcu's inline fast paths (_LGPL_SOURCE), so one shim call per read costs liburcu's
 * read-side cost plus one function call.
 */
#define _LGPL_SOURCE
#include <stdint.h>
#include <stdlib.h>

#ifdef SHIM_FLAVOR_QSBR
#include <urcu-qsbr.h>
#define SHIM(name) shim_qsbr_##name
#else
#define RCU_MEMB
#include <urcu.h>
#define SHIM(name) shim_memb_##name
#endif

#ifdef SHIM_FLAVOR_QSBR
/* A QSBR reader announces a quiescent state once every this many reads. */
#define QUIESCENT_EVERY 64
static __thread unsigned int reads_since_quiescent;
#endif

struct payload {
	uint64_t values[4];
	struct rcu_head head;
};

struct shared {
	struct payload *current;
};

static struct payload *payload_new(uint64_t value)
{
	struct payload *payload = malloc(sizeof(*payload));

	if (!payload)
		abort();
	for (int i = 0; i < 4; i++)
		payload->values[i] = value;
	return payload;
}

static void payload_free(struct rcu_head *head)
{
	free(caa_container_of(head, struct payload, head));
}

struct shared *SHIM(new)(uint64_t value)
{
	struct shared *shared = malloc(sizeof(*shared));

	if (!shared)
		abort();
	shared->current = payload_new(value);
	return shared;
}

/* Frees `shared` after every callback has run. No thread may use it any more. */
void SHIM(free)(struct shared *shared)
{
	rcu_barrier();
	free(shared->current);
	free(shared);
}

void SHIM(register_thread)(void)
{
	rcu_register_thread();
}

void SHIM(unregister_thread)(void)
{
	rcu_unregister_thread();
}

/* Reads the current payload inside a read-side critical section; returns its check sum. */
uint64_t SHIM(read)(struct shared *shared)
{
	uint64_t sum;
	struct payload *payload;

	rcu_read_lock();
	payload = rcu_dereference(shared->current);
	sum = payload->values[0] + payload->values[3];
	rcu_read_unlock();
#ifdef SHIM_FLAVOR_QSBR
	if (++reads_since_quiescent == QUIESCENT_EVERY) {
		reads_since_quiescent = 0;
		rcu_quiescent_state();
	}
#endif
	return sum;
}

/* Publishes a new payload and frees the old one through call_rcu. */
void SHIM(update)(struct shared *shared, uint64_t value)
{
	struct payload *old = rcu_xchg_pointer(&shared->current, payload_new(value));

	call_rcu(&old->head, payload_free);
}
