// One cell of the matrix: one workload's plan against one system (chat or baseline) on n nodes.
// Starts the nodes, waits for the CPUs to be idle, runs the chat-load workers through their
// phases, reads every node's CPU time and memory (and MariaDB's) between the phases, stops
// everything it started, and returns the cell's record.
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { writeBaselineFixture } from './fixtures.mjs';
import { startBaselineNodes, startChatNodes, stopNodes } from './nodes.mjs';
import { writeWorkerPlans } from './plan.mjs';
import { busyShare, contextSwitches, cpuUs, machineTicks, rssBytes, waitForIdle } from './proc.mjs';
import { mergeDone, mergeReady } from './stats.mjs';
import { WorkerGroup } from './workers.mjs';

const STEP_SLACK_MS = 30_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK_US = 10_000; // /proc/stat counts in 1/100 s

async function snapshot(nodes, dbPid, withMetrics = false) {
    return {
        at: Date.now(),
        machine: machineTicks(),
        nodes: nodes.map((n) => ({ cpuUs: cpuUs(n.pid), rssBytes: rssBytes(n.pid), switches: contextSwitches(n.pid) })),
        dbCpuUs: dbPid ? cpuUs(dbPid) : null,
        metrics: withMetrics ? await Promise.all(nodes.map((n) => n.metrics())) : null,
    };
}

const cpuBetween = (a, b) => a.nodes.reduce((sum, n, i) => sum + (b.nodes[i].cpuUs - n.cpuUs), 0);
const switchesBetween = (a, b) => a.nodes.reduce((sum, n, i) => sum + (b.nodes[i].switches - n.switches), 0);

// Per node: {connections, rssBefore, rssAfter, bytesPerConnection}.
function memory(plan, before, after) {
    return before.nodes.map((n, i) => {
        const connections = plan.connections.filter((c) => c.node === i).length;
        const grown = after.nodes[i].rssBytes - n.rssBytes;
        return {
            connections,
            rssBefore: n.rssBytes,
            rssAfter: after.nodes[i].rssBytes,
            bytesPerConnection: connections ? grown / connections : null,
        };
    });
}

// Counter deltas from the chat nodes' /metrics, summed over the nodes.
function metricDeltas(before, after) {
    if (!before || before.some((m) => !m) || after.some((m) => !m)) return null;
    const names = [
        'chat_deliveries_total',
        'chat_slow_consumer_disconnects_total',
        'chat_bus_lost_total',
        'chat_bus_datagrams_dropped_total',
        'chat_bus_retransmits_total',
        'chat_history_stored_total',
        'chat_history_failed_total',
        'chat_history_batches_total',
        'chat_sync_frames_total',
        // Where a message's latency goes: from the writer's queue to its commit.
        'chat_history_commit_seconds_bucket',
        'chat_history_commit_seconds_count',
        'chat_history_commit_seconds_sum',
    ];
    // Every labelled series of these metrics too (drops by reason, …), where it moved.
    const series = Object.keys(after[0]).filter((k) => k.includes('{') && names.includes(k.slice(0, k.indexOf('{'))));
    const out = {};
    for (const name of [...names, ...series]) {
        if (!(name in after[0])) continue;
        const delta = after.reduce((s, m, i) => s + (m[name] ?? 0) - (before[i][name] ?? 0), 0);
        if (delta || !name.includes('{')) out[name] = delta;
    }
    return out;
}

async function startNodes(system, n, plan, ctx, dir) {
    const common = { repoDir: ctx.repoDir, logDir: dir, runDir: ctx.runDir };
    if (system === 'chat') {
        return startChatNodes(n, {
            ...common,
            bin: ctx.chatBin,
            dsn: ctx.db.dsn,
            uploadDir: path.join(ctx.workDir, 'upload'),
            logLevel: ctx.chatLogLevel,
            extraArgs: ctx.chatArgs,
        });
    }
    const fixture = path.join(dir, 'baseline-fixture.json');
    writeBaselineFixture(fixture, plan.users, plan.groups);
    return startBaselineNodes(n, { ...common, fixture });
}

