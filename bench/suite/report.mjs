// The suite's table (Markdown, printed and kept in the results JSON for README's Performance
// section) and the targets of the "Prove it is fast" issue, each checked against the chat
// system's cells.

import { chatThreadsPerNode } from './config.mjs';

const MESSAGE_WORKLOADS = ['pairs', 'room', 'burst', 'slow'];
const CONNECTION_WORKLOADS = ['idle', 'connect'];

function fmt(v, digits = 2) {
    if (v == null || Number.isNaN(v)) return '–';
    if (Number.isInteger(v)) return v.toLocaleString('en-US');
    if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
    if (Math.abs(v) >= 100) return v.toFixed(0);
    if (Math.abs(v) >= 10) return v.toFixed(1);
    return v.toFixed(digits);
}

const ratio = (a, b) => (a != null && b ? a / b : null);
const pair = (a, b, digits) => `${fmt(a, digits)} / ${fmt(b, digits)}`;
const label = (r) => `${r.workload}${r.variant ? ' ' + r.variant : ''}`;
const correctness = (r) => (r?.run ? `${r.run.lost} · ${r.run.duplicates} · ${r.run.outOfOrder}` : '–');
const avg = (list) => (list.length ? list.reduce((a, b) => a + b, 0) / list.length : null);
const kib = (r) => {
    const a = avg((r?.memory ?? []).map((m) => m.bytesPerConnection).filter((v) => v != null));
    return a == null ? null : a / 1024;
};
// The chat node's CPU, and with MariaDB's (history writes, token and history reads) when that adds 5 % or more.
const withDb = (base, total) => (total != null && base && total > base * 1.05 ? `${fmt(base)} [+DB ${fmt(total)}]` : fmt(base));
const chatCpu = (c) => withDb(c?.serverCpuUsPerDelivery, c?.serverAndDbCpuUsPerDelivery);
const chatConnectCpu = (c) => {
    const base = c?.connect.serverCpuUsPerConnection;
    const db = c?.connect.dbCpuUsPerConnection;
    return withDb(base, db != null && base != null ? base + db : null);
};

// Chat and baseline records of the same cell side by side, in run order.
function rows(results, workloads) {
    const out = [];
    for (const r of results.cells) {
        if (r.system !== 'chat' && results.cells.some((x) => x.system === 'chat' && same(x, r))) continue;
        if (!workloads.includes(r.workload)) continue;
        const find = (system) => results.cells.find((x) => x.system === system && same(x, r));
        out.push({ key: r, chat: find('chat'), baseline: find('baseline') });
    }
    return out;
}

const same = (a, b) => a.nodes === b.nodes && a.workload === b.workload && a.variant === b.variant;

const latency = (r) => {
    const l = r?.run?.latencyMs;
    return l?.count ? [l.p50, l.p99, l.p999, l.max].map((v) => fmt(v)).join(' · ') : '–';
};

function messageTable(results) {
    const lines = [
        '| nodes | workload | msg/s sent | deliveries/s chat / baseline | server CPU µs per delivery chat / baseline (ratio) | context switches per delivery chat / baseline | latency ms chat p50 · p99 · p999 · max | latency ms baseline p50 · p99 · p999 · max | lost · dup · late chat / baseline |',
        '|---|---|---|---|---|---|---|---|---|',
    ];
    for (const { key, chat, baseline } of rows(results, MESSAGE_WORKLOADS)) {
        const c = chat?.run;
        const b = baseline?.run;
        if (chat?.error || baseline?.error) {
            lines.push(`| ${key.nodes} | ${label(key)} | error: ${(chat?.error ?? baseline?.error).slice(0, 80)} |||||||`);
            continue;
        }
        const cpu = `${chatCpu(c)} / ${fmt(b?.serverCpuUsPerDelivery)} (${fmt(ratio(c?.serverCpuUsPerDelivery, b?.serverCpuUsPerDelivery))})`;
        lines.push(
            `| ${key.nodes} | ${label(key)} | ${fmt(c?.messagesPerSecond)} | ${pair(c?.deliveriesPerSecond, b?.deliveriesPerSecond)} | ` +
                `${cpu} | ${pair(c?.serverContextSwitchesPerDelivery, b?.serverContextSwitchesPerDelivery)} | ` +
                `${latency(chat)} | ${latency(baseline)} | ${correctness(chat)} / ${correctness(baseline)} |`,
        );
    }
    return lines.join('\n');
}

