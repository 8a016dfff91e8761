// Specifications of web/socket.js, driven by a fake WebSocket class and fake timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
    ACK_TIMEOUT_MS,
    BACKOFF_MAX_MS,
    BACKOFF_MIN_MS,
    HEARTBEAT_MS,
    MAX_OUTBOX,
    MAX_WATCH,
    backoffDelay,
    createSocket,
    socketUrl,
} from '../../web/socket.js';

class FakeWebSocket {
    static instances = [];
    constructor(url) {
        this.url = url;
        this.readyState = 0;
        this.sent = [];
        this.closedWith = null;
        FakeWebSocket.instances.push(this);
    }
    send(data) {
        this.sent.push(JSON.parse(data));
    }
    close(code) {
        this.closedWith = code;
        this.readyState = 3;
    }
    // Test helpers: what the server or the network would do.
    open() {
        this.readyState = 1;
        this.onopen?.({});
    }
    receive(frame) {
        this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
    }
    drop(code = 1006) {
        this.readyState = 3;
        this.onerror?.({});
        this.onclose?.({ code });
    }
}

class FakeTimers {
    constructor() {
        this.now = 0;
        this.nextId = 1;
        this.pending = new Map();
    }
    setTimeout(fn, ms) {
        const id = this.nextId++;
        this.pending.set(id, { fn, at: this.now + ms, every: 0 });
        return id;
    }
    setInterval(fn, ms) {
        const id = this.nextId++;
        this.pending.set(id, { fn, at: this.now + ms, every: ms });
        return id;
    }
    clearTimeout(id) {
        this.pending.delete(id);
    }
    clearInterval(id) {
        this.pending.delete(id);
    }
    advance(ms) {
        const end = this.now + ms;
        for (;;) {
            const due = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
            if (!due) break;
            const [id, t] = due;
            this.now = t.at;
            if (t.every) t.at += t.every;
            else this.pending.delete(id);
            t.fn();
        }
        this.now = end;
    }
}

function setup({ random = () => 0.5, url = 'ws://h/chat?id=1&token=t', since } = {}) {
    FakeWebSocket.instances = [];
    const timers = new FakeTimers();
    const events = [];
    const on = {};
    for (const name of ['status', 'message', 'ack', 'error', 'lost', 'loggedOut', 'synced', 'read', 'presence']) {
        on[name] = (...args) => events.push([name, ...args]);
    }
    const socket = createSocket({ url, since, on, WebSocketImpl: FakeWebSocket, timers, random });
    const latest = () => FakeWebSocket.instances.at(-1);
    const statuses = () => events.filter((e) => e[0] === 'status').map((e) => e[1]);
    return { socket, timers, events, latest, statuses };
}

test('backoffDelay doubles from 1 s and never leaves 1 s .. 30 s, whatever the jitter', () => {
    assert.equal(backoffDelay(0, () => 0.5), 1000);
    assert.equal(backoffDelay(1, () => 0.5), 2000);
    assert.equal(backoffDelay(2, () => 0.5), 4000);
    assert.equal(backoffDelay(10, () => 0.5), 30000);
    for (const attempt of [0, 1, 3, 5, 8, 50, 1e9, -3, NaN]) {
        for (const r of [0, 0.25, 0.999999]) {
            const d = backoffDelay(attempt, () => r);
            assert.ok(d >= BACKOFF_MIN_MS && d <= BACKOFF_MAX_MS, `${attempt}/${r}: ${d}`);
        }
    }
});

test('backoffDelay jitters so clients dropped together come back at different times', () => {
    assert.notEqual(backoffDelay(3, () => 0), backoffDelay(3, () => 0.99));
});

test('socketUrl uses wss on https pages and encodes the credentials', () => {
    assert.equal(socketUrl({ protocol: 'http:', host: 'h:8080' }, { id: 5, token: 'a b' }), 'ws://h:8080/chat?id=5&token=a+b');
    assert.equal(socketUrl({ protocol: 'https:', host: 'chat.example' }, { id: 5, token: 't' }), 'wss://chat.example/chat?id=5&token=t');
});

test('connecting reports connecting, then online when the socket opens', () => {
    const { socket, latest, statuses } = setup();
    socket.connect();
    assert.equal(latest().url, 'ws://h/chat?id=1&token=t');
    latest().open();
    assert.deepEqual(statuses(), ['connecting', 'online']);
    assert.equal(socket.status, 'online');
});

