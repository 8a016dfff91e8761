// Turns the chat state (state.js) into DOM inside view/chat.html. All user-provided text goes in
// with textContent / text nodes, never innerHTML; urls become src/href only after the checks in
// format.js. Nodes are reused while their data is unchanged, so focus, scroll position and
// loaded images survive re-renders. Used by chat.js, which wires the events.

import { MEDIA, formatTime, isHttpUrl, isSafeUrl, summarize } from './format.js';
import { authorName, listConversations, totalUnread } from './state.js';

/** createElement with attributes; children may be nodes or strings (added as text nodes). */
export function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (name === 'className') node.className = value;
        else if (name === 'text') node.textContent = value;
        else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
    return node;
}

/** Looks up the elements of view/chat.html once. */
export function findElements(doc) {
    const byId = (id) => doc.getElementById(id);
    return {
        app: byId('app'),
        me: byId('me'),
        connection: byId('connection'),
        notice: byId('notice'),
        friends: byId('friends'),
        friendsEmpty: byId('friends-empty'),
        groups: byId('groups'),
        groupsEmpty: byId('groups-empty'),
        empty: byId('pane-empty'),
        conversation: byId('conversation'),
        title: byId('conv-title'),
        subtitle: byId('conv-sub'),
        messages: byId('messages'),
        composer: byId('composer'),
        input: byId('message'),
        back: byId('back'),
    };
}

const CONNECTION_TEXT = { connecting: 'Connecting…', online: 'Online', offline: 'Offline', closed: 'Offline' };

function initials(name) {
    const letters = Array.from(String(name).trim());
    return (letters[0] ?? '?').toUpperCase();
}

// Hue from the name so each contact keeps its colour; lightness is fixed for AA contrast.
function hue(text) {
    let h = 0;
    for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
}

