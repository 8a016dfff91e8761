// The chat page's WebSocket client, and the only place that handles socket events: connecting,
// reconnecting with exponential backoff and resuming from the highest stream position held
// (`since`), the heartbeat, a bounded outbox for frames written while offline, matching
// acks/errors to the frames still in flight, the presence watch list (re-sent on every
// connection) and re-syncing after the node reports lost messages. It reports through callbacks
// and knows nothing about the DOM or the page state. Used by chat.js; the WebSocket class and the
// timers can be replaced, which is how tests/web/socket.test.mjs drives it.

// The node closes a connection silent for idle-timeout (60 s by default); a frame every 25 s
// keeps it, and any proxy in between, from treating a quiet user as gone.
export const HEARTBEAT_MS = 25_000;
// Reconnect delays grow 1 s, 2 s, 4 s ... up to 30 s, so a restarting cluster is not stampeded.
export const BACKOFF_MIN_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
// Frames written while offline wait here; beyond this the caller is told to give up on them.
export const MAX_OUTBOX = 100;
// A frame the node neither acknowledged nor refused by then is reported lost: the node answers
// every frame at once, so silence means it (or the frame) went missing.
export const ACK_TIMEOUT_MS = 20_000;
// The node watches at most this many users' presence per connection.
export const MAX_WATCH = 1000;
// The node closes a logged-out device's connections with this code: never reconnect after it.
export const CLOSE_LOGGED_OUT = 4001;

const OPEN = 1;

/**
 * Delay before reconnect number `attempt` (0 = the first retry): 1 s doubling to 30 s, with
 * ±20% jitter so many clients dropped at once do not come back in the same millisecond.
 * Always within [BACKOFF_MIN_MS, BACKOFF_MAX_MS].
 */
export function backoffDelay(attempt, random = Math.random) {
    const step = Math.min(Math.max(0, Math.floor(attempt) || 0), 30);
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** step);
    const jittered = base * (0.8 + 0.4 * random());
    return Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, jittered)));
}

/** ws(s)://<host>/chat?id=..&token=..[&since=pos] for the page's own origin. */
export function socketUrl(location, session, since = 0) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const query = new URLSearchParams({ id: String(session.id), token: session.token });
    if (Number.isSafeInteger(since) && since > 0) query.set('since', String(since));
    return `${scheme}://${location.host}/chat?${query}`;
}

/**
 * Creates a client; call connect() to start. `url(since)` gives the address of each new
 * connection (a string is used as is); `since()` is the highest stream position the page holds
 * (0 for none), asked at every connect and re-sync. Callbacks in `on` (all optional):
 *   status(state, detail)  'connecting' | 'online' | 'offline' (detail.retryInMs) | 'closed'
 *   message(frame)         a delivered chat message (cmd 10 or 11), live or synced
 *   synced(frame)          {cmd:13, pos}: everything up to pos has been sent
 *   read(frame)            {cmd:15, peer|group, pos}: read on one of this user's devices
 *   presence(frame)        {cmd:17, online:[ids], offline:[ids]} for the watched users
 *   ack(frame)             {cmd:1, id, cid, createat, pos} for a frame this client sent
 *   error(frame)           {cmd:99, code, msg, cid?}
 *   lost(cids, why)        frames written but never acknowledged, why = 'closed' (the connection
 *                          dropped first) or 'timeout' (no answer in ACK_TIMEOUT_MS): they may or
 *                          may not have arrived
 *   loggedOut()            the node closed with 4001; the client has stopped for good
 */