function connectionTable(results) {
    const lines = [
        '| nodes | workload | connections | opened chat / baseline | connects/s chat / baseline | server CPU µs per connect chat / baseline | memory KiB per connection chat / baseline |',
        '|---|---|---|---|---|---|---|',
    ];
    for (const { key, chat, baseline } of rows(results, CONNECTION_WORKLOADS)) {
        if (chat?.error || baseline?.error) {
            lines.push(`| ${key.nodes} | ${label(key)} | error: ${(chat?.error ?? baseline?.error).slice(0, 80)} |||||`);
            continue;
        }
        lines.push(
            `| ${key.nodes} | ${label(key)} | ${fmt(key.connections)} | ${pair(chat?.connect.opened, baseline?.connect.opened)} | ` +
                `${pair(chat?.connect.connectsPerSecond, baseline?.connect.connectsPerSecond)} | ` +
                `${chatConnectCpu(chat)} / ${fmt(baseline?.connect.serverCpuUsPerConnection)} | ${pair(kib(chat), kib(baseline))} |`,
        );
    }
    return lines.join('\n');
}

// One frame per socket with many sockets' sends in one io_uring submission; absent from older
// results and where io_uring is refused.
function spreadClause(p) {
    if (!p) return '';
    return (
        `; one frame per socket, ${p.sendsPerSubmit} sockets' sends per io_uring submission, ` +
        `${fmt(p.writerUsPerFrame)} µs + ${fmt(p.readerUsPerFrame)} µs per frame`
    );
}

function floorLine(f) {
    const s = f.single;
    const c = f.coalesced;
    return (
        `Floor (${s.sockets} loopback sockets, ${s.frameBytes}-byte frames): one frame per write() costs ` +
        `${fmt(s.writerUsPerFrame)} µs (writer) + ${fmt(s.readerUsPerFrame)} µs (reader) per frame; ` +
        `${c.framesPerWrite} frames per write() cost ${fmt(c.writerUsPerFrame)} µs + ${fmt(c.readerUsPerFrame)} µs per frame` +
        spreadClause(f.spread) +
        '.'
    );
}

// Messages whose commit took longer than 10 ms, from the nodes' histogram: a stalled durable
// write holds back every message of its batch, and the batches queued behind it.
function slowCommits(r) {
    const m = r.serverMetrics;
    const all = m?.chat_history_commit_seconds_count;
    const within = m?.['chat_history_commit_seconds_bucket{le="0.01"}'];
    return all && within != null && all > within ? `${all - within} of ${all} messages took over 10 ms to commit` : null;
}

function diskLine(d) {
    if (!d?.writes) return null;
    return `a 4 KiB O_DSYNC write took p50 ${fmt(d.p50Ms)} · p99 ${fmt(d.p99Ms)} · max ${fmt(d.maxMs)} ms, ${d.stalled} of ${d.writes} over ${fmt(d.stallMs)} ms`;
}

// What the table cannot show: how the slow readers ended, the disk's stalls, and runs whose
// numbers need a caveat.
function notes(results) {
    const out = [];
    for (const r of results.cells) {
        if (r.error || !r.run) continue;
        const name = `${r.system} ${r.nodes}n ${label(r)}`;
        const run = r.run;
        if (run.slow.clients) {
            // -1: the socket ended without a close frame (the close frame waits behind the backlog
            // until the server's close timeout cuts the socket).
            const codes = Object.entries(run.slow.closeCodes).map(([code, n]) => `${n}× ${code === '-1' ? 'socket cut, no close frame' : 'close ' + code}`);
            out.push(
                `${name}: slow reader got ${run.slow.delivered} of ${run.slow.expected} messages, ` +
                    (run.slow.closed ? `then was closed (${codes.join(', ')})` : 'and was never cut off'),
            );
        }
        const disk = [slowCommits(r), diskLine(r.disk)].filter(Boolean);
        if (disk.length) out.push(`${name}: ${disk.join('; ')}`);
        const caveats = [];
        if (!r.cpuIdleBefore?.idle) caveats.push(`CPUs ${Math.round((r.cpuIdleBefore?.busy ?? 0) * 100)} % busy at the start`);
        // /proc/stat counts in 10 ms ticks: too coarse to judge runs shorter than a second.
        const machineShare = run.wallSeconds >= 1 ? run.otherCpuUs / (run.wallSeconds * 1e6 * results.machine.cores) : 0;
        if (machineShare > 0.1) caveats.push(`other processes used ${Math.round(machineShare * 100)} % of the CPUs during the run`);
        if (run.skipped) caveats.push(`${run.skipped} sends skipped (client connection closed or backlogged)`);
        if (run.closedEarly) caveats.push(`${run.closedEarly} connections closed by the server (${JSON.stringify(run.closeCodes)})`);
        if (Object.keys(run.errors).length) caveats.push(`error frames ${JSON.stringify(run.errors)}`);
        if (r.connect.failed) caveats.push(`${r.connect.failed} connects failed (${JSON.stringify(r.connect.failures)})`);
        if (caveats.length) out.push(`${name}: ${caveats.join('; ')}`);
    }
    return out;
}

