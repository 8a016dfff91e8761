// The WebSocket endpoint of one node, driven by an independent client (npm `ws`):
// who may connect, what a frame must look like, who receives what, and how bad or slow
// clients are dealt with. Every test makes its own users; the nodes are shared per file
// (a main one, one with a small send queue, one to shut down).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

import { freePort, startNode, api, registerUser, connect, metrics, sleep } from './lib/cluster.mjs';

const MAX_FRAME = 16 * 1024;
const BAD_FRAMES_MAX = 40;
const NO_SUCH_ID = 2 ** 52;  // a user / group id no test ever creates
const WAIT = 3000;

// Nodes and sockets still open at the end (also after a failure) are stopped by the
// harness's after() hook.
let main;  // --max-frame 16K --bad-frames-max 40

before(async () => {
    main = await startNode({
        nodeId: 1,
        busPort: await freePort(),
        extraArgs: ['--max-frame', '16K', '--bad-frames-max', String(BAD_FRAMES_MAX), '--bad-frames-window', '10'],
    });
});

// ---------------------------------------------------------------------------------------
// Helpers

let cidCounter = 0;
const nextCid = (prefix = 'c') => `${prefix}-${++cidCounter}`;
const short = (v) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return s.length > 300 ? `${s.slice(0, 300)}... (${s.length} chars)` : s;
};

// Resolves with the first non-undefined value of probe(), re-evaluated as frames arrive;
// rejects naming what was awaited on timeout or close.
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

// The first frame at index >= from that satisfies pred.
function waitFor(conn, pred, what, { from = 0, timeoutMs = WAIT } = {}) {
    let i = from;
    return watch(conn, () => {
        for (; i < conn.frames.length; i++) if (pred(conn.frames[i])) return conn.frames[i];
        return undefined;
    }, what, timeoutMs, from);
}

// Resolves once cond() holds.
const waitUntil = (conn, cond, what, timeoutMs = WAIT) => watch(conn, () => (cond() ? true : undefined), what, timeoutMs);

const isAck = (cid) => (f) => f.cmd === 1 && f.cid === cid;
const isError = (cid) => (f) => f.cmd === 99 && f.cid === cid;
const isChat = (content) => (f) => (f.cmd === 10 || f.cmd === 11) && f.content === content;
const chatFrames = (conn, from = 0) => conn.frames.slice(from).filter((f) => f.cmd === 10 || f.cmd === 11);

// Connects and waits until the session reads frames: a group send to a group that does not
// exist is refused with 403 only once the session is registered and its groups are loaded.
async function open(node, user, opts) {
    const conn = await connect(node, user, opts);
    const cid = nextCid('probe');
    conn.send({ id: cid, cmd: 11, dstid: NO_SUCH_ID, media: 1, content: 'probe' });
    const err = await waitFor(conn, isError(cid), `the 403 answering probe ${cid}`);
    assert.equal(err.code, 403, `probe answer: ${short(err)}`);
    return conn;
}

// Sends a frame with a fresh client id and returns {ack, cid, frame}.
async function sendOk(conn, frame, what = 'message') {
    const cid = frame.id ?? nextCid();
    const full = { ...frame, id: cid };
    const from = conn.frames.length;
    conn.send(full);
    const reply = await waitFor(conn, (f) => (f.cmd === 1 || f.cmd === 99) && f.cid === cid, `ack of ${what} (${cid})`, { from });
    assert.equal(reply.cmd, 1, `expected an ack for ${what}, got ${short(reply)}`);
    return { ack: reply, cid, frame: full };
}

// Sends a frame expected to be refused; returns the cmd 99 reply.
async function sendBad(conn, frame, what) {
    const from = conn.frames.length;
    conn.raw.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    return waitFor(conn, (f) => f.cmd === 99 || f.cmd === 1, `error for ${what}`, { from });
}

// What a recipient must receive for `sent` (a client frame) acknowledged with `ack`.
function stamped(sent, ack, senderId) {
    const out = { id: ack.id, userid: senderId, cmd: sent.cmd, dstid: Number(sent.dstid), media: sent.media };
    for (const k of ['content', 'pic', 'url', 'memo', 'amount']) if (k in sent) out[k] = sent[k];
    out.createat = ack.createat;
    out.pos = ack.pos;  // the message's place in the stream, the same for the sender and every recipient
    return out;
}

async function receivesStamped(conn, sent, ack, senderId, who) {
    const got = await waitFor(conn, (f) => f.id === ack.id && f.cmd !== 1, `delivery of message ${ack.id} to ${who}`);
    assert.deepEqual(got, stamped(sent, ack, senderId), `${who} got the message altered`);
    return got;
}

// Tries an upgrade; resolves {status: 101} if it opened, else the refusal's status and body.
async function tryUpgrade(node, user, opts = {}) {
    try {
        const conn = await connect(node, user, opts);
        await conn.close();
        return { status: 101 };
    } catch (e) {
        if (e.status === undefined) throw e;
        return { status: e.status, body: e.body };
    }
}