export function createSocket({ url, since = () => 0, on = {}, WebSocketImpl = globalThis.WebSocket, timers = globalThis, random }) {
    let ws = null;
    let watching = null; // the presence watch list, re-sent on every connection
    let attempt = 0;
    let retryTimer = null;
    let heartbeatTimer = null;
    let stopped = false;
    let status = 'idle';
    const outbox = [];
    const inflight = new Map(); // client id -> ack timeout timer

    const emit = (name, ...args) => on[name]?.(...args);
    const setStatus = (next, detail = {}) => {
        status = next;
        emit('status', next, detail);
    };

    function write(frame) {
        ws.send(JSON.stringify(frame));
        if (frame.cmd !== 0 && frame.id != null) {
            const cid = String(frame.id);
            settle(cid);
            inflight.set(
                cid,
                timers.setTimeout(() => {
                    inflight.delete(cid);
                    emit('lost', [cid], 'timeout');
                }, ACK_TIMEOUT_MS),
            );
        }
    }

    // The node answered this frame (ack or error): stop waiting for it.
    function settle(cid) {
        if (!inflight.has(cid)) return;
        timers.clearTimeout(inflight.get(cid));
        inflight.delete(cid);
    }

    function forgetInflight() {
        for (const timer of inflight.values()) timers.clearTimeout(timer);
        const cids = [...inflight.keys()];
        inflight.clear();
        return cids;
    }

    function startHeartbeat() {
        heartbeatTimer = timers.setInterval(() => {
            if (ws && ws.readyState === OPEN) ws.send(JSON.stringify({ cmd: 0 }));
        }, HEARTBEAT_MS);
    }

    function stopTimers() {
        if (heartbeatTimer !== null) timers.clearInterval(heartbeatTimer);
        if (retryTimer !== null) timers.clearTimeout(retryTimer);
        heartbeatTimer = null;
        retryTimer = null;
    }

    function scheduleRetry() {
        const delay = backoffDelay(attempt, random);
        attempt += 1;
        setStatus('offline', { retryInMs: delay, attempt });
        retryTimer = timers.setTimeout(() => {
            retryTimer = null;
            connect();
        }, delay);
    }

    function handleFrame(data) {
        if (typeof data !== 'string') return;
        let frame;
        try {
            frame = JSON.parse(data);
        } catch {
            return;
        }
        if (!frame || typeof frame !== 'object') return;
        switch (frame.cmd) {
            case 1:
                settle(String(frame.cid));
                emit('ack', frame);
                break;
            case 99:
                if (frame.cid != null) settle(String(frame.cid));
                emit('error', frame);
                break;
            case 10:
            case 11:
                emit('message', frame);
                break;
            case 13:
                emit('synced', frame);
                break;
            case 15:
                emit('read', frame);
                break;
            case 17:
                emit('presence', frame);
                break;
            default:
                break; // unknown server frames are ignored so newer nodes can add kinds
        }
    }

    function resync() {
        if (ws && ws.readyState === OPEN) ws.send(JSON.stringify({ cmd: 12, since: currentSince() }));
    }

    function currentSince() {
        const pos = Number(since());
        return Number.isSafeInteger(pos) && pos > 0 ? pos : 0;
    }

    function onOpen() {
        attempt = 0;
        setStatus('online');
        startHeartbeat();
        if (watching) ws.send(JSON.stringify({ cmd: 16, watch: watching }));
        while (outbox.length > 0 && ws && ws.readyState === OPEN) write(outbox.shift());
    }

    function onClose(event) {
        ws = null;
        stopTimers();
        const lost = forgetInflight();
        if (lost.length > 0) emit('lost', lost, 'closed');
        if (event?.code === CLOSE_LOGGED_OUT) {
            stopped = true;
            setStatus('closed');
            emit('loggedOut');
        } else if (stopped) {
            setStatus('closed');
        } else {
            scheduleRetry();
        }
    }

    function connect() {
        if (stopped || ws) return;
        if (retryTimer !== null) timers.clearTimeout(retryTimer);
        retryTimer = null;
        setStatus('connecting');
        let socket;
        try {
            socket = new WebSocketImpl(typeof url === 'function' ? url(currentSince()) : url);
        } catch {
            scheduleRetry();
            return;
        }
        ws = socket;
        // Events of a socket that has been replaced or stopped are stale: ignore them.
        socket.onopen = () => ws === socket && onOpen();
        socket.onmessage = (event) => ws === socket && handleFrame(event.data);
        socket.onclose = (event) => ws === socket && onClose(event);
        socket.onerror = () => {}; // a close event always follows an error
    }

    return {
        connect,
        /** Sends a frame now ('sent'), after reconnecting ('queued'), or not at all ('full'). */
        send(frame) {
            if (ws && ws.readyState === OPEN) {
                write(frame);
                return 'sent';
            }
            if (stopped || outbox.length >= MAX_OUTBOX) return 'full';
            outbox.push(frame);
            return 'queued';
        },
        /** Watches these users' presence (cmd 16), now and after every reconnect; at most 1000. */
        watch(ids) {
            watching = [...new Set(ids.map(Number).filter((id) => Number.isSafeInteger(id) && id > 0))].slice(0, MAX_WATCH);
            if (ws && ws.readyState === OPEN) ws.send(JSON.stringify({ cmd: 16, watch: watching }));
        },
        /** Asks the node for everything after the highest position held (cmd 12). */
        resync,
        /** Skips the rest of the backoff wait, e.g. when the browser says the network is back. */
        retryNow() {
            if (!stopped && !ws) connect();
        },
        /** Closes for good (logging out): no reconnect, the outbox is dropped. */
        stop() {
            stopped = true;
            stopTimers();
            outbox.length = 0;
            const socket = ws;
            ws = null;
            forgetInflight();
            if (socket) socket.close(1000, 'bye');
            setStatus('closed');
        },
        get status() {
            return status;
        },
        get queued() {
            return outbox.length;
        },
    };
}
