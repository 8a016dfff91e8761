// chat-floor --disk-probe beside the whole matrix (BENCH_DISK_PROBE=1): a small durable write
// at a fixed interval, so that each cell's record says how long the disk took to make a write
// durable while it ran, and when it stalled (bench/floor/DiskProbe.hpp). Off by default: its
// own writes share the disk with MariaDB's log.
import { startLineChild } from './lineChild.mjs';

export const PROBE_INTERVAL_MS = 5;
const STALL_MS = 10;

export function startDiskProbe(bin, file) {
    const args = ['--disk-probe', file, '--probe-interval-us', String(PROBE_INTERVAL_MS * 1000), '--stall-us', String(STALL_MS * 1000)];
    const probe = startLineChild(bin, args, 'chat-floor --disk-probe');
    return {
        // The writes since the previous call: {writes, p50Ms, p99Ms, maxMs, stallMs,
        // stalled (the writes over stallMs), stalls: [{atMs, ms}] (the first 200 of them)}.
        window: () => probe.ask(),
        stop: () => probe.stop(),
    };
}