async function metricValue(node, name) {
    const m = await metrics(node);
    assert.ok(name in m, `metric ${name} missing; have: ${Object.keys(m).join(', ')}`);
    return m[name];
}

async function waitClosed(conn, what, timeoutMs = WAIT) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: connection still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
        return await Promise.race([conn.closed, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

// Proves a connection is alive and its reader in sync: a heartbeat (which must produce
// nothing) followed by a good message that `to` receives.
async function stillWorks(conn, sender, to, toConn) {
    const from = conn.frames.length;
    conn.send({ cmd: 0 });
    const sent = { cmd: 10, dstid: to.id, media: 1, content: `alive ${nextCid()}` };
    const { ack, frame } = await sendOk(conn, sent, 'a good message after errors');
    const since = conn.frames.slice(from);
    assert.deepEqual(since, [ack], `heartbeat answered or stray frames: ${short(since)}`);
    await receivesStamped(toConn, frame, ack, sender.id, 'the recipient');
}

// ---------------------------------------------------------------------------------------
// Who may connect

test('upgrade without a token, with a bad token, or with an id not the token owner is refused with 401', async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const cases = [
        ['no token', { id: a.id }],
        ['nothing at all', {}],
        ['bad token', { id: a.id, token: 'f'.repeat(a.token.length) }],
        ['bad token without id', { token: 'not-a-token' }],
        ['empty token', { id: a.id, token: '' }],
        ["id not the token's user", { id: b.id, token: a.token }],
        ['malformed id', { id: '12abc', token: a.token }],
    ];
    for (const [what, query] of cases) {
        const r = await tryUpgrade(main, null, { query });
        assert.equal(r.status, 401, `${what}: expected 401, got ${r.status} ${r.body ?? ''}`);
        assert.deepEqual(JSON.parse(r.body), { code: -1, msg: 'invalid or missing credentials' }, `${what}: body`);
    }
    // A bad bearer header is refused too; a good one alone is enough.
    const bad = await tryUpgrade(main, null, { headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401, 'bad bearer token');
    const good = await tryUpgrade(main, null, { headers: { authorization: `Bearer ${a.token}` } });
    assert.equal(good.status, 101, 'a valid bearer token alone opens the socket');
    const ownBearer = await tryUpgrade(main, b, { bearer: true });
    assert.equal(ownBearer.status, 101, "b's own bearer token with b's id opens the socket");
    const wrongBearer = await tryUpgrade(main, null, { query: { id: b.id }, headers: { authorization: `Bearer ${a.token}` } });
    assert.equal(wrongBearer.status, 401, "a's bearer token with b's id");
    const ok = await tryUpgrade(main, a);
    assert.equal(ok.status, 101, 'id and token in the query open the socket');
});

test('Origin equal to Host is allowed, a foreign Origin refused with 403, no Origin allowed', async () => {
    const a = await registerUser(main, {});
    const host = new URL(main.wsUrl).host;  // what `ws` sends as Host
    const same = await tryUpgrade(main, a, { origin: `http://${host}` });
    assert.equal(same.status, 101, `Origin http://${host} with Host ${host}`);
    const evil = await tryUpgrade(main, a, { origin: 'http://evil.example' });
    assert.equal(evil.status, 403, `foreign Origin: ${evil.status} ${evil.body ?? ''}`);
    const otherPort = await tryUpgrade(main, a, { origin: `http://${new URL(main.wsUrl).hostname}:1` });
    assert.equal(otherPort.status, 403, 'the same host on another port is another origin');
    const none = await tryUpgrade(main, a, {});
    assert.equal(none.status, 101, 'no Origin (a non-browser client)');
    // An allowed Origin works for chatting, not only for the handshake.
    const conn = await open(main, a, { origin: `http://${host}` });
    conn.close();
});

// ---------------------------------------------------------------------------------------
// What the sender and the recipients get

test("a spoofed userid is overwritten with the sender's id", async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const ca = await open(main, a);
    const cb = await open(main, b);
    try {
        const sent = { cmd: 10, dstid: b.id, media: 1, content: 'who am I', userid: b.id };
        const { ack, frame } = await sendOk(ca, sent);
        const { userid, ...withoutSpoof } = frame;
        const got = await receivesStamped(cb, withoutSpoof, ack, a.id, 'b');
        assert.equal(got.userid, a.id);
        // And a userid naming nobody at all.
        const sent2 = { cmd: 10, dstid: b.id, media: 1, content: 'again', userid: 'admin' };
        const r2 = await sendOk(ca, sent2);
        const got2 = await waitFor(cb, isChat('again'), 'second spoofed message');
        assert.equal(got2.userid, a.id);
        assert.equal(got2.id, r2.ack.id);
    } finally {
        ca.close();
        cb.close();
    }
});

test('the ack echoes string and number client ids; ids are safe integers increasing with time', async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const ca = await open(main, a);
    const cb = await open(main, b);
    try {
        const raw = [];
        ca.raw.on('message', (d) => raw.push(String(d)));
        const before = Date.now();
        const acks = [];
        for (const cid of ['abc', 42, 'x'.repeat(64), 0, 'ünï 🎉', 7]) {
            const from = ca.frames.length;
            ca.send({ id: cid, cmd: 10, dstid: b.id, media: 1, content: `cid ${JSON.stringify(cid)}` });
            const ack = await waitFor(ca, (f) => f.cmd === 1 || f.cmd === 99, `ack for cid ${JSON.stringify(cid)}`, { from });
            assert.deepEqual(Object.keys(ack).sort(), ['cid', 'cmd', 'createat', 'id', 'pos'], `ack fields: ${short(ack)}`);
            assert.ok(Number.isSafeInteger(ack.pos) && ack.pos > 0, `ack position: ${short(ack)}`);
            assert.equal(ack.cmd, 1);
            assert.strictEqual(ack.cid, cid, 'cid echoed with its JSON type');
            acks.push(ack);
        }
        // A frame without a client id gets an ack without cid.
        const from = ca.frames.length;
        ca.send({ cmd: 10, dstid: b.id, media: 1, content: 'no cid' });
        const bare = await waitFor(ca, (f) => f.cmd === 1 || f.cmd === 99, 'ack without cid', { from });
        assert.deepEqual(Object.keys(bare).sort(), ['cmd', 'createat', 'id', 'pos'], `ack fields: ${short(bare)}`);
        acks.push(bare);
        const afterMs = Date.now();

        for (let i = 0; i < acks.length; i++) {
            const { id, createat } = acks[i];
            assert.ok(Number.isSafeInteger(id) && id > 0, `id ${id} is a positive integer < 2^53`);
            if (i > 0) assert.ok(id > acks[i - 1].id, `ids increase: ${acks[i - 1].id} then ${id}`);
            if (i > 0) assert.ok(createat >= acks[i - 1].createat, 'createat never goes back');
            assert.ok(createat >= before - 1000 && createat <= afterMs + 1000, `createat ${createat} is now (ms)`);
        }
        // The digits on the wire, not just what JSON.parse made of them.
        for (const text of raw.filter((t) => t.includes('"cmd":1'))) {
            const digits = /"id":(\d+)/.exec(text)?.[1];
            assert.ok(digits && BigInt(digits) < 2n ** 53n, `wire id ${digits} < 2^53 in ${text}`);
        }
        const got = await waitFor(cb, isChat('no cid'), 'the message without cid');
        assert.equal(got.id, bare.id);
        assert.ok(!('cid' in got), 'recipients never see the client id');
    } finally {
        ca.close();
        cb.close();
    }
});

