// The benchmark suite's driver (run it through bench/run.sh). Measures this machine's floor
// (chat-floor), then runs every cell of the matrix (config.mjs) against the chat nodes and then
// the baseline nodes, writes bench/results/<date>.json, prints the table with the ratios and
// the targets, and draws the PNG plots.
//
// Environment: CHAT_BIN (the chat node), CHAT_LOAD_BIN, CHAT_FLOOR_BIN (the tools),
// BENCH_DB_PORT (the private MariaDB's port), BENCH_OUT (results folder, bench/results),
// BENCH_SERVER_LABEL (what the chat binary was built from, for the record), BENCH_CHAT_LOG_LEVEL
// (the chat nodes' --log-level, warn); config.mjs lists the matrix's own variables.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { runCell } from './cell.mjs';
import { cells, loadConfig } from './config.mjs';
import { BenchDb } from './db.mjs';
import { PROBE_INTERVAL_MS, startDiskProbe } from './diskProbe.mjs';
import { Fixtures, fixtureSql } from './fixtures.mjs';
import { buildPlan } from './plan.mjs';
import { drawPlots } from './plots.mjs';
import { renderReport } from './report.mjs';
import { resultName } from './resultName.mjs';

const repoDir = path.resolve(fileURLToPath(import.meta.url), '../../..');
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}] bench:`, ...a);

function requireEnv(name) {
    if (!process.env[name]) throw new Error(`${name} is not set (run bench/run.sh)`);
    return process.env[name];
}

function git(...args) {
    try {
        return execFileSync('git', args, { cwd: repoDir, encoding: 'utf8' }).trim();
    } catch {
        return null;
    }
}

function machine() {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const read = (file) => {
        try {
            return readFileSync(file, 'utf8').trim();
        } catch {
            return null;
        }
    };
    return {
        cpu: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown',
        cores: os.cpus().length,
        memoryBytes: os.totalmem(),
        kernel: os.release(),
        debian: read('/etc/debian_version'),
        node: process.version,
        openFilesLimit: Number(execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()),
    };
}

function floor(bin, c) {
    log(`floor: ${c.floor.frames} frames over ${c.floor.sockets} loopback sockets`);
    const out = execFileSync(bin, ['--sockets', String(c.floor.sockets), '--frames', String(c.floor.frames)], {
        encoding: 'utf8',
        timeout: 300_000,
    });
    return JSON.parse(out);
}

function summary(r) {
    if (r.error) return `ERROR ${r.error}`;
    const run = r.run;
    const lat = run.latencyMs;
    const parts = [
        `conn ${r.connect.opened}/${r.connections}`,
        r.connect.connectsPerSecond ? `${Math.round(r.connect.connectsPerSecond)}/s` : '',
        run.delivered ? `deliv ${run.delivered}/${run.expected + run.slow.expected} lost ${run.lost} dup ${run.duplicates}` : '',
        run.serverCpuUsPerDelivery ? `cpu ${run.serverCpuUsPerDelivery.toFixed(2)} µs/deliv` : '',
        run.serverContextSwitchesPerDelivery ? `${run.serverContextSwitchesPerDelivery.toFixed(2)} switches/deliv` : '',
        lat.count ? `p50 ${lat.p50} p99 ${lat.p99} max ${lat.max} ms` : '',
        `mem ${r.memory.map((m) => Math.round(m.bytesPerConnection ?? 0)).join('/')} B/conn`,
    ];
    return parts.filter(Boolean).join(', ');
}

async function main() {
    const c = loadConfig();
    const outDir = path.resolve(repoDir, process.env.BENCH_OUT ?? 'bench/results');
    const name = resultName(outDir, c.quick ? 'quick-' : '');
    const workDir = path.join(repoDir, 'var/bench', name);
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    mkdirSync(outDir, { recursive: true });

    const ctx = {
        repoDir,
        workDir,
        runDir: path.join(workDir, 'pids'),
        chatBin: requireEnv('CHAT_BIN'),
        loadBin: requireEnv('CHAT_LOAD_BIN'),
        limits: c.limits,
        threads: c.threads,
        workerMaxSeconds: c.quick ? 120 : 600,
        idleWait: c.idleWait,
        idleSettleMs: c.idleSettleMs,
        // The baseline logs nothing per connection; the chat node logs every open and close at info.
        chatLogLevel: process.env.BENCH_CHAT_LOG_LEVEL ?? 'warn',
        chatArgs: c.chatArgs,
        log,
    };
    const results = {
        name,
        startedAt: new Date().toISOString(),
        machine: machine(),
        source: { commit: git('rev-parse', 'HEAD'), server: process.env.BENCH_SERVER_LABEL ?? ctx.chatBin },
        config: c,
        floor: floor(requireEnv('CHAT_FLOOR_BIN'), c),
        cells: [],
    };

    if (c.systems.includes('chat')) {
        ctx.db = new BenchDb(repoDir, { port: Number(requireEnv('BENCH_DB_PORT')), args: c.dbArgs });
        log('starting a fresh private MariaDB (var/bench-db)');
        await ctx.db.reset();
    }
    if (c.diskProbe) {
        log(`disk probe: a 4 KiB O_DSYNC write every ${PROBE_INTERVAL_MS} ms beside every cell`);
        ctx.diskProbe = startDiskProbe(requireEnv('CHAT_FLOOR_BIN'), path.join(workDir, 'disk-probe.dat'));
    }
    const fixtures = new Fixtures();
    try {
        for (const cell of cells(c)) {
            const plan = buildPlan(cell.workload, fixtures, cell.nodes, cell.params);
            if (ctx.db) await ctx.db.sql(fixtureSql(plan.users, plan.groups));
            for (const system of c.systems) {
                const label = `${system} ${cell.nodes} node(s) ${cell.workload}${cell.params.variant ? ' ' + cell.params.variant : ''}`;
                log(`${label}: ${plan.connections.length} connections`);
                let r;
                try {
                    r = await runCell(system, cell.nodes, plan, ctx);
                } catch (e) {
                    r = {
                        system,
                        nodes: cell.nodes,
                        workload: cell.workload,
                        size: cell.params.size ?? null,
                        variant: cell.params.variant ?? null,
                        error: e.message,
                    };
                }
                log(`${label}: ${summary(r)}`);
                results.cells.push(r);
            }
        }
    } finally {
        if (ctx.diskProbe) await ctx.diskProbe.stop();
        if (ctx.db) await ctx.db.stop().catch((e) => log(`stopping MariaDB: ${e.message}`));
    }
    results.finishedAt = new Date().toISOString();

    const report = renderReport(results);
    results.table = report.table;
    results.notes = report.notes;
    results.otherLoad = report.otherLoad;
    results.targets = report.targets;
    const file = path.join(outDir, `${name}.json`);
    writeFileSync(file, JSON.stringify(results, null, 1) + '\n');
    console.log(report.text);
    const plots = drawPlots(results, outDir, name, log);
    log(`results: ${path.relative(repoDir, file)}${plots.length ? ', plots: ' + plots.map((p) => path.relative(repoDir, p)).join(', ') : ''}`);
    const failed = results.cells.filter((r) => r.error);
    if (failed.length) {
        log(`${failed.length} cell(s) failed`);
        process.exitCode = 1;
    }
}

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
main().catch((e) => {
    log(e.stack ?? e.message);
    process.exit(1);
});
