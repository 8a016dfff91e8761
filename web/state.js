// The chat page's state and the pure functions that change it: conversations (one per friend or
// group), their messages, unread counts, the connection status and the current notice.
// Every function takes a state and returns a new one (or the same object when nothing changed);
// nothing here touches the DOM, the network or the clock. chat.js owns the current state and
// hands it to render.js; tests/web/state.test.mjs pins the rules.

import { isSafeUrl, preview } from './format.js';

// A long-open tab must not grow without bound; older messages fall off the top.
export const MAX_MESSAGES_PER_CONVERSATION = 500;

export const CMD = Object.freeze({ HEARTBEAT: 0, ACK: 1, SINGLE: 10, GROUP: 11, ERROR: 99 });

/** "u:<user id>" for a single chat, "g:<group id>" for a group. */
export function conversationKey(kind, id) {
    return `${kind === 'group' ? 'g' : 'u'}:${id}`;
}

export function initialState(me) {
    return {
        me: { ...me, id: Number(me.id) },
        conversations: {},
        pending: {}, // client id -> conversation key, for matching acks and errors
        active: null,
        connection: 'connecting',
        notice: null,
        noticeSeq: 0,
    };
}

function newConversation(kind, id, name) {
    return { key: conversationKey(kind, id), kind, id, name, avatar: '', unread: 0, lastAt: 0, last: '', messages: [] };
}

function withConversation(state, key, conversation) {
    return { ...state, conversations: { ...state.conversations, [key]: conversation } };
}

function positiveId(value) {
    const n = Number(value);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function upsert(state, kind, id, name, avatar) {
    const key = conversationKey(kind, id);
    const old = state.conversations[key] ?? newConversation(kind, id, name);
    const named = { ...old, name, avatar: isSafeUrl(avatar) ? avatar : '', placeholder: false };
    return withConversation(state, key, named);
}

/** Adds or renames friends from /contact/loadfriend or /contact/addfriend; keeps their messages. */
export function upsertFriends(state, profiles) {
    let next = state;
    for (const p of profiles ?? []) {
        const id = positiveId(p?.id);
        if (id === null || id === state.me.id) continue;
        next = upsert(next, 'user', id, String(p.nickname || `User ${id}`), p.avatar);
    }
    return next;
}

/** Adds or renames groups from /contact/loadcommunity, createcommunity or joincommunity. */
export function upsertGroups(state, groups) {
    let next = state;
    for (const g of groups ?? []) {
        const id = positiveId(g?.id);
        if (id === null) continue;
        next = upsert(next, 'group', id, String(g.name || `Group ${id}`), g.icon);
    }
    return next;
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

/** Opens a conversation (clearing its unread count), or closes the open one with null. */
export function setActive(state, key) {
    if (key === null) return { ...state, active: null };
    const conversation = state.conversations[key];
    if (!conversation) return state;
    const opened = { ...state, active: key };
    return conversation.unread === 0 ? opened : withConversation(opened, key, { ...conversation, unread: 0 });
}

export function setConnection(state, connection) {
    return state.connection === connection ? state : { ...state, connection };
}

export function setNotice(state, text, kind = 'info') {
    const seq = state.noticeSeq + 1;
    return { ...state, notice: { text: String(text), kind, seq }, noticeSeq: seq };
}

/** Clears the notice only if it is still the one the caller showed (a newer one stays). */
export function clearNotice(state, seq) {
    return state.notice && state.notice.seq === seq ? { ...state, notice: null } : state;
}

function appendMessage(conversation, message, countUnread) {
    const messages = [...conversation.messages, message].slice(-MAX_MESSAGES_PER_CONVERSATION);
    const lastAt = Math.max(conversation.lastAt, Number(message.createat) || 0);
    const unread = conversation.unread + (countUnread ? 1 : 0);
    return { ...conversation, messages, lastAt, unread, last: preview(message) };
}

/**
 * Records a message this page is sending; it stays "pending" until the ack with the same
 * client id arrives. `now` is the local time in ms (the server's time replaces it on ack).
 */
export function addOutgoing(state, key, { cid, media, content, now }) {
    const conversation = state.conversations[key];
    if (!conversation) return state;
    const message = { cid, id: null, userid: state.me.id, mine: true, status: 'pending', media, content, createat: now };
    const next = withConversation(state, key, appendMessage(conversation, message, false));
    return { ...next, pending: { ...next.pending, [cid]: key } };
}

function updatePending(state, cid, change) {
    const key = state.pending[String(cid)];
    const conversation = key && state.conversations[key];
    if (!conversation) return state;
    const messages = conversation.messages.map((m) => (m.cid === String(cid) ? { ...m, ...change } : m));
    const pending = { ...state.pending };
    delete pending[String(cid)];
    return { ...withConversation(state, key, { ...conversation, messages }), pending };
}

export function isPending(state, cid) {
    return cid != null && Object.hasOwn(state.pending, String(cid));
}

/** Server ack {cmd:1, id, cid, createat}: the message with that client id is now "sent". */
export function applyAck(state, ack) {
    if (!isPending(state, ack?.cid)) return state;
    const change = { status: 'sent', id: Number(ack.id) };
    if (Number.isFinite(Number(ack.createat))) change.createat = Number(ack.createat);
    return updatePending(state, ack.cid, change);
}

/** Error frame {cmd:99, code, msg, cid}: fails the message it names, otherwise becomes a notice. */
export function applyError(state, frame) {
    const text = String(frame?.msg || 'the server refused a message');
    if (isPending(state, frame.cid)) return updatePending(state, frame.cid, { status: 'failed', error: text });
    return setNotice(state, `Server: ${text}`, 'error');
}

/** Messages whose fate is unknown (connection lost before the ack) or that could not be sent. */
export function failMessages(state, cids, reason) {
    let next = state;
    for (const cid of cids) next = updatePending(next, cid, { status: 'failed', error: reason });
    return next;
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

/**
 * A message delivered by the server ({id, userid, cmd, dstid, media, ..., createat}).
 * Unknown conversations are created with a placeholder name (the caller may look the name up);
 * a message id seen before is ignored; messages from others to a conversation that is not
 * open raise its unread count.
 */
export function receiveMessage(state, msg) {
    const key = conversationOf(state, msg);
    if (key === null) return state;
    const [prefix, rawId] = key.split(':');
    const id = Number(rawId);
    const kind = prefix === 'g' ? 'group' : 'user';
    const existing = state.conversations[key];
    const conversation = existing ?? newConversation(kind, id, kind === 'group' ? `Group ${id}` : `User ${id}`);
    const messageId = Number(msg.id);
    if (Number.isFinite(messageId) && conversation.messages.some((m) => m.id === messageId)) return state;
    const mine = Number(msg.userid) === state.me.id;
    const message = { ...msg, id: messageId, userid: Number(msg.userid), mine, status: mine ? 'sent' : 'received' };
    const countUnread = !mine && state.active !== key;
    const updated = { ...appendMessage(conversation, message, countUnread), placeholder: existing ? Boolean(existing.placeholder) : true };
    return withConversation(state, key, updated);
}

/** Names a conversation that was created from a message (see receiveMessage). */
export function renameConversation(state, key, name) {
    const conversation = state.conversations[key];
    if (!conversation || !name) return state;
    return withConversation(state, key, { ...conversation, name: String(name), placeholder: false });
}

/** Display name of a message's author inside a conversation. */
export function authorName(state, userid) {
    if (Number(userid) === state.me.id) return 'You';
    return state.conversations[conversationKey('user', userid)]?.name ?? `User ${userid}`;
}