test('a message to a user who does not exist gets 99/404 and the connection stays usable', async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const ca = await open(main, a);
    const cb = await open(main, b);
    try {
        const err = await sendBad(ca, { id: 'ghost', cmd: 10, dstid: NO_SUCH_ID, media: 1, content: 'hello?' }, 'unknown user');
        assert.deepEqual(err, { cmd: 99, code: 404, msg: 'no such user', cid: 'ghost' });
        const err2 = await sendBad(ca, { id: 77, cmd: 10, dstid: String(NO_SUCH_ID + 1), media: 1, content: 'x' }, 'unknown user (string id)');
        assert.deepEqual(err2, { cmd: 99, code: 404, msg: 'no such user', cid: 77 });
        await stillWorks(ca, a, b, cb);
    } finally {
        ca.close();
        cb.close();
    }
});

test('a group message from a non-member gets 99/403 and reaches no member', async () => {
    const owner = await registerUser(main, {});
    const outsider = await registerUser(main, {});
    const g = await api(main, '/contact/createcommunity', { name: 'closed club' }, { token: owner.token, id: owner.id });
    assert.equal(g.status, 200, `createcommunity: ${short(g.body)}`);
    const co = await open(main, owner);
    const cx = await open(main, outsider);
    try {
        const err = await sendBad(cx, { id: 'g1', cmd: 11, dstid: g.body.data.id, media: 1, content: 'let me in' }, 'non-member send');
        assert.deepEqual(err, { cmd: 99, code: 403, msg: 'not a member of this group', cid: 'g1' });
        // The owner's next chat frame is the outsider's later, legitimate direct message.
        const from = co.frames.length;
        const { ack, frame } = await sendOk(cx, { cmd: 10, dstid: owner.id, media: 1, content: 'sorry' });
        await receivesStamped(co, frame, ack, outsider.id, 'the owner');
        assert.deepEqual(chatFrames(co, from).map((f) => f.content), ['sorry'], 'the refused group message leaked');
    } finally {
        co.close();
        cx.close();
    }
});

// ---------------------------------------------------------------------------------------
// Invalid frames

