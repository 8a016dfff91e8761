// RFC 6455 on the wire, against a real node: the opening handshake, fragmented messages with
// control frames between the fragments, the close handshake, protocol breaches, and the
// keep-alive pings and idle timeout. A raw TCP client writes the frames byte by byte as the
// RFC describes them, which a WebSocket library would never send.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';

import { freePort, startNode, registerUser, sleep } from './lib/cluster.mjs';

const WAIT = 5000;
let node;   // --idle-timeout 2: a ping after 1 s of silence, cut off after 2 s
let alice;
let bob;

before(async () => {
    node = await startNode({ nodeId: 1, busPort: await freePort(), extraArgs: ['--idle-timeout', '2'] });
    alice = await registerUser(node, {});
    bob = await registerUser(node, {});
});

// A client frame: masked unless told, FIN unless told.
function frame(opcode, payload, { fin = true, masked = true } = {}) {
    const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '');
    const n = data.length;
    const head = [((fin ? 0x80 : 0) | opcode)];
    const maskBit = masked ? 0x80 : 0;
    if (n < 126) head.push(maskBit | n);
    else if (n <= 0xffff) head.push(maskBit | 126, n >> 8, n & 0xff);
    else throw new Error('frame too long for this helper');
    if (!masked) return Buffer.concat([Buffer.from(head), data]);
    const mask = crypto.randomBytes(4);
    const body = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
    return Buffer.concat([Buffer.from(head), mask, body]);
}

const closeBody = (code, reason = '') => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

// Opens a TCP connection, sends the upgrade, and parses what the server sends back: the HTTP
// answer, then its frames ({fin, opcode, payload}), then whether the TCP connection ended.
function rawClient(user, { key = crypto.randomBytes(16).toString('base64'), version = '13' } = {}) {
    const { hostname, port } = new URL(node.wsUrl);
    const socket = net.connect({ host: hostname, port: Number(port) });
    const c = { socket, key, status: null, headers: {}, frames: [], ended: false, waiters: [] };
    let buf = Buffer.alloc(0);
    const wake = () => { for (const w of [...c.waiters]) w(); };
    socket.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (c.status === null) {
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
            c.status = Number(statusLine.split(' ')[1]);
            for (const l of lines) {
                const i = l.indexOf(':');
                c.headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
            }
            buf = buf.subarray(end + 4);
            if (c.status !== 101) c.body = buf.toString();
        }
        while (c.status === 101 && buf.length >= 2) {
            const masked = (buf[1] & 0x80) !== 0;
            let len = buf[1] & 0x7f;
            let at = 2;
            if (len === 126) { if (buf.length < 4) break; len = buf.readUInt16BE(2); at = 4; }
            else if (len === 127) { if (buf.length < 10) break; len = Number(buf.readBigUInt64BE(2)); at = 10; }
            if (buf.length < at + len) break;
            c.frames.push({ fin: (buf[0] & 0x80) !== 0, opcode: buf[0] & 0x0f, masked, payload: buf.subarray(at, at + len) });
            buf = buf.subarray(at + len);
        }
        wake();
    });
    socket.on('close', () => { c.ended = true; wake(); });
    socket.on('error', () => {});
    c.until = (cond, what, timeoutMs = WAIT) => new Promise((resolve, reject) => {
        const check = () => {
            const v = cond();
            if (v === undefined || v === false) return false;
            clearTimeout(timer);
            c.waiters = c.waiters.filter((w) => w !== check);
            resolve(v);
            return true;
        };
        const timer = setTimeout(() => {
            c.waiters = c.waiters.filter((w) => w !== check);
            reject(new Error(`${what}: not seen within ${timeoutMs} ms; frames ${c.frames.map((f) => f.opcode).join(',')}, ended ${c.ended}`));
        }, timeoutMs);
        if (!check()) c.waiters.push(check);
    });
    c.send = (...frames) => socket.write(Buffer.concat(frames));
    c.texts = () => c.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString()));
    c.closeFrame = () => c.frames.find((f) => f.opcode === 8);
    const qs = new URLSearchParams({ id: String(user.id), token: user.token });
    socket.write(
        `GET /chat?${qs} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n\r\n`,
    );
    return c;
}

// Opens and waits for the end of the initial sync ({"cmd":13}): from then on the session reads.
async function opened(user) {
    const c = rawClient(user);
    await c.until(() => c.status !== null, 'the handshake answer');
    assert.equal(c.status, 101, `upgrade refused: ${c.body}`);
    await c.until(() => c.texts().some((f) => f.cmd === 13), 'the end of the initial sync');
    return c;
}

function closeCodeOf(f) {
    return f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
}

