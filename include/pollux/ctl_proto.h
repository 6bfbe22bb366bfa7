/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control-socket protocol between pollux and polluxctl (or any client: socat works too).
 *
 * A client connects to the Unix stream socket, writes one request line of at most
 * PX_CTL_MAX_REQUEST bytes ("stats\n", "status\n"), and reads until the server closes. The
 * reply's first line is "OK" or "ERR"; the rest is human-readable text, one "key value" or
 * "key: value" pair per line where that makes sense, so scripts can grep it.
 */
#pragma once

#define PX_CTL_DEFAULT_PATH "/run/pollux/pollux.sock"
#define PX_CTL_MAX_REQUEST 1024
#define PX_CTL_MAX_ARGS 16
#define PX_CTL_REPLY_OK "OK"
#define PX_CTL_REPLY_ERR "ERR"
/* The last line of a complete "dump-cache" reply (before the entry count): a reply without it
 * was cut short. */
#define PX_CTL_DUMP_END "; end of dump: "
