// Specifications of web/session.js (what is kept in localStorage) and web/api.js (the fetch wrapper).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ApiError, createApi, post } from '../../web/api.js';
import { clearSession, loadSession, saveSession, sessionFromLogin } from '../../web/session.js';

class MemoryStorage {
    constructor() {
        this.items = new Map();
    }
    getItem(k) {
        return this.items.has(k) ? this.items.get(k) : null;
    }
    setItem(k, v) {
        this.items.set(k, String(v));
    }
    removeItem(k) {
        this.items.delete(k);
    }
}

const LOGIN = { id: 4, token: 'tok', mobile: '+123456', nickname: 'Ann', avatar: '', sex: 0, memo: '', createat: 1 };

test('a login answer is kept as id + token + profile (without the token) and survives a reload', () => {
    const storage = new MemoryStorage();
    saveSession(sessionFromLogin(LOGIN), storage);
    const s = loadSession(storage);
    assert.equal(s.id, 4);
    assert.equal(s.token, 'tok');
    assert.equal(s.profile.nickname, 'Ann');
    assert.equal('token' in s.profile, false);
    clearSession(storage);
    assert.equal(loadSession(storage), null);
});

test('a damaged or incomplete stored session counts as logged out', () => {
    const storage = new MemoryStorage();
    for (const raw of ['{', '"x"', '{"id":0,"token":"t","profile":{}}', '{"id":3,"token":"","profile":{}}', '{"id":3,"token":"t"}']) {
        storage.setItem('chat.session', raw);
        assert.equal(loadSession(storage), null, raw);
    }
    assert.throws(() => saveSession(sessionFromLogin({ id: 3 }), storage));
});

function fakeFetch(status, body, calls = []) {
    return async (path, init) => {
        calls.push({ path, init, body: JSON.parse(init.body) });
        return {
            ok: status >= 200 && status < 300,
            status,
            json: async () => {
                if (typeof body === 'string') throw new SyntaxError('not json');
                return body;
            },
        };
    };
}

test('post sends JSON with id and token and returns data', async () => {
    const calls = [];
    const data = await post('/contact/addfriend', { mobile: '555' }, { id: 4, token: 'tok' }, fakeFetch(200, { code: 0, msg: '', data: { id: 9 } }, calls));
    assert.deepEqual(data, { id: 9 });
    assert.equal(calls[0].init.method, 'POST');
    assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
    assert.deepEqual(calls[0].body, { mobile: '555', id: 4, token: 'tok' });
});

test('post throws the server message with the status', async () => {
    await assert.rejects(
        post('/user/login', { mobile: '1', passwd: 'x' }, null, fakeFetch(401, { code: -1, msg: 'wrong mobile or password' })),
        (err) => err instanceof ApiError && err.message === 'wrong mobile or password' && err.status === 401,
    );
});

test('post explains answers that are not JSON and unreachable servers', async () => {
    await assert.rejects(post('/x', {}, null, fakeFetch(502, '<html>')), { message: 'request failed (502)' });
    await assert.rejects(
        post('/x', {}, null, async () => {
            throw new TypeError('Failed to fetch');
        }),
        (err) => err instanceof ApiError && err.status === 0,
    );
});

test('createApi calls the documented endpoints with the documented fields', async () => {
    const calls = [];
    const api = createApi(fakeFetch(200, { code: 0, msg: '', data: null }, calls));
    const s = { id: 4, token: 'tok' };
    await api.login({ mobile: '555', passwd: 'secret' });
    await api.joinGroup(s, '12');
    await api.createGroup(s, 'Hikers');
    await api.logout(s);
    assert.deepEqual(
        calls.map((c) => [c.path, c.body]),
        [
            ['/user/login', { mobile: '555', passwd: 'secret' }],
            ['/contact/joincommunity', { dstid: '12', id: 4, token: 'tok' }],
            ['/contact/createcommunity', { name: 'Hikers', id: 4, token: 'tok' }],
            ['/user/logout', { id: 4, token: 'tok' }],
        ],
    );
});
