/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <pollux/ratelimit.h>

size_t
px_rl_table_size(uint32_t buckets, uint32_t *actual)
{
	uint32_t sets = 1;

	while (sets * PX_RL_WAYS < buckets && sets < PX_RL_MAX_SIZE / PX_RL_WAYS)
		sets <<= 1;
	if (actual != NULL)
		*actual = sets * PX_RL_WAYS;
	return sizeof(struct px_rl_table) + (size_t)sets * PX_RL_WAYS * sizeof(struct px_rl_bucket) +
	       (sizeof(struct px_rl_memo) << PX_RL_MEMO_BITS);
}

void
px_rl_table_init(struct px_rl_table *t, uint32_t buckets, const uint8_t key[16])
{
	uint32_t actual;
	size_t sz = px_rl_table_size(buckets, &actual);

	memset(t, 0, sz);
	t->key = px_siphash_key_from(key);
	t->set_mask = actual / PX_RL_WAYS - 1;
	t->memo = (struct px_rl_memo *)&t->b[actual];
}
