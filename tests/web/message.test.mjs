// Specifications of web/message.js: the frames the page sends for every kind of message.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as M from '../../web/message.js';

test('text becomes a text message, all-emoji an emoji message, a lone url a link', () => {
    assert.deepEqual(M.fromText('  hello\nthere '), { media: 1, content: 'hello\nthere' });
    assert.deepEqual(M.fromText('😀🎉'), { media: 6, content: '😀🎉' });
    assert.deepEqual(M.fromText('https://example.com/a'), { media: 7, url: 'https://example.com/a' });
    assert.deepEqual(M.fromText('javascript:alert(1)'), { media: 1, content: 'javascript:alert(1)' });
    assert.throws(() => M.fromText('   '), M.MessageError);
    assert.throws(() => M.fromText('x'.repeat(M.LIMITS.content + 1)), /at most 8192/);
});

test('red packets take yuan as typed and send cents', () => {
    assert.deepEqual(M.redPacket('8.88', ' Happy new year '), { media: 5, amount: 888, memo: 'Happy new year' });
    assert.deepEqual(M.redPacket('¥5'), { media: 5, amount: 500 });
    assert.deepEqual(M.redPacket('0,5'), { media: 5, amount: 50 });
    for (const bad of ['', '0', '-1', '1e3', '1.234', 'abc', '200.01']) assert.throws(() => M.redPacket(bad), M.MessageError, bad);
});

test('parseAmount reads at most two decimals and nothing else', () => {
    assert.equal(M.parseAmount('12.3'), 1230);
    assert.equal(M.parseAmount('￥ 0.01'), 1);
    assert.equal(M.parseAmount('1.'), null);
    assert.equal(M.parseAmount('Infinity'), null);
});

test('uploads become image, video or voice messages with safe urls only', () => {
    assert.deepEqual(M.fromUpload(4, '/mnt/a.png'), { media: 4, url: '/mnt/a.png' });
    assert.deepEqual(M.fromUpload(3, '/mnt/v.webm', { seconds: 2.6 }), { media: 3, url: '/mnt/v.webm', amount: 3 });
    assert.deepEqual(M.fromUpload(3, '/mnt/v.ogg', { seconds: 0 }), { media: 3, url: '/mnt/v.ogg', amount: 1 });
    assert.deepEqual(M.fromUpload(8, '/mnt/v.mp4', { poster: 'javascript:x' }), { media: 8, url: '/mnt/v.mp4' });
    assert.throws(() => M.fromUpload(4, 'javascript:alert(1)'), M.MessageError);
    assert.throws(() => M.fromUpload(4, '//evil.example/a.png'), M.MessageError);
});

test("the node's stored extension decides the media; a recording in WebM is voice", () => {
    assert.equal(M.mediaForUpload('/mnt/x.jpeg'), 4);
    assert.equal(M.mediaForUpload('/mnt/x.wav'), 3);
    assert.equal(M.mediaForUpload('/mnt/x.webm'), 8);
    assert.equal(M.mediaForUpload('/mnt/x.webm', 'voice'), 3);
    assert.equal(M.mediaForUpload('/mnt/x.exe'), null);
    assert.equal(M.pickedKind('image/png'), 'image');
    assert.equal(M.pickedKind('audio/wav'), 'voice');
    assert.equal(M.pickedKind('application/pdf'), null);
});

test('contact cards carry the user id, name and a safe picture', () => {
    assert.deepEqual(M.contactCard({ id: 9, nickname: 'Nine', avatar: '/mnt/n.png' }), { media: 9, content: '9', memo: 'Nine', pic: '/mnt/n.png' });
    assert.deepEqual(M.contactCard({ id: 9, avatar: 'data:image/png;base64,xx' }), { media: 9, content: '9' });
    assert.throws(() => M.contactCard({ id: 0 }), M.MessageError);
});

test('news needs a title and an http(s) link; picture and description are optional', () => {
    assert.deepEqual(M.news({ title: 'T', url: 'https://n.example' }), { media: 2, content: 'T', url: 'https://n.example' });
    assert.deepEqual(M.news({ title: 'T', url: 'http://n.example', pic: '/mnt/p.png', memo: 'd' }), {
        media: 2,
        content: 'T',
        url: 'http://n.example',
        pic: '/mnt/p.png',
        memo: 'd',
    });
    assert.throws(() => M.news({ title: '', url: 'https://n.example' }), /title/);
    assert.throws(() => M.news({ title: 'T', url: '/mnt/x' }), /link/);
    assert.throws(() => M.news({ title: 'T', url: 'https://n.example', pic: 'javascript:1' }), /picture/);
});

test('frames go to a user (cmd 10) or a group (cmd 11) under the client id', () => {
    assert.deepEqual(M.toFrame({ kind: 'user', id: 2 }, 'c1', { media: 1, content: 'x' }), { id: 'c1', cmd: 10, dstid: 2, media: 1, content: 'x' });
    assert.deepEqual(M.toFrame({ kind: 'group', id: 7 }, 'c2', { media: 5, amount: 1 }), { id: 'c2', cmd: 11, dstid: 7, media: 5, amount: 1 });
});
