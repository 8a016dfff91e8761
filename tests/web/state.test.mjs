// Specifications of web/state.js: conversations, unread counts (snapshot, live, read marks),
// acks and errors, retries, history paging, positions and presence.
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

const fromAlice = (id, pos, content = 'hi') => ({ id, userid: 2, cmd: 10, dstid: 1, media: 1, content, createat: 1000 + id, ...(pos ? { pos } : {}) });
const inGroup = (id, userid, pos) => ({ id, userid, cmd: 11, dstid: 7, media: 1, content: 'g', createat: 2000 + id, ...(pos ? { pos } : {}) });
const unread = (s, key) => s.conversations[key].unread;

test('friends and groups become conversations named by nickname and group name', () => {
    const s = base();
    assert.equal(s.conversations['u:2'].name, 'Alice');
    assert.equal(s.conversations['g:7'].name, 'Hikers');
    assert.deepEqual(S.listConversations(s, 'user').map((c) => c.name), ['Alice', 'Bob']);
    assert.deepEqual(S.listConversations(s, 'group').map((c) => c.id), [7]);
    assert.deepEqual(S.friendIds(s), [2, 3]);
});

test('unsafe avatar urls are dropped, safe ones kept', () => {
    const s = base();
    assert.equal(s.conversations['u:3'].avatar, '');
    assert.equal(s.conversations['g:7'].avatar, '/asset/g.png');
});

test('reloading friends keeps their messages and unread counts', () => {
    let s = S.receiveMessage(base(), fromAlice(10, 5));
    s = S.upsertFriends(s, [{ ...ALICE, nickname: 'Alice B' }]);
    assert.equal(s.conversations['u:2'].name, 'Alice B');
    assert.equal(s.conversations['u:2'].messages.length, 1);
    assert.equal(unread(s, 'u:2'), 1);
});

test('a message for a conversation that is not open raises its unread count', () => {
    let s = S.setActive(base(), 'u:3');
    s = S.receiveMessage(s, fromAlice(10, 5));
    s = S.receiveMessage(s, fromAlice(11, 6));
    assert.equal(unread(s, 'u:2'), 2);
    assert.equal(unread(s, 'u:3'), 0);
    assert.equal(S.totalUnread(s), 2);
});

test('a message for the open conversation is read at once, and opening clears the count', () => {
    let s = S.receiveMessage(base(), fromAlice(10, 5));
    s = S.setActive(s, 'u:2');
    assert.equal(unread(s, 'u:2'), 0);
    s = S.receiveMessage(s, fromAlice(11, 6));
    assert.equal(unread(s, 'u:2'), 0);
    assert.equal(s.conversations['u:2'].readPos, 6);
    assert.equal(s.conversations['u:2'].messages.length, 2);
});

test('while the page is hidden the open conversation counts unread; showing it reads them', () => {
    let s = S.setVisible(S.setActive(base(), 'u:2'), false);
    s = S.receiveMessage(s, fromAlice(10, 5));
    assert.equal(unread(s, 'u:2'), 1);
    assert.equal(S.readMarkToSend(s, 'u:2'), null, 'nothing is marked read while hidden');
    s = S.setVisible(s, true);
    assert.equal(unread(s, 'u:2'), 0);
    assert.deepEqual(S.readMarkToSend(s, 'u:2'), { kind: 'user', id: 2, pos: 5 });
    assert.equal(S.readMarkToSend(s, 'u:2', 5), null, 'a mark already sent is not sent again');
});

test('group messages go to the group; my own (from another device) are not unread', () => {
    let s = S.receiveMessage(base(), inGroup(20, 2, 8));
    s = S.receiveMessage(s, inGroup(21, 1, 9));
    const g = s.conversations['g:7'];
    assert.equal(g.messages.length, 2);
    assert.equal(g.unread, 1);
    assert.equal(g.messages[1].mine, true);
});

test('my single message from another device is shown in the chat with its recipient', () => {
    const s = S.receiveMessage(base(), { id: 30, userid: 1, cmd: 10, dstid: 3, media: 1, content: 'sent elsewhere', pos: 4 });
    assert.equal(s.conversations['u:3'].messages[0].mine, true);
    assert.equal(s.conversations['u:3'].unread, 0);
});

