// Nothing is lost: every message a node acknowledged is in the history, and every device of a
// recipient gets it exactly once and in its stream's order — live, or when it (re)connects and
// syncs — across several nodes, clocks that disagree, reconnections in mid-stream, restarts of
// every node and of the database. Also the history, conversations and read-mark endpoints, and
// what they answer to bad input. Real nodes, real MariaDB (scripts/test.sh's), real sockets.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { startCluster, startNode, api, registerUser, connect, waitFor, sleep, repoDir, freePort } from './lib/cluster.mjs';

const run = promisify(execFile);
const WAIT = 10_000;

let n1, n2, n3, busPort;

before(async () => {
    const cluster = await startCluster(3);
    [n1, n2, n3] = cluster.nodes;
    busPort = cluster.busPort;
});

// ---------------------------------------------------------------------------------------
// Helpers

const auth = (u) => ({ id: u.id, token: u.token });
const isChat = (f) => f.cmd === 10 || f.cmd === 11;
const short = (v) => {
    const s = JSON.stringify(v);
    return s.length > 400 ? `${s.slice(0, 400)}... (${s.length} chars)` : s;
};

async function call(node, path, user, params = {}) {
    const res = await api(node, path, params, user ? { ...auth(user), json: true } : { json: true });
    assert.equal(res.status, 200, `${path} ${short(params)}: ${res.status} ${res.text}`);
    return res.body.data;
}

async function createGroup(node, owner, name) {
    return (await call(node, '/contact/createcommunity', owner, { name })).id;
}

async function join(node, user, group) {
    await call(node, '/contact/joincommunity', user, { dstid: group });
}

// Sends a frame and resolves with its ack (rejects on an error frame).
let cids = 0;
async function send(conn, frame) {
    const cid = `h-${++cids}`;
    conn.send({ ...frame, id: cid });
    const answer = await conn.next((f) => f.cid === cid && (f.cmd === 1 || f.cmd === 99), WAIT);
    assert.equal(answer.cmd, 1, `send ${short(frame)}: ${short(answer)}`);
    return answer;
}

// Sends `count` messages as fast as acks allow (up to `window` outstanding); resolves with the acks.
async function stream(conn, count, makeFrame, window = 16) {
    const acks = [];
    let next = 0;
    async function worker() {
        while (next < count) {
            const i = next++;
            acks[i] = await send(conn, makeFrame(i));
        }
    }
    await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
    return acks;
}

const chatFrames = (conn, from = 0) => conn.frames.slice(from).filter(isChat);

// The last stream position a connection holds (its resume point).
function lastPos(conn) {
    let last = 0;
    for (const f of conn.frames) if (typeof f.pos === 'number' && f.pos > last && f.cmd !== 1) last = f.pos;
    return last;
}

// A device's view over several connections: positions strictly increase (so nothing twice and
// nothing out of order), and the message ids are exactly the expected ones.
function assertExactlyOnceInOrder(frames, expectedIds, who) {
    const positions = frames.map((f) => f.pos);
    for (let i = 1; i < positions.length; i++) {
        assert.ok(positions[i] > positions[i - 1], `${who}: position ${positions[i]} after ${positions[i - 1]} (index ${i})`);
    }
    const got = frames.map((f) => f.id);
    const dups = got.filter((id, i) => got.indexOf(id) !== i);
    assert.deepEqual(dups, [], `${who}: received twice`);
    const missing = [...expectedIds].filter((id) => !got.includes(id));
    assert.deepEqual(missing, [], `${who}: missing ${missing.length} of ${expectedIds.size}`);
    const extra = got.filter((id) => !expectedIds.has(id));
    assert.deepEqual(extra, [], `${who}: unexpected messages`);
}

// cmd 13 names what was sent before it: the frames held during the sync come after it with
// later positions, so a device cut off before they arrive resumes below them, not past them.
function assertSyncEndPrecedesWhatFollows(conn, who) {
    const end = conn.frames.findIndex((f) => f.cmd === 13);
    if (end < 0) return;
    const pos = conn.frames[end].pos;
    const early = conn.frames.slice(end + 1).filter((f) => isChat(f) && f.pos <= pos);
    assert.deepEqual(early.map((f) => f.pos), [], `${who}: frames after cmd 13 at or below its position ${pos}`);
}

