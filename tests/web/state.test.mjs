// Specifications of web/state.js: conversations, unread counts, acks and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as S from '../../web/state.js';

const ME = { id: 1, nickname: 'Me' };
const ALICE = { id: 2, nickname: 'Alice', avatar: '' };
const BOB = { id: 3, nickname: 'Bob', avatar: 'javascript:alert(1)' };
const GROUP = { id: 7, name: 'Hikers', icon: '/asset/g.png' };

function base() {
    return S.upsertGroups(S.upsertFriends(S.initialState(ME), [ALICE, BOB]), [GROUP]);
}

const fromAlice = (id, content = 'hi') => ({ id, userid: 2, cmd: 10, dstid: 1, media: 1, content, createat: 1000 + id });
const inGroup = (id, userid) => ({ id, userid, cmd: 11, dstid: 7, media: 1, content: 'g', createat: 2000 + id });

test('friends and groups become conversations named by nickname and group name', () => {
    const s = base();
    assert.equal(s.conversations['u:2'].name, 'Alice');
    assert.equal(s.conversations['g:7'].name, 'Hikers');
    assert.deepEqual(S.listConversations(s, 'user').map((c) => c.name), ['Alice', 'Bob']);
    assert.deepEqual(S.listConversations(s, 'group').map((c) => c.id), [7]);
});

test('unsafe avatar urls are dropped, safe ones kept', () => {
    const s = base();
    assert.equal(s.conversations['u:3'].avatar, '');
    assert.equal(s.conversations['g:7'].avatar, '/asset/g.png');
});

test('reloading friends keeps their messages and unread counts', () => {
    let s = S.receiveMessage(base(), fromAlice(10));
    s = S.upsertFriends(s, [{ ...ALICE, nickname: 'Alice B' }]);
    assert.equal(s.conversations['u:2'].name, 'Alice B');
    assert.equal(s.conversations['u:2'].messages.length, 1);
    assert.equal(s.conversations['u:2'].unread, 1);
});

test('a message for a conversation that is not open raises its unread count', () => {
    let s = S.setActive(base(), 'u:3');
    s = S.receiveMessage(s, fromAlice(10));
    s = S.receiveMessage(s, fromAlice(11));
    assert.equal(s.conversations['u:2'].unread, 2);
    assert.equal(s.conversations['u:3'].unread, 0);
    assert.equal(S.totalUnread(s), 2);
});

test('a message for the open conversation is not unread, and opening clears the count', () => {
    let s = S.receiveMessage(base(), fromAlice(10));
    s = S.setActive(s, 'u:2');
    assert.equal(s.conversations['u:2'].unread, 0);
    s = S.receiveMessage(s, fromAlice(11));
    assert.equal(s.conversations['u:2'].unread, 0);
    assert.equal(s.conversations['u:2'].messages.length, 2);
});

test('group messages go to the group; my own (from another device) are not unread', () => {
    let s = S.receiveMessage(base(), inGroup(20, 2));
    s = S.receiveMessage(s, inGroup(21, 1));
    const g = s.conversations['g:7'];
    assert.equal(g.messages.length, 2);
    assert.equal(g.unread, 1);
    assert.equal(g.messages[1].mine, true);
});

test('my single message from another device lands in the chat with its recipient', () => {
    const s = S.receiveMessage(base(), { id: 30, userid: 1, cmd: 10, dstid: 3, media: 1, content: 'x', createat: 5 });
    assert.equal(s.conversations['u:3'].messages.length, 1);
    assert.equal(s.conversations['u:3'].messages[0].mine, true);
    assert.equal(s.conversations['u:3'].unread, 0);
});

test('a message from an unknown sender or group creates a placeholder conversation', () => {
    let s = S.receiveMessage(base(), { id: 40, userid: 9, cmd: 10, dstid: 1, media: 1, content: 'yo', createat: 5 });
    s = S.receiveMessage(s, { id: 41, userid: 9, cmd: 11, dstid: 8, media: 4, url: '/mnt/a.png', createat: 6 });
    assert.equal(s.conversations['u:9'].name, 'User 9');
    assert.equal(s.conversations['u:9'].placeholder, true);
    assert.equal(s.conversations['g:8'].name, 'Group 8');
    s = S.renameConversation(s, 'u:9', 'Zoe');
    assert.equal(s.conversations['u:9'].name, 'Zoe');
    assert.equal(s.conversations['u:9'].placeholder, false);
});

test('the same message id delivered twice is shown once', () => {
    const once = S.receiveMessage(base(), fromAlice(10));
    const twice = S.receiveMessage(once, fromAlice(10));
    assert.equal(twice, once);
});

test('frames that are not chat messages, or lack ids, change nothing', () => {
    const s = base();
    assert.equal(S.receiveMessage(s, { cmd: 1, id: 5, cid: 'x' }), s);
    assert.equal(S.receiveMessage(s, { cmd: 10, userid: 2, media: 1 }), s);
    assert.equal(S.receiveMessage(s, { cmd: 11, userid: 'abc', dstid: 7 }), s);
});