// ---- targets

// met: true/false, or null when a cell or a value it needs (the baseline's, say) is missing, or
// when the cells ran below the target's scale (`atScale`; quick runs are small).
function check(name, cells, measure, ok, atScale = () => true, aside = () => '') {
    const found = cells.filter((r) => r && !r.error);
    if (!found.length) return { name, met: null, measured: 'not run' };
    const values = found.map((r) => ({ cell: `${r.nodes}n ${label(r)}`, value: measure(r), aside: aside(r) }));
    const complete = values.every((v) => Object.values(v.value).every((x) => x != null && !Number.isNaN(x)));
    const scaled = values.every((v) => atScale(v.value));
    const met = complete && scaled ? values.every((v) => ok(v.value, v.cell)) : null;
    const measured = values.map((v) => `${v.cell}: ${formatValue(v.value)}${v.aside}`).join('; ');
    return { name, met, measured: scaled ? measured : `${measured} (below the target's scale)` };
}

function formatValue(v) {
    if (typeof v === 'object' && v !== null) return Object.entries(v).map(([k, x]) => `${k} ${fmt(x)}`).join(', ');
    return fmt(v);
}

function targets(results) {
    const chat = results.cells.filter((r) => r.system === 'chat');
    const base = (r) => results.cells.find((x) => x.system === 'baseline' && same(x, r) && !x.error);
    const floorUs = results.floor.coalesced.writerUsPerFrame;
    const cpu = (r) => r?.run?.serverCpuUsPerDelivery ?? null;
    // The target names rooms of 100 and 1,000; rooms of 10 run for the plots.
    const rooms = chat.filter((r) => r.workload === 'room' && r.size >= 100);
    const pairs2 = chat.filter((r) => r.workload === 'pairs' && r.nodes === 2);
    const at10k = pairs2.filter((r) => r.targetMessagesPerSec >= 10000);
    // The same room with everyone reading (config.mjs) is for comparison only.
    const control = (r) => r.params?.slowReader === false;
    const slowRooms = chat.filter((r) => r.workload === 'slow' && !control(r));
    const allReading = (r) => {
        const p99 = chat.find((x) => x.workload === 'slow' && control(x) && x.nodes === r.nodes)?.run?.latencyMs.p99;
        return p99 == null ? '' : ` (all reading: p99 ${fmt(p99)} ms)`;
    };
    return [
        check('group fan-out CPU per delivery ≤ 2 × floor (coalesced write)', rooms, (r) => ({ 'µs': cpu(r), '× floor': cpu(r) / floorUs }), (v) => v['× floor'] <= 2),
        check('group fan-out CPU per delivery ≤ 1/8 of baseline', rooms, (r) => ({ 'chat/baseline': ratio(cpu(r), cpu(base(r))) }), (v) => v['chat/baseline'] != null && v['chat/baseline'] <= 1 / 8),
        check('single chat across two nodes: CPU per message ≤ 1/4 of baseline', pairs2, (r) => ({ 'chat/baseline': ratio(r.run?.serverCpuUsPerMessage, base(r)?.run?.serverCpuUsPerMessage) }), (v) => v['chat/baseline'] != null && v['chat/baseline'] <= 1 / 4),
        check('single chat across two nodes: p99 < 2 ms at 10,000 msg/s', at10k.length ? at10k : pairs2, (r) => ({ 'p99 ms': r.run?.latencyMs.p99, 'msg/s': r.run?.messagesPerSecond, 'offered msg/s': r.targetMessagesPerSec }), (v) => v['p99 ms'] < 2 && v['msg/s'] >= 9900, (v) => v['offered msg/s'] >= 10000),
        check('idle: 19,000 connections on one node, ≤ 4 KiB growth each', chat.filter((r) => r.workload === 'idle' && r.nodes === 1), (r) => ({ connections: r.connections, opened: r.connect.opened, 'KiB/conn': kib(r) }), (v) => v.opened >= 19000 && v['KiB/conn'] <= 4, (v) => v.connections >= 19000),
        check('connect rate ≥ 5,000/s with the token check', chat.filter((r) => r.workload === 'connect'), (r) => ({ 'per s': r.connect.connectsPerSecond, failed: r.connect.failed }), (v) => v['per s'] >= 5000 && v.failed === 0),
        check('burst: all 400,000 deliveries arrive', chat.filter((r) => r.workload === 'burst'), (r) => ({ delivered: r.run?.delivered, expected: r.run?.expected }), (v) => v.delivered === v.expected, (v) => v.expected >= 400000),
        check('slow reader (50 members): others lose nothing, p99 < 5 ms, slow one cut off', slowRooms, (r) => ({ lost: r.run?.lost, 'p99 ms': r.run?.latencyMs.p99, 'slow cut off': r.run?.slow.closed }), (v) => v.lost === 0 && v['p99 ms'] < 5 && v['slow cut off'] >= 1, () => true, allReading),
        check('zero lost and zero duplicated deliveries in every run', chat.filter((r) => r.run), (r) => ({ lost: r.run.lost, dup: r.run.duplicates }), (v) => v.lost === 0 && v.dup === 0),
    ];
}