const URL_OK = 'https://example.com/x.png';
const INVALID = [
    // [what, frame (object or raw text), field the message must name]
    ['malformed JSON', '{"cmd":10,"dstid":', /malformed JSON/i],
    ['a JSON array', '[10, 1]', /object|invalid frame/i],
    ['a JSON string', '"hello"', /object|invalid frame/i],
    ['unknown cmd', { cmd: 13, media: 1, content: 'x' }, /cmd/],
    ['cmd as a string', { cmd: '10', media: 1, content: 'x' }, /cmd/],
    ['dstid as an object', { cmd: 10, dstid: { id: 1 }, media: 1, content: 'x' }, /dstid/],
    ['dstid missing', { cmd: 10, dstid: undefined, media: 1, content: 'x' }, /dstid/],
    ['dstid negative', { cmd: 10, dstid: -3, media: 1, content: 'x' }, /dstid/],
    ['dstid not digits', { cmd: 10, dstid: '12abc', media: 1, content: 'x' }, /dstid/],
    ['dstid fractional', { cmd: 10, dstid: 1.5, media: 1, content: 'x' }, /dstid/],
    ['media as the string "x"', { cmd: 10, media: 'x', content: 'x' }, /media/],
    ['media 10 (unknown)', { cmd: 10, media: 10, content: 'x' }, /media/],
    ['media missing', { cmd: 10, content: 'x' }, /media/],
    ['content as a number', { cmd: 10, media: 1, content: 5 }, /content/],
    ['text without content', { cmd: 10, media: 1 }, /content/],
    ['news without url', { cmd: 10, media: 2, content: 'title' }, /url/],
    ['news without content', { cmd: 10, media: 2, url: URL_OK }, /content/],
    ['voice with amount 0', { cmd: 10, media: 3, url: '/mnt/a.ogg', amount: 0 }, /amount/],
    ['voice without url', { cmd: 10, media: 3, amount: 3 }, /url/],
    ['voice with amount as a string', { cmd: 10, media: 3, url: '/mnt/a.ogg', amount: '3' }, /amount/],
    ['image without url', { cmd: 10, media: 4 }, /url/],
    ['image with url as a number', { cmd: 10, media: 4, url: 7 }, /url/],
    ['red packet with a negative amount', { cmd: 10, media: 5, amount: -100 }, /amount/],
    ['red packet without amount', { cmd: 10, media: 5, memo: 'gift' }, /amount/],
    ['red packet with amount 2^31', { cmd: 10, media: 5, amount: 2 ** 31 }, /amount/],
    ['red packet with a fractional amount', { cmd: 10, media: 5, amount: 1.5 }, /amount/],
    ['emoji with neither content nor url', { cmd: 10, media: 6 }, /content|url/],
    ['link without url', { cmd: 10, media: 7, content: 'see' }, /url/],
    ['video without url', { cmd: 10, media: 8, pic: '/mnt/p.png' }, /url/],
    ['contact card without content', { cmd: 10, media: 9, memo: 'friend' }, /content/],
    ['custom without content', { cmd: 10, media: 100 }, /content/],
    ['memo as an object', { cmd: 10, media: 5, amount: 1, memo: {} }, /memo/],
    ['javascript: url', { cmd: 10, media: 4, url: 'javascript:alert(1)' }, /url/],
    ['JaVaScRiPt: link', { cmd: 10, media: 7, url: 'JaVaScRiPt:alert(1)' }, /url/],
    ['data: url', { cmd: 10, media: 4, url: 'data:image/png;base64,iVBORw0KGgo=' }, /url/],
    ['//evil url', { cmd: 10, media: 7, url: '//evil.example/x' }, /url/],
    ['data: pic on news', { cmd: 10, media: 2, content: 't', url: URL_OK, pic: 'data:text/html,<b>' }, /pic/],
    ['//evil pic on video', { cmd: 10, media: 8, url: '/mnt/v.mp4', pic: '//evil.example/p.png' }, /pic/],
    ['ftp: url', { cmd: 10, media: 8, url: 'ftp://example.com/v.mp4' }, /url/],
    ['/mnt/ path climbing out', { cmd: 10, media: 4, url: '/mnt/../etc/passwd' }, /url/],
    ['content of 8193 characters', { cmd: 10, media: 1, content: 'c'.repeat(8193) }, /content/],
    ['memo of 1025 characters', { cmd: 10, media: 5, amount: 1, memo: 'm'.repeat(1025) }, /memo/],
    ['url of 2049 characters', { cmd: 10, media: 4, url: 'https://e.example/' + 'u'.repeat(2049 - 18) }, /url/],
    ['client id longer than 64', { id: 'x'.repeat(65), cmd: 10, media: 1, content: 'x' }, /\bid\b/],
    ['client id as an object', { id: { a: 1 }, cmd: 10, media: 1, content: 'x' }, /\bid\b/],
];

