// The chat page's state and the pure functions that change it: people, conversations (one per
// friend or group) with their messages, unread counts and history paging, the stream position
// (resume point), presence, the connection status and the current notice.
// Every function takes a state and returns a new one (or the same object when nothing changed);
// nothing here touches the DOM, the network or the clock. chat.js owns the current state and
// hands it to the views; tests/web/state.test.mjs pins the rules.
//
// Unread counting: the node's /message/conversations snapshot says how many messages of each
// conversation are unread (`baseUnread`), up to that conversation's last pos (`basePos`); every
// pos up to `floor` (the snapshot's highest) is accounted for by it. A message held here is
// unread (`m.unread`) when it is someone else's, arrived while its conversation was not being
// read, and lies above both the floor and the conversation's read mark. A conversation's count
// is baseUnread plus those.

import { isSafeUrl, preview } from './format.js';
import { advance, byPosition, highestPos, posOf } from './positions.js';

// A long-open tab must not grow without bound: live messages push the oldest out beyond this.
export const MAX_MESSAGES_PER_CONVERSATION = 1000;

export const CMD = Object.freeze({
    HEARTBEAT: 0,
    ACK: 1,
    SINGLE: 10,
    GROUP: 11,
    SYNC: 12,
    SYNCED: 13,
    LOST: 14,
    READ: 15,
    WATCH: 16,
    PRESENCE: 17,
    ERROR: 99,
});

// The fields of a chat message the page keeps (anything else a frame carries is dropped).
const MESSAGE_FIELDS = ['id', 'userid', 'cmd', 'dstid', 'media', 'content', 'url', 'pic', 'memo', 'amount', 'createat'];

/** "u:<user id>" for a single chat, "g:<group id>" for a group. */
export function conversationKey(kind, id) {
    return `${kind === 'group' ? 'g' : 'u'}:${id}`;
}

/** {kind, id} of a conversation key. */
export function parseKey(key) {
    const [prefix, raw] = String(key).split(':');
    return { kind: prefix === 'g' ? 'group' : 'user', id: Number(raw) };
}

export function initialState(me) {
    return {
        me: { ...me, id: Number(me.id) },
        people: {}, // user id -> {nickname, avatar}: authors, cards, friends
        conversations: {},
        pending: {}, // client id -> conversation key, for matching acks and errors
        active: null,
        visible: true,
        connection: 'connecting',
        retryInMs: 0,
        pos: 0, // the highest pos held: the resume point of the next connection
        floor: 0, // positions up to here are counted by the snapshot (see the header)
        snapshot: false, // whether /message/conversations answered
        synced: false, // whether the first cmd 13 arrived
        online: {}, // user id -> true, for watched users (friends)
        presence: false, // whether the node reports presence at all (cmd 17)
        notice: null,
        noticeSeq: 0,
    };
}