function avatar(conversation) {
    const circle = el('span', { className: 'avatar', 'aria-hidden': 'true' });
    circle.style.setProperty('--avatar-hue', String(hue(conversation.key)));
    if (conversation.avatar && isSafeUrl(conversation.avatar)) {
        circle.append(el('img', { src: conversation.avatar, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer' }));
    } else {
        circle.textContent = initials(conversation.name);
    }
    return circle;
}

function domId(key) {
    return `conv-${key.replace(':', '-')}`;
}

function conversationItem(conversation, active) {
    const id = domId(conversation.key);
    const name = el('span', { className: 'conv-name', id: `${id}-name`, text: conversation.name });
    const detail = conversation.last || (conversation.kind === 'group' ? `Group id ${conversation.id}` : '');
    const last = el('span', { className: 'conv-last', id: `${id}-last`, text: detail });
    const labelledBy = [`${id}-name`];
    const parts = [avatar(conversation), el('span', { className: 'conv-text' }, name, last)];
    if (conversation.unread > 0) {
        const count = conversation.unread > 99 ? '99+' : String(conversation.unread);
        const label = `${conversation.unread} unread`;
        parts.push(el('span', { className: 'badge', id: `${id}-badge`, role: 'img', 'aria-label': label, text: count }));
        labelledBy.push(`${id}-badge`);
    }
    // The button's name is the contact's name (plus the badge); the preview is its description.
    const button = el(
        'button',
        {
            type: 'button',
            className: 'conv',
            'data-key': conversation.key,
            'aria-labelledby': labelledBy.join(' '),
            'aria-describedby': detail ? `${id}-last` : null,
            'aria-current': active ? 'true' : null,
        },
        parts,
    );
    return el('li', {}, button);
}

// Per container: key -> {data, node} from the previous render.
const keyedCache = new WeakMap();

/**
 * Makes `parent`'s children the nodes for `items`, in order, rebuilding only items whose `data`
 * changed (by identity). Nodes are moved only when out of place, so a focused button usually
 * stays where it is and keeps focus.
 */
function reconcile(parent, items, keyOf, build) {
    const previous = keyedCache.get(parent) ?? new Map();
    const wanted = new Set(items.map(keyOf));
    for (const [key, entry] of previous) if (!wanted.has(key)) entry.node.remove();
    const next = new Map();
    items.forEach((item, index) => {
        const key = keyOf(item);
        let entry = previous.get(key);
        if (!entry || entry.data !== item.data) {
            entry?.node.remove();
            entry = { data: item.data, node: build(item) };
        }
        next.set(key, entry);
        const current = parent.children[index] ?? null;
        if (current !== entry.node) parent.insertBefore(entry.node, current);
    });
    while (parent.children.length > items.length) parent.lastElementChild.remove();
    keyedCache.set(parent, next);
}

// A list item is rebuilt when its conversation object or its "open" flag changes; this gives
// each (conversation, flag) pair one stable identity for reconcile().
const itemTokens = new WeakMap();
function itemToken(conversation, active) {
    let pair = itemTokens.get(conversation);
    if (!pair) itemTokens.set(conversation, (pair = [{}, {}]));
    return pair[active ? 1 : 0];
}

function renderList(ul, emptyNote, conversations, activeKey) {
    const focused = ul.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    const items = conversations.map((c) => ({ key: c.key, conversation: c, data: itemToken(c, c.key === activeKey) }));
    reconcile(ul, items, (item) => item.key, (item) => conversationItem(item.conversation, item.key === activeKey));
    emptyNote.hidden = conversations.length > 0;
    if (focused && !ul.contains(document.activeElement)) {
        ul.querySelector(`button[data-key="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
    }
}

function link(url, text) {
    return el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text);
}

function image(url, alt, className = 'msg-image') {
    return el('img', { className, src: url, alt, loading: 'lazy', referrerpolicy: 'no-referrer' });
}

/** The visible body of a message, by media; anything unsafe or unknown falls back to its summary. */
export function messageBody(msg) {
    const media = Number(msg.media);
    if (media === MEDIA.TEXT) return el('p', { className: 'msg-text', text: String(msg.content ?? '') });
    if (media === MEDIA.IMAGE && isSafeUrl(msg.url)) return image(msg.url, 'Image');
    if (media === MEDIA.LINK && isHttpUrl(msg.url)) return el('p', { className: 'msg-text' }, link(msg.url, msg.url));
    if (media === MEDIA.EMOJI && msg.content) return el('p', { className: 'msg-text msg-emoji-text', text: String(msg.content) });
    if (media === MEDIA.EMOJI && isSafeUrl(msg.url)) return image(msg.url, 'Emoji', 'msg-emoji');
    if (media === MEDIA.NEWS) {
        const title = String(msg.content ?? 'News');
        return el(
            'div',
            { className: 'msg-news' },
            isSafeUrl(msg.pic) ? image(msg.pic, '') : null,
            el('p', { className: 'msg-news-title' }, isHttpUrl(msg.url) ? link(msg.url, title) : title),
            msg.memo ? el('p', { className: 'msg-news-memo', text: String(msg.memo) }) : null,
        );
    }
    return el('p', { className: 'msg-text msg-summary', text: summarize(msg) });
}

const STATUS_TEXT = { pending: 'Sending…', sent: 'Sent', failed: 'Not sent' };

function messageItem(msg, state, conversation) {
    const time = Number(msg.createat);
    const meta = el(
        'div',
        { className: 'msg-meta' },
        Number.isFinite(time) ? el('time', { datetime: new Date(time).toISOString(), text: formatTime(time) }) : null,
    );
    if (msg.mine) {
        const status = STATUS_TEXT[msg.status] ?? '';
        const text = msg.status === 'failed' && msg.error ? `${status}: ${msg.error}` : status;
        meta.append(el('span', { className: 'msg-status', text }));
    }
    const author =
        conversation.kind === 'group' && !msg.mine ? el('div', { className: 'msg-author', text: authorName(state, msg.userid) }) : null;
    return el(
        'li',
        { className: `msg ${msg.mine ? 'mine' : 'theirs'}`, 'data-status': msg.status },
        author,
        el('div', { className: 'bubble' }, messageBody(msg)),
        meta,
    );
}

// Whether each message list was scrolled to the bottom, so new messages keep it there.
const stickToBottom = new WeakMap();

function watchScroll(ol) {
    if (stickToBottom.has(ol)) return;
    stickToBottom.set(ol, true);
    ol.addEventListener('scroll', () => stickToBottom.set(ol, ol.scrollHeight - ol.scrollTop - ol.clientHeight < 48), {
        passive: true,
    });
    // Images change the height after they load; follow them if the reader was at the bottom.
    ol.addEventListener('load', () => stickToBottom.get(ol) && (ol.scrollTop = ol.scrollHeight), true);
}

function renderMessages(ol, state, conversation) {
    watchScroll(ol);
    const switched = ol.dataset.key !== conversation.key;
    if (switched) {
        ol.replaceChildren();
        keyedCache.delete(ol);
        ol.dataset.key = conversation.key;
    }
    const items = conversation.messages.map((m) => ({ key: m.cid ? `c:${m.cid}` : `m:${m.id}`, data: m }));
    const lastMine = conversation.messages.at(-1)?.mine;
    const before = ol.children.length;
    reconcile(ol, items, (item) => item.key, (item) => messageItem(item.data, state, conversation));
    const grew = ol.children.length !== before;
    if (switched || (grew && (stickToBottom.get(ol) || lastMine))) {
        ol.scrollTop = ol.scrollHeight;
        stickToBottom.set(ol, true);
    }
}

function renderPane(dom, state) {
    const conversation = state.active ? state.conversations[state.active] : null;
    dom.app.dataset.pane = conversation ? 'conversation' : 'list';
    dom.empty.hidden = Boolean(conversation);
    dom.conversation.hidden = !conversation;
    if (!conversation) return;
    dom.title.textContent = conversation.name;
    dom.subtitle.replaceChildren();
    if (conversation.kind === 'group') {
        dom.subtitle.append('Group id ', el('strong', { className: 'group-id', text: String(conversation.id) }), ' · share it so others can join');
    } else {
        dom.subtitle.append(`User id ${conversation.id}`);
    }
    renderMessages(dom.messages, state, conversation);
}

function renderNotice(node, notice) {
    node.hidden = !notice;
    node.dataset.kind = notice?.kind ?? '';
    node.textContent = notice?.text ?? '';
}

/** Brings the whole page in line with `state`. Cheap when little changed. */
export function renderApp(dom, state) {
    dom.me.textContent = state.me.nickname || `User ${state.me.id}`;
    dom.me.title = `Your user id: ${state.me.id}`;
    dom.connection.dataset.state = state.connection;
    dom.connection.textContent = CONNECTION_TEXT[state.connection] ?? state.connection;
    renderNotice(dom.notice, state.notice);
    renderList(dom.friends, dom.friendsEmpty, listConversations(state, 'user'), state.active);
    renderList(dom.groups, dom.groupsEmpty, listConversations(state, 'group'), state.active);
    renderPane(dom, state);
    const unread = totalUnread(state);
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
}