test('every invalid frame gets a cmd 99 / 400 naming the problem, and the connection stays usable', async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const cb = await open(main, b);
    const conns = [];
    try {
        // Fewer bad frames per connection than --bad-frames-max.
        for (let start = 0; start < INVALID.length; start += 15) {
            const ca = await open(main, a);
            conns.push(ca);
            for (const [what, frame, names] of INVALID.slice(start, start + 15)) {
                let text = frame;
                let cid;  // the client id the error must echo, when the frame has a valid one
                if (typeof frame !== 'string') {
                    const full = { ...frame };
                    if (!('dstid' in frame)) full.dstid = b.id;
                    if (full.dstid === undefined) delete full.dstid;
                    if (!('id' in frame)) full.id = cid = nextCid('bad');
                    text = JSON.stringify(full);
                }
                const err = await sendBad(ca, text, what);
                assert.equal(err.cmd, 99, `${what}: expected cmd 99, got ${short(err)}`);
                assert.equal(err.code, 400, `${what}: code`);
                assert.match(err.msg, names, `${what}: msg "${err.msg}" should name the problem`);
                assert.doesNotMatch(err.msg, /exception|nlohmann|parse_error|what\(\)/i, `${what}: internals in msg`);
                if (cid !== undefined) assert.equal(err.cid, cid, `${what}: cid echoed`);
                if (typeof frame === 'string') assert.ok(!('cid' in err), `${what}: no cid to echo, got ${short(err)}`);
            }
            await stillWorks(ca, a, b, cb);
        }
        assert.deepEqual(chatFrames(cb).map((f) => f.content).filter((c) => !c.startsWith('alive ')), [],
                         'no invalid frame was delivered');
    } finally {
        for (const c of conns) c.close();
        cb.close();
    }
});

test('valid frames of every media type are accepted (the validator is not too strict)', async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const ca = await open(main, a);
    const cb = await open(main, b);
    try {
        const good = [
            { media: 1, content: 'x' },
            { media: 2, content: 'title', url: 'http://example.com/a?b=c', pic: '/asset/p.png', memo: 'sum' },
            { media: 3, url: '/mnt/a.ogg', amount: 1 },
            { media: 4, url: 'https://example.com/i.png?size=2&x=%20y' },
            { media: 5, amount: 2 ** 31 - 1 },
            { media: 6, url: '/asset/e.gif' },
            { media: 6, content: '😀' },
            { media: 7, url: 'https://example.com/' },
            { media: 8, url: '/mnt/v.mp4' },
            { media: 9, content: String(a.id) },
            { media: 100, content: '{"k":1}' },
            // Limits count characters, not bytes: 8192 characters in 12 KB.
            { media: 1, content: 'aé'.repeat(4096) },
            { media: 5, amount: 1, memo: '€'.repeat(1024) },
            { media: 4, url: 'https://e.example/' + 'u'.repeat(2048 - 18) },
            { media: 1, content: 'x', id: 'ü'.repeat(64) },
        ];
        for (const g of good) {
            const sent = { cmd: 10, dstid: String(b.id), ...g };
            const { ack, frame } = await sendOk(ca, sent, `media ${g.media}`);
            await receivesStamped(cb, frame, ack, a.id, `b (media ${g.media})`);
        }
    } finally {
        ca.close();
        cb.close();
    }
});

test('url schemes are case-insensitive: HTTPS:// and Http:// are accepted', async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const ca = await open(main, a);
    const cb = await open(main, b);
    try {
        for (const url of ['HTTPS://EXAMPLE.COM/I.PNG', 'Http://example.com/i.png']) {
            const { ack, frame } = await sendOk(ca, { cmd: 10, dstid: b.id, media: 4, url }, `image at ${url}`);
            await receivesStamped(cb, frame, ack, a.id, 'b');
        }
    } finally {
        ca.close();
        cb.close();
    }
});

test('a frame above --max-frame gets 99/413 and the connection stays usable', async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const ca = await open(main, a);
    const cb = await open(main, b);
    try {
        const fromB = cb.frames.length;
        const big = { id: 'big', cmd: 10, dstid: b.id, media: 1, content: 'y'.repeat(20 * 1024) };
        const err = await sendBad(ca, big, 'a 20 KB frame');
        assert.equal(err.cmd, 99);
        assert.equal(err.code, 413, `20 KB frame: ${short(err)}`);
        assert.equal(err.msg, 'frame too large');
        // Just under the limit still goes through.
        const fits = { cmd: 10, dstid: b.id, media: 1, content: 'é'.repeat(8000) };
        assert.ok(Buffer.byteLength(JSON.stringify({ ...fits, id: 'c-999' })) > MAX_FRAME - 400, 'close to the limit');
        const { ack, frame } = await sendOk(ca, fits, 'a frame just under --max-frame');
        await receivesStamped(cb, frame, ack, a.id, 'b');
        await stillWorks(ca, a, b, cb);
        assert.ok(!chatFrames(cb, fromB).some((f) => f.content === big.content), 'the oversized frame was delivered');
    } finally {
        ca.close();
        cb.close();
    }
});

test('a frame above the hard cap (16 x --max-frame) closes the connection with 1009', async () => {
    const a = await registerUser(main, {});
    const ca = await open(main, a);
    ca.raw.send(JSON.stringify({ cmd: 10, dstid: a.id, media: 1, content: 'w'.repeat(16 * MAX_FRAME + 1024) }));
    const { code } = await waitClosed(ca, 'frame above the hard cap');
    assert.equal(code, 1009);
});

