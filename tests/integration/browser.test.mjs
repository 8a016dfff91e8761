// The chat page in a real browser (headless Chromium via playwright-core), as people use it:
// three people register, two become friends and exchange every kind of message, a group reaches
// all three, history survives a reload, a person who was logged out finds what was sent meanwhile
// (with unread counts), friends see each other come and go, the page survives its node going
// away and catches up, and nothing anyone typed is ever run as HTML. Two chat nodes behind
// nginx and a real MariaDB, all inside network namespaces (lib/browser_env.mjs).
// Screenshots at 375 px and 1280 px are kept in var/test-artifacts/browser/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { connect, uniqueMobile, waitFor } from './lib/cluster.mjs';
import { browserTestsAvailable, startBrowserEnv } from './lib/browser_env.mjs';
import { pngFixture, wavFixture } from './lib/media_fixtures.mjs';

const skip = browserTestsAvailable() ?? false;
const ACTION_MS = 15_000; // any one click, fill or wait
const STEP_MS = 60_000; // one test below
const PASSWORD = 'correct-horse-7';
const XSS = '<img src=x onerror=alert(1)>';

let env;
const people = {}; // name -> {page, context, mobile, nickname}
const dialogs = []; // every alert/confirm/prompt any page opened: must stay empty
const pageErrors = [];

before(async () => {
    if (skip) return;
    env = await startBrowserEnv();
});

after(async () => {
    await env?.stop();
});

async function newPerson(name, { nickname, width, height }) {
    const context = await env.browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.setDefaultTimeout(ACTION_MS);
    page.on('dialog', async (dialog) => {
        dialogs.push(`${name}: ${dialog.type()} ${dialog.message()}`);
        await dialog.dismiss().catch(() => {});
    });
    page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
    const person = { name, page, context, nickname, mobile: uniqueMobile() };
    people[name] = person;
    return person;
}

async function register(person) {
    const { page } = person;
    await page.goto(`${env.url}/user/register.shtml`);
    await page.getByLabel('Mobile').fill(person.mobile);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Nickname').fill(person.nickname);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.waitForURL(`${env.url}/chat`);
    await page.locator('#connection[data-state="online"]').waitFor();
}

async function logIn(person, password = PASSWORD) {
    const { page } = person;
    await page.goto(`${env.url}/user/login.shtml`);
    await page.getByLabel('Mobile').fill(person.mobile);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
}

// The conversation button in the sidebar (named by the friend's nickname or group name).
const conversation = (page, name) => page.locator('.conv-list').getByRole('button', { name });

async function open(person, name) {
    await conversation(person.page, name).click();
    await person.page.locator('#conv-title').filter({ hasText: name }).waitFor();
}

const messages = (page) => page.locator('#messages');
const theirs = (page) => page.locator('#messages .msg.theirs');
const mine = (page) => page.locator('#messages .msg.mine');

async function typeAndSend(person, text) {
    const box = person.page.getByRole('textbox', { name: 'Message' });
    await box.fill(text);
    await box.press('Enter');
}

async function attach(person, item) {
    await person.page.getByRole('button', { name: 'Attach' }).click();
    await person.page.getByRole('menuitem', { name: item }).click();
}

// Runs in the page: records one second of an animated canvas as WebM, resolves it as base64.
async function recordCanvasVideo() {
    const canvas = Object.assign(document.createElement('canvas'), { width: 64, height: 48 });
    const g = canvas.getContext('2d');
    const recorder = new MediaRecorder(canvas.captureStream(15), { mimeType: 'video/webm' });
    const chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    let frame = 0;
    const timer = setInterval(() => {
        g.fillStyle = `hsl(${(frame += 20) % 360} 70% 50%)`;
        g.fillRect(0, 0, 64, 48);
    }, 60);
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start(100);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    recorder.stop();
    await stopped;
    clearInterval(timer);
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary);
}

// Waits until the newest of my messages says "Sent" (the node acknowledged it).
async function lastSent(person) {
    await mine(person.page).last().locator('.msg-status').filter({ hasText: /^Sent$/ }).waitFor();
}

