// Presence: a connection watches users (cmd 16) and is told, whichever node they use, when
// they come online (their first connection anywhere) and go offline (their last one closed,
// or their node gone). A node that joins the cluster learns who is already online.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { startCluster, startNode, registerUser, connect, sleep } from './lib/cluster.mjs';

const WAIT = 5000;
// Announcements are batched this long; watchers hear of a change within a couple of batches.
const BATCH_MS = 50;
let n1, n2, busPort, uploadDir;

before(async () => {
    const extraArgs = ['--presence-interval-ms', String(BATCH_MS), '--bus-peer-timeout', '1'];
    const cluster = await startCluster(2, { extraArgs });
    [n1, n2] = cluster.nodes;
    ({ busPort, uploadDir } = cluster);
});

const presence = (conn, from) => conn.frames.slice(from).filter((f) => f.cmd === 17);

// Sends a watch list; resolves with the answer's state.
async function watch(conn, ids) {
    const from = conn.frames.length;
    conn.send({ cmd: 16, watch: ids });
    await conn.next((f) => f.cmd === 17 && conn.frames.indexOf(f) >= from, WAIT);
    const answer = presence(conn, from)[0];
    return { online: [...answer.online].sort(), offline: [...answer.offline].sort() };
}

// Watches until the answer says `user` is online (announcements take a batch or two).
async function watchUntilOnline(conn, ids, user) {
    let state;
    for (let i = 0; i < 40; i++) {
        state = await watch(conn, ids);
        if (state.online.includes(user)) break;
        await sleep(BATCH_MS);
    }
    return state;
}

// Resolves with the next presence frame that says `user` is now `state` ('online' or 'offline').
function change(conn, user, state) {
    const from = conn.frames.length;
    return conn.next((f) => f.cmd === 17 && conn.frames.indexOf(f) >= from && f[state].includes(user), WAIT);
}

test('a watcher learns who is online on any node, and hears each change once', async () => {
    const alice = await registerUser(n1, {});
    const bob = await registerUser(n2, {});
    const carol = await registerUser(n2, {});
    const a = await connect(n1, alice);
    const c = await connect(n2, carol);
    await sleep(3 * BATCH_MS);
    assert.deepEqual(await watch(a, [carol.id, bob.id]), { online: [carol.id], offline: [bob.id] });

    const online = change(a, bob.id, 'online');
    const phone = await connect(n2, bob);
    assert.deepEqual((await online).online, [bob.id]);

    // A second device, then the first one gone: bob never looked offline.
    const laptop = await connect(n1, bob);
    const mark = a.frames.length;
    await phone.close();
    await sleep(6 * BATCH_MS);
    assert.deepEqual(presence(a, mark), [], 'no change while another device stays');

    const offline = change(a, bob.id, 'offline');
    await laptop.close();
    assert.deepEqual((await offline).offline, [bob.id]);
    assert.deepEqual(await watch(a, [bob.id, carol.id]), { online: [carol.id], offline: [bob.id] });
    a.close();
    c.close();
});

test('a node that joins learns who is online already, and a node that dies takes its users offline', async () => {
    const alice = await registerUser(n1, {});
    const dave = await registerUser(n2, {});
    const a = await connect(n1, alice);
    await sleep(3 * BATCH_MS);
    const late = await startNode({ nodeId: 5, busPort, uploadDir, extraArgs: ['--presence-interval-ms', String(BATCH_MS), '--bus-peer-timeout', '1'] });
    const d = await connect(late, dave);
    // The new node heard alice's node's whole list when it joined.
    assert.deepEqual(await watchUntilOnline(d, [alice.id], alice.id), { online: [alice.id], offline: [] });

    // Alice watches dave; dave's node dies without a word.
    assert.deepEqual(await watchUntilOnline(a, [dave.id], dave.id), { online: [dave.id], offline: [] });
    const gone = change(a, dave.id, 'offline');
    await late.kill9();
    assert.deepEqual((await gone).offline, [dave.id]);
    a.close();
});

test('a watch list that is not a list of user ids gets 99/400 and the connection stays usable', async () => {
    const alice = await registerUser(n1, {});
    const a = await connect(n1, alice);
    for (const bad of [{ cmd: 16, watch: 'all', id: 'w1' }, { cmd: 16, watch: [0], id: 'w2' }, { cmd: 16, watch: Array.from({ length: 1001 }, (_, i) => i + 1), id: 'w3' }]) {
        a.send(bad);
        const err = await a.next((f) => f.cid === bad.id, WAIT);
        assert.equal(err.cmd, 99);
        assert.equal(err.code, 400);
        assert.match(err.msg, /watch/);
    }
    assert.deepEqual(await watch(a, []), { online: [], offline: [] });
    a.close();
});
