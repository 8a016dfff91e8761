// The shipped emoji set (emoji-data.js) and the pure helpers around it: the SVG file of an emoji,
// splitting text into plain runs and known emoji (so render.js can draw them as images: a
// headless or minimal system may have no emoji font), and whether a message is "only emoji"
// (sent as media 6). No DOM; tested in tests/web/emoji.test.mjs.

import { EMOJI_GROUPS } from './emoji-data.js';

export { EMOJI_GROUPS };

export const EMOJI_DIR = '/asset/emoji/';
// At most this many emoji (and nothing else) make an "emoji message" (media 6, drawn large).
export const MAX_EMOJI_MESSAGE = 3;

const VS16 = 0xfe0f;
const ZWJ = 0x200d;

/** Twemoji's file name: code points in hex joined by '-', U+FE0F dropped unless it is a ZWJ sequence. */
export function emojiFile(char) {
    const points = Array.from(String(char), (c) => c.codePointAt(0));
    const kept = points.includes(ZWJ) ? points : points.filter((p) => p !== VS16);
    return `${kept.map((p) => p.toString(16)).join('-')}.svg`;
}

/** Every shipped emoji: {char, name, group}, in picker order. */
export const EMOJI = Object.freeze(
    EMOJI_GROUPS.flatMap((group) => group.emoji.map(([char, name]) => Object.freeze({ char, name, group: group.name }))),
);

// Known emoji by their form without U+FE0F, so "❤" and "❤️" both match.
const bare = (s) => s.replace(/\uFE0F/g, '');
const KNOWN = new Map(EMOJI.map((e) => [bare(e.char), e]));
// Longest first, so a multi-code-point emoji wins over its first code point.
const LONGEST = Math.max(...EMOJI.map((e) => Array.from(bare(e.char)).length));

/** The shipped emoji for `char` (with or without U+FE0F), or null. */
export function findEmoji(char) {
    return KNOWN.get(bare(String(char))) ?? null;
}

/** URL path of an emoji's image. */
export function emojiUrl(char) {
    return EMOJI_DIR + emojiFile(findEmoji(char)?.char ?? char);
}

// The longest shipped emoji starting at chars[i] (a U+FE0F right after it is part of it), as
// [emoji, number of chars used], or [null, 0].
function matchAt(chars, i) {
    for (let n = Math.min(LONGEST, chars.length - i); n >= 1; n--) {
        const found = KNOWN.get(bare(chars.slice(i, i + n).join('')));
        if (found) return [found, chars[i + n] === '\uFE0F' ? n + 1 : n];
    }
    return [null, 0];
}

/**
 * Splits text into [{text}|{emoji}] runs; `emoji` is a shipped emoji's character (canonical
 * form). Anything not in the set stays text. Concatenating the runs gives back the text (up to
 * U+FE0F after an emoji, which is absorbed into it).
 */
export function splitEmoji(text) {
    const chars = Array.from(String(text ?? ''));
    const runs = [];
    let plain = '';
    for (let i = 0; i < chars.length; ) {
        const [match, used] = matchAt(chars, i);
        if (match) {
            if (plain) runs.push({ text: plain });
            plain = '';
            runs.push({ emoji: match.char });
            i += used;
        } else {
            plain += chars[i];
            i += 1;
        }
    }
    if (plain) runs.push({ text: plain });
    return runs;
}

/** The emoji of a text made only of 1..MAX_EMOJI_MESSAGE shipped emoji (and spaces), else null. */
export function onlyEmoji(text) {
    const runs = splitEmoji(String(text ?? '').trim());
    if (runs.length === 0 || runs.length > MAX_EMOJI_MESSAGE * 2) return null;
    const emoji = [];
    for (const run of runs) {
        if (run.emoji) emoji.push(run.emoji);
        else if (run.text.trim() !== '') return null;
    }
    return emoji.length >= 1 && emoji.length <= MAX_EMOJI_MESSAGE ? emoji : null;
}
