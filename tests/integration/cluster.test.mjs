// Three nodes on 127.0.0.1 sharing one bus port (broadcast 127.255.255.255): messages
// between users connected to different nodes arrive exactly once, intact, and only where
// they belong. One cluster serves the whole file; every test makes its own users and groups.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import WebSocket from 'ws';

import { startCluster, api, registerUser, connect, metrics, sleep } from './lib/cluster.mjs';

const NO_SUCH_ID = 2 ** 52;  // a group id no test ever creates
const WAIT = 3000;
// After the last expected frame, how long a duplicate would have to show up. Datagrams on
// loopback arrive in well under a millisecond; this is generous.
const SETTLE_MS = 250;

// Nodes and sockets still open at the end (also after a failure) are stopped by the
// harness's after() hook.
let n1, n2, n3;

before(async () => {
    const cluster = await startCluster(3);
    [n1, n2, n3] = cluster.nodes;
});

// ---------------------------------------------------------------------------------------
// Helpers

let cidCounter = 0;
const nextCid = (prefix = 'c') => `${prefix}-${++cidCounter}`;
const short = (v) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return s.length > 300 ? `${s.slice(0, 300)}... (${s.length} chars)` : s;
};

// Resolves with the first non-undefined value of probe(), re-evaluated as frames arrive.
function watch(conn, probe, what, timeoutMs = WAIT, shown = 0) {
    return new Promise((resolve, reject) => {
        let timer;
        let done = false;
        const finish = (fn, v) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            conn.raw.off('message', onMessage);
            conn.raw.off('close', onClose);
            fn(v);
        };
        const check = () => {
            const v = probe();
            if (v !== undefined) finish(resolve, v);
        };
        const onMessage = () => setImmediate(check);
        const onClose = (code, reason) => setImmediate(() => {
            check();
            finish(reject, new Error(`connection closed (${code} ${reason}) while waiting for ${what}; ` +
                                     `frames: ${short(conn.frames.slice(shown))}`));
        });
        timer = setTimeout(() => finish(reject, new Error(
            `no ${what} within ${timeoutMs} ms; frames since: ${short(conn.frames.slice(shown))}`)), timeoutMs);
        conn.raw.on('message', onMessage);
        conn.raw.on('close', onClose);
        check();
        if (!done && conn.raw.readyState === WebSocket.CLOSED) {
            finish(reject, new Error(`connection already closed while waiting for ${what}; ` +
                                     `frames: ${short(conn.frames.slice(shown))}`));
        }
    });
}

function waitFor(conn, pred, what, { from = 0, timeoutMs = WAIT } = {}) {
    let i = from;
    return watch(conn, () => {
        for (; i < conn.frames.length; i++) if (pred(conn.frames[i])) return conn.frames[i];
        return undefined;
    }, what, timeoutMs, from);
}

const isChat = (f) => f.cmd === 10 || f.cmd === 11;
const chatFrames = (conn, from = 0) => conn.frames.slice(from).filter(isChat);

// Connects and waits until the session reads frames (so it is registered on its node and
// its groups are loaded): a send to a group that does not exist is answered with 403.
async function open(node, user) {
    const conn = await connect(node, user);
    const cid = nextCid('probe');
    conn.send({ id: cid, cmd: 11, dstid: NO_SUCH_ID, media: 1, content: 'probe' });
    const err = await waitFor(conn, (f) => f.cmd === 99 && f.cid === cid, `the 403 answering probe ${cid} on node ${node.nodeId}`);
    assert.equal(err.code, 403, `probe answer: ${short(err)}`);
    return conn;
}

// Sends a frame with a fresh client id; resolves {ack, frame} once acknowledged.
async function sendOk(conn, frame, what = 'message') {
    const cid = nextCid();
    const full = { ...frame, id: cid };
    const from = conn.frames.length;
    conn.send(full);
    const reply = await waitFor(conn, (f) => (f.cmd === 1 || f.cmd === 99) && f.cid === cid, `ack of ${what}`, { from });
    assert.equal(reply.cmd, 1, `expected an ack for ${what}, got ${short(reply)}`);
    return { ack: reply, frame: full };
}

// Exactly what a recipient must receive for the client frame `sent` acknowledged with `ack`.
function stamped(sent, ack, senderId) {
    const out = { id: ack.id, userid: senderId, cmd: sent.cmd, dstid: Number(sent.dstid), media: sent.media };
    for (const k of ['content', 'pic', 'url', 'memo', 'amount']) if (k in sent) out[k] = sent[k];
    out.createat = ack.createat;
    out.pos = ack.pos;  // the same place in the stream for the sender and every recipient
    return out;
}

