// Specifications of web/format.js: which urls may be rendered, and the text shown for each message kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
    dayLabel,
    formatAmount,
    formatDuration,
    formatTime,
    hostOf,
    isHttpUrl,
    isLocalPath,
    isSafeUrl,
    preview,
    sentence,
    splitLinks,
    summarize,
    truncate,
} from '../../web/format.js';

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
        [{ media: 2, content: 'Big news', url: 'https://n.example' }, '[News] Big news'],
        [{ media: 3, url: '/mnt/v.ogg', amount: 3 }, '[Voice 0:03]'],
        [{ media: 4, url: '/mnt/p.png' }, '[Photo]'],
        [{ media: 5, amount: 100, memo: 'memo' }, '[Red packet ¥1.00] memo'],
        [{ media: 5, amount: 1234 }, '[Red packet ¥12.34]'],
        [{ media: 6, content: '😀' }, '😀'],
        [{ media: 6, url: '/asset/e.png' }, '[Sticker]'],
        [{ media: 7, url: 'https://l.example' }, '[Link] https://l.example'],
        [{ media: 8, url: '/mnt/v.mp4' }, '[Video]'],
        [{ media: 9, content: '42', memo: 'Ann' }, '[Contact card] Ann'],
        [{ media: 100, content: '{"k":1}' }, '[Custom] {"k":1}'],
        [{ media: 77, content: 'x' }, '[Unsupported message]'],
        [{}, '[Unsupported message]'],
    ];
    for (const [msg, expected] of cases) assert.equal(summarize(msg), expected, JSON.stringify(msg));
});

test('summarize tolerates missing or invalid amounts', () => {
    assert.equal(summarize({ media: 3, url: '/mnt/v.ogg' }), '[Voice]');
    assert.equal(summarize({ media: 5, amount: -5 }), '[Red packet]');
    assert.equal(summarize({ media: '3', amount: '7' }), '[Voice 0:07]');
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

test('splitLinks makes only http(s) urls links and leaves trailing punctuation outside', () => {
    assert.deepEqual(splitLinks('see https://a.example/x). and http://b.example'), [
        { text: 'see ' },
        { url: 'https://a.example/x' },
        { text: '). and ' },
        { url: 'http://b.example' },
    ]);
    assert.deepEqual(splitLinks('javascript:alert(1) ftp://x.example'), [{ text: 'javascript:alert(1) ftp://x.example' }]);
    assert.deepEqual(splitLinks('<a href="https://x.example">'), [{ text: '<a href="' }, { url: 'https://x.example' }, { text: '">' }]);
    assert.deepEqual(splitLinks(''), []);
});

test('formatDuration shows m:ss', () => {
    assert.equal(formatDuration(7), '0:07');
    assert.equal(formatDuration(61.4), '1:01');
    assert.equal(formatDuration(-3), '0:00');
    assert.equal(formatDuration('x'), '0:00');
});

test('hostOf names the host of http(s) urls only', () => {
    assert.equal(hostOf('https://news.example:8443/a?b'), 'news.example:8443');
    assert.equal(hostOf('javascript:alert(1)'), '');
    assert.equal(hostOf('/mnt/a.png'), '');
});

test('dayLabel says Today, Yesterday or the date', () => {
    const now = new Date(2024, 5, 15, 12, 0).getTime();
    assert.equal(dayLabel(new Date(2024, 5, 15, 0, 1).getTime(), now), 'Today');
    assert.equal(dayLabel(new Date(2024, 5, 14, 23, 59).getTime(), now), 'Yesterday');
    assert.equal(dayLabel(new Date(2024, 0, 2, 8, 0).getTime(), now), '2024-01-02');
});

test('sentence capitalises and ends a message', () => {
    assert.equal(sentence('the file is too large'), 'The file is too large.');
    assert.equal(sentence('Done!'), 'Done!');
    assert.equal(sentence(''), 'Something went wrong.');
});
