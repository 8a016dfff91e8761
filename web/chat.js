// Entry point of the chat page (view/chat.html): owns the current state, turns user actions,
// API answers and socket events into state changes (state.js), and re-renders (render.js).
// Without a stored session it sends the reader to the login page.

import { ApiError, createApi } from './api.js';
import { clearSession, isSessionChange, loadSession } from './session.js';
import { createSocket, socketUrl } from './socket.js';
import * as S from './state.js';
import { findElements, renderApp } from './render.js';

const LOGIN_PAGE = '/user/login.shtml';
const NOTICE_MS = 6000;
// While offline, check at most this often whether the token itself is still good.
const SESSION_CHECK_MS = 30_000;
const LOST_REASON = {
    closed: 'connection lost; it may not have arrived',
    timeout: 'no answer from the server; it may not have arrived',
};

const session = loadSession();
if (!session) {
    location.replace(LOGIN_PAGE);
} else {
    start(session);
}

function start(session) {
    const api = createApi();
    const dom = findElements(document);
    const wide = window.matchMedia('(min-width: 48rem)');
    let state = S.initialState(session.profile);
    let noticeTimer = null;
    let renderQueued = false;
    let lastSessionCheck = 0;
    let cidSeq = 0;

    function update(change) {
        const next = change(state);
        if (next === state) return;
        state = next;
        // Bursts of socket frames collapse into one render per frame.
        // A hidden tab gets no animation frames, but its title must still count unread messages.
        if (!renderQueued) {
            renderQueued = true;
            const flush = () => {
                renderQueued = false;
                renderApp(dom, state);
            };
            if (document.hidden) setTimeout(flush, 100);
            else requestAnimationFrame(flush);
        }
    }

    function notify(text, kind = 'info') {
        update((s) => S.setNotice(s, text, kind));
        const seq = state.noticeSeq;
        clearTimeout(noticeTimer);
        noticeTimer = setTimeout(() => update((s) => S.clearNotice(s, seq)), NOTICE_MS);
    }

    function leave() {
        socket.stop();
        clearSession();
        location.replace(LOGIN_PAGE);
    }

    // Runs an API call; a 401 means the token is no longer valid anywhere, so back to login.
    async function call(fn, ...args) {
        try {
            return await fn(session, ...args);
        } catch (err) {
            if (err instanceof ApiError && err.status === 401) leave();
            throw err;
        }
    }

    const socket = createSocket({
        url: socketUrl(location, session),
        on: {
            status: (status) => {
                update((s) => S.setConnection(s, status));
                if (status === 'offline') checkSession();
            },
            message: (frame) => {
                const isNew = !state.conversations[S.conversationOf(state, frame)];
                update((s) => S.receiveMessage(s, frame));
                if (isNew) nameUnknownConversation(S.conversationOf(state, frame));
            },
            ack: (frame) => update((s) => S.applyAck(s, frame)),
            error: (frame) => update((s) => S.applyError(s, frame)),
            lost: (cids, why) => update((s) => S.failMessages(s, cids, LOST_REASON[why] ?? LOST_REASON.closed)),
            loggedOut: () => leave(),
        },
    });

    // A failing socket may mean a revoked token (the upgrade answers 401, which browsers hide).
    function checkSession() {
        if (Date.now() - lastSessionCheck < SESSION_CHECK_MS) return;
        lastSessionCheck = Date.now();
        call(api.loadFriends).catch(() => {});
    }

    async function loadContacts() {
        const [friends, groups] = await Promise.all([call(api.loadFriends), call(api.loadGroups)]);
        update((s) => S.upsertGroups(S.upsertFriends(s, friends), groups));
    }

    // A message from someone not in the lists: a new friend, a stranger, or a group joined elsewhere.
    async function nameUnknownConversation(key) {
        if (!key) return;
        try {
            await loadContacts();
            if (!state.conversations[key]?.placeholder || !key.startsWith('u:')) return;
            const profile = await call(api.findUser, Number(key.slice(2)));
            update((s) => S.renameConversation(s, key, profile.nickname));
        } catch {
            // The placeholder name ("User 12") stays; nothing the reader must act on.
        }
    }

    function open(key) {
        update((s) => S.setActive(s, key));
        renderApp(dom, state); // now, so focus can move into the pane
        if (wide.matches) dom.input.focus();
        else dom.title.focus();
    }

    function send() {
        const content = dom.input.value.trim();
        const key = state.active;
        if (!content || !key) return;
        const conversation = state.conversations[key];
        const cid = `${Date.now().toString(36)}-${(cidSeq += 1)}`;
        const frame = { id: cid, cmd: conversation.kind === 'group' ? 11 : 10, dstid: conversation.id, media: 1, content };
        update((s) => S.addOutgoing(s, key, { cid, media: 1, content, now: Date.now() }));
        if (socket.send(frame) === 'full') update((s) => S.failMessages(s, [cid], 'offline; try again later'));
        dom.input.value = '';
        autoGrow();
    }

    function autoGrow() {
        dom.input.style.height = 'auto';
        dom.input.style.height = `${Math.min(dom.input.scrollHeight, 160)}px`;
    }

    // Wires one of the sidebar's small forms: read the field, call, report, clear.
    function onForm(id, fieldId, action) {
        const form = document.getElementById(id);
        const field = document.getElementById(fieldId);
        form.addEventListener('submit', async (event) => {
            event.preventDefault();
            const value = field.value.trim();
            if (!value) {
                field.focus();
                return;
            }
            const button = form.querySelector('button');
            button.disabled = true;
            try {
                await action(value);
                field.value = '';
            } catch (err) {
                notify(err.message, 'error');
            } finally {
                button.disabled = false;
            }
        });
    }

    onForm('add-friend-form', 'friend-mobile', async (mobile) => {
        const friend = await call(api.addFriend, mobile);
        update((s) => S.upsertFriends(s, [friend]));
        notify(`${friend.nickname} is now your friend.`);
    });
    onForm('create-group-form', 'group-name', async (name) => {
        const group = await call(api.createGroup, name);
        update((s) => S.upsertGroups(s, [group]));
        notify(`Group "${group.name}" created. Its id is ${group.id}: share it so others can join.`);
        open(S.conversationKey('group', group.id));
    });
    onForm('join-group-form', 'group-id', async (id) => {
        if (!/^\d{1,15}$/.test(id)) throw new Error('a group id is a number');
        const group = await call(api.joinGroup, id);
        update((s) => S.upsertGroups(s, [group]));
        notify(`You joined "${group.name}".`);
        open(S.conversationKey('group', group.id));
    });

    for (const list of [dom.friends, dom.groups]) {
        list.addEventListener('click', (event) => {
            const button = event.target.closest('button[data-key]');
            if (button) open(button.dataset.key);
        });
    }

    dom.back.addEventListener('click', () => {
        const key = state.active;
        update((s) => S.setActive(s, null));
        renderApp(dom, state);
        document.querySelector(`button[data-key="${CSS.escape(key)}"]`)?.focus();
    });

    dom.composer.addEventListener('submit', (event) => {
        event.preventDefault();
        send();
    });
    dom.input.addEventListener('keydown', (event) => {
        // Enter sends, Shift+Enter breaks the line; never while an IME is composing text.
        if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
            event.preventDefault();
            send();
        }
    });
    dom.input.addEventListener('input', autoGrow);

    document.getElementById('logout').addEventListener('click', async () => {
        socket.stop();
        try {
            await api.logout(session);
        } catch {
            // Already invalid or unreachable: forgetting the token locally is what matters.
        }
        leave();
    });

    window.addEventListener('storage', (event) => {
        if (isSessionChange(event) && loadSession()?.token !== session.token) location.replace(LOGIN_PAGE);
    });
    window.addEventListener('online', () => socket.retryNow());

    renderApp(dom, state);
    socket.connect();
    loadContacts().catch((err) => notify(`Could not load your contacts: ${err.message}`, 'error'));
}
