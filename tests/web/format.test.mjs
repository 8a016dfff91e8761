// Specifications of web/format.js: which urls may be rendered, and the text shown for each message kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { formatAmount, formatTime, isHttpUrl, isLocalPath, isSafeUrl, preview, summarize, truncate } from '../../web/format.js';

test('isSafeUrl accepts http(s) urls and paths under /mnt/ and /asset/', () => {
    for (const url of ['http://example.com/a.png', 'HTTPS://example.com', 'https://x.y/p?q=1#f', '/mnt/ab12.png', '/asset/logo.svg']) {
        assert.equal(isSafeUrl(url), true, url);
    }
});

test('isSafeUrl refuses script, data, protocol-relative, other paths and malformed input', () => {
    const bad = [
        'javascript:alert(1)',
        'JaVaScRiPt:alert(1)',
        ' javascript:alert(1)',
        'data:image/png;base64,AAAA',
        'vbscript:x',
        '//evil.example/x.png',
        '/\\evil.example/x.png',
        '/web/chat.js',
        '/mnt',
        'mnt/x.png',
        'http:/x',
        'http:///x',
        'https://exa mple.com',
        'http://ok.example/\njavascript:',
        '/mnt/a\tb',
        'ftp://example.com/x',
        '',
        null,
        undefined,
        42,
        { toString: () => 'http://x.y' },
        `https://x.y/${'a'.repeat(3000)}`,
    ];
    for (const url of bad) assert.equal(isSafeUrl(url), false, String(url));
});

test('isHttpUrl is true only for absolute http(s) urls, not for local paths', () => {
    assert.equal(isHttpUrl('https://example.com/page'), true);
    assert.equal(isHttpUrl('/mnt/a.png'), false);
    assert.equal(isLocalPath('/mnt/a.png'), true);
    assert.equal(isLocalPath('https://example.com/mnt/a.png'), false);
});

test('summarize describes every media type', () => {
    const cases = [
        [{ media: 1, content: 'hello\nthere' }, 'hello\nthere'],
        [{ media: 2, content: 'Big news', url: 'https://n.example' }, '[news: Big news]'],
        [{ media: 3, url: '/mnt/v.ogg', amount: 3 }, '[voice 3s]'],
        [{ media: 4, url: '/mnt/p.png' }, '[image]'],
        [{ media: 5, amount: 100, memo: 'memo' }, '[red packet ¥1.00: memo]'],
        [{ media: 5, amount: 1234 }, '[red packet ¥12.34]'],
        [{ media: 6, content: '😀' }, '😀'],
        [{ media: 6, url: '/asset/e.png' }, '[emoji]'],
        [{ media: 7, url: 'https://l.example' }, '[link https://l.example]'],
        [{ media: 8, url: '/mnt/v.mp4' }, '[video]'],
        [{ media: 9, content: '42', memo: 'Ann' }, '[contact card: user 42: Ann]'],
        [{ media: 100, content: '{"k":1}' }, '[custom: {"k":1}]'],
        [{ media: 77, content: 'x' }, '[unsupported message]'],
        [{}, '[unsupported message]'],
    ];
    for (const [msg, expected] of cases) assert.equal(summarize(msg), expected, JSON.stringify(msg));
});

test('summarize tolerates missing or invalid amounts', () => {
    assert.equal(summarize({ media: 3, url: '/mnt/v.ogg' }), '[voice]');
    assert.equal(summarize({ media: 5, amount: -5 }), '[red packet]');
    assert.equal(summarize({ media: '3', amount: '7' }), '[voice 7s]');
});

test('formatAmount turns cents into yuan with two decimals', () => {
    assert.equal(formatAmount(1), '¥0.01');
    assert.equal(formatAmount(30), '¥0.30');
    assert.equal(formatAmount(2147483647), '¥21474836.47');
    assert.equal(formatAmount(-1), '¥?');
});

test('truncate counts code points and marks the cut', () => {
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abc', 4), 'abc');
    assert.equal(truncate('😀😀😀😀😀', 3), '😀😀…');
});

test('preview folds whitespace into one line', () => {
    assert.equal(preview({ media: 1, content: '  a\n\n b  ' }), 'a b');
    assert.equal(preview({ media: 1, content: 'x'.repeat(200) }).length, 80);
});

test('formatTime shows the clock today, "Yesterday" and a date before', () => {
    const now = new Date(2024, 5, 15, 12, 0).getTime();
    assert.equal(formatTime(new Date(2024, 5, 15, 9, 5).getTime(), now), '09:05');
    assert.equal(formatTime(new Date(2024, 5, 14, 23, 59).getTime(), now), 'Yesterday 23:59');
    assert.equal(formatTime(new Date(2023, 11, 31, 8, 0).getTime(), now), '2023-12-31 08:00');
    assert.equal(formatTime('not a time', now), '');
});
