// Turns the chat state (state.js) into the DOM of view/chat.html: the top bar (me, connection),
// the notice, the conversation lists (with unread badges and presence) and the open
// conversation's header; the messages themselves are drawn by messages.js. All user-provided
// text goes in as text nodes; nodes are reused while their data is unchanged, so focus, scroll
// position and loaded images survive re-renders. Used by chat.js, which wires the events.

import { formatTime, isSafeUrl } from './format.js';
import { avatar, el, emojiText, reconcile } from './dom.js';
import { atBottom, renderMessages } from './messages.js';
import { isOnline, listConversations, personName, totalUnread } from './state.js';

/** Looks up the elements of view/chat.html once. */
export function findElements(doc) {
    const byId = (id) => doc.getElementById(id);
    return {
        app: byId('app'),
        me: byId('me'),
        meAvatar: byId('me-avatar'),
        connection: byId('connection'),
        reconnect: byId('reconnect'),
        notice: byId('notice'),
        noticeText: byId('notice-text'),
        search: byId('search'),
        friends: byId('friends'),
        friendsEmpty: byId('friends-empty'),
        groups: byId('groups'),
        groupsEmpty: byId('groups-empty'),
        empty: byId('pane-empty'),
        conversation: byId('conversation'),
        convAvatar: byId('conv-avatar'),
        title: byId('conv-title'),
        subtitle: byId('conv-sub'),
        copyId: byId('copy-id'),
        messages: byId('messages'),
        composer: byId('composer'),
        input: byId('message'),
        send: byId('send'),
        back: byId('back'),
        jump: byId('jump'),
    };
}

const CONNECTION_TEXT = { connecting: 'Connecting…', online: 'Online', offline: 'Offline', closed: 'Offline' };

function domId(key) {
    return `conv-${key.replace(':', '-')}`;
}

// The preview line: the last message (in a group, with its author), or what to do next.
function previewOf(state, conversation) {
    const newest = conversation.messages.at(-1);
    if (!conversation.last) return conversation.kind === 'group' ? `Group id ${conversation.id}` : 'No messages yet';
    if (newest && (conversation.kind === 'group' || newest.mine)) return `${personName(state, newest.userid)}: ${conversation.last}`;
    return conversation.last;
}

function conversationItem(conversation, active, online, presenceKnown, detail) {
    const id = domId(conversation.key);
    const name = el('span', { className: 'conv-name', id: `${id}-name` }, emojiText(conversation.name));
    const last = el('span', { className: 'conv-last', id: `${id}-last` }, emojiText(detail));
    const labelledBy = [`${id}-name`];
    const face = avatar(conversation.name, conversation.key, conversation.avatar);
    const picture = el('span', { className: 'conv-avatar' }, face);
    if (conversation.kind === 'user' && online) picture.append(el('span', { className: 'presence', title: 'Online' }));
    const side = el('span', { className: 'conv-side' });
    if (conversation.lastAt > 0) side.append(el('time', { className: 'conv-time', text: formatTime(conversation.lastAt) }));
    if (conversation.unread > 0) {
        const count = conversation.unread > 99 ? '99+' : String(conversation.unread);
        const label = `${conversation.unread} unread`;
        side.append(el('span', { className: 'badge', id: `${id}-badge`, role: 'img', 'aria-label': label, text: count }));
        labelledBy.push(`${id}-badge`);
    }
    const description = [`${id}-last`];
    if (conversation.kind === 'user' && presenceKnown) {
        description.unshift(`${id}-presence`);
        picture.append(el('span', { className: 'visually-hidden', id: `${id}-presence`, text: online ? 'online.' : 'offline.' }));
    }
    // The button's name is the contact's name (plus the badge); presence and preview describe it.
    const button = el(
        'button',
        {
            type: 'button',
            className: 'conv',
            'data-key': conversation.key,
            'aria-labelledby': labelledBy.join(' '),
            'aria-describedby': description.join(' '),
            'aria-current': active ? 'true' : null,
        },
        picture,
        el('span', { className: 'conv-text' }, name, last),
        side,
    );
    return el('li', {}, button);
}

// A list item is rebuilt when its conversation object, its "open" flag or its presence changes;
// this gives each combination one stable identity for reconcile().
const itemTokens = new WeakMap();
function itemToken(conversation, active, online) {
    let byFlags = itemTokens.get(conversation);
    if (!byFlags) itemTokens.set(conversation, (byFlags = {}));
    const k = `${active}|${online}`;
    return (byFlags[k] ??= {});
}