async function receives(conn, sent, ack, senderId, who) {
    const got = await waitFor(conn, (f) => isChat(f) && f.id === ack.id, `delivery of message ${ack.id} to ${who}`);
    assert.deepEqual(got, stamped(sent, ack, senderId), `${who} got the message altered`);
}

// Every id in `ids` appears exactly once among conn's chat frames since `from`, and nothing else.
function assertExactlyOnce(conn, from, ids, who) {
    const got = chatFrames(conn, from).map((f) => f.id);
    assert.deepEqual([...got].sort(), [...ids].sort(), `${who}: expected each of ${ids.length} message(s) once, got ids ${got}`);
}

const auth = (u) => ({ token: u.token, id: u.id });

async function createGroup(node, owner, name) {
    const r = await api(node, '/contact/createcommunity', { name }, auth(owner));
    assert.equal(r.status, 200, `createcommunity: ${short(r.body)}`);
    return r.body.data.id;
}

async function join(node, user, gid) {
    const r = await api(node, '/contact/joincommunity', { dstid: gid }, auth(user));
    assert.equal(r.status, 200, `joincommunity: ${short(r.body)}`);
}

function closeAll(conns) {
    for (const c of conns) c.close();
}

// ---------------------------------------------------------------------------------------

test('single messages of every media type cross nodes exactly once with every field intact', async () => {
    const a = await registerUser(n1, {});
    const b = await registerUser(n2, {});
    const card = await registerUser(n3, {});
    const a1 = await open(n1, a);
    const a3 = await open(n3, a);  // the sender's other connection, on another node
    const b2 = await open(n2, b);
    const b3 = await open(n3, b);  // the recipient on two nodes
    const conns = [a1, a3, b2, b3];
    try {
        const unicode = 'Grüße, 世界! 🎉👩‍👩‍👧‍👦 "quoted" back\\slash\nnew line\ttab </script><b>x</b> \u2028 ∑ 𝄞';
        // The longest content allowed (8192 characters), 20 KB of UTF-8.
        const longest = 'ü世🎉a'.repeat(2048);
        assert.equal([...longest].length, 8192);
        assert.equal(Buffer.byteLength(longest), 20 * 1024, 'a 20 KB text');
        const bodies = [
            { media: 1, content: unicode },
            { media: 1, content: longest },
            { media: 2, content: 'News ✓ title', url: 'https://example.com/news/1?a=1&b=2', pic: '/mnt/abc.png', memo: 'summary 📰' },
            { media: 3, url: '/mnt/voice.ogg', amount: 12 },
            { media: 4, url: 'https://example.com/i.jpg' },
            { media: 5, amount: 888, memo: '恭喜发财 🧧' },
            { media: 6, content: '😀' },
            { media: 6, url: '/asset/emoji/1.gif' },
            { media: 7, url: 'http://example.com/article#top', content: 'look at this' },
            { media: 8, url: '/mnt/v.mp4', pic: '/mnt/v.jpg' },
            { media: 9, content: String(card.id), memo: 'my friend', pic: '/asset/avatar.png' },
            { media: 100, content: JSON.stringify({ type: 'poll', q: '¿sí?', options: [1, 2] }) },
        ];
        const marks = conns.map((c) => c.frames.length);
        const ids = [];
        for (const body of bodies) {
            const sent = { cmd: 10, dstid: b.id, ...body };
            const { ack, frame } = await sendOk(a1, sent, `media ${body.media}`);
            ids.push(ack.id);
            await receives(b2, frame, ack, a.id, `b on node 2 (media ${body.media})`);
            await receives(b3, frame, ack, a.id, `b on node 3 (media ${body.media})`);
            await receives(a3, frame, ack, a.id, `a's other connection on node 3 (media ${body.media})`);
        }
        await sleep(SETTLE_MS);
        assertExactlyOnce(b2, marks[2], ids, 'b on node 2');
        assertExactlyOnce(b3, marks[3], ids, 'b on node 3');
        assertExactlyOnce(a3, marks[1], ids, "a's other connection");
        assert.deepEqual(a1.frames.slice(marks[0]).map((f) => f.cmd), bodies.map(() => 1), 'the sending connection got only acks');
    } finally {
        closeAll(conns);
    }
});