test('a message from an unknown sender creates a placeholder conversation to be named', () => {
    let s = S.receiveMessage(base(), { id: 40, userid: 9, cmd: 10, dstid: 1, media: 1, content: 'hello', pos: 3 });
    assert.equal(s.conversations['u:9'].name, 'User 9');
    assert.equal(s.conversations['u:9'].placeholder, true);
    assert.deepEqual(S.unknownPeople(s, 'u:9'), [9]);
    s = S.rememberPeople(s, [{ id: 9, nickname: 'Nine' }]);
    assert.equal(s.conversations['u:9'].name, 'Nine');
    assert.equal(s.conversations['u:9'].placeholder, false);
    assert.equal(S.personName(s, 9), 'Nine');
    assert.deepEqual(S.unknownPeople(s, 'u:9'), []);
});

test('the same message id delivered twice (live and by sync) is shown once', () => {
    let s = S.receiveMessage(base(), fromAlice(10, 5));
    s = S.receiveMessage(s, fromAlice(10, 5));
    assert.equal(s.conversations['u:2'].messages.length, 1);
    assert.equal(unread(s, 'u:2'), 1);
});

test('messages are kept in position order, whatever order they arrive in', () => {
    let s = S.receiveMessage(base(), fromAlice(12, 30, 'third'));
    s = S.receiveMessage(s, fromAlice(10, 10, 'first'));
    s = S.receiveMessage(s, fromAlice(11, 20, 'second'));
    assert.deepEqual(s.conversations['u:2'].messages.map((m) => m.content), ['first', 'second', 'third']);
    assert.equal(s.conversations['u:2'].last, 'third');
});

test('the highest pos held (from messages, acks and cmd 13) is the resume point', () => {
    let s = S.receiveMessage(base(), fromAlice(10, 5));
    assert.equal(s.pos, 5);
    s = S.addOutgoing(s, 'u:2', { cid: 'c1', fields: { media: 1, content: 'x' }, now: 1 });
    s = S.applyAck(s, { cmd: 1, id: 99, cid: 'c1', createat: 5000, pos: 9 });
    assert.equal(s.pos, 9);
    s = S.applySynced(s, { cmd: 13, pos: 12 });
    assert.equal(s.pos, 12);
    s = S.applySynced(s, { cmd: 13, pos: 3 });
    assert.equal(s.pos, 12, 'never moves back');
});

test('an outgoing message is pending until the ack with its client id marks it sent', () => {
    let s = S.addOutgoing(base(), 'u:2', { cid: 'c1', fields: { media: 1, content: 'yo' }, now: 500 });
    let m = s.conversations['u:2'].messages[0];
    assert.equal(m.status, 'pending');
    assert.equal(m.mine, true);
    assert.equal(S.isPending(s, 'c1'), true);
    s = S.applyAck(s, { cmd: 1, id: 77, cid: 'c1', createat: 900, pos: 4 });
    m = s.conversations['u:2'].messages[0];
    assert.equal(m.status, 'sent');
    assert.equal(m.id, 77);
    assert.equal(m.createat, 900);
    assert.equal(m.pos, 4);
    assert.equal(S.isPending(s, 'c1'), false);
    // The same message delivered again by a later sync is not shown twice.
    s = S.receiveMessage(s, { id: 77, userid: 1, cmd: 10, dstid: 2, media: 1, content: 'yo', pos: 4 });
    assert.equal(s.conversations['u:2'].messages.length, 1);
});

test('an ack for an unknown client id changes nothing but the position', () => {
    const s = base();
    assert.equal(S.applyAck(s, { cmd: 1, id: 1, cid: 'nope' }), s);
});

test('an error frame naming a pending message fails it with the server text; others are not state', () => {
    let s = S.addOutgoing(base(), 'g:7', { cid: 'c2', fields: { media: 1, content: 'x' }, now: 1 });
    s = S.applyError(s, { cmd: 99, code: 403, msg: 'not a member', cid: 'c2' });
    const m = s.conversations['g:7'].messages[0];
    assert.equal(m.status, 'failed');
    assert.equal(m.error, 'not a member');
    assert.equal(S.applyError(s, { cmd: 99, code: 400, msg: 'bad' }), null);
});

test('messages lost with the connection fail; retry sends them again under a new client id', () => {
    let s = S.addOutgoing(base(), 'u:2', { cid: 'a', fields: { media: 1, content: 'one' }, now: 1 });
    s = S.addOutgoing(s, 'u:2', { cid: 'b', fields: { media: 1, content: 'two' }, now: 2 });
    s = S.applyAck(s, { cmd: 1, id: 5, cid: 'a', pos: 3 });
    s = S.failMessages(s, ['a', 'b'], 'connection lost');
    assert.deepEqual(s.conversations['u:2'].messages.map((m) => m.status), ['sent', 'failed']);
    s = S.retryMessage(s, 'b', 'b2', 10);
    const again = s.conversations['u:2'].messages.at(-1);
    assert.equal(again.cid, 'b2');
    assert.equal(again.status, 'pending');
    assert.equal(again.content, 'two');
    assert.equal(S.isPending(s, 'b'), false);
    s = S.applyAck(s, { cmd: 1, id: 6, cid: 'b2', pos: 4 });
    assert.equal(s.conversations['u:2'].messages.at(-1).status, 'sent');
});

