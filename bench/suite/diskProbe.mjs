// chat-floor --disk-probe beside the whole matrix (BENCH_DISK_PROBE=1): a small durable write
// at a fixed interval, so that each cell's record says how long the disk took to make a write
// durable while it ran, and when it stalled (bench/floor/DiskProbe.hpp). Off by default: its
// own writes share the disk with MariaDB's log.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const ANSWER_TIMEOUT_MS = 10_000;
export const PROBE_INTERVAL_MS = 5;
const STALL_MS = 10;

export function startDiskProbe(bin, file) {
    const args = ['--disk-probe', file, '--probe-interval-us', String(PROBE_INTERVAL_MS * 1000), '--stall-us', String(STALL_MS * 1000)];
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.on('error', () => {}); // a probe that died; window() reports it
    const answers = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    return {
        // The writes since the previous call: {writes, p50Ms, p99Ms, maxMs, stallMs,
        // stalled (the writes over stallMs), stalls: [{atMs, ms}] (the first 200 of them)}.
        async window() {
            if (child.exitCode !== null) throw new Error(`chat-floor --disk-probe exited (${child.exitCode})`);
            child.stdin.write('\n');
            let timer;
            const timeout = new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error('chat-floor --disk-probe did not answer')), ANSWER_TIMEOUT_MS);
            });
            try {
                const { value, done } = await Promise.race([answers.next(), timeout]);
                if (done) throw new Error('chat-floor --disk-probe ended early');
                return JSON.parse(value);
            } finally {
                clearTimeout(timer);
            }
        },
        async stop() {
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.stdin.end();
            const killer = setTimeout(() => child.kill('SIGKILL'), ANSWER_TIMEOUT_MS);
            await exited;
            clearTimeout(killer);
        },
    };
}
