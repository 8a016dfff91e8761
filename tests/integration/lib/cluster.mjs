// The integration-test harness: starts real `chat` processes (process.env.CHAT_BIN) against the
// private MariaDB named by CHAT_TEST_MYSQL, and gives tests small clients for HTTP and WebSocket.
// Every test file under tests/integration/ imports it. Nodes started here are stopped by a
// node:test after() hook, so a failing test leaves no process behind.
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

import { freePort } from './ports.mjs';

export const repoDir = process.env.CHAT_SOURCE_DIR ?? path.resolve(fileURLToPath(import.meta.url), '../../../..');

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_BUFFER_MAX = 4 << 20; // keep the newest 4 MiB of a node's output in memory
const logDir = path.join(repoDir, 'var', 'test-logs');

function requireEnv(name) {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set (run the tests through scripts/test.sh)`);
    return value;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export { freePort };

// A directory under the system temp dir, removed at the end of the test file.
export function tempDir(prefix = 'chat-test-') {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

// Everything started here is cleaned up by one after() hook on the file's root: a hook
// registered inside a before() would run as soon as that before() ends.
const liveNodes = new Set();
const allNodes = [];
const liveSockets = new Set();
const tempDirs = [];
// What ASan, LSan and UBSan print: any of it in a node's output fails the test file.
const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|UndefinedBehaviorSanitizer/;
after(async () => {
    for (const ws of liveSockets) ws.terminate();
    await Promise.all([...liveNodes].map((node) => node.stop()));
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    const reports = allNodes.filter((node) => SANITIZER_REPORT.test(node.log()));
    if (reports.length) {
        const where = reports.map((node) => `node ${node.nodeId} (${node.logPath})`).join(', ');
        throw new Error(`sanitizer report in the output of ${where}:\n${reports[0].log().slice(-8000)}`);
    }
});
// Last resort if the runner exits without running its hooks, or is told to stop.
process.once('exit', () => {
    for (const node of liveNodes) node.child.kill('SIGKILL');
});
for (const signal of ['SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
        for (const node of liveNodes) node.child.kill('SIGKILL');
        process.exit(128 + os.constants.signals[signal]);
    });
}

function logFileFor(nodeId) {
    mkdirSync(logDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return path.join(logDir, `${stamp}-node${nodeId}-${process.pid}-${randomInt(1e6)}.log`);
}

// Polls GET ADMIN/healthz until it answers 200, the process exits, or the deadline passes.
async function waitReady(node) {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
        if (node.exitCode !== null) {
            throw new Error(`chat node ${node.nodeId} exited with ${node.exitCode} during start-up:\n${node.log()}`);
        }
        try {
            const res = await fetch(`${node.adminUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
            await res.text();
            if (res.status === 200) return;
            last = `status ${res.status}`;
        } catch (e) {
            last = e.cause?.code ?? e.message;
        }
        await sleep(50);
    }
    throw new Error(`chat node ${node.nodeId} not ready after ${READY_TIMEOUT_MS} ms (${last}):\n${node.log()}`);
}

// Starts one node. Options: nodeId, busPort, uploadDir, assetDir, extraArgs (array), env (object);
// for a node in a network namespace (lib/lan.mjs): host (address it listens on), busBroadcast,
// mysql (a DSN it can reach) and wrap ((file, args) -> [file, args], e.g. lan.wrap).
// Returns {url, adminUrl, wsUrl, host, pid, nodeId, stop(signal) -> exit code, kill9(), log()}.
// Nodes still running at the end of the test file are stopped there.
export async function startNode(opts = {}) {
    // A port found free may be taken by someone else before the node binds it: try new ones.
    for (let attempt = 1; ; attempt++) {
        try {
            return await startNodeOnce(opts);
        } catch (e) {
            if (attempt >= 3 || !/address already in use|EADDRINUSE/i.test(e.message)) throw e;
        }
    }
}

// Every test cluster signs its datagrams with this secret (a real cluster's comes from a key file).
export const testBusKey = 'integration-test-cluster-secret';

