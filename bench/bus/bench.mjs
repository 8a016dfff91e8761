// The bus benchmark: three chat nodes in network namespaces on one bridge (the LAN of
// tests/integration/lib/lan.mjs), senders on node 1, receivers on nodes 2 and 3, so every
// message crosses the bus. For each link condition (clean, 5% loss, 5% loss + 5% duplication
// + reordering) it measures throughput (messages/s and bytes/s delivered, at full speed with
// a window of unacknowledged frames per sender), latency (send to delivery, paced) and the
// bus's repair overhead (NAKs and retransmits per data datagram, from the nodes' metrics).
// Prints a table and writes bench/results/bus-<date>-<hhmm>.json. Run it through bench/bus/run.sh.
//
// Environment: CHAT_BIN (required), BENCH_MESSAGES (throughput messages per size, 20000),
// BENCH_LATENCY_MESSAGES (2000), BENCH_LATENCY_RATE (messages/s while measuring latency, 500),
// BENCH_PHASE_LIMIT_S (seconds any phase may take, 60).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { createLan, netnsAvailable, startLanDb } from '../../tests/integration/lib/lan.mjs';
import { resultName } from '../suite/resultName.mjs';

const repoDir = path.resolve(fileURLToPath(import.meta.url), '../../..');
const WebSocket = createRequire(path.join(repoDir, 'tests/package.json'))('ws');

