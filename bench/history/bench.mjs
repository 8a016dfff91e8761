// The history benchmark: how many messages per second the cluster stores (every message is
// committed before its ack, in batched commits), what a sender waits for its ack meanwhile,
// and how long a device that missed 10,000 messages takes to catch up when it reconnects.
// Meanwhile a third node that holds no connection at all receives every datagram and drops
// it: its CPU per datagram is what every node pays for traffic that is not its own. Beside it
// chat-floor reads the same datagrams as the bus reads them and does nothing with them: the
// machine's own price of receiving one, measured at the same time, so that what the node
// spends above it is what its own work on a datagram costs.
// Three Release nodes on loopback, a private MariaDB (scripts/db.sh, durable commits: one log
// flush per commit), clients on the `ws` package. Prints a table and writes
// bench/results/history-<date>-<hhmm>.json. Run it through bench/history/run.sh.
//
// Environment: CHAT_BIN (required), BENCH_MESSAGES (stored-throughput messages, 40000),
// BENCH_SENDERS (8), BENCH_WINDOW (unacknowledged frames per sender, 32), BENCH_MISSED
// (messages a device misses, 10000), BENCH_PHASE_LIMIT_S (seconds any phase may take, 120),
// BENCH_CHAT_ARGS (more flags for every node, e.g. "--threads 1"; kept in the results),
// BENCH_SERVER_LABEL (what CHAT_BIN was built from, for the record; its path otherwise),
// BENCH_FLOOR_BIN (chat-floor; build/bench/chat-floor otherwise), BENCH_CALLGRIND=1 (see
// below).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { freePort } from '../../tests/integration/lib/ports.mjs';
import { list } from '../suite/config.mjs';
import { startLineChild } from '../suite/lineChild.mjs';
import { contextSwitches, cpuTimesUs, runTimeUs } from '../suite/proc.mjs';
import { resultName } from '../suite/resultName.mjs';

const repoDir = path.resolve(fileURLToPath(import.meta.url), '../../..');
const WebSocket = createRequire(path.join(repoDir, 'tests/package.json'))('ws');

const BIN = process.env.CHAT_BIN;
const FLOOR_BIN = process.env.BENCH_FLOOR_BIN ?? path.join(repoDir, 'build', 'bench', 'chat-floor');
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 40000);
const SENDERS = Number(process.env.BENCH_SENDERS ?? 8);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 32);
const MISSED = Number(process.env.BENCH_MISSED ?? 10000);
const PHASE_LIMIT_MS = Number(process.env.BENCH_PHASE_LIMIT_S ?? 120) * 1000;
const CHAT_ARGS = list('BENCH_CHAT_ARGS', []);
// The bystander under valgrind's callgrind, counting the instructions its bus thread spends
// from a datagram's arrival to its drop (UdpBus::onDatagram and all it calls): a figure that
// repeats from run to run where this machine's CPU times do not. Its CPU times are then
// valgrind's, not chat's. valgrind hides the CPU's SHA instructions, so OpenSSL hashes with
// its portable code there: the HMAC's share is counted apart.
const CALLGRIND = process.env.BENCH_CALLGRIND === '1';
const IDLE_SAMPLE_MS = 3000;
const BUS_KEY = 'bench-history-cluster-secret-0123';
const CONTENT = 'x'.repeat(100);

