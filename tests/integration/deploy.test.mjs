// The release as operators run it: scripts/release.sh's folder (CHAT_RELEASE_DIR) copied to
// another path, and its tarball unpacked elsewhere, each started with its own start.sh and
// configured from its chat.conf.sample, behind a private nginx rendered by the release's
// nginx/render.sh. Proves chat through nginx across nodes, recovery from a kill -9, a clean
// stop.sh, the scripts' answers, the nginx upload limit, and that no token reaches nginx's
// logs. Nothing here runs from the build tree.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { api, connect, freePort, registerUser, repoDir, request, sleep, waitFor } from './lib/cluster.mjs';
import { alive, childrenOf, describeRun, pidsRunning, readPid, run } from './lib/processes.mjs';

const releaseDir = process.env.CHAT_RELEASE_DIR;
const mysql = process.env.CHAT_TEST_MYSQL;
if (!releaseDir || !mysql) {
    throw new Error('CHAT_RELEASE_DIR and CHAT_TEST_MYSQL must be set (run the tests through scripts/test.sh)');
}

const WAIT = 5000;
// Clients connect from their own loopback addresses, so a node's log can show that it sees
// the client's address (nginx's X-Real-IP) and not nginx's own 127.0.0.1.
const ADDRESS_A = '127.0.0.5';
const ADDRESS_B = '127.0.0.6';

const base = path.join(repoDir, 'var', 'test-deploy', randomBytes(6).toString('hex'));
const uploadDir = path.join(base, 'upload');
const ngx = { prefix: path.join(base, 'nginx'), pid: null, workers: [] };
let front; // nginx, shaped like a harness node: {url, wsUrl, port}
let nodes; // [{name, dir, nodeId, port, adminPort, pid}]
const seenPids = new Set(); // every chat and nginx pid this file started
const tokens = new Set(); // every token issued, none may appear in nginx's logs

// ---------------------------------------------------------------------------------------
// Processes and files

// The end of nginx's error log, for failure messages.
function nginxErrors() {
    try {
        return `\nnginx error.log:\n${fs.readFileSync(path.join(ngx.prefix, 'logs', 'error.log'), 'utf8').slice(-3000)}`;
    } catch {
        return '';
    }
}

const logOf = (node) => {
    try {
        return fs.readFileSync(path.join(node.dir, 'log.log'), 'utf8');
    } catch {
        return '';
    }
};

// The chat.conf an operator would write: the sample with this node's values filled in.
function writeConf(node, values) {
    const sample = fs.readFileSync(path.join(node.dir, 'chat.conf.sample'), 'utf8');
    const left = new Map(Object.entries(values));
    const lines = sample.split('\n').map((line) => {
        const m = line.match(/^\s*([a-z0-9-]+)\s*=/);
        if (!m || !left.has(m[1])) return line;
        const value = left.get(m[1]);
        left.delete(m[1]);
        return `${m[1]} = ${value}`;
    });
    for (const [key, value] of left) lines.push(`${key} = ${value}`);
    fs.writeFileSync(path.join(node.dir, 'chat.conf'), lines.join('\n'));
}

async function waitHealthy(node) {
    const healthy = async () => {
        try {
            const res = await fetch(`http://127.0.0.1:${node.adminPort}/healthz`, { signal: AbortSignal.timeout(1000) });
            return res.status === 200;
        } catch {
            return false;
        }
    };
    await waitFor(healthy, { timeoutMs: 15_000, intervalMs: 100, what: `${node.name} to answer /healthz` }).catch((e) => {
        e.message += `; the end of its log.log:\n${logOf(node).slice(-3000)}`;
        throw e;
    });
}

async function startWithScript(node) {
    const res = await run(path.join(node.dir, 'start.sh'));
    assert.equal(res.code, 0, describeRun(`${node.name}/start.sh`, res));
    const m = res.stdout.match(/chat started \(pid (\d+)\)/);
    assert.ok(m, describeRun(`${node.name}/start.sh must say it started`, res));
    node.pid = Number(m[1]);
    assert.equal(readPid(path.join(node.dir, 'chat.pid')), node.pid, 'chat.pid names the started process');
    seenPids.add(node.pid);
    await waitHealthy(node);
}