function record(system, n, plan, phases) {
    const { idle, ready, done, s0, s1, s1b, s2, s3, disk } = phases;
    const runCpuUs = cpuBetween(s2, s3);
    const dbCpuUs = s2.dbCpuUs != null && s3.dbCpuUs != null ? s3.dbCpuUs - s2.dbCpuUs : null;
    const delivered = done.delivered + done.slow.delivered;
    const machineUs = (s3.machine.busy - s2.machine.busy) * TICK_US;
    return {
        system,
        nodes: n,
        workload: plan.workload,
        size: plan.params.size ?? null,
        variant: plan.params.variant ?? null,
        params: plan.params,
        connections: plan.connections.length,
        rooms: plan.rooms ?? null,
        targetMessagesPerSec: plan.messagesPerSec ?? null,
        cpuIdleBefore: idle,
        connect: {
            ...ready,
            serverCpuUs: cpuBetween(s0, s1),
            serverCpuUsPerConnection: ready.opened ? cpuBetween(s0, s1) / ready.opened : null,
            // Where the connect rate's limit lies: MariaDB's share (token and history reads), and
            // how busy the whole machine was meanwhile.
            dbCpuUsPerConnection: ready.opened && s0.dbCpuUs != null ? (s1.dbCpuUs - s0.dbCpuUs) / ready.opened : null,
            machineBusy: busyShare(s0.machine, s1.machine),
        },
        memory: memory(plan, s0, s1b ?? s1),
        run: {
            ...done,
            latencyHistogram: undefined,
            delivered,
            messagesPerSecond: done.sendSeconds ? done.issued / done.sendSeconds : null,
            deliveriesPerSecond: done.deliverSeconds ? done.delivered / done.deliverSeconds : null,
            serverCpuUs: runCpuUs,
            dbCpuUs,
            serverCpuUsPerDelivery: delivered ? runCpuUs / delivered : null,
            serverCpuUsPerMessage: done.issued ? runCpuUs / done.issued : null,
            serverAndDbCpuUsPerDelivery: delivered && dbCpuUs != null ? (runCpuUs + dbCpuUs) / delivered : null,
            serverContextSwitches: switchesBetween(s2, s3),
            serverContextSwitchesPerDelivery: delivered ? switchesBetween(s2, s3) / delivered : null,
            machineBusy: busyShare(s2.machine, s3.machine),
            // CPU the machine spent on anything but the servers, MariaDB and the clients.
            otherCpuUs: machineUs - runCpuUs - (dbCpuUs ?? 0) - done.clientCpuUs,
            wallSeconds: (s3.at - s2.at) / 1000,
        },
        rssAfterRun: s3.nodes.map((x) => x.rssBytes),
        serverMetrics: metricDeltas(s2.metrics, s3.metrics),
        disk,
        latencyHistogram: done.latencyHistogram,
    };
}

// Runs the plan against `system` ('chat' | 'baseline') on n nodes; resolves the cell's record.
export async function runCell(system, n, plan, ctx) {
    const variant = plan.params.variant ? '-' + plan.params.variant.replace(/[^0-9a-z]/gi, '') : '';
    const name = `${system}-${n}n-${plan.workload}${variant}`;
    const dir = path.join(ctx.workDir, name);
    mkdirSync(dir, { recursive: true });
    const nodes = await startNodes(system, n, plan, ctx, dir);
    let workers = null;
    try {
        const idle = await waitForIdle(ctx.idleWait);
        const tag = `b${Date.now().toString(36)}${system[0]}${n}`;
        const planFiles = writeWorkerPlans(plan, nodes, { dir, tag, limits: ctx.limits });
        workers = new WorkerGroup({ bin: ctx.loadBin, planFiles, threads: ctx.threads, maxSeconds: ctx.workerMaxSeconds, logPrefix: path.join(dir, 'load') });
        await workers.loaded(STEP_SLACK_MS);
        const dbPid = system === 'chat' ? await ctx.db.pid() : null;
        const limits = ctx.limits;

        const s0 = await snapshot(nodes, dbPid);
        const ready = mergeReady(await workers.step('connect', 'ready', limits.connectTimeoutMs + limits.syncTimeoutMs + STEP_SLACK_MS));
        const s1 = await snapshot(nodes, dbPid);
        let s1b = null;
        if (plan.workload === 'idle') {
            await sleep(ctx.idleSettleMs); // let the nodes finish what the connections started
            s1b = await snapshot(nodes, dbPid);
        }

        await ctx.diskProbe?.window(); // the run's window starts here
        const s2 = await snapshot(nodes, dbPid, true);
        const sentEvents = await workers.step('go', 'sent', (plan.pacing.durationMs ?? 0) + STEP_SLACK_MS);
        const sent = Object.assign({}, ...sentEvents.map((e) => e.sent));
        const drainMs = limits.drainTimeoutMs + limits.slowResumeMs + STEP_SLACK_MS;
        const done = mergeDone(await workers.step(`expect ${JSON.stringify(sent)}`, 'done', drainMs));
        const s3 = await snapshot(nodes, dbPid, true);
        const disk = ctx.diskProbe ? await ctx.diskProbe.window() : null;
        return record(system, n, plan, { idle, ready, done, s0, s1, s1b, s2, s3, disk });
    } finally {
        if (workers) await workers.stop();
        const codes = await stopNodes(nodes);
        if (codes.some((c) => c !== 0)) ctx.log(`${name}: node exit codes ${codes.join(', ')} (logs in ${dir})`);
    }
}