test('more than --bad-frames-max bad frames close the connection with 1008', async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const cb = await open(main, b);
    const ca = await connect(main, a);  // no probe: only the frames below may count against it
    try {
        for (let i = 0; i < BAD_FRAMES_MAX; i++) ca.raw.send(`not json ${i}`);
        const errorCount = () => ca.frames.filter((x) => x.cmd === 99 && x.code === 400).length;
        await waitUntil(ca, () => errorCount() >= BAD_FRAMES_MAX, `${BAD_FRAMES_MAX} errors`);
        // Exactly at the limit the connection is still served.
        await stillWorks(ca, a, b, cb);
        ca.raw.send('one too many');
        const { code, reason } = await waitClosed(ca, 'bad frame over the limit');
        assert.equal(code, 1008);
        assert.equal(reason, 'too many invalid frames');
        assert.equal(errorCount(), BAD_FRAMES_MAX, 'the frame over the limit closes instead of answering');
    } finally {
        ca.close();
        cb.close();
    }
});

test('a heartbeat produces no delivery and no reply', async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const ca = await open(main, a);
    const ca2 = await open(main, a);
    const cb = await open(main, b);
    try {
        const before = await metricValue(main, 'chat_messages_in_total{cmd="0"}');
        const marks = [ca, ca2, cb].map((c) => c.frames.length);
        ca.send({ cmd: 0 });
        ca.send({ cmd: 0, dstid: b.id, media: 1, content: 'heartbeat with a body' });
        // Frames are handled in order: whatever the heartbeats caused arrives before this.
        const { ack, frame } = await sendOk(ca, { cmd: 10, dstid: b.id, media: 1, content: 'after the heartbeats' });
        await receivesStamped(cb, frame, ack, a.id, 'b');
        await receivesStamped(ca2, frame, ack, a.id, "a's other connection");
        assert.deepEqual(ca.frames.slice(marks[0]), [ack], 'the heartbeats were answered');
        assert.equal(ca2.frames.length - marks[1], 1, `a's other connection: ${short(ca2.frames.slice(marks[1]))}`);
        assert.equal(cb.frames.length - marks[2], 1, `b: ${short(cb.frames.slice(marks[2]))}`);
        assert.equal(await metricValue(main, 'chat_messages_in_total{cmd="0"}'), before + 2, 'heartbeats counted');
    } finally {
        for (const c of [ca, ca2, cb]) c.close();
    }
});

test("every connection of the recipient and the sender's other connections receive a message; the sending one only the ack", async () => {
    const a = await registerUser(main, {});
    const b = await registerUser(main, {});
    const c = await registerUser(main, {});
    const a1 = await open(main, a);
    const a2 = await open(main, a);
    const b1 = await open(main, b);
    const b2 = await open(main, b);
    const c1 = await open(main, c);
    const all = [a1, a2, b1, b2, c1];
    try {
        const marks = all.map((x) => x.frames.length);
        const { ack, frame } = await sendOk(a1, { cmd: 10, dstid: b.id, media: 1, content: 'to both of you' });
        await receivesStamped(b1, frame, ack, a.id, "b's first connection");
        await receivesStamped(b2, frame, ack, a.id, "b's second connection");
        await receivesStamped(a2, frame, ack, a.id, "a's second connection (its own message)");
        // c is told nothing: its next frame is the one addressed to it.
        const r2 = await sendOk(a1, { cmd: 10, dstid: c.id, media: 1, content: 'now you, c' });
        await receivesStamped(c1, r2.frame, r2.ack, a.id, 'c');
        await receivesStamped(a2, r2.frame, r2.ack, a.id, "a's second connection");
        assert.deepEqual(a1.frames.slice(marks[0]), [ack, r2.ack], 'the sending connection gets only acks');
        assert.deepEqual(chatFrames(c1, marks[4]).map((f) => f.content), ['now you, c'], 'c received a message meant for b');
        assert.deepEqual(chatFrames(b1, marks[2]).map((f) => f.content), ['to both of you'], 'b1 got something meant for c');
        assert.deepEqual(chatFrames(b2, marks[3]).map((f) => f.content), ['to both of you'], 'b2 got something meant for c');
        // A message to oneself reaches one's other connections only.
        const r3 = await sendOk(a2, { cmd: 10, dstid: a.id, media: 1, content: 'note to self' });
        await receivesStamped(a1, r3.frame, r3.ack, a.id, "a's first connection");
        assert.ok(!a2.frames.some(isChat('note to self')), 'the sending connection got its own message');
    } finally {
        for (const x of all) x.close();
    }
});