test('the handshake: 101 with the RFC accept value; 426 naming version 13 for another version; 400 for a bad key', async () => {
    const good = rawClient(alice, { key: 'dGhlIHNhbXBsZSBub25jZQ==' });
    await good.until(() => good.status !== null, 'the answer to a good upgrade');
    assert.equal(good.status, 101);
    assert.equal(good.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    assert.equal(good.headers.upgrade.toLowerCase(), 'websocket');
    good.socket.destroy();

    const old = rawClient(alice, { version: '8' });
    await old.until(() => old.ended, 'the end of a refused upgrade');
    assert.equal(old.status, 426);
    assert.equal(old.headers['sec-websocket-version'], '13');

    const badKey = rawClient(alice, { key: 'not-a-key' });
    await badKey.until(() => badKey.ended, 'the end of a refused upgrade');
    assert.equal(badKey.status, 400);
    assert.match(badKey.body, /Sec-WebSocket-Key/);
});

test('a message in fragments, a ping between them: the ping is answered with its payload, the message delivered whole', async () => {
    const a = await opened(alice);
    const b = await opened(bob);
    try {
        const json = JSON.stringify({ id: 'frag-1', cmd: 10, dstid: bob.id, media: 1, content: 'in three pieces, 🐢 split too' });
        const bytes = Buffer.from(json);
        const cut1 = json.indexOf('🐢') + 1;  // inside the emoji's four bytes
        const pieces = [bytes.subarray(0, 10), bytes.subarray(10, cut1), bytes.subarray(cut1)];
        a.send(frame(0x1, pieces[0], { fin: false }), frame(0x9, 'are you there?'), frame(0x0, pieces[1], { fin: false }));
        await sleep(50);
        a.send(frame(0x0, pieces[2]));
        const pong = await a.until(() => a.frames.find((f) => f.opcode === 0xa), 'the pong');
        assert.equal(pong.payload.toString(), 'are you there?');
        assert.equal(pong.masked, false, 'server frames are never masked');
        const ack = await a.until(() => a.texts().find((f) => f.cmd === 1 && f.cid === 'frag-1'), 'the ack');
        const got = await b.until(() => b.texts().find((f) => f.id === ack.id), 'the delivery to bob');
        assert.equal(got.content, 'in three pieces, 🐢 split too');
        assert.equal(got.userid, alice.id);
    } finally {
        a.socket.destroy();
        b.socket.destroy();
    }
});

test("a client's close is answered with the same code, then the connection ends", async () => {
    const a = await opened(alice);
    a.send(frame(0x8, closeBody(4321, 'bye')));
    const close = await a.until(() => a.closeFrame(), 'the close answer');
    assert.equal(closeCodeOf(close), 4321);
    await a.until(() => a.ended, 'the end of the TCP connection');
});

test('breaches of the protocol fail the connection: 1002 for an unmasked frame or a bad opcode, 1007 for invalid UTF-8, 1009 above the hard cap', async () => {
    const cases = [
        ['an unmasked frame', frame(0x1, '{"cmd":0}', { masked: false }), 1002],
        ['a reserved opcode', frame(0x3, 'x'), 1002],
        ['a continuation of nothing', frame(0x0, 'x'), 1002],
        ['a ping in pieces', frame(0x9, 'x', { fin: false }), 1002],
        ['text that is not UTF-8', frame(0x1, Buffer.from([0x7b, 0xc3, 0x28, 0x7d])), 1007],
        ['a close with a reserved code', frame(0x8, closeBody(1005)), 1002],
    ];
    for (const [what, bytes, code] of cases) {
        const c = await opened(alice);
        c.send(bytes);
        const close = await c.until(() => c.closeFrame(), `the close after ${what}`);
        assert.equal(closeCodeOf(close), code, what);
        await c.until(() => c.ended, `the end of the connection after ${what}`);
    }
    // Beyond 16 x max-frame (64K by default): announced in one frame header, never read.
    const c = await opened(alice);
    const head = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0x20, 0, 0, 1, 2, 3, 4]);  // 2 MiB, masked
    c.send(head);
    const close = await c.until(() => c.closeFrame(), 'the close after a frame above the hard cap');
    assert.equal(closeCodeOf(close), 1009);
});

test('a silent client gets a ping after half the idle timeout and loses its connection after all of it; one that answers stays', async () => {
    const silent = await opened(alice);
    const answering = await opened(bob);
    answering.socket.on('data', () => {
        for (const f of answering.frames.splice(0)) if (f.opcode === 0x9) answering.send(frame(0xa, f.payload));
    });
    const t0 = Date.now();
    await silent.until(() => silent.frames.some((f) => f.opcode === 0x9), 'the keep-alive ping', 3000);
    const pingAfter = Date.now() - t0;
    await silent.until(() => silent.ended, 'the end of the silent connection', 4000);
    const endAfter = Date.now() - t0;
    assert.ok(pingAfter >= 500 && pingAfter < 2500, `ping after ${pingAfter} ms (idle timeout 2 s)`);
    assert.ok(endAfter >= 1500 && endAfter < 3500, `cut off after ${endAfter} ms (idle timeout 2 s)`);
    await sleep(2500);
    assert.equal(answering.ended, false, 'the client that answers pings is still connected');
    answering.send(frame(0x8, closeBody(1000)));
    await answering.until(() => answering.ended, 'the end after its close');
});