async function startNginx() {
    fs.mkdirSync(path.join(ngx.prefix, 'logs'), { recursive: true });
    fs.mkdirSync(path.join(ngx.prefix, 'tmp'), { recursive: true });
    const list = path.join(ngx.prefix, 'nodes.txt');
    fs.writeFileSync(list, `# this test's nodes\n${nodes.map((n) => `127.0.0.1:${n.port}`).join('\n')}\n`);
    const port = await freePort();
    // The render.sh of a moved copy: the release needs nothing from the checkout.
    const rendered = await run(path.join(nodes[0].dir, 'nginx', 'render.sh'),
        ['--nodes', list, '--prefix', ngx.prefix, '--listen', `127.0.0.1:${port}`]);
    assert.equal(rendered.code, 0, describeRun('render.sh', rendered));
    const conf = path.join(ngx.prefix, 'nginx.conf');
    fs.writeFileSync(conf, rendered.stdout);
    const started = await run('nginx', ['-p', ngx.prefix, '-c', conf]);
    assert.equal(started.code, 0, describeRun('nginx', started));
    // The daemon writes its pid file just after the starting process returns.
    const pidFile = path.join(ngx.prefix, 'nginx.pid');
    ngx.pid = await waitFor(() => readPid(pidFile), { what: 'nginx.pid' });
    seenPids.add(ngx.pid);
    front = { url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, port };
}

// Copies of the release: the folder moved to another path, and the tarball unpacked.
function installNodes() {
    // Workers run as nobody and buffer upload bodies under the prefix: keep the path open to them.
    fs.mkdirSync(uploadDir, { recursive: true, mode: 0o755 });
    fs.chmodSync(base, 0o755);
    const moved = path.join(base, 'moved');
    fs.cpSync(releaseDir, moved, {
        recursive: true,
        // What a running release keeps beside itself is no part of the release.
        filter: (src) => !/^(chat\.conf|log\.log|chat\.pid|bus\.key|upload|.*\.tar\.gz.*)$/.test(path.relative(releaseDir, src)),
    });
    const tarballs = fs.readdirSync(releaseDir).filter((f) => /^chat-[0-9.]+\.tar\.gz$/.test(f));
    assert.equal(tarballs.length, 1, `one tarball in ${releaseDir}: ${tarballs}`);
    const unpacked = path.join(base, 'unpacked');
    fs.mkdirSync(unpacked);
    return { moved, unpacked, tarball: path.join(releaseDir, tarballs[0]) };
}

before(async () => {
    const { moved, unpacked, tarball } = installNodes();
    const untar = await run('tar', ['-xzf', tarball, '-C', unpacked]);
    assert.equal(untar.code, 0, describeRun('tar', untar));
    const top = fs.readdirSync(unpacked);
    assert.deepEqual(top, [path.basename(tarball, '.tar.gz')], 'the tarball holds one folder named after it');
    const busPort = await freePort();
    // The cluster secret, the same file in every node's folder (chat.conf.sample's bus-key-file).
    const busKey = randomBytes(32).toString('hex');
    nodes = [
        { name: 'moved release', dir: moved, nodeId: 1 },
        { name: 'unpacked tarball', dir: path.join(unpacked, top[0]), nodeId: 2 },
    ];
    for (const node of nodes) {
        node.port = await freePort();
        node.adminPort = await freePort();
        fs.writeFileSync(path.join(node.dir, 'bus.key'), `${busKey}\n`, { mode: 0o600 });
        writeConf(node, {
            listen: `127.0.0.1:${node.port}`,
            'admin-listen': `127.0.0.1:${node.adminPort}`,
            'node-id': node.nodeId,
            'bus-broadcast': '127.255.255.255',
            'bus-port': busPort,
            mysql,
            'upload-dir': uploadDir,
            'log-level': 'info',
        });
        await startWithScript(node);
    }
    await startNginx();
});

after(async () => {
    const problems = [];
    for (const node of nodes ?? []) {
        if (node.pid && alive(node.pid)) {
            const res = await run(path.join(node.dir, 'stop.sh')).catch((e) => ({ code: e.message, stdout: '', stderr: '' }));
            if (res.code !== 0) problems.push(describeRun(`${node.name}/stop.sh`, res));
        }
    }
    if (ngx.pid && alive(ngx.pid)) {
        ngx.workers = childrenOf(ngx.pid);
        process.kill(ngx.pid, 'SIGQUIT');
        await waitFor(() => !alive(ngx.pid), { timeoutMs: 10_000, what: 'nginx to quit' }).catch((e) => problems.push(e.message));
    }
    for (const pid of [...seenPids, ...ngx.workers]) {
        if (!alive(pid)) continue;
        problems.push(`process ${pid} was still alive at the end`);
        process.kill(pid, 'SIGKILL');
    }
    fs.rmSync(base, { recursive: true, force: true });
    try {
        fs.rmdirSync(path.dirname(base)); // var/test-deploy, unless another run uses it
    } catch {
        // not empty
    }
    if (problems.length) throw new Error(problems.join('\n'));
});