test('a ~50 KB message crosses nodes intact in one datagram', async () => {
    const a = await registerUser(n1, {});
    const b = await registerUser(n1, {});
    const a1 = await open(n1, a);
    const b2 = await open(n2, b);
    const b3 = await open(n3, b);
    try {
        // Every field at its limit, with characters JSON escapes to six bytes (\u0001...).
        let content = '';
        for (let i = 0; i < 8192; i++) content += i % 4 === 3 ? '🎉' : String.fromCodePoint(1 + (i % 31));
        const sent = {
            cmd: 10,
            dstid: b.id,
            media: 2,
            content,
            url: 'https://example.com/' + 'u'.repeat(2048 - 20),
            pic: '/mnt/' + 'p'.repeat(2048 - 5),
            memo: '\u0002"\\'.repeat(341) + 'm',
        };
        const { ack, frame } = await sendOk(a1, sent, 'the 50 KB message');
        const size = Buffer.byteLength(JSON.stringify(stamped(frame, ack, a.id)));
        assert.ok(size > 46 * 1024 && size < 64 * 1024, `the stamped message is ${size} bytes`);
        await receives(b2, frame, ack, a.id, 'b on node 2');
        await receives(b3, frame, ack, a.id, 'b on node 3');
    } finally {
        closeAll([a1, b2, b3]);
    }
});

test("a group message reaches every member's every connection on every node once, not the sender's socket nor outsiders", async () => {
    const a = await registerUser(n1, {});
    const b = await registerUser(n2, {});
    const c = await registerUser(n3, {});
    const d = await registerUser(n1, {});
    const outsider = await registerUser(n2, {});
    const gid = await createGroup(n1, a, 'everywhere');
    await join(n2, b, gid);
    await join(n3, c, gid);
    await join(n1, d, gid);
    const a1 = await open(n1, a);
    const a2 = await open(n2, a);
    const b2 = await open(n2, b);
    const b3 = await open(n3, b);
    const c3 = await open(n3, c);
    const c1 = await open(n1, c);
    const d1 = await open(n1, d);
    const x2 = await open(n2, outsider);
    const x3 = await open(n3, outsider);
    const members = { a2, b2, b3, c3, c1, d1 };
    const all = [a1, ...Object.values(members), x2, x3];
    try {
        const marks = new Map(all.map((conn) => [conn, conn.frames.length]));
        const sent1 = await sendOk(a1, { cmd: 11, dstid: gid, media: 1, content: 'hello group 👋' }, 'group message from node 1');
        for (const [name, conn] of Object.entries(members)) await receives(conn, sent1.frame, sent1.ack, a.id, name);
        // From node 3, so every node is both origin and receiver.
        const sent2 = await sendOk(c3, { cmd: 11, dstid: String(gid), media: 5, amount: 100, memo: 'lucky' }, 'group message from node 3');
        for (const [name, conn] of Object.entries({ a1, a2, b2, b3, c1, d1 })) await receives(conn, sent2.frame, sent2.ack, c.id, name);
        await sleep(SETTLE_MS);
        const both = [sent1.ack.id, sent2.ack.id];
        for (const [name, conn] of Object.entries({ a2, b2, b3, c1, d1 })) assertExactlyOnce(conn, marks.get(conn), both, name);
        assertExactlyOnce(a1, marks.get(a1), [sent2.ack.id], 'the first sending connection');
        assertExactlyOnce(c3, marks.get(c3), [sent1.ack.id], 'the second sending connection');
        assertExactlyOnce(x2, marks.get(x2), [], 'the outsider on node 2');
        assertExactlyOnce(x3, marks.get(x3), [], 'the outsider on node 3');
    } finally {
        closeAll(all);
    }
});

