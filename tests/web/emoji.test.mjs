// Specifications of web/emoji.js: the shipped set, its files, and drawing emoji inside text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { EMOJI, MAX_EMOJI_MESSAGE, emojiFile, emojiUrl, findEmoji, onlyEmoji, splitEmoji } from '../../web/emoji.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('every shipped emoji has its SVG in asset/emoji/, and nothing else is shipped', () => {
    const files = new Set(fs.readdirSync(path.join(repo, 'asset', 'emoji')).filter((f) => f.endsWith('.svg')));
    const wanted = new Set(EMOJI.map((e) => emojiFile(e.char)));
    for (const file of wanted) assert.ok(files.has(file), `missing asset/emoji/${file}`);
    for (const file of files) assert.ok(wanted.has(file), `asset/emoji/${file} is not in web/emoji-data.js`);
    assert.ok(EMOJI.length >= 150, 'a useful set');
});

test('the set has no duplicates and every emoji has a name', () => {
    const chars = EMOJI.map((e) => e.char);
    assert.equal(new Set(chars).size, chars.length);
    for (const e of EMOJI) assert.ok(e.name && e.group, e.char);
});

test('emojiFile follows Twemoji naming: hex code points, U+FE0F dropped outside ZWJ sequences', () => {
    assert.equal(emojiFile('😀'), '1f600.svg');
    assert.equal(emojiFile('❤️'), '2764.svg');
    assert.equal(emojiFile('👁‍🗨'), '1f441-200d-1f5e8.svg');
    assert.equal(emojiUrl('❤'), '/asset/emoji/2764.svg');
});

test('findEmoji matches with or without the variation selector', () => {
    assert.equal(findEmoji('❤')?.char, '❤️');
    assert.equal(findEmoji('❤️')?.char, '❤️');
    assert.equal(findEmoji('a'), null);
});

test('splitEmoji separates shipped emoji from text and keeps everything else', () => {
    assert.deepEqual(splitEmoji('hi ❤️ there 😀😀!'), [
        { text: 'hi ' },
        { emoji: '❤️' },
        { text: ' there ' },
        { emoji: '😀' },
        { emoji: '😀' },
        { text: '!' },
    ]);
    assert.deepEqual(splitEmoji('<img src=x>'), [{ text: '<img src=x>' }]);
    assert.deepEqual(splitEmoji(''), []);
    assert.deepEqual(splitEmoji(null), []);
});

test('onlyEmoji recognises short all-emoji messages, which are sent as emoji messages', () => {
    assert.deepEqual(onlyEmoji(' 😀 ❤️ '), ['😀', '❤️']);
    assert.equal(onlyEmoji('😀 ok'), null);
    assert.equal(onlyEmoji(''), null);
    assert.equal(onlyEmoji('😀'.repeat(MAX_EMOJI_MESSAGE + 1)), null);
});
