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

/** A plain-text description of any message, e.g. "[voice 3s]" or "[red packet ¥1.00: memo]". */
export function summarize(msg) {
    const content = str(msg?.content);
    const memo = str(msg?.memo);
    switch (Number(msg?.media)) {
        case MEDIA.TEXT:
            return content;
        case MEDIA.NEWS:
            return content ? `[news: ${content}]` : '[news]';
        case MEDIA.VOICE: {
            const seconds = positiveInt(msg.amount);
            return seconds ? `[voice ${seconds}s]` : '[voice]';
        }
        case MEDIA.IMAGE:
            return '[image]';
        case MEDIA.RED_PACKET: {
            const cents = positiveInt(msg.amount);
            const amount = cents ? ` ${formatAmount(cents)}` : '';
            return memo ? `[red packet${amount}: ${memo}]` : `[red packet${amount}]`;
        }
        case MEDIA.EMOJI:
            return content || '[emoji]';
        case MEDIA.LINK:
            return msg.url ? `[link ${str(msg.url)}]` : '[link]';
        case MEDIA.VIDEO:
            return '[video]';
        case MEDIA.CARD:
            return memo ? `[contact card: user ${content}: ${memo}]` : `[contact card: user ${content}]`;
        case MEDIA.CUSTOM:
            return content ? `[custom: ${truncate(content, 60)}]` : '[custom]';
        default:
            return '[unsupported message]';
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