test('a heartbeat {cmd:0} goes out every 25 s while online, and stops when offline', () => {
    const { socket, timers, latest } = setup();
    socket.connect();
    const ws = latest();
    ws.open();
    timers.advance(HEARTBEAT_MS * 2);
    assert.deepEqual(ws.sent, [{ cmd: 0 }, { cmd: 0 }]);
    ws.drop();
    timers.advance(HEARTBEAT_MS * 3 - 1); // reconnect attempts open new sockets, but none is opened
    assert.equal(ws.sent.length, 2);
});

test('frames are routed: acks, errors, messages; garbage and unknown commands are ignored', () => {
    const { socket, latest, events } = setup();
    socket.connect();
    latest().open();
    latest().receive({ cmd: 1, id: 77, cid: 'c1', createat: 5 });
    latest().receive({ cmd: 99, code: 400, msg: 'bad', cid: 'c2' });
    latest().receive({ id: 78, userid: 2, cmd: 10, dstid: 1, media: 1, content: 'hi' });
    latest().receive({ id: 79, userid: 2, cmd: 11, dstid: 7, media: 1, content: 'g' });
    latest().receive('not json');
    latest().receive({ cmd: 42 });
    latest().receive('null');
    const kinds = events.filter((e) => e[0] !== 'status').map((e) => e[0]);
    assert.deepEqual(kinds, ['ack', 'error', 'message', 'message']);
});

test('frames sent while offline are queued and written, in order, once online', () => {
    const { socket, latest } = setup();
    socket.connect();
    assert.equal(socket.send({ id: 'a', cmd: 10, dstid: 2, media: 1, content: '1' }), 'queued');
    assert.equal(socket.send({ id: 'b', cmd: 10, dstid: 2, media: 1, content: '2' }), 'queued');
    latest().open();
    assert.deepEqual(latest().sent.map((f) => f.id), ['a', 'b']);
    assert.equal(socket.send({ id: 'c', cmd: 10, dstid: 2, media: 1, content: '3' }), 'sent');
});

test('the offline queue is bounded', () => {
    const { socket } = setup();
    socket.connect();
    for (let i = 0; i < MAX_OUTBOX; i++) assert.equal(socket.send({ id: `q${i}`, cmd: 10 }), 'queued');
    assert.equal(socket.send({ id: 'one-too-many', cmd: 10 }), 'full');
});

test('frames written but not acknowledged when the connection drops are reported lost', () => {
    const { socket, latest, events } = setup();
    socket.connect();
    latest().open();
    socket.send({ id: 'a', cmd: 10, dstid: 2, media: 1, content: '1' });
    socket.send({ id: 'b', cmd: 10, dstid: 2, media: 1, content: '2' });
    socket.send({ id: 'c', cmd: 11, dstid: 7, media: 1, content: '3' });
    latest().receive({ cmd: 1, id: 1, cid: 'a' });
    latest().receive({ cmd: 99, code: 403, msg: 'no', cid: 'c' });
    latest().drop();
    assert.deepEqual(events.find((e) => e[0] === 'lost'), ['lost', ['b'], 'closed']);
});

test('a frame neither acknowledged nor refused within ACK_TIMEOUT_MS is reported lost once', () => {
    const { socket, timers, latest, events } = setup();
    socket.connect();
    latest().open();
    socket.send({ id: 'slow', cmd: 10, dstid: 2, media: 1, content: '1' });
    socket.send({ id: 'fast', cmd: 10, dstid: 2, media: 1, content: '2' });
    latest().receive({ cmd: 1, id: 9, cid: 'fast' });
    timers.advance(ACK_TIMEOUT_MS - 1);
    assert.equal(events.some((e) => e[0] === 'lost'), false);
    timers.advance(1);
    assert.deepEqual(events.filter((e) => e[0] === 'lost'), [['lost', ['slow'], 'timeout']]);
    latest().drop(); // already reported: not again as 'closed'
    assert.equal(events.filter((e) => e[0] === 'lost').length, 1);
});

test('after a drop it reconnects with growing delays and resets them once online', () => {
    const { socket, timers, latest, events } = setup();
    socket.connect();
    latest().open();
    latest().drop();
    const delays = () => events.filter((e) => e[0] === 'status' && e[1] === 'offline').map((e) => e[2].retryInMs);
    assert.deepEqual(delays(), [1000]);
    timers.advance(999);
    assert.equal(FakeWebSocket.instances.length, 1);
    timers.advance(1);
    assert.equal(FakeWebSocket.instances.length, 2);
    latest().drop(); // connect failed
    timers.advance(2000);
    latest().drop();
    timers.advance(4000);
    assert.deepEqual(delays(), [1000, 2000, 4000]);
    latest().open();
    latest().drop();
    assert.deepEqual(delays(), [1000, 2000, 4000, 1000]);
});

