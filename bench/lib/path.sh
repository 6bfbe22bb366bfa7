# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Where a lost query died: every counter on the path of an open-loop step, read before and after
# it, so that the step's loss can be put at a hop. The path, queries then answers:
#
#   dnsperf sent -> client UDP out (client namespace's /proc/net/snmp) -> client veth TX ->
#   server veth RX (for pollux's af_xdp: the packets its XDP program saw, and what the veth or
#   the program dropped) -> the server (pollux: port.ipackets, port.imissed (XSK drops),
#   port.opackets; a stock resolver: its namespace's UDP in, receive-buffer errors and out) ->
#   server veth TX -> client veth RX -> client UDP in (receive-buffer errors) -> dnsperf
#   completed.
#
# Where each PMD loses what nothing counts:
#   af_xdp     the veth's ring in front of its XDP program (256 frames, fixed in the kernel),
#              filled on the client's core and drained by NAPI on that same core: counted
#              (rx_queue_0_drops, srv_veth_drops), and the usual place of af_xdp's loss here.
#   af_packet  the packet socket's ring (the PMD's framecnt): its drops (tp_drops) are read
#              only through the socket, which DPDK 22.11 does not export, so a loss between
#              "server veth rx" and "pollux in" with no drop counted is that ring.
# pollux's loop gaps (polls 1 ms and 10 ms or more apart: poll_gap_1ms, poll_gap_10ms) are read
# too: a worker that stopped polling is the one cause of a loss or a tail that is pollux's own.
# A hop's loss is the drop between two consecutive counts; the counts include a few packets
# that are not DNS (ARP, neighbour discovery), so a loss of a handful is noise. Kernel counters
# are per namespace and per interface, read inside the namespace (ip netns exec remounts /sys).

# One namespace's UDP counters: InDatagrams OutDatagrams RcvbufErrors SndbufErrors InErrors.
bench_path_udp() { # NS
	ip netns exec "$1" cat /proc/net/snmp 2>/dev/null | awk '
		$1 == "Udp:" && !h {for (i = 2; i <= NF; i++) k[i] = $i; h = 1; next}
		$1 == "Udp:" && h {for (i = 2; i <= NF; i++) v[k[i]] = $i}
		END {printf "%d %d %d %d %d\n", v["InDatagrams"], v["OutDatagrams"], v["RcvbufErrors"],
			v["SndbufErrors"], v["InErrors"]}'
}

# One interface's packets and drops: rx_packets rx_dropped tx_packets tx_dropped.
bench_path_if() { # NS IF
	ip netns exec "$1" sh -c 'd=/sys/class/net/$0/statistics
		echo $(cat $d/rx_packets $d/rx_dropped $d/tx_packets $d/tx_dropped 2>/dev/null)' "$2" |
		awk 'NF == 4 {print; next} {print "0 0 0 0"}'
}

# The veth's XDP counters (ethtool -S): xdp_packets, the veth ring's drops, xdp_drops.
bench_path_xdp() { # NS IF
	ip netns exec "$1" ethtool -S "$2" 2>/dev/null | awk '
		$1 ~ /^rx_queue_[0-9]+_xdp_packets:$/ {p += $2}
		$1 ~ /^rx_queue_[0-9]+_drops:$/ {d += $2}
		$1 ~ /^rx_queue_[0-9]+_xdp_drops:$/ {x += $2}
		END {printf "%d %d %d\n", p, d, x}'
}