// The share of the CPUs that processes other than the ones measured used during the runs.
function otherLoad(results) {
    const runs = results.cells.filter((r) => r.run && r.run.wallSeconds >= 1);
    const wall = runs.reduce((a, r) => a + r.run.wallSeconds, 0);
    const other = runs.reduce((a, r) => a + Math.max(0, r.run.otherCpuUs), 0);
    return wall ? other / (wall * 1e6 * results.machine.cores) : null;
}

// Settings that move the figures, named beside them.
function settingsLines(c, cores) {
    const out = [];
    if (c.chatThreadsShared) {
        const each = c.nodes.map((n) => `${chatThreadsPerNode(n, c.chatArgs, cores) ?? 'as its flags set'} with ${n} node${n > 1 ? 's' : ''}`);
        out.push(`Network threads per chat node (the machine's cores shared out): ${each.join(', ')}.`);
    }
    if (c.chatArgs?.length) out.push(`Chat nodes ran with ${c.chatArgs.join(' ')}.`);
    if (c.dbArgs?.length) out.push(`MariaDB ran with ${c.dbArgs.join(' ')}.`);
    return out;
}

export function renderReport(results) {
    const table = [messageTable(results), '', connectionTable(results), '', floorLine(results.floor)].join('\n');
    const n = notes(results);
    const t = targets(results);
    const targetLines = t.map((x) => `- ${x.met === null ? '·' : x.met ? 'MET' : 'NOT MET'} — ${x.name}: ${x.measured}`);
    const m = results.machine;
    const text = [
        `Machine: ${m.cpu}, ${m.cores} cores, ${Math.round(m.memoryBytes / 2 ** 30)} GiB, Linux ${m.kernel}, Node ${m.node}; server: ${results.source.server}`,
        `Other processes used ${Math.round((otherLoad(results) ?? 0) * 100)} % of the CPUs during the measured runs.`,
        ...settingsLines(results.config, m.cores),
        '',
        table,
        '',
        'Notes:',
        ...n.map((x) => `- ${x}`),
        '',
        'Targets (chat):',
        ...targetLines,
    ].join('\n');
    return { table, notes: n, targets: t, otherLoad: otherLoad(results), text };
}