test('three people register, log in and out; a wrong password says so', { skip, timeout: STEP_MS }, async () => {
    const alice = await newPerson('alice', { nickname: 'Alice 🌸', width: 1280, height: 800 });
    const bob = await newPerson('bob', { nickname: 'Bob', width: 375, height: 740 });
    const mallory = await newPerson('mallory', { nickname: XSS, width: 1280, height: 800 });
    await register(alice);
    await register(bob);

    // The third person tries Alice's number with a wrong password first.
    await logIn({ ...mallory, mobile: alice.mobile }, 'not-the-password');
    await mallory.page.getByRole('alert').filter({ hasText: 'Wrong mobile number or password' }).waitFor();
    assert.match(mallory.page.url(), /login\.shtml$/);
    await mallory.page.getByRole('link', { name: 'Create an account' }).click();
    await register(mallory);

    // A reload keeps everyone logged in.
    await bob.page.reload();
    await bob.page.locator('#me').filter({ hasText: 'Bob' }).waitFor();
    assert.match(bob.page.url(), /\/chat$/);
});

test('two friends exchange text, emoji, a picture, voice, a video and a red packet', { skip, timeout: STEP_MS }, async () => {
    const { alice, bob } = people;
    await alice.page.getByLabel("Friend's mobile").fill(bob.mobile);
    await alice.page.getByRole('button', { name: 'Add friend' }).click();
    await open(alice, 'Bob');

    // Text: Bob's list shows the new conversation with an unread badge before he opens it.
    await typeAndSend(alice, 'Hello Bob, lunch at https://example.com/menu ?');
    await lastSent(alice);
    await conversation(bob.page, /Alice.*1 unread/).waitFor();
    await open(bob, 'Alice');
    await theirs(bob.page).filter({ hasText: 'Hello Bob, lunch at' }).waitFor();
    const link = theirs(bob.page).getByRole('link', { name: 'https://example.com/menu' });
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await link.getAttribute('target'), '_blank');
    // Shift+Enter makes a new line, Enter sends.
    const box = bob.page.getByRole('textbox', { name: 'Message' });
    await box.fill('Sure!');
    await box.press('Shift+Enter');
    await box.type('See you at noon');
    await box.press('Enter');
    await theirs(alice.page).filter({ hasText: 'Sure!\nSee you at noon' }).waitFor();

    // Emoji from the picker: drawn from the shipped images on the other side.
    await bob.page.getByRole('button', { name: 'Emoji' }).click();
    await bob.page.getByRole('button', { name: '😀', exact: true }).click();
    await bob.page.getByRole('button', { name: '🎉', exact: true }).click();
    await bob.page.keyboard.press('Escape');
    await bob.page.getByRole('button', { name: 'Send' }).click();
    await theirs(alice.page).locator('img[alt="🎉"]').waitFor();
    await alice.page.waitForFunction(() => {
        const img = document.querySelector('#messages .msg.theirs img[alt="😀"]');
        return img?.complete && img.naturalWidth > 0;
    });

    // A picture: uploaded with progress, shown as a thumbnail, enlarged on click.
    const [chooser] = await Promise.all([alice.page.waitForEvent('filechooser'), attach(alice, 'Photo or video')]);
    await chooser.setFiles({ name: 'lunch.png', mimeType: 'image/png', buffer: pngFixture(96, 64) });
    await lastSent(alice);
    await bob.page.waitForFunction(() => {
        const img = document.querySelector('#messages .msg.theirs .msg-photo img');
        return img?.complete && img.naturalWidth === 96 && img.naturalHeight === 64;
    });
    await theirs(bob.page).locator('.msg-photo').last().click();
    await bob.page.locator('dialog[open] img.picture-full').waitFor();
    await bob.page.getByRole('button', { name: 'Close' }).click();

    // Voice, recorded with the (fake) microphone; the other side can play it.
    await alice.page.getByRole('button', { name: 'Record voice' }).click();
    await alice.page.locator('#recording-time').filter({ hasText: /^0:0[1-9]$/ }).waitFor();
    await alice.page.getByRole('button', { name: 'Send voice' }).click();
    await lastSent(alice);
    await theirs(bob.page).getByRole('button', { name: /^Play voice, 0:0[1-9]$/ }).waitFor();
    await bob.page.waitForFunction(() => document.querySelector('#messages .msg.theirs .voice audio')?.readyState >= 1);

    // Voice from an audio file, through the same upload path.
    const [audio] = await Promise.all([bob.page.waitForEvent('filechooser'), attach(bob, 'Audio file')]);
    await audio.setFiles({ name: 'hello.wav', mimeType: 'audio/wav', buffer: wavFixture(2) });
    await theirs(alice.page).getByRole('button', { name: 'Play voice, 0:02' }).waitFor();

    // A video (a second of an animated canvas, recorded by the browser itself): an inline player.
    const webm = Buffer.from(await bob.page.evaluate(recordCanvasVideo), 'base64');
    const [video] = await Promise.all([bob.page.waitForEvent('filechooser'), attach(bob, 'Photo or video')]);
    await video.setFiles({ name: 'clip.webm', mimeType: 'video/webm', buffer: webm });
    await alice.page.waitForFunction(() => document.querySelector('#messages .msg.theirs video.msg-video')?.readyState >= 1);
    assert.equal(await theirs(alice.page).locator('video.msg-video').last().getAttribute('controls'), '');

    // A red packet, drawn as a card.
    await attach(bob, 'Red packet');
    await bob.page.getByLabel('Amount (¥)', { exact: true }).fill('6.66');
    await bob.page.getByLabel('Greeting', { exact: true }).fill('Good luck');
    await bob.page.getByRole('button', { name: 'Send red packet' }).click();
    const packet = theirs(alice.page).locator('.red-packet');
    await packet.filter({ hasText: '¥6.66' }).filter({ hasText: 'Good luck' }).waitFor();

    // Every message of both reached the other side once, in order.
    assert.equal(await mine(alice.page).count(), await theirs(bob.page).count());
    assert.equal(await mine(bob.page).count(), await theirs(alice.page).count());
});