test('a failed message that did arrive comes back by sync and replaces the failed copy', () => {
    let s = S.addOutgoing(base(), 'u:2', { cid: 'c', fields: { media: 1, content: 'maybe' }, now: 1 });
    s = S.failMessages(s, ['c'], 'connection lost');
    s = S.receiveMessage(s, { id: 50, userid: 1, cmd: 10, dstid: 2, media: 1, content: 'maybe', pos: 8 });
    const msgs = s.conversations['u:2'].messages;
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].status, 'sent');
    assert.equal(S.isPending(s, 'c'), false);
});

test('a failed message can be deleted', () => {
    let s = S.addOutgoing(base(), 'u:2', { cid: 'c', fields: { media: 1, content: 'x' }, now: 1 });
    s = S.failMessages(s, ['c'], 'offline');
    s = S.discardMessage(s, 'c');
    assert.equal(s.conversations['u:2'].messages.length, 0);
});

test('an upload shows progress, then waits for its ack with the stored url', () => {
    let s = S.addOutgoing(base(), 'u:2', { cid: 'u1', fields: { media: 4 }, now: 1, upload: { progress: 0, localUrl: 'blob:x' } });
    assert.equal(s.conversations['u:2'].messages[0].status, 'uploading');
    s = S.setUploadProgress(s, 'u1', 0.5);
    assert.equal(S.findOutgoing(s, 'u1').upload.progress, 0.5);
    s = S.uploadDone(s, 'u1', { media: 4, url: '/mnt/a.png' });
    assert.equal(S.findOutgoing(s, 'u1').status, 'pending');
    assert.equal(S.findOutgoing(s, 'u1').url, '/mnt/a.png');
    s = S.applyAck(s, { cmd: 1, id: 3, cid: 'u1', pos: 2 });
    assert.equal(s.conversations['u:2'].messages[0].status, 'sent');
});

test('the snapshot sets unread counts; messages it already counted are not counted again', () => {
    let s = S.applySnapshot(base(), [
        { peer: 2, last: fromAlice(10, 40), unread: 3 },
        { group: 7, last: inGroup(20, 3, 50), unread: 1 },
        { peer: 9, last: { id: 60, userid: 9, cmd: 10, dstid: 1, media: 4, url: '/mnt/x.png', pos: 30 }, unread: 2 },
    ]);
    assert.equal(unread(s, 'u:2'), 3);
    assert.equal(unread(s, 'g:7'), 1);
    assert.equal(unread(s, 'u:9'), 2);
    assert.equal(s.conversations['u:9'].last, '[Photo]');
    assert.equal(s.floor, 50);
    // The first sync re-sends recent messages the snapshot already counted...
    s = S.receiveMessage(s, fromAlice(10, 40));
    s = S.receiveMessage(s, fromAlice(9, 35));
    assert.equal(unread(s, 'u:2'), 3);
    // ...while a newer one adds to the count.
    s = S.receiveMessage(s, fromAlice(11, 55));
    assert.equal(unread(s, 'u:2'), 4);
    // Opening reads everything.
    s = S.setActive(s, 'u:2');
    assert.equal(unread(s, 'u:2'), 0);
    assert.equal(S.totalUnread(s), 3);
});

test('a snapshot that arrives after live messages keeps the newer ones counted', () => {
    let s = S.receiveMessage(base(), fromAlice(10, 40)); // counted by the snapshot below
    s = S.receiveMessage(s, fromAlice(11, 60)); // newer than the snapshot
    s = S.applySnapshot(s, [{ peer: 2, last: fromAlice(10, 40), unread: 1 }]);
    assert.equal(unread(s, 'u:2'), 2);
});

test('without a snapshot the first sync is taken as seen; later messages count', () => {
    let s = S.receiveMessage(base(), fromAlice(10, 40));
    s = S.applySynced(s, { cmd: 13, pos: 40 });
    assert.equal(unread(s, 'u:2'), 0);
    s = S.receiveMessage(s, fromAlice(11, 41));
    assert.equal(unread(s, 'u:2'), 1);
    // A reconnect's sync (after the first) brings what was missed: it counts.
    s = S.receiveMessage(s, fromAlice(12, 42));
    s = S.applySynced(s, { cmd: 13, pos: 42 });
    assert.equal(unread(s, 'u:2'), 2);
});

