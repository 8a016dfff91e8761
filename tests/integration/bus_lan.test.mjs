// The cluster bus on a real (virtual) LAN: three network namespaces joined by a bridge, one
// chat node in each broadcasting to the subnet, an extra namespace playing the attacker, and
// the test's clients in the host namespace (lib/lan.mjs). Proves that forged, tampered and
// replayed datagrams are rejected and counted; that under 5% loss, 5% duplication and
// reordering on every node's link thousands of messages arrive exactly once and in
// per-sender order; that a 60 KiB message crosses intact; and that a node killed with -9
// and restarted rejoins as a new incarnation while the others keep delivering.
// Needs root and iproute2/nftables; skipped (with a message) where namespaces cannot be made.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';

import { api, connect, metrics, registerUser, repoDir, sleep, startNode, tempDir, testBusKey, waitFor } from './lib/cluster.mjs';
import { createLan, netnsAvailable, startLanDb } from './lib/lan.mjs';

const NODE_COUNT = 3;
const USERS_PER_NODE = 2;
const BUS_PORT = 3999; // any port: the namespaces are ours alone
const WINDOW = 16; // frames a client may have unacknowledged
const GAP_CMD = 14;
// Long enough for the bus to have repaired anything (NAK interval 50 ms, a few rounds) so a
// late duplicate would have shown up.
const SETTLE_MS = 1500;

const namespaces = await netnsAvailable();
if (!namespaces.ok) console.log(`SKIPPED: network namespaces unavailable (${namespaces.reason})`);

let lan, db, agent, uploadDir;
let oldNode3Datagram; // captured from node 3 before it is killed
const nodes = []; // nodes[i] is node id i + 1; replaced when restarted
const people = []; // {user, nodeIndex, conn}
let group;

// ---------------------------------------------------------------------------------------
// The LAN's nodes

async function startLanNode(id) {
    const host = lan.host(String(id));
    return startNode({
        nodeId: id,
        host: host.address,
        busPort: BUS_PORT,
        busBroadcast: lan.broadcast,
        mysql: db.dsn,
        uploadDir,
        wrap: (bin, args) => lan.wrap(host.name, bin, args),
        extraArgs: ['--log-level', 'info'],
    });
}

async function busView(node) {
    const res = await fetch(`${node.adminUrl}/bus`);
    assert.equal(res.status, 200, `GET /bus of node ${node.nodeId}`);
    return res.json();
}

// Every node hears every other (current incarnation) and knows where its stream stands.
async function waitForMesh(timeoutMs = 10_000) {
    await waitFor(
        async () => {
            const views = await Promise.all(nodes.map(busView));
            return views.every((v) =>
                nodes.every((n) => {
                    if (n.nodeId === v.node) return true;
                    const self = views.find((w) => w.node === n.nodeId);
                    const peer = v.peers.find((p) => p.node === n.nodeId);
                    return peer && peer.synced && peer.incarnation === self.incarnation;
                }),
            );
        },
        { timeoutMs, intervalMs: 100, what: 'every node to hear every other node' },
    );
}

const dropped = (reason) => `chat_bus_datagrams_dropped_total{reason="${reason}"}`;
const snapshot = () => Promise.all(nodes.map((n) => metrics(n)));
const delta = (before, after, i, name) => (after[i][name] ?? 0) - (before[i][name] ?? 0);
const sum = (before, after, name) => nodes.reduce((s, _, i) => s + delta(before, after, i, name), 0);

// Waits until `name` grew by at least want[i] on node i, then a moment more so that an
// excess would show; resolves the final snapshot.
async function waitForCounts(before, name, want, what) {
    let last;
    await waitFor(
        async () => {
            last = await snapshot();
            return want.every((w, i) => delta(before, last, i, name) >= w);
        },
        { timeoutMs: 5000, what: `${what} (${name}: want ${JSON.stringify(want)})` },
    );
    await sleep(300);
    return snapshot();
}

// ---------------------------------------------------------------------------------------
// The attacker: an agent on the bus port in the extra namespace, and the datagram layout of
// src/proto/Datagram.hpp