const BIN = process.env.CHAT_BIN;
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20000);
const LATENCY_MESSAGES = Number(process.env.BENCH_LATENCY_MESSAGES ?? 2000);
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 500);
const PHASE_LIMIT_MS = Number(process.env.BENCH_PHASE_LIMIT_S ?? 60) * 1000;
const BUS_PORT = 3999;
const BUS_KEY = 'bench-cluster-secret-0123456789';
const PAIRS = 4; // senders on node 1; receivers alternate between nodes 2 and 3
const WINDOW = 64; // unacknowledged frames per sender
const SIZES = [200, 4000]; // content characters: one datagram, and three fragments
const CONDITIONS = [
    { name: 'clean', impair: null },
    { name: '5% loss', impair: { loss: 0.05, dup: 0, reorder: 0 } },
    { name: '5% loss+dup+reorder', impair: { loss: 0.05, dup: 0.05, reorder: 0.05 } },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('bench:', ...a);

// ---------------------------------------------------------------------------------------
// Nodes

const children = new Set();
process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

async function startNode(lan, db, id, logDir) {
    const host = lan.host(String(id));
    const [port, admin] = [8080, 9080]; // the namespace is ours alone
    const args = [
        '--listen', `${host.address}:${port}`, '--admin-listen', `${host.address}:${admin}`,
        '--node-id', String(id), '--bus-port', String(BUS_PORT), '--bus-broadcast', lan.broadcast,
        '--bus-key', BUS_KEY, '--mysql', db.dsn, '--upload-dir', path.join(logDir, 'upload'),
        '--asset-dir', path.join(repoDir, 'asset'), '--view-dir', path.join(repoDir, 'view'),
        '--web-dir', path.join(repoDir, 'web'), '--pbkdf2-iterations', '1000', '--log-level', 'warn',
        '--max-queue', '16M',
    ];
    const [file, argv] = lan.wrap(host.name, BIN, args);
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = createWriteStream(path.join(logDir, `node${id}.log`));
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    children.add(child);
    child.once('exit', () => children.delete(child));
    const node = { id, child, url: `http://${host.address}:${port}`, wsUrl: `ws://${host.address}:${port}`, adminUrl: `http://${host.address}:${admin}` };
    const deadline = Date.now() + 15_000;
    for (;;) {
        try {
            const res = await fetch(`${node.adminUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
            if (res.status === 200) return node;
        } catch {
            // not listening yet
        }
        if (child.exitCode !== null || Date.now() > deadline) {
            // Not in `nodes` yet, so nothing else would stop it (and its pipes would keep the bench alive).
            await stopNode(node);
            throw new Error(`node ${id} did not start (see ${logDir}/node${id}.log)`);
        }
        await sleep(50);
    }
}

async function stopNode(node) {
    if (node.child.exitCode !== null) return;
    node.child.kill('SIGTERM');
    await new Promise((r) => node.child.once('exit', r));
}

async function post(node, urlPath, params) {
    const res = await fetch(`${node.url}${urlPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
    });
    const body = await res.json();
    if (body.code !== 0) throw new Error(`${urlPath}: ${res.status} ${JSON.stringify(body)}`);
    return body.data;
}

async function register(node) {
    const mobile = '1' + String(Math.floor(Math.random() * 1e12)).padStart(12, '0');
    return post(node, '/user/register', { mobile, passwd: 'bench-password' });
}

function open(node, user, onFrame) {
    return new Promise((resolve, reject) => {
        const ws = new WebSocket(`${node.wsUrl}/chat?id=${user.id}&token=${user.token}`, { maxPayload: 64 << 20 });
        ws.on('message', (data) => onFrame(data));
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
    });
}

// Sum over the nodes of each metric (name{labels} -> value).
async function metricsOf(nodes) {
    const total = {};
    for (const n of nodes) {
        const text = await (await fetch(`${n.adminUrl}/metrics`)).text();
        for (const line of text.split('\n')) {
            const m = line.match(/^(chat_bus_[a-z_]+(?:\{[^}]*\})?) (\S+)$/);
            if (m) total[m[1]] = (total[m[1]] ?? 0) + Number(m[2]);
        }
    }
    return total;
}

// ---------------------------------------------------------------------------------------
// Phases

// Sends `count` messages of `size` characters from every sender to its receiver, keeping at
// most WINDOW unacknowledged per sender (or paced at `rate` messages/s overall when given).
// Resolves {elapsedMs, delivered, bytes, latencies}.
function phase(pairs, { count, size, rate, tag }) {
    return new Promise((resolve, reject) => {
        const perSender = Math.ceil(count / pairs.length);
        const total = perSender * pairs.length;
        const filler = 'x'.repeat(size);
        const sentAt = new Map();
        const latencies = [];
        let delivered = 0;
        let bytes = 0;
        const started = performance.now();
        const timer = setTimeout(() => finish(new Error(`${tag}: ${delivered}/${total} delivered within ${PHASE_LIMIT_MS} ms`)), PHASE_LIMIT_MS);
        const finish = (err) => {
            clearTimeout(timer);
            for (const p of pairs) p.onAck = p.onDeliver = null;
            if (err) reject(err);
            else resolve({ elapsedMs: performance.now() - started, delivered, bytes, latencies });
        };
        for (const [i, p] of pairs.entries()) {
            let next = 0;
            let inflight = 0;
            const sendOne = () => {
                const cid = `${tag}-${i}-${next++}`;
                sentAt.set(cid, performance.now());
                inflight++;
                p.sender.send(JSON.stringify({ id: cid, cmd: 10, dstid: p.receiverId, media: 1, content: `${cid}|${filler}` }));
            };
            p.onAck = () => {
                inflight--;
                if (!rate) while (next < perSender && inflight < WINDOW) sendOne();
            };
            p.onDeliver = (frame, length) => {
                const cid = frame.content.slice(0, frame.content.indexOf('|'));
                const t0 = sentAt.get(cid);
                if (t0 === undefined) return;
                sentAt.delete(cid);
                latencies.push(performance.now() - t0);
                delivered++;
                bytes += length;
                if (delivered === total) finish();
            };
            if (rate) {
                const interval = 1000 / (rate / pairs.length);
                const tick = () => {
                    if (next >= perSender) return;
                    sendOne();
                    setTimeout(tick, Math.max(0, started + next * interval - performance.now()));
                };
                setTimeout(tick, (i * interval) / pairs.length);
            } else {
                while (next < perSender && inflight < WINDOW) sendOne();
            }
        }
    });
}

const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function measure(nodes, pairs, condition) {
    const row = { condition: condition.name, throughput: [], latency: null, overhead: null };
    const before = await metricsOf(nodes);
    let dataDatagrams = 0;
    for (const size of SIZES) {
        const r = await phase(pairs, { count: MESSAGES, size, tag: `t${size}` });
        const fragments = Math.ceil((r.bytes / r.delivered) / 1384);
        dataDatagrams += r.delivered * fragments;
        row.throughput.push({
            contentChars: size,
            messages: r.delivered,
            seconds: +(r.elapsedMs / 1000).toFixed(2),
            messagesPerSecond: Math.round(r.delivered / (r.elapsedMs / 1000)),
            bytesPerSecond: Math.round(r.bytes / (r.elapsedMs / 1000)),
            datagramsPerMessage: fragments,
        });
        log(`${condition.name}: ${size}-char messages: ${row.throughput.at(-1).messagesPerSecond} msg/s`);
    }
    const lat = await phase(pairs, { count: LATENCY_MESSAGES, size: 200, rate: LATENCY_RATE, tag: 'lat' });
    dataDatagrams += lat.delivered;
    const sorted = lat.latencies.sort((a, b) => a - b);
    const ms = (v) => +v.toFixed(2);
    row.latency = {
        rate: LATENCY_RATE,
        messages: lat.delivered,
        p50: ms(percentile(sorted, 0.5)),
        p90: ms(percentile(sorted, 0.9)),
        p99: ms(percentile(sorted, 0.99)),
        max: ms(sorted.at(-1)),
    };
    await sleep(500); // late repairs land in the counters
    const after = await metricsOf(nodes);
    const d = (name) => (after[name] ?? 0) - (before[name] ?? 0);
    row.overhead = {
        dataDatagrams,
        datagramsSent: d('chat_bus_datagrams_sent_total'),
        naksSent: d('chat_bus_naks_sent_total'),
        retransmits: d('chat_bus_retransmits_total'),
        duplicatesDropped: d('chat_bus_datagrams_dropped_total{reason="replay"}'),
        lost: d('chat_bus_lost_total'),
        retransmitPercent: +((100 * d('chat_bus_retransmits_total')) / dataDatagrams).toFixed(2),
        naksPer1000: +((1000 * d('chat_bus_naks_sent_total')) / dataDatagrams).toFixed(2),
    };
    return row;
}

function printTable(rows) {
    const lines = [];
    const pad = (v, n) => String(v).padStart(n);
    lines.push(`${'condition'.padEnd(22)}${pad('chars', 6)}${pad('msg/s', 9)}${pad('MB/s', 8)}${pad('dgram/msg', 10)}`);
    for (const r of rows)
        for (const t of r.throughput)
            lines.push(`${r.condition.padEnd(22)}${pad(t.contentChars, 6)}${pad(t.messagesPerSecond, 9)}${pad((t.bytesPerSecond / 1e6).toFixed(2), 8)}${pad(t.datagramsPerMessage, 10)}`);
    lines.push('');
    lines.push(`${'condition'.padEnd(22)}${pad('rate', 6)}${pad('p50 ms', 9)}${pad('p90 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}`);
    for (const r of rows) {
        const l = r.latency;
        lines.push(`${r.condition.padEnd(22)}${pad(l.rate, 6)}${pad(l.p50, 9)}${pad(l.p90, 9)}${pad(l.p99, 9)}${pad(l.max, 9)}`);
    }
    lines.push('');
    lines.push(`${'condition'.padEnd(22)}${pad('data dgrams', 12)}${pad('NAKs', 7)}${pad('NAK/1000', 9)}${pad('resent', 8)}${pad('resent %', 9)}${pad('dups', 6)}${pad('lost', 6)}`);
    for (const r of rows) {
        const o = r.overhead;
        lines.push(`${r.condition.padEnd(22)}${pad(o.dataDatagrams, 12)}${pad(o.naksSent, 7)}${pad(o.naksPer1000, 9)}${pad(o.retransmits, 8)}${pad(o.retransmitPercent, 9)}${pad(o.duplicatesDropped, 6)}${pad(o.lost, 6)}`);
    }
    return lines.join('\n');
}

async function main() {
    if (!BIN) throw new Error('CHAT_BIN is not set (run bench/bus/run.sh)');
    const probe = await netnsAvailable();
    if (!probe.ok) {
        console.log(`SKIPPED: network namespaces unavailable (${probe.reason})`);
        return;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const logDir = path.join(repoDir, 'var', 'bench-logs', `bus-${stamp}`);
    mkdirSync(path.join(logDir, 'upload'), { recursive: true });
    const lan = await createLan({ hosts: 3 });
    let db;
    const nodes = [];
    const sockets = [];
    try {
        db = await startLanDb(lan);
        for (let id = 1; id <= 3; id++) nodes.push(await startNode(lan, db, id, logDir));
        await sleep(500); // a few heartbeats: every node knows where the others' streams stand
        const pairs = [];
        for (let i = 0; i < PAIRS; i++) {
            const pair = { onAck: null, onDeliver: null };
            const receiverNode = nodes[1 + (i % 2)];
            const [s, r] = [await register(nodes[0]), await register(receiverNode)];
            pair.receiverId = r.id;
            pair.sender = await open(nodes[0], s, (data) => {
                const f = JSON.parse(data);
                if (f.cmd === 1) pair.onAck?.();
                else if (f.cmd === 99) log(`error frame: ${data}`);
            });
            sockets.push(pair.sender, await open(receiverNode, r, (data) => {
                const f = JSON.parse(data);
                if (f.cmd === 10) pair.onDeliver?.(f, data.length);
                else if (f.cmd === 14) log(`gap notice: ${data}`);
            }));
            pairs.push(pair);
        }
        const rows = [];
        for (const condition of CONDITIONS) {
            await lan.clearImpairment();
            if (condition.impair) await lan.impair(BUS_PORT, condition.impair);
            rows.push(await measure(nodes, pairs, condition));
        }
        const result = {
            date: new Date().toISOString(),
            host: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, kernel: os.release() },
            binary: BIN,
            setup: { nodes: 3, pairs: PAIRS, window: WINDOW, messagesPerSize: MESSAGES, latencyMessages: LATENCY_MESSAGES, latencyRate: LATENCY_RATE },
            notes: 'senders on node 1, receivers on nodes 2 and 3; bytes = stamped JSON delivered to clients; loss applied on every node\'s ingress, to the bus port only',
            rows,
        };
        const resultDir = path.join(repoDir, 'bench', 'results');
        mkdirSync(resultDir, { recursive: true });
        const file = path.join(resultDir, `${resultName(resultDir, 'bus-')}.json`);
        writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
        console.log(printTable(rows));
        console.log(`\nwritten: ${path.relative(repoDir, file)} (node logs in ${path.relative(repoDir, logDir)})`);
    } finally {
        for (const ws of sockets) ws.terminate();
        for (const n of nodes) await stopNode(n);
        await db?.stop();
        await lan.destroy();
        const left = lan.leftovers();
        if (left.length) log(`left behind: ${left.join(' ')}`);
    }
}

main().catch((e) => {
    console.error(`bench: ${e.stack ?? e.message}`);
    process.exitCode = 1;
});