// The position a device holds after its first, empty sync: where "offline" starts.
async function positionNow(node, user) {
    const c = await connect(node, user);
    const end = c.frames.find((f) => f.cmd === 13);
    await c.close();
    return end.pos;
}

async function syncedFrom(node, user, since) {
    const c = await connect(node, user, { query: { since } });
    return c;
}

// ---------------------------------------------------------------------------------------
// Offline delivery

test('a user offline while others send single and group messages gets all of them, in order, once, on each device', async () => {
    const alice = await registerUser(n1, { nickname: 'alice' });
    const bob = await registerUser(n2, { nickname: 'bob' });
    const carol = await registerUser(n3, { nickname: 'carol' });
    const group = await createGroup(n1, alice, 'offline club');
    await join(n2, bob, group);
    await join(n3, carol, group);
    const since = await positionNow(n3, carol);

    const a = await connect(n1, alice);
    const b = await connect(n2, bob);
    // Both senders at once, on two nodes, single and group interleaved.
    const [fromAlice, fromBob] = await Promise.all([
        stream(a, 40, (i) => (i % 2 ? { cmd: 10, dstid: carol.id, media: 1, content: `a${i}` } : { cmd: 11, dstid: group, media: 1, content: `a${i}` })),
        stream(b, 40, (i) => (i % 3 ? { cmd: 10, dstid: carol.id, media: 1, content: `b${i}` } : { cmd: 11, dstid: group, media: 1, content: `b${i}` })),
    ]);
    const expected = new Set([...fromAlice, ...fromBob].map((ack) => ack.id));

    // Two devices come online, on different nodes, from the same position.
    const phone = await syncedFrom(n1, carol, since);
    const laptop = await syncedFrom(n3, carol, since);
    for (const [who, device] of [['phone', phone], ['laptop', laptop]]) {
        const synced = chatFrames(device, 0);
        const end = device.frames.findIndex((f) => f.cmd === 13);
        assert.equal(synced.length, 80, `${who}: ${synced.length} frames before the end of the sync`);
        assert.ok(device.frames.slice(0, end).every(isChat), `${who}: only messages before cmd 13`);
        assertExactlyOnceInOrder(synced, expected, who);
        assert.equal(device.frames[end].pos, synced.at(-1).pos, `${who}: cmd 13 names the last position`);
        // Each sender's messages keep the order they were sent in.
        for (const [tag, acks] of [['a', fromAlice], ['b', fromBob]]) {
            const order = synced.filter((f) => f.content.startsWith(tag)).map((f) => f.id);
            assert.deepEqual(order, acks.map((x) => x.id), `${who}: ${tag}'s order`);
        }
    }
    // Frames from the history are the very frames live recipients got.
    const live = b.frames.find((f) => isChat(f) && f.id === fromAlice[0].id);
    assert.deepEqual(phone.frames.find((f) => f.id === fromAlice[0].id), live);
    for (const c of [a, b, phone, laptop]) c.close();
});