async function startAgent() {
    const [file, args] = lan.wrap('x', process.execPath, [path.join(repoDir, 'tests/integration/lib/udp_agent.mjs'), String(BUS_PORT), lan.broadcast]);
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const events = [];
    const waiters = [];
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
        const event = JSON.parse(line);
        events.push(event);
        for (const w of [...waiters]) {
            if (w.pred(event)) {
                waiters.splice(waiters.indexOf(w), 1);
                clearTimeout(w.timer);
                w.resolve(event);
            }
        }
    });
    const a = {
        child,
        events,
        next(pred, timeoutMs = 5000) {
            const found = events.find(pred);
            if (found) return Promise.resolve(found);
            return new Promise((resolve, reject) => {
                const w = { pred, resolve };
                w.timer = setTimeout(() => {
                    waiters.splice(waiters.indexOf(w), 1);
                    reject(new Error(`agent: no matching event within ${timeoutMs} ms`));
                }, timeoutMs);
                waiters.push(w);
            });
        },
        capture(on) {
            child.stdin.write(JSON.stringify({ op: 'capture', on }) + '\n');
        },
        sendId: 0,
        async send(bytes) {
            const id = ++a.sendId;
            child.stdin.write(JSON.stringify({ op: 'send', id, hex: bytes.toString('hex') }) + '\n');
            const ack = await a.next((e) => e.event === 'sent' && e.id === id);
            assert.equal(ack.error, undefined, `agent could not send: ${ack.error}`);
        },
        stop() {
            child.stdin.end();
            return new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
        },
    };
    await a.next((e) => e.event === 'ready');
    return a;
}

const Kind = { Chat: 1, Heartbeat: 4, Notice: 7 };
const TargetKind = { User: 1, Group: 2 };
const HEADER = 64;
const keyIdOf = (key) => createHash('sha256').update(key).digest()[0];

function encodeDatagram(h, payload, key = testBusKey) {
    const head = Buffer.alloc(HEADER);
    head.write('CHAT', 0, 'latin1');
    head[4] = 5; // version
    head[5] = h.kind;
    head[6] = h.targetKind ?? 0;
    head[8] = h.keyId ?? keyIdOf(testBusKey);
    head.writeUInt32BE(h.origin, 12);
    head.writeBigUInt64BE(BigInt(h.incarnation), 16);
    head.writeBigUInt64BE(BigInt(h.seq), 24);
    head.writeUInt16BE(h.fragIndex ?? 0, 32);
    head.writeUInt16BE(h.fragCount ?? 1, 34);
    head.writeUInt32BE(payload.length, 36);
    head.writeBigInt64BE(BigInt(h.target ?? 0), 40);
    head.writeBigInt64BE(BigInt(h.sender ?? 0), 48);
    head.writeBigUInt64BE(BigInt(h.pos ?? 0), 56);
    const signed = Buffer.concat([head, payload]);
    return Buffer.concat([signed, createHmac('sha256', key).update(signed).digest()]);
}

function decodeHeader(bytes) {
    return {
        kind: bytes[5],
        origin: bytes.readUInt32BE(12),
        incarnation: bytes.readBigUInt64BE(16),
        seq: bytes.readBigUInt64BE(24),
        fragCount: bytes.readUInt16BE(34),
        payload: bytes.subarray(HEADER, bytes.length - 32).toString('utf8'),
    };
}

// The first captured sequenced datagram of `origin` whose payload contains `marker`.
async function captured(origin, marker) {
    const event = await agent.next((e) => {
        if (e.event !== 'datagram') return false;
        const h = decodeHeader(Buffer.from(e.hex, 'hex'));
        return h.kind === Kind.Chat && h.origin === origin && h.payload.includes(marker);
    });
    return Buffer.from(event.hex, 'hex');
}

// ---------------------------------------------------------------------------------------
// Traffic and its verdict

let runCounter = 0;

// Sends frames from one person keeping at most WINDOW unacknowledged; rejects on an error frame.
function sendAll(person, frames, timeoutMs) {
    return new Promise((resolve, reject) => {
        const inflight = new Set();
        let next = 0;
        let acked = 0;
        const finish = (err) => {
            clearTimeout(timer);
            person.conn.raw.off('message', onMessage);
            if (err) reject(err);
            else resolve();
        };
        const pump = () => {
            while (next < frames.length && inflight.size < WINDOW) {
                const frame = frames[next++];
                inflight.add(frame.id);
                person.conn.send(frame);
            }
            if (acked === frames.length) finish();
        };
        const onMessage = (data) => {
            const f = JSON.parse(data.toString('utf8'));
            if (f.cmd === 1 && inflight.delete(f.cid)) {
                acked++;
                pump();
            } else if (f.cmd === 99 && inflight.has(f.cid)) {
                finish(new Error(`user ${person.user.id} got an error for ${f.cid}: ${JSON.stringify(f)}`));
            }
        };
        const timer = setTimeout(() => finish(new Error(`user ${person.user.id}: ${acked}/${frames.length} acks within ${timeoutMs} ms`)), timeoutMs);
        person.conn.raw.on('message', onMessage);
        pump();
    });
}