test('a group message reaches all three members; names and text stay text', { skip, timeout: STEP_MS }, async () => {
    const { alice, bob, mallory } = people;
    await alice.page.getByLabel('Group name').fill('Hikers ⭐ & friends');
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.locator('#conv-title').filter({ hasText: 'Hikers' }).waitFor();
    const groupId = (await alice.page.locator('#conv-sub .group-id').textContent()).trim();
    assert.match(groupId, /^\d+$/);
    for (const person of [bob, mallory]) {
        if (person === bob) await bob.page.getByRole('button', { name: 'Back to conversations' }).click();
        await person.page.getByLabel('Group id').fill(groupId);
        await person.page.getByRole('button', { name: 'Join group' }).click();
        await person.page.locator('#conv-title').filter({ hasText: 'Hikers' }).waitFor();
    }

    await typeAndSend(alice, 'Saturday 8:00 at the trailhead');
    for (const person of [bob, mallory]) {
        await theirs(person.page).filter({ hasText: 'Saturday 8:00 at the trailhead' }).waitFor();
        await theirs(person.page).locator('.msg-author').filter({ hasText: 'Alice' }).first().waitFor();
    }

    // A contact card, news and a link, each drawn as what it is; the card adds a friend.
    await attach(alice, 'Contact card');
    await alice.page.getByLabel('Contact', { exact: true }).selectOption({ label: 'Bob' });
    await alice.page.getByRole('button', { name: 'Send card' }).click();
    const card = theirs(mallory.page).locator('.contact-card').filter({ hasText: 'Bob' });
    await card.getByRole('button', { name: 'Add Bob' }).click();
    await conversation(mallory.page, 'Bob').waitFor();
    await attach(alice, 'News');
    await alice.page.getByLabel('Title', { exact: true }).fill('Trail report');
    await alice.page.getByLabel('Link', { exact: true }).fill('https://trails.example/report');
    await alice.page.getByLabel('Description (optional)', { exact: true }).fill('Muddy but fine');
    await alice.page.getByRole('button', { name: 'Send news' }).click();
    const news = theirs(bob.page).locator('a.news-card').filter({ hasText: 'Trail report' }).filter({ hasText: 'Muddy but fine' });
    await news.waitFor();
    assert.equal(await news.getAttribute('href'), 'https://trails.example/report');
    assert.equal(await news.getAttribute('rel'), 'noopener noreferrer');
    await attach(alice, 'Link');
    await alice.page.getByLabel('Address', { exact: true }).fill('javascript:alert(1)');
    await alice.page.getByRole('button', { name: 'Send link' }).click();
    await alice.page.locator('dialog[open]').getByRole('alert').filter({ hasText: 'http' }).waitFor();
    await alice.page.getByLabel('Address', { exact: true }).fill('https://maps.example/route');
    await alice.page.getByRole('button', { name: 'Send link' }).click();
    const linkCard = theirs(bob.page).locator('a.link-card').filter({ hasText: 'maps.example' });
    await linkCard.waitFor();
    assert.equal(await linkCard.getAttribute('href'), 'https://maps.example/route');
    assert.equal(await linkCard.getAttribute('rel'), 'noopener noreferrer');

    // Someone whose nickname and message are HTML: shown as text, never run.
    await typeAndSend(mallory, XSS);
    for (const person of [alice, bob]) {
        await theirs(person.page).locator('.msg-text').filter({ hasText: XSS }).waitFor();
        await theirs(person.page).locator('.msg-author').filter({ hasText: XSS }).waitFor();
        assert.equal(await person.page.locator('img[src="x"]').count(), 0);
    }
    assert.deepEqual(dialogs, []);
});

