// The node's HTTP API as async functions. Every call is a POST with a JSON body; calls made for
// a logged-in user carry its id and token. A call resolves to the answer's `data` or throws an
// ApiError whose message is the server's `msg` (what the user should see) and whose `status` is
// the HTTP status (401 means the session is gone). Used by the page entry points.

export class ApiError extends Error {
    constructor(message, status) {
        super(message);
        this.name = 'ApiError';
        this.status = status;
    }
}

/** POST path with params (plus id + token when a session is given); returns the answer's data. */
export async function post(path, params = {}, session = null, fetchImpl = globalThis.fetch) {
    const body = session ? { ...params, id: session.id, token: session.token } : { ...params };
    let response;
    try {
        response = await fetchImpl(path, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: JSON.stringify(body),
            credentials: 'same-origin',
        });
    } catch {
        throw new ApiError('cannot reach the server; check your connection', 0);
    }
    let answer = null;
    try {
        answer = await response.json();
    } catch {
        // A proxy error page or an empty body: fall through to the status-based message.
    }
    if (!response.ok || !answer || answer.code !== 0) {
        const msg = answer && typeof answer.msg === 'string' && answer.msg ? answer.msg : `request failed (${response.status})`;
        throw new ApiError(msg, response.status);
    }
    return answer.data;
}

/** The endpoints the pages use, bound to one fetch implementation. */
export function createApi(fetchImpl = globalThis.fetch) {
    const call = (path, params, session) => post(path, params, session, fetchImpl);
    return {
        register: ({ mobile, passwd, nickname }) => call('/user/register', { mobile, passwd, nickname }),
        login: ({ mobile, passwd }) => call('/user/login', { mobile, passwd }),
        logout: (session) => call('/user/logout', {}, session),
        findUser: (session, userid) => call('/user/find', { userid }, session),
        loadFriends: (session) => call('/contact/loadfriend', {}, session),
        loadGroups: (session) => call('/contact/loadcommunity', {}, session),
        addFriend: (session, mobile) => call('/contact/addfriend', { mobile }, session),
        createGroup: (session, name) => call('/contact/createcommunity', { name }, session),
        joinGroup: (session, dstid) => call('/contact/joincommunity', { dstid }, session),
    };
}