test("logout closes that token's connection with 4001; the user's other device stays connected", async () => {
    const a = await registerUser(main, {});
    const u = await registerUser(main, {});
    const login = await api(main, '/user/login', { mobile: u.mobile, passwd: u.passwd });
    assert.equal(login.status, 200, `second login: ${short(login.body)}`);
    const second = { ...u, token: login.body.data.token };
    assert.notEqual(second.token, u.token);
    const ca = await open(main, a);
    const dev1 = await open(main, u);
    const dev1b = await open(main, u);  // same token, second tab
    const dev2 = await open(main, second);
    try {
        const out = await api(main, '/user/logout', {}, { token: u.token, id: u.id });
        assert.equal(out.status, 200, `logout: ${short(out.body)}`);
        for (const [conn, name] of [[dev1, 'first tab'], [dev1b, 'second tab']]) {
            const { code, reason } = await waitClosed(conn, `the logged-out token's ${name}`);
            assert.equal(code, 4001, name);
            assert.equal(reason, 'logged out', name);
        }
        assert.equal(dev2.raw.readyState, WebSocket.OPEN, 'the other device is still connected');
        const { ack, frame } = await sendOk(ca, { cmd: 10, dstid: u.id, media: 1, content: 'still there?' });
        await receivesStamped(dev2, frame, ack, a.id, 'the other device');
        const r = await sendOk(dev2, { cmd: 10, dstid: a.id, media: 1, content: 'yes' });
        await receivesStamped(ca, r.frame, r.ack, u.id, 'a');
        // The revoked token no longer opens a socket.
        const again = await tryUpgrade(main, u);
        assert.equal(again.status, 401, 'the revoked token is refused');
    } finally {
        for (const x of [ca, dev1, dev1b, dev2]) x.close();
    }
});

// ---------------------------------------------------------------------------------------
// Slow consumers and shutdown (nodes of their own)

test('a client that stops reading is closed as a slow consumer; others keep receiving promptly', async (t) => {
    const node = await startNode({ nodeId: 2, busPort: await freePort(), extraArgs: ['--max-queue', '64K'] });
    const p = await registerUser(node, {});
    const q = await registerUser(node, {});
    const r = await registerUser(node, {});
    const g = await api(node, '/contact/createcommunity', { name: 'flood' }, { token: p.token, id: p.id });
    assert.equal(g.status, 200, short(g.body));
    const gid = g.body.data.id;
    for (const u of [q, r]) {
        const j = await api(node, '/contact/joincommunity', { dstid: gid }, { token: u.token, id: u.id });
        assert.equal(j.status, 200, short(j.body));
    }
    const cp = await open(node, p);
    const cq = await open(node, q);
    const cr = await open(node, r);
    try {
        const before = await metricValue(node, 'chat_slow_consumer_disconnects_total');
        cq.raw._socket.pause();
        const N = 300;
        const body = '🐢'.repeat(7600);  // 30 KB in 7600 characters (content is limited to 8192)
        const sentAt = [];
        const floodLatency = [];
        cr.raw.on('message', (data) => {
            const i = /"content":"(\d+):/.exec(data.toString('utf8', 0, 200))?.[1];
            if (i !== undefined) floodLatency[i] = Date.now() - sentAt[i];
        });
        // Each send waits for its ack: sender and receivers share this one event loop, and a
        // burst of 9 MB would keep r from reading long enough to overflow its 64 KB queue too.
        for (let i = 0; i < N; i++) {
            const from = cp.frames.length;
            sentAt[i] = Date.now();
            cp.send({ id: i, cmd: 11, dstid: gid, media: 1, content: `${i}:${body}` });
            await waitFor(cp, isAck(i), `ack of flood message ${i}`, { from });
        }
        await waitUntil(cr, () => chatFrames(cr).length >= N, `all ${N} flood messages at r`, 10000);
        const seen = chatFrames(cr).map((f) => Number(f.content.split(':')[0]));
        assert.deepEqual(seen, Array.from({ length: N }, (_, i) => i), 'r got every flood message once, in order');
        const slowest = Math.max(...floodLatency);
        t.diagnostic(`flood delivery to r: slowest ${slowest} ms`);
        assert.ok(slowest < 2000, `r waited ${slowest} ms for a flood message`);

        // The node notices the full queue by itself; poll its counter before letting q read.
        let after = before;
        for (let t = 0; t < 50 && after === before; t++) {
            await sleep(100);
            after = await metricValue(node, 'chat_slow_consumer_disconnects_total');
        }
        assert.equal(after, before + 1, 'chat_slow_consumer_disconnects_total counts the paused client once');
        cq.raw._socket.resume();
        const { code, reason } = await waitClosed(cq, 'the paused client', 10000);
        assert.ok((code === 1008 && reason === 'slow consumer') || code === 1006,
                  `slow consumer closed with ${code} "${reason}"`);
        t.diagnostic(`paused client closed with ${code} "${reason}" after ${chatFrames(cq).length} of ${N} messages`);
        assert.ok(chatFrames(cq).length < N, 'the paused client was cut off before receiving everything');

        // The sender and the normal member are unaffected, and prompt.
        const t0 = Date.now();
        const { ack } = await sendOk(cp, { cmd: 11, dstid: gid, media: 1, content: 'after the flood' });
        const late = await waitFor(cr, isChat('after the flood'), 'the message after the flood', { timeoutMs: 2000 });
        const latency = Date.now() - t0;
        assert.equal(late.id, ack.id);
        assert.ok(latency < 1000, `delivery after the flood took ${latency} ms`);
        assert.equal(cr.raw.readyState, WebSocket.OPEN);
        assert.equal(cp.raw.readyState, WebSocket.OPEN);
    } finally {
        for (const x of [cp, cq, cr]) x.terminate();
    }
});

