// SPDX-License-Identifier: GPL-2.0
/*
 * A test-and-set spinlock built on atomic_cmpxchg(), and a counter it protects:
 * the worked example of the README's "Model your own protocol". The model,
 * spinlock.py, cites the lines of this file step by step.
 */
#include <linux/atomic.h>

struct counted {
	atomic_t lock;		/* 0: free, 1: held */
	unsigned long count;	/* protected by lock */
};

static void counted_lock(struct counted *c)
{
	while (atomic_cmpxchg(&c->lock, 0, 1) != 0)
		cpu_relax();
}

static void counted_unlock(struct counted *c)
{
	atomic_set_release(&c->lock, 0);
}

void counted_inc(struct counted *c)
{
	unsigned long v;

	counted_lock(c);
	v = c->count;
	c->count = v + 1;
	counted_unlock(c);
}
