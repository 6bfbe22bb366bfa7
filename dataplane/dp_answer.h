/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS answering on the worker: parse, look up, write the response in place. */
#pragma once

#include <stdint.h>

struct dp_lcore;

/*
 * Turns the DNS query in msg[0, len) into its response, in place; cap is how many bytes msg
 * can hold. Returns the response length, or 0 when nothing is to be sent (the reason is
 * counted). Worker only, as an online RCU reader; lc->now_ms must be current.
 */
uint16_t dp_answer_query(struct dp_lcore *lc, uint8_t *msg, uint16_t len, uint16_t cap);
