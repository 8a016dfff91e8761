// The public HTTP API of protocol.md, every endpoint and every error case, against real chat
// nodes (a 2-node cluster sharing an upload dir, plus one node with a small --max-upload).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';

import * as harness from './lib/cluster.mjs';
import { registerUser, request, runChat, startCluster, startNode, tempDir, uniqueMobile } from './lib/cluster.mjs';

const ERROR_BODY_FORBIDDEN = /mysql|sql|exception|std::|what\(\)|errno|stack|\.cpp/i;
const seenErrors = []; // every non-200 API answer, checked for internals at the end

// api() that also checks every error answer has the protocol's shape.
async function api(node, urlPath, params, opts) {
    const res = await harness.api(node, urlPath, params, opts);
    if (res.status !== 200) {
        seenErrors.push({ path: urlPath, status: res.status, text: res.text });
        assert.equal(typeof res.body, 'object', `${urlPath} ${res.status}: error body must be JSON, got ${res.text}`);
        assert.equal(res.body.code, -1, `${urlPath}: error code must be -1: ${res.text}`);
        assert.equal(typeof res.body.msg, 'string', `${urlPath}: error msg must be a string: ${res.text}`);
        assert.equal('data' in res.body, false, `${urlPath}: error must carry no data: ${res.text}`);
    } else if (typeof res.body === 'object') {
        assert.equal(res.body.code, 0, `${urlPath} 200 must have code 0: ${res.text}`);
    }
    return res;
}

function expectError(res, status, msg) {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
    if (msg instanceof RegExp) assert.match(res.body.msg, msg);
    else if (msg !== undefined) assert.equal(res.body.msg, msg);
}

function expectOk(res) {
    assert.equal(res.status, 200, `expected 200, got ${res.status}: ${res.text}`);
    assert.equal(res.body.code, 0, res.text);
    return res.body.data;
}

const PUBLIC_PROFILE_KEYS = ['avatar', 'createat', 'id', 'memo', 'nickname', 'sex'];
const COMMUNITY_KEYS = ['category', 'createat', 'icon', 'id', 'memo', 'name', 'owner'];
const BAD_CREDENTIALS = 'invalid or missing credentials';
const WRONG_LOGIN = 'wrong mobile or password';
const TOO_MANY = 'too many failed logins, try again later';

function assertPublicProfile(profile, user) {
    assert.deepEqual(Object.keys(profile).sort(), PUBLIC_PROFILE_KEYS, JSON.stringify(profile));
    if (user) {
        assert.equal(profile.id, user.id);
        assert.equal(profile.nickname, user.nickname);
    }
}

// --- A minimal valid PNG (1x1 RGB), built by hand so the test depends on no file. ---
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});
function crc32(buf) {
    let c = 0xffffffff;
    for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type, data) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
}
function tinyPng() {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(1, 0); // width
    ihdr.writeUInt32BE(1, 4); // height
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // colour type: RGB
    return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        pngChunk('IHDR', ihdr),
        pngChunk('IDAT', deflateSync(Buffer.from([0, 0xff, 0x80, 0x00]))),
        pngChunk('IEND', Buffer.alloc(0)),
    ]);
}

