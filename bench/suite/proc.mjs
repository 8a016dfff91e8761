// What the suite reads from /proc: a process's CPU time (utime + stime of every thread, from
// /proc/PID/stat, or its threads' run time in ns from schedstat), resident memory (VmRSS) and
// context switches, and the machine's busy share (/proc/stat), which decides when the CPUs are
// idle enough to start a run.
import { readdirSync, readFileSync } from 'node:fs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Linux reports CPU times in clock ticks of 1/100 s (USER_HZ; `getconf CLK_TCK`).
const TICK_US = 10_000;

// CPU µs used so far by pid (all threads), in user mode and in the kernel, or null if it is gone.
export function cpuTimesUs(pid) {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // The command name may hold spaces and parentheses: fields start after the last ')'.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return { userUs: Number(fields[11]) * TICK_US, systemUs: Number(fields[12]) * TICK_US }; // fields 14 and 15 of stat(5)
    } catch {
        return null;
    }
}

// CPU µs used so far by pid (all threads), or null if it is gone.
export function cpuUs(pid) {
    const times = cpuTimesUs(pid);
    return times && times.userUs + times.systemUs;
}

// The time pid's live threads have run so far, in µs to the scheduler's ns (schedstat), where
// cpuUs counts whole clock ticks: for short measurements. Null if it is gone.
export function runTimeUs(pid) {
    try {
        let ns = 0;
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
            try {
                ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
            } catch {
                // the thread ended meanwhile
            }
        }
        return ns / 1000;
    } catch {
        return null;
    }
}

// Resident memory in bytes (VmRSS), or null.
export function rssBytes(pid) {
    try {
        const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
        return m ? Number(m[1]) * 1024 : null;
    } catch {
        return null;
    }
}

// Context switches (voluntary + involuntary) of every live thread of pid, or null. On this
// kind of VM a switch is costly, so switches per delivery explain much of the CPU per delivery.
export function contextSwitches(pid) {
    try {
        let sum = 0;
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
            const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
            for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) sum += Number(m[1]);
        }
        return sum;
    } catch {
        return null;
    }
}

// {busy, total} jiffies summed over all CPUs since boot.
export function machineTicks() {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3] + (v[4] ?? 0); // idle + iowait
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
    return { busy: total - idle, total };
}

// Busy share (0..1) of all CPUs between two machineTicks() readings.
export function busyShare(before, after) {
    const total = after.total - before.total;
    return total > 0 ? (after.busy - before.busy) / total : 0;
}

// Waits until the CPUs were less than maxBusy busy over one `intervalMs`, at most `limitMs`.
// Resolves {waitedMs, busy (the last interval's share), idle (whether it got there)}.
export async function waitForIdle({ maxBusy = 0.1, intervalMs = 1000, limitMs = 60_000 } = {}) {
    const started = Date.now();
    for (;;) {
        const before = machineTicks();
        await sleep(intervalMs);
        const busy = busyShare(before, machineTicks());
        const waitedMs = Date.now() - started;
        if (busy < maxBusy) return { waitedMs, busy, idle: true };
        if (waitedMs >= limitMs) return { waitedMs, busy, idle: false };
    }
}
