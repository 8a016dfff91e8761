// Starts and stops the servers under test: chat nodes (build/chat, or CHAT_BIN) and baseline
// nodes (bench/baseline/server.mjs), each on free ports of 127.0.0.1, sharing a bus port. Every
// process started here is remembered by its child handle and a pid file under the run folder,
// and is stopped by pid: SIGTERM, then SIGKILL after STOP_TIMEOUT_MS.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import { availableParallelism } from 'node:os';
import path from 'node:path';

import { freePort } from '../../tests/integration/lib/ports.mjs';
import { chatThreadsPerNode } from './config.mjs';

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
const BUS_KEY = 'bench-cluster-secret-0123456789abcdef';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const live = new Set();
// Last resort if the driver dies: nothing it started outlives it.
process.once('exit', () => {
    for (const node of live) node.child.kill('SIGKILL');
});

// A port free for UDP on every address (the bus binds the wildcard) and for TCP on 127.0.0.1.
export async function freeBusPort() {
    for (;;) {
        const port = await freePort();
        const free = await new Promise((resolve) => {
            const s = dgram.createSocket('udp4');
            s.once('error', () => resolve(false));
            s.bind(port, '0.0.0.0', () => s.close(() => resolve(true)));
        });
        if (free) return port;
    }
}

async function answers(url) {
    try {
        const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return res.status;
    } catch {
        return 0;
    }
}

class PortTaken extends Error {}

// A port found free may be taken by something else before the node binds it: such a start is
// made again on other ports, at most three times.
async function onFreePorts(start) {
    for (let attempt = 1; ; attempt++) {
        try {
            return await start(portPicker());
        } catch (e) {
            if (!(e instanceof PortTaken) || attempt === 3) throw e;
        }
    }
}

// Free ports, none handed out twice: the nodes of one start bind theirs only once running.
function portPicker() {
    const given = new Set();
    return async () => {
        for (let attempt = 0; attempt < 20; attempt++) {
            const port = await freePort();
            if (!given.has(port)) {
                given.add(port);
                return port;
            }
        }
        throw new Error('no free port found');
    };
}

class Node {
    constructor({ system, id, port, adminPort, command, args, logDir, runDir, cwd }) {
        Object.assign(this, { system, id, port, adminPort });
        mkdirSync(logDir, { recursive: true });
        this.logPath = path.join(logDir, `${system}-node${id}.log`);
        const log = createWriteStream(this.logPath);
        this.child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
        this.child.stdout.pipe(log);
        this.child.stderr.pipe(log);
        this.pid = this.child.pid;
        this.pidFile = path.join(runDir, `${system}-node${id}.pid`);
        mkdirSync(runDir, { recursive: true });
        writeFileSync(this.pidFile, `${this.pid}\n`);
        this.exitCode = null;
        this.exited = new Promise((resolve) =>
            this.child.once('exit', (code, signal) => {
                this.exitCode = code ?? signal;
                live.delete(this);
                rmSync(this.pidFile, { force: true });
                resolve(this.exitCode);
            }),
        );
        live.add(this);
    }

    async waitReady(readyUrl, okStatus) {
        const deadline = Date.now() + READY_TIMEOUT_MS;
        while (Date.now() < deadline) {
            if (this.exitCode !== null) {
                const message = `${this.system} node ${this.id} exited (${this.exitCode}); see ${this.logPath}`;
                throw this.portWasTaken() ? new PortTaken(message) : new Error(message);
            }
            if ((await answers(readyUrl)) === okStatus) return;
            await sleep(50);
        }
        throw new Error(`${this.system} node ${this.id} not ready in ${READY_TIMEOUT_MS} ms; see ${this.logPath}`);
    }

    portWasTaken() {
        try {
            return /Address already in use|EADDRINUSE/.test(readFileSync(this.logPath, 'utf8'));
        } catch {
            return false;
        }
    }

    async stop() {
        if (this.exitCode === null) {
            this.child.kill('SIGTERM');
            const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
            await this.exited;
            clearTimeout(timer);
        }
        return this.exitCode;
    }

    // Prometheus text from the admin address (chat nodes only) as {series: value}: every
    // labelled series under its full name, and each metric's sum over its labels under the bare name.
    async metrics() {
        if (!this.adminPort) return null;
        try {
            const res = await fetch(`http://127.0.0.1:${this.adminPort}/metrics`, { signal: AbortSignal.timeout(5000) });
            const out = {};
            for (const line of (await res.text()).split('\n')) {
                const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/);
                if (!m || line.startsWith('#')) continue;
                if (m[2]) out[m[1] + m[2]] = Number(m[3]);
                out[m[1]] = (out[m[1]] ?? 0) + Number(m[3]);
            }
            return out;
        } catch {
            return null;
        }
    }
}

// n chat nodes sharing a bus; resolves [Node] once every /healthz answers 200.
export async function startChatNodes(n, { bin, dsn, repoDir, logDir, runDir, uploadDir, logLevel = 'warn', extraArgs = [] }) {
    const threads = chatThreadsPerNode(n, extraArgs, availableParallelism());
    mkdirSync(uploadDir, { recursive: true });
    return onFreePorts(async (pickPort) => {
        const busPort = await freeBusPort();
        const nodes = [];
        for (let id = 1; id <= n; id++) {
            const [port, adminPort] = [await pickPort(), await pickPort()];
            const args = [
                '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${adminPort}`,
                '--node-id', String(id), '--bus-port', String(busPort), '--bus-broadcast', '127.255.255.255',
                '--bus-key', BUS_KEY, '--mysql', dsn, '--log-level', logLevel,
                '--asset-dir', path.join(repoDir, 'asset'), '--view-dir', path.join(repoDir, 'view'),
                '--web-dir', path.join(repoDir, 'web'), '--upload-dir', uploadDir,
                ...(threads ? ['--threads', String(threads)] : []),
                ...extraArgs,
            ];
            nodes.push(new Node({ system: 'chat', id, port, adminPort, command: bin, args, logDir, runDir, cwd: repoDir }));
        }
        await settle(nodes, (node) => node.waitReady(`http://127.0.0.1:${node.adminPort}/healthz`, 200));
        return nodes;
    });
}

// n baseline nodes sharing a bus; resolves once each answers HTTP (404 for /).
export async function startBaselineNodes(n, { repoDir, fixture, logDir, runDir }) {
    const server = path.join(repoDir, 'bench/baseline/server.mjs');
    return onFreePorts(async (pickPort) => {
        const busPort = await freeBusPort();
        const nodes = [];
        for (let id = 1; id <= n; id++) {
            const port = await pickPort();
            const args = [server, '--port', String(port), '--node-id', String(id), '--bus-port', String(busPort), '--fixture', fixture];
            nodes.push(new Node({ system: 'baseline', id, port, command: process.execPath, args, logDir, runDir, cwd: repoDir }));
        }
        await settle(nodes, (node) => node.waitReady(`http://127.0.0.1:${node.port}/`, 404));
        return nodes;
    });
}

// Waits for every node; if one fails, stops them all before rethrowing.
async function settle(nodes, ready) {
    try {
        await Promise.all(nodes.map(ready));
    } catch (e) {
        await stopNodes(nodes);
        throw e;
    }
}

export async function stopNodes(nodes) {
    return Promise.all(nodes.map((node) => node.stop()));
}
