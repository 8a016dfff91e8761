// scripts/run.sh as a developer uses it: it starts the private MariaDB, two copies of the
// release (each with its start.sh) and nginx on fixed ports; a second run is harmless; the
// demo login works through nginx; `run.sh stop` ends every process run.sh started. Skipped,
// with the reason, when one of the fixed ports is taken (e.g. by a developer's own run.sh).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';

import { api, connect, repoDir, request, waitFor } from './lib/cluster.mjs';
import { alive, childrenOf, describeRun, readPid, run } from './lib/processes.mjs';

// What run.sh binds: nginx, the nodes' public and admin ports, its MariaDB, and the UDP bus.
const TCP_PORTS = [8000, 8081, 8082, 9081, 9082, 3307];
const BUS_PORT = 3000;
const RUN_TIMEOUT_MS = 240_000; // run.sh also refreshes the release (an incremental build)
const front = { url: 'http://127.0.0.1:8000', wsUrl: 'ws://127.0.0.1:8000', port: 8000 };
const ALICE = { mobile: '13800000001', passwd: 'alice-demo' };

function tcpFree(port) {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once('error', () => resolve(false));
        server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
    });
}

// Free of any other bus member: the nodes bind 0.0.0.0:PORT with SO_REUSEADDR, so a bind
// without it fails while one runs.
function udpFree(port) {
    return new Promise((resolve) => {
        const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
        socket.once('error', () => {
            socket.close();
            resolve(false);
        });
        socket.bind(port, '0.0.0.0', () => socket.close(() => resolve(true)));
    });
}

async function takenPorts() {
    const taken = [];
    for (const port of TCP_PORTS) if (!(await tcpFree(port))) taken.push(`tcp ${port}`);
    if (!(await udpFree(BUS_PORT))) taken.push(`udp ${BUS_PORT}`);
    return taken;
}

const taken = await takenPorts();
const skip = taken.length
    ? `run.sh's fixed ports are taken on this machine (${taken.join(', ')}): stop what uses them (scripts/run.sh stop?)`
    : false;

const runSh = (...args) => run('bash', [path.join(repoDir, 'scripts', 'run.sh'), ...args], { cwd: repoDir, timeoutMs: RUN_TIMEOUT_MS });
const pidFiles = {
    node1: path.join(repoDir, 'var', 'run', 'node1', 'chat.pid'),
    node2: path.join(repoDir, 'var', 'run', 'node2', 'chat.pid'),
    nginx: path.join(repoDir, 'var', 'nginx', 'nginx.pid'),
    db: path.join(repoDir, 'var', 'db', 'db.pid'),
};
const readPids = () => Object.fromEntries(Object.entries(pidFiles).map(([name, file]) => [name, readPid(file)]));

let started = false;
after(async () => {
    // A failed test still stops what it started.
    if (started && Object.values(readPids()).some((pid) => pid && alive(pid))) await runSh('stop');
});

test('scripts/run.sh starts the cluster, a second run is harmless, and run.sh stop leaves no process', { skip }, async () => {
    // scripts/test.sh's database: run.sh must neither use nor stop it.
    const testDbPid = process.env.CHAT_DB_DIR ? readPid(path.resolve(repoDir, process.env.CHAT_DB_DIR, 'db.pid')) : null;

    started = true;
    const first = await runSh();
    assert.equal(first.code, 0, describeRun('scripts/run.sh', first));
    assert.match(first.stdout, /http:\/\/127\.0\.0\.1:8000\/chat/);
    const pids = readPids();
    for (const [name, pid] of Object.entries(pids)) assert.ok(pid && alive(pid), `${name} runs (pid file ${pidFiles[name]})`);
    if (testDbPid) assert.notEqual(pids.db, testDbPid, 'run.sh runs its own database');

    const page = await request(front, '/chat');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /text\/html/);
    assert.match(page.body.toString('utf8'), /<html/i);
    const login = await api(front, '/user/login', ALICE);
    assert.equal(login.status, 200, `demo login through nginx: ${login.text}`);
    const alice = { id: login.body.data.id, token: login.body.data.token };
    const groups = await api(front, '/contact/loadcommunity', {}, alice);
    assert.ok(groups.body.data.some((g) => g.name === 'Demo group'), `the demo group: ${groups.text}`);
    // An open page during the second run and the stop.
    const conn = await connect(front, alice);

    const second = await runSh();
    assert.equal(second.code, 0, describeRun('a second scripts/run.sh', second));
    assert.match(second.stdout, /node 1 already runs/);
    assert.match(second.stdout, /node 2 already runs/);
    assert.deepEqual(readPids(), pids, 'the second run starts nothing new');
    assert.equal(conn.raw.readyState, conn.raw.OPEN, 'the open page stays connected');
    assert.equal((await api(front, '/user/login', ALICE)).status, 200, 'the demo login still works');

    const all = [...Object.values(pids), ...childrenOf(pids.nginx)];
    const stop = await runSh('stop');
    assert.equal(stop.code, 0, describeRun('scripts/run.sh stop', stop));
    const closed = await Promise.race([conn.closed, new Promise((r) => setTimeout(() => r(null), 5000))]);
    assert.equal(closed?.code, 1001, `the open page is told the node goes away: ${JSON.stringify(closed)}`);
    await waitFor(() => all.every((pid) => !alive(pid)), {
        timeoutMs: 5000,
        what: `every process run.sh started (${all.join(', ')}) to end`,
    });
    started = false;

    const status = await runSh('status');
    assert.match(status.stdout, /node 1: chat is not running/);
    assert.match(status.stdout, /node 2: chat is not running/);
    assert.match(status.stdout, /nginx: not running/);
    assert.match(status.stdout, /stopped \(dir /);
    if (testDbPid) assert.ok(alive(testDbPid), 'the test database still runs');
});
