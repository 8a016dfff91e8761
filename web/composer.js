// The composer of the open conversation: the text box (Enter sends, Shift+Enter breaks the line),
// the emoji picker, the Attach menu (photo or video, audio file, red packet, contact card, link,
// news), voice recording, uploads with progress, and retrying failed messages. Every message
// becomes a frame through message.js and leaves through the socket; chat.js owns the state.

import { upload } from './api.js';
import { MEDIA, formatDuration } from './format.js';
import { createEmojiPicker } from './emoji-picker.js';
import { openForm } from './dialogs.js';
import * as M from './message.js';
import { audioDuration, canRecord, startRecording } from './recorder.js';
import * as S from './state.js';

// Files larger than this are refused before uploading (the node's default max-upload).
const MAX_FILE_BYTES = 20 * 1024 * 1024;

export function createComposer({ dom, dialog, session, socket, getState, update, notify, call }) {
    const files = new Map(); // client id -> {file, intent, seconds}: what a retry uploads again
    const attachToggle = document.getElementById('attach-toggle');
    const attachMenu = document.getElementById('attach-menu');
    const fileInput = document.getElementById('file-input');
    const audioInput = document.getElementById('audio-input');
    const recordButton = document.getElementById('record');
    const recorderBar = document.getElementById('recorder');
    const composerRow = document.getElementById('composer-row');
    const recordingTime = document.getElementById('recording-time');
    let cidSeq = 0;
    let recording = null;

    const newCid = () => `${Date.now().toString(36)}-${(cidSeq += 1)}`;
    const active = () => {
        const s = getState();
        return s.active ? s.conversations[s.active] : null;
    };

    // ---- sending ----

    function sendFields(conversation, fields, cid = newCid()) {
        const exists = S.findOutgoing(getState(), cid);
        if (!exists) update((s) => S.addOutgoing(s, conversation.key, { cid, fields, now: Date.now() }));
        if (socket.send(M.toFrame(conversation, cid, fields)) === 'full') {
            update((s) => S.failMessages(s, [cid], 'offline; try again later'));
        }
        return cid;
    }

    function sendText() {
        const conversation = active();
        const text = dom.input.value;
        if (!conversation || !text.trim()) return;
        let fields;
        try {
            fields = M.fromText(text);
        } catch (err) {
            notify(err.message, 'error');
            return;
        }
        sendFields(conversation, fields);
        dom.input.value = '';
        autoGrow();
    }

    /** Uploads a file and sends it as `intent` ('image' | 'video' | 'voice'); shows progress meanwhile. */
    async function sendFile(conversation, file, intent, { seconds = 0, cid = newCid() } = {}) {
        if (file.size > MAX_FILE_BYTES) {
            notify('the file is too large (20 MB at most)', 'error');
            return;
        }
        const localUrl = intent === 'image' ? URL.createObjectURL(file) : '';
        const media = intent === 'image' ? MEDIA.IMAGE : intent === 'video' ? MEDIA.VIDEO : MEDIA.VOICE;
        files.set(cid, { file, intent, seconds });
        const placeholder = media === MEDIA.VOICE ? { media, amount: Math.max(1, Math.round(seconds)) } : { media };
        if (!S.findOutgoing(getState(), cid)) {
            update((s) => S.addOutgoing(s, conversation.key, { cid, fields: placeholder, now: Date.now(), upload: { progress: 0, localUrl } }));
        }
        try {
            const name = file.name || (intent === 'voice' ? 'voice.webm' : 'file');
            const url = await upload(session, file, { name, onProgress: (p) => update((s) => S.setUploadProgress(s, cid, p)) });
            const kind = M.mediaForUpload(url, intent === 'voice' ? 'voice' : '');
            if (kind === null) throw new Error('the server stored a file the chat cannot show');
            const fields = M.fromUpload(kind, url, { seconds });
            update((s) => S.uploadDone(s, cid, fields));
            files.delete(cid);
            if (socket.send(M.toFrame(conversation, cid, fields)) === 'full') {
                update((s) => S.failMessages(s, [cid], 'offline; try again later'));
            }
        } catch (err) {
            // A revoked token sends the page back to the login (call() does that for a 401).
            if (err.status === 401) return call(() => Promise.reject(err)).catch(() => {});
            update((s) => S.failMessages(s, [cid], err.message));
        }
    }

    /** Tries a failed message again: re-sends its frame, or re-uploads its file. */
    function retry(oldCid) {
        const s = getState();
        const message = S.findOutgoing(s, oldCid);
        if (!message) return;
        const key = s.pending[oldCid];
        const conversation = s.conversations[key];
        const cid = newCid();
        update((st) => S.retryMessage(st, oldCid, cid, Date.now()));
        const pendingFile = files.get(oldCid);
        if (pendingFile && !message.url) {
            files.delete(oldCid);
            sendFile(conversation, pendingFile.file, pendingFile.intent, { seconds: pendingFile.seconds, cid });
            return;
        }
        const fields = {};
        for (const f of ['media', 'content', 'url', 'pic', 'memo', 'amount']) if (message[f] !== undefined) fields[f] = message[f];
        sendFields(conversation, fields, cid);
    }

    // ---- text box ----

    function autoGrow() {
        dom.input.style.height = 'auto';
        dom.input.style.height = `${Math.min(dom.input.scrollHeight, 160)}px`;
    }

    function insertAtCaret(text) {
        const input = dom.input;
        const start = input.selectionStart ?? input.value.length;
        const end = input.selectionEnd ?? input.value.length;
        input.setRangeText(text, start, end, 'end');
        autoGrow();
    }

    dom.composer.addEventListener('submit', (event) => {
        event.preventDefault();
        sendText();
    });
    dom.input.addEventListener('keydown', (event) => {
        // Enter sends, Shift+Enter breaks the line; never while an IME is composing text.
        if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
            event.preventDefault();
            sendText();
        }
    });
    dom.input.addEventListener('input', autoGrow);

    // ---- emoji ----

    const picker = createEmojiPicker({
        toggle: document.getElementById('emoji-toggle'),
        panel: document.getElementById('emoji-picker'),
        onPick: (char) => insertAtCaret(char),
    });

    // ---- attach menu ----

    function menuOpen() {
        return !attachMenu.hidden;
    }

    function closeMenu(returnFocus = false) {
        if (!menuOpen()) return;
        attachMenu.hidden = true;
        attachToggle.setAttribute('aria-expanded', 'false');
        if (returnFocus) attachToggle.focus();
    }

    attachToggle.addEventListener('click', () => {
        if (menuOpen()) return closeMenu();
        picker.close();
        attachMenu.hidden = false;
        attachToggle.setAttribute('aria-expanded', 'true');
        attachMenu.querySelector('[role="menuitem"]').focus();
    });
    attachMenu.addEventListener('keydown', (event) => {
        const items = [...attachMenu.querySelectorAll('[role="menuitem"]')];
        const i = items.indexOf(document.activeElement);
        if (event.key === 'Escape') {
            event.preventDefault();
            closeMenu(true);
        } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            items[(i + (event.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length].focus();
        }
    });
    document.addEventListener('pointerdown', (event) => {
        if (menuOpen() && !attachMenu.contains(event.target) && !attachToggle.contains(event.target)) closeMenu();
    });
    attachMenu.addEventListener('click', (event) => {
        const item = event.target.closest('[data-attach]');
        if (!item) return;
        closeMenu();
        const conversation = active();
        if (!conversation) return;
        const action = ATTACH[item.dataset.attach];
        action?.(conversation);
    });

    fileInput.addEventListener('change', () => {
        const file = fileInput.files?.[0];
        fileInput.value = '';
        const conversation = active();
        if (!file || !conversation) return;
        const kind = M.pickedKind(file.type);
        if (kind !== 'image' && kind !== 'video') return notify('choose a photo (PNG, JPEG, GIF, WebP) or a video (MP4, WebM)', 'error');
        sendFile(conversation, file, kind);
    });
    audioInput.addEventListener('change', async () => {
        const file = audioInput.files?.[0];
        audioInput.value = '';
        const conversation = active();
        if (!file || !conversation) return;
        const seconds = (await audioDuration(file)) ?? 1;
        sendFile(conversation, file, 'voice', { seconds });
    });

    const friendsOf = (s) => S.listConversations(s, 'user').filter((c) => c.friend);

    const ATTACH = {
        file: () => fileInput.click(),
        audio: () => audioInput.click(),
        'red-packet': (conversation) =>
            openForm(dialog, {
                title: 'Send a red packet',
                submitLabel: 'Send red packet',
                fields: [
                    { name: 'amount', label: 'Amount (¥)', inputmode: 'decimal', placeholder: '8.88', required: true, hint: 'Up to ¥200.00.' },
                    { name: 'memo', label: 'Greeting', placeholder: 'Best wishes!', maxlength: 200 },
                ],
                onSubmit: ({ amount, memo }) => sendFields(conversation, M.redPacket(amount, memo)),
            }),
        card: (conversation) => {
            const friends = friendsOf(getState()).filter((c) => c.id !== conversation.id || conversation.kind === 'group');
            const s = getState();
            if (friends.length === 0) return notify('you have no friends to share yet', 'error');
            openForm(dialog, {
                title: 'Share a contact',
                submitLabel: 'Send card',
                fields: [{ name: 'user', label: 'Contact', type: 'select', required: true, options: friends.map((c) => ({ value: String(c.id), label: c.name })) }],
                onSubmit: ({ user }) => {
                    const id = Number(user);
                    sendFields(conversation, M.contactCard({ id, nickname: s.people[id]?.nickname, avatar: s.people[id]?.avatar }));
                },
            });
        },
        link: (conversation) =>
            openForm(dialog, {
                title: 'Share a link',
                submitLabel: 'Send link',
                fields: [{ name: 'url', label: 'Address', type: 'url', placeholder: 'https://…', required: true }],
                onSubmit: ({ url }) => {
                    const fields = M.fromText(url);
                    if (fields.media !== MEDIA.LINK) throw new M.MessageError('the address must start with http:// or https://');
                    sendFields(conversation, fields);
                },
            }),
        news: (conversation) =>
            openForm(dialog, {
                title: 'Share news',
                submitLabel: 'Send news',
                fields: [
                    { name: 'title', label: 'Title', required: true, maxlength: 200 },
                    { name: 'url', label: 'Link', type: 'url', placeholder: 'https://…', required: true },
                    { name: 'picture', label: 'Picture (optional)', type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp' },
                    { name: 'memo', label: 'Description (optional)', type: 'textarea', maxlength: 1024 },
                ],
                onSubmit: async ({ title, url, picture, memo }) => {
                    M.news({ title, url, memo }); // checks the fields before any upload
                    const pic = picture ? await upload(session, picture) : '';
                    sendFields(conversation, M.news({ title, url, pic, memo }));
                },
            }),
    };

    // ---- voice ----

    function showRecorder(on) {
        recorderBar.hidden = !on;
        composerRow.hidden = on;
    }

    async function stopRecording(send) {
        const current = recording;
        recording = null;
        showRecorder(false);
        recordButton.focus();
        if (!current) return;
        if (!send) {
            current.cancel();
            return;
        }
        const conversation = current.conversation;
        const { blob, seconds, type } = await current.recorder.stop();
        const ext = type.includes('mp4') ? 'm4a' : type.includes('ogg') ? 'ogg' : 'webm';
        const file = new File([blob], `voice.${ext}`, { type });
        sendFile(conversation, file, 'voice', { seconds });
    }

    recordButton.addEventListener('click', async () => {
        const conversation = active();
        if (!conversation || recording) return;
        if (!canRecord()) return notify('this browser cannot record audio here (it needs a microphone and a secure page)', 'error');
        picker.close();
        try {
            const recorder = await startRecording({
                onTick: (ms) => (recordingTime.textContent = formatDuration(ms / 1000)),
                onLimit: () => stopRecording(true),
            });
            recording = { recorder, conversation };
            recordingTime.textContent = '0:00';
            showRecorder(true);
            document.getElementById('record-send').focus();
        } catch (err) {
            notify(err?.name === 'NotAllowedError' ? 'the microphone is blocked for this page' : `cannot record: ${err?.message ?? err}`, 'error');
        }
    });
    document.getElementById('record-send').addEventListener('click', () => stopRecording(true));
    document.getElementById('record-cancel').addEventListener('click', () => stopRecording(false));
    recorderBar.addEventListener('keydown', (event) => event.key === 'Escape' && stopRecording(false));

    return { retry, sendText };
}