test('a device that reconnects again and again in mid-stream misses nothing and gets nothing twice', async () => {
    const alice = await registerUser(n1, {});
    const bob = await registerUser(n2, {});
    const carol = await registerUser(n3, {});
    const group = await createGroup(n2, bob, 'busy room');
    await join(n1, alice, group);
    await join(n3, carol, group);
    const a = await connect(n1, alice);
    const b = await connect(n2, bob);

    const seen = []; // every chat frame carol's device got, over all its connections
    let device = await connect(n3, carol);
    let reconnects = 0;
    let sending = true;
    const flapper = (async () => {
        const nodes = [n1, n2, n3];
        while (sending) {
            await sleep(40 + Math.floor(Math.random() * 80));
            // The device resumes from the last position it holds once the connection is gone.
            device.terminate();
            await device.closed;
            assertSyncEndPrecedesWhatFollows(device, `carol's connection ${reconnects + 1}`);
            seen.push(...chatFrames(device));
            const since = lastPos(device);
            device = await connect(nodes[++reconnects % 3], carol, { query: { since } });
        }
    })();
    // Rounds of 150 messages each, until the device has flapped at least 3 times: a fast
    // machine sends one round in less time than that takes.
    const fromAlice = [];
    const fromBob = [];
    for (let round = 0; round === 0 || (reconnects < 3 && round < 20); round++) {
        const [x, y] = await Promise.all([
            stream(a, 150, (i) => ({ cmd: i % 2 ? 10 : 11, dstid: i % 2 ? carol.id : group, media: 1, content: `a${round}-${i}` }), 4),
            stream(b, 150, (i) => ({ cmd: i % 2 ? 11 : 10, dstid: i % 2 ? group : carol.id, media: 1, content: `b${round}-${i}` }), 4),
        ]);
        fromAlice.push(...x);
        fromBob.push(...y);
    }
    sending = false;
    await flapper;
    const expected = new Set([...fromAlice, ...fromBob].map((x) => x.id));
    await waitFor(() => seen.length + chatFrames(device).length >= expected.size, { timeoutMs: WAIT, what: 'the rest of the stream' });
    await sleep(200);
    seen.push(...chatFrames(device));
    assert.ok(reconnects >= 3, `only ${reconnects} reconnects`);
    assertExactlyOnceInOrder(seen, expected, `carol over ${reconnects + 1} connections`);
    for (const c of [a, b, device]) c.close();
});

// ---------------------------------------------------------------------------------------
// Clocks that disagree

test('nodes whose clocks are seconds apart make no device miss or repeat a message', async () => {
    const early = await startNode({ nodeId: 11, busPort, uploadDir: n1.uploadDir, extraArgs: ['--clock-offset-ms', '-7000'] });
    const late = await startNode({ nodeId: 12, busPort, uploadDir: n1.uploadDir, extraArgs: ['--clock-offset-ms', '7000'] });
    try {
        const alice = await registerUser(early, {});
        const bob = await registerUser(late, {});
        const carol = await registerUser(n2, {});
        const a = await connect(early, alice);
        const b = await connect(late, bob);
        const c = await connect(n2, carol);
        const since = lastPos(c);
        // Strictly alternating, each after the previous ack: the order people saw them sent.
        const acks = [];
        for (let i = 0; i < 30; i++) {
            acks.push(await send(i % 2 ? b : a, { cmd: 10, dstid: carol.id, media: 1, content: `turn ${i}` }));
            if (i === 15) c.terminate(); // and catches up later
        }
        // The clocks say bob's messages came 14 s after alice's next one; positions keep the real order.
        assert.ok(acks[1].createat - acks[2].createat > 10_000, `createat ${acks[1].createat} vs ${acks[2].createat}`);
        for (let i = 1; i < acks.length; i++) assert.ok(acks[i].pos > acks[i - 1].pos, `pos of turn ${i}`);
        const again = await connect(n3, carol, { query: { since } });
        const frames = chatFrames(again);
        assertExactlyOnceInOrder(frames, new Set(acks.map((x) => x.id)), 'carol, synced');
        assert.deepEqual(frames.map((f) => f.content), acks.map((_, i) => `turn ${i}`));
        // And the live device saw the first part in the same order.
        const live = chatFrames(c).map((f) => f.content);
        assert.deepEqual(live, acks.slice(0, live.length).map((_, i) => `turn ${i}`));
        for (const x of [a, b, again]) x.close();
    } finally {
        await Promise.all([early.stop(), late.stop()]);
    }
});

// ---------------------------------------------------------------------------------------
// Repair from the history