function matches(conversation, filter) {
    return !filter || conversation.name.toLocaleLowerCase().includes(filter) || String(conversation.id) === filter;
}

function renderList(ul, emptyNote, state, kind, filter) {
    const focused = ul.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    const conversations = listConversations(state, kind).filter((c) => matches(c, filter));
    const items = conversations.map((c) => {
        const online = kind === 'user' && isOnline(state, c.id);
        return { key: c.key, conversation: c, online, data: itemToken(c, c.key === state.active, `${online}|${state.presence}`) };
    });
    reconcile(ul, items, (item) =>
        conversationItem(item.conversation, item.key === state.active, item.online, state.presence, previewOf(state, item.conversation)),
    );
    emptyNote.hidden = conversations.length > 0;
    if (filter) emptyNote.textContent = 'Nothing matches your search.';
    else emptyNote.textContent = emptyNote.dataset.text ?? emptyNote.textContent;
    if (focused && !ul.contains(document.activeElement)) {
        ul.querySelector(`button[data-key="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
    }
}

function renderHeader(dom, state, conversation) {
    dom.title.replaceChildren(...emojiText(conversation.name));
    dom.convAvatar.replaceChildren(avatar(conversation.name, conversation.key, conversation.avatar));
    dom.subtitle.replaceChildren();
    if (conversation.kind === 'group') {
        dom.subtitle.append('Group id ', el('strong', { className: 'group-id', text: String(conversation.id) }));
        dom.copyId.hidden = false;
        dom.copyId.dataset.value = String(conversation.id);
    } else {
        // Only a node that reports presence (cmd 17) can say who is offline.
        if (state.presence) {
            const online = isOnline(state, conversation.id);
            dom.subtitle.append(el('span', { className: `presence-text${online ? ' on' : ''}`, text: online ? 'Online' : 'Offline' }));
        }
        if (!conversation.friend) dom.subtitle.append(state.presence ? ' · not in your friends' : 'Not in your friends');
        dom.copyId.hidden = true;
    }
}

function renderPane(dom, state) {
    const conversation = state.active ? state.conversations[state.active] : null;
    dom.app.dataset.pane = conversation ? 'conversation' : 'list';
    dom.empty.hidden = Boolean(conversation);
    dom.conversation.hidden = !conversation;
    if (!conversation) return;
    renderHeader(dom, state, conversation);
    const switched = dom.messages.dataset.key !== conversation.key;
    if (renderMessages(dom.messages, state, conversation)) dom.jump.hidden = false;
    if (switched || atBottom(dom.messages)) dom.jump.hidden = true;
}

function renderNotice(dom, notice) {
    dom.notice.hidden = !notice;
    dom.notice.dataset.kind = notice?.kind ?? '';
    if (dom.noticeText.dataset.text !== (notice?.text ?? '')) {
        dom.noticeText.dataset.text = notice?.text ?? '';
        dom.noticeText.replaceChildren(...emojiText(notice?.text ?? ''));
    }
}

function renderConnection(dom, state) {
    dom.connection.dataset.state = state.connection;
    let text = CONNECTION_TEXT[state.connection] ?? state.connection;
    if (state.connection === 'offline' && state.retryInMs > 0) text = `Offline · retrying in ${Math.ceil(state.retryInMs / 1000)} s`;
    dom.connection.textContent = text;
    dom.reconnect.hidden = state.connection !== 'offline';
}

/** Brings the whole page in line with `state`. Cheap when little changed. */
export function renderApp(dom, state, { filter = '' } = {}) {
    const myName = state.me.nickname || `User ${state.me.id}`;
    dom.me.replaceChildren(...emojiText(myName));
    dom.me.title = `Your user id: ${state.me.id}`;
    if (dom.meAvatar.dataset.name !== myName) {
        dom.meAvatar.dataset.name = myName;
        dom.meAvatar.replaceChildren(avatar(myName, `u:${state.me.id}`, isSafeUrl(state.me.avatar) ? state.me.avatar : ''));
    }
    renderConnection(dom, state);
    renderNotice(dom, state.notice);
    const f = filter.trim().toLocaleLowerCase();
    renderList(dom.friends, dom.friendsEmpty, state, 'user', f);
    renderList(dom.groups, dom.groupsEmpty, state, 'group', f);
    renderPane(dom, state);
    const unread = totalUnread(state);
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
}
