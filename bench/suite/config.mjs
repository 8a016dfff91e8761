// The matrix: which systems, node counts and workloads run, with which sizes. BENCH_QUICK=1
// picks small sizes (a smoke test, under 3 minutes); the full matrix takes about 30 minutes.
// Environment overrides (space-separated lists): BENCH_SYSTEMS ("chat baseline"),
// BENCH_NODES ("1 2"), BENCH_WORKLOADS ("pairs room burst slow idle connect"),
// BENCH_ROOM_SIZES ("10 100 1000"), BENCH_DURATION_MS (paced workloads' length),
// BENCH_THREADS (threads per chat-load process, 2), BENCH_IDLE_MAX_BUSY (0.10: start a run
// once the CPUs were less busy than this over a second), BENCH_IDLE_WAIT_S (at most this long),
// BENCH_CHAT_ARGS (more flags for every chat node, e.g. "--threads 1"; kept in the results),
// BENCH_DB_ARGS (more mariadbd options for the private MariaDB, e.g.
// "--innodb-flush-log-at-trx-commit=2"; kept in the results), BENCH_DISK_PROBE=1 (time a small
// durable write beside every cell: suite/diskProbe.mjs).

// Network threads for each of n chat nodes on a machine of `cores`, unless the chat flags set
// them: nodes that share a machine share its cores, one thread per core in all, as each node of
// a LAN has its own machine's. With more threads than cores they preempt each other in the
// middle of a burst's writes (bench/FINDINGS.md: a fifth more CPU per delivery).
export function chatThreadsPerNode(n, chatArgs, cores) {
    const set = chatArgs.some((a) => a === '--threads' || a.startsWith('--threads='));
    return set ? null : Math.max(1, Math.floor(cores / n));
}

export const list = (name, fallback) => (process.env[name] ? process.env[name].trim().split(/\s+/) : fallback);
const num = (name, fallback) => (process.env[name] !== undefined ? Number(process.env[name]) : fallback);

const full = {
    nodes: [1, 2],
    roomSizes: [10, 100, 1000],
    // 10,000 messages/s: the rate of the two-node single-chat target; 2,000/s: a load that
    // leaves the machine headroom, for latency without queueing.
    pairs: { users: 2000, ratesPerSec: [2000, 10_000], durationMs: 10_000, contentBytes: 64 },
    // The fan-out target's rate: ~50,000 deliveries/s whatever the room size.
    room: { members: 1000, senders: 4, deliveriesPerSec: 50_000, durationMs: 10_000, contentBytes: 64 },
    burst: { members: 1000, senders: 4, deliveries: 400_000, window: 32, maxMs: 120_000, contentBytes: 64 },
    // The slow reader's backlog must outgrow the server's send buffer (up to 4 MiB on loopback,
    // tcp_wmem) and then its 1 MiB queue bound: ~11 MB are sent to it here.
    slow: { size: 50, senders: 4, ratePerSec: 1000, durationMs: 10_000, contentBytes: 1000 },
    idle: { perNode: 19_000 },
    connect: { total: 10_000 },
    floor: { sockets: 1000, frames: 300_000 },
    idleWait: { maxBusy: 0.1, intervalMs: 1000, limitMs: 30_000 },
    idleSettleMs: 3000,
};

const quick = {
    nodes: [1, 2],
    roomSizes: [10, 100],
    pairs: { users: 200, ratesPerSec: [2000], durationMs: 1000, contentBytes: 64 },
    room: { members: 200, senders: 4, deliveriesPerSec: 10_000, durationMs: 1000, contentBytes: 64 },
    burst: { members: 200, senders: 4, deliveries: 20_000, window: 32, maxMs: 30_000, contentBytes: 64 },
    // ~7.5 MB to the slow reader, so it is cut off here too (see full.slow).
    slow: { size: 50, senders: 4, ratePerSec: 1000, durationMs: 3000, contentBytes: 2500 },
    idle: { perNode: 1000 },
    connect: { total: 1000 },
    floor: { sockets: 100, frames: 50_000 },
    idleWait: { maxBusy: 0.25, intervalMs: 300, limitMs: 1000 },
    idleSettleMs: 500,
};

export function loadConfig() {
    const quickMode = process.env.BENCH_QUICK === '1';
    const c = structuredClone(quickMode ? quick : full);
    c.quick = quickMode;
    c.systems = list('BENCH_SYSTEMS', ['chat', 'baseline']);
    c.nodes = list('BENCH_NODES', c.nodes.map(String)).map(Number);
    c.workloads = list('BENCH_WORKLOADS', ['pairs', 'room', 'burst', 'slow', 'idle', 'connect']);
    c.roomSizes = list('BENCH_ROOM_SIZES', c.roomSizes.map(String)).map(Number);
    if (process.env.BENCH_DURATION_MS) {
        for (const w of ['pairs', 'room', 'slow']) c[w].durationMs = num('BENCH_DURATION_MS');
    }
    c.threads = num('BENCH_THREADS', 2);
    c.chatArgs = list('BENCH_CHAT_ARGS', []);
    // Chat nodes share the machine's cores (suite/nodes.mjs, chatThreadsPerNode).
    c.chatThreadsShared = true;
    c.dbArgs = list('BENCH_DB_ARGS', []);
    c.diskProbe = process.env.BENCH_DISK_PROBE === '1';
    c.idleWait.maxBusy = num('BENCH_IDLE_MAX_BUSY', c.idleWait.maxBusy);
    c.idleWait.limitMs = num('BENCH_IDLE_WAIT_S', c.idleWait.limitMs / 1000) * 1000;
    c.limits = {
        connectConcurrency: 256,
        connectTimeoutMs: 60_000,
        syncTimeoutMs: quickMode ? 1000 : 3000,
        drainTimeoutMs: quickMode ? 3000 : 20_000,
        slowResumeMs: quickMode ? 1500 : 3000,
    };
    return c;
}

// The cells in run order: [{nodes, workload, params}]; params.variant names a cell among its
// workload's (a room size, a rate). Each cell is run for every system in turn.
export function cells(c) {
    const out = [];
    for (const nodes of c.nodes) {
        for (const workload of c.workloads) {
            if (workload === 'room' || workload === 'burst') {
                for (const size of c.roomSizes) out.push({ nodes, workload, params: { ...c[workload], size, variant: String(size) } });
            } else if (workload === 'pairs') {
                for (const ratePerSec of c.pairs.ratesPerSec) {
                    const variant = `${ratePerSec.toLocaleString('en-US')}/s`;
                    out.push({ nodes, workload, params: { ...c.pairs, ratePerSec, variant } });
                }
            } else if (workload === 'slow') {
                out.push({ nodes, workload, params: { ...c.slow } });
                // The same room with everyone reading: what the slow reader costs the others is
                // the difference, and what is left is this machine's.
                out.push({ nodes, workload, params: { ...c.slow, slowReader: false, variant: 'all reading' } });
            } else {
                out.push({ nodes, workload, params: { ...c[workload] } });
            }
        }
    }
    return out;
}