async function startNodeOnce(opts) {
    const bin = requireEnv('CHAT_BIN');
    const mysql = opts.mysql ?? requireEnv('CHAT_TEST_MYSQL');
    const host = opts.host ?? '127.0.0.1';
    const nodeId = opts.nodeId ?? 1;
    const busPort = opts.busPort ?? (await freePort());
    const uploadDir = opts.uploadDir ?? tempDir('chat-upload-');
    const [port, adminPort] = [await freePort(), await freePort()];
    const args = [
        '--listen', `${host}:${port}`,
        '--admin-listen', `${host}:${adminPort}`,
        '--node-id', String(nodeId),
        '--bus-port', String(busPort),
        '--bus-broadcast', opts.busBroadcast ?? '127.255.255.255',
        '--bus-key', testBusKey,
        '--mysql', mysql,
        '--asset-dir', opts.assetDir ?? path.join(repoDir, 'asset'),
        '--view-dir', path.join(repoDir, 'view'),
        '--web-dir', path.join(repoDir, 'web'),
        '--upload-dir', uploadDir,
        '--pbkdf2-iterations', '1000',
        // Every test registers its users from 127.0.0.1, more than the default 20 per 10 minutes;
        // the throttle itself is tested in tests/unit/api/UserApiTest.cpp.
        '--registrations-per-address', '100000',
        '--log-level', 'debug',
        ...(opts.extraArgs ?? []),
    ];
    const [command, argv] = opts.wrap ? opts.wrap(bin, args) : [bin, args];
    const child = spawn(command, argv, {
        cwd: repoDir,
        env: { ...process.env, ...(opts.env ?? {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logPath = logFileFor(nodeId);
    const file = createWriteStream(logPath);
    let buffer = '';
    const capture = (chunk) => {
        file.write(chunk);
        buffer += chunk.toString('utf8');
        if (buffer.length > LOG_BUFFER_MAX) buffer = buffer.slice(buffer.length - LOG_BUFFER_MAX);
    };
    child.stdout.on('data', capture);
    child.stderr.on('data', capture);

    const exited = new Promise((resolve) => {
        child.once('exit', (code, signal) => {
            node.exitCode = code ?? `signal ${signal}`;
            liveNodes.delete(node);
            resolve(node.exitCode);
        });
        child.once('error', (e) => {
            capture(`spawn failed: ${e.message}\n`);
            node.exitCode = `spawn error ${e.code}`;
            liveNodes.delete(node);
            resolve(node.exitCode);
        });
    });
    // Closing the log file only after the pipes are drained keeps the last lines.
    const drained = Promise.all([
        new Promise((r) => child.stdout.once('close', r)),
        new Promise((r) => child.stderr.once('close', r)),
    ]).then(() => new Promise((r) => file.end(r)));

    const node = {
        nodeId,
        busPort,
        uploadDir,
        child,
        pid: child.pid,
        host,
        port,
        adminPort,
        url: `http://${host}:${port}`,
        adminUrl: `http://${host}:${adminPort}`,
        wsUrl: `ws://${host}:${port}`,
        logPath,
        exitCode: null,
        exited,
        log: () => buffer,
        // Sends `signal` and resolves with the exit code (a number, or "signal X").
        // Escalates to SIGKILL after STOP_TIMEOUT_MS so a hung node cannot hang the suite.
        async stop(signal = 'SIGTERM') {
            if (node.exitCode === null) {
                child.kill(signal);
                const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
                await exited;
                clearTimeout(timer);
            }
            await drained;
            return node.exitCode;
        },
        async kill9() {
            return node.stop('SIGKILL');
        },
    };
    liveNodes.add(node);
    allNodes.push(node);
    try {
        await waitReady(node);
    } catch (e) {
        await node.stop('SIGKILL');
        throw e;
    }
    return node;
}

// Starts n nodes (ids 1..n) sharing one fresh bus port and one upload dir.
export async function startCluster(n, opts = {}) {
    const busPort = opts.busPort ?? (await freePort());
    const uploadDir = opts.uploadDir ?? tempDir('chat-upload-');
    const nodes = [];
    for (let i = 0; i < n; i++) {
        nodes.push(await startNode({ ...opts, nodeId: (opts.firstNodeId ?? 1) + i, busPort, uploadDir }));
    }
    return {
        nodes,
        busPort,
        uploadDir,
        async stop(signal = 'SIGTERM') {
            return Promise.all(nodes.map((node) => node.stop(signal)));
        },
    };
}

function encodeForm(params) {
    return new URLSearchParams(
        Object.entries(params)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [k, String(v)]),
    ).toString();
}

// A raw HTTP request to node's public address (or `port`); urlPath is sent exactly as given, never
// normalised. Resolves {status, headers, body: Buffer}; never rejects on HTTP errors.
export function request(node, urlPath, { method = 'GET', headers = {}, body, localAddress, port } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request(
            {
                host: node.host ?? '127.0.0.1',
                port: port ?? node.port,
                path: urlPath,
                method,
                headers: { connection: 'close', ...headers },
                localAddress,
                agent: false,
            },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
                res.on('error', reject);
            },
        );
        req.setTimeout(15_000, () => req.destroy(new Error(`timeout: ${method} ${urlPath}`)));
        req.on('error', reject);
        req.end(body);
    });
}

// POSTs to the API. params are form-encoded (default) or JSON (json: true); a string or Buffer
// in `raw` is sent as is. Credentials: token + id go into the params; token alone with
// bearer: true goes into the Authorization header.
// Resolves {status, body (parsed JSON, or text when not JSON), text, headers}.
export async function api(node, urlPath, params = {}, opts = {}) {
    const { token, id, json = false, headers = {}, localAddress, raw, method = 'POST', bearer = false } = opts;
    const all = { ...params };
    if (id !== undefined) all.id = id;
    if (token !== undefined && !bearer) all.token = token;
    const h = { ...headers };
    if (bearer) h.authorization = `Bearer ${token}`;
    let body;
    if (raw !== undefined) {
        body = raw;
    } else if (json) {
        body = JSON.stringify(all);
        h['content-type'] ??= 'application/json';
    } else {
        body = encodeForm(all);
        h['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    const res = await request(node, urlPath, { method, headers: h, body, localAddress });
    const text = res.body.toString('utf8');
    let parsed = text;
    try {
        parsed = JSON.parse(text);
    } catch {
        // not JSON: keep the text
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
}

export function uniqueMobile() {
    // 13 digits: 1 + 12 random; collisions across runs are negligible.
    return '1' + String(randomInt(1e6)).padStart(6, '0') + String(randomInt(1e6)).padStart(6, '0');
}

// Registers a fresh user; resolves {id, token, mobile, passwd, nickname, profile}.
export async function registerUser(node, { nickname, passwd } = {}) {
    const mobile = uniqueMobile();
    passwd ??= 'pw-' + randomBytes(6).toString('hex');
    const params = { mobile, passwd };
    if (nickname !== undefined) params.nickname = nickname;
    const res = await api(node, '/user/register', params);
    if (res.status !== 200 || res.body?.code !== 0) {
        throw new Error(`register failed: ${res.status} ${res.text}`);
    }
    const data = res.body.data;
    return { id: data.id, token: data.token, mobile, passwd, nickname: data.nickname, profile: data };
}

function describeFrames(frames) {
    const shown = frames.slice(-20).map((f) => JSON.stringify(f));
    return frames.length ? `received ${frames.length} frame(s)${frames.length > 20 ? ' (last 20)' : ''}:\n  ${shown.join('\n  ')}` : 'received no frames';
}

// Opens GET /chat as `user` ({id, token}). Options: query (extra params, or replaces id/token when
// user is null; `since` asks for the stream after a position), headers, origin, bearer (token in
// the Authorization header instead of the query), localAddress. Resolves once the node has sent
// what the device missed and its {"cmd":13} (kept in frames), unless waitSync is false.
// Rejects with err.status when the server refuses the upgrade.
export async function connect(node, user, opts = {}) {
    const client = await open(node, user, opts);
    if (opts.waitSync !== false) await client.next((f) => f.cmd === 13, 10_000);
    return client;
}

function open(node, user, opts) {
    const { query = {}, headers = {}, origin, bearer = false, localAddress, maxPayload } = opts;
    const params = new URLSearchParams();
    if (user) {
        params.set('id', String(user.id));
        if (!bearer) params.set('token', user.token);
    }
    for (const [k, v] of Object.entries(query)) params.set(k, String(v));
    const h = { ...headers };
    if (bearer && user) h.authorization = `Bearer ${user.token}`;
    const qs = params.toString();
    const raw = new WebSocket(`${node.wsUrl}/chat${qs ? '?' + qs : ''}`, {
        headers: h,
        origin,
        localAddress,
        handshakeTimeout: 10_000,
        maxPayload: maxPayload ?? 100 << 20,
    });
    const client = {
        raw,
        frames: [],
        waiters: [],
        send(obj) {
            raw.send(typeof obj === 'string' || Buffer.isBuffer(obj) ? obj : JSON.stringify(obj));
        },
        // The first frame (already received or future) matching pred; rejects after timeoutMs.
        next(pred = () => true, timeoutMs = 5000) {
            const found = client.frames.find(pred);
            if (found) return Promise.resolve(found);
            return new Promise((resolve, reject) => {
                const waiter = { pred, resolve };
                waiter.timer = setTimeout(() => {
                    client.waiters = client.waiters.filter((w) => w !== waiter);
                    reject(new Error(`no matching frame within ${timeoutMs} ms (${pred.toString()}); ${describeFrames(client.frames)}`));
                }, timeoutMs);
                client.waiters.push(waiter);
            });
        },
        // Resolves after ms with the frames matching pred that arrived meanwhile (to assert absence).
        async quietFor(ms, pred = () => true) {
            const start = client.frames.length;
            await sleep(ms);
            return client.frames.slice(start).filter(pred);
        },
        close(code = 1000, reason = '') {
            if (raw.readyState === WebSocket.OPEN || raw.readyState === WebSocket.CONNECTING) raw.close(code, reason);
            return client.closed;
        },
        terminate() {
            raw.terminate();
            return client.closed;
        },
    };
    client.closed = new Promise((resolve) => {
        raw.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
    });
    raw.on('message', (data, isBinary) => {
        let frame;
        try {
            frame = JSON.parse(data.toString('utf8'));
        } catch {
            frame = { unparsed: isBinary ? data : data.toString('utf8') };
        }
        client.frames.push(frame);
        for (const w of [...client.waiters]) {
            if (w.pred(frame)) {
                clearTimeout(w.timer);
                client.waiters = client.waiters.filter((x) => x !== w);
                w.resolve(frame);
            }
        }
    });
    liveSockets.add(raw);
    raw.once('close', () => liveSockets.delete(raw));
    return new Promise((resolve, reject) => {
        raw.once('open', () => resolve(client));
        raw.once('unexpected-response', (req, res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const err = new Error(`upgrade refused: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString('utf8')}`);
                err.status = res.statusCode;
                err.body = Buffer.concat(chunks).toString('utf8');
                reject(err);
                req.destroy();
            });
        });
        // Kept after open: an 'error' without a listener would crash the test process.
        raw.on('error', (e) => {
            client.error = e;
            reject(e);
        });
    });
}

// Parses the Prometheus text at ADMIN/metrics into {'name{labels}': value}; plain names for
// unlabelled series. Labels keep the server's order and quoting, e.g. 'chat_messages_in_total{cmd="10"}'.
export async function metrics(node) {
    const res = await fetch(`${node.adminUrl}/metrics`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${text}`);
    return parseMetrics(text);
}

export function parseMetrics(text) {
    const out = {};
    for (const line of text.split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?)\s+(\S+)(?:\s+\d+)?$/);
        if (m) out[m[1]] = Number(m[2]);
    }
    return out;
}

// Sum of every series of one metric name (all label values).
export function metricSum(parsed, name) {
    let sum = 0;
    for (const [key, value] of Object.entries(parsed)) {
        if (key === name || key.startsWith(name + '{')) sum += value;
    }
    return sum;
}

// Resolves when cond() (sync or async) is truthy; rejects after timeoutMs with `what`.
export async function waitFor(cond, { timeoutMs = 5000, intervalMs = 50, what = 'condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await cond();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(intervalMs);
    }
}

// Runs the chat binary with args to completion; resolves {code, stdout, stderr}.
export function runChat(args, { timeoutMs = 10_000, env } = {}) {
    const bin = requireEnv('CHAT_BIN');
    return new Promise((resolve, reject) => {
        const child = spawn(bin, args, { cwd: repoDir, env: { ...process.env, ...(env ?? {}) } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('error', reject);
        child.once('close', (code, signal) => {
            clearTimeout(timer);
            resolve({ code: code ?? `signal ${signal}`, stdout, stderr });
        });
    });
}