test('an outgoing message is pending until the ack with its client id marks it sent', () => {
    let s = S.addOutgoing(base(), 'u:2', { cid: 'c1', media: 1, content: 'hello', now: 100 });
    let m = s.conversations['u:2'].messages[0];
    assert.equal(m.status, 'pending');
    assert.equal(S.isPending(s, 'c1'), true);
    s = S.applyAck(s, { cmd: 1, id: 123456, cid: 'c1', createat: 200 });
    m = s.conversations['u:2'].messages[0];
    assert.equal(m.status, 'sent');
    assert.equal(m.id, 123456);
    assert.equal(m.createat, 200);
    assert.equal(S.isPending(s, 'c1'), false);
});

test('an ack for an unknown client id changes nothing', () => {
    const s = S.addOutgoing(base(), 'u:2', { cid: 'c1', media: 1, content: 'hello', now: 100 });
    assert.equal(S.applyAck(s, { cmd: 1, id: 5, cid: 'other' }), s);
    assert.equal(S.applyAck(s, { cmd: 1, id: 5 }), s);
});

test('acks match the right message among several pending ones', () => {
    let s = S.addOutgoing(base(), 'u:2', { cid: 'a', media: 1, content: '1', now: 1 });
    s = S.addOutgoing(s, 'g:7', { cid: 'b', media: 1, content: '2', now: 2 });
    s = S.applyAck(s, { cmd: 1, id: 99, cid: 'b', createat: 3 });
    assert.equal(s.conversations['u:2'].messages[0].status, 'pending');
    assert.equal(s.conversations['g:7'].messages[0].status, 'sent');
});

test('an error frame naming a pending message fails that message with the server text', () => {
    let s = S.addOutgoing(base(), 'g:7', { cid: 'c9', media: 1, content: 'x', now: 1 });
    s = S.applyError(s, { cmd: 99, code: 403, msg: 'not a member of this group', cid: 'c9' });
    const m = s.conversations['g:7'].messages[0];
    assert.equal(m.status, 'failed');
    assert.equal(m.error, 'not a member of this group');
    assert.equal(s.notice, null);
});

test('an error frame without a known client id becomes a notice', () => {
    const s = S.applyError(base(), { cmd: 99, code: 400, msg: 'malformed JSON' });
    assert.equal(s.notice.kind, 'error');
    assert.match(s.notice.text, /malformed JSON/);
});

test('messages lost with the connection are marked failed; acknowledged ones are untouched', () => {
    let s = S.addOutgoing(base(), 'u:2', { cid: 'a', media: 1, content: '1', now: 1 });
    s = S.addOutgoing(s, 'u:2', { cid: 'b', media: 1, content: '2', now: 2 });
    s = S.applyAck(s, { cmd: 1, id: 5, cid: 'a', createat: 3 });
    s = S.failMessages(s, ['a', 'b'], 'connection lost');
    assert.deepEqual(
        s.conversations['u:2'].messages.map((m) => m.status),
        ['sent', 'failed'],
    );
});

test('a conversation keeps at most MAX_MESSAGES_PER_CONVERSATION messages, newest last', () => {
    let s = base();
    for (let i = 1; i <= S.MAX_MESSAGES_PER_CONVERSATION + 5; i++) s = S.receiveMessage(s, fromAlice(i));
    const messages = s.conversations['u:2'].messages;
    assert.equal(messages.length, S.MAX_MESSAGES_PER_CONVERSATION);
    assert.equal(messages.at(-1).id, S.MAX_MESSAGES_PER_CONVERSATION + 5);
    assert.equal(messages[0].id, 6);
});

test('conversations with recent activity are listed first, with a one-line preview', () => {
    let s = S.receiveMessage(base(), { id: 50, userid: 3, cmd: 10, dstid: 1, media: 5, amount: 100, memo: 'gift', createat: 9 });
    const list = S.listConversations(s, 'user');
    assert.deepEqual(list.map((c) => c.name), ['Bob', 'Alice']);
    assert.equal(list[0].last, '[red packet ¥1.00: gift]');
});

test('a newer notice survives clearing of an older one', () => {
    let s = S.setNotice(base(), 'first');
    const firstSeq = s.notice.seq;
    s = S.setNotice(s, 'second');
    s = S.clearNotice(s, firstSeq);
    assert.equal(s.notice.text, 'second');
    s = S.clearNotice(s, s.notice.seq);
    assert.equal(s.notice, null);
});

test('authorName says "You" for me and the friend name for others', () => {
    const s = base();
    assert.equal(S.authorName(s, 1), 'You');
    assert.equal(S.authorName(s, 2), 'Alice');
    assert.equal(S.authorName(s, 55), 'User 55');
});
