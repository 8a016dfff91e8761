// Draws one conversation's messages into the message list of view/chat.html: my messages on the
// right, others' on the left with avatar and nickname, a day separator when the date changes,
// and each media as what it is (text with links and emoji, emoji, photo, voice, video, red
// packet, link, contact card, news). Urls reach src/href only after format.js's checks; user
// text only ever becomes text nodes. Buttons carry data-action; chat.js handles their clicks.

import { MEDIA, dayLabel, formatAmount, formatDuration, formatTime, hostOf, isHttpUrl, isSafeUrl, sameLocalDay, summarize } from './format.js';
import { avatar, el, emojiImage, emojiText, forget, icon, reconcile, richText } from './dom.js';
import { splitEmoji } from './emoji.js';
import { personAvatar, personName } from './state.js';

// Messages from one person closer together than this share one avatar and name.
const RUN_GAP_MS = 5 * 60_000;

const STATUS = {
    uploading: ['clock', 'Uploading…'],
    pending: ['clock', 'Sending…'],
    sent: ['check', 'Sent'],
    failed: ['alert', 'Not sent'],
};

function image(url, alt) {
    return el(
        'button',
        { type: 'button', className: 'msg-photo', 'data-action': 'enlarge', 'data-src': url, 'aria-label': `${alt}: enlarge` },
        el('img', { src: url, alt, loading: 'lazy', referrerpolicy: 'no-referrer', decoding: 'async' }),
    );
}

function voice(msg) {
    const seconds = Number(msg.amount) > 0 ? Number(msg.amount) : 0;
    const audio = el('audio', { preload: 'metadata', src: msg.url });
    const bar = el('span', { className: 'voice-progress' });
    const label = `Play voice, ${formatDuration(seconds)}`;
    const button = el('button', { type: 'button', className: 'voice-play', 'aria-label': label }, icon('play', 20));
    const time = el('span', { className: 'voice-time', text: formatDuration(seconds) });
    const show = (playing) => {
        button.replaceChildren(icon(playing ? 'pause' : 'play', 20));
        button.setAttribute('aria-label', playing ? 'Pause voice' : label);
    };
    button.addEventListener('click', () => {
        if (audio.paused) {
            // One voice message at a time, as in every chat app.
            for (const other of document.querySelectorAll('.voice audio')) if (other !== audio) other.pause();
            audio.play().catch(() => show(false));
        } else {
            audio.pause();
        }
    });
    audio.addEventListener('play', () => show(true));
    audio.addEventListener('pause', () => show(false));
    audio.addEventListener('ended', () => {
        show(false);
        bar.style.width = '0%';
        time.textContent = formatDuration(seconds);
    });
    audio.addEventListener('timeupdate', () => {
        const total = Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : seconds;
        if (total > 0) bar.style.width = `${Math.min(100, (audio.currentTime / total) * 100)}%`;
        time.textContent = formatDuration(audio.currentTime);
    });
    const width = Math.min(100, 40 + seconds * 2); // longer messages draw a longer bar, as in WeChat
    const track = el('span', { className: 'voice-track' }, bar);
    track.style.width = `${width}%`;
    return el('div', { className: 'voice' }, button, track, time, audio);
}

function redPacket(msg) {
    const cents = Number(msg.amount);
    return el(
        'div',
        { className: 'red-packet' },
        el('span', { className: 'rp-icon' }, icon('red-packet', 28)),
        el(
            'span',
            { className: 'rp-text' },
            el('span', { className: 'rp-greeting' }, emojiText(String(msg.memo || 'Best wishes!'))),
            el('span', { className: 'rp-amount', text: formatAmount(cents) }),
        ),
        el('span', { className: 'rp-foot', text: 'Red packet' }),
    );
}

function linkCard(url) {
    return el(
        'a',
        { className: 'link-card', href: url, target: '_blank', rel: 'noopener noreferrer' },
        el('span', { className: 'link-host' }, icon('link', 16), hostOf(url)),
        el('span', { className: 'link-url', text: url }),
    );
}