// Every participant sends `singles` messages to every other participant and `groups` to the
// group, interleaved; each content names its stream and position. Then checks every
// receiver got every stream exactly once and in order. Resolves the number of deliveries.
async function exchange(participants, { singles, groups, timeoutMs = 90_000 }) {
    const tag = `run${++runCounter}`;
    const plans = participants.map((from) => {
        const frames = [];
        const counters = new Map();
        const add = (stream, frame) => {
            const n = (counters.get(stream) ?? 0) + 1;
            counters.set(stream, n);
            frames.push({ ...frame, id: `${tag}-${from.user.id}-${frames.length}`, media: 1, content: `${tag}|${from.user.id}|${stream}|${n}` });
        };
        const rounds = Math.max(singles, groups);
        for (let r = 0; r < rounds; r++) {
            if (r < groups) add('g', { cmd: 11, dstid: group.id });
            if (r < singles) for (const to of participants) if (to !== from) add(`u${to.user.id}`, { cmd: 10, dstid: to.user.id });
        }
        return { from, frames };
    });
    const expected = participants.length * (participants.length - 1) * (singles + groups);
    const received = () => participants.reduce((s, p) => s + p.conn.frames.filter((f) => typeof f.content === 'string' && f.content.startsWith(`${tag}|`)).length, 0);
    await Promise.all(plans.map((p) => sendAll(p.from, p.frames, timeoutMs)));
    await waitFor(() => received() >= expected, { timeoutMs, intervalMs: 100, what: `${expected} deliveries of ${tag} (have ${received()})` }).catch(
        () => {}, // the verdict below says what is missing
    );
    await sleep(SETTLE_MS);
    assert.deepEqual(verdict(participants, tag, singles, groups), [], 'deliveries not exactly once and in order');
    return expected;
}

function verdict(participants, tag, singles, groups) {
    const problems = [];
    for (const to of participants) {
        const streams = new Map();
        for (const f of to.conn.frames) {
            if (typeof f.content !== 'string' || !f.content.startsWith(`${tag}|`)) continue;
            const [, from, stream, n] = f.content.split('|');
            const key = `${from}|${stream}`;
            if (String(f.userid) !== from) problems.push(`user ${to.user.id}: ${f.content} claims sender ${f.userid}`);
            if (!streams.has(key)) streams.set(key, []);
            streams.get(key).push(Number(n));
        }
        for (const from of participants) {
            if (from === to) continue;
            for (const [stream, count] of [[`u${to.user.id}`, singles], ['g', groups]]) {
                const got = streams.get(`${from.user.id}|${stream}`) ?? [];
                const wanted = Array.from({ length: count }, (_, i) => i + 1);
                if (got.length === count && got.every((n, i) => n === i + 1)) continue;
                const seen = new Set();
                const dups = got.filter((n) => seen.has(n) || !seen.add(n));
                const missing = wanted.filter((n) => !seen.has(n));
                const inversions = got.filter((n, i) => i > 0 && n < got[i - 1]).length;
                problems.push(
                    `user ${to.user.id} from ${from.user.id} (${stream}): ${got.length}/${count} received, ` +
                        `duplicates [${dups.slice(0, 10)}], missing [${missing.slice(0, 10)}]${missing.length > 10 ? '...' : ''}, ${inversions} out of order`,
                );
            }
        }
        const gaps = to.conn.frames.filter((f) => f.cmd === GAP_CMD);
        const lost = gaps.reduce((s, f) => s + f.lost, 0);
        if (gaps.length) problems.push(`user ${to.user.id} was told ${gaps.length} times of lost messages (${lost} datagrams)`);
    }
    return problems;
}

async function connectPerson(p) {
    p.conn = await connect(nodes[p.nodeIndex], p.user);
}

// ---------------------------------------------------------------------------------------

