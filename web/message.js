// The message model of the page: builds the frame for every kind of message a person can send,
// with the node's limits checked before anything leaves the page (README "Protocol": field
// limits, required fields per media), and decides which media an uploaded file becomes.
// Pure functions; chat.js calls them, tests/web/message.test.mjs pins them.

import { MEDIA, isHttpUrl, isSafeUrl } from './format.js';
import { onlyEmoji } from './emoji.js';

export const LIMITS = Object.freeze({ content: 8192, url: 2048, memo: 1024, amount: 2 ** 31 - 1 });
// A red packet above this is almost certainly a typo (cents: ¥200.00 as WeChat caps it).
export const MAX_RED_PACKET_CENTS = 20_000;

export class MessageError extends Error {}

const chars = (s) => Array.from(String(s ?? '')).length;

function check(condition, message) {
    if (!condition) throw new MessageError(message);
}

function checkUrl(url, what) {
    check(isSafeUrl(url), `${what} must be an http(s) address or a file on this server`);
    check(url.length <= LIMITS.url, `${what} is too long`);
}

/** The one-line text of the composer as a message: an emoji message, a link, or text. */
export function fromText(text) {
    const trimmed = String(text ?? '').trim();
    check(trimmed !== '', 'the message is empty');
    check(chars(trimmed) <= LIMITS.content, `a message holds at most ${LIMITS.content} characters`);
    const emoji = onlyEmoji(trimmed);
    if (emoji) return { media: MEDIA.EMOJI, content: emoji.join('') };
    if (isHttpUrl(trimmed) && trimmed.length <= LIMITS.url) return { media: MEDIA.LINK, url: trimmed };
    return { media: MEDIA.TEXT, content: trimmed };
}

/** An image, video or voice message for an uploaded file. `seconds` is a voice message's length. */
export function fromUpload(media, url, { seconds, poster } = {}) {
    checkUrl(url, 'the file');
    if (media === MEDIA.IMAGE) return { media, url };
    if (media === MEDIA.VIDEO) return poster && isSafeUrl(poster) ? { media, url, pic: poster } : { media, url };
    if (media === MEDIA.VOICE) {
        const s = Math.max(1, Math.round(Number(seconds) || 0));
        return { media, url, amount: Math.min(s, LIMITS.amount) };
    }
    throw new MessageError('unsupported file');
}

/** A red packet: `yuan` as typed ("8.88"), greeting optional. */
export function redPacket(yuan, greeting = '') {
    const cents = parseAmount(yuan);
    check(cents !== null && cents > 0, 'enter an amount such as 8.88');
    check(cents <= MAX_RED_PACKET_CENTS, 'a red packet holds at most ¥200.00');
    const memo = String(greeting ?? '').trim();
    check(chars(memo) <= LIMITS.memo, 'the greeting is too long');
    return memo ? { media: MEDIA.RED_PACKET, amount: cents, memo } : { media: MEDIA.RED_PACKET, amount: cents };
}

/** A contact card for a user ({id, nickname, avatar}). */
export function contactCard(user) {
    const id = Number(user?.id);
    check(Number.isSafeInteger(id) && id > 0, 'choose a contact');
    const frame = { media: MEDIA.CARD, content: String(id) };
    const name = String(user.nickname ?? '').trim();
    if (name) frame.memo = Array.from(name).slice(0, LIMITS.memo).join('');
    if (user.avatar && isSafeUrl(user.avatar)) frame.pic = user.avatar;
    return frame;
}

/** A news message: title and link required; picture and description optional. */
export function news({ title, url, pic, memo }) {
    const t = String(title ?? '').trim();
    check(t !== '', 'the news needs a title');
    check(chars(t) <= LIMITS.content, 'the title is too long');
    const link = String(url ?? '').trim();
    check(isHttpUrl(link), 'the link must start with http:// or https://');
    check(link.length <= LIMITS.url, 'the link is too long');
    const frame = { media: MEDIA.NEWS, content: t, url: link };
    const picture = String(pic ?? '').trim();
    if (picture) {
        checkUrl(picture, 'the picture');
        frame.pic = picture;
    }
    const description = String(memo ?? '').trim();
    if (description) {
        check(chars(description) <= LIMITS.memo, 'the description is too long');
        frame.memo = description;
    }
    return frame;
}

/** The wire frame: {id: cid, cmd: 10|11, dstid, ...fields}. */
export function toFrame(conversation, cid, fields) {
    return { id: cid, cmd: conversation.kind === 'group' ? 11 : 10, dstid: conversation.id, ...fields };
}

/** "8.88" / "8" / "¥ 0.5" -> cents, or null. At most two decimals; no exponent or sign tricks. */
export function parseAmount(text) {
    const m = String(text ?? '')
        .trim()
        .replace(/^[¥￥]\s*/, '')
        .match(/^(\d{1,9})(?:[.,](\d{1,2}))?$/);
    if (!m) return null;
    return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

const IMAGE_EXT = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp']);
const AUDIO_EXT = new Set(['ogg', 'mp3', 'wav', 'm4a']);
const VIDEO_EXT = new Set(['mp4', 'webm']);

/**
 * The media an uploaded file becomes, from the node's answer (its extension comes from the
 * file's bytes) and what the person meant (`intent`: 'voice' for a recording or an audio file).
 * Null when the node stored something the page cannot show.
 */
export function mediaForUpload(url, intent = '') {
    const ext = String(url ?? '').split('.').pop().toLowerCase();
    if (IMAGE_EXT.has(ext)) return MEDIA.IMAGE;
    if (AUDIO_EXT.has(ext)) return MEDIA.VOICE;
    // A browser records voice as WebM (audio only); a chosen .webm/.mp4 file is a video.
    if (VIDEO_EXT.has(ext)) return intent === 'voice' ? MEDIA.VOICE : MEDIA.VIDEO;
    return null;
}

/** What kind of file the person picked, from the browser's type: 'image' | 'video' | 'voice' | null. */
export function pickedKind(mimeType) {
    const type = String(mimeType ?? '').toLowerCase();
    if (type.startsWith('image/')) return 'image';
    if (type.startsWith('video/')) return 'video';
    if (type.startsWith('audio/')) return 'voice';
    return null;
}