test("a reader's backlog leaves in gathered writes, every frame whole and in order, its latest ping answered", async (t) => {
    const node = await startNode({ nodeId: 4, busPort: await freePort(), extraArgs: ['--max-queue', '32M'] });
    const p = await registerUser(node, {});
    const q = await registerUser(node, {});
    const cp = await open(node, p);
    const cq = await open(node, q);
    try {
        const writesBefore = await metricValue(node, 'chat_ws_writes_total');
        const framesBefore = await metricValue(node, 'chat_ws_frames_written_total');
        // q stops reading while ~18 MB are sent to it: more than the kernel's socket buffers
        // hold, so the rest waits in q's queue; q's pongs wait too, and a ping that arrives
        // while a pong still waits replaces it (RFC 6455 5.5.3), so unsent pongs cannot pile up.
        cq.raw._socket.pause();
        const pongs = [];
        cq.raw.on('pong', (data) => pongs.push(data.toString()));
        const N = 600;
        const WINDOW = 20;
        const body = '🐢'.repeat(7600);
        for (let i = 0; i < N; i += WINDOW) {
            const from = cp.frames.length;
            for (let j = i; j < i + WINDOW; j++) cp.send({ id: j, cmd: 10, dstid: q.id, media: 1, content: `${j}:${body}` });
            await waitFor(cp, isAck(i + WINDOW - 1), `ack of message ${i + WINDOW - 1}`, { from, timeoutMs: 10000 });
            if (i % 100 === 0) cq.raw.ping(String(i));
        }
        cq.raw._socket.resume();
        await waitUntil(cq, () => chatFrames(cq).length >= N && pongs.at(-1) === String(N - 100), `all ${N} messages and the pong of the last ping at q`, 20000);
        assert.ok(pongs.length <= N / 100, `${pongs.length} pongs for ${N / 100} pings`);
        t.diagnostic(`${N / 100} pings answered with ${pongs.length} pongs: ${pongs.join(', ')}`);
        const seen = chatFrames(cq).map((f) => Number(f.content.split(':')[0]));
        assert.deepEqual(seen, Array.from({ length: N }, (_, i) => i), 'q got every message once, in order');
        assert.ok(chatFrames(cq).every((f) => f.content.endsWith(body)), 'every frame arrived whole');
        assert.equal(cq.raw.readyState, WebSocket.OPEN);

        const writes = (await metricValue(node, 'chat_ws_writes_total')) - writesBefore;
        const frames = (await metricValue(node, 'chat_ws_frames_written_total')) - framesBefore;
        t.diagnostic(`${frames} frames (q's messages and p's acks) in ${writes} writes`);
        assert.ok(frames >= 2 * N, `${frames} frames counted, at least ${2 * N} sent`);
        assert.ok(writes <= frames - 100, `the backlog did not share writes: ${frames} frames in ${writes} writes`);
    } finally {
        for (const x of [cp, cq]) x.terminate();
    }
});

test('a sender that pipelines past --max-unacked is paused and resumed by its commits: every message acked once and delivered in order', async () => {
    const node = await startNode({ nodeId: 5, busPort: await freePort(), extraArgs: ['--max-unacked', '2'] });
    const p = await registerUser(node, {});
    const q = await registerUser(node, {});
    const cp = await open(node, p);
    const cq = await open(node, q);
    try {
        // All at once: the node reads two, waits for a commit, reads on, hundreds of times over.
        const N = 400;
        for (let j = 0; j < N; j++) cp.send({ id: `u-${j}`, cmd: 10, dstid: q.id, media: 1, content: `unacked ${j}` });
        const acks = () => cp.frames.filter((f) => f.cmd === 1 && String(f.cid).startsWith('u-'));
        await waitUntil(cp, () => acks().length >= N, `${N} acks`, 20000);
        assert.deepEqual(acks().map((f) => f.cid), Array.from({ length: N }, (_, j) => `u-${j}`), 'one ack per message, in order');
        assert.equal(cp.frames.filter((f) => f.cmd === 99).length, 1, 'no error but the probe\'s 403');
        await waitUntil(cq, () => chatFrames(cq).length >= N, `all ${N} messages at q`, 20000);
        assert.deepEqual(chatFrames(cq).map((f) => f.content), Array.from({ length: N }, (_, j) => `unacked ${j}`));
    } finally {
        for (const x of [cp, cq]) x.terminate();
    }
});

test('SIGTERM closes every client with 1001 and the node exits 0', async () => {
    const node = await startNode({ nodeId: 3, busPort: await freePort() });
    const a = await registerUser(node, {});
    const b = await registerUser(node, {});
    const conns = [await open(node, a), await open(node, a), await open(node, b)];
    const code = await node.stop('SIGTERM');
    const closes = await Promise.all(conns.map((c, i) => waitClosed(c, `client ${i} on SIGTERM`, 8000)));
    assert.deepEqual(closes.map((c) => c.code), [1001, 1001, 1001], `close codes: ${short(closes)}`);
    assert.equal(code, 0, `exit code on SIGTERM; log tail:\n${String(node.log?.() ?? '').slice(-2000)}`);
});