describe('the bus on a LAN of network namespaces', { skip: !namespaces.ok && 'network namespaces unavailable' }, () => {
    before(async () => {
        lan = await createLan({ hosts: NODE_COUNT, extra: ['x'] });
        db = await startLanDb(lan);
        uploadDir = tempDir('chat-lan-upload-');
        for (let id = 1; id <= NODE_COUNT; id++) nodes.push(await startLanNode(id));
        await waitForMesh();
        for (let i = 0; i < NODE_COUNT * USERS_PER_NODE; i++) {
            const nodeIndex = i % NODE_COUNT;
            people.push({ user: await registerUser(nodes[nodeIndex]), nodeIndex });
        }
        const owner = people[0].user;
        const res = await api(nodes[0], '/contact/createcommunity', { name: 'lan' }, { id: owner.id, token: owner.token });
        assert.equal(res.status, 200, res.text);
        group = res.body.data;
        for (const p of people.slice(1)) {
            const joined = await api(nodes[p.nodeIndex], '/contact/joincommunity', { dstid: group.id }, { id: p.user.id, token: p.user.token });
            assert.equal(joined.status, 200, joined.text);
        }
        await Promise.all(people.map(connectPerson));
        agent = await startAgent();
    });

    after(async () => {
        await agent?.stop();
        for (const p of people) p.conn?.terminate();
        await Promise.all(nodes.map((n) => n.stop()));
        await db?.stop();
        if (lan) {
            await lan.destroy();
            assert.deepEqual(lan.leftovers(), [], 'namespaces or links of this test left behind');
        }
    });

    // people[0] and [3] are on node 1, [1] and [4] on node 2, [2] and [5] on node 3.
    const onNode = (i, k = 0) => people[i + NODE_COUNT * k];

    test('a datagram crafted with the cluster key is accepted, one with a bad MAC is rejected and counted', async () => {
        const [a, b] = [onNode(0), onNode(1)];
        const phantom = { origin: 42, incarnation: 1000n };
        // A notice for b: delivered as soon as the bus accepts it. (A chat message would also
        // need a stream position that the history can vouch for.)
        const payload = (text) => Buffer.from(JSON.stringify({ cmd: 15, peer: a.user.id, pos: 1, content: text }));
        const chat = (seq, text) => ({ ...phantom, kind: Kind.Notice, targetKind: TargetKind.User, seq, target: b.user.id, sender: b.user.id, text });

        // Control: the layout is right, so what follows is rejected for its MAC alone.
        // Its first heartbeat (number 1 of its run), answering node 2's run: node 2 joins its
        // stream there, after seq 0. (A heartbeat that answers nobody would not do.)
        const node2 = await busView(nodes[1]);
        const answer = { kind: Kind.Heartbeat, seq: 0, pos: 1, target: 2, sender: BigInt(node2.incarnation) };
        await agent.send(encodeDatagram({ ...phantom, ...answer }, Buffer.alloc(0)));
        await agent.send(encodeDatagram(chat(1), payload('crafted-good-1')));
        await b.conn.next((f) => f.content === 'crafted-good-1');

        const before = await snapshot();
        await agent.send(encodeDatagram(chat(2), payload('crafted-wrong-key'), 'a-key-that-is-not-the-cluster-key'));
        const tampered = encodeDatagram(chat(2), payload('crafted-tampered'));
        tampered[tampered.indexOf('tampered')] ^= 0x20; // 't' -> 'T' after signing
        await agent.send(tampered);
        const after = await waitForCounts(before, dropped('bad_mac'), [2, 2, 2], 'bad MACs counted');
        for (let i = 0; i < NODE_COUNT; i++) assert.equal(delta(before, after, i, dropped('bad_mac')), 2, `bad_mac on node ${i + 1}`);

        // Neither reached a client, and the phantom's stream still waits for its real seq 2.
        await agent.send(encodeDatagram(chat(2), payload('crafted-good-2')));
        await b.conn.next((f) => f.content === 'crafted-good-2');
        assert.deepEqual(b.conn.frames.filter((f) => /crafted-(wrong|tampered|Tampered)/.test(f.content ?? '')), []);
    });

    test('a replay of a captured good datagram is rejected and counted, and delivered to nobody', async () => {
        const [a, b, c] = [onNode(0), onNode(1), onNode(2)];
        agent.capture(true);
        a.conn.send({ id: 'replay-1', cmd: 10, dstid: b.user.id, media: 1, content: 'replay-me' });
        c.conn.send({ id: 'replay-2', cmd: 10, dstid: a.user.id, media: 1, content: 'node-3-original' });
        await b.conn.next((f) => f.content === 'replay-me');
        await a.conn.next((f) => f.content === 'node-3-original');
        const good = await captured(1, 'replay-me');
        oldNode3Datagram = await captured(3, 'node-3-original');
        agent.capture(false);

        const before = await snapshot();
        await agent.send(good);
        // Node 1 drops it as its own echo (like its heartbeats): no count of its own to check.
        const after = await waitForCounts(before, dropped('replay'), [0, 1, 1], 'replays counted');
        assert.equal(delta(before, after, 1, dropped('replay')), 1, 'replay on node 2');
        assert.equal(delta(before, after, 2, dropped('replay')), 1, 'replay on node 3');
        assert.equal(b.conn.frames.filter((f) => f.content === 'replay-me').length, 1, 'delivered exactly once');
    });

    test('datagrams with a forged origin or incarnation, sent from another namespace, are rejected and counted', async () => {
        const b = onNode(1);
        const good = await captured(1, 'replay-me');
        const node2 = await busView(nodes[1]);

        // Node 1's datagram claimed by node 2, by a "restarted" node 2, and by a stranger.
        const forged = [
            { origin: 2, incarnation: BigInt(node2.incarnation) },
            { origin: 2, incarnation: BigInt(node2.incarnation) + 1000n },
            { origin: 7, incarnation: 5n },
        ].map(({ origin, incarnation }) => {
            const bytes = Buffer.from(good);
            bytes.writeUInt32BE(origin, 12);
            bytes.writeBigUInt64BE(incarnation, 16);
            return bytes;
        });
        const before = await snapshot();
        for (const bytes of forged) await agent.send(bytes);
        // Node 2 takes the first for the echo of its own broadcast and drops it unverified.
        const after = await waitForCounts(before, dropped('bad_mac'), [3, 2, 3], 'forgeries counted');
        assert.deepEqual([0, 1, 2].map((i) => delta(before, after, i, dropped('bad_mac'))), [3, 2, 3]);

        for (const v of await Promise.all(nodes.map(busView))) {
            assert.equal(v.peers.some((p) => p.node === 7), false, `node ${v.node} lists the stranger`);
            const seen = v.peers.find((p) => p.node === 2);
            if (v.node !== 2) assert.equal(seen?.incarnation, node2.incarnation, `node ${v.node}'s view of node 2`);
        }
        assert.equal(b.conn.frames.filter((f) => f.content === 'replay-me').length, 1, 'no forged copy delivered');
    });

    test('under 5% loss, 5% duplication and reordering, thousands of messages arrive exactly once and in order', async (t) => {
        await lan.impair(BUS_PORT, { loss: 0.05, dup: 0.05, reorder: 0.05 });
        const before = await snapshot();
        const started = Date.now();
        const deliveries = await exchange(people, { singles: 60, groups: 150 });
        const after = await snapshot();
        const reordered = await lan.reorderedPackets();
        t.diagnostic(
            `${deliveries} deliveries in ${Date.now() - started} ms; datagrams sent ${sum(before, after, 'chat_bus_datagrams_sent_total')}, ` +
                `NAKs ${sum(before, after, 'chat_bus_naks_sent_total')}, retransmits ${sum(before, after, 'chat_bus_retransmits_total')}, ` +
                `duplicates dropped ${sum(before, after, dropped('replay'))}, reordered ${reordered}`,
        );
        assert.ok(deliveries >= 6000, `${deliveries} deliveries`);
        // The links really were impaired, and the bus repaired them without giving up anything.
        assert.ok(sum(before, after, 'chat_bus_naks_sent_total') > 0, 'no NAKs: no loss?');
        assert.ok(sum(before, after, 'chat_bus_retransmits_total') > 0, 'no retransmits');
        assert.ok(sum(before, after, dropped('replay')) > 0, 'no duplicates dropped: no duplication?');
        assert.ok(reordered > 0, 'nothing went through the reordering class');
        assert.equal(sum(before, after, 'chat_bus_lost_total'), 0, 'datagrams given up');
    });

    test('a 60 KiB message crosses the cluster intact under loss, to one user and to a group', async () => {
        const sender = onNode(0);
        const others = people.filter((p) => p !== sender);
        const before = await snapshot();
        for (let k = 0; k < 3; k++) {
            const big = bigMessage(k);
            sender.conn.send({ id: `big-${k}`, cmd: 10, dstid: onNode(1).user.id, ...big });
            sender.conn.send({ id: `big-g-${k}`, cmd: 11, dstid: group.id, ...big });
            for (const cid of [`big-${k}`, `big-g-${k}`]) {
                const ack = await sender.conn.next((f) => f.cid === cid, 10_000);
                assert.equal(ack.cmd, 1, JSON.stringify(ack));
            }
            for (const p of others) {
                const wanted = p === onNode(1) ? 2 : 1;
                await waitFor(() => p.conn.frames.filter((f) => f.url === big.url).length >= wanted, {
                    timeoutMs: 20_000,
                    what: `big message ${k} at user ${p.user.id}`,
                });
            }
        }
        await sleep(SETTLE_MS);
        for (let k = 0; k < 3; k++) {
            const big = bigMessage(k);
            for (const p of others) {
                const got = p.conn.frames.filter((f) => f.url === big.url);
                assert.equal(got.length, p === onNode(1) ? 2 : 1, `copies of big message ${k} at user ${p.user.id}`);
                for (const f of got) {
                    assert.ok(f.content === big.content && f.memo === big.memo && f.pic === big.pic, `big message ${k} altered`);
                    assert.ok(JSON.stringify(f).length >= 58 * 1024, `only ${JSON.stringify(f).length} bytes`);
                }
            }
        }
        const after = await snapshot();
        assert.ok(sum(before, after, 'chat_bus_naks_sent_total') > 0, 'no fragment was lost and repaired?');
        assert.equal(sum(before, after, 'chat_bus_lost_total'), 0, 'datagrams given up');
    });

    // Its clock is set back meanwhile: its previous run looks an hour ahead of it. MariaDB
    // numbers the new run past the old one all the same, and the others take it for a restart.
    test('a node killed with -9 and restarted with its clock set back rejoins as a new incarnation; the others keep delivering', async () => {
        const victim = nodes[2];
        const oldIncarnation = (await busView(victim)).incarnation;
        const hourAhead = oldIncarnation + 3_600_000_000; // µs
        const survivors = people.filter((p) => p.nodeIndex !== 2);
        const stranded = people.filter((p) => p.nodeIndex === 2);
        await victim.kill9();
        await Promise.all(stranded.map((p) => p.conn.closed));

        await exchange(survivors, { singles: 20, groups: 40 });

        const stored = await db.sql('SELECT incarnation FROM node_runs WHERE node = 3');
        assert.equal(Number(stored.trim()), oldIncarnation, 'the run that ended was numbered in MariaDB');
        await db.sql(`UPDATE node_runs SET incarnation = ${hourAhead} WHERE node = 3`);
        nodes[2] = await startLanNode(3);
        const restarted = await busView(nodes[2]);
        assert.equal(restarted.incarnation, hourAhead + 1, `incarnation ${restarted.incarnation} after ${hourAhead}`);
        await waitForMesh(); // nodes 1 and 2 now list node 3 with its new incarnation
        for (const v of await Promise.all(nodes.slice(0, 2).map(busView))) {
            assert.equal(v.peers.find((p) => p.node === 3).incarnation, restarted.incarnation, `node ${v.node}'s view of node 3`);
        }

        // A datagram of node 3's previous run is stale now (sent a few times: the links lose 5%).
        const before = await snapshot();
        for (let i = 0; i < 5; i++) await agent.send(oldNode3Datagram);
        await waitForCounts(before, dropped('stale'), [1, 1, 0], 'stale datagrams counted');
        assert.equal(onNode(0).conn.frames.filter((f) => f.content === 'node-3-original').length, 1);

        // Its users come back and everyone, old and new, exchanges messages exactly once.
        await Promise.all(stranded.map(connectPerson));
        await exchange(people, { singles: 20, groups: 40 });
    });
});

// A message of ~58 KiB as clients receive it (each control character is 6 bytes of JSON),
// different for each k so that a mixed-up reassembly shows.
function bigMessage(k) {
    const alphabet = [1, 2, 3, 4, 5, 6, 7, 11, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31];
    const text = (n, seed) =>
        Array.from({ length: n }, (_, i) => String.fromCharCode(alphabet[(i * 7 + (i >> 5) + seed) % alphabet.length])).join('');
    return {
        media: 2,
        content: text(8192, k),
        memo: text(1024, k + 11),
        url: `/asset/big-${k}-${'u'.repeat(2048 - 13 - String(k).length)}`,
        pic: `/asset/pic-${k}-${'p'.repeat(2048 - 13 - String(k).length)}`,
    };
}
