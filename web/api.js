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
        addFriendById: (session, dstid) => call('/contact/addfriend', { dstid }, session),
        createGroup: (session, name) => call('/contact/createcommunity', { name }, session),
        joinGroup: (session, dstid) => call('/contact/joincommunity', { dstid }, session),
        conversations: (session) => call('/message/conversations', {}, session),
        /** One page of a conversation ({kind, id}) older than `before` (a pos; omitted: the newest). */
        history: (session, { kind, id }, before = null, limit = HISTORY_PAGE) =>
            call('/message/history', { [kind === 'group' ? 'group' : 'peer']: id, ...(before ? { before } : {}), limit }, session),
        markRead: (session, { kind, id, pos }) => call('/message/read', { [kind === 'group' ? 'group' : 'peer']: id, pos }, session),
    };
}

// Messages per history page: a screenful or two.
export const HISTORY_PAGE = 30;

/**
 * Uploads a file (multipart `file`) to /attach/upload with the token in the Authorization
 * header (never in a url). Reports progress as a fraction through onProgress; resolves to the
 * stored file's url path (/mnt/...); rejects with an ApiError. `signal` aborts it.
 * XMLHttpRequest, not fetch: only it reports upload progress.
 */
export function upload(session, file, { onProgress = () => {}, signal, XHR = globalThis.XMLHttpRequest, name } = {}) {
    return new Promise((resolve, reject) => {
        const xhr = new XHR();
        xhr.open('POST', '/attach/upload');
        xhr.setRequestHeader('Authorization', `Bearer ${session.token}`);
        xhr.responseType = 'text';
        xhr.upload.onprogress = (event) => {
            if (event.lengthComputable && event.total > 0) onProgress(Math.min(1, event.loaded / event.total));
        };
        xhr.onload = () => {
            let answer = null;
            try {
                answer = JSON.parse(xhr.responseText);
            } catch {
                // a proxy's error page: use the status below
            }
            if (xhr.status === 200 && answer?.code === 0 && typeof answer.data === 'string') {
                onProgress(1);
                resolve(answer.data);
                return;
            }
            const tooBig = xhr.status === 413 ? 'the file is too large' : null;
            reject(new ApiError(tooBig ?? answer?.msg ?? `upload failed (${xhr.status})`, xhr.status));
        };
        xhr.onerror = () => reject(new ApiError('cannot reach the server; check your connection', 0));
        xhr.onabort = () => reject(new ApiError('upload cancelled', 0));
        signal?.addEventListener('abort', () => xhr.abort(), { once: true });
        const form = new FormData();
        form.append('file', file, name ?? file.name ?? 'file');
        xhr.send(form);
    });
}