// Last resort when the runner stops without its hooks.
process.once('exit', () => {
    for (const pid of [...seenPids, ...ngx.workers]) {
        try {
            if (alive(pid)) process.kill(pid, 'SIGKILL');
        } catch {
            // gone meanwhile
        }
    }
});

// ---------------------------------------------------------------------------------------
// Chat helpers

function expectOk(res, what) {
    assert.equal(res.status, 200, `${what}: ${res.status} ${res.text}`);
    assert.equal(res.body.code, 0, `${what}: ${res.text}`);
    return res.body.data;
}

// Opens user's WebSocket through nginx from `address` and resolves {conn, node}: the node
// whose log.log shows this connection opening, with the client's own address.
async function connectThroughNginx(user, address) {
    const before = new Map(nodes.map((n) => [n, logOf(n).length]));
    const conn = await connect(front, user, { localAddress: address }).catch((e) => {
        e.message += nginxErrors();
        throw e;
    });
    const line = new RegExp(`ws: open user=${user.id} from=${address.replace(/\./g, '\\.')}(\\s|$)`, 'm');
    const node = await waitFor(() => nodes.find((n) => line.test(logOf(n).slice(before.get(n)))), {
        what: `a node's log.log to show user ${user.id} connecting from ${address}`,
    });
    return { conn, node };
}

async function newUser() {
    const user = await registerUser(front);
    tokens.add(user.token);
    return user;
}

let cid = 0;
// Sends a text from `from` to `dstid` (cmd 10 single, 11 group); resolves the frame `to` got.
async function say(from, to, cmd, dstid, content) {
    const id = `deploy-${++cid}`;
    from.conn.send({ id, cmd, dstid, media: 1, content });
    const ack = await from.conn.next((f) => f.cmd === 1 && f.cid === id, WAIT);
    const got = await to.conn.next((f) => f.id === ack.id, WAIT);
    assert.equal(got.cmd, cmd);
    assert.equal(got.dstid, dstid);
    assert.equal(got.content, content);
    assert.equal(got.userid, from.user.id);
    return got;
}

async function chatBothWays(a, b, groupId, tag) {
    await say(a, b, 10, b.user.id, `${tag}: single A to B`);
    await say(b, a, 10, a.user.id, `${tag}: single B to A`);
    await say(a, b, 11, groupId, `${tag}: group from A`);
    await say(b, a, 11, groupId, `${tag}: group from B`);
}

// ---------------------------------------------------------------------------------------
// The tests share one cluster and run in order: A and B chat, A's node is killed, the other
// node is stopped.

let a; // {user, conn, node}
let b;
let groupId;

test('start.sh twice starts no second node, and status.sh answers', async () => {
    for (const node of nodes) {
        const again = await run(path.join(node.dir, 'start.sh'));
        assert.equal(again.code, 0, describeRun('second start.sh', again));
        assert.match(again.stdout, new RegExp(`already running \\(pid ${node.pid}\\)`));
        assert.equal(readPid(path.join(node.dir, 'chat.pid')), node.pid, 'chat.pid still names the first process');
        assert.deepEqual(pidsRunning(path.join(node.dir, 'chat')), [node.pid], `one chat process runs from ${node.dir}`);
        const status = await run(path.join(node.dir, 'status.sh'));
        assert.equal(status.code, 0, describeRun('status.sh', status));
        assert.match(status.stdout, new RegExp(`chat is running \\(pid ${node.pid}\\)`));
    }
});

test('no file of the release names the checkout it was built in', () => {
    for (const node of nodes) {
        for (const entry of fs.readdirSync(node.dir, { recursive: true, withFileTypes: true })) {
            // The binary's debug paths do not count, nor what this test wrote beside the release.
            if (!entry.isFile() || ['chat', 'chat.conf', 'log.log', 'chat.pid', 'bus.key'].includes(entry.name)) continue;
            const file = path.join(entry.parentPath ?? entry.path, entry.name);
            assert.equal(fs.readFileSync(file, 'utf8').includes(repoDir), false, `${file} names ${repoDir}`);
        }
    }
});

test('the pages, the API and the nodes answer through nginx', async () => {
    const page = await request(front, '/chat');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /text\/html/);
    assert.match(page.body.toString('utf8'), /<html/i);
    const css = await request(front, '/asset/chat.css');
    assert.equal(css.status, 200, 'static files come from the copied asset folder');
    const js = await request(front, '/web/chat.js');
    assert.equal(js.status, 200, 'page modules come from the copied web folder');
    const missing = await api(front, '/no/such/endpoint');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, -1, 'a 404 is the node\'s JSON, not an nginx page');
});