test('a node that hears none of another node\'s datagrams still delivers its messages, in order, from the history', async () => {
    // Its own bus: every position the cluster takes is a hole it fills from the history.
    const deaf = await startNode({ nodeId: 13, busPort: await freePort(), uploadDir: n1.uploadDir, extraArgs: ['--stream-hole-wait-ms', '50', '--stream-poll-ms', '100'] });
    try {
        const alice = await registerUser(n1, {});
        const dave = await registerUser(deaf, {});
        const a = await connect(n1, alice);
        const d = await connect(deaf, dave);
        const acks = await stream(a, 20, (i) => ({ cmd: 10, dstid: dave.id, media: 1, content: `via history ${i}` }), 4);
        await waitFor(() => chatFrames(d).length >= 20, { timeoutMs: WAIT, what: "dave's messages" });
        await sleep(200);
        assertExactlyOnceInOrder(chatFrames(d), new Set(acks.map((x) => x.id)), 'dave');
        // Dave's answer goes the other way, again through the history.
        const back = await send(d, { cmd: 10, dstid: alice.id, media: 1, content: 'heard you' });
        const got = await a.next((f) => isChat(f) && f.id === back.id, WAIT);
        assert.equal(got.pos, back.pos);
        a.close();
        d.close();
    } finally {
        await deaf.stop();
    }
});

// ---------------------------------------------------------------------------------------
// Sync details

test('sync on an open connection (cmd 12) sends what came after the position, then cmd 13; bad positions are refused', async () => {
    const alice = await registerUser(n1, {});
    const bob = await registerUser(n2, {});
    const a = await connect(n1, alice);
    const acks = await stream(a, 5, (i) => ({ cmd: 10, dstid: bob.id, media: 1, content: `s${i}` }));
    const b = await connect(n2, bob, { query: { since: acks[0].pos } });
    assert.deepEqual(chatFrames(b).map((f) => f.content), ['s1', 's2', 's3', 's4']);
    const from = b.frames.length;
    b.send({ cmd: 12, since: acks[2].pos, id: 'again' });
    const end = await b.next((f) => f.cmd === 13 && b.frames.indexOf(f) >= from, WAIT);
    assert.equal(end.pos, acks[4].pos);
    assert.deepEqual(chatFrames(b, from).map((f) => f.content), ['s3', 's4']);

    for (const bad of ['abc', -1, 1.5, '9007199254740992']) {
        const mark = b.frames.length;
        b.send({ cmd: 12, since: bad, id: `bad-${bad}` });
        const err = await b.next((f) => f.cid === `bad-${bad}`, WAIT);
        assert.equal(err.cmd, 99, `since ${bad}: ${short(err)}`);
        assert.equal(err.code, 400);
        assert.match(err.msg, /since/);
        assert.equal(b.frames.slice(mark).filter(isChat).length, 0);
    }
    for (const bad of ['x', '-3', '1e3']) {
        await assert.rejects(connect(n2, bob, { query: { since: bad } }), (e) => e.status === 400 && /since/.test(e.body), `since=${bad}`);
    }
    // A position from nowhere (beyond the stream's end) neither fails nor hides new messages.
    const future = await connect(n2, bob, { query: { since: 2 ** 52 } });
    assert.ok(future.frames.find((f) => f.cmd === 13).pos < 2 ** 52);
    const next = await send(a, { cmd: 10, dstid: bob.id, media: 1, content: 'after a bogus position' });
    assert.equal((await future.next((f) => isChat(f) && f.id === next.id, WAIT)).pos, next.pos);
    for (const c of [a, b, future]) c.close();
});

test('a device with no position gets only the recent part of its stream', async () => {
    const small = await startNode({ nodeId: 14, busPort, uploadDir: n1.uploadDir, extraArgs: ['--sync-recent', '5'] });
    try {
        const alice = await registerUser(n1, {});
        const bob = await registerUser(small, {});
        const a = await connect(n1, alice);
        const acks = await stream(a, 12, (i) => ({ cmd: 10, dstid: bob.id, media: 1, content: `r${i}` }));
        const b = await connect(small, bob);
        assert.deepEqual(chatFrames(b).map((f) => f.id), acks.slice(7).map((x) => x.id));
        assert.equal(b.frames.find((f) => f.cmd === 13).pos, acks[11].pos);
        a.close();
        b.close();
    } finally {
        await small.stop();
    }
});