test('every control has an accessible name, with the pickers open too', { skip, timeout: STEP_MS }, async () => {
    const { alice } = people;
    await open(alice, 'Bob');
    const unnamed = async () =>
        alice.page.evaluate(() => {
            const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
            const named = (el) =>
                (el.getAttribute('aria-label') ?? '').trim() ||
                (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).some((id) => document.getElementById(id)?.textContent.trim()) ||
                [...(el.labels ?? [])].some((l) => l.textContent.trim()) ||
                ((el.tagName === 'BUTTON' || el.tagName === 'A') && (el.textContent.trim() || [...el.querySelectorAll('img[alt]')].some((i) => i.alt.trim())));
            return [...document.querySelectorAll('button, input, textarea, select, a[href]')]
                .filter((el) => visible(el) && el.type !== 'file' && !named(el))
                .map((el) => el.outerHTML.slice(0, 120));
        });
    assert.deepEqual(await unnamed(), []);
    await alice.page.getByRole('button', { name: 'Emoji' }).click();
    assert.deepEqual(await unnamed(), []);
    await alice.page.keyboard.press('Escape');
    await alice.page.getByRole('button', { name: 'Attach' }).click();
    assert.deepEqual(await unnamed(), []);
    await alice.page.keyboard.press('Escape');
    for (const name of ['Log out', 'Send', 'Add friend', 'Create group', 'Join group', 'Emoji', 'Attach']) {
        assert.equal(await alice.page.getByRole('button', { name, exact: true }).count(), 1, name);
    }
    for (const name of ['Message', "Friend's mobile", 'Group name', 'Group id']) {
        assert.equal(await alice.page.getByLabel(name, { exact: true }).count(), 1, name);
    }
});

test('screenshots at 375 px and 1280 px', { skip, timeout: STEP_MS }, async () => {
    const { alice, bob } = people;
    await open(alice, 'Bob');
    await alice.page.waitForFunction(() => [...document.querySelectorAll('#messages img')].every((img) => img.complete));
    await alice.page.screenshot({ path: path.join(env.artifacts, 'chat-1280.png') });
    await bob.page.getByRole('button', { name: 'Back to conversations' }).click();
    await bob.page.screenshot({ path: path.join(env.artifacts, 'chat-375-list.png') });
    await open(bob, 'Alice');
    await bob.page.waitForFunction(() => [...document.querySelectorAll('#messages img')].every((img) => img.complete));
    await bob.page.screenshot({ path: path.join(env.artifacts, 'chat-375.png') });
    await bob.page.getByRole('button', { name: 'Emoji' }).click();
    await bob.page.screenshot({ path: path.join(env.artifacts, 'chat-375-emoji.png') });
    await bob.page.keyboard.press('Escape');
    await bob.page.getByRole('button', { name: 'Back to conversations' }).click();
    await open(bob, 'Hikers');
    await bob.page.screenshot({ path: path.join(env.artifacts, 'chat-375-group.png') });
});