test('two users on different nodes exchange single and group messages through nginx', async () => {
    // The upstream hashes the whole WebSocket URL (it holds a fresh token per user): register
    // users until one lands on each node.
    const spare = [];
    for (let i = 0; i < 30 && !(a && b); i++) {
        const user = await newUser();
        const address = a ? ADDRESS_B : ADDRESS_A;
        const { conn, node } = await connectThroughNginx(user, address);
        if (!a) a = { user, conn, node };
        else if (node !== a.node) b = { user, conn, node };
        else spare.push(conn);
    }
    assert.ok(a && b, '30 users all hashed to one node');
    await Promise.all(spare.map((conn) => conn.close()));

    expectOk(await api(front, '/contact/addfriend', { dstid: b.user.id }, { id: a.user.id, token: a.user.token }), 'addfriend');
    // Credentials in the query string too: nginx must log no query.
    const friends = await api(front, `/contact/loadfriend?id=${a.user.id}&token=${a.user.token}`);
    assert.deepEqual(expectOk(friends, 'loadfriend').map((f) => f.id), [b.user.id]);
    const group = expectOk(
        await api(front, '/contact/createcommunity', { name: 'deploy group' }, { id: a.user.id, token: a.user.token }),
        'createcommunity',
    );
    groupId = group.id;
    expectOk(await api(front, '/contact/joincommunity', { dstid: groupId }, { id: b.user.id, token: b.user.token }), 'join');
    await chatBothWays(a, b, groupId, 'first');
});

test('an upload through nginx is served by every node from the shared folder', async () => {
    const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), randomBytes(64)]);
    const { body, type } = multipart(png, 'a.png', 'image/png');
    const res = await api(front, '/attach/upload', {}, {
        raw: body,
        headers: { 'content-type': type, authorization: `Bearer ${a.user.token}` },
    });
    const url = expectOk(res, 'upload');
    assert.match(url, /^\/mnt\/[^/]+\.png$/);
    for (const node of nodes) {
        const got = await request(node, url, { port: node.port });
        assert.equal(got.status, 200, `${node.name} serves ${url}`);
        assert.deepEqual(got.body, png);
    }
});

test('nginx answers 413 to a body above its limit, and passes the node\'s 413 for one above the node\'s', async () => {
    const auth = { authorization: `Bearer ${a.user.token}` };
    // render.sh's default 21m; the nodes' default --max-upload is 20M.
    const aboveNginx = multipart(Buffer.alloc(22 << 20), 'big.png', 'image/png');
    const refused = await request(front, '/attach/upload', {
        method: 'POST',
        headers: { ...auth, 'content-type': aboveNginx.type },
        body: aboveNginx.body,
    });
    assert.equal(refused.status, 413, refused.body.toString('utf8').slice(0, 300));
    const aboveNode = multipart(Buffer.alloc((20 << 20) + (256 << 10)), 'big.png', 'image/png');
    const res = await api(front, '/attach/upload', {}, { raw: aboveNode.body, headers: { ...auth, 'content-type': aboveNode.type } });
    assert.equal(res.status, 413, `the node's limit through nginx: ${res.status} ${res.text.slice(0, 300)}${nginxErrors()}`);
    assert.equal(res.body.code, -1, 'the node\'s JSON answer');
});