test('a sync of long messages comes in pages cut to half the queue bound: whole, in order, once, and the device stays connected', async () => {
    const small = await startNode({ nodeId: 15, busPort, uploadDir: n1.uploadDir, extraArgs: ['--max-queue', '128k'] });
    try {
        const alice = await registerUser(n1, {});
        const bob = await registerUser(small, {});
        const a = await connect(n1, alice);
        // 40 frames of ~8 KB: 320 KB, where one page of 100 would be 2.5 times the queue bound.
        const acks = await stream(a, 40, (i) => ({ cmd: 10, dstid: bob.id, media: 1, content: `${i}:`.padEnd(8000, 'x') }));
        const b = await connect(small, bob);
        const end = b.frames.findIndex((f) => f.cmd === 13);
        assertExactlyOnceInOrder(chatFrames(b).filter((f) => b.frames.indexOf(f) < end), new Set(acks.map((x) => x.id)), 'bob');
        assert.equal(b.frames[end].pos, acks[39].pos);
        // Live frames still reach it after the catch-up.
        const live = await send(a, { cmd: 10, dstid: bob.id, media: 1, content: 'after' });
        assert.equal((await b.next((f) => isChat(f) && f.id === live.id, WAIT)).pos, live.pos);
        a.close();
        b.close();
    } finally {
        await small.stop();
    }
});

test('the sender gets an ack with the position, and its other devices get the message', async () => {
    const alice = await registerUser(n1, {});
    const bob = await registerUser(n2, {});
    const a1 = await connect(n1, alice);
    const a2 = await connect(n3, alice);
    const ack = await send(a1, { cmd: 10, dstid: bob.id, media: 1, content: 'mine' });
    assert.ok(Number.isSafeInteger(ack.pos) && ack.pos > 0);
    const copy = await a2.next((f) => isChat(f) && f.id === ack.id, WAIT);
    assert.equal(copy.pos, ack.pos);
    assert.equal(chatFrames(a1).length, 0, 'the sending connection gets only the ack');
    a1.close();
    a2.close();
});

// ---------------------------------------------------------------------------------------
// History, conversations, read marks

test('history pages walk a long conversation backwards without overlap or hole', async () => {
    const alice = await registerUser(n1, {});
    const bob = await registerUser(n2, {});
    const a = await connect(n1, alice);
    const b = await connect(n2, bob);
    const [x, y] = await Promise.all([
        stream(a, 130, (i) => ({ cmd: 10, dstid: bob.id, media: 1, content: `x${i}` })),
        stream(b, 120, (i) => ({ cmd: 10, dstid: alice.id, media: 1, content: `y${i}` })),
    ]);
    const all = [...x, ...y].map((k) => k.pos).sort((p, q) => p - q);
    for (const [who, user, peer, limit] of [['alice', alice, bob, 100], ['bob', bob, alice, 7]]) {
        const walked = [];
        let before;
        for (let page = 0; page < 100; page++) {
            const data = await call(page % 2 ? n3 : n1, '/message/history', user, { peer: peer.id, limit, ...(before ? { before } : {}) });
            assert.ok(data.messages.length <= limit);
            const positions = data.messages.map((m) => m.pos);
            for (let i = 1; i < positions.length; i++) assert.ok(positions[i] > positions[i - 1], 'oldest first within a page');
            walked.unshift(...positions);
            if (!data.more) break;
            before = positions[0];
        }
        assert.deepEqual(walked, all, `${who}'s walk`);
    }
    const newest = await call(n2, '/message/history', bob, { peer: alice.id, limit: 1 });
    assert.equal(newest.messages[0].pos, all.at(-1));
    assert.equal(newest.more, true);
    a.close();
    b.close();
});

test('a group history is for its members only, from the moment they joined', async () => {
    const owner = await registerUser(n1, {});
    const late = await registerUser(n2, {});
    const outsider = await registerUser(n3, {});
    const group = await createGroup(n1, owner, 'members only');
    const o = await connect(n1, owner);
    const early = await send(o, { cmd: 11, dstid: group, media: 1, content: 'before you came' });
    await join(n2, late, group);
    const after = await send(o, { cmd: 11, dstid: group, media: 1, content: 'welcome' });
    const seen = await call(n2, '/message/history', late, { group });
    assert.deepEqual(seen.messages.map((m) => m.id), [after.id]);
    assert.equal((await call(n1, '/message/history', owner, { group })).messages.map((m) => m.id).join(), [early.id, after.id].join());
    const refused = await api(n3, '/message/history', { group }, { ...auth(outsider), json: true });
    assert.equal(refused.status, 403);
    assert.match(refused.body.msg, /member/);
    // Someone else's single chat is not the outsider's: they see only their own (empty) one.
    const other = await call(n3, '/message/history', outsider, { peer: owner.id });
    assert.deepEqual(other.messages, []);
    o.close();
});