test('a read mark from another device clears what it covers', () => {
    let s = S.applySnapshot(base(), [{ peer: 2, last: fromAlice(10, 40), unread: 2 }]);
    s = S.receiveMessage(s, fromAlice(11, 45));
    s = S.receiveMessage(s, fromAlice(12, 50));
    assert.equal(unread(s, 'u:2'), 4);
    s = S.applyReadMark(s, { cmd: 15, peer: 2, pos: 45 });
    assert.equal(unread(s, 'u:2'), 1);
    s = S.applyReadMark(s, { cmd: 15, peer: 2, pos: 44 });
    assert.equal(unread(s, 'u:2'), 1, 'a mark never moves back');
    s = S.applyReadMark(s, { cmd: 15, group: 7, pos: 99 });
    assert.equal(unread(s, 'g:7'), 0);
    s = S.applyReadMark(s, { cmd: 15, peer: 2, pos: 50 });
    assert.equal(unread(s, 'u:2'), 0);
});

test('history pages join older messages in order, without duplicates, never unread', () => {
    let s = S.receiveMessage(base(), fromAlice(20, 200, 'newest'));
    s = S.setHistoryLoading(s, 'u:2');
    assert.equal(s.conversations['u:2'].history.loading, true);
    s = S.mergeHistory(s, 'u:2', { messages: [fromAlice(18, 180, 'old'), fromAlice(19, 190, 'older'), fromAlice(20, 200, 'newest')], more: true });
    const c = s.conversations['u:2'];
    assert.deepEqual(c.messages.map((m) => m.pos), [180, 190, 200]);
    assert.equal(c.history.loading, false);
    assert.equal(c.history.more, true);
    assert.equal(c.unread, 1, 'only the live one');
    s = S.mergeHistory(s, 'u:2', { messages: [], more: false });
    assert.equal(s.conversations['u:2'].history.more, false);
});

test('history from another conversation is ignored', () => {
    const s = S.mergeHistory(base(), 'u:2', { messages: [inGroup(1, 2, 5)], more: false });
    assert.equal(s.conversations['u:2'].messages.length, 0);
});

test('a node without history says so once; a failed page can be asked again', () => {
    let s = S.historyFailed(base(), 'u:2', { unavailable: true });
    assert.deepEqual(s.conversations['u:2'].history, { loaded: true, loading: false, more: false, failed: false, unavailable: true });
    s = S.historyFailed(base(), 'u:2');
    assert.equal(s.conversations['u:2'].history.failed, true);
});

test('presence frames mark watched users online and offline', () => {
    let s = S.applyPresence(base(), { cmd: 17, online: [2, 3], offline: [] });
    assert.equal(S.isOnline(s, 2), true);
    assert.equal(s.presence, true);
    s = S.applyPresence(s, { cmd: 17, online: [], offline: [2] });
    assert.equal(S.isOnline(s, 2), false);
    assert.equal(S.isOnline(s, 3), true);
});

test('conversations with recent activity are listed first, with a one-line preview', () => {
    let s = S.receiveMessage(base(), { ...fromAlice(10, 5), createat: 5000, content: 'line one\nline two' });
    s = S.receiveMessage(s, { id: 11, userid: 3, cmd: 10, dstid: 1, media: 4, url: '/mnt/a.png', createat: 6000, pos: 6 });
    const list = S.listConversations(s, 'user');
    assert.deepEqual(list.map((c) => c.name), ['Bob', 'Alice']);
    assert.equal(list[1].last, 'line one line two');
    assert.equal(list[0].last, '[Photo]');
});

test('personName says "You" for me, the nickname for others, a placeholder otherwise', () => {
    const s = base();
    assert.equal(S.personName(s, 1), 'You');
    assert.equal(S.personName(s, 2), 'Alice');
    assert.equal(S.personName(s, 42), 'User 42');
});

test('a long-open conversation keeps at most MAX_MESSAGES_PER_CONVERSATION live messages', () => {
    let s = base();
    for (let i = 1; i <= S.MAX_MESSAGES_PER_CONVERSATION + 5; i++) s = S.receiveMessage(s, fromAlice(i, i));
    const msgs = s.conversations['u:2'].messages;
    assert.equal(msgs.length, S.MAX_MESSAGES_PER_CONVERSATION);
    assert.equal(msgs[0].id, 6);
});

test('frames that are not chat messages are ignored', () => {
    const s = base();
    assert.equal(S.receiveMessage(s, { cmd: 1, id: 3 }), s);
    assert.equal(S.receiveMessage(s, { cmd: 10, userid: 'x', dstid: 1 }), s);
});
