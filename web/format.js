// Pure formatting helpers for the chat pages: which urls may become links or images, a one-line
// text for every message kind, money and time. No DOM; used by render.js and state.js, and unit
// tested in tests/web/format.test.mjs.

export const MEDIA = Object.freeze({
    TEXT: 1,
    NEWS: 2,
    VOICE: 3,
    IMAGE: 4,
    RED_PACKET: 5,
    EMOJI: 6,
    LINK: 7,
    VIDEO: 8,
    CARD: 9,
    CUSTOM: 100,
});

// Control characters, whitespace and backslashes never occur in a url we produce or accept;
// browsers silently strip or reinterpret them, which is how filters get bypassed.
const SUSPICIOUS = /[\u0000-\u0020\u007f\\]/;
const MAX_URL = 2048;

/** True only for absolute http:// or https:// urls with a host. */
export function isHttpUrl(url) {
    if (typeof url !== 'string' || url.length > MAX_URL || SUSPICIOUS.test(url)) return false;
    if (!/^https?:\/\/[^/]/i.test(url)) return false;
    try {
        const parsed = new URL(url);
        return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host !== '';
    } catch {
        return false;
    }
}

/** True for a path served by this node: uploads (/mnt/) and static assets (/asset/). */
export function isLocalPath(url) {
    if (typeof url !== 'string' || url.length > MAX_URL || SUSPICIOUS.test(url)) return false;
    return url.startsWith('/mnt/') || url.startsWith('/asset/');
}

/** The rule for every src we render: http(s) or a path on this node. Never javascript:, data:, //host. */
export function isSafeUrl(url) {
    return isHttpUrl(url) || isLocalPath(url);
}

/** Cents to a display amount: 100 -> "¥1.00". Integer arithmetic, so no 0.1 + 0.2 surprises. */
export function formatAmount(cents) {
    const n = Number(cents);
    if (!Number.isSafeInteger(n) || n < 0) return '¥?';
    return `¥${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;
}

/** Shortens to at most max characters (code points, so emoji are never cut in half). */
export function truncate(text, max) {
    const chars = Array.from(String(text ?? ''));
    return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

function str(value) {
    return typeof value === 'string' ? value : value == null ? '' : String(value);
}

function positiveInt(value) {
    const n = Number(value);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** A plain-text description of any message, e.g. "[Voice 0:03]" or "[Red packet ¥1.00] memo". */
export function summarize(msg) {
    const content = str(msg?.content);
    const memo = str(msg?.memo);
    switch (Number(msg?.media)) {
        case MEDIA.TEXT:
            return content;
        case MEDIA.NEWS:
            return content ? `[News] ${content}` : '[News]';
        case MEDIA.VOICE: {
            const seconds = positiveInt(msg.amount);
            return seconds ? `[Voice ${formatDuration(seconds)}]` : '[Voice]';
        }
        case MEDIA.IMAGE:
            return '[Photo]';
        case MEDIA.RED_PACKET: {
            const cents = positiveInt(msg.amount);
            const head = cents ? `[Red packet ${formatAmount(cents)}]` : '[Red packet]';
            return memo ? `${head} ${memo}` : head;
        }
        case MEDIA.EMOJI:
            return content || '[Sticker]';
        case MEDIA.LINK:
            return msg.url ? `[Link] ${str(msg.url)}` : '[Link]';
        case MEDIA.VIDEO:
            return '[Video]';
        case MEDIA.CARD:
            return `[Contact card] ${memo || `user ${content}`}`;
        case MEDIA.CUSTOM:
            return content ? `[Custom] ${truncate(content, 60)}` : '[Custom]';
        default:
            return '[Unsupported message]';
    }
}

/** One line for the conversation list: newlines folded, long texts shortened. */
export function preview(msg, max = 80) {
    return truncate(summarize(msg).replace(/\s+/g, ' ').trim(), max);
}

const pad = (n) => String(n).padStart(2, '0');

function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * Local time of a message: "14:05" today, "Yesterday 14:05", "2024-03-09 14:05" before that.
 * Deliberately locale-free so it reads the same everywhere and tests can pin it.
 */
export function formatTime(ms, now = Date.now()) {
    const when = new Date(Number(ms));
    if (!Number.isFinite(when.getTime())) return '';
    const clock = `${pad(when.getHours())}:${pad(when.getMinutes())}`;
    const today = new Date(now);
    if (sameDay(when, today)) return clock;
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (sameDay(when, yesterday)) return `Yesterday ${clock}`;
    return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${clock}`;
}

// An http(s) url inside text: up to whitespace; trailing punctuation is left outside the link.
const URL_IN_TEXT = /https?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'")\]}>]+$/;

/** Splits text into [{text}|{url}] runs; only urls that pass isHttpUrl become {url}. */
export function splitLinks(text) {
    const s = String(text ?? '');
    const runs = [];
    let last = 0;
    for (const m of s.matchAll(URL_IN_TEXT)) {
        let url = m[0];
        const tail = url.match(TRAILING);
        if (tail) url = url.slice(0, -tail[0].length);
        if (!isHttpUrl(url)) continue;
        if (m.index > last) runs.push({ text: s.slice(last, m.index) });
        runs.push({ url });
        last = m.index + url.length;
    }
    if (last < s.length) runs.push({ text: s.slice(last) });
    return runs;
}

/** Seconds as "m:ss" ("0:07", "12:30"); negative or bad input gives "0:00". */
export function formatDuration(seconds) {
    const total = Math.max(0, Math.round(Number(seconds) || 0));
    return `${Math.floor(total / 60)}:${pad(total % 60)}`;
}

/** The host of an http(s) url ("example.com"), or '' for anything else. */
export function hostOf(url) {
    if (!isHttpUrl(url)) return '';
    return new URL(url).host;
}

/** A calendar day label for a separator in a conversation: "Today", "Yesterday" or "2024-03-09". */
export function dayLabel(ms, now = Date.now()) {
    const when = new Date(Number(ms));
    if (!Number.isFinite(when.getTime())) return '';
    const today = new Date(now);
    if (sameDay(when, today)) return 'Today';
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (sameDay(when, yesterday)) return 'Yesterday';
    return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`;
}

/** True when two times fall on the same local calendar day. */
export function sameLocalDay(a, b) {
    const x = new Date(Number(a));
    const y = new Date(Number(b));
    return Number.isFinite(x.getTime()) && Number.isFinite(y.getTime()) && sameDay(x, y);
}

/** A server or validation message as a sentence: "the file is too large" -> "The file is too large." */
export function sentence(text) {
    const s = String(text ?? '').trim();
    if (!s) return 'Something went wrong.';
    const first = s[0].toLocaleUpperCase() + s.slice(1);
    return /[.!?…]$/.test(first) ? first : `${first}.`;
}