function contactCard(msg, state) {
    const id = Number(msg.content);
    const name = String(msg.memo || personName(state, id));
    const isFriend = state.conversations[`u:${id}`]?.friend;
    const self = id === state.me.id;
    const action = self
        ? null
        : el(
              'button',
              { type: 'button', className: 'btn btn-small', 'data-action': isFriend ? 'open-user' : 'add-card', 'data-user': id },
              isFriend ? `Message ${name}` : `Add ${name}`,
          );
    return el(
        'div',
        { className: 'contact-card' },
        el('span', { className: 'card-head' }, avatar(name, `u:${id}`, isSafeUrl(msg.pic) ? msg.pic : ''), el('span', { className: 'card-text' }, el('span', { className: 'card-name' }, emojiText(name)), el('span', { className: 'card-id', text: `User id ${id}` }))),
        el('span', { className: 'card-foot', text: 'Contact card' }),
        action,
    );
}

function newsCard(msg) {
    const title = String(msg.content || 'News');
    const link = isHttpUrl(msg.url) ? msg.url : null;
    const body = [
        isSafeUrl(msg.pic) ? el('img', { className: 'news-pic', src: msg.pic, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer' }) : null,
        el('span', { className: 'news-title' }, emojiText(title)),
        msg.memo ? el('span', { className: 'news-memo' }, emojiText(String(msg.memo))) : null,
        link ? el('span', { className: 'news-host' }, icon('news', 16), hostOf(link)) : null,
    ];
    return link
        ? el('a', { className: 'news-card', href: link, target: '_blank', rel: 'noopener noreferrer' }, body)
        : el('div', { className: 'news-card' }, body);
}

function bigEmoji(content) {
    const runs = splitEmoji(content);
    if (runs.every((r) => r.emoji || !r.text.trim())) {
        return el('p', { className: 'msg-big-emoji' }, runs.filter((r) => r.emoji).map((r) => emojiImage(r.emoji, 'emoji-big')));
    }
    return el('p', { className: 'msg-big-emoji' }, content);
}

/** The visible body of a message, by media, and the kind of bubble it sits in. */
export function messageBody(msg, state) {
    const media = Number(msg.media);
    const local = msg.upload?.localUrl;
    switch (media) {
        case MEDIA.TEXT:
            return ['text', el('p', { className: 'msg-text' }, richText(String(msg.content ?? '')))];
        case MEDIA.EMOJI:
            if (msg.content) return ['bare', bigEmoji(String(msg.content))];
            if (isSafeUrl(msg.url)) return ['bare', el('img', { className: 'sticker', src: msg.url, alt: 'Sticker', loading: 'lazy' })];
            break;
        case MEDIA.IMAGE:
            if (isSafeUrl(msg.url)) return ['media', image(msg.url, `Photo from ${personName(state, msg.userid)}`)];
            if (local) return ['media', el('img', { className: 'msg-photo-local', src: local, alt: 'Photo being sent' })];
            break;
        case MEDIA.VOICE:
            if (isSafeUrl(msg.url)) return ['text', voice(msg)];
            if (msg.upload) return ['text', el('p', { className: 'msg-text', text: `Voice message, ${formatDuration(msg.amount)}` })];
            break;
        case MEDIA.VIDEO:
            if (isSafeUrl(msg.url)) {
                const poster = isSafeUrl(msg.pic) ? msg.pic : null;
                return ['media', el('video', { className: 'msg-video', src: msg.url, poster, controls: true, preload: 'metadata', playsinline: true })];
            }
            if (msg.upload) return ['text', el('p', { className: 'msg-text', text: 'Video' })];
            break;
        case MEDIA.RED_PACKET:
            if (Number(msg.amount) > 0) return ['bare', redPacket(msg)];
            break;
        case MEDIA.LINK:
            if (isHttpUrl(msg.url)) return ['text', linkCard(msg.url)];
            break;
        case MEDIA.CARD:
            if (Number(msg.content) > 0) return ['card', contactCard(msg, state)];
            break;
        case MEDIA.NEWS:
            return ['card', newsCard(msg)];
        default:
            break;
    }
    return ['text', el('p', { className: 'msg-text msg-summary', text: summarize(msg) })];
}

function uploadBar(msg) {
    const percent = Math.round((msg.upload?.progress ?? 0) * 100);
    return el(
        'div',
        { className: 'upload' },
        el('progress', { max: '100', value: String(percent), 'aria-label': 'Upload progress' }),
        el('span', { className: 'upload-text', text: `Uploading ${percent}%` }),
    );
}

function meta(msg) {
    const time = Number(msg.createat);
    const parts = [];
    if (Number.isFinite(time) && time > 0) parts.push(el('time', { datetime: new Date(time).toISOString(), text: formatTime(time) }));
    if (msg.mine && STATUS[msg.status]) {
        const [name, text] = STATUS[msg.status];
        const detail = msg.status === 'failed' && msg.error ? `${text}: ${msg.error}` : text;
        parts.push(el('span', { className: 'msg-status' }, icon(name, 14), el('span', { text: detail })));
    }
    if (msg.mine && msg.status === 'failed') {
        parts.push(
            el('button', { type: 'button', className: 'link-button', 'data-action': 'retry', 'data-cid': msg.cid }, 'Retry'),
            el('button', { type: 'button', className: 'link-button', 'data-action': 'discard', 'data-cid': msg.cid }, 'Delete'),
        );
    }
    return el('div', { className: 'msg-meta' }, parts);
}

function messageItem(msg, state, continued, tail) {
    const [kind, body] = messageBody(msg, state);
    const bubble = el('div', { className: `bubble bubble-${kind}` }, body, msg.status === 'uploading' ? uploadBar(msg) : null);
    const main = el('div', { className: 'msg-main' });
    if (!msg.mine && !continued) main.append(el('div', { className: 'msg-author' }, emojiText(personName(state, msg.userid))));
    main.append(bubble);
    if (tail) main.append(meta(msg));
    const side = msg.mine
        ? null
        : continued
          ? el('span', { className: 'avatar-space', 'aria-hidden': 'true' })
          : avatar(personName(state, msg.userid), `u:${msg.userid}`, personAvatar(state, msg.userid), 'avatar avatar-small');
    return el('li', { className: `msg ${msg.mine ? 'mine' : 'theirs'}${continued ? ' continued' : ''}`, 'data-status': msg.status }, side, main);
}

// While only the upload progress changes, the node is updated in place (no flicker of the preview).
function patchMessage(node, item, old) {
    const msg = item.data?.msg;
    if (!msg || !old?.msg) return false;
    if (!(old.msg.cid && old.msg.cid === msg.cid && old.msg.status === 'uploading' && msg.status === 'uploading')) return false;
    if (old.continued !== item.data.continued || old.names !== item.data.names) return false;
    const percent = Math.round((msg.upload?.progress ?? 0) * 100);
    const bar = node.querySelector('progress');
    if (bar) bar.value = percent;
    const text = node.querySelector('.upload-text');
    if (text) text.textContent = `Uploading ${percent}%`;
    return true;
}

// A data token per (message, continued, names) so reconcile() rebuilds exactly when one changes.
const tokens = new WeakMap();
function token(msg, continued, names) {
    let byFlag = tokens.get(msg);
    if (!byFlag) tokens.set(msg, (byFlag = new Map()));
    const k = `${continued}|${names}`;
    if (!byFlag.has(k)) byFlag.set(k, { msg, continued, names });
    return byFlag.get(k);
}

function continues(previous, msg) {
    const t = Number(msg.createat);
    return previous !== null && previous.userid === msg.userid && sameLocalDay(previous.createat, t) && t - Number(previous.createat) < RUN_GAP_MS;
}

function items(state, conversation, now) {
    const out = [];
    const list = conversation.messages;
    // Names and avatars can change after a message is drawn (a profile answered): part of the token.
    const names = state.people;
    list.forEach((msg, i) => {
        const previous = i > 0 ? list[i - 1] : null;
        const t = Number(msg.createat);
        if (!previous || !sameLocalDay(previous.createat, t)) {
            const label = dayLabel(t, now);
            out.push({ key: `d:${label}`, data: label, day: label });
        }
        const continued = continues(previous, msg);
        // Others' messages in a run show their time once, under the last one.
        const tail = msg.mine || i === list.length - 1 || !continues(msg, list[i + 1]);
        const namesKey = msg.mine ? '' : `${personName(state, msg.userid)}|${names[msg.userid]?.avatar ?? ''}`;
        out.push({ key: msg.cid ? `c:${msg.cid}` : `m:${msg.id}`, data: token(msg, `${continued}|${tail}`, namesKey), continued, tail });
    });
    return out;
}

function historyItem(conversation) {
    const h = conversation.history;
    if (h.unavailable) return el('li', { className: 'history', hidden: true });
    if (h.loading) return el('li', { className: 'history', role: 'status' }, 'Loading older messages…');
    if (h.failed) {
        return el('li', { className: 'history' }, el('button', { type: 'button', className: 'link-button', 'data-action': 'older' }, 'Could not load older messages. Try again'));
    }
    if (h.loaded && !h.more) return el('li', { className: 'history', text: 'This is the beginning of the conversation.' });
    return el('li', { className: 'history' }, el('button', { type: 'button', className: 'link-button', 'data-action': 'older' }, 'Load older messages'));
}

// Whether each message list was scrolled to the bottom, so new messages keep it there.
const stickToBottom = new WeakMap();

function watchScroll(ol) {
    if (stickToBottom.has(ol)) return;
    stickToBottom.set(ol, true);
    ol.addEventListener('scroll', () => stickToBottom.set(ol, ol.scrollHeight - ol.scrollTop - ol.clientHeight < 64), { passive: true });
    // Pictures change the height after they load; follow them if the reader was at the bottom.
    ol.addEventListener('load', () => stickToBottom.get(ol) && (ol.scrollTop = ol.scrollHeight), true);
    ol.addEventListener('loadedmetadata', () => stickToBottom.get(ol) && (ol.scrollTop = ol.scrollHeight), true);
}

/** True when the list is scrolled (almost) to its newest message. */
export function atBottom(ol) {
    return stickToBottom.get(ol) !== false;
}

/**
 * Brings the message list `ol` in line with the conversation; keeps the reader's place.
 * Returns true when someone else's message arrived below while the reader was scrolled up.
 */
export function renderMessages(ol, state, conversation, now = Date.now()) {
    watchScroll(ol);
    const switched = ol.dataset.key !== conversation.key;
    if (switched) {
        ol.replaceChildren();
        forget(ol);
        ol.dataset.key = conversation.key;
    }
    const firstBefore = ol.querySelector('.msg');
    const fromBottom = ol.scrollHeight - ol.scrollTop;
    const lastBefore = ol.lastElementChild;
    const list = [{ key: 'history', data: conversation.history }, ...items(state, conversation, now)];
    reconcile(
        ol,
        list,
        (item) =>
            item.key === 'history'
                ? historyItem(conversation)
                : item.day
                  ? el('li', { className: 'day', text: item.day })
                  : messageItem(item.data.msg, state, item.continued, item.tail),
        patchMessage,
    );
    const newest = conversation.messages.at(-1);
    const grew = ol.lastElementChild !== lastBefore;
    if (switched || (grew && (stickToBottom.get(ol) || newest?.mine))) {
        ol.scrollTop = ol.scrollHeight;
        stickToBottom.set(ol, true);
        return false;
    }
    if (firstBefore && ol.querySelector('.msg') !== firstBefore) {
        // Older messages came in above: keep what the reader was looking at in place.
        ol.scrollTop = ol.scrollHeight - fromBottom;
    }
    return grew && !newest?.mine;
}

/** Scrolls to the newest message. */
export function scrollToNewest(ol) {
    ol.scrollTop = ol.scrollHeight;
    stickToBottom.set(ol, true);
}