test('conversations list last messages and unread counts; a read mark reaches every device of the user', async () => {
    const me = await registerUser(n1, {});
    const ann = await registerUser(n2, {});
    const ben = await registerUser(n3, {});
    const group = await createGroup(n3, ben, 'readers');
    await join(n1, me, group);
    const a = await connect(n2, ann);
    const b = await connect(n3, ben);
    const fromAnn = await stream(a, 3, (i) => ({ cmd: 10, dstid: me.id, media: 1, content: `ann ${i}` }), 1);
    const inGroup = await send(b, { cmd: 11, dstid: group, media: 1, content: 'group news' });
    const fromBen = await send(b, { cmd: 10, dstid: me.id, media: 1, content: 'ben here' });

    let list = await call(n1, '/message/conversations', me);
    assert.deepEqual(list.map((c) => c.peer ?? `g${c.group}`), [ben.id, `g${group}`, ann.id]);
    assert.deepEqual(list.map((c) => c.unread), [1, 1, 3]);
    assert.equal(list[0].last.id, fromBen.id);
    assert.equal(list[2].last.content, 'ann 2');

    const phone = await connect(n2, me);
    const read = await call(n1, '/message/read', me, { peer: ann.id, pos: fromAnn[1].pos });
    assert.equal(read.pos, fromAnn[1].pos);
    const mark = await phone.next((f) => f.cmd === 15, WAIT);
    assert.deepEqual(mark, { cmd: 15, peer: ann.id, pos: fromAnn[1].pos });
    await call(n3, '/message/read', me, { group, pos: inGroup.pos });
    await phone.next((f) => f.cmd === 15 && f.group === group, WAIT);
    // A mark never moves back, and one past the stream's end is clamped to it.
    await call(n1, '/message/read', me, { peer: ann.id, pos: 1 });
    list = await call(n2, '/message/conversations', me);
    assert.deepEqual(list.map((c) => c.unread), [1, 0, 1]);

    for (const [params, status, pattern] of [
        [{ peer: ann.id }, 400, /pos/],
        [{ peer: ann.id, pos: 'soon' }, 400, /pos/],
        [{ pos: 1 }, 400, /peer|group/],
        [{ peer: ann.id, group, pos: 1 }, 400, /peer|group/],
        [{ group: group + 1000000, pos: 1 }, 403, /member/],
    ]) {
        const res = await api(n1, '/message/read', params, { ...auth(me), json: true });
        assert.equal(res.status, status, `read ${short(params)}: ${res.text}`);
        assert.match(res.body.msg, pattern);
    }
    for (const c of [a, b, phone]) c.close();
});

test('history refuses bad input with a clear 400 and needs credentials', async () => {
    const me = await registerUser(n1, {});
    for (const [params, pattern] of [
        [{ peer: 'abc' }, /peer/],
        [{ peer: 2, before: 'yesterday' }, /before/],
        [{ peer: 2, before: -5 }, /before/],
        [{ peer: 2, limit: 101 }, /limit/],
        [{ peer: 2, limit: 0 }, /limit/],
        [{ peer: 2, limit: 'ten' }, /limit/],
        [{ peer: { id: 2 } }, /peer/],
        [{}, /peer|group/],
    ]) {
        const res = await api(n1, '/message/history', params, { ...auth(me), json: true });
        assert.equal(res.status, 400, `${short(params)}: ${res.text}`);
        assert.match(res.body.msg, pattern);
        assert.doesNotMatch(res.text, /SQL|mysql|exception/i);
    }
    const anonymous = await api(n1, '/message/history', { peer: 2 }, { json: true });
    assert.equal(anonymous.status, 401);
    const stranger = await api(n1, '/message/conversations', {}, { id: me.id, token: 'not-a-token', json: true });
    assert.equal(stranger.status, 401);
});