test('joining a group through another node makes open connections receive its messages at once', async () => {
    const a = await registerUser(n1, {});
    const f = await registerUser(n3, {});
    const gid = await createGroup(n1, a, 'late joiners');
    const a1 = await open(n1, a);
    const f3 = await open(n3, f);  // connected before joining
    try {
        const before = await sendOk(a1, { cmd: 11, dstid: gid, media: 1, content: 'before f joined' });
        await join(n2, f, gid);  // through a node f is not connected to
        const t0 = Date.now();
        const after = await sendOk(a1, { cmd: 11, dstid: gid, media: 1, content: 'after f joined' });
        await receives(f3, after.frame, after.ack, a.id, 'f, connected before joining');
        assert.ok(Date.now() - t0 < 1000, 'delivered at once');
        // The join also lets f's open connection send to the group.
        const back = await sendOk(f3, { cmd: 11, dstid: gid, media: 1, content: 'thanks for having me' }, "f's group message");
        await receives(a1, back.frame, back.ack, f.id, 'the owner');
        await sleep(SETTLE_MS);
        assertExactlyOnce(f3, 0, [after.ack.id], 'f (nothing from before joining)');
        assert.ok(!f3.frames.some((x) => x.id === before.ack.id), 'f received a message sent before it joined');
    } finally {
        closeAll([a1, f3]);
    }
});

test("logging out on one node closes that token's connections on every node with 4001", async () => {
    const a = await registerUser(n1, {});
    const u = await registerUser(n1, {});
    const login = await api(n2, '/user/login', { mobile: u.mobile, passwd: u.passwd });
    assert.equal(login.status, 200, `second login: ${short(login.body)}`);
    const other = { ...u, token: login.body.data.token };
    const a1 = await open(n1, a);
    const t2 = await open(n2, u);
    const t3 = await open(n3, u);
    const o3 = await open(n3, other);
    try {
        const out = await api(n1, '/user/logout', {}, auth(u));
        assert.equal(out.status, 200, `logout: ${short(out.body)}`);
        for (const [name, conn] of [['node 2', t2], ['node 3', t3]]) {
            let timer;
            const closed = await Promise.race([
                conn.closed,
                new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${name}: still open`)), WAIT))),
            ]).finally(() => clearTimeout(timer));
            assert.deepEqual(closed, { code: 4001, reason: 'logged out' }, name);
        }
        assert.equal(o3.raw.readyState, WebSocket.OPEN, "the user's other token stays connected");
        const { ack, frame } = await sendOk(a1, { cmd: 10, dstid: u.id, media: 1, content: 'still here?' });
        await receives(o3, frame, ack, a.id, 'the other device');
    } finally {
        closeAll([a1, t2, t3, o3]);
    }
});

test('bus counters grow on every node as messages cross', async () => {
    const users = await Promise.all([n1, n2, n3].map((n) => registerUser(n, {})));
    const conns = await Promise.all([n1, n2, n3].map((n, i) => open(n, users[i])));
    try {
        const nodes = [n1, n2, n3];
        const before = await Promise.all(nodes.map(metrics));
        for (const key of ['chat_bus_datagrams_sent_total', 'chat_bus_datagrams_received_total']) {
            for (let i = 0; i < 3; i++) assert.ok(key in before[i], `node ${i + 1} lacks ${key}`);
        }
        // Each node sends one message to the user on the next node.
        for (let i = 0; i < 3; i++) {
            const to = users[(i + 1) % 3];
            const { ack, frame } = await sendOk(conns[i], { cmd: 10, dstid: to.id, media: 1, content: `ring ${i}` });
            await receives(conns[(i + 1) % 3], frame, ack, users[i].id, `user on node ${((i + 1) % 3) + 1}`);
        }
        const after = await Promise.all(nodes.map(metrics));
        for (let i = 0; i < 3; i++) {
            const sent = after[i].chat_bus_datagrams_sent_total - before[i].chat_bus_datagrams_sent_total;
            const received = after[i].chat_bus_datagrams_received_total - before[i].chat_bus_datagrams_received_total;
            assert.ok(sent >= 1, `node ${i + 1} sent ${sent} datagrams`);
            // Each node hears at least the two messages the other nodes broadcast.
            assert.ok(received >= 2, `node ${i + 1} received ${received} datagrams`);
        }
    } finally {
        closeAll(conns);
    }
});

test("a node's threads are named after their work, so top -H and perf tell them apart", () => {
    const task = `/proc/${n1.pid}/task`;
    const names = readdirSync(task).map((tid) => readFileSync(`${task}/${tid}/comm`, 'utf8').trim());
    const count = (name) => names.filter((n) => n === name).length;
    for (const name of ['chat-bus', 'chat-commit', 'chat-answer', 'chat-files']) assert.equal(count(name), 1, `one ${name} thread in ${names}`);
    assert.ok(count('chat-db') >= 1, `database threads in ${names}`);
    // One network thread per core: the main thread and the rest.
    assert.equal(count('chat-io'), os.availableParallelism() - 1, `network threads in ${names}`);
});
