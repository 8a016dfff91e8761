// The logged-in user kept in localStorage (token, id and profile) so a reload stays logged in.
// Shared by the login, register and chat pages; the storage can be replaced in tests.

const KEY = 'chat.session';

function defaultStorage() {
    try {
        return globalThis.localStorage ?? null;
    } catch {
        return null; // storage disabled by the browser: behave as logged out
    }
}

/** Builds the stored form from a /user/login or /user/register answer. */
export function sessionFromLogin(data) {
    const { token, ...profile } = data ?? {};
    return { id: Number(profile.id), token: String(token ?? ''), profile };
}

function valid(session) {
    return (
        session !== null &&
        typeof session === 'object' &&
        Number.isSafeInteger(session.id) &&
        session.id > 0 &&
        typeof session.token === 'string' &&
        session.token !== '' &&
        session.profile !== null &&
        typeof session.profile === 'object'
    );
}

/** The stored session, or null when there is none or it is unreadable. */
export function loadSession(storage = defaultStorage()) {
    try {
        const session = JSON.parse(storage?.getItem(KEY) ?? 'null');
        return valid(session) ? session : null;
    } catch {
        return null;
    }
}

export function saveSession(session, storage = defaultStorage()) {
    if (!valid(session)) throw new Error('incomplete login answer');
    if (!storage) throw new Error('this browser blocks local storage, which the chat needs to keep you logged in');
    storage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(storage = defaultStorage()) {
    storage?.removeItem(KEY);
}

/** True when a storage event (another tab) removed or replaced the session. */
export function isSessionChange(event) {
    return event.key === KEY || event.key === null;
}