function multipart(content, filename, contentType) {
    const boundary = '----deploy' + randomBytes(8).toString('hex');
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`;
    return {
        body: Buffer.concat([Buffer.from(head), content, Buffer.from(`\r\n--${boundary}--\r\n`)]),
        type: `multipart/form-data; boundary=${boundary}`,
    };
}

test('after kill -9 of a node, its user reconnects through nginx to the other node and chats on', async () => {
    const victim = a.node;
    const survivor = b.node;
    assert.equal(readPid(path.join(victim.dir, 'chat.pid')), victim.pid);
    process.kill(victim.pid, 'SIGKILL');
    await waitFor(() => !alive(victim.pid), { what: `${victim.name} (pid ${victim.pid}) to die` });
    const lost = await Promise.race([a.conn.closed, sleep(WAIT).then(() => null)]);
    assert.ok(lost, 'nginx closes the WebSocket of a killed node');

    // The same URL (same hash) from the same address: nginx skips the dead node.
    const again = await connectThroughNginx(a.user, ADDRESS_A);
    assert.equal(again.node, survivor, 'the reconnect lands on the surviving node');
    a = { user: a.user, ...again };
    await chatBothWays(a, b, groupId, 'after kill -9');

    // The API keeps answering, whichever node a request hashes to.
    for (let i = 0; i < 6; i++) {
        const login = await api(front, '/user/login', { mobile: a.user.mobile, passwd: a.user.passwd });
        tokens.add(expectOk(login, `login ${i} after kill -9`).token);
    }
    const status = await run(path.join(victim.dir, 'status.sh'));
    assert.equal(status.code, 3, describeRun('status.sh of a killed node', status));
    assert.match(status.stdout, /not running/);

    // start.sh brings it back despite the stale chat.pid.
    await startWithScript(victim);
});

test('stop.sh stops a node cleanly: exit 0, clients closed with 1001, its lines in log.log', async () => {
    const node = b.node;
    assert.equal(a.node, node, 'both users are on the surviving node');
    const res = await run(path.join(node.dir, 'stop.sh'));
    assert.equal(res.code, 0, describeRun('stop.sh', res));
    assert.match(res.stdout, new RegExp(`chat stopped \\(pid ${node.pid}\\)`));
    for (const who of [a, b]) {
        const closed = await Promise.race([who.conn.closed, sleep(WAIT).then(() => null)]);
        assert.deepEqual(closed?.code, 1001, `user ${who.user.id} closed with 1001, got ${JSON.stringify(closed)}`);
    }
    assert.equal(alive(node.pid), false);
    assert.equal(fs.existsSync(path.join(node.dir, 'chat.pid')), false, 'stop.sh removes chat.pid');
    const log = logOf(node);
    assert.match(log, new RegExp(`node ${node.nodeId}: ready`));
    assert.match(log, new RegExp(`node ${node.nodeId}: stopped`));
    assert.match(log, new RegExp(`ws: closed user=${b.user.id} from=${ADDRESS_B.replace(/\./g, '\\.')}`));

    const status = await run(path.join(node.dir, 'status.sh'));
    assert.equal(status.code, 3, describeRun('status.sh of a stopped node', status));
    const twice = await run(path.join(node.dir, 'stop.sh'));
    assert.equal(twice.code, 0, describeRun('stop.sh of a stopped node', twice));

    // The node restarted after kill -9 takes everyone, once nginx tries it again (it keeps a
    // failed node out for fail_timeout); clients retry as the page does.
    const back = await waitFor(() => connectThroughNginx(a.user, ADDRESS_A).catch(() => null), {
        timeoutMs: 20_000,
        intervalMs: 500,
        what: 'a reconnect through nginx to the restarted node',
    });
    assert.equal(back.node, a.node === nodes[0] ? nodes[1] : nodes[0]);
    await back.conn.close();
});

test('nginx\'s logs hold no token', async () => {
    // nginx writes a WebSocket's access line when it closes: every one is closed by now.
    const accessLog = path.join(ngx.prefix, 'logs', 'access.log');
    await waitFor(() => fs.readFileSync(accessLog, 'utf8').includes('"GET /chat" 101'), { what: 'the WebSocket lines' });
    const logs = { access: fs.readFileSync(accessLog, 'utf8') };
    const errorLog = path.join(ngx.prefix, 'logs', 'error.log');
    logs.error = fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '';
    assert.ok(tokens.size >= 3);
    for (const [name, text] of Object.entries(logs)) {
        for (const token of tokens) assert.equal(text.includes(token), false, `a token in nginx's ${name} log:\n${text}`);
        assert.doesNotMatch(text, /token=/, `nginx's ${name} log`);
    }
});

test('stop.sh and nginx -s quit leave no process behind', async () => {
    for (const node of nodes) {
        const res = await run(path.join(node.dir, 'stop.sh'));
        assert.equal(res.code, 0, describeRun(`${node.name}/stop.sh`, res));
    }
    ngx.workers = childrenOf(ngx.pid);
    assert.ok(ngx.workers.length > 0, 'nginx has workers');
    const quit = await run('nginx', ['-p', ngx.prefix, '-c', path.join(ngx.prefix, 'nginx.conf'), '-s', 'quit']);
    assert.equal(quit.code, 0, describeRun('nginx -s quit', quit));
    const all = [...seenPids, ...ngx.workers];
    await waitFor(() => all.every((pid) => !alive(pid)), {
        timeoutMs: 10_000,
        what: `every process to end; alive: ${all.filter(alive)}`,
    });
    for (const node of nodes) assert.deepEqual(pidsRunning(path.join(node.dir, 'chat')), []);
});