// ---------------------------------------------------------------------------------------
// Retention

test('retention removes messages older than retention-days, and nothing newer', async () => {
    // A node whose clock is two days behind writes "old" messages; another node's job removes them.
    const past = await startNode({ nodeId: 15, busPort, uploadDir: n1.uploadDir, extraArgs: ['--clock-offset-ms', String(-2 * 86_400_000)] });
    const keeper = await startNode({ nodeId: 16, busPort, uploadDir: n1.uploadDir, extraArgs: ['--retention-days', '1', '--retention-interval', '1'] });
    try {
        const alice = await registerUser(past, {});
        const bob = await registerUser(n1, {});
        const old = await connect(past, alice);
        const fresh = await connect(n1, bob);
        await stream(old, 3, (i) => ({ cmd: 10, dstid: bob.id, media: 1, content: `old ${i}` }));
        const kept = await send(fresh, { cmd: 10, dstid: alice.id, media: 1, content: 'new' });
        await waitFor(async () => (await call(n1, '/message/history', bob, { peer: alice.id })).messages.length === 1, {
            timeoutMs: WAIT,
            what: 'the retention job',
        });
        const left = await call(n2, '/message/history', bob, { peer: alice.id });
        assert.deepEqual(left.messages.map((m) => m.id), [kept.id]);
        old.close();
        fresh.close();
    } finally {
        await Promise.all([past.stop(), keeper.stop()]);
    }
});

// ---------------------------------------------------------------------------------------
// Restarts (last: it stops every node of the file and the database)

async function db(command) {
    await run('bash', [`${repoDir}/scripts/db.sh`, command], { cwd: repoDir, timeout: 60_000 });
}

// Restarts the database that CHAT_DB_DIR names (scripts/test.sh sets it); without it, db.sh
// would act on the default folder, which is scripts/run.sh's database.
test('restarting every node and the database keeps the history, the positions and the unread counts', {
    skip: process.env.CHAT_DB_DIR ? false : 'CHAT_DB_DIR does not name the test database (run through scripts/test.sh)',
}, async () => {
    const alice = await registerUser(n1, {});
    const bob = await registerUser(n2, {});
    const group = await createGroup(n1, alice, 'survivors');
    await join(n3, bob, group);
    const a = await connect(n1, alice);
    const acks = await stream(a, 10, (i) => ({ cmd: i % 2 ? 11 : 10, dstid: i % 2 ? group : bob.id, media: 1, content: `keep ${i}` }));
    await call(n2, '/message/read', bob, { peer: alice.id, pos: acks[2].pos });
    const historyBefore = await call(n2, '/message/history', bob, { peer: alice.id });
    const listBefore = await call(n2, '/message/conversations', bob);
    a.close();

    await Promise.all([n1, n2, n3].map((n) => n.stop()));
    await db('stop');
    await db('start');
    const cluster = await startCluster(3, { busPort, firstNodeId: 21 });
    [n1, n2, n3] = cluster.nodes;

    assert.deepEqual(await call(n3, '/message/history', bob, { peer: alice.id }), historyBefore);
    assert.deepEqual(await call(n1, '/message/conversations', bob), listBefore);
    assert.deepEqual(listBefore.map((c) => c.unread).sort(), [3, 5]);
    // Devices resume from where they were, and new positions continue after the old ones.
    const b = await connect(n2, bob, { query: { since: acks[4].pos } });
    assert.deepEqual(chatFrames(b).map((f) => f.id), acks.slice(5).map((x) => x.id));
    const a2 = await connect(n3, alice);
    const more = await send(a2, { cmd: 10, dstid: bob.id, media: 1, content: 'after the restart' });
    assert.ok(more.pos > acks[9].pos);
    assert.equal((await b.next((f) => isChat(f) && f.id === more.id, WAIT)).pos, more.pos);
    a2.close();
    b.close();
});