test('a reloaded page shows the conversation history', { skip, timeout: STEP_MS }, async () => {
    const { bob } = people;
    await bob.page.reload();
    await bob.page.locator('#connection[data-state="online"]').waitFor();
    await open(bob, 'Alice');
    await theirs(bob.page).filter({ hasText: 'Hello Bob, lunch at' }).waitFor();
    await theirs(bob.page).locator('.msg-photo img').waitFor();
    await mine(bob.page).locator('.red-packet').waitFor();
});

// The logged-in user of a page, as the page keeps it ({id, token}).
async function sessionOf(person) {
    return person.page.evaluate(() => JSON.parse(localStorage.getItem('chat.session')));
}

test('someone logged out while messages came sees them, with unread counts, after logging in', { skip, timeout: STEP_MS }, async () => {
    const { alice, bob, mallory } = people;
    // Bob and Mallory are friends (the contact card): Bob's page marks her online, then not.
    // (Bob's narrow page shows the open conversation, not the list: attached, not visible.)
    const mallorysDot = bob.page.locator(`.conv-list [data-key="u:${(await sessionOf(mallory)).id}"] .presence`);
    await mallorysDot.waitFor({ state: 'attached' });
    await mallory.page.getByRole('button', { name: 'Log out' }).click();
    await mallory.page.waitForURL(/login\.shtml$/);
    await mallorysDot.waitFor({ state: 'detached' });

    await open(alice, 'Hikers');
    await typeAndSend(alice, 'Who brings the map?');
    await lastSent(alice);
    await bob.page.getByRole('button', { name: 'Back to conversations' }).click();
    await open(bob, 'Hikers');
    await typeAndSend(bob, 'I do');
    await lastSent(bob);

    await logIn(mallory);
    await mallory.page.waitForURL(`${env.url}/chat`);
    await conversation(mallory.page, /Hikers.*2 unread/).waitFor();
    await open(mallory, 'Hikers');
    await theirs(mallory.page).filter({ hasText: 'Who brings the map?' }).waitFor();
    await theirs(mallory.page).filter({ hasText: 'I do' }).waitFor();
    // Opening it read them: the badge is gone.
    await conversation(mallory.page, /Hikers/).locator('.badge').waitFor({ state: 'detached' });
    await mallorysDot.waitFor({ state: 'attached' });
});

test('when its node goes away the page says so, reconnects and catches up', { skip, timeout: STEP_MS }, async () => {
    const { alice, bob } = people;
    const [a, b] = [await sessionOf(alice), await sessionOf(bob)];
    await open(alice, 'Bob');
    // The node holding Alice's connection (nginx picked it), and the other one.
    const opened = new RegExp(`ws: open user=${a.id} `);
    const serving = await waitFor(() => env.nodes.find((n) => n.exitCode === null && opened.test(n.log())), { what: "the node with Alice's connection" });
    const other = env.nodes.find((n) => n !== serving);

    await serving.stop();
    await alice.page.waitForFunction(() => document.querySelector('#connection').dataset.state !== 'online');
    // Bob writes while Alice is away (from a plain WebSocket client on the surviving node).
    const bobSocket = await connect(other, b);
    bobSocket.send({ id: 'away-1', cmd: 10, dstid: a.id, media: 1, content: 'Sent while you were away' });
    await bobSocket.next((f) => f.cmd === 1 && f.cid === 'away-1');
    await bobSocket.close();

    await alice.page.locator('#connection[data-state="online"]').waitFor();
    await theirs(alice.page).filter({ hasText: 'Sent while you were away' }).waitFor();
    // And the page still sends.
    await typeAndSend(alice, 'Back again');
    await lastSent(alice);
});

test('no page opened a dialog or threw', { skip }, () => {
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
});