// multipart/form-data by hand: full control over names, types and content.
function multipart(parts) {
    const boundary = '----chattest' + Math.random().toString(16).slice(2);
    const chunks = [];
    for (const p of parts) {
        let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
        if (p.filename !== undefined) head += `; filename="${p.filename}"`;
        head += '\r\n';
        if (p.type) head += `Content-Type: ${p.type}\r\n`;
        chunks.push(Buffer.from(head + '\r\n'), Buffer.from(p.data), Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

function upload(node, user, parts, extra = {}) {
    const { body, contentType } = multipart(parts);
    return api(node, '/attach/upload', {}, {
        raw: body,
        token: user.token,
        bearer: true,
        ...extra,
        headers: { 'content-type': contentType, ...(extra.headers ?? {}) },
    });
}

let cluster;
let a; // node 1
let b; // node 2
let assetDir;

before(async () => {
    assetDir = tempDir('chat-asset-');
    writeFileSync(path.join(assetDir, 'hello.txt'), 'hello from the asset fixture\n');
    writeFileSync(path.join(assetDir, 'style.css'), 'body { color: red; }\n');
    mkdirSync(path.join(assetDir, 'sub'));
    writeFileSync(path.join(assetDir, 'sub', 'app.js'), 'export const x = 1;\n');
    cluster = await startCluster(2, { assetDir });
    [a, b] = cluster.nodes;
});

after(async () => {
    if (cluster) await cluster.stop();
});

describe('register', () => {
    test('creates an account and answers its own profile with a token', async () => {
        const mobile = uniqueMobile();
        const data = expectOk(await api(a, '/user/register', { mobile, passwd: 'secret1' }));
        assert.deepEqual(Object.keys(data).sort(), [...PUBLIC_PROFILE_KEYS, 'mobile', 'token'].sort());
        assert.ok(Number.isInteger(data.id) && data.id > 0);
        assert.equal(data.mobile, mobile);
        assert.equal(data.nickname, 'User ' + mobile.slice(-4));
        assert.equal(data.avatar, '');
        assert.equal(typeof data.token, 'string');
        assert.ok(data.token.length >= 20, 'token looks too short to be random');
    });

    test('keeps a given nickname and avatar', async () => {
        const data = expectOk(
            await api(a, '/user/register', { mobile: uniqueMobile(), passwd: 'secret1', nickname: 'Alice', avatar: '/asset/a.png' }),
        );
        assert.equal(data.nickname, 'Alice');
        assert.equal(data.avatar, '/asset/a.png');
    });

    test('accepts a mobile with a leading + and 32-character nicknames counted in characters', async () => {
        const nickname = 'é'.repeat(32);
        const mobile = '+' + uniqueMobile();
        const data = expectOk(await api(a, '/user/register', { mobile, passwd: 'secret1', nickname }));
        assert.equal(data.mobile, mobile);
        assert.equal(data.nickname, nickname);
    });

    test('refuses a mobile that is already registered with 409', async () => {
        const mobile = uniqueMobile();
        expectOk(await api(a, '/user/register', { mobile, passwd: 'secret1' }));
        expectError(await api(b, '/user/register', { mobile, passwd: 'other-secret' }), 409, 'mobile already registered');
    });

    for (const mobile of ['1234', '123456789012345678901', '12a456', '+', '', '12 3456', '++123456', '-123456']) {
        test(`refuses the mobile ${JSON.stringify(mobile)} with 400`, async () => {
            expectError(await api(a, '/user/register', { mobile, passwd: 'secret1' }), 400);
        });
    }

    test('refuses passwords shorter than 6 or longer than 128 characters with 400', async () => {
        expectError(await api(a, '/user/register', { mobile: uniqueMobile(), passwd: '12345' }), 400);
        expectError(await api(a, '/user/register', { mobile: uniqueMobile(), passwd: 'x'.repeat(129) }), 400);
        expectOk(await api(a, '/user/register', { mobile: uniqueMobile(), passwd: 'x'.repeat(128) }));
    });

    test('refuses a missing mobile or password with 400', async () => {
        expectError(await api(a, '/user/register', { passwd: 'secret1' }), 400);
        expectError(await api(a, '/user/register', { mobile: uniqueMobile() }), 400);
    });

    test('refuses a nickname longer than 32 characters with 400', async () => {
        expectError(await api(a, '/user/register', { mobile: uniqueMobile(), passwd: 'secret1', nickname: 'n'.repeat(33) }), 400);
    });

    for (const avatar of ['javascript:alert(1)', 'data:image/png;base64,AAAA', '//evil.example/x.png', 'ftp://x/y.png']) {
        test(`refuses the avatar ${avatar} with 400`, async () => {
            expectError(await api(a, '/user/register', { mobile: uniqueMobile(), passwd: 'secret1', avatar }), 400);
        });
    }

    test('accepts a JSON body, also with a charset', async () => {
        const mobile = uniqueMobile();
        const data = expectOk(
            await api(a, '/user/register', { mobile, passwd: 'secret1', nickname: 'Json' }, {
                json: true,
                headers: { 'content-type': 'application/json; charset=utf-8' },
            }),
        );
        assert.equal(data.mobile, mobile);
        assert.equal(data.nickname, 'Json');
    });

    test('takes parameters from the query string too', async () => {
        const mobile = uniqueMobile();
        const data = expectOk(await api(a, `/user/register?mobile=${mobile}&passwd=secret1`, {}));
        assert.equal(data.mobile, mobile);
    });

    test('refuses malformed JSON with 400 "malformed JSON body"', async () => {
        for (const raw of ['{"mobile": "1234567", "passwd": ', '{mobile: 1}', '[1,2]', '"text"', 'null']) {
            const res = await api(a, '/user/register', {}, { raw, headers: { 'content-type': 'application/json' } });
            expectError(res, 400, 'malformed JSON body');
        }
    });

    test('refuses fields of the wrong JSON type with 400', async () => {
        const cases = [
            { mobile: { a: 1 }, passwd: 'secret1' },
            { mobile: uniqueMobile(), passwd: ['secret1'] },
            { mobile: uniqueMobile(), passwd: 'secret1', nickname: true },
            { mobile: uniqueMobile(), passwd: 'secret1', nickname: { x: 'y' } },
        ];
        for (const body of cases) {
            const res = await api(a, '/user/register', {}, { raw: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
            expectError(res, 400);
        }
    });

    test('refuses a body larger than --max-body with 413', async () => {
        const res = await api(a, '/user/register', { mobile: uniqueMobile(), passwd: 'secret1', memo: 'm'.repeat(100 << 10) });
        expectError(res, 413);
    });
});

describe('login', () => {
    test('answers the profile and a new token; JSON and form both work', async () => {
        const user = await registerUser(a, { nickname: 'Login' });
        const form = expectOk(await api(b, '/user/login', { mobile: user.mobile, passwd: user.passwd }));
        assert.deepEqual(Object.keys(form).sort(), [...PUBLIC_PROFILE_KEYS, 'mobile', 'token'].sort());
        assert.equal(form.id, user.id);
        assert.equal(form.mobile, user.mobile);
        assert.equal(form.nickname, 'Login');
        assert.notEqual(form.token, user.token);
        const json = expectOk(await api(a, '/user/login', { mobile: user.mobile, passwd: user.passwd }, { json: true }));
        assert.equal(json.id, user.id);
        assert.notEqual(json.token, form.token);
    });

    test('answers a wrong password and an unknown mobile identically with 401', async () => {
        const user = await registerUser(a);
        const wrong = await api(a, '/user/login', { mobile: user.mobile, passwd: 'not-the-password' });
        const unknown = await api(a, '/user/login', { mobile: uniqueMobile(), passwd: 'not-the-password' });
        expectError(wrong, 401, WRONG_LOGIN);
        expectError(unknown, 401, WRONG_LOGIN);
        assert.equal(wrong.text, unknown.text);
        assert.equal(wrong.headers['content-type'], unknown.headers['content-type']);
    });

    test('refuses a missing password with 400', async () => {
        expectError(await api(a, '/user/login', { mobile: uniqueMobile() }), 400);
    });

    test('locks a mobile after 10 failures even with the right password, from any address', async () => {
        const user = await registerUser(a);
        const localAddress = '127.0.3.1';
        for (let i = 0; i < 10; i++) {
            const res = await api(a, '/user/login', { mobile: user.mobile, passwd: `wrong-${i}` }, { localAddress });
            expectError(res, 401, WRONG_LOGIN);
        }
        const locked = await api(a, '/user/login', { mobile: user.mobile, passwd: user.passwd }, { localAddress });
        expectError(locked, 429, TOO_MANY);
        const retryAfter = Number(locked.headers['retry-after']);
        assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 300, `Retry-After: ${locked.headers['retry-after']}`);
        // The limit is on the mobile: another address is refused too...
        expectError(await api(a, '/user/login', { mobile: user.mobile, passwd: user.passwd }, { localAddress: '127.0.3.3' }), 429);
        // ...while another mobile from the same address still logs in.
        const other = await registerUser(a);
        expectOk(await api(a, '/user/login', { mobile: other.mobile, passwd: other.passwd }, { localAddress }));
        // The existing token of the locked user keeps working.
        expectOk(await api(a, '/contact/loadfriend', {}, { id: user.id, token: user.token }));
    });

    test('locks an address after 30 failures across different mobiles', async () => {
        const user = await registerUser(a);
        const localAddress = '127.0.3.2';
        for (let i = 0; i < 30; i++) {
            const res = await api(a, '/user/login', { mobile: uniqueMobile(), passwd: 'wrong-password' }, { localAddress });
            expectError(res, 401, WRONG_LOGIN);
        }
        const locked = await api(a, '/user/login', { mobile: user.mobile, passwd: user.passwd }, { localAddress });
        expectError(locked, 429, TOO_MANY);
        assert.ok(Number(locked.headers['retry-after']) > 0, `Retry-After: ${locked.headers['retry-after']}`);
        // Other addresses are not affected.
        expectOk(await api(a, '/user/login', { mobile: user.mobile, passwd: user.passwd }, { localAddress: '127.0.3.4' }));
    });

    test('a second login keeps the first token valid', async () => {
        const user = await registerUser(a);
        const first = expectOk(await api(a, '/user/login', { mobile: user.mobile, passwd: user.passwd }));
        const second = expectOk(await api(b, '/user/login', { mobile: user.mobile, passwd: user.passwd }));
        for (const token of [user.token, first.token, second.token]) {
            for (const node of [a, b]) expectOk(await api(node, '/contact/loadfriend', {}, { id: user.id, token }));
        }
    });
});

describe('credentials', () => {
    let alice;
    let bob;
    before(async () => {
        alice = await registerUser(a, { nickname: 'Alice' });
        bob = await registerUser(a, { nickname: 'Bob' });
    });

    test('logout revokes only the token it was called with, on every node', async () => {
        const device2 = expectOk(await api(a, '/user/login', { mobile: alice.mobile, passwd: alice.passwd }));
        const device3 = expectOk(await api(a, '/user/login', { mobile: alice.mobile, passwd: alice.passwd }));
        // Warm node b's token cache so the test sees revocation, not a cache miss.
        expectOk(await api(b, '/contact/loadfriend', {}, { id: alice.id, token: device2.token }));
        expectOk(await api(a, '/user/logout', {}, { id: alice.id, token: device2.token }));
        // Node b learns of the revocation over the bus: allow it a moment.
        await harness.waitFor(async () => (await api(b, '/contact/loadfriend', {}, { id: alice.id, token: device2.token })).status === 401,
            { timeoutMs: 2000, what: 'node b to refuse the revoked token' });
        for (const node of [a, b]) {
            expectError(await api(node, '/contact/loadfriend', {}, { id: alice.id, token: device2.token }), 401, BAD_CREDENTIALS);
            expectOk(await api(node, '/contact/loadfriend', {}, { id: alice.id, token: device3.token }));
            expectOk(await api(node, '/contact/loadfriend', {}, { id: alice.id, token: alice.token }));
        }
        expectError(await api(a, '/user/logout', {}, { id: alice.id, token: device2.token }), 401, BAD_CREDENTIALS);
    });

    test('a Bearer token alone is enough', async () => {
        expectOk(await api(a, '/contact/loadfriend', {}, { token: alice.token, bearer: true }));
        expectOk(await api(a, '/contact/loadfriend', {}, { token: alice.token, bearer: true, id: alice.id }));
        const found = expectOk(await api(b, '/user/find', { userid: bob.id }, { token: alice.token, bearer: true }));
        assert.equal(found.id, bob.id);
    });

    test('credentials in the query string work', async () => {
        expectOk(await api(a, `/contact/loadfriend?id=${alice.id}&token=${alice.token}`, {}));
    });

    test('credentials in a JSON body work', async () => {
        expectOk(await api(a, '/contact/loadfriend', {}, { id: alice.id, token: alice.token, json: true }));
    });

    test('an id that is not the token owner is refused with 401', async () => {
        expectError(await api(a, '/contact/loadfriend', {}, { id: bob.id, token: alice.token }), 401, BAD_CREDENTIALS);
        expectError(await api(a, '/contact/loadfriend', {}, { id: bob.id, token: alice.token, bearer: true }), 401, BAD_CREDENTIALS);
        expectError(await api(a, '/contact/loadfriend', {}, { id: 'abc', token: alice.token }), 401, BAD_CREDENTIALS);
    });

    test('missing or bad credentials are refused with 401 on every authenticated endpoint', async () => {
        const endpoints = ['/user/logout', '/user/find', '/contact/addfriend', '/contact/loadfriend', '/contact/createcommunity',
            '/contact/joincommunity', '/contact/loadcommunity', '/attach/upload'];
        for (const endpoint of endpoints) {
            expectError(await api(a, endpoint, {}), 401, BAD_CREDENTIALS);
            expectError(await api(a, endpoint, {}, { id: alice.id }), 401, BAD_CREDENTIALS);
            expectError(await api(a, endpoint, {}, { id: alice.id, token: 'f'.repeat(64) }), 401, BAD_CREDENTIALS);
            expectError(await api(a, endpoint, {}, { token: 'not-a-token', bearer: true }), 401, BAD_CREDENTIALS);
            expectError(await api(a, endpoint, {}, { headers: { authorization: 'Basic Zm9vOmJhcg==' } }), 401, BAD_CREDENTIALS);
        }
    });
});

describe('find', () => {
    let alice;
    let bob;
    before(async () => {
        alice = await registerUser(a, { nickname: 'Alice' });
        bob = await registerUser(b, { nickname: 'Bob' });
    });

    test('answers only the public profile, never mobile, password, salt or token', async () => {
        const res = await api(a, '/user/find', { userid: bob.id }, { id: alice.id, token: alice.token });
        const data = expectOk(res);
        assertPublicProfile(data, bob);
        for (const secret of [bob.mobile, bob.passwd, bob.token, alice.token]) assert.ok(!res.text.includes(secret), res.text);
        assert.doesNotMatch(res.text, /passwd|salt|mobile|token/);
    });

    test('answers 404 for an unknown user and 400 for a missing or malformed userid', async () => {
        expectError(await api(a, '/user/find', { userid: 999_999_999_999 }, { id: alice.id, token: alice.token }), 404);
        expectError(await api(a, '/user/find', {}, { id: alice.id, token: alice.token }), 400);
        expectError(await api(a, '/user/find', { userid: 'abc' }, { id: alice.id, token: alice.token }), 400);
        expectError(await api(a, '/user/find', { userid: -3 }, { id: alice.id, token: alice.token }), 400);
    });
});

describe('friends', () => {
    let alice;
    let bob;
    let carol;
    before(async () => {
        alice = await registerUser(a, { nickname: 'Alice' });
        bob = await registerUser(a, { nickname: 'Bob' });
        carol = await registerUser(b, { nickname: 'Carol' });
    });

    test('adding yourself is refused with 400', async () => {
        expectError(await api(a, '/contact/addfriend', { dstid: alice.id }, { id: alice.id, token: alice.token }), 400, 'cannot add yourself');
        expectError(await api(a, '/contact/addfriend', { mobile: alice.mobile }, { id: alice.id, token: alice.token }), 400, 'cannot add yourself');
    });

    test('adding an unknown user is refused with 404', async () => {
        const creds = { id: alice.id, token: alice.token };
        expectError(await api(a, '/contact/addfriend', { dstid: 999_999_999_999 }, creds), 404, 'no such user');
        expectError(await api(a, '/contact/addfriend', { mobile: uniqueMobile() }, creds), 404, 'no such user');
    });

    test('a missing or malformed target is refused with 400', async () => {
        const creds = { id: alice.id, token: alice.token };
        expectError(await api(a, '/contact/addfriend', {}, creds), 400);
        expectError(await api(a, '/contact/addfriend', { dstid: 'x1' }, creds), 400);
    });

    test('adds a friend by id in both directions; twice is 409', async () => {
        const data = expectOk(await api(a, '/contact/addfriend', { dstid: bob.id }, { id: alice.id, token: alice.token }));
        assertPublicProfile(data, bob);
        expectError(await api(a, '/contact/addfriend', { dstid: bob.id }, { id: alice.id, token: alice.token }), 409, 'already friends');
        expectError(await api(b, '/contact/addfriend', { dstid: alice.id }, { id: bob.id, token: bob.token }), 409, 'already friends');
    });

    test('adds a friend by mobile (JSON, numeric id)', async () => {
        const data = expectOk(
            await api(b, '/contact/addfriend', { mobile: carol.mobile }, { id: alice.id, token: alice.token, json: true }),
        );
        assertPublicProfile(data, carol);
        assert.ok(!JSON.stringify(data).includes(carol.mobile));
    });

    test('loadfriend lists friends on both sides with public profiles only', async () => {
        const mine = expectOk(await api(a, '/contact/loadfriend', {}, { id: alice.id, token: alice.token }));
        assert.deepEqual(mine.map((f) => f.id).sort((x, y) => x - y), [bob.id, carol.id].sort((x, y) => x - y));
        for (const f of mine) assertPublicProfile(f);
        const bobs = expectOk(await api(b, '/contact/loadfriend', {}, { id: bob.id, token: bob.token }));
        assert.deepEqual(bobs.map((f) => f.id), [alice.id]);
        assertPublicProfile(bobs[0], alice);
        const carols = expectOk(await api(a, '/contact/loadfriend', {}, { id: carol.id, token: carol.token }));
        assert.deepEqual(carols.map((f) => f.id), [alice.id]);
        const lonely = await registerUser(a);
        assert.deepEqual(expectOk(await api(a, '/contact/loadfriend', {}, { id: lonely.id, token: lonely.token })), []);
    });
});

describe('communities', () => {
    let owner;
    let member;
    let group;
    before(async () => {
        owner = await registerUser(a, { nickname: 'Owner' });
        member = await registerUser(b, { nickname: 'Member' });
    });

    test('createcommunity answers the group with its owner as a member', async () => {
        group = expectOk(
            await api(a, '/contact/createcommunity', { name: 'Hikers', icon: '/asset/h.png', memo: 'Weekend walks' },
                { id: owner.id, token: owner.token }),
        );
        assert.deepEqual(Object.keys(group).sort(), COMMUNITY_KEYS);
        assert.ok(Number.isInteger(group.id) && group.id > 0);
        assert.equal(group.name, 'Hikers');
        assert.equal(group.owner, owner.id);
        assert.equal(group.icon, '/asset/h.png');
        assert.equal(group.memo, 'Weekend walks');
        const mine = expectOk(await api(b, '/contact/loadcommunity', {}, { id: owner.id, token: owner.token }));
        assert.deepEqual(mine.map((g) => g.id), [group.id]);
        assert.deepEqual(mine[0], group);
    });

    test('createcommunity refuses an empty or 65-character name and a bad icon with 400', async () => {
        const creds = { id: owner.id, token: owner.token };
        expectError(await api(a, '/contact/createcommunity', { name: '' }, creds), 400);
        expectError(await api(a, '/contact/createcommunity', {}, creds), 400);
        expectError(await api(a, '/contact/createcommunity', { name: 'g'.repeat(65) }, creds), 400);
        expectError(await api(a, '/contact/createcommunity', { name: 'ok', icon: 'javascript:alert(1)' }, creds), 400);
        expectOk(await api(a, '/contact/createcommunity', { name: 'g'.repeat(64) }, creds));
    });

    test('joincommunity is idempotent and shows in loadcommunity once', async () => {
        assert.ok(group, 'needs the group of the first test');
        const creds = { id: member.id, token: member.token };
        assert.deepEqual(expectOk(await api(b, '/contact/loadcommunity', {}, creds)), []);
        const joined = expectOk(await api(b, '/contact/joincommunity', { dstid: group.id }, creds));
        assert.deepEqual(joined, group);
        expectOk(await api(a, '/contact/joincommunity', { dstid: group.id }, creds));
        const list = expectOk(await api(a, '/contact/loadcommunity', {}, creds));
        assert.deepEqual(list.map((g) => g.id), [group.id]);
    });

    test('joincommunity refuses an unknown group with 404 and a missing one with 400', async () => {
        const creds = { id: member.id, token: member.token };
        expectError(await api(a, '/contact/joincommunity', { dstid: 999_999_999_999 }, creds), 404, 'no such group');
        expectError(await api(a, '/contact/joincommunity', {}, creds), 400);
    });
});

describe('upload', () => {
    let user;
    const png = tinyPng();
    before(async () => {
        user = await registerUser(a);
    });

    test('stores a PNG and serves it byte-identical from both nodes', async () => {
        const res = await upload(a, user, [{ name: 'file', filename: 'pic.png', type: 'image/png', data: png }]);
        const url = expectOk(res);
        assert.match(url, /^\/mnt\/[A-Za-z0-9_-]{8,}\.png$/);
        for (const node of [a, b]) {
            const got = await request(node, url);
            assert.equal(got.status, 200, `GET ${url} from node ${node.nodeId}`);
            assert.match(got.headers['content-type'], /^image\/png/);
            assert.ok(got.body.equals(png), `node ${node.nodeId} served different bytes`);
        }
        // Two uploads of the same bytes get different names.
        const again = expectOk(await upload(b, user, [{ name: 'file', filename: 'pic.png', type: 'image/png', data: png }]));
        assert.notEqual(again, url);
    });

    test('judges the kind by content, not by name or declared type', async () => {
        const res = await upload(a, user, [
            { name: 'filetype', data: '.png' },
            { name: 'file', filename: 'noextension', type: 'application/octet-stream', data: png },
        ]);
        assert.match(expectOk(res), /^\/mnt\/[A-Za-z0-9_-]+\.png$/);
    });

    test('judges the kind by content: HTML named x.png is refused with 400', async () => {
        const html = Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>');
        const res = await upload(a, user, [{ name: 'file', filename: 'x.png', type: 'image/png', data: html }]);
        expectError(res, 400, 'unsupported file type');
    });

    test('refuses a request without a file part with 400', async () => {
        expectError(await upload(a, user, [{ name: 'filetype', data: '.png' }]), 400);
        expectError(await upload(a, user, [{ name: 'file', filename: 'empty.png', type: 'image/png', data: Buffer.alloc(0) }]), 400);
    });

    test('answers 413 to a body over --max-upload, and the client sees the answer', async () => {
        const small = await startNode({ nodeId: 9, extraArgs: ['--max-upload', '64K'] });
        const big = Buffer.concat([png, Buffer.alloc(1 << 20, 7)]);
        const parts = [{ name: 'file', filename: 'big.png', type: 'image/png', data: big }];
        expectError(await upload(small, user, parts), 413); // announced by Content-Length
        expectError(await upload(small, user, parts, { headers: { 'transfer-encoding': 'chunked' } }), 413); // found while reading
        // The node still serves after that.
        expectOk(await upload(small, user, [{ name: 'file', filename: 'ok.png', type: 'image/png', data: png }]));
        assert.equal(await small.stop(), 0);
    });

    test('bodies held at once are bounded: past --max-body-memory a request gets 503, and its room comes back when a body is done', async () => {
        const small = await startNode({ nodeId: 10, extraArgs: ['--max-upload', '64K', '--max-body-memory', '128K'] });
        // Two uploads that declare 64 KiB each and send a few bytes, then stall: the budget is taken.
        const stalled = [];
        for (let i = 0; i < 2; i++) {
            const socket = net.connect({ host: '127.0.0.1', port: small.port });
            await new Promise((resolve) => socket.once('connect', resolve));
            socket.write(`POST /attach/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 65536\r\n\r\n--b\r\n`);
            stalled.push(socket);
        }
        // Both hold their shares before anything else asks (a login read first would leave the
        // second upload no room).
        await harness.waitFor(async () => (await harness.metrics(small)).chat_http_body_bytes_held === 128 << 10, {
            what: 'both stalled uploads holding their shares',
        });
        const login = () => api(small, '/user/login', { mobile: '13800000000', passwd: 'wrong-password' });
        const refused = await harness.waitFor(async () => {
            const res = await login();
            return res.status === 503 ? res : null;
        }, { timeoutMs: 5000, what: 'a body refused while two are held' });
        expectError(refused, 503, /busy/);
        stalled[0].destroy();
        let answered;
        for (let i = 0; i < 50 && (answered = await login()).status === 503; i++) await harness.sleep(100);
        expectError(answered, 401); // read and judged again once one body is gone
        stalled[1].destroy();
        const m = await harness.metrics(small);
        assert.ok(m.chat_http_bodies_refused_total >= 1, 'refusals counted');
        assert.ok(m.chat_http_body_bytes_held <= 64 << 10, 'a closed upload gave its share back');
        assert.equal(await small.stop(), 0);
    });

    test('a body or a file that keeps moving may take longer than --http-timeout; one that stalls for it ends', async () => {
        const dir = tempDir('slow-up');
        writeFileSync(path.join(dir, 'big.png'), Buffer.alloc(24 << 20, 1));
        const slow = await startNode({ nodeId: 11, uploadDir: dir, extraArgs: ['--http-timeout', '1'] });
        const raw = (head, pieces, { gapMs = 0, readPauseMs = 0 } = {}) =>
            new Promise((resolve) => {
                const socket = net.connect({ host: '127.0.0.1', port: slow.port });
                let received = 0;
                let text = '';
                socket.on('data', (chunk) => {
                    received += chunk.length;
                    if (text.length < 200) text += chunk.toString('latin1');
                    if (readPauseMs && received % (2 << 20) < chunk.length) {
                        socket.pause();
                        setTimeout(() => socket.resume(), readPauseMs);
                    }
                });
                socket.on('close', () => resolve({ status: Number(text.split(' ')[1]) || null, received }));
                socket.on('error', () => {});
                socket.write(head);
                (async () => {
                    for (const piece of pieces) {
                        await harness.sleep(gapMs);
                        if (!socket.destroyed) socket.write(piece);
                    }
                })();
            });
        // A login body in five pieces 400 ms apart: 2 s in all, each read well within 1 s.
        const body = `mobile=13800000000&passwd=${'x'.repeat(95)}`;
        const head = `POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
        const pieces = Array.from({ length: 5 }, (_, i) => body.slice(i * 24, i === 4 ? undefined : (i + 1) * 24));
        assert.equal((await raw(head, pieces, { gapMs: 400 })).status, 401);
        // The same body stalled after its first piece: the connection ends, unanswered.
        const started = Date.now();
        assert.equal((await raw(head, pieces.slice(0, 1))).status, null);
        assert.ok(Date.now() - started < 5000, 'a stalled body ends after about the timeout');
        // 24 MiB read with a 200 ms pause every 2 MiB: over 2 s, all of it arrives.
        const file = await raw('GET /mnt/big.png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', [], { readPauseMs: 200 });
        assert.equal(file.status, 200);
        assert.ok(file.received > 24 << 20, `${file.received} bytes received`);
        assert.equal(await slow.stop(), 0);
    });

    test('unknown upload names are 404', async () => {
        assert.equal((await request(a, '/mnt/doesnotexist.png')).status, 404);
        assert.equal((await request(a, '/mnt/')).status, 404);
    });
});

describe('static files and routing', () => {
    test('serves /asset/ files with the content type of their extension', async () => {
        const cases = [
            ['/asset/hello.txt', /^text\/plain/, 'hello from the asset fixture\n'],
            ['/asset/style.css', /^text\/css/, 'body { color: red; }\n'],
            ['/asset/sub/app.js', /^(text|application)\/javascript/, 'export const x = 1;\n'],
        ];
        for (const [url, type, content] of cases) {
            const res = await request(a, url);
            assert.equal(res.status, 200, url);
            assert.match(res.headers['content-type'], type, url);
            assert.equal(res.body.toString('utf8'), content, url);
        }
    });

    test('never serves a file outside the folder', async () => {
        const attempts = [
            '/asset/../CMakeLists.txt',
            '/asset/%2e%2e/CMakeLists.txt',
            '/asset/%2e%2e/%2e%2e/etc/passwd',
            '/asset/..%2f..%2fetc/passwd',
            '/asset/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
            '/asset/sub/../../CMakeLists.txt',
            '/asset/%2fetc/passwd',
            '/asset//etc/passwd',
            '/asset/hello.txt%00.png',
            '/asset/..\\..\\etc\\passwd',
            '/mnt/../../etc/passwd',
            '/mnt/%2e%2e/%2e%2e/etc/passwd',
            '//etc/passwd',
            '/../../etc/passwd',
            '/web/../CMakeLists.txt',
        ];
        for (const attempt of attempts) {
            const res = await request(a, attempt);
            const text = res.body.toString('utf8');
            assert.ok([400, 404].includes(res.status), `${attempt}: status ${res.status}`);
            assert.ok(!text.includes('root:') && !text.includes('cmake_minimum_required'), `${attempt} leaked a file`);
        }
    });

    test('a directory is 404, never a listing', async () => {
        for (const url of ['/asset/sub', '/asset/sub/', '/asset/', '/asset']) {
            const res = await request(a, url);
            assert.equal(res.status, 404, url);
            assert.ok(!res.body.toString('utf8').includes('app.js'), `${url} listed the folder`);
        }
    });

    test('an unknown route is 404 with a JSON body', async () => {
        for (const method of ['GET', 'POST']) {
            const res = await api(a, '/no/such/route', {}, { method });
            expectError(res, 404, 'not found');
        }
        expectError(await api(a, '/user/nothing', {}), 404);
    });

    test('a known API path with the wrong method is 405', async () => {
        for (const path of ['/user/login', '/user/register', '/contact/loadfriend', '/attach/upload']) {
            for (const method of ['GET', 'PUT', 'DELETE']) {
                const res = await api(a, path, {}, { method, raw: '' });
                assert.equal(res.status, 405, `${method} ${path}: ${res.text}`);
            }
        }
    });

    test('/metrics is served on the admin address only', async () => {
        const res = await fetch(`${a.adminUrl}/metrics`);
        const text = await res.text();
        assert.equal(res.status, 200);
        for (const name of ['chat_connections', 'chat_messages_in_total', 'chat_deliveries_total', 'chat_bus_datagrams_sent_total',
            'chat_bus_datagrams_received_total', 'chat_bus_datagrams_dropped_total', 'chat_slow_consumer_disconnects_total',
            'chat_errors_total', 'chat_db_latency_seconds_bucket', 'chat_db_latency_seconds_sum', 'chat_db_latency_seconds_count']) {
            assert.match(text, new RegExp(`^${name}[ {]`, 'm'), `missing sample of ${name}`);
        }
        assert.match(text, /^# TYPE chat_db_latency_seconds histogram$/m);
        // Earlier tests did database work, so the histogram has observations.
        assert.ok(harness.metricSum(harness.parseMetrics(text), 'chat_db_latency_seconds_count') > 0);
        const pub = await request(a, '/metrics');
        assert.equal(pub.status, 404);
        assert.ok(!pub.body.toString('utf8').includes('chat_connections'));
    });

    test('/healthz answers 200 on the admin address', async () => {
        for (const node of [a, b]) {
            const res = await fetch(`${node.adminUrl}/healthz`);
            assert.equal(res.status, 200);
            assert.match(await res.text(), /ok/);
        }
    });
});

describe('command line', () => {
    // Valid values first, so a bad value that slipped through would not start a node on the defaults.
    async function safeArgs() {
        return ['--listen', `127.0.0.1:${await harness.freePort()}`, '--admin-listen', `127.0.0.1:${await harness.freePort()}`,
            '--bus-port', String(await harness.freePort()), '--bus-key', harness.testBusKey,
            '--mysql', process.env.CHAT_TEST_MYSQL, '--upload-dir', tempDir()];
    }

    test('a node without a bus key refuses to start', async () => {
        const args = (await safeArgs()).filter((a, i, all) => a !== '--bus-key' && all[i - 1] !== '--bus-key');
        const { code, stderr } = await runChat(args, { timeoutMs: 5000 });
        assert.equal(code, 2, stderr);
        assert.match(stderr, /bus-key/);
        assert.equal(stderr.trim().split('\n').length, 1, stderr);
    });

    test('--help exits 0 and lists the main flags', async () => {
        const { code, stdout, stderr } = await runChat(['--help']);
        assert.equal(code, 0, stderr);
        for (const flag of ['--listen', '--node-id', '--bus-port', '--bus-broadcast', '--mysql', '--upload-dir']) {
            assert.ok(stdout.includes(flag), `--help does not mention ${flag}`);
        }
    });

    const badValues = [
        ['--listen', 'nonsense'],
        ['--listen', '127.0.0.1:99999'],
        ['--node-id', '999'],
        ['--node-id', '-1'],
        ['--bus-port', 'abc'],
        ['--bus-broadcast', '255.255.255.255'],
        ['--bus-key', 'too-short'],
        ['--mysql', 'not-a-url'],
        ['--max-frame', '12Q'],
        ['--pbkdf2-iterations', '10'],
        ['--log-level', 'loud'],
        ['--no-such-flag', '1'],
    ];
    for (const [flag, value] of badValues) {
        test(`${flag} ${value} exits 2 with one clear line`, async () => {
            const { code, stderr } = await runChat([...(await safeArgs()), flag, value], { timeoutMs: 5000 });
            assert.equal(code, 2, `exit code ${code}; stderr: ${stderr}`);
            const lines = stderr.trim().split('\n');
            assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
            assert.ok(lines[0].length > 10, `too terse: ${stderr}`);
            assert.doesNotMatch(stderr, /terminate called|std::|exception|Sanitizer|Aborted|#\d+ 0x/i);
        });
    }

    test('a missing value exits 2', async () => {
        const { code, stderr } = await runChat([...(await safeArgs()), '--listen'], { timeoutMs: 5000 });
        assert.equal(code, 2, stderr);
        assert.equal(stderr.trim().split('\n').length, 1, stderr);
    });
});

test('no error answer reveals internals', () => {
    assert.ok(seenErrors.length > 50, `only ${seenErrors.length} error answers were checked`);
    for (const e of seenErrors) {
        assert.doesNotMatch(e.text, ERROR_BODY_FORBIDDEN, `${e.path} ${e.status}: ${e.text}`);
    }
});
