// The benchmark's baseline: the part of the chat protocol the benchmark uses, written the way
// many teams would write it instead of a C++ node — Node.js and the `ws` package, one process
// per node. It serves GET /chat?id=&token= (tokens from a fixture file the bench writes: no
// database), single (cmd 10) and group (cmd 11) messages with the same frames and acks as the
// chat node, and plain UDP broadcast between nodes (no signing, sequencing or repair: what a
// first version would do). A connection with more than --max-queue bytes unsent is closed
// with 1008, as the chat node does.
//
//   node server.mjs --port P --node-id N --bus-port B --fixture FILE
//                   [--host 127.0.0.1] [--bus-broadcast 127.255.255.255] [--max-queue 1048576]
//
// Fixture: {"users": [[id, "token"], …], "groups": [[groupId, [memberId, …]], …]}
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values: opts } = parseArgs({
    options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string' },
        'node-id': { type: 'string', default: '1' },
        'bus-port': { type: 'string' },
        'bus-broadcast': { type: 'string', default: '127.255.255.255' },
        fixture: { type: 'string' },
        'max-queue': { type: 'string', default: String(1 << 20) },
    },
});
const nodeId = Number(opts['node-id']);
const maxQueue = Number(opts['max-queue']);
const EPOCH_2024 = Date.UTC(2024, 0, 1);
const PING_INTERVAL_MS = 30_000; // the ws README's keep-alive: drop connections that stop answering
const CLOSE_GRACE_MS = 5_000; // a slow consumer's close frame waits behind its backlog this long

// --- accounts, from the fixture
const fixture = JSON.parse(readFileSync(opts.fixture, 'utf8'));
const userOfToken = new Map(fixture.users.map(([id, token]) => [token, id]));
const groupsOfUser = new Map();
for (const [group, members] of fixture.groups) {
    for (const user of members) {
        if (!groupsOfUser.has(user)) groupsOfUser.set(user, new Set());
        groupsOfUser.get(user).add(group);
    }
}

// --- who is connected here
const socketsOfUser = new Map(); // user -> Set<WebSocket>
const localMembers = new Map(); // group -> Set<user> connected here

function join(user, ws) {
    if (!socketsOfUser.has(user)) {
        socketsOfUser.set(user, new Set());
        for (const group of groupsOfUser.get(user) ?? []) {
            if (!localMembers.has(group)) localMembers.set(group, new Set());
            localMembers.get(group).add(user);
        }
    }
    socketsOfUser.get(user).add(ws);
}

function leave(user, ws) {
    const sockets = socketsOfUser.get(user);
    if (!sockets) return;
    sockets.delete(ws);
    if (sockets.size) return;
    socketsOfUser.delete(user);
    for (const group of groupsOfUser.get(user) ?? []) localMembers.get(group)?.delete(user);
}

// --- delivery
function send(ws, text) {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > maxQueue) {
        ws.close(1008, 'slow consumer');
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
        return;
    }
    ws.send(text);
}

function deliver(message, text, except) {
    const users =
        message.cmd === 11
            ? (localMembers.get(message.dstid) ?? [])
            : new Set([message.dstid, message.userid]); // the recipient, and the sender's other devices
    for (const user of users) {
        for (const ws of socketsOfUser.get(user) ?? []) if (ws !== except) send(ws, text);
    }
}

// --- the bus: every node's messages to every node, as JSON after the origin's id
const bus = dgram.createSocket({ type: 'udp4', reuseAddr: true });
bus.on('message', (datagram) => {
    const text = datagram.toString();
    const space = text.indexOf(' ');
    if (Number(text.slice(0, space)) === nodeId) return; // our own broadcast, delivered already
    const body = text.slice(space + 1);
    deliver(JSON.parse(body), body, null);
});
bus.bind(Number(opts['bus-port']), () => bus.setBroadcast(true));

// --- message ids as the chat node makes them: ms since 2024 (40 bits), node (6), sequence (7)
let lastMs = 0;
let seq = 0;
function nextId() {
    let ms = Date.now() - EPOCH_2024;
    if (ms <= lastMs) {
        ms = lastMs;
        if (++seq === 128) {
            ms = ++lastMs;
            seq = 0;
        }
    } else {
        seq = 0;
    }
    lastMs = ms;
    return ms * 8192 + nodeId * 128 + seq;
}

function error(ws, code, msg, cid) {
    send(ws, JSON.stringify({ cmd: 99, code, msg, cid }));
}

function onFrame(ws, user, data) {
    let frame;
    try {
        frame = JSON.parse(data);
    } catch {
        return error(ws, 400, 'frames must be JSON');
    }
    const cid = frame.id;
    if (frame.cmd === 0) return;
    if (frame.cmd !== 10 && frame.cmd !== 11) return error(ws, 400, 'cmd must be 0, 10 or 11', cid);
    const dstid = Number(frame.dstid);
    if (!Number.isSafeInteger(dstid) || dstid <= 0) return error(ws, 400, 'dstid must be a positive integer', cid);
    if (frame.media === 1 && (typeof frame.content !== 'string' || !frame.content)) {
        return error(ws, 400, 'text needs content', cid);
    }
    if (frame.cmd === 11 && !groupsOfUser.get(user)?.has(dstid)) return error(ws, 403, 'not a member of this group', cid);

    const id = nextId();
    const createat = Date.now();
    const message = { id, userid: user, cmd: frame.cmd, dstid, media: frame.media };
    for (const field of ['content', 'pic', 'url', 'memo', 'amount']) if (field in frame) message[field] = frame[field];
    message.createat = createat;
    const text = JSON.stringify(message);
    deliver(message, text, ws);
    bus.send(`${nodeId} ${text}`, Number(opts['bus-port']), opts['bus-broadcast']);
    send(ws, JSON.stringify({ cmd: 1, id, cid, createat }));
}

// --- HTTP + WebSocket
const server = http.createServer((req, res) => {
    res.writeHead(404).end();
});
const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://localhost');
    const user = userOfToken.get(url.searchParams.get('token'));
    if (url.pathname !== '/chat' || user === undefined || String(user) !== url.searchParams.get('id')) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
        ws.isAlive = true;
        ws.on('pong', () => (ws.isAlive = true));
        ws.on('message', (data) => onFrame(ws, user, data));
        ws.on('close', () => leave(user, ws));
        ws.on('error', () => ws.terminate());
        join(user, ws);
    });
});
const pinger = setInterval(() => {
    for (const ws of wss.clients) {
        if (!ws.isAlive) {
            ws.terminate();
            continue;
        }
        ws.isAlive = false;
        ws.ping();
    }
}, PING_INTERVAL_MS);

server.listen(Number(opts.port), opts.host, () => console.log(`baseline node ${nodeId} listening on ${opts.host}:${opts.port}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
        clearInterval(pinger);
        for (const ws of wss.clients) ws.terminate();
        bus.close();
        server.close(() => process.exit(0));
        setTimeout(() => process.exit(0), 2000).unref();
    });
}