# All of the path's counters for the system under test, as "name value" lines in FILE.
bench_path_sample() { # SYS FILE
	local sys=$1 f=$2 cif sns sif
	if [ "$sys" = pollux ]; then
		cif=$POLLUX_LAB_IF_CLI sns=$POLLUX_LAB_NS_PX sif=$POLLUX_LAB_IF_PX
	else
		cif=$POLLUX_INET_IF_RES_CLI sns=$POLLUX_INET_NS_RES sif=$POLLUX_INET_IF_RES
	fi
	{
		paste -d' ' <(printf '%s\n' cli_udp_in cli_udp_out cli_udp_rcvbuf_err cli_udp_sndbuf_err \
			cli_udp_in_err) <(bench_path_udp "$POLLUX_LAB_NS_CLI" | tr ' ' '\n')
		paste -d' ' <(printf '%s\n' cli_if_rx cli_if_rx_drop cli_if_tx cli_if_tx_drop) \
			<(bench_path_if "$POLLUX_LAB_NS_CLI" "$cif" | tr ' ' '\n')
		paste -d' ' <(printf '%s\n' srv_if_rx srv_if_rx_drop srv_if_tx srv_if_tx_drop) \
			<(bench_path_if "$sns" "$sif" | tr ' ' '\n')
		if [ "$sys" = pollux ]; then
			if [ "$(lab_pmd)" = af_xdp ]; then
				paste -d' ' <(printf '%s\n' srv_xdp_packets srv_veth_drops srv_xdp_drops) \
					<(bench_path_xdp "$sns" "$sif" | tr ' ' '\n')
			fi
			lab_ctl stats 2>/dev/null | awk '
				$1 ~ /^port\.(ipackets|opackets|imissed|ierrors|oerrors|rx_nombuf)$/ {
					sub(/^port\./, "px_", $1); print $1, $2}
				$1 ~ /^total\.poll_gap_(1|10)ms$/ {sub(/^total\./, "px_", $1); print $1, $2}'
		else
			paste -d' ' <(printf '%s\n' srv_udp_in srv_udp_out srv_udp_rcvbuf_err \
				srv_udp_sndbuf_err srv_udp_in_err) <(bench_path_udp "$sns" | tr ' ' '\n')
		fi
	} >"$f"
}

# The step's path: the counters' differences (AFTER - BEFORE), with dnsperf's sent and
# completed, as one "hop count > ..." line, the hop that lost most, the drop counters that
# moved, and pollux's loop gaps, on stdout, " | "-separated.
bench_path_report() { # SYS BEFORE AFTER SENT COMPLETED
	awk -v sys="$1" -v sent="$4" -v done="$5" '
		FNR == NR {b[$1] = $2; next}
		{d[$1] = $2 - b[$1]}
		END {
			n = 0
			hop[n] = "dnsperf sent"; c[n++] = sent
			hop[n] = "client udp out"; c[n++] = d["cli_udp_out"]
			hop[n] = "client veth tx"; c[n++] = d["cli_if_tx"]
			if (sys == "pollux") {
				if ("srv_xdp_packets" in d) {
					hop[n] = "server veth xdp"; c[n++] = d["srv_xdp_packets"]
				} else {
					hop[n] = "server veth rx"; c[n++] = d["srv_if_rx"]
				}
				hop[n] = "pollux in"; c[n++] = d["px_ipackets"]
				hop[n] = "pollux out"; c[n++] = d["px_opackets"]
			} else {
				hop[n] = "server veth rx"; c[n++] = d["srv_if_rx"]
				hop[n] = "resolver udp in"; c[n++] = d["srv_udp_in"]
				hop[n] = "resolver udp out"; c[n++] = d["srv_udp_out"]
			}
			hop[n] = "server veth tx"; c[n++] = d["srv_if_tx"]
			hop[n] = "client veth rx"; c[n++] = d["cli_if_rx"]
			hop[n] = "client udp in"; c[n++] = d["cli_udp_in"]
			hop[n] = "dnsperf completed"; c[n++] = done
			line = ""
			worst = -1; at = "nowhere"
			for (i = 0; i < n; i++) {
				line = line (i ? " > " : "") hop[i] " " c[i]
				if (i > 0 && c[i - 1] - c[i] > worst) {worst = c[i - 1] - c[i]; at = hop[i - 1] " -> " hop[i]}
			}
			drops = ""
			split("cli_udp_sndbuf_err cli_if_tx_drop srv_if_rx_drop srv_veth_drops srv_xdp_drops px_imissed px_rx_nombuf px_oerrors srv_udp_rcvbuf_err srv_if_tx_drop cli_if_rx_drop cli_udp_rcvbuf_err cli_udp_in_err", k, " ")
			for (i = 1; i in k; i++)
				if ((k[i] in d) && d[k[i]] > 0) drops = drops " " k[i] "=" d[k[i]]
			if (worst <= 0) at = "nowhere"
			else if (at == "server veth rx -> pollux in" && drops == "")
				at = at " (the af_packet ring: uncounted)"
			gaps = (sys == "pollux") ? sprintf("%d (%d of 10 ms or more)", d["px_poll_gap_1ms"], d["px_poll_gap_10ms"]) : "-"
			printf "%s | most lost: %s (%d) | drops counted:%s | pollux polls 1 ms or more apart: %s\n", line, at, (worst > 0 ? worst : 0), (drops == "" ? " none" : drops), gaps
		}' "$2" "$3"
}