test('close code 4001 (logged out) stops for good and reports loggedOut', () => {
    const { socket, timers, latest, events } = setup();
    socket.connect();
    latest().open();
    latest().drop(4001);
    timers.advance(120_000);
    assert.equal(FakeWebSocket.instances.length, 1);
    assert.ok(events.some((e) => e[0] === 'loggedOut'));
    assert.equal(socket.status, 'closed');
    assert.equal(socket.send({ id: 'x', cmd: 10 }), 'full');
});

test('stop() closes the socket and never reconnects', () => {
    const { socket, timers, latest } = setup();
    socket.connect();
    latest().open();
    const ws = latest();
    socket.stop();
    assert.equal(ws.closedWith, 1000);
    ws.onclose?.({ code: 1000 });
    timers.advance(120_000);
    assert.equal(FakeWebSocket.instances.length, 1);
    assert.equal(socket.status, 'closed');
});

test('retryNow() skips the remaining backoff wait', () => {
    const { socket, timers, latest } = setup();
    socket.connect();
    latest().drop();
    socket.retryNow();
    assert.equal(FakeWebSocket.instances.length, 2);
    timers.advance(60_000); // the cancelled timer must not open a third socket
    assert.equal(FakeWebSocket.instances.length, 2);
});

test('a socket constructor that throws is retried like a drop', () => {
    const timers = new FakeTimers();
    let calls = 0;
    class Throwing {
        constructor() {
            calls += 1;
            throw new Error('SecurityError');
        }
    }
    const socket = createSocket({ url: 'ws://h/chat', WebSocketImpl: Throwing, timers, random: () => 0.5 });
    socket.connect();
    assert.equal(socket.status, 'offline');
    timers.advance(1000);
    assert.equal(calls, 2);
    socket.stop();
});

test('socketUrl adds since=<pos> when the page holds a position', () => {
    assert.equal(socketUrl({ protocol: 'http:', host: 'h' }, { id: 5, token: 't' }, 42), 'ws://h/chat?id=5&token=t&since=42');
    assert.equal(socketUrl({ protocol: 'http:', host: 'h' }, { id: 5, token: 't' }, 0), 'ws://h/chat?id=5&token=t');
});

test('every connection resumes from the highest position held at that moment', () => {
    let held = 0;
    const { socket, timers, latest } = setup({ url: (since) => `ws://h/chat?since=${since}`, since: () => held });
    socket.connect();
    assert.equal(latest().url, 'ws://h/chat?since=0');
    latest().open();
    held = 1234;
    latest().drop();
    timers.advance(BACKOFF_MAX_MS);
    assert.equal(latest().url, 'ws://h/chat?since=1234');
});

test('sync, read-mark and presence frames reach their callbacks', () => {
    const { socket, latest, events } = setup();
    socket.connect();
    latest().open();
    latest().receive({ cmd: 13, pos: 7 });
    latest().receive({ cmd: 15, peer: 2, pos: 7 });
    latest().receive({ cmd: 17, online: [2], offline: [] });
    assert.deepEqual(
        events.filter((e) => ['synced', 'read', 'presence'].includes(e[0])).map((e) => e[0]),
        ['synced', 'read', 'presence'],
    );
});

test('resync() asks the node for what came after the position held', () => {
    const { socket, latest } = setup({ since: () => 99 });
    socket.connect();
    latest().open();
    socket.resync();
    assert.deepEqual(latest().sent.at(-1), { cmd: 12, since: 99 });
});

test('the presence watch list is sent now and again on every new connection', () => {
    const { socket, timers, latest } = setup();
    socket.watch([3, 2, 3, 'x', -1]);
    socket.connect();
    latest().open();
    assert.deepEqual(latest().sent[0], { cmd: 16, watch: [3, 2] });
    socket.watch([4]);
    assert.deepEqual(latest().sent.at(-1), { cmd: 16, watch: [4] });
    latest().drop();
    timers.advance(BACKOFF_MAX_MS);
    latest().open();
    assert.deepEqual(latest().sent[0], { cmd: 16, watch: [4] });
});

test('the watch list is capped at what the node accepts', () => {
    const { socket, latest } = setup();
    socket.connect();
    latest().open();
    socket.watch(Array.from({ length: MAX_WATCH + 10 }, (_, i) => i + 1));
    assert.equal(latest().sent.at(-1).watch.length, MAX_WATCH);
});