const log = (...a) => console.error('bench:', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = new Set();
process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

// ---------------------------------------------------------------------------------------
// The database and the nodes

const dbEnv = (port) => ({ ...process.env, CHAT_DB_DIR: 'var/bench-history-db', CHAT_DB_PORT: String(port) });

function db(command, port) {
    return execFileSync('bash', ['scripts/db.sh', command], { cwd: repoDir, env: dbEnv(port), encoding: 'utf8' }).trim();
}

async function startNode(id, dsn, busPort, logDir) {
    const [port, admin] = [await freePort(), await freePort()];
    const args = [
        '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${admin}`, '--node-id', String(id),
        '--bus-port', String(busPort), '--bus-key', BUS_KEY, '--mysql', dsn, '--pbkdf2-iterations', '1000',
        '--upload-dir', path.join(logDir, 'upload'), '--log-level', 'warn',
        // Generous bounds: the sync phase sends 10,000 frames to one connection.
        '--max-queue', '16M',
        ...CHAT_ARGS,
    ];
    const command = id === 3 && CALLGRIND ? [...callgrindCommand(logDir), BIN] : [BIN];
    const child = spawn(command[0], [...command.slice(1), ...args], { cwd: repoDir, stdio: ['ignore', 'ignore', 'inherit'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const node = { id, child, url: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}`, admin: `http://127.0.0.1:${admin}` };
    const deadline = Date.now() + (command.length > 1 ? 120000 : 15000);
    for (;;) {
        try {
            if ((await fetch(`${node.admin}/healthz`)).status === 200) return node;
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`node ${id} did not start`);
        await sleep(50);
    }
}

async function stopNode(node) {
    if (node.child.exitCode !== null) return;
    const exited = new Promise((r) => node.child.once('exit', r));
    node.child.kill('SIGTERM');
    const timer = setTimeout(() => node.child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
}

const callgrindOut = (logDir) => path.join(logDir, 'bystander.callgrind');

function callgrindCommand(logDir) {
    return ['valgrind', '--tool=callgrind', '--toggle-collect=chat::bus::UdpBus::onDatagram*', `--callgrind-out-file=${callgrindOut(logDir)}`];
}

// Instructions per datagram the bystander's bus thread spent from arrival to drop, from its
// callgrind file (written when it exits): in all, in libcrypto (the HMAC) and in allocation.
function instructionsPerDatagram(logDir, messages) {
    const annotate = (...flags) =>
        execFileSync('callgrind_annotate', [...flags, '--threshold=100', callgrindOut(logDir)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const count = (text) => Number(text.replaceAll(',', ''));
    const flat = annotate();
    const total = count(flat.match(/^\s*([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS/m)[1]);
    const sum = (test) => flat.split('\n').filter(test).reduce((n, l) => n + count(l.trim().split(' ')[0]), 0);
    const crypto = sum((l) => l.includes('libcrypto.so'));
    const allocation = sum((l) => /malloc\.c:|arena\.c:|operator new|operator delete/.test(l));
    const datagrams = count(annotate('--tree=caller').match(/< \S*UdpBus::receive\(\) \(([\d,]+)x\)/)[1]);
    const per = (n, d = datagrams) => Math.round(n / d);
    return {
        datagrams,
        perDatagram: per(total),
        hmacPerDatagram: per(crypto),
        withoutHmacPerDatagram: per(total - crypto),
        allocationPerDatagram: per(allocation),
        withoutHmacPerMessage: per(total - crypto, messages),
    };
}

// The machine's price of receiving the bus's datagrams (chat-floor --udp-port, see
// bench/floor/UdpFloor.hpp): a process with a socket beside the nodes' on the bus port.
function startFloor(busPort) {
    const floor = startLineChild(FLOOR_BIN, ['--udp-port', String(busPort)], 'chat-floor --udp-port');
    children.add(floor.child);
    floor.child.once('exit', () => children.delete(floor.child));
    return {
        child: floor.child,
        // Datagrams it has received so far.
        datagrams: async () => (await floor.ask()).datagrams,
        stop: () => floor.stop(),
    };
}

// ---------------------------------------------------------------------------------------
// Clients

async function register(node, i) {
    const mobile = `19${String(process.pid % 1000).padStart(3, '0')}${String(Date.now() % 1e6).padStart(6, '0')}${i}`;
    const res = await fetch(`${node.url}/user/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mobile, passwd: 'bench-password', nickname: `u${i}` }),
    });
    const body = await res.json();
    if (body.code !== 0) throw new Error(`register: ${JSON.stringify(body)}`);
    return { id: body.data.id, token: body.data.token };
}

// Opens a connection and resolves once the node said {"cmd":13}; `onFrame` sees every frame.
function connect(node, user, { since, onFrame = () => {} } = {}) {
    const q = new URLSearchParams({ id: String(user.id), token: user.token });
    if (since !== undefined) q.set('since', String(since));
    const ws = new WebSocket(`${node.ws}/chat?${q}`, { maxPayload: 64 << 20 });
    let resolveSynced;
    const synced = new Promise((r) => (resolveSynced = r));
    ws.on('message', (data) => {
        const frame = JSON.parse(data);
        if (frame.cmd === 13) resolveSynced(frame);
        onFrame(frame);
    });
    return new Promise((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => resolve({ ws, synced }));
    });
}

// Sends `count` messages from one connection with at most WINDOW unacknowledged; resolves with
// each message's ack latency in ms.
function blast(conn, to, count) {
    return new Promise((resolve, reject) => {
        const sentAt = new Map();
        const latencies = [];
        let next = 0;
        const pump = () => {
            while (next < count && sentAt.size < WINDOW) {
                const cid = next++;
                sentAt.set(cid, performance.now());
                conn.ws.send(JSON.stringify({ id: cid, cmd: 10, dstid: to.id, media: 1, content: CONTENT }));
            }
        };
        conn.ws.on('message', (data) => {
            const f = JSON.parse(data);
            if (f.cmd === 99) return reject(new Error(`error frame: ${data}`));
            if (f.cmd !== 1) return;
            latencies.push(performance.now() - sentAt.get(f.cid));
            sentAt.delete(f.cid);
            if (latencies.length === count) return resolve(latencies);
            pump();
        });
        pump();
    });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

function withLimit(promise, what) {
    let timer;
    return Promise.race([
        promise.finally(() => clearTimeout(timer)),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${PHASE_LIMIT_MS} ms`)), PHASE_LIMIT_MS))),
    ]);
}

// CPU this node's process has used so far: total from the scheduler (ns precision), and the
// user / kernel split (clock ticks).
function cpuOf(node) {
    const pid = node.child.pid;
    return { totalUs: runTimeUs(pid), ...cpuTimesUs(pid), switches: contextSwitches(pid) };
}

const cpuSince = (before, after) => ({
    totalUs: after.totalUs - before.totalUs,
    userUs: after.userUs - before.userUs,
    systemUs: after.systemUs - before.systemUs,
    switches: after.switches - before.switches,
});

async function metric(node, name) {
    const text = await (await fetch(`${node.admin}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : 0;
}

// ---------------------------------------------------------------------------------------
// Phases

// Senders spread over both nodes, each to a receiver that is not connected (nothing but the
// store and the bus in the way): messages stored per second, and what each ack waited.
async function storedThroughput(nodes, users) {
    const conns = [];
    for (let i = 0; i < SENDERS; i++) conns.push(await connect(nodes[i % 2], users[i]));
    await Promise.all(conns.map((c) => c.synced));
    const per = Math.ceil(MESSAGES / SENDERS);
    const commitsBefore = await metric(nodes[0], 'chat_history_commit_seconds_count');
    const t0 = performance.now();
    const all = await withLimit(Promise.all(conns.map((c, i) => blast(c, users[SENDERS + (i % 2)], per))), 'stored throughput');
    const seconds = (performance.now() - t0) / 1000;
    const latencies = all.flat().sort((a, b) => a - b);
    for (const c of conns) c.ws.close();
    const stored = per * SENDERS;
    return {
        messages: stored,
        seconds: +seconds.toFixed(2),
        perSecond: Math.round(stored / seconds),
        ackMs: { p50: +percentile(latencies, 0.5).toFixed(2), p99: +percentile(latencies, 0.99).toFixed(2), max: +latencies.at(-1).toFixed(2) },
        storedOnNode1: (await metric(nodes[0], 'chat_history_commit_seconds_count')) - commitsBefore,
    };
}

// The bystander's and the floor's CPU per datagram while the others store: what each used
// minus what it uses idle over as long a time (the bystander's heartbeats and stream poll, the
// receive calls' timeouts), over the datagrams it received.
async function bystanderDrop(bystander, floor, storing) {
    const procs = [bystander, floor];
    const idleFrom = procs.map(cpuOf);
    const idleStart = performance.now();
    await sleep(IDLE_SAMPLE_MS);
    const idle = procs.map((p, i) => cpuSince(idleFrom[i], cpuOf(p)));
    const idleMs = performance.now() - idleStart;

    const received = () => Promise.all([metric(bystander, 'chat_bus_datagrams_received_total'), floor.datagrams()]);
    const receivedBefore = await received();
    const fetchedBefore = await metric(bystander, 'chat_stream_fetched_total');
    const from = procs.map(cpuOf);
    const t0 = performance.now();
    const stored = await storing();
    const busy = procs.map((p, i) => cpuSince(from[i], cpuOf(p)));
    const ms = performance.now() - t0;
    const datagrams = (await received()).map((n, i) => n - receivedBefore[i]);
    const per = (i, key, count) => +((busy[i][key] - (idle[i][key] * ms) / idleMs) / count).toFixed(2);
    const costs = (i) => ({
        datagrams: datagrams[i],
        usPerDatagram: per(i, 'totalUs', datagrams[i]),
        userUsPerDatagram: per(i, 'userUs', datagrams[i]),
        kernelUsPerDatagram: per(i, 'systemUs', datagrams[i]),
        // As the suite counts them: each is a sleep and a wake-up of one of its threads.
        switchesPerDatagram: per(i, 'switches', datagrams[i]),
        idleCpuPercent: +((idle[i].totalUs / 1000 / idleMs) * 100).toFixed(2),
    });
    const node = costs(0);
    const machine = costs(1);
    const aboveFloor = node.usPerDatagram - machine.usPerDatagram;
    return {
        stored,
        drop: {
            ...node,
            // Several messages share a datagram when their commits do (ChatPack).
            messages: stored.messages,
            usPerMessage: per(0, 'totalUs', stored.messages),
            // Positions that came late enough to be read from the history instead.
            fetchedFromHistory: (await metric(bystander, 'chat_stream_fetched_total')) - fetchedBefore,
            floor: machine,
            aboveFloorUsPerDatagram: +aboveFloor.toFixed(2),
            aboveFloorUsPerMessage: +((aboveFloor * node.datagrams) / stored.messages).toFixed(2),
        },
    };
}

// A device holds position P, goes away while MISSED messages arrive, and comes back with
// since=P: the time until its {"cmd":13}, and that it got every message once, in order.
async function syncAfterMissed(nodes, users) {
    const [sender, target] = [users[0], users[SENDERS + 2]];
    const first = await connect(nodes[1], target);
    const since = (await first.synced).pos;
    first.ws.close();
    const conn = await connect(nodes[0], sender);
    await conn.synced;
    await withLimit(blast(conn, target, MISSED), 'sending the missed messages');
    conn.ws.close();

    let count = 0;
    let last = since;
    let outOfOrder = 0;
    const t0 = performance.now();
    const back = await connect(nodes[1], target, {
        since,
        onFrame: (f) => {
            if (f.cmd !== 10) return;
            count++;
            if (f.pos <= last) outOfOrder++;
            last = f.pos;
        },
    });
    const end = await withLimit(back.synced, 'the sync');
    const ms = performance.now() - t0;
    back.ws.close();
    if (count !== MISSED || outOfOrder) throw new Error(`sync delivered ${count} of ${MISSED}, ${outOfOrder} out of order`);
    return { missed: MISSED, ms: Math.round(ms), framesPerSecond: Math.round(MISSED / (ms / 1000)), endPos: end.pos };
}

function instructionRows(i) {
    return [
        `| the bystander's instructions per datagram, arrival to drop (callgrind, ${i.datagrams.toLocaleString('en')} datagrams) | ${i.perDatagram.toLocaleString('en')} |`,
        `| … of them the HMAC (OpenSSL's portable SHA-256 under valgrind) / allocation | ${i.hmacPerDatagram.toLocaleString('en')} / ${i.allocationPerDatagram.toLocaleString('en')} |`,
        `| … without the HMAC, per datagram / per message | ${i.withoutHmacPerDatagram.toLocaleString('en')} / ${i.withoutHmacPerMessage.toLocaleString('en')} |`,
    ];
}

// ---------------------------------------------------------------------------------------

async function main() {
    if (!BIN) throw new Error('CHAT_BIN is not set (run bench/history/run.sh)');
    if (!existsSync(FLOOR_BIN)) throw new Error(`${FLOOR_BIN} is missing (scripts/build.sh Release builds it)`);
    const logDir = path.join(repoDir, 'var', 'bench-history');
    mkdirSync(logDir, { recursive: true });
    const dbPort = await freePort();
    db('reset', dbPort);
    const nodes = [];
    let floor;
    try {
        const dsn = db('dsn', dbPort);
        const busPort = await freePort();
        for (const id of [1, 2, 3]) nodes.push(await startNode(id, dsn, busPort, logDir));
        floor = startFloor(busPort);
        const users = [];
        for (let i = 0; i < SENDERS + 3; i++) users.push(await register(nodes[i % 2], i));

        log(`stored throughput: ${MESSAGES} messages from ${SENDERS} senders, window ${WINDOW}`);
        const { stored, drop } = await bystanderDrop(nodes[2], floor, () => storedThroughput(nodes, users));
        log(`sync: a device that missed ${MISSED} messages`);
        const sync = await syncAfterMissed(nodes, users);

        await Promise.all(nodes.map(stopNode));
        if (CALLGRIND) drop.instructions = instructionsPerDatagram(logDir, stored.messages + sync.missed);
        const result = {
            date: new Date().toISOString(),
            machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) },
            server: process.env.BENCH_SERVER_LABEL ?? process.env.CHAT_BIN,
            config: { messages: MESSAGES, senders: SENDERS, window: WINDOW, missed: MISSED, contentChars: CONTENT.length, chatArgs: CHAT_ARGS, callgrind: CALLGRIND },
            stored,
            drop,
            sync,
        };
        console.log(
            [
                '| measure | value |',
                '|---|---|',
                `| messages stored (committed, acked) per second | ${stored.perSecond.toLocaleString('en')} |`,
                `| ack latency p50 / p99 / max (ms) | ${stored.ackMs.p50} / ${stored.ackMs.p99} / ${stored.ackMs.max} |`,
                `| a bystander node's CPU per datagram it drops: total (user + kernel) µs | ${drop.usPerDatagram} (${drop.userUsPerDatagram} + ${drop.kernelUsPerDatagram}) |`,
                `| … its threads' context switches per datagram | ${drop.switchesPerDatagram} |`,
                `| … per message in them (${(drop.messages / drop.datagrams).toFixed(1)} per datagram) µs | ${drop.usPerMessage} |`,
                `| this machine's floor: receiving one of those datagrams as the bus does, doing nothing with it: total (user + kernel) µs | ${drop.floor.usPerDatagram} (${drop.floor.userUsPerDatagram} + ${drop.floor.kernelUsPerDatagram}) |`,
                `| the bystander above that floor, per datagram / per message µs | ${drop.aboveFloorUsPerDatagram} / ${drop.aboveFloorUsPerMessage} |`,
                `| sync of ${MISSED.toLocaleString('en')} missed messages (ms) | ${sync.ms.toLocaleString('en')} (${sync.framesPerSecond.toLocaleString('en')} frames/s) |`,
                ...(drop.instructions ? instructionRows(drop.instructions) : []),
            ].join('\n'),
        );
        const resultDir = path.join(repoDir, 'bench', 'results');
        const out = path.join(resultDir, `${resultName(resultDir, 'history-')}.json`);
        writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
        log(`wrote ${path.relative(repoDir, out)}`);
    } finally {
        await Promise.all([...nodes.map(stopNode), floor?.stop()]);
        db('stop', dbPort);
    }
}

main().then(
    () => process.exit(0),
    (e) => {
        console.error(`bench: FAILED: ${e.message}`);
        process.exit(1);
    },
);