function positiveId(value) {
    const n = Number(value);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function newConversation(kind, id, name) {
    return {
        key: conversationKey(kind, id),
        kind,
        id,
        name,
        avatar: '',
        friend: false,
        placeholder: true, // named from an id until a profile or group answers
        messages: [],
        lastAt: 0,
        last: '',
        baseUnread: 0,
        basePos: 0,
        readPos: 0,
        unread: 0,
        history: { loaded: false, loading: false, more: true, failed: false },
    };
}

function placeholderName(kind, id) {
    return kind === 'group' ? `Group ${id}` : `User ${id}`;
}

// Recomputes the derived fields of a conversation after its messages or marks changed.
function settle(conversation) {
    let unread = conversation.baseUnread;
    for (const m of conversation.messages) if (m.unread) unread += 1;
    const newest = conversation.messages.at(-1);
    const lastAt = Math.max(conversation.lastAt, Number(newest?.createat) || 0);
    const last = newest ? preview(newest) : conversation.last;
    return { ...conversation, unread, lastAt, last };
}

function withConversation(state, key, conversation) {
    return { ...state, conversations: { ...state.conversations, [key]: settle(conversation) } };
}

function ensureConversation(state, kind, id) {
    const key = conversationKey(kind, id);
    if (state.conversations[key]) return state;
    const name = kind === 'user' ? state.people[id]?.nickname || placeholderName(kind, id) : placeholderName(kind, id);
    const conversation = { ...newConversation(kind, id, name), placeholder: !(kind === 'user' && state.people[id]) };
    return withConversation(state, key, conversation);
}

/** Remembers names and avatars of users (friends, /user/find answers); renames their conversations. */
export function rememberPeople(state, profiles) {
    let people = state.people;
    let conversations = state.conversations;
    for (const p of profiles ?? []) {
        const id = positiveId(p?.id);
        if (id === null) continue;
        const person = { nickname: String(p.nickname || `User ${id}`), avatar: isSafeUrl(p.avatar) ? p.avatar : '' };
        const old = people[id];
        if (!old || old.nickname !== person.nickname || old.avatar !== person.avatar) people = { ...people, [id]: person };
        const key = conversationKey('user', id);
        const c = conversations[key];
        if (c && (c.name !== person.nickname || c.avatar !== person.avatar || c.placeholder)) {
            conversations = { ...conversations, [key]: { ...c, name: person.nickname, avatar: person.avatar, placeholder: false } };
        }
    }
    return people === state.people && conversations === state.conversations ? state : { ...state, people, conversations };
}

/** Adds or renames friends from /contact/loadfriend or /contact/addfriend; keeps their messages. */
export function upsertFriends(state, profiles) {
    let next = rememberPeople(state, profiles);
    for (const p of profiles ?? []) {
        const id = positiveId(p?.id);
        if (id === null || id === state.me.id) continue;
        next = ensureConversation(next, 'user', id);
        const key = conversationKey('user', id);
        const c = next.conversations[key];
        if (!c.friend) next = withConversation(next, key, { ...c, friend: true });
    }
    return next;
}

/** Adds or renames groups from /contact/loadcommunity, createcommunity or joincommunity. */
export function upsertGroups(state, groups) {
    let next = state;
    for (const g of groups ?? []) {
        const id = positiveId(g?.id);
        if (id === null) continue;
        next = ensureConversation(next, 'group', id);
        const key = conversationKey('group', id);
        const c = next.conversations[key];
        const name = String(g.name || placeholderName('group', id));
        const avatar = isSafeUrl(g.icon) ? g.icon : '';
        if (c.name !== name || c.avatar !== avatar || c.placeholder || !c.friend) {
            next = withConversation(next, key, { ...c, name, avatar, placeholder: false, friend: true });
        }
    }
    return next;
}

/** Ids of the friends (the users whose presence the page watches), ascending. */
export function friendIds(state) {
    return Object.values(state.conversations)
        .filter((c) => c.kind === 'user' && c.friend)
        .map((c) => c.id)
        .sort((a, b) => a - b);
}

/** Conversations of one kind, most recent activity first, then by name. */
export function listConversations(state, kind) {
    return Object.values(state.conversations)
        .filter((c) => c.kind === kind)
        .sort((a, b) => b.lastAt - a.lastAt || a.name.localeCompare(b.name) || a.id - b.id);
}

export function totalUnread(state) {
    return Object.values(state.conversations).reduce((sum, c) => sum + c.unread, 0);
}

// Everything held in the conversation counts as read from now on.
function readAll(conversation) {
    const readPos = Math.max(conversation.readPos, highestPos(conversation.messages));
    const messages = conversation.messages.some((m) => m.unread)
        ? conversation.messages.map((m) => (m.unread ? { ...m, unread: false } : m))
        : conversation.messages;
    return { ...conversation, messages, readPos, baseUnread: 0 };
}

function reading(state, key) {
    return state.active === key && state.visible;
}

/** Opens a conversation (everything in it becomes read), or closes the open one with null. */
export function setActive(state, key) {
    if (key === null) return state.active === null ? state : { ...state, active: null };
    const conversation = state.conversations[key];
    if (!conversation) return state;
    const opened = state.active === key ? state : { ...state, active: key };
    return opened.visible ? withConversation(opened, key, readAll(conversation)) : opened;
}

/** The page became visible or hidden; what arrives while hidden stays unread until it is seen. */
export function setVisible(state, visible) {
    const next = state.visible === visible ? state : { ...state, visible };
    if (visible && next.active && next.conversations[next.active]) {
        return withConversation(next, next.active, readAll(next.conversations[next.active]));
    }
    return next;
}

/** The read mark the page should send for a conversation: {kind, id, pos} or null when nothing new. */
export function readMarkToSend(state, key, alreadySent = 0) {
    const c = state.conversations[key];
    if (!c || !reading(state, key)) return null;
    const pos = highestPos(c.messages);
    return pos > 0 && pos > alreadySent ? { kind: c.kind, id: c.id, pos } : null;
}

/** A read mark {cmd:15, peer|group, pos} from the node (this user read up to pos on some device). */
export function applyReadMark(state, frame) {
    const pos = posOf(frame);
    const peer = positiveId(frame?.peer);
    const group = positiveId(frame?.group);
    if (pos === null || (peer === null && group === null)) return state;
    const key = group !== null ? conversationKey('group', group) : conversationKey('user', peer);
    const c = state.conversations[key];
    if (!c || pos <= c.readPos) return state;
    const messages = c.messages.map((m) => (m.unread && typeof m.pos === 'number' && m.pos <= pos ? { ...m, unread: false } : m));
    const baseUnread = pos >= c.basePos ? 0 : c.baseUnread;
    return withConversation(state, key, { ...c, messages, readPos: pos, baseUnread });
}

/**
 * The /message/conversations answer: [{peer|group, last, unread}]. Sets each listed
 * conversation's unread count and preview; every pos up to the highest listed is now counted.
 */
export function applySnapshot(state, entries) {
    let next = { ...state, snapshot: true };
    let floor = state.floor;
    for (const entry of entries ?? []) {
        const peer = positiveId(entry?.peer);
        const group = positiveId(entry?.group);
        if (peer === null && group === null) continue;
        const [kind, id] = group !== null ? ['group', group] : ['user', peer];
        if (kind === 'user' && id === state.me.id) continue;
        next = ensureConversation(next, kind, id);
        const key = conversationKey(kind, id);
        const c = next.conversations[key];
        const last = entry.last && typeof entry.last === 'object' ? entry.last : null;
        const basePos = posOf(last) ?? 0;
        floor = Math.max(floor, basePos);
        const unread = Math.max(0, Math.floor(Number(entry.unread) || 0));
        const updated = {
            ...c,
            basePos,
            baseUnread: reading(next, key) ? 0 : unread,
            lastAt: Math.max(c.lastAt, Number(last?.createat) || 0),
            last: c.messages.length ? c.last : last ? preview(last) : c.last,
        };
        next = withConversation(next, key, updated);
    }
    return raiseFloor(next, floor);
}

// Messages at or below the floor are counted by the snapshot, not one by one.
function raiseFloor(state, floor) {
    if (floor <= state.floor) return state;
    let next = { ...state, floor };
    for (const [key, c] of Object.entries(state.conversations)) {
        if (!c.messages.some((m) => m.unread && typeof m.pos === 'number' && m.pos <= floor)) continue;
        const messages = c.messages.map((m) => (m.unread && typeof m.pos === 'number' && m.pos <= floor ? { ...m, unread: false } : m));
        next = withConversation(next, key, { ...c, messages });
    }
    return next;
}

/**
 * cmd 13: the node has sent everything up to pos. Without a snapshot, what the first sync
 * brought is taken as already seen (the node's unread counts are not known).
 */
export function applySynced(state, frame) {
    const pos = posOf(frame) ?? 0;
    let next = { ...state, pos: Math.max(state.pos, pos), synced: true };
    if (!state.synced && !state.snapshot) next = raiseFloor(next, pos);
    return next;
}

export function setConnection(state, connection, retryInMs = 0) {
    return state.connection === connection && state.retryInMs === retryInMs ? state : { ...state, connection, retryInMs };
}

/** cmd 17: {online: [ids], offline: [ids]}. */
export function applyPresence(state, frame) {
    const online = { ...state.online };
    for (const id of Array.isArray(frame?.online) ? frame.online : []) if (positiveId(id)) online[Number(id)] = true;
    for (const id of Array.isArray(frame?.offline) ? frame.offline : []) delete online[Number(id)];
    return { ...state, online, presence: true };
}

export function isOnline(state, userId) {
    return state.online[Number(userId)] === true;
}

export function setNotice(state, text, kind = 'info') {
    const seq = state.noticeSeq + 1;
    return { ...state, notice: { text: String(text), kind, seq }, noticeSeq: seq };
}

/** Clears the notice only if it is still the one the caller showed (a newer one stays). */
export function clearNotice(state, seq) {
    return state.notice && state.notice.seq === seq ? { ...state, notice: null } : state;
}

function insertMessage(conversation, message, { trim = true } = {}) {
    let messages = [...conversation.messages, message];
    if (typeof message.pos === 'number') messages.sort(byPosition); // stable: pending ones stay last
    if (trim && messages.length > MAX_MESSAGES_PER_CONVERSATION) {
        messages = messages.slice(-MAX_MESSAGES_PER_CONVERSATION);
    }
    return { ...conversation, messages };
}

function pickFields(frame) {
    const out = {};
    for (const field of MESSAGE_FIELDS) if (frame[field] !== undefined && frame[field] !== null) out[field] = frame[field];
    return out;
}

/**
 * Records a message this page is sending; it stays "pending" until the ack with the same client
 * id arrives. `fields` are the frame's media fields; `now` is the local time in ms (the server's
 * time replaces it on ack); `upload` ({progress, localUrl}) marks a file still uploading.
 */
export function addOutgoing(state, key, { cid, fields, now, upload = null }) {
    const conversation = state.conversations[key];
    if (!conversation) return state;
    const message = {
        ...pickFields(fields),
        cid: String(cid),
        id: null,
        userid: state.me.id,
        mine: true,
        status: upload ? 'uploading' : 'pending',
        createat: now,
        upload,
    };
    const next = withConversation(state, key, insertMessage(conversation, message));
    return { ...next, pending: { ...next.pending, [String(cid)]: key } };
}

function updatePending(state, cid, change, { settled = true } = {}) {
    const key = state.pending[String(cid)];
    const conversation = key && state.conversations[key];
    if (!conversation) return state;
    let messages = conversation.messages.map((m) => (m.cid === String(cid) ? { ...m, ...change } : m));
    if (change.pos !== undefined) messages = [...messages].sort(byPosition);
    let pending = state.pending;
    if (settled) {
        pending = { ...state.pending };
        delete pending[String(cid)];
    }
    return { ...withConversation(state, key, { ...conversation, messages }), pending };
}

export function isPending(state, cid) {
    return cid != null && Object.hasOwn(state.pending, String(cid));
}

/** The message with this client id, or null. */
export function findOutgoing(state, cid) {
    const key = state.pending[String(cid)];
    return key ? (state.conversations[key]?.messages.find((m) => m.cid === String(cid)) ?? null) : null;
}

/** Upload progress of an outgoing file (0..1). */
export function setUploadProgress(state, cid, progress) {
    const m = findOutgoing(state, cid);
    if (!m || !m.upload) return state;
    return updatePending(state, cid, { upload: { ...m.upload, progress } }, { settled: false });
}

/** The upload finished: the message carries the server's url and waits for its ack. */
export function uploadDone(state, cid, fields) {
    if (!findOutgoing(state, cid)) return state;
    return updatePending(state, cid, { ...pickFields(fields), status: 'pending' }, { settled: false });
}

/** Server ack {cmd:1, id, cid, createat, pos}: the message with that client id is now "sent". */
export function applyAck(state, ack) {
    const pos = posOf(ack);
    const withPos = pos !== null ? { ...state, pos: Math.max(state.pos, pos) } : state;
    if (!isPending(withPos, ack?.cid)) return withPos;
    const change = { status: 'sent', id: Number(ack.id), error: undefined };
    if (Number.isFinite(Number(ack.createat))) change.createat = Number(ack.createat);
    if (pos !== null) change.pos = pos;
    return updatePending(withPos, ack.cid, change);
}

/** Error frame {cmd:99, code, msg, cid}: fails the message it names; null when it names none. */
export function applyError(state, frame) {
    if (!isPending(state, frame?.cid)) return null;
    const text = String(frame?.msg || 'the server refused the message');
    return updatePending(state, frame.cid, { status: 'failed', error: text }, { settled: false });
}

/** Messages that could not be sent (connection lost before the ack, upload failed, offline). */
export function failMessages(state, cids, reason) {
    let next = state;
    for (const cid of cids) next = updatePending(next, cid, { status: 'failed', error: reason }, { settled: false });
    return next;
}

/**
 * A failed message is tried again under a new client id: it moves to the end as pending
 * (or uploading, when its file never reached the server).
 */
export function retryMessage(state, oldCid, newCid, now) {
    const key = state.pending[String(oldCid)];
    const conversation = key && state.conversations[key];
    const old = conversation?.messages.find((m) => m.cid === String(oldCid));
    if (!old || old.status !== 'failed') return state;
    const again = {
        ...old,
        cid: String(newCid),
        status: old.url || !old.upload ? 'pending' : 'uploading',
        error: undefined,
        createat: now,
        upload: old.upload && !old.url ? { ...old.upload, progress: 0 } : null,
    };
    const messages = [...conversation.messages.filter((m) => m !== old), again];
    const pending = { ...state.pending, [String(newCid)]: key };
    delete pending[String(oldCid)];
    return { ...withConversation(state, key, { ...conversation, messages }), pending };
}

/** Drops a failed message the person gave up on. */
export function discardMessage(state, cid) {
    const key = state.pending[String(cid)];
    const conversation = key && state.conversations[key];
    if (!conversation) return state;
    const messages = conversation.messages.filter((m) => m.cid !== String(cid));
    const pending = { ...state.pending };
    delete pending[String(cid)];
    return { ...withConversation(state, key, { ...conversation, messages }), pending };
}

/** Which conversation a delivered message belongs to, from this user's point of view. */
export function conversationOf(state, msg) {
    const dst = positiveId(msg?.dstid);
    const from = positiveId(msg?.userid);
    if (dst === null || from === null) return null;
    if (Number(msg.cmd) === CMD.GROUP) return conversationKey('group', dst);
    if (Number(msg.cmd) !== CMD.SINGLE) return null;
    // A single message from my own other device is shown in the chat with its recipient.
    return conversationKey('user', from === state.me.id ? dst : from);
}

const sameContent = (a, b) =>
    Number(a.media) === Number(b.media) &&
    (a.content ?? '') === (b.content ?? '') &&
    (a.url ?? '') === (b.url ?? '') &&
    Number(a.amount ?? 0) === Number(b.amount ?? 0);

/**
 * A message delivered by the node ({id, userid, cmd, dstid, media, ..., createat, pos}), live or
 * by sync. Unknown conversations are created with a placeholder name (the caller may look the
 * name up); a message id held already is ignored. One of my own messages that this page marked
 * failed (its ack was lost with the connection) is replaced by the delivered copy.
 */
export function receiveMessage(state, frame) {
    const key = conversationOf(state, frame);
    if (key === null) return state;
    const { kind, id } = parseKey(key);
    let next = ensureConversation(state, kind, id);
    next = { ...next, pos: advance(next.pos, frame) };
    const conversation = next.conversations[key];
    const messageId = Number(frame.id);
    if (!Number.isSafeInteger(messageId) || conversation.messages.some((m) => m.id === messageId)) return next;
    const mine = Number(frame.userid) === state.me.id;
    const pos = posOf(frame);
    const unread =
        !mine && !reading(next, key) && (pos === null || pos > Math.max(next.floor, conversation.readPos));
    const message = { ...pickFields(frame), id: messageId, userid: Number(frame.userid), mine, status: mine ? 'sent' : 'received', unread };
    if (pos !== null) message.pos = pos;
    let base = conversation;
    let pending = next.pending;
    const failed = mine ? conversation.messages.find((m) => m.mine && m.status === 'failed' && sameContent(m, message)) : null;
    if (failed) {
        base = { ...conversation, messages: conversation.messages.filter((m) => m !== failed) };
        pending = { ...pending };
        delete pending[failed.cid];
    }
    let updated = insertMessage(base, message);
    if (reading(next, key) && pos !== null) updated = { ...updated, readPos: Math.max(updated.readPos, pos) };
    return { ...withConversation(next, key, updated), pending };
}

/** History is being fetched for a conversation (so scrolling does not ask twice). */
export function setHistoryLoading(state, key) {
    const c = state.conversations[key];
    if (!c || c.history.loading) return state;
    return withConversation(state, key, { ...c, history: { ...c.history, loading: true, failed: false } });
}

/** History fetch failed: stop asking until the person tries again. `unavailable`: the node has no history API. */
export function historyFailed(state, key, { unavailable = false } = {}) {
    const c = state.conversations[key];
    if (!c) return state;
    const history = unavailable
        ? { ...c.history, loading: false, loaded: true, more: false, unavailable: true }
        : { ...c.history, loading: false, failed: true };
    return withConversation(state, key, { ...c, history });
}

/**
 * A /message/history page ({messages oldest first, more}) for a conversation: older messages
 * join the ones held (duplicates dropped); they never count as unread.
 */
export function mergeHistory(state, key, page) {
    const c = state.conversations[key];
    if (!c) return state;
    const held = new Set(c.messages.map((m) => m.id));
    const older = [];
    let pos = state.pos;
    for (const frame of Array.isArray(page?.messages) ? page.messages : []) {
        if (conversationOf(state, frame) !== key) continue;
        const id = Number(frame.id);
        if (!Number.isSafeInteger(id) || held.has(id)) continue;
        held.add(id);
        const mine = Number(frame.userid) === state.me.id;
        const message = { ...pickFields(frame), id, userid: Number(frame.userid), mine, status: mine ? 'sent' : 'received', unread: false };
        const p = posOf(frame);
        if (p !== null) message.pos = p;
        pos = advance(pos, frame);
        older.push(message);
    }
    const messages = [...older, ...c.messages].sort(byPosition);
    const history = { loaded: true, loading: false, failed: false, more: Boolean(page?.more) && older.length > 0 };
    return withConversation({ ...state, pos }, key, { ...c, messages, history });
}

/** Display name of a user: "You", a known nickname, or "User 12". */
export function personName(state, userid) {
    if (Number(userid) === state.me.id) return 'You';
    return state.people[Number(userid)]?.nickname ?? `User ${userid}`;
}

/** Avatar url of a user ('' when none or unsafe). */
export function personAvatar(state, userid) {
    if (Number(userid) === state.me.id) return isSafeUrl(state.me.avatar) ? state.me.avatar : '';
    return state.people[Number(userid)]?.avatar ?? '';
}

/** User ids that messages mention (authors, contact cards) but whose profile is not known yet. */
export function unknownPeople(state, key) {
    const c = state.conversations[key];
    if (!c) return [];
    const ids = new Set();
    for (const m of c.messages) {
        if (!m.mine && !state.people[m.userid]) ids.add(m.userid);
    }
    if (c.kind === 'user' && c.placeholder) ids.add(c.id);
    return [...ids];
}
