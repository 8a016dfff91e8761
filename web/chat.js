// Entry point of the chat page (view/chat.html): owns the current state, turns user actions, API
// answers and socket events into state changes (state.js), and re-renders (render.js). The
// composer's parts live in composer.js. Without a stored session it sends the reader to the
// login page.

import { ApiError, createApi } from './api.js';
import { clearSession, isSessionChange, loadSession } from './session.js';
import { createSocket, socketUrl } from './socket.js';
import * as S from './state.js';
import { findElements, renderApp } from './render.js';
import { atBottom, scrollToNewest } from './messages.js';
import { openPicture } from './dialogs.js';
import { sentence } from './format.js';
import { createComposer } from './composer.js';

const LOGIN_PAGE = '/user/login.shtml';
const NOTICE_MS = 6000;
// While offline, check at most this often whether the token itself is still good.
const SESSION_CHECK_MS = 30_000;
// The socket waits at most this long for the unread counts before connecting anyway.
const SNAPSHOT_WAIT_MS = 3000;
// Read marks are sent at most this often per conversation.
const READ_MARK_DELAY_MS = 400;
// Scrolled this close to the top, the next page of history is fetched.
const OLDER_THRESHOLD_PX = 240;
const LOST_REASON = {
    closed: 'the connection dropped; it may not have arrived',
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
    const dialog = document.getElementById('dialog');
    const wide = window.matchMedia('(min-width: 48rem)');
    let state = S.setVisible(S.initialState(session.profile), !document.hidden);
    let noticeTimer = null;
    let renderQueued = false;
    let lastSessionCheck = 0;
    let filter = '';
    const readSent = {}; // conversation key -> highest pos marked read
    const readTimers = {};
    const asked = new Set(); // user ids whose profile was requested

    function render() {
        renderApp(dom, state, { filter });
        scheduleReadMark();
    }

    function update(change) {
        const next = change(state);
        if (next === state || next === null || next === undefined) return;
        state = next;
        // Bursts of socket frames collapse into one render per frame. A hidden tab gets no
        // animation frames, but its title must still count unread messages.
        if (!renderQueued) {
            renderQueued = true;
            const flush = () => {
                renderQueued = false;
                render();
            };
            if (document.hidden) setTimeout(flush, 100);
            else requestAnimationFrame(flush);
        }
    }

    function notify(text, kind = 'info') {
        update((s) => S.setNotice(s, sentence(text), kind));
        const seq = state.noticeSeq;
        clearTimeout(noticeTimer);
        noticeTimer = setTimeout(() => update((s) => S.clearNotice(s, seq)), kind === 'error' ? NOTICE_MS * 2 : NOTICE_MS);
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
        url: (since) => socketUrl(location, session, since),
        since: () => state.pos,
        on: {
            status: (status, detail) => {
                update((s) => S.setConnection(s, status, detail?.retryInMs ?? 0));
                if (status === 'offline') checkSession();
            },
            message: (frame) => {
                const key = S.conversationOf(state, frame);
                const isNew = key !== null && !state.conversations[key];
                update((s) => S.receiveMessage(s, frame));
                // Someone who just added me, or a group joined on another device: reload the lists.
                if (isNew) refreshContacts();
                lookUpPeople(key);
            },
            synced: (frame) => update((s) => S.applySynced(s, frame)),
            read: (frame) => update((s) => S.applyReadMark(s, frame)),
            presence: (frame) => update((s) => S.applyPresence(s, frame)),
            ack: (frame) => update((s) => S.applyAck(s, frame)),
            error: (frame) => {
                const next = S.applyError(state, frame);
                if (next) update(() => next);
                else console.warn('chat: the server refused a frame:', frame?.msg);
            },
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
        socket.watch(S.friendIds(state));
    }

    let refreshTimer = null;
    function refreshContacts() {
        clearTimeout(refreshTimer);
        refreshTimer = setTimeout(() => loadContacts().catch(() => {}), 300);
    }

    async function loadSnapshot() {
        try {
            const list = await call(api.conversations);
            update((s) => S.applySnapshot(s, list));
            for (const entry of list ?? []) if (entry?.peer) lookUpPeople(S.conversationKey('user', entry.peer));
        } catch (err) {
            // An older node has no /message/conversations: counts start from this visit.
            if (!(err instanceof ApiError) || err.status !== 404) console.warn('chat: no unread counts:', err.message);
        }
    }

    // Names for authors and strangers that messages mention, one request per user.
    function lookUpPeople(key) {
        if (!key) return;
        for (const id of S.unknownPeople(state, key)) {
            if (asked.has(id)) continue;
            asked.add(id);
            call(api.findUser, id)
                .then((profile) => update((s) => S.rememberPeople(s, [profile])))
                .catch(() => asked.delete(id)); // try again with the next message
        }
    }

    async function loadOlder(key) {
        const c = state.conversations[key];
        if (!c || c.history.loading || (c.history.loaded && !c.history.more)) return;
        update((s) => S.setHistoryLoading(s, key));
        const before = c.messages.find((m) => typeof m.pos === 'number')?.pos ?? null;
        try {
            const page = await call(api.history, { kind: c.kind, id: c.id }, before);
            update((s) => S.mergeHistory(s, key, page));
            lookUpPeople(key);
        } catch (err) {
            const unavailable = err instanceof ApiError && err.status === 404;
            update((s) => S.historyFailed(s, key, { unavailable }));
        }
    }

    // Tells the node (and so this user's other devices) what has been read, a moment after.
    function scheduleReadMark() {
        const key = state.active;
        if (!key || readTimers[key] || !atBottom(dom.messages)) return;
        const mark = S.readMarkToSend(state, key, readSent[key] ?? 0);
        if (!mark) return;
        readTimers[key] = setTimeout(async () => {
            delete readTimers[key];
            const now = S.readMarkToSend(state, key, readSent[key] ?? 0);
            if (!now) return;
            readSent[key] = now.pos;
            try {
                await call(api.markRead, now);
            } catch {
                readSent[key] = 0; // an older node, or offline: the next render tries again
            }
        }, READ_MARK_DELAY_MS);
    }

    function open(key) {
        update((s) => S.setActive(s, key));
        render(); // now, so focus can move into the pane
        if (wide.matches) dom.input.focus();
        else dom.title.focus();
        const c = state.conversations[key];
        if (c && !c.history.loaded) loadOlder(key);
        lookUpPeople(key);
    }

    const composer = createComposer({
        dom,
        dialog,
        api,
        session,
        socket,
        getState: () => state,
        update,
        notify,
        call,
    });

    // ---- sidebar ----

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
        if (!/^\+?\d{5,20}$/.test(mobile.replace(/[\s-]/g, ''))) throw new Error('a mobile number has 5 to 20 digits');
        const friend = await call(api.addFriend, mobile.replace(/[\s-]/g, ''));
        update((s) => S.upsertFriends(s, [friend]));
        socket.watch(S.friendIds(state));
        notify(`${friend.nickname} is now your friend`);
    });
    onForm('create-group-form', 'group-name', async (name) => {
        const group = await call(api.createGroup, name);
        update((s) => S.upsertGroups(s, [group]));
        notify(`Group "${group.name}" created. Its id is ${group.id}: share it so others can join`);
        open(S.conversationKey('group', group.id));
    });
    onForm('join-group-form', 'group-id', async (id) => {
        if (!/^\d{1,15}$/.test(id)) throw new Error('a group id is a number');
        const group = await call(api.joinGroup, id);
        update((s) => S.upsertGroups(s, [group]));
        notify(`You joined "${group.name}"`);
        open(S.conversationKey('group', group.id));
    });

    for (const list of [dom.friends, dom.groups]) {
        list.addEventListener('click', (event) => {
            const button = event.target.closest('button[data-key]');
            if (button) open(button.dataset.key);
        });
    }

    dom.search.addEventListener('input', () => {
        filter = dom.search.value;
        render();
    });

    // ---- conversation pane ----

    dom.back.addEventListener('click', () => {
        const key = state.active;
        update((s) => S.setActive(s, null));
        render();
        document.querySelector(`button[data-key="${CSS.escape(key)}"]`)?.focus();
    });

    dom.copyId.addEventListener('click', async () => {
        try {
            await navigator.clipboard.writeText(dom.copyId.dataset.value);
            notify(`Group id ${dom.copyId.dataset.value} copied`);
        } catch {
            notify(`The group id is ${dom.copyId.dataset.value}`);
        }
    });

    dom.messages.addEventListener('scroll', () => {
        if (dom.messages.scrollTop < OLDER_THRESHOLD_PX && state.active) {
            const c = state.conversations[state.active];
            if (c?.history.loaded && c.history.more && !c.history.loading && !c.history.failed) loadOlder(state.active);
        }
        if (atBottom(dom.messages)) dom.jump.hidden = true;
        scheduleReadMark();
    }, { passive: true });

    dom.jump.addEventListener('click', () => {
        scrollToNewest(dom.messages);
        dom.jump.hidden = true;
        dom.input.focus();
    });

    dom.messages.addEventListener('click', async (event) => {
        const button = event.target.closest('button[data-action]');
        if (!button) return;
        const action = button.dataset.action;
        if (action === 'enlarge') {
            openPicture(dialog, button.dataset.src, button.querySelector('img')?.alt ?? 'Photo');
        } else if (action === 'older') {
            loadOlder(state.active);
        } else if (action === 'retry') {
            composer.retry(button.dataset.cid);
        } else if (action === 'discard') {
            update((s) => S.discardMessage(s, button.dataset.cid));
        } else if (action === 'open-user') {
            open(S.conversationKey('user', Number(button.dataset.user)));
        } else if (action === 'add-card') {
            button.disabled = true;
            try {
                const friend = await call(api.addFriendById, Number(button.dataset.user));
                update((s) => S.upsertFriends(s, [friend]));
                socket.watch(S.friendIds(state));
                notify(`${friend.nickname} is now your friend`);
            } catch (err) {
                notify(err.message, 'error');
                button.disabled = false;
            }
        }
    });

    // ---- top bar ----

    document.getElementById('logout').addEventListener('click', async () => {
        socket.stop();
        try {
            await api.logout(session);
        } catch {
            // Already invalid or unreachable: forgetting the token locally is what matters.
        }
        leave();
    });
    dom.reconnect.addEventListener('click', () => socket.retryNow());
    document.getElementById('notice-close').addEventListener('click', () => update((s) => S.clearNotice(s, s.notice?.seq)));

    window.addEventListener('storage', (event) => {
        if (isSessionChange(event) && loadSession()?.token !== session.token) location.replace(LOGIN_PAGE);
    });
    window.addEventListener('online', () => socket.retryNow());
    document.addEventListener('visibilitychange', () => update((s) => S.setVisible(s, !document.hidden)));

    render();
    const contacts = loadContacts().catch((err) => notify(`Could not load your contacts: ${err.message}`, 'error'));
    // Unread counts first, so what the first sync brings is counted right; never wait long.
    Promise.race([loadSnapshot(), new Promise((resolve) => setTimeout(resolve, SNAPSHOT_WAIT_MS))]).then(() => socket.connect());
    void contacts;
}
